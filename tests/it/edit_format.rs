//! The diff edit format end to end (DESIGN.md 7): the pipeline applies a diff answer, asks once
//! for the whole file when its blocks do not apply, never stores code that does not parse; the
//! offline backend answers in the format asked for and is charged the tokens it writes; the
//! real clients read diff answers against the target's code (a scripted local server).

use std::collections::VecDeque;
use std::sync::Mutex;

use futures::future::BoxFuture;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::cli::{editscope, json_of};
use crate::scripted_server::{Reply, Step, TestServer};

use editscope::context::{ContextEngine, EngineOptions, Flags};
use editscope::editfmt::EditError;
use editscope::fixtures;
use editscope::llm::offline::OfflineBackend;
use editscope::llm::openai::{OpenAiClient, OpenAiConfig};
use editscope::llm::{
    CodeEdit, CodeEditRequest, EditFormat, LlmClient, LlmError, LlmResponse, ToolDecision,
    ToolSelectionRequest,
};
use editscope::pipeline::{EditResult, Outcome, Pipeline, Stage};
use editscope::store::Store;

const PROJECT: &str = "demo-small";
const INTRO: &str = "demo-small-s0001";
const PROMPT: &str = "make the title of the intro red";

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(dir.path().join("e.db")).expect("opens");
    let project = fixtures::parse("small", fixtures::DEMO_SMALL).expect("demo-small parses");
    fixtures::import(&mut store, "demo-small", &project).expect("imports");
    (dir, store)
}

fn intro_code(store: &Store) -> String {
    store.get_scene(INTRO).expect("the intro").tsx_code
}

async fn run(pipeline: &mut Pipeline, prompt: &str) -> EditResult {
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    pipeline
        .run_edit(PROJECT, prompt, &tx, &CancellationToken::new())
        .await
}

fn pipeline(store: Store, llm: Box<dyn LlmClient>, format: EditFormat) -> Pipeline {
    Pipeline::new(
        store,
        ContextEngine::new(Flags::OPTIMIZED, EngineOptions::default()),
        llm,
    )
    .with_edit_format(format)
}

// ---------------------------------------------------------------------------------------------
// A backend that answers code edits as scripted, and selects tools as the offline one does

enum Answer {
    /// What the offline backend answers for the request.
    Offline,
    /// Blocks that match nowhere.
    BadBlocks,
    /// Code that does not parse.
    Broken,
}

struct Scripted {
    offline: OfflineBackend,
    answers: Mutex<VecDeque<Answer>>,
    /// The format of each code edit request, in order.
    asked: Mutex<Vec<EditFormat>>,
}

impl Scripted {
    fn new(answers: Vec<Answer>) -> Self {
        Scripted {
            offline: OfflineBackend::new(0.0),
            answers: Mutex::new(answers.into()),
            asked: Mutex::new(Vec::new()),
        }
    }
}

impl LlmClient for &'static Scripted {
    fn name(&self) -> String {
        "scripted".into()
    }

    fn select_tool<'a>(
        &'a self,
        request: &'a ToolSelectionRequest,
    ) -> BoxFuture<'a, Result<LlmResponse<ToolDecision>, LlmError>> {
        self.offline.select_tool(request)
    }

    fn edit_code<'a>(
        &'a self,
        request: &'a CodeEditRequest,
    ) -> BoxFuture<'a, Result<LlmResponse<CodeEdit>, LlmError>> {
        Box::pin(async move {
            self.asked.lock().unwrap().push(request.edit_format);
            let answer = self
                .answers
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or(Answer::Offline);
            match answer {
                Answer::Offline => self.offline.edit_code(request).await,
                Answer::BadBlocks => Err(LlmError::EditBlocks(EditError::NotFound {
                    block: 1,
                    quote: "\"nowhere\"".into(),
                })),
                Answer::Broken => {
                    let mut response = self.offline.edit_code(request).await?;
                    response.value.code = "export const Intro = () => <div>;".into();
                    Ok(response)
                }
            }
        })
    }
}

