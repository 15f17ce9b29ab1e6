//! The renewals queue in the store: loading the window of memberships, and the writes staff make
//! while working it (contact attempts, next-action dates, notes, assignments), each undoable.
//!
//! Every write runs in one immediate transaction with an audit line per row it touches, after
//! `ensure_writable`. Undo deletes what an action inserted or puts back what it replaced, and is
//! itself audited.

use crate::storage::sql::{Connection, Engine, OptionalExtension, Row, Transaction, params};
use anyhow::{Context as _, bail};
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use super::Store;
use super::audit::{self, Change};
use crate::Clock;
use crate::domain::ContactFlags;
use crate::domain::dates::parse_iso;
use crate::domain::membership::is_welsh;
use crate::domain::renewal::{
    self, Bucket, CREDIT_WINDOW_DAYS, Channel, LastContact, Outcome, QueueRow, Windows,
};

/// The queue's name in the `assignments` table.
pub const QUEUE: &str = "renewals";

/// A contact's best display name, from the fields the CRM filled (SQL over contacts `c`).
const NAME_SQL: &str = "COALESCE(NULLIF(c.display_name, ''), \
     NULLIF(trim(c.first_name || ' ' || c.last_name), ''), \
     NULLIF(c.organization_name, ''), c.sort_name)";

/// Every membership whose end date falls in the queue window (or one bucket of it), with its last
/// contact attempt, next-action date and assignee; less the exclusions (deceased contacts, CRM
/// status Cancelled, Pending or Deceased). Unordered: [`renewal::arrange`] orders for display.
///
/// The window is read from the `memberships_end` index alone and sorted by contact id before the
/// joins, so the contacts (the widest table) are visited in storage order rather than at random:
/// a third of the time on 550,000 members (BENCHMARKS.md).
pub fn queue(
    conn: &Connection,
    today: NaiveDate,
    windows: Windows,
    bucket: Option<Bucket>,
) -> crate::storage::sql::Result<Vec<QueueRow>> {
    let (first, last) = windows.range(today, bucket);
    let sql = format!(
        "WITH w AS MATERIALIZED (
             SELECT id, contact_id, crm_membership_id, membership_type, end_date, crm_status,
                    auto_renew
             FROM memberships WHERE end_date BETWEEN ?1 AND ?2 ORDER BY contact_id)
         SELECT m.id, m.contact_id, c.crm_id, NULLIF(m.crm_membership_id, ''),
                {NAME_SQL}, c.sort_name, m.membership_type, c.local_party, c.region, m.end_date,
                m.crm_status, m.auto_renew, c.do_not_email, c.do_not_phone, c.do_not_mail,
                c.do_not_sms, c.no_bulk_email, c.on_hold, c.preferred_language, s.until,
                a.assignee, la.id, la.attempted_at, la.channel, la.outcome, la.staff
         FROM w m
         JOIN contacts c ON c.id = m.contact_id
         LEFT JOIN snoozes s ON s.membership_id = m.id
         LEFT JOIN assignments a ON a.contact_id = m.contact_id AND a.queue = '{QUEUE}'
         LEFT JOIN contact_attempts la ON la.id = (
             SELECT ca.id FROM contact_attempts ca WHERE ca.membership_id = m.id
             ORDER BY ca.attempted_at DESC, ca.id DESC LIMIT 1)
         WHERE c.is_deceased = 0"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![first.to_string(), last.to_string()], queue_row)?;
    let mut out = Vec::new();
    for row in rows {
        if let Some(row) = row? {
            out.push(row);
        }
    }
    Ok(out)
}

/// Text column `i` (empty for NULL).
fn text_ref(r: &Row, i: usize) -> crate::storage::sql::Result<String> {
    Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default())
}

