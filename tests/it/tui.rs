//! The dashboard: rendering into a `TestBackend` (snapshots and explicit buffer checks), key
//! handling, the real worker end to end (offline backend at time scale 0, a failing backend,
//! a cancelled run), the real binary under tmux, and a few printed measurements.

use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use futures::future::BoxFuture;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use editscope::context::diff::{PreferenceChange, SectionTokens};
use editscope::context::{
    BuildPath, CacheCounters, ContextDiff, ContextEngine, EngineEvent, EngineOptions, Flags,
};
use editscope::llm::{
    CodeEdit, CodeEditRequest, LlmClient, LlmError, LlmResponse, ToolDecision, ToolSelectionRequest,
};
use editscope::pipeline::{
    EditResult, Outcome, Pipeline, PipelineEvent, RunTokens, Stage, StageTiming,
};
use editscope::store::{MemoryEntry, MemoryType, ProjectSummary, SceneIteration, Store};
use editscope::tui::{
    self, App, AppState, Command, Mode, PanelId, Popup, SceneRow, WorkerEvent, worker,
};

/// Tests that write to, or read from, tui-logger's process-global buffer take turns.
static LOG_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const NOW_MS: i64 = 1_700_000_600_000;

// ---------------------------------------------------------------------------------------------
// Helpers

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn press(state: &mut AppState, code: KeyCode) -> Vec<Command> {
    state.apply_key(key(code))
}

fn type_text(state: &mut AppState, text: &str) {
    for c in text.chars() {
        assert!(press(state, KeyCode::Char(c)).is_empty());
    }
}

/// Normal mode with `panel` selected.
fn focus(state: &mut AppState, panel: PanelId) {
    if state.mode == Mode::Input {
        press(state, KeyCode::Esc);
    }
    for _ in 0..PanelId::ORDER.len() {
        if state.focus == panel {
            return;
        }
        press(state, KeyCode::Tab);
    }
    assert_eq!(state.focus, panel);
}

fn render(state: &AppState, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| tui::draw(f, state)).unwrap();
    terminal
}

fn lines(terminal: &Terminal<TestBackend>) -> Vec<String> {
    let buffer = terminal.backend().buffer();
    let area = buffer.area;
    (0..area.height)
        .map(|y| {
            (0..area.width)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect()
}

fn screen(terminal: &Terminal<TestBackend>) -> String {
    lines(terminal).join("\n")
}

/// The screen with the logs panel's content blanked: tui-logger's buffer is process-global and
/// time-stamped, so it cannot be part of a snapshot.
fn masked_screen(terminal: &Terminal<TestBackend>) -> String {
    let mut rows = lines(terminal);
    if let Some(title) = rows.iter().position(|l| l.contains(" logs · level")) {
        for row in rows.iter_mut().skip(title + 1) {
            let chars: Vec<char> = row.chars().collect();
            if matches!(chars.first(), Some('└' | '╚')) {
                break;
            }
            let n = chars.len();
            *row = chars
                .iter()
                .enumerate()
                .map(|(i, c)| if i == 0 || i == n - 1 { *c } else { ' ' })
                .collect();
        }
    }
    rows.join("\n")
}

fn row_with<'a>(screen: &'a [String], needle: &str) -> &'a str {
    row_with_all(screen, &[needle])
}

/// The first line that contains every needle.
fn row_with_all<'a>(screen: &'a [String], needles: &[&str]) -> &'a str {
    screen
        .iter()
        .find(|l| needles.iter().all(|n| l.contains(n)))
        .unwrap_or_else(|| panic!("no line contains {needles:?}:\n{}", screen.join("\n")))
}

fn memory_entry(
    id: i64,
    memory_type: MemoryType,
    key: &str,
    value: &str,
    confidence: f64,
    source: &str,
    age_s: i64,
) -> MemoryEntry {
    MemoryEntry {
        id,
        project_id: "demo-small".into(),
        memory_type,
        key: key.into(),
        value: value.into(),
        confidence,
        source_prompt: source.into(),
        created_at: NOW_MS - age_s * 1000 - 60_000,
        updated_at: NOW_MS - age_s * 1000,
    }
}

fn sample_memory() -> Vec<MemoryEntry> {
    vec![
        memory_entry(
            1,
            MemoryType::UserPreference,
            "brand_color",
            "#1e40af",
            0.9,
            "our brand color is #1e40af",
            3_600,
        ),
        memory_entry(
            2,
            MemoryType::UserPreference,
            "tone",
            "playful",
            0.9,
            "keep a playful vibe",
            5,
        ),
        memory_entry(
            3,
            MemoryType::SceneAnalysis,
            "demo-small-s1",
            "colors: #ffffff, #1e40af; fonts: Inter; 3 texts",
            0.95,
            "analysis",
            86_400,
        ),
        memory_entry(
            4,
            MemoryType::SceneRelationship,
            "s1->s2",
            "title card leads into the feature list",
            0.7,
            "the second scene follows the intro",
            7_200,
        ),
        memory_entry(
            5,
            MemoryType::ConversationContext,
            "last_topic",
            "title colors",
            0.6,
            "make the title blue",
            120,
        ),
    ]
}

fn scene(id: &str, ord: i64, name: &str, change: Option<(&str, &str, &str)>) -> SceneRow {
    SceneRow {
        id: id.into(),
        name: name.into(),
        ord,
        duration_frames: 150,
        code: format!(
            "export default function {name}() {{\n  return <h1 style={{{{color: 'blue'}}}}>{name}</h1>;\n}}\n"
        ),
        last_change: change.map(|(prompt, before, after)| SceneIteration {
            id: ord,
            scene_id: id.into(),
            project_id: "demo-small".into(),
            prompt: prompt.into(),
            operation: "editScene".into(),
            code_before: Some(before.into()),
            code_after: Some(after.into()),
            model: "offline".into(),
            generation_ms: 0,
            created_at: NOW_MS - 1000,
        }),
    }
}

/// Stored order keys as real projects have them: from 0, with a gap where a scene was
/// deleted. The panels number by position (1, 2, 3) all the same.
fn sample_scenes() -> Vec<SceneRow> {
    vec![
        scene("demo-small-s1", 0, "Intro", None),
        scene(
            "demo-small-s2",
            2,
            "Title",
            Some((
                "make the title blue in scene 2",
                "<h1 style={{color: 'red'}}>Title</h1>\n",
                "<h1 style={{color: 'blue'}}>Title</h1>\n",
            )),
        ),
        scene("demo-small-s3", 5, "Outro", None),
    ]
}

fn timing(name: Stage, real_ms: f64, simulated_ms: Option<f64>) -> StageTiming {
    StageTiming {
        name,
        real_ms,
        simulated_ms,
    }
}

fn edit_result(
    prompt: &str,
    flags: Flags,
    outcome: Outcome,
    stages: Vec<StageTiming>,
) -> EditResult {
    EditResult {
        run_id: Some(1),
        project_id: "demo-small".into(),
        prompt: prompt.into(),
        flags: flags.to_string(),
        tool: Some("editScene".into()),
        target_scene_id: Some("demo-small-s2".into()),
        outcome,
        total_real_ms: stages.iter().map(|s| s.real_ms).sum(),
        total_simulated_ms: Some(stages.iter().filter_map(|s| s.simulated_ms).sum()),
        stages,
        context_path: Some("fresh".into()),
        context_build_us: Some(812),
        tokens: RunTokens {
            input: 3_100,
            cached: 0,
            output: 180,
            context: 2_345,
        },
        summary: "changed the title color to blue in \"Title\"".into(),
        prefix_stable_share: Some(0.8),
        model: "offline".into(),
        memory_written: vec![],
        error: None,
        comparison: false,
        start_revision: Some(1),
        model_calls: vec![],
        prefix_divergence: None,
        edit_format: Default::default(),
        edit_format_fallback: false,
    }
}

