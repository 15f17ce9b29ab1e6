//! The renewals pane, driven as the app drives it: actions and raw keys in, DB replies pumped
//! back into `on_reply`, screens rendered on a fixed-size TestBackend and snapshotted.

mod renewals_support;

use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Modifier;
use renewals_support::*;
use rollcall::Clock;
use rollcall::app::db::{DbReply, DbWorker};
use rollcall::app::pane::{Effect, Pane, PaneInput, Shared, Waker};
use rollcall::app::panes::renewals::RenewalsPane;
use rollcall::app::theme::Theme;
use rollcall::config::Config;
use rollcall::domain::renewal::{Channel, Outcome};
use rollcall::storage::renewals::{self, NewAttempt};
use rollcall::storage::{OpenMode, Store};

struct Harness {
    _dir: tempfile::TempDir,
    path: PathBuf,
    db: DbWorker,
    replies: Receiver<DbReply>,
    clock: Clock,
    theme: Theme,
    config: Config,
    waker: Waker,
    read_only: bool,
    pane: RenewalsPane,
    effects: Vec<Effect>,
}

impl Harness {
    fn new(fill: impl FnOnce(&mut Store)) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rollcall.db");
        let mut store = Store::open(&path, OpenMode::ReadWrite).unwrap();
        fill(&mut store);
        let clock = clock("2026-11-23");
        let (db, replies) = DbWorker::start(store, clock.clone(), || {});
        let mut h = Harness {
            _dir: dir,
            path,
            db,
            replies,
            clock,
            theme: Theme::default(),
            config: Config::default(),
            waker: std::sync::Arc::new(|| {}),
            read_only: false,
            pane: RenewalsPane::default(),
            effects: Vec::new(),
        };
        h.with(|p, s| p.refresh(s));
        h.settle();
        h
    }

    fn with<R>(&mut self, f: impl FnOnce(&mut RenewalsPane, &Shared) -> R) -> R {
        let shared = Shared {
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
        };
        f(&mut self.pane, &shared)
    }

    /// Feeds every reply back to the pane until it waits for nothing.
    fn settle(&mut self) {
        while self.pane.is_busy() {
            let reply = self
                .replies
                .recv_timeout(Duration::from_secs(10))
                .expect("the DB worker replied");
            let effect = self.with(|p, s| p.on_reply(reply, s));
            if effect != Effect::None {
                self.effects.push(effect);
            }
        }
    }

    fn action(&mut self, action: &'static str) -> Effect {
        assert!(
            !self.pane.wants_raw_keys(),
            "a popup is open; `{action}` would not arrive"
        );
        let effect = self.with(|p, s| p.handle(PaneInput::Action(action), s));
        self.settle();
        effect
    }

    fn key(&mut self, code: KeyCode) {
        assert!(self.pane.wants_raw_keys(), "no popup is taking keys");
        self.with(|p, s| p.handle(PaneInput::Key(KeyEvent::new(code, KeyModifiers::NONE)), s));
        self.settle();
    }

    fn keys(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    fn render(&mut self, width: u16, height: u16) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        let (clock, theme, db, config, waker, read_only) = (
            &self.clock,
            &self.theme,
            &self.db,
            &self.config,
            &self.waker,
            self.read_only,
        );
        let pane = &mut self.pane;
        terminal
            .draw(|frame| {
                let shared = Shared {
                    clock,
                    theme,
                    db,
                    config,
                    waker,
                    access: if read_only {
                        &rollcall::app::access::READ_ONLY
                    } else {
                        &rollcall::app::access::FULL
                    },
                    staff: &[],
                };
                pane.draw(frame, frame.area(), &shared);
            })
            .unwrap();
        terminal
    }

    fn screen(&mut self) -> String {
        self.render(100, 30).backend().to_string()
    }

    fn store(&self) -> Store {
        Store::open(&self.path, OpenMode::ReadOnly).unwrap()
    }
}

