//! The reading side of an import: opens the file (encoding, delimiter, headers, profile) and, on
//! its own thread, turns records into parsed rows in batches for the writer.

use std::path::Path;
use std::sync::mpsc::{Receiver, Sender, SyncSender};

use anyhow::{Context, Result, bail};
use csv::{ByteRecord, StringRecord};

use super::DateOrder;
use super::dates::DateReader;
use super::decode::{ExportFile, ExportReader, TextEncoding};
use super::profile::{ColumnMap, LayoutError, NoEvidence, Profile};
use super::row::{Rejection, RowOutcome, RowParser};
use super::sheet::{NumberedRecords, Sheet};

/// Rows per message to the writer: big enough that the channel costs nothing, small enough that
/// progress and Ctrl-C are seen several times a second.
pub const BATCH_ROWS: usize = 1024;

/// An export opened and matched to a profile, ready to stream.
pub struct OpenExport {
    pub profile: Profile,
    pub detected: bool,
    /// Lines above the header skipped as a title (CiviCRM writes one when the export has one).
    pub title_lines: u64,
    pub parser: RowParser,
    pub records: RecordSource,
}

/// Where the records come from: a CSV file streamed, or a spreadsheet's sheet read whole.
pub enum RecordSource {
    // Boxed: a CSV reader carries its buffers' state, hundreds of bytes, which a sheet's
    // variant would otherwise pay for too.
    Csv(Box<csv::Reader<ExportReader>>),
    Sheet {
        records: NumberedRecords,
        /// The file's size, shared out over the rows for the progress bar.
        size: u64,
    },
}

impl OpenExport {
    pub fn open(
        path: &Path,
        file: &ExportFile,
        encoding: TextEncoding,
        delimiter: u8,
        requested_profile: &str,
        date_order: Option<DateOrder>,
    ) -> Result<OpenExport> {
        let reader = ExportReader::new(file, encoding);
        let escape = Profile::quote_escape_of(requested_profile)?;
        let mut csv = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .escape(escape)
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 20)
            .from_reader(reader);
        let mut title_lines = 0;
        let (headers, profile, map, detected) = loop {
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
            match Profile::choose(requested_profile, &headers) {
                Ok((profile, map, detected)) => {
                    break (headers, profile, map, detected);
                }
                Err(e)
                    if title_lines < MAX_TITLE_LINES
                        && is_layout_error(&e)
                        && is_title_line(&headers) =>
                {
                    title_lines += 1;
                }
                Err(e) if title_lines > 0 => {
                    return Err(e.context(format!(
                        "{}: after {title_lines} title line(s) at the top, skipped",
                        path.display()
                    )));
                }
                Err(e) => return Err(e.context(path.display().to_string())),
            }
        };
        Ok(Self::matched(
            headers,
            (profile, map, detected),
            title_lines,
            RecordSource::Csv(Box::new(csv)),
            date_order,
        ))
    }

    /// A spreadsheet's sheet, through the same profile detection and row parser as a CSV file.
    /// (A title line above a sheet's header is not looked for: workbooks carry their title in
    /// the sheet name.)
    pub fn from_sheet(
        path: &Path,
        sheet: Sheet,
        size: u64,
        requested_profile: &str,
        date_order: Option<DateOrder>,
    ) -> Result<OpenExport> {
        let chosen = Profile::choose(requested_profile, &sheet.header)
            .with_context(|| path.display().to_string())?;
        let records = RecordSource::Sheet {
            records: sheet.records,
            size,
        };
        Ok(Self::matched(sheet.header, chosen, 0, records, date_order))
    }

    fn matched(
        headers: Vec<String>,
        (profile, map, detected): (Profile, ColumnMap, bool),
        title_lines: u64,
        records: RecordSource,
        date_order: Option<DateOrder>,
    ) -> OpenExport {
        let dates = DateReader::new(date_order.or(profile.date_order));
        OpenExport {
            profile,
            detected,
            title_lines,
            parser: RowParser::new(map, dates, StringRecord::from(headers)),
            records,
        }
    }

    pub fn map(&self) -> &ColumnMap {
        self.parser.map()
    }
}

