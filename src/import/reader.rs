//! The reading side of an import: opens the file (encoding, delimiter, headers, profile) and, on
//! its own thread, turns records into parsed rows in batches for the writer.

use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender};

use anyhow::{Context, Result, bail};
use csv::{ByteRecord, StringRecord};

use super::DateOrder;
use super::dates::DateReader;
use super::decode::{ExportReader, TextEncoding};
use super::profile::{ColumnMap, Profile};
use super::row::{Rejection, RowOutcome, RowParser};

/// Rows per message to the writer: big enough that the channel costs nothing, small enough that
/// progress and Ctrl-C are seen several times a second.
pub const BATCH_ROWS: usize = 1024;

/// An export opened and matched to a profile, ready to stream.
pub struct OpenExport {
    pub profile: Profile,
    pub detected: bool,
    pub parser: RowParser,
    pub csv: csv::Reader<ExportReader>,
}

impl OpenExport {
    pub fn open(
        path: &Path,
        encoding: TextEncoding,
        delimiter: u8,
        requested_profile: &str,
        date_order: Option<DateOrder>,
    ) -> Result<OpenExport> {
        let reader = ExportReader::open(path, encoding)
            .with_context(|| format!("{}: cannot read the file", path.display()))?;
        let mut csv = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 20)
            .from_reader(reader);
        let mut header = ByteRecord::new();
        let found = csv
            .read_byte_record(&mut header)
            .with_context(|| format!("{}: cannot read the header line", path.display()))?;
        if !found {
            bail!("{}: the file is empty (no header line)", path.display());
        }
        let headers: Vec<String> = header
            .iter()
            .map(|h| {
                String::from_utf8_lossy(h)
                    .trim_start_matches('\u{feff}')
                    .trim()
                    .to_owned()
            })
            .collect();
        let header = StringRecord::from(headers.clone());
        let (profile, map, detected) = Profile::choose(requested_profile, &headers)
            .with_context(|| path.display().to_string())?;
        let dates = DateReader::new(date_order.or(profile.date_order));
        Ok(OpenExport {
            profile,
            detected,
            parser: RowParser::new(map, dates, header),
            csv,
        })
    }

    pub fn map(&self) -> &ColumnMap {
        self.parser.map()
    }
}

/// What the reading thread sends the writer.
pub enum Message {
    Batch(Batch),
    /// The whole file was read.
    Done {
        sha256: String,
        date_order: DateOrder,
    },
    /// The file's dates are month-first after all: start again with that order.
    RestartMonthFirst,
    Failed(anyhow::Error),
}

pub struct Batch {
    pub rows: Vec<RowOutcome>,
    pub bytes_done: u64,
}

/// Reads every record and sends parsed rows until the file ends or the writer hangs up. The
/// writer sends the rows' text buffers back on `recycled`, so steady state allocates nothing.
pub fn stream_rows(
    mut export: OpenExport,
    path: &Path,
    to_writer: SyncSender<Message>,
    recycled: Receiver<Vec<String>>,
) {
    let mut record = StringRecord::new();
    let mut rows = Vec::with_capacity(BATCH_ROWS);
    let mut spare: Vec<String> = Vec::new();
    loop {
        let more = match export.csv.read_record(&mut record) {
            Ok(more) => more,
            Err(e) if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) => {
                let offset = e.position().map_or(0, |p| p.byte());
                let line = export.csv.get_mut().line_at(offset);
                rows.push(RowOutcome::Rejected(Rejection::unreadable(
                    line,
                    "not valid UTF-8 text (is the file really UTF-8?)",
                )));
                true
            }
            Err(e) => {
                let offset = e.position().map_or(0, |p| p.byte());
                let line = export.csv.get_mut().line_at(offset);
                let _ = to_writer.send(Message::Failed(anyhow::anyhow!(
                    "{}: cannot read the file near line {line}: {}",
                    path.display(),
                    io_kind(&e)
                )));
                return;
            }
        };
        if more && !record.is_empty() {
            if spare.is_empty() {
                spare.extend(recycled.try_iter().flatten());
            }
            let buffer = spare.pop().unwrap_or_else(|| String::with_capacity(512));
            let offset = record.position().map_or(0, |p| p.byte());
            let line = export.csv.get_mut().line_at(offset);
            match export.parser.parse(&record, line, buffer) {
                RowOutcome::RestartMonthFirst => {
                    let _ = to_writer.send(Message::RestartMonthFirst);
                    return;
                }
                RowOutcome::RepeatedHeader => {}
                outcome => rows.push(outcome),
            }
            record.clear();
        }
        if rows.len() >= BATCH_ROWS || (!more && !rows.is_empty()) {
            let batch = Batch {
                rows: std::mem::replace(&mut rows, Vec::with_capacity(BATCH_ROWS)),
                bytes_done: export.csv.get_ref().bytes_read(),
            };
            if to_writer.send(Message::Batch(batch)).is_err() {
                return; // The writer stopped (cancelled or failed).
            }
        }
        if !more {
            let date_order = export.parser.dates.order_used();
            let sha256 = export.csv.into_inner().sha256_hex();
            let _ = to_writer.send(Message::Done { sha256, date_order });
            return;
        }
    }
}

/// A CSV error without the record's contents.
fn io_kind(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        csv::ErrorKind::Utf8 { .. } => "text that is not valid in the file's encoding".into(),
        _ => "malformed CSV".into(),
    }
}
