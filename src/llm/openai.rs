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

use super::LlmClient;
use super::http::{self, AnswerBuilder, HttpSettings, HttpTransport, ProviderEnv, StreamedAnswer};
use super::semconv;
use super::types::{
    ChatPrompt, CodeEdit, CodeEditRequest, LlmError, LlmResponse, ToolDecision,
    ToolSelectionRequest,
};
use super::wire;

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
    /// The API root that `/chat/completions` hangs off, e.g. `https://api.openai.com/v1` or
    /// `http://localhost:11434/v1`.
    pub base_url: String,
    pub model: String,
    /// Needed unless the base URL is on this machine.
    pub api_key: Option<String>,
    /// Timeouts, and retries on 429 and 5xx.
    pub http: HttpSettings,
}

// Written by hand so that the key never reaches a log.
impl fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("base_url", &http::redact_userinfo(&self.base_url))
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("http", &self.http)
            .finish()
    }
}

impl OpenAiConfig {
    /// A configuration with default timeouts and retries and no key.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        OpenAiConfig {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            http: HttpSettings::default(),
        }
    }

    /// From the command line's `--base-url`, `--model` and `--timeout` and the environment:
    /// `OPENAI_API_KEY`, and `OPENAI_BASE_URL` when no base URL was given.
    pub fn from_env(base_url: Option<String>, model: Option<String>, timeout_s: f64) -> Self {
        Self::from_lookup(base_url, model, timeout_s, |name| std::env::var(name).ok())
    }

    /// [`OpenAiConfig::from_env`] with the environment given as a function, for tests.
    pub fn from_lookup(
        base_url: Option<String>,
        model: Option<String>,
        timeout_s: f64,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let endpoint = ENV.resolve(base_url, model, lookup);
        OpenAiConfig {
            base_url: endpoint.base_url,
            model: endpoint.model,
            api_key: endpoint.api_key,
            http: HttpSettings::with_timeout_secs(timeout_s),
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
    /// Fails with [`LlmError::MissingKey`] when there is no key for a remote endpoint.
    pub fn new(config: OpenAiConfig) -> Result<Self, LlmError> {
        if config.api_key.is_none() && !http::is_local_base_url(&config.base_url) {
            return Err(LlmError::MissingKey(API_KEY_VAR));
        }
        let transport = HttpTransport::new(PROVIDER, config.http)?;
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

    /// The JSON body of a streamed chat completion: system message, then one user message with
    /// the stable prefix first, so the provider's automatic prefix cache can hit.
    pub fn request_body(&self, prompt: &ChatPrompt) -> Value {
        let user = [prompt.stable_prefix.as_str(), prompt.variable.as_str()]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("\n\n");
        json!({
            "model": self.config.model,
            "stream": true,
            "stream_options": {"include_usage": true},
            "messages": [
                {"role": "system", "content": prompt.system},
                {"role": "user", "content": user},
            ],
        })
    }

    /// Sends `prompt` and reads the streamed answer to its end.
    pub async fn chat(&self, prompt: &ChatPrompt) -> Result<StreamedAnswer, LlmError> {
        let span = semconv::chat_span(PROVIDER, &self.config.model);
        let result = self.stream_chat(prompt).instrument(span.clone()).await;
        semconv::record_outcome(&span, result.as_ref());
        result
    }

    async fn stream_chat(&self, prompt: &ChatPrompt) -> Result<StreamedAnswer, LlmError> {
        let body = self.request_body(prompt);
        let start = self
            .transport
            .post_sse(&self.url, self.headers.clone(), &body)
            .await?;
        http::read_stream(
            start.events,
            AnswerBuilder::new(start.sent_at),
            "data: [DONE]",
            feed_event,
        )
        .await
    }
}

/// The request headers: the bearer key when there is one.
fn headers(config: &OpenAiConfig, url: &str) -> Result<HeaderMap, LlmError> {
    let mut headers = HeaderMap::new();
    if let Some(key) = &config.api_key {
        let mut value =
            HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| LlmError::Connect {
                url: http::redact_userinfo(url),
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
        Box::pin(async move {
            let prompt = wire::tool_selection_prompt(request);
            let answer = self.chat(&prompt).await?;
            wire::tool_selection_response(answer, request, &self.config.model, &prompt)
        })
    }

    fn edit_code<'a>(
        &'a self,
        request: &'a CodeEditRequest,
    ) -> BoxFuture<'a, Result<LlmResponse<CodeEdit>, LlmError>> {
        Box::pin(async move {
            let prompt = wire::code_edit_prompt(request);
            let answer = self.chat(&prompt).await?;
            wire::code_edit_response(answer, request, &self.config.model, &prompt)
        })
    }
}
