//! Bringing a cached base up to date from the store's deltas instead of rebuilding it.
//!
//! Each delta touches only what it names: one scene's list line, code and analysis; one memory
//! entry; one image; the recent messages. Big sections are persistent vectors and maps, so an
//! update copies a path, not the section: the cost does not grow with the number of scenes
//! (beside a position shift when a scene is inserted or deleted mid-list).

use std::sync::Arc;

use super::base::{AnalysisWork, BaseContext, analyse_scene, base_tokens_since};
use super::model::*;
use super::{ContextError, prefs, sections, tokens};
use crate::memory;
use crate::store::{ContextDelta, MemoryType, Scene, Store};

/// Why a base could not be updated in place (the caller rebuilds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NeedsRebuild {
    Significant(String),
    Reordered(String),
}

/// Applies `deltas` (oldest first) to `base`. On `Err(NeedsRebuild)` the base is unusable.
pub fn apply(
    store: &Store,
    base: &mut BaseContext,
    deltas: &[(i64, ContextDelta)],
    work: &mut AnalysisWork,
) -> Result<Result<(), NeedsRebuild>, ContextError> {
    let project_id = base.context.project.id.clone();
    // The sections' data as it was (shared, not copied): what the deltas leave alone keeps its
    // token count.
    let before = base.context.clone();
    let mut messages_changed = false;
    let mut history_changed = false;
    let mut list_changed = false;
    let mut names_changed = false;
    for (revision, delta) in deltas {
        match delta {
            ContextDelta::Significant { reason } => {
                return Ok(Err(NeedsRebuild::Significant(reason.clone())));
            }
            ContextDelta::SceneUpserted { scene_id } => {
                // A scene deleted again later in the same run is handled by its delete delta.
                if let Some(scene) = store.find_scene(scene_id)? {
                    match upsert_scene(store, base, scene, work)? {
                        Ok(renamed) => names_changed |= renamed,
                        Err(e) => return Ok(Err(e)),
                    }
                    list_changed = true;
                }
            }
            ContextDelta::SceneDeleted { scene_id } => {
                remove_scene(store, base, scene_id, work)?;
                list_changed = true;
                names_changed = true;
            }
            ContextDelta::HistoryAdded { .. } => history_changed = true,
            ContextDelta::MessageAdded { .. } => messages_changed = true,
            ContextDelta::MemoryChanged { memory_type, key } => {
                apply_memory(store, base, &project_id, memory_type, key, work)?;
            }
            ContextDelta::ImageAdded { .. } => {
                // Images are few and their order is by upload time: re-read the list.
                base.context.images =
                    Arc::new(sections::images(store.list_image_analyses(&project_id)?));
            }
        }
        base.context.revision = *revision;
    }
    if messages_changed {
        if base.flags.memory {
            let messages =
                store.list_messages(&project_id, Some(sections::CONVERSATION_MESSAGES))?;
            base.context.conversation = Arc::new(sections::conversation(&messages));
        } else {
            // Without memory, preferences live in message text: re-parse them all.
            let messages = store.list_messages(&project_id, None)?;
            base.context.preferences = Arc::new(prefs::parse_preferences(&messages));
            base.context.conversation = Arc::new(sections::conversation(&messages));
        }
    }
    if history_changed {
        let history =
            sections::history(store.recent_history(&project_id, sections::HISTORY_ITEMS)?);
        base.last_edited = history.last().map(|h| h.scene_id.clone());
        base.context.history = Arc::new(history);
    }
    if list_changed {
        // The total duration is kept by the scene deltas; the rest of the project line is
        // re-read (one row).
        let project = store.get_project(&project_id)?;
        base.context.project = sections::project_section_with_totals(
            &project,
            base.context.scene_list.len(),
            base.context.project.total_duration_frames,
        );
        if !base.flags.memory {
            base.context.relationships = Arc::new(sections::relationships_from_order(
                &base.context.scene_list.iter().cloned().collect::<Vec<_>>(),
            ));
        }
        restyle(base);
        if names_changed {
            base.rebuild_name_index();
        }
    }
    base.context.tokens = base_tokens_since(base, Some(&before));
    Ok(Ok(()))
}

