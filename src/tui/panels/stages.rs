//! Stage timings: the current run as a live waterfall (each bar grows while its stage runs),
//! the last runs' totals as a sparkline, p50/p95 per stage and the change from the previous
//! run. Modeled (simulated) time and wall-clock (real) time are drawn with different glyphs
//! and always labelled.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};

use crate::pipeline::{Outcome, Stage};
use crate::tui::format::{self, fit, fit_right};
use crate::tui::state::AppState;
use crate::tui::stats::{RunSummary, Source, stage_time};
use crate::tui::theme;

/// Runs shown in the sparkline.
pub const SPARKLINE_RUNS: usize = 40;
/// Inner width from which p50/p95 and the change get their own columns.
const WIDE: u16 = 76;
const NAME_W: usize = 15;
const TIME_W: usize = 15;

pub const REAL_GLYPH: char = '█';
pub const SIM_GLYPH: char = '▒';

#[derive(Debug, Clone, Copy, PartialEq)]
enum RowState {
    Done,
    Running,
    Failed,
    Cancelled,
    Waiting,
    NotRun,
}

#[derive(Debug, Clone, Copy)]
struct Row {
    stage: Stage,
    offset_ms: f64,
    ms: f64,
    source: Source,
    state: RowState,
}

/// The rows of the run on screen: the live one, else the last finished one.
fn rows(state: &AppState) -> (Vec<Row>, Option<&RunSummary>) {
    let mut out = Vec::with_capacity(4);
    let mut offset = 0.0;
    if let Some(live) = &state.live {
        for stage in Stage::ALL {
            let row = match live.stages.iter().find(|s| s.stage == stage) {
                Some(s) => match &s.timing {
                    Some(t) => {
                        let (ms, source) = stage_time(t);
                        (ms, source, RowState::Done)
                    }
                    None => {
                        let ms =
                            state.now.saturating_duration_since(s.started).as_secs_f64() * 1000.0;
                        (ms, Source::Real, RowState::Running)
                    }
                },
                None => (0.0, Source::Real, RowState::Waiting),
            };
            out.push(Row {
                stage,
                offset_ms: offset,
                ms: row.0,
                source: row.1,
                state: row.2,
            });
            offset += row.0;
        }
        // Compared with the last finished run.
        return (out, state.history.last());
    }
    let Some(last) = state.history.last() else {
        return (out, None);
    };
    for stage in Stage::ALL {
        let (ms, source, row_state) = match last.stage(stage) {
            Some(t) => {
                let (ms, source) = stage_time(t);
                (ms, source, RowState::Done)
            }
            None if last.failed_stage == Some(stage) && last.cancelled() => {
                (0.0, Source::Real, RowState::Cancelled)
            }
            None if last.failed_stage == Some(stage) => (0.0, Source::Real, RowState::Failed),
            None => (0.0, Source::Real, RowState::NotRun),
        };
        out.push(Row {
            stage,
            offset_ms: offset,
            ms,
            source,
            state: row_state,
        });
        offset += ms;
    }
    (out, state.history.previous())
}

/// A waterfall bar: blank up to the stage's start, then the stage's length in eighths.
pub fn bar(offset: f64, ms: f64, scale: f64, width: usize, glyph: char) -> (String, String) {
    if width == 0 || scale <= 0.0 {
        return (String::new(), String::new());
    }
    let start = ((offset / scale) * width as f64).floor() as usize;
    let start = start.min(width.saturating_sub(1));
    let cells = (ms / scale) * width as f64;
    let room = width - start;
    let full = (cells.floor() as usize).min(room);
    let mut filled: String = std::iter::repeat_n(glyph, full).collect();
    if full < room {
        let frac = cells - cells.floor();
        let partial = if glyph == REAL_GLYPH {
            const EIGHTHS: [char; 7] = ['▏', '▎', '▍', '▌', '▋', '▊', '▉'];
            let eighths = (frac * 8.0).round() as usize;
            (1..=7).contains(&eighths).then(|| EIGHTHS[eighths - 1])
        } else {
            (frac >= 0.5).then_some(glyph)
        };
        if let Some(p) = partial {
            filled.push(p);
        } else if full == 0 && ms > 0.0 {
            // Too short to show at this scale, yet it ran: one thin mark.
            filled.push('▏');
        }
    }
    (" ".repeat(start), filled)
}

fn time_label(row: &Row) -> (String, ratatui::style::Style) {
    match row.state {
        RowState::Done => (
            format!("{} {}", format::ms(row.ms), row.source.label()),
            ratatui::style::Style::new(),
        ),
        RowState::Running => (format!("{} real…", format::ms(row.ms)), theme::heading()),
        RowState::Failed => ("✗ failed".into(), theme::error()),
        RowState::Cancelled => ("cancelled".into(), theme::warning()),
        RowState::Waiting => ("waiting".into(), theme::dim()),
        RowState::NotRun => ("— not run".into(), theme::dim()),
    }
}

