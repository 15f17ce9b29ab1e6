//! The onboarding pane's popups: the bulk-tick question, text prompts (filter, assign, note,
//! abandon detail) and the abandon-reason chooser.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::app::theme::Theme;
use crate::app::widgets::centered;
use crate::app::widgets::confirm::{Answer, ConfirmDialog};
use crate::app::widgets::text_prompt::{PromptOutcome, TextPrompt};
use crate::domain::onboarding::AbandonReason;
use crate::storage::onboarding::{MAX_NOTE_CHARS, check_staff_name};

/// What a text prompt is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Filter,
    Assign {
        contact_id: i64,
    },
    Note {
        contact_id: i64,
    },
    AbandonDetail {
        contact_id: i64,
        reason: AbandonReason,
    },
}

pub enum Modal {
    ConfirmBulk {
        dialog: ConfirmDialog,
        step_key: String,
        contacts: Vec<i64>,
    },
    /// Boxed: a text area is large beside the other popups.
    Prompt(PromptKind, Box<TextPrompt>),
    AbandonChooser {
        contact_id: i64,
        choice: usize,
    },
}

/// What a key did to a popup.
#[derive(Debug, PartialEq, Eq)]
pub enum ModalOutcome {
    /// Still open (possibly a different popup: the chooser leads to the detail prompt).
    Open(Box<Modal>),
    Closed,
    Filter(String),
    BulkTick {
        step_key: String,
        contacts: Vec<i64>,
    },
    Assign {
        contact_id: i64,
        assignee: Option<String>,
    },
    Note {
        contact_id: i64,
        body: String,
    },
    Abandon {
        contact_id: i64,
        reason: AbandonReason,
        detail: String,
    },
}

impl PartialEq for Modal {
    /// Popups compare by what they are for; enough for tests of the outcome.
    fn eq(&self, other: &Modal) -> bool {
        match (self, other) {
            (Modal::ConfirmBulk { dialog: a, .. }, Modal::ConfirmBulk { dialog: b, .. }) => a == b,
            (Modal::Prompt(a, _), Modal::Prompt(b, _)) => a == b,
            (Modal::AbandonChooser { choice: a, .. }, Modal::AbandonChooser { choice: b, .. }) => {
                a == b
            }
            _ => false,
        }
    }
}

impl Eq for Modal {}

impl std::fmt::Debug for Modal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Modal::ConfirmBulk { contacts, .. } => write!(f, "ConfirmBulk({})", contacts.len()),
            Modal::Prompt(kind, _) => write!(f, "Prompt({kind:?})"),
            Modal::AbandonChooser { choice, .. } => write!(f, "AbandonChooser({choice})"),
        }
    }
}

impl Modal {
    pub fn prompt(kind: PromptKind, prompt: TextPrompt) -> Modal {
        Modal::Prompt(kind, Box::new(prompt))
    }

    pub fn handle(self, key: KeyEvent) -> ModalOutcome {
        match self {
            Modal::ConfirmBulk {
                dialog,
                step_key,
                contacts,
            } => match dialog.handle(key) {
                Answer::Yes => ModalOutcome::BulkTick { step_key, contacts },
                Answer::No => ModalOutcome::Closed,
                Answer::Waiting => ModalOutcome::Open(Box::new(Modal::ConfirmBulk {
                    dialog,
                    step_key,
                    contacts,
                })),
            },
            Modal::Prompt(kind, mut prompt) => match prompt.handle(key) {
                PromptOutcome::Editing => ModalOutcome::Open(Box::new(Modal::Prompt(kind, prompt))),
                PromptOutcome::Cancelled => ModalOutcome::Closed,
                PromptOutcome::Submitted(text) => match submitted(kind, text) {
                    Ok(outcome) => outcome,
                    Err(why) => {
                        prompt.refuse(why);
                        ModalOutcome::Open(Box::new(Modal::Prompt(kind, prompt)))
                    }
                },
            },
            Modal::AbandonChooser { contact_id, choice } => choose(contact_id, choice, key),
        }
    }

    pub fn draw(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        match self {
            Modal::ConfirmBulk { dialog, .. } => dialog.draw(frame, area, theme),
            Modal::Prompt(_, prompt) => prompt.draw(frame, area, theme),
            Modal::AbandonChooser { choice, .. } => draw_chooser(*choice, frame, area, theme),
        }
    }
}

/// Checks submitted text; an error keeps the prompt open with the reason shown.
fn submitted(kind: PromptKind, text: String) -> Result<ModalOutcome, String> {
    Ok(match kind {
        PromptKind::Filter => ModalOutcome::Filter(text),
        PromptKind::Assign { contact_id } => {
            let assignee = if text.trim().is_empty() {
                None
            } else {
                Some(
                    check_staff_name(&text)
                        .map_err(|e| e.to_string())?
                        .to_owned(),
                )
            };
            ModalOutcome::Assign {
                contact_id,
                assignee,
            }
        }
        PromptKind::Note { contact_id } => {
            let body = text.trim();
            if body.is_empty() {
                return Err("the note is empty (Esc to cancel)".into());
            }
            if body.chars().count() > MAX_NOTE_CHARS {
                return Err(format!("a note is at most {MAX_NOTE_CHARS} characters"));
            }
            ModalOutcome::Note {
                contact_id,
                body: body.to_owned(),
            }
        }
        PromptKind::AbandonDetail { contact_id, reason } => {
            reason.stored(&text).map_err(str::to_owned)?;
            ModalOutcome::Abandon {
                contact_id,
                reason,
                detail: text.trim().to_owned(),
            }
        }
    })
}

