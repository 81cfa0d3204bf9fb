//! The prompt input, with the run's status in its bottom border.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::state::{AppState, Mode, StatusKind};
use crate::tui::theme;

const PROMPT: &str = "> ";
const PLACEHOLDER: &str = "describe an edit, e.g. make the title blue in scene 2";

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, focused: bool) {
    let typing = state.mode == Mode::Input && state.popup.is_none();
    let title = if typing {
        " edit · typing (Enter runs · Esc cancels a run or leaves) "
    } else {
        " edit · press i to type "
    };
    let (marker, style) = match state.status.kind {
        StatusKind::Info => ("", theme::dim()),
        StatusKind::Busy => ("… ", theme::heading()),
        StatusKind::Ok => ("✓ ", theme::ok()),
        StatusKind::Error => ("✗ ", theme::error()),
    };
    let status = Line::from(Span::styled(
        format!(" {marker}{} ", state.status.text),
        style,
    ));
    let block = theme::panel(title, focused || typing).title_bottom(status);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width <= PROMPT.len() as u16 || inner.height == 0 {
        return;
    }

    let width = inner.width as usize - PROMPT.len();
    let chars: Vec<char> = state.input.text.chars().collect();
    let cursor = state.input.cursor.min(chars.len());
    // Scroll horizontally so the cursor stays in view.
    let start = (cursor + 1).saturating_sub(width);
    let end = (start + width).min(chars.len());
    let mut spans = vec![Span::styled(PROMPT, theme::heading())];
    if chars.is_empty() && typing {
        spans.push(Span::styled(" ", theme::selected()));
        spans.push(Span::styled(PLACEHOLDER, theme::dim()));
    } else if chars.is_empty() {
        spans.push(Span::styled(PLACEHOLDER, theme::dim()));
    } else {
        let before: String = chars[start..cursor].iter().collect();
        spans.push(Span::raw(before));
        if typing {
            // The cursor cell, drawn reversed so buffer tests (and NO_COLOR terminals) see it.
            let at: String = chars.get(cursor).map_or(" ".to_string(), |c| c.to_string());
            spans.push(Span::styled(at, theme::selected()));
            if cursor < end {
                let after: String = chars[cursor + 1..end].iter().collect();
                spans.push(Span::raw(after));
            }
        } else {
            let after: String = chars[cursor..end].iter().collect();
            spans.push(Span::raw(after));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), inner);
    if typing {
        let x = inner.x + PROMPT.len() as u16 + (cursor - start) as u16;
        frame.set_cursor_position(Position::new(
            x.min(inner.right().saturating_sub(1)),
            inner.y,
        ));
    }
}
