//! A subject access request (UK GDPR article 15): everything rollcall holds on one person, read
//! in one transaction so the copy is consistent, and the request itself recorded.
//!
//! What "everything" is matches what [`super::erase`] deletes: the contact, their memberships
//! and the history import recorded for them, every rollcall-owned record about them, and the
//! audit lines about them (found exactly as erasure finds them). `export::subject_access`
//! writes it out; nothing here formats.

use crate::storage::sql::{Connection, OptionalExtension, Row, TransactionBehavior};
use serde::Serialize;

use super::audit::{self, AuditLine, Change};
use super::erase::{Scope, THEIR_MEMBERSHIPS, audit_lines_about};
use super::escalations::{self, UNRESOLVED, comment_in};
use super::member::ContactDetail;
use super::retention::Keep;
use super::{Result, Store};
use crate::Clock;

/// Everything rollcall holds on one person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubjectRecord {
    pub contact: Contact,
    /// The contact's tags as the CRM last exported them, sorted.
    pub tags: Vec<String>,
    pub memberships: Vec<Membership>,
    /// What imports recorded happening to their memberships, oldest first.
    pub membership_events: Vec<MembershipEvent>,
    /// The CRM fields imports saw change on them or their memberships, oldest first (the
    /// change feed, `super::changes`).
    pub field_changes: Vec<RecordedChange>,
    pub contact_attempts: Vec<ContactAttempt>,
    pub notes: Vec<Note>,
    pub snoozes: Vec<Snooze>,
    pub assignments: Vec<Assignment>,
    pub onboarding: Option<Onboarding>,
    pub onboarding_steps: Vec<OnboardingStep>,
    pub escalations: Vec<Escalation>,
    /// A coordinator's exception to the retention rule, if any.
    pub retention_keep: Option<Keep>,
    /// Changes made in rollcall about them, oldest first.
    pub audit_lines: Vec<AuditLine>,
}

