//! ProjectMemory: typed, persistent memory entries over `project_memory` (DESIGN.md section 2).
//!
//! Preferences, scene relationships, scene analyses and image analyses, each with a confidence
//! in 0..1 and the prompt it was learned from. Writes follow the upsert rule
//! ([`crate::store::memory_upsert_wins`]) and bump the project revision. Stated preferences
//! are learned from every recorded user message ([`learn`]), parsed by [`stated`].

pub mod learn;
pub mod stated;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::store::{MemoryEntry, MemoryType, MemoryWrite, Result, Store, UpsertOutcome};

/// A user preference as the context carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preference {
    pub value: String,
    pub confidence: f64,
    pub source_prompt: String,
}

/// A stored scene analysis: the analysis JSON plus the hash of the code it describes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSceneAnalysis {
    pub content_hash: String,
    /// The [`crate::analysis::ANALYSER_VERSION`] that produced it: an analysis of another
    /// version describes the same code differently and is not trusted. Entries written before
    /// the field existed read as version 0.
    #[serde(default)]
    pub analyser_version: u32,
    pub analysis: serde_json::Value,
}

/// Memory access for one project.
pub struct ProjectMemory<'s> {
    store: &'s mut Store,
    project_id: String,
}

impl<'s> ProjectMemory<'s> {
    pub fn new(store: &'s mut Store, project_id: impl Into<String>) -> Self {
        ProjectMemory {
            store,
            project_id: project_id.into(),
        }
    }

    pub fn get(&self, memory_type: MemoryType, key: &str) -> Result<Option<MemoryEntry>> {
        self.store.get_memory(&self.project_id, memory_type, key)
    }

    pub fn list(&self, memory_type: Option<MemoryType>) -> Result<Vec<MemoryEntry>> {
        self.store.list_memory(&self.project_id, memory_type)
    }

    /// Writes an entry under the upsert rule; confidence outside 0..1 is refused.
    pub fn set(
        &mut self,
        memory_type: MemoryType,
        key: &str,
        value: &str,
        confidence: f64,
        source_prompt: &str,
    ) -> Result<UpsertOutcome> {
        let write = MemoryWrite {
            project_id: self.project_id.clone(),
            memory_type,
            key: key.to_string(),
            value: value.to_string(),
            confidence,
            source_prompt: source_prompt.to_string(),
            learned_at: None,
        };
        self.store.write(|w| w.upsert_memory(&write))
    }

    pub fn forget(&mut self, memory_type: MemoryType, key: &str) -> Result<bool> {
        let project = self.project_id.clone();
        self.store
            .write(|w| w.forget_memory(&project, memory_type, key))
    }

    pub fn preferences(&self) -> Result<BTreeMap<String, Preference>> {
        preferences(self.store, &self.project_id)
    }

    pub fn relationships(&self) -> Result<BTreeMap<String, String>> {
        relationships(self.store, &self.project_id)
    }

    pub fn scene_analysis(&self, scene_id: &str) -> Result<Option<(StoredSceneAnalysis, f64)>> {
        scene_analysis(self.store, &self.project_id, scene_id)
    }

    pub fn image_analyses(&self) -> Result<Vec<MemoryEntry>> {
        self.list(Some(MemoryType::ImageAnalysis))
    }
}

/// User preferences as a map key -> preference.
pub fn preferences(store: &Store, project_id: &str) -> Result<BTreeMap<String, Preference>> {
    Ok(store
        .list_memory(project_id, Some(MemoryType::UserPreference))?
        .into_iter()
        .map(|e| {
            (
                e.key,
                Preference {
                    value: e.value,
                    confidence: e.confidence,
                    source_prompt: e.source_prompt,
                },
            )
        })
        .collect())
}

/// Scene relationships as a map key (e.g. "scene-2->scene-3") -> description.
pub fn relationships(store: &Store, project_id: &str) -> Result<BTreeMap<String, String>> {
    Ok(store
        .list_memory(project_id, Some(MemoryType::SceneRelationship))?
        .into_iter()
        .map(|e| (e.key, e.value))
        .collect())
}

/// The stored analysis of a scene with its confidence; `None` if absent or unreadable.
pub fn scene_analysis(
    store: &Store,
    project_id: &str,
    scene_id: &str,
) -> Result<Option<(StoredSceneAnalysis, f64)>> {
    Ok(scene_analysis_seen(store, project_id, scene_id)?.0)
}

/// A stored analysis with the confidence it was stored with.
pub type StoredWithConfidence = (StoredSceneAnalysis, f64);

/// [`scene_analysis`], with the `updated_at` of the entry as read (whatever its value holds;
/// `None` if there is no entry): a computed analysis written later is stored only over the
/// very entry that was read, never over one written since.
pub fn scene_analysis_seen(
    store: &Store,
    project_id: &str,
    scene_id: &str,
) -> Result<(Option<StoredWithConfidence>, Option<i64>)> {
    let Some(entry) = store.get_memory(project_id, MemoryType::SceneAnalysis, scene_id)? else {
        return Ok((None, None));
    };
    // An entry written by hand may not hold our JSON: treat it as absent, so it is recomputed.
    let analysis = serde_json::from_str::<StoredSceneAnalysis>(&entry.value)
        .ok()
        .map(|a| (a, entry.confidence));
    Ok((analysis, Some(entry.updated_at)))
}
