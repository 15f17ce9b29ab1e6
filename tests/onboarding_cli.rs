//! `rollcall onboarding`: the queue from the command line, as a table and as JSON.

mod onboarding_support;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use onboarding_support::*;
use predicates::prelude::*;
use rollcall::storage::sql::Connection;
use rollcall::storage::{OpenMode, Store};
use serde_json::Value;
use tempfile::TempDir;

struct Setup {
    dir: TempDir,
}

impl Setup {
    /// A database with a small queue: one overdue and assigned to ann, one unassigned and
    /// not yet due, one pending from long ago, and a long-standing member who is not new.
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("rollcall.db"), OpenMode::ReadWrite).unwrap();
        let conn = &store.conn;
        let aled = Member::new("101", "Aled Jones")
            .joined("2026-11-01")
            .party("Cardiff West")
            .insert(conn);
        conn.execute(
            "INSERT INTO onboarding_steps (contact_id, step_key, done_at, done_by)
             VALUES (?1, 'welcome_email', '2026-11-02T10:00:00', 'ann')",
            [aled],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO assignments (contact_id, queue, assignee, staff, assigned_at)
             VALUES (?1, 'onboarding', 'ann', 'ann', '2026-11-02T10:00:00')",
            [aled],
        )
        .unwrap();
        Member::new("102", "Eleri Price")
            .joined("2026-11-22")
            .insert(conn);
        Member::new("104", "Dafydd Morgan")
            .joined("2026-09-01")
            .status("Pending")
            .insert(conn);
        Member::new("107", "Long Standing")
            .joined("2012-05-05")
            .insert(conn);
        std::fs::create_dir_all(dir.path().join("config/rollcall")).unwrap();
        Setup { dir }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("rollcall.db")
    }

    fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config/rollcall")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("rollcall").unwrap();
        cmd.env_clear()
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .args(["--db", self.db().to_str().unwrap()])
            .args(["--today", TODAY, "--user", "ann", "onboarding"])
            .args(args);
        cmd
    }

    fn json(&self, args: &[&str]) -> Vec<Value> {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self
            .cmd(&all)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let value: Value = serde_json::from_slice(&out).unwrap();
        value.as_array().unwrap().clone()
    }

    fn conn(&self) -> Connection {
        Connection::open(self.db()).unwrap()
    }
}

fn ids(rows: &[Value]) -> Vec<&str> {
    rows.iter()
        .map(|r| r["contact_id"].as_str().unwrap())
        .collect()
}

#[test]
fn json_lists_the_queue_most_overdue_first_with_every_field() {
    let s = Setup::new();
    let rows = s.json(&[]);
    assert_eq!(ids(&rows), ["104", "101", "102"]);
    assert_eq!(
        rows[1],
        serde_json::json!({
            "contact_id": "101",
            "name": "Aled Jones",
            "arrival": "new",
            "joined": "2026-11-01",
            "steps_done": 1,
            "steps_total": 5,
            "next_step": "welcome_call",
            "next_step_label": "Welcome call made",
            "next_due": "2026-11-08",
            "overdue": true,
            "assignee": "ann",
            "local_party": "Cardiff West",
        })
    );
    assert_eq!(rows[2]["overdue"], false);
    assert_eq!(rows[2]["assignee"], Value::Null);
    assert_eq!(rows[2]["next_due"], "2026-11-24");
}

#[test]
fn mine_unassigned_and_overdue_views() {
    let s = Setup::new();
    assert_eq!(ids(&s.json(&["--mine"])), ["101"]);
    assert_eq!(ids(&s.json(&["--unassigned"])), ["104", "102"]);
    assert_eq!(ids(&s.json(&["--overdue"])), ["104", "101"]);
}

