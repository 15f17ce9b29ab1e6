//! Everything that can wake the UI thread, funnelled into one channel so the event loop can
//! drain a burst and draw once.

use std::sync::mpsc::{Receiver, Sender};
use std::thread;

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

/// Turns SIGTERM, SIGHUP and SIGINT into [`AppEvent::Terminate`], so a `kill` or a closed
/// terminal window still saves state and restores the terminal.
#[cfg(unix)]
pub fn watch_signals(tx: Sender<AppEvent>) -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT])?;
    thread::Builder::new()
        .name("rollcall-signals".into())
        .spawn(move || {
            for _ in signals.forever() {
                if tx.send(AppEvent::Terminate).is_err() {
                    break;
                }
            }
        })?;
    Ok(())
}

#[cfg(not(unix))]
pub fn watch_signals(_tx: Sender<AppEvent>) -> std::io::Result<()> {
    Ok(())
}
