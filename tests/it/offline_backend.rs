//! The offline model backend: tool selection and code edits over a hand-written project and
//! the demo fixtures, its latency model, prompt cache, determinism and cancellation.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use editscope::analysis::{analyse, check_tsx};
use editscope::llm::offline::OfflineBackend;
use editscope::llm::{
    ChatPrompt, CodeEditRequest, LlmClient, LlmError, SceneRef, StyleHints, TargetScene, Tool,
    ToolDecision, ToolSelectionRequest,
};

const INTRO: &str = r##"import React from 'react';
import { AbsoluteFill, interpolate, spring, useCurrentFrame, useVideoConfig } from 'remotion';

const DURATION = 90;

export const Intro: React.FC = () => {
  const frame = useCurrentFrame();
  const { fps } = useVideoConfig();
  const pop = spring({ frame, fps, config: { damping: 12 } });
  const subtitleOpacity = interpolate(frame, [20, 40], [0, 1], {
    extrapolateLeft: 'clamp',
    extrapolateRight: 'clamp',
  });

  return (
    <AbsoluteFill
      style={{
        background: 'linear-gradient(135deg, #0F172A 0%, #1E293B 100%)',
        justifyContent: 'center',
        alignItems: 'center',
      }}
    >
      <h1
        style={{
          color: '#FFFFFF',
          fontFamily: 'Inter, sans-serif',
          fontSize: 96,
          transform: `scale(${pop})`,
        }}
      >
        Launch Day
      </h1>
      <p
        style={{
          color: '#94A3B8',
          fontFamily: 'Inter, sans-serif',
          fontSize: 36,
          opacity: subtitleOpacity,
        }}
      >
        Everything you need to ship motion
      </p>
    </AbsoluteFill>
  );
};
"##;

const FEATURES: &str = r##"import React from 'react';
import { AbsoluteFill, Sequence, interpolate, useCurrentFrame } from 'remotion';

const DURATION = 150;

const Bullet: React.FC<{ children: React.ReactNode }> = ({ children }) => {
  const frame = useCurrentFrame();
  const x = interpolate(frame, [0, 15], [-40, 0], { extrapolateRight: 'clamp' });
  return (
    <div style={{ display: 'flex', gap: 24, transform: `translateX(${x}px)` }}>
      <span style={{ fontFamily: 'Inter, sans-serif', fontSize: 40, color: '#E2E8F0' }}>{children}</span>
    </div>
  );
};

export default function Features() {
  const frame = useCurrentFrame();
  const headingOpacity = interpolate(frame, [0, 20], [0, 1], { extrapolateRight: 'clamp' });
  return (
    <AbsoluteFill style={{ backgroundColor: '#111827', padding: 120, flexDirection: 'column' }}>
      <h2 style={{ fontFamily: 'Inter, sans-serif', fontSize: 72, color: '#38BDF8', opacity: headingOpacity }}>
        Why teams switch
      </h2>
      <Sequence from={20} durationInFrames={130} layout="none">
        <Bullet>Instant previews</Bullet>
      </Sequence>
      <Sequence from={40} durationInFrames={110} layout="none">
        <Bullet>Brand kits</Bullet>
      </Sequence>
    </AbsoluteFill>
  );
}
"##;

const PRICING: &str = r##"import React from 'react';
import { AbsoluteFill, interpolate, useCurrentFrame } from 'remotion';

const FPS = 30;
export const PRICING_DURATION = 5 * FPS;

const styles = {
  title: { fontFamily: 'Space Grotesk, sans-serif', fontSize: 80, color: '#0F172A', margin: 0 },
  price: { fontFamily: 'Space Grotesk, sans-serif', fontSize: 140, color: '#22C55E' },
};

export const Pricing: React.FC = () => {
  const frame = useCurrentFrame();
  const rise = interpolate(frame, [0, 30], [40, 0], { extrapolateRight: 'clamp' });
  return (
    <AbsoluteFill style={{ backgroundColor: '#F8FAFC', alignItems: 'center', justifyContent: 'center' }}>
      <div style={styles.title}>Simple pricing</div>
      <div style={{ ...styles.price, transform: `translateY(${rise}px)` }}>$29</div>
      <span style={{ fontFamily: 'Inter, sans-serif', fontSize: 28, color: '#64748B' }}>per month</span>
    </AbsoluteFill>
  );
};
"##;

const TESTIMONIAL: &str = r##"import React from 'react';
import { AbsoluteFill, interpolate, useCurrentFrame } from 'remotion';

const DURATION = 120;

