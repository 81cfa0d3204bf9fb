//! Versioned schema migrations, tracked in `PRAGMA user_version`.
//!
//! Each entry of [`MIGRATIONS`] moves the schema from version `i` to `i + 1` and runs in one
//! transaction together with the version bump. A file whose `user_version` is above the newest
//! version we know was written by a newer editscope: we refuse it and never touch it.

use rusqlite::Connection;

use super::StoreError;

/// Schema steps, oldest first. Append; never edit a released step.
pub const MIGRATIONS: &[&str] = &[
    // 1: the data model of DESIGN.md section 2.
    r#"
    CREATE TABLE projects (
        id          TEXT PRIMARY KEY,
        user_id     TEXT NOT NULL,
        title       TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        -- bumped in the same transaction as every write that can change a context
        revision    INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE scenes (
        id              TEXT PRIMARY KEY,
        project_id      TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        name            TEXT NOT NULL,
        ord             INTEGER NOT NULL,
        tsx_code        TEXT NOT NULL,
        duration_frames INTEGER NOT NULL,
        props_json      TEXT NOT NULL DEFAULT '{}',
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL
    );
    CREATE INDEX scenes_by_project ON scenes(project_id, ord);
    CREATE TABLE messages (
        id              TEXT PRIMARY KEY,
        project_id      TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        role            TEXT NOT NULL,
        content         TEXT NOT NULL,
        image_urls_json TEXT NOT NULL DEFAULT '[]',
        created_at      INTEGER NOT NULL
    );
    CREATE INDEX messages_by_project ON messages(project_id, created_at);
    CREATE TABLE project_memory (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        project_id    TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        memory_type   TEXT NOT NULL CHECK (memory_type IN ('USER_PREFERENCE','SCENE_RELATIONSHIP','SCENE_ANALYSIS','IMAGE_ANALYSIS','CONVERSATION_CONTEXT')),
        key           TEXT NOT NULL,
        value         TEXT NOT NULL,
        confidence    REAL NOT NULL CHECK (confidence >= 0.0 AND confidence <= 1.0),
        source_prompt TEXT NOT NULL DEFAULT '',
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL,
        UNIQUE (project_id, memory_type, key)
    );
    CREATE TABLE image_analyses (
        id                 TEXT PRIMARY KEY,
        project_id         TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        trace_id           TEXT NOT NULL,
        image_urls_json    TEXT NOT NULL,
        palette_json       TEXT NOT NULL,
        typography         TEXT NOT NULL,
        mood               TEXT NOT NULL,
        layout_json        TEXT NOT NULL,
        processing_time_ms INTEGER NOT NULL,
        created_at         INTEGER NOT NULL
    );
    CREATE INDEX images_by_project ON image_analyses(project_id, created_at);
    CREATE TABLE scene_iterations (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        scene_id      TEXT NOT NULL,
        project_id    TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        prompt        TEXT NOT NULL,
        operation     TEXT NOT NULL,
        code_before   TEXT,
        code_after    TEXT,
        model         TEXT NOT NULL,
        generation_ms INTEGER NOT NULL,
        created_at    INTEGER NOT NULL
    );
    CREATE INDEX iterations_by_scene ON scene_iterations(scene_id, id);
    CREATE TABLE edit_runs (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        project_id      TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        prompt          TEXT NOT NULL,
        flags_json      TEXT NOT NULL,
        tool            TEXT,
        target_scene_id TEXT,
        stage_ms_json   TEXT NOT NULL,
        cache_json      TEXT NOT NULL,
        tokens_json     TEXT NOT NULL,
        outcome         TEXT NOT NULL,
        error           TEXT,
        created_at      INTEGER NOT NULL
    );
    CREATE INDEX runs_by_project ON edit_runs(project_id, id);
    -- what each revision changed, written with the bump: the engine's incremental updates
    CREATE TABLE context_deltas (
        project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        revision   INTEGER NOT NULL,
        delta_json TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (project_id, revision)
    );
    -- the persisted level of the context cache, so a new process starts warm
    CREATE TABLE context_snapshots (
        project_id   TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        user_id      TEXT NOT NULL,
        variant      TEXT NOT NULL,
        revision     INTEGER NOT NULL,
        built_at     INTEGER NOT NULL,
        context_json TEXT NOT NULL,
        PRIMARY KEY (project_id, user_id, variant)
    );
    "#,
    // 2: comparison runs (the A/B dry runs) are recorded like every run and marked; and the
    // watermark of memory learning: the last message whose stated preferences are in memory,
    // so a build learns only from messages written after it.
    r#"
    ALTER TABLE edit_runs ADD COLUMN comparison INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE memory_watermarks (
        project_id         TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
        message_created_at INTEGER NOT NULL,
        message_id         TEXT NOT NULL,
        updated_at         INTEGER NOT NULL
    );
    "#,
];

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings `conn` up to [`latest_version`], or refuses a newer file without touching it.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let latest = latest_version();
    if current > latest {
        return Err(StoreError::NewerSchema {
            found: current,
            supported: latest,
        });
    }
    for (index, step) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", (index + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
