//! The figures: what changed in the last import, each officer's work for today, and the team's
//! numbers. The Today pane, `rollcall stats` and the tests all call these same functions, so the
//! screen and the command line can never disagree.
//!
//! Definitions (also in docs/today.md):
//! - **Status** is rollcall's own status ([`derive_status`]) as of the as-of date, worked out in
//!   SQL by [`status_sql`] with the date thresholds computed in Rust from the same date rule, so it
//!   is exact and runs as one pass over 550,000 rows.
//! - The team figures count memberships present in the latest export (`missing_since IS NULL`);
//!   a membership that vanished from the export is reported under "since the last import" instead.
//! - **Members by region / local party**: contacts, not deceased, holding at least one membership
//!   whose status counts as a member (New, Current, Grace).
//! - **Joiners in month M**: memberships whose join date ("Member Since") is in M.
//! - **Leavers in month M**: memberships whose status turned Expired in M, i.e. whose lapse day
//!   (end date + 1 month, then the day after) is in M and not after the as-of date. A renewed
//!   membership's end date has moved on, so it is not a leaver. Cancelled, Pending and Deceased
//!   memberships never turn Expired, so they are not counted.
//! - **Due in month M**: memberships whose end date was in M: their current end date, or the old
//!   end date of a `renewed` event. Deceased contacts are left out.
//! - **Renewed within grace**: of those, the ones with a `renewed` event whose old end date is in M
//!   and which was seen (`occurred_on`) no later than old end + 1 month. **Renewal rate** =
//!   renewed within grace / due. A month is *provisional* while its last grace day has not passed.
//! - **Won back after a contact in month M**: `renewed` events seen in M that are credited to a
//!   contact attempt by the credit rule ([`credit_condition`], docs/renewals.md) and whose old
//!   end date was before the day they were seen (renewed after lapsing).
//! - **Renewed** (since the last import): [`RENEWED_IN_IMPORT_SQL`], the same memberships the
//!   renewals pane's renewed view lists; **after a contact**: those credited by the same rule.

use std::collections::{BTreeMap, HashSet};

use crate::storage::sql::ToSql;
use crate::storage::sql::{Connection, OptionalExtension, Value};
use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;

use crate::config::Config;
use crate::domain::MemberStatus;
use crate::domain::changes::ChangeKind;
use crate::domain::dates::{add_months, parse_iso, sub_months};
#[cfg(doc)]
use crate::domain::membership::derive_status;
use crate::storage::renewals::{RENEWED_IN_IMPORT_SQL, credit_condition};

/// A "will renew" promise is checked once it is this many days old and the membership has not
/// renewed.
pub const PROMISE_CHECK_DAYS: i64 = 7;

/// How many months the monthly figures cover, ending with the as-of date's month.
pub const MONTHS: usize = 12;

// ------------------------------------------------------------------ rollcall status in SQL

/// The date thresholds that let SQL apply [`derive_status`] with plain comparisons of ISO dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusThresholds {
    pub today: NaiveDate,
    /// A join date on or after this (and not after today) is still within its New months.
    pub new_from: NaiveDate,
    /// An end date before today but on or after this is still within its grace month.
    pub grace_from: NaiveDate,
}

impl StatusThresholds {
    pub fn new(today: NaiveDate) -> StatusThresholds {
        StatusThresholds {
            today,
            // New while today < join + 3 months.
            new_from: first_date_where(sub_months(today, 3), |j| add_months(j, 3) > today),
            // Grace while today <= end + 1 month.
            grace_from: first_date_where(sub_months(today, 1), |e| add_months(e, 1) >= today),
        }
    }
}

/// The first date at or around `near` for which `holds` is true, for a `holds` that is false up
/// to some date and true from then on (month arithmetic is monotonic, but clamping at month ends
/// moves the edge by up to three days from the naive answer).
fn first_date_where(near: NaiveDate, holds: impl Fn(NaiveDate) -> bool) -> NaiveDate {
    let mut day = near - Duration::days(7);
    while !holds(day) {
        day += Duration::days(1);
    }
    day
}

/// An SQL expression giving a membership's rollcall status as its [`status_code`], for a query
/// with `m` (a membership) in scope and the named parameters `:today`, `:new_from` and
/// `:grace_from` bound from [`StatusThresholds`]. It mirrors [`derive_status`] rule by rule (tests
/// check the two agree on every combination of dates around the edges). CRM statuses spelt as
/// CiviCRM spells them take a fast path; anything else is compared as
/// [`MemberStatus::parse`] reads it (trimmed, any case).
pub fn status_sql() -> String {
    let dates = "CASE
            WHEN m.join_date IS NOT NULL AND m.join_date >= :new_from AND m.join_date <= :today
                 AND (m.end_date IS NULL OR m.end_date >= :today) THEN 0
            WHEN m.end_date IS NULL OR m.end_date >= :today THEN 1
            WHEN m.end_date >= :grace_from THEN 2
            ELSE 3
        END";
    format!(
        "(CASE
            WHEN m.contact_id IN (SELECT id FROM contacts WHERE is_deceased <> 0) THEN 6
            WHEN m.id IN (SELECT membership_id FROM membership_dates_unknown) THEN {DATES_UNKNOWN_CODE}
            WHEN m.crm_status IN ('', 'New', 'Current', 'Grace', 'Expired') THEN
                CASE WHEN COALESCE(m.start_date, m.join_date) > :today THEN 4 ELSE {dates} END
            WHEN lower(trim(m.crm_status)) = 'deceased' THEN 6
            WHEN lower(trim(m.crm_status)) IN ('cancelled', 'canceled') THEN 5
            WHEN lower(trim(m.crm_status)) = 'pending' THEN 4
            WHEN COALESCE(m.start_date, m.join_date) > :today THEN 4
            ELSE {dates}
        END)"
    )
}

/// [`MemberStatus::DatesUnknown`]'s number in [`status_sql`] (it is not in
/// [`MemberStatus::ALL`], so no figure counts it under any status).
const DATES_UNKNOWN_CODE: i64 = 7;

/// A status's number in [`status_sql`]: its place in [`MemberStatus::ALL`].
pub fn status_code(status: MemberStatus) -> i64 {
    if status == MemberStatus::DatesUnknown {
        return DATES_UNKNOWN_CODE;
    }
    MemberStatus::ALL
        .iter()
        .position(|&s| s == status)
        .unwrap_or(0) as i64
}

pub fn status_from_code(code: i64) -> Option<MemberStatus> {
    if code == DATES_UNKNOWN_CODE {
        return Some(MemberStatus::DatesUnknown);
    }
    usize::try_from(code)
        .ok()
        .and_then(|i| MemberStatus::ALL.get(i).copied())
}