/// One queue row, or None when the status excludes it or its end date is not a date. Columns
/// that are only tested (status, language, dates) are read in place, not copied.
fn queue_row(r: &Row) -> crate::storage::sql::Result<Option<QueueRow>> {
    let Some(end_date) = parse_iso(&text_ref(r, 9)?) else {
        return Ok(None);
    };
    if renewal::is_excluded(&text_ref(r, 10)?, false) {
        return Ok(None);
    }
    let flags = ContactFlags {
        do_not_email: r.get(12)?,
        do_not_phone: r.get(13)?,
        do_not_mail: r.get(14)?,
        do_not_sms: r.get(15)?,
        no_bulk_email: r.get(16)?,
        on_hold: r.get(17)?,
        deceased: false,
        welsh: is_welsh(&text_ref(r, 18)?),
    };
    let last_id: Option<i64> = r.get(21)?;
    let last_contact = match last_id {
        Some(id) => Some(LastContact {
            id,
            at: r.get(22)?,
            channel: r.get(23)?,
            outcome: r.get(24)?,
            staff: r.get(25)?,
        }),
        None => None,
    };
    Ok(Some(QueueRow {
        membership_id: r.get(0)?,
        contact_id: r.get(1)?,
        contact_crm_id: r.get(2)?,
        membership_crm_id: r.get(3)?,
        name: r.get(4)?,
        sort_name: r.get(5)?,
        membership_type: r.get(6)?,
        local_party: r.get(7)?,
        region: r.get(8)?,
        end_date,
        crm_status: r.get(10)?,
        auto_renew: r.get(11)?,
        flags,
        last_contact,
        snoozed_until: parse_iso(&text_ref(r, 19)?),
        assignee: r.get(20)?,
    }))
}

/// How to reach a contact, for call lists and mail-merges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactDetails {
    pub first_name: String,
    pub email: String,
    pub phone: String,
    pub street_address: String,
    pub city: String,
    pub county: String,
    pub postcode: String,
    pub country: String,
    pub preferred_language: String,
}

pub fn contact_details(
    conn: &Connection,
    contact_id: i64,
) -> crate::storage::sql::Result<ContactDetails> {
    let mut stmt = conn.prepare_cached(
        "SELECT first_name, email, phone, street_address, city, county, postcode, country,
                preferred_language
         FROM contacts WHERE id = ?1",
    )?;
    stmt.query_row([contact_id], |r| {
        Ok(ContactDetails {
            first_name: r.get(0)?,
            email: r.get(1)?,
            phone: r.get(2)?,
            street_address: r.get(3)?,
            city: r.get(4)?,
            county: r.get(5)?,
            postcode: r.get(6)?,
            country: r.get(7)?,
            preferred_language: r.get(8)?,
        })
    })
}

/// A membership in the queue, as the writes address it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub contact_id: i64,
    pub membership_id: i64,
}

impl From<&QueueRow> for Target {
    fn from(row: &QueueRow) -> Target {
        Target {
            contact_id: row.contact_id,
            membership_id: row.membership_id,
        }
    }
}

/// A contact attempt to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttempt {
    pub channel: Channel,
    pub outcome: Outcome,
    pub note: String,
}

/// A next-action date as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Snooze {
    pub until: String,
    pub staff: String,
    pub created_at: String,
}

pub use super::assignments::Assignment;

/// One row's before and after, for undo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaced<T> {
    pub contact_id: i64,
    /// The membership (snoozes) or contact (assignments) the row belongs to.
    pub key: i64,
    pub before: Option<T>,
    pub after: Option<T>,
}

/// What an action did, enough to undo it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undo {
    /// Contact attempts inserted (one, or a batch).
    Attempts(Vec<i64>),
    Snoozes(Vec<Replaced<Snooze>>),
    Note {
        id: i64,
        contact_id: i64,
    },
    Assignments(Vec<Replaced<Assignment>>),
}

fn begin<'s>(store: &'s mut Store, what: &str) -> anyhow::Result<Transaction<'s>> {
    Ok(store.write_transaction(what)?)
}

