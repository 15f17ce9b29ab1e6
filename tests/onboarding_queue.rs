//! Who is in the onboarding queue: the entry rule, its edges, and what keeps people in it.

mod onboarding_support;

use std::collections::HashMap;

use onboarding_support::*;
use rollcall::config::OnboardingConfig;
use rollcall::domain::onboarding::StepPath;
use rollcall::storage::onboarding::{self, QueueEntry};
use rollcall::storage::{OpenMode, Store};

fn queue(store: &mut Store, clock: &rollcall::Clock) -> HashMap<String, QueueEntry> {
    onboarding::load_queue(store, clock, &OnboardingConfig::default())
        .unwrap()
        .into_iter()
        .map(|e| (e.crm_id.clone(), e))
        .collect()
}

#[test]
fn the_join_window_includes_exactly_window_days_ago_and_not_a_day_more() {
    let mut store = memory_store();
    // 2026-11-23 minus 90 days is 2026-08-25.
    Member::new("1", "Edge In")
        .joined("2026-08-25")
        .insert(&store.conn);
    Member::new("2", "Edge Out")
        .joined("2026-08-24")
        .insert(&store.conn);
    Member::new("3", "Joined Today")
        .joined(TODAY)
        .insert(&store.conn);
    Member::new("4", "Joins Tomorrow")
        .joined("2026-11-24")
        .insert(&store.conn);
    let q = queue(&mut store, &clock());
    let mut ids: Vec<&str> = q.keys().map(String::as_str).collect();
    ids.sort();
    assert_eq!(ids, ["1", "3"]);
    assert_eq!(q["1"].anchor, d("2026-08-25"));
    assert_eq!(q["1"].days_waiting(today()), 90);
}

#[test]
fn the_window_is_configurable() {
    let mut store = memory_store();
    Member::new("1", "Forty Days")
        .joined("2026-10-14")
        .insert(&store.conn);
    Member::new("2", "Thirty Days")
        .joined("2026-10-24")
        .insert(&store.conn);
    let config = OnboardingConfig {
        window_days: 30,
        ..OnboardingConfig::default()
    };
    let q = onboarding::load_queue(&mut store, &clock(), &config).unwrap();
    assert_eq!(
        q.iter().map(|e| e.crm_id.as_str()).collect::<Vec<_>>(),
        ["2"]
    );
}

#[test]
fn a_new_or_pending_status_does_not_make_a_long_standing_member_new() {
    let mut store = memory_store();
    Member::new("1", "Stale New Status")
        .joined("2024-01-01")
        .status("New")
        .insert(&store.conn);
    let renewing = Member::new("2", "Renewal Awaiting Payment")
        .joined("2013-11-07")
        .status("pending")
        .insert(&store.conn);
    // CiviCRM leaves the end date where it was until a pay-later renewal is paid.
    store
        .conn
        .execute(
            "UPDATE memberships SET end_date = '2026-11-06' WHERE contact_id = ?1",
            [renewing],
        )
        .unwrap();
    Member::new("3", "Joined Last Month, Not Paid")
        .joined("2026-10-20")
        .status("Pending")
        .insert(&store.conn);
    let q = queue(&mut store, &clock());
    let mut ids: Vec<&str> = q.keys().map(String::as_str).collect();
    ids.sort();
    assert_eq!(
        ids,
        ["3"],
        "only the member who joined in the window is new"
    );

    // The old member's Pending renewal is in the renewals queue, marked payment pending.
    let windows = rollcall::domain::renewal::Windows {
        due_within_days: 30,
        lapsed_within_days: 90,
    };
    let renewals = rollcall::storage::renewals::queue(&store.conn, today(), windows, None).unwrap();
    let row = renewals
        .iter()
        .find(|r| r.contact_crm_id == "2")
        .expect("the pending renewal is in the renewals queue");
    assert!(row.payment_pending());
    assert!(
        renewals.iter().all(|r| r.contact_crm_id != "3"),
        "a new joiner awaiting a first payment is onboarding's"
    );
}

