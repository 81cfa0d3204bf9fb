//! What real models are asked to answer and how their text is read back: the tool decision as
//! one JSON object, and the scene's TSX in one fenced block. Models wrap, pad and misspell
//! their answers, so the readers are lenient about the wrapping and strict about the content;
//! anything unusable becomes [`LlmError::Malformed`] quoting what came back.

use std::sync::OnceLock;

use super::types::ToolMode;

use serde_json::{Map, Value};

use super::http::{StreamedAnswer, excerpt};
use super::types::{
    ChatPrompt, CodeEdit, CodeEditRequest, LlmError, LlmResponse, SceneRef, Tool, ToolDecision,
    ToolSelectionRequest,
};
use crate::resolve::{self, LazyIndex, Resolution};

/// How much of a bad answer an error quotes.
const QUOTE_CHARS: usize = 160;

/// Longest summary line kept.
const SUMMARY_CHARS: usize = 200;

/// The summary used when the model gives none.
pub const DEFAULT_SUMMARY: &str = "rewrote scene code";

pub const TOOL_SELECTION: &str = "tool selection";
pub const CODE_EDIT: &str = "code edit";

/// Output format for stage 2, appended to the stage's system prompt.
pub const TOOL_SELECTION_INSTRUCTIONS: &str = r#"Answer with exactly one JSON object and nothing else:
{"tool": "addScene" | "editScene" | "deleteScene" | "trimScene" | "changeDuration" | null,
 "target_scene_id": "<id of the scene to change, from the scene list>" | null,
 "args": {<tool arguments, e.g. {"duration_frames": 90} for changeDuration>},
 "clarification": "<question for the user>" | null,
 "reasoning": "<one short sentence>"}
target_scene_id is null only for addScene. When the request is ambiguous or names a scene that does not exist, answer "tool": null with a clarification question."#;

/// The function stage 2 calls in the providers' tool calling (DESIGN.md 7).
pub const SELECT_TOOL: &str = "select_tool";

/// What the `select_tool` function is for, as the model reads it.
pub const SELECT_TOOL_DESCRIPTION: &str = "Record the decision for the user's edit request: the tool to run and its target scene, or a clarification question.";

/// Output format for stage 2 with native tool calls, appended to the stage's system prompt.
pub const NATIVE_TOOL_SELECTION_INSTRUCTIONS: &str = r#"Answer by calling the select_tool function once, with:
tool: "addScene" | "editScene" | "deleteScene" | "trimScene" | "changeDuration" | null,
target_scene_id: the id of the scene to change, from the scene list (null only for addScene),
args: the tool arguments, e.g. {"duration_frames": 90} for changeDuration,
clarification: a question for the user, or null,
reasoning: one short sentence.
When the request is ambiguous or names a scene that does not exist, call it with tool null and a clarification question."#;

/// The JSON schema of `select_tool`'s arguments: the decision object of the text format.
pub fn decision_schema() -> Value {
    let tools: Vec<Value> = Tool::ALL
        .iter()
        .map(|tool| Value::String(tool.as_str().to_string()))
        .chain([Value::Null])
        .collect();
    serde_json::json!({
        "type": "object",
        "properties": {
            "tool": {
                "type": ["string", "null"],
                "enum": tools,
                "description": "The tool to run; null to ask a clarification question."
            },
            "target_scene_id": {
                "type": ["string", "null"],
                "description": "Id of the scene to change, from the scene list; null only for addScene."
            },
            "args": {
                "type": "object",
                "description": "Tool arguments, e.g. {\"duration_frames\": 90} for changeDuration."
            },
            "clarification": {
                "type": ["string", "null"],
                "description": "A question for the user when the request is ambiguous."
            },
            "reasoning": {"type": "string", "description": "One short sentence."}
        },
        "required": ["tool", "target_scene_id", "args", "clarification", "reasoning"]
    })
}

