//! `rollcall forget`: a person is erased completely — from every table and from the file's
//! bytes — and only an audit line without personal data remains.

mod trust_support;

use rollcall::storage::sql::Connection;
use trust_support::*;

fn open(db: &std::path::Path) -> Connection {
    Connection::open(db).unwrap()
}

fn count(conn: &Connection, sql: &str, id: i64) -> i64 {
    conn.query_row(sql, [id], |r| r.get(0)).unwrap()
}

/// Rows in every table with a `contact_id` column that point at `id`.
fn rows_pointing_at(conn: &Connection, id: i64) -> Vec<(String, i64)> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut found = Vec::new();
    for table in tables {
        let has_contact_id: bool = conn
            .query_row(
                "SELECT count(*) FROM pragma_table_info(?1) WHERE name = 'contact_id'",
                [&table],
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
            > 0;
        if has_contact_id {
            let n = count(
                conn,
                &format!("SELECT count(*) FROM \"{table}\" WHERE contact_id = ?1"),
                id,
            );
            if n > 0 {
                found.push((table, n));
            }
        }
    }
    found
}

#[test]
fn forget_erases_the_person_from_every_table_and_from_the_file() {
    let s = seeded();
    // The scans below can fail: before the erasure they find the person everywhere.
    let before = dump(&s.db);
    let everything = format!("{before:?}");
    assert!(everything.contains(TARGET.email) && everything.contains(TARGET.display));
    assert!(contains_bytes(&file_bytes(&s.db), TARGET.email));
    let bystander_rows = rows_pointing_at(&open(&s.db), s.bystander_id);

    let out = rollcall(&s.db)
        .args(["forget", TARGET.crm_id, "--yes"])
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("contacts 1"), "{stdout}");
    assert!(stdout.contains("memberships 1"), "{stdout}");
    assert!(stdout.contains("The CRM must erase them too"), "{stdout}");
    assert_no_personal_data(&stdout, &TARGET);
    assert_no_personal_data(&String::from_utf8(out.stderr).unwrap(), &TARGET);

    // Every table, every column: nothing of theirs is left.
    let after = dump(&s.db);
    for (table, rows) in &after {
        for row in rows {
            for value in row {
                for s in personal_strings(&TARGET) {
                    assert!(
                        !value.to_lowercase().contains(&s.to_lowercase()),
                        "{table} still holds `{s}` in {row:?}"
                    );
                }
                assert_ne!(
                    value, TARGET.crm_id,
                    "{table} still holds the CRM id: {row:?}"
                );
            }
        }
    }
    let conn = open(&s.db);
    assert_eq!(rows_pointing_at(&conn, s.target_id), vec![]);
    for (table, id_col) in [
        ("memberships", "contact_id"),
        ("membership_events", "membership_id"),
        ("snoozes", "membership_id"),
        ("escalation_events", "escalation_id"),
    ] {
        let orphans: i64 = conn
            .query_row(
                &format!(
                    "SELECT count(*) FROM {table} WHERE {id_col} NOT IN
                     (SELECT id FROM {parent})",
                    parent = match table {
                        "memberships" => "contacts",
                        "escalation_events" => "escalations",
                        _ => "memberships",
                    }
                ),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(orphans, 0, "orphaned rows in {table}");
    }
    // Their exported-activity keys went; the bystander's three stayed.
    let keys: i64 = conn
        .query_row("SELECT count(*) FROM exported_activities", [], |r| r.get(0))
        .unwrap();
    assert_eq!(keys, 3);
    // The other member is untouched.
    assert_eq!(rows_pointing_at(&conn, s.bystander_id), bystander_rows);
    for table in [
        "contacts",
        "memberships",
        "notes",
        "escalations",
        "escalation_events",
    ] {
        assert_eq!(before[table].len() - after[table].len(), 1, "{table}");
    }
    // Staff state that named them is gone; other staff's state is kept.
    let ui: Vec<String> = conn
        .prepare("SELECT staff FROM ui_state")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(ui, vec!["bryn".to_owned()]);

    // Remembered only as a hash, so a later import can skip them.
    let hash: String = conn
        .query_row("SELECT key_hash FROM erased_contacts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        hash,
        rollcall::storage::erase::erased_key_hash("civicrm", TARGET.crm_id)
    );
    // One audit line says who erased someone, when — and nothing about whom.
    let (staff, at, contact, after_json): (String, String, Option<i64>, String) = conn
        .query_row(
            "SELECT staff, at, contact_id, after FROM audit_log WHERE action = 'forget'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!((staff.as_str(), contact), (STAFF, None));
    assert!(at.starts_with(TODAY), "{at}");
    assert!(after_json.contains("\"contacts\":1"), "{after_json}");
    assert!(!after_json.contains(TARGET.crm_id), "{after_json}");
    drop(conn);

    // The bytes on disk: no current or old email, no name, no address.
    let bytes = file_bytes(&s.db);
    for s in [
        TARGET.email,
        TARGET.old_email,
        TARGET.display,
        TARGET.street,
        TARGET.phone,
    ] {
        assert!(!contains_bytes(&bytes, s), "the file still holds `{s}`");
    }
    assert!(contains_bytes(&bytes, BYSTANDER.email));
    let ok: String = open(&s.db)
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

#[test]
fn without_a_terminal_forget_needs_yes_and_erases_nothing() {
    let s = seeded();
    let before = dump(&s.db);
    let out = rollcall(&s.db)
        .args(["forget", TARGET.crm_id])
        .write_stdin("yes\n")
        .assert()
        .failure()
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("--yes"), "{stderr}");
    assert!(stderr.contains("not running on a terminal"), "{stderr}");
    assert_no_personal_data(&stderr, &TARGET);
    assert_eq!(dump(&s.db), before);
}

#[test]
fn a_wrong_id_names_nobody_and_changes_nothing() {
    let s = seeded();
    let before = dump(&s.db);
    for (args, expected) in [
        (
            vec!["forget", "999999", "--yes"],
            "no contact has that CRM id",
        ),
        (
            vec![
                "forget",
                TARGET.crm_id,
                "--source",
                "nationbuilder",
                "--yes",
            ],
            "in source `nationbuilder`",
        ),
        (vec!["forget", " ", "--yes"], "CONTACT_ID is empty"),
    ] {
        let out = rollcall(&s.db)
            .args(&args)
            .assert()
            .failure()
            .get_output()
            .clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert_no_personal_data(&stderr, &TARGET);
        assert_no_personal_data(&String::from_utf8(out.stdout).unwrap(), &TARGET);
    }
    let out = rollcall(&s.db)
        .arg("forget")
        .assert()
        .failure()
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("CONTACT_ID"));
    assert_eq!(dump(&s.db), before);
}

