//! The in-memory search index: one record per contact, built from one streaming query.
//!
//! A contact with two memberships is one record (staff look for people, not rows), showing its
//! most relevant membership; every membership's CRM id is searchable, and a search by one shows
//! that membership.
//!
//! Layout, for speed and memory at 550,000 members: the searchable text of every record sits in
//! one contiguous byte buffer, pre-normalised (see [`super::normalize`]), with `u32` offsets; next
//! to it a 64-bit character-set mask and a word-start bitmask per record for the prefilters, and
//! records stored in name order, so a record's number is its rank (the tie-break). What a result row displays lives in
//! fixed-size rows pointing into one string arena, with the few distinct membership types, statuses
//! and local parties interned.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::storage::sql::ValueRef;
use chrono::NaiveDate;

use super::normalize::{
    char_bit, char_mask, char_pairs, digit_pairs, phone_digits, push_compact, push_words,
};
use crate::domain::membership::{MembershipDates, derive_status, is_welsh};
use crate::domain::{ContactFlags, MemberStatus};
use crate::storage::Store;

/// Separates the fields of one record in the text buffer; never part of folded text.
pub(crate) const FIELD_SEP: u8 = 0;

/// The fields of a record's search text, in order. Fields from `FIRST_MEMBERSHIP` on are the
/// memberships' CRM ids, one per membership in the record's membership order.
pub(crate) const NAME: usize = 0;
pub(crate) const EMAIL: usize = 1;
pub(crate) const POSTCODE: usize = 2;
pub(crate) const PHONE: usize = 3;
pub(crate) const CONTACT_ID: usize = 4;
pub(crate) const FIRST_MEMBERSHIP: usize = 5;

/// A longer field is cut: no real name, email or id is this long, and it bounds matching cost.
const MAX_FIELD: usize = 255;

/// How far a load has got, readable from any thread while it runs.
#[derive(Debug, Default)]
pub struct LoadProgress {
    pub done: AtomicU64,
    pub total: AtomicU64,
}

impl LoadProgress {
    /// Whole percent loaded (0 while the total is not known yet).
    pub fn percent(&self) -> u8 {
        let total = self.total.load(Ordering::Relaxed);
        let done = self.done.load(Ordering::Relaxed).min(total);
        (done * 100).checked_div(total).unwrap_or(0) as u8
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("loading the search index was cancelled")]
    Cancelled,
    #[error("reading members for the search index: {0}")]
    Db(#[from] crate::storage::sql::Error),
}

#[derive(Debug, Clone, Copy)]
pub(super) struct ContactRow {
    pub(super) id: i64,
    /// Start in `strings` of crm id, display name, email, postcode, back to back.
    pub(super) strings: u32,
    pub(super) lens: [u16; 4],
    pub(super) first_membership: u32,
    pub(super) local_party: u32,
    pub(super) membership_count: u16,
    pub(super) flags: u8,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct MembershipRow {
    pub(super) id: i64,
    pub(super) crm_id: u32,
    pub(super) crm_id_len: u16,
    pub(super) membership_type: u16,
    pub(super) crm_status: u16,
    pub(super) join: Option<NaiveDate>,
    pub(super) start: Option<NaiveDate>,
    pub(super) end: Option<NaiveDate>,
    pub(super) dates_unknown: bool,
}

/// A record's prefilter masks and where its text is.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(64))]
pub(crate) struct Head {
    /// Neighbouring character pairs anywhere in the record, hashed (see [`char_pairs`]).
    pub char_pairs: u128,
    /// Neighbouring digit pairs anywhere in the record, hashed (see [`digit_pairs`]).
    pub digit_pairs: u64,
    /// The first characters of the email, postcode, phone and ids (as [`char_mask`] bits): a
    /// token can only be or start one of them if its first character is here.
    pub field_initials: u64,
    /// Characters anywhere in the record (bits 0–35, see [`char_mask`]); the folded lengths of
    /// the name (bits 40–47) and email (bits 48–55) fields.
    pub all: u64,
    /// Characters of the name (bits 0–35) and the letters that start one of its words (bits
    /// 36–61): the prefilters for name prefixes, fuzzy and typo matches.
    pub name: u64,
    /// Bit `p` set: a word of the name starts at byte `p` of its folded text.
    pub word_starts: u64,
    /// Where the record's text starts in `Index::text`.
    pub start: u32,
    /// Bit `n` set: the postcode, phone or one of the ids is `n` characters long (bit 31: 31 or
    /// more). A token can only be exactly one of them if one is as long.
    pub id_lengths: u32,
}

// One cache line a record: a full scan streams these.
const _: () = assert!(std::mem::size_of::<Head>() == 64);

/// The bit of [`Head::id_lengths`] for a length.
pub(crate) fn length_bit(len: usize) -> u32 {
    1 << len.min(31)
}

impl Head {
    pub fn name_len(&self) -> usize {
        (self.all >> 40 & 0xff) as usize
    }

