//! The renewals queue: windows, exclusions, filters and urgency order, on a real store.

mod renewals_support;

use renewals_support::*;
use rollcall::domain::renewal::{Bucket, QueueFilter, QueueRow, Section, Windows, arrange};
use rollcall::storage::Store;
use rollcall::storage::renewals::{self, NewAttempt, Target};

const W: Windows = Windows {
    due_within_days: 30,
    lapsed_within_days: 90,
};

fn queue(store: &Store, today: &str) -> Vec<QueueRow> {
    renewals::queue(&store.conn, d(today), W, None).unwrap()
}

/// Names in the order the pane shows them, with the default filter.
fn shown(store: &Store, today: &str, filter: &QueueFilter) -> Vec<String> {
    let rows = queue(store, today);
    arrange(&rows, filter, d(today), "ann")
        .order
        .iter()
        .map(|&i| rows[i].name.clone())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Members ending on each given date, named after it.
fn members_ending(store: &Store, dates: &[&str]) {
    for end in dates {
        insert(&store.conn, &member(&format!("End {end}"), end));
    }
}

#[test]
fn window_edges_are_the_exact_first_and_last_days() {
    let store = Store::open_in_memory().unwrap();
    // As of 2026-11-23: due through 2026-12-23, lapsed from 2026-08-25 to 2026-11-22.
    members_ending(
        &store,
        &[
            "2026-08-24",
            "2026-08-25",
            "2026-11-22",
            "2026-11-23",
            "2026-12-23",
            "2026-12-24",
        ],
    );
    let rows = queue(&store, "2026-11-23");
    let mut got: Vec<(String, Bucket, i64)> = rows
        .iter()
        .map(|r| {
            (
                r.end_date.to_string(),
                r.bucket(d("2026-11-23")),
                r.days(d("2026-11-23")),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("2026-08-25".into(), Bucket::Lapsed, -90),
            ("2026-11-22".into(), Bucket::Lapsed, -1),
            ("2026-11-23".into(), Bucket::Due, 0),
            ("2026-12-23".into(), Bucket::Due, 30),
        ]
    );
}

#[test]
fn leap_year_as_of_the_29th_of_february() {
    let store = Store::open_in_memory().unwrap();
    // 2028 is a leap year: 90 days before 2028-02-29 is 2027-12-01; 30 days after, 2028-03-30.
    members_ending(
        &store,
        &[
            "2027-11-30",
            "2027-12-01",
            "2028-02-28",
            "2028-02-29",
            "2028-03-30",
            "2028-03-31",
        ],
    );
    assert_eq!(
        sorted(shown(&store, "2028-02-29", &QueueFilter::default())),
        vec![
            "End 2027-12-01",
            "End 2028-02-28",
            "End 2028-02-29",
            "End 2028-03-30"
        ]
    );
    // A non-leap year: 90 days before 2027-03-01 is 2026-12-01, and February has 28 days.
    let store = Store::open_in_memory().unwrap();
    members_ending(
        &store,
        &[
            "2026-11-30",
            "2026-12-01",
            "2027-02-28",
            "2027-03-31",
            "2027-04-01",
        ],
    );
    assert_eq!(
        sorted(shown(&store, "2027-03-01", &QueueFilter::default())),
        vec!["End 2026-12-01", "End 2027-02-28", "End 2027-03-31"]
    );
}

#[test]
fn month_ends() {
    let store = Store::open_in_memory().unwrap();
    // As of 31 January 2026: due to 2 March (February is short), lapsed from 2 November 2025.
    members_ending(
        &store,
        &[
            "2025-11-01",
            "2025-11-02",
            "2026-01-30",
            "2026-01-31",
            "2026-03-02",
            "2026-03-03",
        ],
    );
    assert_eq!(
        sorted(shown(&store, "2026-01-31", &QueueFilter::default())),
        vec![
            "End 2025-11-02",
            "End 2026-01-30",
            "End 2026-01-31",
            "End 2026-03-02"
        ]
    );
    // As of 31 December: the due window crosses the year.
    let store = Store::open_in_memory().unwrap();
    members_ending(
        &store,
        &["2026-10-01", "2026-10-02", "2027-01-30", "2027-01-31"],
    );
    assert_eq!(
        sorted(shown(&store, "2026-12-31", &QueueFilter::default())),
        vec!["End 2026-10-02", "End 2027-01-30"]
    );
}

#[test]
fn configured_windows_move_the_edges() {
    let store = Store::open_in_memory().unwrap();
    members_ending(
        &store,
        &["2026-11-16", "2026-11-15", "2026-12-07", "2026-12-08"],
    );
    let narrow = Windows {
        due_within_days: 14,
        lapsed_within_days: 7,
    };
    let rows = renewals::queue(&store.conn, d("2026-11-23"), narrow, None).unwrap();
    let mut ends: Vec<String> = rows.iter().map(|r| r.end_date.to_string()).collect();
    ends.sort();
    assert_eq!(ends, vec!["2026-11-16", "2026-12-07"]);
    let due_only =
        renewals::queue(&store.conn, d("2026-11-23"), narrow, Some(Bucket::Due)).unwrap();
    assert_eq!(due_only.len(), 1);
    assert_eq!(due_only[0].end_date, d("2026-12-07"));
}

#[test]
fn every_exclusion() {
    let store = Store::open_in_memory().unwrap();
    let c = &store.conn;
    insert(c, &member("Kept Current", "2026-12-01"));
    insert(c, &member("Kept Grace", "2026-11-01").status("Grace"));
    insert(c, &member("Kept Expired", "2026-09-01").status("Expired"));
    insert(c, &member("Lifetime Member", "2026-12-01").lifetime());
    insert(
        c,
        &member("Cancelled Member", "2026-12-01").status("Cancelled"),
    );
    insert(
        c,
        &member("Canceled Member", "2026-12-01").status("canceled"),
    );
    // A renewal awaiting payment is kept, marked payment pending (docs/renewals.md).
    insert(c, &member("Pending Member", "2026-12-01").status("Pending"));
    insert(
        c,
        &member("Deceased Status", "2026-12-01").status("Deceased"),
    );
    insert(c, &member("Deceased Contact", "2026-12-01").deceased());
    // Renewed by a later import: the end date moved past the window.
    insert(c, &member("Already Renewed", "2027-11-30"));
    assert_eq!(
        sorted(shown(&store, "2026-11-23", &QueueFilter::default())),
        vec![
            "Kept Current",
            "Kept Expired",
            "Kept Grace",
            "Pending Member"
        ]
    );
}

#[test]
fn urgency_in_grace_then_due_then_past_grace() {
    let store = Store::open_in_memory().unwrap();
    let c = &store.conn;
    // As of 2026-11-23, grace lasts a month after the end date.
    insert(c, &member("Past Grace Old", "2026-09-01"));
    insert(c, &member("Past Grace Recent", "2026-10-20"));
    insert(c, &member("Grace Ends Soon", "2026-10-24"));
    insert(c, &member("Grace Just Began", "2026-11-22"));
    insert(c, &member("Due Later", "2026-12-20"));
    insert(c, &member("Due Today", "2026-11-23"));
    assert_eq!(
        shown(&store, "2026-11-23", &QueueFilter::default()),
        vec![
            "Grace Ends Soon",
            "Grace Just Began",
            "Due Today",
            "Due Later",
            "Past Grace Recent",
            "Past Grace Old"
        ]
    );
}

#[test]
fn snoozed_settled_and_auto_renewing_are_set_apart() {
    let mut store = Store::open_in_memory().unwrap();
    let clk = clock("2026-11-23");
    let plain = insert(&store.conn, &member("Plain Member", "2026-12-10"));
    let snoozed = insert(&store.conn, &member("Snoozed Member", "2026-12-01"));
    let was_snoozed = insert(&store.conn, &member("Snooze Over", "2026-12-05"));
    let declined = insert(&store.conn, &member("Declined Member", "2026-12-02"));
    insert(
        &store.conn,
        &member("Auto Member", "2026-11-30").auto_renew(),
    );
    renewals::snooze(&mut store, &clk, &[snoozed], Some(d("2026-11-30"))).unwrap();
    renewals::snooze(
        &mut store,
        &clock("2026-11-20"),
        &[was_snoozed],
        Some(d("2026-11-23")),
    )
    .unwrap();
    let attempt = NewAttempt {
        channel: rollcall::domain::renewal::Channel::Phone,
        outcome: rollcall::domain::renewal::Outcome::Declined,
        note: String::new(),
    };
    renewals::log_attempts(&mut store, &clk, &[declined], &attempt).unwrap();

    let today = d("2026-11-23");
    let rows = queue(&store, "2026-11-23");
    let default = arrange(&rows, &QueueFilter::default(), today, "ann");
    let names: Vec<&str> = default
        .order
        .iter()
        .map(|&i| rows[i].name.as_str())
        .collect();
    // A snooze until today is over: the row is back in the queue.
    assert_eq!(names, vec!["Snooze Over", "Plain Member"]);
    assert_eq!(default.set_aside_hidden, 2);
    assert_eq!(default.auto_renew_hidden, 1);

    let all = QueueFilter {
        show_set_aside: true,
        show_auto_renew: true,
        ..QueueFilter::default()
    };
    let arranged = arrange(&rows, &all, today, "ann");
    let listed: Vec<(&str, Section)> = arranged
        .order
        .iter()
        .map(|&i| (rows[i].name.as_str(), rows[i].section(today)))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("Snooze Over", Section::Due),
            ("Plain Member", Section::Due),
            ("Snoozed Member", Section::SetAside),
            ("Declined Member", Section::SetAside),
            ("Auto Member", Section::AutoRenew),
        ]
    );
    let plain_row = rows
        .iter()
        .find(|r| r.membership_id == plain.membership_id)
        .unwrap();
    assert_eq!(plain_row.snoozed_until, None);
}

