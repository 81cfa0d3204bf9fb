//! Memory learning (DESIGN.md section 7): nothing the legacy builder finds in a history is lost
//! to `memory`. Import, the pipeline and the optimized builder learn the preferences messages
//! state; the invariant ([`assert_nothing_lost`]) is checked on every demo fixture, on a project
//! imported with messages and no stored preferences, on random histories (a property test),
//! and in the test over every flag combination (tests/it/context.rs).

use std::collections::BTreeMap;
use std::time::Duration;

use editscope::context::*;
use editscope::fixtures::{self, MemoryRecord, MessageRecord, ProjectFile};
use editscope::llm::offline::OfflineBackend;
use editscope::llm::{
    CodeEdit, CodeEditRequest, LlmClient, LlmError, LlmResponse, ToolDecision, ToolSelectionRequest,
};
use editscope::memory::{learn, stated};
use editscope::pipeline::{Outcome, Pipeline};
use editscope::store::{MemoryType, Message, OpenOptions, Store};
use futures::future::BoxFuture;
use proptest::prelude::*;
use tokio_util::sync::CancellationToken;

/// The invariant of memory learning: every preference key the legacy builder parses from the
/// project's history is in `context`, with the legacy value, unless memory holds an entry that
/// is more confident than the parser or newer than the last message stating the key, and then
/// with memory's value.
pub fn assert_nothing_lost(store: &Store, project_id: &str, context: &Context, what: &str) {
    let messages = store.list_messages(project_id, None).unwrap();
    // What the legacy builder computes for its preferences section, on every request.
    let legacy = prefs::parse_preferences(&messages);
    let mut last_stated = BTreeMap::new();
    for m in messages.iter().filter(|m| m.role == "user") {
        for key in stated::stated_in(&m.content).into_keys() {
            last_stated.insert(key.to_string(), m.created_at);
        }
    }
    for (key, parsed) in &legacy {
        let served = context.preferences.get(key).unwrap_or_else(|| {
            panic!(
                "{what}: the legacy builder finds {key} = {}, the context has no {key}",
                parsed.value
            )
        });
        if served.value == parsed.value {
            continue;
        }
        let entry = store
            .get_memory(project_id, MemoryType::UserPreference, key)
            .unwrap()
            .unwrap_or_else(|| panic!("{what}: {key} served as {} from nowhere", served.value));
        assert!(
            entry.confidence > stated::PARSED_CONFIDENCE || entry.updated_at > last_stated[key],
            "{what}: {key}: legacy {} (stated at {}), served {}, memory holds {entry:?}",
            parsed.value,
            last_stated[key],
            served.value
        );
        assert_eq!(served.value, entry.value, "{what}: {key}");
    }
}

/// Makes a project's memory miss a preference its history states, as another tool writing the
/// database would: the stored brand color forgotten, then a newer message stating another one.
/// Until `memory` learns from that message, the invariant fails.
pub fn state_a_preference_memory_lacks(store: &mut Store, project_id: &str) {
    let last = store.list_messages(project_id, Some(1)).unwrap();
    let at = last.last().map_or(T0, |m| m.created_at) + 60_000;
    store
        .write(|w| {
            w.forget_memory(project_id, MemoryType::UserPreference, "brand_color")?;
            w.add_message(&Message {
                id: format!("{project_id}-other-tool"),
                project_id: project_id.into(),
                role: "user".into(),
                content: "The primary color is #7C3AED now.".into(),
                image_urls: vec![],
                created_at: at,
            })
        })
        .unwrap();
}

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("learn.db")).unwrap();
    (dir, store)
}

fn engine(flags: Flags) -> ContextEngine {
    ContextEngine::new(flags, EngineOptions::default())
}

fn req<'a>(project_id: &'a str, prompt: &'a str) -> BuildRequest<'a> {
    BuildRequest {
        project_id,
        user_id: None,
        prompt,
    }
}

fn flags(names: &str) -> Flags {
    Flags::parse(names, Flags::LEGACY).unwrap()
}

fn memory_flag_combinations() -> Vec<Flags> {
    Flags::all_combinations().filter(|f| f.memory).collect()
}

const T0: i64 = 1_700_000_000_000;

fn message(id: &str, role: &str, content: &str, created_at: i64) -> MessageRecord {
    MessageRecord {
        id: id.into(),
        role: role.into(),
        content: content.into(),
        image_urls: vec![],
        created_at,
    }
}

