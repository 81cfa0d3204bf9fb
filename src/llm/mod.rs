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

/// The backend the command line asks for: `offline` (default), `openai` or `anthropic`.
/// Keys come from the environment only (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`).
pub fn from_args(args: &crate::cli::LlmArgs) -> Result<Box<dyn LlmClient>, LlmError> {
    match args.llm.as_str() {
        "openai" => Ok(Box::new(openai::OpenAiClient::new(
            openai::OpenAiConfig::from_env(args.base_url.clone(), args.model.clone(), args.timeout),
        )?)),
        "anthropic" => Ok(Box::new(anthropic::AnthropicClient::new(
            anthropic::AnthropicConfig::from_env(
                args.base_url.clone(),
                args.model.clone(),
                args.timeout,
            ),
        )?)),
        _ => Ok(Box::new(offline::OfflineBackend::new(args.time_scale))),
    }
}