/// Feeds a whole run's events, each stage started `gap` after the previous one finished.
fn feed_run(state: &mut AppState, run: u64, flags: Flags, result: EditResult, t0: Instant) {
    let p = |e| WorkerEvent::Pipeline(e);
    state.apply_event_at(
        p(PipelineEvent::RunStarted {
            run,
            project_id: "demo-small".into(),
            prompt: result.prompt.clone(),
            flags,
        }),
        t0,
    );
    let mut t = t0;
    for s in &result.stages {
        state.apply_event_at(p(PipelineEvent::StageStarted { run, stage: s.name }), t);
        t += Duration::from_secs_f64(s.real_ms / 1000.0);
        state.apply_event_at(
            p(PipelineEvent::StageFinished {
                run,
                timing: s.clone(),
            }),
            t,
        );
    }
    state.apply_event_at(
        p(PipelineEvent::RunFinished {
            run,
            result: Box::new(result),
        }),
        t,
    );
}

fn sample_diff() -> ContextDiff {
    ContextDiff {
        changed_sections: vec!["history".into(), "preferences".into()],
        scenes_added: vec![],
        scenes_removed: vec![],
        full_entered: vec![],
        full_left: vec![],
        preferences: vec![PreferenceChange {
            key: "tone".into(),
            before: None,
            after: Some("playful".into()),
        }],
        tokens: vec![
            SectionTokens {
                name: "project".into(),
                before: 40,
                after: 40,
            },
            SectionTokens {
                name: "preferences".into(),
                before: 30,
                after: 42,
            },
            SectionTokens {
                name: "history".into(),
                before: 120,
                after: 160,
            },
        ],
        lines_added: 2,
        lines_removed: 0,
        unified: "--- preferences (before)\n+++ preferences (after)\n@@ -1,1 +1,2 @@\n brand_color: #1e40af\n+tone: playful\n--- history (before)\n+++ history (after)\n@@ -1 +1,2 @@\n editScene demo-small-s1\n+editScene demo-small-s2: make the title blue\n".into(),
    }
}

/// A dashboard after two runs of the demo project: every panel has something to show, and
/// nothing on screen depends on the clock.
fn sample_state() -> AppState {
    let mut s = AppState::new("demo-small", Flags::OPTIMIZED);
    s.now_ms = NOW_MS;
    s.apply_event(WorkerEvent::Ready {
        project_id: "demo-small".into(),
        flags: Flags::OPTIMIZED,
        backend: "offline".into(),
        shadow_rate: 0.0,
    });
    s.apply_event(WorkerEvent::Projects(vec![
        ProjectSummary {
            id: "demo-small".into(),
            title: "Small demo".into(),
            user_id: "demo-user".into(),
            scenes: 3,
            messages: 12,
            memory_entries: 5,
            revision: 9,
        },
        ProjectSummary {
            id: "demo-medium".into(),
            title: "Medium demo".into(),
            user_id: "demo-user".into(),
            scenes: 40,
            messages: 60,
            memory_entries: 55,
            revision: 3,
        },
    ]));
    s.apply_event(WorkerEvent::Memory(sample_memory()));
    s.apply_event(WorkerEvent::Scenes(sample_scenes()));
    let t0 = Instant::now();
    let first = edit_result(
        "make the intro shorter",
        Flags::OPTIMIZED,
        Outcome::Applied,
        vec![
            timing(Stage::Context, 12.3, Some(12.3)),
            timing(Stage::ToolSelection, 0.2, Some(812.0)),
            timing(Stage::CodeEdit, 0.4, Some(2_140.5)),
            timing(Stage::Response, 3.1, Some(3.1)),
        ],
    );
    feed_run(&mut s, 1, Flags::OPTIMIZED, first, t0);
    s.apply_event(WorkerEvent::Pipeline(PipelineEvent::Cache {
        run: 2,
        path: BuildPath::CacheHit,
        counters: CacheCounters {
            hits: 1,
            misses: 1,
            invalidations: 0,
            incremental_updates: 0,
            shadow_checks: 0,
            shadow_mismatches: 0,
        },
        build_us: 812,
        tokens: 2_345,
        engine_events: vec![EngineEvent::CacheHit {
            level: "memory".into(),
        }],
        steps: vec![],
    }));
    s.apply_event(WorkerEvent::Pipeline(PipelineEvent::ContextDiff {
        run: 2,
        diff: Box::new(sample_diff()),
    }));
    let mut second = edit_result(
        "make the title blue in scene 2. keep a playful vibe",
        Flags::OPTIMIZED,
        Outcome::Applied,
        vec![
            timing(Stage::Context, 0.8, Some(0.8)),
            timing(Stage::ToolSelection, 0.2, Some(790.0)),
            timing(Stage::CodeEdit, 0.4, Some(2_010.0)),
            timing(Stage::Response, 2.9, Some(2.9)),
        ],
    );
    second.memory_written = vec!["USER_PREFERENCE/tone".into()];
    second.context_path = Some("cache_hit".into());
    feed_run(
        &mut s,
        2,
        Flags::OPTIMIZED,
        second,
        t0 + Duration::from_secs(5),
    );
    s
}

// ---------------------------------------------------------------------------------------------
// Rendering

