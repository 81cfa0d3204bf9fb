//! Warnings: small rules over the state that judge what the numbers mean (tokio-console's lints
//! such as "task polled for too long"), listed beside the cache figures.

use super::format;
use super::state::AppState;
use super::stats::stage_time;
use crate::pipeline::{Outcome, Stage};

/// Builds with the cache on before a low hit rate is worth a warning.
const MIN_BUILDS_FOR_HIT_RATE: u64 = 5;
/// A stage this many times its median is an outlier.
const SLOW_STAGE_FACTOR: f64 = 3.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub severity: Severity,
    pub text: String,
}

/// Every warning that holds now, most severe first.
pub fn collect(state: &AppState) -> Vec<Warning> {
    let mut out = Vec::new();
    let counters = &state.cache.counters;
    if counters.shadow_mismatches > 0 || !state.cache.shadow_findings.is_empty() {
        let detail = state
            .cache
            .shadow_findings
            .last()
            .cloned()
            .unwrap_or_else(|| {
                format!(
                    "{} of {} checks differed",
                    counters.shadow_mismatches, counters.shadow_checks
                )
            });
        out.push(Warning {
            severity: Severity::Error,
            text: format!("shadow verification found a difference: {detail}"),
        });
    }
    if let Some(tokens) = state.cache.tokens
        && tokens > state.context_budget
    {
        out.push(Warning {
            severity: Severity::Warn,
            text: format!(
                "context larger than budget: {} > {}",
                format::tokens(tokens as u64),
                format::tokens(state.context_budget as u64)
            ),
        });
    }
    if let Some(last) = state.history.last()
        && last.outcome == Outcome::Failed
        && !last.cancelled()
    {
        out.push(Warning {
            severity: Severity::Error,
            text: format!(
                "last run failed: {}",
                last.error.as_deref().unwrap_or("unknown error")
            ),
        });
    }
    if let Some(last) = state.history.last()
        && let Some(error) = &last.error
        && error.contains(crate::llm::CONTEXT_WINDOW_REFUSAL)
    {
        out.push(Warning {
            severity: Severity::Warn,
            text: "prompt larger than the model's context window: not sent (raise \
                   --context-window if the model takes more, or use a smaller context)"
                .to_string(),
        });
    }
    let served = counters.hits + counters.incremental_updates;
    let builds = served + counters.misses;
    if state.flags.cache && builds >= MIN_BUILDS_FOR_HIT_RATE && counters.hit_rate() < 0.5 {
        out.push(Warning {
            severity: Severity::Warn,
            text: format!(
                "cache hit rate {} after {builds} builds",
                format::percent(counters.hit_rate())
            ),
        });
    }
    if let Some(last) = state.history.last() {
        for stage in Stage::ALL {
            let (Some(timing), Some((p50, _))) =
                (last.stage(stage), state.history.stage_quantile(stage, 0.5))
            else {
                continue;
            };
            let (ms, source) = stage_time(timing);
            if state.history.stage_count(stage) >= 5 && p50 > 0.0 && ms > p50 * SLOW_STAGE_FACTOR {
                out.push(Warning {
                    severity: Severity::Warn,
                    text: format!(
                        "{} took {} {} ({:.1}x its p50)",
                        stage.as_str(),
                        format::ms(ms),
                        source.label(),
                        ms / p50
                    ),
                });
            }
        }
    }
    out.sort_by_key(|w| std::cmp::Reverse(w.severity));
    out
}
