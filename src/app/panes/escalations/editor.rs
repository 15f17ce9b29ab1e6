//! The form for a new escalation: category and priority choosers, then title, description and
//! assignee, each a [`TextPrompt`] (the app's one set of editing keys, `widgets::line_edit`).
//!
//! `Tab`/`Shift-Tab` move between fields (`↑`/`↓` too, outside the description); `←`/`→` or
//! `Space` change a chooser; `Enter` moves on, inserts a new line in the description, and saves
//! on the last field; `Ctrl-S` saves from anywhere; `Esc` cancels, asking first if anything was
//! typed.

use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear};

use super::chooser::marker;
use crate::app::theme::Theme;
use crate::app::widgets::centered;
use crate::app::widgets::confirm::{Answer, ConfirmDialog};
use crate::app::widgets::text_prompt::Choice;
use crate::app::widgets::text_prompt::TextPrompt;
use crate::config::EscalationsConfig;
use crate::domain::escalation::{Category, Priority, check_assignee, check_title, due_date};
use crate::storage::escalations::{MemberSummary, NewEscalation};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Category,
    Priority,
    Title,
    Description,
    Assignee,
}

const FIELDS: [Field; 5] = [
    Field::Category,
    Field::Priority,
    Field::Title,
    Field::Description,
    Field::Assignee,
];

/// Who the escalation is about, as far as the editor knows.
#[derive(Debug, Clone, PartialEq)]
pub enum About {
    Nobody,
    Loading,
    Member(MemberSummary),
    /// The member could not be loaded (the error, which holds no personal data).
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum EditorOutcome {
    Editing,
    Save(NewEscalation),
    Cancelled,
}

pub struct Editor {
    pub contact_id: Option<i64>,
    pub membership_id: Option<i64>,
    pub about: About,
    category: Category,
    priority: Priority,
    title: TextPrompt,
    description: TextPrompt,
    assignee: TextPrompt,
    /// The logins work may be assigned to (empty: no staff list, any name goes).
    staff: Vec<String>,
    focus: Field,
    /// "Discard this escalation?" while it is being asked.
    confirm: Option<ConfirmDialog>,
    /// Why the last save was refused (shown above the key hints).
    error: Option<String>,
    /// A save was sent and its answer has not come back.
    pub saving: bool,
}

impl Editor {
    /// A blank form (`o` in the escalations pane).
    pub fn blank() -> Editor {
        Editor::new(None, None, Category::Complaint, "", Field::Category)
    }

    /// A form about a member (`e` elsewhere): a renewal or payment problem when a membership is
    /// given, else a member concern; the cursor starts in the title.
    pub fn for_member(contact_id: i64, membership_id: Option<i64>) -> Editor {
        let category = if membership_id.is_some() {
            Category::RenewalPayment
        } else {
            Category::MemberConcern
        };
        let mut editor = Editor::new(
            Some(contact_id),
            membership_id,
            category,
            category.default_title(),
            Field::Title,
        );
        editor.about = About::Loading;
        editor
    }

    /// Only these may be named as the assignee; `Tab` in the field completes a login.
    pub fn with_staff(mut self, staff: &[Choice]) -> Editor {
        self.staff = staff.iter().map(|c| c.value.clone()).collect();
        self.assignee = TextPrompt::new(if self.staff.is_empty() {
            "Assignee (empty = nobody)"
        } else {
            "Assignee (a staff login, Tab completes; empty = nobody)"
        })
        .with_completions(self.staff.clone());
        self
    }

    fn new(
        contact_id: Option<i64>,
        membership_id: Option<i64>,
        category: Category,
        title: &str,
        focus: Field,
    ) -> Editor {
        Editor {
            contact_id,
            membership_id,
            about: About::Nobody,
            category,
            priority: Priority::Normal,
            title: TextPrompt::new("Title").with_text(title),
            description: TextPrompt::new("Description").multi_line(),
            assignee: TextPrompt::new("Assignee (empty = nobody)"),
            staff: Vec::new(),
            focus,
            confirm: None,
            error: None,
            saving: false,
        }
    }

    /// Keeps the form open and says why saving failed.
    pub fn refuse(&mut self, why: impl Into<String>) {
        self.saving = false;
        self.error = Some(why.into());
    }

