//! The context engine: every flag combination, cache and incremental correctness (property
//! test), TTL expiry, revision invalidation, shadow verification, relevance.

use std::time::Duration;

use editscope::context::*;
use editscope::fixtures;
use editscope::store::{ImageAnalysis, MemoryType, MemoryWrite, Message, Scene, Store};
use proptest::prelude::*;

fn seeded() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("c.db")).unwrap();
    let small = fixtures::parse("small", fixtures::DEMO_SMALL).unwrap();
    fixtures::import(&mut store, "small", &small).unwrap();
    (dir, store)
}

fn req<'a>(prompt: &'a str) -> BuildRequest<'a> {
    BuildRequest {
        project_id: "demo-small",
        user_id: None,
        prompt,
    }
}

fn engine(flags: Flags, clock: Clock) -> ContextEngine {
    ContextEngine::new(
        flags,
        EngineOptions {
            ttl: DEFAULT_TTL,
            shadow_rate: 0.0,
            persist_snapshots: true,
            clock,
        },
    )
}

/// What an edit needs, independent of how the context was built: the scene list
/// (id, name, position), the preferences, the image order and the target's code.
type Essentials = (
    Vec<(String, String, i64)>,
    Vec<(String, String)>,
    Vec<String>,
    Option<String>,
);

/// What an edit needs, independent of how the context was built.
fn essentials(c: &Context) -> Essentials {
    (
        c.scene_list
            .iter()
            .map(|s| (s.id.clone(), s.name.clone(), s.duration_frames))
            .collect(),
        c.preferences
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect(),
        c.images.iter().map(|i| i.id.clone()).collect(),
        c.target_scene_id.clone(),
    )
}

fn target_code(c: &Context) -> Option<String> {
    let id = c.target_scene_id.as_ref()?;
    c.scenes_in_full
        .iter()
        .find(|s| &s.id == id)
        .map(|s| s.code.clone())
}

#[test]
fn every_flag_combination_carries_what_the_edit_needs() {
    let (_d, mut store) = seeded();
    // A preference memory has not learned yet (tests/it/learning.rs): none may be lost.
    crate::learning::state_a_preference_memory_lacks(&mut store, "demo-small");
    let prompt = "make the title blue in scene 2";
    let scene2 = store.list_scenes("demo-small").unwrap()[1].clone();
    for flags in Flags::all_combinations() {
        let mut e = engine(flags, Clock::System);
        // twice: the second may be served from the cache
        for round in 0..2 {
            let built = e.build(&store, &req(prompt)).unwrap();
            let fresh = ContextEngine::fresh(&store, &req(prompt), flags).unwrap();
            assert_eq!(
                essentials(&built.context),
                essentials(&fresh.context),
                "{flags} round {round}"
            );
            assert!(
                built.context.same_content(&fresh.context) || flags.is_legacy(),
                "{flags} round {round}"
            );
            assert_eq!(
                built.context.target_scene_id.as_deref(),
                Some(scene2.id.as_str()),
                "{flags}"
            );
            assert_eq!(
                target_code(&built.context).as_deref(),
                Some(scene2.tsx_code.as_str()),
                "{flags}"
            );
            assert_eq!(built.context.scene_list.len(), 5);
            let what = format!("{flags} round {round}");
            crate::learning::assert_nothing_lost(&store, "demo-small", &built.context, &what);
            if round == 1 && flags.cache {
                assert_eq!(built.stats.path, BuildPath::CacheHit, "{flags}");
            }
        }
    }
}

