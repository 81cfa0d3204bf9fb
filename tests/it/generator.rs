//! The demo-project generator: determinism, sizes, realistic Remotion scenes, a style that
//! holds across scenes, and a chat history that agrees with the project's memory.

use std::collections::HashSet;
use std::time::Instant;

use editscope::fixtures::{self, ProjectFile, generate};

fn spec(id: &str, scenes: usize, seed: u64) -> generate::GenerateSpec {
    generate::GenerateSpec {
        project_id: id.into(),
        title: format!("Generated {scenes}"),
        user_id: "u1".into(),
        scenes,
        seed,
    }
}

/// Generated projects of several sizes.
fn generated_specs() -> Vec<generate::GenerateSpec> {
    [(1, 5), (2, 6), (3, 7), (25, 8), (60, 9), (300, 10)]
        .into_iter()
        .map(|(n, seed)| spec(&format!("p{n}"), n, seed))
        .collect()
}

/// A spread of generated projects plus the committed demos.
fn samples() -> Vec<ProjectFile> {
    let mut v = fixtures::demo_projects().expect("embedded demos parse");
    v.extend(generated_specs().iter().map(generate::generate_project));
    v
}

/// The number in `const DURATION = N;`.
fn declared_duration(code: &str) -> Option<i64> {
    let start = code.find("const DURATION = ")? + "const DURATION = ".len();
    let end = start + code[start..].find(';')?;
    code[start..end].trim().parse().ok()
}

/// Every `<Sequence from={a} durationInFrames={b}` as (a, b).
fn sequences(code: &str) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    for chunk in code.split("<Sequence from={").skip(1) {
        let from = chunk.split('}').next().and_then(|n| n.parse().ok());
        let frames = chunk
            .split("durationInFrames={")
            .nth(1)
            .and_then(|rest| rest.split('}').next())
            .and_then(|n| n.parse().ok());
        match (from, frames) {
            (Some(a), Some(b)) => out.push((a, b)),
            _ => panic!("a Sequence without literal from/durationInFrames:\n{chunk}"),
        }
    }
    out
}

/// Brackets of every kind balance and never close before they open.
fn assert_balanced(id: &str, code: &str) {
    let mut stack = Vec::new();
    for (line_no, line) in code.lines().enumerate() {
        for c in line.chars() {
            match c {
                '(' | '[' | '{' => stack.push(c),
                ')' | ']' | '}' => {
                    let open = stack.pop();
                    let want = match c {
                        ')' => '(',
                        ']' => '[',
                        _ => '{',
                    };
                    assert_eq!(
                        open,
                        Some(want),
                        "{id}: unbalanced '{c}' on line {}",
                        line_no + 1
                    );
                }
                _ => {}
            }
        }
    }
    assert!(stack.is_empty(), "{id}: unclosed {stack:?}");
}

#[test]
fn the_same_spec_gives_the_same_project_and_seeds_differ() {
    let a = generate::generate_project(&spec("d", 120, 77));
    let b = generate::generate_project(&spec("d", 120, 77));
    assert_eq!(a, b);
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    let c = generate::generate_project(&spec("d", 120, 78));
    assert_ne!(a.scenes, c.scenes);
    // Different seeds give different looks, not just different ids.
    let styles: HashSet<String> = (0..20)
        .map(|seed| {
            let s = generate::style_for(&spec("x", 5, seed));
            format!("{} {} {}", s.brand, s.heading_font, s.tone)
        })
        .collect();
    assert!(
        styles.len() >= 8,
        "only {} distinct styles in 20 seeds",
        styles.len()
    );
}

#[test]
fn sizes_from_one_to_ten_thousand_scenes() {
    for n in [1, 2, 25] {
        let p = generate::generate_project(&spec("s", n, 1));
        assert_eq!(p.scenes.len(), n);
        fixtures::validate("gen", &p).unwrap();
        assert_eq!(p.scenes[0].name, "Intro");
        if n > 1 {
            assert_eq!(p.scenes[n - 1].name, "Outro");
        }
        assert!(p.messages.len() >= 14, "{n}: {} messages", p.messages.len());
    }
    let started = Instant::now();
    let big = generate::generate_project(&spec("big", 10_000, 3));
    let took = started.elapsed();
    eprintln!("10,000 scenes generated in {took:?}");
    assert_eq!(big.scenes.len(), 10_000);
    fixtures::validate("big", &big).unwrap();
    // About one message per scene plus ten, capped at a few hundred.
    assert_eq!(big.messages.len(), 300);
    assert_eq!(
        generate::generate_project(&spec("m", 25, 1)).messages.len(),
        36
    );
    assert!(
        big.memory.len() < 400,
        "{} memory entries",
        big.memory.len()
    );
}

