//! The PostgreSQL backend on a real server: calls from inside a runtime, many writers, change
//! notifications, scratch copies, and clear errors that lose nothing.

use std::time::Duration;

use editscope::fixtures;
use editscope::store::{Message, Project, Store, StoreError};

use crate::pg_server::{self, PgServer};

fn project(id: &str) -> Project {
    Project {
        id: id.into(),
        user_id: "u1".into(),
        title: "T".into(),
        created_at: 1,
        updated_at: 1,
    }
}

fn message(project: &str, id: &str) -> Message {
    Message {
        id: id.into(),
        project_id: project.into(),
        role: "user".into(),
        content: format!("message {id}"),
        image_urls: vec![],
        created_at: 1,
    }
}

#[tokio::test]
async fn the_store_is_called_synchronously_from_inside_a_tokio_runtime() {
    let Some(url) = pg_server::fresh_db("rt") else {
        return;
    };
    let mut store = Store::open(&url).unwrap();
    assert!(store.is_postgres() && store.was_created());
    store.write(|w| w.insert_project(&project("p"))).unwrap();
    store.write(|w| w.add_message(&message("p", "m1"))).unwrap();
    assert_eq!(store.list_messages("p", None).unwrap().len(), 1);
    assert_eq!(store.project_revision("p").unwrap(), 2);
    // Reopening finds the schema in place: not created again.
    assert!(!Store::open(&url).unwrap().was_created());
}

