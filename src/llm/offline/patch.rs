//! Span replacements: the only way the offline backend changes code.

use super::scene_model::Range;

/// Replace `range` of the code with `text` (an empty range inserts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    pub range: Range,
    pub text: String,
}

impl Patch {
    pub fn replace(range: Range, text: impl Into<String>) -> Patch {
        Patch {
            range,
            text: text.into(),
        }
    }

    pub fn insert(at: usize, text: impl Into<String>) -> Patch {
        Patch::replace(Range { start: at, end: at }, text)
    }
}

/// Applies patches to `code`. Patches must not overlap (identical ones are applied once);
/// `Err` names the first conflict, so a bug shows up as an error rather than as broken code.
pub fn apply(code: &str, mut patches: Vec<Patch>) -> Result<String, String> {
    patches.sort_by_key(|p| (p.range.start, p.range.end));
    patches.dedup();
    for pair in patches.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let overlaps = b.range.start < a.range.end
            || (a.range == b.range && a.range.start == a.range.end && a.text != b.text);
        if overlaps {
            return Err(format!(
                "internal: overlapping edits at bytes {}..{} and {}..{}",
                a.range.start, a.range.end, b.range.start, b.range.end
            ));
        }
    }
    let mut out = String::with_capacity(code.len() + 256);
    let mut at = 0;
    for patch in &patches {
        let (start, end) = (patch.range.start, patch.range.end);
        if end > code.len()
            || start < at
            || !code.is_char_boundary(start)
            || !code.is_char_boundary(end)
        {
            return Err(format!(
                "internal: edit range {start}..{end} is outside the code"
            ));
        }
        out.push_str(&code[at..start]);
        out.push_str(&patch.text);
        at = end;
    }
    out.push_str(&code[at..]);
    Ok(out)
}

/// The whitespace that starts the line containing `offset`.
pub fn indentation_at(code: &str, offset: usize) -> &str {
    let line_start = code[..offset.min(code.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = &code[line_start..];
    let len = line.len() - line.trim_start_matches([' ', '\t']).len();
    &line[..len]
}

/// Start of the line containing `offset`, if only whitespace precedes `offset` on it.
pub fn blank_line_start(code: &str, offset: usize) -> Option<usize> {
    let line_start = code[..offset].rfind('\n').map_or(0, |i| i + 1);
    code[line_start..offset]
        .chars()
        .all(|c| c == ' ' || c == '\t')
        .then_some(line_start)
}
