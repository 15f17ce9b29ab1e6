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
    assert!(
        stderr_of(&out).contains("absent.csv"),
        "{}",
        stderr_of(&out)
    );
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

const RESAVE_HEADER: &str = "Contact ID,First Name,Last Name,Display Name,City,Email\n";

#[test]
fn a_lossy_resave_keeps_the_stored_names_and_says_so() {
    let s = Scratch::new();
    let good = s.path("good.csv");
    std::fs::write(
        &good,
        format!(
            "{RESAVE_HEADER}201,Łukasz,Dvořák,Łukasz Dvořák,Łódź,lukasz@example.org\n\
             202,Siân,Jones,Siân Jones,Cardiff,sian@example.org\n"
        ),
    )
    .unwrap();
    s.cmd().arg("import").arg(&good).assert().success();
    // Excel's "CSV" re-save: Windows-1252, `?` for what it cannot hold; and a real change to
    // the second contact's city in the same file.
    let resaved = s.path("resaved.csv");
    let text = format!(
        "{RESAVE_HEADER}201,?ukasz,Dvo?ák,?ukasz Dvo?ák,?ód?,lukasz@example.org\n\
         202,Siân,Jones,Siân Jones,Swansea,sian@example.org\n"
    );
    let (bytes, _, lossy) = encoding_rs::WINDOWS_1252.encode(&text);
    assert!(!lossy);
    std::fs::write(&resaved, &bytes).unwrap();
    let out = s
        .cmd()
        .args(["import", "--json"])
        .arg(&resaved)
        .assert()
        .success();
    let report: Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    assert_eq!(report["encoding"], "Windows-1252");
    assert_eq!(report["kept_resave_damaged"], 1, "{report:#}");
    assert_eq!(
        report["contacts"]["updated"], 1,
        "only the real change: {report:#}"
    );
    assert_eq!(report["contacts"]["unchanged"], 1, "{report:#}");
    assert_eq!(
        s.text("SELECT first_name || ' ' || last_name || ', ' || city FROM contacts WHERE crm_id = '201'"),
        Some("Łukasz Dvořák, Łódź".into())
    );
    assert_eq!(
        s.text("SELECT display_name FROM contacts WHERE crm_id = '201'"),
        Some("Łukasz Dvořák".into())
    );
    assert_eq!(
        s.text("SELECT city FROM contacts WHERE crm_id = '202'"),
        Some("Swansea".into())
    );
    let human = s.cmd().arg("import").arg(&resaved).assert().success();
    assert!(
        stdout_of(&human).contains("kept         1 name(s) that a re-save had damaged"),
        "{}",
        stdout_of(&human)
    );
}

#[test]
fn a_question_mark_in_place_of_a_code_page_letter_is_a_real_change() {
    let s = Scratch::new();
    let first = s.path("first.csv");
    std::fs::write(
        &first,
        format!("{RESAVE_HEADER}201,Jon,Jones,Jon Jones,Cardiff,j@example.org\n"),
    )
    .unwrap();
    s.cmd().arg("import").arg(&first).assert().success();
    let second = s.path("second.csv");
    std::fs::write(
        &second,
        format!("{RESAVE_HEADER}201,J?n,Jones,Jon Jones,Cardiff,j@example.org\n"),
    )
    .unwrap();
    let out = s
        .cmd()
        .args(["import", "--json"])
        .arg(&second)
        .assert()
        .success();
    let report: Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    assert_eq!(report["kept_resave_damaged"], 0);
    assert_eq!(report["contacts"]["updated"], 1);
    assert_eq!(
        s.text("SELECT first_name FROM contacts WHERE crm_id = '201'"),
        Some("J?n".into())
    );
}
