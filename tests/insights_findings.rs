//! `rollcall drift`, `rollcall duplicates` and `rollcall stats --cohorts` on both engines from
//! one body, on an export written here whose drift, duplicates and cohorts are known row by row.

#[path = "support/pg_cluster.rs"]
mod pg_cluster;

#[path = "support/engines.rs"]
mod engines;

use std::collections::BTreeMap;

use assert_cmd::Command;
use engines::TestDb;
use serde_json::{Value, json};

const TODAY: &str = "2026-11-23";

const HEADER: &str = "\"Contact ID\",\"Contact Type\",\"Sort Name\",\"Display Name\",\
\"First Name\",\"Last Name\",\"Organization Name\",\"Do Not Email\",\"Do Not Phone\",\
\"Do Not Mail\",\"Do Not Sms\",\"No Bulk Emails (User Opt Out)\",\"Preferred Language\",\
\"Deceased\",\"Deceased Date\",\"Street Address\",\"Supplemental Address 1\",\"City\",\
\"Postal Code\",\"State\",\"Country\",\"Phone\",\"Email\",\"On Hold\",\"Membership Type\",\
\"Member Since\",\"Membership Start Date\",\"Membership Expiration Date\",\"Membership Source\",\
\"Membership Status\",\"Membership ID\",\"Membership Recurring Contribution\",\"Local Party\",\
\"Region\",\"Constituency\"";

/// One export row.
struct Row<'a> {
    contact: u32,
    first: &'a str,
    last: &'a str,
    email: String,
    phone: String,
    street: String,
    postcode: String,
    deceased: bool,
    kind: &'a str,
    join: &'a str,
    start: &'a str,
    end: &'a str,
    status: &'a str,
    membership: u32,
    region: &'a str,
}

