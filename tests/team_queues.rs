//! The officers' queues and actions on both engines, from one body each: the renewals queue, the
//! onboarding queue, escalations, the member view, the audit trail and letters' recipients. The
//! data is seeded with plain SQL both engines accept (as an import would leave it), the actions
//! go through the storage functions the panes call, and what officers see is read through the
//! CLI, so the exact text asserted is the same on SQLite and PostgreSQL.

#[path = "support/pg_cluster.rs"]
mod pg_cluster;

#[path = "support/engines.rs"]
mod engines;

use assert_cmd::Command;
use chrono::NaiveDate;
use engines::TestDb;
use rollcall::Clock;
use rollcall::config::{EscalationsConfig, OnboardingConfig};
use rollcall::domain::escalation::{Category, Priority, Status, View};
use rollcall::domain::onboarding::{AbandonReason, StepPath};
use rollcall::domain::renewal::{Channel, Outcome};
use rollcall::storage::escalations::{self, NewEscalation};
use rollcall::storage::renewals::{self, NewAttempt, Target};
use rollcall::storage::sql::{Connection, params};
use rollcall::storage::{Store, audit, letters, member, onboarding};

const TODAY: &str = "2026-11-23";

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// `user` acting on TODAY at 09:00.
fn clock(user: &str) -> Clock {
    Clock::fixed(d(TODAY), user)
}

fn rollcall(db: &TestDb) -> Command {
    let mut cmd = Command::cargo_bin("rollcall").unwrap();
    cmd.env("ROLLCALL_DB", db.url())
        .env("ROLLCALL_TODAY", TODAY)
        .env("ROLLCALL_USER", "amira")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env_remove("ROLLCALL_READ_ONLY")
        .env_remove("PGPASSWORD");
    cmd
}

/// Runs `rollcall args…` and returns its standard output, failing on a non-zero exit.
fn run(db: &TestDb, args: &[&str]) -> String {
    let out = rollcall(db).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "rollcall {args:?} failed on {}: {}",
        if db.is_postgres() { "PostgreSQL" } else { "SQLite" },
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A contact as an import leaves one; returns rollcall's id.
struct Person<'a> {
    crm_id: &'a str,
    first: &'a str,
    last: &'a str,
    party: &'a str,
    region: &'a str,
    language: &'a str,
    deceased: bool,
    do_not_phone: bool,
}

fn person<'a>(crm_id: &'a str, first: &'a str, last: &'a str) -> Person<'a> {
    Person {
        crm_id,
        first,
        last,
        party: "Cardiff West",
        region: "Wales",
        language: "en_GB",
        deceased: false,
        do_not_phone: false,
    }
}

impl Person<'_> {
    fn insert(&self, conn: &Connection) -> i64 {
        conn.query_row(
            "INSERT INTO contacts (source, crm_id, display_name, sort_name, first_name, last_name,
                 email, phone, street_address, city, postcode, country, preferred_language,
                 local_party, region, is_deceased, do_not_phone)
             VALUES ('civicrm', ?1, ?2, ?3, ?4, ?5, ?6, '029 2000 0000', '1 High Street',
                 'Cardiff', 'CF5 1AA', 'United Kingdom', ?7, ?8, ?9, ?10, ?11)
             RETURNING id",
            params![
                self.crm_id,
                format!("{} {}", self.first, self.last),
                format!("{}, {}", self.last, self.first),
                self.first,
                self.last,
                format!("{}@example.org", self.first.to_lowercase()),
                self.language,
                self.party,
                self.region,
                self.deceased,
                self.do_not_phone,
            ],
            |r| r.get(0),
        )
        .unwrap()
    }
}

/// A membership of `contact`; returns its id.
fn membership(
    conn: &Connection,
    contact: i64,
    crm_membership_id: &str,
    join: &str,
    end: Option<&str>,
    status: &str,
) -> i64 {
    conn.query_row(
        "INSERT INTO memberships (contact_id, source, sync_key, crm_membership_id,
             membership_type, join_date, start_date, end_date, crm_status)
         VALUES (?1, 'civicrm', ?2, ?3, 'Individual', ?4, ?4, ?5, ?6) RETURNING id",
        params![
            contact,
            format!("id:{crm_membership_id}"),
            crm_membership_id,
            join,
            end,
            status
        ],
        |r| r.get(0),
    )
    .unwrap()
}


