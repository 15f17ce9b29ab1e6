//! `rollcall export`: write what staff did back for the CRM, or member lists to hand on.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;

use super::output::{note, write_output};
use super::{Ctx, parse_date};
use crate::config::Config;
use crate::domain::MemberStatus;
use crate::export::activities::{self, ExportOptions, Output};
use crate::export::members::{self, Channel, MemberFilter};
use crate::storage::stats;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(Debug, clap::Subcommand)]
pub enum What {
    /// Contact attempts, onboarding steps and escalation comments as a CiviCRM activity import
    /// CSV; each activity once, unless --since asks again
    Activities(ActivitiesArgs),
    /// A list of members to hand on, as CSV (default) or JSON
    Members(MembersArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// CiviCRM's "Import Activities" (Contact ID, Activity Type, Subject, Activity Date, ...)
    Civicrm,
}

#[derive(Debug, clap::Args)]
pub struct ActivitiesArgs {
    /// Write every activity from this date again, exported before or not
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub since: Option<NaiveDate>,
    /// The CRM's import format
    #[arg(long, value_enum, default_value = "civicrm")]
    pub format: Format,
    /// Write to this file (owner-only) instead of standard output
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only contacts from this CRM source (needed when the database holds several)
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct MembersArgs {
    /// Only this region (any case)
    #[arg(long)]
    pub region: Option<String>,
    /// Only this local party or branch (any case)
    #[arg(long)]
    pub local_party: Option<String>,
    /// Only these rollcall statuses, comma-separated: new, current, grace, expired, pending,
    /// cancelled
    #[arg(long, value_delimiter = ',', value_parser = parse_status)]
    pub status: Vec<MemberStatus>,
    /// Only members who prefer Welsh
    #[arg(long)]
    pub welsh: bool,
    /// Only memberships ending from today to this many days ahead
    #[arg(long, value_name = "DAYS")]
    pub due_within: Option<u32>,
    /// Only this membership type (any case)
    #[arg(long)]
    pub membership_type: Option<String>,
    /// A list for this channel: leaves out who may not be reached that way, keeps only the
    /// columns it needs
    #[arg(long = "for", value_enum, value_name = "CHANNEL")]
    pub channel: Option<Channel>,
    /// CSV (the default)
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// A JSON array instead of CSV
    #[arg(long)]
    pub json: bool,
    /// Write to this file (owner-only) instead of standard output
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn parse_status(s: &str) -> Result<MemberStatus, String> {
    MemberStatus::parse(s)
        .filter(|s| *s != MemberStatus::Deceased)
        .ok_or_else(|| {
            format!(
                "`{s}` is not a status; use one of new, current, grace, expired, pending, cancelled"
            )
        })
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    match args.what {
        What::Activities(a) => export_activities(ctx, a),
        What::Members(m) => export_members(ctx, m),
    }
}

fn export_activities(ctx: &Ctx, args: ActivitiesArgs) -> anyhow::Result<ExitCode> {
    let Format::Civicrm = args.format;
    let mut store = ctx.open_store()?;
    let options = ExportOptions {
        since: args.since,
        source: args.source,
        steps: stats::onboarding_steps(&Config::load_default()?)?,
    };
    let output = match args.output {
        Some(path) => Output::File(path),
        None => Output::Stdout,
    };
    let summary = activities::export(&mut store, &ctx.clock, &options, &output)?;
    let place = match &output {
        Output::File(path) => path.display().to_string(),
        Output::Stdout => "standard output".to_owned(),
    };
    note(format_args!(
        "rollcall: wrote {} activities to {place}; {} recorded as exported for the first time",
        summary.written, summary.newly_recorded
    ));
    Ok(ExitCode::SUCCESS)
}

fn export_members(ctx: &Ctx, args: MembersArgs) -> anyhow::Result<ExitCode> {
    let store = ctx.open_store_for_reading()?;
    let filter = MemberFilter {
        region: args.region,
        local_party: args.local_party,
        statuses: args.status,
        welsh: args.welsh,
        due_within: args.due_within,
        membership_type: args.membership_type,
        channel: args.channel,
    };
    let rows = members::select(&store.conn, ctx.clock.today, &filter)?;
    let bytes = if args.json {
        let mut json = serde_json::to_vec_pretty(&rows)?;
        json.push(b'\n');
        json
    } else {
        members::to_csv(&rows, args.channel)?
    };
    write_output(args.output.as_deref(), &ctx.db, &bytes)?;
    if let Some(path) = &args.output {
        note(format_args!(
            "rollcall: wrote {} members to {}",
            rows.len(),
            path.display()
        ));
    }
    Ok(ExitCode::SUCCESS)
}
