//! The Anthropic client against a local scripted server speaking the Messages streaming wire
//! format: the request it sends (cache breakpoint, version header), the usage it reads back
//! (total input, cache reads and writes, output assigned from `message_delta`), its timings,
//! and how it fails (garbage, error events, cut streams, rate limits, server errors, hangs,
//! nothing listening).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::scene_refs::intro_and_logo;
use crate::scripted_server::{Captured, Reply, Step, TestServer};

use editscope::llm::anthropic::{AnthropicClient, AnthropicConfig};
use editscope::llm::http::HttpSettings;
use editscope::llm::{
    ChatPrompt, LlmClient, LlmError, Tool, ToolDecision, ToolMode, ToolSelectionRequest, Usage,
};

// ---------------------------------------------------------------------------------------------
// The Anthropic wire format

const SERVED_MODEL: &str = "claude-sonnet-4-5-20250929";

fn event(kind: &str, data: Value) -> Step {
    Step::Send(format!("event: {kind}\ndata: {data}\n\n"))
}

fn message_start(input: u64, cache_read: u64, cache_creation: u64) -> Step {
    event(
        "message_start",
        json!({"type": "message_start", "message": {
            "id": "msg_1", "type": "message", "role": "assistant", "model": SERVED_MODEL,
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": input, "cache_read_input_tokens": cache_read,
                      "cache_creation_input_tokens": cache_creation, "output_tokens": 1}
        }}),
    )
}

fn block_start() -> Step {
    event(
        "content_block_start",
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    )
}

fn ping() -> Step {
    event("ping", json!({"type": "ping"}))
}

fn text_delta(text: &str) -> Step {
    event(
        "content_block_delta",
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}),
    )
}

fn block_stop() -> Step {
    event(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    )
}

fn message_delta(output_tokens: u64) -> Step {
    event(
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null},
               "usage": {"output_tokens": output_tokens}}),
    )
}

fn message_stop() -> Step {
    event("message_stop", json!({"type": "message_stop"}))
}

/// A complete streamed answer carrying `text` in a few deltas.
fn answer(text: &str) -> Reply {
    let mut steps = vec![message_start(40, 1800, 200), block_start(), ping()];
    let chars: Vec<char> = text.chars().collect();
    for piece in chars.chunks(12) {
        steps.push(text_delta(&piece.iter().collect::<String>()));
    }
    steps.extend([block_stop(), message_delta(42), message_stop()]);
    Reply::Sse(steps)
}

const DECISION: &str = r#"{"tool": "changeDuration", "target_scene_id": "s-intro", "args": {"duration_frames": 150}, "clarification": null, "reasoning": "five seconds at 30 fps"}"#;

// ---------------------------------------------------------------------------------------------
// Requests and configuration

fn config(base_url: &str) -> AnthropicConfig {
    AnthropicConfig {
        api_key: Some("sk-ant-test".to_string()),
        max_tokens: 1024,
        http: HttpSettings {
            connect_timeout: Duration::from_secs(10),
            // Generous: a busy CI machine can stall for seconds; the timeout tests set their own.
            idle_timeout: Duration::from_secs(30),
            total_timeout: Duration::from_secs(30),
            max_retries: 2,
            initial_backoff: Duration::from_millis(5),
            ..HttpSettings::default()
        },
        // The text format: the native tool call tests set their own mode.
        tool_mode: ToolMode::Json,
        ..AnthropicConfig::new(base_url, "claude-sonnet-4-5")
    }
}

fn client(base_url: &str) -> AnthropicClient {
    AnthropicClient::new(config(base_url)).expect("client builds")
}

fn prompt() -> ChatPrompt {
    ChatPrompt {
        system: "You route edit requests to tools.".to_string(),
        stable_prefix: "STYLE: brand red #e11d48\nSCENES:\n1. s-intro Intro\n2. s-logo Logo reveal"
            .to_string(),
        variable: "REQUEST: make the intro five seconds".to_string(),
    }
}

fn tool_request() -> ToolSelectionRequest {
    ToolSelectionRequest {
        user_prompt: "make the intro five seconds".to_string(),
        scenes: intro_and_logo(),
        preferences: BTreeMap::new(),
        last_edited_scene_id: None,
        prompt: prompt(),
    }
}

fn header<'a>(captured: &'a Captured, name: &str) -> &'a str {
    captured
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
}

// ---------------------------------------------------------------------------------------------
// Tests

