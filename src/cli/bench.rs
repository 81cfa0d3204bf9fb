//! `editscope bench [--scenes N] [--edits M] [--tui | --new-process [RUNS]] [--json]`

use std::time::Duration;

use anyhow::bail;

use super::{BenchArgs, print_json};
use crate::metrics::bench::{self, BenchConfig, PathSummary};
use crate::metrics::new_process::{self, NewProcessConfig};
use crate::metrics::soak::{self, SoakConfig};
use crate::metrics::tui_bench::{self, TuiBenchConfig};

pub fn run(db: Option<&std::path::PathBuf>, args: BenchArgs) -> anyhow::Result<()> {
    // `--db postgres://...` measures on that database (fresh schemas, dropped at the end);
    // otherwise on SQLite files in a temp dir, as ever.
    let db = db
        .map(|p| crate::store::Location::parse(p))
        .transpose()?
        .filter(|l| l.is_postgres());
    if db.is_some() && (args.tui || args.new_process.is_some()) {
        bail!("--tui and --new-process measure on SQLite only; leave out --db postgres://...");
    }
    if args.scenes == 0 || args.scenes > 10_000 {
        bail!("--scenes takes 1 to 10000, got {}", args.scenes);
    }
    if args.tui {
        return run_tui(&args);
    }
    if let Some(runs) = args.new_process {
        return run_new_process(&args, runs);
    }
    if let Some(edits) = args.soak {
        return run_soak(&args, edits);
    }
    if !(args.time_scale.is_finite() && args.time_scale >= 0.0) {
        bail!(
            "--time-scale takes a number from 0 up, got {}",
            args.time_scale
        );
    }
    let report = bench::run(&BenchConfig {
        scenes: args.scenes,
        edits: args.edits,
        seed: 11,
        time_scale: args.time_scale,
        fixture: args.fixture.clone(),
        shadow_rate: args.engine.options()?.shadow_rate,
        edit_format: args.edit_format.format(),
        db,
    })?;
    if args.json {
        return print_json(&report);
    }
    println!(
        "bench: project {} ({} scenes) on {}, {} edits each under legacy and optimized (offline model; times marked 'modeled' come from its latency model, time scale {}; edit format {})",
        report.project,
        report.scenes,
        report.store,
        report.edits,
        args.time_scale,
        args.edit_format.format().as_str()
    );
    let row = |name: &str, s: &PathSummary| {
        println!(
            "{name:<10} build p50 {:>10.3} ms  p95 {:>10.3} ms  hit rate {:>5.1}%  tokens sent {:>9}  context p50 {:>7} tok  failed {}",
            s.build_p50_us as f64 / 1000.0,
            s.build_p95_us as f64 / 1000.0,
            s.hit_rate * 100.0,
            s.tokens_total,
            s.context_tokens_p50,
            s.failed_runs
        );
        println!(
            "{:<10} modeled edit p50 {:.1} ms  p95 {:.1} ms  real edit p50 {:.2} ms  real overhead p50 {:.2} ms",
            "", s.modeled_edit_p50_ms, s.modeled_edit_p95_ms, s.real_edit_p50_ms, s.overhead_p50_ms
        );
        let stages: Vec<String> = s
            .stage_p50_ms
            .iter()
            .map(|(n, ms)| format!("{n} {ms:.1} ms"))
            .collect();
        println!("{:<10} modeled stage p50: {}", "", stages.join(", "));
        println!(
            "{:<10} code edit output p50 {} tok  cached share p50 {:.1}%  prompt shared before divergence p50 {:.1}% of the stable part",
            "",
            s.output_tokens_p50,
            s.cached_share_p50 * 100.0,
            s.prefix_shared_share_p50 * 100.0
        );
        println!(
            "{:<10} context stage (real: build, diff; snapshot written behind) p50 {:.3} ms  p95 {:.3} ms  beyond the build p50 {:.3} ms",
            "",
            s.context_stage_p50_us as f64 / 1000.0,
            s.context_stage_p95_us as f64 / 1000.0,
            s.context_beyond_build_p50_us as f64 / 1000.0
        );
        let paths: Vec<String> = s.paths.iter().map(|(p, n)| format!("{p} x{n}")).collect();
        println!("{:<10} paths: {}", "", paths.join(", "));
    };
    row("legacy", &report.legacy);
    row("optimized", &report.optimized);
    println!(
        "ratio legacy/optimized: build p50 {:.1}x, tokens {:.1}x",
        report.ratio.build_p50, report.ratio.tokens
    );
    for (name, m) in [
        ("legacy", &report.micro_legacy),
        ("optimized", &report.micro_optimized),
    ] {
        println!(
            "micro {name:<10} cold build p50 {:>10.3} ms  warm hit p50 {:>8.1} µs  incremental p50 {:>8.1} µs  snapshot write p50 {:>8.1} µs",
            m.cold_build_p50_us as f64 / 1000.0,
            m.warm_hit_p50_us as f64,
            m.incremental_p50_us as f64,
            m.snapshot_write_p50_us as f64
        );
    }
    Ok(())
}

