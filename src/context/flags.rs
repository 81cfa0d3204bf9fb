//! The six optimizations of the optimized builder, each behind its own flag (DESIGN.md section 3).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Which optimizations are on. All off is the legacy baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Flags {
    /// Preferences and relationships read from project memory, not re-parsed from messages.
    pub memory: bool,
    /// Two-level TTL cache of built contexts keyed by (project, user).
    pub cache: bool,
    /// Scene analyses read from memory when confident (> 0.8) and current, else computed once.
    pub lazy: bool,
    /// A cached context is brought up to date from the store's deltas instead of rebuilt.
    pub incremental: bool,
    /// Independent reads run concurrently.
    pub parallel: bool,
    /// Only the edit target and the two most recent scenes are given in full.
    pub relevant: bool,
}

/// The names of the flags, in display order.
pub const FLAG_NAMES: [&str; 6] = [
    "memory",
    "cache",
    "lazy",
    "incremental",
    "parallel",
    "relevant",
];

impl Flags {
    pub const LEGACY: Flags = Flags {
        memory: false,
        cache: false,
        lazy: false,
        incremental: false,
        parallel: false,
        relevant: false,
    };
    pub const OPTIMIZED: Flags = Flags {
        memory: true,
        cache: true,
        lazy: true,
        incremental: true,
        parallel: true,
        relevant: true,
    };

    /// True when every flag is off: the legacy builder serves.
    pub fn is_legacy(&self) -> bool {
        *self == Flags::LEGACY
    }

    pub fn get(&self, name: &str) -> Option<bool> {
        Some(match name {
            "memory" => self.memory,
            "cache" => self.cache,
            "lazy" => self.lazy,
            "incremental" => self.incremental,
            "parallel" => self.parallel,
            "relevant" => self.relevant,
            _ => return None,
        })
    }

    pub fn set(&mut self, name: &str, on: bool) -> Result<(), FlagError> {
        let slot = match name {
            "memory" => &mut self.memory,
            "cache" => &mut self.cache,
            "lazy" => &mut self.lazy,
            "incremental" => &mut self.incremental,
            "parallel" => &mut self.parallel,
            "relevant" => &mut self.relevant,
            other => return Err(FlagError(other.to_string())),
        };
        *slot = on;
        Ok(())
    }

    pub fn toggle(&mut self, name: &str) -> Result<bool, FlagError> {
        let now = !self.get(name).ok_or_else(|| FlagError(name.to_string()))?;
        self.set(name, now)?;
        Ok(now)
    }

    /// The starting set: `USE_OPTIMIZED_CONTEXT=0` gives legacy, anything else optimized.
    pub fn from_env() -> Flags {
        match std::env::var("USE_OPTIMIZED_CONTEXT")
            .as_deref()
            .map(str::trim)
        {
            Ok("0") | Ok("false") => Flags::LEGACY,
            _ => Flags::OPTIMIZED,
        }
    }

    /// Parses `legacy`, `optimized`, or a list such as `cache,memory,-parallel`.
    ///
    /// A list starts from `base` when it only removes flags (`-parallel`), and from legacy
    /// when it names flags to turn on: `cache,memory` means exactly those two.
    pub fn parse(text: &str, base: Flags) -> Result<Flags, FlagError> {
        let text = text.trim();
        match text {
            "legacy" | "none" => return Ok(Flags::LEGACY),
            "optimized" | "all" => return Ok(Flags::OPTIMIZED),
            _ => {}
        }
        let items: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let any_positive = items
            .iter()
            .any(|i| !i.starts_with('-') && *i != "optimized" && *i != "legacy");
        let mut flags = if any_positive { Flags::LEGACY } else { base };
        for item in items {
            match item {
                "optimized" | "all" => flags = Flags::OPTIMIZED,
                "legacy" | "none" => flags = Flags::LEGACY,
                _ => {
                    let (name, on) = match item.strip_prefix('-') {
                        Some(n) => (n, false),
                        None => (item.strip_prefix('+').unwrap_or(item), true),
                    };
                    flags.set(name, on)?;
                }
            }
        }
        Ok(flags)
    }

    /// Every one of the 64 combinations.
    pub fn all_combinations() -> impl Iterator<Item = Flags> {
        (0u8..64).map(|bits| Flags {
            memory: bits & 1 != 0,
            cache: bits & 2 != 0,
            lazy: bits & 4 != 0,
            incremental: bits & 8 != 0,
            parallel: bits & 16 != 0,
            relevant: bits & 32 != 0,
        })
    }

    /// The flags that change what a context contains (not how fast it is built): part of the
    /// cache key, so a cached context is only served to a build that would produce the same.
    pub fn content_variant(&self) -> String {
        format!(
            "m{}l{}r{}",
            u8::from(self.memory),
            u8::from(self.lazy),
            u8::from(self.relevant)
        )
    }

    /// The same flags with the reuse paths (cache, incremental) off: what a fresh build uses.
    pub fn fresh(&self) -> Flags {
        Flags {
            cache: false,
            incremental: false,
            ..*self
        }
    }
}

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_legacy() {
            return f.write_str("legacy");
        }
        if *self == Flags::OPTIMIZED {
            return f.write_str("optimized");
        }
        let on: Vec<&str> = FLAG_NAMES
            .iter()
            .copied()
            .filter(|n| self.get(n).unwrap_or(false))
            .collect();
        f.write_str(&on.join(","))
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "unknown flag '{0}' (expected legacy, optimized, or a list of memory, cache, lazy, incremental, parallel, relevant, each optionally prefixed with -)"
)]
pub struct FlagError(pub String);