export const Testimonial: React.FC = () => {
  const frame = useCurrentFrame();
  const fade = interpolate(frame, [5, 30], [0, 1], { extrapolateRight: 'clamp' });
  return (
    <AbsoluteFill style={{ backgroundColor: '#1E1B4B', padding: '0 200px', justifyContent: 'center' }}>
      <div style={{ fontFamily: 'Georgia, serif', fontSize: 220, color: '#A78BFA' }}>“</div>
      <blockquote
        style={{
          fontFamily: 'Georgia, serif',
          fontSize: 64,
          fontStyle: 'italic',
          color: '#F5F3FF',
          margin: 0,
          opacity: fade,
        }}
      >
        It cut our edit time in half.
      </blockquote>
      <div style={{ fontFamily: 'Inter, sans-serif', fontSize: 30, color: '#C4B5FD', marginTop: 32 }}>
        Dana Li, Head of Video
      </div>
    </AbsoluteFill>
  );
};
"##;

const OUTRO: &str = r##"import React from 'react';
import { AbsoluteFill, Img, Sequence, spring, staticFile, useCurrentFrame, useVideoConfig } from 'remotion';

const DURATION = 120;

const Button: React.FC = () => {
  const frame = useCurrentFrame();
  const { fps } = useVideoConfig();
  const pop = spring({ frame, fps });
  return (
    <div
      style={{
        marginTop: 56,
        padding: '24px 64px',
        borderRadius: 999,
        backgroundColor: '#2563EB',
        color: 'white',
        fontFamily: 'Inter, sans-serif',
        fontSize: 40,
        transform: `scale(${pop})`,
      }}
    >
      Start free today
    </div>
  );
};

export const Outro: React.FC = () => {
  return (
    <AbsoluteFill style={{ backgroundColor: '#000000', alignItems: 'center', justifyContent: 'center' }}>
      <Img src={staticFile('logo.png')} style={{ width: 200, height: 200 }} />
      <h1 style={{ fontFamily: 'Inter, sans-serif', fontSize: 88, color: '#FFFFFF' }}>See you inside</h1>
      <Sequence from={30} durationInFrames={90} layout="none">
        <Button />
      </Sequence>
    </AbsoluteFill>
  );
};
"##;

/// A scene of the test project: id, name, code, stored duration.
struct Scene {
    id: &'static str,
    name: &'static str,
    code: String,
    duration_frames: i64,
}

fn project() -> Vec<Scene> {
    vec![
        Scene {
            id: "s-intro",
            name: "Intro",
            code: INTRO.into(),
            duration_frames: 90,
        },
        Scene {
            id: "s-features",
            name: "Features",
            code: FEATURES.into(),
            duration_frames: 150,
        },
        Scene {
            id: "s-pricing",
            name: "Pricing",
            code: PRICING.into(),
            duration_frames: 150,
        },
        Scene {
            id: "s-quote",
            name: "Testimonial",
            code: TESTIMONIAL.into(),
            duration_frames: 120,
        },
        Scene {
            id: "s-outro",
            name: "Outro",
            code: OUTRO.into(),
            duration_frames: 120,
        },
    ]
}

fn preferences() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("brand_color".to_string(), "#7C3AED".to_string()),
        ("heading_font".to_string(), "Sora".to_string()),
    ])
}

fn prompt(text: &str) -> ChatPrompt {
    ChatPrompt {
        system: "You pick a tool for the edit.".into(),
        stable_prefix: "Project: Launch video.".into(),
        variable: text.into(),
    }
}

fn selection(scenes: &[Scene], text: &str, last_edited: Option<&str>) -> ToolSelectionRequest {
    ToolSelectionRequest {
        user_prompt: text.into(),
        scenes: scenes
            .iter()
            .enumerate()
            .map(|(i, s)| SceneRef {
                id: s.id.into(),
                name: s.name.into(),
                position: i + 1,
                duration_frames: s.duration_frames,
            })
            .collect(),
        preferences: preferences(),
        last_edited_scene_id: last_edited.map(str::to_string),
        prompt: prompt(text),
    }
}

fn code_request(scenes: &[Scene], text: &str, decision: &ToolDecision) -> CodeEditRequest {
    let ToolDecision::Tool {
        tool,
        target_scene_id,
        args,
        ..
    } = decision
    else {
        panic!("not a tool decision: {decision:?}");
    };
    let target = target_scene_id.as_ref().map(|id| {
        let (i, s) = scenes
            .iter()
            .enumerate()
            .find(|(_, s)| s.id == id)
            .expect("target exists");
        TargetScene {
            id: s.id.into(),
            name: s.name.into(),
            position: i + 1,
            code: s.code.clone(),
            duration_frames: s.duration_frames,
        }
    });
    CodeEditRequest {
        user_prompt: text.into(),
        tool: *tool,
        args: args.clone(),
        target,
        preferences: preferences(),
        style: StyleHints {
            colors: vec!["#0F172A".into(), "#FFFFFF".into(), "#2563EB".into()],
            fonts: vec!["Inter".into()],
        },
        new_scene_position: args.get("position").and_then(|p| p.as_u64()).unwrap_or(1) as usize,
        edit_format: Default::default(),
        prompt: prompt(text),
    }
}

