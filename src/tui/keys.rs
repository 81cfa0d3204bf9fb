//! Every key binding of the dashboard, defined once as data (gitui's model): the key handler
//! looks keys up here, and the help popup and the footer are rendered from the same table, so
//! what the screen says is what the keys do.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::state::{PanelId, PopupKind};

/// Where a binding applies. Lookup tries the most specific context first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyContext {
    /// The prompt input has focus (the start): printable keys type.
    Input,
    /// After Esc: single keys act.
    Normal,
    /// Normal mode with this panel selected.
    Panel(PanelId),
    /// Typing the memory filter after `/`.
    Filter,
    /// Any popup is open.
    Popup,
    /// This popup is open.
    PopupOf(PopupKind),
    /// Everywhere.
    Anywhere,
}

impl KeyContext {
    /// The heading of this context's keys in the help popup.
    pub fn title(self) -> &'static str {
        match self {
            KeyContext::Input => "Prompt input (focused at start)",
            KeyContext::Normal => "Normal mode (after Esc)",
            KeyContext::Panel(PanelId::Edit) => "Edit panel",
            KeyContext::Panel(PanelId::Stages) => "Stages panel",
            KeyContext::Panel(PanelId::Cache) => "Cache panel",
            KeyContext::Panel(PanelId::Flags) => "Flags panel",
            KeyContext::Panel(PanelId::Memory) => "Memory panel",
            KeyContext::Panel(PanelId::Diff) => "Context diff panel",
            KeyContext::Panel(PanelId::Scenes) => "Scenes panel",
            KeyContext::Panel(PanelId::Logs) => "Logs panel",
            KeyContext::Filter => "Memory filter (after /)",
            KeyContext::Popup => "Any popup",
            KeyContext::PopupOf(PopupKind::Projects) => "Project picker",
            KeyContext::PopupOf(_) => "This popup",
            KeyContext::Anywhere => "Anywhere",
        }
    }
}

/// What a key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    ForceQuit,
    Help,
    EnterInput,
    NextPanel,
    PrevPanel,
    ToggleFlag(usize),
    PresetLegacy,
    PresetOptimized,
    ProjectPicker,
    AbCompare,
    ShowAb,
    /// Ctrl+R: start or stop recording the session's runs to a session file.
    ToggleRecording,
    /// Esc in normal mode: cancels a running edit.
    CancelRun,
    Refresh,
    // The prompt input.
    Submit,
    /// Esc in the prompt: cancels a running edit, else leaves the prompt.
    InputEscape,
    HistoryPrev,
    HistoryNext,
    CursorLeft,
    CursorRight,
    CursorHome,
    CursorEnd,
    Backspace,
    Delete,
    ClearInput,
    // Panels and popups.
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Open,
    SortNext,
    SortReverse,
    StartFilter,
    FilterDone,
    FilterClear,
    LevelMore,
    LevelLess,
    LogsTail,
    ToggleSelectedFlag,
    ClosePopup,
}

/// One binding: a key in a context, its action, how help names it, and its footer hint.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
    pub context: KeyContext,
    pub action: Action,
    /// The key as help shows it.
    pub label: &'static str,
    pub help: &'static str,
    /// The footer hint, when this binding is worth one.
    pub footer: Option<&'static str>,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;

const fn bind(
    context: KeyContext,
    code: KeyCode,
    modifiers: KeyModifiers,
    label: &'static str,
    action: Action,
    help: &'static str,
    footer: Option<&'static str>,
) -> Binding {
    Binding {
        code,
        modifiers,
        context,
        action,
        label,
        help,
        footer,
    }
}

use Action as A;
use KeyCode as K;
use KeyContext as C;

const MEMORY: KeyContext = C::Panel(PanelId::Memory);
const SCENES: KeyContext = C::Panel(PanelId::Scenes);
const DIFF: KeyContext = C::Panel(PanelId::Diff);
const LOGS: KeyContext = C::Panel(PanelId::Logs);
const FLAGS: KeyContext = C::Panel(PanelId::Flags);
const EDIT: KeyContext = C::Panel(PanelId::Edit);
const PROJECTS: KeyContext = C::PopupOf(PopupKind::Projects);

