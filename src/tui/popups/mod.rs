//! Popups: drawn over the panels, centered, each in its own file.

pub mod ab;
pub mod help;
pub mod memory_entry;
pub mod projects;
pub mod scene;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::Clear;

use super::state::{AppState, Popup};

/// A centered area of `percent_w` x `percent_h` of `area`, cleared for the popup.
pub fn area(frame: &mut Frame, area: Rect, percent_w: u16, percent_h: u16) -> Rect {
    let popup = area.centered(
        Constraint::Percentage(percent_w),
        Constraint::Percentage(percent_h),
    );
    frame.render_widget(Clear, popup);
    popup
}

pub fn draw(frame: &mut Frame, state: &AppState) {
    let Some(popup) = &state.popup else {
        return;
    };
    let full = frame.area();
    match popup {
        Popup::Help { scroll } => help::draw(frame, full, *scroll),
        Popup::Projects { selected } => projects::draw(frame, full, state, *selected),
        Popup::MemoryEntry { id, scroll } => memory_entry::draw(frame, full, state, *id, *scroll),
        Popup::Scene { id, scroll } => scene::draw(frame, full, state, id, *scroll),
        Popup::Ab => ab::draw(frame, full, state),
    }
}

/// Clamps a scroll offset to the content.
pub fn clamp_scroll(scroll: u16, lines: usize, height: u16) -> u16 {
    let max = lines.saturating_sub(height as usize) as u16;
    scroll.min(max)
}
