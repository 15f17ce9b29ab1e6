//! The figures, search and exports on both engines, from one body each: `rollcall stats`,
//! `rollcall search`, `rollcall export members` and `rollcall export activities` print the same
//! text on SQLite and PostgreSQL. The data is seeded with plain INSERTs (the stats fixture and
//! search_support), not by an import.

#[path = "support/engines.rs"]
mod engines;
#[path = "support/pg_cluster.rs"]
mod pg_cluster;
#[path = "search_support/mod.rs"]
mod search_support;
mod stats_fixture;

use engines::TestDb;
use stats_fixture::{ME, TODAY, expect};

/// The rollcall binary on `db`, as of the fixture's day, with no setting from the environment.
fn rollcall(db: &TestDb) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_rollcall"));
    let scratch = db.scratch();
    cmd.env_clear()
        .env("HOME", &scratch)
        .env("XDG_CONFIG_HOME", scratch.join("config"))
        .env("XDG_DATA_HOME", scratch.join("data"))
        .env("ROLLCALL_DB", db.url())
        .args(["--today", TODAY, "--user", ME]);
    cmd
}

fn run_ok(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fixture(db: &TestDb) {
    stats_fixture::fill(&db.open());
}

/// The CRM contact ids of a CSV (the first column).
fn ids(csv: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().get(0).unwrap().to_owned())
        .collect()
}

fn keys(csv: &str) -> Vec<String> {
    csv.lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().to_owned())
        .collect()
}

fn exported_count(db: &TestDb) -> i64 {
    db.open()
        .conn
        .query_row("SELECT COUNT(*) FROM exported_activities", [], |r| r.get(0))
        .unwrap()
}

const ACTIVITIES_HEADER: &str =
    "Contact ID,Activity Type,Subject,Activity Date,Activity Status,Details,Added By,Activity Key";

