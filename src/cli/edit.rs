//! `editscope edit --project ID --prompt TEXT [--flags F] [--llm ...] [--json]`

use std::path::PathBuf;

use anyhow::bail;
use tokio_util::sync::CancellationToken;

use super::{EditArgs, open_store, print_json};
use crate::context::{ContextEngine, EngineOptions, Flags};
use crate::pipeline::{Outcome, Pipeline, PipelineEvent};

pub fn run(db: Option<&PathBuf>, args: EditArgs) -> anyhow::Result<()> {
    let store = open_store(db)?;
    store.get_project(&args.project)?;
    let flags = match &args.flags {
        Some(f) => Flags::parse(f, Flags::from_env())?,
        None => Flags::from_env(),
    };
    let llm = crate::llm::from_args(&args.llm)?;
    let mut pipeline = Pipeline::new(
        store,
        ContextEngine::new(flags, EngineOptions::default()),
        llm,
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<PipelineEvent>();
    let cancel = CancellationToken::new();
    let ctrl_c = cancel.clone();
    let result = runtime.block_on(async {
        // Ctrl-C cancels the run: nothing is written.
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                ctrl_c.cancel();
            }
        });
        pipeline
            .run_edit(&args.project, &args.prompt, &tx, &cancel)
            .await
    });
    drop(tx);
    let mut memory_lines = Vec::new();
    while let Ok(event) = rx.try_recv() {
        if let PipelineEvent::MemoryWrite {
            memory_type,
            key,
            value,
            outcome,
            ..
        } = event
        {
            memory_lines.push(format!("{memory_type}/{key} = {value} ({outcome})"));
        }
    }
    if args.json {
        print_json(&serde_json::json!({
            "run_id": result.run_id,
            "project_id": result.project_id,
            "flags": result.flags,
            "tool": result.tool,
            "target_scene_id": result.target_scene_id,
            "outcome": result.outcome.as_str(),
            "stages": result.stages.iter().map(|s| serde_json::json!({
                "name": s.name.as_str(),
                "real_ms": s.real_ms,
                "simulated_ms": s.simulated_ms,
            })).collect::<Vec<_>>(),
            "total_real_ms": result.total_real_ms,
            "total_simulated_ms": result.total_simulated_ms,
            "context_path": result.context_path,
            "context_build_us": result.context_build_us,
            "tokens": {
                "input": result.tokens.input,
                "cached": result.tokens.cached,
                "output": result.tokens.output,
                "context": result.tokens.context,
            },
            "summary": result.summary,
            "prefix_stable_share": result.prefix_stable_share,
            "model": result.model,
            "memory_written": result.memory_written,
            "error": result.error,
        }))?;
    } else {
        println!(
            "{}: {}",
            result.outcome.as_str(),
            if result.summary.is_empty() {
                result.error.as_deref().unwrap_or("")
            } else {
                &result.summary
            }
        );
        if let (Some(tool), Some(target)) = (&result.tool, &result.target_scene_id) {
            println!("tool {tool} on {target}");
        }
        for s in &result.stages {
            match s.simulated_ms {
                Some(sim) => println!(
                    "  {:<15} real {:>9.1} ms   simulated {:>9.1} ms",
                    s.name.as_str(),
                    s.real_ms,
                    sim
                ),
                None => println!("  {:<15} real {:>9.1} ms", s.name.as_str(), s.real_ms),
            }
        }
        match result.total_simulated_ms {
            Some(sim) => println!(
                "  {:<15} real {:>9.1} ms   simulated {:>9.1} ms",
                "total", result.total_real_ms, sim
            ),
            None => println!("  {:<15} real {:>9.1} ms", "total", result.total_real_ms),
        }
        println!(
            "  context {} | tokens in {} (cached {}) out {}",
            result.context_path.as_deref().unwrap_or("-"),
            result.tokens.input,
            result.tokens.cached,
            result.tokens.output
        );
        for line in memory_lines {
            println!("  memory {line}");
        }
    }
    if result.outcome == Outcome::Failed {
        bail!(
            "{}",
            result.error.unwrap_or_else(|| "the edit failed".into())
        );
    }
    Ok(())
}
