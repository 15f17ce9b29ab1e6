//! The escalations pane: member concerns, complaints and problems, each with an owner and a
//! deadline. Views (mine, unassigned, overdue, all open, resolved) sorted by due date; `Enter`
//! opens a case with its timeline; `o` opens a new one, and `e` anywhere else arrives here as
//! [`Pane::start_escalation`].
//!
//! Every query and write goes through the DB worker. One write is in flight at a time, so a
//! burst of keys can never make the worker drop one of them as superseded; the prompt or form
//! that sent it stays open until it is saved, so a refused change loses no typing.

mod chooser;
mod detail;
mod editor;

use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Cell, HighlightSpacing, Paragraph, Row as TableRow, Table, TableState, Wrap,
};
use serde_json::json;

use self::chooser::{Choice, Chooser};
use self::editor::{About, Editor, EditorOutcome};
use crate::Clock;
use crate::app::db::DbReply;
use crate::app::pane::{Command, Effect, Pane, PaneId, PaneInput, Shared};
use crate::app::theme::Theme;
use crate::app::widgets::list_cursor::CursorAnchor;
use crate::app::widgets::text_prompt::{PromptOutcome, TextPrompt};
use crate::config::EscalationsConfig;
use crate::domain::escalation::{
    Category, DueState, Priority, RuleError, Status, View, age_days, check_assignee, check_comment,
    check_resolve, due_date, due_state,
};
use crate::storage::Store;
use crate::storage::escalations::{self, Counts, Detail, NewEscalation, Row};
use crate::text::ellipsize;

pub fn pane() -> Box<dyn Pane> {
    Box::new(EscalationsPane::default())
}

/// Narrower than this, the list uses its compact columns.
const COMPACT_BELOW: u16 = 100;

const COMMANDS: &[Command] = &[
    Command {
        action: "open",
        description: "open the selected escalation: all fields, description, timeline",
        hint: true,
        changes: false,
    },
    Command {
        action: "new_escalation",
        description: "open a new escalation (not about one member)",
        hint: true,
        changes: true,
    },
    Command {
        action: "assign",
        description: "assign to a staff member (empty: nobody)",
        hint: true,
        changes: true,
    },
    Command {
        action: "change_status",
        description: "change the status (or reopen a resolved escalation)",
        hint: true,
        changes: true,
    },
    Command {
        action: "comment",
        description: "add a comment to the timeline",
        hint: true,
        changes: true,
    },
    Command {
        action: "change_priority",
        description: "change the priority (the due date follows)",
        hint: false,
        changes: true,
    },
    Command {
        action: "resolve",
        description: "resolve, with a resolution note",
        hint: true,
        changes: true,
    },
    Command {
        action: "next_view",
        description: "next view: mine, unassigned, overdue, all open, resolved",
        hint: true,
        changes: false,
    },
    Command {
        action: "previous_view",
        description: "previous view",
        hint: false,
        changes: false,
    },
    Command {
        action: "open_member",
        description: "show the member the escalation is about",
        hint: false,
        changes: false,
    },
    Command {
        action: "back",
        description: "back from an opened escalation to the list",
        hint: false,
        changes: false,
    },
];

/// The list of one view, with the size of every view for the tabs.
struct Loaded {
    view: View,
    rows: Vec<Row>,
    counts: Counts,
}

/// A change that was saved: which escalation, and what to tell the user.
struct Written {
    id: i64,
    message: String,
    opened: bool,
}

/// The changes this pane makes, each one call into storage::escalations.
enum Write {
    /// The escalation, and whether its opener may not see it once raised (an officer's
    /// safeguarding concern: coordinators' only).
    Open(NewEscalation, bool),
    Status(i64, Status),
    Assign(i64, Option<String>),
    Priority(i64, Priority),
    Comment(i64, String),
    Resolve(i64, String),
    Reopen(i64, String),
}

