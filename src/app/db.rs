//! The DB worker: one background thread that owns a connection and runs the panes' queries and
//! writes, so the UI thread never waits on SQLite (a query, or another process's import holding
//! the write lock).
//!
//! Jobs are tagged with the pane that sent them and a key. When several jobs with the same
//! (pane, key) are waiting, only the newest runs: a pane that reloads five times in a burst costs
//! one query, as in gitui's async jobs.
//!
//! On an SQLite file, between jobs, about once a second, the worker asks SQLite whether another
//! connection has committed since it last looked (`PRAGMA data_version`: another app window, an
//! import or `rollcall forget` in another terminal). When one has, it sends the app an unasked
//! reply, [`COMMITTED_ELSEWHERE`], and the app reloads what it shows. The app's own writes go
//! through this connection and do not count, so a window does not reload after its own changes
//! twice. On a team database nothing polls: a listening thread beside the worker sends the same
//! notice when the server notifies a change by another connection (`super::live`), and who else
//! has a window open ([`PRESENCE`]).

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, Weak};
use std::thread;
use std::time::{Duration, Instant};

use super::pane::PaneId;
use crate::Clock;
use crate::storage::Store;

/// Job keys starting with this are the app shell's own (the member view, saved state); their
/// replies go to the shell, whatever pane they are tagged with. Panes use other keys.
pub const APP_JOB_PREFIX: &str = "app:";

/// The key of the reply the worker sends unasked when another connection has committed to the
/// database. Tagged `PaneId::Today`, like every app job; its value is a [`Reload`], which says
/// how it was found out (the app reloads the same way for each).
pub const COMMITTED_ELSEWHERE: &str = "app:committed_elsewhere";

/// How a [`COMMITTED_ELSEWHERE`] was found out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reload {
    /// SQLite's `data_version` (or, on a team database without the notification triggers yet,
    /// the newest audit line) changed.
    Polled,
    /// The team database notified a change committed by the backend `from_pid`, which is not
    /// this window's worker.
    Notified { from_pid: i64 },
    /// The worker's connection to the team database is back: changes may have been made
    /// meanwhile.
    Reconnected,
    /// The team database's listener has (again) started listening: changes committed before
    /// were not notified to it.
    Listening,
}

/// The key of the replies a team database's listener sends unasked with the logins of the other
/// staff who have an app window open on the database, sorted (`Vec<String>`, empty when there
/// are none or the connection is lost). Tagged `PaneId::Today`.
pub const PRESENCE: &str = "app:presence";

/// The key of the replies the worker sends unasked when the team database (PostgreSQL) stops
/// answering, `Some(message)`, and when it is back, `None`. Tagged `PaneId::Today`.
pub const CONNECTION: &str = "app:connection";

/// What the app says while the team database is unreachable.
pub const UNREACHABLE: &str = "team database unreachable, retrying";

/// How often the worker tries to reconnect to an unreachable team database.
pub const RECONNECT_EVERY: Duration = Duration::from_secs(2);

/// How often the worker looks for other connections' commits. `PRAGMA data_version` reads a
/// counter SQLite keeps in shared memory, so looking costs next to nothing; a second is soon
/// enough for a person looking at the screen.
pub const WATCH_EVERY: Duration = Duration::from_secs(1);

type JobFn = Box<dyn FnOnce(&mut Store, &Clock) -> anyhow::Result<Box<dyn Any + Send>> + Send>;

struct Job {
    pane: PaneId,
    key: &'static str,
    generation: u64,
    run: JobFn,
}

/// The answer to a job, delivered to the pane that sent it.
pub struct DbReply {
    pub pane: PaneId,
    pub key: &'static str,
    /// The job's value (downcast it to what the job returned), or its error as text.
    pub result: Result<Box<dyn Any + Send>, String>,
}