/// demo-small's scenes under another id, with the given history and memory: a project brought
/// in from the editor.
fn brought_in(id: &str, messages: Vec<MessageRecord>, memory: Vec<MemoryRecord>) -> ProjectFile {
    let mut p = fixtures::parse("small", fixtures::DEMO_SMALL).unwrap();
    p.project.id = id.into();
    // Scene ids are unique across projects; images and past changes are not needed here.
    for (i, s) in p.scenes.iter_mut().enumerate() {
        s.id = format!("{id}-s{i}");
    }
    p.image_analyses.clear();
    p.scene_iterations.clear();
    p.messages = messages;
    p.memory = memory;
    p
}

/// The history of the issue: stated preferences, and nothing in memory.
fn stated_history() -> Vec<MessageRecord> {
    vec![
        message(
            "b-1",
            "user",
            "I want the brand color #7C3AED everywhere",
            T0 + 1_000,
        ),
        message(
            "b-2",
            "assistant",
            "Got it: #7C3AED everywhere.",
            T0 + 2_000,
        ),
        message(
            "b-3",
            "user",
            "Keep scenes short, under 4 seconds each.",
            T0 + 3_000,
        ),
        message("b-4", "assistant", "Understood.", T0 + 4_000),
    ]
}

fn pref(store: &Store, project_id: &str, key: &str) -> Option<(String, f64, String)> {
    store
        .get_memory(project_id, MemoryType::UserPreference, key)
        .unwrap()
        .map(|e| (e.value, e.confidence, e.source_prompt))
}