/// The morning's queue as of 2026-11-23 (names are made up).
fn morning(store: &mut Store) {
    let c = &store.conn;
    insert(c, &member("Alys Jones", "2026-11-25").welsh());
    insert(
        c,
        &member("Bryn Davies", "2026-11-10")
            .no_phone()
            .place("Swansea East", "Wales"),
    );
    let ceri = insert(
        c,
        &member("Ceri Evans", "2026-12-20")
            .bouncing()
            .kind("Reduced Rate"),
    );
    insert(c, &member("Dafydd Hughes", "2026-09-15").status("Expired"));
    let eleri = insert(c, &member("Eleri Morgan", "2026-12-01"));
    insert(c, &member("Ffion Price", "2026-12-02").auto_renew());
    insert(
        c,
        &member("Gareth Thomas", "2026-11-23").place("Bristol West", "South West"),
    );
    let huw = insert(c, &member("Huw Owen", "2026-11-30"));
    let phoned = NewAttempt {
        channel: Channel::Phone,
        outcome: Outcome::NoAnswer,
        note: String::new(),
    };
    renewals::log_attempts(store, &clock("2026-11-20"), &[ceri], &phoned).unwrap();
    let bob = Clock::fixed(d("2026-11-21"), "bob");
    let will = NewAttempt {
        channel: Channel::Phone,
        outcome: Outcome::WillRenew,
        note: String::new(),
    };
    renewals::log_attempts(store, &bob, &[huw], &will).unwrap();
    renewals::snooze(store, &clock("2026-11-22"), &[eleri], Some(d("2026-12-01"))).unwrap();
    simulate_renewal_import(store, "2026-11-22", &[(huw, "2027-11-30")]);
}

/// Moves the cursor to the row with this name.
fn go_to(h: &mut Harness, name: &str) {
    h.action("top");
    for _ in 0..20 {
        if h.screen()
            .lines()
            .any(|l| l.contains(&format!("> {name}")) || l.contains(&format!(">*{name}")))
        {
            return;
        }
        h.action("down");
    }
    panic!("{name} is not in the queue");
}

