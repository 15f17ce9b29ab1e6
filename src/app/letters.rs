//! The letters dialog: from a list of members (the renewals queue, the onboarding queue), the
//! letters or emails for the marked rows or the whole list, with the first letter in each
//! language shown before anything is written. `t` changes the kind, `c` the channel, `Tab` the
//! preview, `Enter` writes, `Esc` cancels; a repeat on the same day asks first.
//!
//! Everything that reads the database or a file (templates, members, the PDF) runs on the DB
//! worker, through [`crate::export::letters::batch`], as `rollcall letters` does.

use std::path::PathBuf;

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::db::DbWorker;
use super::pane::PaneId;
use super::theme::Theme;
use super::widgets::centered;
use crate::config::Config;
use crate::domain::letters::{Language, LetterKind, Medium};
use crate::export::letters::batch::{
    self, Batch, Chosen, Destination, Preview, Source, Writing, left_out_text, medium_plural,
};
use crate::storage::Store;
use crate::storage::letters::Wanted;

pub const JOB_PREPARE: &str = "app:letters_prepare";
pub const JOB_WRITE: &str = "app:letters_write";

/// One row of the list the letters are asked for from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listed {
    pub wanted: Wanted,
    /// The letter this row is for, when the list knows (a renewals row's bucket); None: any.
    pub fits: Option<LetterKind>,
}

/// What a pane asks for: its marked rows (or every row shown), and the letter to start on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterRequest {
    pub members: Vec<Listed>,
    pub kind: LetterKind,
}

impl LetterRequest {
    /// The members `kind` is for, one per contact, and how many rows are for another letter.
    fn chosen(&self, kind: LetterKind) -> Chosen {
        let others = self
            .members
            .iter()
            .filter(|m| m.fits.is_some_and(|k| k != kind))
            .count();
        let wanted = batch::one_per_member(
            self.members
                .iter()
                .filter(|m| m.fits.is_none_or(|k| k == kind))
                .map(|m| m.wanted),
        );
        let mut not_listed = Vec::new();
        if others > 0 {
            not_listed.push(format!("{others} rows for another letter"));
        }
        Chosen { wanted, not_listed }
    }
}

/// What the preview job hands back.
pub struct Prepared {
    kind: LetterKind,
    medium: Medium,
    batch: Batch,
    previews: Vec<Preview>,
}

/// What the write job hands back.
pub enum WriteOutcome {
    /// Members already had this letter today (since the preview, perhaps): ask first.
    Repeats(usize),
    Written {
        path: PathBuf,
        line: String,
    },
}

enum State {
    Loading,
    Failed(String),
    Ready(Box<Prepared>),
    /// Asking about members who already had this letter today.
    Repeat(Box<Prepared>),
    /// The preview it was asked from, to ask about repeats found since.
    Writing(Option<Box<Prepared>>),
    Done(String),
}

pub struct LettersDialog {
    request: LetterRequest,
    kind: LetterKind,
    medium: Medium,
    state: State,
    preview: usize,
}

/// What the dialog asks of the app after a key.
pub enum DialogOutcome {
    Open,
    Closed,
}

fn kind_label(kind: LetterKind) -> &'static str {
    kind.as_str()
}

fn medium_label(medium: Medium) -> &'static str {
    match medium {
        Medium::Letter => "letter (PDF)",
        Medium::Email => "email (mail-merge CSV)",
    }
}

fn language_label(languages: &[Language]) -> String {
    let names: Vec<&str> = languages
        .iter()
        .map(|l| match l {
            Language::English => "English",
            Language::Welsh => "Welsh",
        })
        .collect();
    names.join(" + ")
}

/// Where the app writes letters: `[letters] output_dir`, filled in at start with the data
/// directory's `letters/` when the config does not say.
fn folder(config: &Config) -> Option<PathBuf> {
    config.letters.output_dir.clone()
}

impl LettersDialog {
    pub fn open(request: LetterRequest, db: &DbWorker, config: &Config) -> LettersDialog {
        let mut dialog = LettersDialog {
            kind: request.kind,
            request,
            medium: Medium::Letter,
            state: State::Loading,
            preview: 0,
        };
        dialog.prepare(db, config);
        dialog
    }

