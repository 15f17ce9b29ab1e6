//! Working the onboarding queue in the store: ticking, bulk ticking, undo, assignment, notes,
//! abandoning, and what survives a re-import.

mod onboarding_support;

use onboarding_support::*;
use rollcall::config::OnboardingConfig;
use rollcall::domain::onboarding::{AbandonReason, StepPath};
use rollcall::storage::onboarding::{self, QueueEntry, Undo};
use rollcall::storage::{OpenMode, Store};

fn load(store: &mut Store) -> Vec<QueueEntry> {
    onboarding::load_queue(store, &clock(), &OnboardingConfig::default()).unwrap()
}

fn entry(store: &mut Store, contact: i64) -> Option<QueueEntry> {
    load(store).into_iter().find(|e| e.contact_id == contact)
}

fn count(store: &Store, sql: &str) -> i64 {
    store.conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn three_new_members(store: &mut Store) -> [i64; 3] {
    let ids = [
        Member::new("1", "Aled")
            .joined("2026-11-01")
            .insert(&store.conn),
        Member::new("2", "Bethan")
            .joined("2026-11-05")
            .insert(&store.conn),
        Member::new("3", "Carys")
            .joined("2026-11-10")
            .insert(&store.conn),
    ];
    load(store);
    ids
}

#[test]
fn ticking_records_who_and_when_and_unticking_removes_it() {
    let mut store = memory_store();
    let [a, ..] = three_new_members(&mut store);
    let path = StepPath::default_path();
    let out = onboarding::tick(&mut store, &clock(), &path, "welcome_email", &[a]).unwrap();
    assert_eq!((out.ticked, out.already_done, out.completed), (1, 0, 0));
    let e = entry(&mut store, a).unwrap();
    let record = &e.steps["welcome_email"];
    assert_eq!(record.done_by, "ann");
    assert_eq!(record.done_at, "2026-11-23T09:00:00");
    assert_eq!(e.progress(&path, today()).done, 1);
    let audit = rollcall::storage::audit::lines(&store.conn, Some(a), None).unwrap();
    assert_eq!(audit.last().unwrap().action, "onboarding.step_done");

    let bob = clock_for("bob");
    onboarding::untick(&mut store, &bob, a, "welcome_email").unwrap();
    let e = entry(&mut store, a).unwrap();
    assert!(e.steps.is_empty());
    let audit = rollcall::storage::audit::lines(&store.conn, Some(a), None).unwrap();
    let last = audit.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.staff.as_str()),
        ("onboarding.step_undone", "bob")
    );
}

#[test]
fn a_bulk_tick_is_one_batch_and_undo_reverses_only_that_batch() {
    let mut store = memory_store();
    let [a, b, c] = three_new_members(&mut store);
    let path = StepPath::default_path();
    // Bethan's email was already sent, by bob, earlier.
    onboarding::tick(&mut store, &clock_for("bob"), &path, "welcome_email", &[b]).unwrap();
    let out = onboarding::tick(&mut store, &clock(), &path, "welcome_email", &[a, b, c]).unwrap();
    assert_eq!((out.ticked, out.already_done), (2, 1));
    let batches = count(
        &store,
        "SELECT COUNT(DISTINCT batch) FROM onboarding_steps WHERE done_by = 'ann'",
    );
    assert_eq!(batches, 1);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM onboarding_steps"), 3);

    let reverted = onboarding::undo(&mut store, &clock(), &out.undo).unwrap();
    assert_eq!(reverted, 2);
    let q = load(&mut store);
    let done: Vec<(i64, String)> = q
        .iter()
        .filter(|e| e.steps.contains_key("welcome_email"))
        .map(|e| (e.contact_id, e.steps["welcome_email"].done_by.clone()))
        .collect();
    assert_eq!(
        done,
        [(b, "bob".to_owned())],
        "bob's earlier tick is untouched"
    );
}

#[test]
fn undoing_a_tick_leaves_a_step_someone_has_since_redone() {
    let mut store = memory_store();
    let [a, ..] = three_new_members(&mut store);
    let path = StepPath::default_path();
    let first = onboarding::tick(&mut store, &clock(), &path, "welcome_call", &[a]).unwrap();
    onboarding::untick(&mut store, &clock_for("bob"), a, "welcome_call").unwrap();
    onboarding::tick(&mut store, &clock_for("bob"), &path, "welcome_call", &[a]).unwrap();
    assert_eq!(
        onboarding::undo(&mut store, &clock(), &first.undo).unwrap(),
        0
    );
    assert_eq!(
        entry(&mut store, a).unwrap().steps["welcome_call"].done_by,
        "bob"
    );
}

