//! The dashboard's worker, in the role gitui gives `asyncgit`: it owns the [`Pipeline`] (and with
//! it the store), runs edits, answers the UI's commands and reports by events. It is the only
//! code of the dashboard that calls the store; the UI folds what it hears into its state and
//! never waits on the worker.
//!
//! The worker runs on its own thread with a single-threaded tokio runtime: the pipeline's
//! context build is synchronous and may take a while on a large project, and it must never
//! freeze the screen. While an edit runs, the worker keeps listening: `Cancel` trips the run's
//! [`CancellationToken`] at once; other commands wait until the run is over (they need the
//! store, which the run holds).

use std::collections::{HashMap, VecDeque};
use std::thread::JoinHandle;

use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio_util::sync::CancellationToken;

use crate::context::Flags;
use crate::pipeline::compare::{self, Checkpoint, SceneState};
use crate::pipeline::{Outcome, Pipeline, PipelineEvent, StageTiming};
use crate::session::{Recorder, SessionHeader, SessionRun, TimedEvent};
use crate::store::{MemoryEntry, ProjectSummary, SceneIteration};

/// The worker thread's name (the panic hook tells its panics apart by it).
pub const THREAD_NAME: &str = "editscope-worker";

/// How many past runs of a project are loaded to seed the timing history.
pub const HISTORY_RUNS: usize = 50;

/// How many recent iterations are read to find each scene's last change.
const RECENT_ITERATIONS: usize = 2_000;

/// What the UI asks of the worker.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Runs one edit. `flags` overrides the engine's flags for this run only (the A/B key);
    /// `None` uses the flags set last.
    RunEdit {
        prompt: String,
        flags: Option<Flags>,
    },
    /// Compares the run numbered `run` (A, a run of this session) with a dry run of its prompt
    /// under `flags` (B), from the revision and model-backend state A started at.
    Compare {
        run: u64,
        flags: Flags,
    },
    /// Starts recording the runs of this session to a session file (appending to it when it
    /// is already a session of this project).
    StartRecording(std::path::PathBuf),
    StopRecording,
    /// Cancels the running edit; nothing is written.
    Cancel,
    /// Sets the flags the next edits use.
    SetFlags(Flags),
    SwitchProject(String),
    RefreshMemory,
    RefreshScenes,
    ListProjects,
}

/// A scene as the scenes panel shows it: its code and its last recorded change.
#[derive(Debug, Clone, PartialEq)]
pub struct SceneRow {
    pub id: String,
    pub name: String,
    pub ord: i64,
    pub duration_frames: i64,
    pub code: String,
    pub last_change: Option<SceneIteration>,
}

/// A profiled run of an earlier session, read back from `edit_runs`.
#[derive(Debug, Clone, PartialEq)]
pub struct PastRun {
    pub prompt: String,
    pub flags: Option<Flags>,
    pub outcome: Outcome,
    pub stages: Vec<StageTiming>,
    pub error: Option<String>,
}

/// What the worker reports.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerEvent {
    /// The worker is up: the project it serves, its flags and the model backend's name.
    Ready {
        project_id: String,
        flags: Flags,
        backend: String,
        /// The share of reused contexts verified against a fresh build (`--shadow-rate`).
        shadow_rate: f64,
    },
    /// An event of a running edit, as the pipeline sent it.
    Pipeline(PipelineEvent),
    Memory(Vec<MemoryEntry>),
    Scenes(Vec<SceneRow>),
    Projects(Vec<ProjectSummary>),
    /// Earlier runs of the current project, oldest first.
    History(Vec<PastRun>),
    ProjectSwitched(String),
    /// The flags the worker will use for the next edit.
    FlagsApplied(Flags),
    /// A comparison run ended: whether A and B decided the same and left the project with
    /// identical scenes. `same_code` is `None` when A's result is no longer known (another
    /// write came after it).
    Compared {
        b_run: u64,
        start_revision: i64,
        same_decision: bool,
        same_code: Option<bool>,
    },
    /// The session file runs are recorded to, or `None` when recording stopped.
    Recording(Option<std::path::PathBuf>),
    /// Something failed outside a run (a run's failure arrives as its `RunFinished`).
    Error(String),
}

