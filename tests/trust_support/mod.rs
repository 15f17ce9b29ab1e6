//! Shared helpers for the trust tests: a database with a known member in every table, the CLI
//! with a clean environment, and whole-database dumps for before/after comparisons.
#![allow(dead_code)] // each test binary uses a different subset

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rollcall::Clock;
use rollcall::storage::audit::{self, Change};
use rollcall::storage::sql::{Connection, params};
use rollcall::storage::{OpenMode, Store};
use serde_json::json;

pub const TODAY: &str = "2026-03-02";
pub const STAFF: &str = "amira";

/// The member these tests erase or must never leak. Every string is distinctive, so finding it
/// anywhere is a real finding.
pub struct Person {
    pub crm_id: &'static str,
    pub first: &'static str,
    pub last: &'static str,
    pub display: &'static str,
    pub email: &'static str,
    pub old_email: &'static str,
    pub phone: &'static str,
    pub street: &'static str,
    pub postcode: &'static str,
}

pub const TARGET: Person = Person {
    crm_id: "4417",
    first: "Siân",
    last: "Prydderch-O'Neill",
    display: "Siân Prydderch-O'Neill",
    email: "sian.prydderch@example.cymru",
    old_email: "s.prydderch.old@example.org",
    phone: "07700 900417",
    street: "12 Heol Glyndŵr, Llanbedr",
    postcode: "LL45 2PL",
};

pub const BYSTANDER: Person = Person {
    crm_id: "5120",
    first: "Wojciech",
    last: "Kowalczyk",
    display: "Wojciech Kowalczyk",
    email: "w.kowalczyk@example.co.uk",
    old_email: "wk.old@example.co.uk",
    phone: "07700 900512",
    street: "3 Mill Lane",
    postcode: "B12 9QQ",
};

/// The strings that identify a person: none may survive their erasure, or appear in an error.
pub fn personal_strings(p: &Person) -> Vec<&'static str> {
    vec![
        p.first,
        p.last,
        p.display,
        p.email,
        p.old_email,
        p.phone,
        p.street,
        p.postcode,
    ]
}

pub fn clock() -> Clock {
    Clock::fixed(NaiveDate::parse_from_str(TODAY, "%Y-%m-%d").unwrap(), STAFF)
}

/// The rollcall binary with no ROLLCALL_* settings leaking in from the environment.
pub fn rollcall(db: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_rollcall"));
    for var in [
        "ROLLCALL_DB",
        "ROLLCALL_TODAY",
        "ROLLCALL_USER",
        "ROLLCALL_READ_ONLY",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1")
        .arg("--db")
        .arg(db)
        .args(["--today", TODAY, "--user", STAFF]);
    cmd
}

pub struct Seeded {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub target_id: i64,
    pub bystander_id: i64,
}

/// A database holding both people with a row in every table rollcall has, written the way the
/// app writes them (with audit lines through `audit::record`).
pub fn seeded() -> Seeded {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcall.db");
    let store = Store::open(&db, OpenMode::ReadWrite).unwrap();
    let (target_id, bystander_id) = seed_people(&store.conn);
    drop(store);
    Seeded {
        dir,
        db,
        target_id,
        bystander_id,
    }
}

/// Both people, a row of theirs in every table, saved app state naming the target, and a note
/// written and deleted (an old row version). Returns (target, bystander) ids. On either engine.
pub fn seed_people(conn: &Connection) -> (i64, i64) {
    let clock = clock();
    conn.execute(
        "INSERT INTO import_runs (started_at, finished_at, staff, as_of, file_name, file_size,
             file_sha256, profile, source, encoding, date_order)
         VALUES ('2026-03-01T08:00:00', '2026-03-01T08:00:05', 'amira', '2026-03-01',
             'export.csv', 100, 'abc', 'civicrm', 'civicrm', 'utf-8', 'iso')",
        [],
    )
    .unwrap();
    let target_id = insert_person(conn, &clock, &TARGET);
    let bystander_id = insert_person(conn, &clock, &BYSTANDER);
    conn.execute(
        "INSERT INTO ui_state (staff, key, value) VALUES
           ('amira', 'search', ?1), ('bryn', 'renewals', '{\"filter\":\"lapsed\",\"selected\":0}')",
        [json!({"query": TARGET.last, "selected": target_id}).to_string()],
    )
    .unwrap();
    insert_deleted_note(conn, target_id, &TARGET);
    (target_id, bystander_id)
}

