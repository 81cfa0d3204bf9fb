//! Memory learning (DESIGN.md section 7): every recorded user message is parsed for the
//! preferences it states, and what it states goes into project memory, so that the optimized
//! builder's `memory` knows what the legacy builder finds by re-parsing the whole history.
//!
//! One place, three callers, one rule:
//! - `import` (and the seeding of the demo projects) learns from the imported messages in the
//!   import's transaction;
//! - the pipeline learns from the message it records, in the transaction that records it,
//!   whatever the outcome;
//! - the optimized builder with `memory` first catches up with messages written after the
//!   watermark (by another tool writing the same database), before it reads the revision.
//!
//! Each message is learned once, oldest first in the order (`created_at`, `id`): each stated
//! preference is upserted with the message as its source prompt, the parser's confidence
//! ([`PARSED_CONFIDENCE`]; the pipeline's own request may give another) and the message's
//! time as `learned_at`, under the upsert rule of DESIGN.md section 2
//! ([`crate::store::memory_upsert_wins`]): an entry that is more confident, or newer and as
//! confident, is never overridden. Since the legacy parser lets a later statement win and the
//! upsert rule lets a newer, as confident value win, memory then holds, for every key the
//! legacy builder parses, its value, unless memory has an entry more confident or newer.
//!
//! The watermark ([`crate::store::MemoryWatermark`]) moves past every message read, in the
//! same transaction as the upserts: learning is all or nothing. Preference upserts bump the
//! revision as every memory write does (caches see them); moving the watermark alone does not.

use serde::Serialize;

use super::stated::{self, PARSED_CONFIDENCE};
use crate::store::{MemoryType, MemoryWrite, Store, StoreError, UpsertOutcome, Writer};

/// One preference a message stated, and what the upsert did with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LearnedPreference {
    pub key: String,
    pub value: String,
    pub confidence: f64,
    pub message_id: String,
    pub outcome: UpsertOutcome,
}

/// What one learning pass did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Learned {
    /// Messages read after the watermark (of every role: the watermark moves past all).
    pub messages: usize,
    /// Every stated preference, in the order learned, with its upsert outcome.
    pub preferences: Vec<LearnedPreference>,
}

impl Learned {
    /// Whether an upsert changed memory (and so bumped the revision).
    pub fn changed_memory(&self) -> bool {
        self.preferences
            .iter()
            .any(|p| p.outcome != UpsertOutcome::KeptExisting)
    }
}

/// A message whose stated preferences get another confidence than the parser's: the
/// pipeline's request, stated to the editor in the very run that records it.
#[derive(Debug, Clone, Copy)]
pub struct Stated<'a> {
    pub message_id: &'a str,
    pub confidence: f64,
}

/// Learns from every message of the project after the watermark (all of them if it has none),
/// inside `w`'s transaction, and moves the watermark to the last one.
pub fn learn_new(
    w: &mut Writer<'_>,
    project_id: &str,
    request: Option<Stated<'_>>,
) -> Result<Learned, StoreError> {
    let messages = w.messages_after_watermark(project_id)?;
    let mut learned = Learned {
        messages: messages.len(),
        preferences: Vec::new(),
    };
    for m in messages.iter().filter(|m| m.role == "user") {
        let confidence = match request {
            Some(s) if s.message_id == m.id => s.confidence,
            _ => PARSED_CONFIDENCE,
        };
        for (key, value) in stated::stated_in(&m.content) {
            let outcome = w.upsert_memory(&MemoryWrite {
                project_id: project_id.to_string(),
                memory_type: MemoryType::UserPreference,
                key: key.to_string(),
                value: value.clone(),
                confidence,
                source_prompt: m.content.clone(),
                learned_at: Some(m.created_at),
            })?;
            learned.preferences.push(LearnedPreference {
                key: key.to_string(),
                value,
                confidence,
                message_id: m.id.clone(),
                outcome,
            });
        }
    }
    if let Some(last) = messages.last() {
        w.advance_memory_watermark(project_id, last.created_at, &last.id)?;
    }
    Ok(learned)
}

/// Learns from the messages written since the watermark, in one write transaction of its
/// own. When there are none (the usual case) it costs one indexed query and writes nothing.
pub fn catch_up(store: &Store, project_id: &str) -> Result<Learned, StoreError> {
    if store.messages_after_watermark(project_id)?.is_empty() {
        return Ok(Learned::default());
    }
    // Read again under the write lock: another process may have learned them meanwhile, and
    // then there is nothing left to do.
    store.write_shared(|w| learn_new(w, project_id, None))
}

/// The builder's hook: [`catch_up`], a failure (a locked or read-only database) logged as a
/// warning rather than failing the build, which then serves what memory holds.
pub fn catch_up_or_warn(store: &Store, project_id: &str) -> Learned {
    match catch_up(store, project_id) {
        Ok(learned) => {
            if learned.messages > 0 {
                tracing::debug!(
                    project = project_id,
                    messages = learned.messages,
                    preferences = learned.preferences.len(),
                    "memory learned from new messages"
                );
            }
            learned
        }
        Err(e) => {
            tracing::warn!(
                project = project_id,
                "memory could not learn from new messages, the context may lack preferences they state: {e}"
            );
            Learned::default()
        }
    }
}
