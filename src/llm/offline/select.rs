//! Stage 2 offline: pick a tool and a target scene from the request's words.
//!
//! The target is [`crate::resolve`]'s answer, the same the context builder takes: an explicit
//! scene reference ("scene 2", "slide #3", "the second scene", "the penultimate scene", "the
//! intro", "the pricing scene") wins; otherwise "it" / "that" / no target means the scene
//! edited last. A reference to a scene that does not exist, or that could be several, or no
//! target at all when nothing was edited yet, is answered with a clarifying question.

use std::sync::OnceLock;

use serde_json::json;

use super::edit::parse_operations;
use super::words::{self, Duration};
use crate::llm::{SceneRef, Tool, ToolDecision, ToolSelectionRequest};
use crate::resolve::{self, Found, LazyIndex, Resolution, is_scene_noun};

/// How long a scene becomes when the request says "longer"/"shorter" without an amount.
const LONGER: f64 = 1.5;
const SHORTER: f64 = 0.75;

/// Decides the tool for `request`. Pure and deterministic.
pub(super) fn select(request: &ToolSelectionRequest) -> ToolDecision {
    let plain = words::without_quotes(&request.user_prompt);
    let w = words::words(&plain);
    let scenes = &request.scenes;

    if is_add_scene(&w) {
        return add_scene(&w, request);
    }
    if scenes.is_empty() {
        return clarify(
            "This project has no scenes yet. Should I add one? Tell me what it should show.",
        );
    }

    // Built only if the request names no position: the names of 10,000 scenes are not split
    // for "scene 2".
    let cell = OnceLock::new();
    let index = LazyIndex::new(&cell, scenes.as_slice());
    let resolution = resolve::resolve(
        &request.user_prompt,
        scenes.as_slice(),
        &index,
        request.last_edited_scene_id.as_deref(),
    );
    let found = match resolution {
        Resolution::Found(found) => found,
        Resolution::Clarify(question) => return clarify(&question.question(scenes.as_slice())),
        Resolution::Nothing => {
            return clarify(&format!(
                "Which scene do you mean? The project has {}.",
                scene_list(scenes)
            ));
        }
    };
    let target = Target::new(&found, scenes);
    let timing = timing_change(&w);
    let scene = &scenes[target.index];

    if is_delete_scene(&w, found.how.by_name()) {
        return ToolDecision::Tool {
            tool: Tool::DeleteScene,
            target_scene_id: Some(scene.id.clone()),
            args: json!({}),
            reasoning: format!("delete {} ({})", describe(scene), target.how),
        };
    }

    if let Some(timing) = timing {
        return duration_decision(timing, scene, &target);
    }

    match parse_operations(&request.user_prompt) {
        Ok(operations) => {
            let kinds: Vec<&str> = operations.iter().map(|op| op.kind()).collect();
            ToolDecision::Tool {
                tool: Tool::EditScene,
                target_scene_id: Some(scene.id.clone()),
                args: json!({ "operations": kinds }),
                reasoning: format!(
                    "edit {} ({}): {}",
                    describe(scene),
                    target.how,
                    kinds.join(", ")
                ),
            }
        }
        Err(_) => clarify(&format!(
            "What should change in {}? I can change colors, texts, fonts and sizes, timing, \
             or add and remove elements.",
            describe(scene)
        )),
    }
}

fn clarify(question: &str) -> ToolDecision {
    ToolDecision::Clarify {
        question: question.to_string(),
    }
}

fn describe(scene: &SceneRef) -> String {
    format!("scene {} \"{}\"", scene.position, scene.name)
}

fn scene_list(scenes: &[SceneRef]) -> String {
    let names: Vec<String> = scenes.iter().map(describe).collect();
    format!("{} scenes: {}", scenes.len(), names.join(", "))
}

/// A resolved target: index into `request.scenes` and how it was found (for the reasoning).
#[derive(Debug, Clone)]
struct Target {
    index: usize,
    how: String,
}

impl Target {
    fn new(found: &Found, scenes: &[SceneRef]) -> Self {
        Target {
            index: found.index,
            how: found.describe(scenes),
        }
    }
}

