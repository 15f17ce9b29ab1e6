//! `rollcall export members`: filters, contact preferences for a channel's list, the columns a
//! channel needs, deceased never, and cells that cannot run as formulas.

mod stats_fixture;

use std::path::Path;

use stats_fixture::{fixture_dir, rollcall};

fn export(dir: &Path, args: &[&str]) -> String {
    let out = rollcall(dir)
        .args(["export", "members"])
        .args(args)
        .assert()
        .success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

/// The CRM contact ids of a CSV (the first column).
fn ids(csv: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().get(0).unwrap().to_owned())
        .collect()
}

fn header(csv: &str) -> String {
    csv.trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn welsh_speakers_of_one_local_party_due_to_renew() {
    let dir = fixture_dir();
    let csv = export(
        dir.path(),
        &["--local-party", "cardiff", "--welsh", "--due-within", "30"],
    );
    assert!(csv.starts_with('\u{feff}'), "a BOM so Excel reads UTF-8");
    assert_eq!(ids(&csv), ["101"]);
    assert!(csv.contains("Siân Evans"));
    // c1's Youth membership ends 2026-11-30, within 30 days; her Individual one does not.
    assert!(
        csv.contains(",Youth,2025-12-01,2026-11-30,Current,Current,Cym\r\n"),
        "{csv}"
    );
}

#[test]
fn a_list_for_a_channel_leaves_out_who_may_not_be_reached_that_way() {
    let dir = fixture_dir();
    let cardiff = ["--local-party", "Cardiff"];
    let all = export(dir.path(), &cardiff);
    assert_eq!(ids(&all), ["111", "101", "109", "102", "112", "114", "113"]);
    let phone = export(dir.path(), &[&cardiff[..], &["--for", "phone"]].concat());
    assert_eq!(
        ids(&phone),
        ["111", "101", "109", "112", "114", "113"],
        "c2: do not phone"
    );
    let email = export(dir.path(), &[&cardiff[..], &["--for", "email"]].concat());
    assert_eq!(
        ids(&email),
        ["111", "101", "102", "114", "113"],
        "c9: do not email, c12: on hold"
    );
    let letter = export(dir.path(), &[&cardiff[..], &["--for", "letter"]].concat());
    assert_eq!(
        ids(&letter),
        ["101", "109", "102", "112", "114", "113"],
        "c11: do not mail"
    );

    assert!(header(&phone).contains("Phone"));
    assert!(!header(&phone).contains("Street Address"));
    assert!(!header(&phone).contains("Email"));
    assert!(header(&letter).contains("Street Address,City,Postal Code,Country"));
    assert!(!header(&letter).contains("Phone"));
    assert!(header(&email).contains("Email"));
    assert!(!header(&email).contains("Postal Code"));
}

#[test]
fn deceased_and_vanished_members_are_never_listed() {
    let dir = fixture_dir();
    let swansea = export(dir.path(), &["--local-party", "Swansea"]);
    assert_eq!(ids(&swansea), ["103", "115", "116"], "c7 is deceased");
    let leeds = export(dir.path(), &["--region", "north"]);
    assert!(
        !ids(&leeds).contains(&"110".to_owned()),
        "c10 vanished from the export"
    );
    assert_eq!(ids(&leeds), ["108", "104", "105", "117", "118", "106"]);
}

#[test]
fn status_and_membership_type_filters() {
    let dir = fixture_dir();
    assert_eq!(
        ids(&export(dir.path(), &["--status", "expired"])),
        ["104", "105"]
    );
    assert_eq!(
        ids(&export(dir.path(), &["--status", "grace,pending"])),
        ["108", "103"]
    );
    assert_eq!(
        ids(&export(dir.path(), &["--membership-type", "youth"])),
        ["101"]
    );
    rollcall(dir.path())
        .args(["export", "members", "--status", "asleep"])
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "use one of new, current, grace, expired, pending, cancelled",
        ));
}

#[test]
fn no_cell_can_run_as_a_formula() {
    let dir = fixture_dir();
    let csv = export(dir.path(), &["--local-party", "Cardiff"]);
    let row = csv
        .lines()
        .find(|l| l.starts_with("113,"))
        .expect("c13's row");
    assert!(row.contains(",\"'=HYPERLINK(\"\"x\"\")\","), "{row}");
    assert!(row.contains(",'+evil@example.org,'-1,'@street,"), "{row}");
    let mut reader = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    for record in reader.records() {
        for cell in record.unwrap().iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?} could run as a formula"
            );
        }
    }
}

#[test]
fn json_and_output_file() {
    let dir = fixture_dir();
    let json = export(
        dir.path(),
        &["--json", "--welsh", "--local-party", "Swansea"],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["contact_id"], "115");
    assert_eq!(rows[0]["status"], "Current");
    assert_eq!(rows[0]["welsh"], true);
    assert_eq!(rows[0]["flags"]["do_not_phone"], false);

    let file = dir.path().join("list.csv");
    rollcall(dir.path())
        .args(["export", "members", "--for", "phone", "--output"])
        .arg(&file)
        .assert()
        .success()
        .stdout("");
    assert!(std::fs::read_to_string(&file).unwrap().contains("Phone"));
    rollcall(dir.path())
        .args(["export", "members", "--csv", "--json"])
        .assert()
        .failure();
}
