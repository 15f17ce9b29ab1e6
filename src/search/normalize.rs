//! Text normalisation shared by the index and the query, so both sides fold the same way.
//!
//! Everything searchable becomes lowercase ASCII letters and digits: accents and letters outside
//! ASCII are transliterated (`Siân` → `sian`, `Łukasz` → `lukasz`, `Gwŷn` → `gwyn`) and punctuation
//! and spaces are dropped (`O'Neill` → `oneill`, `CF10 1AA` → `cf101aa`). Phones keep digits only,
//! with a UK `+44` prefix turned into the national `0`.

use crate::text::push_folded;

/// `s` folded to lowercase ASCII letters and digits, appended to `out`.
pub fn push_compact(s: &str, out: &mut Vec<u8>) {
    for c in s.chars() {
        push_folded(c, out);
    }
}

/// `s` folded to lowercase ASCII letters and digits.
pub fn compact(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    push_compact(s, &mut out);
    out
}

/// Appends the folded words of `s` to `out`, and sets bit `p` of `word_starts` for each position
/// `p` (counted from `base`, below 64) where a word starts. Words are split at anything that is not
/// a letter or digit, so `O'Neill` gives `o` and `neill` and `Jones-Davies` gives `jones` and
/// `davies`, while the text itself stays compact (`oneill`).
pub fn push_words(s: &str, out: &mut Vec<u8>, base: usize, word_starts: &mut u64) {
    let mut in_word = false;
    for c in s.chars() {
        let before = out.len();
        push_folded(c, out);
        if out.len() == before {
            in_word = false;
            continue;
        }
        if !in_word {
            let position = before - base;
            if position < 64 {
                *word_starts |= 1 << position;
            }
            in_word = true;
        }
    }
}

/// A phone number as digits only, UK international prefixes turned national:
/// `+44 (0)7700 900123`, `0044 7700 900123` and `07700 900123` all give `07700900123`.
pub fn phone_digits(s: &str) -> Vec<u8> {
    let trimmed = s.trim_start();
    let mut digits: Vec<u8> = trimmed.bytes().filter(u8::is_ascii_digit).collect();
    let mut international = trimmed.starts_with('+');
    if digits.starts_with(b"00") && digits.len() > 2 {
        digits.drain(..2);
        international = true;
    }
    if international && digits.starts_with(b"44") && digits.len() > 2 {
        digits.drain(..2);
        if digits.first() != Some(&b'0') {
            digits.insert(0, b'0');
        }
    }
    digits
}

/// Whether `s` is written like a phone number: digits with the usual separators only.
pub fn looks_like_phone(s: &str) -> bool {
    let s = s.trim();
    s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b" +-().".contains(&b))
}

/// Whether compact text (lowercase, no space) is a whole UK postcode: `cf101aa`, `sw1a1aa`, `m11ae`.
pub fn is_uk_postcode(compact: &[u8]) -> bool {
    let n = compact.len();
    if !(5..=7).contains(&n) {
        return false;
    }
    let (outward, inward) = compact.split_at(n - 3);
    let inward_ok = inward[0].is_ascii_digit()
        && inward[1].is_ascii_alphabetic()
        && inward[2].is_ascii_alphabetic();
    let letters = outward
        .iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    let rest = &outward[letters..];
    let outward_ok = (1..=2).contains(&letters)
        && !rest.is_empty()
        && rest.len() <= 2
        && rest[0].is_ascii_digit()
        && rest.iter().all(u8::is_ascii_alphanumeric);
    inward_ok && outward_ok
}

/// The bit for one folded byte in a record's character-set mask (a–z, 0–9).
pub fn char_bit(b: u8) -> u64 {
    match b {
        b'a'..=b'z' => 1 << (b - b'a'),
        b'0'..=b'9' => 1 << (26 + (b - b'0')),
        _ => 0,
    }
}

/// The character-set mask of folded text: a record can only match a query whose mask is a subset
/// of its own (with one bit of slack for a typo).
pub fn char_mask(text: &[u8]) -> u64 {
    text.iter().fold(0, |m, &b| m | char_bit(b))
}

/// The pairs of neighbouring digits in folded text, hashed into 64 bits. Digits are where the
/// character mask is weakest (every phone holds most of them), so a number can only be a
/// substring of a record holding all of its digit pairs.
pub fn digit_pairs(text: &[u8]) -> u64 {
    text.windows(2).fold(0, |set, w| match (w[0], w[1]) {
        (a @ b'0'..=b'9', b @ b'0'..=b'9') => {
            let pair = u32::from(a - b'0') * 10 + u32::from(b - b'0');
            set | 1 << (pair.wrapping_mul(0x9E37_79B9) >> 26)
        }
        _ => set,
    })
}