#[test]
fn ids_names_and_components_are_unique_and_well_formed() {
    let big = generate::generate_project(&spec("big", 10_000, 4));
    let mut ids = HashSet::new();
    let mut names = HashSet::new();
    for (i, s) in big.scenes.iter().enumerate() {
        assert_eq!(s.id, format!("big-s{:04}", i + 1));
        assert_eq!(s.order, i as i64);
        assert!(ids.insert(s.id.as_str()), "duplicate id {}", s.id);
        assert!(names.insert(s.name.as_str()), "duplicate name {}", s.name);
        assert!(s.props.is_object());
    }
    // Names are human ("Feature: ...", "Customer quote: ..."), repeats numbered.
    assert!(names.iter().any(|n| n.starts_with("Feature: ")));
    assert!(names.contains("Pricing") && names.contains("Pricing 2"));
    for p in samples() {
        let ids: HashSet<&str> = p.messages.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids.len(), p.messages.len(), "{}", p.project.id);
        for s in &p.scenes {
            let component = s
                .tsx_code
                .lines()
                .find_map(|l| {
                    l.strip_prefix("export const ")
                        .or_else(|| l.strip_prefix("export default function "))
                })
                .unwrap_or_else(|| panic!("{}: no exported component", s.id));
            let ident: String = component
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            assert!(
                ident.starts_with(|c: char| c.is_ascii_uppercase()),
                "{}: component '{ident}'",
                s.id
            );
        }
    }
}

#[test]
fn durations_are_positive_and_match_the_code() {
    let mut projects: Vec<(ProjectFile, Option<i64>)> = fixtures::demo_projects()
        .unwrap()
        .into_iter()
        .map(|p| (p, None))
        .collect();
    for s in generated_specs() {
        let limit = generate::style_for(&s).max_scene_seconds;
        projects.push((generate::generate_project(&s), Some(limit)));
    }
    for (p, limit_seconds) in &projects {
        for s in &p.scenes {
            assert!(s.duration_frames >= 90, "{}", s.id);
            assert_eq!(
                declared_duration(&s.tsx_code),
                Some(s.duration_frames),
                "{}",
                s.id
            );
            if let Some(seconds) = limit_seconds {
                assert!(s.duration_frames < seconds * generate::FPS, "{}", s.id);
            }
            let seqs = sequences(&s.tsx_code);
            for &(from, frames) in &seqs {
                assert!(
                    from >= 0 && frames > 0,
                    "{}: Sequence {from}+{frames}",
                    s.id
                );
                assert!(
                    from + frames <= s.duration_frames,
                    "{}: Sequence past the end",
                    s.id
                );
            }
            if let Some(&(from, frames)) = seqs.last() {
                assert_eq!(
                    from + frames,
                    s.duration_frames,
                    "{}: last Sequence end",
                    s.id
                );
            }
        }
    }
}

#[test]
fn every_scene_is_a_remotion_component_of_40_to_200_lines() {
    let mut templates = HashSet::new();
    for p in samples() {
        for s in &p.scenes {
            let code = &s.tsx_code;
            let lines = code.lines().count();
            assert!((40..=200).contains(&lines), "{}: {lines} lines", s.id);
            for needle in [
                "from 'remotion'",
                "AbsoluteFill",
                "useCurrentFrame()",
                "interpolate(",
                "style={{",
                "fontFamily: '",
                "fontSize: ",
                "fontWeight: ",
                "const DURATION = ",
            ] {
                assert!(code.contains(needle), "{} lacks {needle}", s.id);
            }
            assert!(!code.contains("$["), "{}: unfilled template marker", s.id);
            if code.contains("spring(") {
                assert!(
                    code.contains("useVideoConfig()"),
                    "{}: spring without fps",
                    s.id
                );
            }
            if code.contains("<Img") {
                assert!(code.contains("https://assets.example.com/"), "{}", s.id);
            }
            assert_balanced(&s.id, code);
            let signature = [
                ("title card", "const underline"),
                ("bullet list", "const Bullet"),
                ("logo reveal", "const logoScale"),
                ("bar chart", "const maxValue"),
                ("quote", "<blockquote"),
                ("image showcase", "<Img"),
                ("stats counter", "const Stat:"),
                ("call to action", "const Button"),
                ("split screen", "const split"),
                ("timeline", "const Milestone"),
            ]
            .iter()
            .find(|(_, marker)| code.contains(marker))
            .map(|(name, _)| *name)
            .unwrap_or_else(|| panic!("{}: no known template", s.id));
            templates.insert(signature);
        }
    }
    assert!(templates.len() >= 8, "only templates {templates:?}");
    // Both export forms, hex and rgb colors, and named colors occur.
    let all: String = samples()
        .iter()
        .flat_map(|p| p.scenes.iter().map(|s| s.tsx_code.clone()))
        .collect();
    for needle in [
        "export default function ",
        ": React.FC = () => {",
        "rgba(",
        "rgb(",
        "'white'",
        "<Sequence from=",
        "spring({",
    ] {
        assert!(all.contains(needle), "no scene has {needle}");
    }
}