/// Named parameters of a query; only those the statement uses are bound, so one set serves every
/// query here.
#[derive(Default)]
pub struct Params {
    values: Vec<(&'static str, Value)>,
}

impl Params {
    pub fn set(mut self, name: &'static str, value: impl ToSql + 'static) -> Params {
        self.values.push((name, value.to_sql().to_owned()));
        self
    }

    /// The status thresholds for `today`.
    pub fn status(self, today: NaiveDate) -> Params {
        let t = StatusThresholds::new(today);
        self.set(":today", iso(t.today))
            .set(":new_from", iso(t.new_from))
            .set(":grace_from", iso(t.grace_from))
    }

    /// `sql` with its `:name`s numbered, and the values to bind.
    fn bind(&self, sql: &str) -> (String, Vec<Value>) {
        crate::storage::sql::named_to_numbered(sql, &self.values)
    }
}

/// Runs `sql` with `params`, mapping each row.
pub fn query_rows<T>(
    conn: &Connection,
    sql: &str,
    params: &Params,
    mut map: impl FnMut(&crate::storage::sql::Row<'_>) -> crate::storage::sql::Result<T>,
) -> crate::storage::sql::Result<Vec<T>> {
    let (sql, values) = params.bind(sql);
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(values)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(map(&row)?);
    }
    Ok(out)
}

fn count(conn: &Connection, count_sql: &str, params: &Params) -> crate::storage::sql::Result<u64> {
    let n: Vec<i64> = query_rows(conn, count_sql, params, |r| r.get(0))?;
    Ok(n.first().copied().unwrap_or(0) as u64)
}

pub fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

// ------------------------------------------------------------------ since the last import

/// The last finished import and the one before it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportSummary {
    pub id: i64,
    pub as_of: String,
    pub finished_at: String,
    pub file_name: String,
    /// The as-of date of the import before it, if any: "lapsed" counts end dates from there.
    pub previous_as_of: Option<String>,
}

/// What the last import changed, in memberships.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SinceImport {
    pub import: Option<ImportSummary>,
    pub joined: u64,
    pub renewed: u64,
    /// Of `renewed`, those credited to a contact attempt by the credit rule
    /// ([`credit_condition`]).
    pub renewed_after_contact: u64,
    pub lapsed: u64,
    pub vanished: u64,
    /// Contacts whose CRM fields the last import saw change, by kind of change (the change
    /// feed, `super::changes`), the kinds Today names in their order.
    pub crm_changes: Vec<ChangeCount>,
}

/// How many contacts had one kind of change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeCount {
    pub kind: ChangeKind,
    pub contacts: u64,
}

/// The kinds of change Today names, most often work for someone first: membership changes are
/// already there as joined, renewed and lapsed.
pub const TODAY_CHANGE_KINDS: [ChangeKind; 7] = [
    ChangeKind::LocalParty,
    ChangeKind::Moved,
    ChangeKind::EmailBouncing,
    ChangeKind::Deceased,
    ChangeKind::Email,
    ChangeKind::Phone,
    ChangeKind::Preferences,
];

impl ChangeCount {
    /// As [`ChangeCount::describe`], shorter, for a line of the Today pane.
    pub fn short(&self) -> String {
        match self.kind {
            ChangeKind::EmailBouncing if self.contacts == 1 => "1 email bouncing".to_owned(),
            ChangeKind::EmailBouncing => format!("{} emails bouncing", thousands(self.contacts)),
            _ => self.describe(),
        }
    }

    /// "14 moved local party", "9 emails started bouncing".
    pub fn describe(&self) -> String {
        let n = self.contacts;
        let what = match self.kind {
            ChangeKind::LocalParty => "moved local party",
            ChangeKind::Moved => "moved house",
            ChangeKind::EmailBouncing if n == 1 => "email started bouncing",
            ChangeKind::EmailBouncing => "emails started bouncing",
            ChangeKind::Deceased => "deceased",
            ChangeKind::Email if n == 1 => "new email",
            ChangeKind::Email => "new emails",
            ChangeKind::Phone if n == 1 => "new phone",
            ChangeKind::Phone => "new phones",
            ChangeKind::Preferences => "changed preferences",
            other => other.name(),
        };
        format!("{} {what}", thousands(n))
    }
}

fn crm_changes(conn: &Connection, import_id: i64) -> crate::storage::sql::Result<Vec<ChangeCount>> {
    let counts = super::changes::contacts_by_kind(conn, import_id, &TODAY_CHANGE_KINDS)?;
    Ok(TODAY_CHANGE_KINDS
        .iter()
        .filter_map(|kind| {
            counts
                .iter()
                .find(|(k, _)| k == kind)
                .map(|&(kind, contacts)| ChangeCount { kind, contacts })
        })
        .collect())
}

