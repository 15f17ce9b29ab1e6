//! Fixtures for the onboarding tests: members written straight into the store as an import
//! would write them.
#![allow(dead_code)] // each test file uses a different part

use chrono::NaiveDate;
use rollcall::Clock;
use rollcall::storage::Store;
use rollcall::storage::sql::{Connection, params};

pub const TODAY: &str = "2026-11-23";

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

pub fn today() -> NaiveDate {
    d(TODAY)
}

pub fn clock() -> Clock {
    Clock::fixed(today(), "ann")
}

pub fn clock_for(user: &str) -> Clock {
    Clock::fixed(today(), user)
}

/// A contact with one membership, built up and then inserted.
#[derive(Debug, Clone)]
pub struct Member {
    pub crm_id: String,
    pub name: String,
    pub join: Option<String>,
    pub start: Option<String>,
    pub status: String,
    pub party: String,
    pub language: String,
    pub deceased: bool,
    pub do_not_phone: bool,
    pub do_not_email: bool,
    pub email: String,
}

impl Member {
    pub fn new(crm_id: &str, name: &str) -> Member {
        Member {
            crm_id: crm_id.into(),
            name: name.into(),
            join: None,
            start: None,
            status: "Current".into(),
            party: String::new(),
            language: "en_GB".into(),
            deceased: false,
            do_not_phone: false,
            do_not_email: false,
            email: format!("{crm_id}@example.org"),
        }
    }

    pub fn joined(mut self, date: &str) -> Member {
        self.join = Some(date.into());
        self.start = Some(date.into());
        self
    }

    pub fn status(mut self, status: &str) -> Member {
        self.status = status.into();
        self
    }

    pub fn party(mut self, party: &str) -> Member {
        self.party = party.into();
        self
    }

    pub fn welsh(mut self) -> Member {
        self.language = "cy_GB".into();
        self
    }

    pub fn deceased(mut self) -> Member {
        self.deceased = true;
        self
    }

    pub fn no_phone(mut self) -> Member {
        self.do_not_phone = true;
        self
    }

    pub fn no_email(mut self) -> Member {
        self.do_not_email = true;
        self
    }

    /// No email address at all (every other member has `CRM_ID@example.org`).
    pub fn without_email_address(mut self) -> Member {
        self.email = String::new();
        self
    }

    /// Inserts the contact and its membership; returns rollcall's contact id.
    pub fn insert(&self, conn: &Connection) -> i64 {
        conn.execute(
            "INSERT INTO contacts (source, crm_id, display_name, sort_name, preferred_language,
                 local_party, is_deceased, do_not_phone, do_not_email, email)
             VALUES ('civicrm', ?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                self.crm_id,
                self.name,
                self.language,
                self.party,
                self.deceased,
                self.do_not_phone,
                self.do_not_email,
                self.email
            ],
        )
        .unwrap();
        let contact = conn.last_insert_rowid();
        add_membership(
            conn,
            contact,
            &self.crm_id,
            self.join.as_deref(),
            &self.status,
        );
        contact
    }
}

/// Adds a membership to a contact; returns its id.
pub fn add_membership(
    conn: &Connection,
    contact: i64,
    crm_membership: &str,
    join: Option<&str>,
    status: &str,
) -> i64 {
    conn.execute(
        "INSERT INTO memberships (contact_id, source, sync_key, crm_membership_id, membership_type,
             join_date, start_date, end_date, crm_status)
         VALUES (?1, 'civicrm', 'id:' || ?2, ?2, 'Individual', ?3, ?3,
             date(?3, '+1 year', '-1 day'), ?4)",
        params![contact, crm_membership, join, status],
    )
    .unwrap();
    conn.last_insert_rowid()
}

/// What a re-import does to a member who has paid: the CRM now says Current, with a new start
/// and end date, the contact row rewritten in place.
pub fn reimport_as_paid(conn: &Connection, contact: i64) {
    conn.execute(
        "UPDATE memberships SET crm_status = 'Current', start_date = '2026-11-20',
             end_date = '2027-11-19', last_import_id = NULL
         WHERE contact_id = ?1",
        [contact],
    )
    .unwrap();
    conn.execute(
        "UPDATE contacts SET crm_hash = crm_hash + 1 WHERE id = ?1",
        [contact],
    )
    .unwrap();
}

pub fn memory_store() -> Store {
    Store::open_in_memory().unwrap()
}
