//! A pane not built yet: says what it will hold instead of crashing.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::app::db::DbReply;
use crate::app::pane::{Command, Effect, Pane, PaneId, PaneInput, Shared};

pub struct Placeholder {
    id: PaneId,
    text: &'static str,
}

impl Placeholder {
    pub fn new(id: PaneId, text: &'static str) -> Placeholder {
        Placeholder { id, text }
    }
}

impl Pane for Placeholder {
    fn id(&self) -> PaneId {
        self.id
    }

    fn commands(&self) -> &'static [Command] {
        &[]
    }

    fn refresh(&mut self, _shared: &Shared) {}

    fn handle(&mut self, _input: PaneInput, _shared: &Shared) -> Effect {
        Effect::None
    }

    fn on_reply(&mut self, _reply: DbReply, _shared: &Shared) -> Effect {
        Effect::None
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, shared: &Shared) {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(shared.theme.border)
            .title(self.id.title());
        let text = Paragraph::new(self.text)
            .style(shared.theme.dim)
            .wrap(Wrap { trim: true })
            .block(block);
        frame.render_widget(text, area);
    }
}
