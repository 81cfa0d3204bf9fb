//! The `Context` a build produces: what the model needs for one edit, with token counts.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The names of the context's sections, in the order they are rendered (stable part first).
pub const SECTION_NAMES: [&str; 9] = [
    "project",
    "preferences",
    "style",
    "scene_list",
    "relationships",
    "images",
    "history",
    "conversation",
    "scenes_in_full",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectSection {
    pub id: String,
    pub title: String,
    pub user_id: String,
    pub scene_count: usize,
    pub total_duration_frames: i64,
}

/// One scene as the scene list shows it (no code).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SceneListEntry {
    pub id: String,
    pub name: String,
    /// 1-based position in the video.
    pub position: usize,
    pub duration_frames: i64,
    /// When the scene last changed (ms); "most recent scenes" are the largest.
    pub updated_at: i64,
    /// The stored order key (positions are derived from it).
    pub ord: i64,
}

/// Why a scene is given in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FullReason {
    /// The scene the request is about.
    Target,
    /// One of the two most recently changed scenes.
    Recent,
    /// `relevant` is off: every scene is given in full.
    All,
}

/// A scene given with its code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FullScene {
    pub id: String,
    pub name: String,
    pub position: usize,
    pub reason: FullReason,
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreferenceItem {
    pub value: String,
    pub confidence: f64,
}

/// Style patterns and common elements, from scene analyses.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StyleSection {
    /// Colors, most used first, with how many analysed scenes use them.
    pub colors: Vec<(String, usize)>,
    pub fonts: Vec<(String, usize)>,
    pub common_elements: Vec<(String, usize)>,
    /// Ids of the scenes these figures come from.
    pub analysed_scenes: Vec<String>,
}

/// An uploaded image, in upload order so "the second image" resolves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageItem {
    /// 1-based upload order.
    pub position: usize,
    pub id: String,
    pub urls: Vec<String>,
    pub palette: serde_json::Value,
    pub typography: String,
    pub mood: String,
}

/// A past change to a scene.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryItem {
    pub scene_id: String,
    pub operation: String,
    pub prompt: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationItem {
    pub role: String,
    pub content: String,
}

/// Token counts per section (tiktoken cl100k).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TokenCounts {
    pub sections: BTreeMap<String, usize>,
    pub total: usize,
}

/// Everything the model needs for one edit. Large sections sit behind `Arc`, so serving a cached
/// context clones pointers, not scenes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Context {
    pub project: ProjectSection,
    /// The project revision this context reflects.
    pub revision: i64,
    pub scene_list: imbl::Vector<SceneListEntry>,
    pub scenes_in_full: imbl::Vector<FullScene>,
    /// The scene the request appears to be about, if any.
    pub target_scene_id: Option<String>,
    pub preferences: Arc<BTreeMap<String, PreferenceItem>>,
    pub relationships: Arc<BTreeMap<String, String>>,
    pub history: Arc<Vec<HistoryItem>>,
    pub style: Arc<StyleSection>,
    pub images: Arc<Vec<ImageItem>>,
    pub conversation: Arc<Vec<ConversationItem>>,
    pub tokens: TokenCounts,
}

impl Context {
    /// The text of one section, as it is sent to the model and diffed.
    pub fn render_section(&self, name: &str) -> String {
        let mut out = String::new();
        match name {
            "project" => {
                let p = &self.project;
                let _ = writeln!(
                    out,
                    "Project: {} ({}), {} scenes, {} frames in all",
                    p.title, p.id, p.scene_count, p.total_duration_frames
                );
            }
            "preferences" => render_preferences(&mut out, &self.preferences),
            "style" => render_style(&mut out, &self.style),
            "scene_list" => {
                for s in self.scene_list.iter() {
                    out.push_str(&scene_list_line(s));
                }
            }
            "relationships" => {
                for (k, v) in self.relationships.iter() {
                    let _ = writeln!(out, "- {k}: {v}");
                }
            }
            "images" => {
                for i in self.images.iter() {
                    out.push_str(&image_line(i));
                }
            }
            "history" => {
                for h in self.history.iter() {
                    let _ = writeln!(out, "- {} {}: {}", h.operation, h.scene_id, h.prompt);
                }
            }
            "conversation" => {
                for c in self.conversation.iter() {
                    let _ = writeln!(out, "{}: {}", c.role, c.content);
                }
            }
            "scenes_in_full" => {
                for s in &self.scenes_in_full {
                    out.push_str(&full_scene_text(s));
                }
            }
            _ => {}
        }
        out
    }

