//! The team load test (issue 16): 20 simulated officers on one 550,000-member PostgreSQL
//! database, each claiming a renewals row and logging an outcome every second, while an import
//! of a later export runs. Checks that nothing failed, that every logged contact is in the audit
//! trail exactly once, and that no member was claimed by two officers at once. Prints the
//! latency of a claim and of a logged contact (the attempt, which releases the claim in the
//! same commit, as the app writes it).
//!
//! ```sh
//! cargo run --release --example team_load_bench                          # 550,000, 20 x 60 s
//! cargo run --release --example team_load_bench -- --members 100000 --seconds 20
//! ```
//!
//! The officers pick members at random from the first 400 rows of the queue and hold each claim
//! for half a second (the call) before logging, so now and then two want the same person at
//! once: that is what claims are for. The server is a throwaway one of this
//! run's own (tests/support/pg_cluster.rs, as Debian ships it), on a Unix socket.
#![cfg(unix)]

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use rollcall::Clock;
use rollcall::domain::renewal::{Channel, Outcome, Windows};
use rollcall::import::generate::{DEFAULT_SEED, ExportFormat, GenerateOptions, write_export};
use rollcall::import::{ImportOptions, import_file};
use rollcall::storage::claims::{self, Claimed};
use rollcall::storage::renewals::{self, NewAttempt, Target};
use rollcall::storage::{Location, OpenMode, Store, team};

#[path = "../tests/support/pg_cluster.rs"]
mod pg_cluster;

const OFFICERS: usize = 20;
const POOL: usize = 400;

struct Args {
    members: u64,
    seconds: u64,
}

fn args() -> anyhow::Result<Args> {
    let mut args = Args {
        members: 550_000,
        seconds: 60,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))?;
        match flag.as_str() {
            "--members" => args.members = value.parse()?,
            "--seconds" => args.seconds = value.parse()?,
            other => anyhow::bail!("unknown argument {other} (--members N, --seconds N)"),
        }
    }
    Ok(args)
}

fn export(path: &std::path::Path, members: u64, today: NaiveDate, advance_days: u32) {
    let file = std::fs::File::create(path).unwrap();
    write_export(
        &mut std::io::BufWriter::with_capacity(1 << 20, file),
        &GenerateOptions {
            members,
            seed: DEFAULT_SEED,
            format: ExportFormat::Civicrm,
            today,
            advance_days,
            plant: false,
        },
    )
    .unwrap();
}

/// What one officer measured.
#[derive(Default)]
struct Tally {
    /// (when it started, how long it took), both from the run's start.
    claims: Vec<(Duration, Duration)>,
    logs: Vec<(Duration, Duration)>,
    /// Claims refused because someone else was on the member.
    held: usize,
    errors: Vec<String>,
    logged: usize,
}

