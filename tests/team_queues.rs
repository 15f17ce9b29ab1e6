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
use rollcall::storage::{Store, letters, member, onboarding};

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
        if db.is_postgres() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `text` with every time of day as `T..:..:..`: the CLI stamps its changes with the real time.
fn clock_times_masked(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('T') {
        let (head, tail) = rest.split_at(at);
        out.push_str(head);
        let b = tail.as_bytes();
        let is_time = b.len() >= 9
            && [1, 2, 4, 5, 7, 8].iter().all(|&i| b[i].is_ascii_digit())
            && b[3] == b':'
            && b[6] == b':';
        if is_time {
            out.push_str("T..:..:..");
            rest = &tail[9..];
        } else {
            out.push('T');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
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
    join: Option<&str>,
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
    if actual != expected {
        panic!(
            "on {}, got:\n<<<\n{actual}>>>\nexpected:\n<<<\n{expected}>>>",
            if db.is_postgres() {
                "PostgreSQL"
            } else {
                "SQLite"
            }
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
    let aled_m = membership(
        conn,
        aled,
        "5001",
        Some("2020-01-01"),
        Some("2026-12-01"),
        "Current",
    );
    let bethan = Person {
        party: "Swansea East",
        ..person("1002", "Bethan", "Hughes")
    }
    .insert(conn);
    let bethan_m = membership(
        conn,
        bethan,
        "5002",
        Some("2020-01-01"),
        Some("2026-11-30"),
        "Current",
    );
    let carys = Person {
        language: "cy_GB",
        do_not_phone: true,
        ..person("1003", "Carys", "Evans")
    }
    .insert(conn);
    let carys_m = membership(
        conn,
        carys,
        "5003",
        Some("2020-01-01"),
        Some("2026-10-15"),
        "Grace",
    );
    let dai = Person {
        deceased: true,
        ..person("1004", "Dai", "Price")
    }
    .insert(conn);
    membership(
        conn,
        dai,
        "5004",
        Some("2020-01-01"),
        Some("2026-12-05"),
        "Current",
    );
    let eleri = person("1005", "Eleri", "Morgan").insert(conn);
    membership(
        conn,
        eleri,
        "5005",
        Some("2020-01-01"),
        Some("2026-12-02"),
        "Cancelled",
    );
    let ffion = person("1006", "Ffion", "Lloyd").insert(conn);
    membership(
        conn,
        ffion,
        "5006",
        Some("2020-01-01"),
        Some("2027-06-01"),
        "Current",
    );
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
            params![
                target.membership_id,
                import,
                old_end,
                new_end,
                as_of,
                credited
            ],
        )
        .unwrap();
    }
}

/// The onboarding queue's people: two new members (one assigned nothing, one with no local
/// party), a Pending one the CRM gave no dates (spelt in lower case), a long-standing member
/// and a deceased newcomer, neither of whom enters.
struct Newcomers {
    gwen: i64,
    huw: i64,
    iwan: i64,
}

fn seed_newcomers(conn: &Connection) -> Newcomers {
    let gwen = person("2001", "Gwen", "Thomas").insert(conn);
    membership(
        conn,
        gwen,
        "6001",
        Some("2026-11-01"),
        Some("2027-10-31"),
        "New",
    );
    let huw = Person {
        party: "",
        ..person("2002", "Huw", "Roberts")
    }
    .insert(conn);
    membership(
        conn,
        huw,
        "6002",
        Some("2026-11-20"),
        Some("2027-11-19"),
        "Current",
    );
    let iwan = person("2003", "Iwan", "Davies").insert(conn);
    membership(conn, iwan, "6003", None, None, "pending");
    let old = person("2004", "Long", "Standing").insert(conn);
    membership(
        conn,
        old,
        "6004",
        Some("2012-05-05"),
        Some("2027-05-04"),
        "Current",
    );
    let gone = Person {
        deceased: true,
        ..person("2005", "Mair", "Owen")
    }
    .insert(conn);
    membership(
        conn,
        gone,
        "6005",
        Some("2026-11-10"),
        Some("2027-11-09"),
        "New",
    );
    Newcomers { gwen, huw, iwan }
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

engines::on_both_engines! {
    fn newcomers_enter_the_onboarding_queue_once(db: &TestDb) {
        seed_newcomers(&db.open().conn);
        same(db, &run(db, &["onboarding"]), r#"NAME         JOINED      WAITING  PROGRESS   NEXT STEP           DUE         OVERDUE      ASSIGNEE  LOCAL PARTY
Gwen Thomas  2026-11-01  22d      0/5 □□□□□  Welcome email sent  2026-11-03  OVERDUE 20d  -         Cardiff West
Huw Roberts  2026-11-20  3d       0/5 □□□□□  Welcome email sent  2026-11-22  OVERDUE 1d   -
Iwan Davies  2026-11-23  0d       0/5 □□□□□  Welcome email sent  2026-11-25  in 2d        -         Cardiff West

3 members waiting, 2 with an overdue step.
"#);
        same(db, &run(db, &["onboarding", "--json"]), r#"[
  {
    "contact_id": "2001",
    "name": "Gwen Thomas",
    "joined": "2026-11-01",
    "arrival": "new",
    "steps_done": 0,
    "steps_total": 5,
    "next_step": "welcome_email",
    "next_step_label": "Welcome email sent",
    "next_due": "2026-11-03",
    "overdue": true,
    "assignee": null,
    "local_party": "Cardiff West"
  },
  {
    "contact_id": "2002",
    "name": "Huw Roberts",
    "joined": "2026-11-20",
    "arrival": "new",
    "steps_done": 0,
    "steps_total": 5,
    "next_step": "welcome_email",
    "next_step_label": "Welcome email sent",
    "next_due": "2026-11-22",
    "overdue": true,
    "assignee": null,
    "local_party": ""
  },
  {
    "contact_id": "2003",
    "name": "Iwan Davies",
    "joined": "2026-11-23",
    "arrival": "new",
    "steps_done": 0,
    "steps_total": 5,
    "next_step": "welcome_email",
    "next_step_label": "Welcome email sent",
    "next_due": "2026-11-25",
    "overdue": false,
    "assignee": null,
    "local_party": "Cardiff West"
  }
]
"#);
        // The second look records nobody again.
        run(db, &["onboarding"]);
        same(db, &clock_times_masked(&run(db, &["audit"])), r#"WHEN                 STAFF  ACTION            WHAT          CONTACT  CHANGE
2026-11-23T..:..:..  amira  onboarding.enter  onboarding 1  2001     added_by_hand=false; anchor_date=2026-11-01
2026-11-23T..:..:..  amira  onboarding.enter  onboarding 2  2002     added_by_hand=false; anchor_date=2026-11-20
2026-11-23T..:..:..  amira  onboarding.enter  onboarding 3  2003     added_by_hand=false; anchor_date=2026-11-23
3 change(s).
"#);
        let store = db.open();
        assert_eq!(count(&store.conn, "SELECT COUNT(*) FROM onboarding"), 3);
    }

    fn a_read_only_look_shows_newcomers_without_recording_them(db: &TestDb) {
        seed_newcomers(&db.open().conn);
        same(db, &run(db, &["onboarding", "--read-only"]), r#"NAME         JOINED      WAITING  PROGRESS   NEXT STEP           DUE         OVERDUE      ASSIGNEE  LOCAL PARTY
Gwen Thomas  2026-11-01  22d      0/5 □□□□□  Welcome email sent  2026-11-03  OVERDUE 20d  -         Cardiff West
Huw Roberts  2026-11-20  3d       0/5 □□□□□  Welcome email sent  2026-11-22  OVERDUE 1d   -
Iwan Davies  2026-11-23  0d       0/5 □□□□□  Welcome email sent  2026-11-25  in 2d        -         Cardiff West

3 members waiting, 2 with an overdue step.
"#);
        let store = db.open();
        assert_eq!(count(&store.conn, "SELECT COUNT(*) FROM onboarding"), 0);
        assert_eq!(count(&store.conn, "SELECT COUNT(*) FROM audit_log"), 0);
    }

    fn onboarding_ticks_assignments_and_abandoning_with_undo(db: &TestDb) {
        let mut store = db.open();
        let n = seed_newcomers(&store.conn);
        let ann = clock("ann");
        let config = OnboardingConfig::default();
        let path = StepPath::default_path();
        assert_eq!(onboarding::load_queue(&mut store, &ann, &config).unwrap().len(), 3);
        let ticked =
            onboarding::tick(&mut store, &ann, &path, "welcome_email", &[n.gwen, n.huw]).unwrap();
        assert_eq!((ticked.ticked, ticked.already_done, ticked.completed), (2, 0, 0));
        let again = onboarding::tick(&mut store, &ann, &path, "welcome_email", &[n.gwen]).unwrap();
        assert_eq!((again.ticked, again.already_done), (0, 1));
        let unticked = onboarding::untick(&mut store, &ann, n.huw, "welcome_email").unwrap();
        onboarding::assign(&mut store, &ann, n.gwen, Some("amira")).unwrap();
        onboarding::add_note(&mut store, &ann, n.gwen, "asked about the induction").unwrap();
        let abandoned =
            onboarding::abandon(&mut store, &ann, n.iwan, AbandonReason::NeverPaid, "").unwrap();
        drop(store);
        same(db, &run(db, &["onboarding"]), r#"NAME         JOINED      WAITING  PROGRESS   NEXT STEP           DUE         OVERDUE      ASSIGNEE  LOCAL PARTY
Gwen Thomas  2026-11-01  22d      1/5 ■□□□□  Welcome call made   2026-11-08  OVERDUE 15d  amira     Cardiff West
Huw Roberts  2026-11-20  3d       0/5 □□□□□  Welcome email sent  2026-11-22  OVERDUE 1d   -

2 members waiting, 2 with an overdue step.
"#);
        same(db, &run(db, &["onboarding", "--mine"]), r#"NAME         JOINED      WAITING  PROGRESS   NEXT STEP          DUE         OVERDUE      ASSIGNEE  LOCAL PARTY
Gwen Thomas  2026-11-01  22d      1/5 ■□□□□  Welcome call made  2026-11-08  OVERDUE 15d  amira     Cardiff West

1 member waiting, 1 with an overdue step.
"#);
        same(db, &run(db, &["onboarding", "--unassigned"]), r#"NAME         JOINED      WAITING  PROGRESS   NEXT STEP           DUE         OVERDUE     ASSIGNEE  LOCAL PARTY
Huw Roberts  2026-11-20  3d       0/5 □□□□□  Welcome email sent  2026-11-22  OVERDUE 1d  -

1 member waiting, 1 with an overdue step.
"#);
        let mut store = db.open();
        assert_eq!(onboarding::undo(&mut store, &ann, &abandoned).unwrap(), 1);
        assert_eq!(onboarding::undo(&mut store, &ann, &unticked).unwrap(), 1);
        assert_eq!(onboarding::undo(&mut store, &ann, &ticked.undo).unwrap(), 2);
        drop(store);
        same(db, &run(db, &["onboarding"]), r#"NAME         JOINED      WAITING  PROGRESS   NEXT STEP           DUE         OVERDUE      ASSIGNEE  LOCAL PARTY
Gwen Thomas  2026-11-01  22d      0/5 □□□□□  Welcome email sent  2026-11-03  OVERDUE 20d  amira     Cardiff West
Huw Roberts  2026-11-20  3d       0/5 □□□□□  Welcome email sent  2026-11-22  OVERDUE 1d   -
Iwan Davies  2026-11-23  0d       0/5 □□□□□  Welcome email sent  2026-11-25  in 2d        -         Cardiff West

3 members waiting, 2 with an overdue step.
"#);
        same(db, &run(db, &["audit", "--contact", "2003"]), r#"WHEN                 STAFF  ACTION                   WHAT          CONTACT  CHANGE
2026-11-23T09:00:00  ann    onboarding.enter         onboarding 3  2003     added_by_hand=false; anchor_date=2026-11-23
2026-11-23T09:00:00  ann    onboarding.abandon       onboarding 3  2003     closed_at: - → 2026-11-23T09:00:00; closed_by: - → ann; closed_reason:  → Never paid; state: active…
2026-11-23T09:00:00  ann    onboarding.undo_abandon  onboarding 3  2003     added_at=2026-11-23T09:00:00; added_by=ann; added_by_hand=false; anchor_date=2026-11-23; closed_at=…
3 change(s).
"#);
    }

    fn ticking_the_last_step_completes_the_path(db: &TestDb) {
        let mut store = db.open();
        let n = seed_newcomers(&store.conn);
        let ann = clock("ann");
        let path = StepPath::default_path();
        onboarding::load_queue(&mut store, &ann, &OnboardingConfig::default()).unwrap();
        let keys: Vec<String> = path.steps().iter().map(|s| s.key.clone()).collect();
        let mut completed = 0;
        for key in &keys {
            completed += onboarding::tick(&mut store, &ann, &path, key, &[n.gwen]).unwrap().completed;
        }
        assert_eq!(completed, 1);
        let state: String = store
            .conn
            .query_row("SELECT state FROM onboarding WHERE contact_id = ?1", [n.gwen], |r| r.get(0))
            .unwrap();
        assert_eq!(state, "completed");
        // Added back by hand, the path keeps the steps already done.
        assert!(matches!(
            onboarding::add_by_hand(&mut store, &ann, n.gwen).unwrap(),
            onboarding::Added::Entered(_)
        ));
        assert!(matches!(
            onboarding::add_by_hand(&mut store, &ann, n.gwen).unwrap(),
            onboarding::Added::AlreadyInQueue
        ));
        let timeline: Vec<String> = member::timeline(&store.conn, n.gwen)
            .unwrap()
            .into_iter()
            .map(|e| {
                format!("{} | {} | {} | {}", e.at, e.who, e.what, e.detail)
                    .trim_end()
                    .to_owned()
            })
            .collect();
        same(db, &(timeline.join("\n") + "\n"), r#"2026-11-23T09:00:00 | ann | added to onboarding by hand |
2026-11-23T09:00:00 | ann | onboarding step done: attended induction |
2026-11-23T09:00:00 | ann | onboarding step done: invited induction |
2026-11-23T09:00:00 | ann | onboarding step done: linked local party |
2026-11-23T09:00:00 | ann | onboarding step done: welcome call |
2026-11-23T09:00:00 | ann | onboarding step done: welcome email |
2026-11-01 | CRM | joined (Individual) | Member Since, as the CRM records it
"#);
    }
}

fn escalation(
    contact_id: Option<i64>,
    category: Category,
    priority: Priority,
    title: &str,
    assignee: Option<&str>,
) -> NewEscalation {
    NewEscalation {
        contact_id,
        membership_id: None,
        category,
        priority,
        title: title.into(),
        description: "Details as the member told them.".into(),
        assignee: assignee.map(str::to_owned),
    }
}

/// Three escalations: one about Aled assigned to amira, one about nobody and unassigned, and
/// one about Bethan opened weeks ago and overdue. Returns their ids.
fn seed_escalations(store: &mut Store, r: &Renewals) -> (i64, i64, i64) {
    let targets = EscalationsConfig::default();
    let card = escalations::open(
        store,
        &clock("ann"),
        &targets,
        &escalation(
            Some(r.aled.contact_id),
            Category::Complaint,
            Priority::High,
            "Card never came",
            Some("amira"),
        ),
    )
    .unwrap();
    let hall = escalations::open(
        store,
        &clock("bob"),
        &targets,
        &escalation(
            None,
            Category::Other,
            Priority::Low,
            "Hall booking clash",
            None,
        ),
    )
    .unwrap();
    let paid = escalations::open(
        store,
        &Clock::fixed(d("2026-10-20"), "cai"),
        &targets,
        &escalation(
            Some(r.bethan.contact_id),
            Category::RenewalPayment,
            Priority::Urgent,
            "Paid twice",
            None,
        ),
    )
    .unwrap();
    (card, hall, paid)
}

engines::on_both_engines! {
    fn escalation_lists_and_counts_by_view(db: &TestDb) {
        let mut store = db.open();
        let r = seed_renewals(&store.conn);
        let (card, hall, paid) = seed_escalations(&mut store, &r);
        assert_eq!((card, hall, paid), (1, 2, 3));
        let counts = escalations::counts(&store.conn, "amira", d(TODAY)).unwrap();
        assert_eq!(
            (counts.mine, counts.unassigned, counts.overdue, counts.open, counts.resolved),
            (1, 2, 1, 3, 0)
        );
        let ids = |view| -> Vec<i64> {
            escalations::list(&store.conn, view, "amira", d(TODAY))
                .unwrap()
                .iter()
                .map(|e| e.id)
                .collect()
        };
        assert_eq!(ids(View::Mine), vec![card]);
        assert_eq!(ids(View::Unassigned), vec![paid, hall]);
        assert_eq!(ids(View::Overdue), vec![paid]);
        assert_eq!(ids(View::Open), vec![paid, card, hall]);
        assert_eq!(ids(View::All), vec![paid, card, hall]);
        assert_eq!(ids(View::Resolved), Vec::<i64>::new());
        drop(store);
        same(db, &run(db, &["escalations"]), r#"ID  DUE         LATE  PRIORITY  STATUS  CATEGORY         ASSIGNEE  CONTACT  TITLE
3   2026-10-21  33d   urgent    open    renewal_payment  -         1002     Paid twice
1   2026-11-26        high      open    complaint        amira     1001     Card never came
2   2026-12-21        low       open    other            -         -        Hall booking clash
3 escalations, 1 overdue
"#);
        same(db, &run(db, &["escalations", "--mine"]), r#"ID  DUE         LATE  PRIORITY  STATUS  CATEGORY   ASSIGNEE  CONTACT  TITLE
1   2026-11-26        high      open    complaint  amira     1001     Card never came
1 escalation, 0 overdue
"#);
        same(db, &run(db, &["escalations", "--unassigned"]), r#"ID  DUE         LATE  PRIORITY  STATUS  CATEGORY         ASSIGNEE  CONTACT  TITLE
3   2026-10-21  33d   urgent    open    renewal_payment  -         1002     Paid twice
2   2026-12-21        low       open    other            -         -        Hall booking clash
2 escalations, 1 overdue
"#);
        same(db, &run(db, &["escalations", "--overdue"]), r#"ID  DUE         LATE  PRIORITY  STATUS  CATEGORY         ASSIGNEE  CONTACT  TITLE
3   2026-10-21  33d   urgent    open    renewal_payment  -         1002     Paid twice
1 escalation, 1 overdue
"#);
        same(db, &run(db, &["escalations", "--json"]), r#"[
  {
    "id": 3,
    "contact_id": "1002",
    "title": "Paid twice",
    "category": "renewal_payment",
    "priority": "urgent",
    "status": "open",
    "assignee": null,
    "opened": "2026-10-20",
    "due": "2026-10-21",
    "overdue": true
  },
  {
    "id": 1,
    "contact_id": "1001",
    "title": "Card never came",
    "category": "complaint",
    "priority": "high",
    "status": "open",
    "assignee": "amira",
    "opened": "2026-11-23",
    "due": "2026-11-26",
    "overdue": false
  },
  {
    "id": 2,
    "contact_id": null,
    "title": "Hall booking clash",
    "category": "other",
    "priority": "low",
    "status": "open",
    "assignee": null,
    "opened": "2026-11-23",
    "due": "2026-12-21",
    "overdue": false
  }
]
"#);
    }

    fn an_escalation_opened_from_the_command_line(db: &TestDb) {
        seed_renewals(&db.open().conn);
        same(
            db,
            &run(
                db,
                &["escalate", "--contact", "1003", "--category", "data_protection",
                  "--priority", "normal", "--title", "Wants a copy of her data",
                  "--assign", "bob"],
            ),
            r#"1
"#,
        );
        same(db, &run(db, &["escalations", "--all"]), r#"ID  DUE         LATE  PRIORITY  STATUS  CATEGORY         ASSIGNEE  CONTACT  TITLE
1   2026-12-23        normal    open    data_protection  bob       1003     Wants a copy of her data
1 escalation, 0 overdue
"#);
        let unknown = rollcall(db)
            .args(["escalate", "--contact", "9999", "--category", "other", "--priority", "low",
                   "--title", "x"])
            .output()
            .unwrap();
        assert!(!unknown.status.success());
        same(db, &String::from_utf8_lossy(&unknown.stderr), r#"rollcall: error: --contact: no contact has CRM id `9999`
"#);
    }

    fn escalation_changes_build_the_timeline_and_the_audit_trail(db: &TestDb) {
        let mut store = db.open();
        let r = seed_renewals(&store.conn);
        let (card, hall, paid) = seed_escalations(&mut store, &r);
        let targets = EscalationsConfig::default();
        let amira = clock("amira");
        escalations::set_status(&mut store, &amira, card, Status::InProgress).unwrap();
        escalations::set_assignee(&mut store, &amira, hall, Some("amira")).unwrap();
        let same_again = escalations::set_assignee(&mut store, &amira, hall, Some("amira"))
            .unwrap_err()
            .to_string();
        let due = escalations::set_priority(&mut store, &amira, &targets, card, Priority::Urgent)
            .unwrap();
        escalations::comment(&mut store, &amira, card, "Rang the printers.").unwrap();
        let no_note = escalations::resolve(&mut store, &amira, paid, "  ").unwrap_err().to_string();
        escalations::resolve(&mut store, &amira, paid, "Refunded the second payment.").unwrap();
        escalations::resolve(&mut store, &amira, hall, "Moved to the library.").unwrap();
        escalations::reopen(&mut store, &clock("bob"), hall, "The library is shut.").unwrap();
        let detail = escalations::detail(&store.conn, card).unwrap().unwrap();
        let timeline: Vec<String> = detail
            .timeline
            .iter()
            .map(|e| {
                format!(
                    "{} {} {:?} {:?} {:?} {:?}",
                    e.at, e.staff, e.kind, e.old_value, e.new_value, e.body
                )
            })
            .collect();
        let counts = escalations::counts(&store.conn, "amira", d(TODAY)).unwrap();
        let resolved: Vec<i64> = escalations::list(&store.conn, View::Resolved, "amira", d(TODAY))
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect();
        drop(store);
        same(
            db,
            &format!(
                "{same_again}\n{no_note}\ndue {due}\n{}\nmember: {:?} {:?}\n{}\n\
                 counts {} {} {} {} {}\nresolved {resolved:?}\n",
                detail.row.status.as_str(),
                detail.row.member_name,
                detail.row.crm_id,
                timeline.join("\n"),
                counts.mine,
                counts.unassigned,
                counts.overdue,
                counts.open,
                counts.resolved
            ),
            r#"the escalation already has that assignee
a resolution note is required: say what was done
due 2026-11-24
in_progress
member: Some("Aled Jones") Some("1001")
2026-11-23T09:00:00 ann Opened None Some("open") ""
2026-11-23T09:00:00 ann Assignee None Some("amira") ""
2026-11-23T09:00:00 amira Status Some("open") Some("in_progress") ""
2026-11-23T09:00:00 amira Priority Some("high") Some("urgent") "due 2026-11-24 (was 2026-11-26)"
2026-11-23T09:00:00 amira Comment None None "Rang the printers."
counts 2 0 0 2 1
resolved [3]
"#,
        );
        same(db, &run(db, &["escalations", "--all"]), r#"ID  DUE         LATE  PRIORITY  STATUS       CATEGORY         ASSIGNEE  CONTACT  TITLE
3   2026-10-21        urgent    resolved     renewal_payment  -         1002     Paid twice
1   2026-11-24        urgent    in_progress  complaint        amira     1001     Card never came
2   2026-12-21        low       open         other            amira     -        Hall booking clash
3 escalations, 0 overdue
"#);
        same(db, &run(db, &["audit"]), r#"WHEN                 STAFF  ACTION               WHAT          CONTACT  CHANGE
2026-11-23T09:00:00  ann    escalation.opened    escalation 1  1001     assignee=amira; category=complaint; due_date=2026-11-26; event_id=1; membership_id=-; priority=high…
2026-11-23T09:00:00  bob    escalation.opened    escalation 2  -        assignee=-; category=other; due_date=2026-12-21; event_id=3; membership_id=-; priority=low; title=H…
2026-10-20T09:00:00  cai    escalation.opened    escalation 3  1002     assignee=-; category=renewal_payment; due_date=2026-10-21; event_id=4; membership_id=-; priority=ur…
2026-11-23T09:00:00  amira  escalation.status    escalation 1  1001     event_id: - → 5; status: open → in_progress
2026-11-23T09:00:00  amira  escalation.assignee  escalation 2  -        assignee: - → amira; event_id: - → 6
2026-11-23T09:00:00  amira  escalation.priority  escalation 1  1001     due_date: 2026-11-26 → 2026-11-24; event_id: - → 7; priority: high → urgent
2026-11-23T09:00:00  amira  escalation.comment   escalation 1  1001     event_id=8
2026-11-23T09:00:00  amira  escalation.resolved  escalation 3  1002     event_id: - → 9; status: open → resolved
2026-11-23T09:00:00  amira  escalation.resolved  escalation 2  -        event_id: - → 10; status: open → resolved
2026-11-23T09:00:00  bob    escalation.reopened  escalation 2  -        event_id: - → 11; status: resolved → open
10 change(s).
"#);
    }
}

engines::on_both_engines! {
    fn the_member_view_gathers_every_table_newest_first(db: &TestDb) {
        let mut store = db.open();
        let r = seed_renewals(&store.conn);
        // A second, older membership, lifetime memberships first and then by end date.
        membership(&store.conn, r.aled.contact_id, "5101", Some("2015-03-01"), Some("2019-02-28"), "Expired");
        seed_escalations(&mut store, &r);
        let ann = clock("ann");
        renewals::log_attempts(
            &mut store,
            &ann,
            &[r.aled],
            &attempt(Channel::Phone, Outcome::WillRenew, "paying at the weekend"),
        )
        .unwrap();
        renewals::snooze(&mut store, &ann, &[r.aled], Some(d("2026-11-30"))).unwrap();
        renewals::add_note(&mut store, &ann, r.aled, "new address coming").unwrap();
        renewals::assign(&mut store, &ann, &[r.aled.contact_id], Some("bob")).unwrap();
        escalations::comment(&mut store, &clock("amira"), 1, "Reissued the card.").unwrap();
        onboarding::add_by_hand(&mut store, &ann, r.aled.contact_id).unwrap();
        let onboarding_path = StepPath::default_path();
        onboarding::tick(&mut store, &ann, &onboarding_path, "welcome_call", &[r.aled.contact_id])
            .unwrap();
        let m = member::load(&store.conn, r.aled.contact_id, d(TODAY)).unwrap().unwrap();
        assert!(member::load(&store.conn, 9999, d(TODAY)).unwrap().is_none());
        let mut text = format!(
            "{} ({} in {}), {}, {}\n",
            m.contact.display_name,
            m.contact.crm_id,
            m.contact.source,
            m.contact.email,
            m.contact.local_party
        );
        for ms in &m.memberships {
            text += &format!(
                "membership {} {:?} ends {:?}: CRM {} rollcall {:?} disagrees {}\n",
                ms.id, ms.crm_membership_id, ms.end_date, ms.crm_status, ms.derived, ms.disagrees
            );
        }
        for e in &m.timeline {
            let line = format!("{} | {} | {} | {}", e.at, e.who, e.what, e.detail);
            text += line.trim_end();
            text.push('\n');
        }
        same(db, &text, r#"Aled Jones (1001 in civicrm), aled@example.org, Cardiff West
membership 1 Some("5001") ends Some("2026-12-01"): CRM Current rollcall Current disagrees false
membership 7 Some("5101") ends Some("2019-02-28"): CRM Expired rollcall Expired disagrees false
2026-11-23T09:00:00 | ann | phone contact: will renew | paying at the weekend
2026-11-23T09:00:00 | ann | note (renewals) | new address coming
2026-11-23T09:00:00 | ann | renewal follow-up snoozed until 2026-11-30 (Individual) |
2026-11-23T09:00:00 | ann | assigned to bob in renewals |
2026-11-23T09:00:00 | ann | added to onboarding by hand |
2026-11-23T09:00:00 | ann | onboarding step done: welcome call |
2026-11-23T09:00:00 | ann | escalation #1 opened: Card never came (complaint, high) | Details as the member told them.
2026-11-23T09:00:00 | amira | escalation #1 comment | Reissued the card.
2026-11-23T09:00:00 | ann | escalation #1 assignee → amira |
2020-01-01 | CRM | joined (Individual) | Member Since, as the CRM records it
2015-03-01 | CRM | joined (Individual) | Member Since, as the CRM records it
"#);
    }

    fn letters_find_their_recipients_and_record_what_was_sent(db: &TestDb) {
        let mut store = db.open();
        let r = seed_renewals(&store.conn);
        renewals::log_attempts(
            &mut store,
            &Clock::fixed(d("2026-11-20"), "cai"),
            &[r.carys],
            &attempt(Channel::Phone, Outcome::NoAnswer, ""),
        )
        .unwrap();
        let wanted = [
            letters::Wanted { contact_id: r.aled.contact_id, membership_id: None },
            letters::Wanted { contact_id: 9999, membership_id: None },
            letters::Wanted { contact_id: r.carys.contact_id, membership_id: Some(r.carys.membership_id) },
        ];
        let rows = letters::recipients(&store.conn, &wanted).unwrap();
        let text: String = rows
            .iter()
            .map(|l| {
                format!(
                    "{} {} {:?} {} ({} {}) {} {:?} {:?} {} | {}, {} {} | welsh {} no phone {} | last {:?}\n",
                    l.contact_id,
                    l.crm_id,
                    l.membership_id,
                    l.recipient.name,
                    l.recipient.first_name,
                    l.recipient.last_name,
                    l.recipient.membership_type,
                    l.recipient.end_date,
                    l.recipient.local_party,
                    l.email,
                    l.address.street,
                    l.address.city,
                    l.address.postcode,
                    l.flags.welsh,
                    l.flags.do_not_phone,
                    l.last_contact.as_ref().map(|c| (&c.at, &c.channel, &c.outcome, &c.staff)),
                )
            })
            .collect();
        same(db, &text, r#"1 1001 Some(1) Aled Jones (Aled Jones) Individual Some(2026-12-01) "Cardiff West" aled@example.org | 1 High Street, Cardiff CF5 1AA | welsh false no phone false | last None
3 1003 Some(3) Carys Evans (Carys Evans) Individual Some(2026-10-15) "Cardiff West" carys@example.org | 1 High Street, Cardiff CF5 1AA | welsh true no phone true | last Some(("2026-11-20T09:00:00", "phone", "no_answer", "cai"))
"#);
        let ids = letters::resolve_crm_ids(
            &store.conn,
            &["1003".to_owned(), "1001".to_owned(), "1003".to_owned(), "4242".to_owned()],
        )
        .unwrap();
        assert_eq!(ids.contact_ids, vec![r.carys.contact_id, r.aled.contact_id]);
        assert_eq!((ids.not_found, ids.ambiguous), (1, 0));
        let note = letters::attempt_note("renewal-due", Channel::Letter);
        let ann = clock("ann");
        assert!(!letters::sent_on(&store.conn, r.aled.contact_id, Channel::Letter, &note, d(TODAY)).unwrap());
        letters::record_sent(&mut store, &ann, &[r.aled, r.bethan], Channel::Letter, &note).unwrap();
        assert!(letters::sent_on(&store.conn, r.aled.contact_id, Channel::Letter, &note, d(TODAY)).unwrap());
        assert!(!letters::sent_on(&store.conn, r.aled.contact_id, Channel::Letter, &note, d("2026-11-24")).unwrap());
        assert!(!letters::sent_on(&store.conn, r.carys.contact_id, Channel::Letter, &note, d(TODAY)).unwrap());
        drop(store);
        same(db, &run(db, &["renewals"]), r#"BUCKET  DAYS           END        NAME                         TYPE           LOCAL PARTY          LAST CONTACT
due     in 7 days      2026-11-30 Bethan Hughes                Individual     Swansea East         2026-11-23 letter, sent (ann)
due     in 8 days      2026-12-01 Aled Jones                   Individual     Cardiff West         2026-11-23 letter, sent (ann)
lapsed  39 days ago    2026-10-15 Carys Evans                  Individual     Cardiff West         2026-11-20 phone, no answer (cai)
"#);
    }

    fn renewal_emails_go_to_the_due_and_are_recorded(db: &TestDb) {
        seed_renewals(&db.open().conn);
        let out = db.scratch().join("due.csv");
        let said = run(
            db,
            &["letters", "renewal-due", "--channel", "email", "--output", out.to_str().unwrap()],
        );
        same(db, &said.replace(out.to_str().unwrap(), "OUT"), "");
        let csv = std::fs::read_to_string(&out).unwrap();
        let csv = csv.strip_prefix('\u{feff}').expect("a byte order mark first");
        // ⏎ marks the CRLF that ends each record (the bodies' own lines end in LF).
        same(db, &csv.replace("\r\n", "⏎\n"), r#"Contact ID,Email,Language,Subject,Body⏎
1002,bethan@example.org,en,Time to renew your membership,"Dear Bethan,

Thank you for being a member. Your Individual membership ends on 30 November 2026.

Every member counts. Your subscription pays for local campaigning, for leaflets and for supporting candidates where you live, with Swansea East. Please renew today so that we can carry on that work together:



If you have already renewed, thank you: there is nothing more you need to do.

With best wishes,

The Membership Team"⏎
1001,aled@example.org,en,Time to renew your membership,"Dear Aled,

Thank you for being a member. Your Individual membership ends on 1 December 2026.

Every member counts. Your subscription pays for local campaigning, for leaflets and for supporting candidates where you live, with Cardiff West. Please renew today so that we can carry on that work together:



If you have already renewed, thank you: there is nothing more you need to do.

With best wishes,

The Membership Team"⏎
"#);
        same(db, &clock_times_masked(&run(db, &["audit"])), r#"WHEN                 STAFF  ACTION               WHAT               CONTACT  CHANGE
2026-11-23T..:..:..  amira  log_contact_attempt  contact_attempt 1  1002     attempted_at=2026-11-23T..:..:..; batch=1; channel=email; membership_id=2; note=renewal-due email; …
2026-11-23T..:..:..  amira  log_contact_attempt  contact_attempt 2  1001     attempted_at=2026-11-23T..:..:..; batch=1; channel=email; membership_id=1; note=renewal-due email; …
2 change(s).
"#);
        // Asked again the same day, nobody is written to twice without --yes.
        let again = rollcall(db)
            .args(["letters", "renewal-due", "--channel", "email", "--output", out.to_str().unwrap()])
            .output()
            .unwrap();
        same(
            db,
            &format!(
                "{}\n{}{}",
                again.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&again.stdout).replace(out.to_str().unwrap(), "OUT"),
                String::from_utf8_lossy(&again.stderr).replace(out.to_str().unwrap(), "OUT"),
            ),
            r#"1
rollcall: error: 2 of these members already had a renewal-due email today; not running on a terminal to ask, so nothing was written. Pass --yes to write and record them again
"#,
        );
    }
}

engines::on_both_engines! {
    fn the_credit_window_ends_on_the_same_day_on_both_engines(db: &TestDb) {
        // 60 days before 1 March 2026 is 31 December 2025 (across a short February).
        let mut store = db.open();
        let r = seed_renewals(&store.conn);
        let log = |store: &mut Store, day: &str, target: Target| -> i64 {
            renewals::log_attempts(
                store,
                &Clock::fixed(d(day), "ann"),
                &[target],
                &attempt(Channel::Phone, Outcome::WillRenew, ""),
            )
            .unwrap();
            store.conn.query_row("SELECT MAX(id) FROM contact_attempts", [], |r| r.get(0)).unwrap()
        };
        let on_the_edge = log(&mut store, "2025-12-31", r.aled);
        let a_day_early = log(&mut store, "2025-12-30", r.bethan);
        let credit = |t: Target| {
            renewals::creditable_attempt(&store.conn, t.membership_id, t.contact_id, "2026-03-01T18:00:00")
                .unwrap()
        };
        assert_eq!(credit(r.aled), Some(on_the_edge));
        assert_eq!(credit(r.bethan), None);
        // Credits recorded under an older, wider rule are judged again by this one.
        seed_renewal_import(
            &store.conn,
            "2026-03-01",
            &[(r.aled, "2027-12-01", Some(on_the_edge)), (r.bethan, "2027-11-30", Some(a_day_early))],
        );
        let summary = renewals::renewed_in_last_import(&store.conn).unwrap();
        let credited: Vec<(i64, Option<i64>)> = summary
            .rows
            .iter()
            .map(|row| (row.contact_id, row.credited.as_ref().map(|c| c.id)))
            .collect();
        assert_eq!(
            credited,
            vec![(r.aled.contact_id, Some(on_the_edge)), (r.bethan.contact_id, None)]
        );
        let detail_of = |contact: i64| -> String {
            member::timeline(&store.conn, contact)
                .unwrap()
                .into_iter()
                .find(|e| e.what.starts_with("renewed"))
                .unwrap()
                .detail
        };
        assert_eq!(detail_of(r.aled.contact_id), "credited to a contact attempt");
        assert_eq!(detail_of(r.bethan.contact_id), "");
    }
}