/// The contact as the CRM exported it. The do-not flags are as the CRM holds them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
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
    pub do_not_email: bool,
    pub do_not_phone: bool,
    pub do_not_mail: bool,
    pub do_not_sms: bool,
    pub no_bulk_email: bool,
    pub on_hold: bool,
    pub is_deceased: bool,
    pub deceased_date: Option<String>,
    pub local_party: String,
    pub region: String,
    pub constituency: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Membership {
    pub id: i64,
    pub crm_membership_id: Option<String>,
    pub membership_type: String,
    pub join_date: Option<String>,
    pub start_date: Option<String>,
    /// None: lifetime.
    pub end_date: Option<String>,
    pub crm_status: String,
    pub membership_source: String,
    pub auto_renew: bool,
    /// The CRM gave the type only (NationBuilder's `membership_names`): no dates, not lifetime.
    pub dates_unknown: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MembershipEvent {
    pub membership_id: i64,
    /// joined | renewed | status_changed | missing | returned
    pub kind: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub occurred_on: String,
    pub import_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedChange {
    /// None: a field of the contact.
    pub membership_id: Option<i64>,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub occurred_on: String,
    pub import_id: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactAttempt {
    pub id: i64,
    pub membership_id: Option<i64>,
    pub channel: String,
    pub outcome: String,
    pub note: String,
    pub attempted_at: String,
    pub staff: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    pub id: i64,
    pub membership_id: Option<i64>,
    pub context: String,
    pub body: String,
    pub staff: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snooze {
    pub membership_id: i64,
    pub until: String,
    pub staff: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assignment {
    pub queue: String,
    pub assignee: String,
    pub staff: String,
    pub assigned_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Onboarding {
    pub anchor_date: String,
    pub added_by_hand: bool,
    pub added_by: String,
    pub added_at: String,
    pub state: String,
    pub closed_reason: String,
    pub closed_by: Option<String>,
    pub closed_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OnboardingStep {
    pub step_key: String,
    pub done_at: String,
    pub done_by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Escalation {
    pub id: i64,
    pub membership_id: Option<i64>,
    pub category: String,
    pub priority: String,
    pub title: String,
    pub description: String,
    pub assignee: Option<String>,
    pub status: String,
    pub opened_at: String,
    pub opened_by: String,
    pub due_date: String,
    pub resolved_at: Option<String>,
    pub resolution: String,
    /// The timeline: comments and changes, oldest first.
    pub events: Vec<EscalationEvent>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EscalationEvent {
    pub kind: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub body: String,
    pub staff: String,
    pub at: String,
}

/// Everything held on the contact with rollcall id `contact_id` (from
/// [`super::erase::find_contact`]), or None if there is no such contact.
pub fn gather(store: &mut Store, contact_id: i64) -> Result<Option<SubjectRecord>> {
    // One read transaction: an import or an app committing meanwhile cannot split the copy.
    let tx = store.conn.transaction()?;
    let Some(contact) = super::member::contact(&tx, contact_id)?.map(Contact::from) else {
        return Ok(None);
    };
    let record = SubjectRecord {
        tags: rows(
            &tx,
            "SELECT tag FROM contact_tags WHERE contact_id = ?1 ORDER BY tag",
            contact_id,
            |r| r.get(0),
        )?,
        memberships: rows(&tx, MEMBERSHIPS, contact_id, |r| {
            Ok(Membership {
                id: r.get(0)?,
                crm_membership_id: r.get(1)?,
                membership_type: r.get(2)?,
                join_date: r.get(3)?,
                start_date: r.get(4)?,
                end_date: r.get(5)?,
                crm_status: r.get(6)?,
                membership_source: r.get(7)?,
                auto_renew: r.get(8)?,
                dates_unknown: r.get::<_, i64>(9)? != 0,
            })
        })?,
        membership_events: rows(&tx, MEMBERSHIP_EVENTS, contact_id, |r| {
            Ok(MembershipEvent {
                membership_id: r.get(0)?,
                kind: r.get(1)?,
                old_value: r.get(2)?,
                new_value: r.get(3)?,
                occurred_on: r.get(4)?,
                import_id: r.get(5)?,
            })
        })?,
        field_changes: rows(&tx, FIELD_CHANGES, contact_id, |r| {
            Ok(RecordedChange {
                membership_id: r.get(0)?,
                field: r.get(1)?,
                old_value: r.get(2)?,
                new_value: r.get(3)?,
                occurred_on: r.get(4)?,
                import_id: r.get(5)?,
            })
        })?,
        contact_attempts: rows(&tx, CONTACT_ATTEMPTS, contact_id, |r| {
            Ok(ContactAttempt {
                id: r.get(0)?,
                membership_id: r.get(1)?,
                channel: r.get(2)?,
                outcome: r.get(3)?,
                note: r.get(4)?,
                attempted_at: r.get(5)?,
                staff: r.get(6)?,
            })
        })?,
        notes: rows(&tx, NOTES, contact_id, |r| {
            Ok(Note {
                id: r.get(0)?,
                membership_id: r.get(1)?,
                context: r.get(2)?,
                body: r.get(3)?,
                staff: r.get(4)?,
                created_at: r.get(5)?,
            })
        })?,
        snoozes: rows(&tx, SNOOZES, contact_id, |r| {
            Ok(Snooze {
                membership_id: r.get(0)?,
                until: r.get(1)?,
                staff: r.get(2)?,
                created_at: r.get(3)?,
            })
        })?,
        assignments: rows(&tx, ASSIGNMENTS, contact_id, |r| {
            Ok(Assignment {
                queue: r.get(0)?,
                assignee: r.get(1)?,
                staff: r.get(2)?,
                assigned_at: r.get(3)?,
            })
        })?,
        onboarding: rows(&tx, ONBOARDING, contact_id, |r| {
            Ok(Onboarding {
                anchor_date: r.get(0)?,
                added_by_hand: r.get(1)?,
                added_by: r.get(2)?,
                added_at: r.get(3)?,
                state: r.get(4)?,
                closed_reason: r.get(5)?,
                closed_by: r.get(6)?,
                closed_at: r.get(7)?,
            })
        })?
        .pop(),
        onboarding_steps: rows(&tx, ONBOARDING_STEPS, contact_id, |r| {
            Ok(OnboardingStep {
                step_key: r.get(0)?,
                done_at: r.get(1)?,
                done_by: r.get(2)?,
            })
        })?,
        escalations: escalations(&tx, contact_id)?,
        retention_keep: rows(&tx, RETENTION_KEEP, contact_id, |r| {
            Ok(Keep {
                reason: r.get(0)?,
                staff: r.get(1)?,
                kept_at: r.get(2)?,
            })
        })?
        .pop(),
        audit_lines: audit_lines(&tx, contact_id, &contact.crm_id)?,
        contact,
    };
    tx.commit()?;
    Ok(Some(record))
}

impl From<ContactDetail> for Contact {
    fn from(c: ContactDetail) -> Contact {
        Contact {
            id: c.id,
            source: c.source,
            crm_id: c.crm_id,
            contact_type: c.contact_type,
            display_name: c.display_name,
            sort_name: c.sort_name,
            first_name: c.first_name,
            last_name: c.last_name,
            organization_name: c.organization_name,
            email: c.email,
            phone: c.phone,
            street_address: c.street_address,
            city: c.city,
            postcode: c.postcode,
            county: c.county,
            country: c.country,
            preferred_language: c.preferred_language,
            do_not_email: c.flags.do_not_email,
            do_not_phone: c.flags.do_not_phone,
            do_not_mail: c.flags.do_not_mail,
            do_not_sms: c.flags.do_not_sms,
            no_bulk_email: c.flags.no_bulk_email,
            on_hold: c.flags.on_hold,
            is_deceased: c.flags.deceased,
            deceased_date: c.deceased_date,
            local_party: c.local_party,
            region: c.region,
            constituency: c.constituency,
        }
    }
}

const MEMBERSHIPS: &str = "SELECT id, crm_membership_id, membership_type, join_date, start_date, \
     end_date, crm_status, membership_source, auto_renew, \
     (SELECT count(*) FROM membership_dates_unknown u WHERE u.membership_id = memberships.id) \
     FROM memberships WHERE contact_id = ?1 \
     ORDER BY start_date, id";

const MEMBERSHIP_EVENTS: &str = "SELECT membership_id, kind, old_value, new_value, occurred_on, \
     import_id FROM membership_events WHERE membership_id IN \
     (SELECT id FROM memberships WHERE contact_id = ?1) ORDER BY occurred_on, id";

/// As erasure finds them: the contact's own, and any on their memberships.
const FIELD_CHANGES: &str = "SELECT membership_id, field, old_value, new_value, occurred_on, \
     import_id FROM field_changes WHERE contact_id = ?1 OR membership_id IN \
     (SELECT id FROM memberships WHERE contact_id = ?1) ORDER BY occurred_on, id";

const CONTACT_ATTEMPTS: &str = "SELECT id, membership_id, channel, outcome, note, attempted_at, \
     staff FROM contact_attempts WHERE contact_id = ?1 OR membership_id IN \
     (SELECT id FROM memberships WHERE contact_id = ?1) ORDER BY attempted_at, id";

const NOTES: &str = "SELECT id, membership_id, context, body, staff, created_at FROM notes \
     WHERE contact_id = ?1 OR membership_id IN (SELECT id FROM memberships WHERE contact_id = ?1) \
     ORDER BY created_at, id";

const SNOOZES: &str = "SELECT membership_id, until, staff, created_at FROM snoozes \
     WHERE membership_id IN (SELECT id FROM memberships WHERE contact_id = ?1) \
     ORDER BY created_at";

const ASSIGNMENTS: &str = "SELECT queue, assignee, staff, assigned_at FROM assignments \
     WHERE contact_id = ?1 ORDER BY queue";

const ONBOARDING: &str = "SELECT anchor_date, added_by_hand, added_by, added_at, state, \
     closed_reason, closed_by, closed_at FROM onboarding WHERE contact_id = ?1";

const ONBOARDING_STEPS: &str = "SELECT step_key, done_at, done_by FROM onboarding_steps \
     WHERE contact_id = ?1 ORDER BY done_at, step_key";

const RETENTION_KEEP: &str =
    "SELECT reason, staff, kept_at FROM retention_keeps WHERE contact_id = ?1";

fn rows<T>(
    conn: &Connection,
    sql: &str,
    contact_id: i64,
    read: impl FnMut(&Row<'_>) -> crate::storage::sql::Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare(sql)?;
    let found = stmt.query_map([contact_id], read)?;
    Ok(found.collect::<crate::storage::sql::Result<_>>()?)
}

/// Escalations about them or one of their memberships, each with its timeline.
fn escalations(conn: &Connection, contact_id: i64) -> Result<Vec<Escalation>> {
    let sql = format!(
        "SELECT id, membership_id, category, priority, title, description, assignee, status,
                opened_at, opened_by, due_date, resolved_at, resolution
         FROM escalations WHERE contact_id = ?1 OR membership_id IN {THEIR_MEMBERSHIPS}
         ORDER BY opened_at, id"
    );
    let mut escalations = rows(conn, &sql, contact_id, |r| {
        Ok(Escalation {
            id: r.get(0)?,
            membership_id: r.get(1)?,
            category: r.get(2)?,
            priority: r.get(3)?,
            title: r.get(4)?,
            description: r.get(5)?,
            assignee: r.get(6)?,
            status: r.get(7)?,
            opened_at: r.get(8)?,
            opened_by: r.get(9)?,
            due_date: r.get(10)?,
            resolved_at: r.get(11)?,
            resolution: r.get(12)?,
            events: Vec::new(),
        })
    })?;
    for escalation in &mut escalations {
        escalation.events = rows(
            conn,
            "SELECT kind, old_value, new_value, body, staff, at FROM escalation_events
             WHERE escalation_id = ?1 ORDER BY at, id",
            escalation.id,
            |r| {
                Ok(EscalationEvent {
                    kind: r.get(0)?,
                    old_value: r.get(1)?,
                    new_value: r.get(2)?,
                    body: r.get(3)?,
                    staff: r.get(4)?,
                    at: r.get(5)?,
                })
            },
        )?;
    }
    Ok(escalations)
}

/// The audit lines about them, found as erasure finds the lines it deletes.
fn audit_lines(conn: &Connection, contact_id: i64, crm_id: &str) -> Result<Vec<AuditLine>> {
    let scope = Scope::gather(conn, contact_id)?;
    let ids = audit_lines_about(conn, &scope, crm_id)?;
    let mut stmt = conn.prepare(&format!(
        "SELECT id, at, staff, action, entity, entity_id, contact_id, before, after FROM audit_log
         WHERE id IN ({}) ORDER BY id",
        super::erase::id_list(&ids)
    ))?;
    let lines = stmt.query_map([], |r| {
        Ok(AuditLine {
            id: r.get(0)?,
            at: r.get(1)?,
            staff: r.get(2)?,
            action: r.get(3)?,
            entity: r.get(4)?,
            entity_id: r.get(5)?,
            contact_id: r.get(6)?,
            before: r.get(7)?,
            after: r.get(8)?,
        })
    })?;
    Ok(lines.collect::<crate::storage::sql::Result<_>>()?)
}

/// How a subject access request was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recorded {
    /// The audit line of the request.
    pub audit_id: i64,
    /// The open data-protection escalation about them the request was linked to, if any: it
    /// got a comment saying the copy was sent.
    pub escalation_id: Option<i64>,
}

/// Records that everything held on `contact_id` was handed out, in one transaction: an audit
/// line (action `subject_access`) and, when a data-protection escalation about them is open
/// (the most recently opened, if several), a comment on it; the audit line names it. Errors are
/// the escalations' own, as the comment is an escalation change.
pub fn record_request(
    store: &mut Store,
    clock: &Clock,
    contact_id: i64,
) -> escalations::Result<Recorded> {
    store.ensure_writable("recording a subject access request")?;
    let tx = store
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    let escalation_id: Option<i64> = tx
        .query_row(
            &format!(
                "SELECT e.id FROM escalations e WHERE e.contact_id = ?1
                 AND e.category = 'data_protection' AND {UNRESOLVED}
                 ORDER BY e.opened_at DESC, e.id DESC LIMIT 1"
            ),
            [contact_id],
            |r| r.get(0),
        )
        .optional()?;
    let comment_event = match escalation_id {
        Some(id) => Some(comment_in(
            &tx,
            clock,
            id,
            &format!(
                "Subject access: a copy of everything rollcall holds on this member was \
                     written by {} on {}.",
                clock.user, clock.today
            ),
        )?),
        None => None,
    };
    let audit_id = audit::record_with_id(
        &tx,
        clock,
        Change {
            action: "subject_access",
            entity: "contact",
            entity_id: Some(contact_id),
            contact_id: Some(contact_id),
            before: None,
            after: Some(serde_json::json!({
                "escalation_id": escalation_id,
                "escalation_event_id": comment_event,
            })),
        },
    )?;
    tx.commit()?;
    Ok(Recorded {
        audit_id,
        escalation_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_contact_has_no_record() {
        let mut store = Store::open_in_memory().unwrap();
        assert_eq!(gather(&mut store, 42).unwrap(), None);
    }

    #[test]
    fn the_request_is_audited_and_linked_to_their_open_data_protection_escalation() {
        let mut store = Store::open_in_memory().unwrap();
        let clock = Clock::fixed(
            chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            "amira",
        );
        store
            .conn
            .execute_batch(
                "INSERT INTO contacts (id, source, crm_id) VALUES (7, 'civicrm', '4417');
                 INSERT INTO escalations (id, contact_id, category, priority, title, opened_at,
                     opened_by, due_date, status)
                 VALUES (3, 7, 'data_protection', 'high', 'SAR', '2026-03-01T09:00:00', 'amira',
                     '2026-04-01', 'open'),
                        (4, 7, 'data_protection', 'high', 'Old SAR', '2026-03-02T09:00:00',
                     'amira', '2026-04-01', 'resolved');",
            )
            .unwrap();
        let recorded = record_request(&mut store, &clock, 7).unwrap();
        assert_eq!(recorded.escalation_id, Some(3));
        let record = gather(&mut store, 7).unwrap().unwrap();
        let line = record
            .audit_lines
            .iter()
            .find(|l| l.id == recorded.audit_id)
            .unwrap();
        assert_eq!(line.action, "subject_access");
        assert!(
            line.after
                .as_deref()
                .unwrap()
                .contains("\"escalation_id\":3")
        );
        let comment = record.escalations[0].events.last().unwrap();
        assert_eq!(comment.kind, "comment");
        assert!(
            comment.body.starts_with("Subject access:"),
            "{}",
            comment.body
        );
        assert!(record.escalations[1].events.is_empty());
    }
}
