//! Text for fixed-width cells, shared by the panes and the command line.

/// `text` cut to `width` characters, ending in `…` when something was cut.
pub fn ellipsize(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A date for a table cell or a heading: `07 Nov` in the as-of date's year, `07 Nov 2013` in any
/// other, so that a date thirteen years ago never reads as this November. Every pane's short
/// dates go through this.
pub fn short_date(date: chrono::NaiveDate, today: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    if date.year() == today.year() {
        date.format("%d %b").to_string()
    } else {
        date.format("%d %b %Y").to_string()
    }
}

/// `text` broken into lines of at most `width` characters at spaces (a word longer than a line
/// is cut), so that a box can be sized to show all of it.
pub fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > width {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(word.drain(..width).collect());
        }
        let word: String = word.into_iter().collect();
        let used = line.chars().count();
        if used > 0 && used + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_dates_carry_the_year_only_when_it_is_not_this_one() {
        let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        assert_eq!(short_date(d("2026-11-07"), d("2026-11-23")), "07 Nov");
        assert_eq!(short_date(d("2013-11-07"), d("2026-11-23")), "07 Nov 2013");
        assert_eq!(short_date(d("2027-01-05"), d("2026-12-30")), "05 Jan 2027");
    }

    #[test]
    fn wraps_at_spaces_and_keeps_every_word() {
        assert_eq!(
            wrap_words("nothing was changed; import it again", 12),
            ["nothing was", "changed;", "import it", "again"]
        );
        assert_eq!(wrap_words("abcdefgh ij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap_words("", 10), [""]);
    }

    #[test]
    fn cuts_long_text_only() {
        assert_eq!(ellipsize("Welcome call made", 20), "Welcome call made");
        assert_eq!(ellipsize("Welcome call made", 8), "Welcome…");
        assert_eq!(ellipsize("Siân Jones", 20), "Siân Jones");
        assert_eq!(ellipsize("Gwenllian ap Gruffydd", 10), "Gwenllian…");
        assert_eq!(ellipsize("abcdef", 4), "abc…");
    }
}
