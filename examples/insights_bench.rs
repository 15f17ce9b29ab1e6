//! The issue 21 benchmark: what recording field changes costs a re-import, and how fast
//! `changes`, `stats --cohorts`, `drift` and `duplicates` answer, on SQLite.
//!
//! ```sh
//! cargo run --release --example insights_bench                       # 550,000 members, 3 rounds
//! cargo run --release --example insights_bench -- --members 100000 --rounds 1
//! ```
//!
//! A generated CiviCRM export is imported into an empty database, which is copied. Each round
//! re-imports a copy of the export with the email of one row in 20 (5% of rows) changed into a
//! fresh copy of that database twice, in separate processes: once as rollcall does, recording
//! every changed field, and once with recording turned off (the baseline, the import as it was
//! before issue 21); the report gives every round and the medians. Then each of the four
//! commands runs on the re-imported database, its JSON written to a pipe and read to the end.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use chrono::NaiveDate;
#[path = "support/export.rs"]
mod export;
use export::civicrm_export;

#[path = "support/measure.rs"]
mod measure;
use measure::{Run, load_average, measure};

/// Set in the child to make this binary behave as `rollcall`; "baseline" also turns field
/// change recording off.
const AS_ROLLCALL: &str = "INSIGHTS_BENCH_AS_ROLLCALL";
const TODAY: &str = "2026-11-23";
const LATER: &str = "2026-11-24";
/// One row in this many is changed.
const CHANGE_EVERY: usize = 20;

struct Options {
    members: u64,
    rounds: usize,
    dir: PathBuf,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        members: 550_000,
        rounds: 3,
        dir: PathBuf::from("target/insights-bench"),
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
            other => {
                return Err(format!(
                    "unknown argument {other}; use --members N, --rounds N, --dir DIR"
                ));
            }
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    if let Some(mode) = std::env::var_os(AS_ROLLCALL) {
        rollcall::storage::changes::record_field_changes(mode != "baseline");
        return rollcall::cli::main();
    }
    match bench() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("insights_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn rollcall(db: &Path, today: &str, mode: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("own path"));
    cmd.env(AS_ROLLCALL, mode)
        .arg("--db")
        .arg(db)
        .args(["--today", today, "--user", "bench"])
        .args(args);
    cmd
}

/// The export with the email of every [`CHANGE_EVERY`]th row changed; how many rows changed.
fn with_changed_emails(from: &Path, to: &Path) -> Result<usize, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(from)
        .map_err(|e| e.to_string())?;
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    let email = headers
        .iter()
        .position(|h| h == "Email")
        .ok_or("the export has no Email column")?;
    let mut writer = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::NonNumeric)
        .terminator(csv::Terminator::CRLF)
        .from_path(to)
        .map_err(|e| e.to_string())?;
    writer.write_record(&headers).map_err(|e| e.to_string())?;
    let mut changed = 0;
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| e.to_string())?;
        let mut cells: Vec<String> = record.iter().map(str::to_owned).collect();
        if i % CHANGE_EVERY == 0 {
            cells[email] = format!("changed.{i}@example.net");
            changed += 1;
        }
        writer.write_record(&cells).map_err(|e| e.to_string())?;
    }
    writer.flush().map_err(|e| e.to_string())?;
    Ok(changed)
}

fn copy_db(from: &Path, to: &Path) -> Result<(), String> {
    for suffix in ["-wal", "-shm", "-journal", ""] {
        let _ = std::fs::remove_file(format!("{}{suffix}", to.display()));
    }
    std::fs::copy(from, to).map_err(|e| format!("copying the database: {e}"))?;
    Ok(())
}

fn median(runs: &[f64]) -> f64 {
    let mut v = runs.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn bench() -> Result<(), String> {
    let options = parse_args()?;
    std::fs::create_dir_all(&options.dir).map_err(|e| e.to_string())?;
    let base = options.dir.join(format!("civicrm-{}.csv", options.members));
    let today = NaiveDate::parse_from_str(TODAY, "%Y-%m-%d").expect("date");
    let summary = civicrm_export(&base, options.members, today).map_err(|e| e.to_string())?;
    let changed_export = options.dir.join("changed.csv");
    let changed = with_changed_emails(&base, &changed_export)?;
    println!(
        "export: {} members, {} rows; {} rows ({:.1}%) with a changed email",
        summary.contacts,
        summary.rows,
        changed,
        100.0 * changed as f64 / summary.rows as f64
    );
    println!("load average before: {}", load_average());

    let first = options.dir.join("first.db");
    for suffix in ["-wal", "-shm", "-journal", ""] {
        let _ = std::fs::remove_file(format!("{}{suffix}", first.display()));
    }
    let path = base.to_str().ok_or("path")?;
    let (run, _) = measure(&mut rollcall(&first, TODAY, "record", &["import", path]))?;
    println!("first import: {:.2} s", run.wall.as_secs_f64());

    let db = options.dir.join("reimport.db");
    let changed_path = changed_export.to_str().ok_or("path")?;
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for round in 1..=options.rounds {
        for mode in ["record", "baseline"] {
            copy_db(&first, &db)?;
            let (run, out) = measure(&mut rollcall(
                &db,
                LATER,
                mode,
                &["import", "--json", changed_path],
            ))?;
            let report: serde_json::Value =
                serde_json::from_slice(&out).map_err(|e| e.to_string())?;
            let seconds = run.wall.as_secs_f64();
            println!(
                "round {round} {mode:<8}: {seconds:.2} s ({:.2} s CPU), {} contacts updated",
                run.cpu.as_secs_f64(),
                report["contacts"]["updated"]
            );
            if mode == "record" {
                with.push(seconds);
            } else {
                without.push(seconds);
            }
        }
    }
    let (w, b) = (median(&with), median(&without));
    println!(
        "re-import median: {w:.2} s recording, {b:.2} s without: recording adds {:+.1}%",
        100.0 * (w - b) / b
    );

    // The database as a recording re-import leaves it, for the commands.
    copy_db(&first, &db)?;
    measure(&mut rollcall(
        &db,
        LATER,
        "record",
        &["import", changed_path],
    ))?;
    for args in [
        &["changes", "--json"][..],
        &["changes", "--kind", "email", "--region", "Wales", "--json"],
        &["stats", "--cohorts", "--json"],
        &["drift", "--json"],
        &["duplicates", "--json"],
    ] {
        let runs: Vec<Run> = (0..options.rounds.max(1))
            .map(|_| measure(&mut rollcall(&db, LATER, "record", args)).map(|(run, _)| run))
            .collect::<Result<_, _>>()?;
        let walls: Vec<f64> = runs.iter().map(|r| r.wall.as_secs_f64()).collect();
        let peak = runs.iter().map(|r| r.peak_kb).max().unwrap_or(0);
        println!(
            "{:<48} median {:.3} s (runs {:?}), peak {} MB",
            args.join(" "),
            median(&walls),
            walls.iter().map(|w| format!("{w:.3}")).collect::<Vec<_>>(),
            peak / 1024
        );
    }
    println!("load average after: {}", load_average());
    Ok(())
}