/// Logs the same attempt on every target in one transaction, releasing the logging officer's
/// claims on them. Several targets share a batch id (the first attempt's id) so the lot can be
/// found and undone together.
pub fn log_attempts(
    store: &mut Store,
    clock: &Clock,
    targets: &[Target],
    attempt: &NewAttempt,
) -> anyhow::Result<Undo> {
    if targets.is_empty() {
        bail!("no members to log a contact attempt for");
    }
    let tx = begin(store, "logging a contact attempt")?;
    let at = clock.now_rfc3339();
    let mut ids = Vec::with_capacity(targets.len());
    let mut batch: Option<i64> = None;
    for target in targets {
        let id: i64 = tx.query_row(
            "INSERT INTO contact_attempts
                 (contact_id, membership_id, channel, outcome, note, attempted_at, staff, batch)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
            params![
                target.contact_id,
                target.membership_id,
                attempt.channel.as_str(),
                attempt.outcome.as_str(),
                attempt.note,
                at,
                clock.user,
                batch,
            ],
            |r| r.get(0),
        )?;
        if targets.len() > 1 && batch.is_none() {
            tx.execute("UPDATE contact_attempts SET batch = ?1 WHERE id = ?1", [id])?;
            batch = Some(id);
        }
        let after = attempt_json(&tx, id)?;
        audit::record(
            &tx,
            clock,
            Change {
                action: "log_contact_attempt",
                entity: "contact_attempt",
                entity_id: Some(id),
                contact_id: Some(target.contact_id),
                before: None,
                after: Some(after),
            },
        )?;
        ids.push(id);
        // The outcome is logged: the member is free for the next officer (in this same commit).
        super::claims::release_in(&tx, clock, target.contact_id)?;
    }
    tx.commit()?;
    Ok(Undo::Attempts(ids))
}

fn attempt_json(conn: &Connection, id: i64) -> crate::storage::sql::Result<serde_json::Value> {
    conn.query_row(
        "SELECT membership_id, channel, outcome, note, attempted_at, staff, batch
         FROM contact_attempts WHERE id = ?1",
        [id],
        |r| {
            Ok(json!({
                "membership_id": r.get::<_, Option<i64>>(0)?,
                "channel": r.get::<_, String>(1)?,
                "outcome": r.get::<_, String>(2)?,
                "note": r.get::<_, String>(3)?,
                "attempted_at": r.get::<_, String>(4)?,
                "staff": r.get::<_, String>(5)?,
                "batch": r.get::<_, Option<i64>>(6)?,
            }))
        },
    )
}

fn current_snooze(
    conn: &Connection,
    membership_id: i64,
) -> crate::storage::sql::Result<Option<Snooze>> {
    conn.query_row(
        "SELECT until, staff, created_at FROM snoozes WHERE membership_id = ?1",
        [membership_id],
        |r| {
            Ok(Snooze {
                until: r.get(0)?,
                staff: r.get(1)?,
                created_at: r.get(2)?,
            })
        },
    )
    .optional()
}

fn put_snooze(
    conn: &Connection,
    membership_id: i64,
    snooze: Option<&Snooze>,
) -> crate::storage::sql::Result<()> {
    match snooze {
        Some(s) => conn.execute(
            "INSERT INTO snoozes (membership_id, until, staff, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (membership_id) DO UPDATE
             SET until = excluded.until, staff = excluded.staff, created_at = excluded.created_at",
            params![membership_id, s.until, s.staff, s.created_at],
        )?,
        None => conn.execute(
            "DELETE FROM snoozes WHERE membership_id = ?1",
            [membership_id],
        )?,
    };
    Ok(())
}

