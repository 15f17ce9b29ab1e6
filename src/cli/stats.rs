//! `rollcall stats`: the Today pane's figures on the command line: what the last import changed,
//! my work for today, and the team's numbers.

mod cohorts;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use super::Ctx;
use super::output::{print, print_text};
use crate::config::Config;
use crate::domain::cohorts::CohortBy;
use crate::storage::cohorts::Split;
use crate::storage::stats::{self, Figures, ListKind, WorkContext, thousands};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the figures as one JSON object
    #[arg(long)]
    pub json: bool,
    /// Retention by join cohort instead: how many of each cohort are still members 1, 2, 3…
    /// years on, and first-year renewal against later years
    #[arg(long)]
    pub cohorts: bool,
    /// With --cohorts: cut cohorts by join year or join month
    #[arg(
        long,
        value_enum,
        value_name = "CUT",
        default_value = "join-year",
        requires = "cohorts"
    )]
    pub by: CohortBy,
    /// With --cohorts: renewal rates by region (the default) or by local party
    #[arg(
        long,
        value_enum,
        value_name = "GROUP",
        default_value = "region",
        requires = "cohorts"
    )]
    pub split: Split,
    /// With --cohorts: print CSV (formula-safe), one row per cohort and anniversary
    #[arg(long, requires = "cohorts", conflicts_with = "json")]
    pub csv: bool,
    /// With --cohorts --csv or --json: write to this file (owner-only)
    #[arg(short = 'o', long, value_name = "FILE", requires = "cohorts")]
    pub output: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    if args.cohorts {
        return cohorts::run(ctx, &args);
    }
    let store = ctx.open_store_for_reading()?;
    let config = Config::load_default()?;
    let work = WorkContext {
        today: ctx.clock.today,
        user: ctx.clock.user.clone(),
        steps: stats::onboarding_steps(&config)?,
    };
    let figures = stats::all_figures(&store.conn, &work)?;
    if args.json {
        print(&(serde_json::to_string_pretty(&figures)? + "\n"))?;
    } else {
        print_text(&render(&figures))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The figures as text, in the Today pane's order.
pub fn render(f: &Figures) -> String {
    let mut out = String::new();
    let since = &f.since_last_import;
    match &since.import {
        Some(i) => {
            let _ = writeln!(
                out,
                "Since the last import (as of {}, {})",
                i.as_of, i.file_name
            );
            for kind in ListKind::SINCE_IMPORT {
                line(&mut out, kind.label(), since.count(kind));
                if kind == ListKind::Renewed {
                    line(
                        &mut out,
                        "  of them after a contact",
                        since.renewed_after_contact,
                    );
                }
            }
            if !since.crm_changes.is_empty() {
                let said: Vec<String> = since.crm_changes.iter().map(|c| c.describe()).collect();
                let _ = writeln!(
                    out,
                    "  Changed in the CRM: {} (rollcall changes)",
                    said.join(", ")
                );
            }
        }
        None => out.push_str("Since the last import: no import yet\n"),
    }
    let _ = writeln!(out, "\nMy work ({}, {})", f.my_work.user, f.as_of);
    for kind in ListKind::MY_WORK {
        line(&mut out, kind.label(), f.my_work.count(kind));
    }
    out.push('\n');
    for l in stats::team_lines(&f.team) {
        out.push_str(&l);
        out.push('\n');
    }
    out
}

fn line(out: &mut String, label: &str, n: u64) {
    let _ = writeln!(out, "  {label:<34} {:>9}", thousands(n));
}
