//! The diff between the last two contexts: which sections changed, their token counts before
//! and after, and the unified diff, colored and scrollable.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::context::ContextDiff;
use crate::tui::format;
use crate::tui::state::AppState;
use crate::tui::theme;

/// Every line the panel can show, top to bottom (the view scrolls over them).
pub fn lines(diff: &ContextDiff) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let changed = if diff.changed_sections.is_empty() {
        "nothing".to_string()
    } else {
        diff.changed_sections.join(", ")
    };
    out.push(Line::styled(
        format!(
            "changed: {changed} · +{} -{} lines",
            diff.lines_added, diff.lines_removed
        ),
        theme::heading(),
    ));
    let (before, after): (usize, usize) = diff
        .tokens
        .iter()
        .fold((0, 0), |(b, a), s| (b + s.before, a + s.after));
    out.push(Line::raw(format!(
        "tokens total {} -> {} ({:+})",
        format::thousands(before as i64),
        format::tokens(after as u64),
        after as i64 - before as i64
    )));
    let mut unchanged = 0;
    for s in &diff.tokens {
        if s.before == s.after && !diff.changed_sections.contains(&s.name) {
            unchanged += 1;
            continue;
        }
        out.push(Line::raw(format!(
            "  * {:<16} {:>8} -> {:>8} tokens ({:+})",
            s.name,
            format::thousands(s.before as i64),
            format::thousands(s.after as i64),
            s.after as i64 - s.before as i64
        )));
    }
    if unchanged > 0 {
        out.push(Line::styled(
            format!("  {unchanged} sections unchanged"),
            theme::dim(),
        ));
    }
    for (label, ids) in [
        ("scenes added", &diff.scenes_added),
        ("scenes removed", &diff.scenes_removed),
        ("now in full", &diff.full_entered),
        ("no longer in full", &diff.full_left),
    ] {
        if !ids.is_empty() {
            out.push(Line::raw(format!("  {label}: {}", ids.join(", "))));
        }
    }
    for p in &diff.preferences {
        out.push(Line::raw(format!(
            "  preference {}: {} -> {}",
            p.key,
            p.before.as_deref().unwrap_or("(none)"),
            p.after.as_deref().unwrap_or("(none)")
        )));
    }
    out.push(Line::raw(""));
    out.extend(unified_lines(&diff.unified));
    out
}

/// A unified diff, one styled line per line: `+` green, `-` red, hunks cyan, headers bold.
pub fn unified_lines(unified: &str) -> Vec<Line<'static>> {
    unified
        .lines()
        .map(|l| {
            let style = if l.starts_with("+++") || l.starts_with("---") {
                theme::heading()
            } else if l.starts_with('+') {
                theme::diff_added()
            } else if l.starts_with('-') {
                theme::diff_removed()
            } else if l.starts_with("@@") {
                theme::diff_hunk()
            } else {
                ratatui::style::Style::new()
            };
            Line::from(Span::styled(l.to_string(), style))
        })
        .collect()
}

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, focused: bool) {
    let Some(diff) = &state.diff.diff else {
        let block = theme::panel(" context diff ", focused);
        frame.render_widget(
            Paragraph::new(Line::styled(
                "no diff yet: it appears from the second edit of a project (the context of one request against the one before)",
                theme::dim(),
            ))
            .wrap(ratatui::widgets::Wrap { trim: true })
            .block(block),
            area,
        );
        return;
    };
    let all = lines(diff);
    let scroll = state.diff.scroll.min(all.len().saturating_sub(1) as u16);
    let run = state
        .diff
        .run
        .map_or_else(String::new, |r| format!(" · run #{r} vs previous"));
    let title = format!(
        " context diff{run} · line {}/{} ",
        scroll as usize + 1,
        all.len()
    );
    let block = theme::panel(title, focused);
    frame.render_widget(Paragraph::new(all).block(block).scroll((scroll, 0)), area);
}
