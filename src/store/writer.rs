//! The one way to write: a transaction that records what it changed and bumps revisions.

use std::collections::{BTreeMap, BTreeSet};

use super::reads::{MEMORY_COLUMNS, SCENE_COLUMNS, memory_from_row, scene_from_row};
use super::sql::{Row, Val, vals};
use super::*;

/// The open transaction of a [`Writer`], in its backend.
pub(super) enum Tx<'c> {
    Sqlite(rusqlite::Transaction<'c>),
    /// `BEGIN` has run on this connection; `COMMIT` or `ROLLBACK` ends it.
    Postgres(&'c pg::PgConn),
}

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

/// A memory entry the engine derived (a scene analysis), with the `updated_at` of the entry it
/// saw when it read memory before deriving it (`None`: there was none). Written later, behind
/// the request, it must not replace an entry written since (a hand-set analysis).
#[derive(Debug, Clone, PartialEq)]
pub struct DerivedMemoryWrite {
    pub write: MemoryWrite,
    pub seen_updated_at: Option<i64>,
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
    tx: Option<Tx<'c>>,
    /// Projects whose row this transaction holds locked (PostgreSQL: `SELECT ... FOR UPDATE`).
    locked: BTreeSet<String>,
    deltas: BTreeMap<String, Vec<ContextDelta>>,
    /// Projects whose `updated_at` this transaction must not move (an import keeps the file's).
    keep_updated_at: BTreeSet<String>,
    now: i64,
}

impl<'c> Writer<'c> {
    pub(super) fn new(tx: Tx<'c>) -> Self {
        Writer {
            tx: Some(tx),
            locked: BTreeSet::new(),
            deltas: BTreeMap::new(),
            keep_updated_at: BTreeSet::new(),
            now: crate::util::now_ms(),
        }
    }

    /// The time this transaction stamps on rows it writes.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Rows of a query inside the transaction (it sees the transaction's own writes).
    pub(super) fn rows(&self, sql: &str, params: &[Val]) -> Result<Vec<Row>> {
        match &self.tx {
            Some(Tx::Sqlite(tx)) => Ok(sqlite::query(tx, sql, params)?),
            Some(Tx::Postgres(pg)) => pg.query(sql, params),
            None => Err(finished()),
        }
    }

    pub(super) fn one<T>(
        &self,
        sql: &str,
        params: &[Val],
        map: impl FnOnce(&mut Row) -> Result<T>,
    ) -> Result<Option<T>> {
        self.rows(sql, params)?
            .into_iter()
            .next()
            .map(|mut r| map(&mut r))
            .transpose()
    }

    pub(super) fn exec(&self, sql: &str, params: &[Val]) -> Result<u64> {
        match &self.tx {
            Some(Tx::Sqlite(tx)) => Ok(sqlite::execute(tx, sql, params)?),
            Some(Tx::Postgres(pg)) => pg.execute(sql, params),
            None => Err(finished()),
        }
    }

    fn is_postgres(&self) -> bool {
        matches!(self.tx, Some(Tx::Postgres(_)))
    }

    /// Takes the project's row lock for the rest of the transaction, so that two writers of
    /// one project run one after the other (PostgreSQL; a SQLite write transaction already
    /// holds the whole file). Returns whether the project exists.
    fn lock_project(&mut self, project_id: &str) -> Result<bool> {
        if !self.is_postgres() {
            return Ok(self
                .one(
                    "SELECT 1 FROM projects WHERE id = ?1",
                    &vals![project_id],
                    |r| r.get::<i64>(0),
                )?
                .is_some());
        }
        if self.locked.contains(project_id) {
            return Ok(true);
        }
        let found = self
            .one(
                "SELECT revision FROM projects WHERE id = ?1 FOR UPDATE",
                &vals![project_id],
                |r| r.get::<i64>(0),
            )?
            .is_some();
        if found {
            self.locked.insert(project_id.to_string());
        }
        Ok(found)
    }

    /// A scene of this transaction's view, by id.
    pub fn find_scene(&self, scene_id: &str) -> Result<Option<Scene>> {
        self.one(
            &format!("SELECT {SCENE_COLUMNS} FROM scenes WHERE id = ?1"),
            &vals![scene_id],
            scene_from_row,
        )
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
        self.one(
            "SELECT revision FROM projects WHERE id = ?1",
            &vals![project_id],
            |r| r.get(0),
        )
    }

    /// Sets a re-created project's revision back to where the deleted one was, so that a
    /// context cached for the old project (in another process) can never match the new one.
    pub fn restore_revision(&mut self, project_id: &str, revision: i64) -> Result<()> {
        self.exec(
            "UPDATE projects SET revision = CASE WHEN revision > ?2 THEN revision ELSE ?2 END
             WHERE id = ?1",
            &vals![project_id, revision],
        )?;
        Ok(())
    }

    fn record(&mut self, project_id: &str, delta: ContextDelta) {
        self.deltas
            .entry(project_id.to_string())
            .or_default()
            .push(delta);
    }

    /// Bumps each touched project's revision once per delta and stores the deltas; on
    /// PostgreSQL the project's row is locked first (a concurrent writer waits, then reads the
    /// revision this one committed: no lost update) and a notification tells listeners.
    pub(super) fn commit(&mut self) -> Result<()> {
        let deltas = std::mem::take(&mut self.deltas);
        for (project_id, deltas) in &deltas {
            if !self.lock_project(project_id)? {
                return Err(StoreError::ProjectNotFound(project_id.clone()));
            }
            let mut revision = self
                .revision_of(project_id)?
                .ok_or_else(|| StoreError::ProjectNotFound(project_id.clone()))?;
            for delta in deltas {
                revision += 1;
                let json = serde_json::to_string(delta).map_err(|source| StoreError::Json {
                    what: "context delta",
                    source,
                })?;
                self.exec(
                    "INSERT INTO context_deltas(project_id, revision, delta_json, created_at)
                     VALUES (?1, ?2, ?3, ?4)",
                    &vals![project_id, revision, json, self.now],
                )?;
            }
            if self.keep_updated_at.contains(project_id) {
                self.exec(
                    "UPDATE projects SET revision = ?2 WHERE id = ?1",
                    &vals![project_id, revision],
                )?;
            } else {
                self.exec(
                    "UPDATE projects SET revision = ?2,
                       updated_at = CASE WHEN updated_at > ?3 THEN updated_at ELSE ?3 END
                     WHERE id = ?1",
                    &vals![project_id, revision, self.now],
                )?;
            }
            // Keep the delta log bounded: older entries can only serve very stale caches.
            self.exec(
                "DELETE FROM context_deltas WHERE project_id = ?1 AND revision <= ?2",
                &vals![project_id, revision - 2_000],
            )?;
            if self.is_postgres() {
                // Delivered to listeners when (and only if) this transaction commits.
                self.exec(
                    "SELECT pg_notify(?1, ?2)",
                    &vals![pg::CHANGES_CHANNEL, format!("{revision} {project_id}")],
                )?;
            }
        }
        match self.tx.take() {
            Some(Tx::Sqlite(tx)) => tx.commit()?,
            Some(Tx::Postgres(pg)) => pg.call(|s| s.commit())?,
            None => return Err(finished()),
        }
        Ok(())
    }

    fn require_project(&mut self, project_id: &str) -> Result<()> {
        if self.lock_project(project_id)? {
            Ok(())
        } else {
            Err(StoreError::ProjectNotFound(project_id.to_string()))
        }
    }

    pub fn insert_project(&mut self, project: &Project) -> Result<()> {
        let exists = self.one(
            "SELECT 1 FROM projects WHERE id = ?1",
            &vals![&project.id],
            |r| r.get::<i64>(0),
        )?;
        if exists.is_some() {
            return Err(StoreError::ProjectExists(project.id.clone()));
        }
        self.exec(
            "INSERT INTO projects(id, user_id, title, created_at, updated_at, revision)
             VALUES (?1, ?2, ?3, ?4, ?5, 0)",
            &vals![
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
        let n = self.exec(
            "UPDATE projects SET title = ?2 WHERE id = ?1",
            &vals![project_id, title],
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
        let n = self.exec("DELETE FROM projects WHERE id = ?1", &vals![project_id])?;
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
        let owner: Option<String> = self.one(
            "SELECT project_id FROM scenes WHERE id = ?1",
            &vals![scene.id],
            |r| r.get(0),
        )?;
        if let Some(owner) = owner.filter(|o| o != &scene.project_id) {
            return Err(StoreError::Invalid {
                what: format!("scene id '{}'", scene.id),
                reason: format!("it already belongs to project '{owner}'"),
            });
        }
        self.exec(
            "INSERT INTO scenes(id, project_id, name, ord, tsx_code, duration_frames, props_json, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT(id) DO UPDATE SET name = excluded.name, ord = excluded.ord,
               tsx_code = excluded.tsx_code, duration_frames = excluded.duration_frames,
               props_json = excluded.props_json, updated_at = excluded.updated_at",
            &vals![
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
            .one(
                "SELECT project_id FROM scenes WHERE id = ?1",
                &vals![scene_id],
                |r| r.get(0),
            )?
            .ok_or_else(|| StoreError::SceneNotFound(scene_id.to_string()))?;
        self.lock_project(&project_id)?;
        self.exec(
            "UPDATE scenes SET tsx_code = ?2, duration_frames = ?3, updated_at = ?4 WHERE id = ?1",
            &vals![scene_id, tsx_code, duration_frames, self.now],
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
            .find_scene(scene_id)?
            .ok_or_else(|| StoreError::SceneNotFound(scene_id.to_string()))?;
        self.lock_project(&scene.project_id)?;
        self.exec("DELETE FROM scenes WHERE id = ?1", &vals![scene_id])?;
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
        Ok(self
            .one(
                "SELECT coalesce(max(ord), 0) + 1 FROM scenes WHERE project_id = ?1",
                &vals![project_id],
                |r| r.get(0),
            )?
            .unwrap_or(1))
    }

    pub fn add_message(&mut self, message: &Message) -> Result<()> {
        self.require_project(&message.project_id)?;
        let urls =
            serde_json::to_string(&message.image_urls).map_err(|source| StoreError::Json {
                what: "message image urls",
                source,
            })?;
        self.exec(
            "INSERT INTO messages(id, project_id, role, content, image_urls_json, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            &vals![
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
        self.exec(
            "INSERT INTO image_analyses(id, project_id, trace_id, image_urls_json, palette_json,
               typography, mood, layout_json, processing_time_ms, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            &vals![
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
        let existing = self.one(
            &format!(
                "SELECT {MEMORY_COLUMNS}
                 FROM project_memory WHERE project_id = ?1 AND memory_type = ?2 AND key = ?3"
            ),
            &vals![write.project_id, write.memory_type.as_str(), write.key],
            memory_from_row,
        )?;
        let outcome = match existing {
            None => {
                self.exec(
                    "INSERT INTO project_memory(project_id, memory_type, key, value, confidence, source_prompt, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                    &vals![
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
                self.exec(
                    "UPDATE project_memory SET value = ?2, confidence = ?3, source_prompt = ?4, updated_at = ?5
                     WHERE id = ?1",
                    &vals![
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
        self.exec(
            "INSERT INTO project_memory(project_id, memory_type, key, value, confidence, source_prompt, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            &vals![
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

    /// Keeps a memory entry of a type editscope does not know, as it came (the newest wins on
    /// the same type and key). Not part of any context: no delta.
    pub fn keep_foreign_memory(&mut self, m: &ForeignMemory) -> Result<()> {
        self.require_project(&m.project_id)?;
        self.exec(
            "INSERT INTO foreign_memory(project_id, memory_type, key, value, confidence, source_prompt, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT(project_id, memory_type, key) DO UPDATE SET
               value = excluded.value, confidence = excluded.confidence,
               source_prompt = excluded.source_prompt, updated_at = excluded.updated_at
             WHERE excluded.updated_at >= foreign_memory.updated_at",
            &vals![
                m.project_id,
                m.memory_type,
                m.key,
                m.value,
                m.confidence,
                m.source_prompt,
                m.created_at,
                m.updated_at
            ],
        )?;
        Ok(())
    }

    /// Removes a memory entry; returns whether one existed.
    pub fn forget_memory(
        &mut self,
        project_id: &str,
        memory_type: MemoryType,
        key: &str,
    ) -> Result<bool> {
        let n = self.exec(
            "DELETE FROM project_memory WHERE project_id = ?1 AND memory_type = ?2 AND key = ?3",
            &vals![project_id, memory_type.as_str(), key],
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
        let id = self.one(
            "INSERT INTO scene_iterations(scene_id, project_id, prompt, operation, code_before, code_after, model, generation_ms, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
            &vals![
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
            |r| r.get::<i64>(0),
        )?
        .ok_or_else(|| StoreError::Decode("INSERT ... RETURNING gave no row".into()))?;
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
        self.one(
            "INSERT INTO edit_runs(project_id, prompt, flags_json, tool, target_scene_id, stage_ms_json, cache_json, tokens_json, outcome, error, created_at, comparison)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) RETURNING id",
            &vals![
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
            |r| r.get::<i64>(0),
        )?
        .ok_or_else(|| StoreError::Decode("INSERT ... RETURNING gave no row".into()))
    }
}

impl Drop for Writer<'_> {
    /// A writer dropped before its commit (a failed write) rolls back; SQLite's transaction
    /// does so on its own drop.
    fn drop(&mut self) {
        if let Some(Tx::Postgres(pg)) = self.tx.take() {
            let _ = pg.call(|s| {
                s.rollback();
                Ok(())
            });
        }
    }
}

fn finished() -> StoreError {
    StoreError::Invalid {
        what: "write".into(),
        reason: "the transaction has already ended".into(),
    }
}
