//! The onboarding queue in the store: who is in it, the steps they have done, who follows them
//! up, notes, and closing a path (completed or abandoned).
//!
//! Membership of the queue is recorded in the `onboarding` table the first time a contact is seen
//! to qualify (see [`enrol_qualifying`], run at the start of every queue load). From then on the
//! row, not the CRM data, keeps them in the queue, so a Pending member who pays, or a member whose
//! join date leaves the window, stays until their path is completed or abandoned. Under
//! `--read-only` nothing is recorded: the queue shows the recorded rows plus whoever qualifies now.
//!
//! Every write is one immediate transaction with its audit lines, and returns an [`Undo`] that
//! reverses it.

use std::collections::{HashMap, HashSet};

use crate::storage::sql::{
    Connection, Engine, OptionalExtension, Transaction, TransactionBehavior, params,
};
use anyhow::{Context as _, Result, bail};
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use super::Store;
use super::audit::{self, Change};
use crate::Clock;
use crate::config::OnboardingConfig;
use crate::domain::membership::is_welsh;
use crate::domain::onboarding::{
    AbandonReason, Arrival, MembershipFacts, Progress, StepPath, arrival, window_start,
};
use crate::domain::{ContactFlags, MemberStatus};

/// The `assignments.queue` and `notes.context` value for this queue.
pub const QUEUE: &str = "onboarding";

/// The longest note accepted; longer text is refused, not cut.
pub const MAX_NOTE_CHARS: usize = 4000;

/// A display name from whichever name fields the CRM filled.
const NAME_SQL: &str = "COALESCE(NULLIF(c.display_name, ''), NULLIF(c.sort_name, ''),
     NULLIF(TRIM(c.first_name || ' ' || c.last_name), ''), NULLIF(c.organization_name, ''), '')";

/// A deceased contact is never chased. (A membership whose own status is Deceased never qualifies
/// either; CRMs set both together.)
const NOT_DECEASED_SQL: &str = "c.is_deceased = 0";

/// A step a member has done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepRecord {
    pub done_at: String,
    pub done_by: String,
    pub batch: Option<i64>,
}

/// The newest onboarding note on a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteLine {
    pub staff: String,
    pub created_at: String,
    pub body: String,
}

/// One member in the onboarding queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueEntry {
    pub contact_id: i64,
    /// The CRM's contact id.
    pub crm_id: String,
    pub name: String,
    /// The date step due dates count from (the join date).
    pub anchor: NaiveDate,
    pub added_by_hand: bool,
    /// New to the organisation, a rejoiner, or kept from an older rule ([`arrival`]).
    pub arrival: Arrival,
    /// False only under `--read-only`, for someone who qualifies but was never recorded.
    pub recorded: bool,
    pub assignee: Option<String>,
    pub local_party: String,
    pub flags: ContactFlags,
    /// The contact has an email address at all (an email step for one without is no use).
    pub has_email: bool,
    /// Done steps by key, including keys no longer in the path (ignored for progress).
    pub steps: HashMap<String, StepRecord>,
    pub note_count: usize,
    pub last_note: Option<NoteLine>,
}

impl QueueEntry {
    pub fn progress(&self, path: &StepPath, today: NaiveDate) -> Progress {
        path.progress(self.anchor, today, |key| self.steps.contains_key(key))
    }

    /// Whole days since joining.
    pub fn days_waiting(&self, today: NaiveDate) -> i64 {
        (today - self.anchor).num_days()
    }
}

/// The queue's views (`--mine`, `--unassigned`, `--overdue` on the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    #[default]
    All,
    Mine,
    Unassigned,
    Overdue,
    /// Everyone, grouped by local party.
    ByLocalParty,
    /// Lapsed members who joined again: a view of their own, left out of the others.
    Rejoiners,
}

impl View {
    pub const ALL: [View; 6] = [
        View::All,
        View::Mine,
        View::Unassigned,
        View::Overdue,
        View::ByLocalParty,
        View::Rejoiners,
    ];

    pub fn label(self) -> &'static str {
        match self {
            View::All => "All",
            View::Mine => "Mine",
            View::Unassigned => "Unassigned",
            View::Overdue => "Overdue",
            View::ByLocalParty => "By local party",
            View::Rejoiners => "Rejoiners",
        }
    }

    /// Whether `entry` belongs in this view; "mine" is `user`'s. Rejoiners are only in their own
    /// view, so that the others hold new members.
    pub fn shows(self, entry: &QueueEntry, progress: &Progress, user: &str) -> bool {
        let rejoined = entry.arrival == Arrival::Rejoined;
        if self == View::Rejoiners || rejoined {
            return self == View::Rejoiners && rejoined;
        }
        match self {
            View::All | View::ByLocalParty | View::Rejoiners => true,
            View::Mine => entry.assignee.as_deref() == Some(user),
            View::Unassigned => entry.assignee.is_none(),
            View::Overdue => progress.is_overdue(),
        }
    }
}

/// The order the queue is worked in: the most overdue next step first (the earliest due date),
/// members with every step done last; ties by join date, then name. The by-local-party view
/// groups by party first (members with no party last).
pub fn sort_key(view: View, entry: &QueueEntry, progress: &Progress) -> QueueOrder {
    let party = (view == View::ByLocalParty).then(|| {
        let party = entry.local_party.to_lowercase();
        (prefix_key(&party), party)
    });
    let name = entry.name.to_lowercase();
    QueueOrder {
        no_party: party.as_ref().is_some_and(|(_, p)| p.is_empty()),
        party,
        // Every step done: after everyone still waiting.
        due: progress.next.map_or(NaiveDate::MAX, |n| n.due),
        anchor: entry.anchor,
        name_prefix: prefix_key(&name),
        name,
        contact_id: entry.contact_id,
    }
}

