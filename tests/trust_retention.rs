//! `rollcall retention`: the retention rule of config.toml lists who it would erase (by CRM id
//! and last end date), never lifetime or current members or anyone with an open escalation or a
//! coordinator's exception, and erases with `--apply` after a confirmation, as `forget` does.

mod trust_support;

use std::path::Path;

use rollcall::storage::sql::Connection;
use trust_support::*;

/// Someone who left long ago and has nothing open: the rule's one candidate once the target's
/// escalation is resolved.
const LEFT_LONG_AGO: &str = "2018-05-31";

/// The seeded database, with the target's membership ended in 2018, a lifetime member whose
/// other membership ended in 2010, and the config file with a six-year rule.
fn setup(config: &str) -> Seeded {
    let s = seeded();
    let conn = Connection::open(&s.db).unwrap();
    conn.execute(
        "UPDATE memberships SET end_date = ?2 WHERE contact_id = ?1",
        rollcall::storage::sql::params![s.target_id, LEFT_LONG_AGO],
    )
    .unwrap();
    conn.execute_batch(
        "INSERT INTO contacts (id, source, crm_id, display_name) VALUES
           (90, 'civicrm', '7001', 'Lifetime Member');
         INSERT INTO memberships (contact_id, source, sync_key, end_date) VALUES
           (90, 'civicrm', 'id:7001a', '2010-01-01'), (90, 'civicrm', 'id:7001b', NULL);",
    )
    .unwrap();
    let dir = s.dir.path().join("config-home/rollcall");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), config).unwrap();
    s
}

const SIX_YEARS: &str = "[retention]\nerase_after_years = 6\n";

fn retention(s: &Seeded) -> assert_cmd::Command {
    let mut cmd = rollcall(&s.db);
    cmd.env("XDG_CONFIG_HOME", s.dir.path().join("config-home"))
        .arg("retention");
    cmd
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn resolve_their_escalation(db: &Path) {
    Connection::open(db)
        .unwrap()
        .execute("UPDATE escalations SET status = 'resolved'", [])
        .unwrap();
}

fn contacts(db: &Path) -> Vec<String> {
    Connection::open(db)
        .unwrap()
        .prepare("SELECT crm_id FROM contacts ORDER BY crm_id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn the_list_names_only_who_is_past_the_rule_and_why_others_are_kept() {
    let s = setup(SIX_YEARS);
    // With their data-protection escalation open, the target is kept.
    let out = retention(&s).assert().success().get_output().clone();
    let text = stdout(&out);
    assert!(text.contains("before 2020-03-02"), "{text}");
    assert!(text.contains("Nobody is past the rule"), "{text}");
    assert!(text.contains("Kept although past the rule, 1:"), "{text}");
    assert!(text.contains("an escalation about them is open"), "{text}");

    resolve_their_escalation(&s.db);
    let out = retention(&s).assert().success().get_output().clone();
    let text = stdout(&out);
    assert!(text.contains("Would erase 1:"), "{text}");
    let line = text.lines().find(|l| l.contains(TARGET.crm_id)).unwrap();
    assert!(line.contains(LEFT_LONG_AGO), "{text}");
    // Neither the lifetime member nor the current one is listed, and no one is named.
    assert!(
        !text.contains("7001") && !text.contains(BYSTANDER.crm_id),
        "{text}"
    );
    assert_no_personal_data(&text, &TARGET);

    let out = retention(&s)
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .clone();
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json[0]["crm_id"], TARGET.crm_id);
    assert_eq!(json[0]["last_end"], LEFT_LONG_AGO);
}

#[test]
fn apply_needs_a_confirmation_and_then_erases_as_forget_does() {
    let s = setup(SIX_YEARS);
    resolve_their_escalation(&s.db);
    let before = dump(&s.db);
    let out = retention(&s)
        .arg("--apply")
        .write_stdin("y\n")
        .assert()
        .failure()
        .get_output()
        .clone();
    assert!(
        stderr(&out).contains("not running on a terminal"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("--yes"));
    assert_eq!(dump(&s.db), before, "nothing was erased");

    let out = retention(&s)
        .args(["--apply", "--yes"])
        .assert()
        .success()
        .get_output()
        .clone();
    let text = stdout(&out);
    assert!(text.contains("Erased 1 people"), "{text}");
    assert_no_personal_data(&text, &TARGET);
    assert_eq!(contacts(&s.db), [BYSTANDER.crm_id, "7001"]);

    let conn = Connection::open(&s.db).unwrap();
    let hash: String = conn
        .query_row("SELECT key_hash FROM erased_contacts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        hash,
        rollcall::storage::erase::erased_key_hash("civicrm", TARGET.crm_id)
    );
    let forget: String = conn
        .query_row(
            "SELECT after FROM audit_log WHERE action = 'forget'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(forget.contains("\"cause\":\"retention\""), "{forget}");
    let run: String = conn
        .query_row(
            "SELECT after FROM audit_log WHERE action = 'retention.apply'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        run.contains("\"erased\":1") && run.contains("\"erase_after_years\":6"),
        "{run}"
    );
    drop(conn);
    // The same wipe as forget: nothing of theirs left in the file's bytes.
    let bytes = file_bytes(&s.db);
    for value in [
        TARGET.email,
        TARGET.old_email,
        TARGET.display,
        TARGET.street,
    ] {
        assert!(
            !contains_bytes(&bytes, value),
            "the file still holds `{value}`"
        );
    }
}

