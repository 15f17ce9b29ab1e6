//! Live changes on a team database (issue 16): every open window hears of other connections'
//! commits from PostgreSQL (`LISTEN`/`NOTIFY`), not by polling, and its status line names the
//! other staff who have a window open. On a throwaway server, with real logins and real app
//! windows on pseudo-terminals. Every wait is on something the program reports (a notice, the
//! screen), with a deadline; none is a sleep.

#[path = "support/pg_cluster.rs"]
mod pg_cluster;
mod trust_support;
mod trust_windows_support;

use std::sync::mpsc::Receiver;
use std::time::Duration;

use assert_cmd::Command;
use rollcall::Clock;
use rollcall::app::db::{COMMITTED_ELSEWHERE, DbReply, DbWorker, Reload};
use rollcall::app::pane::PaneId;
use rollcall::storage::audit::{self, Change};
use rollcall::storage::sql::params;
use rollcall::storage::{Location, OpenMode, Store, team};
use trust_windows_support::Window;

const PASSWORD: &str = "live-test-only";

/// The next reply (a stuck worker fails the test after a minute rather than hanging it).
fn next(replies: &Receiver<DbReply>) -> DbReply {
    replies
        .recv_timeout(Duration::from_secs(60))
        .expect("the worker answers")
}

/// The next [`COMMITTED_ELSEWHERE`] notice's reason, skipping the other notices; a poll fails
/// the test (nothing polls a team database).
fn next_reload(replies: &Receiver<DbReply>) -> Reload {
    loop {
        let reply = next(replies);
        if reply.key == COMMITTED_ELSEWHERE {
            let why = reply.take::<Reload>().unwrap();
            assert_ne!(why, Reload::Polled, "a team database is not polled");
            return why;
        }
    }
}

fn until(replies: &Receiver<DbReply>, key: &str) -> DbReply {
    loop {
        let reply = next(replies);
        if reply.key == key {
            return reply;
        }
    }
}

fn note(store: &Store, clock: &Clock) -> anyhow::Result<()> {
    audit::record(
        &store.conn,
        clock,
        Change {
            action: "note",
            entity: "notes",
            entity_id: None,
            contact_id: None,
            before: None,
            after: None,
        },
    )?;
    Ok(())
}

fn clock() -> Clock {
    Clock::fixed(
        chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        "amira",
    )
}

fn rollcall(url: &str) -> Command {
    let mut cmd = Command::cargo_bin("rollcall").unwrap();
    cmd.env("ROLLCALL_DB", url)
        .env("ROLLCALL_TODAY", trust_support::TODAY)
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env_remove("ROLLCALL_USER")
        .env_remove("ROLLCALL_READ_ONLY")
        .env_remove("PGPASSWORD");
    cmd
}

