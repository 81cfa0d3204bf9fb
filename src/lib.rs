//! editscope: a terminal developer console for the edit pipeline of an AI motion-graphics editor.
//!
//! Data flows one way: `store` -> `memory`/`analysis` -> `context` -> `pipeline` ->
//! `metrics`/events -> `tui`. The TUI never touches SQL; the engine never touches the terminal.
//! `editfmt` (the diff edit format) sits below `llm` and `pipeline`, which share it.
//! `resolve` (which scene a request means) sits below both `context` and `llm`, which share it.

pub mod analysis;
pub mod cli;
pub mod context;
pub mod editfmt;
pub mod export;
pub mod fixtures;
pub mod limits;
pub mod llm;
pub mod memory;
pub mod metrics;
pub mod pipeline;
pub mod resolve;
pub mod session;
pub mod store;
pub mod tui;
pub mod util;