#[test]
fn two_writers_on_one_project_lose_no_update() {
    let Some(url) = pg_server::fresh_db("writers") else {
        return;
    };
    let mut first = Store::open(&url).unwrap();
    first.write(|w| w.insert_project(&project("p"))).unwrap();
    let start = first.project_revision("p").unwrap();
    const EACH: usize = 40;
    std::thread::scope(|scope| {
        for writer in 0..2 {
            let url = url.clone();
            scope.spawn(move || {
                let mut store = Store::open(&url).unwrap();
                for i in 0..EACH {
                    store
                        .write(|w| w.add_message(&message("p", &format!("w{writer}-{i}"))))
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(
        first.project_revision("p").unwrap(),
        start + 2 * EACH as i64
    );
    let deltas = first.deltas_since("p", start).unwrap();
    let revisions: Vec<i64> = deltas.iter().map(|(r, _)| *r).collect();
    let expected: Vec<i64> = (start + 1..=start + 2 * EACH as i64).collect();
    assert_eq!(revisions, expected, "one delta per revision, none lost");
    assert_eq!(first.list_messages("p", None).unwrap().len(), 2 * EACH);
}

#[tokio::test]
async fn a_write_of_another_process_is_notified_with_its_revision() {
    let Some(url) = pg_server::fresh_db("notify") else {
        return;
    };
    let mut writer = Store::open(&url).unwrap();
    writer.write(|w| w.insert_project(&project("p"))).unwrap();
    let watcher = Store::open(&url).unwrap();
    let mut changes = watcher.watch_changes().unwrap();
    // The listener connects on its own thread: write until it hears one.
    let mut heard = None;
    for i in 0..50 {
        writer
            .write(|w| w.add_message(&message("p", &format!("m{i}"))))
            .unwrap();
        if let Ok(Some(change)) =
            tokio::time::timeout(Duration::from_millis(200), changes.recv()).await
        {
            heard = Some(change);
            break;
        }
    }
    let change = heard.expect("a notification of the other store's write");
    assert_eq!(change.project_id.as_deref(), Some("p"));
    assert!(change.revision >= 2);
    assert!(change.revision <= watcher.project_revision("p").unwrap());
}

#[test]
fn a_sqlite_store_has_no_change_channel_and_says_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("w.db")).unwrap();
    let mut changes = store.watch_changes().unwrap();
    assert!(changes.try_recv().is_err());
}

#[test]
fn a_scratch_copy_of_a_postgres_project_is_a_sqlite_file_and_writes_nothing_shared() {
    let Some(url) = pg_server::fresh_db("scratch") else {
        return;
    };
    let mut store = Store::open(&url).unwrap();
    let small = fixtures::parse("small", fixtures::DEMO_SMALL).unwrap();
    fixtures::import(&mut store, "small", &small).unwrap();
    let revision = store.project_revision("demo-small").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("copy.db");
    store.copy_project_to("demo-small", &file).unwrap();
    let mut copy = Store::open(&file).unwrap();
    assert!(!copy.is_postgres());
    assert_eq!(copy.project_revision("demo-small").unwrap(), revision);
    assert_eq!(
        copy.list_scenes("demo-small").unwrap(),
        store.list_scenes("demo-small").unwrap()
    );
    assert_eq!(
        copy.list_memory("demo-small", None).unwrap(),
        store.list_memory("demo-small", None).unwrap()
    );
    copy.write(|w| w.add_message(&message("demo-small", "only-in-copy")))
        .unwrap();
    assert_eq!(store.project_revision("demo-small").unwrap(), revision);
}

#[test]
fn a_refused_connection_gives_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = Store::open(format!("postgres://someone:hunter2@127.0.0.1:{port}/db")).unwrap_err();
    assert!(matches!(err, StoreError::Connect { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("connection refused"), "{text}");
    assert!(
        text.contains(&format!("postgres://someone@127.0.0.1:{port}/db")),
        "{text}"
    );
    assert!(
        !text.contains("hunter2"),
        "the password was printed: {text}"
    );
}

/// The private server of the tests that restart it or check passwords.
fn private_server() -> Option<PgServer> {
    PgServer::start(Some("s3cret-pw"))
}

#[test]
fn wrong_credentials_give_a_clear_error_and_no_password_is_printed() {
    let Some(server) = private_server() else {
        return;
    };
    let err = Store::open(server.url("postgres", Some("not-the-pw"))).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, StoreError::Connect { .. }), "{text}");
    assert!(text.contains("authentication failed"), "{text}");
    assert!(
        !text.contains("not-the-pw"),
        "the password was printed: {text}"
    );
    let err = Store::open(server.url("postgres", None)).unwrap_err();
    assert!(err.to_string().contains("password"), "{err}");
    // The right one works.
    let store = Store::open(server.url("postgres", Some("s3cret-pw"))).unwrap();
    assert!(store.list_projects().unwrap().is_empty());
    assert!(!store.path().display().to_string().contains("s3cret"));
}

#[test]
fn a_server_restarted_mid_session_fails_the_write_clearly_then_reconnects_and_lost_nothing() {
    let Some(server) = private_server() else {
        return;
    };
    let url = server.url("postgres", Some("s3cret-pw"));
    let mut store = Store::open(&url).unwrap();
    store.write(|w| w.insert_project(&project("p"))).unwrap();
    store.write(|w| w.add_message(&message("p", "m1"))).unwrap();
    server.stop();
    let err = store
        .write(|w| w.add_message(&message("p", "m2")))
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::ConnectionLost { .. } | StoreError::Connect { .. }
        ),
        "{err}"
    );
    assert!(!err.to_string().contains("s3cret"), "{err}");
    server.start_again();
    // The next call reconnects; what was committed is there, the failed write is not.
    assert_eq!(store.project_revision("p").unwrap(), 2);
    assert_eq!(store.list_messages("p", None).unwrap().len(), 1);
    store.write(|w| w.add_message(&message("p", "m2"))).unwrap();
    assert_eq!(store.project_revision("p").unwrap(), 3);
    // A transaction whose connection drops in the middle: the server rolls it back.
    let err = store
        .write(|w| {
            w.add_message(&message("p", "m3"))?;
            server.stop();
            w.add_message(&message("p", "m4"))
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::ConnectionLost { .. }), "{err}");
    server.start_again();
    assert_eq!(store.project_revision("p").unwrap(), 3);
    assert_eq!(store.list_messages("p", None).unwrap().len(), 2);
}

#[test]
fn a_newer_schema_is_refused_and_left_untouched() {
    let Some(server) = pg_server::shared() else {
        return;
    };
    let url = server.fresh_db("newer");
    let db = url.rsplit('/').next().unwrap().to_string();
    server.psql(
        &db,
        "CREATE TABLE editscope_schema (version BIGINT NOT NULL);
         INSERT INTO editscope_schema VALUES (99);",
    );
    let err = Store::open(&url).unwrap_err();
    assert!(
        matches!(err, StoreError::NewerSchema { found: 99, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("newer"), "{err}");
    // Nothing was created beside it.
    server.psql(
        &db,
        "DO $$ BEGIN
           IF to_regclass('projects') IS NOT NULL THEN RAISE EXCEPTION 'projects was created'; END IF;
           IF (SELECT version FROM editscope_schema) <> 99 THEN RAISE EXCEPTION 'version changed'; END IF;
         END $$;",
    );
}

#[test]
fn a_project_locked_by_another_writer_gives_a_clear_error_and_no_write() {
    let Some(url) = pg_server::fresh_db("locked") else {
        return;
    };
    let mut first = Store::open(&url).unwrap();
    first.write(|w| w.insert_project(&project("p"))).unwrap();
    let mut quick = Store::open_with(
        &url,
        editscope::store::OpenOptions {
            busy_timeout: Duration::from_millis(100),
            read_only: false,
        },
    )
    .unwrap();
    let (locked_tx, locked) = std::sync::mpsc::channel();
    let (done_tx, done) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            first
                .write(|w| {
                    // The message's write takes the project's row lock until the commit.
                    w.add_message(&message("p", "held"))?;
                    locked_tx.send(()).unwrap();
                    done.recv().unwrap();
                    Ok(())
                })
                .unwrap();
        });
        locked.recv().unwrap();
        let err = quick
            .write(|w| w.add_message(&message("p", "blocked")))
            .unwrap_err();
        done_tx.send(()).unwrap();
        assert!(
            matches!(err, StoreError::Locked { waited_ms: 100, .. }),
            "{err}"
        );
        assert!(
            err.to_string().contains("locked by another writer"),
            "{err}"
        );
    });
    let ids: Vec<String> = quick
        .list_messages("p", None)
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, ["held"]);
    assert_eq!(quick.project_revision("p").unwrap(), 2);
}
