//! The offline latency model and its simulated provider prompt cache.

use std::sync::Mutex;
use std::time::{Duration, Instant};

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

/// Cached prefixes are counted in steps of this many tokens (OpenAI's rule).
pub const CACHE_STEP_TOKENS: u64 = 128;

/// How many recent prompts the cache compares a new one with.
const MAX_CACHED_PROMPTS: usize = 32;

/// A provider-style prompt cache, by OpenAI's rule: a prompt's cached tokens are the longest
/// prefix it shares with a prompt sent within [`CACHE_TTL`] (refreshed on every use), counted
/// from [`MIN_CACHED_PREFIX_TOKENS`] in steps of [`CACHE_STEP_TOKENS`]; not all or nothing, so
/// a change late in the prompt costs only the tokens after it.
#[derive(Debug)]
pub struct PromptCache {
    ttl: Duration,
    /// The token sequences of recent prompts and when each was last used.
    entries: Mutex<Vec<(Vec<u32>, Instant)>>,
}

/// A copy holds the same prompts with the same last-used times: a comparison run forked from
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

/// How many leading tokens two sequences share.
fn common_prefix(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

impl PromptCache {
    pub fn new(ttl: Duration) -> Self {
        PromptCache {
            ttl,
            entries: Mutex::new(Vec::new()),
        }
    }

    /// Prompts remembered now (at most `MAX_CACHED_PROMPTS`): the soak reports it.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records that a prompt of these tokens was sent at `now`; returns how many of its tokens
    /// the cache served: the longest prefix shared with a prompt sent within the TTL, rounded
    /// down to a step of 128, or 0 under 1,024.
    pub fn send(&self, prompt: &[u32], now: Instant) -> u64 {
        // A poisoned lock only means another call panicked mid-update; the list is still usable.
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let ttl = self.ttl;
        entries.retain(|(_, last)| now.saturating_duration_since(*last) < ttl);
        let best = entries
            .iter_mut()
            .map(|(tokens, last)| (common_prefix(tokens, prompt), last))
            .max_by_key(|(shared, _)| *shared);
        let mut shared = 0;
        if let Some((n, last)) = best
            && n as u64 >= MIN_CACHED_PREFIX_TOKENS
        {
            // The entry that served is used again: its lifetime starts over.
            *last = now;
            shared = n as u64;
        }
        match entries.iter_mut().find(|(tokens, _)| tokens == prompt) {
            Some((_, last)) => *last = now,
            None => {
                if entries.len() == MAX_CACHED_PROMPTS
                    && let Some(oldest) = entries
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, (_, last))| *last)
                        .map(|(i, _)| i)
                {
                    entries.swap_remove(oldest);
                }
                entries.push((prompt.to_vec(), now));
            }
        }
        if shared >= MIN_CACHED_PREFIX_TOKENS {
            shared / CACHE_STEP_TOKENS * CACHE_STEP_TOKENS
        } else {
            0
        }
    }
}
