//! The escalation rules on their own: due dates, status changes, what the command line accepts.

use chrono::NaiveDate;
use rollcall::config::EscalationsConfig;
use rollcall::domain::escalation::{
    Category, DueState, Priority, RuleError, Status, View, check_assignee, check_reopen,
    check_resolve, check_status_change, check_title, due_date, due_state,
};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn due(category: Category, priority: Priority, opened: &str) -> NaiveDate {
    due_date(category, priority, d(opened), &EscalationsConfig::default())
}

#[test]
fn priorities_count_working_days_and_skip_weekends() {
    // 2026-11-20 is a Friday.
    assert_eq!(
        due(Category::Complaint, Priority::Urgent, "2026-11-20"),
        d("2026-11-23"),
        "Friday + 1 working day is Monday"
    );
    assert_eq!(
        due(Category::Complaint, Priority::High, "2026-11-20"),
        d("2026-11-25")
    );
    assert_eq!(
        due(Category::MemberConcern, Priority::Normal, "2026-11-20"),
        d("2026-12-04"),
        "10 working days is two calendar weeks"
    );
    assert_eq!(
        due(Category::Other, Priority::Low, "2026-11-20"),
        d("2026-12-18")
    );
    // Opened on a Saturday: the first working day after is Monday.
    assert_eq!(
        due(Category::Complaint, Priority::Urgent, "2026-11-21"),
        d("2026-11-23")
    );
    // Across a month and a year end.
    assert_eq!(
        due(Category::Complaint, Priority::High, "2026-12-30"),
        d("2027-01-04")
    );
}

#[test]
fn targets_come_from_the_config() {
    let targets = EscalationsConfig {
        urgent_days: 2,
        high_days: 5,
        normal_days: 15,
        low_days: 30,
    };
    let opened = d("2026-11-23"); // Monday
    assert_eq!(
        due_date(Category::Complaint, Priority::Urgent, opened, &targets),
        d("2026-11-25")
    );
    assert_eq!(
        due_date(Category::Complaint, Priority::High, opened, &targets),
        d("2026-11-30")
    );
}

#[test]
fn a_data_protection_request_is_due_one_calendar_month_later_whatever_its_priority() {
    for p in Priority::ALL {
        assert_eq!(
            due(Category::DataProtection, p, "2026-11-20"),
            d("2026-12-20"),
            "{p:?}: even on a Sunday, the statutory month stands"
        );
    }
    assert_eq!(
        due(Category::DataProtection, Priority::Low, "2026-01-31"),
        d("2026-02-28")
    );
    assert_eq!(
        due(Category::DataProtection, Priority::Low, "2028-01-31"),
        d("2028-02-29"),
        "leap year"
    );
    assert_eq!(
        due(Category::DataProtection, Priority::Urgent, "2026-03-31"),
        d("2026-04-30")
    );
    assert_eq!(
        due(Category::DataProtection, Priority::Normal, "2026-12-15"),
        d("2027-01-15")
    );
}

#[test]
fn due_state_counts_days_and_ignores_waiting_on_member() {
    let today = d("2026-11-23");
    assert_eq!(
        due_state(d("2026-11-20"), Status::WaitingOnMember, today),
        DueState::Overdue(3),
        "waiting on the member pauses nothing"
    );
    assert_eq!(
        due_state(d("2026-11-23"), Status::Open, today),
        DueState::DueToday
    );
    assert_eq!(
        due_state(d("2026-11-25"), Status::InProgress, today),
        DueState::DueIn(2)
    );
    assert_eq!(
        due_state(d("2026-11-01"), Status::Resolved, today),
        DueState::Closed
    );
}

#[test]
fn the_allowed_status_path() {
    use Status::*;
    assert_eq!(check_status_change(Open, InProgress), Ok(()));
    assert_eq!(check_status_change(InProgress, WaitingOnMember), Ok(()));
    assert_eq!(check_status_change(WaitingOnMember, InProgress), Ok(()));
    for from in [Open, InProgress, WaitingOnMember] {
        assert_eq!(
            check_resolve(from, "  Refunded the double payment "),
            Ok("Refunded the double payment".into())
        );
    }
    assert_eq!(check_reopen(Resolved), Ok(()));
}

