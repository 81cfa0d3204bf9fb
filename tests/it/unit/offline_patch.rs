//! Unit tests of `editscope::llm::offline::patch`: applying span replacements, and line helpers.

use editscope::llm::offline::patch::{Patch, apply, blank_line_start, indentation_at};
use editscope::llm::offline::scene_model::Range;

fn r(start: usize, end: usize) -> Range {
    Range { start, end }
}

#[test]
fn applies_in_order_and_rejects_overlaps() {
    let code = "abcdef";
    let out = apply(
        code,
        vec![
            Patch::replace(r(4, 6), "XY"),
            Patch::insert(0, ">"),
            Patch::replace(r(1, 2), ""),
        ],
    );
    assert_eq!(out.as_deref(), Ok(">acdXY"));
    assert!(
        apply(
            code,
            vec![Patch::replace(r(0, 3), "x"), Patch::replace(r(2, 4), "y")]
        )
        .is_err()
    );
    assert!(apply(code, vec![Patch::replace(r(0, 9), "x")]).is_err());
    // The same patch twice is applied once.
    let twice = apply(
        code,
        vec![Patch::replace(r(0, 1), "z"), Patch::replace(r(0, 1), "z")],
    );
    assert_eq!(twice.as_deref(), Ok("zbcdef"));
}

#[test]
fn lines() {
    let code = "a\n    <b>\n  x </c>";
    assert_eq!(indentation_at(code, 6), "    ");
    assert_eq!(blank_line_start(code, 6), Some(2));
    assert_eq!(blank_line_start(code, code.len() - 4), None);
}
