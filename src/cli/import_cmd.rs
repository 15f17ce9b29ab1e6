//! `rollcall import`: bring the database into step with CRM export files.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Ctx;
use super::output::{is_closed_pipe, note, print, print_text};
use crate::import::{
    DateOrder, ImportOptions, ImportReport, Progress, StrictRejected, import_file,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Export files, imported one after another, each in its own transaction
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Which layout: auto (detect from the headers), civicrm, nationbuilder, actionnetwork, or
    /// the path of a TOML mapping file
    #[arg(long, value_name = "PROFILE", default_value = "auto")]
    pub profile: String,
    /// Which CRM instance the file comes from [default: the profile's name]
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// Read slash dates day-first (15/06/2026) or month-first (06/15/2026) [default: decided
    /// from the file; day-first when ambiguous]
    #[arg(long, value_enum, value_name = "ORDER")]
    pub date_order: Option<DateOrderArg>,
    /// Do everything except write: see what the import would change
    #[arg(long)]
    pub dry_run: bool,
    /// Any rejected row: write nothing and exit non-zero
    #[arg(long)]
    pub strict: bool,
    /// The file is part of an export: do not flag memberships absent from it
    #[arg(long)]
    pub partial: bool,
    /// Import people erased with `rollcall forget` (normally skipped)
    #[arg(long)]
    pub allow_erased: bool,
    /// Import the file even though it looks older than what the database holds (end dates
    /// moving back, the last import's joiners absent); without it such a file is refused
    #[arg(long)]
    pub older_export: bool,
    /// Print only JSON: one object for one file, an array for several
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DateOrderArg {
    Dmy,
    Mdy,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let cancel = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&cancel))
            .context("cannot listen for Ctrl-C")?;
    }
    let options = ImportOptions {
        profile: args.profile.clone(),
        source: args.source.clone(),
        date_order: args.date_order.map(|o| match o {
            DateOrderArg::Dmy => DateOrder::Dmy,
            DateOrderArg::Mdy => DateOrder::Mdy,
        }),
        dry_run: args.dry_run,
        strict: args.strict,
        allow_erased: args.allow_erased,
        partial: args.partial,
        older_export: args.older_export,
    };
    let mut store = ctx.open_store()?;
    let mut reports = Vec::new();
    let mut failed = false;
    for path in &args.files {
        let bar = progress_bar();
        let started = Instant::now();
        let result = import_file(
            &mut store,
            &ctx.clock,
            path,
            &options,
            &mut |p| show_progress(&bar, p, started),
            &cancel,
        );
        bar.finish_and_clear();
        let report = match result {
            Ok(report) => report,
            Err(e) => match e.downcast::<StrictRejected>() {
                Ok(StrictRejected(report)) => {
                    failed = true;
                    report
                }
                Err(e) => {
                    if args.json && !reports.is_empty() {
                        print_json(&reports)?;
                    }
                    return Err(e);
                }
            },
        };
        if !args.json {
            let summary = summary_text(&report, &ctx.db_path.display().to_string());
            unless_closed_pipe(print_text(&summary))?;
        }
        reports.push(report);
        if failed {
            break;
        }
    }
    if args.json {
        print_json(&reports)?;
    }
    if failed {
        let last = reports.last().expect("a report");
        note(format_args!(
            "rollcall: error: {}: {} rejected row(s) under --strict; nothing was changed",
            last.file, last.rejected
        ));
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn print_json(reports: &[ImportReport]) -> anyhow::Result<()> {
    let json = match reports {
        [one] => serde_json::to_string_pretty(one)?,
        many => serde_json::to_string_pretty(many)?,
    };
    unless_closed_pipe(print(format!("{json}\n")))
}

/// A closed pipe does not stop the import: the files are the work, the report only what a
/// reader may take.
fn unless_closed_pipe(printed: anyhow::Result<()>) -> anyhow::Result<()> {
    match printed {
        Err(e) if is_closed_pipe(&e) => Ok(()),
        other => other,
    }
}

/// A progress bar on a terminal; nothing at all otherwise.
fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {percent:>3}% {bytes}/{total_bytes}  {msg}")
            .expect("valid template"),
    );
    bar
}

