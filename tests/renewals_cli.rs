//! `rollcall renewals`: JSON, CSV call lists and mail-merges, preferences, formula safety.

mod renewals_support;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use renewals_support::*;
use rollcall::domain::renewal::{Channel, Outcome};
use rollcall::storage::renewals::{self, NewAttempt};
use rollcall::storage::{OpenMode, Store};

struct Fixture {
    dir: tempfile::TempDir,
    db: PathBuf,
}

impl Fixture {
    fn new(fill: impl FnOnce(&mut Store)) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rollcall.db");
        let mut store = Store::open(&db, OpenMode::ReadWrite).unwrap();
        fill(&mut store);
        // Close cleanly so the WAL is folded back and the file alone holds everything.
        store
            .conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
        Fixture { dir, db }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("rollcall").unwrap();
        for var in [
            "ROLLCALL_DB",
            "ROLLCALL_TODAY",
            "ROLLCALL_USER",
            "ROLLCALL_READ_ONLY",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .arg("--db")
            .arg(&self.db)
            .args(["--today", "2026-11-23", "--user", "ann", "renewals"])
            .args(args);
        cmd
    }

    fn stdout(&self, args: &[&str]) -> String {
        let out = self
            .cmd(args)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(out).unwrap()
    }

    fn csv(&self, args: &[&str]) -> Vec<Vec<String>> {
        let text = self.stdout(args);
        let text = text.strip_prefix('\u{feff}').expect("a byte-order mark");
        assert!(text.ends_with("\r\n"));
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect()
    }
}

fn column(rows: &[Vec<String>], name: &str) -> Vec<String> {
    let i = rows[0]
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no {name}"));
    rows[1..].iter().map(|r| r[i].clone()).collect()
}

fn people(store: &mut Store) {
    let c = &store.conn;
    insert(c, &member("Alys Jones", "2026-11-25").welsh());
    insert(c, &member("No Phone", "2026-11-26").no_phone());
    insert(c, &member("No Email", "2026-11-27").no_email());
    insert(c, &member("Bouncing Email", "2026-11-28").bouncing());
    insert(c, &member("No Bulk", "2026-11-29").no_bulk());
    insert(c, &member("No Mail", "2026-11-30").no_mail());
    insert(c, &member("No SMS", "2026-12-01").no_sms());
    insert(c, &member("Blank Phone", "2026-12-02").phone(""));
    insert(c, &member("Blank Email", "2026-12-03").email(""));
    insert(c, &member("Blank Address", "2026-12-04").street(""));
    insert(c, &member("Dead Person", "2026-12-05").deceased());
    insert(c, &member("Dead Status", "2026-12-06").status("Deceased"));
    let lapsed = insert(
        c,
        &member("Lapsed Member", "2026-11-01").place("Bristol West", "South West"),
    );
    insert(c, &member("Auto Renewer", "2026-12-07").auto_renew());
    let asked = insert(c, &member("Asked Not", "2026-12-08"));
    let clk = clock("2026-11-20");
    let phoned = NewAttempt {
        channel: Channel::Phone,
        outcome: Outcome::NoAnswer,
        note: String::new(),
    };
    renewals::log_attempts(store, &clk, &[lapsed], &phoned).unwrap();
    let stop = NewAttempt {
        channel: Channel::Phone,
        outcome: Outcome::DoNotContact,
        note: String::new(),
    };
    renewals::log_attempts(store, &clk, &[asked], &stop).unwrap();
}

