//! One resolver, three callers: every phrasing of a scene reference goes through the context's
//! target (legacy and optimized builders, the optimized one also from its cached base), the
//! offline model's tool selection (on the request the pipeline builds from that context) and
//! the check of a real model's answer (the phrasing given as its `target_scene_id`), and all
//! of them must mean the same scene, or all ask.

use editscope::context::{BuildRequest, ContextEngine, EngineOptions, Flags};
use editscope::fixtures::{self, ProjectFile};
use editscope::llm::offline::OfflineBackend;
use editscope::llm::wire::resolve_target;
use editscope::llm::{ChatPrompt, LlmClient, SceneRef, Tool, ToolDecision, ToolSelectionRequest};
use editscope::pipeline::{Outcome, Pipeline};
use editscope::store::Store;
use serde_json::json;
use tokio_util::sync::CancellationToken;

const PROJECT: &str = "resolver-table";

/// Seven scenes, stored with the 0-based order keys real projects have. None is named
/// "intro" ("the intro" is then the first scene); one is named "Outro"; two share the word
/// "feature".
const NAMES: [&str; 7] = [
    "Cold open",
    "The problem",
    "Pricing Plans",
    "Customer quote",
    "Feature tour",
    "Feature grid",
    "Outro",
];

fn id(position: usize) -> String {
    format!("rt-s{position}")
}

/// demo-small's scenes (their code takes offline edits), renamed and extended to seven.
fn project() -> ProjectFile {
    let mut p = fixtures::parse("small", fixtures::DEMO_SMALL).expect("demo-small parses");
    p.project.id = PROJECT.to_string();
    p.memory.clear();
    let codes: Vec<String> = p.scenes.iter().map(|s| s.tsx_code.clone()).collect();
    let template = p.scenes[0].clone();
    p.scenes = NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| fixtures::SceneRecord {
            id: id(i + 1),
            name: name.to_string(),
            order: i as i64,
            tsx_code: codes[i % codes.len()].clone(),
            created_at: template.created_at + i as i64,
            updated_at: template.updated_at + i as i64,
            ..template.clone()
        })
        .collect();
    p
}

/// What every caller must conclude.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// The scene at this 1-based position.
    Scene(usize),
    /// No scene: the context gives no target, the offline model asks, a model's answer naming
    /// it is refused.
    Ask,
}

struct Row {
    prompt: &'static str,
    expect: Expect,
    /// Whether the phrasing can be a model's `target_scene_id`: "it" cannot (a model's answer
    /// must name its target, the check knows no last edit), so the check refuses it.
    names_a_scene: bool,
}

const fn row(prompt: &'static str, expect: Expect) -> Row {
    Row {
        prompt,
        expect,
        names_a_scene: true,
    }
}

const fn implicit(prompt: &'static str, expect: Expect) -> Row {
    Row {
        prompt,
        expect,
        names_a_scene: false,
    }
}

/// The scene the first edit changes: "it" afterwards.
const EDITED: usize = 4;

/// Rows that name their scene: the edit made before them must not matter.
fn explicit_rows() -> Vec<Row> {
    use Expect::*;
    vec![
        row("make the title blue in scene 2", Scene(2)),
        row("make the title in scene two blue", Scene(2)),
        row("make the title of the second scene blue", Scene(2)),
        row("make the title blue in the 2nd slide", Scene(2)),
        row("make the title blue in slide 3", Scene(3)),
        row("make #3 blue", Scene(3)),
        row("make the title in scene #3 blue", Scene(3)),
        row("make the title in scene number 3 blue", Scene(3)),
        row("make the last scene's title blue", Scene(7)),
        row("make the title of the last one blue", Scene(7)),
        row("make the title of the penultimate scene blue", Scene(6)),
        row("make the title of the second to last scene blue", Scene(6)),
        row("make the title of the second last slide blue", Scene(6)),
        row("make the title of the third from last scene blue", Scene(5)),
        // No scene is named "intro": the first scene.
        row("make the title in the intro blue", Scene(1)),
        // "Outro" is a name.
        row("make the title in the outro blue", Scene(7)),
        row("make the background of the outro #111111", Scene(7)),
        row("make the title in Customer quote blue", Scene(4)),
        row("make the title in the cold open scene blue", Scene(1)),
        // One word of "Pricing Plans" before a scene noun.
        row("make the title of the pricing scene blue", Scene(3)),
        // A number with a unit after it is a quantity, not a position.
        row("make the pricing scene 6 seconds long", Scene(3)),
        row("make scene 2 3 seconds long", Scene(2)),
        // A position the project does not have.
        row("make the title blue in scene 9", Ask),
        row("make the title of the tenth slide blue", Ask),
        // Two scenes are "feature" scenes.
        row("make the feature scene blue", Ask),
    ]
}

