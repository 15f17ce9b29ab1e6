//! The change feed (issue 21): the CRM fields each import changed, recorded by the import as it
//! updates a row, and read back by `rollcall changes`, Today and the member timeline.
//!
//! Recording compares the stored row with the one replacing it, field by field
//! ([`crate::domain::changes`] names the fields), in SQL and on the database's side, so that an
//! import pays for it only on the rows it updates anyway:
//! - SQLite: temporary triggers on the import's own connection ([`SQLITE_RECORDING`]), fired by
//!   the per-row `UPDATE`s the SQLite import already makes; no other connection sees them, and
//!   they go when the import ends ([`SQLITE_STOP_RECORDING`]).
//! - PostgreSQL: one `INSERT … SELECT` per staging buffer, joining the staged rows to the stored
//!   ones before the set-based `UPDATE … FROM` applies them ([`pg_record_sql`]).

use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use super::sql::{Connection, params};
use crate::domain::changes::{CONTACT_FIELDS, ChangeKind, MEMBERSHIP_FIELDS};

static RECORDING: AtomicBool = AtomicBool::new(true);

/// Turns recording on or off for this process. Only the import benchmark's baseline turns it
/// off (`examples/insights_bench.rs`), to measure what recording costs an import.
pub fn record_field_changes(on: bool) {
    RECORDING.store(on, Ordering::SeqCst);
}

pub(crate) fn recording() -> bool {
    RECORDING.load(Ordering::SeqCst)
}

/// Triggers that record the changed fields of every contact and membership import `run_id`
/// (as of `as_of`) updates. Made for one import, so the run and date are written into them
/// rather than looked up on every row; the `WHEN` skips an update that changes no recorded
/// field (a membership's missing flag) before any step runs.
pub fn sqlite_recording_sql(run_id: i64, as_of: &str) -> String {
    let as_of = as_of.replace('\'', "''");
    let trigger = |name: &str, table: &str, contact: &str, membership: &str, fields: &[&str]| {
        let changed = |f: &str| format!("OLD.{f} IS NOT NEW.{f}");
        let steps: String = fields
            .iter()
            .map(|f| {
                format!(
                    "INSERT INTO field_changes (contact_id, membership_id, import_id, field,
                                                old_value, new_value, occurred_on)
                     SELECT {contact}, {membership}, {run_id}, '{f}', CAST(OLD.{f} AS TEXT),
                            CAST(NEW.{f} AS TEXT), '{as_of}'
                     WHERE {};\n",
                    changed(f)
                )
            })
            .collect();
        let any: Vec<String> = fields.iter().map(|f| changed(f)).collect();
        format!(
            "CREATE TEMP TRIGGER {name} AFTER UPDATE ON main.{table} WHEN {} BEGIN\n{steps}END;\n",
            any.join(" OR ")
        )
    };
    trigger(
        SQLITE_TRIGGERS[0],
        "contacts",
        "NEW.id",
        "NULL",
        CONTACT_FIELDS,
    ) + &trigger(
        SQLITE_TRIGGERS[1],
        "memberships",
        "NEW.contact_id",
        "NEW.id",
        MEMBERSHIP_FIELDS,
    )
}

/// The temporary triggers' names.
const SQLITE_TRIGGERS: [&str; 2] = [
    "rollcall_record_contact_changes",
    "rollcall_record_membership_changes",
];

/// Drops the recording triggers (a committed import would otherwise leave them on the
/// connection, recording whatever it updated next).
pub fn sqlite_stop_recording_sql() -> String {
    SQLITE_TRIGGERS
        .iter()
        .map(|t| format!("DROP TRIGGER IF EXISTS temp.{t};\n"))
        .collect()
}

/// Which of the two staging tables of the PostgreSQL import.
#[derive(Debug, Clone, Copy)]
pub enum Staged {
    Contacts,
    Memberships,
}

/// Records the changed fields of the rows staged in `staging` against what `table` holds for
/// them, before the `UPDATE … FROM staging` overwrites it. `$1` is the import, `$2` its as-of
/// date.
pub fn pg_record_sql(staged: Staged, staging: &str) -> String {
    let (table, contact, membership, fields) = match staged {
        Staged::Contacts => ("contacts", "t.id", "CAST(NULL AS BIGINT)", CONTACT_FIELDS),
        Staged::Memberships => ("memberships", "s.contact_id", "t.id", MEMBERSHIP_FIELDS),
    };
    let compared: Vec<String> = fields
        .iter()
        .map(|f| {
            format!("('{f}', CAST(t.{f} AS TEXT) COLLATE \"C\", CAST(s.{f} AS TEXT) COLLATE \"C\")")
        })
        .collect();
    format!(
        "INSERT INTO field_changes (contact_id, membership_id, import_id, field, old_value,
                                    new_value, occurred_on)
         SELECT {contact}, {membership}, $1, f.field, f.old_value, f.new_value, $2
         FROM {staging} s JOIN {table} t ON t.id = s.id
         CROSS JOIN LATERAL (VALUES {}) AS f(field, old_value, new_value)
         WHERE f.old_value IS DISTINCT FROM f.new_value",
        compared.join(", ")
    )
}

