//! Faults while editscope runs: a full, read-only, locked or deleted database during an edit,
//! and the process killed (SIGKILL) during each stage of one. Each leaves the data as it was
//! before or after a complete write, never half; the error names what happened.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use tokio_util::sync::CancellationToken;

use editscope::context::{ContextEngine, EngineOptions, Flags};
use editscope::fixtures;
use editscope::llm::offline::OfflineBackend;
use editscope::pipeline::{EditResult, Outcome, Pipeline};
use editscope::store::{OpenOptions, Store};
use editscope::tui::{App, AppState, worker};

use crate::cli::{editscope, editscope_process, json_of};

const PROMPT: &str = "make the title red in scene 3";

fn seeded(path: &Path) {
    let mut store = Store::open(path).unwrap();
    let demo = fixtures::demo_project("demo-small").unwrap().unwrap();
    fixtures::import(&mut store, "demo-small", &demo).unwrap();
}

fn pipeline(store: Store) -> Pipeline {
    Pipeline::new(
        store,
        ContextEngine::new(Flags::OPTIMIZED, EngineOptions::default()),
        Box::new(OfflineBackend::new(0.0)),
    )
}

async fn edit(p: &mut Pipeline) -> EditResult {
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    p.run_edit("demo-small", PROMPT, &tx, &CancellationToken::new())
        .await
}

/// What an edit may change: every scene's code, and the recorded runs.
#[derive(Debug, PartialEq)]
struct State {
    scenes: BTreeMap<String, String>,
    runs: Vec<(i64, String)>,
}

fn state(path: &Path, project: &str) -> State {
    let store = Store::open_with(
        path,
        OpenOptions {
            read_only: true,
            ..OpenOptions::default()
        },
    )
    .unwrap();
    let scenes = store
        .list_scenes(project)
        .unwrap()
        .into_iter()
        .map(|s| (s.id, s.tsx_code))
        .collect();
    let mut stmt = store
        .connection()
        .expect("a SQLite store")
        .prepare("SELECT id, outcome FROM edit_runs WHERE project_id = ?1 ORDER BY id")
        .unwrap();
    let runs = stmt
        .query_map([project], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    State { scenes, runs }
}

#[tokio::test]
async fn a_full_database_fails_the_edit_clearly_and_keeps_the_project_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.db");
    seeded(&path);
    let store = Store::open(&path).unwrap();
    let before = fixtures::export(&store, "demo-small").unwrap();
    // The file may not grow by a page: the response's transaction needs new pages.
    let pages: i64 = store
        .connection()
        .expect("a SQLite store")
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    store
        .connection()
        .expect("a SQLite store")
        .execute_batch(&format!("PRAGMA max_page_count = {pages}"))
        .unwrap();
    let mut p = pipeline(store);
    let r = edit(&mut p).await;
    assert_eq!(r.outcome, Outcome::Failed, "{r:?}");
    let error = r.error.unwrap();
    assert!(error.contains("full.db' is full"), "{error}");
    assert!(error.contains("nothing was written"), "{error}");
    // The result was not stored; the failed run's own small record may have fitted in the
    // file's free space (then it is whole: its row and the user's message).
    let after = fixtures::export(&p.store, "demo-small").unwrap();
    assert_eq!(after.scenes, before.scenes);
    // Scene analyses (a cache of the code the build keeps in memory) may have been stored
    // by the build, each whole; every other entry is as it was.
    let facts = |m: &[fixtures::MemoryRecord]| {
        m.iter()
            .filter(|m| m.memory_type != "SCENE_ANALYSIS")
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(facts(&after.memory), facts(&before.memory));
    assert_eq!(after.scene_iterations, before.scene_iterations);
    let added: Vec<_> = after.messages[before.messages.len()..].iter().collect();
    assert_eq!(after.messages[..before.messages.len()], before.messages[..]);
    assert!(added.iter().all(|m| m.content == PROMPT), "{added:?}");
    assert!(
        state(&path, "demo-small")
            .runs
            .iter()
            .all(|(_, outcome)| outcome == "failed")
    );
    // An import into the full file: all or nothing.
    let mut other = fixtures::demo_project("demo-medium").unwrap().unwrap();
    other.project.id = "another".into();
    let err = fixtures::import(&mut p.store, "another.json", &other).unwrap_err();
    assert!(err.to_string().contains("is full"), "{err}");
    assert!(p.store.get_project("another").is_err());
    // Room again: the next edit applies, from the project as it was.
    p.store
        .connection()
        .expect("a SQLite store")
        .execute_batch("PRAGMA max_page_count = 1073741823")
        .unwrap();
    let r = edit(&mut p).await;
    assert_eq!(r.outcome, Outcome::Applied, "{r:?}");
}

#[tokio::test]
async fn a_read_only_database_fails_the_edit_clearly_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.db");
    seeded(&path);
    let before = state(&path, "demo-small");
    // Opened read-only (SQLITE_OPEN_READONLY, what `mode=ro` is): the tests run as root, which
    // file permissions do not stop.
    let store = Store::open_with(
        &path,
        OpenOptions {
            read_only: true,
            ..OpenOptions::default()
        },
    )
    .unwrap();
    let mut p = pipeline(store);
    let r = edit(&mut p).await;
    assert_eq!(r.outcome, Outcome::Failed, "{r:?}");
    let error = r.error.unwrap();
    assert!(error.contains("ro.db' is read-only"), "{error}");
    assert_eq!(r.run_id, None);
    drop(p);
    assert_eq!(state(&path, "demo-small"), before);
}

