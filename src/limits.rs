//! The sizes editscope accepts (README, "Limits"): the one place that defines them.
//!
//! Data is checked where it enters (the import reader, `memory set`, the prompt of `edit`,
//! `ab` and the dashboard, the session reader, the model's code edit), never deep inside: a
//! refused input writes nothing. Each limit leaves room to spare over what the demo and
//! generated projects hold (a generated scene is at most ~3.3 KB of code, a 10,000-scene
//! generated project exports to ~30 MB) and over real scenes of the editor (tens of KB).

use std::fmt;

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Items,
}

/// One documented limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// What is limited, as the README's table names it.
    pub name: &'static str,
    pub max: usize,
    pub unit: Unit,
}

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// An import file (`import FILE.json`), as bytes on disk.
pub const IMPORT_FILE: Limit = Limit {
    name: "import file",
    max: 128 * MIB,
    unit: Unit::Bytes,
};

/// One scene's TSX code: imported, or written by a model's code edit. A legacy build reads
/// every scene in full, so this bounds its time too (the 10 MB scene took 5.3 s).
pub const SCENE_CODE: Limit = Limit {
    name: "scene code",
    max: 256 * KIB,
    unit: Unit::Bytes,
};

/// One chat message's content.
pub const MESSAGE: Limit = Limit {
    name: "message",
    max: 64 * KIB,
    unit: Unit::Bytes,
};

/// Scenes in one project (the generator's maximum too).
pub const SCENES: Limit = Limit {
    name: "scenes per project",
    max: 10_000,
    unit: Unit::Items,
};

/// One memory entry's value.
pub const MEMORY_VALUE: Limit = Limit {
    name: "memory value",
    max: 16 * KIB,
    unit: Unit::Bytes,
};

/// One edit's prompt. It is recorded as a user message, so it stays under [`MESSAGE`].
pub const PROMPT: Limit = Limit {
    name: "prompt",
    max: 32 * KIB,
    unit: Unit::Bytes,
};

/// One line of a session file. The header line holds the whole project (up to an
/// [`IMPORT_FILE`]) and a run line the prompts as sent: a legacy prompt of a 10,000-scene
/// project is ~30 MB, and a run holds two.
pub const SESSION_LINE: Limit = Limit {
    name: "session file line",
    max: 256 * MIB,
    unit: Unit::Bytes,
};

/// Every limit, in the README's order.
pub const ALL: [Limit; 7] = [
    IMPORT_FILE,
    SCENE_CODE,
    MESSAGE,
    SCENES,
    MEMORY_VALUE,
    PROMPT,
    SESSION_LINE,
];

impl Limit {
    /// `Ok` if `found` is within the limit, else what was found against it.
    pub fn check(self, found: usize) -> Result<(), Exceeded> {
        if found > self.max {
            Err(Exceeded { limit: self, found })
        } else {
            Ok(())
        }
    }

    /// The maximum as a person reads it: `256 KiB`, `10000 scenes per project`.
    pub fn shown(self) -> String {
        match self.unit {
            Unit::Items => format!("{}", self.max),
            Unit::Bytes => bytes_shown(self.max),
        }
    }
}

fn bytes_shown(n: usize) -> String {
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= KIB && n.is_multiple_of(KIB) {
        format!("{} KiB", n / KIB)
    } else {
        format!("{n} bytes")
    }
}

/// A size over a limit; shown as `10485760 bytes, over the scene code limit of 256 KiB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub struct Exceeded {
    pub limit: Limit,
    pub found: usize,
}

impl fmt::Display for Exceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let found = match self.limit.unit {
            Unit::Bytes => format!("{} bytes", self.found),
            Unit::Items => format!("{}", self.found),
        };
        write!(
            f,
            "{found}, over the {} limit of {}",
            self.limit.name,
            self.limit.shown()
        )
    }
}
