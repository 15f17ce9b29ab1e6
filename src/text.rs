//! Text shared across layers: fixed-width cells for the panes and the command line, and the
//! folding search and erasure both match with.

/// `text` cut to `width` characters, ending in `…` when something was cut.
pub fn ellipsize(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
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
    }
}
