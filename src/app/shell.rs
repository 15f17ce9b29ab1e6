//! The app's state and behaviour, apart from the terminal: it takes events and draws frames, so
//! tests drive it with keys on a `TestBackend` exactly as a user would.

use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, MouseEventKind};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::access::Access;
use super::command::{self, CommandLine, LineOutcome, ShellCommand};
use super::db::{APP_JOB_PREFIX, COMMITTED_ELSEWHERE, CONNECTION, DbReply, DbWorker, PRESENCE};
use super::event::{AppEvent, ImportEvent};
use super::help::{self, HelpSection, HelpView};
use super::import_job::{ImportRunner, ImportState, ImportView};
use super::keymap::{Context, Keymap, MEMBER_ACTIONS, QUIT_ALWAYS, Scope};
use super::keyspec::KeySpec;
use super::letters::{self as letters_dialog, DialogOutcome, LettersDialog};
use super::member_view::{MemberState, MemberView};
use super::pane::{Command, Effect, Pane, PaneId, PaneInput, Shared, Waker};
use super::theme::Theme;
use super::widgets::centered;
use super::widgets::text_prompt::Choice;
use crate::Clock;
use crate::config::Config;
use crate::storage::member::{self, MemberDetail};
use crate::storage::ui_state;

/// The smallest terminal the app draws in.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;
/// How long a status message stays.
pub const STATUS_FOR: Duration = Duration::from_secs(5);
/// The pane the app opens on when nothing was saved.
pub const START_PANE: PaneId = PaneId::Today;

const JOB_MEMBER: &str = "app:member";
/// The pane whose dialogs the member view's actions on a member open (see
/// [`Pane::act_for_member`]).
const MEMBER_DIALOGS: PaneId = PaneId::Renewals;
const JOB_LAST_IMPORT: &str = "app:last_import";
const JOB_STAFF: &str = "app:staff";
const JOB_LOAD_STATE: &str = "app:load_state";
const JOB_SAVE_STATE: &str = "app:save_state";
/// A no-op job: its reply means every job queued before it has been answered.
pub const JOB_BARRIER: &str = "app:barrier";

/// Panes that keep members' data in memory beyond what they show (the search index). When
/// another process commits, they reload in the background even when not shown, so that a person
/// erased in another terminal is not left findable here.
const HOLD_DATA_IN_MEMORY: [PaneId; 1] = [PaneId::Search];

/// What the app is built from.
pub struct AppInit {
    pub clock: Clock,
    pub config: Config,
    pub keymap: Keymap,
    pub theme: Theme,
    pub db: DbWorker,
    /// The app's own event channel: imports and pane wakers send on it.
    pub events: Sender<AppEvent>,
    /// What the person at this window may do.
    pub access: Access,
    /// In `PaneId::ALL` order.
    pub panes: Vec<Box<dyn Pane>>,
    pub importer: ImportRunner,
}

/// What panes are handed on every call.
struct Env {
    clock: Clock,
    theme: Theme,
    config: Config,
    db: DbWorker,
    waker: Waker,
    access: Access,
    staff: Vec<Choice>,
}

impl Env {
    fn shared(&self) -> Shared<'_> {
        Shared {
            clock: &self.clock,
            theme: &self.theme,
            db: &self.db,
            config: &self.config,
            waker: &self.waker,
            access: &self.access,
            staff: &self.staff,
        }
    }
}

enum LastImport {
    Loading,
    Never,
    At(String),
}

struct Status {
    text: String,
    until: Instant,
    error: bool,
}

