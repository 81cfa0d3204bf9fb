//! Unit tests of `editscope::tui::format`: units and precision of on-screen figures.

use editscope::tui::format::{fit, fit_right, ms, percent, thousands, tokens, truncate, us};

#[test]
fn figures_carry_units_and_consistent_precision() {
    assert_eq!(ms(12.34), "12.3 ms");
    assert_eq!(ms(1234.4), "1,234 ms");
    assert_eq!(us(412), "412 µs");
    assert_eq!(us(25_000), "25.0 ms");
    assert_eq!(tokens(1_234_567), "1,234,567 tokens");
    assert_eq!(percent(0.75), "75.0 %");
    assert_eq!(thousands(-1000), "-1,000");
    assert_eq!(truncate("abcdef", 4), "abc…");
    assert_eq!(fit("ab", 4), "ab  ");
    assert_eq!(fit_right("ab", 4), "  ab");
}