/// The pairs of neighbouring characters in folded text (letters, digits or one of each), hashed
/// into 128 bits. Common letters pass the character mask in most records (`sian`: s, i, a, n),
/// but their pairs are far rarer, and a pair like `f1` almost only occurs in a postcode: so this
/// keeps a substring search to the records that can hold it.
pub fn char_pairs(text: &[u8]) -> u128 {
    text.windows(2)
        .fold(0, |set, w| match (char_code(w[0]), char_code(w[1])) {
            (Some(a), Some(b)) => set | 1 << pair_bit(a, b),
            _ => set,
        })
}

fn char_code(b: u8) -> Option<u32> {
    match b {
        b'a'..=b'z' => Some(u32::from(b - b'a')),
        b'0'..=b'9' => Some(26 + u32::from(b - b'0')),
        _ => None,
    }
}

fn pair_bit(a: u32, b: u32) -> u32 {
    // Fibonacci hashing spreads the 1,296 pairs evenly over the 128 bits.
    (a * 36 + b).wrapping_mul(0x9E37_79B9) >> 25
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> String {
        String::from_utf8(compact(s)).unwrap()
    }

    #[test]
    fn folds_accents_and_drops_punctuation() {
        assert_eq!(c("Siân"), "sian");
        assert_eq!(c("Łukasz Wróbel"), "lukaszwrobel");
        assert_eq!(c("Gwŷn ap Dafydd"), "gwynapdafydd");
        assert_eq!(c("Ŵyn"), "wyn");
        assert_eq!(c("O'Neill"), "oneill");
        assert_eq!(c("O’Neill"), "oneill");
        assert_eq!(c("Jones-Davies"), "jonesdavies");
        assert_eq!(c("Siobhán Ó Briain"), "siobhanobriain");
        assert_eq!(c("Strauß"), "strauss");
        assert_eq!(c("CF10 1AA"), "cf101aa");
    }

    #[test]
    fn words_mark_where_each_word_starts() {
        let mut out = b"x".to_vec();
        let mut starts = 0;
        push_words("Mary O'Neill-Ó Briain", &mut out, 1, &mut starts);
        assert_eq!(&out[1..], b"maryoneillobriain");
        // m(0) o(4) neill(5) o(10) briain(11)
        assert_eq!(
            starts,
            (1 << 0) | (1 << 4) | (1 << 5) | (1 << 10) | (1 << 11)
        );
    }

    #[test]
    fn phones_become_national_digits() {
        assert_eq!(phone_digits("07700 900123"), b"07700900123");
        assert_eq!(phone_digits("+44 7700 900123"), b"07700900123");
        assert_eq!(phone_digits("+44 (0)7700 900123"), b"07700900123");
        assert_eq!(phone_digits("0044 29 2087 1234"), b"02920871234");
        assert_eq!(phone_digits("+353 1 234 5678"), b"35312345678");
        assert_eq!(
            phone_digits("00"),
            b"00",
            "the start of a number, not an empty one"
        );
        assert!(looks_like_phone("+44 (0)7700-900123"));
        assert!(!looks_like_phone("cf10 1aa"));
        assert!(!looks_like_phone("+-"));
    }

    #[test]
    fn recognises_whole_postcodes_only() {
        for p in [
            "cf101aa", "sw1a1aa", "m11ae", "b338th", "ll574ea", "ec1a1bb",
        ] {
            assert!(is_uk_postcode(p.as_bytes()), "{p}");
        }
        for p in ["cf10", "jones", "1234567", "cf1aaa", "abc1aa", "cf1011a"] {
            assert!(!is_uk_postcode(p.as_bytes()), "{p}");
        }
    }

    #[test]
    fn digit_pairs_are_neighbours_only() {
        assert_eq!(digit_pairs(b"0770").count_ones(), 3);
        assert_eq!(
            digit_pairs(b"907701") & digit_pairs(b"0770"),
            digit_pairs(b"0770")
        );
        assert_eq!(digit_pairs(b"1a2"), 0);
        assert_eq!(digit_pairs(b"1\x002"), 0);
    }

    #[test]
    fn char_pairs_hold_each_neighbouring_pair() {
        let sian = char_pairs(b"sian");
        assert_eq!(sian.count_ones(), 3);
        assert_eq!(char_pairs(b"xsianx") & sian, sian);
        assert_ne!(char_pairs(b"snai") & sian, sian);
        assert_eq!(char_pairs(b"cf10").count_ones(), 3);
        assert_eq!(char_pairs(b"s\x00a"), 0);
    }

    #[test]
    fn masks_hold_letters_and_digits() {
        assert_eq!(char_mask(b"ab"), 0b11);
        assert_eq!(char_mask(b"0"), 1 << 26);
        assert_eq!(char_mask(b"aa9"), 1 | (1 << 35));
    }
}
