//! The memberships behind a member list (`rollcall export members`): the one query, with the
//! filters SQL applies; `export::members` keeps a row per contact and writes the file.

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::membership::is_welsh;
use crate::domain::{ContactFlags, MemberStatus};
use crate::storage::sql::Connection;
use crate::storage::stats::{Params, iso, query_rows, status_from_code, status_sql};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberRow {
    /// The CRM's contact id.
    pub contact_id: String,
    /// rollcall's own id (for `rollcall` commands).
    pub rollcall_id: i64,
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub street_address: String,
    pub city: String,
    pub postcode: String,
    pub country: String,
    pub preferred_language: String,
    pub welsh: bool,
    pub region: String,
    pub local_party: String,
    pub membership_type: String,
    pub member_since: Option<String>,
    pub end_date: Option<String>,
    pub status: MemberStatus,
    pub crm_status: String,
    pub flags: ContactFlags,
}

/// What SQL narrows the list by; each `None` lets everyone through. Text is compared ignoring
/// ASCII case, as SQLite's `NOCASE` did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Narrowing<'a> {
    pub region: Option<&'a str>,
    pub local_party: Option<&'a str>,
    pub membership_type: Option<&'a str>,
    /// End date from the as-of date to this one, both included.
    pub due_until: Option<NaiveDate>,
}

/// Every membership in the latest export of a contact not deceased that `narrowing` lets
/// through, with its rollcall status as of `today`: by name, then contact, then the one ending
/// first (lifetime last).
pub fn memberships(
    conn: &Connection,
    today: NaiveDate,
    narrowing: &Narrowing<'_>,
) -> crate::storage::sql::Result<Vec<MemberRow>> {
    let sql = format!(
        "SELECT c.id, c.crm_id, c.display_name, c.first_name, c.last_name, c.email, c.phone,
             c.street_address, c.city, c.postcode, c.country, c.preferred_language, c.region,
             c.local_party, c.do_not_email, c.do_not_phone, c.do_not_mail, c.do_not_sms,
             c.no_bulk_email, c.on_hold, m.membership_type, m.join_date, m.end_date,
             m.crm_status, {} AS status
         FROM memberships m JOIN contacts c ON c.id = m.contact_id
         WHERE m.missing_since IS NULL AND c.is_deceased = 0
           AND (CAST(:region AS TEXT) IS NULL OR lower(c.region) = lower(:region))
           AND (CAST(:party AS TEXT) IS NULL OR lower(c.local_party) = lower(:party))
           AND (CAST(:type AS TEXT) IS NULL OR lower(m.membership_type) = lower(:type))
           AND (CAST(:due_until AS TEXT) IS NULL OR m.end_date BETWEEN :today AND :due_until)
         ORDER BY c.sort_name, c.id, m.end_date IS NULL, m.end_date, m.id",
        status_sql()
    );
    let params = Params::default()
        .status(today)
        .set(":region", narrowing.region.map(str::to_owned))
        .set(":party", narrowing.local_party.map(str::to_owned))
        .set(":type", narrowing.membership_type.map(str::to_owned))
        .set(":due_until", narrowing.due_until.map(iso));
    query_rows(conn, &sql, &params, |r| {
        let flag = |i: usize| r.get::<_, bool>(i);
        let language: String = r.get(11)?;
        let welsh = is_welsh(&language);
        Ok(MemberRow {
            rollcall_id: r.get(0)?,
            contact_id: r.get(1)?,
            name: r.get(2)?,
            first_name: r.get(3)?,
            last_name: r.get(4)?,
            email: r.get(5)?,
            phone: r.get(6)?,
            street_address: r.get(7)?,
            city: r.get(8)?,
            postcode: r.get(9)?,
            country: r.get(10)?,
            welsh,
            preferred_language: language,
            region: r.get(12)?,
            local_party: r.get(13)?,
            flags: ContactFlags {
                do_not_email: flag(14)?,
                do_not_phone: flag(15)?,
                do_not_mail: flag(16)?,
                do_not_sms: flag(17)?,
                no_bulk_email: flag(18)?,
                on_hold: flag(19)?,
                deceased: false,
                welsh,
            },
            membership_type: r.get(20)?,
            member_since: r.get(21)?,
            end_date: r.get(22)?,
            crm_status: r.get(23)?,
            status: status_from_code(r.get(24)?).unwrap_or(MemberStatus::Expired),
        })
    })
}