/// The UI's end of the worker.
pub struct WorkerHandle {
    pub commands: UnboundedSender<Command>,
    pub events: UnboundedReceiver<WorkerEvent>,
    thread: Option<JoinHandle<()>>,
}

impl WorkerHandle {
    /// Sends a command; false when the worker has stopped.
    pub fn send(&self, command: Command) -> bool {
        self.commands.send(command).is_ok()
    }

    /// Stops the worker: a running edit is cancelled (nothing is written) and the thread joined.
    pub fn shutdown(self) {
        let WorkerHandle {
            commands,
            events,
            thread,
        } = self;
        let _ = commands.send(Command::Cancel);
        // Closing the command channel is the stop signal.
        drop(commands);
        drop(events);
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

/// Settings of the worker beyond its pipeline.
#[derive(Debug, Clone, Default)]
pub struct WorkerOptions {
    /// Each run's trace is sent here over OTLP/HTTP (best effort, off the run's path).
    pub otlp_endpoint: Option<String>,
}

/// Starts the worker on its own thread, serving `project_id`.
pub fn spawn(pipeline: Pipeline, project_id: String) -> std::io::Result<WorkerHandle> {
    spawn_with(pipeline, project_id, WorkerOptions::default())
}

/// [`spawn`] with options.
pub fn spawn_with(
    pipeline: Pipeline,
    project_id: String,
    options: WorkerOptions,
) -> std::io::Result<WorkerHandle> {
    let (command_tx, command_rx) = mpsc::unbounded_channel();
    let (event_tx, event_rx) = mpsc::unbounded_channel();
    let thread = std::thread::Builder::new()
        .name(THREAD_NAME.into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = event_tx.send(WorkerEvent::Error(format!(
                        "the worker could not start its runtime: {e}"
                    )));
                    return;
                }
            };
            let worker = Worker {
                pipeline,
                project_id,
                events: event_tx,
                prepared: None,
                last_start: None,
                recorder: None,
                options,
                shown_revision: 0,
            };
            runtime.block_on(worker.run(command_rx));
        })?;
    Ok(WorkerHandle {
        commands: command_tx,
        events: event_rx,
        thread: Some(thread),
    })
}

struct Worker {
    pipeline: Pipeline,
    project_id: String,
    events: UnboundedSender<WorkerEvent>,
    /// The project as the next run will find it, copied while the worker is idle so that a
    /// run does not wait for the copy (checked against the revision when the run starts).
    prepared: Option<Checkpoint>,
    /// Where the last run of this session started, for `b`.
    last_start: Option<RunStart>,
    /// The session file runs are recorded to (Ctrl+R), and its path.
    recorder: Option<(std::path::PathBuf, Recorder)>,
    options: WorkerOptions,
    /// The revision of the project the panels show: a change notified at or below it is this
    /// worker's own (or already shown).
    shown_revision: i64,
}

/// A run of this session and the checkpoint it started from.
struct RunStart {
    run: u64,
    prompt: String,
    checkpoint: Checkpoint,
    result: Option<crate::pipeline::EditResult>,
    /// The project's scenes right after the run, and the revision they are of.
    scenes_after: Option<(i64, Vec<SceneState>)>,
}

impl Worker {
    fn send(&self, event: WorkerEvent) {
        // A closed channel means the UI is gone; the command loop notices and stops.
        let _ = self.events.send(event);
    }

