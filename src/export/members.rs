//! Member lists staff hand on ("the Welsh-speaking members of Cardiff due to renew"), as CSV or
//! JSON, one row per contact.
//!
//! Rules:
//! - Only memberships in the latest export count (a vanished membership is not listed), and a
//!   deceased contact is never listed.
//! - Filters apply to the membership; a contact with several matching memberships is listed once,
//!   with the one ending first (lifetime last).
//! - A list for a channel (`--for`) leaves out whoever may not be reached that way
//!   ([`ContactFlags::may_phone`], `may_email`, `may_mail`) and carries only the columns that
//!   channel needs: a call list has no postal addresses, a mail-merge file no phone numbers.
//! - Every CSV cell is neutralised against spreadsheet formulas.

use crate::storage::sql::Connection;
use chrono::{Duration, NaiveDate};
use serde::Serialize;

use super::csv_safe::SafeCsvWriter;
use crate::domain::membership::is_welsh;
use crate::domain::{ContactFlags, MemberStatus};
use crate::storage::stats::{Params, iso, query_rows, status_from_code, status_sql};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Channel {
    Phone,
    Email,
    Letter,
}

/// Which members to list.
#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    pub region: Option<String>,
    pub local_party: Option<String>,
    /// rollcall statuses; empty: any status but Deceased.
    pub statuses: Vec<MemberStatus>,
    pub welsh: bool,
    /// End date from today to this many days ahead, both included.
    pub due_within: Option<u32>,
    pub membership_type: Option<String>,
    pub channel: Option<Channel>,
}

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

/// The members matching `filter` as of `today`, by name.
pub fn select(
    conn: &Connection,
    today: NaiveDate,
    filter: &MemberFilter,
) -> crate::storage::sql::Result<Vec<MemberRow>> {
    let sql = format!(
        "SELECT c.id, c.crm_id, c.display_name, c.first_name, c.last_name, c.email, c.phone,
             c.street_address, c.city, c.postcode, c.country, c.preferred_language, c.region,
             c.local_party, c.do_not_email, c.do_not_phone, c.do_not_mail, c.do_not_sms,
             c.no_bulk_email, c.on_hold, m.membership_type, m.join_date, m.end_date,
             m.crm_status, {} AS status
         FROM memberships m JOIN contacts c ON c.id = m.contact_id
         WHERE m.missing_since IS NULL AND c.is_deceased = 0
           AND (:region IS NULL OR c.region = :region COLLATE NOCASE)
           AND (:party IS NULL OR c.local_party = :party COLLATE NOCASE)
           AND (:type IS NULL OR m.membership_type = :type COLLATE NOCASE)
           AND (:due_until IS NULL OR m.end_date BETWEEN :today AND :due_until)
         ORDER BY c.sort_name, c.id, m.end_date IS NULL, m.end_date, m.id",
        status_sql()
    );
    let params = Params::default()
        .status(today)
        .set(":region", filter.region.clone())
        .set(":party", filter.local_party.clone())
        .set(":type", filter.membership_type.clone())
        .set(
            ":due_until",
            filter
                .due_within
                .map(|d| iso(today + Duration::days(i64::from(d)))),
        );
    let rows = query_rows(conn, &sql, &params, |r| {
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
    })?;
    let mut out: Vec<MemberRow> = Vec::new();
    for row in rows {
        if out
            .last()
            .is_some_and(|last| last.rollcall_id == row.rollcall_id)
            || !keeps(filter, &row)
        {
            continue;
        }
        out.push(row);
    }
    Ok(out)
}

fn keeps(filter: &MemberFilter, row: &MemberRow) -> bool {
    let status_ok = if filter.statuses.is_empty() {
        row.status != MemberStatus::Deceased
    } else {
        filter.statuses.contains(&row.status)
    };
    let reachable = match filter.channel {
        None => true,
        Some(Channel::Phone) => row.flags.may_phone(),
        Some(Channel::Email) => row.flags.may_email(),
        Some(Channel::Letter) => row.flags.may_mail(),
    };
    status_ok && reachable && (!filter.welsh || row.welsh) && row.status != MemberStatus::Deceased
}

