//! Typed read queries. Reads never bump a revision; each one records its query and row count.
//! Every query is one text for both backends (see [`super::sql`]).

use super::sql::{Row, Val, vals};
use super::*;

pub(super) fn scene_from_row(r: &mut Row) -> Result<Scene> {
    Ok(Scene {
        id: r.get(0)?,
        project_id: r.get(1)?,
        name: r.get(2)?,
        ord: r.get(3)?,
        tsx_code: r.get(4)?,
        duration_frames: r.get(5)?,
        props_json: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
    })
}

pub(super) const SCENE_COLUMNS: &str =
    "id, project_id, name, ord, tsx_code, duration_frames, props_json, created_at, updated_at";

pub(super) fn memory_from_row(r: &mut Row) -> Result<MemoryEntry> {
    let memory_type: String = r.get(2)?;
    let memory_type = memory_type
        .parse::<MemoryType>()
        .map_err(StoreError::Decode)?;
    Ok(MemoryEntry {
        id: r.get(0)?,
        project_id: r.get(1)?,
        memory_type,
        key: r.get(3)?,
        value: r.get(4)?,
        confidence: r.get(5)?,
        source_prompt: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
    })
}

/// Maps a row of [`MESSAGE_COLUMNS`].
pub(super) fn message_from_row(r: &mut Row) -> Result<Message> {
    Ok(Message {
        id: r.get(0)?,
        project_id: r.get(1)?,
        role: r.get(2)?,
        content: r.get(3)?,
        image_urls: json_list(r.get(4)?, "messages.image_urls_json")?,
        created_at: r.get(5)?,
    })
}

pub(super) const MESSAGE_COLUMNS: &str =
    "id, project_id, role, content, image_urls_json, created_at";

pub(super) const MEMORY_COLUMNS: &str =
    "id, project_id, memory_type, key, value, confidence, source_prompt, created_at, updated_at";

const ITERATION_COLUMNS: &str =
    "id, scene_id, project_id, prompt, operation, code_before, code_after, model,
                    generation_ms, created_at";

fn json_list(text: String, what: &'static str) -> Result<Vec<String>> {
    serde_json::from_str(&text).map_err(|source| StoreError::Json { what, source })
}

fn json_value(text: String, what: &'static str) -> Result<serde_json::Value> {
    serde_json::from_str(&text).map_err(|source| StoreError::Json { what, source })
}

fn iteration_from_row(r: &mut Row) -> Result<SceneIteration> {
    Ok(SceneIteration {
        id: r.get(0)?,
        scene_id: r.get(1)?,
        project_id: r.get(2)?,
        prompt: r.get(3)?,
        operation: r.get(4)?,
        code_before: r.get(5)?,
        code_after: r.get(6)?,
        model: r.get(7)?,
        generation_ms: r.get(8)?,
        created_at: r.get(9)?,
    })
}