/// A queue entry's place in [`sort_key`]'s order. Fields compare in the order written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct QueueOrder {
    no_party: bool,
    /// Only in the by-local-party view (None everywhere else, which compares for nothing).
    party: Option<(u128, String)>,
    due: NaiveDate,
    anchor: NaiveDate,
    /// The name's first 16 bytes as a number: hundreds of members join on the same day, and
    /// comparing their names through the heap was a third of sorting 40,000 of them.
    name_prefix: u128,
    name: String,
    contact_id: i64,
}

/// The first 16 bytes of `text`, zero-padded, as a number that orders as the bytes do.
fn prefix_key(text: &str) -> u128 {
    let mut bytes = [0u8; 16];
    let n = text.len().min(16);
    bytes[..n].copy_from_slice(&text.as_bytes()[..n]);
    u128::from_be_bytes(bytes)
}

// ---------------------------------------------------------------------------- entering the queue

/// Contacts who qualify for the queue on `today` (new members and rejoiners) and have never
/// been in it, with how they arrived and their anchor dates, by contact id.
///
/// SQL picks the candidates cheaply (a range on `memberships_join`), leaves out whoever the
/// queue already records (nearly every candidate after the first load of the day, so this
/// reads a few memberships, not every new member's), and reads every membership of the rest;
/// the entry rule itself is [`arrival`], so the SQL and the rule cannot disagree. The deceased
/// are left out through the small partial index `contacts_deceased` rather than a join to every
/// contact, which on PostgreSQL was a scan of the whole contacts table.
pub fn unrecorded_qualifying(
    conn: &Connection,
    today: NaiveDate,
    window_days: u32,
) -> crate::storage::sql::Result<HashMap<i64, (Arrival, NaiveDate)>> {
    // SQLite's partial index memberships_new_pending serves the NOCASE test only when the
    // query says it the index's way; PostgreSQL's index is on lower(crm_status).
    let new_or_pending = conn.pick(
        "crm_status COLLATE NOCASE IN ('New', 'Pending')",
        "lower(crm_status) IN ('new', 'pending')",
    );
    // PostgreSQL cannot tell how few candidates the two NOT EXISTS leave (a few hundred of
    // 40,000 once the day's first load has recorded them), plans for thousands and hashes every
    // membership; an array makes it look the few up by `memberships_contact` (188 ms -> 57 ms at
    // 550,000 members).
    let of_fresh = conn.pick(
        "m.contact_id IN (SELECT contact_id FROM fresh)",
        "m.contact_id = ANY(ARRAY(SELECT contact_id FROM fresh))",
    );
    let sql = format!(
        "WITH candidate AS (
             SELECT contact_id FROM memberships WHERE join_date BETWEEN ?1 AND ?2
             UNION
             SELECT contact_id FROM memberships
             WHERE join_date IS NULL AND (start_date BETWEEN ?1 AND ?2
                   OR (start_date IS NULL
                       AND {new_or_pending}))),
         fresh AS (
             SELECT contact_id FROM candidate c
             WHERE NOT EXISTS (SELECT 1 FROM onboarding o WHERE o.contact_id = c.contact_id)
               AND NOT EXISTS (SELECT 1 FROM contacts d
                               WHERE d.id = c.contact_id AND d.is_deceased <> 0))
         SELECT m.contact_id, m.join_date, m.start_date, m.end_date, m.crm_status
         FROM memberships m WHERE {of_fresh}"
    );
    let from = window_start(today, window_days).to_string();
    let by_contact = memberships_by_contact(conn, &sql, params![from, today.to_string()])?;
    Ok(by_contact
        .into_iter()
        .filter_map(|(contact, facts)| Some((contact, arrival(&facts, today, window_days)?)))
        .collect())
}

/// Runs `sql` (columns contact_id, join_date, start_date, end_date, crm_status, then anything)
/// and groups the memberships by contact.
fn memberships_by_contact(
    conn: &Connection,
    sql: &str,
    params: impl crate::storage::sql::Params,
) -> crate::storage::sql::Result<HashMap<i64, Vec<MembershipFacts>>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, |r| {
        let date = |i| -> crate::storage::sql::Result<Option<NaiveDate>> {
            Ok(r.get::<_, Option<String>>(i)?
                .and_then(|s| s.parse::<NaiveDate>().ok()))
        };
        Ok((
            r.get::<_, i64>(0)?,
            MembershipFacts {
                join: date(1)?,
                start: date(2)?,
                end: date(3)?,
                crm_status: MemberStatus::parse(&r.get::<_, String>(4)?),
            },
        ))
    })?;
    let mut by_contact: HashMap<i64, Vec<MembershipFacts>> = HashMap::new();
    for row in rows {
        let (contact, facts) = row?;
        by_contact.entry(contact).or_default().push(facts);
    }
    Ok(by_contact)
}

/// How each recorded contact in the queue whose arrival was never stored (recorded before
/// schema v9, or added by hand) arrived, judged by the entry rule on the day they were recorded
/// (so it does not change as their join date leaves the window). Absent: they would not have
/// entered by this rule (recorded by an older one that let in any New or Pending membership, or
/// added by hand).
fn unjudged_arrivals(
    conn: &Connection,
    window_days: u32,
) -> crate::storage::sql::Result<HashMap<i64, Arrival>> {
    let mut stmt = conn.prepare_cached(
        "SELECT contact_id, substr(added_at, 1, 10) FROM onboarding
         WHERE state = 'active' AND arrival IS NULL",
    )?;
    let mut added_on: HashMap<i64, NaiveDate> = HashMap::new();
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (contact, day) = row?;
        if let Ok(day) = day.parse::<NaiveDate>() {
            added_on.insert(contact, day);
        }
    }
    let by_contact = memberships_by_contact(
        conn,
        "SELECT o.contact_id, m.join_date, m.start_date, m.end_date, m.crm_status
         FROM onboarding o JOIN memberships m ON m.contact_id = o.contact_id
         WHERE o.state = 'active' AND o.arrival IS NULL",
        [],
    )?;
    Ok(by_contact
        .into_iter()
        .filter_map(|(contact, facts)| {
            let day = *added_on.get(&contact)?;
            Some((contact, arrival(&facts, day, window_days)?.0))
        })
        .collect())
}

