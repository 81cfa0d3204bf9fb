//! Unit tests of `editscope::analysis`: edge cases; whole scenes are in `tests/it/analysis.rs`.

use std::collections::BTreeMap;

use editscope::analysis::{SceneAnalysis, StyleSummary, analyse, check_tsx, confidence, summarise};

fn count(map: &BTreeMap<String, usize>, key: &str) -> usize {
    map.get(key).copied().unwrap_or(0)
}

#[test]
fn colors_are_normalised_deduped_and_ordered() {
    let code = r##"
        export const A = () => (
          <div style={{ color: "#fff", backgroundColor: '#2563eb', borderColor: "#FFFFFF" }}>
            <span style={{ color: "rgba(0,0,0, 0.5)", boxShadow: "0 0 8px #2563EBcc" }} />
            <span style={{ color: "white", border: "1px solid navy" }} />
          </div>
        );
    "##;
    let a = analyse(code);
    assert_eq!(
        a.colors,
        vec![
            "#FFFFFF",
            "#2563EB",
            "rgba(0, 0, 0, 0.5)",
            "#2563EBCC",
            "white",
            "navy"
        ]
    );
    assert_eq!(a.parse_errors, 0);
}

#[test]
fn colors_in_interpolate_outputs_and_templates() {
    let code = r##"
        const frame = useCurrentFrame();
        const bg = interpolateColors(frame, [0, 30], ["#000", "#1E293B"]);
        const glow = `0 0 40px rgba(37, 99, 235, ${frame / 30})`;
        const label = "The red fox jumps";
    "##;
    let a = analyse(code);
    assert_eq!(
        a.colors,
        vec!["#000000", "#1E293B", "rgba(37, 99, 235, ${frame / 30})"]
    );
    assert_eq!(count(&a.animations, "interpolate"), 1);
}

#[test]
fn text_children_are_not_colors() {
    let code = r#"export const A = () => <h1>{"Red"}<span>Blue</span></h1>;"#;
    let a = analyse(code);
    assert!(a.colors.is_empty(), "{:?}", a.colors);
    assert_eq!(a.texts, vec!["Red", "Blue"]);
}

#[test]
fn fonts_and_sizes() {
    let code = r#"
        const FONT = "'Playfair Display', Georgia, serif";
        const BASE = 24;
        export const A = () => (
          <div style={{ fontFamily: "Inter, sans-serif", fontSize: 72 }}>
            <p style={{ fontFamily: FONT, fontSize: "48px" }}>a</p>
            <p style={{ fontFamily: `Inter`, fontSize: BASE * 2 }}>b</p>
            <p style={{ fontSize: "2rem" }}>c</p>
            <p style={{ fontSize: scale * 10 }}>d</p>
          </div>
        );
    "#;
    let a = analyse(code);
    assert_eq!(a.font_families, vec!["Inter", "Playfair Display"]);
    assert_eq!(a.font_sizes, vec![72.0, 48.0]);
}

#[test]
fn texts_from_jsx_text_literals_and_mapped_arrays() {
    let code = r#"
        const FEATURES = ["Fast renders", { title: "Team spaces", icon: "x" }];
        export const A = () => (
          <AbsoluteFill>
            <h1>
              Ship   faster
              with editscope
            </h1>
            {"Literal child"}
            {show ? "Yes" : `No`}
            {FEATURES.map((f) => <li key={String(f)}>{f}</li>)}
            {["One", "Two"].map((t) => <span>{t}</span>)}
            <Badge text="New" />
            <p>Tom &amp; Jerry</p>
            {"   "}
          </AbsoluteFill>
        );
    "#;
    let a = analyse(code);
    assert_eq!(
        a.texts,
        vec![
            "Ship faster with editscope",
            "Literal child",
            "Yes",
            "No",
            "Fast renders",
            "Team spaces",
            "One",
            "Two",
            "New",
            "Tom & Jerry",
        ]
    );
}

#[test]
fn animations_are_counted() {
    let code = r#"
        export const A = () => {
          const frame = useCurrentFrame();
          const { fps } = useVideoConfig();
          const s = spring({ frame, fps });
          const o = interpolate(frame, [0, 20], [0, 1]);
          const y = interpolate(frame, [0, 20], [40, 0]);
          return (
            <AbsoluteFill style={{ opacity: o, transform: `translateY(${y}px)` }}>
              <Sequence from={0} durationInFrames={30}><div style={{ opacity: 1 }} /></Sequence>
              <Sequence from={30}><div style={{ transform: "scale(2)", opacity: s }} /></Sequence>
            </AbsoluteFill>
          );
        };
    "#;
    let a = analyse(code);
    assert_eq!(count(&a.animations, "interpolate"), 2);
    assert_eq!(count(&a.animations, "spring"), 1);
    assert_eq!(count(&a.animations, "sequence"), 2);
    // Constant `opacity: 1` and `transform: "scale(2)"` are not animations.
    assert_eq!(count(&a.animations, "opacity"), 2);
    assert_eq!(count(&a.animations, "transform"), 1);
    assert_eq!(count(&a.elements, "Sequence"), 2);
    assert_eq!(count(&a.elements, "div"), 2);
    assert_eq!(count(&a.elements, "AbsoluteFill"), 1);
}

