//! `rollcall generate` and `rollcall demo`.

mod import_support;

use import_support::*;

fn generate(s: &Scratch, args: &[&str]) -> Vec<u8> {
    s.cmd()
        .arg("generate")
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone()
}

#[test]
fn the_same_seed_gives_the_same_file() {
    let s = Scratch::new();
    let a = generate(&s, &["--members", "500", "--seed", "9"]);
    let b = generate(&s, &["--members", "500", "--seed", "9"]);
    let c = generate(&s, &["--members", "500", "--seed", "10"]);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(
        a.starts_with(b"\xEF\xBB\xBF\"Contact ID\""),
        "CiviCRM: BOM and quoted headers"
    );
    let text = String::from_utf8(a).unwrap();
    assert!(text.contains("\"Membership Expiration Date\""));
    assert!(text.contains("\"Local Party\",\"Region\",\"Constituency\"\r\n"));
    assert!(
        text.contains(",,"),
        "empty values are bare, as CiviCRM writes them"
    );
    for name in ["ap ", "Ní ", "O'", "ł", "Siân", "Flat "] {
        assert!(
            text.contains(name),
            "no {name:?} among 500 generated members"
        );
    }
}

#[test]
fn generated_exports_import_cleanly_and_a_later_one_shows_change() {
    let s = Scratch::new();
    let first = s.path("nov.csv");
    let later = s.path("dec.csv");
    s.cmd()
        .args(["generate", "--members", "800", "--output"])
        .arg(&first)
        .assert()
        .success();
    s.cmd()
        .args([
            "generate",
            "--members",
            "800",
            "--advance",
            "30",
            "--output",
        ])
        .arg(&later)
        .assert()
        .success();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&first).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "even synthetic member data is owner-only");
    }
    let report: serde_json::Value = serde_json::from_slice(
        &s.cmd()
            .args(["import", "--json", "--strict"])
            .arg(&first)
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    assert_eq!(report["contacts"]["inserted"], 800);
    assert_eq!(report["rejected"], 0);
    let memberships = report["memberships"]["inserted"].as_u64().unwrap();
    assert!(
        memberships > 800 && memberships < 900,
        "about 5% have two: {memberships}"
    );
    let statuses: Vec<String> = s
        .conn()
        .prepare("SELECT DISTINCT crm_status FROM memberships ORDER BY 1")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for status in ["Cancelled", "Current", "Expired", "Grace", "New"] {
        assert!(
            statuses.contains(&status.to_owned()),
            "no {status} in {statuses:?}"
        );
    }
    assert!(s.count("SELECT COUNT(*) FROM contacts WHERE preferred_language = 'cy_GB'") > 0);
    assert!(s.count("SELECT COUNT(*) FROM contacts WHERE contact_type = 'Organization'") > 0);
    assert!(
        s.count("SELECT COUNT(*) FROM contacts WHERE street_address LIKE '%' || char(10) || '%'")
            > 0
    );
    assert!(s.count("SELECT COUNT(*) FROM contacts WHERE do_not_phone = 1") > 0);

    let report: serde_json::Value = serde_json::from_slice(
        &s.cmd_on("2026-12-23")
            .args(["import", "--json"])
            .arg(&later)
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    assert!(
        report["memberships"]["renewed"].as_u64().unwrap() > 0,
        "{report}"
    );
    assert!(
        report["contacts"]["inserted"].as_u64().unwrap() > 0,
        "new joiners: {report}"
    );
    assert!(
        report["contacts"]["unchanged"].as_u64().unwrap() > 700,
        "{report}"
    );
}

#[test]
fn nationbuilder_format() {
    let s = Scratch::new();
    let file = s.path("nb.csv");
    s.cmd()
        .args([
            "generate",
            "--members",
            "300",
            "--format",
            "nationbuilder",
            "--output",
        ])
        .arg(&file)
        .assert()
        .success();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("nationbuilder_id,first_name,last_name,email"));
    let report: serde_json::Value = serde_json::from_slice(
        &s.cmd()
            .args(["import", "--json"])
            .arg(&file)
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    assert_eq!(report["profile"], "nationbuilder");
    assert_eq!(report["contacts"]["inserted"], 300);
    assert_eq!(report["rejected"], 0);
}

#[test]
fn demo_builds_its_own_database_through_the_real_import() {
    let s = Scratch::new();
    let demo = s.path("demo/demo.db");
    let out = stdout_of(
        &s.cmd()
            .args(["demo", "--build-only", "--members", "400", "--demo-db"])
            .arg(&demo)
            .assert()
            .success(),
    );
    assert!(out.contains("contacts     400 inserted"), "{out}");
    assert!(out.contains(&demo.display().to_string()), "{out}");
    assert!(!s.db.exists(), "the real database is not touched");
    let conn = rusqlite::Connection::open(&demo).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT COUNT(*) FROM contacts WHERE source = 'demo' AND first_import_id = 1"),
        400
    );
    drop(conn);
    assert!(
        !s.path("demo/demo.export.csv").exists(),
        "the generated export is removed"
    );
    // A second run rebuilds from scratch.
    s.cmd()
        .args(["demo", "--build-only", "--members", "300", "--demo-db"])
        .arg(&demo)
        .assert()
        .success();
    let conn = rusqlite::Connection::open(&demo).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT COUNT(*) FROM contacts WHERE first_import_id = 1"),
        300
    );
    assert_eq!(count("SELECT COUNT(*) FROM import_runs"), 2);
}

