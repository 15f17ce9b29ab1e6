//! Members the search tests look for, written into a real database file with SQL.
#![allow(dead_code)] // each test file uses part of this

use std::path::Path;

use chrono::NaiveDate;
use rollcall::storage::{OpenMode, Store};

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

/// One contact: (crm id, display name, sort name, first, last, email, postcode, phone,
/// local party, language, do not phone, deceased).
pub struct Person {
    pub crm_id: &'static str,
    pub name: &'static str,
    pub sort_name: &'static str,
    pub first: &'static str,
    pub last: &'static str,
    pub email: &'static str,
    pub postcode: &'static str,
    pub phone: &'static str,
    pub local_party: &'static str,
    pub welsh: bool,
    pub do_not_phone: bool,
    pub deceased: bool,
    /// (CRM membership id, type, CRM status, join, end)
    pub memberships: &'static [(
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
    )],
}

/// `names`: display name, sort name, first name, last name.
const fn person(
    crm_id: &'static str,
    names: [&'static str; 4],
    email: &'static str,
    postcode: &'static str,
    memberships: &'static [(
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
    )],
) -> Person {
    let [name, sort_name, first, last] = names;
    Person {
        crm_id,
        name,
        sort_name,
        first,
        last,
        email,
        postcode,
        phone: "",
        local_party: "Cardiff Central",
        welsh: false,
        do_not_phone: false,
        deceased: false,
        memberships,
    }
}

pub const CURRENT: (&str, &str, &str, &str, Option<&str>) = (
    "",
    "Individual",
    "Current",
    "2020-01-15",
    Some("2027-01-14"),
);

pub fn people() -> Vec<Person> {
    vec![
        Person {
            welsh: true,
            phone: "029 2087 1234",
            ..person(
                "1001",
                ["Siân Jones", "Jones, Siân", "Siân", "Jones"],
                "sian.jones@example.org",
                "CF10 1AA",
                &[(
                    "M2001",
                    "Individual",
                    "Current",
                    "2019-04-01",
                    Some("2027-03-31"),
                )],
            )
        },
        Person {
            do_not_phone: true,
            local_party: "Belfast South",
            ..person(
                "1002",
                ["Seán O'Neill", "O'Neill, Seán", "Seán", "O'Neill"],
                "sean.oneill@example.ie",
                "BT1 1AA",
                &[(
                    "M2002",
                    "Individual",
                    "Expired",
                    "2015-02-01",
                    Some("2024-01-31"),
                )],
            )
        },
        Person {
            local_party: "Birmingham Edgbaston",
            ..person(
                "1003",
                ["Łukasz Wróbel", "Wróbel, Łukasz", "Łukasz", "Wróbel"],
                "lukasz.wrobel@example.pl",
                "B17 7BG",
                // The CRM still says Current, but the end date has passed: rollcall says Grace.
                &[(
                    "M2003",
                    "Reduced Rate",
                    "Current",
                    "2022-11-01",
                    Some("2026-10-31"),
                )],
            )
        },
        Person {
            local_party: "Swansea West",
            ..person(
                "1004",
                ["Aled Jones", "Jones, Aled", "Aled", "Jones"],
                "aled@example.com",
                "SA1 1AA",
                &[
                    (
                        "M2004",
                        "Youth",
                        "Expired",
                        "2010-06-01",
                        Some("2015-05-31"),
                    ),
                    (
                        "M2005",
                        "Individual",
                        "Current",
                        "2016-06-01",
                        Some("2027-05-31"),
                    ),
                ],
            )
        },
        person(
            "1005",
            ["Jonathan Smith", "Smith, Jonathan", "Jonathan", "Smith"],
            "jsmith@example.com",
            "CF10 1AB",
            &[(
                "M2006",
                "Individual",
                "Current",
                "2021-03-01",
                Some("2027-02-28"),
            )],
        ),
        person(
            "1006",
            ["Tom Jonesworth", "Jonesworth, Tom", "Tom", "Jonesworth"],
            "tom@example.com",
            "LL57 2DG",
            &[CURRENT],
        ),
        person(
            "1007",
            ["Joan Nash", "Nash, Joan", "Joan", "Nash"],
            "joan.nash@example.com",
            "NP20 1AA",
            &[CURRENT],
        ),
        Person {
            welsh: true,
            ..person(
                "1008",
                ["Gwŷn ap Dafydd", "ap Dafydd, Gwŷn", "Gwŷn", "ap Dafydd"],
                "gwyn@example.cymru",
                "LL55 1AA",
                &[("M2008", "Lifetime", "Current", "1999-01-01", None)],
            )
        },
        person(
            "1009",
            ["Mair Davies", "Davies, Mair", "Mair", "Davies"],
            "jones.fan@example.com",
            "SY23 1AA",
            &[CURRENT],
        ),
        Person {
            phone: "07700 912345",
            ..person(
                "1010",
                ["Dylan Thomas", "Thomas, Dylan", "Dylan", "Thomas"],
                "dylan@example.com",
                "CF10 1AA",
                &[CURRENT],
            )
        },
        person(
            "12345",
            ["Edith Evans", "Evans, Edith", "Edith", "Evans"],
            "edith@example.com",
            "SA31 1AA",
            &[CURRENT],
        ),
        Person {
            deceased: true,
            ..person(
                "1012",
                ["Rhys Morgan", "Morgan, Rhys", "Rhys", "Morgan"],
                "",
                "CF24 4AA",
                &[CURRENT],
            )
        },
    ]
}

/// A rollcall database at `path` holding `people()`.
pub fn create_db(path: &Path) {
    let mut store = Store::open(path, OpenMode::ReadWrite).unwrap();
    insert(&mut store, &people(), 1);
}

/// Adds `people` with rollcall ids from `first_id`.
pub fn insert(store: &mut Store, people: &[Person], first_id: i64) {
    let tx = store.conn.transaction().unwrap();
    for (i, p) in people.iter().enumerate() {
        let id = first_id + i as i64;
        tx.execute(
            "INSERT INTO contacts (id, source, crm_id, display_name, sort_name, first_name,
                last_name, email, phone, postcode, local_party, preferred_language, do_not_phone,
                is_deceased)
             VALUES (?1, 'civicrm', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            rollcall::storage::sql::params![
                id,
                p.crm_id,
                p.name,
                p.sort_name,
                p.first,
                p.last,
                p.email,
                p.phone,
                p.postcode,
                p.local_party,
                if p.welsh { "cy_GB" } else { "en_GB" },
                p.do_not_phone,
                p.deceased
            ],
        )
        .unwrap();
        for (crm, kind, status, join, end) in p.memberships {
            let crm = if crm.is_empty() {
                format!("M{}", 9000 + id)
            } else {
                (*crm).to_owned()
            };
            tx.execute(
                "INSERT INTO memberships (contact_id, source, sync_key, crm_membership_id,
                    membership_type, join_date, start_date, end_date, crm_status)
                 VALUES (?1, 'civicrm', ?2, ?3, ?4, ?5, ?5, ?6, ?7)",
                rollcall::storage::sql::params![
                    id,
                    format!("id:{crm}"),
                    crm,
                    kind,
                    join,
                    end,
                    status
                ],
            )
            .unwrap();
        }
    }
    tx.commit().unwrap();
}
