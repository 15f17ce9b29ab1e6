//! The one set of editing keys for every text field in the app (prompts, the escalation form,
//! the search line), after readline: `Ctrl-U` deletes to the start of the line, `Ctrl-W` (and
//! `Alt-Backspace`) the word before the cursor, `Ctrl-K` to the end, `Ctrl-A`/`Home` and
//! `Ctrl-E`/`End` go to the start and end, `Tab` completes where the field has completions and
//! never inserts a character. `Enter`, `Esc` and field movement belong to the caller.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::{CursorMove, TextArea};

use crate::text::fold;

/// Applies one editing key to `area`. Returns true if the text changed.
pub fn edit(area: &mut TextArea, key: KeyEvent) -> bool {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    match key.code {
        KeyCode::Char('u') if ctrl => area.delete_line_by_head(),
        KeyCode::Char('w') if ctrl => area.delete_word(),
        KeyCode::Backspace if alt || ctrl => area.delete_word(),
        KeyCode::Char('k') if ctrl => area.delete_line_by_end(),
        KeyCode::Char('a') if ctrl => {
            area.move_cursor(CursorMove::Head);
            false
        }
        KeyCode::Char('e') if ctrl => {
            area.move_cursor(CursorMove::End);
            false
        }
        // Completion is the caller's (it knows the candidates); Enter and its control-key
        // spellings submit or add a line, never here.
        KeyCode::Tab | KeyCode::BackTab | KeyCode::Enter | KeyCode::Esc => false,
        KeyCode::Char('m' | 'j') if ctrl => false,
        _ => area.input(key),
    }
}

/// `Tab`: completes the line from `candidates` (case-insensitively, by prefix) to the one match,
/// or as far as all the matches agree. Returns true if the text changed.
pub fn complete(area: &mut TextArea, candidates: &[String]) -> bool {
    let typed = area.lines().join("\n");
    let Some(completed) = completion(&typed, candidates) else {
        return false;
    };
    if completed == typed {
        return false;
    }
    *area = TextArea::new(vec![completed]);
    area.move_cursor(CursorMove::End);
    true
}

/// The distinct non-empty values, sorted: completions taken from a list's rows.
pub fn distinct<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let set: std::collections::BTreeSet<&str> = values
        .into_iter()
        .filter(|v| !v.trim().is_empty())
        .collect();
    set.into_iter().map(str::to_owned).collect()
}

/// What `typed` completes to among `candidates`, if any start with it.
pub fn completion(typed: &str, candidates: &[String]) -> Option<String> {
    let needle = fold(typed);
    let mut matches = candidates.iter().filter(|c| fold(c).starts_with(&needle));
    let first = matches.next()?;
    let mut common: Vec<char> = first.chars().collect();
    for other in matches {
        let agree = common
            .iter()
            .zip(other.chars())
            .take_while(|(a, b)| a.to_lowercase().eq(b.to_lowercase()))
            .count();
        common.truncate(agree);
    }
    let common: String = common.into_iter().collect();
    // Never shorten what was typed (matching case-insensitively may agree on less).
    Some(if common.chars().count() < typed.chars().count() {
        typed.to_owned()
    } else {
        common
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    fn typed(text: &str) -> TextArea<'static> {
        let mut area = TextArea::default();
        for c in text.chars() {
            edit(
                &mut area,
                KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
            );
        }
        area
    }

    #[test]
    fn ctrl_u_clears_to_the_start_and_ctrl_w_deletes_a_word() {
        let mut area = typed("Cardiff West");
        edit(&mut area, ctrl('w'));
        assert_eq!(area.lines(), ["Cardiff "]);
        edit(&mut area, ctrl('u'));
        assert_eq!(area.lines(), [""]);
    }

    #[test]
    fn tab_never_inserts_and_completes_to_what_the_matches_share() {
        let parties = vec![
            "Cardiff West".to_owned(),
            "Cardiff Central".to_owned(),
            "Ceredigion".to_owned(),
        ];
        let mut area = typed("car");
        edit(&mut area, KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
        assert_eq!(area.lines(), ["car"]);
        assert!(complete(&mut area, &parties));
        assert_eq!(area.lines(), ["Cardiff "]);
        edit(
            &mut area,
            KeyEvent::new(KeyCode::Char('w'), KeyModifiers::NONE),
        );
        complete(&mut area, &parties);
        assert_eq!(area.lines(), ["Cardiff West"]);
        assert!(!complete(&mut typed("Swansea"), &parties));
    }
}
