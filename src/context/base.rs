//! The prompt-independent part of a context (what the cache holds), how the optimized builder
//! builds it from the store, and how a request's target is added to it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::model::*;
use super::stats::StepClock;
use super::{ContextError, Flags, prefs, sections, target, tokens};
use crate::analysis::{self, SceneAnalysis};
use crate::memory::{self, StoredSceneAnalysis};
use crate::resolve::Scenes;
use crate::store::{DerivedMemoryWrite, MemoryType, MemoryWrite, Message, Project, Scene, Store};
use crate::util::content_hash;

/// Stored analyses above this confidence are trusted by `lazy` (the seed's threshold).
pub const TRUST_CONFIDENCE: f64 = 0.8;

/// A context without a target: identical for every request until the project changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaseContext {
    /// `target_scene_id` is always `None` here; `scenes_in_full` holds the recent scenes
    /// (`relevant`) or every scene.
    pub context: Context,
    /// What the base was built with (the content-relevant flags must match to be served).
    pub flags: Flags,
    /// The analyses the style section was computed from, by scene id.
    pub analyses: BTreeMap<String, (String, Arc<SceneAnalysis>)>,
    /// Tokens of each scene list line and each full scene's text, by scene id.
    pub line_tokens: imbl::HashMap<String, usize>,
    pub code_tokens: imbl::HashMap<String, usize>,
    /// The scene changed most recently by an edit (for "it").
    pub last_edited: Option<String>,
    /// The scene names split into words once (when a request first needs them), aligned with
    /// the scene list, so that resolving a request's target allocates nothing per scene.
    #[serde(skip)]
    pub name_index: target::NameIndex,
    /// Each scene's 1-based list position by id, so that an update finds its scene without
    /// scanning a list of 10,000.
    #[serde(skip)]
    pub positions: imbl::HashMap<String, usize>,
    /// The sum of `line_tokens`, kept as lines change rather than summed on every update.
    #[serde(skip)]
    pub scene_list_tokens: usize,
}

/// The base's scene list for the resolver, with the position index for ids: resolving "it"
/// looks the scene edited last up instead of scanning the list.
impl Scenes for BaseContext {
    fn count(&self) -> usize {
        self.context.scene_list.len()
    }

    fn id(&self, index: usize) -> &str {
        &self.context.scene_list[index].id
    }

    fn name(&self, index: usize) -> &str {
        &self.context.scene_list[index].name
    }

    fn index_of(&self, id: &str) -> Option<usize> {
        let position = *self.positions.get(id)?;
        self.entry(id).and(position.checked_sub(1))
    }
}

/// What a full build read from the store.
pub struct Rows {
    pub project: Project,
    pub scenes: Vec<SceneListEntry>,
    /// Code of the scenes to give in full (all, or the recent ones).
    pub full_code: Vec<Scene>,
    pub preferences: BTreeMap<String, PreferenceItem>,
    pub relationships: BTreeMap<String, String>,
    pub images: Vec<ImageItem>,
    pub messages: Vec<Message>,
    pub history: Vec<HistoryItem>,
    pub last_edited: Option<String>,
}

/// Counts of analysis work in one build, and the analyses it computed for the store.
#[derive(Debug, Default, Clone)]
pub struct AnalysisWork {
    pub computed: usize,
    pub reused: usize,
    /// Whether computed analyses are collected in `derived` for the caller to write behind the
    /// request (the cache's writer thread) instead of being written at once.
    pub defer_writes: bool,
    pub derived: Vec<DerivedMemoryWrite>,
}