/// Output format for stage 3, appended to the stage's system prompt.
pub const CODE_EDIT_INSTRUCTIONS: &str = r#"Answer in this format:
1. One line summarising the change.
2. For a new scene only: a line "Name: <scene name>".
3. The complete TSX of the scene (the whole file, not a diff or an excerpt) in one ```tsx fenced block.
Keep the component's export and everything the request does not ask to change. If the scene declares its length in frames (a DURATION constant or durationInFrames), keep that declaration up to date."#;

/// The stage's system prompt followed by the answer format.
pub fn with_instructions(system: &str, instructions: &str) -> String {
    if system.trim().is_empty() {
        instructions.to_string()
    } else {
        format!("{}\n\n{instructions}", system.trim_end())
    }
}

/// The prompt sent for stage 2: the request's prompt with the answer format added to the
/// system part (which stays constant, so provider caches still hit).
pub fn tool_selection_prompt(request: &ToolSelectionRequest) -> ChatPrompt {
    ChatPrompt {
        system: with_instructions(&request.prompt.system, TOOL_SELECTION_INSTRUCTIONS),
        ..request.prompt.clone()
    }
}

/// The prompt sent for stage 2 with native tool calls: the function call asked for instead of
/// a JSON answer.
pub fn native_tool_selection_prompt(request: &ToolSelectionRequest) -> ChatPrompt {
    ChatPrompt {
        system: with_instructions(&request.prompt.system, NATIVE_TOOL_SELECTION_INSTRUCTIONS),
        ..request.prompt.clone()
    }
}

/// The prompt sent for stage 3, like [`tool_selection_prompt`]; the answer format is the one
/// the request asks for (search/replace blocks or the whole file).
pub fn code_edit_prompt(request: &CodeEditRequest) -> ChatPrompt {
    let instructions = match diff_target(request) {
        Some(_) => crate::editfmt::DIFF_INSTRUCTIONS,
        None => CODE_EDIT_INSTRUCTIONS,
    };
    ChatPrompt {
        system: with_instructions(&request.prompt.system, instructions),
        ..request.prompt.clone()
    }
}

/// The scene a diff answer applies to: the target, when the request asks for the diff format
/// (a new scene is always a whole file).
fn diff_target(request: &CodeEditRequest) -> Option<&super::types::TargetScene> {
    match request.edit_format {
        super::types::EditFormat::Diff if request.tool != Tool::AddScene => request.target.as_ref(),
        _ => None,
    }
}

/// Reads a finished stage 2 answer into the response both real clients return.
pub fn tool_selection_response(
    answer: StreamedAnswer,
    request: &ToolSelectionRequest,
    configured_model: &str,
    sent_prompt: &ChatPrompt,
) -> Result<LlmResponse<ToolDecision>, LlmError> {
    reject_truncated(answer.finish_reason.as_deref(), TOOL_SELECTION)?;
    // A tool call wins; a model that answered in text instead (native mode asked, a small
    // model ignored it) is read as the text format. Both go through the same validation.
    let call = answer
        .tool_calls
        .iter()
        .find(|call| call.name == SELECT_TOOL)
        .or_else(|| answer.tool_calls.first());
    let decision = match call {
        Some(call) => parse_tool_arguments(call.arguments_text())?,
        None => parse_tool_decision(&answer.text)?,
    };
    let decision = resolve_target(decision, &request.scenes)?;
    Ok(answer.into_response(decision, configured_model, sent_prompt))
}

/// Reads a finished stage 3 answer into the response both real clients return.
pub fn code_edit_response(
    answer: StreamedAnswer,
    request: &CodeEditRequest,
    configured_model: &str,
    sent_prompt: &ChatPrompt,
) -> Result<LlmResponse<CodeEdit>, LlmError> {
    reject_truncated(answer.finish_reason.as_deref(), CODE_EDIT)?;
    let edit = parse_code_edit(&answer.text, request)?;
    Ok(answer.into_response(edit, configured_model, sent_prompt))
}

fn malformed(what: &str, detail: String) -> LlmError {
    LlmError::Malformed {
        what: what.to_string(),
        detail,
    }
}

fn quote(text: &str) -> String {
    format!("\"{}\"", excerpt(text, QUOTE_CHARS))
}

/// Refuses an answer the provider stopped at its output token limit: what came back is cut,
/// and parsing it would fail with a misleading message or, worse, succeed on half a scene.
pub fn reject_truncated(finish_reason: Option<&str>, what: &str) -> Result<(), LlmError> {
    match finish_reason {
        Some(reason @ ("length" | "max_tokens")) => Err(malformed(
            what,
            format!("the answer stopped at the output token limit (finish reason {reason})"),
        )),
        _ => Ok(()),
    }
}

/// The end (exclusive) of the balanced `{...}` starting at `start`, skipping braces inside
/// JSON strings.
fn balanced_object_end(text: &str, start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (offset, ch) in text[start..].char_indices() {
        if in_string {
            match ch {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match ch {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(start + offset + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// The first balanced `{...}` in `text` that parses as a JSON object. Code fences and prose
/// around it are skipped; a brace in prose ("use {x}") is tried and passed over.
pub fn first_json_object(text: &str) -> Option<Map<String, Value>> {
    let mut from = 0;
    while let Some(found) = text[from..].find('{') {
        let start = from + found;
        if let Some(end) = balanced_object_end(text, start)
            && let Ok(Value::Object(object)) = serde_json::from_str::<Value>(&text[start..end])
        {
            return Some(object);
        }
        from = start + 1;
    }
    None
}

/// A tool name as models write it: exact, or with other casing, `_`, `-` or spaces.
fn parse_tool_name(name: &str) -> Option<Tool> {
    let normalized: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    Tool::ALL
        .into_iter()
        .find(|tool| tool.as_str().to_ascii_lowercase() == normalized)
}

fn non_empty_str(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Reads the stage 2 answer into a [`ToolDecision`].
pub fn parse_tool_decision(text: &str) -> Result<ToolDecision, LlmError> {
    let object = first_json_object(text).ok_or_else(|| {
        malformed(
            TOOL_SELECTION,
            format!("expected one JSON object, got {}", quote(text)),
        )
    })?;
    decision_from_object(&object, text)
}

/// Reads the arguments of a `select_tool` call: one JSON object (some servers encode it
/// twice, as a JSON string holding the object), validated like the text format.
pub fn parse_tool_arguments(arguments: &str) -> Result<ToolDecision, LlmError> {
    let object = match serde_json::from_str::<Value>(arguments.trim()) {
        Ok(Value::Object(object)) => object,
        Ok(Value::String(inner)) => match serde_json::from_str::<Value>(&inner) {
            Ok(Value::Object(object)) => object,
            _ => {
                return Err(malformed(
                    TOOL_SELECTION,
                    format!(
                        "the select_tool arguments are not an object: {}",
                        quote(arguments)
                    ),
                ));
            }
        },
        _ => {
            return Err(malformed(
                TOOL_SELECTION,
                format!(
                    "the select_tool arguments are not one JSON object: {}",
                    quote(arguments)
                ),
            ));
        }
    };
    decision_from_object(&object, arguments)
}

/// Validates a decision object (`text` is what error messages quote).
pub fn decision_from_object(
    object: &Map<String, Value>,
    text: &str,
) -> Result<ToolDecision, LlmError> {
    let tool_value = object.get("tool").ok_or_else(|| {
        malformed(
            TOOL_SELECTION,
            format!("the JSON has no \"tool\" field: {}", quote(text)),
        )
    })?;
    let tool_name = match tool_value {
        Value::Null => None,
        Value::String(name) => Some(name.trim()).filter(|name| !name.is_empty()),
        other => {
            return Err(malformed(
                TOOL_SELECTION,
                format!("\"tool\" must be a name or null, got {other}"),
            ));
        }
    };
    let Some(tool_name) = tool_name else {
        return non_empty_str(object.get("clarification"))
            .map(|question| ToolDecision::Clarify { question })
            .ok_or_else(|| {
                malformed(
                    TOOL_SELECTION,
                    format!("no tool and no clarification question: {}", quote(text)),
                )
            });
    };
    let tool = parse_tool_name(tool_name).ok_or_else(|| {
        let known: Vec<&str> = Tool::ALL.iter().map(|t| t.as_str()).collect();
        malformed(
            TOOL_SELECTION,
            format!(
                "unknown tool \"{tool_name}\" (expected one of {})",
                known.join(", ")
            ),
        )
    })?;
    let target_scene_id = match object.get("target_scene_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) if id.trim().is_empty() => None,
        Some(Value::String(id)) => Some(id.trim().to_string()),
        // Models sometimes answer with the scene's position; resolve_target maps it to the id.
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => {
            return Err(malformed(
                TOOL_SELECTION,
                format!("\"target_scene_id\" must be a string or null, got {other}"),
            ));
        }
    };
    let target_scene_id = if tool == Tool::AddScene {
        None
    } else {
        Some(target_scene_id.ok_or_else(|| {
            malformed(
                TOOL_SELECTION,
                format!("{} needs a target_scene_id: {}", tool.as_str(), quote(text)),
            )
        })?)
    };
    let args = match object.get("args") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(Value::Object(args)) => Value::Object(args.clone()),
        Some(other) => {
            return Err(malformed(
                TOOL_SELECTION,
                format!("\"args\" must be an object, got {other}"),
            ));
        }
    };
    Ok(ToolDecision::Tool {
        tool,
        target_scene_id,
        args,
        reasoning: non_empty_str(object.get("reasoning")).unwrap_or_default(),
    })
}

/// Checks the decision's target against the project's scenes, mapping what is not an id (a
/// position "2", "scene 2", "#2", a name, "the last scene") to its id through the resolver the
/// context and the offline model use. An id the project does not have is refused: running a
/// tool on it could only fail later with a less helpful message. Without a scene list nothing
/// is checked.
pub fn resolve_target(
    mut decision: ToolDecision,
    scenes: &[SceneRef],
) -> Result<ToolDecision, LlmError> {
    if let ToolDecision::Tool {
        target_scene_id: Some(target),
        ..
    } = &mut decision
        && !scenes.is_empty()
        && !scenes.iter().any(|scene| scene.id == *target)
    {
        let cell = OnceLock::new();
        let index = LazyIndex::new(&cell, scenes);
        let why = match resolve::reference(target, scenes, &index) {
            Resolution::Found(found) => {
                *target = scenes[found.index].id.clone();
                return Ok(decision);
            }
            Resolution::Clarify(question) => format!(": {}", question.question(scenes)),
            Resolution::Nothing => String::new(),
        };
        let known: Vec<&str> = scenes.iter().map(|scene| scene.id.as_str()).collect();
        return Err(malformed(
            TOOL_SELECTION,
            format!(
                "target_scene_id \"{target}\" is not a scene of this project (scenes: {}){why}",
                known.join(", ")
            ),
        ));
    }
    Ok(decision)
}

/// A fenced block of the answer.
struct Fence {
    language: String,
    body: String,
}

/// The answer split into its fenced blocks and the lines outside them. An opening fence
/// without a closing one runs to the end.
fn split_fences(text: &str) -> (Vec<Fence>, Vec<&str>) {
    let mut fences = Vec::new();
    let mut outside = Vec::new();
    let mut open: Option<Fence> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        match (open.take(), trimmed.strip_prefix("```")) {
            (None, Some(language)) => {
                open = Some(Fence {
                    language: language.trim().to_ascii_lowercase(),
                    body: String::new(),
                });
            }
            (None, None) => outside.push(line),
            (Some(fence), Some(rest)) if rest.trim().is_empty() => fences.push(fence),
            (Some(mut fence), _) => {
                fence.body.push_str(line);
                fence.body.push('\n');
                open = Some(fence);
            }
        }
    }
    fences.extend(open);
    (fences, outside)
}

