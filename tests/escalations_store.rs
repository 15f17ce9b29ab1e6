//! Escalations in the store: opening, the timeline, refusals, views and sorting, and survival
//! across re-imports.

mod escalations_support;

use escalations_support::*;
use rollcall::config::EscalationsConfig;
use rollcall::domain::escalation::{Category, EventKind, Priority, RuleError, Status, View};
use rollcall::storage::audit;
use rollcall::storage::escalations::{self, Error, NewEscalation};
use rollcall::storage::{OpenMode, Store};

fn targets() -> EscalationsConfig {
    EscalationsConfig::default()
}

#[test]
fn opening_records_the_case_its_due_date_and_who_opened_it() {
    let mut store = Store::open_in_memory().unwrap();
    let ada = add_contact(&store.conn, "civicrm", "101", "Ada Lovelace");
    let membership = add_membership(&store.conn, ada, "Individual", "2026-12-01");
    let mut case = new(
        None,
        Category::RenewalPayment,
        Priority::High,
        "Double charged",
        Some("bob"),
    );
    case.membership_id = Some(membership);
    case.description = "Paid twice by card\nwants a refund\n\n".into();
    // Friday: high = 3 working days = Wednesday.
    let id = open(&mut store, "2026-11-20", "ann", &case);

    let detail = escalations::detail(&store.conn, id).unwrap().unwrap();
    assert_eq!(
        detail.row.contact_id,
        Some(ada),
        "linked through the membership"
    );
    assert_eq!(detail.row.crm_id.as_deref(), Some("101"));
    assert_eq!(detail.row.member_name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(detail.row.status, Status::Open);
    assert_eq!(detail.row.due, d("2026-11-25"));
    assert_eq!(detail.row.opened, d("2026-11-20"));
    assert_eq!(detail.row.assignee.as_deref(), Some("bob"));
    assert_eq!(detail.description, "Paid twice by card\nwants a refund");
    assert_eq!(detail.opened_by, "ann");
    assert_eq!(detail.opened_at, "2026-11-20T09:00:00");
    assert_eq!(
        detail.membership.as_deref(),
        Some("Individual, ends 2026-12-01")
    );
    assert_eq!(detail.source.as_deref(), Some("civicrm"));

    let kinds: Vec<_> = detail.timeline.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::Opened, EventKind::Assignee]);
    assert_eq!(detail.timeline[1].new_value.as_deref(), Some("bob"));
    assert!(detail.timeline.iter().all(|e| e.staff == "ann"));

    let lines = audit::lines(&store.conn, Some(ada), None).unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].action, "escalation.opened");
    assert_eq!(lines[0].staff, "ann");
    assert_eq!(lines[0].entity_id, Some(id));
    let after = lines[0].after.as_deref().unwrap();
    assert!(after.contains("\"due_date\":\"2026-11-25\""), "{after}");
    assert!(
        !after.contains("refund"),
        "the description is not copied into the audit trail: {after}"
    );
}

/// kind, old, new, body, staff, at.
type Entry<'a> = (
    EventKind,
    Option<&'a str>,
    Option<&'a str>,
    &'a str,
    &'a str,
    &'a str,
);

