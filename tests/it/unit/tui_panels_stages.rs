//! Unit tests of `editscope::tui::panels::stages`: the waterfall's bars.

use editscope::tui::panels::stages::{REAL_GLYPH, SIM_GLYPH, bar};

#[test]
fn bars_start_at_their_offset_and_scale_to_the_run() {
    let (pad, filled) = bar(0.0, 50.0, 100.0, 10, REAL_GLYPH);
    assert_eq!((pad.as_str(), filled.as_str()), ("", "█████"));
    let (pad, filled) = bar(50.0, 50.0, 100.0, 10, SIM_GLYPH);
    assert_eq!((pad.len(), filled.as_str()), (5, "▒▒▒▒▒"));
    // A stage too short for a cell still shows that it ran.
    let (_, filled) = bar(0.0, 0.01, 100.0, 10, REAL_GLYPH);
    assert_eq!(filled, "▏");
    let (_, filled) = bar(0.0, 0.0, 100.0, 10, REAL_GLYPH);
    assert_eq!(filled, "");
}
