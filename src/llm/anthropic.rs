//! The Anthropic backend: `POST {base}/v1/messages`, streamed as named SSE events, with a
//! `cache_control` breakpoint at the end of the stable context prefix.

use std::fmt;
use std::time::Instant;

use eventsource_stream::Event;
use futures::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};
use tracing::Instrument;

use super::http::{
    self, AnswerBuilder, HttpSettings, HttpTransport, KeyHint, ProviderEnv, StreamedAnswer,
};
use super::semconv;
use super::types::{
    ChatPrompt, CodeEdit, CodeEditRequest, LlmError, LlmResponse, RequestSettings, ToolDecision,
    ToolMode, ToolSelectionRequest, Usage,
};
use super::wire;
use super::{LlmClient, LlmConfig};

pub const PROVIDER: &str = semconv::PROVIDER_ANTHROPIC;
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
pub const DEFAULT_MODEL: &str = "claude-sonnet-4-5";
pub const API_KEY_VAR: &str = "ANTHROPIC_API_KEY";
pub const BASE_URL_VAR: &str = "ANTHROPIC_BASE_URL";
pub const API_VERSION: &str = "2023-06-01";
/// The output limit sent without `--max-tokens` (the API requires one): room for a whole
/// scene file in the answer.
pub const DEFAULT_MAX_TOKENS: u32 = 8192;

/// How Anthropic settings are named in the environment, and their defaults.
pub const ENV: ProviderEnv = ProviderEnv {
    base_url_var: BASE_URL_VAR,
    api_key_var: API_KEY_VAR,
    default_base_url: DEFAULT_BASE_URL,
    default_model: DEFAULT_MODEL,
};

/// Where and how to reach the Messages API.
#[derive(Clone, PartialEq)]
pub struct AnthropicConfig {
    /// The API root that `/v1/messages` hangs off (given with or without `/v1`).
    pub base_url: String,
    pub model: String,
    /// Optional for every host: without one no `x-api-key` header is sent.
    pub api_key: Option<String>,
    /// The output token limit the API requires (`--max-tokens`, default
    /// [`DEFAULT_MAX_TOKENS`]).
    pub max_tokens: u32,
    /// Timeouts, caps, and retries on 429 and 5xx (including 529 "overloaded").
    pub http: HttpSettings,
    /// Native tool calls, the JSON text format, or native with fallback.
    pub tool_mode: ToolMode,
    /// Temperature, extra body, context window (its `max_tokens` is ignored: the field above
    /// holds the limit sent).
    pub request: RequestSettings,
}

// Written by hand so that the key never reaches a log.
impl fmt::Debug for AnthropicConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnthropicConfig")
            .field("base_url", &http::redact_url(&self.base_url))
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("max_tokens", &self.max_tokens)
            .field("http", &self.http)
            .field("tool_mode", &self.tool_mode)
            .field("request", &self.request)
            .finish()
    }
}

impl AnthropicConfig {
    /// A configuration with default limits, timeouts and retries; a key in the URL's user
    /// info becomes the key.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        let (base_url, api_key) = http::split_credentials(&base_url.into());
        AnthropicConfig {
            base_url,
            model: model.into(),
            api_key,
            max_tokens: DEFAULT_MAX_TOKENS,
            http: HttpSettings::default(),
            tool_mode: ToolMode::default(),
            request: RequestSettings::default(),
        }
    }

    /// From the backend configuration and the environment: `ANTHROPIC_API_KEY`, and
    /// `ANTHROPIC_BASE_URL` when no base URL was given. Predicted outputs are an OpenAI
    /// feature: `predict` is ignored here.
    pub fn from_config(config: &LlmConfig) -> Self {
        Self::from_lookup(config, |name| std::env::var(name).ok())
    }

    /// [`AnthropicConfig::from_config`] with the environment given as a function, for tests.
    pub fn from_lookup(config: &LlmConfig, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let endpoint = ENV.resolve(config.base_url.clone(), config.model.clone(), lookup);
        AnthropicConfig {
            api_key: endpoint.api_key,
            max_tokens: config.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
            http: config.http_settings(),
            tool_mode: config.tool_mode,
            request: config.request_settings(),
            ..AnthropicConfig::new(endpoint.base_url, endpoint.model)
        }
    }
}

