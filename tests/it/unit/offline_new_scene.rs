//! Unit tests of `editscope::llm::offline::new_scene`: names and headlines of new scenes.

use editscope::llm::offline::new_scene::{component_name, name_and_headline};

#[test]
fn names_and_headlines() {
    assert_eq!(
        name_and_headline("add a pricing scene"),
        ("Pricing".into(), "Pricing".into())
    );
    assert_eq!(
        name_and_headline("add a scene about our new analytics dashboard"),
        (
            "Our New Analytics Dashboard".into(),
            "Our New Analytics Dashboard".into()
        )
    );
    assert_eq!(
        name_and_headline("add an outro"),
        ("Outro".into(), "Thanks for watching".into())
    );
    assert_eq!(
        name_and_headline("add a closing scene saying 'See you soon'"),
        ("See you soon".into(), "See you soon".into())
    );
    assert_eq!(component_name("3 things"), "New3ThingsScene");
}
