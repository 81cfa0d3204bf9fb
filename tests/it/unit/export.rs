//! Unit tests of `editscope::export`: endpoint URLs, provider names and call lengths.

use editscope::export::TracedCall;
use editscope::export::otlp::traces_url;
use editscope::llm::semconv::{
    PROVIDER_ANTHROPIC, PROVIDER_OFFLINE, PROVIDER_OPENAI, provider_name,
};

#[test]
fn the_traces_path_is_added_once() {
    assert_eq!(
        traces_url("http://localhost:4318"),
        "http://localhost:4318/v1/traces"
    );
    assert_eq!(
        traces_url("http://localhost:4318/"),
        "http://localhost:4318/v1/traces"
    );
    assert_eq!(
        traces_url("https://collector.example/otlp"),
        "https://collector.example/otlp/v1/traces"
    );
    assert_eq!(
        traces_url("http://localhost:4318/v1/traces"),
        "http://localhost:4318/v1/traces"
    );
}

#[test]
fn the_provider_comes_from_the_backend_and_else_from_the_call() {
    assert_eq!(
        provider_name(Some("offline"), "offline-sim", true),
        PROVIDER_OFFLINE
    );
    assert_eq!(
        provider_name(Some("openai:llama3"), "llama3", false),
        PROVIDER_OPENAI
    );
    assert_eq!(
        provider_name(Some("anthropic:claude-x"), "claude-x", false),
        PROVIDER_ANTHROPIC
    );
    // A stored row keeps no backend name.
    assert_eq!(provider_name(None, "offline-sim", true), PROVIDER_OFFLINE);
    assert_eq!(
        provider_name(None, "claude-sonnet-4", false),
        PROVIDER_ANTHROPIC
    );
    assert_eq!(provider_name(None, "gpt-4o-mini", false), PROVIDER_OPENAI);
}

#[test]
fn a_call_lasts_its_first_token_and_its_generation() {
    let call = TracedCall {
        ttft_ms: 400.0,
        output_tokens: 100,
        output_tokens_per_s: Some(50.0),
        ..TracedCall::default()
    };
    assert_eq!(call.duration_ms(), 2400.0);
    let unknown_rate = TracedCall {
        ttft_ms: 400.0,
        output_tokens: 100,
        output_tokens_per_s: None,
        ..TracedCall::default()
    };
    assert_eq!(unknown_rate.duration_ms(), 400.0);
    let broken = TracedCall {
        ttft_ms: f64::NAN,
        output_tokens_per_s: Some(f64::INFINITY),
        ..TracedCall::default()
    };
    assert_eq!(broken.duration_ms(), 0.0);
}