/// The Anthropic [`LlmClient`].
#[derive(Debug, Clone)]
pub struct AnthropicClient {
    config: AnthropicConfig,
    transport: HttpTransport,
    url: String,
    headers: HeaderMap,
}

impl AnthropicClient {
    /// Keys are optional: a client without one sends no `x-api-key`, and a 401 then says to
    /// set [`API_KEY_VAR`].
    pub fn new(mut config: AnthropicConfig) -> Result<Self, LlmError> {
        let key = KeyHint::settle(
            &mut config.base_url,
            &mut config.api_key,
            http::anthropic_api_root,
            API_KEY_VAR,
        );
        let transport = HttpTransport::new(PROVIDER, key, config.http)?;
        let url = http::endpoint_url(&config.base_url, "v1/messages");
        let headers = headers(&config, &url)?;
        Ok(AnthropicClient {
            config,
            transport,
            url,
            headers,
        })
    }

    pub fn config(&self) -> &AnthropicConfig {
        &self.config
    }

    /// The endpoint requests go to (`{root}/v1/messages`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The JSON body of a streamed Messages call. The user turn is two blocks: the stable
    /// prefix, marked as the end of the cached prefix (which then covers the system prompt
    /// too), and the changing part, which is never cached. Empty blocks are left out because
    /// the API refuses them.
    pub fn request_body(&self, prompt: &ChatPrompt) -> Value {
        self.body(prompt, false)
    }

    /// The body for stage 2 with native tool calls: the `select_tool` tool, forced. Tools
    /// come first in the cached prefix's order and never change, so the cache still hits.
    pub fn tool_request_body(&self, prompt: &ChatPrompt) -> Value {
        self.body(prompt, true)
    }

    fn body(&self, prompt: &ChatPrompt, tools: bool) -> Value {
        let mut content = Vec::new();
        if !prompt.stable_prefix.is_empty() {
            content.push(json!({
                "type": "text",
                "text": prompt.stable_prefix,
                "cache_control": {"type": "ephemeral"},
            }));
        }
        if !prompt.variable.is_empty() || content.is_empty() {
            content.push(json!({"type": "text", "text": prompt.variable}));
        }
        let mut body = json!({
            "model": self.config.model,
            "max_tokens": self.config.max_tokens,
            "stream": true,
            "messages": [{"role": "user", "content": content}],
        });
        if !prompt.system.is_empty() {
            body["system"] = json!([{"type": "text", "text": prompt.system}]);
        }
        if tools {
            body["tools"] = json!([{
                "name": wire::SELECT_TOOL,
                "description": wire::SELECT_TOOL_DESCRIPTION,
                "input_schema": wire::decision_schema(),
            }]);
            body["tool_choice"] = json!({"type": "tool", "name": wire::SELECT_TOOL});
        }
        if let Some(temperature) = self.config.request.temperature {
            body["temperature"] = json!(temperature);
        }
        self.config.request.merge_extra_body(&mut body);
        body
    }

    /// Sends `body` (built from `prompt`) and reads the streamed answer to `message_stop`. A
    /// prompt over the context window is refused before sending; missing usage is estimated.
    pub async fn chat(
        &self,
        prompt: &ChatPrompt,
        body: &Value,
    ) -> Result<StreamedAnswer, LlmError> {
        http::check_context_window(prompt, self.config.request.context_window)?;
        let span = semconv::chat_span(PROVIDER, &self.config.model);
        let result = self
            .transport
            .stream(
                &self.url,
                self.headers.clone(),
                body,
                "message_stop",
                || {
                    let mut reader = EventReader::default();
                    move |answer: &mut AnswerBuilder, event: &Event, now: Instant| {
                        reader.feed(answer, event, now)
                    }
                },
            )
            .instrument(span.clone())
            .await
            .map(|mut answer| {
                answer.estimate_missing_usage(prompt);
                answer
            });
        semconv::record_outcome(&span, result.as_ref());
        result
    }

