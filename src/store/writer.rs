//! The one way to write: a transaction that records what it changed and bumps revisions.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{OptionalExtension, Transaction, params};

use super::reads::memory_from_row;
use super::*;

/// A memory entry to write (the id and timestamps are the store's).
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryWrite {
    pub project_id: String,
    pub memory_type: MemoryType,
    pub key: String,
    pub value: String,
    pub confidence: f64,
    pub source_prompt: String,
    /// When the fact was learned; `None` means now. Imports pass the original time.
    pub learned_at: Option<i64>,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpsertOutcome {
    Inserted,
    Replaced,
    /// The stored value won under the upsert rule and was kept.
    KeptExisting,
}

/// The upsert rule of DESIGN.md section 2: the higher-confidence value is kept, unless the new
/// one is newer and at least as confident.
pub fn memory_upsert_wins(
    old_confidence: f64,
    old_updated_at: i64,
    new_confidence: f64,
    new_updated_at: i64,
) -> bool {
    new_confidence > old_confidence
        || (new_updated_at >= old_updated_at && new_confidence >= old_confidence)
}

pub(super) fn validate_memory(w: &MemoryWrite) -> Result<()> {
    if !(0.0..=1.0).contains(&w.confidence) || w.confidence.is_nan() {
        return Err(StoreError::Invalid {
            what: format!("confidence of {} '{}'", w.memory_type, w.key),
            reason: format!("{} is outside 0..1", w.confidence),
        });
    }
    if w.key.trim().is_empty() {
        return Err(StoreError::Invalid {
            what: format!("{} key", w.memory_type),
            reason: "the key is empty".into(),
        });
    }
    if let Err(e) = crate::limits::MEMORY_VALUE.check(w.value.len()) {
        return Err(StoreError::Invalid {
            what: format!("value of {} '{}'", w.memory_type, w.key),
            reason: e.to_string(),
        });
    }
    Ok(())
}

/// A write transaction. Dropping it without [`Store::write`] committing rolls everything back.
pub struct Writer<'c> {
    tx: Transaction<'c>,
    deltas: BTreeMap<String, Vec<ContextDelta>>,
    /// Projects whose `updated_at` this transaction must not move (an import keeps the file's).
    keep_updated_at: BTreeSet<String>,
    now: i64,
}

impl<'c> Writer<'c> {
    pub(super) fn new(tx: Transaction<'c>) -> Self {
        Writer {
            tx,
            deltas: BTreeMap::new(),
            keep_updated_at: BTreeSet::new(),
            now: crate::util::now_ms(),
        }
    }

    /// The time this transaction stamps on rows it writes.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Replaces the deltas recorded so far for a project by one significant change: a bulk
    /// write (an import) is one revision, and caches rebuild rather than replay it.
    pub fn collapse_deltas(&mut self, project_id: &str, reason: &str) {
        self.deltas.insert(
            project_id.to_string(),
            vec![ContextDelta::Significant {
                reason: reason.to_string(),
            }],
        );
    }

    /// Keeps the project's `updated_at` as written (an import restores the file's timestamps,
    /// so that export then import round-trips exactly); the revision still moves.
    pub fn keep_updated_at(&mut self, project_id: &str) {
        self.keep_updated_at.insert(project_id.to_string());
    }

