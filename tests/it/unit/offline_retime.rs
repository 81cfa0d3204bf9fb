//! Unit tests of `editscope::llm::offline::retime`: scaling and trimming a scene's timing.

use editscope::analysis::{analyse, check_tsx};
use editscope::llm::offline::retime::{Retime, retime};

const SCENE: &str = r#"import { AbsoluteFill, Sequence, interpolate, useCurrentFrame } from 'remotion';

const DURATION = 150;
const FADE_DURATION = 15;

export const S = () => {
  const frame = useCurrentFrame();
  const o = interpolate(frame, [0, 15, 30], [0, 1, 0.5]);
  const exit = interpolate(frame, [DURATION - 15, DURATION], [1, 0]);
  return (
    <AbsoluteFill style={{ opacity: o * exit }}>
      <Sequence from={30} durationInFrames={120}><div>Hi</div></Sequence>
      <Sequence from={100} durationInFrames={50}><div>Later</div></Sequence>
    </AbsoluteFill>
  );
};
"#;

#[test]
fn scaling_keeps_timing_proportional() {
    let (code, summary) = retime(SCENE, 150, 300, Retime::Scale).expect("retime");
    assert_eq!(check_tsx(&code), Ok(()));
    assert!(code.contains("const DURATION = 300;"), "{code}");
    assert!(code.contains("const FADE_DURATION = 30;"));
    assert!(code.contains("[0, 30, 60]"));
    assert!(code.contains("[DURATION - 15, DURATION]"));
    assert!(code.contains("from={60} durationInFrames={240}"));
    assert!(code.contains("from={200} durationInFrames={100}"));
    assert_eq!(analyse(&code).duration_frames, Some(300));
    assert!(
        summary.starts_with("duration 150 -> 300 frames"),
        "{summary}"
    );
}

#[test]
fn trimming_cuts_the_end() {
    let (code, _) = retime(SCENE, 150, 60, Retime::Trim).expect("trim");
    assert!(code.contains("const DURATION = 60;"));
    assert!(code.contains("const FADE_DURATION = 15;"));
    assert!(code.contains("[0, 15, 30]"));
    assert!(code.contains("from={30} durationInFrames={30}"));
    // Starts after the new end: left alone.
    assert!(code.contains("from={100} durationInFrames={50}"));
}

#[test]
fn undeclared_duration_is_declared() {
    let code = "import React from 'react';\nexport const S = () => <div>Hi</div>;\n";
    let (out, summary) = retime(code, 90, 45, Retime::Scale).expect("declare");
    assert_eq!(check_tsx(&out), Ok(()));
    assert_eq!(analyse(&out).duration_frames, Some(45));
    assert!(summary.contains("declared"));
}

#[test]
fn strictly_increasing_ranges_survive_rounding() {
    let code = "const DURATION = 100;\nconst A = () => { const frame = 0; return interpolate(frame, [0, 1, 2], [0, 1, 0]); };";
    let (out, _) = retime(code, 100, 10, Retime::Scale).expect("retime");
    assert!(out.contains("[0, 1, 2]"), "{out}");
}
