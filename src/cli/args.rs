//! Clap definitions: the contract of DESIGN.md section 5.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "editscope",
    version,
    about = "A terminal developer console for the edit pipeline of an AI motion-graphics editor",
    long_about = "With no command, opens the dashboard on the default database's demo project.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// The store: a SQLite file, or a PostgreSQL database as `postgres://USER@HOST:PORT/DB`
    /// (password in the URL or PGPASSWORD) (default: $EDITSCOPE_DB, else a file in the
    /// platform data directory).
    #[arg(long, global = true, value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of the dashboard when no command is given (`editscope --time-scale 0`).
    #[command(flatten)]
    pub bare: TuiArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the dashboard (the default).
    Tui(TuiArgs),
    /// List projects.
    Projects(ProjectsArgs),
    /// Import a project file (fixture format), or generate one with --generate N.
    Import(ImportArgs),
    /// Export a project in the fixture format to stdout.
    Export(ExportArgs),
    /// Build the context for a project and print it with its statistics.
    Context(ContextArgs),
    /// Run one edit through the pipeline.
    Edit(EditArgs),
    /// Same-work A/B: one prompt under two flag sets, both as dry runs from the same revision
    /// (the project is left exactly as it was), side by side.
    Ab(AbArgs),
    /// Re-run a recorded session's prompts on a scratch copy of its project and compare.
    Replay(ReplayArgs),
    /// Inspect and change project memory.
    #[command(subcommand)]
    Memory(MemoryCommand),
    /// List past profiled edit runs.
    Runs(RunsArgs),
    /// Restore a scene's previous iteration.
    Undo(UndoArgs),
    /// Legacy vs optimized context building on a generated project, same work, one run.
    Bench(BenchArgs),
}

/// Context engine settings, shared by every command that builds contexts.
#[derive(Debug, Clone, Args, Default)]
pub struct EngineArgs {
    /// Share (0..1) of reused contexts (cache hits, incremental updates) verified against a
    /// fresh build; a difference is logged and the fresh context served.
    #[arg(long, default_value_t = 0.0, value_name = "R")]
    pub shadow_rate: f64,
}

/// The code edit stage's answer format (DESIGN.md 7), shared by the commands that run edits.
#[derive(Debug, Clone, Args, Default)]
pub struct EditFormatArgs {
    /// How the model answers a code edit: diff (search/replace blocks against the scene's code,
    /// the default; a block that does not apply is retried once as a whole file) or whole (the
    /// whole new file). A new scene is always a whole file. `replay` without it replays each
    /// run in the format it was recorded with.
    #[arg(long, value_name = "FORMAT", value_parser = ["diff", "whole"])]
    pub edit_format: Option<String>,
}

impl EditFormatArgs {
    /// The format given, if one was.
    pub fn given(&self) -> Option<crate::llm::EditFormat> {
        self.edit_format
            .as_deref()
            .and_then(crate::llm::EditFormat::parse)
    }

    /// The format given, else diff.
    pub fn format(&self) -> crate::llm::EditFormat {
        self.given().unwrap_or(crate::llm::EditFormat::Diff)
    }
}

/// Model backend selection, shared by `tui` and `edit`.
#[derive(Debug, Clone, Args, Default)]
pub struct LlmArgs {
    /// Model backend: offline (default, no network), openai or anthropic.
    #[arg(long, default_value = "offline", value_parser = ["offline", "openai", "anthropic"])]
    pub llm: String,
    /// Base URL of the provider (openai: .../v1 endpoint root; anthropic: API root).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Model name.
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// Scale of the offline backend's simulated model time: 1 = modeled real time, 0 = instant.
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    pub time_scale: f64,
    /// Total timeout of one call to a real provider, in seconds: from sending to the end of
    /// the streamed answer.
    #[arg(long, default_value_t = 600.0, value_name = "S")]
    pub timeout: f64,
    /// Connect timeout of real providers, in seconds.
    #[arg(long, default_value_t = 10.0, value_name = "S")]
    pub connect_timeout: f64,
    /// Idle timeout of real providers, in seconds: no byte for this long (waiting for the
    /// answer or between two pieces of the stream) ends the call.
    #[arg(long, default_value_t = 120.0, value_name = "S")]
    pub idle_timeout: f64,
    /// How tool selection asks a real model: native tool calls, the JSON text format, or
    /// auto (native, and JSON for a server that refuses tools).
    #[arg(long, default_value = "auto", value_parser = ["native", "json", "auto"])]
    pub tool_mode: String,
    /// Output token limit sent to real providers (default: the server's; Anthropic 8192).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_tokens: Option<u32>,
    /// Sampling temperature sent to real providers.
    #[arg(long, value_name = "T")]
    pub temperature: Option<f64>,
    /// A JSON object merged into every request body, e.g. '{"options":{"num_ctx":32768}}'.
    #[arg(long, value_name = "JSON")]
    pub extra_body: Option<String>,
    /// The model's context window in tokens: a larger prompt is refused before sending.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub context_window: Option<u64>,
    /// OpenAI-compatible only: send the scene's current code as the predicted output of a
    /// whole-file code edit (`--edit-format whole`).
    #[arg(long)]
    pub predict: bool,
}

