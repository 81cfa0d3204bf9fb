//! The command line, driven as a user would, on a temporary database.

use assert_cmd::Command;
use predicates::prelude::*;

/// The binary on a temporary database, with none of the environment that would change what
/// it does (the flag preset, provider keys, trace-export headers). Every CLI test starts here.
pub fn editscope(db: &std::path::Path) -> Command {
    Command::from(editscope_process(db))
}

/// [`editscope`] as a plain process, for a test that must read its output as it comes (and
/// kill it mid-run).
pub fn editscope_process(db: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("editscope"));
    cmd.env("EDITSCOPE_DB", db)
        .env_remove("USE_OPTIMIZED_CONTEXT")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("OTEL_EXPORTER_OTLP_HEADERS")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_HEADERS");
    cmd
}

/// Runs `cmd`, which must succeed, and parses its stdout as one JSON document.
pub fn json_of(cmd: &mut Command) -> serde_json::Value {
    let out = cmd.assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).expect("stdout is one JSON document")
}

#[test]
fn first_run_seeds_the_three_demo_projects_and_a_second_run_does_not_seed_again() {
    crate::backends::each(|backend| {
        let dir = tempfile::tempdir().unwrap();
        let db = backend.db_in(dir.path(), "sub/editscope.db");
        let projects = json_of(editscope(&db).args(["projects", "--json"]));
        let ids: Vec<&str> = projects
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["demo-small", "demo-medium", "demo-large"]);
        for p in projects.as_array().unwrap() {
            for field in ["id", "title", "scenes", "messages", "memory_entries"] {
                assert!(p.get(field).is_some(), "missing {field}");
            }
        }
        assert_eq!(projects[0]["scenes"], 5);
        // forget one entry, then run again: a re-seed would bring it back
        let list =
            json_of(editscope(&db).args(["memory", "list", "--project", "demo-small", "--json"]));
        let first = &list[0];
        editscope(&db)
            .args([
                "memory",
                "forget",
                "--project",
                "demo-small",
                "--type",
                first["memory_type"].as_str().unwrap(),
                "--key",
                first["key"].as_str().unwrap(),
            ])
            .assert()
            .success();
        let again = json_of(editscope(&db).args(["projects", "--json"]));
        assert_eq!(again.as_array().unwrap().len(), 3);
        assert_eq!(
            again[0]["memory_entries"].as_u64().unwrap(),
            projects[0]["memory_entries"].as_u64().unwrap() - 1
        );
    });
}

#[test]
fn memory_set_show_list_forget() {
    crate::backends::each(|backend| {
        let dir = tempfile::tempdir().unwrap();
        let db = backend.db_in(dir.path(), "e.db");
        editscope(&db)
            .args([
                "memory",
                "set",
                "--project",
                "demo-small",
                "--type",
                "USER_PREFERENCE",
                "--key",
                "soundtrack",
                "--value",
                "lo-fi",
                "--confidence",
                "0.7",
            ])
            .assert()
            .success()
            .stdout(predicate::str::contains("inserted"));
        let shown = json_of(editscope(&db).args([
            "memory",
            "show",
            "--project",
            "demo-small",
            "--type",
            "user_preference",
            "--key",
            "soundtrack",
            "--json",
        ]));
        assert_eq!(shown["value"], "lo-fi");
        assert_eq!(shown["confidence"], 0.7);
        assert_eq!(shown["source_prompt"], "editscope memory set");
        for field in [
            "id",
            "memory_type",
            "key",
            "value",
            "confidence",
            "source_prompt",
            "updated_at",
        ] {
            assert!(shown.get(field).is_some(), "missing {field}");
        }
        // less confident: kept
        editscope(&db)
            .args([
                "memory",
                "set",
                "--project",
                "demo-small",
                "--type",
                "USER_PREFERENCE",
                "--key",
                "soundtrack",
                "--value",
                "serious",
                "--confidence",
                "0.2",
            ])
            .assert()
            .success()
            .stdout(predicate::str::contains("kept the existing"));
        let prefs = json_of(editscope(&db).args([
            "memory",
            "list",
            "--project",
            "demo-small",
            "--type",
            "USER_PREFERENCE",
            "--json",
        ]));
        assert!(
            prefs
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["key"] == "soundtrack" && e["value"] == "lo-fi")
        );
        assert!(
            prefs
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["memory_type"] == "USER_PREFERENCE")
        );
        editscope(&db)
            .args([
                "memory",
                "set",
                "--project",
                "demo-small",
                "--type",
                "USER_PREFERENCE",
                "--key",
                "x",
                "--value",
                "y",
                "--confidence",
                "1.5",
            ])
            .assert()
            .failure()
            .stderr(predicate::str::contains("0..1"));
        editscope(&db)
            .args([
                "memory",
                "forget",
                "--project",
                "demo-small",
                "--type",
                "USER_PREFERENCE",
                "--key",
                "soundtrack",
            ])
            .assert()
            .success();
        editscope(&db)
            .args([
                "memory",
                "show",
                "--project",
                "demo-small",
                "--type",
                "USER_PREFERENCE",
                "--key",
                "soundtrack",
            ])
            .assert()
            .failure()
            .stderr(predicate::str::contains(
                "no USER_PREFERENCE entry 'soundtrack'",
            ));
    });
}

