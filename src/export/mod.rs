//! Trace export of profiled edit runs (DESIGN.md section 7): the Chrome Trace Event Format
//! ([`chrome`], for Perfetto and chrome://tracing) and OpenTelemetry traces ([`otlp`]: OTLP/JSON
//! files and live OTLP/HTTP protobuf).
//!
//! Both read one [`RunTrace`] per run, made from a stored `edit_runs` row
//! ([`RunTrace::from_record`]) or from a run that just ended ([`RunTrace::from_result`]). The
//! row's JSON columns grew over time (the context build's `steps`, `model_calls`); every field
//! defaults, so rows written before them still export, with less detail.
//!
//! Layering: this sits above the pipeline (it reads its result and the store's records) and
//! below the command line.

pub mod chrome;
pub mod otlp;

use serde::{Deserialize, Serialize};

use crate::pipeline::EditResult;
use crate::store::EditRunRecord;

/// One stage of a run, as `edit_runs.stage_ms_json` keeps it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TracedStage {
    /// `context`, `tool_selection`, `code_edit`, `response` (see `pipeline::Stage`).
    pub name: String,
    pub real_ms: f64,
    /// Modeled time with the offline backend; `None` with a real one.
    pub simulated_ms: Option<f64>,
}

/// One sub-step of the context build (`cache_json.steps`), in the order it ran.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TracedStep {
    pub name: String,
    pub us: u64,
}

/// One model call (`tokens_json.model_calls`, the `model_calls` of `edit --json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TracedCall {
    pub stage: String,
    pub ttft_ms: f64,
    pub output_tokens_per_s: Option<f64>,
    pub input_tokens: u64,
    pub cached_tokens: u64,
    pub output_tokens: u64,
    pub usage_estimated: bool,
    pub simulated: bool,
    /// The model that answered, as the provider reported it.
    pub model: String,
}

impl TracedCall {
    /// How long the call took: time to first token plus the generation at its token rate; the
    /// first token alone when the rate is unknown.
    pub fn duration_ms(&self) -> f64 {
        let generation_ms = match self.output_tokens_per_s {
            Some(rate) if rate > 0.0 && rate.is_finite() => {
                self.output_tokens as f64 / rate * 1000.0
            }
            _ => 0.0,
        };
        finite_ms(self.ttft_ms) + generation_ms
    }
}

/// What a trace export needs of one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunTrace {
    /// The `edit_runs` row id; `None` for a run that recorded nothing (a cancelled one).
    pub run_id: Option<i64>,
    pub project_id: String,
    pub prompt: String,
    /// The context flags, as `Flags` displays them (`legacy`, `optimized`, `cache,memory`...).
    pub flags: String,
    pub tool: Option<String>,
    pub target_scene_id: Option<String>,
    pub outcome: String,
    pub error: Option<String>,
    pub comparison: bool,
    /// When the run started, in microseconds since the Unix epoch.
    pub started_at_us: i64,
    /// The row's `created_at` (ms), when there is a row.
    pub created_at_ms: Option<i64>,
    pub stages: Vec<TracedStage>,
    /// `fresh`, `cache_hit`, `incremental`, `legacy`.
    pub context_path: Option<String>,
    pub build_us: Option<u64>,
    pub steps: Vec<TracedStep>,
    pub model_calls: Vec<TracedCall>,
    /// The model client's name when known (`offline`, `openai:MODEL`); a stored row lacks it.
    pub backend: Option<String>,
}

/// The parts of `cache_json` an export reads; everything defaults (a failed run stores `{}`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CacheColumn {
    path: Option<String>,
    build_us: Option<u64>,
    steps: Vec<serde_json::Value>,
}

/// The parts of `tokens_json` an export reads.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokensColumn {
    model_calls: Vec<serde_json::Value>,
}

/// Each element that parses; one odd element does not cost the others.
fn lenient<T: serde::de::DeserializeOwned>(values: Vec<serde_json::Value>) -> Vec<T> {
    values
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect()
}

fn column<T: serde::de::DeserializeOwned + Default>(text: &str) -> T {
    serde_json::from_str(text).unwrap_or_default()
}

/// A duration that can be laid on a time axis: not negative, not NaN.
pub(crate) fn finite_ms(ms: f64) -> f64 {
    if ms.is_finite() && ms > 0.0 { ms } else { 0.0 }
}

