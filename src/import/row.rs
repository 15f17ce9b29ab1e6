//! One CSV record → one normalised row (a contact and perhaps a membership), or a rejection that
//! says which column was wrong and how, never what the cell held.
//!
//! A parsed row keeps all its text in one buffer (one allocation per row: this runs 550,000 times
//! per import) and carries the hashes of its CRM-owned fields, so the writer can tell "unchanged"
//! without reading the database.

use csv::ByteRecord;

use super::dates::{DateProblem, DateReader};
use super::hash::StableHasher;
use super::profile::{ColumnMap, Field};
use crate::domain::MemberStatus;

/// The text slots of a parsed row, in buffer order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    CrmId,
    ContactType,
    DisplayName,
    SortName,
    FirstName,
    LastName,
    OrganizationName,
    Email,
    Phone,
    StreetAddress,
    City,
    Postcode,
    County,
    Country,
    PreferredLanguage,
    DeceasedDate,
    LocalParty,
    Region,
    Constituency,
    // Membership slots from here.
    SyncKey,
    MembershipId,
    MembershipType,
    JoinDate,
    StartDate,
    EndDate,
    Status,
    MembershipSource,
}

const SLOTS: usize = Slot::MembershipSource as usize + 1;
const FIRST_MEMBERSHIP_SLOT: usize = Slot::SyncKey as usize;

/// Contact flags, in `ParsedRow::flags`.
pub mod flag {
    pub const DO_NOT_EMAIL: u16 = 1;
    pub const DO_NOT_PHONE: u16 = 1 << 1;
    pub const DO_NOT_MAIL: u16 = 1 << 2;
    pub const DO_NOT_SMS: u16 = 1 << 3;
    pub const NO_BULK_EMAIL: u16 = 1 << 4;
    pub const ON_HOLD: u16 = 1 << 5;
    pub const DECEASED: u16 = 1 << 6;
    pub const CONTACT_FLAGS: u16 = (1 << 7) - 1;
    pub const AUTO_RENEW: u16 = 1 << 7;
    pub const HAS_MEMBERSHIP: u16 = 1 << 8;
}

/// A row ready to write.
#[derive(Debug, Clone)]
pub struct ParsedRow {
    /// The line where the record starts.
    pub line: u64,
    text: String,
    ends: [u32; SLOTS],
    pub flags: u16,
    pub contact_hash: i64,
    pub membership_hash: i64,
}

impl ParsedRow {
    pub fn get(&self, slot: Slot) -> &str {
        let i = slot as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }

    /// The slot's text, or None when empty (NULL in the database).
    pub fn opt(&self, slot: Slot) -> Option<&str> {
        Some(self.get(slot)).filter(|s| !s.is_empty())
    }

    pub fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }

    pub fn has_membership(&self) -> bool {
        self.has(flag::HAS_MEMBERSHIP)
    }
}

/// A row that cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub line: u64,
    pub reason: String,
    /// The contact and membership the row was about, when they could be read: a rejected row
    /// still shows that its membership is in the export (so it is not flagged missing).
    pub crm_id: Option<String>,
    pub sync_key: Option<String>,
}

#[derive(Debug)]
pub enum RowOutcome {
    Row(ParsedRow),
    Rejected(Rejection),
    /// The header line again, mid-file (files glued together): skipped.
    RepeatedHeader,
    /// The file's dates turned out month-first after ambiguous ones were read day-first.
    RestartMonthFirst,
}

/// Turns records into rows for one file.
pub struct RowParser {
    map: ColumnMap,
    pub dates: DateReader,
    header: ByteRecord,
}

struct Builder {
    text: String,
    ends: [u32; SLOTS],
    next: usize,
}

impl Builder {
    fn push(&mut self, slot: Slot, value: &str) {
        debug_assert_eq!(slot as usize, self.next, "slots are pushed in order");
        if value.contains('\r') {
            // Line breaks inside values (addresses) are stored as \n, whatever the file used.
            self.text
                .push_str(&value.replace("\r\n", "\n").replace('\r', "\n"));
        } else {
            self.text.push_str(value);
        }
        self.ends[self.next] = self.text.len() as u32;
        self.next += 1;
    }