/// Rows that name no scene, after the edit of scene [`EDITED`].
fn after_edit_rows() -> Vec<Row> {
    use Expect::*;
    vec![
        implicit("make it blue", Scene(EDITED)),
        implicit("make the title blue", Scene(EDITED)),
        // Quoted text names no scene.
        implicit("change the headline to 'Scene 2 is here'", Scene(EDITED)),
        // "scene 5 seconds" is a quantity: no scene named, so the scene edited last.
        implicit("make the scene 5 seconds long", Scene(EDITED)),
    ]
}

fn request(prompt: &str) -> BuildRequest<'_> {
    BuildRequest {
        project_id: PROJECT,
        user_id: None,
        prompt,
    }
}

/// The context's target under `flags`, twice with the same engine: the second build is served
/// from the cached base and resolves through its stored name index.
fn context_targets(store: &Store, engine: &mut ContextEngine, prompt: &str) -> Vec<Option<String>> {
    (0..2)
        .map(|_| {
            engine
                .build(store, &request(prompt))
                .unwrap_or_else(|e| panic!("{prompt}: {e}"))
                .context
                .target_scene_id
        })
        .collect()
}

/// The offline model's decision on the request the pipeline builds from the context.
async fn offline_target(store: &Store, llm: &OfflineBackend, prompt: &str) -> Option<String> {
    let built = ContextEngine::fresh(store, &request(prompt), Flags::OPTIMIZED).expect("builds");
    let ctx = &built.context;
    let selection = ToolSelectionRequest {
        user_prompt: prompt.to_string(),
        scenes: scene_refs(store),
        preferences: Default::default(),
        last_edited_scene_id: ctx.history.last().map(|h| h.scene_id.clone()),
        prompt: ChatPrompt::default(),
    };
    match llm.select_tool(&selection).await.expect("selects").value {
        ToolDecision::Tool {
            target_scene_id, ..
        } => {
            assert!(
                target_scene_id.is_some(),
                "{prompt}: a tool without a target"
            );
            target_scene_id
        }
        ToolDecision::Clarify { question } => {
            assert!(question.contains('?'), "{prompt}: {question}");
            None
        }
    }
}

fn scene_refs(store: &Store) -> Vec<SceneRef> {
    store
        .list_scenes(PROJECT)
        .expect("lists")
        .into_iter()
        .enumerate()
        .map(|(i, s)| SceneRef {
            id: s.id,
            name: s.name,
            position: i + 1,
            duration_frames: s.duration_frames,
        })
        .collect()
}

/// The scene a real model's answer names when it gives `prompt` as its target.
fn wire_target(store: &Store, prompt: &str) -> Option<String> {
    let decision = ToolDecision::Tool {
        tool: Tool::EditScene,
        target_scene_id: Some(prompt.to_string()),
        args: json!({}),
        reasoning: String::new(),
    };
    match resolve_target(decision, &scene_refs(store)) {
        Ok(ToolDecision::Tool {
            target_scene_id, ..
        }) => target_scene_id,
        Ok(other) => panic!("{prompt}: {other:?}"),
        Err(_) => None,
    }
}