fn scripted(answers: Vec<Answer>) -> &'static Scripted {
    Box::leak(Box::new(Scripted::new(answers)))
}

#[tokio::test]
async fn blocks_that_do_not_apply_are_retried_once_as_the_whole_file() {
    let (_dir, store) = store();
    let before = intro_code(&store);
    let llm = scripted(vec![Answer::BadBlocks]);
    let mut pipeline = pipeline(store, Box::new(llm), EditFormat::Diff);
    let result = run(&mut pipeline, PROMPT).await;
    assert_eq!(result.outcome, Outcome::Applied, "{:?}", result.error);
    assert!(result.edit_format_fallback);
    assert_eq!(result.edit_format, EditFormat::Diff);
    assert_eq!(
        *llm.asked.lock().unwrap(),
        [EditFormat::Diff, EditFormat::Whole]
    );
    // The whole-file call is the code edit call recorded.
    let stages: Vec<Stage> = result.model_calls.iter().map(|c| c.stage).collect();
    assert_eq!(stages, [Stage::ToolSelection, Stage::CodeEdit]);
    let after = intro_code(&pipeline.store);
    assert_ne!(after, before);
    // The whole-file answer's change: the title's color, nothing else.
    let changed: Vec<_> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].0.contains("#F8FAFC"), "{changed:?}");
}

#[tokio::test]
async fn a_whole_file_run_does_not_retry() {
    let (_dir, store) = store();
    let before = intro_code(&store);
    let llm = scripted(vec![Answer::BadBlocks]);
    let mut pipeline = pipeline(store, Box::new(llm), EditFormat::Whole);
    let result = run(&mut pipeline, PROMPT).await;
    assert_eq!(result.outcome, Outcome::Failed);
    assert!(!result.edit_format_fallback);
    assert_eq!(*llm.asked.lock().unwrap(), [EditFormat::Whole]);
    assert_eq!(intro_code(&pipeline.store), before);
}

#[tokio::test]
async fn code_that_does_not_parse_is_never_stored() {
    for format in [EditFormat::Diff, EditFormat::Whole] {
        let (_dir, store) = store();
        let before = intro_code(&store);
        let llm = scripted(vec![Answer::Broken]);
        let mut pipeline = pipeline(store, Box::new(llm), format);
        let result = run(&mut pipeline, PROMPT).await;
        assert_eq!(result.outcome, Outcome::Failed, "{format:?}");
        assert!(
            result.error.as_deref().unwrap_or("").contains("TSX"),
            "{:?}",
            result.error
        );
        assert_eq!(intro_code(&pipeline.store), before);
    }
}

// ---------------------------------------------------------------------------------------------
// The offline backend

#[tokio::test]
async fn offline_diff_answers_cost_fewer_output_tokens_and_give_the_same_code() {
    let mut results = Vec::new();
    for format in [EditFormat::Whole, EditFormat::Diff] {
        let (_dir, store) = store();
        let mut pipeline = pipeline(store, Box::new(OfflineBackend::new(0.0)), format);
        let result = run(&mut pipeline, PROMPT).await;
        assert_eq!(result.outcome, Outcome::Applied, "{:?}", result.error);
        assert!(!result.edit_format_fallback);
        let code_edit = result
            .model_calls
            .iter()
            .find(|c| c.stage == Stage::CodeEdit)
            .expect("a code edit call")
            .clone();
        results.push((code_edit, intro_code(&pipeline.store)));
    }
    let (whole, diff) = (&results[0], &results[1]);
    assert_eq!(whole.1, diff.1, "both formats make the same change");
    assert!(
        diff.0.output_tokens * 4 <= whole.0.output_tokens,
        "diff {} vs whole {} output tokens",
        diff.0.output_tokens,
        whole.0.output_tokens
    );
}

#[tokio::test]
async fn a_new_scene_is_a_whole_file_in_either_format() {
    let (_dir, store) = store();
    let llm = scripted(vec![]);
    let mut pipeline = pipeline(store, Box::new(llm), EditFormat::Diff);
    let result = run(&mut pipeline, "add a scene with the title 'Thanks'").await;
    assert_eq!(result.outcome, Outcome::Applied, "{:?}", result.error);
    assert_eq!(result.tool.as_deref(), Some("addScene"));
    assert_eq!(*llm.asked.lock().unwrap(), [EditFormat::Whole]);
}

