//! The app notices commits made by other processes by itself: the pane on screen reloads, the
//! search index (data held in memory) reloads even when its pane is hidden, the other panes wait
//! until shown, and the app's own writes cause no extra reload. Driven on a `TestBackend` with
//! fake panes that log their refreshes; `tests/trust_windows.rs` does the same with real
//! processes.

mod app_common;

use std::time::{Duration, Instant};

use app_common::{Harness, Log, Options, fake_panes};
use ratatui::crossterm::event::KeyCode;
use rollcall::app::db::WATCH_EVERY;
use rollcall::storage::{OpenMode, Store};

fn refreshes(log: &Log) -> Vec<String> {
    log.borrow()
        .iter()
        .filter(|l| l.starts_with("refresh"))
        .cloned()
        .collect()
}

/// A database file with the app open on it, that has shown Search and then Renewals.
fn app_on_file(dir: &std::path::Path, log: &Log) -> Harness {
    let store = Store::open(&dir.join("rollcall.db"), OpenMode::ReadWrite).unwrap();
    let mut h = Harness::with(
        store,
        Options {
            panes: fake_panes(log),
            ..Options::default()
        },
    );
    h.code(KeyCode::Char('1'));
    h.code(KeyCode::Char('2'));
    log.borrow_mut().clear();
    h
}

fn commit_from_another_process(dir: &std::path::Path) {
    let other = rusqlite::Connection::open(dir.join("rollcall.db")).unwrap();
    other
        .execute(
            "INSERT INTO ui_state (staff, key, value) VALUES ('bo', 'active_pane', 'today')",
            [],
        )
        .unwrap();
}

/// Feeds the app every event that arrives within `wait`.
fn pump_for(h: &mut Harness, wait: Duration) {
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        h.settle();
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn another_process_commit_reloads_the_shown_pane_and_the_search_index() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::default();
    let mut h = app_on_file(dir.path(), &log);

    commit_from_another_process(dir.path());
    h.pump_until(|_| refreshes(&log).len() >= 2);
    let mut seen = refreshes(&log);
    seen.sort();
    assert_eq!(seen, ["refresh Renewals", "refresh Search"]);

    // Today was shown before: it reloads when shown again, not before.
    log.borrow_mut().clear();
    h.code(KeyCode::Char('0'));
    assert_eq!(refreshes(&log), ["refresh Today"]);
    // Escalations has never been shown: it loads for the first time when shown.
    h.code(KeyCode::Char('4'));
    assert_eq!(refreshes(&log), ["refresh Today", "refresh Escalations"]);
}

#[test]
fn a_quiet_database_and_the_apps_own_writes_reload_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::default();
    let mut h = app_on_file(dir.path(), &log);
    h.app.db().request(
        rollcall::app::pane::PaneId::Renewals,
        "own write",
        |store, _| {
            store.conn.execute(
                "INSERT INTO ui_state (staff, key, value) VALUES ('ann', 'k', 'v')",
                [],
            )?;
            Ok(())
        },
    );
    pump_for(&mut h, WATCH_EVERY * 3);
    assert_eq!(refreshes(&log), Vec::<String>::new());
}