    async fn run(mut self, mut commands: UnboundedReceiver<Command>) {
        self.send(WorkerEvent::Ready {
            project_id: self.project_id.clone(),
            flags: self.pipeline.engine.flags,
            backend: self.pipeline.llm.name(),
            shadow_rate: self.pipeline.engine.optimized().shadow_rate,
        });
        // Writes of other processes (PostgreSQL's LISTEN/NOTIFY; a SQLite file has none),
        // heard from before the first snapshots are read: nothing falls in between.
        let mut changes = match self.pipeline.store.watch_changes() {
            Ok(rx) => Some(rx),
            Err(e) => {
                tracing::warn!("not watching the store for other writers: {e}");
                None
            }
        };
        self.send_projects();
        self.send_project_snapshots();
        self.prepare_checkpoint();
        // Commands that arrived during a run and wait for it to end, in order.
        let mut queued: VecDeque<Command> = VecDeque::new();
        loop {
            let command = match queued.pop_front() {
                Some(c) => c,
                None => {
                    let next = match changes.as_mut() {
                        Some(rx) => tokio::select! {
                            c = commands.recv() => Ok(c),
                            change = rx.recv() => Err(change),
                        },
                        None => Ok(commands.recv().await),
                    };
                    match next {
                        Ok(Some(c)) => c,
                        Ok(None) => break,
                        Err(Some(change)) => {
                            let mut batch = vec![change];
                            if let Some(rx) = changes.as_mut() {
                                while let Ok(more) = rx.try_recv() {
                                    batch.push(more);
                                }
                            }
                            self.on_store_changes(&batch);
                            continue;
                        }
                        Err(None) => {
                            changes = None;
                            continue;
                        }
                    }
                }
            };
            match command {
                Command::RunEdit { prompt, flags } => {
                    let (deferred, ui_gone) = self.run_edit(&prompt, flags, &mut commands).await;
                    if ui_gone {
                        break;
                    }
                    queued.extend(deferred);
                }
                Command::Compare { run, flags } => {
                    let (deferred, ui_gone) = self.compare(run, flags, &mut commands).await;
                    if ui_gone {
                        break;
                    }
                    queued.extend(deferred);
                }
                Command::StartRecording(path) => self.start_recording(path),
                Command::StopRecording => {
                    if let Some((path, _)) = self.recorder.take() {
                        tracing::info!("stopped recording to {}", path.display());
                    }
                    self.send(WorkerEvent::Recording(None));
                }
                // Nothing is running: nothing to cancel.
                Command::Cancel => {}
                Command::SetFlags(flags) => {
                    self.pipeline.engine.flags = flags;
                    tracing::info!(%flags, "flags set; they apply to the next edit");
                    self.send(WorkerEvent::FlagsApplied(flags));
                }
                Command::SwitchProject(id) => self.switch_project(id),
                Command::RefreshMemory => self.send_memory(),
                Command::RefreshScenes => {
                    self.send_scenes();
                }
                Command::ListProjects => self.send_projects(),
            }
        }
    }

    /// Runs one edit while listening for `Cancel`. Returns the commands to run afterwards and
    /// whether the UI went away.
    async fn run_edit(
        &mut self,
        prompt: &str,
        flags: Option<Flags>,
        commands: &mut UnboundedReceiver<Command>,
    ) -> (Vec<Command>, bool) {
        let cancel = CancellationToken::new();
        let (event_tx, event_rx) = mpsc::unbounded_channel();
        let saved_flags = self.pipeline.engine.flags;
        if let Some(f) = flags {
            self.pipeline.engine.flags = f;
        }
        let run = self.pipeline.next_run_number();
        let checkpoint = self.checkpoint_for_run();
        let ((result, timed), deferred, ui_gone) = drive(
            self.pipeline
                .run_edit(&self.project_id, prompt, &event_tx, &cancel),
            event_rx,
            &self.events,
            commands,
            &cancel,
        )
        .await;
        self.record(&result, timed);
        if let Some(endpoint) = self.options.otlp_endpoint.clone() {
            // Sent by a task of its own: the worker goes on with the next command meanwhile.
            let trace = crate::export::otlp::finished_run(
                &self.pipeline.store,
                &self.pipeline.llm.name(),
                &result,
            );
            tokio::spawn(async move {
                crate::export::otlp::send_or_warn(&endpoint, std::slice::from_ref(&trace)).await;
            });
        }
        if flags.is_some() {
            self.pipeline.engine.flags = saved_flags;
        }
        log_result(&self.project_id, &result);
        self.last_start = checkpoint.map(|checkpoint| RunStart {
            run,
            prompt: prompt.to_string(),
            checkpoint,
            result: Some(result),
            scenes_after: None,
        });
        if !ui_gone {
            // The run may have written scenes and memory: the panels get fresh snapshots.
            self.send_memory();
            let after = self.send_scenes();
            if let (Some(start), Some(rows)) = (self.last_start.as_mut(), after)
                && let Ok(revision) = self.pipeline.store.project_revision(&self.project_id)
            {
                start.scenes_after = Some((revision, rows.iter().map(scene_state).collect()));
            }
            self.note_shown_revision();
            self.prepare_checkpoint();
        }
        (deferred, ui_gone)
    }

