//! The escalations pane, driven as the app drives it: actions and raw keys in, DB worker
//! replies pumped back, the screen drawn on a fixed-size TestBackend.

mod escalations_support;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use escalations_support::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Modifier;
use rollcall::Clock;
use rollcall::app::db::{DbReply, DbWorker};
use rollcall::app::pane::{Effect, Pane, PaneId, PaneInput, Shared, Waker};
use rollcall::app::panes::escalations;
use rollcall::app::theme::Theme;
use rollcall::config::Config;
use rollcall::domain::escalation::{Category, EventKind, Priority, Status};
use rollcall::storage::escalations as store_esc;
use rollcall::storage::{OpenMode, Store};

/// Monday 23 November 2026; ann is at the keyboard.
const TODAY: &str = "2026-11-23";

/// Everything a pane is handed, built by hand as the app would.
struct Env {
    clock: Clock,
    theme: Theme,
    config: Config,
    waker: Waker,
    db: DbWorker,
    replies: Receiver<DbReply>,
    read_only: bool,
}

impl Env {
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
}

struct Harness {
    pane: Box<dyn Pane>,
    env: Env,
    _dir: tempfile::TempDir,
    db_path: PathBuf,
    ids: Ids,
}

/// The seeded escalations and members.
#[derive(Clone, Copy)]
struct Ids {
    ada: i64,
    ada_membership: i64,
    ben: i64,
    card_failed: i64,
    leaflet: i64,
    dispute: i64,
}

/// Six escalations as a team might have them on Monday 23 November 2026.
fn seed(store: &mut Store) -> Ids {
    let ada = add_contact(&store.conn, "civicrm", "101", "Ada Lovelace");
    let ada_membership = add_membership(&store.conn, ada, "Individual", "2026-12-01");
    let ben = add_contact(&store.conn, "civicrm", "102", "Ben Okafor");
    let chloe = add_contact(&store.conn, "civicrm", "103", "Chloe Price");
    let mut card = new(
        Some(ada),
        Category::RenewalPayment,
        Priority::High,
        "Card payment failed twice",
        Some("ann"),
    );
    card.membership_id = Some(ada_membership);
    let card_failed = open(store, "2026-11-16", "ann", &card);
    store_esc::set_status(
        store,
        &clock("2026-11-17", "ann"),
        card_failed,
        Status::InProgress,
    )
    .unwrap();
    let mut concern = new(
        Some(ben),
        Category::Safeguarding,
        Priority::Urgent,
        "Concern raised after branch meeting",
        None,
    );
    concern.description = "SENSITIVE-DETAIL about what was reported".into();
    open(store, "2026-11-20", "bob", &concern);
    let mut sar = new(
        Some(chloe),
        Category::DataProtection,
        Priority::Normal,
        "Subject access request",
        Some("bob"),
    );
    sar.description = "PRIVATE-DP-DETAIL".into();
    open(store, "2026-11-02", "bob", &sar);
    let leaflet = open(
        store,
        "2026-11-20",
        "ann",
        &new(
            None,
            Category::Complaint,
            Priority::Low,
            "Leaflet delivered to wrong address",
            Some("ann"),
        ),
    );
    let dispute = open(
        store,
        TODAY,
        "bob",
        &new(
            Some(ben),
            Category::DisputeDisciplinary,
            Priority::Normal,
            "Dispute over branch election",
            None,
        ),
    );
    let duplicate = open(
        store,
        "2026-11-10",
        "ann",
        &new(
            Some(ada),
            Category::Other,
            Priority::Low,
            "Duplicate record",
            Some("ann"),
        ),
    );
    store_esc::resolve(
        store,
        &clock("2026-11-12", "ann"),
        duplicate,
        "Merged in the CRM",
    )
    .unwrap();
    Ids {
        ada,
        ada_membership,
        ben,
        card_failed,
        leaflet,
        dispute,
    }
}