impl Store {
    pub(super) fn collect<T>(
        &self,
        sql: &str,
        params: &[Val],
        mut map: impl FnMut(&mut Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        let rows = self.rows(sql, params)?;
        self.counters.record(rows.len());
        rows.into_iter().map(|mut r| map(&mut r)).collect()
    }

    pub(super) fn one<T>(
        &self,
        sql: &str,
        params: &[Val],
        map: impl FnOnce(&mut Row) -> Result<T>,
    ) -> Result<Option<T>> {
        let row = self.rows(sql, params)?.into_iter().next();
        self.counters.record(usize::from(row.is_some()));
        row.map(|mut r| map(&mut r)).transpose()
    }

    pub fn list_projects(&self) -> Result<Vec<ProjectSummary>> {
        self.collect(
            &format!(
                "SELECT p.id, p.title, p.user_id, p.revision,
                    (SELECT count(*) FROM scenes s WHERE s.project_id = p.id),
                    (SELECT count(*) FROM messages m WHERE m.project_id = p.id),
                    (SELECT count(*) FROM project_memory pm WHERE pm.project_id = p.id)
             FROM projects p ORDER BY p.created_at, p.{}",
                // Insertion order breaks ties: SQLite's rowid, PostgreSQL's `seq` column.
                if self.is_postgres() { "seq" } else { "rowid" }
            ),
            &[],
            |r| {
                Ok(ProjectSummary {
                    id: r.get(0)?,
                    title: r.get(1)?,
                    user_id: r.get(2)?,
                    revision: r.get(3)?,
                    scenes: r.get::<i64>(4)? as u64,
                    messages: r.get::<i64>(5)? as u64,
                    memory_entries: r.get::<i64>(6)? as u64,
                })
            },
        )
    }

    pub fn get_project(&self, project_id: &str) -> Result<Project> {
        self.one(
            "SELECT id, user_id, title, created_at, updated_at FROM projects WHERE id = ?1",
            &vals![project_id],
            |r| {
                Ok(Project {
                    id: r.get(0)?,
                    user_id: r.get(1)?,
                    title: r.get(2)?,
                    created_at: r.get(3)?,
                    updated_at: r.get(4)?,
                })
            },
        )?
        .ok_or_else(|| StoreError::ProjectNotFound(project_id.to_string()))
    }

    /// The project's revision: one indexed lookup, cheap enough to check on every cache hit.
    pub fn project_revision(&self, project_id: &str) -> Result<i64> {
        self.one(
            "SELECT revision FROM projects WHERE id = ?1",
            &vals![project_id],
            |r| r.get(0),
        )?
        .ok_or_else(|| StoreError::ProjectNotFound(project_id.to_string()))
    }

    /// Every scene with its full code, in order.
    pub fn list_scenes(&self, project_id: &str) -> Result<Vec<Scene>> {
        self.collect(
            &format!("SELECT {SCENE_COLUMNS} FROM scenes WHERE project_id = ?1 ORDER BY ord, id"),
            &vals![project_id],
            scene_from_row,
        )
    }

    /// Every scene without its code, in order.
    pub fn list_scene_meta(&self, project_id: &str) -> Result<Vec<SceneMeta>> {
        self.collect(
            "SELECT id, name, ord, duration_frames, updated_at FROM scenes
             WHERE project_id = ?1 ORDER BY ord, id",
            &vals![project_id],
            |r| {
                Ok(SceneMeta {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    ord: r.get(2)?,
                    duration_frames: r.get(3)?,
                    updated_at: r.get(4)?,
                })
            },
        )
    }

    pub fn get_scene(&self, scene_id: &str) -> Result<Scene> {
        self.find_scene(scene_id)?
            .ok_or_else(|| StoreError::SceneNotFound(scene_id.to_string()))
    }

    pub fn find_scene(&self, scene_id: &str) -> Result<Option<Scene>> {
        self.one(
            &format!("SELECT {SCENE_COLUMNS} FROM scenes WHERE id = ?1"),
            &vals![scene_id],
            scene_from_row,
        )
    }

    /// The `n` most recently changed scenes (newest first), with code. Ties go to the later
    /// position, (ord, id) as the scene list orders them, so that a fresh build and an
    /// incremental one pick the same scenes.
    pub fn recent_scenes(&self, project_id: &str, n: usize) -> Result<Vec<Scene>> {
        self.collect(
            &format!(
                "SELECT {SCENE_COLUMNS} FROM scenes WHERE project_id = ?1
                 ORDER BY updated_at DESC, ord DESC, id DESC LIMIT ?2"
            ),
            &vals![project_id, n as i64],
            scene_from_row,
        )
    }

    pub fn scene_count(&self, project_id: &str) -> Result<u64> {
        Ok(self
            .one(
                "SELECT count(*) FROM scenes WHERE project_id = ?1",
                &vals![project_id],
                |r| r.get::<i64>(0),
            )?
            .unwrap_or(0) as u64)
    }

    /// Context snapshots stored for a project (the soak reports them: they must stay bounded).
    pub fn snapshot_count(&self, project_id: &str) -> Result<u64> {
        Ok(self
            .one(
                "SELECT count(*) FROM context_snapshots WHERE project_id = ?1",
                &vals![project_id],
                |r| r.get::<i64>(0),
            )?
            .unwrap_or(0) as u64)
    }

    /// Messages oldest first; `limit` keeps only the newest `limit` of them.
    pub fn list_messages(&self, project_id: &str, limit: Option<usize>) -> Result<Vec<Message>> {
        let limit = limit.map(|l| l as i64).unwrap_or(i64::MAX);
        let mut rows = self.collect(
            &format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages
                 WHERE project_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2"
            ),
            &vals![project_id, limit],
            message_from_row,
        )?;
        rows.reverse();
        Ok(rows)
    }

