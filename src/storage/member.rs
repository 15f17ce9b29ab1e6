//! One member in full, for the member view: the contact, each membership with the CRM's status
//! and rollcall's own, and a timeline of everything that happened to them, from every table
//! that records something about a contact.

use crate::storage::sql::{Connection, OptionalExtension, Row, params};
use chrono::NaiveDate;

use crate::domain::dates::parse_iso;
use crate::domain::membership::{MembershipDates, derive_status, is_welsh};
use crate::domain::{ContactFlags, MemberStatus};

#[derive(Debug, Clone, PartialEq)]
pub struct ContactDetail {
    pub id: i64,
    pub source: String,
    pub crm_id: String,
    pub contact_type: String,
    pub display_name: String,
    pub sort_name: String,
    pub first_name: String,
    pub last_name: String,
    pub organization_name: String,
    pub email: String,
    pub phone: String,
    pub street_address: String,
    pub city: String,
    pub postcode: String,
    pub county: String,
    pub country: String,
    pub preferred_language: String,
    pub flags: ContactFlags,
    pub deceased_date: Option<String>,
    pub local_party: String,
    pub region: String,
    pub constituency: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MembershipDetail {
    pub id: i64,
    pub crm_membership_id: Option<String>,
    pub membership_type: String,
    pub join_date: Option<String>,
    pub start_date: Option<String>,
    /// None: lifetime.
    pub end_date: Option<String>,
    /// As exported, possibly stale.
    pub crm_status: String,
    /// rollcall's own status, from the dates and the as-of date.
    pub derived: MemberStatus,
    /// The CRM's status is not the one the dates give (or is not a status rollcall knows).
    pub disagrees: bool,
    pub membership_source: String,
    pub auto_renew: bool,
    /// The as-of date of the import from whose export this membership was first missing.
    pub missing_since: Option<String>,
}

/// One thing that happened, for the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    /// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS`.
    pub at: String,
    /// The staff member, or "import by <staff>" for what an import saw.
    pub who: String,
    pub what: String,
    /// Free text that goes with it (a note, an attempt's note, a comment); may be empty.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MemberDetail {
    pub contact: ContactDetail,
    pub memberships: Vec<MembershipDetail>,
    /// Newest first.
    pub timeline: Vec<TimelineEntry>,
}

/// Everything about one contact as of `today`, or None when there is no such contact.
pub fn load(
    conn: &Connection,
    contact_id: i64,
    today: NaiveDate,
) -> crate::storage::sql::Result<Option<MemberDetail>> {
    let Some(contact) = contact(conn, contact_id)? else {
        return Ok(None);
    };
    let memberships = memberships(conn, &contact, today)?;
    let timeline = timeline(conn, contact_id)?;
    Ok(Some(MemberDetail {
        contact,
        memberships,
        timeline,
    }))
}

pub(super) fn contact(
    conn: &Connection,
    id: i64,
) -> crate::storage::sql::Result<Option<ContactDetail>> {
    conn.query_row(
        "SELECT id, source, crm_id, contact_type, display_name, sort_name, first_name, last_name,
                organization_name, email, phone, street_address, city, postcode, county, country,
                preferred_language, do_not_email, do_not_phone, do_not_mail, do_not_sms,
                no_bulk_email, on_hold, is_deceased, deceased_date, local_party, region,
                constituency
         FROM contacts WHERE id = ?1",
        [id],
        |r| {
            let preferred_language: String = r.get(16)?;
            Ok(ContactDetail {
                id: r.get(0)?,
                source: r.get(1)?,
                crm_id: r.get(2)?,
                contact_type: r.get(3)?,
                display_name: r.get(4)?,
                sort_name: r.get(5)?,
                first_name: r.get(6)?,
                last_name: r.get(7)?,
                organization_name: r.get(8)?,
                email: r.get(9)?,
                phone: r.get(10)?,
                street_address: r.get(11)?,
                city: r.get(12)?,
                postcode: r.get(13)?,
                county: r.get(14)?,
                country: r.get(15)?,
                flags: ContactFlags {
                    do_not_email: r.get(17)?,
                    do_not_phone: r.get(18)?,
                    do_not_mail: r.get(19)?,
                    do_not_sms: r.get(20)?,
                    no_bulk_email: r.get(21)?,
                    on_hold: r.get(22)?,
                    deceased: r.get(23)?,
                    welsh: is_welsh(&preferred_language),
                },
                preferred_language,
                deceased_date: r.get(24)?,
                local_party: r.get(25)?,
                region: r.get(26)?,
                constituency: r.get(27)?,
            })
        },
    )
    .optional()
}

