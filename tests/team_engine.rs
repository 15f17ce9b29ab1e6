//! The team engine: `rollcall team init` and opening a shared PostgreSQL database, against a
//! real throwaway server (tests/support/pg_cluster.rs).

#[path = "support/pg_cluster.rs"]
mod pg_cluster;

use assert_cmd::Command;

fn rollcall(db: &str) -> Command {
    let mut cmd = Command::cargo_bin("rollcall").unwrap();
    cmd.env("ROLLCALL_DB", db)
        .env("ROLLCALL_TODAY", "2026-11-23")
        .env("ROLLCALL_USER", "amira")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env_remove("PGPASSWORD");
    cmd
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn team_init_creates_the_schema_once_and_says_so() {
    let db = pg_cluster::database();
    let out = rollcall(&db.url()).args(["team", "init"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!(
            "Created rollcall's schema (version {}",
            rollcall::storage::SCHEMA_VERSION
        )),
        "{said}"
    );
    let again = rollcall(&db.url()).args(["team", "init"]).output().unwrap();
    assert!(again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("nothing was changed"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    // And the database opens for every command.
    let stats = rollcall(&db.url()).args(["imports"]).output().unwrap();
    assert!(stats.status.success(), "{}", stderr(&stats));
}

#[test]
fn a_database_without_rollcalls_schema_is_refused_with_what_to_do() {
    let db = pg_cluster::database();
    let out = rollcall(&db.url()).args(["renewals"]).output().unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("run `rollcall team init`"),
        "{}",
        stderr(&out)
    );

    db.execute("CREATE TABLE invoices (id int)");
    for args in [&["team", "init"][..], &["renewals"][..]] {
        let out = rollcall(&db.url()).args(args).output().unwrap();
        assert!(!out.status.success());
        assert!(
            stderr(&out).contains("not one rollcall made"),
            "{}",
            stderr(&out)
        );
    }
    let mut client = db.client();
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        tables, 1,
        "nothing was created beside the other program's table"
    );
}

#[test]
fn a_newer_schema_is_refused_untouched() {
    let db = pg_cluster::database();
    rollcall(&db.url())
        .args(["team", "init"])
        .assert()
        .success();
    db.execute("UPDATE rollcall_schema SET version = 99");
    let out = rollcall(&db.url()).args(["renewals"]).output().unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("upgrade rollcall"),
        "{}",
        stderr(&out)
    );
    let v: i64 = db
        .client()
        .query_one("SELECT version FROM rollcall_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(v, 99);
}

#[test]
fn login_and_database_mistakes_are_one_line_each_and_never_show_the_password() {
    let db = pg_cluster::database();
    db.execute("CREATE ROLE ann LOGIN PASSWORD 'right-horse-battery'");
    let socket = db.url().split("?host=").nth(1).unwrap().to_owned();
    let wrong = format!(
        "postgresql://ann:wrong-Pa55word@/{}?host={socket}",
        db.name()
    );
    let out = rollcall(&wrong).args(["renewals"]).output().unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("refused the login of ann"), "{err}");
    assert!(!err.contains("wrong-Pa55word"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let missing = format!("postgresql://postgres@/no_such_db?host={socket}");
    let err = stderr(&rollcall(&missing).args(["renewals"]).output().unwrap());
    assert!(err.contains("no database no_such_db"), "{err}");

    let unreachable = "postgresql://postgres@/x?host=/nonexistent-socket-dir";
    let err = stderr(&rollcall(unreachable).args(["renewals"]).output().unwrap());
    assert!(err.contains("team database unreachable"), "{err}");

    let bad = "postgresql://ann:s3cret@host:notaport/db";
    let out = rollcall(bad).args(["renewals"]).output().unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not a PostgreSQL connection URI"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("s3cret"));

    let help = Command::cargo_bin("rollcall")
        .unwrap()
        .env("ROLLCALL_DB", &wrong)
        .arg("--help")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&help.stdout).contains("wrong-Pa55word"));
}

#[path = "support/engines.rs"]
mod engines;

