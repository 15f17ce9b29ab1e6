//! Files as they really come: the encoding (UTF-8 with or without a byte-order mark, UTF-16 from
//! Excel's "Unicode text", Windows-1252 from Excel's "CSV") and the delimiter (`,` `;` or tab).
//!
//! [`ExportFile`] opens the path once, and refuses anything that is not a regular file (a FIFO
//! would block every read forever, a device never ends). Every pass over it — the encoding
//! sniff, the delimiter sniff, the decoding reader and the SHA-256 — reads that one handle at a
//! position of its own.
//!
//! [`ExportReader`] streams the file as UTF-8, decoding on the fly, so a 300 MB export never sits
//! in memory whole. It counts the raw bytes (for the progress bar) and the lines (for rejected
//! rows) as they pass.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, anyhow};
use encoding_rs::{Decoder, Encoding, UTF_16BE, UTF_16LE, WINDOWS_1252};
use sha2::{Digest, Sha256};

use crate::storage::{not_a_regular_file, open_without_blocking};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
const CHUNK: usize = 1 << 20;

/// The text encoding of an export file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    Windows1252,
}

impl TextEncoding {
    /// How reports name it.
    pub fn label(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Utf8Bom => "UTF-8 with BOM",
            TextEncoding::Utf16Le => "UTF-16LE",
            TextEncoding::Utf16Be => "UTF-16BE",
            TextEncoding::Windows1252 => "Windows-1252",
        }
    }

    fn decoder(self) -> Option<Decoder> {
        let encoding: &'static Encoding = match self {
            TextEncoding::Utf8 | TextEncoding::Utf8Bom => return None,
            TextEncoding::Utf16Le => UTF_16LE,
            TextEncoding::Utf16Be => UTF_16BE,
            TextEncoding::Windows1252 => WINDOWS_1252,
        };
        Some(encoding.new_decoder_with_bom_removal())
    }

    /// Bytes of the file before its text starts (a UTF-8 byte-order mark).
    fn text_start(self) -> u64 {
        if self == TextEncoding::Utf8Bom { 3 } else { 0 }
    }
}

/// An export file, opened once; cheap to clone (the clones share the handle).
#[derive(Debug, Clone)]
pub struct ExportFile {
    file: Arc<File>,
    len: u64,
}

impl ExportFile {
    /// Opens a regular file. Anything else (a FIFO, a device, a directory, a socket) is refused
    /// with what it is, before it is read: opened without blocking, and checked again through
    /// the handle, so a FIFO put in its place in between cannot hang the import either.
    pub fn open(path: &Path) -> anyhow::Result<ExportFile> {
        let refuse = |kind: &str| {
            anyhow!(
                "{}: is {kind}, not an export file; rollcall imports regular files only (save \
                 the export to a file and import that)",
                path.display()
            )
        };
        let cannot_read = || format!("{}: cannot read the file", path.display());
        let meta = std::fs::metadata(path).with_context(cannot_read)?;
        if let Some(kind) = not_a_regular_file(meta.file_type()) {
            return Err(refuse(kind));
        }
        let file = open_without_blocking(path).with_context(cannot_read)?;
        let meta = file.metadata().with_context(cannot_read)?;
        if let Some(kind) = not_a_regular_file(meta.file_type()) {
            return Err(refuse(kind));
        }
        Ok(ExportFile {
            file: Arc::new(file),
            len: meta.len(),
        })
    }

    /// The file's size when it was opened.
    pub fn size(&self) -> u64 {
        self.len
    }

    /// The first `n` bytes (fewer in a shorter file): what the file is.
    pub fn head(&self, n: u64) -> io::Result<Vec<u8>> {
        self.bytes(0, n)
    }

    /// The whole file, for readers that need it in memory (a spreadsheet's zip directory is at
    /// its end).
    pub fn all_bytes(&self) -> io::Result<Vec<u8>> {
        self.bytes(0, u64::MAX)
    }

    /// A reader from byte `pos` on, independent of every other reader of the file.
    fn reader_at(&self, pos: u64) -> FileAt {
        FileAt {
            file: Arc::clone(&self.file),
            pos,
        }
    }

