//! The optimized builder: every optimization behind its own flag, any combination valid, flags
//! read at each build so they can change between two builds.

use std::sync::Arc;

use rand::Rng;

use super::base::{self, AnalysisWork, BaseContext, ReaderPool};
use super::cache::{CacheKey, ContextCache, Lookup};
use super::incremental;
use super::snapshots::DerivedWrites;
use super::stats::*;
use super::{BuildRequest, Built, ContextError, Flags};
use crate::store::Store;

pub struct OptimizedBuilder {
    cache: ContextCache,
    readers: ReaderPool,
    counters: CacheCounters,
    /// Share (0..1) of cached or incremental builds checked against a fresh build.
    pub shadow_rate: f64,
    rng: rand::rngs::StdRng,
}

impl OptimizedBuilder {
    pub fn new(cache: ContextCache, shadow_rate: f64) -> Self {
        use rand::SeedableRng;
        OptimizedBuilder {
            cache,
            readers: ReaderPool::default(),
            counters: CacheCounters::default(),
            shadow_rate: shadow_rate.clamp(0.0, 1.0),
            rng: rand::rngs::StdRng::seed_from_u64(0x5eed),
        }
    }

    pub fn cache(&self) -> &ContextCache {
        &self.cache
    }

    pub fn counters(&self) -> CacheCounters {
        self.counters
    }

    /// A base built from the store with `flags` (no cache involved).
    pub fn build_base(
        &mut self,
        store: &Store,
        project_id: &str,
        flags: Flags,
        clock: &mut StepClock,
        work: &mut AnalysisWork,
    ) -> Result<BaseContext, ContextError> {
        // Read the revision first: a write landing during the reads makes the base look older
        // than it is, which only costs a redundant delta later, never a stale serve.
        let revision = store.project_revision(project_id)?;
        clock.step("revision");
        let rows = base::read_rows(store, &mut self.readers, project_id, flags)?;
        clock.step("read");
        base::assemble(store, rows, flags, revision, clock, work)
    }

