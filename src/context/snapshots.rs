//! Level-2 snapshots written behind the request: a thread with its own connection serialises
//! each base to JSON and writes it to `context_snapshots`, so a request never waits for that
//! (at 10,000 scenes a snapshot is megabytes of JSON).
//!
//! Writes of one key coalesce: a base handed over while an older one of the same key still
//! waits replaces it, so only the newest is written, and a key is written by one thread, in
//! the order its bases were handed over; the writer lets a burst settle for [`SETTLE`] before
//! it writes. Each snapshot is the serialisation of the very
//! (immutable) base it stores, so it never claims a revision other than its content's. The
//! queue is flushed when the writer is dropped (with its engine: a CLI process that exits
//! leaves its snapshot for the next one) and on [`SnapshotWriter::flush`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};

use super::ContextError;
use super::base::BaseContext;
use super::cache::CacheKey;
use super::model::{FullReason, FullScene, full_scene_known_counts};
use super::tokens;
use crate::store::{DerivedMemoryWrite, Location, Store};

/// What the writer did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriterStats {
    /// Bases handed over.
    pub queued: u64,
    /// Snapshots written.
    pub written: u64,
    /// Bases replaced by a newer one of the same key before they were written.
    pub coalesced: u64,
    /// Writes that failed (each logged as a warning: a snapshot only saves a later build work).
    pub failed: u64,
}

struct Job {
    base: Arc<BaseContext>,
    built_at_ms: i64,
}

/// Cache fills a build made beside its base (scene analyses it computed, token counts of a
/// target scene), written behind the request like the snapshots.
#[derive(Default)]
pub struct DerivedWrites {
    pub analyses: Vec<DerivedMemoryWrite>,
    pub token_counts: Vec<(u64, usize)>,
}

impl DerivedWrites {
    pub fn is_empty(&self) -> bool {
        self.analyses.is_empty() && self.token_counts.is_empty()
    }

    fn append(&mut self, mut other: DerivedWrites) {
        self.analyses.append(&mut other.analyses);
        self.token_counts.append(&mut other.token_counts);
    }

    /// Writes them; each failure is a warning (they only save later builds work).
    pub fn write(&self, store: &Store) {
        for analysis in &self.analyses {
            super::base::record_derived_or_warn(store, analysis);
        }
        if let Err(e) = store.record_token_counts(tokens::TOKENIZER, &self.token_counts) {
            tracing::warn!("could not store token counts: {e}");
        }
    }
}

#[derive(Default)]
struct State {
    pending: HashMap<CacheKey, Job>,
    /// Derived writes waiting, in the order they were handed over.
    derived: DerivedWrites,
    /// Jobs taken off `pending` and not yet written.
    writing: usize,
    /// Callers waiting in [`SnapshotWriter::flush`]: the writer does not wait for more then.
    flushing: usize,
    closed: bool,
    stats: WriterStats,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Signalled on a new job, a finished write and on closing.
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic on the writer thread leaves the state as consistent as it was before it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed
            .wait(guard)
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The writer of one database file's snapshots.
pub struct SnapshotWriter {
    path: PathBuf,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl SnapshotWriter {
    /// Starts the writer thread for the store at `location` (its connection opens on the
    /// first write, on that thread).
    pub fn start(location: &Location) -> std::io::Result<SnapshotWriter> {
        let shared = Arc::new(Shared::default());
        let thread = std::thread::Builder::new()
            .name("editscope-snapshots".into())
            .spawn({
                let (shared, location) = (shared.clone(), location.clone());
                move || run(&location, &shared)
            })?;
        Ok(SnapshotWriter {
            path: PathBuf::from(location.display()),
            shared,
            thread: Some(thread),
        })
    }

    /// The store it writes to, as [`Store::path`] names it.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Hands a base over to be written, replacing one of the same key still waiting.
    pub fn submit(&self, key: &CacheKey, base: Arc<BaseContext>, built_at_ms: i64) {
        let mut state = self.shared.lock();
        state.stats.queued += 1;
        if state
            .pending
            .insert(key.clone(), Job { base, built_at_ms })
            .is_some()
        {
            state.stats.coalesced += 1;
        }
        drop(state);
        self.shared.changed.notify_all();
    }

    /// Hands derived writes over, written in the order given.
    pub fn submit_derived(&self, writes: DerivedWrites) {
        if writes.is_empty() {
            return;
        }
        self.shared.lock().derived.append(writes);
        self.shared.changed.notify_all();
    }

    /// Waits until every base and derived write handed over so far is written (or failed).
    pub fn flush(&self) {
        let mut state = self.shared.lock();
        state.flushing += 1;
        self.shared.changed.notify_all();
        while !state.pending.is_empty() || !state.derived.is_empty() || state.writing > 0 {
            state = self.shared.wait(state);
        }
        state.flushing -= 1;
    }

    /// Drops the waiting bases of a project and waits for a write in progress, so that a
    /// snapshot deleted after this is not written again by a base handed over before it.
    pub fn forget_project(&self, project_id: &str) {
        let mut state = self.shared.lock();
        state.pending.retain(|k, _| k.project_id != project_id);
        while state.writing > 0 {
            state = self.shared.wait(state);
        }
    }

    pub fn stats(&self) -> WriterStats {
        self.shared.lock().stats
    }
}

impl Drop for SnapshotWriter {
    /// Writes what is still waiting, then ends the thread.
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.changed.notify_all();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::warn!("the context snapshot writer panicked; some snapshots were not written");
        }
    }
}