/// Returns whether the scene's name is new or changed (the name index must follow).
fn upsert_scene(
    store: &Store,
    base: &mut BaseContext,
    scene: Scene,
    work: &mut AnalysisWork,
) -> Result<Result<bool, NeedsRebuild>, ContextError> {
    let renamed;
    // Whether the recent scenes can be found among the old ones and this one (no list scan).
    let mut recency_local = true;
    let mut shifted = false;
    match base.positions.get(&scene.id).copied() {
        Some(position) => {
            let Some(entry) = position
                .checked_sub(1)
                .and_then(|i| base.context.scene_list.get_mut(i))
                .filter(|e| e.id == scene.id)
            else {
                return Ok(Err(NeedsRebuild::Significant(format!(
                    "scene {} is not at its indexed position",
                    scene.id
                ))));
            };
            if entry.ord != scene.ord {
                return Ok(Err(NeedsRebuild::Reordered(scene.id)));
            }
            renamed = entry.name != scene.name;
            // A scene that went back in time may leave the recent ones for one not looked at.
            recency_local = scene.updated_at >= entry.updated_at;
            base.context.project.total_duration_frames +=
                scene.duration_frames - entry.duration_frames;
            entry.name = scene.name.clone();
            entry.duration_frames = scene.duration_frames;
            entry.updated_at = scene.updated_at;
        }
        None => {
            renamed = true;
            let list = &mut base.context.scene_list;
            // Insert by (ord, id), as the store orders scenes; a new scene usually goes last.
            let key = (scene.ord, scene.id.as_str());
            let at = if list.last().is_none_or(|s| (s.ord, s.id.as_str()) < key) {
                list.len()
            } else {
                list.iter()
                    .position(|s| (s.ord, s.id.as_str()) > key)
                    .unwrap_or(list.len())
            };
            list.insert(
                at,
                SceneListEntry {
                    id: scene.id.clone(),
                    name: scene.name.clone(),
                    position: at + 1,
                    duration_frames: scene.duration_frames,
                    updated_at: scene.updated_at,
                    ord: scene.ord,
                },
            );
            base.context.project.total_duration_frames += scene.duration_frames;
            if at + 1 < list.len() {
                // Every later scene moved down one position, and its list line with it.
                base.positions_shifted();
                shifted = true;
                recency_local = false;
            } else {
                base.positions.insert(scene.id.clone(), at + 1);
            }
        }
    }
    let (position, line) = base.entry(&scene.id).map_or((0, 0), |s| {
        (s.position, tokens::count_cached(&scene_list_line(s)))
    });
    base.set_line_tokens(&scene.id, line);
    let change = ListChange {
        scene: Some(&scene),
        position,
        recency_local,
        shifted,
    };
    refresh_full_scenes(store, base, change, work)?;
    Ok(Ok(renamed))
}

fn remove_scene(
    store: &Store,
    base: &mut BaseContext,
    scene_id: &str,
    work: &mut AnalysisWork,
) -> Result<(), ContextError> {
    base.remove_line_tokens(scene_id);
    let list = &mut base.context.scene_list;
    let at = base
        .positions
        .remove(scene_id)
        .and_then(|p| p.checked_sub(1))
        .filter(|&i| list.get(i).is_some_and(|s| s.id == scene_id))
        .or_else(|| list.iter().position(|s| s.id == scene_id));
    let mut shifted = false;
    if let Some(i) = at {
        let removed = list.remove(i);
        base.context.project.total_duration_frames -= removed.duration_frames;
        if i < list.len() {
            // Every later scene moved up one position, and its list line with it.
            base.positions_shifted();
            shifted = true;
        }
    }
    base.code_tokens.remove(scene_id);
    base.analyses.remove(scene_id);
    if let Some(i) = base
        .context
        .scenes_in_full
        .iter()
        .position(|s| s.id == scene_id)
    {
        base.context.scenes_in_full.remove(i);
    }
    let change = ListChange {
        scene: None,
        position: 0,
        recency_local: false,
        shifted,
    };
    refresh_full_scenes(store, base, change, work)
}

/// What one scene delta did to the scene list, as far as the scenes in full care.
struct ListChange<'a> {
    /// The scene inserted or updated; `None` for a delete.
    scene: Option<&'a Scene>,
    /// Its 1-based list position (0 for a delete).
    position: usize,
    /// The recent scenes are among the old ones and `scene`: no list scan needed.
    recency_local: bool,
    /// An insert or delete mid-list moved every later scene.
    shifted: bool,
}

/// The `n` most recent scenes after `changed` was updated in place or appended. Every other
/// scene kept its time and position, so it ranked below the old recent ones and still does:
/// the new ones are among the old ones and `changed`.
fn recent_after_local_change(base: &BaseContext, changed: &str) -> Vec<String> {
    let mut candidates: Vec<&SceneListEntry> = base
        .context
        .scenes_in_full
        .iter()
        .filter_map(|f| base.entry(&f.id))
        .collect();
    if !candidates.iter().any(|e| e.id == changed)
        && let Some(e) = base.entry(changed)
    {
        candidates.push(e);
    }
    sections::most_recent(candidates, sections::RECENT_SCENES)
}

