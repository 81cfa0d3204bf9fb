//! `editscope replay FILE [--flags F] [--vs F2] [--llm ...] [--time-scale X] [--json]`

use anyhow::Context as _;

use super::{ReplayArgs, print_json};
use crate::context::Flags;
use crate::pipeline::{PipelineEvent, Stage};
use crate::session::replay::{self, Pass, ReplayReport};

pub fn run(args: ReplayArgs) -> anyhow::Result<()> {
    let session = crate::session::read(&args.file)?;
    let base = Flags::from_env();
    let first: Pass = match &args.flags {
        Some(f) => Some(Flags::parse(f, base).context("--flags")?),
        None => None,
    };
    let mut passes = vec![first];
    if let Some(vs) = &args.vs {
        passes.push(Some(Flags::parse(vs, base).context("--vs")?));
    }
    let options = args.engine.options()?;
    // Checked once before any work, so a bad backend setting fails before the first pass.
    let llm_config = args.llm.config()?;
    crate::llm::from_config(&llm_config)?;
    let make_llm = || crate::llm::from_config(&llm_config);
    let runtime = super::command_runtime()?;
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel::<PipelineEvent>();
    let cancel = super::cancel_on_ctrl_c(&runtime);
    let report = runtime.block_on(async {
        replay::replay(
            &session,
            &passes,
            &make_llm,
            options,
            args.edit_format.given(),
            args.otlp_endpoint.as_deref(),
            &tx,
            &cancel,
        )
        .await
    })?;
    if args.json {
        return print_json(&report);
    }
    print_report(&report);
    Ok(())
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.1} ms"))
}

fn ratio(replayed: Option<f64>, recorded: Option<f64>) -> String {
    match (replayed, recorded) {
        (Some(b), Some(a)) if a > 0.0 => format!("{:.3}x", b / a),
        _ => "-".into(),
    }
}

fn print_report(report: &ReplayReport) {
    println!(
        "replay of {} ({} runs of project {}) under: {}",
        report.file,
        report.runs.len(),
        report.project_id,
        report.passes.join(" vs ")
    );
    if report.cut_off {
        println!("note: the file's last line was cut off; that run was left out");
    }
    for (i, run) in report.runs.iter().enumerate() {
        println!("\nrun {}: {}", i + 1, run.prompt);
        let mut header = format!("  {:<16} {:>14}", "stage", "recorded");
        for pass in &report.passes {
            header.push_str(&format!(" {:>14} {:>9}", pass, "ratio"));
        }
        println!("{header}");
        for stage in Stage::ALL {
            let recorded = run.recorded.stage_figure_ms(stage);
            let mut line = format!("  {:<16} {:>14}", stage.as_str(), ms(recorded));
            for replayed in &run.replayed {
                let value = replayed.stage_figure_ms(stage);
                line.push_str(&format!(" {:>14} {:>9}", ms(value), ratio(value, recorded)));
            }
            println!("{line}");
        }
        for (replayed, m) in run.replayed.iter().zip(&run.matches) {
            println!(
                "  {}: {} {} | decision {} | code {}",
                replayed.flags,
                replayed.outcome.as_str(),
                replayed.tool.as_deref().unwrap_or("-"),
                if m.same_decision { "same" } else { "differs" },
                if m.same_code { "same" } else { "differs" },
            );
        }
    }
}
