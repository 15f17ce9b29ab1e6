//! Reopening the app restores the pane, and each pane's own state (filters, selection), per
//! staff member.

mod app_common;

use app_common::*;
use ratatui::crossterm::event::KeyCode;
use rollcall::app::pane::PaneId;
use rollcall::storage::{OpenMode, Store};

fn open(path: &std::path::Path, log: &Log) -> Harness {
    let store = Store::open(path, OpenMode::ReadWrite).unwrap();
    Harness::with(
        store,
        Options {
            panes: fake_panes(log),
            ..Options::default()
        },
    )
}

#[test]
fn reopening_restores_pane_and_selection() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rollcall.db");
    let log = Log::default();
    let mut h = open(&path, &log);
    assert_eq!(
        h.app.active_pane(),
        PaneId::Today,
        "a first start opens on Today"
    );
    h.code(KeyCode::Char('2'));
    h.type_text("jjj");
    h.code(KeyCode::Char('q'));
    assert!(h.app.should_quit());
    h.settle();
    assert!(h.app.state_saved());
    drop(h);

    let log = Log::default();
    let mut h = open(&path, &log);
    assert_eq!(h.app.active_pane(), PaneId::Renewals);
    let screen = h.screen();
    assert!(screen.contains("[2 Renewals]"), "{screen}");
    assert!(
        screen.contains("Renewals pane — selected row 3"),
        "{screen}"
    );
    // The restored pane loads after its state is in, once.
    assert_eq!(
        log.borrow()
            .iter()
            .filter(|l| l.starts_with("refresh"))
            .collect::<Vec<_>>(),
        vec!["refresh Renewals"]
    );
}

#[test]
fn state_is_kept_per_staff_member() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rollcall.db");
    let log = Log::default();
    let mut h = open(&path, &log);
    h.code(KeyCode::Char('4'));
    h.code(KeyCode::Char('q'));
    h.settle();
    drop(h);
    let store = Store::open(&path, OpenMode::ReadWrite).unwrap();
    let rows: Vec<(String, String, String)> = store
        .conn
        .prepare("SELECT staff, key, value FROM ui_state ORDER BY key")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(rows.contains(&("ann".into(), "active_pane".into(), "escalations".into())));
    assert!(rows.iter().all(|(staff, ..)| staff == "ann"));
    assert!(rows.contains(&(
        "ann".into(),
        "pane.search".into(),
        "{\"selected\":0}".into()
    )));
}

#[test]
fn sigterm_saves_state_like_quit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rollcall.db");
    let log = Log::default();
    let mut h = open(&path, &log);
    h.code(KeyCode::Char('3'));
    h.app.handle(rollcall::app::event::AppEvent::Terminate);
    assert!(h.app.should_quit());
    h.settle();
    assert!(h.app.state_saved());
    drop(h);
    let h = open(&path, &Log::default());
    assert_eq!(h.app.active_pane(), PaneId::Onboarding);
}