#[test]
fn the_timeline_records_every_change_with_who_when_and_old_to_new() {
    let mut store = Store::open_in_memory().unwrap();
    let ada = add_contact(&store.conn, "civicrm", "101", "Ada Lovelace");
    let id = open(
        &mut store,
        "2026-11-16",
        "ann",
        &new(
            Some(ada),
            Category::Complaint,
            Priority::Normal,
            "Rude phone call",
            None,
        ),
    );
    let bob = clock("2026-11-17", "bob");
    escalations::set_assignee(&mut store, &bob, id, Some("bob")).unwrap();
    escalations::set_status(&mut store, &bob, id, Status::InProgress).unwrap();
    let bob2 = clock("2026-11-18", "bob");
    let due = escalations::set_priority(&mut store, &bob2, &targets(), id, Priority::High).unwrap();
    assert_eq!(
        due,
        d("2026-11-19"),
        "3 working days from the day it was opened, not from today"
    );
    escalations::comment(&mut store, &bob2, id, "Called back, left a message").unwrap();
    escalations::set_status(&mut store, &bob2, id, Status::WaitingOnMember).unwrap();
    let ann = clock("2026-11-20", "ann");
    escalations::resolve(&mut store, &ann, id, "Apologised; member satisfied").unwrap();
    let carol = clock("2026-11-23", "carol");
    escalations::reopen(&mut store, &carol, id, "Member wrote again").unwrap();

    let timeline = escalations::timeline(&store.conn, id).unwrap();
    let got: Vec<Entry> = timeline
        .iter()
        .map(|e| {
            (
                e.kind,
                e.old_value.as_deref(),
                e.new_value.as_deref(),
                e.body.as_str(),
                e.staff.as_str(),
                e.at.as_str(),
            )
        })
        .collect();
    use EventKind as K;
    assert_eq!(
        got,
        vec![
            (
                K::Opened,
                None,
                Some("open"),
                "",
                "ann",
                "2026-11-16T09:00:00"
            ),
            (
                K::Assignee,
                None,
                Some("bob"),
                "",
                "bob",
                "2026-11-17T09:00:00"
            ),
            (
                K::Status,
                Some("open"),
                Some("in_progress"),
                "",
                "bob",
                "2026-11-17T09:00:00"
            ),
            (
                K::Priority,
                Some("normal"),
                Some("high"),
                "due 2026-11-19 (was 2026-11-30)",
                "bob",
                "2026-11-18T09:00:00"
            ),
            (
                K::Comment,
                None,
                None,
                "Called back, left a message",
                "bob",
                "2026-11-18T09:00:00"
            ),
            (
                K::Status,
                Some("in_progress"),
                Some("waiting_on_member"),
                "",
                "bob",
                "2026-11-18T09:00:00"
            ),
            (
                K::Resolved,
                Some("waiting_on_member"),
                Some("resolved"),
                "Apologised; member satisfied",
                "ann",
                "2026-11-20T09:00:00"
            ),
            (
                K::Reopened,
                Some("resolved"),
                Some("open"),
                "Member wrote again",
                "carol",
                "2026-11-23T09:00:00"
            ),
        ]
    );

    let detail = escalations::detail(&store.conn, id).unwrap().unwrap();
    assert_eq!(detail.row.status, Status::Open);
    assert_eq!(detail.resolved_at, None, "reopening clears the resolution");
    assert_eq!(detail.resolution, "");
    assert_eq!(detail.row.due, d("2026-11-19"), "the due date stands");

    let actions: Vec<String> = audit::lines(&store.conn, Some(ada), None)
        .unwrap()
        .into_iter()
        .map(|l| format!("{} {} {}", l.at, l.staff, l.action))
        .collect();
    assert_eq!(
        actions,
        [
            "2026-11-16T09:00:00 ann escalation.opened",
            "2026-11-17T09:00:00 bob escalation.assignee",
            "2026-11-17T09:00:00 bob escalation.status",
            "2026-11-18T09:00:00 bob escalation.priority",
            "2026-11-18T09:00:00 bob escalation.comment",
            "2026-11-18T09:00:00 bob escalation.status",
            "2026-11-20T09:00:00 ann escalation.resolved",
            "2026-11-23T09:00:00 carol escalation.reopened",
        ]
    );
}

#[test]
fn resolving_stores_the_note_and_date() {
    let mut store = Store::open_in_memory().unwrap();
    let id = open(
        &mut store,
        "2026-11-16",
        "ann",
        &new(None, Category::Other, Priority::Low, "Office move", None),
    );
    escalations::resolve(&mut store, &clock("2026-11-18", "ann"), id, "  Done  ").unwrap();
    let detail = escalations::detail(&store.conn, id).unwrap().unwrap();
    assert_eq!(detail.row.status, Status::Resolved);
    assert_eq!(detail.resolution, "Done");
    assert_eq!(detail.resolved_at.as_deref(), Some("2026-11-18T09:00:00"));
    assert_eq!(detail.row.resolved_on, Some(d("2026-11-18")));
    assert_eq!(detail.row.member_name, None, "not about a member");
}

