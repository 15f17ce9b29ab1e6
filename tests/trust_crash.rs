//! A killed import leaves the database exactly as it was, and the next import succeeds.
//!
//! The import runs as a real process and is killed with SIGKILL (`Child::kill`) at several
//! moments: fixed times early on, and fractions of how long a full import of the same file
//! takes, up to moments where it is committing. After each kill the whole database (every
//! table, every row) is compared with what it held before.

mod trust_processes;
mod trust_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use trust_processes::*;
use trust_support::TODAY;

/// A database after a first import, with records staff made in rollcall on top.
fn base_database(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("base.db");
    import(&db, &generate(dir, 300, 1));
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(&format!(
        "INSERT INTO notes (contact_id, context, body, staff, created_at)
           SELECT id, 'member', 'Prefers a call after six', 'amira', '{TODAY}T09:00:00'
           FROM contacts ORDER BY id LIMIT 3;
         INSERT INTO contact_attempts (contact_id, channel, outcome, attempted_at, staff)
           SELECT id, 'phone', 'no_answer', '{TODAY}T09:05:00', 'amira'
           FROM contacts ORDER BY id LIMIT 5;"
    ))
    .unwrap();
    drop(conn);
    db
}

/// The record of import runs (and their audit lines), which a re-import adds to.
const RUNS: &[&str] = &["import_runs", "audit_log"];

/// Kills an import of `export` onto a copy of `base` at each of `fractions` of `full` (and at
/// `fixed` times), checks all-or-nothing and that the next import completes it, and returns how
/// many kills landed mid-import.
fn kill_at(
    dir: &Path,
    base: &Path,
    export: &Path,
    reference: &Path,
    full: Duration,
    fixed: &[u64],
    fractions: &[f64],
) -> usize {
    let kill_points: Vec<Duration> = fixed
        .iter()
        .map(|ms| Duration::from_millis(*ms))
        .chain(fractions.iter().map(|f| full.mul_f64(*f)))
        .collect();
    let mut killed_mid_import = 0;
    for (i, after) in kill_points.iter().enumerate() {
        let victim = dir.join(format!("victim-{i}.db"));
        copy_db(base, &victim);
        let mut child = spawn_import(&victim, export);
        std::thread::sleep(*after);
        let exited_first = child.try_wait().unwrap().is_some();
        child.kill().unwrap(); // SIGKILL (a no-op if it had already exited)
        let status = child.wait().unwrap();
        assert_eq!(integrity(&victim), "ok", "kill at {after:?}");
        // All or nothing: the database holds what it held before, or the whole import (a kill
        // that lands after the commit, while the summary is printed).
        let interrupted = differing_tables(base, &victim, &[]).is_empty();
        if interrupted {
            killed_mid_import += 1;
            assert!(!exited_first && !status.success(), "kill at {after:?}");
        } else {
            let partial = differing_tables(reference, &victim, &[]);
            assert!(
                partial.is_empty(),
                "kill at {after:?} left a partial import: {partial:?}"
            );
            if exited_first {
                assert!(
                    status.success(),
                    "kill at {after:?}: the import failed by itself"
                );
            }
        }
        // Whatever the killed import left beside the database is owner-only.
        for leftover in [companion(&victim, "-wal"), companion(&victim, "-journal")] {
            if let Ok(meta) = std::fs::metadata(&leftover) {
                use std::os::unix::fs::PermissionsExt;
                assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{leftover:?}");
            }
        }
        // The next import runs as if nothing had happened (or, after a completed import,
        // finds nothing to change).
        import(&victim, export);
        let skip = if interrupted { &[][..] } else { RUNS };
        let wrong = differing_tables(reference, &victim, skip);
        assert!(
            wrong.is_empty(),
            "re-import after kill at {after:?}: {wrong:?}"
        );
    }
    eprintln!(
        "full import {full:?}; {killed_mid_import} of {} kills landed mid-import",
        kill_points.len()
    );
    killed_mid_import
}

fn companion(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[test]
fn a_killed_import_changes_nothing_and_the_next_one_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let base = base_database(dir.path());
    let (export, full, reference) = slow_export(dir.path(), &base, Duration::from_millis(800));
    assert!(
        !differing_tables(&base, &reference, &[]).is_empty(),
        "the export changes the database when it completes"
    );
    let killed = kill_at(
        dir.path(),
        &base,
        &export,
        &reference,
        full,
        &[50, 200, 500],
        &[0.5, 0.8, 0.95, 0.99],
    );
    // The early kills always land mid-import; the late ones may land after the commit (the
    // import is then complete, which `kill_at` checked too).
    assert!(killed >= 3, "only {killed} of 7 kills hit a running import");
}

/// A first import into an empty database takes another path (a rollback journal instead of
/// the WAL, indexes built after loading): killed, it too leaves nothing behind.
#[test]
fn a_killed_first_import_leaves_an_empty_database() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("empty.db");
    drop(rollcall::storage::Store::open(&base, rollcall::storage::OpenMode::ReadWrite).unwrap());
    let (export, full, reference) = slow_export(dir.path(), &base, Duration::from_millis(800));
    let killed = kill_at(
        dir.path(),
        &base,
        &export,
        &reference,
        full,
        &[100],
        &[0.5, 0.9],
    );
    assert!(killed >= 2, "only {killed} of 3 kills hit a running import");
}