/// Compares what a command printed with what it should print, showing both whole on a mismatch.
#[track_caller]
fn same(db: &TestDb, actual: &str, expected: &str) {
    if expected == "TODO" && std::env::var_os("BLESS").is_some() && !db.is_postgres() {
        let line = std::panic::Location::caller().line();
        std::fs::create_dir_all("/tmp/bless").unwrap();
        std::fs::write(format!("/tmp/bless/{line}"), actual).unwrap();
        return;
    }
    if actual != expected {
        panic!(
            "on {}, got:\n<<<\n{actual}>>>\nexpected:\n<<<\n{expected}>>>",
            if db.is_postgres() { "PostgreSQL" } else { "SQLite" }
        );
    }
}

/// The renewals queue's people: two due, one lapsed, and three the queue leaves out (deceased,
/// Cancelled, and one whose end date is months away).
struct Renewals {
    aled: Target,
    bethan: Target,
    carys: Target,
}

fn seed_renewals(conn: &Connection) -> Renewals {
    let target = |contact: i64, membership: i64| Target {
        contact_id: contact,
        membership_id: membership,
    };
    let aled = person("1001", "Aled", "Jones").insert(conn);
    let aled_m = membership(conn, aled, "5001", "2020-01-01", Some("2026-12-01"), "Current");
    let bethan = Person {
        party: "Swansea East",
        ..person("1002", "Bethan", "Hughes")
    }
    .insert(conn);
    let bethan_m = membership(conn, bethan, "5002", "2020-01-01", Some("2026-11-30"), "Current");
    let carys = Person {
        language: "cy_GB",
        do_not_phone: true,
        ..person("1003", "Carys", "Evans")
    }
    .insert(conn);
    let carys_m = membership(conn, carys, "5003", "2020-01-01", Some("2026-10-15"), "Grace");
    let dai = Person {
        deceased: true,
        ..person("1004", "Dai", "Price")
    }
    .insert(conn);
    membership(conn, dai, "5004", "2020-01-01", Some("2026-12-05"), "Current");
    let eleri = person("1005", "Eleri", "Morgan").insert(conn);
    membership(conn, eleri, "5005", "2020-01-01", Some("2026-12-02"), "Cancelled");
    let ffion = person("1006", "Ffion", "Lloyd").insert(conn);
    membership(conn, ffion, "5006", "2020-01-01", Some("2027-06-01"), "Current");
    Renewals {
        aled: target(aled, aled_m),
        bethan: target(bethan, bethan_m),
        carys: target(carys, carys_m),
    }
}

fn attempt(channel: Channel, outcome: Outcome, note: &str) -> NewAttempt {
    NewAttempt {
        channel,
        outcome,
        note: note.into(),
    }
}

