//! The dashboard's state, folded from the worker's events (tokio-console's `state/`): views
//! read it and never fetch; it never draws. Key handling lives in `update.rs`.

use std::collections::{HashSet, VecDeque};
use std::time::Instant;

use tui_logger::{LevelFilter, TuiWidgetState};

use super::stats::{RunHistory, RunSummary};
use super::worker::{PastRun, SceneRow, WorkerEvent};
use crate::context::{BuildPath, CacheCounters, ContextDiff, EngineEvent, Flags};
use crate::pipeline::{Outcome, PipelineEvent, Stage, StageTiming};
use crate::store::{MemoryEntry, ProjectSummary};

/// Contexts larger than this many tokens raise a warning (a typical prompt budget leaves room
/// for the scene code and the answer within a 32k window).
pub const DEFAULT_CONTEXT_BUDGET: usize = 16_000;

/// How many error messages are kept.
const ERRORS_KEPT: usize = 50;

/// The panels, in the order Tab visits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PanelId {
    Edit,
    Stages,
    Cache,
    Flags,
    Memory,
    Diff,
    Scenes,
    Logs,
}

impl PanelId {
    pub const ORDER: [PanelId; 8] = [
        PanelId::Edit,
        PanelId::Stages,
        PanelId::Cache,
        PanelId::Flags,
        PanelId::Memory,
        PanelId::Diff,
        PanelId::Scenes,
        PanelId::Logs,
    ];

    /// The panels that share the tabbed bottom area on a small terminal.
    pub const TABS: [PanelId; 4] = [
        PanelId::Memory,
        PanelId::Diff,
        PanelId::Scenes,
        PanelId::Logs,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PanelId::Edit => "edit",
            PanelId::Stages => "stages",
            PanelId::Cache => "cache",
            PanelId::Flags => "flags",
            PanelId::Memory => "memory",
            PanelId::Diff => "diff",
            PanelId::Scenes => "scenes",
            PanelId::Logs => "logs",
        }
    }

    pub fn is_tab(self) -> bool {
        PanelId::TABS.contains(&self)
    }

    fn step(self, forward: bool) -> PanelId {
        let n = PanelId::ORDER.len();
        let i = PanelId::ORDER.iter().position(|p| *p == self).unwrap_or(0);
        let j = if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        };
        PanelId::ORDER[j]
    }

    pub fn next(self) -> PanelId {
        self.step(true)
    }

    pub fn prev(self) -> PanelId {
        self.step(false)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PopupKind {
    Help,
    Projects,
    MemoryEntry,
    Scene,
    Ab,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Popup {
    Help { scroll: u16 },
    Projects { selected: usize },
    MemoryEntry { id: i64, scroll: u16 },
    Scene { id: String, scroll: u16 },
    Ab,
}

impl Popup {
    pub fn kind(&self) -> PopupKind {
        match self {
            Popup::Help { .. } => PopupKind::Help,
            Popup::Projects { .. } => PopupKind::Projects,
            Popup::MemoryEntry { .. } => PopupKind::MemoryEntry,
            Popup::Scene { .. } => PopupKind::Scene,
            Popup::Ab => PopupKind::Ab,
        }
    }
}

/// Who gets the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The prompt input: printable keys type (the start).
    Input,
    /// Single keys act on flags, panels and popups.
    Normal,
    /// Typing the memory filter.
    Filter,
}

/// The prompt line, with a cursor (in characters) and a history of submitted prompts.
#[derive(Debug, Clone, Default)]
pub struct InputLine {
    pub text: String,
    pub cursor: usize,
    pub history: Vec<String>,
    history_pos: Option<usize>,
    draft: String,
}

impl InputLine {
    fn byte_index(&self, char_index: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_index)
            .map_or(self.text.len(), |(i, _)| i)
    }

    pub fn len(&self) -> usize {
        self.text.chars().count()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn insert(&mut self, c: char) {
        let at = self.byte_index(self.cursor);
        self.text.insert(at, c);
        self.cursor += 1;
    }

    pub fn backspace(&mut self) {
        if self.cursor > 0 {
            self.cursor -= 1;
            let at = self.byte_index(self.cursor);
            self.text.remove(at);
        }
    }

    pub fn delete(&mut self) {
        if self.cursor < self.len() {
            let at = self.byte_index(self.cursor);
            self.text.remove(at);
        }
    }

    pub fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    pub fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.len());
    }

    pub fn home(&mut self) {
        self.cursor = 0;
    }

    pub fn end(&mut self) {
        self.cursor = self.len();
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.cursor = 0;
        self.history_pos = None;
    }

    pub fn set(&mut self, text: &str) {
        self.text = text.to_string();
        self.cursor = self.len();
    }

    /// Takes the typed prompt, remembering it in the history.
    pub fn submit(&mut self) -> String {
        let text = self.text.trim().to_string();
        if !text.is_empty() && self.history.last() != Some(&text) {
            self.history.push(text.clone());
        }
        self.clear();
        self.draft.clear();
        text
    }

    pub fn history_prev(&mut self) {
        if self.history.is_empty() {
            return;
        }
        let pos = match self.history_pos {
            None => {
                self.draft = self.text.clone();
                self.history.len() - 1
            }
            Some(p) => p.saturating_sub(1),
        };
        self.history_pos = Some(pos);
        let text = self.history[pos].clone();
        self.set(&text);
    }

    pub fn history_next(&mut self) {
        let Some(pos) = self.history_pos else {
            return;
        };
        if pos + 1 < self.history.len() {
            self.history_pos = Some(pos + 1);
            let text = self.history[pos + 1].clone();
            self.set(&text);
        } else {
            self.history_pos = None;
            let draft = std::mem::take(&mut self.draft);
            self.set(&draft);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    Info,
    Busy,
    Ok,
    Error,
}

/// The edit panel's one-line status.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub kind: StatusKind,
    pub text: String,
}

