//! The writer: applies parsed rows to `contacts` and `memberships`, by the import's rules.
//!
//! It keeps what the database already holds for the source in two [`KeyIndex`]es (key → row
//! id and hash), so a row costs a lookup, and a write only when something changed. The rules
//! (inserted / updated / unchanged, the membership events, erased people, duplicates within the
//! file, re-save damage) are decided here, once for both engines; the writes go through an
//! [`ImportSink`]: SQLite's (`storage::import_sqlite`) writes as rows arrive, with multi-row
//! INSERTs, PostgreSQL's (`storage::import_postgres`) buffers and writes set-based with COPY.
//! New rows get row ids predicted in advance (largest + 1, in order: the import is the only
//! writer of these tables while it runs), so memberships can point at contacts not yet written.

use std::collections::HashSet;

use anyhow::Result;

use super::keys::KeyIndex;
use super::row::{ParsedRow, Rejection, RowOutcome, Slot, flag};
use super::sync::erased_key_hash;
use super::{ImportReport, RejectedRow};
use crate::domain::resave::damaged_by_resave;

/// What the database holds for one membership of the source, as loaded for the key index.
pub struct StoredMembership<'a> {
    pub sync_key: &'a str,
    pub id: i64,
    pub hash: i64,
    pub missing: bool,
    /// The import that first recorded it (0: unknown).
    pub first_import: i64,
}