/// "add a scene", "create a new pricing scene", "insert an outro slide", "add an intro".
fn is_add_scene(w: &[String]) -> bool {
    for (i, verb) in w.iter().enumerate() {
        let strict = verb == "make";
        if !strict
            && !matches!(
                verb.as_str(),
                "add" | "create" | "insert" | "append" | "generate" | "build"
            )
        {
            continue;
        }
        // The object of the verb, up to a preposition: "add [a new pricing scene] after ...".
        let object: Vec<&str> = w[i + 1..]
            .iter()
            .map(String::as_str)
            .take_while(|x| {
                !matches!(
                    *x,
                    "to" | "in"
                        | "into"
                        | "on"
                        | "of"
                        | "for"
                        | "inside"
                        | "under"
                        | "below"
                        | "above"
                )
            })
            .take(6)
            .collect();
        // "make scene 2 blue" is an edit; "make a new scene" / "make another slide" adds one.
        if strict && !matches!(object.first(), Some(&("a" | "an" | "new" | "another"))) {
            continue;
        }
        match object.iter().position(|x| is_scene_noun(x)) {
            Some(noun_at) => {
                let numbered = object
                    .get(noun_at + 1)
                    .is_some_and(|x| words::number(x.trim_start_matches('#')).is_some());
                let referenced = object[..noun_at].iter().any(|x| {
                    matches!(*x, "the" | "this" | "that" | "last" | "first" | "final")
                        || words::ordinal(x).is_some()
                });
                if !numbered && !referenced {
                    return true;
                }
            }
            // "add an intro" / "add a new outro": the scene kind alone.
            None => {
                if matches!(
                    object.as_slice(),
                    ["a" | "an" | "new", "intro" | "outro"]
                        | ["a" | "an", "new", "intro" | "outro"]
                ) {
                    return true;
                }
            }
        }
    }
    false
}

fn add_scene(w: &[String], request: &ToolSelectionRequest) -> ToolDecision {
    let scenes = &request.scenes;
    let joined = format!(" {} ", w.join(" "));
    let mut position = scenes.len() + 1;
    let mut placement = "at the end".to_string();
    if [
        " at the start ",
        " at the beginning ",
        " as the first ",
        " at the front ",
    ]
    .iter()
    .any(|p| joined.contains(p))
    {
        position = 1;
        placement = "at the start".into();
    } else if let Some(i) = w.iter().position(|x| x == "after" || x == "before") {
        let rest = w[i + 1..].join(" ");
        let cell = OnceLock::new();
        let index = LazyIndex::new(&cell, scenes.as_slice());
        if let Resolution::Found(t) = resolve::explicit(&rest, scenes.as_slice(), &index) {
            position = if w[i] == "after" {
                t.index + 2
            } else {
                t.index + 1
            };
            placement = format!("{} {}", w[i], describe(&scenes[t.index]));
        }
    } else if joined.contains(" intro ") && !joined.contains(" outro ") {
        position = 1;
        placement = "at the start (an intro)".into();
    }
    let mut args = json!({ "position": position });
    if let Some(d) = words::duration(w).filter(|d| !d.relative) {
        args["duration_frames"] = json!(d.frames);
    }
    ToolDecision::Tool {
        tool: Tool::AddScene,
        target_scene_id: None,
        args,
        reasoning: format!("add a new scene {placement} (position {position})"),
    }
}

/// "delete scene 3", "remove the outro", "get rid of it": the object of the verb is a scene.
/// "remove the logo from scene 2" is an edit, not a deletion.
fn is_delete_scene(w: &[String], target_by_name: bool) -> bool {
    let Some(verb) = w.iter().position(|x| {
        matches!(
            x.as_str(),
            "delete" | "remove" | "drop" | "rid" | "scrap" | "discard" | "cut"
        )
    }) else {
        return false;
    };
    if w[verb] == "cut" && words::duration(w).is_some() {
        return false;
    }
    // "get rid of X": the object starts after "of".
    let start = if w[verb] == "rid" && w.get(verb + 1).is_some_and(|x| x == "of") {
        verb + 2
    } else {
        verb + 1
    };
    // The object: up to a preposition that introduces where the removed thing is.
    let object: Vec<&str> = w[start..]
        .iter()
        .map(String::as_str)
        .take_while(|x| !matches!(*x, "from" | "in" | "on" | "inside" | "of"))
        .filter(|x| {
            !matches!(
                *x,
                "the" | "a" | "an" | "entire" | "whole" | "please" | "completely"
            )
        })
        .collect();
    let Some(first) = object.first() else {
        return false;
    };
    is_scene_noun(first)
        || words::ordinal(first).is_some() && object.get(1).is_some_and(|x| is_scene_noun(x))
        || matches!(
            *first,
            "intro" | "outro" | "it" | "that" | "this" | "last" | "final"
        ) && object.len() <= 2
        || target_by_name && object.len() <= 3 && !object.iter().any(|x| is_element_word(x))
}

