//! Text shared across layers: fixed-width cells and terminal-safe text for the panes and the
//! command line, and the folding search and erasure both match with.

use std::borrow::Cow;

/// A table cell: `text` made [`printable`], then cut to `width` characters.
pub fn cell(text: &str, width: usize) -> String {
    ellipsize(&printable(text), width)
}

/// `text` safe to show on a terminal. CRM values can hold control characters, and on a
/// terminal those act: ESC sequences retitle the window, recolour or clear the screen, BEL
/// rings. So line breaks and tabs become spaces and every other control character (C0, DEL, C1)
/// is dropped. The app's widgets drop them the same way (ratatui skips them when it draws);
/// every human-readable line the command line prints goes through here. JSON escapes them, and
/// CSV files keep them (they are data, not a terminal).
pub fn printable(text: &str) -> Cow<'_, str> {
    clean(text, false)
}

/// [`printable`] for text of several lines: keeps its line breaks (CRLF becomes LF).
pub fn printable_lines(text: &str) -> Cow<'_, str> {
    clean(text, true)
}

fn clean(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && !(keep_newlines && c == '\n');
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .filter_map(|c| match c {
                '\n' if keep_newlines => Some(c),
                // A CRLF line ends as LF.
                '\r' if keep_newlines => None,
                '\n' | '\r' | '\t' => Some(' '),
                c if c.is_control() => None,
                c => Some(c),
            })
            .collect(),
    )
}