impl Write {
    fn run(
        self,
        store: &mut Store,
        clock: &Clock,
        targets: &EscalationsConfig,
    ) -> anyhow::Result<Written> {
        let done = |id, message: String| Written {
            id,
            message,
            opened: false,
        };
        Ok(match self {
            Write::Open(new, hidden_after) => {
                let id = escalations::open(store, clock, targets, &new)?;
                let due = due_date(new.category, new.priority, clock.today, targets);
                let message = if hidden_after {
                    format!(
                        "Escalation #{id} raised. {} is for coordinators to handle, so it will \
                         not show in your list",
                        new.category.label()
                    )
                } else {
                    format!("Escalation #{id} opened, due {}", day(due))
                };
                Written {
                    id,
                    message,
                    opened: true,
                }
            }
            Write::Status(id, to) => {
                escalations::set_status(store, clock, id, to)?;
                done(id, format!("#{id} is now {}", to.label()))
            }
            Write::Assign(id, who) => {
                escalations::set_assignee(store, clock, id, who.as_deref())?;
                match who {
                    Some(name) => done(id, format!("#{id} assigned to {name}")),
                    None => done(id, format!("#{id} is unassigned")),
                }
            }
            Write::Priority(id, priority) => {
                let due = escalations::set_priority(store, clock, targets, id, priority)?;
                done(
                    id,
                    format!("#{id} is now {}, due {}", priority.label(), day(due)),
                )
            }
            Write::Comment(id, body) => {
                escalations::comment(store, clock, id, &body)?;
                done(id, format!("Comment added to #{id}"))
            }
            Write::Resolve(id, note) => {
                escalations::resolve(store, clock, id, &note)?;
                done(id, format!("#{id} resolved"))
            }
            Write::Reopen(id, reason) => {
                escalations::reopen(store, clock, id, &reason)?;
                done(id, format!("#{id} reopened"))
            }
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PromptAction {
    Assign,
    Comment,
    Resolve,
    Reopen,
}

/// What a chooser offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pick {
    Status(Status),
    /// "Resolved…": asks for the note next.
    Resolve,
    /// "Reopen…": asks why next.
    Reopen,
    Priority(Priority),
}

/// What sits on top of the list or the opened case, taking every key.
enum Overlay {
    Editor(Box<Editor>),
    Prompt {
        action: PromptAction,
        id: i64,
        prompt: Box<TextPrompt>,
    },
    Chooser {
        id: i64,
        chooser: Chooser<Pick>,
    },
}

/// The escalation being looked at.
struct Opened {
    id: i64,
    data: Option<Detail>,
    scroll: u16,
}

/// The outcome of the last thing done, shown on the pane's bottom line.
enum Flash {
    Done(String),
    Refused(String),
}

pub struct EscalationsPane {
    view: View,
    rows: Vec<Row>,
    counts: Counts,
    loaded: bool,
    load_error: Option<String>,
    table: TableState,
    /// Select this escalation when the list next arrives (after a write, or restored state).
    select_id: Option<i64>,
    opened: Option<Opened>,
    overlay: Option<Overlay>,
    /// A write was sent and has not been answered.
    saving: bool,
    flash: Option<Flash>,
    /// Rows that fit on a screen, from the last draw (page up/down).
    page: usize,
}

impl Default for EscalationsPane {
    fn default() -> EscalationsPane {
        EscalationsPane {
            view: View::Mine,
            rows: Vec::new(),
            counts: Counts::default(),
            loaded: false,
            load_error: None,
            table: TableState::default().with_selected(0),
            select_id: None,
            opened: None,
            overlay: None,
            saving: false,
            flash: None,
            page: 10,
        }
    }
}

impl EscalationsPane {
    fn selected(&self) -> usize {
        self.table.selected().unwrap_or(0)
    }

    /// The escalation the keys act on: the opened one, else the selected row.
    fn target(&self) -> Option<&Row> {
        match &self.opened {
            Some(opened) => opened.data.as_ref().map(|d| &d.row),
            None => self.rows.get(self.selected()),
        }
    }

    fn load_list(&self, shared: &Shared) {
        let view = self.view;
        shared
            .db
            .request(PaneId::Escalations, "list", move |store, clock| {
                let conn = &store.conn;
                Ok(Loaded {
                    view,
                    rows: escalations::list(conn, view, &clock.user, clock.today)?,
                    counts: escalations::counts(conn, &clock.user, clock.today)?,
                })
            });
    }

    fn load_detail(&self, shared: &Shared, id: i64) {
        shared
            .db
            .request(PaneId::Escalations, "detail", move |store, _| {
                Ok((id, escalations::detail(&store.conn, id)?))
            });
    }

    fn send(&mut self, write: Write, shared: &Shared) {
        self.saving = true;
        let targets = shared.config.escalations.clone();
        shared
            .db
            .request(PaneId::Escalations, "write", move |store, clock| {
                write.run(store, clock, &targets)
            });
    }

    /// False (with the reason shown) when a change cannot be made now.
    fn may_change(&mut self, shared: &Shared, what: &str) -> bool {
        if let Some(why) = shared.access.read_only_because() {
            self.flash = Some(Flash::Refused(format!(
                "read-only ({why}): {what} is refused"
            )));
            return false;
        }
        if self.saving {
            self.flash = Some(Flash::Refused("still saving the last change".into()));
            return false;
        }
        true
    }

    fn act(&mut self, action: &str, shared: &Shared) -> Effect {
        self.flash = None;
        match action {
            "up" => self.move_by(-1),
            "down" => self.move_by(1),
            "page_up" => self.move_by(-(self.page as isize)),
            "page_down" => self.move_by(self.page as isize),
            "half_page_up" => self.move_by(-(self.page as isize / 2).max(1)),
            "half_page_down" => self.move_by((self.page as isize / 2).max(1)),
            "top" => self.move_by(isize::MIN / 2),
            "bottom" => self.move_by(isize::MAX / 2),
            "next_view" => self.switch_view(self.view.next(), shared),
            "previous_view" => self.switch_view(self.view.previous(), shared),
            "open" => self.open_selected(shared),
            "back" => self.opened = None,
            "open_member" => {
                if let Some(contact) = self.target().and_then(|r| r.contact_id) {
                    return Effect::OpenMember(contact);
                }
                self.flash = Some(Flash::Refused(
                    "this escalation is not about one member".into(),
                ));
            }
            "new_escalation" if self.may_change(shared, "opening an escalation") => {
                self.overlay = Some(Overlay::Editor(Box::new(
                    Editor::blank().with_staff(&shared.assignees()),
                )));
            }
            "assign" | "change_status" | "comment" | "change_priority" | "resolve" => {
                self.start_change(action, shared)
            }
            _ => {}
        }
        Effect::None
    }

    fn move_by(&mut self, step: isize) {
        if let Some(opened) = &mut self.opened {
            let scroll = opened.scroll as isize + step;
            opened.scroll = scroll.clamp(0, u16::MAX as isize) as u16;
            return;
        }
        let last = self.rows.len().saturating_sub(1) as isize;
        let at = (self.selected() as isize)
            .saturating_add(step)
            .clamp(0, last.max(0));
        self.table.select(Some(at as usize));
    }

    fn switch_view(&mut self, view: View, shared: &Shared) {
        self.view = view;
        self.opened = None;
        self.rows.clear();
        self.loaded = false;
        self.table.select(Some(0));
        self.load_list(shared);
    }

    fn open_selected(&mut self, shared: &Shared) {
        if self.opened.is_some() {
            return;
        }
        if let Some(id) = self.rows.get(self.selected()).map(|r| r.id) {
            self.open_case(id, shared);
        }
    }

    fn open_case(&mut self, id: i64, shared: &Shared) {
        self.opened = Some(Opened {
            id,
            data: None,
            scroll: 0,
        });
        self.load_detail(shared, id);
    }

    /// `a`, `s`, `c`, `p`, `r` on the target escalation: opens the prompt or chooser for it.
    fn start_change(&mut self, action: &str, shared: &Shared) {
        let Some(row) = self.target().cloned() else {
            self.flash = Some(Flash::Refused("no escalation selected".into()));
            return;
        };
        if !self.may_change(shared, "changing an escalation") {
            return;
        }
        match change_overlay(action, &row, shared) {
            Ok(overlay) => self.overlay = Some(overlay),
            Err(why) => self.flash = Some(Flash::Refused(why)),
        }
    }

    fn handle_key(&mut self, key: KeyEvent, shared: &Shared) -> Effect {
        match self.overlay.take() {
            Some(Overlay::Editor(mut editor)) => match editor.handle(key) {
                EditorOutcome::Editing => self.overlay = Some(Overlay::Editor(editor)),
                EditorOutcome::Cancelled => {}
                EditorOutcome::Save(new) => {
                    self.overlay = Some(Overlay::Editor(editor));
                    let hidden_after = new.category.is_restricted()
                        && shared
                            .access
                            .role()
                            .is_some_and(|r| !r.sees_restricted_escalations());
                    self.send(Write::Open(new, hidden_after), shared);
                }
            },
            Some(Overlay::Prompt {
                action,
                id,
                mut prompt,
            }) => {
                if !self.saving {
                    match prompt.handle(key) {
                        PromptOutcome::Editing => {}
                        PromptOutcome::Cancelled => return Effect::None,
                        PromptOutcome::Submitted(text) => {
                            match self.prompt_write(action, id, &text) {
                                Ok(write) => self.send(write, shared),
                                Err(why) => prompt.refuse(why),
                            }
                        }
                    }
                }
                self.overlay = Some(Overlay::Prompt { action, id, prompt });
            }
            Some(Overlay::Chooser { id, mut chooser }) => match chooser.handle(key) {
                Choice::Choosing => self.overlay = Some(Overlay::Chooser { id, chooser }),
                Choice::Cancelled => {}
                Choice::Chosen(pick) => self.picked(id, pick, shared),
            },
            None => {}
        }
        Effect::None
    }

    /// The write a submitted prompt asks for, or why it cannot be made (the prompt stays open).
    fn prompt_write(&self, action: PromptAction, id: i64, text: &str) -> Result<Write, String> {
        let row = self.target().filter(|r| r.id == id);
        Ok(match action {
            PromptAction::Assign => {
                let who = check_assignee(text).map_err(|e| e.to_string())?;
                if row.is_some_and(|r| r.assignee == who) {
                    return Err(RuleError::SameAssignee.to_string());
                }
                Write::Assign(id, who)
            }
            PromptAction::Comment => {
                Write::Comment(id, check_comment(text).map_err(|e| e.to_string())?)
            }
            PromptAction::Resolve => {
                let status = row.map_or(Status::Open, |r| r.status);
                Write::Resolve(id, check_resolve(status, text).map_err(|e| e.to_string())?)
            }
            PromptAction::Reopen => Write::Reopen(id, text.trim().to_owned()),
        })
    }

    fn picked(&mut self, id: i64, pick: Pick, shared: &Shared) {
        match pick {
            Pick::Status(to) => self.send(Write::Status(id, to), shared),
            Pick::Priority(p) => self.send(Write::Priority(id, p), shared),
            Pick::Resolve => {
                self.overlay = Some(prompt(PromptAction::Resolve, id, resolve_prompt(id)));
            }
            Pick::Reopen => {
                let title = format!("Reopen #{id}: why? (optional) · Enter reopens");
                self.overlay = Some(prompt(PromptAction::Reopen, id, TextPrompt::new(title)));
            }
        }
    }

    fn on_list(&mut self, loaded: Loaded) {
        if loaded.view != self.view {
            return; // an answer for a view the user has already left
        }
        let ids: Vec<i64> = self.rows.iter().map(|r| r.id).collect();
        let mut anchor = CursorAnchor::at(&ids, self.selected());
        if let Some(id) = self.select_id.take() {
            anchor = anchor.preferring(id);
        }
        self.rows = loaded.rows;
        self.counts = loaded.counts;
        self.loaded = true;
        self.load_error = None;
        let ids: Vec<i64> = self.rows.iter().map(|r| r.id).collect();
        self.table.select(Some(anchor.resolve(&ids)));
    }

    fn on_written(&mut self, result: Result<Written, String>, shared: &Shared) -> Effect {
        self.saving = false;
        match result {
            Ok(written) => {
                if matches!(
                    self.overlay,
                    Some(Overlay::Editor(_) | Overlay::Prompt { .. })
                ) {
                    self.overlay = None;
                }
                self.flash = Some(Flash::Done(written.message));
                self.select_id = Some(written.id);
                if written.opened {
                    self.open_case(written.id, shared);
                }
                self.refresh(shared);
                Effect::DataChanged
            }
            Err(why) => {
                match &mut self.overlay {
                    Some(Overlay::Editor(editor)) => editor.refuse(why),
                    Some(Overlay::Prompt { prompt, .. }) => prompt.refuse(why),
                    _ => self.flash = Some(Flash::Refused(why)),
                }
                Effect::None
            }
        }
    }

    fn draw_tabs(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        if let Some(opened) = &self.opened {
            let line = Line::from(vec![
                Span::styled("Esc", theme.hint_key),
                Span::styled(
                    format!(" back to {}   ", self.view.label()),
                    theme.hint_text,
                ),
                Span::styled(format!("Escalation #{}", opened.id), theme.title),
            ]);
            frame.render_widget(line, area);
            return;
        }
        let mut spans = Vec::new();
        for view in View::PANE {
            let count = self.counts.of(view);
            let warn = view == View::Overdue && count > 0;
            let text = if warn {
                format!("⚠ {} {count}", view.label())
            } else {
                format!("{} {count}", view.label())
            };
            let (text, style) = if view == self.view {
                (format!("[{text}]"), theme.active_tab)
            } else if warn {
                (format!(" {text} "), theme.danger)
            } else {
                (format!(" {text} "), theme.inactive_tab)
            };
            spans.push(Span::styled(text, style));
            spans.push(Span::raw(" "));
        }
        frame.render_widget(Line::from(spans), area);
    }

    fn draw_list(&mut self, frame: &mut Frame, area: Rect, shared: &Shared) {
        let theme = shared.theme;
        self.page = area.height.saturating_sub(1).max(1) as usize;
        if !self.loaded || self.rows.is_empty() {
            let text = match (&self.load_error, self.loaded) {
                (Some(err), _) => format!("Could not load escalations: {err}"),
                (None, false) => "Loading…".to_owned(),
                (None, true) => empty_text(self.view).to_owned(),
            };
            let para = Paragraph::new(text)
                .style(theme.dim)
                .wrap(Wrap { trim: true });
            frame.render_widget(para, area);
            return;
        }
        let compact = area.width < COMPACT_BELOW;
        let fixed = fixed_columns(compact, self.view);
        // What is left for the title: the width less the marker, the fixed columns and the
        // one-column gaps between all of them.
        let used: u16 = fixed.iter().map(|(_, w)| w + 1).sum::<u16>() + 2;
        let title_width = area.width.saturating_sub(used).max(1);
        let fit = Fit {
            title: title_width as usize,
            member: fixed[0].1 as usize,
            assignee: fixed[4].1 as usize,
        };
        let today = shared.clock.today;
        let rows = self
            .rows
            .iter()
            .map(|r| list_row(r, today, theme, compact, &fit));
        let header = std::iter::once("Title").chain(fixed.iter().map(|(h, _)| *h));
        let widths = std::iter::once(Constraint::Fill(1))
            .chain(fixed.iter().map(|(_, w)| Constraint::Length(*w)));
        let table = Table::new(rows, widths)
            .header(TableRow::new(header.collect::<Vec<_>>()).style(theme.header))
            .row_highlight_style(theme.selected)
            .highlight_symbol("▶ ")
            .highlight_spacing(HighlightSpacing::Always)
            .column_spacing(1);
        frame.render_stateful_widget(table, area, &mut self.table);
    }

    fn draw_detail(&mut self, frame: &mut Frame, area: Rect, shared: &Shared) {
        let Some(opened) = &mut self.opened else {
            return;
        };
        let theme = shared.theme;
        let Some(data) = &opened.data else {
            let para = Paragraph::new(format!("Loading #{}…", opened.id)).style(theme.dim);
            frame.render_widget(para, area);
            return;
        };
        let lines = detail::lines(data, shared.clock.today, theme);
        // Wrapped lines make the text taller than `lines`; letting the last line scroll to the
        // top keeps the end reachable however much wraps.
        let most = (lines.len() as u16).saturating_sub(1);
        opened.scroll = opened.scroll.min(most);
        let para = Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((opened.scroll, 0));
        frame.render_widget(para, area);
    }

    fn draw_flash(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let line = match &self.flash {
            Some(Flash::Done(text)) => Line::styled(format!("✓ {text}"), theme.ok),
            Some(Flash::Refused(text)) => Line::styled(format!("✗ {text}"), theme.danger),
            None if self.saving => Line::styled("Saving…", theme.dim),
            None => return,
        };
        frame.render_widget(line, area);
    }
}

impl Pane for EscalationsPane {
    fn id(&self) -> PaneId {
        PaneId::Escalations
    }

    fn commands(&self) -> &'static [Command] {
        COMMANDS
    }

    fn refresh(&mut self, shared: &Shared) {
        self.load_list(shared);
        if let Some(opened) = &self.opened {
            self.load_detail(shared, opened.id);
        }
    }

    fn handle(&mut self, input: PaneInput, shared: &Shared) -> Effect {
        match input {
            PaneInput::Key(key) if self.overlay.is_some() => self.handle_key(key, shared),
            PaneInput::Key(_) => Effect::None,
            PaneInput::Action(_) if self.overlay.is_some() => Effect::None,
            PaneInput::Action(action) => self.act(action, shared),
        }
    }

    fn on_reply(&mut self, reply: DbReply, shared: &Shared) -> Effect {
        match reply.key {
            "list" => match reply.take::<Loaded>() {
                Ok(loaded) => self.on_list(loaded),
                Err(err) => {
                    self.loaded = true;
                    self.load_error = Some(err);
                }
            },
            "detail" => match reply.take::<(i64, Option<Detail>)>() {
                Ok((id, found)) => match (&mut self.opened, found) {
                    (Some(opened), Some(data)) if opened.id == id => opened.data = Some(data),
                    (Some(opened), None) if opened.id == id => {
                        self.opened = None;
                        self.flash =
                            Some(Flash::Refused(format!("escalation #{id} no longer exists")));
                    }
                    _ => {}
                },
                Err(err) => self.flash = Some(Flash::Refused(err)),
            },
            "member" => {
                let about = match reply.take::<escalations::MemberSummary>() {
                    Ok(member) => About::Member(member),
                    Err(err) => About::Failed(err),
                };
                if let Some(Overlay::Editor(editor)) = &mut self.overlay {
                    editor.about = about;
                }
            }
            "write" => return self.on_written(reply.take::<Written>(), shared),
            _ => {}
        }
        Effect::None
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, shared: &Shared) {
        let [tabs, body, flash] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(1),
        ])
        .areas(area);
        self.draw_tabs(frame, tabs, shared.theme);
        if self.opened.is_some() {
            self.draw_detail(frame, body, shared);
        } else {
            self.draw_list(frame, body, shared);
        }
        self.draw_flash(frame, flash, shared.theme);
        match &mut self.overlay {
            Some(Overlay::Editor(editor)) => editor.draw(
                frame,
                area,
                shared.theme,
                shared.clock.today,
                &shared.config.escalations,
            ),
            Some(Overlay::Prompt { prompt, .. }) => prompt.draw(frame, area, shared.theme),
            Some(Overlay::Chooser { chooser, .. }) => chooser.draw(frame, area, shared.theme),
            None => {}
        }
    }

