//! Who follows up a contact in a queue (`assignments` table; queue `renewals` or `onboarding`).

use crate::storage::sql::{Connection, OptionalExtension, params};
use serde::Serialize;

/// An assignment as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignment {
    pub assignee: String,
    pub staff: String,
    pub assigned_at: String,
}

/// The contact's assignment in `queue`, if any.
pub fn current(
    conn: &Connection,
    contact_id: i64,
    queue: &str,
) -> crate::storage::sql::Result<Option<Assignment>> {
    conn.query_row(
        "SELECT assignee, staff, assigned_at FROM assignments WHERE contact_id = ?1 AND queue = ?2",
        params![contact_id, queue],
        |r| {
            Ok(Assignment {
                assignee: r.get(0)?,
                staff: r.get(1)?,
                assigned_at: r.get(2)?,
            })
        },
    )
    .optional()
}