    /// Starts recording to `path`: a new session file whose header holds the project as it
    /// is now, or an existing session of this project to append to.
    fn start_recording(&mut self, path: std::path::PathBuf) {
        let header =
            crate::fixtures::export(&self.pipeline.store, &self.project_id).map(|project| {
                SessionHeader::new(
                    self.pipeline.engine.flags.to_string(),
                    &self.pipeline.llm.name(),
                    project,
                )
            });
        let opened = header
            .map_err(|e| e.to_string())
            .and_then(|header| Recorder::open(&path, header).map_err(|e| e.to_string()));
        match opened {
            Ok(recorder) => {
                tracing::info!("recording runs to {}", path.display());
                self.recorder = Some((path.clone(), recorder));
                self.send(WorkerEvent::Recording(Some(path)));
            }
            Err(e) => {
                self.send(WorkerEvent::Error(format!("cannot record: {e}")));
                self.send(WorkerEvent::Recording(None));
            }
        }
    }

    /// Appends a finished run to the session being recorded, if any.
    fn record(&mut self, result: &crate::pipeline::EditResult, timed: Vec<TimedEvent>) {
        let Some((path, recorder)) = self.recorder.as_mut() else {
            return;
        };
        let code_after = crate::session::replay::target_code(&self.pipeline.store, result);
        let run = SessionRun::from_events(recorder.next_run(), timed, result.clone(), code_after);
        if let Err(e) = recorder.append(&run) {
            let message = format!("recording to {} stopped: {e}", path.display());
            self.recorder = None;
            self.send(WorkerEvent::Error(message));
            self.send(WorkerEvent::Recording(None));
        }
    }

