//! How long the Today pane's figures take on a 550,000-member database.
//!
//! `cargo run --release --example today_bench [-- MEMBERS]` builds a synthetic store with SQL
//! (contacts, memberships, two imports' events, workflow records), then times each job the pane
//! sends, the way the pane sends them (each on the store, one after the other), several times.

use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rollcall::Clock;
use rollcall::app::db::DbWorker;
use rollcall::app::pane::{Pane, Shared, Waker};
use rollcall::app::panes::today::TodayPane;
use rollcall::app::theme::Theme;
use rollcall::config::Config;
use rollcall::storage::stats::{self, ListKind, WorkContext};
use rollcall::storage::{OpenMode, Store};

const TODAY: &str = "2026-11-23";

fn main() -> anyhow::Result<()> {
    let members: i64 = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(550_000);
    let dir = tempfile::tempdir()?;
    // TODAY_BENCH_DB=path keeps the populated database between runs (it is built if missing).
    let path = match std::env::var_os("TODAY_BENCH_DB") {
        Some(p) => std::path::PathBuf::from(p),
        None => dir.path().join("bench.db"),
    };
    if !path.exists() {
        let mut store = Store::open(&path, OpenMode::ReadWrite)?;
        let started = Instant::now();
        populate(&mut store, members)?;
        println!(
            "populated {members} members in {:.1}s",
            started.elapsed().as_secs_f64()
        );
    }

    let store = Store::open(&path, OpenMode::ReadOnly)?;
    let today = NaiveDate::parse_from_str(TODAY, "%Y-%m-%d")?;
    let work = WorkContext {
        today,
        user: "ann".into(),
        steps: stats::default_onboarding_steps(),
    };
    let conn = &store.conn;
    for round in 1..=3 {
        println!("round {round}");
        time("  since last import", || {
            stats::since_last_import(conn).map(|s| format!("{s:?}"))
        })?;
        time("  my work", || {
            stats::my_work(conn, &work).map(|w| format!("{w:?}"))
        })?;
        time("  team figures (whole job)", || {
            stats::team_figures(conn, today).map(|t| format!("{} members", t.members))
        })?;
        for kind in ListKind::SINCE_IMPORT.into_iter().chain(ListKind::MY_WORK) {
            time(&format!("  list {kind:?} (500)"), || {
                stats::list(conn, kind, &work, 500).map(|(r, n)| format!("{} of {n}", r.len()))
            })?;
        }
    }
    drop(store);
    for round in 1..=3 {
        println!("pane, round {round}");
        pane_timings(&path, today)?;
    }
    Ok(())
}

/// What a user sees: the pane's first frame, then each part as its reply arrives, drawn on a
/// 100x30 test terminal exactly as the app would.
fn pane_timings(path: &std::path::Path, today: NaiveDate) -> anyhow::Result<()> {
    let store = Store::open(path, OpenMode::ReadOnly)?;
    let clock = Clock::fixed(today, "ann");
    let (db, replies) = DbWorker::start(store, clock.clone(), || {});
    let (theme, config) = (Theme::default(), Config::default());
    let waker: Waker = Arc::new(|| {});
    let shared = Shared {
        clock: &clock,
        theme: &theme,
        db: &db,
        config: &config,
        waker: &waker,
        access: &rollcall::app::access::READ_ONLY,
        staff: &[],
    };
    let mut pane = TodayPane::new();
    let mut terminal = Terminal::new(TestBackend::new(100, 30))?;
    let started = Instant::now();
    pane.refresh(&shared);
    terminal.draw(|f| pane.draw(f, f.area(), &shared))?;
    let ms = |i: Instant| i.elapsed().as_secs_f64() * 1000.0;
    println!(
        "  {:<32} {:>8.1} ms",
        "first frame (parts loading)",
        ms(started)
    );
    for _ in 0..3 {
        let reply = replies.recv()?;
        let key = reply.key;
        pane.on_reply(reply, &shared);
        terminal.draw(|f| pane.draw(f, f.area(), &shared))?;
        println!("  {:<32} {:>8.1} ms", format!("{key} drawn"), ms(started));
    }
    Ok(())
}

fn time(
    what: &str,
    f: impl FnOnce() -> rollcall::storage::sql::Result<String>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let out = f()?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let out: String = out.chars().take(110).collect();
    println!("{what:<34} {ms:>8.1} ms   {out}");
    Ok(())
}