fn ok(cmd: &mut Command, args: &[&str]) -> String {
    let out = cmd.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A change by another connection reaches the worker as a notification from that connection's
/// backend; the window's own change before it is not notified to it (notifications arrive in
/// commit order, so had it been, it would have come first). An import in another process is
/// notified too.
#[test]
fn another_connections_change_is_notified_and_the_windows_own_is_not() {
    let db = pg_cluster::database();
    let location = Location::parse(&db.url()).unwrap();
    team::init(
        location.team().unwrap(),
        "test",
        "2026-11-23T09:00:00+00:00",
    )
    .unwrap();
    let store = Store::open_at(&location, OpenMode::ReadWrite, false).unwrap();
    let own = store.backend_pid().unwrap();
    let (worker, replies) = DbWorker::start(store, clock(), || {});
    assert_eq!(
        next_reload(&replies),
        Reload::Listening,
        "the listener catches up once it listens"
    );

    worker.request(PaneId::Today, "note", |store, clock| note(store, clock));
    assert!(until(&replies, "note").result.is_ok());
    let other = Store::open_at(&location, OpenMode::ReadWrite, false).unwrap();
    note(&other, &clock()).unwrap();
    let from = other.backend_pid().unwrap();
    assert_ne!(from, own);
    assert_eq!(
        next_reload(&replies),
        Reload::Notified { from_pid: from },
        "the other connection's change, and not the window's own"
    );

    // An import in another process: its run and its lines notify when it commits.
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export.csv");
    let mut generate = rollcall(&db.url());
    generate
        .args(["generate", "--members", "40", "--seed", "2", "-o"])
        .arg(&export);
    ok(&mut generate, &[]);
    ok(
        rollcall(&db.url()).env("ROLLCALL_USER", "amira"),
        &["import", export.to_str().unwrap()],
    );
    match next_reload(&replies) {
        Reload::Notified { from_pid } => assert!(from_pid != own && from_pid != from),
        other => panic!("expected the import's notification, got {other:?}"),
    }
    drop(worker);
}

/// Two members, Aled and Bethan Jones of Cardiff, whose memberships end on `end_date`, and a
/// team of two real logins: ann, an admin, who adds bo, an officer. Returns each login's URL,
/// password included.
fn team_of_two<'a>(
    db: &'a pg_cluster::TestDatabase,
    end_date: &str,
) -> impl Fn(&str) -> String + 'a {
    let location = Location::parse(&db.url()).unwrap();
    team::init(
        location.team().unwrap(),
        "setup",
        "2026-11-23T09:00:00+00:00",
    )
    .unwrap();
    let url_of = move |login: &str| {
        db.url_as(login)
            .replacen(&format!("{login}@"), &format!("{login}:{PASSWORD}@"), 1)
    };
    let store = Store::open_at(&location, OpenMode::ReadWrite, false).unwrap();
    for (crm_id, first) in [("1", "Aled"), ("2", "Bethan")] {
        let contact: i64 = store
            .conn
            .query_row(
                "INSERT INTO contacts (source, crm_id, display_name, first_name, last_name,
                     region, local_party)
                 VALUES ('civicrm', ?1, ?2 || ' Jones', ?2, 'Jones', 'Wales', 'Cardiff')
                 RETURNING id",
                params![crm_id, first],
                |r| r.get(0),
            )
            .unwrap();
        store
            .conn
            .execute(
                "INSERT INTO memberships (contact_id, source, sync_key, crm_membership_id,
                     membership_type, join_date, start_date, end_date, crm_status)
                 VALUES (?1, 'civicrm', 'id:' || ?2, ?2, 'Individual', '2020-01-01',
                     '2020-01-01', ?3, 'Current')",
                params![contact, crm_id, end_date],
            )
            .unwrap();
    }
    drop(store);
    // The server's administrator starts the staff list on ann's behalf; ann adds bo.
    ok(
        rollcall(&db.url()).env("ROLLCALL_USER", "ann"),
        &[
            "team",
            "add-staff",
            "ann",
            "--name",
            "Ann Jones",
            "--role",
            "admin",
        ],
    );
    db.execute(&format!("ALTER ROLE ann PASSWORD '{PASSWORD}'"));
    ok(
        &mut rollcall(&url_of("ann")),
        &[
            "team",
            "add-staff",
            "bo",
            "--name",
            "Bo Evans",
            "--role",
            "officer",
        ],
    );
    db.execute(&format!("ALTER ROLE bo PASSWORD '{PASSWORD}'"));
    url_of
}

/// A team of two real logins, each with an app window open; changes made with the CLI (an
/// admin's and an officer's, who does not own the tables) show in both windows with no key
/// pressed, and each window's status line names the other's login until that window closes.
#[test]
fn two_windows_see_changes_as_they_are_made_and_each_other() {
    let db = pg_cluster::database();
    let url_of = team_of_two(&db, "2026-04-30");

    let home = tempfile::tempdir().unwrap();
    let mut a = Window::open_on("ann's window", url_of("ann").as_ref(), home.path(), "ann");
    let mut b = Window::open_on("bo's window", url_of("bo").as_ref(), home.path(), "bo");
    for window in [&mut a, &mut b] {
        window.send("4");
        window.wait_for_text("[Mine 0]");
        // Mine, Unassigned, Overdue, All open.
        window.send("vvv");
        window.wait_for_text("[All open 0]");
    }
    a.wait_for_text("also here: bo");
    b.wait_for_text("also here: ann");

    // ann opens an escalation in a terminal; both windows show it, no key pressed.
    let escalate = |login: &str, crm_id: &str, priority: &str, title: &str| {
        ok(
            &mut rollcall(&url_of(login)),
            &[
                "escalate",
                "--contact",
                crm_id,
                "--category",
                "complaint",
                "--priority",
                priority,
                "--title",
                title,
            ],
        );
    };
    escalate("ann", "1", "normal", "Letter went astray");
    a.wait_for_text("Letter went astray");
    b.wait_for_text("▶ Letter went astray");
    // And bo, an officer: the trigger fires for a role that does not own the tables. Urgent,
    // it is due sooner and goes above; the highlighted row stays on the one it was on.
    escalate("bo", "2", "urgent", "Card never arrived");
    a.wait_for_text("Card never arrived");
    let screen = b.wait_for_text("Card never arrived");
    let highlighted = screen.lines().find(|l| l.contains('▶')).unwrap_or_default();
    assert!(
        highlighted.contains("Letter went astray"),
        "the highlight moved:\n{screen}"
    );
    assert!(
        screen.find("Card never arrived") < screen.find("Letter went astray"),
        "the urgent one is listed first:\n{screen}"
    );

    // A window closed is no longer named in the other's status line.
    a.quit();
    b.wait_until_gone("also here: ann");
    b.quit();
}