#[test]
fn compact_layout_each_tab_at_80x24() {
    let mut state = sample_state();
    // The default tab: memory.
    let t = render(&state, 80, 24);
    let text = screen(&t);
    insta::assert_snapshot!("compact_memory_80x24", masked_screen(&t));
    for needle in [
        "code_edit",
        "2,010 ms sim",
        "0.8 ms real",
        "hit rate 50.0 %",
        "cache_hit (memory)",
        "1[x]memory",
        "brand_color",
        "tone",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
    // The row the last run wrote is marked with a `*`, not only by color.
    let rows = lines(&t);
    assert!(row_with_all(&rows, &["PREF", "tone"]).contains("*"));
    assert!(!row_with(&rows, "brand_color").contains("*"));

    focus(&mut state, PanelId::Diff);
    let t = render(&state, 80, 24);
    insta::assert_snapshot!("compact_diff_80x24", masked_screen(&t));
    // Taller, the diff itself shows too.
    let text = screen(&render(&state, 100, 40));
    assert!(text.contains("changed: history, preferences"), "{text}");
    assert!(text.contains("+tone: playful"), "{text}");
    assert!(
        text.contains("preferences") && text.contains("42 tokens (+12)"),
        "{text}"
    );

    focus(&mut state, PanelId::Scenes);
    let t = render(&state, 80, 24);
    insta::assert_snapshot!("compact_scenes_80x24", masked_screen(&t));
    let rows = lines(&t);
    assert!(
        row_with_all(&rows, &["Title", "frames"]).contains("*"),
        "the last edit's target is marked"
    );
    assert!(!row_with_all(&rows, &["Outro", "frames"]).contains("*"));

    focus(&mut state, PanelId::Logs);
    let t = render(&state, 80, 24);
    insta::assert_snapshot!("compact_logs_80x24", masked_screen(&t));
    assert!(screen(&t).contains("logs · level INFO"));
}

#[test]
fn scenes_are_numbered_as_users_count_them() {
    // Stored keys from 0 with gaps; "scene 25" is the 25th scene, in the panel, when it is
    // scrolled to, and in its popup.
    let mut state = sample_state();
    let rows: Vec<SceneRow> = (1..=30)
        .map(|i| {
            scene(
                &format!("s{i}"),
                (i as i64 - 1) * 10,
                &format!("Part {i}"),
                None,
            )
        })
        .collect();
    state.apply_event(WorkerEvent::Scenes(rows));
    focus(&mut state, PanelId::Scenes);
    let screen_rows = lines(&render(&state, 80, 24));
    assert!(row_with(&screen_rows, "Part 1 ").contains(" 1. "));
    assert!(row_with(&screen_rows, "Part 2 ").contains(" 2. "));
    for _ in 1..25 {
        press(&mut state, KeyCode::Down);
    }
    let screen_rows = lines(&render(&state, 80, 24));
    assert!(
        row_with(&screen_rows, "Part 25 ").contains(" 25. "),
        "{}",
        screen_rows.join("\n")
    );
    press(&mut state, KeyCode::Enter);
    let text = screen(&render(&state, 80, 24));
    assert!(text.contains("25. Part 25 (s25) · 150 frames"), "{text}");
}

#[test]
fn wide_layout_shows_every_panel_at_160x48() {
    let state = sample_state();
    let t = render(&state, 160, 48);
    insta::assert_snapshot!("wide_160x48", masked_screen(&t));
    let text = screen(&t);
    for needle in [
        " stages ",
        " cache",
        " flags",
        " memory",
        " context diff",
        " scenes",
        " logs",
        // p50/p95 columns and the change from the previous run.
        "p50",
        "p95",
        "vs prev",
        "-93.5 %",
        // The source column at this width.
        "keep a playful",
        "changes apply to the next edit",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
}

#[test]
fn too_small_terminal_gets_one_plain_message() {
    let state = sample_state();
    for (w, h) in [(59, 24), (80, 19), (30, 10)] {
        let t = render(&state, w, h);
        let text = screen(&t);
        let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains(&format!(
                "terminal too small: need at least 60x20, have {w}x{h}"
            )),
            "{text}"
        );
        assert!(!text.contains("stages"));
    }
    // The minimum itself is drawn in full.
    let t = render(&state, 60, 20);
    assert!(screen(&t).contains("stages"));
}

#[test]
fn live_waterfall_grows_while_a_stage_runs() {
    let mut state = sample_state();
    let t0 = Instant::now() + Duration::from_secs(60);
    let p = WorkerEvent::Pipeline;
    state.apply_event_at(
        p(PipelineEvent::RunStarted {
            run: 3,
            project_id: "demo-small".into(),
            prompt: "make the outro longer".into(),
            flags: Flags::OPTIMIZED,
        }),
        t0,
    );
    state.apply_event_at(
        p(PipelineEvent::StageStarted {
            run: 3,
            stage: Stage::Context,
        }),
        t0,
    );
    state.apply_event_at(
        p(PipelineEvent::StageFinished {
            run: 3,
            timing: timing(Stage::Context, 12.0, Some(12.0)),
        }),
        t0 + Duration::from_millis(12),
    );
    state.apply_event_at(
        p(PipelineEvent::StageStarted {
            run: 3,
            stage: Stage::ToolSelection,
        }),
        t0 + Duration::from_millis(12),
    );
    state.tick(t0 + Duration::from_millis(512), NOW_MS);
    let early = lines(&render(&state, 100, 30));
    let row = row_with(&early, "│tool_selection ").to_string();
    assert!(row.contains("500 ms real…"), "{row}");
    assert!(row_with(&early, "│code_edit ").contains("waiting"));
    assert!(row_with(&early, " editscope ").contains("run #3 tool_selection"));
    let bar = |r: &str| r.chars().filter(|c| *c == '█').count();
    state.tick(t0 + Duration::from_millis(2_012), NOW_MS);
    let later = lines(&render(&state, 100, 30));
    let row_later = row_with(&later, "│tool_selection ").to_string();
    assert!(row_later.contains("2,000 ms real…"), "{row_later}");
    assert!(bar(&row_later) > bar(&row), "{row}\n{row_later}");
    assert!(state.run_active());
}

#[test]
fn a_failed_run_is_shown_and_the_console_keeps_working() {
    let mut state = sample_state();
    let t0 = Instant::now();
    let p = WorkerEvent::Pipeline;
    state.apply_event_at(
        p(PipelineEvent::RunStarted {
            run: 3,
            project_id: "demo-small".into(),
            prompt: "make it pop".into(),
            flags: Flags::OPTIMIZED,
        }),
        t0,
    );
    state.apply_event_at(
        p(PipelineEvent::StageStarted {
            run: 3,
            stage: Stage::Context,
        }),
        t0,
    );
    state.apply_event_at(
        p(PipelineEvent::StageFinished {
            run: 3,
            timing: timing(Stage::Context, 1.0, Some(1.0)),
        }),
        t0,
    );
    state.apply_event_at(
        p(PipelineEvent::StageStarted {
            run: 3,
            stage: Stage::ToolSelection,
        }),
        t0,
    );
    let mut result = edit_result(
        "make it pop",
        Flags::OPTIMIZED,
        Outcome::Failed,
        vec![timing(Stage::Context, 1.0, Some(1.0))],
    );
    result.error =
        Some("model call failed: the model did not answer within 30.0 s (timeout)".into());
    state.apply_event_at(
        p(PipelineEvent::RunFinished {
            run: 3,
            result: Box::new(result),
        }),
        t0,
    );
    let rows = lines(&render(&state, 100, 30));
    let text = rows.join("\n");
    assert!(
        text.contains("✗ run #3 failed: model call failed"),
        "{text}"
    );
    assert!(text.contains("run #3 FAILED at tool_selection"), "{text}");
    assert!(row_with(&rows, "│tool_selection ").contains("✗ failed"));
    assert!(text.contains("! last run failed"), "{text}");
    assert!(!state.run_active());
    // The console still takes an edit.
    type_text(&mut state, "make the title red");
    let commands = press(&mut state, KeyCode::Enter);
    assert_eq!(
        commands,
        vec![Command::RunEdit {
            prompt: "make the title red".into(),
            flags: None
        }]
    );
}

#[test]
fn popups_render_entries_scenes_projects_and_help() {
    let mut state = sample_state();
    // A memory entry in full.
    focus(&mut state, PanelId::Memory);
    press(&mut state, KeyCode::Down);
    assert!(press(&mut state, KeyCode::Enter).is_empty());
    let Some(Popup::MemoryEntry { id, .. }) = state.popup.clone() else {
        panic!("no memory popup: {:?}", state.popup);
    };
    let entry = state
        .memory
        .rows
        .iter()
        .find(|e| e.id == id)
        .unwrap()
        .clone();
    let text = screen(&render(&state, 100, 30));
    assert!(text.contains(&entry.value), "{text}");
    assert!(text.contains(&entry.source_prompt), "{text}");
    press(&mut state, KeyCode::Esc);
    assert!(state.popup.is_none());

    // A scene's last change and code.
    focus(&mut state, PanelId::Scenes);
    press(&mut state, KeyCode::Down);
    press(&mut state, KeyCode::Enter);
    let text = screen(&render(&state, 100, 40));
    assert!(text.contains("last change: editScene"), "{text}");
    assert!(
        text.contains("-<h1 style={{color: 'red'}}>Title</h1>"),
        "{text}"
    );
    assert!(
        text.contains("+<h1 style={{color: 'blue'}}>Title</h1>"),
        "{text}"
    );
    assert!(text.contains("export default function Title()"), "{text}");
    press(&mut state, KeyCode::Char('q'));
    assert!(state.popup.is_none());
    assert!(!state.should_quit, "q closes the popup, it does not quit");

    // The project picker: p lists, Enter switches.
    assert_eq!(
        press(&mut state, KeyCode::Char('p')),
        vec![Command::ListProjects]
    );
    let text = screen(&render(&state, 100, 30));
    assert!(text.contains("Medium demo"), "{text}");
    press(&mut state, KeyCode::Down);
    assert_eq!(
        press(&mut state, KeyCode::Enter),
        vec![Command::SwitchProject("demo-medium".into())]
    );
    assert!(state.popup.is_none());

    // Help lists every binding of the key table.
    press(&mut state, KeyCode::Char('?'));
    let text = screen(&render(&state, 220, 160));
    for b in tui::keys::BINDINGS {
        assert!(text.contains(b.help), "help misses {:?}", b.help);
    }
    assert!(
        text.contains("cancels a running edit"),
        "the Esc rules are explained"
    );
}

// ---------------------------------------------------------------------------------------------
// Keys

#[test]
fn focus_starts_in_the_prompt_and_esc_i_move_it() {
    let mut state = AppState::new("demo-small", Flags::OPTIMIZED);
    assert_eq!(state.mode, Mode::Input);
    // Keys that are commands in normal mode type in the prompt.
    type_text(&mut state, "q1L?");
    assert_eq!(state.input.text, "q1L?");
    assert!(!state.should_quit);
    assert_eq!(state.flags, Flags::OPTIMIZED);
    press(&mut state, KeyCode::Backspace);
    press(&mut state, KeyCode::Left);
    press(&mut state, KeyCode::Char('x'));
    assert_eq!(state.input.text, "q1xL");
    press(&mut state, KeyCode::Esc);
    assert_eq!(state.mode, Mode::Normal);
    press(&mut state, KeyCode::Char('i'));
    assert_eq!(state.mode, Mode::Input);
    assert_eq!(state.focus, PanelId::Edit);
    // The footer follows the mode.
    let text = screen(&render(&state, 100, 30));
    assert!(text.contains("Enter run"), "{text}");
    press(&mut state, KeyCode::Esc);
    let text = screen(&render(&state, 100, 30));
    assert!(text.contains("i prompt"), "{text}");
    assert!(text.contains("NORMAL"), "{text}");
    press(&mut state, KeyCode::Char('q'));
    assert!(state.should_quit);
}

#[test]
fn enter_runs_the_prompt_and_esc_cancels_a_running_edit() {
    let mut state = sample_state();
    type_text(&mut state, "make the title blue in scene 2");
    let commands = press(&mut state, KeyCode::Enter);
    assert_eq!(
        commands,
        vec![Command::RunEdit {
            prompt: "make the title blue in scene 2".into(),
            flags: None
        }]
    );
    assert!(state.input.text.is_empty());
    assert!(state.run_active());
    // A second Enter while the edit runs starts nothing.
    type_text(&mut state, "another");
    assert!(press(&mut state, KeyCode::Enter).is_empty());
    // Esc in the prompt cancels the run first, and stays in the prompt.
    state.apply_event(WorkerEvent::Pipeline(PipelineEvent::RunStarted {
        run: 3,
        project_id: "demo-small".into(),
        prompt: "make the title blue in scene 2".into(),
        flags: Flags::OPTIMIZED,
    }));
    assert_eq!(press(&mut state, KeyCode::Esc), vec![Command::Cancel]);
    assert_eq!(state.mode, Mode::Input);
    assert!(state.live.as_ref().unwrap().cancelling);
    // History recalls the prompt.
    press(&mut state, KeyCode::Esc);
    assert_eq!(
        state.mode,
        Mode::Input,
        "still running: Esc cancels again, no mode change"
    );
    state.input.clear();
    press(&mut state, KeyCode::Up);
    assert_eq!(state.input.text, "make the title blue in scene 2");
    // Ctrl-C quits from anywhere, cancelling the run.
    let commands = state.apply_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(commands, vec![Command::Cancel]);
    assert!(state.should_quit);
}

#[test]
fn flags_toggle_with_1_to_6_and_presets_and_show_as_pending() {
    let mut state = sample_state();
    press(&mut state, KeyCode::Esc);
    assert_eq!(
        press(&mut state, KeyCode::Char('1')),
        vec![Command::SetFlags(Flags {
            memory: false,
            ..Flags::OPTIMIZED
        })]
    );
    let text = screen(&render(&state, 80, 24));
    assert!(text.contains("1[ ]memory"), "{text}");
    assert!(text.contains("5[x]parallel"), "{text}");
    assert!(text.contains("PENDING"), "{text}");
    assert!(state.flags_pending());
    // 1 again turns it back: nothing pending.
    press(&mut state, KeyCode::Char('1'));
    assert!(!state.flags_pending());
    // Presets, with Shift as terminals send it.
    let shift = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::SHIFT);
    assert_eq!(
        state.apply_key(shift('L')),
        vec![Command::SetFlags(Flags::LEGACY)]
    );
    let text = screen(&render(&state, 160, 48));
    assert!(text.contains("preset legacy · L legacy"), "{text}");
    assert!(text.contains("pending · last run optimized"), "{text}");
    assert_eq!(
        state.apply_key(shift('O')),
        vec![Command::SetFlags(Flags::OPTIMIZED)]
    );
    // In the flags panel, Space toggles the selected flag.
    focus(&mut state, PanelId::Flags);
    press(&mut state, KeyCode::Down);
    press(&mut state, KeyCode::Down);
    assert_eq!(
        press(&mut state, KeyCode::Char(' ')),
        vec![Command::SetFlags(Flags {
            lazy: false,
            ..Flags::OPTIMIZED
        })]
    );
}