/// A stage of the running edit.
#[derive(Debug, Clone)]
pub struct LiveStage {
    pub stage: Stage,
    pub started: Instant,
    pub timing: Option<StageTiming>,
}

/// The edit that is running now.
#[derive(Debug, Clone)]
pub struct LiveRun {
    pub run: u64,
    pub prompt: String,
    pub flags: Flags,
    pub started: Instant,
    pub stages: Vec<LiveStage>,
    pub cancelling: bool,
}

impl LiveRun {
    /// The stage that started and has not finished.
    pub fn running_stage(&self) -> Option<Stage> {
        self.stages
            .iter()
            .rev()
            .find(|s| s.timing.is_none())
            .map(|s| s.stage)
    }
}

/// The last context build as the engine reported it, and what shadow verification found.
#[derive(Debug, Clone, Default)]
pub struct CacheView {
    pub run: Option<u64>,
    pub path: Option<BuildPath>,
    /// The engine's cumulative counters after the last build.
    pub counters: CacheCounters,
    pub build_us: Option<u64>,
    pub tokens: Option<usize>,
    pub events: Vec<EngineEvent>,
    /// Every difference shadow verification found this session, newest last.
    pub shadow_findings: Vec<String>,
    /// The share of reused contexts the engine verifies (`--shadow-rate`).
    pub shadow_rate: f64,
    /// What the provider's cache saw on the last run: where its last prompt first differed
    /// from the previous one of that stage, and the cached tokens of that call.
    pub prefix: Option<PrefixView>,
}

/// The last model call's prefix as a provider's prompt cache sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PrefixView {
    pub stage: crate::pipeline::Stage,
    pub divergence: Option<crate::pipeline::PrefixDivergence>,
    pub cached_tokens: u64,
    pub input_tokens: u64,
}

/// The diff between the contexts of the last two requests.
#[derive(Debug, Clone, Default)]
pub struct DiffView {
    pub run: Option<u64>,
    pub diff: Option<ContextDiff>,
    pub scroll: u16,
}

/// Memory table columns, in the order `s` cycles through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    Type,
    Key,
    Value,
    Confidence,
    Source,
    Age,
}

