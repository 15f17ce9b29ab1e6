//! The privacy commands on both engines, from one body each: `rollcall forget` (the person gone
//! from every table, the audit line kept without their data, the key hash kept), `rollcall
//! subject-access`, `rollcall retention`, and the app's saved state.
//!
//! The data is seeded with plain INSERTs (`trust_support::insert_person`), not by an import, so
//! these tests do not depend on PostgreSQL import.

#[path = "support/engines.rs"]
mod engines;
#[path = "support/pg_cluster.rs"]
mod pg_cluster;
mod trust_support;

use std::collections::BTreeMap;

use engines::TestDb;
use rollcall::storage::sql::{Connection, ValueRef};
use rollcall::storage::ui_state;
use trust_support::{BYSTANDER, Person, STAFF, TARGET, TODAY};

/// The trust suite's two people, on this engine. Returns (target, bystander) ids.
fn seed(db: &TestDb) -> (i64, i64) {
    trust_support::seed_people(&db.open().conn)
}

/// The rollcall binary on `db`, with no setting leaking in from the environment.
fn rollcall(db: &TestDb) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_rollcall"));
    for var in [
        "ROLLCALL_DB",
        "ROLLCALL_TODAY",
        "ROLLCALL_USER",
        "ROLLCALL_READ_ONLY",
        "PGPASSWORD",
    ] {
        cmd.env_remove(var);
    }
    let scratch = db.scratch();
    cmd.env("NO_COLOR", "1")
        .env("HOME", &scratch)
        .env("XDG_CONFIG_HOME", scratch.join("config-home"))
        .env("XDG_DATA_HOME", scratch.join("data"))
        .env("ROLLCALL_DB", db.url())
        .args(["--today", TODAY, "--user", STAFF]);
    cmd
}

fn run_ok(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every table rollcall has and its rows, every value as text, in a stable order.
fn dump(conn: &Connection) -> BTreeMap<String, Vec<Vec<String>>> {
    let tables: Vec<String> = conn
        .prepare(conn.pick(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
             ORDER BY name",
            "SELECT table_name FROM information_schema.tables
             WHERE table_schema = current_schema() ORDER BY table_name",
        ))
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = BTreeMap::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
        let mut rows = stmt.query([]).unwrap();
        let mut all = Vec::new();
        while let Some(row) = rows.next().unwrap() {
            let values = (0..row.column_count())
                .map(|i| match row.get_ref(i).unwrap() {
                    ValueRef::Null => "NULL".to_owned(),
                    ValueRef::Integer(n) => n.to_string(),
                    ValueRef::Real(f) => f.to_string(),
                    ValueRef::Text(t) => t.to_owned(),
                    ValueRef::Blob(b) => String::from_utf8_lossy(b).into_owned(),
                })
                .collect::<Vec<_>>();
            all.push(values);
        }
        all.sort();
        out.insert(table, all);
    }
    out
}

fn holds(dump: &BTreeMap<String, Vec<Vec<String>>>, p: &Person) -> Vec<String> {
    let mut found = Vec::new();
    for (table, rows) in dump {
        for row in rows {
            for value in row {
                let lower = value.to_lowercase();
                for s in trust_support::personal_strings(p) {
                    if lower.contains(&s.to_lowercase()) {
                        found.push(format!("{table}: `{s}` in {row:?}"));
                    }
                }
            }
        }
    }
    found
}

