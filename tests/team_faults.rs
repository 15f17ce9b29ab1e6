//! The team database going away while the app is open: the app's database worker says so,
//! never reports a write as done that was not saved, and reconnects by itself when the server
//! is back. Against a private throwaway server this test stops and starts.

#[path = "support/pg_cluster.rs"]
mod pg_cluster;

use std::sync::mpsc::Receiver;
use std::time::Duration;

use rollcall::Clock;
use rollcall::app::db::{COMMITTED_ELSEWHERE, CONNECTION, DbReply, DbWorker, UNREACHABLE};
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

    write_note(&worker);
    assert!(until(&replies, "note").result.is_ok());

    cluster.stop();
    write_note(&worker);
    let failed = until(&replies, "note");
    let why = failed
        .result
        .expect_err("a write to a stopped server is not done");
    assert!(why.contains("team database unreachable"), "{why}");
    let notice = until(&replies, CONNECTION).take::<Option<&str>>().unwrap();
    assert_eq!(notice, Some(UNREACHABLE));

    // While it is down, a write is refused at once, and says it did not save.
    write_note(&worker);
    let refused = until(&replies, "note").result.err().unwrap();
    assert!(refused.contains("not saved"), "{refused}");

    cluster.start();
    let back = until(&replies, CONNECTION).take::<Option<&str>>().unwrap();
    assert_eq!(back, None, "the worker says when the server is back");
    until(&replies, COMMITTED_ELSEWHERE);
    write_note(&worker);
    assert!(until(&replies, "note").result.is_ok(), "writes work again");
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
