//! The OpenAI-compatible backend: `POST {base}/chat/completions`, streamed over SSE with the
//! usage chunk requested, for OpenAI itself and for local servers that speak the same API
//! (vLLM, llama.cpp, Ollama, LM Studio).

use std::fmt;
use std::time::Instant;

use eventsource_stream::Event;
use futures::future::BoxFuture;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::Instrument;

use super::http::{
    self, AnswerBuilder, HttpSettings, HttpTransport, KeyHint, ProviderEnv, StreamedAnswer,
};
use super::semconv;
use super::types::{
    ChatPrompt, CodeEdit, CodeEditRequest, EditFormat, LlmError, LlmResponse, RequestSettings,
    ToolDecision, ToolMode, ToolSelectionRequest,
};
use super::wire;
use super::{LlmClient, LlmConfig};

pub const PROVIDER: &str = semconv::PROVIDER_OPENAI;
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
pub const DEFAULT_MODEL: &str = "gpt-4o-mini";
pub const API_KEY_VAR: &str = "OPENAI_API_KEY";
pub const BASE_URL_VAR: &str = "OPENAI_BASE_URL";

/// How OpenAI-compatible settings are named in the environment, and their defaults.
pub const ENV: ProviderEnv = ProviderEnv {
    base_url_var: BASE_URL_VAR,
    api_key_var: API_KEY_VAR,
    default_base_url: DEFAULT_BASE_URL,
    default_model: DEFAULT_MODEL,
};

/// Where and how to reach an OpenAI-compatible endpoint.
#[derive(Clone, PartialEq)]
pub struct OpenAiConfig {
    /// The API root that `/chat/completions` hangs off, e.g. `https://api.openai.com/v1`,
    /// `http://localhost:11434/v1` or `http://gpu:8000` (`/v1` is added to a bare host).
    pub base_url: String,
    pub model: String,
    /// Optional for every host: without one no authorization header is sent.
    pub api_key: Option<String>,
    /// Timeouts, caps, and retries on 429 and 5xx.
    pub http: HttpSettings,
    /// Native tool calls, the JSON text format, or native with fallback.
    pub tool_mode: ToolMode,
    /// max_tokens, temperature, extra body, context window.
    pub request: RequestSettings,
    /// Send the target's code as `prediction` for a whole-file code edit.
    pub predict: bool,
}

// Written by hand so that the key never reaches a log.
impl fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("base_url", &http::redact_url(&self.base_url))
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("http", &self.http)
            .field("tool_mode", &self.tool_mode)
            .field("request", &self.request)
            .field("predict", &self.predict)
            .finish()
    }
}

impl OpenAiConfig {
    /// A configuration with default timeouts, retries and settings; a key in the URL's user
    /// info becomes the key.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        let (base_url, api_key) = http::split_credentials(&base_url.into());
        OpenAiConfig {
            base_url,
            model: model.into(),
            api_key,
            http: HttpSettings::default(),
            tool_mode: ToolMode::default(),
            request: RequestSettings::default(),
            predict: false,
        }
    }

    /// From the backend configuration and the environment: `OPENAI_API_KEY`, and
    /// `OPENAI_BASE_URL` when no base URL was given.
    pub fn from_config(config: &LlmConfig) -> Self {
        Self::from_lookup(config, |name| std::env::var(name).ok())
    }

    /// [`OpenAiConfig::from_config`] with the environment given as a function, for tests.
    pub fn from_lookup(config: &LlmConfig, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let endpoint = ENV.resolve(config.base_url.clone(), config.model.clone(), lookup);
        OpenAiConfig {
            base_url: endpoint.base_url,
            model: endpoint.model,
            api_key: endpoint.api_key,
            http: config.http_settings(),
            tool_mode: config.tool_mode,
            request: config.request_settings(),
            predict: config.predict,
        }
    }
}