/// Gives each recorded entry its [`Arrival`], and leaves out those recorded by the older rule
/// (any New or Pending membership, whatever its join date) who are not new by this one and have
/// nothing recorded on them: no step, note or assignment. Those with work recorded, and those
/// added by hand, stay, marked [`Arrival::NotNew`].
fn judge_recorded(
    conn: &Connection,
    entries: &mut Vec<QueueEntry>,
    unjudged: &HashSet<i64>,
    window_days: u32,
) -> crate::storage::sql::Result<()> {
    let judged_now = if unjudged.is_empty() {
        HashMap::new()
    } else {
        unjudged_arrivals(conn, window_days)?
    };
    entries.retain_mut(|e| {
        if !e.recorded {
            return true;
        }
        if unjudged.contains(&e.contact_id) {
            e.arrival = judged_now
                .get(&e.contact_id)
                .copied()
                .unwrap_or(Arrival::NotNew);
        }
        e.arrival != Arrival::NotNew
            || e.added_by_hand
            || !e.steps.is_empty()
            || e.note_count > 0
            || e.assignee.is_some()
    });
    Ok(())
}

/// The `onboarding.arrival` text for a judgement ([`Arrival::NotNew`]: not new by this rule).
fn stored_arrival(arrival: Arrival) -> &'static str {
    match arrival {
        Arrival::New => "new",
        Arrival::Rejoined => "rejoined",
        Arrival::NotNew => "not_new",
    }
}

fn parse_stored_arrival(text: &str) -> Option<Arrival> {
    [Arrival::New, Arrival::Rejoined, Arrival::NotNew]
        .into_iter()
        .find(|a| stored_arrival(*a) == text)
}

/// Stores the judgement of every active entry that has none yet (recorded before schema v9, or
/// added by hand), so later loads read it instead of every such member's memberships. Done when
/// an enrolment writes anyway (in practice, the day's first load after an import).
fn store_unjudged_arrivals(tx: &Transaction, window_days: u32) -> Result<()> {
    let unjudged: Vec<i64> = tx
        .prepare_cached(
            "SELECT contact_id FROM onboarding WHERE state = 'active' AND arrival IS NULL",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<crate::storage::sql::Result<_>>()?;
    if unjudged.is_empty() {
        return Ok(());
    }
    let judged = unjudged_arrivals(tx, window_days)?;
    let mut update =
        tx.prepare_cached("UPDATE onboarding SET arrival = ?2 WHERE contact_id = ?1")?;
    for contact in unjudged {
        let arrival = judged.get(&contact).copied().unwrap_or(Arrival::NotNew);
        update.execute(params![contact, stored_arrival(arrival)])?;
    }
    Ok(())
}

/// Records every contact who qualifies today and has never been in the queue, so that they stay
/// whatever later imports say. Returns how many entered. Contacts whose path was completed or
/// abandoned are not entered again (only by hand).
pub fn enrol_qualifying(store: &mut Store, clock: &Clock, window_days: u32) -> Result<usize> {
    store.ensure_writable("recording new members in the onboarding queue")?;
    let tx = immediate(store)?;
    let mut entering: Vec<(i64, (Arrival, NaiveDate))> =
        unrecorded_qualifying(&tx, clock.today, window_days)?
            .into_iter()
            .collect();
    if entering.is_empty() {
        // Loading the queue with nobody new writes nothing (not even the judgements below),
        // so that a command that only reads leaves the database as it was.
        return Ok(0);
    }
    store_unjudged_arrivals(&tx, window_days)?;
    entering.sort_unstable_by_key(|(contact, _)| *contact);
    let now = clock.now_rfc3339();
    for (contact, (arrival, anchor)) in &entering {
        tx.execute(
            "INSERT INTO onboarding (contact_id, anchor_date, added_by_hand, added_by, added_at,
                 arrival)
             VALUES (?1, ?2, 0, ?3, ?4, ?5)",
            params![
                contact,
                anchor.to_string(),
                clock.user,
                now,
                stored_arrival(*arrival)
            ],
        )?;
        audit::record(
            &tx,
            clock,
            Change {
                action: "onboarding.enter",
                entity: "onboarding",
                entity_id: Some(*contact),
                contact_id: Some(*contact),
                before: None,
                after: Some(json!({ "anchor_date": anchor.to_string(), "added_by_hand": false })),
            },
        )?;
    }
    tx.commit()?;
    Ok(entering.len())
}

// ---------------------------------------------------------------------------- reading the queue

/// The queue as of `clock.today`: first records newly qualifying contacts (unless the store is
/// read-only), then reads it with [`read_queue`]. Unsorted; see [`sort_key`].
pub fn load_queue(
    store: &mut Store,
    clock: &Clock,
    config: &OnboardingConfig,
) -> Result<Vec<QueueEntry>> {
    if !store.is_read_only() {
        enrol_qualifying(store, clock, config.window_days)?;
    }
    read_queue(store, clock, config)
}

