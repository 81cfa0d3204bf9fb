//! Store: migrations, revisions, transactions, refusal of bad files.

use editscope::store::{
    ContextDelta, MemoryType, MemoryWrite, Message, OpenOptions, Project, Scene, Store, StoreError,
    latest_version,
};
use std::time::Duration;

use crate::backends::{Backend, TestDb};

fn project(id: &str) -> Project {
    Project {
        id: id.into(),
        user_id: "u1".into(),
        title: "T".into(),
        created_at: 1,
        updated_at: 1,
    }
}

fn scene(id: &str, project: &str, ord: i64) -> Scene {
    Scene {
        id: id.into(),
        project_id: project.into(),
        name: format!("Scene {id}"),
        ord,
        tsx_code: "export default () => null;".into(),
        duration_frames: 90,
        props_json: "{}".into(),
        created_at: 1,
        updated_at: 1,
    }
}

fn temp_store(backend: Backend) -> (TestDb, Store) {
    let db = backend.fresh().expect("an available backend");
    let store = db.open();
    (db, store)
}

#[test]
fn migrations_create_schema_on_empty_file_and_reopen_is_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    {
        let store = Store::open(&path).unwrap();
        let v: i64 = store
            .connection()
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, latest_version());
        let mode: String = store
            .connection()
            .unwrap()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode.to_lowercase(), "wal");
        let fk: i64 = store
            .connection()
            .unwrap()
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
    }
    let mut store = Store::open(&path).unwrap();
    store.write(|w| w.insert_project(&project("p"))).unwrap();
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.list_projects().unwrap().len(), 1);
}

#[test]
fn a_newer_schema_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newer.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE future(x); PRAGMA user_version = 99;")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::NewerSchema { found: 99, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("newer"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "file was modified");
}

#[test]
fn a_file_that_is_not_sqlite_gives_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    std::fs::write(&path, "this is a text file, not a database\n".repeat(200)).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err}");
    assert!(
        err.to_string().contains("not an editscope database"),
        "{err}"
    );
}

#[test]
fn a_database_locked_by_another_writer_gives_a_clear_error_and_no_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.db");
    let mut store = Store::open_with(
        &path,
        OpenOptions {
            busy_timeout: Duration::from_millis(100),
            read_only: false,
        },
    )
    .unwrap();
    store.write(|w| w.insert_project(&project("p"))).unwrap();
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let err = store
        .write(|w| w.upsert_scene(&scene("s1", "p", 1)))
        .unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    assert!(
        err.to_string().contains("locked by another writer"),
        "{err}"
    );
    other.execute_batch("ROLLBACK").unwrap();
    assert_eq!(store.scene_count("p").unwrap(), 0);
    assert_eq!(store.project_revision("p").unwrap(), 1);
}

#[test]
fn every_kind_of_write_bumps_the_revision_and_reads_do_not() {
    crate::backends::each(|backend| {
        let (_d, mut store) = temp_store(backend);
        store.write(|w| w.insert_project(&project("p"))).unwrap();
        let mut rev = store.project_revision("p").unwrap();
        let mut expect_bump = |store: &mut Store, what: &str| {
            let now = store.project_revision("p").unwrap();
            assert_eq!(now, rev + 1, "{what} did not bump the revision once");
            rev = now;
        };
        store
            .write(|w| w.upsert_scene(&scene("s1", "p", 1)))
            .unwrap();
        expect_bump(&mut store, "scene insert");
        store
            .write(|w| w.update_scene_code("s1", "export default () => <div/>;", 60))
            .unwrap();
        expect_bump(&mut store, "scene code update");
        store
            .write(|w| {
                w.add_message(&Message {
                    id: "m1".into(),
                    project_id: "p".into(),
                    role: "user".into(),
                    content: "hi".into(),
                    image_urls: vec![],
                    created_at: 5,
                })
            })
            .unwrap();
        expect_bump(&mut store, "message");
        let write = MemoryWrite {
            project_id: "p".into(),
            memory_type: MemoryType::UserPreference,
            key: "brand_color".into(),
            value: "#ff0000".into(),
            confidence: 0.9,
            source_prompt: "use red".into(),
            learned_at: None,
        };
        store.write(|w| w.upsert_memory(&write)).unwrap();
        expect_bump(&mut store, "memory upsert");
        store
            .write(|w| w.forget_memory("p", MemoryType::UserPreference, "brand_color"))
            .unwrap();
        expect_bump(&mut store, "memory forget");
        store
            .write(|w| {
                w.add_image_analysis(&editscope::store::ImageAnalysis {
                    id: "img1".into(),
                    project_id: "p".into(),
                    trace_id: "t".into(),
                    image_urls: vec!["https://x/1.png".into()],
                    palette: serde_json::json!(["#000"]),
                    typography: "Inter".into(),
                    mood: "calm".into(),
                    layout: serde_json::json!({}),
                    processing_time_ms: 10,
                    created_at: 6,
                })
            })
            .unwrap();
        expect_bump(&mut store, "image analysis");
        store.write(|w| w.delete_scene("s1").map(|_| ())).unwrap();
        expect_bump(&mut store, "scene delete");
        store.write(|w| w.update_project_title("p", "New")).unwrap();
        expect_bump(&mut store, "title");

        // Reads leave it alone.
        store.list_scenes("p").unwrap();
        store.list_memory("p", None).unwrap();
        store.list_messages("p", None).unwrap();
        store.list_projects().unwrap();
        store.list_image_analyses("p").unwrap();
        assert_eq!(store.project_revision("p").unwrap(), rev);

        // Each bump left its delta, in order.
        let deltas = store.deltas_since("p", 1).unwrap();
        assert_eq!(deltas.len() as i64, rev - 1);
        assert_eq!(
            deltas[0].1,
            ContextDelta::SceneUpserted {
                scene_id: "s1".into()
            }
        );
        assert!(matches!(
            deltas.last().unwrap().1,
            ContextDelta::Significant { .. }
        ));
    });
}

#[test]
fn a_failed_write_transaction_changes_nothing() {
    crate::backends::each(|backend| {
        let (_d, mut store) = temp_store(backend);
        store.write(|w| w.insert_project(&project("p"))).unwrap();
        store
            .write(|w| w.upsert_scene(&scene("s1", "p", 1)))
            .unwrap();
        let rev = store.project_revision("p").unwrap();
        let err = store
            .write(|w| {
                w.update_scene_code("s1", "changed", 10)?;
                w.update_scene_code("missing", "x", 10)
            })
            .unwrap_err();
        assert!(matches!(err, StoreError::SceneNotFound(_)));
        assert_eq!(
            store.get_scene("s1").unwrap().tsx_code,
            "export default () => null;"
        );
        assert_eq!(store.project_revision("p").unwrap(), rev);
    });
}
