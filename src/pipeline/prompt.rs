//! Laying a context out as a chat prompt: the stable prefix (project, preferences, style, scene
//! list, relationships, images) before the changing part (history, conversation, code, request),
//! so a provider's prompt cache can reuse the prefix from one request to the next.

use crate::context::Context;
use crate::llm::{ChatPrompt, EditFormat, Tool};

const STABLE_SECTIONS: [&str; 6] = [
    "project",
    "preferences",
    "style",
    "scene_list",
    "relationships",
    "images",
];
const VARIABLE_SECTIONS: [&str; 3] = ["history", "conversation", "scenes_in_full"];

pub const TOOL_SELECTION_SYSTEM: &str = "You are the tool selector of a motion-graphics video editor. \
Projects are ordered scenes, each a React/Remotion TSX component. Pick exactly one tool \
(addScene, editScene, deleteScene, trimScene, changeDuration) and the target scene id for the \
user's request, or ask one clarifying question when the request is ambiguous or names a scene \
that does not exist.";

pub const CODE_EDIT_SYSTEM: &str = "You are the code editor of a motion-graphics video editor. \
Rewrite the target Remotion TSX scene to fulfil the request, following the project's stored \
preferences and style. Return the complete new TSX file.";

/// The code edit stage's instructions with `--edit-format diff` (DESIGN.md 7).
pub const CODE_EDIT_DIFF_SYSTEM: &str = "You are the code editor of a motion-graphics video \
editor. Change the target Remotion TSX scene to fulfil the request, following the project's \
stored preferences and style. Do not return the whole file: return only the changes, as one or \
more search/replace blocks against the target scene's current code, each written as\n\
<<<<<<< SEARCH\n(exact lines of the current code)\n=======\n(replacement lines)\n>>>>>>> REPLACE\n\
Blocks are applied in order; each SEARCH part must match exactly one place of the code (copy \
the lines exactly, with enough of them to be unique), an empty replacement deletes the lines. \
The result must still be a valid TSX file.";

/// The code edit system prompt for an answer in `format` (a new scene is always a whole file).
pub fn code_edit_system(tool: Tool, format: EditFormat) -> &'static str {
    match format {
        EditFormat::Diff if tool != Tool::AddScene => CODE_EDIT_DIFF_SYSTEM,
        _ => CODE_EDIT_SYSTEM,
    }
}

fn sections(context: &Context, names: &[&str]) -> String {
    let mut out = String::new();
    for name in names {
        let body = context.render_section(name);
        if body.is_empty() {
            continue;
        }
        out.push_str("## ");
        out.push_str(name);
        out.push('\n');
        out.push_str(&body);
    }
    out
}

/// The prompt of the tool selection stage.
pub fn tool_selection(context: &Context, request: &str) -> ChatPrompt {
    ChatPrompt {
        system: TOOL_SELECTION_SYSTEM.to_string(),
        stable_prefix: sections(context, &STABLE_SECTIONS),
        variable: format!(
            "{}## request\n{request}\n",
            sections(context, &VARIABLE_SECTIONS[..2])
        ),
    }
}

/// The prompt of the code edit stage: the target's code comes last, before the request.
pub fn code_edit(
    context: &Context,
    request: &str,
    tool: Tool,
    target_code: Option<&str>,
    format: EditFormat,
) -> ChatPrompt {
    let mut variable = sections(context, &VARIABLE_SECTIONS);
    if let Some(code) = target_code
        && !context.scenes_in_full.iter().any(|s| s.code == code)
    {
        variable.push_str("## target scene\n```tsx\n");
        variable.push_str(code);
        variable.push_str("\n```\n");
    }
    variable.push_str(&format!("## request ({})\n{request}\n", tool.as_str()));
    ChatPrompt {
        system: code_edit_system(tool, format).to_string(),
        stable_prefix: sections(context, &STABLE_SECTIONS),
        variable,
    }
}
