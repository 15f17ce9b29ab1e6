//! `rollcall import` and `rollcall imports` end to end: formats, encodings, date orders, sync
//! rules, rejected rows, --strict, --dry-run, --partial, JSON, permissions.

mod import_support;

use import_support::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn contacts_and_memberships(s: &Scratch) -> (Vec<String>, Vec<String>) {
    let conn = s.conn();
    (dump(&conn, "contacts"), dump(&conn, "memberships"))
}

#[test]
fn first_import_reads_a_civicrm_export() {
    let s = Scratch::new();
    let out = s.import("civicrm_small.csv", &[]);
    for expected in [
        "profile      civicrm (detected from the headers), source civicrm",
        "encoding     UTF-8 with BOM, delimiter ,",
        "date order   ISO (YYYY-MM-DD)",
        "rows read    10",
        "contacts     9 inserted, 0 updated, 0 unchanged",
        "memberships  10 inserted, 0 updated, 0 unchanged",
        "rejected     0 row(s)",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    let row = |sql: &str| s.text(sql).unwrap_or_default();
    assert_eq!(
        row("SELECT display_name FROM contacts WHERE crm_id = '101'"),
        "Siân Jones"
    );
    assert_eq!(
        row("SELECT preferred_language FROM contacts WHERE crm_id = '101'"),
        "cy_GB"
    );
    assert_eq!(
        row("SELECT street_address FROM contacts WHERE crm_id = '101'"),
        "Flat 2\n14 Heol y Frenhines",
        "a quoted line break survives, as \\n"
    );
    assert_eq!(
        row(
            "SELECT local_party || '/' || region || '/' || constituency FROM contacts WHERE crm_id = '101'"
        ),
        "Cardiff Central/Wales/Cardiff East"
    );
    assert_eq!(
        row("SELECT street_address FROM contacts WHERE crm_id = '104'"),
        "Bryn Awel\nLôn Las",
        "supplemental address lines join the street address"
    );
    assert_eq!(
        row("SELECT membership_source FROM memberships WHERE crm_membership_id = '5005'"),
        "Paid £36 by cheque"
    );
    assert_eq!(
        row("SELECT display_name FROM contacts WHERE crm_id = '106'"),
        "Seán O'Neill"
    );
    assert_eq!(
        row("SELECT contact_type FROM contacts WHERE crm_id = '107'"),
        "Organization"
    );
    assert_eq!(
        s.count("SELECT COUNT(*) FROM memberships m JOIN contacts c ON c.id = m.contact_id WHERE c.crm_id = '103'"),
        2,
        "a contact with two memberships has both"
    );
    assert_eq!(
        s.count("SELECT do_not_phone FROM contacts WHERE crm_id = '102'"),
        1
    );
    assert_eq!(
        s.count("SELECT do_not_email FROM contacts WHERE crm_id = '102'"),
        0
    );
    assert_eq!(
        s.count("SELECT no_bulk_email FROM contacts WHERE crm_id = '104'"),
        1
    );
    assert_eq!(
        s.count("SELECT on_hold FROM contacts WHERE crm_id = '109'"),
        1
    );
    assert_eq!(
        row("SELECT is_deceased || ' ' || deceased_date FROM contacts WHERE crm_id = '106'"),
        "1 2026-09-02"
    );
    assert_eq!(
        s.count("SELECT end_date IS NULL FROM memberships WHERE crm_membership_id = '5009'"),
        1,
        "lifetime: no end date"
    );
    assert_eq!(
        row(
            "SELECT sync_key || ' ' || crm_status || ' ' || auto_renew || ' ' || end_date FROM memberships WHERE crm_membership_id = '5001'"
        ),
        "id:5001 Current 1 2026-11-30"
    );
    assert_eq!(
        s.count("SELECT auto_renew FROM memberships WHERE crm_membership_id = '5002'"),
        0
    );
    assert_eq!(
        s.count("SELECT COUNT(*) FROM contacts WHERE first_import_id = 1 AND last_import_id = 1"),
        9
    );
    assert_eq!(
        s.count("SELECT COUNT(*) FROM membership_events"),
        0,
        "a source's first import is the baseline: nobody joined today"
    );
    let bytes = std::fs::read(fixture("civicrm_small.csv")).unwrap();
    assert_eq!(
        row(
            "SELECT staff || ' ' || as_of || ' ' || profile || ' ' || source || ' ' || encoding || ' ' || date_order || ' ' || file_size FROM import_runs"
        ),
        format!(
            "alice 2026-11-23 civicrm civicrm UTF-8 with BOM iso {}",
            bytes.len()
        )
    );
    assert_eq!(
        row("SELECT file_sha256 FROM import_runs"),
        hex_sha256(&bytes)
    );
    assert_eq!(
        s.count("SELECT COUNT(*) FROM audit_log WHERE action = 'import' AND staff = 'alice' AND entity_id = 1"),
        1
    );
}

#[test]
fn reimporting_the_same_file_changes_nothing_and_says_so() {
    let s = Scratch::new();
    s.import("civicrm_small.csv", &[]);
    let before = contacts_and_memberships(&s);
    let out = s.import("civicrm_small.csv", &[]);
    assert!(
        out.contains("contacts     0 inserted, 0 updated, 9 unchanged"),
        "{out}"
    );
    assert!(
        out.contains("memberships  0 inserted, 0 updated, 10 unchanged"),
        "{out}"
    );
    assert!(
        out.contains("Nothing changed: the database already matched this file."),
        "{out}"
    );
    assert_eq!(contacts_and_memberships(&s), before);
    assert_eq!(s.count("SELECT COUNT(*) FROM membership_events"), 0);
    assert_eq!(
        s.count("SELECT COUNT(*) FROM import_runs"),
        2,
        "every run is recorded"
    );
}

#[test]
fn an_excel_resave_is_read_as_the_same_data() {
    // Windows-1252, dd/mm/yyyy, no BOM, minimal quoting, line breaks inside cells as LF.
    let s = Scratch::new();
    s.import("civicrm_small.csv", &[]);
    let before = contacts_and_memberships(&s);
    let report = s.import_json(TODAY, "civicrm_small_excel.csv", &[]);
    assert_eq!(report["encoding"], "Windows-1252");
    assert_eq!(report["date_order"], "dmy");
    assert_eq!(report["contacts"]["unchanged"], 9, "{report}");
    assert_eq!(report["memberships"]["unchanged"], 10, "{report}");
    assert_eq!(contacts_and_memberships(&s), before);

    let fresh = Scratch::new();
    let out = fresh.import("civicrm_small_excel.csv", &[]);
    assert!(out.contains("encoding     Windows-1252"), "{out}");
    assert!(out.contains("date order   day first (dd/mm/yyyy)"), "{out}");
    assert_eq!(contacts_and_memberships(&fresh).0.len(), 9);
    assert_eq!(
        fresh.text("SELECT membership_source FROM memberships WHERE crm_membership_id = '5005'"),
        Some("Paid £36 by cheque".into())
    );
    assert_eq!(
        fresh.text("SELECT end_date FROM memberships WHERE crm_membership_id = '5002'"),
        Some("2026-06-14".into())
    );
}

#[test]
fn a_later_export_counts_renewals_joins_and_a_vanished_membership() {
    let s = Scratch::new();
    s.import("civicrm_small.csv", &[]);
    let conn = s.conn();
    let id = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    let sian = id("SELECT id FROM contacts WHERE crm_id = '101'");
    let sian_membership = id("SELECT id FROM memberships WHERE crm_membership_id = '5001'");
    let siobhan = id("SELECT id FROM contacts WHERE crm_id = '105'");
    conn.execute_batch(&format!(
        "INSERT INTO contact_attempts (id, contact_id, membership_id, channel, outcome, attempted_at, staff)
         VALUES (71, {sian}, {sian_membership}, 'phone', 'will_renew', '2026-12-01T10:00:00', 'bob'),
                (72, {sian}, {sian_membership}, 'email', 'no_answer', '2026-12-30T09:00:00', 'bob'),
                (73, {siobhan}, NULL, 'phone', 'will_renew', '2026-11-28T15:30:00', 'bob');"
    ))
    .unwrap();

    let report = s.import_json("2026-12-23", "civicrm_later.csv", &[]);
    assert_eq!(report["contacts"]["inserted"], 1, "{report}");
    assert_eq!(report["contacts"]["updated"], 1, "{report}");
    assert_eq!(report["contacts"]["unchanged"], 8, "{report}");
    assert_eq!(report["memberships"]["inserted"], 1, "{report}");
    assert_eq!(report["memberships"]["updated"], 2, "{report}");
    assert_eq!(report["memberships"]["unchanged"], 7, "{report}");
    assert_eq!(report["memberships"]["renewed"], 2, "{report}");
    assert_eq!(report["memberships"]["missing_from_export"], 1, "{report}");

    let events: Vec<String> = conn
        .prepare(
            "SELECT m.crm_membership_id, e.kind, COALESCE(e.old_value, '-'), COALESCE(e.new_value, '-'),
                    e.occurred_on, COALESCE(e.credited_attempt_id, 0), e.import_id
             FROM membership_events e JOIN memberships m ON m.id = e.membership_id
             ORDER BY m.crm_membership_id, e.id",
        )
        .unwrap()
        .query_map([], |r| {
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
        .unwrap();
    assert_eq!(
        events,
        vec![
            "5001 renewed 2026-11-30 2027-11-30 2026-12-23 71 2",
            "5004 missing - - 2026-12-23 0 2",
            "5006 renewed 2026-11-10 2027-11-10 2026-12-23 73 2",
            "5006 status_changed Grace Current 2026-12-23 0 2",
            "5011 joined - - 2026-12-23 0 2",
        ]
    );
    assert_eq!(
        s.count("SELECT missing_since FROM memberships WHERE crm_membership_id = '5004'"),
        2,
        "flagged, never deleted"
    );
    assert_eq!(
        s.text("SELECT email FROM contacts WHERE crm_id = '108'"),
        Some("priya.p@example.org".into())
    );
    assert_eq!(
        s.count("SELECT last_import_id FROM contacts WHERE crm_id = '108'"),
        2
    );
    assert_eq!(
        s.count("SELECT last_import_id FROM contacts WHERE crm_id = '102'"),
        1
    );

    // The older export again, on purpose: the vanished membership is back and unflagged.
    let report = s.import_json("2026-12-24", "civicrm_small.csv", &["--older-export"]);
    assert_eq!(report["memberships"]["back_in_export"], 1, "{report}");
    assert_eq!(report["memberships"]["missing_from_export"], 1, "{report}");
    assert_eq!(
        report["memberships"]["renewed"], 0,
        "an end date moving back is no renewal"
    );
    assert_eq!(
        s.count("SELECT missing_since IS NULL FROM memberships WHERE crm_membership_id = '5004'"),
        1
    );
    assert_eq!(
        s.count(
            "SELECT COUNT(*) FROM membership_events e JOIN memberships m ON m.id = e.membership_id
                 WHERE m.crm_membership_id = '5004' AND e.kind = 'returned' AND e.import_id = 3"
        ),
        1
    );
    // Still absent on the next run: not flagged twice.
    let report = s.import_json("2026-12-25", "civicrm_small.csv", &[]);
    assert_eq!(report["memberships"]["missing_from_export"], 0, "{report}");
    assert_eq!(report["memberships"]["still_missing"], 1, "{report}");
    assert_eq!(
        s.count("SELECT COUNT(*) FROM membership_events WHERE kind = 'missing'"),
        2
    );
}

#[test]
fn rows_rollcall_owns_are_untouched_by_imports() {
    let s = Scratch::new();
    s.import("civicrm_small.csv", &[]);
    let conn = s.conn();
    let contact_ids_before = dump(&conn, "contacts")
        .iter()
        .map(|r| r.split('|').take(3).collect::<Vec<_>>().join("|"))
        .collect::<Vec<_>>();
    conn.execute_batch(
        "INSERT INTO contact_attempts (contact_id, membership_id, channel, outcome, note, attempted_at, staff)
            SELECT contact_id, id, 'phone', 'left_message', 'Call back after six', '2026-11-20T10:00:00', 'bob'
            FROM memberships;
         INSERT INTO notes (contact_id, membership_id, context, body, staff, created_at)
            SELECT contact_id, id, 'renewals', 'Prefers Welsh', 'bob', '2026-11-20T10:05:00' FROM memberships;
         INSERT INTO escalations (contact_id, membership_id, category, priority, title, opened_at, opened_by, due_date)
            SELECT contact_id, id, 'complaint', 'high', 'Card charged twice', '2026-11-21T09:00:00', 'carol', '2026-11-26'
            FROM memberships WHERE crm_membership_id = '5003';
         INSERT INTO snoozes (membership_id, until, staff, created_at)
            SELECT id, '2026-12-01', 'bob', '2026-11-21T09:00:00' FROM memberships WHERE crm_membership_id = '5004';
         INSERT INTO assignments (contact_id, queue, assignee, staff, assigned_at)
            SELECT id, 'renewals', 'bob', 'carol', '2026-11-21T09:00:00' FROM contacts;
         INSERT INTO onboarding (contact_id, anchor_date, added_by, added_at)
            SELECT id, '2026-10-01', 'carol', '2026-11-21T09:00:00' FROM contacts WHERE crm_id = '104';",
    )
    .unwrap();
    let owned = [
        "contact_attempts",
        "notes",
        "escalations",
        "escalation_events",
        "snoozes",
        "assignments",
        "onboarding",
        "onboarding_steps",
        "exported_activities",
        "erased_contacts",
        "ui_state",
    ];
    let before: Vec<_> = owned.iter().map(|t| dump(&conn, t)).collect();
    s.import_on("2026-12-23", "civicrm_later.csv", &[]);
    s.import_on("2026-12-24", "civicrm_small.csv", &["--older-export"]);
    let after: Vec<_> = owned.iter().map(|t| dump(&conn, t)).collect();
    assert_eq!(before, after);
    // The rows they point at kept their ids.
    let contact_ids_after = dump(&conn, "contacts")
        .iter()
        .take(contact_ids_before.len())
        .map(|r| r.split('|').take(3).collect::<Vec<_>>().join("|"))
        .collect::<Vec<_>>();
    assert_eq!(contact_ids_before, contact_ids_after);
    assert_eq!(
        s.count(
            "SELECT COUNT(*) FROM contact_attempts a JOIN memberships m ON m.id = a.membership_id"
        ),
        10
    );
}

const BROKEN_REJECTS: [(u64, &str); 6] = [
    (
        3,
        "Contact ID: empty (every row needs the CRM's contact id)",
    ),
    (
        4,
        "Membership Expiration Date: not a date (expected YYYY-MM-DD or dd/mm/yyyy)",
    ),
    (
        5,
        "7 fields where the header has 11 (a stray delimiter, or a quote that is never closed?)",
    ),
    (
        8,
        "Member Since: not a date (expected YYYY-MM-DD or dd/mm/yyyy)",
    ),
    (
        10,
        "Membership Type: empty, and no Membership ID either: cannot tell which membership this row is",
    ),
    (
        11,
        "10 fields where the header has 11 (a stray delimiter, or a quote that is never closed?)",
    ),
];

#[test]
fn rejected_rows_are_named_by_line_and_the_good_rows_import() {
    let s = Scratch::new();
    let out = s.import("civicrm_broken.csv", &[]);
    for (line, reason) in BROKEN_REJECTS {
        let expected = format!("line {line}: {reason}");
        assert!(out.contains(&expected), "missing {expected:?} in:\n{out}");
    }
    assert!(out.contains("rejected     6 row(s)"), "{out}");
    assert!(
        out.contains("missing      not checked: 3 rejected row(s) could not be matched"),
        "{out}"
    );
    for personal in [
        "Iolo",
        "Huws",
        "31/02/2026",
        "next Tuesday",
        "Heledd",
        "Mererid",
        "@example",
    ] {
        assert!(
            !out.contains(personal),
            "a rejection showed member data {personal:?}:\n{out}"
        );
    }
    let crm_ids: Vec<String> = s
        .conn()
        .prepare("SELECT crm_id FROM contacts ORDER BY crm_id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(crm_ids, ["201", "205", "207"]);
    assert_eq!(
        s.text("SELECT street_address FROM contacts WHERE crm_id = '205'"),
        Some("Flat 1\n5 High Street".into())
    );
    let stored: Vec<(i64, String)> = s
        .conn()
        .prepare("SELECT line, reason FROM import_rejects ORDER BY line")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: Vec<(i64, String)> = BROKEN_REJECTS
        .iter()
        .map(|(l, r)| (*l as i64, r.to_string()))
        .collect();
    assert_eq!(stored, expected);
}

#[test]
fn json_reports_every_rejected_line() {
    let s = Scratch::new();
    let report = s.import_json(TODAY, "civicrm_broken.csv", &[]);
    for key in [
        "profile",
        "encoding",
        "date_order",
        "rows_read",
        "contacts",
        "memberships",
        "rejected",
        "errors",
    ] {
        assert!(report.get(key).is_some(), "no {key} in {report}");
    }
    for key in ["inserted", "updated", "unchanged"] {
        assert!(report["contacts"].get(key).is_some(), "{report}");
    }
    for key in [
        "inserted",
        "updated",
        "unchanged",
        "renewed",
        "missing_from_export",
    ] {
        assert!(report["memberships"].get(key).is_some(), "{report}");
    }
    assert_eq!(report["rows_read"], 9);
    assert_eq!(report["rejected"], 6);
    assert_eq!(
        report["date_order"], "iso",
        "an impossible slash date decides nothing"
    );
    let errors: Vec<(u64, String)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(u64, String)> = BROKEN_REJECTS
        .iter()
        .map(|(l, r)| (*l, r.to_string()))
        .collect();
    assert_eq!(errors, expected);
}

#[test]
fn strict_refuses_a_file_with_rejected_rows_and_writes_nothing() {
    let s = Scratch::new();
    let assert = s
        .cmd()
        .args(["import", "--strict"])
        .arg(fixture("civicrm_broken.csv"))
        .assert()
        .failure();
    let err = stderr_of(&assert);
    assert!(
        err.contains("6 rejected row(s) under --strict; nothing was changed"),
        "{err}"
    );
    let out = stdout_of(&assert);
    assert!(
        out.contains("line 4: Membership Expiration Date: not a date"),
        "{out}"
    );
    assert!(!s.db.exists(), "a refused import leaves no database behind");
    // A clean file passes --strict.
    s.import("civicrm_small.csv", &["--strict"]);
    assert_eq!(s.count("SELECT COUNT(*) FROM contacts"), 9);
}

#[test]
fn dry_run_reports_but_writes_nothing() {
    let s = Scratch::new();
    s.import("civicrm_small.csv", &[]);
    let before = snapshot(&s.conn());
    let out = s.import_on("2026-12-23", "civicrm_later.csv", &["--dry-run"]);
    assert!(out.starts_with("Dry run (nothing written):"), "{out}");
    assert!(out.contains("renewals     2 detected"), "{out}");
    assert_eq!(snapshot(&s.conn()), before);
}

#[test]
fn a_partial_export_flags_nothing_missing() {
    let s = Scratch::new();
    s.import("civicrm_small.csv", &[]);
    let out = s.import_on("2026-12-23", "civicrm_later.csv", &["--partial"]);
    assert!(
        out.contains("missing      not checked: a partial export (--partial)"),
        "{out}"
    );
    assert_eq!(
        s.count("SELECT COUNT(*) FROM memberships WHERE missing_since IS NOT NULL"),
        0
    );
    assert_eq!(
        s.count("SELECT COUNT(*) FROM membership_events WHERE kind = 'missing'"),
        0
    );
    assert_eq!(
        s.count("SELECT COUNT(*) FROM membership_events WHERE kind = 'renewed'"),
        2
    );
}

#[test]
fn a_contact_only_export_updates_contacts_and_flags_nothing() {
    let s = Scratch::new();
    s.import("civicrm_small.csv", &[]);
    let file = s.path("contacts.csv");
    std::fs::write(
        &file,
        "Contact ID,First Name,Last Name,Email\r\n101,Siân,Jones,sian.new@example.org\r\n102,Rhys,ap Gwilym,rhys@example.net\r\n",
    )
    .unwrap();
    let out = s.cmd().arg("import").arg(&file).assert().success();
    let out = stdout_of(&out);
    assert!(
        out.contains("contacts     0 inserted, 2 updated, 0 unchanged"),
        "{out}"
    );
    assert!(
        out.contains("memberships  0 inserted, 0 updated, 0 unchanged"),
        "{out}"
    );
    assert!(
        out.contains("not checked: the file has no membership columns"),
        "{out}"
    );
    assert_eq!(
        s.count("SELECT COUNT(*) FROM memberships WHERE missing_since IS NOT NULL"),
        0
    );
    assert_eq!(
        s.text("SELECT email FROM contacts WHERE crm_id = '101'"),
        Some("sian.new@example.org".into())
    );

    let an = Scratch::new();
    let report = an.import_json(TODAY, "actionnetwork.csv", &[]);
    assert_eq!(report["profile"], "actionnetwork");
    assert_eq!(report["source"], "actionnetwork");
    assert_eq!(report["contacts"]["inserted"], 3);
    assert_eq!(an.count("SELECT COUNT(*) FROM memberships"), 0);
    assert_eq!(
        an.text("SELECT postcode || ' ' || phone FROM contacts WHERE last_name = 'Morgan'"),
        Some("CF24 3AA 07700 900401".into())
    );
}

#[test]
fn nationbuilder_people_export_with_us_dates() {
    let s = Scratch::new();
    let out = s.import("nationbuilder.csv", &[]);
    assert!(
        out.contains(
            "profile      nationbuilder (detected from the headers), source nationbuilder"
        ),
        "{out}"
    );
    assert!(out.contains("encoding     UTF-8, delimiter ,"), "{out}");
    // The first expiry (01/05/2027) is ambiguous; the second (12/31/2026) is month-first, so the
    // whole file is read month-first: one order per file.
    assert!(
        out.contains("date order   month first (mm/dd/yyyy)"),
        "{out}"
    );
    assert!(out.contains("memberships  4 inserted"), "{out}");
    let row = |crm: &str, col: &str| {
        s.text(&format!(
            "SELECT {col} FROM contacts c JOIN memberships m ON m.contact_id = c.id WHERE c.crm_id = '{crm}'"
        ))
        .unwrap_or_default()
    };
    assert_eq!(row("301", "m.end_date"), "2027-01-05");
    assert_eq!(row("301", "m.start_date"), "2026-01-06");
    assert_eq!(
        row("302", "m.start_date"),
        "2025-11-01",
        "RFC 3339: the date as written"
    );
    assert_eq!(row("301", "m.sync_key"), "ct:301:Individual");
    assert_eq!(row("301", "c.display_name"), "Łukasz Wójcik");
    assert_eq!(row("301", "m.crm_status"), "Current");
    assert_eq!(row("302", "m.crm_status"), "Grace");
    assert_eq!(row("303", "m.crm_status"), "Cancelled");
    assert_eq!(row("304", "m.crm_status"), "Expired");
    assert_eq!(row("302", "c.street_address"), "Flat 3\n8 Byres Road");
    assert_eq!(
        row("302", "c.no_bulk_email || c.do_not_phone || c.do_not_email"),
        "110"
    );
    assert_eq!(
        row(
            "303",
            "c.do_not_email || c.do_not_phone || c.do_not_mail || c.do_not_sms"
        ),
        "1111"
    );
}

#[test]
fn a_mapping_file_reads_any_layout() {
    let s = Scratch::new();
    let mapping =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/mappings/example.toml");
    let out = s.import("example_crm.csv", &["--profile", mapping.to_str().unwrap()]);
    assert!(
        out.contains("profile      example-crm, source example-crm"),
        "{out}"
    );
    assert!(out.contains("delimiter ;"), "{out}");
    assert!(out.contains("date order   day first (dd/mm/yyyy)"), "{out}");
    let row = |crm: &str, col: &str| {
        s.text(&format!(
            "SELECT {col} FROM contacts c JOIN memberships m ON m.contact_id = c.id WHERE c.crm_id = '{crm}'"
        ))
        .unwrap_or_default()
    };
    assert_eq!(
        row("A-1", "c.email"),
        "angharad@example.org",
        "the first non-empty column wins"
    );
    assert_eq!(row("A-1", "c.do_not_phone || c.do_not_email"), "10");
    assert_eq!(
        row("A-1", "m.end_date || ' ' || m.sync_key"),
        "2027-03-13 id:M-1"
    );
    assert_eq!(row("A-2", "c.phone"), "01632 960502");
}

#[test]
fn utf16_tab_delimited_is_the_same_data() {
    // Excel's "Unicode text": UTF-16LE with a BOM, tab-delimited.
    let s = Scratch::new();
    let mut reader = csv::Reader::from_path(fixture("civicrm_small.csv")).unwrap();
    let mut tsv = csv::WriterBuilder::new()
        .delimiter(b'\t')
        .from_writer(Vec::new());
    let headers = reader.headers().unwrap().clone();
    let headers: Vec<String> = headers
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_owned())
        .collect();
    tsv.write_record(&headers).unwrap();
    for record in reader.records() {
        tsv.write_record(&record.unwrap()).unwrap();
    }
    let text = String::from_utf8(tsv.into_inner().unwrap()).unwrap();
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    let file = s.path("unicode.txt");
    std::fs::write(&file, bytes).unwrap();
    let out = stdout_of(&s.cmd().arg("import").arg(&file).assert().success());
    assert!(
        out.contains("encoding     UTF-16LE, delimiter tab"),
        "{out}"
    );
    assert!(out.contains("contacts     9 inserted"), "{out}");
    let out = s.import("civicrm_small.csv", &[]);
    assert!(out.contains("Nothing changed"), "{out}");
}

#[test]
fn date_order_is_decided_per_file_and_can_be_forced() {
    let s = Scratch::new();
    let file = s.path("ambiguous.csv");
    std::fs::write(
        &file,
        "Contact ID,Membership ID,Membership Type,Membership Expiration Date\n1,11,Individual,05/06/2026\n2,12,Individual,07/08/2026\n",
    )
    .unwrap();
    let out = stdout_of(
        &s.cmd()
            .args(["import", "--dry-run"])
            .arg(&file)
            .assert()
            .success(),
    );
    assert!(
        out.contains("date order   day first (dd/mm/yyyy)"),
        "ambiguous UK file: {out}"
    );
    let out = stdout_of(
        &s.cmd()
            .arg("import")
            .args(["--date-order", "mdy"])
            .arg(&file)
            .assert()
            .success(),
    );
    assert!(
        out.contains("date order   month first (mm/dd/yyyy)"),
        "{out}"
    );
    assert_eq!(
        s.text("SELECT end_date FROM memberships WHERE crm_membership_id = '11'"),
        Some("2026-05-06".into())
    );
    // Forced day-first, a month-first date is not a date.
    let us = s.path("us.csv");
    std::fs::write(
        &us,
        "Contact ID,Membership ID,Membership Type,Membership Expiration Date\n3,13,Individual,06/15/2026\n",
    )
    .unwrap();
    let out = stdout_of(
        &s.cmd()
            .arg("import")
            .args(["--date-order", "dmy"])
            .arg(&us)
            .assert()
            .success(),
    );
    assert!(
        out.contains(
            "line 2: Membership Expiration Date: not a date (expected YYYY-MM-DD or dd/mm/yyyy)"
        ),
        "{out}"
    );
    s.cmd()
        .arg("import")
        .args(["--date-order", "ymd"])
        .arg(&us)
        .assert()
        .failure();
}

#[test]
fn erased_people_are_not_imported_again() {
    let s = Scratch::new();
    // An empty database to record the erasure in.
    drop(rollcall::storage::Store::open(&s.db, rollcall::storage::OpenMode::ReadWrite).unwrap());
    let key = hex_sha256("civicrm\u{1f}102".as_bytes());
    assert_eq!(key, rollcall::import::erased_key_hash("civicrm", "102"));
    s.conn()
        .execute(
            "INSERT INTO erased_contacts (key_hash, erased_at, staff) VALUES (?1, '2026-11-01T10:00:00', 'carol')",
            [&key],
        )
        .unwrap();
    let report = s.import_json(TODAY, "civicrm_small.csv", &[]);
    assert_eq!(report["skipped_erased"], 1, "{report}");
    assert_eq!(
        s.count("SELECT COUNT(*) FROM contacts WHERE crm_id = '102'"),
        0
    );
    assert_eq!(
        s.count("SELECT COUNT(*) FROM memberships WHERE crm_membership_id = '5002'"),
        0
    );
    let report = s.import_json(TODAY, "civicrm_small.csv", &["--allow-erased"]);
    assert_eq!(report["skipped_erased"], 0, "{report}");
    assert_eq!(
        s.count("SELECT COUNT(*) FROM contacts WHERE crm_id = '102'"),
        1
    );
}

#[test]
fn an_unknown_layout_lists_what_it_found_and_what_it_needs() {
    let s = Scratch::new();
    let file = s.path("mystery.csv");
    std::fs::write(&file, "Supporter No,Forename,Plan\nA1,Cerys,Gold\n").unwrap();
    let assert = s.cmd().arg("import").arg(&file).assert().failure();
    let err = stderr_of(&assert);
    assert!(err.contains("unknown layout"), "{err}");
    assert!(
        err.contains("Headers found (3), none of them a column name rollcall knows"),
        "{err}"
    );
    assert!(err.contains("could not find Contact ID"), "{err}");
    assert!(!err.contains("Cerys"), "no data in errors: {err}");
    assert!(!s.db.exists(), "a refused import leaves no database behind");

    let bad_profile = s
        .cmd()
        .args(["import", "--profile", "salesforce"])
        .arg(&file)
        .assert()
        .failure();
    assert!(stderr_of(&bad_profile).contains("use auto, civicrm, nationbuilder, actionnetwork"));
    let missing = s
        .cmd()
        .arg("import")
        .arg(s.path("nope.csv"))
        .assert()
        .failure();
    assert!(stderr_of(&missing).contains("nope.csv: cannot read the file"));
    let empty = s.path("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let empty = s.cmd().arg("import").arg(&empty).assert().failure();
    assert!(stderr_of(&empty).contains("the file is empty"));
}

#[test]
fn imports_lists_past_runs_with_counts_and_rejected_rows() {
    let s = Scratch::new();
    let none = stdout_of(&s.cmd().arg("imports").assert().failure());
    assert!(none.is_empty());
    s.import("civicrm_small.csv", &[]);
    s.import("civicrm_broken.csv", &["--source", "branch-db"]);
    let out = stdout_of(&s.cmd().arg("imports").assert().success());
    assert!(
        out.find("#2 ").unwrap() < out.find("#1 ").unwrap(),
        "newest first: {out}"
    );
    assert!(out.contains("by alice (as of 2026-11-23)"), "{out}");
    assert!(out.contains("civicrm profile, source branch-db"), "{out}");
    assert!(out.contains("line 3: Contact ID: empty"), "{out}");
    assert!(
        out.contains("...and 1 more (rollcall imports --id 2)"),
        "{out}"
    );
    let one = stdout_of(&s.cmd().args(["imports", "--id", "2"]).assert().success());
    assert!(one.contains("line 11: 10 fields"), "{one}");
    assert!(!one.contains("#1 "), "{one}");

    let json: Value = serde_json::from_str(&stdout_of(
        &s.cmd().args(["imports", "--json"]).assert().success(),
    ))
    .unwrap();
    let runs = json.as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["id"], 2);
    assert_eq!(runs[0]["rejected"], 6);
    assert_eq!(runs[0]["rejects"].as_array().unwrap().len(), 6);
    assert_eq!(runs[0]["rejects"][0]["line"], 3);
    assert_eq!(runs[1]["contacts"]["inserted"], 9);
    assert_eq!(runs[1]["memberships"]["inserted"], 10);
    assert_eq!(runs[1]["staff"], "alice");
    let limited: Value = serde_json::from_str(&stdout_of(
        &s.cmd()
            .args(["imports", "--json", "--limit", "1"])
            .assert()
            .success(),
    ))
    .unwrap();
    assert_eq!(limited.as_array().unwrap().len(), 1);
    s.cmd().args(["imports", "--id", "9"]).assert().failure();
}

#[test]
fn several_files_give_a_json_array() {
    let s = Scratch::new();
    let out = stdout_of(
        &s.cmd()
            .args(["import", "--json"])
            .arg(fixture("civicrm_small.csv"))
            .arg(fixture("nationbuilder.csv"))
            .assert()
            .success(),
    );
    let json: Value = serde_json::from_str(&out).unwrap();
    let reports = json.as_array().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["profile"], "civicrm");
    assert_eq!(reports[1]["profile"], "nationbuilder");
}

#[cfg(unix)]
#[test]
fn the_database_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::with_db("new/dir/members.db");
    let db = s.db.clone();
    s.import("civicrm_small.csv", &[]);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(db.parent().unwrap()), 0o700);
    for suffix in ["-wal", "-shm", "-journal"] {
        let companion = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
        if companion.exists() {
            assert_eq!(mode(&companion), 0o600, "{}", companion.display());
        }
    }
    let journal: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(journal, "wal", "WAL mode is restored after a first import");
}