/// A snapshot as stored: the base, and the token counts a request served from it needs beyond
/// the base's own, so that serving it in a new process never loads the tokenizer (about 100
/// ms): each scene given in full, as it stands and as the request's target.
#[derive(Serialize)]
struct SnapshotOut<'a> {
    base: &'a BaseContext,
    token_counts: Vec<(u64, usize)>,
}

#[derive(Deserialize)]
struct SnapshotIn {
    base: BaseContext,
    token_counts: Vec<(u64, usize)>,
}

/// The counts [`BaseContext::finish`] looks up: with `relevant`, every scene given in full is
/// counted again, as it is, and the target as the target (its header says so).
fn known_counts(base: &BaseContext) -> Vec<(u64, usize)> {
    if !base.flags.relevant {
        return Vec::new();
    }
    base.context
        .scenes_in_full
        .iter()
        .flat_map(|s| {
            let as_target = FullScene {
                reason: FullReason::Target,
                ..s.clone()
            };
            let mut counts = full_scene_known_counts(s);
            counts.extend(full_scene_known_counts(&as_target));
            counts
        })
        .collect()
}

/// The stored form of a base (see [`SnapshotOut`]).
pub fn encode(base: &BaseContext) -> Result<String, ContextError> {
    let token_counts = known_counts(base);
    serde_json::to_string(&SnapshotOut { base, token_counts }).map_err(ContextError::Json)
}

/// A base from its stored form; the token counts it carries join the process's memo.
pub fn decode(json: &str) -> Result<BaseContext, ContextError> {
    let SnapshotIn { base, token_counts } =
        serde_json::from_str(json).map_err(ContextError::Json)?;
    tokens::remember(&token_counts);
    Ok(base)
}

/// Serialises a base and writes it as the snapshot of `key` (what the writer thread does, and
/// what a build does itself when writes are not behind).
pub fn write_snapshot(
    store: &Store,
    key: &CacheKey,
    base: &BaseContext,
    built_at_ms: i64,
) -> Result<(), ContextError> {
    let json = encode(base)?;
    store.put_snapshot(
        &key.project_id,
        &key.user_id,
        &key.variant,
        base.context.revision,
        built_at_ms,
        &json,
    )?;
    Ok(())
}

/// How long the writer lets a burst of builds coalesce before it writes: back-to-back requests
/// (a script, the bench at time scale 0) would otherwise have it serialise a snapshot per
/// request, competing with them for the CPU and the database's write lock. Nobody waits for
/// it: an edit takes seconds, and a flush or a drop writes at once.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(100);

fn run(location: &Location, shared: &Shared) {
    let mut store: Option<Store> = None;
    loop {
        let (derived, next) = {
            let mut state = shared.lock();
            // A burst settles once, when it wakes the writer; what is left after is written
            // straight on.
            let idle = state.pending.is_empty() && state.derived.is_empty();
            while state.pending.is_empty() && state.derived.is_empty() && !state.closed {
                state = shared.wait(state);
            }
            let settled = std::time::Instant::now() + SETTLE;
            while idle && !state.closed && state.flushing == 0 {
                let Some(left) = settled.checked_duration_since(std::time::Instant::now()) else {
                    break;
                };
                state = shared
                    .changed
                    .wait_timeout(state, left)
                    .map(|(guard, _)| guard)
                    .unwrap_or_else(|e| e.into_inner().0);
            }
            loop {
                let derived = std::mem::take(&mut state.derived);
                let key = state.pending.keys().next().cloned();
                let next = key.and_then(|k| state.pending.remove_entry(&k));
                if next.is_some() || !derived.is_empty() {
                    state.writing += 1;
                    break (derived, next);
                }
                if state.closed {
                    return;
                }
                state = shared.wait(state);
            }
        };
        let opened: Result<&Store, ContextError> = match &mut store {
            Some(s) => Ok(s),
            None => location
                .open()
                .map(|s| &*store.insert(s))
                .map_err(ContextError::from),
        };
        let opened = match opened {
            Ok(s) => {
                if !derived.is_empty() {
                    derived.write(s);
                }
                Ok(s)
            }
            Err(e) => {
                if !derived.is_empty() {
                    tracing::warn!("could not store a build's analyses and token counts: {e}");
                }
                Err(e)
            }
        };
        let result = next.map(|(key, job)| {
            let written = opened.and_then(|s| write_snapshot(s, &key, &job.base, job.built_at_ms));
            // The base is released before waiters wake: a flush returns with no snapshot pinned.
            drop(job);
            (key, written)
        });
        let mut state = shared.lock();
        state.writing -= 1;
        match result {
            Some((_, Ok(()))) => state.stats.written += 1,
            Some((key, Err(e))) => {
                state.stats.failed += 1;
                tracing::warn!(project = %key.project_id, "could not persist a context snapshot: {e}");
            }
            None => {}
        }
        drop(state);
        shared.changed.notify_all();
    }
}