    fn wants_raw_keys(&self) -> bool {
        self.overlay.is_some()
    }

    fn save_state(&self) -> Option<String> {
        let selected = self
            .opened
            .as_ref()
            .map(|o| o.id)
            .or_else(|| self.rows.get(self.selected()).map(|r| r.id));
        Some(json!({ "view": self.view.as_str(), "selected": selected }).to_string())
    }

    fn restore_state(&mut self, state: &str) {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(state) else {
            return;
        };
        if let Some(view) = value["view"].as_str().and_then(|v| v.parse::<View>().ok()) {
            if View::PANE.contains(&view) {
                self.view = view;
            }
        }
        self.select_id = value["selected"].as_i64();
    }

    fn start_escalation(&mut self, contact_id: i64, membership_id: Option<i64>, shared: &Shared) {
        self.flash = None;
        if !self.may_change(shared, "opening an escalation") {
            return;
        }
        self.overlay = Some(Overlay::Editor(Box::new(
            Editor::for_member(contact_id, membership_id).with_staff(&shared.assignees()),
        )));
        shared
            .db
            .request(PaneId::Escalations, "member", move |store, _| {
                Ok(escalations::member_summary(
                    &store.conn,
                    contact_id,
                    membership_id,
                )?)
            });
    }
}

fn prompt(action: PromptAction, id: i64, prompt: TextPrompt) -> Overlay {
    Overlay::Prompt {
        action,
        id,
        prompt: Box::new(prompt),
    }
}

