//! Unit tests of `editscope::analysis::values`: constants resolved from scene code.

use oxc_allocator::Allocator;
use oxc_parser::Parser;
use oxc_span::SourceType;

use editscope::analysis::values::Consts;

#[test]
fn constants_resolve_in_order() {
    let code = r#"
        const FPS = 30;
        const DURATION = 5 * FPS;
        const HALF = DURATION / 2;
        const FONT = "Inter, sans-serif";
        const ITEMS = ["Fast", { title: "Simple", value: 3 }, 4] as const;
        let notConst = 7;
        const driven = useCurrentFrame();
    "#;
    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, code, SourceType::tsx()).parse();
    let consts = Consts::collect(&parsed.program);
    assert_eq!(consts.numbers.get("DURATION"), Some(&150.0));
    assert_eq!(consts.numbers.get("HALF"), Some(&75.0));
    assert_eq!(
        consts.strings.get("FONT").map(String::as_str),
        Some("Inter, sans-serif")
    );
    assert_eq!(
        consts.string_lists.get("ITEMS"),
        Some(&vec!["Fast".to_string(), "Simple".to_string()])
    );
    assert!(!consts.numbers.contains_key("notConst"));
    assert!(!consts.numbers.contains_key("driven"));
}
