//! `rollcall onboarding`: the onboarding queue: new members and their steps.

use std::process::ExitCode;

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_ctx: &Ctx, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`rollcall onboarding` is not built yet")
}
