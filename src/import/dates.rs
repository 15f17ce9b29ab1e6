//! Dates as exports write them: ISO dates and datetimes, RFC 3339, and `dd/mm/yyyy` or
//! `mm/dd/yyyy`, with the order decided once for the whole file.
//!
//! The rule: ISO forms are read as they are. For slash dates, the first one that can only be read
//! one way (`15/06/2026` is day-first, `06/15/2026` month-first) decides the file's order, and
//! every other slash date is then read in that order. Until something decides, an ambiguous date
//! (`05/06/2026`) is read day-first, as a UK file means it. If a file that has already had
//! ambiguous dates read day-first turns out to be month-first, the import starts again with the
//! order fixed ([`DateProblem::RestartMonthFirst`]), so one order applies to every row.
//! `--date-order` (or a mapping file's `date_order`) fixes the order from the start.

use chrono::NaiveDate;

use super::DateOrder;

/// Why a cell could not be read as a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateProblem {
    /// Not a date in any form we read, or not one in the file's order.
    NotADate,
    /// The file is month-first, but ambiguous dates were already read day-first.
    RestartMonthFirst,
}

/// Reads the date cells of one file, keeping the file's date order.
#[derive(Debug, Clone)]
pub struct DateReader {
    forced: Option<DateOrder>,
    decided: Option<DateOrder>,
    saw_slash_dates: bool,
    read_ambiguous_day_first: bool,
}

impl DateReader {
    /// `forced`: `Some(Dmy)` or `Some(Mdy)` fixes the order; `None` or `Some(Iso)` decides it
    /// from the file.
    pub fn new(forced: Option<DateOrder>) -> DateReader {
        DateReader {
            forced: forced.filter(|o| *o != DateOrder::Iso),
            decided: None,
            saw_slash_dates: false,
            read_ambiguous_day_first: false,
        }
    }

    /// The order the file's dates were read in: `Iso` when it had no slash dates at all.
    pub fn order_used(&self) -> DateOrder {
        if !self.saw_slash_dates {
            return DateOrder::Iso;
        }
        self.forced.or(self.decided).unwrap_or(DateOrder::Dmy)
    }

    /// What a rejected date should have looked like, for error messages.
    pub fn expected(&self) -> &'static str {
        match self.forced.or(self.decided) {
            Some(DateOrder::Mdy) => "expected YYYY-MM-DD or mm/dd/yyyy",
            _ => "expected YYYY-MM-DD or dd/mm/yyyy",
        }
    }

    /// Reads one cell. Empty cells are `Ok(None)`.
    pub fn read(&mut self, cell: &str) -> Result<Option<NaiveDate>, DateProblem> {
        let cell = cell.trim();
        if cell.is_empty() {
            return Ok(None);
        }
        match split_date(cell.as_bytes()).ok_or(DateProblem::NotADate)? {
            DateParts::YearFirst { year, month, day } => {
                ymd(year, month, day).map(Some).ok_or(DateProblem::NotADate)
            }
            DateParts::MonthName { year, month, day } => {
                ymd(year, month, day).map(Some).ok_or(DateProblem::NotADate)
            }
            DateParts::Slashed {
                first,
                second,
                year,
            } => {
                // Only a date actually read in some order counts towards "the file's order".
                let date = self.read_slashed(first, second, year)?;
                self.saw_slash_dates = true;
                Ok(Some(date))
            }
        }
    }

    fn read_slashed(
        &mut self,
        first: u32,
        second: u32,
        year: i32,
    ) -> Result<NaiveDate, DateProblem> {
        let day_first = ymd(year, second, first);
        let month_first = ymd(year, first, second);
        match self.forced.or(self.decided) {
            Some(DateOrder::Mdy) => month_first.ok_or(DateProblem::NotADate),
            Some(_) => day_first.ok_or(DateProblem::NotADate),
            None => match (day_first, month_first) {
                (Some(d), Some(_)) => {
                    self.read_ambiguous_day_first = true;
                    Ok(d)
                }
                (Some(d), None) => {
                    self.decided = Some(DateOrder::Dmy);
                    Ok(d)
                }
                (None, Some(_)) if self.read_ambiguous_day_first => {
                    Err(DateProblem::RestartMonthFirst)
                }
                (None, Some(m)) => {
                    self.decided = Some(DateOrder::Mdy);
                    Ok(m)
                }
                (None, None) => Err(DateProblem::NotADate),
            },
        }
    }
}

