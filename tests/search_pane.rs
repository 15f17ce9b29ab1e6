//! The Search pane on a test terminal: what an officer sees and what their keys do.

#[path = "search_support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rollcall::Clock;
use rollcall::app::db::{DbReply, DbWorker};
use rollcall::app::pane::{Effect, Pane, PaneInput, Shared, Waker};
use rollcall::app::panes::search::SearchPane;
use rollcall::app::theme::Theme;
use rollcall::config::Config;
use rollcall::storage::{OpenMode, Store};

struct Harness {
    clock: Clock,
    theme: Theme,
    db: DbWorker,
    replies: Receiver<DbReply>,
    config: Config,
    waker: Waker,
    read_only: bool,
    _dir: tempfile::TempDir,
}

impl Harness {
    fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rollcall.db");
        support::create_db(&path);
        let clock = Clock::fixed(support::today(), "ann");
        let store = Store::open(&path, OpenMode::ReadWrite).unwrap();
        let (db, replies) = DbWorker::start(store, clock.clone(), || {});
        Harness {
            clock,
            theme: Theme::default(),
            db,
            replies,
            config: Config::default(),
            waker: Arc::new(|| {}),
            read_only: false,
            _dir: dir,
        }
    }

    fn shared(&self) -> Shared<'_> {
        Shared {
            clock: &self.clock,
            theme: &self.theme,
            db: &self.db,
            config: &self.config,
            waker: &self.waker,
            access: if self.read_only {
                &rollcall::app::access::READ_ONLY
            } else {
                &rollcall::app::access::FULL
            },
            staff: &[],
        }
    }

    /// Shows the pane as the app does: refresh, and hand it the DB worker's reply.
    fn show(&self, pane: &mut SearchPane) {
        pane.refresh(&self.shared());
        let reply = self.replies.recv_timeout(Duration::from_secs(10)).unwrap();
        pane.on_reply(reply, &self.shared());
    }

    fn screen(&self, pane: &mut SearchPane, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|frame| pane.draw(frame, frame.area(), &self.shared()))
            .unwrap();
        let buffer = terminal.backend().buffer();
        (0..height)
            .map(|y| {
                let line: String = (0..width).map(|x| buffer[(x, y)].symbol()).collect();
                mask_timing(&line)
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Draws until the screen shows `text` (results arrive from the search thread).
    fn screen_with(&self, pane: &mut SearchPane, width: u16, height: u16, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen(pane, width, height);
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "never showed {text:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn press(&self, pane: &mut SearchPane, code: KeyCode) -> Effect {
        pane.handle(
            PaneInput::Key(KeyEvent::new(code, KeyModifiers::NONE)),
            &self.shared(),
        )
    }

    fn act(&self, pane: &mut SearchPane, action: &'static str) -> Effect {
        pane.handle(PaneInput::Action(action), &self.shared())
    }

    fn type_query(&self, pane: &mut SearchPane, text: &str) {
        self.act(pane, "focus_query");
        for c in text.chars() {
            self.press(pane, KeyCode::Char(c));
        }
    }
}

/// Search times differ from run to run: `4 matches · 3 ms` becomes `4 matches · T ms`, with the
/// line kept the same width.
fn mask_timing(line: &str) -> String {
    let Some(dot) = line.find(" · ") else {
        return line.to_owned();
    };
    let after = &line[dot + " · ".len()..];
    let Some(ms) = after.find(" ms") else {
        return line.to_owned();
    };
    let time = &after[..ms];
    if time.is_empty() || !time.chars().all(|c| c.is_ascii_digit() || c == '<') {
        return line.to_owned();
    }
    let status_start = line[..dot].rfind("  ").map_or(0, |i| i + 2);
    let pad = " ".repeat(time.chars().count() - 1);
    format!(
        "{}{pad}{} · T{}",
        &line[..status_start],
        &line[status_start..dot],
        &after[ms..]
    )
}

#[test]
fn before_the_index_is_ready_the_pane_says_so() {
    let h = Harness::new();
    let mut pane = SearchPane::new();
    pane.refresh(&h.shared());
    insta::assert_snapshot!("starting", h.screen(&mut pane, 80, 12));
}

#[test]
fn idle_shows_how_many_members_and_what_to_type() {
    let h = Harness::new();
    let mut pane = SearchPane::new();
    h.show(&mut pane);
    insta::assert_snapshot!("idle", h.screen_with(&mut pane, 80, 24, "12 members"));
}

#[test]
fn typing_shows_ranked_results_with_both_statuses_and_badges() {
    let h = Harness::new();
    let mut pane = SearchPane::new();
    h.show(&mut pane);
    h.type_query(&mut pane, "jones");
    assert!(pane.wants_raw_keys(), "typing goes to the query line");
    insta::assert_snapshot!("jones", h.screen_with(&mut pane, 100, 30, "4 matches"));
}

#[test]
fn stale_crm_statuses_are_marked_at_80_columns() {
    let h = Harness::new();
    let mut pane = SearchPane::new();
    h.show(&mut pane);
    h.type_query(&mut pane, "a");
    h.press(&mut pane, KeyCode::Esc);
    h.screen_with(&mut pane, 80, 24, "12 matches");
    h.act(&mut pane, "down");
    h.act(&mut pane, "down");
    insta::assert_snapshot!("a_80x24", h.screen(&mut pane, 80, 24));
}

#[test]
fn no_matches_says_so() {
    let h = Harness::new();
    let mut pane = SearchPane::new();
    h.show(&mut pane);
    h.type_query(&mut pane, "zzqx");
    let screen = h.screen_with(&mut pane, 80, 12, "0 matches");
    assert!(screen.contains("No member matches."), "{screen}");
}

#[test]
fn enter_opens_the_highlighted_member_and_esc_leaves_the_query_line() {
    let h = Harness::new();
    let mut pane = SearchPane::new();
    h.show(&mut pane);
    h.type_query(&mut pane, "jones");
    h.screen_with(&mut pane, 100, 30, "4 matches");
    h.press(&mut pane, KeyCode::Down);
    // Siân Jones (rollcall id 1) is second, after Aled Jones.
    assert_eq!(h.press(&mut pane, KeyCode::Enter), Effect::OpenMember(1));
    assert!(!pane.wants_raw_keys(), "Enter leaves the query line");
    // Back from the member view: query and selection are as they were.
    let screen = h.screen(&mut pane, 100, 30);
    assert!(screen.contains("/ jones"), "{screen}");
    assert!(screen.contains("▶ Siân Jones"), "{screen}");
    assert_eq!(h.act(&mut pane, "open"), Effect::OpenMember(1));

    h.act(&mut pane, "focus_query");
    assert!(pane.wants_raw_keys());
    h.press(&mut pane, KeyCode::Esc);
    assert!(!pane.wants_raw_keys());
    assert_eq!(pane.query(), "jones", "Esc keeps the query");
}

#[test]
fn escalate_carries_the_member_and_the_membership_shown() {
    let mut h = Harness::new();
    let mut pane = SearchPane::new();
    h.show(&mut pane);
    h.type_query(&mut pane, "M2004");
    h.press(&mut pane, KeyCode::Esc);
    h.screen_with(&mut pane, 100, 30, "1 match");
    let effect = h.act(&mut pane, "escalate");
    let Effect::Escalate {
        contact_id,
        membership_id: Some(membership),
    } = effect
    else {
        panic!("{effect:?}");
    };
    assert_eq!(contact_id, 4, "Aled Jones");
    // M2004 is Aled's first (expired) membership, rollcall id 4; M2005 would be 5.
    assert_eq!(membership, 4);

    h.read_only = true;
    let refused = h.act(&mut pane, "escalate");
    assert!(
        matches!(refused, Effect::Status(ref s) if s.contains("read-only")),
        "{refused:?}"
    );
}

#[test]
fn the_query_and_selection_survive_a_restart() {
    let h = Harness::new();
    let mut pane = SearchPane::new();
    h.show(&mut pane);
    h.type_query(&mut pane, "jones");
    h.screen_with(&mut pane, 100, 30, "4 matches");
    h.press(&mut pane, KeyCode::Esc);
    h.act(&mut pane, "bottom");
    let saved = pane.save_state().unwrap();

    let mut restored = SearchPane::new();
    restored.restore_state(&saved);
    h.show(&mut restored);
    let screen = h.screen_with(&mut restored, 100, 30, "4 matches");
    assert!(screen.contains("▶ Mair Davies"), "{screen}");
    assert_eq!(restored.query(), "jones");
    restored.restore_state("not json"); // ignored, not a crash
    assert_eq!(restored.query(), "jones");
}

#[test]
fn back_clears_the_search() {
    let h = Harness::new();
    let mut pane = SearchPane::new();
    h.show(&mut pane);
    h.type_query(&mut pane, "jones");
    h.screen_with(&mut pane, 80, 24, "4 matches");
    h.press(&mut pane, KeyCode::Esc);
    h.act(&mut pane, "back");
    assert_eq!(pane.query(), "");
    let screen = h.screen_with(&mut pane, 80, 24, "12 members");
    assert!(!screen.contains("Jones"), "{screen}");
}

#[test]
fn the_timing_mask_keeps_the_width() {
    let line = "│/ jones                       4 matches · 12 ms│";
    let masked = mask_timing(line);
    assert_eq!(masked.chars().count(), line.chars().count());
    assert!(masked.contains("4 matches · T ms"), "{masked}");
    assert_eq!(
        mask_timing("contact 1 · membership 2"),
        "contact 1 · membership 2"
    );
}
