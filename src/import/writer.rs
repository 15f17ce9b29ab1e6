//! The writer: applies parsed rows to `contacts` and `memberships` on the import's connection.
//!
//! It keeps what the database already holds for the source in two [`KeyIndex`]es (key → row
//! id and hash), so a row costs a lookup, and a write only when something changed. Updates
//! happen as rows arrive; new rows are queued and inserted per batch, 32 rows a statement, with
//! row ids predicted in advance so memberships can point at contacts not yet written.

use std::collections::HashSet;

use anyhow::{Result, bail};
use rusqlite::{Connection, OptionalExtension, Statement, params};

use super::in_place::{InPlaceStatement, Params};
use super::keys::KeyIndex;
use super::row::{ParsedRow, Rejection, RowOutcome, Slot, flag};
use super::sync::erased_key_hash;
use super::{ImportReport, RejectedRow};
use crate::Clock;
use crate::domain::resave::damaged_by_resave;

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
    /// The import that first recorded it (0: this one, or unknown).
    first_import: i64,
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

/// `INSERT OR IGNORE INTO table (...) VALUES (...), ...` for `rows` rows; ?1 is the source, ?2
/// the import.
///
/// `OR IGNORE` because a multi-row INSERT that could abort part-way makes SQLite copy every page
/// it touches into a statement journal first, to undo just that statement: 2.7 GB of copies for a
/// first import of 550,000 members. The import never needs that undo (any error rolls the whole
/// import back), and no row is skipped unseen: the key index rules out duplicate keys before a
/// row gets here, and [`check_inserted`] fails the import if a row did not go in, or not with its
/// predicted id.
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
        "INSERT OR IGNORE INTO {table} ({}, source, first_import_id, last_import_id) VALUES {}",
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
    insert_contacts: InPlaceStatement<'c>,
    insert_contact: InPlaceStatement<'c>,
    update_contact: InPlaceStatement<'c>,
    insert_memberships: InPlaceStatement<'c>,
    insert_membership: InPlaceStatement<'c>,
    update_membership: InPlaceStatement<'c>,
    unflag_membership: Statement<'c>,
    old_membership: Statement<'c>,
    insert_event: Statement<'c>,
    credited_attempt: Statement<'c>,
    stored_contact: Statement<'c>,
}

