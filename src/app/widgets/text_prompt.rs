//! A popup that asks for one piece of text (a note, a date, a name), on ratatui-textarea, with
//! the app's one set of editing keys ([`line_edit`]: readline's `Ctrl-U`, `Ctrl-W`, `Tab` to
//! complete). `multi_line` prompts take `Alt-Enter`/`Ctrl-J` for a new line; `Enter` submits,
//! `Esc` cancels. A prompt [`with_choices`](TextPrompt::with_choices) (whom to assign) lists
//! them under the text, narrowed as it is typed; `Up`/`Down` pick one and `Enter` takes it, and
//! text that matches none is refused in the prompt rather than sent.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};
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

/// One thing a prompt offers to pick: what is submitted (a login) and how it is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// How many choices show under the text at once.
const CHOICES_SHOWN: usize = 6;

pub struct TextPrompt {
    title: String,
    area: TextArea<'static>,
    multi_line: bool,
    /// Shown under the title when the last submission was refused (e.g. "not a date").
    error: Option<String>,
    /// What `Tab` completes to (local parties, staff names); none: `Tab` does nothing.
    completions: Vec<String>,
    /// What may be picked; empty: any text goes.
    choices: Vec<Choice>,
    /// Which of the matching choices is highlighted (None until typing or `Up`/`Down`).
    picked: Option<usize>,
}

impl TextPrompt {
    pub fn new(title: impl Into<String>) -> TextPrompt {
        TextPrompt {
            title: title.into(),
            area: TextArea::default(),
            multi_line: false,
            error: None,
            completions: Vec::new(),
            choices: Vec::new(),
            picked: None,
        }
    }

    /// Only one of these may be submitted (or nothing, when the caller takes empty text as
    /// "nobody"); `Tab` completes to the highlighted one.
    pub fn with_choices(mut self, choices: Vec<Choice>) -> TextPrompt {
        self.choices = choices;
        self
    }

    /// The choices the typed text matches: by value or by any word of the label, folded.
    fn matching(&self) -> Vec<&Choice> {
        let typed = crate::text::fold(self.area.lines().join(" ").trim());
        self.choices
            .iter()
            .filter(|c| {
                typed.is_empty()
                    || crate::text::fold(&c.value).starts_with(&typed)
                    || c.label
                        .split_whitespace()
                        .any(|w| crate::text::fold(w).starts_with(&typed))
                    || crate::text::fold(&c.label).starts_with(&typed)
            })
            .collect()
    }

    fn move_pick(&mut self, down: bool) {
        let count = self.matching().len();
        if count == 0 {
            return;
        }
        self.picked = Some(match (self.picked, down) {
            (None, true) => 0,
            (None, false) => count - 1,
            (Some(i), true) => (i + 1) % count,
            (Some(i), false) => (i + count - 1) % count,
        });
    }

    /// What `Enter` submits when there are choices: the highlighted one, the one that matches,
    /// or nothing; text that matches none is refused here, so no unknown name is sent.
    fn submit_choice(&mut self) -> PromptOutcome {
        let typed = self.text().trim().to_owned();
        let matching = self.matching();
        let chosen = match self.picked {
            Some(i) => matching.get(i).copied(),
            None if typed.is_empty() => return PromptOutcome::Submitted(String::new()),
            None => matching
                .iter()
                .find(|c| c.value == typed)
                .or(matching.first().filter(|_| matching.len() == 1))
                .copied(),
        };
        match chosen {
            Some(choice) => PromptOutcome::Submitted(choice.value.clone()),
            None if matching.is_empty() => {
                self.refuse(format!("nobody on the staff list matches {typed:?}"));
                PromptOutcome::Editing
            }
            None => {
                self.refuse("more than one matches: Up/Down picks one");
                PromptOutcome::Editing
            }
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
            KeyCode::Enter if !self.choices.is_empty() => self.submit_choice(),
            KeyCode::Enter => PromptOutcome::Submitted(self.area.lines().join("\n")),
            KeyCode::Up | KeyCode::Down if !self.choices.is_empty() => {
                self.move_pick(key.code == KeyCode::Down);
                PromptOutcome::Editing
            }
            KeyCode::Tab if !self.choices.is_empty() => {
                let picked = self.picked.unwrap_or(0);
                if let Some(value) = self.matching().get(picked).map(|c| c.value.clone()) {
                    self.area = TextArea::new(vec![value]);
                    self.area.move_cursor(ratatui_textarea::CursorMove::End);
                    self.picked = Some(0);
                    self.error = None;
                }
                PromptOutcome::Editing
            }
            KeyCode::Tab => {
                if line_edit::complete(&mut self.area, &self.completions) {
                    self.error = None;
                }
                PromptOutcome::Editing
            }
            _ => {
                self.error = None;
                line_edit::edit(&mut self.area, key);
                // Typing narrows the choices: the first that still matches is the one `Enter`
                // takes, and empty text picks nobody.
                self.picked =
                    (!self.text().trim().is_empty() && !self.matching().is_empty()).then_some(0);
                PromptOutcome::Editing
            }
        }
    }

