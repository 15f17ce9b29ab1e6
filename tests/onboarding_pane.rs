//! The onboarding pane, driven as the app drives it: actions in, DB replies pumped back, the
//! screen drawn on a fixed-size test terminal.

mod onboarding_support;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::Receiver;

use onboarding_support::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rollcall::Clock;
use rollcall::app::db::{DbReply, DbWorker};
use rollcall::app::pane::{Effect, Pane, PaneId, PaneInput, Shared, Waker};
use rollcall::app::panes::onboarding;
use rollcall::app::theme::Theme;
use rollcall::config::Config;
use rollcall::storage::sql::{Connection, params};
use rollcall::storage::{OpenMode, Store};
use tempfile::TempDir;

struct Harness {
    pane: Box<dyn Pane>,
    db: DbWorker,
    replies: Receiver<DbReply>,
    clock: Clock,
    theme: Theme,
    config: Config,
    waker: Waker,
    read_only: bool,
    dir: TempDir,
}

impl Harness {
    /// A store filled by `setup`, and the pane on it, refreshed and loaded.
    fn new(setup: impl FnOnce(&Connection)) -> Harness {
        Harness::with(setup, Config::default(), false)
    }

    fn with(setup: impl FnOnce(&Connection), config: Config, read_only: bool) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rollcall.db");
        setup(&Store::open(&file, OpenMode::ReadWrite).unwrap().conn);
        let mode = if read_only {
            OpenMode::ReadOnly
        } else {
            OpenMode::ReadWrite
        };
        let clock = clock();
        let (db, replies) =
            DbWorker::start(Store::open(&file, mode).unwrap(), clock.clone(), || {});
        let mut h = Harness {
            pane: onboarding::pane(),
            db,
            replies,
            clock,
            theme: Theme::default(),
            config,
            waker: Arc::new(|| {}),
            read_only,
            dir,
        };
        h.refresh();
        h
    }

    fn refresh(&mut self) {
        let shared = self.shared_parts();
        self.pane.refresh(&shared.as_shared());
        self.pump();
    }

    /// Delivers replies until the worker has nothing left for the pane. A marker job queued
    /// behind the pane's jobs says when all of them have been answered.
    fn pump(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        loop {
            self.db.request(PaneId::Today, "pump-marker", |_, _| Ok(()));
            let mut delivered = 0;
            loop {
                let reply = self
                    .replies
                    .recv_timeout(std::time::Duration::from_secs(20))
                    .expect("the DB worker answers");
                if reply.key == "pump-marker" {
                    break;
                }
                delivered += 1;
                let parts = self.shared_parts();
                effects.push(self.pane.on_reply(reply, &parts.as_shared()));
            }
            if delivered == 0 {
                return effects;
            }
        }
    }

    /// An action, then every reply it leads to. Returns the action's effect and the replies'.
    fn act(&mut self, action: &'static str) -> Vec<Effect> {
        let parts = self.shared_parts();
        let first = self
            .pane
            .handle(PaneInput::Action(action), &parts.as_shared());
        let mut effects = vec![first];
        effects.extend(self.pump());
        effects
    }

    fn key(&mut self, code: KeyCode) -> Vec<Effect> {
        let parts = self.shared_parts();
        let event = KeyEvent::new(code, KeyModifiers::NONE);
        let first = self.pane.handle(PaneInput::Key(event), &parts.as_shared());
        let mut effects = vec![first];
        effects.extend(self.pump());
        effects
    }

    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    fn screen(&mut self, width: u16, height: u16) -> String {
        self.terminal(width, height).backend().to_string()
    }

    fn terminal(&mut self, width: u16, height: u16) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        let parts = self.shared_parts();
        let pane = &mut self.pane;
        terminal
            .draw(|frame| pane.draw(frame, frame.area(), &parts.as_shared()))
            .unwrap();
        terminal
    }

    fn conn(&self) -> Connection {
        Connection::open(self.dir.path().join("rollcall.db")).unwrap()
    }

    fn count(&self, sql: &str) -> i64 {
        self.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// Owned copies of what `Shared` borrows, so the pane can be borrowed mutably beside it.
    fn shared_parts(&self) -> Parts {
        Parts {
            clock: self.clock.clone(),
            theme: self.theme.clone(),
            db: self.db.clone(),
            config: self.config.clone(),
            waker: Arc::clone(&self.waker),
            read_only: self.read_only,
        }
    }
}