/// Which recorded changes to list.
#[derive(Debug, Clone, Default)]
pub struct ChangeFilter {
    /// Changes seen by imports as of this date or later (`YYYY-MM-DD`).
    pub since: Option<String>,
    /// Any of these kinds; empty: every kind.
    pub kinds: Vec<ChangeKind>,
    /// The contact's region now.
    pub region: Option<String>,
    /// The contact's local party now.
    pub local_party: Option<String>,
    /// Seen by this import only.
    pub import_id: Option<i64>,
}

/// One recorded change, with who it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub occurred_on: String,
    #[serde(skip)]
    pub contact_id: i64,
    pub crm_contact_id: String,
    pub name: String,
    pub region: String,
    pub local_party: String,
    /// The membership's type, for a change to a membership.
    pub membership_type: Option<String>,
    pub crm_membership_id: Option<String>,
    pub kind: ChangeKind,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

/// `field IN (…) [AND new_value = …]` for each kind, OR-ed; the names are the domain's
/// constants, never user input.
fn kinds_condition(kinds: &[ChangeKind]) -> String {
    let one = |k: &ChangeKind| {
        let fields: Vec<String> = k.fields().iter().map(|f| format!("'{f}'")).collect();
        match k.new_value() {
            Some(v) => format!(
                "(fc.field IN ({}) AND fc.new_value = '{v}')",
                fields.join(", ")
            ),
            None => format!("fc.field IN ({})", fields.join(", ")),
        }
    };
    format!(
        "({})",
        kinds.iter().map(one).collect::<Vec<_>>().join(" OR ")
    )
}

/// The recorded changes matching `filter`, newest import first, then as recorded.
pub fn list(conn: &Connection, filter: &ChangeFilter) -> super::sql::Result<Vec<FieldChange>> {
    let kinds = if filter.kinds.is_empty() {
        String::new()
    } else {
        format!("AND {}", kinds_condition(&filter.kinds))
    };
    let sql = format!(
        "SELECT fc.occurred_on, c.id, c.crm_id, c.display_name, c.region, c.local_party,
                m.membership_type, m.crm_membership_id, fc.field, fc.old_value, fc.new_value
         FROM field_changes fc JOIN contacts c ON c.id = fc.contact_id
         LEFT JOIN memberships m ON m.id = fc.membership_id
         WHERE (CAST(?1 AS TEXT) IS NULL OR fc.occurred_on >= ?1)
           AND (CAST(?2 AS TEXT) IS NULL OR c.region = ?2)
           AND (CAST(?3 AS TEXT) IS NULL OR c.local_party = ?3)
           AND (CAST(?4 AS BIGINT) IS NULL OR fc.import_id = ?4)
           {kinds}
         ORDER BY fc.occurred_on DESC, fc.import_id DESC, fc.id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(
        params![
            filter.since,
            filter.region,
            filter.local_party,
            filter.import_id
        ],
        |r| {
            let field: String = r.get(8)?;
            let new_value: Option<String> = r.get(10)?;
            Ok((
                ChangeKind::of(&field, new_value.as_deref()),
                FieldChange {
                    occurred_on: r.get(0)?,
                    contact_id: r.get(1)?,
                    crm_contact_id: r.get(2)?,
                    name: r.get(3)?,
                    region: r.get(4)?,
                    local_party: r.get(5)?,
                    membership_type: r.get(6)?,
                    crm_membership_id: r.get(7)?,
                    kind: ChangeKind::Moved,
                    field,
                    old_value: r.get(9)?,
                    new_value,
                },
            ))
        },
    )?;
    let mut out = Vec::new();
    for row in rows {
        // A field a later rollcall stopped recording has no kind: not listed.
        if let (Some(kind), change) = row? {
            out.push(FieldChange { kind, ..change });
        }
    }
    Ok(out)
}

/// How many contacts had a change of each of `kinds` in import `import_id`, kinds in their
/// order, those with none left out: Today's "14 moved local party".
pub fn contacts_by_kind(
    conn: &Connection,
    import_id: i64,
    kinds: &[ChangeKind],
) -> super::sql::Result<Vec<(ChangeKind, u64)>> {
    let changes = list(
        conn,
        &ChangeFilter {
            import_id: Some(import_id),
            kinds: kinds.to_vec(),
            ..ChangeFilter::default()
        },
    )?;
    let mut seen = std::collections::BTreeSet::new();
    for c in &changes {
        seen.insert((c.kind, c.contact_id));
    }
    let mut counts: Vec<(ChangeKind, u64)> = Vec::new();
    for (kind, _) in seen {
        match counts.last_mut() {
            Some((k, n)) if *k == kind => *n += 1,
            _ => counts.push((kind, 1)),
        }
    }
    Ok(counts)
}