    pub fn draw(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        if !self.choices.is_empty() {
            return self.draw_with_choices(frame, area, theme);
        }
        let height = if self.multi_line { 10 } else { 3 };
        let rect = centered(area, 64, height);
        frame.render_widget(Clear, rect);
        self.area
            .set_block(self.block(theme.border, BorderType::Plain, theme));
        self.area.set_cursor_line_style(theme.base);
        frame.render_widget(&self.area, rect);
    }

    /// The text box with the matching choices under it, the highlighted one marked.
    fn draw_with_choices(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let matching = self.matching();
        let picked = self.picked.unwrap_or(usize::MAX);
        // Keep the highlighted choice in view when there are more than fit.
        let first = self
            .picked
            .map_or(0, |i| (i + 1).saturating_sub(CHOICES_SHOWN));
        let refusal = self
            .error
            .as_ref()
            .map(|e| Line::styled(format!("  {e}"), theme.danger));
        let mut lines: Vec<Line> = refusal
            .into_iter()
            .chain(
                matching
                    .iter()
                    .enumerate()
                    .skip(first)
                    .take(CHOICES_SHOWN)
                    .map(|(i, c)| {
                        let style = if i == picked {
                            theme.selected
                        } else {
                            theme.base
                        };
                        Line::from(vec![
                            Span::styled(if i == picked { "> " } else { "  " }, style),
                            Span::styled(c.label.clone(), style),
                        ])
                    }),
            )
            .collect();
        if matching.len() > CHOICES_SHOWN {
            lines.push(Line::styled(
                format!("  {} more: type to narrow", matching.len() - CHOICES_SHOWN),
                theme.dim,
            ));
        }
        if matching.is_empty() {
            lines.push(Line::styled("  nobody matches", theme.dim));
        }
        let list_height = lines.len() as u16 + 1;
        let rect = centered(area, 64, 2 + list_height);
        frame.render_widget(Clear, rect);
        let [text_rect, list_rect] = ratatui::layout::Layout::vertical([
            ratatui::layout::Constraint::Length(2),
            ratatui::layout::Constraint::Min(1),
        ])
        .areas(rect);
        // One box: the text on top, the choices (and any refusal) under it.
        let block = Block::default()
            .borders(Borders::LEFT | Borders::RIGHT | Borders::TOP)
            .border_style(theme.border)
            .title(format!(" {} ", self.title));
        self.area.set_block(block);
        self.area.set_cursor_line_style(theme.base);
        frame.render_widget(&self.area, text_rect);
        let list = Paragraph::new(lines).style(theme.base).block(
            Block::default()
                .borders(Borders::LEFT | Borders::RIGHT | Borders::BOTTOM)
                .border_style(theme.border)
                .title_bottom(Line::styled(" Up/Down pick · Enter takes ", theme.dim)),
        );
        frame.render_widget(list, list_rect);
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

    fn staff() -> Vec<Choice> {
        ["ann Ann Jones", "bo Bo Evans", "bryn Bryn Jones"]
            .map(|s| {
                let (login, name) = s.split_once(' ').unwrap();
                Choice {
                    value: login.into(),
                    label: format!("{login}  {name}"),
                }
            })
            .to_vec()
    }

    fn typed(p: &mut TextPrompt, text: &str) {
        for c in text.chars() {
            p.handle(key(KeyCode::Char(c)));
        }
    }

    #[test]
    fn a_typed_name_picks_the_one_staff_member_it_matches() {
        let mut p = TextPrompt::new("Assign").with_choices(staff());
        typed(&mut p, "evans");
        assert_eq!(
            p.handle(key(KeyCode::Enter)),
            PromptOutcome::Submitted("bo".into())
        );
    }

    #[test]
    fn up_and_down_pick_among_the_matches() {
        let mut p = TextPrompt::new("Assign").with_choices(staff());
        typed(&mut p, "jones");
        p.handle(key(KeyCode::Down));
        assert_eq!(
            p.handle(key(KeyCode::Enter)),
            PromptOutcome::Submitted("bryn".into())
        );
    }

    #[test]
    fn a_name_nobody_has_is_refused_in_the_prompt() {
        let mut p = TextPrompt::new("Assign").with_choices(staff());
        typed(&mut p, "zed");
        assert_eq!(p.handle(key(KeyCode::Enter)), PromptOutcome::Editing);
        assert!(
            p.error
                .as_deref()
                .unwrap()
                .contains("nobody on the staff list")
        );
    }

    #[test]
    fn empty_text_submits_nobody() {
        let mut p = TextPrompt::new("Assign").with_choices(staff());
        assert_eq!(
            p.handle(key(KeyCode::Enter)),
            PromptOutcome::Submitted(String::new())
        );
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