fn quantile_label(state: &AppState, stage: Stage, q: f64) -> String {
    match state.history.stage_quantile(stage, q) {
        Some((ms, _)) => format::ms(ms),
        None => "—".into(),
    }
}

fn change_label(row: &Row, previous: Option<&RunSummary>) -> String {
    let Some(prev) = previous.and_then(|p| p.stage(row.stage)) else {
        return "—".into();
    };
    let (before, _) = stage_time(prev);
    if row.state != RowState::Done || before <= 0.0 {
        return "—".into();
    }
    format!("{:+.1} %", (row.ms - before) / before * 100.0)
}

fn title(state: &AppState) -> String {
    if let Some(live) = &state.live {
        let elapsed = state
            .now
            .saturating_duration_since(live.started)
            .as_secs_f64()
            * 1000.0;
        let what = if live.cancelling {
            "cancelling"
        } else {
            "running"
        };
        return format!(
            " stages · run #{} {what} · {} real so far ",
            live.run,
            format::ms(elapsed)
        );
    }
    match state.history.last() {
        None => " stages · no run yet ".into(),
        Some(last) => {
            let name = last
                .run
                .map_or_else(|| "last run".to_string(), |r| format!("run #{r}"));
            let outcome = match last.outcome {
                Outcome::Failed if last.cancelled() => "CANCELLED".to_string(),
                Outcome::Failed => match last.failed_stage {
                    Some(stage) => format!("FAILED at {}", stage.as_str()),
                    None => "FAILED".to_string(),
                },
                other => other.as_str().to_string(),
            };
            format!(" stages · {name} {outcome} · {} ", last.flags_label())
        }
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, focused: bool) {
    let title_style = match state.history.last() {
        Some(last)
            if state.live.is_none() && last.outcome == Outcome::Failed && !last.cancelled() =>
        {
            theme::error()
        }
        _ => ratatui::style::Style::new(),
    };
    let legend = Line::from(vec![
        Span::styled(format!(" {REAL_GLYPH}"), theme::real_bar()),
        Span::raw(" real "),
        Span::styled(SIM_GLYPH.to_string(), theme::simulated_bar()),
        Span::raw(" sim "),
    ])
    .right_aligned();
    let block = theme::panel(Line::styled(title(state), title_style), focused).title_bottom(legend);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width < 20 {
        return;
    }

    let wide = inner.width >= WIDE;
    let (rows, previous) = rows(state);
    let mut lines: Vec<Line> = Vec::new();
    let fixed = NAME_W + 1 + TIME_W + if wide { 3 * 11 } else { 0 };
    let bar_w = (inner.width as usize).saturating_sub(fixed + 1).max(4);
    let show_header = wide && inner.height >= 8;
    if show_header {
        lines.push(Line::styled(
            format!(
                "{}{} {}{}{}{}",
                fit("stage", NAME_W),
                fit("waterfall", bar_w + 1),
                fit_right("time", TIME_W),
                fit_right("p50", 11),
                fit_right("p95", 11),
                fit_right("vs prev", 11),
            ),
            theme::heading(),
        ));
    }
    if rows.is_empty() {
        lines.push(Line::styled(
            "no run yet: type an edit in the prompt and press Enter",
            theme::dim(),
        ));
    } else {
        let extent = rows
            .iter()
            .map(|r| r.offset_ms + r.ms)
            .fold(0.0_f64, f64::max);
        // While a run is live, scale to the last completed run as well, so the running
        // stage's bar visibly grows instead of always filling the width.
        let reference = if state.live.is_some() {
            state.history.previous_completed_total_ms().unwrap_or(0.0)
        } else {
            0.0
        };
        let scale = extent.max(reference).max(0.001);
        for row in &rows {
            let glyph = if row.source == Source::Simulated {
                SIM_GLYPH
            } else {
                REAL_GLYPH
            };
            let (pad, filled) = bar(row.offset_ms, row.ms, scale, bar_w, glyph);
            let used = pad.chars().count() + filled.chars().count();
            let bar_style = if row.source == Source::Simulated {
                theme::simulated_bar()
            } else {
                theme::real_bar()
            };
            let (time, time_style) = time_label(row);
            let name_style = if row.state == RowState::Running {
                theme::heading()
            } else {
                ratatui::style::Style::new()
            };
            let mut spans = vec![
                Span::styled(fit(row.stage.as_str(), NAME_W), name_style),
                Span::raw(pad),
                Span::styled(filled, bar_style),
                Span::raw(" ".repeat(bar_w.saturating_sub(used) + 1)),
                Span::styled(fit_right(&time, TIME_W), time_style),
            ];
            if wide {
                spans.push(Span::raw(fit_right(
                    &quantile_label(state, row.stage, 0.5),
                    11,
                )));
                spans.push(Span::raw(fit_right(
                    &quantile_label(state, row.stage, 0.95),
                    11,
                )));
                spans.push(Span::raw(fit_right(&change_label(row, previous), 11)));
            }
            lines.push(Line::from(spans));
        }
        lines.push(total_line(state, &rows, previous));
        if let Some(line) = model_calls_line(state) {
            lines.push(line);
        }
        if !wide {
            lines.push(Line::raw(quantiles_line(state)));
        }
    }
    let spark_rows = u16::from(!state.history.is_empty());
    let text_rows = (lines.len() as u16).min(inner.height.saturating_sub(spark_rows));
    let [text_area, spark_area] = Layout::vertical([
        Constraint::Length(text_rows),
        Constraint::Length(spark_rows),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(lines), text_area);
    if spark_rows > 0 {
        draw_sparkline(frame, spark_area, state);
    }
}

fn total_line(state: &AppState, rows: &[Row], previous: Option<&RunSummary>) -> Line<'static> {
    let total: f64 = rows.iter().map(|r| r.ms).sum();
    let any_sim = rows
        .iter()
        .any(|r| r.source == Source::Simulated && r.ms > 0.0);
    let source = if any_sim { "sim+real" } else { "real" };
    let mut text = format!("total {} {source}", format::ms(total));
    if let Some(prev) = previous {
        let (before, _) = prev.total();
        if state.live.is_none() && before > 0.0 {
            text.push_str(&format!(
                " · prev {} ({:+.1} %)",
                format::ms(before),
                (total - before) / before * 100.0
            ));
        } else if before > 0.0 {
            text.push_str(&format!(" · last run {}", format::ms(before)));
        }
    }
    Line::styled(text, theme::heading())
}

/// Time to first token and output rate of the last finished run's model calls, each labelled
/// real or sim.
fn model_calls_line(state: &AppState) -> Option<Line<'static>> {
    if state.live.is_some() {
        return None;
    }
    let last = state.history.last()?;
    if last.model_calls.is_empty() {
        return None;
    }
    let parts: Vec<String> = last
        .model_calls
        .iter()
        .map(|c| {
            let source = if c.simulated { "sim" } else { "real" };
            let rate = c
                .output_tokens_per_s
                .map_or_else(String::new, |r| format!(" · {r:.0} tok/s"));
            // Tokens a provider did not report are editscope's estimate: shown, labelled.
            let estimated = if c.usage_estimated {
                format!(
                    " · {} in / {} out estimated",
                    format::thousands(c.input_tokens as i64),
                    format::thousands(c.output_tokens as i64)
                )
            } else {
                String::new()
            };
            format!(
                "{} ttft {} {source}{rate}{estimated}",
                c.stage.as_str(),
                format::ms(c.ttft_ms)
            )
        })
        .collect();
    Some(Line::styled(parts.join(" | "), theme::dim()))
}

