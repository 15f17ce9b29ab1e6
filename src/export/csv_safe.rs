//! A CSV writer whose cells can never run as spreadsheet formulas.
//!
//! Excel, LibreOffice and Google Sheets treat a cell that starts with `=`, `+`, `-` or `@` as a
//! formula, and a leading tab or carriage return can smuggle one past a naive check. A member's
//! name, a note or an address is text typed by someone else, so every cell rollcall writes goes
//! through [`neutralise`]: following OWASP's CSV-injection guidance, a cell that starts with one
//! of those characters gets a leading apostrophe, which spreadsheets read as "this is text".
//! The same is done when the trigger hides behind leading spaces, or is one of the full-width
//! forms (`＝ ＋ － ＠`) some spreadsheets fold into the ASCII ones.
//!
//! Quoting (embedded commas, quotes, line breaks) is left to the `csv` crate. Files start with a
//! UTF-8 byte-order mark and use CRLF line ends, so Excel shows Welsh letters (ŵ, ŷ) and `£`
//! correctly and every tool reads the rows.

use std::borrow::Cow;
use std::io::Write;

/// The characters that make a spreadsheet read a cell as a formula (OWASP), plus the full-width
/// forms of the first four.
const TRIGGERS: [char; 10] = [
    '=', '+', '-', '@', '\t', '\r', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
];

/// `cell`, prefixed with `'` if a spreadsheet could run it as a formula.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    let first = cell.trim_start_matches(' ').chars().next();
    match first {
        Some(c) if TRIGGERS.contains(&c) => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// Writes records of text cells, each one neutralised.
pub struct SafeCsvWriter<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> SafeCsvWriter<W> {
    /// A writer that starts `out` with a UTF-8 byte-order mark and ends lines with CRLF.
    pub fn new(mut out: W) -> std::io::Result<SafeCsvWriter<W>> {
        out.write_all("\u{feff}".as_bytes())?;
        Ok(SafeCsvWriter::without_bom(out))
    }

    /// As [`SafeCsvWriter::new`], without the byte-order mark (for output that other programs
    /// read rather than people open in a spreadsheet).
    pub fn without_bom(out: W) -> SafeCsvWriter<W> {
        let inner = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .flexible(false)
            .from_writer(out);
        SafeCsvWriter { inner }
    }

    /// Writes one row. Every row must have as many cells as the first.
    pub fn write_record<I, T>(&mut self, record: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let cells: Vec<String> = record
            .into_iter()
            .map(|c| neutralise(c.as_ref()).into_owned())
            .collect();
        self.inner.write_record(&cells)
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }

    /// Flushes and hands back the output.
    pub fn into_inner(self) -> std::io::Result<W> {
        self.inner
            .into_inner()
            .map_err(|e| std::io::Error::other(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_triggers_get_an_apostrophe() {
        for (cell, want) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+44 20 7946 0000", "'+44 20 7946 0000"),
            ("-1", "'-1"),
            ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
            ("\t=1+1", "'\t=1+1"),
            ("\r=1+1", "'\r=1+1"),
            ("  =1+1", "'  =1+1"),
            ("\u{FF1D}1+1", "'\u{FF1D}1+1"),
        ] {
            assert_eq!(neutralise(cell), want, "{cell:?}");
        }
        for cell in [
            "Siân Roberts",
            "",
            "07700 900000",
            "a=b",
            "O'Brien",
            "'quoted",
        ] {
            assert_eq!(neutralise(cell), cell, "{cell:?}");
        }
    }

    #[test]
    fn writes_bom_crlf_and_quotes() {
        let mut w = SafeCsvWriter::new(Vec::new()).unwrap();
        w.write_record(["Name", "Note"]).unwrap();
        w.write_record(["=cmd|' /C calc'!A0", "line one\nline \"two\""])
            .unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(
            text,
            "\u{feff}Name,Note\r\n'=cmd|' /C calc'!A0,\"line one\nline \"\"two\"\"\"\r\n"
        );
    }

    #[test]
    fn ragged_rows_are_refused() {
        let mut w = SafeCsvWriter::without_bom(Vec::new());
        w.write_record(["a", "b"]).unwrap();
        assert!(w.write_record(["only one"]).is_err());
    }
}
