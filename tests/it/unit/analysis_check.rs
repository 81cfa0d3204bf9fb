//! Unit tests of `editscope::analysis::{check_tsx, line_column}`: TSX errors and their positions.

use editscope::analysis::{check_tsx, line_column};

#[test]
fn valid_tsx_passes() {
    let code = "import {AbsoluteFill} from 'remotion';\n\
                export const A: React.FC<{t: string}> = ({t}) => <AbsoluteFill>{t}</AbsoluteFill>;";
    assert_eq!(check_tsx(code), Ok(()));
}

#[test]
fn unclosed_tag_reports_position() {
    let code = "export const A = () => (\n  <div>\n    <span>hi</div>\n);\n";
    let err = check_tsx(code).expect_err("mismatched closing tag");
    assert!(err.line >= 2, "{err}");
    assert!(!err.message.is_empty());
    assert!(err.error_count >= 1);
}

#[test]
fn line_column_counts_characters() {
    assert_eq!(line_column("ab\ncé\nx", 0), (1, 1));
    assert_eq!(line_column("ab\ncé\nx", 3), (2, 1));
    assert_eq!(line_column("ab\ncé\nx", 7), (3, 1));
    assert_eq!(line_column("ab\ncé\nx", 99), (3, 2));
}
