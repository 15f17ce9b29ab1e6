//! The shell as a user meets it: panes, tabs, help, the command line, quitting.

mod app_common;

use app_common::*;
use ratatui::crossterm::event::KeyCode;
use rollcall::app::pane::PaneId;
use rollcall::storage::Store;

fn app() -> Harness {
    Harness::new(Store::open_in_memory().unwrap())
}

#[test]
fn opens_on_today_and_shows_date_import_and_user() {
    let mut h = app();
    assert_eq!(h.app.active_pane(), PaneId::Today);
    let screen = h.screen();
    assert!(screen.contains("[0 Today]"), "{screen}");
    assert!(
        screen.contains("as of 2026-11-23 · last import none yet"),
        "{screen}"
    );
    assert!(screen.contains("ann"), "{screen}");
    assert!(!screen.contains("READ-ONLY"));
}

#[test]
fn each_pane_snapshot() {
    let mut h = app();
    for (n, pane) in PaneId::ALL.into_iter().enumerate() {
        h.type_text(&n.to_string());
        assert_eq!(h.app.active_pane(), pane);
        insta::assert_snapshot!(format!("pane_{}", pane.keymap_section()), h.screen());
    }
}

#[test]
fn read_only_and_last_import_are_always_visible() {
    let store = member_store();
    let mut h = Harness::with(
        store,
        Options {
            read_only: true,
            ..Options::default()
        },
    );
    let screen = h.screen();
    assert!(screen.contains("READ-ONLY"), "{screen}");
    assert!(screen.contains("last import 2026-11-20 08:03"), "{screen}");
}

#[test]
fn number_keys_tab_and_backtab_switch_panes() {
    let mut h = app();
    h.code(KeyCode::Char('2'));
    assert_eq!(h.app.active_pane(), PaneId::Renewals);
    assert!(h.screen().contains("[2 Renewals]"));
    h.code(KeyCode::Tab);
    assert_eq!(h.app.active_pane(), PaneId::Onboarding);
    h.code(KeyCode::Tab);
    h.code(KeyCode::Tab);
    assert_eq!(h.app.active_pane(), PaneId::Today, "Tab wraps round");
    h.code(KeyCode::BackTab);
    assert_eq!(h.app.active_pane(), PaneId::Escalations);
    assert!(h.screen().contains("[4 Escalations]"));
}

#[test]
fn help_opens_lists_every_key_and_closes() {
    let mut h = app();
    h.code(KeyCode::Char('?'));
    let screen = h.screen();
    insta::assert_snapshot!("help_today", screen);
    for expected in ["Help", "k Up", "up one row", "Everywhere", "command line"] {
        assert!(screen.contains(expected), "{expected} in\n{screen}");
    }
    h.code(KeyCode::Char('G'));
    assert!(
        h.screen().contains("ctrl-c"),
        "the end of help shows the fixed quit key"
    );
    h.code(KeyCode::Esc);
    assert!(!h.screen().contains("Help ·"));
    h.code(KeyCode::Char('?'));
    h.code(KeyCode::Char('?'));
    assert!(!h.screen().contains("Help ·"), "? toggles");
}

#[test]
fn help_scrolls_when_it_does_not_fit() {
    let mut h = Harness::with(
        Store::open_in_memory().unwrap(),
        Options {
            size: (80, 24),
            ..Options::default()
        },
    );
    h.code(KeyCode::Char('?'));
    let first = h.screen();
    assert!(first.contains("1/"), "shows its position:\n{first}");
    h.code(KeyCode::Char('G'));
    let last = h.screen();
    assert!(last.contains("suspend"), "{last}");
    assert_ne!(first, last);
}

#[test]
fn command_line_switches_pane_and_reports_unknown_commands() {
    let mut h = app();
    h.code(KeyCode::Char(':'));
    h.type_text("pane renewals");
    let screen = h.screen();
    insta::assert_snapshot!("command_line", screen);
    assert!(
        screen.contains("as of 2026-11-23"),
        "still visible while typing"
    );
    h.code(KeyCode::Enter);
    assert_eq!(h.app.active_pane(), PaneId::Renewals);
    h.code(KeyCode::Char(':'));
    h.type_text("frobnicate");
    h.code(KeyCode::Enter);
    let screen = h.screen();
    assert!(screen.contains("unknown command `:frobnicate`"), "{screen}");
    assert!(!h.app.should_quit());
    // Esc leaves the command line without running it.
    h.code(KeyCode::Char(':'));
    h.type_text("q");
    h.code(KeyCode::Esc);
    assert!(!h.app.should_quit());
    // Up recalls the last command.
    h.code(KeyCode::Char(':'));
    h.code(KeyCode::Up);
    assert!(h.screen().contains(":frobnicate"));
}

#[test]
fn colon_q_quits() {
    let mut h = app();
    h.code(KeyCode::Char(':'));
    h.type_text("q");
    assert!(!h.app.should_quit());
    h.code(KeyCode::Enter);
    assert!(h.app.should_quit());
}

#[test]
fn q_and_ctrl_c_quit() {
    let mut h = app();
    h.code(KeyCode::Char('q'));
    assert!(h.app.should_quit());
    let mut h = app();
    h.press(ctrl('c'));
    assert!(h.app.should_quit());
}

