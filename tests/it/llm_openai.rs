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
    ChatPrompt, CodeEditRequest, EditFormat, LlmClient, LlmError, RequestSettings, StyleHints,
    TargetScene, Tool, ToolDecision, ToolMode, ToolSelectionRequest,
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
            body,
        } => {
            assert!(
                body.contains("internal error"),
                "the last answer's reason: {body}"
            );
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
        LlmError::Unauthorized {
            status, body, hint, ..
        } => {
            assert_eq!(*status, 401);
            assert!(body.contains("Missing bearer"), "{body}");
            assert!(hint.contains("set OPENAI_API_KEY"), "{hint}");
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    assert!(error.to_string().contains("OPENAI_API_KEY"), "{error}");
}

// ---------------------------------------------------------------------------------------------
// Native tool calls

fn tool_call_start() -> Step {
    frame(json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": SERVED_MODEL,
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": null, "tool_calls": [
            {"index": 0, "id": "call_1", "type": "function",
             "function": {"name": "select_tool", "arguments": ""}}
        ]}, "finish_reason": null}],
        "usage": null
    }))
}

fn tool_call_piece(arguments: &str) -> Step {
    frame(json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": SERVED_MODEL,
        "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": arguments}}
        ]}, "finish_reason": null}],
        "usage": null
    }))
}

/// A streamed `select_tool` call whose arguments come in pieces of 7 characters.
fn tool_call_answer(arguments: &str) -> Reply {
    let mut steps = vec![tool_call_start()];
    let chars: Vec<char> = arguments.chars().collect();
    for piece in chars.chunks(7) {
        steps.push(tool_call_piece(&piece.iter().collect::<String>()));
    }
    steps.extend([finish_chunk(), usage_chunk(2048, 0, 30), done()]);
    Reply::Sse(steps)
}

fn with_mode(base_url: &str, mode: ToolMode) -> OpenAiClient {
    let mut config = config(base_url);
    config.tool_mode = mode;
    OpenAiClient::new(config).expect("client builds")
}

fn tools_refused() -> Reply {
    Reply::Status {
        status: 400,
        retry_after: None,
        body: r#"{"error":{"message":"\"tools\" and \"tool_choice\" are not supported by this model","type":"invalid_request_error"}}"#.to_string(),
    }
}

#[tokio::test]
async fn a_native_tool_call_streamed_in_pieces_is_assembled_and_validated() {
    // The model names the scene by position: the same validation as the text format maps it.
    let arguments = r##"{"tool": "editScene", "target_scene_id": "2", "args": {"color": "#e11d48"}, "clarification": null, "reasoning": "the user named scene 2"}"##;
    let server = TestServer::start_at("/v1", vec![tool_call_answer(arguments)]).await;
    let response = with_mode(&server.base_url, ToolMode::Native)
        .select_tool(&tool_request())
        .await
        .expect("the tool call reads");
    assert_eq!(
        response.value,
        ToolDecision::Tool {
            tool: Tool::EditScene,
            target_scene_id: Some("s-logo".to_string()),
            args: json!({"color": "#e11d48"}),
            reasoning: "the user named scene 2".to_string(),
        }
    );
    let body = &server.requests()[0].body;
    assert_eq!(body["tools"][0]["type"], "function");
    assert_eq!(body["tools"][0]["function"]["name"], "select_tool");
    let schema = &body["tools"][0]["function"]["parameters"];
    for field in [
        "tool",
        "target_scene_id",
        "args",
        "clarification",
        "reasoning",
    ] {
        assert!(
            schema["properties"].get(field).is_some(),
            "{field}: {schema}"
        );
    }
    assert_eq!(body["tool_choice"]["function"]["name"], "select_tool");
    let system = body["messages"][0]["content"].as_str().unwrap_or("");
    assert!(system.contains("select_tool"), "{system}");
}