#[test]
fn memory_filters_with_slash_and_sorts_by_column() {
    let mut state = sample_state();
    focus(&mut state, PanelId::Memory);
    press(&mut state, KeyCode::Char('/'));
    assert_eq!(state.mode, Mode::Filter);
    type_text(&mut state, "PLAY");
    let visible: Vec<String> = state
        .memory
        .visible()
        .iter()
        .map(|e| e.key.clone())
        .collect();
    assert_eq!(visible, vec!["tone"]);
    let text = screen(&render(&state, 80, 24));
    assert!(text.contains("1 of 5"), "{text}");
    assert!(text.contains("filter /PLAY"), "{text}");
    assert!(!text.contains("brand_color"), "{text}");
    // Enter keeps the filter; q is then a command again.
    press(&mut state, KeyCode::Enter);
    assert_eq!(state.mode, Mode::Normal);
    assert_eq!(state.memory.visible().len(), 1);
    // Esc while typing clears it.
    press(&mut state, KeyCode::Char('/'));
    press(&mut state, KeyCode::Esc);
    assert_eq!(state.memory.visible().len(), 5);
    assert_eq!(state.mode, Mode::Normal);

    // Sort: type (default) -> key -> value -> confidence; r reverses.
    press(&mut state, KeyCode::Char('s'));
    press(&mut state, KeyCode::Char('s'));
    press(&mut state, KeyCode::Char('s'));
    let conf: Vec<f64> = state
        .memory
        .visible()
        .iter()
        .map(|e| e.confidence)
        .collect();
    assert_eq!(conf, vec![0.6, 0.7, 0.9, 0.9, 0.95]);
    press(&mut state, KeyCode::Char('r'));
    assert_eq!(state.memory.visible()[0].confidence, 0.95);
    let text = screen(&render(&state, 80, 24));
    assert!(text.contains("conf▼"), "{text}");
    assert!(text.contains("sort confidence"), "{text}");
}

#[test]
fn memory_table_scrolls_to_the_selection_among_a_thousand_entries() {
    let mut state = sample_state();
    let many: Vec<MemoryEntry> = (0..1_000)
        .map(|i| {
            memory_entry(
                100 + i,
                MemoryType::ALL[i as usize % 5],
                &format!("key_{i:04}"),
                "a value",
                0.5,
                "generated",
                i,
            )
        })
        .collect();
    state.apply_event(WorkerEvent::Memory(many));
    focus(&mut state, PanelId::Memory);
    let keys: Vec<String> = state
        .memory
        .visible()
        .iter()
        .map(|e| e.key.clone())
        .collect();
    let text = screen(&render(&state, 80, 24));
    assert!(text.contains(&keys[0]), "{text}");
    assert!(!text.contains(&keys[700]), "{text}");

    state.memory.selected = 700;
    let text = screen(&render(&state, 80, 24));
    assert!(text.contains("1000 of 1000"), "{text}");
    // The selection is the last row shown, the rows above it fill the table.
    assert!(text.contains(&keys[700]), "{text}");
    assert!(text.contains(&keys[699]), "{text}");
    assert!(!text.contains(&keys[701]), "{text}");
    assert!(!text.contains(&keys[0]), "{text}");
    let entry = state.memory.selected_entry().expect("selected entry");
    assert_eq!(entry.key, keys[700]);
}

