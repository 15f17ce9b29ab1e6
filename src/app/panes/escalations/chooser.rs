//! A small popup list to pick one of a few values (the next status, a priority): arrow keys or
//! `j`/`k` move, a digit picks directly, `Enter` chooses, `Esc` cancels.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::app::theme::Theme;
use crate::app::widgets::centered;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice<T> {
    Choosing,
    Chosen(T),
    Cancelled,
}

pub struct Chooser<T> {
    title: String,
    items: Vec<(String, T)>,
    selected: usize,
}

impl<T: Copy> Chooser<T> {
    pub fn new(title: impl Into<String>, items: Vec<(String, T)>) -> Chooser<T> {
        Chooser {
            title: title.into(),
            items,
            selected: 0,
        }
    }

    pub fn handle(&mut self, key: KeyEvent) -> Choice<T> {
        let last = self.items.len().saturating_sub(1);
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') => return Choice::Cancelled,
            KeyCode::Enter => return self.chosen(self.selected),
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => self.selected = (self.selected + 1).min(last),
            KeyCode::Home | KeyCode::Char('g') => self.selected = 0,
            KeyCode::End | KeyCode::Char('G') => self.selected = last,
            KeyCode::Char(c @ '1'..='9') => {
                return self.chosen(c as usize - '1' as usize);
            }
            _ => {}
        }
        Choice::Choosing
    }

    fn chosen(&self, index: usize) -> Choice<T> {
        match self.items.get(index) {
            Some((_, value)) => Choice::Chosen(*value),
            None => Choice::Choosing,
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let widest = self.items.iter().map(|(l, _)| l.chars().count()).max();
        let width = (widest.unwrap_or(0).max(self.title.chars().count()) + 10) as u16;
        let rect = centered(area, width, self.items.len() as u16 + 4);
        frame.render_widget(Clear, rect);
        let mut lines: Vec<Line> = self
            .items
            .iter()
            .enumerate()
            .map(|(i, (label, _))| {
                let text = format!("{} {}. {label}", marker(i == self.selected), i + 1);
                if i == self.selected {
                    Line::styled(text, theme.selected)
                } else {
                    Line::styled(text, theme.base)
                }
            })
            .collect();
        lines.push(Line::default());
        lines.push(Line::from(vec![
            Span::styled("Enter", theme.hint_key),
            Span::styled(" choose  ", theme.hint_text),
            Span::styled("Esc", theme.hint_key),
            Span::styled(" cancel", theme.hint_text),
        ]));
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border)
            .title(format!(" {} ", self.title));
        frame.render_widget(Paragraph::new(lines).block(block), rect);
    }
}

/// The selected row's marker: never colour alone.
pub fn marker(selected: bool) -> &'static str {
    if selected { "▶" } else { " " }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyModifiers;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn moves_chooses_and_cancels() {
        let mut c = Chooser::new("Pick", vec![("a".into(), 1), ("b".into(), 2)]);
        assert_eq!(c.handle(key(KeyCode::Down)), Choice::Choosing);
        assert_eq!(
            c.handle(key(KeyCode::Down)),
            Choice::Choosing,
            "stops at the end"
        );
        assert_eq!(c.handle(key(KeyCode::Enter)), Choice::Chosen(2));
        assert_eq!(c.handle(key(KeyCode::Char('1'))), Choice::Chosen(1));
        assert_eq!(
            c.handle(key(KeyCode::Char('3'))),
            Choice::Choosing,
            "no third item"
        );
        assert_eq!(c.handle(key(KeyCode::Esc)), Choice::Cancelled);
    }
}
