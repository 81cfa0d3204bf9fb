//! Sessions: `edit --record` writes them, `replay` re-runs them on a scratch copy of the
//! recorded project; the reader refuses what it cannot trust and names why.

use std::path::Path;

use serde_json::{Value, json};

use crate::cli::{editscope, json_of};
use crate::scripted_server::{Reply, Step, TestServer};

fn export(db: &Path) -> Vec<u8> {
    editscope(db)
        .args(["export", "--project", "demo-small"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone()
}

const PROMPTS: [&str; 3] = [
    "make the title red in scene 3",
    "make scene 2 shorter",
    "change the background of the last scene to dark blue",
];

fn record_three(db: &Path, session: &Path) {
    for prompt in PROMPTS {
        editscope(db)
            .args(["edit", "--project", "demo-small", "--prompt", prompt])
            .args(["--time-scale", "0", "--record"])
            .arg(session)
            .assert()
            .success();
    }
}

#[test]
fn three_recorded_edits_replay_under_legacy_and_optimized_and_the_database_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("editscope.db");
    let session = dir.path().join("s.jsonl");
    record_three(&db, &session);
    let text = std::fs::read_to_string(&session).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "a header and three runs");
    assert_eq!(lines[0]["format"], "editscope.session/v1");
    assert_eq!(lines[0]["project"]["format"], "editscope.project/v1");
    assert_eq!(lines[0]["project"]["project"]["id"], "demo-small");
    for (i, run) in lines[1..].iter().enumerate() {
        assert_eq!(run["run"], i as u64 + 1);
        assert_eq!(run["prompt"], PROMPTS[i]);
        assert!(run["events"].as_array().unwrap().len() > 8, "{run:#}");
        assert!(run["events"][0]["at_ms"].is_number());
        assert_eq!(run["events"][0]["event"], "run_started");
        let prompts = run["prompts"].as_array().unwrap();
        assert!(!prompts.is_empty());
        for p in prompts {
            for field in ["stage", "system", "stable_prefix", "variable"] {
                assert!(p.get(field).is_some(), "prompt misses {field}");
            }
        }
        assert_eq!(run["result"]["outcome"], "applied", "{run:#}");
    }

    let before = export(&db);
    let report = json_of(
        editscope(&db)
            .arg("replay")
            .arg(&session)
            .args([
                "--flags",
                "legacy",
                "--vs",
                "optimized",
                "--time-scale",
                "0",
            ])
            .arg("--json"),
    );
    assert_eq!(export(&db), before, "replay changed the database");
    assert_eq!(report["project_id"], "demo-small");
    assert_eq!(report["passes"], json!(["legacy", "optimized"]));
    assert_eq!(report["cut_off"], false);
    let runs = report["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    for run in runs {
        let replayed = run["replayed"].as_array().unwrap();
        assert_eq!(replayed.len(), 2);
        assert_eq!(replayed[0]["flags"], "legacy");
        assert_eq!(replayed[1]["flags"], "optimized");
        for r in replayed {
            let stages = r["stages"].as_array().unwrap();
            assert_eq!(stages.len(), 4, "{r:#}");
            assert!(stages.iter().all(|s| s["real_ms"].is_number()));
        }
        // Replayed in order on the recorded project: the same work, the same code.
        assert_eq!(run["same_decision"], true, "{run:#}");
        assert_eq!(run["same_code"], true, "{run:#}");
    }
    // The text form shows both passes stage by stage.
    let out = editscope(&db)
        .arg("replay")
        .arg(&session)
        .args([
            "--flags",
            "legacy",
            "--vs",
            "optimized",
            "--time-scale",
            "0",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    for needle in ["recorded", "legacy", "optimized", "tool_selection", "ratio"] {
        assert!(out.contains(needle), "{needle} missing:\n{out}");
    }
}

#[test]
fn a_session_of_another_project_or_a_file_that_is_no_session_is_never_appended_to() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("editscope.db");
    let session = dir.path().join("s.jsonl");
    editscope(&db)
        .args(["edit", "--project", "demo-small", "--prompt", PROMPTS[0]])
        .args(["--time-scale", "0", "--record"])
        .arg(&session)
        .assert()
        .success();
    let before = std::fs::read(&session).unwrap();
    editscope(&db)
        .args([
            "edit",
            "--project",
            "demo-medium",
            "--prompt",
            "make scene 2 shorter",
        ])
        .args(["--time-scale", "0", "--record"])
        .arg(&session)
        .assert()
        .failure()
        .stderr(predicates::str::contains("records project 'demo-small'"));
    assert_eq!(std::fs::read(&session).unwrap(), before);
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "my notes\n").unwrap();
    editscope(&db)
        .args(["edit", "--project", "demo-small", "--prompt", PROMPTS[0]])
        .args(["--time-scale", "0", "--record"])
        .arg(&notes)
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "is not an editscope session: line 1",
        ));
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes\n");
}

