//! One file per panel (gitui's components): each draws itself from the state. Keys live in
//! `keys.rs`, what they do in `update.rs`.

pub mod cache;
pub mod diff;
pub mod edit;
pub mod flags;
pub mod logs;
pub mod memory;
pub mod scenes;
pub mod stages;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::state::{AppState, PanelId};

/// The rows of a table to build: those that fit in `fits` lines with row `selected` in view,
/// the window ratatui's table would scroll to (the selection last once it is below the first
/// screenful). Tables build only these: a project can hold thousands of scenes or memory
/// entries, and this runs on every frame.
pub struct TableWindow {
    /// The rows shown, as indices into the whole table.
    pub rows: std::ops::Range<usize>,
    /// The selected row, counted from the first row shown (for the table's state).
    pub selected: usize,
}

impl TableWindow {
    pub fn new(len: usize, selected: usize, fits: usize) -> Self {
        let fits = fits.max(1);
        let selected = selected.min(len.saturating_sub(1));
        let first = (selected + 1).saturating_sub(fits);
        TableWindow {
            rows: first..len.min(first + fits),
            selected: selected - first,
        }
    }
}

/// Draws the panel `id` into `area`.
pub fn draw(id: PanelId, frame: &mut Frame, area: Rect, state: &AppState) {
    let focused = state.focus == id && state.popup.is_none();
    match id {
        PanelId::Edit => edit::draw(frame, area, state, focused),
        PanelId::Stages => stages::draw(frame, area, state, focused),
        PanelId::Cache => cache::draw(frame, area, state, focused),
        PanelId::Flags => flags::draw(frame, area, state, focused),
        PanelId::Memory => memory::draw(frame, area, state, focused),
        PanelId::Diff => diff::draw(frame, area, state, focused),
        PanelId::Scenes => scenes::draw(frame, area, state, focused),
        PanelId::Logs => logs::draw(frame, area, state, focused),
    }
}