pub struct App {
    env: Env,
    keymap: Keymap,
    events: Sender<AppEvent>,
    importer: ImportRunner,
    panes: Vec<Box<dyn Pane>>,
    active: PaneId,
    /// Panes to refresh when next shown.
    stale: Vec<PaneId>,
    /// Panes that have loaded at least once.
    shown: Vec<PaneId>,
    /// The saved state has been applied (or there was none): panes may load.
    started: bool,
    /// The erasure generation the saved state was loaded at (see `ui_state`).
    erasures_at_load: i64,
    help: Option<HelpView>,
    member: Option<MemberView>,
    command_line: Option<CommandLine>,
    command_history: Vec<String>,
    import: Option<ImportView>,
    letters: Option<LettersDialog>,
    status: Option<Status>,
    /// While the team database is unreachable, what the status bar says (until it is back).
    offline: Option<&'static str>,
    /// On a team database, the logins of the other staff with a window open on it.
    presence: Vec<String>,
    last_import: LastImport,
    quitting: bool,
    saved: bool,
    suspend: bool,
}

impl App {
    /// Builds the app and asks the DB worker for the saved state and the last import; panes
    /// load once the saved state is in.
    pub fn new(init: AppInit) -> App {
        let waker = super::event::waker(init.events.clone());
        let mut panes = init.panes;
        panes.sort_by_key(|p| index_of(p.id()));
        let ids: Vec<PaneId> = panes.iter().map(|p| p.id()).collect();
        assert_eq!(
            ids,
            PaneId::ALL,
            "the app needs exactly one pane of each kind"
        );
        let app = App {
            env: Env {
                clock: init.clock,
                theme: init.theme,
                config: init.config,
                db: init.db,
                waker,
                access: init.access,
                staff: Vec::new(),
            },
            keymap: init.keymap,
            events: init.events,
            importer: init.importer,
            panes,
            active: START_PANE,
            stale: PaneId::ALL.to_vec(),
            shown: Vec::new(),
            started: false,
            erasures_at_load: 0,
            help: None,
            member: None,
            command_line: None,
            command_history: Vec::new(),
            import: None,
            letters: None,
            status: None,
            offline: None,
            presence: Vec::new(),
            last_import: LastImport::Loading,
            quitting: false,
            saved: false,
            suspend: false,
        };
        let staff = app.env.clock.user.clone();
        app.app_job(JOB_LOAD_STATE, move |store, _| {
            ui_state::load(store, &staff)
        });
        app.request_last_import();
        app.request_staff();
        app
    }

    pub fn db(&self) -> &DbWorker {
        &self.env.db
    }

    pub fn active_pane(&self) -> PaneId {
        self.active
    }

    pub fn should_quit(&self) -> bool {
        self.quitting
    }

    /// The state save asked for at quit has been written (or failed: nothing to wait for).
    pub fn state_saved(&self) -> bool {
        self.saved
    }

    /// Ctrl-Z was pressed: the caller gives the terminal back and stops the process.
    pub fn take_suspend_request(&mut self) -> bool {
        std::mem::take(&mut self.suspend)
    }

    /// When the app next needs a redraw with no event (a status message running out).
    pub fn next_deadline(&self) -> Option<Instant> {
        self.status.as_ref().map(|s| s.until)
    }

    /// Drops what has timed out by `now`; true when something changed on screen.
    pub fn tick(&mut self, now: Instant) -> bool {
        if self.status.as_ref().is_some_and(|s| s.until <= now) {
            self.status = None;
            return true;
        }
        false
    }

    pub fn handle(&mut self, event: AppEvent) {
        match event {
            AppEvent::Terminal(Event::Key(key)) => self.on_key(key),
            AppEvent::Terminal(Event::Mouse(mouse)) => {
                let action = match mouse.kind {
                    MouseEventKind::ScrollUp => "up",
                    MouseEventKind::ScrollDown => "down",
                    _ => return,
                };
                self.on_action(Scope::List, action);
            }
            AppEvent::Terminal(_) | AppEvent::Wake => {} // a redraw is all it takes
            AppEvent::Db(reply) => self.on_reply(reply),
            AppEvent::Import(event) => self.on_import(event),
            AppEvent::Terminate => self.request_quit(),
        }
    }

