//! The import's SQL on SQLite: the [`ImportSink`] that writes as rows arrive, new rows 32 to a
//! multi-row INSERT, text bound in place ([`super::in_place`]).

use std::collections::HashSet;

use anyhow::{Result, bail};
use rusqlite::{Connection, OptionalExtension, Statement, params};

use super::in_place::{InPlaceStatement, Params};
use crate::import::row::{ParsedRow, Slot, flag};
use crate::import::writer::{ImportSink, Pending, StoredMembership};

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

/// A contact's CRM tags: the import's copy replaces rollcall's (tags are CRM data).
pub(crate) const CLEAR_TAGS: &str = "DELETE FROM contact_tags WHERE contact_id = ?1";
pub(crate) const ADD_TAG: &str = "INSERT INTO contact_tags (contact_id, tag) VALUES (?1, ?2)";

/// A membership known by its type only (`flag::DATES_UNKNOWN`), and one whose dates came.
pub(crate) const MARK_DATES_UNKNOWN: &str =
    "INSERT INTO membership_dates_unknown (membership_id) VALUES (?1)";
pub(crate) const CLEAR_DATES_UNKNOWN: &str =
    "DELETE FROM membership_dates_unknown WHERE membership_id = ?1";
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

/// `UPDATE OR IGNORE table SET ... WHERE id = ?3`, the values bound from ?4 as for an inserted
/// row.
///
/// `OR IGNORE` for the reason [`insert_sql`] gives: with the change feed's triggers on the
/// table (`storage::changes`), an UPDATE that could abort part-way would open a statement
/// journal for every row it updates, which cost a re-import a quarter of its time. No update is
/// skipped unseen: [`check_updated`] fails the import if one did not go in.
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
        "UPDATE OR IGNORE {table} SET {}, {extra}last_import_id = ?2 WHERE id = ?3",
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
    flag_missing: Statement<'c>,
}

impl SqliteSink<'_> {
    /// Sets contact `id`'s tags to the row's (`stored`: it may have some already).
    fn replace_tags(&self, id: i64, row: &ParsedRow, stored: bool) -> Result<()> {
        if stored {
            self.conn.prepare_cached(CLEAR_TAGS)?.execute([id])?;
        }
        for tag in row.tags() {
            self.conn.prepare_cached(ADD_TAG)?.execute((id, tag))?;
        }
        Ok(())
    }
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
            credited_attempt: conn.prepare(&crate::storage::renewals::creditable_attempt_sql(
                crate::storage::Engine::Sqlite,
            ))?,
            stored_contact: conn.prepare(&format!(
                "SELECT {} FROM contacts WHERE id = ?1",
                ParsedRow::CONTACT_TEXT.map(slot_column).join(", ")
            ))?,
            flag_missing: conn
                .prepare("UPDATE memberships SET missing_since = ?2 WHERE id = ?1")?,
        })
    }
}

/// The contacts column of a contact text slot.
pub fn slot_column(slot: Slot) -> &'static str {
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

/// The SQLite sink of an import running in a transaction on `conn`.
pub struct SqliteSink<'c> {
    conn: &'c Connection,
    sql: Statements<'c>,
    source: String,
    run_id: i64,
    today: String,
    now: String,
}

impl<'c> SqliteSink<'c> {
    /// `today` is the import's as-of date (`YYYY-MM-DD`), `now` its RFC 3339 moment.
    pub fn new(
        conn: &'c Connection,
        source: &str,
        run_id: i64,
        today: String,
        now: String,
    ) -> Result<SqliteSink<'c>> {
        if super::changes::recording() {
            conn.execute_batch(&super::changes::sqlite_recording_sql(run_id, &today))?;
        }
        Ok(SqliteSink {
            conn,
            sql: Statements::prepare(conn)?,
            source: source.to_owned(),
            run_id,
            today,
            now,
        })
    }

    fn insert_event(
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
}

