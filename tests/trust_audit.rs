//! `rollcall audit`: who changed what, when, before and after — for everyone, for one person by
//! their CRM id, and since a date.

mod trust_support;

use rollcall::storage::audit::{self, Change};
use serde_json::{Value, json};
use trust_support::*;

fn audit_json(db: &std::path::Path, args: &[&str]) -> Vec<Value> {
    let out = rollcall(db)
        .arg("audit")
        .args(args)
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice::<Vec<Value>>(&out).unwrap()
}

/// An escalation status change made on a later day by someone else.
fn add_later_change(db: &std::path::Path, contact: i64) {
    let conn = rollcall::storage::sql::Connection::open(db).unwrap();
    let later =
        rollcall::Clock::fixed(chrono::NaiveDate::from_ymd_opt(2026, 3, 9).unwrap(), "bryn");
    audit::record(
        &conn,
        &later,
        Change {
            action: "update",
            entity: "escalation",
            entity_id: Some(1),
            contact_id: Some(contact),
            before: Some(json!({"status": "open", "priority": "high"})),
            after: Some(json!({"status": "resolved", "priority": "high"})),
        },
    )
    .unwrap();
}

#[test]
fn json_lists_every_change_with_who_when_before_and_after() {
    let s = seeded();
    add_later_change(&s.db, s.target_id);
    let all = audit_json(&s.db, &[]);
    // seeded: 4 lines per person; plus the later change.
    assert_eq!(all.len(), 9);
    let last = all.last().unwrap();
    assert_eq!(last["staff"], "bryn");
    assert_eq!(last["at"], "2026-03-09T09:00:00");
    assert_eq!(last["action"], "update");
    assert_eq!(last["entity"], "escalation");
    assert_eq!(last["crm_contact_id"], TARGET.crm_id);
    assert_eq!(last["before"]["status"], "open");
    assert_eq!(last["after"]["status"], "resolved");
}

#[test]
fn contact_filters_by_crm_id_and_since_by_date() {
    let s = seeded();
    add_later_change(&s.db, s.target_id);
    let theirs = audit_json(&s.db, &["--contact", BYSTANDER.crm_id]);
    assert_eq!(theirs.len(), 3, "{theirs:#?}"); // the contact update line has no contact_id
    assert!(
        theirs
            .iter()
            .all(|l| l["contact_id"] == s.bystander_id && l["crm_contact_id"] == BYSTANDER.crm_id)
    );
    let since = audit_json(&s.db, &["--since", "2026-03-03"]);
    assert_eq!(since.len(), 1);
    assert_eq!(since[0]["staff"], "bryn");
    let both = audit_json(
        &s.db,
        &["--contact", TARGET.crm_id, "--since", "2026-03-02"],
    );
    assert_eq!(both.len(), 4);
}

#[test]
fn the_table_shows_what_changed() {
    let s = seeded();
    add_later_change(&s.db, s.target_id);
    let out = rollcall(&s.db)
        .args(["audit", "--since", "2026-03-09"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("WHEN"), "{text}");
    for column in ["STAFF", "ACTION", "WHAT", "CONTACT", "CHANGE"] {
        assert!(lines[0].contains(column), "{text}");
    }
    assert!(lines[1].starts_with("2026-03-09T09:00:00"), "{text}");
    assert!(lines[1].contains("bryn"), "{text}");
    assert!(lines[1].contains("escalation 1"), "{text}");
    assert!(lines[1].contains(TARGET.crm_id), "{text}");
    assert!(lines[1].ends_with("status: open → resolved"), "{text}");
    assert_eq!(lines[2], "1 change(s).");

    let empty = rollcall(&s.db)
        .args(["audit", "--since", "2027-01-01"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        String::from_utf8(empty).unwrap().trim(),
        "No changes recorded."
    );
}

#[test]
fn after_forget_only_the_erasure_line_remains_for_them() {
    let s = seeded();
    rollcall(&s.db)
        .args(["forget", TARGET.crm_id, "--yes"])
        .assert()
        .success();
    let all = audit_json(&s.db, &[]);
    let forget: Vec<&Value> = all.iter().filter(|l| l["action"] == "forget").collect();
    assert_eq!(forget.len(), 1);
    assert_eq!(forget[0]["staff"], STAFF);
    assert_eq!(forget[0]["contact_id"], Value::Null);
    assert_eq!(forget[0]["after"]["erased"]["contacts"], 1);
    assert!(all.iter().all(|l| l["contact_id"] != s.target_id));
    assert_no_personal_data(&serde_json::to_string(&all).unwrap(), &TARGET);

    let out = rollcall(&s.db)
        .args(["audit", "--contact", TARGET.crm_id])
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    let stderr = String::from_utf8(out).unwrap();
    assert!(stderr.contains(&format!("erased on {TODAY}")), "{stderr}");
    assert!(stderr.contains(&format!("by {STAFF}")), "{stderr}");
}

#[test]
fn bad_arguments_are_named() {
    let s = seeded();
    for (args, expected) in [
        (vec!["audit", "--since", "2026-13-01"], "--since"),
        (vec!["audit", "--since", "yesterday"], "YYYY-MM-DD"),
        (
            vec!["audit", "--contact", "777777"],
            "--contact: no contact has that CRM id",
        ),
        (vec!["audit", "--source", "civicrm"], "--contact"),
    ] {
        let out = rollcall(&s.db)
            .args(&args)
            .assert()
            .failure()
            .get_output()
            .clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn audit_reads_without_writing_and_works_read_only() {
    let s = seeded();
    let before = dump(&s.db);
    let all_ro = rollcall(&s.db)
        .args(["--read-only", "audit", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        serde_json::from_slice::<Vec<Value>>(&all_ro).unwrap().len(),
        8
    );
    assert_eq!(dump(&s.db), before);
    let missing = s.dir.path().join("nothing-here.db");
    let out = rollcall(&missing)
        .arg("audit")
        .assert()
        .failure()
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("no database here"));
    assert!(!missing.exists(), "audit must not create a database");
}
