//! Which scene a request means: the one answer that the context builder (which scene to give in
//! full), the offline model (which scene to edit, or what to ask) and the check of a real
//! model's answer (which scene its `target_scene_id` names) all take.
//!
//! Phrasings, in the order they are tried:
//! 1. a position: "scene 2", "slide #3", "scene number 3", "scene two", and "#3" alone (a `#`
//!    number that cannot be a hex color); "scene 6 seconds" is a quantity, not scene 6;
//! 2. an ordinal before a scene noun or "one": "the second scene", "the 3rd slide", "the last
//!    one", "the penultimate scene", "second to last scene", "third from last scene", "the
//!    opening scene", "the closing scene";
//! 3. a scene's name: the whole name ("in Pricing Plans", "the pricing scene", "delete the
//!    outro"), else one word of it before a scene noun ("the pricing scene" for "Pricing
//!    Plans"); several scenes matching equally is a question;
//! 4. "the intro" / "the outro": the scene with that word in its name, else the first / last;
//! 5. nothing named: the scene edited last ("make it bigger"), else the only scene.
//!
//! A position that does not exist ("scene 42" of 5) is a [`Clarification`], never the nearest
//! scene. Quoted passages ("change the text to 'Scene 2 rocks'") name texts, not scenes.
//!
//! Positions are 1-based in video order, as users count: the scenes are given in that order and
//! a [`Found::index`] is the 0-based index into them.
//!
//! Cost: the scene names are split once into a [`SceneIndex`], when a request first needs
//! names (a position never does: see [`LazyIndex`]), and a cached context keeps it; resolving a
//! request then looks up the request's words in it, so it allocates nothing per scene and does
//! not pass over a list of 10,000 scenes.

pub mod words;

use std::collections::HashMap;
use std::sync::OnceLock;

pub use words::is_quantity_unit;
use words::{number, ordinal, without_quotes};

/// The scenes a request is resolved against, in video order (a scene's position is its index
/// plus one).
pub trait Scenes {
    fn count(&self) -> usize;
    /// The id of the scene at `index` (< `count()`).
    fn id(&self, index: usize) -> &str;
    /// The name of the scene at `index` (< `count()`).
    fn name(&self, index: usize) -> &str;
    /// The index of the scene with `id`. A scan by default; a caller with an id index answers
    /// without one.
    fn index_of(&self, id: &str) -> Option<usize> {
        (0..self.count()).find(|&i| self.id(i) == id)
    }
}

/// Where the resolver gets the [`SceneIndex`] of the scenes from, when a request needs names:
/// an index at hand, or one that a cached context builds on first use (a request naming a
/// position never needs it).
pub trait IndexSource {
    fn scene_index(&self) -> &SceneIndex;
}

impl IndexSource for SceneIndex {
    fn scene_index(&self) -> &SceneIndex {
        self
    }
}

/// The index of `scenes`, built the first time a request needs names and kept in `cell`.
pub struct LazyIndex<'a, S: Scenes + ?Sized> {
    cell: &'a OnceLock<SceneIndex>,
    scenes: &'a S,
}

impl<'a, S: Scenes + ?Sized> LazyIndex<'a, S> {
    /// `cell` must hold nothing or the index of these `scenes`.
    pub fn new(cell: &'a OnceLock<SceneIndex>, scenes: &'a S) -> Self {
        LazyIndex { cell, scenes }
    }
}

impl<S: Scenes + ?Sized> IndexSource for LazyIndex<'_, S> {
    fn scene_index(&self) -> &SceneIndex {
        self.cell.get_or_init(|| SceneIndex::of(self.scenes))
    }
}

/// The scene names split into words once, aligned with the scenes they were built from (the
/// same list, in the same order), with the words looked up by a request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SceneIndex {
    /// The words of each scene's name.
    names: Vec<Box<[String]>>,
    /// Scene indexes by the first word of their name (whole-name matches start there).
    by_first_word: HashMap<String, Vec<u32>>,
    /// Scene indexes by each word of their name that can name a scene on its own (not a
    /// [`NAME_STOPWORDS`] word), in scene order.
    by_word: HashMap<String, Vec<u32>>,
}

