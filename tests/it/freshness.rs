//! Every freshness rule of the context engine, each with a test that fails without it: what
//! `lazy` trusts of a stored analysis (confidence above the threshold, the hash of the current
//! code, this analyser's version), TTL and revision at both cache levels (in-process and the
//! SQLite snapshot), shadow verification catching a corrupted entry in each section at each
//! level, and a new process after a shadow mismatch being served the fresh context.

use std::sync::Arc;
use std::time::Duration;

use editscope::analysis::{self, ANALYSER_VERSION, SceneAnalysis};
use editscope::context::*;
use editscope::fixtures;
use editscope::memory::StoredSceneAnalysis;
use editscope::store::{MemoryType, MemoryWrite, Store};
use editscope::util::content_hash;

const PROJECT: &str = "demo-small";

use crate::backends::{Backend, TestDb};

fn seeded(backend: Backend) -> (TestDb, Store) {
    let dir = backend.fresh().expect("an available backend");
    let mut store = dir.open();
    let small = fixtures::parse("small", fixtures::DEMO_SMALL).unwrap();
    fixtures::import(&mut store, "small", &small).unwrap();
    (dir, store)
}

/// A second connection to the same store: what a new process sees.
fn reopen(store: &Store) -> Store {
    store.location().open().unwrap()
}

fn req(prompt: &str) -> BuildRequest<'_> {
    BuildRequest {
        project_id: PROJECT,
        user_id: None,
        prompt,
    }
}

fn engine(flags: Flags, clock: &Clock, persist: bool, shadow_rate: f64) -> ContextEngine {
    ContextEngine::new(
        flags,
        EngineOptions {
            ttl: DEFAULT_TTL,
            shadow_rate,
            persist_snapshots: persist,
            clock: clock.clone(),
        },
    )
}

fn key(store: &Store, flags: Flags) -> CacheKey {
    CacheKey {
        project_id: PROJECT.into(),
        user_id: store.get_project(PROJECT).unwrap().user_id,
        variant: flags.content_variant(),
    }
}

/// The lazy-off fresh build of `prompt` ([`crate::writes::reference`]).
fn reference(store: &Store, prompt: &str, flags: Flags) -> Context {
    crate::writes::reference(store, &req(prompt), flags)
}

fn assert_fresh(store: &Store, built: &Built, prompt: &str, what: &str) {
    let fresh = reference(store, prompt, built.stats.flags);
    assert!(
        built.context.same_content(&fresh),
        "{what}: served ({:?}) differs from a fresh build in {:?}:\n{}",
        built.stats.path,
        built.context.differing_sections(&fresh),
        diff(&fresh, &built.context).unified
    );
}

fn invalidated_because(built: &Built, why: &str) -> bool {
    built
        .stats
        .events
        .iter()
        .any(|ev| matches!(ev, EngineEvent::CacheInvalidated { reason } if reason.contains(why)))
}

fn set_preference(store: &mut Store, key: &str, value: &str) {
    let w = MemoryWrite {
        project_id: PROJECT.into(),
        memory_type: MemoryType::UserPreference,
        key: key.into(),
        value: value.into(),
        // Above every stored preference's confidence: the write always lands.
        confidence: 1.0,
        source_prompt: "freshness test".into(),
        learned_at: None,
    };
    store.write(|tx| tx.upsert_memory(&w)).unwrap();
}

// ---------------------------------------------------------------------------------------------
// lazy: what a stored analysis must be to be trusted

/// Stores `stored` as the analysis of `scene_id` by hand (as `memory set` does), replacing
/// whatever was there whatever its confidence.
fn plant_analysis(
    store: &mut Store,
    scene_id: &str,
    stored: &StoredSceneAnalysis,
    confidence: f64,
) {
    let value = serde_json::to_string(stored).unwrap();
    let w = MemoryWrite {
        project_id: PROJECT.into(),
        memory_type: MemoryType::SceneAnalysis,
        key: scene_id.into(),
        value: value.clone(),
        confidence,
        source_prompt: "set by hand".into(),
        learned_at: None,
    };
    store
        .write(|tx| {
            tx.forget_memory(PROJECT, MemoryType::SceneAnalysis, scene_id)?;
            tx.upsert_memory(&w)
        })
        .unwrap();
    let entry = store
        .get_memory(PROJECT, MemoryType::SceneAnalysis, scene_id)
        .unwrap()
        .unwrap();
    assert_eq!((entry.value, entry.confidence), (value, confidence));
}

/// An analysis that says something the code does not: trusted, it changes the style section.
fn bogus_analysis(code: &str) -> SceneAnalysis {
    SceneAnalysis {
        colors: vec!["#0BAD0B".into()],
        font_families: vec!["Bogus Sans".into()],
        ..analysis::analyse(code)
    }
}

