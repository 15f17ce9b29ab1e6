//! The `:` command line: what it accepts, and the line being typed.

use std::path::PathBuf;

use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui_textarea::{CursorMove, TextArea};

use super::pane::PaneId;
use super::widgets::line_edit;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShellCommand {
    Quit,
    Pane(PaneId),
    /// `:import [--older-export] PATH`: `--older-export` imports a file that looks older than
    /// what the database holds (see `import::OlderExport`).
    Import {
        path: PathBuf,
        older_export: bool,
    },
    Help,
}

const USAGE: &str = "try :q, :pane NAME, :import PATH or :help";
const OLDER_EXPORT: &str = "--older-export";

/// Parses what was typed after `:`. Errors are the message to show.
pub fn parse(line: &str) -> Result<ShellCommand, String> {
    let line = line.trim();
    let (word, rest) = line
        .split_once(char::is_whitespace)
        .map_or((line, ""), |(w, r)| (w, r.trim()));
    match word {
        "" => Err(format!("no command; {USAGE}")),
        "q" | "quit" | "q!" | "qa" | "wq" | "x" => Ok(ShellCommand::Quit),
        "h" | "help" => Ok(ShellCommand::Help),
        "pane" | "p" => pane_named(rest).map(ShellCommand::Pane),
        "import" | "i" => {
            let (older_export, path) = match rest.strip_prefix(OLDER_EXPORT) {
                Some(after) if after.is_empty() || after.starts_with(char::is_whitespace) => {
                    (true, after.trim())
                }
                _ => (false, rest),
            };
            if path.is_empty() {
                Err("`:import` needs the path of an export file, e.g. :import ~/export.csv".into())
            } else {
                Ok(ShellCommand::Import {
                    path: expand_home(path),
                    older_export,
                })
            }
        }
        other => Err(format!("unknown command `:{other}`; {USAGE}")),
    }
}

/// A pane by number (`2`), name (`renewals`) or the start of one (`ren`).
pub fn pane_named(name: &str) -> Result<PaneId, String> {
    let name = name.trim().to_ascii_lowercase();
    let names = "today, search, renewals, onboarding, escalations, or 0-4";
    if name.is_empty() {
        return Err(format!("`:pane` needs a pane: {names}"));
    }
    if let Ok(n) = name.parse::<usize>() {
        return PaneId::ALL
            .get(n)
            .copied()
            .ok_or_else(|| format!("no pane {n}; the panes are {names}"));
    }
    let matches: Vec<PaneId> = PaneId::ALL
        .into_iter()
        .filter(|p| p.keymap_section().starts_with(&name))
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        _ => Err(format!("no pane `{name}`; the panes are {names}")),
    }
}

/// `~/x` → `$HOME/x`, as a shell would.
fn expand_home(path: &str) -> PathBuf {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty());
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// The line being typed after `:`, with the cursor and the keys any shell line takes.
/// The line typed after `:`, edited with the app's one set of editing keys
/// ([`line_edit`]); `Up`/`Down` recall earlier commands and `Tab` completes a command name.
#[derive(Debug, Default, Clone)]
pub struct CommandLine {
    area: TextArea<'static>,
    /// Earlier commands, oldest first, and where Up has got to.
    history: Vec<String>,
    recalled: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineOutcome {
    Editing,
    Submitted(String),
    Cancelled,
}

/// What `Tab` completes the command word to.
const COMMAND_NAMES: [&str; 4] = ["help", "import ", "pane ", "quit"];

impl CommandLine {
    pub fn with_history(history: Vec<String>) -> CommandLine {
        CommandLine {
            history,
            ..CommandLine::default()
        }
    }

    pub fn text(&self) -> String {
        self.area.lines().join(" ")
    }

    /// Where the cursor is, in chars.
    pub fn cursor(&self) -> usize {
        self.area.cursor().1
    }

    pub fn into_history(self) -> Vec<String> {
        self.history
    }

