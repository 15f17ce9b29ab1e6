//! A killed import leaves the database exactly as it was, and the next import succeeds.
//!
//! The import runs as a real process and is killed with SIGKILL (`Child::kill`) at several
//! moments: fixed times early on, and fractions of how long a full import of the same file
//! takes, up to moments where it is committing. After each kill the whole database (every
//! table, every row) is compared with what it held before.

mod trust_processes;
mod trust_support;

use std::path::Path;
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

/// A dump without the record of import runs (and their audit lines), which a re-import adds to.
fn without_runs(dump: &Dump) -> Dump {
    let mut dump = dump.clone();
    dump.remove("import_runs");
    dump.remove("audit_log");
    dump
}

#[test]
fn a_killed_import_changes_nothing_and_the_next_one_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let base = base_database(dir.path());
    let before = dump_without_times(&base);
    let (export, full, reference) = slow_export(dir.path(), &base, Duration::from_millis(1000));
    let completed = dump_without_times(&reference);
    assert!(
        completed != before,
        "the export changes the database when it completes"
    );

    let mut kill_points: Vec<Duration> = [50, 200, 500]
        .into_iter()
        .map(Duration::from_millis)
        .collect();
    kill_points.extend([0.5, 0.8, 0.95, 0.99].map(|f| full.mul_f64(f)));
    let mut killed_mid_import = 0;
    for (i, after) in kill_points.iter().enumerate() {
        let victim = dir.path().join(format!("victim-{i}.db"));
        copy_db(&base, &victim);
        let mut child = spawn_import(&victim, &export);
        std::thread::sleep(*after);
        let exited_first = child.try_wait().unwrap().is_some();
        child.kill().unwrap(); // SIGKILL (a no-op if it had already exited)
        let status = child.wait().unwrap();
        assert_eq!(integrity(&victim), "ok", "kill at {after:?}");
        // All or nothing: the database holds what it held before, or the whole import (a kill
        // that lands after the commit, while the summary is printed).
        let now = dump_without_times(&victim);
        if now == before {
            killed_mid_import += 1;
            assert!(!exited_first && !status.success(), "kill at {after:?}");
        } else {
            assert!(
                now == completed,
                "kill at {after:?} left a partial import: {}",
                differences(&before, &now)
            );
            if exited_first {
                assert!(
                    status.success(),
                    "kill at {after:?}: the import failed by itself"
                );
            }
        }
        // The next import runs as if nothing had happened (or, after a completed import,
        // finds nothing to change).
        let was_interrupted = now == before;
        import(&victim, &export);
        let again = dump_without_times(&victim);
        let (expected, got) = if was_interrupted {
            (completed.clone(), again)
        } else {
            (without_runs(&completed), without_runs(&again))
        };
        assert!(
            got == expected,
            "re-import after kill at {after:?}: {}",
            differences(&expected, &got)
        );
    }
    eprintln!(
        "full import {full:?}; {killed_mid_import} of {} kills landed mid-import",
        kill_points.len()
    );
    assert!(
        killed_mid_import >= 4,
        "only {killed_mid_import} of {} kills hit a running import (full import took {full:?})",
        kill_points.len()
    );
}
