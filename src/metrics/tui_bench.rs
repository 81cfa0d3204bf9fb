//! `editscope bench --tui`: the dashboard's own figures, taken on its real code paths (the
//! store, the worker thread, the app state, the view and the event loop), drawn into ratatui's
//! `TestBackend` instead of a terminal:
//!
//! - time to first frame, and to the first frame that shows the project's scenes and memory;
//! - resident memory with that project open;
//! - render time per frame with many memory entries and log lines;
//! - CPU while idle: the event loop left alone for a while, as a share of one core.
//!
//! Figures are printed, never asserted.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde::Serialize;

use super::Distribution;
use crate::context::{ContextEngine, EngineOptions, Flags};
use crate::llm::offline::OfflineBackend;
use crate::pipeline::Pipeline;
use crate::store::{MemoryEntry, MemoryType, Store};
use crate::tui::{self, App, AppState, PanelId, worker};

#[derive(Debug, Clone)]
pub struct TuiBenchConfig {
    pub scenes: usize,
    pub memory_entries: usize,
    pub log_lines: usize,
    pub frames: usize,
    pub idle: Duration,
    pub seed: u64,
}

/// Render time of one screen size with one panel in focus.
#[derive(Debug, Clone, Serialize)]
pub struct RenderFigure {
    pub width: u16,
    pub height: u16,
    pub panel: String,
    pub p50_us: u64,
    pub p95_us: u64,
}

/// `bench --tui --json`.
#[derive(Debug, Clone, Serialize)]
pub struct TuiBenchReport {
    pub scenes: usize,
    pub memory_entries: usize,
    pub log_lines: usize,
    /// From opening the database to the first frame drawn.
    pub first_frame_ms: f64,
    /// From opening the database to the first frame with the project's scenes and memory.
    pub first_project_frame_ms: f64,
    /// Resident memory with the project open (`VmRSS`), KiB; None off Linux.
    pub rss_kib: Option<u64>,
    /// Peak resident memory of the whole measurement (`VmHWM`), KiB.
    pub peak_rss_kib: Option<u64>,
    pub render: Vec<RenderFigure>,
    /// CPU time over wall time while the event loop idles, in percent of one core.
    pub idle_cpu_percent: Option<f64>,
    pub idle_seconds: f64,
}

pub fn run(config: &TuiBenchConfig) -> anyhow::Result<TuiBenchReport> {
    tui::logging::init();
    let dir = tempfile::tempdir()?;
    let spec = super::bench::project_spec(config.scenes, config.seed);
    let project = crate::fixtures::generate::generate_project(&spec);
    drop(super::bench::fresh_db(
        dir.path(),
        "tui-bench.db",
        &project,
    )?);
    let db = dir.path().join("tui-bench.db");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;

    // As `editscope tui` starts: open the store, make the pipeline, start the worker, draw.
    let started = Instant::now();
    let store = Store::open(&db)?;
    let pipeline = Pipeline::new(
        store,
        ContextEngine::new(Flags::OPTIMIZED, EngineOptions::default()),
        Box::new(OfflineBackend::new(0.0)),
    );
    let worker =
        worker::spawn(pipeline, spec.project_id.clone()).context("starting the worker thread")?;
    let mut app = App::new(AppState::new(&spec.project_id, Flags::OPTIMIZED), worker);
    let mut terminal = Terminal::new(TestBackend::new(160, 48))?;
    draw(&mut terminal, &mut app.state)?;
    let first_frame_ms = ms_since(started);
    runtime.block_on(async {
        while app.state.scenes.rows.len() < config.scenes {
            anyhow::ensure!(
                app.next_worker_event().await,
                "the worker stopped before the project was loaded"
            );
        }
        Ok(())
    })?;
    draw(&mut terminal, &mut app.state)?;
    let first_project_frame_ms = ms_since(started);
    let rss_kib = proc_status_kib("VmRSS");

    let idle = runtime.block_on(idle_cpu(&mut terminal, &mut app, config.idle))?;

    app.state
        .apply_event(worker::WorkerEvent::Memory(memory_entries(
            config.memory_entries,
        )));
    for i in 0..config.log_lines {
        tracing::info!(target: "editscope::bench", "bench log line {i} of {}", config.log_lines);
        // tui-logger's hot buffer holds ~1,000 events: move them before it overflows.
        if i % 500 == 499 {
            tui::logging::collect();
        }
    }
    let mut render = Vec::new();
    for (width, height) in [(160, 48), (80, 24)] {
        for panel in [PanelId::Memory, PanelId::Logs, PanelId::Scenes] {
            render.push(render_figure(
                &mut app.state,
                width,
                height,
                panel,
                config.frames,
            )?);
        }
    }
    let peak_rss_kib = proc_status_kib("VmHWM");
    app.shutdown();
    Ok(TuiBenchReport {
        scenes: config.scenes,
        memory_entries: config.memory_entries,
        log_lines: config.log_lines,
        first_frame_ms,
        first_project_frame_ms,
        rss_kib,
        peak_rss_kib,
        render,
        idle_cpu_percent: idle,
        idle_seconds: config.idle.as_secs_f64(),
    })
}

