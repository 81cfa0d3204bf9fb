//! Two oracles beside the property test: real edits through the pipeline (offline backend, no
//! simulated waiting), each followed by a check of the served context against a fresh build;
//! and the essentials of a context (target code, preferences, scene list, image order, style)
//! computed in the test straight from the store's rows, then checked against both builders,
//! without going through the assembly code they share (`context/sections.rs`, `base.rs`).

use std::collections::BTreeMap;

use editscope::analysis;
use editscope::context::*;
use editscope::fixtures;
use editscope::llm::offline::OfflineBackend;
use editscope::pipeline::{Outcome, Pipeline};
use editscope::store::Store;
use tokio_util::sync::CancellationToken;

use crate::writes::{PROJECT, WRITE_KINDS, Write, apply_batch};

fn seeded() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("o.db")).unwrap();
    let small = fixtures::parse("small", fixtures::DEMO_SMALL).unwrap();
    fixtures::import(&mut store, "small", &small).unwrap();
    (dir, store)
}

fn req(prompt: &str) -> BuildRequest<'_> {
    BuildRequest {
        project_id: PROJECT,
        user_id: None,
        prompt,
    }
}

/// The lazy-off fresh build of `prompt` ([`crate::writes::reference`]).
fn reference(store: &Store, prompt: &str, flags: Flags) -> Context {
    crate::writes::reference(store, &req(prompt), flags)
}

/// Edits of every tool the offline backend has, preferences stated on the way, "it" after an
/// edit, and a request that needs a clarification.
const EDITS: [&str; 12] = [
    "make the title red in scene 3",
    "I want the brand color #7C3AED everywhere. Make the intro title bigger",
    "make it 90 frames",
    "add a new scene after scene 2 called Roadmap, 4 seconds",
    "delete scene 4",
    "in the first scene, use Poppins for the title",
    "add a scene about our pricing plans",
    "Keep the tone calm. Make the last scene's background dark navy",
    "make scene 42 blue",
    "trim scene 3 to 2 seconds",
    "remove the outro",
    "change the headline of the second scene to 'Ship faster'",
];

#[tokio::test]
async fn the_context_served_after_each_real_edit_equals_a_fresh_build() {
    for flags in [
        Flags::OPTIMIZED,
        Flags {
            relevant: false,
            ..Flags::OPTIMIZED
        },
    ] {
        let (_d, store) = seeded();
        let engine = ContextEngine::new(flags, EngineOptions::default());
        let mut pipeline = Pipeline::new(store, engine, Box::new(OfflineBackend::new(0.0)));
        let (events, _keep) = tokio::sync::mpsc::unbounded_channel();
        let cancel = CancellationToken::new();
        let mut applied = 0;
        for (i, prompt) in EDITS.into_iter().enumerate() {
            let before = pipeline.store.project_revision(PROJECT).unwrap();
            let result = pipeline.run_edit(PROJECT, prompt, &events, &cancel).await;
            assert_ne!(
                result.outcome,
                Outcome::Failed,
                "{prompt}: {:?}",
                result.error
            );
            if result.outcome == Outcome::Applied {
                applied += 1;
                assert!(
                    pipeline.store.project_revision(PROJECT).unwrap() > before,
                    "{prompt}: applied but nothing written"
                );
            }
            // The next request, as the pipeline's own engine serves it, for a few prompts.
            for next in [EDITS[(i + 1) % EDITS.len()], "make it bigger", ""] {
                let built = pipeline.engine.build(&pipeline.store, &req(next)).unwrap();
                let fresh = reference(&pipeline.store, next, flags);
                assert!(
                    built.context.same_content(&fresh),
                    "{flags}, after {prompt:?}, for {next:?} ({:?}): {:?}\n{}",
                    built.stats.path,
                    built.context.differing_sections(&fresh),
                    diff(&fresh, &built.context).unified
                );
            }
        }
        assert!(applied >= 9, "{flags}: only {applied} edits applied");
    }
}

// ---------------------------------------------------------------------------------------------
// The essentials, from the rows

/// What an edit cannot do without, as read from the store's tables.
#[derive(Debug, PartialEq)]
struct Essentials {
    /// (id, name, duration) in video order.
    scene_list: Vec<(String, String, i64)>,
    /// The target's id and code.
    target: Option<(String, String)>,
    /// Image ids in upload order.
    images: Vec<String>,
    style: StyleSection,
}

struct SceneRow {
    id: String,
    name: String,
    code: String,
    duration: i64,
    updated_at: i64,
}

