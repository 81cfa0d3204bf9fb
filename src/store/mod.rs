//! The store (SQLite file or PostgreSQL database): schema, migrations, typed queries and transactional writes (DESIGN.md section 2).
//!
//! Every write goes through a [`Writer`] inside one transaction; the writer records a
//! [`ContextDelta`] for each change that can alter a context and, on commit, bumps the project's
//! revision and stores the deltas in that same transaction. Reads never bump anything.

mod delta;
mod migrations;
mod models;
pub mod pg;
mod reads;
mod scratch;
pub mod sql;
mod sqlite;
mod watermark;
mod writer;

pub use delta::ContextDelta;
pub use migrations::{MIGRATIONS, latest_version};
pub use models::*;
pub use pg::StoreChange;
pub use writer::{DerivedMemoryWrite, MemoryWrite, UpsertOutcome, Writer, memory_upsert_wins};

use sql::{Row, Val};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// Errors of the store, each with enough context to act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("'{path}' is not an editscope database (not a SQLite file, or corrupt): {detail}")]
    NotADatabase { path: String, detail: String },
    #[error(
        "database '{path}' is locked by another writer (waited {waited_ms} ms); close the other editscope or try again"
    )]
    Locked { path: String, waited_ms: u64 },
    #[error("database '{path}' is full (its disk, or its size limit): nothing was written")]
    Full { path: String },
    #[error(
        "database '{path}' was deleted or moved while open: nothing was written; restart editscope to open (or create) it again"
    )]
    Moved { path: String },
    #[error(
        "database '{path}' is read-only (opened read-only, or on a read-only file or disk): nothing was written"
    )]
    ReadOnly { path: String },
    #[error(
        "database schema version {found} is newer than this editscope supports ({supported}); upgrade editscope, the file was not modified"
    )]
    NewerSchema { found: i64, supported: i64 },
    #[error("no project with id '{0}'")]
    ProjectNotFound(String),
    #[error("no scene with id '{0}'")]
    SceneNotFound(String),
    #[error("a project with id '{0}' already exists")]
    ProjectExists(String),
    #[error("invalid {what}: {reason}")]
    Invalid { what: String, reason: String },
    #[error("cannot create the database folder '{path}': {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("stored JSON in {what} is malformed: {source}")]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("SQLite error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("cannot connect to PostgreSQL at {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error(
        "the connection to PostgreSQL at {url} was lost (was the server restarted?); a write in progress was rolled back by the server, nothing of it was stored; the next command reconnects"
    )]
    ConnectionLost { url: String },
    #[error("PostgreSQL error: {detail}")]
    Postgres { code: String, detail: String },
    #[error("a stored row does not decode: {0}")]
    Decode(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Options for opening a database.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// How long a write waits for another writer's lock before failing with [`StoreError::Locked`].
    pub busy_timeout: Duration,
    /// Open read-only (used for the extra connections of parallel reads).
    pub read_only: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            busy_timeout: Duration::from_millis(2_000),
            read_only: false,
        }
    }
}

/// How many queries a store ran and how many rows it read: the engine reports both per build.
#[derive(Debug, Default)]
pub struct QueryCounters {
    queries: AtomicU64,
    rows: AtomicU64,
}

impl QueryCounters {
    pub fn record(&self, rows: usize) {
        self.queries.fetch_add(1, Ordering::Relaxed);
        self.rows.fetch_add(rows as u64, Ordering::Relaxed);
    }
    pub fn record_many(&self, queries: u64, rows: u64) {
        self.queries.fetch_add(queries, Ordering::Relaxed);
        self.rows.fetch_add(rows, Ordering::Relaxed);
    }
    pub fn reset(&self) {
        self.queries.store(0, Ordering::Relaxed);
        self.rows.store(0, Ordering::Relaxed);
    }
    /// (queries, rows read) so far.
    pub fn snapshot(&self) -> (u64, u64) {
        (
            self.queries.load(Ordering::Relaxed),
            self.rows.load(Ordering::Relaxed),
        )
    }
}

/// Where a store lives: a SQLite file, or a PostgreSQL database named by a `postgres://` URL.
/// Opaque to the rest of the program: it is cloned to open another connection to the same
/// store (a snapshot writer, a reader for parallel reads) and shown redacted.
#[derive(Debug, Clone)]
pub enum Location {
    File(PathBuf),
    Postgres(std::sync::Arc<pg::PgTarget>),
}

