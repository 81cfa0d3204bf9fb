//! `editscope bench --soak N`: N edits in one process through the whole pipeline (offline
//! model, time scale 0) on the 1,000-scene demo, with writes of another user between them,
//! to show that resident memory and the caches stay bounded and the stages do not slow down.
//!
//! The interleaved writes keep the project's size steady (a scene's code changes, a scene is
//! added and later deleted again, a preference is upserted among five keys), so that what
//! grows is only what the edits themselves record (runs, messages, iterations), as in real use.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::Distribution;
use super::tui_bench::proc_status_kib;
use crate::context::{ContextEngine, EngineOptions, Flags};
use crate::fixtures::{self, generate};
use crate::llm::offline::OfflineBackend;
use crate::pipeline::{Outcome, Pipeline, Stage};
use crate::store::{MemoryType, MemoryWrite, Scene, Store};

/// p50 and p95 of one stage over a tenth of the soak.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StageFigures {
    pub p50_ms: f64,
    pub p95_ms: f64,
}

/// `bench --soak N --json` (DESIGN.md 7).
#[derive(Debug, Clone, Serialize)]
pub struct SoakReport {
    pub edits: usize,
    pub project: String,
    pub scenes: usize,
    /// Resident memory (`VmRSS`) with the project open before the first edit, after the first
    /// tenth of the edits and after the last; `None` off Linux.
    pub rss_start_kib: Option<u64>,
    pub rss_after_tenth_kib: Option<u64>,
    pub rss_end_kib: Option<u64>,
    /// What was measured every tenth of the edits (every `N / 10`, and after the last), to see
    /// when memory grows and beside what.
    pub rss_samples_kib: Vec<SoakSample>,
    /// Entries in each cache at the end.
    pub caches: BTreeMap<String, u64>,
    /// Real time per stage (and `total`), over the first and the last tenth of the edits.
    pub first_tenth: BTreeMap<String, StageFigures>,
    pub last_tenth: BTreeMap<String, StageFigures>,
    pub failed_edits: usize,
}

/// One sample of [`SoakReport::rss_samples_kib`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SoakSample {
    pub after_edits: usize,
    /// Resident memory (`VmRSS`); `None` off Linux.
    pub kib: Option<u64>,
    /// Entries in the process-wide token memo then.
    pub token_memo: u64,
    /// The database file with its write-ahead log, which grows with every edit's records:
    /// what SQLite's page caches (bounded per connection) read from.
    pub database_kib: u64,
}

/// The database file and its `-wal`, in KiB (0 for what is missing).
fn database_kib(path: &std::path::Path) -> u64 {
    let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    (size(path) + size(std::path::Path::new(&wal))) / 1024
}

pub struct SoakConfig {
    pub edits: usize,
}

fn figures(dists: &BTreeMap<String, Distribution>) -> BTreeMap<String, StageFigures> {
    dists
        .iter()
        .map(|(name, d)| {
            (
                name.clone(),
                StageFigures {
                    p50_ms: d.p50() as f64 / 1000.0,
                    p95_ms: d.p95() as f64 / 1000.0,
                },
            )
        })
        .collect()
}

/// What another user writes before edit `i`; the project keeps its size.
fn interleaved_write(
    store: &mut Store,
    spec: &generate::GenerateSpec,
    i: usize,
) -> anyhow::Result<()> {
    let project_id = &spec.project_id;
    let extra = format!("{project_id}-soak-extra");
    match i % 4 {
        0 => {
            let scenes = store.list_scenes(project_id)?;
            if !scenes.is_empty() {
                let target = &scenes[(i * 31) % scenes.len()];
                let code = generate::generate_scene(spec, i % scenes.len(), spec.seed ^ i as u64);
                store.write(|w| {
                    w.update_scene_code(&target.id, &code.tsx_code, code.duration_frames)
                })?;
            }
        }
        1 => {
            let scene = generate::generate_scene(spec, 100_000 + i, spec.seed ^ i as u64);
            let now = crate::util::now_ms();
            store.write(|w| {
                w.upsert_scene(&Scene {
                    id: extra.clone(),
                    project_id: project_id.clone(),
                    name: format!("{} {i}", scene.name),
                    ord: 1_000_000,
                    tsx_code: scene.tsx_code.clone(),
                    duration_frames: scene.duration_frames,
                    props_json: "{}".into(),
                    created_at: now,
                    updated_at: now,
                })
            })?;
        }
        2 => {
            let write = MemoryWrite {
                project_id: project_id.clone(),
                memory_type: MemoryType::UserPreference,
                key: format!("soak_pref_{}", i % 5),
                value: format!("value {i}"),
                confidence: 0.9,
                source_prompt: format!("soak request {i}"),
                learned_at: None,
            };
            store.write(|w| w.upsert_memory(&write))?;
        }
        _ => {
            if store.get_scene(&extra).is_ok() {
                store.write(|w| w.delete_scene(&extra).map(|_| ()))?;
            }
        }
    }
    Ok(())
}

