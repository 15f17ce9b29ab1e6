//! Two real app windows on one database, each a `rollcall` process on its own pseudo-terminal,
//! with an import and an erasure run in a third process. What a user at either window would
//! notice: a change made in one window shows in the other without a key pressed there, no
//! screen ever says "locked" or "busy", no write made in a window is lost, and a person erased
//! in another terminal drops out of an open search.
//!
//! The windows are driven with keys and read from the screen (see `trust_windows_support`); the
//! database is only read directly to count what was written.

mod trust_processes;
mod trust_support;
mod trust_windows_support;

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use trust_processes::{command, generate, import};
use trust_windows_support::{DEADLINE, Window};

/// Big enough for a renewals queue; small enough that each test takes seconds.
const MEMBERS: u32 = 2000;
/// The later export: the same CRM two weeks on, grown to this size, so that its import takes
/// a moment (about a second in a debug build) while the windows work.
const MEMBERS_LATER: u32 = 8000;

fn count(db: &Path, sql: &str) -> i64 {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    conn.busy_timeout(Duration::from_secs(30)).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn attempts_by(db: &Path, staff: &str) -> i64 {
    count(
        db,
        &format!("SELECT count(*) FROM contact_attempts WHERE staff = '{staff}'"),
    )
}

fn audit_lines_by(db: &Path, staff: &str) -> i64 {
    count(
        db,
        &format!(
            "SELECT count(*) FROM audit_log WHERE staff = '{staff}' \
             AND action = 'log_contact_attempt'"
        ),
    )
}

/// Polls the database until `staff` has `n` contact attempts (a write can wait behind another
/// process's transaction); fails after the deadline.
fn wait_for_attempts(db: &Path, staff: &str, n: i64) {
    let deadline = Instant::now() + DEADLINE;
    while attempts_by(db, staff) < n {
        assert!(
            Instant::now() < deadline,
            "{staff}'s attempt {n} was not written within {DEADLINE:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Switches `window` to the renewals pane and waits for its queue, with a row highlighted and
/// its detail lines drawn.
fn show_renewals(window: &mut Window) {
    window.send("2");
    window.wait_for("the renewals queue", |s| {
        s.contains("[2 Renewals]") && (s.contains("Never contacted") || s.contains("Last contact"))
    });
}

/// Logs an in-person contact attempt with `outcome` (its key, and its words) on the highlighted
/// row. In person: no member's contact preferences refuse it. The outcomes used here settle
/// nothing, so the row stays in the queue.
fn log_attempt(window: &mut Window, outcome: (char, &str)) {
    window.send(&format!("ci{}", outcome.0));
    window.wait_for_text(&format!("Logged in person, {} for 1 member", outcome.1));
}

const NO_ANSWER: (char, &str) = ('n', "no answer");
const LEFT_MESSAGE: (char, &str) = ('m', "left message");
const WRONG_NUMBER: (char, &str) = ('x', "wrong number");

/// The highlighted row's detail: its name line and its dates line.
fn highlighted(screen: &str) -> String {
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("Ends ") || l.contains("│Ends "))
        .unwrap_or(0);
    lines[at.saturating_sub(1)..=at].join("\n")
}

/// Moves both windows to the top row until they highlight the same one: a window that reloads
/// after the key keeps its highlighted row, which may no longer be the top one.
fn highlight_the_same_top_row(a: &mut Window, b: &mut Window) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        a.send("g");
        b.send("g");
        let (sa, sb) = (a.screen(), b.screen());
        if highlighted(&sa).contains("Ends ") && highlighted(&sa) == highlighted(&sb) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the windows never showed the same top row:\n{sa}\n{sb}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn finished(import: &mut Child) -> bool {
    import.try_wait().unwrap().is_some()
}

#[test]
fn two_windows_see_each_others_changes_and_lose_nothing_to_an_import() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcall.db");
    import(&db, &generate(dir.path(), MEMBERS, 3));

    let mut a = Window::open("window A", &db, "amira");
    let mut b = Window::open("window B", &db, "bryn");
    show_renewals(&mut a);
    show_renewals(&mut b);
    highlight_the_same_top_row(&mut a, &mut b);

    // A logs an attempt on the highlighted row; B, on the same row, shows it with no key
    // pressed there.
    log_attempt(&mut a, NO_ANSWER);
    b.wait_for_text("in person, no answer, by amira");
    // And the other way round.
    log_attempt(&mut b, LEFT_MESSAGE);
    a.wait_for_text("in person, left message, by bryn");
    let (mut logged_a, mut logged_b) = (1, 1);

    // Switching away and back shows it too.
    a.send("0");
    a.wait_for_text("[0 Today]");
    show_renewals(&mut a);
    a.wait_for_text("in person, left message, by bryn");

    // An import of a later export in a third process, while both windows keep working: each
    // logs attempts on the next rows down, and reloads by moving between panes.
    let later = dir.path().join("later.csv");
    let out = command(&db)
        .args(["generate", "--members", &MEMBERS_LATER.to_string()])
        .args(["--seed", "3", "--advance", "14"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&later, &out.stdout).unwrap();
    let imports_before = count(&db, "SELECT count(*) FROM import_runs");
    let mut import = command(&db)
        .arg("import")
        .arg(&later)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (mut rounds, mut rounds_during_import) = (0, 0);
    while rounds < 3 || !finished(&mut import) {
        rounds += 1;
        assert!(rounds < 200, "the import is still running");
        for (window, logged) in [(&mut a, &mut logged_a), (&mut b, &mut logged_b)] {
            window.send("j");
            window.send(&format!("ci{}", NO_ANSWER.0));
            *logged += 1;
        }
        if !finished(&mut import) {
            rounds_during_import += 1;
        }
        a.send("1");
        a.wait_for_text("[1 Search]");
        show_renewals(&mut a);
        b.send("0");
        b.wait_for_text("[0 Today]");
        show_renewals(&mut b);
        wait_for_attempts(&db, "amira", logged_a);
        wait_for_attempts(&db, "bryn", logged_b);
    }
    let import = import.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&import.stderr).to_lowercase();
    assert!(import.status.success(), "the import failed: {stderr}");
    assert!(
        !stderr.contains("locked") && !stderr.contains("busy"),
        "{stderr}"
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM import_runs"),
        imports_before + 1
    );
    assert!(
        rounds_during_import > 0,
        "the windows' writes were all sent after the import had finished"
    );

    // After the import, each window still shows the other's changes without a key.
    highlight_the_same_top_row(&mut a, &mut b);
    log_attempt(&mut a, LEFT_MESSAGE);
    b.wait_for_text("in person, left message, by amira");
    log_attempt(&mut b, WRONG_NUMBER);
    a.wait_for_text("in person, wrong number, by bryn");
    logged_a += 1;
    logged_b += 1;

    a.assert_never_showed_forbidden();
    b.assert_never_showed_forbidden();
    a.quit();
    b.quit();

    // Every attempt made in either window is in the database, each with its audit line.
    assert_eq!(attempts_by(&db, "amira"), logged_a);
    assert_eq!(attempts_by(&db, "bryn"), logged_b);
    assert_eq!(audit_lines_by(&db, "amira"), logged_a);
    assert_eq!(audit_lines_by(&db, "bryn"), logged_b);
}

/// A member found in an open search pane, with its index in memory; `rollcall forget` in
/// another process; no key pressed in the window.
#[test]
fn a_member_erased_in_another_terminal_drops_out_of_an_open_search() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcall.db");
    import(&db, &generate(dir.path(), 300, 5));
    // Someone whose name nobody else shares, found by their email.
    let (crm_id, name, email): (String, String, String) = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT crm_id, display_name, email FROM contacts
             WHERE email LIKE '%@%' AND display_name IN
               (SELECT display_name FROM contacts GROUP BY display_name HAVING count(*) = 1)
             ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();

    let mut window = Window::open("window", &db, "amira");
    window.send("1");
    window.wait_for_text("300 members");
    window.send("/");
    window.send(&email);
    window.wait_for_text(&name);

    let out = command(&db)
        .args(["forget", &crm_id, "--yes"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "forget failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let screen = window.wait_until_gone(&name);
    assert!(
        screen.contains(&format!("/ {email}")),
        "the query is still there, untouched:\n{screen}"
    );
    window.wait_for_text("No member matches.");
    window.assert_never_showed_forbidden();
}