pub fn last_import(conn: &Connection) -> crate::storage::sql::Result<Option<ImportSummary>> {
    let latest = conn
        .query_row(
            "SELECT id, as_of, finished_at, file_name FROM import_runs
             WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((id, as_of, finished_at, file_name)) = latest else {
        return Ok(None);
    };
    let previous_as_of = conn
        .query_row(
            "SELECT as_of FROM import_runs WHERE finished_at IS NOT NULL AND id < ?1
             ORDER BY id DESC LIMIT 1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(Some(ImportSummary {
        id,
        as_of,
        finished_at,
        file_name,
        previous_as_of,
    }))
}

/// Counts of joined, renewed, lapsed and vanished memberships in the last import.
pub fn since_last_import(conn: &Connection) -> crate::storage::sql::Result<SinceImport> {
    let import = last_import(conn)?;
    let Some(summary) = &import else {
        return Ok(SinceImport {
            import,
            joined: 0,
            renewed: 0,
            renewed_after_contact: 0,
            lapsed: 0,
            vanished: 0,
            crm_changes: Vec::new(),
        });
    };
    let params = import_params(summary);
    let n = |kind: ListKind| count(conn, &kind.count_sql(conn), &params);
    Ok(SinceImport {
        joined: n(ListKind::Joined)?,
        renewed: n(ListKind::Renewed)?,
        renewed_after_contact: count(conn, &renewed_after_contact_sql(conn.engine()), &params)?,
        lapsed: n(ListKind::Lapsed)?,
        vanished: n(ListKind::Vanished)?,
        crm_changes: crm_changes(conn, summary.id)?,
        import,
    })
}

/// Counts the last import's renewals (as Today and the renewed view list them) that are credited
/// to a contact attempt.
fn renewed_after_contact_sql(engine: crate::storage::Engine) -> String {
    format!(
        "SELECT COUNT(DISTINCT e.membership_id) FROM membership_events e
         JOIN contact_attempts ca ON ca.id = e.credited_attempt_id AND {}
         WHERE e.kind = 'renewed' AND e.import_id = :import
           AND e.membership_id IN ({RENEWED_IN_IMPORT_SQL})",
        credit_condition(engine, "ca", "e.occurred_on")
    )
}

fn import_params(summary: &ImportSummary) -> Params {
    Params::default()
        .set(":import", summary.id)
        .set(":as_of", summary.as_of.clone())
        .set(":prev_as_of", summary.previous_as_of.clone())
}

// ------------------------------------------------------------------ lists behind the counts

/// Each count on the Today pane, and the list of members behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    /// Memberships the last import saw for the first time.
    Joined,
    /// Memberships whose end date the last import moved forward.
    Renewed,
    /// Memberships whose end date passed between the previous import's as-of date and the last
    /// one's, or that the CRM itself moved to Expired in the last import.
    Lapsed,
    /// Memberships absent from the last (full) export.
    Vanished,
    /// Snoozed renewals of mine whose date has come, with nothing logged since.
    FollowUps,
    /// "Will renew" promises of mine at least [`PROMISE_CHECK_DAYS`] old, not yet renewed.
    Promises,
    /// Onboarding steps of mine (assigned to me) due today or overdue.
    OnboardingDue,
    /// Open escalations assigned to me, due today or overdue.
    MyEscalations,
    /// Open escalations nobody owns.
    UnassignedEscalations,
    /// Members and escalations someone else assigned to me in the last [`HANDOFF_DAYS`] days,
    /// newest first, with who and when: a hand-off reaches its new owner's Today at once.
    HandedToMe,
}

/// How far back "Handed to me" looks.
pub const HANDOFF_DAYS: i64 = 7;

impl ListKind {
    pub const SINCE_IMPORT: [ListKind; 4] = [
        ListKind::Joined,
        ListKind::Renewed,
        ListKind::Lapsed,
        ListKind::Vanished,
    ];
    pub const MY_WORK: [ListKind; 6] = [
        ListKind::FollowUps,
        ListKind::Promises,
        ListKind::OnboardingDue,
        ListKind::MyEscalations,
        ListKind::UnassignedEscalations,
        ListKind::HandedToMe,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ListKind::Joined => "Joined",
            ListKind::Renewed => "Renewed",
            ListKind::Lapsed => "Lapsed",
            ListKind::Vanished => "Vanished from the export",
            ListKind::FollowUps => "Renewals to follow up today",
            ListKind::Promises => "\"Will renew\" promises to check",
            ListKind::OnboardingDue => "Onboarding steps due",
            ListKind::MyEscalations => "My escalations due",
            ListKind::UnassignedEscalations => "Unassigned escalations",
            ListKind::HandedToMe => "Handed to me",
        }
    }

    /// The memberships behind a since-the-last-import count (one `membership_id` column), or
    /// None for the my-work kinds, whose lists are short and are counted as listed.
    fn keys_sql(self) -> Option<&'static str> {
        Some(match self {
            ListKind::Joined => {
                "SELECT DISTINCT membership_id FROM membership_events
                 WHERE import_id = :import AND kind = 'joined'"
            }
            ListKind::Renewed => RENEWED_IN_IMPORT_SQL,
            ListKind::Vanished => {
                "SELECT DISTINCT membership_id FROM membership_events
                 WHERE import_id = :import AND kind = 'missing'"
            }
            ListKind::Lapsed => {
                "SELECT membership_id FROM membership_events
                 WHERE import_id = :import AND kind = 'status_changed'
                   AND lower(trim(new_value)) IN ('expired', 'lapsed')
                 UNION
                 SELECT m.id FROM memberships m
                 WHERE CAST(:prev_as_of AS TEXT) IS NOT NULL
                   AND m.end_date >= :prev_as_of AND m.end_date < :as_of
                   AND m.missing_since IS NULL
                   AND m.contact_id NOT IN (SELECT id FROM contacts WHERE is_deceased <> 0)
                   AND lower(trim(m.crm_status))
                       NOT IN ('cancelled', 'canceled', 'pending', 'deceased')"
            }
            _ => return None,
        })
    }

    /// The query counting this kind's rows.
    fn count_sql(self, engine: &Connection) -> String {
        match self.keys_sql() {
            Some(keys) => format!("SELECT COUNT(*) FROM ({keys}) AS k"),
            None => format!("SELECT COUNT(*) FROM ({}) AS l", self.list_sql(engine)),
        }
    }

    /// The query listing this kind's rows as (contact_id, membership_id, escalation_id, name,
    /// what, date, detail), ordered as the pane shows them.
    fn list_sql(self, engine: &Connection) -> String {
        const MEMBER: &str = "SELECT m.contact_id, m.id, NULL, c.display_name, m.membership_type";
        const MINE_RENEWALS: &str = "EXISTS (SELECT 1 FROM assignments g WHERE
             g.contact_id = m.contact_id AND g.queue = 'renewals' AND g.assignee = :me)";
        const ESCALATION: &str = "SELECT x.contact_id, x.membership_id, x.id,
             COALESCE(c.display_name, ''), x.title, x.due_date,
             x.priority || ' · ' || replace(x.status, '_', ' ')
             FROM escalations x LEFT JOIN contacts c ON c.id = x.contact_id
             WHERE x.status <> 'resolved'";
        if let Some(keys) = self.keys_sql() {
            let (date, detail) = match self {
                ListKind::Joined => ("m.join_date", "c.local_party"),
                ListKind::Renewed => (
                    "m.end_date",
                    "'was ' || COALESCE((SELECT e.old_value FROM membership_events e
                         WHERE e.membership_id = m.id AND e.import_id = :import
                           AND e.kind = 'renewed' LIMIT 1), '')",
                ),
                _ => ("m.end_date", "'CRM status ' || m.crm_status"),
            };
            return format!(
                "{MEMBER}, {date}, {detail}
                 FROM memberships m JOIN contacts c ON c.id = m.contact_id
                 WHERE m.id IN ({keys})
                 ORDER BY c.sort_name, m.id"
            );
        }
        match self {
            ListKind::FollowUps => format!(
                "{MEMBER}, s.until, 'snoozed by ' || s.staff
                 FROM snoozes s JOIN memberships m ON m.id = s.membership_id
                 JOIN contacts c ON c.id = m.contact_id
                 WHERE s.until <= :today AND c.is_deceased = 0
                   AND NOT EXISTS (SELECT 1 FROM contact_attempts a
                       WHERE a.membership_id = s.membership_id
                         AND substr(a.attempted_at, 1, 10) >= s.until)
                   AND NOT EXISTS (SELECT 1 FROM membership_events r
                       WHERE r.membership_id = s.membership_id AND r.kind = 'renewed'
                         AND r.occurred_on >= substr(s.created_at, 1, 10))
                   AND ({MINE_RENEWALS}
                     OR (SELECT a.staff FROM contact_attempts a
                         WHERE a.membership_id = s.membership_id
                         ORDER BY a.attempted_at DESC, a.id DESC LIMIT 1) = :me
                     OR (s.staff = :me AND NOT EXISTS (SELECT 1 FROM assignments g
                         WHERE g.contact_id = m.contact_id AND g.queue = 'renewals')))
                 ORDER BY s.until, c.sort_name, m.id"
            ),
            ListKind::Promises => "SELECT a.contact_id, a.membership_id, NULL, c.display_name,
                     COALESCE(m.membership_type, ''), substr(a.attempted_at, 1, 10),
                     a.channel || ' · logged by ' || a.staff
                 FROM contact_attempts a JOIN contacts c ON c.id = a.contact_id
                 LEFT JOIN memberships m ON m.id = a.membership_id
                 WHERE a.outcome = 'will_renew' AND substr(a.attempted_at, 1, 10) <= :promise_cutoff
                   AND c.is_deceased = 0
                   AND (a.staff = :me OR EXISTS (SELECT 1 FROM assignments g WHERE
                       g.contact_id = a.contact_id AND g.queue = 'renewals' AND g.assignee = :me))
                   AND NOT EXISTS (SELECT 1 FROM contact_attempts b
                       WHERE b.contact_id = a.contact_id
                         AND (b.membership_id = a.membership_id
                              OR (b.membership_id IS NULL AND a.membership_id IS NULL))
                         AND (b.attempted_at > a.attempted_at
                              OR (b.attempted_at = a.attempted_at AND b.id > a.id)))
                   AND NOT EXISTS (SELECT 1 FROM membership_events r
                       JOIN memberships rm ON rm.id = r.membership_id
                       WHERE rm.contact_id = a.contact_id AND r.kind = 'renewed'
                         AND (a.membership_id IS NULL OR r.membership_id = a.membership_id)
                         AND r.occurred_on >= substr(a.attempted_at, 1, 10))
                 ORDER BY a.attempted_at, c.sort_name, a.id"
                .to_owned(),
            // The plan's steps come as one JSON parameter; a step is due its number of days
            // after the anchor date. The two engines spell both differently.
            ListKind::OnboardingDue => format!(
                "WITH plan(step_key, label, due_days, ord) AS ({plan}),
                 due AS (
                     SELECT o.contact_id, plan.label, plan.ord, {due_on} AS due_on,
                         c.display_name, c.sort_name, c.local_party
                     FROM onboarding o
                     JOIN assignments g ON g.contact_id = o.contact_id
                          AND g.queue = 'onboarding' AND g.assignee = :me
                     JOIN contacts c ON c.id = o.contact_id
                     CROSS JOIN plan
                     WHERE o.state = 'active' AND c.is_deceased = 0
                       AND NOT EXISTS (SELECT 1 FROM onboarding_steps s
                           WHERE s.contact_id = o.contact_id AND s.step_key = plan.step_key))
                 SELECT contact_id, NULL, NULL, display_name, label, due_on, local_party
                 FROM due WHERE due_on <= :today
                 ORDER BY due_on, sort_name, contact_id, ord",
                plan = engine.pick(
                    "SELECT value ->> 'key', value ->> 'label', value ->> 'due_days', key
                     FROM json_each(:plan)",
                    "SELECT p.value ->> 'key', p.value ->> 'label',
                         CAST(p.value ->> 'due_days' AS BIGINT), p.ord
                     FROM json_array_elements(CAST(:plan AS json)) WITH ORDINALITY
                         AS p(value, ord)",
                ),
                due_on = engine.pick(
                    "date(o.anchor_date, '+' || plan.due_days || ' days')",
                    "to_char(CAST(o.anchor_date AS date) + CAST(plan.due_days AS integer),
                         'YYYY-MM-DD')",
                ),
            ),
            ListKind::MyEscalations => format!(
                "{ESCALATION} AND x.assignee = :me AND x.due_date <= :today
                 ORDER BY x.due_date, x.id"
            ),
            // Who assigned it is the assignment's staff (queues) or the assignee event's.
            ListKind::HandedToMe => "SELECT contact_id, membership_id, escalation_id, name, what,
                     substr(at, 1, 10), 'from ' || staff || ' at ' || substr(at, 12, 5)
                 FROM (SELECT g.contact_id AS contact_id, NULL AS membership_id,
                           NULL AS escalation_id, c.display_name AS name,
                           g.queue || ' follow-up' AS what, g.assigned_at AS at, g.staff AS staff
                       FROM assignments g JOIN contacts c ON c.id = g.contact_id
                       WHERE g.assignee = :me AND g.staff <> :me AND c.is_deceased = 0
                         AND substr(g.assigned_at, 1, 10) >= :handoff_since
                       UNION ALL
                       SELECT x.contact_id, x.membership_id, x.id, COALESCE(c.display_name, ''),
                           x.title, e.at, e.staff
                       FROM escalations x
                       JOIN escalation_events e ON e.escalation_id = x.id
                       LEFT JOIN contacts c ON c.id = x.contact_id
                       WHERE x.status <> 'resolved' AND x.assignee = :me
                         AND e.kind = 'assignee' AND e.new_value = :me AND e.staff <> :me
                         AND substr(e.at, 1, 10) >= :handoff_since) AS h
                 ORDER BY at DESC, name"
                .to_owned(),
            _ => format!(
                "{ESCALATION} AND COALESCE(x.assignee, '') = ''
                 ORDER BY x.due_date, x.id"
            ),
        }
    }
}

