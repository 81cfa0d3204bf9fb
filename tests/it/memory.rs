//! ProjectMemory: upsert rule, confidence validation, provenance, typed views.

use editscope::memory::ProjectMemory;
use editscope::store::{MemoryType, MemoryWrite, Project, Store, StoreError, UpsertOutcome};

fn setup() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("m.db")).unwrap();
    store
        .write(|w| {
            w.insert_project(&Project {
                id: "p".into(),
                user_id: "u".into(),
                title: "t".into(),
                created_at: 0,
                updated_at: 0,
            })
        })
        .unwrap();
    (dir, store)
}

fn write(key: &str, value: &str, confidence: f64, at: i64) -> MemoryWrite {
    MemoryWrite {
        project_id: "p".into(),
        memory_type: MemoryType::UserPreference,
        key: key.into(),
        value: value.into(),
        confidence,
        source_prompt: format!("prompt for {value}"),
        learned_at: Some(at),
    }
}

#[test]
fn upsert_keeps_the_more_confident_value_unless_the_new_one_is_newer_and_as_confident() {
    let (_d, mut store) = setup();
    let up = |store: &mut Store, w: MemoryWrite| store.write(|tx| tx.upsert_memory(&w)).unwrap();
    assert_eq!(
        up(&mut store, write("color", "red", 0.9, 100)),
        UpsertOutcome::Inserted
    );
    // newer but less confident: kept
    assert_eq!(
        up(&mut store, write("color", "blue", 0.5, 200)),
        UpsertOutcome::KeptExisting
    );
    // newer and as confident: replaced
    assert_eq!(
        up(&mut store, write("color", "green", 0.9, 300)),
        UpsertOutcome::Replaced
    );
    // older but more confident: replaced
    assert_eq!(
        up(&mut store, write("color", "teal", 0.95, 50)),
        UpsertOutcome::Replaced
    );
    // older and as confident: kept
    assert_eq!(
        up(&mut store, write("color", "pink", 0.95, 10)),
        UpsertOutcome::KeptExisting
    );
    let entry = store
        .get_memory("p", MemoryType::UserPreference, "color")
        .unwrap()
        .unwrap();
    assert_eq!(entry.value, "teal");
    assert_eq!(entry.source_prompt, "prompt for teal");
    assert_eq!(entry.confidence, 0.95);
}

#[test]
fn kept_existing_does_not_bump_the_revision() {
    let (_d, mut store) = setup();
    store
        .write(|w| w.upsert_memory(&write("k", "a", 0.9, 10)))
        .unwrap();
    let rev = store.project_revision("p").unwrap();
    store
        .write(|w| w.upsert_memory(&write("k", "b", 0.1, 20)))
        .unwrap();
    assert_eq!(store.project_revision("p").unwrap(), rev);
}

#[test]
fn confidence_outside_zero_to_one_is_refused() {
    let (_d, mut store) = setup();
    for bad in [1.5, -0.1, f64::NAN] {
        let mut mem = ProjectMemory::new(&mut store, "p");
        let err = mem
            .set(MemoryType::UserPreference, "k", "v", bad, "p")
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid { .. }), "{bad}: {err}");
        assert!(err.to_string().contains("outside 0..1"), "{err}");
    }
    assert!(store.list_memory("p", None).unwrap().is_empty());
}

#[test]
fn get_set_forget_list_by_type_and_typed_views() {
    let (_d, mut store) = setup();
    let mut mem = ProjectMemory::new(&mut store, "p");
    mem.set(
        MemoryType::UserPreference,
        "brand_color",
        "#2563EB",
        0.9,
        "our brand is blue",
    )
    .unwrap();
    mem.set(
        MemoryType::UserPreference,
        "font",
        "Inter",
        0.8,
        "use Inter",
    )
    .unwrap();
    mem.set(
        MemoryType::SceneRelationship,
        "intro->features",
        "intro leads into features",
        0.7,
        "",
    )
    .unwrap();
    let analysis = serde_json::json!({"content_hash": "abc", "analysis": {"colors": ["#fff"]}});
    mem.set(
        MemoryType::SceneAnalysis,
        "intro",
        &analysis.to_string(),
        0.85,
        "analysis",
    )
    .unwrap();

    let prefs = mem.preferences().unwrap();
    assert_eq!(prefs.len(), 2);
    assert_eq!(prefs["brand_color"].value, "#2563EB");
    assert_eq!(prefs["brand_color"].source_prompt, "our brand is blue");
    assert_eq!(
        mem.relationships().unwrap()["intro->features"],
        "intro leads into features"
    );
    let (stored, conf) = mem.scene_analysis("intro").unwrap().unwrap();
    assert_eq!(stored.content_hash, "abc");
    assert_eq!(conf, 0.85);
    assert_eq!(mem.list(Some(MemoryType::UserPreference)).unwrap().len(), 2);
    assert_eq!(mem.list(None).unwrap().len(), 4);

    assert!(mem.forget(MemoryType::UserPreference, "font").unwrap());
    assert!(!mem.forget(MemoryType::UserPreference, "font").unwrap());
    assert!(
        mem.get(MemoryType::UserPreference, "font")
            .unwrap()
            .is_none()
    );
}

#[test]
fn memory_types_parse_from_their_names() {
    assert_eq!(
        "user_preference".parse::<MemoryType>().unwrap(),
        MemoryType::UserPreference
    );
    assert_eq!(
        "SCENE_ANALYSIS".parse::<MemoryType>().unwrap(),
        MemoryType::SceneAnalysis
    );
    assert!("colour".parse::<MemoryType>().is_err());
}
