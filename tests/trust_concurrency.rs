//! Several rollcall processes on one database at once: an import running while other processes
//! read and write. Nobody sees "database is locked", no write is lost, and each reader sees the
//! others' committed changes on its next read.
//!
//! Here the writers are CLI processes, each with its own connection, writing through the same
//! storage code (immediate transactions, the same busy timeout) as the app's database worker.
//! `tests/trust_windows.rs` does the same with two real app windows in pseudo-terminals.

mod trust_processes;
mod trust_support;

use std::collections::BTreeSet;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use trust_processes::*;

fn assert_not_locked(what: &str, out: &Output) {
    let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(!err.contains("locked"), "{what}: {err}");
    assert!(!err.contains("busy"), "{what}: {err}");
    assert!(out.status.success(), "{what} failed: {err}");
}

fn count(db: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

/// When a write ran, to check that it overlapped the import.
type Span = (Instant, Instant);

/// Runs one rollcall write per item, one process each, returning when each ran; counts each
/// write in `started` as it starts.
fn writer(
    db: PathBuf,
    items: Vec<String>,
    started_count: Arc<AtomicUsize>,
    args: fn(&str) -> Vec<String>,
) -> std::thread::JoinHandle<Vec<Span>> {
    std::thread::spawn(move || {
        items
            .iter()
            .map(|item| {
                let started = Instant::now();
                started_count.fetch_add(1, Ordering::SeqCst);
                let out = command(&db).args(args(item)).output().unwrap();
                assert_not_locked(&format!("{:?}", args(item)), &out);
                (started, Instant::now())
            })
            .collect()
    })
}

#[test]
fn two_writers_and_a_reader_while_an_import_runs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcall.db");
    let small = generate(dir.path(), 300, 1);
    import(&db, &small);
    let big = generate(dir.path(), 5_000, 2);
    let small_ids = contact_ids(&small);
    let big_ids = contact_ids(&big);
    let to_forget: Vec<String> = small_ids[..5].to_vec();
    let to_escalate: Vec<String> = small_ids[10..18].to_vec();

    // The import stops inside its transaction, holding the write lock, until it is let go: the
    // writes below meet it there however fast or slow the machine is.
    let import_started = Instant::now();
    let mut import = spawn_import_pausing_at(&db, &big, "first_batch");
    let mut import_err = BufReader::new(import.stderr.take().unwrap());
    wait_for_line(
        &mut import_err,
        "test hook: holding at first_batch",
        "the import",
    );
    let import_stdin = import.stdin.take();
    let import_waiter = std::thread::spawn(move || {
        let status = import.wait().unwrap();
        let mut err = String::new();
        import_err.read_to_string(&mut err).unwrap();
        (status, err, Instant::now())
    });
    let started = Arc::new(AtomicUsize::new(0));
    // Window one erases five members; window two opens eight escalations.
    let forgets = writer(db.clone(), to_forget.clone(), Arc::clone(&started), |id| {
        vec!["forget".into(), id.into(), "--yes".into()]
    });
    let escalates = writer(
        db.clone(),
        to_escalate.clone(),
        Arc::clone(&started),
        |id| {
            ["escalate", "--contact", id, "--category", "member_concern"]
                .into_iter()
                .chain(["--priority", "normal", "--title", "Called about their card"])
                .map(str::to_owned)
                .collect()
        },
    );
    // A third window reads all the while: never blocked, never going backwards, and seeing
    // every write once it is committed.
    let reader = {
        let db = db.clone();
        std::thread::spawn(move || {
            let mut seen = (0, 0);
            let mut reads = 0;
            while seen != (5, 8) {
                let out = command(&db).args(["audit", "--json"]).output().unwrap();
                assert_not_locked("audit", &out);
                let lines: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
                let of = |action: &str| lines.iter().filter(|l| l["action"] == action).count();
                let now = (of("forget"), of("escalation.opened"));
                assert!(
                    now.0 >= seen.0 && now.1 >= seen.1,
                    "went back: {seen:?} → {now:?}"
                );
                seen = now;
                reads += 1;
                assert!(reads < 2_000, "the writes never became visible: {seen:?}");
            }
            reads
        })
    };
    // Let the import go on once each window's first write has started against it.
    while started.load(Ordering::SeqCst) < 2 {
        std::thread::yield_now();
    }
    drop(import_stdin);

    let spans: Vec<Span> = forgets
        .join()
        .unwrap()
        .into_iter()
        .chain(escalates.join().unwrap())
        .collect();
    let reads = reader.join().unwrap();
    let (status, import_err, import_ended) = import_waiter.join().unwrap();
    assert!(status.success(), "import failed: {import_err}");
    assert!(
        !import_err.to_lowercase().contains("locked"),
        "{import_err}"
    );
    // The writes really did meet the import: they started while it was running.
    let during = spans
        .iter()
        .filter(|(start, _)| *start > import_started && *start < import_ended)
        .count();
    eprintln!(
        "import held {:?} with company; {during} of 13 writes started during it; {reads} reads",
        import_ended - import_started
    );
    assert!(during >= 2, "only {during} writes overlapped the import");

    // No write lost.
    assert_eq!(count(&db, "SELECT count(*) FROM erased_contacts"), 5);
    assert_eq!(count(&db, "SELECT count(*) FROM escalations"), 8);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let present: BTreeSet<String> = conn
        .prepare("SELECT crm_id FROM contacts")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: BTreeSet<String> = small_ids
        .iter()
        .chain(&big_ids)
        .filter(|id| !to_forget.contains(*id))
        .cloned()
        .collect();
    assert_eq!(present, expected);
    let escalated: BTreeSet<String> = conn
        .prepare("SELECT c.crm_id FROM escalations e JOIN contacts c ON c.id = e.contact_id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(escalated, to_escalate.into_iter().collect());
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM import_runs WHERE finished_at IS NOT NULL"
        ),
        2
    );
    assert_eq!(integrity(&db), "ok");
}

/// A first import into an empty database runs with a rollback journal (faster, and nobody else
/// is reading yet); a window opened after it started waits for it rather than failing.
#[test]
fn a_window_opened_during_a_first_import_waits_and_then_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.db");
    drop(rollcall::storage::Store::open(&empty, rollcall::storage::OpenMode::ReadWrite).unwrap());
    let (big, full, _reference) = slow_export(dir.path(), &empty, Duration::from_millis(1000));
    let db = dir.path().join("rollcall.db");
    std::fs::copy(&empty, &db).unwrap();

    let mut import = spawn_import(&db, &big);
    std::thread::sleep(full.mul_f64(0.3));
    let started = Instant::now();
    let out = command(&db).args(["audit", "--json"]).output().unwrap();
    let waited = started.elapsed();
    assert_not_locked("audit during a first import", &out);
    assert!(import.wait().unwrap().success());
    // It saw the database before or after the import, never half of it.
    let lines: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(lines.len() <= 1, "{lines:?}");
    let contacts = count(&db, "SELECT count(*) FROM contacts");
    let out = command(&db).args(["audit", "--json"]).output().unwrap();
    assert_not_locked("audit after the first import", &out);
    let lines: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(lines.iter().filter(|l| l["action"] == "import").count(), 1);
    assert!(contacts > 0);
    eprintln!("first import {full:?}; a reader opened 30% in waited {waited:?}");
}