    /// Bytes `start..end` of the file (fewer at its end).
    fn bytes(&self, start: u64, end: u64) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.reader_at(start)
            .take(end.saturating_sub(start))
            .read_to_end(&mut bytes)?;
        Ok(bytes)
    }
}

/// Reads a shared file handle at a position of its own (`pread`), so several passes over one
/// open file never move each other's place.
struct FileAt {
    file: Arc<File>,
    pos: u64,
}

impl Read for FileAt {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(&*self.file, buf, self.pos)?;
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_read(&*self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// Works out a file's encoding. A byte-order mark decides at once. Otherwise the whole file is
/// checked as UTF-8, because a Windows-1252 `£` may first appear on row 400,000:
/// - valid UTF-8 throughout: UTF-8;
/// - bytes that are not UTF-8 and no character that is (beyond ASCII): Windows-1252;
/// - both — UTF-8 text with a few stray bytes, typically a value pasted from a Windows program:
///   UTF-8, so the rows with the stray bytes are rejected, each named by line and byte offset.
///   Reading the whole file as Windows-1252 would silently turn every `Siân` into `SiÃ¢n`.
pub fn sniff_encoding(file: &ExportFile) -> io::Result<TextEncoding> {
    let mut reader = file.reader_at(0);
    let mut buf = vec![0u8; CHUNK];
    let mut filled = read_full(&mut reader, &mut buf[..4])?;
    let head = &buf[..filled];
    if head.starts_with(UTF8_BOM) {
        return Ok(TextEncoding::Utf8Bom);
    }
    if head.starts_with(b"\xFF\xFE") {
        return Ok(TextEncoding::Utf16Le);
    }
    if head.starts_with(b"\xFE\xFF") {
        return Ok(TextEncoding::Utf16Be);
    }
    let mut not_utf8 = false;
    let mut beyond_ascii = false;
    loop {
        let n = reader.read(&mut buf[filled..])?;
        let end = filled + n;
        let mut at = 0;
        let keep_from = loop {
            let (valid, error) = match std::str::from_utf8(&buf[at..end]) {
                Ok(_) => (end, None),
                Err(e) => (at + e.valid_up_to(), Some(e.error_len())),
            };
            beyond_ascii = beyond_ascii || !buf[at..valid].is_ascii();
            match error {
                None => break end,
                Some(Some(bad)) => {
                    not_utf8 = true;
                    at = valid + bad;
                }
                // A character cut short by the end of the file.
                Some(None) if n == 0 => {
                    not_utf8 = true;
                    break end;
                }
                // A character split across reads: keep its first bytes for the next round.
                Some(None) => break valid,
            }
            if not_utf8 && beyond_ascii {
                return Ok(TextEncoding::Utf8);
            }
        };
        if not_utf8 && beyond_ascii {
            return Ok(TextEncoding::Utf8);
        }
        if n == 0 {
            return Ok(if not_utf8 {
                TextEncoding::Windows1252
            } else {
                TextEncoding::Utf8
            });
        }
        buf.copy_within(keep_from..end, 0);
        filled = end - keep_from;
    }
}

/// Counts physical lines in the text handed to the CSV reader, so rejected rows can be named by
/// the line an editor shows. (The csv crate's own line numbers drift after CRLF line ends and
/// blank lines.)
#[derive(Debug, Default)]
struct LineTracker {
    /// Offsets of `\r` and `\n` bytes not yet accounted for, in order.
    breaks: std::collections::VecDeque<(u64, u8)>,
    /// Bytes of text seen so far.
    seen: u64,
    /// Line breaks before the last offset asked about.
    lines_before: u64,
}

impl LineTracker {
    fn saw(&mut self, text: &[u8]) {
        // Eight bytes at a time: most words hold no line break and are skipped whole.
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        let has_byte = |word: u64, b: u8| {
            let x = word ^ (ONES * u64::from(b));
            x.wrapping_sub(ONES) & !x & HIGHS != 0
        };
        let mut chunks = text.chunks_exact(8);
        let mut at = 0;
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            if has_byte(word, b'\n') || has_byte(word, b'\r') {
                self.note_breaks(chunk, at);
            }
            at += 8;
        }
        self.note_breaks(chunks.remainder(), at);
        self.seen += text.len() as u64;
    }

    fn note_breaks(&mut self, bytes: &[u8], at: usize) {
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' || b == b'\r' {
                self.breaks.push_back((self.seen + (at + i) as u64, b));
            }
        }
    }

    /// Counts one break: `\n`, or a `\r` not followed by `\n` (a CR-only file).
    fn pop_break(&mut self) {
        if let Some((offset, b)) = self.breaks.pop_front() {
            let crlf = b == b'\r' && self.breaks.front() == Some(&(offset + 1, b'\n'));
            if !crlf {
                self.lines_before += 1;
            }
        }
    }

    fn line_at(&mut self, offset: u64) -> u64 {
        while self.breaks.front().is_some_and(|(o, _)| *o < offset) {
            self.pop_break();
        }
        // A record "starts" at the end of the one before: skip its line end and blank lines.
        let mut cursor = offset;
        while self.breaks.front().is_some_and(|(o, _)| *o == cursor) {
            self.pop_break();
            cursor += 1;
        }
        self.lines_before + 1
    }
}

