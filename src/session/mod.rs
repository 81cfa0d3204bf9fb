//! Session files (`editscope.session/v1`, JSON Lines): a recording of edit runs that can be
//! kept, shared and replayed on any machine (DESIGN.md section 7).
//!
//! The first line is a [`SessionHeader`] holding the project as it was when recording started
//! (in the `editscope.project/v1` format), every further line one [`SessionRun`]: the prompt,
//! the flags, every pipeline event with its time, the result, each model call's prompt as sent,
//! and the target scene's code after the run. A session never holds an API key or an
//! authorization header: nothing that reaches it carries one (the backend is named by its kind
//! and model only).

pub mod replay;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fixtures::ProjectFile;
use crate::llm::ChatPrompt;
use crate::pipeline::{EditResult, PipelineEvent, Stage};

/// The format this build writes and reads.
pub const SESSION_FORMAT: &str = "editscope.session/v1";
const FORMAT_PREFIX: &str = "editscope.session/v";
const FORMAT_VERSION: u32 = 1;

/// Why a session file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("cannot read session file '{path}': {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write session file '{path}': {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("'{path}' is not an editscope session: line {line}: {reason}")]
    NotASession {
        path: String,
        line: usize,
        reason: String,
    },
    #[error(
        "'{path}' is a session of format version {found}, newer than this editscope reads ({FORMAT_VERSION}); upgrade editscope"
    )]
    NewerFormat { path: String, found: u32 },
    #[error("'{path}': line {line} is {exceeded}; the file was not read")]
    LineTooLong {
        path: String,
        line: usize,
        exceeded: crate::limits::Exceeded,
    },
    #[error("recording into '{path}': the run's line would be {exceeded}; it was not written")]
    RunTooLarge {
        path: String,
        exceeded: crate::limits::Exceeded,
    },
    #[error(
        "'{path}' records project '{recorded}', not '{asked}': record each project in its own file"
    )]
    OtherProject {
        path: String,
        recorded: String,
        asked: String,
    },
}

/// The first line of a session file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionHeader {
    pub format: String,
    pub editscope_version: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// The flags the recording started with.
    pub flags: String,
    /// The backend's kind (`offline`, `openai`, `anthropic`) and its model.
    pub backend: String,
    pub model: String,
    /// The project as it was when recording started.
    pub project: ProjectFile,
}

/// A model call's prompt as it was sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedPrompt {
    pub stage: Stage,
    pub system: String,
    pub stable_prefix: String,
    pub variable: String,
}

impl RecordedPrompt {
    pub fn new(stage: Stage, prompt: &ChatPrompt) -> Self {
        RecordedPrompt {
            stage,
            system: prompt.system.clone(),
            stable_prefix: prompt.stable_prefix.clone(),
            variable: prompt.variable.clone(),
        }
    }
}

/// A pipeline event and when it happened, in milliseconds since the run started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimedEvent {
    pub at_ms: f64,
    #[serde(flatten)]
    pub event: PipelineEvent,
}

/// One recorded run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRun {
    /// The run's number in the session, from 1.
    pub run: u64,
    pub prompt: String,
    pub flags: String,
    pub events: Vec<TimedEvent>,
    pub result: EditResult,
    pub prompts: Vec<RecordedPrompt>,
    /// The target scene's code after the run (`None` when none was changed or it was
    /// deleted), to tell whether a replay produced the same code.
    #[serde(default)]
    pub code_after: Option<String>,
}

impl SessionRun {
    /// A run from its events (as the pipeline sent them, with their times) and its result.
    pub fn from_events(
        run: u64,
        events: Vec<TimedEvent>,
        result: EditResult,
        code_after: Option<String>,
    ) -> Self {
        let prompts = events
            .iter()
            .filter_map(|e| match &e.event {
                PipelineEvent::ModelCall { stage, prompt, .. } => {
                    Some(RecordedPrompt::new(*stage, prompt))
                }
                _ => None,
            })
            .collect();
        SessionRun {
            run,
            prompt: result.prompt.clone(),
            flags: result.flags.clone(),
            events,
            result,
            prompts,
            code_after,
        }
    }
}

/// A session as read from a file.
#[derive(Debug, Clone)]
pub struct Session {
    pub path: PathBuf,
    pub header: SessionHeader,
    pub runs: Vec<SessionRun>,
    /// The last line was cut off (a recording that was killed mid-write): it was left out.
    pub cut_off: bool,
}

