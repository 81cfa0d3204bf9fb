//! Bringing a cached base up to date from the store's deltas instead of rebuilding it.
//!
//! Each delta touches only what it names: one scene's list line, code and analysis; one memory
//! entry; one image; the recent messages. Big sections are persistent vectors and maps, so an
//! update copies a path, not the section: the cost does not grow with the number of scenes
//! (beside a position shift when a scene is inserted or deleted mid-list).

use std::sync::Arc;

use super::base::{AnalysisWork, BaseContext, analyse_scene, base_tokens};
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
            sections::history(store.recent_iterations(&project_id, sections::HISTORY_ITEMS)?);
        base.last_edited = history.last().map(|h| h.scene_id.clone());
        base.context.history = Arc::new(history);
    }
    if list_changed {
        let project = store.get_project(&project_id)?;
        base.context.project = sections::project_section(&project, base.context.scene_list.iter());
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
    base.context.tokens = base_tokens(base);
    Ok(Ok(()))
}

/// Returns whether the scene's name is new or changed (the name index must follow).
fn upsert_scene(
    store: &Store,
    base: &mut BaseContext,
    scene: Scene,
    work: &mut AnalysisWork,
) -> Result<Result<bool, NeedsRebuild>, ContextError> {
    let mut renamed = true;
    let existing = base
        .context
        .scene_list
        .iter()
        .position(|s| s.id == scene.id);
    let list = &mut base.context.scene_list;
    match existing {
        Some(i) => {
            if list[i].ord != scene.ord {
                return Ok(Err(NeedsRebuild::Reordered(scene.id)));
            }
            let entry = &mut list[i];
            renamed = entry.name != scene.name;
            entry.name = scene.name.clone();
            entry.duration_frames = scene.duration_frames;
            entry.updated_at = scene.updated_at;
        }
        None => {
            // Insert by (ord, id), as the store orders scenes.
            let at = list
                .iter()
                .position(|s| (s.ord, s.id.as_str()) > (scene.ord, scene.id.as_str()))
                .unwrap_or(list.len());
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
            if at + 1 < list.len() {
                renumber(list);
                recount_lines(base);
            }
        }
    }
    let position = base
        .context
        .scene_list
        .iter()
        .find(|s| s.id == scene.id)
        .map_or(0, |s| s.position);
    let line = base
        .context
        .scene_list
        .iter()
        .find(|s| s.id == scene.id)
        .map(|s| tokens::count_cached(&scene_list_line(s)))
        .unwrap_or(0);
    base.line_tokens.insert(scene.id.clone(), line);
    refresh_full_scenes(store, base, Some(&scene), position, work)?;
    Ok(Ok(renamed))
}

fn remove_scene(
    store: &Store,
    base: &mut BaseContext,
    scene_id: &str,
    work: &mut AnalysisWork,
) -> Result<(), ContextError> {
    let list = &mut base.context.scene_list;
    if let Some(i) = list.iter().position(|s| s.id == scene_id) {
        list.remove(i);
        renumber(list);
    }
    base.line_tokens.remove(scene_id);
    recount_lines(base);
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
    refresh_full_scenes(store, base, None, 0, work)
}

/// Recounts every scene list line (after positions shifted).
fn recount_lines(base: &mut BaseContext) {
    base.line_tokens = base
        .context
        .scene_list
        .iter()
        .map(|s| (s.id.clone(), tokens::count_cached(&scene_list_line(s))))
        .collect();
}

/// Positions follow list order; scene list lines embed them, so their tokens are recounted.
fn renumber(list: &mut imbl::Vector<SceneListEntry>) {
    for (i, s) in list.iter_mut().enumerate() {
        s.position = i + 1;
    }
}

/// Keeps `scenes_in_full` (and the analyses behind the style section) in step with the list.
fn refresh_full_scenes(
    store: &Store,
    base: &mut BaseContext,
    changed: Option<&Scene>,
    changed_position: usize,
    work: &mut AnalysisWork,
) -> Result<(), ContextError> {
    let project_id = base.context.project.id.clone();
    if base.flags.relevant {
        // The recent scenes: recompute which they are (one pass over the list, no code read).
        let recent = sections::most_recent(base.context.scene_list.iter(), sections::RECENT_SCENES);
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
                _ => store.get_scene(id)?.tsx_code,
            };
            let entry = base.context.scene_list.iter().find(|s| &s.id == id);
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
            base.code_tokens
                .insert(s.id.clone(), tokens::count_cached(&full_scene_text(s)));
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
                position: changed_position,
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
                    let at = changed_position
                        .saturating_sub(1)
                        .min(base.context.scenes_in_full.len());
                    base.context.scenes_in_full.insert(at, full);
                }
            }
        }
        // Positions may have shifted: re-stamp them from the list when they differ.
        let list = &base.context.scene_list;
        let shifted = base
            .context
            .scenes_in_full
            .iter()
            .zip(list.iter())
            .any(|(f, l)| f.id != l.id || f.position != l.position || f.name != l.name);
        if shifted {
            let mut full = imbl::Vector::new();
            for l in list.iter() {
                if let Some(f) = base.context.scenes_in_full.iter().find(|f| f.id == l.id) {
                    let mut f = f.clone();
                    f.position = l.position;
                    f.name = l.name.clone();
                    full.push_back(f);
                }
            }
            base.context.scenes_in_full = full;
            base.code_tokens = imbl::HashMap::new();
            for s in base.context.scenes_in_full.iter() {
                base.code_tokens
                    .insert(s.id.clone(), tokens::count_cached(&full_scene_text(s)));
            }
        } else if let Some(scene) = changed
            && let Some(f) = base
                .context
                .scenes_in_full
                .iter()
                .find(|f| f.id == scene.id)
        {
            base.code_tokens
                .insert(scene.id.clone(), tokens::count_cached(&full_scene_text(f)));
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
