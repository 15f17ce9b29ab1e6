//! `--read-only`: people who should look but not change anything. Every command that writes is
//! refused with a message saying what was refused; every command that only looks works, and the
//! database file is left byte-for-byte as it was.

mod trust_support;

use std::path::{Path, PathBuf};

use trust_support::*;

struct Db {
    _dir: tempfile::TempDir,
    db: PathBuf,
    export: PathBuf,
}

/// A database with the sample imported and one escalation open, closed (no WAL beside it).
fn database() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcall.db");
    let export = dir.path().join("export.csv");
    std::fs::write(&export, civicrm_sample()).unwrap();
    rollcall(&db).arg("import").arg(&export).assert().success();
    rollcall(&db)
        .args([
            "escalate",
            "--contact",
            BYSTANDER.crm_id,
            "--category",
            "complaint",
        ])
        .args(["--priority", "normal", "--title", "Card not arrived"])
        .assert()
        .success();
    Db {
        _dir: dir,
        db,
        export,
    }
}

fn bytes(db: &Path) -> Vec<u8> {
    std::fs::read(db).unwrap()
}

#[test]
fn every_write_is_refused_and_says_what() {
    let s = database();
    let before = dump(&s.db);
    let export = s.export.to_str().unwrap();
    let escalate = [
        "escalate",
        "--contact",
        TARGET.crm_id,
        "--category",
        "complaint",
        "--priority",
        "high",
        "--title",
        "Card not arrived",
    ];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["import", export], "importing"),
        (escalate.to_vec(), "escalation"),
        (vec!["forget", TARGET.crm_id, "--yes"], "erasing a person"),
        (vec!["export", "activities"], "exported"),
    ];
    for (args, what) in cases {
        for how in ["flag", "env"] {
            let mut cmd = rollcall(&s.db);
            if how == "flag" {
                cmd.arg("--read-only");
            } else {
                cmd.env("ROLLCALL_READ_ONLY", "1");
            }
            let out = cmd.args(&args).assert().failure().get_output().clone();
            let stderr = String::from_utf8(out.stderr).unwrap();
            assert!(
                stderr.contains("read-only mode (--read-only)"),
                "{args:?} ({how}): {stderr}"
            );
            assert!(
                stderr.contains(what),
                "{args:?} ({how}) says what: {stderr}"
            );
            assert!(stderr.contains("refused"), "{args:?} ({how}): {stderr}");
        }
    }
    assert_eq!(dump(&s.db), before);
}

#[test]
fn looking_works_and_changes_nothing() {
    let s = database();
    let before = bytes(&s.db);
    for args in [
        vec!["renewals"],
        vec!["onboarding"],
        vec!["escalations"],
        vec!["stats"],
        vec!["imports"],
        vec!["audit"],
        vec!["export", "members", "--json"],
    ] {
        let out = rollcall(&s.db)
            .arg("--read-only")
            .args(&args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(bytes(&s.db), before, "{args:?} changed the file");
    }
    let listed = rollcall(&s.db)
        .args(["--read-only", "escalations", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(
        String::from_utf8(listed)
            .unwrap()
            .contains("Card not arrived")
    );
}

#[test]
fn read_only_never_creates_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("not-yet.db");
    for args in [
        vec!["audit"],
        vec!["escalations"],
        vec!["forget", "1", "--yes"],
    ] {
        let out = rollcall(&db)
            .arg("--read-only")
            .args(&args)
            .assert()
            .failure()
            .get_output()
            .clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains("no database here"), "{args:?}: {stderr}");
        assert!(!db.exists(), "{args:?} created the database");
    }
}
