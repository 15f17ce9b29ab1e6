//! `rollcall team`: setting up a shared PostgreSQL database for a team (docs/team.md).

use std::process::ExitCode;

use anyhow::bail;

use super::context::Ctx;
use super::output::{print, say};
use crate::domain::staff::{Role, Scope};
use crate::storage::staff::{self, NewStaff};
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
    /// Put someone on the staff list (only an admin can; the first one added must be an admin)
    AddStaff {
        /// Their login: lower-case letters, digits, '.', '_', '-' (for example ann.jones)
        login: String,
        /// Their full name, as colleagues know them
        #[arg(long)]
        name: String,
        #[command(flatten)]
        role: RoleArgs,
    },
    /// List the staff: login, name, role, and an organiser's regions and local parties
    Staff {
        /// Also list those who were removed (their changes still carry their login)
        #[arg(long)]
        all: bool,
        /// Print a JSON array instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Give a staff member another role (only an admin can; the last admin stays one)
    SetRole {
        login: String,
        #[command(flatten)]
        role: RoleArgs,
    },
    /// Take someone off the staff list; their history stays attributed to them
    RemoveStaff { login: String },
}

#[derive(Debug, clap::Args)]
pub struct RoleArgs {
    /// admin, coordinator, officer, organiser or viewer
    #[arg(long, value_parser = Role::parse)]
    role: Role,
    /// An organiser's region, as the members' records spell it (repeat for more)
    #[arg(long = "region", value_name = "REGION")]
    regions: Vec<String>,
    /// An organiser's local party (repeat for more)
    #[arg(long = "local-party", value_name = "PARTY")]
    local_parties: Vec<String>,
}

impl RoleArgs {
    fn scope(&self) -> Scope {
        Scope {
            regions: self.regions.clone(),
            local_parties: self.local_parties.clone(),
        }
    }
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        TeamCommand::Init => init(ctx),
        TeamCommand::AddStaff { login, name, role } => {
            let mut store = ctx.open_store()?;
            let new = NewStaff {
                login,
                name,
                role: role.role,
                scope: role.scope(),
            };
            let scope = staff::add(&mut store, &ctx.clock, &new)?;
            say!(
                "Added {} ({}) as {}{}.",
                new.login,
                new.name.trim(),
                new.role,
                scope_words(&scope)
            )?;
            Ok(ExitCode::SUCCESS)
        }
        TeamCommand::Staff { all, json } => list(ctx, all, json),
        TeamCommand::SetRole { login, role } => {
            let mut store = ctx.open_store()?;
            let (before, scope) =
                staff::set_role(&mut store, &ctx.clock, &login, role.role, &role.scope())?;
            say!(
                "{login} is now {} (was {before}){}.",
                role.role,
                scope_words(&scope)
            )?;
            Ok(ExitCode::SUCCESS)
        }
        TeamCommand::RemoveStaff { login } => {
            let mut store = ctx.open_store()?;
            staff::remove(&mut store, &ctx.clock, &login)?;
            say!(
                "Removed {login} from the staff list; their past changes still name them, and \
                 work assigned to them stays so until it is reassigned."
            )?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn scope_words(scope: &Scope) -> String {
    let names: Vec<&str> = scope
        .regions
        .iter()
        .chain(&scope.local_parties)
        .map(String::as_str)
        .collect();
    if names.is_empty() {
        String::new()
    } else {
        format!(" for {}", names.join(", "))
    }
}

fn list(ctx: &Ctx, all: bool, json: bool) -> anyhow::Result<ExitCode> {
    let store = ctx.open_store_for_reading()?;
    let staff = staff::list(&store.conn, all)?;
    if json {
        print(&(serde_json::to_string_pretty(&staff)? + "\n"))?;
        return Ok(ExitCode::SUCCESS);
    }
    if staff.is_empty() {
        say!(
            "Nobody is on the staff list yet, so work can be assigned to any name. An admin \
             starts it: rollcall --user LOGIN team add-staff LOGIN --name \"…\" --role admin"
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    say!(
        "{:<16} {:<24} {:<12} {:<28} {}",
        "LOGIN",
        "NAME",
        "ROLE",
        "WORKS ON",
        "ADDED"
    )?;
    for s in &staff {
        let works_on = scope_words(&s.scope);
        let works_on = works_on.strip_prefix(" for ").unwrap_or("everyone");
        let added = match &s.removed_at {
            None => format!(
                "{} by {}",
                &s.added_at[..s.added_at.len().min(10)],
                s.added_by
            ),
            Some(at) => format!("removed {}", &at[..at.len().min(10)]),
        };
        say!(
            "{:<16} {:<24} {:<12} {:<28} {}",
            s.login,
            crate::text::ellipsize(&s.name, 24),
            s.role,
            crate::text::ellipsize(works_on, 28),
            added
        )?;
    }
    Ok(ExitCode::SUCCESS)
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