#[test]
fn export_then_import_through_the_cli_round_trips() {
    crate::backends::each(|backend| {
        let dir = tempfile::tempdir().unwrap();
        let db = backend.db_in(dir.path(), "a.db");
        let out = editscope(&db)
            .args(["export", "--project", "demo-medium"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let mut doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
        doc["project"]["title"] = "Renamed before the import".into();
        let file = dir.path().join("copy.json");
        std::fs::write(&file, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        // The project exists: a plain import refuses and changes nothing.
        editscope(&db)
            .args(["import", file.to_str().unwrap()])
            .assert()
            .failure()
            .stderr(predicate::str::contains("nothing was written"));
        editscope(&db)
            .args(["import", "--replace", file.to_str().unwrap()])
            .assert()
            .success()
            .stdout(predicate::str::contains("demo-medium"));
        let again: serde_json::Value = serde_json::from_slice(
            &editscope(&db)
                .args(["export", "--project", "demo-medium"])
                .assert()
                .success()
                .get_output()
                .stdout,
        )
        .unwrap();
        assert_eq!(again, doc);
    });
}

#[test]
fn a_malformed_import_fails_with_one_line_naming_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let file = dir.path().join("broken.json");
    let mut doc: serde_json::Value = serde_json::from_str(editscope::fixtures::DEMO_SMALL).unwrap();
    doc["project"]["id"] = "new-one".into();
    doc["memory"][0]["confidence"] = serde_json::json!(1.5);
    std::fs::write(&file, doc.to_string()).unwrap();
    editscope(&db)
        .args(["import", file.to_str().unwrap()])
        .assert()
        .failure()
        .stderr(predicate::str::contains("broken.json"))
        .stderr(predicate::str::contains("memory[0].confidence"));
    let projects = json_of(editscope(&db).args(["projects", "--json"]));
    assert!(
        projects
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["id"] != "new-one")
    );
}

#[test]
fn import_generate_makes_a_project_of_the_asked_size() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("g.db");
    editscope(&db)
        .args(["import", "--generate", "120", "--id", "gen"])
        .assert()
        .success();
    let projects = json_of(editscope(&db).args(["projects", "--json"]));
    let generated = projects
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "gen")
        .unwrap();
    assert_eq!(generated["scenes"], 120);
    editscope(&db)
        .args(["import", "--generate", "10001"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("1 to 10000"));
}

#[test]
fn a_corrupt_database_gives_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("junk.db");
    std::fs::write(&db, vec![b'x'; 8192]).unwrap();
    editscope(&db)
        .args(["projects"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("not an editscope database"));
    assert_eq!(std::fs::read(&db).unwrap(), vec![b'x'; 8192]);
}

#[test]
fn bench_on_a_demo_fixture_reports_both_paths_in_the_documented_fields() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("e.db");
    let report = json_of(editscope(&db).args([
        "bench",
        "--fixture",
        "demo-small",
        "--edits",
        "4",
        "--json",
    ]));
    assert_eq!(report["project"], "demo-small");
    assert_eq!(report["scenes"], 5);
    assert_eq!(report["edits"], 4);
    for path in ["legacy", "optimized"] {
        let s = &report[path];
        for field in [
            "build_p50_us",
            "build_p95_us",
            "hit_rate",
            "tokens_total",
            "modeled_edit_p50_ms",
            "real_edit_p50_ms",
            "stage_p50_ms",
        ] {
            assert!(s.get(field).is_some(), "{path} lacks {field}");
        }
        assert_eq!(s["failed_runs"], 0, "{path}: {s}");
        assert!(
            s["modeled_edit_p50_ms"].as_f64().unwrap() > 0.0,
            "{path}: {s}"
        );
        assert!(s["tokens_total"].as_u64().unwrap() > 0, "{path}: {s}");
    }
    // Every legacy build is a legacy build; the optimized session is served from its cache
    // after the first request (as is, or updated from the writes in between).
    assert_eq!(
        report["legacy"]["paths"],
        serde_json::json!([["legacy", 4]])
    );
    assert_eq!(report["legacy"]["hit_rate"], 0.0);
    assert!(report["optimized"]["hit_rate"].as_f64().unwrap() > 0.0);
    for key in ["micro_legacy", "micro_optimized"] {
        assert!(report[key]["cold_build_p50_us"].is_u64(), "{key}");
    }
}

