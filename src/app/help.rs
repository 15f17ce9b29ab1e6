//! The `?` help and the key-hint line. Both are built by [`sections`] from the keymap as loaded
//! and the commands the pane declares, so neither can show a key that does something else.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::access::Access;
use super::keymap::{Context, GLOBAL_ACTIONS, Keymap, LIST_ACTIONS, QUIT_ALWAYS};
use super::keyspec::KeySpec;
use super::pane::Command;
use super::theme::Theme;
use super::widgets::centered;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpRow {
    pub keys: Vec<KeySpec>,
    pub description: &'static str,
    /// Shown in the key-hint line too.
    pub hint: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpSection {
    pub title: String,
    pub rows: Vec<HelpRow>,
}

/// Everything a key does in `context` for the person at the window: the pane's (or member
/// view's) own commands, then list movement, then what works everywhere. What `access` does not
/// allow is left out of those and listed last, under why, so nobody presses a dead key.
pub fn sections(
    keymap: &Keymap,
    context: Context,
    title: &str,
    own: &'static [Command],
    access: &Access,
) -> Vec<HelpSection> {
    let row = |c: &Command, global: bool| HelpRow {
        keys: keymap.keys_for(context, c.action, global),
        description: c.description,
        hint: c.hint,
    };
    let allowed = |c: &&Command| !(c.changes && access.is_read_only());
    let own_rows = own.iter().filter(allowed).map(|c| row(c, false)).collect();
    let list = || {
        LIST_ACTIONS
            .iter()
            .filter(|l| !own.iter().any(|c| c.action == l.action))
    };
    let list_rows = list()
        .filter(allowed)
        .map(|c| row(c, false))
        .filter(|r| !r.keys.is_empty())
        .collect();
    let refused: Vec<HelpRow> = own
        .iter()
        .chain(list())
        .filter(|c| !allowed(c))
        .map(|c| HelpRow {
            hint: false,
            ..row(c, false)
        })
        .filter(|r| !r.keys.is_empty())
        .collect();
    let mut global_rows: Vec<HelpRow> = GLOBAL_ACTIONS.iter().map(|c| row(c, true)).collect();
    global_rows.push(HelpRow {
        keys: vec![QUIT_ALWAYS],
        description: "quit, from anywhere",
        hint: false,
    });
    let mut sections = vec![
        HelpSection {
            title: title.to_owned(),
            rows: own_rows,
        },
        HelpSection {
            title: "Lists".into(),
            rows: list_rows,
        },
        HelpSection {
            title: "Everywhere".into(),
            rows: global_rows,
        },
    ];
    if let (Some(why), false) = (access.read_only_because(), refused.is_empty()) {
        sections.push(HelpSection {
            title: format!("Not here: read-only ({why})"),
            rows: refused,
        });
    }
    sections
}

/// A key list as help shows it: `k Up`.
pub fn keys_text(keys: &[KeySpec]) -> String {
    if keys.is_empty() {
        return "(no key)".into();
    }
    keys.iter()
        .map(KeySpec::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The hint for a command: its description up to the first colon or bracket ("help: every key
/// here" → "help").
pub fn short(description: &str) -> &str {
    let end = description.find([':', '(']).unwrap_or(description.len());
    description[..end].trim_end()
}

/// The key-hint line's items, in order: the context's own hinted commands, then hinted list and
/// global ones. Each is (first key, short description); commands with no key are left out.
pub fn hints(sections: &[HelpSection]) -> Vec<(String, &'static str)> {
    sections
        .iter()
        .flat_map(|s| &s.rows)
        .filter(|r| r.hint)
        .filter_map(|r| Some((r.keys.first()?.to_string(), short(r.description))))
        .collect()
}

/// The hint line at `width`: as many hints as fit, always keeping the last `keep` (the global
/// ones), so `?` is never pushed off.
pub fn hint_line(
    items: &[(String, &'static str)],
    keep: usize,
    width: u16,
    theme: &Theme,
) -> Line<'static> {
    let cost = |(k, d): &(String, &str)| k.chars().count() + d.chars().count() + 3;
    let keep = keep.min(items.len());
    let (optional, kept) = items.split_at(items.len() - keep);
    let mut budget = (width as usize).saturating_sub(kept.iter().map(cost).sum());
    let mut shown: Vec<&(String, &str)> = Vec::new();
    for item in optional {
        if cost(item) > budget {
            break;
        }
        budget -= cost(item);
        shown.push(item);
    }
    shown.extend(kept);
    let mut spans = vec![Span::raw(" ")];
    for (key, text) in shown {
        spans.push(Span::styled(key.clone(), theme.hint_key));
        spans.push(Span::styled(format!(" {text}  "), theme.hint_text));
    }
    Line::from(spans)
}

/// The help overlay's state: how far it is scrolled.
#[derive(Debug, Default, Clone)]
pub struct HelpView {
    pub scroll: usize,
    /// Lines that fit at the last draw, for paging.
    pub page: usize,
}

impl HelpView {
    pub fn lines(sections: &[HelpSection], theme: &Theme) -> Vec<Line<'static>> {
        let width = sections
            .iter()
            .flat_map(|s| &s.rows)
            .map(|r| keys_text(&r.keys).chars().count())
            .max()
            .unwrap_or(0)
            .min(24);
        let mut lines = Vec::new();
        for section in sections {
            if !lines.is_empty() {
                lines.push(Line::from(""));
            }
            lines.push(Line::styled(section.title.clone(), theme.header));
            if section.rows.is_empty() {
                lines.push(Line::styled("  (nothing of its own yet)", theme.dim));
            }
            for row in &section.rows {
                lines.push(Line::from(vec![
                    Span::raw("  "),
                    Span::styled(format!("{:<width$}", keys_text(&row.keys)), theme.hint_key),
                    Span::raw("  "),
                    Span::styled(row.description, theme.base),
                ]));
            }
        }
        lines
    }

    pub fn scroll_by(&mut self, delta: isize, total: usize) {
        let max = total.saturating_sub(self.page.max(1));
        self.scroll = self.scroll.saturating_add_signed(delta).min(max);
    }

    pub fn draw(&mut self, frame: &mut Frame, area: Rect, sections: &[HelpSection], theme: &Theme) {
        let rect = centered(area, 76, area.height);
        frame.render_widget(Clear, rect);
        let lines = HelpView::lines(sections, theme);
        self.page = rect.height.saturating_sub(2) as usize;
        self.scroll = self.scroll.min(lines.len().saturating_sub(self.page));
        let more = if lines.len() > self.page {
            format!(" {}/{} · j/k scroll ", self.scroll + 1, lines.len())
        } else {
            String::new()
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border)
            .title(Line::styled(" Help · ? or Esc closes ", theme.title))
            .title_bottom(Line::styled(more, theme.dim));
        let text = Paragraph::new(lines)
            .style(theme.base)
            .scroll((self.scroll as u16, 0))
            .block(block);
        frame.render_widget(text, rect);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_cuts_at_the_first_colon_or_bracket() {
        assert_eq!(short("help: every key here"), "help");
        assert_eq!(short("command line (:q, :pane)"), "command line");
        assert_eq!(short("log a contact attempt"), "log a contact attempt");
    }
}
