//! The change feed (issue 21) on both engines from one body: an import records which CRM
//! fields changed, from what to what, and `rollcall changes` lists them by kind, date and
//! region. The exports are generated with planted changes (`generate --plant`), so the counts
//! are known exactly.

#[path = "support/pg_cluster.rs"]
mod pg_cluster;

#[path = "support/engines.rs"]
mod engines;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use chrono::NaiveDate;
use engines::TestDb;
use rollcall::import::generate::{
    ExportFormat, GenerateOptions, GenerateSummary, Planted, write_export,
};
use serde_json::Value;

const BASE_DAY: &str = "2026-11-23";
const LATER_DAY: &str = "2026-12-23";
const MEMBERS: u64 = 1500;

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

fn generate(dir: &Path, name: &str, advance_days: u32, plant: bool) -> (PathBuf, GenerateSummary) {
    let path = dir.join(name);
    let mut file = std::fs::File::create(&path).unwrap();
    let options = GenerateOptions {
        members: MEMBERS,
        seed: 21,
        format: ExportFormat::Civicrm,
        today: NaiveDate::parse_from_str(BASE_DAY, "%Y-%m-%d").unwrap(),
        advance_days,
        plant,
    };
    let summary = write_export(&mut file, &options).unwrap();
    (path, summary)
}

