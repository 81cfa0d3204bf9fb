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
