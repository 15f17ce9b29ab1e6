//! Probable duplicate contacts and overlapping memberships (`rollcall duplicates`): one read of
//! the contacts and one of the memberships, keys folded as search folds them, the rules in
//! [`crate::domain::duplicates`].

use std::collections::HashMap;

use serde::Serialize;

use super::sql::Connection;
use crate::domain::dates::parse_iso;
use crate::domain::duplicates::{Candidate, Reason, Term, overlapping, pairs};
use crate::search::normalize::{compact, phone_digits};

/// A contact as a duplicate pair shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    pub crm_contact_id: String,
    pub name: String,
    pub email: String,
    pub postcode: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuplicatePair {
    pub source: String,
    pub confidence: f64,
    pub reasons: Vec<Reason>,
    pub first: Side,
    pub second: Side,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverlappingMemberships {
    pub source: String,
    pub crm_contact_id: String,
    pub name: String,
    pub membership_type: String,
    pub first_membership_id: Option<String>,
    pub second_membership_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Duplicates {
    pub pairs: Vec<DuplicatePair>,
    pub overlapping_memberships: Vec<OverlappingMemberships>,
}

/// Fewer digits than a UK national number (10 or 11) is no phone to match on.
const MIN_PHONE_DIGITS: usize = 10;

struct Loaded {
    source: String,
    side: Side,
    candidate: Candidate,
}

pub fn find(conn: &Connection) -> super::sql::Result<Duplicates> {
    let contacts = load_contacts(conn)?;
    let by_id: HashMap<i64, &Loaded> = contacts.iter().map(|c| (c.candidate.id, c)).collect();
    // Only within one source: the CRM merges its own records.
    let mut by_source: HashMap<&str, Vec<Candidate>> = HashMap::new();
    for c in &contacts {
        by_source
            .entry(&c.source)
            .or_default()
            .push(c.candidate.clone());
    }
    let mut found = Vec::new();
    for candidates in by_source.values() {
        for p in pairs(candidates) {
            let (a, b) = (by_id[&p.first], by_id[&p.second]);
            found.push(DuplicatePair {
                source: a.source.clone(),
                confidence: p.confidence,
                reasons: p.reasons,
                first: a.side.clone(),
                second: b.side.clone(),
            });
        }
    }
    found.sort_by(|a, b| {
        b.confidence.total_cmp(&a.confidence).then_with(|| {
            (&a.source, &a.first.crm_contact_id, &a.second.crm_contact_id).cmp(&(
                &b.source,
                &b.first.crm_contact_id,
                &b.second.crm_contact_id,
            ))
        })
    });
    Ok(Duplicates {
        pairs: found,
        overlapping_memberships: overlapping_memberships(conn, &by_id)?,
    })
}

fn load_contacts(conn: &Connection) -> super::sql::Result<Vec<Loaded>> {
    let mut stmt = conn.prepare(
        "SELECT id, source, crm_id, display_name, first_name, last_name, organization_name,
                email, phone, street_address, postcode
         FROM contacts ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        let (first, last, org): (String, String, String) = (r.get(4)?, r.get(5)?, r.get(6)?);
        let (email, phone, street, postcode): (String, String, String, String) =
            (r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?);
        let display: String = r.get(3)?;
        let name = if first.is_empty() && last.is_empty() {
            folded(if org.is_empty() { &display } else { &org })
        } else {
            folded(&format!("{first}{last}"))
        };
        let phone_key = String::from_utf8(phone_digits(&phone)).unwrap_or_default();
        let postcode_key = folded(&postcode);
        let street_key = folded(&street);
        Ok(Loaded {
            source: r.get(1)?,
            side: Side {
                crm_contact_id: r.get(2)?,
                name: display,
                email: email.clone(),
                postcode: postcode.clone(),
            },
            candidate: Candidate {
                id: r.get(0)?,
                email: email.trim().to_lowercase(),
                phone: if phone_key.len() >= MIN_PHONE_DIGITS {
                    phone_key
                } else {
                    String::new()
                },
                name,
                address: if street_key.is_empty() || postcode_key.is_empty() {
                    String::new()
                } else {
                    format!("{street_key}\u{0}{postcode_key}")
                },
                postcode: postcode_key,
            },
        })
    })?;
    rows.collect()
}

fn folded(s: &str) -> String {
    String::from_utf8(compact(s)).unwrap_or_default()
}

fn overlapping_memberships(
    conn: &Connection,
    contacts: &HashMap<i64, &Loaded>,
) -> super::sql::Result<Vec<OverlappingMemberships>> {
    // Only contacts with two or more memberships can overlap: the rest are not read.
    let mut stmt = conn.prepare(
        "SELECT m.id, m.contact_id, m.membership_type, m.start_date, m.join_date, m.end_date,
                m.crm_membership_id
         FROM memberships m
         WHERE m.contact_id IN (SELECT contact_id FROM memberships
                                GROUP BY contact_id HAVING count(*) > 1)
           AND m.missing_since IS NULL
         ORDER BY m.contact_id, m.id",
    )?;
    let mut crm_ids: HashMap<i64, Option<String>> = HashMap::new();
    let terms = stmt
        .query_map([], |r| {
            let (start, join, end): (Option<String>, Option<String>, Option<String>) =
                (r.get(3)?, r.get(4)?, r.get(5)?);
            let id: i64 = r.get(0)?;
            Ok((
                Term {
                    membership_id: id,
                    contact_id: r.get(1)?,
                    membership_type: r.get(2)?,
                    start: start.or(join).as_deref().and_then(parse_iso),
                    end: end.as_deref().and_then(parse_iso),
                },
                r.get::<_, Option<String>>(6)?,
            ))
        })?
        .map(|row| {
            row.map(|(term, crm_id)| {
                crm_ids.insert(term.membership_id, crm_id);
                term
            })
        })
        .collect::<super::sql::Result<Vec<Term>>>()?;
    let by_membership: HashMap<i64, &Term> = terms.iter().map(|t| (t.membership_id, t)).collect();
    Ok(overlapping(&terms)
        .into_iter()
        .filter_map(|(a, b)| {
            let term = by_membership.get(&a)?;
            let contact = contacts.get(&term.contact_id)?;
            Some(OverlappingMemberships {
                source: contact.source.clone(),
                crm_contact_id: contact.side.crm_contact_id.clone(),
                name: contact.side.name.clone(),
                membership_type: term.membership_type.clone(),
                first_membership_id: crm_ids.get(&a).cloned().flatten(),
                second_membership_id: crm_ids.get(&b).cloned().flatten(),
            })
        })
        .collect())
}