fn run_new_process(args: &BenchArgs, runs: usize) -> anyhow::Result<()> {
    let report = new_process::measure(&NewProcessConfig {
        exe: std::env::current_exe()?,
        runs,
        projects: crate::fixtures::DEMO_IDS
            .iter()
            .map(|s| s.to_string())
            .collect(),
    })?;
    if args.json {
        return print_json(&report);
    }
    println!(
        "bench --new-process: `editscope context --project ID` in a new process, {} runs each, served from the SQLite snapshot ({})",
        report.runs, report.binary
    );
    for p in &report.projects {
        println!(
            "{:<12} {:>5} scenes  wall p50 {:>7.2} ms  p95 {:>7.2} ms  min {:>7.2} ms  (path {} from {}, build {:.3} ms; first call, a miss: {:.1} ms)",
            p.project,
            p.scenes,
            p.wall_p50_ms,
            p.wall_p95_ms,
            p.wall_min_ms,
            p.path,
            p.cache_level.as_deref().unwrap_or("-"),
            p.build_us as f64 / 1000.0,
            p.miss_ms
        );
        println!(
            "{:<12} {:>5} target {:<16} wall p50 {:>7.2} ms  p95 {:>7.2} ms  (`--prompt {:?}`, a scene not given in full; its first call, which counts it: {:.1} ms)",
            "",
            "",
            p.target_scene_id.as_deref().unwrap_or("-"),
            p.target_wall_p50_ms,
            p.target_wall_p95_ms,
            p.target_prompt,
            p.target_first_ms
        );
    }
    Ok(())
}

fn run_tui(args: &BenchArgs) -> anyhow::Result<()> {
    let report = tui_bench::run(&TuiBenchConfig {
        scenes: args.scenes,
        memory_entries: 1_000,
        log_lines: 10_000,
        frames: 200,
        idle: Duration::from_secs(5),
        seed: 11,
    })?;
    if args.json {
        return print_json(&report);
    }
    let kib = |v: Option<u64>| {
        v.map_or("n/a".to_string(), |k| {
            format!("{:.1} MiB", k as f64 / 1024.0)
        })
    };
    println!(
        "bench --tui: dashboard on a {}-scene project (TestBackend, offline model)",
        report.scenes
    );
    println!(
        "first frame {:.1} ms; first frame with the project's scenes and memory {:.1} ms",
        report.first_frame_ms, report.first_project_frame_ms
    );
    println!(
        "resident memory with the project open {}; peak over the whole bench {}",
        kib(report.rss_kib),
        kib(report.peak_rss_kib)
    );
    match report.idle_cpu_percent {
        Some(cpu) => println!(
            "CPU while idle: {cpu:.2}% of one core over {:.0} s",
            report.idle_seconds
        ),
        None => println!("CPU while idle: n/a (needs /proc)"),
    }
    println!(
        "render per frame with {} memory entries and {} log lines:",
        report.memory_entries, report.log_lines
    );
    for r in &report.render {
        println!(
            "  {:>3}x{:<3} {:<7} p50 {:>7.3} ms  p95 {:>7.3} ms",
            r.width,
            r.height,
            r.panel,
            r.p50_us as f64 / 1000.0,
            r.p95_us as f64 / 1000.0
        );
    }
    Ok(())
}

fn run_soak(args: &BenchArgs, edits: usize) -> anyhow::Result<()> {
    if edits == 0 {
        bail!("--soak takes a number of edits from 1 up");
    }
    let report = soak::run(&SoakConfig { edits })?;
    if args.json {
        return print_json(&report);
    }
    let kib = |v: Option<u64>| {
        v.map_or("n/a".to_string(), |k| {
            format!("{:.1} MiB", k as f64 / 1024.0)
        })
    };
    println!(
        "bench --soak: {} edits in one process on {} ({} scenes at the end), offline model at time scale 0; {} failed",
        report.edits, report.project, report.scenes, report.failed_edits
    );
    println!(
        "resident memory: start {}, after the first tenth {}, end {}",
        kib(report.rss_start_kib),
        kib(report.rss_after_tenth_kib),
        kib(report.rss_end_kib)
    );
    let caches: Vec<String> = report
        .caches
        .iter()
        .map(|(n, e)| format!("{n} {e}"))
        .collect();
    println!("cache entries at the end: {}", caches.join(", "));
    for (name, first) in &report.first_tenth {
        let last = report.last_tenth.get(name);
        println!(
            "{name:<15} first tenth p50 {:>8.3} ms  p95 {:>8.3} ms   last tenth p50 {:>8.3} ms  p95 {:>8.3} ms",
            first.p50_ms,
            first.p95_ms,
            last.map_or(0.0, |l| l.p50_ms),
            last.map_or(0.0, |l| l.p95_ms)
        );
    }
    Ok(())
}