/// Another tool writing the same database: a message appended through its own connection, with
/// no learning of its own.
fn other_tool_writes(path: &std::path::Path, project_id: &str, id: &str, role: &str, text: &str) {
    let mut other = Store::open(path).unwrap();
    let at = other
        .list_messages(project_id, Some(1))
        .unwrap()
        .last()
        .map_or(T0, |m| m.created_at)
        + 1_000;
    other
        .write(|w| {
            w.add_message(&Message {
                id: id.into(),
                project_id: project_id.into(),
                role: role.into(),
                content: text.into(),
                image_urls: vec![],
                created_at: at,
            })
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Import

#[test]
fn each_demo_fixture_keeps_what_the_legacy_builder_finds_with_and_without_its_stored_preferences() {
    for id in fixtures::DEMO_IDS {
        let shipped = fixtures::demo_project(id).unwrap().unwrap();
        // As shipped, and brought in with its history but none of its preferences.
        let mut bare = shipped.clone();
        bare.memory.retain(|m| m.memory_type != "USER_PREFERENCE");
        for (variant, file) in [("shipped", shipped), ("no stored preferences", bare)] {
            let (_d, mut store) = temp_store();
            fixtures::import(&mut store, id, &file).unwrap();
            // The import learned from the whole history itself, the builders have nothing left.
            assert!(
                store.messages_after_watermark(id).unwrap().is_empty(),
                "{id}"
            );
            // `relevant` keeps the 1,000-scene demo quick; memory alone reads every scene.
            let combos = if id == "demo-large" {
                vec![Flags::OPTIMIZED, flags("memory,relevant")]
            } else {
                vec![Flags::OPTIMIZED, flags("memory")]
            };
            for f in combos {
                let built = engine(f)
                    .build(&store, &req(id, "make the title blue in scene 2"))
                    .unwrap();
                assert_nothing_lost(&store, id, &built.context, &format!("{id} {variant} {f}"));
            }
        }
    }
}

#[test]
fn the_legacy_builder_parses_exactly_what_the_invariant_compares_with() {
    let (_d, mut store) = temp_store();
    let p = fixtures::parse("small", fixtures::DEMO_SMALL).unwrap();
    fixtures::import(&mut store, "small", &p).unwrap();
    let legacy = engine(Flags::LEGACY)
        .build(&store, &req("demo-small", "hello"))
        .unwrap();
    let parsed = prefs::parse_preferences(&store.list_messages("demo-small", None).unwrap());
    assert_eq!(*legacy.context.preferences, parsed);
    assert!(!parsed.is_empty());
}

#[test]
fn a_project_imported_with_messages_and_empty_memory_has_their_preferences_in_memory() {
    let (_d, mut store) = temp_store();
    let file = brought_in("brought-in", stated_history(), vec![]);
    fixtures::import(&mut store, "brought-in.json", &file).unwrap();
    let brand = store
        .get_memory("brought-in", MemoryType::UserPreference, "brand_color")
        .unwrap()
        .expect("brand_color learned at import");
    assert_eq!(brand.value, "#7C3AED");
    assert_eq!(brand.confidence, stated::PARSED_CONFIDENCE);
    assert_eq!(
        brand.source_prompt,
        "I want the brand color #7C3AED everywhere"
    );
    // learned_at is the message's time, not the import's
    assert_eq!(
        (brand.created_at, brand.updated_at),
        (T0 + 1_000, T0 + 1_000)
    );
    assert_eq!(
        pref(&store, "brought-in", "max_scene_seconds").map(|p| p.0),
        Some("4".into())
    );
    // All in the import's one revision, and the watermark at the last message.
    assert_eq!(store.project_revision("brought-in").unwrap(), 1);
    let mark = store.memory_watermark("brought-in").unwrap().unwrap();
    assert_eq!(
        (mark.message_created_at, mark.message_id.as_str()),
        (T0 + 4_000, "b-4")
    );
    for f in memory_flag_combinations() {
        let built = engine(f)
            .build(&store, &req("brought-in", "make the title blue in scene 2"))
            .unwrap();
        assert_eq!(
            built
                .context
                .preferences
                .get("brand_color")
                .map(|p| p.value.as_str()),
            Some("#7C3AED"),
            "{f}"
        );
        assert_nothing_lost(&store, "brought-in", &built.context, &f.to_string());
    }
}

#[test]
fn import_never_overrides_a_stored_preference_that_is_more_confident_or_newer() {
    let (_d, mut store) = temp_store();
    let stored = |key: &str, value: &str, confidence: f64, at: i64| MemoryRecord {
        memory_type: "USER_PREFERENCE".into(),
        key: key.into(),
        value: value.into(),
        confidence,
        source_prompt: "set in the editor".into(),
        created_at: at,
        updated_at: at,
    };
    let file = brought_in(
        "weighed",
        stated_history(),
        vec![
            // more confident than the parser, older than the message: kept
            stored("brand_color", "#111111", 0.9, T0),
            // as confident, newer than the message: kept
            stored(
                "max_scene_seconds",
                "9",
                stated::PARSED_CONFIDENCE,
                T0 + 10_000,
            ),
        ],
    );
    fixtures::import(&mut store, "weighed.json", &file).unwrap();
    assert_eq!(pref(&store, "weighed", "brand_color").unwrap().0, "#111111");
    assert_eq!(pref(&store, "weighed", "max_scene_seconds").unwrap().0, "9");
    // as confident and older: the message wins
    let file = brought_in(
        "replaced",
        stated_history(),
        vec![stored(
            "brand_color",
            "#111111",
            stated::PARSED_CONFIDENCE,
            T0,
        )],
    );
    let (_d2, mut store) = temp_store();
    fixtures::import(&mut store, "replaced.json", &file).unwrap();
    let (value, _, source) = pref(&store, "replaced", "brand_color").unwrap();
    assert_eq!(value, "#7C3AED");
    assert_eq!(source, "I want the brand color #7C3AED everywhere");
}

#[test]
fn export_then_import_of_a_learned_project_round_trips_exactly() {
    let (_d, mut store) = temp_store();
    let mut history = stated_history();
    // the same key stated twice: the later wins, the entry keeps its first time as created_at
    history.push(message(
        "b-5",
        "user",
        "Actually the brand color is #0EA5E9.",
        T0 + 5_000,
    ));
    fixtures::import(&mut store, "f", &brought_in("trip", history, vec![])).unwrap();
    let once = fixtures::export(&store, "trip").unwrap();
    let (_d2, mut again) = temp_store();
    fixtures::import(&mut again, "f", &once).unwrap();
    assert_eq!(fixtures::export(&again, "trip").unwrap(), once);
    // --replace too
    fixtures::import_replacing(&mut again, "f", &once).unwrap();
    assert_eq!(fixtures::export(&again, "trip").unwrap(), once);
}

#[test]
fn the_cli_imports_a_project_with_stated_preferences_and_the_optimized_context_has_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let file = dir.path().join("brought-in.json");
    let project = brought_in("brought-in", stated_history(), vec![]);
    std::fs::write(&file, serde_json::to_string(&project).unwrap()).unwrap();
    let editscope = || crate::cli::editscope(&db);
    for args in [vec!["import"], vec!["import", "--replace"]] {
        editscope().args(&args).arg(&file).assert().success();
        let out = editscope()
            .args([
                "context",
                "--project",
                "brought-in",
                "--flags",
                "optimized",
                "--json",
            ])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            json["context"]["preferences"]["brand_color"]["value"], "#7C3AED",
            "{args:?}: {}",
            json["context"]["preferences"]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The builder: messages written by another tool

#[test]
fn the_optimized_builder_learns_from_messages_another_tool_wrote_before_serving() {
    let (dir, mut store) = temp_store();
    let path = dir.path().join("learn.db");
    fixtures::import(&mut store, "f", &brought_in("p", stated_history(), vec![])).unwrap();
    let mut e = engine(Flags::OPTIMIZED);
    let prompt = "make the title blue in scene 2";
    let first = e.build(&store, &req("p", prompt)).unwrap();
    assert!(!first.context.preferences.contains_key("background_style"));
    other_tool_writes(
        &path,
        "p",
        "o-1",
        "user",
        "Use a light background on every scene.",
    );
    let second = e.build(&store, &req("p", prompt)).unwrap();
    assert_eq!(
        second.context.preferences["background_style"].value,
        "light"
    );
    // Learned before the cache lookup, so served by bringing the cached context forward.
    assert_eq!(second.stats.path, BuildPath::Incremental);
    assert_eq!(
        pref(&store, "p", "background_style").unwrap().2,
        "Use a light background on every scene."
    );
    assert_eq!(
        store.memory_watermark("p").unwrap().unwrap().message_id,
        "o-1"
    );
    assert_nothing_lost(&store, "p", &second.context, "after the other tool");
    let fresh = ContextEngine::fresh(&store, &req("p", prompt), Flags::OPTIMIZED).unwrap();
    assert!(second.context.same_content(&fresh.context));
    // Nothing new: served from the cache as is.
    let third = e.build(&store, &req("p", prompt)).unwrap();
    assert_eq!(third.stats.path, BuildPath::CacheHit);
}

#[test]
fn learning_reads_only_the_new_messages_and_nothing_when_there_are_none() {
    let (dir, mut store) = temp_store();
    let path = dir.path().join("learn.db");
    let history: Vec<MessageRecord> = (0..200)
        .map(|i| {
            message(
                &format!("h-{i:03}"),
                if i % 2 == 0 { "user" } else { "assistant" },
                "Make the tone playful.",
                T0 + i * 1_000,
            )
        })
        .collect();
    fixtures::import(&mut store, "f", &brought_in("long", history, vec![])).unwrap();
    let counted = |store: &Store| {
        let (q0, r0) = store.counters().snapshot();
        let learned = learn::catch_up(store, "long").unwrap();
        let (q1, r1) = store.counters().snapshot();
        (learned, q1 - q0, r1 - r0)
    };
    // Nothing new: one query, no row read, whatever the length of the history.
    let (learned, queries, rows) = counted(&store);
    assert_eq!((learned.messages, queries, rows), (0, 1, 0));
    for i in 0..3 {
        other_tool_writes(
            &path,
            "long",
            &format!("n-{i}"),
            "user",
            "Make the tone calm.",
        );
    }
    // Three new: the check reads those three rows, not the 200 before them.
    let (learned, _, rows) = counted(&store);
    assert_eq!((learned.messages, rows), (3, 3));
    assert_eq!(pref(&store, "long", "tone").unwrap().0, "calm");
    let (learned, queries, rows) = counted(&store);
    assert_eq!((learned.messages, queries, rows), (0, 1, 0));
}

#[test]
fn moving_the_watermark_alone_does_not_bump_the_revision() {
    let (dir, mut store) = temp_store();
    let path = dir.path().join("learn.db");
    fixtures::import(&mut store, "f", &brought_in("p", stated_history(), vec![])).unwrap();
    other_tool_writes(&path, "p", "o-1", "assistant", "Use a dark background.");
    let before = store.project_revision("p").unwrap();
    let learned = learn::catch_up(&store, "p").unwrap();
    assert_eq!(learned.messages, 1);
    assert!(learned.preferences.is_empty(), "assistants state nothing");
    assert_eq!(store.project_revision("p").unwrap(), before);
    assert_eq!(
        store.memory_watermark("p").unwrap().unwrap().message_id,
        "o-1"
    );
    // A statement memory already holds more confidently: kept, no bump either.
    store
        .write(|w| {
            w.upsert_memory(&editscope::store::MemoryWrite {
                project_id: "p".into(),
                memory_type: MemoryType::UserPreference,
                key: "tone".into(),
                value: "calm".into(),
                confidence: 0.9,
                source_prompt: "set by hand".into(),
                learned_at: None,
            })
        })
        .unwrap();
    other_tool_writes(&path, "p", "o-2", "user", "Make the tone playful.");
    let before = store.project_revision("p").unwrap();
    let learned = learn::catch_up(&store, "p").unwrap();
    assert!(!learned.changed_memory());
    assert_eq!(store.project_revision("p").unwrap(), before);
    assert_eq!(pref(&store, "p", "tone").unwrap().0, "calm");
    // A new statement: one memory write, and the revision moves.
    other_tool_writes(&path, "p", "o-3", "user", "Use a dark background.");
    let before = store.project_revision("p").unwrap();
    assert!(learn::catch_up(&store, "p").unwrap().changed_memory());
    assert_eq!(store.project_revision("p").unwrap(), before + 1);
}

#[test]
fn the_watermark_only_moves_forward() {
    let (_d, mut store) = temp_store();
    fixtures::import(&mut store, "f", &brought_in("p", stated_history(), vec![])).unwrap();
    let moved = store
        .write(|w| w.advance_memory_watermark("p", T0, "a-earlier"))
        .unwrap();
    assert!(!moved);
    assert_eq!(
        store.memory_watermark("p").unwrap().unwrap().message_id,
        "b-4"
    );
    // same time, later id: forward
    assert!(
        store
            .write(|w| w.advance_memory_watermark("p", T0 + 4_000, "b-5"))
            .unwrap()
    );
}

#[test]
fn a_learning_failure_is_a_warning_and_the_build_still_serves() {
    let (dir, mut store) = temp_store();
    let path = dir.path().join("learn.db");
    fixtures::import(&mut store, "f", &brought_in("p", stated_history(), vec![])).unwrap();
    other_tool_writes(
        &path,
        "p",
        "o-1",
        "user",
        "Use a light background on every scene.",
    );
    let prompt = "make the title blue in scene 2";
    // Read-only: learning cannot write, the build serves what memory holds.
    let read_only = Store::open_with(
        &path,
        OpenOptions {
            read_only: true,
            ..OpenOptions::default()
        },
    )
    .unwrap();
    let built = engine(Flags::OPTIMIZED)
        .build(&read_only, &req("p", prompt))
        .unwrap();
    assert_eq!(built.context.preferences["brand_color"].value, "#7C3AED");
    assert!(pref(&store, "p", "background_style").is_none());
    // Locked by another writer: the same.
    let quick = Store::open_with(
        &path,
        OpenOptions {
            busy_timeout: Duration::from_millis(20),
            ..OpenOptions::default()
        },
    )
    .unwrap();
    let holder = Store::open(&path).unwrap();
    holder
        .connection()
        .unwrap()
        .execute_batch("BEGIN IMMEDIATE")
        .unwrap();
    let built = engine(flags("memory"))
        .build(&quick, &req("p", prompt))
        .unwrap();
    assert!(!built.context.preferences.contains_key("background_style"));
    holder
        .connection()
        .unwrap()
        .execute_batch("ROLLBACK")
        .unwrap();
    // Once the lock is gone, the next build learns.
    let built = engine(flags("memory"))
        .build(&quick, &req("p", prompt))
        .unwrap();
    assert_eq!(built.context.preferences["background_style"].value, "light");
}

// ---------------------------------------------------------------------------------------------
// The pipeline: every recorded user message, whatever the outcome

/// A backend whose model is unreachable: every run fails at tool selection.
struct Unreachable;

impl LlmClient for Unreachable {
    fn name(&self) -> String {
        "unreachable".into()
    }
    fn select_tool<'a>(
        &'a self,
        _request: &'a ToolSelectionRequest,
    ) -> BoxFuture<'a, Result<LlmResponse<ToolDecision>, LlmError>> {
        Box::pin(async {
            Err(LlmError::Connect {
                url: "http://127.0.0.1:9".into(),
                detail: "connection refused".into(),
            })
        })
    }
    fn edit_code<'a>(
        &'a self,
        _request: &'a CodeEditRequest,
    ) -> BoxFuture<'a, Result<LlmResponse<CodeEdit>, LlmError>> {
        Box::pin(async { Err(LlmError::Cancelled) })
    }
}

