//! Scene analysis over realistic Remotion scenes (hand-written here, expectations worked out by
//! hand) and over every scene of the embedded demo projects (expectations scanned from the
//! code independently of the parser).

use editscope::analysis::{SceneAnalysis, analyse, check_tsx, confidence, summarise};

const INTRO: &str = r##"import { AbsoluteFill, interpolate, spring, useCurrentFrame, useVideoConfig } from "remotion";

export const SCENE_DURATION = 90;

const BRAND = "#2563eb";

export const Intro: React.FC = () => {
  const frame = useCurrentFrame();
  const { fps } = useVideoConfig();
  const pop = spring({ frame, fps, config: { damping: 12 } });
  const subtitleOpacity = interpolate(frame, [20, 40], [0, 1], {
    extrapolateLeft: "clamp",
    extrapolateRight: "clamp",
  });

  return (
    <AbsoluteFill
      style={{
        background: "linear-gradient(135deg, #0f172a 0%, #1e293b 100%)",
        justifyContent: "center",
        alignItems: "center",
      }}
    >
      <h1
        style={{
          color: "#FFFFFF",
          fontFamily: "Inter, sans-serif",
          fontSize: 96,
          fontWeight: 800,
          transform: `scale(${pop})`,
        }}
      >
        Launch Day
      </h1>
      <p
        style={{
          color: BRAND,
          fontFamily: "Inter, sans-serif",
          fontSize: "36px",
          opacity: subtitleOpacity,
        }}
      >
        Everything you need to ship motion
      </p>
    </AbsoluteFill>
  );
};
"##;

const FEATURES: &str = r##"import { AbsoluteFill, Sequence, interpolate, useCurrentFrame } from "remotion";

const FEATURES = [
  { title: "Instant previews", icon: "bolt" },
  { title: "Brand kits", icon: "palette" },
  { title: "One-click export", icon: "download" },
];

const FeatureCard: React.FC<{ title: string; index: number }> = ({ title, index }) => {
  const frame = useCurrentFrame();
  const x = interpolate(frame, [0, 15], [-60, 0], { extrapolateRight: "clamp" });
  return (
    <div
      style={{
        backgroundColor: "rgba(255, 255, 255, 0.08)",
        border: "1px solid white",
        borderRadius: 24,
        padding: 32,
        transform: `translateX(${x}px)`,
        fontFamily: "'Poppins', Arial, sans-serif",
        fontSize: 40,
        color: "#E2E8F0",
      }}
    >
      {title}
    </div>
  );
};

export const Features: React.FC = () => {
  return (
    <AbsoluteFill style={{ backgroundColor: "#111827", padding: 80, gap: 24 }}>
      <h2 style={{ color: "#38bdf8", fontFamily: "Poppins", fontSize: 64 }}>Why teams switch</h2>
      {FEATURES.map((feature, i) => (
        <Sequence key={feature.title} from={i * 20} durationInFrames={60}>
          <FeatureCard title={feature.title} index={i} />
        </Sequence>
      ))}
      <Sequence from={60} durationInFrames={60}>
        <p style={{ color: "#94A3B8", fontSize: 28 }}>{"And much more"}</p>
      </Sequence>
    </AbsoluteFill>
  );
};
"##;

const PRICING: &str = r##"import { AbsoluteFill, interpolate, useCurrentFrame } from "remotion";

const FPS = 30;
export const PRICING_DURATION = 5 * FPS;
const ACCENT = "#22c55e";
const headingFont = "Space Grotesk, system-ui";

const styles = {
  card: { backgroundColor: "#fff", color: "#0f172a", borderRadius: 32, padding: 48 },
  price: { fontSize: 120, fontFamily: headingFont, color: ACCENT },
};

export default function Pricing() {
  const frame = useCurrentFrame();
  const count = Math.round(interpolate(frame, [0, 45], [0, 29], { extrapolateRight: "clamp" }));
  const glow = interpolate(frame, [30, 60], [0, 0.6]);
  return (
    <AbsoluteFill style={{ backgroundColor: "navy", alignItems: "center", justifyContent: "center" }}>
      <div style={{ ...styles.card, boxShadow: `0 0 60px rgba(34, 197, 94, ${glow})` }}>
        <span style={{ fontSize: 32, fontFamily: "Inter" }}>Pro plan</span>
        <div style={styles.price}>${count}</div>
        <span>per&nbsp;month, billed yearly</span>
      </div>
    </AbsoluteFill>
  );
}
"##;

const OUTRO: &str = r##"import { AbsoluteFill, Img, Series, spring, staticFile, useCurrentFrame, useVideoConfig } from "remotion";