fn memberships(
    conn: &Connection,
    contact: &ContactDetail,
    today: NaiveDate,
) -> crate::storage::sql::Result<Vec<MembershipDetail>> {
    let mut stmt = conn.prepare(
        "SELECT m.id, m.crm_membership_id, m.membership_type, m.join_date, m.start_date,
                m.end_date, m.crm_status, m.membership_source, m.auto_renew, r.as_of,
                (SELECT count(*) FROM membership_dates_unknown u WHERE u.membership_id = m.id)
         FROM memberships m LEFT JOIN import_runs r ON r.id = m.missing_since
         WHERE m.contact_id = ?1
         ORDER BY m.end_date IS NULL DESC, m.end_date DESC, m.id",
    )?;
    let rows = stmt.query_map([contact.id], |r| {
        let join_date: Option<String> = r.get(3)?;
        let start_date: Option<String> = r.get(4)?;
        let end_date: Option<String> = r.get(5)?;
        let crm_status: String = r.get(6)?;
        let dates = MembershipDates {
            join: join_date.as_deref().and_then(parse_iso),
            start: start_date.as_deref().and_then(parse_iso),
            end: end_date.as_deref().and_then(parse_iso),
            dates_unknown: r.get::<_, i64>(10)? != 0,
        };
        let crm = MemberStatus::parse(&crm_status);
        let derived = derive_status(dates, crm, contact.flags.deceased, today);
        Ok(MembershipDetail {
            id: r.get(0)?,
            crm_membership_id: r.get(1)?,
            membership_type: r.get(2)?,
            join_date,
            start_date,
            end_date,
            disagrees: crm != Some(derived),
            crm_status,
            derived,
            membership_source: r.get(7)?,
            auto_renew: r.get(8)?,
            missing_since: r.get(9)?,
        })
    })?;
    rows.collect()
}

/// Everything that happened to a contact, newest first: what imports saw of their memberships,
/// contact attempts, notes, snoozes, assignments, onboarding and escalations, each with who did
/// it and when.
pub fn timeline(
    conn: &Connection,
    contact_id: i64,
) -> crate::storage::sql::Result<Vec<TimelineEntry>> {
    let mut out = Vec::new();
    let credited = credited_event_sql(conn.engine());
    let sources = std::iter::once((credited.as_str(), membership_event as Build))
        .chain(SOURCES.iter().copied());
    for (sql, build) in sources {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map(params![contact_id], build)?;
        for row in rows {
            out.push(row?);
        }
    }
    // Stable: entries at the same moment keep the order of the sources, and within one source the
    // later row (higher id) first, as each query orders them.
    out.sort_by(|a, b| b.at.cmp(&a.at));
    Ok(out)
}

type Build = fn(&Row) -> crate::storage::sql::Result<TimelineEntry>;

/// The membership events, first of the timeline's sources: a renewal says it was credited to a
/// contact attempt only when the credit rule still holds
/// ([`super::renewals::credit_condition`]), as everywhere a credit is counted.
fn credited_event_sql(engine: super::Engine) -> String {
    format!(
        "SELECT e.occurred_on, r.staff, e.kind, e.old_value, e.new_value, m.membership_type,
                ca.id
         FROM membership_events e JOIN memberships m ON m.id = e.membership_id
         LEFT JOIN import_runs r ON r.id = e.import_id
         LEFT JOIN contact_attempts ca ON ca.id = e.credited_attempt_id AND {}
         WHERE m.contact_id = ?1 ORDER BY e.id DESC",
        super::renewals::credit_condition(engine, "ca", "e.occurred_on")
    )
}