/// Every active path, without looking for newcomers: enough after a change made in the queue
/// itself, which cannot make anyone new qualify. Under `--read-only`, where nobody is recorded,
/// it adds whoever qualifies now.
pub fn read_queue(
    store: &Store,
    clock: &Clock,
    config: &OnboardingConfig,
) -> Result<Vec<QueueEntry>> {
    let conn = &store.conn;
    let (mut entries, unjudged) = read_entries(
        conn,
        "SELECT contact_id, anchor_date, added_by_hand, 1 AS recorded, arrival FROM onboarding
         WHERE state = 'active'",
    )?;
    attach_steps_and_notes(conn, &mut entries)?;
    judge_recorded(conn, &mut entries, &unjudged, config.window_days)?;
    if store.is_read_only() {
        let mut fresh = unrecorded_entries(conn, clock, config.window_days)?;
        attach_steps_and_notes(conn, &mut fresh)?;
        entries.extend(fresh);
    }
    Ok(entries)
}

/// Under `--read-only`: who qualifies now but has no onboarding row yet.
fn unrecorded_entries(
    conn: &Connection,
    clock: &Clock,
    window_days: u32,
) -> Result<Vec<QueueEntry>> {
    let fresh: Vec<(i64, (Arrival, NaiveDate))> =
        unrecorded_qualifying(conn, clock.today, window_days)?
            .into_iter()
            .collect();
    if fresh.is_empty() {
        return Ok(Vec::new());
    }
    let arrivals: HashMap<i64, Arrival> = fresh.iter().map(|(c, (a, _))| (*c, *a)).collect();
    if conn.engine() == Engine::Postgres {
        // A read-only PostgreSQL session may not create even a temporary table, so the rows go
        // in the query itself: only numbers and dates rollcall printed, never member text.
        let rows: Vec<String> = fresh
            .iter()
            .map(|(contact, (_, anchor))| format!("({contact}, '{anchor}')"))
            .collect();
        let (mut entries, _) = read_entries(
            conn,
            &format!(
                "SELECT column1 AS contact_id, column2 AS anchor_date, 0 AS added_by_hand,
                        0 AS recorded, NULL AS arrival
                 FROM (VALUES {}) AS fresh",
                rows.join(", ")
            ),
        )?;
        for e in &mut entries {
            e.arrival = arrivals.get(&e.contact_id).copied().unwrap_or(Arrival::New);
        }
        return Ok(entries);
    }
    // A temporary table keeps this one query however many there are.
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS onboarding_fresh (contact_id INTEGER PRIMARY KEY, anchor_date TEXT);
         DELETE FROM temp.onboarding_fresh;",
    )?;
    {
        let mut insert =
            conn.prepare_cached("INSERT INTO temp.onboarding_fresh VALUES (?1, ?2)")?;
        for (contact, (_, anchor)) in &fresh {
            insert.execute(params![contact, anchor.to_string()])?;
        }
    }
    let (mut entries, _) = read_entries(
        conn,
        "SELECT contact_id, anchor_date, 0 AS added_by_hand, 0 AS recorded, NULL AS arrival
         FROM temp.onboarding_fresh",
    )?;
    conn.execute_batch("DELETE FROM temp.onboarding_fresh")?;
    for e in &mut entries {
        e.arrival = arrivals.get(&e.contact_id).copied().unwrap_or(Arrival::New);
    }
    Ok(entries)
}