engines::on_both_engines! {
    fn stats_json_holds_the_fixtures_figures(db: &TestDb) {
        fixture(db);
        let out = run_ok(rollcall(db).args(["stats", "--json"]));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["as_of"], TODAY);
        let since = &v["since_last_import"];
        assert_eq!(since["import"]["file_name"], "members-1123.csv");
        assert_eq!(since["import"]["previous_as_of"], "2026-11-09");
        assert_eq!(
            [&since["joined"], &since["renewed"], &since["lapsed"], &since["vanished"]],
            [expect::JOINED, expect::RENEWED, expect::LAPSED, expect::VANISHED]
        );
        let work = &v["my_work"];
        assert_eq!(work["user"], ME);
        assert_eq!(
            [
                &work["follow_ups"],
                &work["promises"],
                &work["onboarding_due"],
                &work["my_escalations"],
                &work["unassigned_escalations"]
            ],
            [
                expect::FOLLOW_UPS,
                expect::PROMISES,
                expect::ONBOARDING_DUE,
                expect::MY_ESCALATIONS,
                expect::UNASSIGNED
            ]
        );
        let team = &v["team"];
        let statuses: Vec<u64> = team["by_status"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["memberships"].as_u64().unwrap())
            .collect();
        assert_eq!(
            statuses,
            [
                expect::NEW,
                expect::CURRENT,
                expect::GRACE,
                expect::EXPIRED,
                expect::PENDING,
                expect::CANCELLED,
                expect::DECEASED
            ]
        );
        let months: Vec<(String, u64, u64, u64, u64, u64)> = team["months"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let n = |k: &str| m[k].as_u64().unwrap();
                (
                    m["month"].as_str().unwrap().to_owned(),
                    n("joiners"),
                    n("leavers"),
                    n("due"),
                    n("renewed_in_grace"),
                    n("won_back"),
                )
            })
            .collect();
        let expected: Vec<(String, u64, u64, u64, u64, u64)> = expect::MONTHS
            .iter()
            .map(|&(m, a, b, c, d, e)| (m.to_owned(), a, b, c, d, e))
            .collect();
        assert_eq!(months, expected);
        assert_eq!(team["months"][11]["renewal_rate"], 0.25);
        assert_eq!(team["months"][0]["renewal_rate"], serde_json::Value::Null);
        assert_eq!(team["won_back"], 2);
        assert_eq!(
            team["by_local_party"],
            serde_json::json!([
                {"region": "Wales", "local_party": "Cardiff", "members": expect::CARDIFF},
                {"region": "Wales", "local_party": "Swansea", "members": expect::SWANSEA},
                {"region": "North", "local_party": "Leeds", "members": expect::LEEDS},
            ])
        );
    }

    fn stats_text_is_the_same_on_both_engines(db: &TestDb) {
        fixture(db);
        let text = run_ok(rollcall(db).arg("stats"));
        assert_eq!(text, STATS_TEXT, "\n{text}");
    }

    fn the_lists_behind_the_counts_are_the_same(db: &TestDb) {
        use rollcall::storage::stats::{self, ListKind, WorkContext};
        fixture(db);
        let store = db.open();
        let work = WorkContext {
            today: stats_fixture::today(),
            user: ME.to_owned(),
            steps: stats::default_onboarding_steps(),
        };
        let mut lines = Vec::new();
        for kind in ListKind::SINCE_IMPORT.into_iter().chain(ListKind::MY_WORK) {
            let (rows, total) = stats::list(&store.conn, kind, &work, 50).unwrap();
            lines.push(format!("{} {total}", kind.label()));
            for r in rows {
                lines.push(format!(
                    "  {:?} {:?} {:?} {} | {} | {} | {}",
                    r.contact_id,
                    r.membership_id,
                    r.escalation_id,
                    r.name,
                    r.what,
                    r.date.unwrap_or_default(),
                    r.detail
                ));
            }
        }
        assert_eq!(lines.join("\n"), LISTS.trim_end(), "\n{}", lines.join("\n"));
    }

    fn a_hand_off_reaches_the_new_owners_my_work_with_who_and_when(db: &TestDb) {
        use rollcall::storage::stats::{self, ListKind, WorkContext};
        use rollcall::storage::{escalations, onboarding};
        fixture(db);
        let mut store = db.open();
        if db.is_postgres() {
            // The fixture gives its rows their ids, as SQLite lets it; move PostgreSQL's
            // identity sequences past them, as an import does.
            store
                .conn
                .execute_batch(
                    "SELECT setval(pg_get_serial_sequence(t, 'id'),
                                   (SELECT COALESCE(max(id), 0) + 1 FROM escalation_events), false)
                     FROM (VALUES ('escalation_events')) AS s(t);
                     SELECT setval(pg_get_serial_sequence('audit_log', 'id'),
                                   (SELECT COALESCE(max(id), 0) + 1 FROM audit_log), false);",
                )
                .unwrap();
        }
        let bob = rollcall::Clock::fixed(stats_fixture::today(), "bob");
        // Bob hands ann an unassigned escalation and an onboarding member.
        escalations::set_assignee(&mut store, &bob, 5, Some(ME)).unwrap();
        onboarding::assign(&mut store, &bob, 12, Some(ME)).unwrap();
        let work = WorkContext {
            today: stats_fixture::today(),
            user: ME.to_owned(),
            steps: stats::default_onboarding_steps(),
        };
        let (rows, total) = stats::list(&store.conn, ListKind::HandedToMe, &work, 50).unwrap();
        let shown: Vec<String> = rows
            .iter()
            .map(|r| format!("{:?} {} | {} | {}", r.escalation_id, r.name, r.what, r.detail))
            .collect();
        assert_eq!(total, 2);
        assert_eq!(
            shown,
            [
                "Some(5)  | Branch bank account | from bob at 09:00",
                "None Nia Roberts | onboarding follow-up | from bob at 09:00",
            ]
        );
        // What ann hands herself, or was handed over a week ago, is not news.
        let (_, total) = stats::list(
            &store.conn,
            ListKind::HandedToMe,
            &WorkContext { today: stats_fixture::today() + chrono::Duration::days(8), ..work },
            50,
        )
        .unwrap();
        assert_eq!(total, 0);
    }

    fn search_finds_the_same_members_in_the_same_order(db: &TestDb) {
        {
            let mut store = db.open();
            search_support::insert(&mut store, &search_support::people(), 1);
        }
        let out = run_ok(rollcall(db).args(["search", "jones", "--json"]));
        let hits: serde_json::Value = serde_json::from_str(&out).unwrap();
        let names: Vec<&str> = hits
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Aled Jones", "Siân Jones", "Tom Jonesworth", "Mair Davies"]);
        assert_eq!(hits[1]["contact_id"], "1001");
        assert_eq!(hits[1]["membership_id"], "M2001");
        assert_eq!(hits[1]["status"], "Current");
        let lukasz = run_ok(rollcall(db).args(["search", "lukasz", "--json", "--limit", "1"]));
        let lukasz: serde_json::Value = serde_json::from_str(&lukasz).unwrap();
        assert_eq!(lukasz[0]["status"], "Grace");
        let table = run_ok(rollcall(db).args(["search", "CF10", "1AA"]));
        assert!(table.starts_with("NAME"), "{table}");
        assert!(table.contains("Siân Jones") && table.contains("Dylan Thomas"), "{table}");
        assert!(table.contains("2 of 2 matches"), "{table}");
    }

    fn export_members_writes_the_same_csv(db: &TestDb) {
        fixture(db);
        let cardiff = run_ok(rollcall(db).args(["export", "members", "--local-party", "cardiff"]));
        assert_eq!(ids(&cardiff), ["111", "101", "109", "102", "112", "114", "113"]);
        let welsh = run_ok(rollcall(db).args([
            "export",
            "members",
            "--local-party",
            "CARDIFF",
            "--welsh",
            "--due-within",
            "30",
        ]));
        assert!(welsh.starts_with('\u{feff}'), "a BOM so Excel reads UTF-8");
        assert_eq!(ids(&welsh), ["101"]);
        assert!(
            welsh.contains(",Youth,2025-12-01,2026-11-30,Current,Current,Cym\r\n"),
            "{welsh}"
        );
        let phone = run_ok(rollcall(db).args([
            "export",
            "members",
            "--region",
            "wales",
            "--membership-type",
            "individual",
            "--for",
            "phone",
        ]));
        assert_eq!(phone, PHONE_LIST, "\n{phone}");
        let json = run_ok(rollcall(db).args([
            "export", "members", "--status", "grace,expired", "--json",
        ]));
        let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
        let found: Vec<(&str, &str)> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["contact_id"].as_str().unwrap(), r["status"].as_str().unwrap()))
            .collect();
        assert_eq!(found, [("104", "Expired"), ("105", "Expired"), ("103", "Grace")]);
    }

    fn export_activities_writes_each_activity_once(db: &TestDb) {
        fixture(db);
        let csv = run_ok(rollcall(db).args(["export", "activities"]));
        assert!(csv.starts_with(ACTIVITIES_HEADER), "{csv}");
        assert_eq!(
            keys(&csv),
            [
                "attempt:7",
                "attempt:4",
                "attempt:5",
                "attempt:3",
                "escalation_event:3",
                "step:12:welcome_email",
                "attempt:8",
                "step:11:welcome_email",
                "attempt:1",
                "attempt:6",
                "attempt:10",
                "attempt:9",
                "attempt:2",
                "escalation_event:2",
                "escalation_event:6",
            ]
        );
        for expected in [
            "115,Print PDF Letter,Renewal contact (Individual): will renew,2026-10-20 14:00:00,\
             Completed,'=1+1 said the letter,ann,attempt:4",
            "112,Follow up,Onboarding: Welcome email sent,2026-11-01 12:00:00,Completed,,bob,\
             step:12:welcome_email",
            "103,Follow up,Escalation #1 comment: Double charged at renewal,2026-11-21 10:00:00,\
             Completed,\"Called, will ring back\",ann,escalation_event:2",
        ] {
            assert!(csv.lines().any(|l| l == expected), "missing {expected}\nin\n{csv}");
        }
        assert_eq!(exported_count(db), 15);
        assert_eq!(
            run_ok(rollcall(db).args(["export", "activities"])),
            format!("{ACTIVITIES_HEADER}\r\n"),
            "nothing new"
        );
        let again = run_ok(rollcall(db).args(["export", "activities", "--since", "2026-11-20"]));
        assert_eq!(keys(&again), ["attempt:2", "escalation_event:2", "escalation_event:6"]);
        db.open()
            .conn
            .execute(
                "INSERT INTO contact_attempts (id, contact_id, membership_id, channel, outcome,
                     attempted_at, staff)
                 VALUES (11, 3, 3, 'phone', 'renewed', '2026-11-23T09:00:00', 'ann')",
                [],
            )
            .unwrap();
        assert_eq!(
            keys(&run_ok(rollcall(db).args(["export", "activities"]))),
            ["attempt:11"]
        );
        assert_eq!(exported_count(db), 16);
        let audited: i64 = db
            .open()
            .conn
            .query_row(
                "SELECT count(*) FROM audit_log WHERE action = 'export_activities'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(audited, 4);
    }
}