/// The rest of the timeline's sources, after [`credited_event_sql`].
const SOURCES: &[(&str, Build)] = &[
    // The CRM's "Member Since" date, for memberships whose joining no import saw (everything in
    // a source's first import): without it the history of a long-standing member starts with
    // whatever happened in rollcall.
    (
        "SELECT m.join_date, m.membership_type FROM memberships m
         WHERE m.contact_id = ?1 AND m.join_date IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM membership_events e
                           WHERE e.membership_id = m.id AND e.kind = 'joined')
         ORDER BY m.id DESC",
        |r| {
            Ok(TimelineEntry {
                at: r.get(0)?,
                who: "CRM".into(),
                what: format!("joined ({})", r.get::<_, String>(1)?),
                detail: "Member Since, as the CRM records it".into(),
            })
        },
    ),
    // What imports saw change in the CRM's fields (the change feed, `storage::changes`).
    (
        "SELECT fc.occurred_on, r.staff, fc.field, fc.old_value, fc.new_value, m.membership_type
         FROM field_changes fc LEFT JOIN import_runs r ON r.id = fc.import_id
         LEFT JOIN memberships m ON m.id = fc.membership_id
         WHERE fc.contact_id = ?1 ORDER BY fc.id DESC",
        |r| {
            let field: String = r.get(2)?;
            let shown = |v: Option<String>| v.filter(|v| !v.is_empty()).unwrap_or("-".into());
            let on = r
                .get::<_, Option<String>>(5)?
                .map(|t| format!(" ({t})"))
                .unwrap_or_default();
            Ok(TimelineEntry {
                at: r.get(0)?,
                who: format!(
                    "import by {}",
                    r.get::<_, Option<String>>(1)?.unwrap_or_default()
                ),
                what: format!("{} changed in the CRM{on}", words(&field)),
                detail: format!("{} → {}", shown(r.get(3)?), shown(r.get(4)?)),
            })
        },
    ),
    (
        "SELECT attempted_at, staff, channel, outcome, note FROM contact_attempts
         WHERE contact_id = ?1 ORDER BY id DESC",
        |r| {
            Ok(TimelineEntry {
                at: r.get(0)?,
                who: r.get(1)?,
                what: format!(
                    "{} contact: {}",
                    words(&r.get::<_, String>(2)?),
                    words(&r.get::<_, String>(3)?)
                ),
                detail: r.get(4)?,
            })
        },
    ),
    (
        "SELECT created_at, staff, context, body FROM notes WHERE contact_id = ?1
         ORDER BY id DESC",
        |r| {
            let context: String = r.get(2)?;
            Ok(TimelineEntry {
                at: r.get(0)?,
                who: r.get(1)?,
                what: if context.is_empty() {
                    "note".into()
                } else {
                    format!("note ({context})")
                },
                detail: r.get(3)?,
            })
        },
    ),
    (
        "SELECT s.created_at, s.staff, s.until, m.membership_type FROM snoozes s
         JOIN memberships m ON m.id = s.membership_id WHERE m.contact_id = ?1
         ORDER BY s.membership_id",
        |r| {
            Ok(TimelineEntry {
                at: r.get(0)?,
                who: r.get(1)?,
                what: format!(
                    "renewal follow-up snoozed until {} ({})",
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?
                ),
                detail: String::new(),
            })
        },
    ),
    (
        "SELECT assigned_at, staff, assignee, queue FROM assignments WHERE contact_id = ?1
         ORDER BY queue",
        |r| {
            Ok(TimelineEntry {
                at: r.get(0)?,
                who: r.get(1)?,
                what: format!(
                    "assigned to {} in {}",
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?
                ),
                detail: String::new(),
            })
        },
    ),
    (
        "SELECT added_at, added_by, added_by_hand FROM onboarding WHERE contact_id = ?1",
        |r| {
            Ok(TimelineEntry {
                at: r.get(0)?,
                who: r.get(1)?,
                what: if r.get(2)? {
                    "added to onboarding by hand".into()
                } else {
                    "added to onboarding (new member)".into()
                },
                detail: String::new(),
            })
        },
    ),
    (
        "SELECT closed_at, closed_by, state, closed_reason FROM onboarding
         WHERE contact_id = ?1 AND closed_at IS NOT NULL",
        |r| {
            Ok(TimelineEntry {
                at: r.get(0)?,
                who: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                what: format!("onboarding {}", r.get::<_, String>(2)?),
                detail: r.get(3)?,
            })
        },
    ),
    (
        "SELECT done_at, done_by, step_key FROM onboarding_steps WHERE contact_id = ?1
         ORDER BY step_key",
        |r| {
            Ok(TimelineEntry {
                at: r.get(0)?,
                who: r.get(1)?,
                what: format!("onboarding step done: {}", words(&r.get::<_, String>(2)?)),
                detail: String::new(),
            })
        },
    ),
    (
        "SELECT opened_at, opened_by, id, title, category, priority, description
         FROM escalations WHERE contact_id = ?1 ORDER BY id DESC",
        |r| {
            Ok(TimelineEntry {
                at: r.get(0)?,
                who: r.get(1)?,
                what: format!(
                    "escalation #{} opened: {} ({}, {})",
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    words(&r.get::<_, String>(4)?),
                    words(&r.get::<_, String>(5)?)
                ),
                detail: r.get(6)?,
            })
        },
    ),
    (
        // The escalation's own row above stands for its opening.
        "SELECT v.at, v.staff, v.escalation_id, v.kind, v.old_value, v.new_value, v.body
         FROM escalation_events v JOIN escalations e ON e.id = v.escalation_id
         WHERE e.contact_id = ?1 AND v.kind <> 'opened' ORDER BY v.id DESC",
        |r| {
            let change = change(r.get(4)?, r.get(5)?);
            Ok(TimelineEntry {
                at: r.get(0)?,
                who: r.get(1)?,
                what: format!(
                    "escalation #{} {}{change}",
                    r.get::<_, i64>(2)?,
                    words(&r.get::<_, String>(3)?)
                ),
                detail: r.get(6)?,
            })
        },
    ),
];