#[test]
fn lazy_trusts_a_stored_analysis_only_when_confident_of_the_current_code_and_analyser() {
    crate::backends::each(|backend| {
        let (_d, mut store) = seeded(backend);
        let scene = store.list_scenes(PROJECT).unwrap()[0].clone();
        let other = store.list_scenes(PROJECT).unwrap()[1].tsx_code.clone();
        // Every scene in full, so every scene's analysis feeds the style section.
        let flags = Flags {
            relevant: false,
            ..Flags::OPTIMIZED
        }
        .fresh();
        let truth = reference(&store, "", flags);
        let stored = |hash: String, analyser_version: u32| StoredSceneAnalysis {
            content_hash: hash,
            analyser_version,
            analysis: serde_json::to_value(bogus_analysis(&scene.tsx_code)).unwrap(),
        };
        let hash = content_hash(&scene.tsx_code);
        let cases: [(&str, f64, StoredSceneAnalysis, bool); 7] = [
            // The control: an entry that passes every rule is used, so the planted entries are
            // read at all and the rules below are what keeps them out.
            (
                "confident, current, this analyser",
                0.95,
                stored(hash.clone(), ANALYSER_VERSION),
                true,
            ),
            (
                "just above the threshold",
                TRUST_CONFIDENCE + 0.01,
                stored(hash.clone(), ANALYSER_VERSION),
                true,
            ),
            (
                "at the threshold",
                TRUST_CONFIDENCE,
                stored(hash.clone(), ANALYSER_VERSION),
                false,
            ),
            (
                "below the threshold",
                0.5,
                stored(hash.clone(), ANALYSER_VERSION),
                false,
            ),
            (
                "of other code",
                0.95,
                stored(content_hash(&other), ANALYSER_VERSION),
                false,
            ),
            (
                "of an older analyser",
                0.95,
                stored(hash.clone(), ANALYSER_VERSION - 1),
                false,
            ),
            (
                "of a newer analyser",
                0.95,
                stored(hash.clone(), ANALYSER_VERSION + 1),
                false,
            ),
        ];
        for (i, (what, confidence, entry, trusted)) in cases.into_iter().enumerate() {
            plant_analysis(&mut store, &scene.id, &entry, confidence);
            let built = ContextEngine::fresh(&store, &req(""), flags).unwrap();
            if i == 0 {
                // Nothing else stored yet: the planted analysis reused, the four others computed.
                let s = &built.stats;
                assert_eq!((s.analyses_reused, s.analyses_computed), (1, 4), "{what}");
                assert!(
                    s.events
                        .iter()
                        .any(|ev| matches!(ev, EngineEvent::AnalysisComputed { scenes: 4 })),
                    "{:?}",
                    s.events
                );
            }
            if trusted {
                assert_ne!(built.context.style, truth.style, "{what}: not trusted");
                assert!(
                    built
                        .context
                        .style
                        .fonts
                        .iter()
                        .any(|(f, _)| f == "Bogus Sans"),
                    "{what}: {:?}",
                    built.context.style
                );
            } else {
                assert_eq!(
                    built.context.style, truth.style,
                    "{what}: an untrustworthy stored analysis was used"
                );
                assert!(built.context.same_content(&truth), "{what}");
            }
        }
    });
}

#[test]
fn a_cached_context_follows_a_stored_analysis_that_is_no_longer_trusted() {
    crate::backends::each(|backend| {
        // The incremental path re-reads a scene's analysis when its entry changes: the same rules
        // hold there (a delta of a hand-set analysis must not bring in an untrustworthy one).
        let (_d, mut store) = seeded(backend);
        let flags = Flags {
            relevant: false,
            ..Flags::OPTIMIZED
        };
        let mut e = engine(flags, &Clock::System, true, 0.0);
        e.build(&store, &req("")).unwrap();
        let scene = store.list_scenes(PROJECT).unwrap()[2].clone();
        let hash = content_hash(&scene.tsx_code);
        let analysis = serde_json::to_value(bogus_analysis(&scene.tsx_code)).unwrap();
        for (what, confidence, hash, version) in [
            ("below the threshold", 0.5, hash.clone(), ANALYSER_VERSION),
            (
                "at the threshold",
                TRUST_CONFIDENCE,
                hash.clone(),
                ANALYSER_VERSION,
            ),
            (
                "of other code",
                0.95,
                content_hash("other code"),
                ANALYSER_VERSION,
            ),
            (
                "of another analyser",
                0.95,
                hash.clone(),
                ANALYSER_VERSION + 1,
            ),
        ] {
            let entry = StoredSceneAnalysis {
                content_hash: hash,
                analyser_version: version,
                analysis: analysis.clone(),
            };
            plant_analysis(&mut store, &scene.id, &entry, confidence);
            let built = e.build(&store, &req("")).unwrap();
            assert_eq!(built.stats.path, BuildPath::Incremental, "{what}");
            assert_fresh(&store, &built, "", what);
        }
    });
}