/// The table. Order matters twice: lookup takes the first match in a context, and help lists
/// the bindings in this order.
pub static BINDINGS: &[Binding] = &[
    // The prompt input.
    bind(
        C::Input,
        K::Enter,
        NONE,
        "Enter",
        A::Submit,
        "run the edit typed in the prompt",
        Some("Enter run"),
    ),
    bind(
        C::Input,
        K::Esc,
        NONE,
        "Esc",
        A::InputEscape,
        "cancel the running edit (nothing is written); with no edit running, leave the prompt for normal mode",
        Some("Esc cancel run / leave prompt"),
    ),
    bind(
        C::Input,
        K::Up,
        NONE,
        "Up",
        A::HistoryPrev,
        "previous prompt from history",
        Some("↑↓ history"),
    ),
    bind(
        C::Input,
        K::Down,
        NONE,
        "Down",
        A::HistoryNext,
        "next prompt from history",
        None,
    ),
    bind(
        C::Input,
        K::Left,
        NONE,
        "Left",
        A::CursorLeft,
        "move the cursor left",
        None,
    ),
    bind(
        C::Input,
        K::Right,
        NONE,
        "Right",
        A::CursorRight,
        "move the cursor right",
        None,
    ),
    bind(
        C::Input,
        K::Home,
        NONE,
        "Home",
        A::CursorHome,
        "cursor to the start",
        None,
    ),
    bind(
        C::Input,
        K::End,
        NONE,
        "End",
        A::CursorEnd,
        "cursor to the end",
        None,
    ),
    bind(
        C::Input,
        K::Backspace,
        NONE,
        "Backspace",
        A::Backspace,
        "delete before the cursor",
        None,
    ),
    bind(
        C::Input,
        K::Delete,
        NONE,
        "Delete",
        A::Delete,
        "delete under the cursor",
        None,
    ),
    bind(
        C::Input,
        K::Char('u'),
        CTRL,
        "Ctrl-U",
        A::ClearInput,
        "clear the prompt",
        None,
    ),
    // Normal mode.
    bind(
        C::Normal,
        K::Char('i'),
        NONE,
        "i",
        A::EnterInput,
        "back to the prompt input",
        Some("i prompt"),
    ),
    bind(
        C::Normal,
        K::Char('q'),
        NONE,
        "q",
        A::Quit,
        "quit (a running edit is cancelled first; nothing is written)",
        Some("q quit"),
    ),
    bind(
        C::Normal,
        K::Char('?'),
        NONE,
        "?",
        A::Help,
        "show every key",
        Some("? help"),
    ),
    bind(
        C::Normal,
        K::Tab,
        NONE,
        "Tab",
        A::NextPanel,
        "select the next panel",
        Some("Tab/←→ panel"),
    ),
    bind(
        C::Normal,
        K::BackTab,
        NONE,
        "Shift-Tab",
        A::PrevPanel,
        "select the previous panel",
        None,
    ),
    bind(
        C::Normal,
        K::Right,
        NONE,
        "Right",
        A::NextPanel,
        "select the next panel",
        None,
    ),
    bind(
        C::Normal,
        K::Left,
        NONE,
        "Left",
        A::PrevPanel,
        "select the previous panel",
        None,
    ),
    bind(
        C::Normal,
        K::Char('1'),
        NONE,
        "1",
        A::ToggleFlag(0),
        "toggle flag memory (applies to the next edit)",
        Some("1-6 flags"),
    ),
    bind(
        C::Normal,
        K::Char('2'),
        NONE,
        "2",
        A::ToggleFlag(1),
        "toggle flag cache (applies to the next edit)",
        None,
    ),
    bind(
        C::Normal,
        K::Char('3'),
        NONE,
        "3",
        A::ToggleFlag(2),
        "toggle flag lazy (applies to the next edit)",
        None,
    ),
    bind(
        C::Normal,
        K::Char('4'),
        NONE,
        "4",
        A::ToggleFlag(3),
        "toggle flag incremental (applies to the next edit)",
        None,
    ),
    bind(
        C::Normal,
        K::Char('5'),
        NONE,
        "5",
        A::ToggleFlag(4),
        "toggle flag parallel (applies to the next edit)",
        None,
    ),
    bind(
        C::Normal,
        K::Char('6'),
        NONE,
        "6",
        A::ToggleFlag(5),
        "toggle flag relevant (applies to the next edit)",
        None,
    ),
    bind(
        C::Normal,
        K::Char('L'),
        NONE,
        "L",
        A::PresetLegacy,
        "legacy preset: every flag off",
        Some("L/O presets"),
    ),
    bind(
        C::Normal,
        K::Char('O'),
        NONE,
        "O",
        A::PresetOptimized,
        "optimized preset: every flag on",
        None,
    ),
    bind(
        C::Normal,
        K::Char('p'),
        NONE,
        "p",
        A::ProjectPicker,
        "pick another project",
        Some("p project"),
    ),
    bind(
        C::Normal,
        K::Char('b'),
        NONE,
        "b",
        A::AbCompare,
        "A/B: a dry run of the last prompt under the other preset (legacy <-> optimized) from where the last run started, compared with it",
        Some("b A/B"),
    ),
    bind(
        C::Normal,
        K::Char('a'),
        NONE,
        "a",
        A::ShowAb,
        "show the last A/B comparison again",
        None,
    ),
    bind(
        C::Normal,
        K::Esc,
        NONE,
        "Esc",
        A::CancelRun,
        "cancel the running edit (nothing is written)",
        None,
    ),
    bind(
        C::Normal,
        K::Char('R'),
        NONE,
        "R",
        A::Refresh,
        "reload memory, scenes and projects from the database",
        None,
    ),
    // Panels (normal mode, panel selected).
    bind(
        EDIT,
        K::Enter,
        NONE,
        "Enter",
        A::EnterInput,
        "type an edit",
        None,
    ),
    bind(FLAGS, K::Up, NONE, "Up", A::Up, "previous flag", None),
    bind(FLAGS, K::Down, NONE, "Down", A::Down, "next flag", None),
    bind(
        FLAGS,
        K::Char(' '),
        NONE,
        "Space",
        A::ToggleSelectedFlag,
        "toggle the selected flag",
        Some("Space toggle"),
    ),
    bind(
        FLAGS,
        K::Enter,
        NONE,
        "Enter",
        A::ToggleSelectedFlag,
        "toggle the selected flag",
        None,
    ),
    bind(
        MEMORY,
        K::Up,
        NONE,
        "Up",
        A::Up,
        "previous entry",
        Some("↑↓ select"),
    ),
    bind(MEMORY, K::Down, NONE, "Down", A::Down, "next entry", None),
    bind(
        MEMORY,
        K::PageUp,
        NONE,
        "PgUp",
        A::PageUp,
        "a page up",
        None,
    ),
    bind(
        MEMORY,
        K::PageDown,
        NONE,
        "PgDn",
        A::PageDown,
        "a page down",
        None,
    ),
    bind(
        MEMORY,
        K::Enter,
        NONE,
        "Enter",
        A::Open,
        "show the selected entry in full",
        Some("Enter open"),
    ),
    bind(
        MEMORY,
        K::Char('/'),
        NONE,
        "/",
        A::StartFilter,
        "filter entries by type, key, value or source",
        Some("/ filter"),
    ),
    bind(
        MEMORY,
        K::Char('s'),
        NONE,
        "s",
        A::SortNext,
        "sort by the next column",
        Some("s sort"),
    ),
    bind(
        MEMORY,
        K::Char('r'),
        NONE,
        "r",
        A::SortReverse,
        "reverse the sort order",
        None,
    ),
    bind(
        SCENES,
        K::Up,
        NONE,
        "Up",
        A::Up,
        "previous scene",
        Some("↑↓ select"),
    ),
    bind(SCENES, K::Down, NONE, "Down", A::Down, "next scene", None),
    bind(
        SCENES,
        K::Enter,
        NONE,
        "Enter",
        A::Open,
        "show the scene's code and its last change",
        Some("Enter code"),
    ),
    bind(
        DIFF,
        K::Up,
        NONE,
        "Up",
        A::Up,
        "scroll up",
        Some("↑↓ PgUp/PgDn scroll"),
    ),
    bind(DIFF, K::Down, NONE, "Down", A::Down, "scroll down", None),
    bind(DIFF, K::PageUp, NONE, "PgUp", A::PageUp, "a page up", None),
    bind(
        DIFF,
        K::PageDown,
        NONE,
        "PgDn",
        A::PageDown,
        "a page down",
        None,
    ),
    bind(DIFF, K::Home, NONE, "Home", A::Top, "back to the top", None),
    bind(
        LOGS,
        K::Char('+'),
        NONE,
        "+",
        A::LevelMore,
        "show more detail (one level lower)",
        Some("+/- level"),
    ),
    bind(
        LOGS,
        K::Char('-'),
        NONE,
        "-",
        A::LevelLess,
        "show less detail (one level higher)",
        None,
    ),
    bind(
        LOGS,
        K::PageUp,
        NONE,
        "PgUp",
        A::PageUp,
        "scroll back (pauses following new lines)",
        Some("PgUp/PgDn/End scroll"),
    ),
    bind(
        LOGS,
        K::PageDown,
        NONE,
        "PgDn",
        A::PageDown,
        "scroll forward",
        None,
    ),
    bind(
        LOGS,
        K::End,
        NONE,
        "End",
        A::LogsTail,
        "follow new lines again",
        None,
    ),
    // The memory filter.
    bind(
        C::Filter,
        K::Enter,
        NONE,
        "Enter",
        A::FilterDone,
        "keep the filter and stop typing",
        Some("Enter keep"),
    ),
    bind(
        C::Filter,
        K::Esc,
        NONE,
        "Esc",
        A::FilterClear,
        "clear the filter and stop typing",
        Some("Esc clear"),
    ),
    bind(
        C::Filter,
        K::Backspace,
        NONE,
        "Backspace",
        A::Backspace,
        "delete the last character",
        None,
    ),
    // Popups.
    bind(
        PROJECTS,
        K::Enter,
        NONE,
        "Enter",
        A::Open,
        "open the selected project",
        Some("Enter open"),
    ),
    bind(
        C::Popup,
        K::Esc,
        NONE,
        "Esc",
        A::ClosePopup,
        "close the popup",
        Some("Esc close"),
    ),
    bind(
        C::Popup,
        K::Char('q'),
        NONE,
        "q",
        A::ClosePopup,
        "close the popup",
        None,
    ),
    bind(
        C::Popup,
        K::Up,
        NONE,
        "Up",
        A::Up,
        "up",
        Some("↑↓ PgUp/PgDn move"),
    ),
    bind(C::Popup, K::Down, NONE, "Down", A::Down, "down", None),
    bind(
        C::Popup,
        K::PageUp,
        NONE,
        "PgUp",
        A::PageUp,
        "a page up",
        None,
    ),
    bind(
        C::Popup,
        K::PageDown,
        NONE,
        "PgDn",
        A::PageDown,
        "a page down",
        None,
    ),
    // Everywhere.
    bind(
        C::Anywhere,
        K::Char('r'),
        CTRL,
        "Ctrl-R",
        A::ToggleRecording,
        "start or stop recording this session's runs to a session file (replay it with `editscope replay`)",
        Some("^R record"),
    ),
    bind(
        C::Anywhere,
        K::Char('c'),
        CTRL,
        "Ctrl-C",
        A::ForceQuit,
        "quit from anywhere (a running edit is cancelled first)",
        None,
    ),
    bind(
        C::Anywhere,
        K::F(1),
        NONE,
        "F1",
        A::Help,
        "show every key",
        Some("F1 help"),
    ),
];