    /// Image analyses in upload order, so "the second image" resolves.
    pub fn list_image_analyses(&self, project_id: &str) -> Result<Vec<ImageAnalysis>> {
        self.collect(
            "SELECT id, project_id, trace_id, image_urls_json, palette_json, typography, mood,
                    layout_json, processing_time_ms, created_at
             FROM image_analyses WHERE project_id = ?1 ORDER BY created_at, id",
            &vals![project_id],
            image_from_row,
        )
    }

    pub fn get_image_analysis(&self, image_id: &str) -> Result<Option<ImageAnalysis>> {
        self.one(
            "SELECT id, project_id, trace_id, image_urls_json, palette_json, typography, mood,
                    layout_json, processing_time_ms, created_at
             FROM image_analyses WHERE id = ?1",
            &vals![image_id],
            image_from_row,
        )
    }

    pub fn list_memory(
        &self,
        project_id: &str,
        memory_type: Option<MemoryType>,
    ) -> Result<Vec<MemoryEntry>> {
        match memory_type {
            Some(t) => self.collect(
                &format!(
                    "SELECT {MEMORY_COLUMNS} FROM project_memory
                     WHERE project_id = ?1 AND memory_type = ?2 ORDER BY memory_type, key"
                ),
                &vals![project_id, t.as_str()],
                memory_from_row,
            ),
            None => self.collect(
                &format!(
                    "SELECT {MEMORY_COLUMNS} FROM project_memory
                     WHERE project_id = ?1 ORDER BY memory_type, key"
                ),
                &vals![project_id],
                memory_from_row,
            ),
        }
    }

    pub fn get_memory(
        &self,
        project_id: &str,
        memory_type: MemoryType,
        key: &str,
    ) -> Result<Option<MemoryEntry>> {
        self.one(
            &format!(
                "SELECT {MEMORY_COLUMNS} FROM project_memory
                 WHERE project_id = ?1 AND memory_type = ?2 AND key = ?3"
            ),
            &vals![project_id, memory_type.as_str(), key],
            memory_from_row,
        )
    }

    /// Memory entries of types editscope does not know, by type and key.
    pub fn list_foreign_memory(&self, project_id: &str) -> Result<Vec<ForeignMemory>> {
        self.collect(
            "SELECT project_id, memory_type, key, value, confidence, source_prompt, created_at, updated_at
             FROM foreign_memory WHERE project_id = ?1 ORDER BY memory_type, key",
            &vals![project_id],
            |r| {
                Ok(ForeignMemory {
                    project_id: r.get(0)?,
                    memory_type: r.get(1)?,
                    key: r.get(2)?,
                    value: r.get(3)?,
                    confidence: r.get(4)?,
                    source_prompt: r.get(5)?,
                    created_at: r.get(6)?,
                    updated_at: r.get(7)?,
                })
            },
        )
    }

    /// Iterations of one scene, oldest first.
    pub fn list_iterations(&self, scene_id: &str) -> Result<Vec<SceneIteration>> {
        self.collect(
            &format!(
                "SELECT {ITERATION_COLUMNS}
             FROM scene_iterations WHERE scene_id = ?1 ORDER BY id"
            ),
            &vals![scene_id],
            iteration_from_row,
        )
    }

