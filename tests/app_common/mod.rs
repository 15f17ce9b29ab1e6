//! Driving the app as a user does: keys in, the screen out, on a `TestBackend`, with a fixed
//! clock (2026-11-23, "ann") and a real store behind a real DB worker.
#![allow(dead_code)] // each test file uses its own part of this

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Paragraph};

use rollcall::Clock;
use rollcall::app::db::{DbReply, DbWorker};
use rollcall::app::event::AppEvent;
use rollcall::app::import_job::ImportRunner;
use rollcall::app::keymap::Keymap;
use rollcall::app::pane::{Command, Effect, Pane, PaneId, PaneInput, Shared};
use rollcall::app::shell::{JOB_BARRIER, pane_commands};
use rollcall::app::theme::Theme;
use rollcall::app::{App, AppInit, panes};
use rollcall::config::Config;
use rollcall::import::{ImportReport, Progress};
use rollcall::storage::Store;

pub fn clock() -> Clock {
    Clock::fixed(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(), "ann")
}

pub fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

pub fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

pub struct Options {
    pub panes: Vec<Box<dyn Pane>>,
    pub theme: Theme,
    pub read_only: bool,
    /// The staff role of the person at the window (None: not on a staff list).
    pub role: Option<rollcall::domain::staff::Role>,
    pub importer: ImportRunner,
    pub size: (u16, u16),
    pub config: Config,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            panes: panes::all(),
            theme: Theme::default(),
            read_only: false,
            role: None,
            importer: failing_importer("import is not available in this test"),
            size: (100, 30),
            config: Config::default(),
        }
    }
}

pub fn failing_importer(message: &'static str) -> ImportRunner {
    Arc::new(move |_, _, _, _| anyhow::bail!(message))
}

pub struct Harness {
    pub app: App,
    rx: Receiver<AppEvent>,
    pub terminal: Terminal<TestBackend>,
}

impl Harness {
    pub fn new(store: Store) -> Harness {
        Harness::with(store, Options::default())
    }

    pub fn with(store: Store, options: Options) -> Harness {
        let (tx, rx) = channel();
        let (db, replies) = DbWorker::start(store, clock(), || {});
        rollcall::app::event::forward_replies(replies, tx.clone());
        let keymap = Keymap::builtin(&pane_commands(&options.panes)).unwrap();
        let app = App::new(AppInit {
            clock: clock(),
            config: options.config,
            keymap,
            theme: options.theme,
            db,
            events: tx,
            access: match (options.role, options.read_only) {
                (Some(role), read_only) => rollcall::app::access::Access::staff(role, read_only),
                (None, true) => rollcall::app::access::Access::read_only(),
                (None, false) => rollcall::app::access::Access::full(),
            },
            panes: options.panes,
            importer: options.importer,
        });
        let (w, h) = options.size;
        let mut harness = Harness {
            app,
            rx,
            terminal: Terminal::new(TestBackend::new(w, h)).unwrap(),
        };
        harness.settle();
        harness
    }

    /// Feeds the app every reply until the DB worker has nothing left to say.
    pub fn settle(&mut self) {
        loop {
            self.app
                .db()
                .request(PaneId::Today, JOB_BARRIER, |_, _| Ok(()));
            let mut others = 0;
            loop {
                let event = self
                    .rx
                    .recv_timeout(Duration::from_secs(10))
                    .expect("the DB worker answers");
                match event {
                    AppEvent::Db(reply) if reply.key == JOB_BARRIER => break,
                    event => {
                        others += 1;
                        self.app.handle(event);
                    }
                }
            }
            if others == 0 {
                return;
            }
        }
    }

    /// Feeds events until `done` holds (imports run on their own thread).
    pub fn pump_until(&mut self, mut done: impl FnMut(&mut Harness) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done(self) {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = self.rx.recv_timeout(left).expect("the awaited event came");
            self.app.handle(event);
        }
    }

    pub fn press(&mut self, key: KeyEvent) {
        self.app.handle(AppEvent::Terminal(Event::Key(key)));
        self.settle();
    }

    pub fn code(&mut self, code: KeyCode) {
        self.press(key(code));
    }

    /// Types each character as a key press.
    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.press(key(KeyCode::Char(c)));
        }
    }

    /// Draws and returns the screen as text, one line per row.
    pub fn screen(&mut self) -> String {
        self.terminal.draw(|f| self.app.draw(f)).unwrap();
        self.terminal.backend().to_string()
    }

    pub fn resize(&mut self, w: u16, h: u16) {
        self.terminal.backend_mut().resize(w, h);
        self.app.handle(AppEvent::Terminal(Event::Resize(w, h)));
    }
}

