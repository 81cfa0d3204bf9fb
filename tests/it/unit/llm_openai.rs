//! Unit tests of `editscope::llm::openai`: reading streamed chunks, and the configuration.

use std::time::{Duration, Instant};

use eventsource_stream::Event;

use editscope::llm::http::AnswerBuilder;
use editscope::llm::openai::{
    API_KEY_VAR, BASE_URL_VAR, DEFAULT_BASE_URL, DEFAULT_MODEL, OpenAiClient, OpenAiConfig,
    feed_event,
};
use editscope::llm::{LlmConfig, LlmError, Timeouts};

fn event(data: &str) -> Event {
    Event {
        event: "message".to_string(),
        data: data.to_string(),
        ..Event::default()
    }
}

#[test]
fn chunks_fold_into_text_model_finish_reason_and_usage() {
    let sent = Instant::now();
    let mut answer = AnswerBuilder::new(sent);
    let chunks = [
        r#"{"object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}"#,
        r#"{"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}],"usage":null}"#,
        r#"{"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}],"usage":null}"#,
        r#"{"model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":2048,"completion_tokens":7,"total_tokens":2055,"prompt_tokens_details":{"cached_tokens":1920}}}"#,
    ];
    for chunk in chunks {
        assert!(!feed_event(&mut answer, &event(chunk), sent).expect("chunk reads"));
    }
    assert!(feed_event(&mut answer, &event("[DONE]"), sent).expect("done reads"));
    assert_eq!(answer.text, "Hello");
    assert_eq!(answer.model.as_deref(), Some("gpt-4o-mini-2024-07-18"));
    assert_eq!(answer.finish_reason.as_deref(), Some("stop"));
    assert_eq!(answer.usage.input_tokens, 2048);
    assert_eq!(answer.usage.cached_input_tokens, 1920);
    assert_eq!(answer.usage.output_tokens, 7);
}

#[test]
fn an_error_inside_the_stream_is_reported_with_its_message() {
    let mut answer = AnswerBuilder::new(Instant::now());
    let result = feed_event(
        &mut answer,
        &event(r#"{"error":{"message":"model overloaded","code":503}}"#),
        Instant::now(),
    );
    match result {
        Err(LlmError::Http { status, body, .. }) => {
            assert_eq!(status, 503);
            assert!(body.contains("model overloaded"));
        }
        other => panic!("expected Http, got {other:?}"),
    }
}

#[test]
fn a_chunk_that_is_not_json_is_malformed() {
    let mut answer = AnswerBuilder::new(Instant::now());
    assert!(matches!(
        feed_event(&mut answer, &event("{oops"), Instant::now()),
        Err(LlmError::Malformed { .. })
    ));
}

#[test]
fn config_reads_key_and_base_url_from_the_environment_and_flags_win() {
    let env = |name: &str| match name {
        API_KEY_VAR => Some("sk-test".to_string()),
        BASE_URL_VAR => Some("http://env.example/v1".to_string()),
        _ => None,
    };
    let llm = LlmConfig {
        timeouts: Timeouts {
            total: Duration::from_secs(30),
            ..Timeouts::default()
        },
        ..LlmConfig::default()
    };
    let config = OpenAiConfig::from_lookup(&llm, env);
    assert_eq!(config.base_url, "http://env.example/v1");
    assert_eq!(config.model, DEFAULT_MODEL);
    assert_eq!(config.api_key.as_deref(), Some("sk-test"));
    assert_eq!(config.http.total_timeout, Duration::from_secs(30));
    assert!(!format!("{config:?}").contains("sk-test"));

    let flags = LlmConfig {
        base_url: Some("http://flag.example/v1".to_string()),
        model: Some("llama3".to_string()),
        ..llm.clone()
    };
    let config = OpenAiConfig::from_lookup(&flags, env);
    assert_eq!(config.base_url, "http://flag.example/v1");
    assert_eq!(config.model, "llama3");

    let config = OpenAiConfig::from_lookup(&llm, |_| None);
    assert_eq!(config.base_url, DEFAULT_BASE_URL);
    assert_eq!(config.api_key, None);
}

#[test]
fn keys_are_optional_for_remote_and_local_endpoints() {
    let remote = OpenAiConfig::new(DEFAULT_BASE_URL, DEFAULT_MODEL);
    assert!(OpenAiClient::new(remote).is_ok());
    let local = OpenAiConfig::new("http://localhost:11434/v1", "llama3");
    assert!(OpenAiClient::new(local).is_ok());
}