#[test]
fn json_lists_the_queue_in_urgency_order() {
    let f = Fixture::new(people);
    let out = f.stdout(&["--json"]);
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = rows.as_array().unwrap();
    // Lapsed on 1 November is in grace, so first; then due soonest first.
    let first = &rows[0];
    assert_eq!(first["name"], "Lapsed Member");
    assert_eq!(first["bucket"], "lapsed");
    assert_eq!(first["days"], -22);
    assert_eq!(first["end_date"], "2026-11-01");
    assert_eq!(first["contact_id"], "1013");
    assert_eq!(first["membership_id"], "5013");
    assert_eq!(
        first["last_contact"],
        serde_json::json!({"at": "2026-11-20T09:00:00", "channel": "phone", "outcome": "no_answer", "staff": "ann"})
    );
    assert_eq!(rows[1]["name"], "Alys Jones");
    assert_eq!(rows[1]["bucket"], "due");
    assert_eq!(rows[1]["days"], 2);
    assert_eq!(rows[1]["last_contact"], serde_json::Value::Null);
    let keys: Vec<&String> = rows[1].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 9, "{keys:?}");
    assert_eq!(rows[1]["payment_pending"], false);
    assert_eq!(rows[1]["payment_failed"], false);
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    for absent in ["Dead Person", "Dead Status", "Auto Renewer", "Asked Not"] {
        assert!(!names.contains(&absent), "{absent} listed");
    }
    assert_eq!(names.len(), 11);
}

#[test]
fn the_default_output_is_a_table_and_a_summary() {
    let f = Fixture::new(people);
    f.cmd(&[])
        .assert()
        .success()
        .stdout(predicate::str::contains("BUCKET"))
        .stdout(predicate::str::contains("Lapsed Member"))
        .stdout(predicate::str::contains("22 days ago"))
        .stderr(predicate::str::contains(
            "11 listed (10 due, 1 lapsed); not listed: 1 snoozed or settled (--include-set-aside), 1 auto-renewing (--include-auto-renew)",
        ));
    let all = f.stdout(&["--json", "--include-set-aside", "--include-auto-renew"]);
    assert!(all.contains("Auto Renewer") && all.contains("Asked Not"));
    assert!(!all.contains("Dead"));
}

#[test]
fn call_list_leaves_out_do_not_phone_and_no_number() {
    let f = Fixture::new(people);
    let rows = f.csv(&["--csv", "--for", "phone"]);
    assert_eq!(
        rows[0],
        [
            "Contact ID",
            "Name",
            "Phone",
            "Welsh",
            "Membership Type",
            "Local Party",
            "End Date",
            "Days",
            "Bucket",
            "Last Contact",
            "Payment"
        ]
    );
    let names = column(&rows, "Name");
    assert!(!names.contains(&"No Phone".to_owned()));
    assert!(!names.contains(&"Blank Phone".to_owned()));
    assert!(names.contains(&"No Email".to_owned()) && names.contains(&"No SMS".to_owned()));
    assert_eq!(names.len(), 9);
    assert_eq!(column(&rows, "Welsh")[1], "yes");
    assert_eq!(
        column(&rows, "Last Contact")[0],
        "2026-11-20 phone, no answer (ann)"
    );
    assert_eq!(column(&rows, "Days")[0], "22 days ago");
    f.cmd(&["--csv", "--for", "phone"])
        .assert()
        .stderr(predicate::str::contains(
            "left out: 1 Do Not Phone, 1 no phone number",
        ));
}

#[test]
fn email_list_leaves_out_do_not_email_bouncing_and_no_bulk() {
    let f = Fixture::new(people);
    let rows = f.csv(&["--csv", "--for", "email"]);
    assert_eq!(
        rows[0],
        [
            "Contact ID",
            "Name",
            "First Name",
            "Email",
            "Welsh",
            "Membership Type",
            "End Date",
            "Bucket",
            "Payment"
        ]
    );
    let names = column(&rows, "Name");
    for absent in ["No Email", "Bouncing Email", "No Bulk", "Blank Email"] {
        assert!(!names.contains(&absent.to_owned()), "{absent}");
    }
    assert!(names.contains(&"No Phone".to_owned()));
    assert_eq!(names.len(), 7);
    assert_eq!(column(&rows, "Email")[1], "alys.jones@example.org");
}

#[test]
fn letter_list_leaves_out_do_not_mail_and_no_address() {
    let f = Fixture::new(people);
    let rows = f.csv(&["--csv", "--for", "letter"]);
    assert_eq!(
        rows[0],
        [
            "Contact ID",
            "Name",
            "First Name",
            "Street Address",
            "City",
            "County",
            "Postcode",
            "Country",
            "Welsh",
            "Membership Type",
            "End Date",
            "Bucket",
            "Payment"
        ]
    );
    let names = column(&rows, "Name");
    assert!(!names.contains(&"No Mail".to_owned()));
    assert!(!names.contains(&"Blank Address".to_owned()));
    assert_eq!(names.len(), 9);
    assert_eq!(column(&rows, "Postcode")[0], "CF5 1AA");
}

