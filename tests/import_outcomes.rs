//! What `rollcall import` tells about several files, and what it leaves behind when it writes
//! nothing (issue 18).

mod import_support;

use import_support::*;
use serde_json::Value;

fn companions(s: &Scratch) -> Vec<std::path::PathBuf> {
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|suffix| std::path::PathBuf::from(format!("{}{suffix}", s.db.display())))
        .filter(|p| p.exists())
        .collect()
}

#[test]
fn json_with_several_files_reports_each_one_even_after_a_failure() {
    let s = Scratch::new();
    let broken = s.path("members.txt");
    std::fs::write(&broken, "").unwrap();
    let out = s
        .cmd()
        .args(["import", "--json"])
        .arg(fixture("civicrm_small.csv"))
        .arg(&broken)
        .arg(fixture("nationbuilder.csv"))
        .assert()
        .failure();
    let json: Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    let reports = json.as_array().expect("an array");
    assert_eq!(reports.len(), 3, "{json:#}");
    assert_eq!(reports[0]["profile"], "civicrm");
    assert_eq!(reports[0]["committed"], true);
    assert!(reports[0].get("error").is_none());
    assert_eq!(reports[1]["file"], broken.display().to_string());
    assert_eq!(reports[1]["committed"], false);
    let error = reports[1]["error"].as_str().unwrap();
    assert!(error.contains("empty"), "{error}");
    assert_eq!(reports[2]["profile"], "nationbuilder");
    assert_eq!(reports[2]["committed"], true);
    assert_eq!(
        s.count("SELECT count(*) FROM import_runs"),
        2,
        "the file after the failure was imported too"
    );
}

#[test]
fn json_with_a_strict_refusal_keeps_its_report_and_goes_on() {
    let s = Scratch::new();
    let out = s
        .cmd()
        .args(["import", "--json", "--strict"])
        .arg(fixture("civicrm_broken.csv"))
        .arg(fixture("nationbuilder.csv"))
        .assert()
        .failure();
    let json: Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    let reports = json.as_array().expect("an array");
    assert_eq!(reports.len(), 2);
    assert!(reports[0]["rejected"].as_u64().unwrap() > 0);
    assert!(reports[0]["error"].as_str().unwrap().contains("--strict"));
    assert_eq!(reports[1]["committed"], true);
}

#[test]
fn human_output_tries_every_file_and_fails_when_one_did() {
    let s = Scratch::new();
    let missing = s.path("absent.csv");
    let out = s
        .cmd()
        .arg("import")
        .arg(&missing)
        .arg(fixture("civicrm_small.csv"))
        .assert()
        .failure();
    assert!(stdout_of(&out).contains("Imported"), "{}", stdout_of(&out));
    assert!(stderr_of(&out).contains("absent.csv"), "{}", stderr_of(&out));
    assert_eq!(s.count("SELECT count(*) FROM import_runs"), 1);
}

#[test]
fn a_dry_run_creates_no_database() {
    let s = Scratch::new();
    let out = s
        .cmd()
        .args(["import", "--dry-run"])
        .arg(fixture("civicrm_small.csv"))
        .assert()
        .success();
    assert!(stdout_of(&out).contains("rows read    10"));
    assert_eq!(companions(&s), Vec::<std::path::PathBuf>::new());
}

#[test]
fn a_refused_import_creates_no_database() {
    let s = Scratch::new();
    let empty = s.path("members.csv");
    std::fs::write(&empty, "").unwrap();
    s.cmd().arg("import").arg(&empty).assert().failure();
    s.cmd()
        .args(["import", "--strict"])
        .arg(fixture("civicrm_broken.csv"))
        .assert()
        .failure();
    assert_eq!(companions(&s), Vec::<std::path::PathBuf>::new());
}

#[test]
fn a_refused_import_keeps_a_database_that_existed() {
    let s = Scratch::new();
    s.import("civicrm_small.csv", &[]);
    let empty = s.path("members.csv");
    std::fs::write(&empty, "").unwrap();
    s.cmd().arg("import").arg(&empty).assert().failure();
    assert!(s.db.exists());
    assert_eq!(s.count("SELECT count(*) FROM import_runs"), 1);
}
