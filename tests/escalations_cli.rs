//! `rollcall escalate` and `rollcall escalations` from the outside.

mod escalations_support;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use escalations_support::*;
use predicates::prelude::*;
use rollcall::domain::escalation::{Category, Priority};
use rollcall::storage::escalations;
use rollcall::storage::{OpenMode, Store};
use serde_json::Value;

struct Fixture {
    dir: tempfile::TempDir,
    db: PathBuf,
}

/// A database with three contacts: CRM id 101 in civicrm, 102 in civicrm and in nationbuilder.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcall.db");
    let store = Store::open(&db, OpenMode::ReadWrite).unwrap();
    add_contact(&store.conn, "civicrm", "101", "Ada Lovelace");
    add_contact(&store.conn, "civicrm", "102", "Ben Okafor");
    add_contact(&store.conn, "nationbuilder", "102", "Bea Other");
    Fixture { dir, db }
}

impl Fixture {
    fn cmd(&self, user: &str, today: &str) -> Command {
        let mut cmd = Command::cargo_bin("rollcall").unwrap();
        cmd.env_clear()
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .args(["--db", path(&self.db), "--user", user, "--today", today]);
        cmd
    }

    fn escalate(&self, args: &[&str]) -> i64 {
        let out = self
            .cmd("ann", "2026-11-20")
            .arg("escalate")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    fn list_json(&self, user: &str, today: &str, flags: &[&str]) -> Vec<Value> {
        let out = self
            .cmd(user, today)
            .arg("escalations")
            .args(flags)
            .arg("--json")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }

    fn escalation_count(&self) -> i64 {
        let store = Store::open(&self.db, OpenMode::ReadOnly).unwrap();
        count(&store.conn, "escalations")
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn escalate_prints_the_id_and_the_list_shows_it_as_json() {
    let f = fixture();
    let id = f.escalate(&[
        "--contact",
        "101",
        "--category",
        "renewal-payment",
        "--priority",
        "High",
        "--title",
        "Double charged",
        "--description",
        "Paid twice",
        "--assign",
        "bob",
    ]);
    let list = f.list_json("ann", "2026-11-26", &[]);
    assert_eq!(
        list,
        vec![serde_json::json!({
            "id": id,
            "contact_id": "101",
            "title": "Double charged",
            "category": "renewal_payment",
            "priority": "high",
            "status": "open",
            "assignee": "bob",
            "opened": "2026-11-20",
            "due": "2026-11-25",
            "overdue": true,
        })]
    );
    let store = Store::open(&f.db, OpenMode::ReadOnly).unwrap();
    let detail = escalations::detail(&store.conn, id).unwrap().unwrap();
    assert_eq!(detail.description, "Paid twice");
    assert_eq!(detail.opened_by, "ann", "--user is recorded");
}

#[test]
fn the_views_select_what_the_flags_say() {
    let f = fixture();
    let mine = f.escalate(&[
        "--contact",
        "101",
        "--category",
        "complaint",
        "--priority",
        "urgent",
        "--title",
        "Mine",
        "--assign",
        "carol",
    ]);
    let nobodys = f.escalate(&[
        "--contact",
        "101",
        "--category",
        "other",
        "--priority",
        "low",
        "--title",
        "Nobody's",
    ]);
    let resolved = f.escalate(&[
        "--contact",
        "101",
        "--category",
        "other",
        "--priority",
        "normal",
        "--title",
        "Done",
    ]);
    let mut store = Store::open(&f.db, OpenMode::ReadWrite).unwrap();
    escalations::resolve(&mut store, &clock("2026-11-21", "ann"), resolved, "ok").unwrap();
    drop(store);

    let ids = |flags: &[&str]| -> Vec<i64> {
        f.list_json("carol", "2026-11-24", flags)
            .iter()
            .map(|v| v["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(ids(&[]), [mine, nobodys], "default: all unresolved");
    assert_eq!(ids(&["--mine"]), [mine], "--user carol");
    assert_eq!(ids(&["--unassigned"]), [nobodys]);
    assert_eq!(
        ids(&["--overdue"]),
        [mine],
        "urgent from Friday was due Monday"
    );
    assert_eq!(ids(&["--all"]), [mine, resolved, nobodys], "by due date");

    f.cmd("carol", "2026-11-24")
        .args(["escalations", "--mine", "--overdue"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be used with"));
}

#[test]
fn the_human_table_lists_each_case_and_counts_the_late_ones() {
    let f = fixture();
    f.escalate(&[
        "--contact",
        "101",
        "--category",
        "safeguarding",
        "--priority",
        "urgent",
        "--title",
        "Concern raised at branch meeting",
    ]);
    f.escalate(&[
        "--contact",
        "102",
        "--source",
        "nationbuilder",
        "--category",
        "complaint",
        "--priority",
        "low",
        "--title",
        "Leaflet error",
    ]);
    let out = f
        .cmd("ann", "2026-11-24")
        .arg("escalations")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "ID  DUE         LATE  PRIORITY  STATUS  CATEGORY      ASSIGNEE  CONTACT  TITLE"
    );
    assert_eq!(
        lines[1],
        "1   2026-11-23  1d    urgent    open    safeguarding  -         101      Concern raised at branch meeting"
    );
    assert!(
        lines[2].starts_with("2   2026-12-18        low"),
        "{}",
        lines[2]
    );
    assert_eq!(lines[3], "2 escalations, 1 overdue");
    assert!(!text.contains("Ada"), "no member names in the CLI table");

    f.cmd("ann", "2026-11-24")
        .args(["escalations", "--unassigned", "--overdue"])
        .assert()
        .code(2);
    let empty = f
        .cmd("ann", "2026-11-24")
        .args(["escalations", "--mine"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        String::from_utf8(empty).unwrap(),
        "No escalations (mine).\n"
    );
}

#[test]
fn a_wrong_category_or_priority_names_the_accepted_ones() {
    let f = fixture();
    f.cmd("ann", "2026-11-20")
        .args([
            "escalate",
            "--contact",
            "101",
            "--category",
            "complain",
            "--priority",
            "high",
            "--title",
            "x",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "unknown category `complain`; use one of: complaint, renewal_payment, \
             member_concern, data_protection, safeguarding, dispute_disciplinary, other",
        ));
    f.cmd("ann", "2026-11-20")
        .args([
            "escalate",
            "--contact",
            "101",
            "--category",
            "other",
            "--priority",
            "asap",
            "--title",
            "x",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "use one of: urgent, high, normal, low",
        ));
    assert_eq!(f.escalation_count(), 0);
}

#[test]
fn an_unknown_or_ambiguous_contact_is_refused_and_nothing_is_written() {
    let f = fixture();
    let base = [
        "escalate",
        "--category",
        "complaint",
        "--priority",
        "normal",
        "--title",
        "x",
    ];
    f.cmd("ann", "2026-11-20")
        .args(base)
        .args(["--contact", "999"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "--contact: no contact has CRM id `999`",
        ));
    f.cmd("ann", "2026-11-20")
        .args(base)
        .args(["--contact", "102"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "from more than one source (civicrm, nationbuilder); say which with --source",
        ));
    f.cmd("ann", "2026-11-20")
        .args(&base[..5])
        .args(["--contact", "101", "--title", "  "])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--title: a title is required"));
    f.cmd("ann", "2026-11-20")
        .args(base)
        .args(["--contact", "101", "--read-only"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "read-only mode (--read-only): opening an escalation was refused",
        ));
    assert_eq!(f.escalation_count(), 0);

    let id = f.escalate(&[
        "--contact",
        "102",
        "--source",
        "civicrm",
        "--category",
        "complaint",
        "--priority",
        "normal",
        "--title",
        "x",
    ]);
    let store = Store::open(&f.db, OpenMode::ReadOnly).unwrap();
    let detail = escalations::detail(&store.conn, id).unwrap().unwrap();
    assert_eq!(detail.source.as_deref(), Some("civicrm"));
    assert_eq!(detail.row.crm_id.as_deref(), Some("102"));
    assert_eq!(detail.row.category, Category::Complaint);
    assert_eq!(detail.row.priority, Priority::Normal);
}

#[test]
fn escalate_does_not_create_a_missing_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("none.db");
    Command::cargo_bin("rollcall")
        .unwrap()
        .env_clear()
        .env("HOME", dir.path())
        .args([
            "--db",
            path(&db),
            "--user",
            "ann",
            "escalate",
            "--contact",
            "1",
        ])
        .args(["--category", "other", "--priority", "low", "--title", "x"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no database here"));
    assert!(!db.exists());
}
