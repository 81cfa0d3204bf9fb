//! Unit tests of `editscope::resolve`: which scene a request or a model's target names.

use std::cell::Cell;

use editscope::context::model::SceneListEntry;
use editscope::context::target::{self, TargetMatch};
use editscope::resolve::{
    self, Clarification, Found, How, Resolution, SceneIndex, Scenes, is_scene_noun,
};

/// Scenes by name, with ids `s1`, `s2`, ...
struct Named {
    ids: Vec<String>,
    names: Vec<String>,
}

impl Named {
    fn new(names: &[&str]) -> Self {
        Named::from(names.iter().map(|n| n.to_string()).collect())
    }

    fn from(names: Vec<String>) -> Self {
        Named {
            ids: (1..=names.len()).map(|i| format!("s{i}")).collect(),
            names,
        }
    }

    fn index(&self) -> SceneIndex {
        SceneIndex::new(self.names.iter().map(String::as_str))
    }
}

impl Scenes for Named {
    fn count(&self) -> usize {
        self.names.len()
    }

    fn id(&self, index: usize) -> &str {
        &self.ids[index]
    }

    fn name(&self, index: usize) -> &str {
        &self.names[index]
    }
}

fn five() -> Named {
    Named::new(&[
        "Intro",
        "Pricing Plans",
        "Feature: Realtime sync",
        "Title",
        "Outro",
    ])
}

/// What `prompt` resolves to among the five scenes: the 1-based position and how, or the
/// question.
fn resolved(prompt: &str, last_edited: Option<&str>) -> Result<(usize, String), String> {
    let scenes = five();
    match resolve::resolve(prompt, &scenes, &scenes.index(), last_edited) {
        Resolution::Found(found) => Ok((found.index + 1, found.describe(&scenes))),
        Resolution::Clarify(c) => Err(c.question(&scenes)),
        Resolution::Nothing => Err("nothing".into()),
    }
}

#[test]
fn phrasings_resolve_to_positions_names_and_the_scene_edited_last() {
    let table: &[(&str, usize, &str)] = &[
        ("make scene 2 blue", 2, "\"scene 2\""),
        ("make scene 2's title blue", 2, "\"scene 2\""),
        ("make scene two blue", 2, "\"scene two\""),
        ("the second scene is slow", 2, "\"second scene\""),
        ("the 2nd slide is slow", 2, "\"2nd slide\""),
        ("make slide 3 blue", 3, "\"slide 3\""),
        ("make #3 blue", 3, "\"#3\""),
        ("make scene #3 blue", 3, "\"scene #3\""),
        ("make scene number 3 blue", 3, "\"scene number 3\""),
        ("shorten the last scene", 5, "\"last scene\""),
        ("shorten the final one", 5, "\"final one\""),
        ("shorten the penultimate scene", 4, "\"penultimate scene\""),
        (
            "shorten the second to last scene",
            4,
            "\"second to last scene\"",
        ),
        ("shorten the second last scene", 4, "\"second last scene\""),
        (
            "shorten the next to last scene",
            4,
            "\"next to last scene\"",
        ),
        (
            "shorten the third from last scene",
            3,
            "\"third from last scene\"",
        ),
        ("shorten the opening scene", 1, "\"opening scene\""),
        ("shorten the closing scene", 5, "\"closing scene\""),
        ("fix the intro", 1, "name \"Intro\" (the intro)"),
        ("fix the outro", 5, "name \"Outro\" (the outro)"),
        (
            "the pricing scene needs a logo",
            2,
            "name word \"pricing\" of \"Pricing Plans\"",
        ),
        (
            "make the title in Pricing Plans red",
            2,
            "name \"Pricing Plans\"",
        ),
        (
            "the realtime scene is slow",
            3,
            "name word \"realtime\" of \"Feature: Realtime sync\"",
        ),
        ("make the title scene red", 4, "name \"Title\""),
        // A quantity, not a position: the name decides.
        (
            "make the pricing scene 6 seconds long",
            2,
            "name word \"pricing\" of \"Pricing Plans\"",
        ),
        ("make scene 2 3 seconds long", 2, "\"scene 2\""),
        // A hex color is no position; "it" is the scene edited last.
        ("make the background #111111", 3, "the scene edited last"),
        ("make the background #fff", 3, "the scene edited last"),
        ("make it bigger", 3, "the scene edited last"),
        (
            "change the text to 'Scene 2 rocks'",
            3,
            "the scene edited last",
        ),
        ("make the scene 5 seconds long", 3, "the scene edited last"),
    ];
    for (prompt, position, how) in table {
        assert_eq!(
            resolved(prompt, Some("s3")),
            Ok((*position, how.to_string())),
            "{prompt}"
        );
    }
}