impl Row<'_> {
    fn line(&self) -> String {
        let cells = [
            self.contact.to_string(),
            "Individual".into(),
            format!("{}, {}", self.last, self.first),
            format!("{} {}", self.first, self.last),
            self.first.into(),
            self.last.into(),
            String::new(),
            "0".into(),
            "0".into(),
            "0".into(),
            "0".into(),
            "0".into(),
            "en_GB".into(),
            if self.deceased { "1" } else { "0" }.into(),
            String::new(),
            self.street.clone(),
            String::new(),
            "Cardiff".into(),
            self.postcode.clone(),
            String::new(),
            "United Kingdom".into(),
            self.phone.clone(),
            self.email.clone(),
            "0".into(),
            self.kind.into(),
            self.join.into(),
            self.start.into(),
            self.end.into(),
            "Online".into(),
            self.status.into(),
            self.membership.to_string(),
            String::new(),
            format!("{} Central", self.region),
            self.region.into(),
            String::new(),
        ];
        cells
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A member with nothing in common with anyone else.
fn alone<'a>(contact: u32, status: &'a str, dates: [&'a str; 3]) -> Row<'a> {
    Row {
        contact,
        first: "Person",
        last: "Alone",
        email: format!("p{contact}@example.org"),
        phone: format!("01632 960{contact}"),
        street: format!("{contact} Test Street"),
        postcode: format!("M{contact} 1AA"),
        deceased: false,
        kind: "Individual",
        join: dates[0],
        start: dates[1],
        end: dates[2],
        status,
        membership: contact * 10,
        region: "Wales",
    }
}

const IN_DATE: [&str; 3] = ["2026-06-01", "2026-06-01", "2027-05-31"];

fn export() -> String {
    let mut rows = vec![
        // Drift, one of each kind, and two that agree.
        alone(301, "Current", ["2026-06-01", "2025-11-01", "2026-10-31"]),
        alone(302, "Current", ["2026-06-01", "2025-04-01", "2026-03-31"]),
        alone(303, "Grace", ["2026-06-01", "2025-10-01", "2026-09-30"]),
        alone(304, "Expired", ["2026-06-01", "2026-10-01", "2027-09-30"]),
        Row {
            deceased: true,
            ..alone(305, "Current", IN_DATE)
        },
        alone(306, "New", IN_DATE),
        alone(307, "Current", IN_DATE),
        alone(308, "Grace", ["2026-06-01", "2025-11-11", "2026-11-10"]),
    ];
    // Duplicates: 401 and 402 share an email (in another case) and a folded name and
    // postcode; 403 is a letter off both at their address; 404 has 401's phone, written
    // internationally.
    let address = |contact, first, email: &str, phone: &str| Row {
        first,
        last: "Jones",
        email: email.into(),
        phone: phone.into(),
        street: "1 Heol y Dderwen".into(),
        postcode: "CF10 1AA".into(),
        ..alone(contact, "Current", IN_DATE)
    };
    rows.push(address(401, "Siân", "sian.dup@example.org", "07700 900401"));
    rows.push(address(402, "Sian", "SIAN.DUP@example.org", ""));
    rows.push(address(403, "Sion", "sion@example.org", ""));
    rows.push(Row {
        first: "Bob",
        last: "Smith",
        phone: "+44 7700 900401".into(),
        ..alone(404, "Current", IN_DATE)
    });
    // Overlapping memberships: two Individual terms of 501 overlap; its Youth one is another
    // type.
    for (membership, kind, dates) in [
        (
            5011,
            "Individual",
            ["2026-01-01", "2026-01-01", "2026-12-31"],
        ),
        (5012, "Individual", IN_DATE),
        (5013, "Youth", IN_DATE),
    ] {
        rows.push(Row {
            membership,
            kind,
            ..alone(501, "Current", dates)
        });
    }
    // A 2023 cohort in its own region: renewed twice then lapsed; never renewed; lifetime.
    for (contact, kind, status, dates) in [
        (
            601,
            "Individual",
            "Expired",
            ["2023-03-01", "2025-03-01", "2026-02-28"],
        ),
        (
            602,
            "Individual",
            "Expired",
            ["2023-06-01", "2023-06-01", "2024-05-31"],
        ),
        (603, "Lifetime", "Current", ["2023-12-01", "2023-12-01", ""]),
    ] {
        rows.push(Row {
            kind,
            region: "Cohortshire",
            ..alone(contact, status, dates)
        });
    }
    let mut text = format!("\u{feff}{HEADER}\r\n");
    for row in &rows {
        text.push_str(&row.line());
        text.push_str("\r\n");
    }
    text
}

fn rollcall(db: &TestDb) -> Command {
    let mut cmd = Command::cargo_bin("rollcall").unwrap();
    for var in [
        "ROLLCALL_DB",
        "ROLLCALL_TODAY",
        "ROLLCALL_USER",
        "ROLLCALL_READ_ONLY",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("XDG_DATA_HOME", db.scratch().join("xdg-data"))
        .env("XDG_CONFIG_HOME", db.scratch().join("xdg-config"))
        .env_remove("PGPASSWORD")
        .args(["--db", &db.url(), "--today", TODAY, "--user", "alice"]);
    cmd
}

fn ok(db: &TestDb, args: &[&str]) -> String {
    let out = rollcall(db).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn imported(db: &TestDb) {
    let file = db.scratch().join("export.csv");
    std::fs::write(&file, export()).unwrap();
    let report = ok(db, &["import", "--json", file.to_str().unwrap()]);
    assert!(report.contains("\"rejected\": 0"), "{report}");
}

fn json(db: &TestDb, args: &[&str]) -> Value {
    serde_json::from_str(&ok(db, args)).unwrap()
}

engines::on_both_engines! {
    fn drift_lists_each_kind_of_disagreement_and_nothing_else(db: &TestDb) {
        imported(db);
        let found = json(db, &["drift", "--json"]);
        let kinds: BTreeMap<String, String> = found
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["crm_contact_id"].as_str().unwrap().to_owned(),
                    d["kind"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let expected: BTreeMap<String, String> = [
            ("301", "current-past-end"),
            ("302", "forgotten-override"),
            ("303", "grace-beyond-its-month"),
            ("304", "lapsed-but-in-date"),
            ("305", "deceased-not-marked"),
            ("306", "new-too-long"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(kinds, expected);
        assert_eq!(found[0]["kind"], "deceased-not-marked", "most costly first");
        assert_eq!(found.as_array().unwrap().iter().find(|d| d["crm_contact_id"] == "301")
            .unwrap()["status_by_dates"], "Grace");
        let text = ok(db, &["drift"]);
        assert!(text.contains("current-past-end (1): New or Current in the CRM past the end date"), "{text}");
        assert!(text.contains("6 membership(s) drifted."), "{text}");
        let out = db.scratch().join("drift.csv");
        ok(db, &["drift", "--csv", "-o", out.to_str().unwrap()]);
        let csv = std::fs::read_to_string(&out).unwrap();
        assert!(csv.starts_with("\u{feff}Kind,Membership ID,Contact ID,"), "{csv}");
        assert_eq!(csv.lines().count(), 7);
        assert!(csv.contains("forgotten-override,3020,302,Person Alone,Individual,Current,Expired,2025-04-01,2026-03-31,Wales"), "{csv}");
    }

    fn duplicates_pairs_each_with_why_and_the_overlapping_memberships(db: &TestDb) {
        imported(db);
        let found = json(db, &["duplicates", "--json"]);
        let pairs: Vec<Value> = found["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| json!([p["first"]["crm_contact_id"], p["second"]["crm_contact_id"],
                            p["confidence"], p["reasons"]]))
            .collect();
        assert_eq!(
            pairs,
            vec![
                json!(["401", "402", 0.98, ["same-email", "same-name-and-postcode"]]),
                json!(["401", "403", 0.7, ["name-one-letter-off-at-same-address"]]),
                json!(["402", "403", 0.7, ["name-one-letter-off-at-same-address"]]),
                json!(["401", "404", 0.5, ["same-phone"]]),
            ]
        );
        assert_eq!(
            found["overlapping_memberships"],
            json!([{
                "source": "civicrm",
                "crm_contact_id": "501",
                "name": "Person Alone",
                "membership_type": "Individual",
                "first_membership_id": "5011",
                "second_membership_id": "5012",
            }])
        );
        let out = db.scratch().join("merge.csv");
        ok(db, &["duplicates", "--csv", "-o", out.to_str().unwrap()]);
        let csv = std::fs::read_to_string(&out).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "\u{feff}Contact ID 1,Contact ID 2,Confidence,Reasons,Display Name 1,Display Name 2,Source");
        assert_eq!(lines[1], "401,402,0.98,same email; same name and postcode,Siân Jones,Sian Jones,civicrm");
        assert_eq!(lines.len(), 5);
    }

    fn cohorts_count_each_anniversary_and_renewal_by_region(db: &TestDb) {
        imported(db);
        let report = json(db, &["stats", "--cohorts", "--json"]);
        assert_eq!(
            report["cohorts"],
            json!([
                {"cohort": "2023", "joined": 3, "reached": [3, 3, 2], "retained": [2, 2, 0]},
                {"cohort": "2026", "joined": 15, "reached": [], "retained": []},
            ])
        );
        let rates = report["renewal_rates"].as_array().unwrap();
        let cohortshire = rates.iter().find(|r| r["group"] == "Cohortshire").unwrap();
        assert_eq!(
            (&cohortshire["first_year_due"], &cohortshire["first_year_renewed"],
             &cohortshire["later_due"], &cohortshire["later_renewed"]),
            (&json!(3), &json!(2), &json!(3), &json!(2))
        );
        assert_eq!(rates[0]["group"], "");
        assert_eq!(rates[0]["first_year_due"], 3);
        let months = json(db, &["stats", "--cohorts", "--by", "join-month", "--json"]);
        let names: Vec<&str> = months["cohorts"].as_array().unwrap().iter()
            .map(|c| c["cohort"].as_str().unwrap()).collect();
        assert_eq!(names, ["2023-03", "2023-06", "2023-12", "2026-01", "2026-06"]);
        let text = ok(db, &["stats", "--cohorts", "--split", "local-party"]);
        assert!(text.contains("Cohortshire Central"), "{text}");
        assert!(text.contains("67% (2/3)"), "{text}");
    }
}

#[test]
fn bad_arguments_are_refused_in_words() {
    let db = TestDb::sqlite();
    for (args, says) in [
        (
            &["stats", "--cohorts", "--by", "join-week"][..],
            "invalid value 'join-week'",
        ),
        (&["stats", "--by", "join-month"][..], "--cohorts"),
        (&["drift", "-o", "x.csv"][..], "-o writes --csv or --json"),
        (
            &["duplicates", "--json", "--csv"][..],
            "cannot be used with",
        ),
    ] {
        let out = rollcall(&db).args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