/// Sets (or with None clears) the next action date of every target.
pub fn snooze(
    store: &mut Store,
    clock: &Clock,
    targets: &[Target],
    until: Option<NaiveDate>,
) -> anyhow::Result<Undo> {
    let tx = begin(store, "setting a next action date")?;
    let after = until.map(|d| Snooze {
        until: d.to_string(),
        staff: clock.user.clone(),
        created_at: clock.now_rfc3339(),
    });
    let mut changes = Vec::with_capacity(targets.len());
    for target in targets {
        let before = current_snooze(&tx, target.membership_id)?;
        put_snooze(&tx, target.membership_id, after.as_ref())?;
        audit::record(
            &tx,
            clock,
            Change {
                action: if after.is_some() {
                    "snooze"
                } else {
                    "clear_snooze"
                },
                entity: "snooze",
                entity_id: Some(target.membership_id),
                contact_id: Some(target.contact_id),
                before: before.as_ref().map(|s| json!(s)),
                after: after.as_ref().map(|s| json!(s)),
            },
        )?;
        changes.push(Replaced {
            contact_id: target.contact_id,
            key: target.membership_id,
            before,
            after: after.clone(),
        });
    }
    tx.commit()?;
    Ok(Undo::Snoozes(changes))
}

/// Adds a renewals note on the membership.
pub fn add_note(
    store: &mut Store,
    clock: &Clock,
    target: Target,
    body: &str,
) -> anyhow::Result<Undo> {
    let body = body.trim();
    if body.is_empty() {
        bail!("an empty note was not saved");
    }
    let tx = begin(store, "adding a note")?;
    let id: i64 = tx.query_row(
        "INSERT INTO notes (contact_id, membership_id, context, body, staff, created_at)
         VALUES (?1, ?2, 'renewals', ?3, ?4, ?5) RETURNING id",
        params![
            target.contact_id,
            target.membership_id,
            body,
            clock.user,
            clock.now_rfc3339()
        ],
        |r| r.get(0),
    )?;
    audit::record(
        &tx,
        clock,
        Change {
            action: "add_note",
            entity: "note",
            entity_id: Some(id),
            contact_id: Some(target.contact_id),
            before: None,
            after: Some(
                json!({"membership_id": target.membership_id, "context": "renewals", "body": body}),
            ),
        },
    )?;
    tx.commit()?;
    Ok(Undo::Note {
        id,
        contact_id: target.contact_id,
    })
}

fn current_assignment(
    conn: &Connection,
    contact_id: i64,
) -> crate::storage::sql::Result<Option<Assignment>> {
    super::assignments::current(conn, contact_id, QUEUE)
}

fn put_assignment(
    conn: &Connection,
    contact_id: i64,
    a: Option<&Assignment>,
) -> crate::storage::sql::Result<()> {
    match a {
        Some(a) => conn.execute(
            "INSERT INTO assignments (contact_id, queue, assignee, staff, assigned_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (contact_id, queue) DO UPDATE
             SET assignee = excluded.assignee, staff = excluded.staff,
                 assigned_at = excluded.assigned_at",
            params![contact_id, QUEUE, a.assignee, a.staff, a.assigned_at],
        )?,
        None => conn.execute(
            "DELETE FROM assignments WHERE contact_id = ?1 AND queue = ?2",
            params![contact_id, QUEUE],
        )?,
    };
    Ok(())
}

/// Assigns every contact to `assignee` in the renewals queue (None: unassigns). A contact listed
/// twice (two memberships) is assigned once.
pub fn assign(
    store: &mut Store,
    clock: &Clock,
    contact_ids: &[i64],
    assignee: Option<&str>,
) -> anyhow::Result<Undo> {
    let tx = begin(store, "assigning members")?;
    if let Some(name) = assignee {
        super::staff::check_assignee(&tx, name)?;
    }
    let after = assignee.map(|who| Assignment {
        assignee: who.to_owned(),
        staff: clock.user.clone(),
        assigned_at: clock.now_rfc3339(),
    });
    let mut changes: Vec<Replaced<Assignment>> = Vec::new();
    for &contact_id in contact_ids {
        if changes.iter().any(|c| c.key == contact_id) {
            continue;
        }
        let before = current_assignment(&tx, contact_id)?;
        put_assignment(&tx, contact_id, after.as_ref())?;
        audit::record(
            &tx,
            clock,
            Change {
                action: if after.is_some() {
                    "assign"
                } else {
                    "unassign"
                },
                entity: "assignment",
                entity_id: None,
                contact_id: Some(contact_id),
                before: before
                    .as_ref()
                    .map(|a| json!({"queue": QUEUE, "assignment": a})),
                after: after
                    .as_ref()
                    .map(|a| json!({"queue": QUEUE, "assignment": a})),
            },
        )?;
        changes.push(Replaced {
            contact_id,
            key: contact_id,
            before,
            after: after.clone(),
        });
    }
    tx.commit()?;
    Ok(Undo::Assignments(changes))
}

