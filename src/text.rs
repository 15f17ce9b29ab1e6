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
