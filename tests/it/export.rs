//! Trace export: `runs --export chrome|otlp-json FILE` on a database of real runs, and
//! `edit --otlp-endpoint URL` posting OTLP/HTTP protobuf to a local collector (decoded with
//! opentelemetry-proto, not matched as bytes).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use crate::cli::editscope;
use editscope::context::{ContextEngine, EngineOptions, Flags};
use editscope::export::chrome::{SIMULATED_SUFFIX, TID_SIMULATED, stage_tid};
use editscope::llm::semconv::*;
use editscope::pipeline::Pipeline;
use editscope::store::{EditRunRecord, Store};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use serde_json::Value;

const PROJECT: &str = "demo-small";

/// A seeded database with three runs through the real pipeline and the offline backend at time
/// scale 0: two optimized (a fresh build, then an incremental one) and one legacy.
fn database_with_runs() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("editscope.db");
    let mut store = Store::open(&db).unwrap();
    editscope::fixtures::seed_if_empty(&mut store).unwrap();
    let mut pipeline = Pipeline::new(
        store,
        ContextEngine::new(Flags::OPTIMIZED, EngineOptions::default()),
        Box::new(editscope::llm::offline::OfflineBackend::new(0.0)),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let cancel = tokio_util::sync::CancellationToken::new();
    for (flags, prompt) in [
        (Flags::OPTIMIZED, "make the title red in scene 3"),
        (Flags::OPTIMIZED, "make the title orange in scene 2"),
        (Flags::LEGACY, "make the title green in scene 1"),
    ] {
        pipeline.engine = ContextEngine::new(flags, EngineOptions::default());
        let result = runtime.block_on(pipeline.run_edit(PROJECT, prompt, &tx, &cancel));
        assert_eq!(result.outcome.as_str(), "applied", "{prompt}: {result:?}");
    }
    (dir, db)
}

fn records(db: &Path) -> Vec<EditRunRecord> {
    let mut runs = Store::open(db)
        .unwrap()
        .list_edit_runs(PROJECT, 50)
        .unwrap();
    runs.reverse();
    runs
}

