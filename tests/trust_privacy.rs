//! Members' data never leaks into errors, reports or panic output; an erased person stays erased
//! through later imports unless the operator says otherwise.

mod trust_support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use trust_support::*;

struct Db {
    dir: tempfile::TempDir,
    db: PathBuf,
    export: PathBuf,
}

/// A database into which the sample export (both people) was imported.
fn imported() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcall.db");
    let export = dir.path().join("export.csv");
    std::fs::write(&export, civicrm_sample()).unwrap();
    rollcall(&db).arg("import").arg(&export).assert().success();
    Db { dir, db, export }
}

fn import_json(db: &Path, file: &Path, extra: &[&str]) -> Value {
    let out = rollcall(db)
        .arg("import")
        .arg(file)
        .args(extra)
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

fn contacts_with_crm_id(db: &Path, crm_id: &str) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM contacts WHERE crm_id = ?1",
            [crm_id],
            |r| r.get(0),
        )
        .unwrap()
}

// ------------------------------------------------------------------ erased stays erased

#[test]
fn a_forgotten_person_is_skipped_by_the_next_import_and_the_report_says_so() {
    let s = imported();
    assert_eq!(contacts_with_crm_id(&s.db, TARGET.crm_id), 1);
    rollcall(&s.db)
        .args(["forget", TARGET.crm_id, "--yes"])
        .assert()
        .success();

    // The CRM has not erased them yet: the same file comes in again.
    let report = import_json(&s.db, &s.export, &[]);
    assert_eq!(
        report["skipped_erased"], 2,
        "their two membership rows: {report}"
    );
    assert_eq!(report["contacts"]["inserted"], 0, "{report}");
    assert_eq!(contacts_with_crm_id(&s.db, TARGET.crm_id), 0);
    assert_no_personal_data(&report.to_string(), &TARGET);
    // The human summary says it too, without naming them.
    let out = rollcall(&s.db)
        .arg("import")
        .arg(&s.export)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.to_lowercase().contains("erased"), "{text}");
    assert_no_personal_data(&text, &TARGET);

    // They rejoined: the operator brings them back on purpose.
    let report = import_json(&s.db, &s.export, &["--allow-erased"]);
    assert_eq!(report["skipped_erased"], 0, "{report}");
    assert_eq!(report["contacts"]["inserted"], 1, "{report}");
    assert_eq!(contacts_with_crm_id(&s.db, TARGET.crm_id), 1);
}

// ------------------------------------------------------------------ errors name nobody

/// The sample with the target's first row broken in ways import rejects: a date that is not a
/// date, and a row with a field missing.
fn broken_export(dir: &Path) -> PathBuf {
    let text = String::from_utf8(civicrm_sample()).unwrap();
    let mut lines: Vec<String> = text.split_inclusive("\r\n").map(str::to_owned).collect();
    lines[1] = lines[1].replacen("\"2024-01-10\"", "\"the 10th of Jan\"", 1);
    // The third line is the target's second membership: drop its last field.
    let cut = lines[2].trim_end().rsplit_once(',').unwrap().0.to_owned();
    lines[2] = format!("{cut}\r\n");
    let path = dir.join("broken.csv");
    std::fs::write(&path, lines.concat()).unwrap();
    path
}

#[test]
fn rejected_rows_are_reported_by_line_and_reason_without_the_members_data() {
    let s = imported();
    let broken = broken_export(s.dir.path());
    for args in [vec![], vec!["--json"], vec!["--strict"], vec!["--dry-run"]] {
        let out = rollcall(&s.db)
            .arg("import")
            .arg(&broken)
            .args(&args)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            [&stdout, &stderr].iter().any(|t| {
                let compact: String = t.split_whitespace().collect();
                t.contains("line 2") || compact.contains("\"line\":2")
            }),
            "{args:?} names the line:\n{stdout}\n{stderr}"
        );
        assert_no_personal_data(&stdout, &TARGET);
        assert_no_personal_data(&stderr, &TARGET);
    }
    // The stored record of rejected rows holds no personal data either.
    for args in [vec!["imports"], vec!["imports", "--json"]] {
        let out = rollcall(&s.db)
            .args(&args)
            .assert()
            .success()
            .get_output()
            .clone();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("line") || text.contains("\"line\""), "{text}");
        assert_no_personal_data(&text, &TARGET);
    }
}

#[test]
fn failing_commands_about_a_member_name_nobody() {
    let s = imported();
    let db = s.db.to_str().unwrap();
    let missing = s.dir.path().join("no-such-export.csv");
    let export = s.export.to_str().unwrap();
    let missing = missing.to_str().unwrap();
    let escalate = ["--priority", "high", "--title", "Card not arrived"];
    let cases: Vec<Vec<&str>> = vec![
        // An escalation for someone not in the database, and a bad category for someone who is.
        [
            &["escalate", "--contact", "99999", "--category", "complaint"][..],
            &escalate,
        ]
        .concat(),
        [
            &[
                "escalate",
                "--contact",
                TARGET.crm_id,
                "--category",
                "grumbling",
            ][..],
            &escalate,
        ]
        .concat(),
        vec!["forget", "99999", "--yes"],
        vec!["forget", TARGET.crm_id],
        vec!["audit", "--contact", "99999"],
        vec!["import", missing],
        vec!["--read-only", "forget", TARGET.crm_id, "--yes"],
        vec!["--read-only", "import", export],
        [
            &[
                "--read-only",
                "escalate",
                "--contact",
                TARGET.crm_id,
                "--category",
                "complaint",
            ][..],
            &escalate,
        ]
        .concat(),
    ];
    for args in cases {
        let out = rollcall(Path::new(db)).args(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?} should fail");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.trim().is_empty(), "{args:?} says why");
        assert_no_personal_data(&stderr, &TARGET);
        assert_no_personal_data(&String::from_utf8_lossy(&out.stdout), &TARGET);
    }
}

// ------------------------------------------------------------------ panics

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_panic_in_a_command_reports_where_but_never_what() {
    let captured = Captured::default();
    let sink = captured.clone();
    rollcall::cli::quiet_panic::install_with(Box::new(move || Box::new(sink.clone())));
    let result = std::panic::catch_unwind(|| {
        panic!(
            "row for {} <{}> at {} did not parse",
            TARGET.display, TARGET.email, TARGET.street
        );
    });
    let _ = std::panic::take_hook();
    assert!(result.is_err());
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("internal error at tests/trust_privacy.rs:"),
        "{text}"
    );
    assert!(!text.contains("did not parse"), "{text}");
    assert_no_personal_data(&text, &TARGET);
}

#[test]
fn forget_and_import_agree_on_the_erased_key() {
    for (source, crm_id) in [("civicrm", "4417"), ("nationbuilder", "a\u{1f}b"), ("", "")] {
        assert_eq!(
            rollcall::storage::erase::erased_key_hash(source, crm_id),
            rollcall::import::erased_key_hash(source, crm_id)
        );
    }
}
