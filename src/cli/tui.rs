//! `editscope tui` (and the bare `editscope`): the dashboard on the default or given database.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context as _, bail};

use super::{TuiArgs, open_store};
use crate::context::{ContextEngine, Flags};
use crate::fixtures::DEFAULT_PROJECT;
use crate::pipeline::Pipeline;

pub fn run(db: Option<&PathBuf>, args: TuiArgs) -> anyhow::Result<()> {
    // Checked first: nothing is opened or created for a run that cannot show anything.
    if !std::io::stdout().is_terminal() {
        bail!("editscope tui needs a terminal; use `editscope edit` for headless runs");
    }
    let flags = match &args.flags {
        Some(text) => Flags::parse(text, Flags::from_env())?,
        None => Flags::from_env(),
    };
    let store = open_store(db)?;
    let project = args
        .project
        .clone()
        .unwrap_or_else(|| DEFAULT_PROJECT.to_string());
    store
        .get_project(&project)
        .with_context(|| format!("cannot open project '{project}' (see `editscope projects`)"))?;
    let llm =
        crate::llm::from_config(&args.llm.config()?).context("setting up the model backend")?;
    let pipeline = Pipeline::new(
        store,
        ContextEngine::new(flags, args.engine.options()?),
        llm,
    )
    .with_edit_format(args.edit_format.format());
    // The UI needs little: the pipeline runs on the worker's own thread and runtime.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let options = crate::tui::worker::WorkerOptions {
        otlp_endpoint: args.otlp_endpoint.clone(),
    };
    runtime.block_on(crate::tui::run(
        pipeline,
        project,
        flags,
        args.record.clone(),
        options,
    ))
}