    fn prepare(&mut self, db: &DbWorker, config: &Config) {
        self.state = State::Loading;
        self.preview = 0;
        let (kind, medium) = (self.kind, self.medium);
        let chosen = self.request.chosen(kind);
        let config = config.clone();
        db.request(PaneId::Today, JOB_PREPARE, move |store, clock| {
            let templates = batch::templates(kind)?;
            let chosen =
                batch::choose(store, clock, &config, &Source::Listed(chosen.wanted)).map(|c| {
                    Chosen {
                        not_listed: chosen.not_listed,
                        ..c
                    }
                })?;
            let batch = batch::prepare(store, clock, kind, medium, chosen)?;
            let previews = batch.previews(&templates, &config.letters);
            Ok(Prepared {
                kind,
                medium,
                batch,
                previews,
            })
        });
    }

    fn write(&mut self, db: &DbWorker, config: &Config, repeats_allowed: bool) {
        let Some(dir) = folder(config) else {
            self.state = State::Failed(
                "no folder for letters: set [letters] output_dir in config.toml".to_owned(),
            );
            return;
        };
        self.state = match std::mem::replace(&mut self.state, State::Loading) {
            State::Ready(p) | State::Repeat(p) => State::Writing(Some(p)),
            _ => State::Writing(None),
        };
        let (kind, medium) = (self.kind, self.medium);
        let chosen = self.request.chosen(kind);
        let config = config.clone();
        db.request(PaneId::Today, JOB_WRITE, move |store: &mut Store, clock| {
            let templates = batch::templates(kind)?;
            let not_listed = chosen.not_listed;
            let chosen = batch::choose(store, clock, &config, &Source::Listed(chosen.wanted))?;
            let batch = batch::prepare(
                store,
                clock,
                kind,
                medium,
                Chosen {
                    not_listed,
                    ..chosen
                },
            )?;
            if batch.repeats > 0 && !repeats_allowed {
                return Ok(WriteOutcome::Repeats(batch.repeats));
            }
            let location = store.location().clone();
            let written = batch::write(
                store,
                clock,
                &location,
                &batch,
                &Writing {
                    templates: &templates,
                    config: &config.letters,
                    dest: &Destination::NewIn(dir),
                    repeats_allowed,
                },
            )?;
            Ok(WriteOutcome::Written {
                line: written.summary.line(),
                path: written.path,
            })
        });
    }

    /// The preview job's answer (an older one, for another kind or channel, is dropped).
    pub fn on_prepared(&mut self, result: Result<Prepared, String>) {
        if !matches!(self.state, State::Loading) {
            return;
        }
        self.state = match result {
            Ok(p) if p.kind == self.kind && p.medium == self.medium => State::Ready(Box::new(p)),
            Ok(_) => return,
            Err(e) => State::Failed(e),
        };
    }

    /// The write job's answer; returns the status line's text when something was written.
    pub fn on_written(&mut self, result: Result<WriteOutcome, String>) -> Option<(String, bool)> {
        match result {
            Ok(WriteOutcome::Repeats(n)) => {
                let prepared = match std::mem::replace(&mut self.state, State::Loading) {
                    State::Writing(Some(p)) => p,
                    _ => {
                        self.state = State::Failed(format!(
                            "{n} of these members already had this letter today"
                        ));
                        return None;
                    }
                };
                let mut prepared = prepared;
                prepared.batch.repeats = n;
                self.state = State::Repeat(prepared);
                None
            }
            Ok(WriteOutcome::Written { path, line }) => {
                let text = format!(
                    "Wrote {} to {}: {line}",
                    medium_plural(self.medium),
                    path.display()
                );
                self.state = State::Done(text.clone());
                Some((text, false))
            }
            Err(e) => {
                self.state = State::Failed(e.clone());
                Some((format!("Letters not written: {e}"), true))
            }
        }
    }

