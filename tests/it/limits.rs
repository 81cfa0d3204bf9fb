//! The documented limits (README "Limits", `src/limits.rs`): each input over its limit is
//! refused where it enters, naming the file, the field and the limit, and writes nothing.

use std::path::Path;

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use editscope::context::{ContextEngine, EngineOptions, Flags};
use editscope::fixtures::{self, ProjectFile};
use editscope::limits;
use editscope::llm::offline::OfflineBackend;
use editscope::llm::{
    CodeEdit, CodeEditRequest, LlmClient, LlmError, LlmResponse, ToolDecision, ToolSelectionRequest,
};
use editscope::pipeline::{Outcome, Pipeline};
use editscope::store::Store;

use crate::cli::editscope;

fn export(db: &Path, project: &str) -> Vec<u8> {
    editscope(db)
        .args(["export", "--project", project])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone()
}

fn runs(db: &Path, project: &str) -> Vec<u8> {
    editscope(db)
        .args(["runs", "--project", project, "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone()
}

fn demo_small() -> ProjectFile {
    fixtures::demo_project("demo-small").unwrap().unwrap()
}

fn stderr_of(cmd: &mut assert_cmd::Command) -> String {
    String::from_utf8(cmd.assert().failure().get_output().stderr.clone()).unwrap()
}

#[test]
fn importing_a_scene_over_the_code_limit_fails_naming_scene_field_and_limit_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("editscope.db");
    let before = export(&db, "demo-small");
    let runs_before = runs(&db, "demo-small");
    let mut project = demo_small();
    // The case (10 MB of code in one scene) at 1 MB, brought in over the existing
    // project and as a new one.
    project.scenes[2].tsx_code = format!(
        "{}\n{}",
        project.scenes[2].tsx_code,
        "// padding\n".repeat(100_000)
    );
    let file = dir.path().join("huge-scene.json");
    std::fs::write(&file, serde_json::to_string(&project).unwrap()).unwrap();
    for replace in [true, false] {
        let mut cmd = editscope(&db);
        cmd.arg("import").arg(&file);
        if replace {
            cmd.arg("--replace");
        }
        let err = stderr_of(&mut cmd);
        assert!(err.contains("huge-scene.json"), "names the file: {err}");
        assert!(err.contains("scenes[2].tsx_code"), "names the field: {err}");
        assert!(
            err.contains(&format!("scene '{}'", project.scenes[2].id)),
            "names the scene: {err}"
        );
        assert!(err.contains("256 KiB"), "names the limit: {err}");
    }
    assert_eq!(export(&db, "demo-small"), before, "the project changed");
    assert_eq!(runs(&db, "demo-small"), runs_before);
}

#[test]
fn an_import_file_over_the_size_limit_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("editscope.db");
    let before = export(&db, "demo-small");
    // A sparse file: its size is over the limit, its bytes cost nothing. Read, it would be
    // refused as not JSON; the limit refuses it first.
    let file = dir.path().join("big.json");
    let f = std::fs::File::create(&file).unwrap();
    f.set_len(limits::IMPORT_FILE.max as u64 + 1).unwrap();
    let err = stderr_of(editscope(&db).arg("import").arg(&file));
    assert!(err.contains("big.json"), "{err}");
    assert!(err.contains("import file limit of 128 MiB"), "{err}");
    assert_eq!(export(&db, "demo-small"), before);
}

