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

use super::csv_safe::SafeCsvWriter;
use crate::domain::MemberStatus;
use crate::storage::member_list;
pub use crate::storage::member_list::MemberRow;

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

/// The members matching `filter` as of `today`, by name.
pub fn select(
    conn: &Connection,
    today: NaiveDate,
    filter: &MemberFilter,
) -> crate::storage::sql::Result<Vec<MemberRow>> {
    let rows = member_list::memberships(
        conn,
        today,
        &member_list::Narrowing {
            region: filter.region.as_deref(),
            local_party: filter.local_party.as_deref(),
            membership_type: filter.membership_type.as_deref(),
            due_until: filter
                .due_within
                .map(|d| today + Duration::days(i64::from(d))),
        },
    )?;
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
