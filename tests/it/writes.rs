//! Every kind of write that can change a context, for the tests that check a served context
//! against a fresh build after writes (the property test in `context.rs`, the per-kind test).
//!
//! Writes are applied in batches, one transaction each, the way the pipeline writes (a scene's
//! code, its iteration and the run's memory in one commit): a batch is one revision step for
//! the reader, with several deltas in it. A small model of the project (its scenes in video
//! order, the memory keys) follows the batch as it goes, so each write picks a scene or key
//! that exists at that point of the transaction.

use editscope::analysis::{self, ANALYSER_VERSION, SceneAnalysis};
use editscope::context::{BuildRequest, Context, ContextEngine, Flags, TRUST_CONFIDENCE};
use editscope::fixtures;
use editscope::memory::StoredSceneAnalysis;
use editscope::store::{
    ImageAnalysis, MemoryType, MemoryWrite, Message, Scene, SceneIteration, Store, StoreError,
    Writer,
};
use editscope::util::{content_hash, now_ms};

pub const PROJECT: &str = "demo-small";

/// The reference a served context must equal: a fresh build with the same content flags and
/// every analysis recomputed (`lazy` off), so a stale stored analysis cannot hide behind a
/// reference that reads the same memory.
pub fn reference(store: &Store, request: &BuildRequest<'_>, flags: Flags) -> Context {
    ContextEngine::fresh(
        store,
        request,
        Flags {
            lazy: false,
            ..flags
        },
    )
    .unwrap()
    .context
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    /// New code (one color changed, so the scene's analysis changes too) and duration.
    SceneCode,
    /// The same code, another duration.
    SceneDuration,
    SceneRenamed,
    /// Appended after the last scene.
    SceneAdded,
    /// Between the first two scenes: every later scene moves down one position.
    SceneInsertedMidList,
    LastSceneDeleted,
    /// Every other scene moves up one position.
    FirstSceneDeleted,
    /// A scene's order key moved to the front or the end (with or without a new timestamp).
    SceneReordered,
    /// A scene iteration: the history section and what "it" means.
    Iteration,
    Preference,
    PreferenceForgotten,
    Relationship,
    RelationshipForgotten,
    /// A `SCENE_ANALYSIS` entry set by hand (`memory set`): stale, unconfident, of another
    /// analyser, or right.
    AnalysisSetByHand,
    Image,
    Message,
    Title,
    /// `import --replace` of the project (its own transaction: it is one in the CLI too).
    ImportReplace,
}

pub const WRITE_KINDS: [WriteKind; 18] = [
    WriteKind::SceneCode,
    WriteKind::SceneDuration,
    WriteKind::SceneRenamed,
    WriteKind::SceneAdded,
    WriteKind::SceneInsertedMidList,
    WriteKind::LastSceneDeleted,
    WriteKind::FirstSceneDeleted,
    WriteKind::SceneReordered,
    WriteKind::Iteration,
    WriteKind::Preference,
    WriteKind::PreferenceForgotten,
    WriteKind::Relationship,
    WriteKind::RelationshipForgotten,
    WriteKind::AnalysisSetByHand,
    WriteKind::Image,
    WriteKind::Message,
    WriteKind::Title,
    WriteKind::ImportReplace,
];

impl WriteKind {
    /// Whether a cached context cannot be brought forward across this write (it is rebuilt).
    pub fn rebuilds(self) -> bool {
        matches!(
            self,
            WriteKind::Title | WriteKind::SceneReordered | WriteKind::ImportReplace
        )
    }
}

/// One write: its kind, a number unique in the test (for new ids) and a free choice (which
/// scene, which variant).
#[derive(Debug, Clone, Copy)]
pub struct Write {
    pub kind: WriteKind,
    pub seq: usize,
    pub pick: usize,
}

/// What the writes of a batch need to know of the project, kept in step as they go.
struct Model {
    /// In video order (ord, then id, as the store orders them).
    scenes: Vec<Scene>,
    preferences: Vec<String>,
    relationships: Vec<String>,
}