#[test]
fn each_field_over_its_limit_is_refused_and_one_at_the_limit_is_accepted() {
    let over = |limit: limits::Limit| "x".repeat(limit.max + 1);
    let at = |limit: limits::Limit| "x".repeat(limit.max);
    type Edit = fn(&mut ProjectFile, String);
    let cases: [(&str, limits::Limit, Edit); 3] = [
        ("scenes[0].tsx_code", limits::SCENE_CODE, |p, v| {
            p.scenes[0].tsx_code = v
        }),
        ("messages[1].content", limits::MESSAGE, |p, v| {
            p.messages[1].content = v
        }),
        ("memory[0].value", limits::MEMORY_VALUE, |p, v| {
            p.memory[0].value = v
        }),
    ];
    for (field, limit, edit) in cases {
        let mut p = demo_small();
        edit(&mut p, over(limit));
        let err = fixtures::validate("f.json", &p).unwrap_err();
        assert_eq!(err.field, field);
        assert!(err.reason.contains(&limit.shown()), "{err}");
        assert!(err.to_string().starts_with("f.json: "), "{err}");
        let mut p = demo_small();
        edit(&mut p, at(limit));
        fixtures::validate("f.json", &p).unwrap();
    }
    let mut p = demo_small();
    let scene = p.scenes[0].clone();
    p.scenes = (0..=limits::SCENES.max)
        .map(|i| fixtures::SceneRecord {
            id: format!("s{i}"),
            order: i as i64,
            tsx_code: String::new(),
            ..scene.clone()
        })
        .collect();
    let err = fixtures::validate("f.json", &p).unwrap_err();
    assert_eq!(err.field, "scenes");
    assert!(err.reason.contains("10001"), "{err}");
    p.scenes.pop();
    fixtures::validate("f.json", &p).unwrap();
}

#[test]
fn every_demo_and_the_largest_generated_project_fit_with_room_to_spare() {
    for id in fixtures::DEMO_IDS {
        let p = fixtures::demo_project(id).unwrap().unwrap();
        fixtures::validate(id, &p).unwrap();
        let largest = p.scenes.iter().map(|s| s.tsx_code.len()).max().unwrap();
        assert!(largest * 16 < limits::SCENE_CODE.max, "{id}: {largest}");
    }
    // What `bench --scenes 10000` and `import --generate 10000` make: the generator's scenes
    // are drawn alike at every size, so the 1,000-scene demo's file, ten times, is its size.
    let large = fixtures::demo_project("demo-large").unwrap().unwrap();
    let size = serde_json::to_string_pretty(&large).unwrap().len() * 10;
    assert!(size * 2 < limits::IMPORT_FILE.max, "{size}");
}

#[test]
fn memory_set_over_the_value_limit_is_refused_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("editscope.db");
    let before = export(&db, "demo-small");
    let value = "v".repeat(limits::MEMORY_VALUE.max + 1);
    let err = stderr_of(editscope(&db).args([
        "memory",
        "set",
        "--project",
        "demo-small",
        "--type",
        "USER_PREFERENCE",
        "--key",
        "tone",
        "--value",
        &value,
    ]));
    assert!(err.contains("--value"), "{err}");
    assert!(err.contains("memory value limit of 16 KiB"), "{err}");
    assert_eq!(export(&db, "demo-small"), before);
}

#[test]
fn a_prompt_over_the_limit_is_refused_by_edit_and_ab_and_records_no_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("editscope.db");
    let before = export(&db, "demo-small");
    let runs_before = runs(&db, "demo-small");
    let prompt = format!(
        "make the title red in scene 1 {}",
        "please ".repeat(limits::PROMPT.max / 7)
    );
    for command in ["edit", "ab"] {
        let err = stderr_of(editscope(&db).args([
            command,
            "--project",
            "demo-small",
            "--time-scale",
            "0",
            "--prompt",
            &prompt,
        ]));
        assert!(err.contains("--prompt"), "{command}: {err}");
        assert!(err.contains("prompt limit of 32 KiB"), "{command}: {err}");
    }
    assert_eq!(export(&db, "demo-small"), before);
    assert_eq!(runs(&db, "demo-small"), runs_before);
}

fn seeded_pipeline(llm: Box<dyn LlmClient>) -> (tempfile::TempDir, Pipeline) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("limits.db")).unwrap();
    fixtures::import(&mut store, "demo-small", &demo_small()).unwrap();
    let engine = ContextEngine::new(Flags::OPTIMIZED, EngineOptions::default());
    (dir, Pipeline::new(store, engine, llm))
}