/// The analyses a build computes are written behind it: one still waiting when an analysis is
/// set by hand must not be written over it (it replaces only the entry its build read).
#[test]
fn an_analysis_written_behind_a_build_never_replaces_one_set_since() {
    crate::backends::each(|backend| {
        let (_d, mut store) = seeded(backend);
        let flags = Flags {
            relevant: false,
            ..Flags::OPTIMIZED
        };
        let e = {
            let mut e = engine(flags, &Clock::System, true, 0.0);
            // Every scene is analysed: their analyses wait in the writer (it lets a burst settle).
            let built = e.build(&store, &req("")).unwrap();
            assert!(built.stats.analyses_computed > 0);
            e
        };
        let scene = store.list_scenes(PROJECT).unwrap()[2].clone();
        let by_hand = StoredSceneAnalysis {
            content_hash: content_hash(&scene.tsx_code),
            analyser_version: ANALYSER_VERSION,
            analysis: serde_json::to_value(bogus_analysis(&scene.tsx_code)).unwrap(),
        };
        plant_analysis(&mut store, &scene.id, &by_hand, 0.5);
        e.flush_snapshots();
        let now = store
            .get_memory(PROJECT, MemoryType::SceneAnalysis, &scene.id)
            .unwrap()
            .unwrap();
        assert_eq!(
            now.value,
            serde_json::to_string(&by_hand).unwrap(),
            "the analysis set by hand is kept"
        );
        assert_eq!(now.confidence, 0.5);
        // The others were stored.
        let other = &store.list_scenes(PROJECT).unwrap()[1];
        let stored = editscope::memory::scene_analysis(&store, PROJECT, &other.id).unwrap();
        assert!(stored.is_some(), "the build's other analyses were written");
    });
}

// ---------------------------------------------------------------------------------------------
// TTL at both levels

#[test]
fn the_in_process_cache_serves_an_entry_until_its_ttl_runs_out_and_not_at_it() {
    crate::backends::each(|backend| {
        let (_d, store) = seeded(backend);
        let clock = Clock::manual(1_000_000);
        // No second level: only the in-process entry can serve.
        let mut e = engine(Flags::OPTIMIZED, &clock, false, 0.0);
        assert_eq!(e.optimized().cache().ttl(), DEFAULT_TTL);
        let first = e.build(&store, &req("")).unwrap();
        assert_eq!(first.stats.path, BuildPath::Fresh);
        clock.advance(DEFAULT_TTL - Duration::from_millis(1));
        let hit = e.build(&store, &req("")).unwrap();
        // A hit reads a small part of what a build reads (the counts are this build's own), and
        // analyses nothing.
        assert!(
            hit.stats.rows_read * 2 < first.stats.rows_read,
            "{:?}",
            hit.stats
        );
        assert!(
            hit.stats.queries * 2 < first.stats.queries,
            "{:?}",
            hit.stats
        );
        assert!(
            !hit.stats
                .events
                .iter()
                .any(|ev| matches!(ev, EngineEvent::AnalysisComputed { .. })),
            "{:?}",
            hit.stats.events
        );
        assert_eq!(hit.stats.path, BuildPath::CacheHit);
        assert_eq!(hit.stats.cache_level.as_deref(), Some("memory"));
        clock.advance(Duration::from_millis(1));
        let built = e.build(&store, &req("")).unwrap();
        assert_eq!(built.stats.path, BuildPath::Fresh, "served at its TTL");
        assert!(invalidated_because(&built, "ttl"));
        let c = built.stats.cache;
        assert_eq!((c.hits, c.misses, c.invalidations), (1, 2, 1));
        assert_eq!(e.counters(), c);
        // A hit reads less than a build from the store, and both are counted.
        assert!(built.stats.queries > 0 && built.stats.rows_read > 0);
        assert!(
            hit.stats.rows_read < built.stats.rows_read,
            "{:?}",
            hit.stats
        );
    });
}