    /// Stage 2 in the text format.
    async fn select_tool_json(
        &self,
        request: &ToolSelectionRequest,
    ) -> Result<LlmResponse<ToolDecision>, LlmError> {
        let prompt = wire::tool_selection_prompt(request);
        let answer = self.chat(&prompt, &self.request_body(&prompt)).await?;
        wire::tool_selection_response(answer, request, &self.config.model, &prompt)
    }
}

/// The request headers: key, API version.
fn headers(config: &AnthropicConfig, url: &str) -> Result<HeaderMap, LlmError> {
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_static("anthropic-version"),
        HeaderValue::from_static(API_VERSION),
    );
    if let Some(key) = &config.api_key {
        let mut value = HeaderValue::from_str(key).map_err(|_| LlmError::Connect {
            url: http::redact_url(url),
            detail: format!("{API_KEY_VAR} holds characters not allowed in an HTTP header"),
        })?;
        value.set_sensitive(true);
        headers.insert(HeaderName::from_static("x-api-key"), value);
    }
    Ok(headers)
}

/// Anthropic's own token counters. Kept apart from [`Usage`] because `input_tokens` here
/// excludes the cached parts, and `message_delta` may restate any of them.
#[derive(Debug, Default, Clone, Copy)]
struct ProviderUsage {
    input_tokens: u64,
    cache_read_input_tokens: u64,
    cache_creation_input_tokens: u64,
    output_tokens: u64,
}

impl ProviderUsage {
    /// Takes every counter present in `usage`. They are running totals, so they replace the
    /// previous value; adding them would count the output twice.
    fn assign_from(&mut self, usage: &Value) {
        let counter = |name: &str| usage.get(name).and_then(Value::as_u64);
        if let Some(n) = counter("input_tokens") {
            self.input_tokens = n;
        }
        if let Some(n) = counter("cache_read_input_tokens") {
            self.cache_read_input_tokens = n;
        }
        if let Some(n) = counter("cache_creation_input_tokens") {
            self.cache_creation_input_tokens = n;
        }
        if let Some(n) = counter("output_tokens") {
            self.output_tokens = n;
        }
    }

    /// In editscope's terms: input counts everything the model read, cached or not.
    fn to_usage(self) -> Usage {
        Usage {
            input_tokens: self.input_tokens
                + self.cache_read_input_tokens
                + self.cache_creation_input_tokens,
            cached_input_tokens: self.cache_read_input_tokens,
            cache_creation_input_tokens: self.cache_creation_input_tokens,
            output_tokens: self.output_tokens,
            estimated: false,
        }
    }
}

/// Reads the event stream of one answer.
#[derive(Debug, Default)]
pub struct EventReader {
    usage: ProviderUsage,
}