/// Whether a fence's info string ("tsx", "tsx title=Intro.tsx") names TS/JS code.
fn is_code_language(info: &str) -> bool {
    matches!(
        info.split_whitespace().next().unwrap_or(""),
        "tsx" | "jsx" | "ts" | "typescript" | "js" | "javascript" | "react"
    )
}

/// The code of the answer and the lines around it: the first block labelled as TS/JS code,
/// else the longest unlabelled block, else the whole text when there is no fence at all.
fn extract_code(text: &str) -> (String, Vec<&str>) {
    let (fences, outside) = split_fences(text);
    let labelled = fences.iter().find(|f| is_code_language(&f.language));
    let unlabelled = fences
        .iter()
        .filter(|f| f.language.is_empty())
        .max_by_key(|f| f.body.len());
    match labelled.or(unlabelled) {
        Some(fence) => (fence.body.trim_end().to_string() + "\n", outside),
        None if fences.is_empty() => (text.trim().to_string() + "\n", Vec::new()),
        // Only blocks in other languages (a JSON or shell snippet): no scene code.
        None => (String::new(), outside),
    }
}

/// Whether text looks like a scene module at all: an export or a JSX tag.
fn looks_like_tsx(code: &str) -> bool {
    let has_export = code
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|word| word == "export");
    let has_jsx = code.contains("</") || code.contains("/>");
    has_export || has_jsx
}

