//! The OpenAI-compatible client against a local scripted server speaking the Chat Completions
//! streaming wire format: the request it sends, the usage and timings it reads back, and how
//! it fails (garbage, cut streams, rate limits, server errors, hangs, nothing listening).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::scene_refs::intro_and_logo;
use crate::scripted_server::{Captured, Reply, Step, TestServer};

use editscope::llm::http::HttpSettings;
use editscope::llm::openai::{OpenAiClient, OpenAiConfig};
use editscope::llm::{
    ChatPrompt, ToolMode, CodeEditRequest, LlmClient, LlmError, StyleHints, TargetScene, Tool, ToolDecision,
    ToolSelectionRequest,
};

// ---------------------------------------------------------------------------------------------
// The OpenAI wire format

const SERVED_MODEL: &str = "gpt-4o-mini-2024-07-18";

fn frame(chunk: Value) -> Step {
    Step::Send(format!("data: {chunk}\n\n"))
}

fn role_chunk() -> Step {
    frame(json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": SERVED_MODEL,
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}],
        "usage": null
    }))
}

fn content_chunk(text: &str) -> Step {
    frame(json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": SERVED_MODEL,
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}],
        "usage": null
    }))
}

fn finish_chunk() -> Step {
    frame(json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": SERVED_MODEL,
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        "usage": null
    }))
}

fn usage_chunk(prompt: u64, cached: u64, completion: u64) -> Step {
    frame(json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": SERVED_MODEL,
        "choices": [],
        "usage": {
            "prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached},
            "completion_tokens_details": {"reasoning_tokens": 0}
        }
    }))
}

fn done() -> Step {
    Step::Send("data: [DONE]\n\n".to_string())
}

/// A complete streamed answer carrying `text` in a few deltas.
fn answer(text: &str) -> Reply {
    let mut steps = vec![role_chunk()];
    let chars: Vec<char> = text.chars().collect();
    for piece in chars.chunks(12) {
        steps.push(content_chunk(&piece.iter().collect::<String>()));
    }
    steps.extend([finish_chunk(), usage_chunk(2048, 1920, 42), done()]);
    Reply::Sse(steps)
}

const DECISION: &str = r##"{"tool": "editScene", "target_scene_id": "s-logo", "args": {"color": "#e11d48"}, "clarification": null, "reasoning": "the user named scene 2"}"##;

// ---------------------------------------------------------------------------------------------
// Requests and configuration

fn config(base_url: &str) -> OpenAiConfig {
    OpenAiConfig {
        api_key: Some("sk-test".to_string()),
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
        ..OpenAiConfig::new(base_url, "gpt-4o-mini")
    }
}

fn client(base_url: &str) -> OpenAiClient {
    OpenAiClient::new(config(base_url)).expect("client builds")
}

fn prompt() -> ChatPrompt {
    ChatPrompt {
        system: "You route edit requests to tools.".to_string(),
        stable_prefix: "STYLE: brand red #e11d48\nSCENES:\n1. s-intro Intro\n2. s-logo Logo reveal"
            .to_string(),
        variable: "REQUEST: make scene 2 red".to_string(),
    }
}

fn tool_request() -> ToolSelectionRequest {
    ToolSelectionRequest {
        user_prompt: "make scene 2 red".to_string(),
        scenes: intro_and_logo(),
        preferences: BTreeMap::new(),
        last_edited_scene_id: None,
        prompt: prompt(),
    }
}

