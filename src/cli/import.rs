//! `editscope import FILE.json` and `editscope import --generate N`

use std::path::PathBuf;

use anyhow::bail;

use super::{ImportArgs, open_store};
use crate::fixtures::{self, generate};

/// The largest project the generator makes.
pub const MAX_GENERATED_SCENES: usize = 10_000;

pub fn run(db: Option<&PathBuf>, args: ImportArgs) -> anyhow::Result<()> {
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
