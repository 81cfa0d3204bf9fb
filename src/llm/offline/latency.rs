//! The offline latency model and its simulated provider prompt cache.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::llm::CallTiming;

/// Modeled model time, in milliseconds at time scale 1:
///
/// ```text
/// time to first token = 350 ms
///                     + 0.06  ms × uncached input tokens
///                     + 0.006 ms × cached input tokens
/// generation          = 12 ms × output tokens          (≈ 83 tokens per second)
/// total               = time to first token + generation
/// ```
///
/// The figures are of the order hosted chat models show: a fixed overhead, prefill that grows
/// with the prompt (ten times cheaper for prompt-cached tokens), and steady decoding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyModel {
    pub base_ttft_ms: f64,
    pub uncached_input_ms_per_token: f64,
    pub cached_input_ms_per_token: f64,
    pub output_ms_per_token: f64,
}

impl Default for LatencyModel {
    fn default() -> Self {
        LatencyModel {
            base_ttft_ms: 350.0,
            uncached_input_ms_per_token: 0.06,
            cached_input_ms_per_token: 0.006,
            output_ms_per_token: 12.0,
        }
    }
}

impl LatencyModel {
    /// The modeled timing of a call (always marked `simulated`).
    pub fn timing(
        &self,
        input_tokens: u64,
        cached_input_tokens: u64,
        output_tokens: u64,
    ) -> CallTiming {
        let cached = cached_input_tokens.min(input_tokens);
        let uncached = input_tokens - cached;
        let ttft_ms = self.base_ttft_ms
            + self.uncached_input_ms_per_token * uncached as f64
            + self.cached_input_ms_per_token * cached as f64;
        CallTiming {
            ttft_ms,
            total_ms: ttft_ms + self.output_ms_per_token * output_tokens as f64,
            simulated: true,
        }
    }
}

/// Prompts shorter than this never hit a provider's prompt cache (OpenAI and Anthropic both
/// start at 1,024 tokens).
pub const MIN_CACHED_PREFIX_TOKENS: u64 = 1_024;

/// How long a cached prefix lives without being used again.
pub const CACHE_TTL: Duration = Duration::from_secs(5 * 60);

/// A provider-style prompt cache: remembers the stable prefixes (system + stable prefix) of
/// earlier calls for [`CACHE_TTL`], refreshed on every use.
#[derive(Debug)]
pub struct PromptCache {
    ttl: Duration,
    /// SHA-256 of a prefix -> when it was last sent.
    entries: Mutex<HashMap<[u8; 32], Instant>>,
}

/// A copy holds the same prefixes with the same last-sent times: a comparison run forked from
/// a backend sees exactly the hits that backend would.
impl Clone for PromptCache {
    fn clone(&self) -> Self {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        PromptCache {
            ttl: self.ttl,
            entries: Mutex::new(entries.clone()),
        }
    }
}

impl PromptCache {
    pub fn new(ttl: Duration) -> Self {
        PromptCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Records that `prefix` (of `prefix_tokens` tokens) was sent at `now`; returns whether it
    /// was served from the cache, i.e. it was sent within the TTL and is long enough.
    pub fn send(&self, prefix: &[&str], prefix_tokens: u64, now: Instant) -> bool {
        let mut hasher = Sha256::new();
        for part in prefix {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        let key: [u8; 32] = hasher.finalize().into();
        // A poisoned lock only means another call panicked mid-update; the map is still usable.
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let ttl = self.ttl;
        entries.retain(|_, last| now.saturating_duration_since(*last) < ttl);
        let seen = entries.insert(key, now).is_some();
        seen && prefix_tokens >= MIN_CACHED_PREFIX_TOKENS
    }
}