/// Where an import's reads and writes go: one implementation per engine. The writer calls it
/// in the order the rules decide; an implementation may apply the writes at once or buffer
/// them, as long as everything is in the database by the time [`ImportSink::flush`] returns.
pub trait ImportSink {
    /// The source's contacts, in row id order: `(crm_id, id, crm_hash)`.
    fn load_contacts(&mut self, each: &mut dyn FnMut(&str, i64, i64)) -> Result<()>;
    /// The source's memberships, in row id order.
    fn load_memberships(&mut self, each: &mut dyn FnMut(StoredMembership<'_>)) -> Result<()>;
    /// `erased_contacts.key_hash`, every one.
    fn erased_keys(&mut self) -> Result<HashSet<String>>;
    /// The next free row ids of `contacts` and `memberships` (largest + 1).
    fn next_ids(&mut self) -> Result<(i64, i64)>;
    /// The stored text of contact `id`, in [`ParsedRow::CONTACT_TEXT`] order.
    fn stored_contact_text(&mut self, id: i64) -> Result<Vec<String>>;
    /// The stored end date and status of membership `id` (one the import has not written).
    fn old_membership(&mut self, id: i64) -> Result<(Option<String>, String)>;
    /// New contacts, rows of `rows`, with their predicted ids.
    fn insert_contacts(&mut self, rows: &[ParsedRow], new: &[Pending]) -> Result<()>;
    /// New memberships; their contacts were given to [`ImportSink::insert_contacts`] first.
    fn insert_memberships(&mut self, rows: &[ParsedRow], new: &[Pending]) -> Result<()>;
    fn update_contact(&mut self, id: i64, row: &ParsedRow) -> Result<()>;
    /// Also clears `missing_since`.
    fn update_membership(&mut self, id: i64, row: &ParsedRow, contact_id: i64) -> Result<()>;
    /// An unchanged membership back in the export: clears `missing_since`.
    fn unflag_membership(&mut self, id: i64) -> Result<()>;
    /// A membership absent from a full export: `missing_since` = this import.
    fn flag_missing(&mut self, id: i64) -> Result<()>;
    /// A `joined`, `status_changed`, `missing` or `returned` event.
    fn event(
        &mut self,
        membership_id: i64,
        kind: &str,
        old: Option<&str>,
        new: Option<&str>,
    ) -> Result<()>;
    /// A `renewed` event, credited to the attempt `storage::renewals::creditable_attempt_sql`
    /// picks for the membership (of `contact_id`).
    fn renewed(&mut self, membership_id: i64, contact_id: i64, old: &str, new: &str) -> Result<()>;
    /// The end of a batch: a chance to write what is buffered.
    fn end_batch(&mut self) -> Result<()>;
    /// Writes everything still buffered.
    fn flush(&mut self) -> Result<()>;
    /// `import_runs.as_of` of import `id`.
    fn import_as_of(&mut self, id: i64) -> Result<String>;
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
    /// The import that first recorded it (0: this one, or unknown).
    first_import: i64,
}

/// The row with every value a lossy re-save damaged ([`damaged_by_resave`]) put back as the
/// store holds it, or None when no value was damaged. Only rows with a `?` in them are looked
/// up, so a clean re-import reads nothing more.
fn keep_undamaged(
    sink: &mut dyn ImportSink,
    id: i64,
    row: &ParsedRow,
) -> Result<Option<ParsedRow>> {
    if !ParsedRow::CONTACT_TEXT
        .iter()
        .any(|&slot| row.get(slot).contains('?'))
    {
        return Ok(None);
    }
    let stored = sink.stored_contact_text(id)?;
    let kept: Vec<(Slot, String)> = ParsedRow::CONTACT_TEXT
        .iter()
        .zip(stored)
        .filter(|(slot, old)| damaged_by_resave(old, row.get(**slot)))
        .map(|(slot, old)| (*slot, old))
        .collect();
    Ok((!kept.is_empty()).then(|| row.with_text(&kept)))
}

/// A new row the sink is to insert.
pub struct Pending {
    /// Its position in the batch.
    pub row: usize,
    pub id: i64,
    /// Memberships: the contact's row id.
    pub contact_id: i64,
}

pub struct Writer<'c> {
    sink: Box<dyn ImportSink + 'c>,
    source: String,
    run_id: i64,
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
        mut sink: Box<dyn ImportSink + 'c>,
        source: &str,
        run_id: i64,
        allow_erased: bool,
    ) -> Result<Writer<'c>> {
        // In row id order, which is the order earlier exports came in: see `KeyIndex`.
        let mut contacts = KeyIndex::default();
        sink.load_contacts(&mut |crm_id, id, hash| {
            contacts.push(
                crm_id,
                ContactEntry {
                    id,
                    hash,
                    seen: false,
                },
            );
        })?;
        let mut memberships = KeyIndex::default();
        sink.load_memberships(&mut |m| {
            memberships.push(
                m.sync_key,
                MembershipEntry {
                    id: m.id,
                    hash: m.hash,
                    missing: m.missing,
                    seen_line: 0,
                    first_import: m.first_import,
                },
            );
        })?;
        let erased = if allow_erased {
            HashSet::new()
        } else {
            sink.erased_keys()?
        };
        let (next_contact_id, next_membership_id) = sink.next_ids()?;
        Ok(Writer {
            sink,
            source: source.to_owned(),
            run_id,
            baseline: memberships.len() == 0,
            contacts,
            memberships,
            next_contact_id,
            next_membership_id,
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
            // The second and later names of one `membership_names` row are not more rows read.
            let same_record = matches!(&outcome, RowOutcome::Row(row)
                if row.has(flag::DATES_UNKNOWN) && rows.last().is_some_and(|last| last.line == row.line && last.has(flag::DATES_UNKNOWN)));
            if !same_record {
                report.rows_read += 1;
            }
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
        self.sink.end_batch()?;
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
                    let kept = keep_undamaged(self.sink.as_mut(), id, row)?;
                    let row = kept.as_ref().unwrap_or(row);
                    if kept.is_some() {
                        report.kept_resave_damaged += 1;
                    }
                    if row.contact_hash == stored_hash {
                        report.contacts.unchanged += 1;
                    } else {
                        self.sink.update_contact(id, row)?;
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
        // A type with no dates (`membership_names`) never overwrites what the store holds: a
        // membership with dates (from a memberships export) keeps them.
        if entry.hash == row.membership_hash || row.has(flag::DATES_UNKNOWN) {
            report.memberships.unchanged += 1;
            if was_missing {
                self.sink.unflag_membership(id)?;
            }
        } else {
            entry.hash = row.membership_hash;
            // It may now belong to a contact that is new in this batch: insert those first.
            self.insert_new_contacts(rows)?;
            let (old_end, old_status) = self.sink.old_membership(id)?;
            self.sink.update_membership(id, row, contact_id)?;
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
                self.sink.renewed(id, contact_id, old, new)?;
                report.memberships.renewed += 1;
            }
            let new_status = row.get(Slot::Status);
            if old_status != new_status {
                self.sink
                    .event(id, "status_changed", Some(&old_status), Some(new_status))?;
            }
        }
        if was_missing {
            self.sink.event(id, "returned", None, None)?;
            report.memberships.back_in_export += 1;
        }
        Ok(())
    }

    /// Hands the contacts queued so far to the sink.
    fn insert_new_contacts(&mut self, rows: &[ParsedRow]) -> Result<()> {
        let pending = std::mem::take(&mut self.new_contacts);
        if !pending.is_empty() {
            self.sink.insert_contacts(rows, &pending)?;
        }
        Ok(())
    }

    /// Hands the memberships queued in this batch to the sink (their contacts went first).
    fn insert_new_memberships(&mut self, rows: &[ParsedRow]) -> Result<()> {
        let pending = std::mem::take(&mut self.new_memberships);
        if pending.is_empty() {
            return Ok(());
        }
        self.sink.insert_memberships(rows, &pending)?;
        if !self.baseline {
            for p in &pending {
                self.sink.event(p.id, "joined", None, None)?;
            }
        }
        Ok(())
    }

    /// Flags memberships absent from a full export, and writes what the sink still holds.
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
            return self.sink.flush();
        }
        let absent: Vec<(i64, bool)> = self
            .memberships
            .values()
            .filter(|e| e.seen_line == 0)
            .map(|e| (e.id, e.missing))
            .collect();
        self.count_latest_joiners_absent(report)?;
        for (id, already_missing) in absent {
            if already_missing {
                report.memberships.still_missing += 1;
                continue;
            }
            self.sink.flag_missing(id)?;
            self.sink.event(id, "missing", None, None)?;
            report.memberships.missing_from_export += 1;
        }
        self.sink.flush()
    }
}

impl Writer<'_> {
    /// Fills `report.latest_joiners`: the memberships the source's most recent earlier import
    /// added (after its baseline), and how many of them this export newly lacks. Worked out
    /// from the key index in memory (each entry knows the import that first recorded it), so a
    /// re-import of 550,000 memberships pays no extra scan. An export older than that import
    /// lacks them all (see [`super::OlderExport`]).
    fn count_latest_joiners_absent(&mut self, report: &mut ImportReport) -> Result<()> {
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
        let import_as_of = self.sink.import_as_of(latest)?;
        report.latest_joiners = Some(super::LatestJoiners {
            import_as_of,
            added,
            absent,
        });
        Ok(())
    }
}
