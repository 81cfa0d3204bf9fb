//! Unit tests of `editscope::analysis::extract`: fonts, pixel sizes, entities, whitespace.

use editscope::analysis::extract::{collapse_whitespace, decode_entities, first_family, parse_px};

#[test]
fn first_family_strips_quotes_and_fallbacks() {
    assert_eq!(first_family("Inter, sans-serif").as_deref(), Some("Inter"));
    assert_eq!(
        first_family("'Playfair Display', serif").as_deref(),
        Some("Playfair Display")
    );
    assert_eq!(first_family("\"SF Pro\"").as_deref(), Some("SF Pro"));
    assert_eq!(first_family(" , serif"), None);
}

#[test]
fn px_values() {
    assert_eq!(parse_px("48px"), Some(48.0));
    assert_eq!(parse_px(" 12.5 "), Some(12.5));
    assert_eq!(parse_px("3rem"), None);
}

#[test]
fn entities_decode() {
    assert_eq!(decode_entities("Tom &amp; Jerry&apos;s"), "Tom & Jerry's");
    assert_eq!(collapse_whitespace("  a \n   b\t"), "a b");
}
