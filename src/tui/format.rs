//! How figures are written on screen: every figure carries its unit, with one precision rule per
//! unit so columns line up and two runs compare at a glance.

/// Milliseconds: one decimal below 100 ms, whole numbers with separators above ("1,234 ms").
pub fn ms(value: f64) -> String {
    if !value.is_finite() {
        return "? ms".into();
    }
    if value.abs() < 100.0 {
        format!("{value:.1} ms")
    } else {
        format!("{} ms", thousands(value.round() as i64))
    }
}

/// Microseconds, whole ("412 µs"), switching to milliseconds above 10,000 µs.
pub fn us(value: u64) -> String {
    if value >= 10_000 {
        ms(value as f64 / 1000.0)
    } else {
        format!("{value} µs")
    }
}

/// A token count with separators ("2,345 tokens").
pub fn tokens(value: u64) -> String {
    format!("{} tokens", thousands(value as i64))
}

/// A share (0..1) as a percentage with one decimal ("75.0 %").
pub fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

/// An integer with thousands separators.
pub fn thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Cuts `text` to at most `width` characters, marking the cut with an ellipsis.
pub fn truncate(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('…');
    out
}

/// Pads (or cuts) `text` to exactly `width` characters.
pub fn fit(text: &str, width: usize) -> String {
    let cut = truncate(text, width);
    let pad = width.saturating_sub(cut.chars().count());
    format!("{cut}{}", " ".repeat(pad))
}

/// Pads (or cuts) `text` to exactly `width` characters, aligned right.
pub fn fit_right(text: &str, width: usize) -> String {
    let cut = truncate(text, width);
    let pad = width.saturating_sub(cut.chars().count());
    format!("{}{cut}", " ".repeat(pad))
}

/// The first line of a possibly multi-line text, for one-row displays.
pub fn one_line(text: &str) -> String {
    text.lines().next().unwrap_or("").trim().to_string()
}