/// A database from before the notification triggers (made by an earlier rollcall, not migrated
/// since): the window finds them missing and polls the newest audit line instead, so another
/// connection's change still arrives.
#[test]
fn without_the_triggers_the_window_polls_instead() {
    let db = pg_cluster::database();
    let location = Location::parse(&db.url()).unwrap();
    team::init(
        location.team().unwrap(),
        "test",
        "2026-11-23T09:00:00+00:00",
    )
    .unwrap();
    db.execute(
        "DROP TRIGGER rollcall_notify_change ON audit_log;
         DROP TRIGGER rollcall_notify_change ON import_runs;
         DROP FUNCTION rollcall_notify_change();",
    );
    let store = Store::open_at(&location, OpenMode::ReadWrite, false).unwrap();
    let (_worker, replies) = DbWorker::start(store, clock(), || {});
    let listening = until(&replies, COMMITTED_ELSEWHERE)
        .take::<Reload>()
        .unwrap();
    assert_eq!(listening, Reload::Listening);
    let other = Store::open_at(&location, OpenMode::ReadWrite, false).unwrap();
    note(&other, &clock()).unwrap();
    let polled = until(&replies, COMMITTED_ELSEWHERE)
        .take::<Reload>()
        .unwrap();
    assert_eq!(polled, Reload::Polled);
}

/// Claims between two real windows (issue 16): ann opening the contact dialog on a member shows
/// "ann is on it" on that row in bo's window with no key pressed; bo is asked before logging a
/// contact for them; ann's logged contact shows in bo's window and her claim is gone from it.
#[test]
fn two_officers_see_each_others_claims_and_contacts_as_they_happen() {
    let db = pg_cluster::database();
    // Due in 18 days on the tests' today (2026-03-02): both are in the renewals queue.
    let url_of = team_of_two(&db, "2026-03-20");
    let home = tempfile::tempdir().unwrap();
    let mut a = Window::open_on("ann's window", url_of("ann").as_ref(), home.path(), "ann");
    let mut b = Window::open_on("bo's window", url_of("bo").as_ref(), home.path(), "bo");
    for window in [&mut a, &mut b] {
        window.send("2");
        window.wait_for_text("Bethan Jones");
    }
    let cursor_on = |screen: &str| {
        screen
            .lines()
            .find(|l| l.contains("> "))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        cursor_on(&a.screen()).contains("Aled Jones"),
        "{}",
        a.screen()
    );
    assert!(
        cursor_on(&b.screen()).contains("Aled Jones"),
        "{}",
        b.screen()
    );

    a.send("c");
    a.wait_for_text("Contact 1 member: channel");
    let screen = b.wait_for_text("ann is on it");
    let row = screen.lines().find(|l| l.contains("ann is on it")).unwrap();
    assert!(
        row.contains("Aled Jones"),
        "the claim is on Aled's row:\n{screen}"
    );

    b.send("c");
    b.wait_for_text("ann is on Aled Jones until");
    b.send("n");
    b.wait_until_gone("ann is on Aled Jones until");

    // ann logs a call: no answer. bo's window shows it, and the claim has gone with it.
    a.send("pn");
    a.wait_until_gone("Contact 1 member");
    let screen = b.wait_until_gone("ann is on it");
    b.wait_for("ann's call on Aled's row", |s| {
        s.lines()
            .any(|l| l.contains("Aled Jones") && l.contains("ann: phone"))
    });
    assert!(
        cursor_on(&screen).contains("Aled Jones"),
        "the highlight stayed:\n{screen}"
    );
    a.quit();
    b.quit();
}
