//! `p`: the project picker.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use crate::tui::state::AppState;
use crate::tui::theme;

pub fn draw(frame: &mut Frame, full: Rect, state: &AppState, selected: usize) {
    let area = super::area(frame, full, 80, 60);
    let block = theme::panel(" projects · Enter open · Esc close ", true);
    if state.projects.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("loading projects…", theme::dim())).block(block),
            area,
        );
        return;
    }
    let rows: Vec<Row> = state
        .projects
        .iter()
        .map(|p| {
            let current = p.id == state.project_id;
            Row::new(vec![
                Cell::from(if current { "*" } else { " " }),
                Cell::from(p.id.clone()),
                Cell::from(p.title.clone()),
                Cell::from(format!("{} scenes", p.scenes)),
                Cell::from(format!("{} memory", p.memory_entries)),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(1),
            Constraint::Fill(2),
            Constraint::Fill(3),
            Constraint::Length(13),
            Constraint::Length(12),
        ],
    )
    .header(Row::new(["", "id", "title", "scenes", "memory"]).style(theme::heading()))
    .block(block)
    .row_highlight_style(theme::selected());
    let mut table_state = TableState::default().with_selected(Some(selected));
    frame.render_stateful_widget(table, area, &mut table_state);
}
