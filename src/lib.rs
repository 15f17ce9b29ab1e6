//! rollcall: a keyboard-driven workbench for membership teams, on a local SQLite copy of the CRM.
//!
//! Layers, and the one direction data flows through them:
//! export file → [`import`] → [`storage`] → queries → [`app`] panes / [`cli`] commands.
//! [`domain`] holds the pure rules (statuses, dates, queues) that every layer uses; it does no I/O.

pub mod app;
pub mod cli;
pub mod domain;
pub mod export;
pub mod import;
pub mod search;
pub mod storage;
pub mod text;

mod clock;
pub mod config;
pub use clock::Clock;