#[tokio::test]
async fn a_native_decision_is_refused_like_a_text_one() {
    let arguments = r#"{"tool": "deleteScene", "target_scene_id": "s-nowhere", "args": {}, "clarification": null, "reasoning": "x"}"#;
    let server = TestServer::start_at("/v1", vec![tool_call_answer(arguments)]).await;
    let error = with_mode(&server.base_url, ToolMode::Native)
        .select_tool(&tool_request())
        .await
        .expect_err("an unknown scene is refused");
    match error {
        LlmError::Malformed { detail, .. } => assert!(detail.contains("s-nowhere"), "{detail}"),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[tokio::test]
async fn auto_falls_back_to_json_when_tools_are_refused_and_remembers_it() {
    let server = TestServer::start_at(
        "/v1",
        vec![tools_refused(), answer(DECISION), answer(DECISION)],
    )
    .await;
    let client = with_mode(&server.base_url, ToolMode::Auto);
    for _ in 0..2 {
        let response = client
            .select_tool(&tool_request())
            .await
            .expect("the JSON format answers");
        assert!(matches!(response.value, ToolDecision::Tool { .. }));
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 3, "one refusal, then JSON twice");
    assert!(requests[0].body.get("tools").is_some());
    assert!(requests[1].body.get("tools").is_none());
    assert!(
        requests[2].body.get("tools").is_none(),
        "the second selection goes straight to JSON"
    );
    let system = requests[2].body["messages"][0]["content"]
        .as_str()
        .unwrap_or("");
    assert!(system.contains("exactly one JSON object"), "{system}");
}

#[tokio::test]
async fn native_mode_does_not_fall_back() {
    let server = TestServer::start_at("/v1", vec![tools_refused(), answer(DECISION)]).await;
    let error = with_mode(&server.base_url, ToolMode::Native)
        .select_tool(&tool_request())
        .await
        .expect_err("native only");
    assert!(
        matches!(error, LlmError::Http { status: 400, .. }),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn json_mode_sends_no_tools() {
    let server = TestServer::start_at("/v1", vec![answer(DECISION)]).await;
    with_mode(&server.base_url, ToolMode::Json)
        .select_tool(&tool_request())
        .await
        .expect("the call succeeds");
    let body = &server.requests()[0].body;
    assert!(
        body.get("tools").is_none() && body.get("tool_choice").is_none(),
        "{body}"
    );
}

// ---------------------------------------------------------------------------------------------
// Request settings

#[tokio::test]
async fn max_tokens_temperature_and_the_extra_body_are_sent() {
    let server = TestServer::start_at("/v1", vec![answer(DECISION)]).await;
    let mut config = config(&server.base_url);
    config.request = RequestSettings {
        max_tokens: Some(512),
        temperature: Some(0.2),
        extra_body: Some(
            json!({"options": {"num_ctx": 32768}, "stream_options": {"continuous_usage_stats": true}})
                .as_object()
                .cloned()
                .expect("object"),
        ),
        context_window: None,
    };
    assert!(
        !format!("{config:?}").contains("32768"),
        "extra body values stay out of Debug"
    );
    OpenAiClient::new(config)
        .expect("client builds")
        .select_tool(&tool_request())
        .await
        .expect("the call succeeds");
    let body = &server.requests()[0].body;
    assert_eq!(body["max_tokens"], 512);
    assert_eq!(body["temperature"], 0.2);
    assert_eq!(body["options"]["num_ctx"], 32768);
    // Merged key by key: the client's own stream options stay.
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(body["stream_options"]["continuous_usage_stats"], true);
}

#[tokio::test]
async fn without_settings_no_limit_or_temperature_is_sent() {
    let server = TestServer::start_at("/v1", vec![answer(DECISION)]).await;
    client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect("the call succeeds");
    let body = &server.requests()[0].body;
    assert!(
        body.get("max_tokens").is_none() && body.get("temperature").is_none(),
        "{body}"
    );
}

#[tokio::test]
async fn a_prompt_over_the_context_window_is_refused_before_sending() {
    let server = TestServer::start_at("/v1", vec![answer(DECISION)]).await;
    let mut config = config(&server.base_url);
    config.request.context_window = Some(20);
    let error = OpenAiClient::new(config)
        .expect("client builds")
        .select_tool(&tool_request())
        .await
        .expect_err("too large");
    match &error {
        LlmError::PromptTooLarge { tokens, window } => {
            assert_eq!(*window, 20);
            assert!(*tokens > 20, "{tokens}");
        }
        other => panic!("expected PromptTooLarge, got {other:?}"),
    }
    assert!(
        error.to_string().contains("context window of 20"),
        "{error}"
    );
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_prompt_within_the_context_window_is_sent() {
    let server = TestServer::start_at("/v1", vec![answer(DECISION)]).await;
    let mut config = config(&server.base_url);
    config.request.context_window = Some(32_768);
    OpenAiClient::new(config)
        .expect("client builds")
        .select_tool(&tool_request())
        .await
        .expect("fits");
    assert_eq!(server.requests().len(), 1);
}

const EDITED: &str = "Made it four seconds.\n```tsx\nexport const DURATION = 120;\nexport const Logo = () => <div/>;\n```\n";

async fn prediction_sent(predict: bool, format: EditFormat) -> Option<Value> {
    let server = TestServer::start_at("/v1", vec![answer(EDITED)]).await;
    let mut config = config(&server.base_url);
    config.predict = predict;
    let mut request = code_request();
    request.edit_format = format;
    // The answer is read by the code edit stage's own parser; only the request matters here.
    let _ = OpenAiClient::new(config)
        .expect("client builds")
        .edit_code(&request)
        .await;
    server.requests()[0].body.get("prediction").cloned()
}

#[tokio::test]
async fn predict_sends_the_old_code_for_a_whole_file_edit_only() {
    let prediction = prediction_sent(true, EditFormat::Whole)
        .await
        .expect("a prediction");
    assert_eq!(prediction["type"], "content");
    assert_eq!(
        prediction["content"],
        code_request().target.expect("target").code
    );
    assert_eq!(
        prediction_sent(true, EditFormat::Diff).await,
        None,
        "never with diff"
    );
    assert_eq!(
        prediction_sent(false, EditFormat::Whole).await,
        None,
        "only with --predict"
    );
}

// ---------------------------------------------------------------------------------------------
// Streams that hold

fn fast(base_url: &str, adjust: impl FnOnce(&mut HttpSettings)) -> OpenAiClient {
    let mut config = config(base_url);
    adjust(&mut config.http);
    OpenAiClient::new(config).expect("client builds")
}

#[tokio::test]
async fn an_endless_stream_is_cut_at_the_byte_cap() {
    let steps = vec![
        role_chunk(),
        Step::Repeat {
            frame: match content_chunk("more ") {
                Step::Send(frame) => frame,
                _ => unreachable!("content chunks are sends"),
            },
            times: None,
        },
    ];
    let server = TestServer::start_at("/v1", vec![Reply::Sse(steps)]).await;
    let error = fast(&server.base_url, |http| http.max_stream_bytes = 256 * 1024)
        .select_tool(&tool_request())
        .await
        .expect_err("cut");
    assert!(
        matches!(
            error,
            LlmError::TooLarge {
                limit_bytes: 262_144
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        server.requests().len(),
        1,
        "a runaway stream is not retried"
    );
}

#[tokio::test]
async fn a_100_mb_stream_is_cut_at_the_byte_cap() {
    // One 100 MB event: the cap counts raw bytes, before any event is parsed.
    let steps = vec![
        Step::Send("data: ".to_string()),
        Step::Repeat {
            frame: "x".repeat(64 * 1024),
            times: Some(1600),
        },
        Step::Send("\n\n".to_string()),
        done(),
    ];
    let server = TestServer::start_at("/v1", vec![Reply::Sse(steps)]).await;
    let error = fast(&server.base_url, |http| http.max_stream_bytes = 1024 * 1024)
        .select_tool(&tool_request())
        .await
        .expect_err("cut");
    assert!(matches!(error, LlmError::TooLarge { .. }), "{error:?}");
    assert!(error.to_string().contains("nothing was used"), "{error}");
}

#[tokio::test]
async fn an_endless_error_body_is_read_only_up_to_its_cap() {
    // Reading the whole body would last until the total timeout; the cap ends it with the
    // status and the start of the body.
    let steps = vec![
        Step::Send(r#"{"error":{"message":"bad request: "#.to_string()),
        Step::Repeat {
            frame: "y".repeat(4096),
            times: None,
        },
    ];
    let server = TestServer::start_at(
        "/v1",
        vec![Reply::Full {
            status: 400,
            headers: vec![("content-type".to_string(), "application/json".to_string())],
            steps,
        }],
    )
    .await;
    let error = fast(&server.base_url, |http| {
        http.idle_timeout = Duration::from_secs(20);
        http.total_timeout = Duration::from_secs(20);
    })
    .select_tool(&tool_request())
    .await
    .expect_err("bad request");
    match error {
        LlmError::Http { status, body, .. } => {
            assert_eq!(status, 400);
            assert!(body.contains("bad request"), "{body}");
            assert!(body.chars().count() < 2000, "the shown body is an excerpt");
        }
        other => panic!("expected Http, got {other:?}"),
    }
}

#[tokio::test]
async fn a_stall_after_the_headers_hits_the_idle_timeout() {
    let steps = vec![Step::Pause(Duration::from_secs(20)), role_chunk(), done()];
    let server = TestServer::start_at("/v1", vec![Reply::Sse(steps)]).await;
    let error = fast(&server.base_url, |http| {
        http.idle_timeout = Duration::from_millis(300)
    })
    .select_tool(&tool_request())
    .await
    .expect_err("stalled");
    assert!(matches!(error, LlmError::IdleTimeout { .. }), "{error:?}");
    assert!(error.to_string().contains("idle timeout"), "{error}");
}

#[tokio::test]
async fn a_stall_mid_stream_hits_the_idle_timeout() {
    let steps = vec![
        role_chunk(),
        content_chunk("{\"tool\""),
        Step::Pause(Duration::from_secs(20)),
        done(),
    ];
    let server = TestServer::start_at("/v1", vec![Reply::Sse(steps)]).await;
    let error = fast(&server.base_url, |http| {
        http.idle_timeout = Duration::from_millis(300)
    })
    .select_tool(&tool_request())
    .await
    .expect_err("stalled");
    assert!(matches!(error, LlmError::IdleTimeout { .. }), "{error:?}");
}

#[tokio::test]
async fn a_slow_but_steady_stream_outlives_the_idle_timeout() {
    // Twelve pieces 250 ms apart: the whole answer takes three times the idle timeout, but no
    // gap comes near it.
    let mut steps = vec![role_chunk()];
    let chars: Vec<char> = DECISION.chars().collect();
    for piece in chars.chunks(chars.len().div_ceil(12)) {
        steps.push(Step::Pause(Duration::from_millis(250)));
        steps.push(content_chunk(&piece.iter().collect::<String>()));
    }
    steps.extend([finish_chunk(), usage_chunk(100, 0, 40), done()]);
    let server = TestServer::start_at("/v1", vec![Reply::Sse(steps)]).await;
    let response = fast(&server.base_url, |http| {
        http.idle_timeout = Duration::from_secs(1);
        http.total_timeout = Duration::from_secs(60);
    })
    .select_tool(&tool_request())
    .await
    .expect("a stream that keeps producing bytes is never cut by the idle timeout");
    assert!(matches!(response.value, ToolDecision::Tool { .. }));
}

fn status_with_headers(status: u16, headers: &[(&str, String)], body: &str) -> Reply {
    Reply::Full {
        status,
        headers: headers
            .iter()
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect(),
        steps: vec![Step::Send(body.to_string())],
    }
}

#[tokio::test]
async fn a_retry_after_in_seconds_above_the_maximum_fails_with_the_message() {
    let server = TestServer::start_at(
        "/v1",
        vec![
            Reply::Status {
                status: 429,
                retry_after: Some("3600"),
                body: r#"{"error":{"message":"Rate limit reached, try again in 1 hour"}}"#
                    .to_string(),
            },
            answer(DECISION),
        ],
    )
    .await;
    let error = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect_err("too long a wait");
    match &error {
        LlmError::RetryTooLate {
            status,
            wait_s,
            body,
            ..
        } => {
            assert_eq!(*status, 429);
            assert_eq!(*wait_s, 3600.0);
            assert!(body.contains("try again in 1 hour"), "{body}");
        }
        other => panic!("expected RetryTooLate, got {other:?}"),
    }
    assert_eq!(server.requests().len(), 1, "not retried early");
}

#[tokio::test]
async fn a_retry_after_date_above_the_maximum_fails_with_the_message() {
    let later = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(7200));
    let server = TestServer::start_at(
        "/v1",
        vec![
            status_with_headers(
                503,
                &[("retry-after", later)],
                r#"{"error":{"message":"down for maintenance"}}"#,
            ),
            answer(DECISION),
        ],
    )
    .await;
    let error = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect_err("too long a wait");
    match &error {
        LlmError::RetryTooLate {
            status,
            wait_s,
            body,
            ..
        } => {
            assert_eq!(*status, 503);
            assert!(*wait_s > 3600.0, "{wait_s}");
            assert!(body.contains("maintenance"), "{body}");
        }
        other => panic!("expected RetryTooLate, got {other:?}"),
    }
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_near_retry_after_date_is_waited_for() {
    let soon = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(1));
    let server = TestServer::start_at(
        "/v1",
        vec![
            status_with_headers(429, &[("retry-after", soon)], "slow down"),
            answer(DECISION),
        ],
    )
    .await;
    client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect("succeeds after the wait");
    assert_eq!(server.requests().len(), 2);
}

const QUOTA_BODY: &str = r#"{
    "error": {
        "message": "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors. (This sentence pads the message past the excerpt length of ordinary error bodies so that an excerpt would cut it: a quota error is shown in full, with everything the provider wrote about what to do next, since the user cannot retry their way out of it. The end of the message is here: END-OF-QUOTA-MESSAGE.)",
        "type": "insufficient_quota",
        "param": null,
        "code": "insufficient_quota"
    }
}"#;

#[tokio::test]
async fn a_quota_error_is_not_retried_and_is_shown_in_full() {
    let server = TestServer::start_at(
        "/v1",
        vec![
            Reply::Status {
                status: 429,
                retry_after: Some("0"),
                body: QUOTA_BODY.to_string(),
            },
            answer(DECISION),
        ],
    )
    .await;
    let error = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect_err("out of quota");
    assert!(
        matches!(error, LlmError::Quota { status: 429, .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(text.contains("END-OF-QUOTA-MESSAGE"), "{text}");
    assert!(text.contains("insufficient_quota"), "{text}");
    assert_eq!(server.requests().len(), 1, "quota errors are not retried");
}

fn error_chunk(message: &str) -> Step {
    frame(
        json!({"error": {"message": message, "type": "server_error", "param": null, "code": null}}),
    )
}

#[tokio::test]
async fn an_overload_error_in_the_stream_before_any_content_is_retried() {
    let overloaded = Reply::Sse(vec![role_chunk(), error_chunk("The server is overloaded")]);
    let server = TestServer::start_at("/v1", vec![overloaded, answer(DECISION)]).await;
    let response = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect("the retry answers");
    assert!(matches!(response.value, ToolDecision::Tool { .. }));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn an_error_in_the_stream_after_content_is_not_retried() {
    let broken = Reply::Sse(vec![
        role_chunk(),
        content_chunk("{\"tool\": "),
        error_chunk("The server is overloaded"),
    ]);
    let server = TestServer::start_at("/v1", vec![broken, answer(DECISION)]).await;
    let error = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect_err("half an answer is not retried");
    match error {
        LlmError::Http { body, .. } => assert!(body.contains("overloaded"), "{body}"),
        other => panic!("expected Http, got {other:?}"),
    }
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_stream_that_ends_after_the_finish_reason_without_done_is_accepted() {
    let mut steps = vec![role_chunk(), content_chunk(DECISION)];
    steps.extend([finish_chunk(), usage_chunk(2048, 0, 42)]);
    let server = TestServer::start_at("/v1", vec![Reply::Sse(steps)]).await;
    let response = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect("a finish reason ends the answer");
    assert!(matches!(response.value, ToolDecision::Tool { .. }));
    assert_eq!(response.usage.output_tokens, 42);
}

#[tokio::test]
async fn a_base_url_without_v1_works() {
    let server = TestServer::start_at("/v1", vec![answer(DECISION)]).await;
    for base in [
        server.base_url.trim_end_matches("/v1").to_string(),
        format!("{}/", server.base_url.trim_end_matches("/v1")),
        format!("{}/", server.base_url),
    ] {
        client(&base)
            .select_tool(&tool_request())
            .await
            .unwrap_or_else(|e| panic!("{base}: {e}"));
    }
    for request in server.requests() {
        assert_eq!(request.path, "/v1/chat/completions");
    }
}

#[tokio::test]
async fn missing_usage_is_estimated_and_labelled() {
    let mut steps = vec![role_chunk(), content_chunk(DECISION)];
    steps.extend([finish_chunk(), done()]);
    let server = TestServer::start_at("/v1", vec![Reply::Sse(steps)]).await;
    let response = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect("the call succeeds");
    assert!(response.usage.estimated);
    assert!(response.usage.input_tokens > 0, "{:?}", response.usage);
    assert!(response.usage.output_tokens > 0, "{:?}", response.usage);
}

#[tokio::test]
async fn reported_usage_is_not_estimated() {
    let server = TestServer::start_at("/v1", vec![answer(DECISION)]).await;
    let response = client(&server.base_url)
        .select_tool(&tool_request())
        .await
        .expect("the call succeeds");
    assert!(!response.usage.estimated);
}

#[tokio::test]
async fn a_key_in_the_base_url_is_sent_and_never_shown() {
    let server = TestServer::start_at("/v1", vec![answer(DECISION)]).await;
    let with_key = server
        .base_url
        .replace("http://", "http://user:sk-url-secret@");
    // As a user writes it: the key only in the URL.
    let config = OpenAiConfig {
        tool_mode: ToolMode::Json,
        ..OpenAiConfig::new(with_key, "gpt-4o-mini")
    };
    assert!(!format!("{config:?}").contains("sk-url-secret"));
    let client = OpenAiClient::new(config).expect("client builds");
    assert!(!format!("{client:?}").contains("sk-url-secret"));
    assert!(!client.url().contains("sk-url-secret"));
    client
        .select_tool(&tool_request())
        .await
        .expect("the call succeeds");
    assert_eq!(
        header(&server.requests()[0], "authorization"),
        "Bearer sk-url-secret"
    );

    // Nothing listening: the connect error names the endpoint without its user info.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let dead = format!("http://user:sk-url-secret@127.0.0.1:{port}/v1");
    let error = OpenAiClient::new(OpenAiConfig::new(dead, "m"))
        .expect("client builds")
        .select_tool(&tool_request())
        .await
        .expect_err("nobody answers");
    let text = format!("{error} {error:?}");
    assert!(!text.contains("sk-url-secret"), "{text}");
    assert!(text.contains(&port.to_string()), "{text}");
}
