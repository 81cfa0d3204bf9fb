//! Unit tests of `editscope::context::diff`: the diff renders only what changed, and says the
//! same as a diff of the whole rendered contexts.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, OnceLock};

use editscope::context::diff::{changed_sections, diff, unified_of_whole_sections};
use editscope::context::*;
use editscope::fixtures::generate::{GenerateSpec, generate_project};
use editscope::store::Store;
use proptest::prelude::*;

/// A context of a generated 40-scene project with every scene in full (`relevant` off), so that
/// both large sections have many items; built once.
fn base() -> &'static Context {
    static BASE: OnceLock<Context> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("d.db")).unwrap();
        let spec = GenerateSpec {
            project_id: "diff".into(),
            title: "Diff".into(),
            user_id: "u".into(),
            scenes: 40,
            seed: 3,
        };
        editscope::fixtures::import(&mut store, "diff", &generate_project(&spec)).unwrap();
        let flags = Flags {
            relevant: false,
            ..Flags::OPTIMIZED
        };
        let request = BuildRequest {
            project_id: "diff",
            user_id: None,
            prompt: "scene 3",
        };
        ContextEngine::fresh(&store, &request, flags)
            .unwrap()
            .context
    })
}

/// One change to a context, by kind and an index into the section it changes.
fn mutate(c: &mut Context, kind: usize, at: usize, n: usize) {
    let list_at = at % c.scene_list.len().max(1);
    let full_at = at % c.scenes_in_full.len().max(1);
    match kind {
        0 => {
            c.scene_list.remove(list_at);
        }
        1 => {
            let mut s = c.scene_list[list_at].clone();
            s.id = format!("new-{n}");
            s.name = format!("New scene {n}");
            c.scene_list.insert(list_at, s);
            for (i, s) in c.scene_list.iter_mut().enumerate() {
                s.position = i + 1;
            }
        }
        // Every other rename types a line break (the list shows it as a space).
        2 if n % 2 == 1 => c.scene_list[list_at].name = format!("Renamed\n{n}"),
        2 => c.scene_list[list_at].name = format!("Renamed {n}"),
        // Data that is not rendered: the section differs, its text does not.
        3 => c.scene_list[list_at].updated_at += 1,
        4 => c.scenes_in_full[full_at]
            .code
            .push_str(&format!("\n// v{n}\n")),
        5 => {
            let code = &mut c.scenes_in_full[full_at].code;
            *code = code.replacen("const", "let", 1);
        }
        6 => {
            c.scenes_in_full.remove(full_at);
        }
        7 => {
            let mut s = c.scenes_in_full[full_at].clone();
            s.id = format!("full-{n}");
            s.reason = FullReason::Target;
            c.scenes_in_full.push_front(s);
        }
        8 => {
            Arc::make_mut(&mut c.preferences).insert(
                format!("pref_{}", at % 4),
                PreferenceItem {
                    value: format!("value {n}"),
                    confidence: 0.9,
                },
            );
        }
        9 => {
            let prefs = Arc::make_mut(&mut c.preferences);
            let key = prefs.keys().nth(at % prefs.len().max(1)).cloned();
            if let Some(key) = key {
                prefs.remove(&key);
            }
        }
        // A confidence change past the two decimals shown: data differs, text does not.
        10 => {
            for p in Arc::make_mut(&mut c.preferences).values_mut() {
                p.confidence += 0.0001;
            }
        }
        11 => {
            Arc::make_mut(&mut c.relationships)
                .insert(format!("rel-{}", at % 5), format!("relation {n}"));
        }
        12 => {
            let rels = Arc::make_mut(&mut c.relationships);
            let key = rels.keys().nth(at % rels.len().max(1)).cloned();
            if let Some(key) = key {
                rels.remove(&key);
            }
        }
        13 => Arc::make_mut(&mut c.images).push(ImageItem {
            position: n + 1,
            id: format!("img-{n}"),
            urls: vec![format!("https://example.com/{n}.png")],
            palette: serde_json::json!(["#000000"]),
            typography: "Inter".into(),
            mood: "calm".into(),
        }),
        14 => Arc::make_mut(&mut c.history).push(HistoryItem {
            scene_id: format!("s{n}"),
            operation: "editScene".into(),
            prompt: format!("change {n}\nover two lines"),
        }),
        15 => Arc::make_mut(&mut c.conversation).push(ConversationItem {
            role: "user".into(),
            content: format!("message {n}"),
        }),
        16 => c.project.title = format!("Title {n}"),
        // The style's list of analysed scenes is not rendered either.
        17 => Arc::make_mut(&mut c.style)
            .analysed_scenes
            .push(format!("s{n}")),
        _ => Arc::make_mut(&mut c.style)
            .colors
            .insert(0, (format!("#{n:06x}"), 1)),
    }
}