    /// The whole context as text, section by section, stable sections first.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for name in SECTION_NAMES {
            let body = self.render_section(name);
            let _ = writeln!(out, "## {name}");
            out.push_str(&body);
        }
        out
    }

    /// Equality of what the model sees, ignoring nothing but the revision stamp.
    pub fn same_content(&self, other: &Context) -> bool {
        self.differing_sections(other).is_empty()
    }

    /// What differs between two contexts, compared field by field (not by rendered text, which
    /// leaves out ids, stored order keys and the analysed scenes): the names of the sections
    /// ([`SECTION_NAMES`]) whose content or token count differ, then `target` if the target
    /// scenes differ and `tokens` if only the total token count does. Empty means the same
    /// content; the revision stamp is not content.
    pub fn differing_sections(&self, other: &Context) -> Vec<&'static str> {
        // Every field is named here, so that a field added to `Context` cannot be left out of
        // the comparison (shadow verification relies on it) without a compile error.
        let Context {
            project,
            revision: _,
            scene_list,
            scenes_in_full,
            target_scene_id,
            preferences,
            relationships,
            history,
            style,
            images,
            conversation,
            tokens,
        } = self;
        let content = |name: &str| match name {
            "project" => *project == other.project,
            "preferences" => *preferences == other.preferences,
            "style" => *style == other.style,
            "scene_list" => *scene_list == other.scene_list,
            "relationships" => *relationships == other.relationships,
            "images" => *images == other.images,
            "history" => *history == other.history,
            "conversation" => *conversation == other.conversation,
            "scenes_in_full" => *scenes_in_full == other.scenes_in_full,
            // A section added to SECTION_NAMES but not here never compares equal: it shows up
            // as a difference at once instead of passing unchecked.
            _ => false,
        };
        let mut out: Vec<&'static str> = SECTION_NAMES
            .into_iter()
            .filter(|name| {
                !content(name) || tokens.sections.get(*name) != other.tokens.sections.get(*name)
            })
            .collect();
        if *target_scene_id != other.target_scene_id {
            out.push("target");
        }
        if out.is_empty() && *tokens != other.tokens {
            out.push("tokens");
        }
        out
    }

    /// Recounts every section's tokens.
    pub fn recount_tokens(&mut self) {
        let mut sections = BTreeMap::new();
        for name in SECTION_NAMES {
            sections.insert(
                name.to_string(),
                super::tokens::count(&self.render_section(name)),
            );
        }
        self.tokens.total = sections.values().sum();
        self.tokens.sections = sections;
    }

    /// Sets one section's token count and the total.
    pub fn set_section_tokens(&mut self, name: &str, n: usize) {
        self.tokens.sections.insert(name.to_string(), n);
        self.tokens.total = self.tokens.sections.values().sum();
    }
}

pub fn scene_list_line(s: &SceneListEntry) -> String {
    format!(
        "{}. {} [{}] {} frames\n",
        s.position,
        on_one_line(&s.name),
        on_one_line(&s.id),
        s.duration_frames
    )
}

/// `text` with its line breaks shown as spaces: each scene is exactly one line of the scene
/// list, so a name typed with a line break cannot pass for another scene's line, and the diff
/// knows a list line's number from its position without reading every name before it.
pub fn on_one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(['\n', '\r']) {
        std::borrow::Cow::Owned(text.replace(['\n', '\r'], " "))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

pub fn image_line(i: &ImageItem) -> String {
    format!(
        "Image {}: {} palette {} typography {} mood {}\n",
        i.position,
        i.urls.join(" "),
        i.palette,
        i.typography,
        i.mood
    )
}

pub fn full_scene_text(s: &FullScene) -> String {
    format!(
        "{}{}{}",
        full_scene_header(s),
        s.code,
        super::tokens::CODE_FENCE_END
    )
}

/// The header line of a scene given in full and the fence that opens its code.
fn full_scene_header(s: &FullScene) -> String {
    format!(
        "### Scene {} \"{}\" [{}] ({:?})\n```tsx\n",
        s.position, s.name, s.id, s.reason
    )
}

/// The tokens of [`full_scene_text`], counted as its header and its fenced code apart where
/// cl100k cannot join them (code that starts a line with text, as code does): the code's count
/// is then looked up once per version, whatever its position, name or reason, with no copy.
pub fn full_scene_tokens(s: &FullScene) -> usize {
    if super::tokens::splits_before(&s.code) {
        super::tokens::count_cached(&full_scene_header(s))
            + super::tokens::count_fenced_code(&s.code)
    } else {
        super::tokens::count_cached(&full_scene_text(s))
    }
}

/// The memo keys [`full_scene_tokens`] looks up for `s`, computed without counting anything.
pub fn full_scene_memo_keys(s: &FullScene) -> Vec<u64> {
    if super::tokens::splits_before(&s.code) {
        vec![
            super::tokens::memo_key(&full_scene_header(s)),
            super::tokens::fenced_code_key(&s.code),
        ]
    } else {
        vec![super::tokens::memo_key(&full_scene_text(s))]
    }
}

/// The memo keys and counts [`full_scene_tokens`] looks up for `s` (a snapshot carries them
/// to a new process, which then counts nothing).
pub fn full_scene_known_counts(s: &FullScene) -> Vec<(u64, usize)> {
    if super::tokens::splits_before(&s.code) {
        vec![
            super::tokens::known_count(&full_scene_header(s)),
            super::tokens::known_fenced_code_count(&s.code),
        ]
    } else {
        vec![super::tokens::known_count(&full_scene_text(s))]
    }
}

fn render_preferences(out: &mut String, prefs: &BTreeMap<String, PreferenceItem>) {
    for (k, p) in prefs {
        let _ = writeln!(out, "- {k}: {} (confidence {:.2})", p.value, p.confidence);
    }
}

fn render_style(out: &mut String, style: &StyleSection) {
    let list = |v: &[(String, usize)]| {
        v.iter()
            .map(|(k, n)| format!("{k} x{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(out, "colors: {}", list(&style.colors));
    let _ = writeln!(out, "fonts: {}", list(&style.fonts));
    let _ = writeln!(out, "common elements: {}", list(&style.common_elements));
}