#[test]
fn relevant_gives_the_target_and_the_two_most_recent_in_full() {
    let (_d, mut store) = seeded();
    let scenes = store.list_scenes("demo-small").unwrap();
    // make scenes 4 and 5 the most recent
    for s in &scenes[3..5] {
        store
            .write(|w| w.update_scene_code(&s.id, &s.tsx_code, s.duration_frames))
            .unwrap();
    }
    let mut e = engine(Flags::OPTIMIZED, Clock::System);
    let built = e
        .build(&store, &req("change the headline of scene 1"))
        .unwrap();
    let full: Vec<(&str, FullReason)> = built
        .context
        .scenes_in_full
        .iter()
        .map(|s| (s.id.as_str(), s.reason))
        .collect();
    assert_eq!(full.len(), 3, "{full:?}");
    assert_eq!(full[0], (scenes[0].id.as_str(), FullReason::Target));
    let recent: Vec<&str> = full[1..].iter().map(|f| f.0).collect();
    assert!(recent.contains(&scenes[3].id.as_str()) && recent.contains(&scenes[4].id.as_str()));
    let legacy = engine(Flags::LEGACY, Clock::System)
        .build(&store, &req("change the headline of scene 1"))
        .unwrap();
    assert_eq!(legacy.context.scenes_in_full.len(), 5);
    assert!(
        built.context.tokens.sections["scenes_in_full"]
            < legacy.context.tokens.sections["scenes_in_full"]
    );
}

#[test]
fn cache_entries_expire_after_the_ttl() {
    let (_d, store) = seeded();
    let clock = Clock::manual(1_000_000);
    let mut e = engine(Flags::parse("cache", Flags::LEGACY).unwrap(), clock.clone());
    assert_eq!(
        e.build(&store, &req("")).unwrap().stats.path,
        BuildPath::Fresh
    );
    clock.advance(Duration::from_secs(299));
    assert_eq!(
        e.build(&store, &req("")).unwrap().stats.path,
        BuildPath::CacheHit
    );
    clock.advance(Duration::from_secs(2));
    let built = e.build(&store, &req("")).unwrap();
    assert_eq!(built.stats.path, BuildPath::Fresh);
    assert_eq!(built.stats.cache.invalidations, 1);
    assert!(built.stats.events.iter().any(
        |ev| matches!(ev, EngineEvent::CacheInvalidated { reason } if reason.contains("ttl"))
    ));
}

#[test]
fn a_new_engine_is_served_warm_from_the_persisted_snapshot() {
    let (_d, store) = seeded();
    let flags = Flags::OPTIMIZED;
    let first = engine(flags, Clock::System)
        .build(&store, &req("scene 2"))
        .unwrap();
    assert_eq!(first.stats.path, BuildPath::Fresh);
    let second = engine(flags, Clock::System)
        .build(&store, &req("scene 2"))
        .unwrap();
    assert_eq!(second.stats.path, BuildPath::CacheHit);
    assert_eq!(second.stats.cache_level.as_deref(), Some("sqlite"));
    assert!(second.context.same_content(&first.context));
}

/// How many kinds of write `write_kind` makes.
const WRITE_KINDS: usize = 11;

