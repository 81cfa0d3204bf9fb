//! Project memory as a table: type, key, value, confidence, source, age. Sortable (`s`, `r`),
//! filterable (`/`), Enter opens an entry in full. Rows the last run wrote carry a `*` and are
//! bold, so they stand out with no colors.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use crate::store::{MemoryEntry, MemoryType};
use crate::tui::format;
use crate::tui::state::{AppState, Mode, SortColumn, memory_label};
use crate::tui::theme;

/// Inner width from which types are written in full.
const FULL_TYPES_FROM: u16 = 100;
/// Inner width from which the source column is shown.
const SOURCE_FROM: u16 = 60;

/// Which optional columns fit.
#[derive(Clone, Copy)]
struct Columns {
    full_types: bool,
    source: bool,
}

fn short_type(t: MemoryType) -> &'static str {
    match t {
        MemoryType::UserPreference => "PREF",
        MemoryType::SceneRelationship => "REL",
        MemoryType::SceneAnalysis => "SCENE",
        MemoryType::ImageAnalysis => "IMAGE",
        MemoryType::ConversationContext => "CONV",
    }
}

fn header_cell(state: &AppState, column: SortColumn, name: &str) -> Cell<'static> {
    if state.memory.sort == column {
        let arrow = if state.memory.descending {
            "▼"
        } else {
            "▲"
        };
        Cell::from(format!("{name}{arrow}")).style(theme::heading())
    } else {
        Cell::from(name.to_string()).style(theme::heading())
    }
}

fn title(state: &AppState, shown: usize) -> String {
    let m = &state.memory;
    let mut t = format!(
        " memory · {shown} of {} · sort {}",
        m.rows.len(),
        m.sort.name()
    );
    if state.mode == Mode::Filter {
        t.push_str(&format!(" · filter /{}▏", m.filter));
    } else if !m.filter.is_empty() {
        t.push_str(&format!(" · filter \"{}\"", m.filter));
    }
    if !m.written_by_last_run.is_empty() {
        t.push_str(" · * = last run");
    }
    t.push(' ');
    t
}

fn row<'a>(state: &AppState, e: &'a MemoryEntry, columns: Columns) -> Row<'a> {
    let written = state.memory.written_by_last_run.contains(&memory_label(e));
    let age = crate::util::human_age(state.now_ms - e.updated_at);
    let mut cells = vec![
        Cell::from(if written { "*" } else { " " }),
        Cell::from(if columns.full_types {
            e.memory_type.as_str()
        } else {
            short_type(e.memory_type)
        }),
        Cell::from(e.key.as_str()),
        Cell::from(format::one_line(&e.value)),
        Cell::from(format!("{:.2}", e.confidence)),
    ];
    if columns.source {
        cells.push(Cell::from(format::one_line(&e.source_prompt)));
    }
    cells.push(Cell::from(age));
    let style = if written {
        theme::marked()
    } else {
        Style::new()
    };
    Row::new(cells).style(style)
}

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, focused: bool) {
    let visible = state.memory.visible();
    let block = theme::panel(title(state, visible.len()), focused);
    if visible.is_empty() {
        let text = if state.memory.rows.is_empty() {
            "no memory entries in this project yet"
        } else {
            "no entry matches the filter (Esc or / then Backspace to change it)"
        };
        frame.render_widget(
            Paragraph::new(Line::styled(text, theme::dim())).block(block),
            area,
        );
        return;
    }
    let inner = area.width.saturating_sub(2);
    let columns = Columns {
        full_types: inner >= FULL_TYPES_FROM,
        source: inner >= SOURCE_FROM,
    };
    let mut header = vec![
        Cell::from(" "),
        header_cell(state, SortColumn::Type, "type"),
        header_cell(state, SortColumn::Key, "key"),
        header_cell(state, SortColumn::Value, "value"),
        header_cell(state, SortColumn::Confidence, "conf"),
    ];
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(if columns.full_types { 20 } else { 5 }),
        Constraint::Fill(2),
        Constraint::Fill(3),
        Constraint::Length(5),
    ];
    if columns.source {
        header.push(header_cell(state, SortColumn::Source, "source"));
        widths.push(Constraint::Fill(3));
    }
    header.push(header_cell(state, SortColumn::Age, "age"));
    widths.push(Constraint::Length(5));
    let header_rows = 1;
    let fits = usize::from(block.inner(area).height.saturating_sub(header_rows));
    let window = super::TableWindow::new(visible.len(), state.memory.selected, fits);
    let rows: Vec<Row> = visible[window.rows]
        .iter()
        .map(|e| row(state, e, columns))
        .collect();
    let table = Table::new(rows, widths)
        .header(Row::new(header))
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
