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
}

impl Usage {
    pub fn add(&mut self, other: &Usage) {
        self.input_tokens += other.input_tokens;
        self.cached_input_tokens += other.cached_input_tokens;
        self.cache_creation_input_tokens += other.cache_creation_input_tokens;
        self.output_tokens += other.output_tokens;
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

/// Why a backend call failed. Each variant says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("no API key: set {0} in the environment")]
    MissingKey(&'static str),
    #[error("cannot connect to {url}: {detail}")]
    Connect { url: String, detail: String },
    #[error("the model did not answer within {seconds:.1} s (timeout)")]
    Timeout { seconds: f64 },
    #[error("{provider} answered HTTP {status}: {body}")]
    Http {
        provider: &'static str,
        status: u16,
        body: String,
    },
    #[error("{provider} still failing after {attempts} attempts: last HTTP {status}")]
    RetriesExhausted {
        provider: &'static str,
        attempts: u32,
        status: u16,
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
