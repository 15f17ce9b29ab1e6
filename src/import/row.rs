//! One CSV record → one normalised row (a contact and perhaps a membership), or a rejection that
//! says which column was wrong and how, never what the cell held.
//!
//! A parsed row keeps all its text in one buffer (one allocation per row: this runs 550,000 times
//! per import) and carries the hashes of its CRM-owned fields, so the writer can tell "unchanged"
//! without reading the database.

use std::collections::HashMap;
use std::hash::Hasher;

use chrono::{Datelike, NaiveDate};
use csv::StringRecord;

use super::dates::{DateProblem, DateReader};
use super::hash::StableHasher;
use super::profile::{ColumnMap, Field, normalise_into, value_key};
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
    /// The contact's CRM tags, sorted, without repeats, joined by `,` (after the membership
    /// slots so that rows without tags hash as they always did).
    Tags,
}

/// The words of a rejection for a row with more or fewer fields than the header (the report
/// looks for them: such rows hint that the header line is not clean).
pub const RAGGED: &str = "fields where the header has";

/// The most bytes one cell may hold. The longest CRM field (an address of several lines, a
/// name) is a few hundred bytes; a bigger cell is a file pasted into a spreadsheet cell or a
/// quote left open, and is rejected with its row rather than stored for every screen to choke
/// on. Documented in docs/import.md.
pub const MAX_CELL_BYTES: usize = 64 * 1024;

