//! Unit tests of `editscope::llm::anthropic`: reading the event stream, keys and the request body.

use std::time::Instant;

use eventsource_stream::Event;

use editscope::llm::anthropic::{
    API_KEY_VAR, AnthropicClient, AnthropicConfig, DEFAULT_BASE_URL, DEFAULT_MAX_TOKENS,
    DEFAULT_MODEL, EventReader,
};
use editscope::llm::http::AnswerBuilder;
use editscope::llm::{ChatPrompt, LlmConfig, LlmError, Usage};

fn event(kind: &str, data: &str) -> Event {
    Event {
        event: kind.to_string(),
        data: data.to_string(),
        ..Event::default()
    }
}

#[test]
fn events_fold_into_text_and_total_input_with_output_assigned() {
    let sent = Instant::now();
    let mut answer = AnswerBuilder::new(sent);
    let mut reader = EventReader::default();
    let events = [
        event(
            "message_start",
            r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"usage":{"input_tokens":40,"cache_creation_input_tokens":0,"cache_read_input_tokens":1800,"output_tokens":1}}}"#,
        ),
        event(
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        ),
        event("ping", r#"{"type":"ping"}"#),
        event(
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
        ),
        event(
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" there"}}"#,
        ),
        event(
            "content_block_stop",
            r#"{"type":"content_block_stop","index":0}"#,
        ),
        event(
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}"#,
        ),
    ];
    for event in &events {
        assert!(!reader.feed(&mut answer, event, sent).expect("event reads"));
    }
    let stop = event("message_stop", r#"{"type":"message_stop"}"#);
    assert!(reader.feed(&mut answer, &stop, sent).expect("stop reads"));
    assert_eq!(answer.text, "Hi there");
    assert_eq!(answer.model.as_deref(), Some("claude-sonnet-4-5-20250929"));
    assert_eq!(answer.finish_reason.as_deref(), Some("end_turn"));
    assert_eq!(
        answer.usage,
        Usage {
            input_tokens: 1840,
            cached_input_tokens: 1800,
            cache_creation_input_tokens: 0,
            output_tokens: 15,
            estimated: false,
        }
    );
}

#[test]
fn an_error_event_reads_as_the_status_its_type_stands_for() {
    let mut reader = EventReader::default();
    let mut answer = AnswerBuilder::new(Instant::now());
    let error = event(
        "error",
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    );
    match reader.feed(&mut answer, &error, Instant::now()) {
        Err(LlmError::Http { status, body, .. }) => {
            assert_eq!(status, 529);
            assert!(body.contains("Overloaded"), "{body}");
        }
        other => panic!("expected Http, got {other:?}"),
    }
}

#[test]
fn keys_are_optional_and_the_environment_key_never_shows() {
    let remote = AnthropicConfig::new(DEFAULT_BASE_URL, DEFAULT_MODEL);
    assert!(AnthropicClient::new(remote).is_ok());
    let config = AnthropicConfig::from_lookup(&LlmConfig::default(), |name| {
        (name == API_KEY_VAR).then(|| "sk-ant-test".to_string())
    });
    assert_eq!(
        config.max_tokens, DEFAULT_MAX_TOKENS,
        "the documented default"
    );
    let with_limit = LlmConfig {
        max_tokens: Some(2048),
        ..LlmConfig::default()
    };
    assert_eq!(
        AnthropicConfig::from_lookup(&with_limit, |_| None).max_tokens,
        2048
    );
    assert_eq!(config.base_url, DEFAULT_BASE_URL);
    assert!(!format!("{config:?}").contains("sk-ant-test"));
    assert!(AnthropicClient::new(config).is_ok());
}

#[test]
fn the_body_marks_only_the_stable_prefix_for_caching() {
    let client = AnthropicClient::new(AnthropicConfig::new("http://127.0.0.1:1", "m"))
        .expect("local client");
    let prompt = ChatPrompt {
        system: "sys".to_string(),
        stable_prefix: String::new(),
        variable: "change it".to_string(),
    };
    let body = client.request_body(&prompt);
    let content = body["messages"][0]["content"]
        .as_array()
        .expect("content blocks");
    assert_eq!(content.len(), 1, "an empty prefix is left out: {body}");
    assert!(content[0].get("cache_control").is_none());
    assert_eq!(body["system"][0]["text"], "sys");
}
