//! `rollcall stats`: the Today pane's figures on the command line: what the last import changed,
//! my work for today, and the team's numbers.

use std::fmt::Write as _;
use std::process::ExitCode;

use super::Ctx;
use crate::config::Config;
use crate::storage::stats::{self, Figures, ListKind, WorkContext, percent, thousands};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the figures as one JSON object
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let store = ctx.open_store_for_reading()?;
    let config = Config::load_default()?;
    let work = WorkContext {
        today: ctx.clock.today,
        user: ctx.clock.user.clone(),
        steps: stats::onboarding_steps(&config)?,
    };
    let figures = stats::all_figures(&store.conn, &work)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&figures)?);
    } else {
        print!("{}", render(&figures));
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
            }
        }
        None => out.push_str("Since the last import: no import yet\n"),
    }
    let _ = writeln!(out, "\nMy work ({}, {})", f.my_work.user, f.as_of);
    for kind in ListKind::MY_WORK {
        line(&mut out, kind.label(), f.my_work.count(kind));
    }
    let t = &f.team;
    let _ = writeln!(out, "\nMemberships by status (as of {})", t.as_of);
    for s in &t.by_status {
        line(&mut out, s.status.label(), s.memberships);
    }
    let _ = writeln!(
        out,
        "\nMembers: {} people holding {} memberships that count\n\nMembers by region",
        thousands(t.members),
        thousands(t.member_memberships)
    );
    for a in &t.by_region {
        line(&mut out, or_none(&a.region), a.members);
    }
    out.push_str("\nMembers by local party\n");
    for a in &t.by_local_party {
        let name = format!("{} / {}", or_none(&a.region), or_none(&a.local_party));
        line(&mut out, &name, a.members);
    }
    out.push_str("\nMonth    Joined   Left    Due  Renewed in grace   Rate  Won back\n");
    for m in &t.months {
        let _ = writeln!(
            out,
            "{} {:>7} {:>6} {:>6} {:>17} {:>6}{} {:>8}",
            m.month,
            thousands(m.joiners),
            thousands(m.leavers),
            thousands(m.due),
            thousands(m.renewed_in_grace),
            percent(m.renewal_rate),
            if m.provisional { "*" } else { " " },
            thousands(m.won_back),
        );
    }
    let _ = writeln!(
        out,
        "* provisional: the month's grace period has not ended yet\n\
         Lapsed members won back after a contact, last 12 months: {}",
        thousands(t.won_back)
    );
    out
}

fn line(out: &mut String, label: &str, n: u64) {
    let _ = writeln!(out, "  {label:<34} {:>9}", thousands(n));
}

fn or_none(s: &str) -> &str {
    if s.is_empty() { "(none)" } else { s }
}
