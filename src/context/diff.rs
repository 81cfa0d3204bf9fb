//! The diff between the contexts of two consecutive requests: structured (which sections,
//! scenes and preferences changed) and textual (unified, per section).

use serde::{Deserialize, Serialize};

use super::model::{Context, SECTION_NAMES};

/// One changed preference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreferenceChange {
    pub key: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Token count of one section before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionTokens {
    pub name: String,
    pub before: usize,
    pub after: usize,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ContextDiff {
    pub changed_sections: Vec<String>,
    /// Scenes that entered or left the scene list.
    pub scenes_added: Vec<String>,
    pub scenes_removed: Vec<String>,
    /// Scenes that entered or left the scenes given in full.
    pub full_entered: Vec<String>,
    pub full_left: Vec<String>,
    pub preferences: Vec<PreferenceChange>,
    pub tokens: Vec<SectionTokens>,
    pub lines_added: usize,
    pub lines_removed: usize,
    /// Unified diff of the rendered contexts, section headers included.
    pub unified: String,
}

impl ContextDiff {
    pub fn is_empty(&self) -> bool {
        self.changed_sections.is_empty()
    }
}

/// Names of the sections whose rendered text differs.
pub fn changed_sections(a: &Context, b: &Context) -> Vec<String> {
    SECTION_NAMES
        .iter()
        .filter(|name| a.render_section(name) != b.render_section(name))
        .map(|n| n.to_string())
        .collect()
}

/// The diff from `before` to `after`.
pub fn diff(before: &Context, after: &Context) -> ContextDiff {
    let changed = changed_sections(before, after);
    let ids = |c: &Context| {
        c.scene_list
            .iter()
            .map(|s| s.id.clone())
            .collect::<Vec<_>>()
    };
    let (b_ids, a_ids) = (ids(before), ids(after));
    let full = |c: &Context| {
        c.scenes_in_full
            .iter()
            .map(|s| s.id.clone())
            .collect::<Vec<_>>()
    };
    let (b_full, a_full) = (full(before), full(after));
    let minus = |x: &[String], y: &[String]| {
        x.iter()
            .filter(|i| !y.contains(i))
            .cloned()
            .collect::<Vec<_>>()
    };
    let mut preferences = Vec::new();
    for key in before.preferences.keys().chain(after.preferences.keys()) {
        if preferences.iter().any(|p: &PreferenceChange| &p.key == key) {
            continue;
        }
        let b = before.preferences.get(key).map(|p| p.value.clone());
        let a = after.preferences.get(key).map(|p| p.value.clone());
        if a != b {
            preferences.push(PreferenceChange {
                key: key.clone(),
                before: b,
                after: a,
            });
        }
    }
    let tokens = SECTION_NAMES
        .iter()
        .map(|name| SectionTokens {
            name: name.to_string(),
            before: before.tokens.sections.get(*name).copied().unwrap_or(0),
            after: after.tokens.sections.get(*name).copied().unwrap_or(0),
        })
        .collect();
    // Only changed sections are rendered and diffed: a 10,000-scene list that did not change
    // costs nothing here.
    let mut unified = String::new();
    let (mut added, mut removed) = (0, 0);
    for name in &changed {
        let old = before.render_section(name);
        let new = after.render_section(name);
        let text_diff = similar::TextDiff::from_lines(&old, &new);
        for change in text_diff.iter_all_changes() {
            match change.tag() {
                similar::ChangeTag::Insert => added += 1,
                similar::ChangeTag::Delete => removed += 1,
                similar::ChangeTag::Equal => {}
            }
        }
        unified.push_str(
            &text_diff
                .unified_diff()
                .context_radius(2)
                .header(&format!("{name} (before)"), &format!("{name} (after)"))
                .to_string(),
        );
    }
    ContextDiff {
        changed_sections: changed,
        scenes_added: minus(&a_ids, &b_ids),
        scenes_removed: minus(&b_ids, &a_ids),
        full_entered: minus(&a_full, &b_full),
        full_left: minus(&b_full, &a_full),
        preferences,
        tokens,
        lines_added: added,
        lines_removed: removed,
        unified,
    }
}
