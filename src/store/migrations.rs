//! Versioned schema migrations: SQLite's tracked in `PRAGMA user_version`, PostgreSQL's in the
//! one-row table `editscope_schema`.
//!
//! Each entry of [`MIGRATIONS`] (and the same step of [`PG_MIGRATIONS`], in PostgreSQL's types)
//! moves the schema from version `i` to `i + 1` and runs in one transaction together with the
//! version bump. A store whose version is above the newest we know was written by a newer
//! editscope: we refuse it and never touch it.

use rusqlite::Connection;

use super::StoreError;
use super::pg::PgConn;
use super::sql::{Val, vals};

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
    // 3: memory entries of types editscope does not know (an import from the editor's own
    // database brings whatever types it has): kept as they are, listed, never used in a
    // context and never dropped.
    r#"
    CREATE TABLE foreign_memory (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        project_id    TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        memory_type   TEXT NOT NULL,
        key           TEXT NOT NULL,
        value         TEXT NOT NULL,
        confidence    REAL NOT NULL,
        source_prompt TEXT NOT NULL DEFAULT '',
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL,
        UNIQUE (project_id, memory_type, key)
    );
    "#,
    // 4: the history section's read by project in id order, through an index rather than a
    // scan of every project's iterations; and token counts of texts a context holds (a target
    // scene's code), keyed by a hash of the text, so that a new process serving a context from
    // its snapshot finds them instead of loading the tokenizer to count them.
    r#"
    CREATE INDEX iterations_by_project ON scene_iterations(project_id, id);
    CREATE TABLE token_counts (
        tokenizer TEXT NOT NULL,
        text_key  INTEGER NOT NULL,
        tokens    INTEGER NOT NULL,
        PRIMARY KEY (tokenizer, text_key)
    );
    "#,
];

/// [`MIGRATIONS`] in PostgreSQL's types, step for step (the same tables, columns in the same
/// order; `projects.seq` added last gives the insertion order SQLite's rowid gives).
pub const PG_MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE projects (
        id          TEXT PRIMARY KEY,
        user_id     TEXT NOT NULL,
        title       TEXT NOT NULL,
        created_at  BIGINT NOT NULL,
        updated_at  BIGINT NOT NULL,
        revision    BIGINT NOT NULL DEFAULT 0,
        seq         BIGINT GENERATED ALWAYS AS IDENTITY
    );
    CREATE TABLE scenes (
        id              TEXT PRIMARY KEY,
        project_id      TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        name            TEXT NOT NULL,
        ord             BIGINT NOT NULL,
        tsx_code        TEXT NOT NULL,
        duration_frames BIGINT NOT NULL,
        props_json      TEXT NOT NULL DEFAULT '{}',
        created_at      BIGINT NOT NULL,
        updated_at      BIGINT NOT NULL
    );
    CREATE INDEX scenes_by_project ON scenes(project_id, ord);
    CREATE TABLE messages (
        id              TEXT PRIMARY KEY,
        project_id      TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        role            TEXT NOT NULL,
        content         TEXT NOT NULL,
        image_urls_json TEXT NOT NULL DEFAULT '[]',
        created_at      BIGINT NOT NULL
    );
    CREATE INDEX messages_by_project ON messages(project_id, created_at);
    CREATE TABLE project_memory (
        id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        project_id    TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        memory_type   TEXT NOT NULL CHECK (memory_type IN ('USER_PREFERENCE','SCENE_RELATIONSHIP','SCENE_ANALYSIS','IMAGE_ANALYSIS','CONVERSATION_CONTEXT')),
        key           TEXT NOT NULL,
        value         TEXT NOT NULL,
        confidence    DOUBLE PRECISION NOT NULL CHECK (confidence >= 0.0 AND confidence <= 1.0),
        source_prompt TEXT NOT NULL DEFAULT '',
        created_at    BIGINT NOT NULL,
        updated_at    BIGINT NOT NULL,
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
        processing_time_ms BIGINT NOT NULL,
        created_at         BIGINT NOT NULL
    );
    CREATE INDEX images_by_project ON image_analyses(project_id, created_at);
    CREATE TABLE scene_iterations (
        id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        scene_id      TEXT NOT NULL,
        project_id    TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        prompt        TEXT NOT NULL,
        operation     TEXT NOT NULL,
        code_before   TEXT,
        code_after    TEXT,
        model         TEXT NOT NULL,
        generation_ms BIGINT NOT NULL,
        created_at    BIGINT NOT NULL
    );
    CREATE INDEX iterations_by_scene ON scene_iterations(scene_id, id);
    CREATE INDEX iterations_by_project ON scene_iterations(project_id, id);
    CREATE TABLE edit_runs (
        id              BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
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
        created_at      BIGINT NOT NULL
    );
    CREATE INDEX runs_by_project ON edit_runs(project_id, id);
    CREATE TABLE context_deltas (
        project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        revision   BIGINT NOT NULL,
        delta_json TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (project_id, revision)
    );
    CREATE TABLE context_snapshots (
        project_id   TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        user_id      TEXT NOT NULL,
        variant      TEXT NOT NULL,
        revision     BIGINT NOT NULL,
        built_at     BIGINT NOT NULL,
        context_json TEXT NOT NULL,
        PRIMARY KEY (project_id, user_id, variant)
    );
    "#,
    r#"
    ALTER TABLE edit_runs ADD COLUMN comparison BOOLEAN NOT NULL DEFAULT false;
    CREATE TABLE memory_watermarks (
        project_id         TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
        message_created_at BIGINT NOT NULL,
        message_id         TEXT NOT NULL,
        updated_at         BIGINT NOT NULL
    );
    "#,
    r#"
    CREATE TABLE foreign_memory (
        id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        project_id    TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        memory_type   TEXT NOT NULL,
        key           TEXT NOT NULL,
        value         TEXT NOT NULL,
        confidence    DOUBLE PRECISION NOT NULL,
        source_prompt TEXT NOT NULL DEFAULT '',
        created_at    BIGINT NOT NULL,
        updated_at    BIGINT NOT NULL,
        UNIQUE (project_id, memory_type, key)
    );
    "#,
    // (PostgreSQL's first step already made `iterations_by_project`.)
    r#"
    CREATE TABLE token_counts (
        tokenizer TEXT NOT NULL,
        text_key  BIGINT NOT NULL,
        tokens    BIGINT NOT NULL,
        PRIMARY KEY (tokenizer, text_key)
    );
    "#,
];