/// Reads queue entries for the rows that `source` selects (columns contact_id, anchor_date,
/// added_by_hand, recorded, arrival), joined to the contact and the assignment; with the ids
/// of those whose arrival is not stored (see [`judge_recorded`]). CROSS JOIN keeps SQLite
/// from scanning every contact to find the few thousand in the queue (PostgreSQL's CROSS JOIN
/// takes no ON, and its planner needs no such hint: a plain JOIN there).
fn read_entries(conn: &Connection, source: &str) -> Result<(Vec<QueueEntry>, HashSet<i64>)> {
    let join = conn.pick("CROSS JOIN", "JOIN");
    let sql = format!(
        "SELECT o.contact_id, o.anchor_date, o.added_by_hand, o.recorded, c.crm_id, {NAME_SQL},
                a.assignee, c.local_party, c.preferred_language, c.do_not_email, c.do_not_phone,
                c.do_not_mail, c.do_not_sms, c.no_bulk_email, c.on_hold,
                coalesce(trim(c.email), '') <> '', o.arrival
         FROM ({source}) AS o
         {join} contacts c ON c.id = o.contact_id
         LEFT JOIN assignments a ON a.contact_id = o.contact_id AND a.queue = '{QUEUE}'
         WHERE {NOT_DECEASED_SQL}"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], |r| {
        let anchor: String = r.get(1)?;
        Ok((
            anchor,
            r.get::<_, Option<String>>(16)?,
            QueueEntry {
                contact_id: r.get(0)?,
                anchor: NaiveDate::MIN,
                added_by_hand: r.get(2)?,
                arrival: Arrival::New,
                recorded: r.get(3)?,
                crm_id: r.get(4)?,
                name: r.get(5)?,
                assignee: r.get(6)?,
                local_party: r.get(7)?,
                flags: ContactFlags {
                    welsh: is_welsh(&r.get::<_, String>(8)?),
                    do_not_email: r.get(9)?,
                    do_not_phone: r.get(10)?,
                    do_not_mail: r.get(11)?,
                    do_not_sms: r.get(12)?,
                    no_bulk_email: r.get(13)?,
                    on_hold: r.get(14)?,
                    deceased: false,
                },
                has_email: r.get(15)?,
                steps: HashMap::new(),
                note_count: 0,
                last_note: None,
            },
        ))
    })?;
    let mut unjudged = HashSet::new();
    let entries = rows
        .map(|row| {
            let (anchor, arrival, mut entry) = row?;
            match arrival.as_deref().and_then(parse_stored_arrival) {
                Some(stored) => entry.arrival = stored,
                None => {
                    unjudged.insert(entry.contact_id);
                }
            }
            // FromStr reads ISO dates without parsing a format string per row (a tenth of a load).
            entry.anchor = anchor.parse::<NaiveDate>().ok().with_context(|| {
                format!(
                    "onboarding row for contact {} has a damaged anchor date",
                    entry.contact_id
                )
            })?;
            Ok(entry)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((entries, unjudged))
}

fn attach_steps_and_notes(conn: &Connection, entries: &mut [QueueEntry]) -> Result<()> {
    let index: HashMap<i64, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.contact_id, i))
        .collect();
    let mut steps = conn.prepare_cached(
        "SELECT s.contact_id, s.step_key, s.done_at, s.done_by, s.batch
         FROM onboarding_steps s JOIN onboarding o ON o.contact_id = s.contact_id
         WHERE o.state = 'active'",
    )?;
    let rows = steps.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            StepRecord {
                done_at: r.get(2)?,
                done_by: r.get(3)?,
                batch: r.get(4)?,
            },
        ))
    })?;
    for row in rows {
        let (contact, key, record) = row?;
        if let Some(&i) = index.get(&contact) {
            entries[i].steps.insert(key, record);
        }
    }
    let mut notes = conn.prepare_cached(&format!(
        "SELECT n.contact_id, n.staff, n.created_at, n.body
         FROM notes n JOIN onboarding o ON o.contact_id = n.contact_id
         WHERE o.state = 'active' AND n.context = '{QUEUE}' ORDER BY n.id"
    ))?;
    let rows = notes.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            NoteLine {
                staff: r.get(1)?,
                created_at: r.get(2)?,
                body: r.get(3)?,
            },
        ))
    })?;
    for row in rows {
        let (contact, note) = row?;
        if let Some(&i) = index.get(&contact) {
            entries[i].note_count += 1;
            entries[i].last_note = Some(note);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------- changes and undo

/// An `onboarding` row, as recorded before a change (for undo and the audit trail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathRow {
    pub anchor_date: String,
    pub added_by_hand: bool,
    pub added_by: String,
    pub added_at: String,
    pub state: String,
    pub closed_reason: String,
    pub closed_by: Option<String>,
    pub closed_at: Option<String>,
}

pub use super::assignments::Assignment;

/// How to reverse one change made in the queue. Undo is careful not to clobber what someone did
/// since: it only removes the rows this change wrote, if they are still as it left them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undo {
    /// Steps ticked in one batch; `completed` are the paths the ticks completed.
    Ticked {
        batch: i64,
        step_key: String,
        contacts: Vec<i64>,
        completed: Vec<i64>,
    },
    Unticked {
        contact_id: i64,
        step_key: String,
        removed: StepRecord,
    },
    Assigned {
        contact_id: i64,
        before: Option<Assignment>,
    },
    Noted {
        contact_id: i64,
        note_id: i64,
    },
    Abandoned {
        contact_id: i64,
        before: PathRow,
    },
    Added {
        contact_id: i64,
        before: Option<PathRow>,
    },
}

impl Undo {
    /// What the change was, for "Undone: ..." (no personal data).
    pub fn describe(&self, path: &StepPath) -> String {
        let label = |key: &str| {
            path.index_of(key)
                .and_then(|i| path.get(i))
                .map_or_else(|| key.to_owned(), |s| s.label.clone())
        };
        match self {
            Undo::Ticked {
                step_key, contacts, ..
            } => format!(
                "ticking \"{}\" for {}",
                label(step_key),
                members(contacts.len())
            ),
            Undo::Unticked { step_key, .. } => format!("unticking \"{}\"", label(step_key)),
            Undo::Assigned { .. } => "the assignment".into(),
            Undo::Noted { .. } => "the note".into(),
            Undo::Abandoned { .. } => "abandoning the path".into(),
            Undo::Added { .. } => "adding to onboarding".into(),
        }
    }
}

/// "1 member", "12 members".
pub fn members(n: usize) -> String {
    if n == 1 {
        "1 member".into()
    } else {
        format!("{n} members")
    }
}

fn immediate(store: &mut Store) -> crate::storage::sql::Result<Transaction<'_>> {
    store
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
}

fn path_row(conn: &Connection, contact_id: i64) -> crate::storage::sql::Result<Option<PathRow>> {
    conn.query_row(
        "SELECT anchor_date, added_by_hand, added_by, added_at, state, closed_reason, closed_by,
                closed_at
         FROM onboarding WHERE contact_id = ?1",
        [contact_id],
        |r| {
            Ok(PathRow {
                anchor_date: r.get(0)?,
                added_by_hand: r.get(1)?,
                added_by: r.get(2)?,
                added_at: r.get(3)?,
                state: r.get(4)?,
                closed_reason: r.get(5)?,
                closed_by: r.get(6)?,
                closed_at: r.get(7)?,
            })
        },
    )
    .optional()
}

fn is_active(conn: &Connection, contact_id: i64) -> crate::storage::sql::Result<bool> {
    Ok(path_row(conn, contact_id)?.is_some_and(|p| p.state == "active"))
}

fn require_active(conn: &Connection, contact_id: i64) -> Result<()> {
    if !is_active(conn, contact_id)? {
        bail!(
            "that member is no longer in the onboarding queue (completed, abandoned or removed); refresh the queue"
        );
    }
    Ok(())
}

fn step_record(
    conn: &Connection,
    contact_id: i64,
    step_key: &str,
) -> crate::storage::sql::Result<Option<StepRecord>> {
    conn.query_row(
        "SELECT done_at, done_by, batch FROM onboarding_steps
         WHERE contact_id = ?1 AND step_key = ?2",
        params![contact_id, step_key],
        |r| {
            Ok(StepRecord {
                done_at: r.get(0)?,
                done_by: r.get(1)?,
                batch: r.get(2)?,
            })
        },
    )
    .optional()
}

