//! The search index on disk, so that search is ready when the app is (docs/search-index.md).
//!
//! The index is kept beside an SQLite database (`rollcall.db.search`), or for a team database in
//! the user's cache directory under a name made from the database's address and login. It is a
//! cache of the store, never a source: a file is used only if its header's signature is the
//! store's current [`Signature`], its checksum holds, every offset in it is in bounds, and only
//! its owner can read it. Anything else (missing, truncated, damaged, written for another
//! database or an older state of this one, another format) is ignored and rebuilt.
//!
//! Writers replace the file whole (a new owner-only file renamed over it), one at a time under a
//! lock file beside it, and write only an index whose signature is still the store's: a reader
//! that built from the database while someone else changed it leaves the file alone. An
//! erasure drops the person from the file in the same command ([`Erasure`]), or deletes the file
//! when it cannot be sure the result would be right.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};

use super::index::{ContactRow, FIELD_SEP, FIRST_MEMBERSHIP, Head, Index, MembershipRow};
use super::{LoadError, LoadProgress};
use crate::storage::search_source::{self, Signature};
use crate::storage::{
    Location, Store, create_new_owner_only, is_owner_only, open_without_blocking,
};

const MAGIC: [u8; 8] = *b"RCSRCHIX";
/// Bumped whenever the layout below or what the index holds changes: an older file is rebuilt.
const FORMAT: u32 = 1;
const HEADER_LEN: usize = 96;
/// The checksum covers the header before it, then the body.
const CHECKSUM_AT: usize = 88;
const HEAD_LEN: usize = 64;
const CONTACT_LEN: usize = 32;
const MEMBERSHIP_LEN: usize = 32;
/// How a missing date is written (no real date is this many days from year 1).
const NO_DATE: i32 = i32::MIN;

/// Why an index file was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("there is no search index file")]
    Missing,
    #[error("the search index file could not be read")]
    Unreadable,
    #[error("the search index file can be read by other accounts")]
    NotOwnerOnly,
    #[error("the file is not a search index of this version of rollcall")]
    NotAnIndex,
    #[error("the search index file is of another database, or of an older state of this one")]
    Stale,
    #[error("the search index file is damaged or cut short")]
    Damaged,
}

/// Where the index of the database at `location` is kept: beside an SQLite file. A team
/// database has none: a copy of its members on every officer's laptop would outlive an
/// erasure on the server (another officer's `forget` cannot reach it) and a staff member's
/// removal, and the server is where the team's data is protected and backed up. Windows on a
/// team database build the index in memory from the server, as before.
pub fn path_for(location: &Location) -> Option<PathBuf> {
    match location {
        Location::File(db) => Some(beside(db, ".search")),
        Location::Team(_) => None,
    }
}

fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The index of `store` as of `signature` (read just before): from its file when that is
/// current, else built from the database and, if `write`, saved for next time. Saving is best
/// effort: a search never fails because its cache could not be written.
pub fn open_index(
    store: &Store,
    signature: &Signature,
    today: NaiveDate,
    progress: &LoadProgress,
    cancelled: &dyn Fn() -> bool,
    write: bool,
) -> Result<Index, LoadError> {
    let path = path_for(store.location());
    if let Some(path) = &path
        && let Ok(index) = read(path, signature, today)
    {
        let records = index.len() as u64;
        progress
            .total
            .store(records, std::sync::atomic::Ordering::Relaxed);
        progress
            .done
            .store(records, std::sync::atomic::Ordering::Relaxed);
        return Ok(index);
    }
    let index = Index::load(store, today, progress, cancelled)?;
    if write && let Some(path) = &path {
        let _ = save_if_current(store, path, &index, signature);
    }
    Ok(index)
}