engines::on_both_engines! {
    fn an_escalation_opened_from_a_script_is_listed(db: &TestDb) {
        // Seed one contact the way an import would leave it.
        let store = db.open();
        store
            .conn
            .execute(
                "INSERT INTO contacts (source, crm_id, display_name, sort_name)
                 VALUES ('civicrm', '4417', 'Siân Evans', 'Evans, Siân')",
                [],
            )
            .unwrap();
        drop(store);
        let out = rollcall(&db.url())
            .args(["escalate", "--contact", "4417", "--category", "complaint", "--priority", "high", "--title", "Card never came"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let list = rollcall(&db.url()).args(["escalations", "--all"]).output().unwrap();
        assert!(list.status.success(), "{}", stderr(&list));
        let text = String::from_utf8_lossy(&list.stdout);
        assert!(text.contains("Card never came"), "{text}");
        assert!(text.contains("4417"), "{text}");
    }
}

#[path = "import_support/mod.rs"]
mod import_support;

engines::on_both_engines! {
    /// The "done when": two officers on one database; one logs a call, the other sees it
    /// in their renewals queue.
    fn one_officers_logged_call_is_in_the_others_renewals_queue(db: &TestDb) {
        let today = "2026-11-23";
        let out = rollcall(&db.url())
            .args(["import", "--json"])
            .arg(import_support::fixture("civicrm_small.csv"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        // Ann, on her laptop, logs a call on the first member due.
        let mut store = db.open();
        let day = chrono::NaiveDate::parse_from_str(today, "%Y-%m-%d").unwrap();
        let queue = rollcall::storage::renewals::queue(
            &store.conn,
            day,
            rollcall::domain::renewal::Windows::from(&rollcall::config::RenewalsConfig::default()),
            None,
        )
        .unwrap();
        let first = queue.iter().find(|r| !r.auto_renew).expect("someone to call");
        let ann = rollcall::Clock::fixed(day, "ann");
        rollcall::storage::renewals::log_attempts(
            &mut store,
            &ann,
            &[rollcall::storage::renewals::Target::from(first)],
            &rollcall::storage::renewals::NewAttempt {
                channel: rollcall::domain::renewal::Channel::Phone,
                outcome: rollcall::domain::renewal::Outcome::WillRenew,
                note: "Will renew online tonight".into(),
            },
        )
        .unwrap();
        drop(store);
        // Bo, on his, runs the queue.
        let out = rollcall(&db.url())
            .env("ROLLCALL_USER", "bo")
            .args(["renewals"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        let seen: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("phone, will renew (ann)"))
            .collect();
        assert_eq!(seen.len(), 1, "Bo sees Ann's call, on one member:\n{text}");
    }
}

/// On PostgreSQL an immediate transaction (check, then write) waits for another one, as on
/// SQLite, so two officers' undo checks or batch ids never interleave.
#[test]
fn immediate_transactions_take_turns_on_postgresql() {
    use rollcall::storage::sql::TransactionBehavior;
    let db = engines::TestDb::postgres();
    let mut first = db.open();
    let tx = first
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .unwrap();
    let url = db.url();
    let second = std::thread::spawn(move || {
        let location = rollcall::storage::Location::parse(&url).unwrap();
        let mut store = rollcall::storage::Store::open_at(
            &location,
            rollcall::storage::OpenMode::ReadWrite,
            false,
        )
        .unwrap();
        let tx = store
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .unwrap();
        let n: i64 = tx
            .query_row("SELECT count(*) FROM notes", [], |r| r.get(0))
            .unwrap();
        tx.commit().unwrap();
        n
    });
    // Wait until the server reports the second one waiting for the lock.
    let mut watcher = match &db {
        engines::TestDb::Postgres { db, .. } => db.client(),
        engines::TestDb::Sqlite { .. } => unreachable!(),
    };
    loop {
        let waiting: i64 = watcher
            .query_one(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
                &[],
            )
            .unwrap()
            .get(0);
        if waiting == 1 {
            break;
        }
        assert!(!second.is_finished(), "the second transaction did not wait");
    }
    tx.execute(
        "INSERT INTO contacts (source, crm_id) VALUES ('civicrm', '1')",
        [],
    )
    .unwrap();
    let contact = tx.last_insert_rowid();
    tx.execute(
        "INSERT INTO notes (contact_id, context, body, staff, created_at)
         VALUES (?1, 'renewals', 'x', 'ann', '2026-11-23T09:00:00')",
        [contact],
    )
    .unwrap();
    tx.commit().unwrap();
    assert_eq!(
        second.join().unwrap(),
        1,
        "it ran after the first, and saw its note"
    );
}

engines::on_both_engines! {
    /// `rollcall member` reads everything held on a contact, as the member view does.
    fn the_member_command_shows_a_contact(db: &TestDb) {
        rollcall(&db.url())
            .args(["import"])
            .arg(import_support::fixture("civicrm_small.csv"))
            .assert()
            .success();
        let out = rollcall(&db.url()).args(["member", "101", "--json"]).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(json.to_string().contains("Siân Jones"), "{json}");
    }
}

/// Two imports into one team database take turns: the second says it is waiting and goes on
/// when the first commits. Meanwhile an officer's write goes through. No sleeps: the first is
/// held at an exact moment by the test hook, and the test waits on what each process prints.
#[test]
fn imports_take_turns_and_officers_keep_working_meanwhile() {
    let db = engines::TestDb::postgres();
    let file = import_support::fixture("civicrm_small.csv");
    let start = |hold: Option<&str>| spawn_import(&db, &file, hold);
    let mut first = start(Some("begun"));
    let _first_rest = wait_for_stderr(&mut first, "holding at begun");
    let mut second = start(None);
    let _second_rest = wait_for_stderr(&mut second, "waiting for another rollcall process");

    // An officer logs a note meanwhile: neither import blocks it.
    let store = db.open();
    rollcall::storage::audit::record(
        &store.conn,
        &rollcall::Clock::fixed(chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(), "bo"),
        rollcall::storage::audit::Change {
            action: "note",
            entity: "notes",
            entity_id: None,
            contact_id: None,
            before: None,
            after: None,
        },
    )
    .unwrap();

    drop(first.stdin.take()); // let the first go on
    assert!(first.wait().unwrap().success());
    assert!(second.wait().unwrap().success());
    let runs: i64 = store
        .conn
        .query_row(
            "SELECT count(*) FROM import_runs WHERE finished_at IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(runs, 2, "both imports ran, one after the other");
}

/// `rollcall import FILE` as a child process with its stdin held open, stopped at the test
/// hook's moment `hold` (if any) until the test closes its stdin.
fn spawn_import(
    db: &engines::TestDb,
    file: &std::path::Path,
    hold: Option<&str>,
) -> std::process::Child {
    use std::process::Stdio;
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("rollcall"));
    cmd.env("ROLLCALL_DB", db.url())
        .env("ROLLCALL_TODAY", "2026-11-23")
        .env("ROLLCALL_USER", "amira")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .args(["import"])
        .arg(file)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(moment) = hold {
        cmd.env("ROLLCALL_TEST_HOLD", moment);
    }
    cmd.spawn().unwrap()
}

/// Reads the child's stderr until a line contains `text`; returns the rest of it.
fn wait_for_stderr(
    child: &mut std::process::Child,
    text: &str,
) -> std::io::Lines<std::io::BufReader<std::process::ChildStderr>> {
    use std::io::BufRead;
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufReader::new(stderr).lines();
    loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("ended before saying {text:?}"))
            .unwrap();
        if line.contains(text) {
            return lines;
        }
    }
}

/// What an import could have changed: rows and a checksum of the CRM data of every table it
/// writes, finished runs, and the indexes and constraints a first load rebuilds.
fn import_fingerprint(db: &engines::TestDb) -> Vec<i64> {
    let store = db.open();
    let one = |sql: &str| -> i64 { store.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    vec![
        one("SELECT count(*) FROM contacts"),
        one("SELECT COALESCE(sum(crm_hash % 1000003), 0) FROM contacts"),
        one("SELECT count(*) FROM memberships"),
        one("SELECT COALESCE(sum(crm_hash % 1000003), 0) FROM memberships"),
        one("SELECT count(*) FROM membership_events"),
        one("SELECT count(*) FROM import_runs WHERE finished_at IS NOT NULL"),
        one("SELECT count(*) FROM pg_indexes WHERE tablename IN ('contacts', 'memberships')"),
        one("SELECT count(*) FROM pg_constraint
             WHERE conrelid IN ('contacts'::regclass, 'memberships'::regclass)"),
    ]
}

/// Ends every other session on the test's database: the import's connection drops.
fn drop_other_connections(db: &engines::TestDb) {
    let store = db.open();
    let ended: i64 = store
        .conn
        .query_row(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()) AS t",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(ended >= 1, "the import's connection was there to drop");
}

/// The import's connection drops in the middle, in a first load (indexes and keys dropped for
/// speed) and in a re-import just before its commit: each time the import fails with one line
/// and a non-zero exit, and the database is as it was, indexes and keys included.
#[test]
fn an_import_whose_connection_drops_leaves_the_database_as_it_was() {
    let db = engines::TestDb::postgres();
    let first_file = import_support::fixture("civicrm_small.csv");
    let later_file = import_support::fixture("civicrm_later.csv");
    for (file, moment) in [(&first_file, "rows_written"), (&later_file, "committing")] {
        let before = import_fingerprint(&db);
        let mut import = spawn_import(&db, file, Some(moment));
        let rest = wait_for_stderr(&mut import, &format!("holding at {moment}"));
        drop_other_connections(&db);
        drop(import.stdin.take());
        let said: Vec<String> = rest.map(Result::unwrap).collect();
        let status = import.wait().unwrap();
        assert!(!status.success(), "{moment}: the import said it worked");
        let said = said.join("\n");
        assert!(!said.contains("panicked"), "{moment}: {said}");
        assert!(
            said.contains("connection to the team database was lost during the import")
                && said.contains("nothing of this file was imported"),
            "{moment}: {said}"
        );
        assert_eq!(said.lines().count(), 1, "{moment}: one line: {said}");
        assert_eq!(
            import_fingerprint(&db),
            before,
            "{moment}: the database changed"
        );
        // And the same import goes through afterwards.
        let out = rollcall(&db.url())
            .arg("import")
            .arg(file)
            .output()
            .unwrap();
        assert!(out.status.success(), "{moment}: {}", stderr(&out));
        assert_ne!(
            import_fingerprint(&db),
            before,
            "{moment}: the retry imported"
        );
    }
}

/// `rollcall --db postgresql://… demo` fills an empty team database, and only an empty one.
#[test]
fn the_demo_goes_into_an_empty_team_database_only() {
    let db = engines::TestDb::postgres();
    let out = rollcall(&db.url())
        .args(["demo", "--members", "300", "--build-only"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let again = rollcall(&db.url())
        .args(["demo", "--members", "300", "--build-only"])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("holds members already"),
        "{}",
        stderr(&again)
    );
}