fn count(store: &Store, sql: &str) -> i64 {
    store.conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn the_queue_in_urgency_order() {
    let mut h = Harness::new(morning);
    insta::assert_snapshot!("queue_100x30", h.screen());
    // The cursor row is reversed and bold, not only coloured.
    let terminal = h.render(100, 30);
    let buffer = terminal.backend().buffer();
    let y = (0..30)
        .find(|&y| buffer[(1u16, y)].symbol() == ">")
        .expect("a cursor row");
    let style = buffer[(10u16, y)].style();
    assert!(
        style
            .add_modifier
            .contains(Modifier::REVERSED | Modifier::BOLD)
    );
}

#[test]
fn usable_at_80_by_24() {
    let mut h = Harness::new(morning);
    h.action("select");
    insta::assert_snapshot!("queue_80x24", h.render(80, 24).backend().to_string());
}

#[test]
fn three_keys_log_a_contact() {
    let mut h = Harness::new(morning);
    go_to(&mut h, "Alys Jones");
    h.action("log_contact");
    insta::assert_snapshot!("channel_chooser", h.screen());
    h.keys("p");
    insta::assert_snapshot!("outcome_chooser", h.screen());
    h.keys("m");
    assert!(!h.pane.wants_raw_keys());
    assert_eq!(h.effects, vec![Effect::DataChanged]);
    let store = h.store();
    let (channel, outcome, staff, note): (String, String, String, String) = store
        .conn
        .query_row(
            "SELECT a.channel, a.outcome, a.staff, a.note FROM contact_attempts a
             JOIN contacts c ON c.id = a.contact_id WHERE c.display_name = 'Alys Jones'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (
            channel.as_str(),
            outcome.as_str(),
            staff.as_str(),
            note.as_str()
        ),
        ("phone", "left_message", "ann", "")
    );
    let screen = h.screen();
    assert!(
        screen.contains("Last contact 2026-11-23 09:00, phone, left message, by ann"),
        "{screen}"
    );
    assert!(
        screen.contains("Logged phone, left message for 1 member"),
        "{screen}"
    );
}

#[test]
fn a_note_with_the_attempt_and_escape_cancels() {
    let mut h = Harness::new(morning);
    go_to(&mut h, "Alys Jones");
    h.action("log_contact");
    h.key(KeyCode::Esc);
    assert!(!h.pane.wants_raw_keys());
    h.action("log_contact_note");
    h.keys("iw");
    h.keys("Met at the branch AGM");
    h.key(KeyCode::Enter);
    let store = h.store();
    let (channel, outcome, note): (String, String, String) = store
        .conn
        .query_row("SELECT channel, outcome, note FROM contact_attempts WHERE staff = 'ann' AND channel = 'in_person'", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(
        (channel.as_str(), outcome.as_str(), note.as_str()),
        ("in_person", "will_renew", "Met at the branch AGM")
    );
}

#[test]
fn a_call_to_a_do_not_phone_member_asks_first() {
    let mut h = Harness::new(morning);
    go_to(&mut h, "Bryn Davies");
    h.action("log_contact");
    let screen = h.screen();
    let phone = screen.lines().find(|l| l.contains(" p  phone")).unwrap();
    assert!(
        phone.contains("Do Not Phone"),
        "the chooser warns beside the channel: {phone}"
    );
    h.keys("p");
    let screen = h.screen();
    insta::assert_snapshot!("do_not_phone_confirm", screen);
    let dialog: Vec<&str> = screen
        .lines()
        .skip_while(|l| !l.contains("Confirm"))
        .take_while(|l| !l.contains("y yes"))
        .collect();
    assert!(dialog.join("").contains("Do Not Phone"));
    assert!(
        !dialog.join("").contains("Bryn"),
        "the question names the flag, not the person"
    );
    h.keys("n");
    assert!(!h.pane.wants_raw_keys());
    assert_eq!(
        count(
            &h.store(),
            "SELECT COUNT(*) FROM contact_attempts WHERE staff = 'ann' AND attempted_at LIKE '2026-11-23%'"
        ),
        0
    );
    // Email is no problem for this member: straight to the outcome.
    h.action("log_contact");
    h.keys("e");
    assert!(h.screen().contains("Email for 1 member: outcome"));
    h.key(KeyCode::Esc);
    // Saying yes goes on to the outcome.
    h.action("log_contact");
    h.keys("pyn");
    assert_eq!(
        count(
            &h.store(),
            "SELECT COUNT(*) FROM contact_attempts WHERE channel = 'phone' AND attempted_at LIKE '2026-11-23%'"
        ),
        1
    );
}

#[test]
fn bulk_attempt_skips_preferences_confirms_once_and_undoes_as_one() {
    let mut h = Harness::new(morning);
    go_to(&mut h, "Gareth Thomas");
    h.action("select");
    h.action("select");
    h.action("select");
    assert!(h.screen().contains("3 marked"));
    h.action("log_contact");
    h.keys("em");
    let screen = h.screen();
    insta::assert_snapshot!("bulk_confirm", screen);
    h.keys("y");
    let store = h.store();
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM contact_attempts WHERE channel = 'email'"
        ),
        2
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(DISTINCT batch) FROM contact_attempts WHERE channel = 'email'"
        ),
        1
    );
    assert!(
        !h.screen().contains("marked"),
        "marks clear after the action"
    );

    h.action("undo");
    assert!(
        h.screen()
            .contains("Undo logging email, sent for 2 members?")
    );
    h.keys("y");
    let store = h.store();
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM contact_attempts WHERE channel = 'email'"
        ),
        0
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'undo_contact_attempt'"
        ),
        2
    );
    assert!(h.screen().contains("Undone: 2 contact attempts"));
    h.action("undo");
    assert!(h.screen().contains("Nothing to undo"));
}

