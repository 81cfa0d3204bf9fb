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

#[test]
fn cache_hits_only_long_recent_prefixes() {
    let cache = PromptCache::new(Duration::from_secs(300));
    let t0 = Instant::now();
    assert!(
        !cache.send(&["sys", "long"], 2_000, t0),
        "first sight is a miss"
    );
    assert!(cache.send(&["sys", "long"], 2_000, t0 + Duration::from_secs(10)));
    assert!(!cache.send(&["sys", "other"], 2_000, t0 + Duration::from_secs(11)));
    assert!(!cache.send(&["sys", "short"], 10, t0));
    assert!(
        !cache.send(&["sys", "short"], 10, t0 + Duration::from_secs(1)),
        "under 1,024 tokens never hits"
    );
    // Not used for longer than the TTL: expired.
    assert!(!cache.send(&["sys", "long"], 2_000, t0 + Duration::from_secs(400)));
    // The boundary between parts matters: ("ab", "c") is not ("a", "bc").
    assert!(!cache.send(&["a", "bc"], 2_000, t0));
    assert!(!cache.send(&["ab", "c"], 2_000, t0));
}