    /// The checkpoint a run starts from: the one prepared while idle if the project has not
    /// changed since, else one taken now; the backend's state is captured now in either case.
    /// A failure costs only the A/B of this run, never the run.
    fn checkpoint_for_run(&mut self) -> Option<Checkpoint> {
        let current = self
            .pipeline
            .store
            .project_revision(&self.project_id)
            .ok()?;
        let prepared = self
            .prepared
            .take()
            .filter(|c| c.project_id == self.project_id && c.revision == current);
        let taken = match prepared {
            Some(mut c) => c.set_llm(self.pipeline.llm.as_ref()).map(|()| c),
            None => Checkpoint::take(
                &self.pipeline.store,
                &self.project_id,
                self.pipeline.llm.as_ref(),
            ),
        };
        match taken {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!("no A/B checkpoint for this run (b will not compare it): {e}");
                None
            }
        }
    }

    /// Copies the project for the next run while nothing else is going on.
    fn prepare_checkpoint(&mut self) {
        match Checkpoint::take(
            &self.pipeline.store,
            &self.project_id,
            self.pipeline.llm.as_ref(),
        ) {
            Ok(c) => self.prepared = Some(c),
            Err(e) => {
                self.prepared = None;
                tracing::debug!("could not prepare an A/B checkpoint: {e}");
            }
        }
    }

    /// `b`: a dry run of run `run`'s prompt under `flags`, from where that run started.
    async fn compare(
        &mut self,
        run: u64,
        flags: Flags,
        commands: &mut UnboundedReceiver<Command>,
    ) -> (Vec<Command>, bool) {
        let Some(mut start) = self.last_start.take_if(|s| s.run == run) else {
            self.send(WorkerEvent::Error(format!(
                "A/B: run #{run} is not the last run of this session, so where it started is \
                 no longer kept; run the edit again and press b"
            )));
            return (Vec::new(), false);
        };
        let b_run = self.pipeline.reserve_run_number();
        let options = crate::context::EngineOptions {
            shadow_rate: self.pipeline.engine.optimized().shadow_rate,
            ..Default::default()
        };
        tracing::info!(
            "A/B: dry run #{b_run} of \"{}\" with {flags} from revision {} (run #{run} started there)",
            start.prompt,
            start.checkpoint.revision
        );
        // The dry run asks for code edits as the run it compares with did.
        start.checkpoint.edit_format = self.pipeline.edit_format;
        let cancel = CancellationToken::new();
        let (event_tx, event_rx) = mpsc::unbounded_channel();
        let ((dry, _), deferred, ui_gone) = drive(
            start
                .checkpoint
                .dry_run(&start.prompt, flags, options, b_run, &event_tx, &cancel),
            event_rx,
            &self.events,
            commands,
            &cancel,
        )
        .await;
        match dry {
            Ok(dry) => {
                if let Err(e) = compare::record_comparison(&mut self.pipeline.store, &dry) {
                    tracing::warn!("A/B: the comparison run could not be recorded: {e}");
                }
                let same_decision = start
                    .result
                    .as_ref()
                    .is_some_and(|a| compare::same_decision(a, &dry.result));
                // A's resulting scenes are known only while nothing else was written after it.
                let current = self.pipeline.store.project_revision(&self.project_id).ok();
                let same_code = start
                    .scenes_after
                    .as_ref()
                    .filter(|(revision, _)| Some(*revision) == current)
                    .map(|(_, scenes)| *scenes == dry.scenes_after);
                self.send(WorkerEvent::Compared {
                    b_run,
                    start_revision: start.checkpoint.revision,
                    same_decision,
                    same_code,
                });
            }
            Err(e) => self.send(WorkerEvent::Error(format!("A/B: the dry run failed: {e}"))),
        }
        // Kept: b can be pressed again (with other flags) for the same run.
        self.last_start = Some(start);
        (deferred, ui_gone)
    }

    fn switch_project(&mut self, id: String) {
        match self.pipeline.store.get_project(&id) {
            Ok(_) => {
                tracing::info!(project = %id, "switched project");
                self.project_id = id.clone();
                self.last_start = None;
                self.send(WorkerEvent::ProjectSwitched(id));
                self.send_project_snapshots();
                self.prepare_checkpoint();
            }
            Err(e) => self.send(WorkerEvent::Error(format!(
                "cannot switch to project '{id}': {e}"
            ))),
        }
    }

    fn send_project_snapshots(&mut self) {
        self.send_history();
        self.send_memory();
        self.send_scenes();
        self.note_shown_revision();
    }

    fn note_shown_revision(&mut self) {
        if let Ok(revision) = self.pipeline.store.project_revision(&self.project_id) {
            self.shown_revision = revision;
        }
    }

    /// Another process committed writes: the panels of this project are read again when one
    /// of them is newer than what they show (the engine's caches check the revision on every
    /// build, so a cached context of the old revision is never served), and the project list
    /// always is. A `None` project means notifications may have been missed: read everything.
    fn on_store_changes(&mut self, changes: &[crate::store::StoreChange]) {
        let newer = changes.iter().any(|c| match &c.project_id {
            None => true,
            Some(p) => p == &self.project_id && c.revision > self.shown_revision,
        });
        self.send_projects();
        if newer {
            let before = self.shown_revision;
            self.send_project_snapshots();
            tracing::info!(
                project = %self.project_id,
                "another process wrote the project (revision {before} -> {}): panels refreshed",
                self.shown_revision
            );
            self.prepare_checkpoint();
        }
    }

    fn send_projects(&self) {
        match self.pipeline.store.list_projects() {
            Ok(projects) => self.send(WorkerEvent::Projects(projects)),
            Err(e) => self.send(WorkerEvent::Error(format!("listing projects failed: {e}"))),
        }
    }

    fn send_memory(&self) {
        match self.pipeline.store.list_memory(&self.project_id, None) {
            Ok(entries) => self.send(WorkerEvent::Memory(entries)),
            Err(e) => self.send(WorkerEvent::Error(format!(
                "reading the memory of '{}' failed: {e}",
                self.project_id
            ))),
        }
    }

    /// Sends the scenes panel's rows; returns them too (A/B compares A's resulting scenes).
    fn send_scenes(&self) -> Option<Vec<SceneRow>> {
        match self.read_scenes() {
            Ok(rows) => {
                self.send(WorkerEvent::Scenes(rows.clone()));
                Some(rows)
            }
            Err(e) => {
                self.send(WorkerEvent::Error(format!(
                    "reading the scenes of '{}' failed: {e}",
                    self.project_id
                )));
                None
            }
        }
    }

    fn read_scenes(&self) -> Result<Vec<SceneRow>, crate::store::StoreError> {
        let store = &self.pipeline.store;
        let scenes = store.list_scenes(&self.project_id)?;
        // One bounded query for every scene's last change, not one query per scene.
        let mut last: HashMap<String, SceneIteration> = HashMap::new();
        for it in store.recent_iterations(&self.project_id, RECENT_ITERATIONS)? {
            // Oldest first: a later iteration replaces an earlier one.
            last.insert(it.scene_id.clone(), it);
        }
        Ok(scenes
            .into_iter()
            .map(|s| SceneRow {
                last_change: last.remove(&s.id),
                id: s.id,
                name: s.name,
                ord: s.ord,
                duration_frames: s.duration_frames,
                code: s.tsx_code,
            })
            .collect())
    }

    fn send_history(&self) {
        match self
            .pipeline
            .store
            .list_edit_runs(&self.project_id, HISTORY_RUNS)
        {
            Ok(records) => {
                let mut runs: Vec<PastRun> = records
                    .into_iter()
                    // Comparison runs (A/B dry runs) changed nothing and ran under another
                    // preset: they are not part of the project's timing history.
                    .filter(|r| !r.comparison)
                    .map(|r| PastRun {
                        // A record written by another version may not parse: its timings are
                        // then left out, the run still counts.
                        stages: serde_json::from_str(&r.stage_ms_json).unwrap_or_default(),
                        flags: serde_json::from_str(&r.flags_json).ok(),
                        outcome: match r.outcome.as_str() {
                            "applied" => Outcome::Applied,
                            "clarification" => Outcome::Clarification,
                            _ => Outcome::Failed,
                        },
                        prompt: r.prompt,
                        error: r.error,
                    })
                    .collect();
                // Newest first from the store; the history is oldest first.
                runs.reverse();
                self.send(WorkerEvent::History(runs));
            }
            Err(e) => self.send(WorkerEvent::Error(format!(
                "reading the run history of '{}' failed: {e}",
                self.project_id
            ))),
        }
    }
}

