//! Past imports, as `import_runs` and `import_rejects` record them.

use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use super::audit::{self, Change};
use super::sql::{Connection, params};
use crate::Clock;
use crate::import::DateOrder;
use crate::import::ImportReport;

use crate::import::{ContactCounts, RejectedRow};

/// One recorded import.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportRun {
    pub id: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub staff: String,
    pub as_of: String,
    pub file: String,
    pub file_size: i64,
    pub file_sha256: String,
    pub profile: String,
    pub source: String,
    pub encoding: String,
    pub date_order: String,
    pub rows_read: i64,
    pub contacts: ContactCounts,
    pub memberships: RunMembershipCounts,
    pub skipped_erased: i64,
    pub rejected: i64,
    /// Rejected rows (all of them), in line order.
    pub rejects: Vec<RejectedRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunMembershipCounts {
    pub inserted: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub renewed: i64,
    pub missing_from_export: i64,
    pub back_in_export: i64,
}

/// The most recent `limit` runs, newest first; or just run `id`.
pub fn list(
    conn: &Connection,
    limit: usize,
    id: Option<i64>,
) -> crate::storage::sql::Result<Vec<ImportRun>> {
    let mut stmt = conn.prepare(
        "SELECT id, started_at, finished_at, staff, as_of, file_name, file_size, file_sha256,
                profile, source, encoding, date_order, rows_read,
                contacts_inserted, contacts_updated, contacts_unchanged,
                memberships_inserted, memberships_updated, memberships_unchanged,
                renewed, missing_from_export, back_in_export, skipped_erased, rejected
         FROM import_runs WHERE (CAST(?1 AS BIGINT) IS NULL OR id = ?1) ORDER BY id DESC LIMIT ?2",
    )?;
    let mut runs = stmt
        .query_map(params![id, limit as i64], |r| {
            let count = |i: usize| -> crate::storage::sql::Result<u64> {
                Ok(r.get::<_, i64>(i)?.max(0) as u64)
            };
            Ok(ImportRun {
                id: r.get(0)?,
                started_at: r.get(1)?,
                finished_at: r.get(2)?,
                staff: r.get(3)?,
                as_of: r.get(4)?,
                file: r.get(5)?,
                file_size: r.get(6)?,
                file_sha256: r.get(7)?,
                profile: r.get(8)?,
                source: r.get(9)?,
                encoding: r.get(10)?,
                date_order: r.get(11)?,
                rows_read: r.get(12)?,
                contacts: ContactCounts {
                    inserted: count(13)?,
                    updated: count(14)?,
                    unchanged: count(15)?,
                },
                memberships: RunMembershipCounts {
                    inserted: r.get(16)?,
                    updated: r.get(17)?,
                    unchanged: r.get(18)?,
                    renewed: r.get(19)?,
                    missing_from_export: r.get(20)?,
                    back_in_export: r.get(21)?,
                },
                skipped_erased: r.get(22)?,
                rejected: r.get(23)?,
                rejects: Vec::new(),
            })
        })?
        .collect::<crate::storage::sql::Result<Vec<_>>>()?;
    // The table has no id column: rows of one line come in the order they were written
    // (`rowid` on SQLite, the heap position on PostgreSQL, where nothing deletes or updates them).
    let mut rejects = conn.prepare(conn.pick(
        "SELECT line, reason FROM import_rejects WHERE import_id = ?1 ORDER BY line, rowid",
        "SELECT line, reason FROM import_rejects WHERE import_id = ?1 ORDER BY line, ctid",
    ))?;
    for run in &mut runs {
        run.rejects = rejects
            .query_map([run.id], |r| {
                Ok(RejectedRow {
                    line: r.get::<_, i64>(0)?.max(0) as u64,
                    reason: r.get(1)?,
                })
            })?
            .collect::<crate::storage::sql::Result<Vec<_>>>()?;
    }
    Ok(runs)
}

/// Records an import as started (its row, which the rest of the import fills in).
pub fn insert_run(
    conn: &Connection,
    clock: &Clock,
    file: &Path,
    size: u64,
    encoding: &str,
    profile: &str,
    source: &str,
) -> Result<i64> {
    Ok(conn.query_row(
        "INSERT INTO import_runs (started_at, staff, as_of, file_name, file_size, file_sha256,
                                  profile, source, encoding, date_order)
         VALUES (?1, ?2, ?3, ?4, ?5, '', ?6, ?7, ?8, 'iso') RETURNING id",
        params![
            clock.now_rfc3339(),
            clock.user,
            clock.today.format("%Y-%m-%d").to_string(),
            file.display().to_string(),
            size as i64,
            profile,
            source,
            encoding,
        ],
        |r| r.get(0),
    )?)
}

/// Records what an import did: its counts, its rejected lines, and one audit line.
pub fn record_run(
    conn: &Connection,
    clock: &Clock,
    run_id: i64,
    sha256: &str,
    report: &ImportReport,
) -> Result<()> {
    let c = &report.contacts;
    let m = &report.memberships;
    conn.execute(
        "UPDATE import_runs SET finished_at = ?2, file_sha256 = ?3, date_order = ?4,
            rows_read = ?5, contacts_inserted = ?6, contacts_updated = ?7, contacts_unchanged = ?8,
            memberships_inserted = ?9, memberships_updated = ?10, memberships_unchanged = ?11,
            renewed = ?12, missing_from_export = ?13, back_in_export = ?14, skipped_erased = ?15,
            rejected = ?16
         WHERE id = ?1",
        params![
            run_id,
            clock.now_rfc3339(),
            sha256,
            date_order_key(report.date_order),
            report.rows_read as i64,
            c.inserted as i64,
            c.updated as i64,
            c.unchanged as i64,
            m.inserted as i64,
            m.updated as i64,
            m.unchanged as i64,
            m.renewed as i64,
            m.missing_from_export as i64,
            m.back_in_export as i64,
            report.skipped_erased as i64,
            report.rejected as i64,
        ],
    )?;
    let mut insert =
        conn.prepare("INSERT INTO import_rejects (import_id, line, reason) VALUES (?1, ?2, ?3)")?;
    for e in &report.errors {
        insert.execute(params![run_id, e.line as i64, e.reason])?;
    }
    audit::record(
        conn,
        clock,
        Change {
            action: "import",
            entity: "import_runs",
            entity_id: Some(run_id),
            contact_id: None,
            before: None,
            after: Some(serde_json::json!({
                "file": report.file,
                "profile": report.profile,
                "source": report.source,
                "rows_read": report.rows_read,
                "contacts": report.contacts,
                "memberships": report.memberships,
                "rejected": report.rejected,
                "skipped_erased": report.skipped_erased,
            })),
        },
    )?;
    Ok(())
}

/// How a date order is stored in `import_runs.date_order`.
pub fn date_order_key(order: DateOrder) -> &'static str {
    match order {
        DateOrder::Iso => "iso",
        DateOrder::Dmy => "dmy",
        DateOrder::Mdy => "mdy",
    }
}
