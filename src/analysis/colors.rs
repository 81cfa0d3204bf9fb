//! Recognising CSS colors inside string values: hex, functional (`rgb()`, `rgba()`, `hsl()`,
//! `hsla()`) and a fixed list of common CSS color names.

/// The CSS color names the analyser recognises. Deliberately the common ones only: a full list
/// would also match ordinary words ("tan", "linen") far more often than it finds colors.
pub const CSS_COLOR_NAMES: &[&str] = &[
    "aliceblue",
    "aqua",
    "azure",
    "beige",
    "black",
    "blue",
    "brown",
    "chocolate",
    "coral",
    "crimson",
    "cyan",
    "darkblue",
    "darkgray",
    "darkgreen",
    "darkgrey",
    "darkred",
    "deeppink",
    "dodgerblue",
    "firebrick",
    "forestgreen",
    "fuchsia",
    "gold",
    "goldenrod",
    "gray",
    "green",
    "grey",
    "hotpink",
    "indigo",
    "ivory",
    "khaki",
    "lavender",
    "lightblue",
    "lightgray",
    "lightgreen",
    "lightgrey",
    "lime",
    "limegreen",
    "magenta",
    "maroon",
    "midnightblue",
    "navy",
    "olive",
    "orange",
    "orangered",
    "orchid",
    "pink",
    "plum",
    "purple",
    "rebeccapurple",
    "red",
    "royalblue",
    "salmon",
    "seagreen",
    "silver",
    "skyblue",
    "slategray",
    "steelblue",
    "teal",
    "tomato",
    "turquoise",
    "violet",
    "white",
    "whitesmoke",
    "yellow",
];

/// The named color `word` is, lowercased, if it is one of [`CSS_COLOR_NAMES`].
pub fn named_color(word: &str) -> Option<&'static str> {
    let lower = word.trim().to_ascii_lowercase();
    CSS_COLOR_NAMES
        .binary_search(&lower.as_str())
        .ok()
        .map(|i| CSS_COLOR_NAMES[i])
}

/// Normalises a hex color (`#fff`, `#ffff`, `#2563eb`, `#2563EBcc`) to uppercase 6- or
/// 8-digit form (`#FFFFFF`, `#FFFFFFFF`, `#2563EB`, `#2563EBCC`). `None` if it is not one.
pub fn normalise_hex(text: &str) -> Option<String> {
    let digits = text.strip_prefix('#')?;
    if !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let expanded: String = match digits.len() {
        3 | 4 => digits.chars().flat_map(|c| [c, c]).collect(),
        6 | 8 => digits.to_string(),
        _ => return None,
    };
    Some(format!("#{}", expanded.to_ascii_uppercase()))
}

/// Where a string sits decides how eagerly names are matched inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringRole {
    /// The value of a color-bearing CSS property (`border: "2px solid white"`): color names
    /// are matched as words inside the value.
    ColorProperty,
    /// Any other string used as a value: a color name only counts when it is the whole string
    /// (`"white"`), so prose such as "The red fox" yields nothing.
    Other,
}

/// Whether a CSS property or attribute name carries colors (`color`, `backgroundColor`,
/// `border`, `boxShadow`, `fill`, `stroke`, ...).
pub fn is_color_property(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        "color",
        "background",
        "border",
        "shadow",
        "outline",
        "fill",
        "stroke",
        "gradient",
        "caret",
        "decoration",
    ]
    .iter()
    .any(|part| lower.contains(part))
}

/// Every color in `text`, in order of appearance: hex normalised, functional colors with their
/// whitespace collapsed, names lowercased. Duplicates within `text` are kept; callers dedupe.
pub fn colors_in(text: &str, role: StringRole) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let starts_token = i == 0 || !is_word_byte(bytes[i - 1]);
        if bytes[i] == b'#' && starts_token {
            let end = word_end(bytes, i + 1);
            if let Some(hex) = normalise_hex(&text[i..end]) {
                found.push(hex);
            }
            i = end.max(i + 1);
            continue;
        }
        if starts_token && bytes[i].is_ascii_alphabetic() {
            let end = word_end(bytes, i);
            let word = &text[i..end];
            let lower = word.to_ascii_lowercase();
            if matches!(lower.as_str(), "rgb" | "rgba" | "hsl" | "hsla")
                && bytes.get(end) == Some(&b'(')
                && let Some(close) = matching_paren(bytes, end)
            {
                found.push(normalise_functional(&lower, &text[end + 1..close]));
                i = close + 1;
                continue;
            }
            if role == StringRole::ColorProperty
                && let Some(name) = named_color(word)
            {
                found.push(name.to_string());
            }
            i = end;
            continue;
        }
        i += 1;
    }
    if role == StringRole::Other
        && found.is_empty()
        && let Some(name) = named_color(text)
    {
        found.push(name.to_string());
    }
    found
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn word_end(bytes: &[u8], from: usize) -> usize {
    let mut end = from;
    while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
        end += 1;
    }
    end
}

/// Index of the `)` closing the `(` at `open`, counting nested parentheses (template
/// interpolations such as `${a(b)}` stay inside).
fn matching_paren(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (offset, &b) in bytes[open..].iter().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + offset);
                }
            }
            _ => {}
        }
    }
    None
}

/// `rgba( 0,0 ,0, .5 )` -> `rgba(0, 0, 0, .5)`; space-separated syntax keeps single spaces.
fn normalise_functional(name: &str, args: &str) -> String {
    let parts: Vec<String> = args
        .split(',')
        .map(|part| part.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    format!("{name}({})", parts.join(", "))
}
