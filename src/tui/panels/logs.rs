//! Logs, through tui-logger: everything the program traces (the worker's run summaries, model
//! call failures, cache warnings), filtered by level with `+`/`-`.

use ratatui::Frame;
use ratatui::layout::Rect;
use tui_logger::{TuiLoggerLevelOutput, TuiLoggerWidget};

use crate::tui::state::AppState;
use crate::tui::theme;

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, focused: bool) {
    let title = format!(
        " logs · level {} and above · +/- to change ",
        state.logs.level.as_str().to_uppercase()
    );
    let widget = TuiLoggerWidget::default()
        .block(theme::panel(title, focused))
        .style_error(theme::error())
        .style_warn(theme::warning())
        .style_info(ratatui::style::Style::new())
        .style_debug(theme::dim())
        .style_trace(theme::dim())
        .output_separator(' ')
        .output_timestamp(Some("%H:%M:%S".to_string()))
        .output_level(Some(TuiLoggerLevelOutput::Abbreviated))
        .output_target(false)
        .output_file(false)
        .output_line(false)
        .state(&state.logs.widget);
    frame.render_widget(widget, area);
}