// ---------------------------------------------------------------------------------------------
// A real client against a scripted server

fn sse(text: &str) -> Reply {
    let chunk = |delta: Value, finish: Value| {
        Step::Send(format!(
            "data: {}\n\n",
            json!({
                "id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                "usage": null
            })
        ))
    };
    let mut steps = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    let chars: Vec<char> = text.chars().collect();
    for piece in chars.chunks(40) {
        steps.push(chunk(
            json!({"content": piece.iter().collect::<String>()}),
            Value::Null,
        ));
    }
    steps.push(chunk(json!({}), json!("stop")));
    steps.push(Step::Send(format!(
        "data: {}\n\n",
        json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
               "choices": [], "usage": {"prompt_tokens": 3000, "completion_tokens": 40,
               "total_tokens": 3040}})
    )));
    steps.push(Step::Send("data: [DONE]\n\n".into()));
    Reply::Sse(steps)
}

fn decision() -> Reply {
    sse(&json!({
        "tool": "editScene", "target_scene_id": INTRO, "args": {},
        "clarification": null, "reasoning": "the intro"
    })
    .to_string())
}

const TITLE_COLOR: &str = "          color: '#F8FAFC',\n          margin: '24px 0 0',";

fn blocks(search: &str, replace: &str) -> String {
    format!("Made the title red.\n<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n")
}

async fn run_against(replies: Vec<Reply>) -> (EditResult, String, String, Vec<Value>) {
    let (_dir, store) = store();
    let before = intro_code(&store);
    let server = TestServer::start_at("/v1", replies).await;
    let client = OpenAiClient::new(OpenAiConfig {
        api_key: Some("sk-test".into()),
        ..OpenAiConfig::new(&server.base_url, "gpt-4o-mini")
    })
    .expect("client");
    let mut pipeline = pipeline(store, Box::new(client), EditFormat::Diff);
    let result = run(&mut pipeline, PROMPT).await;
    let after = intro_code(&pipeline.store);
    let bodies = server.requests().into_iter().map(|c| c.body).collect();
    (result, before, after, bodies)
}