/// Reads everything a base needs; with `parallel`, independent reads run on their own
/// connections at once.
pub fn read_rows(
    store: &Store,
    readers: &mut ReaderPool,
    project_id: &str,
    flags: Flags,
) -> Result<Rows, ContextError> {
    if flags.parallel {
        // A connection is not shareable between threads: each worker owns one and hands it back.
        let [a, b, c] = readers.take(store)?;
        let (project, scenes, talk, rest) = std::thread::scope(|scope| {
            let scenes = scope.spawn(move || (read_scenes(&a, project_id, flags), a));
            let talk = scope.spawn(move || (read_talk(&b, project_id, flags), b));
            let rest = scope.spawn(move || (read_rest(&c, project_id), c));
            let project = store.get_project(project_id).map_err(ContextError::from);
            (project, scenes.join(), talk.join(), rest.join())
        });
        let (scenes, a) = scenes.map_err(|_| ContextError::Worker)?;
        let (talk, b) = talk.map_err(|_| ContextError::Worker)?;
        let (rest, c) = rest.map_err(|_| ContextError::Worker)?;
        for reader in [&a, &b, &c] {
            let (q, r) = reader.counters().snapshot();
            store.counters().record_many(q, r);
        }
        readers.give_back([a, b, c]);
        let (scenes, full_code) = scenes?;
        let (preferences, relationships, messages) = talk?;
        let (images, history, last_edited) = rest?;
        let relationships =
            relationships.unwrap_or_else(|| sections::relationships_from_order(&scenes));
        Ok(Rows {
            project: project?,
            scenes,
            full_code,
            preferences,
            relationships,
            images,
            messages,
            history,
            last_edited,
        })
    } else {
        let project = store.get_project(project_id)?;
        let (scenes, full_code) = read_scenes(store, project_id, flags)?;
        let (preferences, relationships, messages) = read_talk(store, project_id, flags)?;
        let (images, history, last_edited) = read_rest(store, project_id)?;
        let relationships =
            relationships.unwrap_or_else(|| sections::relationships_from_order(&scenes));
        Ok(Rows {
            project,
            scenes,
            full_code,
            preferences,
            relationships,
            images,
            messages,
            history,
            last_edited,
        })
    }
}

type SceneRows = (Vec<SceneListEntry>, Vec<Scene>);

fn read_scenes(store: &Store, project_id: &str, flags: Flags) -> Result<SceneRows, ContextError> {
    if flags.relevant {
        let list = sections::scene_list(store.list_scene_meta(project_id)?);
        let recent = store.recent_scenes(project_id, sections::RECENT_SCENES)?;
        Ok((list, recent))
    } else {
        let full = store.list_scenes(project_id)?;
        let list = sections::scene_list(full.iter().map(crate::store::SceneMeta::from));
        Ok((list, full))
    }
}

type TalkRows = (
    BTreeMap<String, PreferenceItem>,
    Option<BTreeMap<String, String>>,
    Vec<Message>,
);

fn read_talk(store: &Store, project_id: &str, flags: Flags) -> Result<TalkRows, ContextError> {
    if flags.memory {
        let prefs = sections::preferences_from_memory(memory::preferences(store, project_id)?);
        let rels = memory::relationships(store, project_id)?;
        let messages = store.list_messages(project_id, Some(sections::CONVERSATION_MESSAGES))?;
        Ok((prefs, Some(rels), messages))
    } else {
        // Without memory, preferences are parsed out of every message, every time.
        let messages = store.list_messages(project_id, None)?;
        Ok((prefs::parse_preferences(&messages), None, messages))
    }
}

type RestRows = (Vec<ImageItem>, Vec<HistoryItem>, Option<String>);

fn read_rest(store: &Store, project_id: &str) -> Result<RestRows, ContextError> {
    let images = sections::images(store.list_image_analyses(project_id)?);
    let history = sections::history(store.recent_history(project_id, sections::HISTORY_ITEMS)?);
    let last_edited = history.last().map(|h| h.scene_id.clone());
    Ok((images, history, last_edited))
}

/// Connections for parallel reads, opened once and reused.
#[derive(Default)]
pub struct ReaderPool {
    idle: Vec<Store>,
}

impl ReaderPool {
    pub fn take(&mut self, store: &Store) -> Result<[Store; 3], ContextError> {
        while self.idle.len() < 3 {
            self.idle.push(store.open_reader()?);
        }
        let c = self.idle.pop().ok_or(ContextError::Worker)?;
        let b = self.idle.pop().ok_or(ContextError::Worker)?;
        let a = self.idle.pop().ok_or(ContextError::Worker)?;
        for s in [&a, &b, &c] {
            s.counters().reset();
        }
        Ok([a, b, c])
    }

    pub fn give_back(&mut self, conns: [Store; 3]) {
        self.idle.extend(conns);
    }
}

