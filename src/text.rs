//! Text for fixed-width cells, shared by the panes and the command line.

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
}
