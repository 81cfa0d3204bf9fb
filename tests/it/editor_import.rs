//! `import --from-postgres`: a project in the editor's own schema (its Drizzle tables, names
//! quoted, prefix `bazaar-vid_`) is brought in whole; memory of unknown types is kept and
//! listed; its `window.Remotion` scenes are analysed and edited like scenes importing
//! 'remotion'.

use editscope::analysis;
use editscope::store::Store;

use crate::cli::{editscope, json_of};
use crate::pg_server;

const PROJECT: &str = "6f1c2d3e-0000-4000-8000-00000000abcd";

/// A scene as the editor stores it: Remotion from the window, a default-exported function.
const WINDOW_SCENE: &str = r##"const { AbsoluteFill, useCurrentFrame, interpolate, Sequence } = window.Remotion;

export default function TitleCard() {
  const frame = useCurrentFrame();
  const opacity = interpolate(frame, [0, 30], [0, 1]);
  return (
    <AbsoluteFill style={{ backgroundColor: "#0F172A", justifyContent: "center", alignItems: "center" }}>
      <Sequence from={0} durationInFrames={90}>
        <h1 style={{ color: "#38BDF8", fontSize: 96, fontFamily: "Inter", opacity }}>Launch day</h1>
      </Sequence>
    </AbsoluteFill>
  );
}
"##;

fn import_scene() -> String {
    WINDOW_SCENE.replace(
        "const { AbsoluteFill, useCurrentFrame, interpolate, Sequence } = window.Remotion;",
        "import { AbsoluteFill, useCurrentFrame, interpolate, Sequence } from 'remotion';",
    )
}