#[test]
fn duration_from_constants_attributes_and_sequences() {
    let by_const = analyse("const FPS = 30;\nexport const SCENE_DURATION = 4 * FPS;\n");
    assert_eq!(by_const.duration_frames, Some(120));

    let by_sequences = analyse(
        r#"const A = () => (<>
             <Sequence from={0} durationInFrames={60}><div /></Sequence>
             <Sequence from={60} durationInFrames={90}><div /></Sequence>
           </>);"#,
    );
    assert_eq!(by_sequences.duration_frames, Some(150));

    let by_property = analyse("export const config = { durationInFrames: 75, fps: 30 };");
    assert_eq!(by_property.duration_frames, Some(75));

    // A DURATION constant inside a function is a local detail, not the scene's duration.
    let local_only = analyse("const A = () => { const FADE_DURATION = 15; return <div />; };");
    assert_eq!(local_only.duration_frames, None);

    assert_eq!(analyse("const A = () => <div />;").duration_frames, None);

    // A declaration wins over sequences that run past it (they are cut off when rendered).
    let declared_wins = analyse(
        "const DURATION = 60;\nconst A = () => <Sequence from={50} durationInFrames={40}><div /></Sequence>;",
    );
    assert_eq!(declared_wins.duration_frames, Some(60));

    // A computed start: the length alone is the best lower bound.
    let computed_from = analyse(
        "const A = (i) => <Sequence from={i * 10} durationInFrames={45}><div /></Sequence>;",
    );
    assert_eq!(computed_from.duration_frames, Some(45));
}

#[test]
fn member_and_namespaced_element_names() {
    let a = analyse(
        "const A = () => <Series><Series.Sequence durationInFrames={40}><svg:rect /></Series.Sequence></Series>;",
    );
    assert_eq!(count(&a.elements, "Series.Sequence"), 1);
    assert_eq!(count(&a.elements, "svg:rect"), 1);
    assert_eq!(count(&a.animations, "sequence"), 1);
    assert_eq!(a.duration_frames, Some(40));
}

#[test]
fn broken_code_reports_errors_and_keeps_what_it_can() {
    let a = analyse("const A = () => <div style={{ color: \"#fff\" }}>Hi</span>;");
    assert!(a.parse_errors > 0);
    assert!(confidence(&a) < 0.95);

    let garbage = analyse("}}}} <<<< %%%");
    assert!(garbage.parse_errors > 0);
    assert!(confidence(&garbage) < 0.5);
}

#[test]
fn empty_and_odd_inputs_never_panic() {
    for code in [
        "",
        "   ",
        "\u{feff}",
        "const x = `",
        "<",
        "/*",
        "'unterminated",
        "é".repeat(3).as_str(),
    ] {
        let _ = analyse(code);
        let _ = check_tsx(code);
    }
    let empty = analyse("");
    assert_eq!(empty.parse_errors, 0);
    assert!(confidence(&empty) < 0.5);
}

#[test]
fn confidence_is_high_for_a_clean_scene() {
    let a = analyse("export const A = () => <h1 style={{ color: 'red' }}>Hello</h1>;");
    assert_eq!(confidence(&a), 0.95);
}

#[test]
fn analysis_is_deterministic_and_serialisable() {
    let code =
        r##"export const A = () => <h1 style={{ color: "#abc", fontFamily: "Inter" }}>Hi</h1>;"##;
    let first = analyse(code);
    assert_eq!(first, analyse(code));
    let json = serde_json::to_string(&first).expect("serialise");
    let back: SceneAnalysis = serde_json::from_str(&json).expect("deserialise");
    assert_eq!(back, first);
}

#[test]
fn summary_ranks_by_use_then_name() {
    let scenes = [
        analyse(
            r##"const A = () => <div style={{ color: "#111", fontFamily: "Inter" }}><h1 /></div>;"##,
        ),
        analyse(
            r##"const B = () => <div style={{ color: "#222", fontFamily: "Inter" }}><div /></div>;"##,
        ),
        analyse(r##"const C = () => <p style={{ color: "#111", fontFamily: "Poppins" }} />;"##),
    ];
    let summary = summarise(&scenes);
    assert_eq!(
        summary.colors,
        vec![("#111111".to_string(), 2), ("#222222".to_string(), 1)]
    );
    assert_eq!(
        summary.fonts,
        vec![("Inter".to_string(), 2), ("Poppins".to_string(), 1)]
    );
    assert_eq!(
        summary.common_elements,
        vec![
            ("div".to_string(), 3),
            ("h1".to_string(), 1),
            ("p".to_string(), 1)
        ]
    );
    assert_eq!(summarise(std::iter::empty()), StyleSummary::default());
}