#[test]
fn the_last_step_completes_the_path_and_undo_reopens_it() {
    let mut store = memory_store();
    let [a, ..] = three_new_members(&mut store);
    let path = StepPath::default_path();
    let keys: Vec<String> = path.steps().iter().map(|s| s.key.clone()).collect();
    for key in &keys[..4] {
        onboarding::tick(&mut store, &clock(), &path, key, &[a]).unwrap();
    }
    let last = onboarding::tick(&mut store, &clock(), &path, &keys[4], &[a]).unwrap();
    assert_eq!(last.completed, 1);
    assert!(
        entry(&mut store, a).is_none(),
        "a completed path leaves the queue"
    );
    let (state, by): (String, String) = store
        .conn
        .query_row(
            "SELECT state, closed_by FROM onboarding WHERE contact_id = ?1",
            [a],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((state.as_str(), by.as_str()), ("completed", "ann"));

    onboarding::undo(&mut store, &clock(), &last.undo).unwrap();
    let back = entry(&mut store, a).expect("back in the queue");
    assert_eq!(back.progress(&path, today()).done, 4);
    // Completed paths are not entered again by the entry rule.
    onboarding::tick(&mut store, &clock(), &path, &keys[4], &[a]).unwrap();
    assert!(entry(&mut store, a).is_none());
}

#[test]
fn a_tick_for_someone_no_longer_in_the_queue_is_counted_not_written() {
    let mut store = memory_store();
    let [a, b, _] = three_new_members(&mut store);
    let path = StepPath::default_path();
    onboarding::abandon(&mut store, &clock(), b, AbandonReason::DuplicateRecord, "").unwrap();
    let out = onboarding::tick(&mut store, &clock(), &path, "welcome_email", &[a, b]).unwrap();
    assert_eq!((out.ticked, out.not_in_queue), (1, 1));
    let err = onboarding::tick(&mut store, &clock(), &path, "no_such_step", &[a]).unwrap_err();
    assert!(err.to_string().contains("not a step"), "{err}");
}

#[test]
fn assigning_unassigning_and_undo() {
    let mut store = memory_store();
    let [a, ..] = three_new_members(&mut store);
    let first = onboarding::assign(&mut store, &clock(), a, Some(" rhian ")).unwrap();
    assert_eq!(
        entry(&mut store, a).unwrap().assignee.as_deref(),
        Some("rhian")
    );
    let second = onboarding::assign(&mut store, &clock(), a, None).unwrap();
    assert_eq!(entry(&mut store, a).unwrap().assignee, None);
    onboarding::undo(&mut store, &clock(), &second).unwrap();
    assert_eq!(
        entry(&mut store, a).unwrap().assignee.as_deref(),
        Some("rhian")
    );
    onboarding::undo(&mut store, &clock(), &first).unwrap();
    assert_eq!(entry(&mut store, a).unwrap().assignee, None);
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM assignments WHERE queue = 'onboarding'"
        ),
        0
    );
    let err = onboarding::assign(&mut store, &clock(), a, Some("   ")).unwrap_err();
    assert!(err.to_string().contains("staff name"), "{err}");
}

#[test]
fn notes_are_kept_in_the_onboarding_context_and_undo_removes_one() {
    let mut store = memory_store();
    let [a, ..] = three_new_members(&mut store);
    onboarding::add_note(&mut store, &clock(), a, "Rang, no answer").unwrap();
    let second = onboarding::add_note(
        &mut store,
        &clock_for("bob"),
        a,
        "Spoke: will come to induction",
    )
    .unwrap();
    let e = entry(&mut store, a).unwrap();
    assert_eq!(e.note_count, 2);
    let last = e.last_note.unwrap();
    assert_eq!(
        (last.staff.as_str(), last.body.as_str()),
        ("bob", "Spoke: will come to induction")
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM notes WHERE context = 'onboarding'"
        ),
        2
    );
    onboarding::undo(&mut store, &clock(), &second).unwrap();
    assert_eq!(entry(&mut store, a).unwrap().note_count, 1);
    assert!(onboarding::add_note(&mut store, &clock(), a, "  ").is_err());
}

