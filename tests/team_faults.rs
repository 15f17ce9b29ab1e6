//! The team database going away while the app is open: the app's database worker says so,
//! never reports a write as done that was not saved, and reconnects by itself when the server
//! is back. Against a private throwaway server this test stops and starts.

#[path = "support/pg_cluster.rs"]
mod pg_cluster;

use std::sync::mpsc::Receiver;
use std::time::Duration;

use rollcall::Clock;
use rollcall::app::db::{COMMITTED_ELSEWHERE, CONNECTION, DbReply, DbWorker, Reload, UNREACHABLE};
use rollcall::app::pane::PaneId;
use rollcall::storage::{Location, OpenMode, Store, team};

/// The next reply, however long the worker takes (it retries every two seconds; a stuck worker
/// fails the test after a minute rather than hanging it).
fn next(replies: &Receiver<DbReply>) -> DbReply {
    replies
        .recv_timeout(Duration::from_secs(60))
        .expect("the worker answers")
}

/// Replies until one with `key`, skipping the worker's other notices.
fn until(replies: &Receiver<DbReply>, key: &str) -> DbReply {
    loop {
        let reply = next(replies);
        if reply.key == key {
            return reply;
        }
    }
}

/// Replies until a [`COMMITTED_ELSEWHERE`] for `why`.
fn until_reload(replies: &Receiver<DbReply>, why: Reload) {
    loop {
        let reply = until(replies, COMMITTED_ELSEWHERE);
        let reload = reply.take::<Reload>().unwrap();
        assert_ne!(reload, Reload::Polled, "a team database is not polled");
        if reload == why {
            return;
        }
    }
}

fn write_note(worker: &DbWorker) {
    worker.request(PaneId::Today, "note", |store: &mut Store, clock: &Clock| {
        rollcall::storage::audit::record(
            &store.conn,
            clock,
            rollcall::storage::audit::Change {
                action: "note",
                entity: "notes",
                entity_id: None,
                contact_id: None,
                before: None,
                after: None,
            },
        )?;
        Ok(())
    });
}

#[test]
fn a_stopped_server_is_said_and_the_worker_reconnects_when_it_is_back() {
    let cluster = pg_cluster::Cluster::start_private();
    let db = cluster.new_database();
    let location = Location::parse(&db.url()).unwrap();
    team::init(
        location.team().unwrap(),
        "test",
        "2026-11-23T09:00:00+00:00",
    )
    .unwrap();
    let store = Store::open_at(&location, OpenMode::ReadWrite, false).unwrap();
    let clock = Clock::fixed(
        chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        "amira",
    );
    let (worker, replies) = DbWorker::start(store, clock, || {});
    // The listener beside the worker has started listening.
    until_reload(&replies, Reload::Listening);

    write_note(&worker);
    assert!(until(&replies, "note").result.is_ok());

    cluster.stop();
    write_note(&worker);
    // The write fails, and the worker says the server is unreachable: in either order, since
    // the listener may find out first and ask the worker to look.
    let (mut failed, mut said) = (false, false);
    while !(failed && said) {
        let reply = next(&replies);
        match reply.key {
            "note" => {
                let why = reply
                    .result
                    .expect_err("a write to a stopped server is not done");
                assert!(why.contains("team database unreachable"), "{why}");
                failed = true;
            }
            CONNECTION => {
                let notice = reply.take::<Option<&str>>().unwrap();
                assert_eq!(notice, Some(UNREACHABLE));
                said = true;
            }
            _ => {}
        }
    }

    // While it is down, a write is refused at once, and says it did not save.
    write_note(&worker);
    let refused = until(&replies, "note").result.err().unwrap();
    assert!(refused.contains("not saved"), "{refused}");

    cluster.start();
    // The worker says when the server is back, and the panes reload then, and once the
    // listener listens again (changes made meanwhile were notified to nobody): the two
    // reconnect each on their own, in either order.
    let (mut back, mut listening, mut reloaded) = (false, false, false);
    while !(back && listening && reloaded) {
        let reply = next(&replies);
        match reply.key {
            CONNECTION => {
                assert_eq!(reply.take::<Option<&str>>().unwrap(), None);
                back = true;
            }
            COMMITTED_ELSEWHERE => match reply.take::<Reload>().unwrap() {
                Reload::Listening => listening = true,
                Reload::Reconnected => reloaded = true,
                other => panic!("a reload for {other:?} while nothing was written"),
            },
            _ => {}
        }
    }
    write_note(&worker);
    assert!(until(&replies, "note").result.is_ok(), "writes work again");
    // The listener listens again: another connection's change is notified.
    let other = Store::open_at(&location, OpenMode::ReadWrite, false).unwrap();
    other
        .conn
        .execute(
            "INSERT INTO audit_log (at, staff, action, entity) VALUES ('2026-11-23', 'bo', 'x', 'notes')",
            [],
        )
        .unwrap();
    let from_pid = other.backend_pid().unwrap();
    until_reload(&replies, Reload::Notified { from_pid });
    let lines: i64 = db
        .client()
        .query_one("SELECT count(*) FROM audit_log WHERE action = 'note'", &[])
        .unwrap()
        .get(0);
    assert_eq!(
        lines, 2,
        "the two writes that said they saved, and not the others"
    );
}

/// A window doing nothing still finds out: the listener's connection closes with the server's,
/// and it asks the worker to look. Nothing polls a team database, so without that an idle
/// window would say nothing until its next job.
#[test]
fn an_idle_window_says_the_server_is_unreachable() {
    let cluster = pg_cluster::Cluster::start_private();
    let db = cluster.new_database();
    let location = Location::parse(&db.url()).unwrap();
    team::init(
        location.team().unwrap(),
        "test",
        "2026-11-23T09:00:00+00:00",
    )
    .unwrap();
    let store = Store::open_at(&location, OpenMode::ReadWrite, false).unwrap();
    let clock = Clock::fixed(
        chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        "amira",
    );
    let (_worker, replies) = DbWorker::start(store, clock, || {});
    until_reload(&replies, Reload::Listening);
    cluster.stop();
    let notice = until(&replies, CONNECTION).take::<Option<&str>>().unwrap();
    assert_eq!(notice, Some(UNREACHABLE));
    cluster.start();
    let back = until(&replies, CONNECTION).take::<Option<&str>>().unwrap();
    assert_eq!(back, None);
}
