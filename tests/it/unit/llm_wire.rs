//! Unit tests of `editscope::llm::wire`: reading tool decisions and scene code from answers.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use editscope::llm::types::{StyleHints, TargetScene};
use editscope::llm::wire::{
    CODE_EDIT, DEFAULT_SUMMARY, TOOL_SELECTION, duration_from_code, parse_code_edit,
    parse_tool_decision, reject_truncated, resolve_target,
};
use editscope::llm::{ChatPrompt, CodeEditRequest, LlmError, Tool, ToolDecision};

use crate::scene_refs::intro_and_logo;

fn edit_request(tool: Tool, args: Value, target_duration: Option<i64>) -> CodeEditRequest {
    CodeEditRequest {
        user_prompt: "make it longer".to_string(),
        tool,
        args,
        target: target_duration.map(|duration_frames| TargetScene {
            id: "s-intro".to_string(),
            name: "Intro".to_string(),
            position: 1,
            code: String::new(),
            duration_frames,
        }),
        preferences: BTreeMap::new(),
        style: StyleHints::default(),
        new_scene_position: 3,
        edit_format: Default::default(),
        prompt: ChatPrompt::default(),
    }
}

fn malformed_detail(result: Result<impl std::fmt::Debug, LlmError>) -> (String, String) {
    match result {
        Err(LlmError::Malformed { what, detail }) => (what, detail),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[test]
fn reads_a_fenced_decision_with_prose_and_braces_in_strings() {
    let text = "Sure! Here is my answer {not json}:\n```json\n{\"tool\": \"editScene\", \"target_scene_id\": \"s-logo\", \"args\": {\"color\": \"#ff0000\"}, \"clarification\": null, \"reasoning\": \"user said {logo}\"}\n```";
    let decision = parse_tool_decision(text).expect("parses");
    assert_eq!(
        decision,
        ToolDecision::Tool {
            tool: Tool::EditScene,
            target_scene_id: Some("s-logo".to_string()),
            args: json!({"color": "#ff0000"}),
            reasoning: "user said {logo}".to_string(),
        }
    );
}

#[test]
fn a_null_tool_with_a_question_is_a_clarification() {
    let text = r#"{"tool": null, "target_scene_id": null, "args": {}, "clarification": "Which scene?", "reasoning": "ambiguous"}"#;
    assert_eq!(
        parse_tool_decision(text).expect("parses"),
        ToolDecision::Clarify {
            question: "Which scene?".to_string()
        }
    );
}

#[test]
fn tool_names_are_read_leniently_and_add_scene_has_no_target() {
    let text = r#"{"tool": "add_scene", "target_scene_id": "s-intro", "reasoning": "new"}"#;
    match parse_tool_decision(text).expect("parses") {
        ToolDecision::Tool {
            tool,
            target_scene_id,
            args,
            ..
        } => {
            assert_eq!(tool, Tool::AddScene);
            assert_eq!(target_scene_id, None);
            assert_eq!(args, json!({}));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn prose_unknown_tools_and_missing_fields_are_malformed() {
    let (what, detail) = malformed_detail(parse_tool_decision("I think you should edit scene 2!!"));
    assert_eq!(what, TOOL_SELECTION);
    assert!(
        detail.contains("I think you should edit scene 2!!"),
        "{detail}"
    );

    let (_, detail) = malformed_detail(parse_tool_decision(
        r#"{"tool": "explodeScene", "target_scene_id": "s-intro"}"#,
    ));
    assert!(detail.contains("explodeScene"), "{detail}");

    let (_, detail) = malformed_detail(parse_tool_decision(r#"{"target_scene_id": "s-intro"}"#));
    assert!(detail.contains("\"tool\""), "{detail}");

    let (_, detail) = malformed_detail(parse_tool_decision(r#"{"tool": "editScene"}"#));
    assert!(detail.contains("target_scene_id"), "{detail}");

    let (_, detail) = malformed_detail(parse_tool_decision(r#"{"tool": null}"#));
    assert!(detail.contains("clarification"), "{detail}");

    malformed_detail(parse_tool_decision(
        r#"{"tool": "editScene", "target_scene_id": "s-intro", "args": [1]}"#,
    ));
}

#[test]
fn targets_resolve_by_id_position_or_name_and_unknown_ids_fail() {
    let decide = |target: &str| ToolDecision::Tool {
        tool: Tool::EditScene,
        target_scene_id: Some(target.to_string()),
        args: json!({}),
        reasoning: String::new(),
    };
    let target_of = |decision: ToolDecision| match decision {
        ToolDecision::Tool {
            target_scene_id, ..
        } => target_scene_id,
        ToolDecision::Clarify { .. } => None,
    };
    let resolved = |target: &str| {
        target_of(resolve_target(decide(target), &intro_and_logo()).expect("resolves"))
    };
    assert_eq!(resolved("s-logo"), Some("s-logo".to_string()));
    assert_eq!(resolved("2"), Some("s-logo".to_string()));
    assert_eq!(resolved("scene 1"), Some("s-intro".to_string()));
    assert_eq!(resolved("logo reveal"), Some("s-logo".to_string()));
    let (_, detail) = malformed_detail(resolve_target(decide("s-missing"), &intro_and_logo()));
    assert!(
        detail.contains("s-missing") && detail.contains("s-intro"),
        "{detail}"
    );
    assert_eq!(
        target_of(resolve_target(decide("anything"), &[]).expect("no scenes, no check")),
        Some("anything".to_string())
    );
}

#[test]
fn code_edit_takes_the_tsx_block_summary_and_changed_duration() {
    let text = "Made the intro last five seconds.\n\n```tsx\nimport {AbsoluteFill} from 'remotion';\nexport const DURATION = 150;\nexport const Intro = () => <AbsoluteFill>Hi</AbsoluteFill>;\n```\nLet me know!";
    let edit = parse_code_edit(
        text,
        &edit_request(Tool::ChangeDuration, json!({}), Some(90)),
    )
    .expect("parses");
    assert!(edit.code.starts_with("import {AbsoluteFill}"));
    assert!(!edit.code.contains("```"));
    assert_eq!(edit.duration_frames, Some(150));
    assert_eq!(edit.summary, "Made the intro last five seconds.");
    assert_eq!(edit.scene_name, None);
}

#[test]
fn unchanged_duration_is_none_and_raw_code_without_fence_is_accepted() {
    let text = "export const DURATION = 90;\nexport const Intro = () => <div/>;";
    let edit =
        parse_code_edit(text, &edit_request(Tool::EditScene, json!({}), Some(90))).expect("ok");
    assert_eq!(edit.duration_frames, None);
    assert_eq!(edit.summary, DEFAULT_SUMMARY);
    assert!(edit.code.contains("export const Intro"));
}

#[test]
fn new_scenes_get_a_name_from_the_name_line_or_the_component() {
    let request = edit_request(Tool::AddScene, json!({}), None);
    let text = "Added an outro.\n**Name:** Outro card\n```tsx\nexport const Outro = () => <div>Bye</div>;\n```";
    let edit = parse_code_edit(text, &request).expect("ok");
    assert_eq!(edit.scene_name.as_deref(), Some("Outro card"));
    assert_eq!(edit.summary, "Added an outro.");

    let text = "```tsx\nexport default function ClosingTitle() { return <h1>End</h1>; }\n```";
    let edit = parse_code_edit(text, &request).expect("ok");
    assert_eq!(edit.scene_name.as_deref(), Some("ClosingTitle"));
}

#[test]
fn empty_or_non_code_answers_are_malformed() {
    let request = edit_request(Tool::EditScene, json!({}), Some(90));
    let (what, _) = malformed_detail(parse_code_edit("```tsx\n\n```", &request));
    assert_eq!(what, CODE_EDIT);
    let (_, detail) =
        malformed_detail(parse_code_edit("Sorry, I cannot help with that.", &request));
    assert!(detail.contains("no JSX"), "{detail}");
    malformed_detail(parse_code_edit("```json\n{\"a\": 1}\n```", &request));
}

#[test]
fn change_duration_falls_back_to_the_tool_argument() {
    let request = edit_request(
        Tool::ChangeDuration,
        json!({"duration_frames": 60}),
        Some(90),
    );
    let edit =
        parse_code_edit("```tsx\nexport const A = () => <div/>;\n```", &request).expect("ok");
    assert_eq!(edit.duration_frames, Some(60));
}

#[test]
fn durations_come_only_from_plain_declarations() {
    assert_eq!(
        duration_from_code("const DURATION_IN_FRAMES = 240;"),
        Some(240)
    );
    assert_eq!(
        duration_from_code("export const config = { durationInFrames: 120, fps: 30 };"),
        Some(120)
    );
    assert_eq!(
        duration_from_code("<Sequence durationInFrames={30}><A/></Sequence>"),
        None
    );
    assert_eq!(
        duration_from_code("const a = {durationInFrames: 30}; const b = {durationInFrames: 60};"),
        None
    );
    assert_eq!(duration_from_code("const fps = 30;"), None);
    assert_eq!(duration_from_code("const DURATION = 5 * 30;"), None);
    assert_eq!(
        duration_from_code("const { a } = x;\nconst DURATION = 75"),
        Some(75)
    );
}

#[test]
fn truncated_answers_are_refused() {
    assert!(reject_truncated(Some("stop"), CODE_EDIT).is_ok());
    assert!(reject_truncated(None, CODE_EDIT).is_ok());
    let (_, detail) = malformed_detail(reject_truncated(Some("max_tokens"), CODE_EDIT));
    assert!(detail.contains("token limit"));
}
