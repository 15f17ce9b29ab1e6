//! Real rollcall processes for the crash and concurrency tests: generated exports big enough for
//! an import to take a while, spawned imports, and dumps that ignore times of day.
#![allow(dead_code)] // each test binary uses a different subset

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::trust_support::{STAFF, TODAY};

/// rollcall as a plain process (spawnable, killable), with no ROLLCALL_* settings leaking in.
pub fn command(db: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rollcall"));
    for var in [
        "ROLLCALL_DB",
        "ROLLCALL_TODAY",
        "ROLLCALL_USER",
        "ROLLCALL_READ_ONLY",
        "ROLLCALL_TEST_HOLD",
    ] {
        cmd.env_remove(var);
    }
    // The user's own config.toml must not change what the tests see.
    let config = db.parent().unwrap_or(Path::new(".")).join("config-home");
    cmd.env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", config)
        .arg("--db")
        .arg(db)
        .args(["--today", TODAY, "--user", STAFF])
        .stdin(Stdio::null());
    cmd
}

/// Writes `rollcall generate --members N --seed S` to a file in `dir`.
pub fn generate(dir: &Path, members: u32, seed: u32) -> PathBuf {
    let path = dir.join(format!("export-{members}-{seed}.csv"));
    let out = command(&dir.join("unused.db"))
        .args(["generate", "--members", &members.to_string()])
        .args(["--seed", &seed.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "generate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

/// Runs `rollcall import FILE` to completion and insists it succeeded.
pub fn import(db: &Path, file: &Path) -> Output {
    let out = command(db).arg("import").arg(file).output().unwrap();
    assert!(
        out.status.success(),
        "import of {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn spawn_import(db: &Path, file: &Path) -> Child {
    command(db)
        .arg("import")
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// An import that stops at the named test moment (`ROLLCALL_TEST_HOLD`), says so on stderr and
/// waits there to be killed (its standard input stays open until then).
pub fn spawn_import_pausing_at(db: &Path, file: &Path, point: &str) -> Child {
    command(db)
        .env("ROLLCALL_TEST_HOLD", point)
        .arg("import")
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Copies a closed database (its main file; a closed database has no WAL) to `to`.
pub fn copy_db(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
}

/// A generated export whose import into a copy of `base` takes at least `at_least` (growing
/// the export until it does), and how long that import took. The copy it was imported into is
/// `reference`: what a completed import of this file onto `base` looks like.
pub fn slow_export(dir: &Path, base: &Path, at_least: Duration) -> (PathBuf, Duration, PathBuf) {
    let mut members = 10_000;
    loop {
        let file = generate(dir, members, 2);
        let reference = dir.join(format!("reference-{members}.db"));
        copy_db(base, &reference);
        let started = Instant::now();
        import(&reference, &file);
        let took = started.elapsed();
        if took >= at_least || members >= 320_000 {
            return (file, took, reference);
        }
        members *= 2;
    }
}

/// The tables whose data differs between databases `a` and `b`, leaving out times of day (`at`
/// and `*_at` columns, which differ between two runs of the same import) and the tables in
/// `skip`. Compared by SQLite itself (`EXCEPT` both ways, and row counts), so that two
/// databases of tens of thousands of rows compare in milliseconds.
pub fn differing_tables(a: &Path, b: &Path, skip: &[&str]) -> Vec<String> {
    let conn = rusqlite::Connection::open_with_flags(a, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    conn.execute("ATTACH DATABASE ?1 AS other", [b.to_str().unwrap()])
        .unwrap();
    let tables = |schema: &str| -> BTreeSet<String> {
        conn.prepare(&format!(
            "SELECT name FROM {schema}.sqlite_master WHERE type = 'table'"
        ))
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    };
    let (mine, theirs) = (tables("main"), tables("other"));
    let mut differing: Vec<String> = mine.symmetric_difference(&theirs).cloned().collect();
    for table in mine.intersection(&theirs) {
        if skip.contains(&table.as_str()) {
            continue;
        }
        let columns: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
            .unwrap()
            .query_map([table], |r| r.get::<_, String>(0))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
            .into_iter()
            .filter(|c| c != "at" && !c.ends_with("_at"))
            .map(|c| format!("\"{c}\""))
            .collect();
        let columns = columns.join(", ");
        let count = |sql: String| -> i64 { conn.query_row(&sql, [], |r| r.get(0)).unwrap() };
        let one_way = |x: &str, y: &str| {
            count(format!(
                "SELECT count(*) FROM (SELECT {columns} FROM {x}.\"{table}\"
                 EXCEPT SELECT {columns} FROM {y}.\"{table}\")"
            ))
        };
        let rows = |x: &str| count(format!("SELECT count(*) FROM {x}.\"{table}\""));
        if one_way("main", "other") + one_way("other", "main") > 0 || rows("main") != rows("other")
        {
            differing.push(format!(
                "{table} ({} vs {} rows)",
                rows("main"),
                rows("other")
            ));
        }
    }
    differing
}

pub fn integrity(db: &Path) -> String {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

/// The values of the `Contact ID` column of a generated export.
pub fn contact_ids(file: &Path) -> Vec<String> {
    let mut reader = csv::Reader::from_path(file).unwrap();
    let headers = reader.headers().unwrap().clone();
    let column = headers
        .iter()
        .position(|h| h.trim_start_matches('\u{feff}') == "Contact ID")
        .expect("a Contact ID column");
    let mut ids: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[column].to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Reads lines until one contains `expected`; panics with what was said if it never comes.
pub fn wait_for_line(stderr: &mut impl std::io::BufRead, expected: &str, who: &str) -> String {
    let mut said = String::new();
    loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            panic!("{who} ended without saying {expected:?}: {said}");
        }
        said.push_str(&line);
        if line.contains(expected) {
            return said;
        }
    }
}
