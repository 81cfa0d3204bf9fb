//! `editscope import FILE.json`, `editscope import --generate N` and
//! `editscope import --from-postgres URL --project ID [--table-prefix P]`

use std::path::PathBuf;

use anyhow::bail;

use super::{ImportArgs, open_store};
use crate::fixtures::{self, editor, generate};

/// The largest project the generator makes.
pub const MAX_GENERATED_SCENES: usize = 10_000;

pub fn run(db: Option<&PathBuf>, args: ImportArgs) -> anyhow::Result<()> {
    if let Some(url) = &args.from_postgres {
        return from_postgres(db, url, &args);
    }
    let mut store = open_store(db)?;
    if let Some(n) = args.generate {
        if n == 0 || n > MAX_GENERATED_SCENES {
            bail!("--generate takes 1 to {MAX_GENERATED_SCENES} scenes, got {n}");
        }
        let spec = generate::GenerateSpec {
            project_id: args.id.unwrap_or_else(|| format!("generated-{n}")),
            title: format!("Generated project ({n} scenes)"),
            user_id: "demo-user".into(),
            scenes: n,
            seed: args.seed,
        };
        let project = generate::generate_project(&spec);
        fixtures::import(
            &mut store,
            &format!("generated project '{}'", spec.project_id),
            &project,
        )?;
        println!(
            "imported project '{}' ({} scenes, generated with seed {})",
            spec.project_id, n, spec.seed
        );
        return Ok(());
    }
    let Some(file) = args.file else {
        bail!("give a FILE.json to import, or --generate N");
    };
    let id = fixtures::import_file_with(&mut store, &file, args.replace)?;
    println!("imported project '{id}' from {}", file.display());
    Ok(())
}

/// Imports one project from the editor's database; lists what editscope keeps apart.
fn from_postgres(db: Option<&PathBuf>, url: &str, args: &ImportArgs) -> anyhow::Result<()> {
    let Some(project_id) = &args.project else {
        bail!("--from-postgres needs --project ID");
    };
    let shown = crate::store::redact_location(url);
    let project = editor::read_project(url, project_id, &args.table_prefix)?;
    let mut store = open_store(db)?;
    editor::import(
        &mut store,
        &format!("the editor's database {shown}"),
        &project,
        args.replace,
    )?;
    let f = &project.file;
    println!(
        "imported project '{}' (\"{}\") from the editor's database {shown}: {} scenes, {} messages, {} memory entries, {} image analyses, {} scene iterations",
        f.project.id,
        f.project.title,
        f.scenes.len(),
        f.messages.len(),
        f.memory.len(),
        f.image_analyses.len(),
        f.scene_iterations.len()
    );
    if project.skipped_status_messages > 0 {
        println!(
            "skipped {} status messages (the editor's progress notes, not conversation)",
            project.skipped_status_messages
        );
    }
    if !project.foreign_memory.is_empty() {
        println!(
            "kept {} memory entries of types editscope does not use (stored apart, unchanged):",
            project.foreign_memory.len()
        );
        for m in &project.foreign_memory {
            println!("  {} {} = {}", m.memory_type, m.key, m.value);
        }
    }
    Ok(())
}
