//! What both real model clients share: building the HTTP client, the retry policy (bounded,
//! exponential backoff with jitter, `Retry-After` honoured), mapping transport failures to
//! [`LlmError`], reading a Server-Sent Events body, and folding a streamed answer into text,
//! usage and timings.

use std::sync::Once;
use std::time::{Duration, Instant};

use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures::StreamExt;
use futures::stream::BoxStream;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};

use super::types::{CallTiming, ChatPrompt, LlmError, LlmResponse, Usage};

/// Longest wait we accept from a server's `Retry-After`: a provider asking for minutes would
/// otherwise freeze an interactive edit; past this the caller sees the error instead.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Longest computed backoff between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How much of an error body ends up in [`LlmError::Http`].
const ERROR_BODY_CHARS: usize = 300;

/// Defaults shared by both providers' configurations.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Retries after the first attempt: 3 attempts in total.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(500);

/// Timeouts and retry policy of one client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HttpSettings {
    /// Limit on establishing the TCP/TLS connection.
    pub connect_timeout: Duration,
    /// Limit on one whole attempt, from connecting to the end of the streamed body.
    pub request_timeout: Duration,
    /// Retries after the first attempt on 429 and 5xx answers.
    pub max_retries: u32,
    /// Backoff before the first retry; doubles for each further one.
    pub initial_backoff: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_retries: DEFAULT_MAX_RETRIES,
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
        }
    }
}

impl HttpSettings {
    /// The default policy with the request timeout of a `--timeout` value in seconds.
    pub fn with_timeout_secs(seconds: f64) -> Self {
        let request_timeout = request_timeout_from_secs(seconds);
        HttpSettings {
            connect_timeout: connect_timeout_for(request_timeout),
            request_timeout,
            ..HttpSettings::default()
        }
    }
}

/// How one provider names its settings in the environment, and what it uses without them.
#[derive(Debug, Clone, Copy)]
pub struct ProviderEnv {
    pub base_url_var: &'static str,
    pub api_key_var: &'static str,
    pub default_base_url: &'static str,
    pub default_model: &'static str,
}

/// Base URL, model and key of one provider, resolved from the command line, the environment
/// and the provider's defaults, in that order.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedEndpoint {
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
}

impl ProviderEnv {
    /// Flags win over the environment, which wins over the defaults; a blank value counts as
    /// absent, so `OPENAI_BASE_URL=` in a shell profile does not erase the default.
    pub fn resolve(
        &self,
        base_url: Option<String>,
        model: Option<String>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> ResolvedEndpoint {
        let present = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
        ResolvedEndpoint {
            base_url: present(base_url)
                .or_else(|| present(lookup(self.base_url_var)))
                .unwrap_or_else(|| self.default_base_url.to_string()),
            model: present(model).unwrap_or_else(|| self.default_model.to_string()),
            api_key: present(lookup(self.api_key_var)),
        }
    }
}

/// The request timeout for a `--timeout` value in seconds, falling back to the default for
/// values that are not a positive finite number (`Duration::from_secs_f64` would panic on them).
pub fn request_timeout_from_secs(seconds: f64) -> Duration {
    match Duration::try_from_secs_f64(seconds) {
        Ok(timeout) if !timeout.is_zero() => timeout,
        _ => DEFAULT_REQUEST_TIMEOUT,
    }
}

/// The connect timeout that goes with a request timeout: never longer than the whole request.
pub fn connect_timeout_for(request_timeout: Duration) -> Duration {
    DEFAULT_CONNECT_TIMEOUT.min(request_timeout)
}

/// Whether a base URL points at this machine, where local servers (Ollama, vLLM, llama.cpp,
/// LM Studio, test servers) need no API key.
pub fn is_local_base_url(base_url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(base_url) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback() || ip.is_unspecified(),
        Err(_) => host.eq_ignore_ascii_case("localhost") || host.ends_with(".localhost"),
    }
}

