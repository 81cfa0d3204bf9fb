//! Unit tests of `editscope::context::prefs`: preferences parsed from user messages.

use editscope::context::prefs::parse_preferences;
use editscope::store::Message;

fn msg(text: &str) -> Message {
    Message {
        id: "m".into(),
        project_id: "p".into(),
        role: "user".into(),
        content: text.into(),
        image_urls: vec![],
        created_at: 0,
    }
}

#[test]
fn finds_stated_preferences_and_later_ones_win() {
    let prefs = parse_preferences(&[
        msg("I want our brand color #2563eb everywhere. Please always use Inter for headings."),
        msg("Make the tone playful! Keep scenes short, under 5 seconds."),
        msg("Actually the brand color is #F97316 now."),
    ]);
    assert_eq!(prefs["brand_color"].value, "#F97316");
    assert_eq!(prefs["heading_font"].value, "Inter");
    assert_eq!(prefs["tone"].value, "playful");
    assert_eq!(prefs["max_scene_seconds"].value, "5");
}
