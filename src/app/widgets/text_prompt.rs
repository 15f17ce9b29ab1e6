//! A popup that asks for one piece of text (a note, a date, a name), on ratatui-textarea, with
//! the app's one set of editing keys ([`line_edit`]: readline's `Ctrl-U`, `Ctrl-W`, `Tab` to
//! complete). `multi_line` prompts take `Alt-Enter`/`Ctrl-J` for a new line; `Enter` submits,
//! `Esc` cancels.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::{Block, BorderType, Borders, Clear};
use ratatui_textarea::TextArea;

use super::centered;
use super::line_edit;
use crate::app::theme::Theme;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptOutcome {
    Editing,
    Submitted(String),
    Cancelled,
}

pub struct TextPrompt {
    title: String,
    area: TextArea<'static>,
    multi_line: bool,
    /// Shown under the title when the last submission was refused (e.g. "not a date").
    error: Option<String>,
    /// What `Tab` completes to (local parties, staff names); none: `Tab` does nothing.
    completions: Vec<String>,
}

impl TextPrompt {
    pub fn new(title: impl Into<String>) -> TextPrompt {
        TextPrompt {
            title: title.into(),
            area: TextArea::default(),
            multi_line: false,
            error: None,
            completions: Vec::new(),
        }
    }

    pub fn multi_line(mut self) -> TextPrompt {
        self.multi_line = true;
        self
    }

    /// `Tab` completes the typed text to one of these.
    pub fn with_completions(mut self, completions: Vec<String>) -> TextPrompt {
        self.completions = completions;
        self
    }

    /// Starts with `text` to edit. Only for changing a value in place (a filter, a date): a box
    /// that asks for a new value starts empty, so nothing has to be deleted first.
    pub fn with_text(mut self, text: &str) -> TextPrompt {
        self.area = TextArea::new(text.lines().map(str::to_owned).collect());
        self.area.move_cursor(ratatui_textarea::CursorMove::End);
        self
    }

    /// Keep the prompt open and say why its text was refused.
    pub fn refuse(&mut self, why: impl Into<String>) {
        self.error = Some(why.into());
    }

    pub fn handle(&mut self, key: KeyEvent) -> PromptOutcome {
        let newline = key.code == KeyCode::Enter && key.modifiers.contains(KeyModifiers::ALT)
            || key.code == KeyCode::Char('j') && key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => PromptOutcome::Cancelled,
            _ if newline && self.multi_line => {
                self.area.insert_newline();
                PromptOutcome::Editing
            }
            KeyCode::Enter => PromptOutcome::Submitted(self.area.lines().join("\n")),
            KeyCode::Tab => {
                if line_edit::complete(&mut self.area, &self.completions) {
                    self.error = None;
                }
                PromptOutcome::Editing
            }
            _ => {
                self.error = None;
                line_edit::edit(&mut self.area, key);
                PromptOutcome::Editing
            }
        }
    }

    pub fn draw(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let height = if self.multi_line { 10 } else { 3 };
        let rect = centered(area, 64, height);
        frame.render_widget(Clear, rect);
        self.area
            .set_block(self.block(theme.border, BorderType::Plain, theme));
        self.area.set_cursor_line_style(theme.base);
        frame.render_widget(&self.area, rect);
    }

    /// The frame around the text: the title on top, a refusal (if any) at the bottom.
    fn block(&self, border: Style, border_type: BorderType, theme: &Theme) -> Block<'static> {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_type(border_type)
            .border_style(border)
            .title(format!(" {} ", self.title));
        match &self.error {
            Some(err) => block.title_bottom(ratatui::text::Line::styled(
                format!(" {err} "),
                theme.danger,
            )),
            None => block,
        }
    }

    /// The text typed so far.
    pub fn text(&self) -> String {
        self.area.lines().join("\n")
    }

    /// Draws the prompt inside `rect` as one field of a form rather than as a popup. The focused
    /// field has a thick border and shows its cursor; multi-line fields wrap at words.
    pub fn draw_field(&mut self, frame: &mut Frame, rect: Rect, theme: &Theme, focused: bool) {
        let (border, border_type) = if focused {
            (theme.title, BorderType::Thick)
        } else {
            (theme.border, BorderType::Plain)
        };
        self.area.set_block(self.block(border, border_type, theme));
        self.area.set_cursor_line_style(theme.base);
        self.area
            .set_cursor_style(if focused { theme.selected } else { theme.base });
        if self.multi_line {
            self.area.set_wrap_mode(ratatui_textarea::WrapMode::Word);
        }
        frame.render_widget(&self.area, rect);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn typing_editing_and_submitting() {
        let mut p = TextPrompt::new("Note");
        for c in "Rang twice".chars() {
            p.handle(key(KeyCode::Char(c)));
        }
        p.handle(key(KeyCode::Backspace));
        p.handle(key(KeyCode::Home));
        p.handle(key(KeyCode::Char('>')));
        assert_eq!(
            p.handle(key(KeyCode::Enter)),
            PromptOutcome::Submitted(">Rang twic".into())
        );
        assert_eq!(p.handle(key(KeyCode::Esc)), PromptOutcome::Cancelled);
    }

    #[test]
    fn multi_line_takes_alt_enter() {
        let mut p = TextPrompt::new("Description").multi_line();
        p.handle(key(KeyCode::Char('a')));
        p.handle(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT));
        p.handle(key(KeyCode::Char('b')));
        assert_eq!(
            p.handle(key(KeyCode::Enter)),
            PromptOutcome::Submitted("a\nb".into())
        );
    }
}
