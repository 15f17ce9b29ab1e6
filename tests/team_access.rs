//! Access on a team database is enforced by PostgreSQL itself (issue 16): each staff member is a
//! database login in the role of their staff role. An organiser's login sees only its region, in
//! rollcall and in `psql`; only coordinators see data-protection escalations; a viewer's writes
//! are refused; a staff member acts as their login; a removed one cannot connect, and their
//! history stays theirs. Real logins with real passwords on a throwaway server.

#[path = "support/pg_cluster.rs"]
mod pg_cluster;
mod trust_support;
mod trust_windows_support;

use std::process::Command as Process;

use assert_cmd::Command;
use pg_cluster::TestDatabase;
use rollcall::storage::sql::params;
use rollcall::storage::{Location, OpenMode, Store};

const PASSWORD: &str = "staff-test-only";

struct Team {
    db: TestDatabase,
}

impl Team {
    /// A team database with members in two regions, two escalations (one a data-protection
    /// request), and staff: ann (admin), bo (officer), cai (organiser for Wales), dee
    /// (coordinator), vic (viewer), each a login with a password.
    fn new() -> Team {
        // Logins belong to the whole server, shared by this file's tests: one at a time
        // changes them (PostgreSQL refuses two changes to one role at once).
        static LOGINS: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _turn = LOGINS.lock().unwrap_or_else(|e| e.into_inner());
        let db = pg_cluster::database();
        let team = Team { db };
        rollcall::storage::team::init(
            Location::parse(&team.db.url()).unwrap().team().unwrap(),
            "setup",
            "2026-11-23T09:00:00+00:00",
        )
        .unwrap();
        team.seed();
        // The server's administrator starts the list, on ann's behalf.
        team.setup(&[
            "team",
            "add-staff",
            "ann",
            "--name",
            "Ann Jones",
            "--role",
            "admin",
        ]);
        team.db
            .execute(&format!("ALTER ROLE ann PASSWORD '{PASSWORD}'"));
        for (login, name, role, extra) in [
            ("bo", "Bo Evans", "officer", None),
            ("cai", "Cai Morgan", "organiser", Some("Wales")),
            ("dee", "Dee Price", "coordinator", None),
            ("vic", "Vic Hale", "viewer", None),
        ] {
            let mut args = vec!["team", "add-staff", login, "--name", name, "--role", role];
            if let Some(region) = extra {
                args.extend(["--region", region]);
            }
            team.ok("ann", &args);
            team.db
                .execute(&format!("ALTER ROLE {login} PASSWORD '{PASSWORD}'"));
        }
        team
    }