#[test]
fn only_one_view_at_a_time() {
    let s = Setup::new();
    s.cmd(&["--mine", "--overdue"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("cannot be used with"));
}

#[test]
fn the_table_for_people() {
    let s = Setup::new();
    s.cmd(&[])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "NAME           JOINED      WAITING  PROGRESS   NEXT STEP",
        ))
        .stdout(predicate::str::contains("Aled Jones"))
        .stdout(predicate::str::contains("1/5 ■□□□□"))
        .stdout(predicate::str::contains("OVERDUE 15d"))
        .stdout(predicate::str::contains(
            "3 members waiting, 2 with an overdue step.",
        ));
    s.cmd(&["--mine"])
        .env("ROLLCALL_USER", "nobody")
        .args(["--user", "nobody"])
        .assert()
        .success()
        .stdout("No one is waiting for onboarding in the \"Mine\" view.\n");
}

#[test]
fn members_stay_in_the_queue_after_an_import_says_they_paid() {
    let s = Setup::new();
    s.json(&[]);
    let dafydd: i64 = s
        .conn()
        .query_row("SELECT id FROM contacts WHERE crm_id = '104'", [], |r| {
            r.get(0)
        })
        .unwrap();
    reimport_as_paid(&s.conn(), dafydd);
    assert!(ids(&s.json(&[])).contains(&"104"));
}

#[test]
fn read_only_lists_without_recording_anyone() {
    let s = Setup::new();
    let rows = s.json(&["--read-only"]);
    assert_eq!(rows.len(), 3);
    let recorded: i64 = s
        .conn()
        .query_row("SELECT COUNT(*) FROM onboarding", [], |r| r.get(0))
        .unwrap();
    assert_eq!(recorded, 0);
}

fn write_config(dir: &Path, steps: &str) {
    std::fs::write(dir.join("steps.toml"), steps).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        "[onboarding]\nsteps_file = \"steps.toml\"\nwindow_days = 30\n",
    )
    .unwrap();
}

#[test]
fn a_custom_path_from_config_toml() {
    let s = Setup::new();
    write_config(
        &s.config_dir(),
        "[[step]]\nkey = \"welcome_pack\"\nlabel = \"Welcome pack posted\"\ndue_days = 5\n",
    );
    let rows = s.json(&[]);
    assert_eq!(rows[0]["steps_total"], 1);
    assert_eq!(rows[0]["next_step"], "welcome_pack");
    // Aled's welcome email is not a step of this path: it does not count.
    let aled = rows.iter().find(|r| r["contact_id"] == "101").unwrap();
    assert_eq!(aled["steps_done"], 0);
}

#[test]
fn a_broken_steps_file_is_refused_with_where_and_what() {
    let s = Setup::new();
    write_config(
        &s.config_dir(),
        "[[step]]\nkey = \"pack\"\nlabel = \"Pack\"\ndue_days = 5\n\n[[step]]\nkey = \"pack\"\nlabel = \"Again\"\ndue_days = 9\n",
    );
    let steps = s.config_dir().join("steps.toml");
    s.cmd(&["--json"])
        .assert()
        .failure()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(format!(
            "onboarding steps file {}, line 7, column 7: step key `pack` appears twice (first at line 2)",
            steps.display()
        )));
    let recorded: i64 = s
        .conn()
        .query_row("SELECT COUNT(*) FROM onboarding", [], |r| r.get(0))
        .unwrap();
    assert_eq!(recorded, 0, "nothing written");
}

#[test]
fn no_database_is_an_error_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("missing.db");
    Command::cargo_bin("rollcall")
        .unwrap()
        .env_clear()
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .args(["--db", db.to_str().unwrap(), "onboarding"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("no database here"));
    assert!(!db.exists());
}

#[test]
fn the_window_comes_from_config_toml() {
    let s = Setup::new();
    std::fs::write(
        s.config_dir().join("config.toml"),
        "[onboarding]\nwindow_days = 10\n",
    )
    .unwrap();
    let conn = s.conn();
    Member::new("110", "Ten Days Ago")
        .joined("2026-11-13")
        .insert(&conn);
    Member::new("111", "Eleven Days Ago")
        .joined("2026-11-12")
        .insert(&conn);
    // Aled (joined 22 days ago) and Dafydd (Pending, but joined 83 days ago) are outside a
    // 10-day window: a Pending status does not make anyone new.
    let mut got = ids(&s.json(&[]))
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    got.sort();
    assert_eq!(got, ["102", "110"]);
}
