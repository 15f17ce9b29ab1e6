//! The member view: opened from a pane, everything about the member, and back with `Esc`.

mod app_common;

use app_common::*;
use ratatui::crossterm::event::KeyCode;
use rollcall::app::pane::PaneId;

fn harness(size: (u16, u16), log: &Log) -> Harness {
    let mut h = Harness::with(
        member_store(),
        Options {
            panes: fake_panes(log),
            size,
            ..Options::default()
        },
    );
    h.code(KeyCode::Char('1'));
    h
}

#[test]
fn member_view_snapshot_100x30() {
    let log = Log::default();
    let mut h = harness((100, 30), &log);
    h.code(KeyCode::Enter);
    insta::assert_snapshot!("member_100x30", h.screen());
    h.code(KeyCode::Char('G'));
    insta::assert_snapshot!("member_100x30_end", h.screen());
}

#[test]
fn member_view_snapshot_80x24() {
    let log = Log::default();
    let mut h = harness((80, 24), &log);
    h.code(KeyCode::Enter);
    insta::assert_snapshot!("member_80x24", h.screen());
}

#[test]
fn shows_preferences_memberships_and_the_timeline() {
    let log = Log::default();
    let mut h = harness((100, 60), &log);
    h.code(KeyCode::Enter);
    let screen = h.screen();
    let lines: Vec<&str> = screen.lines().collect();
    // Preferences come first, as words.
    assert!(lines[2].contains("[DO NOT PHONE]"), "{screen}");
    assert!(lines[2].contains("[NO BULK EMAIL]"), "{screen}");
    assert!(lines[2].contains("[WELSH SPEAKER: cy_GB]"), "{screen}");
    for expected in [
        "Siân Prydderch",
        "sian.p@example.org",
        "12 Heol y Castell, Caerdydd, South Glamorgan, CF10 1AA",
        "Cardiff Central",
        "▪ Individual  CRM #9001",
        "CRM status Current · rollcall status Grace",
        "! DISAGREE: the dates give Grace as of today; the CRM says Current",
        "auto-renew yes · source Online",
        "▪ Youth",
        "! MISSING from the CRM export since the import of 2026-11-20",
        "2026-11-22 14:00  cai",
        "note (renewals)",
        "Prefers letters.",
        "email contact: left message",
        "import by bob",
        "renewed (Individual): end date 2025-10-31 → 2026-10-31",
    ] {
        assert!(screen.contains(expected), "{expected} in\n{screen}");
    }
    // Newest first.
    let note = screen.find("note (renewals)").unwrap();
    let attempt = screen.find("email contact").unwrap();
    let renewed = screen.find("renewed (Individual)").unwrap();
    let joined = screen.find("joined (Individual)").unwrap();
    assert!(note < attempt && attempt < renewed && renewed < joined);
}

#[test]
fn esc_returns_to_the_pane_as_it_was() {
    let log = Log::default();
    let mut h = harness((100, 30), &log);
    h.type_text("jj");
    h.code(KeyCode::Enter);
    assert!(h.screen().contains("Siân Prydderch"));
    h.type_text("jjj"); // scrolls the member view, not the pane
    h.code(KeyCode::Esc);
    let screen = h.screen();
    assert!(!screen.contains("Siân Prydderch"));
    assert!(screen.contains("Search pane — selected row 2"), "{screen}");
    assert_eq!(h.app.active_pane(), PaneId::Search);
}

#[test]
fn escalate_from_the_member_view_opens_the_escalations_editor() {
    let log = Log::default();
    let mut h = harness((100, 30), &log);
    h.code(KeyCode::Enter);
    h.code(KeyCode::Char('e'));
    assert_eq!(h.app.active_pane(), PaneId::Escalations);
    assert!(
        !h.screen().contains("Siân Prydderch"),
        "the member view closed"
    );
    assert!(
        log.borrow()
            .contains(&"start_escalation Escalations 1 Some(10)".to_owned()),
        "{:?}",
        log.borrow()
    );
}