#[test]
fn read_only_refuses_to_import() {
    let s = Scratch::new();
    s.import("civicrm_small.csv", &[]);
    let assert = s
        .cmd()
        .args(["--read-only", "import"])
        .arg(fixture("civicrm_later.csv"))
        .assert()
        .failure();
    assert!(
        stderr_of(&assert).contains("read-only"),
        "{}",
        stderr_of(&assert)
    );
    assert_eq!(s.count("SELECT COUNT(*) FROM import_runs"), 1);
}

#[test]
fn a_membership_moved_to_a_new_contact_follows_it() {
    let s = Scratch::new();
    let header = "Contact ID,First Name,Last Name,Membership ID,Membership Type,Membership Expiration Date\n";
    let before = s.path("before.csv");
    std::fs::write(
        &before,
        format!(
            "{header}1,Nia,Rees,77,Individual,2026-12-31\n3,Huw,Bowen,78,Individual,2026-12-31\n"
        ),
    )
    .unwrap();
    let after = s.path("after.csv");
    // The CRM merged records: membership 77 now belongs to contact 2, new in this file.
    std::fs::write(&after, format!("{header}2,Nia,Rees-Bowen,77,Individual,2026-12-31\n3,Huw,Bowen,78,Individual,2026-12-31\n")).unwrap();
    s.cmd().arg("import").arg(&before).assert().success();
    let out = stdout_of(&s.cmd().arg("import").arg(&after).assert().success());
    assert!(
        out.contains("contacts     1 inserted, 0 updated, 1 unchanged"),
        "{out}"
    );
    assert!(
        out.contains("memberships  0 inserted, 1 updated, 1 unchanged"),
        "{out}"
    );
    assert_eq!(
        s.text("SELECT c.crm_id FROM memberships m JOIN contacts c ON c.id = m.contact_id WHERE m.crm_membership_id = '77'"),
        Some("2".into())
    );
    assert_eq!(s.count("SELECT COUNT(*) FROM pragma_foreign_key_check"), 0);
}

