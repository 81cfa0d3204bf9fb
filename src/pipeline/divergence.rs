//! Where two prompts of the same stage first differ: the token offset and the section it falls
//! in ("first differs at token 1,432, in scene_list"). A provider's prompt cache serves the
//! longest common prefix of a prompt with one it has seen, so this is what explains a cache
//! miss, or a hit smaller than the stable prefix.

use serde::{Deserialize, Serialize};

use super::Stage;
use crate::context::tokens;
use crate::llm::ChatPrompt;

/// The first difference between a stage's prompt and the one before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrefixDivergence {
    pub stage: Stage,
    /// Tokens the two prompts share before they differ (cl100k).
    pub token: usize,
    /// The prompt section the difference falls in: `system`, or a context section
    /// (`scene_list`, `preferences`, ...), or `request`/`target scene`.
    pub section: String,
}

/// The text a provider sees, in order: system, then the stable prefix, then the variable part.
fn parts(prompt: &ChatPrompt) -> [&str; 3] {
    [&prompt.system, &prompt.stable_prefix, &prompt.variable]
}

/// Where `next` first differs from `previous`, or `None` when they are the same.
pub fn divergence(
    stage: Stage,
    previous: &ChatPrompt,
    next: &ChatPrompt,
) -> Option<PrefixDivergence> {
    let (a, b) = (parts(previous), parts(next));
    let mut shared_tokens = 0;
    for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
        if x == y {
            shared_tokens += tokens::count_cached(x);
            continue;
        }
        let at = common_prefix_len(x, y);
        // Back to the start of the line: a whole line's tokens are the same in both texts,
        // so the count of the shared lines is exact.
        let line_start = x[..at].rfind('\n').map_or(0, |n| n + 1);
        shared_tokens += tokens::count_cached(&x[..line_start]);
        let section = if i == 0 {
            "system".to_string()
        } else {
            section_at(y, at).unwrap_or(if i == 1 { "stable_prefix" } else { "variable" }.into())
        };
        return Some(PrefixDivergence {
            stage,
            token: shared_tokens,
            section,
        });
    }
    None
}

/// Bytes the two texts share from the start, at a character boundary.
fn common_prefix_len(x: &str, y: &str) -> usize {
    let mut at = 0;
    for (cx, cy) in x.chars().zip(y.chars()) {
        if cx != cy {
            break;
        }
        at += cx.len_utf8();
    }
    at
}

/// The name of the `## name` section that holds byte `at` of `text`.
fn section_at(text: &str, at: usize) -> Option<String> {
    let upto = &text[..at.min(text.len())];
    // The header of the section the offset is in: the last "## " line that starts at or
    // before it (a difference on the header line itself names that header's section).
    let line_end = text[upto.len()..]
        .find('\n')
        .map_or(text.len(), |n| upto.len() + n);
    text[..line_end]
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("## "))
        .map(|name| {
            // "request (editScene)" is the request section.
            name.split(" (").next().unwrap_or(name).trim().to_string()
        })
}
