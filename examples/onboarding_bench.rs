//! How long the onboarding queue takes to load on a national party's database.
//!
//! Run: `cargo run --release --example onboarding_bench [-- MEMBERS]` (default 550,000).
//! Builds a throwaway database of synthetic contacts and memberships (join dates spread over 20
//! years, as a long-standing party's are; New for those who joined in the last three months, a
//! sprinkling of Pending, Cancelled and Expired), then times the queue as the app loads it:
//! the storage calls, then the pane end to end (DB worker, sorting, drawing).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rollcall::Clock;
use rollcall::app::db::DbWorker;
use rollcall::app::pane::{Shared, Waker};
use rollcall::app::panes::onboarding as onboarding_pane;
use rollcall::app::theme::Theme;
use rollcall::config::Config;
use rollcall::domain::onboarding::StepPath;
use rollcall::storage::onboarding;
use rollcall::storage::sql::params;
use rollcall::storage::{OpenMode, Store};

const RUNS: usize = 15;

fn main() -> anyhow::Result<()> {
    let members: i64 = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 550_000,
    };
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let clock = Clock::new(today, "bench");
    let dir = tempfile::tempdir()?;
    // ONBOARDING_BENCH_DB keeps the populated database for another run (the queue rows recorded
    // by the first load are removed again, so every run starts alike).
    let file = std::env::var_os("ONBOARDING_BENCH_DB")
        .map_or_else(|| dir.path().join("bench.db"), Into::into);
    let fresh = !file.exists();
    let mut store = Store::open(&file, OpenMode::ReadWrite)?;
    if fresh {
        let started = Instant::now();
        populate(&mut store, members, today)?;
        println!("populated {members} members in {:.1?}", started.elapsed());
    } else {
        store.conn.execute_batch(
            "DELETE FROM onboarding_steps; DELETE FROM onboarding; DELETE FROM audit_log;",
        )?;
        println!("reusing {}", file.display());
    }

    let config = Config::default().onboarding;
    let (started, cpu) = (Instant::now(), cpu_time());
    let queue = onboarding::load_queue(&mut store, &clock, &config)?;
    println!(
        "first load (records {} members entering the queue): {:.1?} (CPU {:.1?})",
        queue.len(),
        started.elapsed(),
        cpu_time().saturating_sub(cpu)
    );

    let loads = time_runs(|| onboarding::load_queue(&mut store, &clock, &config).map(|_| ()))?;
    report("queue load, nobody new", &loads);

    let reads = time_runs(|| onboarding::read_queue(&store, &clock, &config).map(|_| ()))?;
    report("  of which reading the queue (read_queue)", &reads);

    let candidates = time_runs(|| {
        Ok(
            onboarding::unrecorded_qualifying(&store.conn, today, config.window_days)
                .map(|_| ())?,
        )
    })?;
    report(
        "  of which finding who enters (unrecorded_qualifying)",
        &candidates,
    );

    let path = StepPath::default_path();
    let ids: Vec<i64> = queue.iter().map(|e| e.contact_id).collect();
    let mut next = ids.iter().copied();
    let ticks = time_runs(|| {
        let id = next.next().unwrap();
        onboarding::tick(&mut store, &clock, &path, "welcome_email", &[id]).map(|_| ())
    })?;
    report("tick one step", &ticks);

    let mut chunks = ids[RUNS..].chunks(100);
    let bulk = time_runs(|| {
        let chunk = chunks.next().unwrap();
        onboarding::tick(&mut store, &clock, &path, "welcome_call", chunk).map(|_| ())
    })?;
    report("bulk tick of 100 members", &bulk);
    drop(store);

    pane_timings(&file, clock, Config::default())?;
    Ok(())
}

