//! The offline model backend (the default): no network, deterministic.
//!
//! - **Tool selection** reads the request's words: which tool (addScene, editScene,
//!   deleteScene, trimScene, changeDuration) and which scene ("scene 2", "the second scene",
//!   "the last scene", "the intro", "the pricing scene", or the scene edited last for "it"), or
//!   a clarifying question when the request is ambiguous or names a scene that does not exist.
//! - **Code edits** really change the TSX, always by replacing the exact span of a node the
//!   parser located (never by searching text): colors, texts, fonts and sizes, durations and
//!   speeds, adding and removing elements, and new scenes in the project's style. Every result
//!   is checked with [`check_tsx`](crate::analysis::check_tsx); an edit that cannot be applied
//!   is an error, never unchanged code.
//! - **Time** follows the [`LatencyModel`]: time to first token = 350 ms + 0.06 ms per uncached
//!   input token + 0.006 ms per cached input token; generation = 12 ms per output token
//!   (≈ 83 tokens/s); total = time to first token + generation. The backend sleeps for the total
//!   multiplied by its time scale (0 = no wait; dropping the future cancels the wait), while the
//!   reported [`CallTiming`] always carries the modeled figures at scale 1, marked `simulated`.
//!   Input tokens are the cl100k tokens of the prompt's system, stable prefix and variable
//!   parts; output tokens those of the produced text: the JSON decision, or the code edit's
//!   answer in the format asked for (the summary line and the whole file, or with
//!   `--edit-format diff` the summary line and the search/replace blocks of the change,
//!   which are read back and applied like a real model's; addScene is always a whole file).
//! - **Prompt cache**: like a provider's (OpenAI's rule), per backend instance: every prompt is
//!   remembered for 5 minutes (refreshed on use); a later call's cached tokens are the longest
//!   prefix it shares with one of them, from 1,024 tokens in steps of 128, so a change late in
//!   the prompt costs only what follows it.
//!
//! Deterministic: the same request on a backend in the same cache state gives the same value,
//! usage and timing. Only the cache makes a repeated prompt cheaper, as a provider's would.

// pub for the unit tests in tests/it/unit; not API.
#[doc(hidden)]
pub mod edit;
mod latency;
// pub for the unit tests in tests/it/unit; not API.
#[doc(hidden)]
pub mod new_scene;
// pub for the unit tests in tests/it/unit; not API.
#[doc(hidden)]
pub mod patch;
// pub for the unit tests in tests/it/unit; not API.
#[doc(hidden)]
pub mod retime;
// pub for the unit tests in tests/it/unit; not API.
#[doc(hidden)]
pub mod scene_model;
mod select;
// pub for the unit tests in tests/it/unit; not API.
#[doc(hidden)]
pub mod words;

use std::time::{Duration, Instant};

use futures::future::BoxFuture;

pub use latency::{CACHE_TTL, LatencyModel, MIN_CACHED_PREFIX_TOKENS, PromptCache};

use crate::analysis::check_tsx;
use crate::context::tokens;
use crate::editfmt;
use crate::llm::{
    CallTiming, ChatPrompt, CodeEdit, CodeEditRequest, EditFormat, LlmClient, LlmError,
    LlmResponse, Tool, ToolDecision, ToolSelectionRequest, Usage,
};

/// The model name the offline backend reports.
pub const OFFLINE_MODEL: &str = "offline-sim";

/// The offline backend. See the module documentation for its rules and latency model.
#[derive(Debug)]
pub struct OfflineBackend {
    time_scale: f64,
    latency: LatencyModel,
    cache: PromptCache,
}

impl OfflineBackend {
    /// A backend whose simulated waits last `time_scale` × the modeled time (1 = modeled real
    /// time, 0 = instant). Negative or non-finite scales count as 0.
    pub fn new(time_scale: f64) -> Self {
        let time_scale = if time_scale.is_finite() && time_scale > 0.0 {
            time_scale
        } else {
            0.0
        };
        OfflineBackend {
            time_scale,
            latency: LatencyModel::default(),
            cache: PromptCache::new(CACHE_TTL),
        }
    }

