//! The store tests, the cache tests and key CLI tests run on both backends: a SQLite file and a
//! database on the test binary's PostgreSQL server (see [`crate::pg_server`]).

use std::path::PathBuf;

use editscope::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty store location (a file in a temp dir, or a new PostgreSQL database) and
/// what keeps it alive.
pub struct TestDb {
    /// The `--db` value: a file path or a `postgres://` URL.
    pub db: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestDb {
    pub fn open(&self) -> Store {
        Store::open(&self.db).unwrap_or_else(|e| panic!("open {}: {e}", self.db.display()))
    }
}

impl Backend {
    /// A fresh location; `None` when this backend is not available here (PostgreSQL not
    /// installed, outside CI: the harness said it skipped).
    pub fn fresh(self) -> Option<TestDb> {
        let dir = tempfile::tempdir().unwrap();
        let db = match self {
            Backend::Sqlite => dir.path().join("t.db"),
            Backend::Postgres => PathBuf::from(crate::pg_server::fresh_db("t")?),
        };
        Some(TestDb { db, _dir: dir })
    }
}

impl Backend {
    /// The `--db` of a CLI test: `file` in `dir` (SQLite), or a new database's URL.
    pub fn db_in(self, dir: &std::path::Path, file: &str) -> PathBuf {
        match self {
            Backend::Sqlite => dir.join(file),
            Backend::Postgres => {
                PathBuf::from(crate::pg_server::fresh_db("cli").expect("PostgreSQL is available"))
            }
        }
    }
}

/// Runs `test` once per available backend, naming the backend in a failure.
pub fn each(test: impl Fn(Backend)) {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if backend == Backend::Postgres && crate::pg_server::shared().is_none() {
            continue;
        }
        eprintln!("-- on {backend:?}");
        test(backend);
    }
}
