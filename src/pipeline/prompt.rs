//! Laying a context out as a chat prompt: the stable prefix (project, scene list,
//! relationships, images, style, preferences, scene lengths) before the changing part
//! (history, conversation, code, request), so a provider's prompt cache can reuse the prefix
//! from one request to the next.
//!
//! A prompt cache serves only the tokens before the first difference, so the prefix is ordered
//! by how rarely each part changes and how much follows it: what never changes first (the
//! project's title and id), then the scene list by name and id (a new scene is appended at its
//! end), then the small sections that change with memory writes and edits, and last the
//! volatile figures: scene count, total length and each scene's duration. A duration change, a
//! new scene or a new preference thus keeps nearly all of the prefix cacheable, where with
//! the counts in the first line and durations on every scene line it kept almost none.

use std::fmt::Write as _;

use crate::context::Context;
use crate::llm::{ChatPrompt, EditFormat, Tool};

/// The sections between the scene list and the scene lengths, least volatile first.
const STABLE_MIDDLE_SECTIONS: [&str; 4] = ["relationships", "images", "style", "preferences"];
const VARIABLE_SECTIONS: [&str; 3] = ["history", "conversation", "scenes_in_full"];

/// Durations per line of the scene lengths section.
const DURATIONS_PER_LINE: usize = 10;

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

fn push_section(out: &mut String, name: &str, body: &str) {
    if body.is_empty() {
        return;
    }
    out.push_str("## ");
    out.push_str(name);
    out.push('\n');
    out.push_str(body);
}

fn sections(context: &Context, names: &[&str]) -> String {
    let mut out = String::new();
    for name in names {
        push_section(&mut out, name, &context.render_section(name));
    }
    out
}

/// The stable prefix of both model stages, laid out as the module documentation says. It holds
/// what the context's stable sections hold (project, preferences, style, scene list,
/// relationships, images), only ordered by volatility.
pub fn stable_prefix(context: &Context) -> String {
    let mut out = String::new();
    let p = &context.project;
    push_section(
        &mut out,
        "project",
        &format!("Project: {} ({})\n", p.title, p.id),
    );
    let mut list = String::new();
    for s in context.scene_list.iter() {
        let _ = writeln!(list, "{}. {} [{}]", s.position, s.name, s.id);
    }
    push_section(&mut out, "scene_list", &list);
    out.push_str(&sections(context, &STABLE_MIDDLE_SECTIONS));
    let mut lengths = format!(
        "{} scenes, {} frames in all; frames of each scene by position:\n",
        p.scene_count, p.total_duration_frames
    );
    let scenes: Vec<_> = context.scene_list.iter().collect();
    for (row, chunk) in scenes.chunks(DURATIONS_PER_LINE).enumerate() {
        let first = row * DURATIONS_PER_LINE + 1;
        let _ = write!(lengths, "{first}-{}:", first + chunk.len() - 1);
        for s in chunk {
            let _ = write!(lengths, " {}", s.duration_frames);
        }
        lengths.push('\n');
    }
    push_section(&mut out, "scene_lengths", &lengths);
    out
}

/// The prompt of the tool selection stage.
pub fn tool_selection(context: &Context, request: &str) -> ChatPrompt {
    ChatPrompt {
        system: TOOL_SELECTION_SYSTEM.to_string(),
        stable_prefix: stable_prefix(context),
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
        stable_prefix: stable_prefix(context),
        variable,
    }
}