/// The integer `value` starts with (after spaces), when it stands alone: `150;` or `120,` but
/// not `5 * 30`, which is not obvious enough to read without evaluating it.
fn plain_number(value: &str) -> Option<i64> {
    let rest = value.trim_start();
    let digits_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let number: i64 = rest[..digits_end].parse().ok()?;
    let next = rest[digits_end..]
        .trim_start_matches([' ', '\t'])
        .chars()
        .next();
    matches!(next, None | Some(';' | ',' | '}' | ')' | '\n' | '\r')).then_some(number)
}

/// The scene length in frames when the code states it plainly: a `const` whose name contains
/// `DURATION` (`const DURATION = 150`, `export const DURATION_IN_FRAMES = 90`), else
/// `durationInFrames: N` / `durationInFrames = N` when every such mention agrees. JSX
/// attributes (`<Sequence durationInFrames={30}>`) are ignored: they time parts of a scene.
pub fn duration_from_code(code: &str) -> Option<i64> {
    for line in code.lines() {
        let line = line.trim_start();
        let declaration = line
            .strip_prefix("export ")
            .unwrap_or(line)
            .strip_prefix("const ");
        if let Some((name, value)) = declaration.and_then(|d| d.split_once('=')) {
            let name = name.split(':').next().unwrap_or(name).trim();
            if name.contains("DURATION")
                && let Some(frames) = plain_number(value)
            {
                return Some(frames);
            }
        }
    }
    let mut found: Option<i64> = None;
    for (index, _) in code.match_indices("durationInFrames") {
        let after = index + "durationInFrames".len();
        let rest = code[after..].trim_start();
        let Some(value) = rest.strip_prefix(':').or_else(|| {
            rest.strip_prefix('=')
                .filter(|value| !value.trim_start().starts_with('{'))
        }) else {
            continue;
        };
        if let Some(frames) = plain_number(value) {
            match found {
                Some(previous) if previous != frames => return None,
                _ => found = Some(frames),
            }
        }
    }
    found
}

