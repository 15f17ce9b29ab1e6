//! The memberships cohorts are counted from (`rollcall stats --cohorts`): one read of every
//! membership's join and end dates, with the contact's region or local party for a split. The
//! counting is [`crate::domain::cohorts`].

use super::sql::Connection;
use crate::domain::cohorts::Joined;
use crate::domain::dates::parse_iso;

/// What a split groups memberships by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Split {
    Region,
    LocalParty,
}

/// Every membership with a join date, grouped by `split` (no split: one group). Memberships
/// known only by their type have no dates and are left out.
pub fn joined(conn: &Connection, split: Option<Split>) -> super::sql::Result<Vec<Joined>> {
    let group = match split {
        None => "''",
        Some(Split::Region) => "c.region",
        Some(Split::LocalParty) => "c.local_party",
    };
    let mut stmt = conn.prepare(&format!(
        "SELECT m.join_date, m.end_date, m.crm_status, {group}
         FROM memberships m JOIN contacts c ON c.id = m.contact_id
         WHERE m.join_date IS NOT NULL
           AND m.id NOT IN (SELECT membership_id FROM membership_dates_unknown)"
    ))?;
    let rows = stmt.query_map([], |r| {
        let join: String = r.get(0)?;
        let end: Option<String> = r.get(1)?;
        let (crm_status, group): (String, String) = (r.get(2)?, r.get(3)?);
        Ok(parse_iso(&join).map(|join| Joined {
            join,
            end: end.as_deref().and_then(parse_iso),
            crm_status,
            group,
        }))
    })?;
    let mut out = Vec::new();
    for row in rows {
        out.extend(row?);
    }
    Ok(out)
}
