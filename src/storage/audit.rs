//! The audit trail: every change made in rollcall, with who, when, what, before and after.
//!
//! Writes go through [`record`] inside the same transaction as the change, so a change and its
//! audit line land together or not at all.

use crate::storage::sql::{Connection, params};
use serde::Serialize;

use crate::Clock;

/// One change to record. `before`/`after` are JSON snapshots of the changed row (None for
/// inserts/deletes respectively).
pub struct Change<'a> {
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

const INSERT: &str =
    "INSERT INTO audit_log (at, staff, action, entity, entity_id, contact_id, before, after)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

/// Records `change` as `clock.user`'s: one statement, every write pays it.
pub fn record(
    conn: &Connection,
    clock: &Clock,
    change: Change<'_>,
) -> crate::storage::sql::Result<()> {
    conn.execute(INSERT, values(clock, change))?;
    Ok(())
}

/// As [`record`], returning the new line's id (a second round trip on PostgreSQL, see
/// `Connection::insert_id`), for the few callers that cite the line.
pub fn record_with_id(
    conn: &Connection,
    clock: &Clock,
    change: Change<'_>,
) -> crate::storage::sql::Result<i64> {
    conn.insert_id("audit_log", INSERT, values(clock, change))
}

fn values(clock: &Clock, change: Change<'_>) -> Vec<crate::storage::sql::Value> {
    use crate::storage::sql::ToSql;
    let at = clock.now_rfc3339();
    let before = change.before.map(|v| v.to_string());
    let after = change.after.map(|v| v.to_string());
    let values: [&dyn ToSql; 8] = [
        &at,
        &clock.user,
        &change.action,
        &change.entity,
        &change.entity_id,
        &change.contact_id,
        &before,
        &after,
    ];
    values.iter().map(|v| v.to_sql().to_owned()).collect()
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AuditLine {
    pub id: i64,
    pub at: String,
    pub staff: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Audit lines, oldest first, optionally for one contact and/or since a date (YYYY-MM-DD).
pub fn lines(
    conn: &Connection,
    contact_id: Option<i64>,
    since: Option<&str>,
) -> crate::storage::sql::Result<Vec<AuditLine>> {
    let mut stmt = conn.prepare(
        "SELECT id, at, staff, action, entity, entity_id, contact_id, before, after FROM audit_log
         WHERE (CAST(?1 AS BIGINT) IS NULL OR contact_id = ?1)
           AND (CAST(?2 AS TEXT) IS NULL OR at >= ?2) ORDER BY id",
    )?;
    stmt.query_map(params![contact_id, since], |r| {
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
    })?
    .collect()
}

/// rollcall contact id → CRM contact id, for every contact the audit log mentions that is still
/// in the database.
pub fn crm_ids_of_audited(
    conn: &Connection,
) -> crate::storage::sql::Result<std::collections::HashMap<i64, String>> {
    let mut stmt = conn.prepare(
        "SELECT id, crm_id FROM contacts WHERE id IN (SELECT contact_id FROM audit_log)",
    )?;
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}