#[test]
fn every_scene_parses_as_tsx() {
    // The same parser, in the same mode, the analysis and the offline model use.
    let extra_spec = spec("x", 10, 3);
    let extra: Vec<_> = (0..40)
        .map(|seed| generate::generate_scene(&extra_spec, 10, seed))
        .collect();
    let samples = samples();
    let scenes = samples.iter().flat_map(|p| p.scenes.iter()).chain(&extra);
    for s in scenes {
        let allocator = oxc_allocator::Allocator::default();
        let parsed =
            oxc_parser::Parser::new(&allocator, &s.tsx_code, oxc_span::SourceType::tsx()).parse();
        assert!(!parsed.panicked, "{}: the parser gave up", s.id);
        let errors: Vec<String> = parsed
            .diagnostics
            .errors()
            .map(|e| format!("{e:?}"))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}\n{}", s.id, s.tsx_code);
        assert!(!parsed.program.body.is_empty(), "{}", s.id);
    }
}

#[test]
fn a_project_keeps_one_style_across_its_scenes() {
    for seed in [1, 2, 3, 21] {
        let s = spec("st", 40, seed);
        let style = generate::style_for(&s);
        let p = generate::generate_project(&s);
        for scene in &p.scenes {
            assert!(
                scene.tsx_code.contains(&style.brand),
                "{} lacks the brand",
                scene.id
            );
            assert!(
                scene.tsx_code.contains(&style.heading_stack)
                    || scene.tsx_code.contains(&style.body_stack),
                "{} uses neither project font",
                scene.id
            );
        }
        let pref = |key: &str| {
            p.memory
                .iter()
                .find(|m| m.memory_type == "USER_PREFERENCE" && m.key == key)
                .map(|m| m.value.clone())
                .unwrap_or_else(|| panic!("no {key} preference"))
        };
        assert_eq!(pref("brand_color"), style.brand);
        assert_eq!(pref("heading_font"), style.heading_font);
        assert_eq!(pref("body_font"), style.body_font);
        assert_eq!(pref("tone"), style.tone);
        assert_eq!(pref("background_style"), style.background_style);
        assert_eq!(
            pref("max_scene_seconds"),
            style.max_scene_seconds.to_string()
        );
    }
}