/// Builds the index from the database and saves it (after an import).
pub fn refresh(store: &Store, today: NaiveDate) -> anyhow::Result<()> {
    let Some(path) = path_for(store.location()) else {
        return Ok(());
    };
    let signature = search_source::signature(&store.conn)?;
    let index = Index::load(store, today, &LoadProgress::default(), &|| false)?;
    save_if_current(store, &path, &index, &signature)?;
    Ok(())
}

/// Writes `index` to `path` if the store's signature is still `built_at`, the one read before
/// the index was built (signatures only grow, so equal means nothing changed between). Returns
/// whether it wrote.
pub fn save_if_current(
    store: &Store,
    path: &Path,
    index: &Index,
    built_at: &Signature,
) -> io::Result<bool> {
    let _lock = Lock::take(path)?;
    let now = search_source::signature(&store.conn).map_err(io::Error::other)?;
    if now != *built_at {
        return Ok(false);
    }
    write(path, index, built_at)?;
    Ok(true)
}

/// Reads the index at `path` if it is the index of a store whose signature is `expected`, then
/// shows each contact's memberships as of `today`.
pub fn read(path: &Path, expected: &Signature, today: NaiveDate) -> Result<Index, Refused> {
    let mut index = read_as_written(path, &expected.digest())?;
    index.show_as_of(today);
    Ok(index)
}

/// Keeps the index file right across an erasure: made before the erasure starts (it holds the
/// index lock and the store's signature until [`Erasure::finish`]).
pub struct Erasure {
    path: PathBuf,
    before: Signature,
    _lock: Lock,
}

impl Erasure {
    /// None when the store has no index file location.
    pub fn begin(store: &Store) -> anyhow::Result<Option<Erasure>> {
        let Some(path) = path_for(store.location()) else {
            return Ok(None);
        };
        let lock = Lock::take(&path)?;
        let before = search_source::signature(&store.conn)?;
        Ok(Some(Erasure {
            path,
            before,
            _lock: lock,
        }))
    }

    /// Drops the contacts with rollcall ids `erased` (all now erased from the store) from the
    /// file, or deletes the file when the store changed otherwise meanwhile, or the file was not
    /// current: either way nothing of theirs is left in it.
    pub fn finish(self, store: &Store, erased: &[i64]) -> anyhow::Result<()> {
        let after = search_source::signature(&store.conn)?;
        let patched = after.follows_erasure_of(&self.before, erased.len())
            && self.patch(erased, &after).is_ok();
        if !patched {
            match fs::remove_file(&self.path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(anyhow::Error::new(e).context(format!(
                        "the person is erased from the database, but the search index {} \
                         could not be removed; delete it",
                        self.path.display()
                    )));
                }
            }
        }
        Ok(())
    }

    fn patch(&self, erased: &[i64], after: &Signature) -> Result<(), Refused> {
        let mut index = read_as_written(&self.path, &self.before.digest())?;
        if index.remove_contacts(erased) != erased.len() {
            return Err(Refused::Stale);
        }
        write(&self.path, &index, after).map_err(|_| Refused::Unreadable)
    }
}

/// One writer at a time: an advisory lock on an empty file beside the index.
struct Lock {
    _file: File,
}

impl Lock {
    fn take(index: &Path) -> io::Result<Lock> {
        let path = beside(index, ".lock");
        let file = match create_new_owner_only(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                fs::OpenOptions::new().read(true).write(true).open(&path)?
            }
            Err(e) => return Err(e),
        };
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: flock on a file descriptor this function owns; no memory is involved.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(Lock { _file: file })
    }
}

/// Replaces the file at `path` with `index`, signed with `signature`: written to a new
/// owner-only file beside it, then renamed over it, so a reader sees the old file or the new.
fn write(path: &Path, index: &Index, signature: &Signature) -> io::Result<()> {
    let pending = beside(path, &format!(".new{}", std::process::id()));
    let _ = fs::remove_file(&pending);
    let file = create_new_owner_only(&pending)?;
    let written =
        write_to(file, index, &signature.digest()).and_then(|()| fs::rename(&pending, path));
    if written.is_err() {
        let _ = fs::remove_file(&pending);
    }
    written
}