/// A store with one Welsh-speaking, do-not-phone member (rollcall id 1) with two memberships,
/// membership events from two imports, a contact attempt and a note.
pub fn member_store() -> Store {
    let store = Store::open_in_memory().unwrap();
    store.conn.execute_batch(MEMBER_SQL).unwrap();
    store
}

pub const MEMBER_SQL: &str = "
INSERT INTO import_runs (id, started_at, finished_at, staff, as_of, file_name, file_size,
    file_sha256, profile, source, encoding, date_order)
  VALUES (1, '2026-10-01T08:00:00', '2026-10-01T08:02:00', 'bob', '2026-10-01', 'oct.csv', 10,
          'aa', 'civicrm', 'civicrm', 'utf-8', 'iso'),
         (2, '2026-11-20T08:00:00', '2026-11-20T08:03:00', 'ann', '2026-11-20', 'nov.csv', 10,
          'bb', 'civicrm', 'civicrm', 'utf-8', 'iso');
INSERT INTO contacts (id, source, crm_id, display_name, sort_name, first_name, last_name, email,
    phone, street_address, city, postcode, county, country, preferred_language, do_not_phone,
    no_bulk_email, local_party, region, constituency)
  VALUES (1, 'civicrm', '4501', 'Siân Prydderch', 'Prydderch, Siân', 'Siân', 'Prydderch',
          'sian.p@example.org', '029 2000 0101', '12 Heol y Castell', 'Caerdydd', 'CF10 1AA',
          'South Glamorgan', 'United Kingdom', 'cy_GB', 1, 1, 'Cardiff Central', 'Wales',
          'Cardiff Central');
INSERT INTO memberships (id, contact_id, source, sync_key, crm_membership_id, membership_type,
    join_date, start_date, end_date, crm_status, membership_source, auto_renew, missing_since)
  VALUES (10, 1, 'civicrm', 'id:9001', '9001', 'Individual', '2019-05-01', '2025-11-01',
          '2026-10-31', 'Current', 'Online', 1, NULL),
         (11, 1, 'civicrm', 'id:9002', '9002', 'Youth', '2016-03-01', '2016-03-01', '2018-02-28',
          'Expired', 'Freshers fair', 0, 2);
INSERT INTO membership_events (membership_id, import_id, kind, old_value, new_value, occurred_on)
  VALUES (10, 1, 'joined', NULL, NULL, '2026-10-01'),
         (10, 1, 'renewed', '2025-10-31', '2026-10-31', '2026-10-01'),
         (11, 2, 'missing', NULL, NULL, '2026-11-20');
INSERT INTO contact_attempts (contact_id, membership_id, channel, outcome, note, attempted_at,
    staff)
  VALUES (1, 10, 'email', 'left_message', 'Sent the renewal link; asked to reply in Welsh.',
          '2026-11-21T10:15:00', 'ann');
INSERT INTO notes (contact_id, membership_id, context, body, staff, created_at)
  VALUES (1, 10, 'renewals', 'Prefers letters. Card expired in October, will renew at the branch meeting on the 3rd.', 'cai', '2026-11-22T14:00:00');
";

/// What fake panes saw, for asserting on.
pub type Log = Rc<RefCell<Vec<String>>>;

/// A pane with a list of `rows` rows, a selection that survives restarts, and `open` that opens
/// member 1. Records refreshes and cross-pane calls in `log`.
pub struct FakePane {
    pub id: PaneId,
    pub selected: usize,
    pub log: Log,
    pub taking_text: bool,
}

const FAKE_COMMANDS: &[Command] = &[
    Command {
        action: "escalate",
        description: "escalate this member",
        hint: true,
        changes: true,
    },
    Command {
        action: "note",
        description: "add a note",
        hint: false,
        changes: true,
    },
];

impl FakePane {
    pub fn boxed(id: PaneId, log: &Log) -> Box<dyn Pane> {
        Box::new(FakePane {
            id,
            selected: 0,
            log: Rc::clone(log),
            taking_text: false,
        })
    }
}

/// One fake pane of each kind, sharing `log`.
pub fn fake_panes(log: &Log) -> Vec<Box<dyn Pane>> {
    PaneId::ALL
        .iter()
        .map(|&id| FakePane::boxed(id, log))
        .collect()
}

impl Pane for FakePane {
    fn id(&self) -> PaneId {
        self.id
    }

