//! The Chrome Trace Event Format (JSON object form), as Perfetto and chrome://tracing open it.
//!
//! Layout, in one process named after the project:
//! - track `runs` (tid 1): one slice per run, its prompt, flags and outcome in `args`;
//! - one track per stage (tids 2-5: context, tool_selection, code_edit, response), with the
//!   stages' wall-clock time. Inside the context stage sit the build (`build (PATH)`) and its
//!   sub-steps as nested slices; inside a model stage, a real model call and its time to first
//!   token;
//! - track `simulated` (tid 10): the offline backend's modeled time of the model stages, with
//!   their modeled calls nested, on the timeline the run would have had with that latency.
//!   Every slice there is named `... (simulated)` and has `"simulated": true`: it was never
//!   measured.
//!
//! Runs are laid one after another (each starts after the previous one's longer timeline, real
//! or simulated, plus [`RUN_GAP_US`]) rather than at their `created_at`: hours between two runs
//! would make every run a sliver. The real `created_at` is in each run's `args`.
//!
//! Times are whole microseconds (`ts`, `dur`), and a child slice is clamped to its parent, so
//! slices always nest (a viewer drops slices that overlap their parent's end).

use serde_json::{Map, Value, json};

use super::{RunTrace, TracedCall, finite_ms};

/// The one process of the trace.
pub const PID: u64 = 1;
pub const TID_RUNS: u64 = 1;
pub const TID_CONTEXT: u64 = 2;
pub const TID_TOOL_SELECTION: u64 = 3;
pub const TID_CODE_EDIT: u64 = 4;
pub const TID_RESPONSE: u64 = 5;
/// A stage of a name this version does not know (a row from a newer editscope).
pub const TID_OTHER_STAGES: u64 = 9;
pub const TID_SIMULATED: u64 = 10;

/// Space between two runs on the time axis.
pub const RUN_GAP_US: i64 = 10_000;

/// Event categories (`cat`), for the viewers' filters.
pub const CAT_RUN: &str = "run";
pub const CAT_STAGE: &str = "stage";
pub const CAT_CONTEXT_BUILD: &str = "context_build";
pub const CAT_CONTEXT_STEP: &str = "context_step";
pub const CAT_MODEL_CALL: &str = "model_call";
pub const CAT_FIRST_TOKEN: &str = "first_token";
pub const CAT_SIMULATED: &str = "simulated";

/// Suffix of every slice on the simulated track.
pub const SIMULATED_SUFFIX: &str = " (simulated)";

/// Name of the simulated track.
pub const SIMULATED_TRACK_NAME: &str =
    "simulated: model stages (offline latency model, modeled time, not measured)";

/// The track of a stage.
pub fn stage_tid(stage: &str) -> u64 {
    match stage {
        "context" => TID_CONTEXT,
        "tool_selection" => TID_TOOL_SELECTION,
        "code_edit" => TID_CODE_EDIT,
        "response" => TID_RESPONSE,
        _ => TID_OTHER_STAGES,
    }
}

fn is_model_stage(stage: &str) -> bool {
    matches!(stage, "tool_selection" | "code_edit")
}

fn us(ms: f64) -> i64 {
    (finite_ms(ms) * 1000.0).round() as i64
}

struct Trace {
    events: Vec<Value>,
    used_tids: std::collections::BTreeSet<u64>,
}

impl Trace {
    /// A complete event (`ph: "X"`); returns its end.
    fn slice(
        &mut self,
        tid: u64,
        name: &str,
        cat: &str,
        ts: i64,
        dur: i64,
        args: Map<String, Value>,
    ) -> i64 {
        self.used_tids.insert(tid);
        self.events.push(json!({
            "name": name,
            "cat": cat,
            "ph": "X",
            "ts": ts,
            "dur": dur.max(0),
            "pid": PID,
            "tid": tid,
            "args": Value::Object(args),
        }));
        ts + dur.max(0)
    }

