//! The edit pipeline (DESIGN.md section 4): context build -> tool selection -> code edit ->
//! response, each stage timed and reported as events on a tokio channel.
//!
//! Nothing is written before the response stage, and the response stage writes everything in
//! one transaction: a failed or cancelled run leaves every scene as it was and is recorded as a
//! failed run with its error.

pub mod compare;
pub mod divergence;
mod events;
pub mod prompt;
pub mod respond;

pub use divergence::PrefixDivergence;
pub use events::*;

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::context::{BuildRequest, Built, ContextEngine, Flags};
use crate::llm::{
    CodeEditRequest, EditFormat, LlmClient, LlmError, SceneRef, StyleHints, TargetScene, Tool,
    ToolDecision, ToolSelectionRequest, Usage,
};
use crate::store::Store;

/// Tokens of one run (`edit --json` field `tokens`).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct RunTokens {
    pub input: u64,
    pub cached: u64,
    pub output: u64,
    /// Tokens of the built context.
    pub context: u64,
}

/// The result of one edit (`edit --json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditResult {
    pub run_id: Option<i64>,
    pub project_id: String,
    pub prompt: String,
    pub flags: String,
    pub tool: Option<String>,
    pub target_scene_id: Option<String>,
    pub outcome: Outcome,
    pub stages: Vec<StageTiming>,
    pub total_real_ms: f64,
    pub total_simulated_ms: Option<f64>,
    pub context_path: Option<String>,
    /// Time the context engine took (µs), from its own statistics.
    pub context_build_us: Option<u64>,
    pub tokens: RunTokens,
    /// One line for the user: what changed, or the clarifying question.
    pub summary: String,
    /// Share (0..1) of the prompt that sits in the stable prefix.
    pub prefix_stable_share: Option<f64>,
    pub model: String,
    /// Memory entries this run wrote, as `TYPE/key`.
    pub memory_written: Vec<String>,
    pub error: Option<String>,
    /// A comparison run: a dry run on a scratch copy of the project (see [`compare`]).
    #[serde(default)]
    pub comparison: bool,
    /// The project's revision when the run started.
    #[serde(default)]
    pub start_revision: Option<i64>,
    /// Each model call, in order.
    #[serde(default)]
    pub model_calls: Vec<ModelCall>,
    /// Where the last model call's prompt first differed from the previous prompt of its stage
    /// (what a provider's prompt cache could not reuse); `None` for a first prompt or when
    /// nothing differed.
    #[serde(default)]
    pub prefix_divergence: Option<PrefixDivergence>,
    /// The code edit answer format the run asked for (`--edit-format`; an addScene is a whole
    /// file whatever it says). Runs recorded before the diff format were whole-file runs.
    #[serde(default)]
    pub edit_format: EditFormat,
    /// The diff answer's blocks did not apply, and the whole file was asked for instead.
    #[serde(default)]
    pub edit_format_fallback: bool,
}

impl EditResult {
    /// A stage's time as comparisons count it: `simulated_ms` when the backend is simulated
    /// (the modeled time of the model stages, the real time of the others), else wall clock.
    pub fn stage_figure_ms(&self, stage: Stage) -> Option<f64> {
        self.stages
            .iter()
            .find(|s| s.name == stage)
            .map(|s| s.simulated_ms.unwrap_or(s.real_ms))
    }