impl LlmArgs {
    /// The backend configuration these flags give (the model layer takes no CLI types).
    pub fn config(&self) -> anyhow::Result<crate::llm::LlmConfig> {
        use anyhow::{Context as _, bail};
        let seconds = |flag: &str, value: f64| {
            std::time::Duration::try_from_secs_f64(value)
                .ok()
                .filter(|d| !d.is_zero())
                .with_context(|| format!("{flag} must be a positive number of seconds"))
        };
        let extra_body = match &self.extra_body {
            None => None,
            Some(text) => {
                // The value is not quoted back: it may hold a token for a proxy.
                let value: serde_json::Value = serde_json::from_str(text)
                    .map_err(|e| anyhow::anyhow!("--extra-body is not valid JSON: {e}"))?;
                match value {
                    serde_json::Value::Object(object) => Some(object),
                    _ => bail!("--extra-body must be a JSON object ({{...}})"),
                }
            }
        };
        if let Some(t) = self.temperature
            && !(t.is_finite() && t >= 0.0)
        {
            bail!("--temperature must be a number of at least 0");
        }
        Ok(crate::llm::LlmConfig {
            backend: crate::llm::Backend::parse(&self.llm).unwrap_or_default(),
            base_url: self.base_url.clone(),
            model: self.model.clone(),
            time_scale: self.time_scale,
            timeouts: crate::llm::Timeouts {
                connect: seconds("--connect-timeout", self.connect_timeout)?,
                idle: seconds("--idle-timeout", self.idle_timeout)?,
                total: seconds("--timeout", self.timeout)?,
            },
            tool_mode: crate::llm::ToolMode::parse(&self.tool_mode).unwrap_or_default(),
            max_tokens: self.max_tokens,
            temperature: self.temperature,
            extra_body,
            context_window: self.context_window.map(|n| n as usize),
            predict: self.predict,
        })
    }
}

#[derive(Debug, Clone, Args, Default)]
pub struct TuiArgs {
    /// Project to open (default: the demo project).
    #[arg(long)]
    pub project: Option<String>,
    /// Optimization flags: legacy, optimized, or a list such as cache,memory,-parallel.
    #[arg(long)]
    pub flags: Option<String>,
    #[command(flatten)]
    pub llm: LlmArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub edit_format: EditFormatArgs,
    /// The session file Ctrl+R records to (default: a new file in the current folder).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Also send each run's trace to an OpenTelemetry collector over OTLP/HTTP protobuf
    /// (`URL/v1/traces`); an unreachable one is only a warning in the log.
    #[arg(long, value_name = "URL")]
    pub otlp_endpoint: Option<String>,
}

#[derive(Debug, Args)]
pub struct ProjectsArgs {
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A project file in the fixture format.
    #[arg(value_name = "FILE.json", required_unless_present_any = ["generate", "from_postgres"])]
    pub file: Option<PathBuf>,
    /// Read the project from the editor's own PostgreSQL database (its Drizzle schema) at URL.
    #[arg(long, value_name = "URL", conflicts_with_all = ["file", "generate"], requires = "project")]
    pub from_postgres: Option<String>,
    /// The editor's project id (with --from-postgres).
    #[arg(long, value_name = "ID", requires = "from_postgres")]
    pub project: Option<String>,
    /// The prefix of the editor's table names (with --from-postgres).
    #[arg(
        long,
        value_name = "P",
        default_value = "bazaar-vid_",
        requires = "from_postgres"
    )]
    pub table_prefix: String,
    /// Generate a realistic project of N scenes (up to 10,000) instead of reading a file.
    #[arg(long, value_name = "N", conflicts_with = "file")]
    pub generate: Option<usize>,
    /// Id of the generated project (default: generated-N).
    #[arg(long, requires = "generate")]
    pub id: Option<String>,
    /// Seed of the generator (same seed, same project).
    #[arg(long, default_value_t = 7, requires = "generate")]
    pub seed: u64,
    /// Replace a project of the same id (its scenes, messages, memory and runs) in the same
    /// transaction, instead of refusing the import.
    #[arg(long, conflicts_with = "generate")]
    pub replace: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long)]
    pub project: String,
}

