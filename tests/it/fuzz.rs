//! Fuzzing, bounded: readers of outside input that must never panic, whatever they are given.
//!
//! Each target gets mutations of real inputs (the demo scenes, fixtures, a recorded session,
//! model answers): byte flips, truncations, splices from another input, deletions, repeats and
//! insertions of the tokens these formats are made of, so the cases reach past the first
//! syntax check. 256 cases per target by default; `PROPTEST_CASES=100000 cargo test --release
//! fuzz::` is the long run (README, "Fuzzing").

use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::Config;

use editscope::fixtures;
use editscope::llm::offline::OfflineBackend;
use editscope::llm::{ChatPrompt, CodeEditRequest, LlmClient, StyleHints, TargetScene, Tool, wire};

/// Cases per target: `PROPTEST_CASES`, else 256.
fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    Config {
        cases,
        // A failure is shrunk and reported; the file of regressions is not kept in src.
        failure_persistence: None,
        ..Config::default()
    }
}

/// Pieces of TSX, JSON and JSON Lines worth inserting: they open or close what a parser nests.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "<",
    ">",
    "</",
    "/>",
    "\"",
    "'",
    "`",
    "${",
    "\\",
    "\\u",
    "\n",
    "\r\n",
    ",",
    ":",
    "=>",
    "//",
    "/*",
    "*/",
    "null",
    "true",
    "-0",
    "1e999",
    "NaN",
    "\u{0}",
    "\u{feff}",
    "é",
    "🎬",
    "<div>",
    "</div>",
    "<>",
    "{{",
    "}}",
    "#FF0000",
    "\"tool\"",
    "\"editScene\"",
    "\"format\"",
    "\"scenes\"",
    "interpolate(",
    "spring(",
    "style={{",
    "```",
    "```tsx\n",
    "export default function",
    "\"run\":",
];

#[derive(Debug, Clone)]
enum Mutation {
    Flip {
        at: usize,
        bit: u8,
    },
    Truncate {
        at: usize,
    },
    /// Bytes `start..start + len` of input `from`, inserted at `at`.
    Splice {
        at: usize,
        from: usize,
        start: usize,
        len: usize,
    },
    Delete {
        at: usize,
        len: usize,
    },
    Token {
        at: usize,
        token: usize,
    },
    Bytes {
        at: usize,
        bytes: Vec<u8>,
    },
    Repeat {
        at: usize,
        len: usize,
        times: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        (at, 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        at.prop_map(|at| Mutation::Truncate { at }),
        (at, any::<usize>(), any::<usize>(), 1usize..400).prop_map(|(at, from, start, len)| {
            Mutation::Splice {
                at,
                from,
                start,
                len,
            }
        }),
        (at, 1usize..200).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (at, 0..TOKENS.len()).prop_map(|(at, token)| Mutation::Token { at, token }),
        (at, proptest::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(at, bytes)| Mutation::Bytes { at, bytes }),
        (at, 1usize..50, 2usize..40).prop_map(|(at, len, times)| Mutation::Repeat {
            at,
            len,
            times
        }),
    ]
}

fn apply(mut bytes: Vec<u8>, corpus: &[Vec<u8>], mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let n = bytes.len();
        let pos = |at: usize| if n == 0 { 0 } else { at % (n + 1) };
        match m {
            Mutation::Flip { at, bit } if n > 0 => bytes[at % n] ^= 1 << bit,
            Mutation::Flip { .. } => {}
            Mutation::Truncate { at } => bytes.truncate(pos(*at)),
            Mutation::Splice {
                at,
                from,
                start,
                len,
            } => {
                let other = &corpus[from % corpus.len()];
                let s = if other.is_empty() {
                    0
                } else {
                    start % other.len()
                };
                let piece = other[s..(s + len).min(other.len())].to_vec();
                let at = pos(*at);
                bytes.splice(at..at, piece);
            }
            Mutation::Delete { at, len } => {
                let at = pos(*at);
                let end = (at + len).min(n);
                bytes.drain(at..end);
            }
            Mutation::Token { at, token } => {
                let at = pos(*at);
                bytes.splice(at..at, TOKENS[*token].bytes());
            }
            Mutation::Bytes { at, bytes: new } => {
                let at = pos(*at);
                bytes.splice(at..at, new.iter().copied());
            }
            Mutation::Repeat { at, len, times } => {
                let at = pos(*at);
                let piece = bytes[at..(at + len).min(n)].to_vec();
                for _ in 0..*times {
                    bytes.splice(at..at, piece.iter().copied());
                }
            }
        }
    }
    bytes
}

