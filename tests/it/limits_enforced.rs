//! The documented limits on the paths `limits.rs` does not drive: the dashboard's prompt input
//! and its worker, an addScene edit on a project at the scene limit, and the session
//! recorder's own lines (written and read back) at the real line limit.

use std::path::Path;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokio_util::sync::CancellationToken;

use editscope::context::{ContextEngine, EngineOptions, Flags};
use editscope::fixtures::{self, ProjectFile, SceneRecord};
use editscope::limits;
use editscope::llm::offline::OfflineBackend;
use editscope::pipeline::{EditResult, Outcome, Pipeline};
use editscope::session::{self, Recorder, SessionError, SessionHeader, SessionRun};
use editscope::store::Store;
use editscope::tui::state::StatusKind;
use editscope::tui::{App, AppState, Command, worker};

fn demo_small() -> ProjectFile {
    fixtures::demo_project("demo-small").unwrap().unwrap()
}

fn pipeline_on(store: Store) -> Pipeline {
    Pipeline::new(
        store,
        ContextEngine::new(Flags::OPTIMIZED, EngineOptions::default()),
        Box::new(OfflineBackend::new(0.0)),
    )
}

fn seeded(path: &Path, project: &ProjectFile) -> Store {
    let mut store = Store::open(path).unwrap();
    fixtures::import(&mut store, "project.json", project).unwrap();
    store
}

fn edit_runs(store: &Store) -> i64 {
    store
        .connection()
        .expect("a SQLite store")
        .query_row("SELECT count(*) FROM edit_runs", [], |r| r.get(0))
        .unwrap()
}

async fn edit(p: &mut Pipeline, project: &str, prompt: &str) -> EditResult {
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    p.run_edit(project, prompt, &tx, &CancellationToken::new())
        .await
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

async fn wait_for(app: &mut App, what: &str, done: impl Fn(&AppState) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done(&app.state) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, app.next_worker_event()).await {
            Ok(true) => {}
            Ok(false) => panic!("the worker stopped while waiting for {what}"),
            Err(_) => panic!("timed out waiting for {what}: {:?}", app.state.status),
        }
    }
}

#[tokio::test]
async fn the_dashboard_refuses_a_prompt_over_the_limit_and_its_worker_records_no_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(&dir.path().join("dashboard.db"), &demo_small());
    let before = fixtures::export(&store, "demo-small").unwrap();
    let handle = worker::spawn(pipeline_on(store), "demo-small".into()).unwrap();
    let mut app = App::new(AppState::new("demo-small", Flags::OPTIMIZED), handle);
    wait_for(&mut app, "the worker", |s| s.worker_ready).await;
    let prompt = format!(
        "make the title red in scene 1 {}",
        "please ".repeat(limits::PROMPT.max / 7)
    );
    assert!(prompt.len() > limits::PROMPT.max);
    // Typed in and submitted: refused at the input, nothing is sent to the worker.
    // The line is filled as a long paste fills it (the input inserts key by key, which for
    // 32 KiB of keys is slow in a debug build); the last key is typed.
    let (most, last) = prompt.split_at(prompt.len() - 1);
    app.state.input.set(most);
    let typed = app
        .state
        .apply_key(key(KeyCode::Char(last.chars().next().unwrap())));
    assert!(typed.is_empty(), "{typed:?}");
    assert_eq!(app.state.input.text, prompt);
    let sent = app.state.apply_key(key(KeyCode::Enter));
    assert!(sent.is_empty(), "{sent:?}");
    assert_eq!(app.state.status.kind, StatusKind::Error);
    assert!(
        app.state.status.text.contains("prompt limit of 32 KiB"),
        "{:?}",
        app.state.status
    );
    assert!(!app.state.run_active());
    // Handed to the worker past the input all the same: the run is refused before any work.
    assert!(app.worker.send(Command::RunEdit {
        prompt: prompt.clone(),
        flags: None,
    }));
    wait_for(&mut app, "the refused run", |s| {
        !s.run_active() && s.history.len() == 1
    })
    .await;
    // (The run is not printed on failure: it holds the whole prompt.)
    let run = app.state.history.last().unwrap().clone();
    assert_eq!(run.outcome, Outcome::Failed, "{:?}", run.error);
    assert!(
        run.error
            .as_deref()
            .is_some_and(|e| e.contains("prompt limit of 32 KiB")),
        "{:?}",
        run.error
    );
    app.shutdown();
    let store = Store::open(dir.path().join("dashboard.db")).unwrap();
    assert_eq!(edit_runs(&store), 0, "a refused prompt recorded a run");
    assert_eq!(fixtures::export(&store, "demo-small").unwrap(), before);
}

/// demo-small padded with small scenes of its own to `scenes` in all (cheap to import and to
/// build a context of, however many).
fn demo_small_with(scenes: usize) -> ProjectFile {
    let mut project = demo_small();
    let template = project.scenes[0].clone();
    let first = project.scenes.len();
    project.scenes.extend((first..scenes).map(|i| SceneRecord {
        id: format!("demo-small-pad{i:05}"),
        name: format!("Filler {i}"),
        order: i as i64,
        tsx_code: format!(
            "export default function Filler{i}() {{\n  return <h1>Filler {i}</h1>;\n}}\n"
        ),
        ..template.clone()
    }));
    project
}