/// What a tick did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TickOutcome {
    pub undo: Undo,
    pub ticked: usize,
    /// Already done: left as they were (a bulk tick never unticks).
    pub already_done: usize,
    /// No longer in the queue (closed since the list was loaded).
    pub not_in_queue: usize,
    /// Paths the ticks completed (they leave the queue).
    pub completed: usize,
}

/// Ticks `step_key` for every contact in `contacts`, as one batch: recorded as done by
/// `clock.user` now, with one shared batch id so that undo reverses it as one. A path whose every
/// step is now done is completed (also one whose steps were all done already).
pub fn tick(
    store: &mut Store,
    clock: &Clock,
    path: &StepPath,
    step_key: &str,
    contacts: &[i64],
) -> Result<TickOutcome> {
    store.ensure_writable("ticking an onboarding step")?;
    let Some(step) = path.index_of(step_key).and_then(|i| path.get(i)) else {
        bail!("`{step_key}` is not a step of the onboarding path");
    };
    let tx = immediate(store)?;
    // Batch ids come from the audit log's id sequence: this batch's first audit line gets this id,
    // and audit ids are never reused, so neither are batch ids.
    let batch: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM audit_log", [], |r| {
        r.get(0)
    })?;
    let now = clock.now_rfc3339();
    let (mut ticked, mut completed) = (Vec::new(), Vec::new());
    let (mut already_done, mut not_in_queue) = (0, 0);
    for &contact in contacts {
        if !is_active(&tx, contact)? {
            not_in_queue += 1;
            continue;
        }
        if step_record(&tx, contact, step_key)?.is_some() {
            already_done += 1;
            // Every step may already be done when the steps file lost the last one left: ticking
            // is how staff then close the path (it is never closed behind their back at load).
            if complete_if_done(&tx, clock, path, contact)? {
                completed.push(contact);
            }
            continue;
        }
        tx.execute(
            "INSERT INTO onboarding_steps (contact_id, step_key, done_at, done_by, batch)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![contact, step_key, now, clock.user, batch],
        )?;
        audit::record(
            &tx,
            clock,
            Change {
                action: "onboarding.step_done",
                entity: "onboarding_steps",
                entity_id: Some(contact),
                contact_id: Some(contact),
                before: None,
                after: Some(json!({
                    "step_key": step_key, "step": step.label, "done_at": now,
                    "done_by": clock.user, "batch": batch,
                })),
            },
        )?;
        ticked.push(contact);
        if complete_if_done(&tx, clock, path, contact)? {
            completed.push(contact);
        }
    }
    tx.commit()?;
    Ok(TickOutcome {
        ticked: ticked.len(),
        completed: completed.len(),
        already_done,
        not_in_queue,
        undo: Undo::Ticked {
            batch,
            step_key: step_key.to_owned(),
            contacts: ticked,
            completed,
        },
    })
}

/// Completes the path when every step in it is done. True if it did.
fn complete_if_done(
    tx: &Transaction,
    clock: &Clock,
    path: &StepPath,
    contact: i64,
) -> Result<bool> {
    let mut stmt =
        tx.prepare_cached("SELECT step_key FROM onboarding_steps WHERE contact_id = ?1")?;
    let done: HashSet<String> = stmt
        .query_map([contact], |r| r.get(0))?
        .collect::<crate::storage::sql::Result<_>>()?;
    if !path.steps().iter().all(|s| done.contains(&s.key)) {
        return Ok(false);
    }
    let now = clock.now_rfc3339();
    tx.execute(
        "UPDATE onboarding SET state = 'completed', closed_reason = '', closed_by = ?2,
                closed_at = ?3
         WHERE contact_id = ?1",
        params![contact, clock.user, now],
    )?;
    audit::record(
        tx,
        clock,
        Change {
            action: "onboarding.complete",
            entity: "onboarding",
            entity_id: Some(contact),
            contact_id: Some(contact),
            before: Some(json!({ "state": "active" })),
            after: Some(json!({ "state": "completed", "closed_by": clock.user, "closed_at": now })),
        },
    )?;
    Ok(true)
}

/// Unticks a done step for one member.
pub fn untick(store: &mut Store, clock: &Clock, contact_id: i64, step_key: &str) -> Result<Undo> {
    store.ensure_writable("unticking an onboarding step")?;
    let tx = immediate(store)?;
    require_active(&tx, contact_id)?;
    let Some(removed) = step_record(&tx, contact_id, step_key)? else {
        bail!("that step is not ticked for this member (someone may have unticked it); refresh");
    };
    tx.execute(
        "DELETE FROM onboarding_steps WHERE contact_id = ?1 AND step_key = ?2",
        params![contact_id, step_key],
    )?;
    audit::record(
        &tx,
        clock,
        Change {
            action: "onboarding.step_undone",
            entity: "onboarding_steps",
            entity_id: Some(contact_id),
            contact_id: Some(contact_id),
            before: Some(json!({ "step_key": step_key, "record": removed })),
            after: None,
        },
    )?;
    tx.commit()?;
    Ok(Undo::Unticked {
        contact_id,
        step_key: step_key.to_owned(),
        removed,
    })
}

/// Checks a staff name as `--user` does: 1 to 64 printable characters.
pub fn check_staff_name(name: &str) -> Result<&str> {
    crate::domain::check_staff_name(name).map_err(|e| anyhow::anyhow!(e))
}

fn assignment(
    conn: &Connection,
    contact_id: i64,
) -> crate::storage::sql::Result<Option<Assignment>> {
    super::assignments::current(conn, contact_id, QUEUE)
}