/// `text` cut to `width` characters, ending in `…` when something was cut. Reads no further
/// than it keeps, so a 10 MB value costs what a short one does.
pub fn ellipsize(text: &str, width: usize) -> String {
    if text.char_indices().nth(width).is_none() {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Appends the folded form of `c` (lowercase ASCII letters and digits only) to `out`: the form
/// search matches in (`search::normalize`), and erasure looks for a person's details in.
#[inline]
pub fn push_folded(c: char, out: &mut Vec<u8>) {
    if c.is_ascii() {
        let b = c as u8;
        if b.is_ascii_alphanumeric() {
            out.push(b.to_ascii_lowercase());
        }
        return;
    }
    // deunicode's table covers Welsh (ŵ ŷ â), Irish (á é í ó ú), Polish (ł ą ę ż ś ć ń), German
    // (ß → ss) and the typographic apostrophe; anything it cannot transliterate is dropped.
    if let Some(ascii) = deunicode::deunicode_char(c) {
        out.extend(
            ascii
                .bytes()
                .filter(u8::is_ascii_alphanumeric)
                .map(|b| b.to_ascii_lowercase()),
        );
    }
}

/// `s` folded to lowercase ASCII letters and digits: `Gráinne Ní Dhónaill` → `grainnenidhonaill`.
pub fn fold(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        push_folded(c, &mut out);
    }
    String::from_utf8(out).expect("folded text is ASCII")
}

/// An error as one line, for the command line and the app alike: each cause in its chain after
/// the one it explains, each said once.
/// An error type that shows its cause in its own message *and* reports it as its `source`
/// (thiserror's `#[error("{path}: {source}")]`, `"...: {0}"` with `#[from]`) would otherwise
/// print it twice: "Permission denied (os error 13): Permission denied (os error 13)".
pub fn error_text(err: &anyhow::Error) -> String {
    let mut text = String::new();
    let mut last = String::new();
    for cause in err.chain() {
        let message = cause.to_string();
        if text.is_empty() {
            text.push_str(&message);
        } else if !last.ends_with(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        last = message;
    }
    text
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

/// The first `max_chars` characters of `text` (all of it when shorter), without copying.
pub fn clip(text: &str, max_chars: usize) -> &str {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// 1-based line and column (in characters) of a byte offset into `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// [`line_column`] of `bytes[offset]` in bytes that are UTF-8 up to `offset` (as
/// `Utf8Error::valid_up_to` says).
pub fn line_column_of_bytes(bytes: &[u8], offset: usize) -> (usize, usize) {
    let valid = &bytes[..offset.min(bytes.len())];
    line_column(&String::from_utf8_lossy(valid), valid.len())
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
        assert_eq!(ellipsize("abcd", 4), "abcd");
    }

    #[test]
    fn clips_to_characters_not_bytes() {
        assert_eq!(clip("Siân Jones", 4), "Siân");
        assert_eq!(clip("Siân", 10), "Siân");
        assert_eq!(clip("", 3), "");
    }

    #[test]
    fn line_and_column_count_characters() {
        let text = "a = 1\nŵy = \"x\"\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, text.find('=').unwrap()), (1, 3));
        let second = text.rfind('=').unwrap();
        assert_eq!(line_column(text, second), (2, 4));
        // Past the end, or inside a character: the nearest place before.
        assert_eq!(line_column(text, 999), (3, 1));
        assert_eq!(line_column("ŵ", 1), (1, 1));
        assert_eq!(line_column_of_bytes(b"ok\n\xe9", 3), (2, 1));
    }

    #[test]
    fn control_characters_never_reach_a_terminal() {
        assert_eq!(
            printable("Siân\x1b]0;x\x07 \x1b[31mJones\u{9b}2J\x7f"),
            "Siân]0;x [31mJones2J"
        );
        assert_eq!(printable("12 High St\r\nFlat 2\tB"), "12 High St  Flat 2 B");
        assert_eq!(printable_lines("a\x1b[2J\nb\r\n"), "a[2J\nb\n");
        assert!(matches!(printable("Gwenllian"), Cow::Borrowed(_)));
    }

    #[derive(Debug, thiserror::Error)]
    #[error("{path}: {source}")]
    struct ShowsItsSource {
        path: String,
        source: std::io::Error,
    }

    #[test]
    fn each_cause_is_said_once() {
        let denied = || std::io::Error::from_raw_os_error(13);
        let err = anyhow::Error::new(ShowsItsSource {
            path: "/srv/rollcall.db".into(),
            source: denied(),
        })
        .context("opening the database");
        assert_eq!(
            error_text(&err),
            format!("opening the database: /srv/rollcall.db: {}", denied())
        );
        let err = anyhow::Error::new(denied()).context("writing list.csv");
        assert_eq!(error_text(&err), format!("writing list.csv: {}", denied()));
        assert_eq!(error_text(&anyhow::anyhow!("plain")), "plain");
    }
}

/// "1 member", "12 members", "0 days": a count with its noun, singular only for one. Every
/// count shown in words goes through here (or [`noun`]), so none reads "1 working days".
pub fn plural(n: impl Into<i128>, one: &str) -> String {
    let n = n.into();
    format!("{n} {}", noun(n, one))
}

/// The noun for `n` of them: `one` for 1, else `one` + "s" (regular English plurals; the app's
/// nouns are all regular).
pub fn noun(n: impl Into<i128>, one: &str) -> String {
    if n.into() == 1 {
        one.to_owned()
    } else {
        format!("{one}s")
    }
}

/// `word` with its indefinite article: "an email", "a phone call", "an SMS".
pub fn with_article(word: &str) -> String {
    // By sound: initialisms whose first letter is said with a vowel ("an SMS", "an MP") take "an".
    let first = word.chars().next().unwrap_or('x');
    let initialism = word.len() > 1 && word.chars().take(2).all(|c| c.is_ascii_uppercase());
    let vowel_sound = if initialism {
        "AEFHILMNORSX".contains(first)
    } else {
        "aeiouAEIOU".contains(first)
    };
    format!("{} {word}", if vowel_sound { "an" } else { "a" })
}

#[cfg(test)]
mod grammar_tests {
    use super::*;

    #[test]
    fn counts_and_articles_read_as_a_person_writes() {
        assert_eq!(plural(1u32, "working day"), "1 working day");
        assert_eq!(plural(3u32, "working day"), "3 working days");
        assert_eq!(plural(0i64, "member"), "0 members");
        assert_eq!(with_article("email"), "an email");
        assert_eq!(with_article("phone"), "a phone");
        assert_eq!(with_article("SMS"), "an SMS");
        assert_eq!(with_article("letter"), "a letter");
    }
}
