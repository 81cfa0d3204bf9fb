//! `editscope context --project ID [--prompt TEXT] [--flags F] [--json]`

use std::path::PathBuf;

use super::{ContextArgs, open_store, print_json};
use crate::context::{BuildRequest, ContextEngine, Flags};

pub fn run(db: Option<&PathBuf>, args: ContextArgs) -> anyhow::Result<()> {
    let store = open_store(db)?;
    let flags = match &args.flags {
        Some(f) => Flags::parse(f, Flags::from_env())?,
        None => Flags::from_env(),
    };
    let mut engine = ContextEngine::new(flags, args.engine.options()?);
    let built = engine.build(
        &store,
        &BuildRequest {
            project_id: &args.project,
            user_id: None,
            prompt: &args.prompt,
        },
    )?;
    let stats = &built.stats;
    if args.json {
        return print_json(&serde_json::json!({
            "project_id": args.project,
            "path": stats.path.as_str(),
            "flags": flags.to_string(),
            "tokens": {
                "total": built.context.tokens.total,
                "sections": built.context.tokens.sections,
            },
            "stats": {
                "build_us": stats.build_us,
                "queries": stats.queries,
                "rows_read": stats.rows_read,
                "cache": {
                    "hits": stats.cache.hits,
                    "misses": stats.cache.misses,
                    "invalidations": stats.cache.invalidations,
                    "incremental_updates": stats.cache.incremental_updates,
                    "shadow_checks": stats.cache.shadow_checks,
                    "shadow_mismatches": stats.cache.shadow_mismatches,
                },
                "cache_level": stats.cache_level,
                "analyses_computed": stats.analyses_computed,
                "analyses_reused": stats.analyses_reused,
                "deltas_applied": stats.deltas_applied,
                "steps": stats.steps,
            },
            "target_scene_id": built.context.target_scene_id,
            "context": built.context,
        }));
    }
    print!("{}", built.context.render());
    println!("---");
    println!(
        "path {} | flags {} | build {:.3} ms | {} queries, {} rows | {} tokens",
        stats.path.as_str(),
        flags,
        stats.build_us as f64 / 1000.0,
        stats.queries,
        stats.rows_read,
        built.context.tokens.total
    );
    for (name, n) in &built.context.tokens.sections {
        println!("  {name:<16} {n:>7} tokens");
    }
    for step in &stats.steps {
        println!(
            "  step {:<12} {:>9.3} ms",
            step.name,
            step.us as f64 / 1000.0
        );
    }
    Ok(())
}