impl SceneIndex {
    /// Indexes the names of the scenes, in video order.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut index = SceneIndex::default();
        for (i, name) in names.into_iter().enumerate() {
            let name_words = words::words(name);
            let at = u32::try_from(i).unwrap_or(u32::MAX);
            if let Some(first) = name_words.first() {
                push_unique(&mut index.by_first_word, first, at);
            }
            for w in &name_words {
                if !NAME_STOPWORDS.contains(&w.as_str()) {
                    push_unique(&mut index.by_word, w, at);
                }
            }
            index.names.push(name_words.into_boxed_slice());
        }
        index
    }

    /// Indexes the names of `scenes`.
    pub fn of<S: Scenes + ?Sized>(scenes: &S) -> Self {
        SceneIndex::new((0..scenes.count()).map(|i| scenes.name(i)))
    }

    /// The number of scenes indexed.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The scenes with `word` in their name, in order.
    fn with_word(&self, word: &str) -> &[u32] {
        self.by_word.get(word).map_or(&[], Vec::as_slice)
    }
}

/// Adds `at` to `word`'s list unless it is there already (a name with a word twice).
fn push_unique(map: &mut HashMap<String, Vec<u32>>, word: &str, at: u32) {
    match map.get_mut(word) {
        Some(list) if list.last() == Some(&at) => {}
        Some(list) => list.push(at),
        None => {
            map.insert(word.to_string(), vec![at]);
        }
    }
}

/// What a request means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    Found(Found),
    /// The request names a scene, but not one scene: ask.
    Clarify(Clarification),
    /// The request names no scene and there is no scene to fall back on.
    Nothing,
}

impl Resolution {
    pub fn found(&self) -> Option<&Found> {
        match self {
            Resolution::Found(found) => Some(found),
            _ => None,
        }
    }
}

/// A scene and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// 0-based index into the scenes (position - 1).
    pub index: usize,
    pub how: How,
}

/// How a scene was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum How {
    /// A model's answer gave the scene's id.
    Id,
    /// A position or an ordinal, with the words that named it: "scene 2", "#3", "second to
    /// last", "last scene".
    Position(String),
    /// The scene's whole name.
    Name,
    /// One word of its name before a scene noun ("the pricing scene" for "Pricing Plans").
    NameWord(String),
    /// "the intro" / "the outro": the scene with that word in its name.
    Kind(&'static str),
    /// "the intro" / "the outro" when no scene is named so: the first / last scene.
    KindPosition(&'static str),
    /// Nothing named: the scene edited last ("make it bigger").
    LastEdited,
    /// Nothing named, nothing edited yet, and one scene.
    OnlyScene,
}

impl How {
    /// Whether the request named the scene by (part of) its name.
    pub fn by_name(&self) -> bool {
        matches!(self, How::Name | How::NameWord(_) | How::Kind(_))
    }
}

impl Found {
    /// How the scene was found, for a log line or a model's reasoning: `"scene 2"`,
    /// `name "Pricing"`, `the scene edited last`.
    pub fn describe<S: Scenes + ?Sized>(&self, scenes: &S) -> String {
        let name = || scenes.name(self.index);
        match &self.how {
            How::Id => "id".to_string(),
            How::Position(phrase) => format!("\"{phrase}\""),
            How::Name => format!("name \"{}\"", name()),
            How::NameWord(word) => format!("name word \"{word}\" of \"{}\"", name()),
            How::Kind(kind) => format!("name \"{}\" (the {kind})", name()),
            How::KindPosition(kind) => {
                format!("\"the {kind}\" (position {})", self.index + 1)
            }
            How::LastEdited => "the scene edited last".to_string(),
            How::OnlyScene => "the only scene".to_string(),
        }
    }
}

/// Why a request that names a scene gets a question instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clarification {
    /// A position the project does not have: "scene 42" of 5, "the tenth scene" of 5,
    /// "second to last" of 1 (`asked` 0).
    NoSuchPosition {
        asked: usize,
        available: usize,
        /// The words that named it.
        phrase: String,
    },
    /// Several scenes match the name equally well (indexes, in order).
    Ambiguous(Vec<usize>),
}

/// The most scenes a question lists before "and N more": a question about a project of 10,000
/// scenes stays readable.
const LISTED_IN_QUESTION: usize = 12;