/// Reverses an action, checking first that nothing has moved on since: an attempt a renewal has
/// been credited to, or one already exported to the CRM, stays; a next-action date or assignment
/// someone has changed since stays. Returns what was undone, in words.
pub fn undo(store: &mut Store, clock: &Clock, undo: &Undo) -> anyhow::Result<String> {
    let tx = begin(store, "undoing the last action")?;
    let done = match undo {
        Undo::Attempts(ids) => undo_attempts(&tx, clock, ids)?,
        Undo::Snoozes(changes) => {
            for c in changes {
                let now = current_snooze(&tx, c.key)?;
                if now != c.after {
                    bail!("the next action date was changed since; nothing was undone");
                }
                put_snooze(&tx, c.key, c.before.as_ref())?;
                audit::record(
                    &tx,
                    clock,
                    Change {
                        action: "undo_snooze",
                        entity: "snooze",
                        entity_id: Some(c.key),
                        contact_id: Some(c.contact_id),
                        before: now.as_ref().map(|s| json!(s)),
                        after: c.before.as_ref().map(|s| json!(s)),
                    },
                )?;
            }
            plural(changes.len(), "next action date")
        }
        Undo::Note { id, contact_id } => {
            let n = tx.execute("DELETE FROM notes WHERE id = ?1", [id])?;
            if n == 0 {
                bail!("that note is no longer there; nothing was undone");
            }
            audit::record(
                &tx,
                clock,
                Change {
                    action: "undo_note",
                    entity: "note",
                    entity_id: Some(*id),
                    contact_id: Some(*contact_id),
                    before: None,
                    after: None,
                },
            )?;
            "a note".to_owned()
        }
        Undo::Assignments(changes) => {
            for c in changes {
                let now = current_assignment(&tx, c.key)?;
                if now != c.after {
                    bail!("an assignment was changed since; nothing was undone");
                }
                put_assignment(&tx, c.key, c.before.as_ref())?;
                audit::record(
                    &tx,
                    clock,
                    Change {
                        action: "undo_assign",
                        entity: "assignment",
                        entity_id: None,
                        contact_id: Some(c.contact_id),
                        before: now
                            .as_ref()
                            .map(|a| json!({"queue": QUEUE, "assignment": a})),
                        after: c
                            .before
                            .as_ref()
                            .map(|a| json!({"queue": QUEUE, "assignment": a})),
                    },
                )?;
            }
            plural(changes.len(), "assignment")
        }
    };
    tx.commit()?;
    Ok(done)
}

