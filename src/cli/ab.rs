//! `editscope ab --project ID --prompt TEXT [--a FLAGS] [--b FLAGS] [--llm ...]
//! [--shadow-rate R] [--json]`: the same prompt under two flag sets, both as dry runs from the
//! same revision and the same model-backend state; the project is left as it was.

use std::path::PathBuf;

use anyhow::Context as _;

use super::{AbArgs, open_store, print_json};
use crate::context::Flags;
use crate::pipeline::compare::{self, AbReport};
use crate::pipeline::{EditResult, PipelineEvent, Stage};

pub fn run(db: Option<&PathBuf>, args: AbArgs) -> anyhow::Result<()> {
    crate::pipeline::check_prompt(&args.prompt).context("--prompt")?;
    let mut store = open_store(db)?;
    store.get_project(&args.project)?;
    let base = Flags::from_env();
    let a = Flags::parse(&args.a, base).context("--a")?;
    let b = Flags::parse(&args.b, base).context("--b")?;
    let options = args.engine.options()?;
    let llm = crate::llm::from_config(&args.llm.config()?)?;
    let runtime = super::command_runtime()?;
    // The events are not shown: the report is folded from the results.
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel::<PipelineEvent>();
    let cancel = super::cancel_on_ctrl_c(&runtime);
    let report = runtime.block_on(async {
        compare::ab(
            &mut store,
            &args.project,
            &args.prompt,
            a,
            b,
            llm.as_ref(),
            options,
            args.edit_format.format(),
            &tx,
            &cancel,
        )
        .await
    })?;
    if args.json {
        return print_json(&report);
    }
    print_table(&report);
    Ok(())
}

fn cell(result: &EditResult, stage: Stage) -> String {
    let simulated = result.total_simulated_ms.is_some();
    match result.stage_figure_ms(stage).map(|ms| (ms, simulated)) {
        // Only the model stages of a simulated backend are modeled; the others are wall clock.
        Some((ms, true)) if stage.is_model_stage() => format!("{ms:>10.1} ms sim"),
        Some((ms, _)) => format!("{ms:>10.1} ms    "),
        None => format!("{:>14}", "-"),
    }
}

fn ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "-".into(), |r| format!("{r:.3}x"))
}

fn print_table(report: &AbReport) {
    let (a, b) = (&report.a, &report.b);
    println!(
        "A/B on {} at revision {} (dry runs: the project is unchanged)",
        report.project_id, report.revision
    );
    println!("prompt: {}", report.prompt);
    println!("backend: {}", report.provider_state);
    println!("{:<16} {:>17} {:>17} {:>9}", "", "A", "B", "B/A");
    println!("{:<16} {:>17} {:>17}", "flags", a.flags, b.flags);
    println!(
        "{:<16} {:>17} {:>17}",
        "outcome",
        a.outcome.as_str(),
        b.outcome.as_str()
    );
    println!(
        "{:<16} {:>17} {:>17}",
        "context path",
        a.context_path.as_deref().unwrap_or("-"),
        b.context_path.as_deref().unwrap_or("-")
    );
    for stage in Stage::ALL {
        println!(
            "{:<16} {:>17} {:>17} {:>9}",
            stage.as_str(),
            cell(a, stage),
            cell(b, stage),
            ratio(report.ratio.get(stage.as_str()).copied().flatten())
        );
    }
    println!(
        "{:<16} {:>14.1} ms {:>14.1} ms {:>9}",
        "total",
        a.total_figure_ms(),
        b.total_figure_ms(),
        ratio(report.ratio.get("total").copied().flatten())
    );
    println!(
        "{:<16} {:>17} {:>17}",
        "context tokens", a.tokens.context, b.tokens.context
    );
    println!(
        "{:<16} {:>17} {:>17}",
        "input (cached)",
        format!("{} ({})", a.tokens.input, a.tokens.cached),
        format!("{} ({})", b.tokens.input, b.tokens.cached)
    );
    let decision = |r: &EditResult| {
        format!(
            "{} {}",
            r.tool.as_deref().unwrap_or(r.outcome.as_str()),
            r.target_scene_id.as_deref().unwrap_or("")
        )
    };
    println!(
        "{:<16} {:>17} {:>17}",
        "decision",
        decision(a).trim(),
        decision(b).trim()
    );
    println!(
        "same decision: {} | same resulting code: {}",
        yes_no(report.same_decision),
        yes_no(report.same_code)
    );
    for (side, r) in [("A", a), ("B", b)] {
        if let Some(e) = &r.error {
            println!("{side} failed: {e}");
        }
    }
}

fn yes_no(v: bool) -> &'static str {
    if v { "yes" } else { "no" }
}