/// One row of a list behind a count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListRow {
    pub contact_id: Option<i64>,
    pub membership_id: Option<i64>,
    pub escalation_id: Option<i64>,
    pub name: String,
    /// Membership type, onboarding step or escalation title.
    pub what: String,
    /// The date that matters for this list (join, new end, snooze, due...).
    pub date: Option<String>,
    pub detail: String,
}

/// Who is asking and on what day, for the lists and counts that depend on it.
#[derive(Debug, Clone)]
pub struct WorkContext {
    pub today: NaiveDate,
    pub user: String,
    pub steps: Vec<OnboardingStep>,
}

impl WorkContext {
    fn params(&self) -> Params {
        let plan = serde_json::to_string(&self.steps).unwrap_or_else(|_| "[]".into());
        Params::default()
            .set(":today", iso(self.today))
            .set(":me", self.user.clone())
            .set(
                ":promise_cutoff",
                iso(self.today - Duration::days(PROMISE_CHECK_DAYS)),
            )
            .set(":plan", plan)
            .set(
                ":handoff_since",
                iso(self.today - Duration::days(HANDOFF_DAYS)),
            )
    }
}

/// The rows behind one count, at most `limit` of them, and how many there are in all.
pub fn list(
    conn: &Connection,
    kind: ListKind,
    work: &WorkContext,
    limit: usize,
) -> crate::storage::sql::Result<(Vec<ListRow>, u64)> {
    let mut params = work.params();
    if ListKind::SINCE_IMPORT.contains(&kind) {
        match last_import(conn)? {
            Some(summary) => {
                params.values.extend(import_params(&summary).values);
            }
            None => return Ok((Vec::new(), 0)),
        }
    }
    let total = count(conn, &kind.count_sql(conn), &params)?;
    let limited = format!("{} LIMIT {limit}", kind.list_sql(conn));
    let rows = query_rows(conn, &limited, &params, |r| {
        Ok(ListRow {
            contact_id: r.get(0)?,
            membership_id: r.get(1)?,
            escalation_id: r.get(2)?,
            name: r.get(3)?,
            what: r.get(4)?,
            date: r.get(5)?,
            detail: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
        })
    })?;
    Ok((rows, total))
}

