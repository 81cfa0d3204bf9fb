//! trimScene and changeDuration offline: rewrite the declared duration, and keep the timing
//! inside consistent with it.
//!
//! - A length change or speed change (changeDuration) scales every literal frame number
//!   proportionally: `<Sequence from/durationInFrames>` and the input ranges of
//!   `interpolate(frame, [a, b], ...)`, so the animation plays slower or faster as a whole.
//! - A trim (trimScene) cuts the end: only the duration changes, and sequences that would run
//!   past the new end are shortened to end with it.

use super::patch::{self, Patch};
use super::scene_model::{NumberSite, SceneModel};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Retime {
    Trim,
    Scale,
}

/// Rewrites `code` to last `new_frames`. `current_frames` is the scene's stored duration,
/// used when the code declares none.
pub fn retime(
    code: &str,
    current_frames: i64,
    new_frames: i64,
    mode: Retime,
) -> Result<(String, String), String> {
    if new_frames <= 0 {
        return Err(format!(
            "a scene must last at least one frame, not {new_frames}"
        ));
    }
    let model = SceneModel::build(code)?;
    let mut patches = Vec::new();

    // The scene length: the largest DURATION constant, else the largest durationInFrames.
    let declared = largest(&model.duration_consts).or_else(|| largest(&model.duration_props));
    let old = declared.map_or(current_frames.max(1) as f64, |site| site.value);
    let factor = new_frames as f64 / old;
    let scale = |v: f64| (v * factor).round();
    let mut notes = Vec::new();

    match declared {
        Some(length) => {
            for site in model.duration_consts.iter().chain(&model.duration_props) {
                if site.range == length.range {
                    patches.push(number_patch(site, new_frames as f64));
                } else if mode == Retime::Scale {
                    // Other named durations (a fade length) scale with the scene.
                    patches.push(number_patch(site, scale(site.value).max(1.0)));
                }
            }
        }
        None => {
            // Declare it, so the code and the stored duration agree from now on.
            let at = model.imports_end;
            let text = if at == 0 {
                format!("const DURATION = {new_frames};\n\n")
            } else {
                format!("\n\nconst DURATION = {new_frames};")
            };
            patches.push(Patch::insert(at, text));
            notes.push("declared `const DURATION`".to_string());
        }
    }

    let mut sequences = 0;
    let mut ranges = 0;
    for sequence in &model.sequences {
        let from = sequence.from.map_or(0.0, |f| f.value);
        let Some(duration) = sequence.duration else {
            continue;
        };
        if sequence.from_dynamic {
            continue;
        }
        match mode {
            Retime::Scale => {
                let new_from = scale(from);
                let new_end = scale(from + duration.value).max(new_from + 1.0);
                if let Some(site) = sequence.from {
                    patches.push(number_patch(&site, new_from));
                }
                patches.push(number_patch(&duration, new_end - new_from));
                sequences += 1;
            }
            Retime::Trim => {
                let end = from + duration.value;
                if end > new_frames as f64 && from < new_frames as f64 {
                    patches.push(number_patch(&duration, new_frames as f64 - from));
                    sequences += 1;
                }
            }
        }
    }
    if mode == Retime::Scale {
        for range in &model.frame_ranges {
            let mut previous = f64::NEG_INFINITY;
            for site in range {
                // interpolate() needs strictly increasing input ranges.
                let value = scale(site.value).max(previous + 1.0);
                patches.push(number_patch(site, value));
                previous = value;
            }
            ranges += 1;
        }
    }

    let new_code = patch::apply(code, patches)?;
    let verb = match mode {
        Retime::Trim => "trimmed",
        Retime::Scale => "retimed",
    };
    if sequences > 0 {
        notes.push(format!("{sequences} sequence{} {verb}", plural(sequences)));
    }
    if ranges > 0 {
        notes.push(format!(
            "{ranges} interpolate range{} scaled",
            plural(ranges)
        ));
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!("; {}", notes.join(", "))
    };
    Ok((
        new_code,
        format!(
            "duration {} -> {new_frames} frames ({:.1} s -> {:.1} s){notes}",
            old.round(),
            old / super::words::FPS,
            new_frames as f64 / super::words::FPS
        ),
    ))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn largest(sites: &[NumberSite]) -> Option<NumberSite> {
    sites
        .iter()
        .copied()
        .fold(None, |best: Option<NumberSite>, site| match best {
            Some(b) if b.value >= site.value => Some(b),
            _ => Some(site),
        })
}

fn number_patch(site: &NumberSite, value: f64) -> Patch {
    Patch::replace(site.range, format!("{}", value.round() as i64))
}