#[test]
fn imports_leave_every_foreign_key_intact() {
    let s = Scratch::new();
    s.import("civicrm_small.csv", &[]);
    s.import_on("2026-12-23", "civicrm_later.csv", &[]);
    s.import_on("2026-12-24", "civicrm_small.csv", &["--older-export"]);
    s.import("nationbuilder.csv", &[]);
    assert_eq!(s.count("SELECT COUNT(*) FROM pragma_foreign_key_check"), 0);
    assert_eq!(s.text("PRAGMA integrity_check"), Some("ok".into()));
    assert_eq!(
        s.count("PRAGMA foreign_keys"),
        1,
        "a new connection has them on"
    );
}

#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::io::Read;
    let s = Scratch::new();
    // Thousands of rejected rows: more output than a pipe holds, so the writer meets the closed
    // pipe rather than finishing first.
    let file = s.path("all-bad.csv");
    let mut text = String::from("Contact ID,First Name\n");
    for _ in 0..5000 {
        text.push_str(",Nobody\n");
    }
    std::fs::write(&file, text).unwrap();
    s.cmd().arg("import").arg(&file).assert().success();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("rollcall"))
        .arg("--db")
        .arg(&s.db)
        .args(["imports", "--id", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 1];
    // Read one byte, then close the pipe.
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{stderr}");
}