    pub fn email_len(&self) -> usize {
        (self.all >> 48 & 0xff) as usize
    }
}

/// A contact as a result row shows it.
#[derive(Debug, Clone, Copy)]
pub struct ContactView<'a> {
    /// rollcall's own id (for opening the member).
    pub id: i64,
    pub crm_id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub postcode: &'a str,
    pub local_party: &'a str,
    pub flags: ContactFlags,
}

/// A membership as a result row shows it.
#[derive(Debug, Clone, Copy)]
pub struct MembershipView<'a> {
    /// rollcall's own id.
    pub id: i64,
    pub crm_id: &'a str,
    pub membership_type: &'a str,
    /// The status as the CRM exported it (possibly stale).
    pub crm_status: &'a str,
    pub dates: MembershipDates,
}

/// The search index over every contact in a store.
pub struct Index {
    pub(crate) text: Vec<u8>,
    /// What a search reads of every record, in one cache line per record: a full scan streams
    /// these, and a narrowed search touching scattered records pays one miss each, not six.
    pub(crate) heads: Vec<Head>,
    pub(super) contacts: Vec<ContactRow>,
    pub(super) memberships: Vec<MembershipRow>,
    pub(super) strings: String,
    pub(super) parties: Vec<String>,
    pub(super) types: Vec<String>,
    pub(super) statuses: Vec<String>,
    /// The day that decided which membership each contact shows first.
    pub(super) today: NaiveDate,
}

impl Index {
    /// Reads every contact and membership from `store` in one streaming query. `today` decides
    /// which membership a contact shows when it has several. `cancelled` is polled as rows arrive.
    pub fn load(
        store: &Store,
        today: NaiveDate,
        progress: &LoadProgress,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Index, LoadError> {
        let conn = &store.conn;
        let (contacts, memberships) = crate::storage::search_source::sizes(conn)?;
        progress.total.store(contacts as u64, Ordering::Relaxed);
        progress.done.store(0, Ordering::Relaxed);
        let mut builder =
            IndexBuilder::with_capacity(contacts as usize, memberships as usize, today);
        let mut stmt = crate::storage::search_source::rows(conn)?;
        let mut rows = stmt.query([])?;
        let mut contact = ContactInput::default();
        let mut current: Option<i64> = None;
        let mut seen = 0u64;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            if current != Some(id) {
                if current.is_some() {
                    builder.push(&contact, today);
                    seen += 1;
                    if seen % 4096 == 0 {
                        progress.done.store(seen, Ordering::Relaxed);
                        if cancelled() {
                            return Err(LoadError::Cancelled);
                        }
                    }
                }
                contact.fill_from_row(&row)?;
                current = Some(id);
            }
            if let ValueRef::Integer(mid) = row.get_ref(19)? {
                contact
                    .memberships
                    .push(MembershipInput::from_row(mid, &row)?);
            }
        }
        if current.is_some() {
            builder.push(&contact, today);
            seen += 1;
        }
        progress.done.store(seen, Ordering::Relaxed);
        if cancelled() {
            return Err(LoadError::Cancelled);
        }
        Ok(builder.finish())
    }

    /// An index over contacts given directly (tests, benchmarks).
    pub fn from_contacts(contacts: &[ContactInput], today: NaiveDate) -> Index {
        let mut builder = IndexBuilder::with_capacity(contacts.len(), contacts.len(), today);
        for c in contacts {
            builder.push(c, today);
        }
        builder.finish()
    }

    /// How many records (contacts).
    pub fn len(&self) -> usize {
        self.contacts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.contacts.is_empty()
    }