    /// The context build and its sub-steps, nested in the context stage `[start, end)`.
    fn context_build(&mut self, run: &RunTrace, start: i64, end: i64) {
        let (mut cursor, limit) = match run.build_us {
            Some(build_us) => {
                let dur = (build_us as i64).min(end - start);
                let mut args = Map::new();
                args.insert("build_us".into(), json!(build_us));
                args.insert("path".into(), json!(run.context_path));
                let name = format!("build ({})", run.context_path.as_deref().unwrap_or("?"));
                let build_end = self.slice(TID_CONTEXT, &name, CAT_CONTEXT_BUILD, start, dur, args);
                (start, build_end)
            }
            None => (start, end),
        };
        for step in &run.steps {
            let dur = (step.us as i64).min(limit - cursor);
            let mut args = Map::new();
            args.insert("us".into(), json!(step.us));
            cursor = self.slice(TID_CONTEXT, &step.name, CAT_CONTEXT_STEP, cursor, dur, args);
        }
    }

    /// The model calls of one stage, one after another inside `[start, end)` on `tid`, each
    /// with its time to first token nested.
    fn calls<'a>(
        &mut self,
        tid: u64,
        calls: impl Iterator<Item = &'a TracedCall>,
        start: i64,
        end: i64,
        suffix: &str,
    ) {
        let mut cursor = start;
        for call in calls {
            let dur = us(call.duration_ms()).min(end - cursor);
            let name = format!("chat {}{suffix}", call.model);
            let args = match serde_json::to_value(call) {
                Ok(Value::Object(map)) => map,
                _ => Map::new(),
            };
            let call_end = self.slice(tid, &name, CAT_MODEL_CALL, cursor, dur, args);
            let mut args = Map::new();
            args.insert("ttft_ms".into(), json!(call.ttft_ms));
            args.insert("simulated".into(), json!(call.simulated));
            self.slice(
                tid,
                &format!("time to first token{suffix}"),
                CAT_FIRST_TOKEN,
                cursor,
                us(call.ttft_ms).min(call_end - cursor),
                args,
            );
            cursor = call_end;
        }
    }

    /// One run from `t0`; returns where its timeline (real or simulated) ends.
    fn run(&mut self, run: &RunTrace, t0: i64) -> i64 {
        // Wall-clock tracks.
        let mut t = t0;
        for stage in &run.stages {
            let tid = stage_tid(&stage.name);
            let mut args = Map::new();
            args.insert("run_id".into(), json!(run.run_id));
            args.insert("real_ms".into(), json!(stage.real_ms));
            args.insert("simulated_ms".into(), json!(stage.simulated_ms));
            let end = self.slice(tid, &stage.name, CAT_STAGE, t, us(stage.real_ms), args);
            if stage.name == "context" {
                self.context_build(run, t, end);
            }
            let real_calls = run
                .model_calls
                .iter()
                .filter(|c| c.stage == stage.name && !c.simulated);
            self.calls(tid, real_calls, t, end, "");
            t = end;
        }
        let real_end = t;

        // The modeled timeline: model stages take their simulated time, the others their real
        // time; only the model stages are drawn, on the simulated track.
        let mut t = t0;
        for stage in &run.stages {
            let modeled = stage.simulated_ms.filter(|_| is_model_stage(&stage.name));
            let Some(simulated_ms) = modeled else {
                t += us(stage.real_ms);
                continue;
            };
            let mut args = Map::new();
            args.insert("run_id".into(), json!(run.run_id));
            args.insert("simulated".into(), json!(true));
            args.insert("simulated_ms".into(), json!(simulated_ms));
            args.insert("real_ms".into(), json!(stage.real_ms));
            let name = format!("{}{SIMULATED_SUFFIX}", stage.name);
            let end = self.slice(
                TID_SIMULATED,
                &name,
                CAT_SIMULATED,
                t,
                us(simulated_ms),
                args,
            );
            let modeled_calls = run
                .model_calls
                .iter()
                .filter(|c| c.stage == stage.name && c.simulated);
            self.calls(TID_SIMULATED, modeled_calls, t, end, SIMULATED_SUFFIX);
            t = end;
        }
        let end = real_end.max(t);

        let mut args = Map::new();
        args.insert("run_id".into(), json!(run.run_id));
        args.insert("prompt".into(), json!(run.prompt));
        args.insert("flags".into(), json!(run.flags));
        args.insert("outcome".into(), json!(run.outcome));
        args.insert("tool".into(), json!(run.tool));
        args.insert("target_scene_id".into(), json!(run.target_scene_id));
        args.insert("error".into(), json!(run.error));
        args.insert("comparison".into(), json!(run.comparison));
        args.insert("created_at_ms".into(), json!(run.created_at_ms));
        args.insert("context_path".into(), json!(run.context_path));
        args.insert("real_ms".into(), json!(run.total_real_us() as f64 / 1000.0));
        let simulated_total: Option<f64> = run
            .stages
            .iter()
            .any(|s| s.simulated_ms.is_some())
            .then(|| {
                run.stages
                    .iter()
                    .map(|s| finite_ms(s.simulated_ms.unwrap_or(s.real_ms)))
                    .sum()
            });
        args.insert("simulated_ms".into(), json!(simulated_total));
        self.slice(TID_RUNS, &run_label(run), CAT_RUN, t0, end - t0, args);
        end
    }
}

