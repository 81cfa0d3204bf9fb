//! Unit tests of `editscope::editfmt`: reading, applying and writing search/replace blocks.

use editscope::editfmt::{self, Block, EditError, apply, diff_blocks, read, write};
use proptest::prelude::*;

const CODE: &str = concat!(
    "import { AbsoluteFill } from \"remotion\";\n",
    "\n",
    "export const Intro = () => {\n",
    "  return (\n",
    "    <AbsoluteFill style={{ backgroundColor: \"#000\" }}>\n",
    "      <h1 style={{ color: \"red\", fontSize: 80 }}>Hello</h1>\n",
    "    </AbsoluteFill>\n",
    "  );\n",
    "};\n",
);

fn block(search: &[&str], replace: &[&str]) -> Block {
    Block::new(search.iter().copied(), replace.iter().copied())
}

#[test]
fn an_exact_block_replaces_its_lines() {
    let b = block(
        &["      <h1 style={{ color: \"red\", fontSize: 80 }}>Hello</h1>"],
        &["      <h1 style={{ color: \"blue\", fontSize: 80 }}>Hello</h1>"],
    );
    let out = apply(CODE, &[b]).expect("applies");
    assert_eq!(out, CODE.replace("\"red\"", "\"blue\""));
}

#[test]
fn trailing_whitespace_and_a_uniform_indent_difference_are_tolerated() {
    // The model dropped the indentation (a uniform 4 spaces) and left trailing spaces.
    let b = block(
        &[
            "<AbsoluteFill style={{ backgroundColor: \"#000\" }}>   ",
            "  <h1 style={{ color: \"red\", fontSize: 80 }}>Hello</h1>",
        ],
        &[
            "<AbsoluteFill style={{ backgroundColor: \"#fff\" }}>",
            "  <h1 style={{ color: \"red\", fontSize: 80 }}>Hello</h1>",
        ],
    );
    let out = apply(CODE, &[b]).expect("applies whitespace-tolerantly");
    // The replacement is re-indented by the same 4 spaces.
    assert_eq!(out, CODE.replace("\"#000\"", "\"#fff\""));

    // More indentation than the code has works too.
    let b = block(&["          return ("], &["          return  ("]);
    let out = apply(CODE, &[b]).expect("applies");
    assert!(out.contains("\n  return  (\n"), "{out}");
}

#[test]
fn an_indent_difference_that_is_not_uniform_does_not_match() {
    let b = block(
        &[
            "<AbsoluteFill style={{ backgroundColor: \"#000\" }}>",
            "<h1 style={{ color: \"red\", fontSize: 80 }}>Hello</h1>",
        ],
        &["x"],
    );
    assert!(matches!(
        apply(CODE, &[b]),
        Err(EditError::NotFound { block: 1, .. })
    ));
}

#[test]
fn a_block_that_matches_nowhere_is_an_error_naming_it() {
    let good = block(&["  return ("], &["  return ( "]);
    let bad = block(&["      <h2>Missing</h2>"], &["x"]);
    let err = apply(CODE, &[good, bad]).expect_err("block 2 matches nowhere");
    assert_eq!(err.block(), Some(2));
    assert!(matches!(err, EditError::NotFound { block: 2, .. }), "{err}");
    assert!(err.to_string().contains("<h2>Missing</h2>"), "{err}");
}

#[test]
fn a_block_that_matches_more_than_once_is_an_error() {
    let code = "a\nb\na\nb\n";
    let err = apply(code, &[block(&["a"], &["c"])]).expect_err("two matches");
    assert!(
        matches!(
            err,
            EditError::Ambiguous {
                block: 1,
                count: 2,
                ..
            }
        ),
        "{err}"
    );
    // Whitespace-tolerant matches count too.
    let code = "  a\nb\n    a\n";
    let err = apply(code, &[block(&["a"], &["c"])]).expect_err("two tolerant matches");
    assert!(
        matches!(err, EditError::Ambiguous { count: 2, .. }),
        "{err}"
    );
    // An exact match wins over tolerant ones.
    assert_eq!(
        apply("a\n  a\n", &[block(&["a"], &["c"])]).expect("exact"),
        "c\n  a\n"
    );
}

#[test]
fn blocks_apply_in_order_each_to_the_code_the_last_left() {
    let code = "one\ntwo\nthree\n";
    let blocks = [
        block(&["one"], &["uno"]),
        // Only matches after the first block: it searches the text the first one wrote.
        block(&["uno", "two"], &["uno", "dos"]),
        block(&["three"], &["tres"]),
    ];
    assert_eq!(apply(code, &blocks).expect("applies"), "uno\ndos\ntres\n");
}