#[test]
fn json_for_a_channel_applies_the_same_preferences() {
    let f = Fixture::new(people);
    let out = f.stdout(&["--json", "--for", "phone"]);
    assert!(!out.contains("No Phone"));
    assert!(out.contains("No Email"));
}

#[test]
fn no_cell_can_run_as_a_formula() {
    let f = Fixture::new(|store| {
        let c = &store.conn;
        insert(
            c,
            &member(
                "=HYPERLINK(\"http://evil.example\",\"click\")",
                "2026-11-25",
            )
            .phone("+44 29 2000 0000"),
        );
        let mut m = member("@SUM(A1:A9)", "2026-11-26").email("-1@example.org");
        m.first_name = "-1".into();
        insert(c, &m);
        insert(
            c,
            &member("\tTabbed", "2026-11-27")
                .street("=cmd|' /C calc'!A0")
                .place("+Local", "-Region"),
        );
    });
    let mut cells: Vec<String> = Vec::new();
    for args in [
        &["--csv"][..],
        &["--csv", "--for", "phone"],
        &["--csv", "--for", "email"],
        &["--csv", "--for", "letter"],
    ] {
        for row in f.csv(args) {
            cells.extend(row);
        }
    }
    for cell in &cells {
        let first = cell.trim_start_matches(' ').chars().next();
        assert!(
            !matches!(first, Some('=' | '+' | '-' | '@' | '\t' | '\r')),
            "unsafe cell {cell:?}"
        );
    }
    for want in [
        "'=HYPERLINK(\"http://evil.example\",\"click\")",
        "'+44 29 2000 0000",
        "'@SUM(A1:A9)",
        "'-1",
        "'-1@example.org",
        "'\tTabbed",
        "'=cmd|' /C calc'!A0",
        "'+Local",
        "'-Region",
    ] {
        assert!(cells.iter().any(|c| c == want), "no {want:?} in {cells:?}");
    }
}

#[test]
fn windows_and_filters_from_arguments_and_config() {
    let f = Fixture::new(|store| {
        let c = &store.conn;
        insert(c, &member("Due Soon", "2026-11-30"));
        insert(c, &member("Due Later", "2026-12-20"));
        insert(
            c,
            &member("Lapsed Long Ago", "2026-09-01").place("Bristol West", "South West"),
        );
    });
    let names = |args: &[&str]| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(&f.stdout(args)).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(&["--json", "--due-within", "7", "--lapsed-within", "0"]),
        vec!["Due Soon"]
    );
    assert_eq!(
        names(&["--json", "--region", "south west"]),
        vec!["Lapsed Long Ago"]
    );
    assert_eq!(
        names(&["--json", "--local-party", "Cardiff West", "--bucket", "due"]),
        vec!["Due Soon", "Due Later"]
    );
    assert!(names(&["--json", "--region", "Nowhere"]).is_empty());

    let config = f.dir.path().join("config/rollcall");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.toml"),
        "[renewals]\ndue_within_days = 10\nlapsed_within_days = 30\n",
    )
    .unwrap();
    assert_eq!(names(&["--json"]), vec!["Due Soon"]);
    std::fs::write(config.join("config.toml"), "[renewals]\ndue_days = 10\n").unwrap();
    f.cmd(&["--json"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("due_days"));
}