impl Location {
    /// A `postgres://` or `postgresql://` URL names PostgreSQL; anything else is a file path.
    pub fn parse(path: &Path) -> Result<Location> {
        match path.to_str().filter(|s| pg::is_url(s)) {
            Some(url) => Ok(Location::Postgres(std::sync::Arc::new(
                pg::PgTarget::parse(url)?,
            ))),
            None => Ok(Location::File(path.to_path_buf())),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Location::Postgres(_))
    }

    /// The file path, or the URL without its password.
    pub fn display(&self) -> String {
        match self {
            Location::File(p) => p.display().to_string(),
            Location::Postgres(t) => t.display().to_string(),
        }
    }

    pub fn open(&self) -> Result<Store> {
        self.open_with(OpenOptions::default())
    }

    /// A store of its own named `name` beside this one: a file `name.db` in `dir` for SQLite,
    /// a schema `name` of the same database for PostgreSQL (dropped by [`Location::discard`]).
    /// What the bench measures on, so that its stores are fresh whichever the backend.
    pub fn sibling(&self, dir: &Path, name: &str) -> Result<Location> {
        match self {
            Location::File(_) => Ok(Location::File(dir.join(format!("{name}.db")))),
            Location::Postgres(t) => {
                Ok(Location::Postgres(std::sync::Arc::new(t.in_schema(name)?)))
            }
        }
    }

    /// Removes a [`Location::sibling`] of `self` (a file goes with its temp dir).
    pub fn discard(&self, name: &str) -> Result<()> {
        match self {
            Location::File(_) => Ok(()),
            Location::Postgres(t) => t.drop_schema(name),
        }
    }

    pub fn open_with(&self, options: OpenOptions) -> Result<Store> {
        match self {
            Location::File(p) => Store::open_sqlite(p, options),
            Location::Postgres(t) => Store::open_postgres(t.clone(), options),
        }
    }
}

/// The URL (or path) as it may be printed: a password in a `postgres://` URL is removed.
pub fn redact_location(s: &str) -> String {
    pg::redact(s)
}

pub(crate) enum Backend {
    Sqlite(Connection),
    Postgres(pg::PgConn),
}

