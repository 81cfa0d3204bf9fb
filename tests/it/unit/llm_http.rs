//! Unit tests of `editscope::llm::http`: retries, URLs, timeouts, excerpts and answer timing.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

use editscope::llm::http::{
    AnswerBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_TOTAL_TIMEOUT, HttpSettings, MAX_BACKOFF, MAX_RETRY_AFTER, MAX_STREAM_BYTES,
    anthropic_api_root, backoff_delay, connect_timeout_for, endpoint_url, excerpt,
    is_local_base_url, is_quota_error, is_retryable, openai_api_root, redact_url,
    request_timeout_from_secs, retry_after, retry_after_at, split_credentials,
};

#[test]
fn backoff_doubles_and_is_capped() {
    let initial = Duration::from_millis(100);
    assert_eq!(backoff_delay(initial, 1, 1.0), Duration::from_millis(100));
    assert_eq!(backoff_delay(initial, 2, 1.0), Duration::from_millis(200));
    assert_eq!(backoff_delay(initial, 3, 0.5), Duration::from_millis(200));
    assert_eq!(backoff_delay(initial, 40, 1.0), MAX_BACKOFF);
}

#[test]
fn retry_after_reads_seconds_dates_and_milliseconds_as_asked() {
    let mut headers = HeaderMap::new();
    assert_eq!(retry_after(&headers), None);
    headers.insert(RETRY_AFTER, HeaderValue::from_static("2"));
    assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
    // Not capped here: the caller fails a wait above the maximum instead of retrying early.
    headers.insert(RETRY_AFTER, HeaderValue::from_static("3600"));
    assert_eq!(retry_after(&headers), Some(Duration::from_secs(3600)));
    assert!(Duration::from_secs(3600) > MAX_RETRY_AFTER);
    headers.insert(
        RETRY_AFTER,
        HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
    );
    let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:27:30 GMT").expect("date");
    assert_eq!(retry_after_at(&headers, now), Some(Duration::from_secs(30)));
    let later = httpdate::parse_http_date("Wed, 21 Oct 2015 08:00:00 GMT").expect("date");
    assert_eq!(
        retry_after_at(&headers, later),
        Some(Duration::ZERO),
        "a past date: no wait"
    );
    headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
    assert_eq!(retry_after(&headers), None);
    headers.insert("retry-after-ms", HeaderValue::from_static("250"));
    assert_eq!(retry_after(&headers), Some(Duration::from_millis(250)));
}

#[test]
fn quota_and_billing_errors_are_told_apart_from_rate_limits() {
    assert!(is_quota_error(
        r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#
    ));
    assert!(is_quota_error(
        r#"{"type":"error","error":{"type":"billing_error","message":"x"}}"#
    ));
    assert!(!is_quota_error(
        r#"{"error":{"message":"Rate limit reached for gpt-4o-mini on tokens per min (TPM)","type":"tokens","code":"rate_limit_exceeded"}}"#
    ));
}

#[test]
fn base_urls_work_with_or_without_v1() {
    for given in [
        "http://gpu:8000",
        "http://gpu:8000/",
        "http://gpu:8000/v1",
        "http://gpu:8000/v1/",
    ] {
        assert_eq!(openai_api_root(given), "http://gpu:8000/v1", "{given}");
    }
    assert_eq!(
        openai_api_root("http://gpu:8000/v1/chat/completions"),
        "http://gpu:8000/v1"
    );
    assert_eq!(
        openai_api_root("https://openrouter.ai/api/v1"),
        "https://openrouter.ai/api/v1"
    );
    for given in [
        "https://api.anthropic.com",
        "https://api.anthropic.com/",
        "https://api.anthropic.com/v1",
        "https://api.anthropic.com/v1/messages",
    ] {
        assert_eq!(
            anthropic_api_root(given),
            "https://api.anthropic.com",
            "{given}"
        );
    }
    assert_eq!(
        anthropic_api_root("http://proxy/anthropic/v1"),
        "http://proxy/anthropic"
    );
}

#[test]
fn user_info_is_split_from_the_url_and_redacted_in_prints() {
    let (url, key) = split_credentials("http://user:sk-secret@gpu:8000/v1");
    assert_eq!(url, "http://gpu:8000/v1");
    assert_eq!(key.as_deref(), Some("sk-secret"));
    let (url, key) = split_credentials("http://sk%2Bonly@gpu:8000");
    assert_eq!(url, "http://gpu:8000");
    assert_eq!(key.as_deref(), Some("sk+only"));
    assert_eq!(split_credentials("http://gpu:8000").1, None);
    let redacted = redact_url("http://user:sk-secret@gpu:8000/v1");
    assert!(
        !redacted.contains("sk-secret") && !redacted.contains("user"),
        "{redacted}"
    );
    assert!(redacted.contains("gpu:8000/v1"), "{redacted}");
}

#[test]
fn only_rate_limits_and_server_errors_are_retried() {
    assert!(is_retryable(StatusCode::TOO_MANY_REQUESTS));
    assert!(is_retryable(StatusCode::INTERNAL_SERVER_ERROR));
    assert!(is_retryable(
        StatusCode::from_u16(529).unwrap_or(StatusCode::OK)
    ));
    assert!(!is_retryable(StatusCode::UNAUTHORIZED));
    assert!(!is_retryable(StatusCode::BAD_REQUEST));
}