#[test]
fn a_persisted_snapshot_is_served_to_a_new_process_until_its_ttl_runs_out_and_not_at_it() {
    crate::backends::each(|backend| {
        let (_d, store) = seeded(backend);
        let clock = Clock::manual(1_000_000);
        engine(Flags::OPTIMIZED, &clock, true, 0.0)
            .build(&store, &req(""))
            .unwrap();
        clock.advance(DEFAULT_TTL - Duration::from_millis(1));
        let warm = engine(Flags::OPTIMIZED, &clock, true, 0.0)
            .build(&reopen(&store), &req(""))
            .unwrap();
        assert_eq!(warm.stats.path, BuildPath::CacheHit);
        assert_eq!(warm.stats.cache_level.as_deref(), Some("sqlite"));
        clock.advance(Duration::from_millis(1));
        let built = engine(Flags::OPTIMIZED, &clock, true, 0.0)
            .build(&reopen(&store), &req(""))
            .unwrap();
        assert_eq!(
            built.stats.path,
            BuildPath::Fresh,
            "an expired snapshot was served"
        );
        assert!(invalidated_because(&built, "ttl"));
    });
}

#[test]
fn an_incremental_update_does_not_make_a_cached_entry_younger_at_either_level() {
    crate::backends::each(|backend| {
        let (_d, mut store) = seeded(backend);
        let clock = Clock::manual(1_000_000);
        let mut e = engine(Flags::OPTIMIZED, &clock, true, 0.0);
        assert_eq!(
            e.build(&store, &req("")).unwrap().stats.path,
            BuildPath::Fresh
        );
        clock.advance(Duration::from_secs(200));
        set_preference(&mut store, "tone", "calm");
        let updated = e.build(&store, &req("")).unwrap();
        assert_eq!(updated.stats.path, BuildPath::Incremental);
        assert_eq!(updated.stats.cache.incremental_updates, 1);
        assert_eq!(updated.stats.deltas_applied, 1);
        // 300 s after the entry was built, 100 s after it was brought up to date.
        clock.advance(Duration::from_secs(100));
        let new_process = engine(Flags::OPTIMIZED, &clock, true, 0.0)
            .build(&reopen(&store), &req(""))
            .unwrap();
        assert_eq!(new_process.stats.path, BuildPath::Fresh, "the snapshot");
        let same_process = e.build(&store, &req("")).unwrap();
        assert_eq!(
            same_process.stats.path,
            BuildPath::Fresh,
            "the in-process entry"
        );
    });
}

// ---------------------------------------------------------------------------------------------
// Revision at both levels

#[test]
fn the_in_process_cache_serves_an_entry_only_at_the_revision_it_was_built_at() {
    crate::backends::each(|backend| {
        let (_d, mut store) = seeded(backend);
        let flags = Flags {
            incremental: false,
            ..Flags::OPTIMIZED
        };
        let mut e = engine(flags, &Clock::System, false, 0.0);
        e.build(&store, &req("scene 1")).unwrap();
        set_preference(&mut store, "brand_color", "#123456");
        let built = e.build(&store, &req("scene 1")).unwrap();
        assert_eq!(built.stats.path, BuildPath::Fresh);
        assert!(invalidated_because(&built, "revision"));
        assert_eq!(built.stats.cache.invalidations, 1);
        assert_fresh(&store, &built, "scene 1", "after a write");
        assert_eq!(built.context.preferences["brand_color"].value, "#123456");
    });
}

#[test]
fn a_new_process_is_never_served_a_snapshot_of_an_older_revision() {
    crate::backends::each(|backend| {
        for incremental in [false, true] {
            let (_d, mut store) = seeded(backend);
            let flags = Flags {
                incremental,
                ..Flags::OPTIMIZED
            };
            engine(flags, &Clock::System, true, 0.0)
                .build(&store, &req("scene 1"))
                .unwrap();
            set_preference(&mut store, "brand_color", "#123456");
            let store = reopen(&store);
            let built = engine(flags, &Clock::System, true, 0.0)
                .build(&store, &req("scene 1"))
                .unwrap();
            let expected = if incremental {
                BuildPath::Incremental
            } else {
                BuildPath::Fresh
            };
            assert_eq!(built.stats.path, expected, "incremental {incremental}");
            assert_eq!(
                built.stats.cache_level.as_deref(),
                incremental.then_some("sqlite")
            );
            assert_fresh(&store, &built, "scene 1", "a new process after a write");
            assert_eq!(built.context.preferences["brand_color"].value, "#123456");
        }
    });
}