/// How Esc behaves, for the help popup: the one key whose meaning depends on what is going on.
pub const ESC_RULES: &[&str] = &[
    "Esc, in order: closes an open popup; clears the memory filter while typing it;",
    "cancels a running edit (the database is left as it was); otherwise leaves the",
    "prompt for normal mode. In normal mode, i returns to the prompt.",
];

/// Crossterm reports Shift with upper-case letters and symbols; the table names the character.
fn normalize(key: &KeyEvent) -> (KeyCode, KeyModifiers) {
    match key.code {
        KeyCode::Char(_) | KeyCode::BackTab => {
            (key.code, key.modifiers.difference(KeyModifiers::SHIFT))
        }
        code => (code, key.modifiers),
    }
}

/// The action of `key` in the first of `contexts` that binds it.
pub fn lookup(contexts: &[KeyContext], key: &KeyEvent) -> Option<Action> {
    let (code, modifiers) = normalize(key);
    contexts.iter().find_map(|ctx| {
        BINDINGS
            .iter()
            .find(|b| b.context == *ctx && b.code == code && b.modifiers == modifiers)
            .map(|b| b.action)
    })
}

/// Footer hints of the given contexts, most specific first, each hint once.
pub fn footer(contexts: &[KeyContext]) -> Vec<&'static str> {
    let mut hints: Vec<&'static str> = Vec::new();
    for ctx in contexts {
        for b in BINDINGS.iter().filter(|b| b.context == *ctx) {
            if let Some(hint) = b.footer
                && !hints.contains(&hint)
            {
                hints.push(hint);
            }
        }
    }
    hints
}

/// The contexts in help order, each with its bindings.
pub fn help_sections() -> Vec<(KeyContext, Vec<&'static Binding>)> {
    let mut sections: Vec<(KeyContext, Vec<&'static Binding>)> = Vec::new();
    for b in BINDINGS {
        match sections.iter_mut().find(|(ctx, _)| *ctx == b.context) {
            Some((_, list)) => list.push(b),
            None => sections.push((b.context, vec![b])),
        }
    }
    sections
}