fn undo_attempts(tx: &Transaction, clock: &Clock, ids: &[i64]) -> anyhow::Result<String> {
    for &id in ids {
        let credited: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM membership_events WHERE credited_attempt_id = ?1)",
            [id],
            |r| r.get(0),
        )?;
        if credited {
            bail!("a renewal has been credited to that contact attempt; nothing was undone");
        }
        let exported: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM exported_activities WHERE activity_key = ?1)",
            [format!("attempt:{id}")],
            |r| r.get(0),
        )?;
        if exported {
            bail!("that contact attempt was already exported to the CRM; nothing was undone");
        }
        let before = attempt_json(tx, id)
            .optional()?
            .context("that contact attempt is no longer there; nothing was undone")?;
        let contact_id: i64 = tx.query_row(
            "SELECT contact_id FROM contact_attempts WHERE id = ?1",
            [id],
            |r| r.get(0),
        )?;
        tx.execute("DELETE FROM contact_attempts WHERE id = ?1", [id])?;
        audit::record(
            tx,
            clock,
            Change {
                action: "undo_contact_attempt",
                entity: "contact_attempt",
                entity_id: Some(id),
                contact_id: Some(contact_id),
                before: Some(before),
                after: None,
            },
        )?;
    }
    Ok(plural(ids.len(), "contact attempt"))
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The credit rule as SQL: whether the contact attempt `attempt` (a table alias) can be credited
/// with a renewal seen on the date `seen_on` (an SQL expression for `YYYY-MM-DD`). Its outcome
/// earns credit ([`Outcome::earns_credit`]) and it was made within [`CREDIT_WINDOW_DAYS`] days
/// before that day (or on it). The import applies it when it credits a renewal, and every reader
/// of a credit (the renewed view, Today, `rollcall stats`) applies it again, so a credit recorded
/// under an older rule counts by this one too.
pub fn credit_condition(engine: Engine, attempt: &str, seen_on: &str) -> String {
    let outcomes: Vec<String> = Outcome::ALL
        .into_iter()
        .filter(|o| o.earns_credit())
        .map(|o| format!("'{}'", o.as_str()))
        .collect();
    // The first day of the window, as YYYY-MM-DD: the engines do date arithmetic differently.
    let window_start = match engine {
        Engine::Sqlite => format!("date({seen_on}, '-{CREDIT_WINDOW_DAYS} days')"),
        Engine::Postgres => {
            format!("to_char(CAST({seen_on} AS date) - {CREDIT_WINDOW_DAYS}, 'YYYY-MM-DD')")
        }
    };
    format!(
        "({attempt}.outcome IN ({}) AND substr({attempt}.attempted_at, 1, 10) <= {seen_on}
          AND substr({attempt}.attempted_at, 1, 10) >= {window_start})",
        outcomes.join(", ")
    )
}

/// The query for the attempt a renewal of membership ?1 (contact ?2) seen at ?3
/// (`YYYY-MM-DDTHH:MM:SS`) is credited to: the latest attempt at or before that moment, on the
/// membership or on the contact as a whole, that meets [`credit_condition`]. The import prepares
/// it once and runs it for each renewal.
pub fn creditable_attempt_sql(engine: Engine) -> String {
    format!(
        "SELECT ca.id FROM contact_attempts ca
         WHERE ca.attempted_at <= ?3
           AND (ca.membership_id = ?1 OR (ca.membership_id IS NULL AND ca.contact_id = ?2))
           AND {}
         ORDER BY ca.attempted_at DESC, ca.id DESC LIMIT 1",
        credit_condition(engine, "ca", "substr(?3, 1, 10)")
    )
}

/// The attempt a renewal of `membership_id` (of `contact_id`) seen at `at` is credited to
/// ([`creditable_attempt_sql`]).
pub fn creditable_attempt(
    conn: &Connection,
    membership_id: i64,
    contact_id: i64,
    at: &str,
) -> crate::storage::sql::Result<Option<i64>> {
    conn.query_row(
        &creditable_attempt_sql(conn.engine()),
        params![membership_id, contact_id, at],
        |r| r.get(0),
    )
    .optional()
}

/// The memberships an import (`:import`) found renewed, as one `membership_id` column: the
/// `renewed` events of that import, deceased contacts left out as everywhere. Today's "Renewed"
/// count and the renewed view both count these, so they agree.
pub const RENEWED_IN_IMPORT_SQL: &str = "SELECT DISTINCT e.membership_id FROM membership_events e
     JOIN memberships m ON m.id = e.membership_id
     JOIN contacts c ON c.id = m.contact_id
     WHERE e.import_id = :import AND e.kind = 'renewed' AND c.is_deceased = 0";