    pub fn handle(&mut self, key: KeyEvent) -> EditorOutcome {
        if let Some(confirm) = &self.confirm {
            return match confirm.handle(key) {
                Answer::Yes => EditorOutcome::Cancelled,
                Answer::No => {
                    self.confirm = None;
                    EditorOutcome::Editing
                }
                Answer::Waiting => EditorOutcome::Editing,
            };
        }
        if self.saving {
            return EditorOutcome::Editing;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('s') if ctrl => return self.save(),
            KeyCode::Esc => return self.cancel(),
            KeyCode::Tab => self.move_focus(1),
            KeyCode::BackTab => self.move_focus(-1),
            _ => return self.edit(key),
        }
        EditorOutcome::Editing
    }

    fn edit(&mut self, key: KeyEvent) -> EditorOutcome {
        match self.focus {
            Field::Category | Field::Priority => self.choose(key),
            Field::Description => match key.code {
                // Enter is a new line in the one multi-line field.
                KeyCode::Enter if key.modifiers.is_empty() => {
                    self.description
                        .handle(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT));
                }
                _ => {
                    self.error = None;
                    self.description.handle(key);
                }
            },
            Field::Title | Field::Assignee => return self.edit_line(key),
        }
        EditorOutcome::Editing
    }

    fn choose(&mut self, key: KeyEvent) {
        let step = match key.code {
            KeyCode::Left | KeyCode::Char('h') => -1,
            KeyCode::Right | KeyCode::Char('l') | KeyCode::Char(' ') => 1,
            KeyCode::Enter | KeyCode::Down => return self.move_focus(1),
            KeyCode::Up => return self.move_focus(-1),
            _ => return,
        };
        if self.focus == Field::Category {
            let next = cycle(&Category::ALL, self.category, step);
            // An untouched default title follows the category.
            if self.title.text() == self.category.default_title() {
                self.title = TextPrompt::new("Title").with_text(next.default_title());
            }
            self.category = next;
        } else {
            self.priority = cycle(&PRIORITY_AS_READ, self.priority, step);
        }
    }

    fn edit_line(&mut self, key: KeyEvent) -> EditorOutcome {
        match key.code {
            KeyCode::Down => self.move_focus(1),
            KeyCode::Up => self.move_focus(-1),
            KeyCode::Enter if self.focus == Field::Assignee => return self.save(),
            KeyCode::Enter => self.move_focus(1),
            _ => {
                self.error = None;
                let field = if self.focus == Field::Title {
                    &mut self.title
                } else {
                    &mut self.assignee
                };
                field.handle(key);
            }
        }
        EditorOutcome::Editing
    }

    fn move_focus(&mut self, step: isize) {
        self.focus = cycle(&FIELDS, self.focus, step);
    }

    fn cancel(&mut self) -> EditorOutcome {
        let typed = !self.description.text().trim().is_empty()
            || !self.assignee.text().trim().is_empty()
            || !(self.title.text().trim().is_empty()
                || self.title.text() == self.category.default_title());
        if typed {
            self.confirm = Some(ConfirmDialog::new(
                "Discard this new escalation? What you typed is not saved.",
            ));
            EditorOutcome::Editing
        } else {
            EditorOutcome::Cancelled
        }
    }

    /// The escalation as filled in, or the form stays open with the reason on the field.
    fn save(&mut self) -> EditorOutcome {
        let title = match check_title(&self.title.text()) {
            Ok(title) => title,
            Err(e) => {
                self.focus = Field::Title;
                self.title.refuse(e.to_string());
                return EditorOutcome::Editing;
            }
        };
        let assignee = match check_assignee(&self.assignee.text()) {
            Ok(Some(who)) if !self.staff.is_empty() && !self.staff.contains(&who) => {
                self.focus = Field::Assignee;
                self.assignee.refuse(format!(
                    "{who:?} is not on the staff list; Tab completes a login"
                ));
                return EditorOutcome::Editing;
            }
            Ok(assignee) => assignee,
            Err(e) => {
                self.focus = Field::Assignee;
                self.assignee.refuse(e.to_string());
                return EditorOutcome::Editing;
            }
        };
        self.error = None;
        self.saving = true;
        EditorOutcome::Save(NewEscalation {
            contact_id: self.contact_id,
            membership_id: self.membership_id,
            category: self.category,
            priority: self.priority,
            title,
            description: self.description.text(),
            assignee,
        })
    }

