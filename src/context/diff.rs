//! The diff between the contexts of two consecutive requests: structured (which sections,
//! scenes and preferences changed) and textual (unified, per section).
//!
//! Linear in the size of the contexts and cheap where they agree: a section is compared on its
//! data (a shared `Arc` or imbl tree is equal without a look inside), only a changed section is
//! rendered, and of a list section only the items between the first and the last difference
//! (with two items of context either side): one changed line in a 10,000-scene list renders a
//! handful of lines, not 20,000.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::model::*;

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
    /// Sections whose rendered text differs.
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

/// How many unchanged lines a hunk shows around a change.
const CONTEXT_RADIUS: usize = 2;

fn same_arc<T: PartialEq>(a: &Arc<T>, b: &Arc<T>) -> bool {
    Arc::ptr_eq(a, b) || a == b
}

fn same_vector<T: Clone + PartialEq>(a: &imbl::Vector<T>, b: &imbl::Vector<T>) -> bool {
    a.ptr_eq(b) || (a.len() == b.len() && a.iter().map(Same).eq(b.iter().map(Same)))
}

/// Whether one section's data differs, compared without rendering anything. Data that differs
/// can still render alike (a confidence past its two shown decimals, the style's list of
/// analysed scenes): shadow verification wants to know, the text diff drops such a section.
pub fn section_differs(a: &Context, b: &Context, name: &str) -> bool {
    match name {
        "project" => a.project != b.project,
        "preferences" => !same_arc(&a.preferences, &b.preferences),
        "style" => !same_arc(&a.style, &b.style),
        "scene_list" => !same_vector(&a.scene_list, &b.scene_list),
        "relationships" => !same_arc(&a.relationships, &b.relationships),
        "images" => !same_arc(&a.images, &b.images),
        "history" => !same_arc(&a.history, &b.history),
        "conversation" => !same_arc(&a.conversation, &b.conversation),
        "scenes_in_full" => !same_vector(&a.scenes_in_full, &b.scenes_in_full),
        _ => false,
    }
}

/// Names of the sections whose data differs (shadow verification reports these).
pub fn changed_sections(a: &Context, b: &Context) -> Vec<String> {
    SECTION_NAMES
        .iter()
        .filter(|name| section_differs(a, b, name))
        .map(|n| n.to_string())
        .collect()
}

/// The items of `before` not in `after`, in `before`'s order.
fn minus(before: &[String], after: &[String]) -> Vec<String> {
    let after: HashSet<&String> = after.iter().collect();
    before
        .iter()
        .filter(|id| !after.contains(id))
        .cloned()
        .collect()
}

/// The changed preferences: those of `before` in key order, then the new ones (lookups in
/// the other map, never a scan of the changes found so far).
fn preference_changes(
    before: &BTreeMap<String, PreferenceItem>,
    after: &BTreeMap<String, PreferenceItem>,
) -> Vec<PreferenceChange> {
    let value = |p: Option<&PreferenceItem>| p.map(|p| p.value.clone());
    let changed = before
        .iter()
        .filter(|(k, old)| after.get(*k).map(|p| &p.value) != Some(&old.value))
        .map(|(k, old)| (k, Some(old)));
    let new = after
        .iter()
        .filter(|(k, _)| !before.contains_key(*k))
        .map(|(k, _)| (k, None));
    changed
        .chain(new)
        .map(|(k, old)| PreferenceChange {
            key: k.clone(),
            before: value(old),
            after: value(after.get(k)),
        })
        .collect()
}

/// Where two versions of a list differ: the items they share at the start and at the end
/// (the end not reaching into the start). Found in one pass from each end, stopping at the
/// first difference, so one changed scene of 10,000 costs two short walks.
#[derive(Debug, Clone, Copy)]
struct Window {
    prefix: usize,
    suffix: usize,
}

impl Window {
    fn of<T: Clone + PartialEq>(before: &imbl::Vector<T>, after: &imbl::Vector<T>) -> Window {
        if before.ptr_eq(after) {
            return Window {
                prefix: before.len(),
                suffix: 0,
            };
        }
        let (prefix, suffix) = common_ends(before.iter().map(Same), after.iter().map(Same));
        Window { prefix, suffix }
    }

