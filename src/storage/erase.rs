//! Erasure: `rollcall forget` removes a person completely (a UK GDPR erasure request).
//!
//! One transaction deletes the contact, their memberships and everything rollcall holds about
//! them, removes the audit lines about them, and records a hash of (source, CRM id) in
//! `erased_contacts` so that a later import skips them. On SQLite the erase runs with
//! `secure_delete` on, and afterwards the WAL is checkpointed and the file vacuumed, so the
//! deleted bytes do not linger in free pages, old page versions or slack space of the database
//! file. On PostgreSQL the tables are rewritten and their statistics gathered afresh afterwards;
//! see [`wipe_free_space`] for what the server keeps and what that removes.

use std::collections::BTreeMap;

use crate::storage::sql::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Result, Store, StoreError, audit};
use crate::Clock;

/// The key under which an erased person is remembered: lowercase hex SHA-256 of
/// `source + U+001F + crm_id`. Import computes the same value to skip erased people.
pub fn erased_key_hash(source: &str, crm_id: &str) -> String {
    let digest = Sha256::digest(format!("{source}\u{1f}{crm_id}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a CRM id (and optional source) refers to in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// One contact: rollcall's id and the source it came from.
    Found {
        id: i64,
        source: String,
    },
    /// No contact holds this CRM id, but one was erased under it.
    Erased {
        erased_at: String,
        staff: String,
    },
    /// The same CRM id exists in several sources; the caller must name one.
    Ambiguous {
        sources: Vec<String>,
    },
    NotFound,
}

/// Finds the contact with CRM id `crm_id`, in `source` if given.
pub fn find_contact(conn: &Connection, crm_id: &str, source: Option<&str>) -> Result<Lookup> {
    let mut stmt = conn.prepare(
        "SELECT id, source FROM contacts WHERE crm_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR source = ?2)
         ORDER BY source",
    )?;
    let found: Vec<(i64, String)> = stmt
        .query_map(params![crm_id, source], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<crate::storage::sql::Result<_>>()?;
    match found.len() {
        1 => {
            let (id, source) = found.into_iter().next().expect("one row");
            Ok(Lookup::Found { id, source })
        }
        0 => find_erased(conn, crm_id, source),
        _ => Ok(Lookup::Ambiguous {
            sources: found.into_iter().map(|(_, s)| s).collect(),
        }),
    }
}

/// An erasure under `crm_id`: in `source` if given, otherwise in any source import has used.
fn find_erased(conn: &Connection, crm_id: &str, source: Option<&str>) -> Result<Lookup> {
    let sources: Vec<String> = match source {
        Some(s) => vec![s.to_owned()],
        None => known_sources(conn)?,
    };
    for source in sources {
        let erased = conn
            .query_row(
                "SELECT erased_at, staff FROM erased_contacts WHERE key_hash = ?1",
                [erased_key_hash(&source, crm_id)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((erased_at, staff)) = erased {
            return Ok(Lookup::Erased { erased_at, staff });
        }
    }
    Ok(Lookup::NotFound)
}

/// Every source name the database has seen, from contacts and import runs.
fn known_sources(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare("SELECT source FROM contacts UNION SELECT source FROM import_runs ORDER BY 1")?;
    let sources = stmt
        .query_map([], |r| r.get(0))?
        .collect::<crate::storage::sql::Result<_>>()?;
    Ok(sources)
}

/// How many rows of each kind an erasure removed, by table name.
pub type ErasedCounts = BTreeMap<&'static str, u64>;

/// A record about someone else whose free text mentions the erased person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mention {
    pub table: &'static str,
    pub id: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForgetReport {
    pub source: String,
    pub erased: ErasedCounts,
    /// Audit lines about other records in which the person's details were replaced by
    /// `[erased]`.
    pub audit_lines_redacted: u64,
    /// Records about other people whose free text mentions this person: rollcall does not
    /// rewrite other people's records, so staff should review them.
    pub mentions: Vec<Mention>,
    /// Whether the file was compacted and its WAL emptied, so no old copy of the erased rows
    /// remains on disk; see [`Wipe`].
    pub wipe: Wipe,
}

/// The text that identifies a person, used to find mentions of them outside their own records.
struct Identifiers {
    crm_id: String,
    strings: Vec<String>,
}

impl Identifiers {
    fn load(conn: &Connection, contact_id: i64) -> Result<Identifiers> {
        let (crm_id, values): (String, Vec<String>) = conn.query_row(
            "SELECT crm_id, email, phone, display_name, sort_name, first_name || ' ' || last_name,
                    street_address
             FROM contacts WHERE id = ?1",
            [contact_id],
            |r| {
                let values = (1..=6)
                    .map(|i| r.get::<_, String>(i))
                    .collect::<crate::storage::sql::Result<_>>()?;
                Ok((r.get(0)?, values))
            },
        )?;
        let mut strings: Vec<String> = values
            .into_iter()
            .map(|s| s.trim().to_owned())
            // Short strings ("Al", a 3-digit phone) would match unrelated text.
            .filter(|s| s.chars().count() >= 5)
            .collect();
        strings.sort();
        strings.dedup();
        Ok(Identifiers { crm_id, strings })
    }

    /// Whether `text` mentions the person (case-insensitive).
    fn mentioned_in(&self, text: &str) -> bool {
        let text = text.to_lowercase();
        self.strings
            .iter()
            .any(|s| text.contains(&s.to_lowercase()))
    }
}

/// The ids of everything about one contact, gathered before anything is deleted.
pub(super) struct Scope {
    contact: i64,
    memberships: Vec<i64>,
    attempts: Vec<i64>,
    escalations: Vec<i64>,
    escalation_events: Vec<i64>,
}

impl Scope {
    pub(super) fn gather(conn: &Connection, contact: i64) -> Result<Scope> {
        let m = THEIR_MEMBERSHIPS;
        let escalations =
            format!("SELECT id FROM escalations WHERE contact_id = ?1 OR membership_id IN {m}");
        Ok(Scope {
            contact,
            memberships: ids(conn, &format!("SELECT id FROM {m} AS their"), contact)?,
            attempts: ids(
                conn,
                &format!(
                    "SELECT id FROM contact_attempts WHERE contact_id = ?1 OR membership_id IN {m}"
                ),
                contact,
            )?,
            escalation_events: ids(
                conn,
                &format!("SELECT id FROM escalation_events WHERE escalation_id IN ({escalations})"),
                contact,
            )?,
            escalations: ids(conn, &escalations, contact)?,
        })
    }

    /// The audit `entity` names a change to these records may be logged under, with their ids.
    /// Other work names entities in the singular or by table name; both are matched.
    fn audit_entities(&self) -> Vec<(&'static [&'static str], &[i64])> {
        let contact = std::slice::from_ref(&self.contact);
        vec![
            (&["contact", "contacts"], contact),
            (
                &["onboarding", "onboarding_step", "onboarding_steps"],
                contact,
            ),
            (&["assignment", "assignments"], contact),
            (&["retention_keep", "retention_keeps"], contact),
            (&["membership", "memberships"], &self.memberships),
            (&["snooze", "snoozes"], &self.memberships),
            (
                &["attempt", "contact_attempt", "contact_attempts"],
                &self.attempts,
            ),
            (&["escalation", "escalations"], &self.escalations),
            (
                &["escalation_event", "escalation_events"],
                &self.escalation_events,
            ),
        ]
    }

    /// The write-back keys ('attempt:12', 'step:5:welcome', 'escalation_event:9') about them.
    fn activity_key_matches(&self, key: &str) -> bool {
        let mut parts = key.splitn(3, ':');
        let (kind, id) = (
            parts.next(),
            parts.next().and_then(|s| s.parse::<i64>().ok()),
        );
        match (kind, id) {
            (Some("attempt"), Some(id)) => self.attempts.contains(&id),
            (Some("step"), Some(id)) => id == self.contact,
            (Some("escalation_event"), Some(id)) => self.escalation_events.contains(&id),
            (Some("escalation"), Some(id)) => self.escalations.contains(&id),
            _ => false,
        }
    }
}

fn ids(conn: &Connection, sql: &str, contact: i64) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare(sql)?;
    let ids = stmt
        .query_map([contact], |r| r.get(0))?
        .collect::<crate::storage::sql::Result<_>>()?;
    Ok(ids)
}

/// Ids as the inside of an SQL `IN (…)` list, written out (they are integers, so nothing can be
/// injected, and both engines read the list alike). Never empty: `NULL` matches nothing.
pub(super) fn id_list(ids: &[i64]) -> String {
    if ids.is_empty() {
        return "NULL".to_owned();
    }
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Names as the inside of an SQL `IN (…)` list of string literals.
fn name_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("'{}'", n.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why someone is erased, recorded on the `forget` audit line (which says nothing of whom).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// `rollcall forget`: an erasure request.
    Request,
    /// `rollcall retention --apply`: the retention rule in config.toml.
    Retention,
}

/// Erases the contact with rollcall id `contact_id` (found with [`find_contact`]) and everything
/// about them, in one transaction, then wipes the freed space from the file.
pub fn forget(store: &mut Store, clock: &Clock, contact_id: i64) -> Result<ForgetReport> {
    let mut reports = forget_many(store, clock, &[contact_id], Cause::Request)?;
    Ok(reports.pop().expect("one erasure, one report"))
}

/// Erases each of `contact_ids` as [`forget`] does, each in its own transaction, and wipes the
/// freed space once at the end (a `VACUUM` per person would rewrite the file each time). If one
/// fails, those before it stay erased and are wiped, and the error is returned.
pub fn forget_many(
    store: &mut Store,
    clock: &Clock,
    contact_ids: &[i64],
    cause: Cause,
) -> Result<Vec<ForgetReport>> {
    store.ensure_writable("erasing a person (forget)")?;
    // Held until the erasure is done, so that no search saves an index of the store as it was.
    let index_file = crate::search::disk::Erasure::begin(store).map_err(index_file_error)?;
    // SQLite only: deleted rows are overwritten with zeros as they go (PostgreSQL has no such
    // setting; see [`wipe_free_space`] for what it does instead).
    let previous: Option<i64> = match store.conn.sqlite() {
        Some(c) => Some(c.query_row("PRAGMA secure_delete", [], |r| r.get(0))?),
        None => None,
    };
    store.conn.pragma_update(None, "secure_delete", 1)?;
    let mut reports = Vec::with_capacity(contact_ids.len());
    let mut failed = None;
    for &id in contact_ids {
        match erase_in_transaction(&mut store.conn, clock, id, cause) {
            Ok(report) => reports.push(report),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    if let Some(previous) = previous {
        store.conn.pragma_update(None, "secure_delete", previous)?;
    }
    if !reports.is_empty() {
        let wipe = wipe_free_space(&store.conn)?;
        for report in &mut reports {
            report.wipe = wipe.clone();
        }
    }
    if let Some(index_file) = index_file {
        index_file
            .finish(store, &contact_ids[..reports.len()])
            .map_err(index_file_error)?;
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(reports),
    }
}

/// The search index file's trouble as a storage error (its message names the file, no person).
fn index_file_error(e: anyhow::Error) -> StoreError {
    StoreError::Io {
        path: std::path::PathBuf::from("search index"),
        source: std::io::Error::other(format!("{e:#}")),
    }
}

fn erase_in_transaction(
    conn: &mut Connection,
    clock: &Clock,
    contact_id: i64,
    cause: Cause,
) -> Result<ForgetReport> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let source: String = tx.query_row(
        "SELECT source FROM contacts WHERE id = ?1",
        [contact_id],
        |r| r.get(0),
    )?;
    let who = Identifiers::load(&tx, contact_id)?;
    let scope = Scope::gather(&tx, contact_id)?;
    let saved_state_rule = SavedStateRule::load(&tx, &scope)?;
    // First of the writes: on PostgreSQL the row lock this takes makes an app window's save
    // (`ui_state::save` locks the same row) wait for the erasure, or the erasure wait for the
    // save, so saved state naming the person cannot be written while it is being deleted.
    tx.execute(
        "UPDATE erasure_generation SET generation = generation + 1",
        [],
    )?;
    let mut erased = delete_records(&tx, &scope)?;
    erased.insert("audit_log", delete_audit_lines(&tx, &scope, &who)?);
    erased.insert("ui_state", delete_ui_state(&tx, &saved_state_rule)?);
    let audit_lines_redacted = redact_audit_lines(&tx, &who)?;
    let mentions = find_mentions(&tx, &who)?;
    tx.execute(
        "INSERT INTO erased_contacts (key_hash, erased_at, staff) VALUES (?1, ?2, ?3)
         ON CONFLICT (key_hash) DO UPDATE SET erased_at = excluded.erased_at,
             staff = excluded.staff",
        params![
            erased_key_hash(&source, &who.crm_id),
            clock.now_rfc3339(),
            clock.user
        ],
    )?;
    // The one line that remains: who erased someone and when, how much, and nothing about whom.
    audit::record(
        &tx,
        clock,
        audit::Change {
            action: "forget",
            entity: "contact",
            entity_id: None,
            contact_id: None,
            before: None,
            after: Some(serde_json::json!({
                "source": source,
                "cause": cause,
                "erased": erased,
                "audit_lines_redacted": audit_lines_redacted,
            })),
        },
    )?;
    tx.commit()?;
    Ok(ForgetReport {
        source,
        erased,
        audit_lines_redacted,
        mentions,
        wipe: Wipe::Done,
    })
}

/// Their memberships, as an SQL subquery on the contact id `?1`.
pub(super) const THEIR_MEMBERSHIPS: &str = "(SELECT id FROM memberships WHERE contact_id = ?1)";

/// Deletes the person's rows, children before parents so that foreign keys hold throughout.
fn delete_records(conn: &Connection, scope: &Scope) -> Result<ErasedCounts> {
    let m = THEIR_MEMBERSHIPS;
    let attempts =
        format!("(SELECT id FROM contact_attempts WHERE contact_id = ?1 OR membership_id IN {m})");
    let escalations =
        format!("(SELECT id FROM escalations WHERE contact_id = ?1 OR membership_id IN {m})");
    let mut counts = ErasedCounts::new();
    counts.insert(
        "exported_activities",
        delete_activity_keys(conn, scope)? as u64,
    );
    // A renewal of someone else's membership credited to one of their attempts keeps the
    // renewal but loses the credit.
    conn.execute(
        &format!(
            "UPDATE membership_events SET credited_attempt_id = NULL \
             WHERE credited_attempt_id IN {attempts}"
        ),
        [scope.contact],
    )?;
    let deletes = [
        ("membership_events", format!("membership_id IN {m}")),
        ("membership_dates_unknown", format!("membership_id IN {m}")),
        ("contact_tags", "contact_id = ?1".to_owned()),
        (
            "field_changes",
            format!("contact_id = ?1 OR membership_id IN {m}"),
        ),
        ("snoozes", format!("membership_id IN {m}")),
        ("notes", format!("contact_id = ?1 OR membership_id IN {m}")),
        ("contact_attempts", format!("id IN {attempts}")),
        ("assignments", "contact_id = ?1".to_owned()),
        ("claims", "contact_id = ?1".to_owned()),
        ("onboarding_steps", "contact_id = ?1".to_owned()),
        ("onboarding", "contact_id = ?1".to_owned()),
        ("retention_keeps", "contact_id = ?1".to_owned()),
        (
            "escalation_events",
            format!("escalation_id IN {escalations}"),
        ),
        ("escalations", format!("id IN {escalations}")),
        ("memberships", "contact_id = ?1".to_owned()),
        ("contacts", "id = ?1".to_owned()),
    ];
    for (table, condition) in deletes {
        let deleted = conn.execute(
            &format!("DELETE FROM {table} WHERE {condition}"),
            [scope.contact],
        )?;
        counts.insert(table, deleted as u64);
    }
    Ok(counts)
}

fn delete_activity_keys(conn: &Connection, scope: &Scope) -> Result<usize> {
    let keys: Vec<String> = conn
        .prepare("SELECT activity_key FROM exported_activities")?
        .query_map([], |r| r.get(0))?
        .collect::<crate::storage::sql::Result<_>>()?;
    let mut deleted = 0;
    for key in keys.iter().filter(|k| scope.activity_key_matches(k)) {
        deleted += conn.execute(
            "DELETE FROM exported_activities WHERE activity_key = ?1",
            [key],
        )?;
    }
    Ok(deleted)
}

/// Deletes the audit lines about the person (see [`audit_lines_about`]).
fn delete_audit_lines(conn: &Connection, scope: &Scope, who: &Identifiers) -> Result<u64> {
    let ids = audit_lines_about(conn, scope, &who.crm_id)?;
    for chunk in ids.chunks(500) {
        conn.execute(
            &format!("DELETE FROM audit_log WHERE id IN ({})", id_list(chunk)),
            [],
        )?;
    }
    Ok(ids.len() as u64)
}

/// The ids of the audit lines about the person, oldest first: by contact, by any of their
/// records, and any line holding their CRM id as a field. A line that names another contact is
/// that contact's (erasure only redacts it). Erasure deletes these lines, and a subject access
/// request shows them.
pub(super) fn audit_lines_about(
    conn: &Connection,
    scope: &Scope,
    crm_id: &str,
) -> Result<Vec<i64>> {
    let mut ids = self::ids(
        conn,
        "SELECT id FROM audit_log WHERE contact_id = ?1",
        scope.contact,
    )?;
    for (entities, records) in scope.audit_entities() {
        if records.is_empty() {
            continue;
        }
        for chunk in records.chunks(500) {
            let mut stmt = conn.prepare(&format!(
                "SELECT id FROM audit_log WHERE entity IN ({}) AND entity_id IN ({})
                 AND (contact_id IS NULL OR contact_id = ?1)",
                name_list(entities),
                id_list(chunk)
            ))?;
            let found = stmt.query_map([scope.contact], |r| r.get(0))?;
            ids.extend(found.collect::<crate::storage::sql::Result<Vec<i64>>>()?);
        }
    }
    let crm_field = format!(
        "\"crm_id\":{}",
        serde_json::to_string(crm_id).expect("string serialises")
    );
    let mut stmt = conn.prepare(conn.pick(
        "SELECT id FROM audit_log WHERE contact_id IS NULL
         AND (instr(coalesce(before, ''), ?1) > 0 OR instr(coalesce(after, ''), ?1) > 0)",
        "SELECT id FROM audit_log WHERE contact_id IS NULL
         AND (strpos(coalesce(before, ''), ?1) > 0 OR strpos(coalesce(after, ''), ?1) > 0)",
    ))?;
    let found = stmt.query_map([&crm_field], |r| r.get(0))?;
    ids.extend(found.collect::<crate::storage::sql::Result<Vec<i64>>>()?);
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Replaces the person's details with `[erased]` in audit lines about other records (a note on
/// someone else that quotes their email), keeping the line's who/when/what.
fn redact_audit_lines(conn: &Connection, who: &Identifiers) -> Result<u64> {
    let lines: Vec<(i64, Option<String>, Option<String>)> = conn
        .prepare("SELECT id, before, after FROM audit_log")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<crate::storage::sql::Result<_>>()?;
    let mut redacted = 0;
    for (id, before, after) in lines {
        let mentions = |t: &Option<String>| t.as_deref().is_some_and(|t| who.mentioned_in(t));
        if !mentions(&before) && !mentions(&after) {
            continue;
        }
        let scrub = |t: Option<String>| t.map(|t| redact_json_text(&t, &who.strings));
        conn.execute(
            "UPDATE audit_log SET before = ?2, after = ?3 WHERE id = ?1",
            params![id, scrub(before), scrub(after)],
        )?;
        redacted += 1;
    }
    Ok(redacted)
}

/// Replaces every case-insensitive occurrence of each string in `text` by `[erased]`, keeping
/// the text valid JSON (the replacement holds no quote or backslash).
fn redact_json_text(text: &str, strings: &[String]) -> String {
    let mut text = text.to_owned();
    for s in strings {
        // The JSON-escaped form is what the text holds (quotes, backslashes, controls).
        let escaped = serde_json::to_string(s).expect("string serialises");
        let needle = escaped[1..escaped.len() - 1].to_lowercase();
        text = replace_case_insensitive(&text, &needle, "[erased]");
    }
    text
}

fn replace_case_insensitive(text: &str, needle_lower: &str, with: &str) -> String {
    if needle_lower.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = find_case_insensitive(rest, needle_lower) {
        out.push_str(&rest[..at.0]);
        out.push_str(with);
        rest = &rest[at.1..];
    }
    out.push_str(rest);
    out
}

/// The byte range of the first case-insensitive match of `needle_lower` in `text`.
fn find_case_insensitive(text: &str, needle_lower: &str) -> Option<(usize, usize)> {
    let starts = text.char_indices().map(|(i, _)| i);
    for start in starts {
        let mut lowered = String::new();
        for (offset, c) in text[start..].char_indices() {
            lowered.extend(c.to_lowercase());
            if lowered.len() >= needle_lower.len() {
                if lowered == needle_lower {
                    return Some((start, start + offset + c.len_utf8()));
                }
                break;
            }
            if !needle_lower.starts_with(&lowered) {
                break;
            }
        }
    }
    None
}

/// Deletes saved app state (a staff member's pane, filters, search query, selection, marked
/// rows) that mentions the person. Losing a row only resets that pane to its defaults, so the
/// rule is generous; see [`SavedStateRule`].
fn delete_ui_state(conn: &Connection, rule: &SavedStateRule) -> Result<u64> {
    let rows: Vec<(String, String, String)> = conn
        .prepare("SELECT staff, key, value FROM ui_state")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<crate::storage::sql::Result<_>>()?;
    let mut deleted = 0;
    for (staff, key, value) in rows {
        if rule.mentions(&value) {
            deleted += conn.execute(
                "DELETE FROM ui_state WHERE staff = ?1 AND key = ?2",
                params![staff, key],
            )? as u64;
        }
    }
    Ok(deleted)
}

/// When saved app state mentions a person. Saved state holds what staff typed, so text is
/// compared folded as search folds it (`grainne nidhonaill` is `Gráinne Ní Dhónaill`):
/// - a text holds one of their details (name, email, phone, postcode, street) of 5 folded
///   characters or more, or
/// - a word of a text (3 folded characters or more) is part of one of those details: a search
///   that would find them, even by first name only, or
/// - a text holds their CRM id or rollcall id as a word, or a number is the id of one of their
///   records (contact, membership, contact attempt, escalation): a selected or marked row.
///
/// A value that is JSON is looked at leaf by leaf; any other value is one text.
struct SavedStateRule {
    details: Vec<String>,
    id_words: [String; 2],
    ids: Vec<i64>,
}

/// The shortest folded word that counts as a search for someone.
const SEARCH_WORD_MIN: usize = 3;

impl SavedStateRule {
    fn load(conn: &Connection, scope: &Scope) -> Result<SavedStateRule> {
        let (crm_id, values): (String, Vec<String>) = conn.query_row(
            "SELECT crm_id, display_name, sort_name, first_name, last_name, organization_name,
                    email, phone, postcode, street_address
             FROM contacts WHERE id = ?1",
            [scope.contact],
            |r| {
                let values = (1..=9)
                    .map(|i| r.get::<_, String>(i))
                    .collect::<crate::storage::sql::Result<_>>()?;
                Ok((r.get(0)?, values))
            },
        )?;
        let mut details: Vec<String> = values
            .iter()
            .map(|v| crate::text::fold(v))
            .filter(|v| v.len() >= SEARCH_WORD_MIN)
            .collect();
        details.sort();
        details.dedup();
        let ids = [
            std::slice::from_ref(&scope.contact),
            &scope.memberships,
            &scope.attempts,
            &scope.escalations,
        ]
        .concat();
        Ok(SavedStateRule {
            details,
            id_words: [crm_id, scope.contact.to_string()],
            ids,
        })
    }

    fn mentions(&self, value: &str) -> bool {
        match serde_json::from_str::<serde_json::Value>(value) {
            Ok(json) => self.json_mentions(&json),
            Err(_) => self.text_mentions(value),
        }
    }

    fn json_mentions(&self, value: &serde_json::Value) -> bool {
        use serde_json::Value;
        match value {
            Value::String(text) => self.text_mentions(text),
            Value::Number(n) => n.as_i64().is_some_and(|n| self.ids.contains(&n)),
            Value::Array(items) => items.iter().any(|v| self.json_mentions(v)),
            Value::Object(fields) => fields
                .iter()
                .any(|(k, v)| self.text_mentions(k) || self.json_mentions(v)),
            Value::Null | Value::Bool(_) => false,
        }
    }

    fn text_mentions(&self, text: &str) -> bool {
        let words = text.split(|c: char| !c.is_alphanumeric());
        if words
            .clone()
            .any(|w| self.id_words.iter().any(|id| id == w))
        {
            return true;
        }
        let folded = crate::text::fold(text);
        // Their whole name, email or postcode inside a longer text; shorter details (a first
        // name of four letters) would match unrelated words.
        if self
            .details
            .iter()
            .any(|d| d.len() >= 5 && folded.contains(d.as_str()))
        {
            return true;
        }
        text.split_whitespace()
            .map(crate::text::fold)
            .filter(|w| w.len() >= SEARCH_WORD_MIN)
            .any(|w| self.details.iter().any(|d| d.contains(&w)))
    }
}

/// How many erasures have run on this database. An app window compares the value at quit with
/// the one it loaded its saved state at: see `storage::ui_state::save`.
/// A contact's name and how many memberships they have: what an erasure asks the officer to
/// confirm.
pub fn who(conn: &Connection, contact_id: i64) -> Result<(String, i64)> {
    Ok(conn.query_row(
        "SELECT display_name, (SELECT count(*) FROM memberships WHERE contact_id = c.id)
         FROM contacts c WHERE id = ?1",
        [contact_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

pub fn generation(conn: &Connection) -> Result<i64> {
    Ok(
        conn.query_row("SELECT generation FROM erasure_generation", [], |r| {
            r.get(0)
        })?,
    )
}

/// Free text in records about other people that mentions the person.
fn find_mentions(conn: &Connection, who: &Identifiers) -> Result<Vec<Mention>> {
    const FREE_TEXT: [(&str, &str); 4] = [
        ("notes", "body"),
        ("contact_attempts", "note"),
        (
            "escalations",
            "title || '\n' || description || '\n' || resolution",
        ),
        (
            "escalation_events",
            "body || '\n' || coalesce(old_value, '') || '\n' || coalesce(new_value, '')",
        ),
    ];
    let mut mentions = Vec::new();
    for (table, text) in FREE_TEXT {
        let mut stmt = conn.prepare(&format!("SELECT id, {text} FROM {table}"))?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (id, text) = row?;
            if who.mentioned_in(&text) {
                mentions.push(Mention { table, id });
            }
        }
    }
    Ok(mentions)
}

/// How long the wipe waits for other connections (an open app, an import) before leaving the
/// rest to them.
const WIPE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// What became of the old copies of the erased rows in the file. The erase itself is committed
/// in every case, and `secure_delete` has already zeroed the rows it deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Wipe {
    /// The file was rewritten without free space and the WAL emptied.
    Done,
    /// Another connection was using the database: the old page images leave the file at the
    /// next checkpoint, when it closes.
    Busy,
    /// Compacting failed (e.g. no room for VACUUM's temporary copy); old versions of rows may
    /// remain in free space until the file is next compacted.
    Failed(String),
    /// PostgreSQL: the tables could not be rewritten now (why, in words: an officer's open
    /// transaction held one, or this role does not own them); the dead row versions stay until
    /// the next vacuum.
    Deferred(String),
}

/// Rewrites the file without free space (old versions of updated rows linger there otherwise)
/// and truncates the WAL.
///
/// On PostgreSQL the committed erasure is invisible to every query at once, but the server keeps
/// copies a member could still be found by:
/// - **dead row versions**: a deleted or updated row stays in its table's pages, and its key in
///   every index, until vacuumed, and a plain `VACUUM` only marks the space reusable. `VACUUM FULL`
///   writes each table and its indexes into new files and drops the old ones, so no page of the
///   database holds the erased rows any more;
/// - **planner statistics** (`pg_statistic`, shown in `pg_stats`): `ANALYZE` keeps each column's
///   most common values and histogram bounds, which can be a name, an email or a postcode. The
///   `ANALYZE` in the same command samples the tables afresh, without them.
///
/// This runs after the commit (VACUUM cannot run in a transaction), on every table the erasure
/// deleted from or rewrote. `VACUUM FULL` locks each table while it is copied: it waits at most
/// [`WIPE_WAIT`] for an officer's open transaction, and is [`Wipe::Deferred`] if it could not have
/// the lock (the dead rows then go at the next vacuum, autovacuum's or the next erasure's). Only
/// the tables' owner may vacuum them: for anyone else it is [`Wipe::Deferred`] too, naming the
/// command for the owner to run. What stays outside the database's own files, and outside
/// rollcall's reach: the write-ahead log until the server recycles its segments, WAL archives,
/// replicas' copies and backups, and the server's log if it logs statements with their values;
/// the team's retention of those is the database administrator's to set.
fn wipe_free_space(conn: &Connection) -> Result<Wipe> {
    let Some(conn) = conn.sqlite() else {
        return wipe_postgres(conn);
    };
    conn.busy_timeout(WIPE_WAIT)?;
    let wipe = match conn.execute_batch("VACUUM") {
        Ok(()) if checkpoint(conn)? => Wipe::Done,
        Ok(()) => Wipe::Busy,
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => Wipe::Busy,
        Err(e) => Wipe::Failed(e.to_string()),
    };
    conn.busy_timeout(super::BUSY_TIMEOUT)?;
    Ok(wipe)
}

/// Every table an erasure deletes from or rewrites (see [`wipe_free_space`]).
const ERASED_TABLES: [&str; 19] = [
    "contacts",
    "memberships",
    "membership_dates_unknown",
    "contact_tags",
    "field_changes",
    "membership_events",
    "snoozes",
    "notes",
    "contact_attempts",
    "assignments",
    "claims",
    "onboarding_steps",
    "onboarding",
    "retention_keeps",
    "escalation_events",
    "escalations",
    "exported_activities",
    "audit_log",
    "ui_state",
];

fn wipe_postgres(conn: &Connection) -> Result<Wipe> {
    let tables = ERASED_TABLES.join(", ");
    let not_owned: i64 = conn.query_row(
        &format!(
            "SELECT count(*) FROM pg_catalog.pg_class
             WHERE relname IN ({}) AND relnamespace = to_regnamespace(current_schema())::oid
               AND NOT pg_has_role(current_user, relowner, 'USAGE')",
            name_list(&ERASED_TABLES)
        ),
        [],
        |r| r.get(0),
    )?;
    if not_owned > 0 {
        return Ok(Wipe::Deferred(format!(
            "only the owner of rollcall's tables may compact them; ask them to run              `VACUUM (FULL, ANALYZE) {tables}`"
        )));
    }
    let wait = format!("SET lock_timeout = {}", WIPE_WAIT.as_millis());
    conn.execute_batch(&wait)?;
    let outcome = conn.execute_batch(&format!("VACUUM (FULL, ANALYZE) {tables}"));
    conn.execute_batch("RESET lock_timeout")?;
    Ok(match outcome {
        Ok(()) => Wipe::Done,
        // 55P03 lock_not_available: an open transaction holds one of the tables.
        Err(e) if e.sqlstate() == Some("55P03") => {
            Wipe::Deferred("another officer's open transaction held one of the tables".to_owned())
        }
        Err(e) => Wipe::Failed(e.to_string()),
    })
}

fn checkpoint(conn: &rusqlite::Connection) -> Result<bool> {
    let (busy, _log, _done): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    Ok(busy == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hash_is_sha256_of_source_unit_separator_id() {
        // printf 'civicrm\x1f1234' | sha256sum
        assert_eq!(
            erased_key_hash("civicrm", "1234"),
            "75734b2f5e42226c874e397b86462389f0d5f63fccefd9e7400e38f1777e6e4c"
        );
        let h = erased_key_hash("civicrm", "1234");
        assert_eq!(h.len(), 64);
        assert!(
            h.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(h, erased_key_hash("civicrm", "12345"));
        assert_ne!(erased_key_hash("a", "bc"), erased_key_hash("ab", "c"));
    }

    #[test]
    fn redaction_is_case_insensitive_and_keeps_json_valid() {
        let strings = vec!["Siân O'Neill".to_owned(), "sian@example.org".to_owned()];
        let text = r#"{"body":"Spoke to SIÂN O'NEILL <Sian@Example.org> about \"dues\""}"#;
        let out = redact_json_text(text, &strings);
        assert_eq!(
            out,
            r#"{"body":"Spoke to [erased] <[erased]> about \"dues\""}"#
        );
        serde_json::from_str::<serde_json::Value>(&out).unwrap();
    }

    #[test]
    fn activity_keys_match_only_their_records() {
        let scope = Scope {
            contact: 5,
            memberships: vec![7],
            attempts: vec![12],
            escalations: vec![3],
            escalation_events: vec![9],
        };
        assert!(scope.activity_key_matches("attempt:12"));
        assert!(scope.activity_key_matches("step:5:welcome_email"));
        assert!(scope.activity_key_matches("escalation_event:9"));
        assert!(!scope.activity_key_matches("attempt:120"));
        assert!(!scope.activity_key_matches("step:55:welcome_email"));
        assert!(!scope.activity_key_matches("escalation_event:1"));
        assert!(!scope.activity_key_matches("garbage"));
    }

    fn grainne() -> SavedStateRule {
        SavedStateRule {
            details: [
                "grainnenidhonaill",
                "grainne",
                "nidhonaill",
                "d12x5y7",
                "gexampleie",
            ]
            .map(str::to_owned)
            .to_vec(),
            id_words: ["4417".to_owned(), "31".to_owned()],
            ids: vec![31, 70, 12],
        }
    }

    #[test]
    fn saved_state_naming_them_folded_or_by_their_ids_is_theirs() {
        let rule = grainne();
        for value in [
            r#"{"query":"grainne nidhonaill"}"#,
            r#"{"query":"Gráinne Ní Dhónaill","selected":0}"#,
            r#"{"query":"dhonaill"}"#,
            r#"{"query":"D12 X5Y7"}"#,
            r#"{"query":"grainne dublin"}"#,
            r#"{"query":"crm 4417"}"#,
            r#"{"view":"open","selected":12}"#,
            r#"{"cursor":null,"marked":[5,70]}"#,
            r#"{"filter":{"text":"G@Example.ie"}}"#,
            "grainne",
        ] {
            assert!(rule.mentions(value), "{value}");
        }
        for value in [
            r#"{"query":"jones","selected":0}"#,
            r#"{"filter":"lapsed","selected":4}"#,
            r#"{"query":"gr"}"#,
            r#"{"query":"44170"}"#,
            "renewals",
        ] {
            assert!(!rule.mentions(value), "{value}");
        }
    }
}