    /// Bytes held on the heap, for the benchmark's memory figures.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.text.capacity()
            + self.heads.capacity() * size_of::<Head>()
            + self.contacts.capacity() * size_of::<ContactRow>()
            + self.memberships.capacity() * size_of::<MembershipRow>()
            + self.strings.capacity()
    }

    /// A record's folded search text, fields separated by [`FIELD_SEP`].
    pub(crate) fn record_text(&self, record: u32) -> &[u8] {
        let r = record as usize;
        let end = self
            .heads
            .get(r + 1)
            .map_or(self.text.len(), |h| h.start as usize);
        &self.text[self.heads[r].start as usize..end]
    }

    pub fn contact(&self, record: u32) -> ContactView<'_> {
        let c = &self.contacts[record as usize];
        let mut at = c.strings as usize;
        let mut next = |len: u16| {
            let s = &self.strings[at..at + len as usize];
            at += len as usize;
            s
        };
        let crm_id = next(c.lens[0]);
        let name = next(c.lens[1]);
        let email = next(c.lens[2]);
        let postcode = next(c.lens[3]);
        ContactView {
            id: c.id,
            crm_id,
            name,
            email,
            postcode,
            local_party: &self.parties[c.local_party as usize],
            flags: flags_from_bits(c.flags),
        }
    }

    /// How many memberships a record has; index 0 is the one shown by default.
    pub fn membership_count(&self, record: u32) -> usize {
        self.contacts[record as usize].membership_count as usize
    }

    /// The `nth` membership of a record (0: the most relevant).
    pub fn membership(&self, record: u32, nth: usize) -> Option<MembershipView<'_>> {
        let c = &self.contacts[record as usize];
        if nth >= c.membership_count as usize {
            return None;
        }
        let m = &self.memberships[c.first_membership as usize + nth];
        let crm_id = &self.strings[m.crm_id as usize..m.crm_id as usize + m.crm_id_len as usize];
        Some(MembershipView {
            id: m.id,
            crm_id,
            membership_type: &self.types[m.membership_type as usize],
            crm_status: &self.statuses[m.crm_status as usize],
            dates: MembershipDates {
                join: m.join,
                start: m.start,
                end: m.end,
                dates_unknown: m.dates_unknown,
            },
        })
    }
}

/// Changes to a loaded index that keep its layout: what an index read from disk needs to match
/// a different day, or to drop erased people without a rebuild.
impl Index {
    /// Orders each contact's memberships as [`Index::load`] would on `today`: an index written
    /// yesterday is still right today once the contacts whose shown membership changed (one that
    /// lapsed overnight) are put in order, which costs far less than a rebuild.
    pub(super) fn show_as_of(&mut self, today: NaiveDate) {
        if self.today == today {
            return;
        }
        for record in 0..self.contacts.len() {
            let c = self.contacts[record];
            let count = c.membership_count as usize;
            if count < 2 {
                continue;
            }
            let first = c.first_membership as usize;
            let rows = &self.memberships[first..first + count];
            let deceased = flags_from_bits(c.flags).deceased;
            let key = |m: &MembershipRow| {
                let dates = MembershipDates {
                    join: m.join,
                    start: m.start,
                    end: m.end,
                    dates_unknown: m.dates_unknown,
                };
                let status = &self.statuses[m.crm_status as usize];
                std::cmp::Reverse(relevance_of(dates, status, m.id, deceased, today))
            };
            let mut order: Vec<usize> = (0..count).collect();
            order.sort_by_key(|&i| key(&rows[i]));
            if order.iter().enumerate().all(|(i, &o)| i == o) {
                continue;
            }
            let reordered: Vec<MembershipRow> = order.iter().map(|&i| rows[i]).collect();
            self.memberships[first..first + count].copy_from_slice(&reordered);
            self.reorder_membership_fields(record as u32, &order);
        }
        self.today = today;
    }

    /// Puts a record's membership id fields in `order`; the head does not change (its masks
    /// are over characters, pairs within fields and sets of fields, none of them ordered).
    fn reorder_membership_fields(&mut self, record: u32, order: &[usize]) {
        let start = self.heads[record as usize].start as usize;
        let text = self.record_text(record);
        let fields: Vec<&[u8]> = text.split(|&b| b == FIELD_SEP).collect();
        if fields.len() != FIRST_MEMBERSHIP + order.len() {
            return; // more memberships than a record counts: left as loaded
        }
        let mut rewritten = Vec::with_capacity(text.len());
        for (i, field) in fields[..FIRST_MEMBERSHIP].iter().enumerate() {
            if i > 0 {
                rewritten.push(FIELD_SEP);
            }
            rewritten.extend_from_slice(field);
        }
        for &o in order {
            rewritten.push(FIELD_SEP);
            rewritten.extend_from_slice(fields[FIRST_MEMBERSHIP + o]);
        }
        self.text[start..start + rewritten.len()].copy_from_slice(&rewritten);
    }

