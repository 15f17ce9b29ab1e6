//! `rollcall stats`: team figures: members, joiners and leavers, renewal rate.

use std::process::ExitCode;

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_ctx: &Ctx, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`rollcall stats` is not built yet")
}