export const Outro = ({ cta = "Start free today" }: { cta?: string }) => {
  const frame = useCurrentFrame();
  const { fps } = useVideoConfig();
  const scale = spring({ frame, fps });
  return (
    <AbsoluteFill style={{ backgroundColor: "#000", color: "white" }}>
      <Series>
        <Series.Sequence durationInFrames={45}>
          <Img src={staticFile("logo.png")} style={{ width: 240, transform: `scale(${scale})` }} />
        </Series.Sequence>
        <Series.Sequence durationInFrames={75}>
          <button
            style={{
              background: "#F97316",
              color: "#fff",
              fontFamily: `"DM Sans", sans-serif`,
              fontSize: 44,
              borderRadius: 999,
              opacity: 1,
            }}
          >
            {cta}
          </button>
          <small style={{ color: "hsla(0, 0%, 100%, 0.6)" }}>editscope.dev</small>
        </Series.Sequence>
      </Series>
    </AbsoluteFill>
  );
};
"##;

fn count(a: &SceneAnalysis, map: &str, key: &str) -> usize {
    let map = match map {
        "animations" => &a.animations,
        _ => &a.elements,
    };
    map.get(key).copied().unwrap_or(0)
}

#[test]
fn hand_written_scenes_parse_cleanly() {
    for (name, code) in [
        ("intro", INTRO),
        ("features", FEATURES),
        ("pricing", PRICING),
        ("outro", OUTRO),
    ] {
        assert_eq!(check_tsx(code), Ok(()), "{name}");
        let a = analyse(code);
        assert_eq!(a.parse_errors, 0, "{name}");
        assert_eq!(confidence(&a), 0.95, "{name}");
    }
}

#[test]
fn intro_scene() {
    let a = analyse(INTRO);
    assert_eq!(a.colors, vec!["#2563EB", "#0F172A", "#1E293B", "#FFFFFF"]);
    assert_eq!(a.font_families, vec!["Inter"]);
    assert_eq!(a.font_sizes, vec![96.0, 36.0]);
    assert_eq!(
        a.texts,
        vec!["Launch Day", "Everything you need to ship motion"]
    );
    assert_eq!(a.duration_frames, Some(90));
    assert_eq!(count(&a, "animations", "spring"), 1);
    assert_eq!(count(&a, "animations", "interpolate"), 1);
    assert_eq!(count(&a, "animations", "transform"), 1);
    assert_eq!(count(&a, "animations", "opacity"), 1);
    assert_eq!(count(&a, "elements", "AbsoluteFill"), 1);
    assert_eq!(count(&a, "elements", "h1"), 1);
    assert_eq!(count(&a, "elements", "p"), 1);
}

#[test]
fn features_scene() {
    let a = analyse(FEATURES);
    assert_eq!(
        a.colors,
        vec![
            "rgba(255, 255, 255, 0.08)",
            "white",
            "#E2E8F0",
            "#111827",
            "#38BDF8",
            "#94A3B8"
        ]
    );
    assert_eq!(a.font_families, vec!["Poppins"]);
    assert_eq!(a.font_sizes, vec![40.0, 64.0, 28.0]);
    assert_eq!(
        a.texts,
        vec![
            "Why teams switch",
            "Instant previews",
            "Brand kits",
            "One-click export",
            "And much more"
        ]
    );
    // Sequences: the mapped one starts at a computed frame, the last ends at 60 + 60.
    assert_eq!(a.duration_frames, Some(120));
    assert_eq!(count(&a, "animations", "sequence"), 2);
    assert_eq!(count(&a, "animations", "interpolate"), 1);
    assert_eq!(count(&a, "animations", "transform"), 1);
    assert_eq!(count(&a, "elements", "FeatureCard"), 1);
}

#[test]
fn pricing_scene() {
    let a = analyse(PRICING);
    assert_eq!(
        a.colors,
        vec![
            "#22C55E",
            "#FFFFFF",
            "#0F172A",
            "navy",
            "rgba(34, 197, 94, ${glow})"
        ]
    );
    assert_eq!(a.font_families, vec!["Space Grotesk", "Inter"]);
    assert_eq!(a.font_sizes, vec![120.0, 32.0]);
    assert_eq!(a.texts, vec!["Pro plan", "$", "per month, billed yearly"]);
    assert_eq!(a.duration_frames, Some(150));
    assert_eq!(count(&a, "animations", "interpolate"), 2);
    assert_eq!(count(&a, "elements", "div"), 2);
    assert_eq!(count(&a, "elements", "span"), 2);
}

