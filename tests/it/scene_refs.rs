//! The two-scene project that the model-facing tests (wire format, providers) decide over.

use editscope::llm::SceneRef;

/// "Intro" (90 frames) then "Logo reveal" (120 frames).
pub fn intro_and_logo() -> Vec<SceneRef> {
    vec![
        SceneRef {
            id: "s-intro".to_string(),
            name: "Intro".to_string(),
            position: 1,
            duration_frames: 90,
        },
        SceneRef {
            id: "s-logo".to_string(),
            name: "Logo reveal".to_string(),
            position: 2,
            duration_frames: 120,
        },
    ]
}