impl SortColumn {
    pub const ALL: [SortColumn; 6] = [
        SortColumn::Type,
        SortColumn::Key,
        SortColumn::Value,
        SortColumn::Confidence,
        SortColumn::Source,
        SortColumn::Age,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SortColumn::Type => "type",
            SortColumn::Key => "key",
            SortColumn::Value => "value",
            SortColumn::Confidence => "confidence",
            SortColumn::Source => "source",
            SortColumn::Age => "age",
        }
    }

    pub fn next(self) -> SortColumn {
        let i = SortColumn::ALL.iter().position(|c| *c == self).unwrap_or(0);
        SortColumn::ALL[(i + 1) % SortColumn::ALL.len()]
    }
}

/// `TYPE/key`: how runs name the memory entries they wrote.
pub fn memory_label(entry: &MemoryEntry) -> String {
    format!("{}/{}", entry.memory_type.as_str(), entry.key)
}

#[derive(Debug, Clone)]
pub struct MemoryView {
    pub rows: Vec<MemoryEntry>,
    pub filter: String,
    pub sort: SortColumn,
    pub descending: bool,
    /// Index into the visible (filtered, sorted) rows.
    pub selected: usize,
    /// `TYPE/key` of the entries the last run wrote.
    pub written_by_last_run: HashSet<String>,
}

impl Default for MemoryView {
    fn default() -> Self {
        MemoryView {
            rows: Vec::new(),
            filter: String::new(),
            sort: SortColumn::Type,
            descending: false,
            selected: 0,
            written_by_last_run: HashSet::new(),
        }
    }
}

impl MemoryView {
    /// The rows the filter keeps, in the chosen order.
    pub fn visible(&self) -> Vec<&MemoryEntry> {
        let needle = self.filter.to_lowercase();
        let mut rows: Vec<&MemoryEntry> = self
            .rows
            .iter()
            .filter(|e| {
                needle.is_empty()
                    || e.memory_type.as_str().to_lowercase().contains(&needle)
                    || e.key.to_lowercase().contains(&needle)
                    || e.value.to_lowercase().contains(&needle)
                    || e.source_prompt.to_lowercase().contains(&needle)
            })
            .collect();
        rows.sort_by(|a, b| {
            let order = match self.sort {
                SortColumn::Type => a.memory_type.cmp(&b.memory_type).then(a.key.cmp(&b.key)),
                SortColumn::Key => a.key.cmp(&b.key),
                SortColumn::Value => a.value.cmp(&b.value),
                SortColumn::Confidence => a.confidence.total_cmp(&b.confidence),
                SortColumn::Source => a.source_prompt.cmp(&b.source_prompt),
                // Youngest first reads naturally for "age ascending".
                SortColumn::Age => b.updated_at.cmp(&a.updated_at),
            };
            if self.descending {
                order.reverse()
            } else {
                order
            }
        });
        rows
    }

    pub fn selected_entry(&self) -> Option<&MemoryEntry> {
        self.visible().get(self.selected).copied()
    }

    pub fn clamp(&mut self) {
        let n = self.visible().len();
        self.selected = self.selected.min(n.saturating_sub(1));
    }

    pub fn move_selection(&mut self, delta: isize) {
        let n = self.visible().len();
        self.selected = move_index(self.selected, delta, n);
    }
}

pub(crate) fn move_index(current: usize, delta: isize, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    (current as isize + delta).clamp(0, len as isize - 1) as usize
}

#[derive(Debug, Clone, Default)]
pub struct ScenesView {
    pub rows: Vec<SceneRow>,
    pub selected: usize,
    /// The scene the last applied edit targeted.
    pub last_target: Option<String>,
}

/// The logs panel: tui-logger's widget state and the level shown.
pub struct LogsView {
    pub widget: TuiWidgetState,
    pub level: LevelFilter,
}

impl Default for LogsView {
    fn default() -> Self {
        LogsView {
            widget: TuiWidgetState::new().set_default_display_level(LevelFilter::Info),
            level: LevelFilter::Info,
        }
    }
}

impl LogsView {
    pub fn set_level(&mut self, level: LevelFilter) {
        self.level = level;
        // tui-logger's builder takes the state by value.
        self.widget = std::mem::take(&mut self.widget).set_default_display_level(level);
    }
}