/// `text` with the user info of every URL in it (`http://user:KEY@host`) masked as `***@`: a
/// key may be written into a base URL, and URLs end up in errors and logs. What is masked is
/// everything between `://` and an `@` that comes before the host ends.
pub fn redact_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let authority_end = tail
            .find(['/', '?', '#', ' ', ')', '"', '\'', '\n', '>'])
            .unwrap_or(tail.len());
        match tail[..authority_end].rfind('@') {
            Some(userinfo_end) => {
                out.push_str("***");
                rest = &tail[userinfo_end..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// `text` with every secret of `headers` (the values marked sensitive: the API key, also
/// without its `Bearer ` scheme) masked: a server that echoes the key in an error body (some
/// proxies do, on a 401) must not put it into our error message.
pub fn without_secrets(text: &str, headers: &HeaderMap) -> String {
    let mut text = redact_userinfo(text);
    for value in headers.values().filter(|v| v.is_sensitive()) {
        let Ok(value) = value.to_str() else { continue };
        let secret = value.strip_prefix("Bearer ").unwrap_or(value).trim();
        if secret.len() >= 4 {
            text = text.replace(secret, "***");
        }
    }
    text
}

/// Joins a configured base URL and an endpoint path without doubling or losing the slash.
pub fn endpoint_url(base_url: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base_url.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// Cuts `text` to at most `max_chars` characters, marking the cut.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// The delay before retry number `retry` (1 for the first retry): `initial * 2^(retry-1)`,
/// capped, then scaled by `jitter` (expected in 0.5..=1.0) so that clients that failed together
/// do not come back together.
pub fn backoff_delay(initial: Duration, retry: u32, jitter: f64) -> Duration {
    let exponent = retry.saturating_sub(1).min(16);
    let base = initial.saturating_mul(1u32 << exponent).min(MAX_BACKOFF);
    base.mul_f64(jitter.clamp(0.0, 1.0))
}

/// The wait a server asked for, from `retry-after-ms` (OpenAI) or `Retry-After` in seconds;
/// HTTP dates are not honoured (no provider we talk to sends them). Capped at
/// [`MAX_RETRY_AFTER`].
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| -> Option<f64> {
        let value = headers
            .get(name)?
            .to_str()
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()?;
        (value.is_finite() && value >= 0.0).then_some(value)
    };
    let wait = if let Some(ms) = number("retry-after-ms") {
        Duration::from_secs_f64(ms.min(MAX_RETRY_AFTER.as_secs_f64() * 1000.0) / 1000.0)
    } else {
        Duration::from_secs_f64(number(RETRY_AFTER.as_str())?.min(MAX_RETRY_AFTER.as_secs_f64()))
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// Whether an answer with this status is worth trying again: rate limits and server faults.
pub fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// The error and every cause under it, joined: reqwest's own message alone ("error sending
/// request") does not say what happened.
fn error_chain(error: &dyn std::error::Error) -> String {
    redact_userinfo(&error_chain_raw(error))
}

fn error_chain_raw(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// rustls needs a process-wide crypto provider; reqwest is built without one so that the slow
/// aws-lc build is avoided, so we install ring once (the trace exporter's client needs it too).
pub fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Err means another part of the process installed one first: that one is used.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The start of a streamed answer: its events and the moment the answering request was sent.
pub struct SseStart {
    pub events: BoxStream<'static, Result<Event, LlmError>>,
    /// When the attempt that got this answer was sent; timings count from here.
    pub sent_at: Instant,
}

/// An HTTP client for one provider with its timeouts and retry policy.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    settings: HttpSettings,
    provider: &'static str,
}

impl HttpTransport {
    pub fn new(provider: &'static str, settings: HttpSettings) -> Result<Self, LlmError> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .user_agent(concat!("editscope/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| LlmError::Connect {
                url: provider.to_string(),
                detail: format!("cannot build the HTTP client: {}", error_chain(&error)),
            })?;
        Ok(HttpTransport {
            client,
            settings,
            provider,
        })
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// POSTs `body` as JSON and returns the SSE events of the first successful answer.
    ///
    /// 429 and 5xx answers are retried up to `max_retries` times, waiting `Retry-After` when
    /// the server gives one and an exponential backoff with jitter otherwise; other answers
    /// that are not 2xx fail at once with their body. Transport failures are not retried: a
    /// refused connection or a timeout would most likely repeat, and the user is waiting.
    pub async fn post_sse(
        &self,
        url: &str,
        headers: HeaderMap,
        body: &serde_json::Value,
    ) -> Result<SseStart, LlmError> {
        let mut attempts: u32 = 0;
        loop {
            attempts += 1;
            let sent_at = Instant::now();
            let response = self
                .client
                .post(url)
                .headers(headers.clone())
                .header(ACCEPT, HeaderValue::from_static("text/event-stream"))
                .json(body)
                .send()
                .await
                .map_err(|error| self.send_error(url, &error))?;
            let status = response.status();
            if status.is_success() {
                return self.event_stream(response, sent_at).await;
            }
            if !is_retryable(status) {
                let body = match response.text().await {
                    Ok(text) => excerpt(&without_secrets(&text, &headers), ERROR_BODY_CHARS),
                    Err(error) => format!("(body unreadable: {})", error_chain(&error)),
                };
                return Err(LlmError::Http {
                    provider: self.provider,
                    status: status.as_u16(),
                    body,
                });
            }
            if attempts > self.settings.max_retries {
                return Err(LlmError::RetriesExhausted {
                    provider: self.provider,
                    attempts,
                    status: status.as_u16(),
                });
            }
            let wait = retry_after(response.headers()).unwrap_or_else(|| {
                backoff_delay(
                    self.settings.initial_backoff,
                    attempts,
                    rand::random_range(0.5..=1.0),
                )
            });
            tracing::warn!(
                provider = self.provider,
                status = status.as_u16(),
                attempt = attempts,
                wait_ms = wait.as_millis() as u64,
                "retryable answer from the model provider; trying again"
            );
            drop(response);
            tokio::time::sleep(wait).await;
        }
    }

    /// Turns a 2xx answer into its SSE events, refusing bodies that are not an event stream
    /// (a server that ignored `stream: true` would otherwise look like a cut stream).
    async fn event_stream(
        &self,
        response: reqwest::Response,
        sent_at: Instant,
    ) -> Result<SseStart, LlmError> {
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if !content_type.is_empty() && !content_type.starts_with("text/event-stream") {
            let body = response.text().await.unwrap_or_default();
            return Err(LlmError::Malformed {
                what: format!("{} response", self.provider),
                detail: format!(
                    "expected a text/event-stream body, got {content_type}: {}",
                    excerpt(&body, ERROR_BODY_CHARS)
                ),
            });
        }
        let request_timeout = self.settings.request_timeout;
        let events = response
            .bytes_stream()
            .eventsource()
            .map(move |item| item.map_err(|error| stream_error(error, request_timeout)))
            .boxed();
        Ok(SseStart { events, sent_at })
    }

    /// Maps a failure to get an answer at all.
    fn send_error(&self, url: &str, error: &reqwest::Error) -> LlmError {
        if error.is_connect() {
            let detail = if error.is_timeout() {
                format!(
                    "no connection within {:.1} s",
                    self.settings.connect_timeout.as_secs_f64()
                )
            } else {
                error_chain(error)
            };
            return LlmError::Connect {
                url: redact_userinfo(url),
                detail,
            };
        }
        if error.is_timeout() {
            return LlmError::Timeout {
                seconds: self.settings.request_timeout.as_secs_f64(),
            };
        }
        // The connection opened but broke before an answer came (reset, closed early, TLS).
        LlmError::Connect {
            url: redact_userinfo(url),
            detail: error_chain(error),
        }
    }
}

/// Maps a failure while reading the event stream.
fn stream_error(error: EventStreamError<reqwest::Error>, request_timeout: Duration) -> LlmError {
    match error {
        EventStreamError::Transport(error) if error.is_timeout() => LlmError::Timeout {
            seconds: request_timeout.as_secs_f64(),
        },
        EventStreamError::Transport(error) => LlmError::StreamCut(error_chain(&error)),
        EventStreamError::Utf8(error) => LlmError::Malformed {
            what: "event stream".to_string(),
            detail: format!("not UTF-8: {error}"),
        },
        EventStreamError::Parser(error) => LlmError::Malformed {
            what: "event stream".to_string(),
            detail: format!("not Server-Sent Events: {error}"),
        },
    }
}

/// A streamed answer being read: text so far, usage, model, and when the first token came.
#[derive(Debug, Clone)]
pub struct AnswerBuilder {
    sent_at: Instant,
    first_token_at: Option<Instant>,
    pub text: String,
    pub usage: Usage,
    /// The model as the provider names it in the stream.
    pub model: Option<String>,
    /// Why generation stopped (`stop`, `length`, `end_turn`, `max_tokens`, ...).
    pub finish_reason: Option<String>,
}

impl AnswerBuilder {
    pub fn new(sent_at: Instant) -> Self {
        AnswerBuilder {
            sent_at,
            first_token_at: None,
            text: String::new(),
            usage: Usage::default(),
            model: None,
            finish_reason: None,
        }
    }

    /// Appends a content delta; the first non-empty one fixes the time to first token.
    pub fn push_text(&mut self, delta: &str, now: Instant) {
        if delta.is_empty() {
            return;
        }
        if self.first_token_at.is_none() {
            self.first_token_at = Some(now);
        }
        self.text.push_str(delta);
    }

    /// Keeps the first model name the stream reports.
    pub fn note_model(&mut self, model: Option<&str>) {
        if self.model.is_none()
            && let Some(model) = model.filter(|m| !m.is_empty())
        {
            self.model = Some(model.to_string());
        }
    }

    /// The finished answer, timed up to `finished_at`.
    pub fn finish(self, finished_at: Instant) -> StreamedAnswer {
        let total = finished_at.saturating_duration_since(self.sent_at);
        // An answer without any content has no first token; count it as arriving at the end.
        let ttft = self
            .first_token_at
            .map_or(total, |at| at.saturating_duration_since(self.sent_at));
        StreamedAnswer {
            text: self.text,
            usage: self.usage,
            model: self.model,
            finish_reason: self.finish_reason,
            timing: CallTiming {
                ttft_ms: ttft.as_secs_f64() * 1000.0,
                total_ms: total.as_secs_f64() * 1000.0,
                simulated: false,
            },
        }
    }
}

/// A complete streamed answer.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamedAnswer {
    pub text: String,
    pub usage: Usage,
    pub model: Option<String>,
    pub finish_reason: Option<String>,
    pub timing: CallTiming,
}

impl StreamedAnswer {
    /// Wraps a value parsed from this answer with its cost.
    pub fn into_response<T>(
        self,
        value: T,
        configured_model: &str,
        prompt: &ChatPrompt,
    ) -> LlmResponse<T> {
        LlmResponse {
            value,
            usage: self.usage,
            timing: self.timing,
            model: self.model.unwrap_or_else(|| configured_model.to_string()),
            prefix_stable_share: prompt.prefix_stable_share(),
        }
    }
}

/// Reads `events` into `builder` with `feed`, which returns `true` at the provider's end
/// marker. A stream that ends before the marker was cut: the provider never finished.
pub async fn read_stream<F>(
    mut events: BoxStream<'static, Result<Event, LlmError>>,
    mut builder: AnswerBuilder,
    end_marker: &str,
    mut feed: F,
) -> Result<StreamedAnswer, LlmError>
where
    F: FnMut(&mut AnswerBuilder, &Event, Instant) -> Result<bool, LlmError>,
{
    while let Some(event) = events.next().await {
        let event = event?;
        if feed(&mut builder, &event, Instant::now())? {
            return Ok(builder.finish(Instant::now()));
        }
    }
    Err(LlmError::StreamCut(format!(
        "the stream ended without {end_marker} after {} characters of answer",
        builder.text.chars().count()
    )))
}