/// A "Name: ..." line's value, markdown emphasis and quotes removed.
fn name_line(line: &str) -> Option<String> {
    let cleaned = line.trim().trim_start_matches(['*', '_', '#', '-', ' ']);
    let lower = cleaned.to_ascii_lowercase();
    let value = if lower.starts_with("scene name:") {
        &cleaned["scene name:".len()..]
    } else if lower.starts_with("name:") {
        &cleaned["name:".len()..]
    } else {
        return None;
    };
    let value = value.trim_matches(|c: char| c.is_whitespace() || "*_\"'`".contains(c));
    (!value.is_empty()).then(|| value.to_string())
}

/// The exported component's name, as a fallback name for a new scene.
fn component_name(code: &str) -> Option<String> {
    const STARTS: [&str; 4] = [
        "export default function ",
        "export function ",
        "export const ",
        "export default class ",
    ];
    code.lines().find_map(|line| {
        let line = line.trim_start();
        let rest = STARTS.iter().find_map(|start| line.strip_prefix(start))?;
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let is_component = name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && !name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit());
        is_component.then_some(name)
    })
}

/// The first line of prose outside the code, without list or heading marks.
fn summary_line(outside: &[&str]) -> String {
    outside
        .iter()
        .map(|line| line.trim())
        .filter(|line| !line.is_empty() && name_line(line).is_none())
        .map(|line| {
            let line = line.trim_start_matches(['#', '*', '-', ' ']);
            let line = line
                .strip_prefix("1.")
                .or_else(|| line.strip_prefix("1)"))
                .unwrap_or(line)
                .trim_start();
            let line = line
                .strip_prefix("Summary:")
                .or_else(|| line.strip_prefix("summary:"))
                .unwrap_or(line);
            line.trim_matches(|c: char| c.is_whitespace() || c == '*')
                .to_string()
        })
        .find(|line| !line.is_empty())
        .map_or_else(
            || DEFAULT_SUMMARY.to_string(),
            |line| excerpt(&line, SUMMARY_CHARS),
        )
}