/// The reason chooser: j/k or arrows move, 1-4 or Enter pick, Esc cancels.
fn choose(contact_id: i64, choice: usize, key: KeyEvent) -> ModalOutcome {
    let n = AbandonReason::ALL.len();
    let picked = |i: usize| {
        let reason = AbandonReason::ALL[i];
        let title = if reason == AbandonReason::Other {
            "Other reason (required)".to_owned()
        } else {
            format!("{}: detail (optional, Enter to skip)", reason.label())
        };
        ModalOutcome::Open(Box::new(Modal::prompt(
            PromptKind::AbandonDetail { contact_id, reason },
            TextPrompt::new(title),
        )))
    };
    let stay = |choice| ModalOutcome::Open(Box::new(Modal::AbandonChooser { contact_id, choice }));
    match key.code {
        KeyCode::Esc => ModalOutcome::Closed,
        KeyCode::Down | KeyCode::Char('j') => stay((choice + 1) % n),
        KeyCode::Up | KeyCode::Char('k') => stay((choice + n - 1) % n),
        KeyCode::Enter => picked(choice),
        KeyCode::Char(c) => match c.to_digit(10) {
            Some(d) if (1..=n as u32).contains(&d) => picked(d as usize - 1),
            _ => stay(choice),
        },
        _ => stay(choice),
    }
}

fn draw_chooser(choice: usize, frame: &mut Frame, area: Rect, theme: &Theme) {
    let rect = centered(area, 44, AbandonReason::ALL.len() as u16 + 4);
    frame.render_widget(Clear, rect);
    let mut lines: Vec<Line> = AbandonReason::ALL
        .iter()
        .enumerate()
        .map(|(i, reason)| {
            let text = format!(
                "{} {}  {}",
                if i == choice { "▶" } else { " " },
                i + 1,
                reason.label()
            );
            if i == choice {
                Line::styled(text, theme.selected)
            } else {
                Line::from(text)
            }
        })
        .collect();
    lines.push(Line::from(""));
    lines.push(Line::from(vec![
        Span::styled("Enter", theme.hint_key),
        Span::styled(" choose  ", theme.hint_text),
        Span::styled("Esc", theme.hint_key),
        Span::styled(" cancel", theme.hint_text),
    ]));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.warning)
        .title(" Abandon the path: why? ");
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyModifiers;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn typed(mut modal: Modal, text: &str) -> ModalOutcome {
        for c in text.chars() {
            match modal.handle(key(KeyCode::Char(c))) {
                ModalOutcome::Open(m) => modal = *m,
                other => return other,
            }
        }
        modal.handle(key(KeyCode::Enter))
    }

    #[test]
    fn choosing_other_requires_a_reason() {
        let chooser = Modal::AbandonChooser {
            contact_id: 7,
            choice: 0,
        };
        let ModalOutcome::Open(detail) = chooser.handle(key(KeyCode::Char('4'))) else {
            panic!("expected the detail prompt");
        };
        let ModalOutcome::Open(reopened) = typed(*detail, "") else {
            panic!("an empty other reason keeps the prompt open");
        };
        let Modal::Prompt(_, mut prompt) = *reopened else {
            panic!("expected the same prompt");
        };
        for c in "moved abroad".chars() {
            prompt.handle(key(KeyCode::Char(c)));
        }
        let kind = PromptKind::AbandonDetail {
            contact_id: 7,
            reason: AbandonReason::Other,
        };
        assert_eq!(
            Modal::Prompt(kind, prompt).handle(key(KeyCode::Enter)),
            ModalOutcome::Abandon {
                contact_id: 7,
                reason: AbandonReason::Other,
                detail: "moved abroad".into()
            }
        );
    }

    #[test]
    fn arrows_then_enter_pick_a_reason_whose_detail_is_optional() {
        let mut chooser = Modal::AbandonChooser {
            contact_id: 3,
            choice: 0,
        };
        for code in [KeyCode::Down, KeyCode::Down, KeyCode::Up] {
            let ModalOutcome::Open(m) = chooser.handle(key(code)) else {
                panic!()
            };
            chooser = *m;
        }
        let ModalOutcome::Open(detail) = chooser.handle(key(KeyCode::Enter)) else {
            panic!()
        };
        assert_eq!(
            typed(*detail, ""),
            ModalOutcome::Abandon {
                contact_id: 3,
                reason: AbandonReason::DuplicateRecord,
                detail: String::new()
            }
        );
    }

    #[test]
    fn an_empty_assignee_unassigns_and_a_bad_one_is_refused() {
        let prompt = |kind| Modal::prompt(kind, TextPrompt::new("Assign"));
        let assign = PromptKind::Assign { contact_id: 1 };
        assert_eq!(
            typed(prompt(assign), ""),
            ModalOutcome::Assign {
                contact_id: 1,
                assignee: None
            }
        );
        assert_eq!(
            typed(prompt(assign), "rhian"),
            ModalOutcome::Assign {
                contact_id: 1,
                assignee: Some("rhian".into())
            }
        );
        let long = "x".repeat(65);
        assert!(matches!(
            typed(prompt(assign), &long),
            ModalOutcome::Open(_)
        ));
        let note = PromptKind::Note { contact_id: 1 };
        assert!(matches!(typed(prompt(note), "  "), ModalOutcome::Open(_)));
    }
}
