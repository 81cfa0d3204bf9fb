//! `editscope projects`

use std::path::PathBuf;

use super::{ProjectsArgs, open_store, print_json};

pub fn run(db: Option<&PathBuf>, args: ProjectsArgs) -> anyhow::Result<()> {
    let store = open_store(db)?;
    let projects = store.list_projects()?;
    if args.json {
        let out: Vec<_> = projects
            .iter()
            .map(|p| {
                serde_json::json!({
                    "id": p.id,
                    "title": p.title,
                    "scenes": p.scenes,
                    "messages": p.messages,
                    "memory_entries": p.memory_entries,
                    "user_id": p.user_id,
                    "revision": p.revision,
                })
            })
            .collect();
        return print_json(&out);
    }
    println!(
        "{:<24} {:>7} {:>9} {:>7}  TITLE",
        "ID", "SCENES", "MESSAGES", "MEMORY"
    );
    for p in projects {
        println!(
            "{:<24} {:>7} {:>9} {:>7}  {}",
            p.id, p.scenes, p.messages, p.memory_entries, p.title
        );
    }
    Ok(())
}