    fn same(&self, before_len: usize, after_len: usize) -> bool {
        before_len == after_len && self.prefix == before_len
    }

    /// The ids of the items in the changed middle of `items`.
    fn middle_ids(&self, items: &imbl::Vector<SceneListEntry>) -> Vec<String> {
        items
            .iter()
            .skip(self.prefix)
            .take(items.len() - self.prefix - self.suffix)
            .map(|s| s.id.clone())
            .collect()
    }
}

/// The diff from `before` to `after`.
pub fn diff(before: &Context, after: &Context) -> ContextDiff {
    let (mut scenes_added, mut scenes_removed) = (Vec::new(), Vec::new());
    let list = Window::of(&before.scene_list, &after.scene_list);
    let list_same = list.same(before.scene_list.len(), after.scene_list.len());
    if !list_same {
        // Outside the changed middle the two lists hold the same items, and an id stands once
        // in a list: a scene added or removed is in the middle, so only the middle is compared.
        let (b_ids, a_ids) = (
            list.middle_ids(&before.scene_list),
            list.middle_ids(&after.scene_list),
        );
        scenes_added = minus(&a_ids, &b_ids);
        scenes_removed = minus(&b_ids, &a_ids);
    }
    let full = |c: &Context| {
        c.scenes_in_full
            .iter()
            .map(|s| s.id.clone())
            .collect::<Vec<_>>()
    };
    let (b_full, a_full) = (full(before), full(after));
    let tokens = SECTION_NAMES
        .iter()
        .map(|name| SectionTokens {
            name: name.to_string(),
            before: before.tokens.sections.get(*name).copied().unwrap_or(0),
            after: after.tokens.sections.get(*name).copied().unwrap_or(0),
        })
        .collect();
    let mut out = ContextDiff {
        scenes_added,
        scenes_removed,
        full_entered: minus(&a_full, &b_full),
        full_left: minus(&b_full, &a_full),
        preferences: if same_arc(&before.preferences, &after.preferences) {
            Vec::new()
        } else {
            preference_changes(&before.preferences, &after.preferences)
        },
        tokens,
        ..ContextDiff::default()
    };
    for name in SECTION_NAMES {
        let differs = if name == "scene_list" {
            !list_same
        } else {
            section_differs(before, after, name)
        };
        if differs {
            let text = if name == "scene_list" {
                scene_list_diff(before, after, list)
            } else {
                section_text_diff(before, after, name)
            };
            if text.added + text.removed > 0 {
                out.changed_sections.push(name.to_string());
                out.lines_added += text.added;
                out.lines_removed += text.removed;
                out.unified.push_str(&text.unified);
            }
        }
    }
    out
}

/// The text diff of one section.
#[derive(Default)]
struct SectionText {
    added: usize,
    removed: usize,
    unified: String,
}

/// The scene list's text diff, from the window already found.
fn scene_list_diff(before: &Context, after: &Context, window: Window) -> SectionText {
    let (b, a) = (&before.scene_list, &after.scene_list);
    let start = window.prefix.saturating_sub(CONTEXT_RADIUS);
    let keep_after = window.suffix.saturating_sub(CONTEXT_RADIUS);
    // Each scene is one line of the list (`scene_list_line`): the lines before the window are
    // counted without reading a name (the walk over them was a cache miss per scene).
    let offset = start;
    let text = |items: &imbl::Vector<SceneListEntry>| {
        let mut out = String::new();
        for item in items
            .iter()
            .skip(start)
            .take(items.len() - start - keep_after)
        {
            out.push_str(&scene_list_line(item));
        }
        out
    };
    text_diff("scene_list", &text(b), &text(a), offset)
}