fn read_full(file: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = file.read(&mut buf[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

/// The file's text as UTF-8, with the byte-order mark removed; counts the raw bytes.
pub struct ExportReader {
    export: ExportFile,
    file: FileAt,
    encoding: TextEncoding,
    decoder: Option<Decoder>,
    raw: Vec<u8>,
    raw_start: usize,
    raw_end: usize,
    eof: bool,
    /// The decoder has had its final (`last = true`) call and consumed everything: encoding_rs
    /// panics if it is called again.
    decoder_finished: bool,
    skip_utf8_bom: bool,
    /// Decoded text that did not fit a caller's tiny buffer, handed out on the next read.
    spill: [u8; 4],
    spill_start: usize,
    spill_end: usize,
    bytes_read: u64,
    lines: LineTracker,
}

impl ExportReader {
    /// Reads `export` from its start.
    pub fn new(export: &ExportFile, encoding: TextEncoding) -> ExportReader {
        let decoder = encoding.decoder();
        ExportReader {
            export: export.clone(),
            file: export.reader_at(0),
            encoding,
            raw: vec![0; if decoder.is_some() { CHUNK } else { 0 }],
            decoder,
            raw_start: 0,
            raw_end: 0,
            eof: false,
            decoder_finished: false,
            skip_utf8_bom: encoding == TextEncoding::Utf8Bom,
            spill: [0; 4],
            spill_start: 0,
            spill_end: 0,
            bytes_read: 0,
            lines: LineTracker::default(),
        }
    }

    /// Raw bytes read from the file so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    fn read_raw(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.bytes_read += n as u64;
        Ok(n)
    }

    fn read_decoded(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.decoder_finished {
                return Ok(0);
            }
            if self.raw_start == self.raw_end && !self.eof {
                let mut raw = std::mem::take(&mut self.raw);
                let n = self.read_raw(&mut raw);
                self.raw = raw;
                let n = n?;
                self.raw_start = 0;
                self.raw_end = n;
                self.eof = n == 0;
            }
            let decoder = self.decoder.as_mut().expect("decoding reader");
            let input = &self.raw[self.raw_start..self.raw_end];
            let (result, read, written, _) = decoder.decode_to_utf8(input, out, self.eof);
            self.raw_start += read;
            // A truncated last character has been written as U+FFFD by now.
            self.decoder_finished = self.eof && result == encoding_rs::CoderResult::InputEmpty;
            if written > 0 || self.eof {
                return Ok(written);
            }
        }
    }
}

impl Read for ExportReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.read_text(buf)?;
        self.lines.saw(&buf[..n]);
        Ok(n)
    }
}

impl ExportReader {
    /// The physical line (1-based) of the record whose text starts at `offset` (a csv
    /// `Position::byte()`). Call with increasing offsets.
    pub fn line_at(&mut self, offset: u64) -> u64 {
        self.lines.line_at(offset)
    }