pub fn run(config: &SoakConfig) -> anyhow::Result<SoakReport> {
    let edits = config.edits.max(1);
    let spec = generate::GenerateSpec::large_demo();
    let project = generate::generate_project(&spec);
    let dir = tempfile::tempdir()?;
    let mut store = Store::open(dir.path().join("soak.db"))?;
    fixtures::import(&mut store, "soak project", &project)?;
    let engine = ContextEngine::new(Flags::OPTIMIZED, EngineOptions::default());
    let mut pipeline = Pipeline::new(store, engine, Box::new(OfflineBackend::new(0.0)));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let tenth = (edits / 10).max(1);
    let mut first: BTreeMap<String, Distribution> = BTreeMap::new();
    let mut last: BTreeMap<String, Distribution> = BTreeMap::new();
    let rss_start_kib = proc_status_kib("VmRSS");
    let mut rss_after_tenth_kib = None;
    let mut rss_samples_kib = Vec::new();
    let mut failed_edits = 0;
    for i in 0..edits {
        interleaved_write(&mut pipeline.store, &spec, i)?;
        let prompt = super::bench::prompt_for(i, spec.scenes);
        let started = Instant::now();
        let result = runtime.block_on(pipeline.run_edit(&spec.project_id, &prompt, &tx, &cancel));
        let total_us = started.elapsed().as_micros() as u64;
        // The events are not kept: a soak must not hold what it measures.
        while rx.try_recv().is_ok() {}
        if result.outcome == Outcome::Failed {
            failed_edits += 1;
        }
        let bucket = if i < tenth {
            Some(&mut first)
        } else if i >= edits - tenth {
            Some(&mut last)
        } else {
            None
        };
        if let Some(bucket) = bucket {
            for stage in Stage::ALL {
                if let Some(s) = result.stages.iter().find(|s| s.name == stage) {
                    bucket
                        .entry(stage.as_str().to_string())
                        .or_default()
                        .record((s.real_ms * 1000.0) as u64);
                }
            }
            bucket.entry("total".into()).or_default().record(total_us);
        }
        if i + 1 == tenth {
            rss_after_tenth_kib = proc_status_kib("VmRSS");
        }
        if (i + 1) % tenth == 0 || i + 1 == edits {
            rss_samples_kib.push(SoakSample {
                after_edits: i + 1,
                kib: proc_status_kib("VmRSS"),
                token_memo: crate::context::tokens::memo_entries() as u64,
                database_kib: database_kib(pipeline.store.path()),
            });
        }
    }
    pipeline.engine.flush_snapshots();
    let rss_end_kib = proc_status_kib("VmRSS");
    let mut caches = BTreeMap::new();
    caches.insert(
        "context_memory".to_string(),
        pipeline.engine.optimized().cache().memory_entries(),
    );
    let snapshots = pipeline.store.snapshot_count(&spec.project_id)?;
    caches.insert("context_sqlite_snapshots".into(), snapshots);
    caches.insert(
        "token_memo".into(),
        crate::context::tokens::memo_entries() as u64,
    );
    caches.insert(
        "previous_contexts".into(),
        pipeline.engine.previous_contexts() as u64,
    );
    for (name, n) in pipeline.llm.cache_entries() {
        caches.insert(name.to_string(), n);
    }
    let scenes = pipeline.store.scene_count(&spec.project_id)? as usize;
    Ok(SoakReport {
        edits,
        project: spec.project_id.clone(),
        scenes,
        rss_start_kib,
        rss_after_tenth_kib,
        rss_end_kib,
        rss_samples_kib,
        caches,
        first_tenth: figures(&first),
        last_tenth: figures(&last),
        failed_edits,
    })
}
