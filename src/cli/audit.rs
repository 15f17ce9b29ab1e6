//! `rollcall audit`: the audit trail of changes made in rollcall.

use std::process::ExitCode;

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_ctx: &Ctx, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`rollcall audit` is not built yet")
}