#[test]
fn range_and_all_marking() {
    let mut h = Harness::new(morning);
    h.action("top");
    h.action("select");
    h.action("down");
    h.action("down");
    h.action("select_range");
    assert!(h.screen().contains("4 marked"));
    h.action("select_all");
    assert!(h.screen().contains("5 marked"));
    h.action("select_all");
    assert!(!h.screen().contains("marked"));
    h.action("select");
    h.action("back");
    assert!(!h.screen().contains("marked"));
}

#[test]
fn snooze_refuses_bad_dates_then_sets_and_undoes() {
    let mut h = Harness::new(morning);
    go_to(&mut h, "Alys Jones");
    h.action("snooze");
    h.keys("tomorrow");
    h.key(KeyCode::Enter);
    insta::assert_snapshot!("snooze_refused", h.screen());
    for _ in 0..8 {
        h.key(KeyCode::Backspace);
    }
    h.keys("+7");
    h.key(KeyCode::Enter);
    assert!(!h.pane.wants_raw_keys());
    let until: String = h
        .store()
        .conn
        .query_row("SELECT s.until FROM snoozes s JOIN memberships m ON m.id = s.membership_id JOIN contacts c ON c.id = m.contact_id WHERE c.display_name = 'Alys Jones'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(until, "2026-11-30");
    let screen = h.screen();
    assert!(screen.contains("2 snoozed or settled"), "{screen}");
    assert!(!screen.contains("Alys Jones"), "a snoozed row is set aside");
    h.action("undo");
    assert!(h.screen().contains("Alys Jones"));
    assert_eq!(count(&h.store(), "SELECT COUNT(*) FROM snoozes"), 1);
}

#[test]
fn notes_assignments_escalation_and_opening() {
    let mut h = Harness::new(morning);
    go_to(&mut h, "Alys Jones");
    h.action("note");
    h.key(KeyCode::Enter);
    assert!(h.screen().contains("a note needs some text"));
    h.keys("Prefers Welsh, evenings");
    h.key(KeyCode::Enter);
    assert_eq!(
        count(
            &h.store(),
            "SELECT COUNT(*) FROM notes WHERE context = 'renewals' AND staff = 'ann'"
        ),
        1
    );

    // The box starts empty: Enter unassigns, Tab gives your own name.
    h.action("assign");
    h.key(KeyCode::Enter);
    assert!(h.screen().contains("Nobody is assigned there to unassign"));
    h.action("assign");
    h.key(KeyCode::Tab);
    h.key(KeyCode::Enter);
    assert!(h.screen().contains("Assigned 1 member to ann"));
    h.action("filter");
    h.keys("m");
    h.key(KeyCode::Esc);
    let screen = h.screen();
    assert!(
        screen.contains("Alys Jones") && !screen.contains("Gareth Thomas"),
        "{screen}"
    );

    let row = |h: &Harness| -> (i64, i64) {
        h.store()
            .conn
            .query_row("SELECT c.id, m.id FROM contacts c JOIN memberships m ON m.contact_id = c.id WHERE c.display_name = 'Alys Jones'", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
    };
    let (contact_id, membership_id) = row(&h);
    assert_eq!(h.action("open"), Effect::OpenMember(contact_id));
    assert_eq!(
        h.action("escalate"),
        Effect::Escalate {
            contact_id,
            membership_id: Some(membership_id)
        }
    );
}

#[test]
fn filters_menu_and_typed_values() {
    let mut h = Harness::new(morning);
    h.action("filter");
    insta::assert_snapshot!("filter_menu", h.screen());
    h.keys("w");
    h.key(KeyCode::Esc);
    let screen = h.screen();
    assert!(screen.contains("filter: Welsh"), "{screen}");
    assert!(screen.contains("Alys Jones") && !screen.contains("Gareth Thomas"));

    h.action("filter");
    h.keys("x");
    h.keys("r");
    h.keys("Narnia");
    h.key(KeyCode::Enter);
    assert!(h.screen().contains("none in the queue"));
    for _ in 0..6 {
        h.key(KeyCode::Backspace);
    }
    h.keys("south west");
    h.key(KeyCode::Enter);
    h.key(KeyCode::Esc);
    let screen = h.screen();
    assert!(screen.contains("filter: region South West"), "{screen}");
    assert!(screen.contains("Gareth Thomas") && !screen.contains("Alys Jones"));

    h.action("cycle_bucket");
    assert!(h.screen().contains("filter: due only, region South West"));
    h.action("cycle_bucket");
    assert!(
        h.screen()
            .contains("No membership in the queue matches these filters.")
    );
}

#[test]
fn filters_survive_a_restart() {
    let mut h = Harness::new(morning);
    h.action("filter");
    h.keys("wz");
    h.key(KeyCode::Esc);
    h.action("toggle_auto_renew");
    let saved = h.pane.save_state().unwrap();
    let mut fresh = Harness::new(morning);
    fresh.pane = RenewalsPane::default();
    fresh.pane.restore_state(&saved);
    fresh.with(|p, s| p.refresh(s));
    fresh.settle();
    let screen = fresh.screen();
    assert!(screen.contains("filter: Welsh"), "{screen}");
    // Garbage from an older version is ignored rather than fatal.
    fresh.pane.restore_state("{not json");
}

#[test]
fn set_aside_and_auto_renewing_show_in_their_own_sections() {
    let mut h = Harness::new(morning);
    h.action("toggle_set_aside");
    h.action("toggle_auto_renew");
    let screen = h.screen();
    assert!(
        screen.contains("Set aside: snoozed or settled (1)"),
        "{screen}"
    );
    assert!(screen.contains("Auto-renewing (1)"), "{screen}");
    assert!(screen.contains("Eleri Morgan") && screen.contains("Ffion Price"));
}

#[test]
fn who_renewed_and_who_to_thank() {
    let mut h = Harness::new(morning);
    assert!(
        h.screen()
            .contains("1 renewed in the last import (2026-11-22), 1 after a contact: bob 1")
    );
    h.action("renewed");
    insta::assert_snapshot!("renewed_view", h.screen());
    let huw: i64 = h
        .store()
        .conn
        .query_row(
            "SELECT id FROM contacts WHERE display_name = 'Huw Owen'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(h.action("open"), Effect::OpenMember(huw));
    h.action("back");
    assert!(h.screen().contains("Alys Jones"));
}

#[test]
fn read_only_refuses_before_asking() {
    let mut h = Harness::new(morning);
    h.read_only = true;
    h.action("log_contact");
    assert!(!h.pane.wants_raw_keys());
    assert!(
        h.screen()
            .contains("Read-only (--read-only): logging a contact attempt was refused")
    );
}

#[test]
fn a_lapsed_auto_renewer_shows_first_marked_payment_failed() {
    let mut h = Harness::new(|store| {
        let c = &store.conn;
        insert(c, &member("Gwen Plain", "2026-11-10"));
        insert(c, &member("Owain Auto", "2026-11-20").auto_renew());
        insert(c, &member("Dewi Due", "2026-12-02"));
        insert(c, &member("Nia Later", "2026-12-05").auto_renew());
    });
    let screen = h.screen();
    let line_of = |name: &str| {
        screen
            .lines()
            .position(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} not shown: {screen}"))
    };
    assert!(line_of("Owain Auto") < line_of("Gwen Plain"), "{screen}");
    assert!(line_of("Gwen Plain") < line_of("Dewi Due"), "{screen}");
    assert!(
        screen
            .lines()
            .nth(line_of("Owain Auto"))
            .unwrap()
            .contains("PayFailed?")
    );
    assert!(
        !screen.contains("Nia Later"),
        "not yet due stays hidden: {screen}"
    );
}

/// The name on the cursor row.
fn cursor_name(screen: &str) -> String {
    let line = screen
        .lines()
        .find(|l| l.contains("│> ") || l.contains("│>*"))
        .expect("a cursor row");
    let after = &line[line.find('>').unwrap() + 2..];
    after.split("  ").next().unwrap().trim().to_owned()
}

#[test]
fn snoozing_a_row_puts_the_cursor_on_the_one_that_was_next() {
    let mut h = Harness::new(morning);
    go_to(&mut h, "Gareth Thomas");
    h.action("snooze");
    h.keys("+7");
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(!screen.contains("Gareth Thomas"), "{screen}");
    assert_eq!(cursor_name(&screen), "Alys Jones", "{screen}");
}

#[test]
fn an_outcome_that_settles_the_row_moves_the_cursor_to_the_next_row() {
    let mut h = Harness::new(morning);
    go_to(&mut h, "Alys Jones");
    h.action("log_contact");
    h.keys("p");
    h.keys("d"); // declined settles the renewal
    let screen = h.screen();
    assert!(!screen.contains("Alys Jones"), "{screen}");
    assert_eq!(cursor_name(&screen), "Ceri Evans", "{screen}");
}

#[test]
fn a_bulk_snooze_puts_the_cursor_on_the_next_unsnoozed_row() {
    let mut h = Harness::new(morning);
    go_to(&mut h, "Bryn Davies");
    h.action("select");
    h.action("select");
    assert_eq!(cursor_name(&h.screen()), "Alys Jones");
    h.action("up");
    h.action("up");
    h.action("snooze");
    h.keys("+7");
    h.key(KeyCode::Enter);
    h.keys("y");
    let screen = h.screen();
    assert!(!screen.contains("Gareth Thomas"), "{screen}");
    assert_eq!(cursor_name(&screen), "Alys Jones", "{screen}");
}

#[test]
fn snoozing_past_the_end_of_grace_says_so_and_asks() {
    let mut h = Harness::new(morning);
    // Bryn's membership ended 2026-11-10: his grace ends 2026-12-10.
    go_to(&mut h, "Bryn Davies");
    h.action("snooze");
    h.keys("2026-12-20");
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(
        screen.contains("The grace period ends 2026-12-10, before 2026-12-20"),
        "{screen}"
    );
    h.keys("n");
    assert_eq!(
        count(&h.store(), "SELECT COUNT(*) FROM snoozes"),
        1,
        "only Eleri's"
    );
    // Within grace: no question.
    h.action("snooze");
    h.keys("2026-12-05");
    h.key(KeyCode::Enter);
    assert!(!h.pane.wants_raw_keys());
    assert_eq!(count(&h.store(), "SELECT COUNT(*) FROM snoozes"), 2);
}

// ------------------------------------------------------------------ claims (issue 16)

/// `who` claims the member called `name` from another window (the harness's file).
fn claimed_by(h: &Harness, who: &str, name: &str) {
    let mut other = Store::open(&h.path, OpenMode::ReadWrite).unwrap();
    let contact: i64 = other
        .conn
        .query_row(
            "SELECT id FROM contacts WHERE display_name = ?1",
            [name],
            |r| r.get(0),
        )
        .unwrap();
    let bo = Clock::fixed(d("2026-11-23"), who);
    let claimed = rollcall::storage::claims::claim(&mut other, &bo, contact, 15, false).unwrap();
    assert!(matches!(
        claimed,
        rollcall::storage::claims::Claimed::Yours { .. }
    ));
}

fn reload(h: &mut Harness) {
    h.with(|p, s| p.refresh(s));
    h.settle();
}

fn claims_held(h: &Harness) -> Vec<(String, String)> {
    h.store()
        .conn
        .prepare(
            "SELECT c.display_name, k.login FROM claims k JOIN contacts c ON c.id = k.contact_id
             ORDER BY 1",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn opening_the_contact_dialog_claims_the_member_and_logging_releases_them() {
    let mut h = Harness::new(morning);
    go_to(&mut h, "Alys Jones");
    h.action("log_contact");
    assert!(h.pane.wants_raw_keys(), "the channel chooser is open");
    assert_eq!(claims_held(&h), [("Alys Jones".into(), "ann".into())]);
    h.keys("pm");
    assert_eq!(claims_held(&h), Vec::<(String, String)>::new(), "released");
}

#[test]
fn moving_on_releases_a_claim_that_was_not_used() {
    let mut h = Harness::new(morning);
    go_to(&mut h, "Alys Jones");
    h.action("log_contact");
    h.key(KeyCode::Esc);
    assert_eq!(
        claims_held(&h),
        [("Alys Jones".into(), "ann".into())],
        "still on the row: still hers"
    );
    h.action("down");
    assert_eq!(claims_held(&h), Vec::<(String, String)>::new());
}

#[test]
fn another_officers_claim_shows_on_the_row_and_asks_before_logging() {
    let mut h = Harness::new(morning);
    claimed_by(&h, "bo", "Alys Jones");
    reload(&mut h);
    let screen = h.screen();
    let row = screen.lines().find(|l| l.contains("Alys Jones")).unwrap();
    assert!(row.contains("bo is on it"), "{screen}");
    go_to(&mut h, "Alys Jones");
    h.action("log_contact");
    let screen = h.screen();
    assert!(
        screen.contains("bo is on Alys Jones until 09:15. Log a contact for them"),
        "{screen}"
    );
    h.keys("n");
    assert!(!h.pane.wants_raw_keys());
    h.action("log_contact");
    h.keys("y");
    assert!(h.screen().contains("Phone"), "on to the channel");
    h.keys("pm");
    assert_eq!(
        claims_held(&h),
        [("Alys Jones".into(), "bo".into())],
        "bo's claim was never taken from them"
    );
}

#[test]
fn a_bulk_action_leaves_out_members_others_are_on_and_says_how_many() {
    let mut h = Harness::new(morning);
    claimed_by(&h, "bo", "Alys Jones");
    reload(&mut h);
    h.action("select_all");
    h.action("snooze");
    assert!(
        h.screen()
            .contains("Left out 1 member that other officers are on"),
        "{}",
        h.screen()
    );
}

#[test]
fn next_free_skips_members_others_are_on_and_an_expired_claim_is_nobodys() {
    let mut h = Harness::new(morning);
    h.action("top");
    let first = cursor_name(&h.screen());
    h.action("down");
    let second = cursor_name(&h.screen());
    h.action("down");
    let third = cursor_name(&h.screen());
    claimed_by(&h, "bo", &second);
    reload(&mut h);
    h.action("top");
    assert_eq!(cursor_name(&h.screen()), first);
    h.action("next_free");
    assert_eq!(
        cursor_name(&h.screen()),
        third,
        "skipped {second}, whom bo is on"
    );
    // bo's window crashed an hour ago: the claim lapsed by itself.
    h.store();
    let rw = Store::open(&h.path, OpenMode::ReadWrite).unwrap();
    rw.conn
        .execute_batch("UPDATE claims SET expires_at = '2026-11-23T08:00:00'")
        .unwrap();
    reload(&mut h);
    h.action("top");
    h.action("next_free");
    assert_eq!(cursor_name(&h.screen()), second);
}

#[test]
fn a_claim_taken_a_moment_before_turns_the_open_dialog_into_the_question() {
    let mut h = Harness::new(morning);
    go_to(&mut h, "Alys Jones");
    // Bo claims her after this window last loaded the claims: it does not know yet.
    claimed_by(&h, "bo", "Alys Jones");
    let attempts = |h: &Harness| count(&h.store(), "SELECT count(*) FROM contact_attempts");
    let before = attempts(&h);
    h.action("log_contact");
    let screen = h.screen();
    assert!(
        screen.contains("bo is on Alys Jones until 09:15. Log a contact for them"),
        "{screen}"
    );
    h.keys("n");
    assert_eq!(attempts(&h), before, "nothing logged over bo's claim");
}
