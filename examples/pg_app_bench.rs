//! The app on a 550,000-member team database (issue 14): how long each pane takes to show its
//! rows on PostgreSQL, beside the same on an SQLite file, in one run. Both databases are filled
//! by `rollcall import` from the generator's CiviCRM export; the PostgreSQL server is a
//! throwaway one of this run's own on a Unix socket (tests/support/pg_cluster.rs, configured
//! as Debian ships it: fsync on, 128 MB shared buffers).
//!
//! ```sh
//! cargo run --release --example pg_app_bench                 # 550,000 members, 5 rounds
//! cargo run --release --example pg_app_bench -- 100000
//! ```
//!
//! Per pane: the first frame (drawn straight after asking for the data, which the UI thread
//! never waits for), then the time until every reply the pane asked for is in and drawn. The
//! database worker runs the queries, as in the app; "open" is connecting and checking the
//! schema, which the app does before its first frame.
//!
//! The last column is the same panes for an organiser of Wales (a staff login whose every query
//! passes through the row-level policies of `storage::team_access`), to show what those
//! policies cost.
#![cfg(unix)]

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rollcall::Clock;
use rollcall::app::db::DbWorker;
use rollcall::app::pane::{Pane, PaneId, Shared, Waker};
use rollcall::app::panes::escalations::EscalationsPane;
use rollcall::app::panes::onboarding::OnboardingPane;
use rollcall::app::panes::renewals::RenewalsPane;
use rollcall::app::panes::today::TodayPane;
use rollcall::app::theme::Theme;
use rollcall::config::Config;
use rollcall::import::{ImportOptions, import_file};
use rollcall::storage::{Location, OpenMode, Store, team};

#[path = "support/export.rs"]
mod export;
#[path = "../tests/support/pg_cluster.rs"]
mod pg_cluster;
use export::civicrm_export;

const TODAY: &str = "2026-11-23";
const BARRIER: &str = "bench:barrier";

fn main() -> anyhow::Result<()> {
    let members: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(550_000);
    let today = NaiveDate::parse_from_str(TODAY, "%Y-%m-%d")?;
    let clock = Clock::fixed(today, "ann");
    let dir = tempfile::tempdir()?;
    let export = dir.path().join("export.csv");
    civicrm_export(&export, members, today)?;
    let cluster = pg_cluster::Cluster::start_as_shipped();
    let team_db = cluster.new_database();
    let postgres = Location::parse(&team_db.url()).map_err(anyhow::Error::msg)?;
    team::init(
        postgres.team().expect("a team URI"),
        "bench",
        "2026-11-23T09:00:00Z",
    )?;
    let sqlite = Location::File(dir.path().join("bench.db"));
    for location in [&sqlite, &postgres] {
        let mut store = Store::open_at(location, OpenMode::ReadWrite, false)?;
        let started = Instant::now();
        import_file(
            &mut store,
            &clock,
            &export,
            &ImportOptions::default(),
            &mut |_| {},
            &AtomicBool::new(false),
        )?;
        println!(
            "{}: {members} members imported in {:.1} s",
            store.engine().name(),
            started.elapsed().as_secs_f64()
        );
    }
    let organiser = organiser_of_wales(&team_db, &postgres)?;
    println!("(median of 5; ms)");
    println!(
        "{:<14} {:>9} {:>9} {:>13} {:>13} {:>13}",
        "", "SQLite", "", "PostgreSQL", "", "organiser"
    );
    println!(
        "{:<14} {:>9} {:>9} {:>13} {:>13} {:>13}",
        "pane", "1st frame", "rows", "1st frame", "rows", "rows"
    );
    let open = |l: &Location| -> anyhow::Result<Duration> {
        let started = Instant::now();
        drop(Store::open_at(l, OpenMode::ReadWrite, false)?);
        Ok(started.elapsed())
    };
    let opens = |l: &Location| -> anyhow::Result<Duration> {
        let mut runs = (0..5)
            .map(|_| open(l))
            .collect::<anyhow::Result<Vec<_>>>()?;
        runs.sort();
        Ok(runs[2])
    };
    println!(
        "{:<14} {:>19.1} {:>27.1}",
        "open",
        ms(opens(&sqlite)?),
        ms(opens(&postgres)?)
    );
    for id in [
        PaneId::Today,
        PaneId::Renewals,
        PaneId::Onboarding,
        PaneId::Escalations,
    ] {
        let (lf, lr) = time_pane(&sqlite, &clock, id)?;
        let (pf, pr) = time_pane(&postgres, &clock, id)?;
        let (_, or) = time_pane(&organiser, &Clock::fixed(today, "cai"), id)?;
        println!(
            "{:<14} {:>9.1} {:>9.1} {:>13.1} {:>13.1} {:>13.1}",
            id.title(),
            ms(lf),
            ms(lr),
            ms(pf),
            ms(pr),
            ms(or)
        );
    }
    Ok(())
}

