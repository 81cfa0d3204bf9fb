//! addScene offline: a new title-card scene in the project's own style.
//!
//! Colors and fonts come, in order, from stored preferences (`brand_color`, `accent_color`,
//! `background_color`, `heading_font`, `body_font`), then from the style the existing scenes
//! use (`StyleHints`, most used first), then from neutral defaults.

use super::scene_model::{js_string, jsx_text};
use super::words::{self, luminance};
use crate::llm::CodeEditRequest;

/// Length of a new scene when the request names none: 3 seconds.
const DEFAULT_FRAMES: i64 = 90;

/// A new scene: its code, name, duration and the summary line.
pub(super) struct NewScene {
    pub code: String,
    pub name: String,
    pub duration_frames: i64,
    pub summary: String,
}

pub(super) fn build(request: &CodeEditRequest) -> NewScene {
    let prefs = &request.preferences;
    let hints = &request.style;
    let colors: Vec<&String> = hints
        .colors
        .iter()
        .filter(|c| luminance(c).is_some())
        .collect();
    let darkest = colors.iter().copied().min_by(|a, b| {
        luminance(a)
            .partial_cmp(&luminance(b))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let lightest = colors.iter().copied().max_by(|a, b| {
        luminance(a)
            .partial_cmp(&luminance(b))
            .unwrap_or(std::cmp::Ordering::Equal)
    });

    let brand = prefs
        .get("brand_color")
        .cloned()
        .or_else(|| hints.colors.first().cloned())
        .unwrap_or_else(|| "#2563EB".into());
    let accent = prefs
        .get("accent_color")
        .cloned()
        .or_else(|| hints.colors.iter().find(|c| **c != brand).cloned())
        .unwrap_or_else(|| brand.clone());
    let background = prefs
        .get("background_color")
        .cloned()
        .or_else(|| {
            darkest
                .filter(|c| luminance(c).is_some_and(|l| l < 0.25))
                .cloned()
        })
        .unwrap_or_else(|| "#0F172A".into());
    let dark_background = luminance(&background).is_none_or(|l| l < 0.5);
    let text = if dark_background {
        lightest
            .filter(|c| luminance(c).is_some_and(|l| l > 0.8))
            .cloned()
            .unwrap_or_else(|| "#FFFFFF".into())
    } else {
        darkest
            .filter(|c| luminance(c).is_some_and(|l| l < 0.2))
            .cloned()
            .unwrap_or_else(|| "#0F172A".into())
    };
    let heading_font = prefs
        .get("heading_font")
        .cloned()
        .or_else(|| hints.fonts.first().cloned())
        .unwrap_or_else(|| "Inter".into());
    let body_font = prefs
        .get("body_font")
        .cloned()
        .or_else(|| hints.fonts.get(1).cloned())
        .unwrap_or_else(|| heading_font.clone());

    let (name, headline) = name_and_headline(&request.user_prompt);
    let duration = request
        .args
        .get("duration_frames")
        .and_then(serde_json::Value::as_i64)
        .filter(|d| *d > 0)
        .or_else(|| {
            words::duration(&words::words(&words::without_quotes(&request.user_prompt)))
                .filter(|d| !d.relative)
                .map(|d| d.frames)
        })
        .unwrap_or(DEFAULT_FRAMES);
    let component = component_name(&name);
    let q = |s: &str| js_string(s, '\'');
    let font_stack = |f: &str| {
        if f.contains(',') {
            f.to_string()
        } else {
            format!("{f}, sans-serif")
        }
    };
    let exit_from = (duration - 15).max(1);

    let code = format!(
        r#"import React from 'react';
import {{
  AbsoluteFill,
  interpolate,
  spring,
  useCurrentFrame,
  useVideoConfig,
}} from 'remotion';

const DURATION = {duration};

export const {component}: React.FC = () => {{
  const frame = useCurrentFrame();
  const {{ fps }} = useVideoConfig();
  const entrance = spring({{ frame, fps, config: {{ damping: 14 }} }});
  const titleY = interpolate(entrance, [0, 1], [40, 0]);
  const accentWidth = interpolate(frame, [10, 40], [0, 240], {{
    extrapolateLeft: 'clamp',
    extrapolateRight: 'clamp',
  }});
  const exit = interpolate(frame, [{exit_from}, DURATION], [1, 0], {{
    extrapolateLeft: 'clamp',
    extrapolateRight: 'clamp',
  }});

  return (
    <AbsoluteFill
      style={{{{
        backgroundColor: {background},
        justifyContent: 'center',
        alignItems: 'center',
        opacity: exit,
      }}}}
    >
      <h1
        style={{{{
          fontFamily: {heading},
          fontSize: 96,
          fontWeight: 800,
          color: {text},
          margin: 0,
          opacity: entrance,
          transform: `translateY(${{titleY}}px)`,
        }}}}
      >
        {headline_jsx}
      </h1>
      <div
        style={{{{
          width: accentWidth,
          height: 8,
          marginTop: 32,
          borderRadius: 4,
          background: {gradient},
        }}}}
      />
      <p
        style={{{{
          fontFamily: {body},
          fontSize: 36,
          color: {muted},
          marginTop: 32,
          opacity: entrance,
        }}}}
      >
        {name_jsx}
      </p>
    </AbsoluteFill>
  );
}};
"#,
        background = q(&background),
        heading = q(&font_stack(&heading_font)),
        body = q(&font_stack(&body_font)),
        text = q(&text),
        muted = q(&accent),
        gradient = q(&format!("linear-gradient(90deg, {brand}, {accent})")),
        headline_jsx = jsx_text(&headline),
        name_jsx = jsx_text(&name),
    );
    let summary = format!(
        "new scene \"{name}\" ({duration} frames) with headline \"{headline}\" in {} on {background}",
        words::collapse(&heading_font)
    );
    NewScene {
        code,
        name,
        duration_frames: duration,
        summary,
    }
}

/// The scene's name and headline from the request: quoted text is the headline; otherwise the
/// words after "about" / "called" / "for" / "saying"; otherwise the kind of scene named.
pub fn name_and_headline(prompt: &str) -> (String, String) {
    let quoted = words::quoted(prompt);
    let plain = words::without_quotes(prompt);
    let lower = plain.to_lowercase();
    let topic = [
        "called ", "titled ", "named ", "about ", "saying ", "for ", "showing ", "on ",
    ]
    .iter()
    .find_map(|cue| {
        let at = format!(" {lower}").find(&format!(" {cue}"))?;
        let rest = plain.get(at + cue.len()..)?;
        // The topic ends at the first punctuation: "called Roadmap, 4 seconds".
        let rest = rest
            .split([',', '.', ';', ':', '!', '?'])
            .next()
            .unwrap_or(rest);
        let rest: Vec<&str> = rest
            .split_whitespace()
            .take_while(|w| {
                !matches!(
                    w.to_lowercase().as_str(),
                    "at" | "after" | "before" | "with" | "that" | "which" | "lasting" | "and"
                )
            })
            .take(6)
            .collect();
        let text = rest.join(" ");
        let text = text
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_string();
        (!text.is_empty()).then_some(text)
    });
    let w = words::words(&plain);
    let kind = if w.iter().any(|x| x == "outro") {
        Some(("Outro", "Thanks for watching"))
    } else if w.iter().any(|x| x == "intro") {
        Some(("Intro", "Welcome"))
    } else {
        None
    };
    // "add a pricing scene": the word before "scene".
    let before_noun = w
        .iter()
        .position(|x| x == "scene" || x == "slide")
        .and_then(|i| {
            let word = w.get(i.checked_sub(1)?)?;
            (!matches!(
                word.as_str(),
                "a" | "an" | "new" | "another" | "the" | "one" | "final" | "closing" | "opening"
            ))
            .then(|| words::title_case(word))
        });
    let topic = topic.map(|t| words::title_case(&t));
    let headline = quoted
        .first()
        .cloned()
        .or_else(|| topic.clone())
        .or_else(|| kind.map(|(_, h)| h.to_string()))
        .or_else(|| before_noun.clone())
        .unwrap_or_else(|| "New Scene".to_string());
    let name = kind
        .map(|(n, _)| n.to_string())
        .or(before_noun)
        .or(topic)
        .unwrap_or_else(|| short_name(&headline));
    (name, headline)
}

/// The first three words of a headline, as a scene name.
fn short_name(headline: &str) -> String {
    headline
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// "pricing plans" -> "PricingPlansScene" (a valid component identifier).
pub fn component_name(name: &str) -> String {
    let mut out: String = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or(String::new(), |c| {
                c.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "New");
    }
    out.push_str("Scene");
    out
}
