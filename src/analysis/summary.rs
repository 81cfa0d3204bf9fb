//! Project-wide style: which colors, fonts and elements the scenes use most.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::SceneAnalysis;

/// The style patterns of a set of scenes, most used first (ties by name).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StyleSummary {
    /// Each color with the number of scenes that use it.
    pub colors: Vec<(String, usize)>,
    /// Each font family with the number of scenes that use it.
    pub fonts: Vec<(String, usize)>,
    /// Each JSX element kind with how often it occurs across all scenes.
    pub common_elements: Vec<(String, usize)>,
}

/// Folds scene analyses into a [`StyleSummary`].
pub fn summarise<'a>(analyses: impl IntoIterator<Item = &'a SceneAnalysis>) -> StyleSummary {
    let mut colors: BTreeMap<&str, usize> = BTreeMap::new();
    let mut fonts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut elements: BTreeMap<&str, usize> = BTreeMap::new();
    for analysis in analyses {
        // An analysis lists each color and font once, so these count scenes.
        for color in &analysis.colors {
            *colors.entry(color).or_insert(0) += 1;
        }
        for font in &analysis.font_families {
            *fonts.entry(font).or_insert(0) += 1;
        }
        for (element, count) in &analysis.elements {
            *elements.entry(element).or_insert(0) += count;
        }
    }
    StyleSummary {
        colors: most_used_first(colors),
        fonts: most_used_first(fonts),
        common_elements: most_used_first(elements),
    }
}

fn most_used_first(counts: BTreeMap<&str, usize>) -> Vec<(String, usize)> {
    let mut ranked: Vec<(String, usize)> = counts
        .into_iter()
        .map(|(name, count)| (name.to_string(), count))
        .collect();
    // Stable sort over name-ordered input: equal counts stay in name order.
    ranked.sort_by_key(|r| std::cmp::Reverse(r.1));
    ranked
}