    fn commands(&self) -> &'static [Command] {
        FAKE_COMMANDS
    }

    fn refresh(&mut self, _shared: &Shared) {
        self.log.borrow_mut().push(format!("refresh {:?}", self.id));
    }

    fn handle(&mut self, input: PaneInput, _shared: &Shared) -> Effect {
        match input {
            PaneInput::Action("down") => self.selected += 1,
            PaneInput::Action("up") => self.selected = self.selected.saturating_sub(1),
            PaneInput::Action("open") => return Effect::OpenMember(1),
            PaneInput::Action("note") => {
                self.taking_text = true;
                return Effect::Status("Note saved".into());
            }
            PaneInput::Action("escalate") => {
                return Effect::Escalate {
                    contact_id: 1,
                    membership_id: Some(10),
                };
            }
            PaneInput::Action("filter") => return Effect::DataChanged,
            PaneInput::Key(k) => {
                self.log
                    .borrow_mut()
                    .push(format!("raw {:?} {:?}", self.id, k.code));
                if k.code == KeyCode::Esc {
                    self.taking_text = false;
                }
            }
            PaneInput::Action(a) => self
                .log
                .borrow_mut()
                .push(format!("action {:?} {a}", self.id)),
        }
        Effect::None
    }

    fn on_reply(&mut self, _reply: DbReply, _shared: &Shared) -> Effect {
        Effect::None
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, shared: &Shared) {
        let text = format!("{} pane — selected row {}", self.id.title(), self.selected);
        frame.render_widget(
            Paragraph::new(text).block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(shared.theme.border),
            ),
            area,
        );
    }

    fn wants_raw_keys(&self) -> bool {
        self.taking_text
    }

    fn save_state(&self) -> Option<String> {
        Some(format!("{{\"selected\":{}}}", self.selected))
    }

    fn restore_state(&mut self, state: &str) {
        let v: serde_json::Value = serde_json::from_str(state).unwrap();
        self.selected = v["selected"].as_u64().unwrap() as usize;
    }

    fn start_escalation(&mut self, contact_id: i64, membership_id: Option<i64>, _shared: &Shared) {
        self.log.borrow_mut().push(format!(
            "start_escalation {:?} {contact_id} {membership_id:?}",
            self.id
        ));
    }

    fn add_to_onboarding(&mut self, contact_id: i64, _shared: &Shared) -> Effect {
        self.log
            .borrow_mut()
            .push(format!("add_to_onboarding {:?} {contact_id}", self.id));
        Effect::Status("Added to onboarding".into())
    }
}

/// An importer that reports progress, then waits for the cancel flag or for `release`.
pub fn slow_importer(release: Arc<Mutex<bool>>) -> ImportRunner {
    Arc::new(
        move |_path, _options, progress: &mut dyn FnMut(Progress), cancel: &AtomicBool| {
            progress(Progress {
                bytes_done: 250,
                bytes_total: 1000,
                rows: 4200,
            });
            loop {
                if cancel.load(std::sync::atomic::Ordering::Relaxed) {
                    anyhow::bail!("the import was cancelled; nothing was changed");
                }
                if *release.lock().unwrap() {
                    return Ok(report());
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        },
    )
}

pub fn report() -> ImportReport {
    use rollcall::import::{ContactCounts, DateOrder, MembershipCounts, RejectedRow};
    ImportReport {
        file: "nov.csv".into(),
        profile: "civicrm".into(),
        profile_detected: true,
        source: "civicrm".into(),
        encoding: "utf-8".into(),
        delimiter: ",".into(),
        date_order: DateOrder::Iso,
        title_lines_skipped: 0,
        rows_read: 12_345,
        contacts: ContactCounts {
            inserted: 12,
            updated: 40,
            unchanged: 12_000,
        },
        memberships: MembershipCounts {
            inserted: 12,
            updated: 41,
            unchanged: 12_100,
            renewed: 35,
            missing_from_export: 4,
            back_in_export: 1,
            still_missing: 0,
            end_date_moved_back: 0,
        },
        rejected: 1,
        skipped_erased: 0,
        duplicate_rows: 0,
        columns_not_imported: Vec::new(),
        columns_not_imported_count: 0,
        kept_resave_damaged: 0,
        errors: vec![RejectedRow {
            line: 77,
            reason: "`Membership Expiration Date` is not a date".into(),
        }],
        missing_check_skipped: None,
        latest_joiners: None,
        dry_run: false,
        committed: true,
        elapsed_ms: 2300,
        import_id: Some(3),
    }
}
