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

use crate::storage::sql::{Connection, TransactionBehavior, params};
use anyhow::{Context, Result, anyhow, bail};

use super::decode::{self, ExportFile, TextEncoding};
use super::profile::NotImported;
use super::reader::{self, Message, OpenExport};
use super::row::RAGGED;
use super::sheet::{self, Sheet};
use super::writer::{ImportSink, Writer};
use super::{ContactCounts, DateOrder, ImportOptions, ImportReport, MembershipCounts, Progress};
use crate::Clock;
use crate::storage::audit::{self, Change};
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
        Some(SqliteSetup::begin(&store.conn, options.dry_run)?)
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
        let run_id = insert_run(&tx, clock, file, &profile_name, &source)?;
        test_hook::hold("begun");
        let suspended = if on_sqlite {
            suspend_indexes(&tx)?
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
        restore_indexes(&tx, &suspended)?;
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        record_run(&tx, clock, run_id, &sha256, &report)?;
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
    let (to_writer, from_builder) = sync_channel(4);
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

/// What an import changes on an SQLite connection while it runs, and puts back afterwards.
struct SqliteSetup {
    cache_before: i64,
    journal_switched: bool,
}

impl SqliteSetup {
    fn begin(conn: &Connection, dry_run: bool) -> Result<SqliteSetup> {
        let cache_before: i64 = conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
        // A bigger page cache keeps the indexes being written in memory; a helper thread sorts
        // for the indexes rebuilt at the end (see `restore_indexes`).
        conn.pragma_update(None, "cache_size", -65_536)?;
        let _: i64 = conn.query_row("PRAGMA threads = 1", [], |r| r.get(0))?;
        // Every row the import writes points at a row it has just written or found, so the
        // per-row foreign key lookups are switched off on this connection while it runs (tests
        // check `PRAGMA foreign_key_check` afterwards).
        conn.pragma_update(None, "foreign_keys", false)?;
        let journal_switched =
            !dry_run && tables_are_empty(conn)? && switch_journal(conn, "delete")?;
        Ok(SqliteSetup {
            cache_before,
            journal_switched,
        })
    }

    fn end(self, conn: &Connection) -> Result<()> {
        conn.pragma_update(None, "cache_size", self.cache_before)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        if self.journal_switched {
            switch_journal(conn, "wal")?;
        }
        Ok(())
    }
}

fn tables_are_empty(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM contacts) AND NOT EXISTS (SELECT 1 FROM memberships)",
        [],
        |r| r.get(0),
    )?)
}

/// Sets the journal mode; false when SQLite kept the old one (another connection has the
/// database open, so it cannot leave WAL mode).
///
/// A first import writes the whole database. In WAL mode every page is written twice (to the
/// WAL, then copied into the database by the checkpoint at commit); with a rollback journal it is
/// written once, and the journal only keeps the few pages that existed before. The import is
/// still one transaction: a killed process leaves a hot journal that SQLite rolls back on the
/// next open. WAL mode is restored afterwards.
fn switch_journal(conn: &Connection, mode: &str) -> Result<bool> {
    let sql = format!("PRAGMA journal_mode = {mode}");
    match conn.query_row(&sql, [], |r| r.get::<_, String>(0)) {
        Ok(now) => Ok(now.eq_ignore_ascii_case(mode)),
        // Another connection (the app, another rollcall) has the database open.
        Err(crate::storage::sql::Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)))
            if matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

/// Indexes a first import keeps up to date as it loads, because that costs less than a pass
/// over the whole table to rebuild them afterwards: the keys of the first two arrive in row id
/// order (memberships by contact, the deceased contacts by id), so each goes on the right edge
/// of the index, and the third holds only the few New and Pending memberships.
const KEPT_LIVE: [&str; 3] = [
    "memberships_contact",
    "contacts_deceased",
    "memberships_new_pending",
];

