//! The app: a ratatui workbench of panes over the store.
//!
//! A keystroke becomes an action through the keymap; the active pane handles it, sending any
//! query or write to the DB worker; replies come back to the pane, which redraws from its state.

pub mod db;
pub mod pane;
pub mod panes;
pub mod theme;
pub mod widgets;

use std::process::ExitCode;

use crate::cli::Ctx;

/// Opens the app on the database in `ctx`.
pub fn run(ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let _store = ctx.open_store()?;
    anyhow::bail!("the app is not built yet")
}
