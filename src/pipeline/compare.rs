//! Same-work A/B: one prompt run under two sets of flags, each as a dry run from the same
//! starting point, so that the two runs do the same work and the project is left untouched.
//!
//! A [`Checkpoint`] holds a project as it was at one revision (a scratch SQLite copy of its
//! rows, delta log and persisted context snapshots) and the model backend as it was then (the
//! offline backend's prompt cache copied). Every dry run starts from its own copy of the
//! checkpoint, with an in-process cache that starts empty and a fork of the backend, applies its
//! edit for real on that copy (so the resulting code can be compared) and is then recorded in
//! the real database's `edit_runs`, marked as a comparison run: a write that changes no
//! context and bumps no revision. The project's scenes, messages, memory and revision stay
//! exactly as they were.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::{EditResult, Pipeline, PipelineEvent, Stage};
use crate::context::{ContextEngine, EngineOptions, Flags};
use crate::llm::{EditFormat, LlmClient};
use crate::store::{EditRunRecord, Store, StoreError};

/// Why a comparison could not run.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("making the scratch copy of project '{project}' failed: {source}")]
    Store {
        project: String,
        #[source]
        source: StoreError,
    },
    #[error("cannot make a scratch folder for the comparison run: {0}")]
    Io(#[from] std::io::Error),
    #[error(
        "the model backend '{0}' cannot be copied in its current state, so no comparison run can start where it is"
    )]
    NoFork(String),
}

/// A project and a model backend as they were at one moment.
pub struct Checkpoint {
    dir: tempfile::TempDir,
    file: PathBuf,
    pub project_id: String,
    pub revision: i64,
    llm: Box<dyn LlmClient>,
    /// The code edit format the dry runs ask for (the pipeline's, diff unless set).
    pub edit_format: EditFormat,
}

impl std::fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoint")
            .field("project_id", &self.project_id)
            .field("revision", &self.revision)
            .field("file", &self.file)
            .finish()
    }
}

/// The state of a project's scenes after a run, for "is the resulting code identical".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SceneState {
    pub name: String,
    pub code: String,
    pub duration_frames: i64,
}

/// One finished dry run.
#[derive(Debug)]
pub struct DryRun {
    pub result: EditResult,
    /// The scratch project's scenes after the run, in video order (ids left out: a scene that
    /// a run added has an id of its own in each copy).
    pub scenes_after: Vec<SceneState>,
    /// The run as the scratch copy recorded it, to be recorded in the real database.
    pub record: Option<EditRunRecord>,
}

impl Checkpoint {
    /// Takes a checkpoint of `project_id` as committed in `store` now, and of `llm` as it is.
    pub fn take(
        store: &Store,
        project_id: &str,
        llm: &dyn LlmClient,
    ) -> Result<Checkpoint, CompareError> {
        let llm = llm.fork().ok_or_else(|| CompareError::NoFork(llm.name()))?;
        let dir = tempfile::Builder::new()
            .prefix("editscope-checkpoint-")
            .tempdir()?;
        let file = dir.path().join("checkpoint.db");
        let wrap = |source| CompareError::Store {
            project: project_id.to_string(),
            source,
        };
        store.copy_project_to(project_id, &file).map_err(wrap)?;
        let revision = Store::open(&file)
            .and_then(|copy| copy.project_revision(project_id))
            .map_err(wrap)?;
        Ok(Checkpoint {
            dir,
            file,
            project_id: project_id.to_string(),
            revision,
            llm,
            edit_format: EditFormat::Diff,
        })
    }

    /// Replaces the backend state this checkpoint starts runs from (the dashboard copies the
    /// data ahead of time and the backend just before a run).
    pub fn set_llm(&mut self, llm: &dyn LlmClient) -> Result<(), CompareError> {
        self.llm = llm.fork().ok_or_else(|| CompareError::NoFork(llm.name()))?;
        Ok(())
    }

    pub fn backend_name(&self) -> String {
        self.llm.name()
    }

    /// A fresh copy of the checkpoint's database, in a folder of its own.
    fn copy(&self) -> Result<(tempfile::TempDir, PathBuf), CompareError> {
        let dir = tempfile::Builder::new()
            .prefix("editscope-dry-run-")
            .tempdir()?;
        let file = dir.path().join("scratch.db");
        copy_database_file(&self.file, &file)?;
        Ok((dir, file))
    }

    /// Runs `prompt` with `flags` on a fresh copy of the checkpoint. The run is numbered `run`
    /// in the event stream and marked as a comparison run.
    pub async fn dry_run(
        &self,
        prompt: &str,
        flags: Flags,
        options: EngineOptions,
        run: u64,
        events: &UnboundedSender<PipelineEvent>,
        cancel: &CancellationToken,
    ) -> Result<DryRun, CompareError> {
        let (_dir, file) = self.copy()?;
        let wrap = |source| CompareError::Store {
            project: self.project_id.clone(),
            source,
        };
        let store = Store::open(&file).map_err(wrap)?;
        let llm = self
            .llm
            .fork()
            .ok_or_else(|| CompareError::NoFork(self.llm.name()))?;
        let mut pipeline = Pipeline::new(store, ContextEngine::new(flags, options), llm)
            .with_edit_format(self.edit_format)
            .for_comparison(run);
        let result = pipeline
            .run_edit(&self.project_id, prompt, events, cancel)
            .await;
        let scenes_after = pipeline
            .store
            .list_scenes(&self.project_id)
            .map_err(wrap)?
            .into_iter()
            .map(|s| SceneState {
                name: s.name,
                code: s.tsx_code,
                duration_frames: s.duration_frames,
            })
            .collect();
        let record = pipeline
            .store
            .list_edit_runs(&self.project_id, 1)
            .map_err(wrap)?
            .into_iter()
            .next();
        Ok(DryRun {
            result,
            scenes_after,
            record,
        })
    }