#[test]
fn outro_scene() {
    let a = analyse(OUTRO);
    assert_eq!(
        a.colors,
        vec![
            "#000000",
            "white",
            "#F97316",
            "#FFFFFF",
            "hsla(0, 0%, 100%, 0.6)"
        ]
    );
    assert_eq!(a.font_families, vec!["DM Sans"]);
    assert_eq!(a.font_sizes, vec![44.0]);
    assert_eq!(a.texts, vec!["editscope.dev"]);
    assert_eq!(a.duration_frames, Some(75));
    assert_eq!(count(&a, "animations", "spring"), 1);
    assert_eq!(count(&a, "animations", "sequence"), 2);
    assert_eq!(count(&a, "animations", "transform"), 1);
    // `opacity: 1` is constant.
    assert_eq!(count(&a, "animations", "opacity"), 0);
    assert_eq!(count(&a, "elements", "Series.Sequence"), 2);
    assert_eq!(count(&a, "elements", "Img"), 1);
}

#[test]
fn summary_over_hand_written_scenes() {
    let analyses: Vec<SceneAnalysis> = [INTRO, FEATURES, PRICING, OUTRO]
        .iter()
        .map(|c| analyse(c))
        .collect();
    let summary = summarise(&analyses);
    // #FFFFFF is in intro, pricing and outro.
    assert_eq!(summary.colors.first(), Some(&("#FFFFFF".to_string(), 3)));
    assert_eq!(summary.fonts.first(), Some(&("Inter".to_string(), 2)));
    assert!(
        summary
            .common_elements
            .iter()
            .any(|(name, n)| name == "AbsoluteFill" && *n == 4)
    );
}

/// `fontFamily: '...'` / `fontFamily: "..."` literals, read with plain string scanning.
fn font_family_literals(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in code.match_indices("fontFamily:") {
        let rest = code[at + "fontFamily:".len()..].trim_start();
        let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        let Some(end) = rest[1..].find(quote) else {
            continue;
        };
        let first = rest[1..1 + end].split(',').next().unwrap_or("").trim();
        let first = first.trim_matches(|c| c == '"' || c == '\'');
        if !first.is_empty() {
            found.push(first.to_string());
        }
    }
    found
}

/// `#xxxxxx` values of style properties (`key: "#xxxxxx"`), uppercased.
fn style_hex_literals(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for pattern in [": \"#", ": '#"] {
        for (at, _) in code.match_indices(pattern) {
            let digits: String = code[at + pattern.len()..].chars().take(7).collect();
            let hex: String = digits
                .chars()
                .take_while(|c| c.is_ascii_hexdigit())
                .collect();
            let after = digits.chars().nth(hex.len());
            if hex.len() == 6 && after.is_none_or(|c| !c.is_ascii_alphanumeric()) {
                found.push(format!("#{}", hex.to_ascii_uppercase()));
            }
        }
    }
    found
}

#[test]
fn scanners_agree_with_hand_written_expectations() {
    // The scanners used on the fixtures, checked against scenes whose answer is known.
    assert_eq!(font_family_literals(INTRO), vec!["Inter", "Inter"]);
    assert_eq!(font_family_literals(FEATURES), vec!["Poppins", "Poppins"]);
    assert_eq!(
        style_hex_literals(FEATURES),
        vec!["#E2E8F0", "#111827", "#38BDF8", "#94A3B8"]
    );
}

#[test]
fn every_demo_scene_is_analysed() {
    let projects = editscope::fixtures::demo_projects().expect("demo projects parse");
    let mut scenes = 0;
    for project in &projects {
        for scene in &project.scenes {
            scenes += 1;
            let where_ = format!("{}/{}", project.project.id, scene.id);
            let a = analyse(&scene.tsx_code);
            assert_eq!(
                a.parse_errors,
                0,
                "{where_}: {:?}",
                check_tsx(&scene.tsx_code)
            );
            for family in font_family_literals(&scene.tsx_code) {
                assert!(
                    a.font_families.contains(&family),
                    "{where_}: font {family} missing from {:?}",
                    a.font_families
                );
            }
            for hex in style_hex_literals(&scene.tsx_code) {
                assert!(
                    a.colors.contains(&hex),
                    "{where_}: color {hex} missing from {:?}",
                    a.colors
                );
            }
            assert!(!a.elements.is_empty(), "{where_}: no JSX elements found");
        }
    }
    eprintln!("analysed {scenes} demo scenes");
}

#[test]
fn a_long_scene_parses_without_errors() {
    // About 200 lines: the features scene with its card repeated.
    let mut code = FEATURES.to_string();
    while code.lines().count() < 200 {
        code.push_str(
            &FEATURES
                .lines()
                .skip(8)
                .take(20)
                .collect::<Vec<_>>()
                .join("\n")
                .replace("FeatureCard", &format!("Card{}", code.len())),
        );
        code.push('\n');
    }
    assert_eq!(analyse(&code).parse_errors, 0);
    // Speed is measured by the benchmarks (`cargo bench --bench context`), not asserted here.
    let a = analyse(&code);
    assert!(!a.elements.is_empty());
}