fn ymd(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

#[derive(Debug, PartialEq, Eq)]
enum DateParts {
    YearFirst { year: i32, month: u32, day: u32 },
    MonthName { year: i32, month: u32, day: u32 },
    Slashed { first: u32, second: u32, year: i32 },
}

/// Splits a cell into date parts, checking that whatever follows the date is a time of day.
fn split_date(s: &[u8]) -> Option<DateParts> {
    let mut p = Cursor { s, at: 0 };
    let (a, a_len) = p.number(4)?;
    let sep = p.one_of(b"-/. ")?;
    let parts = if a_len == 4 {
        let (month, _) = p.number(2)?;
        p.expect(sep)?;
        let (day, _) = p.number(2)?;
        DateParts::YearFirst {
            year: a as i32,
            month,
            day,
        }
    } else if let Some(month) = p.month_name() {
        p.expect(sep)?;
        let year = p.year()?;
        DateParts::MonthName {
            year,
            month,
            day: a,
        }
    } else {
        if sep == b' ' {
            return None;
        }
        let (second, _) = p.number(2)?;
        p.expect(sep)?;
        let year = p.year()?;
        DateParts::Slashed {
            first: a,
            second,
            year,
        }
    };
    p.time_suffix().then_some(parts)
}

struct Cursor<'a> {
    s: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn done(&self) -> bool {
        self.at == self.s.len()
    }

    fn expect(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.at += 1)
    }

    fn one_of(&mut self, set: &[u8]) -> Option<u8> {
        let b = self.peek().filter(|b| set.contains(b))?;
        self.at += 1;
        Some(b)
    }

    /// 1 to `max` digits: the value and how many digits there were.
    fn number(&mut self, max: usize) -> Option<(u32, usize)> {
        let start = self.at;
        let mut value = 0u32;
        while self.at - start < max
            && let Some(b) = self.peek().filter(u8::is_ascii_digit)
        {
            value = value * 10 + u32::from(b - b'0');
            self.at += 1;
        }
        let len = self.at - start;
        (len > 0).then_some((value, len))
    }

    /// A four-digit year, or two digits read as 1970-2069.
    fn year(&mut self) -> Option<i32> {
        let (y, len) = self.number(4)?;
        match len {
            4 => Some(y as i32),
            2 if y < 70 => Some(2000 + y as i32),
            2 => Some(1900 + y as i32),
            _ => None,
        }
    }

    /// `Jun`, `June` (English month names, as Excel writes them).
    fn month_name(&mut self) -> Option<u32> {
        const MONTHS: [&str; 12] = [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ];
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
            self.at += 1;
        }
        let word = std::str::from_utf8(&self.s[start..self.at]).ok()?;
        let found = (word.len() >= 3)
            .then(|| {
                MONTHS
                    .iter()
                    .position(|m| m.starts_with(&word.to_ascii_lowercase()))
            })
            .flatten();
        if found.is_none() {
            self.at = start;
        }
        found.map(|i| i as u32 + 1)
    }

    /// Nothing, or a time of day: ` 09:30`, `T13:48:51`, `T13:48:51.123Z`, ` 1:30 PM`,
    /// `T13:48:51-07:00`, `+0100`.
    fn time_suffix(&mut self) -> bool {
        if self.done() {
            return true;
        }
        if self.one_of(b"T ").is_none() {
            return false;
        }
        let Some((hour, _)) = self.number(2) else {
            return false;
        };
        if self.expect(b':').is_none() || self.number(2).is_none_or(|(m, l)| l != 2 || m > 59) {
            return false;
        }
        if self.expect(b':').is_some() && self.number(2).is_none_or(|(s, l)| l != 2 || s > 60) {
            return false;
        }
        if self.expect(b'.').is_some() {
            while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                self.at += 1;
            }
        }
        if hour > 23 {
            return false;
        }
        let _ = self.expect(b' ');
        let rest = &self.s[self.at..];
        let rest_upper = rest.to_ascii_uppercase();
        match rest_upper.as_slice() {
            b"" | b"Z" | b"AM" | b"PM" | b"UTC" | b"GMT" => true,
            [b'+' | b'-', zone @ ..] => is_zone_offset(zone),
            _ => false,
        }
    }
}

