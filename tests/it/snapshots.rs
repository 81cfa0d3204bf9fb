//! The cache's second level written behind the request: a snapshot handed to the writer thread
//! is in the database after a flush or once its engine is dropped, writes of one key coalesce
//! to the newest, a clear is not undone by a waiting write, and after a shadow mismatch the
//! next engine (as a new process would) is served the fresh context.

use editscope::context::*;
use editscope::fixtures;
use editscope::store::{MemoryType, MemoryWrite, Store};

use crate::backends::{Backend, TestDb};

fn seeded(backend: Backend) -> (TestDb, Store) {
    let dir = backend.fresh().expect("an available backend");
    let mut store = dir.open();
    let small = fixtures::parse("small", fixtures::DEMO_SMALL).unwrap();
    fixtures::import(&mut store, "small", &small).unwrap();
    (dir, store)
}

fn req(prompt: &str) -> BuildRequest<'_> {
    BuildRequest {
        project_id: "demo-small",
        user_id: None,
        prompt,
    }
}

fn engine() -> ContextEngine {
    ContextEngine::new(Flags::OPTIMIZED, EngineOptions::default())
}

fn key(store: &Store) -> CacheKey {
    CacheKey {
        project_id: "demo-small".into(),
        user_id: store.get_project("demo-small").unwrap().user_id,
        variant: Flags::OPTIMIZED.content_variant(),
    }
}

fn stored_revision(store: &Store) -> Option<i64> {
    let k = key(store);
    store
        .get_snapshot(&k.project_id, &k.user_id, &k.variant)
        .unwrap()
        .map(|(revision, _, _)| revision)
}

fn set_preference(store: &mut Store, n: usize) {
    let w = MemoryWrite {
        project_id: "demo-small".into(),
        memory_type: MemoryType::UserPreference,
        key: "pace".into(),
        value: format!("pace {n}"),
        confidence: 0.9,
        source_prompt: format!("write {n}"),
        learned_at: None,
    };
    store.write(|tx| tx.upsert_memory(&w)).unwrap();
}

#[test]
fn a_flush_waits_for_the_snapshot_and_another_engine_is_served_from_it() {
    crate::backends::each(|backend| {
        let (_d, store) = seeded(backend);
        let e = &mut engine();
        assert_eq!(
            e.build(&store, &req("scene 2")).unwrap().stats.path,
            BuildPath::Fresh
        );
        e.flush_snapshots();
        let stats = e.optimized().cache().writer_stats();
        assert_eq!((stats.queued, stats.written, stats.failed), (1, 1, 0));
        assert_eq!(
            stored_revision(&store),
            Some(store.project_revision("demo-small").unwrap())
        );
        // The first engine is still alive: the second finds the snapshot all the same.
        let second = engine().build(&store, &req("scene 2")).unwrap();
        assert_eq!(second.stats.path, BuildPath::CacheHit);
        assert_eq!(second.stats.cache_level.as_deref(), Some("sqlite"));
    });
}

#[test]
fn writes_of_one_key_coalesce_and_the_newest_is_the_one_stored() {
    crate::backends::each(|backend| {
        let (_d, mut store) = seeded(backend);
        let mut e = engine();
        for n in 0..30 {
            set_preference(&mut store, n);
            e.build(&store, &req("scene 1")).unwrap();
        }
        e.flush_snapshots();
        let stats = e.optimized().cache().writer_stats();
        assert_eq!(stats.queued, 30);
        assert_eq!(stats.written + stats.coalesced, stats.queued, "{stats:?}");
        assert_eq!(stats.failed, 0);
        assert_eq!(
            stored_revision(&store),
            Some(store.project_revision("demo-small").unwrap())
        );
        // What is stored is the newest base, not only stamped with the newest revision.
        drop(e);
        let served = engine().build(&store, &req("scene 1")).unwrap();
        assert_eq!(served.stats.cache_level.as_deref(), Some("sqlite"));
        assert_eq!(served.context.preferences["pace"].value, "pace 29");
    });
}