/// The prompt or chooser for `a`, `s`, `c`, `p` or `r` on `row`, or why there is none.
fn change_overlay(action: &str, row: &Row, shared: &Shared) -> Result<Overlay, String> {
    let id = row.id;
    let closed = row.status.is_resolved();
    Ok(match action {
        "assign" | "change_priority" if closed => {
            return Err(RuleError::ResolvedIsClosed.to_string());
        }
        "resolve" if closed => {
            return Err(format!(
                "#{id} is already resolved; change status (s) to reopen it"
            ));
        }
        "assign" => {
            // Empty, to type a new name into; taking it yourself is Tab, Enter.
            let me = &shared.clock.user;
            let title = match row.assignee.as_deref() {
                Some(now) => format!("Assign #{id} to (now {now}; Tab: {me}; empty = nobody)"),
                None => format!("Assign #{id} to (Tab: {me}; empty = nobody)"),
            };
            prompt(
                PromptAction::Assign,
                id,
                TextPrompt::new(title)
                    .with_completions(vec![me.clone()])
                    .with_choices(shared.assignees()),
            )
        }
        "comment" => prompt(PromptAction::Comment, id, comment_prompt(id)),
        "resolve" => prompt(PromptAction::Resolve, id, resolve_prompt(id)),
        "change_status" => Overlay::Chooser {
            id,
            chooser: status_chooser(row),
        },
        _ => Overlay::Chooser {
            id,
            chooser: priority_chooser(row, &shared.config.escalations),
        },
    })
}