/// The sizes the header records, and the day the index shows memberships as of.
struct Header {
    today: i32,
    stamp: [u8; 32],
    records: u64,
    text: u64,
    memberships: u64,
    strings: u64,
    interned: u64,
    checksum: u32,
}

impl Header {
    fn encode(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[0..8].copy_from_slice(&MAGIC);
        h[8..12].copy_from_slice(&FORMAT.to_le_bytes());
        h[12..16].copy_from_slice(&self.today.to_le_bytes());
        h[16..48].copy_from_slice(&self.stamp);
        let sizes = [
            self.records,
            self.text,
            self.memberships,
            self.strings,
            self.interned,
        ];
        for (i, size) in sizes.iter().enumerate() {
            h[48 + i * 8..56 + i * 8].copy_from_slice(&size.to_le_bytes());
        }
        h[CHECKSUM_AT..CHECKSUM_AT + 4].copy_from_slice(&self.checksum.to_le_bytes());
        h
    }

    fn decode(h: &[u8; HEADER_LEN]) -> Result<Header, Refused> {
        if h[0..8] != MAGIC || u32_at(h, 8) != FORMAT {
            return Err(Refused::NotAnIndex);
        }
        let size = |i: usize| u64_at(h, 48 + i * 8);
        Ok(Header {
            today: u32_at(h, 12) as i32,
            stamp: h[16..48].try_into().expect("32 bytes"),
            records: size(0),
            text: size(1),
            memberships: size(2),
            strings: size(3),
            interned: size(4),
            checksum: u32_at(h, CHECKSUM_AT),
        })
    }