async fn check_rows(store: &Store, engines: &mut [(Flags, ContextEngine)], rows: &[Row]) {
    let llm = OfflineBackend::new(0.0);
    for row in rows {
        let expected = match row.expect {
            Expect::Scene(position) => Some(id(position)),
            Expect::Ask => None,
        };
        for (flags, engine) in engines.iter_mut() {
            for (round, target) in context_targets(store, engine, row.prompt)
                .into_iter()
                .enumerate()
            {
                assert_eq!(
                    target, expected,
                    "context ({flags}, build {round}): {}",
                    row.prompt
                );
            }
        }
        assert_eq!(
            offline_target(store, &llm, row.prompt).await,
            expected,
            "offline selection: {}",
            row.prompt
        );
        let wire_expected = if row.names_a_scene {
            expected.clone()
        } else {
            None
        };
        assert_eq!(
            wire_target(store, row.prompt),
            wire_expected,
            "answer check: {}",
            row.prompt
        );
    }
}

#[tokio::test]
async fn every_phrasing_means_the_same_scene_to_all_three_callers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(dir.path().join("r.db")).expect("opens");
    fixtures::import(&mut store, "resolver-table", &project()).expect("imports");
    let mut engines: Vec<(Flags, ContextEngine)> = [
        Flags::LEGACY,
        Flags::OPTIMIZED,
        Flags::parse("relevant", Flags::LEGACY).expect("flags"),
    ]
    .into_iter()
    .map(|flags| (flags, ContextEngine::new(flags, EngineOptions::default())))
    .collect();

    // Before any edit, "it" is no scene of seven: everyone asks.
    check_rows(
        &store,
        &mut engines,
        &[implicit("make it blue", Expect::Ask)],
    )
    .await;

    // A real edit (offline, no simulated wait) makes scene 4 the scene edited last.
    let mut pipeline = Pipeline::new(
        store,
        ContextEngine::new(Flags::OPTIMIZED, EngineOptions::default()),
        Box::new(OfflineBackend::new(0.0)),
    );
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let edit = pipeline
        .run_edit(
            PROJECT,
            "make the title of the customer quote scene red",
            &tx,
            &CancellationToken::new(),
        )
        .await;
    assert_eq!(edit.outcome, Outcome::Applied, "{:?}", edit.error);
    assert_eq!(edit.target_scene_id, Some(id(EDITED)));
    let store = pipeline.store;

    check_rows(&store, &mut engines, &explicit_rows()).await;
    check_rows(&store, &mut engines, &after_edit_rows()).await;
}

#[test]
fn a_cached_base_splits_its_scene_names_only_for_a_request_that_needs_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(dir.path().join("r.db")).expect("opens");
    fixtures::import(&mut store, "resolver-table", &project()).expect("imports");
    let mut engine = ContextEngine::new(Flags::OPTIMIZED, EngineOptions::default());
    let key = editscope::context::CacheKey {
        project_id: PROJECT.into(),
        user_id: store.get_project(PROJECT).expect("project").user_id,
        variant: Flags::OPTIMIZED.content_variant(),
    };
    let index_built = |engine: &ContextEngine| {
        engine
            .optimized()
            .peek(&store, &key)
            .expect("cached")
            .name_index
            .is_built()
    };
    let target = |engine: &mut ContextEngine, prompt: &str| {
        engine
            .build(&store, &request(prompt))
            .expect("builds")
            .context
            .target_scene_id
    };
    // A position needs no names.
    assert_eq!(target(&mut engine, "make scene 2 blue"), Some(id(2)));
    assert_eq!(
        target(&mut engine, "make the penultimate scene blue"),
        Some(id(6))
    );
    assert!(!index_built(&engine));
    // A name does; the index is then kept with the cached base for the next requests.
    assert_eq!(
        target(&mut engine, "make the pricing scene blue"),
        Some(id(3))
    );
    assert!(index_built(&engine));
    assert_eq!(target(&mut engine, "make the outro blue"), Some(id(7)));
}
