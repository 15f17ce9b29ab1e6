//! Escalations in the store: opening one, the lists the pane and `rollcall escalations` show,
//! one case with its timeline, and every change to it.
//!
//! Every change runs in one immediate transaction that also writes an `escalation_events` row
//! (the timeline: who, when, old → new) and an audit line, after `ensure_writable`. Free text
//! (descriptions, comments, resolution notes) lives only in `escalations` and
//! `escalation_events`; the audit line points at the event instead of copying it, so an erasure
//! has one place to look.
//!
//! What each timeline entry holds:
//! - `opened`: new = `open`.
//! - `comment`: body = the comment.
//! - `status`: old → new status.
//! - `assignee`: old → new staff name (NULL = nobody).
//! - `priority`: old → new priority; body = the due date it gives, e.g. `due 2026-11-24 (was
//!   2026-12-07)`.
//! - `resolved`: old = the status it was resolved from, new = `resolved`; body = the note.
//! - `reopened`: old = `resolved`, new = `open`; body = why (may be empty).
//!
//! Import never writes to these tables: an escalation keeps pointing at its contact through
//! rollcall's own contact id, which re-imports update in place.

use std::str::FromStr;

use crate::storage::sql::ToSql;
use crate::storage::sql::{Connection, OptionalExtension, Transaction, params};
use chrono::NaiveDate;
use serde_json::json;

use super::audit::{self, Change};
use super::erase::Lookup;
use super::{Store, StoreError};
use crate::Clock;
use crate::config::EscalationsConfig;
use crate::domain::escalation::{
    Category, EventKind, Priority, RuleError, Status, View, check_assignee, check_changeable,
    check_comment, check_reopen, check_resolve, check_status_change, check_title, due_date,
};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error("escalation #{0} does not exist")]
    NotFound(i64),
    #[error("no contact with rollcall id {0}")]
    NoSuchContact(i64),
    #[error("no membership with rollcall id {0}")]
    NoSuchMembership(i64),
    #[error("no contact has CRM id `{crm_id}`{}", in_source(.from_source))]
    UnknownCrmId {
        crm_id: String,
        from_source: Option<String>,
    },
    #[error(
        "CRM id `{crm_id}` belongs to contacts from more than one source ({}); say which with \
         --source", .sources.join(", ")
    )]
    AmbiguousCrmId {
        crm_id: String,
        sources: Vec<String>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<super::staff::AssigneeError> for Error {
    fn from(e: super::staff::AssigneeError) -> Self {
        match e {
            super::staff::AssigneeError::NotOnStaff(why) => Error::Rule(RuleError::NotOnStaff(why)),
            super::staff::AssigneeError::Store(e) => Error::Store(e.into()),
        }
    }
}

fn in_source(source: &Option<String>) -> String {
    source
        .as_ref()
        .map(|s| format!(" in source `{s}`"))
        .unwrap_or_default()
}

impl From<crate::storage::sql::Error> for Error {
    fn from(e: crate::storage::sql::Error) -> Error {
        Error::Store(StoreError::from(e))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What is needed to open an escalation.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEscalation {
    /// rollcall's contact id; None when the escalation is not about one member.
    pub contact_id: Option<i64>,
    pub membership_id: Option<i64>,
    pub category: Category,
    pub priority: Priority,
    pub title: String,
    pub description: String,
    /// A staff name, or None for unassigned.
    pub assignee: Option<String>,
}

/// One escalation as a list shows it. Holds no description: a list never shows one.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: i64,
    /// rollcall's contact id.
    pub contact_id: Option<i64>,
    /// The contact's id in its CRM.
    pub crm_id: Option<String>,
    pub member_name: Option<String>,
    pub category: Category,
    pub priority: Priority,
    pub status: Status,
    pub title: String,
    pub assignee: Option<String>,
    pub opened: NaiveDate,
    pub due: NaiveDate,
    pub resolved_on: Option<NaiveDate>,
}

/// One timeline entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: i64,
    pub kind: EventKind,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub body: String,
    pub staff: String,
    /// `YYYY-MM-DDTHH:MM:SS`.
    pub at: String,
}

/// One escalation with everything about it, for the opened case.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub row: Row,
    pub source: Option<String>,
    pub membership_id: Option<i64>,
    /// e.g. "Individual, ends 2026-12-01".
    pub membership: Option<String>,
    pub description: String,
    pub opened_at: String,
    pub opened_by: String,
    pub resolved_at: Option<String>,
    pub resolution: String,
    /// Oldest first.
    pub timeline: Vec<Event>,
}

