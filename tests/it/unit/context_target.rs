//! Unit tests of `editscope::context::target`: resolving a request's target scene.

use editscope::context::model::SceneListEntry;
use editscope::context::target::{TargetMatch, resolve};

fn scenes() -> Vec<SceneListEntry> {
    ["Intro", "Feature: Realtime sync", "Pricing", "Outro"]
        .iter()
        .enumerate()
        .map(|(i, n)| SceneListEntry {
            id: format!("s{}", i + 1),
            name: n.to_string(),
            position: i + 1,
            duration_frames: 90,
            updated_at: i as i64,
            ord: i as i64,
        })
        .collect()
}

#[test]
fn resolves_positions_names_and_fallbacks() {
    let s = scenes();
    assert_eq!(
        resolve("make the title blue in scene 2", &s, None).scene_id(),
        Some("s2")
    );
    assert_eq!(
        resolve("the second scene is slow", &s, None).scene_id(),
        Some("s2")
    );
    assert_eq!(
        resolve("shorten the last scene", &s, None).scene_id(),
        Some("s4")
    );
    assert_eq!(resolve("fix the intro", &s, None).scene_id(), Some("s1"));
    assert_eq!(
        resolve("the pricing scene needs a logo", &s, None).scene_id(),
        Some("s3")
    );
    assert_eq!(
        resolve("make it bigger", &s, Some("s3")).scene_id(),
        Some("s3")
    );
    assert_eq!(
        resolve("scene 42 please", &s, None),
        TargetMatch::Missing {
            asked: 42,
            available: 4
        }
    );
    assert_eq!(resolve("make it pop", &s, None), TargetMatch::None);
}