/// The section's text diff, rendering only the changed part of a list.
fn section_text_diff(before: &Context, after: &Context, name: &str) -> SectionText {
    match name {
        "scene_list" => scene_list_diff(
            before,
            after,
            Window::of(&before.scene_list, &after.scene_list),
        ),
        "scenes_in_full" => {
            let (b, a) = (refs(&before.scenes_in_full), refs(&after.scenes_in_full));
            let (prefix, suffix) = common_ends(b.iter(), a.iter());
            let start = prefix.saturating_sub(CONTEXT_RADIUS);
            let keep_after = suffix.saturating_sub(CONTEXT_RADIUS);
            // The header line, the two fence lines and the line the code ends on.
            let offset: usize = b[..start]
                .iter()
                .map(|s| 4 + newlines(&s.name) + newlines(&s.id) + newlines(&s.code))
                .sum();
            full_scenes_diff(
                name,
                &b[start..b.len() - keep_after],
                &a[start..a.len() - keep_after],
                offset,
            )
        }
        "relationships" => windowed(
            name,
            &refs(before.relationships.as_ref()),
            &refs(after.relationships.as_ref()),
            |(k, v), out| {
                let _ = writeln!(out, "- {k}: {v}");
            },
            |(k, v)| 1 + newlines(k) + newlines(v),
        ),
        "preferences" => windowed(
            name,
            &refs(before.preferences.as_ref()),
            &refs(after.preferences.as_ref()),
            |(k, p), out| {
                let _ = writeln!(out, "- {k}: {} (confidence {:.2})", p.value, p.confidence);
            },
            |(k, p)| 1 + newlines(k) + newlines(&p.value),
        ),
        "images" => windowed(
            name,
            &refs(before.images.as_ref()),
            &refs(after.images.as_ref()),
            |i, out| out.push_str(&image_line(i)),
            |i| {
                1 + i.urls.iter().map(|u| newlines(u)).sum::<usize>()
                    + newlines(&i.typography)
                    + newlines(&i.mood)
            },
        ),
        // Small sections (a line or three, at most ten items): rendered whole.
        _ => text_diff(
            name,
            &before.render_section(name),
            &after.render_section(name),
            0,
        ),
    }
}

/// The items of a section's collection, by reference (no item is copied or rendered).
fn refs<'a, C>(items: &'a C) -> Vec<<&'a C as IntoIterator>::Item>
where
    &'a C: IntoIterator,
{
    items.into_iter().collect()
}

/// An item of a persistent vector, compared by address before content: two versions of an
/// imbl vector share every chunk the update did not touch, so most items of the two are the very
/// same object, and the walk over a 1,000-scene list compares a few strings instead of every
/// scene's id and name (most of what the diff cost).
struct Same<'a, T>(&'a T);

impl<T: PartialEq> PartialEq for Same<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.0, other.0) || self.0 == other.0
    }
}

/// How many equal items two sequences share at the start, and at the end without reaching
/// into the start: one walk from each end, each stopping at the first difference.
fn common_ends<I, T>(before: I, after: I) -> (usize, usize)
where
    I: DoubleEndedIterator<Item = T> + ExactSizeIterator + Clone,
    T: PartialEq,
{
    let shorter = before.len().min(after.len());
    let prefix = before
        .clone()
        .zip(after.clone())
        .take_while(|(b, a)| b == a)
        .count();
    let suffix = before
        .rev()
        .zip(after.rev())
        .take(shorter - prefix)
        .take_while(|(b, a)| b == a)
        .count();
    (prefix, suffix)
}

fn newlines(s: &str) -> usize {
    s.bytes().filter(|&b| b == b'\n').count()
}

/// The text diff of a list section of which only the items from the first to the last
/// difference are rendered, with `CONTEXT_RADIUS` items either side (each item is at least one
/// line, so every hunk has its full context). The lines of the items skipped before the window
/// are counted (`lines`), so hunk headers give the same line numbers as a diff of the whole.
fn windowed<T: PartialEq + Copy>(
    name: &str,
    before: &[T],
    after: &[T],
    render: impl Fn(T, &mut String),
    lines: impl Fn(T) -> usize,
) -> SectionText {
    let (prefix, suffix) = common_ends(before.iter(), after.iter());
    let start = prefix.saturating_sub(CONTEXT_RADIUS);
    let keep_after = suffix.saturating_sub(CONTEXT_RADIUS);
    let offset: usize = before[..start].iter().map(|&item| lines(item)).sum();
    let text = |items: &[T]| {
        let mut out = String::new();
        for &item in &items[start..items.len() - keep_after] {
            render(item, &mut out);
        }
        out
    };
    text_diff(name, &text(before), &text(after), offset)
}

