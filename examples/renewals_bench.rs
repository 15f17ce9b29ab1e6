//! Times the renewals queue on a 550,000-member database.
//!
//! ```sh
//! cargo run --release --example renewals_bench            # builds bench-data/renewals-550k.db once
//! cargo run --release --example renewals_bench -- --rebuild
//! ```
//!
//! The database is filled with SQL (no import needed): 550,000 contacts, one membership each
//! plus a second for every 20th, end dates spread evenly from two years ago to a year ahead,
//! realistic shares of lifetime, cancelled, pending, deceased, auto-renewing, do-not-phone and
//! Welsh-speaking members, 600,000 past contact attempts, 5,000 next-action dates, 20,000
//! assignments and an import that renewed 5,000 memberships. Then it times what the pane and the
//! CLI do: load the queue window, filter and order it, log one attempt, log a batch of 40, undo
//! the batch, and load the renewals of the last import.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use rollcall::Clock;
use rollcall::domain::renewal::{self, Channel, Outcome, QueueFilter, Windows};
use rollcall::export::SafeCsvWriter;
use rollcall::storage::renewals::{self, NewAttempt, Target};
use rollcall::storage::{OpenMode, Store};

const MEMBERS: i64 = 550_000;
const TODAY: &str = "2026-11-23";

fn main() -> anyhow::Result<()> {
    let rebuild = std::env::args().any(|a| a == "--rebuild");
    let path = PathBuf::from("bench-data/renewals-550k.db");
    if rebuild || !path.exists() {
        build(&path)?;
    }
    let today = NaiveDate::parse_from_str(TODAY, "%Y-%m-%d")?;
    let clock = Clock::new(today, "bench");
    let windows = Windows {
        due_within_days: 30,
        lapsed_within_days: 90,
    };
    let mut store = Store::open(&path, OpenMode::ReadWrite)?;
    let members: i64 = store
        .conn
        .query_row("SELECT COUNT(*) FROM memberships", [], |r| r.get(0))?;
    let attempts: i64 = store
        .conn
        .query_row("SELECT COUNT(*) FROM contact_attempts", [], |r| r.get(0))?;
    println!(
        "database: {} ({members} memberships, {attempts} contact attempts)",
        path.display()
    );
    print_plan(&store)?;

    let first = Instant::now();
    let rows = renewals::queue(&store.conn, today, windows, None)?;
    let first = first.elapsed();
    println!("queue window: {} rows after exclusions", rows.len());
    report("queue query, first run", &[first]);
    let runs = time(5, || {
        renewals::queue(&store.conn, today, windows, None)?;
        Ok(())
    })?;
    report("queue query", &runs);

    // What memory-mapped reads would give (a store-wide setting, not made by rollcall today).
    store.conn.pragma_update(None, "mmap_size", 1i64 << 30)?;
    report(
        "queue query with PRAGMA mmap_size = 1 GiB",
        &time(5, || {
            renewals::queue(&store.conn, today, windows, None)?;
            Ok(())
        })?,
    );
    store.conn.pragma_update(None, "mmap_size", 0)?;

    let default = QueueFilter::default();
    let arranged = renewal::arrange(&rows, &default, today, "bench");
    println!(
        "shown with default filters: {} ({} due, {} lapsed; {} set aside, {} auto-renewing hidden)",
        arranged.order.len(),
        arranged.due,
        arranged.lapsed,
        arranged.set_aside_hidden,
        arranged.auto_renew_hidden
    );
    report(
        "filter + urgency order (default filters)",
        &time(5, || {
            renewal::arrange(&rows, &default, today, "bench");
            Ok(())
        })?,
    );
    let narrow = QueueFilter {
        region: Some("Wales".into()),
        welsh_only: true,
        not_contacted_days: Some(14),
        ..QueueFilter::default()
    };
    report(
        "filter + urgency order (region, Welsh, not contacted in 14 days)",
        &time(5, || {
            renewal::arrange(&rows, &narrow, today, "bench");
            Ok(())
        })?,
    );

    let targets: Vec<Target> = arranged
        .order
        .iter()
        .map(|&i| Target::from(&rows[i]))
        .collect();
    let attempt = NewAttempt {
        channel: Channel::Phone,
        outcome: Outcome::NoAnswer,
        note: String::new(),
    };
    let mut i = 0;
    report(
        "log one contact attempt (transaction + audit line)",
        &time(20, || {
            i += 1;
            renewals::log_attempts(&mut store, &clock, &targets[i..=i], &attempt).map(|_| ())
        })?,
    );
    let email = NewAttempt {
        channel: Channel::Email,
        outcome: Outcome::LeftMessage,
        note: String::new(),
    };
    let mut undos = Vec::new();
    let mut start = 100;
    report(
        "log a batch of 40 attempts",
        &time(5, || {
            undos.push(renewals::log_attempts(
                &mut store,
                &clock,
                &targets[start..start + 40],
                &email,
            )?);
            start += 40;
            Ok(())
        })?,
    );
    report(
        "undo a batch of 40",
        &time(5, || {
            let undo = undos.pop().expect("a batch to undo");
            renewals::undo(&mut store, &clock, &undo).map(|_| ())
        })?,
    );
    report(
        "renewed in the last import (5,000 events)",
        &time(5, || {
            renewals::renewed_in_last_import(&store.conn)?;
            Ok(())
        })?,
    );
    report(
        "call list: details + CSV for every row shown",
        &time(3, || {
            let mut csv = SafeCsvWriter::new(std::io::sink())?;
            for &i in &arranged.order {
                let d = renewals::contact_details(&store.conn, rows[i].contact_id)?;
                csv.write_record([rows[i].name.as_str(), d.phone.as_str(), d.email.as_str()])?;
            }
            csv.flush()?;
            Ok(())
        })?,
    );
    drop(store);
    time_pane(&path, &clock)?;
    Ok(())
}

