//! `editscope runs --project ID [--export chrome|otlp-json FILE]` and
//! `editscope undo --project ID --scene ID`

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context as _, bail};

use super::{RunsArgs, UndoArgs, open_store, print_json};
use crate::export;

pub fn run(db: Option<&PathBuf>, args: RunsArgs) -> anyhow::Result<()> {
    let store = open_store(db)?;
    store.get_project(&args.project)?;
    if let Some(export) = &args.export {
        return write_export(&store, &args, export);
    }
    let runs = store.list_edit_runs(&args.project, args.limit)?;
    if args.json {
        let out: Vec<serde_json::Value> = runs
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "project_id": r.project_id,
                    "prompt": r.prompt,
                    "flags": serde_json::from_str::<serde_json::Value>(&r.flags_json).unwrap_or_default(),
                    "tool": r.tool,
                    "target_scene_id": r.target_scene_id,
                    "stages": serde_json::from_str::<serde_json::Value>(&r.stage_ms_json).unwrap_or_default(),
                    "cache": serde_json::from_str::<serde_json::Value>(&r.cache_json).unwrap_or_default(),
                    "tokens": serde_json::from_str::<serde_json::Value>(&r.tokens_json).unwrap_or_default(),
                    // Each model call (time to first token, output rate, usage), kept in the
                    // row's tokens; rows written before it have none.
                    "model_calls": serde_json::from_str::<serde_json::Value>(&r.tokens_json)
                        .ok()
                        .and_then(|t| t.get("model_calls").cloned())
                        .unwrap_or_else(|| serde_json::json!([])),
                    "outcome": r.outcome,
                    "error": r.error,
                    "created_at": r.created_at,
                    "comparison": r.comparison,
                })
            })
            .collect();
        return print_json(&out);
    }
    println!(
        "{:>5}  {:<13} {:<15} {:<24} PROMPT",
        "RUN", "OUTCOME", "TOOL", "TARGET"
    );
    for r in runs {
        println!(
            "{:>5}  {:<13} {:<15} {:<24} {}{}{}",
            r.id,
            r.outcome,
            r.tool.as_deref().unwrap_or("-"),
            r.target_scene_id.as_deref().unwrap_or("-"),
            r.prompt,
            if r.comparison { "  (A/B dry run)" } else { "" },
            r.error.map(|e| format!("  [{e}]")).unwrap_or_default()
        );
    }
    Ok(())
}

/// `--export FORMAT FILE`: the newest `--limit` runs, oldest first, as one trace document.
fn write_export(
    store: &crate::store::Store,
    args: &RunsArgs,
    export: &[String],
) -> anyhow::Result<()> {
    let [format, file] = export else {
        bail!("--export takes a format and a file: --export chrome|otlp-json FILE");
    };
    let runs = export::project_runs(store, &args.project, args.limit)?;
    let text = match format.as_str() {
        "chrome" => serde_json::to_string(&export::chrome::chrome_trace(&args.project, &runs))?,
        "otlp-json" => export::otlp::to_json(&runs)?,
        other => bail!("unknown export format '{other}': use chrome or otlp-json"),
    };
    if file == "-" {
        // Written, not printed: a closed pipe (`| head`) is an error to report, not a panic.
        let mut out = std::io::stdout().lock();
        writeln!(out, "{text}").context("writing the trace to stdout")?;
    } else {
        std::fs::write(file, text).with_context(|| format!("writing {file}"))?;
        eprintln!(
            "wrote {} runs of {} as {format} to {file}",
            runs.len(),
            args.project
        );
    }
    Ok(())
}

pub fn undo(db: Option<&PathBuf>, args: UndoArgs) -> anyhow::Result<()> {
    let mut store = open_store(db)?;
    let message = crate::pipeline::respond::undo(&mut store, &args.project, &args.scene)?;
    println!("{message}");
    Ok(())
}