#[test]
fn a_word_of_a_part_names_no_scene() {
    // "Title" is also a part of every scene: only "the title scene" means the scene.
    assert_eq!(resolved("make the title blue", None), Err("nothing".into()));
    assert_eq!(resolved("make it pop", None), Err("nothing".into()));
}

#[test]
fn positions_that_do_not_exist_and_names_of_several_scenes_ask() {
    let question = resolved("make scene 42 blue", Some("s3")).expect_err("asks");
    assert!(
        question.starts_with("There is no scene 42: the project has 5 scenes (1 \"Intro\", 2"),
        "{question}"
    );
    let question = resolved("make the tenth scene blue", None).expect_err("asks");
    assert!(question.starts_with("There is no scene 10"), "{question}");
    let scenes = Named::new(&["Intro"]);
    let question = match resolve::resolve("the penultimate scene", &scenes, &scenes.index(), None) {
        Resolution::Clarify(c) => c.question(&scenes),
        other => panic!("{other:?}"),
    };
    assert!(
        question.starts_with("There is no penultimate scene: the project has 1 scene ("),
        "{question}"
    );

    let scenes = Named::new(&["Product Demo", "Product Tour", "Outro"]);
    let index = scenes.index();
    assert_eq!(
        resolve::resolve("make the product scene blue", &scenes, &index, Some("s3")),
        Resolution::Clarify(Clarification::Ambiguous(vec![0, 1]))
    );
    // The whole name beats a word of it.
    assert_eq!(
        resolve::resolve("make Product Tour blue", &scenes, &index, None),
        Resolution::Found(Found {
            index: 1,
            how: How::Name
        })
    );
}

#[test]
fn a_question_lists_at_most_twelve_scenes() {
    let names: Vec<String> = (1..=40).map(|i| format!("Part {i}")).collect();
    let scenes = Named::from(names);
    let question = match resolve::resolve("scene 41", &scenes, &scenes.index(), None) {
        Resolution::Clarify(c) => c.question(&scenes),
        other => panic!("{other:?}"),
    };
    assert!(
        question.contains("12 \"Part 12\" and 28 more"),
        "{question}"
    );
    assert!(!question.contains("Part 13"), "{question}");
}

#[test]
fn a_hash_number_is_a_position_unless_it_can_be_a_color() {
    let scenes = Named::new(&["A", "B", "C", "D", "E", "F"]);
    let index = scenes.index();
    let position = |prompt: &str| {
        resolve::explicit(prompt, &scenes, &index)
            .found()
            .map(|f| f.index + 1)
    };
    assert_eq!(position("make #5 red"), Some(5));
    // 3, 4, 6 and 8 digits are hex colors: #123 is a color, not scene 123.
    assert_eq!(position("make it #123"), None);
    assert_eq!(position("make it #1234"), None);
    assert_eq!(position("make it #111111"), None);
    // Two digits cannot be a color: a position (that does not exist).
    assert!(matches!(
        resolve::explicit("make #12 red", &scenes, &index),
        Resolution::Clarify(Clarification::NoSuchPosition { asked: 12, .. })
    ));
}

