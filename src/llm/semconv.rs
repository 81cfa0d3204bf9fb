//! OpenTelemetry GenAI semantic-convention names (PROVIDERS.md), kept in one place because the
//! convention is still moving, and the tracing span every real model call runs in.
//!
//! The span follows the convention: named `"{gen_ai.operation.name} {gen_ai.request.model}"`
//! (through `otel.name`, which tracing-opentelemetry uses as the exported span name), kind
//! CLIENT, with the usage and timing attributes recorded when the call ends.

use tracing::Span;
use tracing::field::Empty;

use super::http::StreamedAnswer;
use super::types::LlmError;

pub const GEN_AI_OPERATION_NAME: &str = "gen_ai.operation.name";
pub const GEN_AI_PROVIDER_NAME: &str = "gen_ai.provider.name";
pub const GEN_AI_REQUEST_MODEL: &str = "gen_ai.request.model";
pub const GEN_AI_RESPONSE_MODEL: &str = "gen_ai.response.model";
pub const GEN_AI_RESPONSE_FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
/// Input tokens including cached ones.
pub const GEN_AI_USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
pub const GEN_AI_USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
pub const GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";
pub const GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: &str = "gen_ai.usage.cache_write.input_tokens";
/// Seconds from the request to the first content chunk.
pub const GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: &str = "gen_ai.response.time_to_first_chunk";
pub const ERROR_TYPE: &str = "error.type";

/// Span name and kind as tracing-opentelemetry reads them.
pub const OTEL_NAME: &str = "otel.name";
pub const OTEL_KIND: &str = "otel.kind";
pub const OTEL_KIND_CLIENT: &str = "client";

/// `gen_ai.operation.name` of every call we make.
pub const OPERATION_CHAT: &str = "chat";
/// `gen_ai.provider.name` values.
pub const PROVIDER_OPENAI: &str = "openai";
pub const PROVIDER_ANTHROPIC: &str = "anthropic";

/// `gen_ai.provider.name` of the built-in offline backend: not a real provider, so a name of our
/// own namespace (the convention allows custom values), never mistaken for one.
pub const PROVIDER_OFFLINE: &str = "editscope.offline";

/// Resource attributes of exported traces (OpenTelemetry resource conventions).
pub const SERVICE_NAME: &str = "service.name";
pub const SERVICE_VERSION: &str = "service.version";
/// `service.name` of everything editscope exports.
pub const SERVICE_NAME_EDITSCOPE: &str = "editscope";

// editscope's own attributes of exported runs (trace export, DESIGN.md section 7). They are not
// a convention of anyone else's, so they live in the `editscope.` namespace.
pub const EDITSCOPE_RUN_ID: &str = "editscope.run.id";
pub const EDITSCOPE_PROJECT_ID: &str = "editscope.project.id";
pub const EDITSCOPE_PROMPT: &str = "editscope.prompt";
pub const EDITSCOPE_FLAGS: &str = "editscope.flags";
pub const EDITSCOPE_OUTCOME: &str = "editscope.outcome";
pub const EDITSCOPE_TOOL: &str = "editscope.tool";
pub const EDITSCOPE_TARGET_SCENE_ID: &str = "editscope.target_scene_id";
/// A comparison run (one side of an A/B dry run): it changed nothing.
pub const EDITSCOPE_COMPARISON: &str = "editscope.comparison";
pub const EDITSCOPE_STAGE: &str = "editscope.stage";
/// Wall-clock milliseconds of a stage.
pub const EDITSCOPE_REAL_MS: &str = "editscope.real_ms";
/// Modeled milliseconds of a stage (offline latency model).
pub const EDITSCOPE_SIMULATED_MS: &str = "editscope.simulated_ms";
/// The figures of a model call come from the offline latency model, not a clock.
pub const EDITSCOPE_SIMULATED: &str = "editscope.simulated";
/// The usage of a model call was estimated by editscope (the provider reported none).
pub const EDITSCOPE_USAGE_ESTIMATED: &str = "editscope.usage_estimated";
pub const EDITSCOPE_OUTPUT_TOKENS_PER_S: &str = "editscope.output_tokens_per_s";
pub const EDITSCOPE_CONTEXT_PATH: &str = "editscope.context.path";
pub const EDITSCOPE_CONTEXT_BUILD_US: &str = "editscope.context.build_us";
/// Name of one sub-step of the context build (`read`, `analysis`, `tokens`, ...).
pub const EDITSCOPE_CONTEXT_STEP: &str = "editscope.context.step";
pub const EDITSCOPE_CONTEXT_STEP_US: &str = "editscope.context.step_us";