fn harness_with(read_only: bool) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("rollcall.db");
    let mut store = Store::open(&db_path, OpenMode::ReadWrite).unwrap();
    let ids = seed(&mut store);
    drop(store);
    let mode = if read_only {
        OpenMode::ReadOnly
    } else {
        OpenMode::ReadWrite
    };
    let store = Store::open(&db_path, mode).unwrap();
    let clock = clock(TODAY, "ann");
    let (db, replies) = DbWorker::start(store, clock.clone(), || {});
    let waker: Waker = Arc::new(|| {});
    let env = Env {
        clock,
        theme: Theme::default(),
        config: Config::default(),
        waker,
        db,
        replies,
        read_only,
    };
    let mut h = Harness {
        pane: escalations::pane(),
        env,
        _dir: dir,
        db_path,
        ids,
    };
    h.pane.refresh(&h.env.shared());
    h.pump();
    h
}

fn harness() -> Harness {
    harness_with(false)
}

impl Harness {
    /// Delivers every reply to the pane until the worker has nothing left for it. A sentinel
    /// job marks the end: the worker runs jobs in order.
    fn pump(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        loop {
            self.env
                .db
                .request(PaneId::Today, "sentinel", |_, _| Ok(()));
            let mut delivered = false;
            loop {
                let reply = self
                    .env
                    .replies
                    .recv_timeout(Duration::from_secs(10))
                    .expect("the DB worker answers");
                if reply.pane == PaneId::Today {
                    break;
                }
                delivered = true;
                effects.push(self.pane.on_reply(reply, &self.env.shared()));
            }
            if !delivered {
                return effects;
            }
        }
    }

    fn action(&mut self, name: &'static str) -> Vec<Effect> {
        assert!(
            !self.pane.wants_raw_keys(),
            "`{name}` sent while the pane takes raw keys"
        );
        let first = self
            .pane
            .handle(PaneInput::Action(name), &self.env.shared());
        let mut effects = vec![first];
        effects.extend(self.pump());
        effects
    }

    fn key_event(&mut self, key: KeyEvent) -> Vec<Effect> {
        assert!(self.pane.wants_raw_keys(), "a raw key sent to the list");
        let first = self.pane.handle(PaneInput::Key(key), &self.env.shared());
        let mut effects = vec![first];
        effects.extend(self.pump());
        effects
    }