/// The pane as the app runs it: `refresh` sends the load to the DB worker, the reply is handed to
/// `on_reply` (which filters, orders and lays out the rows on the UI thread).
fn time_pane(path: &Path, clock: &Clock) -> anyhow::Result<()> {
    use rollcall::app::db::DbWorker;
    use rollcall::app::pane::{Pane, PaneInput, Shared, Waker};
    use rollcall::app::panes::renewals::RenewalsPane;
    use rollcall::app::theme::Theme;
    use rollcall::config::Config;

    let store = Store::open(path, OpenMode::ReadWrite)?;
    let (db, replies) = DbWorker::start(store, clock.clone(), || {});
    let (theme, config) = (Theme::default(), Config::default());
    let waker: Waker = std::sync::Arc::new(|| {});
    let shared = Shared {
        clock,
        theme: &theme,
        db: &db,
        config: &config,
        waker: &waker,
        access: &rollcall::app::access::FULL,
        staff: &[],
    };
    let mut open_runs = Vec::new();
    let mut ui_runs = Vec::new();
    for _ in 0..5 {
        let mut pane = RenewalsPane::default();
        let start = Instant::now();
        pane.refresh(&shared);
        while pane.is_busy() {
            let reply = replies.recv()?;
            let is_queue = reply.key == "queue";
            let ui = Instant::now();
            pane.on_reply(reply, &shared);
            if is_queue {
                ui_runs.push(ui.elapsed());
            }
        }
        open_runs.push(start.elapsed());
        if open_runs.len() == 5 {
            report(
                "open the pane: refresh until every row is in place",
                &open_runs,
            );
            report(
                "  of which on the UI thread (on_reply for the queue)",
                &ui_runs,
            );
            let mut filter_runs = Vec::new();
            for _ in 0..6 {
                let start = Instant::now();
                pane.handle(PaneInput::Action("cycle_bucket"), &shared);
                filter_runs.push(start.elapsed());
            }
            report("change a filter (UI thread)", &filter_runs);
        }
    }
    Ok(())
}

fn time(runs: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<Vec<Duration>> {
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f()?;
        out.push(start.elapsed());
    }
    Ok(out)
}

fn report(what: &str, runs: &[Duration]) {
    let mut sorted = runs.to_vec();
    sorted.sort();
    let median = sorted[sorted.len() / 2];
    let max = sorted[sorted.len() - 1];
    println!(
        "{what}: median {:.1} ms, max {:.1} ms ({} runs)",
        median.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        runs.len()
    );
}

fn print_plan(store: &Store) -> anyhow::Result<()> {
    let mut stmt = store.conn.prepare(
        "EXPLAIN QUERY PLAN
         WITH w AS MATERIALIZED (
             SELECT id, contact_id, crm_membership_id, membership_type, end_date, crm_status,
                    auto_renew
             FROM memberships WHERE end_date BETWEEN '2026-08-25' AND '2026-12-23'
             ORDER BY contact_id)
         SELECT m.id, c.display_name, s.until, a.assignee, la.attempted_at, la.staff
         FROM w m JOIN contacts c ON c.id = m.contact_id
         LEFT JOIN snoozes s ON s.membership_id = m.id
         LEFT JOIN assignments a ON a.contact_id = m.contact_id AND a.queue = 'renewals'
         LEFT JOIN contact_attempts la ON la.id = (
             SELECT ca.id FROM contact_attempts ca WHERE ca.membership_id = m.id
             ORDER BY ca.attempted_at DESC, ca.id DESC LIMIT 1)
         WHERE c.is_deceased = 0",
    )?;
    let plan: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(3))?
        .collect::<Result<_, _>>()?;
    println!("query plan:\n  {}", plan.join("\n  "));
    Ok(())
}

