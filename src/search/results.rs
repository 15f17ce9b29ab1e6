//! Result rows as the pane and the CLI show them: owned, so a screen of results never keeps an
//! old index alive (a reload frees it before building the next one).

use chrono::NaiveDate;

use super::index::Index;
use super::matcher::{Hit, Tier};
use crate::domain::membership::{MembershipDates, derive_status};
use crate::domain::{ContactFlags, MemberStatus};

/// One found member, with the membership the search chose to show.
#[derive(Debug, Clone)]
pub struct MemberHit {
    /// rollcall's own contact id (what opens the member).
    pub contact_id: i64,
    pub contact_crm_id: String,
    pub name: String,
    pub email: String,
    pub postcode: String,
    pub local_party: String,
    pub flags: ContactFlags,
    pub membership: Option<MembershipSummary>,
    /// How many memberships the contact has in all.
    pub memberships: usize,
    pub tier: Tier,
    pub score: i64,
}

#[derive(Debug, Clone)]
pub struct MembershipSummary {
    /// rollcall's own membership id.
    pub id: i64,
    pub crm_id: String,
    pub membership_type: String,
    /// As the CRM exported it, possibly stale.
    pub crm_status: String,
    pub dates: MembershipDates,
}

impl MembershipSummary {
    /// rollcall's own status for this membership, worked out from the dates as of `today`.
    pub fn status(&self, deceased: bool, today: NaiveDate) -> MemberStatus {
        derive_status(
            self.dates,
            MemberStatus::parse(&self.crm_status),
            deceased,
            today,
        )
    }

    /// Whether the CRM's status says something different from rollcall's (a stale export, or a
    /// status word rollcall does not know).
    pub fn disagrees(&self, deceased: bool, today: NaiveDate) -> bool {
        // No CRM status to disagree with (a NationBuilder type with no dates) is no drift:
        // never "Current (CRM: )".
        crate::domain::drift::classify(&self.crm_status, self.dates, deceased, today).is_some()
    }
}

impl MemberHit {
    pub fn new(index: &Index, hit: &Hit) -> MemberHit {
        let contact = index.contact(hit.record);
        let membership = index
            .membership(hit.record, hit.membership)
            .map(|m| MembershipSummary {
                id: m.id,
                crm_id: m.crm_id.to_owned(),
                membership_type: m.membership_type.to_owned(),
                crm_status: m.crm_status.to_owned(),
                dates: m.dates,
            });
        MemberHit {
            contact_id: contact.id,
            contact_crm_id: contact.crm_id.to_owned(),
            name: contact.name.to_owned(),
            email: contact.email.to_owned(),
            postcode: contact.postcode.to_owned(),
            local_party: contact.local_party.to_owned(),
            flags: contact.flags,
            membership,
            memberships: index.membership_count(hit.record),
            tier: hit.tier,
            score: hit.score,
        }
    }

    /// rollcall's status for the membership shown (None: the contact has no membership).
    pub fn status(&self, today: NaiveDate) -> Option<MemberStatus> {
        self.membership
            .as_ref()
            .map(|m| m.status(self.flags.deceased, today))
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(550_000), "550,000");
    }
}