impl Clarification {
    /// The question to ask the user.
    pub fn question<S: Scenes + ?Sized>(&self, scenes: &S) -> String {
        match self {
            Clarification::NoSuchPosition {
                asked,
                available,
                phrase,
            } => {
                let what = if *asked == 0 {
                    phrase.clone()
                } else {
                    format!("scene {asked}")
                };
                let listed = listing(
                    (0..*available).map(|i| format!("{} \"{}\"", i + 1, scenes.name(i))),
                    *available,
                    ", ",
                );
                format!(
                    "There is no {what}: the project has {available} scene{} ({listed}). Which one did you mean?",
                    if *available == 1 { "" } else { "s" },
                )
            }
            Clarification::Ambiguous(indexes) => {
                let listed = listing(
                    indexes
                        .iter()
                        .map(|&i| format!("scene {} \"{}\"", i + 1, scenes.name(i))),
                    indexes.len(),
                    " or ",
                );
                format!("Several scenes match: {listed}. Which one did you mean?")
            }
        }
    }
}

/// The first [`LISTED_IN_QUESTION`] items joined, then how many more there are.
fn listing(items: impl Iterator<Item = String>, total: usize, separator: &str) -> String {
    let shown: Vec<String> = items.take(LISTED_IN_QUESTION).collect();
    let mut text = shown.join(separator);
    if total > shown.len() {
        text.push_str(&format!(" and {} more", total - shown.len()));
    }
    text
}

/// The scene `prompt` means: what it names ([`explicit`]), else the scene edited last, else
/// the only scene.
pub fn resolve<S: Scenes + ?Sized>(
    prompt: &str,
    scenes: &S,
    index: &(impl IndexSource + ?Sized),
    last_edited: Option<&str>,
) -> Resolution {
    match explicit(prompt, scenes, index) {
        Resolution::Nothing => implicit(scenes, last_edited),
        named => named,
    }
}

/// The scene meant when a request names none: the one edited last, else the only one.
pub fn implicit<S: Scenes + ?Sized>(scenes: &S, last_edited: Option<&str>) -> Resolution {
    if let Some(index) = last_edited.and_then(|id| scenes.index_of(id)) {
        return Resolution::Found(Found {
            index,
            how: How::LastEdited,
        });
    }
    if scenes.count() == 1 {
        return Resolution::Found(Found {
            index: 0,
            how: How::OnlyScene,
        });
    }
    Resolution::Nothing
}

/// The scene a model's `target_scene_id` names when it is not an id as given: its id with
/// spaces around, a position ("2", "#2", "scene 2", "scene2"), a name ("Logo reveal",
/// "logo-reveal"), or any phrasing a request could use ("the last scene"). Never "it": a
/// model's answer must name its target.
pub fn reference<S: Scenes + ?Sized>(
    text: &str,
    scenes: &S,
    index: &(impl IndexSource + ?Sized),
) -> Resolution {
    let trimmed = text.trim();
    if let Some(i) = scenes.index_of(trimmed) {
        return Resolution::Found(Found {
            index: i,
            how: How::Id,
        });
    }
    let lower = trimmed.to_lowercase();
    let bare = SCENE_NOUNS
        .iter()
        .find_map(|noun| lower.strip_prefix(noun))
        .unwrap_or(&lower)
        .trim_start_matches([' ', '#', ':', '_', '-']);
    if let Ok(position) = bare.parse::<usize>() {
        return by_position(scenes.count(), position, trimmed.to_string());
    }
    let name_words = words::words(trimmed);
    let index = checked(scenes, index);
    if let Some(first) = name_words.first()
        && let Some(candidates) = index.by_first_word.get(first)
        && let Some(&i) = candidates
            .iter()
            .find(|&&i| index.names[i as usize][..] == name_words[..])
    {
        return Resolution::Found(Found {
            index: i as usize,
            how: How::Name,
        });
    }
    explicit(trimmed, scenes, index)
}