/// Words that name a part of a scene rather than a scene.
fn is_element_word(word: &str) -> bool {
    matches!(
        word,
        "title"
            | "headline"
            | "heading"
            | "subtitle"
            | "text"
            | "logo"
            | "image"
            | "button"
            | "background"
            | "caption"
            | "tagline"
            | "eyebrow"
            | "underline"
            | "label"
            | "icon"
            | "line"
            | "shadow"
            | "element"
            | "box"
            | "card"
            | "badge"
    )
}

/// What a timing request asks for.
#[derive(Debug, Clone, Copy)]
enum Timing {
    /// Trim to (or by) a duration, or "shorter" when `None`.
    Trim(Option<Duration>),
    /// Set the length (or change it by) a duration; "longer" when `None`.
    Length(Option<Duration>),
    /// Play faster (factor < 1 on the duration) or slower (> 1).
    Speed(f64),
}

fn timing_change(w: &[String]) -> Option<Timing> {
    let has = |xs: &[&str]| w.iter().any(|x| xs.contains(&x.as_str()));
    let joined = format!(" {} ", w.join(" "));
    let duration = words::duration(w);
    if joined.contains(" speed up ") || joined.contains(" faster ") || joined.contains(" quicker ")
    {
        let factor = if joined.contains("twice as fast") || joined.contains(" 2x ") {
            0.5
        } else {
            1.0 / 1.5
        };
        return Some(Timing::Speed(factor));
    }
    if joined.contains(" slow down ")
        || joined.contains(" slower ")
        || joined.contains(" slow it down ")
        || joined.contains(" half speed ")
    {
        let factor = if joined.contains("twice as slow") || joined.contains("half speed") {
            2.0
        } else {
            1.5
        };
        return Some(Timing::Speed(factor));
    }
    if has(&["trim", "shorten", "shorter"]) || (has(&["cut"]) && duration.is_some()) {
        return Some(Timing::Trim(duration));
    }
    if has(&["longer", "lengthen", "extend"]) {
        return Some(Timing::Length(duration));
    }
    if let Some(d) = duration
        && (has(&[
            "last", "lasts", "long", "duration", "length", "make", "set", "change", "run", "runs",
            "play", "hold",
        ]))
    {
        return Some(Timing::Length(Some(d)));
    }
    None
}

fn duration_decision(timing: Timing, scene: &SceneRef, target: &Target) -> ToolDecision {
    let current = scene.duration_frames.max(1);
    let (tool, frames, how, speed) = match timing {
        Timing::Trim(Some(d)) if d.relative => (
            Tool::TrimScene,
            current - d.frames,
            format!("trim by {} frames", d.frames),
            None,
        ),
        Timing::Trim(Some(d)) => (
            Tool::TrimScene,
            d.frames,
            format!("trim to {} frames", d.frames),
            None,
        ),
        Timing::Trim(None) => {
            let frames = (current as f64 * SHORTER).round() as i64;
            (
                Tool::TrimScene,
                frames,
                format!("shorten to {frames} frames"),
                None,
            )
        }
        Timing::Length(Some(d)) if d.relative => (
            Tool::ChangeDuration,
            current + d.frames,
            format!("lengthen by {} frames", d.frames),
            None,
        ),
        Timing::Length(Some(d)) => (
            Tool::ChangeDuration,
            d.frames,
            format!("set to {} frames", d.frames),
            None,
        ),
        Timing::Length(None) => {
            let frames = (current as f64 * LONGER).round() as i64;
            (
                Tool::ChangeDuration,
                frames,
                format!("lengthen to {frames} frames"),
                None,
            )
        }
        Timing::Speed(factor) => {
            let frames = (current as f64 * factor).round() as i64;
            let verb = if factor < 1.0 {
                "speed up"
            } else {
                "slow down"
            };
            (
                Tool::ChangeDuration,
                frames,
                format!("{verb}: {current} -> {frames} frames"),
                Some(factor),
            )
        }
    };
    let frames = frames.max(1);
    // A "trim" that would lengthen the scene is a duration change.
    let tool = if tool == Tool::TrimScene && frames >= current {
        Tool::ChangeDuration
    } else {
        tool
    };
    let mut args = json!({ "duration_frames": frames });
    if let Some(factor) = speed {
        args["speed_factor"] = json!(factor);
    }
    ToolDecision::Tool {
        tool,
        target_scene_id: Some(scene.id.clone()),
        args,
        reasoning: format!(
            "{} ({}): {how} ({:.1} s at 30 fps)",
            describe(scene),
            target.how,
            frames as f64 / words::FPS
        ),
    }
}
