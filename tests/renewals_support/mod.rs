//! Fixtures for the renewals tests: members inserted with SQL, as the import would leave them.
#![allow(dead_code)]

use chrono::NaiveDate;
use rollcall::Clock;
use rollcall::storage::Store;
use rollcall::storage::renewals::Target;
use rollcall::storage::sql::{Connection, params};

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

pub fn clock(today: &str) -> Clock {
    Clock::fixed(d(today), "ann")
}

/// A member to insert; every field has a dull default.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub first_name: String,
    pub end: Option<String>,
    pub status: String,
    pub membership_type: String,
    pub auto_renew: bool,
    pub deceased: bool,
    pub local_party: String,
    pub region: String,
    pub language: String,
    pub do_not_phone: bool,
    pub do_not_email: bool,
    pub do_not_mail: bool,
    pub do_not_sms: bool,
    pub no_bulk_email: bool,
    pub on_hold: bool,
    pub phone: String,
    pub email: String,
    pub street: String,
    pub city: String,
    pub postcode: String,
}

pub fn member(name: &str, end: &str) -> Member {
    Member {
        name: name.to_owned(),
        first_name: name.split(' ').next().unwrap_or("").to_owned(),
        end: Some(end.to_owned()),
        status: "Current".into(),
        membership_type: "Individual".into(),
        auto_renew: false,
        deceased: false,
        local_party: "Cardiff West".into(),
        region: "Wales".into(),
        language: "en_GB".into(),
        do_not_phone: false,
        do_not_email: false,
        do_not_mail: false,
        do_not_sms: false,
        no_bulk_email: false,
        on_hold: false,
        phone: "029 2000 0000".into(),
        email: format!("{}@example.org", name.to_lowercase().replace(' ', ".")),
        street: "1 High Street".into(),
        city: "Cardiff".into(),
        postcode: "CF5 1AA".into(),
    }
}

impl Member {
    pub fn status(mut self, s: &str) -> Member {
        self.status = s.into();
        self
    }
    pub fn lifetime(mut self) -> Member {
        self.end = None;
        self
    }
    pub fn auto_renew(mut self) -> Member {
        self.auto_renew = true;
        self
    }
    pub fn deceased(mut self) -> Member {
        self.deceased = true;
        self
    }
    pub fn place(mut self, local_party: &str, region: &str) -> Member {
        self.local_party = local_party.into();
        self.region = region.into();
        self
    }
    pub fn kind(mut self, t: &str) -> Member {
        self.membership_type = t.into();
        self
    }
    pub fn welsh(mut self) -> Member {
        self.language = "cy_GB".into();
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
    pub fn no_mail(mut self) -> Member {
        self.do_not_mail = true;
        self
    }
    pub fn no_sms(mut self) -> Member {
        self.do_not_sms = true;
        self
    }
    pub fn no_bulk(mut self) -> Member {
        self.no_bulk_email = true;
        self
    }
    pub fn bouncing(mut self) -> Member {
        self.on_hold = true;
        self
    }
    pub fn phone(mut self, p: &str) -> Member {
        self.phone = p.into();
        self
    }
    pub fn email(mut self, e: &str) -> Member {
        self.email = e.into();
        self
    }
    pub fn street(mut self, s: &str) -> Member {
        self.street = s.into();
        self
    }
}

/// Inserts a contact with one membership; returns its ids.
pub fn insert(conn: &Connection, m: &Member) -> Target {
    let n: i64 = conn
        .query_row("SELECT COUNT(*) + 1 FROM contacts", [], |r| r.get(0))
        .unwrap();
    let last = m.name.rsplit(' ').next().unwrap_or("");
    conn.execute(
        "INSERT INTO contacts (source, crm_id, display_name, sort_name, first_name, last_name,
             email, phone, street_address, city, postcode, country, preferred_language,
             do_not_email, do_not_phone, do_not_mail, do_not_sms, no_bulk_email, on_hold,
             is_deceased, local_party, region)
         VALUES ('civicrm', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'United Kingdom', ?11,
                 ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
        params![
            format!("{}", 1000 + n),
            m.name,
            format!("{last}, {}", m.first_name),
            m.first_name,
            last,
            m.email,
            m.phone,
            m.street,
            m.city,
            m.postcode,
            m.language,
            m.do_not_email,
            m.do_not_phone,
            m.do_not_mail,
            m.do_not_sms,
            m.no_bulk_email,
            m.on_hold,
            m.deceased,
            m.local_party,
            m.region,
        ],
    )
    .unwrap();
    let contact_id = conn.last_insert_rowid();
    add_membership(conn, contact_id, m)
}

/// A further membership for an existing contact.
pub fn add_membership(conn: &Connection, contact_id: i64, m: &Member) -> Target {
    let n: i64 = conn
        .query_row("SELECT COUNT(*) + 1 FROM memberships", [], |r| r.get(0))
        .unwrap();
    conn.execute(
        "INSERT INTO memberships (contact_id, source, sync_key, crm_membership_id,
             membership_type, join_date, start_date, end_date, crm_status, auto_renew)
         VALUES (?1, 'civicrm', ?2, ?3, ?4, '2020-01-01', '2025-01-01', ?5, ?6, ?7)",
        params![
            contact_id,
            format!("id:{}", 5000 + n),
            format!("{}", 5000 + n),
            m.membership_type,
            m.end,
            m.status,
            m.auto_renew,
        ],
    )
    .unwrap();
    Target {
        contact_id,
        membership_id: conn.last_insert_rowid(),
    }
}

/// What an import that saw `target` renewed to `new_end` writes: the new end date, a finished
/// import run, and a `renewed` event credited as the import credits it.
pub fn simulate_renewal_import(store: &Store, as_of: &str, renewed: &[(Target, &str)]) -> i64 {
    let conn = &store.conn;
    conn.execute(
        "INSERT INTO import_runs (started_at, finished_at, staff, as_of, file_name, file_size,
             file_sha256, profile, source, encoding, date_order, renewed)
         VALUES (?1, ?1, 'ann', ?2, 'export.csv', 1, 'x', 'civicrm', 'civicrm', 'utf-8', 'iso', ?3)",
        params![format!("{as_of}T18:00:00"), as_of, renewed.len() as i64],
    )
    .unwrap();
    let import_id = conn.last_insert_rowid();
    for (target, new_end) in renewed {
        let old_end: Option<String> = conn
            .query_row(
                "SELECT end_date FROM memberships WHERE id = ?1",
                [target.membership_id],
                |r| r.get(0),
            )
            .unwrap();
        conn.execute(
            "UPDATE memberships SET end_date = ?1, last_import_id = ?2 WHERE id = ?3",
            params![new_end, import_id, target.membership_id],
        )
        .unwrap();
        let credited = rollcall::storage::renewals::creditable_attempt(
            conn,
            target.membership_id,
            target.contact_id,
            &format!("{as_of}T18:00:00"),
        )
        .unwrap();
        conn.execute(
            "INSERT INTO membership_events (membership_id, import_id, kind, old_value, new_value,
                 occurred_on, credited_attempt_id)
             VALUES (?1, ?2, 'renewed', ?3, ?4, ?5, ?6)",
            params![
                target.membership_id,
                import_id,
                old_end,
                new_end,
                as_of,
                credited
            ],
        )
        .unwrap();
    }
    import_id
}

pub fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}
