//! What the search index is built from (src/search/index.rs): the contacts with their
//! memberships, read in one pass, and a cheap signature that says whether they have changed.

use super::sql::{Connection, Result, Statement};

/// The one streaming query: every contact with its memberships, grouped by contact. The index
/// reads the columns by position, in this order.
const ROWS_SQL: &str = "
    SELECT c.id, c.crm_id, c.display_name, c.sort_name, c.first_name, c.last_name,
           c.organization_name, c.email, c.phone, c.postcode, c.preferred_language,
           c.do_not_email, c.do_not_phone, c.do_not_mail, c.do_not_sms, c.no_bulk_email,
           c.on_hold, c.is_deceased, c.local_party,
           m.id, m.crm_membership_id, m.membership_type, m.join_date, m.start_date, m.end_date,
           m.crm_status,
           (SELECT count(*) FROM membership_dates_unknown u WHERE u.membership_id = m.id)
    FROM contacts c LEFT JOIN memberships m ON m.contact_id = c.id
    ORDER BY c.id, m.id";

/// The statement of [`ROWS_SQL`], ready to run.
pub fn rows(conn: &Connection) -> Result<Statement<'_>> {
    conn.prepare(ROWS_SQL)
}

/// How many contacts and memberships there are, to size the index before it loads.
pub fn sizes(conn: &Connection) -> Result<(i64, i64)> {
    conn.query_row(
        "SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM memberships)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// What identifies a version of the data: the newest import, the counts, the newest contact.
/// A reload is needed only when it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    pub last_import: Option<i64>,
    pub contacts: i64,
    pub memberships: i64,
    pub max_contact: Option<i64>,
}

pub fn signature(conn: &Connection) -> Result<Signature> {
    conn.query_row(
        "SELECT (SELECT max(id) FROM import_runs), (SELECT count(*) FROM contacts),
                (SELECT count(*) FROM memberships), (SELECT max(id) FROM contacts)",
        [],
        |r| {
            Ok(Signature {
                last_import: r.get(0)?,
                contacts: r.get(1)?,
                memberships: r.get(2)?,
                max_contact: r.get(3)?,
            })
        },
    )
}