/// One write of each kind that can change a context.
fn write_kind(store: &mut Store, kind: usize, n: usize) -> &'static str {
    let scenes = store.list_scenes("demo-small").unwrap();
    match kind {
        0 => {
            let s = &scenes[n % scenes.len()];
            let code = s.tsx_code.replace(
                "useCurrentFrame()",
                &format!("useCurrentFrame() /* v{n} */"),
            );
            store
                .write(|w| w.update_scene_code(&s.id, &code, s.duration_frames + 1))
                .unwrap();
            "scene code"
        }
        1 => {
            let mut s: Scene = scenes[0].clone();
            s.id = format!("new-{n}");
            s.name = format!("Added {n}");
            s.ord = 1000 + n as i64;
            s.updated_at = editscope::util::now_ms();
            store.write(|w| w.upsert_scene(&s)).unwrap();
            "new scene"
        }
        2 => {
            let w = MemoryWrite {
                project_id: "demo-small".into(),
                memory_type: MemoryType::UserPreference,
                key: format!("pref_{}", n % 3),
                value: format!("value {n}"),
                confidence: 0.9,
                source_prompt: "test".into(),
                learned_at: None,
            };
            store.write(|tx| tx.upsert_memory(&w)).unwrap();
            "preference"
        }
        3 => {
            store
                .write(|w| {
                    w.add_image_analysis(&ImageAnalysis {
                        id: format!("img-{n}"),
                        project_id: "demo-small".into(),
                        trace_id: "t".into(),
                        image_urls: vec![format!("https://x/{n}.png")],
                        palette: serde_json::json!(["#112233"]),
                        typography: "Inter".into(),
                        mood: "calm".into(),
                        layout: serde_json::json!({}),
                        processing_time_ms: 5,
                        created_at: editscope::util::now_ms() + n as i64,
                    })
                })
                .unwrap();
            "image"
        }
        4 => {
            store
                .write(|w| {
                    w.add_message(&Message {
                        id: format!("msg-{n}"),
                        project_id: "demo-small".into(),
                        role: "user".into(),
                        content: format!(
                            "Please use our brand color #{:06X} everywhere.",
                            n * 4099 % 0xFFFFFF
                        ),
                        image_urls: vec![],
                        created_at: editscope::util::now_ms() + n as i64,
                    })
                })
                .unwrap();
            "message"
        }
        5 => {
            if scenes.len() > 2 {
                let s = &scenes[scenes.len() - 1];
                store.write(|w| w.delete_scene(&s.id).map(|_| ())).unwrap();
            }
            "scene delete"
        }
        6 => {
            let prefs = store
                .list_memory("demo-small", Some(MemoryType::UserPreference))
                .unwrap();
            if let Some(p) = prefs.get(n % prefs.len().max(1)) {
                let key = p.key.clone();
                store
                    .write(|w| {
                        w.forget_memory("demo-small", MemoryType::UserPreference, &key)
                            .map(|_| ())
                    })
                    .unwrap();
            }
            "forget"
        }
        7 => {
            store
                .write(|w| w.update_project_title("demo-small", &format!("Title {n}")))
                .unwrap();
            "title"
        }
        8 => {
            // Same order number as the second scene and an id that sorts first: the new scene
            // lands between the first two, and every later scene moves down one position.
            let mut s: Scene = scenes[0].clone();
            s.id = format!("demo-small-mid-{n}");
            s.name = format!("Inserted {n}");
            s.ord = scenes.get(1).map_or(scenes[0].ord, |next| next.ord);
            s.updated_at = editscope::util::now_ms();
            store.write(|w| w.upsert_scene(&s)).unwrap();
            "scene inserted mid-list"
        }
        9 => {
            // Deleting the first scene moves every other scene up one position.
            if scenes.len() > 2 {
                store
                    .write(|w| w.delete_scene(&scenes[0].id).map(|_| ()))
                    .unwrap();
            }
            "first scene delete"
        }
        10 => {
            let mut s: Scene = scenes[n % scenes.len()].clone();
            s.name = format!("Renamed {n}");
            s.updated_at = editscope::util::now_ms();
            store.write(|w| w.upsert_scene(&s)).unwrap();
            "scene rename"
        }
        _ => panic!("no write of kind {kind}"),
    }
}

#[test]
fn each_kind_of_write_invalidates_or_updates_the_cached_context() {
    // Without `relevant` every scene is in full, which the incremental update keeps in step
    // on its own path.
    for (incremental, relevant) in [(false, true), (true, true), (true, false)] {
        let (_d, mut store) = seeded();
        let mut flags = Flags::OPTIMIZED;
        flags.incremental = incremental;
        flags.relevant = relevant;
        let mut e = engine(flags, Clock::System);
        e.build(&store, &req("scene 1")).unwrap();
        for kind in 0..WRITE_KINDS {
            let what = write_kind(&mut store, kind, kind);
            let built = e.build(&store, &req("scene 1")).unwrap();
            assert_ne!(
                built.stats.path,
                BuildPath::CacheHit,
                "{what}: a stale context was served"
            );
            let fresh = ContextEngine::fresh(&store, &req("scene 1"), flags).unwrap();
            assert!(
                built.context.same_content(&fresh.context),
                "{what} (incremental {incremental}, relevant {relevant}): {:?}",
                diff(&fresh.context, &built.context).unified
            );
            if incremental && what != "title" {
                assert_eq!(built.stats.path, BuildPath::Incremental, "{what}");
            }
            assert_eq!(
                e.build(&store, &req("scene 1")).unwrap().stats.path,
                BuildPath::CacheHit
            );
        }
    }
}