fn membership_event(r: &Row) -> crate::storage::sql::Result<TimelineEntry> {
    let staff: Option<String> = r.get(1)?;
    let kind: String = r.get(2)?;
    let old: Option<String> = r.get(3)?;
    let new: Option<String> = r.get(4)?;
    let membership_type: String = r.get(5)?;
    let credited: Option<i64> = r.get(6)?;
    let what = match kind.as_str() {
        "joined" => format!("joined ({membership_type})"),
        "renewed" => format!("renewed ({membership_type}): end date{}", change(old, new)),
        "status_changed" => format!("CRM status{} ({membership_type})", change(old, new)),
        "missing" => format!("missing from the CRM export ({membership_type})"),
        "returned" => format!("back in the CRM export ({membership_type})"),
        other => format!("{}{} ({membership_type})", words(other), change(old, new)),
    };
    Ok(TimelineEntry {
        at: r.get(0)?,
        who: staff.map_or_else(|| "import".to_owned(), |s| format!("import by {s}")),
        what,
        detail: if credited.is_some() {
            "credited to a contact attempt".into()
        } else {
            String::new()
        },
    })
}

/// ` old → new`, ` → new`, ` (was old)`, or nothing.
fn change(old: Option<String>, new: Option<String>) -> String {
    match (old.filter(|s| !s.is_empty()), new.filter(|s| !s.is_empty())) {
        (Some(o), Some(n)) => format!(" {o} → {n}"),
        (None, Some(n)) => format!(" → {n}"),
        (Some(o), None) => format!(" (was {o})"),
        (None, None) => String::new(),
    }
}