    /// Drops the records of the contacts with rollcall ids in `gone`, keeping name order; every
    /// byte of theirs leaves the buffers. Returns how many records went.
    pub(super) fn remove_contacts(&mut self, gone: &[i64]) -> usize {
        let n = self.contacts.len();
        let mut strings = String::with_capacity(self.strings.len());
        let mut memberships = Vec::with_capacity(self.memberships.len());
        let mut kept = 0;
        let mut text_end = 0;
        for record in 0..n {
            let c = self.contacts[record];
            if gone.contains(&c.id) {
                continue;
            }
            let (from, to) = self.record_span(record);
            let mut head = self.heads[record];
            head.start = text_end as u32;
            self.text.copy_within(from..to, text_end);
            text_end += to - from;
            self.heads[kept] = head;

            let own = c.lens.iter().map(|&l| l as usize).sum::<usize>();
            let at = c.strings as usize;
            let new_strings = strings.len() as u32;
            strings.push_str(&self.strings[at..at + own]);
            let first = memberships.len() as u32;
            let rows = c.first_membership as usize
                ..c.first_membership as usize + c.membership_count as usize;
            for mut m in self.memberships[rows].iter().copied() {
                let id = m.crm_id as usize..m.crm_id as usize + m.crm_id_len as usize;
                m.crm_id = strings.len() as u32;
                strings.push_str(&self.strings[id]);
                memberships.push(m);
            }
            self.contacts[kept] = ContactRow {
                strings: new_strings,
                first_membership: first,
                ..c
            };
            kept += 1;
        }
        self.text.truncate(text_end);
        self.heads.truncate(kept);
        self.contacts.truncate(kept);
        self.strings = strings;
        self.memberships = memberships;
        n - kept
    }

    /// Where a record's text is in `text`, as byte offsets.
    fn record_span(&self, record: usize) -> (usize, usize) {
        let end = self
            .heads
            .get(record + 1)
            .map_or(self.text.len(), |h| h.start as usize);
        (self.heads[record].start as usize, end)
    }
}

/// One contact as the index takes it in.
#[derive(Debug, Clone, Default)]
pub struct ContactInput {
    pub id: i64,
    pub crm_id: String,
    pub display_name: String,
    pub sort_name: String,
    pub first_name: String,
    pub last_name: String,
    pub organization_name: String,
    pub email: String,
    pub phone: String,
    pub postcode: String,
    pub local_party: String,
    pub flags: ContactFlags,
    pub memberships: Vec<MembershipInput>,
}

/// One membership as the index takes it in.
#[derive(Debug, Clone, Default)]
pub struct MembershipInput {
    pub id: i64,
    pub crm_id: String,
    pub membership_type: String,
    pub crm_status: String,
    pub dates: MembershipDates,
}

/// Copies text column `i` into `out`, reusing its allocation (the load reads 550,000 rows).
fn read_text(
    row: &crate::storage::sql::Row,
    i: usize,
    out: &mut String,
) -> crate::storage::sql::Result<()> {
    out.clear();
    match row.get_ref(i)? {
        ValueRef::Text(t) => out.push_str(t),
        ValueRef::Blob(b) => out.push_str(&String::from_utf8_lossy(b)),
        ValueRef::Integer(n) => out.push_str(&n.to_string()),
        _ => {}
    }
    Ok(())
}

fn text(row: &crate::storage::sql::Row, i: usize) -> crate::storage::sql::Result<String> {
    let mut out = String::new();
    read_text(row, i, &mut out)?;
    Ok(out)
}

/// A `YYYY-MM-DD` column; anything else is no date. Parsed by hand: chrono's general parser
/// was a tenth of the load time.
fn date(
    row: &crate::storage::sql::Row,
    i: usize,
) -> crate::storage::sql::Result<Option<NaiveDate>> {
    let ValueRef::Text(t) = row.get_ref(i)? else {
        return Ok(None);
    };
    let t = t.as_bytes().trim_ascii();
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = t.get(range)?;
        digits.iter().try_fold(0u32, |n, &b| {
            b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
        })
    };
    if t.len() != 10 || t[4] != b'-' || t[7] != b'-' {
        return Ok(None);
    }
    Ok(match (number(0..4), number(5..7), number(8..10)) {
        (Some(y), Some(m), Some(d)) => NaiveDate::from_ymd_opt(y as i32, m, d),
        _ => None,
    })
}