fn edit_runs(store: &Store) -> i64 {
    store
        .connection()
        .expect("a SQLite store")
        .query_row("SELECT count(*) FROM edit_runs", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn the_pipeline_refuses_a_prompt_over_the_limit_without_recording_a_run() {
    let (_dir, mut p) = seeded_pipeline(Box::new(OfflineBackend::new(0.0)));
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let prompt = "a".repeat(limits::PROMPT.max + 1);
    let before = fixtures::export(&p.store, "demo-small").unwrap();
    let r = p
        .run_edit("demo-small", &prompt, &tx, &CancellationToken::new())
        .await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(r.error.unwrap().contains("prompt limit of 32 KiB"));
    assert_eq!(r.run_id, None);
    assert_eq!(edit_runs(&p.store), 0);
    assert_eq!(fixtures::export(&p.store, "demo-small").unwrap(), before);
}

/// The offline backend, whose code edits come back padded past the scene-code limit.
struct Bloated(OfflineBackend);

impl LlmClient for Bloated {
    fn name(&self) -> String {
        "offline".into()
    }
    fn select_tool<'a>(
        &'a self,
        request: &'a ToolSelectionRequest,
    ) -> BoxFuture<'a, Result<LlmResponse<ToolDecision>, LlmError>> {
        self.0.select_tool(request)
    }
    fn edit_code<'a>(
        &'a self,
        request: &'a CodeEditRequest,
    ) -> BoxFuture<'a, Result<LlmResponse<CodeEdit>, LlmError>> {
        Box::pin(async move {
            let mut r = self.0.edit_code(request).await?;
            r.value
                .code
                .push_str(&"// more\n".repeat(limits::SCENE_CODE.max / 8));
            Ok(r)
        })
    }
}

#[tokio::test]
async fn a_model_edit_over_the_scene_code_limit_is_refused_and_the_scene_is_untouched() {
    let (_dir, mut p) = seeded_pipeline(Box::new(Bloated(OfflineBackend::new(0.0))));
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let before = p.store.get_scene("demo-small-s0003").unwrap().tsx_code;
    let r = p
        .run_edit(
            "demo-small",
            "make the title red in scene 3",
            &tx,
            &CancellationToken::new(),
        )
        .await;
    assert_eq!(r.outcome, Outcome::Failed, "{r:?}");
    let error = r.error.unwrap();
    assert!(error.contains("scene 'demo-small-s0003'"), "{error}");
    assert!(error.contains("scene code limit of 256 KiB"), "{error}");
    assert_eq!(
        p.store.get_scene("demo-small-s0003").unwrap().tsx_code,
        before
    );
}

#[test]
fn a_session_line_over_the_limit_refuses_the_file_naming_the_line_and_the_limit() {
    let header = serde_json::json!({
        "format": "editscope.session/v1", "editscope_version": "0", "created_at": 0,
        "flags": "optimized", "backend": "offline", "model": "m", "project": demo_small(),
    })
    .to_string();
    let text = format!(
        "{header}\n{{\"run\": 1, \"prompt\": \"{}\"}}\n",
        "x".repeat(header.len())
    );
    let small = limits::Limit {
        max: header.len() + 8,
        ..limits::SESSION_LINE
    };
    let err = editscope::session::parse_limited("s.jsonl", &text, small).unwrap_err();
    let shown = err.to_string();
    assert!(shown.starts_with("'s.jsonl': line 2 is "), "{shown}");
    assert!(
        shown.contains("over the session file line limit"),
        "{shown}"
    );
}

#[test]
fn the_readme_table_lists_every_limit_as_defined() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for limit in limits::ALL {
        let row = format!("| {} | {} |", limit.name, limit.shown());
        assert!(readme.contains(&row), "README lacks the row `{row}`");
    }
}
