//! Applying blocks to code.

use super::{Block, EditError};

/// One line of code and the line break that ends it (`""` for a last line without one).
#[derive(Debug, Clone)]
pub(super) struct Line {
    pub text: String,
    pub eol: &'static str,
}

/// The lines of `code`, each with its own line break.
pub(super) fn split_lines(code: &str) -> Vec<Line> {
    code.split_inclusive('\n')
        .map(|piece| {
            if let Some(text) = piece.strip_suffix("\r\n") {
                Line {
                    text: text.to_string(),
                    eol: "\r\n",
                }
            } else if let Some(text) = piece.strip_suffix('\n') {
                Line {
                    text: text.to_string(),
                    eol: "\n",
                }
            } else {
                Line {
                    text: piece.to_string(),
                    eol: "",
                }
            }
        })
        .collect()
}

/// The line break most of the code's lines end with (`\n` when there is none).
fn dominant_eol(lines: &[Line]) -> &'static str {
    let crlf = lines.iter().filter(|l| l.eol == "\r\n").count();
    let lf = lines.iter().filter(|l| l.eol == "\n").count();
    if crlf > lf { "\r\n" } else { "\n" }
}

/// The spaces and tabs that start `line` (ASCII only, so slicing by its length is safe).
fn indent(line: &str) -> &str {
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// How a whitespace-tolerant match's code is indented relative to its SEARCH lines.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Shift {
    Same,
    /// The code has this much more indentation than the SEARCH lines.
    Deeper(String),
    /// The code has this much less.
    Shallower(String),
}

/// Whether `window` matches `search` ignoring trailing whitespace, blank lines' content and one
/// leading-indentation difference common to every non-blank line; the difference if so.
fn tolerant_match(window: &[Line], search: &[&str]) -> Option<Shift> {
    let mut shift: Option<Shift> = None;
    for (line, wanted) in window.iter().zip(search) {
        let (code, wanted) = (line.text.trim_end(), wanted.trim_end());
        if is_blank(code) && is_blank(wanted) {
            continue;
        }
        let (ci, wi) = (indent(code), indent(wanted));
        if code[ci.len()..] != wanted[wi.len()..] {
            return None;
        }
        let this = if ci == wi {
            Shift::Same
        } else if let Some(extra) = ci.strip_prefix(wi) {
            Shift::Deeper(extra.to_string())
        } else if let Some(missing) = wi.strip_prefix(ci) {
            Shift::Shallower(missing.to_string())
        } else {
            return None;
        };
        match &shift {
            None => shift = Some(this),
            Some(previous) if *previous == this => {}
            Some(_) => return None,
        }
    }
    Some(shift.unwrap_or(Shift::Same))
}

/// The replacement lines re-indented by the shift the SEARCH part matched with.
fn reindent(lines: &[String], shift: &Shift) -> Vec<String> {
    lines
        .iter()
        .map(|line| match shift {
            Shift::Same => line.clone(),
            Shift::Deeper(_) if is_blank(line) => line.clone(),
            Shift::Deeper(extra) => format!("{extra}{line}"),
            Shift::Shallower(missing) => match line.strip_prefix(missing.as_str()) {
                Some(rest) => rest.to_string(),
                // Less indented than the difference: lose what indentation it has.
                None if missing.starts_with(indent(line)) => line[indent(line).len()..].to_string(),
                None => line.clone(),
            },
        })
        .collect()
}

fn strip_cr(line: &str) -> &str {
    line.strip_suffix('\r').unwrap_or(line)
}

/// Applies `blocks` to `code` in order, each to the code the blocks before it left. Each SEARCH
/// part must match exactly one place: exactly first; when it matches nowhere exactly, ignoring
/// trailing whitespace and a uniform leading-indentation difference (the replacement is then
/// re-indented alike). The first block that matches nowhere or more than once is the error.
pub fn apply(code: &str, blocks: &[Block]) -> Result<String, EditError> {
    let mut lines = split_lines(code);
    let eol = dominant_eol(&lines);
    let ends_with_break = code.ends_with('\n');
    for (index, block) in blocks.iter().enumerate() {
        let number = index + 1;
        let new_lines = |texts: Vec<String>| -> Vec<Line> {
            texts
                .into_iter()
                .map(|text| Line {
                    text: strip_cr(&text).to_string(),
                    eol,
                })
                .collect()
        };
        if block.search.is_empty() {
            // An empty SEARCH is only meaningful for empty code: it writes the file.
            if lines.iter().all(|l| is_blank(&l.text)) {
                lines = new_lines(block.replace.clone());
                continue;
            }
            return Err(EditError::EmptySearch { block: number });
        }
        let search: Vec<&str> = block.search.iter().map(|s| strip_cr(s)).collect();
        let m = search.len();
        let starts = || 0..(lines.len() + 1).saturating_sub(m);
        let exact: Vec<usize> = starts()
            .filter(|&p| {
                lines[p..p + m]
                    .iter()
                    .zip(&search)
                    .all(|(l, s)| l.text == *s)
            })
            .collect();
        let (at, replacement) = match exact.len() {
            1 => (exact[0], block.replace.clone()),
            0 => {
                let tolerant: Vec<(usize, Shift)> = starts()
                    .filter_map(|p| tolerant_match(&lines[p..p + m], &search).map(|s| (p, s)))
                    .collect();
                match tolerant.as_slice() {
                    [(at, shift)] => (*at, reindent(&block.replace, shift)),
                    [] => {
                        return Err(EditError::NotFound {
                            block: number,
                            quote: block.quote(),
                        });
                    }
                    many => {
                        return Err(EditError::Ambiguous {
                            block: number,
                            count: many.len(),
                            quote: block.quote(),
                        });
                    }
                }
            }
            count => {
                return Err(EditError::Ambiguous {
                    block: number,
                    count,
                    quote: block.quote(),
                });
            }
        };
        lines.splice(at..at + m, new_lines(replacement));
    }
    // The code's own last line break (or its absence) stays as it was.
    if let Some(last) = lines.last_mut() {
        if !ends_with_break {
            last.eol = "";
        } else if last.eol.is_empty() {
            last.eol = eol;
        }
    }
    let mut out = String::with_capacity(code.len() + 64);
    for line in &lines {
        out.push_str(&line.text);
        out.push_str(line.eol);
    }
    Ok(out)
}
