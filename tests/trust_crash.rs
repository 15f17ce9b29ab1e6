//! A killed import leaves the database exactly as it was, and the next import succeeds.
//!
//! The import runs as a real process and is killed with SIGKILL (`Child::kill`) at each point
//! it reports through the test hook `ROLLCALL_TEST_HOLD` (transaction begun, first rows
//! written, all rows written, about to commit, committed): never after a timer, which lands
//! elsewhere on a faster or slower machine. After each kill the whole database (every table,
//! every row) is compared with what it held before, or after a completed import.

mod trust_processes;
mod trust_support;

use std::path::{Path, PathBuf};

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

/// The points at which the import stops for the test when `ROLLCALL_TEST_HOLD` names them
/// (see `import::sync::pause_point`), in the order it reaches them. All but the last are
/// inside the transaction.
const PAUSE_POINTS: &[&str] = &[
    "begun",
    "first_batch",
    "rows_written",
    "committing",
    "committed",
];

/// Kills an import of `export` onto a copy of `base` at each of the points it reports, checks
/// all-or-nothing and that the next import completes it. The kill waits for the import to say
/// it has reached the point, so it lands there on any machine, fast or slow.
fn kill_at_each_point(dir: &Path, base: &Path, export: &Path, reference: &Path) {
    for (i, point) in PAUSE_POINTS.iter().enumerate() {
        let victim = dir.join(format!("victim-{i}.db"));
        copy_db(base, &victim);
        let mut child = spawn_import_pausing_at(&victim, export, point);
        wait_for_pause(&mut child, point);
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        assert!(!status.success(), "{point}: the import was killed");
        assert_eq!(integrity(&victim), "ok", "kill at {point}");
        let committed = *point == "committed";
        if committed {
            let wrong = differing_tables(reference, &victim, &[]);
            assert!(wrong.is_empty(), "killed after the commit: {wrong:?}");
        } else {
            let changed = differing_tables(base, &victim, &[]);
            assert!(changed.is_empty(), "kill at {point} changed {changed:?}");
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
        let skip = if committed { RUNS } else { &[][..] };
        let wrong = differing_tables(reference, &victim, skip);
        assert!(
            wrong.is_empty(),
            "re-import after kill at {point}: {wrong:?}"
        );
    }
}

/// Reads the child's stderr until it reports that it stopped at `point`.
fn wait_for_pause(child: &mut std::process::Child, point: &str) {
    use std::io::BufRead;
    let stderr = child.stderr.take().expect("stderr piped");
    let marker = format!("rollcall: test hook: holding at {point}");
    let mut seen = Vec::new();
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if line == marker {
            return;
        }
        seen.push(line);
    }
    panic!("the import ended without reaching {point}: {seen:?}");
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
    let (export, reference) = full_import(dir.path(), &base);
    assert!(
        !differing_tables(&base, &reference, &[]).is_empty(),
        "the export changes the database when it completes"
    );
    kill_at_each_point(dir.path(), &base, &export, &reference);
}

/// A first import into an empty database takes another path (a rollback journal instead of
/// the WAL, indexes built after loading): killed, it too leaves nothing behind.
#[test]
fn a_killed_first_import_leaves_an_empty_database() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("empty.db");
    drop(rollcall::storage::Store::open(&base, rollcall::storage::OpenMode::ReadWrite).unwrap());
    let (export, reference) = full_import(dir.path(), &base);
    kill_at_each_point(dir.path(), &base, &export, &reference);
}

/// An export several batches long and what its completed import onto a copy of `base` holds.
fn full_import(dir: &Path, base: &Path) -> (PathBuf, PathBuf) {
    let export = generate(dir, 5_000, 2);
    let reference = dir.join("reference.db");
    copy_db(base, &reference);
    import(&reference, &export);
    (export, reference)
}