#[test]
fn scenes_table_scrolls_to_the_selection_among_a_thousand_scenes() {
    let mut state = sample_state();
    let many: Vec<SceneRow> = (1..=1_000)
        .map(|i| scene(&format!("gen-s{i}"), i, &format!("Scene{i:04}"), None))
        .collect();
    state.apply_event(WorkerEvent::Scenes(many));
    focus(&mut state, PanelId::Scenes);
    let text = screen(&render(&state, 80, 24));
    assert!(text.contains("Scene0001"), "{text}");
    assert!(!text.contains("Scene0701"), "{text}");

    state.scenes.selected = 700;
    let text = screen(&render(&state, 80, 24));
    // The selection (the 701st scene) is the last row shown, the rows above it fill the table.
    assert!(text.contains("Scene0701"), "{text}");
    assert!(text.contains("Scene0700"), "{text}");
    assert!(!text.contains("Scene0702"), "{text}");
    assert!(!text.contains("Scene0001"), "{text}");
}

#[test]
fn ab_key_compares_the_last_run_with_a_dry_run_under_the_other_preset() {
    let mut state = sample_state();
    let runs_before = state.history.len();
    press(&mut state, KeyCode::Esc);
    let commands = press(&mut state, KeyCode::Char('b'));
    // The last run of the session is #2: B is a dry run from where #2 started.
    assert_eq!(
        commands,
        vec![Command::Compare {
            run: 2,
            flags: Flags::LEGACY,
        }]
    );
    let mut legacy = edit_result(
        "make the title blue in scene 2. keep a playful vibe",
        Flags::LEGACY,
        Outcome::Applied,
        vec![
            timing(Stage::Context, 48.0, Some(48.0)),
            timing(Stage::ToolSelection, 0.3, Some(1_400.0)),
            timing(Stage::CodeEdit, 0.5, Some(2_600.0)),
            timing(Stage::Response, 3.0, Some(3.0)),
        ],
    );
    legacy.comparison = true;
    feed_run(&mut state, 3, Flags::LEGACY, legacy, Instant::now());
    state.apply_event_at(
        WorkerEvent::Compared {
            b_run: 3,
            start_revision: 1,
            same_decision: true,
            same_code: Some(true),
        },
        Instant::now(),
    );
    assert_eq!(state.popup, Some(Popup::Ab));
    // A comparison run is not part of the project's timing history.
    assert_eq!(state.history.len(), runs_before);
    let text = screen(&render(&state, 120, 40));
    for needle in [
        "A/B",
        "A run #2",
        "B run #3",
        "optimized",
        "legacy",
        "1,400 ms sim",
        "790 ms sim",
        "+77.2 %",
        "context tokens",
        "rev 1, dry run",
        "same",
        "identical",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
    // The engine's flags were not changed by the A/B run.
    assert_eq!(state.flags, Flags::OPTIMIZED);
}

// ---------------------------------------------------------------------------------------------
// The real worker

fn temp_pipeline(llm: Box<dyn LlmClient>) -> (tempfile::TempDir, Pipeline) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("editscope.db")).unwrap();
    editscope::fixtures::seed_if_empty(&mut store).unwrap();
    let engine = ContextEngine::new(Flags::OPTIMIZED, EngineOptions::default());
    (dir, Pipeline::new(store, engine, llm))
}

async fn wait_until(app: &mut App, what: &str, done: impl Fn(&AppState) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done(&app.state) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, app.next_worker_event()).await {
            Ok(true) => {}
            Ok(false) => panic!("the worker stopped while waiting for {what}"),
            Err(_) => panic!(
                "timed out waiting for {what}; status: {:?}",
                app.state.status
            ),
        }
    }
}

fn type_keys(app: &mut App, text: &str) {
    for c in text.chars() {
        app.handle_key(key(KeyCode::Char(c)));
    }
}

#[tokio::test]
async fn an_edit_runs_end_to_end_through_the_real_worker() {
    let _logs = LOG_LOCK.lock().await;
    let (_dir, pipeline) =
        temp_pipeline(Box::new(editscope::llm::offline::OfflineBackend::new(0.0)));
    let handle = worker::spawn(pipeline, "demo-small".into()).unwrap();
    let mut app = App::new(AppState::new("demo-small", Flags::OPTIMIZED), handle);
    wait_until(&mut app, "the first snapshots", |s| {
        s.worker_ready && !s.scenes.rows.is_empty() && !s.projects.is_empty()
    })
    .await;
    assert_eq!(app.state.backend, "offline");
    let scene_2 = app.state.scenes.rows[1].clone();

    type_keys(
        &mut app,
        "make the title orange in scene 2. Keep a playful vibe",
    );
    app.handle_key(key(KeyCode::Enter));
    assert!(app.state.run_active());
    wait_until(&mut app, "the run's end", |s| {
        !s.run_active() && !s.history.is_empty()
    })
    .await;
    let last = app.state.history.last().unwrap().clone();
    assert_eq!(last.outcome, Outcome::Applied, "{:?}", app.state.status);
    assert_eq!(last.stages.len(), 4);
    // The worker refreshes memory and scenes after a run.
    wait_until(&mut app, "the memory written by the run", |s| {
        s.memory
            .rows
            .iter()
            .any(|e| e.key == "tone" && e.value == "playful")
    })
    .await;
    // The edit's target first: the scenes snapshot after the run shows its new code.
    assert_eq!(
        app.state.scenes.last_target.as_deref(),
        Some(scene_2.id.as_str()),
        "scene 2 is the target"
    );
    wait_until(&mut app, "the scenes after the run", |s| {
        s.scenes
            .rows
            .iter()
            .any(|r| r.id == scene_2.id && r.code != scene_2.code)
    })
    .await;

    let rows = lines(&render(&app.state, 80, 24));
    let text = rows.join("\n");
    for stage in Stage::ALL {
        let row = row_with(&rows, &format!("│{} ", stage.as_str()));
        assert!(row.contains(" ms "), "{stage:?} has no timing: {row}");
    }
    assert!(
        row_with(&rows, "│tool_selection ").contains("ms sim"),
        "{text}"
    );
    assert!(row_with(&rows, "│context ").contains("ms real"), "{text}");
    assert!(text.contains("run #1 applied"), "{text}");
    // The preference the prompt stated is in the memory table, marked as written by this run
    // (filtered, so it shows however many entries the demo project has).
    focus(&mut app.state, PanelId::Memory);
    app.handle_key(key(KeyCode::Char('/')));
    type_keys(&mut app, "playful");
    app.handle_key(key(KeyCode::Enter));
    let rows = lines(&render(&app.state, 80, 24));
    let tone = row_with_all(&rows, &["PREF", "tone"]);
    assert!(tone.contains("playful") && tone.contains('*'), "{tone}");
    // The scenes tab marks the target.
    focus(&mut app.state, PanelId::Scenes);
    let rows = lines(&render(&app.state, 80, 24));
    assert!(
        row_with_all(&rows, &[&scene_2.name, "frames"]).contains('*'),
        "{}",
        rows.join("\n")
    );
    app.shutdown();
}