fn scene_rows(store: &Store) -> Vec<SceneRow> {
    let mut stmt = store
        .connection()
        .unwrap()
        .prepare(
            "SELECT id, name, tsx_code, duration_frames, updated_at FROM scenes
             WHERE project_id = ?1 ORDER BY ord, id",
        )
        .unwrap();
    stmt.query_map([PROJECT], |r| {
        Ok(SceneRow {
            id: r.get(0)?,
            name: r.get(1)?,
            code: r.get(2)?,
            duration: r.get(3)?,
            updated_at: r.get(4)?,
        })
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn image_ids(store: &Store) -> Vec<String> {
    let mut stmt = store
        .connection()
        .unwrap()
        .prepare("SELECT id FROM image_analyses WHERE project_id = ?1 ORDER BY created_at, id")
        .unwrap();
    stmt.query_map([PROJECT], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn stored_preferences(store: &Store) -> BTreeMap<String, String> {
    let mut stmt = store
        .connection()
        .unwrap()
        .prepare(
            "SELECT key, value FROM project_memory
             WHERE project_id = ?1 AND memory_type = 'USER_PREFERENCE'",
        )
        .unwrap();
    stmt.query_map([PROJECT], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The style section by its definition: over the given scenes' analyses, how many scenes use
/// each color, font and element, most used first (ties by name), eight of each.
fn style_of(scenes: &[&SceneRow]) -> StyleSection {
    let mut colors: BTreeMap<String, usize> = BTreeMap::new();
    let mut fonts: BTreeMap<String, usize> = BTreeMap::new();
    let mut elements: BTreeMap<String, usize> = BTreeMap::new();
    for s in scenes {
        let a = analysis::analyse(&s.code);
        for c in a.colors {
            *colors.entry(c).or_default() += 1;
        }
        for f in a.font_families {
            *fonts.entry(f).or_default() += 1;
        }
        for e in a.elements.into_keys() {
            *elements.entry(e).or_default() += 1;
        }
    }
    let top = |m: BTreeMap<String, usize>| {
        let mut v: Vec<(String, usize)> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(8);
        v
    };
    let mut analysed: Vec<String> = scenes.iter().map(|s| s.id.clone()).collect();
    analysed.sort();
    StyleSection {
        colors: top(colors),
        fonts: top(fonts),
        common_elements: top(elements),
        analysed_scenes: analysed,
    }
}

/// The essentials for a request naming the scene at 1-based `position` ("... in scene N").
/// `recent_only`: the style covers the two most recently changed scenes (`relevant`), else all.
fn expected(store: &Store, position: usize, recent_only: bool) -> Essentials {
    let rows = scene_rows(store);
    let target = rows
        .get(position - 1)
        .map(|s| (s.id.clone(), s.code.clone()));
    let mut by_recency: Vec<(usize, &SceneRow)> = rows.iter().enumerate().collect();
    // Newest first; of two changed at the same time, the later in the video.
    by_recency.sort_by_key(|(i, s)| std::cmp::Reverse((s.updated_at, *i)));
    let styled: Vec<&SceneRow> = if recent_only {
        by_recency.iter().take(2).map(|(_, s)| *s).collect()
    } else {
        rows.iter().collect()
    };
    Essentials {
        scene_list: rows
            .iter()
            .map(|s| (s.id.clone(), s.name.clone(), s.duration))
            .collect(),
        target,
        images: image_ids(store),
        style: style_of(&styled),
    }
}

fn essentials_of(c: &Context) -> Essentials {
    let target = c.target_scene_id.as_ref().map(|id| {
        let code = c
            .scenes_in_full
            .iter()
            .find(|s| &s.id == id)
            .map(|s| s.code.clone())
            .unwrap_or_else(|| panic!("the target {id} is not given in full"));
        (id.clone(), code)
    });
    Essentials {
        scene_list: c
            .scene_list
            .iter()
            .map(|s| (s.id.clone(), s.name.clone(), s.duration_frames))
            .collect(),
        target,
        images: c.images.iter().map(|i| i.id.clone()).collect(),
        style: (*c.style).clone(),
    }
}

fn preferences_of(c: &Context) -> BTreeMap<String, String> {
    c.preferences
        .iter()
        .map(|(k, p)| (k.clone(), p.value.clone()))
        .collect()
}

fn check_against_rows(store: &Store, when: &str) {
    let position = 3;
    let prompt = "make the title red in scene 3";
    let legacy = ContextEngine::new(Flags::LEGACY, EngineOptions::default())
        .build(store, &req(prompt))
        .unwrap()
        .context;
    assert_eq!(
        essentials_of(&legacy),
        expected(store, position, false),
        "{when}: legacy"
    );
    for flags in [
        Flags::OPTIMIZED,
        Flags {
            relevant: false,
            ..Flags::OPTIMIZED
        },
        Flags {
            memory: false,
            ..Flags::OPTIMIZED
        },
    ] {
        // Twice: built, then served from the cache.
        let mut e = ContextEngine::new(flags, EngineOptions::default());
        for round in 0..2 {
            let optimized = e.build(store, &req(prompt)).unwrap().context;
            let what = format!("{when}: {flags}, round {round}");
            assert_eq!(
                essentials_of(&optimized),
                expected(store, position, flags.relevant),
                "{what}"
            );
            // The scene list, target and images are the legacy builder's too.
            let (o, l) = (essentials_of(&optimized), essentials_of(&legacy));
            assert_eq!(
                (o.scene_list, o.target, o.images),
                (l.scene_list, l.target, l.images),
                "{what}"
            );
            if flags.memory {
                assert_eq!(
                    preferences_of(&optimized),
                    stored_preferences(store),
                    "{what}"
                );
            } else {
                // Without memory, preferences are parsed from the messages, as legacy does.
                assert_eq!(
                    preferences_of(&optimized),
                    preferences_of(&legacy),
                    "{what}"
                );
            }
        }
    }
}

#[test]
fn the_essentials_of_both_builders_match_the_store_rows() {
    let (_d, mut store) = seeded();
    check_against_rows(&store, "as imported");
    // Every kind of write (but the import), twice, in batches of four.
    let writes: Vec<Write> = WRITE_KINDS
        .iter()
        .chain(WRITE_KINDS.iter())
        .filter(|k| **k != crate::writes::WriteKind::ImportReplace)
        .enumerate()
        .map(|(i, kind)| Write {
            kind: *kind,
            seq: 500 + i,
            pick: i * 7,
        })
        .collect();
    for (i, batch) in writes.chunks(4).enumerate() {
        apply_batch(&mut store, batch);
        check_against_rows(&store, &format!("after batch {i}"));
    }
}