fn code_request() -> CodeEditRequest {
    CodeEditRequest {
        user_prompt: "make the logo scene 4 seconds".to_string(),
        tool: Tool::ChangeDuration,
        args: json!({"duration_frames": 120}),
        target: Some(TargetScene {
            id: "s-logo".to_string(),
            name: "Logo reveal".to_string(),
            position: 2,
            code: "export const DURATION = 90;\nexport const Logo = () => <div/>;\n".to_string(),
            duration_frames: 90,
        }),
        preferences: BTreeMap::new(),
        style: StyleHints::default(),
        new_scene_position: 3,
        edit_format: Default::default(),
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
async fn sends_a_streamed_request_with_the_stable_prefix_first() {
    let server = TestServer::start_at("/v1", vec![answer(DECISION)]).await;
    client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect("the call succeeds");

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(header(request, "authorization"), "Bearer sk-test");
    let body = &request.body;
    assert_eq!(body["model"], "gpt-4o-mini");
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    let messages = body["messages"].as_array().expect("messages array");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["role"], "system");
    let system = messages[0]["content"].as_str().expect("system text");
    assert!(
        system.starts_with("You route edit requests to tools."),
        "{system}"
    );
    assert!(system.contains("exactly one JSON object"), "{system}");
    assert_eq!(messages[1]["role"], "user");
    let user = messages[1]["content"].as_str().expect("user text");
    let prompt = prompt();
    assert!(
        user.starts_with(&prompt.stable_prefix),
        "prefix first: {user}"
    );
    assert!(user.ends_with(&prompt.variable), "variable last: {user}");
}

#[tokio::test]
async fn reads_the_decision_usage_model_and_a_real_time_to_first_token() {
    // The role chunk comes at once but carries no content: the first token is the delta that
    // follows the pause, so TTFT must include the pause.
    let mut steps = vec![role_chunk(), Step::Pause(Duration::from_millis(150))];
    steps.push(content_chunk(&DECISION[..40]));
    steps.push(content_chunk(&DECISION[40..]));
    steps.extend([finish_chunk(), usage_chunk(2048, 1920, 42), done()]);
    let server = TestServer::start_at("/v1", vec![Reply::Sse(steps)]).await;

    let response = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect("the call succeeds");

    assert_eq!(
        response.value,
        ToolDecision::Tool {
            tool: Tool::EditScene,
            target_scene_id: Some("s-logo".to_string()),
            args: json!({"color": "#e11d48"}),
            reasoning: "the user named scene 2".to_string(),
        }
    );
    assert_eq!(
        response.usage.input_tokens, 2048,
        "prompt_tokens includes cached"
    );
    assert_eq!(response.usage.cached_input_tokens, 1920);
    assert_eq!(response.usage.output_tokens, 42);
    assert_eq!(response.usage.cache_creation_input_tokens, 0);
    assert_eq!(response.model, SERVED_MODEL);
    assert!(!response.timing.simulated);
    assert!(
        response.timing.ttft_ms >= 140.0,
        "TTFT counts from the request to the first non-empty delta: {:?}",
        response.timing
    );
    assert!(response.timing.ttft_ms <= response.timing.total_ms);
    assert!(response.prefix_stable_share > 0.0 && response.prefix_stable_share < 1.0);
}

#[tokio::test]
async fn code_edits_come_back_as_the_tsx_block_with_the_new_duration() {
    let text = "Made the logo scene last four seconds.\n```tsx\nexport const DURATION = 120;\nexport const Logo = () => <div>Logo</div>;\n```\n";
    let server = TestServer::start_at("/v1", vec![answer(text)]).await;
    let response = client(&server.base_url)
        .edit_code(&code_request())
        .await
        .expect("the call succeeds");
    assert_eq!(
        response.value.code,
        "export const DURATION = 120;\nexport const Logo = () => <div>Logo</div>;\n"
    );
    assert_eq!(response.value.duration_frames, Some(120));
    assert_eq!(
        response.value.summary,
        "Made the logo scene last four seconds."
    );
    let system = server.requests()[0].body["messages"][0]["content"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(system.contains("```tsx"), "{system}");
}

#[tokio::test]
async fn prose_instead_of_json_is_malformed_with_a_quote() {
    let server =
        TestServer::start_at("/v1", vec![answer("I think you should edit scene 2!!")]).await;
    let error = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect_err("garbage must not pass");
    match &error {
        LlmError::Malformed { what, detail } => {
            assert_eq!(what, "tool selection");
            assert!(
                detail.contains("I think you should edit scene 2!!"),
                "{detail}"
            );
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
    assert!(error.to_string().contains("not usable"), "{error}");
}

#[tokio::test]
async fn a_stream_broken_in_the_middle_is_a_stream_cut() {
    // The pause lets the server flush the head and the first chunks before the cut, as a
    // connection that breaks mid-answer does.
    let steps = vec![
        role_chunk(),
        content_chunk("{\"tool\": \"edit"),
        Step::Pause(Duration::from_millis(100)),
        Step::Cut,
    ];
    let server = TestServer::start_at("/v1", vec![Reply::Sse(steps)]).await;
    let error = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect_err("a cut stream fails");
    assert!(matches!(error, LlmError::StreamCut(_)), "{error:?}");
}

#[tokio::test]
async fn a_stream_that_ends_without_done_is_a_stream_cut() {
    // The connection closes cleanly but the usage chunk and [DONE] never came.
    let steps = vec![role_chunk(), content_chunk(DECISION)];
    let server = TestServer::start_at("/v1", vec![Reply::Sse(steps)]).await;
    let error = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect_err("an unfinished stream fails");
    match error {
        LlmError::StreamCut(detail) => assert!(detail.contains("[DONE]"), "{detail}"),
        other => panic!("expected StreamCut, got {other:?}"),
    }
}

#[tokio::test]
async fn a_rate_limit_is_retried_once_and_then_succeeds() {
    let server = TestServer::start_at(
        "/v1",
        vec![
            Reply::Status {
                status: 429,
                retry_after: Some("0"),
                body: r#"{"error":{"message":"Rate limit reached"}}"#.to_string(),
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
async fn server_errors_exhaust_the_configured_attempts() {
    let server = TestServer::start_at(
        "/v1",
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
        } => {
            assert_eq!(provider, "openai");
            assert_eq!(attempts, 3, "first attempt + max_retries 2");
            assert_eq!(status, 500);
        }
        other => panic!("expected RetriesExhausted, got {other:?}"),
    }
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn other_client_errors_fail_at_once_with_the_body() {
    let server = TestServer::start_at(
        "/v1",
        vec![Reply::Status {
            status: 404,
            retry_after: None,
            body: r#"{"error":{"message":"The model `gpt-5-nano` does not exist"}}"#.to_string(),
        }],
    )
    .await;
    let error = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect_err("not found");
    match error {
        LlmError::Http { status, body, .. } => {
            assert_eq!(status, 404);
            assert!(body.contains("does not exist"), "{body}");
        }
        other => panic!("expected Http, got {other:?}"),
    }
    assert_eq!(
        server.requests().len(),
        1,
        "4xx other than 429 is not retried"
    );
}

#[tokio::test]
async fn a_hanging_server_times_out_quickly() {
    // The server would answer after a minute: only the client's timeout ends the call sooner
    // (the bound is loose because CI machines can be very busy).
    let server = TestServer::start_at("/v1", vec![Reply::Hang(Duration::from_secs(60))]).await;
    let mut config = config(&server.base_url);
    config.http.total_timeout = Duration::from_millis(300);
    let error = OpenAiClient::new(config)
        .expect("client builds")
        .select_tool(&tool_request())
        .await
        .expect_err("times out");
    assert!(matches!(error, LlmError::Timeout { .. }), "{error:?}");
    assert_eq!(server.requests().len(), 1, "a timeout is not retried");
}

#[tokio::test]
async fn a_stream_that_stalls_past_the_timeout_times_out() {
    let steps = vec![
        role_chunk(),
        content_chunk("{\"tool\""),
        Step::Pause(Duration::from_secs(10)),
        done(),
    ];
    let server = TestServer::start_at("/v1", vec![Reply::Sse(steps)]).await;
    let mut config = config(&server.base_url);
    config.http.total_timeout = Duration::from_millis(300);
    let error = OpenAiClient::new(config)
        .expect("client builds")
        .select_tool(&tool_request())
        .await
        .expect_err("times out");
    assert!(matches!(error, LlmError::Timeout { .. }), "{error:?}");
}

#[tokio::test]
async fn nothing_listening_is_a_connect_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let base_url = format!("http://127.0.0.1:{port}/v1");
    let error = client(&base_url)
        .select_tool(&tool_request())
        .await
        .expect_err("nobody answers");
    match error {
        LlmError::Connect { url, .. } => assert!(url.contains(&port.to_string()), "{url}"),
        other => panic!("expected Connect, got {other:?}"),
    }
}

#[tokio::test]
async fn without_a_key_no_authorization_is_sent_and_a_401_says_to_set_it() {
    // A remote-looking host needs no key to build a client any more (a vLLM box on a LAN).
    assert!(OpenAiClient::new(OpenAiConfig::new("http://gpu.lan:8000/v1", "m")).is_ok());
    let server = TestServer::start_at(
        "/v1",
        vec![Reply::Status {
            status: 401,
            retry_after: None,
            body: r#"{"error":{"message":"Missing bearer authentication"}}"#.to_string(),
        }],
    )
    .await;
    let mut config = config(&server.base_url);
    config.api_key = None;
    let error = OpenAiClient::new(config)
        .expect("a client without a key builds")
        .select_tool(&tool_request())
        .await
        .expect_err("unauthorised");
    assert!(server.requests()[0].headers.get("authorization").is_none());
    match &error {
        LlmError::Unauthorized { status, body, hint, .. } => {
            assert_eq!(*status, 401);
            assert!(body.contains("Missing bearer"), "{body}");
            assert!(hint.contains("set OPENAI_API_KEY"), "{hint}");
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    assert!(error.to_string().contains("OPENAI_API_KEY"), "{error}");
}