#[test]
fn bench_names_the_demo_fixtures_when_asked_for_an_unknown_one() {
    let dir = tempfile::tempdir().unwrap();
    editscope(&dir.path().join("e.db"))
        .args(["bench", "--fixture", "demo-huge", "--edits", "1"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("demo-huge").and(predicate::str::contains("demo-medium")));
}

#[test]
fn ab_compares_two_dry_runs_from_one_revision_and_leaves_the_project_as_it_was() {
    crate::backends::each(|backend| {
        let dir = tempfile::tempdir().unwrap();
        let db = backend.db_in(dir.path(), "editscope.db");
        let export = |db: &std::path::Path| {
            editscope(db)
                .args(["export", "--project", "demo-small"])
                .assert()
                .success()
                .get_output()
                .stdout
                .clone()
        };
        let before = export(&db);
        let revision_before = json_of(editscope(&db).args([
            "context",
            "--project",
            "demo-small",
            "--flags",
            "legacy",
            "--json",
        ]))["context"]["revision"]
            .clone();
        // Twice: a second comparison must find the project exactly as the first did.
        for _ in 0..2 {
            let report = json_of(editscope(&db).args([
                "ab",
                "--project",
                "demo-small",
                "--prompt",
                "make the title red in scene 3",
                "--time-scale",
                "0",
                "--json",
            ]));
            assert_eq!(report["dry_run"], true);
            assert_eq!(report["revision"], revision_before, "{report:#}");
            for side in ["a", "b"] {
                let run = &report[side];
                assert_eq!(run["start_revision"], revision_before, "{side}: {run:#}");
                assert_eq!(run["comparison"], true);
                assert_eq!(run["outcome"], "applied", "{side}: {run:#}");
                assert_eq!(run["tool"], "editScene");
                assert!(
                    !run["summary"].as_str().unwrap().contains("already"),
                    "{side} found the work done: {run:#}"
                );
                for field in ["run_id", "stages", "tokens", "context_path", "flags"] {
                    assert!(run.get(field).is_some(), "{side} misses {field}");
                }
            }
            assert_eq!(report["a"]["flags"], "legacy");
            assert_eq!(report["b"]["flags"], "optimized");
            assert_eq!(report["same_decision"], true);
            assert_eq!(report["same_code"], true);
            for stage in [
                "context",
                "tool_selection",
                "code_edit",
                "response",
                "total",
            ] {
                assert!(report["ratio"].get(stage).is_some(), "ratio misses {stage}");
            }
        }
        assert_eq!(export(&db), before, "export changed after ab");
        // Recorded as comparison runs, and nothing else.
        let runs = json_of(editscope(&db).args(["runs", "--project", "demo-small", "--json"]));
        let runs = runs.as_array().unwrap();
        assert_eq!(runs.len(), 4);
        assert!(runs.iter().all(|r| r["comparison"] == true), "{runs:?}");
        // Each run lists its model calls with their time to first token.
        for r in runs {
            let calls = r["model_calls"].as_array().unwrap();
            assert_eq!(calls.len(), 2, "{r:#}");
            assert!(calls[0]["ttft_ms"].as_f64().unwrap() > 0.0);
        }
    });
}

#[test]
fn ab_and_the_other_commands_refuse_a_shadow_rate_outside_0_to_1() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("editscope.db");
    for args in [
        vec![
            "ab",
            "--project",
            "demo-small",
            "--prompt",
            "x",
            "--shadow-rate",
            "2",
        ],
        vec!["context", "--project", "demo-small", "--shadow-rate=-0.5"],
        vec![
            "edit",
            "--project",
            "demo-small",
            "--prompt",
            "x",
            "--shadow-rate",
            "1.5",
        ],
    ] {
        editscope(&db)
            .args(&args)
            .assert()
            .failure()
            .stderr(predicate::str::contains(
                "--shadow-rate must be between 0 and 1",
            ));
    }
}