/// Drops the other secondary indexes of `contacts` and `memberships` when the table is empty,
/// for [`restore_indexes`] to rebuild after loading: building an index from the loaded rows in
/// one sorted pass is several times faster than inserting 500,000 keys one at a time in random
/// order. Both happen inside the import's transaction, so a failed import leaves the indexes as
/// they were.
fn suspend_indexes(conn: &Connection) -> Result<Vec<String>> {
    let mut suspended = Vec::new();
    for table in ["contacts", "memberships"] {
        let empty: bool = conn.query_row(
            &format!("SELECT NOT EXISTS (SELECT 1 FROM {table})"),
            [],
            |r| r.get(0),
        )?;
        if !empty {
            continue;
        }
        let mut stmt = conn.prepare(
            "SELECT name, sql FROM sqlite_master
             WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL",
        )?;
        let indexes = stmt
            .query_map([table], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<crate::storage::sql::Result<Vec<_>>>()?;
        for (name, sql) in indexes {
            if KEPT_LIVE.contains(&name.as_str()) {
                continue;
            }
            conn.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))?;
            suspended.push(sql);
        }
    }
    Ok(suspended)
}

fn restore_indexes(conn: &Connection, suspended: &[String]) -> Result<()> {
    if suspended.is_empty() {
        return Ok(());
    }
    // SQLite sorts an index's keys in one pass on one thread when they fit in the page cache.
    // With a smaller cache it sorts them in parts, each handed to its helper thread (`PRAGMA
    // threads`) while the table is still being read, and merges them: by now the reading threads
    // are done, so that uses the core they leave idle.
    conn.pragma_update(None, "cache_size", -8192)?;
    for sql in suspended {
        conn.execute_batch(sql)?;
    }
    conn.pragma_update(None, "cache_size", -65_536)?;
    Ok(())
}

fn insert_run(
    conn: &Connection,
    clock: &Clock,
    file: &FileFacts<'_>,
    profile: &str,
    source: &str,
) -> Result<i64> {
    Ok(conn.query_row(
        "INSERT INTO import_runs (started_at, staff, as_of, file_name, file_size, file_sha256,
                                  profile, source, encoding, date_order)
         VALUES (?1, ?2, ?3, ?4, ?5, '', ?6, ?7, ?8, 'iso') RETURNING id",
        params![
            clock.now_rfc3339(),
            clock.user,
            clock.today.format("%Y-%m-%d").to_string(),
            file.path.display().to_string(),
            file.size as i64,
            profile,
            source,
            file.labels().0,
        ],
        |r| r.get(0),
    )?)
}

fn record_run(
    conn: &Connection,
    clock: &Clock,
    run_id: i64,
    sha256: &str,
    report: &ImportReport,
) -> Result<()> {
    let c = &report.contacts;
    let m = &report.memberships;
    conn.execute(
        "UPDATE import_runs SET finished_at = ?2, file_sha256 = ?3, date_order = ?4,
            rows_read = ?5, contacts_inserted = ?6, contacts_updated = ?7, contacts_unchanged = ?8,
            memberships_inserted = ?9, memberships_updated = ?10, memberships_unchanged = ?11,
            renewed = ?12, missing_from_export = ?13, back_in_export = ?14, skipped_erased = ?15,
            rejected = ?16
         WHERE id = ?1",
        params![
            run_id,
            clock.now_rfc3339(),
            sha256,
            date_order_key(report.date_order),
            report.rows_read as i64,
            c.inserted as i64,
            c.updated as i64,
            c.unchanged as i64,
            m.inserted as i64,
            m.updated as i64,
            m.unchanged as i64,
            m.renewed as i64,
            m.missing_from_export as i64,
            m.back_in_export as i64,
            report.skipped_erased as i64,
            report.rejected as i64,
        ],
    )?;
    let mut insert =
        conn.prepare("INSERT INTO import_rejects (import_id, line, reason) VALUES (?1, ?2, ?3)")?;
    for e in &report.errors {
        insert.execute(params![run_id, e.line as i64, e.reason])?;
    }
    audit::record(
        conn,
        clock,
        Change {
            action: "import",
            entity: "import_runs",
            entity_id: Some(run_id),
            contact_id: None,
            before: None,
            after: Some(serde_json::json!({
                "file": report.file,
                "profile": report.profile,
                "source": report.source,
                "rows_read": report.rows_read,
                "contacts": report.contacts,
                "memberships": report.memberships,
                "rejected": report.rejected,
                "skipped_erased": report.skipped_erased,
            })),
        },
    )?;
    Ok(())
}

pub fn date_order_key(order: DateOrder) -> &'static str {
    match order {
        DateOrder::Iso => "iso",
        DateOrder::Dmy => "dmy",
        DateOrder::Mdy => "mdy",
    }
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
