//! The event loop: `tokio::select!` over the terminal's events, the worker's events and a render
//! tick. Keys and worker events only mark the screen dirty; a dirty screen is drawn at most once
//! per frame (16 ms), so a burst of events costs one redraw. While idle nothing wakes the loop;
//! while an edit runs a slow tick (250 ms) lets the running stage's bar grow.

use std::io;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use crossterm::event::{Event, EventStream, KeyEvent, KeyEventKind};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;

use super::logging;
use super::state::AppState;
use super::view;
use super::worker::{self, Command, WorkerHandle};
use crate::context::Flags;
use crate::pipeline::Pipeline;

/// The shortest time between two frames.
pub const FRAME: Duration = Duration::from_millis(16);
/// How often the screen refreshes while an edit runs and nothing else happens.
pub const LIVE_TICK: Duration = Duration::from_millis(250);

/// The dashboard: its state and its worker.
pub struct App {
    pub state: AppState,
    pub worker: WorkerHandle,
    worker_alive: bool,
}

impl App {
    pub fn new(state: AppState, worker: WorkerHandle) -> Self {
        App {
            state,
            worker,
            worker_alive: true,
        }
    }

    /// Handles one key: updates the state and tells the worker what it must do.
    pub fn handle_key(&mut self, key: KeyEvent) {
        let commands = self.state.apply_key(key);
        send_all(&mut self.state, &self.worker, commands);
    }

    /// Waits for the worker's next event and folds it in with everything already queued.
    /// Returns false once the worker has stopped.
    pub async fn next_worker_event(&mut self) -> bool {
        match self.worker.events.recv().await {
            Some(event) => {
                self.state.apply_event(event);
                while let Ok(more) = self.worker.events.try_recv() {
                    self.state.apply_event(more);
                }
                true
            }
            None => {
                self.worker_gone();
                false
            }
        }
    }

    fn worker_gone(&mut self) {
        if self.worker_alive {
            self.worker_alive = false;
            self.state.live = None;
            self.state.awaiting_run = false;
            self.state
                .push_error("the worker stopped (see the logs); restart editscope to run edits");
        }
    }

    /// Stops the worker (cancelling a running edit) and waits for it.
    pub fn shutdown(self) {
        self.worker.shutdown();
    }
}

fn send_all(state: &mut AppState, worker: &WorkerHandle, commands: Vec<Command>) {
    for command in commands {
        if !worker.send(command) {
            state.push_error("the worker stopped; restart editscope to run edits");
            break;
        }
    }
}

/// Draws one frame as of `now`: moves the view clock, takes in the log events recorded since
/// the last frame (nothing else moves them, so an idle dashboard never wakes), and renders.
pub fn draw_frame<B>(
    terminal: &mut Terminal<B>,
    state: &mut AppState,
    now: Instant,
) -> anyhow::Result<()>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
{
    state.tick(now, crate::util::now_ms());
    logging::collect();
    terminal
        .draw(|frame| view::draw(frame, state))
        .context("drawing the dashboard")?;
    Ok(())
}

/// Runs the loop until the user quits (or the input ends). Generic over the backend and the
/// event source, so it runs against a `TestBackend` and a scripted stream too.
pub async fn run_loop<B, S>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    mut input: S,
) -> anyhow::Result<()>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    S: Stream<Item = io::Result<Event>> + Unpin,
{
    let mut dirty = true;
    let mut last_draw: Option<Instant> = None;
    let mut input_open = true;
    loop {
        let now = Instant::now();
        let next_frame = last_draw.map_or(now, |t| t + FRAME);
        if dirty && now >= next_frame {
            draw_frame(terminal, &mut app.state, now)?;
            last_draw = Some(now);
            dirty = false;
        }
        if app.state.should_quit {
            return Ok(());
        }
        // Wake for a pending frame, or for the live tick while an edit runs; idle, never.
        let wake = if dirty {
            Some(next_frame.max(now))
        } else if app.state.run_active() {
            Some(last_draw.unwrap_or(now) + LIVE_TICK)
        } else {
            None
        };
        let sleep = tokio::time::sleep_until(tokio::time::Instant::from_std(wake.unwrap_or(now)));
        let worker_alive = app.worker_alive;
        tokio::select! {
            event = input.next(), if input_open => match event {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => {
                    let commands = app.state.apply_key(key);
                    send_all(&mut app.state, &app.worker, commands);
                    dirty = true;
                }
                Some(Ok(Event::Resize(_, _))) => dirty = true,
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e).context("reading terminal events"),
                None => {
                    // No more input can come: leave, as a closed terminal would.
                    input_open = false;
                    app.state.apply_action(super::keys::Action::Quit);
                    send_all(&mut app.state, &app.worker, vec![Command::Cancel]);
                    dirty = true;
                }
            },
            event = app.worker.events.recv(), if worker_alive => {
                match event {
                    Some(event) => {
                        app.state.apply_event(event);
                        while let Ok(more) = app.worker.events.try_recv() {
                            app.state.apply_event(more);
                        }
                    }
                    None => app.worker_gone(),
                }
                dirty = true;
            }
            _ = sleep, if wake.is_some() => {
                if app.state.run_active() {
                    dirty = true;
                }
            }
        }
    }
}

/// Reports a panic of the worker thread in the logs instead of tearing the screen down; any
/// other panic restores the terminal first (ratatui's hook, installed by `try_init`).
fn install_panic_hook() {
    let restore_then_report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() == Some(worker::THREAD_NAME) {
            tracing::error!("the worker panicked: {info}");
        } else {
            restore_then_report(info);
        }
    }));
}

/// Runs the dashboard on the real terminal until the user quits. The terminal is restored on
/// return, on error and on panic.
pub async fn run(
    pipeline: Pipeline,
    project_id: String,
    flags: Flags,
    record_path: Option<std::path::PathBuf>,
    options: worker::WorkerOptions,
) -> anyhow::Result<()> {
    let started = Instant::now();
    logging::init();
    let worker = worker::spawn_with(pipeline, project_id.clone(), options)
        .context("starting the worker thread")?;
    let mut state = AppState::new(&project_id, flags);
    state.record_path = record_path;
    let mut app = App::new(state, worker);
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            ratatui::restore();
            app.shutdown();
            return Err(e).context("setting up the terminal");
        }
    };
    install_panic_hook();
    tracing::info!(
        project = %project_id,
        "dashboard started in {:.1} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    let result = run_loop(&mut terminal, &mut app, EventStream::new()).await;
    ratatui::restore();
    app.shutdown();
    result
}