/// How many escalations each pane view holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub mine: i64,
    pub unassigned: i64,
    pub overdue: i64,
    pub open: i64,
    pub resolved: i64,
}

impl Counts {
    pub fn of(&self, view: View) -> i64 {
        match view {
            View::Mine => self.mine,
            View::Unassigned => self.unassigned,
            View::Overdue => self.overdue,
            View::Open => self.open,
            View::Resolved => self.resolved,
            View::All => self.open + self.resolved,
        }
    }
}

/// Who a new escalation is about, for the editor's "About" line.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberSummary {
    pub contact_id: i64,
    pub name: String,
    pub crm_id: String,
    pub source: String,
    pub membership: Option<String>,
}

pub(super) const UNRESOLVED: &str = "e.status IN ('open', 'in_progress', 'waiting_on_member')";

/// A contact's name for a list: display name, else first and last, else organisation, else
/// its CRM id.
const MEMBER_NAME: &str = "COALESCE(NULLIF(c.display_name, ''), \
     NULLIF(TRIM(c.first_name || ' ' || c.last_name), ''), NULLIF(c.organization_name, ''), \
     'CRM ' || c.crm_id)";

const PRIORITY_RANK: &str =
    "CASE e.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END";

fn row_select() -> String {
    format!(
        "SELECT e.id, e.contact_id, c.crm_id, CASE WHEN c.id IS NULL THEN NULL ELSE {MEMBER_NAME} END,
                e.category, e.priority, e.status, e.title, e.assignee,
                e.opened_at, e.due_date, e.resolved_at
         FROM escalations e LEFT JOIN contacts c ON c.id = e.contact_id"
    )
}

fn read_row(r: &crate::storage::sql::Row<'_>) -> crate::storage::sql::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        contact_id: r.get(1)?,
        crm_id: r.get(2)?,
        member_name: r.get(3)?,
        category: parsed(r, 4)?,
        priority: parsed(r, 5)?,
        status: parsed(r, 6)?,
        title: r.get(7)?,
        assignee: r.get(8)?,
        opened: date(r, 9)?,
        due: date(r, 10)?,
        resolved_on: r
            .get::<_, Option<String>>(11)?
            .map(|s| date_of(&s, 11))
            .transpose()?,
    })
}

/// A stored spelling read back; a value rollcall never writes is reported, not guessed at.
fn parsed<T: FromStr<Err = String>>(
    r: &crate::storage::sql::Row<'_>,
    i: usize,
) -> crate::storage::sql::Result<T> {
    let text: String = r.get(i)?;
    text.parse()
        .map_err(|e: String| crate::storage::sql::Error::Other(format!("column {i}: {e}")))
}

fn date(r: &crate::storage::sql::Row<'_>, i: usize) -> crate::storage::sql::Result<NaiveDate> {
    date_of(&r.get::<_, String>(i)?, i)
}

/// The date of a `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS` column.
fn date_of(text: &str, i: usize) -> crate::storage::sql::Result<NaiveDate> {
    text.get(..10)
        .and_then(crate::domain::dates::parse_iso)
        .ok_or_else(|| {
            crate::storage::sql::Error::Other(format!("column {i}: `{text}` is not a date"))
        })
}