#[test]
fn filters() {
    let mut store = Store::open_in_memory().unwrap();
    let c = &store.conn;
    let today = "2026-11-23";
    insert(c, &member("Welsh Speaker", "2026-12-01").welsh());
    insert(
        c,
        &member("London Youth", "2026-10-01")
            .place("Hackney North", "London")
            .kind("Youth"),
    );
    let contacted = insert(
        c,
        &member("Rang Yesterday", "2026-12-05").place("Bristol West", "South West"),
    );
    let mine = insert(
        c,
        &member("Assigned To Ann", "2026-12-06").place("Bristol West", "South West"),
    );
    let theirs = insert(c, &member("Assigned To Bob", "2026-12-07"));
    renewals::assign(&mut store, &clock(today), &[mine.contact_id], Some("ann")).unwrap();
    renewals::assign(&mut store, &clock(today), &[theirs.contact_id], Some("bob")).unwrap();
    let attempt = NewAttempt {
        channel: rollcall::domain::renewal::Channel::Phone,
        outcome: rollcall::domain::renewal::Outcome::NoAnswer,
        note: String::new(),
    };
    renewals::log_attempts(&mut store, &clock("2026-11-22"), &[contacted], &attempt).unwrap();

    let with = |f: QueueFilter| sorted(shown(&store, today, &f));
    assert_eq!(
        with(QueueFilter {
            bucket: Some(Bucket::Lapsed),
            ..Default::default()
        }),
        vec!["London Youth"]
    );
    assert_eq!(
        with(QueueFilter {
            region: Some("south west".into()),
            ..Default::default()
        }),
        vec!["Assigned To Ann", "Rang Yesterday"]
    );
    assert_eq!(
        with(QueueFilter {
            local_party: Some("Hackney North".into()),
            ..Default::default()
        }),
        vec!["London Youth"]
    );
    assert_eq!(
        with(QueueFilter {
            membership_type: Some("YOUTH".into()),
            ..Default::default()
        }),
        vec!["London Youth"]
    );
    assert_eq!(
        with(QueueFilter {
            welsh_only: true,
            ..Default::default()
        }),
        vec!["Welsh Speaker"]
    );
    assert_eq!(
        with(QueueFilter {
            assigned_to_me: true,
            ..Default::default()
        }),
        vec!["Assigned To Ann"]
    );
    // Contacted yesterday: one day since, so "not in 1 day" keeps it and "not in 2 days" drops it.
    let not_in = |n| QueueFilter {
        not_contacted_days: Some(n),
        ..Default::default()
    };
    assert!(with(not_in(1)).contains(&"Rang Yesterday".to_owned()));
    assert!(!with(not_in(2)).contains(&"Rang Yesterday".to_owned()));
    assert_eq!(with(not_in(2)).len(), 4);
}