/// An input of `corpus`, mutated one to six times.
fn mutated(corpus: &'static [Vec<u8>]) -> impl Strategy<Value = Vec<u8>> {
    (0..corpus.len(), proptest::collection::vec(mutation(), 1..6))
        .prop_map(move |(i, mutations)| apply(corpus[i].clone(), corpus, &mutations))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn demo_files() -> Vec<fixtures::ProjectFile> {
    ["demo-small", "demo-medium"]
        .iter()
        .map(|id| fixtures::demo_project(id).unwrap().unwrap())
        .collect()
}

/// Every demo scene and a few generated ones.
fn scenes() -> &'static [Vec<u8>] {
    static SCENES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SCENES.get_or_init(|| {
        let generated = fixtures::generate::generate_project(&fixtures::generate::GenerateSpec {
            project_id: "g".into(),
            title: "g".into(),
            user_id: "u".into(),
            scenes: 12,
            seed: 3,
        });
        demo_files()
            .into_iter()
            .chain([generated])
            .flat_map(|p| p.scenes.into_iter().map(|s| s.tsx_code.into_bytes()))
            .collect()
    })
}

const PROMPTS: &[&str] = &[
    "make the title blue in scene 2",
    "make the title red and bigger",
    "change the headline to 'Fast, simple and yours'",
    "use our brand color for the title",
    "make the background dark navy",
    "use Poppins for the title",
    "set the title font size to 64",
    "add a subtitle saying 'Now in beta'",
    "make it 2 seconds shorter",
    "slow down the animation",
    "make the fade in faster and the logo smaller",
    "remove the subtitle",
    "set the duration to 150 frames",
    "add a scene about pricing with three tiers",
];

fn prompts() -> &'static [Vec<u8>] {
    static PROMPTS_BYTES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    PROMPTS_BYTES.get_or_init(|| PROMPTS.iter().map(|p| p.as_bytes().to_vec()).collect())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_tsx_analyser_never_panics(code in mutated(scenes())) {
        let code = text(&code);
        let analysis = editscope::analysis::analyse(&code);
        let _ = editscope::analysis::confidence(&analysis);
        let _ = editscope::analysis::check_tsx(&code);
    }

    #[test]
    fn the_offline_code_editor_never_panics(
        code in mutated(scenes()),
        prompt in mutated(prompts()),
        tool in prop_oneof![
            Just(Tool::EditScene),
            Just(Tool::AddScene),
            Just(Tool::TrimScene),
            Just(Tool::ChangeDuration),
        ],
        frames in prop_oneof![Just(None), (-10i64..100_000).prop_map(Some)],
    ) {
        let request = CodeEditRequest {
            user_prompt: text(&prompt),
            tool,
            args: match frames {
                Some(f) => serde_json::json!({ "duration_frames": f, "frames": f }),
                None => serde_json::json!({}),
            },
            target: (tool != Tool::AddScene).then(|| TargetScene {
                id: "s1".into(),
                name: "Scene".into(),
                position: 1,
                code: text(&code),
                duration_frames: frames.unwrap_or(120),
            }),
            preferences: [("brand_color".to_string(), "#7C3AED".to_string())].into(),
            style: StyleHints {
                colors: vec!["#0F172A".into(), "#2563EB".into()],
                fonts: vec!["Inter".into()],
            },
            new_scene_position: 2,
            edit_format: Default::default(),
            prompt: ChatPrompt::default(),
        };
        let _ = runtime().block_on(OfflineBackend::new(0.0).edit_code(&request));
        let _ = editscope::llm::offline::edit::parse_operations(&text(&prompt));
    }

    #[test]
    fn the_tool_decision_reader_never_panics(answer in mutated(decisions())) {
        let _ = wire::parse_tool_decision(&text(&answer));
    }

    #[test]
    fn the_session_reader_never_panics(file in mutated(sessions())) {
        let _ = editscope::session::parse("s.jsonl", &text(&file));
        // Bytes that are not UTF-8 go through the file, where they are refused first.
        if std::str::from_utf8(&file).is_err() {
            let path = session_dir().path().join(format!("{:?}.jsonl", std::thread::current().id()));
            std::fs::write(&path, &file).unwrap();
            let _ = editscope::session::read(&path);
        }
    }

    #[test]
    fn the_import_reader_never_panics(file in mutated(project_files())) {
        if let Ok(p) = fixtures::parse("f.json", &text(&file)) {
            // What parses must also import (in place of the last case's), or be refused cleanly.
            let mut store = import_store().lock().unwrap();
            let _ = fixtures::import_replacing(&mut store, "f.json", &p);
        }
    }
}

