//! Live changes on a team database: a thread beside the DB worker, with a connection of its own,
//! `LISTEN`s on the database's channel (`rollcall_<database oid>`, see
//! `storage::team_access::CHANNEL_SQL`). Every statement that writes an audit line or an import
//! run notifies it when its transaction commits, with the writer's backend pid; a notification
//! from any connection but this window's own worker becomes the worker's
//! [`COMMITTED_ELSEWHERE`] notice at once, and the panes reload in place as after a poll. The
//! worker does not poll a team database (it still polls SQLite's `PRAGMA data_version`).
//!
//! The same connection tells the window who else is working: it names itself
//! [`APP_WINDOW`] to the server (one such connection per open window), and every
//! [`PRESENCE_EVERY`], and when another window says it has arrived, it reads the logins of the
//! other such connections to this database from `pg_stat_activity` and sends them as a
//! [`PRESENCE`] notice, when they have changed. The login is the server's (who authenticated),
//! not `--user`; the window's own login is left out, however many windows it has open.
//!
//! When the connection is lost (the server stopped), the thread asks the worker to look (a
//! trivial job, so an idle window says "unreachable" too), clears the presence, and connects
//! again every [`RECONNECT_EVERY`]. After each `LISTEN`, the first included, it sends one
//! [`Reload::Listening`]: changes committed while nobody was listening are not notified.
//!
//! A database whose triggers are not installed yet (made by an older rollcall and not migrated
//! since: `team_access::install` runs at `team init` and after each migration) sends no
//! notifications; there the thread polls `Store::change_marker`'s query once a second instead,
//! as the worker used to.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::mpsc::Sender;
use std::thread;
use std::time::{Duration, Instant};

use postgres::fallible_iterator::FallibleIterator as _;

use super::db::{COMMITTED_ELSEWHERE, DbReply, PRESENCE, RECONNECT_EVERY, Reload, WeakWorker};
use super::pane::PaneId;
use crate::storage::location::{APP_WINDOW, TeamDatabase};
use crate::storage::team;
use crate::storage::team_access::{ANNOUNCED_BY, CHANNEL_SQL, NOTIFY_FUNCTION};

/// How often the listener reads who else has a window open (also when one arrives).
pub const PRESENCE_EVERY: Duration = Duration::from_secs(5);

/// How long the listener waits for a notification before it looks at the clock and whether the
/// app has gone. No network traffic: a wait on the socket. (Where the triggers are missing, how
/// often it polls, as the worker did: `db::WATCH_EVERY`.)
const TICK: Duration = Duration::from_secs(1);

/// What a window's listener sends when it starts listening, so that the others read the
/// presence again at once instead of at their next [`PRESENCE_EVERY`].
const ARRIVED: &str = "here";

pub type Wake = Arc<dyn Fn() + Send + Sync>;

/// What the listener needs from the worker.
pub struct Listener {
    pub db: TeamDatabase,
    /// The worker's connection's backend pid (updated when it reconnects): its changes are this
    /// window's own, already shown.
    pub own_pid: Arc<AtomicI64>,
    pub replies: Sender<DbReply>,
    pub wake: Wake,
    pub worker: WeakWorker,
    /// Set when the worker has stopped: the app has gone.
    pub stop: Arc<AtomicBool>,
}

/// Why [`Session::run`] returned.
enum Ended {
    AppGone,
    Lost,
}

/// One connection's life: listening, and the presence it last sent.
struct Session {
    client: postgres::Client,
    /// The triggers are there: changes arrive as notifications. Else the marker is polled.
    notified: bool,
    marker: Option<i64>,
}

impl Listener {
    /// Starts the thread; it ends soon after the worker does.
    pub fn spawn(self) {
        thread::Builder::new()
            .name("rollcall-live".into())
            .spawn(move || self.run())
            .expect("spawning the listening thread");
    }

    fn run(self) {
        let db = self.db.with_application_name(APP_WINDOW);
        let mut shown: Option<Vec<String>> = None;
        loop {
            if self.stopped() {
                return;
            }
            let Ok(mut session) = Session::open(&db) else {
                if !self.sleep(RECONNECT_EVERY) {
                    return;
                }
                continue;
            };
            if !self.send(COMMITTED_ELSEWHERE, Reload::Listening) {
                return;
            }
            match self.listen(&mut session, &mut shown) {
                Ended::AppGone => return,
                Ended::Lost => {
                    if shown.take().is_some_and(|names| !names.is_empty())
                        && !self.send(PRESENCE, Vec::<String>::new())
                    {
                        return;
                    }
                    if let Some(worker) = self.worker.upgrade() {
                        worker.request(PaneId::Today, PING, |store, _| Ok(store.ping()?));
                    }
                }
            }
        }
    }

