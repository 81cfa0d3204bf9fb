//! Reading a user's request: words, quoted texts, numbers, durations, ordinals and colors.

/// Frames per second of every scene (Remotion compositions in this product run at 30 fps).
pub(super) const FPS: f64 = 30.0;

pub use crate::resolve::words::{number, ordinal, quoted, without_quotes, words};

/// Collapses runs of whitespace to single spaces and trims.
pub(super) fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A length of time named in a request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Duration {
    pub frames: i64,
    /// "by 1 second": a change relative to the current length, not a new length.
    pub relative: bool,
}

/// The first duration in `words`: "2 seconds", "2.5s", "90 frames", "a second", "by 1 second".
pub fn duration(words: &[String]) -> Option<Duration> {
    for (i, word) in words.iter().enumerate() {
        let (amount, unit) = match split_unit(word) {
            Some(split) => split,
            None => {
                let Some(next) = words.get(i + 1) else {
                    continue;
                };
                let Some(unit) = unit_scale(next) else {
                    continue;
                };
                let Some(amount) = number(word) else {
                    continue;
                };
                (amount, unit)
            }
        };
        if amount <= 0.0 {
            continue;
        }
        let relative = i > 0 && words[i - 1] == "by";
        return Some(Duration {
            frames: (amount * unit).round() as i64,
            relative,
        });
    }
    None
}

/// Frames per unit word.
pub fn unit_scale(word: &str) -> Option<f64> {
    match word {
        "second" | "seconds" | "sec" | "secs" | "s" => Some(FPS),
        "frame" | "frames" | "f" => Some(1.0),
        "minute" | "minutes" | "min" => Some(60.0 * FPS),
        _ => None,
    }
}

/// `2s`, `2.5sec`, `90f`, `90frames` as one word.
fn split_unit(word: &str) -> Option<(f64, f64)> {
    let split = word.find(|c: char| c.is_ascii_alphabetic())?;
    let (digits, unit) = word.split_at(split);
    let amount: f64 = digits.parse().ok()?;
    Some((amount, unit_scale(unit)?))
}

/// Basic colors users name, as hex. The values are the mid tones of a common UI palette, so
/// "blue" gives a blue that reads well on screen rather than pure `#0000FF`.
const PALETTE: &[(&str, &str)] = &[
    ("amber", "#F59E0B"),
    ("beige", "#F5F5DC"),
    ("black", "#000000"),
    ("blue", "#2563EB"),
    ("brown", "#92400E"),
    ("charcoal", "#36454F"),
    ("coral", "#FF7F50"),
    ("cream", "#FFFDD0"),
    ("crimson", "#DC143C"),
    ("cyan", "#06B6D4"),
    ("emerald", "#10B981"),
    ("gold", "#D4A017"),
    ("gray", "#6B7280"),
    ("green", "#16A34A"),
    ("grey", "#6B7280"),
    ("indigo", "#4F46E5"),
    ("lavender", "#E6E6FA"),
    ("lime", "#84CC16"),
    ("magenta", "#D946EF"),
    ("maroon", "#800000"),
    ("mint", "#98FF98"),
    ("navy", "#1E3A8A"),
    ("olive", "#808000"),
    ("orange", "#F97316"),
    ("pink", "#EC4899"),
    ("purple", "#9333EA"),
    ("red", "#DC2626"),
    ("rose", "#F43F5E"),
    ("silver", "#C0C0C0"),
    ("slate", "#475569"),
    ("teal", "#0D9488"),
    ("turquoise", "#40E0D0"),
    ("violet", "#7C3AED"),
    ("white", "#FFFFFF"),
    ("yellow", "#EAB308"),
];

/// A color named in words, with how it was named ("dark navy").
#[derive(Debug, Clone, PartialEq)]
pub struct NamedColor {
    pub hex: String,
    pub words: String,
}

/// The last color word of `words` (with a `dark`/`light` modifier right before it), as hex.
pub fn color_word(words: &[String]) -> Option<NamedColor> {
    let (i, hex) = words.iter().enumerate().rev().find_map(|(i, w)| {
        PALETTE
            .iter()
            .find(|(name, _)| *name == w.as_str())
            .map(|(_, hex)| (i, *hex))
    })?;
    let modifier = i.checked_sub(1).map(|m| words[m].as_str());
    let (hex, label) = match modifier {
        Some(m @ ("dark" | "deep" | "darker")) => {
            (mix(hex, (0, 0, 0), 0.4), format!("{m} {}", words[i]))
        }
        Some(m @ ("light" | "pale" | "soft" | "lighter" | "pastel")) => {
            (mix(hex, (255, 255, 255), 0.5), format!("{m} {}", words[i]))
        }
        _ => (hex.to_string(), words[i].clone()),
    };
    Some(NamedColor { hex, words: label })
}

/// A hex (`#2563eb`) or functional (`rgb(...)`) color written literally in the request.
pub fn literal_color(text: &str) -> Option<String> {
    for token in text.split(|c: char| c.is_whitespace() || c == ',' || c == ';') {
        let token = token.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '#');
        if let Some(hex) = crate::analysis::normalise_hex(token) {
            return Some(hex);
        }
    }
    let lower = text.to_ascii_lowercase();
    for name in ["rgba(", "rgb(", "hsla(", "hsl("] {
        if let Some(start) = lower.find(name)
            && let Some(len) = lower[start..].find(')')
        {
            return Some(text[start..start + len + 1].to_string());
        }
    }
    None
}

/// `hex` moved `amount` (0..1) of the way towards `target`.
fn mix(hex: &str, target: (u8, u8, u8), amount: f64) -> String {
    let channel = |i: usize| u8::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16).unwrap_or(0);
    let blend = |c: u8, t: u8| (c as f64 + (t as f64 - c as f64) * amount).round() as u8;
    format!(
        "#{:02X}{:02X}{:02X}",
        blend(channel(0), target.0),
        blend(channel(1), target.1),
        blend(channel(2), target.2)
    )
}

/// Relative luminance (0 dark .. 1 light) of a `#RRGGBB` color; `None` for other notations.
pub fn luminance(hex: &str) -> Option<f64> {
    let hex = crate::analysis::normalise_hex(hex)?;
    let channel = |i: usize| {
        u8::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16)
            .ok()
            .map(|c| c as f64 / 255.0)
    };
    Some(0.2126 * channel(0)? + 0.7152 * channel(1)? + 0.0722 * channel(2)?)
}

/// "pricing plans" -> "Pricing Plans".
pub(super) fn title_case(text: &str) -> String {
    text.split_whitespace()
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