fn pipeline(llm: Box<dyn LlmClient>) -> (tempfile::TempDir, Pipeline) {
    let (dir, mut store) = temp_store();
    fixtures::import(&mut store, "f", &brought_in("p", vec![], vec![])).unwrap();
    (dir, Pipeline::new(store, engine(Flags::OPTIMIZED), llm))
}

async fn run(p: &mut Pipeline, prompt: &str) -> editscope::pipeline::EditResult {
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    p.run_edit("p", prompt, &tx, &CancellationToken::new())
        .await
}

#[tokio::test]
async fn the_pipeline_learns_from_applied_and_clarification_runs() {
    let (_d, mut p) = pipeline(Box::new(OfflineBackend::new(0.0)));
    let asked = "I want the brand color #7C3AED everywhere. Make the title red in scene 9";
    let r = run(&mut p, asked).await;
    assert_eq!(r.outcome, Outcome::Clarification, "{r:?}");
    assert_eq!(r.memory_written, vec!["USER_PREFERENCE/brand_color"]);
    assert_eq!(
        pref(&p.store, "p", "brand_color"),
        Some(("#7C3AED".into(), 0.9, asked.into()))
    );
    let told = "Make the tone playful. Make the title red in scene 2";
    let r = run(&mut p, told).await;
    assert_eq!(r.outcome, Outcome::Applied, "{r:?}");
    assert_eq!(pref(&p.store, "p", "tone").unwrap().0, "playful");
    // The watermark is past the run's own messages: the next build has nothing to learn.
    let last = p.store.list_messages("p", Some(1)).unwrap();
    assert_eq!(
        p.store.memory_watermark("p").unwrap().unwrap().message_id,
        last[0].id
    );
    assert!(p.store.messages_after_watermark("p").unwrap().is_empty());
    let built = ContextEngine::fresh(&p.store, &req("p", "hello"), Flags::OPTIMIZED).unwrap();
    assert_nothing_lost(&p.store, "p", &built.context, "after two runs");
}

