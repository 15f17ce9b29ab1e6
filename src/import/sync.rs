//! The writing side of an import: brings contacts and memberships into step with the file in one
//! transaction, records what changed as membership events, and records the run.
//!
//! Rules:
//! - Contacts are matched on (source, CRM contact id), memberships on (source, sync key): the
//!   CRM's membership id, or the contact id and membership type when the CRM gives no id. Matched
//!   rows are updated in place, so rollcall's own records (attempts, notes, escalations…) keep
//!   pointing at them. Rollcall-owned tables are never written.
//! - Each row carries a hash of its CRM fields; a row whose hash equals the stored one is
//!   "unchanged" and not written at all, which is what makes a re-import cheap.
//! - Events: `joined` (a membership new to a source that had already been imported), `renewed`
//!   (the end date moved forward; credited by the rule in `storage::renewals::credit_condition`),
//!   `status_changed` (the CRM's status text changed), `missing` (absent from a full export),
//!   `returned` (back after being missing). A source's first import is the baseline and records
//!   no `joined` events: those memberships were not joined today.
//! - A membership absent from a full export is flagged (`missing_since`), never deleted. Not for
//!   `--partial` files, files without membership columns or membership rows, or files with
//!   rejected rows that could not be matched to a membership.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, sync_channel};
use std::time::Instant;

use crate::storage::sql::TransactionBehavior;
use crate::storage::{import_runs, import_sqlite};
use anyhow::{Context, Result, anyhow, bail};

use super::decode::{self, ExportFile, TextEncoding};
use super::profile::NotImported;
use super::reader::{self, Message, OpenExport};
use super::row::RAGGED;
use super::sheet::{self, Sheet};
use super::writer::{ImportSink, Writer};
use super::{ContactCounts, DateOrder, ImportOptions, ImportReport, MembershipCounts, Progress};
use crate::Clock;
use crate::storage::import_postgres::{self, PgSink};
use crate::storage::import_sqlite::SqliteSink;
use crate::storage::sql::Engine;
use crate::storage::{Store, test_hook};

/// The key under which `rollcall forget` records an erased contact: lowercase hex SHA-256 of
/// `source + "\u{1f}" + crm_id`. The database keeps no trace of who it was, yet a later import
/// can still recognise and skip them.
pub use crate::storage::erase::erased_key_hash;

/// Returned (as the error) when `--strict` refused a file with rejected rows. Carries the report
/// so the caller can show every rejected line.
#[derive(Debug)]
pub struct StrictRejected(pub ImportReport);

impl std::fmt::Display for StrictRejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} rejected row(s) under --strict; nothing was changed",
            self.0.file, self.0.rejected
        )
    }
}

impl std::error::Error for StrictRejected {}

/// The message when the cancel flag stopped an import.
pub const CANCELLED: &str = "import cancelled; nothing was changed";

/// Dates turned out month-first after the writer had started: run again with the order fixed.
#[derive(Debug)]
struct RestartMonthFirst;

impl std::fmt::Display for RestartMonthFirst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("restart with month-first dates")
    }
}

impl std::error::Error for RestartMonthFirst {}

pub fn import(
    store: &mut Store,
    clock: &Clock,
    path: &Path,
    options: &ImportOptions,
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<ImportReport> {
    store.ensure_writable("importing an export")?;
    let started = Instant::now();
    let export = ExportFile::open(path)?;
    let cannot_read = || format!("{}: cannot read the file", path.display());
    let layout = match sheet::read_if_spreadsheet(path, &export, options.sheet.as_deref())? {
        Some(sheet) => Layout::Sheet(sheet),
        None => {
            let encoding = decode::sniff_encoding(&export).with_context(cannot_read)?;
            Layout::Text {
                encoding,
                delimiter: decode::sniff_delimiter(&export, encoding).with_context(cannot_read)?,
            }
        }
    };
    let file = FileFacts {
        path,
        size: export.size(),
        layout,
        export,
    };
    let mut date_order = options.date_order;
    loop {
        match attempt(
            store, clock, &file, options, date_order, progress, cancel, started,
        ) {
            Err(e) if e.is::<RestartMonthFirst>() => date_order = Some(DateOrder::Mdy),
            other => return other,
        }
    }
}

/// Names the columns the import did not read, unless the header line may hold a member's
/// details: not clean, or rows rejected for their number of fields (a row run into the header).
fn report_not_imported(report: &mut ImportReport, not_imported: NotImported) {
    let ragged = report.errors.iter().any(|e| e.reason.contains(RAGGED));
    match not_imported {
        NotImported::Named(names) if !ragged => {
            report.columns_not_imported_count = names.len() as u64;
            report.columns_not_imported = names;
        }
        NotImported::Named(names) => report.columns_not_imported_count = names.len() as u64,
        NotImported::Counted(n) => report.columns_not_imported_count = n as u64,
    }
}

struct FileFacts<'p> {
    path: &'p Path,
    /// The one handle every pass over the file reads.
    export: ExportFile,
    size: u64,
    layout: Layout,
}