/// The text diff of scenes given in full, scene by scene: the scenes are first matched by id
/// (a Myers diff of the id sequences), a scene in both is diffed line by line, and a scene
/// that entered or left is shown whole. Diffing the section as one text instead matched the
/// braces and blank lines of unrelated scenes when the recent scenes changed (every edit of
/// another scene), a diff both slow (its cost grows with the square of the changed lines) and
/// unreadable.
fn full_scenes_diff(
    name: &str,
    before: &[&FullScene],
    after: &[&FullScene],
    offset: usize,
) -> SectionText {
    let texts = |items: &[&FullScene]| items.iter().map(|s| full_scene_text(s)).collect::<Vec<_>>();
    let (old_texts, new_texts) = (texts(before), texts(after));
    let ((old_lines, old_at), (new_lines, new_at)) =
        (scene_lines(&old_texts), scene_lines(&new_texts));
    let scene_ops =
        similar::capture_diff_slices_by_key(similar::Algorithm::Myers, before, after, |s| {
            s.id.clone()
        });
    let mut ops = Vec::new();
    for op in scene_ops {
        let (_, old_range, new_range) = op.as_tag_tuple();
        let old_lines_of = old_at[old_range.start]..old_at[old_range.end];
        let new_lines_of = new_at[new_range.start]..new_at[new_range.end];
        match op {
            similar::DiffOp::Equal { len, .. } => {
                for k in 0..len {
                    let (o, n) = (old_range.start + k, new_range.start + k);
                    let (o0, n0) = (old_at[o], new_at[n]);
                    let inner = similar::capture_diff_slices(
                        similar::Algorithm::Myers,
                        &old_lines[o0..old_at[o + 1]],
                        &new_lines[n0..new_at[n + 1]],
                    );
                    for op in inner {
                        push_merged(&mut ops, shifted(op, o0, n0));
                    }
                }
            }
            _ => {
                if !old_lines_of.is_empty() {
                    ops.push(similar::DiffOp::Delete {
                        old_index: old_lines_of.start,
                        old_len: old_lines_of.len(),
                        new_index: new_lines_of.start,
                    });
                }
                if !new_lines_of.is_empty() {
                    ops.push(similar::DiffOp::Insert {
                        old_index: old_lines_of.end,
                        new_index: new_lines_of.start,
                        new_len: new_lines_of.len(),
                    });
                }
            }
        }
    }
    unified_from_ops(name, &old_lines, &new_lines, ops, offset)
}

/// Each scene's lines, and where each scene's lines start (with one more entry: the end).
fn scene_lines(texts: &[String]) -> (Vec<&str>, Vec<usize>) {
    let mut all: Vec<&str> = Vec::new();
    let mut starts = Vec::with_capacity(texts.len() + 1);
    for t in texts {
        starts.push(all.len());
        all.extend(t.split_inclusive('\n'));
    }
    starts.push(all.len());
    (all, starts)
}

/// Appends `op`, joined to the previous op when both are equal runs that touch: the hunks are
/// cut where an equal run is long, which a run split at a scene boundary would hide.
fn push_merged(ops: &mut Vec<similar::DiffOp>, op: similar::DiffOp) {
    if let (
        Some(similar::DiffOp::Equal {
            old_index,
            new_index,
            len,
        }),
        similar::DiffOp::Equal {
            old_index: next_old,
            new_index: next_new,
            len: more,
        },
    ) = (ops.last_mut(), &op)
        && *old_index + *len == *next_old
        && *new_index + *len == *next_new
    {
        *len += more;
        return;
    }
    ops.push(op);
}

/// `op` with its indices moved by `old` and `new` lines.
fn shifted(op: similar::DiffOp, old: usize, new: usize) -> similar::DiffOp {
    use similar::DiffOp::*;
    match op {
        Equal {
            old_index,
            new_index,
            len,
        } => Equal {
            old_index: old_index + old,
            new_index: new_index + new,
            len,
        },
        Delete {
            old_index,
            old_len,
            new_index,
        } => Delete {
            old_index: old_index + old,
            old_len,
            new_index: new_index + new,
        },
        Insert {
            old_index,
            new_index,
            new_len,
        } => Insert {
            old_index: old_index + old,
            new_index: new_index + new,
            new_len,
        },
        Replace {
            old_index,
            old_len,
            new_index,
            new_len,
        } => Replace {
            old_index: old_index + old,
            old_len,
            new_index: new_index + new,
            new_len,
        },
    }
}

