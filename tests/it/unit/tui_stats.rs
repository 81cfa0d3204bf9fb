//! Unit tests of `editscope::tui::stats`: stage time sources, quantiles and the sparkline.

use editscope::context::Flags;
use editscope::pipeline::{Outcome, Stage, StageTiming};
use editscope::tui::stats::{RunHistory, RunSummary, Source, stage_time};

fn timing(name: Stage, real: f64, sim: Option<f64>) -> StageTiming {
    StageTiming {
        name,
        real_ms: real,
        simulated_ms: sim,
    }
}

fn run(ms: f64, outcome: Outcome) -> RunSummary {
    RunSummary {
        run: Some(1),
        prompt: "p".into(),
        flags: Some(Flags::OPTIMIZED),
        outcome,
        stages: vec![
            timing(Stage::Context, 2.0, Some(2.0)),
            timing(Stage::CodeEdit, 0.5, Some(ms)),
        ],
        failed_stage: None,
        tokens: None,
        context_path: None,
        summary: String::new(),
        error: None,
        target_scene_id: None,
        tool: None,
        model_calls: Vec::new(),
        comparison: false,
        start_revision: None,
    }
}

#[test]
fn model_stages_show_modeled_time_and_others_wall_clock() {
    assert_eq!(
        stage_time(&timing(Stage::CodeEdit, 1.0, Some(800.0))),
        (800.0, Source::Simulated)
    );
    // Context's simulated_ms mirrors the real time: it is shown as real.
    assert_eq!(
        stage_time(&timing(Stage::Context, 3.0, Some(3.0))),
        (3.0, Source::Real)
    );
    assert_eq!(
        stage_time(&timing(Stage::ToolSelection, 5.0, None)),
        (5.0, Source::Real)
    );
}

#[test]
fn quantiles_and_sparkline_follow_the_runs() {
    let mut h = RunHistory::default();
    for ms in [100.0, 200.0, 300.0, 400.0] {
        h.record(run(ms, Outcome::Applied));
    }
    h.record(run(10_000.0, Outcome::Failed));
    let (p50, source) = h.stage_quantile(Stage::CodeEdit, 0.5).unwrap();
    assert_eq!(source, Source::Simulated);
    assert!((199.0..=201.0).contains(&p50), "{p50}");
    // The failed run's total stays out of the totals' distribution.
    assert!(h.total_quantile(1.0).unwrap() < 500.0);
    assert_eq!(h.recent_totals(2), vec![402, 10_002]);
    assert_eq!(h.previous().unwrap().total().0, 402.0);
}