/// The scene `prompt` names, if it names one (rules 1 to 4 of the module documentation).
pub fn explicit<S: Scenes + ?Sized>(
    prompt: &str,
    scenes: &S,
    index: &(impl IndexSource + ?Sized),
) -> Resolution {
    let w = words::words(&without_quotes(prompt));
    let count = scenes.count();
    if let Some((position, phrase)) = numbered(&w).or_else(|| ordinal_phrase(&w, count)) {
        return by_position(count, position, phrase);
    }
    let index = checked(scenes, index);
    if let Some(named) = by_name(&w, index) {
        return named;
    }
    // "the intro" / "the outro": the scene with that word in its name, else the first / last.
    for (kind, fallback) in [("intro", 1), ("outro", count)] {
        if !w.iter().any(|x| x == kind) {
            continue;
        }
        if let Some(&i) = index.with_word(kind).first() {
            return Resolution::Found(Found {
                index: i as usize,
                how: How::Kind(kind),
            });
        }
        return match by_position(count, fallback, format!("the {kind}")) {
            Resolution::Found(found) => Resolution::Found(Found {
                how: How::KindPosition(kind),
                ..found
            }),
            other => other,
        };
    }
    Resolution::Nothing
}

/// The index from `source`, which must have been built from `scenes`.
fn checked<'a, S: Scenes + ?Sized>(
    scenes: &S,
    source: &'a (impl IndexSource + ?Sized),
) -> &'a SceneIndex {
    let index = source.scene_index();
    debug_assert_eq!(
        scenes.count(),
        index.len(),
        "the scene index was built from another scene list"
    );
    index
}

/// The scene at 1-based `position`, or the question that it does not exist.
fn by_position(count: usize, position: usize, phrase: String) -> Resolution {
    if position == 0 || position > count {
        return Resolution::Clarify(Clarification::NoSuchPosition {
            asked: position,
            available: count,
            phrase,
        });
    }
    Resolution::Found(Found {
        index: position - 1,
        how: How::Position(phrase),
    })
}

/// Words that name a scene: "scene 2", "slide 3", "the last shot".
pub const SCENE_NOUNS: &[&str] = &["scene", "slide", "section", "shot", "clip"];

/// A scene noun, singular or plural.
pub fn is_scene_noun(word: &str) -> bool {
    SCENE_NOUNS.iter().any(|n| {
        word.strip_prefix(n)
            .is_some_and(|rest| rest.is_empty() || rest == "s")
    })
}

/// A whole, non-negative number: "2", "#2", "two" (not "a", "an" or "half": "a scene 2
/// seconds long" names no scene).
fn position_number(word: &str) -> Option<usize> {
    let n = word.trim_start_matches('#');
    if matches!(n, "a" | "an" | "half") {
        return None;
    }
    number(n)
        .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= u32::MAX as f64)
        .map(|n| n as usize)
}

/// Rule 1: "scene 2", "slide #3", "scene number 3", or "#3" alone; never a quantity ("scene 6
/// seconds long").
fn numbered(w: &[String]) -> Option<(usize, String)> {
    let quantity_at = |i: usize| w.get(i).is_some_and(|u| is_quantity_unit(u));
    for (i, word) in w.iter().enumerate() {
        if !is_scene_noun(word) {
            continue;
        }
        let mut at = i + 1;
        if w.get(at).is_some_and(|x| x == "number" || x == "no") {
            at += 1;
        }
        if let Some(next) = w.get(at)
            && !quantity_at(at + 1)
            && let Some(position) = position_number(next)
        {
            return Some((position, w[i..=at].join(" ")));
        }
    }
    // "#3": a position unless it could be a hex color (#fff, #ffff, #ffffff, #ffffffff).
    w.iter().enumerate().find_map(|(i, word)| {
        let digits = word.strip_prefix('#')?;
        let is_position = !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit())
            && !matches!(digits.len(), 3 | 4 | 6 | 8)
            && !quantity_at(i + 1);
        is_position
            .then(|| digits.parse().ok())
            .flatten()
            .map(|n| (n, word.clone()))
    })
}