#[test]
fn a_delta_log_that_no_longer_reaches_the_cached_revision_is_not_replayed() {
    crate::backends::each(|backend| {
        // The store keeps the last 2,000 deltas. A cached base older than that cannot be brought
        // forward from what is left: the change in the deltas that were dropped would be missed.
        let (_d, mut store) = seeded(backend);
        let mut e = engine(Flags::OPTIMIZED, &Clock::System, true, 0.0);
        e.build(&store, &req("")).unwrap();
        store
            .write(|w| {
                let mut write = |key: &str, value: String| {
                    w.upsert_memory(&MemoryWrite {
                        project_id: PROJECT.into(),
                        memory_type: MemoryType::UserPreference,
                        key: key.into(),
                        value,
                        confidence: 1.0,
                        source_prompt: "bulk".into(),
                        learned_at: None,
                    })
                    .map(|_| ())
                };
                write("brand_color", "#123456".into())?;
                for i in 0..2_050 {
                    write("counter", i.to_string())?;
                }
                Ok(())
            })
            .unwrap();
        let built = e.build(&store, &req("")).unwrap();
        assert_eq!(built.stats.path, BuildPath::Fresh);
        assert_eq!(built.stats.cache.invalidations, 1);
        assert_fresh(
            &store,
            &built,
            "",
            "after a delta log trimmed past the cache",
        );
        assert_eq!(built.context.preferences["brand_color"].value, "#123456");
    });
}

#[test]
fn a_cached_context_is_served_only_for_the_content_flags_it_was_built_with() {
    crate::backends::each(|backend| {
        // memory, lazy and relevant change what a context holds (lazy only through what it
        // trusts): an entry built with one setting is never served for the other, at either level.
        let (_d, store) = seeded(backend);
        let mut e = engine(Flags::OPTIMIZED, &Clock::System, true, 0.0);
        e.build(&store, &req("scene 1")).unwrap();
        for name in ["memory", "relevant", "lazy"] {
            let mut other = Flags::OPTIMIZED;
            other.set(name, false).unwrap();
            for (level, built) in [
                (
                    "memory",
                    e.build_with(&store, &req("scene 1"), other).unwrap(),
                ),
                (
                    "sqlite",
                    engine(other, &Clock::System, true, 0.0)
                        .build(&reopen(&store), &req("scene 1"))
                        .unwrap(),
                ),
            ] {
                assert_fresh(&store, &built, "scene 1", &format!("-{name}, {level}"));
            }
            // Built once for the other setting, the first entry still serves its own.
            let own = e.build(&store, &req("scene 1")).unwrap();
            assert_eq!(own.stats.path, BuildPath::CacheHit, "-{name}");
            assert_fresh(&store, &own, "scene 1", &format!("back from -{name}"));
        }
    });
}

#[test]
fn clearing_the_cache_drops_both_levels_of_that_project_only() {
    crate::backends::each(|backend| {
        let (_d, mut store) = seeded(backend);
        let other = fixtures::parse("medium", fixtures::DEMO_MEDIUM).unwrap();
        fixtures::import(&mut store, "medium", &other).unwrap();
        let other_req = BuildRequest {
            project_id: &other.project.id,
            user_id: None,
            prompt: "",
        };
        let mut e = engine(Flags::OPTIMIZED, &Clock::System, true, 0.0);
        e.build(&store, &req("")).unwrap();
        e.build(&store, &other_req).unwrap();
        e.optimized().cache().clear(&store, PROJECT).unwrap();
        assert_eq!(
            e.build(&store, &req("")).unwrap().stats.path,
            BuildPath::Fresh
        );
        e.optimized().cache().clear(&store, PROJECT).unwrap();
        let cleared = engine(Flags::OPTIMIZED, &Clock::System, true, 0.0)
            .build(&reopen(&store), &req(""))
            .unwrap();
        assert_eq!(
            cleared.stats.path,
            BuildPath::Fresh,
            "the snapshot was kept"
        );
        let kept = e.build(&store, &other_req).unwrap();
        assert_eq!(
            kept.stats.path,
            BuildPath::CacheHit,
            "another project's entry went too"
        );
    });
}

// ---------------------------------------------------------------------------------------------
// Shadow verification: a corrupted entry in any section, at either level

/// Every way a section can go stale, one per section. Each changes what the model sees (so it
/// is not a harmless difference) and leaves the token counts as they were, so that it is the
/// section's own comparison that must catch it.
fn corrupt(ctx: &mut Context, section: &str) {
    match section {
        "project" => ctx.project.title = "A stale title".into(),
        "preferences" => {
            Arc::make_mut(&mut ctx.preferences).insert(
                "brand_color".into(),
                PreferenceItem {
                    value: "#BADBAD".into(),
                    confidence: 1.0,
                },
            );
        }
        "style" => {
            let style = Arc::make_mut(&mut ctx.style);
            style.colors.insert(0, ("#BADBAD".into(), 99));
        }
        "scene_list" => {
            let first = ctx.scene_list.get_mut(0).unwrap();
            first.duration_frames += 1;
        }
        "relationships" => {
            Arc::make_mut(&mut ctx.relationships).insert("a->b".into(), "stale".into());
        }
        "images" => {
            // The upload order lost: "the second image" would resolve to another one.
            let images = Arc::make_mut(&mut ctx.images);
            images.reverse();
            for (i, img) in images.iter_mut().enumerate() {
                img.position = i + 1;
            }
        }
        "history" => {
            Arc::make_mut(&mut ctx.history).push(HistoryItem {
                scene_id: "demo-small-s0001".into(),
                operation: "edit".into(),
                prompt: "a change that never happened".into(),
            });
        }
        "conversation" => {
            Arc::make_mut(&mut ctx.conversation).pop();
        }
        "scenes_in_full" => {
            let first = ctx.scenes_in_full.get_mut(0).unwrap();
            first.code = first.code.replace("#", "#0");
        }
        other => panic!("no corruption for section {other}"),
    }
}

