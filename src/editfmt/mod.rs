//! The diff edit format (DESIGN.md 7, `--edit-format diff`): search/replace blocks against a
//! scene's code.
//!
//! ```text
//! <<<<<<< SEARCH
//! (exact lines of the current code)
//! =======
//! (replacement lines)
//! >>>>>>> REPLACE
//! ```
//!
//! - [`read`] finds the blocks in a model's answer: prose, fences and blank lines around them
//!   are allowed (the prose is kept for the summary), the markers are not negotiable.
//! - [`apply`] applies blocks in order, each to the code as the blocks before it left it:
//!   exact match first, then ignoring trailing whitespace and a uniform difference of leading
//!   indentation (the replacement is re-indented by the same difference). A block that matches
//!   nowhere or in more than one place is an error naming the block.
//! - [`diff_blocks`] renders old -> new as the fewest, smallest blocks whose SEARCH parts are
//!   each unique where they apply; [`write`] prints blocks in the format.
//!
//! Everything is line based: a line break at the very end of the code is kept as the code had
//! it, and replacement lines take the code's line breaks (`\r\n` in a CRLF file). Nothing here
//! panics on any input (the format is read from model output).

mod apply;
mod read;
mod write;

pub use apply::apply;
pub use read::{Answer, read};
pub use write::{diff_blocks, render_answer, write};

/// The line that opens a block's SEARCH part.
pub const SEARCH_MARKER: &str = "<<<<<<< SEARCH";
/// The line between the SEARCH and REPLACE parts.
pub const DIVIDER_MARKER: &str = "=======";
/// The line that closes a block.
pub const REPLACE_MARKER: &str = ">>>>>>> REPLACE";

/// How much of a block an error quotes.
const QUOTE_CHARS: usize = 80;

/// One search/replace block: lines without their line breaks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Block {
    pub search: Vec<String>,
    pub replace: Vec<String>,
}

impl Block {
    pub fn new<S: Into<String>>(
        search: impl IntoIterator<Item = S>,
        replace: impl IntoIterator<Item = S>,
    ) -> Block {
        Block {
            search: search.into_iter().map(Into::into).collect(),
            replace: replace.into_iter().map(Into::into).collect(),
        }
    }

    /// The first non-blank SEARCH line, shortened, for error messages.
    fn quote(&self) -> String {
        let line = self
            .search
            .iter()
            .map(|l| l.trim())
            .find(|l| !l.is_empty())
            .unwrap_or("");
        let short = match line.char_indices().nth(QUOTE_CHARS) {
            Some((cut, _)) => format!("{}…", &line[..cut]),
            None => line.to_string(),
        };
        format!("\"{short}\"")
    }
}

/// Why an answer's blocks could not be read or applied. Blocks are numbered from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error(
        "the answer holds no edit block ({SEARCH_MARKER} / {DIVIDER_MARKER} / {REPLACE_MARKER})"
    )]
    NoBlocks,
    #[error("edit block {block} is malformed at line {line} of the answer: {detail}")]
    Malformed {
        block: usize,
        line: usize,
        detail: String,
    },
    #[error("edit block {block} has an empty SEARCH part (it would match anywhere)")]
    EmptySearch { block: usize },
    #[error("edit block {block} matches nowhere in the code: SEARCH starts {quote}")]
    NotFound { block: usize, quote: String },
    #[error(
        "edit block {block} matches {count} places in the code (it must match one): SEARCH starts {quote}"
    )]
    Ambiguous {
        block: usize,
        count: usize,
        quote: String,
    },
}

impl EditError {
    /// The number of the block the error is about, if it is about one.
    pub fn block(&self) -> Option<usize> {
        match self {
            EditError::NoBlocks => None,
            EditError::Malformed { block, .. }
            | EditError::EmptySearch { block }
            | EditError::NotFound { block, .. }
            | EditError::Ambiguous { block, .. } => Some(*block),
        }
    }
}

/// Instructions for the diff format, for a model's system prompt.
pub const DIFF_INSTRUCTIONS: &str = "Answer in this format:
1. One line summarising the change.
2. One or more edit blocks against the target scene's current code, each exactly:
<<<<<<< SEARCH
(lines copied exactly from the current code, enough of them to match one place only)
=======
(the lines that replace them)
>>>>>>> REPLACE
Blocks are applied in order, each to the code as the blocks before it left it. Keep SEARCH parts short: only the lines that change and what makes them unique. An empty REPLACE part deletes the lines. Do not repeat the whole file. If the scene declares its length in frames (a DURATION constant or durationInFrames), keep that declaration up to date.";