/// Reads the stage 3 answer into a [`CodeEdit`] for `request`, in the format it asked for: a
/// diff answer's blocks are applied to the target's code (an answer that holds no block but a
/// whole scene is taken as the whole file); blocks that cannot be read or do not apply are
/// [`LlmError::EditBlocks`], on which the pipeline asks again for the whole file.
pub fn parse_code_edit(text: &str, request: &CodeEditRequest) -> Result<CodeEdit, LlmError> {
    if let Some(target) = diff_target(request) {
        match crate::editfmt::read(text) {
            Ok(answer) => {
                let code = crate::editfmt::apply(&target.code, &answer.blocks)?;
                let outside: Vec<&str> = answer.prose.iter().map(String::as_str).collect();
                return Ok(code_edit_of(code, &outside, request));
            }
            Err(crate::editfmt::EditError::NoBlocks) => {
                let (code, _) = extract_code(text);
                if code.trim().is_empty() || !looks_like_tsx(&code) {
                    return Err(crate::editfmt::EditError::NoBlocks.into());
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    let (code, outside) = extract_code(text);
    if code.trim().is_empty() {
        return Err(malformed(
            CODE_EDIT,
            format!("the answer holds no scene code: {}", quote(text)),
        ));
    }
    if !looks_like_tsx(&code) {
        return Err(malformed(
            CODE_EDIT,
            format!("the answer has no JSX and no export: {}", quote(&code)),
        ));
    }
    Ok(code_edit_of(code, &outside, request))
}

/// The edit of `code` (the scene's whole new TSX), its summary from the answer's prose.
fn code_edit_of(code: String, outside: &[&str], request: &CodeEditRequest) -> CodeEdit {
    let parsed_duration = duration_from_code(&code);
    let current_duration = request.target.as_ref().map(|target| target.duration_frames);
    let duration_frames = match parsed_duration {
        Some(frames) if Some(frames) != current_duration => Some(frames),
        Some(_) => None,
        None if request.tool == Tool::ChangeDuration => request
            .args
            .get("duration_frames")
            .and_then(Value::as_i64)
            .filter(|frames| Some(*frames) != current_duration),
        None => None,
    };
    let scene_name = if request.tool == Tool::AddScene {
        outside
            .iter()
            .find_map(|line| name_line(line))
            .or_else(|| component_name(&code))
    } else {
        None
    };
    CodeEdit {
        summary: summary_line(outside),
        code,
        duration_frames,
        scene_name,
    }
}

/// Endpoints that refused native tool calls in this process (`--tool-mode auto`): their next
/// tool selections go straight to the JSON text format.
fn refused_endpoints() -> &'static std::sync::Mutex<std::collections::HashSet<String>> {
    static REFUSED: OnceLock<std::sync::Mutex<std::collections::HashSet<String>>> = OnceLock::new();
    REFUSED.get_or_init(Default::default)
}

/// Whether `endpoint` refused native tool calls before, in this process.
pub fn tools_refused(endpoint: &str) -> bool {
    refused_endpoints()
        .lock()
        .map(|set| set.contains(endpoint))
        .unwrap_or(false)
}

/// Remembers that `endpoint` refused native tool calls, for the life of the process.
pub fn remember_tools_refused(endpoint: &str) {
    if let Ok(mut set) = refused_endpoints().lock() {
        set.insert(endpoint.to_string());
    }
}

/// Whether an error is a server refusing tool calling: a 400 (or 422, as some validating
/// servers answer) whose body speaks of tools or functions ("tools not supported",
/// "tool_choice is not supported", "does not support function calling").
pub fn is_tools_refusal(error: &LlmError) -> bool {
    match error {
        LlmError::Http {
            status: 400 | 422,
            body,
            ..
        } => {
            let body = body.to_ascii_lowercase();
            body.contains("tool") || body.contains("function")
        }
        _ => false,
    }
}

/// Stage 2 by `--tool-mode`, for both real clients: `native` (a `select_tool` call) unless the
/// mode is `json` or the endpoint refused tool calls before; in `auto`, a refusal switches this
/// endpoint to `json` (the text format) for the life of the process, and this call with it.
pub async fn select_tool_by_mode<N, J>(
    mode: ToolMode,
    provider: &'static str,
    endpoint: &str,
    native: impl FnOnce() -> N,
    json: impl FnOnce() -> J,
) -> Result<LlmResponse<ToolDecision>, LlmError>
where
    N: std::future::Future<Output = Result<LlmResponse<ToolDecision>, LlmError>>,
    J: std::future::Future<Output = Result<LlmResponse<ToolDecision>, LlmError>>,
{
    let use_native = match mode {
        ToolMode::Json => false,
        ToolMode::Native => true,
        ToolMode::Auto => !tools_refused(endpoint),
    };
    if !use_native {
        return json().await;
    }
    match native().await {
        Err(error) if mode == ToolMode::Auto && is_tools_refusal(&error) => {
            tracing::warn!(
                provider,
                endpoint = super::http::redact_url(endpoint).as_str(),
                %error,
                "the server refused tool calls; using the JSON text format from now on"
            );
            remember_tools_refused(endpoint);
            json().await
        }
        other => other,
    }
}
