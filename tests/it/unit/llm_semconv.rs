//! Unit tests of `editscope::llm::semconv`: the chat span's declared attributes and error types.

use editscope::llm::LlmError;
use editscope::llm::semconv::{
    CHAT_SPAN_FIELDS, OTEL_KIND, OTEL_NAME, PROVIDER_OPENAI, chat_span, error_type,
};

#[test]
fn the_chat_span_declares_every_attribute_it_records() {
    tracing::subscriber::with_default(tracing_subscriber::registry(), || {
        let span = chat_span(PROVIDER_OPENAI, "gpt-4o-mini");
        let metadata = span.metadata().expect("an enabled span has metadata");
        for name in CHAT_SPAN_FIELDS.iter().chain([OTEL_NAME, OTEL_KIND].iter()) {
            assert!(
                metadata.fields().field(name).is_some(),
                "chat span lacks {name}"
            );
        }
    });
}

#[test]
fn error_types_use_the_status_where_there_is_one() {
    let http = LlmError::Http {
        provider: "openai",
        status: 401,
        body: String::new(),
    };
    assert_eq!(error_type(&http), "401");
    assert_eq!(error_type(&LlmError::Timeout { seconds: 1.0 }), "timeout");
    assert_eq!(
        error_type(&LlmError::StreamCut("x".to_string())),
        "stream_cut"
    );
}
