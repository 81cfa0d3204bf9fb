//! A planted API key, in the environment, in a base URL's user info and in `--extra-body`,
//! appears in no output:
//! not the logs, the `--json` and `--events jsonl` outputs, error messages (a 401 whose body
//! echoes the key, a refused connection), the session file, the trace exports (`runs --export`,
//! `--otlp-endpoint`) or the database file.

use std::path::Path;
use std::time::Duration;

use crate::cli::editscope;
use crate::export::collector;
use crate::scripted_server::{Reply, TestServer};
use crate::session::openai_answer;

const ENV_KEY: &str = "sk-planted-env-7c1f2a9b";
const URL_KEY: &str = "sk-planted-url-4d8e6b3a";
/// A key sent in `--extra-body` (some gateways take their token in the body).
const BODY_KEY: &str = "sk-planted-body-9a2c5e71";
const PROMPT: &str = "make the title red in scene 3";

/// `http://user:URL_KEY@host...` for a base URL `http://host...`.
fn with_userinfo(base_url: &str) -> String {
    base_url.replacen("http://", &format!("http://user:{URL_KEY}@"), 1)
}

/// A 401 whose body echoes the key, as some proxies do.
fn unauthorized() -> Reply {
    Reply::Status {
        status: 401,
        retry_after: None,
        body: format!(
            r#"{{"error": {{"message": "Incorrect API key provided: {ENV_KEY}", "type": "invalid_request_error"}}}}"#
        ),
    }
}

