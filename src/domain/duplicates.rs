//! Probable duplicates: pairs of contacts that are likely one person, each with why and how
//! sure, and memberships of one contact that overlap in type and dates.
//!
//! rollcall never merges: the CRM is the system of record, so the pairs go to the CRM's own
//! merge (CRM ids side by side).
//!
//! Each rule is a key two records share (a folded email, phone, name with postcode, address);
//! records are grouped by key in one pass, so the whole pass is linear in the contacts, never
//! the all-pairs comparison that makes CRM dedupe jobs time out. A key shared by more than
//! [`MAX_SHARED`] contacts (a household's landline, an office's address, a placeholder email)
//! says nothing about any one pair, and gives no pairs.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::Serialize;

/// A key shared by more contacts than this is a shared one, not a duplicate.
pub const MAX_SHARED: usize = 6;

/// Why two contacts look like one person, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    SameEmail,
    SameNameAndPostcode,
    NameOneLetterOffAtSameAddress,
    SamePhone,
}

impl Reason {
    /// How likely the rule alone is to mean one person: an email is personal, a phone can be a
    /// household's.
    pub fn confidence(self) -> f64 {
        match self {
            Reason::SameEmail => 0.9,
            Reason::SameNameAndPostcode => 0.8,
            Reason::NameOneLetterOffAtSameAddress => 0.7,
            Reason::SamePhone => 0.5,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Reason::SameEmail => "same email",
            Reason::SameNameAndPostcode => "same name and postcode",
            Reason::NameOneLetterOffAtSameAddress => "name one letter off at the same address",
            Reason::SamePhone => "same phone",
        }
    }
}

/// A contact as the rules see it: each key already folded (empty: none).
#[derive(Debug, Clone, Default)]
pub struct Candidate {
    /// rollcall's contact id.
    pub id: i64,
    pub email: String,
    pub phone: String,
    /// First and last names (or the organisation's name), folded.
    pub name: String,
    pub postcode: String,
    /// Street and postcode, folded.
    pub address: String,
}

/// Two contacts that are probably one person: `first` has the lower id.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    pub first: i64,
    pub second: i64,
    pub reasons: Vec<Reason>,
    pub confidence: f64,
}

/// How a rule reads its key off a candidate (empty: no key).
type KeyOf = fn(&Candidate) -> String;

/// The pairs among `candidates`, most confident first (ties by id).
pub fn pairs(candidates: &[Candidate]) -> Vec<Pair> {
    let mut found: BTreeMap<(i64, i64), Vec<Reason>> = BTreeMap::new();
    let mut note = |a: &Candidate, b: &Candidate, reason: Reason| {
        let key = (a.id.min(b.id), a.id.max(b.id));
        let reasons = found.entry(key).or_default();
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
    };
    let keyed: [(Reason, KeyOf); 3] = [
        (Reason::SameEmail, |c| c.email.clone()),
        (Reason::SamePhone, |c| c.phone.clone()),
        (Reason::SameNameAndPostcode, |c| {
            if c.name.is_empty() || c.postcode.is_empty() {
                String::new()
            } else {
                format!("{}\u{0}{}", c.name, c.postcode)
            }
        }),
    ];
    for (reason, key) in keyed {
        for group in groups(candidates, key) {
            for (i, a) in group.iter().enumerate() {
                for b in &group[i + 1..] {
                    note(a, b, reason);
                }
            }
        }
    }
    for group in groups(candidates, |c| c.address.clone()) {
        for (i, a) in group.iter().enumerate() {
            for b in &group[i + 1..] {
                if one_letter_off(&a.name, &b.name) {
                    note(a, b, Reason::NameOneLetterOffAtSameAddress);
                }
            }
        }
    }
    let mut out: Vec<Pair> = found
        .into_iter()
        .map(|((first, second), mut reasons)| {
            reasons.sort();
            Pair {
                first,
                second,
                confidence: combined(&reasons),
                reasons,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then((a.first, a.second).cmp(&(b.first, b.second)))
    });
    out
}

/// The groups of 2 to [`MAX_SHARED`] candidates sharing a non-empty key.
fn groups(candidates: &[Candidate], key: KeyOf) -> Vec<Vec<&Candidate>> {
    let mut by_key: HashMap<String, Vec<&Candidate>> = HashMap::new();
    for c in candidates {
        let k = key(c);
        if !k.is_empty() {
            by_key.entry(k).or_default().push(c);
        }
    }
    by_key
        .into_values()
        .filter(|g| (2..=MAX_SHARED).contains(&g.len()))
        .collect()
}

/// Independent evidence adds up: the chance that every reason is wrong is the product of each
/// being wrong. Rounded to two places, so that equal evidence ranks equal.
fn combined(reasons: &[Reason]) -> f64 {
    let wrong: f64 = reasons.iter().map(|r| 1.0 - r.confidence()).product();
    ((1.0 - wrong) * 100.0).round() / 100.0
}

/// Whether `a` and `b` differ by exactly one letter changed, added or removed.
pub fn one_letter_off(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.is_empty() || b.is_empty() || a == b || a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    // Counted within what follows the common prefix, so the two never overlap.
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    a.len() - prefix - suffix <= 1 && b.len() - prefix - suffix <= 1
}

/// One membership as the overlap rule sees it.
#[derive(Debug, Clone)]
pub struct Term {
    pub membership_id: i64,
    pub contact_id: i64,
    pub membership_type: String,
    pub start: Option<NaiveDate>,
    /// None: lifetime.
    pub end: Option<NaiveDate>,
}

/// Pairs of memberships (by id, lower first) of one contact, of one type, whose dates overlap:
/// one person paying twice, or a renewal the CRM recorded as a new membership. `terms` must be
/// sorted by contact.
pub fn overlapping(terms: &[Term]) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    for contact in terms.chunk_by(|a, b| a.contact_id == b.contact_id) {
        for (i, a) in contact.iter().enumerate() {
            for b in &contact[i + 1..] {
                if a.membership_type == b.membership_type && dates_overlap(a, b) {
                    let (x, y) = (a.membership_id, b.membership_id);
                    out.push((x.min(y), x.max(y)));
                }
            }
        }
    }
    out.sort_unstable();
    out
}

