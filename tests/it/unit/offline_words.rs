//! Unit tests of `editscope::llm::offline::words`: words, quotes, durations, numbers and colors.

use editscope::llm::offline::words::{
    Duration, color_word, duration, literal_color, luminance, number, ordinal, quoted, unit_scale,
    without_quotes, words,
};

fn w(text: &str) -> Vec<String> {
    words(text)
}

#[test]
fn splits_words() {
    assert_eq!(
        w("Make scene 2's title BLUE!"),
        vec!["make", "scene", "2", "title", "blue"]
    );
    assert_eq!(w("trim to 2.5s."), vec!["trim", "to", "2.5s"]);
}

#[test]
fn quotes_delimit_text() {
    assert_eq!(
        quoted("change the headline to 'Ship faster'"),
        vec!["Ship faster"]
    );
    assert_eq!(
        quoted("say “Hello, world” and \"Bye\""),
        vec!["Hello, world", "Bye"]
    );
    assert!(quoted("don't touch the user's title").is_empty());
    assert_eq!(quoted("rename it to 'Don't stop'"), vec!["Don't stop"]);
    assert_eq!(without_quotes("make 'Blue sky' red"), "make   red");
}

#[test]
fn durations() {
    let d = |t: &str| duration(&w(t));
    assert_eq!(
        d("trim scene 3 to 2 seconds"),
        Some(Duration {
            frames: 60,
            relative: false
        })
    );
    assert_eq!(
        d("make it 90 frames"),
        Some(Duration {
            frames: 90,
            relative: false
        })
    );
    assert_eq!(
        d("shorten by a second"),
        Some(Duration {
            frames: 30,
            relative: true
        })
    );
    assert_eq!(
        d("2.5s long"),
        Some(Duration {
            frames: 75,
            relative: false
        })
    );
    assert_eq!(
        d("last four seconds"),
        Some(Duration {
            frames: 120,
            relative: false
        })
    );
    assert_eq!(d("make scene 2 blue"), None);
}

#[test]
fn ordinals_and_numbers() {
    assert_eq!(ordinal("second"), Some(2));
    assert_eq!(ordinal("3rd"), Some(3));
    assert_eq!(ordinal("last"), None);
    assert_eq!(number("seven"), Some(7.0));
    assert_eq!(number("42"), Some(42.0));
}

#[test]
fn colors() {
    assert_eq!(
        color_word(&w("make the title blue")).map(|c| c.hex),
        Some("#2563EB".into())
    );
    let navy = color_word(&w("background dark navy")).expect("navy");
    assert_eq!(navy.words, "dark navy");
    assert_eq!(navy.hex, "#122353");
    assert_eq!(literal_color("use #2563eb please"), Some("#2563EB".into()));
    assert_eq!(
        literal_color("rgb(1, 2, 3) now"),
        Some("rgb(1, 2, 3)".into())
    );
    assert!(luminance("#000000").is_some_and(|l| l < 0.01));
    assert!(luminance("#FFFFFF").is_some_and(|l| l > 0.99));
}

#[test]
fn every_unit_of_a_duration_is_a_quantity_for_target_resolution() {
    // The offline model reads "6 seconds" as a duration; the context must then not read
    // "scene 6 seconds" as scene 6, or the two would target different scenes.
    let candidates = [
        "s", "sec", "secs", "second", "seconds", "min", "minute", "minutes", "f", "frame",
        "frames", "ms", "hour", "beats",
    ];
    for word in candidates {
        if unit_scale(word).is_some() {
            assert!(
                editscope::resolve::is_quantity_unit(word),
                "{word} is a duration unit but not a quantity unit"
            );
        }
    }
    assert!(!editscope::resolve::is_quantity_unit("title"));
}