const SLOTS: usize = Slot::Tags as usize + 1;
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
    /// The file has no contact details (a memberships export): leave the contact's as they are.
    pub const MEMBERSHIP_ONLY: u16 = 1 << 9;
    /// A membership known only by its type (NationBuilder's `membership_names`): no dates, no
    /// status. Stored with a "dates unknown" marker; never overwrites a membership with dates.
    pub const DATES_UNKNOWN: u16 = 1 << 10;
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
        self.text_at(slot as usize)
    }

    /// The text of the slot at buffer position `i` (a [`Slot`]'s discriminant).
    fn text_at(&self, i: usize) -> &str {
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

    /// The contact's CRM tags (none when the file has no tag column or the cell is empty).
    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.get(Slot::Tags).split(',').filter(|t| !t.is_empty())
    }

    /// The text slots a contact row holds before its flags, in the `contacts` table's column
    /// order (`crm_id` … `preferred_language`): what both engines' writers bind or copy first.
    pub const CONTACT_LEADING_TEXT: [Slot; 15] = [
        Slot::CrmId,
        Slot::ContactType,
        Slot::DisplayName,
        Slot::SortName,
        Slot::FirstName,
        Slot::LastName,
        Slot::OrganizationName,
        Slot::Email,
        Slot::Phone,
        Slot::StreetAddress,
        Slot::City,
        Slot::Postcode,
        Slot::County,
        Slot::Country,
        Slot::PreferredLanguage,
    ];

    /// The contact's text slots (all but the CRM id), for comparing with what the store holds:
    /// the leading ones after the CRM id, then the three after the flags.
    pub const CONTACT_TEXT: [Slot; 17] = {
        let after_flags = [Slot::LocalParty, Slot::Region, Slot::Constituency];
        let mut all = [Slot::CrmId; 17];
        let mut i = 0;
        while i < 14 {
            all[i] = ParsedRow::CONTACT_LEADING_TEXT[i + 1];
            i += 1;
        }
        while i < 17 {
            all[i] = after_flags[i - 14];
            i += 1;
        }
        all
    };

    /// This row with some slots' text replaced (the contact hash follows).
    pub fn with_text(&self, replaced: &[(Slot, String)]) -> ParsedRow {
        let mut text = String::with_capacity(self.text.len());
        let mut ends = [0u32; SLOTS];
        for (i, end) in ends.iter_mut().enumerate() {
            let value = replaced
                .iter()
                .find(|(slot, _)| *slot as usize == i)
                .map_or(self.text_at(i), |(_, v)| v.as_str());
            text.push_str(value);
            *end = text.len() as u32;
        }
        ParsedRow {
            line: self.line,
            contact_hash: hash_contact(&text, &ends, self.flags & flag::CONTACT_FLAGS),
            text,
            ends,
            flags: self.flags,
            membership_hash: self.membership_hash,
        }
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

impl Rejection {
    /// A record that could not be read at all.
    pub fn unreadable(line: u64, reason: impl Into<String>) -> Rejection {
        Rejection {
            line,
            reason: reason.into(),
            crm_id: None,
            sync_key: None,
        }
    }
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

impl ParsedRow {
    /// The row's text buffer, for reuse by the next row.
    pub fn into_buffer(self) -> String {
        self.text
    }
}

/// Turns records into rows for one file.
pub struct RowParser {
    map: ColumnMap,
    /// The columns of each field (indexed by `Field as usize`), looked up once, not per row.
    columns: Vec<Vec<usize>>,
    /// A mapping file's value map of each field (indexed the same way).
    value_maps: Vec<Option<HashMap<String, String>>>,
    pub dates: DateReader,
    header: StringRecord,
    /// A cell normalised for comparing with header names, reused from row to row.
    scratch: String,
    /// The [`letter_mask`] of every header name, sorted: a cell whose mask is not here is not a
    /// header name, known without normalising it.
    header_masks: Vec<u64>,
    /// Every header name is ASCII (as in the built-in profiles): a cell holding a letter that
    /// stays non-ASCII when lowercased (`â`, `ł`) cannot be one.
    ascii_header_names: bool,
    /// While a `membership_names` row is parsed once per name: the name, read as the row's
    /// membership type.
    type_override: Option<String>,
}

/// Which characters (ASCII letters and digits, lowercased, and `'`) a text holds: the same for
/// an ASCII cell and its [`normalise`](super::profile::normalise)d form. None for other text.
fn letter_mask(text: &str) -> Option<u64> {
    // One table lookup per byte: this runs on a dozen or more cells of every row.
    let mask = text
        .bytes()
        .fold(0, |mask, b| mask | LETTER_BITS[b as usize]);
    (mask & NOT_ASCII == 0).then_some(mask)
}

const NOT_ASCII: u64 = 1 << 63;

/// Each byte's bit in a [`letter_mask`]: `a`–`z` (either case) bits 0–25, digits 26–35, `'` 36,
/// any byte of a non-ASCII character [`NOT_ASCII`], other ASCII none.
const LETTER_BITS: [u64; 256] = {
    let mut bits = [0u64; 256];
    let mut b = 0;
    while b < 256 {
        let c = (b as u8).to_ascii_lowercase();
        bits[b] = match c {
            b'a'..=b'z' => 1 << (c - b'a'),
            b'0'..=b'9' => 1 << (26 + c - b'0'),
            b'\'' => 1 << 36,
            _ if !c.is_ascii() => NOT_ASCII,
            _ => 0,
        };
        b += 1;
    }
    bits
};

/// Empty or only whitespace, as `str::trim` sees it, deciding most cells by their first byte.
/// (`trim_cell(cell).is_empty()` says the same, but measured 5% more instructions for the row
/// builder of a re-import: it looks at the last byte too, and the check stopped being inlined.)
fn is_blank(cell: &str) -> bool {
    match cell.as_bytes().first() {
        None => true,
        Some(&b) if is_plain(b) => false,
        Some(_) => cell.trim().is_empty(),
    }
}

/// `str::trim`, without its character-by-character search when the cell starts and ends with a
/// byte that is not whitespace, as almost every cell does (this runs on every field of every row).
fn trim_cell(cell: &str) -> &str {
    match cell.as_bytes() {
        [] => cell,
        [first, .., last] if is_plain(*first) && is_plain(*last) => cell,
        [only] if is_plain(*only) => cell,
        _ => cell.trim(),
    }
}

/// A letter or digit that its [`normalise`](super::profile::normalise)d form keeps non-ASCII.
fn has_non_ascii_letter(cell: &str) -> bool {
    cell.chars()
        .any(|c| !c.is_ascii() && c.is_alphanumeric() && !c.to_lowercase().all(|l| l.is_ascii()))
}

/// An ASCII byte that is not whitespace: never trimmed, never part of a wider character.
fn is_plain(b: u8) -> bool {
    b.is_ascii() && !(b == b' ' || (b'\t'..=b'\r').contains(&b))
}

/// Writes a row's slots, in order, into one buffer.
struct Builder {
    text: String,
    /// Whether the record holds a `\r` anywhere: one search per row rather than one per value.
    has_carriage_return: bool,
    ends: [u32; SLOTS],
    next: usize,
}

impl Builder {
    fn append(&mut self, value: &str) {
        if self.has_carriage_return && value.contains('\r') {
            // Line breaks inside values (addresses) are stored as \n, whatever the file used.
            self.text
                .push_str(&value.replace("\r\n", "\n").replace('\r', "\n"));
        } else {
            self.text.push_str(value);
        }
    }

    fn close(&mut self, slot: Slot) {
        debug_assert_eq!(slot as usize, self.next, "slots are pushed in order");
        self.ends[self.next] = self.text.len() as u32;
        self.next += 1;
    }

    fn push(&mut self, slot: Slot, value: &str) {
        self.append(value);
        self.close(slot);
    }

    /// The non-empty parts, joined by `separator`.
    fn push_joined(&mut self, slot: Slot, parts: &[&str], separator: &str) {
        let mut first = true;
        for part in parts.iter().filter(|p| !p.is_empty()) {
            if !first {
                self.text.push_str(separator);
            }
            self.append(part);
            first = false;
        }
        self.close(slot);
    }

    fn push_date(&mut self, slot: Slot, date: Option<NaiveDate>) {
        if let Some(d) = date {
            push_iso_date(&mut self.text, d);
        }
        self.close(slot);
    }

    fn get(&self, slot: Slot) -> &str {
        let i = slot as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }
}

/// `YYYY-MM-DD` without going through a formatter (this runs millions of times).
fn push_iso_date(out: &mut String, d: NaiveDate) {
    let y = d.year();
    if !(0..=9999).contains(&y) {
        out.push_str(&d.format("%Y-%m-%d").to_string());
        return;
    }
    let digits = [
        y / 1000,
        y / 100 % 10,
        y / 10 % 10,
        y % 10,
        -1,
        d.month() as i32 / 10,
        d.month() as i32 % 10,
        -1,
        d.day() as i32 / 10,
        d.day() as i32 % 10,
    ];
    for digit in digits {
        out.push(if digit < 0 {
            '-'
        } else {
            char::from(b'0' + digit as u8)
        });
    }
}

/// What went wrong in a cell: the column's header and the problem.
struct CellProblem {
    header: String,
    problem: String,
}

enum Built {
    Problem(CellProblem),
    Restart,
}

impl RowParser {
    pub fn new(map: ColumnMap, dates: DateReader, header: StringRecord) -> RowParser {
        let columns = Field::ALL
            .iter()
            .map(|f| map.columns(*f).to_vec())
            .collect();
        let value_maps = Field::ALL
            .iter()
            .map(|f| map.value_map(*f).cloned())
            .collect();
        let mut header_masks: Vec<u64> = map.header_names().filter_map(letter_mask).collect();
        header_masks.sort_unstable();
        header_masks.dedup();
        let ascii_header_names = map.header_names().all(|name| name.is_ascii());
        RowParser {
            map,
            columns,
            value_maps,
            dates,
            header,
            scratch: String::new(),
            header_masks,
            ascii_header_names,
            type_override: None,
        }
    }

    /// The names in the record's `membership_names` cell (split on commas, trimmed, empty ones
    /// and repeats dropped), when the row gives no membership type or id of its own; else none.
    /// Each is parsed as its own row with [`RowParser::parse_as_named`].
    pub fn membership_names(&self, record: &StringRecord) -> Vec<String> {
        if self.columns[Field::MembershipNames as usize].is_empty()
            || !self.text(record, Field::MembershipType).is_empty()
            || !self.text(record, Field::MembershipId).is_empty()
        {
            return Vec::new();
        }
        let mut names: Vec<String> = Vec::new();
        for name in self.text(record, Field::MembershipNames).split(',') {
            let name = name.trim();
            if !name.is_empty() && !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
        names
    }

    /// [`RowParser::parse`] with `name` as the membership type, marked dates unknown.
    pub fn parse_as_named(
        &mut self,
        record: &StringRecord,
        line: u64,
        buffer: String,
        name: String,
    ) -> RowOutcome {
        self.type_override = Some(name);
        let outcome = self.parse(record, line, buffer);
        self.type_override = None;
        outcome
    }

    pub fn map(&self) -> &ColumnMap {
        &self.map
    }

    /// Parses one record, which starts on `line`. `buffer` (empty, perhaps with capacity from an earlier row) becomes the
    /// row's text.
    pub fn parse(&mut self, record: &StringRecord, line: u64, buffer: String) -> RowOutcome {
        if record.len() != self.map.header_count() {
            let reason = format!(
                "{} {RAGGED} {} (a stray delimiter, or a quote that is never closed?)",
                record.len(),
                self.map.header_count()
            );
            return RowOutcome::Rejected(Rejection::unreadable(line, reason));
        }
        if self.is_header(record) {
            return RowOutcome::RepeatedHeader;
        }
        if self.is_header_variant(record) {
            let reason = "a header line repeated mid-file, but not the same as the first line (a \
                          renamed column or a stray quote: were two exports pasted together?)";
            return RowOutcome::Rejected(Rejection::unreadable(line, reason));
        }
        // The contact id is never value-mapped (a mapping file cannot give it a value map).
        let crm_id = raw_cell(&self.columns, record, Field::ContactId);
        if crm_id.is_empty() {
            let problem = CellProblem {
                header: self.map.field_header(Field::ContactId).to_owned(),
                problem: "empty (every row needs the CRM's contact id)".into(),
            };
            return reject(line, problem, None, None);
        }
        if self.is_header_cell(crm_id) {
            // What is left of a header line that ran into a row (its line break lost): fewer
            // column names than a whole header, but no CRM's id is a column name.
            let problem = CellProblem {
                header: self.map.field_header(Field::ContactId).to_owned(),
                problem: "a column name, not an id (part of a header line that ran into a row \
                          when its line break was lost?)"
                    .into(),
            };
            return reject(line, problem, None, None);
        }
        if let Some(outcome) = self.reject_oversized(record, line, crm_id) {
            return outcome;
        }
        match self.build(record, line, buffer) {
            Ok(row) => RowOutcome::Row(row),
            Err(Built::Restart) => RowOutcome::RestartMonthFirst,
            Err(Built::Problem(p)) => {
                let sync_key = self.sync_key(record).map(|parts| parts.concat());
                reject(line, p, Some(crm_id.to_owned()), sync_key)
            }
        }
    }

    /// Rejects a row with a cell over [`MAX_CELL_BYTES`], naming the column, never the value.
    /// The row's contact and membership still count as present in the export when they can
    /// be read.
    fn reject_oversized(
        &self,
        record: &StringRecord,
        line: u64,
        crm_id: &str,
    ) -> Option<RowOutcome> {
        // No cell can be too big in a record that is not.
        if record.as_slice().len() <= MAX_CELL_BYTES {
            return None;
        }
        let column = record.iter().position(|f| f.len() > MAX_CELL_BYTES)?;
        let problem = CellProblem {
            header: self.header.get(column).unwrap_or_default().to_owned(),
            problem: format!(
                "{} KiB, more than the {} KiB a cell may hold (a whole file pasted into a cell, \
                 or a quote left open?); the row was not imported",
                record[column].len().div_ceil(1024),
                MAX_CELL_BYTES / 1024
            ),
        };
        let small = |key: &String| key.len() <= MAX_CELL_BYTES;
        let crm_id = Some(crm_id.to_owned()).filter(small);
        let sync_key = self
            .sync_key(record)
            .map(|parts| parts.concat())
            .filter(small);
        Some(reject(line, problem, crm_id, sync_key))
    }

    fn is_header(&self, record: &StringRecord) -> bool {
        record.len() == self.header.len()
            && record.get(0).map(|f| f.trim_start_matches('\u{feff}'))
                == self.header.get(0).map(|f| f.trim_start_matches('\u{feff}'))
            && record
                .iter()
                .zip(self.header.iter())
                .skip(1)
                .all(|(a, b)| a == b)
    }

    /// A header line that differs from the file's own (another export's version pasted in):
    /// at least 60% of its non-empty cells, and at least two, are header names of the file or
    /// aliases of its fields. One cell that happens to be a column name (a member called
    /// `Email`) does not make a header.
    fn is_header_variant(&mut self, record: &StringRecord) -> bool {
        // Cells untrimmed: `is_header_cell` ignores the spaces around a name. This runs on every
        // row, and trimming each of ~100 cells twice was a fifth of the row-building thread.
        let cells = || record.iter().filter(|c| !is_blank(c));
        let non_empty = cells().count();
        let needed = (non_empty * 3).div_ceil(5).max(2);
        if non_empty < needed {
            return false;
        }
        let allowed_misses = non_empty - needed;
        let (mut matches, mut misses) = (0, 0);
        for cell in cells() {
            if self.is_header_cell(cell) {
                matches += 1;
                if matches == needed {
                    return true;
                }
            } else {
                misses += 1;
                // Stop as soon as the row cannot reach the share: a member's row does so
                // within its first few cells.
                if misses > allowed_misses {
                    return false;
                }
            }
        }
        false
    }

    fn is_header_cell(&mut self, cell: &str) -> bool {
        // This runs on the cells of every row, and almost every cell's characters rule it out.
        match letter_mask(cell) {
            Some(mask) if self.header_masks.binary_search(&mask).is_err() => return false,
            None if self.ascii_header_names && has_non_ascii_letter(cell) => return false,
            _ => {}
        }
        normalise_into(cell, &mut self.scratch);
        self.map.is_header_name(&self.scratch)
    }

    /// The first non-empty value among the field's columns, trimmed, through the mapping
    /// file's value map for the field.
    fn text<'a>(&'a self, record: &'a StringRecord, field: Field) -> &'a str {
        if field == Field::MembershipType
            && let Some(name) = &self.type_override
        {
            return name;
        }
        cell(&self.columns, &self.value_maps, record, field)
    }

    /// The membership's key as parts to concatenate: `id:<membership id>`, or
    /// `ct:<contact id>:<type>`; None when the row names no membership.
    fn sync_key<'a>(&'a self, record: &'a StringRecord) -> Option<[&'a str; 4]> {
        let membership_id = self.text(record, Field::MembershipId);
        if !membership_id.is_empty() {
            return Some(["id:", membership_id, "", ""]);
        }
        let membership_type = self.text(record, Field::MembershipType);
        if !membership_type.is_empty() {
            let crm_id = self.text(record, Field::ContactId);
            return Some(["ct:", crm_id, ":", membership_type]);
        }
        None
    }

    fn date(&mut self, record: &StringRecord, field: Field) -> Result<Option<NaiveDate>, Built> {
        let value = cell(&self.columns, &self.value_maps, record, field);
        match self.dates.read(value) {
            Ok(date) => Ok(date),
            Err(DateProblem::RestartMonthFirst) => Err(Built::Restart),
            Err(DateProblem::NotADate) => Err(Built::Problem(CellProblem {
                header: self.map.field_header(field).to_owned(),
                problem: format!("not a date ({})", self.dates.expected()),
            })),
        }
    }

    fn build(
        &mut self,
        record: &StringRecord,
        line: u64,
        mut buffer: String,
    ) -> Result<ParsedRow, Built> {
        let deceased_date = self.date(record, Field::DeceasedDate)?;
        let join = self.date(record, Field::JoinDate)?;
        let start = self.date(record, Field::StartDate)?;
        let end = self.date(record, Field::EndDate)?;
        let t = |field| self.text(record, field);
        let first = t(Field::FirstName);
        let last = t(Field::LastName);
        let organisation = t(Field::OrganizationName);
        let contact_type = contact_type(t(Field::ContactType), first, last, organisation);
        let named_by_organisation =
            contact_type == "Organization" || (first.is_empty() && last.is_empty());

        buffer.clear();
        let mut b = Builder {
            text: buffer,
            has_carriage_return: record.as_slice().contains('\r'),
            ends: [0; SLOTS],
            next: 0,
        };
        b.push(Slot::CrmId, t(Field::ContactId));
        b.push(Slot::ContactType, contact_type);
        match t(Field::DisplayName) {
            "" if named_by_organisation => b.push(Slot::DisplayName, organisation),
            "" => b.push_joined(Slot::DisplayName, &[first, last], " "),
            given => b.push(Slot::DisplayName, given),
        }
        match t(Field::SortName) {
            "" if named_by_organisation => b.push(Slot::SortName, organisation),
            "" => b.push_joined(Slot::SortName, &[last, first], ", "),
            given => b.push(Slot::SortName, given),
        }
        b.push(Slot::FirstName, first);
        b.push(Slot::LastName, last);
        b.push(Slot::OrganizationName, organisation);
        b.push(Slot::Email, t(Field::Email));
        // NationBuilder writes `'07700…` so that Excel keeps the leading zero.
        b.push(
            Slot::Phone,
            t(Field::Phone).trim_start_matches('\'').trim_start(),
        );
        let address = [
            t(Field::StreetAddress),
            t(Field::SupplementalAddress1),
            t(Field::SupplementalAddress2),
            t(Field::SupplementalAddress3),
        ];
        b.push_joined(Slot::StreetAddress, &address, "\n");
        b.push(Slot::City, t(Field::City));
        b.push(Slot::Postcode, t(Field::Postcode));
        b.push(Slot::County, t(Field::County));
        b.push(Slot::Country, t(Field::Country));
        b.push(Slot::PreferredLanguage, t(Field::PreferredLanguage));
        b.push_date(Slot::DeceasedDate, deceased_date);
        b.push(Slot::LocalParty, t(Field::LocalParty));
        b.push(Slot::Region, t(Field::Region));
        b.push(Slot::Constituency, t(Field::Constituency));
        let mut flags = self.contact_flags(record);
        if self.map.membership_only() {
            flags |= flag::MEMBERSHIP_ONLY;
        }
        if deceased_date.is_some() {
            flags |= flag::DECEASED;
        }

        let status = t(Field::MembershipStatus);
        match self.sync_key(record) {
            Some(parts) => {
                flags |= flag::HAS_MEMBERSHIP;
                if self.type_override.is_some() {
                    flags |= flag::DATES_UNKNOWN;
                }
                if flag_value(t(Field::AutoRenew)) == Some(true)
                    || flag_value(t(Field::RecurringContribution)) == Some(true)
                {
                    flags |= flag::AUTO_RENEW;
                }
                b.push_joined(Slot::SyncKey, &parts, "");
                b.push(Slot::MembershipId, t(Field::MembershipId));
                b.push(Slot::MembershipType, t(Field::MembershipType));
                b.push_date(Slot::JoinDate, join);
                b.push_date(Slot::StartDate, start);
                b.push_date(Slot::EndDate, end);
                let status = match MemberStatus::parse(status) {
                    Some(known) => known.label(),
                    None => status,
                };
                b.push(Slot::Status, status);
                b.push(Slot::MembershipSource, t(Field::MembershipSource));
            }
            None if join.is_some() || start.is_some() || end.is_some() || !status.is_empty() => {
                return Err(Built::Problem(CellProblem {
                    header: self.map.field_header(Field::MembershipType).to_owned(),
                    problem: format!(
                        "empty, and no {} either: cannot tell which membership this row is",
                        self.map.field_header(Field::MembershipId)
                    ),
                }));
            }
            None => {
                for slot in [
                    Slot::SyncKey,
                    Slot::MembershipId,
                    Slot::MembershipType,
                    Slot::JoinDate,
                    Slot::StartDate,
                    Slot::EndDate,
                    Slot::Status,
                    Slot::MembershipSource,
                ] {
                    b.close(slot);
                }
            }
        }

        let mut tags: Vec<&str> = t(Field::Tags)
            .split(',')
            .map(str::trim)
            .filter(|tag| !tag.is_empty())
            .collect();
        tags.sort_unstable();
        tags.dedup();
        b.push_joined(Slot::Tags, &tags, ",");

        let contact_hash = contact_hash(&b, flags & flag::CONTACT_FLAGS);
        let membership_hash = if flags & flag::HAS_MEMBERSHIP != 0 {
            membership_hash(
                &b,
                flags & flag::AUTO_RENEW != 0,
                flags & flag::DATES_UNKNOWN != 0,
            )
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

    fn contact_flags(&self, record: &StringRecord) -> u16 {
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
            if flag_value(self.text(record, field)) == Some(true) {
                flags |= bit;
            }
        }
        if flag_value(self.text(record, Field::EmailOptIn)) == Some(false) {
            flags |= flag::NO_BULK_EMAIL;
        }
        let subscription = self.text(record, Field::SubscriptionStatus);
        if subscription.eq_ignore_ascii_case("unsubscribed") {
            flags |= flag::NO_BULK_EMAIL;
        } else if subscription.eq_ignore_ascii_case("bouncing") {
            flags |= flag::ON_HOLD;
        }
        if flag_value(self.text(record, Field::DoNotContact)) == Some(true) {
            flags |= flag::DO_NOT_EMAIL | flag::DO_NOT_PHONE | flag::DO_NOT_MAIL | flag::DO_NOT_SMS;
        }
        flags
    }
}

/// A field's first non-empty cell, trimmed and mapped (see [`RowParser::text`]).
fn cell<'a>(
    columns: &'a [Vec<usize>],
    value_maps: &'a [Option<HashMap<String, String>>],
    record: &'a StringRecord,
    field: Field,
) -> &'a str {
    let value = raw_cell(columns, record, field);
    match &value_maps[field as usize] {
        Some(map) if !value.is_empty() => map.get(&value_key(value)).map_or(value, String::as_str),
        _ => value,
    }
}

/// A field's first non-empty cell, trimmed, as the file has it.
fn raw_cell<'r>(columns: &[Vec<usize>], record: &'r StringRecord, field: Field) -> &'r str {
    for &column in &columns[field as usize] {
        let value = trim_cell(record.get(column).unwrap_or_default());
        if !value.is_empty() {
            return value;
        }
    }
    ""
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

