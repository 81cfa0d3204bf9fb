//! Which scene a request is about, as the context builder takes it from [`crate::resolve`]: the
//! same answer the offline model's tool selection and the check of a real model's answer take,
//! here with scene ids.
//!
//! The context builder uses it to pick the scene given in full under `relevant`; the model's
//! tool selection may still choose another target, which the pipeline then fetches.

use std::sync::{Arc, OnceLock};

use super::model::SceneListEntry;
use crate::resolve::{
    self, Clarification, How, IndexSource, LazyIndex, Resolution, SceneIndex, Scenes,
};

/// The target of a request, by scene id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetMatch {
    /// A scene, and how the request named it (or `LastEdited` / `OnlyScene` when it did not).
    Found {
        id: String,
        how: How,
    },
    /// The request names a position that does not exist, e.g. "scene 42" of 5.
    Missing {
        asked: usize,
        available: usize,
    },
    /// The request's words name several scenes equally well (ids in video order).
    Ambiguous(Vec<String>),
    None,
}

impl TargetMatch {
    pub fn scene_id(&self) -> Option<&str> {
        match self {
            TargetMatch::Found { id, .. } => Some(id),
            _ => None,
        }
    }

    /// The resolver's answer with ids for indexes.
    pub fn from_resolution<S: Scenes + ?Sized>(resolution: Resolution, scenes: &S) -> Self {
        match resolution {
            Resolution::Found(found) => TargetMatch::Found {
                id: scenes.id(found.index).to_string(),
                how: found.how,
            },
            Resolution::Clarify(Clarification::NoSuchPosition {
                asked, available, ..
            }) => TargetMatch::Missing { asked, available },
            Resolution::Clarify(Clarification::Ambiguous(indexes)) => TargetMatch::Ambiguous(
                indexes
                    .into_iter()
                    .map(|i| scenes.id(i).to_string())
                    .collect(),
            ),
            Resolution::Nothing => TargetMatch::None,
        }
    }
}

impl Scenes for [SceneListEntry] {
    fn count(&self) -> usize {
        self.len()
    }

    fn id(&self, index: usize) -> &str {
        &self[index].id
    }

    fn name(&self, index: usize) -> &str {
        &self[index].name
    }
}

/// A base's name index, built when a request first needs it: a request that names a
/// position ("scene 2") never looks at names, so a change of names (a scene added, deleted or
/// renamed, a snapshot read by a new process) costs nothing until a request names a scene by
/// name or says "it". Built once per version of the scene list and shared by every request on
/// it, and by the clones of the base that did not change names.
#[derive(Debug, Clone, Default)]
pub struct NameIndex(Arc<OnceLock<SceneIndex>>);

impl NameIndex {
    /// The index of `scenes` (the list this index stands for), built on first use.
    pub fn of<'a, S: Scenes + ?Sized>(&'a self, scenes: &'a S) -> LazyIndex<'a, S> {
        LazyIndex::new(&self.0, scenes)
    }

    /// Whether the index has been built (for tests).
    pub fn is_built(&self) -> bool {
        self.0.get().is_some()
    }
}

/// Derived from the scene list, which is what the comparison of two bases looks at.
impl PartialEq for NameIndex {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

/// The name index of a scene list, for [`resolve_with`].
pub fn name_index<'a>(scenes: impl IntoIterator<Item = &'a SceneListEntry>) -> SceneIndex {
    SceneIndex::new(scenes.into_iter().map(|s| s.name.as_str()))
}

/// Resolves the target of `prompt` among `scenes` (in video order), splitting their names
/// first: what the legacy builder does on every request. A cached base keeps the index
/// ([`crate::context::BaseContext::resolve_target`]).
pub fn resolve(prompt: &str, scenes: &[SceneListEntry], last_edited: Option<&str>) -> TargetMatch {
    resolve_with(prompt, scenes, &name_index(scenes), last_edited)
}

/// [`resolve`] with the name index already built (`index` from these `scenes`).
pub fn resolve_with<S: Scenes + ?Sized>(
    prompt: &str,
    scenes: &S,
    index: &(impl IndexSource + ?Sized),
    last_edited: Option<&str>,
) -> TargetMatch {
    TargetMatch::from_resolution(resolve::resolve(prompt, scenes, index, last_edited), scenes)
}
