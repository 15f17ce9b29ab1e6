//! The app: a ratatui workbench of panes over the store.
//!
//! A keystroke becomes an action through the keymap; the active pane handles it, sending any
//! query or write to the DB worker; replies come back to the pane, which redraws from its state.
//!
//! [`run`] only wires things up and owns the terminal; everything the user sees and does is in
//! [`shell::App`], which tests drive on a `TestBackend`.

pub mod access;
pub mod command;
pub mod db;
pub mod event;
pub mod help;
pub mod import_job;
pub mod keymap;
pub mod keyspec;
pub mod letters;
pub mod live;
pub mod member_view;
pub mod pane;
pub mod panes;
pub mod shell;
pub mod terminal;
pub mod theme;
pub mod widgets;

use std::io::{self, Stdout};
use std::process::ExitCode;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub use shell::{App, AppInit};

use crate::cli::Ctx;
use crate::config::Config;
use access::Access;
use db::DbWorker;
use event::AppEvent;
use keymap::Keymap;
use theme::Theme;

/// How long quitting waits for the state save before giving up on it.
const SAVE_WAIT: Duration = Duration::from_secs(5);

/// Opens the app on the database in `ctx`.
pub fn run(ctx: &Ctx) -> anyhow::Result<ExitCode> {
    // Everything that can fail with a message fails before the terminal is taken.
    let store = ctx.open_store()?;
    let access = access_of(ctx, &store)?;
    let mut config = Config::load_default()?;
    if config.letters.output_dir.is_none() {
        config.letters.output_dir = crate::cli::data_dir().ok().map(|d| d.join("letters"));
    }
    let panes = panes::all();
    let keymap = Keymap::load_default(&shell::pane_commands(&panes))?;
    let theme = Theme::load(&config.ui)?;

    let (tx, rx) = channel();
    let (db, replies) = DbWorker::start(store, ctx.clock.clone(), || {});
    event::forward_replies(replies, tx.clone());
    let signals = event::watch_signals(tx.clone()).context("watching for SIGTERM")?;
    let mouse = config.ui.mouse;
    let mut app = App::new(AppInit {
        clock: ctx.clock.clone(),
        config,
        keymap,
        theme,
        db,
        events: tx.clone(),
        access,
        panes,
        importer: import_job::store_runner(ctx.clone()),
    });

    terminal::install_default_panic_hook();
    let guard = TerminalGuard::take(mouse)?;
    event::read_terminal(tx);
    let mut term = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    let result = event_loop(&mut app, &mut term, &rx, mouse);
    signals.ui_finished();
    drop(term);
    drop(guard);
    wait_for_save(&mut app, &rx);
    result.map(|()| ExitCode::SUCCESS)
}

/// What the person opening the app may do. A viewer's login opens the team database read-only
/// (Ctx::open_store), which is their role's doing, not `--read-only`'s.
fn access_of(ctx: &Ctx, store: &crate::storage::Store) -> anyhow::Result<Access> {
    let flag = ctx.read_only || (store.is_read_only() && store.reads_only_as().is_none());
    Ok(
        match crate::storage::staff::role_of(&store.conn, &ctx.clock.user)? {
            Some(role) => Access::staff(role, flag),
            None if flag => Access::read_only(),
            None => Access::full(),
        },
    )
}

/// Restores the terminal when dropped, so an error return gives it back too.
struct TerminalGuard;

impl TerminalGuard {
    fn take(mouse: bool) -> anyhow::Result<TerminalGuard> {
        let mut out = io::stdout();
        if let Err(e) = terminal::enter(&mut out, mouse) {
            let _ = terminal::restore(&mut out);
            return Err(e).context("setting up the terminal");
        }
        Ok(TerminalGuard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = terminal::restore(&mut io::stdout());
    }
}

/// Waits for the next event, drains whatever else is already queued (a burst of keys, replies
/// and progress), then draws once. Idle means blocked in `recv`: no redraws.
fn event_loop(
    app: &mut App,
    term: &mut Terminal<CrosstermBackend<Stdout>>,
    rx: &Receiver<AppEvent>,
    mouse: bool,
) -> anyhow::Result<()> {
    term.draw(|f| app.draw(f))?;
    while !app.should_quit() {
        let first = match app.next_deadline() {
            Some(deadline) => {
                let wait = deadline.saturating_duration_since(Instant::now());
                match rx.recv_timeout(wait) {
                    Ok(event) => Some(event),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            None => match rx.recv() {
                Ok(event) => Some(event),
                Err(_) => break,
            },
        };
        if let Some(event) = first {
            app.handle(event);
        }
        while let Ok(event) = rx.try_recv() {
            app.handle(event);
        }
        app.tick(Instant::now());
        if app.take_suspend_request() {
            terminal::suspend(term.backend_mut(), mouse)?;
            // A fresh terminal redraws every cell. (`Terminal::clear` would ask the terminal
            // for the cursor position, whose answer the input thread would swallow.)
            *term = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        }
        if !app.should_quit() {
            term.draw(|f| app.draw(f))?;
        }
    }
    Ok(())
}

/// After the terminal is given back: let the DB worker write the saved state.
fn wait_for_save(app: &mut App, rx: &Receiver<AppEvent>) {
    let deadline = Instant::now() + SAVE_WAIT;
    while !app.state_saved() {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(event @ AppEvent::Db(_)) => app.handle(event),
            Ok(_) => {}
            Err(_) => {
                eprintln!("rollcall: the app state (pane, filters) could not be saved in time");
                return;
            }
        }
    }
}
