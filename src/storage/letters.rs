//! What `rollcall letters` reads and writes: the members a letter goes to (names, address,
//! email, preferences, the membership it is about and its last contact), whether a member was
//! already sent the same letter today, and the record of each letter as a contact attempt.

use crate::storage::sql::{Connection, OptionalExtension, Row};
use anyhow::Result;
use chrono::NaiveDate;

use super::Store;
use super::erase::{self, Lookup};
use super::renewals::{self, NewAttempt, Target, Undo};
use crate::Clock;
use crate::domain::ContactFlags;
use crate::domain::dates::parse_iso;
use crate::domain::letters::{PostalAddress, Recipient};
use crate::domain::membership::is_welsh;
use crate::domain::renewal::{Channel, LastContact, Outcome};

/// Who a letter is wanted for: a contact, and the membership it is about when the list knows it
/// (the renewals queue does); otherwise the contact's membership that ends last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted {
    pub contact_id: i64,
    pub membership_id: Option<i64>,
}

/// One member as a letter needs them.
#[derive(Debug, Clone, PartialEq)]
pub struct LetterRow {
    pub contact_id: i64,
    /// The CRM's contact id.
    pub crm_id: String,
    /// None when the contact holds no membership in the latest export.
    pub membership_id: Option<i64>,
    pub recipient: Recipient,
    pub address: PostalAddress,
    pub email: String,
    /// Including `deceased`.
    pub flags: ContactFlags,
    /// The last contact attempt on the membership.
    pub last_contact: Option<LastContact>,
}

const CONTACT_SQL: &str = "SELECT c.first_name, c.last_name,
        COALESCE(NULLIF(c.display_name, ''), NULLIF(trim(c.first_name || ' ' || c.last_name), ''),
                 NULLIF(c.organization_name, ''), c.sort_name),
        c.local_party, c.preferred_language, c.street_address, c.city, c.county, c.postcode,
        c.country, c.email, c.do_not_email, c.do_not_phone, c.do_not_mail, c.do_not_sms,
        c.no_bulk_email, c.on_hold, c.is_deceased, c.crm_id
     FROM contacts c WHERE c.id = ?1";

/// The contact's membership that ends last (lifetime first), among those the latest export holds.
const LATEST_MEMBERSHIP_SQL: &str = "SELECT id FROM memberships
     WHERE contact_id = ?1 AND missing_since IS NULL
     ORDER BY end_date IS NULL DESC, end_date DESC, id DESC LIMIT 1";

const LAST_CONTACT_SQL: &str = "SELECT id, attempted_at, channel, outcome, staff
     FROM contact_attempts WHERE membership_id = ?1
     ORDER BY attempted_at DESC, id DESC LIMIT 1";

/// The members in `wanted`, in that order (contacts no longer in the store are skipped).
pub fn recipients(conn: &Connection, wanted: &[Wanted]) -> Result<Vec<LetterRow>> {
    let mut contact = conn.prepare_cached(CONTACT_SQL)?;
    let mut latest = conn.prepare_cached(LATEST_MEMBERSHIP_SQL)?;
    let mut membership =
        conn.prepare_cached("SELECT membership_type, end_date FROM memberships WHERE id = ?1")?;
    let mut last = conn.prepare_cached(LAST_CONTACT_SQL)?;
    let mut out = Vec::with_capacity(wanted.len());
    for w in wanted {
        let Some(mut row) = contact
            .query_row([w.contact_id], |r| contact_row(w.contact_id, r))
            .optional()?
        else {
            continue;
        };
        row.membership_id = match w.membership_id {
            Some(id) => Some(id),
            None => latest.query_row([w.contact_id], |r| r.get(0)).optional()?,
        };
        if let Some(id) = row.membership_id {
            let (kind, end): (String, Option<String>) =
                membership.query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            row.recipient.membership_type = kind;
            row.recipient.end_date = end.as_deref().and_then(parse_iso);
            row.last_contact = last
                .query_row([id], |r| {
                    Ok(LastContact {
                        id: r.get(0)?,
                        at: r.get(1)?,
                        channel: r.get(2)?,
                        outcome: r.get(3)?,
                        staff: r.get(4)?,
                    })
                })
                .optional()?;
        }
        out.push(row);
    }
    Ok(out)
}

fn contact_row(contact_id: i64, r: &Row) -> crate::storage::sql::Result<LetterRow> {
    let language: String = r.get(4)?;
    let welsh = is_welsh(&language);
    Ok(LetterRow {
        contact_id,
        crm_id: r.get(18)?,
        membership_id: None,
        recipient: Recipient {
            first_name: r.get(0)?,
            last_name: r.get(1)?,
            name: r.get(2)?,
            local_party: r.get(3)?,
            welsh,
            ..Recipient::default()
        },
        address: PostalAddress {
            street: r.get(5)?,
            city: r.get(6)?,
            county: r.get(7)?,
            postcode: r.get(8)?,
            country: r.get(9)?,
        },
        email: r.get(10)?,
        flags: ContactFlags {
            do_not_email: r.get(11)?,
            do_not_phone: r.get(12)?,
            do_not_mail: r.get(13)?,
            do_not_sms: r.get(14)?,
            no_bulk_email: r.get(15)?,
            on_hold: r.get(16)?,
            deceased: r.get(17)?,
            welsh,
        },
        last_contact: None,
    })
}

/// What became of a list of CRM ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedIds {
    pub contact_ids: Vec<i64>,
    /// No contact holds the id (or it was erased).
    pub not_found: usize,
    /// The id is held by contacts from several CRM sources.
    pub ambiguous: usize,
}

/// rollcall's contact ids for `crm_ids`, in order, each once.
pub fn resolve_crm_ids(conn: &Connection, crm_ids: &[String]) -> Result<ResolvedIds> {
    let mut out = ResolvedIds::default();
    for crm_id in crm_ids {
        match erase::find_contact(conn, crm_id, None)? {
            Lookup::Found { id, .. } if !out.contact_ids.contains(&id) => out.contact_ids.push(id),
            Lookup::Found { .. } => {}
            Lookup::Ambiguous { .. } => out.ambiguous += 1,
            Lookup::Erased { .. } | Lookup::NotFound => out.not_found += 1,
        }
    }
    Ok(out)
}

/// The note a letter's contact attempt carries: which letter, so that the same one on the same
/// day can be recognised ("renewal-due letter").
pub fn attempt_note(kind: &str, channel: Channel) -> String {
    format!("{kind} {}", channel.as_str())
}

/// Whether `contact_id` already has an attempt with this channel and note on `day`.
pub fn sent_on(
    conn: &Connection,
    contact_id: i64,
    channel: Channel,
    note: &str,
    day: NaiveDate,
) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "SELECT 1 FROM contact_attempts
         WHERE contact_id = ?1 AND channel = ?2 AND note = ?3 AND substr(attempted_at, 1, 10) = ?4
         LIMIT 1",
    )?;
    Ok(stmt
        .query_row(
            crate::storage::sql::params![contact_id, channel.as_str(), note, day.to_string()],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Records each letter as a contact attempt, outcome "sent", in one audited transaction (one
/// batch, undoable as one). "Sent" is the existing `left_message` outcome, which the queue and
/// the CRM write-back already read as "sent" for letters and email ([`Outcome::label_for`]).
pub fn record_sent(
    store: &mut Store,
    clock: &Clock,
    targets: &[Target],
    channel: Channel,
    note: &str,
) -> Result<Undo> {
    renewals::log_attempts(
        store,
        clock,
        targets,
        &NewAttempt {
            channel,
            outcome: Outcome::LeftMessage,
            note: note.to_owned(),
        },
    )
}