/// The whole path as the app takes it: the pane asks the DB worker, the answer comes back, the UI
/// thread sorts the rows and draws them.
fn pane_timings(file: &std::path::Path, clock: Clock, config: Config) -> anyhow::Result<()> {
    let store = Store::open(file, OpenMode::ReadWrite)?;
    let (db, replies) = DbWorker::start(store, clock.clone(), || {});
    let theme = Theme::default();
    let waker: Waker = Arc::new(|| {});
    let shared = Shared {
        clock: &clock,
        theme: &theme,
        db: &db,
        config: &config,
        waker: &waker,
        access: &rollcall::app::access::FULL,
        staff: &[],
    };
    let mut terminal = Terminal::new(TestBackend::new(120, 40))?;
    let (mut shown, mut ui) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let mut pane = onboarding_pane::pane();
        let started = Instant::now();
        pane.refresh(&shared);
        let reply = replies.recv()?;
        let ui_started = Instant::now();
        pane.on_reply(reply, &shared);
        terminal.draw(|frame| pane.draw(frame, frame.area(), &shared))?;
        ui.push(ui_started.elapsed());
        shown.push(started.elapsed());
    }
    shown.sort();
    ui.sort();
    println!(
        "app: refresh to queue drawn: median {:.1?}, worst {:.1?}; of which on the UI thread \
         (sorting the rows and drawing): median {:.1?} ({RUNS} runs)",
        shown[RUNS / 2],
        shown[RUNS - 1],
        ui[RUNS / 2],
    );
    Ok(())
}

/// Wall-clock times of `RUNS` runs, sorted, and the CPU time they used in all.
struct Times {
    wall: Vec<Duration>,
    cpu: Duration,
}

fn time_runs(mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<Times> {
    let mut times = Times {
        wall: Vec::with_capacity(RUNS),
        cpu: Duration::ZERO,
    };
    for _ in 0..RUNS {
        let (started, cpu) = (Instant::now(), cpu_time());
        f()?;
        times.wall.push(started.elapsed());
        times.cpu += cpu_time().saturating_sub(cpu);
    }
    times.wall.sort();
    Ok(times)
}

/// CPU time this thread has used (Linux `/proc/thread-self/schedstat`, which the kernel brings up
/// to date at each context switch, so it is only meaningful summed over runs; zero elsewhere).
/// Shown beside wall time because a shared machine's load inflates the wall figures.
fn cpu_time() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

fn report(what: &str, t: &Times) {
    let mid = RUNS / 2;
    // The kernel's CPU figure is too coarse for runs of well under a millisecond.
    let cpu = if t.wall[mid] >= Duration::from_millis(5) {
        format!(" (mean CPU {:.1?})", t.cpu / RUNS as u32)
    } else {
        String::new()
    };
    println!(
        "{what}: median {:.1?}{cpu}, worst {:.1?} ({RUNS} runs)",
        t.wall[mid],
        t.wall[RUNS - 1],
    );
}

/// A cheap deterministic spread (no RNG dependency): the same database every run.
fn mix(i: u64) -> u64 {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 29;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 32)
}

fn populate(store: &mut Store, members: i64, today: NaiveDate) -> anyhow::Result<()> {
    let tx = store.conn.transaction()?;
    {
        let mut contact = tx.prepare(
            "INSERT INTO contacts (id, source, crm_id, display_name, sort_name, preferred_language,
                 local_party, do_not_phone)
             VALUES (?1, 'civicrm', ?1, 'Member ' || ?1, 'Member ' || ?1, ?2, ?3, ?4)",
        )?;
        let mut membership = tx.prepare(
            "INSERT INTO memberships (contact_id, source, sync_key, crm_membership_id,
                 membership_type, join_date, start_date, end_date, crm_status)
             VALUES (?1, 'civicrm', 'id:' || ?1, ?1, 'Individual', ?2, ?2, ?3, ?4)",
        )?;
        const SPAN_DAYS: u64 = 20 * 365;
        for id in 1..=members {
            let r = mix(id as u64);
            let days_ago = r % SPAN_DAYS;
            let join = today.checked_sub_days(Days::new(days_ago)).unwrap();
            let end = join.checked_add_days(Days::new(365)).unwrap();
            let status = match (days_ago, r >> 40 & 0xff) {
                (_, 0..=2) => "Pending",
                (_, 3..=5) => "Cancelled",
                (0..=91, _) => "New",
                (_, 6..=60) => "Expired",
                _ => "Current",
            };
            let language = if r >> 48 & 0xf == 0 { "cy_GB" } else { "en_GB" };
            let party = format!("Local Party {}", r % 600);
            contact.execute(params![id, language, party, (r >> 52) & 0x7 == 0])?;
            membership.execute(params![id, join.to_string(), end.to_string(), status])?;
        }
    }
    tx.commit()?;
    store.conn.execute_batch("ANALYZE")?;
    Ok(())
}