impl SessionHeader {
    /// A header for runs of `project` made with `flags` on the backend named `backend_name`
    /// (as [`crate::llm::LlmClient::name`] gives it: `offline`, `openai:MODEL`, ...).
    pub fn new(flags: String, backend_name: &str, project: ProjectFile) -> Self {
        let (backend, model) = match backend_name.split_once(':') {
            Some((kind, model)) => (kind, model),
            None if backend_name == "offline" => (backend_name, crate::llm::offline::OFFLINE_MODEL),
            None => (backend_name, ""),
        };
        SessionHeader {
            format: SESSION_FORMAT.to_string(),
            editscope_version: env!("CARGO_PKG_VERSION").to_string(),
            created_at: crate::util::now_ms(),
            flags,
            backend: backend.to_string(),
            model: model.to_string(),
            project,
        }
    }
}

/// The format version a header's `format` names, or why it names none.
fn format_version(format: &str) -> Result<u32, String> {
    let Some(version) = format.strip_prefix(FORMAT_PREFIX) else {
        return Err(format!(
            "the first line's \"format\" is \"{format}\", not \"{SESSION_FORMAT}\""
        ));
    };
    version
        .parse::<u32>()
        .map_err(|_| format!("\"{format}\" has no version number"))
}

/// Reads a session file. A last line that is cut off (no line break after it and not valid
/// JSON) is left out and reported in [`Session::cut_off`]; any other bad line is an error
/// naming the line and the reason.
pub fn read(path: &Path) -> Result<Session, SessionError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| SessionError::Read {
        path: shown.clone(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        SessionError::NotASession {
            path: shown.clone(),
            line,
            reason: "not UTF-8 text".into(),
        }
    })?;
    parse(&shown, &text).map(|(header, runs, cut_off)| Session {
        path: path.to_path_buf(),
        header,
        runs,
        cut_off,
    })
}

type Parsed = (SessionHeader, Vec<SessionRun>, bool);

/// [`read`] on text already in memory; `path` names it in errors.
pub fn parse(path: &str, text: &str) -> Result<Parsed, SessionError> {
    parse_limited(path, text, crate::limits::SESSION_LINE)
}

/// [`parse`] under another line limit: a seam for tests, which cannot afford lines of the
/// real limit's size.
#[doc(hidden)]
pub fn parse_limited(
    path: &str,
    text: &str,
    line_limit: crate::limits::Limit,
) -> Result<Parsed, SessionError> {
    let not_a_session = |line: usize, reason: String| SessionError::NotASession {
        path: path.to_string(),
        line,
        reason,
    };
    let ends_complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    // Every line is measured before any is parsed: a line over the limit refuses the file.
    for (i, line) in lines.iter().enumerate() {
        line_limit
            .check(line.len())
            .map_err(|exceeded| SessionError::LineTooLong {
                path: path.to_string(),
                line: i + 1,
                exceeded,
            })?;
    }
    let Some(first) = lines.first() else {
        return Err(not_a_session(1, "the file is empty".into()));
    };
    // The format is checked before the rest of the header, so that a newer file is refused as
    // newer, not as malformed.
    let value: serde_json::Value =
        serde_json::from_str(first).map_err(|e| not_a_session(1, format!("not JSON: {e}")))?;
    let format = value
        .get("format")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| not_a_session(1, "no \"format\" field".into()))?;
    let version = format_version(format).map_err(|reason| not_a_session(1, reason))?;
    if version > FORMAT_VERSION {
        return Err(SessionError::NewerFormat {
            path: path.to_string(),
            found: version,
        });
    }
    let header: SessionHeader = serde_path_to_error::deserialize(value)
        .map_err(|e| not_a_session(1, format!("the header is malformed at {e}")))?;
    let mut runs = Vec::new();
    let mut cut_off = false;
    for (i, line) in lines.iter().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let is_last = i == lines.len() - 1;
        let mut de = serde_json::Deserializer::from_str(line);
        match serde_path_to_error::deserialize::<_, SessionRun>(&mut de) {
            Ok(run) => runs.push(run),
            Err(e) if is_last && !ends_complete && e.inner().is_eof() => cut_off = true,
            Err(e) => {
                return Err(not_a_session(
                    i + 1,
                    format!("not a recorded run: {} (at {})", e.inner(), e.path()),
                ));
            }
        }
    }
    Ok((header, runs, cut_off))
}