impl ImportSink for SqliteSink<'_> {
    fn load_contacts(&mut self, each: &mut dyn FnMut(&str, i64, i64)) -> Result<()> {
        let mut stmt = self.conn.prepare(
            "SELECT crm_id, id, crm_hash FROM contacts NOT INDEXED WHERE source = ?1 ORDER BY id",
        )?;
        let mut rows = stmt.query([&self.source])?;
        while let Some(r) = rows.next()? {
            each(r.get_ref(0)?.as_str()?, r.get(1)?, r.get(2)?);
        }
        Ok(())
    }

    fn load_memberships(&mut self, each: &mut dyn FnMut(StoredMembership<'_>)) -> Result<()> {
        let mut stmt = self.conn.prepare(
            "SELECT sync_key, id, crm_hash, missing_since IS NOT NULL,
                    COALESCE(first_import_id, 0)
             FROM memberships NOT INDEXED WHERE source = ?1 ORDER BY id",
        )?;
        let mut rows = stmt.query([&self.source])?;
        while let Some(r) = rows.next()? {
            each(StoredMembership {
                sync_key: r.get_ref(0)?.as_str()?,
                id: r.get(1)?,
                hash: r.get(2)?,
                missing: r.get(3)?,
                first_import: r.get(4)?,
            });
        }
        Ok(())
    }

    fn erased_keys(&mut self) -> Result<HashSet<String>> {
        let mut stmt = self.conn.prepare("SELECT key_hash FROM erased_contacts")?;
        Ok(stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<HashSet<String>>>()?)
    }

    fn next_ids(&mut self) -> Result<(i64, i64)> {
        let next_id = |table: &str| -> rusqlite::Result<i64> {
            self.conn.query_row(
                &format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"),
                [],
                |r| r.get(0),
            )
        };
        Ok((next_id("contacts")?, next_id("memberships")?))
    }

    fn stored_contact_text(&mut self, id: i64) -> Result<Vec<String>> {
        Ok(self.sql.stored_contact.query_row([id], |r| {
            (0..ParsedRow::CONTACT_TEXT.len())
                .map(|i| r.get(i))
                .collect()
        })?)
    }

    fn old_membership(&mut self, id: i64) -> Result<(Option<String>, String)> {
        Ok(self
            .sql
            .old_membership
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?)
    }

    /// Many rows per statement.
    fn insert_contacts(&mut self, rows: &[ParsedRow], new: &[Pending]) -> Result<()> {
        let mut rest = new;
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
        for p in new {
            self.replace_tags(p.id, &rows[p.row], false)?;
        }
        Ok(())
    }

    fn insert_memberships(&mut self, rows: &[ParsedRow], new: &[Pending]) -> Result<()> {
        let mut rest = new;
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
        for p in new.iter().filter(|p| rows[p.row].has(flag::DATES_UNKNOWN)) {
            self.conn
                .prepare_cached(MARK_DATES_UNKNOWN)?
                .execute([p.id])?;
        }
        Ok(())
    }

    fn update_contact(&mut self, id: i64, row: &ParsedRow) -> Result<()> {
        self.sql.update_contact.execute(|params| {
            bind_shared(params, &self.source, self.run_id)?;
            params.int(3, id)?;
            bind_contact(params, 4, row)
        })?;
        check_updated(self.conn)?;
        self.replace_tags(id, row, true)?;
        Ok(())
    }

    fn update_membership(&mut self, id: i64, row: &ParsedRow, contact_id: i64) -> Result<()> {
        self.sql.update_membership.execute(|params| {
            bind_shared(params, &self.source, self.run_id)?;
            params.int(3, id)?;
            bind_membership(params, 4, row, contact_id)
        })?;
        check_updated(self.conn)?;
        // The writer never updates a membership with a dates-unknown row: these are dates.
        self.conn
            .prepare_cached(CLEAR_DATES_UNKNOWN)?
            .execute([id])?;
        Ok(())
    }

    fn unflag_membership(&mut self, id: i64) -> Result<()> {
        self.sql.unflag_membership.execute([id])?;
        Ok(())
    }

    fn flag_missing(&mut self, id: i64) -> Result<()> {
        self.sql.flag_missing.execute(params![id, self.run_id])?;
        Ok(())
    }

    fn event(
        &mut self,
        membership_id: i64,
        kind: &str,
        old: Option<&str>,
        new: Option<&str>,
    ) -> Result<()> {
        self.insert_event(membership_id, kind, old, new, None)
    }

    fn renewed(&mut self, membership_id: i64, contact_id: i64, old: &str, new: &str) -> Result<()> {
        let credit = self
            .sql
            .credited_attempt
            .query_row(params![membership_id, contact_id, self.now], |r| r.get(0))
            .optional()?;
        self.insert_event(membership_id, "renewed", Some(old), Some(new), credit)
    }

    fn end_batch(&mut self) -> Result<()> {
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.conn
            .execute_batch(&super::changes::sqlite_stop_recording_sql())?;
        Ok(())
    }

    fn import_as_of(&mut self, id: i64) -> Result<String> {
        Ok(self
            .conn
            .query_row("SELECT as_of FROM import_runs WHERE id = ?1", [id], |r| {
                r.get(0)
            })?)
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

/// Checks that the last UPDATE (`OR IGNORE`, see [`update_sql`]) changed its one row.
fn check_updated(conn: &Connection) -> Result<()> {
    if conn.changes() != 1 {
        bail!("internal error: an update did not go in; nothing was changed");
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
    for (i, slot) in ParsedRow::CONTACT_LEADING_TEXT.into_iter().enumerate() {
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

// ------------------------------------------------------------ the import's SQLite settings

/// What an import changes on an SQLite connection while it runs, and puts back afterwards.
pub(crate) struct SqliteSetup {
    cache_before: i64,
    journal_switched: bool,
}

impl SqliteSetup {
    pub(crate) fn begin(conn: &super::sql::Connection, dry_run: bool) -> Result<SqliteSetup> {
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

    pub(crate) fn end(self, conn: &super::sql::Connection) -> Result<()> {
        conn.pragma_update(None, "cache_size", self.cache_before)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        if self.journal_switched {
            switch_journal(conn, "wal")?;
        }
        Ok(())
    }
}

fn tables_are_empty(conn: &super::sql::Connection) -> Result<bool> {
    Ok(super::empty_import_tables(conn)?.len() == 2)
}

/// Sets the journal mode; false when SQLite kept the old one (another connection has the
/// database open, so it cannot leave WAL mode).
///
/// A first import writes the whole database. In WAL mode every page is written twice (to the
/// WAL, then copied into the database by the checkpoint at commit); with a rollback journal it is
/// written once, and the journal only keeps the few pages that existed before. The import is
/// still one transaction: a killed process leaves a hot journal that SQLite rolls back on the
/// next open. WAL mode is restored afterwards.
pub(crate) fn switch_journal(conn: &super::sql::Connection, mode: &str) -> Result<bool> {
    let sql = format!("PRAGMA journal_mode = {mode}");
    match conn.query_row(&sql, [], |r| r.get::<_, String>(0)) {
        Ok(now) => Ok(now.eq_ignore_ascii_case(mode)),
        // Another connection (the app, another rollcall) has the database open.
        Err(super::sql::Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)))
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
pub(crate) fn suspend_indexes(conn: &super::sql::Connection) -> Result<Vec<String>> {
    let mut suspended = Vec::new();
    for table in super::empty_import_tables(conn)? {
        let mut stmt = conn.prepare(
            "SELECT name, sql FROM sqlite_master
             WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL",
        )?;
        let indexes = stmt
            .query_map([table], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<super::sql::Result<Vec<_>>>()?;
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

pub(crate) fn restore_indexes(conn: &super::sql::Connection, suspended: &[String]) -> Result<()> {
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
