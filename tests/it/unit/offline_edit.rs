//! Unit tests of `editscope::llm::offline::edit`: reading an editScene request as operations.

use editscope::llm::offline::edit::{
    AddKind, ColorSource, FontSource, Operation, Part, parse_operations,
};

#[test]
fn parses_compound_requests() {
    let ops = parse_operations("make the title blue and bigger").expect("ops");
    assert_eq!(ops.len(), 2);
    assert!(matches!(
        &ops[0],
        Operation::Color {
            part: Part::Title,
            ..
        }
    ));
    assert!(
        matches!(&ops[1], Operation::FontScale { part: Part::Title, factor } if (*factor - 1.25).abs() < 1e-9)
    );
}

#[test]
fn quotes_are_kept_whole() {
    let ops = parse_operations("change the headline to 'Fast, simple and yours'").expect("ops");
    assert_eq!(
        ops,
        vec![Operation::Text {
            part: Part::Title,
            text: "Fast, simple and yours".into()
        }]
    );
}

#[test]
fn recognises_each_kind() {
    let one = |r: &str| parse_operations(r).expect(r).remove(0);
    assert!(matches!(
        one("use our brand color for the title"),
        Operation::Color {
            color: ColorSource::Preference("brand_color"),
            ..
        }
    ));
    assert!(matches!(
        one("make the background dark navy"),
        Operation::Color {
            part: Part::Background,
            ..
        }
    ));
    assert!(
        matches!(one("use Poppins for the title"), Operation::FontFamily { part: Part::Title, font: FontSource::Literal(f) } if f == "Poppins")
    );
    assert!(
        matches!(one("set the title font size to 64"), Operation::FontSize { size, .. } if size == 64.0)
    );
    assert!(
        matches!(one("add a subtitle saying 'Now in beta'"), Operation::Add { kind: AddKind::Subtitle, text } if text == "Now in beta")
    );
    assert!(
        matches!(one("remove the logo"), Operation::Remove { part: Part::Named(w) } if w == "logo")
    );
    assert!(
        matches!(one("replace 'Old' with 'New'"), Operation::Text { part: Part::WithText(o), text } if o == "Old" && text == "New")
    );
    assert!(parse_operations("make it better").is_err());
}
