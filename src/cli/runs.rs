//! `editscope runs --project ID` and `editscope undo --project ID --scene ID`

use std::path::PathBuf;

use super::{RunsArgs, UndoArgs, open_store, print_json};

pub fn run(db: Option<&PathBuf>, args: RunsArgs) -> anyhow::Result<()> {
    let store = open_store(db)?;
    store.get_project(&args.project)?;
    let runs = store.list_edit_runs(&args.project, args.limit)?;
    if args.json {
        let out: Vec<serde_json::Value> = runs
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "project_id": r.project_id,
                    "prompt": r.prompt,
                    "flags": serde_json::from_str::<serde_json::Value>(&r.flags_json).unwrap_or_default(),
                    "tool": r.tool,
                    "target_scene_id": r.target_scene_id,
                    "stages": serde_json::from_str::<serde_json::Value>(&r.stage_ms_json).unwrap_or_default(),
                    "cache": serde_json::from_str::<serde_json::Value>(&r.cache_json).unwrap_or_default(),
                    "tokens": serde_json::from_str::<serde_json::Value>(&r.tokens_json).unwrap_or_default(),
                    "outcome": r.outcome,
                    "error": r.error,
                    "created_at": r.created_at,
                    "comparison": r.comparison,
                })
            })
            .collect();
        return print_json(&out);
    }
    println!(
        "{:>5}  {:<13} {:<15} {:<24} PROMPT",
        "RUN", "OUTCOME", "TOOL", "TARGET"
    );
    for r in runs {
        println!(
            "{:>5}  {:<13} {:<15} {:<24} {}{}{}",
            r.id,
            r.outcome,
            r.tool.as_deref().unwrap_or("-"),
            r.target_scene_id.as_deref().unwrap_or("-"),
            r.prompt,
            if r.comparison { "  (A/B dry run)" } else { "" },
            r.error.map(|e| format!("  [{e}]")).unwrap_or_default()
        );
    }
    Ok(())
}

pub fn undo(db: Option<&PathBuf>, args: UndoArgs) -> anyhow::Result<()> {
    let mut store = open_store(db)?;
    let message = crate::pipeline::respond::undo(&mut store, &args.project, &args.scene)?;
    println!("{message}");
    Ok(())
}