/// An A/B comparison: the last run of this session (A) and a dry run of its prompt under the
/// other preset (B), from the revision and backend state A started at.
#[derive(Debug, Clone)]
pub struct AbPair {
    pub a: RunSummary,
    pub b_flags: Flags,
    pub b_run: Option<u64>,
    pub b: Option<RunSummary>,
    /// What the worker found when B ended.
    pub verdict: Option<AbVerdict>,
}

/// Whether A and B decided the same and left identical code.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AbVerdict {
    pub start_revision: i64,
    pub same_decision: bool,
    /// `None` when A's resulting scenes are no longer known (written over since).
    pub same_code: Option<bool>,
}

/// Everything the dashboard shows.
pub struct AppState {
    pub project_id: String,
    /// The model backend's name, as the worker reported it.
    pub backend: String,
    pub projects: Vec<ProjectSummary>,
    pub worker_ready: bool,

    pub mode: Mode,
    pub focus: PanelId,
    /// The tab shown in the bottom area of a small terminal.
    pub tab: PanelId,
    pub popup: Option<Popup>,
    pub input: InputLine,
    pub status: Status,
    pub should_quit: bool,

    /// The flags the next edit uses (sent to the worker on every change).
    pub flags: Flags,
    /// The flags the worker confirmed.
    pub engine_flags: Flags,
    pub flag_cursor: usize,

    pub live: Option<LiveRun>,
    /// An edit was sent and its `RunStarted` has not arrived yet.
    pub awaiting_run: bool,
    pub history: RunHistory,
    pub ab: Option<AbPair>,
    /// The session file the worker records runs to, while it records.
    pub recording: Option<std::path::PathBuf>,
    /// Where Ctrl+R records (`tui --record FILE`); `None`: a new file in the current folder.
    pub record_path: Option<std::path::PathBuf>,

    pub cache: CacheView,
    pub diff: DiffView,
    pub memory: MemoryView,
    pub scenes: ScenesView,
    pub logs: LogsView,
    pub errors: VecDeque<String>,
    pub context_budget: usize,

    /// The clock views use (set by `tick`, so a test renders the same frame every time).
    pub now: Instant,
    /// Wall-clock time in Unix ms, for memory ages.
    pub now_ms: i64,
}

impl AppState {
    pub fn new(project_id: &str, flags: Flags) -> Self {
        AppState {
            project_id: project_id.to_string(),
            backend: String::new(),
            projects: Vec::new(),
            worker_ready: false,
            mode: Mode::Input,
            focus: PanelId::Edit,
            tab: PanelId::Memory,
            popup: None,
            input: InputLine::default(),
            status: Status {
                kind: StatusKind::Info,
                text: "type an edit and press Enter; Esc for single-key mode, F1 for help".into(),
            },
            should_quit: false,
            flags,
            engine_flags: flags,
            flag_cursor: 0,
            live: None,
            awaiting_run: false,
            history: RunHistory::default(),
            ab: None,
            recording: None,
            record_path: None,
            cache: CacheView::default(),
            diff: DiffView::default(),
            memory: MemoryView::default(),
            scenes: ScenesView::default(),
            logs: LogsView::default(),
            errors: VecDeque::new(),
            context_budget: DEFAULT_CONTEXT_BUDGET,
            now: Instant::now(),
            now_ms: crate::util::now_ms(),
        }
    }

    /// Moves the view clock (monotonic and wall).
    pub fn tick(&mut self, now: Instant, now_ms: i64) {
        self.now = self.now.max(now);
        self.now_ms = now_ms;
    }

    /// An edit is running or about to start.
    pub fn run_active(&self) -> bool {
        self.live.is_some() || self.awaiting_run
    }

    /// The flags differ from those of the last run: the change is pending until the next edit.
    pub fn flags_pending(&self) -> bool {
        match self.history.last().and_then(|r| r.flags) {
            Some(used) => used != self.flags,
            None => false,
        }
    }

    pub fn set_status(&mut self, kind: StatusKind, text: impl Into<String>) {
        self.status = Status {
            kind,
            text: text.into(),
        };
    }

    pub fn push_error(&mut self, message: impl Into<String>) {
        let message = message.into();
        self.set_status(StatusKind::Error, message.clone());
        if self.errors.len() == ERRORS_KEPT {
            self.errors.pop_front();
        }
        self.errors.push_back(message);
    }