#[test]
fn a_models_target_is_an_id_a_position_a_name_or_a_phrase() {
    let scenes = Named::new(&["Intro", "Logo reveal", "Outro"]);
    let index = scenes.index();
    let target = |text: &str| {
        resolve::reference(text, &scenes, &index)
            .found()
            .map(|f| (f.index + 1, f.how.clone()))
    };
    assert_eq!(target(" s2 "), Some((2, How::Id)));
    assert_eq!(target("2").map(|t| t.0), Some(2));
    assert_eq!(target("#2").map(|t| t.0), Some(2));
    assert_eq!(target("scene 2").map(|t| t.0), Some(2));
    assert_eq!(target("Scene2").map(|t| t.0), Some(2));
    assert_eq!(target("slide #3").map(|t| t.0), Some(3));
    assert_eq!(target("logo reveal"), Some((2, How::Name)));
    assert_eq!(target("Logo-Reveal"), Some((2, How::Name)));
    assert_eq!(target("the penultimate scene").map(|t| t.0), Some(2));
    assert_eq!(target("the intro").map(|t| t.0), Some(1));
    // Never "it": a model's answer must name its target.
    assert_eq!(target("it"), None);
    assert_eq!(target("s-missing"), None);
    assert!(matches!(
        resolve::reference("scene 9", &scenes, &index),
        Resolution::Clarify(Clarification::NoSuchPosition { asked: 9, .. })
    ));
}

#[test]
fn scene_nouns_are_singular_or_plural() {
    for word in [
        "scene", "scenes", "slide", "slides", "shot", "clip", "section",
    ] {
        assert!(is_scene_noun(word), "{word}");
    }
    for word in ["scenery", "shotgun", "sceness", "title"] {
        assert!(!is_scene_noun(word), "{word}");
    }
}

/// Scenes that count how often the resolver looks at one.
struct Counted {
    names: Vec<String>,
    looked_at: Cell<usize>,
}

impl Scenes for Counted {
    fn count(&self) -> usize {
        self.names.len()
    }

    fn id(&self, _index: usize) -> &str {
        self.looked_at.set(self.looked_at.get() + 1);
        "id"
    }

    fn name(&self, index: usize) -> &str {
        self.looked_at.set(self.looked_at.get() + 1);
        &self.names[index]
    }

    fn index_of(&self, _id: &str) -> Option<usize> {
        self.looked_at.set(self.looked_at.get() + 1);
        Some(9_999)
    }
}

#[test]
fn resolving_among_ten_thousand_scenes_looks_at_none_of_them() {
    // The index is built once (a cached context keeps it); a request then finds its scene by
    // its words, never by a pass over the scenes.
    let names: Vec<String> = (0..10_000)
        .map(|i| match i {
            4_321 => "Pricing Plans".to_string(),
            _ => format!("Chapter {i}"),
        })
        .collect();
    let index = SceneIndex::new(names.iter().map(String::as_str));
    let scenes = Counted {
        names,
        looked_at: Cell::new(0),
    };
    for (prompt, position) in [
        ("make the pricing scene blue", 4_322),
        ("make the title in Pricing Plans red", 4_322),
        ("make scene 7 red", 7),
        ("make the penultimate scene red", 9_999),
        ("make it bigger", 10_000),
        ("fix the intro", 1),
    ] {
        let found = resolve::resolve(prompt, &scenes, &index, Some("last"));
        assert_eq!(
            found.found().map(|f| f.index + 1),
            Some(position),
            "{prompt}"
        );
    }
    // Only "it" asked for one scene, through the id index.
    assert_eq!(scenes.looked_at.get(), 1);
}

#[test]
fn the_context_target_carries_ids() {
    let entries: Vec<SceneListEntry> = ["Product Demo", "Product Tour", "Outro"]
        .iter()
        .enumerate()
        .map(|(i, n)| SceneListEntry {
            id: format!("p{}", i + 1),
            name: n.to_string(),
            position: i + 1,
            duration_frames: 90,
            updated_at: 0,
            ord: i as i64 * 10,
        })
        .collect();
    assert_eq!(
        target::resolve("make the product scene blue", &entries, Some("p3")),
        TargetMatch::Ambiguous(vec!["p1".into(), "p2".into()])
    );
    assert_eq!(
        target::resolve("make slide 2 blue", &entries, Some("p3")),
        TargetMatch::Found {
            id: "p2".into(),
            how: How::Position("slide 2".into())
        }
    );
    // A one-scene project: nothing named and nothing edited still means that scene, as the
    // offline model reads it.
    assert_eq!(
        target::resolve("make it pop", &entries[..1], None).scene_id(),
        Some("p1")
    );
}