impl ContactInput {
    /// Fills this contact from a row of the load query, reusing its strings' allocations.
    fn fill_from_row(&mut self, row: &crate::storage::sql::Row) -> crate::storage::sql::Result<()> {
        let flag =
            |i: usize| -> crate::storage::sql::Result<bool> { Ok(row.get::<_, i64>(i)? != 0) };
        self.id = row.get(0)?;
        read_text(row, 1, &mut self.crm_id)?;
        read_text(row, 2, &mut self.display_name)?;
        read_text(row, 3, &mut self.sort_name)?;
        read_text(row, 4, &mut self.first_name)?;
        read_text(row, 5, &mut self.last_name)?;
        read_text(row, 6, &mut self.organization_name)?;
        read_text(row, 7, &mut self.email)?;
        read_text(row, 8, &mut self.phone)?;
        read_text(row, 9, &mut self.postcode)?;
        let welsh = matches!(row.get_ref(10)?, ValueRef::Text(t) if is_welsh(t));
        self.flags = ContactFlags {
            welsh,
            do_not_email: flag(11)?,
            do_not_phone: flag(12)?,
            do_not_mail: flag(13)?,
            do_not_sms: flag(14)?,
            no_bulk_email: flag(15)?,
            on_hold: flag(16)?,
            deceased: flag(17)?,
        };
        read_text(row, 18, &mut self.local_party)?;
        self.memberships.clear();
        Ok(())
    }

    /// The name a result row shows: the display name, or what it is made of when it is blank.
    fn shown_name(&self) -> String {
        if !self.display_name.trim().is_empty() {
            return self.display_name.trim().to_owned();
        }
        let person = format!("{} {}", self.first_name.trim(), self.last_name.trim());
        if !person.trim().is_empty() {
            return person.trim().to_owned();
        }
        self.organization_name.trim().to_owned()
    }
}

impl MembershipInput {
    fn from_row(
        id: i64,
        row: &crate::storage::sql::Row,
    ) -> crate::storage::sql::Result<MembershipInput> {
        Ok(MembershipInput {
            id,
            crm_id: text(row, 20)?,
            membership_type: text(row, 21)?,
            dates: MembershipDates {
                join: date(row, 22)?,
                start: date(row, 23)?,
                end: date(row, 24)?,
                dates_unknown: row.get::<_, Option<i64>>(26)?.unwrap_or(0) != 0,
            },
            crm_status: text(row, 25)?,
        })
    }
}

fn flags_to_bits(f: ContactFlags) -> u8 {
    [
        f.do_not_email,
        f.do_not_phone,
        f.do_not_mail,
        f.do_not_sms,
        f.no_bulk_email,
        f.on_hold,
        f.deceased,
        f.welsh,
    ]
    .iter()
    .enumerate()
    .fold(0, |bits, (i, &on)| bits | (u8::from(on) << i))
}

fn flags_from_bits(b: u8) -> ContactFlags {
    let on = |i: u8| b & (1 << i) != 0;
    ContactFlags {
        do_not_email: on(0),
        do_not_phone: on(1),
        do_not_mail: on(2),
        do_not_sms: on(3),
        no_bulk_email: on(4),
        on_hold: on(5),
        deceased: on(6),
        welsh: on(7),
    }
}