/// The opening tag `<tag ...>` of the first `tag` element in `code`.
fn opening_tag<'c>(code: &'c str, tag: &str) -> &'c str {
    let start = code
        .find(&format!("<{tag}"))
        .unwrap_or_else(|| panic!("no <{tag}> in:\n{code}"));
    // Style objects contain `}}` before the tag's `>`; the first `>` after `}}` (or after the
    // name when there is no style) ends the tag in these scenes.
    let rest = &code[start..];
    let end = match rest.find("}}") {
        Some(braces) if rest[..braces].find('>').is_none() => {
            braces + rest[braces..].find('>').unwrap_or(0)
        }
        _ => rest.find('>').unwrap_or(rest.len() - 1),
    };
    &rest[..=end]
}

/// What a case expects.
enum Expect {
    Picks {
        tool: Tool,
        target: Option<&'static str>,
        check: fn(&str, &editscope::llm::CodeEdit),
    },
    Clarify(&'static str),
}

fn no_check(_: &str, _: &editscope::llm::CodeEdit) {}

struct Case {
    prompt: &'static str,
    last_edited: Option<&'static str>,
    expect: Expect,
}

fn cases() -> Vec<Case> {
    use Expect::*;
    vec![
        Case {
            prompt: "make the title blue",
            last_edited: Some("s-intro"),
            expect: Picks {
                tool: Tool::EditScene,
                target: Some("s-intro"),
                check: |before, e| {
                    assert!(
                        opening_tag(&e.code, "h1").contains("color: '#2563EB'"),
                        "{}",
                        e.code
                    );
                    assert!(!opening_tag(&e.code, "h1").contains("#FFFFFF"));
                    assert!(opening_tag(before, "h1").contains("#FFFFFF"));
                    assert_eq!(e.summary, "title color #FFFFFF -> #2563EB (blue)");
                },
            },
        },
        Case {
            prompt: "make scene 2's title red",
            last_edited: None,
            expect: Picks {
                tool: Tool::EditScene,
                target: Some("s-features"),
                check: |_, e| {
                    assert!(
                        opening_tag(&e.code, "h2").contains("color: '#DC2626'"),
                        "{}",
                        e.code
                    );
                },
            },
        },
        Case {
            prompt: "change the headline of the second scene to 'Ship faster'",
            last_edited: None,
            expect: Picks {
                tool: Tool::EditScene,
                target: Some("s-features"),
                check: |_, e| {
                    assert!(
                        e.code.contains(">\n        Ship faster\n      </h2>"),
                        "{}",
                        e.code
                    );
                    assert!(!e.code.contains("Why teams switch"));
                    assert!(analyse(&e.code).texts.contains(&"Ship faster".to_string()));
                },
            },
        },
        Case {
            prompt: "make the last scene's background dark navy",
            last_edited: None,
            expect: Picks {
                tool: Tool::EditScene,
                target: Some("s-outro"),
                check: |_, e| {
                    assert!(
                        opening_tag(&e.code, "AbsoluteFill").contains("backgroundColor: '#122353'"),
                        "{}",
                        e.code
                    );
                    assert!(!e.code.contains("'#000000'"));
                },
            },
        },
        Case {
            prompt: "in the first scene, use Poppins for the title",
            last_edited: Some("s-outro"),
            expect: Picks {
                tool: Tool::EditScene,
                target: Some("s-intro"),
                check: |_, e| {
                    assert!(
                        opening_tag(&e.code, "h1").contains("fontFamily: 'Poppins, sans-serif'"),
                        "{}",
                        e.code
                    );
                    // The subtitle keeps its font.
                    assert!(opening_tag(&e.code, "p").contains("fontFamily: 'Inter, sans-serif'"));
                    assert_eq!(analyse(&e.code).font_families, vec!["Poppins", "Inter"]);
                },
            },
        },
        Case {
            prompt: "use our brand color for the title of the pricing scene",
            last_edited: None,
            expect: Picks {
                tool: Tool::EditScene,
                target: Some("s-pricing"),
                check: |_, e| {
                    // The title's style is the `styles.title` constant: edited where it is declared.
                    assert!(e.code.contains("title: { fontFamily: 'Space Grotesk, sans-serif', fontSize: 80, color: '#7C3AED', margin: 0 }"), "{}", e.code);
                    assert!(
                        e.code.contains("color: '#22C55E'"),
                        "the price keeps its color"
                    );
                    assert!(e.summary.contains("brand_color"), "{}", e.summary);
                },
            },
        },
        Case {
            prompt: "make the intro title bigger",
            last_edited: Some("s-outro"),
            expect: Picks {
                tool: Tool::EditScene,
                target: Some("s-intro"),
                check: |_, e| {
                    assert!(
                        opening_tag(&e.code, "h1").contains("fontSize: 120,"),
                        "{}",
                        e.code
                    );
                    assert_eq!(e.summary, "title font size 96 -> 120");
                },
            },
        },
        Case {
            prompt: "make the title smaller",
            last_edited: Some("s-quote"),
            expect: Picks {
                tool: Tool::EditScene,
                target: Some("s-quote"),
                check: |_, e| {
                    // No h1/h2: the title is the largest text (the 1-character quote mark excluded).
                    assert!(
                        opening_tag(&e.code, "blockquote").contains("fontSize: 51,"),
                        "{}",
                        e.code
                    );
                    assert!(e.code.contains("fontSize: 220"));
                },
            },
        },
        Case {
            prompt: "trim scene 3 to 2 seconds",
            last_edited: None,
            expect: Picks {
                tool: Tool::TrimScene,
                target: Some("s-pricing"),
                check: |_, e| {
                    assert_eq!(e.duration_frames, Some(60));
                    assert!(
                        e.code.contains("export const PRICING_DURATION = 60;"),
                        "{}",
                        e.code
                    );
                    assert_eq!(analyse(&e.code).duration_frames, Some(60));
                },
            },
        },
        Case {
            prompt: "make scene 2 last 4 seconds",
            last_edited: None,
            expect: Picks {
                tool: Tool::ChangeDuration,
                target: Some("s-features"),
                check: |_, e| {
                    assert_eq!(e.duration_frames, Some(120));
                    assert!(e.code.contains("const DURATION = 120;"));
                    // Sequences scaled by 120/150: from 20 -> 16, end 150 -> 120.
                    assert!(
                        e.code.contains("from={16} durationInFrames={104}"),
                        "{}",
                        e.code
                    );
                    assert_eq!(analyse(&e.code).duration_frames, Some(120));
                },
            },
        },
        Case {
            prompt: "slow down the outro",
            last_edited: None,
            expect: Picks {
                tool: Tool::ChangeDuration,
                target: Some("s-outro"),
                check: |_, e| {
                    assert_eq!(e.duration_frames, Some(180));
                    assert!(
                        e.code.contains("from={45} durationInFrames={135}"),
                        "{}",
                        e.code
                    );
                },
            },
        },
        Case {
            prompt: "speed up the second scene",
            last_edited: None,
            expect: Picks {
                tool: Tool::ChangeDuration,
                target: Some("s-features"),
                check: |_, e| {
                    assert_eq!(e.duration_frames, Some(100));
                    // Frame-driven interpolate ranges speed up too.
                    assert!(
                        e.code.contains("interpolate(frame, [0, 10], [-40, 0]"),
                        "{}",
                        e.code
                    );
                },
            },
        },
        Case {
            prompt: "shorten the intro by 1 second",
            last_edited: None,
            expect: Picks {
                tool: Tool::TrimScene,
                target: Some("s-intro"),
                check: |_, e| {
                    assert_eq!(e.duration_frames, Some(60));
                    assert!(e.code.contains("const DURATION = 60;"));
                },
            },
        },
        Case {
            prompt: "make it 90 frames",
            last_edited: Some("s-quote"),
            expect: Picks {
                tool: Tool::ChangeDuration,
                target: Some("s-quote"),
                check: |_, e| {
                    assert_eq!(e.duration_frames, Some(90));
                    assert!(e.code.contains("const DURATION = 90;"));
                },
            },
        },
        Case {
            prompt: "Make the pricing scene 6 seconds long",
            last_edited: None,
            expect: Picks {
                tool: Tool::ChangeDuration,
                target: Some("s-pricing"),
                check: no_check,
            },
        },
        Case {
            prompt: "delete scene 4",
            last_edited: None,
            expect: Picks {
                tool: Tool::DeleteScene,
                target: Some("s-quote"),
                check: no_check,
            },
        },
        Case {
            prompt: "remove the outro",
            last_edited: Some("s-intro"),
            expect: Picks {
                tool: Tool::DeleteScene,
                target: Some("s-outro"),
                check: no_check,
            },
        },
        Case {
            prompt: "delete it",
            last_edited: Some("s-quote"),
            expect: Picks {
                tool: Tool::DeleteScene,
                target: Some("s-quote"),
                check: no_check,
            },
        },
        Case {
            prompt: "remove the logo from the last scene",
            last_edited: None,
            expect: Picks {
                tool: Tool::EditScene,
                target: Some("s-outro"),
                check: |_, e| {
                    assert!(!e.code.contains("<Img"), "{}", e.code);
                    assert!(!e.code.contains("logo.png"));
                    assert!(e.code.contains("See you inside"));
                    assert_eq!(analyse(&e.code).elements.get("Img"), None);
                },
            },
        },
        Case {
            prompt: "remove the subtitle",
            last_edited: Some("s-intro"),
            expect: Picks {
                tool: Tool::EditScene,
                target: Some("s-intro"),
                check: |_, e| {
                    assert!(!e.code.contains("Everything you need to ship motion"));
                    assert!(!e.code.contains("<p"));
                    assert!(e.code.contains("Launch Day"));
                },
            },
        },
        Case {
            prompt: "add a subtitle saying 'Now in beta'",
            last_edited: Some("s-intro"),
            expect: Picks {
                tool: Tool::EditScene,
                target: Some("s-intro"),
                check: |_, e| {
                    let a = analyse(&e.code);
                    assert_eq!(a.texts.last().map(String::as_str), Some("Now in beta"));
                    assert_eq!(a.elements.get("p"), Some(&2));
                    // Inside the root AbsoluteFill, styled like the existing subtitle.
                    let at = e.code.find("Now in beta").expect("text");
                    assert!(at < e.code.find("</AbsoluteFill>").expect("root"));
                    assert!(
                        e.code[..at]
                            .rfind("<p")
                            .is_some_and(|p| e.code[p..at].contains("color: '#94A3B8'"))
                    );
                },
            },
        },
        Case {
            prompt: "change 'Launch Day' to 'Go Live'",
            last_edited: Some("s-intro"),
            expect: Picks {
                tool: Tool::EditScene,
                target: Some("s-intro"),
                check: |_, e| {
                    assert!(e.code.contains("Go Live") && !e.code.contains("Launch Day"));
                },
            },
        },
        Case {
            prompt: "set the title font size to 64 in scene 1",
            last_edited: None,
            expect: Picks {
                tool: Tool::EditScene,
                target: Some("s-intro"),
                check: |_, e| {
                    assert!(opening_tag(&e.code, "h1").contains("fontSize: 64,"));
                },
            },
        },
        Case {
            prompt: "in the testimonial, use Playfair Display for the quote",
            last_edited: None,
            expect: Picks {
                tool: Tool::EditScene,
                target: Some("s-quote"),
                check: |_, e| {
                    assert!(
                        opening_tag(&e.code, "blockquote")
                            .contains("fontFamily: 'Playfair Display, serif'"),
                        "{}",
                        e.code
                    );
                },
            },
        },
        Case {
            prompt: "make the button orange in the outro",
            last_edited: None,
            expect: Picks {
                tool: Tool::EditScene,
                target: Some("s-outro"),
                check: |_, e| {
                    assert!(e.code.contains("backgroundColor: '#F97316'"), "{}", e.code);
                    assert!(opening_tag(&e.code, "AbsoluteFill").contains("'#000000'"));
                },
            },
        },
        Case {
            prompt: "make the background #111111 in scene 3",
            last_edited: None,
            expect: Picks {
                tool: Tool::EditScene,
                target: Some("s-pricing"),
                check: |_, e| {
                    assert!(
                        opening_tag(&e.code, "AbsoluteFill").contains("backgroundColor: '#111111'")
                    );
                },
            },
        },
        Case {
            prompt: "make the title white and bigger in the third scene",
            last_edited: None,
            expect: Picks {
                tool: Tool::EditScene,
                target: Some("s-pricing"),
                check: |_, e| {
                    assert!(e.code.contains("title: { fontFamily: 'Space Grotesk, sans-serif', fontSize: 100, color: '#FFFFFF', margin: 0 }"), "{}", e.code);
                    assert_eq!(
                        e.summary,
                        "title color #0F172A -> #FFFFFF (white); title font size 80 -> 100"
                    );
                },
            },
        },
        Case {
            prompt: "use our heading font everywhere in scene 5",
            last_edited: None,
            expect: Picks {
                tool: Tool::EditScene,
                target: Some("s-outro"),
                check: |_, e| {
                    assert!(!e.code.contains("Inter"), "{}", e.code);
                    assert_eq!(analyse(&e.code).font_families, vec!["Sora"]);
                },
            },
        },
        Case {
            prompt: "add a scene about our pricing plans",
            last_edited: Some("s-intro"),
            expect: Picks {
                tool: Tool::AddScene,
                target: None,
                check: |_, e| {
                    assert_eq!(e.scene_name.as_deref(), Some("Our Pricing Plans"));
                    let a = analyse(&e.code);
                    assert!(a.texts.contains(&"Our Pricing Plans".to_string()));
                    // Project style: brand color and heading font from preferences.
                    assert!(a.colors.contains(&"#7C3AED".to_string()), "{:?}", a.colors);
                    assert_eq!(a.font_families.first().map(String::as_str), Some("Sora"));
                    assert_eq!(a.duration_frames, e.duration_frames);
                },
            },
        },
        Case {
            prompt: "add a new scene after scene 2 called Roadmap, 4 seconds",
            last_edited: None,
            expect: Picks {
                tool: Tool::AddScene,
                target: None,
                check: |_, e| {
                    assert_eq!(e.duration_frames, Some(120));
                    assert_eq!(e.scene_name.as_deref(), Some("Roadmap"));
                },
            },
        },
        Case {
            prompt: "make scene 42 blue",
            last_edited: Some("s-intro"),
            expect: Clarify("no scene 42"),
        },
        Case {
            prompt: "make it better",
            last_edited: None,
            expect: Clarify("Which scene"),
        },
        Case {
            prompt: "make it better",
            last_edited: Some("s-intro"),
            expect: Clarify("What should change"),
        },
        Case {
            prompt: "change the tenth scene to red",
            last_edited: None,
            expect: Clarify("no scene 10"),
        },
        Case {
            prompt: "make the title blue",
            last_edited: None,
            expect: Clarify("Which scene"),
        },
    ]
}

fn backend() -> OfflineBackend {
    OfflineBackend::new(0.0)
}

#[tokio::test]
async fn table_of_requests() {
    let scenes = project();
    let llm = backend();
    let cases = cases();
    assert!(cases.len() >= 30);
    for case in &cases {
        let request = selection(&scenes, case.prompt, case.last_edited);
        let decision = llm.select_tool(&request).await.expect("select").value;
        match (&case.expect, &decision) {
            (Expect::Clarify(fragment), ToolDecision::Clarify { question }) => {
                assert!(
                    question.contains(fragment),
                    "{}: question {question:?}",
                    case.prompt
                );
            }
            (
                Expect::Picks {
                    tool,
                    target,
                    check,
                },
                ToolDecision::Tool {
                    tool: got,
                    target_scene_id,
                    ..
                },
            ) => {
                assert_eq!(got, tool, "{}: {decision:?}", case.prompt);
                assert_eq!(
                    target_scene_id.as_deref(),
                    *target,
                    "{}: {decision:?}",
                    case.prompt
                );
                if !tool.edits_code() {
                    continue;
                }
                let edit_request = code_request(&scenes, case.prompt, &decision);
                let edit = llm
                    .edit_code(&edit_request)
                    .await
                    .unwrap_or_else(|e| panic!("{}: {e}", case.prompt))
                    .value;
                assert_eq!(check_tsx(&edit.code), Ok(()), "{}", case.prompt);
                let before = edit_request.target.as_ref().map_or("", |t| t.code.as_str());
                assert_ne!(edit.code, before, "{}", case.prompt);
                assert!(!edit.summary.is_empty() && !edit.summary.contains('\n'));
                check(before, &edit);
            }
            _ => panic!("{}: unexpected {decision:?}", case.prompt),
        }
    }
}

#[tokio::test]
async fn names_that_match_several_scenes_ask() {
    let scenes = vec![
        Scene {
            id: "a",
            name: "Product Demo",
            code: INTRO.into(),
            duration_frames: 90,
        },
        Scene {
            id: "b",
            name: "Product Tour",
            code: INTRO.into(),
            duration_frames: 90,
        },
    ];
    let decision = backend()
        .select_tool(&selection(&scenes, "make the product scene blue", None))
        .await
        .expect("select")
        .value;
    assert!(
        matches!(&decision, ToolDecision::Clarify { question } if question.contains("Several scenes")),
        "{decision:?}"
    );
    let decision = backend()
        .select_tool(&selection(
            &scenes,
            "make the title in Product Tour blue",
            None,
        ))
        .await
        .expect("select")
        .value;
    assert!(
        matches!(&decision, ToolDecision::Tool { target_scene_id: Some(id), .. } if id == "b"),
        "{decision:?}"
    );
}

#[tokio::test]
async fn empty_project_can_only_add() {
    let decision = backend()
        .select_tool(&selection(&[], "make the title blue", None))
        .await
        .expect("select")
        .value;
    assert!(matches!(decision, ToolDecision::Clarify { .. }));
    let decision = backend()
        .select_tool(&selection(&[], "add an intro", None))
        .await
        .expect("select")
        .value;
    assert!(matches!(
        decision,
        ToolDecision::Tool {
            tool: Tool::AddScene,
            ..
        }
    ));
}

#[tokio::test]
async fn edits_that_cannot_apply_are_errors() {
    let scenes = project();
    let llm = backend();
    for (text, target) in [
        ("remove the logo", "s-intro"),
        ("make the button red", "s-intro"),
        ("add a subtitle", "s-intro"),
        ("change 'Nothing like this' to 'x'", "s-intro"),
        ("make the title blue", "s-features-missing"),
    ] {
        let decision = ToolDecision::Tool {
            tool: Tool::EditScene,
            target_scene_id: Some(target.into()),
            args: serde_json::json!({}),
            reasoning: String::new(),
        };
        let mut request = if target.ends_with("-missing") {
            let mut r = code_request(
                &scenes,
                text,
                &ToolDecision::Tool {
                    tool: Tool::EditScene,
                    target_scene_id: None,
                    args: serde_json::json!({}),
                    reasoning: String::new(),
                },
            );
            r.target = None;
            r
        } else {
            code_request(&scenes, text, &decision)
        };
        request.user_prompt = text.into();
        match llm.edit_code(&request).await {
            Err(LlmError::Malformed { what, detail }) => {
                assert_eq!(what, "edit");
                assert!(!detail.is_empty(), "{text}");
            }
            other => panic!("{text}: expected an error, got {other:?}"),
        }
    }
    // The same color again: the code comes back as it is, and the summary says so.
    let mut request = code_request(
        &scenes,
        "make the title white",
        &ToolDecision::Tool {
            tool: Tool::EditScene,
            target_scene_id: Some("s-intro".into()),
            args: serde_json::json!({}),
            reasoning: String::new(),
        },
    );
    request.user_prompt = "make the title white".into();
    let edit = llm
        .edit_code(&request)
        .await
        .expect("a no-op is an answer")
        .value;
    assert_eq!(edit.code, request.target.as_ref().unwrap().code);
    assert!(edit.summary.starts_with("already so"), "{}", edit.summary);
}

#[tokio::test]
async fn demo_fixture_scenes_take_edits() {
    let projects = editscope::fixtures::demo_projects().expect("demo projects");
    let mut edited = 0;
    for project in &projects {
        let scenes: Vec<Scene> = project
            .scenes
            .iter()
            .take(12)
            .map(|s| Scene {
                id: Box::leak(s.id.clone().into_boxed_str()),
                name: Box::leak(s.name.clone().into_boxed_str()),
                code: s.tsx_code.clone(),
                duration_frames: s.duration_frames,
            })
            .collect();
        if scenes.len() < 3 {
            continue;
        }
        let llm = backend();
        for (position, scene) in scenes.iter().enumerate().map(|(i, s)| (i + 1, s)) {
            let requests = [
                format!("make the title of scene {position} crimson"),
                format!("change the headline of scene {position} to 'Ship faster'"),
                format!("make scene {position} last 7.3 seconds"),
                format!("trim scene {position} to 2 seconds"),
                format!("use Sora for the title in scene {position}"),
                format!("make the title in scene {position} bigger"),
            ];
            for text in &requests {
                let decision = llm
                    .select_tool(&selection(&scenes, text, None))
                    .await
                    .expect("select")
                    .value;
                let ToolDecision::Tool {
                    target_scene_id, ..
                } = &decision
                else {
                    panic!("{}: {text}: {decision:?}", project.project.id);
                };
                assert_eq!(target_scene_id.as_deref(), Some(scene.id), "{text}");
                let edit = match llm.edit_code(&code_request(&scenes, text, &decision)).await {
                    Ok(r) => r.value,
                    Err(e) => panic!(
                        "{}/{}: {text}: {e}\n{}",
                        project.project.id, scene.id, scene.code
                    ),
                };
                assert_eq!(check_tsx(&edit.code), Ok(()), "{text}");
                let a = analyse(&edit.code);
                if text.contains("crimson") {
                    assert!(
                        a.colors.contains(&"#DC143C".to_string()),
                        "{text}: {:?}",
                        a.colors
                    );
                }
                if text.contains("Ship faster") {
                    assert!(
                        a.texts.contains(&"Ship faster".to_string()),
                        "{text}: {:?}",
                        a.texts
                    );
                }
                if text.contains("Sora") {
                    assert!(a.font_families.contains(&"Sora".to_string()), "{text}");
                }
                if let Some(frames) = edit.duration_frames {
                    assert_eq!(a.duration_frames, Some(frames), "{text}: {}", edit.summary);
                }
                edited += 1;
            }
        }
    }
    eprintln!("{edited} edits applied to demo scenes");
}

#[tokio::test]
async fn same_input_same_output_and_usage() {
    let scenes = project();
    let request = selection(&scenes, "make the title of the second scene red", None);
    let a = backend().select_tool(&request).await.expect("a");
    let b = backend().select_tool(&request).await.expect("b");
    assert_eq!(a, b);
    let edit_request = code_request(&scenes, "make the title of the second scene red", &a.value);
    let a = backend().edit_code(&edit_request).await.expect("a");
    let b = backend().edit_code(&edit_request).await.expect("b");
    assert_eq!(a, b);
    assert!(
        a.usage.output_tokens > 100,
        "the whole scene is output: {:?}",
        a.usage
    );
    assert!(a.timing.simulated);
}

fn long_text(words: usize) -> String {
    (0..words).map(|i| format!("scene{i} ")).collect()
}

#[tokio::test]
async fn latency_grows_with_uncached_input() {
    let scenes = project();
    let small = selection(&scenes, "make scene 2 red", None);
    let mut large = small.clone();
    large.prompt.variable = format!("{}\n{}", long_text(4_000), small.prompt.variable);
    let llm = backend();
    let s = llm.select_tool(&small).await.expect("small");
    let l = llm.select_tool(&large).await.expect("large");
    assert_eq!(s.value, l.value);
    assert!(l.usage.input_tokens > s.usage.input_tokens + 4_000);
    assert_eq!(l.usage.cached_input_tokens, 0);
    let extra_ms = l.timing.ttft_ms - s.timing.ttft_ms;
    let extra_tokens = (l.usage.input_tokens - s.usage.input_tokens) as f64;
    assert!(
        (extra_ms - 0.06 * extra_tokens).abs() < 1e-6,
        "{extra_ms} ms for {extra_tokens} tokens"
    );
    assert!(s.timing.ttft_ms >= 350.0);
    assert!(l.timing.total_ms > l.timing.ttft_ms);
}

#[tokio::test]
async fn a_long_stable_prefix_is_cached_on_the_second_call() {
    let scenes = project();
    let mut request = selection(&scenes, "make scene 2 red", None);
    request.prompt.stable_prefix = long_text(2_000);
    let llm = backend();
    let first = llm.select_tool(&request).await.expect("first");
    let second = llm.select_tool(&request).await.expect("second");
    assert_eq!(first.usage.cached_input_tokens, 0);
    assert!(second.usage.cached_input_tokens >= 1_024);
    // The whole prompt repeats: all of it in whole steps of 128 is served.
    assert!(second.usage.cached_input_tokens <= second.usage.input_tokens);
    assert!(second.usage.cached_input_tokens > second.usage.input_tokens - 128);
    assert_eq!(second.usage.cached_input_tokens % 128, 0);
    assert_eq!(first.usage.input_tokens, second.usage.input_tokens);
    assert!(second.timing.ttft_ms < first.timing.ttft_ms);
    assert!(first.prefix_stable_share > 0.9);

    // A short prefix never hits.
    let short = selection(&scenes, "make scene 2 red", None);
    llm.select_tool(&short).await.expect("short");
    assert_eq!(
        llm.select_tool(&short)
            .await
            .expect("short again")
            .usage
            .cached_input_tokens,
        0
    );

    // Expired entries do not hit.
    let forgetful = OfflineBackend::new(0.0).with_cache_ttl(Duration::ZERO);
    forgetful.select_tool(&request).await.expect("first");
    assert_eq!(
        forgetful
            .select_tool(&request)
            .await
            .expect("second")
            .usage
            .cached_input_tokens,
        0
    );
}

#[tokio::test]
async fn time_scale_zero_returns_at_once_and_scaled_waits_are_honoured() {
    let scenes = project();
    let request = selection(&scenes, "make scene 2 red", None);
    let start = Instant::now();
    let instant = OfflineBackend::new(0.0)
        .select_tool(&request)
        .await
        .expect("instant");
    // At scale 1 the call would have waited the modeled time (over 350 ms): it returned sooner.
    assert!(
        instant.timing.total_ms > 350.0,
        "modeled figures are reported unscaled"
    );
    assert!(
        start.elapsed().as_secs_f64() * 1_000.0 < instant.timing.total_ms,
        "{:?}",
        start.elapsed()
    );

    let start = Instant::now();
    let scaled = OfflineBackend::new(0.1)
        .select_tool(&request)
        .await
        .expect("scaled");
    let waited = start.elapsed().as_secs_f64() * 1_000.0;
    assert!(waited >= scaled.timing.total_ms * 0.1 * 0.95, "{waited} ms");
    assert_eq!(scaled.timing, instant.timing);
}

#[tokio::test]
async fn dropping_the_call_cancels_the_wait() {
    let scenes = project();
    let request = selection(&scenes, "make scene 2 red", None);
    let llm = OfflineBackend::new(100.0); // about a minute of simulated wait
    let start = Instant::now();
    let result = tokio::time::timeout(Duration::from_millis(50), llm.select_tool(&request)).await;
    assert!(result.is_err(), "should time out");
    // Far less than the minute of simulated wait (loose: CI machines can be very busy).
    assert!(start.elapsed() < Duration::from_secs(30));
}
