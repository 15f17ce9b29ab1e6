//! Working the renewals queue: contact attempts (single and bulk), next-action dates, notes,
//! assignments, undo, the audit trail, and renewal credit across a re-import.

mod renewals_support;

use renewals_support::*;
use rollcall::domain::renewal::{Channel, Outcome, QueueFilter, Windows, arrange};
use rollcall::storage::renewals::{self, NewAttempt, Undo};
use rollcall::storage::{OpenMode, Store};

const W: Windows = Windows {
    due_within_days: 30,
    lapsed_within_days: 90,
};

fn attempt(channel: Channel, outcome: Outcome) -> NewAttempt {
    NewAttempt {
        channel,
        outcome,
        note: String::new(),
    }
}

#[test]
fn a_contact_attempt_records_who_when_and_an_audit_line() {
    let mut store = Store::open_in_memory().unwrap();
    let t = insert(&store.conn, &member("Alys Jones", "2026-12-01"));
    let mut a = attempt(Channel::Phone, Outcome::LeftMessage);
    a.note = "rang the landline".into();
    let undo = renewals::log_attempts(&mut store, &clock("2026-11-23"), &[t], &a).unwrap();
    let Undo::Attempts(ids) = &undo else {
        panic!("{undo:?}")
    };
    let (channel, outcome, note, at, staff, batch): (String, String, String, String, String, Option<i64>) = store
        .conn
        .query_row(
            "SELECT channel, outcome, note, attempted_at, staff, batch FROM contact_attempts WHERE id = ?1",
            [ids[0]],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .unwrap();
    assert_eq!(
        (
            channel.as_str(),
            outcome.as_str(),
            note.as_str(),
            at.as_str(),
            staff.as_str(),
            batch
        ),
        (
            "phone",
            "left_message",
            "rang the landline",
            "2026-11-23T09:00:00",
            "ann",
            None
        )
    );
    let lines = rollcall::storage::audit::lines(&store.conn, Some(t.contact_id), None).unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].action, "log_contact_attempt");
    assert_eq!(lines[0].staff, "ann");
    assert!(
        lines[0]
            .after
            .as_deref()
            .unwrap()
            .contains("\"left_message\"")
    );
}

#[test]
fn bulk_attempt_is_one_batch_and_undoes_as_one() {
    let mut store = Store::open_in_memory().unwrap();
    let targets: Vec<_> = (0..40)
        .map(|i| {
            insert(
                &store.conn,
                &member(&format!("Member {i:02}"), "2026-12-01"),
            )
        })
        .collect();
    let clk = clock("2026-11-23");
    let undo = renewals::log_attempts(
        &mut store,
        &clk,
        &targets,
        &attempt(Channel::Email, Outcome::LeftMessage),
    )
    .unwrap();
    let c = &store.conn;
    assert_eq!(count(c, "SELECT COUNT(*) FROM contact_attempts"), 40);
    assert_eq!(
        count(c, "SELECT COUNT(DISTINCT batch) FROM contact_attempts"),
        1
    );
    assert_eq!(
        count(
            c,
            "SELECT COUNT(*) FROM contact_attempts WHERE batch IS NULL"
        ),
        0
    );
    assert_eq!(
        count(
            c,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'log_contact_attempt'"
        ),
        40
    );

    let rows = renewals::queue(&store.conn, d("2026-11-23"), W, None).unwrap();
    assert!(
        rows.iter()
            .all(|r| r.last_contact.as_ref().unwrap().how() == "email, sent")
    );

    assert_eq!(
        renewals::undo(&mut store, &clk, &undo).unwrap(),
        "40 contact attempts"
    );
    let c = &store.conn;
    assert_eq!(count(c, "SELECT COUNT(*) FROM contact_attempts"), 0);
    assert_eq!(
        count(
            c,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'undo_contact_attempt'"
        ),
        40
    );
    // Undoing twice finds nothing to undo and changes nothing.
    let err = renewals::undo(&mut store, &clk, &undo)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no longer there"), "{err}");
    assert_eq!(count(&store.conn, "SELECT COUNT(*) FROM audit_log"), 80);
}