/// Fills a fresh database with synthetic members (no real person's data).
fn build(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    let started = Instant::now();
    let mut store = Store::open(path, OpenMode::ReadWrite)?;
    let tx = store.conn.transaction()?;
    tx.execute_batch(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {MEMBERS})
         INSERT INTO contacts (id, source, crm_id, display_name, sort_name, first_name, last_name,
             email, phone, street_address, city, postcode, preferred_language, do_not_phone,
             do_not_email, do_not_mail, on_hold, is_deceased, local_party, region)
         SELECT i, 'civicrm', i, 'Member ' || i, 'Member, ' || i, 'Member', 'M' || i,
             'member' || i || '@example.org', '07700 ' || (900000 + i % 100000),
             i || ' Example Street', 'Town ' || (i % 300), 'ZZ' || (i % 99) || ' 9ZZ',
             CASE WHEN i % 20 = 0 THEN 'cy_GB' ELSE 'en_GB' END,
             i % 17 = 0, i % 23 = 0, i % 41 = 0, i % 53 = 0, i % 300 = 0,
             'Local Party ' || (i % 600),
             CASE i % 12 WHEN 0 THEN 'Wales' WHEN 1 THEN 'Scotland' WHEN 2 THEN 'London'
                 WHEN 3 THEN 'North West' WHEN 4 THEN 'South West' ELSE 'Region ' || (i % 12) END
         FROM n;

         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {MEMBERS}),
         m(i, contact_id, offset_days) AS (
             SELECT i, i, (i * 7919) % 1096 FROM n
             UNION ALL SELECT {MEMBERS} + i, i, (i * 104729) % 1096 FROM n WHERE i % 20 = 0)
         INSERT INTO memberships (id, contact_id, source, sync_key, crm_membership_id,
             membership_type, join_date, start_date, end_date, crm_status, auto_renew)
         SELECT i, contact_id, 'civicrm', 'id:' || i, i,
             CASE i % 10 WHEN 0 THEN 'Youth' WHEN 1 THEN 'Reduced Rate' ELSE 'Individual' END,
             '2015-01-01', date('{TODAY}', '-731 days', '+' || offset_days || ' days', '-1 year', '+1 day'),
             CASE WHEN i % 100 = 0 THEN NULL
                  ELSE date('{TODAY}', '-731 days', '+' || offset_days || ' days') END,
             CASE WHEN i % 100 = 1 THEN 'Cancelled' WHEN i % 200 = 3 THEN 'Pending'
                  WHEN offset_days >= 731 THEN 'Current'
                  WHEN offset_days >= 700 THEN 'Grace' ELSE 'Expired' END,
             i % 10 < 3
         FROM m;

         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600000)
         INSERT INTO contact_attempts (contact_id, membership_id, channel, outcome, attempted_at, staff)
         SELECT mm.contact_id, mm.id,
             CASE n.i % 3 WHEN 0 THEN 'phone' WHEN 1 THEN 'email' ELSE 'letter' END,
             CASE n.i % 4 WHEN 0 THEN 'no_answer' WHEN 1 THEN 'left_message'
                 WHEN 2 THEN 'will_renew' ELSE 'declined' END,
             date('{TODAY}', '-' || (n.i % 400) || ' days') || 'T10:00:00',
             CASE n.i % 3 WHEN 0 THEN 'ann' WHEN 1 THEN 'bob' ELSE 'cerys' END
         FROM n JOIN memberships mm ON mm.id = (n.i * 31) % {MEMBERS} + 1;

         INSERT INTO snoozes (membership_id, until, staff, created_at)
         SELECT id, date('{TODAY}', '+' || (id % 20 + 1) || ' days'), 'ann', '{TODAY}T09:00:00'
         FROM memberships WHERE id % 110 = 0;

         INSERT INTO assignments (contact_id, queue, assignee, staff, assigned_at)
         SELECT id, 'renewals', CASE id % 2 WHEN 0 THEN 'ann' ELSE 'bob' END, 'ann', '{TODAY}T09:00:00'
         FROM contacts WHERE id % 27 = 0;

         INSERT INTO import_runs (id, started_at, finished_at, staff, as_of, file_name, file_size,
             file_sha256, profile, source, encoding, date_order, renewed)
         VALUES (1, '{TODAY}T08:00:00', '{TODAY}T08:01:00', 'ann', '{TODAY}', 'export.csv', 1,
             'x', 'civicrm', 'civicrm', 'utf-8', 'iso', 5000);

         INSERT INTO membership_events (membership_id, import_id, kind, old_value, new_value,
             occurred_on, credited_attempt_id)
         SELECT m.id, 1, 'renewed', m.end_date, date(m.end_date, '+1 year'), '{TODAY}',
             (SELECT ca.id FROM contact_attempts ca WHERE ca.membership_id = m.id
              ORDER BY ca.attempted_at DESC LIMIT 1)
         FROM memberships m WHERE m.id % 110 = 7 LIMIT 5000;"
    ))?;
    tx.commit()?;
    // No ANALYZE: real databases have no statistics either, so the plan must be good without.
    store
        .conn
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    println!(
        "built {} in {:.1} s",
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