#[test]
fn crlf_code_keeps_its_line_breaks() {
    let code = "a\r\nb\r\nc\r\n";
    let out = apply(code, &[block(&["b"], &["b1", "b2"])]).expect("applies");
    assert_eq!(out, "a\r\nb1\r\nb2\r\nc\r\n");
    // SEARCH lines read from a CRLF answer carry no '\r' either way.
    let answer = "<<<<<<< SEARCH\r\nb\r\n=======\r\nx\r\n>>>>>>> REPLACE\r\n";
    let blocks = read(answer).expect("reads").blocks;
    assert_eq!(blocks, vec![block(&["b"], &["x"])]);
    assert_eq!(apply(code, &blocks).expect("applies"), "a\r\nx\r\nc\r\n");
}

#[test]
fn an_empty_replace_deletes_and_the_last_line_break_stays_as_it_was() {
    assert_eq!(
        apply("a\nb\nc\n", &[block(&["b"], &[])]).expect("applies"),
        "a\nc\n"
    );
    assert_eq!(
        apply("a\nb\nc", &[block(&["c"], &[])]).expect("applies"),
        "a\nb"
    );
    assert_eq!(
        apply("a\nb", &[block(&["b"], &["b", "c"])]).expect("applies"),
        "a\nb\nc"
    );
}

#[test]
fn an_empty_search_only_writes_empty_code() {
    assert_eq!(apply("", &[block(&[], &["x"])]).expect("writes"), "x");
    assert!(matches!(
        apply("a\n", &[block(&[], &["x"])]),
        Err(EditError::EmptySearch { block: 1 })
    ));
}

#[test]
fn the_reader_takes_blocks_out_of_prose_and_fences() {
    let answer = concat!(
        "Made the title blue.\n",
        "```tsx\n",
        "<<<<<<< SEARCH\n",
        "  color: \"red\",\n",
        "=======\n",
        "  color: \"blue\",\n",
        ">>>>>>> REPLACE\n",
        "```\n",
        "And the second one:\n",
        "  <<<<<<< SEARCH  \n",
        "old\n",
        "=======\n",
        ">>>>>>> REPLACE\n",
    );
    let read = read(answer).expect("reads");
    assert_eq!(
        read.blocks,
        vec![
            block(&["  color: \"red\","], &["  color: \"blue\","]),
            block(&["old"], &[]),
        ]
    );
    assert_eq!(read.prose[0], "Made the title blue.");
    assert!(read.prose.iter().all(|l| !l.contains("```")));
}

#[test]
fn the_reader_is_strict_on_the_markers() {
    assert_eq!(read("just prose\n```tsx\nx\n```"), Err(EditError::NoBlocks));
    // Near-miss markers are not markers: no block at all.
    assert_eq!(
        read("<<<<<<<< SEARCH\na\n=======\nb\n>>>>>>>> REPLACE\n"),
        Err(EditError::NoBlocks)
    );
    let unclosed = read("<<<<<<< SEARCH\na\n=======\nb\n").expect_err("not closed");
    assert!(
        matches!(unclosed, EditError::Malformed { block: 1, .. }),
        "{unclosed}"
    );
    let no_divider = read("<<<<<<< SEARCH\na\n>>>>>>> REPLACE\n").expect_err("no =======");
    assert!(matches!(
        no_divider,
        EditError::Malformed {
            block: 1,
            line: 3,
            ..
        }
    ));
    let second = read(
        "<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n<<<<<<< SEARCH\na\n=======\n=======\n",
    )
    .expect_err("two dividers");
    assert!(
        matches!(second, EditError::Malformed { block: 2, .. }),
        "{second}"
    );
    assert!(matches!(
        read(">>>>>>> REPLACE\n"),
        Err(EditError::Malformed {
            block: 1,
            line: 1,
            ..
        })
    ));
}

#[test]
fn the_writer_gives_small_unique_blocks_that_read_back() {
    let new = CODE.replace("\"red\"", "\"blue\"");
    let blocks = diff_blocks(CODE, &new);
    assert_eq!(blocks.len(), 1);
    // The changed line is unique on its own: no context needed.
    assert_eq!(blocks[0].search.len(), 1, "{blocks:?}");
    let text = write(&blocks);
    assert_eq!(read(&text).expect("reads back").blocks, blocks);
    assert_eq!(apply(CODE, &blocks).expect("applies"), new);
    assert!(diff_blocks(CODE, CODE).is_empty());
}

