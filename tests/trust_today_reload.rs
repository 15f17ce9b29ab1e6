//! The Today pane reloading under an open list, as it does when another window or process
//! commits: the rows stay on screen until the new ones arrive, and the highlight stays on the
//! same member when rows before it go.

mod stats_fixture;

use std::sync::Arc;
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rollcall::app::db::DbWorker;
use rollcall::app::pane::{Effect, Pane, PaneId, PaneInput, Shared, Waker};
use rollcall::app::panes::today::TodayPane;
use rollcall::app::theme::Theme;
use rollcall::config::Config;
use rollcall::storage::Store;

#[test]
fn an_open_list_reloads_in_place_and_keeps_its_member() {
    let store = Store::open_in_memory().unwrap();
    stats_fixture::fill(&store);
    let clock = stats_fixture::clock();
    let (db, replies) = DbWorker::start(store, clock.clone(), || {});
    let (theme, config) = (Theme::default(), Config::default());
    let waker: Waker = Arc::new(|| {});
    let shared = Shared {
        clock: &clock,
        theme: &theme,
        db: &db,
        config: &config,
        waker: &waker,
        access: &rollcall::app::access::FULL,
        staff: &[],
    };
    let mut pane = TodayPane::new();
    let pump = |pane: &mut TodayPane, n: usize| {
        for _ in 0..n {
            let reply = replies.recv_timeout(Duration::from_secs(10)).unwrap();
            pane.on_reply(reply, &shared);
        }
    };
    let act = |pane: &mut TodayPane, action: &'static str| {
        pane.handle(PaneInput::Action(action), &shared)
    };
    let draw = |pane: &mut TodayPane| {
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
        terminal
            .draw(|frame| pane.draw(frame, frame.area(), &shared))
            .unwrap();
        terminal.backend().to_string()
    };
    pane.refresh(&shared);
    pump(&mut pane, 4);
    // The renewed list (past the four lines of waiting work), on its second row.
    for _ in 0..5 {
        act(&mut pane, "down");
    }
    act(&mut pane, "open");
    pump(&mut pane, 1);
    let Effect::OpenMember(first) = act(&mut pane, "open") else {
        panic!("the renewed list has a member first")
    };
    act(&mut pane, "down");
    let Effect::OpenMember(second) = act(&mut pane, "open") else {
        panic!("the renewed list has a second member")
    };
    let before = draw(&mut pane);

    // Another process takes the first member off the list (here through the worker's own
    // connection, which is the same to the pane).
    db.request(PaneId::Today, "other process", move |store, _| {
        store.conn.execute(
            "DELETE FROM membership_events WHERE kind = 'renewed' AND membership_id IN
               (SELECT id FROM memberships WHERE contact_id = ?1)",
            [first],
        )?;
        Ok(())
    });
    pump(&mut pane, 1);
    pane.refresh(&shared);
    assert_eq!(
        draw(&mut pane),
        before,
        "the list stays as it was until the new rows come"
    );
    pump(&mut pane, 5);
    let after = draw(&mut pane);
    assert_ne!(after, before, "the first member has gone from the list");
    assert_eq!(act(&mut pane, "open"), Effect::OpenMember(second));
}
