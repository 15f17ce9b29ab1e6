//! The DB worker: one background thread that owns a connection and runs the panes' queries and
//! writes, so the UI thread never waits on SQLite (a query, or another process's import holding
//! the write lock).
//!
//! Jobs are tagged with the pane that sent them and a key. When several jobs with the same
//! (pane, key) are waiting, only the newest runs: a pane that reloads five times in a burst costs
//! one query, as in gitui's async jobs.

use std::any::Any;
use std::collections::HashMap;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread;

use super::pane::PaneId;
use crate::Clock;
use crate::storage::Store;

/// Job keys starting with this are the app shell's own (the member view, saved state); their
/// replies go to the shell, whatever pane they are tagged with. Panes use other keys.
pub const APP_JOB_PREFIX: &str = "app:";

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

/// What the UI thread holds: a way to send jobs.
#[derive(Clone)]
pub struct DbWorker {
    jobs: Sender<Job>,
    latest: Arc<Mutex<HashMap<(PaneId, &'static str), u64>>>,
}

impl DbWorker {
    /// Starts the worker on `store`. Replies arrive on the returned receiver; `wake` is called
    /// after each reply is sent so the event loop can redraw.
    pub fn start(
        mut store: Store,
        clock: Clock,
        wake: impl Fn() + Send + 'static,
    ) -> (DbWorker, Receiver<DbReply>) {
        let (job_tx, job_rx) = channel::<Job>();
        let (reply_tx, reply_rx) = channel();
        let latest: Arc<Mutex<HashMap<(PaneId, &'static str), u64>>> = Arc::default();
        let seen = Arc::clone(&latest);
        thread::Builder::new()
            .name("rollcall-db".into())
            .spawn(move || {
                for job in job_rx {
                    let newest = seen.lock().map(|m| m.get(&(job.pane, job.key)).copied());
                    if newest.is_ok_and(|n| n != Some(job.generation)) {
                        continue; // superseded by a newer request for the same thing
                    }
                    let result = (job.run)(&mut store, &clock).map_err(|e| format!("{e:#}"));
                    let reply = DbReply {
                        pane: job.pane,
                        key: job.key,
                        result,
                    };
                    if reply_tx.send(reply).is_err() {
                        break;
                    }
                    wake();
                }
            })
            .expect("spawning the database thread");
        (
            DbWorker {
                jobs: job_tx,
                latest,
            },
            reply_rx,
        )
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
}
