//! The command line of DESIGN.md section 5: clap definitions and one file per subcommand.

mod ab;
pub mod args;
mod bench;
mod context;
mod edit;
mod export;
mod import;
mod memory;
mod projects;
mod replay;
mod runs;
mod tui;

pub use args::*;

use std::path::PathBuf;

use anyhow::Context as _;

use crate::store::Store;

/// Where the database lives when `--db` is not given: `$EDITSCOPE_DB`, else the platform data
/// directory.
pub fn default_db_path() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("EDITSCOPE_DB").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let dirs = directories::ProjectDirs::from("dev", "editscope", "editscope").context(
        "cannot find a home directory for the default database; pass --db PATH or set EDITSCOPE_DB",
    )?;
    Ok(dirs.data_dir().join("editscope.db"))
}

/// Opens the database named by `--db` (or the default); a file that did not exist yet is created
/// and seeded with the demo projects.
pub fn open_store(db: Option<&PathBuf>) -> anyhow::Result<Store> {
    let path = match db {
        Some(p) => p.clone(),
        None => default_db_path()?,
    };
    // A `postgres://` URL is shown without its password, in every message.
    let shown = crate::store::redact_location(&path.to_string_lossy());
    let mut store = Store::open(&path).with_context(|| format!("opening database {shown}"))?;
    if store.was_created() {
        let n = crate::fixtures::seed_if_empty(&mut store)
            .with_context(|| format!("seeding new database {shown}"))?;
        tracing::info!(projects = n, path = %shown, "created and seeded a new database");
    }
    Ok(store)
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let db = cli.db.clone();
    match cli.command.unwrap_or(Command::Tui(cli.bare)) {
        Command::Tui(args) => tui::run(db.as_ref(), args),
        Command::Projects(args) => projects::run(db.as_ref(), args),
        Command::Import(args) => import::run(db.as_ref(), args),
        Command::Export(args) => export::run(db.as_ref(), args),
        Command::Context(args) => context::run(db.as_ref(), args),
        Command::Edit(args) => edit::run(db.as_ref(), args),
        Command::Ab(args) => ab::run(db.as_ref(), args),
        // A replay runs on a scratch copy of the session's own project: no database is opened.
        Command::Replay(args) => replay::run(args),
        Command::Memory(cmd) => memory::run(db.as_ref(), cmd),
        Command::Runs(args) => runs::run(db.as_ref(), args),
        Command::Undo(args) => runs::undo(db.as_ref(), args),
        Command::Bench(args) => bench::run(db.as_ref(), args),
    }
}

/// The runtime of a headless command that runs edits (two workers: the pipeline and its
/// event consumer or a trace export).
pub fn command_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// A token that Ctrl-C trips: a run that sees it stops, and nothing of it is written.
pub fn cancel_on_ctrl_c(runtime: &tokio::runtime::Runtime) -> tokio_util::sync::CancellationToken {
    let cancel = tokio_util::sync::CancellationToken::new();
    let ctrl_c = cancel.clone();
    runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            ctrl_c.cancel();
        }
    });
    cancel
}

impl EngineArgs {
    /// The engine's settings: `--shadow-rate` is a share of reused contexts checked against a
    /// fresh build, 0 to 1.
    pub fn options(&self) -> anyhow::Result<crate::context::EngineOptions> {
        let shadow_rate = self.shadow_rate;
        if !(0.0..=1.0).contains(&shadow_rate) {
            anyhow::bail!(
                "--shadow-rate must be between 0 and 1 (a share of reused contexts), got {shadow_rate}"
            );
        }
        Ok(crate::context::EngineOptions {
            shadow_rate,
            ..Default::default()
        })
    }
}

/// Prints a value as one JSON document on stdout.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