#[derive(Debug, Args)]
pub struct ContextArgs {
    #[arg(long)]
    pub project: String,
    /// The request the context is built for (selects the edit target with `relevant`).
    #[arg(long, default_value = "")]
    pub prompt: String,
    /// legacy, optimized, or a list such as cache,memory,-parallel.
    #[arg(long)]
    pub flags: Option<String>,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    #[arg(long)]
    pub project: String,
    #[arg(long)]
    pub prompt: String,
    #[arg(long)]
    pub flags: Option<String>,
    #[command(flatten)]
    pub llm: LlmArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub edit_format: EditFormatArgs,
    /// Also send the run's trace to an OpenTelemetry collector over OTLP/HTTP protobuf
    /// (`URL/v1/traces`, e.g. http://localhost:4318); an unreachable one is only a warning.
    #[arg(long, value_name = "URL")]
    pub otlp_endpoint: Option<String>,
    #[arg(long, conflicts_with = "events")]
    pub json: bool,
    /// Print every pipeline event as a JSON line on stdout as it happens, the result last
    /// (in the `run_finished` event): the events the dashboard folds.
    #[arg(long, value_name = "FORMAT", value_parser = ["jsonl"])]
    pub events: Option<String>,
    /// Append this run to a session file (JSON Lines, editscope.session/v1), creating it with a
    /// header that holds the project as it is now.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A session file (editscope.session/v1), as `edit --record` writes it.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Replay under these flags (default: each run's recorded flags).
    #[arg(long)]
    pub flags: Option<String>,
    /// Replay a second time under these flags and show both.
    #[arg(long, value_name = "F2")]
    pub vs: Option<String>,
    /// Also send each run's trace to an OpenTelemetry collector over OTLP/HTTP protobuf
    /// (`URL/v1/traces`); an unreachable one is only a warning in the log.
    #[arg(long, value_name = "URL")]
    pub otlp_endpoint: Option<String>,
    #[command(flatten)]
    pub llm: LlmArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub edit_format: EditFormatArgs,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AbArgs {
    #[arg(long)]
    pub project: String,
    #[arg(long)]
    pub prompt: String,
    /// Flags of run A: legacy, optimized, or a list such as cache,memory,-parallel.
    #[arg(long, default_value = "legacy", value_name = "FLAGS")]
    pub a: String,
    /// Flags of run B.
    #[arg(long, default_value = "optimized", value_name = "FLAGS")]
    pub b: String,
    #[command(flatten)]
    pub llm: LlmArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub edit_format: EditFormatArgs,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum MemoryCommand {
    /// List entries, optionally of one type.
    List {
        #[arg(long)]
        project: String,
        #[arg(long = "type", value_name = "T")]
        memory_type: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show one entry in full.
    Show {
        #[arg(long)]
        project: String,
        #[arg(long = "type", value_name = "T")]
        memory_type: String,
        #[arg(long)]
        key: String,
        #[arg(long)]
        json: bool,
    },
    /// Write an entry (upsert rule: the higher confidence wins unless the new one is newer and
    /// at least as confident).
    Set {
        #[arg(long)]
        project: String,
        #[arg(long = "type", value_name = "T")]
        memory_type: String,
        #[arg(long)]
        key: String,
        #[arg(long)]
        value: String,
        #[arg(long, default_value_t = 1.0)]
        confidence: f64,
    },
    /// Remove an entry.
    Forget {
        #[arg(long)]
        project: String,
        #[arg(long = "type", value_name = "T")]
        memory_type: String,
        #[arg(long)]
        key: String,
    },
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    #[arg(long)]
    pub project: String,
    /// How many runs, newest first.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Write the runs as a trace instead of listing them: `chrome` (Trace Event Format, for
    /// Perfetto and chrome://tracing) or `otlp-json` (OTLP/JSON), to FILE (`-`: stdout).
    #[arg(long, num_args = 2, value_names = ["FORMAT", "FILE"], conflicts_with = "json")]
    pub export: Option<Vec<String>>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct UndoArgs {
    #[arg(long)]
    pub project: String,
    #[arg(long)]
    pub scene: String,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Scenes in the generated project.
    #[arg(long, default_value_t = 1_000)]
    pub scenes: usize,
    /// Requests in the scripted session.
    #[arg(long, default_value_t = 50)]
    pub edits: usize,
    /// Scale of the offline model's actual waiting during the bench: 0 (the default) waits
    /// not at all, 1 waits the modeled time. Modeled figures are reported the same either way.
    #[arg(long, default_value_t = 0.0, value_name = "X")]
    pub time_scale: f64,
    /// Measure on an embedded demo project (`demo-small`, `demo-medium`) instead of a
    /// generated one.
    #[arg(long, value_name = "ID", conflicts_with_all = ["scenes", "tui"])]
    pub fixture: Option<String>,
    /// Measure the dashboard instead: time to first frame, resident memory with the project
    /// open, render time with 1,000 memory entries and 10,000 log lines, CPU while idle.
    #[arg(long)]
    pub tui: bool,
    /// Measure instead the wall time of `editscope context` in a new process served from the
    /// SQLite snapshot, RUNS times on each demo project (30 if RUNS is not given).
    #[arg(long, value_name = "RUNS", num_args = 0..=1, default_missing_value = "30",
          conflicts_with_all = ["tui", "fixture"])]
    pub new_process: Option<usize>,
    /// Run N edits in one process (offline, time scale 0) on the 1,000-scene demo with writes
    /// in between, and report resident memory, the caches' sizes and per-stage p50/p95 over
    /// the first and the last tenth.
    #[arg(long, value_name = "N", conflicts_with_all = ["tui", "fixture", "new_process"])]
    pub soak: Option<usize>,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub edit_format: EditFormatArgs,
    #[arg(long)]
    pub json: bool,
}