    /// The project's `n` most recent iterations, oldest first.
    pub fn recent_iterations(&self, project_id: &str, n: usize) -> Result<Vec<SceneIteration>> {
        let mut rows = self.collect(
            &format!(
                "SELECT {ITERATION_COLUMNS}
             FROM scene_iterations WHERE project_id = ?1 ORDER BY id DESC LIMIT ?2"
            ),
            &vals![project_id, n as i64],
            iteration_from_row,
        )?;
        rows.reverse();
        Ok(rows)
    }

    /// The `n` most recent iterations of a project as the history section shows them, oldest
    /// first. Only the columns stored before the code are read: the columns of
    /// [`Store::recent_iterations`] reach past both codes, through their overflow pages.
    pub fn recent_history(&self, project_id: &str, n: usize) -> Result<Vec<IterationSummary>> {
        let mut rows = self.collect(
            "SELECT scene_id, operation, prompt
             FROM scene_iterations WHERE project_id = ?1 ORDER BY id DESC LIMIT ?2",
            &vals![project_id, n as i64],
            |r| {
                Ok(IterationSummary {
                    scene_id: r.get(0)?,
                    operation: r.get(1)?,
                    prompt: r.get(2)?,
                })
            },
        )?;
        rows.reverse();
        Ok(rows)
    }

    /// The scene changed most recently by an iteration, if any.
    pub fn last_edited_scene(&self, project_id: &str) -> Result<Option<String>> {
        self.one(
            "SELECT scene_id FROM scene_iterations WHERE project_id = ?1 ORDER BY id DESC LIMIT 1",
            &vals![project_id],
            |r| r.get(0),
        )
    }

    /// Edit runs, newest first, at most `limit`.
    pub fn list_edit_runs(&self, project_id: &str, limit: usize) -> Result<Vec<EditRunRecord>> {
        self.collect(
            "SELECT id, project_id, prompt, flags_json, tool, target_scene_id, stage_ms_json,
                    cache_json, tokens_json, outcome, error, created_at, comparison
             FROM edit_runs WHERE project_id = ?1 ORDER BY id DESC LIMIT ?2",
            &vals![project_id, limit as i64],
            |r| {
                Ok(EditRunRecord {
                    id: r.get(0)?,
                    project_id: r.get(1)?,
                    prompt: r.get(2)?,
                    flags_json: r.get(3)?,
                    tool: r.get(4)?,
                    target_scene_id: r.get(5)?,
                    stage_ms_json: r.get(6)?,
                    cache_json: r.get(7)?,
                    tokens_json: r.get(8)?,
                    outcome: r.get(9)?,
                    error: r.get(10)?,
                    created_at: r.get(11)?,
                    comparison: r.get(12)?,
                })
            },
        )
    }

    /// Deltas recorded after `revision`, oldest first.
    pub fn deltas_since(
        &self,
        project_id: &str,
        revision: i64,
    ) -> Result<Vec<(i64, ContextDelta)>> {
        let rows = self.collect(
            "SELECT revision, delta_json FROM context_deltas
             WHERE project_id = ?1 AND revision > ?2 ORDER BY revision",
            &vals![project_id, revision],
            |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
        )?;
        rows.into_iter()
            .map(|(rev, json)| {
                serde_json::from_str(&json)
                    .map(|d| (rev, d))
                    .map_err(|source| StoreError::Json {
                        what: "context_deltas.delta_json",
                        source,
                    })
            })
            .collect()
    }

