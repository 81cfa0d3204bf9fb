//! Unit tests of `editscope::llm::offline::{LatencyModel, PromptCache}`: model time, cache hits.

use std::time::{Duration, Instant};

use editscope::llm::offline::{LatencyModel, PromptCache};

#[test]
fn model_figures() {
    let m = LatencyModel::default();
    let t = m.timing(10_000, 0, 100);
    assert!((t.ttft_ms - 950.0).abs() < 1e-9);
    assert!((t.total_ms - 2_150.0).abs() < 1e-9);
    assert!(t.simulated);
    let cached = m.timing(10_000, 8_000, 100);
    assert!((cached.ttft_ms - (350.0 + 120.0 + 48.0)).abs() < 1e-9);
}

fn tokens(range: std::ops::Range<u32>) -> Vec<u32> {
    range.collect()
}

#[test]
fn the_cache_serves_the_longest_recent_common_prefix_in_steps_of_128() {
    let cache = PromptCache::new(Duration::from_secs(300));
    let t0 = Instant::now();
    let long = tokens(0..2_000);
    assert_eq!(cache.send(&long, t0), 0, "first sight is a miss");
    // The same prompt again: all of it that fits in whole steps.
    assert_eq!(cache.send(&long, t0 + Duration::from_secs(10)), 1_920);
    // Differs at token 1,500: the shared 1,500 are served as 1,408 (11 steps of 128).
    let mut changed = long.clone();
    changed[1_500] = 99_999;
    assert_eq!(cache.send(&changed, t0 + Duration::from_secs(11)), 1_408);
    // Differs at token 1,000: under 1,024 shared tokens, nothing is served.
    let mut early = long.clone();
    early[1_000] = 99_999;
    assert_eq!(cache.send(&early, t0 + Duration::from_secs(12)), 0);
    // Short prompts never hit.
    let short = tokens(0..500);
    cache.send(&short, t0);
    assert_eq!(cache.send(&short, t0 + Duration::from_secs(1)), 0);
    // Not used for longer than the TTL: expired.
    assert_eq!(cache.send(&long, t0 + Duration::from_secs(400)), 0);
}

#[test]
fn a_copy_of_the_cache_serves_what_the_original_would() {
    let cache = PromptCache::new(Duration::from_secs(300));
    let t0 = Instant::now();
    let long = tokens(0..3_000);
    cache.send(&long, t0);
    let copy = cache.clone();
    let later = t0 + Duration::from_secs(5);
    assert_eq!(copy.send(&long, later), cache.send(&long, later));
    assert_eq!(copy.send(&long, later), 2_944);
}