/// The analysis of one scene: the stored one when `lazy` and it is current and confident,
/// else computed now (and, with `lazy`, stored for next time).
pub fn analyse_scene(
    store: &Store,
    project_id: &str,
    scene_id: &str,
    code: &str,
    lazy: bool,
    work: &mut AnalysisWork,
) -> Result<(String, Arc<SceneAnalysis>), ContextError> {
    let hash = content_hash(code);
    let (stored, seen_updated_at) = if lazy {
        memory::scene_analysis_seen(store, project_id, scene_id)?
    } else {
        (None, None)
    };
    if let Some((stored, confidence)) = stored
        && confidence > TRUST_CONFIDENCE
        && stored.content_hash == hash
        && stored.analyser_version == analysis::ANALYSER_VERSION
        && let Ok(a) = serde_json::from_value::<SceneAnalysis>(stored.analysis)
    {
        work.reused += 1;
        return Ok((hash, Arc::new(a)));
    }
    let analysis = analysis::analyse(code);
    work.computed += 1;
    if lazy {
        let value = serde_json::to_string(&StoredSceneAnalysis {
            content_hash: hash.clone(),
            analyser_version: analysis::ANALYSER_VERSION,
            analysis: serde_json::to_value(&analysis).map_err(ContextError::Json)?,
        })
        .map_err(ContextError::Json)?;
        let write = DerivedMemoryWrite {
            write: MemoryWrite {
                project_id: project_id.to_string(),
                memory_type: MemoryType::SceneAnalysis,
                key: scene_id.to_string(),
                value,
                confidence: analysis::confidence(&analysis),
                source_prompt: format!("scene analysis v{}", analysis::ANALYSER_VERSION),
                learned_at: None,
            },
            seen_updated_at,
        };
        if work.defer_writes {
            work.derived.push(write);
        } else {
            record_derived_or_warn(store, &write);
        }
    }
    Ok((hash, Arc::new(analysis)))
}

/// Stores an analysis a build computed. Storing it only saves a later build some work: a
/// failed write (a full disk, a locked or read-only file) is a warning, never a failed build.
pub fn record_derived_or_warn(store: &Store, derived: &DerivedMemoryWrite) {
    if let Err(e) = store.record_derived_memory(derived) {
        tracing::warn!(
            project = derived.write.project_id,
            scene = derived.write.key,
            "could not store a scene analysis (the build goes on without it): {e}"
        );
    }
}

