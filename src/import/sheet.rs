//! Spreadsheets read directly (`.xlsx`, `.xls`, `.ods`, through `calamine`), and files that are
//! neither text nor a spreadsheet named for what they are.
//!
//! A file's kind is decided from its first bytes, never its name: a workbook saved as
//! `members.csv` is still a workbook, and a PDF called `members.xlsx` is still a PDF. A sheet's
//! rows become the same records a CSV gives, so profile detection and the row pipeline are the
//! ones CSV files go through. Cells typed as dates (Excel serial numbers with a date format)
//! become ISO dates (`2026-06-15`), date-times `2026-06-15 09:30:00`, so the date reader never
//! has to guess their order; whole numbers lose Excel's `.0` (a contact id `102`, not `102.0`).

use std::io::Cursor;
use std::path::Path;

use anyhow::{Result, anyhow, bail};
use calamine::{Data, Range, Reader, Sheets, open_workbook_auto_from_rs};
use csv::StringRecord;

use super::decode::ExportFile;

/// What a file is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// CSV or other delimited text.
    Text,
    /// A zip archive: an `.xlsx` or `.ods` workbook, or some other archive.
    Zip,
    /// An OLE compound file: an `.xls` workbook (or another old Office document).
    Ole,
    /// Something that is certainly not an export, named for the error.
    Other(&'static str),
}

const SIGNATURES: [(&[u8], FileKind); 8] = [
    (b"PK\x03\x04", FileKind::Zip),
    (b"PK\x05\x06", FileKind::Zip),
    (b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", FileKind::Ole),
    (b"\x1F\x8B", FileKind::Other("a gzip-compressed file")),
    (b"%PDF", FileKind::Other("a PDF document")),
    (b"\x89PNG", FileKind::Other("a PNG image")),
    (b"\xFF\xD8\xFF", FileKind::Other("a JPEG image")),
    (b"GIF8", FileKind::Other("a GIF image")),
];

impl FileKind {
    /// The kind of a file that starts with `head`.
    pub fn of(head: &[u8]) -> FileKind {
        SIGNATURES
            .iter()
            .find(|(magic, _)| head.starts_with(magic))
            .map_or(FileKind::Text, |&(_, kind)| kind)
    }
}

/// Records with the 1-based row number each has in its sheet.
pub type NumberedRecords = Vec<(StringRecord, u64)>;

/// A sheet read whole: its header and data records, each with its row number in the sheet.
#[derive(Debug, Clone)]
pub struct Sheet {
    /// How reports name it: `Excel workbook (.xlsx), sheet "Members"`.
    pub label: String,
    pub header: Vec<String>,
    /// Data records (after the header), with their 1-based row numbers as the spreadsheet
    /// shows them; empty rows are left out.
    pub records: NumberedRecords,
}

/// Reads the first sheet (or the one named `wanted`) of the workbook in `file`. `Ok(None)` when
/// the file is text; an error naming what it is when it is neither text nor a workbook.
pub fn read_if_spreadsheet(
    path: &Path,
    file: &ExportFile,
    wanted: Option<&str>,
) -> Result<Option<Sheet>> {
    let kind = FileKind::of(&file.head(16)?);
    let name = path.display();
    let not_an_export = |what: &str| {
        anyhow!(
            "{name} is {what}, not an export; rollcall imports CSV files and spreadsheets \
             (.xlsx, .xls, .ods)"
        )
    };
    match kind {
        FileKind::Text => {
            if wanted.is_some() {
                bail!("{name}: --sheet is for spreadsheets, and this file is text (CSV)");
            }
            return Ok(None);
        }
        FileKind::Other(what) => return Err(not_an_export(what)),
        FileKind::Zip | FileKind::Ole => {}
    }
    let bytes = file.all_bytes()?;
    let mut workbook = open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|_| match kind {
        FileKind::Zip => not_an_export("a zip archive but not a spreadsheet"),
        _ => not_an_export("an Office document but not a spreadsheet (or a damaged one)"),
    })?;
    let format = format_label(&workbook);
    let names = workbook.sheet_names();
    let sheet_name = match wanted {
        Some(w) => names
            .iter()
            .find(|n| n.as_str() == w)
            .cloned()
            .ok_or_else(|| {
                anyhow!(
                    "{name}: --sheet {w}: no sheet of that name; the workbook's sheets are {}",
                    quoted_list(&names)
                )
            })?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| anyhow!("{name}: the workbook has no sheet"))?,
    };
    let range = workbook
        .worksheet_range(&sheet_name)
        .map_err(|e| anyhow!("{name}: cannot read sheet \"{sheet_name}\": {e}"))?;
    let (header, records) = records_of(&range)
        .ok_or_else(|| anyhow!("{name}: sheet \"{sheet_name}\" is empty (no header row)"))?;
    Ok(Some(Sheet {
        label: format!("{format}, sheet \"{sheet_name}\""),
        header,
        records,
    }))
}