#[test]
fn last_contact_is_the_latest_attempt_on_that_membership() {
    let mut store = Store::open_in_memory().unwrap();
    let first = insert(&store.conn, &member("Two Memberships", "2026-12-01"));
    let second = add_membership(
        &store.conn,
        first.contact_id,
        &member("x", "2026-12-15").kind("Youth"),
    );
    let attempt = |o| NewAttempt {
        channel: rollcall::domain::renewal::Channel::Email,
        outcome: o,
        note: String::new(),
    };
    use rollcall::domain::renewal::Outcome::*;
    renewals::log_attempts(
        &mut store,
        &clock("2026-11-20"),
        &[first],
        &attempt(NoAnswer),
    )
    .unwrap();
    renewals::log_attempts(
        &mut store,
        &clock("2026-11-21"),
        &[first],
        &attempt(WillRenew),
    )
    .unwrap();
    renewals::log_attempts(
        &mut store,
        &clock("2026-11-22"),
        &[second],
        &attempt(LeftMessage),
    )
    .unwrap();
    let rows = queue(&store, "2026-11-23");
    let by_id = |t: Target| {
        rows.iter()
            .find(|r| r.membership_id == t.membership_id)
            .unwrap()
    };
    let last = by_id(first).last_contact.clone().unwrap();
    assert_eq!(
        (last.at.as_str(), last.outcome.as_str()),
        ("2026-11-21T09:00:00", "will_renew")
    );
    assert_eq!(last.how(), "email, will renew");
    assert_eq!(
        by_id(second).last_contact.as_ref().unwrap().how(),
        "email, sent"
    );
}