    /// Folds one worker event in, timing stage starts by the wall clock now.
    pub fn apply_event(&mut self, event: WorkerEvent) {
        self.apply_event_at(event, Instant::now());
    }

    /// Folds one worker event in, as if it arrived at `now`.
    pub fn apply_event_at(&mut self, event: WorkerEvent, now: Instant) {
        self.now = self.now.max(now);
        match event {
            WorkerEvent::Ready {
                project_id,
                flags,
                backend,
                shadow_rate,
            } => {
                self.project_id = project_id;
                self.engine_flags = flags;
                self.backend = backend;
                self.cache.shadow_rate = shadow_rate;
                self.worker_ready = true;
            }
            WorkerEvent::Pipeline(event) => self.apply_pipeline(event, now),
            WorkerEvent::Memory(rows) => {
                self.memory.rows = rows;
                self.memory.clamp();
            }
            WorkerEvent::Scenes(rows) => {
                self.scenes.rows = rows;
                self.scenes.selected = self
                    .scenes
                    .selected
                    .min(self.scenes.rows.len().saturating_sub(1));
            }
            WorkerEvent::Projects(projects) => {
                self.projects = projects;
                if let Some(Popup::Projects { selected }) = &mut self.popup {
                    *selected = (*selected).min(self.projects.len().saturating_sub(1));
                }
            }
            WorkerEvent::History(runs) => {
                self.history = RunHistory::default();
                for run in runs {
                    self.history.record(past_run_summary(run));
                }
            }
            WorkerEvent::ProjectSwitched(id) => {
                self.set_status(StatusKind::Info, format!("project {id} opened"));
                self.project_id = id;
                self.cache = CacheView::default();
                self.diff = DiffView::default();
                self.ab = None;
                self.scenes = ScenesView::default();
                self.memory.rows.clear();
                self.memory.selected = 0;
                self.memory.written_by_last_run.clear();
            }
            WorkerEvent::FlagsApplied(flags) => self.engine_flags = flags,
            WorkerEvent::Recording(path) => {
                match (&path, &self.recording) {
                    (Some(p), _) => self
                        .set_status(StatusKind::Ok, format!("recording runs to {}", p.display())),
                    (None, Some(p)) => self.set_status(
                        StatusKind::Ok,
                        format!(
                            "recording stopped; replay with `editscope replay {}`",
                            p.display()
                        ),
                    ),
                    (None, None) => {}
                }
                self.recording = path;
            }
            WorkerEvent::Compared {
                b_run,
                start_revision,
                same_decision,
                same_code,
            } => {
                if let Some(ab) = self.ab.as_mut().filter(|ab| ab.b_run == Some(b_run)) {
                    ab.verdict = Some(AbVerdict {
                        start_revision,
                        same_decision,
                        same_code,
                    });
                }
            }
            WorkerEvent::Error(message) => self.push_error(message),
        }
    }

