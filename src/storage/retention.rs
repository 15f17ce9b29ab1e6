//! Storage limitation: who the retention rule (`[retention] erase_after_years` in config.toml)
//! would erase, the exceptions coordinators mark, and erasing them through
//! [`super::erase::forget_many`], the same path as `rollcall forget`.
//!
//! Someone is past the rule when every one of their memberships has an end date and the latest
//! is before the cutoff (today less N years). A lifetime membership (no end date) or one ending on
//! or after the cutoff keeps them; so does having no membership at all (nothing says when they
//! left). Of those past it, two kinds are kept and listed as kept: anyone with an unresolved
//! escalation about them or one of their memberships (a complaint or a request still being
//! handled), and anyone a coordinator marked to keep, with a reason.

use crate::storage::sql::{Connection, OptionalExtension, TransactionBehavior, params};
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use super::audit::{self, Change};
use super::erase::{self, Cause, ForgetReport};
use super::escalations::UNRESOLVED;
use super::{Result, Store};
use crate::Clock;

/// The first end date that is recent enough to keep: `today` less `years` years.
pub fn cutoff(today: NaiveDate, years: u32) -> NaiveDate {
    crate::domain::dates::sub_months(today, years.saturating_mul(12))
}

/// Someone past the retention rule, with what, if anything, keeps them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expired {
    pub contact_id: i64,
    pub source: String,
    pub crm_id: String,
    /// The end date of their last membership, `YYYY-MM-DD`.
    pub last_end: String,
    pub open_escalation: bool,
    pub keep: Option<Keep>,
}

impl Expired {
    /// Whether the rule erases them.
    pub fn erasable(&self) -> bool {
        !self.open_escalation && self.keep.is_none()
    }
}

/// A coordinator's exception to the retention rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Keep {
    pub reason: String,
    pub staff: String,
    pub kept_at: String,
}

/// Everyone whose last membership ended before `cutoff`, oldest end first.
pub fn expired(conn: &Connection, cutoff: NaiveDate) -> Result<Vec<Expired>> {
    let sql = format!(
        "SELECT c.id, c.source, c.crm_id, max(m.end_date),
                EXISTS (SELECT 1 FROM escalations e
                        WHERE (e.contact_id = c.id OR e.membership_id IN
                               (SELECT id FROM memberships WHERE contact_id = c.id))
                          AND {UNRESOLVED}),
                k.reason, k.staff, k.kept_at
         FROM contacts c
         JOIN memberships m ON m.contact_id = c.id
         LEFT JOIN retention_keeps k ON k.contact_id = c.id
         GROUP BY c.id, c.source, c.crm_id, k.reason, k.staff, k.kept_at
         HAVING count(m.end_date) = count(*) AND max(m.end_date) < ?1
         ORDER BY max(m.end_date), c.source, c.crm_id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([cutoff.to_string()], |r| {
        let reason: Option<String> = r.get(5)?;
        Ok(Expired {
            contact_id: r.get(0)?,
            source: r.get(1)?,
            crm_id: r.get(2)?,
            last_end: r.get(3)?,
            open_escalation: r.get(4)?,
            keep: match reason {
                Some(reason) => Some(Keep {
                    reason,
                    staff: r.get(6)?,
                    kept_at: r.get(7)?,
                }),
                None => None,
            },
        })
    })?;
    Ok(rows.collect::<crate::storage::sql::Result<_>>()?)
}

/// One exception as listed: whose (by CRM id) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Kept {
    pub source: String,
    pub crm_id: String,
    pub keep: Keep,
}

/// Every exception, by CRM id.
pub fn keeps(conn: &Connection) -> Result<Vec<Kept>> {
    let mut stmt = conn.prepare(
        "SELECT c.source, c.crm_id, k.reason, k.staff, k.kept_at
         FROM retention_keeps k JOIN contacts c ON c.id = k.contact_id
         ORDER BY c.source, c.crm_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Kept {
            source: r.get(0)?,
            crm_id: r.get(1)?,
            keep: Keep {
                reason: r.get(2)?,
                staff: r.get(3)?,
                kept_at: r.get(4)?,
            },
        })
    })?;
    Ok(rows.collect::<crate::storage::sql::Result<_>>()?)
}

/// Marks the contact to keep past the rule, or replaces the reason; audited.
pub fn keep(store: &mut Store, clock: &Clock, contact_id: i64, reason: &str) -> Result<()> {
    store.ensure_writable("marking a retention exception")?;
    let tx = store
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    let before = current_reason(&tx, contact_id)?;
    tx.execute(
        "INSERT INTO retention_keeps (contact_id, reason, staff, kept_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (contact_id) DO UPDATE SET reason = excluded.reason,
             staff = excluded.staff, kept_at = excluded.kept_at",
        params![contact_id, reason, clock.user, clock.now_rfc3339()],
    )?;
    audit::record(
        &tx,
        clock,
        Change {
            action: "retention.keep",
            entity: "retention_keep",
            entity_id: Some(contact_id),
            contact_id: Some(contact_id),
            before: before.map(|reason| json!({ "reason": reason })),
            after: Some(json!({ "reason": reason })),
        },
    )?;
    tx.commit()?;
    Ok(())
}