/// The editor's tables (only the columns DESIGN.md section 7 names, plus one extra column each
/// way, which the import ignores), filled with one project.
fn editor_schema(prefix: &str) -> String {
    let t = |name: &str| format!("\"{prefix}{name}\"");
    let code = WINDOW_SCENE.replace('\'', "''");
    format!(
        r##"
CREATE TABLE {project} (id uuid PRIMARY KEY, "userId" varchar(255) NOT NULL, title text NOT NULL,
  props jsonb, revision integer DEFAULT 1, "isWelcome" boolean DEFAULT false,
  "createdAt" timestamptz DEFAULT now(), "updatedAt" timestamptz);
CREATE TABLE {scene} (id uuid PRIMARY KEY, "projectId" uuid NOT NULL, "order" integer NOT NULL,
  name varchar(255), "tsxCode" text NOT NULL, props jsonb, duration integer DEFAULT 150,
  revision integer DEFAULT 1, "layoutJson" text, "createdAt" timestamptz DEFAULT now(),
  "updatedAt" timestamptz);
CREATE TABLE {message} (id uuid PRIMARY KEY, "projectId" uuid NOT NULL, content text NOT NULL,
  role varchar(50) NOT NULL, kind varchar(50) DEFAULT 'message', status varchar(50),
  image_urls jsonb, sequence integer NOT NULL, "createdAt" timestamptz DEFAULT now());
CREATE TABLE {memory} (id uuid PRIMARY KEY, project_id uuid NOT NULL, memory_type varchar(50) NOT NULL,
  memory_key text NOT NULL, memory_value text NOT NULL, confidence real DEFAULT 0.8,
  source_prompt text, created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now(),
  expires_at timestamptz);
CREATE TABLE {image} (id uuid PRIMARY KEY, project_id uuid NOT NULL, trace_id varchar(255) NOT NULL,
  image_urls jsonb NOT NULL, palette jsonb NOT NULL, typography text, mood text, layout_json jsonb,
  processing_time_ms integer NOT NULL, created_at timestamptz DEFAULT now(), used_in_scenes jsonb);
CREATE TABLE {iteration} (id uuid PRIMARY KEY, scene_id uuid NOT NULL, project_id uuid NOT NULL,
  operation_type varchar(50) NOT NULL, edit_complexity varchar(50), user_prompt text NOT NULL,
  code_before text, code_after text, generation_time_ms integer, model_used varchar(100),
  created_at timestamptz DEFAULT now());

INSERT INTO {project} VALUES ('{PROJECT}', 'user-7', 'Editor launch video', '{{"meta":{{}}}}', 4, false,
  '2025-06-01T10:00:00Z', '2025-06-02T10:00:00Z');
INSERT INTO {project} VALUES ('00000000-0000-4000-8000-000000000999', 'user-8', 'Someone else', NULL, 1, false,
  now(), now());
INSERT INTO {scene} VALUES
  ('11111111-0000-4000-8000-000000000001', '{PROJECT}', 0, 'Title card', '{code}', '{{}}', 90, 1, NULL,
   '2025-06-01T10:01:00Z', '2025-06-01T10:05:00Z'),
  ('11111111-0000-4000-8000-000000000002', '{PROJECT}', 1, 'Outro', '{code}', NULL, 60, 1, NULL,
   '2025-06-01T10:02:00Z', '2025-06-01T10:06:00Z');
INSERT INTO {message} VALUES
  ('22222222-0000-4000-8000-000000000001', '{PROJECT}', 'Make a launch video, brand color #7C3AED', 'user', 'message', NULL,
   '["https://example.com/a.png"]', 1, '2025-06-01T10:00:30Z'),
  ('22222222-0000-4000-8000-000000000002', '{PROJECT}', 'Generating scene 1…', 'assistant', 'status', 'pending',
   NULL, 2, '2025-06-01T10:00:31Z'),
  ('22222222-0000-4000-8000-000000000003', '{PROJECT}', 'Here is your title card.', 'assistant', 'message', NULL,
   NULL, 3, '2025-06-01T10:00:40Z');
INSERT INTO {memory} VALUES
  ('33333333-0000-4000-8000-000000000001', '{PROJECT}', 'user_preference', 'brand_color', '#7C3AED', 0.9,
   'brand color #7C3AED', '2025-06-01T10:00:30Z', '2025-06-01T10:00:30Z', NULL),
  ('33333333-0000-4000-8000-000000000002', '{PROJECT}', 'scene_relationship', 'outro_follows_title', 'yes', 0.7,
   NULL, '2025-06-01T10:00:30Z', '2025-06-01T10:00:30Z', NULL),
  ('33333333-0000-4000-8000-000000000003', '{PROJECT}', 'conversation_context', 'goal', 'launch video', 0.8,
   NULL, '2025-06-01T10:00:30Z', '2025-06-01T10:00:30Z', NULL),
  ('33333333-0000-4000-8000-000000000004', '{PROJECT}', 'template_choice', 'template', 'neon-grid', 0.6,
   'use the neon grid', '2025-06-01T10:00:30Z', '2025-06-01T10:00:30Z', NULL);
INSERT INTO {image} VALUES ('44444444-0000-4000-8000-000000000001', '{PROJECT}', 'trace-1',
  '["https://example.com/a.png"]', '["#0F172A", "#38BDF8"]', 'bold sans', 'confident',
  '{{"grid": "centered"}}', 812, '2025-06-01T10:00:35Z', '[]');
INSERT INTO {iteration} VALUES ('55555555-0000-4000-8000-000000000001', '11111111-0000-4000-8000-000000000001',
  '{PROJECT}', 'create', 'simple', 'Make a title card', NULL, '{code}', 2300, 'gpt-4.1',
  '2025-06-01T10:05:00Z');
"##,
        project = t("project"),
        scene = t("scene"),
        message = t("message"),
        memory = t("project_memory"),
        image = t("image_analysis"),
        iteration = t("scene_iteration"),
    )
}

#[test]
fn a_window_remotion_scene_is_analysed_like_one_that_imports_remotion() {
    let window = analysis::analyse(WINDOW_SCENE);
    let imported = analysis::analyse(&import_scene());
    assert_eq!(window.parse_errors, 0);
    assert_eq!(window.colors, imported.colors);
    assert_eq!(window.texts, imported.texts);
    assert_eq!(window.font_families, imported.font_families);
    assert_eq!(window.font_sizes, imported.font_sizes);
    assert_eq!(window.animations, imported.animations);
    assert_eq!(window.elements, imported.elements);
    assert_eq!(window.duration_frames, imported.duration_frames);
    assert!(
        window
            .colors
            .iter()
            .any(|c| c.eq_ignore_ascii_case("#38BDF8"))
    );
    assert!(window.texts.iter().any(|t| t == "Launch day"));
    assert!(analysis::check_tsx(WINDOW_SCENE).is_ok());
}