    /// The same backend with a different prompt-cache lifetime (for tests and experiments).
    pub fn with_cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache = PromptCache::new(ttl);
        self
    }

    pub fn time_scale(&self) -> f64 {
        self.time_scale
    }

    pub fn latency_model(&self) -> &LatencyModel {
        &self.latency
    }

    /// Counts the prompt's tokens and consults the prompt cache, as a provider does on receipt.
    fn receive(&self, prompt: &ChatPrompt) -> Received {
        // The prompt as a provider tokenizes it: system, then the user message's stable prefix
        // and variable part, one token sequence.
        let mut sequence = tokens::encode(&prompt.system);
        sequence.extend(tokens::encode(&prompt.stable_prefix));
        let prefix_tokens = sequence.len() as u64;
        sequence.extend(tokens::encode(&prompt.variable));
        let input_tokens = sequence.len() as u64;
        let cached = self.cache.send(&sequence, Instant::now());
        Received {
            input_tokens,
            cached_input_tokens: cached,
            prefix_stable_share: if input_tokens == 0 {
                0.0
            } else {
                prefix_tokens as f64 / input_tokens as f64
            },
        }
    }

    /// Waits the scaled modeled time and wraps `value` with its usage and timing.
    async fn respond<T>(&self, received: Received, value: T, output: &str) -> LlmResponse<T> {
        let usage = Usage {
            input_tokens: received.input_tokens,
            cached_input_tokens: received.cached_input_tokens,
            cache_creation_input_tokens: 0,
            output_tokens: tokens::count(output) as u64,
            estimated: false,
        };
        let timing: CallTiming = self.latency.timing(
            usage.input_tokens,
            usage.cached_input_tokens,
            usage.output_tokens,
        );
        let wait_ms = timing.total_ms * self.time_scale;
        if wait_ms > 0.0 {
            tokio::time::sleep(Duration::from_secs_f64(wait_ms / 1_000.0)).await;
        }
        LlmResponse {
            value,
            usage,
            timing,
            model: OFFLINE_MODEL.to_string(),
            prefix_stable_share: received.prefix_stable_share,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Received {
    input_tokens: u64,
    cached_input_tokens: u64,
    prefix_stable_share: f64,
}

impl LlmClient for OfflineBackend {
    fn cache_entries(&self) -> Vec<(&'static str, u64)> {
        vec![("offline_prompt_cache", self.cache.len() as u64)]
    }

    fn fork(&self) -> Option<Box<dyn LlmClient>> {
        Some(Box::new(OfflineBackend {
            time_scale: self.time_scale,
            latency: self.latency,
            cache: self.cache.clone(),
        }))
    }

    fn name(&self) -> String {
        "offline".to_string()
    }

    fn select_tool<'a>(
        &'a self,
        request: &'a ToolSelectionRequest,
    ) -> BoxFuture<'a, Result<LlmResponse<ToolDecision>, LlmError>> {
        Box::pin(async move {
            let received = self.receive(&request.prompt);
            let decision = select::select(request);
            // What a real model would emit: the decision as JSON.
            let output = serde_json::to_string(&decision).map_err(|e| LlmError::Malformed {
                what: "tool decision".into(),
                detail: e.to_string(),
            })?;
            Ok(self.respond(received, decision, &output).await)
        })
    }

    fn edit_code<'a>(
        &'a self,
        request: &'a CodeEditRequest,
    ) -> BoxFuture<'a, Result<LlmResponse<CodeEdit>, LlmError>> {
        Box::pin(async move {
            let received = self.receive(&request.prompt);
            let edit = code_edit(request)?;
            let output = answer_text(request, &edit)?;
            Ok(self.respond(received, edit, &output).await)
        })
    }
}