    fn get(&self, slot: Slot) -> &str {
        let i = slot as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }
}

/// What went wrong in a cell: the column's header and the problem.
struct CellProblem {
    header: String,
    problem: String,
}

impl RowParser {
    pub fn new(map: ColumnMap, dates: DateReader, header: ByteRecord) -> RowParser {
        RowParser { map, dates, header }
    }

    pub fn map(&self) -> &ColumnMap {
        &self.map
    }

    pub fn parse(&mut self, record: &ByteRecord) -> RowOutcome {
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != self.map.header_count() {
            let reason = format!(
                "{} fields where the header has {} (a stray delimiter, or a quote that is never \
                 closed?)",
                record.len(),
                self.map.header_count()
            );
            return RowOutcome::Rejected(Rejection {
                line,
                reason,
                crm_id: None,
                sync_key: None,
            });
        }
        if self.is_header(record) {
            return RowOutcome::RepeatedHeader;
        }
        let ids = match self.identity(record) {
            Ok(ids) => ids,
            Err(p) => return reject(line, p, None, None),
        };
        match self.build(record, line, &ids) {
            Ok(row) => RowOutcome::Row(row),
            Err(Built::Restart) => RowOutcome::RestartMonthFirst,
            Err(Built::Problem(p)) => reject(line, p, Some(ids.crm_id), ids.sync_key),
        }
    }