/// `rollcall stats` on the fixture (as tests/stats_cli.rs checks it line by line).
const STATS_TEXT: &str = r#"Since the last import (as of 2026-11-23, members-1123.csv)
  Joined                                     1
  Renewed                                    3
    of them after a contact                  2
  Lapsed                                     2
  Vanished from the export                   1

My work (ann, 2026-11-23)
  Renewals to follow up today                2
  "Will renew" promises to check             1
  Onboarding steps due                       4
  My escalations due                         2
  Unassigned escalations                     2
  Handed to me                               0

Memberships by status (as of 2026-11-23)
  New                                        3
  Current                                    9
  Grace                                      1
  Expired                                    2
  Pending                                    1
  Cancelled                                  1
  Deceased                                   1

Members: 12 people holding 13 memberships that count

Month    Joined   Left    Due  Renewed in grace   Rate  Won back
2025-12       2      0      1                 0      —         0
2026-01       0      0      0                 0      —         0
2026-02       0      1      0                 0      —         0
2026-03       0      0      0                 0      —         0
2026-04       0      0      0                 0      —         0
2026-05       0      0      0                 0      —         0
2026-06       0      0      0                 0      —         0
2026-07       0      0      0                 0      —         0
2026-08       0      0      0                 0      —         0
2026-09       0      0      2                 0     0%         0
2026-10       2      1      2                 2   100%*        0
2026-11       2      0      4                 1    25%*        2
* provisional: the month's grace period has not ended yet
Lapsed members won back after a contact, last 12 months: 2