impl<'c> Statements<'c> {
    fn prepare(conn: &'c Connection) -> rusqlite::Result<Statements<'c>> {
        Ok(Statements {
            insert_contacts: InPlaceStatement::prepare(
                conn,
                &insert_sql("contacts", INSERT_CHUNK, CONTACT_VALUES, contact_columns),
            )?,
            insert_contact: InPlaceStatement::prepare(
                conn,
                &insert_sql("contacts", 1, CONTACT_VALUES, contact_columns),
            )?,
            update_contact: InPlaceStatement::prepare(
                conn,
                &update_sql("contacts", contact_columns, ""),
            )?,
            insert_memberships: InPlaceStatement::prepare(
                conn,
                &insert_sql(
                    "memberships",
                    INSERT_CHUNK,
                    MEMBERSHIP_VALUES,
                    membership_columns,
                ),
            )?,
            insert_membership: InPlaceStatement::prepare(
                conn,
                &insert_sql("memberships", 1, MEMBERSHIP_VALUES, membership_columns),
            )?,
            update_membership: InPlaceStatement::prepare(
                conn,
                &update_sql("memberships", membership_columns, "missing_since = NULL, "),
            )?,
            unflag_membership: conn
                .prepare("UPDATE memberships SET missing_since = NULL WHERE id = ?1")?,
            old_membership: conn
                .prepare("SELECT end_date, crm_status FROM memberships WHERE id = ?1")?,
            insert_event: conn.prepare(
                "INSERT INTO membership_events (membership_id, import_id, kind, old_value,
                                                new_value, occurred_on, credited_attempt_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?,
            credited_attempt: conn.prepare(&crate::storage::renewals::creditable_attempt_sql())?,
            stored_contact: conn.prepare(&format!(
                "SELECT {} FROM contacts WHERE id = ?1",
                ParsedRow::CONTACT_TEXT.map(slot_column).join(", ")
            ))?,
        })
    }
}

/// The contacts column of a contact text slot.
fn slot_column(slot: Slot) -> &'static str {
    match slot {
        Slot::CrmId => "crm_id",
        Slot::ContactType => "contact_type",
        Slot::DisplayName => "display_name",
        Slot::SortName => "sort_name",
        Slot::FirstName => "first_name",
        Slot::LastName => "last_name",
        Slot::OrganizationName => "organization_name",
        Slot::Email => "email",
        Slot::Phone => "phone",
        Slot::StreetAddress => "street_address",
        Slot::City => "city",
        Slot::Postcode => "postcode",
        Slot::County => "county",
        Slot::Country => "country",
        Slot::PreferredLanguage => "preferred_language",
        Slot::LocalParty => "local_party",
        Slot::Region => "region",
        Slot::Constituency => "constituency",
        _ => unreachable!("not a contact text slot"),
    }
}

/// The row with every value a lossy re-save damaged ([`damaged_by_resave`]) put back as the
/// store holds it, or None when no value was damaged. Only rows with a `?` in them are looked
/// up, so a clean re-import reads nothing more.
fn keep_undamaged(
    stored_contact: &mut Statement<'_>,
    id: i64,
    row: &ParsedRow,
) -> Result<Option<ParsedRow>> {
    if !ParsedRow::CONTACT_TEXT
        .iter()
        .any(|&slot| row.get(slot).contains('?'))
    {
        return Ok(None);
    }
    let stored: Vec<String> = stored_contact.query_row([id], |r| {
        (0..ParsedRow::CONTACT_TEXT.len())
            .map(|i| r.get(i))
            .collect()
    })?;
    let kept: Vec<(Slot, String)> = ParsedRow::CONTACT_TEXT
        .iter()
        .zip(stored)
        .filter(|(slot, old)| damaged_by_resave(old, row.get(**slot)))
        .map(|(slot, old)| (*slot, old))
        .collect();
    Ok((!kept.is_empty()).then(|| row.with_text(&kept)))
}

/// A new row waiting for the batch's multi-row INSERT.
struct Pending {
    /// Its position in the batch.
    row: usize,
    id: i64,
    /// Memberships: the contact's row id.
    contact_id: i64,
}

pub struct Writer<'c> {
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
    pub fn new(
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
            "SELECT sync_key, id, crm_hash, missing_since IS NOT NULL,
                    COALESCE(first_import_id, 0)
             FROM memberships NOT INDEXED WHERE source = ?1 ORDER BY id",
        )?;
        let mut rows = stmt.query([source])?;
        while let Some(r) = rows.next()? {
            let entry = MembershipEntry {
                id: r.get(1)?,
                hash: r.get(2)?,
                missing: r.get(3)?,
                seen_line: 0,
                first_import: r.get(4)?,
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
    pub fn reserve_for(&mut self, bytes: u64) {
        let rows = usize::try_from(bytes / 600).unwrap_or(0).min(4_000_000);
        self.contacts.reserve(rows, rows * 8);
        self.memberships.reserve(rows, rows * 12);
    }

    /// Applies a batch of rows; gives back their text buffers for reuse.
    pub fn apply_batch(
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
                let stored_hash = entry.hash;
                if stored_hash == row.contact_hash || row.has(flag::MEMBERSHIP_ONLY) {
                    report.contacts.unchanged += 1;
                } else {
                    let kept = keep_undamaged(&mut self.sql.stored_contact, id, row)?;
                    let row = kept.as_ref().unwrap_or(row);
                    if kept.is_some() {
                        report.kept_resave_damaged += 1;
                    }
                    if row.contact_hash == stored_hash {
                        report.contacts.unchanged += 1;
                    } else {
                        self.sql.update_contact.execute(|params| {
                            bind_shared(params, &self.source, self.run_id)?;
                            params.int(3, id)?;
                            bind_contact(params, 4, row)
                        })?;
                        report.contacts.updated += 1;
                    }
                    entry.hash = row.contact_hash;
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
                first_import: 0,
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
            self.sql.update_membership.execute(|params| {
                bind_shared(params, &self.source, self.run_id)?;
                params.int(3, id)?;
                bind_membership(params, 4, row, contact_id)
            })?;
            report.memberships.updated += 1;
            let new_end = row.opt(Slot::EndDate);
            if let (Some(old), Some(new)) = (old_end.as_deref(), new_end)
                && new < old
            {
                report.memberships.end_date_moved_back += 1;
            }
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
            stmt.execute(|params| {
                bind_shared(params, &self.source, self.run_id)?;
                for (k, p) in rest[..take].iter().enumerate() {
                    bind_contact(params, 3 + k * CONTACT_VALUES, &rows[p.row])?;
                }
                Ok(())
            })?;
            check_inserted(self.conn, take, rest[take - 1].id)?;
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
            stmt.execute(|params| {
                bind_shared(params, &self.source, self.run_id)?;
                for (k, p) in rest[..take].iter().enumerate() {
                    bind_membership(
                        params,
                        3 + k * MEMBERSHIP_VALUES,
                        &rows[p.row],
                        p.contact_id,
                    )?;
                }
                Ok(())
            })?;
            check_inserted(self.conn, take, rest[take - 1].id)?;
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
    pub fn finish(
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
        self.count_latest_joiners_absent(report)?;
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

impl Writer<'_> {
    /// Fills `report.latest_joiners`: the memberships the source's most recent earlier import
    /// added (after its baseline), and how many of them this export newly lacks. Worked out
    /// from the key index in memory (each entry knows the import that first recorded it), so a
    /// re-import of 550,000 memberships pays no extra scan. An export older than that import
    /// lacks them all (see [`super::OlderExport`]).
    fn count_latest_joiners_absent(&self, report: &mut ImportReport) -> Result<()> {
        let earlier = || {
            self.memberships
                .values()
                .map(|e| e.first_import)
                .filter(|&i| i > 0 && i < self.run_id)
        };
        let (Some(baseline), Some(latest)) = (earlier().min(), earlier().max()) else {
            return Ok(());
        };
        if latest == baseline {
            return Ok(());
        }
        let (mut added, mut absent) = (0, 0);
        for e in self
            .memberships
            .values()
            .filter(|e| e.first_import == latest)
        {
            added += 1;
            // Newly absent only: once an older file has been imported on purpose, the joiners
            // it lacks are flagged, and importing it again is no new surprise.
            if e.seen_line == 0 && !e.missing {
                absent += 1;
            }
        }
        let import_as_of: String = self.conn.query_row(
            "SELECT as_of FROM import_runs WHERE id = ?1",
            [latest],
            |r| r.get(0),
        )?;
        report.latest_joiners = Some(super::LatestJoiners {
            import_as_of,
            added,
            absent,
        });
        Ok(())
    }
}

/// Checks that all `rows` rows of the last INSERT went in, the last with the id assigned to it in
/// advance (new rows take SQLite's next ids, largest + 1, in order, which link memberships and
/// events). The inserts are `OR IGNORE` (see [`insert_sql`]): a row skipped on a constraint
/// fails the import here rather than vanishing.
fn check_inserted(conn: &Connection, rows: usize, expected_last: i64) -> Result<()> {
    let (inserted, last) = (conn.changes(), conn.last_insert_rowid());
    if inserted != rows as u64 {
        bail!("internal error: {inserted} of {rows} new rows went in; nothing was changed");
    }
    if last != expected_last {
        bail!("internal error: a new row took id {last}, not {expected_last}; nothing was changed");
    }
    Ok(())
}

/// ?1 the source, ?2 this import.
fn bind_shared<'v>(
    params: &mut Params<'_, 'v>,
    source: &'v str,
    run_id: i64,
) -> rusqlite::Result<()> {
    params.text(1, source)?;
    params.int(2, run_id)
}

/// A contact's values at `?base..`, in `contact_columns` order.
fn bind_contact<'v>(
    params: &mut Params<'_, 'v>,
    base: usize,
    row: &'v ParsedRow,
) -> rusqlite::Result<()> {
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
        params.text(base + i, row.get(slot))?;
    }
    params.int(base + 15, i64::from(row.flags & flag::CONTACT_FLAGS))?;
    params.opt_text(base + 16, row.opt(Slot::DeceasedDate))?;
    params.text(base + 17, row.get(Slot::LocalParty))?;
    params.text(base + 18, row.get(Slot::Region))?;
    params.text(base + 19, row.get(Slot::Constituency))?;
    params.int(base + 20, row.contact_hash)
}

/// A membership's values at `?base..`, in `membership_columns` order.
fn bind_membership<'v>(
    params: &mut Params<'_, 'v>,
    base: usize,
    row: &'v ParsedRow,
    contact_id: i64,
) -> rusqlite::Result<()> {
    params.int(base, contact_id)?;
    params.text(base + 1, row.get(Slot::SyncKey))?;
    params.opt_text(base + 2, row.opt(Slot::MembershipId))?;
    params.text(base + 3, row.get(Slot::MembershipType))?;
    params.opt_text(base + 4, row.opt(Slot::JoinDate))?;
    params.opt_text(base + 5, row.opt(Slot::StartDate))?;
    params.opt_text(base + 6, row.opt(Slot::EndDate))?;
    params.text(base + 7, row.get(Slot::Status))?;
    params.text(base + 8, row.get(Slot::MembershipSource))?;
    params.int(base + 9, i64::from(row.has(flag::AUTO_RENEW)))?;
    params.int(base + 10, row.membership_hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_insert_that_skipped_a_row_fails_the_import() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)")
            .unwrap();
        let insert = "INSERT OR IGNORE INTO t VALUES (1, 'Siân'), (2, 'Ffion')";
        conn.execute(insert, []).unwrap();
        check_inserted(&conn, 2, 2).unwrap();
        // The middle row breaks a constraint and is ignored; the last one still takes its id.
        conn.execute(
            "INSERT OR IGNORE INTO t VALUES (3, 'Cerys'), (4, 'Siân'), (5, 'Nia')",
            [],
        )
        .unwrap();
        let err = check_inserted(&conn, 3, 5).unwrap_err().to_string();
        assert!(err.contains("2 of 3 new rows went in"), "{err}");
        assert!(
            !err.contains("Siân"),
            "no member data in the message: {err}"
        );
        conn.execute("INSERT INTO t VALUES (7, 'Eleri')", [])
            .unwrap();
        let err = check_inserted(&conn, 1, 6).unwrap_err().to_string();
        assert!(err.contains("took id 7, not 6"), "{err}");
    }
}