/// `run 12: make the title red (applied)`, the prompt cut to keep the track readable.
fn run_label(run: &RunTrace) -> String {
    let id = run
        .run_id
        .map(|id| id.to_string())
        .unwrap_or_else(|| "-".into());
    let prompt = crate::llm::http::excerpt(&run.prompt, 60);
    let dry = if run.comparison { ", A/B dry run" } else { "" };
    format!("run {id}: {prompt} ({}{dry})", run.outcome)
}

fn metadata(name: &str, tid: Option<u64>, args: Value) -> Value {
    let mut event = json!({ "name": name, "ph": "M", "pid": PID, "args": args });
    if let Some(tid) = tid {
        event["tid"] = json!(tid);
    }
    event
}

fn track_name(tid: u64) -> &'static str {
    match tid {
        TID_RUNS => "runs",
        TID_CONTEXT => "context (real time)",
        TID_TOOL_SELECTION => "tool_selection (real time)",
        TID_CODE_EDIT => "code_edit (real time)",
        TID_RESPONSE => "response (real time)",
        TID_SIMULATED => SIMULATED_TRACK_NAME,
        _ => "other stages (real time)",
    }
}

/// The trace of `runs` (oldest first) of one project, as one JSON document.
pub fn chrome_trace(project_id: &str, runs: &[RunTrace]) -> Value {
    let mut trace = Trace {
        events: Vec::new(),
        used_tids: [
            TID_RUNS,
            TID_CONTEXT,
            TID_TOOL_SELECTION,
            TID_CODE_EDIT,
            TID_RESPONSE,
        ]
        .into(),
    };
    let mut cursor = 0;
    for run in runs {
        cursor = trace.run(run, cursor) + RUN_GAP_US;
    }
    let mut events = vec![
        metadata(
            "process_name",
            None,
            json!({ "name": format!("editscope: project {project_id}") }),
        ),
        metadata("process_sort_index", None, json!({ "sort_index": 0 })),
    ];
    for &tid in &trace.used_tids {
        events.push(metadata(
            "thread_name",
            Some(tid),
            json!({ "name": track_name(tid) }),
        ));
        events.push(metadata(
            "thread_sort_index",
            Some(tid),
            json!({ "sort_index": tid }),
        ));
    }
    events.append(&mut trace.events);
    json!({
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {
            "generator": concat!("editscope ", env!("CARGO_PKG_VERSION")),
            "project_id": project_id,
            "runs": runs.len(),
            "layout": "runs one after another, oldest first; each run's created_at is in its args",
            "simulated": "slices on the simulated track are the offline backend's modeled time, not measurements",
        },
    })
}
