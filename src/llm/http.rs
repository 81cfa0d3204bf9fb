//! What both real model clients share: building the HTTP client, the timeouts (connect, idle,
//! total), the byte caps, the retry policy (bounded, exponential backoff with jitter,
//! `Retry-After` honoured up to a maximum), mapping transport failures to [`LlmError`],
//! reading a Server-Sent Events body, and folding a streamed answer into text, tool calls,
//! usage and timings.

use std::sync::Once;
use std::time::{Duration, Instant, SystemTime};

use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures::StreamExt;
use futures::stream::BoxStream;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};

use super::types::{CallTiming, ChatPrompt, LlmError, LlmResponse, Usage};

/// Longest wait we accept from a server's `Retry-After` (seconds or HTTP date): past it the
/// call fails at once with the server's message ([`LlmError::RetryTooLate`]) instead of
/// freezing an interactive edit or retrying before the server wants us to.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Longest computed backoff between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How much of an error body the client reads at most: the rest is never read (an endless or
/// huge error body cannot hold the call).
pub const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// How much of an error body ends up in an error message (quota errors are shown in full, up
/// to [`MAX_ERROR_BODY_BYTES`]).
const ERROR_BODY_CHARS: usize = 600;

/// Largest streamed answer accepted: a whole scene at 8,192 output tokens is well under 4 MiB
/// of SSE frames; an endless or runaway stream is cut here with [`LlmError::TooLarge`].
pub const MAX_STREAM_BYTES: usize = 32 * 1024 * 1024;

/// Defaults shared by both providers' configurations, chosen for a slow local model: a
/// laptop may take a minute to read a long prompt before its first byte, and minutes to write
/// a whole scene, but a server that sends nothing for two minutes has stalled.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
pub const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_secs(600);
/// The earlier name of [`DEFAULT_TOTAL_TIMEOUT`] (`--timeout` is the total timeout).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = DEFAULT_TOTAL_TIMEOUT;
/// Retries after the first attempt: 3 attempts in total.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(500);

/// Timeouts, caps and retry policy of one client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HttpSettings {
    /// Limit on establishing the TCP/TLS connection.
    pub connect_timeout: Duration,
    /// Limit on waiting for the next byte: for the answer's headers, then between two pieces
    /// of the body. A stream that keeps producing bytes is never cut by it.
    pub idle_timeout: Duration,
    /// Limit on one whole attempt, from sending to the end of the streamed body.
    pub total_timeout: Duration,
    /// Retries after the first attempt on 429 and 5xx answers (and overload errors that come
    /// inside a stream before any content).
    pub max_retries: u32,
    /// Backoff before the first retry; doubles for each further one.
    pub initial_backoff: Duration,
    /// Cap on the bytes of one streamed answer.
    pub max_stream_bytes: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            total_timeout: DEFAULT_TOTAL_TIMEOUT,
            max_retries: DEFAULT_MAX_RETRIES,
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
            max_stream_bytes: MAX_STREAM_BYTES,
        }
    }
}

impl HttpSettings {
    /// The default policy with the given timeouts in seconds; a value that is not a positive
    /// finite number takes the default. The connect and idle timeouts never exceed the total.
    pub fn with_timeouts_secs(connect_s: f64, idle_s: f64, total_s: f64) -> Self {
        let total_timeout = secs_or(total_s, DEFAULT_TOTAL_TIMEOUT);
        HttpSettings {
            connect_timeout: secs_or(connect_s, DEFAULT_CONNECT_TIMEOUT).min(total_timeout),
            idle_timeout: secs_or(idle_s, DEFAULT_IDLE_TIMEOUT).min(total_timeout),
            total_timeout,
            ..HttpSettings::default()
        }
    }

    /// The default policy with the total timeout of a `--timeout` value in seconds.
    pub fn with_timeout_secs(seconds: f64) -> Self {
        let d = HttpSettings::default();
        HttpSettings::with_timeouts_secs(
            d.connect_timeout.as_secs_f64(),
            d.idle_timeout.as_secs_f64(),
            seconds,
        )
    }
}