/// A membership the last import found renewed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenewedRow {
    pub membership_id: i64,
    pub contact_id: i64,
    pub name: String,
    pub membership_type: String,
    /// The end date before and after the renewal.
    pub old_end: Option<String>,
    pub new_end: Option<String>,
    /// The contact attempt the renewal is credited to, if any.
    pub credited: Option<LastContact>,
}

/// What the last import found renewed, and whom to thank.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenewedSummary {
    /// The last finished import and its as-of date (None: nothing imported yet).
    pub import: Option<(i64, String)>,
    /// Credited renewals first, then by name.
    pub rows: Vec<RenewedRow>,
}

impl RenewedSummary {
    pub fn credited(&self) -> usize {
        self.rows.iter().filter(|r| r.credited.is_some()).count()
    }

    /// Renewals credited to each staff member, most first (then by name).
    pub fn by_staff(&self) -> Vec<(String, usize)> {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for staff in self
            .rows
            .iter()
            .filter_map(|r| r.credited.as_ref())
            .map(|c| &c.staff)
        {
            match counts.iter_mut().find(|(s, _)| s == staff) {
                Some((_, n)) => *n += 1,
                None => counts.push((staff.clone(), 1)),
            }
        }
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        counts
    }

    /// "12 renewed in the last import (2026-11-20), 5 after a contact: ann 3, bob 2".
    pub fn headline(&self) -> Option<String> {
        let (_, as_of) = self.import.as_ref()?;
        let n = self.rows.len();
        let mut line = format!("{n} renewed in the last import ({as_of})");
        let credited = self.credited();
        if credited > 0 {
            let who: Vec<String> = self
                .by_staff()
                .iter()
                .map(|(s, n)| format!("{s} {n}"))
                .collect();
            line.push_str(&format!(", {credited} after a contact: {}", who.join(", ")));
        }
        Some(line)
    }
}

/// The memberships the last finished import recorded as renewed, with the attempt each is
/// credited to. Deceased contacts are left out, as everywhere.
pub fn renewed_in_last_import(conn: &Connection) -> crate::storage::sql::Result<RenewedSummary> {
    let import: Option<(i64, String)> = conn
        .query_row(
            "SELECT id, as_of FROM import_runs WHERE finished_at IS NOT NULL
             ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((import_id, _)) = &import else {
        return Ok(RenewedSummary::default());
    };
    let sql = format!(
        "SELECT e.membership_id, m.contact_id, {NAME_SQL}, m.membership_type, e.old_value,
                e.new_value, ca.id, ca.attempted_at, ca.channel, ca.outcome, ca.staff
         FROM membership_events e
         JOIN memberships m ON m.id = e.membership_id
         JOIN contacts c ON c.id = m.contact_id
         LEFT JOIN contact_attempts ca ON ca.id = e.credited_attempt_id AND {credit}
         WHERE e.kind = 'renewed' AND e.import_id = :import
           AND e.membership_id IN ({RENEWED_IN_IMPORT_SQL})
         ORDER BY ca.id IS NULL, c.sort_name, e.membership_id",
        credit = credit_condition(conn.engine(), "ca", "e.occurred_on")
    );
    let (sql, values) = crate::storage::sql::named_to_numbered(
        &sql,
        &[(":import", crate::storage::sql::Value::Integer(*import_id))],
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(values, |r| {
            let credited_id: Option<i64> = r.get(6)?;
            let credited = match credited_id {
                Some(id) => Some(LastContact {
                    id,
                    at: r.get(7)?,
                    channel: r.get(8)?,
                    outcome: r.get(9)?,
                    staff: r.get(10)?,
                }),
                None => None,
            };
            Ok(RenewedRow {
                membership_id: r.get(0)?,
                contact_id: r.get(1)?,
                name: r.get(2)?,
                membership_type: r.get(3)?,
                old_end: r.get(4)?,
                new_end: r.get(5)?,
                credited,
            })
        })?
        .collect::<crate::storage::sql::Result<Vec<_>>>()?;
    Ok(RenewedSummary { import, rows })
}
