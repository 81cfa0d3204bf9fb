//! `?`: every key, from the key table, grouped by where it applies, with the Esc rules first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::keys;
use crate::tui::theme;

/// The help text (also used by tests to check every binding is listed).
pub fn lines() -> Vec<Line<'static>> {
    let mut out: Vec<Line<'static>> = keys::ESC_RULES
        .iter()
        .map(|l| Line::styled(*l, theme::marked()))
        .collect();
    for (context, bindings) in keys::help_sections() {
        out.push(Line::raw(""));
        out.push(Line::styled(context.title(), theme::heading()));
        for b in bindings {
            out.push(Line::from(vec![
                Span::styled(format!("  {:<10}", b.label), theme::heading()),
                Span::raw(b.help),
            ]));
        }
    }
    out
}

pub fn draw(frame: &mut Frame, full: Rect, scroll: u16) {
    let area = super::area(frame, full, 90, 90);
    let all = lines();
    let scroll = super::clamp_scroll(scroll, all.len(), area.height.saturating_sub(2));
    let block = theme::panel(" keys · ↑↓ PgUp/PgDn scroll · Esc close ", true);
    frame.render_widget(Paragraph::new(all).block(block).scroll((scroll, 0)), area);
}