/// One person with a membership, history, and a rollcall-owned record of every kind.
fn insert_person(conn: &Connection, clock: &Clock, p: &Person) -> i64 {
    conn.execute(
        "INSERT INTO contacts (source, crm_id, display_name, sort_name, first_name, last_name,
             email, phone, street_address, city, postcode, preferred_language)
         VALUES ('civicrm', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'Harlech', ?9, 'cy_GB')",
        params![
            p.crm_id,
            p.display,
            format!("{}, {}", p.last, p.first),
            p.first,
            p.last,
            p.old_email,
            p.phone,
            p.street,
            p.postcode
        ],
    )
    .unwrap();
    let contact = conn.last_insert_rowid();
    // A later export changed the email: the old one lived in the row before.
    conn.execute(
        "UPDATE contacts SET email = ?2 WHERE id = ?1",
        params![contact, p.email],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO memberships (contact_id, source, sync_key, crm_membership_id,
             membership_type, join_date, start_date, end_date, crm_status)
         VALUES (?1, 'civicrm', 'id:' || ?2, ?2, 'Individual', '2025-01-10', '2025-01-10',
             '2026-01-09', 'Grace')",
        params![contact, format!("9{}", p.crm_id)],
    )
    .unwrap();
    let membership = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO membership_events (membership_id, import_id, kind, new_value, occurred_on)
         VALUES (?1, 1, 'joined', NULL, '2026-03-01')",
        [membership],
    )
    .unwrap();
    let note = format!("Rang {} at home, spoke about dues", p.first);
    conn.execute(
        "INSERT INTO contact_attempts (contact_id, membership_id, channel, outcome, note,
             attempted_at, staff)
         VALUES (?1, ?2, 'phone', 'will_renew', ?3, '2026-03-02T09:00:00', 'amira')",
        params![contact, membership, note],
    )
    .unwrap();
    let attempt = conn.last_insert_rowid();
    audit_insert(
        conn,
        clock,
        "contact_attempt",
        attempt,
        contact,
        json!({"channel": "phone", "note": note}),
    );
    conn.execute(
        "UPDATE membership_events SET credited_attempt_id = ?2 WHERE membership_id = ?1",
        params![membership, attempt],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO snoozes (membership_id, until, staff, created_at)
         VALUES (?1, '2026-03-09', 'amira', '2026-03-02T09:00:00')",
        [membership],
    )
    .unwrap();
    let body = format!("{} asked us to use {} from now on", p.display, p.email);
    conn.execute(
        "INSERT INTO notes (contact_id, membership_id, context, body, staff, created_at)
         VALUES (?1, ?2, 'member', ?3, 'amira', '2026-03-02T09:00:00')",
        params![contact, membership, body],
    )
    .unwrap();
    audit_insert(
        conn,
        clock,
        "note",
        conn.last_insert_rowid(),
        contact,
        json!({ "body": body }),
    );
    conn.execute(
        "INSERT INTO assignments (contact_id, queue, assignee, staff, assigned_at)
         VALUES (?1, 'renewals', 'bryn', 'amira', '2026-03-02T09:00:00')",
        [contact],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO onboarding (contact_id, anchor_date, added_by, added_at)
         VALUES (?1, '2025-01-10', 'import', '2026-03-01T08:00:00')",
        [contact],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO onboarding_steps (contact_id, step_key, done_at, done_by)
         VALUES (?1, 'welcome_email', '2026-03-02T09:00:00', 'amira')",
        [contact],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO escalations (contact_id, membership_id, category, priority, title,
             description, opened_at, opened_by, due_date)
         VALUES (?1, ?2, 'data_protection', 'high', ?3, ?4, '2026-03-02T09:00:00', 'amira',
             '2026-03-05')",
        params![
            contact,
            membership,
            format!("Subject access request from {}", p.display),
            format!("Wants a copy of everything; write to {}", p.street)
        ],
    )
    .unwrap();
    let escalation = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO escalation_events (escalation_id, kind, body, staff, at)
         VALUES (?1, 'comment', ?2, 'amira', '2026-03-02T09:00:00')",
        params![
            escalation,
            format!("Called {} back on {}", p.first, p.phone)
        ],
    )
    .unwrap();
    let event = conn.last_insert_rowid();
    audit_insert(
        conn,
        clock,
        "escalation",
        escalation,
        contact,
        json!({"title": format!("Subject access request from {}", p.display)}),
    );
    // An audit line about a change to the contact that forgot to set contact_id: found by its
    // entity and id instead.
    audit::record(
        conn,
        clock,
        Change {
            action: "update",
            entity: "contact",
            entity_id: Some(contact),
            contact_id: None,
            before: Some(json!({"email": p.old_email})),
            after: Some(json!({"email": p.email})),
        },
    )
    .unwrap();
    for key in [
        format!("attempt:{attempt}"),
        format!("step:{contact}:welcome_email"),
        format!("escalation_event:{event}"),
    ] {
        conn.execute(
            "INSERT INTO exported_activities (activity_key, exported_at)
             VALUES (?1, '2026-03-02T10:00:00')",
            [key],
        )
        .unwrap();
    }
    contact
}

