//! The legacy way of knowing preferences: parse them by hand out of every user message, on every
//! request. Kept because `memory` off (and the legacy builder) must do exactly this work.
//!
//! The parser itself is [`crate::memory::stated`], shared with memory learning, so that what
//! the legacy builder finds in a history and what memory learned from it cannot drift apart.

use std::collections::BTreeMap;

use super::model::PreferenceItem;
use crate::memory::stated;
use crate::store::Message;

pub use crate::memory::stated::PARSED_CONFIDENCE;

/// Scans every user message, oldest first; a later statement overrides an earlier one.
pub fn parse_preferences(messages: &[Message]) -> BTreeMap<String, PreferenceItem> {
    let mut found: BTreeMap<String, PreferenceItem> = BTreeMap::new();
    for m in messages.iter().filter(|m| m.role == "user") {
        for (key, value) in stated::stated_in(&m.content) {
            found.insert(
                key.to_string(),
                PreferenceItem {
                    value,
                    confidence: PARSED_CONFIDENCE,
                },
            );
        }
    }
    found
}