/// The OpenAI-compatible [`LlmClient`].
#[derive(Debug, Clone)]
pub struct OpenAiClient {
    config: OpenAiConfig,
    transport: HttpTransport,
    url: String,
    headers: HeaderMap,
}

impl OpenAiClient {
    /// Keys are optional: a client without one sends no authorization header, and a 401
    /// then says to set [`API_KEY_VAR`].
    pub fn new(mut config: OpenAiConfig) -> Result<Self, LlmError> {
        let key = KeyHint::settle(
            &mut config.base_url,
            &mut config.api_key,
            http::openai_api_root,
            API_KEY_VAR,
        );
        let transport = HttpTransport::new(PROVIDER, key, config.http)?;
        let url = http::endpoint_url(&config.base_url, "chat/completions");
        let headers = headers(&config, &url)?;
        Ok(OpenAiClient {
            config,
            transport,
            url,
            headers,
        })
    }

    pub fn config(&self) -> &OpenAiConfig {
        &self.config
    }

    /// The endpoint requests go to (`{root}/chat/completions`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The JSON body of a streamed chat completion in the text format: system message, then
    /// one user message with the stable prefix first, so the provider's automatic prefix
    /// cache can hit.
    pub fn request_body(&self, prompt: &ChatPrompt) -> Value {
        self.body(prompt, false, None)
    }

    /// The body for stage 2 with native tool calls: the `select_tool` function, forced.
    pub fn tool_request_body(&self, prompt: &ChatPrompt) -> Value {
        self.body(prompt, true, None)
    }

    fn body(&self, prompt: &ChatPrompt, tools: bool, prediction: Option<&str>) -> Value {
        let user = [prompt.stable_prefix.as_str(), prompt.variable.as_str()]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("\n\n");
        let mut body = json!({
            "model": self.config.model,
            "stream": true,
            "stream_options": {"include_usage": true},
            "messages": [
                {"role": "system", "content": prompt.system},
                {"role": "user", "content": user},
            ],
        });
        if tools {
            body["tools"] = json!([{
                "type": "function",
                "function": {
                    "name": wire::SELECT_TOOL,
                    "description": wire::SELECT_TOOL_DESCRIPTION,
                    "parameters": wire::decision_schema(),
                },
            }]);
            body["tool_choice"] =
                json!({"type": "function", "function": {"name": wire::SELECT_TOOL}});
        }
        if let Some(code) = prediction {
            body["prediction"] = json!({"type": "content", "content": code});
        }
        if let Some(max_tokens) = self.config.request.max_tokens {
            body["max_tokens"] = json!(max_tokens);
        }
        if let Some(temperature) = self.config.request.temperature {
            body["temperature"] = json!(temperature);
        }
        self.config.request.merge_extra_body(&mut body);
        body
    }