#[test]
fn impossible_status_changes_are_refused_with_a_reason() {
    use Status::*;
    let err = check_status_change(InProgress, InProgress).unwrap_err();
    assert_eq!(err, RuleError::SameStatus(InProgress));
    assert_eq!(err.to_string(), "the escalation is already in progress");

    let err = check_status_change(Open, WaitingOnMember).unwrap_err();
    assert_eq!(
        err.to_string(),
        "an escalation that is open cannot go to waiting on member; it can go to: in progress, \
         resolved"
    );
    assert!(matches!(
        check_status_change(InProgress, Open),
        Err(RuleError::NotAllowed { .. })
    ));

    assert_eq!(
        check_status_change(Resolved, InProgress),
        Err(RuleError::ResolvedIsClosed)
    );
    assert_eq!(
        check_status_change(InProgress, Resolved),
        Err(RuleError::ResolveNeedsNote),
        "resolving goes through resolve, with a note"
    );
    assert_eq!(check_resolve(Open, "   \n "), Err(RuleError::NoteRequired));
    assert_eq!(
        check_resolve(Resolved, "again"),
        Err(RuleError::AlreadyResolved)
    );
    assert_eq!(check_reopen(Open), Err(RuleError::NotResolved(Open)));
    assert!(
        RuleError::NoteRequired
            .to_string()
            .contains("resolution note is required")
    );
}

#[test]
fn every_unresolved_status_offers_resolved_and_a_resolved_one_offers_nothing() {
    for s in [Status::Open, Status::InProgress, Status::WaitingOnMember] {
        assert!(s.next().contains(&Status::Resolved), "{s:?}");
        assert!(!s.next().contains(&s), "{s:?}");
        for to in s.next() {
            if *to != Status::Resolved {
                assert_eq!(check_status_change(s, *to), Ok(()));
            }
        }
    }
    assert!(Status::Resolved.next().is_empty());
}

#[test]
fn the_command_line_spellings_are_forgiving_and_errors_name_the_accepted_ones() {
    assert_eq!("data-protection".parse(), Ok(Category::DataProtection));
    assert_eq!("Data Protection".parse(), Ok(Category::DataProtection));
    assert_eq!("RENEWAL_PAYMENT".parse(), Ok(Category::RenewalPayment));
    assert_eq!("dispute".parse(), Ok(Category::DisputeDisciplinary));
    assert_eq!("Urgent".parse(), Ok(Priority::Urgent));
    assert_eq!("waiting-on-member".parse(), Ok(Status::WaitingOnMember));
    assert_eq!("all-open".parse(), Ok(View::Open));

    let err = "complain".parse::<Category>().unwrap_err();
    assert_eq!(
        err,
        "unknown category `complain`; use one of: complaint, renewal_payment, member_concern, \
         data_protection, safeguarding, dispute_disciplinary, other"
    );
    let err = "asap".parse::<Priority>().unwrap_err();
    assert_eq!(
        err,
        "unknown priority `asap`; use one of: urgent, high, normal, low"
    );
}

#[test]
fn titles_and_assignees_are_checked() {
    assert_eq!(
        check_title("  Double charged  "),
        Ok("Double charged".into())
    );
    assert_eq!(check_title("   "), Err(RuleError::EmptyTitle));
    assert_eq!(check_title("two\nlines"), Err(RuleError::BadTitle));
    assert_eq!(check_title(&"x".repeat(201)), Err(RuleError::BadTitle));
    assert_eq!(check_assignee(" bob "), Ok(Some("bob".into())));
    assert_eq!(check_assignee("  "), Ok(None));
    assert_eq!(check_assignee(&"b".repeat(65)), Err(RuleError::BadAssignee));
}

#[test]
fn views_cycle_through_the_five_pane_views() {
    let mut v = View::Mine;
    let mut seen = vec![v];
    for _ in 0..4 {
        v = v.next();
        seen.push(v);
    }
    assert_eq!(seen, View::PANE.to_vec());
    assert_eq!(v.next(), View::Mine);
    assert_eq!(View::Mine.previous(), View::Resolved);
    assert_eq!(View::All.next(), View::Mine, "All is not a pane view");
}
