//! Model backends (DESIGN.md section 4): the [`LlmClient`] trait, the offline backend (default)
//! and the OpenAI-compatible and Anthropic clients.
//!
//! Every request carries both structured fields (what the offline backend reads) and the
//! rendered [`ChatPrompt`] (what a real provider receives). The prompt is laid out as a stable
//! prefix (project style, preferences, scene list) before the changing part (target code,
//! request), so providers' prompt caches hit.

pub mod anthropic;
pub mod http;
pub mod offline;
pub mod openai;
pub mod semconv;
pub mod types;
pub mod wire;

pub use types::*;

use futures::future::BoxFuture;

/// One model backend. Both calls return the value with token usage and timings.
pub trait LlmClient: Send + Sync {
    /// A short name for displays and `edit_runs.flags_json`, e.g. `offline`, `openai:gpt-4o-mini`.
    fn name(&self) -> String;

    /// Stage 2: pick a tool and a target scene, or ask for clarification.
    fn select_tool<'a>(
        &'a self,
        request: &'a ToolSelectionRequest,
    ) -> BoxFuture<'a, Result<LlmResponse<ToolDecision>, LlmError>>;

    /// Stage 3: return the full new TSX of the target scene (or of a new scene).
    fn edit_code<'a>(
        &'a self,
        request: &'a CodeEditRequest,
    ) -> BoxFuture<'a, Result<LlmResponse<CodeEdit>, LlmError>>;

    /// A client in this one's provider-side state, for a comparison run that must start where
    /// this client is now: the offline backend copies its prompt cache, so two runs forked from
    /// one state see the same cache hits. A real provider's cache is not ours to copy: a real
    /// client forks into a client of the same configuration (README says so). `None` when the
    /// client cannot be copied at all.
    fn fork(&self) -> Option<Box<dyn LlmClient>> {
        None
    }

    /// Entries in each of the client's own caches, by name (`bench --soak` reports them to
    /// show they stay bounded). None for a client that keeps none.
    fn cache_entries(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
}

/// Which backend serves the model stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// Deterministic, no network (the default).
    #[default]
    Offline,
    OpenAi,
    Anthropic,
}

impl Backend {
    pub fn parse(name: &str) -> Option<Backend> {
        match name {
            "offline" => Some(Backend::Offline),
            "openai" => Some(Backend::OpenAi),
            "anthropic" => Some(Backend::Anthropic),
            _ => None,
        }
    }
}

/// The connect, idle-read and total timeouts of a real client (README "Real models").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeouts {
    pub connect: std::time::Duration,
    /// No byte for this long (waiting for headers or between two pieces of the stream).
    pub idle: std::time::Duration,
    /// The whole attempt, from sending to the end of the stream.
    pub total: std::time::Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: http::DEFAULT_CONNECT_TIMEOUT,
            idle: http::DEFAULT_IDLE_TIMEOUT,
            total: http::DEFAULT_TOTAL_TIMEOUT,
        }
    }
}

/// Everything that picks and sets up a model backend: what the command line's model flags
/// give, in this layer's own terms (the CLI builds it; `llm/` names no CLI type). Keys are
/// not here: they come from the environment only (or the base URL's user info).
#[derive(Clone, PartialEq, Default)]
pub struct LlmConfig {
    pub backend: Backend,
    /// `None`: the provider's environment variable, else its default.
    pub base_url: Option<String>,
    pub model: Option<String>,
    /// The offline backend's time scale (1 modeled real time, 0 instant).
    pub time_scale: f64,
    pub timeouts: Timeouts,
    pub tool_mode: ToolMode,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    pub extra_body: Option<serde_json::Map<String, serde_json::Value>>,
    pub context_window: Option<usize>,
    /// OpenAI-compatible only: send the target's code as the predicted output of a
    /// whole-file code edit.
    pub predict: bool,
}

// Written by hand: the base URL may hold a key in its user info, and the extra body's values
// are never shown (only its keys).
impl std::fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("backend", &self.backend)
            .field("base_url", &self.base_url.as_deref().map(http::redact_url))
            .field("model", &self.model)
            .field("time_scale", &self.time_scale)
            .field("timeouts", &self.timeouts)
            .field("tool_mode", &self.tool_mode)
            .field("request", &self.request_settings())
            .field("predict", &self.predict)
            .finish()
    }
}

impl LlmConfig {
    /// The offline backend at `time_scale`.
    pub fn offline(time_scale: f64) -> Self {
        LlmConfig {
            time_scale,
            ..LlmConfig::default()
        }
    }

    /// The request settings real clients add to each call.
    pub fn request_settings(&self) -> RequestSettings {
        RequestSettings {
            max_tokens: self.max_tokens,
            temperature: self.temperature,
            extra_body: self.extra_body.clone(),
            context_window: self.context_window,
        }
    }

    /// The timeouts as the HTTP layer takes them.
    pub fn http_settings(&self) -> http::HttpSettings {
        http::HttpSettings::with_timeouts_secs(
            self.timeouts.connect.as_secs_f64(),
            self.timeouts.idle.as_secs_f64(),
            self.timeouts.total.as_secs_f64(),
        )
    }
}

/// The backend a configuration asks for. Keys come from the environment only
/// (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`) or the base URL's user info, and are optional.
pub fn from_config(config: &LlmConfig) -> Result<Box<dyn LlmClient>, LlmError> {
    match config.backend {
        Backend::OpenAi => Ok(Box::new(openai::OpenAiClient::new(
            openai::OpenAiConfig::from_config(config),
        )?)),
        Backend::Anthropic => Ok(Box::new(anthropic::AnthropicClient::new(
            anthropic::AnthropicConfig::from_config(config),
        )?)),
        Backend::Offline => Ok(Box::new(offline::OfflineBackend::new(config.time_scale))),
    }
}