    /// Where the first byte that is not UTF-8 lies in the record whose text spans
    /// `start..end` (csv positions), as (byte offset in the file, line), given the line the
    /// record starts on. Read again from the file: only a rejected row pays for it.
    pub fn first_invalid_byte(&self, start: u64, end: u64, line: u64) -> Option<(u64, u64)> {
        if self.decoder.is_some() {
            return None;
        }
        let skip = self.encoding.text_start();
        let raw = self.export.bytes(start + skip, end + skip).ok()?;
        let at = match std::str::from_utf8(&raw) {
            Ok(_) => return None,
            Err(e) => e.valid_up_to(),
        };
        // The record's text starts at the end of the one before: its line end and any blank
        // lines come first, and are counted in `line` already.
        let lead = raw[..at]
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        let before = &raw[lead..at];
        let breaks = before.iter().filter(|&&b| b == b'\n').count()
            + before
                .windows(2)
                .filter(|w| w[0] == b'\r' && w[1] != b'\n')
                .count()
            + usize::from(before.last() == Some(&b'\r'));
        Some((start + skip + at as u64, line + breaks as u64))
    }

    fn read_text(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.spill_start < self.spill_end {
            let take = (self.spill_end - self.spill_start).min(buf.len());
            buf[..take].copy_from_slice(&self.spill[self.spill_start..self.spill_start + take]);
            self.spill_start += take;
            return Ok(take);
        }
        if self.decoder.is_some() {
            // The decoder needs room for at least one whole character: decode into a buffer
            // of that size and hand out the rest on the next read.
            if buf.len() < 4 {
                let mut small = [0u8; 4];
                let n = self.read_decoded(&mut small)?;
                let take = n.min(buf.len());
                buf[..take].copy_from_slice(&small[..take]);
                self.spill = small;
                self.spill_start = take;
                self.spill_end = n;
                return Ok(take);
            }
            return self.read_decoded(buf);
        }
        if self.skip_utf8_bom {
            self.skip_utf8_bom = false;
            let mut bom = [0u8; 3];
            let mut got = 0;
            while got < 3 {
                let n = self.read_raw(&mut bom[got..])?;
                if n == 0 {
                    break;
                }
                got += n;
            }
            if bom[..got] != UTF8_BOM[..got] {
                return Err(io::Error::other("the file changed while it was being read"));
            }
        }
        self.read_raw(buf)
    }
}

/// Bytes as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The SHA-256 of a file as lowercase hex, read on its own (the import runs it on a thread of
/// its own, beside the parsing); None if `stop` was raised first.
pub fn file_sha256(
    export: &ExportFile,
    stop: &std::sync::atomic::AtomicBool,
) -> io::Result<Option<String>> {
    let mut file = export.reader_at(0);
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(None);
        }
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(Some(hex(&sha.finalize())));
        }
        sha.update(&buf[..n]);
    }
}

/// The SHA-256 of a text as lowercase hex.
#[cfg(test)]
pub fn sha256_hex(text: &[u8]) -> String {
    hex(&Sha256::digest(text))
}

