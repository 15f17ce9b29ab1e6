//! The database file itself: owner-only permissions (and the refusal when they are not), and
//! files that are not a rollcall database — refused clearly, never changed.

mod trust_support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rollcall::storage::{OpenMode, Store};
use trust_support::*;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn companion(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Runs rollcall with the most permissive umask, so owner-only modes cannot come from it.
fn rollcall_with_open_umask(db: &Path, args: &str) -> std::process::Output {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 000; exec \"$0\" --db \"$1\" --today {TODAY} --user {STAFF} {args}"
        ))
        .arg(env!("CARGO_BIN_EXE_rollcall"))
        .arg(db)
        .output()
        .unwrap()
}

// ------------------------------------------------------------------ permissions

#[test]
fn a_new_database_and_its_new_directories_are_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a/b/rollcall.db");
    let out = rollcall_with_open_umask(&db, "forget 1 --yes");
    // The person does not exist, but the database was created on the way.
    assert!(String::from_utf8_lossy(&out.stderr).contains("no contact has that CRM id"));
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(&dir.path().join("a")), 0o700);
    assert_eq!(mode(&dir.path().join("a/b")), 0o700);
}

#[test]
fn wal_and_shared_memory_files_are_owner_only_after_a_write() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcall.db");
    let store = Store::open(&db, OpenMode::ReadWrite).unwrap();
    store
        .conn
        .execute(
            "INSERT INTO ui_state VALUES ('amira', 'pane', 'search')",
            [],
        )
        .unwrap();
    // SQLite gives the WAL and shared-memory files the main file's mode, whatever the umask.
    for suffix in ["-wal", "-shm"] {
        let file = companion(&db, suffix);
        assert!(file.exists(), "{suffix} exists while the database is open");
        assert_eq!(mode(&file), 0o600, "{suffix}");
    }
    assert_eq!(mode(&db), 0o600);
}

fn assert_refused_as_exposed(db: &Path, args: &[&str], file: &Path, file_mode: u32) {
    let out = rollcall(db)
        .args(args)
        .assert()
        .failure()
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("readable or writable by other users"),
        "{args:?}: {stderr}"
    );
    assert!(
        stderr.contains(&format!("{} has mode {file_mode:o}", file.display())),
        "{args:?}: {stderr}"
    );
    assert!(stderr.contains("--fix-permissions"), "{args:?}: {stderr}");
}

#[test]
fn a_database_others_can_read_is_refused_and_left_alone() {
    let s = seeded();
    for exposed in [0o644, 0o640, 0o604, 0o660] {
        chmod(&s.db, exposed);
        let before = std::fs::read(&s.db).unwrap();
        for args in [
            vec!["forget", TARGET.crm_id, "--yes"],
            vec!["audit"],
            vec!["--read-only", "audit"],
        ] {
            assert_refused_as_exposed(&s.db, &args, &s.db, exposed);
        }
        assert_eq!(std::fs::read(&s.db).unwrap(), before);
        assert_eq!(
            mode(&s.db),
            exposed,
            "the refusal does not change the mode itself"
        );
    }
}

#[test]
fn an_exposed_wal_file_is_refused_too() {
    let s = seeded();
    let wal = companion(&s.db, "-wal");
    std::fs::write(&wal, b"").unwrap();
    chmod(&wal, 0o644);
    assert_refused_as_exposed(&s.db, &["audit"], &wal, 0o644);
}

#[test]
fn fix_permissions_makes_the_files_owner_only_and_proceeds() {
    let s = seeded();
    chmod(&s.db, 0o644);
    let wal = companion(&s.db, "-wal");
    std::fs::write(&wal, b"").unwrap();
    chmod(&wal, 0o666);
    rollcall(&s.db)
        .args(["--fix-permissions", "forget", TARGET.crm_id, "--yes"])
        .assert()
        .success();
    assert_eq!(mode(&s.db), 0o600);
    let conn = rusqlite::Connection::open(&s.db).unwrap();
    let left: i64 = conn
        .query_row("SELECT count(*) FROM contacts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 1);
    // Later commands need no flag.
    rollcall(&s.db).arg("audit").assert().success();
}

// ------------------------------------------------------------------ not a rollcall database

/// Runs each command against `db` and checks: a clear refusal naming the file, exit non-zero,
/// no panic, and the file byte-for-byte as it was with nothing written beside it.
fn assert_refused_untouched(db: &Path, expected: &str) {
    let before = std::fs::read(db).unwrap();
    let export = db.with_extension("export.csv");
    std::fs::write(&export, civicrm_sample()).unwrap();
    let export = export.to_str().unwrap();
    for args in [
        vec!["audit"],
        vec!["audit", "--json", "--contact", "1"],
        vec!["forget", "1", "--yes"],
        vec!["--read-only", "forget", "1", "--yes"],
        vec!["import", export],
        vec!["imports"],
        vec!["search", "jones"],
        vec!["renewals"],
        vec!["escalations"],
        vec![
            "escalate",
            "--contact",
            "1",
            "--category",
            "complaint",
            "--priority",
            "low",
            "--title",
            "x",
        ],
        vec!["export", "activities"],
    ] {
        let out = rollcall(db)
            .args(&args)
            .assert()
            .failure()
            .get_output()
            .clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&db.display().to_string()),
            "{args:?} names the file: {stderr}"
        );
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert_eq!(
            std::fs::read(db).unwrap(),
            before,
            "{args:?} changed the file"
        );
        // Reading a WAL-mode file leaves an empty WAL beside it, never pending writes.
        let wal = std::fs::read(companion(db, "-wal")).unwrap_or_default();
        assert!(wal.is_empty(), "{args:?} wrote {} bytes of WAL", wal.len());
        assert!(
            !companion(db, "-journal").exists(),
            "{args:?} began a write"
        );
    }
}

