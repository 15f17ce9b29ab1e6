//! The import's SQL on PostgreSQL: an [`ImportSink`] that buffers the writes in COPY text and
//! writes them set-based, and the per-database import lock.
//!
//! - New contacts, memberships and events go in with `COPY … FROM STDIN`, their ids predicted
//!   by the writer (largest + 1, legal because the import holds [`IMPORT_LOCK_KEY`] and nothing
//!   else inserts into those tables); [`move_sequences`] moves the identity sequences past them.
//! - Updates are COPYed into a temporary staging table (`ON COMMIT DROP`), then applied with
//!   one `UPDATE … FROM staging` per buffer.
//! - Before each staged `UPDATE`, one `INSERT … SELECT` records which fields it changes
//!   (`storage::changes`).
//! - Missing flags and unflags are id lists (`= ANY($1)`); renewals are credited in one
//!   statement at the end.
//! - What the rules read per row is preloaded: the stored end date and status of every
//!   membership of the source come with the key index. Only a row that may hold re-save
//!   damage (a `?` in its text) reads its stored contact.
//!
//! The buffers are written whenever they pass [`FLUSH_BYTES`], and at the end, in an order that
//! keeps every foreign key satisfied (contacts, then memberships, then events).

use std::collections::HashSet;
use std::io::Write;
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;

use super::changes::{self, Staged};
use super::sql::{Connection, PgConnection};
use crate::import::row::{ParsedRow, Slot, flag};
use crate::import::writer::{ImportSink, Pending, StoredMembership};

/// The `pg_advisory_xact_lock` key an import holds for its whole transaction: one import at a
/// time per database. The bytes spell "rollcall" in ASCII.
pub const IMPORT_LOCK_KEY: i64 = 0x726f_6c6c_6361_6c6c;

/// How long an import waits for another one into the same database before giving up.
pub const IMPORT_LOCK_WAIT: Duration = Duration::from_secs(600);

/// Takes the import lock for the current transaction; if another import holds it, calls
/// `waiting` once and waits up to `wait`.
pub fn lock_for_import(conn: &Connection, wait: Duration, waiting: impl FnOnce()) -> Result<()> {
    let pg = postgres_of(conn)?;
    let mut client = pg.client();
    let got: bool = client
        .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&IMPORT_LOCK_KEY])?
        .get(0);
    if got {
        return Ok(());
    }
    waiting();
    client.batch_execute(&format!("SET LOCAL lock_timeout = {}", wait.as_millis()))?;
    match client.execute("SELECT pg_advisory_xact_lock($1)", &[&IMPORT_LOCK_KEY]) {
        Ok(_) => {}
        Err(e) if e.code().is_some_and(|c| c.code() == "55P03") => bail!(
            "another import into this team database has been running for more than {} \
             minutes; nothing was changed. Try again when it has finished",
            wait.as_secs().div_ceil(60)
        ),
        Err(e) => return Err(e.into()),
    }
    client.batch_execute("SET LOCAL lock_timeout = DEFAULT")?;
    Ok(())
}

/// Moves the identity sequences of the tables the import inserted into with explicit ids past
/// the largest id, so the next `INSERT` without an id does not collide.
/// For a first import into empty tables: drops the secondary indexes, the foreign keys and the
/// unique keys (not the primary keys, which other tables' foreign keys hang on) of `contacts`
/// and `memberships`, and returns the statements that put them back, which the import
/// runs after loading (`restore_indexes`, in the same transaction). Building an index from the
/// loaded rows in one sort, and checking a foreign key in one join, is several times faster
/// than doing both row by row as COPY goes. (The import has already made sure in memory that no
/// key repeats; putting the unique keys back checks it again.) Everything is inside the import's transaction, so a
/// failed or dry run leaves them as they were.
///
/// The cost: dropping takes each table's exclusive lock until the import commits, so other
/// rollcall windows on this database wait to read. Only a first import does this, when there
/// is nothing to read yet; later imports lock only the rows they change.
pub fn suspend_for_first_load(conn: &Connection) -> Result<Vec<String>> {
    let mut restore = Vec::new();
    for table in super::empty_import_tables(conn)? {
        let mut indexes = conn.prepare(
            "SELECT i.relname::text, pg_get_indexdef(i.oid)
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
             WHERE x.indrelid = to_regclass(?1)
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
        )?;
        let indexes: Vec<(String, String)> = indexes
            .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<super::sql::Result<_>>()?;
        let mut keys = conn.prepare(
            "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint
             WHERE conrelid = to_regclass(?1) AND contype IN ('f', 'u')",
        )?;
        let keys: Vec<(String, String)> = keys
            .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<super::sql::Result<_>>()?;
        for (name, definition) in indexes {
            conn.execute_batch(&format!("DROP INDEX \"{name}\""))?;
            restore.push(definition);
        }
        for (name, definition) in keys {
            conn.execute_batch(&format!("ALTER TABLE {table} DROP CONSTRAINT \"{name}\""))?;
            restore.push(format!(
                "ALTER TABLE {table} ADD CONSTRAINT \"{name}\" {definition}"
            ));
        }
    }
    if !restore.is_empty() {
        // Statistics, so the app's first queries on the new data are planned well: from a
        // 3,000-row sample (a tenth of the default), which costs a tenth of the time and is
        // plenty for these plans; autovacuum analyzes again at the server's own setting once
        // the import has committed.
        restore.push("SET LOCAL default_statistics_target = 10".into());
        restore.push("ANALYZE contacts, memberships".into());
        restore.push("SET LOCAL default_statistics_target = DEFAULT".into());
    }
    Ok(restore)
}

