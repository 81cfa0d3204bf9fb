//! `editscope edit --project ID --prompt TEXT [--flags F] [--llm ...] [--json]
//! [--events jsonl] [--record FILE]`

use std::path::PathBuf;

use std::time::Instant;

use anyhow::{Context as _, bail};

use super::{EditArgs, open_store, print_json};
use crate::context::{ContextEngine, Flags};
use crate::pipeline::{Outcome, Pipeline, PipelineEvent};
use crate::session::{Recorder, SessionHeader, SessionRun, TimedEvent};

pub fn run(db: Option<&PathBuf>, args: EditArgs) -> anyhow::Result<()> {
    crate::pipeline::check_prompt(&args.prompt).context("--prompt")?;
    let store = open_store(db)?;
    store.get_project(&args.project)?;
    let flags = match &args.flags {
        Some(f) => Flags::parse(f, Flags::from_env())?,
        None => Flags::from_env(),
    };
    let llm = crate::llm::from_config(&args.llm.config()?)?;
    // Opened before the run: a file that cannot be a session is refused before any work.
    let mut recorder = match &args.record {
        Some(path) => {
            // The project as it is before this run: the header of a new session holds it.
            let project = crate::fixtures::export(&store, &args.project)?;
            let header = SessionHeader::new(flags.to_string(), &llm.name(), project);
            Some(
                Recorder::open(path, header)
                    .with_context(|| format!("--record {}", path.display()))?,
            )
        }
        None => None,
    };
    let mut pipeline = Pipeline::new(
        store,
        ContextEngine::new(flags, args.engine.options()?),
        llm,
    )
    .with_edit_format(args.edit_format.format());
    let runtime = super::command_runtime()?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<PipelineEvent>();
    let cancel = super::cancel_on_ctrl_c(&runtime);
    let jsonl = args.events.is_some();
    let (result, events) = runtime.block_on(async {
        // Every event is stamped as it arrives and, with --events jsonl, printed at once.
        let started = Instant::now();
        let consumer = tokio::spawn(async move {
            let mut timed = Vec::new();
            while let Some(event) = rx.recv().await {
                let event = TimedEvent {
                    at_ms: started.elapsed().as_secs_f64() * 1000.0,
                    event,
                };
                if jsonl && let Ok(line) = serde_json::to_string(&event) {
                    println!("{line}");
                }
                timed.push(event);
            }
            timed
        });
        let result = pipeline
            .run_edit(&args.project, &args.prompt, &tx, &cancel)
            .await;
        drop(tx);
        (result, consumer.await.unwrap_or_default())
    });
    if let Some(recorder) = recorder.as_mut() {
        let code_after = crate::session::replay::target_code(&pipeline.store, &result);
        let run = SessionRun::from_events(
            recorder.next_run(),
            events.clone(),
            result.clone(),
            code_after,
        );
        if let Err(e) = recorder.append(&run) {
            // The edit itself is done (or failed) as reported; only its recording is lost.
            eprintln!("warning: {e}");
        }
    }
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
    for timed in &events {
        if let PipelineEvent::MemoryWrite {
            memory_type,
            key,
            value,
            outcome,
            ..
        } = &timed.event
        {
            memory_lines.push(format!("{memory_type}/{key} = {value} ({outcome})"));
        }
    }
    if jsonl {
        // The events (the result last, in `run_finished`) were printed as they happened.
    } else if args.json {
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
        // A provider that reported no usage got a local estimate: say so next to the figures.
        let estimated = if result.model_calls.iter().any(|c| c.usage_estimated) {
            " (estimated)"
        } else {
            ""
        };
        println!(
            "  context {} | tokens in {} (cached {}) out {}{estimated}",
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