fn total_real_us(stages: &[TracedStage]) -> i64 {
    stages
        .iter()
        .map(|s| (finite_ms(s.real_ms) * 1000.0).round() as i64)
        .sum()
}

impl RunTrace {
    /// A stored run. The row is written inside the response stage, so the stages it keeps end
    /// at its `created_at`: that fixes the run's start.
    pub fn from_record(record: &EditRunRecord) -> RunTrace {
        let stages: Vec<TracedStage> =
            lenient(column::<Vec<serde_json::Value>>(&record.stage_ms_json));
        let cache: CacheColumn = column(&record.cache_json);
        let tokens: TokensColumn = column(&record.tokens_json);
        let flags = serde_json::from_str::<crate::context::Flags>(&record.flags_json)
            .map(|f| f.to_string())
            .unwrap_or_else(|_| record.flags_json.clone());
        RunTrace {
            run_id: Some(record.id),
            project_id: record.project_id.clone(),
            prompt: record.prompt.clone(),
            flags,
            tool: record.tool.clone(),
            target_scene_id: record.target_scene_id.clone(),
            outcome: record.outcome.clone(),
            error: record.error.clone(),
            comparison: record.comparison,
            started_at_us: record.created_at * 1000 - total_real_us(&stages),
            created_at_ms: Some(record.created_at),
            stages,
            context_path: cache.path,
            build_us: cache.build_us,
            steps: lenient(cache.steps),
            model_calls: lenient(tokens.model_calls),
            backend: None,
        }
    }

    /// A run that just ended, with its row when it wrote one (the row has the context build's
    /// sub-steps, the result does not). The result's stages win: they include the response
    /// stage, which ends after the row is written. `backend` is the model client's name.
    pub fn from_result(
        result: &EditResult,
        record: Option<&EditRunRecord>,
        backend: Option<String>,
    ) -> RunTrace {
        let stages: Vec<TracedStage> = result
            .stages
            .iter()
            .map(|s| TracedStage {
                name: s.name.as_str().to_string(),
                real_ms: s.real_ms,
                simulated_ms: s.simulated_ms,
            })
            .collect();
        let model_calls = result
            .model_calls
            .iter()
            .map(|c| TracedCall {
                stage: c.stage.as_str().to_string(),
                ttft_ms: c.ttft_ms,
                output_tokens_per_s: c.output_tokens_per_s,
                input_tokens: c.input_tokens,
                cached_tokens: c.cached_tokens,
                output_tokens: c.output_tokens,
                usage_estimated: c.usage_estimated,
                simulated: c.simulated,
                model: c.model.clone(),
            })
            .collect();
        let mut trace = match record {
            Some(record) => RunTrace::from_record(record),
            None => RunTrace {
                run_id: result.run_id,
                project_id: result.project_id.clone(),
                prompt: result.prompt.clone(),
                flags: result.flags.clone(),
                tool: result.tool.clone(),
                target_scene_id: result.target_scene_id.clone(),
                outcome: result.outcome.as_str().to_string(),
                error: result.error.clone(),
                comparison: result.comparison,
                started_at_us: crate::util::now_ms() * 1000 - total_real_us(&stages),
                ..RunTrace::default()
            },
        };
        trace.stages = stages;
        trace.model_calls = model_calls;
        trace.context_path = result.context_path.clone().or(trace.context_path);
        trace.build_us = result.context_build_us.or(trace.build_us);
        trace.error = result.error.clone().or(trace.error);
        trace.backend = backend;
        trace
    }

    /// Wall-clock length of the run: its stages one after another.
    pub fn total_real_us(&self) -> i64 {
        total_real_us(&self.stages)
    }

    /// What identifies the run across exports (its trace id is derived from it): the same run
    /// exported twice, live and later from the database, is the same trace.
    pub fn identity(&self) -> String {
        match (self.run_id, self.created_at_ms) {
            (Some(id), Some(created)) => format!("{}/run/{id}/{created}", self.project_id),
            _ => format!("{}/unrecorded/{}", self.project_id, self.started_at_us),
        }
    }
}

/// The runs of a project to export, oldest first: the newest `limit` of them.
pub fn project_runs(
    store: &crate::store::Store,
    project_id: &str,
    limit: usize,
) -> Result<Vec<RunTrace>, crate::store::StoreError> {
    let mut runs: Vec<RunTrace> = store
        .list_edit_runs(project_id, limit)?
        .iter()
        .map(RunTrace::from_record)
        .collect();
    runs.reverse();
    Ok(runs)
}