/// Appends runs to a session file, writing its header first when the file is new or empty.
pub struct Recorder {
    path: PathBuf,
    /// Runs in the file so far (the next run's number is one more).
    runs: u64,
}

impl Recorder {
    /// Opens `path` for recording runs of `header.project`. An existing session must be of the
    /// same project (its header is kept as it is: the project as recording started); a file
    /// that is not a session is refused, never overwritten.
    pub fn open(path: &Path, header: SessionHeader) -> Result<Recorder, SessionError> {
        let shown = path.display().to_string();
        let existing = match std::fs::metadata(path) {
            Ok(m) if m.len() > 0 => Some(read(path)?),
            _ => None,
        };
        match existing {
            Some(session) => {
                if session.header.project.project.id != header.project.project.id {
                    return Err(SessionError::OtherProject {
                        path: shown,
                        recorded: session.header.project.project.id,
                        asked: header.project.project.id,
                    });
                }
                let recorder = Recorder {
                    path: path.to_path_buf(),
                    runs: session.runs.len() as u64,
                };
                recorder.end_on_a_line_break(session.cut_off)?;
                Ok(recorder)
            }
            None => {
                let recorder = Recorder {
                    path: path.to_path_buf(),
                    runs: 0,
                };
                recorder.append_line(&header)?;
                Ok(recorder)
            }
        }
    }

    /// Makes the file end with a complete line before anything is appended: a cut-off last
    /// run (a recording killed mid-write, already left out by the reader) is cut away, so the
    /// next run does not glue onto it; a last line without its line break gets one.
    fn end_on_a_line_break(&self, cut_off: bool) -> Result<(), SessionError> {
        let wrap = |source| SessionError::Write {
            path: self.path.display().to_string(),
            source,
        };
        let bytes = std::fs::read(&self.path).map_err(wrap)?;
        if bytes.ends_with(b"\n") {
            return Ok(());
        }
        if cut_off {
            let keep = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            tracing::warn!(
                "{}: a cut-off last run is dropped before recording goes on",
                self.path.display()
            );
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(&self.path)
                .map_err(wrap)?;
            file.set_len(keep as u64).map_err(wrap)
        } else {
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .open(&self.path)
                .map_err(wrap)?;
            file.write_all(b"\n").map_err(wrap)
        }
    }

    /// The number the next recorded run gets.
    pub fn next_run(&self) -> u64 {
        self.runs + 1
    }

    /// Appends one run as one line.
    pub fn append(&mut self, run: &SessionRun) -> Result<(), SessionError> {
        self.append_limited(run, crate::limits::SESSION_LINE)
    }

    /// [`Recorder::append`] under another line limit: a seam for tests (as [`parse_limited`]),
    /// which cannot afford to serialize lines of the real limit's size.
    #[doc(hidden)]
    pub fn append_limited(
        &mut self,
        run: &SessionRun,
        line_limit: crate::limits::Limit,
    ) -> Result<(), SessionError> {
        self.append_line_limited(run, line_limit)?;
        self.runs += 1;
        Ok(())
    }

    fn append_line(&self, value: &impl Serialize) -> Result<(), SessionError> {
        self.append_line_limited(value, crate::limits::SESSION_LINE)
    }

    fn append_line_limited(
        &self,
        value: &impl Serialize,
        line_limit: crate::limits::Limit,
    ) -> Result<(), SessionError> {
        let wrap = |source| SessionError::Write {
            path: self.path.display().to_string(),
            source,
        };
        let mut line = serde_json::to_string(value).map_err(|e| wrap(std::io::Error::other(e)))?;
        // A line the reader would refuse is not written: it would make the whole file
        // unreadable.
        line_limit
            .check(line.len())
            .map_err(|exceeded| SessionError::RunTooLarge {
                path: self.path.display().to_string(),
                exceeded,
            })?;
        line.push('\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(wrap)?;
        // One write of the whole line: a reader never sees half a run unless the process died
        // mid-write, and then the cut-off line is recognised as such.
        file.write_all(line.as_bytes()).map_err(wrap)?;
        file.flush().map_err(wrap)
    }
}