/// Assigns a member's onboarding to `assignee`, or unassigns it (None).
pub fn assign(
    store: &mut Store,
    clock: &Clock,
    contact_id: i64,
    assignee: Option<&str>,
) -> Result<Undo> {
    store.ensure_writable("assigning an onboarding member")?;
    let assignee = assignee.map(check_staff_name).transpose()?;
    let tx = immediate(store)?;
    require_active(&tx, contact_id)?;
    if let Some(name) = assignee {
        super::staff::check_assignee(&tx, name)?;
    }
    let before = assignment(&tx, contact_id)?;
    let after = assignee.map(|name| Assignment {
        assignee: name.to_owned(),
        staff: clock.user.clone(),
        assigned_at: clock.now_rfc3339(),
    });
    write_assignment(&tx, contact_id, after.as_ref())?;
    audit::record(
        &tx,
        clock,
        Change {
            action: "onboarding.assign",
            entity: "assignments",
            entity_id: Some(contact_id),
            contact_id: Some(contact_id),
            before: before.as_ref().map(|a| json!(a)),
            after: after.as_ref().map(|a| json!(a)),
        },
    )?;
    tx.commit()?;
    Ok(Undo::Assigned { contact_id, before })
}

fn write_assignment(
    conn: &Connection,
    contact_id: i64,
    assignment: Option<&Assignment>,
) -> crate::storage::sql::Result<()> {
    match assignment {
        None => conn.execute(
            "DELETE FROM assignments WHERE contact_id = ?1 AND queue = ?2",
            params![contact_id, QUEUE],
        )?,
        Some(a) => conn.execute(
            "INSERT INTO assignments (contact_id, queue, assignee, staff, assigned_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (contact_id, queue) DO UPDATE SET assignee = excluded.assignee,
                 staff = excluded.staff, assigned_at = excluded.assigned_at",
            params![contact_id, QUEUE, a.assignee, a.staff, a.assigned_at],
        )?,
    };
    Ok(())
}

/// Adds an onboarding note to a member.
pub fn add_note(store: &mut Store, clock: &Clock, contact_id: i64, body: &str) -> Result<Undo> {
    store.ensure_writable("adding an onboarding note")?;
    let body = body.trim();
    if body.is_empty() {
        bail!("the note is empty");
    }
    if body.chars().count() > MAX_NOTE_CHARS {
        bail!("a note is at most {MAX_NOTE_CHARS} characters");
    }
    let tx = immediate(store)?;
    require_active(&tx, contact_id)?;
    let now = clock.now_rfc3339();
    let note_id: i64 = tx.query_row(
        "INSERT INTO notes (contact_id, context, body, staff, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        params![contact_id, QUEUE, body, clock.user, now],
        |r| r.get(0),
    )?;
    audit::record(
        &tx,
        clock,
        Change {
            action: "onboarding.note",
            entity: "notes",
            entity_id: Some(note_id),
            contact_id: Some(contact_id),
            before: None,
            after: Some(json!({ "context": QUEUE, "body": body })),
        },
    )?;
    tx.commit()?;
    Ok(Undo::Noted {
        contact_id,
        note_id,
    })
}

/// Abandons a member's path with a reason; they leave the queue.
pub fn abandon(
    store: &mut Store,
    clock: &Clock,
    contact_id: i64,
    reason: AbandonReason,
    detail: &str,
) -> Result<Undo> {
    store.ensure_writable("abandoning an onboarding path")?;
    let stored = reason.stored(detail).map_err(anyhow::Error::msg)?;
    let tx = immediate(store)?;
    require_active(&tx, contact_id)?;
    let before = path_row(&tx, contact_id)?.context("onboarding row vanished")?;
    let now = clock.now_rfc3339();
    tx.execute(
        "UPDATE onboarding SET state = 'abandoned', closed_reason = ?2, closed_by = ?3,
                closed_at = ?4
         WHERE contact_id = ?1",
        params![contact_id, stored, clock.user, now],
    )?;
    audit::record(
        &tx,
        clock,
        Change {
            action: "onboarding.abandon",
            entity: "onboarding",
            entity_id: Some(contact_id),
            contact_id: Some(contact_id),
            before: Some(json!(before)),
            after: Some(json!({ "state": "abandoned", "closed_reason": stored,
                                "closed_by": clock.user, "closed_at": now })),
        },
    )?;
    tx.commit()?;
    Ok(Undo::Abandoned { contact_id, before })
}

/// What adding by hand did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// Entered (or re-entered after being completed or abandoned): undo with this.
    Entered(Undo),
    /// Already in the queue: nothing changed.
    AlreadyInQueue,
}

/// Adds a contact to the queue by hand (from the member view). The path counts from today. A
/// contact whose path was completed or abandoned is put back, keeping the steps already done.
pub fn add_by_hand(store: &mut Store, clock: &Clock, contact_id: i64) -> Result<Added> {
    store.ensure_writable("adding a member to onboarding")?;
    let tx = immediate(store)?;
    let alive: Option<bool> = tx
        .query_row(
            &format!("SELECT {NOT_DECEASED_SQL} FROM contacts c WHERE c.id = ?1"),
            [contact_id],
            |r| r.get(0),
        )
        .optional()?;
    match alive {
        None => bail!("no contact with rollcall id {contact_id}"),
        Some(false) => bail!("this member is recorded as deceased; they are not onboarded"),
        Some(true) => {}
    }
    let before = path_row(&tx, contact_id)?;
    if before.as_ref().is_some_and(|p| p.state == "active") {
        return Ok(Added::AlreadyInQueue);
    }
    let now = clock.now_rfc3339();
    tx.execute(
        "INSERT INTO onboarding (contact_id, anchor_date, added_by_hand, added_by, added_at)
         VALUES (?1, ?2, 1, ?3, ?4)
         ON CONFLICT (contact_id) DO UPDATE SET anchor_date = excluded.anchor_date,
             added_by_hand = 1, added_by = excluded.added_by, added_at = excluded.added_at,
             state = 'active', closed_reason = '', closed_by = NULL, closed_at = NULL,
             arrival = NULL",
        params![contact_id, clock.today.to_string(), clock.user, now],
    )?;
    audit::record(
        &tx,
        clock,
        Change {
            action: "onboarding.add",
            entity: "onboarding",
            entity_id: Some(contact_id),
            contact_id: Some(contact_id),
            before: before.as_ref().map(|p| json!(p)),
            after: Some(
                json!({ "anchor_date": clock.today.to_string(), "added_by_hand": true,
                                "state": "active" }),
            ),
        },
    )?;
    tx.commit()?;
    Ok(Added::Entered(Undo::Added { contact_id, before }))
}

