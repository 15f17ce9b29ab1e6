//! Shared helpers for the import tests: a scratch database, the CLI pointed at it, and SQL
//! snapshots to compare before and after.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use rollcall::storage::sql::Connection;
use rusqlite::OpenFlags;
use tempfile::TempDir;

pub const TODAY: &str = "2026-11-23";

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A scratch directory with a database path in it.
pub struct Scratch {
    pub dir: TempDir,
    pub db: PathBuf,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch::with_db("rollcall.db")
    }

    /// A scratch directory whose database is at `relative` inside it.
    pub fn with_db(relative: &str) -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(relative);
        Scratch { dir, db }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `rollcall` on this database, as alice, on `today`, with no settings from the environment.
    pub fn cmd_on(&self, today: &str) -> Command {
        let mut cmd = Command::cargo_bin("rollcall").unwrap();
        for var in [
            "ROLLCALL_DB",
            "ROLLCALL_TODAY",
            "ROLLCALL_USER",
            "ROLLCALL_READ_ONLY",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("XDG_DATA_HOME", self.dir.path().join("xdg-data"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("xdg-config"))
            .arg("--db")
            .arg(&self.db)
            .args(["--today", today, "--user", "alice"]);
        cmd
    }

    pub fn cmd(&self) -> Command {
        self.cmd_on(TODAY)
    }

    /// Imports a fixture; asserts success; returns stdout.
    pub fn import(&self, name: &str, extra: &[&str]) -> String {
        self.import_on(TODAY, name, extra)
    }

    pub fn import_on(&self, today: &str, name: &str, extra: &[&str]) -> String {
        let out = self
            .cmd_on(today)
            .arg("import")
            .args(extra)
            .arg(fixture(name))
            .assert()
            .success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    }

    /// Imports with `--json` and parses the object.
    pub fn import_json(&self, today: &str, name: &str, extra: &[&str]) -> serde_json::Value {
        let mut args = vec!["--json"];
        args.extend_from_slice(extra);
        let out = self.import_on(today, name, &args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }

    pub fn conn(&self) -> Connection {
        Connection::Sqlite(
            rusqlite::Connection::open_with_flags(&self.db, OpenFlags::SQLITE_OPEN_READ_WRITE)
                .unwrap(),
        )
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    pub fn text(&self, sql: &str) -> Option<String> {
        self.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

/// Every row of `table` (ordered by rowid), each as one string: for before/after comparisons.
pub fn dump(conn: &Connection, table: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))
        .unwrap();
    stmt.query_map([], |r| {
        let mut cells = Vec::new();
        for i in 0..r.column_count() {
            let v: rollcall::storage::sql::Value = r.get(i)?;
            cells.push(format!("{v:?}"));
        }
        Ok(cells.join("|"))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// Every table's rows and the schema: the whole database as data.
pub fn snapshot(conn: &Connection) -> Vec<(String, Vec<String>)> {
    let mut tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables.retain(|t| !t.starts_with("sqlite_"));
    let mut out: Vec<(String, Vec<String>)> =
        tables.iter().map(|t| (t.clone(), dump(conn, t))).collect();
    let schema: Vec<String> = conn
        .prepare("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
        .unwrap()
        .query_map([], |r| {
            Ok(format!(
                "{}|{}|{:?}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    out.push(("sqlite_master".into(), schema));
    out
}

pub fn stdout_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

pub fn stderr_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stderr.clone()).unwrap()
}