/// The escalations in `view` for staff member `user` on `today`. Sorted by due date (then
/// priority, then id), except Resolved: the most recently resolved first.
pub fn list(conn: &Connection, view: View, user: &str, today: NaiveDate) -> Result<Vec<Row>> {
    let today = today.to_string();
    let (filter, args): (String, Vec<&dyn ToSql>) = match view {
        View::Mine => (format!("{UNRESOLVED} AND e.assignee = ?1"), vec![&user]),
        View::Unassigned => (format!("{UNRESOLVED} AND e.assignee IS NULL"), vec![]),
        View::Overdue => (format!("{UNRESOLVED} AND e.due_date < ?1"), vec![&today]),
        View::Open => (UNRESOLVED.to_owned(), vec![]),
        View::Resolved => ("e.status = 'resolved'".to_owned(), vec![]),
        View::All => ("1 = 1".to_owned(), vec![]),
    };
    let order = match view {
        View::Resolved => "e.resolved_at DESC, e.id DESC".to_owned(),
        _ => format!("e.due_date, {PRIORITY_RANK}, e.id"),
    };
    let sql = format!("{} WHERE {filter} ORDER BY {order}", row_select());
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(args.as_slice(), read_row)?;
    Ok(rows.collect::<crate::storage::sql::Result<_>>()?)
}

/// How many escalations each pane view holds for `user` on `today`.
pub fn counts(conn: &Connection, user: &str, today: NaiveDate) -> Result<Counts> {
    let sql = format!(
        "SELECT
           COALESCE(SUM(CASE WHEN {UNRESOLVED} AND e.assignee = ?1 THEN 1 ELSE 0 END), 0),
           COALESCE(SUM(CASE WHEN {UNRESOLVED} AND e.assignee IS NULL THEN 1 ELSE 0 END), 0),
           COALESCE(SUM(CASE WHEN {UNRESOLVED} AND e.due_date < ?2 THEN 1 ELSE 0 END), 0),
           COALESCE(SUM(CASE WHEN {UNRESOLVED} THEN 1 ELSE 0 END), 0),
           COALESCE(SUM(CASE WHEN e.status = 'resolved' THEN 1 ELSE 0 END), 0)
         FROM escalations e"
    );
    Ok(conn.query_row(&sql, params![user, today.to_string()], |r| {
        Ok(Counts {
            mine: r.get(0)?,
            unassigned: r.get(1)?,
            overdue: r.get(2)?,
            open: r.get(3)?,
            resolved: r.get(4)?,
        })
    })?)
}

/// One escalation with its timeline, or None if there is no such escalation.
pub fn detail(conn: &Connection, id: i64) -> Result<Option<Detail>> {
    let sql = format!(
        "SELECT e.id, e.contact_id, c.crm_id, CASE WHEN c.id IS NULL THEN NULL ELSE {MEMBER_NAME} END,
                e.category, e.priority, e.status, e.title, e.assignee,
                e.opened_at, e.due_date, e.resolved_at,
                c.source, e.membership_id, e.description, e.opened_by, e.resolution,
                m.membership_type, m.end_date
         FROM escalations e
         LEFT JOIN contacts c ON c.id = e.contact_id
         LEFT JOIN memberships m ON m.id = e.membership_id
         WHERE e.id = ?1"
    );
    let found = conn
        .query_row(&sql, [id], |r| {
            let row = read_row(r)?;
            let membership_id: Option<i64> = r.get(13)?;
            let (kind, end) = (r.get(17)?, r.get(18)?);
            let membership = membership_id.map(|_| describe_membership(kind, end));
            Ok(Detail {
                opened_at: r.get(9)?,
                resolved_at: r.get(11)?,
                source: r.get(12)?,
                membership_id,
                membership,
                description: r.get(14)?,
                opened_by: r.get(15)?,
                resolution: r.get(16)?,
                row,
                timeline: Vec::new(),
            })
        })
        .optional()?;
    let Some(mut detail) = found else {
        return Ok(None);
    };
    detail.timeline = timeline(conn, id)?;
    Ok(Some(detail))
}

fn describe_membership(kind: Option<String>, end: Option<String>) -> String {
    let kind = kind
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| "Membership".into());
    match end {
        Some(end) => format!("{kind}, ends {end}"),
        None => format!("{kind}, no end date"),
    }
}

/// The timeline of one escalation, oldest first.
pub fn timeline(conn: &Connection, id: i64) -> Result<Vec<Event>> {
    let mut stmt = conn.prepare(
        "SELECT id, kind, old_value, new_value, body, staff, at FROM escalation_events
         WHERE escalation_id = ?1 ORDER BY at, id",
    )?;
    let events = stmt.query_map([id], |r| {
        Ok(Event {
            id: r.get(0)?,
            kind: parsed(r, 1)?,
            old_value: r.get(2)?,
            new_value: r.get(3)?,
            body: r.get(4)?,
            staff: r.get(5)?,
            at: r.get(6)?,
        })
    })?;
    Ok(events.collect::<crate::storage::sql::Result<_>>()?)
}

