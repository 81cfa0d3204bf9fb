//! Integration tests, one module per area.
//!
//! They live in one test binary rather than one per file: each binary links the whole
//! dependency tree, and on small CI machines linking eleven of them cost minutes.

mod analysis;
mod backends;
mod cli;
mod context;
mod edit_format;
mod editor_import;
mod export;
mod faults;
mod fixtures;
mod freshness;
mod fuzz;
mod generator;
mod learning;
mod limits;
mod limits_enforced;
mod llm_anthropic;
mod llm_cli;
mod llm_openai;
mod memory;
mod offline_backend;
mod oracle;
mod pg;
mod pg_server;
mod resolver;
mod scene_refs;
mod scripted_server;
mod secrets;
mod session;
mod snapshots;
mod store;
mod tui;
mod unit;
mod writes;
