//! Enter on a memory row: the entry in full.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::tui::state::{AppState, memory_label};
use crate::tui::theme;

pub fn draw(frame: &mut Frame, full: Rect, state: &AppState, id: i64, scroll: u16) {
    let area = super::area(frame, full, 80, 70);
    let Some(e) = state.memory.rows.iter().find(|e| e.id == id) else {
        let block = theme::panel(" memory entry ", true);
        frame.render_widget(
            Paragraph::new("this entry is no longer in memory").block(block),
            area,
        );
        return;
    };
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{name:<12}"), theme::heading()),
            Span::raw(value),
        ])
    };
    let written = state.memory.written_by_last_run.contains(&memory_label(e));
    let mut lines = vec![
        field("type", e.memory_type.as_str().to_string()),
        field("key", e.key.clone()),
        field("confidence", format!("{:.2}", e.confidence)),
        field(
            "updated",
            format!(
                "{} ago",
                crate::util::human_age(state.now_ms - e.updated_at)
            ),
        ),
        field(
            "created",
            format!(
                "{} ago",
                crate::util::human_age(state.now_ms - e.created_at)
            ),
        ),
        field("source", e.source_prompt.clone()),
    ];
    if written {
        lines.push(Line::styled("* written by the last run", theme::marked()));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("value", theme::heading()));
    lines.extend(e.value.lines().map(|l| Line::raw(l.to_string())));
    let scroll = super::clamp_scroll(scroll, lines.len(), area.height.saturating_sub(2));
    let block = theme::panel(" memory entry · ↑↓ scroll · Esc close ", true);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        area,
    );
}