/// Keeps `scenes_in_full` (and the analyses behind the style section) in step with the list.
fn refresh_full_scenes(
    store: &Store,
    base: &mut BaseContext,
    change: ListChange<'_>,
    work: &mut AnalysisWork,
) -> Result<(), ContextError> {
    let project_id = base.context.project.id.clone();
    let changed = change.scene;
    if base.flags.relevant {
        // The recent scenes: from the old ones and the changed one when that is enough, else
        // one pass over the list (no code read).
        let recent = match changed {
            Some(c) if change.recency_local => recent_after_local_change(base, &c.id),
            _ => sections::most_recent(base.context.scene_list.iter(), sections::RECENT_SCENES),
        };
        let mut full = imbl::Vector::new();
        for id in &recent {
            let from_base = base
                .context
                .scenes_in_full
                .iter()
                .find(|s| &s.id == id)
                .cloned();
            let code = match (changed, from_base) {
                (Some(c), _) if &c.id == id => c.tsx_code.clone(),
                (_, Some(s)) => s.code,
                _ => match store.find_scene(id)? {
                    Some(s) => s.tsx_code,
                    // Deleted by a later delta of the same batch (one transaction can delete
                    // two scenes): that delta, still to come, takes it off the list and picks
                    // the recent scenes again.
                    None => continue,
                },
            };
            let entry = base.entry(id);
            let (position, name) =
                entry.map_or((0, String::new()), |e| (e.position, e.name.clone()));
            full.push_back(FullScene {
                id: id.clone(),
                name,
                position,
                reason: FullReason::Recent,
                code,
            });
        }
        base.context.scenes_in_full = full;
        base.analyses.retain(|id, _| recent.contains(id));
        base.code_tokens = imbl::HashMap::new();
        for s in base.context.scenes_in_full.iter() {
            base.code_tokens.insert(s.id.clone(), full_scene_tokens(s));
            let hash = crate::util::content_hash(&s.code);
            if base.analyses.get(&s.id).is_none_or(|(h, _)| *h != hash) {
                let v = analyse_scene(store, &project_id, &s.id, &s.code, base.flags.lazy, work)?;
                base.analyses.insert(s.id.clone(), v);
            }
        }
    } else {
        if let Some(scene) = changed {
            let full = FullScene {
                id: scene.id.clone(),
                name: scene.name.clone(),
                position: change.position,
                reason: FullReason::All,
                code: scene.tsx_code.clone(),
            };
            let v = analyse_scene(
                store,
                &project_id,
                &scene.id,
                &scene.tsx_code,
                base.flags.lazy,
                work,
            )?;
            base.analyses.insert(scene.id.clone(), v);
            match base
                .context
                .scenes_in_full
                .iter()
                .position(|s| s.id == scene.id)
            {
                Some(i) => base.context.scenes_in_full[i] = full,
                None => {
                    let at = change
                        .position
                        .saturating_sub(1)
                        .min(base.context.scenes_in_full.len());
                    base.context.scenes_in_full.insert(at, full);
                }
            }
        }
        // Every scene is in full here: after a shift, re-stamp their positions from the list.
        // (A rename or an append changes only the changed scene's entry, replaced above.)
        if change.shifted {
            // Through the position index: a search of the list per scene was quadratic.
            let mut full: Vec<FullScene> = base
                .context
                .scenes_in_full
                .iter()
                .filter_map(|f| {
                    let entry = base.entry(&f.id)?;
                    Some(FullScene {
                        position: entry.position,
                        name: entry.name.clone(),
                        ..f.clone()
                    })
                })
                .collect();
            full.sort_by_key(|f| f.position);
            base.context.scenes_in_full = full.into_iter().collect();
            base.code_tokens = imbl::HashMap::new();
            for s in base.context.scenes_in_full.iter() {
                base.code_tokens.insert(s.id.clone(), full_scene_tokens(s));
            }
        } else if let Some(scene) = changed
            && let Some(f) = base
                .context
                .scenes_in_full
                .iter()
                .find(|f| f.id == scene.id)
        {
            base.code_tokens
                .insert(scene.id.clone(), full_scene_tokens(f));
        }
    }
    Ok(())
}

fn restyle(base: &mut BaseContext) {
    base.context.style = Arc::new(sections::style(
        base.analyses
            .iter()
            .map(|(id, (_, a))| (id.as_str(), a.as_ref())),
    ));
}

fn apply_memory(
    store: &Store,
    base: &mut BaseContext,
    project_id: &str,
    memory_type: &str,
    key: &str,
    work: &mut AnalysisWork,
) -> Result<(), ContextError> {
    let Ok(t) = memory_type.parse::<MemoryType>() else {
        return Ok(());
    };
    match t {
        MemoryType::UserPreference if base.flags.memory => {
            let entry = store.get_memory(project_id, t, key)?;
            let prefs = Arc::make_mut(&mut base.context.preferences);
            match entry {
                Some(e) => {
                    prefs.insert(
                        key.to_string(),
                        PreferenceItem {
                            value: e.value,
                            confidence: e.confidence,
                        },
                    );
                }
                None => {
                    prefs.remove(key);
                }
            }
        }
        MemoryType::SceneRelationship if base.flags.memory => {
            base.context.relationships = Arc::new(memory::relationships(store, project_id)?);
        }
        MemoryType::SceneAnalysis if base.flags.lazy => {
            // A hand-written analysis may now be trusted (or no longer be): redo that scene's.
            if let Some(s) = base
                .context
                .scenes_in_full
                .iter()
                .find(|s| s.id == key)
                .cloned()
            {
                let v = analyse_scene(store, project_id, &s.id, &s.code, true, work)?;
                base.analyses.insert(s.id.clone(), v);
                restyle(base);
            }
        }
        _ => {}
    }
    Ok(())
}
