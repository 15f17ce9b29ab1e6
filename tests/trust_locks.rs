//! Locks at the worst moments: commands started while another process holds the database's
//! write lock — in the middle of a first import, or while it creates the schema — wait for it
//! and then succeed, instead of failing with "database is locked", "table contacts already
//! exists" or "File exists".
//!
//! No sleeps: the holder is paused at an exact moment by the `ROLLCALL_TEST_HOLD` hook
//! (src/storage/test_hook.rs) and released by closing its stdin; the waiting command is known to
//! be waiting when it says so ("waiting for another rollcall process…").

mod trust_processes;
mod trust_support;

use std::io::{BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStderr, Stdio};

use trust_processes::*;

/// A process paused by the test hook, and the rest of its stderr.
struct Held {
    child: Child,
    stderr: BufReader<ChildStderr>,
}

/// Starts `rollcall ARGS` on `db` and returns once it holds the write lock at `moment`.
fn hold(db: &Path, moment: &str, args: &[&str]) -> Held {
    let mut child = command(db)
        .env("ROLLCALL_TEST_HOLD", moment)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    wait_for_line(&mut stderr, "test hook: holding at", "the holder");
    Held { child, stderr }
}

impl Held {
    /// Lets it go on, and returns its exit status and stderr.
    fn release(mut self) -> (bool, String) {
        drop(self.child.stdin.take());
        let mut rest = String::new();
        self.stderr.read_to_string(&mut rest).unwrap();
        (self.child.wait().unwrap().success(), rest)
    }
}

/// Starts `rollcall ARGS` and returns once it says it is waiting for the lock.
fn waiter(db: &Path, args: &[&str]) -> (Child, BufReader<ChildStderr>) {
    let mut child = command(db)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    wait_for_line(
        &mut stderr,
        "waiting for another rollcall process",
        &format!("{args:?}"),
    );
    (child, stderr)
}

fn finish(mut child: Child, mut stderr: BufReader<ChildStderr>) -> (bool, String, String) {
    let mut err = String::new();
    stderr.read_to_string(&mut err).unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    (child.wait().unwrap().success(), out, err)
}

fn count(db: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

fn escalate_args(crm_id: &str) -> Vec<&str> {
    vec![
        "escalate",
        "--contact",
        crm_id,
        "--category",
        "member_concern",
        "--priority",
        "normal",
        "--title",
        "Called about their card",
    ]
}

fn run(db: &Path, args: &[&str]) -> (bool, String) {
    let out = command(db).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// During a first import (a rollback journal, the write lock held) nobody is in the database
/// yet: escalate and forget say so at once, where they used to fail with "database is locked"
/// while opening it, and succeed once the import is in.
#[test]
fn escalate_and_forget_during_a_first_import_answer_and_then_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcall.db");
    let export = generate(dir.path(), 200, 1);
    let ids = contact_ids(&export);
    let holder = hold(&db, "begun", &["import", export.to_str().unwrap()]);
    for args in [escalate_args(&ids[0]), vec!["forget", &ids[1], "--yes"]] {
        let (ok, err) = run(&db, &args);
        assert!(!ok, "{args:?} found someone not yet imported");
        assert!(err.contains("no contact has"), "{args:?}: {err}");
        assert!(!err.contains("locked"), "{args:?}: {err}");
    }
    let (imported, import_err) = holder.release();
    assert!(imported, "import: {import_err}");
    for args in [escalate_args(&ids[0]), vec!["forget", &ids[1], "--yes"]] {
        let (ok, err) = run(&db, &args);
        assert!(ok, "{args:?}: {err}");
    }
    assert_eq!(count(&db, "SELECT count(*) FROM escalations"), 1);
    assert_eq!(count(&db, "SELECT count(*) FROM erased_contacts"), 1);
    assert_eq!(integrity(&db), "ok");
}

/// While an import holds the write lock, escalate and forget wait for it (and say they are
/// waiting), then succeed.
#[test]
fn escalate_and_forget_during_an_import_wait_and_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcall.db");
    let first = generate(dir.path(), 200, 1);
    import(&db, &first);
    let ids = contact_ids(&first);
    let holder = hold(&db, "begun", &["import", first.to_str().unwrap()]);
    let (escalate, escalate_err) = waiter(&db, &escalate_args(&ids[0]));
    let (forget, forget_err) = waiter(&db, &["forget", &ids[1], "--yes"]);
    let (imported, import_err) = holder.release();
    assert!(imported, "import: {import_err}");
    for (what, (ok, _, err)) in [
        ("escalate", finish(escalate, escalate_err)),
        ("forget", finish(forget, forget_err)),
    ] {
        assert!(ok, "{what} failed: {err}");
        assert!(!err.contains("locked"), "{what}: {err}");
    }
    assert_eq!(count(&db, "SELECT count(*) FROM escalations"), 1);
    assert_eq!(count(&db, "SELECT count(*) FROM erased_contacts"), 1);
    assert_eq!(integrity(&db), "ok");
}

#[test]
fn a_second_first_import_waits_and_imports_as_a_re_import() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcall.db");
    let export = generate(dir.path(), 200, 1);
    let file = export.to_str().unwrap();
    let holder = hold(&db, "begun", &["import", file]);
    let (second, second_err) = waiter(&db, &["import", "--json", file]);
    let (imported, import_err) = holder.release();
    assert!(imported, "first import: {import_err}");
    let (ok, out, err) = finish(second, second_err);
    assert!(ok, "second import: {err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["contacts"]["inserted"], 0, "{report}");
    assert_eq!(report["memberships"]["inserted"], 0, "{report}");
    assert!(report["contacts"]["unchanged"].as_u64().unwrap() > 0);
    assert_eq!(count(&db, "SELECT count(*) FROM import_runs"), 2);
    assert_eq!(integrity(&db), "ok");
}