/// Reverses a change. Returns how many rows it put back as they were (a change someone else has
/// since overridden is left alone).
pub fn undo(store: &mut Store, clock: &Clock, change: &Undo) -> Result<usize> {
    store.ensure_writable("undoing an onboarding change")?;
    let tx = immediate(store)?;
    let reverted = match change {
        Undo::Ticked {
            batch,
            step_key,
            contacts,
            completed,
        } => undo_ticks(&tx, clock, *batch, step_key, contacts, completed)?,
        Undo::Unticked {
            contact_id,
            step_key,
            removed,
        } => {
            let n = tx.execute(
                "INSERT INTO onboarding_steps (contact_id, step_key, done_at, done_by, batch)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                params![
                    contact_id,
                    step_key,
                    removed.done_at,
                    removed.done_by,
                    removed.batch
                ],
            )?;
            audit_undo(
                &tx,
                clock,
                "onboarding.undo_untick",
                "onboarding_steps",
                *contact_id,
                json!({ "step_key": step_key, "record": removed }),
            )?;
            n
        }
        Undo::Assigned { contact_id, before } => {
            write_assignment(&tx, *contact_id, before.as_ref())?;
            audit_undo(
                &tx,
                clock,
                "onboarding.undo_assign",
                "assignments",
                *contact_id,
                json!({ "restored": before }),
            )?;
            1
        }
        Undo::Noted {
            contact_id,
            note_id,
        } => {
            let n = tx.execute(
                "DELETE FROM notes WHERE id = ?1 AND contact_id = ?2 AND context = ?3",
                params![note_id, contact_id, QUEUE],
            )?;
            audit_undo(
                &tx,
                clock,
                "onboarding.undo_note",
                "notes",
                *contact_id,
                json!({ "note_id": note_id }),
            )?;
            n
        }
        Undo::Abandoned { contact_id, before } => {
            let n = restore_path(&tx, *contact_id, Some(before), "abandoned")?;
            audit_undo(
                &tx,
                clock,
                "onboarding.undo_abandon",
                "onboarding",
                *contact_id,
                json!(before),
            )?;
            n
        }
        Undo::Added { contact_id, before } => {
            let n = restore_path(&tx, *contact_id, before.as_ref(), "active")?;
            audit_undo(
                &tx,
                clock,
                "onboarding.undo_add",
                "onboarding",
                *contact_id,
                json!({ "restored": before }),
            )?;
            n
        }
    };
    tx.commit()?;
    Ok(reverted)
}

fn undo_ticks(
    tx: &Transaction,
    clock: &Clock,
    batch: i64,
    step_key: &str,
    contacts: &[i64],
    completed: &[i64],
) -> Result<usize> {
    let mut reverted = 0;
    for &contact in completed {
        // Reopen only a path this batch completed and nobody has closed differently since.
        tx.execute(
            "UPDATE onboarding SET state = 'active', closed_reason = '', closed_by = NULL,
                    closed_at = NULL
             WHERE contact_id = ?1 AND state = 'completed'",
            [contact],
        )?;
    }
    for &contact in contacts {
        let n = tx.execute(
            "DELETE FROM onboarding_steps WHERE contact_id = ?1 AND step_key = ?2 AND batch = ?3",
            params![contact, step_key, batch],
        )?;
        if n > 0 {
            audit_undo(
                tx,
                clock,
                "onboarding.undo_step_done",
                "onboarding_steps",
                contact,
                json!({ "step_key": step_key, "batch": batch,
                        "reopened": completed.contains(&contact) }),
            )?;
        }
        reverted += n;
    }
    Ok(reverted)
}

/// Puts an onboarding row back as `before` (or removes it when there was none), provided it is
/// still in `expected_state`.
fn restore_path(
    tx: &Transaction,
    contact_id: i64,
    before: Option<&PathRow>,
    expected_state: &str,
) -> Result<usize> {
    Ok(match before {
        None => tx.execute(
            "DELETE FROM onboarding WHERE contact_id = ?1 AND state = ?2",
            params![contact_id, expected_state],
        )?,
        Some(p) => tx.execute(
            "UPDATE onboarding SET anchor_date = ?2, added_by_hand = ?3, added_by = ?4,
                    added_at = ?5, state = ?6, closed_reason = ?7, closed_by = ?8, closed_at = ?9,
                    arrival = NULL
             WHERE contact_id = ?1 AND state = ?10",
            params![
                contact_id,
                p.anchor_date,
                p.added_by_hand,
                p.added_by,
                p.added_at,
                p.state,
                p.closed_reason,
                p.closed_by,
                p.closed_at,
                expected_state
            ],
        )?,
    })
}

fn audit_undo(
    tx: &Transaction,
    clock: &Clock,
    action: &str,
    entity: &str,
    contact_id: i64,
    restored: serde_json::Value,
) -> crate::storage::sql::Result<()> {
    audit::record(
        tx,
        clock,
        Change {
            action,
            entity,
            entity_id: Some(contact_id),
            contact_id: Some(contact_id),
            before: None,
            after: Some(restored),
        },
    )
}
