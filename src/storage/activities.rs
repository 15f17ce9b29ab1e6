//! What the activity write-back (`rollcall export activities`) reads and records: the contact
//! attempts, onboarding steps and escalation events to write, and the keys of those written.
//! `export::activities` turns the rows into CiviCRM's columns and owns the order of work.
//!
//! Each row's key is built in SQL (`attempt:<id>`, `step:<contact id>:<step key>`,
//! `escalation_event:<id>`) so the once-only test is one `NOT EXISTS` on the primary key of
//! `exported_activities`.
//!
//! A parameter that is only tested for NULL is cast to its type (`CAST(:since AS TEXT) IS NULL`):
//! PostgreSQL cannot infer it otherwise, and the export runs these inside its transaction, where
//! a statement the server refuses to prepare would abort the whole transaction.

use chrono::NaiveDate;

use crate::storage::sql::Connection;
use crate::storage::stats::{Params, iso, query_rows};

type Result<T> = crate::storage::sql::Result<T>;

/// Which rows to read: those not exported yet, or (with `since`) everything from that date;
/// from one CRM source, or all.
#[derive(Debug, Clone, Copy, Default)]
pub struct Selection<'a> {
    pub since: Option<NaiveDate>,
    pub source: Option<&'a str>,
}

impl Selection<'_> {
    fn params(&self) -> Params {
        Params::default()
            .set(":since", self.since.map(iso))
            .set(":source", self.source.map(str::to_owned))
    }
}

/// The condition "not exported yet, unless `since` was given", on the key expression `key`.
fn fresh(key: &str) -> String {
    format!(
        "(CAST(:since AS TEXT) IS NOT NULL OR NOT EXISTS (SELECT 1 FROM exported_activities x
             WHERE x.activity_key = {key}))"
    )
}

/// Every CRM source the contacts come from, in order.
pub fn sources(conn: &Connection) -> Result<Vec<String>> {
    query_rows(
        conn,
        "SELECT DISTINCT source FROM contacts ORDER BY source",
        &Params::default(),
        |r| r.get(0),
    )
}

/// A contact attempt to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRow {
    pub key: String,
    pub crm_id: String,
    pub channel: String,
    pub outcome: String,
    pub note: String,
    pub attempted_at: String,
    pub staff: String,
    /// Empty when the attempt is about the contact as a whole.
    pub membership_type: String,
}

pub fn attempts(conn: &Connection, selection: &Selection<'_>) -> Result<Vec<AttemptRow>> {
    let sql = format!(
        "SELECT 'attempt:' || a.id, c.crm_id, a.channel, a.outcome, a.note, a.attempted_at,
             a.staff, COALESCE(m.membership_type, '')
         FROM contact_attempts a JOIN contacts c ON c.id = a.contact_id
         LEFT JOIN memberships m ON m.id = a.membership_id
         WHERE (CAST(:source AS TEXT) IS NULL OR c.source = :source)
           AND (CAST(:since AS TEXT) IS NULL OR substr(a.attempted_at, 1, 10) >= :since)
           AND {}",
        fresh("'attempt:' || a.id")
    );
    query_rows(conn, &sql, &selection.params(), |r| {
        Ok(AttemptRow {
            key: r.get(0)?,
            crm_id: r.get(1)?,
            channel: r.get(2)?,
            outcome: r.get(3)?,
            note: r.get(4)?,
            attempted_at: r.get(5)?,
            staff: r.get(6)?,
            membership_type: r.get(7)?,
        })
    })
}

/// An onboarding step ticked, to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRow {
    pub key: String,
    pub crm_id: String,
    pub step_key: String,
    pub done_at: String,
    pub done_by: String,
}

pub fn steps(conn: &Connection, selection: &Selection<'_>) -> Result<Vec<StepRow>> {
    let sql = format!(
        "SELECT 'step:' || s.contact_id || ':' || s.step_key, c.crm_id, s.step_key, s.done_at,
             s.done_by
         FROM onboarding_steps s JOIN contacts c ON c.id = s.contact_id
         WHERE (CAST(:source AS TEXT) IS NULL OR c.source = :source)
           AND (CAST(:since AS TEXT) IS NULL OR substr(s.done_at, 1, 10) >= :since)
           AND {}",
        fresh("'step:' || s.contact_id || ':' || s.step_key")
    );
    query_rows(conn, &sql, &selection.params(), |r| {
        Ok(StepRow {
            key: r.get(0)?,
            crm_id: r.get(1)?,
            step_key: r.get(2)?,
            done_at: r.get(3)?,
            done_by: r.get(4)?,
        })
    })
}

/// A comment on, or the resolution of, an escalation about a contact, to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationEventRow {
    pub key: String,
    pub crm_id: String,
    /// `comment` or `resolved`.
    pub kind: String,
    pub body: String,
    pub at: String,
    pub staff: String,
    pub escalation_id: i64,
    pub title: String,
    pub resolution: String,
}

pub fn escalation_events(
    conn: &Connection,
    selection: &Selection<'_>,
) -> Result<Vec<EscalationEventRow>> {
    let sql = format!(
        "SELECT 'escalation_event:' || e.id, c.crm_id, e.kind, e.body, e.at, e.staff, x.id,
             x.title, x.resolution
         FROM escalation_events e JOIN escalations x ON x.id = e.escalation_id
         JOIN contacts c ON c.id = x.contact_id
         WHERE e.kind IN ('comment', 'resolved')
           AND (CAST(:source AS TEXT) IS NULL OR c.source = :source)
           AND (CAST(:since AS TEXT) IS NULL OR substr(e.at, 1, 10) >= :since)
           AND {}",
        fresh("'escalation_event:' || e.id")
    );
    query_rows(conn, &sql, &selection.params(), |r| {
        Ok(EscalationEventRow {
            key: r.get(0)?,
            crm_id: r.get(1)?,
            kind: r.get(2)?,
            body: r.get(3)?,
            at: r.get(4)?,
            staff: r.get(5)?,
            escalation_id: r.get(6)?,
            title: r.get(7)?,
            resolution: r.get(8)?,
        })
    })
}

/// Records `keys` as exported at `now`; a key recorded before keeps its first date. Returns how
/// many were recorded for the first time.
pub fn record_exported<'k>(
    conn: &Connection,
    keys: impl IntoIterator<Item = &'k str>,
    now: &str,
) -> Result<usize> {
    let mut insert = conn.prepare(
        "INSERT INTO exported_activities (activity_key, exported_at) VALUES (?1, ?2)
         ON CONFLICT (activity_key) DO NOTHING",
    )?;
    let mut newly = 0;
    for key in keys {
        newly += insert.execute((key, now))?;
    }
    Ok(newly)
}