    /// Waits for notifications until the connection is lost or the app goes.
    fn listen(&self, session: &mut Session, shown: &mut Option<Vec<String>>) -> Ended {
        let mut next_presence = Instant::now();
        loop {
            if self.stopped() {
                return Ended::AppGone;
            }
            if Instant::now() >= next_presence {
                next_presence = Instant::now() + PRESENCE_EVERY;
                match session.who_else() {
                    Ok(names) if shown.as_ref() != Some(&names) => {
                        if !self.send(PRESENCE, names.clone()) {
                            return Ended::AppGone;
                        }
                        *shown = Some(names);
                    }
                    Ok(_) => {}
                    Err(_) => return Ended::Lost,
                }
            }
            let wait = TICK.min(next_presence.saturating_duration_since(Instant::now()));
            let heard = match session.wait(wait, self.own_pid.load(Ordering::Relaxed)) {
                Ok(heard) => heard,
                Err(()) => return Ended::Lost,
            };
            if let Some(reload) = heard.reload
                && !self.send(COMMITTED_ELSEWHERE, reload)
            {
                return Ended::AppGone;
            }
            if heard.arrival {
                next_presence = Instant::now();
            }
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Sleeps `wait` a tick at a time; false when the app has gone meanwhile.
    fn sleep(&self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            if self.stopped() {
                return false;
            }
            thread::sleep(left.min(Duration::from_millis(200)));
        }
        !self.stopped()
    }

    fn send<T: Send + 'static>(&self, key: &'static str, value: T) -> bool {
        let sent = self
            .replies
            .send(DbReply {
                pane: PaneId::Today,
                key,
                result: Ok(Box::new(value)),
            })
            .is_ok();
        (self.wake)();
        sent
    }
}

/// The key of the job the listener sends the worker when its own connection is lost, so that
/// the worker finds out too and says so. Its answer needs none.
const PING: &str = "app:ping";

/// What one wait brought.
#[derive(Default)]
struct Heard {
    reload: Option<Reload>,
    arrival: bool,
}

impl Session {
    fn open(db: &TeamDatabase) -> Result<Session, ()> {
        let mut client = team::connect(db).map_err(|_| ())?;
        let row = client
            .query_one(
                &format!(
                    "SELECT {CHANNEL_SQL},
                            (SELECT count(*) FROM pg_trigger t
                             WHERE t.tgname = $1 AND t.tgrelid::regclass::text = ANY($2))"
                ),
                &[&NOTIFY_FUNCTION, &ANNOUNCED_BY],
            )
            .map_err(|_| ())?;
        let channel: String = row.get(0);
        let triggers: i64 = row.get(1);
        let notified = triggers == ANNOUNCED_BY.len() as i64;
        // The channel is `rollcall_` and digits: nothing to quote.
        client
            .batch_execute(&format!("LISTEN {channel}"))
            .map_err(|_| ())?;
        // Best effort: the others would see this window at their next look anyway (and a
        // session the server keeps read-only may not notify).
        let _ = client.batch_execute(&format!("SELECT pg_notify('{channel}', '{ARRIVED}')"));
        let mut session = Session {
            client,
            notified,
            marker: None,
        };
        if !session.notified {
            session.marker = Some(session.marker().map_err(|_| ())?);
        }
        Ok(session)
    }

    /// The logins of the other open windows on this database, sorted, each once.
    fn who_else(&mut self) -> Result<Vec<String>, postgres::Error> {
        let rows = self.client.query(
            "SELECT DISTINCT usename::text FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = $1
               AND usename <> session_user
             ORDER BY 1",
            &[&APP_WINDOW],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Waits up to `wait` for notifications, and takes every one that has arrived. `Err` when
    /// the connection is gone.
    fn wait(&mut self, wait: Duration, own_pid: i64) -> Result<Heard, ()> {
        let mut heard = Heard::default();
        {
            let mut notifications = self.client.notifications();
            let mut take = |n: postgres::Notification| {
                if n.payload() == ARRIVED {
                    heard.arrival = true;
                } else if i64::from(n.process_id()) != own_pid {
                    heard.reload = Some(Reload::Notified {
                        from_pid: i64::from(n.process_id()),
                    });
                }
            };
            if let Some(n) = notifications.timeout_iter(wait).next().map_err(|_| ())? {
                take(n);
            }
            while let Some(n) = notifications.iter().next().map_err(|_| ())? {
                take(n);
            }
        }
        if self.client.is_closed() {
            return Err(());
        }
        if !self.notified {
            let now = self.marker().map_err(|_| ())?;
            if Some(now) != self.marker {
                self.marker = Some(now);
                heard.reload = Some(Reload::Polled);
            }
        }
        Ok(heard)
    }

    fn marker(&mut self) -> Result<i64, postgres::Error> {
        let row = self
            .client
            .query_one("SELECT COALESCE(max(id), 0)::bigint FROM audit_log", &[])?;
        Ok(row.get(0))
    }
}