fn quantiles_line(state: &AppState) -> String {
    let n = state.history.len();
    match (
        state.history.total_quantile(0.5),
        state.history.total_quantile(0.95),
    ) {
        (Some(p50), Some(p95)) => format!(
            "total over {n} runs: p50 {} · p95 {}",
            format::ms(p50),
            format::ms(p95)
        ),
        _ => "p50/p95 appear after the first completed run".into(),
    }
}

fn draw_sparkline(frame: &mut Frame, area: Rect, state: &AppState) {
    let totals = state.history.recent_totals(SPARKLINE_RUNS);
    let (lo, hi) = totals
        .iter()
        .fold((u64::MAX, 0), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    let label = format!("last {} runs ", totals.len());
    let range = format!(" {}–{}", format::ms(lo as f64), format::ms(hi as f64));
    let label_w = label.chars().count() as u16;
    let range_w = (range.chars().count() as u16).min(area.width.saturating_sub(label_w + 4));
    let [l, s, r] = Layout::horizontal([
        Constraint::Length(label_w),
        Constraint::Length((totals.len() as u16).min(area.width.saturating_sub(label_w + range_w))),
        Constraint::Fill(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(Span::styled(label, theme::dim())), l);
    frame.render_widget(
        Sparkline::default()
            .data(totals.iter().copied())
            .style(theme::real_bar()),
        s,
    );
    frame.render_widget(Paragraph::new(Span::styled(range, theme::dim())), r);
}