#[test]
fn forgetting_twice_says_when_and_by_whom_it_was_done() {
    let s = seeded();
    rollcall(&s.db)
        .args(["forget", TARGET.crm_id, "--yes"])
        .assert()
        .success();
    let out = rollcall(&s.db)
        .args(["forget", TARGET.crm_id, "--yes"])
        .assert()
        .failure()
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(&format!("already erased on {TODAY}T")),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("by {STAFF}")), "{stderr}");
}

#[test]
fn the_same_crm_id_in_two_sources_needs_source() {
    let s = seeded();
    open(&s.db)
        .execute(
            "INSERT INTO contacts (source, crm_id, display_name) VALUES ('nationbuilder', ?1, 'X')",
            [TARGET.crm_id],
        )
        .unwrap();
    let out = rollcall(&s.db)
        .args(["forget", TARGET.crm_id, "--yes"])
        .assert()
        .failure()
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("civicrm, nationbuilder"), "{stderr}");
    assert!(stderr.contains("--source"), "{stderr}");
    rollcall(&s.db)
        .args(["forget", TARGET.crm_id, "--source", "civicrm", "--yes"])
        .assert()
        .success();
    let left: i64 = open(&s.db)
        .query_row(
            "SELECT count(*) FROM contacts WHERE crm_id = ?1",
            [TARGET.crm_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 1, "only the civicrm contact is erased");
}

#[test]
fn read_only_refuses_to_forget() {
    let s = seeded();
    let before = dump(&s.db);
    let out = rollcall(&s.db)
        .args(["--read-only", "forget", TARGET.crm_id, "--yes"])
        .assert()
        .failure()
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("read-only"), "{stderr}");
    assert!(stderr.contains("erasing a person"), "{stderr}");
    assert_eq!(dump(&s.db), before);
}

#[test]
fn mentions_in_other_peoples_records_are_reported_and_redacted_from_the_audit() {
    let s = seeded();
    let clock = clock();
    let conn = open(&s.db);
    let body = format!("Neighbour of {} ({})", TARGET.display, TARGET.email);
    conn.execute(
        "INSERT INTO notes (contact_id, context, body, staff, created_at)
         VALUES (?1, 'member', ?2, 'amira', '2026-03-02T09:00:00')",
        rollcall::storage::sql::params![s.bystander_id, body],
    )
    .unwrap();
    let note = conn.last_insert_rowid();
    rollcall::storage::audit::record(
        &conn,
        &clock,
        rollcall::storage::audit::Change {
            action: "insert",
            entity: "note",
            entity_id: Some(note),
            contact_id: Some(s.bystander_id),
            before: None,
            after: Some(serde_json::json!({ "body": body })),
        },
    )
    .unwrap();
    drop(conn);

    let out = rollcall(&s.db)
        .args(["forget", TARGET.crm_id, "--yes"])
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains(&format!("notes {note}")), "{stdout}");
    assert!(stdout.contains("1 audit line(s)"), "{stdout}");
    assert_no_personal_data(&stdout, &TARGET);

    let conn = open(&s.db);
    // The other member's note is theirs and stays for staff to review…
    let kept: String = conn
        .query_row("SELECT body FROM notes WHERE id = ?1", [note], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, body);
    // …but the audit line about it keeps who/when/what without the erased person's details.
    let after: String = conn
        .query_row(
            "SELECT after FROM audit_log WHERE entity = 'note' AND entity_id = ?1",
            [note],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&after).unwrap()["body"],
        "Neighbour of [erased] ([erased])"
    );
}

#[test]
fn with_another_reader_open_the_erase_commits_and_the_bytes_go_when_it_closes() {
    let s = seeded();
    // Another rollcall (the app) in the middle of a read, holding an old snapshot.
    let reader = open(&s.db);
    reader.execute_batch("BEGIN").unwrap();
    let n: i64 = reader
        .query_row("SELECT count(*) FROM contacts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);

    let out = rollcall(&s.db)
        .args(["forget", TARGET.crm_id, "--yes"])
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("Another rollcall has the database open"),
        "{stdout}"
    );
    // The reader still sees its snapshot; its next read sees the erasure.
    reader.execute_batch("COMMIT").unwrap();
    let n: i64 = reader
        .query_row("SELECT count(*) FROM contacts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
    drop(reader); // the last connection to close checkpoints the WAL into the file
    let bytes = file_bytes(&s.db);
    for s in [TARGET.email, TARGET.old_email, TARGET.display] {
        assert!(!contains_bytes(&bytes, s), "the file still holds `{s}`");
    }
}