fn owner_only_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    chmod(&path, 0o600);
    path
}

#[test]
fn a_file_that_is_not_a_database_is_refused_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let csv = format!(
        "Contact ID,Display Name,Email\n{},{},{}\n",
        TARGET.crm_id, TARGET.display, TARGET.email
    );
    let db = owner_only_file(dir.path(), "export.csv", csv.as_bytes());
    assert_refused_untouched(&db, "not a rollcall database");
    let random: Vec<u8> = (0..10_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let db = owner_only_file(dir.path(), "noise.db", &random);
    assert_refused_untouched(&db, "not a rollcall database");
}

#[test]
fn a_truncated_database_is_refused_unchanged() {
    let s = seeded();
    let whole = std::fs::read(&s.db).unwrap();
    assert!(
        whole.len() > 20_000,
        "seeded database is {} bytes",
        whole.len()
    );
    // Cut at page boundaries (pages of 16 KiB) and part-way through a page.
    for len in [
        50,
        100,
        1000,
        4096,
        whole.len() / 2,
        whole.len() - 16_384,
        whole.len() - 4096,
    ] {
        let db = owner_only_file(s.dir.path(), &format!("cut-{len}.db"), &whole[..len]);
        assert_refused_untouched(&db, "not a rollcall database (or it is damaged)");
    }
}

#[test]
fn a_database_from_a_newer_rollcall_is_refused_unchanged() {
    let s = seeded();
    let conn = rusqlite::Connection::open(&s.db).unwrap();
    conn.pragma_update(None, "user_version", rollcall::storage::SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    assert_refused_untouched(&s.db, "upgrade rollcall");
}

#[test]
fn another_programs_sqlite_file_is_refused_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    for (name, version) in [("app.db", 0), ("versioned.db", 1), ("newer.db", 70)] {
        let db = dir.path().join(name);
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE people (name TEXT); INSERT INTO people VALUES ('x');")
            .unwrap();
        conn.pragma_update(None, "user_version", version).unwrap();
        drop(conn);
        chmod(&db, 0o600);
        // In rollback-journal mode: switching it to WAL would rewrite its header.
        assert_refused_untouched(&db, "an SQLite database, but not one rollcall made");
    }
}

// ------------------------------------------------------------------ --fix-permissions limits

fn mkfifo(path: &Path, mode: u32) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
    chmod(path, mode);
}

fn stderr_of(db: &Path, args: &[&str]) -> String {
    let out = rollcall(db)
        .args(args)
        .assert()
        .failure()
        .get_output()
        .clone();
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn a_device_is_not_a_database_and_no_fix_is_advised() {
    let null = Path::new("/dev/null");
    let before = mode(null);
    for args in [
        vec!["audit"],
        vec!["--fix-permissions", "audit"],
        vec!["forget", "1", "--yes"],
    ] {
        let stderr = stderr_of(null, &args);
        assert!(
            stderr.contains("/dev/null: not a database file: it is a character device"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("--fix-permissions"), "{args:?}: {stderr}");
    }
    assert_eq!(mode(null), before);
}

#[test]
fn fix_permissions_never_changes_a_fifo_or_a_file_that_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.db");
    mkfifo(&fifo, 0o666);
    let stderr = stderr_of(&fifo, &["--fix-permissions", "audit"]);
    assert!(stderr.contains("it is a FIFO (named pipe)"), "{stderr}");
    assert_eq!(mode(&fifo), 0o666);

    let csv = owner_only_file(dir.path(), "members.csv", b"Contact ID,Name\n1,Someone\n");
    chmod(&csv, 0o644);
    let stderr = stderr_of(&csv, &["--fix-permissions", "audit"]);
    assert!(stderr.contains("not a rollcall database"), "{stderr}");
    assert_eq!(mode(&csv), 0o644, "a file that is not ours keeps its mode");
}

#[test]
fn a_companion_that_is_a_fifo_is_refused_and_left_alone() {
    let s = seeded();
    chmod(&s.db, 0o644);
    let wal = companion(&s.db, "-wal");
    mkfifo(&wal, 0o644);
    for args in [vec!["audit"], vec!["--fix-permissions", "audit"]] {
        let stderr = stderr_of(&s.db, &args);
        assert!(
            stderr.contains(&format!("{}: is a FIFO (named pipe)", wal.display())),
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.contains("move it out of the way"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(mode(&wal), 0o644);
    assert_eq!(
        mode(&s.db),
        0o644,
        "nothing is fixed while a companion is wrong"
    );
}

#[test]
fn read_only_with_fix_permissions_is_refused_and_changes_nothing() {
    let s = seeded();
    chmod(&s.db, 0o644);
    let before = std::fs::read(&s.db).unwrap();
    let stderr = stderr_of(&s.db, &["--read-only", "--fix-permissions", "audit"]);
    assert!(stderr.contains("--read-only"), "{stderr}");
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert_eq!(mode(&s.db), 0o644);
    assert_eq!(std::fs::read(&s.db).unwrap(), before);
}