#[test]
fn impossible_changes_are_refused_and_leave_the_database_as_it_was() {
    let mut store = Store::open_in_memory().unwrap();
    let id = open(
        &mut store,
        "2026-11-16",
        "ann",
        &new(
            None,
            Category::Complaint,
            Priority::Normal,
            "Complaint",
            Some("ann"),
        ),
    );
    let ann = clock("2026-11-17", "ann");
    let snapshot = |store: &Store| {
        (
            escalations::detail(&store.conn, id).unwrap(),
            count(&store.conn, "audit_log"),
            count(&store.conn, "escalation_events"),
        )
    };
    let before = snapshot(&store);

    let refusals: Vec<(Error, &str)> = vec![
        (
            escalations::resolve(&mut store, &ann, id, "  ").unwrap_err(),
            "a resolution note is required",
        ),
        (
            escalations::set_status(&mut store, &ann, id, Status::Open).unwrap_err(),
            "already open",
        ),
        (
            escalations::set_status(&mut store, &ann, id, Status::WaitingOnMember).unwrap_err(),
            "cannot go to waiting on member",
        ),
        (
            escalations::set_status(&mut store, &ann, id, Status::Resolved).unwrap_err(),
            "resolving needs a resolution note",
        ),
        (
            escalations::reopen(&mut store, &ann, id, "").unwrap_err(),
            "only a resolved escalation can be reopened",
        ),
        (
            escalations::set_assignee(&mut store, &ann, id, Some("ann")).unwrap_err(),
            "already has that assignee",
        ),
        (
            escalations::set_priority(&mut store, &ann, &targets(), id, Priority::Normal)
                .unwrap_err(),
            "already normal",
        ),
        (
            escalations::comment(&mut store, &ann, id, " \n ").unwrap_err(),
            "cannot be empty",
        ),
        (
            escalations::comment(&mut store, &ann, 999, "hello").unwrap_err(),
            "escalation #999 does not exist",
        ),
    ];
    for (err, says) in &refusals {
        assert!(
            err.to_string().contains(says),
            "`{err}` should say `{says}`"
        );
    }
    assert_eq!(snapshot(&store), before, "nothing was written");

    escalations::resolve(&mut store, &ann, id, "Sorted").unwrap();
    let before = snapshot(&store);
    for err in [
        escalations::set_status(&mut store, &ann, id, Status::InProgress).unwrap_err(),
        escalations::set_assignee(&mut store, &ann, id, None).unwrap_err(),
        escalations::set_priority(&mut store, &ann, &targets(), id, Priority::Urgent).unwrap_err(),
    ] {
        assert!(
            matches!(err, Error::Rule(RuleError::ResolvedIsClosed)),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "the escalation is resolved; reopen it first"
        );
    }
    assert!(matches!(
        escalations::resolve(&mut store, &ann, id, "again").unwrap_err(),
        Error::Rule(RuleError::AlreadyResolved)
    ));
    assert_eq!(snapshot(&store), before);
    // A comment on a resolved case is kept.
    escalations::comment(&mut store, &ann, id, "Member thanked us").unwrap();
}

#[test]
fn a_priority_change_counts_from_the_opening_day_but_a_data_protection_month_stands() {
    let mut store = Store::open_in_memory().unwrap();
    let later = clock("2026-11-27", "ann");
    let complaint = open(
        &mut store,
        "2026-11-16",
        "ann",
        &new(None, Category::Complaint, Priority::Low, "Slow reply", None),
    );
    let due =
        escalations::set_priority(&mut store, &later, &targets(), complaint, Priority::Urgent)
            .unwrap();
    assert_eq!(due, d("2026-11-17"));

    let dp = open(
        &mut store,
        "2026-01-31",
        "ann",
        &new(
            None,
            Category::DataProtection,
            Priority::Normal,
            "Subject access request",
            None,
        ),
    );
    let due =
        escalations::set_priority(&mut store, &later, &targets(), dp, Priority::Urgent).unwrap();
    assert_eq!(due, d("2026-02-28"));
    let last = escalations::timeline(&store.conn, dp)
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(last.body, "due 2026-02-28 (unchanged)");
}

