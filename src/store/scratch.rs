//! Scratch copies of one project: what a comparison (A/B) run works on, so that it can apply
//! its edit for real (the resulting code is compared) while the project itself is untouched.
//!
//! A scratch copy is always a SQLite file, whatever the store: a copy of a project in a shared
//! PostgreSQL database is read there in one snapshot and written to a local file, so a dry run
//! never writes the shared database.

use std::path::Path;

use rusqlite::params;

use super::sql::{Row, Val};
use super::*;

/// The tables that hold a project's state, parents first (foreign keys), each with the column
/// that names the project and the columns copied. Edit runs are left out: a scratch copy
/// records only its own run.
const PROJECT_TABLES: &[(&str, &str, &str)] = &[
    (
        "projects",
        "id",
        "id, user_id, title, created_at, updated_at, revision",
    ),
    (
        "scenes",
        "project_id",
        "id, project_id, name, ord, tsx_code, duration_frames, props_json, created_at, updated_at",
    ),
    (
        "messages",
        "project_id",
        "id, project_id, role, content, image_urls_json, created_at",
    ),
    (
        "project_memory",
        "project_id",
        "id, project_id, memory_type, key, value, confidence, source_prompt, created_at, updated_at",
    ),
    (
        "image_analyses",
        "project_id",
        "id, project_id, trace_id, image_urls_json, palette_json, typography, mood, layout_json, processing_time_ms, created_at",
    ),
    (
        "scene_iterations",
        "project_id",
        "id, scene_id, project_id, prompt, operation, code_before, code_after, model, generation_ms, created_at",
    ),
    (
        "context_deltas",
        "project_id",
        "project_id, revision, delta_json, created_at",
    ),
    (
        "context_snapshots",
        "project_id",
        "project_id, user_id, variant, revision, built_at, context_json",
    ),
    (
        "memory_watermarks",
        "project_id",
        "project_id, message_created_at, message_id, updated_at",
    ),
    (
        "foreign_memory",
        "project_id",
        "id, project_id, memory_type, key, value, confidence, source_prompt, created_at, updated_at",
    ),
];

impl Store {
    /// Copies one project, as committed now, into a new database at `dest`: its rows in every
    /// table, its revision, its delta log and its persisted context snapshots, so that an engine
    /// on the copy starts in the same state (cache level 2 included) as one on this file.
    /// Nothing is written to this database. The copy is closed when this returns, so that the
    /// file at `dest` is complete on its own (no write-ahead log beside it) and can be copied.
    pub fn copy_project_to(&self, project_id: &str, dest: &Path) -> Result<()> {
        // Fails with ProjectNotFound before a file is made.
        self.get_project(project_id)?;
        if dest.exists() {
            return Err(StoreError::Invalid {
                what: format!("scratch copy '{}'", dest.display()),
                reason: "the file already exists".into(),
            });
        }
        let mut copy = Store::open_sqlite(dest, OpenOptions::default())?;
        if let Backend::Postgres(pg) = &self.backend {
            return copy_from_postgres(pg, project_id, copy);
        }
        let source = self.path.display().to_string();
        let Backend::Sqlite(conn) = &mut copy.backend else {
            return Err(StoreError::Invalid {
                what: "scratch copy".into(),
                reason: "the copy did not open as SQLite".into(),
            });
        };
        conn.execute("ATTACH DATABASE ?1 AS source", params![source])
            .map_err(|e| classify(&self.path, self.options.busy_timeout, e))?;
        let copied = (|| -> rusqlite::Result<()> {
            // One read transaction over the source: every table is copied at one revision.
            let tx = conn.transaction()?;
            for (table, column, columns) in PROJECT_TABLES {
                // Both files have this build's schema (the copy was just migrated, the source
                // when it was opened), so the columns line up.
                tx.execute(
                    &format!(
                        "INSERT INTO main.{table}({columns}) SELECT {columns} FROM source.{table} WHERE {column} = ?1"
                    ),
                    params![project_id],
                )?;
            }
            tx.commit()
        })();
        let detached = conn.execute("DETACH DATABASE source", []);
        copied.map_err(|e| classify(&self.path, self.options.busy_timeout, e))?;
        detached?;
        // Closing the last connection checkpoints the log into the file and removes it.
        drop(copy);
        Ok(())
    }
}

/// Reads the project's rows in one repeatable-read snapshot of the PostgreSQL database and
/// writes them into the (SQLite) copy in one transaction.
fn copy_from_postgres(pg: &pg::PgConn, project_id: &str, mut copy: Store) -> Result<()> {
    let id = project_id.to_string();
    let tables: Vec<Vec<Row>> = pg.call(move |s| {
        s.begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        let read: Result<Vec<Vec<Row>>> = PROJECT_TABLES
            .iter()
            .map(|(table, column, columns)| {
                s.query(
                    &format!("SELECT {columns} FROM {table} WHERE {column} = ?1"),
                    &[Val::Text(id.clone())],
                )
            })
            .collect();
        s.rollback();
        read
    })?;
    let Backend::Sqlite(conn) = &mut copy.backend else {
        return Err(StoreError::Invalid {
            what: "scratch copy".into(),
            reason: "the copy did not open as SQLite".into(),
        });
    };
    let tx = conn.transaction()?;
    for ((table, _, columns), rows) in PROJECT_TABLES.iter().zip(tables) {
        let n = columns.split(',').count();
        let placeholders = (1..=n)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("INSERT INTO {table}({columns}) VALUES ({placeholders})");
        for row in rows {
            sqlite::execute(&tx, &sql, &row.0)?;
        }
    }
    tx.commit()?;
    drop(copy);
    Ok(())
}
