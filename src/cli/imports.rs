//! `rollcall imports`: list past imports with their counts and rejected rows.

use std::fmt::Write as _;
use std::process::ExitCode;

use super::Ctx;
use super::output::{print, print_text};
use crate::storage::import_runs::{self as runs, ImportRun};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON: an array of runs, newest first, each with all its rejected rows
    #[arg(long)]
    pub json: bool,
    /// How many runs to list, newest first
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
    /// Show one run, with every rejected row
    #[arg(long, value_name = "ID")]
    pub id: Option<i64>,
}

/// Rejected rows shown per run in the list (all of them with --id).
const REJECTS_SHOWN: usize = 5;

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let store = ctx.open_store_for_reading()?;
    let runs = runs::list(&store.conn, args.limit, args.id)?;
    if args.json {
        print(format!("{}\n", serde_json::to_string_pretty(&runs)?))?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(id) = args.id
        && runs.is_empty()
    {
        anyhow::bail!("--id {id}: no import with that id; `rollcall imports` lists them");
    }
    if runs.is_empty() {
        print_text("No imports yet. Bring in a CRM export with `rollcall import FILE`.\n")?;
        return Ok(ExitCode::SUCCESS);
    }
    let shown = if args.id.is_some() {
        usize::MAX
    } else {
        REJECTS_SHOWN
    };
    let text: String = runs.iter().map(|run| run_text(run, shown)).collect();
    print_text(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn run_text(run: &ImportRun, rejects_shown: usize) -> String {
    let mut s = String::new();
    let when = run.started_at.replacen('T', " ", 1);
    let _ = writeln!(
        s,
        "#{} {} by {} (as of {}): {}",
        run.id, when, run.staff, run.as_of, run.file
    );
    let _ = writeln!(
        s,
        "    {} profile, source {}, {}, dates {}; {} rows",
        run.profile, run.source, run.encoding, run.date_order, run.rows_read
    );
    let c = &run.contacts;
    let m = &run.memberships;
    let _ = writeln!(
        s,
        "    contacts {} inserted, {} updated, {} unchanged; memberships {} inserted, {} updated, \
         {} unchanged",
        c.inserted, c.updated, c.unchanged, m.inserted, m.updated, m.unchanged
    );
    let _ = writeln!(
        s,
        "    {} renewed, {} missing from the export, {} back; {} rejected{}",
        m.renewed,
        m.missing_from_export,
        m.back_in_export,
        run.rejected,
        if run.skipped_erased > 0 {
            format!(", {} erased skipped", run.skipped_erased)
        } else {
            String::new()
        }
    );
    for e in run.rejects.iter().take(rejects_shown) {
        let _ = writeln!(s, "      line {}: {}", e.line, e.reason);
    }
    if run.rejects.len() > rejects_shown {
        let _ = writeln!(
            s,
            "      ...and {} more (rollcall imports --id {})",
            run.rejects.len() - rejects_shown,
            run.id
        );
    }
    s
}
