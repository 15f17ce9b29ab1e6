//! One key as the keymap writes it (`q`, `G`, `ctrl-d`, `Space`, `BackTab`), parsed into what
//! crossterm reports, and shown back in help in one canonical spelling.

use std::fmt;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// A key with its modifiers, normalised so that a keymap entry and a key event compare equal:
/// Shift is dropped where the key itself carries it (`G`, `?`, `BackTab`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeySpec {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

/// Named keys, as written in the keymap (case-insensitive) and shown in help.
const NAMED: &[(&str, KeyCode)] = &[
    ("Space", KeyCode::Char(' ')),
    ("Enter", KeyCode::Enter),
    ("Esc", KeyCode::Esc),
    ("Tab", KeyCode::Tab),
    ("BackTab", KeyCode::BackTab),
    ("Backspace", KeyCode::Backspace),
    ("Delete", KeyCode::Delete),
    ("Insert", KeyCode::Insert),
    ("Up", KeyCode::Up),
    ("Down", KeyCode::Down),
    ("Left", KeyCode::Left),
    ("Right", KeyCode::Right),
    ("Home", KeyCode::Home),
    ("End", KeyCode::End),
    ("PageUp", KeyCode::PageUp),
    ("PageDown", KeyCode::PageDown),
];

/// Other spellings people write for the same keys.
const ALIASES: &[(&str, KeyCode)] = &[
    ("return", KeyCode::Enter),
    ("escape", KeyCode::Esc),
    ("del", KeyCode::Delete),
    ("pgup", KeyCode::PageUp),
    ("pgdn", KeyCode::PageDown),
    ("pgdown", KeyCode::PageDown),
    ("s-tab", KeyCode::BackTab),
    ("shift-tab", KeyCode::BackTab),
];

impl KeySpec {
    pub fn new(code: KeyCode, modifiers: KeyModifiers) -> KeySpec {
        let mut modifiers =
            modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        if matches!(code, KeyCode::Char(_) | KeyCode::BackTab) {
            modifiers.remove(KeyModifiers::SHIFT);
        }
        // Terminals report Ctrl-D as 'd' or 'D' depending on Shift; Ctrl bindings are lower case.
        let code = match code {
            KeyCode::Char(c) if modifiers.contains(KeyModifiers::CONTROL) => {
                KeyCode::Char(c.to_ascii_lowercase())
            }
            other => other,
        };
        KeySpec { code, modifiers }
    }

    pub fn plain(code: KeyCode) -> KeySpec {
        KeySpec::new(code, KeyModifiers::NONE)
    }

    pub fn from_event(key: &KeyEvent) -> KeySpec {
        KeySpec::new(key.code, key.modifiers)
    }

    /// Parses `q`, `G`, `?`, `ctrl-d`, `alt-x`, `Space`, `PageDown`, `F5`, `shift-Up`.
    pub fn parse(text: &str) -> Result<KeySpec, String> {
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err("an empty key".into());
        }
        let mut modifiers = KeyModifiers::NONE;
        loop {
            let lower = rest.to_ascii_lowercase();
            let (prefix_len, m) = if lower.starts_with("ctrl-") && rest.len() > 5 {
                (5, KeyModifiers::CONTROL)
            } else if lower.starts_with("alt-") && rest.len() > 4 {
                (4, KeyModifiers::ALT)
            } else if lower.starts_with("shift-") && rest.len() > 6 && lower != "shift-tab" {
                (6, KeyModifiers::SHIFT)
            } else {
                break;
            };
            modifiers |= m;
            rest = &rest[prefix_len..];
        }
        let code = parse_code(rest).ok_or_else(|| {
            format!(
                "`{text}` is not a key; write a single character (`q`, `G`, `?`), a name \
                 (Space, Enter, Esc, Tab, BackTab, Up, Down, PageUp, PageDown, Home, End, F1), \
                 optionally after ctrl-, alt- or shift-"
            )
        })?;
        Ok(KeySpec::new(code, modifiers))
    }
}

fn parse_code(text: &str) -> Option<KeyCode> {
    let mut chars = text.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Some(KeyCode::Char(c));
    }
    let lower = text.to_ascii_lowercase();
    if let Some((_, code)) = NAMED
        .iter()
        .chain(ALIASES)
        .find(|(name, _)| name.eq_ignore_ascii_case(&lower))
    {
        return Some(*code);
    }
    let n: u8 = lower.strip_prefix('f')?.parse().ok()?;
    (1..=24).contains(&n).then_some(KeyCode::F(n))
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "F{n}"),
            code => match NAMED.iter().find(|(_, named)| *named == code) {
                Some((name, _)) => f.write_str(name),
                None => write!(f, "{code:?}"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, m: KeyModifiers) -> KeySpec {
        KeySpec::from_event(&KeyEvent::new(code, m))
    }

    #[test]
    fn parses_what_the_keymap_writes_and_matches_events() {
        assert_eq!(
            KeySpec::parse("G").unwrap(),
            key(KeyCode::Char('G'), KeyModifiers::SHIFT)
        );
        assert_eq!(
            KeySpec::parse("ctrl-d").unwrap(),
            key(KeyCode::Char('d'), KeyModifiers::CONTROL)
        );
        assert_eq!(
            KeySpec::parse("Ctrl-D").unwrap(),
            key(
                KeyCode::Char('D'),
                KeyModifiers::CONTROL | KeyModifiers::SHIFT
            )
        );
        assert_eq!(
            KeySpec::parse("BackTab").unwrap(),
            key(KeyCode::BackTab, KeyModifiers::SHIFT)
        );
        assert_eq!(
            KeySpec::parse("space").unwrap(),
            key(KeyCode::Char(' '), KeyModifiers::NONE)
        );
        assert_eq!(
            KeySpec::parse("pgdn").unwrap(),
            key(KeyCode::PageDown, KeyModifiers::NONE)
        );
        assert_eq!(
            KeySpec::parse("-").unwrap(),
            KeySpec::plain(KeyCode::Char('-'))
        );
        assert_eq!(KeySpec::parse("F5").unwrap(), KeySpec::plain(KeyCode::F(5)));
    }

    #[test]
    fn refuses_what_is_not_a_key() {
        for bad in ["", "ctrl-", "Spcae", "F99", "hyper-x"] {
            assert!(KeySpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shows_one_spelling_that_parses_back() {
        for text in [
            "q", "G", "?", "ctrl-d", "Space", "BackTab", "PageDown", "alt-x", "F2",
        ] {
            let k = KeySpec::parse(text).unwrap();
            assert_eq!(k.to_string(), text);
            assert_eq!(KeySpec::parse(&k.to_string()).unwrap(), k);
        }
    }
}