/// Synthetic rows spread like a real party's: ten years of joiners, end dates a year either side
/// of today, a tenth renewing in each of the last two imports, a few thousand workflow records.
fn populate(store: &mut Store, members: i64) -> anyhow::Result<()> {
    let tx = store.conn.transaction()?;
    tx.execute_batch(&format!(
        "
        INSERT INTO import_runs (id, started_at, finished_at, staff, as_of, file_name, file_size,
            file_sha256, profile, source, encoding, date_order)
        VALUES (1, '2026-11-16T08:00:00', '2026-11-16T08:01:00', 'ann', '2026-11-16', 'a.csv', 0,
                '', 'civicrm', 'civicrm', 'utf-8', 'iso'),
               (2, '2026-11-23T08:00:00', '2026-11-23T08:01:00', 'ann', '{TODAY}', 'b.csv', 0,
                '', 'civicrm', 'civicrm', 'utf-8', 'iso');

        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {members})
        INSERT INTO contacts (id, source, crm_id, display_name, sort_name, region, local_party,
            preferred_language, is_deceased, do_not_phone, first_import_id, last_import_id)
        SELECT i, 'civicrm', CAST(i AS TEXT), 'Member ' || i, 'Member, ' || i,
               'Region ' || (i % 12), 'Local party ' || (i % 640),
               CASE WHEN i % 20 = 0 THEN 'cy_GB' ELSE 'en_GB' END,
               i % 500 = 0, i % 30 = 0, 1, 2
        FROM n;

        INSERT INTO memberships (id, contact_id, source, sync_key, crm_membership_id,
            membership_type, join_date, start_date, end_date, crm_status, auto_renew,
            missing_since, first_import_id, last_import_id)
        SELECT id, id, 'civicrm', 'id:' || id, CAST(id AS TEXT),
               CASE WHEN id % 7 = 0 THEN 'Reduced Rate' ELSE 'Individual' END,
               date('{TODAY}', '-' || ((id * 7919) % 3650) || ' days'),
               date('{TODAY}', '-' || ((id * 7919) % 3650) || ' days'),
               CASE WHEN id % 50 = 0 THEN NULL
                    ELSE date('{TODAY}', '-' || ((id * 104729) % 730) || ' days', '+365 days') END,
               CASE WHEN id % 97 = 0 THEN 'Cancelled' ELSE 'Current' END,
               id % 3 = 0,
               CASE WHEN id % 1000 = 0 THEN 2 END, 1, 2
        FROM contacts;

        INSERT INTO membership_events (membership_id, import_id, kind, old_value, new_value,
            occurred_on)
        SELECT id, 1, 'joined', NULL, NULL, '2026-11-16' FROM memberships;
        INSERT INTO membership_events (membership_id, import_id, kind, old_value, new_value,
            occurred_on)
        SELECT id, CASE WHEN id % 2 = 0 THEN 2 ELSE 1 END, 'renewed',
               date(end_date, '-1 year'), end_date,
               date(end_date, '-1 year', '+' || (id % 40) || ' days')
        FROM memberships WHERE id % 10 < 4 AND end_date IS NOT NULL;
        INSERT INTO membership_events (membership_id, import_id, kind, old_value, new_value,
            occurred_on)
        SELECT id, 2, 'status_changed', 'Grace', 'Expired', '{TODAY}'
        FROM memberships WHERE id % 300 = 0;
        INSERT INTO membership_events (membership_id, import_id, kind, occurred_on)
        SELECT id, 2, 'missing', '{TODAY}' FROM memberships WHERE missing_since = 2;

        INSERT INTO contact_attempts (contact_id, membership_id, channel, outcome, note,
            attempted_at, staff)
        SELECT id, id, CASE id % 3 WHEN 0 THEN 'phone' WHEN 1 THEN 'email' ELSE 'letter' END,
               CASE id % 4 WHEN 0 THEN 'will_renew' WHEN 1 THEN 'no_answer'
                    WHEN 2 THEN 'left_message' ELSE 'renewed' END,
               '', date('{TODAY}', '-' || (id % 60) || ' days') || 'T10:00:00',
               CASE id % 5 WHEN 0 THEN 'ann' ELSE 'bob' END
        FROM memberships WHERE id % 11 = 0;
        UPDATE membership_events SET credited_attempt_id = (
            SELECT a.id FROM contact_attempts a WHERE a.membership_id = membership_events.membership_id)
        WHERE kind = 'renewed' AND membership_id % 11 = 0;
        INSERT INTO snoozes (membership_id, until, staff, created_at)
        SELECT id, date('{TODAY}', '-' || (id % 20) || ' days', '+10 days'), 'ann',
               '2026-11-01T09:00:00'
        FROM memberships WHERE id % 101 = 0;
        INSERT INTO assignments (contact_id, queue, assignee, staff, assigned_at)
        SELECT id, 'renewals', CASE id % 2 WHEN 0 THEN 'ann' ELSE 'bob' END, 'ann',
               '2026-11-01T09:00:00'
        FROM contacts WHERE id % 37 = 0;
        INSERT INTO onboarding (contact_id, anchor_date, added_by, added_at)
        SELECT m.contact_id, m.join_date, 'import', '2026-11-01T09:00:00'
        FROM memberships m WHERE m.join_date >= date('{TODAY}', '-90 days');
        INSERT INTO assignments (contact_id, queue, assignee, staff, assigned_at)
        SELECT contact_id, 'onboarding', CASE contact_id % 3 WHEN 0 THEN 'ann' ELSE 'bob' END,
               'ann', '2026-11-01T09:00:00'
        FROM onboarding;
        INSERT INTO onboarding_steps (contact_id, step_key, done_at, done_by)
        SELECT contact_id, 'welcome_email', anchor_date || 'T09:00:00', 'ann' FROM onboarding
        WHERE contact_id % 2 = 0;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
        INSERT INTO escalations (contact_id, category, priority, title, assignee, status,
            opened_at, opened_by, due_date)
        SELECT (i * 97) % {members} + 1, 'complaint', 'normal', 'Escalation ' || i,
               CASE i % 3 WHEN 0 THEN 'ann' WHEN 1 THEN 'bob' END,
               CASE WHEN i % 4 = 0 THEN 'resolved' ELSE 'open' END,
               '2026-11-01T09:00:00', 'ann', date('{TODAY}', '-' || (i % 30) || ' days', '+10 days')
        FROM n;
        "
    ))?;
    tx.commit()?;
    store.conn.execute_batch("ANALYZE")?;
    Ok(())
}