#[test]
fn add_to_onboarding_from_the_member_view_asks_the_onboarding_pane() {
    let log = Log::default();
    let mut h = harness((100, 30), &log);
    h.code(KeyCode::Enter);
    h.code(KeyCode::Char('o'));
    assert!(
        log.borrow()
            .contains(&"add_to_onboarding Onboarding 1".to_owned())
    );
    let screen = h.screen();
    assert!(screen.contains("Added to onboarding"), "{screen}");
    assert!(screen.contains("Siân Prydderch"), "still on the member");
}

#[test]
fn a_pane_escalating_switches_to_escalations() {
    let log = Log::default();
    let mut h = harness((100, 30), &log);
    h.code(KeyCode::Char('e')); // [search] escalate
    assert_eq!(h.app.active_pane(), PaneId::Escalations);
    assert!(
        log.borrow()
            .contains(&"start_escalation Escalations 1 Some(10)".to_owned())
    );
}

#[test]
fn data_changed_refreshes_other_panes_when_next_shown() {
    let log = Log::default();
    let mut h = harness((100, 30), &log);
    h.code(KeyCode::Char('2'));
    let refreshes = |log: &Log, pane: &str| {
        log.borrow()
            .iter()
            .filter(|l| *l == &format!("refresh {pane}"))
            .count()
    };
    assert_eq!(refreshes(&log, "Renewals"), 1, "first shown");
    h.code(KeyCode::Char('1'));
    h.code(KeyCode::Char('2'));
    assert_eq!(refreshes(&log, "Renewals"), 1, "not reloaded for nothing");
    h.code(KeyCode::Char('1'));
    h.code(KeyCode::Char('/')); // the fake search pane reports DataChanged
    assert_eq!(
        refreshes(&log, "Search"),
        1,
        "the pane that changed it is not reloaded"
    );
    h.code(KeyCode::Char('2'));
    assert_eq!(refreshes(&log, "Renewals"), 2);
}

#[test]
fn a_contact_that_is_gone_says_so() {
    let log = Log::default();
    let mut h = harness((100, 30), &log);
    h.app.db().request(PaneId::Today, "test:erase", |store, _| {
        store.conn.execute_batch(
            "DELETE FROM membership_events; DELETE FROM contact_attempts; DELETE FROM notes;
             DELETE FROM memberships; DELETE FROM contacts;",
        )?;
        Ok(())
    });
    h.settle();
    h.code(KeyCode::Enter);
    assert!(h.screen().contains("no longer in the database"));
}

/// Ten megabytes: what a CRM export can hold in one cell, and what rollcall's import lets
/// through only since its cell limit; older databases may hold such values already.
const HUGE: usize = 10 * 1024 * 1024;

/// The member of [`member_store`] with a 10 MB display name, a 10 MB address that is one
/// unbroken "word", and a 10 MB note of ordinary words, written through the store directly.
fn huge_member_store() -> rollcall::storage::Store {
    let store = member_store();
    let unbroken = format!("12 Heol y Castell {}", "A".repeat(HUGE));
    let name = format!("Siân Prydderch {}", "y".repeat(HUGE));
    let note = format!("Prefers letters. {}", "word ".repeat(HUGE / 5));
    store
        .conn
        .execute(
            "UPDATE contacts SET display_name = ?1, street_address = ?2 WHERE id = 1",
            [&name, &unbroken],
        )
        .unwrap();
    store
        .conn
        .execute("UPDATE notes SET body = ?1 WHERE contact_id = 1", [&note])
        .unwrap();
    store
}