engines::on_both_engines! {
    fn the_renewals_queue_is_due_then_lapsed_without_the_excluded(db: &TestDb) {
        seed_renewals(&db.open().conn);
        same(db, &run(db, &["renewals"]), r#"BUCKET  DAYS           END        NAME                         TYPE           LOCAL PARTY          LAST CONTACT
due     in 7 days      2026-11-30 Bethan Hughes                Individual     Swansea East         
due     in 8 days      2026-12-01 Aled Jones                   Individual     Cardiff West         
lapsed  39 days ago    2026-10-15 Carys Evans                  Individual     Cardiff West         
"#);
        same(db, &run(db, &["renewals", "--bucket", "lapsed"]), r#"BUCKET  DAYS           END        NAME                         TYPE           LOCAL PARTY          LAST CONTACT
lapsed  39 days ago    2026-10-15 Carys Evans                  Individual     Cardiff West         
"#);
        same(db, &run(db, &["renewals", "--local-party", "swansea east"]), r#"BUCKET  DAYS           END        NAME                         TYPE           LOCAL PARTY          LAST CONTACT
due     in 7 days      2026-11-30 Bethan Hughes                Individual     Swansea East         
"#);
        same(db, &run(db, &["renewals", "--json"]), r#"[
  {
    "contact_id": "1002",
    "membership_id": "5002",
    "name": "Bethan Hughes",
    "end_date": "2026-11-30",
    "days": 7,
    "bucket": "due",
    "payment_pending": false,
    "payment_failed": false,
    "last_contact": null
  },
  {
    "contact_id": "1001",
    "membership_id": "5001",
    "name": "Aled Jones",
    "end_date": "2026-12-01",
    "days": 8,
    "bucket": "due",
    "payment_pending": false,
    "payment_failed": false,
    "last_contact": null
  },
  {
    "contact_id": "1003",
    "membership_id": "5003",
    "name": "Carys Evans",
    "end_date": "2026-10-15",
    "days": -39,
    "bucket": "lapsed",
    "payment_pending": false,
    "payment_failed": false,
    "last_contact": null
  }
]
"#);
    }

    fn renewals_actions_show_in_the_queue_and_the_audit_trail(db: &TestDb) {
        let mut store = db.open();
        let r = seed_renewals(&store.conn);
        let ann = clock("ann");
        renewals::log_attempts(
            &mut store,
            &ann,
            &[r.aled],
            &attempt(Channel::Phone, Outcome::NoAnswer, "rang twice"),
        )
        .unwrap();
        renewals::snooze(&mut store, &ann, &[r.bethan], Some(d("2026-12-10"))).unwrap();
        renewals::add_note(&mut store, &ann, r.carys, "prefers a letter in Welsh").unwrap();
        renewals::assign(&mut store, &ann, &[r.aled.contact_id, r.carys.contact_id], Some("bob"))
            .unwrap();
        drop(store);
        same(db, &run(db, &["renewals"]), r#"BUCKET  DAYS           END        NAME                         TYPE           LOCAL PARTY          LAST CONTACT
due     in 8 days      2026-12-01 Aled Jones                   Individual     Cardiff West         2026-11-23 phone, no answer (ann)
lapsed  39 days ago    2026-10-15 Carys Evans                  Individual     Cardiff West         
"#);
        same(db, &run(db, &["renewals", "--include-set-aside"]), r#"BUCKET  DAYS           END        NAME                         TYPE           LOCAL PARTY          LAST CONTACT
due     in 8 days      2026-12-01 Aled Jones                   Individual     Cardiff West         2026-11-23 phone, no answer (ann)
lapsed  39 days ago    2026-10-15 Carys Evans                  Individual     Cardiff West         
due     in 7 days      2026-11-30 Bethan Hughes                Individual     Swansea East         
"#);
        same(db, &run(db, &["audit"]), r#"WHEN                 STAFF  ACTION               WHAT               CONTACT  CHANGE
2026-11-23T09:00:00  ann    log_contact_attempt  contact_attempt 1  1001     attempted_at=2026-11-23T09:00:00; batch=-; channel=phone; membership_id=1; note=rang twice; outcome…
2026-11-23T09:00:00  ann    snooze               snooze 2           1002     created_at=2026-11-23T09:00:00; staff=ann; until=2026-12-10
2026-11-23T09:00:00  ann    add_note             note 1             1003     body=prefers a letter in Welsh; context=renewals; membership_id=3
2026-11-23T09:00:00  ann    assign               assignment         1001     assignment={"assigned_at":"2026-11-23T09:00:00","assignee":"bob","staff":"ann"}; queue=renewals
2026-11-23T09:00:00  ann    assign               assignment         1003     assignment={"assigned_at":"2026-11-23T09:00:00","assignee":"bob","staff":"ann"}; queue=renewals
5 change(s).
"#);
        same(db, &run(db, &["audit", "--contact", "1003"]), r#"WHEN                 STAFF  ACTION    WHAT        CONTACT  CHANGE
2026-11-23T09:00:00  ann    add_note  note 1      1003     body=prefers a letter in Welsh; context=renewals; membership_id=3
2026-11-23T09:00:00  ann    assign    assignment  1003     assignment={"assigned_at":"2026-11-23T09:00:00","assignee":"bob","staff":"ann"}; queue=renewals
2 change(s).
"#);
        same(db, &run(db, &["audit", "--since", "2026-11-24"]), "No changes recorded.\n");
    }

    fn renewals_undo_puts_back_what_each_action_replaced(db: &TestDb) {
        let mut store = db.open();
        let r = seed_renewals(&store.conn);
        let ann = clock("ann");
        let logged = renewals::log_attempts(
            &mut store,
            &ann,
            &[r.aled, r.bethan],
            &attempt(Channel::Email, Outcome::LeftMessage, "renewal link"),
        )
        .unwrap();
        let batch: Vec<Option<i64>> = {
            let mut stmt = store
                .conn
                .prepare("SELECT batch FROM contact_attempts ORDER BY id")
                .unwrap();
            stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
        };
        assert_eq!(batch.len(), 2);
        assert!(batch[0].is_some() && batch[0] == batch[1], "{batch:?}");
        let snoozed = renewals::snooze(&mut store, &ann, &[r.aled], Some(d("2026-12-01"))).unwrap();
        let noted = renewals::add_note(&mut store, &ann, r.aled, "call back Friday").unwrap();
        let assigned = renewals::assign(&mut store, &ann, &[r.aled.contact_id], Some("bob")).unwrap();
        // Someone moves the assignment on: that undo is refused, the rest go through.
        renewals::assign(&mut store, &clock("cai"), &[r.aled.contact_id], Some("cai")).unwrap();
        let refused = renewals::undo(&mut store, &ann, &assigned).unwrap_err().to_string();
        assert_eq!(refused, "an assignment was changed since; nothing was undone");
        assert_eq!(renewals::undo(&mut store, &ann, &noted).unwrap(), "a note");
        assert_eq!(renewals::undo(&mut store, &ann, &snoozed).unwrap(), "1 next action date");
        assert_eq!(renewals::undo(&mut store, &ann, &logged).unwrap(), "2 contact attempts");
        let counts: (i64, i64, i64, i64) = store
            .conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM contact_attempts), (SELECT COUNT(*) FROM notes),
                        (SELECT COUNT(*) FROM snoozes), (SELECT COUNT(*) FROM assignments)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(counts, (0, 0, 0, 1));
        drop(store);
        same(db, &run(db, &["audit", "--contact", "1001"]), r#"WHEN                 STAFF  ACTION                WHAT               CONTACT  CHANGE
2026-11-23T09:00:00  ann    log_contact_attempt   contact_attempt 1  1001     attempted_at=2026-11-23T09:00:00; batch=1; channel=email; membership_id=1; note=renewal link; outco…
2026-11-23T09:00:00  ann    snooze                snooze 1           1001     created_at=2026-11-23T09:00:00; staff=ann; until=2026-12-01
2026-11-23T09:00:00  ann    add_note              note 1             1001     body=call back Friday; context=renewals; membership_id=1
2026-11-23T09:00:00  ann    assign                assignment         1001     assignment={"assigned_at":"2026-11-23T09:00:00","assignee":"bob","staff":"ann"}; queue=renewals
2026-11-23T09:00:00  cai    assign                assignment         1001     assignment: {"assigned_at":"2026-11-23T09:00:00","assignee":"bob","staff":"ann"} → {"assigned_at":"…
2026-11-23T09:00:00  ann    undo_note             note 1             1001
2026-11-23T09:00:00  ann    undo_snooze           snooze 1           1001     created_at=2026-11-23T09:00:00; staff=ann; until=2026-12-01
2026-11-23T09:00:00  ann    undo_contact_attempt  contact_attempt 1  1001     attempted_at=2026-11-23T09:00:00; batch=1; channel=email; membership_id=1; note=renewal link; outco…
8 change(s).
"#);
    }

    fn a_renewal_is_credited_to_a_recent_attempt_only(db: &TestDb) {
        let mut store = db.open();
        let r = seed_renewals(&store.conn);
        // Bethan was rung long before the renewal: outside the credit window.
        renewals::log_attempts(
            &mut store,
            &Clock::fixed(d("2026-09-01"), "cai"),
            &[r.bethan],
            &attempt(Channel::Phone, Outcome::WillRenew, "will pay online"),
        )
        .unwrap();
        renewals::log_attempts(
            &mut store,
            &clock("ann"),
            &[r.aled],
            &attempt(Channel::Phone, Outcome::WillRenew, "paying today"),
        )
        .unwrap();
        let aled_attempt = renewals::creditable_attempt(
            &store.conn,
            r.aled.membership_id,
            r.aled.contact_id,
            "2026-11-25T18:00:00",
        )
        .unwrap();
        assert!(aled_attempt.is_some());
        let none = renewals::creditable_attempt(
            &store.conn,
            r.bethan.membership_id,
            r.bethan.contact_id,
            "2026-11-25T18:00:00",
        )
        .unwrap();
        assert_eq!(none, None);
        seed_renewal_import(&store.conn, "2026-11-25", &[(r.aled, "2027-12-01", aled_attempt), (r.bethan, "2027-11-30", None)]);
        let summary = renewals::renewed_in_last_import(&store.conn).unwrap();
        assert_eq!(
            summary.headline().as_deref(),
            Some("2 renewed in the last import (2026-11-25), 1 after a contact: ann 1")
        );
        let names: Vec<(&str, Option<&str>)> = summary
            .rows
            .iter()
            .map(|r| (r.name.as_str(), r.credited.as_ref().map(|c| c.staff.as_str())))
            .collect();
        assert_eq!(names, vec![("Aled Jones", Some("ann")), ("Bethan Hughes", None)]);
        let timeline = member::timeline(&store.conn, r.aled.contact_id).unwrap();
        let renewed = timeline.iter().find(|e| e.what.starts_with("renewed")).unwrap();
        assert_eq!(
            (renewed.at.as_str(), renewed.who.as_str(), renewed.what.as_str(), renewed.detail.as_str()),
            (
                "2026-11-25",
                "import by ann",
                "renewed (Individual): end date 2026-12-01 → 2027-12-01",
                "credited to a contact attempt"
            )
        );
    }
}

/// What an import that saw these memberships renewed leaves: a finished run, the new end
/// dates, and `renewed` events credited as given.
fn seed_renewal_import(conn: &Connection, as_of: &str, renewed: &[(Target, &str, Option<i64>)]) {
    let import: i64 = conn
        .query_row(
            "INSERT INTO import_runs (started_at, finished_at, staff, as_of, file_name, file_size,
                 file_sha256, profile, source, encoding, date_order, renewed)
             VALUES (?1, ?1, 'ann', ?2, 'export.csv', 1, 'x', 'civicrm', 'civicrm', 'utf-8',
                 'iso', ?3)
             RETURNING id",
            params![format!("{as_of}T18:00:00"), as_of, renewed.len() as i64],
            |r| r.get(0),
        )
        .unwrap();
    for (target, new_end, credited) in renewed {
        let old_end: String = conn
            .query_row(
                "SELECT end_date FROM memberships WHERE id = ?1",
                [target.membership_id],
                |r| r.get(0),
            )
            .unwrap();
        conn.execute(
            "UPDATE memberships SET end_date = ?1, last_import_id = ?2 WHERE id = ?3",
            params![new_end, import, target.membership_id],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO membership_events (membership_id, import_id, kind, old_value, new_value,
                 occurred_on, credited_attempt_id)
             VALUES (?1, ?2, 'renewed', ?3, ?4, ?5, ?6)",
            params![target.membership_id, import, old_end, new_end, as_of, credited],
        )
        .unwrap();
    }
}