/// What a model would emit for `edit` in the format asked for: the summary line and the
/// whole file, or (diff, for a change to an existing scene) the summary line and the blocks
/// that make the change. The blocks are read back and applied to the target's code with the
/// pipeline's own reader and applier, so the diff path is the one real models take; the
/// output tokens counted are those of this text.
fn answer_text(request: &CodeEditRequest, edit: &CodeEdit) -> Result<String, LlmError> {
    let target = match (&request.target, request.edit_format, request.tool) {
        (Some(target), EditFormat::Diff, tool) if tool != Tool::AddScene => target,
        _ => return Ok(format!("{}\n{}", edit.summary, edit.code)),
    };
    let blocks = editfmt::diff_blocks(&target.code, &edit.code);
    let answer = editfmt::render_answer(&edit.summary, &blocks);
    // Nothing to change ("already so") is a summary and no block.
    if !blocks.is_empty() {
        let read = editfmt::read(&answer)?;
        let applied = editfmt::apply(&target.code, &read.blocks)?;
        if applied != edit.code {
            return Err(cannot(
                "internal: the edit blocks do not reproduce the edit (a line break changed?)",
            ));
        }
    }
    Ok(answer)
}

fn cannot(detail: impl Into<String>) -> LlmError {
    LlmError::Malformed {
        what: "edit".into(),
        detail: detail.into(),
    }
}

/// Stage 3 offline: the new code for `request`, checked to parse.
fn code_edit(request: &CodeEditRequest) -> Result<CodeEdit, LlmError> {
    let edit = match request.tool {
        Tool::AddScene => {
            let scene = new_scene::build(request);
            CodeEdit {
                code: scene.code,
                duration_frames: Some(scene.duration_frames),
                scene_name: Some(scene.name),
                summary: scene.summary,
            }
        }
        Tool::EditScene => {
            let target = request
                .target
                .as_ref()
                .ok_or_else(|| cannot("editScene needs a target scene"))?;
            let operations = edit::parse_operations(&request.user_prompt).map_err(cannot)?;
            let ctx = edit::EditContext {
                preferences: &request.preferences,
                style: &request.style,
            };
            let mut code = target.code.clone();
            let mut summaries = Vec::new();
            for operation in &operations {
                let (next, summary) = edit::apply(&code, operation, &ctx).map_err(cannot)?;
                code = next;
                summaries.push(summary);
            }
            // Asked for what is already so ("make the title blue" when it is blue): answer with
            // the code as it is, as a model would, and say so; the pipeline stores no change.
            let summary = if code == target.code {
                format!("already so, nothing to change: {}", summaries.join("; "))
            } else {
                summaries.join("; ")
            };
            CodeEdit {
                code,
                duration_frames: None,
                scene_name: None,
                summary,
            }
        }
        Tool::TrimScene | Tool::ChangeDuration => {
            let target = request
                .target
                .as_ref()
                .ok_or_else(|| cannot("a duration change needs a target scene"))?;
            let frames = requested_frames(request, target.duration_frames).ok_or_else(|| {
                cannot("no new duration given (e.g. \"2 seconds\" or \"90 frames\")")
            })?;
            let mode = if request.tool == Tool::TrimScene {
                retime::Retime::Trim
            } else {
                retime::Retime::Scale
            };
            let (code, summary) =
                retime::retime(&target.code, target.duration_frames, frames, mode)
                    .map_err(cannot)?;
            let summary = if code == target.code && frames == target.duration_frames {
                format!("already so, nothing to change: the scene lasts {frames} frames")
            } else {
                summary
            };
            CodeEdit {
                code,
                duration_frames: Some(frames),
                scene_name: None,
                summary,
            }
        }
        Tool::DeleteScene => {
            return Err(cannot("deleteScene removes the scene; it writes no code"));
        }
    };
    check_tsx(&edit.code).map_err(|e| LlmError::InvalidCode(e.to_string()))?;
    Ok(edit)
}

/// The new duration: from the tool arguments, else from the request's words.
fn requested_frames(request: &CodeEditRequest, current: i64) -> Option<i64> {
    if let Some(frames) = request
        .args
        .get("duration_frames")
        .and_then(serde_json::Value::as_i64)
    {
        return Some(frames);
    }
    let d = words::duration(&words::words(&words::without_quotes(&request.user_prompt)))?;
    Some(if d.relative {
        let shorter = request.tool == Tool::TrimScene;
        if shorter {
            current - d.frames
        } else {
            current + d.frames
        }
    } else {
        d.frames
    })
}
