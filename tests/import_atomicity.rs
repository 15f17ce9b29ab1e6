//! One transaction per import: a cancel, an error mid-file, Ctrl-C or a killed process leave the
//! database exactly as it was.

mod import_support;

use std::io::BufWriter;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use import_support::*;
use rollcall::Clock;
use rollcall::import::generate::{ExportFormat, GenerateOptions, write_export};
use rollcall::import::{CANCELLED, ImportOptions, import_file};
use rollcall::storage::{OpenMode, Store};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn generated_export(path: &Path, members: u64) {
    let options = GenerateOptions {
        members,
        seed: 11,
        format: ExportFormat::Civicrm,
        today: today(),
        advance_days: 0,
        plant: false,
    };
    let file = std::fs::File::create(path).unwrap();
    write_export(&mut BufWriter::new(file), &options).unwrap();
}

fn journal_mode(store: &Store) -> String {
    store
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap()
}

/// A database holding the small fixture, and a generated export big enough to be mid-way
/// through when something goes wrong.
fn setup(s: &Scratch) -> (Store, Clock, std::path::PathBuf) {
    s.import("civicrm_small.csv", &[]);
    let export = s.path("big.csv");
    generated_export(&export, 4000);
    let store = Store::open(&s.db, OpenMode::ReadWrite).unwrap();
    (store, Clock::fixed(today(), "alice"), export)
}

#[test]
fn cancelling_midway_leaves_the_database_as_it_was() {
    let s = Scratch::new();
    let (mut store, clock, export) = setup(&s);
    let before = snapshot(&store.conn);
    let cancel = AtomicBool::new(false);
    let mut calls = 0;
    let err = import_file(
        &mut store,
        &clock,
        &export,
        &ImportOptions::default(),
        &mut |p| {
            calls += 1;
            // Some rows are already written when the flag goes up.
            if p.rows >= 2000 {
                cancel.store(true, Ordering::SeqCst);
            }
        },
        &cancel,
    )
    .unwrap_err();
    assert_eq!(err.to_string(), CANCELLED);
    assert!(calls >= 2, "progress was reported as it went");
    assert_eq!(snapshot(&store.conn), before);
    assert_eq!(journal_mode(&store), "wal");
}

#[test]
fn a_failure_midway_leaves_the_database_as_it_was() {
    let s = Scratch::new();
    let (mut store, clock, export) = setup(&s);
    // Fail on a membership about three quarters of the way through the file.
    store
        .conn
        .execute_batch(
            "CREATE TRIGGER injected_failure BEFORE INSERT ON memberships
             WHEN NEW.crm_membership_id = '1006000'
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
        )
        .unwrap();
    let before = snapshot(&store.conn);
    let err = import_file(
        &mut store,
        &clock,
        &export,
        &ImportOptions::default(),
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("injected failure"), "{err:#}");
    assert_eq!(snapshot(&store.conn), before);
}

#[test]
fn a_failed_first_import_leaves_an_empty_database_with_its_indexes() {
    let s = Scratch::new();
    let export = s.path("big.csv");
    generated_export(&export, 3000);
    let mut store = Store::open(&s.db, OpenMode::ReadWrite).unwrap();
    store
        .conn
        .execute_batch(
            "CREATE TRIGGER injected_failure BEFORE INSERT ON memberships
             WHEN NEW.crm_membership_id = '1005000'
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
        )
        .unwrap();
    let before = snapshot(&store.conn);
    let clock = Clock::fixed(today(), "alice");
    let result = import_file(
        &mut store,
        &clock,
        &export,
        &ImportOptions::default(),
        &mut |_| {},
        &AtomicBool::new(false),
    );
    assert!(result.is_err());
    assert_eq!(
        snapshot(&store.conn),
        before,
        "indexes dropped for loading are back"
    );
    assert_eq!(journal_mode(&store), "wal");
}

