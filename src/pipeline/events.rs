//! What a run reports while it runs: stage start/finish with timings, cache, memory writes,
//! context diffs and log lines. The dashboard and the headless commands both consume these.

use serde::{Deserialize, Serialize};

use crate::context::{BuildPath, CacheCounters, ContextDiff, EngineEvent, Flags};

/// The four stages, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Context,
    ToolSelection,
    CodeEdit,
    Response,
}

impl Stage {
    pub const ALL: [Stage; 4] = [
        Stage::Context,
        Stage::ToolSelection,
        Stage::CodeEdit,
        Stage::Response,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Context => "context",
            Stage::ToolSelection => "tool_selection",
            Stage::CodeEdit => "code_edit",
            Stage::Response => "response",
        }
    }

    /// Whether a model answers in this stage (its time can be simulated).
    pub fn is_model_stage(self) -> bool {
        matches!(self, Stage::ToolSelection | Stage::CodeEdit)
    }
}

/// Timing of one finished stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageTiming {
    pub name: Stage,
    /// Wall-clock time spent in the stage.
    pub real_ms: f64,
    /// Modeled time with the offline backend's latency model (model stages), or the real time
    /// (other stages); `None` with a real backend.
    pub simulated_ms: Option<f64>,
}

/// One model call as `edit --json` reports it (`model_calls`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCall {
    pub stage: Stage,
    /// Time to first token: from the request sent to the first non-empty content or tool
    /// delta (modeled for the offline backend, see `simulated`).
    pub ttft_ms: f64,
    /// Output tokens over the time after the first token; `None` when it cannot be told.
    pub output_tokens_per_s: Option<f64>,
    pub input_tokens: u64,
    pub cached_tokens: u64,
    pub output_tokens: u64,
    /// The usage was estimated by editscope (the provider reported none).
    pub usage_estimated: bool,
    /// The figures come from the offline latency model, not a clock.
    pub simulated: bool,
    pub model: String,
    /// Where this call's prompt first differed from the stage's previous prompt.
    #[serde(default)]
    pub prefix_divergence: Option<super::PrefixDivergence>,
}

impl ModelCall {
    pub fn new(
        stage: Stage,
        usage: &crate::llm::Usage,
        timing: &crate::llm::CallTiming,
        model: &str,
    ) -> Self {
        let generation_s = (timing.total_ms - timing.ttft_ms) / 1000.0;
        ModelCall {
            stage,
            ttft_ms: timing.ttft_ms,
            output_tokens_per_s: (generation_s > 0.0 && usage.output_tokens > 0)
                .then(|| usage.output_tokens as f64 / generation_s),
            input_tokens: usage.input_tokens,
            cached_tokens: usage.cached_input_tokens,
            output_tokens: usage.output_tokens,
            usage_estimated: usage.estimated,
            simulated: timing.simulated,
            model: model.to_string(),
            prefix_divergence: None,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Applied,
    Clarification,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Clarification => "clarification",
            Outcome::Failed => "failed",
        }
    }
}

/// Events of one run, in the order they happen. `run` numbers runs within a process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum PipelineEvent {
    RunStarted {
        run: u64,
        project_id: String,
        prompt: String,
        flags: Flags,
    },
    StageStarted {
        run: u64,
        stage: Stage,
    },
    StageFinished {
        run: u64,
        timing: StageTiming,
    },
    Cache {
        run: u64,
        path: BuildPath,
        counters: CacheCounters,
        build_us: u64,
        tokens: usize,
        engine_events: Vec<EngineEvent>,
        /// The build's sub-steps and their times.
        #[serde(default)]
        steps: Vec<crate::context::StepTiming>,
    },
    ContextDiff {
        run: u64,
        diff: Box<ContextDiff>,
    },
    MemoryWrite {
        run: u64,
        memory_type: String,
        key: String,
        value: String,
        outcome: String,
    },
    Log {
        run: u64,
        level: String,
        message: String,
    },
    /// A model call finished: the prompt as sent, what it cost and how long it took.
    ModelCall {
        run: u64,
        stage: Stage,
        prompt: crate::llm::ChatPrompt,
        call: ModelCall,
    },
    RunFinished {
        run: u64,
        result: Box<super::EditResult>,
    },
}