/// The contact slots' text (their boundaries included) and flags.
fn contact_hash(b: &Builder, flags: u16) -> i64 {
    hash_contact(&b.text, &b.ends, flags)
}

fn hash_contact(text: &str, ends: &[u32; SLOTS], flags: u16) -> i64 {
    let contact_end = ends[FIRST_MEMBERSHIP_SLOT - 1] as usize;
    let mut h = StableHasher::default();
    h.field(&text.as_bytes()[..contact_end]);
    for end in &ends[..FIRST_MEMBERSHIP_SLOT] {
        h.write_u64(u64::from(*end));
    }
    h.write_u64(u64::from(flags));
    let tags = &text[ends[Slot::Tags as usize - 1] as usize..ends[Slot::Tags as usize] as usize];
    if !tags.is_empty() {
        // Only then, so that a contact without tags keeps the hash stored before tags were read.
        h.field(tags.as_bytes());
    }
    h.value_i64()
}

/// The membership slots, the contact it belongs to (a membership moved to another contact has
/// changed) and auto-renew.
fn membership_hash(b: &Builder, auto_renew: bool, dates_unknown: bool) -> i64 {
    let mut h = StableHasher::default();
    h.field(b.get(Slot::CrmId).as_bytes());
    for slot in [
        Slot::MembershipId,
        Slot::MembershipType,
        Slot::JoinDate,
        Slot::StartDate,
        Slot::EndDate,
        Slot::Status,
        Slot::MembershipSource,
    ] {
        h.field(b.get(slot).as_bytes());
    }
    h.write_u64(u64::from(auto_renew));
    if dates_unknown {
        // Only then, so that every other membership's stored hash stays as it was.
        h.write_u64(2);
    }
    h.value_i64()
}

