//! The Today pane on a TestBackend, against the fixture database (tests/stats_fixture): what it
//! shows while loading, once loaded, its lists and where Enter leads.

mod stats_fixture;

use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rollcall::Clock;
use rollcall::app::db::{DbReply, DbWorker};
use rollcall::app::pane::{Effect, Pane, PaneId, PaneInput, Shared, Waker};
use rollcall::app::panes::today::TodayPane;
use rollcall::app::theme::Theme;
use rollcall::config::Config;
use rollcall::storage::Store;

struct Env {
    db: DbWorker,
    replies: Receiver<DbReply>,
    clock: Clock,
    theme: Theme,
    config: Config,
    waker: Waker,
}

impl Env {
    fn new() -> Env {
        Env::with_store(|_| {})
    }

    /// The fixture store, changed by `alter` before the worker takes it.
    fn with_store(alter: impl FnOnce(&Store)) -> Env {
        let store = Store::open_in_memory().unwrap();
        stats_fixture::fill(&store);
        alter(&store);
        let clock = stats_fixture::clock();
        let (db, replies) = DbWorker::start(store, clock.clone(), || {});
        Env {
            db,
            replies,
            clock,
            theme: Theme::default(),
            config: Config::default(),
            waker: Arc::new(|| {}),
        }
    }

    fn shared(&self) -> Shared<'_> {
        Shared {
            clock: &self.clock,
            theme: &self.theme,
            db: &self.db,
            config: &self.config,
            waker: &self.waker,
            access: &rollcall::app::access::FULL,
            staff: &[],
        }
    }

    /// Hands the next `n` replies to the pane, as the app's event loop does.
    fn pump(&self, pane: &mut TodayPane, n: usize) -> Vec<Effect> {
        (0..n)
            .map(|_| {
                let reply = self
                    .replies
                    .recv_timeout(Duration::from_secs(10))
                    .expect("a reply from the DB worker");
                assert_eq!(reply.pane, PaneId::Today);
                pane.on_reply(reply, &self.shared())
            })
            .collect()
    }

    fn act(&self, pane: &mut TodayPane, action: &'static str) -> Effect {
        pane.handle(PaneInput::Action(action), &self.shared())
    }

    fn draw(&self, pane: &mut TodayPane, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|frame| pane.draw(frame, frame.area(), &self.shared()))
            .unwrap();
        terminal.backend().to_string()
    }
}

fn loaded() -> (Env, TodayPane) {
    let env = Env::new();
    let mut pane = TodayPane::new();
    pane.refresh(&env.shared());
    env.pump(&mut pane, 4);
    (env, pane)
}

/// Moves the cursor past the waiting work onto the first count (Joined).
fn to_the_counts(env: &Env, pane: &mut TodayPane) {
    for _ in 0..4 {
        env.act(pane, "down");
    }
}

#[test]
fn the_frame_shows_at_once_with_loading_parts() {
    let env = Env::new();
    let mut pane = TodayPane::new();
    // Nothing pumped yet: the pane draws without waiting for the store.
    insta::assert_snapshot!("today_loading_80x24", env.draw(&mut pane, 80, 24));
}

#[test]
fn overview_at_100x30() {
    let (env, mut pane) = loaded();
    insta::assert_snapshot!("today_overview_100x30", env.draw(&mut pane, 100, 30));
}

#[test]
fn overview_at_80x24_with_the_cursor_on_my_work() {
    let (env, mut pane) = loaded();
    to_the_counts(&env, &mut pane);
    for _ in 0..5 {
        env.act(&mut pane, "down");
    }
    insta::assert_snapshot!("today_overview_80x24", env.draw(&mut pane, 80, 24));
}

