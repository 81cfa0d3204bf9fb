//! Reading the blocks of a model's answer.

use super::{Block, DIVIDER_MARKER, EditError, REPLACE_MARKER, SEARCH_MARKER};

/// A diff answer: its blocks in order, and the prose around them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Answer {
    pub blocks: Vec<Block>,
    /// The answer's lines outside every block, code fences left out (the summary is there).
    pub prose: Vec<String>,
}

enum State {
    Outside,
    Search(Block),
    Replace(Block),
}

/// Whether `line` is `marker`, give or take surrounding whitespace: models indent and pad,
/// but a marker with other characters (`<<<<<<<< SEARCH`, `<<< SEARCH`) is not one.
fn is(line: &str, marker: &str) -> bool {
    line.trim() == marker
}

fn is_fence(line: &str) -> bool {
    line.trim_start().starts_with("```")
}

/// Reads the blocks of `text`. Prose, fences and blank lines around blocks are allowed; a block
/// must have its three markers in order, each on a line of its own. An answer without a block
/// is [`EditError::NoBlocks`].
pub fn read(text: &str) -> Result<Answer, EditError> {
    let mut answer = Answer::default();
    let mut state = State::Outside;
    let malformed = |block: usize, line: usize, detail: &str| EditError::Malformed {
        block,
        line,
        detail: detail.to_string(),
    };
    for (index, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let number = index + 1;
        let block = answer.blocks.len() + 1;
        state = match state {
            State::Outside => {
                if is(line, SEARCH_MARKER) {
                    State::Search(Block::default())
                } else if is(line, REPLACE_MARKER) {
                    return Err(malformed(block, number, "REPLACE marker before any SEARCH"));
                } else {
                    if !is_fence(line) {
                        answer.prose.push(line.to_string());
                    }
                    State::Outside
                }
            }
            State::Search(mut current) => {
                if is(line, DIVIDER_MARKER) {
                    State::Replace(current)
                } else if is(line, SEARCH_MARKER) {
                    return Err(malformed(
                        block,
                        number,
                        "a second SEARCH marker before =======",
                    ));
                } else if is(line, REPLACE_MARKER) {
                    return Err(malformed(block, number, "REPLACE marker before ======="));
                } else {
                    current.search.push(line.to_string());
                    State::Search(current)
                }
            }
            State::Replace(mut current) => {
                if is(line, REPLACE_MARKER) {
                    answer.blocks.push(current);
                    State::Outside
                } else if is(line, SEARCH_MARKER) {
                    return Err(malformed(
                        block,
                        number,
                        "a SEARCH marker before the block's REPLACE marker",
                    ));
                } else if is(line, DIVIDER_MARKER) {
                    return Err(malformed(block, number, "a second ======= in one block"));
                } else {
                    current.replace.push(line.to_string());
                    State::Replace(current)
                }
            }
        };
    }
    if !matches!(state, State::Outside) {
        let lines = text.split('\n').count();
        return Err(malformed(
            answer.blocks.len() + 1,
            lines,
            "the answer ends inside the block (no >>>>>>> REPLACE)",
        ));
    }
    if answer.blocks.is_empty() {
        return Err(EditError::NoBlocks);
    }
    Ok(answer)
}
