//! The screen: picks a layout for the terminal's size and draws the panels, the title bar, the
//! footer (from the key table) and any popup.
//!
//! - below 60x20: one plain line saying so;
//! - below 140 columns (or 32 rows): edit line, stages, cache + flags, and a tabbed bottom area
//!   switching memory / diff / scenes / logs;
//! - from 140x32: every panel at once.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Tabs, Wrap};

use super::format;
use super::keys;
use super::panels;
use super::popups;
use super::state::{AppState, Mode, PanelId};
use super::theme;

pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 20;
pub const WIDE_WIDTH: u16 = 140;
pub const WIDE_HEIGHT: u16 = 32;

/// Draws the whole screen from the state.
pub fn draw(frame: &mut Frame, state: &AppState) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "terminal too small: need at least {MIN_WIDTH}x{MIN_HEIGHT}, have {}x{}",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let [title, edit, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_title(frame, title, state);
    panels::draw(PanelId::Edit, frame, edit, state);
    if area.width >= WIDE_WIDTH && area.height >= WIDE_HEIGHT {
        draw_wide(frame, body, state);
    } else {
        draw_compact(frame, body, state);
    }
    draw_footer(frame, footer, state);
    popups::draw(frame, state);
}

fn draw_compact(frame: &mut Frame, body: Rect, state: &AppState) {
    let [middle, bottom] =
        Layout::vertical([Constraint::Length(10), Constraint::Fill(1)]).areas(body);
    let [stages, right] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(30)]).areas(middle);
    let [cache, flags] =
        Layout::vertical([Constraint::Length(5), Constraint::Fill(1)]).areas(right);
    panels::draw(PanelId::Stages, frame, stages, state);
    panels::draw(PanelId::Cache, frame, cache, state);
    panels::draw(PanelId::Flags, frame, flags, state);

    let [tabs, content] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(bottom);
    let selected = PanelId::TABS
        .iter()
        .position(|p| *p == state.tab)
        .unwrap_or(0);
    let titles: Vec<String> = PanelId::TABS.iter().map(|p| p.name().to_string()).collect();
    frame.render_widget(
        Tabs::new(titles)
            .select(selected)
            .highlight_style(theme::selected())
            .divider("│"),
        tabs,
    );
    panels::draw(state.tab, frame, content, state);
}

fn draw_wide(frame: &mut Frame, body: Rect, state: &AppState) {
    let [top, rest] = Layout::vertical([Constraint::Length(12), Constraint::Fill(1)]).areas(body);
    let [stages, cache, flags] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(44),
        Constraint::Length(34),
    ])
    .areas(top);
    panels::draw(PanelId::Stages, frame, stages, state);
    panels::draw(PanelId::Cache, frame, cache, state);
    panels::draw(PanelId::Flags, frame, flags, state);
    let [upper, logs] = Layout::vertical([Constraint::Fill(1), Constraint::Length(10)]).areas(rest);
    let [memory, diff, scenes] = Layout::horizontal([
        Constraint::Percentage(42),
        Constraint::Percentage(33),
        Constraint::Fill(1),
    ])
    .areas(upper);
    panels::draw(PanelId::Memory, frame, memory, state);
    panels::draw(PanelId::Diff, frame, diff, state);
    panels::draw(PanelId::Scenes, frame, scenes, state);
    panels::draw(PanelId::Logs, frame, logs, state);
}

fn draw_title(frame: &mut Frame, area: Rect, state: &AppState) {
    let mode = match state.mode {
        Mode::Input => "INPUT",
        Mode::Normal => "NORMAL",
        Mode::Filter => "FILTER",
    };
    let backend = if state.backend.is_empty() {
        "starting…".to_string()
    } else {
        state.backend.clone()
    };
    let pending = if state.flags_pending() {
        " (pending)"
    } else {
        ""
    };
    // The mode comes first: when 80 columns cut the line, they cut the flags, not the mode.
    let recording = if state.recording.is_some() {
        Span::styled(" ● REC ", theme::error())
    } else {
        Span::raw("")
    };
    let left = Line::from(vec![
        Span::styled(" editscope ", theme::selected()),
        recording,
        Span::raw(" "),
        Span::styled(mode, theme::heading()),
        Span::raw(format!(
            " · {} · {backend} · flags {}{pending}",
            state.project_id, state.flags
        )),
    ]);
    let right = match &state.live {
        Some(live) => {
            let elapsed = state
                .now
                .saturating_duration_since(live.started)
                .as_secs_f64()
                * 1000.0;
            let stage = live.running_stage().map_or("starting", |s| s.as_str());
            Line::styled(
                format!("● run #{} {stage} {} real ", live.run, format::ms(elapsed)),
                theme::heading(),
            )
        }
        None if state.awaiting_run => Line::styled("● starting ", theme::heading()),
        None => Line::styled(
            format!("idle · {} runs ", state.history.len()),
            theme::dim(),
        ),
    };
    let right_w = right.width() as u16;
    let [l, r] = Layout::horizontal([Constraint::Fill(1), Constraint::Length(right_w)])
        .spacing(1)
        .areas(area);
    frame.render_widget(Paragraph::new(left), l);
    frame.render_widget(Paragraph::new(right.right_aligned()), r);
}

fn draw_footer(frame: &mut Frame, area: Rect, state: &AppState) {
    let hints = keys::footer(&state.key_contexts());
    let mut spans = Vec::with_capacity(hints.len() * 2);
    for (i, hint) in hints.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme::dim()));
        }
        // The key (first word) bold, its meaning plain.
        match hint.split_once(' ') {
            Some((key, what)) => {
                spans.push(Span::styled(key.to_string(), theme::heading()));
                spans.push(Span::raw(format!(" {what}")));
            }
            None => spans.push(Span::raw(hint.to_string())),
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