fn system_of(body: &Value) -> String {
    body["messages"][0]["content"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn a_diff_answer_from_a_real_client_is_applied_to_the_target() {
    let answer = blocks(
        // Indented differently from the code: applied whitespace-tolerantly.
        "color: '#F8FAFC',\nmargin: '24px 0 0',",
        "color: '#EF4444',\nmargin: '24px 0 0',",
    );
    let (result, before, after, bodies) = run_against(vec![decision(), sse(&answer)]).await;
    assert_eq!(result.outcome, Outcome::Applied, "{:?}", result.error);
    assert!(!result.edit_format_fallback);
    assert_eq!(
        after,
        before.replace(TITLE_COLOR, &TITLE_COLOR.replace("#F8FAFC", "#EF4444"))
    );
    assert_eq!(result.summary, "Made the title red.");
    // The code edit request asked for blocks.
    assert!(system_of(&bodies[1]).contains("<<<<<<< SEARCH"));
}

#[tokio::test]
async fn a_diff_that_does_not_apply_falls_back_to_the_whole_file() {
    let bad = blocks("color: '#ABCDEF',", "color: '#EF4444',");
    let before = intro_code(&store().1);
    let whole = format!(
        "Made the title red.\n```tsx\n{}```\n",
        before.replace(TITLE_COLOR, &TITLE_COLOR.replace("#F8FAFC", "#EF4444"))
    );
    let (result, before, after, bodies) =
        run_against(vec![decision(), sse(&bad), sse(&whole)]).await;
    assert_eq!(result.outcome, Outcome::Applied, "{:?}", result.error);
    assert!(result.edit_format_fallback);
    assert_ne!(after, before);
    assert!(after.contains("#EF4444"));
    assert_eq!(bodies.len(), 3);
    assert!(!system_of(&bodies[2]).contains("<<<<<<< SEARCH"));
}

#[tokio::test]
async fn a_diff_whose_result_does_not_parse_leaves_the_scene_as_it_was() {
    let broken = blocks(
        "export const Intro: React.FC = () => {",
        "export const Intro = (",
    );
    let (result, before, after, bodies) = run_against(vec![decision(), sse(&broken)]).await;
    assert_eq!(result.outcome, Outcome::Failed);
    assert!(
        result.error.as_deref().unwrap_or("").contains("TSX"),
        "{:?}",
        result.error
    );
    assert_eq!(after, before);
    // A result that does not parse is not a block that does not apply: no retry.
    assert_eq!(bodies.len(), 2);
}

// ---------------------------------------------------------------------------------------------
// The command line

#[test]
fn edit_json_says_the_format_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("e.db");
    for (args, format) in [
        (vec![], "diff"),
        (vec!["--edit-format", "whole"], "whole"),
        (vec!["--edit-format", "diff"], "diff"),
    ] {
        let mut cmd = editscope(&db);
        cmd.args([
            "edit",
            "--project",
            PROJECT,
            "--prompt",
            "make the title of scene 2 blue",
            "--time-scale",
            "0",
            "--json",
        ])
        .args(&args);
        let out = json_of(&mut cmd);
        assert_eq!(out["edit_format"], format, "{args:?}");
        assert_eq!(out["edit_format_fallback"], false);
        assert_eq!(out["outcome"], "applied", "{out}");
    }
    editscope(&db)
        .args([
            "edit",
            "--project",
            PROJECT,
            "--prompt",
            "x",
            "--edit-format",
            "patch",
        ])
        .assert()
        .failure();
}

// ---------------------------------------------------------------------------------------------
// Reading a real model's diff answer

fn diff_request(code: &str) -> CodeEditRequest {
    CodeEditRequest {
        user_prompt: "make it red".into(),
        tool: editscope::llm::Tool::EditScene,
        args: json!({}),
        target: Some(editscope::llm::TargetScene {
            id: INTRO.into(),
            name: "Intro".into(),
            position: 1,
            code: code.into(),
            duration_frames: 90,
        }),
        preferences: Default::default(),
        style: Default::default(),
        new_scene_position: 2,
        edit_format: EditFormat::Diff,
        prompt: Default::default(),
    }
}

#[test]
fn a_diff_answer_is_read_against_the_target_and_a_whole_file_is_still_taken() {
    use editscope::llm::wire::parse_code_edit;
    let code = "export const Intro = () => <h1 style={{ color: 'white' }}>Hi</h1>;\nconst DURATION = 90;\n";
    let request = diff_request(code);
    let edit = parse_code_edit(
        &blocks("const DURATION = 90;", "const DURATION = 120;"),
        &request,
    )
    .expect("applies");
    assert_eq!(edit.code, code.replace("90", "120"));
    assert_eq!(edit.duration_frames, Some(120));
    // Blocks that do not apply are the error the pipeline retries on.
    let err = parse_code_edit(&blocks("const X = 1;", "const X = 2;"), &request)
        .expect_err("matches nowhere");
    assert!(
        matches!(
            err,
            LlmError::EditBlocks(EditError::NotFound { block: 1, .. })
        ),
        "{err}"
    );
    let err = parse_code_edit("no blocks, no code", &request).expect_err("nothing");
    assert!(
        matches!(err, LlmError::EditBlocks(EditError::NoBlocks)),
        "{err}"
    );
    // A model that answered with the whole file anyway is taken at its word.
    let whole = format!("Done.\n```tsx\n{}```\n", code.replace("white", "red"));
    let edit = parse_code_edit(&whole, &request).expect("a whole file");
    assert!(edit.code.contains("'red'"));
    // In the whole format, blocks are not read.
    let request = CodeEditRequest {
        edit_format: EditFormat::Whole,
        ..request
    };
    assert!(parse_code_edit(&blocks("const DURATION = 90;", "x"), &request).is_err());
}