/// Few distinct values (membership types, statuses, local parties), stored once each.
#[derive(Default)]
struct Interner {
    values: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Interner {
    fn intern(&mut self, s: &str) -> u32 {
        let s = s.trim();
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(s.to_owned());
        self.ids.insert(s.to_owned(), id);
        id
    }

    /// For `u16` slots: a pathological file with more distinct values than fit shows the rest as
    /// "(other)" rather than failing the whole index.
    fn intern_small(&mut self, s: &str) -> u16 {
        let id = self.intern(s);
        u16::try_from(id).unwrap_or_else(|_| self.intern("(other)") as u16)
    }
}

struct IndexBuilder {
    index: Index,
    parties: Interner,
    types: Interner,
    statuses: Interner,
    /// Sort keys for name order, dropped once the ranks are worked out.
    sort_keys: Vec<u8>,
    sort_starts: Vec<u32>,
}

/// Appends `s` truncated to `max` bytes at a character boundary; returns the length kept.
fn push_bounded(arena: &mut String, s: &str, max: usize) -> usize {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    arena.push_str(&s[..end]);
    end
}

impl IndexBuilder {
    fn with_capacity(contacts: usize, memberships: usize, today: NaiveDate) -> IndexBuilder {
        let mut parties = Interner::default();
        parties.intern("");
        IndexBuilder {
            index: Index {
                // Measured on generated UK data: about 70 bytes of search text and 60 of display
                // text per contact.
                text: Vec::with_capacity(contacts * 72),
                heads: Vec::with_capacity(contacts),
                contacts: Vec::with_capacity(contacts),
                memberships: Vec::with_capacity(memberships),
                strings: String::with_capacity(contacts * 60),
                parties: Vec::new(),
                types: Vec::new(),
                statuses: Vec::new(),
                today,
            },
            parties,
            types: Interner::default(),
            statuses: Interner::default(),
            sort_keys: Vec::with_capacity(contacts * 16),
            sort_starts: Vec::with_capacity(contacts + 1),
        }
    }

    fn push(&mut self, c: &ContactInput, today: NaiveDate) {
        let index = &mut self.index;
        if self.sort_starts.is_empty() {
            self.sort_starts.push(0);
        }
        let mut memberships: Vec<&MembershipInput> = c.memberships.iter().collect();
        memberships.sort_by_key(|m| std::cmp::Reverse(relevance(m, c.flags.deceased, today)));

        // Search text: name, email, postcode, phone, contact id, then each membership id.
        let record_start = index.text.len();
        let mut word_starts = 0u64;
        let name = c.shown_name();
        push_words(&name, &mut index.text, record_start, &mut word_starts);
        let name_compact = index.text[record_start..].to_vec();
        for part in [&c.first_name, &c.last_name] {
            // A name the display name does not hold (e.g. "Dr Jones" with first name "Siân").
            let folded = super::normalize::compact(part);
            if !folded.is_empty() && !contains(&name_compact, &folded) {
                push_words(part, &mut index.text, record_start, &mut word_starts);
            }
        }
        cap_field(&mut index.text, record_start);
        let name_len = index.text.len() - record_start;
        word_starts &= if name_len >= 64 {
            u64::MAX
        } else {
            (1 << name_len) - 1
        };
        let field = |text: &mut Vec<u8>, bytes: &[u8]| {
            text.push(FIELD_SEP);
            let start = text.len();
            text.extend_from_slice(bytes);
            cap_field(text, start);
            text.len() - start
        };
        let email_len = field(&mut index.text, &super::normalize::compact(&c.email));
        field(&mut index.text, &super::normalize::compact(&c.postcode));
        field(&mut index.text, &phone_digits(&c.phone));
        field(&mut index.text, &super::normalize::compact(&c.crm_id));
        for m in &memberships {
            field(&mut index.text, &super::normalize::compact(&m.crm_id));
        }
        let folded_name = &index.text[record_start..record_start + name_len];
        let text = &index.text[record_start..];
        index.heads.push(Head {
            char_pairs: char_pairs(text),
            digit_pairs: digit_pairs(text),
            field_initials: text
                .split(|&b| b == FIELD_SEP)
                .skip(EMAIL)
                .filter_map(|field| field.first())
                .fold(0, |set, &b| set | char_bit(b)),
            all: char_mask(text) | (name_len as u64) << 40 | (email_len as u64) << 48,
            name: char_mask(folded_name) | initials(folded_name, word_starts) << 36,
            word_starts,
            start: record_start as u32,
            id_lengths: text
                .split(|&b| b == FIELD_SEP)
                .skip(POSTCODE)
                .fold(0, |set, field| set | length_bit(field.len())),
        });

        // Display row.
        let strings = index.strings.len() as u32;
        let lens = [
            push_bounded(&mut index.strings, c.crm_id.trim(), MAX_FIELD) as u16,
            push_bounded(&mut index.strings, &name, MAX_FIELD) as u16,
            push_bounded(&mut index.strings, c.email.trim(), MAX_FIELD) as u16,
            push_bounded(&mut index.strings, c.postcode.trim(), MAX_FIELD) as u16,
        ];
        let first_membership = index.memberships.len() as u32;
        for m in &memberships {
            let crm_id = index.strings.len() as u32;
            let crm_id_len = push_bounded(&mut index.strings, m.crm_id.trim(), MAX_FIELD) as u16;
            index.memberships.push(MembershipRow {
                id: m.id,
                crm_id,
                crm_id_len,
                membership_type: self.types.intern_small(&m.membership_type),
                crm_status: self.statuses.intern_small(&m.crm_status),
                join: m.dates.join,
                start: m.dates.start,
                end: m.dates.end,
                dates_unknown: m.dates.dates_unknown,
            });
        }
        index.contacts.push(ContactRow {
            id: c.id,
            strings,
            lens,
            first_membership,
            local_party: self.parties.intern(&c.local_party),
            membership_count: memberships.len().min(u16::MAX as usize) as u16,
            flags: flags_to_bits(c.flags),
        });

        // Name order: surname first, as staff file people ("Jones, Siân").
        let sort_source = if c.sort_name.trim().is_empty() {
            format!("{} {} {}", c.last_name, c.first_name, name)
        } else {
            c.sort_name.clone()
        };
        push_compact(&sort_source, &mut self.sort_keys);
        self.sort_starts.push(self.sort_keys.len() as u32);
    }