    fn seed(&self) {
        let store = Store::open_at(
            &Location::parse(&self.db.url()).unwrap(),
            OpenMode::ReadWrite,
            false,
        )
        .unwrap();
        for (crm_id, first, region, end) in [
            ("1", "Aled", "Wales", "2026-11-30"),
            ("2", "Bethan", "Wales", "2026-12-01"),
            ("3", "Colin", "North West", "2026-11-29"),
        ] {
            let contact: i64 = store
                .conn
                .query_row(
                    "INSERT INTO contacts (source, crm_id, display_name, first_name, last_name,
                         region, local_party)
                     VALUES ('civicrm', ?1, ?2 || ' Jones', ?2, 'Jones', ?3, ?3 || ' Central')
                     RETURNING id",
                    params![crm_id, first, region],
                    |r| r.get(0),
                )
                .unwrap();
            store
                .conn
                .execute(
                    "INSERT INTO memberships (contact_id, source, sync_key, crm_membership_id,
                         membership_type, join_date, start_date, end_date, crm_status)
                     VALUES (?1, 'civicrm', 'id:' || ?2, ?2, 'Individual', '2020-01-01',
                         '2020-01-01', ?3, 'Current')",
                    params![contact, crm_id, end],
                )
                .unwrap();
        }
        drop(store);
        for (category, title) in [
            ("complaint", "Letter went astray"),
            ("data_protection", "Subject access request"),
        ] {
            self.setup(&[
                "escalate",
                "--contact",
                "1",
                "--category",
                category,
                "--priority",
                "normal",
                "--title",
                title,
            ]);
        }
    }

    /// The URI of `login` with its password.
    fn url_of(&self, login: &str) -> String {
        self.db
            .url_as(login)
            .replacen(&format!("{login}@"), &format!("{login}:{PASSWORD}@"), 1)
    }

    fn rollcall(&self, url: &str) -> Command {
        let mut cmd = Command::cargo_bin("rollcall").unwrap();
        cmd.env("ROLLCALL_DB", url)
            .env("ROLLCALL_TODAY", "2026-11-23")
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .env_remove("ROLLCALL_USER")
            .env_remove("ROLLCALL_READ_ONLY")
            .env_remove("PGPASSWORD");
        cmd
    }

    /// As the server's superuser (not staff), acting for ann.
    fn setup(&self, args: &[&str]) -> String {
        let out = self
            .rollcall(&self.db.url())
            .env("ROLLCALL_USER", "ann")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `login` runs `args` and succeeds; its standard output.
    fn ok(&self, login: &str, args: &[&str]) -> String {
        let out = self
            .rollcall(&self.url_of(login))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{login} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `login` runs `args` and is refused; its standard error.
    fn refused(&self, login: &str, args: &[&str]) -> String {
        let out = self
            .rollcall(&self.url_of(login))
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{login} {args:?} should be refused");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(!err.contains(PASSWORD), "{err}");
        err
    }

    /// `sql` in `psql` as `login`; the rows, or psql's error.
    fn psql(&self, login: &str, sql: &str) -> Result<String, String> {
        let socket = self.db.url().split("?host=").nth(1).unwrap().to_owned();
        let out = Process::new(pg_cluster::psql())
            .args([
                "-X",
                "-A",
                "-t",
                "-h",
                &socket,
                "-U",
                login,
                "-d",
                self.db.name(),
                "-c",
                sql,
            ])
            .env("PGPASSWORD", PASSWORD)
            .output()
            .unwrap();
        if out.status.success() {
            Ok(String::from_utf8(out.stdout).unwrap().trim().to_owned())
        } else {
            Err(String::from_utf8(out.stderr).unwrap())
        }
    }
}

#[test]
fn an_organiser_sees_only_their_region_in_rollcall_and_in_psql() {
    let team = Team::new();
    let renewals = team.ok("cai", &["renewals"]);
    assert!(
        renewals.contains("Aled Jones") && renewals.contains("Bethan Jones"),
        "{renewals}"
    );
    assert!(!renewals.contains("Colin"), "{renewals}");
    let search = team.ok("cai", &["search", "jones"]);
    assert!(!search.contains("Colin"), "{search}");
    assert!(search.contains("Aled"), "{search}");
    assert_eq!(
        team.psql("cai", "SELECT count(*) FROM contacts").unwrap(),
        "2"
    );
    assert_eq!(
        team.psql("cai", "SELECT count(*) FROM memberships")
            .unwrap(),
        "2"
    );
    // An officer sees everyone.
    assert_eq!(
        team.psql("bo", "SELECT count(*) FROM contacts").unwrap(),
        "3"
    );
    assert!(team.ok("bo", &["renewals"]).contains("Colin Jones"));
}

#[test]
fn only_coordinators_see_data_protection_escalations() {
    let team = Team::new();
    let officer = team.ok("bo", &["escalations"]);
    assert!(officer.contains("Letter went astray"), "{officer}");
    assert!(!officer.contains("Subject access request"), "{officer}");
    assert_eq!(
        team.psql(
            "bo",
            "SELECT count(*) FROM escalations WHERE category = 'data_protection'"
        )
        .unwrap(),
        "0"
    );
    assert!(
        team.ok("dee", &["escalations"])
            .contains("Subject access request")
    );
    assert!(
        team.ok("ann", &["escalations"])
            .contains("Subject access request")
    );
}

#[test]
fn a_viewer_reads_and_every_write_is_refused_in_words() {
    let team = Team::new();
    assert!(team.ok("vic", &["renewals"]).contains("Colin Jones"));
    let err = team.refused(
        "vic",
        &[
            "escalate",
            "--contact",
            "2",
            "--category",
            "complaint",
            "--priority",
            "low",
            "--title",
            "From a viewer",
        ],
    );
    assert!(
        err.contains("your staff role is viewer, which only reads"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let psql = team
        .psql(
            "vic",
            "INSERT INTO notes (contact_id, staff, created_at, body, context)
                       VALUES (1, 'vic', 'now', 'x', 'renewals')",
        )
        .unwrap_err();
    assert!(psql.contains("permission denied"), "{psql}");
}

#[test]
fn only_an_admin_imports_and_erases_and_the_server_says_so() {
    let team = Team::new();
    let err = team.refused("bo", &["forget", "3", "--yes"]);
    assert!(err.contains("your staff role does not allow it"), "{err}");
    assert_eq!(
        team.psql("ann", "SELECT count(*) FROM contacts").unwrap(),
        "3",
        "nothing erased"
    );
    let err = team.psql("bo", "DELETE FROM contacts").unwrap_err();
    assert!(err.contains("permission denied"), "{err}");
}

#[test]
fn staff_act_as_their_login_and_a_removed_one_cannot_connect() {
    let team = Team::new();
    let err = team.refused_with_user("bo", "ann", &["renewals"]);
    assert!(
        err.contains("you act as the login you connected as, bo"),
        "{err}"
    );
    team.ok(
        "bo",
        &[
            "escalate",
            "--contact",
            "3",
            "--category",
            "complaint",
            "--priority",
            "low",
            "--title",
            "Bo's call",
            "--assign",
            "dee",
        ],
    );
    team.ok("ann", &["team", "remove-staff", "bo"]);
    let err = team.refused("bo", &["renewals"]);
    assert!(err.contains("bo may not connect to this database"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(team.psql("bo", "SELECT 1").is_err(), "nor in psql");
    let audit = team.ok("ann", &["audit"]);
    assert!(
        audit
            .lines()
            .any(|l| l.contains("bo") && l.contains("escalation")),
        "their history stays theirs: {audit}"
    );
}

impl Team {
    fn refused_with_user(&self, login: &str, user: &str, args: &[&str]) -> String {
        let out = self
            .rollcall(&self.url_of(login))
            .env("ROLLCALL_USER", user)
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} should be refused");
        String::from_utf8(out.stderr).unwrap()
    }
}

#[test]
fn a_viewers_window_refuses_changes_and_says_it_is_their_role() {
    use trust_windows_support::Window;
    let team = Team::new();
    let home = tempfile::tempdir().unwrap();
    let mut vic = Window::open_on(
        "vic's window",
        team.url_of("vic").as_ref(),
        home.path(),
        "vic",
    );
    vic.send("4");
    vic.wait_for_text("[Mine 0]");
    // Mine, Unassigned, Overdue, All open.
    vic.send("vvv");
    vic.wait_for_text("Letter went astray");
    vic.send("a");
    let screen = vic.wait_for_text("read-only (your staff role is viewer)");
    assert!(!screen.contains("--read-only"), "{screen}");
    vic.quit();
}

/// The organiser for Wales sees no member of the North West anywhere: not in the CLI's lists,
/// exports or audit trail, and not in any pane of their window.
#[test]
fn an_organisers_every_command_and_pane_shows_only_their_region() {
    use trust_windows_support::Window;
    let team = Team::new();
    for args in [
        &["search", "jones"][..],
        &["renewals"],
        &["escalations", "--all"],
        &["export", "members"],
        &["audit"],
        &["stats"],
    ] {
        let out = team.ok("cai", args);
        assert!(!out.contains("Colin"), "cai {args:?}:\n{out}");
    }
    let escalations = team.ok("cai", &["escalations", "--all"]);
    assert!(escalations.contains("Letter went astray"), "{escalations}");
    assert!(!escalations.contains("Subject access"), "{escalations}");
    let export = team.ok("cai", &["export", "members"]);
    assert!(
        export.contains("Aled") && export.contains("Bethan"),
        "{export}"
    );
    // The same commands as an officer do show Colin: the test can fail.
    assert!(team.ok("bo", &["export", "members"]).contains("Colin"));

    let home = tempfile::tempdir().unwrap();
    let mut cai = Window::open_on(
        "cai's window",
        team.url_of("cai").as_ref(),
        home.path(),
        "cai",
    );
    for (pane, loaded) in [
        ("0", "[0 Today]"),
        ("2", "[2 Renewals]"),
        ("3", "[3 Onboarding]"),
        ("4", "[Mine 0]"),
    ] {
        cai.send(pane);
        let screen = cai.wait_for_text(loaded);
        assert!(!screen.contains("Colin"), "pane {pane}:\n{screen}");
    }
    cai.send("vvv");
    let screen = cai.wait_for_text("Letter went astray");
    assert!(!screen.contains("Subject access"), "{screen}");
    // Search last: its query takes every key, so Ctrl-C quits.
    cai.send("1");
    cai.send("/jones");
    let screen = cai.wait_for_text("2 matches");
    assert!(
        screen.contains("Bethan Jones") && !screen.contains("Colin"),
        "{screen}"
    );
    cai.quit_with("\x03");
}

/// An officer can raise a safeguarding concern or a data-protection request (a member says it
/// on the phone) but, once raised, cannot read it, its events or its audit lines, nor write to
/// one they did not just raise; a coordinator sees it.
#[test]
fn an_officer_raises_a_restricted_escalation_they_then_cannot_see() {
    let team = Team::new();
    let id = team.ok(
        "bo",
        &[
            "escalate",
            "--contact",
            "2",
            "--category",
            "safeguarding",
            "--priority",
            "high",
            "--title",
            "Worried about a vulnerable member",
        ],
    );
    let id = id.trim();
    assert!(id.parse::<i64>().is_ok(), "the new id: {id}");
    let officer = team.ok("bo", &["escalations"]);
    assert!(!officer.contains("Worried about"), "{officer}");
    let coordinator = team.ok("dee", &["escalations"]);
    assert!(coordinator.contains("Worried about"), "{coordinator}");
    // Nor the audit trail: the lines about either restricted escalation are coordinators'.
    for login in ["bo", "cai"] {
        let audit = team.ok(login, &["audit", "--json"]);
        assert!(!audit.contains("Worried about"), "{login}:\n{audit}");
        assert!(
            !audit.contains("Subject access request"),
            "{login}:\n{audit}"
        );
    }
    let audit = team.ok("dee", &["audit", "--json"]);
    assert!(audit.contains("Worried about"), "{audit}");
    assert_eq!(
        team.psql(
            "bo",
            "SELECT count(*) FROM escalation_events e JOIN escalations x ON x.id = e.escalation_id
             WHERE x.category = 'safeguarding'"
        )
        .unwrap(),
        "0"
    );
    // Writing into an escalation bo did not just raise (a fresh session) is refused.
    let err = team
        .psql(
            "bo",
            &format!(
                "INSERT INTO escalation_events (escalation_id, kind, body, staff, at)
                 VALUES ({id}, 'comment', 'peeking', 'bo', '2026-11-23T10:00:00')"
            ),
        )
        .unwrap_err();
    assert!(err.contains("row-level security"), "{err}");
}

#[test]
fn an_organiser_sees_only_their_region_s_change_feed() {
    let team = Team::new();
    let store = Store::open_at(
        &Location::parse(&team.db.url()).unwrap(),
        OpenMode::ReadWrite,
        false,
    )
    .unwrap();
    let run: i64 = store
        .conn
        .query_row(
            "INSERT INTO import_runs (started_at, staff, as_of, file_name, file_size,
                 file_sha256, profile, source, encoding, date_order)
             VALUES ('2026-11-23T09:00:00', 'ann', '2026-11-23', 'x.csv', 1, '', 'civicrm',
                 'civicrm', 'utf-8', 'iso')
             RETURNING id",
            [],
            |r| r.get(0),
        )
        .unwrap();
    store
        .conn
        .execute(
            "INSERT INTO field_changes (contact_id, import_id, field, old_value, new_value,
                 occurred_on)
             SELECT id, ?1, 'email', 'old@example.org', 'new@example.org', '2026-11-23'
             FROM contacts WHERE crm_id IN ('1', '3')",
            [run],
        )
        .unwrap();
    drop(store);
    assert_eq!(
        team.psql("cai", "SELECT count(*) FROM field_changes")
            .unwrap(),
        "1"
    );
    let feed = team.ok("cai", &["changes"]);
    assert!(feed.contains("Aled Jones"), "{feed}");
    assert!(!feed.contains("Colin"), "{feed}");
    assert_eq!(
        team.psql("bo", "SELECT count(*) FROM field_changes")
            .unwrap(),
        "2"
    );
    // Import writes it; staff never do.
    assert!(
        team.psql("bo", "DELETE FROM field_changes")
            .unwrap_err()
            .contains("permission denied")
    );
}