/// Opening a member with 10 MB fields froze the app (100% CPU for minutes, Esc, `q` and SIGTERM
/// ignored): every frame wrapped each value in full, and cut a long word by copying the rest of
/// it again for every line. Drawing now costs what is shown: each value is cut to the lines it
/// may fill, ending in `…`. The views are drawn on a thread of their own, so that a freeze
/// fails this test rather than hanging it.
#[test]
fn a_member_with_10_mb_fields_opens_at_once_cut_short_with_an_ellipsis() {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let log = Log::default();
        let mut h = Harness::with(
            huge_member_store(),
            Options {
                panes: fake_panes(&log),
                size: (80, 24),
                ..Options::default()
            },
        );
        h.code(KeyCode::Char('1'));
        h.code(KeyCode::Enter);
        let top = h.screen();
        h.code(KeyCode::Char('G'));
        let end = h.screen();
        let _ = tx.send((top, end));
    });
    let (top, end) = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the member view drew a member with 10 MB fields (it froze the app)");
    insta::assert_snapshot!("member_10mb_fields_80x24", top);
    insta::assert_snapshot!("member_10mb_fields_80x24_end", end);
    let lines: Vec<&str> = top.lines().collect();
    assert!(lines[1].contains("Siân Prydderch yyy"), "{top}");
    assert!(
        lines[1].contains("y… ┐"),
        "the title is cut with an ellipsis:\n{top}"
    );
    let address: Vec<&&str> = lines
        .iter()
        .skip_while(|l| !l.contains("Address"))
        .take_while(|l| !l.contains("Language"))
        .collect();
    assert!(
        (2..=4).contains(&address.len()),
        "the address fills at most four lines:\n{top}"
    );
    assert!(address[0].contains("12 Heol y Castell"), "{top}");
    assert!(address.last().unwrap().contains("AAA…"), "{top}");
    assert!(
        end.contains("word word…”"),
        "the note is cut with an ellipsis:\n{end}"
    );
    // The view is a screenful or four, not the 150,000 lines the note would wrap to.
    assert!(end.contains(" 61/79 "), "{end}");
}

/// The real panes on the member store, the member opened from the renewals queue (the same
/// `OpenMember` as from search).
fn opened_from_a_queue() -> Harness {
    let options = Options {
        size: (100, 60),
        ..Options::default()
    };
    let mut h = Harness::with(member_store(), options);
    h.code(KeyCode::Char('2'));
    h.code(KeyCode::Char('A')); // she renews automatically: show those too
    assert!(h.screen().contains("Siân Prydderch"), "{}", h.screen());
    h.code(KeyCode::Enter);
    assert!(h.screen().contains("Memberships (2)"), "{}", h.screen());
    h
}

#[test]
fn a_contact_logged_from_the_member_view_shows_on_the_timeline() {
    let mut h = opened_from_a_queue();
    let hints = h.screen();
    assert!(
        hints.contains("log a contact"),
        "the hint line offers it:\n{hints}"
    );
    h.code(KeyCode::Char('c'));
    let screen = h.screen();
    assert!(
        screen.contains("channel"),
        "the renewals channel chooser:\n{screen}"
    );
    h.code(KeyCode::Char('e'));
    h.code(KeyCode::Char('n'));
    let screen = h.screen();
    assert!(
        screen.contains("ann") && screen.contains("email contact: no answer"),
        "on the timeline:\n{screen}"
    );
}

#[test]
fn a_note_and_a_snooze_from_the_member_view() {
    let mut h = opened_from_a_queue();
    h.code(KeyCode::Char('n'));
    h.type_text("Rang in about the branch AGM");
    h.code(KeyCode::Enter);
    assert!(h.screen().contains("Rang in about the branch AGM"));
    h.code(KeyCode::Char('s'));
    h.type_text("+7");
    h.code(KeyCode::Enter);
    let screen = h.screen();
    assert!(
        screen.contains("Siân Prydderch"),
        "still on the member:\n{screen}"
    );
}

#[test]
fn help_in_the_member_view_lists_every_action_on_a_member() {
    let mut h = opened_from_a_queue();
    h.code(KeyCode::Char('?'));
    let screen = h.screen();
    for action in [
        "log a contact attempt",
        "add a note",
        "set the next action date",
        "assign in renewals",
        "escalate",
        "add to onboarding",
    ] {
        assert!(screen.contains(action), "{action}:\n{screen}");
    }
}