#[test]
fn views_filter_and_sort_by_due_date() {
    let mut store = Store::open_in_memory().unwrap();
    let today = d("2026-11-23");
    // Titles name what each case is for the assertions below.
    let a = open(
        &mut store,
        "2026-11-02",
        "ann",
        &new(
            None,
            Category::Complaint,
            Priority::Normal,
            "mine late",
            Some("ann"),
        ),
    ); // due 11-16
    let b = open(
        &mut store,
        "2026-11-20",
        "bob",
        &new(
            None,
            Category::Complaint,
            Priority::Urgent,
            "mine soon",
            Some("ann"),
        ),
    ); // due 11-23
    let c = open(
        &mut store,
        "2026-11-19",
        "ann",
        &new(None, Category::Other, Priority::Urgent, "nobody late", None),
    ); // due 11-20
    let e = open(
        &mut store,
        "2026-11-23",
        "ann",
        &new(
            None,
            Category::Other,
            Priority::Low,
            "bob later",
            Some("bob"),
        ),
    ); // due 12-21
    let f = open(
        &mut store,
        "2026-11-19",
        "ann",
        &new(
            None,
            Category::Complaint,
            Priority::High,
            "nobody soon",
            None,
        ),
    ); // due 11-24
    let g = open(
        &mut store,
        "2026-11-13",
        "ann",
        &new(
            None,
            Category::Other,
            Priority::Urgent,
            "done late",
            Some("ann"),
        ),
    ); // due 11-16, resolved
    let h = open(
        &mut store,
        "2026-11-18",
        "ann",
        &new(
            None,
            Category::Other,
            Priority::Normal,
            "done recently",
            None,
        ),
    );
    escalations::resolve(&mut store, &clock("2026-11-18", "ann"), g, "fixed").unwrap();
    escalations::resolve(&mut store, &clock("2026-11-21", "ann"), h, "fixed").unwrap();
    // Same due date as c (11-20), higher priority wins ties: urgent c opened 11-19 vs. a new
    // high one opened 11-17 (due 11-20).
    let i = open(
        &mut store,
        "2026-11-17",
        "ann",
        &new(
            None,
            Category::Other,
            Priority::High,
            "nobody late too",
            None,
        ),
    );

    let ids = |view: View| -> Vec<i64> {
        escalations::list(&store.conn, view, "ann", today)
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect()
    };
    assert_eq!(ids(View::Mine), [a, b]);
    assert_eq!(ids(View::Unassigned), [c, i, f]);
    assert_eq!(
        ids(View::Overdue),
        [a, c, i],
        "due before today; due today is not late"
    );
    assert_eq!(ids(View::Open), [a, c, i, b, f, e]);
    assert_eq!(ids(View::Resolved), [h, g], "most recently resolved first");
    assert_eq!(
        ids(View::All),
        [g, a, c, i, b, f, h, e],
        "ties: the more urgent first"
    );

    let counts = escalations::counts(&store.conn, "ann", today).unwrap();
    for view in View::PANE {
        assert_eq!(counts.of(view), ids(view).len() as i64, "{view:?}");
    }
    // Mine is the user's own: bob sees his.
    let bobs: Vec<i64> = escalations::list(&store.conn, View::Mine, "bob", today)
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(bobs, [e]);
}

#[test]
fn escalations_survive_a_re_import_untouched() {
    let mut store = Store::open_in_memory().unwrap();
    let ada = add_contact(&store.conn, "civicrm", "101", "Ada Lovelace");
    let membership = add_membership(&store.conn, ada, "Individual", "2026-12-01");
    let mut case = new(
        Some(ada),
        Category::RenewalPayment,
        Priority::Normal,
        "Renewal problem",
        Some("ann"),
    );
    case.membership_id = Some(membership);
    let id = open(&mut store, "2026-11-16", "ann", &case);
    escalations::comment(&mut store, &clock("2026-11-17", "ann"), id, "Rang her").unwrap();
    let before = escalations::detail(&store.conn, id).unwrap().unwrap();
    let rows_before: Vec<(i64, String)> = store
        .conn
        .prepare(
            "SELECT id, title || status || due_date || COALESCE(assignee, '') FROM escalations",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();

    // What a re-import does: a new run, contacts and memberships updated in place by
    // (source, CRM id), the membership renewed, later missing from a full export.
    store
        .conn
        .execute_batch(
            "INSERT INTO import_runs (id, started_at, finished_at, staff, as_of, file_name,
                 file_size, file_sha256, profile, source, encoding, date_order)
             VALUES (7, '2026-11-24T08:00:00', '2026-11-24T08:01:00', 'ann', '2026-11-24',
                 'export.csv', 1, 'x', 'civicrm', 'civicrm', 'utf-8', 'iso');
             UPDATE contacts SET display_name = 'Ada King', sort_name = 'King, Ada',
                 email = 'ada@example.org', crm_hash = 42, last_import_id = 7
             WHERE source = 'civicrm' AND crm_id = '101';
             UPDATE memberships SET end_date = '2027-12-01', crm_hash = 43, last_import_id = 7;
             INSERT INTO membership_events (membership_id, import_id, kind, old_value,
                 new_value, occurred_on)
             SELECT id, 7, 'renewed', '2026-12-01', '2027-12-01', '2026-11-24' FROM memberships;
             UPDATE memberships SET missing_since = 7;",
        )
        .unwrap();

    let after = escalations::detail(&store.conn, id).unwrap().unwrap();
    assert_eq!(after.timeline, before.timeline);
    assert_eq!(after.description, before.description);
    assert_eq!(after.row.contact_id, Some(ada));
    assert_eq!(
        after.row.member_name.as_deref(),
        Some("Ada King"),
        "shows the CRM's new name"
    );
    assert_eq!(
        after.membership.as_deref(),
        Some("Individual, ends 2027-12-01")
    );
    let rows_after: Vec<(i64, String)> = store
        .conn
        .prepare(
            "SELECT id, title || status || due_date || COALESCE(assignee, '') FROM escalations",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows_after, rows_before);
    let mine = escalations::list(&store.conn, View::Mine, "ann", d("2026-11-24")).unwrap();
    assert_eq!(mine.len(), 1, "still in the queue");
}

