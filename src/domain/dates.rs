//! Calendar arithmetic the membership rules need.

use chrono::{Datelike, Months, NaiveDate, Weekday};

/// `date` plus `n` calendar months, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb),
/// as CiviCRM does.
pub fn add_months(date: NaiveDate, n: u32) -> NaiveDate {
    date.checked_add_months(Months::new(n))
        .unwrap_or(NaiveDate::MAX)
}

/// `date` minus `n` calendar months, clamped like [`add_months`].
pub fn sub_months(date: NaiveDate, n: u32) -> NaiveDate {
    date.checked_sub_months(Months::new(n))
        .unwrap_or(NaiveDate::MIN)
}

pub fn is_working_day(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The `n`th working day (Monday to Friday) after `date`. Bank holidays are not modelled: they
/// differ between England, Wales, Scotland and Northern Ireland, and a target that falls on one
/// is still one day from being met.
pub fn add_working_days(date: NaiveDate, n: u32) -> NaiveDate {
    let mut day = date;
    let mut left = n;
    while left > 0 {
        day = day.succ_opt().unwrap_or(NaiveDate::MAX);
        if is_working_day(day) {
            left -= 1;
        }
    }
    day
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days()
}

pub fn parse_iso(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_iso(s).unwrap()
    }

    #[test]
    fn month_ends_clamp() {
        assert_eq!(add_months(d("2026-01-31"), 1), d("2026-02-28"));
        assert_eq!(add_months(d("2028-01-31"), 1), d("2028-02-29"));
        assert_eq!(add_months(d("2026-11-30"), 3), d("2027-02-28"));
        assert_eq!(sub_months(d("2026-03-31"), 1), d("2026-02-28"));
    }

    #[test]
    fn working_days_skip_weekends() {
        // 2026-11-20 is a Friday.
        assert_eq!(add_working_days(d("2026-11-20"), 1), d("2026-11-23"));
        assert_eq!(add_working_days(d("2026-11-21"), 1), d("2026-11-23"));
        assert_eq!(add_working_days(d("2026-11-23"), 10), d("2026-12-07"));
        assert_eq!(add_working_days(d("2026-11-23"), 0), d("2026-11-23"));
    }
}