#[tokio::test]
async fn a_failed_run_records_its_message_and_learns_from_it_and_leaves_every_scene_as_it_was() {
    let (_d, mut p) = pipeline(Box::new(Unreachable));
    let scenes = p.store.list_scenes("p").unwrap();
    let asked = "Use a dark background on every scene and make the title red in scene 2";
    let r = run(&mut p, asked).await;
    assert_eq!(r.outcome, Outcome::Failed, "{r:?}");
    assert!(r.run_id.is_some(), "the failed run is recorded");
    assert_eq!(p.store.list_scenes("p").unwrap(), scenes);
    let messages = p.store.list_messages("p", None).unwrap();
    assert_eq!(
        messages
            .iter()
            .map(|m| (m.role.as_str(), m.content.as_str()))
            .collect::<Vec<_>>(),
        vec![("user", asked)],
        "the request, and no assistant message"
    );
    assert_eq!(
        pref(&p.store, "p", "background_style"),
        Some(("dark".into(), 0.9, asked.into()))
    );
    let built = ContextEngine::fresh(&p.store, &req("p", "hello"), Flags::OPTIMIZED).unwrap();
    assert_nothing_lost(&p.store, "p", &built.context, "after a failed run");
}

#[tokio::test]
async fn a_cancelled_run_records_no_message_and_learns_nothing() {
    let (_d, mut p) = pipeline(Box::new(OfflineBackend::new(0.0)));
    let revision = p.store.project_revision("p").unwrap();
    let cancel = CancellationToken::new();
    cancel.cancel();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let r = p
        .run_edit(
            "p",
            "Make the tone playful. Make the title red in scene 2",
            &tx,
            &cancel,
        )
        .await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(p.store.list_messages("p", None).unwrap().is_empty());
    assert!(pref(&p.store, "p", "tone").is_none());
    assert_eq!(p.store.project_revision("p").unwrap(), revision);
}

