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

/// What identifies a store and a version of what search shows in it. Only an import and an
/// erasure change contacts or memberships, and each leaves a mark here: an import adds an
/// `import_runs` row, an erasure bumps `erasure_generation` (both only ever grow). The first
/// import's time and file hash tell one database from another that holds the same counts (an
/// index file copied in from elsewhere); the counts and the newest contact cover what a login
/// may see of a team database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub first_import: Option<String>,
    pub last_import: Option<i64>,
    pub last_import_mark: Option<String>,
    pub erasures: i64,
    pub contacts: i64,
    pub memberships: i64,
    pub max_contact: Option<i64>,
}

impl Signature {
    /// The signature as 32 bytes, for an index file's header.
    pub fn digest(&self) -> [u8; 32] {
        use sha2::Digest;
        let text = format!(
            "{:?}|{:?}|{:?}|{}|{}|{}|{:?}",
            self.first_import,
            self.last_import,
            self.last_import_mark,
            self.erasures,
            self.contacts,
            self.memberships,
            self.max_contact
        );
        sha2::Sha256::digest(text.as_bytes()).into()
    }

    /// Whether `self` is `before` with `erased` contacts erased and nothing else changed: then an
    /// index of `before` with those people dropped is an index of `self`.
    pub fn follows_erasure_of(&self, before: &Signature, erased: usize) -> bool {
        let erased = erased as i64;
        self.first_import == before.first_import
            && self.last_import == before.last_import
            && self.last_import_mark == before.last_import_mark
            && self.erasures == before.erasures + erased
            && self.contacts == before.contacts - erased
    }
}

const SIGNATURE_SQL: &str = "
    SELECT (SELECT started_at || ' ' || file_sha256 FROM import_runs
            WHERE id = (SELECT min(id) FROM import_runs)),
           (SELECT max(id) FROM import_runs),
           (SELECT started_at || ' ' || file_sha256 FROM import_runs
            WHERE id = (SELECT max(id) FROM import_runs)),
           (SELECT generation FROM erasure_generation),
           (SELECT count(*) FROM contacts), (SELECT count(*) FROM memberships),
           (SELECT max(id) FROM contacts)";

pub fn signature(conn: &Connection) -> Result<Signature> {
    conn.query_row(SIGNATURE_SQL, [], |r| {
        Ok(Signature {
            first_import: r.get(0)?,
            last_import: r.get(1)?,
            last_import_mark: r.get(2)?,
            erasures: r.get::<_, Option<i64>>(3)?.unwrap_or(0),
            contacts: r.get(4)?,
            memberships: r.get(5)?,
            max_contact: r.get(6)?,
        })
    })
}
