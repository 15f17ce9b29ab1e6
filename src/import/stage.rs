//! A first import's memberships, loaded beside the contacts instead of after them.
//!
//! SQLite writes with one connection at a time, so a first import of 550,000 members would
//! otherwise insert every contact and every membership, and build every index, on one core
//! while the other waits. When the database has no memberships yet, the memberships go through
//! a staging database instead: a second connection on its own thread fills a private copy of the
//! `memberships` table, then builds its indexes, while the main connection inserts contacts. At
//! the end, one `INSERT INTO memberships SELECT * FROM import_stage.memberships` moves them in:
//! SQLite copies the table's and each index's records in order, without re-sorting or
//! re-checking them (its "transfer optimisation", the one VACUUM uses).
//!
//! The move happens inside the import's one transaction, so all or nothing still holds. The
//! staging file sits next to the database, owner-only like it, and is deleted afterwards; one
//! left behind by a killed process is deleted by the next import.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender};

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, Statement};

use super::row::ParsedRow;

/// The schema name the staging database is attached under.
pub const SCHEMA: &str = "import_stage";

/// New memberships of one batch, with the rows they come from.
pub struct StageBatch {
    pub rows: Vec<ParsedRow>,
    /// (position in `rows`, predicted row id, contact row id), in row id order.
    pub memberships: Vec<(usize, i64, i64)>,
}

/// The staging file for `db`.
pub fn path_for(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-import-stage");
    PathBuf::from(name)
}

/// Deletes the staging file (and any journal of it), if there is one.
pub fn remove(path: &Path) -> Result<()> {
    for suffix in ["", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(PathBuf::from(name)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("cannot remove the import's staging file {}", path.display())
                });
            }
        }
    }
    Ok(())
}

/// Creates the staging file (owner-only), attaches it to `conn` and creates a copy of the
/// `memberships` table in it. Returns the SQL of the table's indexes, for [`load`] to build
/// once the rows are in (sorting once beats 570,000 random inserts). Call outside any
/// transaction.
pub fn attach(conn: &Connection, path: &Path) -> Result<Vec<String>> {
    remove(path)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .with_context(|| format!("cannot create the import's staging file {}", path.display()))?;
    conn.execute(
        "ATTACH DATABASE ?1 AS import_stage",
        [path.to_string_lossy()],
    )?;
    let mut stmt = conn.prepare(
        "SELECT type, sql FROM main.sqlite_master
         WHERE tbl_name = 'memberships' AND sql IS NOT NULL ORDER BY type = 'index', rowid",
    )?;
    let definitions = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut indexes = Vec::new();
    for (kind, sql) in definitions {
        if kind == "table" {
            conn.execute_batch(&in_stage(&kind, &sql)?)?;
        } else {
            indexes.push(sql);
        }
    }
    Ok(indexes)
}

/// Detaches the staging database (outside any transaction) and deletes its file.
pub fn detach(conn: &Connection, path: &Path) -> Result<()> {
    let attached: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM pragma_database_list WHERE name = ?1)",
        [SCHEMA],
        |r| r.get(0),
    )?;
    if attached {
        conn.execute_batch("DETACH DATABASE import_stage")?;
    }
    remove(path)
}

/// `CREATE TABLE memberships …` → `CREATE TABLE import_stage.memberships …` (and likewise for
/// `CREATE [UNIQUE] INDEX name ON memberships …`).
fn in_stage(kind: &str, sql: &str) -> Result<String> {
    let prefix = match kind {
        "table" => "CREATE TABLE ",
        "index" if sql.starts_with("CREATE UNIQUE INDEX ") => "CREATE UNIQUE INDEX ",
        "index" => "CREATE INDEX ",
        _ => bail!("internal: cannot stage a {kind}"),
    };
    let rest = sql
        .strip_prefix(prefix)
        .with_context(|| format!("internal: unexpected schema SQL for a {kind}"))?;
    Ok(format!("{prefix}{SCHEMA}.{rest}"))
}

/// The staging thread: inserts the memberships it is sent into the staging file, with its own
/// connection, hands the rows' text buffers back for reuse, then builds `indexes` (the
/// `memberships` indexes, as the main database defines them). Returns the rows inserted.
pub fn load(
    path: &Path,
    indexes: &[String],
    batches: Receiver<StageBatch>,
    recycle: Sender<Vec<String>>,
    insert_sql: impl Fn(usize) -> String,
    bind: impl Fn(&mut Statement<'_>, usize, &ParsedRow, i64) -> rusqlite::Result<()>,
    chunk: usize,
) -> Result<u64> {
    let conn = Connection::open(path)?;
    // A scratch file, deleted afterwards: no journal, no syncing.
    conn.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA foreign_keys = OFF;
         PRAGMA cache_size = -16384; BEGIN IMMEDIATE;",
    )?;
    let mut many = conn.prepare(&insert_sql(chunk))?;
    let mut one = conn.prepare(&insert_sql(1))?;
    let mut inserted = 0u64;
    for batch in batches {
        let mut rest = &batch.memberships[..];
        while !rest.is_empty() {
            let (stmt, take) = if rest.len() >= chunk {
                (&mut many, chunk)
            } else {
                (&mut one, 1)
            };
            for (k, (row, _, contact_id)) in rest[..take].iter().enumerate() {
                bind(stmt, k, &batch.rows[*row], *contact_id)?;
            }
            stmt.raw_execute()?;
            let expected = rest[take - 1].1;
            if conn.last_insert_rowid() != expected {
                bail!("internal error: a staged membership took an unexpected row id");
            }
            inserted += take as u64;
            rest = &rest[take..];
        }
        let buffers = batch.rows.into_iter().map(ParsedRow::into_buffer).collect();
        let _ = recycle.send(buffers);
    }
    drop(many);
    drop(one);
    for sql in indexes {
        conn.execute_batch(sql)?;
    }
    conn.execute_batch("COMMIT")?;
    Ok(inserted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_sql_is_moved_into_the_stage() {
        assert_eq!(
            in_stage("table", "CREATE TABLE memberships (id INTEGER PRIMARY KEY)").unwrap(),
            "CREATE TABLE import_stage.memberships (id INTEGER PRIMARY KEY)"
        );
        assert_eq!(
            in_stage(
                "index",
                "CREATE INDEX memberships_end ON memberships(end_date)"
            )
            .unwrap(),
            "CREATE INDEX import_stage.memberships_end ON memberships(end_date)"
        );
        assert_eq!(
            in_stage(
                "index",
                "CREATE UNIQUE INDEX u ON memberships(a) WHERE a > 1"
            )
            .unwrap(),
            "CREATE UNIQUE INDEX import_stage.u ON memberships(a) WHERE a > 1"
        );
        assert!(in_stage("trigger", "CREATE TRIGGER t").is_err());
    }
}
