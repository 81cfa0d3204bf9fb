//! Requests, responses, usage and errors shared by every backend.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A prompt as sent to a chat model, split where provider prompt caches can reuse it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChatPrompt {
    /// Instructions for the stage (constant per stage).
    pub system: String,
    /// Project style, preferences, scene list: identical between requests while the project
    /// does not change, so a provider's prompt cache can hit on it.
    pub stable_prefix: String,
    /// Target code, history and the user's request: changes every time.
    pub variable: String,
}

impl ChatPrompt {
    /// The share (0..1) of the prompt's tokens that sit in the stable prefix (system included).
    pub fn prefix_stable_share(&self) -> f64 {
        let stable = crate::context::tokens::count(&self.system)
            + crate::context::tokens::count(&self.stable_prefix);
        let total = stable + crate::context::tokens::count(&self.variable);
        if total == 0 {
            0.0
        } else {
            stable as f64 / total as f64
        }
    }
}

/// A scene as tool selection sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SceneRef {
    pub id: String,
    pub name: String,
    /// Position in the video, 1-based as users count ("scene 2").
    pub position: usize,
    pub duration_frames: i64,
}

/// Scenes in video order (each `position` its index plus one), as the resolver reads them.
impl crate::resolve::Scenes for [SceneRef] {
    fn count(&self) -> usize {
        self.len()
    }

    fn id(&self, index: usize) -> &str {
        &self[index].id
    }

    fn name(&self, index: usize) -> &str {
        &self[index].name
    }
}

/// Stage 2 input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSelectionRequest {
    /// The user's words.
    pub user_prompt: String,
    /// Scenes in video order.
    pub scenes: Vec<SceneRef>,
    /// Preference key -> value.
    pub preferences: BTreeMap<String, String>,
    /// The scene changed most recently, for "it" / "that scene".
    pub last_edited_scene_id: Option<String>,
    pub prompt: ChatPrompt,
}

/// The tools the model can pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Tool {
    #[serde(rename = "addScene")]
    AddScene,
    #[serde(rename = "editScene")]
    EditScene,
    #[serde(rename = "deleteScene")]
    DeleteScene,
    #[serde(rename = "trimScene")]
    TrimScene,
    #[serde(rename = "changeDuration")]
    ChangeDuration,
}

impl Tool {
    pub const ALL: [Tool; 5] = [
        Tool::AddScene,
        Tool::EditScene,
        Tool::DeleteScene,
        Tool::TrimScene,
        Tool::ChangeDuration,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Tool::AddScene => "addScene",
            Tool::EditScene => "editScene",
            Tool::DeleteScene => "deleteScene",
            Tool::TrimScene => "trimScene",
            Tool::ChangeDuration => "changeDuration",
        }
    }

    pub fn parse(name: &str) -> Option<Tool> {
        Tool::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// Whether the tool rewrites code (and so needs stage 3).
    pub fn edits_code(self) -> bool {
        matches!(
            self,
            Tool::AddScene | Tool::EditScene | Tool::TrimScene | Tool::ChangeDuration
        )
    }
}

/// Stage 2 output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum ToolDecision {
    /// Run `tool` on `target_scene_id` (None for addScene).
    Tool {
        tool: Tool,
        target_scene_id: Option<String>,
        /// Tool-specific arguments, e.g. `{"duration_frames": 90}` for changeDuration.
        #[serde(default)]
        args: serde_json::Value,
        /// One line on why, for the log.
        #[serde(default)]
        reasoning: String,
    },
    /// The request is ambiguous or names a scene that does not exist.
    Clarify { question: String },
}

/// The scene a code edit works on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetScene {
    pub id: String,
    pub name: String,
    pub position: usize,
    pub code: String,
    pub duration_frames: i64,
}

/// Style the project already uses, from scene analyses, for new scenes and "our brand color".
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StyleHints {
    /// Most used colors first (hex or CSS names).
    pub colors: Vec<String>,
    /// Most used font families first.
    pub fonts: Vec<String>,
}

/// How the code edit stage answers (DESIGN.md 7, `--edit-format`): search/replace blocks
/// against the target's code, or the whole new file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EditFormat {
    Diff,
    #[default]
    Whole,
}

impl EditFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            EditFormat::Diff => "diff",
            EditFormat::Whole => "whole",
        }
    }

    pub fn parse(name: &str) -> Option<EditFormat> {
        match name {
            "diff" => Some(EditFormat::Diff),
            "whole" => Some(EditFormat::Whole),
            _ => None,
        }
    }
}