// ---------------------------------------------------------------------------------------------
// Random histories

/// Statements the parser knows (and two it finds nothing in), several per key so that a later
/// one can disagree with an earlier one.
const SENTENCES: [&str; 14] = [
    "I want the brand color #7C3AED everywhere",
    "The brand color is #2563EB now",
    "Please always use Inter for headings",
    "Please always use Playfair Display for headings",
    "Body font: use Lato",
    "Body font: use Open Sans",
    "Make the tone playful",
    "The tone should feel calm",
    "Keep scenes short, under 5 seconds each",
    "Keep every scene under 8 seconds",
    "Use a dark background",
    "Use a light background on every scene",
    "Make the title bigger in scene 2",
    "Thanks, that looks great",
];

const KEYS: [(&str, [&str; 2]); 6] = [
    ("brand_color", ["#7C3AED", "#111111"]),
    ("heading_font", ["Inter", "Roboto"]),
    ("body_font", ["Lato", "Georgia"]),
    ("tone", ["playful", "serious"]),
    ("max_scene_seconds", ["5", "3"]),
    ("background_style", ["light", "black"]),
];

/// A message: (user?, sentences, time step, id tag); ties in time are frequent on purpose.
type Msg = (bool, Vec<usize>, i64, u16);

fn msg_strategy() -> impl Strategy<Value = Msg> {
    (
        prop::bool::weighted(0.8),
        prop::collection::vec(0..SENTENCES.len(), 1..=3),
        0i64..6,
        0u16..1000,
    )
}