#[test]
fn the_queue_reads_the_window_from_the_index_alone() {
    // A regression guard for the speed design (timings are in BENCHMARKS.md, not in tests).
    let store = Store::open_in_memory().unwrap();
    let plan: Vec<String> = store
        .conn
        .prepare(
            "EXPLAIN QUERY PLAN SELECT id, contact_id, crm_membership_id, membership_type,
                 end_date, crm_status, auto_renew FROM memberships
             WHERE end_date BETWEEN '2026-08-25' AND '2026-12-23'",
        )
        .unwrap()
        .query_map([], |r| r.get(3))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(
        plan.iter()
            .any(|l| l.contains("COVERING INDEX memberships_end")),
        "{plan:?}"
    );
    let plan: Vec<String> = store
        .conn
        .prepare(
            "EXPLAIN QUERY PLAN SELECT id FROM contact_attempts WHERE membership_id = 1
             ORDER BY attempted_at DESC, id DESC LIMIT 1",
        )
        .unwrap()
        .query_map([], |r| r.get(3))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(
        plan.iter()
            .any(|l| l.contains("COVERING INDEX contact_attempts_membership")),
        "{plan:?}"
    );
    assert!(!plan.iter().any(|l| l.contains("TEMP B-TREE")), "{plan:?}");
}