impl EventReader {
    /// Folds one SSE event into the answer; `true` at `message_stop`. Unknown event types are
    /// skipped: the API documents that new ones may appear.
    pub fn feed(
        &mut self,
        answer: &mut AnswerBuilder,
        event: &Event,
        now: Instant,
    ) -> Result<bool, LlmError> {
        let data = event.data.trim();
        let payload: Value = if data.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(data).map_err(|error| LlmError::Malformed {
                what: "anthropic stream event".to_string(),
                detail: format!("{error}: {}", http::excerpt(data, 160)),
            })?
        };
        // The `type` inside the data is authoritative; the `event:` line repeats it.
        let kind = payload
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or(event.event.as_str());
        match kind {
            "message_start" => {
                let message = payload.get("message").unwrap_or(&Value::Null);
                answer.note_model(message.get("model").and_then(Value::as_str));
                if let Some(usage) = message.get("usage") {
                    self.usage.assign_from(usage);
                }
            }
            "content_block_start" => {
                let block = payload.get("content_block").unwrap_or(&Value::Null);
                let index = payload.get("index").and_then(Value::as_u64).unwrap_or(0);
                if block.get("type").and_then(Value::as_str) == Some("tool_use") {
                    let name = block.get("name").and_then(Value::as_str);
                    answer.push_tool_call(index, Some(name.unwrap_or("")), "", now);
                    // The API starts a streamed call with `input: {}` and sends the arguments
                    // as input_json_delta; a server that sends them whole puts them here.
                    if let Some(input) = block.get("input").and_then(Value::as_object)
                        && !input.is_empty()
                    {
                        answer
                            .set_initial_arguments(index, Value::Object(input.clone()).to_string());
                    }
                } else {
                    answer.push_text(block.get("text").and_then(Value::as_str).unwrap_or(""), now);
                }
            }
            "content_block_delta" => {
                let delta = payload.get("delta").unwrap_or(&Value::Null);
                let index = payload.get("index").and_then(Value::as_u64).unwrap_or(0);
                match delta.get("type").and_then(Value::as_str) {
                    Some("text_delta") => answer
                        .push_text(delta.get("text").and_then(Value::as_str).unwrap_or(""), now),
                    Some("input_json_delta") => answer.push_tool_call(
                        index,
                        None,
                        delta
                            .get("partial_json")
                            .and_then(Value::as_str)
                            .unwrap_or(""),
                        now,
                    ),
                    _ => {}
                }
            }
            "message_delta" => {
                if let Some(reason) = payload
                    .pointer("/delta/stop_reason")
                    .and_then(Value::as_str)
                {
                    answer.finish_reason = Some(reason.to_string());
                }
                if let Some(usage) = payload.get("usage") {
                    self.usage.assign_from(usage);
                }
            }
            "message_stop" => {
                answer.usage = self.usage.to_usage();
                return Ok(true);
            }
            "error" => return Err(error_event(&payload)),
            _ => {}
        }
        answer.usage = self.usage.to_usage();
        Ok(false)
    }
}

/// HTTP status Anthropic documents for each error type, so that an error arriving inside a
/// 200 stream reads like the same error arriving as a status.
fn status_for_error_type(error_type: &str) -> u16 {
    match error_type {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        // api_error and anything new: a failure on the provider's side.
        _ => 500,
    }
}

/// An `error` event (e.g. `overloaded_error` mid-answer) as [`LlmError::Http`] with the status
/// its type stands for and its message: the user should read it as the provider failing, not
/// as the model answering badly.
fn error_event(payload: &Value) -> LlmError {
    let error_type = payload
        .pointer("/error/type")
        .and_then(Value::as_str)
        .unwrap_or("error");
    let message = payload
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("no message");
    LlmError::Http {
        provider: PROVIDER,
        status: status_for_error_type(error_type),
        body: format!(
            "error event in the response stream: {error_type}: {}",
            http::excerpt(message, 300)
        ),
    }
}

impl LlmClient for AnthropicClient {
    fn fork(&self) -> Option<Box<dyn LlmClient>> {
        Some(Box::new(self.clone()))
    }

    fn name(&self) -> String {
        format!("{PROVIDER}:{}", self.config.model)
    }

    fn select_tool<'a>(
        &'a self,
        request: &'a ToolSelectionRequest,
    ) -> BoxFuture<'a, Result<LlmResponse<ToolDecision>, LlmError>> {
        Box::pin(wire::select_tool_by_mode(
            self.config.tool_mode,
            PROVIDER,
            &self.url,
            move || async move {
                let prompt = wire::native_tool_selection_prompt(request);
                let answer = self.chat(&prompt, &self.tool_request_body(&prompt)).await?;
                wire::tool_selection_response(answer, request, &self.config.model, &prompt)
            },
            move || self.select_tool_json(request),
        ))
    }

    fn edit_code<'a>(
        &'a self,
        request: &'a CodeEditRequest,
    ) -> BoxFuture<'a, Result<LlmResponse<CodeEdit>, LlmError>> {
        // No predicted outputs: the Messages API has no such field (README says so).
        Box::pin(async move {
            let prompt = wire::code_edit_prompt(request);
            let answer = self.chat(&prompt, &self.request_body(&prompt)).await?;
            wire::code_edit_response(answer, request, &self.config.model, &prompt)
        })
    }
}