#[tokio::test]
async fn ab_key_compares_with_a_dry_run_from_where_the_run_started() {
    let _logs = LOG_LOCK.lock().await;
    let (dir, pipeline) =
        temp_pipeline(Box::new(editscope::llm::offline::OfflineBackend::new(0.0)));
    let db = dir.path().join("editscope.db");
    let handle = worker::spawn(pipeline, "demo-small".into()).unwrap();
    let mut app = App::new(AppState::new("demo-small", Flags::OPTIMIZED), handle);
    wait_until(&mut app, "the first snapshots", |s| {
        s.worker_ready && !s.scenes.rows.is_empty()
    })
    .await;
    type_keys(&mut app, "make the title red in scene 3");
    app.handle_key(key(KeyCode::Enter));
    wait_until(&mut app, "the run's end", |s| {
        !s.run_active() && !s.history.is_empty()
    })
    .await;
    let a = app.state.history.last().unwrap().clone();
    assert_eq!(a.outcome, Outcome::Applied, "{:?}", app.state.status);
    let after_a = Store::open(&db).unwrap();
    let revision_after_a = after_a.project_revision("demo-small").unwrap();
    let export_after_a =
        serde_json::to_string(&editscope::fixtures::export(&after_a, "demo-small").unwrap())
            .unwrap();
    drop(after_a);

    app.handle_key(key(KeyCode::Esc));
    app.handle_key(key(KeyCode::Char('b')));
    wait_until(&mut app, "the comparison", |s| {
        s.ab.as_ref()
            .is_some_and(|ab| ab.b.is_some() && ab.verdict.is_some())
    })
    .await;
    let ab = app.state.ab.clone().unwrap();
    let b = ab.b.unwrap();
    let verdict = ab.verdict.unwrap();
    // B started where A did, so it did the same work: not "already so, nothing to change".
    assert_eq!(verdict.start_revision, a.start_revision.unwrap());
    assert_eq!(b.outcome, Outcome::Applied, "{b:?}");
    assert!(b.comparison);
    assert_eq!(b.flags, Some(Flags::LEGACY));
    assert!(verdict.same_decision, "{a:?} vs {b:?}");
    assert_eq!(verdict.same_code, Some(true), "{a:?} vs {b:?}");
    assert_eq!(b.summary, a.summary);
    // The dry run left the project as A left it, and is recorded as a comparison run.
    let store = Store::open(&db).unwrap();
    assert_eq!(
        store.project_revision("demo-small").unwrap(),
        revision_after_a
    );
    let export_now =
        serde_json::to_string(&editscope::fixtures::export(&store, "demo-small").unwrap()).unwrap();
    assert_eq!(export_now, export_after_a);
    let runs = store.list_edit_runs("demo-small", 10).unwrap();
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(runs[0].comparison && !runs[1].comparison, "{runs:?}");
    let text = screen(&render(&app.state, 120, 40));
    assert!(text.contains("identical"), "{text}");
    app.shutdown();
}

#[tokio::test]
async fn ctrl_r_records_the_session_runs_to_a_file_that_replays() {
    let _logs = LOG_LOCK.lock().await;
    let (dir, pipeline) =
        temp_pipeline(Box::new(editscope::llm::offline::OfflineBackend::new(0.0)));
    let session = dir.path().join("dashboard.jsonl");
    let handle = worker::spawn(pipeline, "demo-small".into()).unwrap();
    let mut state = AppState::new("demo-small", Flags::OPTIMIZED);
    state.record_path = Some(session.clone());
    let mut app = App::new(state, handle);
    wait_until(&mut app, "the worker", |s| s.worker_ready).await;
    let ctrl_r = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL);
    app.handle_key(ctrl_r);
    wait_until(&mut app, "recording", |s| s.recording.is_some()).await;
    let text = screen(&render(&app.state, 120, 40));
    assert!(text.contains("REC"), "{text}");
    for (i, prompt) in ["make the title red in scene 3", "make scene 2 shorter"]
        .into_iter()
        .enumerate()
    {
        type_keys(&mut app, prompt);
        app.handle_key(key(KeyCode::Enter));
        wait_until(&mut app, "the run's end", |s| {
            !s.run_active() && s.history.len() == i + 1
        })
        .await;
    }
    app.handle_key(ctrl_r);
    wait_until(&mut app, "recording stopped", |s| s.recording.is_none()).await;
    let text = screen(&render(&app.state, 120, 40));
    assert!(!text.contains("REC"), "{text}");
    app.shutdown();
    let recorded = editscope::session::read(&session).unwrap();
    assert_eq!(recorded.header.project.project.id, "demo-small");
    assert_eq!(recorded.runs.len(), 2);
    assert_eq!(recorded.runs[1].prompt, "make scene 2 shorter");
    assert!(!recorded.runs[0].events.is_empty());
    assert!(!recorded.runs[0].prompts.is_empty());
    assert!(!recorded.cut_off);
}

/// A backend whose every call times out.
struct TimingOut;

impl LlmClient for TimingOut {
    fn name(&self) -> String {
        "timing-out".into()
    }
    fn select_tool<'a>(
        &'a self,
        _request: &'a ToolSelectionRequest,
    ) -> BoxFuture<'a, Result<LlmResponse<ToolDecision>, LlmError>> {
        Box::pin(async { Err(LlmError::Timeout { seconds: 30.0 }) })
    }
    fn edit_code<'a>(
        &'a self,
        _request: &'a CodeEditRequest,
    ) -> BoxFuture<'a, Result<LlmResponse<CodeEdit>, LlmError>> {
        Box::pin(async { Err(LlmError::Timeout { seconds: 30.0 }) })
    }
}

#[tokio::test]
async fn a_model_timeout_shows_on_screen_and_the_console_keeps_working() {
    let _logs = LOG_LOCK.lock().await;
    let (_dir, pipeline) = temp_pipeline(Box::new(TimingOut));
    let handle = worker::spawn(pipeline, "demo-small".into()).unwrap();
    let mut app = App::new(AppState::new("demo-small", Flags::OPTIMIZED), handle);
    wait_until(&mut app, "the worker", |s| s.worker_ready).await;
    for (i, prompt) in ["make the title blue in scene 2", "make the intro shorter"]
        .into_iter()
        .enumerate()
    {
        type_keys(&mut app, prompt);
        app.handle_key(key(KeyCode::Enter));
        wait_until(&mut app, "the failed run", |s| {
            !s.run_active() && s.history.len() == i + 1
        })
        .await;
        let rows = lines(&render(&app.state, 100, 30));
        let text = rows.join("\n");
        assert!(text.contains(&format!("✗ run #{} failed", i + 1)), "{text}");
        assert!(text.contains("timeout"), "{text}");
        assert!(text.contains("FAILED at tool_selection"), "{text}");
        assert!(
            row_with(&rows, "│tool_selection ").contains("✗ failed"),
            "{text}"
        );
        assert!(row_with(&rows, "│context ").contains("ms real"), "{text}");
    }
    app.shutdown();
}

