//! `b`: two runs of the same prompt side by side, A (as it ran) and B (a dry run under the other
//! preset from the revision and backend state A started at): stage timings and tokens, with B's
//! change relative to A, and whether both decided the same and left the same code.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use crate::pipeline::Stage;
use crate::tui::format;
use crate::tui::state::AppState;
use crate::tui::stats::{RunSummary, stage_time};
use crate::tui::theme;

fn stage_cell(run: &RunSummary, stage: Stage) -> (String, Option<f64>) {
    match run.stage(stage) {
        Some(t) => {
            let (ms, source) = stage_time(t);
            (format!("{} {}", format::ms(ms), source.label()), Some(ms))
        }
        None => ("—".into(), None),
    }
}

fn change(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if a > 0.0 => format!("{:+.1} %", (b - a) / a * 100.0),
        _ => "—".into(),
    }
}

/// Picks one token figure out of a run's totals.
type TokenPick = fn(&crate::pipeline::RunTokens) -> u64;

fn tokens(run: &RunSummary, pick: TokenPick) -> (String, Option<f64>) {
    match &run.tokens {
        Some(t) => (format::tokens(pick(t)), Some(pick(t) as f64)),
        None => ("—".into(), None),
    }
}

fn revision(revision: Option<i64>, how: &str) -> String {
    match revision {
        Some(r) => format!("rev {r}, {how}"),
        None => how.to_string(),
    }
}

fn decision(run: &RunSummary) -> String {
    match (&run.tool, &run.target_scene_id) {
        (Some(tool), Some(target)) => format!("{tool} {target}"),
        (Some(tool), None) => tool.clone(),
        _ => run.outcome.as_str().to_string(),
    }
}

pub fn draw(frame: &mut Frame, full: Rect, state: &AppState) {
    let area = super::area(frame, full, 90, 80);
    let Some(ab) = &state.ab else {
        return;
    };
    let a = &ab.a;
    let block = theme::panel(format!(" A/B · \"{}\" · Esc close ", a.prompt), true);
    let Some(b) = &ab.b else {
        frame.render_widget(
            Paragraph::new(Line::raw(format!(
                "dry run of B with {}… (A ran with {}; B starts where A started)",
                ab.b_flags,
                a.flags_label()
            )))
            .block(block),
            area,
        );
        return;
    };
    let mut rows: Vec<Row> = vec![
        Row::new(vec![
            Cell::from("flags"),
            Cell::from(a.flags_label()),
            Cell::from(b.flags_label()),
            Cell::from(""),
        ]),
        Row::new(vec![
            Cell::from("started at"),
            Cell::from(revision(a.start_revision, "as it ran")),
            Cell::from(revision(
                ab.verdict.map(|v| v.start_revision).or(b.start_revision),
                "dry run",
            )),
            Cell::from(""),
        ]),
        Row::new(vec![
            Cell::from("outcome"),
            Cell::from(a.outcome.as_str()),
            Cell::from(b.outcome.as_str()),
            Cell::from(""),
        ]),
        Row::new(vec![
            Cell::from("decision"),
            Cell::from(decision(a)),
            Cell::from(decision(b)),
            Cell::from(match ab.verdict {
                Some(v) if v.same_decision => "same",
                Some(_) => "differs",
                None => "",
            }),
        ]),
        Row::new(vec![
            Cell::from("resulting code"),
            Cell::from(""),
            Cell::from(""),
            Cell::from(match ab.verdict.and_then(|v| v.same_code) {
                Some(true) => "identical",
                Some(false) => "differs",
                None => "—",
            }),
        ]),
        Row::new(vec![
            Cell::from("context path"),
            Cell::from(a.context_path.clone().unwrap_or_else(|| "—".into())),
            Cell::from(b.context_path.clone().unwrap_or_else(|| "—".into())),
            Cell::from(""),
        ]),
    ];
    for stage in Stage::ALL {
        let (ta, va) = stage_cell(a, stage);
        let (tb, vb) = stage_cell(b, stage);
        rows.push(Row::new(vec![
            Cell::from(stage.as_str()),
            Cell::from(ta),
            Cell::from(tb),
            Cell::from(change(va, vb)),
        ]));
    }
    let (total_a, src_a) = a.total();
    let (total_b, src_b) = b.total();
    rows.push(
        Row::new(vec![
            Cell::from("total"),
            Cell::from(format!("{} {}", format::ms(total_a), src_a.label())),
            Cell::from(format!("{} {}", format::ms(total_b), src_b.label())),
            Cell::from(change(Some(total_a), Some(total_b))),
        ])
        .style(theme::heading()),
    );
    let token_rows: [(&str, TokenPick); 4] = [
        ("context tokens", |t| t.context),
        ("input tokens", |t| t.input),
        ("cached tokens", |t| t.cached),
        ("output tokens", |t| t.output),
    ];
    for (name, pick) in token_rows {
        let (ta, va) = tokens(a, pick);
        let (tb, vb) = tokens(b, pick);
        rows.push(Row::new(vec![
            Cell::from(name),
            Cell::from(ta),
            Cell::from(tb),
            Cell::from(change(va, vb)),
        ]));
    }
    let table = Table::new(
        rows,
        [
            Constraint::Length(15),
            Constraint::Fill(1),
            Constraint::Fill(1),
            Constraint::Length(10),
        ],
    )
    .header(
        Row::new(vec![
            Cell::from(""),
            Cell::from(format!(
                "A {}",
                a.run.map_or_else(String::new, |r| format!("run #{r}"))
            )),
            Cell::from(format!(
                "B {}",
                b.run.map_or_else(String::new, |r| format!("run #{r}"))
            )),
            Cell::from("B vs A"),
        ])
        .style(theme::heading()),
    )
    .block(block)
    .column_spacing(2);
    frame.render_widget(table, area);
}