    /// Sends `body` (built from `prompt`) and reads the streamed answer to its end. A prompt
    /// over the context window is refused before sending; missing usage is estimated.
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
                "data: [DONE]",
                || feed_event,
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

/// The request headers: the bearer key when there is one.
fn headers(config: &OpenAiConfig, url: &str) -> Result<HeaderMap, LlmError> {
    let mut headers = HeaderMap::new();
    if let Some(key) = &config.api_key {
        let mut value =
            HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| LlmError::Connect {
                url: http::redact_url(url),
                detail: format!("{API_KEY_VAR} holds characters not allowed in an HTTP header"),
            })?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    Ok(headers)
}

/// One streamed chunk, read leniently: compatible servers leave out fields OpenAI sends.
#[derive(Debug, Deserialize)]
struct Chunk {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    #[serde(default)]
    usage: Option<ChunkUsage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCallDelta>>,
}

/// A piece of a streamed tool call: the name in the first piece, the arguments in pieces.
#[derive(Debug, Deserialize)]
struct ToolCallDelta {
    /// Which call the piece belongs to; servers that stream one call may leave it out.
    #[serde(default)]
    index: Option<u64>,
    #[serde(default)]
    function: Option<FunctionDelta>,
}

#[derive(Debug, Deserialize)]
struct FunctionDelta {
    #[serde(default)]
    name: Option<String>,
    /// A string as OpenAI sends it; some servers send the object itself.
    #[serde(default)]
    arguments: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct ChunkUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<PromptTokensDetails>,
}

#[derive(Debug, Deserialize)]
struct PromptTokensDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

/// Folds one SSE event into the answer; `true` at `[DONE]`.
pub fn feed_event(
    answer: &mut AnswerBuilder,
    event: &Event,
    now: Instant,
) -> Result<bool, LlmError> {
    let data = event.data.trim();
    if data == "[DONE]" {
        return Ok(true);
    }
    if data.is_empty() {
        return Ok(false);
    }
    let chunk: Chunk = serde_json::from_str(data).map_err(|error| LlmError::Malformed {
        what: "openai stream chunk".to_string(),
        detail: format!("{error}: {}", http::excerpt(data, 160)),
    })?;
    if let Some(error) = chunk.error {
        return Err(stream_error(&error));
    }
    answer.note_model(chunk.model.as_deref());
    if let Some(choice) = chunk.choices.first() {
        if let Some(content) = choice.delta.as_ref().and_then(|d| d.content.as_deref()) {
            answer.push_text(content, now);
        }
        for call in choice
            .delta
            .as_ref()
            .and_then(|d| d.tool_calls.as_ref())
            .into_iter()
            .flatten()
        {
            let function = call.function.as_ref();
            let arguments = match function.and_then(|f| f.arguments.as_ref()) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(piece)) => piece.clone(),
                Some(whole) => whole.to_string(),
            };
            answer.push_tool_call(
                call.index.unwrap_or(0),
                function.and_then(|f| f.name.as_deref()),
                &arguments,
                now,
            );
        }
        if let Some(reason) = &choice.finish_reason {
            answer.finish_reason = Some(reason.clone());
        }
    }
    // Some servers repeat running totals in every chunk: the last one wins.
    if let Some(usage) = chunk.usage {
        answer.usage.input_tokens = usage.prompt_tokens;
        answer.usage.cached_input_tokens = usage
            .prompt_tokens_details
            .and_then(|details| details.cached_tokens)
            .unwrap_or(0);
        answer.usage.output_tokens = usage.completion_tokens;
    }
    Ok(false)
}

/// An error reported inside a 200 stream (`data: {"error": {...}}`), as vLLM and OpenAI do when
/// generation fails after the headers went out. Reported as [`LlmError::Http`] with the error's
/// numeric `code` when it has one, else 500: the failure is on the provider's side.
fn stream_error(error: &Value) -> LlmError {
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .map_or_else(|| error.to_string(), str::to_string);
    let status = error
        .get("code")
        .and_then(|code| {
            code.as_u64()
                .or_else(|| code.as_str().and_then(|s| s.parse().ok()))
        })
        .and_then(|code| u16::try_from(code).ok())
        .filter(|code| (400..600).contains(code))
        .unwrap_or(500);
    LlmError::Http {
        provider: PROVIDER,
        status,
        body: format!(
            "error in the response stream: {}",
            http::excerpt(&message, 300)
        ),
    }
}

impl LlmClient for OpenAiClient {
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
        Box::pin(async move {
            let prompt = wire::code_edit_prompt(request);
            // Predicted outputs only make sense when the answer is the whole file, most of
            // which is the old code; a diff answer shares little with it.
            let prediction = match (self.config.predict, request.edit_format, &request.target) {
                (true, EditFormat::Whole, Some(target)) => Some(target.code.as_str()),
                _ => None,
            };
            let body = self.body(&prompt, false, prediction);
            let answer = self.chat(&prompt, &body).await?;
            wire::code_edit_response(answer, request, &self.config.model, &prompt)
        })
    }
}