#[tokio::test]
async fn sends_the_stable_prefix_as_the_only_cached_block() {
    let server = TestServer::start_at("", vec![answer(DECISION)]).await;
    client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect("the call succeeds");

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.path, "/v1/messages");
    assert_eq!(header(request, "x-api-key"), "sk-ant-test");
    assert_eq!(header(request, "anthropic-version"), "2023-06-01");
    assert!(header(request, "content-type").starts_with("application/json"));
    assert!(
        header(request, "authorization").is_empty(),
        "no bearer header"
    );

    let body = &request.body;
    assert_eq!(body["model"], "claude-sonnet-4-5");
    assert_eq!(body["stream"], true);
    assert_eq!(body["max_tokens"], 1024);
    let system = body["system"]
        .as_array()
        .expect("system is an array of blocks");
    assert_eq!(system.len(), 1);
    assert_eq!(system[0]["type"], "text");
    let system_text = system[0]["text"].as_str().expect("system text");
    assert!(system_text.starts_with("You route edit requests to tools."));
    assert!(system_text.contains("exactly one JSON object"));
    assert!(system[0].get("cache_control").is_none());

    let messages = body["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["role"], "user");
    let blocks = messages[0]["content"].as_array().expect("content blocks");
    assert_eq!(blocks.len(), 2);
    let prompt = prompt();
    assert_eq!(blocks[0]["type"], "text");
    assert_eq!(blocks[0]["text"], prompt.stable_prefix.as_str());
    assert_eq!(blocks[0]["cache_control"], json!({"type": "ephemeral"}));
    assert_eq!(blocks[1]["type"], "text");
    assert_eq!(blocks[1]["text"], prompt.variable.as_str());
    assert!(
        blocks[1].get("cache_control").is_none(),
        "variable part never cached"
    );
}

#[tokio::test]
async fn reads_total_input_cache_counters_assigned_output_and_timings() {
    // Two message_delta events restate the running output count: 10, then 15. Assigned, the
    // answer has 15 output tokens; added, it would have 1 + 10 + 15.
    let steps = vec![
        message_start(40, 1800, 200),
        block_start(),
        ping(),
        Step::Pause(Duration::from_millis(150)),
        text_delta(&DECISION[..50]),
        text_delta(&DECISION[50..]),
        block_stop(),
        message_delta(10),
        message_delta(15),
        message_stop(),
    ];
    let server = TestServer::start_at("", vec![Reply::Sse(steps)]).await;

    let response = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect("the call succeeds");

    assert_eq!(
        response.value,
        ToolDecision::Tool {
            tool: Tool::ChangeDuration,
            target_scene_id: Some("s-intro".to_string()),
            args: json!({"duration_frames": 150}),
            reasoning: "five seconds at 30 fps".to_string(),
        }
    );
    assert_eq!(
        response.usage,
        Usage {
            input_tokens: 40 + 1800 + 200,
            cached_input_tokens: 1800,
            cache_creation_input_tokens: 200,
            output_tokens: 15,
            estimated: false,
        }
    );
    assert_eq!(response.model, SERVED_MODEL);
    assert!(!response.timing.simulated);
    assert!(
        response.timing.ttft_ms >= 140.0,
        "message_start and ping are not tokens: {:?}",
        response.timing
    );
    assert!(response.timing.ttft_ms <= response.timing.total_ms);
}