#[test]
fn local_base_urls_are_recognised() {
    assert!(is_local_base_url("http://localhost:11434/v1"));
    assert!(is_local_base_url("http://127.0.0.1:8080"));
    assert!(is_local_base_url("http://[::1]:8000/v1"));
    assert!(!is_local_base_url("https://api.openai.com/v1"));
    assert!(!is_local_base_url("https://localhost.evil.example"));
    assert!(!is_local_base_url("not a url"));
}

#[test]
fn endpoint_url_joins_with_one_slash() {
    assert_eq!(
        endpoint_url("https://api.openai.com/v1/", "/chat/completions"),
        "https://api.openai.com/v1/chat/completions"
    );
    assert_eq!(
        endpoint_url("http://x", "v1/messages"),
        "http://x/v1/messages"
    );
}

#[test]
fn bad_timeouts_fall_back_to_the_default() {
    let settings = HttpSettings::with_timeouts_secs(f64::NAN, 0.0, -3.0);
    assert_eq!(settings.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
    assert_eq!(settings.idle_timeout, DEFAULT_IDLE_TIMEOUT);
    assert_eq!(settings.total_timeout, DEFAULT_TOTAL_TIMEOUT);
    assert_eq!(settings.max_stream_bytes, MAX_STREAM_BYTES);
    // Connect and idle never exceed the total.
    let short = HttpSettings::with_timeouts_secs(10.0, 120.0, 5.0);
    assert_eq!(short.idle_timeout, Duration::from_secs(5));
    assert_eq!(short.connect_timeout, Duration::from_secs(5));
    assert_eq!(request_timeout_from_secs(-1.0), DEFAULT_REQUEST_TIMEOUT);
    assert_eq!(request_timeout_from_secs(f64::NAN), DEFAULT_REQUEST_TIMEOUT);
    assert_eq!(request_timeout_from_secs(0.0), DEFAULT_REQUEST_TIMEOUT);
    assert_eq!(request_timeout_from_secs(1.5), Duration::from_millis(1500));
    assert_eq!(
        connect_timeout_for(Duration::from_millis(300)),
        Duration::from_millis(300)
    );
}

#[test]
fn excerpt_cuts_on_characters() {
    assert_eq!(excerpt("  héllo  ", 10), "héllo");
    assert_eq!(excerpt("héllo", 2), "hé…");
}

#[test]
fn answer_timing_counts_from_the_send_to_the_first_non_empty_delta() {
    let sent = Instant::now();
    let mut builder = AnswerBuilder::new(sent);
    builder.push_text("", sent + Duration::from_millis(10));
    builder.push_text("Hi", sent + Duration::from_millis(50));
    builder.push_text(" there", sent + Duration::from_millis(70));
    let answer = builder.finish(sent + Duration::from_millis(100));
    assert_eq!(answer.text, "Hi there");
    assert!((answer.timing.ttft_ms - 50.0).abs() < 1e-6);
    assert!((answer.timing.total_ms - 100.0).abs() < 1e-6);
    assert!(!answer.timing.simulated);
}

#[test]
fn the_backend_configuration_shows_no_key_and_no_extra_body_value() {
    let config = editscope::llm::LlmConfig {
        base_url: Some("http://user:sk-in-url@gpu:8000/v1".to_string()),
        extra_body: serde_json::json!({"proxy_token": "tok-in-body"})
            .as_object()
            .cloned(),
        ..editscope::llm::LlmConfig::default()
    };
    let shown = format!("{config:?}");
    assert!(
        !shown.contains("sk-in-url") && !shown.contains("tok-in-body"),
        "{shown}"
    );
    assert!(shown.contains("proxy_token"), "the keys are shown: {shown}");
}

#[test]
fn user_info_of_every_url_is_masked_and_the_rest_kept() {
    use editscope::llm::http::redact_userinfo;
    assert_eq!(
        redact_userinfo("cannot connect to http://user:sk-1@127.0.0.1:1/v1/x: refused"),
        "cannot connect to http://***@127.0.0.1:1/v1/x: refused"
    );
    assert_eq!(
        redact_userinfo("a (https://sk-2@h) and http://h/p@q and ws://u:p@h"),
        "a (https://***@h) and http://h/p@q and ws://***@h"
    );
    assert_eq!(redact_userinfo("no url, an @ sign"), "no url, an @ sign");
    assert_eq!(redact_userinfo("http://"), "http://");
}

#[test]
fn sensitive_header_values_are_masked_in_a_body() {
    use editscope::llm::http::without_secrets;
    let mut headers = HeaderMap::new();
    let mut value = HeaderValue::from_static("Bearer sk-echoed-123");
    value.set_sensitive(true);
    headers.insert("authorization", value);
    headers.insert("x-other", HeaderValue::from_static("public-value"));
    assert_eq!(
        without_secrets("bad key sk-echoed-123; public-value", &headers),
        "bad key ***; public-value"
    );
}