fn dates_overlap(a: &Term, b: &Term) -> bool {
    let (Some(a_start), Some(b_start)) = (a.start, b.start) else {
        return false;
    };
    let before_end = |start: NaiveDate, end: Option<NaiveDate>| end.is_none_or(|e| start <= e);
    before_end(a_start, b.end) && before_end(b_start, a.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(id: i64, name: &str, email: &str, phone: &str, address: &str) -> Candidate {
        Candidate {
            id,
            email: email.into(),
            phone: phone.into(),
            name: name.into(),
            postcode: address.rsplit(' ').next().unwrap_or("").into(),
            address: address.into(),
        }
    }

    #[test]
    fn one_letter_off_is_one_edit() {
        assert!(one_letter_off("sianjones", "sionjones"));
        assert!(one_letter_off("sianjones", "sianjone"));
        assert!(one_letter_off("sianjones", "sianjoness"));
        assert!(!one_letter_off("sianjones", "sianjones"));
        assert!(!one_letter_off("sianjones", "seanjonas"));
        assert!(!one_letter_off("ab", "ba"));
        assert!(!one_letter_off("", "a"));
    }

    #[test]
    fn pairs_carry_every_reason_and_rank_by_confidence() {
        let people = [
            candidate(
                1,
                "sianjones",
                "sian@example.org",
                "07700900001",
                "1 heol cf101aa",
            ),
            candidate(2, "sianjones", "sian@example.org", "", "1 heol cf101aa"),
            candidate(3, "sionjones", "", "", "1 heol cf101aa"),
            candidate(4, "bobsmith", "", "07700900001", "9 lane m11ae"),
        ];
        let found = pairs(&people);
        let summary: Vec<(i64, i64, Vec<Reason>)> = found
            .iter()
            .map(|p| (p.first, p.second, p.reasons.clone()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (1, 2, vec![Reason::SameEmail, Reason::SameNameAndPostcode]),
                (1, 3, vec![Reason::NameOneLetterOffAtSameAddress]),
                (2, 3, vec![Reason::NameOneLetterOffAtSameAddress]),
                (1, 4, vec![Reason::SamePhone]),
            ]
        );
        assert_eq!(found[0].confidence, 0.98);
        assert_eq!(found[1].confidence, 0.7);
        assert_eq!(found[3].confidence, 0.5);
    }

    #[test]
    fn a_key_many_share_gives_no_pairs() {
        let office: Vec<Candidate> = (0..=MAX_SHARED as i64)
            .map(|i| candidate(i, &format!("person{i}"), "office@example.org", "", ""))
            .collect();
        assert!(pairs(&office).is_empty());
    }

    #[test]
    fn memberships_of_one_type_overlap_when_their_dates_do() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let term = |id, contact, kind: &str, start, end| Term {
            membership_id: id,
            contact_id: contact,
            membership_type: kind.into(),
            start: day(start),
            end: day(end),
        };
        let terms = [
            term(1, 7, "Individual", "2026-01-01", "2026-12-31"),
            term(2, 7, "Individual", "2026-06-01", "2027-05-31"),
            term(3, 7, "Youth", "2026-06-01", "2027-05-31"),
            term(4, 7, "Individual", "2027-06-01", "2028-05-31"),
            term(5, 8, "Individual", "2026-06-01", ""),
            term(6, 8, "Individual", "2030-01-01", "2030-12-31"),
        ];
        assert_eq!(overlapping(&terms), vec![(1, 2), (5, 6)]);
    }
}
