//! Which scene a request is about, from its words: "scene 2", "the second scene", "the last
//! scene", "the intro", a scene's name, or else the most recently edited scene.
//!
//! The context builder uses this to pick the scene given in full under `relevant`; the model's
//! tool selection may still choose another target, which the pipeline then fetches.

use super::model::SceneListEntry;

const ORDINALS: [(&str, usize); 10] = [
    ("first", 1),
    ("second", 2),
    ("third", 3),
    ("fourth", 4),
    ("fifth", 5),
    ("sixth", 6),
    ("seventh", 7),
    ("eighth", 8),
    ("ninth", 9),
    ("tenth", 10),
];

/// How a target was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetMatch {
    /// The request names a position ("scene 2", "the second scene", "the last scene").
    Position(String),
    /// The request names a scene by (part of) its name.
    Name(String),
    /// No scene named: the most recently edited one.
    LastEdited(String),
    /// The request names a position that does not exist, e.g. "scene 42" of 5.
    Missing {
        asked: usize,
        available: usize,
    },
    None,
}

impl TargetMatch {
    pub fn scene_id(&self) -> Option<&str> {
        match self {
            TargetMatch::Position(id) | TargetMatch::Name(id) | TargetMatch::LastEdited(id) => {
                Some(id)
            }
            _ => None,
        }
    }
}

/// Splits into lowercase words of letters and digits.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether `word` makes the number before it a quantity rather than a scene's position:
/// "scene 2" names a scene, "the pricing scene 6 seconds long" does not. The context's target
/// resolution and the offline model's tool selection both ask this, so they always agree.
pub fn is_quantity_unit(word: &str) -> bool {
    matches!(
        word,
        "s" | "sec"
            | "secs"
            | "second"
            | "seconds"
            | "min"
            | "minute"
            | "minutes"
            | "f"
            | "frame"
            | "frames"
            | "ms"
            | "px"
            | "percent"
            | "%"
    )
}

/// The 1-based position a request names, if any (`usize::MAX` for "last").
pub fn named_position(prompt_words: &[String]) -> Option<usize> {
    for (i, w) in prompt_words.iter().enumerate() {
        let next = prompt_words.get(i + 1).map(String::as_str);
        // "scene 2", but not "the pricing scene 6 seconds long": a number with a unit after it
        // is a quantity.
        let unit_follows = prompt_words.get(i + 2).is_some_and(|u| is_quantity_unit(u));
        if w == "scene"
            && !unit_follows
            && let Some(n) = next.and_then(|n| n.parse::<usize>().ok())
        {
            return Some(n);
        }
        let is_scene_word = matches!(next, Some("scene") | Some("one") | Some("slide"));
        if is_scene_word {
            if w == "last" || w == "final" {
                return Some(usize::MAX);
            }
            if let Some((_, n)) = ORDINALS.iter().find(|(name, _)| name == w) {
                return Some(*n);
            }
        }
    }
    None
}

/// Resolves the target of `prompt` among `scenes` (in video order).
pub fn resolve(prompt: &str, scenes: &[SceneListEntry], last_edited: Option<&str>) -> TargetMatch {
    let index: Vec<(String, Vec<String>)> = scenes
        .iter()
        .map(|s| (s.id.clone(), words(&s.name)))
        .collect();
    let list: imbl::Vector<SceneListEntry> = scenes.iter().cloned().collect();
    resolve_indexed(prompt, &list, &index, last_edited)
}

/// [`resolve`] with the scene names already split into words (`name_index`, aligned with
/// `scenes`): what a cached context keeps, so resolving costs no allocation per scene.
pub fn resolve_indexed(
    prompt: &str,
    scenes: &imbl::Vector<SceneListEntry>,
    name_index: &[(String, Vec<String>)],
    last_edited: Option<&str>,
) -> TargetMatch {
    let prompt_words = words(prompt);
    if let Some(pos) = named_position(&prompt_words) {
        let index = if pos == usize::MAX { scenes.len() } else { pos };
        return match scenes.get(index.wrapping_sub(1)) {
            Some(s) if index >= 1 => TargetMatch::Position(s.id.clone()),
            _ => TargetMatch::Missing {
                asked: pos,
                available: scenes.len(),
            },
        };
    }
    // A scene's name: the longest name whose words all appear in the request wins.
    let mut best: Option<(&str, usize)> = None;
    for (id, name_words) in name_index {
        let mut score = 0;
        let mut all = true;
        let mut any = false;
        for nw in name_words {
            if nw.len() <= 2 || nw.parse::<u64>().is_ok() {
                continue;
            }
            any = true;
            if prompt_words.contains(nw) {
                score += nw.len();
            } else {
                all = false;
                break;
            }
        }
        if any && all && best.is_none_or(|(_, b)| score > b) {
            best = Some((id, score));
        }
    }
    if let Some((id, _)) = best {
        return TargetMatch::Name(id.to_string());
    }
    match last_edited.filter(|id| name_index.iter().any(|(s, _)| s == id)) {
        Some(id) => TargetMatch::LastEdited(id.to_string()),
        None => TargetMatch::None,
    }
}