/// A long note written and deleted just before the erasure: its bytes linger in free pages of
/// the file unless the erasure wipes free space too.
fn insert_deleted_note(conn: &Connection, contact: i64, p: &Person) {
    let long = format!("Old address: {} {}", p.old_email, "details ".repeat(800));
    conn.execute(
        "INSERT INTO notes (contact_id, context, body, staff, created_at)
         VALUES (?1, 'member', ?2, 'amira', '2026-03-01T09:00:00')",
        params![contact, long],
    )
    .unwrap();
    conn.execute(
        "DELETE FROM notes WHERE id = ?1",
        [conn.last_insert_rowid()],
    )
    .unwrap();
}

fn audit_insert(
    conn: &Connection,
    clock: &Clock,
    entity: &str,
    id: i64,
    contact: i64,
    after: serde_json::Value,
) {
    audit::record(
        conn,
        clock,
        Change {
            action: "insert",
            entity,
            entity_id: Some(id),
            contact_id: Some(contact),
            before: None,
            after: Some(after),
        },
    )
    .unwrap();
}

/// Every user table and its rows, every value as text, in a stable order: two dumps are equal
/// exactly when the database holds the same data.
pub fn dump(db: &Path) -> BTreeMap<String, Vec<Vec<String>>> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = BTreeMap::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = stmt.column_count();
        let mut rows: Vec<Vec<String>> = stmt
            .query_map([], |r| {
                (0..columns)
                    .map(|i| {
                        Ok(match r.get_ref(i)? {
                            rusqlite::types::ValueRef::Null => "NULL".to_owned(),
                            rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                            rusqlite::types::ValueRef::Real(f) => f.to_string(),
                            rusqlite::types::ValueRef::Text(t) => {
                                String::from_utf8_lossy(t).into_owned()
                            }
                            rusqlite::types::ValueRef::Blob(b) => format!("{b:?}"),
                        })
                    })
                    .collect()
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.sort();
        out.insert(table, rows);
    }
    out
}

/// The database file and its WAL, as bytes on disk.
pub fn file_bytes(db: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(db).unwrap();
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    if let Ok(more) = std::fs::read(PathBuf::from(wal)) {
        bytes.extend(more);
    }
    bytes
}

pub fn contains_bytes(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Asserts that `text` (an error, a log, a report) names nobody.
pub fn assert_no_personal_data(text: &str, p: &Person) {
    let lower = text.to_lowercase();
    for s in personal_strings(p) {
        assert!(
            !lower.contains(&s.to_lowercase()),
            "output contains `{s}`:\n{text}"
        );
    }
}

/// A small CiviCRM membership export as the CRM writes it: BOM, CRLF, every value quoted, an
/// address with a line break, a contact with two memberships, Welsh and Polish names.
pub fn civicrm_sample() -> Vec<u8> {
    let header = "Contact ID,Contact Type,Do Not Email,Do Not Phone,Sort Name,Display Name,\
First Name,Last Name,Email,Phone,Street Address,City,Postal Code,Preferred Language,\
Membership Type,Member Since,Membership Start Date,Membership Expiration Date,Source,\
Membership Status,Membership ID,Membership Recurring Contribution,Local Party,Region";
    let row = |p: &Person, mtype: &str, mid: &str, end: &str| {
        [
            p.crm_id,
            "Individual",
            "0",
            "1",
            &format!("{}, {}", p.last, p.first),
            p.display,
            p.first,
            p.last,
            p.email,
            p.phone,
            &format!("{}\nFlat 2", p.street),
            "Harlech",
            p.postcode,
            "cy_GB",
            mtype,
            "2024-01-10",
            "2025-01-10",
            end,
            "Online",
            "Current",
            mid,
            "",
            "Dwyfor Meirionnydd",
            "Wales",
        ]
        .iter()
        .map(|v| {
            if v.is_empty() {
                String::new()
            } else {
                format!("\"{}\"", v.replace('"', "\"\""))
            }
        })
        .collect::<Vec<_>>()
        .join(",")
    };
    let mut text = String::from("\u{feff}");
    text.push_str(
        &header
            .split(',')
            .map(|h| format!("\"{h}\""))
            .collect::<Vec<_>>()
            .join(","),
    );
    for line in [
        row(&TARGET, "Individual", "9001", "2026-01-09"),
        row(&TARGET, "Youth", "9002", "2026-06-30"),
        row(&BYSTANDER, "Individual", "9003", "2026-12-31"),
    ] {
        text.push_str("\r\n");
        text.push_str(&line);
    }
    text.push_str("\r\n");
    text.into_bytes()
}