    fn is_header(&self, record: &ByteRecord) -> bool {
        let strip = |f: &[u8]| f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f).to_vec();
        record.len() == self.header.len()
            && record
                .iter()
                .zip(self.header.iter())
                .all(|(a, b)| strip(a) == strip(b))
    }

    fn identity(&self, record: &ByteRecord) -> Result<Identity, CellProblem> {
        let crm_id = text(&self.map, record, Field::ContactId)?;
        if crm_id.is_empty() {
            return Err(CellProblem {
                header: self.map.field_header(Field::ContactId).to_owned(),
                problem: "empty (every row needs the CRM's contact id)".into(),
            });
        }
        let membership_id = text(&self.map, record, Field::MembershipId)?;
        let membership_type = text(&self.map, record, Field::MembershipType)?;
        let sync_key = if !membership_id.is_empty() {
            Some(format!("id:{membership_id}"))
        } else if !membership_type.is_empty() {
            Some(format!("ct:{crm_id}:{membership_type}"))
        } else {
            None
        };
        Ok(Identity {
            crm_id: crm_id.to_owned(),
            sync_key,
        })
    }

    fn date(&mut self, record: &ByteRecord, field: Field) -> Result<String, Built> {
        let value = text(&self.map, record, field).map_err(Built::Problem)?;
        match self.dates.read(value) {
            Ok(Some(d)) => Ok(d.format("%Y-%m-%d").to_string()),
            Ok(None) => Ok(String::new()),
            Err(DateProblem::RestartMonthFirst) => Err(Built::Restart),
            Err(DateProblem::NotADate) => Err(Built::Problem(CellProblem {
                header: self.map.field_header(field).to_owned(),
                problem: format!("not a date ({})", self.dates.expected()),
            })),
        }
    }

    fn flag(&self, record: &ByteRecord, field: Field) -> Result<Option<bool>, CellProblem> {
        Ok(flag_value(text(&self.map, record, field)?))
    }

    fn build(
        &mut self,
        record: &ByteRecord,
        line: u64,
        ids: &Identity,
    ) -> Result<ParsedRow, Built> {
        let deceased_date = self.date(record, Field::DeceasedDate)?;
        let map = &self.map;
        let t = |field| text(map, record, field).map_err(Built::Problem);
        let first = t(Field::FirstName)?;
        let last = t(Field::LastName)?;
        let organisation = t(Field::OrganizationName)?;
        let contact_type = contact_type(t(Field::ContactType)?, first, last, organisation);
        let display = match t(Field::DisplayName)? {
            "" => display_name(contact_type, first, last, organisation),
            given => given.to_owned(),
        };
        let sort = match t(Field::SortName)? {
            "" => sort_name(contact_type, first, last, organisation),
            given => given.to_owned(),
        };
        let street = address_lines(&[
            t(Field::StreetAddress)?,
            t(Field::SupplementalAddress1)?,
            t(Field::SupplementalAddress2)?,
            t(Field::SupplementalAddress3)?,
        ]);

        let mut b = Builder {
            text: String::with_capacity(256),
            ends: [0; SLOTS],
            next: 0,
        };
        b.push(Slot::CrmId, &ids.crm_id);
        b.push(Slot::ContactType, contact_type);
        b.push(Slot::DisplayName, &display);
        b.push(Slot::SortName, &sort);
        b.push(Slot::FirstName, first);
        b.push(Slot::LastName, last);
        b.push(Slot::OrganizationName, organisation);
        b.push(Slot::Email, t(Field::Email)?);
        b.push(Slot::Phone, t(Field::Phone)?);
        b.push(Slot::StreetAddress, &street);
        for (slot, field) in [
            (Slot::City, Field::City),
            (Slot::Postcode, Field::Postcode),
            (Slot::County, Field::County),
            (Slot::Country, Field::Country),
            (Slot::PreferredLanguage, Field::PreferredLanguage),
        ] {
            b.push(slot, t(field)?);
        }
        b.push(Slot::DeceasedDate, &deceased_date);
        for (slot, field) in [
            (Slot::LocalParty, Field::LocalParty),
            (Slot::Region, Field::Region),
            (Slot::Constituency, Field::Constituency),
        ] {
            b.push(slot, t(field)?);
        }
        let mut flags = self.contact_flags(record).map_err(Built::Problem)?;
        if !deceased_date.is_empty() {
            flags |= flag::DECEASED;
        }
        self.push_membership(&mut b, record, ids, &mut flags)?;

        let contact_hash = hash_slots(&b, 0..FIRST_MEMBERSHIP_SLOT, flags & flag::CONTACT_FLAGS);
        let membership_hash = if flags & flag::HAS_MEMBERSHIP != 0 {
            let mut h = StableHasher::default();
            h.field(b.get(Slot::CrmId).as_bytes());
            for i in FIRST_MEMBERSHIP_SLOT + 1..SLOTS {
                h.field(slot_text(&b, i).as_bytes());
            }
            h.field(&[u8::from(flags & flag::AUTO_RENEW != 0)]);
            h.value_i64()
        } else {
            0
        };
        Ok(ParsedRow {
            line,
            text: b.text,
            ends: b.ends,
            flags,
            contact_hash,
            membership_hash,
        })
    }

    fn contact_flags(&self, record: &ByteRecord) -> Result<u16, CellProblem> {
        let mut flags = 0;
        for (field, bit) in [
            (Field::DoNotEmail, flag::DO_NOT_EMAIL),
            (Field::DoNotPhone, flag::DO_NOT_PHONE),
            (Field::DoNotMail, flag::DO_NOT_MAIL),
            (Field::DoNotSms, flag::DO_NOT_SMS),
            (Field::NoBulkEmail, flag::NO_BULK_EMAIL),
            (Field::OnHold, flag::ON_HOLD),
            (Field::IsDeceased, flag::DECEASED),
        ] {
            if self.flag(record, field)? == Some(true) {
                flags |= bit;
            }
        }
        if self.flag(record, Field::EmailOptIn)? == Some(false) {
            flags |= flag::NO_BULK_EMAIL;
        }
        if self.flag(record, Field::DoNotContact)? == Some(true) {
            flags |= flag::DO_NOT_EMAIL | flag::DO_NOT_PHONE | flag::DO_NOT_MAIL | flag::DO_NOT_SMS;
        }
        Ok(flags)
    }

    fn push_membership(
        &mut self,
        b: &mut Builder,
        record: &ByteRecord,
        ids: &Identity,
        flags: &mut u16,
    ) -> Result<(), Built> {
        let join = self.date(record, Field::JoinDate)?;
        let start = self.date(record, Field::StartDate)?;
        let end = self.date(record, Field::EndDate)?;
        let map = &self.map;
        let t = |field| text(map, record, field).map_err(Built::Problem);
        let status = t(Field::MembershipStatus)?;
        let source = t(Field::MembershipSource)?;
        let auto_renew = flag_value(t(Field::AutoRenew)?) == Some(true)
            || flag_value(t(Field::RecurringContribution)?) == Some(true);
        match &ids.sync_key {
            Some(key) => {
                *flags |= flag::HAS_MEMBERSHIP;
                if auto_renew {
                    *flags |= flag::AUTO_RENEW;
                }
                b.push(Slot::SyncKey, key);
            }
            None if [&join, &start, &end].iter().any(|d| !d.is_empty()) || !status.is_empty() => {
                return Err(Built::Problem(CellProblem {
                    header: map.field_header(Field::MembershipType).to_owned(),
                    problem: format!(
                        "empty, and no {} either: cannot tell which membership this row is",
                        map.field_header(Field::MembershipId)
                    ),
                }));
            }
            None => b.push(Slot::SyncKey, ""),
        }
        let has = *flags & flag::HAS_MEMBERSHIP != 0;
        let keep = |s: &str| if has { s.to_owned() } else { String::new() };
        b.push(Slot::MembershipId, &keep(t(Field::MembershipId)?));
        b.push(Slot::MembershipType, &keep(t(Field::MembershipType)?));
        b.push(Slot::JoinDate, &keep(&join));
        b.push(Slot::StartDate, &keep(&start));
        b.push(Slot::EndDate, &keep(&end));
        let status = match MemberStatus::parse(status) {
            Some(known) => known.label(),
            None => status,
        };
        b.push(Slot::Status, &keep(status));
        b.push(Slot::MembershipSource, &keep(source));
        Ok(())
    }
}

