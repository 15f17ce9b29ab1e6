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
//!   (the end date moved forward; credited to the latest contact attempt before it),
//!   `status_changed` (the CRM's status text changed), `missing` (absent from a full export),
//!   `returned` (back after being missing). A source's first import is the baseline and records
//!   no `joined` events: those memberships were not joined today.
//! - A membership absent from a full export is flagged (`missing_since`), never deleted. Not for
//!   `--partial` files, files without membership columns or membership rows, or files with
//!   rejected rows that could not be matched to a membership.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, sync_channel};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use rusqlite::{Connection, OptionalExtension, Statement, TransactionBehavior, params};
use sha2::{Digest, Sha256};

use super::decode::{self, TextEncoding};
use super::keys::KeyIndex;
use super::reader::{self, Message, OpenExport};
use super::row::{ParsedRow, Rejection, RowOutcome, Slot, flag};
use super::{
    ContactCounts, DateOrder, ImportOptions, ImportReport, MembershipCounts, Progress, RejectedRow,
};
use crate::Clock;
use crate::storage::Store;
use crate::storage::audit::{self, Change};

/// The key under which `rollcall forget` records an erased contact: lowercase hex SHA-256 of
/// `source + "\u{1f}" + crm_id`. The database keeps no trace of who it was, yet a later import
/// can still recognise and skip them.
pub fn erased_key_hash(source: &str, crm_id: &str) -> String {
    let mut sha = Sha256::new();
    sha.update(source.as_bytes());
    sha.update([0x1f]);
    sha.update(crm_id.as_bytes());
    decode::hex(&sha.finalize())
}

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
    let meta = std::fs::metadata(path)
        .with_context(|| format!("{}: cannot read the file", path.display()))?;
    if meta.is_dir() {
        bail!("{}: is a directory, not an export file", path.display());
    }
    let file = FileFacts {
        path,
        size: meta.len(),
        encoding: decode::sniff_encoding(path)
            .with_context(|| format!("{}: cannot read the file", path.display()))?,
        delimiter: 0,
    };
    let file = FileFacts {
        delimiter: decode::sniff_delimiter(path, file.encoding)
            .with_context(|| format!("{}: cannot read the file", path.display()))?,
        ..file
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

struct FileFacts<'p> {
    path: &'p Path,
    size: u64,
    encoding: TextEncoding,
    delimiter: u8,
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
    let export = OpenExport::open(
        file.path,
        file.encoding,
        file.delimiter,
        &options.profile,
        date_order,
    )?;
    let source = options
        .source
        .clone()
        .unwrap_or_else(|| export.profile.default_source.clone());
    if source.trim().is_empty() {
        bail!("--source: the source name must not be empty");
    }
    let has_membership_columns = export.map().has_memberships;
    let profile_name = export.profile.name.clone();
    let mut report = ImportReport {
        file: file.path.display().to_string(),
        profile: profile_name.clone(),
        profile_detected: export.detected,
        source: source.clone(),
        encoding: file.encoding.label().to_owned(),
        delimiter: decode::delimiter_label(file.delimiter).to_owned(),
        date_order: DateOrder::Iso,
        rows_read: 0,
        contacts: ContactCounts::default(),
        memberships: MembershipCounts::default(),
        rejected: 0,
        skipped_erased: 0,
        duplicate_rows: 0,
        errors: Vec::new(),
        missing_check_skipped: None,
        dry_run: options.dry_run,
        committed: false,
        elapsed_ms: 0,
        import_id: None,
    };

    let cache_before: i64 = store
        .conn
        .query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    // A bigger page cache keeps the indexes being written in memory; a helper thread halves the
    // time to rebuild suspended indexes.
    store.conn.pragma_update(None, "cache_size", -65_536)?;
    let _: i64 = store
        .conn
        .query_row("PRAGMA threads = 1", [], |r| r.get(0))?;
    // Every row the import writes points at a row it has just written or found, so the
    // per-row foreign key lookups are switched off on this connection while it runs (tests
    // check `PRAGMA foreign_key_check` afterwards).
    store.conn.pragma_update(None, "foreign_keys", false)?;
    let journal_switched = !options.dry_run
        && tables_are_empty(&store.conn)?
        && switch_journal(&store.conn, "delete")?;
    let result = (|| {
        let tx = store
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let run_id = insert_run(&tx, clock, file, &profile_name, &source)?;
        let suspended = suspend_indexes(&tx)?;
        let sha256 = {
            let mut writer = Writer::new(&tx, clock, &source, run_id, options.allow_erased)?;
            writer.reserve_for(file.size);
            let sha256 = stream_into(&mut writer, export, file, &mut report, progress, cancel)?;
            writer.finish(&mut report, options.partial, has_membership_columns)?;
            sha256
        };
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
            tx.commit()?;
            report.committed = true;
            report.import_id = Some(run_id);
        }
        Ok(())
    })();
    store.conn.pragma_update(None, "cache_size", cache_before)?;
    store.conn.pragma_update(None, "foreign_keys", true)?;
    if journal_switched {
        switch_journal(&store.conn, "wal")?;
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
    let OpenExport { parser, csv, .. } = export;
    let (to_builder, from_reader) = sync_channel(4);
    let (spent_records, recycled_records) = channel();
    let (to_writer, from_builder) = sync_channel(4);
    let (recycle, recycled) = channel();
    let stop_hashing = AtomicBool::new(false);
    let path = file.path;
    std::thread::scope(|scope| {
        let sha = scope.spawn(|| decode::file_sha256(path, &stop_hashing));
        scope.spawn(move || reader::read_records(csv, path, to_builder, recycled_records));
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
        let date_order = result?;
        report.date_order = date_order;
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
    for message in from_builder {
        if cancel.load(Ordering::SeqCst) {
            bail!(CANCELLED);
        }
        match message {
            Message::Batch(batch) => {
                let buffers = writer.apply_batch(batch.rows, report)?;
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
    let now: String = conn.query_row(&format!("PRAGMA journal_mode = {mode}"), [], |r| r.get(0))?;
    Ok(now.eq_ignore_ascii_case(mode))
}

/// Drops the secondary indexes of `contacts` and `memberships` when the table is empty, for
/// [`restore_indexes`] to rebuild after loading: building an index from the loaded rows in one
/// sorted pass is several times faster than inserting 500,000 keys one at a time in random order.
/// Both happen inside the import's transaction, so a failed import leaves the indexes as they were.
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
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (name, sql) in indexes {
            conn.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))?;
            suspended.push(sql);
        }
    }
    Ok(suspended)
}

fn restore_indexes(conn: &Connection, suspended: &[String]) -> Result<()> {
    for sql in suspended {
        conn.execute_batch(sql)?;
    }
    Ok(())
}

fn insert_run(
    conn: &Connection,
    clock: &Clock,
    file: &FileFacts<'_>,
    profile: &str,
    source: &str,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO import_runs (started_at, staff, as_of, file_name, file_size, file_sha256,
                                  profile, source, encoding, date_order)
         VALUES (?1, ?2, ?3, ?4, ?5, '', ?6, ?7, ?8, 'iso')",
        params![
            clock.now_rfc3339(),
            clock.user,
            clock.today.format("%Y-%m-%d").to_string(),
            file.path.display().to_string(),
            file.size as i64,
            profile,
            source,
            file.encoding.label(),
        ],
    )?;
    Ok(conn.last_insert_rowid())
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

struct ContactEntry {
    id: i64,
    hash: i64,
    seen: bool,
}

struct MembershipEntry {
    id: i64,
    hash: i64,
    missing: bool,
    /// The line it was first seen on in this file; 0 = not (yet) seen.
    seen_line: u64,
}

/// Rows per multi-row INSERT: one statement per 32 rows instead of 32 statements.
const INSERT_CHUNK: usize = 32;

/// A contact's CRM fields as bound: `?base` onwards, one parameter per entry. New rows take
/// SQLite's next row ids (largest + 1, in order), which the writer predicts and checks.
const CONTACT_VALUES: usize = 21;
/// The contact columns for those values, with SQL that reads the parameter at `p`; the seven
/// flags travel packed in one parameter.
fn contact_columns(p: usize) -> Vec<(&'static str, String)> {
    let at = |i: usize| format!("?{}", p + i);
    let flag = |bit: u32| format!("((?{} >> {bit}) & 1)", p + 15);
    vec![
        ("crm_id", at(0)),
        ("contact_type", at(1)),
        ("display_name", at(2)),
        ("sort_name", at(3)),
        ("first_name", at(4)),
        ("last_name", at(5)),
        ("organization_name", at(6)),
        ("email", at(7)),
        ("phone", at(8)),
        ("street_address", at(9)),
        ("city", at(10)),
        ("postcode", at(11)),
        ("county", at(12)),
        ("country", at(13)),
        ("preferred_language", at(14)),
        ("do_not_email", flag(0)),
        ("do_not_phone", flag(1)),
        ("do_not_mail", flag(2)),
        ("do_not_sms", flag(3)),
        ("no_bulk_email", flag(4)),
        ("on_hold", flag(5)),
        ("is_deceased", flag(6)),
        ("deceased_date", at(16)),
        ("local_party", at(17)),
        ("region", at(18)),
        ("constituency", at(19)),
        ("crm_hash", at(20)),
    ]
}

const MEMBERSHIP_VALUES: usize = 11;
fn membership_columns(p: usize) -> Vec<(&'static str, String)> {
    let at = |i: usize| format!("?{}", p + i);
    vec![
        ("contact_id", at(0)),
        ("sync_key", at(1)),
        ("crm_membership_id", at(2)),
        ("membership_type", at(3)),
        ("join_date", at(4)),
        ("start_date", at(5)),
        ("end_date", at(6)),
        ("crm_status", at(7)),
        ("membership_source", at(8)),
        ("auto_renew", at(9)),
        ("crm_hash", at(10)),
    ]
}

/// `INSERT INTO table (...) VALUES (...), ...` for `rows` rows; ?1 is the source, ?2 the import.
fn insert_sql(
    table: &str,
    rows: usize,
    per_row: usize,
    columns: fn(usize) -> Vec<(&'static str, String)>,
) -> String {
    let names: Vec<&str> = columns(0).iter().map(|(n, _)| *n).collect();
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let values: Vec<String> = columns(3 + r * per_row)
                .into_iter()
                .map(|(_, v)| v)
                .collect();
            format!("({}, ?1, ?2, ?2)", values.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO {table} ({}, source, first_import_id, last_import_id) VALUES {}",
        names.join(", "),
        tuples.join(", ")
    )
}

/// `UPDATE table SET ... WHERE id = ?3`, the values bound from ?4 as for an inserted row.
fn update_sql(
    table: &str,
    columns: fn(usize) -> Vec<(&'static str, String)>,
    extra: &str,
) -> String {
    let sets: Vec<String> = columns(4)
        .into_iter()
        .map(|(n, v)| format!("{n} = {v}"))
        .collect();
    format!(
        "UPDATE {table} SET {}, {extra}last_import_id = ?2 WHERE id = ?3",
        sets.join(", ")
    )
}

struct Statements<'c> {
    insert_contacts: Statement<'c>,
    insert_contact: Statement<'c>,
    update_contact: Statement<'c>,
    insert_memberships: Statement<'c>,
    insert_membership: Statement<'c>,
    update_membership: Statement<'c>,
    unflag_membership: Statement<'c>,
    old_membership: Statement<'c>,
    insert_event: Statement<'c>,
    credited_attempt: Statement<'c>,
}

impl<'c> Statements<'c> {
    fn prepare(conn: &'c Connection) -> rusqlite::Result<Statements<'c>> {
        Ok(Statements {
            insert_contacts: conn.prepare(&insert_sql(
                "contacts",
                INSERT_CHUNK,
                CONTACT_VALUES,
                contact_columns,
            ))?,
            insert_contact: conn.prepare(&insert_sql(
                "contacts",
                1,
                CONTACT_VALUES,
                contact_columns,
            ))?,
            update_contact: conn.prepare(&update_sql("contacts", contact_columns, ""))?,
            insert_memberships: conn.prepare(&insert_sql(
                "memberships",
                INSERT_CHUNK,
                MEMBERSHIP_VALUES,
                membership_columns,
            ))?,
            insert_membership: conn.prepare(&insert_sql(
                "memberships",
                1,
                MEMBERSHIP_VALUES,
                membership_columns,
            ))?,
            update_membership: conn.prepare(&update_sql(
                "memberships",
                membership_columns,
                "missing_since = NULL, ",
            ))?,
            unflag_membership: conn
                .prepare("UPDATE memberships SET missing_since = NULL WHERE id = ?1")?,
            old_membership: conn
                .prepare("SELECT end_date, crm_status FROM memberships WHERE id = ?1")?,
            insert_event: conn.prepare(
                "INSERT INTO membership_events (membership_id, import_id, kind, old_value,
                                                new_value, occurred_on, credited_attempt_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?,
            credited_attempt: conn.prepare(
                "SELECT id FROM contact_attempts
                 WHERE attempted_at <= ?3
                   AND (membership_id = ?1 OR (membership_id IS NULL AND contact_id = ?2))
                 ORDER BY attempted_at DESC, id DESC LIMIT 1",
            )?,
        })
    }
}

/// A new row waiting for the batch's multi-row INSERT.
struct Pending {
    /// Its position in the batch.
    row: usize,
    id: i64,
    /// Memberships: the contact's row id.
    contact_id: i64,
}

struct Writer<'c> {
    conn: &'c Connection,
    sql: Statements<'c>,
    source: String,
    run_id: i64,
    today: String,
    now: String,
    /// The source had no memberships before: its memberships are the baseline, not joiners.
    baseline: bool,
    contacts: KeyIndex<ContactEntry>,
    memberships: KeyIndex<MembershipEntry>,
    /// Row ids for new rows: the import holds the write lock, so nobody else takes them.
    next_contact_id: i64,
    next_membership_id: i64,
    new_contacts: Vec<Pending>,
    new_memberships: Vec<Pending>,
    erased: HashSet<String>,
    allow_erased: bool,
    membership_rows: u64,
    unmatched_rejects: u64,
}

impl<'c> Writer<'c> {
    fn new(
        conn: &'c Connection,
        clock: &Clock,
        source: &str,
        run_id: i64,
        allow_erased: bool,
    ) -> Result<Writer<'c>> {
        // In row id order, which is the order earlier exports came in: see `KeyIndex`.
        let mut contacts = KeyIndex::default();
        let mut stmt = conn.prepare(
            "SELECT crm_id, id, crm_hash FROM contacts NOT INDEXED WHERE source = ?1 ORDER BY id",
        )?;
        let mut rows = stmt.query([source])?;
        while let Some(r) = rows.next()? {
            let entry = ContactEntry {
                id: r.get(1)?,
                hash: r.get(2)?,
                seen: false,
            };
            contacts.push(r.get_ref(0)?.as_str()?, entry);
        }
        let mut memberships = KeyIndex::default();
        let mut stmt = conn.prepare(
            "SELECT sync_key, id, crm_hash, missing_since IS NOT NULL FROM memberships NOT INDEXED
             WHERE source = ?1 ORDER BY id",
        )?;
        let mut rows = stmt.query([source])?;
        while let Some(r) = rows.next()? {
            let entry = MembershipEntry {
                id: r.get(1)?,
                hash: r.get(2)?,
                missing: r.get(3)?,
                seen_line: 0,
            };
            memberships.push(r.get_ref(0)?.as_str()?, entry);
        }
        let erased = if allow_erased {
            HashSet::new()
        } else {
            let mut stmt = conn.prepare("SELECT key_hash FROM erased_contacts")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<HashSet<String>>>()?
        };
        let next_id = |table: &str| -> rusqlite::Result<i64> {
            conn.query_row(
                &format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"),
                [],
                |r| r.get(0),
            )
        };
        Ok(Writer {
            conn,
            sql: Statements::prepare(conn)?,
            source: source.to_owned(),
            run_id,
            today: clock.today.format("%Y-%m-%d").to_string(),
            now: clock.now_rfc3339(),
            baseline: memberships.len() == 0,
            contacts,
            memberships,
            next_contact_id: next_id("contacts")?,
            next_membership_id: next_id("memberships")?,
            new_contacts: Vec::new(),
            new_memberships: Vec::new(),
            erased,
            allow_erased,
            membership_rows: 0,
            unmatched_rejects: 0,
        })
    }

    /// Sizes the key indexes for a file of `bytes` (about 600 bytes a row in a full CiviCRM
    /// export), so they do not grow mid-import.
    fn reserve_for(&mut self, bytes: u64) {
        let rows = usize::try_from(bytes / 600).unwrap_or(0).min(4_000_000);
        self.contacts.reserve(rows, rows * 8);
        self.memberships.reserve(rows, rows * 12);
    }

    /// Applies a batch of rows; gives back their text buffers for reuse.
    fn apply_batch(
        &mut self,
        outcomes: Vec<RowOutcome>,
        report: &mut ImportReport,
    ) -> Result<Vec<String>> {
        let mut rows: Vec<ParsedRow> = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            report.rows_read += 1;
            match outcome {
                RowOutcome::Row(row) => {
                    rows.push(row);
                    self.apply_row(&rows, rows.len() - 1, report)?;
                }
                RowOutcome::Rejected(rejection) => self.note_rejected(rejection, report),
                RowOutcome::RepeatedHeader | RowOutcome::RestartMonthFirst => {}
            }
        }
        self.insert_new_contacts(&rows)?;
        self.insert_new_memberships(&rows)?;
        Ok(rows.into_iter().map(ParsedRow::into_buffer).collect())
    }

    fn note_rejected(&mut self, rejection: Rejection, report: &mut ImportReport) {
        report.rejected += 1;
        if let Some(key) = &rejection.sync_key {
            // The membership is in the export, even though this row of it could not be read.
            if let Some(i) = self.memberships.find(key) {
                let entry = self.memberships.value_mut(i);
                if entry.seen_line == 0 {
                    entry.seen_line = rejection.line.max(1);
                }
            }
        } else if rejection.crm_id.is_none() {
            // Unreadable: it may have been any membership, so "absent" becomes unknowable.
            self.unmatched_rejects += 1;
        }
        report.errors.push(RejectedRow {
            line: rejection.line,
            reason: rejection.reason,
        });
    }

    fn is_erased(&self, crm_id: &str) -> bool {
        !self.allow_erased
            && !self.erased.is_empty()
            && self.erased.contains(&erased_key_hash(&self.source, crm_id))
    }

    /// Row `at` of the batch: updates what changed now, queues what is new.
    fn apply_row(
        &mut self,
        rows: &[ParsedRow],
        at: usize,
        report: &mut ImportReport,
    ) -> Result<()> {
        let row = &rows[at];
        let crm_id = row.get(Slot::CrmId);
        let found = self.contacts.find(crm_id);
        let contact_id = match found.map(|i| self.contacts.value_mut(i)) {
            Some(entry) if entry.seen => entry.id,
            Some(entry) => {
                entry.seen = true;
                let id = entry.id;
                if entry.hash == row.contact_hash {
                    report.contacts.unchanged += 1;
                } else {
                    entry.hash = row.contact_hash;
                    let stmt = &mut self.sql.update_contact;
                    bind_shared(stmt, &self.source, self.run_id)?;
                    stmt.raw_bind_parameter(3, id)?;
                    bind_contact(stmt, 4, row)?;
                    stmt.raw_execute()?;
                    report.contacts.updated += 1;
                }
                id
            }
            None => {
                if self.is_erased(crm_id) {
                    report.skipped_erased += 1;
                    return Ok(());
                }
                let id = self.next_contact_id;
                self.next_contact_id += 1;
                let entry = ContactEntry {
                    id,
                    hash: row.contact_hash,
                    seen: true,
                };
                self.contacts.push(crm_id, entry);
                self.new_contacts.push(Pending {
                    row: at,
                    id,
                    contact_id: id,
                });
                report.contacts.inserted += 1;
                id
            }
        };
        if row.has_membership() {
            self.membership_rows += 1;
            self.apply_membership(rows, at, contact_id, report)?;
        }
        Ok(())
    }

    fn apply_membership(
        &mut self,
        rows: &[ParsedRow],
        at: usize,
        contact_id: i64,
        report: &mut ImportReport,
    ) -> Result<()> {
        let row = &rows[at];
        let key = row.get(Slot::SyncKey);
        let found = self.memberships.find(key);
        let Some(entry) = found.map(|i| self.memberships.value_mut(i)) else {
            let id = self.next_membership_id;
            self.next_membership_id += 1;
            let entry = MembershipEntry {
                id,
                hash: row.membership_hash,
                missing: false,
                seen_line: row.line.max(1),
            };
            self.memberships.push(key, entry);
            self.new_memberships.push(Pending {
                row: at,
                id,
                contact_id,
            });
            report.memberships.inserted += 1;
            return Ok(());
        };
        if entry.seen_line != 0 {
            // The same membership twice in one file: harmless if identical, else the first wins.
            report.duplicate_rows += 1;
            if entry.hash != row.membership_hash {
                report.rejected += 1;
                report.errors.push(RejectedRow {
                    line: row.line,
                    reason: format!(
                        "the membership on line {} appears again with different details; the \
                         first was kept",
                        entry.seen_line
                    ),
                });
            }
            return Ok(());
        }
        entry.seen_line = row.line.max(1);
        let (id, was_missing) = (entry.id, entry.missing);
        entry.missing = false;
        if entry.hash == row.membership_hash {
            report.memberships.unchanged += 1;
            if was_missing {
                self.sql.unflag_membership.execute([id])?;
            }
        } else {
            entry.hash = row.membership_hash;
            // It may now belong to a contact that is new in this batch: insert those first.
            self.insert_new_contacts(rows)?;
            let (old_end, old_status): (Option<String>, String) = self
                .sql
                .old_membership
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let stmt = &mut self.sql.update_membership;
            bind_shared(stmt, &self.source, self.run_id)?;
            stmt.raw_bind_parameter(3, id)?;
            bind_membership(stmt, 4, row, contact_id)?;
            stmt.raw_execute()?;
            report.memberships.updated += 1;
            let new_end = row.opt(Slot::EndDate);
            if let (Some(old), Some(new)) = (old_end.as_deref(), new_end)
                && new > old
            {
                // ISO dates compare as text.
                let credit = self.credited_attempt(id, contact_id)?;
                self.event(id, "renewed", Some(old), Some(new), credit)?;
                report.memberships.renewed += 1;
            }
            let new_status = row.get(Slot::Status);
            if old_status != new_status {
                self.event(
                    id,
                    "status_changed",
                    Some(&old_status),
                    Some(new_status),
                    None,
                )?;
            }
        }
        if was_missing {
            self.event(id, "returned", None, None, None)?;
            report.memberships.back_in_export += 1;
        }
        Ok(())
    }

    /// Inserts the contacts queued so far, many rows per statement.
    fn insert_new_contacts(&mut self, rows: &[ParsedRow]) -> Result<()> {
        let pending = std::mem::take(&mut self.new_contacts);
        let mut rest = &pending[..];
        while !rest.is_empty() {
            let (stmt, take) = if rest.len() >= INSERT_CHUNK {
                (&mut self.sql.insert_contacts, INSERT_CHUNK)
            } else {
                (&mut self.sql.insert_contact, 1)
            };
            bind_shared(stmt, &self.source, self.run_id)?;
            for (k, p) in rest[..take].iter().enumerate() {
                bind_contact(stmt, 3 + k * CONTACT_VALUES, &rows[p.row])?;
            }
            stmt.raw_execute()?;
            check_row_id(self.conn, rest[take - 1].id)?;
            rest = &rest[take..];
        }
        Ok(())
    }

    /// Inserts the memberships queued in this batch (their contacts are in by now).
    fn insert_new_memberships(&mut self, rows: &[ParsedRow]) -> Result<()> {
        let pending = std::mem::take(&mut self.new_memberships);
        let mut rest = &pending[..];
        while !rest.is_empty() {
            let (stmt, take) = if rest.len() >= INSERT_CHUNK {
                (&mut self.sql.insert_memberships, INSERT_CHUNK)
            } else {
                (&mut self.sql.insert_membership, 1)
            };
            bind_shared(stmt, &self.source, self.run_id)?;
            for (k, p) in rest[..take].iter().enumerate() {
                bind_membership(stmt, 3 + k * MEMBERSHIP_VALUES, &rows[p.row], p.contact_id)?;
            }
            stmt.raw_execute()?;
            check_row_id(self.conn, rest[take - 1].id)?;
            rest = &rest[take..];
        }
        if !self.baseline {
            for p in &pending {
                self.event(p.id, "joined", None, None, None)?;
            }
        }
        Ok(())
    }

    fn credited_attempt(&mut self, membership_id: i64, contact_id: i64) -> Result<Option<i64>> {
        Ok(self
            .sql
            .credited_attempt
            .query_row(params![membership_id, contact_id, self.now], |r| r.get(0))
            .optional()?)
    }

    fn event(
        &mut self,
        membership_id: i64,
        kind: &str,
        old: Option<&str>,
        new: Option<&str>,
        credited_attempt: Option<i64>,
    ) -> Result<()> {
        self.sql.insert_event.execute(params![
            membership_id,
            self.run_id,
            kind,
            old,
            new,
            self.today,
            credited_attempt
        ])?;
        Ok(())
    }

    /// Flags memberships absent from a full export.
    fn finish(
        &mut self,
        report: &mut ImportReport,
        partial: bool,
        has_membership_columns: bool,
    ) -> Result<()> {
        let skip = if partial {
            Some("a partial export (--partial)".to_owned())
        } else if !has_membership_columns {
            Some("the file has no membership columns".to_owned())
        } else if self.membership_rows == 0 {
            Some("the file has no membership rows".to_owned())
        } else if self.unmatched_rejects > 0 {
            Some(format!(
                "{} rejected row(s) could not be matched to a membership",
                self.unmatched_rejects
            ))
        } else {
            None
        };
        if let Some(reason) = skip {
            report.missing_check_skipped = Some(reason);
            return Ok(());
        }
        let absent: Vec<(i64, bool)> = self
            .memberships
            .values()
            .filter(|e| e.seen_line == 0)
            .map(|e| (e.id, e.missing))
            .collect();
        let mut flag = self
            .conn
            .prepare("UPDATE memberships SET missing_since = ?2 WHERE id = ?1")?;
        for (id, already_missing) in absent {
            if already_missing {
                report.memberships.still_missing += 1;
                continue;
            }
            flag.execute(params![id, self.run_id])?;
            self.event(id, "missing", None, None, None)?;
            report.memberships.missing_from_export += 1;
        }
        Ok(())
    }
}

/// New rows take SQLite's next row ids (largest + 1, in order), which the writer assigned in
/// advance to link memberships and events: this checks that they matched.
fn check_row_id(conn: &Connection, expected_last: i64) -> Result<()> {
    let last = conn.last_insert_rowid();
    if last != expected_last {
        bail!("internal error: a new row took id {last}, not {expected_last}; nothing was changed");
    }
    Ok(())
}

/// ?1 the source, ?2 this import.
fn bind_shared(stmt: &mut Statement<'_>, source: &str, run_id: i64) -> rusqlite::Result<()> {
    stmt.raw_bind_parameter(1, source)?;
    stmt.raw_bind_parameter(2, run_id)
}

/// A contact's values at `?base..`, in `contact_columns` order.
fn bind_contact(stmt: &mut Statement<'_>, base: usize, row: &ParsedRow) -> rusqlite::Result<()> {
    let text_slots = [
        Slot::CrmId,
        Slot::ContactType,
        Slot::DisplayName,
        Slot::SortName,
        Slot::FirstName,
        Slot::LastName,
        Slot::OrganizationName,
        Slot::Email,
        Slot::Phone,
        Slot::StreetAddress,
        Slot::City,
        Slot::Postcode,
        Slot::County,
        Slot::Country,
        Slot::PreferredLanguage,
    ];
    for (i, slot) in text_slots.into_iter().enumerate() {
        stmt.raw_bind_parameter(base + i, row.get(slot))?;
    }
    stmt.raw_bind_parameter(base + 15, i64::from(row.flags & flag::CONTACT_FLAGS))?;
    stmt.raw_bind_parameter(base + 16, row.opt(Slot::DeceasedDate))?;
    stmt.raw_bind_parameter(base + 17, row.get(Slot::LocalParty))?;
    stmt.raw_bind_parameter(base + 18, row.get(Slot::Region))?;
    stmt.raw_bind_parameter(base + 19, row.get(Slot::Constituency))?;
    stmt.raw_bind_parameter(base + 20, row.contact_hash)
}

/// A membership's values at `?base..`, in `membership_columns` order.
fn bind_membership(
    stmt: &mut Statement<'_>,
    base: usize,
    row: &ParsedRow,
    contact_id: i64,
) -> rusqlite::Result<()> {
    stmt.raw_bind_parameter(base, contact_id)?;
    stmt.raw_bind_parameter(base + 1, row.get(Slot::SyncKey))?;
    stmt.raw_bind_parameter(base + 2, row.opt(Slot::MembershipId))?;
    stmt.raw_bind_parameter(base + 3, row.get(Slot::MembershipType))?;
    stmt.raw_bind_parameter(base + 4, row.opt(Slot::JoinDate))?;
    stmt.raw_bind_parameter(base + 5, row.opt(Slot::StartDate))?;
    stmt.raw_bind_parameter(base + 6, row.opt(Slot::EndDate))?;
    stmt.raw_bind_parameter(base + 7, row.get(Slot::Status))?;
    stmt.raw_bind_parameter(base + 8, row.get(Slot::MembershipSource))?;
    stmt.raw_bind_parameter(base + 9, row.has(flag::AUTO_RENEW))?;
    stmt.raw_bind_parameter(base + 10, row.membership_hash)
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