pub fn move_sequences(conn: &Connection) -> Result<()> {
    let pg = postgres_of(conn)?;
    let mut client = pg.client();
    for table in ["contacts", "memberships"] {
        client.batch_execute(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, \
             false) FROM {table}"
        ))?;
    }
    Ok(())
}

fn postgres_of(conn: &Connection) -> Result<&PgConnection> {
    conn.postgres()
        .ok_or_else(|| anyhow!("internal: the PostgreSQL import was given an SQLite connection"))
}

/// Buffered COPY text past which the sink writes what it holds.
const FLUSH_BYTES: usize = 32 << 20;

/// The CRM columns of a contact, in the order [`contact_fields`] writes them.
const CONTACT_COLUMNS: &str = "crm_id, contact_type, display_name, sort_name, first_name, \
    last_name, organization_name, email, phone, street_address, city, postcode, county, country, \
    preferred_language, do_not_email, do_not_phone, do_not_mail, do_not_sms, no_bulk_email, \
    on_hold, is_deceased, deceased_date, local_party, region, constituency, crm_hash";

const MEMBERSHIP_COLUMNS: &str = "contact_id, sync_key, crm_membership_id, membership_type, \
    join_date, start_date, end_date, crm_status, membership_source, auto_renew, crm_hash";

/// One COPY (text format) buffer: rows of tab-separated fields.
#[derive(Default)]
struct CopyBuffer {
    bytes: Vec<u8>,
    rows: u64,
}

impl CopyBuffer {
    fn text(&mut self, value: &str) {
        let b = &mut self.bytes;
        for &c in value.as_bytes() {
            match c {
                b'\\' => b.extend_from_slice(b"\\\\"),
                b'\t' => b.extend_from_slice(b"\\t"),
                b'\n' => b.extend_from_slice(b"\\n"),
                b'\r' => b.extend_from_slice(b"\\r"),
                _ => b.push(c),
            }
        }
        b.push(b'\t');
    }

    fn opt_text(&mut self, value: Option<&str>) {
        match value {
            Some(v) => self.text(v),
            None => self.bytes.extend_from_slice(b"\\N\t"),
        }
    }

    fn int(&mut self, value: i64) {
        let _ = write!(self.bytes, "{value}\t");
    }

    fn end_row(&mut self) {
        if let Some(last) = self.bytes.last_mut() {
            *last = b'\n';
        }
        self.rows += 1;
    }

    /// `COPY target FROM STDIN` with the buffered rows; checks that each went in.
    fn write(&mut self, client: &mut postgres::Client, target: &str) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut copy = client.copy_in(&format!("COPY {target} FROM STDIN"))?;
        copy.write_all(&self.bytes)?;
        let written = copy.finish()?;
        if written != self.rows {
            bail!(
                "internal error: {written} of {} new rows went in; nothing was changed",
                self.rows
            );
        }
        self.bytes.clear();
        self.rows = 0;
        Ok(())
    }
}

