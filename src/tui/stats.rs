//! Run history and timing distributions: what the stages panel's sparkline, p50/p95 and
//! "compared with the previous run" figures are computed from.
//!
//! Each stage's time has a source. With the offline backend the model stages' time is modeled
//! (simulated); every other figure is the wall clock. The two are never added up unlabelled.

use std::collections::{BTreeMap, VecDeque};

use hdrhistogram::Histogram;

use crate::context::Flags;
use crate::pipeline::{EditResult, Outcome, RunTokens, Stage, StageTiming};

/// How many finished runs are kept for the sparkline and comparisons.
pub const HISTORY_CAPACITY: usize = 200;

/// Where a figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Measured on the wall clock.
    Real,
    /// Modeled by the offline backend's latency model.
    Simulated,
}

impl Source {
    pub fn label(self) -> &'static str {
        match self {
            Source::Real => "real",
            Source::Simulated => "sim",
        }
    }
}

/// The figure a stage is shown and compared by: the modeled time of a model stage when the
/// backend models it, else the wall-clock time.
pub fn stage_time(timing: &StageTiming) -> (f64, Source) {
    match timing.simulated_ms {
        Some(sim) if timing.name.is_model_stage() => (sim, Source::Simulated),
        _ => (timing.real_ms, Source::Real),
    }
}

/// A run that is over, as the history keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// The run's number in this session (`None` for runs read back from the database).
    pub run: Option<u64>,
    pub prompt: String,
    pub flags: Option<Flags>,
    pub outcome: Outcome,
    pub stages: Vec<StageTiming>,
    /// The stage that was running when the run failed or was cancelled.
    pub failed_stage: Option<Stage>,
    pub tokens: Option<RunTokens>,
    pub context_path: Option<String>,
    pub summary: String,
    pub error: Option<String>,
    pub target_scene_id: Option<String>,
    /// The tool the model chose, if any.
    pub tool: Option<String>,
    /// Each model call: time to first token, output rate, usage.
    pub model_calls: Vec<crate::pipeline::ModelCall>,
    /// A comparison run (the B of an A/B): a dry run on a scratch copy.
    pub comparison: bool,
    /// The project's revision when the run started.
    pub start_revision: Option<i64>,
}

impl RunSummary {
    pub fn from_result(run: u64, result: &EditResult, failed_stage: Option<Stage>) -> Self {
        RunSummary {
            run: Some(run),
            prompt: result.prompt.clone(),
            // The result names its flags the way `Flags` prints them, which parses back.
            flags: Flags::parse(&result.flags, Flags::LEGACY).ok(),
            outcome: result.outcome,
            stages: result.stages.clone(),
            failed_stage,
            tokens: Some(result.tokens),
            context_path: result.context_path.clone(),
            summary: result.summary.clone(),
            error: result.error.clone(),
            target_scene_id: result.target_scene_id.clone(),
            tool: result.tool.clone(),
            model_calls: result.model_calls.clone(),
            comparison: result.comparison,
            start_revision: result.start_revision,
        }
    }

    pub fn stage(&self, stage: Stage) -> Option<&StageTiming> {
        self.stages.iter().find(|s| s.name == stage)
    }

    /// Total of the shown stage figures, and whether any of them is modeled.
    pub fn total(&self) -> (f64, Source) {
        let mut total = 0.0;
        let mut source = Source::Real;
        for s in &self.stages {
            let (ms, src) = stage_time(s);
            total += ms;
            if src == Source::Simulated {
                source = Source::Simulated;
            }
        }
        (total, source)
    }

    /// "optimized", "legacy", a flag list, or "?" when unknown.
    pub fn flags_label(&self) -> String {
        self.flags
            .map(|f| f.to_string())
            .unwrap_or_else(|| "?".to_string())
    }

    pub fn cancelled(&self) -> bool {
        self.error
            .as_deref()
            .is_some_and(|e| e.starts_with("cancelled"))
    }
}

/// A distribution of durations (kept in µs, 3 significant figures).
#[derive(Debug, Clone)]
pub struct Distribution {
    histogram: Option<Histogram<u64>>,
}

impl Default for Distribution {
    fn default() -> Self {
        // An auto-resizing histogram: it cannot refuse a value.
        Distribution {
            histogram: Histogram::new(3).ok(),
        }
    }
}

impl Distribution {
    pub fn record_ms(&mut self, ms: f64) {
        if let Some(h) = &mut self.histogram {
            let us = (ms.max(0.0) * 1000.0).round() as u64;
            let _ = h.record(us.max(1));
        }
    }

    pub fn count(&self) -> u64 {
        self.histogram.as_ref().map_or(0, |h| h.len())
    }

    /// The `q` quantile (0..1) in ms, if anything was recorded.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        let h = self.histogram.as_ref()?;
        if h.is_empty() {
            return None;
        }
        Some(h.value_at_quantile(q) as f64 / 1000.0)
    }
}

/// Finished runs and the per-stage distributions over them.
#[derive(Debug, Clone, Default)]
pub struct RunHistory {
    runs: VecDeque<RunSummary>,
    stages: BTreeMap<Stage, (Distribution, Source)>,
    totals: Distribution,
}

impl RunHistory {
    pub fn record(&mut self, run: RunSummary) {
        // A failed run's stages stop early or time out: they are not durations of the same
        // work, so they stay out of the distributions (the run still shows in the sparkline
        // and the list).
        let stages = if run.outcome == Outcome::Failed {
            &[][..]
        } else {
            &run.stages[..]
        };
        for timing in stages {
            let (ms, source) = stage_time(timing);
            let entry = self
                .stages
                .entry(timing.name)
                .or_insert_with(|| (Distribution::default(), source));
            entry.0.record_ms(ms);
            // If the sources differ between runs (a backend switch), say so by the newest.
            entry.1 = source;
        }
        if run.outcome != Outcome::Failed {
            self.totals.record_ms(run.total().0);
        }
        if self.runs.len() == HISTORY_CAPACITY {
            self.runs.pop_front();
        }
        self.runs.push_back(run);
    }

    pub fn len(&self) -> usize {
        self.runs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    pub fn last(&self) -> Option<&RunSummary> {
        self.runs.back()
    }

    /// The run before the last one.
    pub fn previous(&self) -> Option<&RunSummary> {
        self.runs.iter().rev().nth(1)
    }

    pub fn runs(&self) -> impl DoubleEndedIterator<Item = &RunSummary> {
        self.runs.iter()
    }

    /// p-quantile of a stage's shown figure, with its source.
    pub fn stage_quantile(&self, stage: Stage, q: f64) -> Option<(f64, Source)> {
        let (dist, source) = self.stages.get(&stage)?;
        dist.quantile_ms(q).map(|v| (v, *source))
    }

    pub fn stage_count(&self, stage: Stage) -> u64 {
        self.stages.get(&stage).map_or(0, |(d, _)| d.count())
    }

    /// The total (ms) of the most recent run that did not fail.
    pub fn previous_completed_total_ms(&self) -> Option<f64> {
        self.runs
            .iter()
            .rev()
            .find(|r| r.outcome != Outcome::Failed)
            .map(|r| r.total().0)
    }

    pub fn total_quantile(&self, q: f64) -> Option<f64> {
        self.totals.quantile_ms(q)
    }

    /// Totals (ms, rounded) of the last `n` runs, oldest first, for the sparkline.
    pub fn recent_totals(&self, n: usize) -> Vec<u64> {
        let skip = self.runs.len().saturating_sub(n);
        self.runs
            .iter()
            .skip(skip)
            .map(|r| r.total().0.round().max(0.0) as u64)
            .collect()
    }
}
