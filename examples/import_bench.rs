//! The import benchmark (issue 2, "Speed"): a generated CiviCRM export of 550,000 members, loaded
//! by the `sqlite3` shell's `.import --csv` into a bare table, then by `rollcall import` into an
//! empty database, then imported again. Prints the times, the ratios and the peak memory.
//!
//! ```sh
//! cargo run --release --example import_bench                      # 550,000 members, 3 rounds
//! cargo run --release --example import_bench -- --members 100000 --rounds 1
//! cargo run --release --example import_bench -- --sqlite3 /usr/bin/sqlite3 --dir /tmp/bench
//! ```
//!
//! Each round runs the three loads one after another, each in its own process, so that a busy
//! machine slows all three alike; the report gives every round and the median. `rollcall import`
//! is this benchmark's own binary re-run as the rollcall CLI (the same code as `rollcall`), so
//! `cargo run --example` is all it needs. Peak memory is the child's `VmHWM`, sampled from
//! `/proc` every 2 ms (Linux).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use chrono::NaiveDate;
#[path = "support/export.rs"]
mod export;
use export::civicrm_export;

#[path = "support/measure.rs"]
mod measure;
use measure::{Run, load_average, measure};

/// Set in the child to make this binary behave as `rollcall`.
const AS_ROLLCALL: &str = "IMPORT_BENCH_AS_ROLLCALL";
const TODAY: &str = "2026-11-23";

struct Options {
    members: u64,
    rounds: usize,
    dir: PathBuf,
    sqlite3: String,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        members: 550_000,
        rounds: 3,
        dir: PathBuf::from("target/import-bench"),
        sqlite3: "sqlite3".into(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--members" => {
                options.members = value("--members")?
                    .parse()
                    .map_err(|_| "--members: a number")?
            }
            "--rounds" => {
                options.rounds = value("--rounds")?
                    .parse()
                    .map_err(|_| "--rounds: a number")?
            }
            "--dir" => options.dir = PathBuf::from(value("--dir")?),
            "--sqlite3" => options.sqlite3 = value("--sqlite3")?,
            other => {
                return Err(format!(
                    "unknown argument {other}; use --members N, --rounds N, --dir DIR, --sqlite3 PATH"
                ));
            }
        }
    }
    Ok(options)
}

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

fn rollcall(db: &Path, export: &Path) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("own path"));
    cmd.env(AS_ROLLCALL, "1")
        .arg("--db")
        .arg(db)
        .args(["--today", TODAY, "--user", "bench", "import", "--json"])
        .arg(export);
    cmd
}

fn counts(json: &[u8]) -> Result<serde_json::Value, String> {
    serde_json::from_slice(json).map_err(|e| format!("import printed no JSON: {e}"))
}

fn median(runs: &[Run], key: impl Fn(&Run) -> f64) -> f64 {
    let mut v: Vec<f64> = runs.iter().map(key).collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> ExitCode {
    if std::env::var_os(AS_ROLLCALL).is_some() {
        return rollcall::cli::main();
    }
    match bench() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("import_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn bench() -> Result<(), String> {
    let options = parse_args()?;
    std::fs::create_dir_all(&options.dir).map_err(|e| e.to_string())?;
    let export = options.dir.join(format!("civicrm-{}.csv", options.members));
    let today = NaiveDate::parse_from_str(TODAY, "%Y-%m-%d").expect("date");
    let started = Instant::now();
    let summary = civicrm_export(&export, options.members, today).map_err(|e| e.to_string())?;
    let size = std::fs::metadata(&export).map_err(|e| e.to_string())?.len();
    println!(
        "export: {} members, {} rows, {:.1} MB, generated in {:.2} s ({})",
        summary.contacts,
        summary.rows,
        size as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        export.display()
    );
    println!(
        "machine: {} cores, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| c.lines().find_map(|l| l
                .strip_prefix("model name")
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())))
            .unwrap_or_else(|| "unknown CPU".into())
    );

    let bare = options.dir.join("bare.db");
    let db = options.dir.join("bench.db");
    let (mut sqlite, mut first, mut again) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=options.rounds {
        remove_db(&bare);
        let (s, _) = measure(
            Command::new(&options.sqlite3)
                .arg(&bare)
                .arg(format!(".import --csv {} members", export.display())),
        )?;
        remove_db(&db);
        let (f, out) = measure(&mut rollcall(&db, &export))?;
        let report = counts(&out)?;
        if report["contacts"]["inserted"] != summary.contacts || report["rejected"] != 0 {
            return Err(format!(
                "the first import did not load everything: {report}"
            ));
        }
        let (a, out) = measure(&mut rollcall(&db, &export))?;
        let report = counts(&out)?;
        if report["contacts"]["unchanged"] != summary.contacts
            || report["memberships"]["unchanged"] != summary.memberships
        {
            return Err(format!("the re-import changed something: {report}"));
        }
        println!(
            "round {round}: sqlite3 .import {:.2} s | first import {:.2} s ({:.2}x) | re-import {:.2} s ({:.2}x of first) | peak {} MB / {} MB | load {}",
            s.wall.as_secs_f64(),
            f.wall.as_secs_f64(),
            f.wall.as_secs_f64() / s.wall.as_secs_f64(),
            a.wall.as_secs_f64(),
            a.wall.as_secs_f64() / f.wall.as_secs_f64(),
            f.peak_kb / 1024,
            a.peak_kb / 1024,
            load_average(),
        );
        sqlite.push(s);
        first.push(f);
        again.push(a);
    }
    let wall = |r: &Run| r.wall.as_secs_f64();
    let cpu = |r: &Run| r.cpu.as_secs_f64();
    let (s, f, a) = (
        median(&sqlite, wall),
        median(&first, wall),
        median(&again, wall),
    );
    let peak = first
        .iter()
        .chain(&again)
        .map(|r| r.peak_kb)
        .max()
        .unwrap_or(0)
        / 1024;
    println!();
    println!(
        "median of {} round(s), wall clock (CPU user+sys):",
        options.rounds
    );
    println!(
        "  sqlite3 .import --csv   {s:>7.2} s  ({:.2} s CPU)",
        median(&sqlite, cpu)
    );
    println!(
        "  rollcall first import   {f:>7.2} s  ({:.2} s CPU)",
        median(&first, cpu)
    );
    println!(
        "  rollcall re-import      {a:>7.2} s  ({:.2} s CPU)",
        median(&again, cpu)
    );
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    println!(
        "  first import / sqlite3  {:>7.2}   (target <= 0.50: {})",
        f / s,
        verdict(f / s <= 0.5)
    );
    println!(
        "  re-import / first       {:>7.2}   (target <= 0.50: {})",
        a / f,
        verdict(a / f <= 0.5)
    );
    println!(
        "  peak memory             {peak:>7} MB (target < 300 MB: {})",
        verdict(peak < 300)
    );
    Ok(())
}
