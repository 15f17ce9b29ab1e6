//! The figures against a fixture whose answers are known by construction (tests/stats_fixture).

mod stats_fixture;

use rollcall::domain::MemberStatus;
use rollcall::storage::Store;
use rollcall::storage::stats::{self, ListKind, WorkContext};
use stats_fixture::{ME, expect, today};

fn fixture() -> Store {
    let store = Store::open_in_memory().unwrap();
    stats_fixture::fill(&store);
    store
}

fn work() -> WorkContext {
    WorkContext {
        today: today(),
        user: ME.into(),
        steps: stats::default_onboarding_steps(),
    }
}

#[test]
fn members_by_status_region_and_local_party() {
    let store = fixture();
    let team = stats::team_figures(&store.conn, today()).unwrap();
    let by_status: Vec<(MemberStatus, u64)> = team
        .by_status
        .iter()
        .map(|s| (s.status, s.memberships))
        .collect();
    assert_eq!(
        by_status,
        vec![
            (MemberStatus::New, expect::NEW),
            (MemberStatus::Current, expect::CURRENT),
            (MemberStatus::Grace, expect::GRACE),
            (MemberStatus::Expired, expect::EXPIRED),
            (MemberStatus::Pending, expect::PENDING),
            (MemberStatus::Cancelled, expect::CANCELLED),
            (MemberStatus::Deceased, expect::DECEASED),
        ]
    );
    assert_eq!(
        team.member_memberships,
        expect::NEW + expect::CURRENT + expect::GRACE
    );
    let parties: Vec<(&str, &str, u64)> = team
        .by_local_party
        .iter()
        .map(|a| (a.region.as_str(), a.local_party.as_str(), a.members))
        .collect();
    assert_eq!(
        parties,
        vec![
            ("Wales", "Cardiff", expect::CARDIFF),
            ("Wales", "Swansea", expect::SWANSEA),
            ("North", "Leeds", expect::LEEDS),
        ]
    );
    let regions: Vec<(&str, u64)> = team
        .by_region
        .iter()
        .map(|a| (a.region.as_str(), a.members))
        .collect();
    assert_eq!(
        regions,
        vec![
            ("Wales", expect::CARDIFF + expect::SWANSEA),
            ("North", expect::LEEDS)
        ]
    );
    assert_eq!(
        team.members,
        expect::CARDIFF + expect::SWANSEA + expect::LEEDS
    );
}

#[test]
fn joiners_leavers_renewal_rate_and_won_back_by_month() {
    let store = fixture();
    let team = stats::team_figures(&store.conn, today()).unwrap();
    let got: Vec<(&str, u64, u64, u64, u64, u64)> = team
        .months
        .iter()
        .map(|m| {
            (
                m.month.as_str(),
                m.joiners,
                m.leavers,
                m.due,
                m.renewed_in_grace,
                m.won_back,
            )
        })
        .collect();
    assert_eq!(got, expect::MONTHS.to_vec());
    assert_eq!(team.won_back, 2);
    let rate = |month: &str| {
        team.months
            .iter()
            .find(|m| m.month == month)
            .unwrap()
            .renewal_rate
    };
    assert_eq!(rate("2026-10"), Some(1.0));
    assert_eq!(rate("2026-11"), Some(0.25));
    assert_eq!(rate("2026-09"), Some(0.0));
    assert_eq!(rate("2026-05"), None, "nothing came due");
    // September's grace months are over; October's (to 30 November) and November's are not.
    let provisional: Vec<&str> = team
        .months
        .iter()
        .filter(|m| m.provisional)
        .map(|m| m.month.as_str())
        .collect();
    assert_eq!(provisional, vec!["2026-10", "2026-11"]);
}

#[test]
fn since_the_last_import() {
    let store = fixture();
    let since = stats::since_last_import(&store.conn).unwrap();
    let import = since.import.as_ref().unwrap();
    assert_eq!(import.id, 2);
    assert_eq!(import.previous_as_of.as_deref(), Some("2026-11-09"));
    assert_eq!(
        (since.joined, since.renewed, since.lapsed, since.vanished),
        (
            expect::JOINED,
            expect::RENEWED,
            expect::LAPSED,
            expect::VANISHED
        )
    );
}

#[test]
fn each_count_opens_the_list_behind_it() {
    let store = fixture();
    let work = work();
    let members = |kind| {
        let (rows, total) = stats::list(&store.conn, kind, &work, 100).unwrap();
        assert_eq!(rows.len() as u64, total, "{kind:?}");
        rows.iter()
            .map(|r| (r.contact_id, r.membership_id))
            .collect::<Vec<_>>()
    };
    assert_eq!(members(ListKind::Joined), vec![(Some(8), Some(8))]);
    // Sorted by name: Hall (c17), King (c18), Walters (c16).
    assert_eq!(
        members(ListKind::Renewed),
        vec![
            (Some(17), Some(18)),
            (Some(18), Some(19)),
            (Some(16), Some(17))
        ]
    );
    // Green (c5, moved to Expired by the CRM), Jones (c3, end date passed since import 1).
    assert_eq!(
        members(ListKind::Lapsed),
        vec![(Some(5), Some(5)), (Some(3), Some(3))]
    );
    assert_eq!(members(ListKind::Vanished), vec![(Some(10), Some(11))]);
    assert_eq!(
        members(ListKind::FollowUps),
        vec![(Some(3), Some(3)), (Some(1), Some(10))]
    );
    assert_eq!(members(ListKind::Promises), vec![(Some(1), Some(1))]);
    let (steps, _) = stats::list(&store.conn, ListKind::OnboardingDue, &work, 100).unwrap();
    let steps: Vec<(Option<i64>, &str, Option<&str>)> = steps
        .iter()
        .map(|r| (r.contact_id, r.what.as_str(), r.date.as_deref()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (Some(11), "Welcome call made", Some("2026-11-08")),
            (
                Some(11),
                "Linked to local party / branch",
                Some("2026-11-15")
            ),
            (Some(11), "Invited to induction", Some("2026-11-22")),
            (Some(2), "Welcome email sent", Some("2026-11-23")),
        ]
    );
    let escalations = |kind| {
        let (rows, _) = stats::list(&store.conn, kind, &work, 100).unwrap();
        rows.iter().map(|r| r.escalation_id).collect::<Vec<_>>()
    };
    assert_eq!(escalations(ListKind::MyEscalations), vec![Some(1), Some(2)]);
    assert_eq!(
        escalations(ListKind::UnassignedEscalations),
        vec![Some(6), Some(5)]
    );
}