#[test]
fn preferences_in_messages_match_the_memory_entries() {
    for p in samples() {
        let id = &p.project.id;
        let user_messages: Vec<_> = p.messages.iter().filter(|m| m.role == "user").collect();
        assert!(p.messages.iter().any(|m| m.role == "assistant"), "{id}");
        let prefs: Vec<_> = p
            .memory
            .iter()
            .filter(|m| m.memory_type == "USER_PREFERENCE")
            .collect();
        let keys: HashSet<&str> = prefs.iter().map(|m| m.key.as_str()).collect();
        for key in [
            "brand_color",
            "heading_font",
            "body_font",
            "tone",
            "max_scene_seconds",
            "background_style",
        ] {
            assert!(keys.contains(key), "{id}: no {key}");
        }
        for m in &prefs {
            assert!(
                (0.6..=0.95).contains(&m.confidence),
                "{id}: {} {}",
                m.key,
                m.confidence
            );
            let source = user_messages
                .iter()
                .find(|u| u.content == m.source_prompt)
                .unwrap_or_else(|| panic!("{id}: {} comes from no user message", m.key));
            assert!(
                source.content.contains(&m.value),
                "{id}: '{}' does not say {}",
                source.content,
                m.value
            );
            assert!(m.created_at >= source.created_at && m.updated_at >= m.created_at);
        }
        let stating: HashSet<&str> = prefs.iter().map(|m| m.source_prompt.as_str()).collect();
        assert!(
            stating.len() >= 6,
            "{id}: only {} preference messages",
            stating.len()
        );
        assert!(
            p.memory.iter().all(|m| m.memory_type != "SCENE_ANALYSIS"),
            "{id}: the engine computes scene analyses"
        );
        assert!(
            p.memory
                .iter()
                .any(|m| m.memory_type == "CONVERSATION_CONTEXT"),
            "{id}"
        );
        let scene_ids: Vec<&str> = p.scenes.iter().map(|s| s.id.as_str()).collect();
        for m in p
            .memory
            .iter()
            .filter(|m| m.memory_type == "SCENE_RELATIONSHIP")
        {
            let (a, b) = m.key.split_once("->").expect("key a->b");
            let ia = scene_ids.iter().position(|s| *s == a).expect("known scene");
            assert_eq!(scene_ids.get(ia + 1), Some(&b), "{id}: {}", m.key);
            assert!(!m.value.is_empty());
        }
        if p.scenes.len() > 1 {
            assert!(
                p.memory
                    .iter()
                    .any(|m| m.memory_type == "SCENE_RELATIONSHIP"),
                "{id}: no relationships"
            );
        }
        // An edit request names a scene that exists.
        let edit = user_messages
            .iter()
            .find(|m| m.content.starts_with("Make the title in scene "))
            .unwrap_or_else(|| panic!("{id}: no edit request"));
        let number: usize = edit.content["Make the title in scene ".len()..]
            .trim_end_matches(" bigger.")
            .parse()
            .unwrap();
        assert!(
            (1..=p.scenes.len()).contains(&number),
            "{id}: scene {number}"
        );
    }
}

#[test]
fn image_analyses_follow_upload_order() {
    for p in samples() {
        let id = &p.project.id;
        let uploads: Vec<(&str, i64)> = p
            .messages
            .iter()
            .flat_map(|m| m.image_urls.iter().map(move |u| (u.as_str(), m.created_at)))
            .collect();
        assert!(uploads.len() >= 2, "{id}: {} uploads", uploads.len());
        assert!(
            p.messages
                .iter()
                .all(|m| m.image_urls.is_empty() || m.role == "user")
        );
        let analysed: Vec<&str> = p
            .image_analyses
            .iter()
            .map(|i| i.image_urls[0].as_str())
            .collect();
        let uploaded: Vec<&str> = uploads.iter().map(|(u, _)| *u).collect();
        assert_eq!(analysed, uploaded, "{id}");
        let mut ids = HashSet::new();
        for (img, (_, sent)) in p.image_analyses.iter().zip(&uploads) {
            assert!(ids.insert(img.id.as_str()));
            assert!(img.created_at > *sent, "{id}: analysed before upload");
            assert_eq!(img.created_at - sent, img.processing_time_ms);
            assert!(img.trace_id.starts_with("trace-"));
            let palette = img.palette.as_array().expect("palette array");
            assert!(palette.len() >= 3);
            for c in palette {
                let c = c.as_str().expect("hex string");
                assert!(c.len() == 7 && c.starts_with('#'), "{id}: palette {c}");
            }
            assert!(img.layout.is_object());
            assert!(!img.typography.is_empty() && !img.mood.is_empty());
        }
        assert!(
            uploaded
                .iter()
                .all(|u| u.starts_with(&format!("https://assets.example.com/uploads/{id}/"))),
            "{id}"
        );
    }
}