/// The CSV for `channel` (all contact columns when there is none). UTF-8 with a byte-order mark,
/// so that Excel reads Welsh names (Siân, Dafydd ŵ) correctly.
pub fn to_csv(rows: &[MemberRow], channel: Option<Channel>) -> anyhow::Result<Vec<u8>> {
    let columns = columns(channel);
    let mut out = "\u{feff}".as_bytes().to_vec();
    let mut csv = SafeCsvWriter::without_bom(&mut out);
    csv.write_record(columns.iter().map(|c| c.title()))?;
    for row in rows {
        csv.write_record(columns.iter().map(|c| c.value(row)))?;
    }
    csv.into_inner()?;
    Ok(out)
}

#[derive(Debug, Clone, Copy)]
enum Column {
    ContactId,
    Name,
    FirstName,
    LastName,
    Email,
    Phone,
    Street,
    City,
    Postcode,
    Country,
    Language,
    Region,
    LocalParty,
    MembershipType,
    MemberSince,
    EndDate,
    Status,
    CrmStatus,
    Flags,
}

fn columns(channel: Option<Channel>) -> Vec<Column> {
    use Column::*;
    let reach: &[Column] = match channel {
        Some(Channel::Phone) => &[Phone],
        Some(Channel::Email) => &[Email],
        Some(Channel::Letter) => &[Street, City, Postcode, Country],
        None => &[Email, Phone, Street, City, Postcode, Country],
    };
    [ContactId, Name, FirstName, LastName]
        .into_iter()
        .chain(reach.iter().copied())
        .chain([
            Language,
            Region,
            LocalParty,
            MembershipType,
            MemberSince,
            EndDate,
            Status,
            CrmStatus,
            Flags,
        ])
        .collect()
}

impl Column {
    fn title(self) -> &'static str {
        match self {
            Column::ContactId => "Contact ID",
            Column::Name => "Display Name",
            Column::FirstName => "First Name",
            Column::LastName => "Last Name",
            Column::Email => "Email",
            Column::Phone => "Phone",
            Column::Street => "Street Address",
            Column::City => "City",
            Column::Postcode => "Postal Code",
            Column::Country => "Country",
            Column::Language => "Preferred Language",
            Column::Region => "Region",
            Column::LocalParty => "Local Party",
            Column::MembershipType => "Membership Type",
            Column::MemberSince => "Member Since",
            Column::EndDate => "Membership Expiration Date",
            Column::Status => "Status (rollcall)",
            Column::CrmStatus => "Membership Status (CRM)",
            Column::Flags => "Flags",
        }
    }

    fn value(self, r: &MemberRow) -> String {
        match self {
            Column::ContactId => r.contact_id.clone(),
            Column::Name => r.name.clone(),
            Column::FirstName => r.first_name.clone(),
            Column::LastName => r.last_name.clone(),
            Column::Email => r.email.clone(),
            Column::Phone => r.phone.clone(),
            Column::Street => r.street_address.clone(),
            Column::City => r.city.clone(),
            Column::Postcode => r.postcode.clone(),
            Column::Country => r.country.clone(),
            Column::Language => r.preferred_language.clone(),
            Column::Region => r.region.clone(),
            Column::LocalParty => r.local_party.clone(),
            Column::MembershipType => r.membership_type.clone(),
            Column::MemberSince => r.member_since.clone().unwrap_or_default(),
            Column::EndDate => r.end_date.clone().unwrap_or_default(),
            Column::Status => r.status.label().to_owned(),
            Column::CrmStatus => r.crm_status.clone(),
            Column::Flags => r.flags.badges().join(" "),
        }
    }
}