/// The delimiter of a file: whichever of `,` `;` tab occurs most often in its first line
/// (outside quotes); `,` when none does.
pub fn sniff_delimiter(export: &ExportFile, encoding: TextEncoding) -> io::Result<u8> {
    let mut reader = ExportReader::new(export, encoding);
    let mut head = vec![0u8; 64 * 1024];
    let mut filled = 0;
    while filled < head.len() {
        let n = reader.read(&mut head[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(delimiter_of_first_line(&head[..filled]))
}

/// The delimiter of the first line that has one, among the first few: a title line above the
/// header (one cell) has none.
fn delimiter_of_first_line(text: &[u8]) -> u8 {
    let delimiters = [b',', b';', b'\t'];
    let mut counts = [0usize; 3];
    let mut quoted = false;
    let mut lines = 0;
    for &b in text {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => {
                // CRLF counts twice: a title's line end is two of them.
                if counts.iter().any(|&n| n > 0) || lines >= 2 * super::reader::MAX_TITLE_LINES {
                    break;
                }
                lines += 1;
            }
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], std::cmp::Reverse(i)));
    match best {
        Some(i) if counts[i] > 0 => delimiters[i],
        _ => b',',
    }
}

/// How reports name a delimiter.
pub fn delimiter_label(delimiter: u8) -> &'static str {
    match delimiter {
        b';' => ";",
        b'\t' => "tab",
        _ => ",",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f.flush().unwrap();
        f
    }

    fn export(path: &Path) -> ExportFile {
        ExportFile::open(path).unwrap()
    }

    fn read_text(path: &Path, encoding: TextEncoding) -> (String, u64) {
        let mut r = ExportReader::new(&export(path), encoding);
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        (s, r.bytes_read())
    }

    #[test]
    fn utf8_with_bom() {
        let f = file_with("\u{feff}Contact ID,Name\r\n1,Siân\r\n".as_bytes());
        assert_eq!(
            sniff_encoding(&export(f.path())).unwrap(),
            TextEncoding::Utf8Bom
        );
        let (text, bytes) = read_text(f.path(), TextEncoding::Utf8Bom);
        assert_eq!(text, "Contact ID,Name\r\n1,Siân\r\n");
        assert_eq!(bytes, 3 + text.len() as u64);
    }

    #[test]
    fn windows_1252_found_late_in_the_file() {
        let mut bytes = b"Contact ID,Fee\n".to_vec();
        for i in 0..200_000 {
            bytes.extend_from_slice(format!("{i},ten pounds\n").as_bytes());
        }
        bytes.extend_from_slice(b"9,\xA310\n");
        let f = file_with(&bytes);
        assert_eq!(
            sniff_encoding(&export(f.path())).unwrap(),
            TextEncoding::Windows1252
        );
        let (text, read) = read_text(f.path(), TextEncoding::Windows1252);
        assert!(text.ends_with("9,£10\n"));
        assert_eq!(read, bytes.len() as u64);
    }

    #[test]
    fn plain_utf8_with_characters_across_chunk_edges() {
        // 'ł' is two bytes; put one across every 1 MiB boundary we can.
        let mut text = String::from("Contact ID,Name\n");
        while text.len() < 3 * CHUNK {
            text.push_str("1,Łukasz Wójcik\n");
        }
        let f = file_with(text.as_bytes());
        assert_eq!(
            sniff_encoding(&export(f.path())).unwrap(),
            TextEncoding::Utf8
        );
    }

    #[test]
    fn utf16_from_excel_unicode_text() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "Contact ID\tName\r\n1\tFfion\r\n".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let f = file_with(&bytes);
        assert_eq!(
            sniff_encoding(&export(f.path())).unwrap(),
            TextEncoding::Utf16Le
        );
        let (text, _) = read_text(f.path(), TextEncoding::Utf16Le);
        assert_eq!(text, "Contact ID\tName\r\n1\tFfion\r\n");
        assert_eq!(
            sniff_delimiter(&export(f.path()), TextEncoding::Utf16Le).unwrap(),
            b'\t'
        );
    }

    #[test]
    fn utf16_with_half_a_last_character_ends_in_a_replacement_not_a_panic() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "Contact ID\tName\r\n1\tFfion".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        bytes.push(b'x');
        let f = file_with(&bytes);
        let (text, read) = read_text(f.path(), TextEncoding::Utf16Le);
        assert_eq!(text, "Contact ID\tName\r\n1\tFfion\u{FFFD}");
        assert_eq!(read, bytes.len() as u64);
        // Reading on after the end keeps saying "end of file".
        let mut reader = ExportReader::new(&export(f.path()), TextEncoding::Utf16Le);
        let mut sink = Vec::new();
        reader.read_to_end(&mut sink).unwrap();
        assert_eq!(reader.read(&mut [0u8; 16]).unwrap(), 0);
    }

    #[test]
    fn sha_covers_the_raw_bytes() {
        let raw = b"\xEF\xBB\xBFa,b\n1,2\n";
        let f = file_with(raw);
        let stop = std::sync::atomic::AtomicBool::new(false);
        assert_eq!(
            file_sha256(&export(f.path()), &stop).unwrap(),
            Some(sha256_hex(raw))
        );
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(file_sha256(&export(f.path()), &stop).unwrap(), None);
    }

    #[test]
    fn line_numbers_survive_crlf_blank_lines_and_quoted_breaks() {
        for text in [
            "h1,h2\r\n\"a\",\"b\"\r\n\"c\",\"d\r\ne\"\r\nf,g\r\n\r\n\r\nx,y\r\n",
            "h1,h2\n\"a\",\"b\"\n\"c\",\"d\ne\"\nf,g\n\n\nx,y\n",
            "h1,h2\r\"a\",\"b\"\r\"c\",\"d\re\"\rf,g\r\r\rx,y\r",
        ] {
            let f = file_with(text.as_bytes());
            let reader = ExportReader::new(&export(f.path()), TextEncoding::Utf8);
            let mut csv = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(reader);
            let mut record = csv::StringRecord::new();
            let mut lines = Vec::new();
            while csv.read_record(&mut record).unwrap() {
                let offset = record.position().unwrap().byte();
                lines.push(csv.get_mut().line_at(offset));
            }
            assert_eq!(lines, [1, 2, 3, 5, 8], "{text:?}");
        }
    }

    #[test]
    fn line_numbers_in_a_long_file_with_multibyte_text() {
        let mut text = String::from("Name,Place\r\n");
        for i in 0..500 {
            if i % 7 == 0 {
                text.push_str("\"Siân\r\nap Gwilym\",Łódź\r\n");
            } else {
                text.push_str(&format!("Ffion {i},Caerdydd\r\n"));
            }
        }
        let f = file_with(text.as_bytes());
        let reader = ExportReader::new(&export(f.path()), TextEncoding::Utf8);
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(reader);
        let mut record = csv::StringRecord::new();
        let mut expected_line = 1;
        while csv.read_record(&mut record).unwrap() {
            let offset = record.position().unwrap().byte();
            assert_eq!(csv.get_mut().line_at(offset), expected_line, "{record:?}");
            expected_line += 1 + record
                .iter()
                .map(|f| f.matches('\n').count() as u64)
                .sum::<u64>();
        }
        assert_eq!(expected_line, 1 + 1 + 500 + 72);
    }

    #[test]
    fn delimiters() {
        assert_eq!(delimiter_of_first_line(b"a,b,c\n1;2;3;4;5"), b',');
        assert_eq!(delimiter_of_first_line(b"a;b;c\r\n"), b';');
        assert_eq!(delimiter_of_first_line(b"\"a,b\";c\n"), b';');
        assert_eq!(delimiter_of_first_line(b"a\tb\tc"), b'\t');
        assert_eq!(delimiter_of_first_line(b"single"), b',');
        assert_eq!(delimiter_of_first_line(b"\"Title\"\r\na;b;c\r\n"), b';');
    }

    #[test]
    fn utf8_with_a_stray_byte_is_utf8_and_plain_windows_1252_is_not() {
        let mut mixed = "Contact ID,Name\n1,Siân\n2,Ren".as_bytes().to_vec();
        mixed.extend_from_slice(b"\xE9e\n");
        assert_eq!(
            sniff_encoding(&export(file_with(&mixed).path())).unwrap(),
            TextEncoding::Utf8
        );
        // The stray byte first, the UTF-8 after it.
        let mut mixed = b"Contact ID,Name\n2,Ren\xE9e\n".to_vec();
        mixed.extend_from_slice("1,Siân\n".as_bytes());
        assert_eq!(
            sniff_encoding(&export(file_with(&mixed).path())).unwrap(),
            TextEncoding::Utf8
        );
        let legacy = b"Contact ID,Name\n2,Ren\xE9e\n3,\xA310\n";
        assert_eq!(
            sniff_encoding(&export(file_with(legacy).path())).unwrap(),
            TextEncoding::Windows1252
        );
    }

    #[test]
    fn decoded_text_comes_out_whole_through_one_byte_reads() {
        let mut raw = b"Contact ID;Name\r\n".to_vec();
        for _ in 0..5000 {
            raw.extend_from_slice(b"1;Ren\xE9e \xA310\r\n");
        }
        let f = file_with(&raw);
        let mut reader = ExportReader::new(&export(f.path()), TextEncoding::Windows1252);
        let mut text = Vec::new();
        let mut byte = [0u8; 1];
        while reader.read(&mut byte).unwrap() == 1 {
            text.push(byte[0]);
        }
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.ends_with("1;Renée £10\r\n"),
            "{}",
            &text[text.len() - 20..]
        );
        assert_eq!(text.matches('é').count(), 5000);
        assert_eq!(
            sniff_delimiter(&export(f.path()), TextEncoding::Windows1252).unwrap(),
            b';'
        );
    }
}
