//! The context cache: hits, misses, invalidations, hit rate, the path that served the last
//! context, shadow verification, and the warnings list.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::context::EngineEvent;
use crate::tui::format;
use crate::tui::state::AppState;
use crate::tui::theme;
use crate::tui::warnings::{self, Severity};

/// Inner rows below which the panel shows its compact form.
const COMPACT_ROWS: u16 = 6;

fn path_label(state: &AppState) -> String {
    let Some(path) = state.cache.path else {
        return "no build yet".into();
    };
    let level = state.cache.events.iter().find_map(|e| match e {
        EngineEvent::CacheHit { level } => Some(level.clone()),
        _ => None,
    });
    match level {
        Some(level) => format!("{} ({level})", path.as_str()),
        None => path.as_str().to_string(),
    }
}

fn build_label(state: &AppState) -> String {
    match state.cache.build_us {
        Some(us) => format!("{} real", format::us(us)),
        None => "—".into(),
    }
}

fn warning_line(w: &warnings::Warning) -> Line<'static> {
    let style = match w.severity {
        Severity::Error => theme::error(),
        Severity::Warn => theme::warning(),
    };
    Line::from(vec![
        Span::styled("! ", style),
        Span::styled(w.text.clone(), style),
    ])
}

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, focused: bool) {
    let found = warnings::collect(state);
    let title = match found.len() {
        0 => " cache ".to_string(),
        1 => " cache · 1 warning ".to_string(),
        n => format!(" cache · {n} warnings "),
    };
    let block = theme::panel(title, focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let c = &state.cache.counters;
    let hit_rate = format!("hit rate {}", format::percent(c.hit_rate()));
    let mut lines: Vec<Line> = Vec::new();
    if inner.height < COMPACT_ROWS {
        lines.push(Line::from(vec![
            Span::styled(hit_rate, theme::heading()),
            Span::raw(format!(
                " · h{} m{} inv{}",
                c.hits, c.misses, c.invalidations
            )),
        ]));
        lines.push(Line::raw(format!(
            "{} · {}",
            path_label(state),
            build_label(state)
        )));
        match found.first() {
            Some(w) => lines.push(warning_line(w)),
            None => lines.push(Line::raw(match state.cache.tokens {
                Some(t) => format!("{} · no warnings", format::tokens(t as u64)),
                None => "no warnings".into(),
            })),
        }
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    }
    let label = |s: &str| Span::styled(format!("{s:<12}"), theme::dim());
    lines.push(Line::from(vec![
        label("path"),
        Span::raw(path_label(state)),
    ]));
    lines.push(Line::from(vec![
        label("build"),
        Span::raw(build_label(state)),
    ]));
    lines.push(Line::from(vec![
        label("context"),
        Span::raw(
            state
                .cache
                .tokens
                .map_or_else(|| "—".into(), |t| format::tokens(t as u64)),
        ),
    ]));
    lines.push(Line::from(vec![
        label("hit rate"),
        Span::styled(format::percent(c.hit_rate()), theme::heading()),
        Span::raw(format!(" (incremental {})", c.incremental_updates)),
    ]));
    lines.push(Line::from(vec![
        label("counts"),
        Span::raw(format!(
            "hits {} · misses {} · invalidations {}",
            c.hits, c.misses, c.invalidations
        )),
    ]));
    lines.push(Line::from(vec![
        label("shadow"),
        Span::raw(match (c.shadow_checks, state.cache.shadow_rate) {
            (0, rate) if rate <= 0.0 => "off (see --shadow-rate)".to_string(),
            (checks, rate) => format!(
                "{checks} checks, {} differed ({} sampled)",
                c.shadow_mismatches,
                format::percent(rate)
            ),
        }),
    ]));
    if let Some(prefix) = &state.cache.prefix {
        // Short lines: where the last prompt first differed, in which section and stage, and
        // what the provider's cache served of it.
        let (first, second) = match &prefix.divergence {
            Some(d) => (
                format!("differs at token {}", format::thousands(d.token as i64)),
                format!("in {}, {}", d.section, d.stage.as_str()),
            ),
            None => (
                "same as last prompt".to_string(),
                format!("of {}", prefix.stage.as_str()),
            ),
        };
        lines.push(Line::from(vec![label("prefix"), Span::raw(first)]));
        lines.push(Line::from(vec![label(""), Span::raw(second)]));
        lines.push(Line::from(vec![
            label(""),
            Span::raw(format!(
                "cached {} of {}",
                format::thousands(prefix.cached_tokens as i64),
                format::thousands(prefix.input_tokens as i64)
            )),
        ]));
    }
    if found.is_empty() {
        lines.push(Line::styled("no warnings", theme::dim()));
    } else {
        lines.extend(found.iter().map(warning_line));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
