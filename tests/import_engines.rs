//! `rollcall import` on both engines from one body: SQLite and a team's PostgreSQL database
//! must give the same report, the same events and the same listings.

#[path = "support/pg_cluster.rs"]
mod pg_cluster;

#[path = "support/engines.rs"]
mod engines;

#[path = "import_support/mod.rs"]
mod import_support;

use assert_cmd::Command;
use engines::TestDb;
use import_support::fixture;
use serde_json::Value;

fn rollcall(db: &TestDb, today: &str) -> Command {
    let mut cmd = Command::cargo_bin("rollcall").unwrap();
    for var in [
        "ROLLCALL_DB",
        "ROLLCALL_TODAY",
        "ROLLCALL_USER",
        "ROLLCALL_READ_ONLY",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("XDG_DATA_HOME", db.scratch().join("xdg-data"))
        .env("XDG_CONFIG_HOME", db.scratch().join("xdg-config"))
        .env_remove("PGPASSWORD")
        .args(["--db", &db.url(), "--today", today, "--user", "alice"]);
    cmd
}

fn import_json(db: &TestDb, today: &str, file: &std::path::Path, extra: &[&str]) -> Value {
    let out = rollcall(db, today)
        .args(["import", "--json"])
        .args(extra)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let mut json: Value = serde_json::from_slice(&out.stdout).unwrap();
    if let Some(one) = json
        .as_array()
        .and_then(|a| (a.len() == 1).then(|| a[0].clone()))
    {
        json = one;
    }
    json
}

/// The report without what differs from run to run.
fn numbers(mut report: Value) -> Value {
    for key in ["elapsed_ms", "file"] {
        report.as_object_mut().unwrap().remove(key);
    }
    report
}

fn count(db: &TestDb, sql: &str) -> i64 {
    db.open().conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn events(db: &TestDb) -> Vec<String> {
    let store = db.open();
    let mut stmt = store
        .conn
        .prepare(
            "SELECT m.crm_membership_id, e.kind, COALESCE(e.old_value, '-'),
                    COALESCE(e.new_value, '-'), e.occurred_on,
                    COALESCE(e.credited_attempt_id, 0), e.import_id
             FROM membership_events e JOIN memberships m ON m.id = e.membership_id
             ORDER BY m.crm_membership_id, e.id",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok(format!(
            "{} {} {} {} {} {} {}",
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, i64>(5)?,
            r.get::<_, i64>(6)?
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

engines::on_both_engines! {
    fn crm_tags_are_stored_and_kept_in_step_with_each_import(db: &TestDb) {
        let tags = |db: &TestDb| -> Vec<String> {
            let store = db.open();
            let mut stmt = store
                .conn
                .prepare(
                    "SELECT c.crm_id || ':' || t.tag FROM contact_tags t
                     JOIN contacts c ON c.id = t.contact_id ORDER BY c.crm_id, t.tag",
                )
                .unwrap();
            stmt.query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let people = fixture("nationbuilder_people.csv");
        import_json(db, "2026-11-23", &people, &[]);
        // NationBuilder's tag_list: comma-separated in one cell.
        assert_eq!(tags(db), ["501:phone bank", "501:volunteer", "503:donor"]);
        let again = import_json(db, "2026-11-23", &people, &[]);
        assert_eq!(again["contacts"]["updated"], 0, "{again}");

        // The CRM no longer lists "phone bank" for 501, nor anything for 503.
        let text = std::fs::read_to_string(&people)
            .unwrap()
            .replace("\"volunteer, phone bank\"", "volunteer")
            .replace(",donor,", ",,");
        let later = db.scratch().join("people-later.csv");
        std::fs::write(&later, text).unwrap();
        let report = import_json(db, "2026-11-23", &later, &[]);
        assert_eq!(report["contacts"]["updated"], 2, "{report}");
        assert_eq!(tags(db), ["501:volunteer"]);

        // Action Network's can2_user_tags, the same way.
        import_json(db, "2026-11-23", &fixture("actionnetwork_report.csv"), &[]);
        let an: Vec<String> = tags(db).into_iter().filter(|t| t.starts_with("5e0c")).collect();
        assert_eq!(
            an,
            [
                "5e0c1a2b-0001-4d2f-8c3a-00000000a001:Cornwall",
                "5e0c1a2b-0001-4d2f-8c3a-00000000a001:Member",
                "5e0c1a2b-0002-4d2f-8c3a-00000000a002:Member",
            ]
        );
    }

    fn nationbuilder_membership_names_become_dates_unknown_memberships_until_dates_come(db: &TestDb) {
        let dates_unknown = |db: &TestDb| -> Vec<String> {
            let store = db.open();
            let mut stmt = store
                .conn
                .prepare(
                    "SELECT c.crm_id || ':' || m.membership_type || ':' \
                            || COALESCE(m.end_date, '-') || ':' || m.crm_status || ':' \
                            || CASE WHEN u.membership_id IS NULL THEN 'dated' ELSE 'dates unknown' END
                     FROM memberships m JOIN contacts c ON c.id = m.contact_id
                     LEFT JOIN membership_dates_unknown u ON u.membership_id = m.id
                     ORDER BY m.sync_key",
                )
                .unwrap();
            stmt.query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let people = fixture("nationbuilder_people.csv");
        let first = import_json(db, "2026-11-23", &people, &[]);
        assert_eq!(first["rows_read"], 3, "{first}");
        assert_eq!(first["contacts"]["inserted"], 3, "{first}");
        assert_eq!(first["memberships"]["inserted"], 3, "{first}");
        // "Member, Young Greens": two memberships, neither lifetime nor given a status.
        assert_eq!(
            dates_unknown(db),
            [
                "501:Member:-::dates unknown",
                "501:Young Greens:-::dates unknown",
                "502:Member:-::dates unknown",
            ]
        );

        let again = import_json(db, "2026-11-23", &people, &[]);
        assert_eq!(again["contacts"]["updated"], 0, "{again}");
        assert_eq!(again["memberships"]["updated"], 0, "{again}");
        assert_eq!(again["memberships"]["unchanged"], 3, "{again}");

        // The memberships export (same source, keyed by contact id and type) brings the dates.
        let dated = import_json(db, "2026-11-23", &fixture("nationbuilder_memberships.csv"), &[]);
        assert_eq!(dated["memberships"]["inserted"], 0, "{dated}");
        assert_eq!(dated["memberships"]["updated"], 3, "{dated}");
        let with_dates = [
            "501:Member:2027-04-01:Current:dated",
            "501:Young Greens:2026-11-01:Grace:dated",
            "502:Member:2025-09-30:Expired:dated",
        ];
        assert_eq!(dates_unknown(db), with_dates);
        assert_eq!(count(db, "SELECT COUNT(*) FROM membership_dates_unknown"), 0);

        // The people export again never takes the dates away.
        let later = import_json(db, "2026-11-23", &people, &[]);
        assert_eq!(later["memberships"]["updated"], 0, "{later}");
        assert_eq!(later["memberships"]["unchanged"], 3, "{later}");
        assert_eq!(dates_unknown(db), with_dates);
    }

    fn a_first_import_a_reimport_and_a_later_export(db: &TestDb) {
        let first = import_json(db, "2026-11-23", &fixture("civicrm_small.csv"), &[]);
        assert_eq!(first["committed"], true, "{first}");
        assert_eq!(first["contacts"]["inserted"], 9, "{first}");
        assert_eq!(first["memberships"]["inserted"], 10, "{first}");

        let again = import_json(db, "2026-11-23", &fixture("civicrm_small.csv"), &[]);
        assert_eq!(again["contacts"]["inserted"], 0, "{again}");
        assert_eq!(again["contacts"]["updated"], 0, "{again}");
        assert_eq!(again["contacts"]["unchanged"], 9, "{again}");
        assert_eq!(again["memberships"]["updated"], 0, "{again}");
        assert_eq!(again["memberships"]["unchanged"], 10, "{again}");

        {
            let store = db.open();
            let id = |sql: &str| -> i64 { store.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
            let sian = id("SELECT id FROM contacts WHERE crm_id = '101'");
            let sian_membership = id("SELECT id FROM memberships WHERE crm_membership_id = '5001'");
            let siobhan = id("SELECT id FROM contacts WHERE crm_id = '105'");
            store.conn.execute_batch(&format!(
                "INSERT INTO contact_attempts (id, contact_id, membership_id, channel, outcome, attempted_at, staff)
                 VALUES (71, {sian}, {sian_membership}, 'phone', 'will_renew', '2026-12-01T10:00:00', 'bob'),
                        (72, {sian}, {sian_membership}, 'email', 'no_answer', '2026-12-30T09:00:00', 'bob'),
                        (73, {siobhan}, NULL, 'phone', 'will_renew', '2026-11-28T15:30:00', 'bob');"
            ))
            .unwrap();
        }

        let report = import_json(db, "2026-12-23", &fixture("civicrm_later.csv"), &[]);
        assert_eq!(report["contacts"]["inserted"], 1, "{report}");
        assert_eq!(report["contacts"]["updated"], 1, "{report}");
        assert_eq!(report["contacts"]["unchanged"], 8, "{report}");
        assert_eq!(report["memberships"]["inserted"], 1, "{report}");
        assert_eq!(report["memberships"]["updated"], 2, "{report}");
        assert_eq!(report["memberships"]["unchanged"], 7, "{report}");
        assert_eq!(report["memberships"]["renewed"], 2, "{report}");
        assert_eq!(report["memberships"]["missing_from_export"], 1, "{report}");
        assert_eq!(
            events(db),
            vec![
                "5001 renewed 2026-11-30 2027-11-30 2026-12-23 71 3",
                "5004 missing - - 2026-12-23 0 3",
                "5006 renewed 2026-11-10 2027-11-10 2026-12-23 73 3",
                "5006 status_changed Grace Current 2026-12-23 0 3",
                "5011 joined - - 2026-12-23 0 3",
            ]
        );
        assert_eq!(
            count(db, "SELECT missing_since FROM memberships WHERE crm_membership_id = '5004'"),
            3
        );
        // The identity sequences moved past the predicted ids: a row inserted without an id
        // takes a fresh one.
        let store = db.open();
        let before = count(db, "SELECT max(id) FROM contacts");
        store
            .conn
            .execute("INSERT INTO contacts (source, crm_id) VALUES ('manual', 'x1')", [])
            .unwrap();
        assert!(count(db, "SELECT max(id) FROM contacts") > before);
    }

    fn a_dry_run_leaves_nothing(db: &TestDb) {
        let report = import_json(db, "2026-11-23", &fixture("civicrm_small.csv"), &["--dry-run"]);
        assert_eq!(report["contacts"]["inserted"], 9, "{report}");
        assert_eq!(report["committed"], false, "{report}");
        for table in ["contacts", "memberships", "membership_events", "import_runs", "audit_log"] {
            assert_eq!(count(db, &format!("SELECT count(*) FROM {table}")), 0, "{table}");
        }
    }

    fn strict_with_a_bad_row_leaves_nothing(db: &TestDb) {
        let out = rollcall(db, "2026-11-23")
            .args(["import", "--strict"])
            .arg(fixture("civicrm_broken.csv"))
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("--strict"));
        for table in ["contacts", "memberships", "import_runs"] {
            assert_eq!(count(db, &format!("SELECT count(*) FROM {table}")), 0, "{table}");
        }
    }

    fn an_erased_person_is_skipped(db: &TestDb) {
        import_json(db, "2026-11-23", &fixture("civicrm_small.csv"), &[]);
        // As `rollcall forget` leaves it (the contact gone, its key kept).
        let store = db.open();
        store
            .conn
            .execute_batch(&format!(
                "DELETE FROM memberships WHERE contact_id IN (SELECT id FROM contacts WHERE crm_id = '101');
                 DELETE FROM contacts WHERE crm_id = '101';
                 INSERT INTO erased_contacts (key_hash, erased_at, staff)
                 VALUES ('{}', '2026-11-23T10:00:00+00:00', 'alice');",
                rollcall::storage::erase::erased_key_hash("civicrm", "101")
            ))
            .unwrap();
        drop(store);
        let report = import_json(db, "2026-11-24", &fixture("civicrm_small.csv"), &[]);
        assert_eq!(report["skipped_erased"], 1, "{report}");
        assert_eq!(report["contacts"]["inserted"], 0, "{report}");
        assert_eq!(count(db, "SELECT count(*) FROM contacts WHERE crm_id = '101'"), 0);
    }
}

/// The generator's exports, a first import then a later one, on both engines: the same reports,
/// the same renewals queue, the same `rollcall imports`.
#[test]
fn generated_exports_give_the_same_results_on_both_engines() {
    let (sqlite, postgres) = (TestDb::sqlite(), TestDb::postgres());
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.csv");
    let later = dir.path().join("later.csv");
    for (file, advance) in [(&first, "0"), (&later, "45")] {
        let out = rollcall(&sqlite, "2026-11-23")
            .args(["generate", "--members", "1500", "--advance", advance, "-o"])
            .arg(file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut seen = Vec::new();
    for db in [&sqlite, &postgres] {
        let a = numbers(import_json(db, "2026-11-23", &first, &[]));
        let b = numbers(import_json(db, "2027-01-07", &later, &[]));
        let listing = |args: &[&str]| {
            let out = rollcall(db, "2027-01-07").args(args).output().unwrap();
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let imports = listing(&["imports"]);
        let renewals = listing(&["renewals"]);
        seen.push((a, b, renewals, events(db).len(), imports));
    }
    let (s, p) = (&seen[0], &seen[1]);
    assert!(
        s.1["memberships"]["renewed"].as_u64().unwrap() > 0,
        "{}",
        s.1
    );
    assert!(
        s.1["memberships"]["missing_from_export"].as_u64().unwrap() > 0,
        "{}",
        s.1
    );
    assert_eq!(s.0, p.0, "first import");
    assert_eq!(s.1, p.1, "later import");
    assert_eq!(s.2, p.2, "renewals queue");
    assert_eq!(s.3, p.3, "events");
    // `rollcall imports` names the file, the time of day it ran and the time taken (each its
    // own on each engine); the rest must agree.
    let time_of_day = |w: &str| w.len() == 8 && w.as_bytes()[2] == b':' && w.as_bytes()[5] == b':';
    let strip = |t: &str| -> Vec<String> {
        t.lines()
            .map(|l| {
                l.split_whitespace()
                    .filter(|w| {
                        !w.contains(".csv")
                            && !w.ends_with("ms")
                            && !w.ends_with('s')
                            && !time_of_day(w)
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    assert_eq!(strip(&s.4), strip(&p.4), "imports:\n{}\n{}", s.4, p.4);
}