/// The first non-empty value among the field's columns, trimmed.
fn text<'r>(map: &ColumnMap, record: &'r ByteRecord, field: Field) -> Result<&'r str, CellProblem> {
    for &column in map.columns(field) {
        let raw = record.get(column).unwrap_or_default();
        let value = std::str::from_utf8(raw).map_err(|_| CellProblem {
            header: map.header(column).to_owned(),
            problem: "not valid text in the file's encoding".into(),
        })?;
        let value = value.trim();
        if !value.is_empty() {
            return Ok(value);
        }
    }
    Ok("")
}

struct Identity {
    crm_id: String,
    sync_key: Option<String>,
}

enum Built {
    Problem(CellProblem),
    Restart,
}

fn reject(
    line: u64,
    p: CellProblem,
    crm_id: Option<String>,
    sync_key: Option<String>,
) -> RowOutcome {
    RowOutcome::Rejected(Rejection {
        line,
        reason: format!("{}: {}", p.header.trim_start_matches('\u{feff}'), p.problem),
        crm_id,
        sync_key,
    })
}

fn slot_text(b: &Builder, i: usize) -> &str {
    let start = if i == 0 { 0 } else { b.ends[i - 1] as usize };
    &b.text[start..b.ends[i] as usize]
}

fn hash_slots(b: &Builder, slots: std::ops::Range<usize>, flags: u16) -> i64 {
    let mut h = StableHasher::default();
    for i in slots {
        h.field(slot_text(b, i).as_bytes());
    }
    h.field(&flags.to_le_bytes());
    h.value_i64()
}

/// Yes/no cells: empty is unknown; `0`, `no`, `n`, `false`, `f`, `off` are no; anything else
/// (`1`, `Yes`, `x`, CiviCRM's `On Hold bounce`) is yes — a preference not to be contacted is
/// never dropped because of how it was spelled.
pub fn flag_value(cell: &str) -> Option<bool> {
    let cell = cell.trim();
    if cell.is_empty() {
        return None;
    }
    let no = ["0", "no", "n", "false", "f", "off"];
    Some(!no.iter().any(|n| cell.eq_ignore_ascii_case(n)))
}