// ------------------------------------------------------------------ my work

/// How much of each kind of work is waiting for `WorkContext::user` today.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MyWork {
    pub user: String,
    pub follow_ups: u64,
    pub promises: u64,
    pub onboarding_due: u64,
    pub my_escalations: u64,
    pub unassigned_escalations: u64,
    pub handed_to_me: u64,
}

impl MyWork {
    pub fn count(&self, kind: ListKind) -> u64 {
        match kind {
            ListKind::FollowUps => self.follow_ups,
            ListKind::Promises => self.promises,
            ListKind::OnboardingDue => self.onboarding_due,
            ListKind::MyEscalations => self.my_escalations,
            ListKind::UnassignedEscalations => self.unassigned_escalations,
            ListKind::HandedToMe => self.handed_to_me,
            _ => 0,
        }
    }
}

impl SinceImport {
    pub fn count(&self, kind: ListKind) -> u64 {
        match kind {
            ListKind::Joined => self.joined,
            ListKind::Renewed => self.renewed,
            ListKind::Lapsed => self.lapsed,
            ListKind::Vanished => self.vanished,
            _ => 0,
        }
    }
}

pub fn my_work(conn: &Connection, work: &WorkContext) -> crate::storage::sql::Result<MyWork> {
    let params = work.params();
    let n = |kind: ListKind| count(conn, &kind.count_sql(conn), &params);
    Ok(MyWork {
        user: work.user.clone(),
        follow_ups: n(ListKind::FollowUps)?,
        promises: n(ListKind::Promises)?,
        onboarding_due: n(ListKind::OnboardingDue)?,
        my_escalations: n(ListKind::MyEscalations)?,
        unassigned_escalations: n(ListKind::UnassignedEscalations)?,
        handed_to_me: n(ListKind::HandedToMe)?,
    })
}

// ------------------------------------------------------------------ onboarding steps

/// One step of the onboarding path: the figures use the same steps as the onboarding queue.
pub use crate::domain::onboarding::Step as OnboardingStep;

/// The built-in onboarding path (`assets/onboarding.toml`).
pub fn default_onboarding_steps() -> Vec<OnboardingStep> {
    crate::domain::onboarding::StepPath::default_path()
        .steps()
        .to_vec()
}

/// The configured onboarding steps (`[onboarding] steps_file`), or the defaults; a broken steps
/// file is an error naming the file and line, as in the onboarding queue.
pub fn onboarding_steps(config: &Config) -> anyhow::Result<Vec<OnboardingStep>> {
    Ok(
        crate::domain::onboarding::StepPath::from_config(&config.onboarding)?
            .steps()
            .to_vec(),
    )
}