    /// The run's total counted as [`EditResult::stage_figure_ms`] counts its stages.
    pub fn total_figure_ms(&self) -> f64 {
        self.total_simulated_ms.unwrap_or(self.total_real_ms)
    }
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("context build failed: {0}")]
    Context(#[from] crate::context::ContextError),
    #[error("model call failed: {0}")]
    Llm(#[from] LlmError),
    #[error("storing the result failed, nothing was changed: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("the model chose scene '{0}', which is not in the project")]
    UnknownTarget(String),
    #[error("cancelled; nothing was changed")]
    Cancelled,
    #[error("the prompt is {0}; nothing was run")]
    PromptTooLarge(crate::limits::Exceeded),
    #[error("the model's code for scene '{scene}' is {exceeded}; the scene was left unchanged")]
    CodeTooLarge {
        scene: String,
        exceeded: crate::limits::Exceeded,
    },
    #[error("the project already has {0} scenes, the scenes per project limit; no scene was added")]
    TooManyScenes(usize),
}

/// Whether a prompt may be run: the `edit`, `ab` and dashboard inputs check it before any
/// work, and [`Pipeline::run_edit`] again before anything else (then recording nothing).
pub fn check_prompt(prompt: &str) -> Result<(), PipelineError> {
    crate::limits::PROMPT
        .check(prompt.len())
        .map_err(PipelineError::PromptTooLarge)
}

/// One project's pipeline: a store, a context engine and a model backend.
pub struct Pipeline {
    pub store: Store,
    pub engine: ContextEngine,
    pub llm: Box<dyn LlmClient>,
    next_run: u64,
    /// Whether this pipeline runs comparison runs (on a scratch copy): its runs say so.
    comparison: bool,
    /// The last prompt sent in each model stage, to tell where the next one first differs.
    last_prompts: std::collections::HashMap<Stage, crate::llm::ChatPrompt>,
    /// The answer format the code edit stage asks for (`--edit-format`, diff by default).
    pub edit_format: EditFormat,
}

/// Everything gathered before the response stage.
pub(crate) struct Plan {
    pub built: Built,
    pub decision: ToolDecision,
    pub edit: Option<crate::llm::CodeEdit>,
    pub target_code_before: Option<String>,
    pub usage: Usage,
    pub model: String,
    pub prefix_share: Option<f64>,
    pub model_calls: Vec<ModelCall>,
    /// The diff answer did not apply and the whole file was asked for.
    pub edit_format_fallback: bool,
}

impl Pipeline {
    pub fn new(store: Store, engine: ContextEngine, llm: Box<dyn LlmClient>) -> Self {
        Pipeline {
            store,
            engine,
            llm,
            next_run: 1,
            comparison: false,
            last_prompts: std::collections::HashMap::new(),
            edit_format: EditFormat::Diff,
        }
    }

    /// The same pipeline asking for code edits in `format`.
    pub fn with_edit_format(mut self, format: EditFormat) -> Self {
        self.edit_format = format;
        self
    }

    /// The number the next run will get.
    pub fn next_run_number(&self) -> u64 {
        self.next_run
    }

    /// Takes the next run number for a run made elsewhere (a comparison run, by its own
    /// pipeline), so that run numbers stay unique in one session's event stream.
    pub fn reserve_run_number(&mut self) -> u64 {
        let run = self.next_run;
        self.next_run += 1;
        run
    }

    /// A pipeline whose runs are comparison runs numbered from `first_run`.
    pub fn for_comparison(mut self, first_run: u64) -> Self {
        self.comparison = true;
        self.next_run = first_run;
        self
    }

    pub fn is_comparison(&self) -> bool {
        self.comparison
    }

    /// Remembers the prompt sent in `stage` and says where it first differs from the one
    /// sent there before.
    fn note_prompt(
        &mut self,
        stage: Stage,
        prompt: &crate::llm::ChatPrompt,
    ) -> Option<PrefixDivergence> {
        let previous = self.last_prompts.insert(stage, prompt.clone())?;
        divergence::divergence(stage, &previous, prompt)
    }

    pub fn flags(&self) -> Flags {
        self.engine.flags
    }

    /// Runs one edit end to end. Always returns a result (a failed run is a result too) and
    /// sends its events on `events` (a closed channel is fine).
    pub async fn run_edit(
        &mut self,
        project_id: &str,
        request: &str,
        events: &UnboundedSender<PipelineEvent>,
        cancel: &CancellationToken,
    ) -> EditResult {
        let run = self.next_run;
        self.next_run += 1;
        let flags = self.engine.flags;
        let send = |e: PipelineEvent| {
            let _ = events.send(e);
        };
        let refused = check_prompt(request).err();
        send(PipelineEvent::RunStarted {
            run,
            project_id: project_id.to_string(),
            prompt: request.to_string(),
            flags,
        });
        let start_revision = self.store.project_revision(project_id).ok();
        let started = Instant::now();
        let mut stages: Vec<StageTiming> = Vec::new();
        let simulated = self.llm.name().starts_with("offline");
        let outcome = match refused {
            Some(e) => Err(e),
            None => {
                self.plan(
                    run,
                    project_id,
                    request,
                    &mut stages,
                    simulated,
                    events,
                    cancel,
                )
                .await
            }
        };
        // A refused prompt is not recorded: an input over a limit writes nothing.
        let record = !matches!(outcome, Err(PipelineError::PromptTooLarge(_)));
        let mut result = EditResult {
            run_id: None,
            project_id: project_id.to_string(),
            prompt: request.to_string(),
            flags: flags.to_string(),
            tool: None,
            target_scene_id: None,
            outcome: Outcome::Failed,
            stages: Vec::new(),
            total_real_ms: 0.0,
            total_simulated_ms: None,
            context_path: None,
            context_build_us: None,
            tokens: RunTokens::default(),
            summary: String::new(),
            prefix_stable_share: None,
            model: self.llm.name(),
            memory_written: Vec::new(),
            error: None,
            comparison: self.comparison,
            start_revision,
            model_calls: Vec::new(),
            prefix_divergence: None,
            edit_format: self.edit_format,
            edit_format_fallback: false,
        };
        match outcome {
            Ok(plan) => {
                if cancel.is_cancelled() {
                    result.error = Some(PipelineError::Cancelled.to_string());
                } else {
                    send(PipelineEvent::StageStarted {
                        run,
                        stage: Stage::Response,
                    });
                    let t = Instant::now();
                    // The run's record (`edit_runs.stage_ms_json`) is written inside the
                    // response stage: it keeps the stages measured so far.
                    result.stages = stages.clone();
                    respond::apply(self, run, project_id, request, &plan, &mut result, events);
                    let ms = t.elapsed().as_secs_f64() * 1000.0;
                    let timing = StageTiming {
                        name: Stage::Response,
                        real_ms: ms,
                        simulated_ms: simulated.then_some(ms),
                    };
                    stages.push(timing.clone());
                    send(PipelineEvent::StageFinished { run, timing });
                }
                result.context_path = Some(plan.built.stats.path.as_str().to_string());
                result.context_build_us = Some(plan.built.stats.build_us);
                result.tokens = RunTokens {
                    input: plan.usage.input_tokens,
                    cached: plan.usage.cached_input_tokens,
                    output: plan.usage.output_tokens,
                    context: plan.built.context.tokens.total as u64,
                };
                result.model = plan.model.clone();
                result.prefix_stable_share = plan.prefix_share;
                result.model_calls = plan.model_calls.clone();
                result.edit_format_fallback = plan.edit_format_fallback;
                result.prefix_divergence = plan
                    .model_calls
                    .last()
                    .and_then(|c| c.prefix_divergence.clone());
            }
            Err(e) => {
                result.error = Some(e.to_string());
            }
        }
        result.stages = stages;
        result.total_real_ms = started.elapsed().as_secs_f64() * 1000.0;
        result.total_simulated_ms = if simulated {
            Some(result.stages.iter().filter_map(|s| s.simulated_ms).sum())
        } else {
            None
        };
        if result.outcome == Outcome::Failed {
            let message = result.error.clone().unwrap_or_else(|| "failed".into());
            send(PipelineEvent::Log {
                run,
                level: "error".into(),
                message: message.clone(),
            });
            tracing::error!(run, project = project_id, "edit failed: {message}");
            if record {
                result.run_id = respond::record_failure(self, project_id, request, &result).ok();
            }
        }
        send(PipelineEvent::RunFinished {
            run,
            result: Box::new(result.clone()),
        });
        result
    }

    #[allow(clippy::too_many_arguments)]
    async fn plan(
        &mut self,
        run: u64,
        project_id: &str,
        request: &str,
        stages: &mut Vec<StageTiming>,
        simulated: bool,
        events: &UnboundedSender<PipelineEvent>,
        cancel: &CancellationToken,
    ) -> Result<Plan, PipelineError> {
        let send = |e: PipelineEvent| {
            let _ = events.send(e);
        };
        // Stage 1: context.
        send(PipelineEvent::StageStarted {
            run,
            stage: Stage::Context,
        });
        let t = Instant::now();
        let (built, diff) = self.engine.build_and_diff(
            &self.store,
            &BuildRequest {
                project_id,
                user_id: None,
                prompt: request,
            },
        )?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let timing = StageTiming {
            name: Stage::Context,
            real_ms: ms,
            simulated_ms: simulated.then_some(ms),
        };
        stages.push(timing.clone());
        send(PipelineEvent::StageFinished { run, timing });
        send(PipelineEvent::Cache {
            run,
            path: built.stats.path,
            counters: built.stats.cache,
            build_us: built.stats.build_us,
            tokens: built.context.tokens.total,
            engine_events: built.stats.events.clone(),
            steps: built.stats.steps.clone(),
        });
        if let Some(diff) = diff {
            send(PipelineEvent::ContextDiff {
                run,
                diff: Box::new(diff),
            });
        }
        if cancel.is_cancelled() {
            return Err(PipelineError::Cancelled);
        }

        // Stage 2: tool selection.
        let ctx = &built.context;
        let scenes: Vec<SceneRef> = ctx
            .scene_list
            .iter()
            .map(|s| SceneRef {
                id: s.id.clone(),
                name: s.name.clone(),
                position: s.position,
                duration_frames: s.duration_frames,
            })
            .collect();
        let preferences: BTreeMap<String, String> = ctx
            .preferences
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect();
        let selection = ToolSelectionRequest {
            user_prompt: request.to_string(),
            scenes,
            preferences: preferences.clone(),
            last_edited_scene_id: ctx.history.last().map(|h| h.scene_id.clone()),
            prompt: prompt::tool_selection(ctx, request),
        };
        send(PipelineEvent::StageStarted {
            run,
            stage: Stage::ToolSelection,
        });
        let t = Instant::now();
        let picked = tokio::select! {
            r = self.llm.select_tool(&selection) => r?,
            _ = cancel.cancelled() => return Err(PipelineError::Cancelled),
        };
        let timing = StageTiming {
            name: Stage::ToolSelection,
            real_ms: t.elapsed().as_secs_f64() * 1000.0,
            simulated_ms: picked.timing.simulated.then_some(picked.timing.total_ms),
        };
        stages.push(timing.clone());
        let mut model_calls = vec![ModelCall::new(
            Stage::ToolSelection,
            &picked.usage,
            &picked.timing,
            &picked.model,
        )];
        model_calls[0].prefix_divergence =
            self.note_prompt(Stage::ToolSelection, &selection.prompt);
        send(PipelineEvent::ModelCall {
            run,
            stage: Stage::ToolSelection,
            prompt: selection.prompt.clone(),
            call: model_calls[0].clone(),
        });
        send(PipelineEvent::StageFinished { run, timing });
        let mut usage = picked.usage;
        let mut model = picked.model.clone();
        let mut prefix_share = Some(picked.prefix_stable_share);

        let decision = picked.value;
        let (tool, target_id, args) = match &decision {
            ToolDecision::Clarify { .. } => {
                return Ok(Plan {
                    built,
                    decision,
                    edit: None,
                    target_code_before: None,
                    usage,
                    model,
                    prefix_share,
                    model_calls,
                    edit_format_fallback: false,
                });
            }
            ToolDecision::Tool {
                tool,
                target_scene_id,
                args,
                ..
            } => (*tool, target_scene_id.clone(), args.clone()),
        };
        // The model may pick a scene the context did not give in full: fetch it now.
        let target = match &target_id {
            Some(id) => {
                let entry = ctx
                    .scene_list
                    .iter()
                    .find(|s| &s.id == id)
                    .ok_or_else(|| PipelineError::UnknownTarget(id.clone()))?;
                let code = match ctx.scenes_in_full.iter().find(|s| &s.id == id) {
                    Some(s) => s.code.clone(),
                    None => self.store.get_scene(id)?.tsx_code,
                };
                Some(TargetScene {
                    id: id.clone(),
                    name: entry.name.clone(),
                    position: entry.position,
                    code,
                    duration_frames: entry.duration_frames,
                })
            }
            None if tool != Tool::AddScene => {
                return Err(PipelineError::Llm(LlmError::Malformed {
                    what: "tool selection".into(),
                    detail: format!("{} needs a target scene and none was given", tool.as_str()),
                }));
            }
            None => None,
        };
        if tool == Tool::AddScene
            && crate::limits::SCENES
                .check(ctx.scene_list.len() + 1)
                .is_err()
        {
            return Err(PipelineError::TooManyScenes(crate::limits::SCENES.max));
        }
        if cancel.is_cancelled() {
            return Err(PipelineError::Cancelled);
        }
        let target_code_before = target.as_ref().map(|t| t.code.clone());

        // Stage 3: code edit (deleteScene needs none).
        let format = match tool {
            Tool::AddScene => EditFormat::Whole,
            _ => self.edit_format,
        };
        let mut edit_format_fallback = false;
        let edit = if tool.edits_code() {
            let edit_request = CodeEditRequest {
                user_prompt: request.to_string(),
                tool,
                args,
                target: target.clone(),
                preferences,
                style: StyleHints {
                    colors: ctx.style.colors.iter().map(|(c, _)| c.clone()).collect(),
                    fonts: ctx.style.fonts.iter().map(|(f, _)| f.clone()).collect(),
                },
                new_scene_position: ctx.scene_list.len() + 1,
                edit_format: format,
                prompt: prompt::code_edit(
                    ctx,
                    request,
                    tool,
                    target_code_before.as_deref(),
                    format,
                ),
            };
            send(PipelineEvent::StageStarted {
                run,
                stage: Stage::CodeEdit,
            });
            let t = Instant::now();
            let first = tokio::select! {
                r = self.llm.edit_code(&edit_request) => r,
                _ = cancel.cancelled() => return Err(PipelineError::Cancelled),
            };
            let (edited, sent) = match first {
                Ok(edited) => (edited, edit_request),
                // Blocks that do not apply: ask once for the whole file (DESIGN.md 7).
                Err(LlmError::EditBlocks(error)) if format == EditFormat::Diff => {
                    edit_format_fallback = true;
                    // The diff prompt was sent: the next run's prompt is compared with it.
                    let _ = self.note_prompt(Stage::CodeEdit, &edit_request.prompt);
                    let message = format!("{error}; asking for the whole file instead");
                    tracing::warn!(run, "code edit: {message}");
                    send(PipelineEvent::Log {
                        run,
                        level: "warn".into(),
                        message,
                    });
                    let whole = CodeEditRequest {
                        edit_format: EditFormat::Whole,
                        prompt: prompt::code_edit(
                            ctx,
                            request,
                            tool,
                            target_code_before.as_deref(),
                            EditFormat::Whole,
                        ),
                        ..edit_request
                    };
                    let edited = tokio::select! {
                        r = self.llm.edit_code(&whole) => r?,
                        _ = cancel.cancelled() => return Err(PipelineError::Cancelled),
                    };
                    (edited, whole)
                }
                Err(e) => return Err(e.into()),
            };
            // Model output is checked before anything is stored: code over the limit or that
            // does not parse is a failed run, not a broken scene. The size first: parsing 10 MB
            // is the cost the limit avoids.
            if let Err(exceeded) = crate::limits::SCENE_CODE.check(edited.value.code.len()) {
                return Err(PipelineError::CodeTooLarge {
                    scene: target_id.clone().unwrap_or_else(|| "(new scene)".into()),
                    exceeded,
                });
            }
            if let Err(e) = crate::analysis::check_tsx(&edited.value.code) {
                return Err(PipelineError::Llm(LlmError::InvalidCode(e.to_string())));
            }
            let timing = StageTiming {
                name: Stage::CodeEdit,
                real_ms: t.elapsed().as_secs_f64() * 1000.0,
                simulated_ms: edited.timing.simulated.then_some(edited.timing.total_ms),
            };
            stages.push(timing.clone());
            let mut call = ModelCall::new(
                Stage::CodeEdit,
                &edited.usage,
                &edited.timing,
                &edited.model,
            );
            call.prefix_divergence = if edit_format_fallback {
                // The retry is measured against the diff prompt before it, and not remembered
                // in its place: the next run asks in the diff format again.
                self.last_prompts
                    .get(&Stage::CodeEdit)
                    .and_then(|previous| {
                        divergence::divergence(Stage::CodeEdit, previous, &sent.prompt)
                    })
            } else {
                self.note_prompt(Stage::CodeEdit, &sent.prompt)
            };
            send(PipelineEvent::ModelCall {
                run,
                stage: Stage::CodeEdit,
                prompt: sent.prompt.clone(),
                call: call.clone(),
            });
            model_calls.push(call);
            send(PipelineEvent::StageFinished { run, timing });
            usage.add(&edited.usage);
            model = edited.model.clone();
            prefix_share = Some(edited.prefix_stable_share);
            Some(edited.value)
        } else {
            let timing = StageTiming {
                name: Stage::CodeEdit,
                real_ms: 0.0,
                simulated_ms: simulated.then_some(0.0),
            };
            stages.push(timing.clone());
            send(PipelineEvent::StageFinished { run, timing });
            None
        };
        Ok(Plan {
            built,
            decision,
            edit,
            target_code_before,
            usage,
            model,
            prefix_share,
            model_calls,
            edit_format_fallback,
        })
    }
}
