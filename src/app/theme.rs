//! Colours and emphasis, by role. Panes style through these fields and never name a colour, so
//! `NO_COLOR`, the high-contrast theme and a user's theme.toml reach every pane.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub base: Style,
    pub title: Style,
    pub border: Style,
    pub active_tab: Style,
    pub inactive_tab: Style,
    pub header: Style,
    /// The highlighted row. Always reversed or bold as well as coloured, and drawn with a marker.
    pub selected: Style,
    /// Rows picked with Space for a bulk action.
    pub marked: Style,
    pub dim: Style,
    pub warning: Style,
    pub danger: Style,
    pub ok: Style,
    pub badge: Style,
    pub hint_key: Style,
    pub hint_text: Style,
    pub status_bar: Style,
}

impl Default for Theme {
    fn default() -> Theme {
        Theme {
            base: Style::default(),
            title: Style::default().add_modifier(Modifier::BOLD),
            border: Style::default().fg(Color::DarkGray),
            active_tab: Style::default()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            inactive_tab: Style::default(),
            header: Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            selected: Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            marked: Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
            dim: Style::default().fg(Color::DarkGray),
            warning: Style::default().fg(Color::Yellow),
            danger: Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
            ok: Style::default().fg(Color::Green),
            badge: Style::default().fg(Color::Magenta),
            hint_key: Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            hint_text: Style::default().fg(Color::Gray),
            status_bar: Style::default().fg(Color::Black).bg(Color::Gray),
        }
    }
}

impl Theme {
    /// No colour at all (`NO_COLOR`): emphasis only through bold, reverse and underline.
    pub fn monochrome() -> Theme {
        let bold = Style::default().add_modifier(Modifier::BOLD);
        Theme {
            base: Style::default(),
            title: bold,
            border: Style::default(),
            active_tab: Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            inactive_tab: Style::default(),
            header: bold.add_modifier(Modifier::UNDERLINED),
            selected: Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            marked: bold,
            dim: Style::default(),
            warning: bold,
            danger: bold.add_modifier(Modifier::UNDERLINED),
            ok: Style::default(),
            badge: bold,
            hint_key: bold,
            hint_text: Style::default(),
            status_bar: Style::default().add_modifier(Modifier::REVERSED),
        }
    }
}
