//! The project's scenes, in order; the last edit's target is marked. Enter shows a scene's code
//! and its last change.
//!
//! A scene is numbered by its position as users count ("scene 1" is the first), never by its
//! stored order key: keys start at 0 in imported projects and keep gaps after a delete.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use crate::tui::format;
use crate::tui::state::AppState;
use crate::tui::theme;

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, focused: bool) {
    let s = &state.scenes;
    let title = format!(" scenes · {} · * = last edit's target ", s.rows.len());
    let block = theme::panel(title, focused);
    if s.rows.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("no scenes in this project", theme::dim())).block(block),
            area,
        );
        return;
    }
    let wide = area.width >= 60;
    let fits = usize::from(block.inner(area).height);
    let window = super::TableWindow::new(s.rows.len(), s.selected, fits);
    let first = window.rows.start;
    let rows: Vec<Row> = s.rows[window.rows]
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let target = s.last_target.as_deref() == Some(r.id.as_str());
            let mut cells = vec![
                Cell::from(if target { "*" } else { " " }),
                Cell::from(format!("{}.", position(first + i))),
                Cell::from(r.name.clone()),
                Cell::from(format!("{} frames", r.duration_frames)),
            ];
            if wide {
                cells.push(Cell::from(match &r.last_change {
                    Some(it) => format!("{}: {}", it.operation, format::one_line(&it.prompt)),
                    None => "—".to_string(),
                }));
            }
            Row::new(cells).style(if target {
                theme::marked()
            } else {
                Style::new()
            })
        })
        .collect();
    // Wide enough for the last position ("10000."), at least the 4 columns of "999.".
    let number_width = (position(s.rows.len() - 1).to_string().len() + 1).max(4);
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(u16::try_from(number_width).unwrap_or(u16::MAX)),
        Constraint::Fill(2),
        Constraint::Length(11),
    ];
    if wide {
        widths.push(Constraint::Fill(3));
    }
    let table = Table::new(rows, widths)
        .block(block)
        .column_spacing(1)
        .row_highlight_style(if focused {
            theme::selected()
        } else {
            theme::heading()
        });
    let mut table_state = TableState::default().with_selected(Some(window.selected));
    frame.render_stateful_widget(table, area, &mut table_state);
}

/// The 1-based position of the scene at `index` of the list (which is in video order).
pub fn position(index: usize) -> usize {
    index + 1
}