fn mismatch_sections(built: &Built) -> Vec<String> {
    built
        .stats
        .events
        .iter()
        .find_map(|ev| match ev {
            EngineEvent::ShadowMismatch { sections, .. } => Some(sections.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

const PROMPT: &str = "make the title red in scene 2";

#[test]
fn shadow_verification_catches_a_corrupted_in_process_entry_in_every_section() {
    crate::backends::each(|backend| {
        let (_d, store) = seeded(backend);
        for section in SECTION_NAMES {
            let mut e = engine(Flags::OPTIMIZED, &Clock::System, true, 1.0);
            // Fresh the first time, from the snapshot of the one before after that.
            let first = e.build(&store, &req(PROMPT)).unwrap();
            let checks = first.stats.cache.shadow_checks;
            assert_eq!(checks, u64::from(first.stats.path != BuildPath::Fresh));
            let key = key(&store, Flags::OPTIMIZED);
            let mut bad = (*e.optimized().peek(&store, &key).unwrap()).clone();
            corrupt(&mut bad.context, section);
            e.optimized().plant(&key, bad);
            let built = e.build(&store, &req(PROMPT)).unwrap();
            assert_eq!(built.stats.cache.shadow_mismatches, 1, "{section}");
            assert_eq!(mismatch_sections(&built), vec![section.to_string()]);
            assert_eq!(built.stats.path, BuildPath::Fresh, "{section}");
            assert_fresh(&store, &built, PROMPT, section);
            // The good base replaced the bad one in memory.
            let again = e.build(&store, &req(PROMPT)).unwrap();
            assert_eq!(again.stats.path, BuildPath::CacheHit, "{section}");
            assert_fresh(&store, &again, PROMPT, section);
            // Every reused context is checked at rate 1, and only those.
            let c = again.stats.cache;
            assert_eq!((c.shadow_checks, c.shadow_mismatches), (checks + 2, 1));
        }
    });
}

/// Rewrites the persisted snapshot of `flags` with `section` corrupted (revision and stamp kept,
/// so it is servable as is).
fn corrupt_snapshot(store: &Store, flags: Flags, section: &str) {
    let key = key(store, flags);
    let (revision, built_at, json) = store
        .get_snapshot(&key.project_id, &key.user_id, &key.variant)
        .unwrap()
        .expect("a persisted snapshot");
    // A snapshot row holds the base and the token counts that serving it needs.
    let mut row: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut base: BaseContext = serde_json::from_value(row["base"].take()).unwrap();
    corrupt(&mut base.context, section);
    row["base"] = serde_json::to_value(&base).unwrap();
    let json = serde_json::to_string(&row).unwrap();
    store
        .put_snapshot(
            &key.project_id,
            &key.user_id,
            &key.variant,
            revision,
            built_at,
            &json,
        )
        .unwrap();
}

#[test]
fn shadow_verification_catches_a_corrupted_snapshot_in_every_section() {
    crate::backends::each(|backend| {
        let (_d, store) = seeded(backend);
        let flags = Flags::OPTIMIZED;
        engine(flags, &Clock::System, true, 0.0)
            .build(&store, &req(PROMPT))
            .unwrap();
        for section in SECTION_NAMES {
            corrupt_snapshot(&store, flags, section);
            // A new process, checking every reused context.
            let mut e = engine(flags, &Clock::System, true, 1.0);
            let built = e.build(&store, &req(PROMPT)).unwrap();
            assert_eq!(
                built.stats.cache_level.as_deref(),
                Some("sqlite"),
                "{section}"
            );
            assert_eq!(built.stats.cache.shadow_mismatches, 1, "{section}");
            assert_eq!(mismatch_sections(&built), vec![section.to_string()]);
            assert_eq!(built.stats.path, BuildPath::Fresh, "{section}");
            assert_fresh(&store, &built, PROMPT, section);
        }
    });
}

#[test]
fn shadow_verification_catches_a_corrupted_entry_brought_forward_incrementally() {
    crate::backends::each(|backend| {
        let (_d, mut store) = seeded(backend);
        let mut e = engine(Flags::OPTIMIZED, &Clock::System, true, 1.0);
        e.build(&store, &req(PROMPT)).unwrap();
        let key = key(&store, Flags::OPTIMIZED);
        let mut bad = (*e.optimized().peek(&store, &key).unwrap()).clone();
        corrupt(&mut bad.context, "style");
        e.optimized().plant(&key, bad);
        set_preference(&mut store, "tone", "calm");
        let built = e.build(&store, &req(PROMPT)).unwrap();
        assert_eq!(mismatch_sections(&built), vec!["style".to_string()]);
        assert_eq!(built.stats.path, BuildPath::Fresh);
        assert_fresh(&store, &built, PROMPT, "incremental over a corrupted base");
    });
}

#[test]
fn shadow_verification_names_a_wrong_target() {
    crate::backends::each(|backend| {
        // "it" is the scene edited last; a base that remembers another one resolves another target.
        let (_d, mut store) = seeded(backend);
        let scenes = store.list_scenes(PROJECT).unwrap();
        let (edited, other) = (&scenes[3], &scenes[0]);
        store
            .write(|w| {
                w.add_iteration(&editscope::store::SceneIteration {
                    id: 0,
                    scene_id: edited.id.clone(),
                    project_id: PROJECT.into(),
                    prompt: "make the title red".into(),
                    operation: "edit".into(),
                    code_before: Some(edited.tsx_code.clone()),
                    code_after: Some(edited.tsx_code.clone()),
                    model: "offline".into(),
                    generation_ms: 1,
                    created_at: editscope::util::now_ms(),
                })
                .map(|_| ())
            })
            .unwrap();
        let prompt = "make it bigger";
        let mut e = engine(Flags::OPTIMIZED, &Clock::System, true, 1.0);
        let first = e.build(&store, &req(prompt)).unwrap();
        assert_eq!(
            first.context.target_scene_id.as_deref(),
            Some(edited.id.as_str())
        );
        let key = key(&store, Flags::OPTIMIZED);
        let mut bad = (*e.optimized().peek(&store, &key).unwrap()).clone();
        bad.last_edited = Some(other.id.clone());
        e.optimized().plant(&key, bad);
        let built = e.build(&store, &req(prompt)).unwrap();
        assert!(
            mismatch_sections(&built).contains(&"target".to_string()),
            "{:?}",
            mismatch_sections(&built)
        );
        assert_eq!(
            built.context.target_scene_id.as_deref(),
            Some(edited.id.as_str())
        );
        assert_fresh(&store, &built, prompt, "a wrong target");
    });
}

// ---------------------------------------------------------------------------------------------
// After a mismatch, a new process is served the fresh context (issue 11, item 3)

#[test]
fn a_new_process_after_a_shadow_mismatch_is_served_the_fresh_context() {
    crate::backends::each(|backend| {
        // The reused base that failed the check may come from either level, and be served as is or
        // brought forward from deltas: in each case, what a new process finds must be the fresh base.
        for (level, incremental_write) in [
            ("memory", false),
            ("memory", true),
            ("sqlite", false),
            ("sqlite", true),
        ] {
            let what = format!("{level}, incremental {incremental_write}");
            let (_d, mut store) = seeded(backend);
            let flags = Flags::OPTIMIZED;
            let mut checking = engine(flags, &Clock::System, true, 1.0);
            let first = checking.build(&store, &req(PROMPT)).unwrap();
            let key = key(&store, flags);
            if level == "memory" {
                let mut bad = (*checking.optimized().peek(&store, &key).unwrap()).clone();
                corrupt(&mut bad.context, "preferences");
                checking.optimized().plant(&key, bad);
            } else {
                // Snapshots are written behind the request: wait for this one.
                checking.flush_snapshots();
                corrupt_snapshot(&store, flags, "preferences");
                checking = engine(flags, &Clock::System, true, 1.0);
            }
            if incremental_write {
                set_preference(&mut store, "tone", "calm");
            }
            let checked = checking.build(&store, &req(PROMPT)).unwrap();
            assert_eq!(checked.stats.cache.shadow_mismatches, 1, "{what}");
            assert_fresh(&store, &checked, PROMPT, &what);
            if !incremental_write {
                assert!(checked.context.same_content(&first.context), "{what}");
            }

            // A new process: its own connection, an engine that checks nothing. The one before
            // has written its snapshots, as a process does when it ends.
            checking.flush_snapshots();
            let store = reopen(&store);
            let next = engine(flags, &Clock::System, true, 0.0)
                .build(&store, &req(PROMPT))
                .unwrap();
            assert_eq!(next.stats.path, BuildPath::CacheHit, "{what}");
            assert_eq!(next.stats.cache_level.as_deref(), Some("sqlite"), "{what}");
            assert_ne!(
                next.context.preferences["brand_color"].value, "#BADBAD",
                "{what}: the base that failed the check was served"
            );
            assert_fresh(&store, &next, PROMPT, &what);
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Context::same_content itself

/// A change to a context, for the table below.
type Change = fn(&mut Context);

#[test]
fn same_content_compares_every_section_and_ignores_only_the_revision() {
    crate::backends::each(|backend| {
        let (_d, store) = seeded(backend);
        let ctx = ContextEngine::fresh(&store, &req(PROMPT), Flags::OPTIMIZED)
            .unwrap()
            .context;
        assert!(ctx.differing_sections(&ctx.clone()).is_empty());
        let restamped = Context {
            revision: ctx.revision + 7,
            ..ctx.clone()
        };
        assert!(ctx.same_content(&restamped), "the revision is not content");

        for section in SECTION_NAMES {
            let mut bad = ctx.clone();
            corrupt(&mut bad, section);
            assert_eq!(
                bad.tokens, ctx.tokens,
                "{section}: the corruption must keep the counts"
            );
            assert!(!ctx.same_content(&bad), "{section}");
            assert!(!bad.same_content(&ctx), "{section}");
            assert_eq!(ctx.differing_sections(&bad), vec![section], "{section}");
        }

        // What the rendered text leaves out is content too: ids, order keys, the analysed scenes.
        let changes: [(&str, Change); 10] = [
            ("project", |c| c.project.user_id = "someone else".into()),
            ("scene_list", |c| c.scene_list.get_mut(1).unwrap().ord += 10),
            ("scene_list", |c| {
                c.scene_list.get_mut(1).unwrap().updated_at += 1
            }),
            ("style", |c| {
                Arc::make_mut(&mut c.style).analysed_scenes.push("x".into())
            }),
            ("images", |c| {
                Arc::make_mut(&mut c.images)[0].id = "img-x".into()
            }),
            ("scenes_in_full", |c| {
                c.scenes_in_full.get_mut(0).unwrap().reason = FullReason::All
            }),
            ("preferences", |c| {
                let prefs = Arc::make_mut(&mut c.preferences);
                prefs.get_mut("brand_color").unwrap().confidence = 0.1;
            }),
            ("target", |c| c.target_scene_id = None),
            ("style", |c| {
                *c.tokens.sections.get_mut("style").unwrap() += 1
            }),
            ("tokens", |c| c.tokens.total += 1),
        ];
        for (section, change) in changes {
            let mut bad = ctx.clone();
            change(&mut bad);
            assert_eq!(ctx.differing_sections(&bad), vec![section], "{section}");
            assert!(!ctx.same_content(&bad), "{section}");
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Derived memory is a cache fill: failing to store it never fails a build

#[test]
fn a_build_whose_analyses_cannot_be_stored_warns_and_serves_the_same_context() {
    crate::backends::each(|backend| {
        let (_d, mut store) = seeded(backend);
        // No stored analyses: a lazy build computes each scene's and tries to store it.
        for entry in store
            .list_memory(PROJECT, Some(MemoryType::SceneAnalysis))
            .unwrap()
        {
            store
                .write(|w| w.forget_memory(PROJECT, MemoryType::SceneAnalysis, &entry.key))
                .unwrap();
        }
        let flags = Flags::parse("memory,lazy,relevant", Flags::LEGACY).unwrap();
        let analyses = |s: &Store| {
            s.list_memory(PROJECT, Some(MemoryType::SceneAnalysis))
                .unwrap()
                .len()
        };
        // On a read-only connection every write fails.
        let read_only = Store::open_with(
            store.path(),
            editscope::store::OpenOptions {
                read_only: true,
                ..Default::default()
            },
        )
        .unwrap();
        let built = engine(flags, &Clock::System, false, 0.0)
            .build(&read_only, &req(PROMPT))
            .expect("a failed write of a derived analysis is not a failed build");
        assert!(built.stats.analyses_computed > 0);
        assert_eq!(analyses(&store), 0, "nothing could be stored");
        // The same build on a writable connection stores them (so the read-only one did try), and
        // serves the same context.
        let writable = engine(flags, &Clock::System, false, 0.0)
            .build(&store, &req(PROMPT))
            .unwrap();
        assert_eq!(analyses(&store), built.stats.analyses_computed);
        assert!(writable.context.same_content(&built.context));
    });
}