impl Model {
    fn read(store: &Store) -> Model {
        let keys = |t| {
            store
                .list_memory(PROJECT, Some(t))
                .unwrap()
                .into_iter()
                .map(|e| e.key)
                .collect()
        };
        Model {
            scenes: store.list_scenes(PROJECT).unwrap(),
            preferences: keys(MemoryType::UserPreference),
            relationships: keys(MemoryType::SceneRelationship),
        }
    }

    fn sort(&mut self) {
        self.scenes
            .sort_by(|a, b| (a.ord, a.id.as_str()).cmp(&(b.ord, b.id.as_str())));
    }

    fn upsert(&mut self, w: &mut Writer<'_>, scene: Scene) -> Result<(), StoreError> {
        w.upsert_scene(&scene)?;
        self.scenes.retain(|s| s.id != scene.id);
        self.scenes.push(scene);
        self.sort();
        Ok(())
    }

    /// Applies one write inside the batch's transaction.
    fn apply(&mut self, w: &mut Writer<'_>, write: Write) -> Result<&'static str, StoreError> {
        let Write { kind, seq, pick } = write;
        let n = self.scenes.len();
        let at = pick % n;
        Ok(match kind {
            WriteKind::SceneCode => {
                let s = &mut self.scenes[at];
                s.tsx_code = recolor(&s.tsx_code, seq);
                s.duration_frames += 1;
                s.updated_at = w.now();
                w.update_scene_code(&s.id, &s.tsx_code, s.duration_frames)?;
                "scene code"
            }
            WriteKind::SceneDuration => {
                let s = &mut self.scenes[at];
                s.duration_frames = 30 + (seq * 7 % 120) as i64;
                s.updated_at = w.now();
                w.update_scene_code(&s.id, &s.tsx_code, s.duration_frames)?;
                "scene duration"
            }
            WriteKind::SceneRenamed => {
                let mut s = self.scenes[at].clone();
                s.name = format!("Renamed {seq}");
                s.updated_at = now_ms();
                self.upsert(w, s)?;
                "scene rename"
            }
            WriteKind::SceneAdded => {
                let mut s = self.scenes[at].clone();
                s.id = format!("new-{seq}");
                s.name = format!("Added {seq}");
                s.ord = self.scenes.iter().map(|s| s.ord).max().unwrap_or(0) + 1;
                s.updated_at = now_ms();
                self.upsert(w, s)?;
                "new scene"
            }
            WriteKind::SceneInsertedMidList => {
                // The second scene's order key and an id that sorts first: the new scene lands
                // before it.
                let mut s = self.scenes[at].clone();
                s.id = format!("{PROJECT}-mid-{seq:06}");
                s.name = format!("Inserted {seq}");
                s.ord = self.scenes.get(1).map_or(s.ord, |next| next.ord);
                s.updated_at = now_ms();
                self.upsert(w, s)?;
                "scene inserted mid-list"
            }
            WriteKind::LastSceneDeleted | WriteKind::FirstSceneDeleted => {
                if n > 2 {
                    let i = if kind == WriteKind::FirstSceneDeleted {
                        0
                    } else {
                        n - 1
                    };
                    let s = self.scenes.remove(i);
                    w.delete_scene(&s.id)?;
                }
                if kind == WriteKind::FirstSceneDeleted {
                    "first scene delete"
                } else {
                    "last scene delete"
                }
            }
            WriteKind::SceneReordered => {
                // To the front or to the end; a drag does not always stamp the scene as changed.
                let mut s = self.scenes[at].clone();
                let ords = self.scenes.iter().map(|s| s.ord);
                s.ord = if pick.is_multiple_of(2) {
                    ords.min().unwrap_or(0) - 1
                } else {
                    ords.max().unwrap_or(0) + 1
                };
                if pick % 4 >= 2 {
                    s.updated_at = now_ms();
                }
                self.upsert(w, s)?;
                "scene reorder"
            }
            WriteKind::Iteration => {
                let s = &self.scenes[at];
                w.add_iteration(&SceneIteration {
                    id: 0,
                    scene_id: s.id.clone(),
                    project_id: PROJECT.into(),
                    prompt: format!("edit {seq} of {}", s.name),
                    operation: ["edit", "retime", "restyle"][pick % 3].into(),
                    code_before: Some(s.tsx_code.clone()),
                    code_after: Some(s.tsx_code.clone()),
                    model: "offline".into(),
                    generation_ms: 1,
                    created_at: now_ms() + seq as i64,
                })?;
                "scene iteration"
            }
            WriteKind::Preference => {
                // A key of the fixture (over its value: confidence 1) or one of ours.
                let (key, confidence) = if pick.is_multiple_of(2) {
                    (
                        ["brand_color", "tone", "heading_font"][pick % 3].to_string(),
                        1.0,
                    )
                } else {
                    (format!("pref_{}", pick % 3), 0.9)
                };
                w.upsert_memory(&memory_write(
                    MemoryType::UserPreference,
                    &key,
                    &format!("value {seq}"),
                    confidence,
                ))?;
                if !self.preferences.contains(&key) {
                    self.preferences.push(key);
                }
                "preference"
            }
            WriteKind::PreferenceForgotten => {
                if !self.preferences.is_empty() {
                    let key = self.preferences.remove(pick % self.preferences.len());
                    w.forget_memory(PROJECT, MemoryType::UserPreference, &key)?;
                }
                "preference forgotten"
            }
            WriteKind::Relationship => {
                let (a, b) = (&self.scenes[at], &self.scenes[(at + 1) % n]);
                let key = format!("{}->{}", a.id, b.id);
                w.upsert_memory(&memory_write(
                    MemoryType::SceneRelationship,
                    &key,
                    &format!("relationship {seq}"),
                    1.0,
                ))?;
                if !self.relationships.contains(&key) {
                    self.relationships.push(key);
                }
                "relationship"
            }
            WriteKind::RelationshipForgotten => {
                if !self.relationships.is_empty() {
                    let key = self.relationships.remove(pick % self.relationships.len());
                    w.forget_memory(PROJECT, MemoryType::SceneRelationship, &key)?;
                }
                "relationship forgotten"
            }
            WriteKind::AnalysisSetByHand => {
                let s = &self.scenes[at];
                let (stored, confidence) = hand_set_analysis(&s.tsx_code, pick);
                // Forgotten first: the upsert rule would keep a computed entry over a less
                // confident one, and the point is to have this one stored.
                w.forget_memory(PROJECT, MemoryType::SceneAnalysis, &s.id)?;
                w.upsert_memory(&memory_write(
                    MemoryType::SceneAnalysis,
                    &s.id,
                    &serde_json::to_string(&stored).unwrap(),
                    confidence,
                ))?;
                "scene analysis set by hand"
            }
            WriteKind::Image => {
                // Uploaded now, or dated between the fixture's images: the upload order is by
                // time, not by insertion.
                let created_at = if pick.is_multiple_of(2) {
                    now_ms() + seq as i64
                } else {
                    1_700_000_300_000 + seq as i64
                };
                w.add_image_analysis(&ImageAnalysis {
                    id: format!("img-{seq}"),
                    project_id: PROJECT.into(),
                    trace_id: "t".into(),
                    image_urls: vec![format!("https://x/{seq}.png")],
                    palette: serde_json::json!(["#112233"]),
                    typography: "Inter".into(),
                    mood: "calm".into(),
                    layout: serde_json::json!({}),
                    processing_time_ms: 5,
                    created_at,
                })?;
                "image"
            }
            WriteKind::Message => {
                let content = if pick.is_multiple_of(3) {
                    format!("Scene {} looks great, thanks ({seq}).", at + 1)
                } else {
                    format!(
                        "Please use our brand color #{:06X} everywhere.",
                        seq * 4099 % 0xFFFFFF
                    )
                };
                w.add_message(&Message {
                    id: format!("msg-{seq}"),
                    project_id: PROJECT.into(),
                    role: if pick % 5 == 4 { "assistant" } else { "user" }.into(),
                    content,
                    image_urls: vec![],
                    created_at: now_ms() + seq as i64,
                })?;
                "message"
            }
            WriteKind::Title => {
                w.update_project_title(PROJECT, &format!("Title {seq}"))?;
                "title"
            }
            WriteKind::ImportReplace => unreachable!("applied in a transaction of its own"),
        })
    }
}

fn memory_write(t: MemoryType, key: &str, value: &str, confidence: f64) -> MemoryWrite {
    MemoryWrite {
        project_id: PROJECT.into(),
        memory_type: t,
        key: key.into(),
        value: value.into(),
        confidence,
        source_prompt: "test write".into(),
        learned_at: None,
    }
}

/// One hex color of the code replaced by another: the scene's analysis changes with its code.
fn recolor(code: &str, seq: usize) -> String {
    let color = format!("{:06X}", seq.wrapping_mul(2_654_435_761) & 0xFF_FFFF);
    let found = code.match_indices("'#").find(|(i, _)| {
        code.get(i + 2..i + 8)
            .is_some_and(|h| h.chars().all(|c| c.is_ascii_hexdigit()))
    });
    match found {
        Some((i, _)) => format!("{}{color}{}", &code[..i + 2], &code[i + 8..]),
        None => format!("{code}\n// v{seq}\n"),
    }
}

/// A `SCENE_ANALYSIS` entry as someone might set it by hand, and its confidence: only the last
/// variant may be trusted, and it is right.
fn hand_set_analysis(code: &str, pick: usize) -> (StoredSceneAnalysis, f64) {
    let truth = analysis::analyse(code);
    let bogus = SceneAnalysis {
        colors: vec!["#0BAD0B".into()],
        font_families: vec!["Bogus Sans".into()],
        ..truth.clone()
    };
    let entry = |a: &SceneAnalysis, hash: String, analyser_version| StoredSceneAnalysis {
        content_hash: hash,
        analyser_version,
        analysis: serde_json::to_value(a).unwrap(),
    };
    let hash = content_hash(code);
    match pick % 5 {
        0 => (entry(&bogus, hash, ANALYSER_VERSION), 0.5),
        1 => (entry(&bogus, hash, ANALYSER_VERSION), TRUST_CONFIDENCE),
        2 => (
            entry(&bogus, content_hash("older code"), ANALYSER_VERSION),
            0.95,
        ),
        3 => (entry(&bogus, hash, ANALYSER_VERSION + 1), 0.95),
        _ => (entry(&truth, hash, ANALYSER_VERSION), 0.99),
    }
}

/// `import --replace` of the project: the fixture as shipped, or the project as it is now
/// with its title changed and its last scene and message left out.
fn import_replace(store: &mut Store, seq: usize, pick: usize) {
    let file = if pick.is_multiple_of(2) {
        fixtures::parse("small", fixtures::DEMO_SMALL).unwrap()
    } else {
        let mut p = fixtures::export(store, PROJECT).unwrap();
        p.project.title = format!("Reimported {seq}");
        if p.scenes.len() > 2 {
            let gone = p.scenes.pop().unwrap();
            p.scene_iterations.retain(|it| it.scene_id != gone.id);
        }
        p.messages.pop();
        p
    };
    fixtures::import_replacing(store, "replacement", &file).unwrap();
}

/// Applies writes in one transaction (an `import --replace` in one of its own, between the
/// writes before and after it). Returns what each write was.
pub fn apply_batch(store: &mut Store, writes: &[Write]) -> Vec<&'static str> {
    let mut done = Vec::new();
    let mut rest = writes;
    while !rest.is_empty() {
        let cut = rest.iter().position(|w| w.kind == WriteKind::ImportReplace);
        if cut == Some(0) {
            import_replace(store, rest[0].seq, rest[0].pick);
            done.push("import --replace");
            rest = &rest[1..];
            continue;
        }
        let (now, later) = rest.split_at(cut.unwrap_or(rest.len()));
        let mut model = Model::read(store);
        let names = store
            .write(|w| {
                now.iter()
                    .map(|write| model.apply(w, *write))
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap();
        done.extend(names);
        rest = later;
    }
    done
}

/// One write in a transaction of its own.
pub fn write_one(store: &mut Store, kind: WriteKind, seq: usize) -> &'static str {
    apply_batch(
        store,
        &[Write {
            kind,
            seq,
            pick: seq,
        }],
    )[0]
}
