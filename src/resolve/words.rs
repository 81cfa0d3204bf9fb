//! The words of a request as the resolver and the offline model read them: lowercase words,
//! quoted passages (which name texts, never scenes), numbers, ordinals and quantity units.
//!
//! The offline model's own reading (durations, colors) builds on these, so both split a
//! request the same way.

/// Lowercase words of `text`: letters, digits, `#` and decimal points; everything else splits.
/// "scene 2's title" is `scene 2 title`: a possessive is not a word of its own (read as "s" it
/// would be a unit, and scene 2 a quantity).
pub fn words(text: &str) -> Vec<String> {
    // One allocation per word: this also splits every scene name of a 10,000-scene index.
    text.split(|c: char| !(c.is_alphanumeric() || c == '#' || c == '.' || c == '\''))
        .map(|piece| piece.trim_matches(|c| c == '.' || c == '\''))
        .map(|piece| {
            piece
                .strip_suffix("'s")
                .or_else(|| piece.strip_suffix("'S"))
                .unwrap_or(piece)
        })
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            if piece.is_ascii() {
                piece.to_ascii_lowercase()
            } else {
                // Full lowercasing: scene names are not all English.
                piece.to_lowercase()
            }
        })
        .collect()
}

const QUOTE_PAIRS: &[(char, char)] =
    &[('"', '"'), ('\'', '\''), ('“', '”'), ('‘', '’'), ('`', '`')];

/// Quoted passages of a request, in order: `"..."`, `'...'`, `“...”`, `‘...’`. An apostrophe
/// inside a word (`don't`) does not open a quote.
pub fn quoted(text: &str) -> Vec<String> {
    quoted_ranges(text)
        .into_iter()
        .map(|(start, end)| text[start..end].to_string())
        .filter(|q| !q.trim().is_empty())
        .collect()
}

/// `text` with its quoted passages blanked out, for keyword matching.
pub fn without_quotes(text: &str) -> String {
    let mut out = text.to_string();
    for (start, end) in quoted_ranges(text).into_iter().rev() {
        // The delimiters are one char each side; blank them too.
        let open = text[..start]
            .char_indices()
            .last()
            .map_or(start, |(i, _)| i);
        let close = text[end..]
            .chars()
            .next()
            .map_or(end, |c| end + c.len_utf8());
        out.replace_range(open..close, " ");
    }
    out
}

/// Byte ranges of the contents (without delimiters) of quoted passages.
fn quoted_ranges(text: &str) -> Vec<(usize, usize)> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let opens = QUOTE_PAIRS.iter().find(|(open, _)| *open == c);
        let after_word = i > 0 && chars[i - 1].1.is_alphanumeric();
        if let (Some(&(_, close)), false) = (opens, after_word) {
            let found = chars[i + 1..].iter().enumerate().find(|(j, (_, ch))| {
                let next = chars.get(i + 2 + j).map(|(_, n)| *n);
                *ch == close && next.is_none_or(|n| !n.is_alphanumeric())
            });
            if let Some((j, &(end, _))) = found {
                ranges.push((at + c.len_utf8(), end));
                i += j + 2;
                continue;
            }
        }
        i += 1;
    }
    ranges
}

/// A number written as digits or as a small English number word.
pub fn number(word: &str) -> Option<f64> {
    if let Ok(n) = word.parse::<f64>() {
        return n.is_finite().then_some(n);
    }
    const NAMES: &[&str] = &[
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ];
    match word {
        "a" | "an" => Some(1.0),
        "half" => Some(0.5),
        "thirty" => Some(30.0),
        "forty" => Some(40.0),
        "sixty" => Some(60.0),
        _ => NAMES.iter().position(|n| *n == word).map(|i| i as f64),
    }
}

/// An ordinal word: `first` = 1, `2nd` = 2, ... `tenth` = 10.
pub fn ordinal(word: &str) -> Option<usize> {
    const NAMES: &[&str] = &[
        "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
        "tenth",
    ];
    if let Some(i) = NAMES.iter().position(|n| *n == word) {
        return Some(i + 1);
    }
    let digits = word
        .strip_suffix("st")
        .or_else(|| word.strip_suffix("nd"))
        .or_else(|| word.strip_suffix("rd"))
        .or_else(|| word.strip_suffix("th"))?;
    digits.parse().ok()
}

/// Whether `word` makes the number before it a quantity rather than a scene's position:
/// "scene 2" names a scene, "the pricing scene 6 seconds long" does not. Every duration unit the
/// offline model reads is one (a unit test holds the two lists together).
pub fn is_quantity_unit(word: &str) -> bool {
    matches!(
        word,
        "s" | "sec"
            | "secs"
            | "second"
            | "seconds"
            | "min"
            | "minute"
            | "minutes"
            | "f"
            | "frame"
            | "frames"
            | "ms"
            | "px"
            | "pt"
            | "percent"
            | "%"
    )
}
