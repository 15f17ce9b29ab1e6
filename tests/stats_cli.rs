//! `rollcall stats [--json]` on the fixture database.

mod stats_fixture;

use stats_fixture::{ME, TODAY, expect, rollcall};

#[test]
fn json_holds_the_same_figures_as_the_queries() {
    let dir = tempfile::tempdir().unwrap();
    drop(stats_fixture::create(&dir.path().join("r.db")));
    let before = std::fs::read(dir.path().join("r.db")).unwrap();
    let out = rollcall(dir.path())
        .args(["stats", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["as_of"], TODAY);
    assert_eq!(v["since_last_import"]["renewed"], expect::RENEWED);
    assert_eq!(
        v["since_last_import"]["import"]["file_name"],
        "members-1123.csv"
    );
    assert_eq!(v["my_work"]["user"], ME);
    assert_eq!(v["my_work"]["onboarding_due"], expect::ONBOARDING_DUE);
    assert_eq!(v["my_work"]["unassigned_escalations"], expect::UNASSIGNED);
    assert_eq!(v["team"]["by_status"][1]["status"], "Current");
    assert_eq!(v["team"]["by_status"][1]["memberships"], expect::CURRENT);
    assert_eq!(v["team"]["by_local_party"][0]["local_party"], "Cardiff");
    assert_eq!(v["team"]["by_local_party"][0]["members"], expect::CARDIFF);
    let nov = &v["team"]["months"][11];
    assert_eq!(nov["month"], "2026-11");
    assert_eq!(nov["renewal_rate"], 0.25);
    assert_eq!(nov["provisional"], true);
    // December 2025 had a membership due but began before the first import (2026-08-24):
    // rollcall could not see its renewals, so it has no rate rather than 0%.
    let dec = &v["team"]["months"][0];
    assert_eq!(dec["month"], "2025-12");
    assert_eq!(dec["due"], 1);
    assert_eq!(dec["renewal_rate"], serde_json::Value::Null);
    assert_eq!(v["team"]["won_back"], 2);
    assert_eq!(
        std::fs::read(dir.path().join("r.db")).unwrap(),
        before,
        "stats only reads"
    );
}

#[test]
fn text_lists_each_figure_with_its_label() {
    let dir = tempfile::tempdir().unwrap();
    drop(stats_fixture::create(&dir.path().join("r.db")));
    let out = rollcall(dir.path()).arg("stats").assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for expected in [
        "Since the last import (as of 2026-11-23, members-1123.csv)",
        "  Lapsed                                     2",
        "My work (ann, 2026-11-23)",
        "  Onboarding steps due                       4",
        "  Current                                    9",
        "  Wales / Cardiff                            7",
        "2026-10       2      1      2                 2   100%*        0",
        "2026-11       2      0      4                 1    25%*        2",
        "2026-09       0      0      2                 0     0%         0",
        "won back after a contact, last 12 months: 2",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

#[test]
fn a_missing_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    rollcall(dir.path())
        .arg("stats")
        .assert()
        .failure()
        .stderr(predicates::str::contains("no database here"));
}