#[tokio::test]
async fn esc_cancels_a_running_edit_and_nothing_is_written() {
    let _logs = LOG_LOCK.lock().await;
    // Time scale 20: the model stages last seconds, long enough to cancel one.
    let (_dir, pipeline) =
        temp_pipeline(Box::new(editscope::llm::offline::OfflineBackend::new(20.0)));
    let handle = worker::spawn(pipeline, "demo-small".into()).unwrap();
    let mut app = App::new(AppState::new("demo-small", Flags::OPTIMIZED), handle);
    wait_until(&mut app, "the first snapshots", |s| {
        s.worker_ready && !s.scenes.rows.is_empty()
    })
    .await;
    let before: Vec<String> = app
        .state
        .scenes
        .rows
        .iter()
        .map(|r| r.code.clone())
        .collect();
    // Scene analyses are derived entries the context stage caches as it reads (lazy analysis);
    // they describe scenes as they are and are not part of the edit.
    let edit_memory = |rows: &[MemoryEntry]| {
        rows.iter()
            .filter(|e| e.memory_type != MemoryType::SceneAnalysis)
            .count()
    };
    let memory_before = edit_memory(&app.state.memory.rows);
    type_keys(
        &mut app,
        "make the title blue in scene 2. Keep a playful vibe",
    );
    app.handle_key(key(KeyCode::Enter));
    wait_until(&mut app, "the tool selection stage", |s| {
        s.live
            .as_ref()
            .is_some_and(|l| l.running_stage() == Some(Stage::ToolSelection))
    })
    .await;
    // The screen is live during the run.
    assert!(screen(&render(&app.state, 100, 30)).contains("real…"));
    let asked = Instant::now();
    app.handle_key(key(KeyCode::Esc));
    wait_until(&mut app, "the cancelled run", |s| !s.run_active()).await;
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "cancel took {:?}",
        asked.elapsed()
    );
    let last = app.state.history.last().unwrap();
    assert!(last.cancelled(), "{:?}", last.error);
    assert_eq!(app.state.mode, Mode::Input);
    let text = screen(&render(&app.state, 100, 30));
    assert!(text.contains("cancelled; nothing was changed"), "{text}");
    // Nothing changed in the database: the worker's fresh snapshots equal the old ones.
    app.handle_key(key(KeyCode::Esc));
    // R asks for memory, scenes and projects, in that order: once the projects are back, so
    // are the other two.
    app.state.projects.clear();
    app.handle_key(KeyEvent::new(KeyCode::Char('R'), KeyModifiers::SHIFT));
    wait_until(&mut app, "fresh snapshots", |s| !s.projects.is_empty()).await;
    let after: Vec<String> = app
        .state
        .scenes
        .rows
        .iter()
        .map(|r| r.code.clone())
        .collect();
    assert_eq!(before, after);
    assert_eq!(edit_memory(&app.state.memory.rows), memory_before);
    assert!(!app.state.memory.rows.iter().any(|e| e.key == "tone"
        && e.value == "playful"
        && e.source_prompt.contains("playful vibe")));
    app.shutdown();
}

// ---------------------------------------------------------------------------------------------
// The logs panel (tui-logger, process-global)

#[test]
fn logs_panel_shows_traced_lines_filtered_by_level() {
    let _logs = LOG_LOCK.blocking_lock();
    tui::logging::init();
    let mut state = sample_state();
    focus(&mut state, PanelId::Logs);
    tracing::info!("tui-test info marker");
    tracing::warn!("tui-test warn marker");
    tui_logger::move_events();
    let text = screen(&render(&state, 100, 30));
    assert!(text.contains("tui-test info marker"), "{text}");
    assert!(text.contains("tui-test warn marker"), "{text}");
    // One level less detail: warnings only.
    press(&mut state, KeyCode::Char('-'));
    let text = screen(&render(&state, 100, 30));
    assert!(text.contains("level WARN"), "{text}");
    assert!(!text.contains("tui-test info marker"), "{text}");
    assert!(text.contains("tui-test warn marker"), "{text}");
    press(&mut state, KeyCode::Char('+'));
    press(&mut state, KeyCode::Char('+'));
    assert!(screen(&render(&state, 100, 30)).contains("level DEBUG"));
}

// ---------------------------------------------------------------------------------------------
// The event loop and the real binary

