//! Unit tests of `editscope::analysis::colors`: recognising and normalising CSS colors in strings.

use editscope::analysis::colors::{
    CSS_COLOR_NAMES, StringRole, colors_in, is_color_property, normalise_hex,
};

#[test]
fn names_are_sorted_for_binary_search() {
    let mut sorted = CSS_COLOR_NAMES.to_vec();
    sorted.sort_unstable();
    assert_eq!(sorted, CSS_COLOR_NAMES);
}

#[test]
fn hex_forms_normalise() {
    assert_eq!(normalise_hex("#fff").as_deref(), Some("#FFFFFF"));
    assert_eq!(normalise_hex("#fff8").as_deref(), Some("#FFFFFF88"));
    assert_eq!(normalise_hex("#2563eb").as_deref(), Some("#2563EB"));
    assert_eq!(normalise_hex("#2563EBcc").as_deref(), Some("#2563EBCC"));
    assert_eq!(normalise_hex("#12345"), None);
    assert_eq!(normalise_hex("#ggg"), None);
    assert_eq!(normalise_hex("fff"), None);
}

#[test]
fn finds_colors_inside_css_values() {
    assert_eq!(
        colors_in(
            "linear-gradient(135deg, #2563eb 0%, rgba( 0,0 ,0, .5 ) 100%)",
            StringRole::Other
        ),
        vec!["#2563EB", "rgba(0, 0, 0, .5)"]
    );
    assert_eq!(
        colors_in("0 4px 24px hsl(220 90% 50% / 0.4)", StringRole::Other),
        vec!["hsl(220 90% 50% / 0.4)"]
    );
    assert_eq!(
        colors_in("2px solid White", StringRole::ColorProperty),
        vec!["white"]
    );
    assert_eq!(colors_in("White", StringRole::Other), vec!["white"]);
}

#[test]
fn prose_and_fragments_are_not_colors() {
    assert!(colors_in("The red fox", StringRole::Other).is_empty());
    assert!(colors_in("#1 product", StringRole::Other).is_empty());
    assert!(colors_in("page#fff", StringRole::Other).is_empty());
    assert!(colors_in("#abcdefg", StringRole::Other).is_empty());
    assert!(colors_in("transparent", StringRole::ColorProperty).is_empty());
}

#[test]
fn template_interpolation_stays_inside_functional_color() {
    assert_eq!(
        colors_in("rgba(37, 99, 235, ${glow(0.5)})", StringRole::Other),
        vec!["rgba(37, 99, 235, ${glow(0.5)})"]
    );
}

#[test]
fn color_properties() {
    assert!(is_color_property("backgroundColor"));
    assert!(is_color_property("boxShadow"));
    assert!(is_color_property("fill"));
    assert!(!is_color_property("fontSize"));
    assert!(!is_color_property("opacity"));
}