/// Serialises concurrent migrators of one PostgreSQL database (two editscope processes
/// starting at once): `pg_advisory_xact_lock` on this key, held until the migration commits.
const PG_MIGRATION_LOCK: i64 = 0x6564_6974_7363_6f70; // "editscop"

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

/// The PostgreSQL schema version, read without writing anything (0: no editscope schema yet).
fn pg_version(s: &mut super::pg::Session) -> Result<i64, StoreError> {
    let exists = s.query("SELECT to_regclass('editscope_schema') IS NOT NULL", &[])?;
    let exists = exists
        .into_iter()
        .next()
        .map(|mut r| r.get::<bool>(0))
        .transpose()?
        .unwrap_or(false);
    if !exists {
        return Ok(0);
    }
    let rows = s.query("SELECT version FROM editscope_schema", &[])?;
    Ok(rows
        .into_iter()
        .next()
        .map(|mut r| r.get::<i64>(0))
        .transpose()?
        .unwrap_or(0))
}

/// Refuses a PostgreSQL schema newer than this build's, touching nothing.
pub fn check_postgres_version(conn: &PgConn) -> Result<(), StoreError> {
    conn.call(|s| {
        let found = pg_version(s)?;
        if found > latest_version() {
            return Err(StoreError::NewerSchema {
                found,
                supported: latest_version(),
            });
        }
        Ok(())
    })
}

/// Brings a PostgreSQL database up to [`latest_version`] in one transaction (under an
/// advisory lock), or refuses a newer one without touching it. Returns whether the schema was
/// created now (an empty store, to be seeded).
pub fn migrate_postgres(conn: &PgConn) -> Result<bool, StoreError> {
    debug_assert_eq!(MIGRATIONS.len(), PG_MIGRATIONS.len());
    // Checked before any write, so a newer schema is left exactly as it is.
    check_postgres_version(conn)?;
    conn.call(|s| {
        s.begin("BEGIN")?;
        let result = migrate_steps(s);
        match result {
            Ok(created) => {
                s.commit()?;
                Ok(created)
            }
            Err(e) => {
                s.rollback();
                Err(e)
            }
        }
    })
}

fn migrate_steps(s: &mut super::pg::Session) -> Result<bool, StoreError> {
    s.execute(
        "SELECT pg_advisory_xact_lock(?1)",
        &vals![PG_MIGRATION_LOCK],
    )?;
    let current = pg_version(s)?;
    let latest = latest_version();
    if current > latest {
        return Err(StoreError::NewerSchema {
            found: current,
            supported: latest,
        });
    }
    if current == latest {
        return Ok(false);
    }
    for step in PG_MIGRATIONS.iter().skip(current as usize) {
        s.batch(step)?;
    }
    s.batch("CREATE TABLE IF NOT EXISTS editscope_schema (version BIGINT NOT NULL)")?;
    s.execute("DELETE FROM editscope_schema", &[])?;
    s.execute(
        "INSERT INTO editscope_schema(version) VALUES (?1)",
        &[Val::Int(latest)],
    )?;
    Ok(current == 0)
}
