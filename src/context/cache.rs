//! The two-level cache of built bases, keyed by (project, user) and the content flags.
//!
//! Level 1 is in-process (moka); level 2 is the `context_snapshots` table in the same SQLite
//! file, so a new process (a CLI call, a restarted dashboard) starts warm. An entry of either
//! level is served only while its TTL runs and only for the revision it was built at; an older
//! revision can be brought forward by the incremental path, never served as is.
//!
//! Level 2 is written behind the request by a [`SnapshotWriter`] (its own thread and
//! connection); [`ContextCache::flush`] waits for it, and dropping the cache flushes it.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::ContextError;
use super::base::BaseContext;
use super::snapshots::{DerivedWrites, SnapshotWriter, WriterStats, write_snapshot};
use crate::store::Store;

/// The default time to live of a cached context (the seed's 5 minutes).
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

/// Wall-clock milliseconds, replaceable in tests so TTL expiry needs no sleeping.
#[derive(Debug, Clone)]
pub enum Clock {
    System,
    Manual(Arc<AtomicI64>),
}

impl Clock {
    pub fn manual(start_ms: i64) -> Clock {
        Clock::Manual(Arc::new(AtomicI64::new(start_ms)))
    }
    pub fn now_ms(&self) -> i64 {
        match self {
            Clock::System => crate::util::now_ms(),
            Clock::Manual(t) => t.load(Ordering::Relaxed),
        }
    }
    /// Moves a manual clock forward (no effect on the system clock).
    pub fn advance(&self, by: Duration) {
        if let Clock::Manual(t) = self {
            t.fetch_add(by.as_millis() as i64, Ordering::Relaxed);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub project_id: String,
    pub user_id: String,
    /// [`super::Flags::content_variant`]
    pub variant: String,
}

/// A cached base and when it was built.
#[derive(Debug, Clone)]
pub struct CacheEntry {
    pub base: Arc<BaseContext>,
    pub built_at_ms: i64,
}

/// What a lookup found.
pub enum Lookup {
    /// Nothing usable (absent, expired or unreadable).
    Miss { expired: bool },
    /// An entry; `level` is `memory` or `sqlite`.
    Found {
        entry: CacheEntry,
        level: &'static str,
    },
}

pub struct ContextCache {
    memory: moka::sync::Cache<CacheKey, CacheEntry>,
    ttl: Duration,
    clock: Clock,
    /// Whether level 2 (SQLite snapshots) is used.
    pub persist: bool,
    /// Whether snapshots are written behind the request (the default) or by the build itself.
    write_behind: AtomicBool,
    /// Started on the first snapshot write, for that store's file; `None` if no thread could
    /// be started (then the build writes its snapshots itself).
    writer: OnceLock<Option<SnapshotWriter>>,
}

impl ContextCache {
    pub fn new(ttl: Duration, clock: Clock, persist: bool) -> Self {
        ContextCache {
            // moka evicts by size and, as a backstop, by TTL; freshness is decided in `get`
            // against `clock`, so tests can move time.
            memory: moka::sync::Cache::builder()
                .max_capacity(256)
                .support_invalidation_closures()
                .time_to_live(ttl.max(Duration::from_millis(1)) * 2)
                .build(),
            ttl,
            clock,
            persist,
            write_behind: AtomicBool::new(true),
            writer: OnceLock::new(),
        }
    }

    /// Snapshots written behind the request (`true`, the default) or within the build (for
    /// measuring what writing behind saves).
    pub fn set_write_behind(&self, on: bool) {
        if !on {
            self.flush();
        }
        self.write_behind.store(on, Ordering::Relaxed);
    }

    /// Waits until every snapshot handed to the writer is written.
    pub fn flush(&self) {
        if let Some(Some(writer)) = self.writer.get() {
            writer.flush();
        }
    }

    /// What the snapshot writer did so far (all zero before its first snapshot).
    pub fn writer_stats(&self) -> WriterStats {
        match self.writer.get() {
            Some(Some(writer)) => writer.stats(),
            _ => WriterStats::default(),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Entries in the in-process level now (after moka's pending evictions).
    pub fn memory_entries(&self) -> u64 {
        self.memory.run_pending_tasks();
        self.memory.entry_count()
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    fn expired(&self, built_at_ms: i64) -> bool {
        self.clock.now_ms().saturating_sub(built_at_ms) >= self.ttl.as_millis() as i64
    }

    /// Looks in memory, then in SQLite.
    pub fn get(&self, store: &Store, key: &CacheKey) -> Result<Lookup, ContextError> {
        if let Some(entry) = self.memory.get(key) {
            if self.expired(entry.built_at_ms) {
                self.memory.invalidate(key);
                return Ok(Lookup::Miss { expired: true });
            }
            return Ok(Lookup::Found {
                entry,
                level: "memory",
            });
        }
        if !self.persist {
            return Ok(Lookup::Miss { expired: false });
        }
        let Some((_revision, built_at_ms, json)) =
            store.get_snapshot(&key.project_id, &key.user_id, &key.variant)?
        else {
            return Ok(Lookup::Miss { expired: false });
        };
        if self.expired(built_at_ms) {
            return Ok(Lookup::Miss { expired: true });
        }
        // A snapshot from another version of editscope may not parse: treat it as a miss.
        // One that does brings the token counts a request served from it needs.
        let Ok(mut base) = super::snapshots::decode(&json) else {
            tracing::warn!(project = %key.project_id, "ignoring an unreadable context snapshot");
            return Ok(Lookup::Miss { expired: false });
        };
        base.reindex();
        let entry = CacheEntry {
            base: Arc::new(base),
            built_at_ms,
        };
        self.memory.insert(key.clone(), entry.clone());
        Ok(Lookup::Found {
            entry,
            level: "sqlite",
        })
    }

    /// Stores a base in memory, stamped now; returns its stamp.
    pub fn put_memory(&self, key: &CacheKey, base: Arc<BaseContext>) -> i64 {
        let built_at_ms = self.clock.now_ms();
        self.memory
            .insert(key.clone(), CacheEntry { base, built_at_ms });
        built_at_ms
    }

    /// Replaces the base of an entry, keeping its stamp (an incremental update does not make
    /// the entry younger: the TTL bounds how long any cached state is trusted).
    pub fn replace(&self, key: &CacheKey, base: Arc<BaseContext>, built_at_ms: i64) {
        self.memory
            .insert(key.clone(), CacheEntry { base, built_at_ms });
    }

    /// Writes an entry to SQLite (level 2): hands it to the writer thread, or, when writes are
    /// not behind (or the writer serves another file), writes it now.
    pub fn persist(
        &self,
        store: &Store,
        key: &CacheKey,
        base: Arc<BaseContext>,
        built_at_ms: i64,
    ) -> Result<(), ContextError> {
        if !self.persist {
            return Ok(());
        }
        if self.write_behind.load(Ordering::Relaxed)
            && let Some(writer) = self.writer(store)
        {
            writer.submit(key, base, built_at_ms);
            return Ok(());
        }
        write_snapshot(store, key, &base, built_at_ms)
    }

    /// Whether [`Self::write_derived`] writes behind the request (level 2 on, writes behind).
    pub fn writes_behind(&self) -> bool {
        self.persist && self.write_behind.load(Ordering::Relaxed)
    }

    /// Writes what a build derived for the store (analyses, token counts): handed to the
    /// writer thread when writes are behind and it serves this store, else written now.
    pub fn write_derived(&self, store: &Store, writes: DerivedWrites) {
        if writes.is_empty() {
            return;
        }
        if self.writes_behind()
            && let Some(writer) = self.writer(store)
        {
            writer.submit_derived(writes);
            return;
        }
        writes.write(store);
    }

    /// The writer thread, started on first use for `store`'s file; `None` if it cannot start
    /// or serves another file.
    fn writer(&self, store: &Store) -> Option<&SnapshotWriter> {
        self.writer
            .get_or_init(|| {
                SnapshotWriter::start(store.location())
                    .inspect_err(|e| {
                        tracing::warn!(
                            "no snapshot writer thread ({e}): snapshots are written inline"
                        )
                    })
                    .ok()
            })
            .as_ref()
            .filter(|w| w.path() == store.path())
    }

    pub fn invalidate(&self, key: &CacheKey) {
        self.memory.invalidate(key);
    }

    /// Drops both levels for a project.
    pub fn clear(&self, store: &Store, project_id: &str) -> Result<(), ContextError> {
        let project = project_id.to_string();
        let _ = self
            .memory
            .invalidate_entries_if(move |k, _| k.project_id == project);
        // A snapshot handed to the writer before the clear must not be written after it.
        if let Some(Some(writer)) = self.writer.get() {
            writer.forget_project(project_id);
        }
        store.clear_snapshots(project_id)?;
        Ok(())
    }
}
