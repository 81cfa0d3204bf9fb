//! `editscope memory list|show|set|forget`

use std::path::PathBuf;

use anyhow::{Context as _, bail};

use super::{MemoryCommand, open_store, print_json};
use crate::memory::ProjectMemory;
use crate::store::{MemoryEntry, MemoryType, UpsertOutcome};

fn parse_type(t: &str) -> anyhow::Result<MemoryType> {
    t.parse::<MemoryType>().map_err(anyhow::Error::msg)
}

fn entry_json(e: &MemoryEntry) -> serde_json::Value {
    serde_json::json!({
        "id": e.id,
        "memory_type": e.memory_type.as_str(),
        "key": e.key,
        "value": e.value,
        "confidence": e.confidence,
        "source_prompt": e.source_prompt,
        "created_at": e.created_at,
        "updated_at": e.updated_at,
    })
}

pub fn run(db: Option<&PathBuf>, cmd: MemoryCommand) -> anyhow::Result<()> {
    let mut store = open_store(db)?;
    match cmd {
        MemoryCommand::List {
            project,
            memory_type,
            json,
        } => {
            let t = memory_type.as_deref().map(parse_type).transpose()?;
            store.get_project(&project)?;
            let entries = ProjectMemory::new(&mut store, &project).list(t)?;
            if json {
                return print_json(&entries.iter().map(entry_json).collect::<Vec<_>>());
            }
            println!("{:<22} {:<28} {:>5}  VALUE", "TYPE", "KEY", "CONF");
            for e in entries {
                println!(
                    "{:<22} {:<28} {:>5.2}  {}",
                    e.memory_type.as_str(),
                    e.key,
                    e.confidence,
                    one_line(&e.value, 80)
                );
            }
        }
        MemoryCommand::Show {
            project,
            memory_type,
            key,
            json,
        } => {
            let t = parse_type(&memory_type)?;
            let entry = ProjectMemory::new(&mut store, &project)
                .get(t, &key)?
                .with_context(|| format!("no {t} entry '{key}' in project '{project}'"))?;
            if json {
                return print_json(&entry_json(&entry));
            }
            println!("type:        {}", entry.memory_type);
            println!("key:         {}", entry.key);
            println!("confidence:  {:.2}", entry.confidence);
            println!("source:      {}", entry.source_prompt);
            println!("created_at:  {}", entry.created_at);
            println!("updated_at:  {}", entry.updated_at);
            println!("value:\n{}", entry.value);
        }
        MemoryCommand::Set {
            project,
            memory_type,
            key,
            value,
            confidence,
        } => {
            let t = parse_type(&memory_type)?;
            if let Err(e) = crate::limits::MEMORY_VALUE.check(value.len()) {
                bail!("--value of {t} '{key}' is {e}; nothing was written");
            }
            if !(0.0..=1.0).contains(&confidence) {
                bail!("--confidence must be within 0..1, got {confidence}");
            }
            let outcome = ProjectMemory::new(&mut store, &project).set(
                t,
                &key,
                &value,
                confidence,
                "editscope memory set",
            )?;
            match outcome {
                UpsertOutcome::Inserted => println!("inserted {t} '{key}'"),
                UpsertOutcome::Replaced => println!("replaced {t} '{key}'"),
                UpsertOutcome::KeptExisting => println!(
                    "kept the existing {t} '{key}': it is more confident than {confidence:.2}"
                ),
            }
        }
        MemoryCommand::Forget {
            project,
            memory_type,
            key,
        } => {
            let t = parse_type(&memory_type)?;
            if !ProjectMemory::new(&mut store, &project).forget(t, &key)? {
                bail!("no {t} entry '{key}' in project '{project}'");
            }
            println!("forgot {t} '{key}'");
        }
    }
    Ok(())
}

fn one_line(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c == '\n' { ' ' } else { c })
        .collect();
    if flat.chars().count() > max {
        format!("{}…", flat.chars().take(max - 1).collect::<String>())
    } else {
        flat
    }
}
