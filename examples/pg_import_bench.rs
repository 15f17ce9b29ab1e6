//! The team-engine import benchmark (issue 14): a generated CiviCRM export of 550,000 members,
//! loaded by `psql -c "\copy members FROM … CSV HEADER"` into a bare table of text columns, then
//! by `rollcall import` into an empty PostgreSQL database (after `team init`), then imported
//! again. The server is a throwaway one of this run's own (tests/support/pg_cluster.rs, with
//! the settings Debian ships: fsync on, 128 MB shared buffers), on a Unix socket on this
//! machine. Prints every round, the ratios, and the rollcall client's peak memory.
//!
//! ```sh
//! cargo run --release --example pg_import_bench                    # 550,000 members, 3 rounds
//! cargo run --release --example pg_import_bench -- --members 100000 --rounds 1
//! ```
//!
//! As in `import_bench`, `rollcall import` is this binary re-run as the rollcall CLI, each load
//! in its own process, one after another, so a busy machine slows all of them alike.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use chrono::NaiveDate;
#[path = "support/export.rs"]
mod export;
use export::civicrm_export;

#[path = "support/measure.rs"]
mod measure;
#[path = "../tests/support/pg_cluster.rs"]
mod pg_cluster;
use measure::{Run, load_average, measure};

const AS_ROLLCALL: &str = "PG_IMPORT_BENCH_AS_ROLLCALL";
const TODAY: &str = "2026-11-23";

fn main() -> ExitCode {
    if std::env::var_os(AS_ROLLCALL).is_some() {
        return rollcall::cli::main();
    }
    match bench() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pg_import_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn args() -> Result<(u64, usize), String> {
    let (mut members, mut rounds) = (550_000, 3);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or(format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--members" => members = value.parse().map_err(|_| "--members: a number")?,
            "--rounds" => rounds = value.parse().map_err(|_| "--rounds: a number")?,
            other => {
                return Err(format!(
                    "unknown argument {other}; use --members N, --rounds N"
                ));
            }
        }
    }
    Ok((members, rounds))
}

fn rollcall(url: &str, export: &Path) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("own path"));
    cmd.env(AS_ROLLCALL, "1")
        .env("ROLLCALL_DB", url)
        .args(["--today", TODAY, "--user", "bench", "import", "--json"])
        .arg(export);
    cmd
}

fn psql_copy(
    cluster: &pg_cluster::Cluster,
    bare: &pg_cluster::TestDatabase,
    export: &Path,
    columns: usize,
) -> Command {
    let table: Vec<String> = (0..columns).map(|i| format!("c{i} text")).collect();
    bare.execute(&format!("CREATE TABLE members ({})", table.join(", ")));
    let db = bare.name();
    let mut cmd = Command::new(cluster.bin().join("psql"));
    cmd.arg("-X")
        .args([
            "-h",
            &cluster.socket_dir().display().to_string(),
            "-U",
            "postgres",
            "-d",
            db,
        ])
        .arg("-c")
        .arg(format!(
            "\\copy members FROM '{}' CSV HEADER",
            export.display()
        ));
    cmd
}

fn bench() -> Result<(), String> {
    let (members, rounds) = args()?;
    let dir = PathBuf::from("target/pg-import-bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let export = std::fs::canonicalize(&dir)
        .map_err(|e| e.to_string())?
        .join(format!("civicrm-{members}.csv"));
    let today = NaiveDate::parse_from_str(TODAY, "%Y-%m-%d").expect("date");
    let summary = civicrm_export(&export, members, today).map_err(|e| e.to_string())?;
    // psql's \copy and rollcall both read the file themselves (not the server).
    let header = std::fs::read_to_string(&export)
        .map_err(|e| e.to_string())?
        .lines()
        .next()
        .map(|l| l.split(',').count())
        .unwrap_or(0);
    println!(
        "export: {} members, {} rows, {:.1} MB; server: PostgreSQL on a Unix socket, as Debian ships it (fsync on, 128 MB shared buffers)",
        summary.contacts,
        summary.rows,
        std::fs::metadata(&export).map_err(|e| e.to_string())?.len() as f64 / 1e6,
    );
    let cluster = pg_cluster::Cluster::start_as_shipped();
    let (mut copies, mut firsts, mut agains) =
        (Vec::<Run>::new(), Vec::<Run>::new(), Vec::<Run>::new());
    for round in 1..=rounds {
        let bare = cluster.new_database();
        let (c, _) = measure(&mut psql_copy(&cluster, &bare, &export, header))?;
        let team = cluster.new_database();
        let location = rollcall::storage::Location::parse(&team.url()).unwrap();
        rollcall::storage::team::init(location.team().unwrap(), "bench", "2026-11-23T09:00:00Z")
            .map_err(|e| e.to_string())?;
        let (f, out) = measure(&mut rollcall(&team.url(), &export))?;
        let report: serde_json::Value = serde_json::from_slice(&out).map_err(|e| e.to_string())?;
        if report["contacts"]["inserted"] != summary.contacts || report["rejected"] != 0 {
            return Err(format!(
                "the first import did not load everything: {report}"
            ));
        }
        let (a, out) = measure(&mut rollcall(&team.url(), &export))?;
        let report: serde_json::Value = serde_json::from_slice(&out).map_err(|e| e.to_string())?;
        if report["contacts"]["unchanged"] != summary.contacts {
            return Err(format!("the re-import changed something: {report}"));
        }
        println!(
            "round {round}: psql \\copy {:.2} s | first import {:.2} s ({:.2}x) | re-import {:.2} s ({:.2}x of first) | client peak {} MB / {} MB, cpu {:.2} s | load {}",
            c.wall.as_secs_f64(),
            f.wall.as_secs_f64(),
            f.wall.as_secs_f64() / c.wall.as_secs_f64(),
            a.wall.as_secs_f64(),
            a.wall.as_secs_f64() / f.wall.as_secs_f64(),
            f.peak_kb / 1024,
            a.peak_kb / 1024,
            f.cpu.as_secs_f64(),
            load_average()
        );
        copies.push(c);
        firsts.push(f);
        agains.push(a);
    }
    let median = |runs: &[Run]| {
        let mut v: Vec<f64> = runs.iter().map(|r| r.wall.as_secs_f64()).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (c, f, a) = (median(&copies), median(&firsts), median(&agains));
    println!(
        "median: psql \\copy {c:.2} s | first import {f:.2} s ({:.2}x, target <= 1.0) | re-import {a:.2} s ({:.2}x, target <= 0.5) | client peak {} MB (target < 300)",
        f / c,
        a / f,
        firsts
            .iter()
            .chain(&agains)
            .map(|r| r.peak_kb)
            .max()
            .unwrap_or(0)
            / 1024
    );
    Ok(())
}
