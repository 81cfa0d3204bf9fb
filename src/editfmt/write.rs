//! Rendering old -> new code as blocks.

use similar::{Algorithm, DiffTag, capture_diff_slices};

use super::apply::{apply, split_lines};
use super::{Block, DIVIDER_MARKER, REPLACE_MARKER, SEARCH_MARKER};

/// A changed region, in line numbers of the old and the new code (end exclusive); once grown,
/// its unchanged lines around the change are the block's context.
#[derive(Debug, Clone, Copy)]
struct Hunk {
    old_start: usize,
    old_end: usize,
    new_start: usize,
    new_end: usize,
}

/// How many times `search` occurs in `lines` (as whole lines).
fn occurrences(lines: &[&str], search: &[&str]) -> usize {
    if search.is_empty() || search.len() > lines.len() {
        return 0;
    }
    lines.windows(search.len()).filter(|w| w == &search).count()
}

/// Whether `hunk`'s SEARCH part occurs once in the code it is applied to: the blocks before it
/// already applied (the new code up to its start), the old code from its start on.
fn unique(old: &[&str], new: &[&str], hunk: &Hunk) -> bool {
    let search = &old[hunk.old_start..hunk.old_end];
    if search.is_empty() {
        return false;
    }
    let current: Vec<&str> = new[..hunk.new_start]
        .iter()
        .chain(&old[hunk.old_start..])
        .copied()
        .collect();
    occurrences(&current, search) == 1
}

/// The changed regions of old -> new, by a line diff.
fn hunks(old: &[&str], new: &[&str]) -> Vec<Hunk> {
    let mut out: Vec<Hunk> = Vec::new();
    for op in capture_diff_slices(Algorithm::Myers, old, new) {
        let (tag, o, n) = op.as_tag_tuple();
        if tag == DiffTag::Equal {
            continue;
        }
        match out.last_mut() {
            // Touching changes (a delete then an insert) are one region.
            Some(last) if last.old_end == o.start && last.new_end == n.start => {
                last.old_end = o.end;
                last.new_end = n.end;
            }
            _ => out.push(Hunk {
                old_start: o.start,
                old_end: o.end,
                new_start: n.start,
                new_end: n.end,
            }),
        }
    }
    out
}

/// The blocks that turn `old` into `new`: one per changed region, each with just enough
/// unchanged lines around it that its SEARCH part matches one place of the code it applies to
/// (regions too close to be told apart become one block). No blocks when nothing changed.
/// Applying the result to `old` gives `new` line for line; a file whose line breaks change
/// (CRLF <-> LF, a last line break added or removed) cannot be said in lines, and comes back
/// as one block holding the whole file.
pub fn diff_blocks(old: &str, new: &str) -> Vec<Block> {
    let old_lines = split_lines(old);
    let new_lines = split_lines(new);
    let old_texts: Vec<&str> = old_lines.iter().map(|l| l.text.as_str()).collect();
    let new_texts: Vec<&str> = new_lines.iter().map(|l| l.text.as_str()).collect();
    let whole = || {
        vec![Block::new(
            old_texts.iter().copied(),
            new_texts.iter().copied(),
        )]
    };
    if old == new {
        return Vec::new();
    }
    if old_texts.is_empty() {
        return whole();
    }
    let mut hunks = hunks(&old_texts, &new_texts);
    let mut i = 0;
    while i < hunks.len() {
        let low = if i > 0 { hunks[i - 1].old_end } else { 0 };
        let high = hunks.get(i + 1).map_or(old_texts.len(), |h| h.old_start);
        let mut before_turn = true;
        let mut stuck = false;
        while !unique(&old_texts, &new_texts, &hunks[i]) {
            let h = &mut hunks[i];
            let can_before = h.old_start > low;
            let can_after = h.old_end < high;
            if can_before && (before_turn || !can_after) {
                h.old_start -= 1;
                h.new_start -= 1;
            } else if can_after {
                h.old_end += 1;
                h.new_end += 1;
            } else {
                stuck = true;
                break;
            }
            before_turn = !before_turn;
        }
        if !stuck {
            i += 1;
            continue;
        }
        // No room left between its neighbours: one block with the neighbour, then try again.
        if i > 0 {
            let current = hunks.remove(i);
            let previous = &mut hunks[i - 1];
            previous.old_end = current.old_end;
            previous.new_end = current.new_end;
            i -= 1;
        } else if i + 1 < hunks.len() {
            let next = hunks.remove(i + 1);
            hunks[i].old_end = next.old_end;
            hunks[i].new_end = next.new_end;
        } else {
            // One region spanning the whole file is always unique; this is only reached by a
            // file whose lines are all the same and empty search parts: say the whole file.
            return whole();
        }
    }
    let blocks: Vec<Block> = hunks
        .iter()
        .map(|h| {
            Block::new(
                old_texts[h.old_start..h.old_end].iter().copied(),
                new_texts[h.new_start..h.new_end].iter().copied(),
            )
        })
        .collect();
    match apply(old, &blocks) {
        Ok(applied) if applied == new => blocks,
        _ => whole(),
    }
}

/// `blocks` in the format, each marker on a line of its own.
pub fn write(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        out.push_str(SEARCH_MARKER);
        out.push('\n');
        for line in &block.search {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(DIVIDER_MARKER);
        out.push('\n');
        for line in &block.replace {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(REPLACE_MARKER);
        out.push('\n');
    }
    out
}

/// A whole diff answer as a model gives it: the summary line, then the blocks.
pub fn render_answer(summary: &str, blocks: &[Block]) -> String {
    format!("{}\n{}", summary.trim(), write(blocks))
}