/// One open store: a SQLite file or a PostgreSQL database, behind the same typed reads and
/// writes (the engine, the pipeline and the dashboard never know which).
pub struct Store {
    backend: Backend,
    location: Location,
    /// The file, or the redacted URL (what messages name).
    path: PathBuf,
    /// The file's identity when it was opened, to notice it deleted or replaced under the open
    /// connection (SQLite would go on writing into the unlinked file, and the write be lost).
    identity: Option<FileIdentity>,
    options: OpenOptions,
    counters: QueryCounters,
    /// Whether opening it created the schema (an empty store, to be seeded).
    created: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) and migrates the store at `path`: a SQLite file, or the
    /// PostgreSQL database of a `postgres://` URL.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Store::open_with(path, OpenOptions::default())
    }

    pub fn open_with(path: impl AsRef<Path>, options: OpenOptions) -> Result<Store> {
        Location::parse(path.as_ref())?.open_with(options)
    }

    fn open_sqlite(path: &Path, options: OpenOptions) -> Result<Store> {
        let path = path.to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Io {
                path: parent.display().to_string(),
                source,
            })?;
        }
        let flags = if options.read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
        };
        let mut conn = Connection::open_with_flags(&path, flags)
            .map_err(|e| classify(&path, options.busy_timeout, e))?;
        let mut store = Store {
            backend: Backend::Sqlite(Connection::open_in_memory()?),
            location: Location::File(path.clone()),
            path: path.clone(),
            identity: None,
            options: options.clone(),
            counters: QueryCounters::default(),
            created: false,
        };
        // The version is read before anything is set: switching a file to WAL rewrites its
        // header, and a file of a newer schema must be left exactly as it was.
        let version = schema_version(&conn, &options).map_err(|e| store.classify(e))?;
        if version > latest_version() {
            return Err(StoreError::NewerSchema {
                found: version,
                supported: latest_version(),
            });
        }
        configure(&mut conn, &options).map_err(|e| store.classify(e))?;
        if !options.read_only {
            migrations::migrate(&mut conn).map_err(|e| match e {
                StoreError::Sql(e) => store.classify(e),
                other => other,
            })?;
            store.created = version == 0;
        }
        store.backend = Backend::Sqlite(conn);
        store.identity = FileIdentity::of(&path);
        Ok(store)
    }

    fn open_postgres(target: std::sync::Arc<pg::PgTarget>, options: OpenOptions) -> Result<Store> {
        let conn = pg::PgConn::open(target.clone())?;
        let timeout = options.busy_timeout.as_millis();
        // A writer waits this long for another's row lock, as SQLite's busy timeout.
        // A reader is read-only as SQLite's read-only connections are: its writes fail.
        let read_only = if options.read_only {
            "; SET default_transaction_read_only = on"
        } else {
            ""
        };
        conn.call(move |s| {
            s.set_lock_timeout_ms(timeout as u64);
            s.set_on_connect(format!("SET lock_timeout = {timeout}{read_only}"))
        })?;
        let created = if options.read_only {
            false
        } else {
            migrations::migrate_postgres(&conn)?
        };
        if options.read_only {
            // Still refuse a newer schema (a reader on it would misread rows).
            migrations::check_postgres_version(&conn)?;
        }
        Ok(Store {
            backend: Backend::Postgres(conn),
            path: PathBuf::from(target.display()),
            location: Location::Postgres(target),
            options,
            counters: QueryCounters::default(),
            created,
            // A server's database, not a file: nothing to check for deletion under us.
            identity: None,
        })
    }

    /// A second connection to the same store, for reads on another thread.
    pub fn open_reader(&self) -> Result<Store> {
        self.location.open_with(OpenOptions {
            read_only: true,
            ..self.options.clone()
        })
    }

    /// The file, or (PostgreSQL) the URL without its password.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where this store lives, to open another connection to it.
    pub fn location(&self) -> &Location {
        &self.location
    }

    pub fn is_postgres(&self) -> bool {
        self.location.is_postgres()
    }

    /// Whether opening this store created its schema (it was empty: the CLI seeds it).
    pub fn was_created(&self) -> bool {
        self.created
    }

    pub fn counters(&self) -> &QueryCounters {
        &self.counters
    }

    /// Raw SQLite connection, for tests and tools that inspect the file (`None` on PostgreSQL).
    pub fn connection(&self) -> Option<&Connection> {
        match &self.backend {
            Backend::Sqlite(c) => Some(c),
            Backend::Postgres(_) => None,
        }
    }

    /// Committed changes, as they happen, from any process writing this store: PostgreSQL
    /// delivers them by `LISTEN`/`NOTIFY`. A SQLite file has no such channel: the receiver
    /// never yields (the dashboard refreshes on its own writes and on `R`).
    pub fn watch_changes(&self) -> Result<tokio::sync::mpsc::UnboundedReceiver<StoreChange>> {
        match &self.location {
            Location::Postgres(t) => pg::listen(t.clone()).map_err(|source| StoreError::Io {
                path: t.display().to_string(),
                source,
            }),
            Location::File(_) => {
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                // Kept open for as long as the receiver lives, so that it never reports "closed".
                std::mem::forget(tx);
                Ok(rx)
            }
        }
    }

    /// Rows of a query, in either backend (`?N` placeholders).
    pub(crate) fn rows(&self, sql: &str, params: &[Val]) -> Result<Vec<Row>> {
        match &self.backend {
            Backend::Sqlite(c) => sqlite::query(c, sql, params).map_err(|e| self.classify(e)),
            Backend::Postgres(p) => p.query(sql, params),
        }
    }

    /// Runs a statement in either backend; returns the rows it changed.
    pub(crate) fn exec(&self, sql: &str, params: &[Val]) -> Result<u64> {
        match &self.backend {
            Backend::Sqlite(c) => sqlite::execute(c, sql, params).map_err(|e| self.classify(e)),
            Backend::Postgres(p) => p.execute(sql, params),
        }
    }

    /// Runs `f` in one write transaction. If `f` fails nothing is written; on success the
    /// revisions of every touched project are bumped, with their deltas, before the commit.
    pub fn write<T>(&mut self, f: impl FnOnce(&mut Writer<'_>) -> Result<T>) -> Result<T> {
        self.write_shared(f)
    }

    /// [`Store::write`] for a caller that holds the store shared: the context engine, which
    /// learns from new messages at the start of a build (see [`crate::memory::learn`]). The
    /// same transaction, commit and revision bumps; only a nested write, which `&mut` rules
    /// out at compile time, fails here at run time (SQLite refuses a transaction within a
    /// transaction; the PostgreSQL backend refuses it likewise) and writes nothing.
    pub fn write_shared<T>(&self, f: impl FnOnce(&mut Writer<'_>) -> Result<T>) -> Result<T> {
        let path = self.path.clone();
        let timeout = self.options.busy_timeout;
        if self.identity.is_some() && FileIdentity::of(&path) != self.identity {
            return Err(StoreError::Moved {
                path: path.display().to_string(),
            });
        }
        let tx = match &self.backend {
            Backend::Sqlite(conn) => writer::Tx::Sqlite(
                rusqlite::Transaction::new_unchecked(
                    conn,
                    rusqlite::TransactionBehavior::Immediate,
                )
                .map_err(|e| classify(&path, timeout, e))?,
            ),
            Backend::Postgres(pg) => {
                pg.call(|s| s.begin("BEGIN"))?;
                writer::Tx::Postgres(pg)
            }
        };
        let mut writer = Writer::new(tx);
        let value = f(&mut writer).map_err(|e| match e {
            StoreError::Sql(e) => classify(&path, timeout, e),
            other => other,
        })?;
        writer.commit().map_err(|e| match e {
            StoreError::Sql(e) => classify(&path, timeout, e),
            other => other,
        })?;
        Ok(value)
    }

    fn classify(&self, e: rusqlite::Error) -> StoreError {
        classify(&self.path, self.options.busy_timeout, e)
    }
}

/// Which file a path names: device and inode on Unix (`None` for a path that names none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileIdentity {
    dev: u64,
    ino: u64,
}