/// The unified diff of line sequences from their diff ops, written as `similar` writes one:
/// hunks with `CONTEXT_RADIUS` lines of context, numbered from `offset`.
fn unified_from_ops(
    name: &str,
    old: &[&str],
    new: &[&str],
    ops: Vec<similar::DiffOp>,
    offset: usize,
) -> SectionText {
    let mut out = SectionText::default();
    for op in &ops {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        match tag {
            similar::DiffTag::Equal => {}
            similar::DiffTag::Delete => out.removed += old_range.len(),
            similar::DiffTag::Insert => out.added += new_range.len(),
            similar::DiffTag::Replace => {
                out.removed += old_range.len();
                out.added += new_range.len();
            }
        }
    }
    if out.added + out.removed == 0 {
        return out;
    }
    let line = |sign: char, text: &str, unified: &mut String| {
        unified.push(sign);
        unified.push_str(text);
        if !text.ends_with('\n') {
            unified.push_str("\n\\ No newline at end of file\n");
        }
    };
    for (i, group) in similar::group_diff_ops(ops, CONTEXT_RADIUS)
        .iter()
        .enumerate()
    {
        if i == 0 {
            let _ = writeln!(out.unified, "--- {name} (before)\n+++ {name} (after)");
        }
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let _ = writeln!(
            out.unified,
            "@@ -{} +{} @@",
            HunkRange(
                offset + first.old_range().start,
                offset + last.old_range().end
            ),
            HunkRange(
                offset + first.new_range().start,
                offset + last.new_range().end
            ),
        );
        for op in group {
            let (tag, old_range, new_range) = op.as_tag_tuple();
            if tag == similar::DiffTag::Equal {
                for l in &old[old_range] {
                    line(' ', l, &mut out.unified);
                }
                continue;
            }
            for l in &old[old_range] {
                line('-', l, &mut out.unified);
            }
            for l in &new[new_range] {
                line('+', l, &mut out.unified);
            }
        }
    }
    out
}

/// The unified diff of two texts that start at line `offset + 1` of their sections: a Myers
/// diff of their lines, written by [`unified_from_ops`].
fn text_diff(name: &str, old: &str, new: &str, offset: usize) -> SectionText {
    if old == new {
        return SectionText::default();
    }
    let (old, new): (Vec<&str>, Vec<&str>) = (
        old.split_inclusive('\n').collect(),
        new.split_inclusive('\n').collect(),
    );
    let ops = similar::capture_diff_slices(similar::Algorithm::Myers, &old, &new);
    unified_from_ops(name, &old, &new, ops, offset)
}

/// A hunk's line range as unified diffs print it (as `similar` does): `start,len`, just
/// `start` for one line, and an empty range starting at the line before it.
struct HunkRange(usize, usize);

impl std::fmt::Display for HunkRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = self.1.saturating_sub(self.0);
        match len {
            1 => write!(f, "{}", self.0 + 1),
            0 => write!(f, "{},0", self.0),
            _ => write!(f, "{},{}", self.0 + 1, len),
        }
    }
}

/// The unified diff of whole rendered sections, as [`diff`] produced it before it rendered only
/// what changed: the reference a test holds the windowed diff to.
#[doc(hidden)]
pub fn unified_of_whole_sections(before: &Context, after: &Context) -> String {
    let mut unified = String::new();
    for name in SECTION_NAMES {
        if name == "scenes_in_full" {
            // Scene by scene (see `full_scenes_diff`), over the whole section.
            let (b, a) = (refs(&before.scenes_in_full), refs(&after.scenes_in_full));
            unified.push_str(&full_scenes_diff(name, &b, &a, 0).unified);
            continue;
        }
        let (old, new) = (before.render_section(name), after.render_section(name));
        if old != new {
            unified.push_str(
                &similar::TextDiff::from_lines(&old, &new)
                    .unified_diff()
                    .context_radius(CONTEXT_RADIUS)
                    .header(&format!("{name} (before)"), &format!("{name} (after)"))
                    .to_string(),
            );
        }
    }
    unified
}