#[tokio::test]
async fn prose_instead_of_json_is_malformed_with_a_quote() {
    let server = TestServer::start_at("", vec![answer("I think you should edit scene 2!!")]).await;
    let error = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect_err("garbage must not pass");
    match error {
        LlmError::Malformed { what, detail } => {
            assert_eq!(what, "tool selection");
            assert!(
                detail.contains("I think you should edit scene 2!!"),
                "{detail}"
            );
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[tokio::test]
async fn an_error_event_mid_stream_is_reported_with_its_message() {
    let steps = vec![
        message_start(40, 0, 0),
        block_start(),
        text_delta("{\"tool\""),
        event(
            "error",
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        ),
    ];
    let server = TestServer::start_at("", vec![Reply::Sse(steps)]).await;
    let error = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect_err("the provider failed");
    match error {
        LlmError::Http {
            provider,
            status,
            body,
        } => {
            assert_eq!(provider, "anthropic");
            assert_eq!(status, 529);
            assert!(
                body.contains("overloaded_error") && body.contains("Overloaded"),
                "{body}"
            );
        }
        other => panic!("expected Http, got {other:?}"),
    }
}

#[tokio::test]
async fn a_stream_broken_in_the_middle_is_a_stream_cut() {
    let steps = vec![
        message_start(40, 0, 0),
        block_start(),
        text_delta("{\"tool\": \"change"),
        // Let the server flush the head and the first events before the cut.
        Step::Pause(Duration::from_millis(100)),
        Step::Cut,
    ];
    let server = TestServer::start_at("", vec![Reply::Sse(steps)]).await;
    let error = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect_err("a cut stream fails");
    assert!(matches!(error, LlmError::StreamCut(_)), "{error:?}");
}

#[tokio::test]
async fn a_stream_that_ends_before_any_stop_reason_is_a_stream_cut() {
    let steps = vec![
        message_start(40, 0, 0),
        block_start(),
        text_delta(DECISION),
        block_stop(),
    ];
    let server = TestServer::start_at("", vec![Reply::Sse(steps)]).await;
    let error = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect_err("an unfinished stream fails");
    match error {
        LlmError::StreamCut(detail) => assert!(detail.contains("message_stop"), "{detail}"),
        other => panic!("expected StreamCut, got {other:?}"),
    }
}

#[tokio::test]
async fn a_stream_that_ends_after_its_stop_reason_without_message_stop_is_accepted() {
    let steps = vec![
        message_start(40, 0, 0),
        block_start(),
        text_delta(DECISION),
        block_stop(),
        message_delta(42),
    ];
    let server = TestServer::start_at("", vec![Reply::Sse(steps)]).await;
    let response = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect("the stop reason ends the answer");
    assert!(matches!(response.value, ToolDecision::Tool { .. }));
    assert_eq!(response.usage.output_tokens, 42);
}

#[tokio::test]
async fn a_rate_limit_waits_for_retry_after_and_then_succeeds() {
    let server = TestServer::start_at(
        "",
        vec![
            Reply::Status {
                status: 429,
                retry_after: Some("1"),
                body:
                    r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#
                        .to_string(),
            },
            answer(DECISION),
        ],
    )
    .await;
    let response = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect("succeeds after one retry");
    assert!(matches!(response.value, ToolDecision::Tool { .. }));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn overloaded_answers_exhaust_the_configured_attempts() {
    let server = TestServer::start_at(
        "",
        vec![Reply::Status {
            status: 529,
            retry_after: None,
            body: r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
                .to_string(),
        }],
    )
    .await;
    let mut config = config(&server.base_url);
    config.http.max_retries = 1;
    let error = AnthropicClient::new(config)
        .expect("client builds")
        .select_tool(&tool_request())
        .await
        .expect_err("keeps failing");
    match error {
        LlmError::RetriesExhausted {
            attempts, status, ..
        } => {
            assert_eq!(attempts, 2, "first attempt + max_retries 1");
            assert_eq!(status, 529);
        }
        other => panic!("expected RetriesExhausted, got {other:?}"),
    }
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn server_errors_exhaust_the_default_three_attempts() {
    let server = TestServer::start_at(
        "",
        vec![Reply::Status {
            status: 500,
            retry_after: None,
            body: "internal error".to_string(),
        }],
    )
    .await;
    let error = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect_err("keeps failing");
    match error {
        LlmError::RetriesExhausted {
            provider,
            attempts,
            status,
            body,
        } => {
            assert!(
                body.contains("internal error"),
                "the last answer's reason: {body}"
            );
            assert_eq!(provider, "anthropic");
            assert_eq!(attempts, 3);
            assert_eq!(status, 500);
        }
        other => panic!("expected RetriesExhausted, got {other:?}"),
    }
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_bad_request_fails_at_once_with_the_body() {
    let server = TestServer::start_at("", vec![Reply::Status {
        status: 400,
        retry_after: None,
        body: r#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: field required"}}"#
            .to_string(),
    }])
    .await;
    let error = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect_err("bad request");
    match error {
        LlmError::Http { status, body, .. } => {
            assert_eq!(status, 400);
            assert!(body.contains("max_tokens: field required"), "{body}");
        }
        other => panic!("expected Http, got {other:?}"),
    }
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_hanging_server_times_out_quickly() {
    // The server would answer after a minute: only the client's timeout ends the call sooner
    // (the bound is loose because CI machines can be very busy).
    let server = TestServer::start_at("", vec![Reply::Hang(Duration::from_secs(60))]).await;
    let mut config = config(&server.base_url);
    config.http.total_timeout = Duration::from_millis(300);
    let error = AnthropicClient::new(config)
        .expect("client builds")
        .select_tool(&tool_request())
        .await
        .expect_err("times out");
    match error {
        LlmError::Timeout { seconds } => assert!((seconds - 0.3).abs() < 1e-9, "{seconds}"),
        other => panic!("expected Timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn nothing_listening_is_a_connect_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let error = client(&format!("http://127.0.0.1:{port}"))
        .select_tool(&tool_request())
        .await
        .expect_err("nobody answers");
    assert!(matches!(error, LlmError::Connect { .. }), "{error:?}");
}

#[tokio::test]
async fn without_a_key_no_api_key_header_is_sent_and_a_401_says_to_set_it() {
    assert!(AnthropicClient::new(AnthropicConfig::new("https://api.anthropic.com", "m")).is_ok());
    let server = TestServer::start_at(
        "",
        vec![Reply::Status {
            status: 401,
            retry_after: None,
            body: r#"{"type":"error","error":{"type":"authentication_error","message":"x-api-key header is required"}}"#.to_string(),
        }],
    )
    .await;
    let mut config = config(&server.base_url);
    config.api_key = None;
    let error = AnthropicClient::new(config)
        .expect("a client without a key builds")
        .select_tool(&tool_request())
        .await
        .expect_err("unauthorised");
    assert!(server.requests()[0].headers.get("x-api-key").is_none());
    assert!(
        matches!(error, LlmError::Unauthorized { status: 401, .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("set ANTHROPIC_API_KEY"),
        "{error}"
    );
}

// ---------------------------------------------------------------------------------------------
// Native tool calls, settings and faults

fn tool_use_start(index: u64) -> Step {
    event(
        "content_block_start",
        json!({"type": "content_block_start", "index": index, "content_block":
               {"type": "tool_use", "id": "toolu_1", "name": "select_tool", "input": {}}}),
    )
}

fn input_json_delta(index: u64, partial: &str) -> Step {
    event(
        "content_block_delta",
        json!({"type": "content_block_delta", "index": index,
               "delta": {"type": "input_json_delta", "partial_json": partial}}),
    )
}

fn tool_use_stop(output_tokens: u64) -> Step {
    event(
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null},
               "usage": {"output_tokens": output_tokens}}),
    )
}

/// A streamed `select_tool` call after a short text block, its input in pieces of 9
/// characters.
fn tool_use_answer(input: &str) -> Reply {
    let mut steps = vec![
        message_start(40, 1800, 0),
        block_start(),
        text_delta("Choosing the tool."),
        block_stop(),
        tool_use_start(1),
        ping(),
    ];
    let chars: Vec<char> = input.chars().collect();
    for piece in chars.chunks(9) {
        steps.push(input_json_delta(1, &piece.iter().collect::<String>()));
    }
    steps.extend([
        event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 1}),
        ),
        tool_use_stop(35),
        message_stop(),
    ]);
    Reply::Sse(steps)
}

fn with_mode(base_url: &str, mode: ToolMode) -> AnthropicClient {
    let mut config = config(base_url);
    config.tool_mode = mode;
    AnthropicClient::new(config).expect("client builds")
}

#[tokio::test]
async fn a_native_tool_use_streamed_as_input_json_deltas_is_assembled_and_validated() {
    let input = r#"{"tool": "changeDuration", "target_scene_id": "the intro", "args": {"duration_frames": 150}, "clarification": null, "reasoning": "five seconds at 30 fps"}"#;
    let server = TestServer::start_at("", vec![tool_use_answer(input)]).await;
    let response = with_mode(&server.base_url, ToolMode::Native)
        .select_tool(&tool_request())
        .await
        .expect("the tool call reads");
    assert_eq!(
        response.value,
        ToolDecision::Tool {
            tool: Tool::ChangeDuration,
            target_scene_id: Some("s-intro".to_string()),
            args: json!({"duration_frames": 150}),
            reasoning: "five seconds at 30 fps".to_string(),
        }
    );
    assert_eq!(response.usage.output_tokens, 35);
    let body = &server.requests()[0].body;
    assert_eq!(body["tools"][0]["name"], "select_tool");
    assert!(body["tools"][0]["input_schema"]["properties"]["target_scene_id"].is_object());
    assert_eq!(
        body["tool_choice"],
        json!({"type": "tool", "name": "select_tool"})
    );
}

#[tokio::test]
async fn auto_falls_back_to_json_when_tools_are_refused_and_remembers_it() {
    let refused = Reply::Status {
        status: 400,
        retry_after: None,
        body: r#"{"type":"error","error":{"type":"invalid_request_error","message":"tools: this model does not support tool use"}}"#.to_string(),
    };
    let server = TestServer::start_at("", vec![refused, answer(DECISION), answer(DECISION)]).await;
    let client = with_mode(&server.base_url, ToolMode::Auto);
    for _ in 0..2 {
        client
            .select_tool(&tool_request())
            .await
            .expect("the JSON format answers");
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests[0].body.get("tools").is_some());
    assert!(requests[1].body.get("tools").is_none());
    assert!(requests[2].body.get("tools").is_none(), "remembered");
}

#[tokio::test]
async fn an_overloaded_error_event_before_any_content_is_retried() {
    let overloaded = Reply::Sse(vec![
        message_start(40, 0, 0),
        ping(),
        event(
            "error",
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        ),
    ]);
    let server = TestServer::start_at("", vec![overloaded, answer(DECISION)]).await;
    let response = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect("the retry answers");
    assert!(matches!(response.value, ToolDecision::Tool { .. }));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_base_url_with_v1_works() {
    let server = TestServer::start_at("", vec![answer(DECISION)]).await;
    for base in [
        format!("{}/v1", server.base_url),
        format!("{}/v1/", server.base_url),
        format!("{}/", server.base_url),
    ] {
        client(&base)
            .select_tool(&tool_request())
            .await
            .unwrap_or_else(|e| panic!("{base}: {e}"));
    }
    for request in server.requests() {
        assert_eq!(request.path, "/v1/messages");
    }
}

#[tokio::test]
async fn missing_usage_is_estimated_and_labelled() {
    // A compatible server that reports no usage anywhere.
    let steps = vec![
        event(
            "message_start",
            json!({"type": "message_start", "message": {"id": "msg_1", "type": "message",
                   "role": "assistant", "model": SERVED_MODEL, "content": []}}),
        ),
        block_start(),
        text_delta(DECISION),
        block_stop(),
        event(
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}}),
        ),
        message_stop(),
    ];
    let server = TestServer::start_at("", vec![Reply::Sse(steps)]).await;
    let response = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect("the call succeeds");
    assert!(response.usage.estimated);
    assert!(response.usage.input_tokens > 0 && response.usage.output_tokens > 0);
}

#[tokio::test]
async fn max_tokens_temperature_and_the_extra_body_are_sent() {
    let server = TestServer::start_at("", vec![answer(DECISION)]).await;
    let mut config = config(&server.base_url);
    config.max_tokens = 3000;
    config.request.temperature = Some(0.0);
    config.request.extra_body = json!({"metadata": {"user_id": "u-1"}}).as_object().cloned();
    AnthropicClient::new(config)
        .expect("client builds")
        .select_tool(&tool_request())
        .await
        .expect("the call succeeds");
    let body = &server.requests()[0].body;
    assert_eq!(body["max_tokens"], 3000);
    assert_eq!(body["temperature"], 0.0);
    assert_eq!(body["metadata"]["user_id"], "u-1");
    assert!(
        body.get("prediction").is_none(),
        "never a prediction for Anthropic"
    );
}

#[tokio::test]
async fn a_prompt_over_the_context_window_is_refused_before_sending() {
    let server = TestServer::start_at("", vec![answer(DECISION)]).await;
    let mut config = config(&server.base_url);
    config.request.context_window = Some(10);
    let error = AnthropicClient::new(config)
        .expect("client builds")
        .select_tool(&tool_request())
        .await
        .expect_err("too large");
    assert!(
        matches!(error, LlmError::PromptTooLarge { window: 10, .. }),
        "{error:?}"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_credit_balance_error_is_a_quota_error_and_not_retried() {
    let server = TestServer::start_at(
        "",
        vec![Reply::Status {
            status: 400,
            retry_after: None,
            body: r#"{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}}"#.to_string(),
        }],
    )
    .await;
    let error = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect_err("no credit");
    assert!(matches!(error, LlmError::Quota { .. }), "{error:?}");
    assert!(
        error.to_string().contains("credit balance is too low"),
        "{error}"
    );
}
