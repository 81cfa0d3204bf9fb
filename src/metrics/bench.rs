//! `editscope bench`: the same scripted session under legacy and under optimized, in one
//! process, on a generated project; plus micro figures for cold build, warm hit and incremental
//! update. Figures are printed, never asserted.

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::Distribution;
use crate::context::{BuildPath, BuildRequest, ContextCache, ContextEngine, EngineOptions, Flags};
use crate::fixtures::{self, ProjectFile, generate};
use crate::llm::offline::OfflineBackend;
use crate::pipeline::{Pipeline, Stage};
use crate::store::{ImageAnalysis, MemoryType, MemoryWrite, Store};

#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Scenes of the generated project (ignored with `fixture`).
    pub scenes: usize,
    pub edits: usize,
    pub seed: u64,
    /// Scale of the offline model's actual waiting (0: none). The modeled figures are
    /// reported at scale 1 whatever it is; the real edit time includes the waiting.
    pub time_scale: f64,
    /// An embedded demo project (`demo-small`, `demo-medium`) instead of a generated one.
    pub fixture: Option<String>,
    /// Share (0..1) of reused contexts of the scripted session verified against a fresh
    /// build (the cost of checking shows in the context stage).
    pub shadow_rate: f64,
    /// The code edit answer format of both sessions.
    pub edit_format: crate::llm::EditFormat,
    /// The store to measure on: `None` (or a file) measures on SQLite files in a temp dir; a
    /// PostgreSQL location measures on fresh schemas of that database, dropped at the end.
    pub db: Option<crate::store::Location>,
}