/// `gen_ai.provider.name` of a model call. `backend` is the client's name when it is known
/// (`offline`, `openai:MODEL`, `anthropic:MODEL`); a stored run does not keep it, so there a
/// modeled call is the offline backend's, a `claude*` model Anthropic's, and any other the
/// OpenAI-compatible client's (the only other client there is).
pub fn provider_name(backend: Option<&str>, model: &str, simulated: bool) -> &'static str {
    let backend = backend.map(|b| b.split(':').next().unwrap_or(b));
    match backend {
        Some("offline") => PROVIDER_OFFLINE,
        Some(PROVIDER_ANTHROPIC) => PROVIDER_ANTHROPIC,
        Some(PROVIDER_OPENAI) => PROVIDER_OPENAI,
        _ if simulated => PROVIDER_OFFLINE,
        _ if model.to_ascii_lowercase().starts_with("claude") => PROVIDER_ANTHROPIC,
        _ => PROVIDER_OPENAI,
    }
}

/// Every attribute [`chat_span`] declares. tracing silently drops values recorded under a name
/// the span did not declare, so this list is what the tests check against.
pub const CHAT_SPAN_FIELDS: [&str; 11] = [
    GEN_AI_OPERATION_NAME,
    GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
    GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
    GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
    ERROR_TYPE,
];

/// The span one chat call runs in; the answer's figures are recorded on it by
/// [`record_outcome`].
pub fn chat_span(provider: &'static str, request_model: &str) -> Span {
    let span_name = format!("{OPERATION_CHAT} {request_model}");
    tracing::info_span!(
        "gen_ai.chat",
        { OTEL_NAME } = span_name.as_str(),
        { OTEL_KIND } = OTEL_KIND_CLIENT,
        { GEN_AI_OPERATION_NAME } = OPERATION_CHAT,
        { GEN_AI_PROVIDER_NAME } = provider,
        { GEN_AI_REQUEST_MODEL } = request_model,
        { GEN_AI_RESPONSE_MODEL } = Empty,
        { GEN_AI_RESPONSE_FINISH_REASONS } = Empty,
        { GEN_AI_USAGE_INPUT_TOKENS } = Empty,
        { GEN_AI_USAGE_OUTPUT_TOKENS } = Empty,
        { GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS } = Empty,
        { GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS } = Empty,
        { GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK } = Empty,
        { ERROR_TYPE } = Empty,
    )
}

/// Records how a call ended on its span, and logs one event with the same figures so that a
/// plain log (which shows events, not span closes) carries them too.
pub fn record_outcome(span: &Span, outcome: Result<&StreamedAnswer, &LlmError>) {
    match outcome {
        Ok(answer) => {
            if let Some(model) = &answer.model {
                span.record(GEN_AI_RESPONSE_MODEL, model.as_str());
            }
            if let Some(reason) = &answer.finish_reason {
                span.record(
                    GEN_AI_RESPONSE_FINISH_REASONS,
                    tracing::field::debug([reason.as_str()]),
                );
            }
            let usage = &answer.usage;
            let ttfc_s = answer.timing.ttft_ms / 1000.0;
            span.record(GEN_AI_USAGE_INPUT_TOKENS, usage.input_tokens);
            span.record(GEN_AI_USAGE_OUTPUT_TOKENS, usage.output_tokens);
            span.record(
                GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
                usage.cached_input_tokens,
            );
            span.record(
                GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
                usage.cache_creation_input_tokens,
            );
            span.record(GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, ttfc_s);
            span.in_scope(|| {
                tracing::info!(
                    { GEN_AI_USAGE_INPUT_TOKENS } = usage.input_tokens,
                    { GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS } = usage.cached_input_tokens,
                    { GEN_AI_USAGE_OUTPUT_TOKENS } = usage.output_tokens,
                    { GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK } = ttfc_s,
                    total_ms = answer.timing.total_ms,
                    "model call finished"
                );
            });
        }
        Err(error) => {
            let error_type = error_type(error);
            span.record(ERROR_TYPE, error_type.as_str());
            span.in_scope(|| {
                tracing::warn!({ ERROR_TYPE } = error_type.as_str(), %error, "model call failed");
            });
        }
    }
}

/// The low-cardinality `error.type` of a failure: the HTTP status where there is one (as the
/// convention recommends), otherwise the kind of failure.
pub fn error_type(error: &LlmError) -> String {
    match error {
        LlmError::MissingKey(_) => "missing_key".to_string(),
        LlmError::Connect { .. } => "connect".to_string(),
        LlmError::Timeout { .. } => "timeout".to_string(),
        LlmError::Http { status, .. }
        | LlmError::RetriesExhausted { status, .. }
        | LlmError::Unauthorized { status, .. }
        | LlmError::Quota { status, .. }
        | LlmError::RetryTooLate { status, .. } => status.to_string(),
        LlmError::PromptTooLarge { .. } => "context_window".to_string(),
        LlmError::IdleTimeout { .. } => "idle_timeout".to_string(),
        LlmError::TooLarge { .. } => "too_large".to_string(),
        LlmError::StreamCut(_) => "stream_cut".to_string(),
        LlmError::Malformed { .. } => "malformed".to_string(),
        LlmError::InvalidCode(_) => "invalid_code".to_string(),
        LlmError::EditBlocks(_) => "edit_blocks".to_string(),
        LlmError::Cancelled => "cancelled".to_string(),
    }
}