/// Yes/no cells: empty is unknown; `0`, `no`, `n`, `false`, `f`, `off` are no; anything else
/// (`1`, `Yes`, `x`, CiviCRM's `On Hold bounce`) is yes — a preference not to be contacted is
/// never dropped because of how it was spelled.
pub fn flag_value(cell: &str) -> Option<bool> {
    let cell = trim_cell(cell);
    if cell.is_empty() {
        return None;
    }
    let no = ["0", "no", "n", "false", "f", "off"];
    Some(!no.iter().any(|n| cell.eq_ignore_ascii_case(n)))
}

fn contact_type(given: &str, first: &str, last: &str, organisation: &str) -> &'static str {
    let is = |name: &str| given.eq_ignore_ascii_case(name);
    if is("organization") || is("organisation") {
        "Organization"
    } else if is("household") {
        "Household"
    } else if given.is_empty() && first.is_empty() && last.is_empty() && !organisation.is_empty() {
        "Organization"
    } else {
        "Individual"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::profile::{Profile, normalise};

    #[test]
    fn a_cell_and_its_normalised_form_hold_the_same_letters() {
        for cell in [
            "Contact ID",
            "  membership_source ",
            "No Bulk Emails (User Opt Out)",
            "O'Neill",
            "do-not-email",
            "2024-01-05",
            "",
        ] {
            assert_eq!(letter_mask(cell), letter_mask(&normalise(cell)), "{cell:?}");
        }
        assert_ne!(letter_mask("Email"), letter_mask("Emails"));
        assert_eq!(letter_mask("AZ az 09 '"), letter_mask("zA'90 Za"));
        assert_eq!(letter_mask("a"), Some(1));
        assert_eq!(letter_mask("9"), Some(1 << 35));
        assert_eq!(
            letter_mask("Siân"),
            None,
            "not ASCII: normalised to be sure"
        );
    }

    fn parser(headers: &[&str]) -> RowParser {
        let h: Vec<String> = headers.iter().map(|s| s.to_string()).collect();
        let (_, map, _) = Profile::choose("auto", &h).unwrap();
        RowParser::new(
            map,
            DateReader::new(None),
            StringRecord::from(headers.to_vec()),
        )
    }

    fn parse(p: &mut RowParser, r: &StringRecord) -> RowOutcome {
        let line = r.position().map_or(0, |p| p.line());
        p.parse(r, line, String::new())
    }

    fn record(fields: &[&str], line: u64) -> StringRecord {
        let mut r = StringRecord::from(fields.to_vec());
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
        let RowOutcome::Row(row) = parse(&mut p, &rec) else {
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
            (parse(&mut p, &a), parse(&mut p, &b), parse(&mut p, &c))
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
        let RowOutcome::Rejected(r) = parse(&mut p, &bad_date) else {
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
        let RowOutcome::Rejected(r) = parse(&mut p, &no_id) else {
            panic!("accepted")
        };
        assert_eq!(
            r.reason,
            "Contact ID: empty (every row needs the CRM's contact id)"
        );
        assert!(!r.reason.contains("Siân"));
        let short = record(&["17", "Siân"], 14);
        let RowOutcome::Rejected(r) = parse(&mut p, &short) else {
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
        let RowOutcome::Rejected(r) = parse(&mut p, &dated) else {
            panic!("accepted")
        };
        assert!(
            r.reason
                .starts_with("Membership Type: empty, and no Membership ID"),
            "{}",
            r.reason
        );
        let bare = record(&["17", "A", "B", "", "", "", "", "", ""], 4);
        let RowOutcome::Row(row) = parse(&mut p, &bare) else {
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
        let RowOutcome::Row(row) = parse(
            &mut p,
            &record(&["5", "Tŷ Gwyrdd Co-op", "Society", "12"], 2),
        ) else {
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
            parse(&mut p, &record(&HEADERS, 40)),
            RowOutcome::RepeatedHeader
        ));
    }

    #[test]
    fn a_differing_repeated_header_is_rejected_with_its_line() {
        let mut p = parser(&HEADERS);
        let mut variant = HEADERS;
        variant[3] = "Do not phone?";
        variant[7] = "Membership End Date";
        match parse(&mut p, &record(&variant, 40)) {
            RowOutcome::Rejected(r) => {
                assert_eq!(r.line, 40);
                assert!(
                    r.reason.contains("a header line repeated mid-file"),
                    "{r:?}"
                );
            }
            other => panic!("{other:?}"),
        }
        // An alias of a mapped field counts as a header name too (`Surname` for `Last Name`).
        let mut alias = HEADERS;
        alias[0] = "id";
        alias[2] = "Surname";
        assert!(matches!(
            parse(&mut p, &record(&alias, 41)),
            RowOutcome::Rejected(_)
        ));
    }

    #[test]
    fn a_repeated_header_with_padded_cells_is_still_a_header_line() {
        let mut p = parser(&HEADERS);
        let mut padded = HEADERS.map(|h| format!("  {h}\u{a0}"));
        padded[3] = "Do not phone?".into();
        padded[5] = " \t ".into();
        let padded: Vec<&str> = padded.iter().map(String::as_str).collect();
        assert!(matches!(
            parse(&mut p, &record(&padded, 12)),
            RowOutcome::Rejected(r) if r.reason.contains("a header line repeated mid-file")
        ));
    }

    #[test]
    fn a_header_fragment_in_the_id_column_is_rejected_in_one_sentence() {
        let mut p = parser(&HEADERS);
        let mut fragment = ["Contact ID", "Siân", "Prydd", "", "", "", "", "", ""];
        fragment[4] = "1 High St";
        match parse(&mut p, &record(&fragment, 7)) {
            RowOutcome::Rejected(r) => {
                assert_eq!(r.line, 7);
                assert!(
                    r.reason
                        .contains("ran into a row when its line break was lost"),
                    "{r:?}"
                );
                assert!(!r.reason.contains("Siân"), "{r:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_column_name_with_non_ascii_spaces_or_signs_is_still_a_column_name() {
        let mut p = parser(&HEADERS);
        for name in [
            "Contact\u{a0}ID",
            "\u{2003}Last – Name",
            "Membership\u{212a}",
        ] {
            let expected = name != "Membership\u{212a}";
            assert_eq!(p.is_header_cell(name), expected, "{name:?}");
        }
        // The Kelvin sign lowercases to an ASCII `k`: normalised, not ruled out.
        assert!(!has_non_ascii_letter("Mar\u{212a}"));
        assert!(has_non_ascii_letter("Siân"));
        assert!(!p.is_header_cell("Siân"));
    }

    #[test]
    fn a_member_whose_cells_happen_to_be_column_names_is_imported() {
        let mut p = parser(&HEADERS);
        let row = [
            "7",
            "Email",
            "Membership",
            "0",
            "1 High St",
            "9",
            "Individual",
            "2026-01-01",
            "Current",
        ];
        assert!(matches!(
            parse(&mut p, &record(&row, 2)),
            RowOutcome::Row(_)
        ));
        // A sparse row: an id and one cell that is a column name.
        let sparse = ["7", "", "Email", "", "", "", "", "", ""];
        assert!(matches!(
            parse(&mut p, &record(&sparse, 3)),
            RowOutcome::Row(_)
        ));
    }

    #[test]
    fn cells_are_trimmed_as_str_trim_does() {
        for cell in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\ta\r\n",
            "\u{a0}Siân\u{a0}",
            "Siân",
            "ŁódŹ",
            "\u{b}x\u{c}",
            "a b",
            "\u{2003}",
            "x\u{2003}",
            "\u{85}y",
        ] {
            assert_eq!(trim_cell(cell), cell.trim(), "{cell:?}");
            assert_eq!(is_blank(cell), cell.trim().is_empty(), "{cell:?}");
        }
    }

    #[test]
    fn line_breaks_inside_values_are_stored_as_newlines() {
        let mut p = parser(&HEADERS);
        let mut row = [
            "7",
            "Siân",
            "Prydd",
            "",
            "Fflat 2\r\n1 Stryd Fawr\rBangor",
            "",
            "",
            "",
            "",
        ];
        let RowOutcome::Row(parsed) = parse(&mut p, &record(&row, 2)) else {
            panic!("a good row")
        };
        assert_eq!(
            parsed.get(Slot::StreetAddress),
            "Fflat 2\n1 Stryd Fawr\nBangor"
        );
        row[4] = "1 High St";
        let RowOutcome::Row(parsed) = parse(&mut p, &record(&row, 3)) else {
            panic!("a good row")
        };
        assert_eq!(parsed.get(Slot::StreetAddress), "1 High St");
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