#[test]
fn a_count_opens_its_list_and_enter_opens_the_member() {
    let (env, mut pane) = loaded();
    to_the_counts(&env, &mut pane);
    env.act(&mut pane, "down");
    env.act(&mut pane, "down");
    assert_eq!(env.act(&mut pane, "open"), Effect::None);
    env.pump(&mut pane, 1);
    insta::assert_snapshot!("today_list_lapsed_100x30", env.draw(&mut pane, 100, 30));
    // Green (c5) first, then Jones (c3).
    assert_eq!(env.act(&mut pane, "open"), Effect::OpenMember(5));
    env.act(&mut pane, "down");
    env.act(&mut pane, "down"); // stays on the last row
    assert_eq!(env.act(&mut pane, "open"), Effect::OpenMember(3));
    env.act(&mut pane, "back");
    let screen = env.draw(&mut pane, 100, 30);
    assert!(
        screen.contains("> Lapsed"),
        "back on the overview:\n{screen}"
    );
}

#[test]
fn escalation_lists_lead_to_the_escalations_pane() {
    let (env, mut pane) = loaded();
    env.act(&mut pane, "bottom"); // handed to me
    env.act(&mut pane, "up"); // unassigned escalations
    env.act(&mut pane, "up"); // my escalations due or overdue
    env.act(&mut pane, "open");
    env.pump(&mut pane, 1);
    let screen = env.draw(&mut pane, 100, 30);
    assert!(screen.contains("Double charged at renewal"), "{screen}");
    assert!(screen.contains("Direct debit failed"), "{screen}");
    assert!(
        !screen.contains("Branch meeting access"),
        "due tomorrow: {screen}"
    );
    assert_eq!(
        env.act(&mut pane, "open"),
        Effect::SwitchPane(PaneId::Escalations)
    );
}

#[test]
fn onboarding_steps_due_list() {
    let (env, mut pane) = loaded();
    to_the_counts(&env, &mut pane);
    for _ in 0..6 {
        env.act(&mut pane, "down");
    }
    env.act(&mut pane, "open");
    env.pump(&mut pane, 1);
    insta::assert_snapshot!("today_list_onboarding_80x24", env.draw(&mut pane, 80, 24));
    assert_eq!(env.act(&mut pane, "open"), Effect::OpenMember(11));
}

#[test]
fn all_team_figures_scroll() {
    let (env, mut pane) = loaded();
    env.act(&mut pane, "figures");
    insta::assert_snapshot!("today_figures_100x30", env.draw(&mut pane, 100, 30));
    env.act(&mut pane, "page_down");
    let screen = env.draw(&mut pane, 100, 30);
    assert!(screen.contains("Wales / Cardiff"), "{screen}");
    env.act(&mut pane, "back");
    assert!(env.draw(&mut pane, 100, 30).contains("My work (ann)"));
}

#[test]
fn a_part_that_fails_says_so_and_the_rest_still_shows() {
    let env = Env::with_store(|store| {
        store
            .conn
            .execute_batch("DROP TABLE escalation_events; DROP TABLE escalations;")
            .unwrap();
    });
    let mut pane = TodayPane::new();
    pane.refresh(&env.shared());
    env.pump(&mut pane, 4);
    let screen = env.draw(&mut pane, 100, 30);
    assert!(screen.contains("could not load my work"), "{screen}");
    assert!(screen.contains("Memberships by status"), "{screen}");
    assert!(screen.contains("Renewed"), "{screen}");
}

#[test]
fn reload_asks_again_and_keeps_the_open_list() {
    let (env, mut pane) = loaded();
    to_the_counts(&env, &mut pane);
    env.act(&mut pane, "down");
    env.act(&mut pane, "open");
    env.pump(&mut pane, 1);
    env.act(&mut pane, "down");
    assert!(matches!(env.act(&mut pane, "reload"), Effect::Status(_)));
    env.pump(&mut pane, 5);
    // Still on the renewed list, on its second row (King, c18).
    assert_eq!(env.act(&mut pane, "open"), Effect::OpenMember(18));
}

