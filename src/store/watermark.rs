//! The watermark of memory learning (`memory_watermarks`, schema 2): the last message whose
//! stated preferences are in memory, and the messages after it.
//!
//! Messages are ordered by (`created_at`, `id`), the order every message list uses. Reading
//! what is new is one query ranged on the index `messages(project_id, created_at)`: with
//! nothing new it reads no message row, whatever the length of the history. A message written
//! later with a `created_at` before the watermark (a backdated insert by another tool) is not
//! seen by it; appends, which is what every writer of this schema does, always are.

use super::reads::{MESSAGE_COLUMNS, message_from_row};
use super::sql::{Row, vals};
use super::*;

/// Messages after the project's watermark, or all of them when it has none. `?2` is the
/// lowest `created_at` (no watermark: every message is after it).
fn messages_after_sql() -> String {
    format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages
         WHERE project_id = ?1
           AND created_at >= coalesce(
                 (SELECT message_created_at FROM memory_watermarks WHERE project_id = ?1), ?2)
           AND (created_at, id) > (
                 coalesce((SELECT message_created_at FROM memory_watermarks WHERE project_id = ?1), ?2),
                 coalesce((SELECT message_id FROM memory_watermarks WHERE project_id = ?1), ''))
         ORDER BY created_at, id"
    )
}

const WATERMARK_SQL: &str = "SELECT project_id, message_created_at, message_id, updated_at
     FROM memory_watermarks WHERE project_id = ?1";

fn watermark_from_row(r: &mut Row) -> Result<MemoryWatermark> {
    Ok(MemoryWatermark {
        project_id: r.get(0)?,
        message_created_at: r.get(1)?,
        message_id: r.get(2)?,
        updated_at: r.get(3)?,
    })
}

impl Store {
    /// The project's learning watermark, if memory has learned from any of its messages.
    pub fn memory_watermark(&self, project_id: &str) -> Result<Option<MemoryWatermark>> {
        self.one(WATERMARK_SQL, &vals![project_id], watermark_from_row)
    }

    /// The messages memory has not learned from yet, oldest first: those after the watermark,
    /// or every message of a project without one. One indexed query.
    pub fn messages_after_watermark(&self, project_id: &str) -> Result<Vec<Message>> {
        self.collect(
            &messages_after_sql(),
            &vals![project_id, i64::MIN],
            message_from_row,
        )
    }
}

impl Writer<'_> {
    /// [`Store::memory_watermark`] inside the transaction.
    pub fn memory_watermark(&self, project_id: &str) -> Result<Option<MemoryWatermark>> {
        Writer::one(self, WATERMARK_SQL, &vals![project_id], watermark_from_row)
    }

    /// [`Store::messages_after_watermark`] inside the transaction (it sees the transaction's
    /// own messages).
    pub fn messages_after_watermark(&self, project_id: &str) -> Result<Vec<Message>> {
        self.rows(&messages_after_sql(), &vals![project_id, i64::MIN])?
            .into_iter()
            .map(|mut r| message_from_row(&mut r))
            .collect()
    }

    /// Moves the watermark to a message, forward only: a watermark already at or past it is
    /// left where it is (two learners racing cannot move it back). Returns whether it moved.
    /// Not a change to any context, so no delta and no revision bump: caches stay valid.
    pub fn advance_memory_watermark(
        &mut self,
        project_id: &str,
        message_created_at: i64,
        message_id: &str,
    ) -> Result<bool> {
        let now = self.now();
        let n = self.exec(
            "INSERT INTO memory_watermarks(project_id, message_created_at, message_id, updated_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(project_id) DO UPDATE SET
               message_created_at = excluded.message_created_at,
               message_id = excluded.message_id, updated_at = excluded.updated_at
             WHERE (excluded.message_created_at, excluded.message_id)
                 > (memory_watermarks.message_created_at, memory_watermarks.message_id)",
            &vals![project_id, message_created_at, message_id, now],
        )?;
        Ok(n > 0)
    }
}
