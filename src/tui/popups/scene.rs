//! Enter on a scene: its last change (as a diff) and its code.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::tui::panels::diff::unified_lines;
use crate::tui::state::AppState;
use crate::tui::theme;

pub fn draw(frame: &mut Frame, full: Rect, state: &AppState, id: &str, scroll: u16) {
    let area = super::area(frame, full, 90, 90);
    let Some((index, scene)) = state
        .scenes
        .rows
        .iter()
        .enumerate()
        .find(|(_, s)| s.id == id)
    else {
        frame.render_widget(
            Paragraph::new("this scene is no longer in the project")
                .block(theme::panel(" scene ", true)),
            area,
        );
        return;
    };
    let mut lines: Vec<Line> = vec![Line::styled(
        format!(
            "{}. {} ({}) · {} frames",
            crate::tui::panels::scenes::position(index),
            scene.name,
            scene.id,
            scene.duration_frames
        ),
        theme::heading(),
    )];
    match &scene.last_change {
        Some(it) => {
            lines.push(Line::raw(format!(
                "last change: {} by {} · \"{}\"",
                it.operation, it.model, it.prompt
            )));
            let before = it.code_before.as_deref().unwrap_or("");
            let after = it.code_after.as_deref().unwrap_or("");
            let diff = similar::TextDiff::from_lines(before, after)
                .unified_diff()
                .context_radius(2)
                .header("before", "after")
                .to_string();
            lines.extend(unified_lines(&diff));
        }
        None => lines.push(Line::styled("no recorded change", theme::dim())),
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("code", theme::heading()));
    lines.extend(
        scene
            .code
            .lines()
            .enumerate()
            .map(|(i, l)| Line::raw(format!("{:>4} {l}", i + 1))),
    );
    let scroll = super::clamp_scroll(scroll, lines.len(), area.height.saturating_sub(2));
    let block = theme::panel(" scene · ↑↓ PgUp/PgDn scroll · Esc close ", true);
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), area);
}