/// Analyses the given scenes, in parallel chunks when `parallel` and there are many.
pub fn analyse_scenes(
    store: &Store,
    project_id: &str,
    scenes: &[&Scene],
    flags: Flags,
    work: &mut AnalysisWork,
) -> Result<BTreeMap<String, (String, Arc<SceneAnalysis>)>, ContextError> {
    let mut out = BTreeMap::new();
    if flags.parallel && !flags.lazy && scenes.len() >= 16 {
        // Pure computation: no store access needed without lazy.
        let threads = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .min(8);
        let chunk = scenes.len().div_ceil(threads);
        let results: Vec<Vec<(String, String, Arc<SceneAnalysis>)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = scenes
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|s| {
                                (
                                    s.id.clone(),
                                    content_hash(&s.tsx_code),
                                    Arc::new(analysis::analyse(&s.tsx_code)),
                                )
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        for (id, hash, a) in results.into_iter().flatten() {
            work.computed += 1;
            out.insert(id, (hash, a));
        }
        if out.len() == scenes.len() {
            return Ok(out);
        }
    }
    for s in scenes {
        if out.contains_key(&s.id) {
            continue;
        }
        let v = analyse_scene(store, project_id, &s.id, &s.tsx_code, flags.lazy, work)?;
        out.insert(s.id.clone(), v);
    }
    Ok(out)
}

/// Builds a base from rows: every section and its tokens.
pub fn assemble(
    store: &Store,
    rows: Rows,
    flags: Flags,
    revision: i64,
    clock: &mut StepClock,
    work: &mut AnalysisWork,
) -> Result<BaseContext, ContextError> {
    let Rows {
        project,
        scenes,
        full_code,
        preferences,
        relationships,
        images,
        messages,
        history,
        last_edited,
    } = rows;
    let positions: BTreeMap<&str, (usize, &str)> = scenes
        .iter()
        .map(|s| (s.id.as_str(), (s.position, s.name.as_str())))
        .collect();
    let reason = if flags.relevant {
        FullReason::Recent
    } else {
        FullReason::All
    };
    // Full scenes in the order the section shows them: recent ones newest first, else video order.
    let mut full: Vec<&Scene> = full_code.iter().collect();
    if !flags.relevant {
        full.sort_by_key(|s| positions.get(s.id.as_str()).map_or(usize::MAX, |p| p.0));
    }
    let analyses = analyse_scenes(store, &project.id, &full, flags, work)?;
    clock.step("analysis");

    let scenes_in_full: imbl::Vector<FullScene> = full
        .iter()
        .filter_map(|s| {
            positions.get(s.id.as_str()).map(|(pos, name)| FullScene {
                id: s.id.clone(),
                name: name.to_string(),
                position: *pos,
                reason,
                code: s.tsx_code.clone(),
            })
        })
        .collect();
    let style = sections::style(
        analyses
            .iter()
            .map(|(id, (_, a))| (id.as_str(), a.as_ref())),
    );
    let mut context = Context {
        project: sections::project_section(&project, scenes.iter()),
        revision,
        scene_list: scenes.into_iter().collect(),
        scenes_in_full,
        target_scene_id: None,
        preferences: Arc::new(preferences),
        relationships: Arc::new(relationships),
        history: Arc::new(history),
        style: Arc::new(style),
        images: Arc::new(images),
        conversation: Arc::new(sections::conversation(&messages)),
        tokens: TokenCounts::default(),
    };
    let line_tokens = scene_line_tokens(&context.scene_list);
    let mut code_tokens = imbl::HashMap::new();
    for s in context.scenes_in_full.iter() {
        code_tokens.insert(s.id.clone(), full_scene_tokens(s));
    }
    let mut base = BaseContext {
        context: Context {
            tokens: TokenCounts::default(),
            ..context.clone()
        },
        flags,
        analyses,
        line_tokens,
        code_tokens,
        last_edited,
        name_index: target::NameIndex::default(),
        positions: imbl::HashMap::new(),
        scene_list_tokens: 0,
    };
    base.reindex();
    context.tokens = base_tokens(&base);
    base.context = context;
    clock.step("tokens");
    Ok(base)
}

/// The token count of each scene list line, by scene id.
fn scene_line_tokens(list: &imbl::Vector<SceneListEntry>) -> imbl::HashMap<String, usize> {
    list.iter()
        .map(|s| (s.id.clone(), tokens::count_cached(&scene_list_line(s))))
        .collect()
}

/// Token counts of a base: small sections counted from their text, large ones summed from the
/// per-scene memo.
pub fn base_tokens(base: &BaseContext) -> TokenCounts {
    base_tokens_since(base, None)
}

/// [`base_tokens`] after an update of a base whose context was `before`: a small section whose
/// data did not change (compared without rendering: shared data is equal at a glance) keeps
/// its count, the others are rendered and counted again.
pub fn base_tokens_since(base: &BaseContext, before: Option<&Context>) -> TokenCounts {
    let mut t = TokenCounts::default();
    for name in SECTION_NAMES {
        let n = match name {
            "scene_list" => base.scene_list_tokens,
            "scenes_in_full" => base.code_tokens.values().sum(),
            _ => match before.and_then(|b| b.tokens.sections.get(name).map(|n| (b, *n))) {
                Some((b, n)) if !super::diff::section_differs(b, &base.context, name) => n,
                _ => tokens::count_cached(&base.context.render_section(name)),
            },
        };
        t.sections.insert(name.to_string(), n);
    }
    t.total = t.sections.values().sum();
    t
}

impl BaseContext {
    /// Rebuilds what is derived from the scene list and not stored with a snapshot: the name
    /// index, the position index and the scene list's token sum.
    pub fn reindex(&mut self) {
        self.rebuild_name_index();
        self.index_positions();
    }

    /// After a scene was inserted or deleted mid-list every later scene has a new position:
    /// renumbers the list and brings along what follows positions, each list line's tokens (a
    /// line shows its position), their sum and the position index.
    pub fn positions_shifted(&mut self) {
        for (i, s) in self.context.scene_list.iter_mut().enumerate() {
            s.position = i + 1;
        }
        self.line_tokens = scene_line_tokens(&self.context.scene_list);
        self.index_positions();
    }

    /// The position index and the scene list's token sum, from the list and its line tokens.
    fn index_positions(&mut self) {
        self.positions = self
            .context
            .scene_list
            .iter()
            .map(|s| (s.id.clone(), s.position))
            .collect();
        self.scene_list_tokens = self.line_tokens.values().sum();
    }

    /// The scene list entry of a scene, found through the position index.
    pub fn entry(&self, scene_id: &str) -> Option<&SceneListEntry> {
        let position = *self.positions.get(scene_id)?;
        let entry = self.context.scene_list.get(position.checked_sub(1)?);
        debug_assert!(
            entry.is_some_and(|e| e.id == scene_id),
            "position index out of step for {scene_id}"
        );
        entry.filter(|e| e.id == scene_id)
    }

    /// Records the token count of one scene list line, keeping the section's sum.
    pub fn set_line_tokens(&mut self, scene_id: &str, tokens: usize) {
        let old = self.line_tokens.insert(scene_id.to_string(), tokens);
        self.scene_list_tokens = (self.scene_list_tokens + tokens).saturating_sub(old.unwrap_or(0));
    }

    pub fn remove_line_tokens(&mut self, scene_id: &str) {
        if let Some(old) = self.line_tokens.remove(scene_id) {
            self.scene_list_tokens = self.scene_list_tokens.saturating_sub(old);
        }
    }

    /// After the scene list changed other than in place (a scene added, deleted or renamed):
    /// the name index must stay aligned with the list.
    pub fn rebuild_name_index(&mut self) {
        self.name_index = target::NameIndex::default();
    }

    /// Resolves the request's target scene id against this base.
    pub fn resolve_target(&self, prompt: &str) -> target::TargetMatch {
        let index = self.name_index.of(self);
        target::resolve_with(prompt, self, &index, self.last_edited.as_deref())
    }

    /// The context for one request: the base plus the target scene in full.
    pub fn finish(&self, store: &Store, prompt: &str) -> Result<Context, ContextError> {
        self.finish_counted(store, prompt).map(|(ctx, _)| ctx)
    }

    /// [`Self::finish`], with the token counts it made that the store does not have yet (a
    /// target scene not given in full, counted for the first time), for the caller to keep
    /// there. A process that has not loaded the tokenizer (a new one, served from a snapshot)
    /// first looks such counts up in the store, where the process that made them left them.
    pub fn finish_counted(
        &self,
        store: &Store,
        prompt: &str,
    ) -> Result<(Context, Vec<(u64, usize)>), ContextError> {
        let mut new_counts = Vec::new();
        let mut ctx = self.context.clone();
        let target = self.resolve_target(prompt);
        let Some(target_id) = target.scene_id().map(str::to_string) else {
            return Ok((ctx, new_counts));
        };
        ctx.target_scene_id = Some(target_id.clone());
        if !self.flags.relevant {
            return Ok((ctx, new_counts));
        }
        let existing = ctx.scenes_in_full.iter().position(|s| s.id == target_id);
        let target_scene = match existing {
            Some(i) => {
                let mut s = ctx.scenes_in_full.remove(i);
                s.reason = FullReason::Target;
                s
            }
            None => {
                let scene = store.get_scene(&target_id)?;
                let position = self.entry(&target_id).map_or(0, |s| s.position);
                let target = FullScene {
                    id: scene.id,
                    name: scene.name,
                    position,
                    reason: FullReason::Target,
                    code: scene.tsx_code,
                };
                new_counts = counts_to_keep(store, &target);
                target
            }
        };
        ctx.scenes_in_full.push_front(target_scene);
        let n: usize = ctx.scenes_in_full.iter().map(full_scene_tokens).sum();
        ctx.set_section_tokens("scenes_in_full", n);
        Ok((ctx, new_counts))
    }
}

/// The counts of a target scene fetched from the store that the memo lacks: looked up in the
/// store first when the tokenizer is not loaded (one indexed query per count instead of the
/// tokenizer's 100 ms start-up), and those still unknown counted now and returned, to be kept
/// in the store for the next process.
fn counts_to_keep(store: &Store, target: &FullScene) -> Vec<(u64, usize)> {
    let unknown = |keys: &[u64]| -> Vec<u64> {
        keys.iter()
            .copied()
            .filter(|&k| tokens::memo_get(k).is_none())
            .collect()
    };
    let mut missing = unknown(&full_scene_memo_keys(target));
    if missing.is_empty() {
        return Vec::new();
    }
    if !tokens::is_loaded() {
        match store.token_counts(tokens::TOKENIZER, &missing) {
            Ok(found) => {
                tokens::remember(&found);
                missing = unknown(&missing);
            }
            // The counts are only saved work: without them the scene is counted now.
            Err(e) => tracing::debug!("could not read stored token counts: {e}"),
        }
        if missing.is_empty() {
            return Vec::new();
        }
    }
    full_scene_known_counts(target)
}
