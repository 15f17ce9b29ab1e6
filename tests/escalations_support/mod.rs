//! Fixtures shared by the escalations tests: contacts and memberships inserted as an import
//! would leave them, fixed clocks, and a quick way to open an escalation.
#![allow(dead_code)]

use chrono::NaiveDate;
use rollcall::Clock;
use rollcall::config::EscalationsConfig;
use rollcall::domain::escalation::{Category, Priority};
use rollcall::storage::Store;
use rollcall::storage::escalations::{self, NewEscalation};
use rollcall::storage::sql::{Connection, params};

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// `user` acting on `day`, at 09:00.
pub fn clock(day: &str, user: &str) -> Clock {
    Clock::fixed(d(day), user)
}

pub fn add_contact(conn: &Connection, source: &str, crm_id: &str, name: &str) -> i64 {
    conn.execute(
        "INSERT INTO contacts (source, crm_id, display_name, sort_name, email)
         VALUES (?1, ?2, ?3, ?3, 'someone@example.org')",
        params![source, crm_id, name],
    )
    .unwrap();
    conn.last_insert_rowid()
}

pub fn add_membership(conn: &Connection, contact_id: i64, kind: &str, end: &str) -> i64 {
    conn.execute(
        "INSERT INTO memberships (contact_id, source, sync_key, membership_type, end_date, crm_status)
         SELECT id, source, 'id:' || ?2 || ':' || crm_id, ?2, ?3, 'Current' FROM contacts WHERE id = ?1",
        params![contact_id, kind, end],
    )
    .unwrap();
    conn.last_insert_rowid()
}

pub fn new(
    contact_id: Option<i64>,
    category: Category,
    priority: Priority,
    title: &str,
    assignee: Option<&str>,
) -> NewEscalation {
    NewEscalation {
        contact_id,
        membership_id: None,
        category,
        priority,
        title: title.into(),
        description: String::new(),
        assignee: assignee.map(str::to_owned),
    }
}

/// Opens an escalation as `user` on `day` with the default targets.
pub fn open(store: &mut Store, day: &str, user: &str, new: &NewEscalation) -> i64 {
    escalations::open(store, &clock(day, user), &EscalationsConfig::default(), new).unwrap()
}

pub fn count(conn: &Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}