/// Opens an escalation dated `clock.today`, due by the rules of
/// [`crate::domain::escalation::due_date`]. Returns its id.
pub fn open(
    store: &mut Store,
    clock: &Clock,
    targets: &EscalationsConfig,
    new: &NewEscalation,
) -> Result<i64> {
    let title = check_title(&new.title)?;
    let assignee = match &new.assignee {
        Some(name) => check_assignee(name)?,
        None => None,
    };
    let description = new.description.trim_end().to_owned();
    let due = due_date(new.category, new.priority, clock.today, targets);
    store.write("opening an escalation", |tx| {
        if let Some(name) = &assignee {
            super::staff::check_assignee(tx, name)?;
        }
        let contact_id = linked_contact(tx, new.contact_id, new.membership_id)?;
        let id = tx.insert_id(
            "escalations",
            "INSERT INTO escalations (contact_id, membership_id, category, priority, title,
                 description, assignee, status, opened_at, opened_by, due_date)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'open', ?8, ?9, ?10)",
            params![
                contact_id,
                new.membership_id,
                new.category.as_str(),
                new.priority.as_str(),
                title,
                description,
                assignee,
                clock.now_rfc3339(),
                clock.user,
                due.to_string(),
            ],
        )?;
        let opened = add_event(tx, clock, id, EventKind::Opened, None, Some("open"), "")?;
        if let Some(name) = &assignee {
            add_event(tx, clock, id, EventKind::Assignee, None, Some(name), "")?;
        }
        let after = json!({
            "category": new.category.as_str(),
            "priority": new.priority.as_str(),
            "title": title,
            "assignee": assignee,
            "membership_id": new.membership_id,
            "due_date": due.to_string(),
            "event_id": opened,
        });
        record(tx, clock, "escalation.opened", id, contact_id, None, after)?;
        Ok(id)
    })
}