#[test]
fn a_lapsed_member_who_joins_again_is_a_rejoiner_in_a_view_of_their_own() {
    use rollcall::domain::onboarding::Arrival;
    use rollcall::storage::onboarding::View;
    let mut store = memory_store();
    let back = Member::new("1", "Lapsed And Back")
        .joined("2013-11-07")
        .status("Expired")
        .insert(&store.conn);
    add_membership(&store.conn, back, "1b", Some("2026-11-02"), "New");
    // Still a member, taking a second membership: not new to the organisation at all.
    let member = Member::new("2", "Adds A Youth Membership")
        .joined("2020-03-01")
        .insert(&store.conn);
    store
        .conn
        .execute(
            "UPDATE memberships SET end_date = '2027-02-28' WHERE contact_id = ?1",
            [member],
        )
        .unwrap();
    add_membership(&store.conn, member, "2b", Some("2026-11-05"), "New");
    Member::new("3", "Brand New")
        .joined("2026-11-10")
        .insert(&store.conn);
    let q = queue(&mut store, &clock());
    assert!(!q.contains_key("2"), "an existing member is not onboarded");
    assert_eq!(q["1"].arrival, Arrival::Rejoined);
    assert_eq!(
        q["1"].anchor,
        d("2026-11-02"),
        "counted from the new membership"
    );
    assert_eq!(q["3"].arrival, Arrival::New);
    let path = StepPath::default_path();
    let in_view = |view: View| -> Vec<&str> {
        let mut ids: Vec<&str> = q
            .values()
            .filter(|e| view.shows(e, &e.progress(&path, today()), "ann"))
            .map(|e| e.crm_id.as_str())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(in_view(View::All), ["3"]);
    assert_eq!(in_view(View::Rejoiners), ["1"]);
}

#[test]
fn rows_recorded_by_the_old_status_rule_stay_only_if_work_was_recorded() {
    use rollcall::domain::onboarding::Arrival;
    let mut store = memory_store();
    let untouched = Member::new("1", "Old Pending, Untouched")
        .joined("2013-11-07")
        .status("Pending")
        .insert(&store.conn);
    let worked = Member::new("2", "Old Pending, Worked On")
        .joined("2013-11-07")
        .status("Pending")
        .insert(&store.conn);
    // What the old rule recorded (any New or Pending membership, whatever its join date).
    for contact in [untouched, worked] {
        store
            .conn
            .execute(
                "INSERT INTO onboarding (contact_id, anchor_date, added_by_hand, added_by, added_at)
                 VALUES (?1, '2013-11-07', 0, 'ann', '2026-11-01T09:00:00')",
                [contact],
            )
            .unwrap();
    }
    store
        .conn
        .execute(
            "INSERT INTO onboarding_steps (contact_id, step_key, done_at, done_by)
             VALUES (?1, 'welcome_email', '2026-11-02T09:00:00', 'ann')",
            [worked],
        )
        .unwrap();
    let q = queue(&mut store, &clock());
    assert!(
        !q.contains_key("1"),
        "no longer shown: not new, nothing recorded"
    );
    assert_eq!(
        q["2"].arrival,
        Arrival::NotNew,
        "kept, marked, with its work"
    );
    let recorded: i64 = store
        .conn
        .query_row("SELECT COUNT(*) FROM onboarding", [], |r| r.get(0))
        .unwrap();
    assert_eq!(recorded, 2, "nothing recorded is deleted");
    assert_eq!(
        stored_arrivals(&store),
        [("1".into(), None), ("2".into(), None)],
        "a load with nobody new writes nothing"
    );
    // The next load that records someone stores the old rows' judgement too, so later loads
    // need not read their memberships; the queue is the same.
    Member::new("3", "Brand New")
        .joined("2026-11-10")
        .insert(&store.conn);
    let again = queue(&mut store, &clock());
    assert_eq!(
        stored_arrivals(&store),
        [
            ("1".into(), Some("not_new".into())),
            ("2".into(), Some("not_new".into())),
            ("3".into(), Some("new".into()))
        ]
    );
    assert!(!again.contains_key("1"));
    assert_eq!(
        again["2"].arrival,
        Arrival::NotNew,
        "the same from what was stored"
    );
}

/// Each recorded row's `onboarding.arrival`, by CRM id.
fn stored_arrivals(store: &Store) -> Vec<(String, Option<String>)> {
    store
        .conn
        .prepare(
            "SELECT c.crm_id, o.arrival FROM onboarding o JOIN contacts c ON c.id = o.contact_id
             ORDER BY c.crm_id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn how_a_member_arrived_is_judged_once_when_they_enter_and_kept() {
    use rollcall::domain::onboarding::Arrival;
    let mut store = memory_store();
    let back = Member::new("1", "Lapsed And Back")
        .joined("2013-11-07")
        .status("Expired")
        .insert(&store.conn);
    add_membership(&store.conn, back, "1b", Some("2026-11-02"), "New");
    Member::new("2", "Brand New")
        .joined("2026-11-10")
        .insert(&store.conn);
    let q = queue(&mut store, &clock());
    assert_eq!(
        (q["1"].arrival, q["2"].arrival),
        (Arrival::Rejoined, Arrival::New)
    );
    assert_eq!(
        stored_arrivals(&store),
        [
            ("1".into(), Some("rejoined".into())),
            ("2".into(), Some("new".into()))
        ]
    );
    // A database from before the judgement was stored: judged from the memberships as before,
    // and stored at the next load that may write.
    store
        .conn
        .execute_batch("UPDATE onboarding SET arrival = NULL")
        .unwrap();
    let read_only_way = onboarding::read_queue(&store, &clock(), &OnboardingConfig::default())
        .unwrap()
        .into_iter()
        .map(|e| (e.crm_id, e.arrival))
        .collect::<HashMap<_, _>>();
    assert_eq!(read_only_way["1"], Arrival::Rejoined);
    assert_eq!(read_only_way["2"], Arrival::New);
    Member::new("3", "Also New")
        .joined("2026-11-12")
        .insert(&store.conn);
    queue(&mut store, &clock());
    assert_eq!(
        stored_arrivals(&store),
        [
            ("1".into(), Some("rejoined".into())),
            ("2".into(), Some("new".into())),
            ("3".into(), Some("new".into()))
        ]
    );
}

#[test]
fn a_pending_membership_without_a_join_date_counts_from_the_day_it_was_seen() {
    let mut store = memory_store();
    let contact = Member::new("1", "No Dates")
        .status("Pending")
        .insert(&store.conn);
    store
        .conn
        .execute(
            "UPDATE memberships SET join_date = NULL, start_date = NULL WHERE contact_id = ?1",
            [contact],
        )
        .unwrap();
    let q = queue(&mut store, &clock());
    assert_eq!(q["1"].anchor, today());
}

#[test]
fn cancelled_memberships_and_deceased_contacts_stay_out() {
    let mut store = memory_store();
    Member::new("1", "Cancelled")
        .joined("2026-11-01")
        .status("Cancelled")
        .insert(&store.conn);
    Member::new("2", "Deceased Contact")
        .joined("2026-11-01")
        .deceased()
        .insert(&store.conn);
    Member::new("3", "Deceased Membership")
        .joined("2026-11-01")
        .status("Deceased")
        .insert(&store.conn);
    // A cancelled membership does not keep out a contact with another, qualifying one.
    let both = Member::new("4", "Cancelled Then Rejoined")
        .joined("2026-10-01")
        .status("Cancelled")
        .insert(&store.conn);
    add_membership(&store.conn, both, "4b", Some("2026-11-10"), "New");
    let q = queue(&mut store, &clock());
    let mut ids: Vec<&str> = q.keys().map(String::as_str).collect();
    ids.sort();
    assert_eq!(ids, ["4"]);
    assert_eq!(
        q["4"].anchor,
        d("2026-11-10"),
        "anchored on the qualifying membership"
    );
}

#[test]
fn one_row_per_contact_anchored_on_the_earliest_qualifying_join() {
    let mut store = memory_store();
    let c = Member::new("1", "Two Memberships")
        .joined("2026-11-01")
        .insert(&store.conn);
    add_membership(&store.conn, c, "1b", Some("2026-10-05"), "New");
    let q = onboarding::load_queue(&mut store, &clock(), &OnboardingConfig::default()).unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].anchor, d("2026-10-05"));
}

#[test]
fn step_due_dates_count_from_the_join_date() {
    let mut store = memory_store();
    Member::new("1", "Joined First")
        .joined("2026-11-01")
        .insert(&store.conn);
    let q = queue(&mut store, &clock());
    let path = StepPath::default_path();
    let dues: Vec<String> = path
        .steps()
        .iter()
        .map(|s| s.due_date(q["1"].anchor).to_string())
        .collect();
    assert_eq!(
        dues,
        [
            "2026-11-03",
            "2026-11-08",
            "2026-11-15",
            "2026-11-22",
            "2026-12-31"
        ]
    );
    let progress = q["1"].progress(&path, today());
    let next = progress.next.unwrap();
    assert_eq!((next.index, next.days_overdue), (0, 20));
    assert_eq!(next.marker(), "OVERDUE 20d");
}

#[test]
fn a_member_added_by_hand_enters_and_counts_from_the_day_added() {
    let mut store = memory_store();
    let old = Member::new("1", "Long Standing")
        .joined("2015-03-01")
        .insert(&store.conn);
    assert!(queue(&mut store, &clock()).is_empty());
    let added = onboarding::add_by_hand(&mut store, &clock(), old).unwrap();
    assert!(matches!(added, onboarding::Added::Entered(_)));
    let q = queue(&mut store, &clock());
    assert!(q["1"].added_by_hand);
    assert_eq!(q["1"].anchor, today());
    assert_eq!(
        onboarding::add_by_hand(&mut store, &clock(), old).unwrap(),
        onboarding::Added::AlreadyInQueue
    );
}

#[test]
fn a_deceased_contact_cannot_be_added_by_hand() {
    let mut store = memory_store();
    let gone = Member::new("1", "Deceased")
        .joined("2015-03-01")
        .deceased()
        .insert(&store.conn);
    let err = onboarding::add_by_hand(&mut store, &clock(), gone).unwrap_err();
    assert!(err.to_string().contains("deceased"), "{err}");
    let rows: i64 = store
        .conn
        .query_row("SELECT COUNT(*) FROM onboarding", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
}

#[test]
fn once_in_the_queue_a_member_stays_after_the_window_has_passed() {
    let mut store = memory_store();
    Member::new("1", "Joined Autumn")
        .joined("2026-11-01")
        .insert(&store.conn);
    assert_eq!(queue(&mut store, &clock()).len(), 1);
    let half_a_year_later = rollcall::Clock::fixed(d("2027-05-01"), "ann");
    let q = queue(&mut store, &half_a_year_later);
    assert!(q.contains_key("1"));
    assert_eq!(q["1"].days_waiting(d("2027-05-01")), 181);
}

#[test]
fn entering_the_queue_is_recorded_once_with_an_audit_line() {
    let mut store = memory_store();
    let c = Member::new("1", "New Member")
        .joined("2026-11-01")
        .insert(&store.conn);
    queue(&mut store, &clock());
    queue(&mut store, &clock());
    let (added_by, by_hand): (String, bool) = store
        .conn
        .query_row(
            "SELECT added_by, added_by_hand FROM onboarding WHERE contact_id = ?1",
            [c],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((added_by.as_str(), by_hand), ("ann", false));
    let lines = rollcall::storage::audit::lines(&store.conn, Some(c), None).unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].action, "onboarding.enter");
    assert_eq!(lines[0].staff, "ann");
}

#[test]
fn read_only_shows_who_qualifies_without_recording_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    {
        let store = Store::open(&path, OpenMode::ReadWrite).unwrap();
        Member::new("1", "New Member")
            .joined("2026-11-01")
            .party("Ceredigion")
            .welsh()
            .no_phone()
            .insert(&store.conn);
    }
    let mut store = Store::open(&path, OpenMode::ReadOnly).unwrap();
    let q = queue(&mut store, &clock());
    assert!(!q["1"].recorded);
    assert_eq!(q["1"].local_party, "Ceredigion");
    assert!(q["1"].flags.welsh && q["1"].flags.do_not_phone);
    let rows: i64 = store
        .conn
        .query_row("SELECT COUNT(*) FROM onboarding", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
}

#[test]
fn views_and_order_put_the_most_overdue_next_step_first() {
    use onboarding::{View, sort_key};
    let mut store = memory_store();
    let early = Member::new("1", "Early")
        .joined("2026-09-01")
        .party("Swansea")
        .insert(&store.conn);
    Member::new("2", "Recent")
        .joined("2026-11-22")
        .party("Cardiff")
        .insert(&store.conn);
    Member::new("3", "Middle")
        .joined("2026-10-15")
        .insert(&store.conn);
    let path = StepPath::default_path();
    let mut store_clock = clock();
    onboarding::load_queue(&mut store, &store_clock, &OnboardingConfig::default()).unwrap();
    onboarding::assign(&mut store, &store_clock, early, Some("ann")).unwrap();
    store_clock.user = "ann".into();
    let q = onboarding::load_queue(&mut store, &store_clock, &OnboardingConfig::default()).unwrap();
    let order = |view: View| {
        let mut rows: Vec<_> = q
            .iter()
            .map(|e| (e, e.progress(&path, today())))
            .filter(|(e, p)| view.shows(e, p, "ann"))
            .collect();
        rows.sort_by_key(|(e, p)| sort_key(view, e, p));
        rows.iter()
            .map(|(e, _)| e.crm_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(order(View::All), ["1", "3", "2"]);
    assert_eq!(order(View::Mine), ["1"]);
    assert_eq!(order(View::Unassigned), ["3", "2"]);
    // Joined yesterday: the welcome email is due tomorrow, so not overdue yet.
    assert_eq!(order(View::Overdue), ["1", "3"]);
    assert_eq!(order(View::ByLocalParty), ["2", "1", "3"]);
}

#[test]
fn new_and_pending_are_found_through_their_own_index_also_after_an_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v5.db");
    {
        let store = Store::open(&path, OpenMode::ReadWrite).unwrap();
        Member::new("1", "Awaiting Payment")
            .joined("2026-11-01")
            .status("pending")
            .insert(&store.conn);
        // Back to schema v5, with its index of every membership's status.
        store
            .conn
            .execute_batch(
                "DROP INDEX memberships_new_pending;
                 CREATE INDEX memberships_status ON memberships(crm_status COLLATE NOCASE);
                 ALTER TABLE onboarding DROP COLUMN arrival;
                 PRAGMA user_version = 5;",
            )
            .unwrap();
    }
    let mut store = Store::open(&path, OpenMode::ReadWrite).unwrap();
    let plan: Vec<String> = store
        .conn
        .prepare(
            "EXPLAIN QUERY PLAN SELECT id FROM memberships
             WHERE crm_status COLLATE NOCASE IN ('New', 'Pending')",
        )
        .unwrap()
        .query_map([], |r| r.get(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        plan.iter().any(|l| l.contains("memberships_new_pending")),
        "{plan:?}"
    );
    let old: i64 = store
        .conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'memberships_status'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(old, 0);
    assert!(queue(&mut store, &clock()).contains_key("1"));
}
