//! The model flags through the binary: `edit --llm openai --base-url http://127.0.0.1:PORT`
//! (no `/v1`, no key) against the scripted server answering with a native tool call, the
//! estimated usage in both outputs, and clear errors for bad settings.

use predicates::prelude::*;
use serde_json::json;

use crate::cli::{editscope, json_of};
use crate::scripted_server::{Reply, Step, TestServer};

fn frame(chunk: serde_json::Value) -> Step {
    Step::Send(format!("data: {chunk}\n\n"))
}

fn delta(delta: serde_json::Value, finish: Option<&str>) -> Step {
    frame(json!({
        "id": "c", "object": "chat.completion.chunk", "created": 1, "model": "llama3",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
    }))
}

/// A native `select_tool` call in three pieces, and no usage anywhere (as many local servers).
fn tool_call() -> Reply {
    let arguments = r##"{"tool": "editScene", "target_scene_id": "1", "args": {"color": "#e11d48"}, "clarification": null, "reasoning": "scene 1 named"}"##;
    let (a, rest) = arguments.split_at(20);
    let (b, c) = rest.split_at(40);
    let mut steps = vec![delta(
        json!({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_1", "type": "function",
               "function": {"name": "select_tool", "arguments": a}}]}),
        None,
    )];
    for piece in [b, c] {
        steps.push(delta(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}),
            None,
        ));
    }
    steps.push(delta(json!({}), Some("stop")));
    steps.push(Step::Send("data: [DONE]\n\n".to_string()));
    Reply::Sse(steps)
}

const NEW_CODE: &str = "import React from 'react';\nimport { AbsoluteFill } from 'remotion';\n\nconst DURATION = 105;\n\nexport const Intro: React.FC = () => {\n  return (\n    <AbsoluteFill style={{ backgroundColor: '#e11d48' }}>\n      <h1>Intro</h1>\n    </AbsoluteFill>\n  );\n};\n";

fn code_edit() -> Reply {
    let text = format!("Made the intro red.\n```tsx\n{NEW_CODE}```\n");
    Reply::Sse(vec![
        delta(json!({"role": "assistant", "content": text}), None),
        delta(json!({}), Some("stop")),
        Step::Send("data: [DONE]\n\n".to_string()),
    ])
}

#[test]
fn edit_with_a_local_openai_compatible_server_without_v1_or_key_applies_the_edit() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let server = runtime.block_on(TestServer::start_at(
        "",
        vec![tool_call(), code_edit(), tool_call(), code_edit()],
    ));
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("editscope.db");
    let base = server.base_url.clone();
    let args = [
        "edit",
        "--project",
        "demo-small",
        "--prompt",
        "make scene 1 red",
        "--llm",
        "openai",
        "--base-url",
        base.as_str(),
        "--model",
        "llama3",
        // The whole-file answer this server gives; predicted outputs ride along.
        "--predict",
    ];
    let result = json_of(editscope(&db).args(args).arg("--json"));
    assert_eq!(result["outcome"], "applied", "{result:#}");
    let calls = result["model_calls"].as_array().expect("model calls");
    assert!(!calls.is_empty());
    for call in calls {
        assert_eq!(call["usage_estimated"], true, "{call}");
        assert!(call["input_tokens"].as_u64().unwrap_or(0) > 0, "{call}");
    }
    let requests = server.requests();
    assert_eq!(requests[0].path, "/v1/chat/completions");
    assert!(requests[0].headers.get("authorization").is_none());
    assert_eq!(
        requests[0].body["tools"][0]["function"]["name"],
        "select_tool"
    );

    // The text output labels the estimate where it shows the tokens.
    editscope(&db)
        .args(args)
        .assert()
        .success()
        .stdout(predicate::str::contains("(estimated)"));
}

#[test]
fn bad_model_settings_are_clear_cli_errors_that_do_not_echo_the_extra_body() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("editscope.db");
    let edit = ["edit", "--project", "demo-small", "--prompt", "x"];
    editscope(&db)
        .args(edit)
        .args(["--extra-body", r#"{"api_token": "tok-secret-123""#])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--extra-body is not valid JSON"))
        .stderr(predicate::str::contains("tok-secret-123").not());
    editscope(&db)
        .args(edit)
        .args(["--extra-body", r#""tok-secret-123""#])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "--extra-body must be a JSON object",
        ))
        .stderr(predicate::str::contains("tok-secret-123").not());
    editscope(&db)
        .args(edit)
        .args(["--idle-timeout", "0"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "--idle-timeout must be a positive",
        ));
    editscope(&db)
        .args(edit)
        .args(["--tool-mode", "maybe"])
        .assert()
        .failure();
}
