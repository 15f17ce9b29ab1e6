//! Everything that can wake the UI thread, funnelled into one channel so the event loop can
//! drain a burst and draw once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::thread;
use std::time::Duration;

use ratatui::crossterm::event::Event;

use super::db::DbReply;
use super::pane::Waker;
use crate::import::{ImportReport, Progress};

pub enum AppEvent {
    /// A key, a resize, a mouse event.
    Terminal(Event),
    /// A DB worker reply.
    Db(DbReply),
    /// A pane's background work has something new to show.
    Wake,
    Import(ImportEvent),
    /// SIGTERM, SIGHUP or SIGINT: leave cleanly.
    Terminate,
}

pub enum ImportEvent {
    Progress(Progress),
    /// The report, or the error as text.
    Finished(Box<Result<ImportReport, String>>),
}

/// A waker for panes that sends [`AppEvent::Wake`].
pub fn waker(tx: Sender<AppEvent>) -> Waker {
    std::sync::Arc::new(move || {
        let _ = tx.send(AppEvent::Wake);
    })
}

/// Forwards DB worker replies into the app's channel.
pub fn forward_replies(replies: Receiver<DbReply>, tx: Sender<AppEvent>) {
    thread::Builder::new()
        .name("rollcall-replies".into())
        .spawn(move || {
            for reply in replies {
                if tx.send(AppEvent::Db(reply)).is_err() {
                    break;
                }
            }
        })
        .expect("spawning the reply thread");
}

/// Reads terminal events on a thread of its own, so the UI thread waits on one channel.
pub fn read_terminal(tx: Sender<AppEvent>) {
    thread::Builder::new()
        .name("rollcall-input".into())
        .spawn(move || {
            while let Ok(event) = ratatui::crossterm::event::read() {
                if tx.send(AppEvent::Terminal(event)).is_err() {
                    break;
                }
            }
        })
        .expect("spawning the input thread");
}

/// How long a signal leaves the UI thread to quit cleanly (saving state, giving the terminal
/// back) before the process is ended without it.
pub const SIGNAL_GRACE: Duration = Duration::from_secs(3);

/// Tells the signal thread that the UI thread has left its loop, so a signal from then on (the
/// state is being saved) no longer needs to end the process.
pub struct SignalWatch {
    ui_done: Arc<AtomicBool>,
}

impl SignalWatch {
    pub fn ui_finished(&self) {
        self.ui_done.store(true, Ordering::SeqCst);
    }
}

/// Turns SIGTERM, SIGHUP and SIGINT into [`AppEvent::Terminate`], so a `kill` or a closed
/// terminal window still saves state and restores the terminal. This does not depend on the UI
/// thread being free: when it has not quit [`SIGNAL_GRACE`] after a signal (stuck in a slow
/// draw or job), or at a second signal, this thread gives the terminal back and ends the
/// process itself (see [`escalate`]).
#[cfg(unix)]
pub fn watch_signals(tx: Sender<AppEvent>) -> std::io::Result<SignalWatch> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT])?;
    let ui_done = Arc::new(AtomicBool::new(false));
    let done = Arc::clone(&ui_done);
    thread::Builder::new()
        .name("rollcall-signals".into())
        .spawn(move || escalate(signals.forever(), &tx, &done, SIGNAL_GRACE, &end_now))?;
    Ok(SignalWatch { ui_done })
}

#[cfg(not(unix))]
pub fn watch_signals(_tx: Sender<AppEvent>) -> std::io::Result<SignalWatch> {
    Ok(SignalWatch {
        ui_done: Arc::new(AtomicBool::new(false)),
    })
}

/// What the signal thread does with each signal while the UI thread runs: the first asks the
/// UI to quit and starts a `grace` timer; if the UI has not finished when it runs out, or at a
/// second signal, `end` is called with the signal. Once the UI has finished, signals are left
/// to the clean exit under way. Returns when `signals` ends.
pub fn escalate(
    signals: impl Iterator<Item = i32>,
    tx: &Sender<AppEvent>,
    ui_done: &Arc<AtomicBool>,
    grace: Duration,
    end: &'static (dyn Fn(i32) + Sync),
) {
    let mut asked = false;
    for signal in signals {
        if ui_done.load(Ordering::SeqCst) {
            continue;
        }
        if asked {
            end(signal);
            continue;
        }
        asked = true;
        let _ = tx.send(AppEvent::Terminate);
        let done = Arc::clone(ui_done);
        let timer = thread::Builder::new()
            .name("rollcall-signal-grace".into())
            .spawn(move || {
                thread::sleep(grace);
                if !done.load(Ordering::SeqCst) {
                    end(signal);
                }
            });
        if timer.is_err() {
            end(signal);
        }
    }
}

/// Ends the process from the signal thread: the terminal given back, a line on stderr, and the
/// exit status a shell expects for the signal (128 + its number).
fn end_now(signal: i32) {
    let _ = super::terminal::restore(&mut std::io::stdout());
    eprintln!(
        "rollcall: the app did not stop within {} s of signal {signal}, so it was ended; \
         the terminal is restored, the database holds every confirmed change, and the app's \
         state (pane, filters) was not saved",
        SIGNAL_GRACE.as_secs()
    );
    std::process::exit(128 + signal);
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::mpsc::channel;

    use super::*;

    /// Where the test `end` reports. One test at a time uses it (they take the lock).
    static ENDED: Mutex<Option<Sender<i32>>> = Mutex::new(None);
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

    fn record_end(signal: i32) {
        if let Some(tx) = ENDED.lock().unwrap().as_ref() {
            let _ = tx.send(signal);
        }
    }

    /// Runs [`escalate`] on `signals` with `grace`; returns what reached the UI and what was
    /// ended, once the signals are all delivered.
    fn run(
        signals: Vec<i32>,
        ui_done: bool,
        grace: Duration,
    ) -> (Receiver<AppEvent>, Receiver<i32>) {
        let (tx, rx) = channel();
        let (ended_tx, ended_rx) = channel();
        *ENDED.lock().unwrap() = Some(ended_tx);
        let done = Arc::new(AtomicBool::new(ui_done));
        escalate(signals.into_iter(), &tx, &done, grace, &record_end);
        (rx, ended_rx)
    }

    const WATCHDOG: Duration = Duration::from_secs(30);

    #[test]
    fn a_ui_that_does_not_quit_in_time_is_ended_with_the_signal() {
        let _one = ONE_AT_A_TIME.lock().unwrap();
        let (ui, ended) = run(vec![15], false, Duration::ZERO);
        assert!(matches!(ui.try_recv(), Ok(AppEvent::Terminate)));
        assert_eq!(ended.recv_timeout(WATCHDOG), Ok(15));
    }

    #[test]
    fn a_second_signal_ends_at_once() {
        let _one = ONE_AT_A_TIME.lock().unwrap();
        let (ui, ended) = run(vec![15, 2], false, Duration::from_secs(3600));
        assert!(matches!(ui.try_recv(), Ok(AppEvent::Terminate)));
        assert!(ui.try_recv().is_err(), "one request to quit");
        assert_eq!(ended.recv_timeout(WATCHDOG), Ok(2));
    }

    #[test]
    fn signals_after_the_ui_finished_are_left_to_the_clean_exit() {
        let _one = ONE_AT_A_TIME.lock().unwrap();
        let (ui, ended) = run(vec![15, 15], true, Duration::ZERO);
        assert!(ui.try_recv().is_err());
        assert!(ended.try_recv().is_err());
    }
}