fn scene_codes(store: &Store) -> Vec<(String, String)> {
    store
        .list_scenes("demo-small")
        .unwrap()
        .into_iter()
        .map(|s| (s.id, s.tsx_code))
        .collect()
}

#[tokio::test]
async fn an_add_scene_edit_at_the_scene_limit_fails_clearly_and_adds_nothing() {
    const ADD: &str = "add a scene about pricing with three tiers";
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(
        &dir.path().join("full.db"),
        &demo_small_with(limits::SCENES.max - 1),
    );
    let mut p = pipeline_on(store);
    // One under the limit, the scene is added: the limit is the 10,000th scene, not fewer.
    let r = edit(&mut p, "demo-small", ADD).await;
    assert_eq!(r.outcome, Outcome::Applied, "{r:?}");
    assert_eq!(r.tool.as_deref(), Some("addScene"), "{r:?}");
    assert_eq!(
        p.store.scene_count("demo-small").unwrap(),
        limits::SCENES.max as u64
    );
    // At the limit, the same edit fails naming it, and no scene is added or changed.
    let before = scene_codes(&p.store);
    let r = edit(&mut p, "demo-small", ADD).await;
    assert_eq!(r.outcome, Outcome::Failed, "{r:?}");
    let error = r.error.unwrap();
    assert!(
        error
            .contains("already has 10000 scenes, the scenes per project limit; no scene was added"),
        "{error}"
    );
    assert_eq!(
        p.store.scene_count("demo-small").unwrap(),
        limits::SCENES.max as u64
    );
    assert_eq!(scene_codes(&p.store), before);
}

/// A session header of demo-small and one real run of it, to record.
async fn header_and_run() -> (SessionHeader, SessionRun) {
    let dir = tempfile::tempdir().unwrap();
    let project = demo_small();
    let mut p = pipeline_on(seeded(&dir.path().join("run.db"), &project));
    let result = edit(&mut p, "demo-small", "make the title red in scene 3").await;
    assert_eq!(result.outcome, Outcome::Applied, "{result:?}");
    let header = SessionHeader::new(Flags::OPTIMIZED.to_string(), "offline", project);
    (header, SessionRun::from_events(1, Vec::new(), result, None))
}

#[tokio::test]
async fn the_session_recorder_does_not_write_a_run_line_over_the_limit_and_records_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.jsonl");
    let (header, run) = header_and_run().await;
    let mut recorder = Recorder::open(&path, header).unwrap();
    let header_only = std::fs::read(&path).unwrap();
    // Under a limit one byte short of the run's line (a line of the real limit's 256 MiB costs
    // half a minute to serialize in a debug build): refused, and nothing written.
    let line = serde_json::to_string(&run).unwrap().len();
    let short = limits::Limit {
        max: line - 1,
        ..limits::SESSION_LINE
    };
    let err = recorder.append_limited(&run, short).unwrap_err();
    assert!(matches!(err, SessionError::RunTooLarge { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(
        shown.contains(&format!(
            "{line} bytes, over the session file line limit of {}",
            short.shown()
        )),
        "{shown}"
    );
    assert!(shown.contains("session.jsonl"), "{shown}");
    assert!(shown.contains("it was not written"), "{shown}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        header_only,
        "a line was written"
    );
    // The refused run took no number; at exactly the limit the same run is written, and the
    // file reads back whole.
    assert_eq!(recorder.next_run(), 1);
    let exact = limits::Limit { max: line, ..short };
    recorder.append_limited(&run, exact).unwrap();
    assert_eq!(recorder.next_run(), 2);
    let read = session::read(&path).unwrap();
    assert_eq!(read.runs.len(), 1);
    assert_eq!(read.runs[0].prompt, run.prompt);
}

#[tokio::test]
async fn a_session_file_with_a_line_over_the_limit_is_refused_by_the_reader_and_the_recorder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.jsonl");
    let (header, _) = header_and_run().await;
    drop(Recorder::open(&path, header.clone()).unwrap());
    // Line 2 is one byte over the real limit: the file is extended sparsely (NUL bytes, no
    // line break), which costs no disk.
    let header_len = std::fs::metadata(&path).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(header_len + limits::SESSION_LINE.max as u64 + 1)
        .unwrap();
    drop(file);
    let size = std::fs::metadata(&path).unwrap().len();
    // Recording into it reads it first (as `replay` and `session::read` do): refused, naming
    // the file, the line and the limit, and the file is left as it was (not cut, not appended).
    let err = Recorder::open(&path, header)
        .err()
        .expect("the recorder opened it");
    let shown = err.to_string();
    assert!(
        matches!(err, SessionError::LineTooLong { line: 2, .. }),
        "{shown}"
    );
    assert!(shown.contains("session.jsonl': line 2 is "), "{shown}");
    assert!(
        shown.contains("over the session file line limit of 256 MiB; the file was not read"),
        "{shown}"
    );
    assert_eq!(std::fs::metadata(&path).unwrap().len(), size);
}
