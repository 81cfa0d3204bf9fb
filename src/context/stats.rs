//! What a build reports beside its context: path, counters, timings, tokens.

use serde::{Deserialize, Serialize};

use super::Flags;

/// Which path served a context (`context --json` field `path`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildPath {
    /// The legacy builder.
    Legacy,
    /// The optimized builder built from the store.
    Fresh,
    /// A cached context, still current, served as is.
    CacheHit,
    /// A cached context brought up to date from deltas.
    Incremental,
}

impl BuildPath {
    pub fn as_str(self) -> &'static str {
        match self {
            BuildPath::Legacy => "legacy",
            BuildPath::Fresh => "fresh",
            BuildPath::CacheHit => "cache_hit",
            BuildPath::Incremental => "incremental",
        }
    }
}

/// Cumulative cache counters of one engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CacheCounters {
    pub hits: u64,
    pub misses: u64,
    /// Entries found but not servable: built before a significant change, or expired.
    pub invalidations: u64,
    /// Cached entries brought up to date from deltas.
    pub incremental_updates: u64,
    /// Shadow verifications run, and how many found a difference.
    pub shadow_checks: u64,
    pub shadow_mismatches: u64,
}

impl CacheCounters {
    pub fn hit_rate(&self) -> f64 {
        let served = self.hits + self.incremental_updates;
        let total = served + self.misses;
        if total == 0 {
            0.0
        } else {
            served as f64 / total as f64
        }
    }
}

/// Time of one sub-step of a build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepTiming {
    pub name: String,
    pub us: u64,
}

/// Something the engine noticed during a build, for the event stream and the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EngineEvent {
    CacheHit {
        level: String,
    },
    CacheMiss,
    CacheInvalidated {
        reason: String,
    },
    IncrementalApplied {
        deltas: usize,
    },
    ShadowMismatch {
        path: BuildPath,
        sections: Vec<String>,
    },
    AnalysisComputed {
        scenes: usize,
    },
}

/// Statistics returned with every context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildStats {
    pub path: BuildPath,
    pub flags: Flags,
    pub build_us: u64,
    pub steps: Vec<StepTiming>,
    pub queries: u64,
    pub rows_read: u64,
    /// The engine's counters after this build.
    pub cache: CacheCounters,
    /// Which cache level served (`memory` or `sqlite`), for a hit or incremental build.
    pub cache_level: Option<String>,
    pub analyses_computed: usize,
    pub analyses_reused: usize,
    pub deltas_applied: usize,
    pub events: Vec<EngineEvent>,
}

/// Collects step timings and store counters during one build.
pub struct StepClock {
    started: std::time::Instant,
    last: std::time::Instant,
    pub steps: Vec<StepTiming>,
}

impl StepClock {
    pub fn start() -> Self {
        let now = std::time::Instant::now();
        StepClock {
            started: now,
            last: now,
            steps: Vec::new(),
        }
    }

    /// Ends the current step under `name`.
    pub fn step(&mut self, name: &str) {
        let now = std::time::Instant::now();
        self.steps.push(StepTiming {
            name: name.to_string(),
            us: now.duration_since(self.last).as_micros() as u64,
        });
        self.last = now;
    }

    pub fn total_us(&self) -> u64 {
        self.started.elapsed().as_micros() as u64
    }
}