#[test]
fn ctrl_z_asks_the_loop_to_suspend() {
    let mut h = app();
    h.press(ctrl('z'));
    assert!(h.app.take_suspend_request());
    assert!(!h.app.take_suspend_request(), "once");
}

#[test]
fn a_pane_taking_text_gets_every_key_but_ctrl_c() {
    let log = Log::default();
    let mut h = Harness::with(
        Store::open_in_memory().unwrap(),
        Options {
            panes: fake_panes(&log),
            ..Options::default()
        },
    );
    h.code(KeyCode::Char('2'));
    h.code(KeyCode::Char('n')); // [renewals] note: the fake pane starts taking text
    h.type_text("q0?");
    assert!(!h.app.should_quit());
    assert_eq!(h.app.active_pane(), PaneId::Renewals);
    assert!(log.borrow().iter().any(|l| l == "raw Renewals Char('q')"));
    h.code(KeyCode::Esc);
    h.press(ctrl('c'));
    assert!(h.app.should_quit());
}

#[test]
fn status_messages_show_and_time_out() {
    let log = Log::default();
    let mut h = Harness::with(
        Store::open_in_memory().unwrap(),
        Options {
            panes: fake_panes(&log),
            ..Options::default()
        },
    );
    h.code(KeyCode::Char('2'));
    h.code(KeyCode::Char('n'));
    assert!(h.screen().contains("Note saved"));
    let deadline = h.app.next_deadline().expect("a deadline to clear it");
    assert!(h.app.tick(deadline));
    assert!(!h.screen().contains("Note saved"));
    assert_eq!(h.app.next_deadline(), None, "idle: nothing to wake for");
}

#[test]
fn too_small_a_terminal_gets_a_message() {
    let mut h = Harness::with(
        Store::open_in_memory().unwrap(),
        Options {
            size: (60, 20),
            ..Options::default()
        },
    );
    let screen = h.screen();
    insta::assert_snapshot!("too_small", screen);
    assert!(screen.contains("rollcall needs at least 80×24 (now 60×20)"));
    h.resize(80, 24);
    let screen = h.screen();
    insta::assert_snapshot!("shell_80x24", screen);
    assert!(screen.contains("[0 Today]"));
    h.resize(3, 1);
    h.screen(); // no panic on a sliver
}

#[test]
fn the_hint_line_and_help_come_from_the_same_bindings() {
    let log = Log::default();
    let mut h = Harness::with(
        Store::open_in_memory().unwrap(),
        Options {
            panes: fake_panes(&log),
            ..Options::default()
        },
    );
    h.code(KeyCode::Char('2'));
    let screen = h.screen();
    let hints = screen.lines().last().unwrap().to_owned();
    // The fake pane's hinted command with its built-in key ([renewals] escalate = "e").
    assert!(hints.contains("e escalate this member"), "{hints}");
    assert!(hints.contains("? help"), "{hints}");
    assert!(!hints.contains("add a note"), "not a hint: {hints}");
    h.code(KeyCode::Char('?'));
    let help = h.screen();
    assert!(
        help.contains("e") && help.contains("escalate this member"),
        "{help}"
    );
    assert!(help.contains("add a note"), "{help}");
}

/// On a team database the listener says who else has a window open; the status line names
/// them when it has nothing more important to say.
#[test]
fn the_status_line_names_who_else_is_here_unless_there_is_more_to_say() {
    use rollcall::app::db::{CONNECTION, DbReply, PRESENCE, UNREACHABLE};
    use rollcall::app::event::AppEvent;
    let mut h = app();
    let notice = |key: &'static str, value: Box<dyn std::any::Any + Send>| {
        AppEvent::Db(DbReply {
            pane: PaneId::Today,
            key,
            result: Ok(value),
        })
    };
    h.app.handle(notice(
        PRESENCE,
        Box::new(vec!["bo".to_owned(), "cai".to_owned()]),
    ));
    let screen = h.screen();
    assert!(screen.contains(" also here: bo, cai "), "{screen}");

    let many: Vec<String> = ["bo", "cai", "dee", "eli", "fay", "gus", "hal", "ivy"]
        .map(String::from)
        .to_vec();
    h.app.handle(notice(PRESENCE, Box::new(many)));
    let screen = h.screen();
    assert!(
        screen.contains("also here: bo, cai, dee, eli, fay, gus and 2 more"),
        "{screen}"
    );

    // The server going away, and coming back, are more important.
    h.app
        .handle(notice(CONNECTION, Box::new(Some(UNREACHABLE))));
    let screen = h.screen();
    assert!(screen.contains(UNREACHABLE), "{screen}");
    assert!(!screen.contains("also here"), "{screen}");
    h.app
        .handle(notice(CONNECTION, Box::new(None::<&'static str>)));
    let screen = h.screen();
    assert!(screen.contains("team database reachable again"), "{screen}");
    assert!(!screen.contains("also here"), "{screen}");

    // Nobody else: nothing is said.
    h.app
        .handle(notice(PRESENCE, Box::<Vec<String>>::default()));
    let screen = h.screen();
    assert!(!screen.contains("also here"), "{screen}");
}