#[test]
fn a_second_batch_gets_its_own_id() {
    let mut store = Store::open_in_memory().unwrap();
    let a = insert(&store.conn, &member("A One", "2026-12-01"));
    let b = insert(&store.conn, &member("B Two", "2026-12-01"));
    let clk = clock("2026-11-23");
    let lett = attempt(Channel::Letter, Outcome::LeftMessage);
    renewals::log_attempts(&mut store, &clk, &[a, b], &lett).unwrap();
    let second = renewals::log_attempts(&mut store, &clk, &[a, b], &lett).unwrap();
    assert_eq!(
        count(
            &store.conn,
            "SELECT COUNT(DISTINCT batch) FROM contact_attempts"
        ),
        2
    );
    renewals::undo(&mut store, &clk, &second).unwrap();
    assert_eq!(
        count(&store.conn, "SELECT COUNT(*) FROM contact_attempts"),
        2
    );
}

#[test]
fn snooze_and_its_undo_restore_the_previous_date() {
    let mut store = Store::open_in_memory().unwrap();
    let t = insert(&store.conn, &member("Alys Jones", "2026-12-01"));
    renewals::snooze(
        &mut store,
        &clock("2026-11-20"),
        &[t],
        Some(d("2026-11-27")),
    )
    .unwrap();
    let clk = clock("2026-11-23");
    let undo = renewals::snooze(&mut store, &clk, &[t], Some(d("2026-12-05"))).unwrap();
    let until = |s: &Store| -> Option<String> {
        s.conn
            .query_row("SELECT until FROM snoozes", [], |r| r.get(0))
            .ok()
    };
    assert_eq!(until(&store).as_deref(), Some("2026-12-05"));
    renewals::undo(&mut store, &clk, &undo).unwrap();
    assert_eq!(until(&store).as_deref(), Some("2026-11-27"));
    let staff: String = store
        .conn
        .query_row("SELECT staff FROM snoozes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(staff, "ann");

    // Clearing, then undoing the clear.
    let cleared = renewals::snooze(&mut store, &clk, &[t], None).unwrap();
    assert_eq!(until(&store), None);
    renewals::undo(&mut store, &clk, &cleared).unwrap();
    assert_eq!(until(&store).as_deref(), Some("2026-11-27"));
    let actions: Vec<String> =
        rollcall::storage::audit::lines(&store.conn, Some(t.contact_id), None)
            .unwrap()
            .into_iter()
            .map(|l| l.action)
            .collect();
    assert_eq!(
        actions,
        vec![
            "snooze",
            "snooze",
            "undo_snooze",
            "clear_snooze",
            "undo_snooze"
        ]
    );
}

#[test]
fn undo_refuses_when_someone_changed_it_since() {
    let mut store = Store::open_in_memory().unwrap();
    let t = insert(&store.conn, &member("Alys Jones", "2026-12-01"));
    let ann = clock("2026-11-23");
    let bob = rollcall::Clock::fixed(d("2026-11-24"), "bob");
    let mine = renewals::snooze(&mut store, &ann, &[t], Some(d("2026-12-05"))).unwrap();
    renewals::snooze(&mut store, &bob, &[t], Some(d("2026-12-10"))).unwrap();
    let err = renewals::undo(&mut store, &ann, &mine)
        .unwrap_err()
        .to_string();
    assert!(err.contains("changed since"), "{err}");
    let until: String = store
        .conn
        .query_row("SELECT until FROM snoozes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(until, "2026-12-10");

    let assigned = renewals::assign(&mut store, &ann, &[t.contact_id], Some("ann")).unwrap();
    renewals::assign(&mut store, &bob, &[t.contact_id], Some("bob")).unwrap();
    assert!(renewals::undo(&mut store, &ann, &assigned).is_err());
}

#[test]
fn notes_and_assignments_undo() {
    let mut store = Store::open_in_memory().unwrap();
    let t = insert(&store.conn, &member("Alys Jones", "2026-12-01"));
    let t2 = add_membership(&store.conn, t.contact_id, &member("x", "2026-12-20"));
    let clk = clock("2026-11-23");
    assert!(renewals::add_note(&mut store, &clk, t, "   ").is_err());
    let note = renewals::add_note(&mut store, &clk, t, "Prefers evenings").unwrap();
    let (context, body, staff): (String, String, String) = store
        .conn
        .query_row("SELECT context, body, staff FROM notes", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(
        (context.as_str(), body.as_str(), staff.as_str()),
        ("renewals", "Prefers evenings", "ann")
    );
    renewals::undo(&mut store, &clk, &note).unwrap();
    assert_eq!(count(&store.conn, "SELECT COUNT(*) FROM notes"), 0);

    // Two memberships of one contact: one assignment.
    let undo = renewals::assign(
        &mut store,
        &clk,
        &[t.contact_id, t2.contact_id],
        Some("bob"),
    )
    .unwrap();
    assert_eq!(
        count(
            &store.conn,
            "SELECT COUNT(*) FROM assignments WHERE queue = 'renewals'"
        ),
        1
    );
    let rows = renewals::queue(&store.conn, d("2026-11-23"), W, None).unwrap();
    assert!(rows.iter().all(|r| r.assignee.as_deref() == Some("bob")));
    renewals::undo(&mut store, &clk, &undo).unwrap();
    assert_eq!(count(&store.conn, "SELECT COUNT(*) FROM assignments"), 0);
}

#[test]
fn read_only_refuses_every_write_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    let t = {
        let store = Store::open(&path, OpenMode::ReadWrite).unwrap();
        insert(&store.conn, &member("Alys Jones", "2026-12-01"))
    };
    let mut store = Store::open(&path, OpenMode::ReadOnly).unwrap();
    let clk = clock("2026-11-23");
    let errors = [
        renewals::log_attempts(
            &mut store,
            &clk,
            &[t],
            &attempt(Channel::Phone, Outcome::NoAnswer),
        )
        .unwrap_err(),
        renewals::snooze(&mut store, &clk, &[t], Some(d("2026-12-01"))).unwrap_err(),
        renewals::add_note(&mut store, &clk, t, "hello").unwrap_err(),
        renewals::assign(&mut store, &clk, &[t.contact_id], Some("ann")).unwrap_err(),
    ];
    for e in errors {
        assert!(e.to_string().contains("read-only"), "{e}");
    }
    assert_eq!(count(&store.conn, "SELECT COUNT(*) FROM audit_log"), 0);
}

#[test]
fn renewal_credit_across_a_re_import() {
    let mut store = Store::open_in_memory().unwrap();
    let c = &store.conn;
    let chased = insert(c, &member("Chased Member", "2026-11-30"));
    let quiet = insert(c, &member("Quiet Member", "2026-12-02"));
    let still_due = insert(c, &member("Still Due", "2026-12-03"));
    let ann = clock("2026-11-23");
    let bob = rollcall::Clock::fixed(d("2026-11-24"), "bob");
    renewals::log_attempts(
        &mut store,
        &ann,
        &[chased],
        &attempt(Channel::Phone, Outcome::NoAnswer),
    )
    .unwrap();
    renewals::log_attempts(
        &mut store,
        &bob,
        &[chased],
        &attempt(Channel::Phone, Outcome::WillRenew),
    )
    .unwrap();
    renewals::log_attempts(
        &mut store,
        &ann,
        &[still_due],
        &attempt(Channel::Email, Outcome::LeftMessage),
    )
    .unwrap();
    renewals::snooze(&mut store, &ann, &[chased], Some(d("2026-11-28"))).unwrap();
    renewals::add_note(&mut store, &ann, chased, "Will pay by card").unwrap();

    // Before the import nothing is renewed.
    assert_eq!(
        renewals::renewed_in_last_import(&store.conn)
            .unwrap()
            .headline(),
        None
    );

    // A member who died since: the import sees the renewal, no list of rollcall's shows them.
    let deceased = insert(&store.conn, &member("Late Member", "2026-12-04"));
    store
        .conn
        .execute(
            "UPDATE contacts SET is_deceased = 1 WHERE id = ?1",
            [deceased.contact_id],
        )
        .unwrap();
    simulate_renewal_import(
        &store,
        "2026-11-25",
        &[
            (chased, "2027-11-30"),
            (quiet, "2027-12-02"),
            (deceased, "2027-12-04"),
        ],
    );

    let today = d("2026-11-25");
    let rows = renewals::queue(&store.conn, today, W, None).unwrap();
    let everything = QueueFilter {
        show_set_aside: true,
        show_auto_renew: true,
        ..Default::default()
    };
    let names: Vec<&str> = arrange(&rows, &everything, today, "ann")
        .order
        .iter()
        .map(|&i| rows[i].name.as_str())
        .collect();
    assert_eq!(names, vec!["Still Due"]);

    let summary = renewals::renewed_in_last_import(&store.conn).unwrap();
    assert_eq!(summary.rows.len(), 2);
    let credited = summary.rows[0].credited.as_ref().unwrap();
    assert_eq!(summary.rows[0].name, "Chased Member");
    assert_eq!(
        (credited.staff.as_str(), credited.outcome.as_str()),
        ("bob", "will_renew")
    );
    assert_eq!(summary.rows[1].credited, None);
    assert_eq!(
        summary.headline().unwrap(),
        "2 renewed in the last import (2026-11-25), 1 after a contact: bob 1"
    );

    // rollcall's own records survive the import untouched.
    let c = &store.conn;
    assert_eq!(count(c, "SELECT COUNT(*) FROM contact_attempts"), 3);
    assert_eq!(count(c, "SELECT COUNT(*) FROM notes"), 1);
    assert_eq!(count(c, "SELECT COUNT(*) FROM snoozes"), 1);

    // The credited attempt can no longer be undone.
    let credited_id = credited.id;
    let err = renewals::undo(&mut store, &ann, &Undo::Attempts(vec![credited_id]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("credited"), "{err}");

    // A later import with no renewals: the summary follows the latest import.
    simulate_renewal_import(&store, "2026-11-26", &[]);
    let later = renewals::renewed_in_last_import(&store.conn).unwrap();
    assert_eq!(
        later.headline().unwrap(),
        "0 renewed in the last import (2026-11-26)"
    );
}

#[test]
fn credit_goes_to_the_latest_creditable_attempt_before_the_import_only() {
    let mut store = Store::open_in_memory().unwrap();
    let t = insert(&store.conn, &member("Alys Jones", "2026-12-01"));
    renewals::log_attempts(
        &mut store,
        &clock("2026-11-20"),
        &[t],
        &attempt(Channel::Phone, Outcome::WillRenew),
    )
    .unwrap();
    // Nobody answered the next call: the promise keeps the credit.
    renewals::log_attempts(
        &mut store,
        &clock("2026-11-22"),
        &[t],
        &attempt(Channel::Phone, Outcome::NoAnswer),
    )
    .unwrap();
    // Logged after the import's moment: not what made them renew.
    renewals::log_attempts(
        &mut store,
        &clock("2026-11-26"),
        &[t],
        &attempt(Channel::Email, Outcome::Renewed),
    )
    .unwrap();
    let id = renewals::creditable_attempt(
        &store.conn,
        t.membership_id,
        t.contact_id,
        "2026-11-25T18:00:00",
    )
    .unwrap();
    let outcome: String = store
        .conn
        .query_row(
            "SELECT outcome FROM contact_attempts WHERE id = ?1",
            [id.unwrap()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(outcome, "will_renew");
    assert_eq!(
        renewals::creditable_attempt(
            &store.conn,
            t.membership_id,
            t.contact_id,
            "2026-11-01T00:00:00"
        )
        .unwrap(),
        None
    );
}

#[test]
fn exported_attempts_are_not_undone() {
    let mut store = Store::open_in_memory().unwrap();
    let t = insert(&store.conn, &member("Alys Jones", "2026-12-01"));
    let clk = clock("2026-11-23");
    let undo = renewals::log_attempts(
        &mut store,
        &clk,
        &[t],
        &attempt(Channel::Phone, Outcome::NoAnswer),
    )
    .unwrap();
    let Undo::Attempts(ids) = &undo else { panic!() };
    store
        .conn
        .execute(
            "INSERT INTO exported_activities VALUES (?1, '2026-11-23T10:00:00')",
            [format!("attempt:{}", ids[0])],
        )
        .unwrap();
    let err = renewals::undo(&mut store, &clk, &undo)
        .unwrap_err()
        .to_string();
    assert!(err.contains("exported"), "{err}");
    assert_eq!(
        count(&store.conn, "SELECT COUNT(*) FROM contact_attempts"),
        1
    );
}
