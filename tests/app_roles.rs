//! What a staff role sees in the app (issue 16): no key that cannot work is offered, pressing
//! one anyway says why, and assigning picks from the staff list.

mod app_common;

use app_common::*;
use ratatui::crossterm::event::KeyCode;
use rollcall::domain::staff::Role;
use rollcall::storage::Store;

fn as_role(role: Role) -> Harness {
    Harness::with(
        member_store(),
        Options {
            role: Some(role),
            ..Options::default()
        },
    )
}

/// The help text from a section's title to the next blank line.
fn section<'a>(screen: &'a str, title: &str) -> Vec<&'a str> {
    screen
        .lines()
        .skip_while(|l| !l.split('│').any(|cell| cell.trim() == title))
        .skip(1)
        .take_while(|l| !l.trim_matches(['"', '│', ' ']).is_empty())
        .collect()
}

#[test]
fn a_viewers_help_leaves_out_every_change_and_lists_them_under_why() {
    let mut h = as_role(Role::Viewer);
    h.type_text("2");
    let hints = h.screen().lines().last().unwrap_or_default().to_owned();
    assert!(!hints.contains("log contact"), "{hints}");
    h.code(KeyCode::Char('?'));
    h.resize(120, 60);
    let screen = h.screen();
    let own = section(&screen, "Renewals");
    assert!(
        own.iter().any(|l| l.contains("next member nobody")),
        "{screen}"
    );
    assert!(
        !own.iter().any(|l| l.contains("log a contact attempt")),
        "{screen}"
    );
    let refused = section(&screen, "Not here: read-only (your staff role is viewer)");
    for change in ["log a contact attempt", "set the next action date", "undo"] {
        assert!(
            refused.iter().any(|l| l.contains(change)),
            "{change} under why:\n{screen}"
        );
    }
}

#[test]
fn an_officers_help_lists_their_work_and_nothing_under_why() {
    let mut h = as_role(Role::Officer);
    h.type_text("2");
    h.code(KeyCode::Char('?'));
    h.resize(120, 60);
    let screen = h.screen();
    assert!(screen.contains("log a contact attempt"), "{screen}");
    assert!(!screen.contains("Not here"), "{screen}");
}

#[test]
fn an_officer_pressing_import_is_told_it_is_for_admins() {
    let mut h = as_role(Role::Officer);
    h.type_text(":import ~/nov.csv");
    h.code(KeyCode::Enter);
    let screen = h.screen();
    assert!(
        screen.contains("importing is for admins (your staff role is officer)"),
        "{screen}"
    );
}

fn staffed_store() -> Store {
    let store = member_store();
    store
        .conn
        .execute_batch(
            "INSERT INTO staff (login, name, role, added_by, added_at) VALUES
                 ('ann', 'Ann Jones', 'admin', 'ann', '2026-11-01T09:00:00'),
                 ('bo', 'Bo Evans', 'officer', 'ann', '2026-11-01T09:00:00'),
                 ('bryn', 'Bryn Jones', 'officer', 'ann', '2026-11-01T09:00:00');
             INSERT INTO staff (login, name, role, added_by, added_at, removed_by, removed_at)
                 VALUES ('cai', 'Cai Hughes', 'officer', 'ann', '2026-11-01T09:00:00',
                         'ann', '2026-11-10T09:00:00');",
        )
        .unwrap();
    store
}

#[test]
fn assigning_picks_from_the_current_staff_list_and_a_stranger_is_refused_in_the_prompt() {
    let mut h = Harness::new(staffed_store());
    h.type_text("2");
    h.type_text("a");
    let screen = h.screen();
    for listed in [
        "ann  Ann Jones · admin",
        "bo  Bo Evans · officer",
        "bryn  Bryn Jones",
    ] {
        assert!(screen.contains(listed), "{listed} in\n{screen}");
    }
    assert!(
        !screen.contains("Cai Hughes"),
        "removed staff are not offered:\n{screen}"
    );
    h.resize(80, 24);
    insta::assert_snapshot!("assign_picker_80x24", h.screen());
    h.type_text("cai");
    h.code(KeyCode::Enter);
    let screen = h.screen();
    assert!(
        screen.contains("nobody on the staff list matches \"cai\""),
        "{screen}"
    );
    for _ in 0..3 {
        h.code(KeyCode::Backspace);
    }
    h.type_text("jones");
    h.code(KeyCode::Down);
    h.code(KeyCode::Enter);
    let screen = h.screen();
    assert!(screen.contains("Assigned 1 member to bryn"), "{screen}");
}