impl DbReply {
    /// The job's value as `T`, or its error.
    pub fn take<T: 'static>(self) -> Result<T, String> {
        let value = self.result?;
        value
            .downcast::<T>()
            .map(|b| *b)
            .map_err(|_| format!("internal: reply to `{}` had an unexpected type", self.key))
    }
}

/// What the UI thread holds: a way to send jobs. The worker stops when the last one is dropped.
#[derive(Clone)]
pub struct DbWorker {
    jobs: Arc<Sender<Job>>,
    latest: Arc<Generations>,
}

/// A [`DbWorker`] that does not keep the worker running (the listener's).
pub struct WeakWorker {
    jobs: Weak<Sender<Job>>,
    latest: Weak<Generations>,
}

impl WeakWorker {
    pub fn upgrade(&self) -> Option<DbWorker> {
        Some(DbWorker {
            jobs: self.jobs.upgrade()?,
            latest: self.latest.upgrade()?,
        })
    }
}

impl DbWorker {
    /// Starts the worker on `store`. Replies arrive on the returned receiver; `wake` is called
    /// after each reply is sent so the event loop can redraw. On a team database a listening
    /// thread starts beside it (`super::live`).
    pub fn start(
        mut store: Store,
        clock: Clock,
        wake: impl Fn() + Send + Sync + 'static,
    ) -> (DbWorker, Receiver<DbReply>) {
        let wake: super::live::Wake = Arc::new(wake);
        let (job_tx, job_rx) = channel::<Job>();
        let (reply_tx, reply_rx) = channel();
        let latest: Arc<Generations> = Arc::default();
        let seen = Arc::clone(&latest);
        // Set by the worker, which asks the server (the caller may be the UI thread).
        let own_pid = Arc::new(AtomicI64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let team = store.location().team().cloned();
        let listener = team.map(|db| super::live::Listener {
            db,
            own_pid: Arc::clone(&own_pid),
            replies: reply_tx.clone(),
            wake: Arc::clone(&wake),
            worker: WeakWorker {
                jobs: Weak::new(),
                latest: Arc::downgrade(&latest),
            },
            stop: Arc::clone(&stop),
        });
        thread::Builder::new()
            .name("rollcall-db".into())
            .spawn(move || {
                let _stopped = SetOnDrop(stop);
                own_pid.store(store.backend_pid().unwrap_or(0), Ordering::Relaxed);
                let mut watch = CommitWatch::new(&store);
                let send = |reply: DbReply| {
                    let sent = reply_tx.send(reply).is_ok();
                    wake();
                    sent
                };
                let mut lost = false;
                loop {
                    if (lost || store.is_disconnected())
                        && !reconnect(&mut store, &job_rx, &seen, &send, &own_pid)
                    {
                        break;
                    }
                    lost = false;
                    let next = match watch.until_next() {
                        Some(wait) => job_rx.recv_timeout(wait),
                        None => job_rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                    };
                    match next {
                        Ok(job) => {
                            if let Some((reply, connection_lost)) =
                                run_job(job, &mut store, &clock, &seen)
                            {
                                lost = connection_lost;
                                if !send(reply) {
                                    break;
                                }
                            }
                        }
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                    if watch.due() && watch.changed(&store) {
                        let notice = DbReply {
                            pane: PaneId::Today,
                            key: COMMITTED_ELSEWHERE,
                            result: Ok(Box::new(Reload::Polled)),
                        };
                        if reply_tx.send(notice).is_err() {
                            break;
                        }
                        wake();
                    }
                }
            })
            .expect("spawning the database thread");
        let worker = DbWorker {
            jobs: Arc::new(job_tx),
            latest,
        };
        if let Some(mut listener) = listener {
            listener.worker.jobs = Arc::downgrade(&worker.jobs);
            listener.spawn();
        }
        (worker, reply_rx)
    }

    /// Queues `job` for `pane` under `key`; a newer request with the same key supersedes it if it
    /// has not started yet.
    pub fn request<T, F>(&self, pane: PaneId, key: &'static str, job: F)
    where
        T: Send + 'static,
        F: FnOnce(&mut Store, &Clock) -> anyhow::Result<T> + Send + 'static,
    {
        let generation = {
            let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
            let g = latest.entry((pane, key)).or_insert(0);
            *g += 1;
            *g
        };
        let run: JobFn = Box::new(move |store, clock| {
            job(store, clock).map(|v| Box::new(v) as Box<dyn Any + Send>)
        });
        // A send error means the worker has stopped, which only happens at shutdown.
        let _ = self.jobs.send(Job {
            pane,
            key,
            generation,
            run,
        });
    }
}

type Generations = Mutex<HashMap<(PaneId, &'static str), u64>>;

/// Sets its flag when dropped: when the worker's thread ends, however it ends.
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn connection_notice(message: Option<&'static str>) -> DbReply {
    DbReply {
        pane: PaneId::Today,
        key: CONNECTION,
        result: Ok(Box::new(message)),
    }
}

/// Tries to reconnect every [`RECONNECT_EVERY`] until the server answers. Jobs that arrive
/// meanwhile fail at once with [`UNREACHABLE`], so nothing is shown as done that was not
/// saved, and the screen stays as it was. Returns false when the app has gone.
fn reconnect(
    store: &mut Store,
    jobs: &Receiver<Job>,
    latest: &Generations,
    send: &dyn Fn(DbReply) -> bool,
    own_pid: &AtomicI64,
) -> bool {
    if !send(connection_notice(Some(UNREACHABLE))) {
        return false;
    }
    loop {
        if store.reconnect().is_ok() {
            own_pid.store(store.backend_pid().unwrap_or(0), Ordering::Relaxed);
            return send(connection_notice(None))
                && send(DbReply {
                    pane: PaneId::Today,
                    key: COMMITTED_ELSEWHERE,
                    result: Ok(Box::new(Reload::Reconnected)),
                });
        }
        let deadline = Instant::now() + RECONNECT_EVERY;
        while let Some(wait) = deadline.checked_duration_since(Instant::now()) {
            match jobs.recv_timeout(wait) {
                Ok(job) => {
                    let newest = latest.lock().map(|m| m.get(&(job.pane, job.key)).copied());
                    if newest.is_ok_and(|n| n != Some(job.generation)) {
                        continue;
                    }
                    let failed = DbReply {
                        pane: job.pane,
                        key: job.key,
                        result: Err(format!(
                            "{UNREACHABLE}: not saved, try again when it is back"
                        )),
                    };
                    if !send(failed) {
                        return false;
                    }
                }
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return false,
            }
        }
    }
}

/// Runs `job` and returns its reply, and whether it failed because the team database's
/// connection is gone; nothing when a newer request for the same thing is waiting.
fn run_job(
    job: Job,
    store: &mut Store,
    clock: &Clock,
    latest: &Generations,
) -> Option<(DbReply, bool)> {
    let newest = latest.lock().map(|m| m.get(&(job.pane, job.key)).copied());
    if newest.is_ok_and(|n| n != Some(job.generation)) {
        return None; // superseded by a newer request for the same thing
    }
    let result = (job.run)(store, clock);
    let lost = result.as_ref().err().is_some_and(connection_lost);
    let reply = DbReply {
        pane: job.pane,
        key: job.key,
        result: result.map_err(|e| crate::text::error_text(&e)),
    };
    Some((reply, lost))
}

/// A failure of the connection, not of the statement: the server stopped or cannot be reached.
fn connection_lost(e: &anyhow::Error) -> bool {
    use crate::storage::{StoreError, sql};
    e.chain().any(|cause| {
        cause
            .downcast_ref::<sql::Error>()
            .is_some_and(sql::Error::is_connection_lost)
            || match cause.downcast_ref::<StoreError>() {
                Some(StoreError::Sql(e)) => e.is_connection_lost(),
                Some(StoreError::TeamUnreachable { .. }) => true,
                _ => false,
            }
    })
}

/// Notices commits made by other connections to the worker's SQLite file. On a team database
/// it never looks: the listener is told (`super::live`).
struct CommitWatch {
    /// `PRAGMA data_version` when last read: it changes when another connection commits, and
    /// only then. None when it cannot be read (an in-memory store never changes anyway).
    version: Option<i64>,
    /// When to look next; None on a team database.
    next: Option<Instant>,
}

impl CommitWatch {
    fn new(store: &Store) -> CommitWatch {
        let polls = store.location().team().is_none();
        CommitWatch {
            version: if polls { data_version(store) } else { None },
            next: polls.then(|| Instant::now() + WATCH_EVERY),
        }
    }

    /// How long until it looks next; None when it never does.
    fn until_next(&self) -> Option<Duration> {
        self.next
            .map(|next| next.saturating_duration_since(Instant::now()))
    }

    fn due(&self) -> bool {
        self.next.is_some_and(|next| Instant::now() >= next)
    }

    /// Reads the version again; true when another connection has committed since last time.
    fn changed(&mut self, store: &Store) -> bool {
        self.next = Some(Instant::now() + WATCH_EVERY);
        let now = data_version(store);
        // A version that could not be read before and can now counts as a change: an extra
        // reload, rather than a missed one.
        let changed = now.is_some() && now != self.version;
        if now.is_some() {
            self.version = now;
        }
        changed
    }
}

fn data_version(store: &Store) -> Option<i64> {
    store.change_marker().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn runs_jobs_and_keeps_only_the_newest_of_a_burst() {
        let store = Store::open_in_memory().unwrap();
        let clock = Clock::fixed(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(), "ann");
        let (db, replies) = DbWorker::start(store, clock, || {});
        // Block the worker so that the burst queues up behind it.
        let (hold_tx, hold_rx) = channel::<()>();
        db.request(PaneId::Search, "block", move |_, _| {
            hold_rx.recv().ok();
            Ok(())
        });
        for i in 0..5 {
            db.request(PaneId::Renewals, "load", move |_, c| {
                Ok((i, c.user.clone()))
            });
        }
        hold_tx.send(()).unwrap();
        let first = replies.recv().unwrap();
        assert_eq!(first.key, "block");
        let second = replies.recv().unwrap();
        assert_eq!(second.take::<(i32, String)>().unwrap(), (4, "ann".into()));
        drop(db);
        assert!(replies.recv().is_err(), "no other reply was sent");
    }

    fn keys_within(replies: &Receiver<DbReply>, wait: Duration) -> Vec<&'static str> {
        let deadline = Instant::now() + wait;
        let mut keys = Vec::new();
        while let Ok(reply) =
            replies.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            keys.push(reply.key);
        }
        keys
    }

    #[test]
    fn tells_the_app_when_another_connection_commits_but_not_after_its_own_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("watched.db");
        let store = Store::open(&path, crate::storage::OpenMode::ReadWrite).unwrap();
        let clock = Clock::fixed(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(), "ann");
        let (db, replies) = DbWorker::start(store, clock, || {});
        db.request(PaneId::Renewals, "own write", |store, _| {
            store.conn.execute(
                "INSERT INTO ui_state (staff, key, value) VALUES ('ann', 'k', 'v')",
                [],
            )?;
            Ok(())
        });
        let quiet = keys_within(&replies, WATCH_EVERY * 2 + Duration::from_millis(500));
        assert_eq!(quiet, vec!["own write"], "its own write is no news");

        let other = rusqlite::Connection::open(&path).unwrap();
        other
            .execute(
                "INSERT INTO ui_state (staff, key, value) VALUES ('bo', 'k', 'v')",
                [],
            )
            .unwrap();
        let heard = keys_within(&replies, WATCH_EVERY * 3);
        assert_eq!(
            heard,
            vec![COMMITTED_ELSEWHERE],
            "one notice per commit seen"
        );
    }
}
