//! Stage 2 offline: pick a tool and a target scene from the request's words.
//!
//! The rules, in order: an explicit scene reference ("scene 2", "the second scene", "the last
//! scene", "the intro", "the pricing scene") wins; otherwise "it" / "that" / no target means
//! the scene edited last. A reference to a scene that does not exist, or no target at all when
//! nothing was edited yet, is answered with a clarifying question.

use serde_json::json;

use super::edit::parse_operations;
use super::words::{self, Duration};
use crate::llm::{SceneRef, Tool, ToolDecision, ToolSelectionRequest};

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

    let target = match resolve_target(&w, &plain, request) {
        Ok(target) => target,
        Err(question) => return clarify(&question),
    };

    let by_name = target.as_ref().is_some_and(|t| t.how.starts_with("name"));
    let timing = timing_change(&w);
    let Some(target) = target.or_else(|| implicit_target(request)) else {
        return clarify(&format!(
            "Which scene do you mean? The project has {}.",
            scene_list(scenes)
        ));
    };
    let scene = &scenes[target.index];

    if is_delete_scene(&w, by_name) {
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

/// A resolved target: index into `request.scenes` and how it was found (for the log).
#[derive(Debug, Clone)]
struct Target {
    index: usize,
    how: String,
}

const SCENE_NOUNS: &[&str] = &["scene", "slide", "section", "shot", "clip"];

fn is_scene_noun(word: &str) -> bool {
    SCENE_NOUNS.contains(&word) || SCENE_NOUNS.iter().any(|n| word == format!("{n}s"))
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
        let rest = &w[i + 1..];
        if let Ok(Some(t)) = resolve_target(rest, &rest.join(" "), request) {
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

/// The scene edited last, or the only scene.
fn implicit_target(request: &ToolSelectionRequest) -> Option<Target> {
    if let Some(id) = &request.last_edited_scene_id
        && let Some(index) = request.scenes.iter().position(|s| &s.id == id)
    {
        return Some(Target {
            index,
            how: "the scene edited last".into(),
        });
    }
    (request.scenes.len() == 1).then(|| Target {
        index: 0,
        how: "the only scene".into(),
    })
}

/// An explicit scene reference in the request. `Ok(None)` when there is none; `Err` with a
/// question when it names a scene that does not exist or could be several.
fn resolve_target(
    w: &[String],
    plain: &str,
    request: &ToolSelectionRequest,
) -> Result<Option<Target>, String> {
    let scenes = &request.scenes;
    let count = scenes.len();
    let by_position = |position: usize, how: String| -> Result<Option<Target>, String> {
        if position == 0 || position > count {
            Err(format!(
                "There is no scene {position}: the project has {count} scene{} ({}). Which one did you mean?",
                if count == 1 { "" } else { "s" },
                scenes
                    .iter()
                    .map(|s| format!("{} \"{}\"", s.position, s.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        } else {
            let index = scenes
                .iter()
                .position(|s| s.position == position)
                .unwrap_or(position - 1);
            Ok(Some(Target { index, how }))
        }
    };

    // "scene 2", "slide #3"
    for (i, word) in w.iter().enumerate() {
        if !is_scene_noun(word) {
            continue;
        }
        if let Some(next) = w.get(i + 1) {
            let n = next.trim_start_matches('#');
            let is_quantity = w
                .get(i + 2)
                .is_some_and(|u| crate::context::target::is_quantity_unit(u));
            if !matches!(n, "a" | "an" | "half")
                && !is_quantity
                && let Some(number) = words::number(n).filter(|n| n.fract() == 0.0 && *n >= 0.0)
            {
                return by_position(number as usize, format!("\"{word} {next}\""));
            }
        }
    }
    // "the second scene", "the last scene", "the second to last scene"
    for (i, word) in w.iter().enumerate() {
        let next_is_scene = w.get(i + 1).is_some_and(|x| is_scene_noun(x) || x == "one");
        if !next_is_scene {
            continue;
        }
        if matches!(word.as_str(), "last" | "final") {
            let before = i.checked_sub(2).map(|b| (w[b].as_str(), w[b + 1].as_str()));
            if matches!(before, Some(("second", "to"))) {
                return by_position(count.saturating_sub(1), "\"second to last\"".into());
            }
            return by_position(count, format!("\"{word} {}\"", w[i + 1]));
        }
        if word == "penultimate" {
            return by_position(count.saturating_sub(1), "\"penultimate\"".into());
        }
        if word == "opening" {
            return by_position(1, "\"opening scene\"".into());
        }
        if word == "closing" || word == "ending" {
            return by_position(count, format!("\"{word} scene\""));
        }
        if let Some(n) = words::ordinal(word) {
            return by_position(n, format!("\"{word} {}\"", w[i + 1]));
        }
    }
    // A scene's name: "the pricing scene", "in Pricing Plans", "the intro".
    if let Some(found) = by_name(w, plain, scenes)? {
        return Ok(Some(found));
    }
    // "the intro" / "the outro": the scene with that word in its name, else the first / last.
    for (word, fallback) in [("intro", 1), ("outro", count)] {
        if !w.iter().any(|x| x == word) {
            continue;
        }
        if let Some(index) = scenes
            .iter()
            .position(|s| words::words(&s.name).iter().any(|n| n == word))
        {
            return Ok(Some(Target {
                index,
                how: format!("name \"{}\" (the {word})", scenes[index].name),
            }));
        }
        return by_position(fallback, format!("\"the {word}\" (position {fallback})"));
    }
    Ok(None)
}

/// Words that also name parts of a scene; a scene called "Title" is only meant when the
/// request says "the title scene".
const NAME_STOPWORDS: &[&str] = &[
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

fn by_name(w: &[String], plain: &str, scenes: &[SceneRef]) -> Result<Option<Target>, String> {
    let text = format!(" {} ", words::words(plain).join(" "));
    let mut found: Vec<(usize, u8, String)> = Vec::new(); // (index, strength, how)
    for (index, scene) in scenes.iter().enumerate() {
        let name_words = words::words(&scene.name);
        if name_words.is_empty() {
            continue;
        }
        let name = name_words.join(" ");
        if text.contains(&format!(" {name} ")) {
            let followed_by_noun = SCENE_NOUNS
                .iter()
                .any(|n| text.contains(&format!(" {name} {n}")));
            let as_object = NAME_LEADS.iter().any(|lead| {
                text.contains(&format!(" {lead} {name} "))
                    || text.contains(&format!(" {lead} the {name} "))
            });
            let distinctive = name_words.len() > 1 || !NAME_STOPWORDS.contains(&name.as_str());
            if followed_by_noun || distinctive && (name_words.len() > 1 || as_object) {
                found.push((index, 3, format!("name \"{}\"", scene.name)));
                continue;
            }
        }
        // "the pricing scene" for a scene named "Pricing Plans".
        let partial = w.iter().enumerate().find(|(i, word)| {
            w.get(i + 1).is_some_and(|x| is_scene_noun(x))
                && !NAME_STOPWORDS.contains(&word.as_str())
                && name_words.contains(word)
        });
        if let Some((_, word)) = partial {
            found.push((
                index,
                2,
                format!("name word \"{word}\" of \"{}\"", scene.name),
            ));
        }
    }
    let Some(best) = found.iter().map(|f| f.1).max() else {
        return Ok(None);
    };
    let best: Vec<&(usize, u8, String)> = found.iter().filter(|f| f.1 == best).collect();
    if best.len() > 1 {
        let names: Vec<String> = best.iter().map(|f| describe(&scenes[f.0])).collect();
        return Err(format!(
            "Several scenes match: {}. Which one did you mean?",
            names.join(" or ")
        ));
    }
    Ok(best.first().map(|f| Target {
        index: f.0,
        how: f.2.clone(),
    }))
}

/// Words after which a single-word scene name is the object: "in Pricing", "delete the outro".
const NAME_LEADS: &[&str] = &[
    "in", "on", "from", "of", "into", "to", "after", "before", "delete", "remove", "trim",
    "shorten", "extend", "edit", "update",
];