fn stage_names(record: &EditRunRecord) -> Vec<String> {
    let stages: Vec<Value> = serde_json::from_str(&record.stage_ms_json).unwrap();
    stages
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

fn step_names(record: &EditRunRecord) -> Vec<String> {
    let cache: Value = serde_json::from_str(&record.cache_json).unwrap();
    cache["steps"]
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .map(|s| s["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn model_calls(record: &EditRunRecord) -> Vec<Value> {
    let tokens: Value = serde_json::from_str(&record.tokens_json).unwrap();
    tokens["model_calls"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn export(db: &Path, format: &str) -> Value {
    let file = db.with_file_name(format!("trace-{format}.json"));
    editscope(db)
        .args(["runs", "--project", PROJECT, "--export", format])
        .arg(&file)
        .assert()
        .success();
    let text = std::fs::read_to_string(&file).unwrap();
    serde_json::from_str(&text).expect("the export is one JSON document")
}

fn complete_events(trace: &Value) -> Vec<&Value> {
    trace["traceEvents"]
        .as_array()
        .expect("traceEvents")
        .iter()
        .filter(|e| e["ph"] == "X")
        .collect()
}

fn ts_end(event: &Value) -> (i64, i64) {
    let ts = event["ts"].as_i64().expect("ts in whole µs");
    let dur = event["dur"].as_i64().expect("dur in whole µs");
    assert!(ts >= 0 && dur >= 0, "{event}");
    (ts, ts + dur)
}

fn within(child: &Value, parent: &Value) -> bool {
    let (cs, ce) = ts_end(child);
    let (ps, pe) = ts_end(parent);
    child["tid"] == parent["tid"] && cs >= ps && ce <= pe
}

#[test]
fn the_chrome_export_has_a_slice_per_stage_of_every_run_nested_steps_and_a_simulated_track() {
    let (_dir, db) = database_with_runs();
    let records = records(&db);
    assert_eq!(records.len(), 3);
    let trace = export(&db, "chrome");
    let events = complete_events(&trace);

    // One complete event per recorded stage of every run, on that stage's track.
    let mut stage_events = 0;
    for record in &records {
        let stages = stage_names(record);
        // The row is written inside the response stage: the three stages before it are in it.
        assert_eq!(
            stages,
            ["context", "tool_selection", "code_edit"],
            "run {}",
            record.id
        );
        for stage in &stages {
            let matching: Vec<_> = events
                .iter()
                .filter(|e| {
                    e["cat"] == "stage" && e["name"] == *stage && e["args"]["run_id"] == record.id
                })
                .collect();
            assert_eq!(matching.len(), 1, "run {} stage {stage}", record.id);
            assert_eq!(matching[0]["tid"], stage_tid(stage));
            assert_eq!(matching[0]["pid"], 1);
        }
        stage_events += stages.len();
    }
    assert_eq!(
        events.iter().filter(|e| e["cat"] == "stage").count(),
        stage_events
    );

    // The context build's sub-steps, nested (inside the build, inside the context stage).
    for record in &records {
        let context = events
            .iter()
            .find(|e| {
                e["cat"] == "stage" && e["name"] == "context" && e["args"]["run_id"] == record.id
            })
            .unwrap();
        let build = events
            .iter()
            .find(|e| e["cat"] == "context_build" && within(e, context))
            .expect("the build slice inside the context stage");
        let steps = step_names(record);
        assert!(!steps.is_empty(), "run {} recorded no steps", record.id);
        let nested: Vec<&str> = events
            .iter()
            .filter(|e| e["cat"] == "context_step" && within(e, build))
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert_eq!(nested, steps, "run {}", record.id);
    }

    // The simulated track: named so, only modeled slices, one per model stage of each run.
    let names: BTreeMap<i64, String> = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| {
            (
                e["tid"].as_i64().unwrap(),
                e["args"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(names[&(TID_SIMULATED as i64)].contains("simulated"));
    for tid in [2, 3, 4, 5] {
        assert!(names.contains_key(&tid), "track {tid} is named");
    }
    let simulated: Vec<_> = events
        .iter()
        .filter(|e| e["tid"] == TID_SIMULATED)
        .collect();
    assert!(
        simulated
            .iter()
            .all(|e| e["name"].as_str().unwrap().ends_with(SIMULATED_SUFFIX))
    );
    for record in &records {
        for stage in ["tool_selection", "code_edit"] {
            let slice = simulated
                .iter()
                .find(|e| {
                    e["cat"] == "simulated"
                        && e["name"] == format!("{stage}{SIMULATED_SUFFIX}")
                        && e["args"]["run_id"] == record.id
                })
                .unwrap_or_else(|| panic!("run {} has no simulated {stage}", record.id));
            assert_eq!(slice["args"]["simulated"], true);
            // The modeled time (seconds) is what the slice lasts, not the real time (ms).
            let modeled = slice["args"]["simulated_ms"].as_f64().unwrap();
            assert_eq!(
                slice["dur"].as_i64().unwrap(),
                (modeled * 1000.0).round() as i64
            );
            let call = simulated
                .iter()
                .find(|e| e["cat"] == "model_call" && within(e, slice))
                .expect("the modeled call inside its stage");
            assert_eq!(call["args"]["simulated"], true);
            assert!(
                simulated
                    .iter()
                    .any(|e| e["cat"] == "first_token" && within(e, call))
            );
        }
    }

    // Runs one after another, oldest first, each run's slices inside its own span of time.
    let runs: Vec<_> = events.iter().filter(|e| e["cat"] == "run").collect();
    let ids: Vec<i64> = runs
        .iter()
        .map(|e| e["args"]["run_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, records.iter().map(|r| r.id).collect::<Vec<_>>());
    for pair in runs.windows(2) {
        assert!(ts_end(pair[0]).1 < ts_end(pair[1]).0);
    }
    for run in &runs {
        let (start, end) = ts_end(run);
        for event in events
            .iter()
            .filter(|e| e["args"]["run_id"] == run["args"]["run_id"])
        {
            let (s, e) = ts_end(event);
            assert!(s >= start && e <= end, "{event} outside {run}");
        }
    }
}

fn attribute<'a>(span: &'a Value, key: &str) -> Option<&'a Value> {
    span["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| &a["value"])
}

fn nanos(span: &Value, field: &str) -> u64 {
    span[field]
        .as_str()
        .expect("times are strings in OTLP/JSON")
        .parse()
        .unwrap()
}

#[test]
fn the_otlp_json_export_has_a_trace_per_run_with_stage_and_model_call_spans() {
    let (_dir, db) = database_with_runs();
    let records = records(&db);
    let doc = export(&db, "otlp-json");
    let resource_spans = doc["resourceSpans"].as_array().expect("resourceSpans");
    assert_eq!(resource_spans.len(), 1);
    let resource = &resource_spans[0]["resource"];
    assert_eq!(
        attribute(resource, SERVICE_NAME).unwrap()["stringValue"],
        "editscope"
    );
    let spans: Vec<&Value> = resource_spans[0]["scopeSpans"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["spans"].as_array().unwrap())
        .collect();

    let mut traces: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for span in &spans {
        let trace_id = span["traceId"].as_str().unwrap();
        let span_id = span["spanId"].as_str().unwrap();
        assert_eq!(trace_id.len(), 32, "hex trace id");
        assert_eq!(span_id.len(), 16, "hex span id");
        assert!(
            trace_id
                .chars()
                .chain(span_id.chars())
                .all(|c| c.is_ascii_hexdigit())
        );
        assert!(nanos(span, "endTimeUnixNano") >= nanos(span, "startTimeUnixNano"));
        traces.entry(trace_id).or_default().push(span);
    }
    assert_eq!(traces.len(), records.len(), "one trace per run");

    let ids: BTreeSet<&str> = spans
        .iter()
        .map(|s| s["spanId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), spans.len(), "span ids are unique");

    for record in &records {
        let (_, trace) = traces
            .iter()
            .find(|(_, spans)| {
                spans.iter().any(|s| {
                    attribute(s, EDITSCOPE_RUN_ID).map(|v| &v["intValue"])
                        == Some(&Value::from(record.id.to_string()))
                })
            })
            .unwrap_or_else(|| panic!("no trace for run {}", record.id));
        let roots: Vec<_> = trace.iter().filter(|s| s["parentSpanId"] == "").collect();
        assert_eq!(roots.len(), 1);
        let root = roots[0];
        assert_eq!(root["name"], "edit");
        assert_eq!(
            attribute(root, EDITSCOPE_PROMPT).unwrap()["stringValue"],
            record.prompt
        );

        let stages: Vec<_> = trace
            .iter()
            .filter(|s| s["parentSpanId"] == root["spanId"])
            .collect();
        let names: Vec<&str> = stages.iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert_eq!(names, stage_names(record));
        for stage in &stages {
            assert!(nanos(stage, "startTimeUnixNano") >= nanos(root, "startTimeUnixNano"));
            assert!(nanos(stage, "endTimeUnixNano") <= nanos(root, "endTimeUnixNano"));
        }

        let calls: Vec<_> = trace.iter().filter(|s| s["kind"] == 3).collect();
        let recorded = model_calls(record);
        assert_eq!(calls.len(), recorded.len());
        assert_eq!(calls.len(), 2, "tool selection and code edit");
        for (call, expected) in calls.iter().zip(&recorded) {
            assert_eq!(call["name"], "chat offline-sim");
            let string = |key| attribute(call, key).unwrap()["stringValue"].clone();
            let int = |key| attribute(call, key).unwrap()["intValue"].clone();
            assert_eq!(string(GEN_AI_OPERATION_NAME), "chat");
            assert_eq!(string(GEN_AI_PROVIDER_NAME), PROVIDER_OFFLINE);
            assert_eq!(string(GEN_AI_REQUEST_MODEL), "offline-sim");
            assert_eq!(
                int(GEN_AI_USAGE_INPUT_TOKENS),
                expected["input_tokens"].to_string()
            );
            assert_eq!(
                int(GEN_AI_USAGE_OUTPUT_TOKENS),
                expected["output_tokens"].to_string()
            );
            assert_eq!(
                int(GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
                expected["cached_tokens"].to_string()
            );
            let ttfc = attribute(call, GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK).unwrap()["doubleValue"]
                .as_f64()
                .unwrap();
            assert!((ttfc - expected["ttft_ms"].as_f64().unwrap() / 1000.0).abs() < 1e-9);
            assert_eq!(
                attribute(call, EDITSCOPE_SIMULATED).unwrap()["boolValue"],
                true
            );
            // Under the stage span of its stage, within it in time.
            let parent = stages
                .iter()
                .find(|s| s["spanId"] == call["parentSpanId"])
                .expect("a call's parent is a stage");
            assert_eq!(parent["name"], expected["stage"]);
            assert!(nanos(call, "endTimeUnixNano") <= nanos(parent, "endTimeUnixNano"));
        }

        let context = stages.iter().find(|s| s["name"] == "context").unwrap();
        let steps = trace
            .iter()
            .filter(|s| s["parentSpanId"] == context["spanId"])
            .count();
        assert_eq!(steps, step_names(record).len());
    }
}

#[test]
fn rows_written_before_steps_and_model_calls_still_export() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("editscope.db");
    let mut store = Store::open(&db).unwrap();
    editscope::fixtures::seed_if_empty(&mut store).unwrap();
    let old = |stage_ms_json: &str, cache_json: &str, tokens_json: &str| {
        EditRunRecord {
        id: 0,
        project_id: PROJECT.into(),
        prompt: "an old run".into(),
        flags_json: r#"{"memory":false,"cache":false,"lazy":false,"incremental":false,"parallel":false,"relevant":false}"#.into(),
        tool: Some("editScene".into()),
        target_scene_id: None,
        stage_ms_json: stage_ms_json.into(),
        cache_json: cache_json.into(),
        tokens_json: tokens_json.into(),
        outcome: "applied".into(),
        error: None,
        created_at: 1_700_000_000_000,
        comparison: false,
    }
    };
    store
        .write(|w| {
            // The first round's row: stages without simulated time, no steps, no model calls.
            w.add_edit_run(&old(
                r#"[{"name":"context","real_ms":12.5},{"name":"tool_selection","real_ms":400.0}]"#,
                r#"{"path":"legacy","hits":0,"misses":1}"#,
                r#"{"input":100,"cached":0,"output":10}"#,
            ))?;
            // A failed run's row and a row with nothing readable at all.
            w.add_edit_run(&old(r#"[{"name":"context","real_ms":3.0}]"#, "{}", "{}"))?;
            w.add_edit_run(&old("not json", "", ""))
        })
        .unwrap();
    drop(store);

    let trace = export(&db, "chrome");
    let stages: Vec<_> = complete_events(&trace)
        .into_iter()
        .filter(|e| e["cat"] == "stage")
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(stages, ["context", "tool_selection", "context"]);
    assert_eq!(
        complete_events(&trace)
            .iter()
            .filter(|e| e["cat"] == "run")
            .count(),
        3
    );

    let doc = export(&db, "otlp-json");
    let spans = doc["resourceSpans"][0]["scopeSpans"][0]["spans"]
        .as_array()
        .unwrap();
    assert_eq!(spans.iter().filter(|s| s["name"] == "edit").count(), 3);
    assert_eq!(spans.len(), 3 + 3, "three roots and three stages");
    let flags = attribute(&spans[0], EDITSCOPE_FLAGS).unwrap();
    assert_eq!(flags["stringValue"], "legacy");
}

/// A one-request collector: answers the first POST with 200 and hands over what it got.
pub struct Received {
    pub request_line: String,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

pub fn collector() -> (String, mpsc::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut data = Vec::new();
        let mut buf = [0u8; 8192];
        let header_end = loop {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "the connection closed before the headers ended");
            data.extend_from_slice(&buf[..n]);
            if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
        };
        let head = String::from_utf8_lossy(&data[..header_end]).to_string();
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap().to_string();
        let headers: BTreeMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let length: usize = headers["content-length"].parse().unwrap();
        while data.len() < header_end + length {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "the body was cut");
            data.extend_from_slice(&buf[..n]);
        }
        stream
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            )
            .unwrap();
        let _ = tx.send(Received {
            request_line,
            headers,
            body: data[header_end..header_end + length].to_vec(),
        });
    });
    (url, rx)
}

fn any(span: &Span, key: &str) -> Option<AnyValue> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.clone())
        .and_then(|v| v.value)
}

#[test]
fn edit_with_an_otlp_endpoint_posts_the_runs_spans_as_protobuf() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("editscope.db");
    let (url, received) = collector();
    editscope(&db)
        .args(["edit", "--project", PROJECT, "--time-scale", "0"])
        .args(["--prompt", "make the title red in scene 3"])
        .args(["--otlp-endpoint", &url])
        .assert()
        .success();
    let got = received
        .recv_timeout(Duration::from_secs(30))
        .expect("the exporter posted to the collector");
    assert_eq!(got.request_line, "POST /v1/traces HTTP/1.1");
    assert_eq!(got.headers["content-type"], "application/x-protobuf");

    let request = ExportTraceServiceRequest::decode(got.body.as_slice()).expect("OTLP protobuf");
    assert_eq!(request.resource_spans.len(), 1);
    let spans: Vec<&Span> = request.resource_spans[0]
        .scope_spans
        .iter()
        .flat_map(|s| &s.spans)
        .collect();
    let trace_ids: BTreeSet<&Vec<u8>> = spans.iter().map(|s| &s.trace_id).collect();
    assert_eq!(trace_ids.len(), 1, "one run, one trace");
    let root = spans
        .iter()
        .find(|s| s.parent_span_id.is_empty())
        .expect("a root span");
    assert_eq!(root.name, "edit");
    let stages: Vec<&str> = spans
        .iter()
        .filter(|s| s.parent_span_id == root.span_id)
        .map(|s| s.name.as_str())
        .collect();
    // Live, the response stage is there too (a stored row ends inside it).
    assert_eq!(
        stages,
        ["context", "tool_selection", "code_edit", "response"]
    );
    let calls: Vec<&&Span> = spans.iter().filter(|s| s.kind == 3).collect();
    assert_eq!(calls.len(), 2);
    for call in calls {
        assert_eq!(call.name, "chat offline-sim");
        assert_eq!(
            any(call, GEN_AI_OPERATION_NAME),
            Some(AnyValue::StringValue("chat".into()))
        );
        assert_eq!(
            any(call, GEN_AI_PROVIDER_NAME),
            Some(AnyValue::StringValue(PROVIDER_OFFLINE.into()))
        );
        assert!(
            matches!(any(call, GEN_AI_USAGE_INPUT_TOKENS), Some(AnyValue::IntValue(n)) if n > 0)
        );
        assert!(
            matches!(any(call, GEN_AI_USAGE_OUTPUT_TOKENS), Some(AnyValue::IntValue(n)) if n > 0)
        );
        assert!(matches!(
            any(call, GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
            Some(AnyValue::IntValue(_))
        ));
        assert!(matches!(
            any(call, GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK),
            Some(AnyValue::DoubleValue(s)) if s > 0.0
        ));
    }
    let context = spans.iter().find(|s| s.name == "context").unwrap();
    assert!(
        spans.iter().any(|s| s.parent_span_id == context.span_id),
        "the context build's steps, from the run's row"
    );

    // The same run exported later from the database is the same trace.
    let doc = export(&db, "otlp-json");
    let trace_id = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"]
        .as_str()
        .unwrap()
        .to_string();
    let live: String = root.trace_id.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(trace_id, live);
}

#[test]
fn an_unreachable_collector_is_a_warning_and_the_edit_is_applied() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("editscope.db");
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for endpoint in [format!("http://127.0.0.1:{port}"), "not a url".to_string()] {
        let out = editscope(&db)
            .args(["edit", "--project", PROJECT, "--time-scale", "0", "--json"])
            .args(["--prompt", "make the title red in scene 3"])
            .args(["--otlp-endpoint", &endpoint])
            .assert()
            .success()
            .get_output()
            .clone();
        let result: Value = serde_json::from_slice(&out.stdout).expect("stdout is the result");
        assert_eq!(result["outcome"], "applied", "{endpoint}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("WARN") && stderr.contains("trace export skipped"),
            "{endpoint}: {stderr}"
        );
    }
    let records = records(&db);
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r.outcome == "applied"));
}

#[test]
fn an_unknown_export_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("editscope.db");
    editscope(&db)
        .args(["runs", "--project", PROJECT, "--export", "zipkin"])
        .arg(dir.path().join("t.json"))
        .assert()
        .failure()
        .stderr(predicates::str::contains("unknown export format 'zipkin'"));
    assert!(!dir.path().join("t.json").exists());
}

#[test]
fn replay_with_an_otlp_endpoint_posts_each_replayed_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("editscope.db");
    let session = dir.path().join("s.jsonl");
    editscope(&db)
        .args(["edit", "--project", PROJECT, "--time-scale", "0"])
        .args(["--prompt", "make the title red in scene 3", "--record"])
        .arg(&session)
        .assert()
        .success();
    let (url, received) = collector();
    editscope(&db)
        .arg("replay")
        .arg(&session)
        .args([
            "--flags",
            "optimized",
            "--time-scale",
            "0",
            "--otlp-endpoint",
            &url,
        ])
        .assert()
        .success();
    let got = received
        .recv_timeout(Duration::from_secs(30))
        .expect("replay posted the replayed run's trace");
    let request = ExportTraceServiceRequest::decode(got.body.as_slice()).expect("OTLP protobuf");
    let spans: Vec<&Span> = request.resource_spans[0]
        .scope_spans
        .iter()
        .flat_map(|s| &s.spans)
        .collect();
    assert!(spans.iter().any(|s| s.name == "edit"));
    assert_eq!(spans.iter().filter(|s| s.kind == 3).count(), 2);
}
