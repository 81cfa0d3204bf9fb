//! Validating TSX: does a piece of code parse? Used on every model answer before it is stored.

use oxc_allocator::Allocator;
use oxc_parser::Parser;
use oxc_span::SourceType;

/// The first syntax error of code that does not parse as TSX.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct TsxError {
    /// The parser's message, e.g. "Expected `}` but found `EOF`".
    pub message: String,
    /// 1-based line of the error's first label (1 when the parser gave no position).
    pub line: usize,
    /// 1-based column in characters.
    pub column: usize,
    /// How many errors the parser reported in total.
    pub error_count: usize,
}

/// Parses `code` in TSX mode. `Err` carries the first error with its line and column.
///
/// Only syntax is checked (what the parser reports), not types or imports.
pub fn check_tsx(code: &str) -> Result<(), TsxError> {
    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, code, SourceType::tsx()).parse();
    let mut errors = parsed.diagnostics.errors();
    let Some(first) = errors.next() else {
        if parsed.panicked {
            return Err(TsxError {
                message: "the parser stopped without a message".to_string(),
                line: 1,
                column: 1,
                error_count: 1,
            });
        }
        return Ok(());
    };
    let offset = first
        .labels
        .iter()
        .find(|label| label.primary())
        .or_else(|| first.labels.first())
        .map(|label| label.offset() as usize)
        .unwrap_or(0);
    let (line, column) = line_column(code, offset);
    Err(TsxError {
        message: first.message.to_string(),
        line,
        column,
        error_count: 1 + errors.count(),
    })
}

/// 1-based line and character column of byte `offset` in `text` (clamped to the text).
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}
