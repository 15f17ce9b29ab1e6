//! Keeping CSV cells from running as spreadsheet formulas.
//!
//! Excel, LibreOffice and Google Sheets treat a cell that begins with `=`, `+`, `-` or `@` as a
//! formula, and a leading tab or carriage return can hide such a character from a quick look
//! (OWASP "CSV injection"). A member's name or a staff note must never become a formula in the
//! hands of whoever opens the file, so every cell rollcall writes goes through [`neutralise`]:
//! a dangerous cell gets a leading apostrophe, which spreadsheets show as text and CRMs keep.
//!
//! The renewals work has its own `csv_safe` writer for the same rule; one calls the other once
//! both are merged.

use std::borrow::Cow;
use std::io::Write;

/// The characters that make a spreadsheet read a cell as a formula when they come first.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `cell`, with an apostrophe in front when it would otherwise start a formula.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A CSV writer whose every cell is neutralised: the only way rollcall's exports write CSV.
pub struct SafeCsv<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> SafeCsv<W> {
    /// CRLF line ends and quotes only where needed, as CiviCRM's importer and Excel expect.
    pub fn new(out: W) -> SafeCsv<W> {
        let inner = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        SafeCsv { inner }
    }

    pub fn write_row<I, S>(&mut self, cells: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let row: Vec<String> = cells
            .into_iter()
            .map(|c| neutralise(c.as_ref()).into_owned())
            .collect();
        self.inner.write_record(&row)
    }

    /// Flushes and hands back the underlying writer.
    pub fn finish(self) -> anyhow::Result<W> {
        self.inner
            .into_inner()
            .map_err(|e| anyhow::anyhow!("writing CSV: {}", e.error()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_get_an_apostrophe() {
        for cell in [
            "=HYPERLINK(\"http://x\")",
            "+44 20 7946 0000",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
        ] {
            assert_eq!(neutralise(cell), format!("'{cell}"), "{cell:?}");
        }
    }

    #[test]
    fn ordinary_cells_are_untouched_and_not_copied() {
        for cell in ["Siân Jones", "", "a=b", "2026-11-23", "'quoted", " =spaced"] {
            assert!(
                matches!(neutralise(cell), Cow::Borrowed(c) if c == cell),
                "{cell:?}"
            );
        }
    }

    #[test]
    fn the_writer_neutralises_every_cell_and_quotes_what_needs_it() {
        let mut w = SafeCsv::new(Vec::new());
        w.write_row(["Name", "Note"]).unwrap();
        w.write_row(["=cmd|' /C calc'!A0", "said \"yes\", then\nhung up"])
            .unwrap();
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(
            text,
            "Name,Note\r\n'=cmd|' /C calc'!A0,\"said \"\"yes\"\", then\nhung up\"\r\n"
        );
    }
}