    pub fn build(
        &mut self,
        store: &Store,
        request: &BuildRequest<'_>,
        flags: Flags,
    ) -> Result<Built, ContextError> {
        let mut clock = StepClock::start();
        let (q0, r0) = store.counters().snapshot();
        // `memory` first learns from messages written since it last did (another tool writing
        // this database), before the revision is read: what it learns is then in the revision
        // this build checks and serves. One indexed query when there is nothing new.
        if flags.memory {
            crate::memory::learn::catch_up_or_warn(store, request.project_id);
            clock.step("learn");
        }
        // Analyses computed on the way are stored behind the request, by the cache's writer.
        let mut work = AnalysisWork {
            defer_writes: self.cache.writes_behind(),
            ..AnalysisWork::default()
        };
        let mut events = Vec::new();
        let mut deltas_applied = 0;
        let mut cache_level = None;
        let user_id = match request.user_id {
            Some(u) => u.to_string(),
            None => store.get_project(request.project_id)?.user_id,
        };
        let key = CacheKey {
            project_id: request.project_id.to_string(),
            user_id,
            variant: flags.content_variant(),
        };

        let mut served: Option<(Arc<BaseContext>, BuildPath, i64)> = None;
        if flags.cache {
            let current = store.project_revision(request.project_id)?;
            match self.cache.get(store, &key)? {
                Lookup::Found { entry, level } => {
                    let cached_rev = entry.base.context.revision;
                    if cached_rev == current {
                        self.counters.hits += 1;
                        events.push(EngineEvent::CacheHit {
                            level: level.to_string(),
                        });
                        cache_level = Some(level.to_string());
                        served = Some((entry.base, BuildPath::CacheHit, entry.built_at_ms));
                    } else if flags.incremental && cached_rev < current {
                        let deltas = store.deltas_since(request.project_id, cached_rev)?;
                        let complete = deltas.first().is_some_and(|(r, _)| *r == cached_rev + 1)
                            && deltas.last().is_some_and(|(r, _)| *r == current);
                        let mut updated = (*entry.base).clone();
                        let outcome = if complete {
                            incremental::apply(store, &mut updated, &deltas, &mut work)?
                        } else {
                            Err(incremental::NeedsRebuild::Significant(
                                "delta log does not reach back to the cached revision".into(),
                            ))
                        };
                        match outcome {
                            Ok(()) => {
                                updated.context.revision = current;
                                self.counters.incremental_updates += 1;
                                deltas_applied = deltas.len();
                                events.push(EngineEvent::IncrementalApplied {
                                    deltas: deltas.len(),
                                });
                                cache_level = Some(level.to_string());
                                let updated = Arc::new(updated);
                                self.cache.replace(&key, updated.clone(), entry.built_at_ms);
                                served = Some((updated, BuildPath::Incremental, entry.built_at_ms));
                            }
                            Err(reason) => {
                                self.counters.invalidations += 1;
                                events.push(EngineEvent::CacheInvalidated {
                                    reason: format!("{reason:?}"),
                                });
                                self.cache.invalidate(&key);
                            }
                        }
                    } else {
                        self.counters.invalidations += 1;
                        events.push(EngineEvent::CacheInvalidated {
                            reason: format!("revision {cached_rev} -> {current}"),
                        });
                        self.cache.invalidate(&key);
                    }
                }
                Lookup::Miss { expired } => {
                    if expired {
                        self.counters.invalidations += 1;
                        events.push(EngineEvent::CacheInvalidated {
                            reason: "ttl expired".into(),
                        });
                    }
                }
            }
            clock.step("cache");
        }

        let (base, path, stamp) = match served {
            Some(s) => s,
            None => {
                if flags.cache {
                    self.counters.misses += 1;
                    events.push(EngineEvent::CacheMiss);
                }
                // A full build counts tokens: the tokenizer loads while the rows are read.
                super::tokens::preload();
                let base = Arc::new(self.build_base(
                    store,
                    request.project_id,
                    flags,
                    &mut clock,
                    &mut work,
                )?);
                let stamp = if flags.cache {
                    self.cache.put_memory(&key, base.clone())
                } else {
                    0
                };
                (base, BuildPath::Fresh, stamp)
            }
        };
        let (mut context, new_counts) = base.finish_counted(store, request.prompt)?;
        clock.step("target");

        // Shadow verification: a reused context is compared with a fresh build now and then.
        let reused = matches!(path, BuildPath::CacheHit | BuildPath::Incremental);
        let mut final_path = path;
        let mut persisted = false;
        if reused && self.shadow_rate > 0.0 && self.rng.random::<f64>() < self.shadow_rate {
            self.counters.shadow_checks += 1;
            let mut shadow_clock = StepClock::start();
            let mut shadow_work = AnalysisWork::default();
            let fresh = self.build_base(
                store,
                request.project_id,
                flags.fresh(),
                &mut shadow_clock,
                &mut shadow_work,
            )?;
            let fresh_context = fresh.finish(store, request.prompt)?;
            // Compared field by field, so that a difference the rendered text does not show
            // (an id, an order key) is caught and named too.
            let differing = context.differing_sections(&fresh_context);
            if !differing.is_empty() {
                self.counters.shadow_mismatches += 1;
                let sections: Vec<String> = differing.into_iter().map(String::from).collect();
                tracing::warn!(
                    project = request.project_id,
                    path = path.as_str(),
                    ?sections,
                    "shadow verification: a reused context differed from a fresh build; serving the fresh one"
                );
                events.push(EngineEvent::ShadowMismatch { path, sections });
                let fresh = Arc::new(BaseContext { flags, ..fresh });
                let fresh_stamp = self.cache.put_memory(&key, fresh.clone());
                // The fresh base replaces the reused one at both levels, and nothing is written
                // over it below: the reused base just failed the check.
                if let Err(e) = self.cache.persist(store, &key, fresh, fresh_stamp) {
                    tracing::warn!("could not persist a context snapshot: {e}");
                }
                persisted = true;
                context = fresh_context;
                final_path = BuildPath::Fresh;
            }
            clock.step("shadow");
        }

        // The snapshot is handed to the cache's writer thread, which serialises and writes it
        // behind the request; the hand-over is a step of the build, the write is not.
        if flags.cache
            && !persisted
            && matches!(final_path, BuildPath::Fresh | BuildPath::Incremental)
        {
            if let Err(e) = self.cache.persist(store, &key, base, stamp) {
                tracing::warn!("could not persist a context snapshot: {e}");
            }
            clock.step("persist");
        }
        // What the build derived for the store (analyses, a target's token counts) only saves
        // later builds work: handed to the writer, like the snapshot.
        let derived = DerivedWrites {
            analyses: std::mem::take(&mut work.derived),
            token_counts: new_counts,
        };
        if !derived.is_empty() {
            self.cache.write_derived(store, derived);
            clock.step("derived");
        }
        let build_us = clock.total_us();
        if work.computed > 0 {
            events.push(EngineEvent::AnalysisComputed {
                scenes: work.computed,
            });
        }
        let (q1, r1) = store.counters().snapshot();
        Ok(Built {
            context,
            stats: BuildStats {
                path: final_path,
                flags,
                build_us,
                steps: clock.steps,
                queries: q1 - q0,
                rows_read: r1 - r0,
                cache: self.counters,
                cache_level,
                analyses_computed: work.computed,
                analyses_reused: work.reused,
                deltas_applied,
                events,
            },
        })
    }

    /// Puts a base into the in-process cache as is (tests use it to plant a corrupted entry).
    pub fn plant(&self, key: &CacheKey, base: BaseContext) {
        self.cache.put_memory(key, Arc::new(base));
    }

    /// The in-process entry for a key, if any.
    pub fn peek(&self, store: &Store, key: &CacheKey) -> Option<Arc<BaseContext>> {
        match self.cache.get(store, key) {
            Ok(Lookup::Found { entry, .. }) => Some(entry.base),
            _ => None,
        }
    }
}