/// PostgreSQL's planner statistics, as text: most common values and histogram bounds.
fn pg_statistics(conn: &Connection) -> String {
    let rows: Vec<String> = conn
        .prepare(
            "SELECT tablename || '.' || attname || ' ' || coalesce(most_common_vals::text, '')
                 || ' ' || coalesce(histogram_bounds::text, '')
             FROM pg_stats WHERE schemaname = current_schema()",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.join("\n")
}

engines::on_both_engines! {
    fn forget_leaves_nothing_of_the_person_but_the_key_hash_and_a_nameless_audit_line(
        db: &TestDb
    ) {
        let (target, bystander) = seed(db);
        let before = dump(&db.open().conn);
        assert!(!holds(&before, &TARGET).is_empty(), "the scan finds them before");
        if db.is_postgres() {
            // The planner's statistics hold column values: make sure they hold the target's,
            // so that the check after the erasure means something.
            let store = db.open();
            store.conn.execute_batch("ANALYZE").unwrap();
            let stats = pg_statistics(&store.conn);
            assert!(stats.contains(TARGET.email), "{stats}");
        }

        let stdout = run_ok(rollcall(db).args(["forget", TARGET.crm_id, "--yes"]));
        assert!(stdout.contains("contacts 1"), "{stdout}");
        assert!(stdout.contains("memberships 1"), "{stdout}");
        assert!(stdout.contains("The CRM must erase them too"), "{stdout}");
        assert!(!stdout.contains("old copies"), "the wipe was done: {stdout}");
        trust_support::assert_no_personal_data(&stdout, &TARGET);

        let store = db.open();
        let conn = &store.conn;
        let after = dump(conn);
        assert_eq!(holds(&after, &TARGET), Vec::<String>::new());
        for (table, rows) in &after {
            for row in rows {
                assert!(
                    !row.iter().any(|v| v == TARGET.crm_id),
                    "{table} still holds the CRM id: {row:?}"
                );
            }
        }
        // Nothing points at their ids any more.
        for (table, column) in [
            ("contacts", "id"),
            ("memberships", "contact_id"),
            ("contact_attempts", "contact_id"),
            ("notes", "contact_id"),
            ("assignments", "contact_id"),
            ("onboarding", "contact_id"),
            ("onboarding_steps", "contact_id"),
            ("escalations", "contact_id"),
            ("audit_log", "contact_id"),
        ] {
            let n: i64 = conn
                .query_row(
                    &format!("SELECT count(*) FROM {table} WHERE {column} = ?1"),
                    [target],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(n, 0, "{table}.{column}");
        }
        // The bystander is whole: their rows are as they were.
        assert_eq!(holds(&after, &BYSTANDER), holds(&before, &BYSTANDER));
        let theirs: i64 = conn
            .query_row("SELECT count(*) FROM memberships WHERE contact_id = ?1", [bystander], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(theirs, 1);
        let keys: Vec<String> = conn
            .prepare("SELECT activity_key FROM exported_activities ORDER BY activity_key")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(keys.len(), 3, "the bystander's keys stay: {keys:?}");

        // The key hash, so that a later import skips them.
        let hash: String = conn
            .query_row("SELECT key_hash FROM erased_contacts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            hash,
            rollcall::storage::erase::erased_key_hash("civicrm", TARGET.crm_id)
        );
        // One audit line says someone was erased, and nothing of whom.
        let (staff, contact, entity_id, after_json): (String, Option<i64>, Option<i64>, String) =
            conn.query_row(
                "SELECT staff, contact_id, entity_id, after FROM audit_log WHERE action = 'forget'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!((staff.as_str(), contact, entity_id), (STAFF, None, None));
        let line: serde_json::Value = serde_json::from_str(&after_json).unwrap();
        assert_eq!(line["source"], "civicrm");
        assert_eq!(line["cause"], "request");
        assert_eq!(line["erased"]["contacts"], 1);
        assert!(!after_json.contains(TARGET.crm_id), "{after_json}");
        // Saved app state that named them went; the other officer's stayed.
        let saved: Vec<String> = conn
            .prepare("SELECT staff || '/' || key FROM ui_state ORDER BY staff, key")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(saved, ["bryn/renewals"]);
        if db.is_postgres() {
            let stats = pg_statistics(conn);
            for s in trust_support::personal_strings(&TARGET) {
                assert!(!stats.contains(s), "pg_stats still holds `{s}`:\n{stats}");
            }
        }

        // Asked again, rollcall says they were erased, and when.
        let out = rollcall(db).args(["forget", TARGET.crm_id, "--yes"]).output().unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains("already erased on"), "{stderr}");
        assert!(stderr.contains(STAFF), "{stderr}");
    }

    fn audit_shows_the_erasure_and_nothing_of_whom(db: &TestDb) {
        seed(db);
        run_ok(rollcall(db).args(["forget", TARGET.crm_id, "--yes"]));
        // `rollcall audit` shows the erasure, and nothing of whom; about the bystander, their
        // own lines are still there.
        let audit = run_ok(rollcall(db).args(["audit", "--json"]));
        let lines: serde_json::Value = serde_json::from_str(&audit).unwrap();
        let actions: Vec<&str> = lines
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["action"].as_str().unwrap())
            .collect();
        assert!(actions.contains(&"forget"), "{audit}");
        trust_support::assert_no_personal_data(&audit, &TARGET);
        let theirs = run_ok(rollcall(db).args(["audit", "--contact", BYSTANDER.crm_id, "--json"]));
        let theirs: serde_json::Value = serde_json::from_str(&theirs).unwrap();
        assert_eq!(theirs.as_array().map(Vec::len), Some(3), "{theirs:#}");
        let gone = rollcall(db).args(["audit", "--contact", TARGET.crm_id]).output().unwrap();
        assert!(!gone.status.success());
        assert!(String::from_utf8_lossy(&gone.stderr).contains("erased"));

    }

    fn subject_access_writes_everything_held_and_records_the_request(db: &TestDb) {
        let (target, _) = seed(db);
        let document = db.scratch().join("sar.md");
        let stdout =
            run_ok(rollcall(db).args(["subject-access", TARGET.crm_id, "-o"]).arg(&document));
        trust_support::assert_no_personal_data(&stdout, &TARGET);
        let markdown = std::fs::read_to_string(&document).unwrap();
        assert!(markdown.contains(TARGET.email), "{markdown}");
        let text = std::fs::read_to_string(db.scratch().join("sar.json")).unwrap();
        for s in [TARGET.email, TARGET.display, TARGET.street, TARGET.postcode] {
            assert!(text.contains(s), "the copy lacks `{s}`");
        }
        for s in trust_support::personal_strings(&BYSTANDER) {
            assert!(!text.contains(s), "the copy holds the bystander's `{s}`");
        }
        let copy: serde_json::Value = serde_json::from_str(&text).unwrap();
        let store = db.open();
        let (entity, comment): (String, String) = store
            .conn
            .query_row(
                "SELECT a.entity, (SELECT body FROM escalation_events
                     WHERE kind = 'comment' ORDER BY id DESC LIMIT 1)
                 FROM audit_log a WHERE a.action = 'subject_access' AND a.contact_id = ?1",
                [target],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(entity, "contact");
        assert!(comment.starts_with("Subject access: a copy"), "{comment}");
        // The same copy on both engines: a record of every kind that was seeded.
        let record = &copy["record"];
        let sections: Vec<String> = [
            "memberships",
            "membership_events",
            "contact_attempts",
            "notes",
            "snoozes",
            "assignments",
            "onboarding_steps",
            "escalations",
            "audit_lines",
        ]
        .iter()
        .map(|k| format!("{k} {}", record[k].as_array().map_or(0, Vec::len)))
        .collect();
        assert_eq!(
            sections.join(", "),
            "memberships 1, membership_events 1, contact_attempts 1, notes 1, snoozes 1, \
             assignments 1, onboarding_steps 1, escalations 1, audit_lines 4",
            "{record:#}"
        );
        assert_eq!(record["contact"]["email"], TARGET.email);
        assert_eq!(record["escalations"][0]["events"].as_array().map(Vec::len), Some(1));
    }

    fn retention_lists_keeps_and_erases_past_the_rule(db: &TestDb) {
        let (target, _) = seed(db);
        {
            let store = db.open();
            store
                .conn
                .execute(
                    "UPDATE memberships SET end_date = '2018-05-31' WHERE contact_id = ?1",
                    [target],
                )
                .unwrap();
            store
                .conn
                .execute_batch(
                    "INSERT INTO contacts (id, source, crm_id, display_name) VALUES
                       (90, 'civicrm', '7001', 'Lifetime Member');
                     INSERT INTO memberships (contact_id, source, sync_key, end_date) VALUES
                       (90, 'civicrm', 'id:7001a', '2010-01-01'),
                       (90, 'civicrm', 'id:7001b', NULL);",
                )
                .unwrap();
        }
        let config = db.scratch().join("config-home/rollcall");
        std::fs::create_dir_all(&config).unwrap();
        std::fs::write(config.join("config.toml"), "[retention]\nerase_after_years = 6\n").unwrap();

        // Their open escalation keeps them for now.
        let listed = run_ok(rollcall(db).args(["retention", "--json"]));
        let list: serde_json::Value = serde_json::from_str(&listed).unwrap();
        let text = list.to_string();
        assert!(text.contains(TARGET.crm_id), "{listed}");
        assert!(!text.contains("7001"), "a lifetime member is never listed: {listed}");

        run_ok(rollcall(db).args(["retention", "--keep", TARGET.crm_id, "--reason", "Court case"]));
        run_ok(rollcall(db).args(["retention", "--keep", TARGET.crm_id, "--reason", "Appeal"]));
        let keeps = run_ok(rollcall(db).args(["retention", "--keeps"]));
        assert!(keeps.contains("Appeal") && !keeps.contains("Court case"), "{keeps}");
        let store = db.open();
        store.conn.execute("UPDATE escalations SET status = 'resolved'", []).unwrap();
        drop(store);
        let kept = run_ok(rollcall(db).args(["retention", "--apply", "--yes"]));
        assert!(kept.contains("Nobody is past the rule"), "{kept}");
        assert!(kept.contains("Appeal"), "{kept}");
        run_ok(rollcall(db).args(["retention", "--unkeep", TARGET.crm_id]));

        let erased = run_ok(rollcall(db).args(["retention", "--apply", "--yes"]));
        assert!(erased.contains("Erased 1 people"), "{erased}");
        trust_support::assert_no_personal_data(&erased, &TARGET);
        let store = db.open();
        let after = dump(&store.conn);
        assert_eq!(holds(&after, &TARGET), Vec::<String>::new());
        let crm_ids: Vec<String> = store
            .conn
            .prepare("SELECT crm_id FROM contacts ORDER BY crm_id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(crm_ids, [BYSTANDER.crm_id, "7001"]);
        let cause: String = store
            .conn
            .query_row("SELECT after FROM audit_log WHERE action = 'forget'", [], |r| r.get(0))
            .unwrap();
        assert!(cause.contains("\"cause\":\"retention\""), "{cause}");
    }

    fn saved_state_is_per_officer_and_an_erasure_drops_all_but_the_active_pane(db: &TestDb) {
        let mut store = db.open();
        ui_state::save(&mut store, "ann", &[("active_pane".into(), "renewals".into())], 0)
            .unwrap();
        ui_state::save(&mut store, "bob", &[("active_pane".into(), "search".into())], 0)
            .unwrap();
        let entries = [
            ("active_pane".to_owned(), "search".to_owned()),
            ("pane.search".to_owned(), r#"{"query":"grainne"}"#.to_owned()),
        ];
        ui_state::save(&mut store, "ann", &entries, 0).unwrap();
        let loaded = ui_state::load(&mut store, "ann").unwrap();
        assert_eq!(loaded.entries, entries.to_vec());
        assert_eq!(loaded.erasures, 0);
        assert_eq!(ui_state::load(&mut store, "bob").unwrap().entries.len(), 1);

        // Someone is erased while the window is open: the window keeps only its active pane.
        store
            .conn
            .execute("UPDATE erasure_generation SET generation = generation + 1", [])
            .unwrap();
        ui_state::save(&mut store, "ann", &entries, loaded.erasures).unwrap();
        let saved = ui_state::load(&mut store, "ann").unwrap();
        assert_eq!(saved.entries, entries[..1].to_vec());
        assert_eq!(saved.erasures, 1);
        ui_state::save(&mut store, "ann", &entries, saved.erasures).unwrap();
        assert_eq!(ui_state::load(&mut store, "ann").unwrap().entries, entries.to_vec());
    }
}

/// On a team database an officer's role need not own the tables, and only the owner may
/// compact them: the erasure still happens, and the report says what is left to the owner.
#[test]
fn an_officer_who_does_not_own_the_tables_erases_and_is_told_who_compacts() {
    let db = TestDb::postgres();
    seed(&db);
    let TestDb::Postgres { db: pg, .. } = &db else {
        unreachable!()
    };
    // Roles belong to the whole cluster: this one is named after the test's own database.
    let role = format!("officer_{}", pg.name());
    // Every privilege but ownership, granted by hand (outside rollcall's staff roles, which
    // give admins the owner's role): connecting, the schema, every row.
    pg.execute(&format!(
        "CREATE ROLE {role} LOGIN PASSWORD 'officer-test-only' BYPASSRLS;
         GRANT CONNECT ON DATABASE {db} TO {role};
         GRANT USAGE ON SCHEMA public TO {role};
         GRANT ALL ON ALL TABLES IN SCHEMA public TO {role};
         GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role};",
        db = pg.name()
    ));
    let url = pg.url_as(&role).replacen(
        &format!("{role}@"),
        &format!("{role}:officer-test-only@"),
        1,
    );
    let stdout =
        run_ok(
            rollcall(&db)
                .env("ROLLCALL_DB", &url)
                .args(["forget", TARGET.crm_id, "--yes"]),
        );
    assert!(stdout.contains("contacts 1"), "{stdout}");
    assert!(
        stdout.contains("were not compacted now (only the owner of rollcall's tables"),
        "{stdout}"
    );
    assert!(
        stdout.contains("VACUUM (FULL, ANALYZE) contacts,"),
        "{stdout}"
    );
    trust_support::assert_no_personal_data(&stdout, &TARGET);
    assert_eq!(holds(&dump(&db.open().conn), &TARGET), Vec::<String>::new());
}