fn ok(mut cmd: Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The base export, then the later one with its planted changes; what was planted.
fn imported_with_planted_changes(db: &TestDb) -> [u64; 6] {
    let (base, _) = generate(&db.scratch(), "nov.csv", 0, false);
    let (later, summary) = generate(&db.scratch(), "dec.csv", 30, true);
    let mut first = rollcall(db, BASE_DAY);
    first.arg("import").arg(&base);
    ok(first);
    let mut second = rollcall(db, LATER_DAY);
    second.arg("import").arg(&later);
    ok(second);
    summary.planted
}

fn changes_json(db: &TestDb, args: &[&str]) -> Vec<Value> {
    let mut cmd = rollcall(db, LATER_DAY);
    cmd.args(["changes", "--json"]).args(args);
    serde_json::from_str::<Value>(&ok(cmd))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn contacts_of(changes: &[Value]) -> BTreeSet<String> {
    changes
        .iter()
        .map(|c| c["crm_contact_id"].as_str().unwrap().to_owned())
        .collect()
}

fn count(db: &TestDb, sql: &str) -> i64 {
    db.open().conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn planted(counts: [u64; 6], kind: Planted) -> usize {
    counts[Planted::ALL.iter().position(|k| *k == kind).unwrap()] as usize
}

engines::on_both_engines! {
    fn each_planted_change_is_recorded_and_listed_by_its_kind(db: &TestDb) {
        let counts = imported_with_planted_changes(db);
        assert!(counts.iter().all(|&n| n > 5), "too few planted to tell: {counts:?}");
        let moved_house = contacts_of(&changes_json(db, &["--kind", "moved"]));
        let moved_party = contacts_of(&changes_json(db, &["--kind", "local-party"]));
        // Moving to another local party moves house too.
        assert_eq!(
            moved_house.len(),
            planted(counts, Planted::Moved) + planted(counts, Planted::MovedLocalParty)
        );
        assert!(moved_party.is_subset(&moved_house));
        assert_eq!(moved_party.len(), planted(counts, Planted::MovedLocalParty));
        let bouncing = changes_json(db, &["--kind", "email-bouncing"]);
        assert_eq!(contacts_of(&bouncing).len(), planted(counts, Planted::EmailBouncing));
        assert!(bouncing.iter().all(|c| c["old_value"] == "0" && c["new_value"] == "1"));
        let emails = changes_json(db, &["--kind", "email"]);
        assert_eq!(contacts_of(&emails).len(), planted(counts, Planted::NewEmail));
        for c in &emails {
            let expected = format!("moved.on.{}@example.net", c["crm_contact_id"].as_str().unwrap());
            assert_eq!(c["new_value"], expected.as_str(), "{c}");
            assert_ne!(c["old_value"], c["new_value"]);
            assert_eq!(c["occurred_on"], LATER_DAY);
        }
        // Two kinds at once are the union of each.
        let both = contacts_of(&changes_json(db, &["--kind", "email", "--kind", "email-bouncing"]));
        assert_eq!(both.len(), contacts_of(&emails).len() + contacts_of(&bouncing).len());
    }

    fn planted_duplicates_and_forgotten_overrides_are_found_exactly(db: &TestDb) {
        let counts = imported_with_planted_changes(db);
        let (twins, overrides) = (planted(counts, Planted::Twin), planted(counts, Planted::ForgottenOverride));
        assert!(twins > 5 && overrides > 5, "too few planted to tell: {counts:?}");
        let mut cmd = rollcall(db, LATER_DAY);
        cmd.args(["drift", "--json"]);
        let drift: Value = serde_json::from_str(&ok(cmd)).unwrap();
        let forgotten = drift
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"] == "forgotten-override")
            .count();
        assert_eq!(forgotten, overrides);
        let mut cmd = rollcall(db, LATER_DAY);
        cmd.args(["duplicates", "--json"]);
        let found: Value = serde_json::from_str(&ok(cmd)).unwrap();
        let twin_pairs: Vec<&Value> = found["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| {
                let id = |side: &str| p[side]["crm_contact_id"].as_str().unwrap().parse::<u64>().unwrap();
                id("second") == id("first") + 10_000_000
            })
            .collect();
        assert_eq!(twin_pairs.len(), twins);
        for p in twin_pairs {
            let reasons = p["reasons"].as_array().unwrap();
            assert!(reasons.contains(&Value::from("same-name-and-postcode")), "{p}");
            assert!(p["confidence"].as_f64().unwrap() >= 0.8, "{p}");
        }
    }

    fn membership_changes_agree_with_the_import_s_own_events(db: &TestDb) {
        imported_with_planted_changes(db);
        // Every status change the import saw is a recorded change of crm_status, and every
        // renewal one of end_date that moved forward.
        assert_eq!(
            count(db, "SELECT count(*) FROM field_changes WHERE field = 'crm_status'"),
            count(db, "SELECT count(*) FROM membership_events WHERE kind = 'status_changed'")
        );
        assert_eq!(
            count(db, "SELECT count(*) FROM field_changes WHERE field = 'end_date'
                       AND new_value > old_value"),
            count(db, "SELECT count(*) FROM membership_events WHERE kind = 'renewed'")
        );
        assert!(count(db, "SELECT count(*) FROM membership_events WHERE kind = 'renewed'") > 10);
        let statuses = changes_json(db, &["--kind", "status"]);
        assert!(statuses.iter().all(|c| c["membership_type"].is_string()
            && c["crm_membership_id"].is_string()));
        // No change recorded for a contact or membership the import did not change.
        assert_eq!(
            count(db, "SELECT count(*) FROM field_changes
                       WHERE old_value = new_value
                          OR (old_value IS NULL AND new_value IS NULL)"),
            0
        );
    }

    fn an_unchanged_reimport_and_a_first_import_record_nothing(db: &TestDb) {
        let (base, _) = generate(&db.scratch(), "nov.csv", 0, false);
        for _ in 0..2 {
            let mut cmd = rollcall(db, BASE_DAY);
            cmd.arg("import").arg(&base);
            ok(cmd);
        }
        assert_eq!(count(db, "SELECT count(*) FROM field_changes"), 0);
        let mut cmd = rollcall(db, BASE_DAY);
        cmd.arg("changes");
        assert!(ok(cmd).starts_with("No changes recorded"));
        let (later, _) = generate(&db.scratch(), "dec.csv", 30, true);
        for _ in 0..2 {
            let mut cmd = rollcall(db, LATER_DAY);
            cmd.arg("import").arg(&later);
            ok(cmd);
        }
        let after_two = count(db, "SELECT count(*) FROM field_changes");
        assert!(after_two > 0);
        assert_eq!(
            count(db, "SELECT count(DISTINCT import_id) FROM field_changes"),
            1,
            "the second import of the same file changed nothing"
        );
    }

    fn since_and_region_narrow_the_list(db: &TestDb) {
        imported_with_planted_changes(db);
        let all = changes_json(db, &[]);
        assert!(!all.is_empty());
        assert_eq!(changes_json(db, &["--since", LATER_DAY]).len(), all.len());
        assert!(changes_json(db, &["--since", "2026-12-24"]).is_empty());
        let wales = changes_json(db, &["--region", "Wales"]);
        assert!(!wales.is_empty() && wales.len() < all.len());
        assert!(wales.iter().all(|c| c["region"] == "Wales"));
        // A move lists the member under the local party they moved to.
        let moved = changes_json(db, &["--kind", "local-party"]);
        let to = moved[0]["new_value"].as_str().unwrap();
        let arrivals = changes_json(db, &["--kind", "local-party", "--local-party", to]);
        assert!(arrivals.iter().any(|c| c["crm_contact_id"] == moved[0]["crm_contact_id"]));
        assert!(arrivals.iter().all(|c| c["local_party"] == to && c["new_value"] == to));
    }

    fn the_csv_is_formula_safe_and_owner_only(db: &TestDb) {
        let (base, _) = generate(&db.scratch(), "nov.csv", 0, false);
        let (later, _) = generate(&db.scratch(), "dec.csv", 30, true);
        // One new email that a spreadsheet would run.
        let text = std::fs::read_to_string(&later).unwrap();
        let first = text.find("\"moved.on.").unwrap();
        let mut armed = text.clone();
        armed.insert(first + 1, '=');
        std::fs::write(&later, armed).unwrap();
        let mut cmd = rollcall(db, BASE_DAY);
        cmd.arg("import").arg(&base);
        ok(cmd);
        let mut cmd = rollcall(db, LATER_DAY);
        cmd.arg("import").arg(&later);
        ok(cmd);
        let out = db.scratch().join("changes.csv");
        let mut cmd = rollcall(db, LATER_DAY);
        cmd.args(["changes", "--csv", "--kind", "email", "-o"]).arg(&out);
        ok(cmd);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&out).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let csv = std::fs::read_to_string(&out).unwrap();
        assert!(csv.starts_with("\u{feff}Seen On,Contact ID,Name,"), "{csv}");
        assert!(csv.contains(",'=moved.on."), "{csv}");
        assert!(!csv.contains(",=moved.on."), "{csv}");
    }

    fn a_member_s_timeline_shows_their_changes_and_forget_removes_them(db: &TestDb) {
        imported_with_planted_changes(db);
        let emails = changes_json(db, &["--kind", "email"]);
        let crm_id = emails[0]["crm_contact_id"].as_str().unwrap().to_owned();
        let mut cmd = rollcall(db, LATER_DAY);
        cmd.args(["member", &crm_id, "--json"]);
        let member: Value = serde_json::from_str(&ok(cmd)).unwrap();
        let recorded = member["field_changes"].as_array().unwrap();
        assert!(
            recorded.iter().any(|c| c["field"] == "email"
                && c["new_value"] == format!("moved.on.{crm_id}@example.net").as_str()),
            "{recorded:#?}"
        );
        // The app's member view: a timeline entry for it.
        let store = db.open();
        let contact: i64 = store
            .conn
            .query_row("SELECT id FROM contacts WHERE crm_id = ?1", [&crm_id], |r| r.get(0))
            .unwrap();
        let timeline = rollcall::storage::member::timeline(&store.conn, contact).unwrap();
        assert!(
            timeline.iter().any(|e| e.what == "email changed in the CRM"
                && e.detail.ends_with(&format!("moved.on.{crm_id}@example.net"))
                && e.at == LATER_DAY),
            "{timeline:#?}"
        );
        drop(store);
        let before = count(db, "SELECT count(*) FROM field_changes");
        let theirs = emails.iter().filter(|c| c["crm_contact_id"] == crm_id.as_str()).count();
        let mut cmd = rollcall(db, LATER_DAY);
        cmd.args(["forget", &crm_id, "--yes"]);
        let said = ok(cmd);
        assert!(said.contains("field_changes"), "{said}");
        assert!(count(db, "SELECT count(*) FROM field_changes") <= before - theirs as i64);
        let left = changes_json(db, &[]);
        assert!(left.iter().all(|c| c["crm_contact_id"] != crm_id.as_str()));
    }
}

#[test]
fn an_unknown_kind_or_a_bad_date_is_refused_in_words() {
    let db = TestDb::sqlite();
    for (args, says) in [
        (
            &["changes", "--kind", "teleported"][..],
            "invalid value 'teleported'",
        ),
        (&["changes", "--since", "23/12/2026"][..], "is not a date"),
        (&["changes", "-o", "x.csv"][..], "-o writes --csv or --json"),
    ] {
        let out = rollcall(&db, LATER_DAY).args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[test]
fn plant_needs_a_later_export() {
    let db = TestDb::sqlite();
    let out = rollcall(&db, BASE_DAY)
        .args(["generate", "--members", "10", "--plant"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--advance"));
}