fn show_progress(bar: &ProgressBar, p: Progress, started: Instant) {
    if bar.is_hidden() {
        return;
    }
    let seconds = started.elapsed().as_secs_f64().max(0.001);
    bar.set_length(p.bytes_total);
    bar.set_position(p.bytes_done);
    bar.set_message(format!(
        "{} rows, {:.0} rows/s",
        p.rows,
        p.rows as f64 / seconds
    ));
}

/// The columns no field read, by name when the report has them.
fn not_imported_line(report: &ImportReport) -> Option<String> {
    let n = report.columns_not_imported_count;
    if n == 0 {
        return None;
    }
    let names = &report.columns_not_imported;
    Some(if names.is_empty() {
        format!(
            "{n} column(s) not imported (not named: the header line may hold a member's details)"
        )
    } else {
        let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
        format!("{n} column(s) not imported: {}", quoted.join(", "))
    })
}

/// The human summary of one import.
pub fn summary_text(report: &ImportReport, db: &str) -> String {
    let mut s = String::new();
    let what = if report.committed {
        "Imported"
    } else if report.dry_run {
        "Dry run (nothing written):"
    } else {
        "Not imported (--strict):"
    };
    let _ = writeln!(s, "{what} {} into {db}", report.file);
    let detected = if report.profile_detected {
        " (detected from the headers)"
    } else {
        ""
    };
    let _ = writeln!(
        s,
        "  profile      {}{detected}, source {}",
        report.profile, report.source
    );
    let _ = writeln!(
        s,
        "  encoding     {}, delimiter {}",
        report.encoding, report.delimiter
    );
    let order = match report.date_order {
        DateOrder::Iso => "ISO (YYYY-MM-DD)",
        DateOrder::Dmy => "day first (dd/mm/yyyy)",
        DateOrder::Mdy => "month first (mm/dd/yyyy)",
    };
    let _ = writeln!(s, "  date order   {order}");
    if report.title_lines_skipped > 0 {
        let _ = writeln!(
            s,
            "  title        {} line(s) above the header skipped",
            report.title_lines_skipped
        );
    }
    let _ = writeln!(s, "  rows read    {}", report.rows_read);
    if let Some(line) = not_imported_line(report) {
        let _ = writeln!(s, "  not read     {line}");
    }
    let c = &report.contacts;
    let _ = writeln!(
        s,
        "  contacts     {} inserted, {} updated, {} unchanged",
        c.inserted, c.updated, c.unchanged
    );
    let m = &report.memberships;
    let _ = writeln!(
        s,
        "  memberships  {} inserted, {} updated, {} unchanged",
        m.inserted, m.updated, m.unchanged
    );
    let _ = writeln!(s, "  renewals     {} detected", m.renewed);
    match &report.missing_check_skipped {
        Some(reason) => {
            let _ = writeln!(s, "  missing      not checked: {reason}");
        }
        None => {
            let _ = writeln!(
                s,
                "  missing      {} newly missing from the export (flagged), {} still missing, \
                 {} back",
                m.missing_from_export, m.still_missing, m.back_in_export
            );
        }
    }
    if report.skipped_erased > 0 {
        let _ = writeln!(
            s,
            "  erased       {} row(s) of people erased with `rollcall forget` skipped",
            report.skipped_erased
        );
    }
    if report.duplicate_rows > 0 {
        let _ = writeln!(
            s,
            "  duplicates   {} row(s) repeated a membership already read",
            report.duplicate_rows
        );
    }
    let _ = writeln!(s, "  rejected     {} row(s)", report.rejected);
    const SHOWN: usize = 10;
    for e in report.errors.iter().take(SHOWN) {
        let _ = writeln!(s, "    line {}: {}", e.line, e.reason);
    }
    if report.errors.len() > SHOWN {
        let more = report.errors.len() - SHOWN;
        let see = match report.import_id {
            Some(id) => format!("rollcall imports --id {id}"),
            None => "--json".to_owned(),
        };
        let _ = writeln!(s, "    ...and {more} more ({see} lists them all)");
    }
    let _ = writeln!(
        s,
        "  elapsed      {:.2} s",
        report.elapsed_ms as f64 / 1000.0
    );
    if report.changed_nothing() && report.rejected == 0 {
        let _ = writeln!(
            s,
            "Nothing changed: the database already matched this file."
        );
    }
    s
}
