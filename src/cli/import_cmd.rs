//! `rollcall import`: bring the database into step with CRM export files.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Ctx;
use super::output::{is_closed_pipe, note, print, print_text};
use crate::import::{
    DateOrder, ImportOptions, ImportReport, Progress, StrictRejected, import_file,
};
use crate::storage::{Store, explain_anyhow};
use crate::text::error_text;

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
    /// Which sheet of a spreadsheet (.xlsx, .xls, .ods) to read [default: the first]
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// Print only JSON: one object for one file, an array for several (failures included, with
    /// their `error`)
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
        sheet: args.sheet.clone(),
    };
    let existed = ctx.db_file().is_none_or(database_exists);
    // A dry run on a database that does not exist yet works on a private in-memory one, so it
    // leaves no file behind (docs/import.md, "No leftovers").
    let mut store = if args.dry_run && !existed && !ctx.read_only {
        Store::open_in_memory()?
    } else {
        ctx.open_store()?
    };
    let mut outcomes = Vec::new();
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
        )
        .map_err(|e| lost_connection_said(path, explain_anyhow(&ctx.db.shown(), e)));
        bar.finish_and_clear();
        let outcome = FileOutcome::of(path, result);
        if !args.json {
            outcome.tell(&ctx.db.to_string())?;
        }
        outcomes.push(outcome);
        if cancel.load(Ordering::SeqCst) {
            break; // Ctrl-C stops the whole command, not just this file.
        }
    }
    let committed = outcomes.iter().any(FileOutcome::committed);
    if committed && let Err(e) = crate::search::disk::refresh(&store, ctx.clock.today) {
        // The import stands; search rebuilds the index itself when it finds it out of date.
        note(format!("The search index was not saved: {e:#}"));
    }
    drop(store);
    if !existed
        && !committed
        && let Some(file) = ctx.db_file()
    {
        remove_created_database(file);
    }
    if args.json {
        print_json(&outcomes)?;
    }
    if outcomes.iter().any(FileOutcome::failed) {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// An import whose team database connection went away rolled back with it (one transaction):
/// say that, not only the server's words.
fn lost_connection_said(path: &Path, e: anyhow::Error) -> anyhow::Error {
    if !crate::storage::sql::lost_connection_in(&e) {
        return e;
    }
    anyhow::anyhow!(
        "{}: the connection to the team database was lost during the import, so nothing of \
         this file was imported; try again when the database is reachable ({})",
        path.display(),
        error_text(&e)
    )
}

/// What became of one file: its report, its error, or both (`--strict` refused it).
struct FileOutcome {
    file: String,
    report: Option<ImportReport>,
    error: Option<anyhow::Error>,
}

impl FileOutcome {
    fn of(path: &Path, result: anyhow::Result<ImportReport>) -> FileOutcome {
        let file = path.display().to_string();
        match result {
            Ok(report) => FileOutcome {
                file,
                report: Some(report),
                error: None,
            },
            Err(e) => match e.downcast::<StrictRejected>() {
                Ok(StrictRejected(report)) => FileOutcome {
                    file,
                    error: Some(anyhow::anyhow!(
                        "{}: {} rejected row(s) under --strict; nothing was changed",
                        report.file,
                        report.rejected
                    )),
                    report: Some(report),
                },
                Err(e) => FileOutcome {
                    file,
                    report: None,
                    error: Some(e),
                },
            },
        }
    }

    fn failed(&self) -> bool {
        self.error.is_some()
    }

    fn committed(&self) -> bool {
        self.report.as_ref().is_some_and(|r| r.committed)
    }

    /// The human report: the summary, then the error on standard error.
    fn tell(&self, db: &str) -> anyhow::Result<()> {
        if let Some(report) = &self.report {
            unless_closed_pipe(print_text(&summary_text(report, db)))?;
        }
        if let Some(e) = &self.error {
            note(format_args!("rollcall: error: {}", error_text(e)));
        }
        Ok(())
    }

    /// The `--json` object: the report (when there is one) with `error` beside it on failure.
    fn to_json(&self) -> anyhow::Result<serde_json::Value> {
        let mut object = match &self.report {
            Some(report) => serde_json::to_value(report)?,
            None => serde_json::json!({ "file": self.file, "committed": false }),
        };
        if let (Some(e), Some(map)) = (&self.error, object.as_object_mut()) {
            map.insert("error".into(), error_text(e).into());
        }
        Ok(object)
    }
}

fn database_exists(db: &Path) -> bool {
    std::fs::symlink_metadata(db).is_ok()
}

/// Removes the database this command created and its SQLite companions, when no file was
/// imported into it: a refused import leaves nothing behind.
fn remove_created_database(db: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let path = PathBuf::from(format!("{}{suffix}", db.display()));
        let _ = std::fs::remove_file(path);
    }
}

fn print_json(outcomes: &[FileOutcome]) -> anyhow::Result<()> {
    let objects = outcomes
        .iter()
        .map(FileOutcome::to_json)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let json = match objects.as_slice() {
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
    if let Some(line) = report.title_line() {
        let _ = writeln!(s, "  title        {line}");
    }
    let _ = writeln!(s, "  rows read    {}", report.rows_read);
    if let Some(line) = report.not_imported_line() {
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
    if report.kept_resave_damaged > 0 {
        let _ = writeln!(
            s,
            "  kept         {} name(s) that a re-save had damaged (a `?` in the file where the \
             database has a letter Windows-1252 lacks); save the export as UTF-8",
            report.kept_resave_damaged
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
