//! The dashboard (DESIGN.md section 6): a ratatui app over the edit pipeline.
//!
//! - `worker`: owns the pipeline and the store (the only code here that reads the database),
//!   runs edits and reports by events; the UI never waits on it.
//! - `state` (+ `update` for keys, `stats` for distributions, `warnings` for judgments): the
//!   state, folded from the worker's events; views read it and never fetch.
//! - `view`, `panels/` (one file per panel), `popups/`: drawing, from the state only.
//! - `keys`: every key binding once, as data; help and footer are rendered from it.
//! - `app`: the event loop and the terminal's setup and restoration.
//!
//! Tests drive [`AppState::apply_key`] / [`AppState::apply_event`] and render with [`draw`]
//! into a `TestBackend`; no terminal is needed.

pub mod app;
pub mod format;
pub mod keys;
pub mod logging;
// pub for the unit tests in tests/it/unit; not API.
#[doc(hidden)]
pub mod panels;
mod popups;
pub mod state;
pub mod stats;
mod theme;
mod update;
pub mod view;
pub mod warnings;
pub mod worker;

pub use app::{App, run, run_loop};
pub use state::{AppState, Mode, PanelId, Popup};
pub use view::draw;
pub use worker::{Command, SceneRow, WorkerEvent, WorkerHandle};