// ------------------------------------------------------------------ team figures

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusCount {
    pub status: MemberStatus,
    pub memberships: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaCount {
    pub region: String,
    /// Empty in the by-region list.
    pub local_party: String,
    pub members: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthFigures {
    /// `YYYY-MM`.
    pub month: String,
    pub joiners: u64,
    pub leavers: u64,
    pub due: u64,
    pub renewed_in_grace: u64,
    /// renewed_in_grace / due; None when nothing came due.
    pub renewal_rate: Option<f64>,
    /// The grace month of the month's last day has not ended yet: the rate can still rise.
    pub provisional: bool,
    pub won_back: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamFigures {
    pub as_of: String,
    /// Every status, in CiviCRM's order, with zeros.
    pub by_status: Vec<StatusCount>,
    /// New + Current + Grace memberships.
    pub member_memberships: u64,
    /// Contacts who are members, the figure the region and local party lists add up to.
    pub members: u64,
    pub by_region: Vec<AreaCount>,
    pub by_local_party: Vec<AreaCount>,
    /// The last [`MONTHS`] months, oldest first, ending with the as-of date's month.
    pub months: Vec<MonthFigures>,
    pub won_back: u64,
}

pub fn team_figures(
    conn: &Connection,
    today: NaiveDate,
) -> crate::storage::sql::Result<TeamFigures> {
    let window = Window::new(today);
    let scan = scan_memberships(conn, &window)?;
    let by_status: Vec<StatusCount> = MemberStatus::ALL
        .iter()
        .zip(scan.statuses)
        .map(|(&status, memberships)| StatusCount {
            status,
            memberships,
        })
        .collect();
    let by_local_party = members_by_local_party(conn, &scan.member_contacts)?;
    let mut months = window.empty_months();
    scan.add_to(&window, &mut months);
    renewal_events(conn, &window, &scan.end_month, &mut months)?;
    let first_import = first_import_day(conn)?;
    for f in &mut months {
        // Renewals are seen as end dates that move between two imports: for a month that began
        // before the first import, some had already happened unseen, so 0% would be a guess.
        let observed = first_import
            .as_deref()
            .is_some_and(|first| format!("{}-01", f.month).as_str() >= first);
        f.renewal_rate = (observed && f.due > 0).then(|| f.renewed_in_grace as f64 / f.due as f64);
    }
    Ok(TeamFigures {
        as_of: iso(today),
        member_memberships: scan.statuses[..3].iter().sum(),
        members: by_local_party.iter().map(|a| a.members).sum(),
        won_back: months.iter().map(|m| m.won_back).sum(),
        by_region: sum_by_region(&by_local_party),
        by_status,
        by_local_party,
        months,
    })
}

/// The as-of date (`YYYY-MM-DD`) of the earliest completed import, if any import completed.
fn first_import_day(conn: &Connection) -> crate::storage::sql::Result<Option<String>> {
    conn.query_row(
        "SELECT min(as_of) FROM import_runs WHERE finished_at IS NOT NULL",
        [],
        |r| r.get(0),
    )
}

/// The months the monthly figures cover, as month numbers (year × 12 + month − 1).
struct Window {
    today: NaiveDate,
    first: NaiveDate,
    last: NaiveDate,
    first_key: i32,
}

impl Window {
    fn new(today: NaiveDate) -> Window {
        let first = sub_months(month_of(today), MONTHS as u32 - 1);
        Window {
            today,
            first,
            last: last_day(month_of(today)),
            first_key: date_month_key(first),
        }
    }

    /// The index in the window of the month `key`, if it is in the window.
    fn index(&self, key: i32) -> Option<usize> {
        usize::try_from(key - self.first_key)
            .ok()
            .filter(|&i| i < MONTHS)
    }

    fn empty_months(&self) -> Vec<MonthFigures> {
        (0..MONTHS as u32)
            .map(|i| {
                let m = add_months(self.first, i);
                MonthFigures {
                    month: m.format("%Y-%m").to_string(),
                    joiners: 0,
                    leavers: 0,
                    due: 0,
                    renewed_in_grace: 0,
                    renewal_rate: None,
                    provisional: add_months(last_day(m), 1) >= self.today,
                    won_back: 0,
                }
            })
            .collect()
    }
}

fn date_month_key(d: NaiveDate) -> i32 {
    d.year() * 12 + d.month0() as i32
}

/// The month number of an ISO date's text, read from its first seven bytes.
fn text_month_key(text: &[u8]) -> Option<i32> {
    let digits = |r: std::ops::Range<usize>| -> Option<i32> {
        let part = text.get(r)?;
        part.iter().try_fold(0i32, |n, &b| {
            b.is_ascii_digit().then(|| n * 10 + i32::from(b - b'0'))
        })
    };
    if text.get(4) != Some(&b'-') {
        return None;
    }
    let (year, month) = (digits(0..4)?, digits(5..7)?);
    (1..=12).contains(&month).then(|| year * 12 + month - 1)
}

/// A membership's current end month, as the renewal figures need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum EndMonth {
    /// Not in the monthly figures: vanished from the export, deceased, or unknown.
    #[default]
    LeftOut,
    Lifetime,
    Month(i32),
}

/// What one pass over the memberships in the latest export gives.
struct MembershipScan {
    statuses: [u64; 7],
    /// Indexed by contact id: holds a membership that counts as a member.
    member_contacts: Vec<bool>,
    /// Indexed by membership id: its current end date's month, or why it has none.
    end_month: Vec<EndMonth>,
    joiners: [u64; MONTHS],
    due: [u64; MONTHS],
    /// Expired memberships, by end date: their lapse day decides the month they left in.
    expired_by_end: BTreeMap<[u8; 10], u64>,
}

/// One streaming pass over the memberships (no sorting, no join: the deceased test is a lookup
/// in a small index), so the status figures cost one table scan at 550,000 rows.
fn scan_memberships(
    conn: &Connection,
    window: &Window,
) -> crate::storage::sql::Result<MembershipScan> {
    let sql = format!(
        "SELECT m.id, m.contact_id, {}, m.join_date, m.end_date FROM memberships m
         WHERE m.missing_since IS NULL",
        status_sql()
    );
    let mut scan = MembershipScan {
        statuses: [0; 7],
        member_contacts: Vec::new(),
        end_month: Vec::new(),
        joiners: [0; MONTHS],
        due: [0; MONTHS],
        expired_by_end: BTreeMap::new(),
    };
    let today_text = iso(window.today);
    let (sql, values) = Params::default().status(window.today).bind(&sql);
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(values)?;
    while let Some(row) = rows.next()? {
        let id = row.get::<_, i64>(0)?;
        let contact = row.get::<_, i64>(1)?;
        let code = row.get::<_, i64>(2)?;
        let join = row.get_ref(3)?.as_bytes_or_null()?;
        let end = row.get_ref(4)?.as_bytes_or_null()?;
        let status = status_from_code(code).unwrap_or(MemberStatus::Expired);
        if status == MemberStatus::DatesUnknown {
            // A type with no dates: no status, no end month, no member (docs/import.md).
            continue;
        }
        scan.statuses[status_code(status) as usize] += 1;
        if status.is_member() {
            set_flag(&mut scan.member_contacts, contact, true);
        }
        if let Some(join) = join
            && join <= today_text.as_bytes()
            && let Some(i) = text_month_key(join).and_then(|k| window.index(k))
        {
            scan.joiners[i] += 1;
        }
        if status == MemberStatus::Deceased {
            continue;
        }
        let end_key = end.and_then(text_month_key);
        let end_month = end_key.map_or(EndMonth::Lifetime, EndMonth::Month);
        set_flag(&mut scan.end_month, id, end_month);
        if let Some(i) = end_key.and_then(|k| window.index(k)) {
            scan.due[i] += 1;
        }
        if status == MemberStatus::Expired
            && let Some(end) = end.and_then(|e| <[u8; 10]>::try_from(e).ok())
        {
            *scan.expired_by_end.entry(end).or_default() += 1;
        }
    }
    Ok(scan)
}

fn set_flag<T: Clone + Default>(flags: &mut Vec<T>, id: i64, value: T) {
    let Ok(i) = usize::try_from(id) else { return };
    if flags.len() <= i {
        flags.resize(i + 1, T::default());
    }
    flags[i] = value;
}

impl MembershipScan {
    fn add_to(&self, window: &Window, months: &mut [MonthFigures]) {
        for (i, f) in months.iter_mut().enumerate() {
            f.joiners = self.joiners[i];
            f.due = self.due[i];
        }
        for (end, n) in &self.expired_by_end {
            let Some(end) = std::str::from_utf8(end).ok().and_then(parse_iso) else {
                continue;
            };
            let lapsed = lapse_day(end);
            if lapsed <= window.today
                && let Some(i) = window.index(date_month_key(lapsed))
            {
                months[i].leavers += n;
            }
        }
    }
}

/// Member contacts by (region, local party), largest first. Streams the contacts (one table
/// scan) and counts those the membership pass marked.
fn members_by_local_party(
    conn: &Connection,
    member_contacts: &[bool],
) -> crate::storage::sql::Result<Vec<AreaCount>> {
    let mut counts: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut stmt =
        conn.prepare_cached("SELECT id, region, local_party FROM contacts WHERE is_deceased = 0")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let id = row.get::<_, i64>(0)?;
        if !usize::try_from(id).is_ok_and(|i| member_contacts.get(i) == Some(&true)) {
            continue;
        }
        let region = row.get_ref(1)?.as_str()?;
        let party = row.get_ref(2)?.as_str()?;
        let parties = match counts.get_mut(region) {
            Some(p) => p,
            None => counts.entry(region.to_owned()).or_default(),
        };
        match parties.get_mut(party) {
            Some(n) => *n += 1,
            None => {
                parties.insert(party.to_owned(), 1);
            }
        }
    }
    let mut rows: Vec<AreaCount> = counts
        .into_iter()
        .flat_map(|(region, parties)| {
            parties
                .into_iter()
                .map(move |(local_party, members)| AreaCount {
                    region: region.clone(),
                    local_party,
                    members,
                })
        })
        .collect();
    sort_areas(&mut rows);
    Ok(rows)
}

fn sum_by_region(parties: &[AreaCount]) -> Vec<AreaCount> {
    let mut regions: BTreeMap<&str, u64> = BTreeMap::new();
    for p in parties {
        *regions.entry(&p.region).or_default() += p.members;
    }
    let mut rows: Vec<AreaCount> = regions
        .into_iter()
        .map(|(region, members)| AreaCount {
            region: region.to_owned(),
            local_party: String::new(),
            members,
        })
        .collect();
    sort_areas(&mut rows);
    rows
}

fn sort_areas(rows: &mut [AreaCount]) {
    rows.sort_by(|a, b| {
        b.members
            .cmp(&a.members)
            .then_with(|| a.region.cmp(&b.region))
            .then_with(|| a.local_party.cmp(&b.local_party))
    });
}

/// A calendar month, as its first day.
fn month_of(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn last_day(month: NaiveDate) -> NaiveDate {
    add_months(month, 1) - Duration::days(1)
}

/// The day a membership ending on `end` turns Expired: the day after its grace month.
pub fn lapse_day(end: NaiveDate) -> NaiveDate {
    add_months(end, 1) + Duration::days(1)
}

/// Adds what `renewed` events tell: memberships due in a month that have since renewed (their
/// current end date is no longer in that month), those renewed within grace, and members won
/// back. Both queries read only their partial indexes.
fn renewal_events(
    conn: &Connection,
    window: &Window,
    end_month: &[EndMonth],
    months: &mut [MonthFigures],
) -> crate::storage::sql::Result<()> {
    let range = Params::default()
        .set(":first", iso(window.first))
        .set(":last", iso(window.last));
    // None: left out with its membership (vanished, or a deceased contact).
    let current_end = |membership: i64| -> Option<EndMonth> {
        usize::try_from(membership)
            .ok()
            .and_then(|i| end_month.get(i).copied())
            .filter(|&e| e != EndMonth::LeftOut)
    };
    let events = query_rows(
        conn,
        "SELECT membership_id, old_value, occurred_on FROM membership_events
         WHERE kind = 'renewed' AND old_value BETWEEN :first AND :last",
        &range,
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        },
    )?;
    let mut due_by_event: HashSet<(usize, i64)> = HashSet::new();
    let mut renewed: HashSet<(usize, i64)> = HashSet::new();
    for (membership, old_end, seen) in events {
        let (Some(old_end), Some(seen)) = (parse_iso(&old_end), parse_iso(&seen)) else {
            continue;
        };
        let (Some(current), Some(i)) = (
            current_end(membership),
            window.index(date_month_key(old_end)),
        ) else {
            continue;
        };
        if current != EndMonth::Month(date_month_key(old_end)) {
            due_by_event.insert((i, membership));
        }
        if seen <= add_months(old_end, 1) {
            renewed.insert((i, membership));
        }
    }
    for (i, _) in due_by_event {
        months[i].due += 1;
    }
    for (i, _) in renewed {
        months[i].renewed_in_grace += 1;
    }
    let won_back_sql = format!(
        "SELECT e.membership_id, e.old_value, e.occurred_on FROM membership_events e
         JOIN contact_attempts ca ON ca.id = e.credited_attempt_id AND {}
         WHERE e.kind = 'renewed' AND e.occurred_on BETWEEN :first AND :last",
        credit_condition(conn.engine(), "ca", "e.occurred_on")
    );
    let won_back = query_rows(conn, &won_back_sql, &range, |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    for (membership, old_end, seen) in won_back {
        let Some(seen_on) = parse_iso(&seen) else {
            continue;
        };
        if current_end(membership).is_some()
            && old_end < seen
            && let Some(i) = window.index(date_month_key(seen_on))
        {
            months[i].won_back += 1;
        }
    }
    Ok(())
}

/// All the figures `rollcall stats` prints and the Today pane shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub as_of: String,
    pub since_last_import: SinceImport,
    pub my_work: MyWork,
    pub team: TeamFigures,
}

pub fn all_figures(conn: &Connection, work: &WorkContext) -> crate::storage::sql::Result<Figures> {
    Ok(Figures {
        as_of: iso(work.today),
        since_last_import: since_last_import(conn)?,
        my_work: my_work(conn, work)?,
        team: team_figures(conn, work.today)?,
    })
}

/// The team figures as lines of text: `rollcall stats` prints them and the Today pane's full
/// figures view shows them, so the two read the same.
pub fn team_lines(t: &TeamFigures) -> Vec<String> {
    let or_none = |s: &str| {
        if s.is_empty() {
            "(none)".to_owned()
        } else {
            s.to_owned()
        }
    };
    let count = |label: &str, n: u64| format!("  {label:<34} {:>9}", thousands(n));
    let mut out = vec![format!("Memberships by status (as of {})", t.as_of)];
    out.extend(
        t.by_status
            .iter()
            .map(|s| count(s.status.label(), s.memberships)),
    );
    out.push(String::new());
    out.push(format!(
        "Members: {} people holding {} memberships that count",
        thousands(t.members),
        thousands(t.member_memberships)
    ));
    out.push(String::new());
    out.push("Month    Joined   Left    Due  Renewed in grace   Rate  Won back".into());
    for m in &t.months {
        out.push(format!(
            "{} {:>7} {:>6} {:>6} {:>17} {:>6}{} {:>8}",
            m.month,
            thousands(m.joiners),
            thousands(m.leavers),
            thousands(m.due),
            thousands(m.renewed_in_grace),
            percent(m.renewal_rate),
            if m.provisional { "*" } else { " " },
            thousands(m.won_back),
        ));
    }
    out.push("* provisional: the month's grace period has not ended yet".into());
    out.push(format!(
        "Lapsed members won back after a contact, last 12 months: {}",
        thousands(t.won_back)
    ));
    out.push(String::new());
    out.push("Members by region".into());
    out.extend(
        t.by_region
            .iter()
            .map(|a| count(&or_none(&a.region), a.members)),
    );
    out.push(String::new());
    out.push("Members by local party".into());
    out.extend(t.by_local_party.iter().map(|a| {
        let name = format!("{} / {}", or_none(&a.region), or_none(&a.local_party));
        count(&name, a.members)
    }));
    out
}

/// `1234567` as `1,234,567`, as the figures are shown.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A renewal rate as a whole percentage, `—` when nothing came due.
pub fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{:.0}%", r * 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::membership::{MembershipDates, derive_status};
    use crate::storage::Store;
    use crate::storage::sql::params;

    fn d(s: &str) -> NaiveDate {
        parse_iso(s).unwrap()
    }

    #[test]
    fn thresholds_sit_exactly_on_the_rule_edges() {
        for today in [
            "2026-05-31",
            "2026-03-01",
            "2028-02-29",
            "2026-12-31",
            "2027-01-01",
        ] {
            let t = StatusThresholds::new(d(today));
            assert!(add_months(t.new_from, 3) > t.today);
            assert!(add_months(t.new_from - Duration::days(1), 3) <= t.today);
            assert!(add_months(t.grace_from, 1) >= t.today);
            assert!(add_months(t.grace_from - Duration::days(1), 1) < t.today);
        }
    }

    /// The SQL status agrees with `derive_status` for every join/end pair in a window around the
    /// edges, on as-of dates at month ends, leap days and a year change, for every kind of CRM
    /// status and for a deceased contact.
    #[test]
    fn sql_status_agrees_with_derive_status() {
        let store = Store::open_in_memory().unwrap();
        let conn = &store.conn;
        conn.execute_batch(
            "INSERT INTO contacts (id, source, crm_id, is_deceased) VALUES
                 (1, 't', '1', 0), (2, 't', '2', 1)",
        )
        .unwrap();
        let crm_statuses = [
            "",
            "Current",
            "New",
            "Grace",
            "Expired",
            "Pending",
            "canceled",
            " Cancelled ",
            "Deceased",
            "grace period",
            "Mystery",
        ];
        for today in ["2026-05-31", "2026-03-30", "2028-02-29", "2027-01-01"] {
            let today = d(today);
            conn.execute("DELETE FROM memberships", []).unwrap();
            let mut expected = Vec::new();
            let days: Vec<NaiveDate> = (-140..20)
                .step_by(6)
                .map(|n| today + Duration::days(n))
                .chain((-5..=5).map(|n| sub_months(today, 3) + Duration::days(n)))
                .chain((-5..=5).map(|n| sub_months(today, 1) + Duration::days(n)))
                .collect();
            let mut insert = conn
                .prepare(
                    "INSERT INTO memberships (contact_id, source, sync_key, join_date, start_date,
                         end_date, crm_status) VALUES (?1, 't', ?2, ?3, ?4, ?5, ?6)",
                )
                .unwrap();
            for (n, &join) in days.iter().enumerate() {
                for end in days.iter().map(|&e| Some(e)).chain([None]) {
                    for (k, crm) in crm_statuses.iter().enumerate() {
                        // Every 13th case: a start date after the join date, or none at all.
                        let start = match (n + k) % 13 {
                            0 => None,
                            1 => Some(join + Duration::days(40)),
                            _ => Some(join),
                        };
                        let deceased = (n + k) % 17 == 0;
                        let dates = MembershipDates {
                            join: Some(join),
                            start,
                            end,
                            dates_unknown: false,
                        };
                        let crm_status = MemberStatus::parse(crm);
                        expected.push(derive_status(dates, crm_status, deceased, today));
                        insert
                            .execute(params![
                                if deceased { 2 } else { 1 },
                                expected.len().to_string(),
                                iso(join),
                                start.map(iso),
                                end.map(iso),
                                crm,
                            ])
                            .unwrap();
                    }
                }
            }
            let sql = format!("SELECT {} FROM memberships m ORDER BY m.id", status_sql());
            let got = query_rows(conn, &sql, &Params::default().status(today), |r| {
                Ok(status_from_code(r.get(0)?).unwrap())
            })
            .unwrap();
            assert_eq!(got.len(), expected.len());
            for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
                assert_eq!(g, e, "case {i} on {today}");
            }
        }
    }

    #[test]
    fn numbers_as_shown() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(550_000), "550,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(percent(Some(0.255)), "26%");
        assert_eq!(percent(None), "—");
    }

    /// Renewal events of a deceased contact's or a vanished membership count nowhere, even when
    /// the membership's id falls inside the scanned range.
    #[test]
    fn renewals_of_left_out_memberships_count_nowhere() {
        let store = Store::open_in_memory().unwrap();
        store
            .conn
            .execute_batch(
                "INSERT INTO contacts (id, source, crm_id, is_deceased) VALUES
                     (1, 't', '1', 0), (2, 't', '2', 1);
                 INSERT INTO import_runs (id, started_at, staff, as_of, file_name, file_size,
                     file_sha256, profile, source, encoding, date_order)
                 VALUES (1, '', '', '2026-11-23', '', 0, '', '', '', '', '');
                 INSERT INTO memberships (id, contact_id, source, sync_key, join_date, end_date,
                     crm_status, missing_since) VALUES
                     (1, 2, 't', 'a', '2015-01-01', '2027-10-10', 'Current', NULL),
                     (2, 1, 't', 'b', '2015-01-01', '2027-10-11', 'Current', 1),
                     (3, 1, 't', 'c', '2015-01-01', '2027-10-12', 'Current', NULL);
                 INSERT INTO contact_attempts (id, contact_id, channel, outcome, attempted_at,
                     staff) VALUES (1, 1, 'phone', 'will_renew', '2026-10-20T10:00:00', 'ann');
                 INSERT INTO membership_events (membership_id, kind, old_value, new_value,
                     occurred_on, credited_attempt_id) VALUES
                     (1, 'renewed', '2026-10-10', '2027-10-10', '2026-11-01', 1),
                     (2, 'renewed', '2026-10-11', '2027-10-11', '2026-11-01', 1),
                     (3, 'renewed', '2026-10-12', '2027-10-12', '2026-11-01', 1);",
            )
            .unwrap();
        let team = team_figures(&store.conn, d("2026-11-23")).unwrap();
        let oct = team.months.iter().find(|m| m.month == "2026-10").unwrap();
        assert_eq!((oct.due, oct.renewed_in_grace), (1, 1), "only membership 3");
        assert_eq!(team.won_back, 1);
    }

    #[test]
    fn lapse_day_follows_month_ends() {
        assert_eq!(lapse_day(d("2026-01-31")), d("2026-03-01"));
        assert_eq!(lapse_day(d("2026-01-27")), d("2026-02-28"));
        assert_eq!(lapse_day(d("2026-11-30")), d("2026-12-31"));
        assert_eq!(lapse_day(d("2026-12-31")), d("2027-02-01"));
    }
}