/// `07:00`, `0700` or `07`.
fn is_zone_offset(zone: &[u8]) -> bool {
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    match zone {
        [h1, h2, b':', m1, m2] => digits(&[*h1, *h2, *m1, *m2]),
        [_, _, _, _] | [_, _] => digits(zone),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn read_all(
        reader: &mut DateReader,
        cells: &[&str],
    ) -> Vec<Result<Option<NaiveDate>, DateProblem>> {
        cells.iter().map(|c| reader.read(c)).collect()
    }

    #[test]
    fn iso_forms() {
        let mut r = DateReader::new(None);
        for cell in [
            "2026-06-15",
            "2026-06-15 09:30:00",
            "2026-06-15T13:48:51-07:00",
            "2026-06-15T13:48:51Z",
            "2026-06-15T13:48:51.250+01:00",
            " 2026-06-15 ",
            "2026/06/15",
        ] {
            assert_eq!(r.read(cell), Ok(Some(d("2026-06-15"))), "{cell}");
        }
        assert_eq!(r.read(""), Ok(None));
        assert_eq!(r.order_used(), DateOrder::Iso);
    }

    #[test]
    fn not_dates() {
        let mut r = DateReader::new(None);
        for cell in [
            "2026-02-30",
            "2026-13-01",
            "next Tuesday",
            "2026-06-15 25:00",
            "2026-06-15 lunchtime",
            "15/06",
            "32/01/2026",
            "13/13/2026",
            "2026-06-15T13:48:51+7",
        ] {
            assert_eq!(r.read(cell), Err(DateProblem::NotADate), "{cell}");
        }
    }

    #[test]
    fn day_first_when_a_date_says_so() {
        let mut r = DateReader::new(None);
        let got = read_all(&mut r, &["15/06/2026", "05/06/2026", "1/2/2026 09:30"]);
        assert_eq!(
            got,
            vec![
                Ok(Some(d("2026-06-15"))),
                Ok(Some(d("2026-06-05"))),
                Ok(Some(d("2026-02-01")))
            ]
        );
        assert_eq!(r.order_used(), DateOrder::Dmy);
        // Once decided, a month-first date is not a date in this file.
        assert_eq!(r.read("06/15/2026"), Err(DateProblem::NotADate));
    }

    #[test]
    fn a_slash_date_that_is_no_date_does_not_make_the_file_slash_dated() {
        let mut r = DateReader::new(None);
        assert_eq!(r.read("31/02/2026"), Err(DateProblem::NotADate));
        assert_eq!(r.read("2026-02-28"), Ok(Some(d("2026-02-28"))));
        assert_eq!(r.order_used(), DateOrder::Iso);
    }

    #[test]
    fn ambiguous_file_is_day_first() {
        let mut r = DateReader::new(None);
        assert_eq!(r.read("05/06/2026"), Ok(Some(d("2026-06-05"))));
        assert_eq!(r.order_used(), DateOrder::Dmy);
    }

    #[test]
    fn month_first_decided_before_any_ambiguous_date() {
        let mut r = DateReader::new(None);
        let got = read_all(&mut r, &["06/15/2026", "05/06/2026", "12/31/99"]);
        assert_eq!(
            got,
            vec![
                Ok(Some(d("2026-06-15"))),
                Ok(Some(d("2026-05-06"))),
                Ok(Some(d("1999-12-31")))
            ]
        );
        assert_eq!(r.order_used(), DateOrder::Mdy);
    }

    #[test]
    fn month_first_after_ambiguous_dates_asks_for_a_restart() {
        let mut r = DateReader::new(None);
        assert_eq!(r.read("05/06/2026"), Ok(Some(d("2026-06-05"))));
        assert_eq!(r.read("06/15/2026"), Err(DateProblem::RestartMonthFirst));
        let mut again = DateReader::new(Some(DateOrder::Mdy));
        assert_eq!(again.read("05/06/2026"), Ok(Some(d("2026-05-06"))));
    }

    #[test]
    fn forced_order_wins() {
        let mut r = DateReader::new(Some(DateOrder::Mdy));
        assert_eq!(r.read("15/06/2026"), Err(DateProblem::NotADate));
        assert_eq!(r.read("06/15/2026 1:30 PM"), Ok(Some(d("2026-06-15"))));
        assert_eq!(r.expected(), "expected YYYY-MM-DD or mm/dd/yyyy");
        let mut r = DateReader::new(Some(DateOrder::Dmy));
        assert_eq!(r.read("06/05/2026"), Ok(Some(d("2026-05-06"))));
        assert_eq!(r.order_used(), DateOrder::Dmy);
    }

    #[test]
    fn other_separators_and_month_names() {
        let mut r = DateReader::new(None);
        assert_eq!(r.read("15.06.2026"), Ok(Some(d("2026-06-15"))));
        assert_eq!(r.read("15-06-2026"), Ok(Some(d("2026-06-15"))));
        assert_eq!(r.read("15-Jun-2026"), Ok(Some(d("2026-06-15"))));
        assert_eq!(r.read("15 June 2026"), Ok(Some(d("2026-06-15"))));
        assert_eq!(r.read("15-Jun-26"), Ok(Some(d("2026-06-15"))));
        assert_eq!(r.read("15 Ju 2026"), Err(DateProblem::NotADate));
        assert_eq!(r.read("1 2 2026"), Err(DateProblem::NotADate));
    }

    #[test]
    fn two_digit_years_pivot_at_1970() {
        let mut r = DateReader::new(Some(DateOrder::Dmy));
        assert_eq!(r.read("01/02/69"), Ok(Some(d("2069-02-01"))));
        assert_eq!(r.read("01/02/70"), Ok(Some(d("1970-02-01"))));
    }
}