/// Rule 2: an ordinal before a scene noun or "one": "the second scene", "the last one",
/// "the penultimate slide", "second to last scene", "third from last scene".
fn ordinal_phrase(w: &[String], count: usize) -> Option<(usize, String)> {
    // The position `back` scenes from the end (1 = the last); 0 when there is none.
    let from_end = |back: usize| (count + 1).saturating_sub(back);
    for (i, word) in w.iter().enumerate() {
        let Some(noun) = w.get(i + 1).filter(|x| is_scene_noun(x) || *x == "one") else {
            continue;
        };
        let before = |back: usize| i.checked_sub(back).map(|b| w[b].as_str());
        let found = match word.as_str() {
            "last" | "final" => {
                // "second to last", "second from last", "second last", "next to last".
                let (ord, joined) = match (before(2), before(1)) {
                    (Some(o), Some("to" | "from")) => (Some(o), true),
                    (_, Some(o)) => (Some(o), false),
                    _ => (None, false),
                };
                let back = ord.and_then(|o| if o == "next" { Some(2) } else { ordinal(o) });
                match (back, ord) {
                    (Some(back), Some(o)) if back >= 1 => {
                        let phrase = if joined {
                            format!("{o} {} {word} {noun}", before(1).unwrap_or("to"))
                        } else {
                            format!("{o} {word} {noun}")
                        };
                        (from_end(back), phrase)
                    }
                    _ => (count, format!("{word} {noun}")),
                }
            }
            "penultimate" => (from_end(2), format!("{word} {noun}")),
            "antepenultimate" => (from_end(3), format!("{word} {noun}")),
            "opening" => (1, format!("{word} {noun}")),
            "closing" | "ending" => (count, format!("{word} {noun}")),
            _ => match ordinal(word) {
                Some(n) => (n, format!("{word} {noun}")),
                None => continue,
            },
        };
        return Some(found);
    }
    None
}

/// Words that also name parts of a scene; a scene called "Title" is only meant when the
/// request says "the title scene".
pub const NAME_STOPWORDS: &[&str] = &[
    "the",
    "a",
    "an",
    "and",
    "of",
    "our",
    "scene",
    "slide",
    "card",
    "title",
    "text",
    "new",
    "with",
    "for",
    "to",
    "in",
    "on",
    "logo",
    "background",
    "image",
    "button",
    "headline",
];

/// Words after which a single-word scene name is the object: "in Pricing", "delete the outro".
const NAME_LEADS: &[&str] = &[
    "in", "on", "from", "of", "into", "to", "after", "before", "delete", "remove", "trim",
    "shorten", "extend", "edit", "update",
];

/// How strongly a scene's name matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Strength {
    /// One word of the name before a scene noun.
    Word,
    /// The whole name.
    Whole,
}

/// Rule 3: the scene the request names by its name; `None` when no name matches.
fn by_name(w: &[String], index: &SceneIndex) -> Option<Resolution> {
    // (scene index, strength, the request's word where the match starts), in the order found;
    // the winner's `How` is made at the end, so a word that many names share costs no
    // allocation per scene.
    let mut found: Vec<(usize, Strength, usize)> = Vec::new();
    let is_lead = |at: Option<usize>| {
        at.and_then(|i| w.get(i))
            .is_some_and(|x| NAME_LEADS.contains(&x.as_str()))
    };
    for (j, word) in w.iter().enumerate() {
        for &i in index.by_first_word.get(word).map_or(&[][..], Vec::as_slice) {
            let name = &index.names[i as usize];
            if w.get(j..j + name.len()) != Some(&name[..]) {
                continue;
            }
            let followed_by_noun = w.get(j + name.len()).is_some_and(|x| is_scene_noun(x));
            let as_object = is_lead(j.checked_sub(1))
                || j >= 1 && w[j - 1] == "the" && is_lead(j.checked_sub(2));
            let distinctive = name.len() > 1 || !NAME_STOPWORDS.contains(&name[0].as_str());
            if followed_by_noun || distinctive && (name.len() > 1 || as_object) {
                found.push((i as usize, Strength::Whole, j));
            }
        }
    }
    // "the pricing scene" for a scene named "Pricing Plans".
    for (j, word) in w.iter().enumerate() {
        if w.get(j + 1).is_some_and(|x| is_scene_noun(x)) {
            for &i in index.with_word(word) {
                found.push((i as usize, Strength::Word, j));
            }
        }
    }
    let best = found.iter().map(|f| f.1).max()?;
    let mut scenes: Vec<usize> = found.iter().filter(|f| f.1 == best).map(|f| f.0).collect();
    scenes.sort_unstable();
    scenes.dedup();
    if scenes.len() > 1 {
        return Some(Resolution::Clarify(Clarification::Ambiguous(scenes)));
    }
    // The first way the one scene was found at its best strength.
    let &(index, strength, j) = found.iter().find(|f| f.1 == best)?;
    let how = match strength {
        Strength::Whole => How::Name,
        Strength::Word => How::NameWord(w[j].clone()),
    };
    Some(Resolution::Found(Found { index, how }))
}