fn format_label<RS>(workbook: &Sheets<RS>) -> &'static str {
    match workbook {
        Sheets::Xlsx(_) => "Excel workbook (.xlsx)",
        Sheets::Xlsb(_) => "Excel binary workbook (.xlsb)",
        Sheets::Xls(_) => "Excel 97-2003 workbook (.xls)",
        Sheets::Ods(_) => "OpenDocument spreadsheet (.ods)",
    }
}

fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first non-empty row as the header and the rest as records, numbered as the sheet shows
/// them. None when the sheet has no non-empty row.
fn records_of(range: &Range<Data>) -> Option<(Vec<String>, NumberedRecords)> {
    let first_row = range.start().map_or(0, |(row, _)| u64::from(row));
    let mut rows = range
        .rows()
        .enumerate()
        .map(|(i, cells)| (first_row + i as u64 + 1, cells))
        .filter(|(_, cells)| cells.iter().any(|c| !cell_text(c).trim().is_empty()));
    let (_, header) = rows.next()?;
    let header = header
        .iter()
        .map(|c| cell_text(c).trim().to_owned())
        .collect();
    let records = rows
        .map(|(line, cells)| (cells.iter().map(cell_text).collect(), line))
        .collect();
    Some((header, records))
}

/// A cell as the text a CSV export would hold.
pub fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(when) if when.time() == chrono::NaiveTime::MIN => {
                when.date().format("%Y-%m-%d").to_string()
            }
            Some(when) => when.format("%Y-%m-%d %H:%M:%S").to_string(),
            None => number_text(dt.as_f64()),
        },
    }
}

/// Whole numbers without Excel's `.0`: contact ids and phone numbers typed as numbers.
fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{ExcelDateTime, ExcelDateTimeType};

    #[test]
    fn kinds_come_from_the_first_bytes() {
        assert_eq!(FileKind::of(b"Contact ID,Email\r\n"), FileKind::Text);
        assert_eq!(FileKind::of(b"\xEF\xBB\xBFContact ID"), FileKind::Text);
        assert_eq!(FileKind::of(b"PK\x03\x04\x14\x00"), FileKind::Zip);
        assert_eq!(
            FileKind::of(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00"),
            FileKind::Ole
        );
        assert_eq!(FileKind::of(b"%PDF-1.7"), FileKind::Other("a PDF document"));
        assert_eq!(
            FileKind::of(b"\x1F\x8B\x08\x00"),
            FileKind::Other("a gzip-compressed file")
        );
        assert_eq!(
            FileKind::of(b"\x89PNG\r\n\x1a\n"),
            FileKind::Other("a PNG image")
        );
        assert_eq!(
            FileKind::of(b"\xFF\xD8\xFF\xE0"),
            FileKind::Other("a JPEG image")
        );
        assert_eq!(FileKind::of(b""), FileKind::Text);
    }

    #[test]
    fn date_cells_become_iso_dates_and_datetimes() {
        // 46188 is 2026-06-15 in Excel's 1900 date system.
        let date = Data::DateTime(ExcelDateTime::new(
            46188.0,
            ExcelDateTimeType::DateTime,
            false,
        ));
        assert_eq!(cell_text(&date), "2026-06-15");
        let datetime = Data::DateTime(ExcelDateTime::new(
            46_188.396_527_777_78,
            ExcelDateTimeType::DateTime,
            false,
        ));
        assert_eq!(cell_text(&datetime), "2026-06-15 09:31:00");
    }

    #[test]
    fn numbers_lose_excels_point_zero() {
        assert_eq!(cell_text(&Data::Float(102.0)), "102");
        assert_eq!(cell_text(&Data::Float(12.5)), "12.5");
        assert_eq!(cell_text(&Data::Int(7)), "7");
        assert_eq!(cell_text(&Data::Bool(false)), "FALSE");
        assert_eq!(cell_text(&Data::Empty), "");
    }
}