    pub fn handle(&mut self, key: KeyEvent, db: &DbWorker, config: &Config) -> DialogOutcome {
        let code = key.code;
        match &self.state {
            State::Writing(_) => return DialogOutcome::Open,
            State::Done(_) | State::Failed(_) if matches!(code, KeyCode::Esc | KeyCode::Enter) => {
                return DialogOutcome::Closed;
            }
            State::Repeat(_) => {
                match code {
                    KeyCode::Char('y') | KeyCode::Enter => self.write(db, config, true),
                    KeyCode::Char('n') | KeyCode::Esc => {
                        if let State::Repeat(p) = std::mem::replace(&mut self.state, State::Loading)
                        {
                            self.state = State::Ready(p);
                        }
                    }
                    _ => {}
                }
                return DialogOutcome::Open;
            }
            _ => {}
        }
        match code {
            KeyCode::Esc => return DialogOutcome::Closed,
            KeyCode::Char('t') => {
                let i = LetterKind::ALL
                    .iter()
                    .position(|k| *k == self.kind)
                    .unwrap_or(0);
                self.kind = LetterKind::ALL[(i + 1) % LetterKind::ALL.len()];
                self.prepare(db, config);
            }
            KeyCode::Char('c') => {
                self.medium = match self.medium {
                    Medium::Letter => Medium::Email,
                    Medium::Email => Medium::Letter,
                };
                self.prepare(db, config);
            }
            KeyCode::Tab | KeyCode::Right | KeyCode::Char('l') => {
                if let State::Ready(p) = &self.state {
                    self.preview = (self.preview + 1) % p.previews.len().max(1);
                }
            }
            KeyCode::Enter => {
                let ready = match &self.state {
                    State::Ready(p) if p.batch.is_empty() => None,
                    State::Ready(p) => Some(p.batch.repeats),
                    _ => None,
                };
                match ready {
                    Some(0) => self.write(db, config, false),
                    Some(_) => {
                        if let State::Ready(p) = std::mem::replace(&mut self.state, State::Loading)
                        {
                            self.state = State::Repeat(p);
                        }
                    }
                    None => {}
                }
            }
            _ => {}
        }
        DialogOutcome::Open
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let width = area.width.saturating_sub(4).min(90);
        let height = area.height.saturating_sub(2);
        let rect = centered(area, width, height);
        frame.render_widget(Clear, rect);
        let title = format!(
            " {} {} ",
            capitalised(kind_label(self.kind)),
            medium_plural(self.medium)
        );
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border)
            .title(title)
            .style(theme.base);
        let mut lines: Vec<Line> = vec![Line::from(format!(
            "Kind (t): {}   Channel (c): {}",
            kind_label(self.kind),
            medium_label(self.medium)
        ))];
        let footer = match &self.state {
            State::Loading => {
                lines.push(Line::from("Preparing the preview…"));
                "Esc cancels"
            }
            State::Writing(_) => {
                lines.push(Line::from(format!(
                    "Writing the {}…",
                    medium_plural(self.medium)
                )));
                ""
            }
            State::Failed(e) => {
                lines.push(Line::styled(e.clone(), theme.danger));
                "t, c: another kind or channel · Esc closes"
            }
            State::Done(text) => {
                lines.push(Line::from(text.clone()));
                "Enter or Esc closes"
            }
            State::Ready(p) | State::Repeat(p) => {
                lines.push(Line::from(self.counts(p)));
                if let State::Repeat(p) = &self.state {
                    lines.push(Line::styled(
                        format!(
                            "{} of these members already had a {} {} today. Write and record \
                             them again? y / n",
                            p.batch.repeats,
                            p.kind.as_str(),
                            p.medium.channel().as_str()
                        ),
                        theme.warning,
                    ));
                }
                lines.push(Line::from(""));
                if let Some(preview) = p.previews.get(self.preview) {
                    lines.push(Line::styled(
                        format!(
                            "Preview {} of {}: the first in {} · to {}",
                            self.preview + 1,
                            p.previews.len(),
                            language_label(&preview.languages),
                            preview.to.join(", ")
                        ),
                        theme.title,
                    ));
                    lines.push(Line::styled(preview.letter.subject.clone(), theme.title));
                    lines.push(Line::from(""));
                    lines.extend(
                        preview
                            .letter
                            .body
                            .lines()
                            .map(|l| Line::from(l.to_owned())),
                    );
                }
                if p.batch.is_empty() {
                    "nobody to write to · t, c: another kind or channel · Esc cancels"
                } else {
                    "Enter writes · Tab: next preview · t kind · c channel · Esc cancels"
                }
            }
        };
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        let [body, foot] = ratatui::layout::Layout::vertical([
            ratatui::layout::Constraint::Min(1),
            ratatui::layout::Constraint::Length(1),
        ])
        .areas(inner);
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
        frame.render_widget(Paragraph::new(footer).style(theme.hint_text), foot);
    }

    /// "12 letters (3 to Welsh-preferring members); left out: 1 Do Not Mail".
    fn counts(&self, p: &Prepared) -> String {
        let mut line = format!(
            "{} {} ({} to Welsh-preferring members)",
            p.batch.len(),
            medium_plural(p.medium),
            p.batch.kept.iter().filter(|r| r.recipient.welsh).count()
        );
        if let Some(left_out) = left_out_text(&p.batch.left_out) {
            line.push_str(&format!("; left out: {left_out}"));
        }
        if !p.batch.not_listed.is_empty() {
            line.push_str(&format!("; not listed: {}", p.batch.not_listed.join(", ")));
        }
        line
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
