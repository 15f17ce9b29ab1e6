//! The memberships whose CRM status drifted from their dates (`rollcall drift`): one pass over
//! the memberships in the latest export, each classified by [`crate::domain::drift::classify`].

use chrono::NaiveDate;
use serde::Serialize;

use super::sql::Connection;
use crate::domain::dates::parse_iso;
use crate::domain::drift::{DriftKind, classify};
use crate::domain::membership::{MemberStatus, MembershipDates, derive_status};

/// One membership whose CRM status disagrees with its dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drifted {
    pub kind: DriftKind,
    pub crm_contact_id: String,
    pub crm_membership_id: Option<String>,
    pub name: String,
    pub membership_type: String,
    pub crm_status: String,
    /// The status the dates give as of today.
    pub status_by_dates: String,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub region: String,
    pub local_party: String,
}

/// Every drifted membership as of `today`, by kind, then end date, then CRM ids. Memberships
/// missing from the latest export are left out: the CRM no longer has them to fix.
pub fn drifted(conn: &Connection, today: NaiveDate) -> super::sql::Result<Vec<Drifted>> {
    let mut stmt = conn.prepare(
        "SELECT m.crm_status, m.join_date, m.start_date, m.end_date, c.is_deceased,
                CASE WHEN u.membership_id IS NULL THEN 0 ELSE 1 END,
                c.crm_id, m.crm_membership_id, c.display_name, m.membership_type, c.region,
                c.local_party
         FROM memberships m JOIN contacts c ON c.id = m.contact_id
         LEFT JOIN membership_dates_unknown u ON u.membership_id = m.id
         WHERE m.missing_since IS NULL",
    )?;
    let rows = stmt.query_map([], |r| {
        let crm_status: String = r.get(0)?;
        let (join, start, end): (Option<String>, Option<String>, Option<String>) =
            (r.get(1)?, r.get(2)?, r.get(3)?);
        let dates = MembershipDates {
            join: join.as_deref().and_then(parse_iso),
            start: start.as_deref().and_then(parse_iso),
            end: end.as_deref().and_then(parse_iso),
            dates_unknown: r.get::<_, i64>(5)? != 0,
        };
        let deceased: bool = r.get(4)?;
        let Some(kind) = classify(&crm_status, dates, deceased, today) else {
            return Ok(None);
        };
        let by_dates = derive_status(dates, MemberStatus::parse(&crm_status), deceased, today);
        Ok(Some(Drifted {
            kind,
            crm_contact_id: r.get(6)?,
            crm_membership_id: r.get(7)?,
            name: r.get(8)?,
            membership_type: r.get(9)?,
            crm_status,
            status_by_dates: by_dates.label().to_owned(),
            start_date: start,
            end_date: end,
            region: r.get(10)?,
            local_party: r.get(11)?,
        }))
    })?;
    let mut out = Vec::new();
    for row in rows {
        if let Some(d) = row? {
            out.push(d);
        }
    }
    out.sort_by(|a, b| {
        (a.kind, &a.end_date, &a.crm_contact_id, &a.crm_membership_id).cmp(&(
            b.kind,
            &b.end_date,
            &b.crm_contact_id,
            &b.crm_membership_id,
        ))
    });
    Ok(out)
}