/// `left_message` → `left message`.
fn words(key: &str) -> String {
    key.replace('_', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Store;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    fn store() -> Store {
        let store = Store::open_in_memory().unwrap();
        store
            .conn
            .execute_batch(
                "INSERT INTO contacts (id, source, crm_id, display_name, preferred_language,
                     do_not_phone) VALUES (1, 'civicrm', '501', 'Test Person', 'cy_GB', 1);
                 INSERT INTO import_runs (id, started_at, finished_at, staff, as_of, file_name,
                     file_size, file_sha256, profile, source, encoding, date_order)
                   VALUES (1, '2026-10-01T08:00:00', '2026-10-01T08:01:00', 'bob', '2026-10-01',
                     'a.csv', 1, 'x', 'civicrm', 'civicrm', 'utf-8', 'iso'),
                          (2, '2026-11-20T08:00:00', '2026-11-20T08:01:00', 'ann', '2026-11-20',
                     'b.csv', 1, 'x', 'civicrm', 'civicrm', 'utf-8', 'iso');
                 INSERT INTO memberships (id, contact_id, source, sync_key, membership_type,
                     join_date, start_date, end_date, crm_status, missing_since)
                   VALUES (10, 1, 'civicrm', 'id:1', 'Individual', '2019-05-01', '2025-11-01',
                     '2026-10-31', 'Current', NULL),
                          (11, 1, 'civicrm', 'id:2', 'Youth', '2018-01-01', '2018-01-01',
                     '2019-12-31', 'Expired', 2);
                 INSERT INTO membership_events (membership_id, import_id, kind, old_value,
                     new_value, occurred_on)
                   VALUES (10, 1, 'renewed', '2025-10-31', '2026-10-31', '2026-10-01'),
                          (11, 2, 'missing', NULL, NULL, '2026-11-20');
                 INSERT INTO contact_attempts (contact_id, membership_id, channel, outcome, note,
                     attempted_at, staff)
                   VALUES (1, 10, 'email', 'left_message', 'sent the renewal link',
                     '2026-11-21T10:15:00', 'ann');
                 INSERT INTO notes (contact_id, context, body, staff, created_at)
                   VALUES (1, 'renewals', 'prefers a call in Welsh... by letter', 'cai',
                     '2026-11-22T14:00:00');
                 INSERT INTO escalations (id, contact_id, category, priority, title, opened_at,
                     opened_by, due_date)
                   VALUES (7, 1, 'renewal_problem', 'high', 'Card declined',
                     '2026-11-22T15:00:00', 'ann', '2026-11-25');
                 INSERT INTO escalation_events (escalation_id, kind, old_value, new_value, staff, at)
                   VALUES (7, 'opened', NULL, NULL, 'ann', '2026-11-22T15:00:00'),
                          (7, 'status', 'open', 'in_progress', 'dev', '2026-11-23T09:30:00');",
            )
            .unwrap();
        store
    }

    #[test]
    fn memberships_carry_both_statuses_and_flag_disagreement() {
        let store = store();
        let m = load(&store.conn, 1, today()).unwrap().unwrap();
        assert!(m.contact.flags.welsh && m.contact.flags.do_not_phone);
        let ind = &m.memberships[0];
        assert_eq!(
            (ind.crm_status.as_str(), ind.derived),
            ("Current", MemberStatus::Grace)
        );
        assert!(ind.disagrees);
        let youth = &m.memberships[1];
        assert_eq!(youth.derived, MemberStatus::Expired);
        assert!(!youth.disagrees);
        assert_eq!(youth.missing_since.as_deref(), Some("2026-11-20"));
        assert!(load(&store.conn, 99, today()).unwrap().is_none());
    }

    #[test]
    fn the_timeline_is_every_table_newest_first_with_who() {
        let store = store();
        let t = timeline(&store.conn, 1).unwrap();
        let seen: Vec<(&str, &str, &str)> = t
            .iter()
            .map(|e| (e.at.as_str(), e.who.as_str(), e.what.as_str()))
            .collect();
        assert_eq!(
            seen,
            vec![
                (
                    "2026-11-23T09:30:00",
                    "dev",
                    "escalation #7 status open → in_progress"
                ),
                (
                    "2026-11-22T15:00:00",
                    "ann",
                    "escalation #7 opened: Card declined (renewal problem, high)"
                ),
                ("2026-11-22T14:00:00", "cai", "note (renewals)"),
                ("2026-11-21T10:15:00", "ann", "email contact: left message"),
                (
                    "2026-11-20",
                    "import by ann",
                    "missing from the CRM export (Youth)"
                ),
                (
                    "2026-10-01",
                    "import by bob",
                    "renewed (Individual): end date 2025-10-31 → 2026-10-31"
                ),
                // No import saw these join, so the CRM's Member Since dates stand in.
                ("2019-05-01", "CRM", "joined (Individual)"),
                ("2018-01-01", "CRM", "joined (Youth)"),
            ]
        );
        assert_eq!(t[3].detail, "sent the renewal link");
    }
}