    fn apply_pipeline(&mut self, event: PipelineEvent, now: Instant) {
        match event {
            PipelineEvent::RunStarted {
                run, prompt, flags, ..
            } => {
                self.awaiting_run = false;
                if let Some(ab) = &mut self.ab
                    && ab.b_run.is_none()
                    && ab.b.is_none()
                {
                    ab.b_run = Some(run);
                }
                self.set_status(StatusKind::Busy, format!("run #{run} ({flags}): {prompt}"));
                self.live = Some(LiveRun {
                    run,
                    prompt,
                    flags,
                    started: now,
                    stages: Vec::new(),
                    cancelling: false,
                });
            }
            PipelineEvent::StageStarted { run, stage } => {
                if let Some(live) = self.live.as_mut().filter(|l| l.run == run) {
                    live.stages.push(LiveStage {
                        stage,
                        started: now,
                        timing: None,
                    });
                }
            }
            PipelineEvent::StageFinished { run, timing } => {
                if let Some(live) = self.live.as_mut().filter(|l| l.run == run) {
                    match live.stages.iter_mut().find(|s| s.stage == timing.name) {
                        Some(stage) => stage.timing = Some(timing),
                        // A stage with nothing to do (no code edit) reports only its end.
                        None => live.stages.push(LiveStage {
                            stage: timing.name,
                            started: now,
                            timing: Some(timing),
                        }),
                    }
                }
            }
            PipelineEvent::Cache {
                run,
                path,
                counters,
                build_us,
                tokens,
                engine_events,
                ..
            } => {
                for e in &engine_events {
                    if let EngineEvent::ShadowMismatch { path, sections } = e {
                        self.cache.shadow_findings.push(format!(
                            "run #{run}: shadow verification found a difference in {} ({} context)",
                            sections.join(", "),
                            path.as_str()
                        ));
                    }
                }
                self.cache.run = Some(run);
                self.cache.path = Some(path);
                self.cache.counters = counters;
                self.cache.build_us = Some(build_us);
                self.cache.tokens = Some(tokens);
                self.cache.events = engine_events;
            }
            PipelineEvent::ContextDiff { run, diff } => {
                self.diff = DiffView {
                    run: Some(run),
                    diff: Some(*diff),
                    scroll: 0,
                };
            }
            // Memory writes arrive with the run's result (`memory_written`) as well.
            PipelineEvent::MemoryWrite { .. } => {}
            // Model calls arrive with the run's result (`model_calls`) as well.
            PipelineEvent::ModelCall { .. } => {}
            PipelineEvent::Log { level, message, .. } => {
                if level == "error" {
                    if self.errors.len() == ERRORS_KEPT {
                        self.errors.pop_front();
                    }
                    self.errors.push_back(message);
                }
            }
            PipelineEvent::RunFinished { run, result } => {
                let live = self.live.take().filter(|l| l.run == run);
                let failed_stage = if result.outcome == Outcome::Failed {
                    live.as_ref().and_then(LiveRun::running_stage)
                } else {
                    None
                };
                let mut summary = RunSummary::from_result(run, &result, failed_stage);
                if let Some(live) = &live {
                    summary.flags = Some(live.flags);
                }
                let total = super::format::ms(summary.total().0);
                let source = summary.total().1.label();
                match result.outcome {
                    Outcome::Applied => self.set_status(
                        StatusKind::Ok,
                        format!("run #{run} applied in {total} {source}: {}", result.summary),
                    ),
                    Outcome::Clarification => self.set_status(
                        StatusKind::Info,
                        format!("run #{run} asks: {}", result.summary),
                    ),
                    Outcome::Failed if summary.cancelled() => self.set_status(
                        StatusKind::Info,
                        format!("run #{run} cancelled; nothing was changed"),
                    ),
                    Outcome::Failed => self.push_error(format!(
                        "run #{run} failed: {}",
                        result.error.as_deref().unwrap_or("unknown error")
                    )),
                }
                if let Some(ab) = &mut self.ab
                    && ab.b_run == Some(run)
                {
                    ab.b = Some(summary.clone());
                    if self.popup.is_none() {
                        self.popup = Some(Popup::Ab);
                    }
                }
                // A comparison run changed nothing and ran under another preset: it shows in
                // the A/B popup, not in the project's panels or the timing history.
                if !result.comparison {
                    if let Some(call) = result.model_calls.last() {
                        self.cache.prefix = Some(PrefixView {
                            stage: call.stage,
                            divergence: call.prefix_divergence.clone(),
                            cached_tokens: call.cached_tokens,
                            input_tokens: call.input_tokens,
                        });
                    }
                    self.memory.written_by_last_run =
                        result.memory_written.iter().cloned().collect();
                    if result.outcome == Outcome::Applied {
                        self.scenes.last_target = result.target_scene_id.clone();
                    }
                    self.history.record(summary);
                }
            }
        }
    }
}

fn past_run_summary(run: PastRun) -> RunSummary {
    RunSummary {
        run: None,
        prompt: run.prompt,
        flags: run.flags,
        outcome: run.outcome,
        stages: run.stages,
        failed_stage: None,
        tokens: None,
        context_path: None,
        summary: String::new(),
        error: run.error,
        target_scene_id: None,
        tool: None,
        model_calls: Vec::new(),
        comparison: false,
        start_revision: None,
    }
}
