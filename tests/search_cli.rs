//! `rollcall search`: the same engine from the command line.

#[path = "search_support/mod.rs"]
mod support;

use assert_cmd::Command;
use predicates::prelude::*;

fn rollcall(db: &std::path::Path) -> Command {
    let mut cmd = Command::cargo_bin("rollcall").unwrap();
    cmd.arg("--db")
        .arg(db)
        .args(["--today", "2026-11-23", "--user", "ann"]);
    cmd
}

#[test]
fn json_lists_members_best_first_with_crm_ids_and_rollcalls_status() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcall.db");
    support::create_db(&db);
    let out = rollcall(&db)
        .args(["search", "jones", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let hits: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let hits = hits.as_array().unwrap();
    let names: Vec<&str> = hits.iter().map(|h| h["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["Aled Jones", "Siân Jones", "Tom Jonesworth", "Mair Davies"]
    );
    assert_eq!(
        hits[1],
        serde_json::json!({
            "contact_id": "1001",
            "membership_id": "M2001",
            "name": "Siân Jones",
            "email": "sian.jones@example.org",
            "postcode": "CF10 1AA",
            "status": "Current",
            "score": hits[1]["score"],
        })
    );
    let scores: Vec<i64> = hits.iter().map(|h| h["score"].as_i64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
}

#[test]
fn status_is_worked_out_from_the_dates_as_of_today() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcall.db");
    support::create_db(&db);
    let out = rollcall(&db)
        .args(["search", "lukasz", "--json", "--limit", "1"])
        .output()
        .unwrap();
    let hits: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hits.as_array().unwrap().len(), 1);
    // The CRM says Current; the end date passed three weeks ago.
    assert_eq!(hits[0]["status"], "Grace");
}

#[test]
fn the_table_names_the_columns_and_counts_matches() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcall.db");
    support::create_db(&db);
    rollcall(&db)
        .args(["search", "CF10", "1AA"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("NAME"))
        .stdout(predicate::str::contains("Siân Jones"))
        .stdout(predicate::str::contains("Dylan Thomas"))
        .stdout(predicate::str::contains("2 of 2 matches"));
    rollcall(&db)
        .args(["search", "lukasz"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Grace (CRM: Current)"));
}

#[test]
fn a_missing_database_is_a_clear_error_and_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("missing.db");
    rollcall(&db)
        .args(["search", "jones"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("missing.db"))
        .stderr(predicate::str::contains("no database here"));
    assert!(!db.exists());
}

#[test]
fn bad_arguments_say_what_would_be_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcall.db");
    support::create_db(&db);
    rollcall(&db)
        .args(["search", "jones", "--limit", "0"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--limit"));
    rollcall(&db)
        .args(["search", "'-'"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("no letters or digits"));
}
