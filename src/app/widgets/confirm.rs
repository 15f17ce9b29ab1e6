//! "Log 'reminder emailed' for 40 members? (y/n)": the question before a bulk or risky action.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::centered;
use crate::app::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
    /// Any other key: still asking.
    Waiting,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmDialog {
    pub question: String,
}

impl ConfirmDialog {
    pub fn new(question: impl Into<String>) -> ConfirmDialog {
        ConfirmDialog {
            question: question.into(),
        }
    }

    /// `y`/`Enter` confirm; `n`/`Esc` decline.
    pub fn handle(&self, key: KeyEvent) -> Answer {
        match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => Answer::Yes,
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => Answer::No,
            _ => Answer::Waiting,
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        // As tall as the question wraps to, so the y/n line is never pushed out of sight.
        const WIDTH: u16 = 60;
        let question_lines = crate::text::wrap_words(&self.question, usize::from(WIDTH - 2))
            .len()
            .max(1) as u16;
        let rect = centered(area, WIDTH, question_lines + 4);
        frame.render_widget(Clear, rect);
        let text = vec![
            Line::from(self.question.as_str()),
            Line::from(""),
            Line::from(vec![
                Span::styled("y", theme.hint_key),
                Span::styled(" yes   ", theme.hint_text),
                Span::styled("n", theme.hint_key),
                Span::styled(" no", theme.hint_text),
            ]),
        ];
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.warning)
            .title(" Confirm ");
        frame.render_widget(
            Paragraph::new(text).wrap(Wrap { trim: true }).block(block),
            rect,
        );
    }
}