/// Figures of one path (`bench --json` field `legacy` / `optimized`).
#[derive(Debug, Clone, Serialize)]
pub struct PathSummary {
    pub build_p50_us: u64,
    pub build_p95_us: u64,
    /// Share of builds served from the cache (as is or incrementally updated).
    pub hit_rate: f64,
    /// Input tokens sent to the model over the session.
    pub tokens_total: u64,
    /// Modeled end-to-end edit time (offline latency model at scale 1), p50.
    pub modeled_edit_p50_ms: f64,
    pub modeled_edit_p95_ms: f64,
    /// Wall time of a whole edit, p50: the real work plus the model's waiting at the bench's
    /// time scale (equal to the real work at time scale 0).
    pub real_edit_p50_ms: f64,
    /// Real time of the pipeline outside model time (context, parsing, storing), p50.
    pub overhead_p50_ms: f64,
    /// Modeled time per stage, p50 (ms): context, tool_selection, code_edit, response.
    pub stage_p50_ms: Vec<(String, f64)>,
    /// Real time of the pipeline's context stage, p50 and p95 (µs): the whole
    /// `build_and_diff`, so the build (`build_p50_us`) plus the diff against the previous
    /// context; snapshots are written behind it, by the engine's writer thread.
    pub context_stage_p50_us: u64,
    pub context_stage_p95_us: u64,
    /// The context stage's time beyond its build (stage minus `build_us`, per edit), p50 (µs):
    /// the diff against the previous context.
    pub context_beyond_build_p50_us: u64,
    /// The context build's sub-steps in the session, p50 of each (µs), by name.
    pub context_steps_p50_us: std::collections::BTreeMap<String, u64>,
    pub context_tokens_p50: u64,
    /// Output tokens of a code edit call, p50 (the answer in the session's edit format).
    pub output_tokens_p50: u64,
    /// Share (0..1) of a model call's input tokens served from the prompt cache, p50, from the
    /// second call of each stage on.
    pub cached_share_p50: f64,
    /// Where a model call's prompt first differs from the stage's previous prompt, as a share
    /// (0..1) of the previous prompt's stable part (system and stable prefix), p50: 1 when the
    /// whole stable part was reused.
    pub prefix_shared_share_p50: f64,
    pub failed_runs: usize,
    pub paths: Vec<(String, usize)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Micro {
    pub cold_build_p50_us: u64,
    pub warm_hit_p50_us: u64,
    pub incremental_p50_us: u64,
    /// Serialising the cached base to JSON and writing it to `context_snapshots`, p50: the
    /// work the snapshot writer thread takes off the request (0 for legacy, which has no
    /// cache).
    pub snapshot_write_p50_us: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    pub build_p50: f64,
    pub tokens: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// The project measured: a generated one (`bench`) or a demo fixture's id.
    pub project: String,
    pub scenes: usize,
    pub edits: usize,
    pub legacy: PathSummary,
    pub optimized: PathSummary,
    pub ratio: Ratio,
    pub micro_legacy: Micro,
    pub micro_optimized: Micro,
    /// The store measured on: `sqlite` or `postgres`.
    pub store: &'static str,
}

const PROMPTS: [&str; 8] = [
    "make the title blue in scene {n}",
    "change the headline of scene {n} to 'Ship faster'",
    "make the title bigger in scene {n}",
    "use our brand color for the title in scene {n}",
    "make scene {n} last 4 seconds",
    "use Poppins for the title in scene {n}",
    "make the title smaller in scene {n}",
    "add a subtitle saying 'Now in beta' to scene {n}",
];

pub(super) fn prompt_for(i: usize, scenes: usize) -> String {
    let n = (i * 7919) % scenes.max(1) + 1;
    PROMPTS[i % PROMPTS.len()].replace("{n}", &n.to_string())
}

/// Writes another user (or the product) makes between two requests: new and changed scenes,
/// new preferences, new images. The same for both paths.
fn interleaved_write(
    store: &mut Store,
    project_id: &str,
    i: usize,
    spec: &generate::GenerateSpec,
) -> anyhow::Result<()> {
    match i % 4 {
        1 => {
            let mut scene = generate::generate_scene(spec, 100_000 + i, spec.seed ^ i as u64);
            scene.id = format!("{project_id}-bench-{i}");
            let ord = store.scene_count(project_id)? as i64 + 10_000 + i as i64;
            let now = crate::util::now_ms();
            store.write(|w| {
                w.upsert_scene(&crate::store::Scene {
                    id: scene.id.clone(),
                    project_id: project_id.to_string(),
                    name: format!("{} {i}", scene.name),
                    ord,
                    tsx_code: scene.tsx_code.clone(),
                    duration_frames: scene.duration_frames,
                    props_json: "{}".into(),
                    created_at: now,
                    updated_at: now,
                })
            })?;
        }
        2 => {
            let w = MemoryWrite {
                project_id: project_id.to_string(),
                memory_type: MemoryType::UserPreference,
                key: format!("bench_pref_{}", i % 5),
                value: format!("value {i}"),
                confidence: 0.9,
                source_prompt: format!("bench request {i}"),
                learned_at: None,
            };
            store.write(|tx| tx.upsert_memory(&w))?;
        }
        3 => {
            store.write(|w| {
                w.add_image_analysis(&ImageAnalysis {
                    id: format!("{project_id}-bench-img-{i}"),
                    project_id: project_id.to_string(),
                    trace_id: format!("bench-{i}"),
                    image_urls: vec![format!("https://assets.example.com/bench/{i}.png")],
                    palette: serde_json::json!(["#0F172A", "#38BDF8"]),
                    typography: "Inter".into(),
                    mood: "confident".into(),
                    layout: serde_json::json!({"grid": "centered"}),
                    processing_time_ms: 120,
                    created_at: crate::util::now_ms(),
                })
            })?;
        }
        _ => {}
    }
    Ok(())
}

/// A new database in `dir` holding `project`.
pub(super) fn fresh_db(
    dir: &std::path::Path,
    name: &str,
    project: &ProjectFile,
) -> anyhow::Result<Store> {
    let mut store = Store::open(dir.join(name))?;
    fixtures::import(&mut store, "bench project", project)?;
    Ok(store)
}

/// A fresh store named `name` holding `project`: a file in `dir`, or (`config.db` on
/// PostgreSQL) a schema of that database, named in `made` to be dropped at the end.
fn fresh_store(
    config: &BenchConfig,
    dir: &std::path::Path,
    name: &str,
    project: &ProjectFile,
    made: &mut Vec<String>,
) -> anyhow::Result<Store> {
    match config.db.as_ref().filter(|l| l.is_postgres()) {
        None => fresh_db(dir, &format!("{name}.db"), project),
        Some(base) => {
            let schema = format!("editscope_bench_{}_{name}", std::process::id());
            // One left over from a run of the same process id that was cut off goes first.
            base.discard(&schema)?;
            let location = base.sibling(dir, &schema)?;
            made.push(schema);
            let mut store = location.open()?;
            fixtures::import(&mut store, "bench project", project)?;
            Ok(store)
        }
    }
}

/// What one bench measures on: the project, and the generator settings that make the scenes
/// the session adds (in the project's id, so they land in it).
struct BenchProject {
    file: ProjectFile,
    spec: generate::GenerateSpec,
}

impl BenchProject {
    fn new(config: &BenchConfig) -> anyhow::Result<Self> {
        let Some(id) = &config.fixture else {
            let spec = project_spec(config.scenes, config.seed);
            let file = generate::generate_project(&spec);
            return Ok(BenchProject { file, spec });
        };
        let file = fixtures::demo_project(id)?.ok_or_else(|| {
            anyhow::anyhow!(
                "no demo fixture `{id}`: there are {}",
                fixtures::DEMO_IDS.join(", ")
            )
        })?;
        let spec = generate::GenerateSpec {
            project_id: file.project.id.clone(),
            user_id: file.project.user_id.clone(),
            ..project_spec(file.scenes.len(), config.seed)
        };
        Ok(BenchProject { file, spec })
    }
}

fn session(
    runtime: &tokio::runtime::Runtime,
    dir: &std::path::Path,
    project: &BenchProject,
    flags: Flags,
    config: &BenchConfig,
    made: &mut Vec<String>,
) -> anyhow::Result<PathSummary> {
    let (spec, edits) = (&project.spec, config.edits);
    let store = fresh_store(
        config,
        dir,
        &format!("session_{}", flags.is_legacy()),
        &project.file,
        made,
    )?;
    let engine = ContextEngine::new(
        flags,
        EngineOptions {
            shadow_rate: config.shadow_rate,
            ..EngineOptions::default()
        },
    );
    // At time scale 0 the run does not wait; the modeled times are reported either way.
    let backend = OfflineBackend::new(config.time_scale);
    let mut pipeline =
        Pipeline::new(store, engine, Box::new(backend)).with_edit_format(config.edit_format);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let mut steps: std::collections::BTreeMap<String, Distribution> = Default::default();
    let mut build = Distribution::new();
    let mut modeled = Distribution::new();
    let mut wall = Distribution::new();
    let mut overhead = Distribution::new();
    let mut stage_dists: Vec<Distribution> = (0..4).map(|_| Distribution::new()).collect();
    let mut context_stage = Distribution::new();
    let mut beyond_build = Distribution::new();
    let mut context_tokens = Distribution::new();
    let mut output_tokens = Distribution::new();
    // Shares are recorded in parts per million: the distribution holds integers.
    let (mut cached_share, mut shared_share) = (Distribution::new(), Distribution::new());
    let mut stable_tokens: std::collections::HashMap<Stage, usize> = Default::default();
    let mut tokens_total = 0;
    let mut failed = 0;
    let mut paths: std::collections::BTreeMap<String, usize> = Default::default();
    let mut served = 0;
    for i in 0..edits {
        interleaved_write(&mut pipeline.store, &spec.project_id, i, spec)?;
        let prompt = prompt_for(i, spec.scenes);
        let started = std::time::Instant::now();
        let result = runtime.block_on(pipeline.run_edit(&spec.project_id, &prompt, &tx, &cancel));
        wall.record(started.elapsed().as_micros() as u64);
        while let Ok(event) = rx.try_recv() {
            match event {
                crate::pipeline::PipelineEvent::Cache { steps: timed, .. } => {
                    for step in timed {
                        steps.entry(step.name).or_default().record(step.us.max(1));
                    }
                }
                crate::pipeline::PipelineEvent::ModelCall {
                    stage,
                    prompt,
                    call,
                    ..
                } => {
                    let stable = crate::context::tokens::count(&prompt.system)
                        + crate::context::tokens::count(&prompt.stable_prefix);
                    if let Some(previous) = stable_tokens.insert(stage, stable) {
                        let shared = call
                            .prefix_divergence
                            .as_ref()
                            .map_or(1.0, |d| (d.token as f64 / previous.max(1) as f64).min(1.0));
                        shared_share.record((shared * 1e6) as u64);
                        let cached = call.cached_tokens as f64 / call.input_tokens.max(1) as f64;
                        cached_share.record((cached * 1e6) as u64);
                    }
                    if stage == Stage::CodeEdit {
                        output_tokens.record(call.output_tokens);
                    }
                }
                _ => {}
            }
        }
        if let Some(us) = result.context_build_us {
            build.record(us);
        }
        if let Some(path) = &result.context_path {
            *paths.entry(path.clone()).or_default() += 1;
            if path == BuildPath::CacheHit.as_str() || path == BuildPath::Incremental.as_str() {
                served += 1;
            }
        }
        if result.error.is_some() {
            failed += 1;
        }
        tokens_total += result.tokens.input;
        context_tokens.record(result.tokens.context.max(1));
        if let Some(ms) = result.total_simulated_ms {
            modeled.record((ms * 1000.0) as u64);
        }
        let real_outside_model: f64 = result
            .stages
            .iter()
            .filter(|s| !s.name.is_model_stage())
            .map(|s| s.real_ms)
            .sum();
        overhead.record((real_outside_model * 1000.0) as u64);
        if let Some(s) = result.stages.iter().find(|s| s.name == Stage::Context) {
            let us = (s.real_ms * 1000.0) as u64;
            context_stage.record(us);
            if let Some(build) = result.context_build_us {
                beyond_build.record(us.saturating_sub(build));
            }
        }
        for (k, s) in result.stages.iter().enumerate().take(4) {
            if let Some(ms) = s.simulated_ms {
                stage_dists[k].record((ms * 1000.0) as u64);
            }
        }
    }
    let names = ["context", "tool_selection", "code_edit", "response"];
    Ok(PathSummary {
        build_p50_us: build.p50(),
        build_p95_us: build.p95(),
        hit_rate: if edits == 0 {
            0.0
        } else {
            served as f64 / edits as f64
        },
        tokens_total,
        modeled_edit_p50_ms: modeled.p50() as f64 / 1000.0,
        modeled_edit_p95_ms: modeled.p95() as f64 / 1000.0,
        real_edit_p50_ms: wall.p50() as f64 / 1000.0,
        overhead_p50_ms: overhead.p50() as f64 / 1000.0,
        stage_p50_ms: names
            .iter()
            .zip(&stage_dists)
            .map(|(n, d)| (n.to_string(), d.p50() as f64 / 1000.0))
            .collect(),
        context_stage_p50_us: context_stage.p50(),
        context_stage_p95_us: context_stage.p95(),
        context_beyond_build_p50_us: beyond_build.p50(),
        context_steps_p50_us: steps.iter().map(|(k, d)| (k.clone(), d.p50())).collect(),
        context_tokens_p50: context_tokens.p50(),
        output_tokens_p50: output_tokens.p50(),
        cached_share_p50: cached_share.p50() as f64 / 1e6,
        prefix_shared_share_p50: shared_share.p50() as f64 / 1e6,
        failed_runs: failed,
        paths: paths.into_iter().collect(),
    })
}

/// Cold build, warm hit and incremental update figures for one flag set.
fn micro(
    dir: &std::path::Path,
    project: &BenchProject,
    flags: Flags,
    rounds: usize,
    config: &BenchConfig,
    made: &mut Vec<String>,
) -> anyhow::Result<Micro> {
    let spec = &project.spec;
    let mut store = fresh_store(
        config,
        dir,
        &format!("micro_{}", flags.is_legacy()),
        &project.file,
        made,
    )?;
    let request = BuildRequest {
        project_id: &spec.project_id,
        user_id: None,
        prompt: "make the title blue in scene 2",
    };
    let (mut cold, mut warm, mut incr) = (
        Distribution::new(),
        Distribution::new(),
        Distribution::new(),
    );
    let opts = || EngineOptions {
        persist_snapshots: false,
        ..EngineOptions::default()
    };
    for _ in 0..rounds {
        let mut engine = ContextEngine::new(flags, opts());
        cold.record(engine.build(&store, &request)?.stats.build_us);
    }
    let mut engine = ContextEngine::new(flags, opts());
    engine.build(&store, &request)?;
    // Legacy has no cache: its "warm" and "incremental" builds are full builds, which a few
    // samples describe; the optimized ones take microseconds and need many for a steady p50
    // (an incremental update's cost depends on which scene changed, so it needs them most).
    let (warm_rounds, incremental_rounds) = if flags.is_legacy() {
        (rounds, rounds)
    } else {
        (rounds * 20, rounds * 20)
    };
    for _ in 0..warm_rounds {
        warm.record(engine.build(&store, &request)?.stats.build_us);
    }
    let scene_ids: Vec<String> = store
        .list_scene_meta(&spec.project_id)?
        .into_iter()
        .map(|s| s.id)
        .collect();
    for r in 0..incremental_rounds {
        let id = &scene_ids[(r * 31) % scene_ids.len()];
        let scene = store.get_scene(id)?;
        let code = format!("{}\n// revision {r}\n", scene.tsx_code);
        store.write(|w| w.update_scene_code(id, &code, scene.duration_frames))?;
        incr.record(engine.build(&store, &request)?.stats.build_us);
    }
    let mut snapshot_write = Distribution::new();
    if !flags.is_legacy() {
        // The same base the warm builds were served, written as the writer thread writes it.
        let cache = engine.optimized().cache();
        let key = crate::context::CacheKey {
            project_id: spec.project_id.clone(),
            user_id: spec.user_id.clone(),
            variant: flags.content_variant(),
        };
        if let Some(base) = engine.optimized().peek(&store, &key) {
            let writes = ContextCache::new(cache.ttl(), cache.clock().clone(), true);
            writes.set_write_behind(false);
            for _ in 0..rounds * 4 {
                let started = std::time::Instant::now();
                writes.persist(&store, &key, base.clone(), 0)?;
                snapshot_write.record(started.elapsed().as_micros() as u64);
            }
        }
    }
    Ok(Micro {
        cold_build_p50_us: cold.p50(),
        warm_hit_p50_us: warm.p50(),
        incremental_p50_us: incr.p50(),
        snapshot_write_p50_us: snapshot_write.p50(),
    })
}

/// The generated project both benchmarks measure on.
pub(super) fn project_spec(scenes: usize, seed: u64) -> generate::GenerateSpec {
    generate::GenerateSpec {
        project_id: "bench".into(),
        title: format!("Bench project ({scenes} scenes)"),
        user_id: "bench-user".into(),
        scenes,
        seed,
    }
}

pub fn run(config: &BenchConfig) -> anyhow::Result<BenchReport> {
    let dir = tempfile::tempdir()?;
    let project = BenchProject::new(config)?;
    let scenes = project.spec.scenes;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut made = Vec::new();
    let measured = (|| -> anyhow::Result<_> {
        let legacy = session(
            &runtime,
            dir.path(),
            &project,
            Flags::LEGACY,
            config,
            &mut made,
        )?;
        let optimized = session(
            &runtime,
            dir.path(),
            &project,
            Flags::OPTIMIZED,
            config,
            &mut made,
        )?;
        let rounds = if scenes >= 5_000 { 2 } else { 5 };
        let micro_legacy = micro(
            dir.path(),
            &project,
            Flags::LEGACY,
            rounds.min(3),
            config,
            &mut made,
        )?;
        let micro_optimized = micro(
            dir.path(),
            &project,
            Flags::OPTIMIZED,
            rounds,
            config,
            &mut made,
        )?;
        Ok((legacy, optimized, micro_legacy, micro_optimized))
    })();
    if let Some(base) = config.db.as_ref() {
        for schema in &made {
            if let Err(e) = base.discard(schema) {
                tracing::warn!("could not drop the bench schema {schema}: {e}");
            }
        }
    }
    let (legacy, optimized, micro_legacy, micro_optimized) = measured?;
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    Ok(BenchReport {
        project: project.file.project.id.clone(),
        scenes,
        edits: config.edits,
        ratio: Ratio {
            build_p50: ratio(legacy.build_p50_us as f64, optimized.build_p50_us as f64),
            tokens: ratio(legacy.tokens_total as f64, optimized.tokens_total as f64),
        },
        store: if config.db.as_ref().is_some_and(|l| l.is_postgres()) {
            "postgres"
        } else {
            "sqlite"
        },
        legacy,
        optimized,
        micro_legacy,
        micro_optimized,
    })
}
