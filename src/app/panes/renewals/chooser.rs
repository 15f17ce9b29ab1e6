//! A small popup of single-key choices ("p phone", "e email", ...): the steps of logging a
//! contact attempt and the filter menu. One key picks; Esc cancels.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::app::theme::Theme;
use crate::app::widgets::centered;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChooserItem {
    pub key: char,
    pub label: String,
    /// Shown dimmed after the label: a current value, or a preference this choice goes against.
    pub note: String,
    /// The note is a warning (a preference), not just information.
    pub warn: bool,
}

impl ChooserItem {
    pub fn new(key: char, label: impl Into<String>) -> ChooserItem {
        ChooserItem {
            key,
            label: label.into(),
            note: String::new(),
            warn: false,
        }
    }

    pub fn note(mut self, note: impl Into<String>) -> ChooserItem {
        self.note = note.into();
        self
    }

    pub fn warn(mut self, note: impl Into<String>) -> ChooserItem {
        self.note = note.into();
        self.warn = !self.note.is_empty();
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Picked(char),
    Cancelled,
    /// A key that picks nothing: still choosing.
    Waiting,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chooser {
    pub title: String,
    pub items: Vec<ChooserItem>,
    /// A last line of help ("Esc cancels").
    pub footer: String,
}

impl Chooser {
    pub fn new(title: impl Into<String>, items: Vec<ChooserItem>) -> Chooser {
        Chooser {
            title: title.into(),
            items,
            footer: "Esc cancels".to_owned(),
        }
    }

    pub fn footer(mut self, footer: impl Into<String>) -> Chooser {
        self.footer = footer.into();
        self
    }

    pub fn pick(&self, key: KeyEvent) -> Choice {
        if key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            return Choice::Waiting;
        }
        match key.code {
            KeyCode::Esc => Choice::Cancelled,
            KeyCode::Char(c) if self.items.iter().any(|i| i.key == c) => Choice::Picked(c),
            _ => Choice::Waiting,
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let label_width = self.items.iter().map(|i| i.label.chars().count()).max();
        let label_width = label_width.unwrap_or(0);
        let mut lines: Vec<Line> = self
            .items
            .iter()
            .map(|item| {
                let mut spans = vec![
                    Span::styled(format!(" {} ", item.key), theme.hint_key),
                    Span::styled(format!(" {:<label_width$}", item.label), theme.base),
                ];
                if !item.note.is_empty() {
                    let style = if item.warn { theme.warning } else { theme.dim };
                    spans.push(Span::styled(format!("  {}", item.note), style));
                }
                Line::from(spans)
            })
            .collect();
        lines.push(Line::styled(format!(" {}", self.footer), theme.hint_text));
        let width = lines
            .iter()
            .map(Line::width)
            .max()
            .unwrap_or(0)
            .max(self.title.len() + 4);
        let rect = centered(area, width as u16 + 3, lines.len() as u16 + 2);
        frame.render_widget(Clear, rect);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border)
            .title(Span::styled(format!(" {} ", self.title), theme.title));
        frame.render_widget(Paragraph::new(lines).block(block), rect);
    }
}
