//! The library's unit tests: one module per source file they test.
//!
//! They live here rather than in `#[cfg(test)]` modules under `src/` so that a test run compiles
//! the library once. With unit tests in `src/`, `cargo test` (and `cargo build --all-targets`)
//! compiles the whole library a second time as its own test harness, which on a 2-core CI
//! machine cost as much as the library itself. What they reach is `pub`, some of it
//! `#[doc(hidden)]` where it is an internal seam rather than API.

mod analysis;
mod analysis_check;
mod analysis_colors;
mod analysis_extract;
mod analysis_values;
mod context_diff;
mod context_flags;
mod context_prefs;
mod context_target;
mod context_tokens;
mod editfmt;
mod export;
mod generate_rng;
mod llm_anthropic;
mod llm_http;
mod llm_openai;
mod llm_semconv;
mod llm_wire;
mod metrics_tui_bench;
mod offline_edit;
mod offline_latency;
mod offline_new_scene;
mod offline_patch;
mod offline_retime;
mod offline_words;
mod pipeline_divergence;
mod resolve;
mod store_pg;
mod tui_format;
mod tui_keys;
mod tui_panels_stages;
mod tui_stats;
