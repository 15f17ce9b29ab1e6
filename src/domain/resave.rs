//! Values damaged by a lossy re-save: a spreadsheet saved the export as Windows-1252 ("CSV" in
//! Excel) and wrote `?` for every letter that code page lacks, so `Łukasz` comes back as
//! `?ukasz` and `Dvořák` as `Dvo?ák`. Imported as it is, the damaged name would overwrite the
//! good one; [`damaged_by_resave`] tells the import to keep what the store holds.

/// Whether `incoming` is `stored` with one or more letters that Windows-1252 cannot hold
/// replaced by `?`, and nothing else changed. A real change of name (a different letter, a
/// different length, a `?` where the stored letter was one Windows-1252 has) is not damage.
pub fn damaged_by_resave(stored: &str, incoming: &str) -> bool {
    let mut replaced = false;
    let mut stored_chars = stored.chars();
    for new in incoming.chars() {
        let Some(old) = stored_chars.next() else {
            return false;
        };
        if new == old {
            continue;
        }
        if new == '?' && !in_windows_1252(old) {
            replaced = true;
            continue;
        }
        return false;
    }
    replaced && stored_chars.next().is_none()
}

/// The characters Windows-1252 encodes: ASCII, Latin-1's printable half, and the 27 it adds in
/// 0x80–0x9F.
fn in_windows_1252(c: char) -> bool {
    const EXTRA: &str = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ";
    c.is_ascii() || ('\u{a0}'..='\u{ff}').contains(&c) || EXTRA.contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_windows_1252_lacks_turned_to_question_marks_are_damage() {
        assert!(damaged_by_resave("Łukasz", "?ukasz"));
        assert!(damaged_by_resave("Dvořák", "Dvo?ák"));
        assert!(damaged_by_resave("Łódź", "?ód?"));
        assert!(damaged_by_resave("Ŵyn Ŷnys", "?yn ?nys"));
    }

    #[test]
    fn real_changes_are_not_damage() {
        // Nothing changed.
        assert!(!damaged_by_resave("Łukasz", "Łukasz"));
        // A letter Windows-1252 has cannot have become `?` by the code page.
        assert!(!damaged_by_resave("Siân", "Si?n"));
        assert!(!damaged_by_resave("Jones", "?ones"));
        // A different name, or another length.
        assert!(!damaged_by_resave("Łukasz", "?ucas"));
        assert!(!damaged_by_resave("Łukasz", "?ukasz Nowak"));
        assert!(!damaged_by_resave("Łukasz", "Lukasz"));
        assert!(!damaged_by_resave("Łukasz", "?ukaso"));
        assert!(!damaged_by_resave("", ""));
        assert!(!damaged_by_resave("", "?"));
    }

    #[test]
    fn the_code_page_is_windows_1252() {
        for c in ['a', '£', 'é', 'ÿ', '€', 'Š', 'Ÿ', '—', '\u{a0}'] {
            assert!(in_windows_1252(c), "{c}");
        }
        for c in ['Ł', 'ř', 'Ŵ', 'ŷ', 'ő', 'Ā'] {
            assert!(!in_windows_1252(c), "{c}");
        }
    }
}
