//! Small helpers shared by several layers.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch: the timestamp unit of every table and of the fixture format.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A short, stable hex digest of a text (first 16 hex chars of SHA-256).
///
/// Used to tie a stored scene analysis to the exact code it describes.
pub fn content_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Renders an age in milliseconds as a compact human string ("3s", "5m", "2h", "4d").
pub fn human_age(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}