    // ------------------------------------------------------------ keys

    fn on_key(&mut self, key: KeyEvent) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        let spec = KeySpec::from_event(&key);
        if spec == QUIT_ALWAYS {
            return self.request_quit();
        }
        if let Some(line) = &mut self.command_line {
            match line.handle(key) {
                LineOutcome::Editing => {}
                LineOutcome::Cancelled => self.close_command_line(),
                LineOutcome::Submitted(text) => {
                    self.close_command_line();
                    self.run_command(&text);
                }
            }
            return;
        }
        if let Some(import) = &mut self.import {
            // The import popup is modal: Esc cancels a running import; Esc or Enter closes
            // its summary.
            match (import.is_running(), spec.code) {
                (true, KeyCode::Esc) => import.request_cancel(),
                (false, KeyCode::Esc | KeyCode::Enter) => self.import = None,
                _ => {}
            }
            return;
        }
        if let Some(dialog) = &mut self.letters {
            // Modal, like the import popup: its own keys (t, c, Tab, Enter, Esc, y, n).
            if let DialogOutcome::Closed = dialog.handle(key, &self.env.db, &self.env.config) {
                self.letters = None;
            }
            return;
        }
        let context = self.context();
        let resolved = self.keymap.resolve(context, spec);
        if self.help.is_some() {
            return self.help_key(resolved.map(|r| r.action));
        }
        if self.member.is_some() && self.panes[index_of(MEMBER_DIALOGS)].wants_raw_keys() {
            let effect = self.with_pane(MEMBER_DIALOGS, |pane, shared| {
                pane.handle(PaneInput::Key(key), shared)
            });
            return self.apply(effect);
        }
        if self.member.is_none() && self.active_pane_ref().wants_raw_keys() {
            let effect = self.with_active(|pane, shared| pane.handle(PaneInput::Key(key), shared));
            return self.apply(effect);
        }
        if let Some(r) = resolved {
            self.on_action(r.scope, r.action);
        }
    }

    fn context(&self) -> Context {
        if self.member.is_some() {
            Context::Member
        } else {
            Context::Pane(self.active)
        }
    }

    fn on_action(&mut self, scope: Scope, action: &'static str) {
        if scope == Scope::Global {
            return self.global_action(action);
        }
        if let Some(view) = &mut self.member {
            match action {
                "back" => self.member = None,
                "escalate" => {
                    let effect = Effect::Escalate {
                        contact_id: view.contact_id,
                        membership_id: view.main_membership(),
                    };
                    self.apply(effect);
                }
                "add_to_onboarding" => {
                    let effect = Effect::AddToOnboarding(view.contact_id);
                    self.apply(effect);
                }
                // The renewals pane's own dialogs and writes, on this member's membership.
                "log_contact" | "log_contact_note" | "note" | "snooze" | "assign" => {
                    let Some(row) = view.as_queue_row(self.env.clock.today) else {
                        let why = "This member has no membership to act on".to_owned();
                        return self.set_status(why, true);
                    };
                    let effect = self.with_pane(PaneId::Renewals, |pane, shared| {
                        pane.act_for_member(action, &row, shared)
                    });
                    self.apply(effect);
                }
                other => {
                    view.scroll_action(other);
                }
            }
            return;
        }
        let effect =
            self.with_active(|pane, shared| pane.handle(PaneInput::Action(action), shared));
        self.apply(effect);
    }

    fn global_action(&mut self, action: &str) {
        match action {
            "quit" => self.request_quit(),
            "help" => self.help = Some(HelpView::default()),
            "command_line" => {
                let history = std::mem::take(&mut self.command_history);
                self.command_line = Some(CommandLine::with_history(history));
            }
            "next_pane" | "prev_pane" => {
                let i = index_of(self.active);
                let n = PaneId::ALL.len();
                let next = if action == "next_pane" {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                self.switch_pane(PaneId::ALL[next]);
            }
            "suspend" => self.suspend = true,
            other => {
                if let Some(n) = other
                    .strip_prefix("pane_")
                    .and_then(|n| n.parse::<usize>().ok())
                    && let Some(&pane) = PaneId::ALL.get(n)
                {
                    self.switch_pane(pane);
                }
            }
        }
    }

    fn help_key(&mut self, action: Option<&'static str>) {
        let total = HelpView::lines(&self.help_sections(), &self.env.theme).len();
        let Some(help) = &mut self.help else { return };
        let page = help.page.max(1) as isize;
        let delta = match action {
            Some("help" | "back" | "quit") => {
                self.help = None;
                return;
            }
            Some("up") => -1,
            Some("down") => 1,
            Some("page_up") => -page,
            Some("page_down") => page,
            Some("half_page_up") => -page / 2,
            Some("half_page_down") => page / 2,
            Some("top") => isize::MIN / 2,
            Some("bottom") => isize::MAX / 2,
            _ => return,
        };
        help.scroll_by(delta, total);
    }

    fn close_command_line(&mut self) {
        if let Some(line) = self.command_line.take() {
            self.command_history = line.into_history();
        }
    }

    fn run_command(&mut self, text: &str) {
        match command::parse(text) {
            Ok(ShellCommand::Quit) => self.request_quit(),
            Ok(ShellCommand::Help) => self.help = Some(HelpView::default()),
            Ok(ShellCommand::Pane(pane)) => self.switch_pane(pane),
            Ok(ShellCommand::Import { path, older_export }) => {
                self.start_import(path, older_export)
            }
            Err(message) => self.set_status(message, true),
        }
    }

    // ------------------------------------------------------------ panes and effects

    fn active_pane_ref(&self) -> &dyn Pane {
        self.panes[index_of(self.active)].as_ref()
    }

    fn with_active<T>(&mut self, f: impl FnOnce(&mut dyn Pane, &Shared) -> T) -> T {
        self.with_pane(self.active, f)
    }

    fn with_pane<T>(&mut self, id: PaneId, f: impl FnOnce(&mut dyn Pane, &Shared) -> T) -> T {
        let shared = self.env.shared();
        let pane = self.panes[index_of(id)].as_mut();
        f(pane, &shared)
    }

    /// Shows `pane`, closing the member view, and loads it if it is stale.
    pub fn switch_pane(&mut self, pane: PaneId) {
        self.member = None;
        self.active = pane;
        self.show_active();
    }

    fn show_active(&mut self) {
        if !self.started {
            return; // refreshed once the saved state is in
        }
        self.refresh_if_stale(self.active);
    }

    fn refresh_if_stale(&mut self, pane: PaneId) {
        if let Some(i) = self.stale.iter().position(|p| *p == pane) {
            self.stale.remove(i);
            if !self.shown.contains(&pane) {
                self.shown.push(pane);
            }
            self.with_pane(pane, |pane, shared| pane.refresh(shared));
        }
    }

    /// Another connection committed (another window, or an import or `rollcall forget` in
    /// another terminal): the visible pane reloads now, keeping its place, and the others when
    /// next shown, as after a change made here. Nothing waits: the panes' loads are DB jobs.
    fn on_committed_elsewhere(&mut self) {
        self.data_changed(None);
        self.show_active();
        for pane in HOLD_DATA_IN_MEMORY {
            if self.started && self.shown.contains(&pane) {
                self.refresh_if_stale(pane);
            }
        }
        self.request_last_import();
        self.request_staff();
    }

    fn apply(&mut self, effect: Effect) {
        self.apply_nested(effect, 0);
    }

    fn apply_nested(&mut self, effect: Effect, depth: u8) {
        if depth > 4 {
            return; // panes answering effects with effects: stop rather than loop
        }
        match effect {
            Effect::None => {}
            Effect::OpenMember(contact_id) => self.open_member(contact_id),
            Effect::Escalate {
                contact_id,
                membership_id,
            } => {
                self.switch_pane(PaneId::Escalations);
                self.with_active(|pane, shared| {
                    pane.start_escalation(contact_id, membership_id, shared)
                });
            }
            Effect::AddToOnboarding(contact_id) => {
                let next = self.with_pane(PaneId::Onboarding, |pane, shared| {
                    pane.add_to_onboarding(contact_id, shared)
                });
                self.apply_nested(next, depth + 1);
            }
            Effect::SwitchPane(pane) => self.switch_pane(pane),
            Effect::Status(text) => self.set_status(text, false),
            Effect::DataChanged => self.data_changed(Some(self.active)),
            Effect::Letters(request) => {
                if let Some(why) = self.env.access.read_only_because() {
                    return self.set_status(
                        format!(
                            "Read-only ({why}): letters are recorded as contact attempts, so \
                             writing them was refused"
                        ),
                        true,
                    );
                }
                if request.members.is_empty() {
                    return self.set_status("No members in the list to write to".into(), true);
                }
                self.letters = Some(LettersDialog::open(request, &self.env.db, &self.env.config));
            }
        }
    }

    /// Every pane but `except` reloads when next shown; an open member view reloads now.
    fn data_changed(&mut self, except: Option<PaneId>) {
        self.stale = PaneId::ALL
            .into_iter()
            .filter(|p| Some(*p) != except)
            .collect();
        if let Some(view) = &self.member {
            self.request_member(view.contact_id);
        }
    }

    fn set_status(&mut self, text: String, error: bool) {
        self.status = Some(Status {
            text,
            until: Instant::now() + STATUS_FOR,
            error,
        });
    }

    fn open_member(&mut self, contact_id: i64) {
        self.member = Some(MemberView::new(contact_id));
        self.request_member(contact_id);
    }

    fn request_member(&self, contact_id: i64) {
        self.app_job(JOB_MEMBER, move |store, clock| {
            Ok((
                contact_id,
                member::load(&store.conn, contact_id, clock.today)?,
            ))
        });
    }

    /// The staff list, for assignment prompts: at start and when another process commits (staff
    /// are managed only with `rollcall team`, whose audit line every window hears of; nothing
    /// done in a window changes the list).
    fn request_staff(&self) {
        self.app_job(JOB_STAFF, |store, _| {
            Ok(crate::storage::staff::list(&store.conn, false)?
                .into_iter()
                .map(|s| Choice {
                    label: format!("{}  {} · {}", s.login, s.name, s.role),
                    value: s.login,
                })
                .collect::<Vec<Choice>>())
        });
    }

    fn request_last_import(&self) {
        self.app_job(JOB_LAST_IMPORT, |store, _| Ok(store.last_import()?));
    }

    fn app_job<T, F>(&self, key: &'static str, job: F)
    where
        T: Send + 'static,
        F: FnOnce(&mut crate::storage::Store, &Clock) -> anyhow::Result<T> + Send + 'static,
    {
        // Tagged with any pane: the `app:` key routes the reply to the app itself.
        self.env.db.request(PaneId::Today, key, job);
    }

    // ------------------------------------------------------------ replies

    fn on_reply(&mut self, reply: DbReply) {
        if !reply.key.starts_with(APP_JOB_PREFIX) {
            let pane = reply.pane;
            let effect = self.with_pane(pane, |p, shared| p.on_reply(reply, shared));
            // The pane that wrote has reloaded itself; the one shown may be another (the member
            // view's actions write through the renewals pane).
            if effect == Effect::DataChanged {
                return self.data_changed(Some(pane));
            }
            return self.apply(effect);
        }
        match reply.key {
            JOB_MEMBER => self.on_member(reply.take::<(i64, Option<MemberDetail>)>()),
            JOB_LAST_IMPORT => {
                self.last_import = match reply.take::<Option<(String, String)>>() {
                    Ok(Some((finished_at, _as_of))) => LastImport::At(finished_at),
                    Ok(None) | Err(_) => LastImport::Never,
                }
            }
            JOB_STAFF => {
                // Without the list the prompts take any name, and the store still checks it.
                self.env.staff = reply.take::<Vec<Choice>>().unwrap_or_default();
            }
            JOB_LOAD_STATE => {
                // A state that cannot be read is no reason not to start: open as new.
                let saved = reply.take::<ui_state::Saved>().unwrap_or_default();
                self.erasures_at_load = saved.erasures;
                self.restore(saved.entries);
            }
            JOB_SAVE_STATE => self.saved = true,
            letters_dialog::JOB_PREPARE => {
                if let Some(dialog) = &mut self.letters {
                    dialog.on_prepared(reply.take());
                }
            }
            letters_dialog::JOB_WRITE => {
                let said = self
                    .letters
                    .as_mut()
                    .and_then(|dialog| dialog.on_written(reply.take()));
                if let Some((text, error)) = said {
                    if !error {
                        // The letters are contact attempts: every list shows them.
                        self.data_changed(None);
                        self.show_active();
                    }
                    self.set_status(text, error);
                }
            }
            COMMITTED_ELSEWHERE => self.on_committed_elsewhere(),
            PRESENCE => self.presence = reply.take::<Vec<String>>().unwrap_or_default(),
            CONNECTION => match reply.take::<Option<&'static str>>() {
                Ok(Some(message)) => self.offline = Some(message),
                Ok(None) | Err(_) => {
                    if self.offline.take().is_some() {
                        self.set_status("team database reachable again".into(), false);
                    }
                }
            },
            _ => {} // the barrier, and anything else of ours that needs no answer
        }
    }

    fn on_member(&mut self, result: Result<(i64, Option<MemberDetail>), String>) {
        let Some(view) = &mut self.member else { return };
        match result {
            Ok((id, _)) if id != view.contact_id => {} // an earlier member's answer
            Ok((_, Some(detail))) => view.state = MemberState::Loaded(Box::new(detail)),
            Ok((_, None)) => view.state = MemberState::Gone,
            Err(why) => view.state = MemberState::Failed(why),
        }
    }

    fn restore(&mut self, entries: Vec<(String, String)>) {
        for (key, value) in &entries {
            if key == ui_state::ACTIVE_PANE {
                if let Some(p) = PaneId::ALL
                    .into_iter()
                    .find(|p| p.keymap_section() == value)
                {
                    self.active = p;
                }
                continue;
            }
            let section = key.strip_prefix("pane.");
            if let Some(id) = PaneId::ALL
                .into_iter()
                .find(|p| Some(p.keymap_section()) == section)
            {
                self.panes[index_of(id)].restore_state(value);
            }
        }
        self.started = true;
        self.show_active();
    }

    fn request_quit(&mut self) {
        if self.quitting {
            return;
        }
        self.quitting = true;
        if let Some(import) = &mut self.import {
            import.request_cancel();
        }
        if !self.started {
            // Quit before the saved state came in: keep what was saved rather than overwrite it.
            self.saved = true;
            return;
        }
        let mut entries = vec![(
            ui_state::ACTIVE_PANE.to_owned(),
            self.active.keymap_section().to_owned(),
        )];
        for pane in &self.panes {
            if let Some(state) = pane.save_state() {
                entries.push((ui_state::pane_key(pane.id().keymap_section()), state));
            }
        }
        let staff = self.env.clock.user.clone();
        let erasures = self.erasures_at_load;
        self.app_job(JOB_SAVE_STATE, move |store, _| {
            ui_state::save(store, &staff, &entries, erasures)
        });
    }

    // ------------------------------------------------------------ import

    fn start_import(&mut self, path: PathBuf, older_export: bool) {
        if let Err(why) = self.env.access.may_import() {
            return self.set_status(why, true);
        }
        if self.import.as_ref().is_some_and(ImportView::is_running) {
            return self.set_status("an import is already running".into(), true);
        }
        if !path.is_file() {
            return self.set_status(format!("no file at {}", path.display()), true);
        }
        let options = crate::import::ImportOptions {
            older_export,
            ..Default::default()
        };
        let view = ImportView::start(self.importer.clone(), path, options, self.events.clone());
        self.import = Some(view);
    }

    fn on_import(&mut self, event: ImportEvent) {
        let Some(view) = &mut self.import else { return };
        match event {
            ImportEvent::Progress(p) => view.progress = Some(p),
            ImportEvent::Finished(result) => {
                let changed = result.as_ref().as_ref().is_ok_and(|r| !r.dry_run);
                view.state = ImportState::Done(result);
                if changed {
                    self.data_changed(None);
                    self.show_active();
                    self.request_last_import();
                }
            }
        }
    }

    // ------------------------------------------------------------ drawing

    fn help_sections(&self) -> Vec<HelpSection> {
        let (title, own): (&str, &'static [Command]) = match self.member {
            Some(_) => ("Member view", MEMBER_ACTIONS),
            None => (self.active.title(), self.active_pane_ref().commands()),
        };
        help::sections(&self.keymap, self.context(), title, own, &self.env.access)
    }

    pub fn draw(&mut self, frame: &mut Frame) {
        let area = frame.area();
        // The theme's base (e.g. high contrast's white on black) under everything.
        frame.render_widget(
            ratatui::widgets::Block::default().style(self.env.theme.base),
            area,
        );
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            return draw_too_small(frame, area, &self.env.theme);
        }
        let [tabs, body, status, hints] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(area);
        self.draw_tabs(frame, tabs);
        let shared = self.env.shared();
        self.panes[index_of(self.active)].draw(frame, body, &shared);
        if let Some(view) = &mut self.member {
            view.draw(frame, body, &self.env.theme);
            self.panes[index_of(MEMBER_DIALOGS)].draw_dialog(frame, body, &shared);
        }
        self.draw_status(frame, status);
        let sections = self.help_sections();
        let items = help::hints(&sections);
        let globals = sections
            .last()
            .map_or(0, |s| s.rows.iter().filter(|r| r.hint).count());
        frame.render_widget(
            Paragraph::new(help::hint_line(
                &items,
                globals,
                hints.width,
                &self.env.theme,
            )),
            hints,
        );
        if let Some(help) = &mut self.help {
            help.draw(frame, body, &sections, &self.env.theme);
        }
        if let Some(import) = &self.import {
            import.draw(frame, body, &self.env.theme);
        }
        if let Some(dialog) = &self.letters {
            dialog.draw(frame, body, &self.env.theme);
        }
    }

    fn draw_tabs(&self, frame: &mut Frame, area: Rect) {
        let theme = &self.env.theme;
        let mut spans = Vec::new();
        for (n, pane) in PaneId::ALL.into_iter().enumerate() {
            // Brackets as well as the style: the active pane is never shown by colour alone.
            if pane == self.active {
                spans.push(Span::styled(
                    format!("[{n} {}]", pane.title()),
                    theme.active_tab,
                ));
            } else {
                spans.push(Span::styled(
                    format!(" {n} {} ", pane.title()),
                    theme.inactive_tab,
                ));
            }
        }
        let mut right = vec![Span::styled(
            crate::text::ellipsize(&self.env.clock.user, 16),
            theme.title,
        )];
        if self.env.access.is_read_only() {
            right.push(Span::raw(" "));
            right.push(Span::styled("READ-ONLY", theme.danger));
        }
        right.push(Span::raw(" "));
        let right = Line::from(right);
        let [left_area, right_area] =
            Layout::horizontal([Constraint::Min(0), Constraint::Length(right.width() as u16)])
                .areas(area);
        frame.render_widget(
            Paragraph::new(Line::from(spans)).style(theme.base),
            left_area,
        );
        frame.render_widget(Paragraph::new(right).style(theme.base), right_area);
    }

    fn draw_status(&self, frame: &mut Frame, area: Rect) {
        let theme = &self.env.theme;
        frame.render_widget(Paragraph::new("").style(theme.status_bar), area);
        let imported = match &self.last_import {
            LastImport::Loading => "…".to_owned(),
            LastImport::Never => "none yet".to_owned(),
            LastImport::At(at) => at.replacen('T', " ", 1).chars().take(16).collect(),
        };
        let info = format!(
            " as of {} · last import {} ",
            self.env.clock.today, imported
        );
        let short_info = format!(" as of {} ", self.env.clock.today);
        // Left: the command line being typed, or the last message. Right: the as-of date and
        // last import, shortened to the date when the left needs the room.
        let left_text = match (&self.command_line, &self.status) {
            (Some(line), _) => Some((format!(":{} ", line.text()), theme.base)),
            (None, _) if self.offline.is_some() => Some((
                format!(" {}", self.offline.unwrap_or_default()),
                theme.status_bar.patch(theme.danger),
            )),
            (None, Some(s)) => {
                let style = if s.error {
                    theme.status_bar.patch(theme.danger)
                } else {
                    theme.status_bar
                };
                Some((format!(" {}", s.text), style))
            }
            // Who else is working: only when there is nothing to say.
            (None, None) if !self.presence.is_empty() => Some((
                format!(" also here: {}", also_here(&self.presence)),
                theme.status_bar,
            )),
            (None, None) => None,
        };
        let left_width = left_text.as_ref().map_or(0, |(t, _)| t.chars().count());
        let info = if left_width + info.chars().count() <= area.width as usize {
            info
        } else {
            short_info
        };
        let [left, right] = Layout::horizontal([
            Constraint::Min(0),
            Constraint::Length(info.chars().count() as u16),
        ])
        .areas(area);
        if let Some((text, style)) = left_text {
            frame.render_widget(Paragraph::new(Line::styled(text, style)), left);
        }
        if let Some(line) = &self.command_line {
            let typed: String = line.text().chars().take(line.cursor()).collect();
            let x = left.x + 1 + Span::raw(typed).width() as u16;
            frame.set_cursor_position((x.min(left.right().saturating_sub(1)), left.y));
        }
        frame.render_widget(Paragraph::new(info).style(theme.status_bar), right);
    }
}

/// The other staff with a window open, for the status bar: the first few logins, then how
/// many more.
fn also_here(logins: &[String]) -> String {
    const NAMED: usize = 6;
    let mut text = logins
        .iter()
        .take(NAMED)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if logins.len() > NAMED {
        text.push_str(&format!(" and {} more", logins.len() - NAMED));
    }
    text
}

fn draw_too_small(frame: &mut Frame, area: Rect, theme: &Theme) {
    let text = format!(
        "rollcall needs at least {MIN_WIDTH}×{MIN_HEIGHT} (now {}×{})",
        area.width, area.height
    );
    let rect = centered(area, area.width, 3.min(area.height));
    frame.render_widget(
        Paragraph::new(text)
            .style(theme.warning)
            .alignment(ratatui::layout::Alignment::Center)
            .wrap(Wrap { trim: true }),
        rect,
    );
}

fn index_of(pane: PaneId) -> usize {
    PaneId::ALL.iter().position(|p| *p == pane).unwrap_or(0)
}

/// Each pane's commands, for the keymap to check its sections against.
pub fn pane_commands(panes: &[Box<dyn Pane>]) -> Vec<(PaneId, &'static [Command])> {
    panes.iter().map(|p| (p.id(), p.commands())).collect()
}