fn session_dir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap())
}

/// One database for every import case: opening a new one per case would be most of the cost.
fn import_store() -> &'static std::sync::Mutex<editscope::store::Store> {
    static STORE: OnceLock<(tempfile::TempDir, std::sync::Mutex<editscope::store::Store>)> =
        OnceLock::new();
    &STORE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let store = editscope::store::Store::open(dir.path().join("f.db")).unwrap();
            (dir, std::sync::Mutex::new(store))
        })
        .1
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

fn decisions() -> &'static [Vec<u8>] {
    static DECISIONS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    DECISIONS.get_or_init(|| {
        [
            r#"{"tool": "editScene", "target_scene_id": "demo-small-s0003", "args": {}, "clarification": null, "reasoning": "scene 3"}"#,
            "```json\n{\"tool\": \"addScene\", \"target_scene_id\": null, \"args\": {\"position\": 2}, \"reasoning\": \"new\"}\n```",
            r#"Sure. {"tool": null, "clarification": "Which scene do you mean?", "reasoning": "ambiguous"}"#,
            r#"{"tool": "changeDuration", "target_scene_id": "s2", "args": {"duration_frames": 150}}"#,
            r#"{"tool": "trimScene", "target_scene_id": "s1", "args": {"seconds": -2.5}, "clarification": "", "reasoning": null}"#,
            r#"{"tool": "deleteScene", "target_scene_id": "s4"} {"tool": "editScene"}"#,
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect()
    })
}

/// The two demo project files, as written.
fn project_files() -> &'static [Vec<u8>] {
    static FILES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FILES.get_or_init(|| {
        vec![
            fixtures::DEMO_SMALL.as_bytes().to_vec(),
            fixtures::DEMO_MEDIUM.as_bytes().to_vec(),
        ]
    })
}

/// A real session file: the demo-small project and two recorded runs of the pipeline.
fn sessions() -> &'static [Vec<u8>] {
    static SESSIONS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SESSIONS.get_or_init(|| {
        use editscope::context::{ContextEngine, EngineOptions, Flags};
        use editscope::pipeline::Pipeline;
        use editscope::session::{SessionHeader, SessionRun, TimedEvent};
        let dir = tempfile::tempdir().unwrap();
        let mut store = editscope::store::Store::open(dir.path().join("s.db")).unwrap();
        let demo = fixtures::demo_project("demo-small").unwrap().unwrap();
        fixtures::import(&mut store, "demo-small", &demo).unwrap();
        let header = SessionHeader::new("optimized".into(), "offline", demo);
        let mut pipeline = Pipeline::new(
            store,
            ContextEngine::new(Flags::OPTIMIZED, EngineOptions::default()),
            Box::new(OfflineBackend::new(0.0)),
        );
        let mut lines = vec![serde_json::to_string(&header).unwrap()];
        for (i, prompt) in ["make the title red in scene 3", "make scene 2 shorter"]
            .iter()
            .enumerate()
        {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let result = runtime().block_on(pipeline.run_edit(
                "demo-small",
                prompt,
                &tx,
                &tokio_util::sync::CancellationToken::new(),
            ));
            drop(tx);
            let mut events = Vec::new();
            while let Ok(event) = rx.try_recv() {
                events.push(TimedEvent {
                    at_ms: events.len() as f64,
                    event,
                });
            }
            let run = SessionRun::from_events(i as u64 + 1, events, result, None);
            lines.push(serde_json::to_string(&run).unwrap());
        }
        let whole = format!("{}\n", lines.join("\n"));
        // The whole file, and its run lines alone (splices draw from both).
        vec![whole.into_bytes(), format!("{}\n", lines[1]).into_bytes()]
    })
}