fn draw(terminal: &mut Terminal<TestBackend>, state: &mut AppState) -> anyhow::Result<()> {
    tui::app::draw_frame(terminal, state, Instant::now())
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn render_figure(
    state: &mut AppState,
    width: u16,
    height: u16,
    panel: PanelId,
    frames: usize,
) -> anyhow::Result<RenderFigure> {
    state.focus = panel;
    let mut terminal = Terminal::new(TestBackend::new(width, height))?;
    let mut times = Distribution::new();
    for _ in 0..frames.max(1) {
        let t = Instant::now();
        draw(&mut terminal, state)?;
        times.record(t.elapsed().as_micros() as u64);
    }
    Ok(RenderFigure {
        width,
        height,
        panel: panel.name().to_string(),
        p50_us: times.p50(),
        p95_us: times.p95(),
    })
}

/// Runs the real event loop with no input for `duration` and reports the process's CPU time
/// over that wall time (all threads: the loop and the worker).
async fn idle_cpu(
    terminal: &mut Terminal<TestBackend>,
    app: &mut App,
    duration: Duration,
) -> anyhow::Result<Option<f64>> {
    let before = process_cpu_time();
    let wall = Instant::now();
    let input = futures::stream::pending::<std::io::Result<crossterm::event::Event>>();
    match tokio::time::timeout(duration, tui::app::run_loop(terminal, app, input)).await {
        // The loop never ends by itself without input: the timeout is the expected way out.
        Err(_elapsed) => {}
        Ok(result) => result.context("the idle event loop")?,
    }
    let elapsed = wall.elapsed().as_secs_f64();
    Ok(match (before, process_cpu_time()) {
        (Some(a), Some(b)) if elapsed > 0.0 => {
            Some((b.saturating_sub(a)).as_secs_f64() / elapsed * 100.0)
        }
        _ => None,
    })
}

fn memory_entries(count: usize) -> Vec<MemoryEntry> {
    let now = crate::util::now_ms();
    (0..count)
        .map(|i| MemoryEntry {
            id: 1_000_000 + i as i64,
            project_id: "bench".into(),
            memory_type: MemoryType::ALL[i % MemoryType::ALL.len()],
            key: format!("bench_key_{i:05}"),
            value: format!("value number {i}, a few words long like a real preference"),
            confidence: (i % 100) as f64 / 100.0,
            source_prompt: format!("bench request {i}"),
            created_at: now - i as i64 * 60_000,
            updated_at: now - i as i64 * 30_000,
        })
        .collect()
}

/// CPU time (user + system) of the whole process so far.
// pub for the unit tests in tests/it/unit; not API.
#[doc(hidden)]
pub fn process_cpu_time() -> Option<Duration> {
    // /proc/self/stat: fields 14 and 15 (utime, stime) in clock ticks, counted after the
    // command name, which is in parentheses and may itself contain spaces.
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_secs_f64(
        (utime + stime) as f64 / CLOCK_TICKS_PER_SECOND,
    ))
}

/// `sysconf(_SC_CLK_TCK)`: 100 on every Linux that ships (the kernel's USER_HZ).
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

/// A `kB` field of /proc/self/status (`VmRSS`, `VmHWM`).
// pub for the unit tests in tests/it/unit; not API.
#[doc(hidden)]
pub fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().trim_end_matches("kB").trim().parse().ok()
    })
}
