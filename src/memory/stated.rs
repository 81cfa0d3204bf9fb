//! What a message states: the preferences a user wrote in free text ("I want the brand color
//! #7C3AED everywhere" -> `brand_color #7C3AED`).
//!
//! One parser for the whole program: the legacy builder runs it over every message on every
//! request ([`crate::context::prefs::parse_preferences`]), and memory learning
//! ([`super::learn`]) runs it once per message and keeps what it found. It lives below the
//! context engine (layers call down only) because learning, which import and the pipeline use
//! too, needs it.

use std::collections::BTreeMap;

/// Confidence given to a preference guessed from free text.
pub const PARSED_CONFIDENCE: f64 = 0.6;

const TONES: [&str; 8] = [
    "playful",
    "serious",
    "minimal",
    "energetic",
    "calm",
    "bold",
    "elegant",
    "friendly",
];

/// The preferences one message's text states, key -> value. Sentences are read in order and a
/// later statement of a key overrides an earlier one, as across messages.
pub fn stated_in(text: &str) -> BTreeMap<&'static str, String> {
    let mut found = BTreeMap::new();
    for sentence in text.split(['.', '!', '?', '\n']) {
        for (key, value) in parse_sentence(sentence) {
            found.insert(key, value);
        }
    }
    found
}

fn parse_sentence(sentence: &str) -> Vec<(&'static str, String)> {
    let lower = sentence.to_lowercase();
    let mut out = Vec::new();
    if (lower.contains("brand colo") || lower.contains("primary colo"))
        && let Some(hex) = find_hex(sentence)
    {
        out.push(("brand_color", hex));
    }
    if (lower.contains("font") || lower.contains("typeface") || lower.contains("heading"))
        && let Some(font) = font_after_use(sentence)
    {
        let key = if lower.contains("body") || (lower.contains("text") && !lower.contains("head")) {
            "body_font"
        } else {
            "heading_font"
        };
        out.push((key, font));
    }
    if (lower.contains("tone") || lower.contains("feel") || lower.contains("vibe"))
        && let Some(t) = TONES.iter().find(|t| lower.contains(*t))
    {
        out.push(("tone", t.to_string()));
    }
    if lower.contains("second")
        && (lower.contains("under") || lower.contains("shorter") || lower.contains("at most"))
        && let Some(n) = lower
            .split(|c: char| !c.is_ascii_digit())
            .find(|w| !w.is_empty())
            .and_then(|w| w.parse::<u32>().ok())
    {
        out.push(("max_scene_seconds", n.to_string()));
    }
    if lower.contains("background") {
        for style in ["dark", "light", "gradient", "white", "black"] {
            if lower.contains(style) {
                out.push(("background_style", style.to_string()));
                break;
            }
        }
    }
    out
}

fn find_hex(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b != b'#' {
            continue;
        }
        let digits: String = text[i + 1..]
            .chars()
            .take_while(|c| c.is_ascii_hexdigit())
            .collect();
        if digits.len() == 6 || digits.len() == 3 {
            return Some(format!("#{}", digits.to_uppercase()));
        }
    }
    None
}

/// "use Inter for headings" / "always use Playfair Display" -> the capitalised words after "use".
fn font_after_use(sentence: &str) -> Option<String> {
    let tokens: Vec<&str> = sentence.split_whitespace().collect();
    let start = tokens
        .iter()
        .position(|t| t.eq_ignore_ascii_case("use") || t.eq_ignore_ascii_case("in"))?;
    let name: Vec<&str> = tokens[start + 1..]
        .iter()
        .map(|t| t.trim_matches(|c: char| !c.is_alphanumeric()))
        .take_while(|t| t.chars().next().is_some_and(char::is_uppercase))
        .collect();
    (!name.is_empty()).then(|| name.join(" "))
}