#[test]
fn edit_events_jsonl_prints_every_pipeline_event_as_it_happens_with_the_result_last() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("editscope.db");
    let out = editscope(&db)
        .args([
            "edit",
            "--project",
            "demo-small",
            "--prompt",
            "make scene 2 shorter",
        ])
        .args(["--time-scale", "0", "--events", "jsonl"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let events: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON event"))
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"run_started"));
    assert_eq!(kinds.last(), Some(&"run_finished"));
    for kind in ["stage_started", "stage_finished", "cache", "model_call"] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
    let mut last = 0.0;
    for e in &events {
        let at = e["at_ms"].as_f64().unwrap();
        assert!(at >= last, "events out of order: {kinds:?}");
        last = at;
    }
    let result = &events.last().unwrap()["result"];
    assert_eq!(result["outcome"], "applied");
    assert_eq!(result["model_calls"].as_array().unwrap().len(), 2);
    let call = &result["model_calls"][0];
    for field in [
        "stage",
        "ttft_ms",
        "output_tokens_per_s",
        "input_tokens",
        "cached_tokens",
        "output_tokens",
        "usage_estimated",
        "simulated",
    ] {
        assert!(call.get(field).is_some(), "model call misses {field}");
    }
    assert_eq!(call["simulated"], true);
}

#[test]
fn bench_soak_json_has_the_documented_shape() {
    let dir = tempfile::tempdir().unwrap();
    let report =
        json_of(editscope(&dir.path().join("unused.db")).args(["bench", "--soak", "10", "--json"]));
    assert_eq!(report["edits"], 10);
    for field in ["rss_start_kib", "rss_after_tenth_kib", "rss_end_kib"] {
        assert!(report[field].as_u64().is_some(), "{field}: {report}");
    }
    let samples = report["rss_samples_kib"].as_array().unwrap();
    assert_eq!(samples.len(), 10, "one every tenth: {report}");
    assert_eq!(samples[9]["after_edits"], 10);
    assert!(samples[9]["kib"].as_u64().is_some(), "{report}");
    let caches = report["caches"].as_object().unwrap();
    for cache in [
        "context_memory",
        "context_sqlite_snapshots",
        "token_memo",
        "offline_prompt_cache",
    ] {
        assert!(caches[cache].as_u64().is_some(), "{cache}: {report}");
    }
    for tenth in ["first_tenth", "last_tenth"] {
        for stage in [
            "context",
            "tool_selection",
            "code_edit",
            "response",
            "total",
        ] {
            let s = &report[tenth][stage];
            assert!(s["p50_ms"].as_f64().is_some(), "{tenth}.{stage}: {report}");
            assert!(s["p95_ms"].as_f64().is_some(), "{tenth}.{stage}: {report}");
        }
    }
    assert_eq!(report["failed_edits"], 0);
    // The soak works in a temporary database: the default one is never made.
    assert!(!dir.path().join("unused.db").exists());
}

/// A context served from the snapshot in a new process whose target is not a scene the
/// snapshot gives in full: the first process to count that scene keeps its counts in the
/// store, and the next one finds them there instead of loading the tokenizer (its 100 ms
/// start-up was most of such a call), with the same counts.
#[test]
fn a_new_process_finds_a_target_scenes_token_counts_kept_by_the_one_before() {
    crate::backends::each(|backend| {
        let dir = tempfile::tempdir().unwrap();
        let db = backend.db_in(dir.path(), "editscope.db");
        let context = |prompt: &str| {
            let out = editscope(&db)
                .env("EDITSCOPE_LOG", "editscope=debug")
                .args(["context", "--project", "demo-small", "--prompt", prompt])
                .arg("--json")
                .assert()
                .success()
                .get_output()
                .clone();
            let loaded = String::from_utf8_lossy(&out.stderr).contains("loading the cl100k");
            let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            (json, loaded)
        };
        // The first call builds (and counts); it leaves the snapshot for the next ones.
        let (_, built_loaded) = context("make the title red in scene 3");
        assert!(built_loaded, "a cold build counts with the tokenizer");
        let prompt = "make the title blue in scene 1";
        let (first, first_loaded) = context(prompt);
        assert_eq!(first["target_scene_id"], "demo-small-s0001");
        let recent: Vec<_> = first["context"]["scenes_in_full"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["id"] == "demo-small-s0001")
            .map(|s| s["reason"].clone())
            .collect();
        assert_eq!(
            recent,
            ["target"],
            "scene 1 is not one the snapshot gives in full"
        );
        assert!(
            first_loaded,
            "scene 1 was never counted before: this process counts it"
        );
        let (second, second_loaded) = context(prompt);
        assert!(
            !second_loaded,
            "the counts kept by the process before are found in the store"
        );
        assert_eq!(second["tokens"], first["tokens"]);
        assert_eq!(second["context"], first["context"]);
    });
}