/// The contact an escalation is about: the one given, or the membership's; refuses a
/// membership of some other contact.
fn linked_contact(
    tx: &Transaction<'_>,
    contact_id: Option<i64>,
    membership_id: Option<i64>,
) -> Result<Option<i64>> {
    if let Some(id) = contact_id {
        let exists: Option<i64> = tx
            .query_row("SELECT id FROM contacts WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        exists.ok_or(Error::NoSuchContact(id))?;
    }
    let Some(membership) = membership_id else {
        return Ok(contact_id);
    };
    let owner: i64 = tx
        .query_row(
            "SELECT contact_id FROM memberships WHERE id = ?1",
            [membership],
            |r| r.get(0),
        )
        .optional()?
        .ok_or(Error::NoSuchMembership(membership))?;
    match contact_id {
        Some(id) if id != owner => Err(RuleError::MembershipOfAnotherContact.into()),
        _ => Ok(Some(owner)),
    }
}

/// Moves an escalation to another status (not to resolved, which needs a note: [`resolve`]).
pub fn set_status(store: &mut Store, clock: &Clock, id: i64, to: Status) -> Result<()> {
    store.write("changing an escalation's status", |tx| {
        let now = current(tx, id)?;
        check_status_change(now.status, to)?;
        tx.execute(
            "UPDATE escalations SET status = ?2 WHERE id = ?1",
            params![id, to.as_str()],
        )?;
        let (old, new) = (now.status.as_str(), to.as_str());
        let event = add_event(tx, clock, id, EventKind::Status, Some(old), Some(new), "")?;
        record(
            tx,
            clock,
            "escalation.status",
            id,
            now.contact_id,
            Some(json!({ "status": old })),
            json!({ "status": new, "event_id": event }),
        )
    })
}

/// Assigns an escalation to a staff member, or to nobody with None.
pub fn set_assignee(
    store: &mut Store,
    clock: &Clock,
    id: i64,
    assignee: Option<&str>,
) -> Result<()> {
    let assignee = match assignee {
        Some(name) => check_assignee(name)?,
        None => None,
    };
    store.write("assigning an escalation", |tx| {
        let now = current(tx, id)?;
        check_changeable(now.status)?;
        if now.assignee == assignee {
            return Err(RuleError::SameAssignee.into());
        }
        if let Some(name) = &assignee {
            super::staff::check_assignee(tx, name)?;
        }
        tx.execute(
            "UPDATE escalations SET assignee = ?2 WHERE id = ?1",
            params![id, assignee],
        )?;
        let (old, new) = (now.assignee.as_deref(), assignee.as_deref());
        let event = add_event(tx, clock, id, EventKind::Assignee, old, new, "")?;
        record(
            tx,
            clock,
            "escalation.assignee",
            id,
            now.contact_id,
            Some(json!({ "assignee": old })),
            json!({ "assignee": new, "event_id": event }),
        )
    })
}

/// Changes the priority and with it the due date, counted again from the day the escalation
/// was opened (a data protection request keeps its one-month date). Returns the new due date.
pub fn set_priority(
    store: &mut Store,
    clock: &Clock,
    targets: &EscalationsConfig,
    id: i64,
    priority: Priority,
) -> Result<NaiveDate> {
    store.write("changing an escalation's priority", |tx| {
        let now = current(tx, id)?;
        check_changeable(now.status)?;
        if now.priority == priority {
            return Err(RuleError::SamePriority(priority).into());
        }
        let due = due_date(now.category, priority, now.opened, targets);
        tx.execute(
            "UPDATE escalations SET priority = ?2, due_date = ?3 WHERE id = ?1",
            params![id, priority.as_str(), due.to_string()],
        )?;
        let body = if due == now.due {
            format!("due {due} (unchanged)")
        } else {
            format!("due {due} (was {})", now.due)
        };
        let (old, new) = (now.priority.as_str(), priority.as_str());
        let event = add_event(
            tx,
            clock,
            id,
            EventKind::Priority,
            Some(old),
            Some(new),
            &body,
        )?;
        record(
            tx,
            clock,
            "escalation.priority",
            id,
            now.contact_id,
            Some(json!({ "priority": old, "due_date": now.due.to_string() })),
            json!({ "priority": new, "due_date": due.to_string(), "event_id": event }),
        )?;
        Ok(due)
    })
}

/// Adds a comment to the timeline (resolved escalations too: a later word is never lost).
pub fn comment(store: &mut Store, clock: &Clock, id: i64, body: &str) -> Result<()> {
    store.write("commenting on an escalation", |tx| {
        comment_in(tx, clock, id, body).map(|_| ())
    })
}

/// [`comment`] inside a caller's transaction, for a change that comments as it goes (a subject
/// access request answered). Returns the timeline entry's id.
pub(super) fn comment_in(tx: &Transaction<'_>, clock: &Clock, id: i64, body: &str) -> Result<i64> {
    let body = check_comment(body)?;
    let now = current(tx, id)?;
    let event = add_event(tx, clock, id, EventKind::Comment, None, None, &body)?;
    record(
        tx,
        clock,
        "escalation.comment",
        id,
        now.contact_id,
        None,
        json!({ "event_id": event }),
    )?;
    Ok(event)
}

/// Resolves an escalation from any unresolved status, with a resolution note.
pub fn resolve(store: &mut Store, clock: &Clock, id: i64, note: &str) -> Result<()> {
    store.write("resolving an escalation", |tx| {
        let now = current(tx, id)?;
        let note = check_resolve(now.status, note)?;
        tx.execute(
            "UPDATE escalations SET status = 'resolved', resolved_at = ?2, resolution = ?3
             WHERE id = ?1",
            params![id, clock.now_rfc3339(), note],
        )?;
        let old = now.status.as_str();
        let event = add_event(
            tx,
            clock,
            id,
            EventKind::Resolved,
            Some(old),
            Some("resolved"),
            &note,
        )?;
        record(
            tx,
            clock,
            "escalation.resolved",
            id,
            now.contact_id,
            Some(json!({ "status": old })),
            json!({ "status": "resolved", "event_id": event }),
        )
    })
}

/// Reopens a resolved escalation: back to open, its due date as it was. `reason` may be empty;
/// the resolution note stays in the timeline.
pub fn reopen(store: &mut Store, clock: &Clock, id: i64, reason: &str) -> Result<()> {
    store.write("reopening an escalation", |tx| {
        let now = current(tx, id)?;
        check_reopen(now.status)?;
        tx.execute(
            "UPDATE escalations SET status = 'open', resolved_at = NULL, resolution = ''
             WHERE id = ?1",
            [id],
        )?;
        let event = add_event(
            tx,
            clock,
            id,
            EventKind::Reopened,
            Some("resolved"),
            Some("open"),
            reason.trim(),
        )?;
        record(
            tx,
            clock,
            "escalation.reopened",
            id,
            now.contact_id,
            Some(json!({ "status": "resolved" })),
            json!({ "status": "open", "event_id": event }),
        )
    })
}

/// rollcall's id of the contact with CRM id `crm_id` (in `source`, when given).
pub fn contact_by_crm_id(conn: &Connection, crm_id: &str, source: Option<&str>) -> Result<i64> {
    match super::erase::find_contact(conn, crm_id, source)? {
        Lookup::Found { id, .. } => Ok(id),
        Lookup::Ambiguous { sources } => Err(Error::AmbiguousCrmId {
            crm_id: crm_id.to_owned(),
            sources,
        }),
        Lookup::Erased { .. } | Lookup::NotFound => Err(Error::UnknownCrmId {
            crm_id: crm_id.to_owned(),
            from_source: source.map(str::to_owned),
        }),
    }
}

/// Who a new escalation would be about (the editor's "About" line).
pub fn member_summary(
    conn: &Connection,
    contact_id: i64,
    membership_id: Option<i64>,
) -> Result<MemberSummary> {
    let sql = format!("SELECT {MEMBER_NAME}, c.crm_id, c.source FROM contacts c WHERE c.id = ?1");
    let (name, crm_id, source) = conn
        .query_row(&sql, [contact_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?
        .ok_or(Error::NoSuchContact(contact_id))?;
    let membership = match membership_id {
        Some(m) => Some(
            conn.query_row(
                "SELECT membership_type, end_date FROM memberships WHERE id = ?1 AND contact_id = ?2",
                [m, contact_id],
                |r| Ok(describe_membership(r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or(Error::NoSuchMembership(m))?,
        ),
        None => None,
    };
    Ok(MemberSummary {
        contact_id,
        name,
        crm_id,
        source,
        membership,
    })
}

/// The fields a change is checked against.
struct Current {
    contact_id: Option<i64>,
    category: Category,
    priority: Priority,
    status: Status,
    assignee: Option<String>,
    opened: NaiveDate,
    due: NaiveDate,
}

fn current(tx: &Transaction<'_>, id: i64) -> Result<Current> {
    tx.query_row(
        "SELECT contact_id, category, priority, status, assignee, opened_at, due_date
         FROM escalations WHERE id = ?1",
        [id],
        |r| {
            Ok(Current {
                contact_id: r.get(0)?,
                category: parsed(r, 1)?,
                priority: parsed(r, 2)?,
                status: parsed(r, 3)?,
                assignee: r.get(4)?,
                opened: date(r, 5)?,
                due: date(r, 6)?,
            })
        },
    )
    .optional()?
    .ok_or(Error::NotFound(id))
}

fn add_event(
    tx: &Transaction<'_>,
    clock: &Clock,
    id: i64,
    kind: EventKind,
    old: Option<&str>,
    new: Option<&str>,
    body: &str,
) -> Result<i64> {
    Ok(tx.insert_id(
        "escalation_events",
        "INSERT INTO escalation_events (escalation_id, kind, old_value, new_value, body, staff, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            id,
            kind.as_str(),
            old,
            new,
            body,
            clock.user,
            clock.now_rfc3339()
        ],
    )?)
}

fn record(
    tx: &Transaction<'_>,
    clock: &Clock,
    action: &str,
    id: i64,
    contact_id: Option<i64>,
    before: Option<serde_json::Value>,
    after: serde_json::Value,
) -> Result<()> {
    audit::record(
        tx,
        clock,
        Change {
            action,
            entity: "escalation",
            entity_id: Some(id),
            contact_id,
            before,
            after: Some(after),
        },
    )?;
    Ok(())
}