#[tokio::test]
async fn a_database_locked_by_another_writer_during_an_edit_names_the_lock_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.db");
    seeded(&path);
    let before = state(&path, "demo-small");
    let store = Store::open_with(
        &path,
        OpenOptions {
            busy_timeout: Duration::from_millis(150),
            read_only: false,
        },
    )
    .unwrap();
    let mut p = pipeline(store);
    // Another writer's long transaction, with a write of its own in it (not yet committed).
    let other = rusqlite::Connection::open(&path).unwrap();
    other
        .execute_batch(
            "BEGIN IMMEDIATE; UPDATE scenes SET name = 'theirs' WHERE id = 'demo-small-s0001';",
        )
        .unwrap();
    let r = edit(&mut p).await;
    assert_eq!(r.outcome, Outcome::Failed, "{r:?}");
    let error = r.error.unwrap();
    assert!(
        error.contains("locked.db' is locked by another writer (waited 150 ms)"),
        "{error}"
    );
    other.execute_batch("ROLLBACK").unwrap();
    // The failed run could not be recorded either: the lock was still held.
    assert_eq!(state(&path, "demo-small"), before);
    // The lock gone, the same edit applies.
    let r = edit(&mut p).await;
    assert_eq!(r.outcome, Outcome::Applied, "{r:?}");
}

// ---------------------------------------------------------------------------------------------
// Another process's long write transaction during a dashboard edit

/// Names the database the lock holder opens: set only for the holder's own process.
const HOLDER_DB: &str = "EDITSCOPE_TEST_LOCK_HOLDER_DB";

/// The other process: this test binary run again with only [`hold_a_write_lock_for_another_test`].
/// Its transaction writes a scene's name and holds the write lock until the test creates the
/// stop file (or a minute passes, should the test die first); then it commits.
struct LockHolder {
    child: std::process::Child,
    stop: PathBuf,
}

impl LockHolder {
    fn start(db: &Path) -> LockHolder {
        let ready = db.with_extension("holder-ready");
        let stop = db.with_extension("holder-stop");
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["faults::hold_a_write_lock_for_another_test", "--exact"])
            .args(["--ignored", "--nocapture", "--test-threads=1"])
            .env(HOLDER_DB, db)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut holder = LockHolder { child, stop };
        // Not a timed assertion: how long to wait for the other process to start at all.
        let deadline = Instant::now() + Duration::from_secs(60);
        while !ready.exists() {
            if let Some(status) = holder.child.try_wait().unwrap() {
                panic!("the lock holder ended before it held the lock: {status}");
            }
            assert!(Instant::now() < deadline, "the lock holder never started");
            std::thread::sleep(Duration::from_millis(10));
        }
        holder
    }

    /// Ends the other transaction (it commits) and waits for the process.
    fn commit(mut self) {
        std::fs::write(&self.stop, b"").unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "the lock holder failed: {status}");
    }
}