impl FileIdentity {
    #[cfg(unix)]
    fn of(path: &Path) -> Option<FileIdentity> {
        use std::os::unix::fs::MetadataExt as _;
        let m = std::fs::metadata(path).ok()?;
        Some(FileIdentity {
            dev: m.dev(),
            ino: m.ino(),
        })
    }

    #[cfg(not(unix))]
    fn of(path: &Path) -> Option<FileIdentity> {
        path.exists().then_some(FileIdentity { dev: 0, ino: 0 })
    }
}

/// The file's schema version, read without writing anything. A file that is not SQLite fails
/// here with NOTADB.
fn schema_version(conn: &Connection, options: &OpenOptions) -> rusqlite::Result<i64> {
    conn.busy_timeout(options.busy_timeout)?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

fn configure(conn: &mut Connection, options: &OpenOptions) -> rusqlite::Result<()> {
    if !options.read_only {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
    }
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // The query planner stability guarantee: a statement's plan does not depend on the values
    // bound to it. Without it, the bundled SQLite (built with STAT4) marks a statement whose
    // `LIMIT ?` it read as a constant as expired at every new binding and parses it again: the
    // conversation and history re-reads of every incremental update spent most of their time
    // in SQLite's parser. No plan here depends on a bound value (there is no ANALYZE data).
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Turns SQLite's error codes for "not a database" and "busy" into errors a user can act on.
fn classify(path: &Path, timeout: Duration, e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) | Some(ErrorCode::DatabaseCorrupt) => {
            StoreError::NotADatabase {
                path: path.display().to_string(),
                detail: e.to_string(),
            }
        }
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => StoreError::Locked {
            path: path.display().to_string(),
            waited_ms: timeout.as_millis() as u64,
        },
        Some(ErrorCode::DiskFull) => StoreError::Full {
            path: path.display().to_string(),
        },
        // The WAL index (`-shm`) could not be extended: on a full disk, opening fails so.
        Some(ErrorCode::SystemIoFailure)
            if matches!(&e, rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == rusqlite::ffi::SQLITE_IOERR_SHMSIZE) =>
        {
            StoreError::Full {
                path: path.display().to_string(),
            }
        }
        // SQLITE_READONLY_DBMOVED: the file was unlinked or renamed under the open connection.
        Some(ErrorCode::ReadOnly)
            if matches!(&e, rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == rusqlite::ffi::SQLITE_READONLY_DBMOVED) =>
        {
            StoreError::Moved {
                path: path.display().to_string(),
            }
        }
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly {
            path: path.display().to_string(),
        },
        _ => StoreError::Sql(e),
    }
}