#[tokio::test]
async fn the_event_loop_draws_and_quits_on_q() {
    let (_dir, pipeline) =
        temp_pipeline(Box::new(editscope::llm::offline::OfflineBackend::new(0.0)));
    let started = Instant::now();
    let handle = worker::spawn(pipeline, "demo-small".into()).unwrap();
    let mut app = App::new(AppState::new("demo-small", Flags::OPTIMIZED), handle);
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let keys = futures::stream::iter(
        [key(KeyCode::Esc), key(KeyCode::Char('q'))].map(|k| Ok(Event::Key(k))),
    );
    tui::run_loop(&mut terminal, &mut app, keys).await.unwrap();
    println!(
        "first frame and quit through the event loop: {:.1} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    assert!(app.state.should_quit);
    assert!(screen(&terminal).contains(" editscope "));
    app.shutdown();
}

fn tmux(socket: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new("tmux")
        .arg("-L")
        .arg(socket)
        .args(args)
        .output()
        .expect("running tmux")
}

struct TmuxServer(String);

impl Drop for TmuxServer {
    fn drop(&mut self) {
        let _ = tmux(&self.0, &["kill-server"]);
    }
}

#[test]
fn the_real_binary_runs_an_edit_under_tmux() {
    if std::process::Command::new("tmux")
        .arg("-V")
        .output()
        .is_err()
    {
        println!("skipping: tmux is not on PATH");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("editscope.db");
    let stderr = dir.path().join("stderr.txt");
    let socket = format!("editscope-test-{}", std::process::id());
    let _server = TmuxServer(socket.clone());
    let command = format!(
        "EDITSCOPE_DB='{}' '{}' --time-scale 0 2>'{}'",
        db.display(),
        env!("CARGO_BIN_EXE_editscope"),
        stderr.display()
    );
    let out = tmux(
        &socket,
        &[
            "new-session",
            "-d",
            "-x",
            "100",
            "-y",
            "30",
            "-s",
            "tui",
            &command,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pane = || {
        String::from_utf8_lossy(&tmux(&socket, &["capture-pane", "-p", "-t", "tui"]).stdout)
            .to_string()
    };
    let wait_for = |what: &str, done: &dyn Fn(&str) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let p = pane();
            if done(&p) {
                return p;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting for {what}; pane:\n{p}\nstderr:\n{}",
                    std::fs::read_to_string(&stderr).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let started = Instant::now();
    wait_for("the first frame", &|p| {
        p.contains("editscope") && p.contains("INPUT") && p.contains("offline")
    });
    println!(
        "tmux: first frame after {:.0} ms (includes creating and seeding the database)",
        started.elapsed().as_secs_f64() * 1000.0
    );
    let out = tmux(
        &socket,
        &[
            "send-keys",
            "-t",
            "tui",
            "-l",
            "make the title orange in scene 2",
        ],
    );
    assert!(out.status.success());
    tmux(&socket, &["send-keys", "-t", "tui", "Enter"]);
    let p = wait_for("the run's timings", &|p| {
        p.contains("run #1 applied") && p.contains("code_edit")
    });
    let code_edit = p
        .lines()
        .find(|l| l.contains("code_edit"))
        .unwrap_or_default();
    assert!(code_edit.contains("ms sim"), "{p}");
    tmux(&socket, &["send-keys", "-t", "tui", "Escape"]);
    wait_for("normal mode", &|p| p.contains("NORMAL"));
    tmux(&socket, &["send-keys", "-t", "tui", "q"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while tmux(&socket, &["has-session", "-t", "tui"])
        .status
        .success()
    {
        assert!(
            Instant::now() < deadline,
            "the dashboard did not quit on q:\n{}",
            pane()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let errors = std::fs::read_to_string(&stderr).unwrap_or_default();
    assert!(!errors.contains("panicked"), "{errors}");
}

#[test]
fn headless_tui_refuses_without_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_editscope"))
        .arg("tui")
        .env("EDITSCOPE_DB", dir.path().join("db"))
        .stdout(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("editscope tui needs a terminal; use `editscope edit` for headless runs"),
        "{err}"
    );
    assert!(
        !dir.path().join("db").exists(),
        "nothing is created for a run that cannot show anything"
    );
}

// ---------------------------------------------------------------------------------------------
// Measurements (printed, not asserted)

#[test]
fn measure_render_time_with_large_memory_and_logs() {
    let _logs = LOG_LOCK.blocking_lock();
    tui::logging::init();
    let mut state = sample_state();
    let many: Vec<MemoryEntry> = (0..1_000)
        .map(|i| {
            memory_entry(
                100 + i,
                MemoryType::ALL[i as usize % 5],
                &format!("key_{i:04}"),
                &format!("value number {i} with some words in it"),
                (i % 100) as f64 / 100.0,
                "generated for the measurement",
                i * 17,
            )
        })
        .collect();
    state.apply_event(WorkerEvent::Memory(many));
    for i in 0..10_000 {
        tracing::info!(target: "editscope::measure", "measurement log line {i}");
        if i % 500 == 499 {
            tui_logger::move_events();
        }
    }
    tui_logger::move_events();
    for (w, h, tab) in [
        (160, 48, PanelId::Memory),
        (80, 24, PanelId::Memory),
        (80, 24, PanelId::Logs),
    ] {
        focus(&mut state, tab);
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        let first = Instant::now();
        terminal.draw(|f| tui::draw(f, &state)).unwrap();
        let first_ms = first.elapsed().as_secs_f64() * 1000.0;
        let n = 30;
        let t = Instant::now();
        for _ in 0..n {
            terminal.draw(|f| tui::draw(f, &state)).unwrap();
        }
        println!(
            "render {w}x{h} ({} tab) with 1,000 memory entries and 10,000 log lines: first frame {first_ms:.2} ms, then {:.2} ms per frame (debug build)",
            tab.name(),
            t.elapsed().as_secs_f64() * 1000.0 / n as f64
        );
    }
    assert!(screen(&render(&state, 80, 24)).contains("measurement log line 9999"));
}

#[test]
fn cache_panel_shows_shadow_checks_mismatches_and_the_sampled_share() {
    let mut state = sample_state();
    state.cache.shadow_rate = 0.5;
    state.cache.counters.shadow_checks = 3;
    state.cache.counters.shadow_mismatches = 1;
    let text = screen(&render(&state, 160, 48));
    let rows: Vec<&str> = text.lines().filter(|l| l.contains("shadow")).collect();
    assert!(
        rows.iter()
            .any(|r| r.contains("3 checks, 1 differed") && r.contains("50")),
        "{text}"
    );
}

#[test]
fn stages_show_each_calls_first_token_and_the_cache_panel_where_the_prefix_differed() {
    let mut state = sample_state();
    let mut result = edit_result(
        "make the title red in scene 3",
        Flags::OPTIMIZED,
        Outcome::Applied,
        vec![
            timing(Stage::Context, 1.2, Some(1.2)),
            timing(Stage::ToolSelection, 0.3, Some(951.0)),
            timing(Stage::CodeEdit, 0.5, Some(8_400.0)),
            timing(Stage::Response, 2.0, Some(2.0)),
        ],
    );
    let call = |stage, ttft_ms, divergence| editscope::pipeline::ModelCall {
        stage,
        ttft_ms,
        output_tokens_per_s: Some(83.3),
        input_tokens: 3_100,
        cached_tokens: 1_280,
        output_tokens: 700,
        usage_estimated: false,
        simulated: true,
        model: "offline-sim".into(),
        prefix_divergence: divergence,
    };
    result.model_calls = vec![
        call(Stage::ToolSelection, 412.0, None),
        call(
            Stage::CodeEdit,
            507.0,
            Some(editscope::pipeline::PrefixDivergence {
                stage: Stage::CodeEdit,
                token: 1_432,
                section: "scene_list".into(),
            }),
        ),
    ];
    feed_run(&mut state, 3, Flags::OPTIMIZED, result, Instant::now());
    let text = screen(&render(&state, 160, 48));
    assert!(
        text.contains("tool_selection ttft 412 ms sim · 83 tok/s"),
        "{text}"
    );
    assert!(text.contains("code_edit ttft 507 ms sim"), "{text}");
    assert!(text.contains("differs at token 1,432"), "{text}");
    assert!(text.contains("in scene_list, code_edit"), "{text}");
    assert!(text.contains("cached 1,280 of 3,100"), "{text}");
    assert!(!text.contains("estimated"), "{text}");
}

#[test]
fn stages_label_estimated_usage() {
    let mut state = sample_state();
    let mut result = edit_result(
        "make the title red in scene 3",
        Flags::OPTIMIZED,
        Outcome::Applied,
        vec![timing(Stage::ToolSelection, 300.0, None)],
    );
    result.model_calls = vec![editscope::pipeline::ModelCall {
        stage: Stage::ToolSelection,
        ttft_ms: 120.0,
        output_tokens_per_s: None,
        input_tokens: 2_000,
        cached_tokens: 0,
        output_tokens: 40,
        usage_estimated: true,
        simulated: false,
        model: "llama3".into(),
        prefix_divergence: None,
    }];
    feed_run(&mut state, 3, Flags::OPTIMIZED, result, Instant::now());
    let text = screen(&render(&state, 160, 48));
    assert!(text.contains("2,000 in / 40 out estimated"), "{text}");
}

#[test]
fn a_run_refused_for_the_context_window_raises_a_warning() {
    let mut state = sample_state();
    let mut result = edit_result(
        "make it pop",
        Flags::OPTIMIZED,
        Outcome::Failed,
        vec![timing(Stage::Context, 1.0, Some(1.0))],
    );
    let refusal = editscope::llm::LlmError::PromptTooLarge {
        tokens: 40_000,
        window: 8_192,
    };
    result.error = Some(format!("model call failed: {refusal}"));
    feed_run(
        &mut state,
        3,
        Flags::OPTIMIZED,
        result.clone(),
        Instant::now(),
    );
    let warnings = editscope::tui::warnings::collect(&state);
    assert!(
        warnings
            .iter()
            .any(|w| w.text.contains("larger than the model's context window")),
        "{warnings:?}"
    );
    // Another failure is not called a context window refusal.
    let mut other = sample_state();
    result.error = Some("model call failed: cancelled".into());
    feed_run(&mut other, 3, Flags::OPTIMIZED, result, Instant::now());
    assert!(
        !editscope::tui::warnings::collect(&other)
            .iter()
            .any(|w| w.text.contains("context window"))
    );
}

#[tokio::test]
async fn a_dashboard_on_postgres_refreshes_its_panels_when_another_process_writes() {
    let _logs = LOG_LOCK.lock().await;
    let Some(url) = crate::pg_server::fresh_db("dashboard") else {
        return;
    };
    let mut store = Store::open(&url).unwrap();
    editscope::fixtures::seed_if_empty(&mut store).unwrap();
    let engine = ContextEngine::new(Flags::OPTIMIZED, EngineOptions::default());
    let pipeline = Pipeline::new(
        store,
        engine,
        Box::new(editscope::llm::offline::OfflineBackend::new(0.0)),
    );
    let handle = worker::spawn(pipeline, "demo-small".into()).unwrap();
    let mut app = App::new(AppState::new("demo-small", Flags::OPTIMIZED), handle);
    wait_until(&mut app, "the first snapshots", |s| {
        s.worker_ready && !s.scenes.rows.is_empty()
    })
    .await;
    let scene = app.state.scenes.rows[1].clone();
    // Another process (another store on the same database) edits scene 2 and sets a memory.
    let mut other = Store::open(&url).unwrap();
    let code = format!("{}\n// edited elsewhere\n", scene.code);
    other
        .write(|w| w.update_scene_code(&scene.id, &code, scene.duration_frames))
        .unwrap();
    let wanted = code.clone();
    wait_until(&mut app, "the other process's scene write", move |s| {
        s.scenes
            .rows
            .iter()
            .any(|r| r.id == scene.id && r.code == wanted)
    })
    .await;
    app.shutdown();
}