struct Parts {
    clock: Clock,
    theme: Theme,
    db: DbWorker,
    config: Config,
    waker: Waker,
    read_only: bool,
}

impl Parts {
    fn as_shared(&self) -> Shared<'_> {
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

fn done(conn: &Connection, contact: i64, key: &str, at: &str, by: &str) {
    conn.execute(
        "INSERT INTO onboarding_steps (contact_id, step_key, done_at, done_by) VALUES (?1, ?2, ?3, ?4)",
        params![contact, key, at, by],
    )
    .unwrap();
}

fn assign(conn: &Connection, contact: i64, who: &str) {
    conn.execute(
        "INSERT INTO assignments (contact_id, queue, assignee, staff, assigned_at)
         VALUES (?1, 'onboarding', ?2, 'ann', '2026-11-20T10:00:00')",
        params![contact, who],
    )
    .unwrap();
}

/// A morning's queue in a Welsh party office.
fn welsh_office(conn: &Connection) {
    let aled = Member::new("101", "Aled Jones")
        .joined("2026-11-01")
        .party("Cardiff West")
        .welsh()
        .no_phone()
        .insert(conn);
    done(conn, aled, "welcome_email", "2026-11-02T10:15:00", "ann");
    assign(conn, aled, "ann");
    conn.execute(
        "INSERT INTO notes (contact_id, context, body, staff, created_at)
         VALUES (?1, 'onboarding', 'Prefers email in Welsh', 'rhian', '2026-11-03T11:00:00')",
        [aled],
    )
    .unwrap();
    Member::new("102", "Bethan Evans")
        .joined("2026-11-20")
        .party("Swansea East")
        .insert(conn);
    let carys = Member::new("103", "Carys Hughes")
        .joined("2026-09-10")
        .party("Ceredigion")
        .welsh()
        .insert(conn);
    for key in ["welcome_email", "welcome_call", "linked_local_party"] {
        done(conn, carys, key, "2026-09-20T14:00:00", "rhian");
    }
    assign(conn, carys, "rhian");
    Member::new("104", "Dafydd Morgan")
        .joined("2026-09-01")
        .status("Pending")
        .no_email()
        .insert(conn);
    Member::new("105", "Eleri Price")
        .joined("2026-11-22")
        .party("Cardiff West")
        .insert(conn);
    Member::new("106", "Owain Thomas")
        .joined("2026-10-01")
        .party("Cardiff West")
        .insert(conn);
    // Not in the queue: a long-standing member, and a cancelled joiner.
    Member::new("107", "Long Standing")
        .joined("2012-05-05")
        .insert(conn);
    Member::new("108", "Cancelled Joiner")
        .joined("2026-11-10")
        .status("Cancelled")
        .insert(conn);
}

fn contact_id(h: &Harness, crm_id: &str) -> i64 {
    h.conn()
        .query_row("SELECT id FROM contacts WHERE crm_id = ?1", [crm_id], |r| {
            r.get(0)
        })
        .unwrap()
}

#[test]
fn the_queue_at_100_columns() {
    let mut h = Harness::new(welsh_office);
    insta::assert_snapshot!(h.screen(100, 30));
}

#[test]
fn the_queue_at_120_columns_has_every_column() {
    let mut h = Harness::new(welsh_office);
    h.act("down");
    h.act("down");
    h.act("down");
    insta::assert_snapshot!(h.screen(120, 30));
}

#[test]
fn the_highlighted_and_selected_rows_are_marked_without_colour() {
    use ratatui::style::Modifier;
    let mut h = Harness::new(welsh_office);
    h.theme = Theme::monochrome();
    h.act("mark"); // selects Dafydd, moves to Carys
    let terminal = h.terminal(100, 30);
    let buffer = terminal.backend().buffer();
    // Row 2 is Dafydd (selected), row 3 Carys (highlighted).
    assert_eq!(buffer[(2, 2)].symbol(), "●");
    assert!(buffer[(5, 2)].modifier.contains(Modifier::BOLD));
    assert_eq!(buffer[(1, 3)].symbol(), "▶");
    assert!(buffer[(5, 3)].modifier.contains(Modifier::REVERSED));
}

#[test]
fn the_queue_at_80_by_24() {
    let mut h = Harness::new(welsh_office);
    h.act("down");
    insta::assert_snapshot!(h.screen(80, 24));
}

#[test]
fn space_ticks_the_highlighted_step_and_again_unticks_it() {
    let mut h = Harness::new(welsh_office);
    // The most overdue first: Dafydd, whose welcome email was due on 3 September.
    let dafydd = contact_id(&h, "104");
    h.act("step_next"); // welcome call
    let effects = h.act("tick_step");
    assert!(effects.contains(&Effect::DataChanged), "{effects:?}");
    let (key, by): (String, String) = h
        .conn()
        .query_row(
            "SELECT step_key, done_by FROM onboarding_steps WHERE contact_id = ?1",
            [dafydd],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((key.as_str(), by.as_str()), ("welcome_call", "ann"));
    assert!(h.screen(100, 30).contains("ticked \"Welcome call made\""));
    // `select` (Space in other lists) does the same here.
    h.act("select");
    let left: i64 = h.count(&format!(
        "SELECT COUNT(*) FROM onboarding_steps WHERE contact_id = {dafydd}"
    ));
    assert_eq!(left, 0);
}

#[test]
fn a_bulk_tick_asks_once_writes_one_batch_and_undoes_as_one() {
    let mut h = Harness::new(welsh_office);
    // The first three rows: Dafydd, Carys, Owain. Carys has the email already.
    h.act("mark");
    h.act("mark");
    h.act("mark");
    h.act("bulk_tick");
    insta::assert_snapshot!("bulk_tick_question", h.screen(100, 30));
    let effects = h.key(KeyCode::Char('y'));
    assert!(effects.contains(&Effect::DataChanged));
    assert_eq!(
        h.count(
            "SELECT COUNT(*) FROM onboarding_steps WHERE step_key = 'welcome_email'
             AND done_at LIKE '2026-11-23%'"
        ),
        2
    );
    assert_eq!(
        h.count("SELECT COUNT(DISTINCT batch) FROM onboarding_steps WHERE batch IS NOT NULL"),
        1
    );
    let screen = h.screen(100, 30);
    assert!(
        screen.contains("ticked \"Welcome email sent\" for 2 members (1 had it already)"),
        "{screen}"
    );
    assert!(!screen.contains("selected"), "the selection is cleared");
    h.act("undo");
    assert_eq!(
        h.count("SELECT COUNT(*) FROM onboarding_steps WHERE done_at LIKE '2026-11-23%'"),
        0
    );
    // Carys's earlier email and Aled's are untouched.
    assert_eq!(
        h.count("SELECT COUNT(*) FROM onboarding_steps WHERE step_key = 'welcome_email'"),
        2
    );
    assert!(
        h.screen(100, 30)
            .contains("undone: ticking \"Welcome email sent\" for 2 members")
    );
}

#[test]
fn declining_the_bulk_question_changes_nothing() {
    let mut h = Harness::new(welsh_office);
    h.act("mark_all");
    h.act("bulk_tick");
    h.key(KeyCode::Char('n'));
    assert_eq!(
        h.count("SELECT COUNT(*) FROM onboarding_steps WHERE done_at LIKE '2026-11-23%'"),
        0
    );
    assert!(h.screen(100, 30).contains("6 selected"));
}

#[test]
fn bulk_tick_without_a_selection_says_what_to_do() {
    let mut h = Harness::new(welsh_office);
    let effects = h.act("bulk_tick");
    assert!(matches!(&effects[0], Effect::Status(s) if s.contains("select members first")));
}

#[test]
fn assigning_by_name_to_me_and_the_mine_view() {
    let mut h = Harness::new(welsh_office);
    let dafydd = contact_id(&h, "104");
    h.act("assign");
    assert!(h.pane.wants_raw_keys());
    h.type_text("rhian");
    h.key(KeyCode::Enter);
    let who: String = h
        .conn()
        .query_row(
            "SELECT assignee FROM assignments WHERE contact_id = ?1 AND queue = 'onboarding'",
            [dafydd],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(who, "rhian");
    h.act("down");
    h.act("assign_me");
    // Mine: Aled (assigned before) and the member just assigned to me.
    h.act("next_view");
    let screen = h.screen(100, 30);
    assert!(screen.contains("Mine (2)"), "{screen}");
    assert!(
        screen.contains("Aled Jones") && !screen.contains("Dafydd Morgan"),
        "{screen}"
    );
}

#[test]
fn the_overdue_view_and_a_local_party_filter() {
    let mut h = Harness::new(welsh_office);
    h.act("next_view");
    h.act("next_view");
    h.act("next_view");
    let overdue = h.screen(100, 30);
    assert!(overdue.contains("Overdue (5)"), "{overdue}");
    assert!(
        !overdue.contains("Eleri Price"),
        "joined yesterday: nothing due yet"
    );
    h.act("next_view");
    h.act("filter");
    h.type_text("cardiff");
    h.key(KeyCode::Enter);
    insta::assert_snapshot!("by_local_party_filtered", h.screen(100, 30));
}

#[test]
fn a_note_shows_in_the_step_strip() {
    let mut h = Harness::new(welsh_office);
    h.act("note");
    h.type_text("Left a voicemail");
    h.key(KeyCode::Enter);
    let screen = h.screen(100, 30);
    assert!(
        screen.contains("Notes: 1 · latest ann 23 Nov 2026: Left a voicemail"),
        "{screen}"
    );
    assert_eq!(
        h.count("SELECT COUNT(*) FROM notes WHERE context = 'onboarding' AND staff = 'ann'"),
        1
    );
}

#[test]
fn abandoning_with_a_reason_takes_the_member_out_and_undo_brings_them_back() {
    let mut h = Harness::new(welsh_office);
    let dafydd = contact_id(&h, "104");
    h.act("abandon");
    insta::assert_snapshot!("abandon_chooser", h.screen(100, 30));
    h.key(KeyCode::Char('1'));
    h.type_text("no payment after 3 reminders");
    h.key(KeyCode::Enter);
    let reason: String = h
        .conn()
        .query_row(
            "SELECT closed_reason FROM onboarding WHERE contact_id = ?1 AND state = 'abandoned'",
            [dafydd],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(reason, "Never paid: no payment after 3 reminders");
    assert!(!h.screen(100, 30).contains("Dafydd Morgan"));
    h.act("undo");
    assert!(h.screen(100, 30).contains("Dafydd Morgan"));
}

#[test]
fn enter_opens_the_member_and_e_escalates() {
    let mut h = Harness::new(welsh_office);
    let dafydd = contact_id(&h, "104");
    assert_eq!(h.act("open")[0], Effect::OpenMember(dafydd));
    assert_eq!(
        h.act("escalate")[0],
        Effect::Escalate {
            contact_id: dafydd,
            membership_id: None
        }
    );
}

#[test]
fn adding_by_hand_from_the_member_view_works_before_the_pane_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.db");
    let old = {
        let store = Store::open(&file, OpenMode::ReadWrite).unwrap();
        Member::new("1", "Long Standing")
            .joined("2012-05-05")
            .insert(&store.conn)
    };
    let (db, replies) = DbWorker::start(
        Store::open(&file, OpenMode::ReadWrite).unwrap(),
        clock(),
        || {},
    );
    let mut h = Harness {
        pane: onboarding::pane(),
        db,
        replies,
        clock: clock(),
        theme: Theme::default(),
        config: Config::default(),
        waker: Arc::new(|| {}),
        read_only: false,
        dir,
    };
    std::fs::copy(&file, h.dir.path().join("rollcall.db")).ok();
    let parts = h.shared_parts();
    h.pane.add_to_onboarding(old, &parts.as_shared());
    let effects = h.pump();
    assert!(effects.contains(&Effect::DataChanged), "{effects:?}");
    let conn = Connection::open(&file).unwrap();
    let by_hand: bool = conn
        .query_row(
            "SELECT added_by_hand FROM onboarding WHERE contact_id = ?1",
            [old],
            |r| r.get(0),
        )
        .unwrap();
    assert!(by_hand);
    assert!(h.screen(100, 30).contains("added to onboarding"));
}

#[test]
fn read_only_refuses_changes_up_front() {
    let mut h = Harness::with(welsh_office, Config::default(), true);
    let effects = h.act("tick_step");
    assert!(
        matches!(&effects[0], Effect::Status(s) if s.contains("read-only")),
        "{effects:?}"
    );
    assert!(!h.pane.wants_raw_keys());
    h.act("assign");
    assert!(!h.pane.wants_raw_keys(), "no prompt opens");
    assert_eq!(h.count("SELECT COUNT(*) FROM onboarding"), 0);
    // Still shows who qualifies.
    assert!(h.screen(100, 30).contains("Onboarding · All (6)"));
}

#[test]
fn view_filter_step_and_selection_survive_a_restart() {
    let mut h = Harness::new(welsh_office);
    h.act("next_view"); // mine
    h.act("prev_view"); // all
    h.act("step_next");
    h.act("step_next");
    h.act("down");
    h.act("mark"); // marks row 2, moves to row 3
    h.act("filter");
    h.type_text("e");
    h.key(KeyCode::Enter);
    let saved = h.pane.save_state().unwrap();
    let before = h.screen(100, 30);

    let mut fresh = onboarding::pane();
    fresh.restore_state(&saved);
    h.pane = fresh;
    h.refresh();
    assert_eq!(h.screen(100, 30), before);
    assert!(
        before.contains("Step 3/5: Linked to local party / branch"),
        "{before}"
    );
    assert!(before.contains("1 selected"), "{before}");
}

#[test]
fn a_broken_steps_file_shows_where_it_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let steps = dir.path().join("steps.toml");
    std::fs::write(
        &steps,
        "[[step]]\nkey = \"call\"\nlabel = \"Call\"\ndue_days = -1\n",
    )
    .unwrap();
    let mut config = Config::default();
    config.onboarding.steps_file = Some(PathBuf::from(&steps));
    let mut h = Harness::with(welsh_office, config, false);
    let screen = h.screen(100, 30);
    assert!(
        screen.contains("Could not load the onboarding queue"),
        "{screen}"
    );
    assert!(
        screen.contains("line 4, column 12: due_days is -1"),
        "{screen}"
    );
}

/// A new member, a rejoiner, and a long-standing Pending member the old rule recorded and a
/// coordinator has since worked on.
fn old_and_new(conn: &Connection) {
    Member::new("201", "Nia Griffiths")
        .joined("2026-11-10")
        .insert(conn);
    let back = Member::new("202", "Rhodri Back")
        .joined("2013-11-07")
        .status("Expired")
        .insert(conn);
    add_membership(conn, back, "202b", Some("2026-11-02"), "New");
    let kept = Member::new("203", "Gwen Kept")
        .joined("2013-11-07")
        .status("Pending")
        .insert(conn);
    conn.execute(
        "INSERT INTO onboarding (contact_id, anchor_date, added_by_hand, added_by, added_at)
         VALUES (?1, '2013-11-07', 0, 'ann', '2026-11-01T09:00:00')",
        [kept],
    )
    .unwrap();
    done(conn, kept, "welcome_email", "2026-11-02T09:00:00", "ann");
}

#[test]
fn dates_from_another_year_show_the_year_and_rejoiners_have_their_own_view() {
    let mut h = Harness::new(old_and_new);
    let screen = h.screen(120, 30);
    // The kept row joined thirteen years ago: its Joined and Due dates say which year.
    let kept = screen
        .lines()
        .find(|l| l.contains("Gwen Kept"))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(kept.contains("07 Nov 2013"), "{kept}");
    let new = screen
        .lines()
        .find(|l| l.contains("Nia Griffiths"))
        .unwrap();
    assert!(new.contains("10 Nov "), "{new}");
    assert!(
        !new.contains("2026"),
        "this year's dates carry no year: {new}"
    );
    assert!(
        !screen.contains("Rhodri Back"),
        "a rejoiner is not among the new members: {screen}"
    );
    // c cycles the views: All, Mine, Unassigned, Overdue, By local party, Rejoiners.
    for _ in 0..5 {
        h.act("next_view");
    }
    let screen = h.screen(120, 30);
    assert!(screen.contains("Rejoiners (1)"), "{screen}");
    assert!(screen.contains("Rhodri Back"), "{screen}");
    assert!(screen.contains("rejoined after a lapse"), "{screen}");
    assert!(!screen.contains("Nia Griffiths"), "{screen}");
}

/// The name on the highlighted row of the queue.
fn highlighted(screen: &str) -> String {
    let line = screen
        .lines()
        .find(|l| l.contains('▶'))
        .expect("a highlighted row");
    let after = line.split('▶').nth(1).unwrap();
    after
        .trim_start()
        .split("  ")
        .next()
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
fn abandoning_a_member_puts_the_cursor_on_the_one_that_was_next() {
    let mut h = Harness::new(welsh_office);
    h.act("down");
    assert_eq!(highlighted(&h.screen(100, 30)), "Carys Hughes");
    h.act("abandon");
    h.key(KeyCode::Char('1'));
    h.key(KeyCode::Enter);
    let screen = h.screen(100, 30);
    assert!(!screen.contains("Carys Hughes"), "{screen}");
    assert_eq!(highlighted(&screen), "Owain Thomas", "{screen}");
}

#[test]
fn abandoning_the_last_member_puts_the_cursor_on_the_new_last_row() {
    let mut h = Harness::new(welsh_office);
    h.act("bottom");
    assert_eq!(highlighted(&h.screen(100, 30)), "Eleri Price");
    h.act("abandon");
    h.key(KeyCode::Char('1'));
    h.key(KeyCode::Enter);
    assert_eq!(highlighted(&h.screen(100, 30)), "Bethan Evans");
}

fn ctrl_key(h: &mut Harness, c: char) {
    let parts = h.shared_parts();
    let event = KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
    h.pane.handle(PaneInput::Key(event), &parts.as_shared());
    h.pump();
}

#[test]
fn tab_completes_the_local_party_in_the_filter() {
    let mut h = Harness::new(welsh_office);
    h.act("filter");
    h.type_text("card");
    h.key(KeyCode::Tab);
    assert!(
        h.screen(100, 30).contains("Cardiff West"),
        "completed in the box"
    );
    h.key(KeyCode::Enter);
    let screen = h.screen(100, 30);
    for name in ["Aled Jones", "Eleri Price", "Owain Thomas"] {
        assert!(screen.contains(name), "{name}: {screen}");
    }
    assert!(!screen.contains("Bethan Evans"), "{screen}");
}

#[test]
fn the_assign_box_starts_empty_and_ctrl_u_and_ctrl_w_edit_it() {
    let mut h = Harness::new(welsh_office);
    let carys = contact_id(&h, "103");
    h.act("down");
    h.act("assign");
    let screen = h.screen(100, 30);
    assert!(
        screen.contains("Assign to (now rhian; Tab: ann"),
        "{screen}"
    );
    h.type_text("someone else");
    ctrl_key(&mut h, 'w');
    h.type_text("bob");
    ctrl_key(&mut h, 'u');
    h.type_text("bob");
    h.key(KeyCode::Enter);
    let who: String = h
        .conn()
        .query_row(
            "SELECT assignee FROM assignments WHERE contact_id = ?1 AND queue = 'onboarding'",
            [carys],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(who, "bob");
}

#[test]
fn ticking_the_welcome_email_for_a_do_not_email_member_says_so_and_asks() {
    let mut h = Harness::new(welsh_office);
    // Dafydd, first, asked not to be emailed; the step cursor is on "Welcome email sent".
    let dafydd = contact_id(&h, "104");
    h.act("tick_step");
    let screen = h.screen(100, 30);
    assert!(
        screen.contains("This member asked not to be emailed (Do Not Email)"),
        "{screen}"
    );
    h.key(KeyCode::Char('n'));
    let ticked = format!("SELECT COUNT(*) FROM onboarding_steps WHERE contact_id = {dafydd}");
    assert_eq!(h.count(&ticked), 0);
    h.act("tick_step");
    h.key(KeyCode::Char('y'));
    assert_eq!(h.count(&ticked), 1);
    // Another step asks nothing.
    h.act("step_next");
    h.act("tick_step");
    assert_eq!(h.count(&ticked), 2);
}

#[test]
fn ticking_the_welcome_email_for_a_member_without_an_email_address_says_so_and_asks() {
    let mut h = Harness::new(|conn| {
        Member::new("201", "Nia Rees")
            .joined("2026-11-15")
            .without_email_address()
            .insert(conn);
    });
    let nia = contact_id(&h, "201");
    h.act("tick_step");
    let screen = h.screen(100, 30);
    assert!(
        screen.contains("This member has no email address"),
        "{screen}"
    );
    h.key(KeyCode::Char('n'));
    let ticked = format!("SELECT COUNT(*) FROM onboarding_steps WHERE contact_id = {nia}");
    assert_eq!(h.count(&ticked), 0);
}
