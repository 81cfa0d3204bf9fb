//! What one write changed, recorded with the revision bump it caused.
//!
//! The store writes a [`ContextDelta`] row in the same transaction as every revision bump, so the
//! context engine can bring a cached context from revision `r` to `r + k` by applying the `k`
//! deltas in between, even in another process, instead of rebuilding from scratch.

use serde::{Deserialize, Serialize};

/// One change that can alter a built context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ContextDelta {
    /// A scene was created or its code, name, duration or props changed.
    SceneUpserted { scene_id: String },
    /// A scene was deleted.
    SceneDeleted { scene_id: String },
    /// A scene iteration was recorded (the history section changes).
    HistoryAdded { scene_id: String },
    /// A message was added to the conversation.
    MessageAdded { message_id: String },
    /// A project memory entry was written or forgotten.
    MemoryChanged { memory_type: String, key: String },
    /// An image analysis was added.
    ImageAdded { image_id: String },
    /// Anything broader (project title, import of a whole project, scene reordering): a delta
    /// the engine cannot apply piecemeal, so it rebuilds.
    Significant { reason: String },
}

impl ContextDelta {
    /// Whether applying this delta requires a full rebuild rather than an incremental update.
    pub fn is_significant(&self) -> bool {
        matches!(self, ContextDelta::Significant { .. })
    }
}
