//! One email as an RFC 5322 message (`.eml`), for a mail client or a sending tool to pick up:
//! `From`, `To`, `Subject` (an RFC 2047 encoded-word when it is not ASCII, as Welsh ŵ and ŷ are
//! not), `Date`, `MIME-Version`, `Content-Type: text/plain; charset=utf-8` and a
//! quoted-printable body, CRLF throughout.
//!
//! Written here rather than with a mail crate: a plain-text message needs two small encodings,
//! and the crates that build messages (lettre, mail-builder) would bring far more than that.

use chrono::{DateTime, FixedOffset};

/// The message, as bytes ready for a file.
pub fn message(
    from: &str,
    to: &str,
    subject: &str,
    body: &str,
    date: DateTime<FixedOffset>,
) -> Vec<u8> {
    let mut out = String::new();
    out.push_str(&format!("From: {}\r\n", mailbox(from)));
    out.push_str(&format!("To: {}\r\n", to.trim()));
    out.push_str(&format!("Subject: {}\r\n", header_text(subject)));
    out.push_str(&format!("Date: {}\r\n", date.to_rfc2822()));
    out.push_str("MIME-Version: 1.0\r\n");
    out.push_str("Content-Type: text/plain; charset=utf-8\r\n");
    out.push_str("Content-Transfer-Encoding: quoted-printable\r\n\r\n");
    out.push_str(&quoted_printable(body));
    out.into_bytes()
}

/// `Name <address>` with the name encoded when it is not ASCII.
fn mailbox(from: &str) -> String {
    let from = from.trim();
    match from.rsplit_once('<') {
        Some((name, address)) if !name.trim().is_empty() => {
            format!(
                "{} <{}",
                header_text(name.trim().trim_matches('"')),
                address
            )
        }
        _ => from.to_owned(),
    }
}

/// Header text: as it is when printable ASCII, else RFC 2047 "Q" encoded-words of at most 75
/// characters each, folded onto continuation lines.
pub fn header_text(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.is_ascii() && !text.contains("=?") {
        return text;
    }
    const OPEN: &str = "=?utf-8?Q?";
    const ROOM: usize = 75 - OPEN.len() - 2;
    let mut words = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        let mut encoded = String::new();
        if c == ' ' {
            encoded.push('_');
        } else if c.is_ascii_alphanumeric() || "!*+-/".contains(c) {
            encoded.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                encoded.push_str(&format!("={b:02X}"));
            }
        }
        if word.len() + encoded.len() > ROOM {
            words.push(std::mem::take(&mut word));
        }
        word.push_str(&encoded);
    }
    words.push(word);
    words
        .iter()
        .map(|w| format!("{OPEN}{w}?="))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// The body, quoted-printable (RFC 2045): UTF-8 bytes outside printable ASCII and `=` as `=XX`,
/// lines of at most 76 characters with soft breaks, CRLF line ends.
pub fn quoted_printable(body: &str) -> String {
    let mut out = String::new();
    for line in body.lines() {
        let bytes = line.as_bytes();
        let mut len = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let last = i + 1 == bytes.len();
            let plain = (b == b' ' || b == b'\t') && !last || (33..=126).contains(&b) && b != b'=';
            let piece = if plain {
                (b as char).to_string()
            } else {
                format!("={b:02X}")
            };
            if len + piece.len() > 75 {
                out.push_str("=\r\n");
                len = 0;
            }
            out.push_str(&piece);
            len += piece.len();
        }
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_welsh_subject_is_encoded_and_ascii_is_not() {
        assert_eq!(header_text("Time to renew"), "Time to renew");
        assert_eq!(header_text("Tŷ"), "=?utf-8?Q?T=C5=B7?=");
        let long = header_text(&"ŵ".repeat(40));
        assert!(long.split("\r\n ").all(|w| w.len() <= 75), "{long}");
    }

    #[test]
    fn the_body_is_quoted_printable_in_short_lines() {
        let qp = quoted_printable("Annwyl Siân,\n= \n".to_owned().as_str());
        assert_eq!(qp, "Annwyl Si=C3=A2n,\r\n=3D=20\r\n");
        let long = quoted_printable(&"a".repeat(200));
        assert!(long.lines().all(|l| l.len() <= 76), "{long}");
    }
}