fn main() -> anyhow::Result<()> {
    let args = args()?;
    let today = chrono::Local::now().date_naive();
    let dir = tempfile::tempdir()?;
    let first = dir.path().join("export.csv");
    let later = dir.path().join("later.csv");
    export(&first, args.members, today, 0);
    export(&later, args.members, today, 7);
    let cluster = pg_cluster::Cluster::start_as_shipped();
    let db = cluster.new_database();
    let location = Location::parse(&db.url()).map_err(anyhow::Error::msg)?;
    team::init(
        location.team().expect("a team URI"),
        "bench",
        "2026-11-23T09:00:00",
    )?;
    let setup = Clock::new(today, "admin");
    let started = Instant::now();
    import_file(
        &mut Store::open_at(&location, OpenMode::ReadWrite, false)?,
        &setup,
        &first,
        &ImportOptions::default(),
        &mut |_| {},
        &AtomicBool::new(false),
    )?;
    println!(
        "{} members imported in {:.1} s; {OFFICERS} officers for {} s, each a claim and a \
         logged contact a second, while the later export imports",
        args.members,
        started.elapsed().as_secs_f64(),
        args.seconds
    );
    let store = Store::open_at(&location, OpenMode::ReadWrite, false)?;
    let pool: Vec<Target> = renewals::queue(
        &store.conn,
        today,
        Windows::from(&rollcall::config::Config::default().renewals),
        None,
    )?
    .iter()
    .take(POOL)
    .map(|r| Target {
        contact_id: r.contact_id,
        membership_id: r.membership_id,
    })
    .collect();
    drop(store);
    anyhow::ensure!(!pool.is_empty(), "the renewals queue is empty");
    let pool = Arc::new(pool);

    let import_done: Arc<Mutex<Option<(Duration, Duration)>>> = Arc::default();
    let bench_start = Instant::now();
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        let importer = {
            let location = location.clone();
            let later = later.clone();
            let done = Arc::clone(&import_done);
            s.spawn(move || {
                let began = bench_start.elapsed();
                let mut store = Store::open_at(&location, OpenMode::ReadWrite, false).unwrap();
                import_file(
                    &mut store,
                    &Clock::new(today + chrono::Duration::days(7), "admin"),
                    &later,
                    &ImportOptions::default(),
                    &mut |_| {},
                    &AtomicBool::new(false),
                )
                .unwrap();
                *done.lock().unwrap() = Some((began, bench_start.elapsed()));
            })
        };
        let officers: Vec<_> = (0..OFFICERS)
            .map(|i| {
                let location = location.clone();
                let pool = Arc::clone(&pool);
                s.spawn(move || officer(i, &location, today, &pool, args.seconds, bench_start))
            })
            .collect();
        importer.join().unwrap();
        officers.into_iter().map(|o| o.join().unwrap()).collect()
    });

    let errors: Vec<&String> = tallies.iter().flat_map(|t| &t.errors).collect();
    let logged: usize = tallies.iter().map(|t| t.logged).sum();
    let held: usize = tallies.iter().map(|t| t.held).sum();
    let (began, ended) = import_done.lock().unwrap().unwrap_or_default();
    println!(
        "import of the later export: {:.1} s to {:.1} s into the run",
        began.as_secs_f64(),
        ended.as_secs_f64()
    );
    let during = |at: &Duration| *at >= began && *at <= ended;
    let claims: Vec<(Duration, Duration)> = tallies.iter().flat_map(|t| t.claims.clone()).collect();
    let logs: Vec<(Duration, Duration)> = tallies.iter().flat_map(|t| t.logs.clone()).collect();
    for (what, samples, target) in [("claims", claims, 20), ("logged contacts", logs, 50)] {
        let mut all: Vec<Duration> = samples.iter().map(|s| s.1).collect();
        let mut importing: Vec<Duration> = samples
            .iter()
            .filter(|s| during(&s.0))
            .map(|s| s.1)
            .collect();
        let mut quiet: Vec<Duration> = samples
            .iter()
            .filter(|s| !during(&s.0))
            .map(|s| s.1)
            .collect();
        println!(
            "{what}: {} | p50 {} | p99 {} | max {} (target p99 < {target} ms); while importing \
             ({}): p99 {} max {}; otherwise: p99 {}",
            all.len(),
            pct(&mut all, 50),
            pct(&mut all, 99),
            pct(&mut all, 100),
            importing.len(),
            pct(&mut importing, 99),
            pct(&mut importing, 100),
            pct(&mut quiet, 99),
        );
    }
    println!("claims refused because someone else was on the member: {held}; logged: {logged}");
    println!("errors: {}", errors.len());
    for e in errors.iter().take(5) {
        println!("  {e}");
    }
    verify(&location, logged)?;
    Ok(())
}