    /// The persisted context snapshot for (project, user, variant): (revision, built_at, json).
    pub fn get_snapshot(
        &self,
        project_id: &str,
        user_id: &str,
        variant: &str,
    ) -> Result<Option<(i64, i64, String)>> {
        self.one(
            "SELECT revision, built_at, context_json FROM context_snapshots
             WHERE project_id = ?1 AND user_id = ?2 AND variant = ?3",
            &vals![project_id, user_id, variant],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    }

    /// Stores a context snapshot. A cache fill, not a change to the project: no revision bump.
    pub fn put_snapshot(
        &self,
        project_id: &str,
        user_id: &str,
        variant: &str,
        revision: i64,
        built_at: i64,
        context_json: &str,
    ) -> Result<()> {
        self.exec(
                "INSERT INTO context_snapshots(project_id, user_id, variant, revision, built_at, context_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(project_id, user_id, variant) DO UPDATE SET
                   revision = excluded.revision, built_at = excluded.built_at,
                   context_json = excluded.context_json",
            &vals![project_id, user_id, variant, revision, built_at, context_json],
        )?;
        Ok(())
    }

    /// The stored token counts of the texts whose keys are given (those it has), for
    /// `tokenizer`. Keys are hashes of the texts (`context::tokens::memo_key`).
    pub fn token_counts(&self, tokenizer: &str, keys: &[u64]) -> Result<Vec<(u64, usize)>> {
        let mut found = Vec::with_capacity(keys.len());
        for &key in keys {
            let n: Option<i64> = self.one(
                "SELECT tokens FROM token_counts WHERE tokenizer = ?1 AND text_key = ?2",
                &vals![tokenizer, key as i64],
                |r| r.get(0),
            )?;
            if let Some(n) = n.and_then(|n| usize::try_from(n).ok()) {
                found.push((key, n));
            }
        }
        Ok(found)
    }

    /// Stores token counts (a cache fill of a pure function of the text: no revision bump).
    pub fn record_token_counts(&self, tokenizer: &str, counts: &[(u64, usize)]) -> Result<()> {
        for &(key, n) in counts {
            self.exec(
                "INSERT INTO token_counts(tokenizer, text_key, tokens) VALUES (?1, ?2, ?3)
                 ON CONFLICT(tokenizer, text_key) DO UPDATE SET tokens = excluded.tokens",
                &vals![tokenizer, key as i64, n as i64],
            )?;
        }
        Ok(())
    }

    /// Drops every persisted snapshot of a project (used when a user clears the cache).
    pub fn clear_snapshots(&self, project_id: &str) -> Result<()> {
        self.exec(
            "DELETE FROM context_snapshots WHERE project_id = ?1",
            &vals![project_id],
        )?;
        Ok(())
    }

    /// Stores an analysis the engine computed from a scene's current code. The analysis is a
    /// pure function of the code (tied to it by content hash), so storing it cannot change what
    /// a fresh build produces: it is a cache fill, and it does not bump the revision. It follows
    /// the upsert rule of DESIGN.md section 2 like every memory write: an entry that is more
    /// confident (one set by hand, say) is kept unless this one is newer and as confident. And
    /// as it may be written behind the build that computed it, it replaces only the entry that
    /// build read (same `updated_at`), never one written since.
    pub fn record_derived_memory(&self, derived: &DerivedMemoryWrite) -> Result<()> {
        let write = &derived.write;
        writer::validate_memory(write)?;
        let now = crate::util::now_ms();
        self.exec(
                "INSERT INTO project_memory(project_id, memory_type, key, value, confidence, source_prompt, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
                 ON CONFLICT(project_id, memory_type, key) DO UPDATE SET
                   value = excluded.value, confidence = excluded.confidence,
                   source_prompt = excluded.source_prompt, updated_at = excluded.updated_at
                 WHERE project_memory.updated_at = ?8
                   AND (excluded.confidence > project_memory.confidence
                    OR (excluded.updated_at >= project_memory.updated_at
                        AND excluded.confidence >= project_memory.confidence))",
            &vals![
                &write.project_id,
                write.memory_type.as_str(),
                &write.key,
                &write.value,
                write.confidence,
                &write.source_prompt,
                now,
                derived.seen_updated_at
            ],
        )?;
        Ok(())
    }
}

fn image_from_row(r: &mut Row) -> Result<ImageAnalysis> {
    Ok(ImageAnalysis {
        id: r.get(0)?,
        project_id: r.get(1)?,
        trace_id: r.get(2)?,
        image_urls: json_list(r.get(3)?, "image_analyses.image_urls_json")?,
        palette: json_value(r.get(4)?, "image_analyses.palette_json")?,
        typography: r.get(5)?,
        mood: r.get(6)?,
        layout: json_value(r.get(7)?, "image_analyses.layout_json")?,
        processing_time_ms: r.get(8)?,
        created_at: r.get(9)?,
    })
}
