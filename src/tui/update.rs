//! Keys to actions to state changes and worker commands. The key table (`keys.rs`) says which
//! action a key is; this file says what each action does.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tui_logger::{LevelFilter, TuiWidgetEvent};

use super::keys::{self, Action, KeyContext};
use super::state::{AbPair, AppState, Mode, PanelId, Popup, StatusKind, move_index};
use super::worker::Command;
use crate::context::{FLAG_NAMES, Flags};

/// Rows a page key moves.
const PAGE: isize = 10;

impl AppState {
    /// The contexts the next key is looked up in, most specific first.
    pub fn key_contexts(&self) -> Vec<KeyContext> {
        if let Some(popup) = &self.popup {
            return vec![
                KeyContext::PopupOf(popup.kind()),
                KeyContext::Popup,
                KeyContext::Anywhere,
            ];
        }
        match self.mode {
            Mode::Input => vec![KeyContext::Input, KeyContext::Anywhere],
            Mode::Filter => vec![KeyContext::Filter, KeyContext::Anywhere],
            Mode::Normal => vec![
                KeyContext::Panel(self.focus),
                KeyContext::Normal,
                KeyContext::Anywhere,
            ],
        }
    }

    /// Handles one key; returns what the worker must be told.
    pub fn apply_key(&mut self, key: KeyEvent) -> Vec<Command> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        let contexts = self.key_contexts();
        if let Some(action) = keys::lookup(&contexts, &key) {
            return self.apply_action(action);
        }
        // Unbound printable keys type, where typing means something.
        let typing = !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        if let (KeyCode::Char(c), true, None) = (key.code, typing, &self.popup) {
            match self.mode {
                Mode::Input => self.input.insert(c),
                Mode::Filter => {
                    self.memory.filter.push(c);
                    self.memory.selected = 0;
                }
                Mode::Normal => {}
            }
        }
        Vec::new()
    }

    /// Performs one action.
    pub fn apply_action(&mut self, action: Action) -> Vec<Command> {
        match action {
            Action::Quit | Action::ForceQuit => {
                self.should_quit = true;
                if self.run_active() {
                    return vec![Command::Cancel];
                }
            }
            Action::Help => self.popup = Some(Popup::Help { scroll: 0 }),
            Action::EnterInput => {
                self.mode = Mode::Input;
                self.focus = PanelId::Edit;
            }
            Action::NextPanel => self.focus_panel(self.focus.next()),
            Action::PrevPanel => self.focus_panel(self.focus.prev()),
            Action::ToggleFlag(i) => return self.toggle_flag(i),
            Action::ToggleSelectedFlag => return self.toggle_flag(self.flag_cursor),
            Action::PresetLegacy => return self.set_flags(Flags::LEGACY, "legacy preset"),
            Action::PresetOptimized => return self.set_flags(Flags::OPTIMIZED, "optimized preset"),
            Action::ProjectPicker => {
                let selected = self
                    .projects
                    .iter()
                    .position(|p| p.id == self.project_id)
                    .unwrap_or(0);
                self.popup = Some(Popup::Projects { selected });
                return vec![Command::ListProjects];
            }
            Action::AbCompare => return self.start_ab(),
            Action::ToggleRecording => return self.toggle_recording(),
            Action::ShowAb => {
                if self.ab.is_some() {
                    self.popup = Some(Popup::Ab);
                } else {
                    self.set_status(
                        StatusKind::Info,
                        "no A/B comparison yet: after a run, press b",
                    );
                }
            }
            Action::CancelRun => return self.cancel_run(),
            Action::Refresh => {
                return vec![
                    Command::RefreshMemory,
                    Command::RefreshScenes,
                    Command::ListProjects,
                ];
            }
            Action::Submit => return self.submit(),
            Action::InputEscape => {
                if self.run_active() {
                    return self.cancel_run();
                }
                self.mode = Mode::Normal;
            }
            Action::HistoryPrev => self.input.history_prev(),
            Action::HistoryNext => self.input.history_next(),
            Action::CursorLeft => self.input.left(),
            Action::CursorRight => self.input.right(),
            Action::CursorHome => self.input.home(),
            Action::CursorEnd => self.input.end(),
            Action::Backspace => match self.mode {
                Mode::Filter => {
                    self.memory.filter.pop();
                    self.memory.selected = 0;
                }
                _ => self.input.backspace(),
            },
            Action::Delete => self.input.delete(),
            Action::ClearInput => self.input.clear(),
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.page(-1),
            Action::PageDown => self.page(1),
            Action::Top => self.diff.scroll = 0,
            Action::Open => return self.open(),
            Action::SortNext => {
                self.memory.sort = self.memory.sort.next();
                self.memory.selected = 0;
            }
            Action::SortReverse => {
                self.memory.descending = !self.memory.descending;
                self.memory.selected = 0;
            }
            Action::StartFilter => {
                self.mode = Mode::Filter;
                self.focus_panel(PanelId::Memory);
            }
            Action::FilterDone => self.mode = Mode::Normal,
            Action::FilterClear => {
                self.memory.filter.clear();
                self.memory.selected = 0;
                self.mode = Mode::Normal;
            }
            Action::LevelMore => self.logs.set_level(more_detail(self.logs.level)),
            Action::LevelLess => self.logs.set_level(less_detail(self.logs.level)),
            Action::LogsTail => self.logs.widget.transition(TuiWidgetEvent::EscapeKey),
            Action::ClosePopup => self.popup = None,
        }
        Vec::new()
    }

    fn focus_panel(&mut self, panel: PanelId) {
        self.focus = panel;
        if panel.is_tab() {
            self.tab = panel;
        }
    }

    fn submit(&mut self) -> Vec<Command> {
        if self.run_active() {
            self.set_status(
                StatusKind::Info,
                "an edit is running; Esc cancels it, or wait for it to finish",
            );
            return Vec::new();
        }
        let prompt = self.input.submit();
        if let Err(e) = crate::pipeline::check_prompt(&prompt) {
            self.set_status(StatusKind::Error, e.to_string());
            return Vec::new();
        }
        if prompt.is_empty() {
            self.set_status(
                StatusKind::Info,
                "type an edit first, e.g. \"make the title blue in scene 2\"",
            );
            return Vec::new();
        }
        self.awaiting_run = true;
        self.set_status(StatusKind::Busy, format!("starting: {prompt}"));
        vec![Command::RunEdit {
            prompt,
            flags: None,
        }]
    }

    fn cancel_run(&mut self) -> Vec<Command> {
        if !self.run_active() {
            return Vec::new();
        }
        if let Some(live) = &mut self.live {
            live.cancelling = true;
        }
        self.set_status(StatusKind::Busy, "cancelling; nothing will be written");
        vec![Command::Cancel]
    }

    fn toggle_flag(&mut self, index: usize) -> Vec<Command> {
        let Some(name) = FLAG_NAMES.get(index) else {
            return Vec::new();
        };
        let mut flags = self.flags;
        match flags.toggle(name) {
            Ok(on) => {
                self.flag_cursor = index;
                let what = format!("{name} {}", if on { "on" } else { "off" });
                self.set_flags(flags, &what)
            }
            Err(e) => {
                self.push_error(e.to_string());
                Vec::new()
            }
        }
    }

    fn set_flags(&mut self, flags: Flags, what: &str) -> Vec<Command> {
        self.flags = flags;
        self.set_status(
            StatusKind::Info,
            format!("{what}: flags now {flags}; changes apply to the next edit"),
        );
        vec![Command::SetFlags(flags)]
    }

    fn toggle_recording(&mut self) -> Vec<Command> {
        if self.recording.is_some() {
            self.set_status(StatusKind::Info, "stopping the recording…");
            return vec![Command::StopRecording];
        }
        let path = self.record_path.clone().unwrap_or_else(|| {
            std::path::PathBuf::from(format!(
                "editscope-{}-{}.jsonl",
                self.project_id,
                crate::util::now_ms() / 1000
            ))
        });
        self.set_status(
            StatusKind::Info,
            format!("recording to {}…", path.display()),
        );
        vec![Command::StartRecording(path)]
    }

    fn start_ab(&mut self) -> Vec<Command> {
        if self.run_active() {
            self.set_status(
                StatusKind::Info,
                "an edit is running; A/B waits for it to end",
            );
            return Vec::new();
        }
        // A is the last run of this session: where it started is kept for a dry run from there.
        let Some(last) = self.history.last().filter(|r| r.run.is_some()).cloned() else {
            self.set_status(
                StatusKind::Info,
                "no run of this session to compare yet: run an edit first",
            );
            return Vec::new();
        };
        let Some(a_run) = last.run else {
            return Vec::new();
        };
        // The other preset: an optimized run is compared with legacy, anything else with
        // optimized.
        let b_flags = if last.flags == Some(Flags::OPTIMIZED) {
            Flags::LEGACY
        } else {
            Flags::OPTIMIZED
        };
        self.set_status(
            StatusKind::Busy,
            format!(
                "A/B: dry run of \"{}\" with {b_flags} from where run #{a_run} started",
                last.prompt
            ),
        );
        self.ab = Some(AbPair {
            a: last,
            b_flags,
            b_run: None,
            b: None,
            verdict: None,
        });
        self.awaiting_run = true;
        vec![Command::Compare {
            run: a_run,
            flags: b_flags,
        }]
    }

    fn open(&mut self) -> Vec<Command> {
        if let Some(Popup::Projects { selected }) = &self.popup {
            let Some(project) = self.projects.get(*selected) else {
                return Vec::new();
            };
            if self.run_active() {
                self.set_status(
                    StatusKind::Info,
                    "an edit is running; switch projects after it ends",
                );
                return Vec::new();
            }
            let id = project.id.clone();
            self.popup = None;
            if id == self.project_id {
                return Vec::new();
            }
            return vec![Command::SwitchProject(id)];
        }
        match self.focus {
            PanelId::Memory => {
                if let Some(entry) = self.memory.selected_entry() {
                    self.popup = Some(Popup::MemoryEntry {
                        id: entry.id,
                        scroll: 0,
                    });
                }
            }
            PanelId::Scenes => {
                if let Some(scene) = self.scenes.rows.get(self.scenes.selected) {
                    self.popup = Some(Popup::Scene {
                        id: scene.id.clone(),
                        scroll: 0,
                    });
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn move_by(&mut self, delta: isize) {
        if let Some(popup) = &mut self.popup {
            match popup {
                Popup::Projects { selected } => {
                    *selected = move_index(*selected, delta, self.projects.len());
                }
                Popup::Help { scroll }
                | Popup::MemoryEntry { scroll, .. }
                | Popup::Scene { scroll, .. } => *scroll = scroll_by(*scroll, delta),
                Popup::Ab => {}
            }
            return;
        }
        match self.focus {
            PanelId::Memory => self.memory.move_selection(delta),
            PanelId::Scenes => {
                self.scenes.selected =
                    move_index(self.scenes.selected, delta, self.scenes.rows.len());
            }
            PanelId::Diff => self.diff.scroll = scroll_by(self.diff.scroll, delta),
            PanelId::Flags => {
                self.flag_cursor = move_index(self.flag_cursor, delta, FLAG_NAMES.len());
            }
            _ => {}
        }
    }

    fn page(&mut self, direction: isize) {
        if self.popup.is_none() && self.focus == PanelId::Logs {
            self.logs.widget.transition(if direction < 0 {
                TuiWidgetEvent::PrevPageKey
            } else {
                TuiWidgetEvent::NextPageKey
            });
            return;
        }
        self.move_by(direction * PAGE);
    }
}

fn scroll_by(scroll: u16, delta: isize) -> u16 {
    (scroll as isize + delta).clamp(0, u16::MAX as isize) as u16
}

fn more_detail(level: LevelFilter) -> LevelFilter {
    match level {
        LevelFilter::Off => LevelFilter::Error,
        LevelFilter::Error => LevelFilter::Warn,
        LevelFilter::Warn => LevelFilter::Info,
        LevelFilter::Info => LevelFilter::Debug,
        LevelFilter::Debug | LevelFilter::Trace => LevelFilter::Trace,
    }
}

fn less_detail(level: LevelFilter) -> LevelFilter {
    match level {
        LevelFilter::Trace => LevelFilter::Debug,
        LevelFilter::Debug => LevelFilter::Info,
        LevelFilter::Info => LevelFilter::Warn,
        LevelFilter::Warn | LevelFilter::Error | LevelFilter::Off => LevelFilter::Error,
    }
}