fn contact_type(given: &str, first: &str, last: &str, organisation: &str) -> &'static str {
    match given.to_ascii_lowercase().as_str() {
        "organization" | "organisation" => "Organization",
        "household" => "Household",
        "individual" | "person" => "Individual",
        _ if first.is_empty() && last.is_empty() && !organisation.is_empty() => "Organization",
        _ => "Individual",
    }
}

fn display_name(contact_type: &str, first: &str, last: &str, organisation: &str) -> String {
    if contact_type == "Organization" || (first.is_empty() && last.is_empty()) {
        return organisation.to_owned();
    }
    format!("{first} {last}").trim().to_owned()
}

fn sort_name(contact_type: &str, first: &str, last: &str, organisation: &str) -> String {
    if contact_type == "Organization" || (first.is_empty() && last.is_empty()) {
        return organisation.to_owned();
    }
    match (first.is_empty(), last.is_empty()) {
        (false, false) => format!("{last}, {first}"),
        (true, _) => last.to_owned(),
        (_, true) => first.to_owned(),
    }
}

fn address_lines(lines: &[&str]) -> String {
    let mut out = String::new();
    for line in lines.iter().filter(|l| !l.is_empty()) {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::profile::Profile;

    fn parser(headers: &[&str]) -> RowParser {
        let h: Vec<String> = headers.iter().map(|s| s.to_string()).collect();
        let (_, map, _) = Profile::choose("auto", &h).unwrap();
        RowParser::new(
            map,
            DateReader::new(None),
            ByteRecord::from(headers.to_vec()),
        )
    }

    fn record(fields: &[&str], line: u64) -> ByteRecord {
        let mut r = ByteRecord::from(fields.to_vec());
        let mut pos = csv::Position::new();
        pos.set_line(line);
        r.set_position(Some(pos));
        r
    }

    const HEADERS: [&str; 9] = [
        "Contact ID",
        "First Name",
        "Last Name",
        "Do Not Phone",
        "Street Address",
        "Membership ID",
        "Membership Type",
        "Membership Expiration Date",
        "Membership Status",
    ];

    #[test]
    fn a_good_row() {
        let mut p = parser(&HEADERS);
        let rec = record(
            &[
                "17",
                " Siân ",
                "Jones",
                "1",
                "Flat 2\r\n1 Heol y Frenhines",
                "88",
                "Individual",
                "15/06/2026",
                "current",
            ],
            5,
        );
        let RowOutcome::Row(row) = p.parse(&rec) else {
            panic!("rejected")
        };
        assert_eq!(row.line, 5);
        assert_eq!(row.get(Slot::CrmId), "17");
        assert_eq!(row.get(Slot::DisplayName), "Siân Jones");
        assert_eq!(row.get(Slot::SortName), "Jones, Siân");
        assert_eq!(row.get(Slot::StreetAddress), "Flat 2\n1 Heol y Frenhines");
        assert_eq!(row.get(Slot::SyncKey), "id:88");
        assert_eq!(row.get(Slot::EndDate), "2026-06-15");
        assert_eq!(row.get(Slot::Status), "Current");
        assert_eq!(row.opt(Slot::JoinDate), None);
        assert!(row.has(flag::DO_NOT_PHONE));
        assert!(!row.has(flag::DO_NOT_EMAIL));
        assert!(row.has_membership());
    }

    #[test]
    fn hashes_follow_the_data_not_its_spelling() {
        let mut p = parser(&HEADERS);
        let a = record(
            &[
                "17",
                "Siân",
                "Jones",
                "0",
                "",
                "88",
                "Individual",
                "2026-06-15",
                "Current",
            ],
            2,
        );
        let b = record(
            &[
                "17",
                "Siân ",
                "Jones",
                "No",
                "",
                "88",
                "Individual",
                "15/06/2026",
                "current",
            ],
            9,
        );
        let c = record(
            &[
                "17",
                "Siân",
                "Jones",
                "0",
                "",
                "88",
                "Individual",
                "2027-06-15",
                "Current",
            ],
            9,
        );
        let (RowOutcome::Row(a), RowOutcome::Row(b), RowOutcome::Row(c)) =
            (p.parse(&a), p.parse(&b), p.parse(&c))
        else {
            panic!("rejected")
        };
        assert_eq!(a.contact_hash, b.contact_hash);
        assert_eq!(a.membership_hash, b.membership_hash);
        assert_eq!(a.contact_hash, c.contact_hash);
        assert_ne!(a.membership_hash, c.membership_hash);
    }

    #[test]
    fn rejections_name_the_column_not_the_value() {
        let mut p = parser(&HEADERS);
        let bad_date = record(
            &[
                "17",
                "Siân",
                "Jones",
                "",
                "",
                "88",
                "Individual",
                "31/02/2026",
                "",
            ],
            12,
        );
        let RowOutcome::Rejected(r) = p.parse(&bad_date) else {
            panic!("accepted")
        };
        assert_eq!(r.line, 12);
        assert_eq!(
            r.reason,
            "Membership Expiration Date: not a date (expected YYYY-MM-DD or dd/mm/yyyy)"
        );
        assert_eq!(r.sync_key.as_deref(), Some("id:88"));
        let no_id = record(
            &["", "Siân", "Jones", "", "", "88", "Individual", "", ""],
            13,
        );
        let RowOutcome::Rejected(r) = p.parse(&no_id) else {
            panic!("accepted")
        };
        assert_eq!(
            r.reason,
            "Contact ID: empty (every row needs the CRM's contact id)"
        );
        assert!(!r.reason.contains("Siân"));
        let short = record(&["17", "Siân"], 14);
        let RowOutcome::Rejected(r) = p.parse(&short) else {
            panic!("accepted")
        };
        assert!(
            r.reason.starts_with("2 fields where the header has 9"),
            "{}",
            r.reason
        );
    }

    #[test]
    fn membership_without_identity_is_rejected_but_contact_only_rows_are_fine() {
        let mut p = parser(&HEADERS);
        let dated = record(&["17", "A", "B", "", "", "", "", "2026-06-15", ""], 3);
        let RowOutcome::Rejected(r) = p.parse(&dated) else {
            panic!("accepted")
        };
        assert!(
            r.reason
                .starts_with("Membership Type: empty, and no Membership ID"),
            "{}",
            r.reason
        );
        let bare = record(&["17", "A", "B", "", "", "", "", "", ""], 4);
        let RowOutcome::Row(row) = p.parse(&bare) else {
            panic!("rejected")
        };
        assert!(!row.has_membership());
        assert_eq!(row.membership_hash, 0);
    }

    #[test]
    fn type_keyed_memberships_and_organisations() {
        let mut p = parser(&[
            "Contact ID",
            "Organization Name",
            "Membership Type",
            "Membership Recurring Contribution",
        ]);
        let RowOutcome::Row(row) = p.parse(&record(&["5", "Tŷ Gwyrdd Co-op", "Society", "12"], 2))
        else {
            panic!("rejected")
        };
        assert_eq!(row.get(Slot::SyncKey), "ct:5:Society");
        assert_eq!(row.get(Slot::ContactType), "Organization");
        assert_eq!(row.get(Slot::DisplayName), "Tŷ Gwyrdd Co-op");
        assert!(row.has(flag::AUTO_RENEW));
    }

    #[test]
    fn repeated_header_is_skipped() {
        let mut p = parser(&HEADERS);
        assert!(matches!(
            p.parse(&record(&HEADERS, 40)),
            RowOutcome::RepeatedHeader
        ));
    }

    #[test]
    fn flag_spellings() {
        for yes in ["1", "Yes", "y", "TRUE", "x", "On Hold bounce"] {
            assert_eq!(flag_value(yes), Some(true), "{yes}");
        }
        for no in ["0", "No", "n", "false", "F", "off"] {
            assert_eq!(flag_value(no), Some(false), "{no}");
        }
        assert_eq!(flag_value("  "), None);
    }
}
