//! `editscope edit --project ID --prompt TEXT [--flags F] [--llm ...] [--json]`

use std::path::PathBuf;

use anyhow::bail;
use tokio_util::sync::CancellationToken;

use super::{EditArgs, engine_options, open_store, print_json};
use crate::context::{ContextEngine, Flags};
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
        ContextEngine::new(flags, engine_options(args.shadow_rate)?),
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
    if let Some(endpoint) = &args.otlp_endpoint {
        let backend = pipeline.llm.name();
        crate::export::otlp::send_run_or_warn(
            &runtime,
            endpoint,
            &pipeline.store,
            &backend,
            &result,
        );
    }
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
        // The result's own serialisation is the contract of DESIGN.md 5a and 7 (`ab --json`
        // embeds the same object).
        print_json(&result)?;
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
