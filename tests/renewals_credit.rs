//! The renewal credit rule (docs/renewals.md, "Renewal credit"): which contact attempts a
//! renewal is credited to, counted the same by the renewed view, Today and `rollcall stats`.
//!
//! `civicrm_later.csv` renews memberships 5001 and 5006 of `civicrm_small.csv`.

mod import_support;

use import_support::*;
use serde_json::Value;

const LATER: &str = "2026-12-23";

/// Imports the small export, logs `attempts` (membership, outcome, when, staff), then imports
/// the later export.
fn renewals_after(attempts: &[(&str, &str, &str, &str)]) -> Scratch {
    let s = Scratch::new();
    s.import("civicrm_small.csv", &[]);
    let conn = s.conn();
    for (membership, outcome, at, staff) in attempts {
        conn.execute(
            "INSERT INTO contact_attempts (contact_id, membership_id, channel, outcome,
                                           attempted_at, staff)
             SELECT contact_id, id, 'phone', ?2, ?3, ?4 FROM memberships
             WHERE crm_membership_id = ?1",
            rollcall::storage::sql::params![membership, outcome, at, staff],
        )
        .unwrap();
    }
    s.import_on(LATER, "civicrm_later.csv", &[]);
    s
}

fn stats(s: &Scratch) -> Value {
    let out = s.cmd_on(LATER).args(["stats", "--json"]).assert().success();
    serde_json::from_str(&stdout_of(&out)).unwrap()
}

fn renewed_view(s: &Scratch) -> rollcall::storage::renewals::RenewedSummary {
    rollcall::storage::renewals::renewed_in_last_import(&s.conn()).unwrap()
}

#[test]
fn declined_wrong_number_and_no_answer_earn_no_credit() {
    let s = renewals_after(&[
        ("5001", "declined", "2026-12-01T10:00:00", "ann"),
        ("5006", "no_answer", "2026-12-02T10:00:00", "bob"),
        ("5006", "wrong_number", "2026-12-03T10:00:00", "bob"),
    ]);
    let view = renewed_view(&s);
    assert_eq!(view.rows.len(), 2);
    assert_eq!(view.credited(), 0, "{:?}", view.rows);
    assert_eq!(
        view.headline().unwrap(),
        format!("2 renewed in the last import ({LATER})")
    );
    let figures = stats(&s);
    assert_eq!(figures["since_last_import"]["renewed"], 2);
    assert_eq!(figures["since_last_import"]["renewed_after_contact"], 0);
    assert_eq!(figures["team"]["won_back"], 0, "{}", figures["team"]);
    // The member's timeline does not claim a credit either.
    let conn = s.conn();
    for row in &view.rows {
        let timeline = rollcall::storage::member::timeline(&conn, row.contact_id).unwrap();
        let renewal = timeline
            .iter()
            .find(|e| e.what.starts_with("renewed"))
            .unwrap();
        assert_eq!(renewal.detail, "", "{renewal:?}");
    }
}

#[test]
fn the_latest_creditable_attempt_within_sixty_days_is_credited() {
    let s = renewals_after(&[
        // 113 days before the renewal was seen: too long ago to have caused it.
        ("5001", "will_renew", "2026-09-01T10:00:00", "ann"),
        // A promise, then a call nobody answered: the promise is credited.
        ("5006", "will_renew", "2026-11-20T10:00:00", "bob"),
        ("5006", "no_answer", "2026-11-22T10:00:00", "ann"),
    ]);
    let view = renewed_view(&s);
    assert_eq!(view.credited(), 1, "{:?}", view.rows);
    let credited = view.rows.iter().find(|r| r.credited.is_some()).unwrap();
    let contact = credited.credited.as_ref().unwrap();
    assert_eq!(
        (contact.outcome.as_str(), contact.staff.as_str()),
        ("will_renew", "bob")
    );
    assert_eq!(view.by_staff(), vec![("bob".to_owned(), 1)]);
    let figures = stats(&s);
    assert_eq!(figures["since_last_import"]["renewed_after_contact"], 1);
    assert_eq!(figures["team"]["won_back"], 1);
    let text = stdout_of(&s.cmd_on(LATER).arg("stats").assert().success());
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("of them after a contact"))
        .unwrap_or_else(|| panic!("no after-a-contact line in:\n{text}"));
    assert!(line.ends_with(" 1"), "{line}");
}

#[test]
fn a_left_message_within_the_window_is_credited() {
    let s = renewals_after(&[("5001", "left_message", "2026-11-01T10:00:00", "ann")]);
    let view = renewed_view(&s);
    assert_eq!(view.credited(), 1);
    let credited = view.rows.iter().find(|r| r.credited.is_some()).unwrap();
    let timeline = rollcall::storage::member::timeline(&s.conn(), credited.contact_id).unwrap();
    assert!(
        timeline
            .iter()
            .any(|e| e.detail == "credited to a contact attempt"),
        "{timeline:?}"
    );
}

#[test]
fn today_and_the_renewed_view_count_the_same_renewals() {
    let s = renewals_after(&[]);
    // A renewed member who has since died is left out everywhere, as in every list.
    s.conn()
        .execute(
            "UPDATE contacts SET is_deceased = 1 WHERE id =
               (SELECT contact_id FROM memberships WHERE crm_membership_id = '5006')",
            [],
        )
        .unwrap();
    let view = renewed_view(&s);
    assert_eq!(view.rows.len(), 1);
    assert_eq!(stats(&s)["since_last_import"]["renewed"], 1);
}