/// One officer: every second, a member from the pool; claim them, and if they are ours log a
/// "no answer" and release them, as the app does.
fn officer(
    i: usize,
    location: &Location,
    today: NaiveDate,
    pool: &[Target],
    seconds: u64,
    run: Instant,
) -> Tally {
    let login = format!("officer{i:02}");
    let clock = Clock::new(today, login);
    let mut tally = Tally::default();
    let mut store = match Store::open_at(location, OpenMode::ReadWrite, false) {
        Ok(s) => s,
        Err(e) => {
            tally.errors.push(format!("connect: {e}"));
            return tally;
        }
    };
    let attempt = NewAttempt {
        channel: Channel::Phone,
        outcome: Outcome::NoAnswer,
        note: String::new(),
    };
    let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ (i as u64 + 1);
    // Officers do not all press the key at the same instant: each keeps their own second.
    let start = Instant::now() + Duration::from_millis((1000 * i / OFFICERS) as u64);
    let mut tick = 0u64;
    while tick < seconds {
        let due = start + Duration::from_secs(tick);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        tick += 1;
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let target = pool[(seed % pool.len() as u64) as usize];
        let t0 = Instant::now();
        match claims::claim(&mut store, &clock, target.contact_id, 15, false) {
            Ok(Claimed::Yours { .. }) => tally.claims.push((t0 - run, t0.elapsed())),
            Ok(Claimed::HeldBy(_)) => {
                tally.claims.push((t0 - run, t0.elapsed()));
                tally.held += 1;
                continue;
            }
            Err(e) => {
                tally.errors.push(format!("claim: {e:#}"));
                continue;
            }
        }
        // Half a second on the phone, holding the claim, while the others pick their members.
        if let Some(wait) =
            (due + Duration::from_millis(500)).checked_duration_since(Instant::now())
        {
            std::thread::sleep(wait);
        }
        let t1 = Instant::now();
        // Logging the outcome releases the claim in the same commit, as in the app.
        let logged = renewals::log_attempts(&mut store, &clock, &[target], &attempt);
        match logged {
            Ok(_) => {
                tally.logs.push((t1 - run, t1.elapsed()));
                tally.logged += 1;
            }
            Err(e) => tally.errors.push(format!("log: {e:#}")),
        }
    }
    tally
}

fn pct(samples: &mut [Duration], p: usize) -> String {
    if samples.is_empty() {
        return "-".into();
    }
    samples.sort();
    let i = ((samples.len() - 1) * p).div_ceil(100);
    format!("{:.1} ms", samples[i].as_secs_f64() * 1000.0)
}

/// Every logged contact once in the table and once in the audit trail; no member's claim
/// taken by one officer while another held it.
fn verify(location: &Location, logged: usize) -> anyhow::Result<()> {
    let store = Store::open_at(location, OpenMode::ReadOnly, false)?;
    let count =
        |sql: &str| -> anyhow::Result<i64> { Ok(store.conn.query_row(sql, [], |r| r.get(0))?) };
    let attempts = count("SELECT count(*) FROM contact_attempts WHERE staff LIKE 'officer%'")?;
    let audited = count(
        "SELECT count(*) FROM audit_log WHERE entity = 'contact_attempt' AND staff LIKE 'officer%'",
    )?;
    let mut stmt = store.conn.prepare(
        "SELECT contact_id, action, staff FROM audit_log
         WHERE action IN ('claim.take', 'claim.release') ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut holder: HashMap<i64, String> = HashMap::new();
    let mut doubled = 0;
    for row in rows {
        let (contact, action, staff) = row?;
        match action.as_str() {
            "claim.take" => {
                if holder.get(&contact).is_some_and(|h| *h != staff) {
                    doubled += 1;
                }
                holder.insert(contact, staff);
            }
            _ => {
                holder.remove(&contact);
            }
        }
    }
    println!(
        "check: {logged} logged, {attempts} in contact_attempts, {audited} in the audit trail; \
         members claimed by two officers at once: {doubled}"
    );
    anyhow::ensure!(
        attempts == logged as i64 && audited == logged as i64 && doubled == 0,
        "the load test lost, doubled or shared something"
    );
    Ok(())
}