#[test]
fn my_work_counts_match_the_lists() {
    let store = fixture();
    let work = stats::my_work(&store.conn, &work()).unwrap();
    assert_eq!(
        (
            work.follow_ups,
            work.promises,
            work.onboarding_due,
            work.my_escalations,
            work.unassigned_escalations
        ),
        (
            expect::FOLLOW_UPS,
            expect::PROMISES,
            expect::ONBOARDING_DUE,
            expect::MY_ESCALATIONS,
            expect::UNASSIGNED
        )
    );
}

#[test]
fn someone_elses_work_is_not_mine() {
    let store = fixture();
    let bob = WorkContext {
        user: "bob".into(),
        ..work()
    };
    let work = stats::my_work(&store.conn, &bob).unwrap();
    // bob: m14's snooze (assigned and last attempt his); no promises of his older than 7 days
    // except m9's, which is his own attempt; c12's onboarding (welcome call 11-07 onwards).
    assert_eq!(work.follow_ups, 1);
    assert_eq!(work.promises, 1);
    assert_eq!(work.onboarding_due, 3);
    assert_eq!(work.my_escalations, 0);
    assert_eq!(work.unassigned_escalations, expect::UNASSIGNED);
}

#[test]
fn custom_onboarding_steps_change_what_is_due() {
    let store = fixture();
    let work = WorkContext {
        steps: vec![stats::OnboardingStep {
            key: "welcome_email".into(),
            label: "Welcome email".into(),
            due_days: 1,
        }],
        ..work()
    };
    // Only c2's welcome email (due 11-22) is left undone.
    assert_eq!(
        stats::my_work(&store.conn, &work).unwrap().onboarding_due,
        1
    );
}

#[test]
fn an_empty_database_has_zero_figures_and_no_import() {
    let store = Store::open_in_memory().unwrap();
    let figures = stats::all_figures(&store.conn, &work()).unwrap();
    assert!(figures.since_last_import.import.is_none());
    assert_eq!(figures.team.members, 0);
    assert!(figures.team.months.iter().all(|m| m.renewal_rate.is_none()));
    assert_eq!(figures.team.months.len(), 12);
    let (rows, total) = stats::list(&store.conn, ListKind::Joined, &work(), 10).unwrap();
    assert!(rows.is_empty() && total == 0);
}

/// An as-of date of 1 January: the window runs February to January, a join on New Year's Eve
/// lands in December and one on New Year's Day in January; an end date of 30 November lapses on
/// 31 December (a leaver of December) and one of 1 December on 2 January.
#[test]
fn month_boundaries_across_the_year_change() {
    let store = Store::open_in_memory().unwrap();
    store
        .conn
        .execute_batch(
            "INSERT INTO contacts (id, source, crm_id) VALUES (1, 't', '1');
             INSERT INTO memberships (contact_id, source, sync_key, join_date, start_date,
                 end_date, crm_status) VALUES
              (1, 't', 'a', '2026-12-31', '2026-12-31', '2027-12-30', 'New'),
              (1, 't', 'b', '2027-01-01', '2027-01-01', '2027-12-31', 'New'),
              (1, 't', 'c', '2026-02-01', '2026-02-01', '2026-02-28', 'Current'),
              (1, 't', 'd', '2026-01-31', '2026-01-31', '2026-11-30', 'Current'),
              (1, 't', 'e', '2020-01-01', '2020-01-01', '2026-12-01', 'Current');",
        )
        .unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
    let months = stats::team_figures(&store.conn, today).unwrap().months;
    let month = |m: &str| months.iter().find(|f| f.month == m).unwrap();
    assert_eq!(months.first().unwrap().month, "2026-02");
    assert_eq!(months.last().unwrap().month, "2027-01");
    assert_eq!(month("2026-02").joiners, 1, "the window's first day");
    assert!(
        months.iter().all(|f| f.month != "2026-01"),
        "a join on 31 January 2026 is before the window"
    );
    assert_eq!(month("2026-12").joiners, 1);
    assert_eq!(month("2027-01").joiners, 1);
    // 'c' ended 28 Feb, lapsed 29 March; 'd' ended 30 Nov, lapsed 31 Dec; 'e' ended 1 Dec and
    // lapses 2 January, after the as-of date: still in grace, not a leaver yet.
    assert_eq!(month("2026-03").leavers, 1);
    assert_eq!(month("2026-12").leavers, 1);
    assert_eq!(month("2027-01").leavers, 0);
    assert_eq!(month("2026-02").due, 1);
    assert_eq!(month("2026-11").due, 1);
    assert_eq!(month("2026-12").due, 1);
}