#[test]
fn newer_cut_off_and_foreign_files_are_refused_or_replayed_as_far_as_they_go() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("editscope.db");
    let session = dir.path().join("s.jsonl");
    record_three(&db, &session);
    let text = std::fs::read_to_string(&session).unwrap();
    let lines: Vec<&str> = text.lines().collect();

    // A newer format version: refused with a clear error.
    let mut header: Value = serde_json::from_str(lines[0]).unwrap();
    header["format"] = json!("editscope.session/v2");
    let newer = dir.path().join("newer.jsonl");
    std::fs::write(&newer, format!("{header}\n{}\n", lines[1])).unwrap();
    editscope(&db)
        .arg("replay")
        .arg(&newer)
        .assert()
        .failure()
        .stderr(predicates::str::contains("format version 2, newer than"));

    // A cut-off last line: the complete runs replay, and the report says one was cut.
    let cut = dir.path().join("cut.jsonl");
    let last = lines[3];
    std::fs::write(
        &cut,
        format!(
            "{}\n{}\n{}\n{}",
            lines[0],
            lines[1],
            lines[2],
            &last[..last.len() / 2]
        ),
    )
    .unwrap();
    let report = json_of(editscope(&db).arg("replay").arg(&cut).args([
        "--flags",
        "optimized",
        "--time-scale",
        "0",
        "--json",
    ]));
    assert_eq!(report["cut_off"], true);
    assert_eq!(report["runs"].as_array().unwrap().len(), 2);

    // Recording goes on after a cut-off line: the cut run is dropped, the file stays readable.
    editscope(&db)
        .args(["edit", "--project", "demo-small", "--prompt", PROMPTS[1]])
        .args(["--time-scale", "0", "--record"])
        .arg(&cut)
        .assert()
        .success();
    let resumed = editscope::session::read(&cut).unwrap();
    assert!(!resumed.cut_off);
    assert_eq!(resumed.runs.len(), 3);
    assert_eq!(resumed.runs[2].prompt, PROMPTS[1]);

    // A bad line that is not the last: named, with the reason.
    let broken = dir.path().join("broken.jsonl");
    std::fs::write(
        &broken,
        format!("{}\n{{\"run\": 1}}\n{}\n", lines[0], lines[2]),
    )
    .unwrap();
    editscope(&db)
        .arg("replay")
        .arg(&broken)
        .assert()
        .failure()
        .stderr(predicates::str::contains("line 2: not a recorded run"));

    // Not a session at all.
    let project = dir.path().join("project.json");
    std::fs::write(&project, export(&db)).unwrap();
    editscope(&db)
        .arg("replay")
        .arg(&project)
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "is not an editscope session: line 1",
        ));
}

/// A streamed OpenAI answer carrying `text`.
pub fn openai_answer(text: &str) -> Reply {
    let chunk = |delta: Value, finish: Value| {
        Step::Send(format!(
            "data: {}\n\n",
            json!({
                "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
                "model": "gpt-mock", "usage": null,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
            })
        ))
    };
    Reply::Sse(vec![
        chunk(json!({"role": "assistant", "content": ""}), Value::Null),
        chunk(json!({ "content": text }), Value::Null),
        chunk(json!({}), json!("stop")),
        Step::Send(format!(
            "data: {}\n\n",
            json!({
                "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
                "model": "gpt-mock", "choices": [],
                "usage": {"prompt_tokens": 1500, "completion_tokens": 60, "total_tokens": 1560,
                          "prompt_tokens_details": {"cached_tokens": 0}}
            })
        )),
        Step::Send("data: [DONE]\n\n".into()),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_recorded_against_a_real_provider_replays_offline_and_holds_no_key() {
    const PLANTED: &str = "sk-planted-session-key-4f9a1c";
    let project = editscope::fixtures::demo_project("demo-small")
        .unwrap()
        .unwrap();
    let scene = project
        .scenes
        .iter()
        .find(|s| s.id == "demo-small-s0003")
        .unwrap();
    let edited = format!("{}\n// retitled by the mock model\n", scene.tsx_code);
    let decision = r##"{"tool": "editScene", "target_scene_id": "demo-small-s0003", "args": {}, "clarification": null, "reasoning": "scene 3"}"##;
    let server = TestServer::start_at(
        "/v1",
        vec![
            openai_answer(decision),
            openai_answer(&format!("```tsx\n{edited}```\n")),
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("editscope.db");
    let session = dir.path().join("s.jsonl");
    let base_url = server.base_url.clone();
    let (db2, session2) = (db.clone(), session.clone());
    tokio::task::spawn_blocking(move || {
        editscope(&db2)
            .env("OPENAI_API_KEY", PLANTED)
            .args(["edit", "--project", "demo-small", "--prompt", PROMPTS[0]])
            .args([
                "--llm",
                "openai",
                "--model",
                "gpt-mock",
                "--base-url",
                &base_url,
            ])
            .arg("--record")
            .arg(&session2)
            .assert()
            .success();
    })
    .await
    .unwrap();
    // The key went to the server, and nowhere into the session.
    let auth = server.requests()[0]
        .headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(auth.as_deref(), Some(format!("Bearer {PLANTED}").as_str()));
    let text = std::fs::read_to_string(&session).unwrap();
    assert!(!text.contains(PLANTED), "the session holds the API key");
    assert!(
        !text.to_lowercase().contains("bearer"),
        "the session holds an auth header"
    );
    let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(header["backend"], "openai");

    let report = tokio::task::spawn_blocking(move || {
        json_of(editscope(&db).arg("replay").arg(&session).args([
            "--flags",
            "optimized",
            "--time-scale",
            "0",
            "--json",
        ]))
    })
    .await
    .unwrap();
    let run = &report["runs"][0];
    assert_eq!(run["recorded"]["model"], "gpt-mock");
    assert_eq!(run["replayed"][0]["model"], "offline-sim");
    // The offline model picks the same tool and scene; its code differs from the mock's.
    assert_eq!(run["same_decision"], true, "{run:#}");
    assert_eq!(run["same_code"], false, "{run:#}");
}
