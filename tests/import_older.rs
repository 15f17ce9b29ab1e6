//! An export older than what the database holds (November's after December's) is refused with
//! what it would do, and changes nothing; `--older-export` imports it on purpose.

mod import_support;

use import_support::*;
use serde_json::Value;

/// `rollcall generate --members N [--advance DAYS]` written to `name` in the scratch directory.
fn generate(s: &Scratch, name: &str, members: u32, advance: u32) -> std::path::PathBuf {
    let path = s.path(name);
    let out = s
        .cmd()
        .args(["generate", "--members", &members.to_string()])
        .args(["--advance", &advance.to_string()])
        .assert()
        .success();
    std::fs::write(&path, &out.get_output().stdout).unwrap();
    path
}

fn import_file(s: &Scratch, today: &str, file: &std::path::Path, extra: &[&str]) -> Value {
    let out = s
        .cmd_on(today)
        .args(["import", "--json"])
        .args(extra)
        .arg(file)
        .assert()
        .success();
    serde_json::from_str(&stdout_of(&out)).unwrap()
}

const DECEMBER: &str = "2026-12-23";

/// November's and December's exports of the same CRM, both imported in order.
fn november_then_december(s: &Scratch) -> (std::path::PathBuf, Value) {
    let nov = generate(s, "nov.csv", 2000, 0);
    let dec = generate(s, "dec.csv", 2000, 30);
    import_file(s, TODAY, &nov, &[]);
    let december = import_file(s, DECEMBER, &dec, &[]);
    (nov, december)
}

#[test]
fn an_older_export_is_refused_with_what_it_would_do_and_changes_nothing() {
    let s = Scratch::new();
    let (nov, december) = november_then_december(&s);
    let renewed = december["memberships"]["renewed"].as_u64().unwrap();
    let joined = december["memberships"]["inserted"].as_u64().unwrap();
    assert!(renewed > 10 && joined > 5, "{december}");
    let before = snapshot(&s.conn());

    let out = s
        .cmd_on(DECEMBER)
        .arg("import")
        .arg(&nov)
        .assert()
        .failure();
    let err = stderr_of(&out);
    assert!(
        err.contains("looks older than what the database already holds"),
        "{err}"
    );
    assert!(
        err.contains(&format!("move {renewed} end date(s) back (and 0 forward)")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{joined} of them among the {joined} first seen in the import of {DECEMBER}"
        )),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    assert!(err.contains("--older-export"), "{err}");
    assert!(!err.contains('@'), "no member data in the message: {err}");
    assert_eq!(snapshot(&s.conn()), before, "the database is as it was");

    // Said on purpose, it goes in: the end dates move back.
    let forced = import_file(&s, DECEMBER, &nov, &["--older-export"]);
    assert_eq!(forced["memberships"]["end_date_moved_back"], renewed);
    assert_eq!(forced["memberships"]["missing_from_export"], joined);
}

#[test]
fn the_next_export_and_a_repeated_one_are_not_taken_for_older() {
    let s = Scratch::new();
    let (_, december) = november_then_december(&s);
    assert_eq!(december["memberships"]["end_date_moved_back"], 0);
    let dec = s.path("dec.csv");
    let again = import_file(&s, DECEMBER, &dec, &[]);
    assert_eq!(again["memberships"]["updated"], 0, "{again}");
    let jan = generate(&s, "jan.csv", 2000, 60);
    import_file(&s, "2027-01-22", &jan, &[]);
}

#[test]
fn a_dry_run_of_an_older_export_says_so_too() {
    let s = Scratch::new();
    let (nov, _) = november_then_december(&s);
    let out = s
        .cmd_on(DECEMBER)
        .args(["import", "--dry-run"])
        .arg(&nov)
        .assert()
        .failure();
    assert!(
        stderr_of(&out).contains("looks older"),
        "{}",
        stderr_of(&out)
    );
}