    pub fn handle(&mut self, key: KeyEvent) -> LineOutcome {
        match key.code {
            KeyCode::Esc => return LineOutcome::Cancelled,
            KeyCode::Backspace if self.text().is_empty() => return LineOutcome::Cancelled,
            KeyCode::Enter => {
                let line = self.text();
                self.set_text("");
                if !line.trim().is_empty() && self.history.last() != Some(&line) {
                    self.history.push(line.clone());
                }
                return LineOutcome::Submitted(line);
            }
            KeyCode::Up => self.recall(true),
            KeyCode::Down => self.recall(false),
            KeyCode::Tab if !self.text().contains(' ') => {
                let names = COMMAND_NAMES.map(str::to_owned);
                line_edit::complete(&mut self.area, &names);
            }
            _ => {
                line_edit::edit(&mut self.area, key);
            }
        }
        LineOutcome::Editing
    }

    fn set_text(&mut self, text: &str) {
        self.area = TextArea::new(vec![text.to_owned()]);
        self.area.move_cursor(CursorMove::End);
    }

    fn recall(&mut self, older: bool) {
        if self.history.is_empty() {
            return;
        }
        let last = self.history.len() - 1;
        let next = match (self.recalled, older) {
            (None, true) => Some(last),
            (None, false) => None,
            (Some(i), true) => Some(i.saturating_sub(1)),
            (Some(i), false) if i < last => Some(i + 1),
            (Some(_), false) => None,
        };
        self.recalled = next;
        let text = next.map(|i| self.history[i].clone()).unwrap_or_default();
        self.set_text(&text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyModifiers;

    #[test]
    fn parses_the_commands() {
        assert_eq!(parse("q"), Ok(ShellCommand::Quit));
        assert_eq!(parse(" quit "), Ok(ShellCommand::Quit));
        assert_eq!(
            parse("pane renewals"),
            Ok(ShellCommand::Pane(PaneId::Renewals))
        );
        assert_eq!(parse("pane 4"), Ok(ShellCommand::Pane(PaneId::Escalations)));
        assert_eq!(
            parse("pane Esc"),
            Ok(ShellCommand::Pane(PaneId::Escalations))
        );
        assert_eq!(
            parse("import /tmp/my export.csv"),
            Ok(ShellCommand::Import {
                path: "/tmp/my export.csv".into(),
                older_export: false
            })
        );
        assert_eq!(
            parse("import --older-export /tmp/nov.csv"),
            Ok(ShellCommand::Import {
                path: "/tmp/nov.csv".into(),
                older_export: true
            })
        );
        assert_eq!(parse("help"), Ok(ShellCommand::Help));
    }

    #[test]
    fn bad_commands_say_what_would_do() {
        assert!(
            parse("frobnicate")
                .unwrap_err()
                .contains("unknown command `:frobnicate`")
        );
        assert!(parse("pane 9").unwrap_err().contains("no pane 9"));
        assert!(
            parse("pane members")
                .unwrap_err()
                .contains("no pane `members`")
        );
        assert_eq!(parse("pane o"), Ok(ShellCommand::Pane(PaneId::Onboarding)));
        assert!(parse("import").unwrap_err().contains("needs the path"));
        assert!(parse("").is_err());
    }

    #[test]
    fn editing_and_history() {
        let key = |c| KeyEvent::new(c, KeyModifiers::NONE);
        let mut line = CommandLine::default();
        for c in "pane rx".chars() {
            line.handle(key(KeyCode::Char(c)));
        }
        line.handle(key(KeyCode::Backspace));
        line.handle(key(KeyCode::Left));
        line.handle(key(KeyCode::Char('é')));
        assert_eq!(line.text(), "pane ér");
        assert_eq!(
            line.handle(key(KeyCode::Enter)),
            LineOutcome::Submitted("pane ér".into())
        );
        let mut line = CommandLine::with_history(line.into_history());
        line.handle(key(KeyCode::Up));
        assert_eq!(line.text(), "pane ér");
        assert_eq!(line.handle(key(KeyCode::Esc)), LineOutcome::Cancelled);
    }

    #[test]
    fn the_same_editing_keys_as_every_field_and_tab_completes_the_command() {
        let key = |c| KeyEvent::new(c, KeyModifiers::NONE);
        let ctrl = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
        let mut line = CommandLine::default();
        for c in "pane one two".chars() {
            line.handle(key(KeyCode::Char(c)));
        }
        line.handle(ctrl('w'));
        assert_eq!(line.text(), "pane one ");
        line.handle(ctrl('u'));
        assert_eq!(line.text(), "");
        line.handle(key(KeyCode::Char('i')));
        line.handle(key(KeyCode::Tab));
        assert_eq!(line.text(), "import ");
    }
}