#[test]
fn bad_arguments_say_what_is_accepted() {
    let f = Fixture::new(|_| {});
    f.cmd(&["--due-within", "-3"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--due-within"));
    f.cmd(&["--lapsed-within", "soon"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("not a whole number of days"));
    f.cmd(&["--json", "--csv"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("cannot be used with"));
    f.cmd(&["--for", "fax"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("phone, email, letter"));
}

fn digest(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn listing_never_writes_to_the_database() {
    let f = Fixture::new(people);
    let before = digest(&f.db);
    f.stdout(&["--csv", "--for", "phone"]);
    f.cmd(&["--json"]).arg("--read-only").assert().success();
    assert_eq!(digest(&f.db), before);
    // A missing database is an error, not a new empty file.
    let mut cmd = f.cmd(&[]);
    cmd.arg("--db").arg(f.dir.path().join("absent.db"));
    cmd.assert()
        .failure()
        .stderr(predicate::str::contains("no database here"));
    assert!(!f.dir.path().join("absent.db").exists());
}

#[cfg(unix)]
#[test]
fn output_file_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new(people);
    let out = f.dir.path().join("calls.csv");
    f.cmd(&["--csv", "--for", "phone", "--output"])
        .arg(&out)
        .assert()
        .success()
        .stdout("");
    let mode = std::fs::metadata(&out).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("Alys Jones")
    );
}

#[test]
fn a_renewal_awaiting_payment_is_listed_and_labelled() {
    let f = Fixture::new(|store: &mut Store| {
        insert(
            &store.conn,
            &member("Pending Payer", "2026-11-26").status("Pending"),
        );
    });
    let rows: serde_json::Value = serde_json::from_str(&f.stdout(&["--json"])).unwrap();
    assert_eq!(rows[0]["name"], "Pending Payer");
    assert_eq!(rows[0]["payment_pending"], true);
    let table = f.stdout(&[]);
    assert!(table.contains("[payment pending]"), "{table}");
}

fn failed_payments(store: &mut Store) {
    let c = &store.conn;
    insert(c, &member("Lapsed Plain", "2026-11-10"));
    insert(c, &member("Lapsed Auto", "2026-11-20").auto_renew());
    insert(c, &member("Due Auto", "2026-12-01").auto_renew());
    insert(c, &member("Due Plain", "2026-12-02"));
}

#[test]
fn a_lapsed_auto_renewer_is_listed_first_as_a_failed_payment() {
    let f = Fixture::new(failed_payments);
    let rows: serde_json::Value = serde_json::from_str(&f.stdout(&["--json"])).unwrap();
    let rows = rows.as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Lapsed Auto", "Lapsed Plain", "Due Plain"]);
    assert_eq!(rows[0]["bucket"], "lapsed");
    assert_eq!(rows[0]["payment_failed"], true);
    assert_eq!(rows[1]["payment_failed"], false);

    let out = f.cmd(&[]).assert().success();
    let table = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let line = table.lines().find(|l| l.contains("Lapsed Auto")).unwrap();
    assert!(line.contains("[payment failed?]"), "{table}");
    let summary = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(summary.contains("1 payment failed?"), "{summary}");
    assert!(
        summary.contains("1 auto-renewing (--include-auto-renew)"),
        "{summary}"
    );

    let calls = f.csv(&["--csv", "--for", "phone"]);
    assert_eq!(column(&calls, "Name")[0], "Lapsed Auto");
    assert_eq!(column(&calls, "Payment")[0], "payment failed?");
    assert_eq!(column(&calls, "Payment")[1], "");
}

#[test]
fn call_list_leaves_out_a_wrong_number_and_says_how_many() {
    let f = Fixture::new(|store| {
        let c = &store.conn;
        insert(c, &member("Right Number", "2026-11-25"));
        let wrong = insert(c, &member("Wrong Number", "2026-11-26"));
        let letter_wrong = insert(c, &member("Moved House", "2026-11-27"));
        let clk = clock("2026-11-20");
        let attempt = |channel, outcome| NewAttempt {
            channel,
            outcome,
            note: String::new(),
        };
        let phoned = attempt(Channel::Phone, Outcome::WrongNumber);
        renewals::log_attempts(store, &clk, &[wrong], &phoned).unwrap();
        // A wrong address on a letter says nothing about the phone number.
        let wrote = attempt(Channel::Letter, Outcome::WrongNumber);
        renewals::log_attempts(store, &clk, &[letter_wrong], &wrote).unwrap();
    });
    let rows = f.csv(&["--csv", "--for", "phone"]);
    let names = column(&rows, "Name");
    assert_eq!(names, ["Right Number", "Moved House"]);
    f.cmd(&["--csv", "--for", "phone"])
        .assert()
        .stderr(predicate::str::contains(
            "left out: 1 wrong number at the last call",
        ));
}