/// Schema v5 (`schema_v5_renewals.sql`) added the renewals indexes.
const SCHEMA_BEFORE_RENEWALS_INDEXES: i64 = 4;

#[test]
fn a_database_from_before_the_renewals_indexes_upgrades_and_keeps_its_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let store = Store::open(&path, rollcall::storage::OpenMode::ReadWrite).unwrap();
        // Put the file back to the schema version before the renewals indexes, as a rollcall before
        // this change left it.
        store
            .conn
            .execute_batch(
                "DROP INDEX memberships_end; CREATE INDEX memberships_end ON memberships(end_date);
                 DROP INDEX contact_attempts_membership;
                 CREATE INDEX contact_attempts_membership ON contact_attempts(membership_id);
                 DROP INDEX membership_events_credited_attempt;
                 DROP INDEX memberships_new_pending;
                 CREATE INDEX memberships_status ON memberships(crm_status COLLATE NOCASE);
                 ALTER TABLE onboarding DROP COLUMN arrival;",
            )
            .unwrap();
        store
            .conn
            .pragma_update(None, "user_version", SCHEMA_BEFORE_RENEWALS_INDEXES)
            .unwrap();
        let t = insert(&store.conn, &member("Alys Jones", "2026-12-01"));
        store
            .conn
            .execute(
                "INSERT INTO contact_attempts (contact_id, membership_id, channel, outcome,
                     attempted_at, staff) VALUES (?1, ?2, 'phone', 'no_answer', '2026-11-20T09:00:00', 'ann')",
                [t.contact_id, t.membership_id],
            )
            .unwrap();
    }
    let store = Store::open(&path, rollcall::storage::OpenMode::ReadWrite).unwrap();
    let version: i64 = store
        .conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, rollcall::storage::SCHEMA_VERSION);
    let rows = queue(&store, "2026-11-23");
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].last_contact.as_ref().unwrap().how(),
        "phone, no answer"
    );
    let indexes: i64 = store
        .conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'membership_events_credited_attempt'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(indexes, 1);
}

/// An auto-renewing membership whose end date has passed is a failed payment: never hidden, in
/// the lapsed bucket, at the top of its section; only those not yet due stay hidden.
#[test]
fn a_lapsed_auto_renewing_membership_is_a_failed_payment_at_the_top() {
    let store = Store::open_in_memory().unwrap();
    insert(&store.conn, &member("Grace Plain", "2026-11-10"));
    insert(
        &store.conn,
        &member("Grace Failed", "2026-11-20").auto_renew(),
    );
    insert(&store.conn, &member("Past Plain", "2026-10-15"));
    insert(
        &store.conn,
        &member("Past Failed", "2026-09-01").auto_renew(),
    );
    insert(&store.conn, &member("Due Auto", "2026-12-01").auto_renew());
    insert(&store.conn, &member("Due Plain", "2026-12-02"));
    let today = d("2026-11-23");
    let rows = queue(&store, "2026-11-23");
    let arranged = arrange(&rows, &QueueFilter::default(), today, "ann");
    let listed: Vec<(&str, Section, Bucket, Option<&str>)> = arranged
        .order
        .iter()
        .map(|&i| {
            let r = &rows[i];
            (
                r.name.as_str(),
                r.section(today),
                r.bucket(today),
                r.payment_mark(today),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![
            (
                "Grace Failed",
                Section::InGrace,
                Bucket::Lapsed,
                Some("payment failed?")
            ),
            ("Grace Plain", Section::InGrace, Bucket::Lapsed, None),
            ("Due Plain", Section::Due, Bucket::Due, None),
            (
                "Past Failed",
                Section::PastGrace,
                Bucket::Lapsed,
                Some("payment failed?")
            ),
            ("Past Plain", Section::PastGrace, Bucket::Lapsed, None),
        ]
    );
    assert_eq!(arranged.auto_renew_hidden, 1, "only Due Auto is hidden");
    assert_eq!(arranged.lapsed, 4);
}
