//! `rollcall export activities`: the CiviCRM columns, the once-only rule, `--since`, formula
//! neutralisation, read-only refusal and never losing an activity.

mod stats_fixture;

use std::path::Path;

use rollcall::storage::{OpenMode, Store};
use stats_fixture::{fixture_dir, rollcall};

const HEADER: &str =
    "Contact ID,Activity Type,Subject,Activity Date,Activity Status,Details,Added By,Activity Key";

fn export(dir: &Path, extra: &[&str]) -> String {
    let out = rollcall(dir)
        .args(["export", "activities"])
        .args(extra)
        .assert()
        .success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

fn keys(csv: &str) -> Vec<String> {
    csv.lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().to_owned())
        .collect()
}

fn exported_count(dir: &Path) -> i64 {
    let store = Store::open(&dir.join("r.db"), OpenMode::ReadOnly).unwrap();
    store
        .conn
        .query_row("SELECT COUNT(*) FROM exported_activities", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn every_activity_once_oldest_first_with_civicrm_columns() {
    let dir = fixture_dir();
    let csv = export(dir.path(), &[]);
    assert!(csv.ends_with("\r\n"), "CRLF line ends");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], HEADER);
    assert_eq!(
        keys(&csv),
        [
            "attempt:7",
            "attempt:4",
            "attempt:5",
            "attempt:3",
            "escalation_event:3",
            "step:12:welcome_email",
            "attempt:8",
            "step:11:welcome_email",
            "attempt:1",
            "attempt:6",
            "attempt:10",
            "attempt:9",
            "attempt:2",
            "escalation_event:2",
            "escalation_event:6",
        ]
    );
    for expected in [
        "117,Meeting,Renewal contact (Individual): will renew,2026-10-01 16:45:00,Completed,\
         Met at conference,ann,attempt:7",
        "115,Print PDF Letter,Renewal contact (Individual): will renew,2026-10-20 14:00:00,\
         Completed,'=1+1 said the letter,ann,attempt:4",
        "105,Follow up,Escalation #4 resolved: Magazine not arriving,2026-11-01 12:00:00,\
         Completed,Address corrected,ann,escalation_event:3",
        "112,Follow up,Onboarding: Welcome email sent,2026-11-01 12:00:00,Completed,,bob,\
         step:12:welcome_email",
        "118,Outbound SMS,Renewal contact (Individual): will renew,2026-11-02 08:05:00,\
         Completed,,ann,attempt:8",
        "104,Phone Call,Renewal contact (Individual): left message,2026-11-18 13:00:00,\
         Completed,,ann,attempt:9",
        "102,Email,Renewal contact (Individual): will renew,2026-11-20 11:00:00,Completed,,ann,\
         attempt:2",
        "103,Follow up,Escalation #1 comment: Double charged at renewal,2026-11-21 10:00:00,\
         Completed,\"Called, will ring back\",ann,escalation_event:2",
        "101,Follow up,Escalation #6 comment: Wants to change branch,2026-11-22 09:30:00,\
         Completed,'@mention the branch chair,bob,escalation_event:6",
    ] {
        assert!(lines.contains(&expected), "missing {expected}\nin\n{csv}");
    }
    // An escalation about no member, and timeline entries other than comments and
    // resolutions, are not activities of a contact.
    assert!(!csv.contains("Asked the treasurer"));
    assert_eq!(exported_count(dir.path()), 15);
}

#[test]
fn a_second_run_writes_only_what_is_new_and_since_repeats_on_purpose() {
    let dir = fixture_dir();
    assert_eq!(keys(&export(dir.path(), &[])).len(), 15);
    assert_eq!(
        export(dir.path(), &[]),
        format!("{HEADER}\r\n"),
        "nothing new"
    );

    let again = export(dir.path(), &["--since", "2026-11-20"]);
    assert_eq!(
        keys(&again),
        ["attempt:2", "escalation_event:2", "escalation_event:6"]
    );

    let store = Store::open(&dir.path().join("r.db"), OpenMode::ReadWrite).unwrap();
    store
        .conn
        .execute_batch(
            "INSERT INTO contact_attempts (contact_id, membership_id, channel, outcome,
                 attempted_at, staff)
             VALUES (3, 3, 'phone', 'renewed', '2026-11-23T09:00:00', 'ann')",
        )
        .unwrap();
    drop(store);
    assert_eq!(keys(&export(dir.path(), &[])), ["attempt:11"]);
    assert_eq!(exported_count(dir.path()), 16);
}

#[test]
fn output_file_is_owner_only_and_the_run_is_audited() {
    let dir = fixture_dir();
    let file = dir.path().join("activities.csv");
    rollcall(dir.path())
        .args(["export", "activities", "--output"])
        .arg(&file)
        .assert()
        .success()
        .stdout("")
        .stderr(predicates::str::contains("wrote 15 activities to"));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with(HEADER));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
    }
    let store = Store::open(&dir.path().join("r.db"), OpenMode::ReadOnly).unwrap();
    let (staff, after): (String, String) = store
        .conn
        .query_row(
            "SELECT staff, after FROM audit_log WHERE action = 'export_activities'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(staff, "ann");
    assert!(after.contains("\"written\":15"), "{after}");
}

#[test]
fn a_file_that_cannot_be_written_records_nothing() {
    let dir = fixture_dir();
    rollcall(dir.path())
        .args(["export", "activities", "--output"])
        .arg(dir.path().join("no/such/dir/a.csv"))
        .assert()
        .failure()
        .stderr(predicates::str::contains("there is no folder"));
    assert_eq!(exported_count(dir.path()), 0);
    assert_eq!(keys(&export(dir.path(), &[])).len(), 15, "nothing was lost");
}

#[test]
fn read_only_refuses_with_a_clear_message() {
    let dir = fixture_dir();
    rollcall(dir.path())
        .args(["--read-only", "export", "activities"])
        .assert()
        .failure()
        .stdout("")
        .stderr(predicates::str::contains("read-only"))
        .stderr(predicates::str::contains("exported"));
    assert_eq!(exported_count(dir.path()), 0);
}

#[test]
fn two_crm_sources_need_source_named() {
    let dir = fixture_dir();
    let store = Store::open(&dir.path().join("r.db"), OpenMode::ReadWrite).unwrap();
    store
        .conn
        .execute_batch(
            "INSERT INTO contacts (id, source, crm_id) VALUES (50, 'nationbuilder', 'nb-1');
             INSERT INTO contact_attempts (contact_id, channel, outcome, attempted_at, staff)
             VALUES (50, 'phone', 'no_answer', '2026-11-22T09:00:00', 'ann');",
        )
        .unwrap();
    drop(store);
    rollcall(dir.path())
        .args(["export", "activities"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("civicrm, nationbuilder"))
        .stderr(predicates::str::contains("--source"));
    let civicrm = export(dir.path(), &["--source", "civicrm"]);
    assert_eq!(keys(&civicrm).len(), 15);
    assert!(!civicrm.contains("nb-1"));
    let nb = export(dir.path(), &["--source", "nationbuilder"]);
    assert_eq!(keys(&nb), ["attempt:11"]);
}

#[test]
fn bad_arguments_say_what_is_accepted() {
    let dir = fixture_dir();
    rollcall(dir.path())
        .args(["export", "activities", "--format", "salesforce"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("civicrm"));
    rollcall(dir.path())
        .args(["export", "activities", "--since", "23/11/2026"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("YYYY-MM-DD"));
    assert_eq!(exported_count(dir.path()), 0);
}