    /// The project's current revision, if it exists.
    pub fn revision_of(&self, project_id: &str) -> Result<Option<i64>> {
        Ok(self
            .tx
            .query_row(
                "SELECT revision FROM projects WHERE id = ?1",
                params![project_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Sets a re-created project's revision back to where the deleted one was, so that a
    /// context cached for the old project (in another process) can never match the new one.
    pub fn restore_revision(&mut self, project_id: &str, revision: i64) -> Result<()> {
        self.tx.execute(
            "UPDATE projects SET revision = max(revision, ?2) WHERE id = ?1",
            params![project_id, revision],
        )?;
        Ok(())
    }

    fn record(&mut self, project_id: &str, delta: ContextDelta) {
        self.deltas
            .entry(project_id.to_string())
            .or_default()
            .push(delta);
    }

    /// Bumps each touched project's revision once per delta and stores the deltas.
    pub(super) fn commit(self) -> Result<()> {
        for (project_id, deltas) in &self.deltas {
            let mut revision = self
                .revision_of(project_id)?
                .ok_or_else(|| StoreError::ProjectNotFound(project_id.clone()))?;
            for delta in deltas {
                revision += 1;
                let json = serde_json::to_string(delta).map_err(|source| StoreError::Json {
                    what: "context delta",
                    source,
                })?;
                self.tx.execute(
                    "INSERT INTO context_deltas(project_id, revision, delta_json, created_at)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![project_id, revision, json, self.now],
                )?;
            }
            if self.keep_updated_at.contains(project_id) {
                self.tx.execute(
                    "UPDATE projects SET revision = ?2 WHERE id = ?1",
                    params![project_id, revision],
                )?;
            } else {
                self.tx.execute(
                    "UPDATE projects SET revision = ?2, updated_at = max(updated_at, ?3) WHERE id = ?1",
                    params![project_id, revision, self.now],
                )?;
            }
            // Keep the delta log bounded: older entries can only serve very stale caches.
            self.tx.execute(
                "DELETE FROM context_deltas WHERE project_id = ?1 AND revision <= ?2",
                params![project_id, revision - 2_000],
            )?;
        }
        self.tx.commit()?;
        Ok(())
    }

    fn require_project(&self, project_id: &str) -> Result<()> {
        let exists: Option<i64> = self
            .tx
            .query_row(
                "SELECT 1 FROM projects WHERE id = ?1",
                params![project_id],
                |r| r.get(0),
            )
            .optional()?;
        exists
            .map(|_| ())
            .ok_or_else(|| StoreError::ProjectNotFound(project_id.to_string()))
    }

    pub fn insert_project(&mut self, project: &Project) -> Result<()> {
        let exists: Option<i64> = self
            .tx
            .query_row(
                "SELECT 1 FROM projects WHERE id = ?1",
                params![project.id],
                |r| r.get(0),
            )
            .optional()?;
        if exists.is_some() {
            return Err(StoreError::ProjectExists(project.id.clone()));
        }
        self.tx.execute(
            "INSERT INTO projects(id, user_id, title, created_at, updated_at, revision)
             VALUES (?1, ?2, ?3, ?4, ?5, 0)",
            params![
                project.id,
                project.user_id,
                project.title,
                project.created_at,
                project.updated_at
            ],
        )?;
        self.record(
            &project.id,
            ContextDelta::Significant {
                reason: "project created".into(),
            },
        );
        Ok(())
    }

    pub fn update_project_title(&mut self, project_id: &str, title: &str) -> Result<()> {
        let n = self.tx.execute(
            "UPDATE projects SET title = ?2 WHERE id = ?1",
            params![project_id, title],
        )?;
        if n == 0 {
            return Err(StoreError::ProjectNotFound(project_id.to_string()));
        }
        self.record(
            project_id,
            ContextDelta::Significant {
                reason: "project title changed".into(),
            },
        );
        Ok(())
    }

    pub fn delete_project(&mut self, project_id: &str) -> Result<()> {
        let n = self
            .tx
            .execute("DELETE FROM projects WHERE id = ?1", params![project_id])?;
        if n == 0 {
            return Err(StoreError::ProjectNotFound(project_id.to_string()));
        }
        // Nothing left to bump: the project's rows, deltas and snapshots are gone with it.
        self.deltas.remove(project_id);
        Ok(())
    }

    /// Inserts a scene, or replaces every column of the scene with the same id.
    pub fn upsert_scene(&mut self, scene: &Scene) -> Result<()> {
        self.require_project(&scene.project_id)?;
        let owner: Option<String> = self
            .tx
            .query_row(
                "SELECT project_id FROM scenes WHERE id = ?1",
                params![scene.id],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(owner) = owner.filter(|o| o != &scene.project_id) {
            return Err(StoreError::Invalid {
                what: format!("scene id '{}'", scene.id),
                reason: format!("it already belongs to project '{owner}'"),
            });
        }
        self.tx.execute(
            "INSERT INTO scenes(id, project_id, name, ord, tsx_code, duration_frames, props_json, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT(id) DO UPDATE SET name = excluded.name, ord = excluded.ord,
               tsx_code = excluded.tsx_code, duration_frames = excluded.duration_frames,
               props_json = excluded.props_json, updated_at = excluded.updated_at",
            params![
                scene.id,
                scene.project_id,
                scene.name,
                scene.ord,
                scene.tsx_code,
                scene.duration_frames,
                scene.props_json,
                scene.created_at,
                scene.updated_at
            ],
        )?;
        self.record(
            &scene.project_id,
            ContextDelta::SceneUpserted {
                scene_id: scene.id.clone(),
            },
        );
        Ok(())
    }

    /// Replaces a scene's code (and duration), stamping it as changed now.
    pub fn update_scene_code(
        &mut self,
        scene_id: &str,
        tsx_code: &str,
        duration_frames: i64,
    ) -> Result<()> {
        let project_id: String = self
            .tx
            .query_row(
                "SELECT project_id FROM scenes WHERE id = ?1",
                params![scene_id],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| StoreError::SceneNotFound(scene_id.to_string()))?;
        self.tx.execute(
            "UPDATE scenes SET tsx_code = ?2, duration_frames = ?3, updated_at = ?4 WHERE id = ?1",
            params![scene_id, tsx_code, duration_frames, self.now],
        )?;
        self.record(
            &project_id,
            ContextDelta::SceneUpserted {
                scene_id: scene_id.to_string(),
            },
        );
        Ok(())
    }

    /// Deletes a scene and returns it.
    pub fn delete_scene(&mut self, scene_id: &str) -> Result<Scene> {
        let scene = self
            .tx
            .query_row(
                "SELECT id, project_id, name, ord, tsx_code, duration_frames, props_json, created_at, updated_at
                 FROM scenes WHERE id = ?1",
                params![scene_id],
                super::reads::scene_from_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::SceneNotFound(scene_id.to_string()))?;
        self.tx
            .execute("DELETE FROM scenes WHERE id = ?1", params![scene_id])?;
        self.record(
            &scene.project_id,
            ContextDelta::SceneDeleted {
                scene_id: scene_id.to_string(),
            },
        );
        Ok(scene)
    }

    /// The order number after the project's last scene.
    pub fn next_scene_ord(&self, project_id: &str) -> Result<i64> {
        Ok(self.tx.query_row(
            "SELECT coalesce(max(ord), 0) + 1 FROM scenes WHERE project_id = ?1",
            params![project_id],
            |r| r.get(0),
        )?)
    }

    pub fn add_message(&mut self, message: &Message) -> Result<()> {
        self.require_project(&message.project_id)?;
        let urls =
            serde_json::to_string(&message.image_urls).map_err(|source| StoreError::Json {
                what: "message image urls",
                source,
            })?;
        self.tx.execute(
            "INSERT INTO messages(id, project_id, role, content, image_urls_json, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                message.id,
                message.project_id,
                message.role,
                message.content,
                urls,
                message.created_at
            ],
        )?;
        self.record(
            &message.project_id,
            ContextDelta::MessageAdded {
                message_id: message.id.clone(),
            },
        );
        Ok(())
    }

    pub fn add_image_analysis(&mut self, image: &ImageAnalysis) -> Result<()> {
        self.require_project(&image.project_id)?;
        let to_json = |v: &serde_json::Value| v.to_string();
        let urls = serde_json::to_string(&image.image_urls).map_err(|source| StoreError::Json {
            what: "image urls",
            source,
        })?;
        self.tx.execute(
            "INSERT INTO image_analyses(id, project_id, trace_id, image_urls_json, palette_json,
               typography, mood, layout_json, processing_time_ms, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                image.id,
                image.project_id,
                image.trace_id,
                urls,
                to_json(&image.palette),
                image.typography,
                image.mood,
                to_json(&image.layout),
                image.processing_time_ms,
                image.created_at
            ],
        )?;
        self.record(
            &image.project_id,
            ContextDelta::ImageAdded {
                image_id: image.id.clone(),
            },
        );
        Ok(())
    }

    /// Writes a memory entry under the upsert rule. Confidence must be within 0..1.
    pub fn upsert_memory(&mut self, write: &MemoryWrite) -> Result<UpsertOutcome> {
        validate_memory(write)?;
        self.require_project(&write.project_id)?;
        let learned_at = write.learned_at.unwrap_or(self.now);
        let existing = self
            .tx
            .query_row(
                "SELECT id, project_id, memory_type, key, value, confidence, source_prompt, created_at, updated_at
                 FROM project_memory WHERE project_id = ?1 AND memory_type = ?2 AND key = ?3",
                params![write.project_id, write.memory_type.as_str(), write.key],
                memory_from_row,
            )
            .optional()?;
        let outcome = match existing {
            None => {
                self.tx.execute(
                    "INSERT INTO project_memory(project_id, memory_type, key, value, confidence, source_prompt, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                    params![
                        write.project_id,
                        write.memory_type.as_str(),
                        write.key,
                        write.value,
                        write.confidence,
                        write.source_prompt,
                        learned_at
                    ],
                )?;
                UpsertOutcome::Inserted
            }
            Some(old)
                if memory_upsert_wins(
                    old.confidence,
                    old.updated_at,
                    write.confidence,
                    learned_at,
                ) =>
            {
                self.tx.execute(
                    "UPDATE project_memory SET value = ?2, confidence = ?3, source_prompt = ?4, updated_at = ?5
                     WHERE id = ?1",
                    params![
                        old.id,
                        write.value,
                        write.confidence,
                        write.source_prompt,
                        learned_at
                    ],
                )?;
                UpsertOutcome::Replaced
            }
            Some(_) => UpsertOutcome::KeptExisting,
        };
        if outcome != UpsertOutcome::KeptExisting {
            self.record(
                &write.project_id,
                ContextDelta::MemoryChanged {
                    memory_type: write.memory_type.as_str().to_string(),
                    key: write.key.clone(),
                },
            );
        }
        Ok(outcome)
    }

    /// Inserts a memory row exactly as given (import): no upsert rule, timestamps kept.
    pub fn insert_memory_exact(&mut self, entry: &MemoryEntry) -> Result<()> {
        validate_memory(&MemoryWrite {
            project_id: entry.project_id.clone(),
            memory_type: entry.memory_type,
            key: entry.key.clone(),
            value: entry.value.clone(),
            confidence: entry.confidence,
            source_prompt: entry.source_prompt.clone(),
            learned_at: Some(entry.updated_at),
        })?;
        self.tx.execute(
            "INSERT INTO project_memory(project_id, memory_type, key, value, confidence, source_prompt, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                entry.project_id,
                entry.memory_type.as_str(),
                entry.key,
                entry.value,
                entry.confidence,
                entry.source_prompt,
                entry.created_at,
                entry.updated_at
            ],
        )?;
        self.record(
            &entry.project_id,
            ContextDelta::MemoryChanged {
                memory_type: entry.memory_type.as_str().to_string(),
                key: entry.key.clone(),
            },
        );
        Ok(())
    }

    /// Removes a memory entry; returns whether one existed.
    pub fn forget_memory(
        &mut self,
        project_id: &str,
        memory_type: MemoryType,
        key: &str,
    ) -> Result<bool> {
        let n = self.tx.execute(
            "DELETE FROM project_memory WHERE project_id = ?1 AND memory_type = ?2 AND key = ?3",
            params![project_id, memory_type.as_str(), key],
        )?;
        if n > 0 {
            self.record(
                project_id,
                ContextDelta::MemoryChanged {
                    memory_type: memory_type.as_str().to_string(),
                    key: key.to_string(),
                },
            );
        }
        Ok(n > 0)
    }

    /// Records one change to a scene's code (history and undo).
    pub fn add_iteration(&mut self, it: &SceneIteration) -> Result<i64> {
        self.require_project(&it.project_id)?;
        self.tx.execute(
            "INSERT INTO scene_iterations(scene_id, project_id, prompt, operation, code_before, code_after, model, generation_ms, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                it.scene_id,
                it.project_id,
                it.prompt,
                it.operation,
                it.code_before,
                it.code_after,
                it.model,
                it.generation_ms,
                it.created_at
            ],
        )?;
        let id = self.tx.last_insert_rowid();
        self.record(
            &it.project_id,
            ContextDelta::HistoryAdded {
                scene_id: it.scene_id.clone(),
            },
        );
        Ok(id)
    }

    /// Records a profiled edit run. Not context-changing.
    pub fn add_edit_run(&mut self, run: &EditRunRecord) -> Result<i64> {
        self.tx.execute(
            "INSERT INTO edit_runs(project_id, prompt, flags_json, tool, target_scene_id, stage_ms_json, cache_json, tokens_json, outcome, error, created_at, comparison)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                run.project_id,
                run.prompt,
                run.flags_json,
                run.tool,
                run.target_scene_id,
                run.stage_ms_json,
                run.cache_json,
                run.tokens_json,
                run.outcome,
                run.error,
                run.created_at,
                run.comparison
            ],
        )?;
        Ok(self.tx.last_insert_rowid())
    }

    /// Read access inside the transaction (sees this transaction's own writes).
    pub fn conn(&self) -> &rusqlite::Connection {
        &self.tx
    }
}