#[test]
fn a_project_in_the_editors_schema_is_imported_whole_and_its_scenes_edit_like_any_other() {
    let Some(server) = pg_server::shared() else {
        return;
    };
    let source = server.fresh_db("editor");
    let source_db = source.rsplit('/').next().unwrap().to_string();
    server.psql(&source_db, &editor_schema("bazaar-vid_"));
    crate::backends::each(|backend| {
        let dir = tempfile::tempdir().unwrap();
        let db = backend.db_in(dir.path(), "imported.db");
        let out = editscope(&db)
            .args(["import", "--from-postgres", &source, "--project", PROJECT])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains(
                "2 scenes, 2 messages, 3 memory entries, 1 image analyses, 1 scene iterations"
            ),
            "{out}"
        );
        assert!(out.contains("skipped 1 status messages"), "{out}");
        assert!(
            out.contains("template_choice template = neon-grid"),
            "unknown type listed: {out}"
        );

        let store = Store::open(&db).unwrap();
        let project = store.get_project(PROJECT).unwrap();
        assert_eq!(project.user_id, "user-7");
        assert_eq!(project.title, "Editor launch video");
        assert_eq!(project.created_at, 1_748_772_000_000);
        let scenes = store.list_scenes(PROJECT).unwrap();
        assert_eq!(scenes.len(), 2);
        assert_eq!(
            (
                scenes[0].name.as_str(),
                scenes[0].ord,
                scenes[0].duration_frames
            ),
            ("Title card", 0, 90)
        );
        assert_eq!(scenes[1].props_json, "{}");
        assert_eq!(scenes[0].tsx_code, WINDOW_SCENE);
        let messages = store.list_messages(PROJECT, None).unwrap();
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].image_urls, vec!["https://example.com/a.png"]);
        assert_eq!(messages[1].role, "assistant");
        let memory = store.list_memory(PROJECT, None).unwrap();
        let mut kinds: Vec<String> = memory
            .iter()
            .map(|m| format!("{}/{}", m.memory_type, m.key))
            .collect();
        kinds.sort();
        assert_eq!(
            kinds,
            [
                "CONVERSATION_CONTEXT/goal",
                "SCENE_RELATIONSHIP/outro_follows_title",
                "USER_PREFERENCE/brand_color"
            ]
        );
        let foreign = store.list_foreign_memory(PROJECT).unwrap();
        assert_eq!(foreign.len(), 1, "the unknown type is kept, not dropped");
        assert_eq!(
            (foreign[0].memory_type.as_str(), foreign[0].value.as_str()),
            ("template_choice", "neon-grid")
        );
        assert!((foreign[0].confidence - 0.6).abs() < 1e-6);
        let images = store.list_image_analyses(PROJECT).unwrap();
        assert_eq!(images.len(), 1);
        assert_eq!(images[0].palette, serde_json::json!(["#0F172A", "#38BDF8"]));
        assert_eq!(images[0].processing_time_ms, 812);
        let iterations = store.list_iterations(&scenes[0].id).unwrap();
        assert_eq!(iterations.len(), 1);
        assert_eq!(
            (
                iterations[0].operation.as_str(),
                iterations[0].model.as_str()
            ),
            ("create", "gpt-4.1")
        );
        drop(store);

        // The imported scene edits like any other, and stays an editor scene.
        let edit = json_of(editscope(&db).args([
            "edit",
            "--project",
            PROJECT,
            "--prompt",
            "make the title red in scene 1",
            "--json",
        ]));
        assert_eq!(edit["outcome"], "applied", "{edit}");
        let store = Store::open(&db).unwrap();
        let code = store.get_scene(&scenes[0].id).unwrap().tsx_code;
        assert_ne!(code, WINDOW_SCENE);
        assert!(code.starts_with("const { AbsoluteFill"), "{code}");
        assert!(code.contains("window.Remotion"), "{code}");
        assert!(analysis::check_tsx(&code).is_ok(), "{code}");
        let after = analysis::analyse(&code);
        assert!(
            !after
                .colors
                .iter()
                .any(|c| c.eq_ignore_ascii_case("#38BDF8")),
            "{code}"
        );
    });
}

#[test]
fn another_table_prefix_and_a_missing_project_are_told_apart() {
    let Some(server) = pg_server::shared() else {
        return;
    };
    let source = server.fresh_db("editor_prefix");
    let source_db = source.rsplit('/').next().unwrap().to_string();
    server.psql(&source_db, &editor_schema("other_"));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    editscope(&db)
        .args([
            "import",
            "--from-postgres",
            &source,
            "--project",
            PROJECT,
            "--table-prefix",
            "other_",
        ])
        .assert()
        .success();
    let out = editscope(&db)
        .args([
            "import",
            "--from-postgres",
            &source,
            "--project",
            "00000000-0000-4000-8000-00000000dead",
            "--table-prefix",
            "other_",
        ])
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&out);
    assert!(
        err.contains("no project '00000000-0000-4000-8000-00000000dead'"),
        "{err}"
    );
    // The default prefix names tables this database does not have.
    let out = editscope(&db)
        .args(["import", "--from-postgres", &source, "--project", PROJECT])
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&out);
    assert!(err.contains("bazaar-vid_project"), "{err}");
}