/// Runs editscope with both provider keys planted and debug logs on; returns stdout + stderr.
fn run(db: &Path, args: &[&str], succeeds: bool) -> String {
    let mut cmd = editscope(db);
    cmd.env("OPENAI_API_KEY", ENV_KEY)
        .env("ANTHROPIC_API_KEY", ENV_KEY)
        .env("EDITSCOPE_LOG", "debug")
        .args(args);
    let assert = cmd.assert();
    let assert = if succeeds {
        assert.success()
    } else {
        assert.failure()
    };
    let out = assert.get_output();
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn holds_no_key(what: &str, bytes: &[u8]) {
    for key in [ENV_KEY, URL_KEY, BODY_KEY] {
        let found = bytes
            .windows(key.len())
            .any(|window| window == key.as_bytes());
        assert!(!found, "{what} holds the planted key {key}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_api_key_appears_in_no_output_no_file_and_not_the_database() {
    let decision = r##"{"tool": "editScene", "target_scene_id": "demo-small-s0003", "args": {}, "clarification": null, "reasoning": "scene 3"}"##;
    let scene = editscope::fixtures::demo_project("demo-small")
        .unwrap()
        .unwrap()
        .scenes
        .into_iter()
        .find(|s| s.id == "demo-small-s0003")
        .unwrap();
    let edited = format!("{}\n// retitled by the mock model\n", scene.tsx_code);
    // A whole edit, then 401s (the last reply repeats).
    let openai = TestServer::start_at(
        "/v1",
        vec![
            openai_answer(decision),
            openai_answer(&format!("```tsx\n{edited}```\n")),
            unauthorized(),
        ],
    )
    .await;
    let anthropic = TestServer::start_at("", vec![unauthorized()]).await;
    let openai_url = with_userinfo(&openai.base_url);
    let anthropic_url = with_userinfo(&anthropic.base_url);
    // Nothing listens on port 1: the connection is refused.
    let refused_url = with_userinfo("http://127.0.0.1:1/v1");
    let (otlp_url, otlp) = collector();

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("editscope.db");
    let session = dir.path().join("s.jsonl");
    let chrome = dir.path().join("trace.json");
    let otlp_json = dir.path().join("trace.otlp.json");
    let (db2, session2, chrome2, otlp_json2) = (
        db.clone(),
        session.clone(),
        chrome.clone(),
        otlp_json.clone(),
    );
    let outputs = tokio::task::spawn_blocking(move || {
        let (db, session) = (db2.as_path(), session2.to_str().unwrap());
        let openai_args = |url: &str| -> Vec<String> {
            ["edit", "--project", "demo-small", "--prompt", PROMPT]
                .iter()
                .map(|s| s.to_string())
                .chain(
                    ["--llm", "openai", "--model", "gpt-mock", "--base-url", url]
                        .iter()
                        .map(|s| s.to_string()),
                )
                .chain([
                    "--extra-body".to_string(),
                    format!(r#"{{"gateway_token": "{BODY_KEY}"}}"#),
                ])
                .collect()
        };
        let mut outputs = Vec::new();
        // A whole edit: --json, a session, a live trace export.
        let mut args = openai_args(&openai_url);
        args.extend(
            ["--json", "--record", session, "--otlp-endpoint", &otlp_url].map(String::from),
        );
        let out = run(db, &strs(&args), true);
        outputs.push(("edit --json (applied)", out));
        // The 401 that echoes the key, as --events jsonl and as --json.
        let mut args = openai_args(&openai_url);
        args.extend(["--events", "jsonl", "--record", session].map(String::from));
        let out = run(db, &strs(&args), false);
        assert!(out.contains("401"), "the 401 path ran: {out}");
        outputs.push(("edit --events jsonl (401)", out));
        let mut args = openai_args(&openai_url);
        args.push("--json".into());
        outputs.push(("edit --json (401)", run(db, &strs(&args), false)));
        // A refused connection, to a URL with the key in it.
        let out = run(db, &strs(&openai_args(&refused_url)), false);
        // The key in the URL's user info is taken as the key, and the URL is shown without it
        // (masked, or with the user info left out).
        assert!(
            out.contains("cannot connect to http://***@127.0.0.1:1")
                || out.contains("cannot connect to http://127.0.0.1:1"),
            "{out}"
        );
        outputs.push(("edit (connection refused)", out));
        // Anthropic: its key in the environment, a URL key, a 401 echoing the key.
        let out = run(
            db,
            &[
                "edit",
                "--project",
                "demo-small",
                "--prompt",
                PROMPT,
                "--llm",
                "anthropic",
                "--base-url",
                &anthropic_url,
                "--json",
            ],
            false,
        );
        assert!(out.contains("401"), "{out}");
        outputs.push(("edit --llm anthropic (401)", out));
        // What reads the recorded runs back.
        outputs.push((
            "runs --json",
            run(db, &["runs", "--project", "demo-small", "--json"], true),
        ));
        for (format, file) in [("chrome", &chrome2), ("otlp-json", &otlp_json2)] {
            run(
                db,
                &[
                    "runs",
                    "--project",
                    "demo-small",
                    "--export",
                    format,
                    file.to_str().unwrap(),
                ],
                true,
            );
        }
        outputs.push((
            "replay --json",
            run(
                db,
                &["replay", session, "--time-scale", "0", "--json"],
                true,
            ),
        ));
        outputs
    })
    .await
    .unwrap();

    // The keys did go where they belong, so the outputs had them to leak.
    let sent = openai.requests();
    assert_eq!(
        sent[0]
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap(),
        format!("Bearer {ENV_KEY}")
    );
    assert_eq!(
        anthropic.requests()[0].headers.get("x-api-key").unwrap(),
        ENV_KEY
    );
    for (what, text) in &outputs {
        holds_no_key(what, text.as_bytes());
    }
    let posted = otlp
        .recv_timeout(Duration::from_secs(30))
        .expect("the run's spans were posted");
    holds_no_key("the posted OTLP spans", &posted.body);
    holds_no_key("the session file", &std::fs::read(&session).unwrap());
    holds_no_key("runs --export chrome", &std::fs::read(&chrome).unwrap());
    holds_no_key(
        "runs --export otlp-json",
        &std::fs::read(&otlp_json).unwrap(),
    );
    for suffix in ["", "-wal"] {
        let file = format!("{}{suffix}", db.display());
        if let Ok(bytes) = std::fs::read(&file) {
            holds_no_key(&file, &bytes);
        }
    }
    // The errors are in the database (so the search there meant something).
    let store = editscope::store::Store::open(&db).unwrap();
    let errors: i64 = store
        .connection()
        .expect("a SQLite store")
        .query_row(
            "SELECT count(*) FROM edit_runs WHERE error LIKE '%401%' OR error LIKE '%connect%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(errors >= 3, "{errors}");
}