impl Drop for LockHolder {
    fn drop(&mut self) {
        // A test that failed before `commit` leaves no process behind.
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
#[ignore = "the other process of the dashboard lock test, which runs it; alone it does nothing"]
fn hold_a_write_lock_for_another_test() {
    let Some(db) = std::env::var_os(HOLDER_DB).map(PathBuf::from) else {
        return;
    };
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "BEGIN IMMEDIATE; UPDATE scenes SET name = 'theirs' WHERE id = 'demo-small-s0001';",
    )
    .unwrap();
    std::fs::write(
        db.with_extension("holder-ready"),
        std::process::id().to_string(),
    )
    .unwrap();
    let stop = db.with_extension("holder-stop");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !stop.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    conn.execute_batch("COMMIT").unwrap();
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

/// Types `prompt` into the dashboard's input and submits it, as a user does.
fn submit(app: &mut App, prompt: &str) {
    for c in prompt.chars() {
        app.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    app.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
}

#[tokio::test]
async fn a_dashboard_edit_while_another_process_holds_the_write_lock_names_the_lock_and_loses_nothing()
 {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.db");
    seeded(&path);
    let store = Store::open_with(
        &path,
        OpenOptions {
            busy_timeout: Duration::from_millis(150),
            read_only: false,
        },
    )
    .unwrap();
    let handle = worker::spawn(pipeline(store), "demo-small".into()).unwrap();
    let mut app = App::new(AppState::new("demo-small", Flags::OPTIMIZED), handle);
    wait_for(&mut app, "the worker", |s| {
        s.worker_ready && !s.scenes.rows.is_empty()
    })
    .await;
    let before = state(&path, "demo-small");
    let holder = LockHolder::start(&path);
    submit(&mut app, PROMPT);
    wait_for(&mut app, "the run's end", |s| {
        !s.run_active() && s.history.len() == 1
    })
    .await;
    let run = app.state.history.last().unwrap().clone();
    assert_eq!(run.outcome, Outcome::Failed, "{run:?}");
    let error = run.error.unwrap();
    assert!(
        error.contains("locked.db' is locked by another writer (waited 150 ms)"),
        "{error}"
    );
    // The dashboard says so, not only the run's record.
    assert!(
        app.state
            .status
            .text
            .contains("is locked by another writer"),
        "{:?}",
        app.state.status
    );
    // Nothing of the edit was written while the other transaction held the lock.
    assert_eq!(state(&path, "demo-small"), before);
    holder.commit();
    // The other writer's change is whole; the same edit, submitted again, applies beside it.
    let theirs = || {
        Store::open(&path)
            .unwrap()
            .get_scene("demo-small-s0001")
            .unwrap()
            .name
    };
    assert_eq!(theirs(), "theirs");
    submit(&mut app, PROMPT);
    wait_for(&mut app, "the second run's end", |s| {
        !s.run_active() && s.history.len() == 2
    })
    .await;
    let run = app.state.history.last().unwrap().clone();
    assert_eq!(run.outcome, Outcome::Applied, "{run:?}");
    let after = state(&path, "demo-small");
    assert_eq!(after.runs.len(), before.runs.len() + 1);
    assert_ne!(after.scenes, before.scenes);
    assert_eq!(theirs(), "theirs");
    app.shutdown();
}

#[tokio::test]
async fn a_database_deleted_under_a_running_pipeline_fails_the_edit_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gone.db");
    seeded(&path);
    let mut p = pipeline(Store::open(&path).unwrap());
    assert_eq!(edit(&mut p).await.outcome, Outcome::Applied);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let r = edit(&mut p).await;
    assert_eq!(r.outcome, Outcome::Failed, "{r:?}");
    let error = r.error.unwrap();
    assert!(error.contains("gone.db' was deleted or moved"), "{error}");
    // Nothing was written anywhere: no new file appeared in its place.
    assert!(!path.exists());
}

/// The context `editscope context` serves (from whatever cache level holds it) and a fresh
/// build's, for the same prompt: they must be equal.
fn served_and_fresh(db: &Path, project: &str) -> (serde_json::Value, serde_json::Value) {
    let served = json_of(editscope(db).args([
        "context",
        "--project",
        project,
        "--prompt",
        PROMPT,
        "--json",
    ]));
    let fresh = json_of(editscope(db).args([
        "context",
        "--project",
        project,
        "--prompt",
        PROMPT,
        "--flags=-cache",
        "--json",
    ]));
    (served["context"].clone(), fresh["context"].clone())
}

/// Runs `editscope edit --events jsonl` and kills it (SIGKILL) as soon as `stage` starts.
fn kill_at(db: &Path, session: &Path, project: &str, stage: &str, time_scale: &str) {
    let mut child = editscope_process(db)
        .args(["edit", "--project", project, "--prompt", PROMPT])
        .args(["--time-scale", time_scale, "--events", "jsonl", "--record"])
        .arg(session)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut reached = false;
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        let event: serde_json::Value = serde_json::from_str(&line).unwrap();
        if event["event"] == "stage_started" && event["stage"] == stage {
            child.kill().unwrap(); // SIGKILL on Unix
            reached = true;
            break;
        }
    }
    let status = child.wait().unwrap();
    assert!(reached, "the edit never reached {stage}: {status}");
}

#[test]
fn a_process_killed_during_each_stage_leaves_the_old_or_the_new_code_and_no_stale_cache() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("killed.db");
    let session = dir.path().join("killed.jsonl");
    // The first run seeds the demos; the 1,000-scene one makes the context stage long enough
    // to land in.
    editscope(&db).arg("projects").assert().success();
    let project = "demo-large";
    // Time scale 0.2 makes the model stages take about half a second and two seconds (the kill
    // lands inside them); the response comes after both, so it runs at 0.
    for (stage, scale) in [
        ("context", "1"),
        ("tool_selection", "0.2"),
        ("code_edit", "0.2"),
        ("response", "0"),
    ] {
        let before = state(&db, project);
        kill_at(&db, &session, project, stage, scale);
        let after = state(&db, project);
        let changed: Vec<&String> = after
            .scenes
            .iter()
            .filter(|(id, code)| before.scenes.get(*id) != Some(*code))
            .map(|(id, _)| id)
            .collect();
        if stage == "response" && after.runs.len() == before.runs.len() + 1 {
            // Killed after the commit: the whole edit, with its run, is there.
            assert_eq!(after.runs.last().unwrap().1, "applied", "{stage}");
            assert_eq!(changed.len(), 1, "{stage}: {changed:?}");
            let store = Store::open(&db).unwrap();
            let last = store.list_iterations(changed[0]).unwrap();
            assert_eq!(
                last.last().unwrap().code_after.as_ref(),
                after.scenes.get(changed[0])
            );
        } else {
            // Killed before anything was written: no run recorded, every scene as it was.
            assert_eq!(after, before, "{stage}");
        }
        // The session's file holds its header and no half run.
        let recorded = editscope::session::read(&session).unwrap();
        assert!(recorded.runs.len() <= 1, "{stage}");
        // Restarted, the cache serves what a fresh build makes.
        let (served, fresh) = served_and_fresh(&db, project);
        assert_eq!(served, fresh, "{stage}: a stale context was served");
    }
    // And a whole edit still runs after four kills.
    editscope(&db)
        .args(["edit", "--project", project, "--prompt", PROMPT])
        .args(["--time-scale", "0"])
        .assert()
        .success();
}