/// At most this many lines above the header are skipped as a title.
pub const MAX_TITLE_LINES: u64 = 3;

/// A line that may be a title above the header: at most two cells hold anything (CiviCRM's
/// `makeCSVTable` writes the export's title alone on the first line). A missing header's first
/// row, or a header line, has many.
fn is_title_line(cells: &[String]) -> bool {
    cells.iter().filter(|c| !c.is_empty()).count() <= 2
}

/// Whether `choose` failed on the layout (worth trying the next line), not on the mapping file.
fn is_layout_error(e: &anyhow::Error) -> bool {
    e.is::<LayoutError>() || e.is::<NoEvidence>()
}

/// A record read from the file, or a line that could not be read as text.
pub enum Record {
    Read {
        record: StringRecord,
        line: u64,
    },
    Unreadable {
        line: u64,
        /// The first byte that is not UTF-8: its offset in the file, and its line.
        bad_byte: Option<(u64, u64)>,
    },
}

/// What the reading thread sends the building thread.
pub enum Records {
    Batch {
        records: Vec<Record>,
        bytes_done: u64,
    },
    Done,
    Failed(anyhow::Error),
}

/// What the building thread sends the writer.
pub enum Message {
    Batch(Batch),
    /// The whole file was read.
    Done {
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

/// Stage 1: splits the file into records and notes the line each starts on (a sheet's records
/// come with their row numbers). Spent records come back on `recycled`, so their buffers are
/// reused.
pub fn read_records(
    source: RecordSource,
    path: &Path,
    to_builder: SyncSender<Records>,
    recycled: Receiver<Vec<Record>>,
) {
    match source {
        RecordSource::Csv(csv) => read_csv_records(*csv, path, to_builder, recycled),
        RecordSource::Sheet { records, size } => send_sheet_records(records, size, to_builder),
    }
}

/// A sheet's records in batches, as [`read_csv_records`] sends a file's.
fn send_sheet_records(records: NumberedRecords, size: u64, to_builder: SyncSender<Records>) {
    let total = records.len().max(1) as u64;
    let mut sent = 0u64;
    let mut records = records.into_iter().peekable();
    while records.peek().is_some() {
        let batch: Vec<Record> = records
            .by_ref()
            .take(BATCH_ROWS)
            .map(|(record, line)| Record::Read { record, line })
            .collect();
        sent += batch.len() as u64;
        let bytes_done = size * sent / total;
        if to_builder
            .send(Records::Batch {
                records: batch,
                bytes_done,
            })
            .is_err()
        {
            return; // Stopped downstream (cancelled or failed).
        }
    }
    let _ = to_builder.send(Records::Done);
}

fn read_csv_records(
    mut csv: csv::Reader<ExportReader>,
    path: &Path,
    to_builder: SyncSender<Records>,
    recycled: Receiver<Vec<Record>>,
) {
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut spare: Vec<StringRecord> = Vec::new();
    loop {
        if spare.is_empty() {
            spare.extend(recycled.try_iter().flatten().filter_map(|r| match r {
                Record::Read { record, .. } => Some(record),
                Record::Unreadable { .. } => None,
            }));
        }
        let mut record = spare.pop().unwrap_or_default();
        let more = match csv.read_record(&mut record) {
            Ok(more) => more,
            Err(e) if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) => {
                let offset = e.position().map_or(0, |p| p.byte());
                let line = csv.get_mut().line_at(offset);
                let end = csv.position().byte();
                let bad_byte = csv.get_ref().first_invalid_byte(offset, end, line);
                batch.push(Record::Unreadable { line, bad_byte });
                true
            }
            Err(e) => {
                let offset = e.position().map_or(0, |p| p.byte());
                let line = csv.get_mut().line_at(offset);
                let _ = to_builder.send(Records::Failed(anyhow::anyhow!(
                    "{}: cannot read the file near line {line}: {}",
                    path.display(),
                    io_kind(&e)
                )));
                return;
            }
        };
        if more && !record.is_empty() {
            let offset = record.position().map_or(0, |p| p.byte());
            let line = csv.get_mut().line_at(offset);
            batch.push(Record::Read { record, line });
        }
        if batch.len() >= BATCH_ROWS || (!more && !batch.is_empty()) {
            let records = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
            let bytes_done = csv.get_ref().bytes_read();
            if to_builder
                .send(Records::Batch {
                    records,
                    bytes_done,
                })
                .is_err()
            {
                return; // Stopped downstream (cancelled or failed).
            }
        }
        if !more {
            let _ = to_builder.send(Records::Done);
            return;
        }
    }
}

/// Stage 2: turns records into rows for the writer. The writer sends the rows' text buffers
/// back on `recycled`, so steady state allocates nothing.
pub fn build_rows(
    mut parser: RowParser,
    from_reader: Receiver<Records>,
    spent_records: Sender<Vec<Record>>,
    to_writer: SyncSender<Message>,
    recycled: Receiver<Vec<String>>,
) {
    let mut spare: Vec<String> = Vec::new();
    for message in from_reader {
        let (records, bytes_done) = match message {
            Records::Batch {
                records,
                bytes_done,
            } => (records, bytes_done),
            Records::Done => {
                let date_order = parser.dates.order_used();
                let _ = to_writer.send(Message::Done { date_order });
                return;
            }
            Records::Failed(e) => {
                let _ = to_writer.send(Message::Failed(e));
                return;
            }
        };
        let mut rows = Vec::with_capacity(records.len());
        for item in &records {
            match item {
                Record::Read { record, line } => {
                    if spare.is_empty() {
                        spare.extend(recycled.try_iter().flatten());
                    }
                    let names = parser.membership_names(record);
                    let mut outcomes = Vec::with_capacity(names.len().max(1));
                    if names.is_empty() {
                        let buffer = spare.pop().unwrap_or_else(|| String::with_capacity(512));
                        outcomes.push(parser.parse(record, *line, buffer));
                    } else {
                        // A NationBuilder people row: one membership per name.
                        for name in names {
                            let buffer = spare.pop().unwrap_or_else(|| String::with_capacity(512));
                            outcomes.push(parser.parse_as_named(record, *line, buffer, name));
                        }
                    }
                    for outcome in outcomes {
                        match outcome {
                            RowOutcome::RestartMonthFirst => {
                                let _ = to_writer.send(Message::RestartMonthFirst);
                                return;
                            }
                            RowOutcome::RepeatedHeader => {}
                            outcome => rows.push(outcome),
                        }
                    }
                }
                Record::Unreadable { line, bad_byte } => rows.push(RowOutcome::Rejected(
                    Rejection::unreadable(*line, not_utf8_reason(*line, *bad_byte)),
                )),
            }
        }
        let _ = spent_records.send(records);
        if to_writer
            .send(Message::Batch(Batch { rows, bytes_done }))
            .is_err()
        {
            return;
        }
    }
}

/// Why a row that is not UTF-8 was rejected, and where the byte is, never what it is.
fn not_utf8_reason(line: u64, bad_byte: Option<(u64, u64)>) -> String {
    let fix = "the file is read as UTF-8, as the rest of it is; fix that byte or save the \
               export again as UTF-8";
    match bad_byte {
        Some((offset, at)) if at != line => {
            format!("not valid UTF-8: the byte at offset {offset} (line {at}) is not UTF-8 ({fix})")
        }
        Some((offset, _)) => {
            format!("not valid UTF-8: the byte at offset {offset} is not UTF-8 ({fix})")
        }
        None => format!("not valid UTF-8 text ({fix})"),
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