fn records(msgs: &[Msg], start: i64, prefix: &str) -> Vec<MessageRecord> {
    let mut at = start;
    msgs.iter()
        .enumerate()
        .map(|(i, (user, sentences, step, tag))| {
            at += step * 1_000;
            let text: Vec<&str> = sentences.iter().map(|&s| SENTENCES[s]).collect();
            message(
                // the tag makes the id order differ from the writing order at equal times
                &format!("{prefix}{tag:03}-{i}"),
                if *user { "user" } else { "assistant" },
                &text.join(". "),
                at,
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    /// Any stored memory, any history imported, more messages appended by another tool in two
    /// batches with builds between: what the legacy builder finds is never lost.
    #[test]
    fn nothing_the_legacy_builder_finds_is_lost_to_memory(
        stored in prop::collection::vec(
            prop::option::of((0usize..2, prop::sample::select(vec![0.3, 0.6, 0.9]), 0i64..30)),
            KEYS.len(),
        ),
        imported in prop::collection::vec(msg_strategy(), 0..10),
        batches in prop::collection::vec(prop::collection::vec(msg_strategy(), 0..4), 2),
        combos in prop::collection::vec(prop::sample::select(memory_flag_combinations()), 3),
    ) {
        let memory: Vec<MemoryRecord> = KEYS
            .iter()
            .zip(&stored)
            .filter_map(|((key, values), s)| {
                s.map(|(v, confidence, step)| MemoryRecord {
                    memory_type: "USER_PREFERENCE".into(),
                    key: key.to_string(),
                    value: values[v].into(),
                    confidence,
                    source_prompt: "stored".into(),
                    created_at: T0 + step * 1_000,
                    updated_at: T0 + step * 1_000,
                })
            })
            .collect();
        let (dir, mut store) = temp_store();
        let path = dir.path().join("learn.db");
        let history = records(&imported, T0, "i");
        let mut last = history.last().map_or(T0, |m| m.created_at);
        fixtures::import(&mut store, "random", &brought_in("p", history, memory)).unwrap();
        let mut e = engine(combos[0]);
        let prompt = "make the title blue in scene 2";
        let built = e.build(&store, &req("p", prompt)).unwrap();
        assert_nothing_lost(&store, "p", &built.context, "after import");
        for (b, batch) in batches.iter().enumerate() {
            // Another tool appends: its messages come after what is there.
            let mut other = Store::open(&path).unwrap();
            let appended = records(batch, last, &format!("o{b}-"));
            last = appended.last().map_or(last, |m| m.created_at);
            other
                .write(|w| {
                    appended.iter().try_for_each(|m| {
                        w.add_message(&Message {
                            id: m.id.clone(),
                            project_id: "p".into(),
                            role: m.role.clone(),
                            content: m.content.clone(),
                            image_urls: vec![],
                            created_at: m.created_at,
                        })
                    })
                })
                .unwrap();
            e.flags = combos[b + 1];
            let built = e.build(&store, &req("p", prompt)).unwrap();
            assert_nothing_lost(&store, "p", &built.context, &format!("batch {b} {}", e.flags));
        }
    }
}
