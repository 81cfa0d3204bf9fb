//! The legacy builder: the "before" of the seed, kept faithful so the comparison is honest.
//!
//! Every request it fetches every scene with its full code (twice, as the original's separate
//! helpers did), loops over them several times, analyses every scene, parses preferences out of
//! every message by hand into an in-memory map that dies with the process, and counts tokens
//! over the full text. It is slow only because of that work; nothing here sleeps.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::model::*;
use super::stats::*;
use super::{BuildRequest, Built, ContextError, Flags, prefs, sections, target};
use crate::store::Store;

#[derive(Default)]
pub struct LegacyBuilder {
    /// Preferences seen so far, per project: the in-memory map the seed replaced with memory.
    preference_map: HashMap<String, BTreeMap<String, PreferenceItem>>,
}

impl LegacyBuilder {
    pub fn build(
        &mut self,
        store: &Store,
        request: &BuildRequest<'_>,
    ) -> Result<Built, ContextError> {
        let mut clock = StepClock::start();
        let (q0, r0) = store.counters().snapshot();
        let project = store.get_project(request.project_id)?;

        // Loop 1: the scene list, from every scene with its code.
        let all = store.list_scenes(request.project_id)?;
        let mut list = Vec::new();
        for (i, s) in all.iter().enumerate() {
            list.push(SceneListEntry {
                id: s.id.clone(),
                name: s.name.clone(),
                position: i + 1,
                duration_frames: s.duration_frames,
                updated_at: s.updated_at,
                ord: s.ord,
            });
        }
        clock.step("scene_list");

        // Loop 2: fetch again and analyse every scene, every time.
        let again = store.list_scenes(request.project_id)?;
        let mut analyses = Vec::new();
        for s in &again {
            analyses.push((s.id.clone(), crate::analysis::analyse(&s.tsx_code)));
        }
        let style = sections::style(analyses.iter().map(|(id, a)| (id.as_str(), a)));
        clock.step("analysis");

        // Loop 3: the target and the relationships by scanning the scenes again.
        let history = sections::history(
            store
                .recent_iterations(request.project_id, sections::HISTORY_ITEMS)?
                .into_iter()
                .map(Into::into)
                .collect(),
        );
        let last_edited = history.last().map(|h| h.scene_id.clone());
        let target = target::resolve(request.prompt, &list, last_edited.as_deref());
        let relationships = sections::relationships_from_order(&list);
        let mut full = imbl::Vector::new();
        for s in &all {
            let position = list.iter().find(|l| l.id == s.id).map_or(0, |l| l.position);
            full.push_back(FullScene {
                id: s.id.clone(),
                name: s.name.clone(),
                position,
                reason: FullReason::All,
                code: s.tsx_code.clone(),
            });
        }
        clock.step("scenes");

        // Preferences: parsed by hand out of every message, into the in-memory map.
        let messages = store.list_messages(request.project_id, None)?;
        let parsed = prefs::parse_preferences(&messages);
        let map = self
            .preference_map
            .entry(request.project_id.to_string())
            .or_default();
        for (k, v) in parsed {
            map.insert(k, v);
        }
        let preferences = map.clone();
        clock.step("preferences");

        let images = sections::images(store.list_image_analyses(request.project_id)?);
        let revision = store.project_revision(request.project_id)?;
        let mut context = Context {
            project: sections::project_section(&project, list.iter()),
            revision,
            scene_list: list.into_iter().collect(),
            scenes_in_full: full,
            target_scene_id: target.scene_id().map(str::to_string),
            preferences: Arc::new(preferences),
            relationships: Arc::new(relationships),
            history: Arc::new(history),
            style: Arc::new(style),
            images: Arc::new(images),
            conversation: Arc::new(sections::conversation(&messages)),
            tokens: TokenCounts::default(),
        };
        clock.step("assemble");
        // Token accounting over the whole text, section by section, no memo.
        context.recount_tokens();
        clock.step("tokens");
        let (q1, r1) = store.counters().snapshot();
        Ok(Built {
            context,
            stats: BuildStats {
                path: BuildPath::Legacy,
                flags: Flags::LEGACY,
                build_us: clock.total_us(),
                steps: clock.steps,
                queries: q1 - q0,
                rows_read: r1 - r0,
                cache: CacheCounters::default(),
                cache_level: None,
                analyses_computed: analyses.len(),
                analyses_reused: 0,
                deltas_applied: 0,
                events: vec![EngineEvent::AnalysisComputed {
                    scenes: analyses.len(),
                }],
            },
        })
    }
}
