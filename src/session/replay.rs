//! Replaying a session: its prompts, in order, on a scratch copy of the project its header
//! holds (a temporary database: the user's databases are never opened), under the recorded
//! flags or others, once per pass (`--flags F --vs F2` is two passes).

use serde::Serialize;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::Session;
use crate::context::{ContextEngine, EngineOptions, Flags};
use crate::llm::{EditFormat, LlmClient, LlmError};
use crate::pipeline::compare::same_decision;
use crate::pipeline::{EditResult, Pipeline, PipelineEvent};
use crate::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("the session's project cannot be set up for replay: {0}")]
    Project(String),
    #[error("cannot make a scratch folder for the replay: {0}")]
    Io(#[from] std::io::Error),
    #[error("the run {run}'s recorded flags '{flags}' do not parse: {reason}")]
    Flags {
        run: u64,
        flags: String,
        reason: String,
    },
    #[error("setting up the model backend failed: {0}")]
    Llm(#[from] LlmError),
}

/// Whether a replayed run did what the recorded one did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RunMatch {
    pub same_decision: bool,
    pub same_code: bool,
}

/// One recorded run and its replays, one per pass.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayedRun {
    pub prompt: String,
    pub recorded: EditResult,
    pub replayed: Vec<EditResult>,
    pub matches: Vec<RunMatch>,
    /// Every pass decided as the recording did.
    pub same_decision: bool,
    /// Every pass left the target scene with the recorded code.
    pub same_code: bool,
}

/// `replay --json`.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayReport {
    pub file: String,
    pub project_id: String,
    /// The flags of each pass ("recorded" when a pass keeps each run's own).
    pub passes: Vec<String>,
    pub runs: Vec<ReplayedRun>,
    pub cut_off: bool,
}

/// One pass: `None` replays each run under the flags it was recorded with.
pub type Pass = Option<Flags>;

/// Replays `session` once per pass, each pass on its own scratch copy of the header's project
/// with a backend of its own from `make_llm` (so the passes start in the same state).
#[allow(clippy::too_many_arguments)]
pub async fn replay(
    session: &Session,
    passes: &[Pass],
    make_llm: &dyn Fn() -> Result<Box<dyn LlmClient>, LlmError>,
    options: EngineOptions,
    edit_format: Option<EditFormat>,
    otlp_endpoint: Option<&str>,
    events: &UnboundedSender<PipelineEvent>,
    cancel: &CancellationToken,
) -> Result<ReplayReport, ReplayError> {
    let project = &session.header.project;
    let file = session.path.display().to_string();
    crate::fixtures::validate(&file, project).map_err(|e| ReplayError::Project(e.to_string()))?;
    // The tokenizer's one-time start-up belongs to the process, not to the first pass.
    crate::context::tokens::load();
    let mut per_pass: Vec<Vec<(EditResult, Option<String>)>> = Vec::new();
    for pass in passes {
        let dir = tempfile::Builder::new()
            .prefix("editscope-replay-")
            .tempdir()?;
        let mut store = Store::open(dir.path().join("replay.db"))
            .map_err(|e| ReplayError::Project(e.to_string()))?;
        crate::fixtures::import(&mut store, &file, project)
            .map_err(|e| ReplayError::Project(e.to_string()))?;
        let first_flags = match pass {
            Some(f) => *f,
            None => Flags::LEGACY,
        };
        let mut pipeline = Pipeline::new(
            store,
            ContextEngine::new(first_flags, options.clone()),
            make_llm()?,
        );
        let mut results = Vec::new();
        for run in &session.runs {
            let flags = match pass {
                Some(f) => *f,
                None => {
                    Flags::parse(&run.flags, Flags::LEGACY).map_err(|e| ReplayError::Flags {
                        run: run.run,
                        flags: run.flags.clone(),
                        reason: e.to_string(),
                    })?
                }
            };
            pipeline.engine.flags = flags;
            // Without --edit-format, each run asks in the format it was recorded with.
            pipeline.edit_format = edit_format.unwrap_or(run.result.edit_format);
            let result = pipeline
                .run_edit(&project.project.id, &run.prompt, events, cancel)
                .await;
            let code_after = target_code(&pipeline.store, &result);
            if let Some(endpoint) = otlp_endpoint {
                let trace = crate::export::otlp::finished_run(
                    &pipeline.store,
                    &pipeline.llm.name(),
                    &result,
                );
                crate::export::otlp::send_or_warn(endpoint, std::slice::from_ref(&trace)).await;
            }
            results.push((result, code_after));
        }
        per_pass.push(results);
    }
    let runs = session
        .runs
        .iter()
        .enumerate()
        .map(|(i, recorded)| {
            let replays: Vec<&(EditResult, Option<String>)> =
                per_pass.iter().filter_map(|p| p.get(i)).collect();
            let matches: Vec<RunMatch> = replays
                .iter()
                .map(|(result, code)| RunMatch {
                    same_decision: same_decision(&recorded.result, result),
                    same_code: *code == recorded.code_after,
                })
                .collect();
            ReplayedRun {
                prompt: recorded.prompt.clone(),
                recorded: recorded.result.clone(),
                replayed: replays.iter().map(|(r, _)| r.clone()).collect(),
                same_decision: matches.iter().all(|m| m.same_decision),
                same_code: matches.iter().all(|m| m.same_code),
                matches,
            }
        })
        .collect();
    Ok(ReplayReport {
        file,
        project_id: project.project.id.clone(),
        passes: passes
            .iter()
            .map(|p| p.map_or_else(|| "recorded".to_string(), |f| f.to_string()))
            .collect(),
        runs,
        cut_off: session.cut_off,
    })
}

/// The code of the scene a run targeted, as it is now in `store` (`None`: no target, or the
/// scene is gone).
pub fn target_code(store: &Store, result: &EditResult) -> Option<String> {
    let id = result.target_scene_id.as_deref()?;
    store.find_scene(id).ok().flatten().map(|s| s.tsx_code)
}