const KINDS: usize = 19;

fn rendered_changes(a: &Context, b: &Context) -> Vec<String> {
    SECTION_NAMES
        .iter()
        .filter(|n| a.render_section(n) != b.render_section(n))
        .map(|n| n.to_string())
        .collect()
}

/// Lines added and removed in a unified diff, read from its hunks (each header gives how
/// many old and new lines its body holds, so a body line that looks like a header is not one).
fn counted_in_unified(unified: &str) -> (usize, usize) {
    let (mut added, mut removed) = (0, 0);
    let mut lines = unified.lines();
    let len = |range: &str| range.split_once(',').map_or(1, |(_, n)| n.parse().unwrap());
    while let Some(line) = lines.next() {
        let Some(ranges) = line
            .strip_prefix("@@ -")
            .and_then(|r| r.strip_suffix(" @@"))
        else {
            continue;
        };
        let (old, new) = ranges.split_once(" +").unwrap();
        let (mut old_left, mut new_left) = (len(old), len(new));
        while old_left + new_left > 0 {
            let body = lines.next().unwrap();
            match body.chars().next() {
                Some('-') => {
                    removed += 1;
                    old_left -= 1;
                }
                Some('+') => {
                    added += 1;
                    new_left -= 1;
                }
                Some(' ') => {
                    old_left -= 1;
                    new_left -= 1;
                }
                _ => {}
            }
        }
    }
    (added, removed)
}

fn line_counts(a: &Context, b: &Context) -> (usize, usize) {
    let (mut added, mut removed) = (0, 0);
    for name in SECTION_NAMES {
        if name == "scenes_in_full" {
            // Diffed scene by scene: counted from the hunks of the whole section's diff (the
            // last section, so the rest of the reference after its header).
            let reference = unified_of_whole_sections(a, b);
            if let Some(at) = reference.find("--- scenes_in_full (before)\n") {
                let (plus, minus) = counted_in_unified(&reference[at..]);
                added += plus;
                removed += minus;
            }
            continue;
        }
        let (old, new) = (a.render_section(name), b.render_section(name));
        for change in similar::TextDiff::from_lines(&old, &new).iter_all_changes() {
            match change.tag() {
                similar::ChangeTag::Insert => added += 1,
                similar::ChangeTag::Delete => removed += 1,
                similar::ChangeTag::Equal => {}
            }
        }
    }
    (added, removed)
}