fn comment_prompt(id: i64) -> TextPrompt {
    TextPrompt::new(format!(
        "Comment on #{id} · Enter saves · Alt-Enter new line"
    ))
    .multi_line()
}

fn resolve_prompt(id: i64) -> TextPrompt {
    TextPrompt::new(format!(
        "Resolve #{id}: what was done? · Enter saves · Alt-Enter new line"
    ))
    .multi_line()
}

fn status_chooser(row: &Row) -> Chooser<Pick> {
    let items = if row.status.is_resolved() {
        vec![("Reopen…".to_owned(), Pick::Reopen)]
    } else {
        row.status
            .next()
            .iter()
            .map(|to| match to {
                Status::Resolved => (
                    "Resolved… (with a resolution note)".to_owned(),
                    Pick::Resolve,
                ),
                to => (capitalised(to.label()), Pick::Status(*to)),
            })
            .collect()
    };
    Chooser::new(
        format!("#{} is {}: change to", row.id, row.status.label()),
        items,
    )
}

fn priority_chooser(row: &Row, targets: &EscalationsConfig) -> Chooser<Pick> {
    let items = Priority::ALL
        .into_iter()
        .filter(|p| *p != row.priority)
        .map(|p| {
            let due = due_date(row.category, p, row.opened, targets);
            (
                format!("{:<7} due {}", p.label(), day(due)),
                Pick::Priority(p),
            )
        })
        .collect();
    let title = if row.category == Category::DataProtection {
        format!(
            "#{} is {}: the one-month due date stays",
            row.id,
            row.priority.label()
        )
    } else {
        format!("#{} is {}: change to", row.id, row.priority.label())
    };
    Chooser::new(title, items)
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A date as the pane shows it: `Mon 23 Nov 2026`.
fn day(date: NaiveDate) -> String {
    date.format("%a %d %b %Y").to_string()
}

/// The due column: overdue rows say so in words (and in the danger style), never by colour
/// alone.
pub(crate) fn due_cell(row: &Row, today: NaiveDate, theme: &Theme) -> (String, Style) {
    match due_state(row.due, row.status, today) {
        DueState::Overdue(days) => (format!("⚠ OVERDUE {days}d"), theme.danger),
        DueState::DueToday => ("due today".into(), theme.warning),
        DueState::DueIn(_) => (row.due.format("%a %d %b").to_string(), theme.base),
        DueState::Closed => match row.resolved_on {
            Some(on) => (format!("✓ {}", on.format("%d %b %Y")), theme.ok),
            None => ("✓ resolved".into(), theme.ok),
        },
    }
}

/// The columns after the title (which takes what is left), with their widths: member,
/// category, priority, status, assignee, age, due. Under [`COMPACT_BELOW`] columns they narrow
/// and age goes (the opened case shows it), so the title keeps 15 columns at 80.
fn fixed_columns(compact: bool, view: View) -> Vec<(&'static str, u16)> {
    let due = if view == View::Resolved {
        "Resolved"
    } else {
        "Due"
    };
    if compact {
        vec![
            ("Member", 11),
            ("Category", 12),
            ("Pri", 6),
            ("Status", 8),
            ("Owner", 7),
            (due, 13),
        ]
    } else {
        vec![
            ("Member", 14),
            ("Category", 15),
            ("Pri", 6),
            ("Status", 11),
            ("Assignee", 8),
            ("Age", 4),
            (due, 13),
        ]
    }
}

/// How many characters the free-text columns have.
struct Fit {
    title: usize,
    member: usize,
    assignee: usize,
}

fn list_row(
    row: &Row,
    today: NaiveDate,
    theme: &Theme,
    compact: bool,
    widths: &Fit,
) -> TableRow<'static> {
    let (due, due_style) = due_cell(row, today, theme);
    let category_style = if row.category.is_sensitive() {
        theme.badge.add_modifier(Modifier::BOLD)
    } else {
        theme.base
    };
    let category = if compact {
        compact_category(row.category)
    } else {
        row.category.short_label()
    };
    let status = match (compact, row.status) {
        (true, Status::InProgress) => "in prog.",
        (_, s) => s.short_label(),
    };
    let mut cells = vec![
        Cell::from(ellipsize(&row.title, widths.title)),
        Cell::from(ellipsize(
            row.member_name.as_deref().unwrap_or("—"),
            widths.member,
        )),
        Cell::from(Span::styled(category, category_style)),
        Cell::from(row.priority.label()),
        Cell::from(status),
        Cell::from(ellipsize(
            row.assignee.as_deref().unwrap_or("—"),
            widths.assignee,
        )),
    ];
    if !compact {
        cells.push(Cell::from(format!("{}d", age_days(row.opened, today))));
    }
    cells.push(Cell::from(Span::styled(due, due_style)));
    TableRow::new(cells)
}

/// At most 12 characters; sensitive categories stay upper case.
fn compact_category(category: Category) -> &'static str {
    match category {
        Category::Complaint => "Complaint",
        Category::RenewalPayment => "Renewal",
        Category::MemberConcern => "Concern",
        Category::DataProtection => "DATA PROT.",
        Category::Safeguarding => "SAFEGUARDING",
        Category::DisputeDisciplinary => "Dispute",
        Category::Other => "Other",
    }
}

fn empty_text(view: View) -> &'static str {
    match view {
        View::Mine => {
            "Nothing is assigned to you. v shows the other views; o opens a new escalation."
        }
        View::Unassigned => "Every open escalation has an owner.",
        View::Overdue => "Nothing is overdue.",
        View::Open | View::All => "No open escalations. o opens a new one.",
        View::Resolved => "Nothing has been resolved yet.",
    }
}
