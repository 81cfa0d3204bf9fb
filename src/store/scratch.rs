//! Scratch copies of one project: what a comparison (A/B) run works on, so that it can apply
//! its edit for real (the resulting code is compared) while the project itself is untouched.

use std::path::Path;

use rusqlite::params;

use super::*;

/// The tables that hold a project's state, parents first (foreign keys), each with the column
/// that names the project. Edit runs are left out: a scratch copy records only its own run.
const PROJECT_TABLES: &[(&str, &str)] = &[
    ("projects", "id"),
    ("scenes", "project_id"),
    ("messages", "project_id"),
    ("project_memory", "project_id"),
    ("image_analyses", "project_id"),
    ("scene_iterations", "project_id"),
    ("context_deltas", "project_id"),
    ("context_snapshots", "project_id"),
    ("memory_watermarks", "project_id"),
];

impl Store {
    /// Copies one project, as committed now, into a new database at `dest`: its rows in every
    /// table, its revision, its delta log and its persisted context snapshots, so that an engine
    /// on the copy starts in the same state (cache level 2 included) as one on this file.
    /// Nothing is written to this database. The copy is closed when this returns, so that the
    /// file at `dest` is complete on its own (no write-ahead log beside it) and can be copied.
    pub fn copy_project_to(&self, project_id: &str, dest: &Path) -> Result<()> {
        // Fails with ProjectNotFound before a file is made.
        self.get_project(project_id)?;
        if dest.exists() {
            return Err(StoreError::Invalid {
                what: format!("scratch copy '{}'", dest.display()),
                reason: "the file already exists".into(),
            });
        }
        let mut copy = Store::open(dest)?;
        let source = self.path.display().to_string();
        let conn = &mut copy.conn;
        conn.execute("ATTACH DATABASE ?1 AS source", params![source])
            .map_err(|e| classify(&self.path, self.options.busy_timeout, e))?;
        let copied = (|| -> rusqlite::Result<()> {
            // One read transaction over the source: every table is copied at one revision.
            let tx = conn.transaction()?;
            for (table, column) in PROJECT_TABLES {
                // Both files have this build's schema (the copy was just migrated, the source
                // when it was opened), so the columns line up.
                tx.execute(
                    &format!(
                        "INSERT INTO main.{table} SELECT * FROM source.{table} WHERE {column} = ?1"
                    ),
                    params![project_id],
                )?;
            }
            tx.commit()
        })();
        let detached = conn.execute("DETACH DATABASE source", []);
        copied.map_err(|e| classify(&self.path, self.options.busy_timeout, e))?;
        detached?;
        // Closing the last connection checkpoints the log into the file and removes it.
        drop(copy);
        Ok(())
    }
}