#[test]
fn today_leads_with_the_work_waiting_and_enter_starts_on_it() {
    let (env, mut pane) = loaded();
    let screen = env.draw(&mut pane, 100, 30);
    let lines: Vec<&str> = screen.lines().collect();
    assert!(
        lines[1].contains("Waiting in the queues"),
        "first:\n{screen}"
    );
    let waiting = screen.find("Waiting in the queues").unwrap();
    let since = screen.find("Since the last import").unwrap();
    assert!(waiting < since, "{screen}");
    for line in [
        "Renewals due",
        "Lapsed, in grace",
        "Onboarding steps overdue",
    ] {
        assert!(screen.contains(line), "{line}:\n{screen}");
    }
    // The cursor starts on the first of them; Enter goes where the work is done.
    assert_eq!(
        env.act(&mut pane, "open"),
        Effect::SwitchPane(PaneId::Renewals)
    );
    env.act(&mut pane, "down");
    env.act(&mut pane, "down");
    assert_eq!(
        env.act(&mut pane, "open"),
        Effect::SwitchPane(PaneId::Onboarding)
    );
    env.act(&mut pane, "down");
    assert_eq!(
        env.act(&mut pane, "open"),
        Effect::SwitchPane(PaneId::Escalations)
    );
}

#[test]
fn nothing_is_cut_off_at_80x24_and_120x35() {
    let (env, mut pane) = loaded();
    let small = env.draw(&mut pane, 80, 24);
    insta::assert_snapshot!("today_overview_80x24_waiting", small);
    let large = env.draw(&mut pane, 120, 35);
    insta::assert_snapshot!("today_overview_120x35", large);
    assert!(large.contains("Top region: Wales (10)"), "{large}");
    assert!(large.contains("peak 2)"), "{large}");
    for screen in [&small, &large] {
        // No figure left without its closing bracket.
        for line in screen.lines() {
            assert_eq!(
                line.matches('(').count(),
                line.matches(')').count(),
                "a cut-off figure: {line}"
            );
        }
    }
}

#[test]
fn the_last_import_s_crm_changes_are_named_by_kind_at_80x24() {
    let env = Env::with_store(|store| {
        store
            .conn
            .execute_batch(
                "INSERT INTO field_changes (contact_id, import_id, field, old_value, new_value,
                     occurred_on) VALUES
                 (1, 2, 'local_party', 'Swansea', 'Cardiff', '2026-11-23'),
                 (1, 2, 'postcode', 'SA1 1AB', 'CF10 1AA', '2026-11-23'),
                 (2, 2, 'local_party', 'Swansea', 'Cardiff', '2026-11-23'),
                 (3, 2, 'on_hold', '0', '1', '2026-11-23'),
                 (4, 2, 'is_deceased', '0', '1', '2026-11-23'),
                 (4, 1, 'email', 'a@example.org', 'alice@example.org', '2026-11-09'),
                 (3, 2, 'on_hold', '1', '0', '2026-11-23')",
            )
            .unwrap();
    });
    let mut pane = TodayPane::new();
    pane.refresh(&env.shared());
    env.pump(&mut pane, 4);
    let screen = env.draw(&mut pane, 80, 24);
    // Only the last import's, each contact once per kind; a cleared On Hold is no bounce.
    assert!(
        screen.contains(
            "In the CRM: 2 moved local party, 1 moved house, 1 email bouncing, 1 deceased"
        ),
        "{screen}"
    );
    assert!(!screen.contains("new email"), "{screen}");
    insta::assert_snapshot!("today_crm_changes_80x24", screen);
}

#[test]
fn the_figures_view_charts_first_year_renewal_by_join_year_at_80x24() {
    let (env, mut pane) = loaded();
    env.act(&mut pane, "figures");
    let loading = env.draw(&mut pane, 80, 24);
    assert!(
        loading.contains("First-year renewal by join year"),
        "{loading}"
    );
    env.pump(&mut pane, 1);
    let screen = env.draw(&mut pane, 80, 24);
    assert!(screen.contains("later years"), "{screen}");
    insta::assert_snapshot!("today_figures_cohorts_80x24", screen);
}