    /// The folder the checkpoint lives in (removed when it is dropped).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// Copies a closed SQLite file, with its write-ahead log if one was left beside it.
fn copy_database_file(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::copy(from, to)?;
    let wal = |p: &Path| PathBuf::from(format!("{}-wal", p.display()));
    if wal(from).exists() {
        std::fs::copy(wal(from), wal(to))?;
    }
    Ok(())
}

/// Records a dry run in the real database's `edit_runs`, marked as a comparison run; returns
/// its id there. Not context-changing: no revision moves.
pub fn record_comparison(store: &mut Store, run: &DryRun) -> Result<Option<i64>, StoreError> {
    let Some(record) = &run.record else {
        return Ok(None);
    };
    let record = EditRunRecord {
        comparison: true,
        ..record.clone()
    };
    store.write(|w| w.add_edit_run(&record)).map(Some)
}

fn ratio(b: Option<f64>, a: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if a > 0.0 => Some(b / a),
        _ => None,
    }
}

/// Two dry runs side by side (`ab --json`).
#[derive(Debug, Serialize)]
pub struct AbReport {
    pub project_id: String,
    pub prompt: String,
    /// The revision both runs started from.
    pub revision: i64,
    pub a: EditResult,
    pub b: EditResult,
    /// B over A, per stage and in total (`null` where A took no time).
    pub ratio: BTreeMap<String, Option<f64>>,
    /// Both chose the same tool and the same target (or both asked the same kind of question).
    pub same_decision: bool,
    /// The project's scenes after both runs are identical (name, code, duration, order).
    pub same_code: bool,
    pub dry_run: bool,
    /// Which backend state both started from, in words.
    pub provider_state: String,
}

impl AbReport {
    pub fn new(checkpoint: &Checkpoint, prompt: &str, a: &DryRun, b: &DryRun) -> AbReport {
        let mut ratios = BTreeMap::new();
        for stage in Stage::ALL {
            ratios.insert(
                stage.as_str().to_string(),
                ratio(
                    b.result.stage_figure_ms(stage),
                    a.result.stage_figure_ms(stage),
                ),
            );
        }
        ratios.insert(
            "total".to_string(),
            ratio(
                Some(b.result.total_figure_ms()),
                Some(a.result.total_figure_ms()),
            ),
        );
        AbReport {
            project_id: checkpoint.project_id.clone(),
            prompt: prompt.to_string(),
            revision: checkpoint.revision,
            a: a.result.clone(),
            b: b.result.clone(),
            ratio: ratios,
            same_decision: same_decision(&a.result, &b.result),
            same_code: a.scenes_after == b.scenes_after,
            dry_run: true,
            provider_state: provider_state(&checkpoint.backend_name()),
        }
    }
}

/// Whether two runs decided the same: the same outcome, tool and target.
pub fn same_decision(a: &EditResult, b: &EditResult) -> bool {
    a.outcome == b.outcome && a.tool == b.tool && same_target(a, b)
}

fn same_target(a: &EditResult, b: &EditResult) -> bool {
    // A scene that each run added has an id of its own in each copy: the decision is the same.
    a.tool.as_deref() == Some("addScene") || a.target_scene_id == b.target_scene_id
}

/// What "the same provider-side state" means for a backend.
pub fn provider_state(backend: &str) -> String {
    if backend.starts_with("offline") {
        "offline prompt cache copied from one state for both runs".into()
    } else {
        format!("{backend}: provider-side cache not controllable; both runs sent as they came")
    }
}

/// Runs `prompt` under `a` and then `b`, each as a dry run from one checkpoint of the project,
/// records both in `edit_runs` as comparison runs, and reports them side by side.
#[allow(clippy::too_many_arguments)]
pub async fn ab(
    store: &mut Store,
    project_id: &str,
    prompt: &str,
    a: Flags,
    b: Flags,
    llm: &dyn LlmClient,
    options: EngineOptions,
    edit_format: EditFormat,
    events: &UnboundedSender<PipelineEvent>,
    cancel: &CancellationToken,
) -> Result<AbReport, CompareError> {
    let mut checkpoint = Checkpoint::take(store, project_id, llm)?;
    checkpoint.edit_format = edit_format;
    // The tokenizer's one-time start-up belongs to the process, not to whichever run is first.
    crate::context::tokens::load();
    let mut run_a = checkpoint
        .dry_run(prompt, a, options.clone(), 1, events, cancel)
        .await?;
    let mut run_b = checkpoint
        .dry_run(prompt, b, options, 2, events, cancel)
        .await?;
    let wrap = |source| CompareError::Store {
        project: project_id.to_string(),
        source,
    };
    run_a.result.run_id = record_comparison(store, &run_a).map_err(wrap)?;
    run_b.result.run_id = record_comparison(store, &run_b).map_err(wrap)?;
    Ok(AbReport::new(&checkpoint, prompt, &run_a, &run_b))
}