#[test]
fn timestamps_are_deterministic_and_ordered() {
    for p in samples() {
        let id = &p.project.id;
        let created = p.project.created_at;
        assert_eq!(created, generate::T0);
        assert!(p.project.updated_at >= created);
        let mut latest = created;
        for s in &p.scenes {
            assert!(
                s.created_at > created && s.updated_at >= s.created_at,
                "{}",
                s.id
            );
            latest = latest.max(s.updated_at);
        }
        for w in p.messages.windows(2) {
            assert!(
                w[0].created_at < w[1].created_at,
                "{id}: messages out of order"
            );
        }
        for m in &p.messages {
            assert!(m.created_at > created);
            latest = latest.max(m.created_at);
        }
        for w in p.memory.windows(2) {
            assert!(
                (&w[0].memory_type, &w[0].key) < (&w[1].memory_type, &w[1].key),
                "{id}: memory not in export order"
            );
        }
        for m in &p.memory {
            assert!(m.created_at > created && m.updated_at >= m.created_at);
            latest = latest.max(m.updated_at);
        }
        for w in p.image_analyses.windows(2) {
            assert!(w[0].created_at < w[1].created_at);
        }
        for i in &p.image_analyses {
            latest = latest.max(i.created_at);
        }
        assert_eq!(p.project.updated_at, latest, "{id}");
        // Edits reported by the assistant touched the scene afterwards.
        assert!(
            p.scenes.iter().any(|s| s.updated_at > s.created_at),
            "{id}: no edited scene"
        );
    }
}

#[test]
fn generate_scene_adds_one_scene_in_the_project_style() {
    let s = spec("more", 30, 12);
    let project = generate::generate_project(&s);
    let style = generate::style_for(&s);
    let extra = generate::generate_scene(&s, project.scenes.len(), 99);
    assert_eq!(
        extra,
        generate::generate_scene(&s, project.scenes.len(), 99)
    );
    assert_eq!(extra.id, "more-s0031");
    assert_eq!(extra.order, 30);
    assert!(extra.tsx_code.contains(&style.brand));
    assert_eq!(
        declared_duration(&extra.tsx_code),
        Some(extra.duration_frames)
    );
    let codes: HashSet<String> = (0..10)
        .map(|seed| generate::generate_scene(&s, 30, seed).tsx_code)
        .collect();
    assert!(codes.len() >= 9, "seeds barely change the scene");
    let mut appended = project.clone();
    appended.scenes.push(extra);
    fixtures::validate("appended", &appended).unwrap();
}

#[test]
fn the_committed_demos_are_the_curated_generator_output() {
    let curated = generate::curated_demos();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    if std::env::var_os("EDITSCOPE_WRITE_FIXTURES").is_some() {
        for demo in &curated {
            let text = serde_json::to_string_pretty(demo).unwrap() + "\n";
            std::fs::write(dir.join(format!("{}.json", demo.project.id)), text).unwrap();
        }
    }
    let committed = [
        fixtures::parse("demo-small.json", fixtures::DEMO_SMALL).unwrap(),
        fixtures::parse("demo-medium.json", fixtures::DEMO_MEDIUM).unwrap(),
    ];
    for (want, have) in curated.iter().zip(&committed) {
        assert!(
            want == have,
            "fixtures/{}.json differs from generate::curated_demos(); rewrite it with \
             EDITSCOPE_WRITE_FIXTURES=1 cargo test --test it generator::",
            want.project.id
        );
        let on_disk =
            std::fs::read_to_string(dir.join(format!("{}.json", want.project.id))).unwrap();
        assert_eq!(on_disk, serde_json::to_string_pretty(have).unwrap() + "\n");
    }
}

#[test]
fn the_demos_tell_their_story() {
    let demos = fixtures::demo_projects().unwrap();
    let small = &demos[0];
    assert_eq!(small.project.title, "Acme launch teaser");
    let names: Vec<&str> = small.scenes.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Intro", "Problem", "Solution", "Features", "Outro"]);
    assert!(small.scenes[0].tsx_code.contains("Meet Acme Flow"));
    assert!(small.scenes[4].tsx_code.contains("Try Acme Flow free"));
    let medium = &demos[1];
    assert_eq!(medium.scenes.len(), 25);
    let brand = |p: &ProjectFile| {
        p.memory
            .iter()
            .find(|m| m.key == "brand_color")
            .map(|m| m.value.clone())
            .unwrap()
    };
    let font = |p: &ProjectFile| {
        p.memory
            .iter()
            .find(|m| m.key == "heading_font")
            .map(|m| m.value.clone())
            .unwrap()
    };
    assert_eq!(brand(small), "#2563EB");
    assert_ne!(brand(small), brand(medium));
    assert_ne!(font(small), font(medium));
    for demo in &demos[..2] {
        assert!(demo.messages.len() >= 6);
        assert!(demo.image_analyses.len() >= 2);
        let names: HashSet<&str> = demo.scenes.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names.len(), demo.scenes.len());
    }
}