fn contact_fields(buf: &mut CopyBuffer, row: &ParsedRow) {
    for slot in ParsedRow::CONTACT_LEADING_TEXT {
        buf.text(row.get(slot));
    }
    let flags = row.flags & flag::CONTACT_FLAGS;
    for bit in 0..7 {
        buf.int(i64::from((flags >> bit) & 1));
    }
    buf.opt_text(row.opt(Slot::DeceasedDate));
    buf.text(row.get(Slot::LocalParty));
    buf.text(row.get(Slot::Region));
    buf.text(row.get(Slot::Constituency));
    buf.int(row.contact_hash);
}

fn membership_fields(buf: &mut CopyBuffer, row: &ParsedRow, contact_id: i64) {
    buf.int(contact_id);
    buf.text(row.get(Slot::SyncKey));
    buf.opt_text(row.opt(Slot::MembershipId));
    buf.text(row.get(Slot::MembershipType));
    buf.opt_text(row.opt(Slot::JoinDate));
    buf.opt_text(row.opt(Slot::StartDate));
    buf.opt_text(row.opt(Slot::EndDate));
    buf.text(row.get(Slot::Status));
    buf.text(row.get(Slot::MembershipSource));
    buf.int(i64::from(row.has(flag::AUTO_RENEW)));
    buf.int(row.membership_hash);
}