/// Removes the contact's exception; audited. False when there was none.
pub fn unkeep(store: &mut Store, clock: &Clock, contact_id: i64) -> Result<bool> {
    store.ensure_writable("removing a retention exception")?;
    let tx = store
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(before) = current_reason(&tx, contact_id)? else {
        return Ok(false);
    };
    tx.execute(
        "DELETE FROM retention_keeps WHERE contact_id = ?1",
        [contact_id],
    )?;
    audit::record(
        &tx,
        clock,
        Change {
            action: "retention.unkeep",
            entity: "retention_keep",
            entity_id: Some(contact_id),
            contact_id: Some(contact_id),
            before: Some(json!({ "reason": before })),
            after: None,
        },
    )?;
    tx.commit()?;
    Ok(true)
}

fn current_reason(conn: &Connection, contact_id: i64) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT reason FROM retention_keeps WHERE contact_id = ?1",
            [contact_id],
            |r| r.get(0),
        )
        .optional()?)
}

/// Erases the people in `confirmed` (contact ids the user was shown and agreed to) who are still
/// erasable under the rule now: someone renewed, escalated about or kept since the list was
/// shown is left alone. Records one audit line for the run, with no one named.
pub fn apply(
    store: &mut Store,
    clock: &Clock,
    years: u32,
    confirmed: &[i64],
) -> Result<Vec<ForgetReport>> {
    store.ensure_writable("erasing people past the retention rule")?;
    let cutoff = cutoff(clock.today, years);
    let still: Vec<i64> = expired(&store.conn, cutoff)?
        .into_iter()
        .filter(|e| e.erasable() && confirmed.contains(&e.contact_id))
        .map(|e| e.contact_id)
        .collect();
    let reports = erase::forget_many(store, clock, &still, Cause::Retention)?;
    audit::record(
        &store.conn,
        clock,
        Change {
            action: "retention.apply",
            entity: "retention",
            entity_id: None,
            contact_id: None,
            before: None,
            after: Some(json!({
                "erase_after_years": years,
                "cutoff": cutoff.to_string(),
                "erased": reports.len(),
                "left_alone": confirmed.len() - reports.len(),
            })),
        },
    )?;
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        crate::domain::dates::parse_iso(s).unwrap()
    }

    #[test]
    fn the_cutoff_is_today_less_the_years() {
        assert_eq!(cutoff(date("2026-03-02"), 6), date("2020-03-02"));
        assert_eq!(cutoff(date("2024-02-29"), 1), date("2023-02-28"));
    }

    #[test]
    fn only_people_whose_every_membership_ended_before_the_cutoff_are_past_it() {
        let store = Store::open_in_memory().unwrap();
        store
            .conn
            .execute_batch(
                "INSERT INTO contacts (id, source, crm_id) VALUES
                   (1, 'civicrm', 'old'), (2, 'civicrm', 'lifetime'), (3, 'civicrm', 'rejoined'),
                   (4, 'civicrm', 'edge'), (5, 'civicrm', 'escalated'), (6, 'civicrm', 'none');
                 INSERT INTO memberships (contact_id, source, sync_key, end_date) VALUES
                   (1, 'civicrm', 'a', '2018-01-31'), (1, 'civicrm', 'b', '2019-05-31'),
                   (2, 'civicrm', 'c', '2010-01-01'), (2, 'civicrm', 'd', NULL),
                   (3, 'civicrm', 'e', '2012-01-01'), (3, 'civicrm', 'f', '2027-01-01'),
                   (4, 'civicrm', 'g', '2020-03-02'),
                   (5, 'civicrm', 'h', '2015-06-30');
                 INSERT INTO escalations (contact_id, category, priority, title, opened_at,
                     opened_by, due_date, status)
                 VALUES (5, 'complaint', 'normal', 'x', '2026-01-01', 'amira', '2026-02-01',
                     'in_progress');",
            )
            .unwrap();
        let past = expired(&store.conn, date("2020-03-02")).unwrap();
        let summary: Vec<(&str, &str, bool)> = past
            .iter()
            .map(|e| (e.crm_id.as_str(), e.last_end.as_str(), e.erasable()))
            .collect();
        assert_eq!(
            summary,
            [
                ("escalated", "2015-06-30", false),
                ("old", "2019-05-31", true)
            ]
        );
    }
}
