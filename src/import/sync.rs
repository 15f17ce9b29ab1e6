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
use super::hash::FastMap;
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
    if journal_switched {
        switch_journal(&store.conn, "wal")?;
    }
    result?;
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// Runs the reading thread and writes what it sends. Returns the file's SHA-256.
fn stream_into(
    writer: &mut Writer<'_>,
    export: OpenExport,
    file: &FileFacts<'_>,
    report: &mut ImportReport,
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<String> {
    let (to_writer, from_reader) = sync_channel(4);
    let (recycle, recycled) = channel();
    std::thread::scope(|scope| {
        let path = file.path;
        scope.spawn(move || reader::stream_rows(export, path, to_writer, recycled));
        // Returning from this closure drops `from_reader`, which stops the reading thread.
        for message in from_reader {
            if cancel.load(Ordering::SeqCst) {
                bail!(CANCELLED);
            }
            match message {
                Message::Batch(batch) => {
                    let mut buffers = Vec::with_capacity(batch.rows.len());
                    for outcome in batch.rows {
                        report.rows_read += 1;
                        if let Some(buffer) = writer.apply(outcome, report)? {
                            buffers.push(buffer);
                        }
                    }
                    let _ = recycle.send(buffers);
                    progress(Progress {
                        bytes_done: batch.bytes_done,
                        bytes_total: file.size,
                        rows: report.rows_read,
                    });
                }
                Message::Done { sha256, date_order } => {
                    report.date_order = date_order;
                    return Ok(sha256);
                }
                Message::RestartMonthFirst => return Err(RestartMonthFirst.into()),
                Message::Failed(e) => return Err(e),
            }
        }
        Err(anyhow!(
            "{}: reading stopped unexpectedly",
            file.path.display()
        ))
    })
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

/// CRM-owned contact columns, bound as ?1..?26 in this order.
const CONTACT_COLUMNS: [&str; 26] = [
    "contact_type",
    "display_name",
    "sort_name",
    "first_name",
    "last_name",
    "organization_name",
    "email",
    "phone",
    "street_address",
    "city",
    "postcode",
    "county",
    "country",
    "preferred_language",
    "do_not_email",
    "do_not_phone",
    "do_not_mail",
    "do_not_sms",
    "no_bulk_email",
    "on_hold",
    "is_deceased",
    "deceased_date",
    "local_party",
    "region",
    "constituency",
    "crm_hash",
];

/// CRM-owned membership columns, bound as ?1..?10 in this order.
const MEMBERSHIP_COLUMNS: [&str; 10] = [
    "contact_id",
    "crm_membership_id",
    "membership_type",
    "join_date",
    "start_date",
    "end_date",
    "crm_status",
    "membership_source",
    "auto_renew",
    "crm_hash",
];

fn assignments(columns: &[&str]) -> String {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ?{}", i + 1))
        .collect::<Vec<_>>()
        .join(", ")
}

fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

struct Statements<'c> {
    insert_contact: Statement<'c>,
    update_contact: Statement<'c>,
    insert_membership: Statement<'c>,
    update_membership: Statement<'c>,
    unflag_membership: Statement<'c>,
    old_membership: Statement<'c>,
    insert_event: Statement<'c>,
    credited_attempt: Statement<'c>,
}

impl<'c> Statements<'c> {
    fn prepare(conn: &'c Connection) -> rusqlite::Result<Statements<'c>> {
        let contact_cols = CONTACT_COLUMNS.join(", ");
        let membership_cols = MEMBERSHIP_COLUMNS.join(", ");
        Ok(Statements {
            // ?27 source, ?28 crm_id, ?29 import id.
            insert_contact: conn.prepare(&format!(
                "INSERT INTO contacts ({contact_cols}, source, crm_id, first_import_id, last_import_id)
                 VALUES ({}, ?27, ?28, ?29, ?29)",
                placeholders(26)
            ))?,
            // ?29 import id, ?30 row id.
            update_contact: conn.prepare(&format!(
                "UPDATE contacts SET {}, last_import_id = ?29 WHERE id = ?30",
                assignments(&CONTACT_COLUMNS)
            ))?,
            // ?11 source, ?12 sync key, ?13 import id.
            insert_membership: conn.prepare(&format!(
                "INSERT INTO memberships ({membership_cols}, source, sync_key, first_import_id,
                                          last_import_id)
                 VALUES ({}, ?11, ?12, ?13, ?13)",
                placeholders(10)
            ))?,
            // ?13 import id, ?14 row id.
            update_membership: conn.prepare(&format!(
                "UPDATE memberships SET {}, missing_since = NULL, last_import_id = ?13 WHERE id = ?14",
                assignments(&MEMBERSHIP_COLUMNS)
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

struct Writer<'c> {
    conn: &'c Connection,
    sql: Statements<'c>,
    source: String,
    run_id: i64,
    today: String,
    now: String,
    /// The source had no memberships before: its memberships are the baseline, not joiners.
    baseline: bool,
    contacts: FastMap<Box<str>, ContactEntry>,
    memberships: FastMap<Box<str>, MembershipEntry>,
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
        let mut contacts = FastMap::default();
        let mut stmt =
            conn.prepare("SELECT crm_id, id, crm_hash FROM contacts WHERE source = ?1")?;
        let mut rows = stmt.query([source])?;
        while let Some(r) = rows.next()? {
            let key: String = r.get(0)?;
            let entry = ContactEntry {
                id: r.get(1)?,
                hash: r.get(2)?,
                seen: false,
            };
            contacts.insert(key.into_boxed_str(), entry);
        }
        let mut memberships = FastMap::default();
        let mut stmt = conn.prepare(
            "SELECT sync_key, id, crm_hash, missing_since IS NOT NULL FROM memberships
             WHERE source = ?1",
        )?;
        let mut rows = stmt.query([source])?;
        while let Some(r) = rows.next()? {
            let key: String = r.get(0)?;
            let entry = MembershipEntry {
                id: r.get(1)?,
                hash: r.get(2)?,
                missing: r.get(3)?,
                seen_line: 0,
            };
            memberships.insert(key.into_boxed_str(), entry);
        }
        let erased = if allow_erased {
            HashSet::new()
        } else {
            let mut stmt = conn.prepare("SELECT key_hash FROM erased_contacts")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<HashSet<String>>>()?
        };
        Ok(Writer {
            conn,
            sql: Statements::prepare(conn)?,
            source: source.to_owned(),
            run_id,
            today: clock.today.format("%Y-%m-%d").to_string(),
            now: clock.now_rfc3339(),
            baseline: memberships.is_empty(),
            contacts,
            memberships,
            erased,
            allow_erased,
            membership_rows: 0,
            unmatched_rejects: 0,
        })
    }

    /// Applies one row; gives back its text buffer for reuse.
    /// Sizes the maps for a file of `bytes` (about 600 bytes a row in a full CiviCRM export), so they do not
    /// grow and rehash half a million entries mid-import.
    fn reserve_for(&mut self, bytes: u64) {
        let rows = usize::try_from(bytes / 600).unwrap_or(0).min(4_000_000);
        self.contacts
            .reserve(rows.saturating_sub(self.contacts.len()));
        self.memberships
            .reserve(rows.saturating_sub(self.memberships.len()));
    }

    fn apply(&mut self, outcome: RowOutcome, report: &mut ImportReport) -> Result<Option<String>> {
        match outcome {
            RowOutcome::Row(row) => {
                self.apply_row(&row, report)?;
                Ok(Some(row.into_buffer()))
            }
            RowOutcome::Rejected(rejection) => {
                self.note_rejected(rejection, report);
                Ok(None)
            }
            RowOutcome::RepeatedHeader | RowOutcome::RestartMonthFirst => Ok(None),
        }
    }

    fn note_rejected(&mut self, rejection: Rejection, report: &mut ImportReport) {
        report.rejected += 1;
        if let Some(key) = &rejection.sync_key {
            // The membership is in the export, even though this row of it could not be read.
            if let Some(entry) = self.memberships.get_mut(key.as_str())
                && entry.seen_line == 0
            {
                entry.seen_line = rejection.line.max(1);
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

    fn apply_row(&mut self, row: &ParsedRow, report: &mut ImportReport) -> Result<()> {
        let crm_id = row.get(Slot::CrmId);
        let contact_id = match self.contacts.get_mut(crm_id) {
            Some(entry) if entry.seen => entry.id,
            Some(entry) => {
                entry.seen = true;
                if entry.hash == row.contact_hash {
                    report.contacts.unchanged += 1;
                } else {
                    bind_contact(&mut self.sql.update_contact, row, self.run_id)?;
                    self.sql.update_contact.raw_bind_parameter(30, entry.id)?;
                    self.sql.update_contact.raw_execute()?;
                    entry.hash = row.contact_hash;
                    report.contacts.updated += 1;
                }
                entry.id
            }
            None => {
                if self.is_erased(crm_id) {
                    report.skipped_erased += 1;
                    return Ok(());
                }
                let stmt = &mut self.sql.insert_contact;
                bind_contact(stmt, row, self.run_id)?;
                stmt.raw_bind_parameter(27, self.source.as_str())?;
                stmt.raw_bind_parameter(28, crm_id)?;
                stmt.raw_execute()?;
                let id = self.conn.last_insert_rowid();
                self.contacts.insert(
                    crm_id.into(),
                    ContactEntry {
                        id,
                        hash: row.contact_hash,
                        seen: true,
                    },
                );
                report.contacts.inserted += 1;
                id
            }
        };
        if row.has_membership() {
            self.membership_rows += 1;
            self.apply_membership(row, contact_id, report)?;
        }
        Ok(())
    }

    fn apply_membership(
        &mut self,
        row: &ParsedRow,
        contact_id: i64,
        report: &mut ImportReport,
    ) -> Result<()> {
        let key = row.get(Slot::SyncKey);
        let Some(entry) = self.memberships.get_mut(key) else {
            let stmt = &mut self.sql.insert_membership;
            bind_membership(stmt, row, contact_id, self.run_id)?;
            stmt.raw_bind_parameter(11, self.source.as_str())?;
            stmt.raw_bind_parameter(12, key)?;
            stmt.raw_execute()?;
            let id = self.conn.last_insert_rowid();
            self.memberships.insert(
                key.into(),
                MembershipEntry {
                    id,
                    hash: row.membership_hash,
                    missing: false,
                    seen_line: row.line.max(1),
                },
            );
            report.memberships.inserted += 1;
            if !self.baseline {
                self.event(id, "joined", None, None, None)?;
            }
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
            let (old_end, old_status): (Option<String>, String) = self
                .sql
                .old_membership
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            bind_membership(
                &mut self.sql.update_membership,
                row,
                contact_id,
                self.run_id,
            )?;
            self.sql.update_membership.raw_bind_parameter(14, id)?;
            self.sql.update_membership.raw_execute()?;
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

fn bind_contact(stmt: &mut Statement<'_>, row: &ParsedRow, run_id: i64) -> rusqlite::Result<()> {
    let text_slots = [
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
        stmt.raw_bind_parameter(i + 1, row.get(slot))?;
    }
    let flags = [
        flag::DO_NOT_EMAIL,
        flag::DO_NOT_PHONE,
        flag::DO_NOT_MAIL,
        flag::DO_NOT_SMS,
        flag::NO_BULK_EMAIL,
        flag::ON_HOLD,
        flag::DECEASED,
    ];
    for (i, f) in flags.into_iter().enumerate() {
        stmt.raw_bind_parameter(15 + i, row.has(f))?;
    }
    stmt.raw_bind_parameter(22, row.opt(Slot::DeceasedDate))?;
    stmt.raw_bind_parameter(23, row.get(Slot::LocalParty))?;
    stmt.raw_bind_parameter(24, row.get(Slot::Region))?;
    stmt.raw_bind_parameter(25, row.get(Slot::Constituency))?;
    stmt.raw_bind_parameter(26, row.contact_hash)?;
    stmt.raw_bind_parameter(29, run_id)?;
    Ok(())
}

fn bind_membership(
    stmt: &mut Statement<'_>,
    row: &ParsedRow,
    contact_id: i64,
    run_id: i64,
) -> rusqlite::Result<()> {
    stmt.raw_bind_parameter(1, contact_id)?;
    stmt.raw_bind_parameter(2, row.opt(Slot::MembershipId))?;
    stmt.raw_bind_parameter(3, row.get(Slot::MembershipType))?;
    stmt.raw_bind_parameter(4, row.opt(Slot::JoinDate))?;
    stmt.raw_bind_parameter(5, row.opt(Slot::StartDate))?;
    stmt.raw_bind_parameter(6, row.opt(Slot::EndDate))?;
    stmt.raw_bind_parameter(7, row.get(Slot::Status))?;
    stmt.raw_bind_parameter(8, row.get(Slot::MembershipSource))?;
    stmt.raw_bind_parameter(9, row.has(flag::AUTO_RENEW))?;
    stmt.raw_bind_parameter(10, row.membership_hash)?;
    stmt.raw_bind_parameter(13, run_id)?;
    Ok(())
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
