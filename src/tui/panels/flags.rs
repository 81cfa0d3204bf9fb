//! The six optimization flags: keys 1-6 toggle them, `L`/`O` apply a preset. A change applies
//! to the next edit; the panel says so, and says when the flags differ from the last run's.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::context::{FLAG_NAMES, Flags};
use crate::tui::state::AppState;
use crate::tui::theme;

/// Short names for the two-column form of a small terminal.
const SHORT: [&str; 6] = ["memory", "cache", "lazy", "incr", "parallel", "relevant"];

fn mark(on: bool) -> &'static str {
    if on { "[x]" } else { "[ ]" }
}

fn preset(flags: Flags) -> &'static str {
    if flags == Flags::LEGACY {
        "legacy"
    } else if flags == Flags::OPTIMIZED {
        "optimized"
    } else {
        "custom"
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, focused: bool) {
    let pending = state.flags_pending();
    let title = if pending {
        Line::styled(" flags · PENDING: next edit ", theme::marked())
    } else {
        Line::raw(" flags · apply to next edit ")
    };
    let block = theme::panel(title, focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let style_for = |i: usize| {
        if focused && state.flag_cursor == i {
            theme::selected()
        } else {
            ratatui::style::Style::new()
        }
    };
    let on = |i: usize| state.flags.get(FLAG_NAMES[i]).unwrap_or(false);
    let mut lines: Vec<Line> = Vec::new();
    if inner.height < 6 {
        // Two columns of three: 1-3 left, 4-6 right.
        for row in 0..3 {
            let (a, b) = (row, row + 3);
            lines.push(Line::from(vec![
                Span::styled(
                    format!("{}{}{:<9}", a + 1, mark(on(a)), SHORT[a]),
                    style_for(a),
                ),
                Span::raw(" "),
                Span::styled(
                    format!("{}{}{}", b + 1, mark(on(b)), SHORT[b]),
                    style_for(b),
                ),
            ]));
        }
    } else {
        for (i, name) in FLAG_NAMES.iter().enumerate() {
            lines.push(Line::styled(
                format!("{} {} {name}", i + 1, mark(on(i))),
                style_for(i),
            ));
        }
        lines.push(Line::raw(format!(
            "preset {} · L legacy · O optimized",
            preset(state.flags)
        )));
        lines.push(Line::styled("changes apply to the next edit", theme::dim()));
        if pending && let Some(used) = state.history.last().and_then(|r| r.flags) {
            lines.push(Line::styled(
                format!("pending · last run {used}"),
                theme::marked(),
            ));
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