    fn finish(mut self) -> Index {
        let mut index = self.index;
        let n = index.contacts.len();
        let keys = &self.sort_keys;
        let starts = &self.sort_starts;
        let key = |r: u32| &keys[starts[r as usize] as usize..starts[r as usize + 1] as usize];
        let mut by_rank: Vec<u32> = (0..n as u32).collect();
        by_rank.sort_unstable_by(|&a, &b| {
            key(a).cmp(key(b)).then(
                index.contacts[a as usize]
                    .id
                    .cmp(&index.contacts[b as usize].id),
            )
        });
        self.sort_keys = Vec::new();
        // Records are stored in name order: a record's number is its rank. A search then meets
        // the members it would list first before the rest, and can stop grading records that
        // could only come after the ones it already has (see the matcher).
        // Heads and rows are moved in place; only the text needs a second buffer for a moment.
        let mut text = Vec::with_capacity(index.text.len());
        let mut starts = Vec::with_capacity(n);
        for &record in &by_rank {
            starts.push(text.len() as u32);
            text.extend_from_slice(index.record_text(record));
        }
        index.text = text;
        permute(&mut index.heads, &by_rank);
        permute(&mut index.contacts, &by_rank);
        for (head, start) in index.heads.iter_mut().zip(starts) {
            head.start = start;
        }
        index.parties = self.parties.values;
        index.types = self.types.values;
        index.statuses = self.statuses.values;
        index.text.shrink_to_fit();
        index.strings.shrink_to_fit();
        index.memberships.shrink_to_fit();
        index
    }
}

/// Reorders `items` in place so that `items[i]` becomes what was at `order[i]` (`order` is a
/// permutation), following each cycle once.
fn permute<T: Copy>(items: &mut [T], order: &[u32]) {
    let mut placed = vec![false; items.len()];
    for first in 0..items.len() {
        if placed[first] {
            continue;
        }
        let held = items[first];
        let mut at = first;
        loop {
            placed[at] = true;
            let from = order[at] as usize;
            if from == first {
                items[at] = held;
                break;
            }
            items[at] = items[from];
            at = from;
        }
    }
}

/// The letters that start a word of `name`, as a 26-bit set.
fn initials(name: &[u8], word_starts: u64) -> u64 {
    let mut starts = word_starts;
    let mut set = 0;
    while starts != 0 {
        let p = starts.trailing_zeros() as usize;
        starts &= starts - 1;
        if let Some(b @ b'a'..=b'z') = name.get(p) {
            set |= 1 << (b - b'a');
        }
    }
    set
}

fn cap_field(text: &mut Vec<u8>, start: usize) {
    text.truncate(start + (text.len() - start).min(MAX_FIELD));
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// How relevant a membership is to show first: one that counts as membership today, then the
/// latest end date (lifetime counts as latest), then the newest.
fn relevance(m: &MembershipInput, deceased: bool, today: NaiveDate) -> (bool, NaiveDate, i64) {
    relevance_of(m.dates, &m.crm_status, m.id, deceased, today)
}

fn relevance_of(
    dates: MembershipDates,
    crm_status: &str,
    id: i64,
    deceased: bool,
    today: NaiveDate,
) -> (bool, NaiveDate, i64) {
    let status = derive_status(dates, MemberStatus::parse(crm_status), deceased, today);
    (status.is_member(), dates.end.unwrap_or(NaiveDate::MAX), id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::domain::dates::parse_iso(s).unwrap()
    }

    fn membership(id: i64, crm: &str, end: &str, status: &str) -> MembershipInput {
        MembershipInput {
            id,
            crm_id: crm.into(),
            membership_type: "Individual".into(),
            crm_status: status.into(),
            dates: MembershipDates {
                join: Some(d("2020-01-01")),
                start: Some(d("2020-01-01")),
                end: Some(d(end)),
                dates_unknown: false,
            },
        }
    }

    #[test]
    fn record_text_is_folded_fields_with_the_current_membership_first() {
        let contact = ContactInput {
            id: 7,
            crm_id: "C-100".into(),
            display_name: "Siân O'Neill".into(),
            first_name: "Siân".into(),
            last_name: "O'Neill".into(),
            email: "Sian.ONeill@example.org".into(),
            phone: "+44 7700 900123".into(),
            postcode: "CF10 1AA".into(),
            local_party: "Cardiff Central".into(),
            memberships: vec![
                membership(1, "M1", "2020-12-31", "Expired"),
                membership(2, "M2", "2027-12-31", "Current"),
            ],
            ..ContactInput::default()
        };
        let index = Index::from_contacts(&[contact], d("2026-11-23"));
        let fields: Vec<&[u8]> = index.record_text(0).split(|&b| b == FIELD_SEP).collect();
        assert_eq!(
            fields,
            [
                &b"sianoneill"[..],
                b"sianoneillexampleorg",
                b"cf101aa",
                b"07700900123",
                b"c100",
                b"m2",
                b"m1"
            ]
        );
        // s(0) o(4) neill(5)
        let head = index.heads[0];
        assert_eq!(head.word_starts, 1 | 1 << 4 | 1 << 5);
        assert_eq!((head.name_len(), head.email_len()), (10, 20));
        let initials = head.name >> 36;
        assert_eq!(
            initials,
            1 << (b's' - b'a') | 1 << (b'o' - b'a') | 1 << (b'n' - b'a')
        );
        let view = index.contact(0);
        assert_eq!(
            (view.id, view.name, view.postcode, view.local_party),
            (7, "Siân O'Neill", "CF10 1AA", "Cardiff Central")
        );
        assert_eq!(index.membership(0, 0).unwrap().crm_id, "M2");
        assert_eq!(index.membership(0, 1).unwrap().crm_status, "Expired");
        assert!(index.membership(0, 2).is_none());
    }

    #[test]
    fn names_missing_from_the_display_name_are_still_searchable() {
        let contact = ContactInput {
            id: 1,
            display_name: "Dr Jones".into(),
            first_name: "Rhiannon".into(),
            last_name: "Jones".into(),
            ..ContactInput::default()
        };
        let index = Index::from_contacts(&[contact], d("2026-11-23"));
        assert!(index.record_text(0).starts_with(b"drjonesrhiannon\0"));
    }

    #[test]
    fn flags_round_trip_through_their_bits() {
        let flags = ContactFlags {
            do_not_phone: true,
            deceased: true,
            welsh: true,
            ..ContactFlags::default()
        };
        assert_eq!(flags_from_bits(flags_to_bits(flags)), flags);
    }

    #[test]
    fn permuting_in_place_follows_every_cycle() {
        let mut items = ['a', 'b', 'c', 'd', 'e', 'f'];
        permute(&mut items, &[2, 0, 1, 5, 4, 3]);
        assert_eq!(items, ['c', 'a', 'b', 'f', 'e', 'd']);
    }

    #[test]
    fn ranks_follow_sort_names_then_ids() {
        let person = |id: i64, sort: &str| ContactInput {
            id,
            display_name: sort.into(),
            sort_name: sort.into(),
            ..ContactInput::default()
        };
        let index = Index::from_contacts(
            &[
                person(3, "Jones, Siân"),
                person(1, "Evans, Bethan"),
                person(2, "Jones, Siân"),
            ],
            d("2026-11-23"),
        );
        // Stored in name order, so that a record's number is its rank.
        let ids: Vec<i64> = (0..3).map(|r| index.contact(r).id).collect();
        assert_eq!(ids, [1, 2, 3]);
    }
}
