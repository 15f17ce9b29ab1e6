//! `rollcall subject-access`: a person's copy of everything rollcall holds on them, readable and
//! as JSON, owner-only, with the request audited and linked to their open data-protection
//! escalation.

mod trust_support;

use std::path::Path;

use rollcall::storage::sql::Connection;
use trust_support::*;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_copy_holds_every_kind_of_record_and_the_request_is_audited_on_their_escalation() {
    let s = seeded();
    // A tag the CRM gave them is theirs too.
    Connection::open(&s.db)
        .unwrap()
        .execute(
            "INSERT INTO contact_tags (contact_id, tag)
             SELECT id, 'phonebank volunteer' FROM contacts WHERE crm_id = ?1",
            [TARGET.crm_id],
        )
        .unwrap();
    let out_md = s.dir.path().join("sar-4417.md");
    let out = rollcall(&s.db)
        .args(["subject-access", TARGET.crm_id, "-o"])
        .arg(&out_md)
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_no_personal_data(&stdout, &TARGET);
    let json_path = s.dir.path().join("sar-4417.json");

    let doc = read(&out_md);
    for expected in [
        // contact fields
        TARGET.display,
        TARGET.email,
        TARGET.phone,
        TARGET.street,
        TARGET.postcode,
        "Harlech",
        "cy\\_GB",
        "**Tags from the CRM:** phonebank volunteer",
        // the membership and the change import recorded
        "Membership 1: Individual",
        "**Status in the CRM:** Grace",
        "2026-03-01 — joined (membership 1)",
        // contact attempt, note, snooze, assignment, onboarding
        "phone, will renew: Rang Siân at home, spoke about dues",
        &format!(
            "{} asked us to use {} from now on",
            TARGET.display, TARGET.email
        ),
        "postponed until 2026-03-09",
        "renewals queue: bryn",
        "welcome email — done by amira",
        "**Counted from:** 2025-01-10",
        // the escalation and its comment
        &format!("Subject access request from {}", TARGET.display),
        &format!("write to {}", TARGET.street),
        &format!("Called {} back on {}", TARGET.first, TARGET.phone),
        // no retention exception
        "No exception is recorded",
        // the audit lines about them
        "insert contact\\_attempt",
        &format!("before: {{\"email\":\"{}\"}}", TARGET.old_email),
    ] {
        assert!(
            doc.contains(expected),
            "the document lacks `{expected}`:\n{doc}"
        );
    }
    assert_no_personal_data(&doc, &BYSTANDER);

    let json: serde_json::Value = serde_json::from_str(&read(&json_path)).unwrap();
    let record = &json["record"];
    assert_eq!(record["contact"]["email"], TARGET.email);
    for (kind, n) in [
        ("memberships", 1),
        ("membership_events", 1),
        ("contact_attempts", 1),
        ("notes", 1),
        ("snoozes", 1),
        ("assignments", 1),
        ("onboarding_steps", 1),
        ("escalations", 1),
        ("audit_lines", 4),
    ] {
        assert_eq!(record[kind].as_array().unwrap().len(), n, "{kind}");
    }
    assert_eq!(record["onboarding"]["state"], "active");
    assert_eq!(record["escalations"][0]["events"][0]["kind"], "comment");
    assert_eq!(
        record["audit_lines"][3]["before"]["email"], TARGET.old_email,
        "before/after are JSON objects"
    );
    #[cfg(unix)]
    {
        assert_eq!(mode(&out_md), 0o600);
        assert_eq!(mode(&json_path), 0o600);
    }
    // Nothing else was left beside them (no temporary files).
    let mut names: Vec<String> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("sar") || n.starts_with('.'))
        .collect();
    names.sort();
    assert_eq!(names, ["sar-4417.json", "sar-4417.md"]);

    // The request: one audit line about them naming their open data-protection escalation,
    // which got a comment.
    let conn = Connection::open(&s.db).unwrap();
    let escalation: i64 = conn
        .query_row(
            "SELECT id FROM escalations WHERE contact_id = ?1",
            [s.target_id],
            |r| r.get(0),
        )
        .unwrap();
    let (staff, contact, after): (String, i64, String) = conn
        .query_row(
            "SELECT staff, contact_id, after FROM audit_log WHERE action = 'subject_access'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((staff.as_str(), contact), (STAFF, s.target_id));
    let after: serde_json::Value = serde_json::from_str(&after).unwrap();
    assert_eq!(after["escalation_id"], escalation);
    let comment: String = conn
        .query_row(
            "SELECT body FROM escalation_events WHERE escalation_id = ?1 AND kind = 'comment'
             ORDER BY id DESC LIMIT 1",
            [escalation],
            |r| r.get(0),
        )
        .unwrap();
    assert!(comment.starts_with("Subject access: a copy"), "{comment}");
    assert!(
        stdout.contains(&format!("escalation #{escalation}")),
        "{stdout}"
    );
}

#[test]
fn an_unknown_or_erased_id_writes_nothing_and_records_nothing() {
    let s = seeded();
    rollcall(&s.db)
        .args(["forget", BYSTANDER.crm_id, "--yes"])
        .assert()
        .success();
    let before = dump(&s.db);
    let out_md = s.dir.path().join("sar.md");
    for (id, expected) in [
        ("999999", "no contact has that CRM id; check the id"),
        (BYSTANDER.crm_id, "that person was erased on"),
        (" ", "CONTACT_ID is empty"),
    ] {
        let out = rollcall(&s.db)
            .args(["subject-access", id, "-o"])
            .arg(&out_md)
            .assert()
            .failure()
            .get_output()
            .clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains(expected), "{id}: {stderr}");
        assert!(!out_md.exists() && !s.dir.path().join("sar.json").exists());
    }
    assert_eq!(dump(&s.db), before);
}

#[test]
fn read_only_refuses_as_the_request_must_be_audited() {
    let s = seeded();
    let before = dump(&s.db);
    let out_md = s.dir.path().join("sar.md");
    let out = rollcall(&s.db)
        .args(["--read-only", "subject-access", TARGET.crm_id, "-o"])
        .arg(&out_md)
        .assert()
        .failure()
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("recording a subject access request"),
        "{stderr}"
    );
    assert!(!out_md.exists());
    assert_eq!(dump(&s.db), before);
}