/// `SET a = s.a, …` for a column list.
fn set_from_staging(columns: &str) -> String {
    columns
        .split(',')
        .map(str::trim)
        .map(|c| format!("{c} = s.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The stored end date and status of the source's memberships, by id (loaded in id order), in
/// one text arena: what an updated membership's events compare with.
#[derive(Default)]
struct OldMemberships {
    ids: Vec<i64>,
    arena: String,
    /// Per membership: the end of its end date, the end of its status.
    ends: Vec<(u32, u32)>,
}

impl OldMemberships {
    fn push(&mut self, id: i64, end: Option<&str>, status: &str) {
        self.arena.push_str(end.unwrap_or(""));
        let end_at = self.arena.len() as u32;
        self.arena.push_str(status);
        self.ids.push(id);
        self.ends.push((end_at, self.arena.len() as u32));
    }

    fn get(&self, id: i64) -> Option<(Option<String>, String)> {
        let i = self.ids.binary_search(&id).ok()?;
        let start = if i == 0 { 0 } else { self.ends[i - 1].1 } as usize;
        let (end_at, status_at) = (self.ends[i].0 as usize, self.ends[i].1 as usize);
        let end = &self.arena[start..end_at];
        Some((
            (!end.is_empty()).then(|| end.to_owned()),
            self.arena[end_at..status_at].to_owned(),
        ))
    }
}

/// The PostgreSQL sink of an import running in a transaction on `conn`.
pub struct PgSink<'c> {
    conn: &'c PgConnection,
    source: String,
    run_id: i64,
    today: String,
    now: String,
    old: OldMemberships,
    new_contacts: CopyBuffer,
    new_memberships: CopyBuffer,
    contact_updates: CopyBuffer,
    membership_updates: CopyBuffer,
    events: CopyBuffer,
    unflag: Vec<i64>,
    missing: Vec<i64>,
    /// New memberships known by their type only, marked once they are written.
    dates_unknown: Vec<i64>,
    /// Updated memberships: their dates came, so any "dates unknown" marker goes.
    dates_known: Vec<i64>,
    /// Updated contacts, whose stored tags go before `tags` are added.
    tags_cleared: Vec<i64>,
    /// (contact id, tag) to add once the contacts are written.
    tags: (Vec<i64>, Vec<String>),
    renewals: bool,
    staging: bool,
}

impl<'c> PgSink<'c> {
    /// `today` is the import's as-of date (`YYYY-MM-DD`), `now` its RFC 3339 moment.
    pub fn new(
        conn: &'c Connection,
        source: &str,
        run_id: i64,
        today: String,
        now: String,
    ) -> Result<PgSink<'c>> {
        Ok(PgSink {
            conn: postgres_of(conn)?,
            source: source.to_owned(),
            run_id,
            today,
            now,
            old: OldMemberships::default(),
            new_contacts: CopyBuffer::default(),
            new_memberships: CopyBuffer::default(),
            contact_updates: CopyBuffer::default(),
            membership_updates: CopyBuffer::default(),
            events: CopyBuffer::default(),
            unflag: Vec::new(),
            dates_unknown: Vec::new(),
            dates_known: Vec::new(),
            tags_cleared: Vec::new(),
            tags: (Vec::new(), Vec::new()),
            missing: Vec::new(),
            renewals: false,
            staging: false,
        })
    }

    fn buffered(&self) -> usize {
        self.new_contacts.bytes.len()
            + self.new_memberships.bytes.len()
            + self.contact_updates.bytes.len()
            + self.membership_updates.bytes.len()
            + self.events.bytes.len()
    }

    fn push_tags(&mut self, id: i64, row: &ParsedRow) {
        for tag in row.tags() {
            self.tags.0.push(id);
            self.tags.1.push(tag.to_owned());
        }
    }

    fn push_event(&mut self, membership_id: i64, kind: &str, old: Option<&str>, new: Option<&str>) {
        let e = &mut self.events;
        e.int(membership_id);
        e.int(self.run_id);
        e.text(kind);
        e.opt_text(old);
        e.opt_text(new);
        e.text(&self.today);
        e.end_row();
    }

    /// Writes every buffer, in foreign key order.
    fn write_all(&mut self) -> Result<()> {
        let mut client = self.conn.client();
        let client = &mut *client;
        let run = self.run_id;
        self.new_contacts.write(
            client,
            &format!("contacts (id, source, first_import_id, last_import_id, {CONTACT_COLUMNS})"),
        )?;
        if self.contact_updates.rows > 0 || self.membership_updates.rows > 0 {
            if !self.staging {
                // The columns the updates set, typed as the tables', without constraints.
                client.batch_execute(&format!(
                    "CREATE TEMPORARY TABLE rollcall_import_contacts ON COMMIT DROP AS
                         SELECT id, {CONTACT_COLUMNS} FROM contacts WITH NO DATA;
                     CREATE TEMPORARY TABLE rollcall_import_memberships ON COMMIT DROP AS
                         SELECT id, {MEMBERSHIP_COLUMNS} FROM memberships WITH NO DATA"
                ))?;
                self.staging = true;
            }
            if self.contact_updates.rows > 0 {
                self.contact_updates.write(
                    client,
                    &format!("rollcall_import_contacts (id, {CONTACT_COLUMNS})"),
                )?;
                if changes::recording() {
                    client.execute(
                        &changes::pg_record_sql(Staged::Contacts, "rollcall_import_contacts"),
                        &[&run, &self.today],
                    )?;
                }
                client.execute(
                    &format!(
                        "UPDATE contacts c SET {}, last_import_id = $1
                         FROM rollcall_import_contacts s WHERE c.id = s.id",
                        set_from_staging(CONTACT_COLUMNS)
                    ),
                    &[&run],
                )?;
                client.batch_execute("TRUNCATE rollcall_import_contacts")?;
            }
        }
        self.new_memberships.write(
            client,
            &format!(
                "memberships (id, source, first_import_id, last_import_id, {MEMBERSHIP_COLUMNS})"
            ),
        )?;
        if self.membership_updates.rows > 0 {
            self.membership_updates.write(
                client,
                &format!("rollcall_import_memberships (id, {MEMBERSHIP_COLUMNS})"),
            )?;
            if changes::recording() {
                client.execute(
                    &changes::pg_record_sql(Staged::Memberships, "rollcall_import_memberships"),
                    &[&run, &self.today],
                )?;
            }
            client.execute(
                &format!(
                    "UPDATE memberships m SET {}, missing_since = NULL, last_import_id = $1
                     FROM rollcall_import_memberships s WHERE m.id = s.id",
                    set_from_staging(MEMBERSHIP_COLUMNS)
                ),
                &[&run],
            )?;
            client.batch_execute("TRUNCATE rollcall_import_memberships")?;
        }
        if !self.tags_cleared.is_empty() {
            client.execute(
                "DELETE FROM contact_tags WHERE contact_id = ANY($1)",
                &[&self.tags_cleared],
            )?;
            self.tags_cleared.clear();
        }
        if !self.tags.0.is_empty() {
            client.execute(
                "INSERT INTO contact_tags (contact_id, tag)
                 SELECT * FROM unnest($1::BIGINT[], $2::TEXT[])",
                &[&self.tags.0, &self.tags.1],
            )?;
            self.tags.0.clear();
            self.tags.1.clear();
        }
        if !self.dates_unknown.is_empty() {
            client.execute(
                "INSERT INTO membership_dates_unknown (membership_id) SELECT unnest($1::BIGINT[])",
                &[&self.dates_unknown],
            )?;
            self.dates_unknown.clear();
        }
        if !self.dates_known.is_empty() {
            client.execute(
                "DELETE FROM membership_dates_unknown WHERE membership_id = ANY($1)",
                &[&self.dates_known],
            )?;
            self.dates_known.clear();
        }
        if !self.unflag.is_empty() {
            client.execute(
                "UPDATE memberships SET missing_since = NULL WHERE id = ANY($1)",
                &[&self.unflag],
            )?;
            self.unflag.clear();
        }
        if !self.missing.is_empty() {
            client.execute(
                "UPDATE memberships SET missing_since = $2 WHERE id = ANY($1)",
                &[&self.missing, &run],
            )?;
            self.missing.clear();
        }
        self.events.write(
            client,
            "membership_events (membership_id, import_id, kind, old_value, new_value, occurred_on)",
        )?;
        Ok(())
    }

    /// Credits this import's renewals, all in one statement, by the one credit rule
    /// (`storage::renewals::credit_condition`): the latest creditable attempt at or before the
    /// import's moment, on the membership or on the contact as a whole.
    fn credit_renewals(&mut self) -> Result<()> {
        let seen_on = self.now.get(..10).unwrap_or(&self.now).to_owned();
        let sql = format!(
            "UPDATE membership_events e SET credited_attempt_id = (
                 SELECT ca.id FROM contact_attempts ca
                 WHERE ca.attempted_at <= $2
                   AND (ca.membership_id = e.membership_id
                        OR (ca.membership_id IS NULL AND ca.contact_id = m.contact_id))
                   AND {}
                 ORDER BY ca.attempted_at DESC, ca.id DESC LIMIT 1)
             FROM memberships m
             WHERE m.id = e.membership_id AND e.import_id = $1 AND e.kind = 'renewed'",
            super::renewals::credit_condition(super::Engine::Postgres, "ca", "CAST($3 AS TEXT)")
        );
        let params: [&(dyn ToSql + Sync); 3] = [&self.run_id, &self.now, &seen_on];
        self.conn.client().execute(&sql, &params)?;
        Ok(())
    }
}