/// Stage 3 input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeEditRequest {
    pub user_prompt: String,
    pub tool: Tool,
    pub args: serde_json::Value,
    /// The scene to rewrite; `None` for addScene.
    pub target: Option<TargetScene>,
    pub preferences: BTreeMap<String, String>,
    pub style: StyleHints,
    /// For addScene: the 1-based position the new scene will take.
    pub new_scene_position: usize,
    /// The answer format asked for; an addScene always answers with the whole new file.
    #[serde(default)]
    pub edit_format: EditFormat,
    pub prompt: ChatPrompt,
}

/// Stage 3 output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeEdit {
    /// The full new TSX of the scene.
    pub code: String,
    /// New duration, when the edit changed it.
    pub duration_frames: Option<i64>,
    /// For addScene: the new scene's name.
    pub scene_name: Option<String>,
    /// One line describing the change, for the user.
    pub summary: String,
}

/// Tokens of one call, in provider terms.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// All input tokens, cached ones included.
    pub input_tokens: u64,
    /// Input tokens served from the provider's prompt cache.
    pub cached_input_tokens: u64,
    /// Input tokens written to the provider's prompt cache (Anthropic).
    pub cache_creation_input_tokens: u64,
    pub output_tokens: u64,
    /// The provider reported no usage: the counts are editscope's own estimate with the
    /// local tokenizer (`crate::context::tokens`), labelled `estimated` wherever shown.
    #[serde(default)]
    pub estimated: bool,
}

impl Usage {
    /// Adds `other`'s counts; a sum with any estimated part is itself an estimate.
    pub fn add(&mut self, other: &Usage) {
        self.input_tokens += other.input_tokens;
        self.cached_input_tokens += other.cached_input_tokens;
        self.cache_creation_input_tokens += other.cache_creation_input_tokens;
        self.output_tokens += other.output_tokens;
        self.estimated |= other.estimated;
    }
}

/// How stage 2 asks a real model for its decision (DESIGN.md 7, `--tool-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolMode {
    /// The provider's tool calling: one function `select_tool` whose arguments are the decision.
    Native,
    /// The decision as one JSON object in the answer's text.
    Json,
    /// Native, and the JSON text format for an endpoint that refused tools with a 400 that
    /// says so (remembered per endpoint for the life of the process).
    #[default]
    Auto,
}

impl ToolMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ToolMode::Native => "native",
            ToolMode::Json => "json",
            ToolMode::Auto => "auto",
        }
    }

    pub fn parse(name: &str) -> Option<ToolMode> {
        match name {
            "native" => Some(ToolMode::Native),
            "json" => Some(ToolMode::Json),
            "auto" => Some(ToolMode::Auto),
            _ => None,
        }
    }
}

/// Timings of one call. For the offline backend these are simulated (see `simulated`).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct CallTiming {
    /// From request sent to the first non-empty content delta.
    pub ttft_ms: f64,
    /// From request sent to the end of the response.
    pub total_ms: f64,
    /// True when the figures come from the offline latency model, not a clock.
    pub simulated: bool,
}

/// A value returned by a backend, with what it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmResponse<T> {
    pub value: T,
    pub usage: Usage,
    pub timing: CallTiming,
    /// The model that answered (as the provider reports it).
    pub model: String,
    /// Share (0..1) of the prompt's tokens in the stable prefix.
    pub prefix_stable_share: f64,
}

/// The words of [`LlmError::PromptTooLarge`]'s message that tell a run's error text (all the
/// dashboard keeps of a failed run) was a context window refusal.
pub const CONTEXT_WINDOW_REFUSAL: &str = "more than the model's context window";

