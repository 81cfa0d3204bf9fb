//! The core engine (DESIGN.md section 3): the `Context` type, the legacy and optimized builders
//! behind one engine, the two-level cache, incremental updates from deltas, relevance, token
//! accounting, context diffs and shadow verification.

mod base;
pub mod cache;
pub mod diff;
mod flags;
mod incremental;
mod legacy;
pub mod model;
mod optimized;
pub mod prefs;
pub mod sections;
mod snapshots;
mod stats;
pub mod target;
pub mod tokens;

pub use base::{BaseContext, TRUST_CONFIDENCE};
pub use cache::{CacheKey, Clock, ContextCache, DEFAULT_TTL};
pub use diff::{ContextDiff, diff};
pub use flags::{FLAG_NAMES, FlagError, Flags};
pub use legacy::LegacyBuilder;
pub use model::*;
pub use optimized::OptimizedBuilder;
pub use snapshots::WriterStats;
pub use stats::*;

use std::collections::HashMap;
use std::time::Duration;

use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("context (de)serialisation failed: {0}")]
    Json(#[source] serde_json::Error),
    #[error("a parallel read worker failed")]
    Worker,
}

/// One request for a context.
#[derive(Debug, Clone, Copy)]
pub struct BuildRequest<'a> {
    pub project_id: &'a str,
    /// The cache is keyed by (project, user); `None` means the project's owner.
    pub user_id: Option<&'a str>,
    /// The user's words: they select the target scene.
    pub prompt: &'a str,
}

/// A context and how it was built.
#[derive(Debug, Clone)]
pub struct Built {
    pub context: Context,
    pub stats: BuildStats,
}

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub ttl: Duration,
    /// Share (0..1) of reused contexts verified against a fresh build.
    pub shadow_rate: f64,
    /// Whether the cache's second level (SQLite snapshots) is used.
    pub persist_snapshots: bool,
    pub clock: Clock,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            ttl: DEFAULT_TTL,
            shadow_rate: 0.0,
            persist_snapshots: true,
            clock: Clock::System,
        }
    }
}

/// The legacy and optimized builders behind one switch. The flags are read at each build, so
/// they can change between two builds with no restart.
pub struct ContextEngine {
    pub flags: Flags,
    legacy: LegacyBuilder,
    optimized: OptimizedBuilder,
    previous: HashMap<String, Context>,
}

impl ContextEngine {
    pub fn new(flags: Flags, options: EngineOptions) -> Self {
        let cache = ContextCache::new(options.ttl, options.clock, options.persist_snapshots);
        ContextEngine {
            flags,
            legacy: LegacyBuilder::default(),
            optimized: OptimizedBuilder::new(cache, options.shadow_rate),
            previous: HashMap::new(),
        }
    }

    /// Builds the context for a request with the current flags; all off means legacy.
    pub fn build(
        &mut self,
        store: &Store,
        request: &BuildRequest<'_>,
    ) -> Result<Built, ContextError> {
        self.build_with(store, request, self.flags)
    }

    pub fn build_with(
        &mut self,
        store: &Store,
        request: &BuildRequest<'_>,
        flags: Flags,
    ) -> Result<Built, ContextError> {
        let built = if flags.is_legacy() {
            self.legacy.build(store, request)?
        } else {
            self.optimized.build(store, request, flags)?
        };
        Ok(built)
    }

    /// Builds, and diffs against the previous context built for the same project.
    pub fn build_and_diff(
        &mut self,
        store: &Store,
        request: &BuildRequest<'_>,
    ) -> Result<(Built, Option<ContextDiff>), ContextError> {
        let built = self.build(store, request)?;
        let diff = self
            .previous
            .get(request.project_id)
            .map(|prev| diff::diff(prev, &built.context));
        self.previous
            .insert(request.project_id.to_string(), built.context.clone());
        Ok((built, diff))
    }

    /// Waits until the context snapshots handed to the writer thread are written (dropping the
    /// engine does too), so that another process or engine finds them.
    pub fn flush_snapshots(&self) {
        self.optimized.cache().flush();
    }

    /// Projects whose last context is kept for the next diff.
    pub fn previous_contexts(&self) -> usize {
        self.previous.len()
    }

    pub fn optimized(&self) -> &OptimizedBuilder {
        &self.optimized
    }

    pub fn optimized_mut(&mut self) -> &mut OptimizedBuilder {
        &mut self.optimized
    }

    pub fn counters(&self) -> CacheCounters {
        self.optimized.counters()
    }

    pub fn set_shadow_rate(&mut self, rate: f64) {
        self.optimized.shadow_rate = rate.clamp(0.0, 1.0);
    }

    /// A fresh build with the given flags (cache and incremental off): the reference that every
    /// reused context must equal.
    pub fn fresh(
        store: &Store,
        request: &BuildRequest<'_>,
        flags: Flags,
    ) -> Result<Built, ContextError> {
        // Always the optimized builder, even when only cache/incremental were on: the reference
        // must be built the same way as what it checks, minus reuse.
        let cache = ContextCache::new(DEFAULT_TTL, Clock::System, false);
        OptimizedBuilder::new(cache, 0.0).build(store, request, flags.fresh())
    }
}