#[test]
fn a_snapshot_waiting_when_the_cache_is_cleared_is_not_written_after_it() {
    crate::backends::each(|backend| {
        let (_d, mut store) = seeded(backend);
        let mut e = engine();
        for n in 0..5 {
            set_preference(&mut store, n);
            e.build(&store, &req("scene 1")).unwrap();
        }
        e.optimized().cache().clear(&store, "demo-small").unwrap();
        e.flush_snapshots();
        assert_eq!(stored_revision(&store), None);
    });
}

#[test]
fn after_a_shadow_mismatch_the_next_engine_is_served_the_fresh_context() {
    crate::backends::each(|backend| {
        let (_d, store) = seeded(backend);
        let mut e = engine();
        e.set_shadow_rate(1.0);
        e.build(&store, &req("scene 2")).unwrap();
        let k = key(&store);
        let mut corrupted = (*e.optimized().peek(&store, &k).unwrap()).clone();
        std::sync::Arc::make_mut(&mut corrupted.context.preferences).insert(
            "brand_color".into(),
            PreferenceItem {
                value: "#BADBAD".into(),
                confidence: 1.0,
            },
        );
        e.optimized().plant(&k, corrupted);
        let checked = e.build(&store, &req("scene 2")).unwrap();
        assert_eq!(checked.stats.cache.shadow_mismatches, 1);
        // Dropping the engine flushes its writes, as a process that exits does.
        drop(e);
        let next = engine().build(&store, &req("scene 2")).unwrap();
        assert_eq!(next.stats.path, BuildPath::CacheHit);
        assert_eq!(next.stats.cache_level.as_deref(), Some("sqlite"));
        let fresh = ContextEngine::fresh(&store, &req("scene 2"), Flags::OPTIMIZED).unwrap();
        assert!(next.context.same_content(&fresh.context));
        assert_ne!(
            next.context
                .preferences
                .get("brand_color")
                .map(|p| p.value.as_str()),
            Some("#BADBAD")
        );
    });
}

/// `editscope context` on a temporary database, logging at debug level; (JSON, stderr).
fn context_call(db: &std::path::Path, prompt: &str) -> (serde_json::Value, String) {
    let out = assert_cmd::Command::cargo_bin("editscope")
        .unwrap()
        .env("EDITSCOPE_DB", db)
        .env("EDITSCOPE_LOG", "editscope=debug")
        .args([
            "context",
            "--project",
            "demo-small",
            "--json",
            "--prompt",
            prompt,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        serde_json::from_slice(&out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_new_process_served_from_the_snapshot_never_loads_the_tokenizer() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("np.db");
    let (first, log) = context_call(&db, "");
    assert_eq!(first["path"], "fresh");
    assert!(log.contains("loading the cl100k tokenizer"), "{log}");
    // A target that the base gives in full already: its count as the target is in the snapshot.
    let full = first["context"]["scenes_in_full"][0]["position"]
        .as_u64()
        .unwrap();
    for prompt in [String::new(), format!("make the title red in scene {full}")] {
        let (served, log) = context_call(&db, &prompt);
        assert_eq!(served["path"], "cache_hit", "{prompt}");
        assert_eq!(served["stats"]["cache_level"], "sqlite", "{prompt}");
        assert!(
            !log.contains("loading the cl100k tokenizer"),
            "{prompt}: {log}"
        );
        let fresh =
            ContextEngine::fresh(&Store::open(&db).unwrap(), &req(&prompt), Flags::OPTIMIZED)
                .unwrap();
        assert_eq!(
            served["tokens"]["total"], fresh.context.tokens.total,
            "{prompt}"
        );
        if !prompt.is_empty() {
            assert_eq!(
                served["target_scene_id"], first["context"]["scenes_in_full"][0]["id"],
                "{prompt}"
            );
        }
    }
}