impl ImportSink for PgSink<'_> {
    fn load_contacts(&mut self, each: &mut dyn FnMut(&str, i64, i64)) -> Result<()> {
        let mut client = self.conn.client();
        let mut rows = client.query_raw(
            "SELECT crm_id, id, crm_hash FROM contacts WHERE source = $1 ORDER BY id",
            [&self.source],
        )?;
        while let Some(r) = rows.next()? {
            each(r.get::<_, &str>(0), r.get(1), r.get(2));
        }
        Ok(())
    }

    fn load_memberships(&mut self, each: &mut dyn FnMut(StoredMembership<'_>)) -> Result<()> {
        let mut client = self.conn.client();
        let mut rows = client.query_raw(
            "SELECT sync_key, id, crm_hash, missing_since IS NOT NULL,
                    COALESCE(first_import_id, 0), end_date, crm_status
             FROM memberships WHERE source = $1 ORDER BY id",
            [&self.source],
        )?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(1);
            each(StoredMembership {
                sync_key: r.get::<_, &str>(0),
                id,
                hash: r.get(2),
                missing: r.get(3),
                first_import: r.get(4),
            });
            self.old
                .push(id, r.get::<_, Option<&str>>(5), r.get::<_, &str>(6));
        }
        Ok(())
    }

    fn erased_keys(&mut self) -> Result<HashSet<String>> {
        let mut client = self.conn.client();
        let mut rows = client.query_raw(
            "SELECT key_hash FROM erased_contacts",
            std::iter::empty::<&str>(),
        )?;
        let mut keys = HashSet::new();
        while let Some(r) = rows.next()? {
            keys.insert(r.get::<_, String>(0));
        }
        Ok(keys)
    }

    fn next_ids(&mut self) -> Result<(i64, i64)> {
        let row = self.conn.client().query_one(
            "SELECT (SELECT COALESCE(MAX(id), 0) + 1 FROM contacts),
                    (SELECT COALESCE(MAX(id), 0) + 1 FROM memberships)",
            &[],
        )?;
        Ok((row.get(0), row.get(1)))
    }

    fn stored_contact_text(&mut self, id: i64) -> Result<Vec<String>> {
        let columns: Vec<&str> = ParsedRow::CONTACT_TEXT
            .map(super::import_sqlite::slot_column)
            .to_vec();
        let row = self.conn.client().query_one(
            &format!("SELECT {} FROM contacts WHERE id = $1", columns.join(", ")),
            &[&id],
        )?;
        Ok((0..columns.len()).map(|i| row.get(i)).collect())
    }

    fn old_membership(&mut self, id: i64) -> Result<(Option<String>, String)> {
        self.old
            .get(id)
            .ok_or_else(|| anyhow!("internal error: membership {id} was not loaded"))
    }

    fn insert_contacts(&mut self, rows: &[ParsedRow], new: &[Pending]) -> Result<()> {
        for p in new {
            let b = &mut self.new_contacts;
            b.int(p.id);
            b.text(&self.source);
            b.int(self.run_id);
            b.int(self.run_id);
            contact_fields(b, &rows[p.row]);
            b.end_row();
            self.push_tags(p.id, &rows[p.row]);
        }
        Ok(())
    }

    fn insert_memberships(&mut self, rows: &[ParsedRow], new: &[Pending]) -> Result<()> {
        for p in new {
            let b = &mut self.new_memberships;
            b.int(p.id);
            b.text(&self.source);
            b.int(self.run_id);
            b.int(self.run_id);
            membership_fields(b, &rows[p.row], p.contact_id);
            b.end_row();
            if rows[p.row].has(flag::DATES_UNKNOWN) {
                self.dates_unknown.push(p.id);
            }
        }
        Ok(())
    }

    fn update_contact(&mut self, id: i64, row: &ParsedRow) -> Result<()> {
        let b = &mut self.contact_updates;
        b.int(id);
        contact_fields(b, row);
        b.end_row();
        self.tags_cleared.push(id);
        self.push_tags(id, row);
        Ok(())
    }

    fn update_membership(&mut self, id: i64, row: &ParsedRow, contact_id: i64) -> Result<()> {
        let b = &mut self.membership_updates;
        b.int(id);
        membership_fields(b, row, contact_id);
        b.end_row();
        self.dates_known.push(id);
        Ok(())
    }

    fn unflag_membership(&mut self, id: i64) -> Result<()> {
        self.unflag.push(id);
        Ok(())
    }

    fn flag_missing(&mut self, id: i64) -> Result<()> {
        self.missing.push(id);
        Ok(())
    }

    fn event(
        &mut self,
        membership_id: i64,
        kind: &str,
        old: Option<&str>,
        new: Option<&str>,
    ) -> Result<()> {
        self.push_event(membership_id, kind, old, new);
        Ok(())
    }

    fn renewed(
        &mut self,
        membership_id: i64,
        _contact_id: i64,
        old: &str,
        new: &str,
    ) -> Result<()> {
        self.push_event(membership_id, "renewed", Some(old), Some(new));
        self.renewals = true;
        Ok(())
    }

    fn end_batch(&mut self) -> Result<()> {
        if self.buffered() >= FLUSH_BYTES {
            self.write_all()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.write_all()?;
        if std::mem::take(&mut self.renewals) {
            self.credit_renewals()?;
        }
        Ok(())
    }

    fn import_as_of(&mut self, id: i64) -> Result<String> {
        Ok(self
            .conn
            .client()
            .query_one("SELECT as_of FROM import_runs WHERE id = $1", &[&id])?
            .get(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_copy_reads_specially() {
        let mut b = CopyBuffer::default();
        b.text("a\\b\tc\nd\re");
        b.opt_text(None);
        b.int(-7);
        b.end_row();
        assert_eq!(b.bytes, b"a\\\\b\\tc\\nd\\re\t\\N\t-7\n");
        assert_eq!(b.rows, 1);
    }

    #[test]
    fn old_memberships_are_found_by_id() {
        let mut old = OldMemberships::default();
        old.push(3, Some("2025-01-31"), "Current");
        old.push(5, None, "Grace");
        old.push(9, Some("2024-12-31"), "");
        assert_eq!(
            old.get(3),
            Some((Some("2025-01-31".into()), "Current".into()))
        );
        assert_eq!(old.get(5), Some((None, "Grace".into())));
        assert_eq!(old.get(9), Some((Some("2024-12-31".into()), String::new())));
        assert_eq!(old.get(4), None);
    }
}
