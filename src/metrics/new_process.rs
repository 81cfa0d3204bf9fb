//! `editscope bench --new-process [RUNS]`: the wall time of `editscope context` in a new
//! process served from the SQLite snapshot, on each demo project: what a user waits for when a
//! CLI call (or a restarted dashboard) finds its context already built. Everything a process
//! does is in it: start-up, argument parsing, logging set-up, opening and checking the
//! database, reading and parsing the snapshot, the target, printing the context.
//! Figures are printed, never asserted.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context as _, bail};
use serde::Serialize;

use super::Distribution;

#[derive(Debug, Clone)]
pub struct NewProcessConfig {
    /// The editscope binary to run (the bench's own, normally).
    pub exe: PathBuf,
    /// Timed runs per project.
    pub runs: usize,
    pub projects: Vec<String>,
}

/// Figures of one project (`bench --new-process --json` field `projects`).
#[derive(Debug, Clone, Serialize)]
pub struct NewProcessFigures {
    pub project: String,
    pub scenes: usize,
    /// The first call: a cache miss that builds, then writes the snapshot as the process ends.
    pub miss_ms: f64,
    /// What served the timed calls, from one `context --json` call among them.
    pub path: String,
    pub cache_level: Option<String>,
    /// The build's own `build_us` in that call.
    pub build_us: u64,
    pub wall_p50_ms: f64,
    pub wall_p95_ms: f64,
    pub wall_min_ms: f64,
    /// The same calls with [`TARGET_PROMPT`], whose target is not a scene the snapshot gives
    /// in full: its first call counts that scene (and keeps the counts in the store), the
    /// timed ones find the counts there.
    pub target_prompt: String,
    pub target_scene_id: Option<String>,
    pub target_first_ms: f64,
    pub target_wall_p50_ms: f64,
    pub target_wall_p95_ms: f64,
}

/// A request whose target (the first scene) the demo projects' snapshots do not give in full.
pub const TARGET_PROMPT: &str = "make the title blue in scene 1";

/// The p50, p95 and minimum wall time of `runs` calls.
fn walls(exe: &Path, db: &Path, args: &[&str], runs: usize) -> anyhow::Result<(Distribution, f64)> {
    let mut wall = Distribution::new();
    let mut min = f64::MAX;
    for _ in 0..runs {
        let ms = timed(exe, db, args)?;
        min = min.min(ms);
        wall.record((ms * 1000.0) as u64);
    }
    Ok((wall, if runs == 0 { 0.0 } else { min }))
}

#[derive(Debug, Clone, Serialize)]
pub struct NewProcessReport {
    pub binary: String,
    pub runs: usize,
    pub projects: Vec<NewProcessFigures>,
}

fn run(exe: &Path, db: &Path, args: &[&str]) -> anyhow::Result<(f64, Vec<u8>)> {
    let started = Instant::now();
    let out = Command::new(exe)
        .env("EDITSCOPE_DB", db)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {}", exe.display()))?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if !out.status.success() {
        bail!(
            "{} {} failed: {}",
            exe.display(),
            args.join(" "),
            out.status
        );
    }
    Ok((ms, out.stdout))
}

/// The wall time of a call that writes its output to nowhere (as to a terminal that keeps up).
fn timed(exe: &Path, db: &Path, args: &[&str]) -> anyhow::Result<f64> {
    let started = Instant::now();
    let status = Command::new(exe)
        .env("EDITSCOPE_DB", db)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .with_context(|| format!("running {}", exe.display()))?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if !status.success() {
        bail!("{} {} failed: {status}", exe.display(), args.join(" "));
    }
    Ok(ms)
}

pub fn measure(config: &NewProcessConfig) -> anyhow::Result<NewProcessReport> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("new-process.db");
    // The first call creates and seeds the database (demo-large is generated then): not timed.
    run(&config.exe, &db, &["projects"])?;
    let mut projects = Vec::new();
    for project in &config.projects {
        let context = ["context", "--project", project.as_str()];
        let miss_ms = timed(&config.exe, &db, &context)?;
        let (_, json) = run(
            &config.exe,
            &db,
            &["context", "--project", project.as_str(), "--json"],
        )?;
        let json: serde_json::Value = serde_json::from_slice(&json)?;
        let (wall, min) = walls(&config.exe, &db, &context, config.runs)?;
        let targeted = [
            "context",
            "--project",
            project.as_str(),
            "--prompt",
            TARGET_PROMPT,
        ];
        let target_first_ms = timed(&config.exe, &db, &targeted)?;
        let (_, target_json) = run(&config.exe, &db, &[&targeted[..], &["--json"]].concat())?;
        let target_json: serde_json::Value = serde_json::from_slice(&target_json)?;
        let (target_wall, _) = walls(&config.exe, &db, &targeted, config.runs)?;
        projects.push(NewProcessFigures {
            project: project.clone(),
            scenes: json["context"]["scene_list"].as_array().map_or(0, Vec::len),
            miss_ms,
            path: json["path"].as_str().unwrap_or("?").to_string(),
            cache_level: json["stats"]["cache_level"].as_str().map(str::to_string),
            build_us: json["stats"]["build_us"].as_u64().unwrap_or(0),
            wall_p50_ms: wall.p50() as f64 / 1000.0,
            wall_p95_ms: wall.p95() as f64 / 1000.0,
            wall_min_ms: min,
            target_prompt: TARGET_PROMPT.to_string(),
            target_scene_id: target_json["target_scene_id"].as_str().map(str::to_string),
            target_first_ms,
            target_wall_p50_ms: target_wall.p50() as f64 / 1000.0,
            target_wall_p95_ms: target_wall.p95() as f64 / 1000.0,
        });
    }
    Ok(NewProcessReport {
        binary: config.exe.display().to_string(),
        runs: config.runs,
        projects,
    })
}