/// Why a backend call failed. Each variant says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("no API key: set {0} in the environment")]
    MissingKey(&'static str),
    /// 401/403: the key is missing or wrong. Keys are optional for every host, so this is
    /// where a missing one shows.
    #[error("{provider} refused the request (HTTP {status}): {body}; {hint}")]
    Unauthorized {
        provider: &'static str,
        status: u16,
        body: String,
        /// What to do: set the key variable, or check it.
        hint: String,
    },
    /// A quota or billing error (OpenAI 429 `insufficient_quota`, Anthropic `billing_error`):
    /// waiting does not help, so it is never retried; the server's message is shown in full.
    #[error("{provider} refused the request for quota or billing (HTTP {status}): {body}")]
    Quota {
        provider: &'static str,
        status: u16,
        body: String,
    },
    /// The server asked to retry later than we are willing to wait.
    #[error(
        "{provider} answered HTTP {status} and asked to retry in {wait_s:.0} s, longer than the \
         {max_s:.0} s editscope waits: {body}"
    )]
    RetryTooLate {
        provider: &'static str,
        status: u16,
        wait_s: f64,
        max_s: f64,
        body: String,
    },
    /// The prompt is larger than `--context-window`: refused before sending, since a server
    /// such as Ollama would silently cut it from the front (the instructions first).
    /// (Its message contains [`CONTEXT_WINDOW_REFUSAL`], which the dashboard looks for.)
    #[error(
        "the prompt is {tokens} tokens, more than the model's context window of {window} tokens \
         (counted locally; not sent)"
    )]
    PromptTooLarge { tokens: usize, window: usize },
    /// No byte arrived for the idle timeout (a stalled server or stream).
    #[error("the model sent nothing for {seconds:.1} s (idle timeout)")]
    IdleTimeout { seconds: f64 },
    /// The body grew past its byte cap (an endless or runaway stream): cut, nothing used.
    #[error("the response stream passed the {limit_bytes}-byte cap and was cut; nothing was used")]
    TooLarge { limit_bytes: usize },
    #[error("cannot connect to {url}: {detail}")]
    Connect { url: String, detail: String },
    /// The total timeout: the whole call, from sending to the end of the stream.
    #[error("the model did not finish within {seconds:.1} s (total timeout)")]
    Timeout { seconds: f64 },
    #[error("{provider} answered HTTP {status}: {body}")]
    Http {
        provider: &'static str,
        status: u16,
        body: String,
    },
    #[error("{provider} still failing after {attempts} attempts: last HTTP {status}: {body}")]
    RetriesExhausted {
        provider: &'static str,
        attempts: u32,
        status: u16,
        /// The last answer's body (an excerpt), so the server's reason is not lost.
        body: String,
    },
    #[error("the response stream was cut before it finished: {0}")]
    StreamCut(String),
    #[error("the model's answer is not usable: {what}: {detail}")]
    Malformed { what: String, detail: String },
    #[error("the model returned code that does not parse as TSX: {0}")]
    InvalidCode(String),
    /// A diff answer (`--edit-format diff`) whose blocks cannot be read or do not apply to
    /// the target's code; the pipeline then asks once for the whole file.
    #[error("the model's edit blocks do not apply: {0}")]
    EditBlocks(#[from] crate::editfmt::EditError),
    #[error("cancelled")]
    Cancelled,
}

/// Request fields a real client adds to every call (`--max-tokens`, `--temperature`,
/// `--extra-body`, `--context-window`).
#[derive(Clone, PartialEq, Default)]
pub struct RequestSettings {
    /// Output token limit; `None` leaves the server's default (Anthropic requires one and uses
    /// its documented default then).
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    /// Merged into the JSON body last (objects merged key by key, anything else replaced),
    /// e.g. `{"options": {"num_ctx": 32768}}` for Ollama.
    pub extra_body: Option<serde_json::Map<String, serde_json::Value>>,
    /// The model's context window in tokens: a larger prompt (counted locally) is refused
    /// before sending with [`LlmError::PromptTooLarge`].
    pub context_window: Option<usize>,
}

// Written by hand: the extra body's values may hold anything (a token for a proxy), so only
// its keys are shown.
impl std::fmt::Debug for RequestSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestSettings")
            .field("max_tokens", &self.max_tokens)
            .field("temperature", &self.temperature)
            .field(
                "extra_body_keys",
                &self
                    .extra_body
                    .as_ref()
                    .map(|extra| extra.keys().cloned().collect::<Vec<_>>()),
            )
            .field("context_window", &self.context_window)
            .finish()
    }
}

impl RequestSettings {
    /// Merges the extra body into `body`: objects key by key (so `{"options": {...}}` adds to
    /// options already there), any other value replaces what the client put.
    pub fn merge_extra_body(&self, body: &mut serde_json::Value) {
        fn merge(into: &mut serde_json::Value, from: &serde_json::Value) {
            match (into, from) {
                (serde_json::Value::Object(into), serde_json::Value::Object(from)) => {
                    for (key, value) in from {
                        match into.get_mut(key) {
                            Some(existing) => merge(existing, value),
                            None => {
                                into.insert(key.clone(), value.clone());
                            }
                        }
                    }
                }
                (into, from) => *into = from.clone(),
            }
        }
        if let Some(extra) = &self.extra_body {
            merge(body, &serde_json::Value::Object(extra.clone()));
        }
    }
}
