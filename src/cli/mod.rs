//! The command line: global options, subcommands, and the context every command runs in.
//!
//! Each subcommand lives in its own file with its `Args` and a `run` function, so the commands
//! stay small and the dispatch below stays a table.

mod audit;
mod changes;
mod context;
mod demo;
mod drift;
mod duplicates;
mod escalate;
mod escalations;
mod export;
mod forget;
mod generate;
mod import_cmd;
mod imports;
mod letters;
mod member;
mod onboarding;
mod output;
pub mod quiet_panic;
mod renewals;
mod retention;
mod search;
mod stats;
mod subject_access;
mod team;

pub use context::{Ctx, config_dir, data_dir};

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Parser, Subcommand};

/// A keyboard-driven workbench for membership teams, on a local copy of the CRM.
#[derive(Debug, Parser)]
#[command(name = "rollcall", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// The database: a file, or a team's postgresql:// URI [default: store.url in config.toml,
    /// else rollcall.db in the platform data directory]
    // hide_env_values: `--help` would otherwise print ROLLCALL_DB, password and all.
    #[arg(
        long,
        global = true,
        env = "ROLLCALL_DB",
        value_name = "PATH|URI",
        hide_env_values = true
    )]
    pub db: Option<PathBuf>,
    /// The as-of date every date rule works to [default: the real date]
    #[arg(long, global = true, env = "ROLLCALL_TODAY", value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub today: Option<NaiveDate>,
    /// The staff member recorded on changes [default: the OS user]
    #[arg(long, global = true, env = "ROLLCALL_USER", value_name = "NAME", value_parser = parse_user)]
    pub user: Option<String>,
    /// Look, don't touch: every write is refused
    // Boolish, so that ROLLCALL_READ_ONLY=1 (or yes/on) works as people write it.
    #[arg(long, global = true, env = "ROLLCALL_READ_ONLY",
          action = clap::ArgAction::SetTrue,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub read_only: bool,
    /// Make the database files owner-only (0600) if other users can read them
    #[arg(long, global = true)]
    pub fix_permissions: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Bring the database into step with CRM export files
    Import(import_cmd::Args),
    /// List past imports with their counts and rejected rows
    Imports(imports::Args),
    /// Write a realistic synthetic CRM export to stdout or a file (-o)
    Generate(generate::Args),
    /// Build a demo database from a generated export and open the app on it
    Demo(demo::Args),
    /// Everything rollcall holds on one contact: what an import stored, and staff's records
    Member(member::Args),
    /// Find members, as the app's search does
    Search(search::Args),
    /// The renewals queue: who is due and who has lapsed
    Renewals(renewals::Args),
    /// The onboarding queue: new members and their steps
    Onboarding(onboarding::Args),
    /// List escalations
    Escalations(escalations::Args),
    /// Open an escalation from a script and print its id
    Escalate(escalate::Args),
    /// Team figures: members, joiners and leavers, renewal rate
    Stats(stats::Args),
    /// Write activities back for the CRM, or member lists to hand on
    Export(export::Args),
    /// The audit trail of changes made in rollcall
    Audit(audit::Args),
    /// What imports saw change in the CRM's fields: moves, bouncing emails, local parties
    Changes(changes::Args),
    /// Memberships whose CRM status disagrees with their dates, for the CRM to fix
    Drift(drift::Args),
    /// Contacts that are probably one person, and overlapping memberships, for the CRM's merge
    Duplicates(duplicates::Args),
    /// Erase a person completely (a data protection erasure request)
    Forget(forget::Args),
    /// Everything rollcall holds on a person, for a subject access request
    SubjectAccess(subject_access::Args),
    /// Who the retention rule would erase; erase them with --apply
    Retention(retention::Args),
    /// Renewal, win-back and welcome letters (PDF) or emails (CSV), in each member's language
    Letters(letters::Args),
    /// Set up a shared PostgreSQL database for a team
    Team(team::Args),
}

/// Parses the arguments and runs the command; the binary's whole `main`.
pub fn main() -> ExitCode {
    quiet_panic::install();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        // The reader of our output stopped early: see `output` for why this is no failure.
        Err(err) if output::is_closed_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            output::note(format_args!(
                "rollcall: error: {}",
                crate::text::error_text(&err)
            ));
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let ctx = Ctx::from_args(&cli.global)?;
    if cli.command.is_some() {
        // Not in the app: its screen is the terminal.
        crate::storage::on_long_wait(|| {
            output::note(
                "rollcall: waiting for another rollcall process to finish writing to the database…",
            )
        });
    }
    // A database failure is said with the file it happened to (`demo` has a database of its own,
    // which its errors name).
    let on_the_database = !matches!(cli.command, Some(Command::Demo(_)));
    dispatch(&ctx, cli.command).map_err(|e| {
        if on_the_database {
            crate::storage::explain_anyhow(&ctx.db.shown(), e)
        } else {
            e
        }
    })
}

fn dispatch(ctx: &Ctx, command: Option<Command>) -> anyhow::Result<ExitCode> {
    match command {
        None => crate::app::run(ctx),
        Some(command) => match command {
            Command::Import(args) => import_cmd::run(ctx, args),
            Command::Imports(args) => imports::run(ctx, args),
            Command::Generate(args) => generate::run(ctx, args),
            Command::Demo(args) => demo::run(ctx, args),
            Command::Member(args) => member::run(ctx, args),
            Command::Search(args) => search::run(ctx, args),
            Command::Renewals(args) => renewals::run(ctx, args),
            Command::Onboarding(args) => onboarding::run(ctx, args),
            Command::Escalations(args) => escalations::run(ctx, args),
            Command::Escalate(args) => escalate::run(ctx, args),
            Command::Stats(args) => stats::run(ctx, args),
            Command::Export(args) => export::run(ctx, args),
            Command::Audit(args) => audit::run(ctx, args),
            Command::Changes(args) => changes::run(ctx, args),
            Command::Drift(args) => drift::run(ctx, args),
            Command::Duplicates(args) => duplicates::run(ctx, args),
            Command::Forget(args) => forget::run(ctx, args),
            Command::SubjectAccess(args) => subject_access::run(ctx, args),
            Command::Retention(args) => retention::run(ctx, args),
            Command::Letters(args) => letters::run(ctx, args),
            Command::Team(args) => team::run(ctx, args),
        },
    }
}

/// `--today` and dates in other options: ISO only, so a command line is never ambiguous.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a date; write it as YYYY-MM-DD, e.g. 2026-11-23"))
}

fn parse_user(s: &str) -> Result<String, String> {
    crate::domain::check_staff_name(s)
        .map(str::to_owned)
        .map_err(str::to_owned)
}