#[test]
fn a_good_import_after_a_failed_one_works() {
    let s = Scratch::new();
    let (mut store, clock, export) = setup(&s);
    let cancel = AtomicBool::new(true);
    assert!(
        import_file(
            &mut store,
            &clock,
            &export,
            &ImportOptions::default(),
            &mut |_| {},
            &cancel
        )
        .is_err()
    );
    let report = import_file(
        &mut store,
        &clock,
        &export,
        &ImportOptions::default(),
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(report.contacts.inserted, 4000);
    assert!(report.committed);
    assert_eq!(report.import_id, Some(2));
}

/// Waits until the import has started writing (its journal or WAL exists), or gives up.
fn wait_for_writes(db: &Path, child: &mut std::process::Child) {
    let started = Instant::now();
    let companions = ["-journal", "-wal"].map(|s| format!("{}{s}", db.display()));
    while started.elapsed() < Duration::from_secs(20) {
        if companions
            .iter()
            .any(|c| std::fs::metadata(c).is_ok_and(|m| m.len() > 0))
        {
            std::thread::sleep(Duration::from_millis(150));
            return;
        }
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_and_a_killed_process_change_nothing() {
    let s = Scratch::new();
    let export = s.path("big.csv");
    generated_export(&export, 30_000);
    for signal in ["-INT", "-KILL"] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("rollcall"))
            .arg("--db")
            .arg(&s.db)
            .args(["--today", "2026-11-23", "--user", "alice", "import"])
            .arg(&export)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        wait_for_writes(&s.db, &mut child);
        std::process::Command::new("kill")
            .arg(signal)
            .arg(child.id().to_string())
            .status()
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let store = Store::open(&s.db, OpenMode::ReadWrite).unwrap();
        let count = |sql: &str| -> i64 { store.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        if out.status.success() {
            // Finished before the signal: then it is all there.
            assert_eq!(count("SELECT COUNT(*) FROM contacts"), 30_000, "{signal}");
            return;
        }
        if signal == "-INT" {
            assert_eq!(out.status.code(), Some(1), "{stderr}");
            assert!(stderr.contains(CANCELLED), "{stderr}");
        }
        assert_eq!(count("SELECT COUNT(*) FROM contacts"), 0, "{signal}");
        assert_eq!(count("SELECT COUNT(*) FROM import_runs"), 0, "{signal}");
        assert_eq!(
            count("SELECT COUNT(*) FROM sqlite_master WHERE name = 'memberships_end'"),
            1,
            "{signal}"
        );
        let ok: String = store
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
        assert_eq!(journal_mode(&store), "wal");
    }
    // The next import after a killed one works.
    s.import("civicrm_small.csv", &[]);
    let store = Store::open(&s.db, OpenMode::ReadWrite).unwrap();
    let contacts: i64 = store
        .conn
        .query_row("SELECT COUNT(*) FROM contacts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(contacts, 9);
}

#[test]
fn a_cancelled_first_import_leaves_nothing_and_the_next_one_works() {
    let s = Scratch::new();
    let export = s.path("big.csv");
    generated_export(&export, 5000);
    let mut store = Store::open(&s.db, OpenMode::ReadWrite).unwrap();
    let before = snapshot(&store.conn);
    let clock = Clock::fixed(today(), "alice");
    let cancel = AtomicBool::new(false);
    let err = import_file(
        &mut store,
        &clock,
        &export,
        &ImportOptions::default(),
        &mut |p| {
            if p.rows >= 3000 {
                cancel.store(true, Ordering::SeqCst);
            }
        },
        &cancel,
    )
    .unwrap_err();
    assert_eq!(err.to_string(), CANCELLED);
    assert_eq!(snapshot(&store.conn), before);
    let report = import_file(
        &mut store,
        &clock,
        &export,
        &ImportOptions::default(),
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(report.contacts.inserted, 5000);
    let memberships: i64 = store
        .conn
        .query_row("SELECT COUNT(*) FROM memberships", [], |r| r.get(0))
        .unwrap();
    assert_eq!(memberships as u64, report.memberships.inserted);
}

#[test]
fn a_first_import_works_while_another_connection_has_the_database_open() {
    // The app keeps a connection open while `:import` runs: the import cannot leave WAL mode
    // then, and must simply import in WAL mode.
    let s = Scratch::new();
    let reader = Store::open(&s.db, OpenMode::ReadWrite).unwrap();
    let _: i64 = reader
        .conn
        .query_row("SELECT COUNT(*) FROM contacts", [], |r| r.get(0))
        .unwrap();
    let mut store = Store::open(&s.db, OpenMode::ReadWrite).unwrap();
    let report = import_file(
        &mut store,
        &Clock::fixed(today(), "alice"),
        &import_support::fixture("civicrm_small.csv"),
        &ImportOptions::default(),
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(report.contacts.inserted, 9);
    assert_eq!(journal_mode(&store), "wal");
    let seen: i64 = reader
        .conn
        .query_row("SELECT COUNT(*) FROM contacts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(seen, 9, "the other connection sees the import");
}