fn secs_or(seconds: f64, default: Duration) -> Duration {
    match Duration::try_from_secs_f64(seconds) {
        Ok(timeout) if !timeout.is_zero() => timeout,
        _ => default,
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
#[derive(Clone, PartialEq)]
pub struct ResolvedEndpoint {
    /// Without user info: a key written into the URL moved to `api_key`.
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
}

// Written by hand so that the key never reaches a log.
impl std::fmt::Debug for ResolvedEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolvedEndpoint")
            .field("base_url", &redact_url(&self.base_url))
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl ProviderEnv {
    /// Flags win over the environment, which wins over the defaults; a blank value counts as
    /// absent, so `OPENAI_BASE_URL=` in a shell profile does not erase the default. A key in
    /// the base URL's user info (`http://:KEY@host`) is used when the environment has none.
    pub fn resolve(
        &self,
        base_url: Option<String>,
        model: Option<String>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> ResolvedEndpoint {
        let present = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
        let base_url = present(base_url)
            .or_else(|| present(lookup(self.base_url_var)))
            .unwrap_or_else(|| self.default_base_url.to_string());
        let (base_url, url_key) = split_credentials(&base_url);
        ResolvedEndpoint {
            base_url,
            model: present(model).unwrap_or_else(|| self.default_model.to_string()),
            api_key: present(lookup(self.api_key_var)).or(url_key),
        }
    }
}

/// The URL without its user info, and the key it held: the password, or the user name when
/// there is no password. A URL that does not parse is returned as it is.
pub fn split_credentials(url: &str) -> (String, Option<String>) {
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        return (url.to_string(), None);
    };
    if parsed.username().is_empty() && parsed.password().is_none() {
        return (url.to_string(), None);
    }
    let decode = |text: &str| {
        let bytes: Vec<u8> = percent_decode(text);
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let key = parsed
        .password()
        .map(decode)
        .or_else(|| Some(decode(parsed.username())))
        .filter(|key| !key.is_empty());
    let _ = parsed.set_username("");
    let _ = parsed.set_password(None);
    (without_root_slash(url, parsed.as_str()), key)
}

/// `Url` adds a `/` path to a bare host; the caller's spelling is kept instead.
fn without_root_slash(original: &str, normalized: &str) -> String {
    if !original.ends_with('/') && normalized.ends_with('/') {
        normalized.trim_end_matches('/').to_string()
    } else {
        normalized.to_string()
    }
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(hex) = std::str::from_utf8(&bytes[i + 1..i + 3])
            && let Ok(value) = u8::from_str_radix(hex, 16)
        {
            out.push(value);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// `url` with any user info replaced by `***`, for every message that prints a URL.
pub fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_username("***");
            let _ = parsed.set_password(None);
            without_root_slash(url, parsed.as_str())
        }
        Ok(_) => url.to_string(),
        // Not a URL: cut anything that looks like user info before an `@`.
        Err(_) => match (url.find("://"), url.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                format!("{}***{}", &url[..scheme + 3], &url[at..])
            }
            _ => url.to_string(),
        },
    }
}

/// The total timeout for a `--timeout` value in seconds, falling back to the default for
/// values that are not a positive finite number (`Duration::from_secs_f64` would panic on them).
pub fn request_timeout_from_secs(seconds: f64) -> Duration {
    secs_or(seconds, DEFAULT_TOTAL_TIMEOUT)
}

/// The connect timeout that goes with a total timeout: never longer than the whole request.
pub fn connect_timeout_for(request_timeout: Duration) -> Duration {
    DEFAULT_CONNECT_TIMEOUT.min(request_timeout)
}

/// Whether a base URL points at this machine (Ollama, vLLM, llama.cpp, LM Studio, test
/// servers). Keys are optional for every host now; this only tunes messages.
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

/// The path of `base_url` (without a trailing slash) and the URL before it.
fn split_path(base_url: &str) -> (String, String) {
    let trimmed = base_url.trim_end_matches('/');
    let after_scheme = trimmed.find("://").map_or(0, |at| at + 3);
    match trimmed[after_scheme..].find('/') {
        Some(at) => (
            trimmed[..after_scheme + at].to_string(),
            trimmed[after_scheme + at..].to_string(),
        ),
        None => (trimmed.to_string(), String::new()),
    }
}

/// Whether a path segment is an API version (`v1`, `v2`, `v1beta`).
fn is_version_segment(segment: &str) -> bool {
    let mut chars = segment.chars();
    chars.next() == Some('v') && chars.next().is_some_and(|c| c.is_ascii_digit())
}

/// The root that `/chat/completions` hangs off for an OpenAI-compatible `--base-url` given
/// with or without `/v1`: a bare host (`http://gpu:8000`) gets `/v1`; a path that ends in a
/// version (`/v1`, `/api/v1`, `/openai/v1`) or any other path is kept; a pasted full endpoint
/// (`.../v1/chat/completions`) is cut back to its root.
pub fn openai_api_root(base_url: &str) -> String {
    let (origin, path) = split_path(base_url);
    let path = path
        .strip_suffix("/chat/completions")
        .unwrap_or(&path)
        .to_string();
    if path.is_empty() {
        format!("{origin}/v1")
    } else {
        format!("{origin}{path}")
    }
}

/// The root that `/v1/messages` hangs off for an Anthropic `--base-url` given with or without
/// `/v1` (or as the full `.../v1/messages` endpoint).
pub fn anthropic_api_root(base_url: &str) -> String {
    let (origin, path) = split_path(base_url);
    let path = path.strip_suffix("/messages").unwrap_or(&path);
    let path = match path.rsplit_once('/') {
        Some((before, last)) if is_version_segment(last) => before,
        _ => path,
    };
    format!("{origin}{path}")
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

/// The wait a server asked for, from `retry-after-ms` (OpenAI) or `Retry-After` in seconds or
/// as an HTTP date (a date in the past is no wait), as asked: the caller compares it with
/// [`MAX_RETRY_AFTER`].
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry_after_at(headers, SystemTime::now())
}

/// [`retry_after`] with the clock given, for tests of the date form.
pub fn retry_after_at(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| -> Option<&str> { Some(headers.get(name)?.to_str().ok()?.trim()) };
    let number = |value: &str| -> Option<f64> {
        let value = value.parse::<f64>().ok()?;
        (value.is_finite() && value >= 0.0).then_some(value)
    };
    // Larger than any wait anyone means, small enough for `Duration::from_secs_f64`.
    const FOREVER_S: f64 = 1e9;
    if let Some(ms) = text("retry-after-ms").and_then(number) {
        return Some(Duration::from_secs_f64((ms / 1000.0).min(FOREVER_S)));
    }
    let value = text(RETRY_AFTER.as_str())?;
    if let Some(seconds) = number(value) {
        return Some(Duration::from_secs_f64(seconds.min(FOREVER_S)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Whether an answer with this status is worth trying again: rate limits and server faults.
pub fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// Whether an error body is a quota or billing refusal (OpenAI `insufficient_quota`, billing
/// limits; Anthropic `billing_error`): waiting does not make it pass.
pub fn is_quota_error(body: &str) -> bool {
    const MARKERS: [&str; 7] = [
        "insufficient_quota",
        "exceeded your current quota",
        "billing_hard_limit_reached",
        "billing_not_active",
        "billing_error",
        "access_terminated",
        "credit balance is too low",
    ];
    let lower = body.to_ascii_lowercase();
    MARKERS.iter().any(|marker| lower.contains(marker))
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
    redact_url_text(&text)
}

/// Redacts `scheme://user:pass@` anywhere in a message (reqwest quotes URLs in its errors).
fn redact_url_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let authority_end = after.find(['/', ' ', ')', '"']).unwrap_or(after.len());
        match after[..authority_end].rfind('@') {
            Some(user_end) => {
                out.push_str("***");
                rest = &after[user_end..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
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

/// Which key a provider reads, for the message of a 401.
#[derive(Debug, Clone, Copy)]
pub struct KeyHint {
    pub var: &'static str,
    /// Whether a key was sent at all.
    pub sent: bool,
}

impl KeyHint {
    /// Settles a client's base URL and key: a key in the URL's user info is taken out of the
    /// URL, and used when the environment gave none; the URL is cut back to the provider's
    /// root (`root`). Returns the hint for the 401 message of a provider reading `var`.
    pub fn settle(
        base_url: &mut String,
        api_key: &mut Option<String>,
        root: fn(&str) -> String,
        var: &'static str,
    ) -> KeyHint {
        let (bare, url_key) = split_credentials(base_url);
        *base_url = root(&bare);
        if api_key.is_none() {
            *api_key = url_key;
        }
        KeyHint {
            var,
            sent: api_key.is_some(),
        }
    }
}

/// An HTTP client for one provider with its timeouts and retry policy.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    settings: HttpSettings,
    provider: &'static str,
    key: KeyHint,
}

/// The deadline of the next read: the idle limit, or the end of the total, whichever is first,
/// and the error that firing it means.
fn next_deadline(settings: &HttpSettings, total_deadline: Instant) -> (Instant, LlmError) {
    let idle_deadline = Instant::now() + settings.idle_timeout;
    if idle_deadline < total_deadline {
        (
            idle_deadline,
            LlmError::IdleTimeout {
                seconds: settings.idle_timeout.as_secs_f64(),
            },
        )
    } else {
        (
            total_deadline,
            LlmError::Timeout {
                seconds: settings.total_timeout.as_secs_f64(),
            },
        )
    }
}

impl HttpTransport {
    pub fn new(
        provider: &'static str,
        key: KeyHint,
        settings: HttpSettings,
    ) -> Result<Self, LlmError> {
        install_crypto_provider();
        // No overall reqwest timeout: it would cut a stream that is still producing bytes. The
        // idle and total limits are applied around each read instead.
        let client = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
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
            key,
        })
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// POSTs `body` as JSON and reads the streamed answer with the reader `new_feed` makes
    /// (one per attempt), to the provider's end marker (`end_marker`, for the message of a
    /// stream cut before it).
    ///
    /// 429 and 5xx answers are retried up to `max_retries` times, waiting `Retry-After` when the
    /// server gives one (up to [`MAX_RETRY_AFTER`]; longer fails at once with the server's
    /// message) and an exponential backoff with jitter otherwise; so is an error event with a
    /// retryable status (an overload) that arrives inside the stream before any content. Quota
    /// errors and other answers that are not 2xx fail at once with their body. Transport
    /// failures are not retried: a refused connection or a timeout would most likely repeat,
    /// and the user is waiting.
    pub async fn stream<F>(
        &self,
        url: &str,
        headers: HeaderMap,
        body: &serde_json::Value,
        end_marker: &str,
        mut new_feed: impl FnMut() -> F,
    ) -> Result<StreamedAnswer, LlmError>
    where
        F: FnMut(&mut AnswerBuilder, &Event, Instant) -> Result<bool, LlmError>,
    {
        let mut attempts: u32 = 0;
        loop {
            attempts += 1;
            let wait = match self.attempt(url, &headers, body).await? {
                Attempt::Stream(start) => {
                    let builder = AnswerBuilder::new(start.sent_at);
                    match read_stream(start.events, builder, end_marker, new_feed()).await {
                        Err(StreamFailure {
                            error: LlmError::Http { status, body, .. },
                            had_content: false,
                        }) if is_retryable(status_code(status))
                            && attempts <= self.settings.max_retries =>
                        {
                            tracing::warn!(
                                provider = self.provider,
                                status,
                                attempt = attempts,
                                message = body.as_str(),
                                "error event before any content in the stream; trying again"
                            );
                            self.backoff(attempts)
                        }
                        Err(failure) => return Err(failure.error),
                        Ok(answer) => return Ok(answer),
                    }
                }
                Attempt::Retry {
                    status,
                    retry_after,
                    body,
                } => {
                    if attempts > self.settings.max_retries {
                        return Err(LlmError::RetriesExhausted {
                            provider: self.provider,
                            attempts,
                            status,
                            body,
                        });
                    }
                    match retry_after {
                        Some(wait) if wait > MAX_RETRY_AFTER => {
                            return Err(LlmError::RetryTooLate {
                                provider: self.provider,
                                status,
                                wait_s: wait.as_secs_f64(),
                                max_s: MAX_RETRY_AFTER.as_secs_f64(),
                                body,
                            });
                        }
                        Some(wait) => wait,
                        None => self.backoff(attempts),
                    }
                }
            };
            tracing::warn!(
                provider = self.provider,
                attempt = attempts,
                wait_ms = wait.as_millis() as u64,
                "retryable answer from the model provider; trying again"
            );
            tokio::time::sleep(wait).await;
        }
    }

    fn backoff(&self, attempts: u32) -> Duration {
        backoff_delay(
            self.settings.initial_backoff,
            attempts,
            rand::random_range(0.5..=1.0),
        )
    }

    /// One request: its event stream, a retryable refusal, or the error that ends the call.
    async fn attempt(
        &self,
        url: &str,
        headers: &HeaderMap,
        body: &serde_json::Value,
    ) -> Result<Attempt, LlmError> {
        let sent_at = Instant::now();
        let total_deadline = sent_at + self.settings.total_timeout;
        let request = self
            .client
            .post(url)
            .headers(headers.clone())
            .header(ACCEPT, HeaderValue::from_static("text/event-stream"))
            .json(body)
            .send();
        let (deadline, timeout_error) = next_deadline(&self.settings, total_deadline);
        let response = match tokio::time::timeout_at(deadline.into(), request).await {
            Err(_) => return Err(timeout_error),
            Ok(result) => result.map_err(|error| self.send_error(url, &error))?,
        };
        let status = response.status();
        if status.is_success() {
            return self
                .event_stream(response, sent_at, total_deadline)
                .await
                .map(Attempt::Stream);
        }
        let retry_wait = retry_after(response.headers());
        let text = match read_capped(response, &self.settings, total_deadline).await {
            // A server may echo the key (some proxies do, on a 401): never into our message.
            Ok(text) => without_secrets(&text, headers),
            Err(error @ (LlmError::IdleTimeout { .. } | LlmError::Timeout { .. })) => {
                return Err(error);
            }
            Err(error) => format!("(body unreadable: {error})"),
        };
        let code = status.as_u16();
        if is_quota_error(&text) {
            return Err(LlmError::Quota {
                provider: self.provider,
                status: code,
                body: text.trim().to_string(),
            });
        }
        let shown = excerpt(&text, ERROR_BODY_CHARS);
        if matches!(code, 401 | 403) {
            let hint = if self.key.sent {
                format!("check the key in {}", self.key.var)
            } else {
                format!("no key was sent: set {} in the environment", self.key.var)
            };
            return Err(LlmError::Unauthorized {
                provider: self.provider,
                status: code,
                body: shown,
                hint,
            });
        }
        if is_retryable(status) {
            return Ok(Attempt::Retry {
                status: code,
                retry_after: retry_wait,
                body: shown,
            });
        }
        Err(LlmError::Http {
            provider: self.provider,
            status: code,
            body: shown,
        })
    }

    /// Turns a 2xx answer into its SSE events, refusing bodies that are not an event stream
    /// (a server that ignored `stream: true` would otherwise look like a cut stream).
    async fn event_stream(
        &self,
        response: reqwest::Response,
        sent_at: Instant,
        total_deadline: Instant,
    ) -> Result<SseStart, LlmError> {
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if !content_type.is_empty() && !content_type.starts_with("text/event-stream") {
            let body = read_capped(response, &self.settings, total_deadline)
                .await
                .unwrap_or_default();
            return Err(LlmError::Malformed {
                what: format!("{} response", self.provider),
                detail: format!(
                    "expected a text/event-stream body, got {content_type}: {}",
                    excerpt(&body, ERROR_BODY_CHARS)
                ),
            });
        }
        let events = guarded_bytes(response, self.settings, total_deadline)
            .eventsource()
            .map(|item| item.map_err(stream_error))
            .boxed();
        Ok(SseStart { events, sent_at })
    }

    /// Maps a failure to get an answer at all.
    fn send_error(&self, url: &str, error: &reqwest::Error) -> LlmError {
        let url = redact_url(url);
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
                url: redact_userinfo(&url),
                detail,
            };
        }
        if error.is_timeout() {
            return LlmError::Timeout {
                seconds: self.settings.total_timeout.as_secs_f64(),
            };
        }
        // The connection opened but broke before an answer came (reset, closed early, TLS).
        LlmError::Connect {
            url: redact_userinfo(&url),
            detail: error_chain(error),
        }
    }
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// What one request came to.
enum Attempt {
    Stream(SseStart),
    Retry {
        status: u16,
        retry_after: Option<Duration>,
        body: String,
    },
}

/// The body's bytes, each read under the idle and total limits, the whole under the stream
/// cap: an endless stream ends in [`LlmError::TooLarge`], a stalled one in a timeout.
fn guarded_bytes(
    response: reqwest::Response,
    settings: HttpSettings,
    total_deadline: Instant,
) -> impl futures::Stream<Item = Result<impl AsRef<[u8]> + Send + 'static, LlmError>> + Send + 'static
{
    struct Reading<S> {
        body: S,
        received: usize,
        done: bool,
    }
    let reading = Reading {
        body: Box::pin(response.bytes_stream()),
        received: 0,
        done: false,
    };
    futures::stream::unfold(reading, move |mut reading| async move {
        if reading.done {
            return None;
        }
        // Checked before each read as well: a body whose bytes are always ready never lets
        // the timer below fire.
        if Instant::now() >= total_deadline {
            reading.done = true;
            let error = LlmError::Timeout {
                seconds: settings.total_timeout.as_secs_f64(),
            };
            return Some((Err(error), reading));
        }
        let (deadline, timeout_error) = next_deadline(&settings, total_deadline);
        let item = match tokio::time::timeout_at(deadline.into(), reading.body.next()).await {
            Err(_) => Err(timeout_error),
            Ok(None) => return None,
            Ok(Some(Err(error))) if error.is_timeout() => Err(LlmError::Timeout {
                seconds: settings.total_timeout.as_secs_f64(),
            }),
            Ok(Some(Err(error))) => Err(LlmError::StreamCut(error_chain(&error))),
            Ok(Some(Ok(bytes))) => {
                reading.received += bytes.len();
                if reading.received > settings.max_stream_bytes {
                    Err(LlmError::TooLarge {
                        limit_bytes: settings.max_stream_bytes,
                    })
                } else {
                    Ok(bytes)
                }
            }
        };
        reading.done = item.is_err();
        Some((item, reading))
    })
}

/// Reads at most [`MAX_ERROR_BODY_BYTES`] of a body under the idle and total limits, and stops
/// there: the rest is never read.
async fn read_capped(
    response: reqwest::Response,
    settings: &HttpSettings,
    total_deadline: Instant,
) -> Result<String, LlmError> {
    let mut body = response.bytes_stream();
    let mut bytes = Vec::new();
    while bytes.len() < MAX_ERROR_BODY_BYTES {
        if Instant::now() >= total_deadline {
            return Err(LlmError::Timeout {
                seconds: settings.total_timeout.as_secs_f64(),
            });
        }
        let (deadline, timeout_error) = next_deadline(settings, total_deadline);
        match tokio::time::timeout_at(deadline.into(), body.next()).await {
            Err(_) => return Err(timeout_error),
            Ok(None) => break,
            Ok(Some(Err(error))) => return Err(LlmError::StreamCut(error_chain(&error))),
            Ok(Some(Ok(chunk))) => bytes.extend_from_slice(&chunk),
        }
    }
    bytes.truncate(MAX_ERROR_BODY_BYTES);
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Maps a failure while reading the event stream.
fn stream_error(error: EventStreamError<LlmError>) -> LlmError {
    match error {
        EventStreamError::Transport(error) => error,
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

/// One tool call being streamed: its name and its arguments as they arrive in pieces.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ToolCallPart {
    /// The provider's index of the call (OpenAI `tool_calls[].index`, Anthropic block index).
    pub index: u64,
    pub name: String,
    /// The argument text so far (JSON, usually incomplete until the end).
    pub arguments: String,
    /// Arguments given whole when the call started (Anthropic's `input`), used when no
    /// pieces follow.
    pub initial_arguments: Option<String>,
}

impl ToolCallPart {
    /// The complete arguments text.
    pub fn arguments_text(&self) -> &str {
        if self.arguments.trim().is_empty() {
            self.initial_arguments.as_deref().unwrap_or("")
        } else {
            &self.arguments
        }
    }
}

/// A streamed answer being read: text so far, tool calls, usage, model, and when the first
/// token came.
#[derive(Debug, Clone)]
pub struct AnswerBuilder {
    sent_at: Instant,
    first_token_at: Option<Instant>,
    pub text: String,
    pub tool_calls: Vec<ToolCallPart>,
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
            tool_calls: Vec::new(),
            usage: Usage::default(),
            model: None,
            finish_reason: None,
        }
    }

    fn mark_first_token(&mut self, now: Instant) {
        if self.first_token_at.is_none() {
            self.first_token_at = Some(now);
        }
    }

    /// Appends a content delta; the first non-empty one fixes the time to first token.
    pub fn push_text(&mut self, delta: &str, now: Instant) {
        if delta.is_empty() {
            return;
        }
        self.mark_first_token(now);
        self.text.push_str(delta);
    }

    /// Adds a piece of tool call `index`: its name when the piece carries one, and the next
    /// piece of its arguments. The first non-empty piece fixes the time to first token.
    pub fn push_tool_call(
        &mut self,
        index: u64,
        name: Option<&str>,
        arguments: &str,
        now: Instant,
    ) {
        let name = name.filter(|n| !n.is_empty());
        if name.is_none() && arguments.is_empty() && self.tool_call(index).is_some() {
            return;
        }
        if name.is_some() || !arguments.is_empty() {
            self.mark_first_token(now);
        }
        let call = match self.tool_calls.iter().position(|c| c.index == index) {
            Some(at) => &mut self.tool_calls[at],
            None => {
                self.tool_calls.push(ToolCallPart {
                    index,
                    ..ToolCallPart::default()
                });
                self.tool_calls.last_mut().expect("just pushed")
            }
        };
        if let Some(name) = name {
            call.name = name.to_string();
        }
        call.arguments.push_str(arguments);
    }

    /// The tool call of `index`, when one started.
    pub fn tool_call(&self, index: u64) -> Option<&ToolCallPart> {
        self.tool_calls.iter().find(|c| c.index == index)
    }

    /// Sets the whole arguments a tool call started with.
    pub fn set_initial_arguments(&mut self, index: u64, arguments: String) {
        if let Some(call) = self.tool_calls.iter_mut().find(|c| c.index == index) {
            call.initial_arguments = Some(arguments);
        }
    }

    /// Whether any content (text or tool call) arrived: an error after that is not retried,
    /// since the model already answered part of the request.
    pub fn has_content(&self) -> bool {
        !self.text.is_empty() || !self.tool_calls.is_empty()
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
            tool_calls: self.tool_calls,
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
    pub tool_calls: Vec<ToolCallPart>,
    pub usage: Usage,
    pub model: Option<String>,
    pub finish_reason: Option<String>,
    pub timing: CallTiming,
}

impl StreamedAnswer {
    /// When the server reported no usage at all (no input and no output tokens), counts both
    /// with the local tokenizer and marks the usage `estimated`: 0 tokens would be wrong.
    pub fn estimate_missing_usage(&mut self, sent: &ChatPrompt) {
        if self.usage.input_tokens > 0 || self.usage.output_tokens > 0 {
            return;
        }
        let count = crate::context::tokens::count;
        let output: usize = count(&self.text)
            + self
                .tool_calls
                .iter()
                .map(|call| count(&call.name) + count(call.arguments_text()))
                .sum::<usize>();
        self.usage = Usage {
            input_tokens: prompt_tokens(sent) as u64,
            output_tokens: output as u64,
            estimated: true,
            ..Usage::default()
        };
    }

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

/// The prompt's size with the local tokenizer, as the context window check counts it.
pub fn prompt_tokens(prompt: &ChatPrompt) -> usize {
    let count = crate::context::tokens::count;
    count(&prompt.system) + count(&prompt.stable_prefix) + count(&prompt.variable)
}

/// Refuses a prompt larger than the configured context window, before anything is sent.
pub fn check_context_window(prompt: &ChatPrompt, window: Option<usize>) -> Result<(), LlmError> {
    let Some(window) = window else {
        return Ok(());
    };
    let tokens = prompt_tokens(prompt);
    if tokens > window {
        return Err(LlmError::PromptTooLarge { tokens, window });
    }
    Ok(())
}

/// Why reading a stream failed, and whether content had arrived by then (an overload before
/// any content is retried; after, the answer is half given and it is not).
pub struct StreamFailure {
    pub error: LlmError,
    pub had_content: bool,
}

/// Reads `events` into `builder` with `feed`, which returns `true` at the provider's end
/// marker. A stream that ends without the marker is complete when a finish reason came
/// (some servers never send `[DONE]`); otherwise it was cut: the provider never finished.
pub async fn read_stream<F>(
    mut events: BoxStream<'static, Result<Event, LlmError>>,
    mut builder: AnswerBuilder,
    end_marker: &str,
    mut feed: F,
) -> Result<StreamedAnswer, StreamFailure>
where
    F: FnMut(&mut AnswerBuilder, &Event, Instant) -> Result<bool, LlmError>,
{
    let fail = |error: LlmError, builder: &AnswerBuilder| StreamFailure {
        error,
        had_content: builder.has_content(),
    };
    while let Some(event) = events.next().await {
        let event = event.map_err(|error| fail(error, &builder))?;
        match feed(&mut builder, &event, Instant::now()) {
            Ok(true) => return Ok(builder.finish(Instant::now())),
            Ok(false) => {}
            Err(error) => return Err(fail(error, &builder)),
        }
    }
    if builder.finish_reason.is_some() {
        return Ok(builder.finish(Instant::now()));
    }
    Err(fail(
        LlmError::StreamCut(format!(
            "the stream ended without {end_marker} or a finish reason after {} characters of answer",
            builder.text.chars().count()
        )),
        &builder,
    ))
}