    fn key(&mut self, code: KeyCode) -> Vec<Effect> {
        self.key_event(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn ctrl(&mut self, c: char) -> Vec<Effect> {
        self.key_event(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
    }

    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    fn start_escalation(&mut self, contact: i64, membership: Option<i64>) {
        self.pane
            .start_escalation(contact, membership, &self.env.shared());
        self.pump();
    }

    fn terminal(&mut self, width: u16, height: u16) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        let shared = self.env.shared();
        terminal
            .draw(|frame| self.pane.draw(frame, frame.area(), &shared))
            .unwrap();
        terminal
    }

    fn screen(&mut self, width: u16, height: u16) -> String {
        self.terminal(width, height).backend().to_string()
    }

    /// Selects the row with this title (the list must show it).
    fn select(&mut self, title: &str) {
        self.action("top");
        for _ in 0..20 {
            if selected_line(&self.screen(100, 30)).contains(title) {
                return;
            }
            self.action("down");
        }
        panic!("no row titled {title}");
    }

    fn store(&self) -> Store {
        Store::open(&self.db_path, OpenMode::ReadOnly).unwrap()
    }
}

fn selected_line(screen: &str) -> String {
    screen
        .lines()
        .find(|l| l.contains('▶'))
        .unwrap_or_default()
        .to_owned()
}

fn changed(effects: &[Effect]) -> bool {
    effects.contains(&Effect::DataChanged)
}

#[test]
fn mine_is_the_default_view_and_the_tabs_count_every_view() {
    let mut h = harness();
    let screen = h.screen(100, 30);
    insta::assert_snapshot!("list_mine", screen);
    assert!(screen.contains("[Mine 2]"));
    assert!(screen.contains("⚠ Overdue 1"));
}

#[test]
fn all_open_sorted_by_due_date_with_overdue_and_sensitive_rows_marked() {
    let mut h = harness();
    h.action("next_view");
    h.action("next_view");
    h.action("next_view");
    let terminal = h.terminal(100, 30);
    let screen = terminal.backend().to_string();
    insta::assert_snapshot!("list_all_open", screen);
    let order: Vec<usize> = [
        "Card payment failed",
        "Concern raised",
        "Subject access",
        "Dispute over",
        "Leaflet delivered",
    ]
    .iter()
    .map(|t| screen.find(t).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "by due date");
    assert!(!screen.contains("SENSITIVE-DETAIL") && !screen.contains("PRIVATE-DP-DETAIL"));
    assert!(screen.contains("SAFEGUARDING") && screen.contains("DATA PROTECTION"));

    // The overdue mark is words and a style, not a colour alone.
    let buffer = terminal.backend().buffer();
    let (x, y) = (0..buffer.area.height)
        .flat_map(|y| (0..buffer.area.width).map(move |x| (x, y)))
        .find(|&(x, y)| buffer[(x, y)].symbol() == "⚠" && y > 0)
        .unwrap();
    assert!(buffer[(x, y)].modifier.contains(Modifier::BOLD));
}

#[test]
fn the_list_is_usable_at_80_by_24() {
    let mut h = harness();
    h.action("previous_view"); // Resolved
    h.action("previous_view"); // All open
    insta::assert_snapshot!("list_all_open_80x24", h.screen(80, 24));
}

#[test]
fn resolved_view_and_empty_views() {
    let mut h = harness();
    h.action("previous_view");
    let screen = h.screen(100, 12);
    assert!(screen.contains("Duplicate record"), "{screen}");
    assert!(screen.contains("✓ 12 Nov 2026"), "{screen}");
    assert!(screen.contains("Resolved"), "{screen}");
    // Resolve ann's two open ones: Mine is then empty and says so.
    let mut store = Store::open(&h.db_path, OpenMode::ReadWrite).unwrap();
    let ann = clock(TODAY, "ann");
    store_esc::resolve(&mut store, &ann, h.ids.card_failed, "x").unwrap();
    store_esc::resolve(&mut store, &ann, h.ids.leaflet, "x").unwrap();
    h.action("next_view");
    assert!(h.screen(100, 12).contains("Nothing is assigned to you."));
}

#[test]
fn the_opened_case_shows_everything_including_the_timeline() {
    let mut h = harness();
    h.action("next_view"); // Unassigned: the safeguarding case first (due today)
    h.select("Concern raised");
    h.action("open");
    let screen = h.screen(100, 30);
    insta::assert_snapshot!("detail_safeguarding", screen);
    assert!(
        screen.contains("SENSITIVE-DETAIL"),
        "the description is shown here"
    );
    h.action("back");
    assert!(h.screen(100, 30).contains("[Unassigned 2]"));
}

#[test]
fn a_case_with_history_shows_its_timeline() {
    let mut h = harness();
    let mut store = Store::open(&h.db_path, OpenMode::ReadWrite).unwrap();
    let bob = clock("2026-11-18", "bob");
    let id = h.ids.card_failed;
    store_esc::comment(
        &mut store,
        &bob,
        id,
        "Rang Ada: card expired.\nNew card next week.",
    )
    .unwrap();
    store_esc::set_status(&mut store, &bob, id, Status::WaitingOnMember).unwrap();
    store_esc::set_assignee(&mut store, &bob, id, Some("bob")).unwrap();
    store_esc::set_priority(&mut store, &bob, &Default::default(), id, Priority::Urgent).unwrap();
    drop(store);
    h.action("next_view");
    h.action("next_view"); // Overdue
    h.action("open");
    insta::assert_snapshot!("detail_timeline", h.screen(100, 34));
}

#[test]
fn the_blank_editor_and_the_editor_filled_in_from_a_member() {
    let mut h = harness();
    h.action("new_escalation");
    assert!(h.pane.wants_raw_keys());
    insta::assert_snapshot!("editor_blank", h.screen(100, 30));
    h.key(KeyCode::Esc);
    assert!(
        !h.pane.wants_raw_keys(),
        "nothing typed: Esc closes at once"
    );

    h.start_escalation(h.ids.ada, Some(h.ids.ada_membership));
    insta::assert_snapshot!("editor_from_member", h.screen(100, 30));
}

#[test]
fn the_editor_fits_80_by_24() {
    let mut h = harness();
    h.start_escalation(h.ids.ben, None);
    let screen = h.screen(80, 24);
    insta::assert_snapshot!("editor_80x24", screen);
    assert!(screen.contains("Member concern"));
    assert!(screen.contains("Ben Okafor · CRM 102 (civicrm)"));
}

#[test]
fn a_new_escalation_typed_into_the_form_is_saved_and_opened() {
    let mut h = harness();
    h.action("new_escalation");
    h.key(KeyCode::Right); // Complaint → Renewal or payment problem
    h.key(KeyCode::Right); // → Member concern
    h.key(KeyCode::Tab);
    h.key(KeyCode::Right); // Normal → High: choices as they read, low → urgent
    h.key(KeyCode::Tab);
    h.type_text("Branch meeting room unsafe");
    h.key(KeyCode::Tab);
    h.type_text("Stairs blocked");
    h.key(KeyCode::Enter); // a new line in the description
    h.type_text("at the last meeting");
    h.key(KeyCode::Home);
    h.type_text("Reported: ");
    h.key(KeyCode::Tab);
    h.type_text("carol");
    let effects = h.key(KeyCode::Enter); // Enter on the last field saves
    assert!(changed(&effects), "{effects:?}");
    assert!(!h.pane.wants_raw_keys(), "the form closed");

    let store = h.store();
    let list = store_esc::list(
        &store.conn,
        rollcall::domain::escalation::View::All,
        "ann",
        d(TODAY),
    )
    .unwrap();
    let row = list
        .iter()
        .find(|r| r.title == "Branch meeting room unsafe")
        .unwrap();
    assert_eq!(row.category, Category::MemberConcern);
    assert_eq!(row.priority, Priority::High);
    assert_eq!(row.assignee.as_deref(), Some("carol"));
    assert_eq!(row.contact_id, None);
    assert_eq!(row.due, d("2026-11-26"), "3 working days from Monday");
    let detail = store_esc::detail(&store.conn, row.id).unwrap().unwrap();
    assert_eq!(
        detail.description,
        "Stairs blocked\nReported: at the last meeting"
    );
    assert_eq!(detail.opened_by, "ann");

    let screen = h.screen(100, 30);
    assert!(
        screen.contains(&format!("Escalation #{}", row.id)),
        "{screen}"
    );
    assert!(
        screen.contains(&format!("✓ Escalation #{} opened", row.id)),
        "{screen}"
    );
}

#[test]
fn e_from_a_renewal_opens_a_linked_renewal_problem_in_one_save() {
    let mut h = harness();
    h.start_escalation(h.ids.ada, Some(h.ids.ada_membership));
    let effects = h.ctrl('s');
    assert!(changed(&effects));
    let store = h.store();
    let id: i64 = store
        .conn
        .query_row("SELECT MAX(id) FROM escalations", [], |r| r.get(0))
        .unwrap();
    let detail = store_esc::detail(&store.conn, id).unwrap().unwrap();
    assert_eq!(detail.row.category, Category::RenewalPayment);
    assert_eq!(detail.row.title, "Renewal problem");
    assert_eq!(detail.row.contact_id, Some(h.ids.ada));
    assert_eq!(detail.membership_id, Some(h.ids.ada_membership));
    assert_eq!(detail.row.assignee, None);
}

#[test]
fn esc_asks_before_throwing_away_typed_text_and_a_title_is_required() {
    let mut h = harness();
    h.action("new_escalation");
    h.ctrl('s');
    let screen = h.screen(100, 30);
    assert!(screen.contains("a title is required"), "{screen}");
    assert!(h.pane.wants_raw_keys(), "still editing");

    h.key(KeyCode::Tab);
    h.key(KeyCode::Tab);
    h.type_text("Something");
    h.key(KeyCode::Esc);
    assert!(h.screen(100, 30).contains("Discard this new escalation?"));
    h.key(KeyCode::Char('n'));
    assert!(
        h.screen(100, 30).contains("Something"),
        "back to the form, text kept"
    );
    h.key(KeyCode::Esc);
    h.key(KeyCode::Char('y'));
    assert!(!h.pane.wants_raw_keys());
    assert_eq!(count(&h.store().conn, "escalations"), 6, "nothing saved");
}

/// kind, old, new, body, staff.
type Entry = (EventKind, Option<String>, Option<String>, String, String);

#[test]
fn assign_status_priority_comment_resolve_and_reopen_from_the_keyboard() {
    let mut h = harness();
    let id = h.ids.dispute;
    h.action("next_view"); // Unassigned
    h.select("Dispute over");

    // a: an empty box (nothing to delete first); Tab gives your own name.
    h.action("assign");
    assert!(
        h.screen(100, 30)
            .contains("Assign #5 to (Tab: ann; empty = nobody)")
    );
    h.key(KeyCode::Tab);
    assert!(changed(&h.key(KeyCode::Enter)));
    assert!(
        h.screen(100, 30)
            .contains(&format!("✓ #{id} assigned to ann"))
    );

    // It left Unassigned; go to All open and find it again.
    h.action("next_view");
    h.action("next_view");
    h.select("Dispute over");

    // s: a chooser of the allowed next statuses only.
    h.action("change_status");
    let screen = h.screen(100, 30);
    insta::assert_snapshot!("status_chooser", screen);
    assert!(!screen.contains("waiting on member"), "not from open");
    assert!(changed(&h.key(KeyCode::Enter)));

    // p: priorities with the due date each would give.
    h.action("change_priority");
    let screen = h.screen(100, 30);
    assert!(screen.contains("urgent  due Tue 24 Nov 2026"), "{screen}");
    h.key(KeyCode::Char('1'));

    // c: a multi-line comment.
    h.action("comment");
    h.type_text("Both candidates");
    h.key_event(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT));
    h.type_text("called");
    assert!(changed(&h.key(KeyCode::Enter)));

    // r: an empty note is refused and the prompt stays open.
    h.select("Dispute over");
    h.action("resolve");
    h.key(KeyCode::Enter);
    assert!(h.pane.wants_raw_keys());
    assert!(h.screen(100, 30).contains("a resolution note is required"));
    h.type_text("Re-run agreed");
    assert!(changed(&h.key(KeyCode::Enter)));

    // s on a resolved case offers only Reopen.
    h.action("previous_view");
    h.action("previous_view");
    h.action("previous_view");
    h.action("previous_view"); // Resolved
    h.select("Dispute over");
    h.action("change_status");
    assert!(h.screen(100, 30).contains("1. Reopen…"));
    h.key(KeyCode::Enter);
    h.type_text("Appeal lodged");
    assert!(changed(&h.key(KeyCode::Enter)));

    let timeline = store_esc::timeline(&h.store().conn, id).unwrap();
    let got: Vec<Entry> = timeline
        .into_iter()
        .map(|e| (e.kind, e.old_value, e.new_value, e.body, e.staff))
        .collect();
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(
        got,
        vec![
            (
                EventKind::Opened,
                None,
                s("open"),
                String::new(),
                "bob".into()
            ),
            (
                EventKind::Assignee,
                None,
                s("ann"),
                String::new(),
                "ann".into()
            ),
            (
                EventKind::Status,
                s("open"),
                s("in_progress"),
                String::new(),
                "ann".into()
            ),
            (
                EventKind::Priority,
                s("normal"),
                s("urgent"),
                "due 2026-11-24 (was 2026-12-07)".into(),
                "ann".into()
            ),
            (
                EventKind::Comment,
                None,
                None,
                "Both candidates\ncalled".into(),
                "ann".into()
            ),
            (
                EventKind::Resolved,
                s("in_progress"),
                s("resolved"),
                "Re-run agreed".into(),
                "ann".into()
            ),
            (
                EventKind::Reopened,
                s("resolved"),
                s("open"),
                "Appeal lodged".into(),
                "ann".into()
            ),
        ]
    );
}

#[test]
fn refused_changes_say_why_and_keep_the_list() {
    let mut h = harness();
    h.action("previous_view"); // Resolved
    h.action("assign");
    assert!(
        h.screen(100, 12)
            .contains("✗ the escalation is resolved; reopen it first")
    );
    h.action("resolve");
    assert!(
        h.screen(100, 12)
            .contains("is already resolved; change status (s) to reopen it")
    );
    assert!(!h.pane.wants_raw_keys());
}

#[test]
fn read_only_refuses_edits_up_front() {
    let mut h = harness_with(true);
    h.action("new_escalation");
    assert!(!h.pane.wants_raw_keys());
    assert!(
        h.screen(100, 12)
            .contains("read-only (--read-only): opening an escalation is refused")
    );
    h.action("comment");
    assert!(!h.pane.wants_raw_keys());
    h.start_escalation(h.ids.ben, None);
    assert!(!h.pane.wants_raw_keys());
}

#[test]
fn open_member_goes_to_the_member_view() {
    let mut h = harness();
    assert_eq!(h.action("open_member")[0], Effect::OpenMember(h.ids.ada));
    h.select("Leaflet");
    assert_eq!(
        h.action("open_member")[0],
        Effect::None,
        "not about a member"
    );
}

#[test]
fn view_and_selection_survive_a_restart() {
    let mut h = harness();
    h.action("next_view");
    h.action("next_view");
    h.action("next_view"); // All open
    h.select("Subject access");
    let state = h.pane.save_state().unwrap();

    let mut fresh = escalations::pane();
    fresh.restore_state(&state);
    h.pane = fresh;
    h.pane.refresh(&h.env.shared());
    h.pump();
    let screen = h.screen(100, 30);
    assert!(screen.contains("[All open 5]"), "{screen}");
    assert!(
        selected_line(&screen).contains("Subject access"),
        "{screen}"
    );
    // Garbage state is ignored.
    let mut other = escalations::pane();
    other.restore_state("not json");
    other.restore_state(r#"{"view":"sideways"}"#);
}

#[test]
fn resolving_from_the_list_puts_the_cursor_on_the_one_that_was_next() {
    let mut h = harness();
    for _ in 0..3 {
        h.action("next_view");
    }
    h.select("Subject access");
    h.action("resolve");
    h.type_text("Sent the copy");
    assert!(changed(&h.key(KeyCode::Enter)));
    let screen = h.screen(100, 30);
    assert!(!screen.contains("Subject access"), "{screen}");
    assert!(selected_line(&screen).contains("Dispute over"), "{screen}");
}

#[test]
fn right_raises_the_priority_and_one_working_day_is_singular() {
    let mut h = harness();
    h.action("new_escalation");
    h.key(KeyCode::Tab); // to Priority, Normal
    h.key(KeyCode::Right);
    assert!(h.screen(100, 30).contains("◀ high ▶"));
    h.key(KeyCode::Right);
    let screen = h.screen(100, 30);
    assert!(screen.contains("◀ urgent ▶"), "{screen}");
    assert!(screen.contains("(1 working day)"), "{screen}");
    h.key(KeyCode::Left);
    h.key(KeyCode::Left);
    assert!(h.screen(100, 30).contains("◀ normal ▶"));
}

#[test]
fn ctrl_u_clears_a_comment_to_the_start_instead_of_undoing() {
    let mut h = harness();
    h.action("next_view");
    h.action("next_view");
    h.action("next_view");
    h.select("Dispute over");
    h.action("comment");
    h.type_text("Rang twice");
    h.ctrl('u');
    h.type_text("Met them");
    assert!(changed(&h.key(KeyCode::Enter)));
    let store = h.store();
    let body: String = store
        .conn
        .query_row(
            "SELECT body FROM escalation_events WHERE kind = 'comment' ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(body, "Met them");
}