/// How the file holds its records.
enum Layout {
    Text {
        encoding: TextEncoding,
        delimiter: u8,
    },
    /// A spreadsheet's sheet, read whole; each attempt reads its own copy of the records.
    Sheet(Sheet),
}

impl FileFacts<'_> {
    fn open(&self, options: &ImportOptions, date_order: Option<DateOrder>) -> Result<OpenExport> {
        match &self.layout {
            Layout::Text {
                encoding,
                delimiter,
            } => OpenExport::open(
                self.path,
                &self.export,
                *encoding,
                *delimiter,
                &options.profile,
                date_order,
            ),
            Layout::Sheet(sheet) => OpenExport::from_sheet(
                self.path,
                sheet.clone(),
                self.size,
                &options.profile,
                date_order,
            ),
        }
    }

    /// The report's `encoding` and `delimiter`.
    fn labels(&self) -> (String, String) {
        match &self.layout {
            Layout::Text {
                encoding,
                delimiter,
            } => (
                encoding.label().to_owned(),
                decode::delimiter_label(*delimiter).to_owned(),
            ),
            Layout::Sheet(sheet) => (sheet.label.clone(), "none (spreadsheet cells)".to_owned()),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn attempt(
    store: &mut Store,
    clock: &Clock,
    file: &FileFacts<'_>,
    options: &ImportOptions,
    date_order: Option<DateOrder>,
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
    started: Instant,
) -> Result<ImportReport> {
    let export = file.open(options, date_order)?;
    let source = options
        .source
        .clone()
        .unwrap_or_else(|| export.profile.default_source.clone());
    if source.trim().is_empty() {
        bail!("--source: the source name must not be empty");
    }
    let has_membership_columns = export.map().has_memberships;
    let not_imported = export.map().not_imported();
    let profile_name = export.profile.name.clone();
    let (encoding, delimiter) = file.labels();
    let mut report = ImportReport {
        file: file.path.display().to_string(),
        profile: profile_name.clone(),
        profile_detected: export.detected,
        source: source.clone(),
        encoding,
        delimiter,
        date_order: DateOrder::Iso,
        title_lines_skipped: export.title_lines,
        rows_read: 0,
        contacts: ContactCounts::default(),
        memberships: MembershipCounts::default(),
        rejected: 0,
        skipped_erased: 0,
        duplicate_rows: 0,
        kept_resave_damaged: 0,
        errors: Vec::new(),
        columns_not_imported: Vec::new(),
        columns_not_imported_count: 0,
        missing_check_skipped: None,
        latest_joiners: None,
        dry_run: options.dry_run,
        committed: false,
        elapsed_ms: 0,
        import_id: None,
    };

    let on_sqlite = store.conn.engine() == Engine::Sqlite;
    let sqlite_setup = if on_sqlite {
        Some(import_sqlite::SqliteSetup::begin(
            &store.conn,
            options.dry_run,
        )?)
    } else {
        None
    };
    let result = (|| {
        let tx = store
            .conn
            // SQLite: the write lock for the whole import. PostgreSQL: a plain transaction, so
            // officers' writes go on beside it; the import lock below keeps imports one at a
            // time, and row locks do the rest.
            .transaction_with_behavior(if on_sqlite {
                TransactionBehavior::Immediate
            } else {
                TransactionBehavior::Deferred
            })?;
        if !on_sqlite {
            // One import at a time per database; it waits for the one running.
            // The CLI's notice ("waiting for another rollcall process…"); none in the app.
            import_postgres::lock_for_import(
                &tx,
                import_postgres::IMPORT_LOCK_WAIT,
                crate::storage::notify_long_wait,
            )?;
        }
        let run_id = import_runs::insert_run(
            &tx,
            clock,
            file.path,
            file.size,
            &file.labels().0,
            &profile_name,
            &source,
        )?;
        test_hook::hold("begun");
        let suspended = if on_sqlite {
            import_sqlite::suspend_indexes(&tx)?
        } else {
            import_postgres::suspend_for_first_load(&tx)?
        };
        let sha256 = {
            let today = clock.today.format("%Y-%m-%d").to_string();
            let sink: Box<dyn ImportSink + '_> = match tx.sqlite() {
                Some(sqlite) => Box::new(SqliteSink::new(
                    sqlite,
                    &source,
                    run_id,
                    today,
                    clock.now_rfc3339(),
                )?),
                None => Box::new(PgSink::new(
                    &tx,
                    &source,
                    run_id,
                    today,
                    clock.now_rfc3339(),
                )?),
            };
            let mut writer = Writer::new(sink, &source, run_id, options.allow_erased)?;
            writer.reserve_for(file.size);
            let sha256 = stream_into(&mut writer, export, file, &mut report, progress, cancel)?;
            writer.finish(&mut report, options.partial, has_membership_columns)?;
            report_not_imported(&mut report, not_imported);
            sha256
        };
        test_hook::hold("rows_written");
        if !options.older_export
            && let Some(older) = super::OlderExport::detect(&report)
        {
            drop(tx);
            return Err(older.into());
        }
        import_sqlite::restore_indexes(&tx, &suspended)?;
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        import_runs::record_run(&tx, clock, run_id, &sha256, &report)?;
        if cancel.load(Ordering::SeqCst) {
            bail!(CANCELLED);
        }
        if options.strict && report.rejected > 0 {
            drop(tx);
            return Err(StrictRejected(report.clone()).into());
        }
        if options.dry_run {
            drop(tx);
        } else {
            if !on_sqlite {
                import_postgres::move_sequences(&tx)?;
            }
            test_hook::hold("committing");
            tx.commit()?;
            report.committed = true;
            report.import_id = Some(run_id);
            test_hook::hold("committed");
        }
        Ok(())
    })();
    if let Some(setup) = sqlite_setup {
        setup.end(&store.conn)?;
    }
    result?;
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// Runs the reading threads (and the file's SHA-256 beside them) and writes what they send.
/// Returns the SHA-256.
fn stream_into(
    writer: &mut Writer<'_>,
    export: OpenExport,
    file: &FileFacts<'_>,
    report: &mut ImportReport,
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<String> {
    let OpenExport {
        parser, records, ..
    } = export;
    let (to_builder, from_reader) = sync_channel(4);
    let (spent_records, recycled_records) = channel();
    let (to_writer, from_builder) = sync_channel(64);
    let (recycle, recycled) = channel();
    let stop_hashing = AtomicBool::new(false);
    let path = file.path;
    std::thread::scope(|scope| {
        let sha = scope.spawn(|| decode::file_sha256(&file.export, &stop_hashing));
        scope.spawn(move || reader::read_records(records, path, to_builder, recycled_records));
        scope.spawn(move || {
            reader::build_rows(parser, from_reader, spent_records, to_writer, recycled)
        });
        // Returning drops `from_builder`, which stops the reading threads.
        let result = write_all(
            writer,
            from_builder,
            recycle,
            file,
            report,
            progress,
            cancel,
        );
        if result.is_err() {
            stop_hashing.store(true, Ordering::Relaxed);
        }
        report.date_order = result?;
        let sha = sha
            .join()
            .map_err(|_| anyhow!("{}: hashing the file failed", path.display()))?
            .with_context(|| format!("{}: cannot read the file", path.display()))?;
        sha.ok_or_else(|| anyhow!(CANCELLED))
    })
}

fn write_all(
    writer: &mut Writer<'_>,
    from_builder: std::sync::mpsc::Receiver<Message>,
    recycle: std::sync::mpsc::Sender<Vec<String>>,
    file: &FileFacts<'_>,
    report: &mut ImportReport,
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<DateOrder> {
    let mut first_batch = true;
    for message in from_builder {
        if cancel.load(Ordering::SeqCst) {
            bail!(CANCELLED);
        }
        match message {
            Message::Batch(batch) => {
                let buffers = writer.apply_batch(batch.rows, report)?;
                if std::mem::take(&mut first_batch) {
                    test_hook::hold("first_batch");
                }
                let _ = recycle.send(buffers);
                progress(Progress {
                    bytes_done: batch.bytes_done,
                    bytes_total: file.size,
                    rows: report.rows_read,
                });
            }
            Message::Done { date_order } => return Ok(date_order),
            Message::RestartMonthFirst => return Err(RestartMonthFirst.into()),
            Message::Failed(e) => return Err(e),
        }
    }
    Err(anyhow!(
        "{}: reading stopped unexpectedly",
        file.path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erased_key_is_sha256_of_source_unit_separator_id() {
        assert_eq!(
            erased_key_hash("civicrm", "1042"),
            decode::sha256_hex("civicrm\u{1f}1042".as_bytes())
        );
        assert_ne!(
            erased_key_hash("civicrm", "1042"),
            erased_key_hash("civicrm1", "042")
        );
        assert_eq!(erased_key_hash("a", "b").len(), 64);
    }
}