#[test]
fn the_writer_adds_context_until_the_search_is_unique() {
    let old = "a\nx\nb\nx\nc\n";
    let new = "a\nx\nb\ny\nc\n";
    let blocks = diff_blocks(old, new);
    assert_eq!(blocks.len(), 1);
    assert!(blocks[0].search.len() >= 2, "{blocks:?}");
    assert_eq!(occurrences(old, &blocks[0].search), 1);
    assert_eq!(apply(old, &blocks).expect("applies"), new);
    // A pure insertion gets a context line (an empty SEARCH would match anywhere).
    let blocks = diff_blocks("a\nb\n", "a\nnew\nb\n");
    assert!(!blocks[0].search.is_empty());
    assert_eq!(apply("a\nb\n", &blocks).expect("applies"), "a\nnew\nb\n");
}

fn occurrences(code: &str, search: &[String]) -> usize {
    let lines: Vec<&str> = code.lines().collect();
    lines
        .windows(search.len())
        .filter(|w| w.iter().zip(search).all(|(a, b)| a == b))
        .count()
}

#[test]
fn the_diff_instructions_name_the_markers() {
    for marker in [
        editfmt::SEARCH_MARKER,
        editfmt::DIVIDER_MARKER,
        editfmt::REPLACE_MARKER,
    ] {
        assert!(editfmt::DIFF_INSTRUCTIONS.contains(marker));
    }
}

/// Real scene code to edit: every demo-small and demo-medium scene and a sample of demo-large.
fn demo_scenes() -> &'static [String] {
    static SCENES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    SCENES.get_or_init(|| {
        let mut out = Vec::new();
        for project in editscope::fixtures::demo_projects().expect("demo projects parse") {
            out.extend(project.scenes.iter().take(40).map(|s| s.tsx_code.clone()));
        }
        out
    })
}

/// Text by lines, trailing whitespace and trailing blank lines left out.
fn normalized(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    lines.join("\n").trim_end().to_string()
}

/// A random line edit of `code`: at each of `edits` positions, delete, replace or insert lines
/// (inserting copies of existing lines too, which makes SEARCH parts ambiguous unless the
/// writer adds context).
fn edit_lines(code: &str, edits: &[(usize, u8, usize)]) -> String {
    let mut lines: Vec<String> = code.lines().map(str::to_string).collect();
    for &(at, kind, n) in edits {
        if lines.is_empty() {
            lines.push("x".into());
        }
        let at = at % lines.len();
        match kind % 4 {
            0 => {
                let end = (at + n % 3 + 1).min(lines.len());
                lines.drain(at..end);
            }
            1 => lines[at] = format!("{} // changed {n}", lines[at]),
            2 => {
                let copy = lines[n % lines.len()].clone();
                lines.insert(at, copy);
            }
            _ => lines.insert(at, format!("const inserted{n} = {n};")),
        }
    }
    let mut out = lines.join("\n");
    if code.ends_with('\n') {
        out.push('\n');
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn rendering_old_to_new_then_applying_gives_new(
        scene in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((0usize..400, 0u8..4, 0usize..400), 1..6),
    ) {
        let scenes = demo_scenes();
        let old = &scenes[scene.index(scenes.len())];
        let new = edit_lines(old, &edits);
        let blocks = diff_blocks(old, &new);
        let text = write(&blocks);
        if old == &new {
            prop_assert!(blocks.is_empty());
        } else {
            let read_back = read(&text).expect("the writer's text reads back");
            prop_assert_eq!(&read_back.blocks, &blocks);
            prop_assert_eq!(apply(old, &read_back.blocks).expect("applies"), new.clone());
            // Minimal: never the whole file for one small edit of a real scene.
            let searched: usize = blocks.iter().map(|b| b.search.len()).sum();
            if edits.len() == 1 {
                prop_assert!(searched * 2 < old.lines().count(), "{}", text);
            }
        }
    }

    #[test]
    fn random_text_never_panics(
        answer in "(<<<<<<< SEARCH|=======|>>>>>>> REPLACE|```|\\r|\\n| |\\t|a|b|é|\\{)*",
        code in "(\\r\\n|\\n| |\\t|a|b|é|\\{)*",
        other in "(\\r\\n|\\n| |\\t|a|b|é)*",
    ) {
        if let Ok(read) = read(&answer) {
            let _ = apply(&code, &read.blocks);
        }
        let blocks = diff_blocks(&code, &other);
        if let Ok(applied) = apply(&code, &blocks) {
            // Line content always comes out right; only line breaks may not be sayable.
            prop_assert_eq!(normalized(&applied), normalized(&other));
        }
    }

    #[test]
    fn arbitrary_unicode_never_panics(answer in "\\PC*", code in "\\PC*") {
        if let Ok(read) = read(&answer) {
            let _ = apply(&code, &read.blocks);
        }
        let _ = diff_blocks(&code, &answer);
    }
}
