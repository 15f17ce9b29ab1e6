//! `rollcall member CRM_ID [--json]`: what an import stored on one contact, and what staff
//! recorded about them (issue 18).

mod import_support;

use import_support::*;
use serde_json::Value;

fn member_json(s: &Scratch, crm_id: &str) -> Value {
    let out = s
        .cmd()
        .args(["member", crm_id, "--json"])
        .assert()
        .success();
    serde_json::from_str(&stdout_of(&out)).unwrap()
}

#[test]
fn member_json_shows_every_field_membership_and_record() {
    let s = Scratch::new();
    s.import("civicrm_small.csv", &[]);
    s.cmd()
        .args([
            "escalate",
            "--contact",
            "103",
            "--category",
            "complaint",
            "--priority",
            "high",
            "--title",
            "Card declined",
        ])
        .assert()
        .success();
    let json = member_json(&s, "103");
    let c = &json["contact"];
    assert_eq!(c["crm_id"], "103");
    assert_eq!(c["first_name"], "Dafydd");
    assert_eq!(c["city"], "Aberystwyth");
    assert_eq!(c["postcode"], "SY23 1DE");
    assert_eq!(c["do_not_phone"], false);
    assert_eq!(c["local_party"], "Ceredigion");
    let memberships = json["memberships"].as_array().unwrap();
    assert_eq!(memberships.len(), 2, "both of the contact's memberships");
    let individual = memberships
        .iter()
        .find(|m| m["membership_type"] == "Individual")
        .unwrap();
    assert_eq!(individual["crm_membership_id"], "5003");
    assert_eq!(individual["end_date"], "2027-01-31");
    assert_eq!(individual["crm_status"], "Current");
    assert_eq!(individual["rollcall_status"], "Current");
    assert_eq!(individual["auto_renew"], true);
    let escalations = json["escalations"].as_array().unwrap();
    assert_eq!(escalations.len(), 1);
    assert_eq!(escalations[0]["title"], "Card declined");
    assert_eq!(json["as_of"], TODAY);
}

#[test]
fn member_text_shows_both_statuses_and_the_preferences() {
    let s = Scratch::new();
    s.import("civicrm_small.csv", &[]);
    let out = s.cmd().args(["member", "102"]).assert().success();
    let text = stdout_of(&out);
    assert!(
        text.contains("Rhys ap Gwilym — contact 102 in civicrm"),
        "{text}"
    );
    assert!(text.contains("do not phone yes"), "{text}");
    assert!(
        text.contains("Reduced Rate (membership 2, CRM id 5002): status Expired (CRM: Expired)"),
        "{text}"
    );
    assert!(text.contains("end 2026-06-14"), "{text}");
    assert!(text.contains("Escalations (0)"), "{text}");
}

#[test]
fn member_never_prints_control_characters() {
    let s = Scratch::new();
    s.import("civicrm_small.csv", &[]);
    s.conn()
        .execute(
            "UPDATE contacts SET display_name = 'Evil\u{1b}[2J Name' WHERE crm_id = '101'",
            [],
        )
        .unwrap();
    let out = s.cmd().args(["member", "101"]).assert().success();
    let text = stdout_of(&out);
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(text.contains("Evil"), "{text}");
}

#[test]
fn an_unknown_id_is_an_error_and_no_database_is_made() {
    let s = Scratch::new();
    s.cmd().args(["member", "101"]).assert().failure();
    assert!(!s.db.exists());
    s.import("civicrm_small.csv", &[]);
    let out = s.cmd().args(["member", "999"]).assert().failure();
    assert!(stderr_of(&out).contains("no contact has that CRM id"));
}

#[test]
fn a_nationbuilder_type_without_dates_shows_as_dates_unknown_never_current() {
    let s = Scratch::new();
    s.import("nationbuilder_people.csv", &[]);
    let json = member_json(&s, "501");
    let memberships = json["memberships"].as_array().unwrap();
    let types: Vec<&str> = memberships
        .iter()
        .map(|m| m["membership_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["Member", "Young Greens"], "{json}");
    for m in memberships {
        assert_eq!(m["dates_unknown"], true, "{m}");
        assert_eq!(m["end_date"], Value::Null, "{m}");
        assert_eq!(m["rollcall_status"], "dates unknown", "{m}");
    }

    let out = s.cmd().args(["member", "501"]).assert().success();
    let text = stdout_of(&out);
    assert!(
        text.contains("Member (membership 1, CRM id none): status dates unknown (CRM: none)\n"),
        "{text}"
    );
    assert!(
        text.contains("end unknown (the CRM gave the type only)"),
        "{text}"
    );
    assert!(!text.contains("lifetime"), "{text}");
    assert!(
        text.contains("tags (CRM)      phone bank, volunteer\n"),
        "{text}"
    );
    assert_eq!(
        json["tags"],
        serde_json::json!(["phone bank", "volunteer"]),
        "{json}"
    );

    let out = s.cmd().args(["search", "MacLeod"]).assert().success();
    let text = stdout_of(&out);
    assert!(text.contains("dates unknown"), "{text}");
    assert!(!text.contains("CRM: )"), "{text}");
    assert!(!text.contains("Current"), "{text}");
    assert!(!text.contains("lifetime"), "{text}");

    // Stats count them under no status and as no member.
    let out = s.cmd().args(["stats", "--json"]).assert().success();
    let stats: Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    let team = &stats["team"];
    for status in team["by_status"].as_array().unwrap() {
        assert_eq!(status["memberships"], 0, "{status}");
    }
    assert_eq!(team["member_memberships"], 0, "{team}");
    assert_eq!(team["members"], 0, "{team}");
}