#[test]
fn a_read_only_store_refuses_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    let mut store = Store::open(&path, OpenMode::ReadWrite).unwrap();
    let id = open(
        &mut store,
        "2026-11-16",
        "ann",
        &new(
            None,
            Category::Complaint,
            Priority::Normal,
            "Complaint",
            None,
        ),
    );
    drop(store);
    let mut store = Store::open(&path, OpenMode::ReadOnly).unwrap();
    let ann = clock("2026-11-17", "ann");
    let errors = [
        escalations::open(
            &mut store,
            &ann,
            &targets(),
            &new(None, Category::Other, Priority::Low, "x", None),
        )
        .unwrap_err(),
        escalations::set_status(&mut store, &ann, id, Status::InProgress).unwrap_err(),
        escalations::set_assignee(&mut store, &ann, id, Some("ann")).unwrap_err(),
        escalations::set_priority(&mut store, &ann, &targets(), id, Priority::High).unwrap_err(),
        escalations::comment(&mut store, &ann, id, "hello").unwrap_err(),
        escalations::resolve(&mut store, &ann, id, "done").unwrap_err(),
        escalations::reopen(&mut store, &ann, id, "").unwrap_err(),
    ];
    for err in errors {
        assert!(
            err.to_string().starts_with("database is in read-only mode"),
            "{err}"
        );
    }
    assert_eq!(count(&store.conn, "escalations"), 1);
    assert_eq!(count(&store.conn, "escalation_events"), 1);
}

#[test]
fn a_contact_is_found_by_crm_id_and_source() {
    let store = Store::open_in_memory().unwrap();
    let ada = add_contact(&store.conn, "civicrm", "101", "Ada Lovelace");
    let other = add_contact(&store.conn, "nationbuilder", "101", "Someone Else");
    let ben = add_contact(&store.conn, "civicrm", "102", "Ben Okafor");
    let conn = &store.conn;
    assert_eq!(
        escalations::contact_by_crm_id(conn, "102", None).unwrap(),
        ben
    );
    assert_eq!(
        escalations::contact_by_crm_id(conn, "101", Some("civicrm")).unwrap(),
        ada
    );
    assert_eq!(
        escalations::contact_by_crm_id(conn, "101", Some("nationbuilder")).unwrap(),
        other
    );
    let err = escalations::contact_by_crm_id(conn, "101", None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "CRM id `101` belongs to contacts from more than one source (civicrm, nationbuilder); \
         say which with --source"
    );
    let err = escalations::contact_by_crm_id(conn, "999", None).unwrap_err();
    assert_eq!(err.to_string(), "no contact has CRM id `999`");
    let err = escalations::contact_by_crm_id(conn, "102", Some("nationbuilder")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no contact has CRM id `102` in source `nationbuilder`"
    );
}

#[test]
fn a_membership_must_belong_to_the_contact() {
    let mut store = Store::open_in_memory().unwrap();
    let ada = add_contact(&store.conn, "civicrm", "101", "Ada Lovelace");
    let ben = add_contact(&store.conn, "civicrm", "102", "Ben Okafor");
    let bens = add_membership(&store.conn, ben, "Individual", "2026-12-01");
    let case = NewEscalation {
        membership_id: Some(bens),
        ..new(
            Some(ada),
            Category::RenewalPayment,
            Priority::Normal,
            "x",
            None,
        )
    };
    let err =
        escalations::open(&mut store, &clock("2026-11-16", "ann"), &targets(), &case).unwrap_err();
    assert!(err.to_string().contains("does not belong"), "{err}");
    let case = new(Some(9999), Category::Other, Priority::Normal, "x", None);
    let err =
        escalations::open(&mut store, &clock("2026-11-16", "ann"), &targets(), &case).unwrap_err();
    assert_eq!(err.to_string(), "no contact with rollcall id 9999");
    assert_eq!(count(&store.conn, "escalations"), 0);
    assert_eq!(count(&store.conn, "audit_log"), 0);
}