Members by region
  Wales                                     10
  North                                      2

Members by local party
  Wales / Cardiff                            7
  Wales / Swansea                            3
  North / Leeds                              2
"#;

/// Each list behind a count on the Today pane: total, then the rows.
const LISTS: &str = r#"Joined 1
  Some(8) Some(8) None Erin Black | Individual | 2026-11-20 | Leeds
Renewed 3
  Some(17) Some(18) None Grace Hall | Individual | 2027-09-15 | was 2026-09-15
  Some(18) Some(19) None Harry King | Individual | 2027-11-30 | was 2026-11-30
  Some(16) Some(17) None Ieuan Walters | Individual | 2027-10-31 | was 2026-10-31
Lapsed 2
  Some(5) Some(5) None Bob Green | Individual | 2025-12-31 | CRM status Expired
  Some(3) Some(3) None Gareth Jones | Individual | 2026-11-10 | CRM status Current
Vanished from the export 1
  Some(10) Some(11) None Frank Grey | Individual | 2027-11-04 | CRM status Current
Renewals to follow up today 2
  Some(3) Some(3) None Gareth Jones | Individual | 2026-11-20 | snoozed by bob
  Some(1) Some(10) None Siân Evans | Youth | 2026-11-23 | snoozed by ann
"Will renew" promises to check 1
  Some(1) Some(1) None Siân Evans | Individual | 2026-11-10 | phone · logged by ann
Onboarding steps due 4
  Some(11) None None Owain Davies | Welcome call made | 2026-11-08 | Cardiff
  Some(11) None None Owain Davies | Linked to local party / branch | 2026-11-15 | Cardiff
  Some(11) None None Owain Davies | Invited to induction | 2026-11-22 | Cardiff
  Some(2) None None Rhys Morgan | Welcome email sent | 2026-11-23 | Cardiff
My escalations due 2
  Some(3) None Some(1) Gareth Jones | Double charged at renewal | 2026-11-20 | high · open
  Some(4) None Some(2) Alice Brown | Direct debit failed | 2026-11-23 | normal · in progress
Unassigned escalations 2
  Some(1) None Some(6) Siân Evans | Wants to change branch | 2026-11-23 | urgent · waiting on member
  None None Some(5)  | Branch bank account | 2026-12-03 | normal · open
Handed to me 0
"#;

/// A call list of Welsh Individual members: no addresses, nobody who asked not to be phoned.
const PHONE_LIST: &str = concat!(
    "\u{feff}Contact ID,Display Name,First Name,Last Name,Phone,Preferred Language,Region,Local Party,Membership Type,Member Since,Membership Expiration Date,Status (rollcall),Membership Status (CRM),Flags\r\n",
    "111,Owain Davies,,,029 2000 0011,en_GB,Wales,Cardiff,Individual,2026-11-01,2027-10-31,New,New,NoMail\r\n",
    "101,Siân Evans,,,029 2000 0001,cy_GB,Wales,Cardiff,Individual,2020-01-15,2027-01-14,Current,Current,Cym\r\n",
    "103,Gareth Jones,,,01792 000003,en_GB,Wales,Swansea,Individual,2019-05-01,2026-11-10,Grace,Current,\r\n",
    "115,Ffion Lewis,,,01792 000015,cy_GB,Wales,Swansea,Individual,2015-10-15,2027-10-14,Current,Current,Cym\r\n",
    "112,Nia Roberts,,,029 2000 0012,cy_GB,Wales,Cardiff,Individual,2026-10-31,2027-10-30,New,New,Bounce Cym\r\n",
    "114,Huw Thomas,,,029 2000 0014,en_GB,Wales,Cardiff,Individual,2025-11-30,2026-11-29,Current,Current,\r\n",
    "116,Ieuan Walters,,,01792 000016,en_GB,Wales,Swansea,Individual,2015-11-01,2027-10-31,Current,Current,\r\n",
    "113,\"'=HYPERLINK(\"\"x\"\")\",,,'-1,en_GB,Wales,Cardiff,Individual,2025-12-31,2026-12-30,Current,Current,\r\n",
);