    /// How long the body is, or None for sizes no file could have.
    fn body_len(&self) -> Option<u64> {
        let records = self.records.checked_mul((HEAD_LEN + CONTACT_LEN) as u64)?;
        let memberships = self.memberships.checked_mul(MEMBERSHIP_LEN as u64)?;
        [self.text, memberships, self.strings, self.interned]
            .into_iter()
            .try_fold(records, u64::checked_add)
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn date_code(date: Option<NaiveDate>) -> i32 {
    date.map_or(NO_DATE, |d| d.num_days_from_ce())
}

fn date_from(code: i32) -> Result<Option<NaiveDate>, Refused> {
    if code == NO_DATE {
        return Ok(None);
    }
    NaiveDate::from_num_days_from_ce_opt(code)
        .map(Some)
        .ok_or(Refused::Damaged)
}

/// A writer that checksums what passes through it.
struct Summed<W> {
    inner: W,
    sum: crc32fast::Hasher,
}

impl<W: Write> Write for Summed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sum.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn write_to(mut file: File, index: &Index, stamp: &[u8; 32]) -> io::Result<()> {
    let interned = encode_interned(index);
    let mut header = Header {
        today: index.today.num_days_from_ce(),
        stamp: *stamp,
        records: index.contacts.len() as u64,
        text: index.text.len() as u64,
        memberships: index.memberships.len() as u64,
        strings: index.strings.len() as u64,
        interned: interned.len() as u64,
        checksum: 0,
    };
    let mut sum = crc32fast::Hasher::new();
    sum.update(&header.encode()[..CHECKSUM_AT]);
    file.write_all(&header.encode())?;
    header.checksum = write_body(&mut file, index, &interned, sum)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&header.encode())?;
    Ok(())
}

/// Writes the body after the header; returns the checksum of `sum` carried on over it.
fn write_body(
    file: &mut File,
    index: &Index,
    interned: &[u8],
    sum: crc32fast::Hasher,
) -> io::Result<u32> {
    let mut out = Summed {
        inner: BufWriter::with_capacity(1 << 20, file),
        sum,
    };
    out.write_all(&index.text)?;
    for head in &index.heads {
        out.write_all(&encode_head(head))?;
    }
    for contact in &index.contacts {
        out.write_all(&encode_contact(contact))?;
    }
    for membership in &index.memberships {
        out.write_all(&encode_membership(membership))?;
    }
    out.write_all(index.strings.as_bytes())?;
    out.write_all(interned)?;
    out.flush()?;
    Ok(out.sum.finalize())
}

fn encode_head(h: &Head) -> [u8; HEAD_LEN] {
    let mut b = [0u8; HEAD_LEN];
    b[0..16].copy_from_slice(&h.char_pairs.to_le_bytes());
    let words = [
        h.digit_pairs,
        h.field_initials,
        h.all,
        h.name,
        h.word_starts,
    ];
    for (i, w) in words.iter().enumerate() {
        b[16 + i * 8..24 + i * 8].copy_from_slice(&w.to_le_bytes());
    }
    b[56..60].copy_from_slice(&h.start.to_le_bytes());
    b[60..64].copy_from_slice(&h.id_lengths.to_le_bytes());
    b
}

fn decode_head(b: &[u8]) -> Head {
    Head {
        char_pairs: u128::from_le_bytes(b[0..16].try_into().expect("16 bytes")),
        digit_pairs: u64_at(b, 16),
        field_initials: u64_at(b, 24),
        all: u64_at(b, 32),
        name: u64_at(b, 40),
        word_starts: u64_at(b, 48),
        start: u32_at(b, 56),
        id_lengths: u32_at(b, 60),
    }
}

fn encode_contact(c: &ContactRow) -> [u8; CONTACT_LEN] {
    let mut b = [0u8; CONTACT_LEN];
    b[0..8].copy_from_slice(&c.id.to_le_bytes());
    b[8..12].copy_from_slice(&c.strings.to_le_bytes());
    for (i, len) in c.lens.iter().enumerate() {
        b[12 + i * 2..14 + i * 2].copy_from_slice(&len.to_le_bytes());
    }
    b[20..24].copy_from_slice(&c.first_membership.to_le_bytes());
    b[24..28].copy_from_slice(&c.local_party.to_le_bytes());
    b[28..30].copy_from_slice(&c.membership_count.to_le_bytes());
    b[30] = c.flags;
    b
}

fn decode_contact(b: &[u8]) -> ContactRow {
    ContactRow {
        id: u64_at(b, 0) as i64,
        strings: u32_at(b, 8),
        lens: [u16_at(b, 12), u16_at(b, 14), u16_at(b, 16), u16_at(b, 18)],
        first_membership: u32_at(b, 20),
        local_party: u32_at(b, 24),
        membership_count: u16_at(b, 28),
        flags: b[30],
    }
}

fn encode_membership(m: &MembershipRow) -> [u8; MEMBERSHIP_LEN] {
    let mut b = [0u8; MEMBERSHIP_LEN];
    b[0..8].copy_from_slice(&m.id.to_le_bytes());
    b[8..12].copy_from_slice(&m.crm_id.to_le_bytes());
    b[12..14].copy_from_slice(&m.crm_id_len.to_le_bytes());
    b[14..16].copy_from_slice(&m.membership_type.to_le_bytes());
    b[16..18].copy_from_slice(&m.crm_status.to_le_bytes());
    b[18] = u8::from(m.dates_unknown);
    for (i, date) in [m.join, m.start, m.end].into_iter().enumerate() {
        b[20 + i * 4..24 + i * 4].copy_from_slice(&date_code(date).to_le_bytes());
    }
    b
}

fn decode_membership(b: &[u8]) -> Result<MembershipRow, Refused> {
    Ok(MembershipRow {
        id: u64_at(b, 0) as i64,
        crm_id: u32_at(b, 8),
        crm_id_len: u16_at(b, 12),
        membership_type: u16_at(b, 14),
        crm_status: u16_at(b, 16),
        dates_unknown: b[18] != 0,
        join: date_from(u32_at(b, 20) as i32)?,
        start: date_from(u32_at(b, 24) as i32)?,
        end: date_from(u32_at(b, 28) as i32)?,
    })
}

/// Local parties, membership types and statuses: each list a count, then each value's length
/// and bytes.
fn encode_interned(index: &Index) -> Vec<u8> {
    let mut out = Vec::new();
    for list in [&index.parties, &index.types, &index.statuses] {
        out.extend_from_slice(&(list.len() as u32).to_le_bytes());
        for value in list {
            out.extend_from_slice(&(value.len() as u32).to_le_bytes());
            out.extend_from_slice(value.as_bytes());
        }
    }
    out
}

fn decode_interned(mut b: &[u8]) -> Result<[Vec<String>; 3], Refused> {
    let mut take = |n: usize| -> Result<&[u8], Refused> {
        let (head, rest) = b.split_at_checked(n).ok_or(Refused::Damaged)?;
        b = rest;
        Ok(head)
    };
    let mut lists: [Vec<String>; 3] = Default::default();
    for list in &mut lists {
        let count = u32_at(take(4)?, 0) as usize;
        for _ in 0..count {
            let len = u32_at(take(4)?, 0) as usize;
            let value = std::str::from_utf8(take(len)?).map_err(|_| Refused::Damaged)?;
            list.push(value.to_owned());
        }
    }
    Ok(lists)
}

/// Reads the next `len` bytes into a buffer of their own, adding them to the checksum.
fn section(file: &mut File, len: u64, sum: &mut crc32fast::Hasher) -> Result<Vec<u8>, Refused> {
    let mut buf = vec![0u8; usize::try_from(len).map_err(|_| Refused::Damaged)?];
    file.read_exact(&mut buf).map_err(|_| Refused::Damaged)?;
    sum.update(&buf);
    Ok(buf)
}

/// The index as written, if the file is whole, owner-only and signed with `expected`.
fn read_as_written(path: &Path, expected: &[u8; 32]) -> Result<Index, Refused> {
    let mut file = match open_without_blocking(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(Refused::Missing),
        Err(_) => return Err(Refused::Unreadable),
    };
    let meta = file.metadata().map_err(|_| Refused::Unreadable)?;
    if !meta.is_file() {
        return Err(Refused::NotAnIndex);
    }
    if !is_owner_only(&file).map_err(|_| Refused::Unreadable)? {
        return Err(Refused::NotOwnerOnly);
    }
    let mut bytes = [0u8; HEADER_LEN];
    file.read_exact(&mut bytes).map_err(|_| Refused::Damaged)?;
    let header = Header::decode(&bytes)?;
    if header.stamp != *expected {
        return Err(Refused::Stale);
    }
    // Checked before anything is allocated, so a damaged size cannot ask for terabytes.
    if header
        .body_len()
        .and_then(|b| b.checked_add(HEADER_LEN as u64))
        != Some(meta.len())
    {
        return Err(Refused::Damaged);
    }
    let mut sum = crc32fast::Hasher::new();
    sum.update(&bytes[..CHECKSUM_AT]);
    let text = section(&mut file, header.text, &mut sum)?;
    let heads: Vec<Head> = section(&mut file, header.records * HEAD_LEN as u64, &mut sum)?
        .chunks_exact(HEAD_LEN)
        .map(decode_head)
        .collect();
    let contacts: Vec<ContactRow> =
        section(&mut file, header.records * CONTACT_LEN as u64, &mut sum)?
            .chunks_exact(CONTACT_LEN)
            .map(decode_contact)
            .collect();
    let memberships = section(
        &mut file,
        header.memberships * MEMBERSHIP_LEN as u64,
        &mut sum,
    )?
    .chunks_exact(MEMBERSHIP_LEN)
    .map(decode_membership)
    .collect::<Result<Vec<_>, _>>()?;
    let strings = String::from_utf8(section(&mut file, header.strings, &mut sum)?)
        .map_err(|_| Refused::Damaged)?;
    let interned = section(&mut file, header.interned, &mut sum)?;
    if sum.finalize() != header.checksum {
        return Err(Refused::Damaged);
    }
    let [parties, types, statuses] = decode_interned(&interned)?;
    let today = NaiveDate::from_num_days_from_ce_opt(header.today).ok_or(Refused::Damaged)?;
    let index = Index {
        text,
        heads,
        contacts,
        memberships,
        strings,
        parties,
        types,
        statuses,
        today,
    };
    if !in_bounds(&index) {
        return Err(Refused::Damaged);
    }
    Ok(index)
}

/// Whether every offset, length and interned number in `index` points where the matcher and
/// the result rows will look: a file with a right checksum and a wrong layout (written by a
/// bug, or on purpose) is refused rather than trusted to index out of bounds.
fn in_bounds(index: &Index) -> bool {
    let records = index.contacts.len();
    if index.heads.len() != records
        || index.heads.first().is_some_and(|h| h.start != 0)
        || index.heads.windows(2).any(|w| w[0].start > w[1].start)
        || index
            .heads
            .last()
            .is_some_and(|h| h.start as usize > index.text.len())
    {
        return false;
    }
    (0..records).all(|r| record_in_bounds(index, r))
        && index
            .memberships
            .iter()
            .all(|m| membership_in_bounds(index, m))
}

fn record_in_bounds(index: &Index, record: usize) -> bool {
    let head = &index.heads[record];
    let text = index.record_text(record as u32);
    let c = &index.contacts[record];
    let separators = text.iter().filter(|&&b| b == FIELD_SEP).count();
    let name_len = head.name_len();
    let name_mask = if name_len >= 64 {
        u64::MAX
    } else {
        (1 << name_len) - 1
    };
    let email = text.get(name_len + 1..).unwrap_or_default();
    separators >= FIRST_MEMBERSHIP - 1
        && text.get(name_len) == Some(&FIELD_SEP)
        && email.get(head.email_len()) == Some(&FIELD_SEP)
        && head.word_starts & !name_mask == 0
        && (c.local_party as usize) < index.parties.len()
        && (c.first_membership as usize + c.membership_count as usize) <= index.memberships.len()
        && strings_in_bounds(index, c.strings as usize, &c.lens)
}

fn membership_in_bounds(index: &Index, m: &MembershipRow) -> bool {
    (m.membership_type as usize) < index.types.len()
        && (m.crm_status as usize) < index.statuses.len()
        && strings_in_bounds(index, m.crm_id as usize, &[m.crm_id_len])
}

/// Whether strings of `lens` back to back from `at` lie in the arena on character boundaries.
fn strings_in_bounds(index: &Index, mut at: usize, lens: &[u16]) -> bool {
    let arena = &index.strings;
    if !arena.is_char_boundary(at) {
        return false;
    }
    lens.iter().all(|&len| {
        at += len as usize;
        at <= arena.len() && arena.is_char_boundary(at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::membership::MembershipDates;
    use crate::search::{ContactInput, MembershipInput};

    fn d(s: &str) -> NaiveDate {
        crate::domain::dates::parse_iso(s).unwrap()
    }

    fn signature() -> Signature {
        Signature {
            first_import: Some("2026-11-23T09:00:00Z abc".into()),
            last_import: Some(1),
            last_import_mark: Some("2026-11-23T09:00:00Z abc".into()),
            erasures: 0,
            contacts: 3,
            memberships: 4,
            max_contact: Some(3),
        }
    }

    fn person(id: i64, name: &str, memberships: &[(&str, &str, &str)]) -> ContactInput {
        ContactInput {
            id,
            crm_id: format!("C{id}"),
            display_name: name.into(),
            email: format!("{}@example.org", name.to_lowercase().replace(' ', ".")),
            postcode: "CF10 1AA".into(),
            local_party: "Cardiff Central".into(),
            memberships: memberships
                .iter()
                .enumerate()
                .map(|(i, (crm, start, end))| MembershipInput {
                    id: id * 10 + i as i64,
                    crm_id: (*crm).into(),
                    membership_type: "Individual".into(),
                    crm_status: "Current".into(),
                    dates: MembershipDates {
                        join: Some(d(start)),
                        start: Some(d(start)),
                        end: Some(d(end)),
                        dates_unknown: false,
                    },
                })
                .collect(),
            ..ContactInput::default()
        }
    }

    fn people() -> Vec<ContactInput> {
        vec![
            person(1, "Siân Jones", &[("M1", "2020-01-01", "2027-06-30")]),
            // M3 starts in June 2027: until then it is pending and M2 is shown; after M2
            // lapses, M3.
            person(
                2,
                "Aled Evans",
                &[
                    ("M2", "2020-01-01", "2026-12-31"),
                    ("M3", "2027-06-01", "2028-05-31"),
                ],
            ),
            person(3, "Mair Davies", &[("M4", "2020-01-01", "2027-01-31")]),
        ]
    }

    /// Everything a search reads or shows of every record.
    fn contents(index: &Index) -> Vec<String> {
        (0..index.len() as u32)
            .map(|r| {
                let c = index.contact(r);
                let ms: Vec<String> = (0..index.membership_count(r))
                    .filter_map(|n| index.membership(r, n))
                    .map(|m| format!("{}:{:?}:{}", m.crm_id, m.dates.end, m.crm_status))
                    .collect();
                format!(
                    "{:?} {:?} {} {} {} {ms:?}",
                    index.record_text(r),
                    index.heads[r as usize].char_pairs,
                    c.id,
                    c.name,
                    c.email
                )
            })
            .collect()
    }

    #[test]
    fn an_index_reads_back_as_it_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db.search");
        let index = Index::from_contacts(&people(), d("2026-11-23"));
        write(&path, &index, &signature()).unwrap();
        let back = read(&path, &signature(), d("2026-11-23")).unwrap();
        assert_eq!(contents(&back), contents(&index));
        let mut other = signature();
        other.erasures = 1;
        assert_eq!(
            read(&path, &other, d("2026-11-23")).err(),
            Some(Refused::Stale)
        );
    }

    #[test]
    fn read_on_a_later_day_it_matches_an_index_built_that_day() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db.search");
        let built_then = Index::from_contacts(&people(), d("2026-11-23"));
        write(&path, &built_then, &signature()).unwrap();
        let aled_shows = |index: &Index| {
            let record = (0..index.len() as u32)
                .find(|&r| index.contact(r).id == 2)
                .unwrap();
            index.membership(record, 0).unwrap().crm_id.to_owned()
        };
        assert_eq!(aled_shows(&built_then), "M2");
        for (day, shown) in [
            ("2027-02-01", "M3"),
            ("2027-07-01", "M3"),
            ("2026-12-01", "M2"),
        ] {
            let read_later = read(&path, &signature(), d(day)).unwrap();
            let built_later = Index::from_contacts(&people(), d(day));
            assert_eq!(contents(&read_later), contents(&built_later), "{day}");
            assert_eq!(aled_shows(&read_later), shown, "{day}");
        }
    }

    #[test]
    fn dropping_contacts_leaves_what_building_without_them_gives() {
        let mut index = Index::from_contacts(&people(), d("2026-11-23"));
        assert_eq!(index.remove_contacts(&[2]), 1);
        let without: Vec<ContactInput> = people().into_iter().filter(|p| p.id != 2).collect();
        let built = Index::from_contacts(&without, d("2026-11-23"));
        assert_eq!(contents(&index), contents(&built));
        assert!(!contains_bytes(index.strings.as_bytes(), b"Aled"));
        assert!(!contains_bytes(&index.text, b"aled"));
    }

    fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }
}
