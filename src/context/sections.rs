//! Turning store rows into context sections. Both builders and the incremental path call these,
//! so a context built any way has the same shape for the same state.

use std::collections::BTreeMap;

use super::model::*;
use crate::analysis::SceneAnalysis;
use crate::memory::Preference;
use crate::store::{ImageAnalysis, IterationSummary, Message, Project, SceneMeta};

/// How many recent messages the conversation section keeps.
pub const CONVERSATION_MESSAGES: usize = 10;
/// How many recent scene changes the history section keeps.
pub const HISTORY_ITEMS: usize = 10;
/// How many of the most recently changed scenes `relevant` gives in full (beside the target).
pub const RECENT_SCENES: usize = 2;
/// How many entries each style list keeps.
pub const STYLE_TOP: usize = 8;

pub fn project_section<'a>(
    p: &Project,
    scenes: impl ExactSizeIterator<Item = &'a SceneListEntry>,
) -> ProjectSection {
    let scene_count = scenes.len();
    project_section_with_totals(p, scene_count, scenes.map(|s| s.duration_frames).sum())
}

/// The project section from totals already known (an incremental update keeps them as it goes).
pub fn project_section_with_totals(
    p: &Project,
    scene_count: usize,
    total_duration_frames: i64,
) -> ProjectSection {
    ProjectSection {
        id: p.id.clone(),
        title: p.title.clone(),
        user_id: p.user_id.clone(),
        scene_count,
        total_duration_frames,
    }
}

/// Scene list entries with 1-based positions from rows already in video order.
pub fn scene_list(rows: impl IntoIterator<Item = SceneMeta>) -> Vec<SceneListEntry> {
    rows.into_iter()
        .enumerate()
        .map(|(i, s)| SceneListEntry {
            id: s.id,
            name: s.name,
            position: i + 1,
            duration_frames: s.duration_frames,
            updated_at: s.updated_at,
            ord: s.ord,
        })
        .collect()
}

/// The ids of the `n` most recently changed scenes, newest first (ties: later position first).
/// One pass, keeping the best `n`: no sort of the whole list.
pub fn most_recent<'a>(
    scenes: impl IntoIterator<Item = &'a SceneListEntry>,
    n: usize,
) -> Vec<String> {
    let mut best: Vec<&SceneListEntry> = Vec::with_capacity(n + 1);
    let newer = |a: &SceneListEntry, b: &SceneListEntry| {
        (a.updated_at, a.position) > (b.updated_at, b.position)
    };
    for s in scenes {
        if best.len() == n && best.last().is_some_and(|last| !newer(s, last)) {
            continue;
        }
        let at = best.iter().position(|b| newer(s, b)).unwrap_or(best.len());
        best.insert(at, s);
        best.truncate(n);
    }
    best.into_iter().map(|s| s.id.clone()).collect()
}

pub fn preferences_from_memory(
    prefs: BTreeMap<String, Preference>,
) -> BTreeMap<String, PreferenceItem> {
    prefs
        .into_iter()
        .map(|(k, p)| {
            (
                k,
                PreferenceItem {
                    value: p.value,
                    confidence: p.confidence,
                },
            )
        })
        .collect()
}

/// Relationships when memory is off: the legacy builder only knew that scenes follow each other.
pub fn relationships_from_order(scenes: &[SceneListEntry]) -> BTreeMap<String, String> {
    scenes
        .windows(2)
        .map(|w| {
            (
                format!("{}->{}", w[0].id, w[1].id),
                format!("\"{}\" is followed by \"{}\"", w[0].name, w[1].name),
            )
        })
        .collect()
}

pub fn images(rows: Vec<ImageAnalysis>) -> Vec<ImageItem> {
    rows.into_iter()
        .enumerate()
        .map(|(i, img)| ImageItem {
            position: i + 1,
            id: img.id,
            urls: img.image_urls,
            palette: img.palette,
            typography: img.typography,
            mood: img.mood,
        })
        .collect()
}

pub fn conversation(rows: &[Message]) -> Vec<ConversationItem> {
    let start = rows.len().saturating_sub(CONVERSATION_MESSAGES);
    rows[start..]
        .iter()
        .map(|m| ConversationItem {
            role: m.role.clone(),
            content: m.content.clone(),
        })
        .collect()
}

pub fn history(rows: Vec<IterationSummary>) -> Vec<HistoryItem> {
    rows.into_iter()
        .map(|it| HistoryItem {
            scene_id: it.scene_id,
            operation: it.operation,
            prompt: it.prompt,
        })
        .collect()
}

/// Style patterns from the analyses of the given scenes (ids in the order given).
pub fn style<'a>(analysed: impl IntoIterator<Item = (&'a str, &'a SceneAnalysis)>) -> StyleSection {
    let mut colors: BTreeMap<&str, usize> = BTreeMap::new();
    let mut fonts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut elements: BTreeMap<&str, usize> = BTreeMap::new();
    let mut ids = Vec::new();
    for (id, a) in analysed {
        ids.push(id.to_string());
        for c in &a.colors {
            *colors.entry(c.as_str()).or_default() += 1;
        }
        for f in &a.font_families {
            *fonts.entry(f.as_str()).or_default() += 1;
        }
        for e in a.elements.keys() {
            *elements.entry(e.as_str()).or_default() += 1;
        }
    }
    let top = |m: BTreeMap<&str, usize>| {
        let mut v: Vec<(String, usize)> = m.into_iter().map(|(k, n)| (k.to_string(), n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(STYLE_TOP);
        v
    };
    ids.sort();
    StyleSection {
        colors: top(colors),
        fonts: top(fonts),
        common_elements: top(elements),
        analysed_scenes: ids,
    }
}