#[test]
fn shadow_verification_detects_a_corrupted_cache_entry_and_serves_fresh() {
    let (_d, store) = seeded();
    let mut e = engine(Flags::OPTIMIZED, Clock::System);
    e.set_shadow_rate(1.0);
    let first = e.build(&store, &req("scene 2")).unwrap();
    let key = CacheKey {
        project_id: "demo-small".into(),
        user_id: store.get_project("demo-small").unwrap().user_id,
        variant: Flags::OPTIMIZED.content_variant(),
    };
    let mut corrupted = (*e.optimized().peek(&store, &key).unwrap()).clone();
    std::sync::Arc::make_mut(&mut corrupted.context.preferences).insert(
        "brand_color".into(),
        PreferenceItem {
            value: "#BADBAD".into(),
            confidence: 1.0,
        },
    );
    e.optimized().plant(&key, corrupted);
    let built = e.build(&store, &req("scene 2")).unwrap();
    assert_eq!(built.stats.cache.shadow_mismatches, 1);
    assert!(built.stats.events.iter().any(|ev| matches!(ev, EngineEvent::ShadowMismatch { sections, .. } if sections.contains(&"preferences".to_string()))));
    assert_eq!(built.stats.path, BuildPath::Fresh);
    assert!(built.context.same_content(&first.context));
    // and the cache now holds the good one
    let again = e.build(&store, &req("scene 2")).unwrap();
    assert_eq!(again.stats.path, BuildPath::CacheHit);
    assert_eq!(again.stats.cache.shadow_mismatches, 1);
}

#[test]
fn the_diff_between_builds_names_what_changed() {
    let (_d, mut store) = seeded();
    let mut e = engine(Flags::OPTIMIZED, Clock::System);
    let (_, none) = e.build_and_diff(&store, &req("scene 1")).unwrap();
    assert!(none.is_none());
    write_kind(&mut store, 1, 7);
    write_kind(&mut store, 2, 8);
    let (_, d) = e.build_and_diff(&store, &req("scene 1")).unwrap();
    let d = d.unwrap();
    assert!(
        d.changed_sections.contains(&"scene_list".to_string()),
        "{:?}",
        d.changed_sections
    );
    assert_eq!(d.scenes_added, vec!["new-7".to_string()]);
    assert!(
        d.preferences
            .iter()
            .any(|p| p.key == "pref_2" && p.after.as_deref() == Some("value 8"))
    );
    assert!(d.unified.contains("+") && d.lines_added > 0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]
    #[test]
    fn served_contexts_always_equal_a_fresh_build(
        ops in proptest::collection::vec((0..=WRITE_KINDS, 0usize..4), 1..14),
        relevant in any::<bool>(),
    ) {
        let (_d, mut store) = seeded();
        // Without `relevant` every scene is in full, kept in step on a path of its own.
        let flags = Flags { relevant, ..Flags::OPTIMIZED };
        let mut e = engine(flags, Clock::System);
        let prompts = ["scene 1", "make the last scene shorter", "change the intro", ""];
        for (i, (op, p)) in ops.into_iter().enumerate() {
            // op == WRITE_KINDS: a build with no write before it.
            if op < WRITE_KINDS {
                write_kind(&mut store, op, i + 100);
            }
            let built = e.build(&store, &req(prompts[p])).unwrap();
            let fresh = ContextEngine::fresh(&store, &req(prompts[p]), flags).unwrap();
            prop_assert!(built.context.same_content(&fresh.context),
                "step {} path {:?}: {}", i, built.stats.path, diff(&fresh.context, &built.context).unified);
        }
    }
}
