//! Unit tests of `editscope::context::tokens`: counting by pieces gives the whole text's count.

use editscope::context::tokens::{count, count_cached, pieces};
use proptest::prelude::*;

/// The sum of the pieces' counts, after checking that the pieces are the text.
fn count_by_pieces(text: &str) -> usize {
    assert_eq!(pieces(text).collect::<String>(), text);
    pieces(text).map(count).sum()
}

/// Fragments that exercise every branch of cl100k's split pattern, line breaks and
/// whitespace of every kind among them.
const FRAGMENTS: [&str; 32] = [
    "\n", "\r\n", "\r", " ", "  ", "\t", "\u{a0}", "\u{2028}", "\u{85}", "\u{b}", "\u{3000}",
    "\n\n", "  \n", "\n  ", "a", "Word", "'s", "'LL", "'t", "12345", "7", ";", "{", "});", "=>",
    "é", "日本", "// x", "<div>", "\"", "`", "$",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]
    #[test]
    fn pieces_sum_to_the_whole_count_of_any_text(parts in proptest::collection::vec(0..FRAGMENTS.len(), 0..80)) {
        let text: String = parts.iter().map(|&i| FRAGMENTS[i]).collect();
        prop_assert_eq!(count_by_pieces(&text), count(&text), "{:?}", text);
        prop_assert_eq!(count_cached(&text), count(&text), "{:?}", text);
    }
}

#[test]
fn pieces_sum_to_the_whole_count_of_every_demo_scene() {
    let projects = editscope::fixtures::demo_projects().expect("demo projects parse");
    let mut scenes = 0;
    for project in &projects {
        // demo-large's 1,000 generated scenes share their templates: a sample covers them.
        for scene in project.scenes.iter().take(60) {
            let code = &scene.tsx_code;
            assert_eq!(count_by_pieces(code), count(code), "{}", scene.id);
            assert!(pieces(code).count() > 1, "{}: split into lines", scene.id);
            scenes += 1;
        }
    }
    assert!(scenes > 60);
}

#[test]
fn code_splits_into_its_lines_and_counts_the_same_through_the_memo() {
    let before = "export const A = () => {\n  const x = 1;\n  return <div>{x}</div>;\n};\n";
    let after = before.replace("const x = 1", "const x = 2");
    assert_eq!(count_cached(before), count(before));
    assert_eq!(count_cached(&after), count(&after));
    // Indented lines are pieces of their own: the line break is not glued to the indentation.
    let lines: Vec<&str> = pieces(&after).collect();
    assert_eq!(
        lines,
        vec![
            "export const A = () => {\n",
            "  const x = 2;\n",
            "  return <div>{x}</div>;\n",
            "};\n"
        ]
    );
}

/// A scene given in full, counted as its header and its fenced code apart, counts what its
/// whole text counts: for every demo scene, each reason, and code that starts with whitespace,
/// a line break or nothing (where the parts cannot be counted apart).
#[test]
fn a_scene_in_full_counts_the_same_as_its_whole_text() {
    use editscope::context::model::{FullReason, FullScene, full_scene_text, full_scene_tokens};
    let projects = editscope::fixtures::demo_projects().expect("demo projects parse");
    let mut codes: Vec<String> = projects
        .iter()
        .flat_map(|p| p.scenes.iter().take(20).map(|s| s.tsx_code.clone()))
        .collect();
    let first = codes[0].clone();
    for prefix in ["\n", "  ", "\n\n  ", " \u{a0}", "\r\n", ""] {
        codes.push(format!("{prefix}{first}"));
    }
    codes.push(String::new());
    codes.push(format!("{first}\n\n"));
    for (i, code) in codes.iter().enumerate() {
        for reason in [FullReason::Target, FullReason::Recent, FullReason::All] {
            let scene = FullScene {
                id: format!("scene-{i}"),
                name: "Title \"card\"".into(),
                position: i + 1,
                reason,
                code: code.clone(),
            };
            let text = full_scene_text(&scene);
            assert_eq!(full_scene_tokens(&scene), count(&text), "{text:?}");
        }
    }
}