/// Drives a run's future while forwarding its events to the UI and listening for commands:
/// `Cancel` trips `cancel` at once, other commands wait for the run's end (returned in order).
/// Returns the run's output with its events stamped with their time since the start, the
/// deferred commands and whether the UI went away.
async fn drive<T>(
    run: impl std::future::Future<Output = T>,
    mut event_rx: UnboundedReceiver<PipelineEvent>,
    ui: &UnboundedSender<WorkerEvent>,
    commands: &mut UnboundedReceiver<Command>,
    cancel: &CancellationToken,
) -> ((T, Vec<TimedEvent>), Vec<Command>, bool) {
    let mut deferred = Vec::new();
    let mut ui_gone = false;
    let started = std::time::Instant::now();
    let mut timed = Vec::new();
    let mut forward = |event: PipelineEvent| {
        timed.push(TimedEvent {
            at_ms: started.elapsed().as_secs_f64() * 1000.0,
            event: event.clone(),
        });
        let _ = ui.send(WorkerEvent::Pipeline(event));
    };
    tokio::pin!(run);
    let output = loop {
        tokio::select! {
            // Events first, so the UI sees every stage before the run's end.
            biased;
            Some(event) = event_rx.recv() => forward(event),
            command = commands.recv(), if !ui_gone => match command {
                Some(Command::Cancel) => cancel.cancel(),
                Some(other) => deferred.push(other),
                None => {
                    ui_gone = true;
                    cancel.cancel();
                }
            },
            output = &mut run => break output,
        }
    };
    while let Ok(event) = event_rx.try_recv() {
        forward(event);
    }
    ((output, timed), deferred, ui_gone)
}

fn log_result(project_id: &str, result: &crate::pipeline::EditResult) {
    match &result.error {
        Some(error) => tracing::warn!(
            project = %project_id,
            "edit \"{}\" ended {}: {error}",
            result.prompt,
            result.outcome.as_str()
        ),
        None => tracing::info!(
            project = %project_id,
            "edit \"{}\" {} in {:.1} ms real: {}",
            result.prompt,
            result.outcome.as_str(),
            result.total_real_ms,
            result.summary
        ),
    }
}

fn scene_state(row: &SceneRow) -> SceneState {
    SceneState {
        name: row.name.clone(),
        code: row.code.clone(),
        duration_frames: row.duration_frames,
    }
}
