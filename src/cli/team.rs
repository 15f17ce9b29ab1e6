//! `rollcall team`: setting up a shared PostgreSQL database for a team (docs/team.md).

use std::process::ExitCode;

use anyhow::bail;

use super::context::Ctx;
use super::output::say;
use crate::storage::team::{self, Init};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: TeamCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum TeamCommand {
    /// Create rollcall's tables in an empty PostgreSQL database (--db postgresql://…), or
    /// bring an older rollcall schema there up to date
    Init,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        TeamCommand::Init => init(ctx),
    }
}

fn init(ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let Some(db) = ctx.db.team() else {
        bail!(
            "`rollcall team init` sets up a shared PostgreSQL database: give it with \
             --db postgresql://USER@HOST/DATABASE (or ROLLCALL_DB); {} is an SQLite file, which \
             rollcall sets up by itself",
            ctx.db
        );
    };
    if ctx.read_only {
        bail!("`rollcall team init` creates tables; it cannot run with --read-only");
    }
    match team::init(db, &ctx.clock.user, &ctx.clock.now_rfc3339())? {
        Init::Created { version, tables } => say!(
            "Created rollcall's schema (version {version}, {tables} tables) in {db}.\n\
             Next: import the CRM's export there (rollcall --db {db} import FILE), then point \
             each officer's rollcall at it (docs/team.md)."
        )?,
        Init::Upgraded { from, to } => {
            say!("Upgraded rollcall's schema in {db} from version {from} to {to}.")?
        }
        Init::AlreadyCurrent { version } => {
            say!("{db} already holds rollcall's schema (version {version}); nothing was changed.")?
        }
    }
    Ok(ExitCode::SUCCESS)
}