#[test]
fn two_first_imports_while_the_schema_is_being_created_both_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new/rollcall.db");
    let export = generate(dir.path(), 100, 1);
    let file = export.to_str().unwrap();
    let holder = hold(&db, "migrating", &["import", file]);
    let (second, second_err) = waiter(&db, &["import", file]);
    let (imported, import_err) = holder.release();
    assert!(imported, "first import: {import_err}");
    let (ok, _, err) = finish(second, second_err);
    assert!(ok, "second import: {err}");
    assert!(!err.contains("already exists"), "{err}");
    assert_eq!(count(&db, "SELECT count(*) FROM import_runs"), 2);
    assert_eq!(
        count(&db, "PRAGMA user_version"),
        rollcall::storage::SCHEMA_VERSION
    );
}

// ------------------------------------------------------------------ interrupted writes

/// The commands that only look.
const LOOKING: &[&[&str]] = &[
    &["--read-only", "audit"],
    &["audit"],
    &["imports"],
    &["stats"],
    &["renewals"],
    &["escalations"],
    &["search", "jones"],
];

fn companion(db: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

/// What a write killed part-way leaves: the database file with some of the write in it, and
/// its hot rollback journal. Taken as copies of a live database in the middle of a write that
/// has spilled to the file, as a first import's does (it runs with a rollback journal).
fn interrupted_write(db: &Path, export: &Path) {
    let live = db.with_file_name("live.db");
    import(&live, export);
    let conn = rusqlite::Connection::open(&live).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");
    conn.pragma_update(None, "cache_size", 2).unwrap();
    conn.execute_batch("BEGIN; UPDATE contacts SET city = 'Nowhere';")
        .unwrap();
    std::fs::copy(&live, db).unwrap();
    std::fs::copy(companion(&live, "-journal"), companion(db, "-journal")).unwrap();
    conn.execute_batch("ROLLBACK").unwrap();
    let journal = std::fs::read(companion(db, "-journal")).unwrap();
    assert_eq!(
        journal[..8],
        [0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7],
        "a hot journal"
    );
}

#[test]
fn after_an_interrupted_write_every_looking_command_works() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcall.db");
    let export = generate(dir.path(), 300, 1);
    interrupted_write(&db, &export);
    for args in LOOKING {
        let (ok, err) = run(&db, args);
        assert!(ok, "{args:?}: {err}");
        assert!(!err.contains("damaged"), "{args:?}: {err}");
    }
    assert!(!companion(&db, "-journal").exists(), "rolled back");
    assert_eq!(
        count(&db, "SELECT count(*) FROM contacts WHERE city = 'Nowhere'"),
        0,
        "nothing of the interrupted write is left"
    );
    assert_eq!(integrity(&db), "ok");
    import(&db, &export);
}

/// `rollcall ARGS` as an account that cannot write to `dir` (nobody, when the tests run as
/// root, which no permission stops).
fn run_without_write_access(dir: &Path, db: &Path, args: &[&str]) -> (bool, String) {
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .unwrap()
        .stdout
        == b"0\n";
    let mut cmd = if root {
        chown_nobody(dir);
        let mut cmd = std::process::Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_rollcall"));
        cmd
    } else {
        std::process::Command::new(env!("CARGO_BIN_EXE_rollcall"))
    };
    set_mode(dir, 0o500);
    let out = cmd
        .env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", dir.join("config-home"))
        .env_remove("ROLLCALL_READ_ONLY")
        .arg("--db")
        .arg(db)
        .args([
            "--today",
            trust_support::TODAY,
            "--user",
            trust_support::STAFF,
        ])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    set_mode(dir, 0o700);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn chown_nobody(dir: &Path) {
    let status = std::process::Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success());
    // Its parents must let nobody through.
    for parent in dir.ancestors().skip(1) {
        if parent == Path::new("/tmp") || parent == Path::new("/") {
            break;
        }
        set_mode(parent, 0o711);
    }
}

#[test]
fn a_database_in_a_read_only_directory_opens_for_looking() {
    let dir = tempfile::tempdir().unwrap();
    let place = dir.path().join("shared");
    let db = place.join("rollcall.db");
    import(&db, &generate(dir.path(), 100, 1));
    for args in LOOKING {
        let (ok, err) = run_without_write_access(&place, &db, args);
        assert!(ok, "{args:?}: {err}");
    }
    let (ok, err) = run_without_write_access(&place, &db, &["forget", "1000", "--yes"]);
    assert!(!ok);
    assert!(
        err.contains(&format!("cannot write to {}", db.display())),
        "{err}"
    );
    assert!(err.contains("read-only"), "{err}");
    assert!(!err.contains("Error code"), "{err}");
}

#[test]
fn after_an_interrupted_write_in_a_read_only_directory_the_message_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let place = dir.path().join("shared");
    std::fs::create_dir(&place).unwrap();
    let db = place.join("rollcall.db");
    let export = generate(dir.path(), 300, 1);
    interrupted_write(&db, &export);
    let (ok, err) = run_without_write_access(&place, &db, &["audit"]);
    assert!(!ok);
    assert!(!err.contains("damaged"), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(err.contains("-journal"), "{err}");
    assert!(err.contains("write access"), "{err}");
}
