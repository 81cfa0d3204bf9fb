//! Row types of every table, as the rest of the program sees them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    pub id: String,
    pub user_id: String,
    pub title: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A project with its counts, as `editscope projects` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectSummary {
    pub id: String,
    pub title: String,
    pub user_id: String,
    pub scenes: u64,
    pub messages: u64,
    pub memory_entries: u64,
    pub revision: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scene {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub ord: i64,
    pub tsx_code: String,
    pub duration_frames: i64,
    pub props_json: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A scene without its code: what a scene list needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SceneMeta {
    pub id: String,
    pub name: String,
    pub ord: i64,
    pub duration_frames: i64,
    pub updated_at: i64,
}

impl From<&Scene> for SceneMeta {
    fn from(s: &Scene) -> Self {
        SceneMeta {
            id: s.id.clone(),
            name: s.name.clone(),
            ord: s.ord,
            duration_frames: s.duration_frames,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: String,
    pub project_id: String,
    pub role: String,
    pub content: String,
    pub image_urls: Vec<String>,
    pub created_at: i64,
}

/// Where memory learning stands in a project's messages: the last message (in the order
/// (`created_at`, `id`)) whose stated preferences are in memory. A build learns only from the
/// messages after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryWatermark {
    pub project_id: String,
    pub message_created_at: i64,
    pub message_id: String,
    /// When the watermark last moved (ms).
    pub updated_at: i64,
}

/// The kinds of project memory (DESIGN.md section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MemoryType {
    UserPreference,
    SceneRelationship,
    SceneAnalysis,
    ImageAnalysis,
    ConversationContext,
}

impl MemoryType {
    pub const ALL: [MemoryType; 5] = [
        MemoryType::UserPreference,
        MemoryType::SceneRelationship,
        MemoryType::SceneAnalysis,
        MemoryType::ImageAnalysis,
        MemoryType::ConversationContext,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MemoryType::UserPreference => "USER_PREFERENCE",
            MemoryType::SceneRelationship => "SCENE_RELATIONSHIP",
            MemoryType::SceneAnalysis => "SCENE_ANALYSIS",
            MemoryType::ImageAnalysis => "IMAGE_ANALYSIS",
            MemoryType::ConversationContext => "CONVERSATION_CONTEXT",
        }
    }
}

impl std::fmt::Display for MemoryType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for MemoryType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_uppercase().replace('-', "_");
        MemoryType::ALL
            .into_iter()
            .find(|t| t.as_str() == wanted)
            .ok_or_else(|| {
                format!(
                    "unknown memory type '{s}' (expected one of USER_PREFERENCE, SCENE_RELATIONSHIP, SCENE_ANALYSIS, IMAGE_ANALYSIS, CONVERSATION_CONTEXT)"
                )
            })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryEntry {
    pub id: i64,
    pub project_id: String,
    pub memory_type: MemoryType,
    pub key: String,
    pub value: String,
    pub confidence: f64,
    pub source_prompt: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageAnalysis {
    pub id: String,
    pub project_id: String,
    pub trace_id: String,
    pub image_urls: Vec<String>,
    pub palette: serde_json::Value,
    pub typography: String,
    pub mood: String,
    pub layout: serde_json::Value,
    pub processing_time_ms: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SceneIteration {
    pub id: i64,
    pub scene_id: String,
    pub project_id: String,
    pub prompt: String,
    pub operation: String,
    pub code_before: Option<String>,
    pub code_after: Option<String>,
    pub model: String,
    pub generation_ms: i64,
    pub created_at: i64,
}

/// What the history section shows of a scene iteration: no code, so reading it touches none
/// of the row's code columns (the bulk of each row, on overflow pages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IterationSummary {
    pub scene_id: String,
    pub operation: String,
    pub prompt: String,
}

impl From<SceneIteration> for IterationSummary {
    fn from(it: SceneIteration) -> Self {
        IterationSummary {
            scene_id: it.scene_id,
            operation: it.operation,
            prompt: it.prompt,
        }
    }
}

/// One profiled edit (DESIGN.md section 2, `edit_runs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditRunRecord {
    pub id: i64,
    pub project_id: String,
    pub prompt: String,
    pub flags_json: String,
    pub tool: Option<String>,
    pub target_scene_id: Option<String>,
    pub stage_ms_json: String,
    pub cache_json: String,
    pub tokens_json: String,
    pub outcome: String,
    pub error: Option<String>,
    pub created_at: i64,
    /// A comparison run (one side of an A/B): a dry run on a scratch copy of the project,
    /// recorded here so that it can be compared across sessions, but it changed nothing.
    pub comparison: bool,
}

/// A memory entry of a type editscope does not know (an import from the editor's database):
/// kept as it came, listed, never used in a context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForeignMemory {
    pub project_id: String,
    pub memory_type: String,
    pub key: String,
    pub value: String,
    pub confidence: f64,
    pub source_prompt: String,
    pub created_at: i64,
    pub updated_at: i64,
}