/// Puts ann (admin) and cai (organiser of Wales) on the staff list and returns where cai
/// connects, with a password, as a staff member would.
fn organiser_of_wales(
    db: &pg_cluster::TestDatabase,
    postgres: &Location,
) -> anyhow::Result<Location> {
    use rollcall::domain::staff::{Role, Scope};
    use rollcall::storage::staff::{NewStaff, add};
    let mut store = Store::open_at(postgres, OpenMode::ReadWrite, false)?;
    let clock = Clock::fixed(NaiveDate::parse_from_str(TODAY, "%Y-%m-%d")?, "ann");
    for (login, name, role, regions) in [
        ("ann", "Ann Jones", Role::Admin, vec![]),
        (
            "cai",
            "Cai Morgan",
            Role::Organiser,
            vec!["Wales".to_owned()],
        ),
    ] {
        let scope = Scope {
            regions,
            ..Scope::default()
        };
        let new = NewStaff {
            login: login.into(),
            name: name.into(),
            role,
            scope,
        };
        add(&mut store, &clock, &new)?;
    }
    db.execute("ALTER ROLE cai PASSWORD 'bench-only'");
    let url = db.url_as("cai").replacen("cai@", "cai:bench-only@", 1);
    Location::parse(&url).map_err(anyhow::Error::msg)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn new_pane(id: PaneId) -> Box<dyn Pane> {
    match id {
        PaneId::Today => Box::new(TodayPane::new()),
        PaneId::Renewals => Box::<RenewalsPane>::default(),
        PaneId::Onboarding => Box::<OnboardingPane>::default(),
        PaneId::Escalations => Box::<EscalationsPane>::default(),
        PaneId::Search => unreachable!("search has its own benchmark (search_latency)"),
    }
}

/// The median first frame and time to rows of pane `id`, over 5 openings on a warm worker.
fn time_pane(
    location: &Location,
    clock: &Clock,
    id: PaneId,
) -> anyhow::Result<(Duration, Duration)> {
    let store = Store::open_at(location, OpenMode::ReadWrite, false)?;
    let (db, replies) = DbWorker::start(store, clock.clone(), || {});
    let (theme, config) = (Theme::default(), Config::default());
    let waker: Waker = Arc::new(|| {});
    let shared = Shared {
        clock,
        theme: &theme,
        db: &db,
        config: &config,
        waker: &waker,
        access: &rollcall::app::access::FULL,
        staff: &[],
    };
    let mut terminal = Terminal::new(TestBackend::new(120, 35))?;
    let (mut firsts, mut rows) = (Vec::new(), Vec::new());
    for _ in 0..6 {
        let mut pane = new_pane(id);
        let started = Instant::now();
        pane.refresh(&shared);
        terminal.draw(|f| pane.draw(f, f.area(), &shared))?;
        let first = started.elapsed();
        // The worker answers in order: once the barrier is back, so is everything the pane
        // asked for (and anything its replies asked for in turn, before the barrier's turn).
        loop {
            db.request(id, BARRIER, |_, _| Ok(()));
            let mut more = false;
            loop {
                let reply = replies.recv()?;
                if reply.key == BARRIER {
                    break;
                }
                more = true;
                pane.on_reply(reply, &shared);
            }
            if !more {
                break;
            }
        }
        terminal.draw(|f| pane.draw(f, f.area(), &shared))?;
        firsts.push(first);
        rows.push(started.elapsed());
    }
    // The first opening warms the caches, as in a day's use; the median of the other five.
    let median = |mut v: Vec<Duration>| {
        v.remove(0);
        v.sort();
        v[2]
    };
    Ok((median(firsts), median(rows)))
}