#[test]
fn a_coordinators_exception_is_stored_audited_listed_and_honoured() {
    let s = setup(SIX_YEARS);
    resolve_their_escalation(&s.db);
    retention(&s)
        .args([
            "--keep",
            TARGET.crm_id,
            "--reason",
            "Legal claim open until 2027",
        ])
        .assert()
        .success();
    let out = retention(&s)
        .arg("--keeps")
        .assert()
        .success()
        .get_output()
        .clone();
    let text = stdout(&out);
    assert!(
        text.contains(TARGET.crm_id) && text.contains("Legal claim open until 2027"),
        "{text}"
    );

    let out = retention(&s).assert().success().get_output().clone();
    let text = stdout(&out);
    assert!(text.contains("Nobody is past the rule"), "{text}");
    assert!(
        text.contains("marked to keep by amira on 2026-03-02: Legal claim open until 2027"),
        "{text}"
    );
    retention(&s).args(["--apply", "--yes"]).assert().success();
    assert!(contacts(&s.db).contains(&TARGET.crm_id.to_owned()));

    let conn = Connection::open(&s.db).unwrap();
    let (contact, after): (i64, String) = conn
        .query_row(
            "SELECT contact_id, after FROM audit_log WHERE action = 'retention.keep'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(contact, s.target_id);
    assert!(after.contains("Legal claim"), "{after}");
    drop(conn);

    // Removed, the rule applies again.
    retention(&s)
        .args(["--unkeep", TARGET.crm_id])
        .assert()
        .success();
    let out = retention(&s).assert().success().get_output().clone();
    assert!(stdout(&out).contains("Would erase 1:"), "{}", stdout(&out));
}

#[test]
fn bad_requests_are_refused_with_what_is_wrong() {
    let s = setup(SIX_YEARS);
    let before = dump(&s.db);
    for (args, expected) in [
        (vec!["--keep", TARGET.crm_id], "--reason"),
        (
            vec!["--keep", TARGET.crm_id, "--reason", " "],
            "--reason is empty",
        ),
        (
            vec!["--keep", "999999", "--reason", "x"],
            "no contact has that CRM id",
        ),
        (
            vec!["--unkeep", TARGET.crm_id],
            "has no retention exception",
        ),
        (vec!["--yes"], "--apply"),
    ] {
        let out = retention(&s)
            .args(&args)
            .assert()
            .failure()
            .get_output()
            .clone();
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    assert_eq!(dump(&s.db), before);
}

#[test]
fn the_rule_must_be_set_and_spelt_right() {
    let s = setup("");
    let out = retention(&s).assert().failure().get_output().clone();
    assert!(
        stderr(&out).contains("erase_after_years = N"),
        "{}",
        stderr(&out)
    );
    let s = setup("[retention]\nerase_after = 6\n");
    let out = retention(&s).assert().failure().get_output().clone();
    let err = stderr(&out);
    assert!(
        err.contains("config.toml") && err.contains("line 2"),
        "{err}"
    );
    assert!(err.contains("erase_after"), "{err}");
    let s = setup("[retention]\nerase_after_years = 0\n");
    let out = retention(&s).assert().failure().get_output().clone();
    assert!(stderr(&out).contains("at least 1"), "{}", stderr(&out));
}
