//! Fixtures: the demo projects, the generator, import/export round trip, malformed imports.

use editscope::fixtures::{self, FixtureError, ProjectFile, generate};
use editscope::store::Store;

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("f.db")).unwrap();
    (dir, store)
}

fn all_fixtures() -> Vec<ProjectFile> {
    let mut v = fixtures::demo_projects().expect("embedded demos parse");
    // The large demo is 1,000 scenes; a 10,000-scene one is the generator's upper bound.
    v.push(generate::generate_project(&generate::GenerateSpec {
        project_id: "gen-300".into(),
        title: "Generated".into(),
        user_id: "u".into(),
        scenes: 300,
        seed: 99,
    }));
    v
}

#[test]
fn demo_projects_have_the_documented_sizes() {
    let demos = fixtures::demo_projects().unwrap();
    let sizes: Vec<usize> = demos.iter().map(|d| d.scenes.len()).collect();
    assert_eq!(sizes, vec![5, 25, fixtures::DEMO_LARGE_SCENES]);
    let ids: Vec<&str> = demos.iter().map(|d| d.project.id.as_str()).collect();
    assert_eq!(ids, vec!["demo-small", "demo-medium", "demo-large"]);
}

#[test]
fn a_demo_project_is_found_by_its_own_id_and_an_unknown_id_finds_none() {
    for id in fixtures::DEMO_IDS {
        let demo = fixtures::demo_project(id).unwrap().expect(id);
        assert_eq!(demo.project.id, id);
    }
    assert!(fixtures::demo_project("demo-huge").unwrap().is_none());
}

#[test]
fn demo_scenes_are_realistic_remotion_components() {
    for demo in fixtures::demo_projects().unwrap().iter().take(2) {
        for s in &demo.scenes {
            let lines = s.tsx_code.lines().count();
            assert!((40..=200).contains(&lines), "{}: {lines} lines", s.id);
            for needle in ["AbsoluteFill", "useCurrentFrame", "interpolate"] {
                assert!(s.tsx_code.contains(needle), "{} lacks {needle}", s.id);
            }
            assert!(s.tsx_code.contains("fontFamily"), "{} has no font", s.id);
        }
        let all: String = demo.scenes.iter().map(|s| s.tsx_code.as_str()).collect();
        assert!(all.contains("spring("), "{}: no spring", demo.project.id);
        assert!(
            all.contains("<Sequence"),
            "{}: no Sequence",
            demo.project.id
        );
        assert!(
            !demo.messages.is_empty(),
            "{}: no messages",
            demo.project.id
        );
        assert!(!demo.memory.is_empty(), "{}: no memory", demo.project.id);
        assert!(
            !demo.image_analyses.is_empty(),
            "{}: no images",
            demo.project.id
        );
    }
}

#[test]
fn the_generator_is_deterministic_and_scales_to_ten_thousand_scenes() {
    let spec = |n, seed| generate::GenerateSpec {
        project_id: "g".into(),
        title: "g".into(),
        user_id: "u".into(),
        scenes: n,
        seed,
    };
    assert_eq!(
        generate::generate_project(&spec(50, 1)),
        generate::generate_project(&spec(50, 1))
    );
    assert_ne!(
        generate::generate_project(&spec(50, 1)).scenes[3].tsx_code,
        generate::generate_project(&spec(50, 2)).scenes[3].tsx_code
    );
    let big = generate::generate_project(&spec(10_000, 3));
    assert_eq!(big.scenes.len(), 10_000);
    fixtures::validate("big", &big).unwrap();
}

#[test]
fn export_then_import_round_trips_exactly_for_each_fixture() {
    for original in all_fixtures() {
        let (_d1, mut a) = temp_store();
        fixtures::import(&mut a, "orig", &original).unwrap();
        let exported = fixtures::export(&a, &original.project.id).unwrap();
        assert_eq!(
            exported, original,
            "{} changed on export",
            original.project.id
        );
        let text = serde_json::to_string_pretty(&exported).unwrap();
        let (_d2, mut b) = temp_store();
        let reparsed = fixtures::parse("exported.json", &text).unwrap();
        fixtures::import(&mut b, "exported.json", &reparsed).unwrap();
        let again =
            serde_json::to_string_pretty(&fixtures::export(&b, &original.project.id).unwrap())
                .unwrap();
        assert_eq!(text, again, "{} did not round-trip", original.project.id);
    }
}

fn demo_json() -> serde_json::Value {
    serde_json::from_str(fixtures::DEMO_SMALL).unwrap()
}

fn assert_refused(text: &str, field: &str, reason_part: &str) {
    let (dir, mut store) = temp_store();
    let path = dir.path().join("bad.json");
    std::fs::write(&path, text).unwrap();
    let err = fixtures::import_file(&mut store, &path).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("bad.json"), "no file name in: {msg}");
    match &err {
        FixtureError::Malformed(e) => {
            assert_eq!(e.field, field, "field in: {msg}");
            assert!(e.reason.contains(reason_part), "reason in: {msg}");
        }
        other => panic!("expected a malformed-file error, got {other}"),
    }
    assert!(
        store.list_projects().unwrap().is_empty(),
        "something was written"
    );
}

#[test]
fn malformed_imports_name_file_field_and_reason_and_write_nothing() {
    // bad JSON
    assert_refused("{ \"format\": ", "(document)", "EOF");
    // missing field
    let mut v = demo_json();
    v["scenes"][1].as_object_mut().unwrap().remove("tsx_code");
    assert_refused(&v.to_string(), "scenes[1]", "missing field `tsx_code`");
    // wrong type
    let mut v = demo_json();
    v["scenes"][0]["duration_frames"] = serde_json::json!("ninety");
    assert_refused(&v.to_string(), "scenes[0].duration_frames", "invalid type");
    // duplicate scene id
    let mut v = demo_json();
    let first = v["scenes"][0]["id"].clone();
    v["scenes"][2]["id"] = first;
    assert_refused(&v.to_string(), "scenes[2].id", "duplicate scene id");
    // confidence 1.5
    let mut v = demo_json();
    v["memory"][0]["confidence"] = serde_json::json!(1.5);
    assert_refused(&v.to_string(), "memory[0].confidence", "outside 0..1");
}

#[test]
fn importing_a_project_that_exists_fails_as_a_whole() {
    let (_d, mut store) = temp_store();
    let demo = fixtures::parse("small", fixtures::DEMO_SMALL).unwrap();
    fixtures::import(&mut store, "small", &demo).unwrap();
    let before = fixtures::export(&store, "demo-small").unwrap();
    let err = fixtures::import(&mut store, "small again", &demo).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    assert_eq!(fixtures::export(&store, "demo-small").unwrap(), before);
}

#[test]
fn seeding_happens_once() {
    let (_d, mut store) = temp_store();
    assert_eq!(fixtures::seed_if_empty(&mut store).unwrap(), 3);
    assert_eq!(fixtures::seed_if_empty(&mut store).unwrap(), 0);
    assert_eq!(store.list_projects().unwrap().len(), 3);
}