fn naive_minus(a: &[String], b: &[String]) -> Vec<String> {
    a.iter().filter(|x| !b.contains(x)).cloned().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
    #[test]
    fn the_diff_is_the_diff_of_the_whole_rendered_contexts(
        before_ops in proptest::collection::vec((0..KINDS, 0usize..60), 0..4),
        ops in proptest::collection::vec((0..KINDS, 0usize..60), 0..6),
    ) {
        let mut before = base().clone();
        for (i, &(kind, at)) in before_ops.iter().enumerate() {
            mutate(&mut before, kind, at, 1_000 + i);
        }
        let mut after = before.clone();
        for (i, &(kind, at)) in ops.iter().enumerate() {
            mutate(&mut after, kind, at, i);
        }
        let d = diff(&before, &after);
        prop_assert_eq!(&d.unified, &unified_of_whole_sections(&before, &after));
        prop_assert_eq!(&d.changed_sections, &rendered_changes(&before, &after));
        prop_assert_eq!((d.lines_added, d.lines_removed), line_counts(&before, &after));
        // The sections whose data differs include those whose text does.
        let data: HashSet<String> = changed_sections(&before, &after).into_iter().collect();
        prop_assert!(d.changed_sections.iter().all(|s| data.contains(s)));
        let ids = |c: &Context| c.scene_list.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
        let full = |c: &Context| c.scenes_in_full.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
        prop_assert_eq!(&d.scenes_added, &naive_minus(&ids(&after), &ids(&before)));
        prop_assert_eq!(&d.scenes_removed, &naive_minus(&ids(&before), &ids(&after)));
        prop_assert_eq!(&d.full_entered, &naive_minus(&full(&after), &full(&before)));
        prop_assert_eq!(&d.full_left, &naive_minus(&full(&before), &full(&after)));
        let mut prefs = BTreeMap::new();
        for (k, p) in before.preferences.iter() {
            prefs.insert(k.clone(), (Some(p.value.clone()), None));
        }
        for (k, p) in after.preferences.iter() {
            prefs.entry(k.clone()).or_insert((None, None)).1 = Some(p.value.clone());
        }
        let changed: BTreeMap<String, (Option<String>, Option<String>)> = prefs
            .into_iter()
            .filter(|(_, (b, a))| b != a)
            .collect();
        let reported: BTreeMap<String, (Option<String>, Option<String>)> = d
            .preferences
            .iter()
            .map(|p| (p.key.clone(), (p.before.clone(), p.after.clone())))
            .collect();
        prop_assert_eq!(reported, changed);
    }
}

#[test]
fn a_section_whose_data_differs_but_renders_alike_is_changed_for_shadow_checks_only() {
    let before = base().clone();
    let mut after = before.clone();
    mutate(&mut after, 3, 7, 0); // a scene's updated_at
    mutate(&mut after, 17, 0, 0); // the style's analysed scenes
    assert_eq!(
        changed_sections(&before, &after),
        vec!["style".to_string(), "scene_list".to_string()]
    );
    let d = diff(&before, &after);
    assert!(d.is_empty(), "{:?}", d.changed_sections);
    assert_eq!(d.unified, "");
}

#[test]
fn one_changed_line_in_a_long_list_gives_one_hunk_with_its_real_line_numbers() {
    let before = base().clone();
    let mut after = before.clone();
    mutate(&mut after, 2, 30, 0); // renames the 31st scene
    let d = diff(&before, &after);
    assert_eq!(d.changed_sections, vec!["scene_list".to_string()]);
    assert_eq!((d.lines_added, d.lines_removed), (1, 1));
    assert!(d.unified.contains("@@ -29,5 +29,5 @@"), "{}", d.unified);
    assert_eq!(d.unified, unified_of_whole_sections(&before, &after));
    assert!(changed_sections(&before, &before.clone()).is_empty());
}

/// A scene name typed with line breaks is one line of the scene list, so the list keeps one
/// line per scene and the hunks below it keep their line numbers.
#[test]
fn a_name_with_line_breaks_is_one_line_of_the_scene_list() {
    let before = base().clone();
    let mut after = before.clone();
    after.scene_list[4].name = "Intro\r\nPart 2\n".into();
    let mid = diff(&before, &after);
    assert_eq!(
        (mid.lines_added, mid.lines_removed),
        (1, 1),
        "{}",
        mid.unified
    );
    assert!(
        mid.unified.contains("+5. Intro  Part 2  ["),
        "{}",
        mid.unified
    );
    let mut later = after.clone();
    mutate(&mut later, 2, 30, 0); // renames the 31st scene: its line number is unchanged
    let d = diff(&after, &later);
    assert!(d.unified.contains("@@ -29,5 +29,5 @@"), "{}", d.unified);
    assert_eq!(d.unified, unified_of_whole_sections(&after, &later));
    assert_eq!(
        after.render_section("scene_list").lines().count(),
        after.scene_list.len()
    );
}