    pub fn draw(
        &mut self,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
        today: NaiveDate,
        targets: &EscalationsConfig,
    ) {
        let rect = centered(area, 80, 22);
        frame.render_widget(Clear, rect);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border)
            .title(Span::styled(" New escalation ", theme.title));
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        let [
            about,
            category,
            priority,
            title,
            description,
            assignee,
            error,
            hints,
        ] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(3),
            Constraint::Min(3),
            Constraint::Length(3),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(inner);
        frame.render_widget(self.about_line(theme), about);
        let due = due_date(self.category, self.priority, today, targets);
        let due_text = if self.category == Category::DataProtection {
            format!("due {} (one calendar month)", due.format("%a %d %b %Y"))
        } else {
            format!(
                "due {} ({})",
                due.format("%a %d %b %Y"),
                crate::text::plural(self.priority.working_days(targets), "working day")
            )
        };
        let chooser = |field, label, value: &str, note: String| {
            self.chooser_line(theme, field, label, value, note)
        };
        frame.render_widget(
            chooser(
                Field::Category,
                "Category",
                self.category.label(),
                String::new(),
            ),
            category,
        );
        frame.render_widget(
            chooser(Field::Priority, "Priority", self.priority.label(), due_text),
            priority,
        );
        let focus = self.focus;
        self.title
            .draw_field(frame, title, theme, focus == Field::Title);
        self.description
            .draw_field(frame, description, theme, focus == Field::Description);
        self.assignee
            .draw_field(frame, assignee, theme, focus == Field::Assignee);
        if let Some(err) = &self.error {
            frame.render_widget(Line::styled(format!("✗ {err}"), theme.danger), error);
        } else if self.saving {
            frame.render_widget(Line::styled("Saving…", theme.dim), error);
        }
        frame.render_widget(hint_line(theme, focus), hints);
        if let Some(confirm) = &self.confirm {
            confirm.draw(frame, area, theme);
        }
    }

    fn about_line(&self, theme: &Theme) -> Line<'static> {
        let text = match &self.about {
            About::Nobody => "not about one member".to_owned(),
            About::Loading => "loading…".to_owned(),
            About::Member(m) => {
                let mut text = format!("{} · CRM {} ({})", m.name, m.crm_id, m.source);
                if let Some(membership) = &m.membership {
                    text.push_str(" · ");
                    text.push_str(membership);
                }
                text
            }
            About::Failed(err) => format!("member not found: {err}"),
        };
        Line::from(vec![
            Span::styled("  About      ", theme.dim),
            Span::styled(text, theme.base),
        ])
    }

    fn chooser_line(
        &self,
        theme: &Theme,
        field: Field,
        label: &str,
        value: &str,
        note: String,
    ) -> Line<'static> {
        let focused = self.focus == field;
        let value_style = if focused { theme.selected } else { theme.base };
        Line::from(vec![
            Span::styled(format!("{} {label:<10} ", marker(focused)), theme.dim),
            Span::styled(format!("◀ {value} ▶"), value_style),
            Span::styled(format!("  {note}"), theme.dim),
        ])
    }
}

fn hint_line(theme: &Theme, focus: Field) -> Line<'static> {
    let mut pairs = vec![("Tab", "next field")];
    match focus {
        Field::Category | Field::Priority => pairs.push(("←/→", "choose")),
        Field::Description => pairs.push(("Enter", "new line")),
        Field::Title => pairs.push(("Enter", "next")),
        Field::Assignee => pairs.push(("Enter", "save")),
    }
    pairs.extend([("Ctrl-S", "save"), ("Esc", "cancel")]);
    let mut spans = Vec::new();
    for (key, what) in pairs {
        spans.push(Span::styled(key, theme.hint_key));
        spans.push(Span::styled(format!(" {what}  "), theme.hint_text));
    }
    Line::from(spans).style(Style::default())
}

/// The priorities as the `◀ ▶` chooser reads: `→` raises, `←` lowers.
const PRIORITY_AS_READ: [Priority; 4] = [
    Priority::Low,
    Priority::Normal,
    Priority::High,
    Priority::Urgent,
];

fn cycle<T: Copy + PartialEq>(all: &[T], current: T, step: isize) -> T {
    let i = all.iter().position(|v| *v == current).unwrap_or(0) as isize;
    let n = all.len() as isize;
    all[((i + step).rem_euclid(n)) as usize]
}