#[test]
fn abandoning_needs_a_reason_and_undo_puts_the_member_back() {
    let mut store = memory_store();
    let [a, b, _] = three_new_members(&mut store);
    let err = onboarding::abandon(&mut store, &clock(), a, AbandonReason::Other, "").unwrap_err();
    assert!(err.to_string().contains("other reason"), "{err}");
    let undo = onboarding::abandon(
        &mut store,
        &clock(),
        a,
        AbandonReason::NeverPaid,
        "no DD set up",
    )
    .unwrap();
    onboarding::abandon(
        &mut store,
        &clock(),
        b,
        AbandonReason::Other,
        "moved abroad",
    )
    .unwrap();
    assert!(entry(&mut store, a).is_none());
    let reasons: Vec<String> = store
        .conn
        .prepare(
            "SELECT closed_reason FROM onboarding WHERE state = 'abandoned' ORDER BY contact_id",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(reasons, ["Never paid: no DD set up", "Other: moved abroad"]);
    // The entry rule does not bring an abandoned member back.
    assert!(entry(&mut store, b).is_none());
    onboarding::undo(&mut store, &clock(), &undo).unwrap();
    assert!(entry(&mut store, a).is_some());
}

#[test]
fn adding_back_by_hand_after_abandoning_keeps_the_steps_done() {
    let mut store = memory_store();
    let [a, ..] = three_new_members(&mut store);
    let path = StepPath::default_path();
    onboarding::tick(&mut store, &clock(), &path, "welcome_email", &[a]).unwrap();
    onboarding::abandon(&mut store, &clock(), a, AbandonReason::AskedToLeave, "").unwrap();
    let onboarding::Added::Entered(undo) =
        onboarding::add_by_hand(&mut store, &clock(), a).unwrap()
    else {
        panic!("expected to re-enter");
    };
    let e = entry(&mut store, a).unwrap();
    assert!(e.added_by_hand);
    assert!(e.steps.contains_key("welcome_email"));
    onboarding::undo(&mut store, &clock(), &undo).unwrap();
    assert!(
        entry(&mut store, a).is_none(),
        "undo restores the abandoned path"
    );
}

#[test]
fn progress_assignment_and_notes_survive_a_reimport_that_says_they_paid() {
    let mut store = memory_store();
    let pending = Member::new("7", "Pending Payer")
        .joined("2026-11-01")
        .status("Pending")
        .insert(&store.conn);
    load(&mut store);
    let path = StepPath::default_path();
    onboarding::tick(&mut store, &clock(), &path, "welcome_email", &[pending]).unwrap();
    onboarding::tick(&mut store, &clock(), &path, "welcome_call", &[pending]).unwrap();
    onboarding::assign(&mut store, &clock(), pending, Some("rhian")).unwrap();
    onboarding::add_note(
        &mut store,
        &clock(),
        pending,
        "Waiting for the first payment",
    )
    .unwrap();

    // Tomorrow's import: they paid, so the CRM says Current. They stay with everything
    // recorded.
    reimport_as_paid(&store.conn, pending);
    let e = entry(&mut store, pending).expect("still in the queue");
    assert_eq!(e.progress(&path, today()).done, 2);
    assert_eq!(e.assignee.as_deref(), Some("rhian"));
    assert_eq!(e.note_count, 1);
    assert_eq!(
        e.anchor,
        d("2026-11-01"),
        "anchor kept from when they entered"
    );
}

#[test]
fn a_contact_marked_deceased_by_a_later_import_leaves_the_queue_with_progress_kept() {
    let mut store = memory_store();
    let [a, ..] = three_new_members(&mut store);
    let path = StepPath::default_path();
    onboarding::tick(&mut store, &clock(), &path, "welcome_email", &[a]).unwrap();
    store
        .conn
        .execute("UPDATE contacts SET is_deceased = 1 WHERE id = ?1", [a])
        .unwrap();
    assert!(entry(&mut store, a).is_none());
    assert_eq!(count(&store, "SELECT COUNT(*) FROM onboarding_steps"), 1);
}

#[test]
fn read_only_refuses_every_change_and_leaves_the_store_alone() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.db");
    let a = {
        let mut store = Store::open(&file, OpenMode::ReadWrite).unwrap();
        let ids = three_new_members(&mut store);
        ids[0]
    };
    let mut store = Store::open(&file, OpenMode::ReadOnly).unwrap();
    let path = StepPath::default_path();
    let err = onboarding::tick(&mut store, &clock(), &path, "welcome_email", &[a]).unwrap_err();
    assert!(err.to_string().contains("read-only"), "{err}");
    assert!(onboarding::assign(&mut store, &clock(), a, Some("ann")).is_err());
    assert!(onboarding::add_note(&mut store, &clock(), a, "x").is_err());
    assert!(onboarding::abandon(&mut store, &clock(), a, AbandonReason::NeverPaid, "").is_err());
    assert!(onboarding::add_by_hand(&mut store, &clock(), a).is_err());
    let undo = Undo::Assigned {
        contact_id: a,
        before: None,
    };
    assert!(onboarding::undo(&mut store, &clock(), &undo).is_err());
    assert_eq!(count(&store, "SELECT COUNT(*) FROM onboarding_steps"), 0);
}