#[test]
fn the_demo_opens_on_a_morning_with_history() {
    let s = Scratch::new();
    let demo = s.path("demo.db");
    let out = stdout_of(
        &s.cmd()
            .args(["demo", "--build-only", "--members", "1500", "--demo-db"])
            .arg(&demo)
            .assert()
            .success(),
    );
    assert!(out.contains("History: on 2026-10-26 ffion logged"), "{out}");
    let conn = rusqlite::Connection::open(&demo).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    // Two imports thirty days apart: the first as of 2026-10-24, this morning's as of today.
    assert_eq!(
        count("SELECT COUNT(*) FROM import_runs WHERE as_of IN ('2026-10-24', '2026-11-23')"),
        2
    );
    // The colleague's work, through the storage API, audited under their name.
    assert!(count("SELECT COUNT(*) FROM contact_attempts WHERE staff = 'ffion'") >= 10);
    assert_eq!(count("SELECT COUNT(*) FROM notes WHERE staff = 'ffion'"), 1);
    assert_eq!(
        count("SELECT COUNT(*) FROM escalations WHERE opened_by = 'ffion'"),
        1
    );
    assert!(count("SELECT COUNT(*) FROM onboarding_steps WHERE done_by = 'ffion'") >= 1);
    assert!(count("SELECT COUNT(*) FROM audit_log WHERE staff = 'ffion'") >= 10);
    drop(conn);

    // Today has a real morning in it: changes since the last import and work for the user.
    let stats = assert_cmd::Command::cargo_bin("rollcall")
        .unwrap()
        .env("XDG_CONFIG_HOME", s.path("xdg-config"))
        .arg("--db")
        .arg(&demo)
        .args(["--today", TODAY, "--user", "alice", "stats", "--json"])
        .assert()
        .success();
    let figures: serde_json::Value = serde_json::from_str(&stdout_of(&stats)).unwrap();
    let since = &figures["since_last_import"];
    for figure in ["joined", "renewed", "renewed_after_contact", "lapsed"] {
        assert!(since[figure].as_u64().unwrap() > 0, "{figure}: {since}");
    }
    let mine = &figures["my_work"];
    assert!(mine["my_escalations"].as_u64().unwrap() > 0, "{mine}");
    assert!(mine["onboarding_due"].as_u64().unwrap() > 0, "{mine}");
}

#[test]
fn demo_defaults_to_the_data_directory() {
    let s = Scratch::new();
    s.cmd()
        .args(["demo", "--build-only", "--members", "200"])
        .assert()
        .success();
    let demo = s.path("xdg-data/rollcall/demo.db");
    assert!(demo.exists(), "{} missing", demo.display());
}

#[test]
fn demo_never_replaces_a_real_database() {
    let s = Scratch::new();
    s.import("civicrm_small.csv", &[]);
    let before = std::fs::read(&s.db).unwrap();
    let err = stderr_of(
        &s.cmd()
            .args(["demo", "--build-only", "--demo-db"])
            .arg(&s.db)
            .assert()
            .failure(),
    );
    assert!(
        err.contains("that is the database rollcall works on"),
        "{err}"
    );
    // Even under another name, a database holding real imports is not replaced.
    let elsewhere = Scratch::new();
    let err = stderr_of(
        &elsewhere
            .cmd()
            .args(["demo", "--build-only", "--demo-db"])
            .arg(&s.db)
            .assert()
            .failure(),
    );
    assert!(
        err.contains("holds data that did not come from the demo"),
        "{err}"
    );
    let not_a_db = s.path("notes.txt");
    std::fs::write(&not_a_db, "shopping list").unwrap();
    let err = stderr_of(
        &s.cmd()
            .args(["demo", "--build-only", "--demo-db"])
            .arg(&not_a_db)
            .assert()
            .failure(),
    );
    assert!(err.contains("not a rollcall demo database"), "{err}");
    assert_eq!(std::fs::read_to_string(&not_a_db).unwrap(), "shopping list");
    assert_eq!(std::fs::read(&s.db).unwrap(), before);
}
