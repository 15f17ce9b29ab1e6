//! The onboarding pane: new members and the welcome steps each is still waiting for.
//!
//! The table lists the queue, most overdue next step first. A step cursor (`step_next` /
//! `step_prev`) picks one step of the path; `tick_step` (Space) ticks or unticks that step for the
//! highlighted member, and `bulk_tick` ticks it for every member selected with `mark` (`v`), as
//! one confirmed batch that `undo` reverses as one. The strip under the table shows the
//! highlighted member's steps with due dates and who did what.
//!
//! Every change goes to the DB worker one at a time, in the order made (a second change waits for
//! the first), and is reversible from this session's undo stack.

mod dialogs;
mod draw;

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use serde::{Deserialize, Serialize};

use self::dialogs::{Modal, ModalOutcome, PromptKind};
use crate::app::db::DbReply;
use crate::app::pane::{Command, Effect, Pane, PaneId, PaneInput, Shared};
use crate::app::widgets::confirm::ConfirmDialog;
use crate::app::widgets::line_edit;
use crate::app::widgets::list_cursor::CursorAnchor;
use crate::app::widgets::text_prompt::TextPrompt;
use crate::domain::onboarding::{AbandonReason, Progress, StepPath};
use crate::storage::onboarding::{self as store, Added, QueueEntry, Undo, View, members};

pub fn pane() -> Box<dyn Pane> {
    Box::new(OnboardingPane::default())
}

const COMMANDS: &[Command] = &[
    Command {
        action: "tick_step",
        description: "tick or untick the highlighted step for the member",
        hint: true,
        changes: true,
    },
    Command {
        action: "write_letters",
        description: "letters or emails to the selected members (or the whole view), after a preview",
        hint: true,
        changes: true,
    },
    Command {
        action: "step_next",
        description: "move the step cursor to the next step",
        hint: true,
        changes: false,
    },
    Command {
        action: "step_prev",
        description: "move the step cursor to the previous step",
        hint: false,
        changes: false,
    },
    Command {
        action: "mark",
        description: "select or unselect the member for a bulk tick",
        hint: true,
        changes: false,
    },
    Command {
        action: "mark_all",
        description: "select everyone in the view (again: select no one)",
        hint: false,
        changes: false,
    },
    Command {
        action: "bulk_tick",
        description: "tick the highlighted step for every selected member",
        hint: true,
        changes: true,
    },
    Command {
        action: "assign",
        description: "assign to a coordinator (empty: unassign)",
        hint: true,
        changes: true,
    },
    Command {
        action: "assign_me",
        description: "assign to me",
        hint: false,
        changes: true,
    },
    Command {
        action: "note",
        description: "add a note",
        hint: true,
        changes: true,
    },
    Command {
        action: "abandon",
        description: "abandon the path, with a reason",
        hint: false,
        changes: true,
    },
    Command {
        action: "undo",
        description: "undo my last change here",
        hint: true,
        changes: true,
    },
    Command {
        action: "escalate",
        description: "open an escalation about the member",
        hint: false,
        changes: true,
    },
    Command {
        action: "next_view",
        description: "next view: all, mine, unassigned, overdue, by local party, rejoiners",
        hint: true,
        changes: false,
    },
    Command {
        action: "prev_view",
        description: "previous view",
        hint: false,
        changes: false,
    },
    Command {
        action: "open",
        description: "open the member",
        hint: false,
        changes: false,
    },
    Command {
        action: "filter",
        description: "filter by name or local party",
        hint: false,
        changes: false,
    },
    Command {
        action: "back",
        description: "clear the selection, then the filter",
        hint: false,
        changes: false,
    },
];

/// A change waiting for, or at, the DB worker.
#[derive(Debug, Clone)]
enum Write {
    Tick {
        step_key: String,
        contacts: Vec<i64>,
        bulk: bool,
    },
    Untick {
        contact_id: i64,
        step_key: String,
    },
    Assign {
        contact_id: i64,
        assignee: Option<String>,
    },
    Note {
        contact_id: i64,
        body: String,
    },
    Abandon {
        contact_id: i64,
        reason: AbandonReason,
        detail: String,
    },
    Add {
        contact_id: i64,
    },
    Undo(Undo),
}

/// What a finished change tells the pane.
struct WriteDone {
    notice: String,
    undo: Option<Undo>,
    clear_marks: bool,
}

/// The queue as loaded.
struct Loaded {
    path: Arc<StepPath>,
    entries: Vec<QueueEntry>,
    /// Whether newcomers were looked for (see [`store::load_queue`]).
    enrolled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum LoadState {
    NotLoaded,
    Loading,
    Loaded,
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Notice {
    text: String,
    error: bool,
}

/// One visible row: which entry, and its progress as of today.
#[derive(Debug, Clone, Copy)]
struct Row {
    entry: usize,
    progress: Progress,
}

/// What is kept between sessions.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct SavedState {
    view: View,
    filter: String,
    step: usize,
    cursor: Option<i64>,
    marked: Vec<i64>,
}

pub struct OnboardingPane {
    path: Option<Arc<StepPath>>,
    entries: Vec<QueueEntry>,
    rows: Vec<Row>,
    cursor: usize,
    /// First row drawn, and how many fit (from the last draw).
    offset: usize,
    page: usize,
    /// The step `tick_step` and `bulk_tick` act on (index into the path).
    step: usize,
    view: View,
    filter: String,
    marked: BTreeSet<i64>,
    undo: Vec<Undo>,
    modal: Option<Modal>,
    load: LoadState,
    /// The next load should look for newcomers (first load, after an import or another pane's
    /// change); loads after this pane's own changes need not.
    enrol_pending: bool,
    writes: VecDeque<Write>,
    /// The change at the worker now (kept to put an undo back if undoing fails).
    in_flight: Option<Write>,
    notice: Option<Notice>,
    /// Keep the cursor on this contact at the next rebuild (restored state).
    follow: Option<i64>,
}

/// A step about emailing the member: its key says so (`welcome_email` in the built-in path).
/// Documented in docs/onboarding.md, so a steps file can name its own email steps.
fn is_email_step(step_key: &str) -> bool {
    step_key.to_ascii_lowercase().contains("email")
}

/// Why this member should not get an email, if they should not: said when an email step is
/// ticked, at the moment it matters.
fn email_refusal(entry: &QueueEntry) -> Option<&'static str> {
    let flags = &entry.flags;
    if flags.do_not_email {
        Some("asked not to be emailed (Do Not Email)")
    } else if flags.on_hold {
        Some("has an email address that bounces (On Hold)")
    } else if !entry.has_email {
        Some("has no email address")
    } else {
        None
    }
}

impl Default for OnboardingPane {
    fn default() -> Self {
        OnboardingPane {
            path: None,
            entries: Vec::new(),
            rows: Vec::new(),
            cursor: 0,
            offset: 0,
            page: 10,
            step: 0,
            view: View::All,
            filter: String::new(),
            marked: BTreeSet::new(),
            undo: Vec::new(),
            modal: None,
            load: LoadState::NotLoaded,
            enrol_pending: true,
            writes: VecDeque::new(),
            in_flight: None,
            notice: None,
            follow: None,
        }
    }
}

impl OnboardingPane {
    fn current(&self) -> Option<(&QueueEntry, &Progress)> {
        let row = self.rows.get(self.cursor)?;
        Some((&self.entries[row.entry], &row.progress))
    }

    fn current_contact(&self) -> Option<i64> {
        self.current().map(|(e, _)| e.contact_id)
    }

    fn step_key(&self) -> Option<String> {
        Some(self.path.as_ref()?.get(self.step)?.key.clone())
    }

    fn step_label(&self) -> String {
        self.path
            .as_ref()
            .and_then(|p| p.get(self.step))
            .map_or_else(String::new, |s| s.label.clone())
    }

    fn info(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            error: false,
        });
    }

    fn error(&mut self, text: impl Into<String>) -> Effect {
        let text = text.into();
        self.notice = Some(Notice {
            text: text.clone(),
            error: true,
        });
        Effect::Status(text)
    }

    /// The shown rows by contact, with the cursor: taken before `entries` is replaced, since a
    /// row's entry index into new entries names a stranger.
    fn anchor(&self) -> CursorAnchor<i64> {
        let ids: Vec<i64> = self
            .rows
            .iter()
            .map(|r| self.entries[r.entry].contact_id)
            .collect();
        let anchor = CursorAnchor::at(&ids, self.cursor);
        match self.follow {
            Some(id) => anchor.preferring(id),
            None => anchor,
        }
    }

    /// Recomputes the visible rows from the entries, the view, the filter and today.
    fn rebuild(&mut self, shared: &Shared) {
        let anchor = self.anchor();
        self.rebuild_keeping(anchor, shared);
    }

    /// [`Self::rebuild`], putting the cursor on the anchor's row or the one that was next.
    fn rebuild_keeping(&mut self, anchor: CursorAnchor<i64>, shared: &Shared) {
        self.follow = None;
        let Some(path) = self.path.clone() else {
            self.rows.clear();
            return;
        };
        let today = shared.clock.today;
        let user = shared.clock.user.as_str();
        let needle = self.filter.trim().to_lowercase();
        let mut rows: Vec<Row> = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(entry, e)| {
                let progress = e.progress(&path, today);
                let shown = self.view.shows(e, &progress, user) && matches_filter(e, &needle);
                shown.then_some(Row { entry, progress })
            })
            .collect();
        rows.sort_by_cached_key(|r| {
            store::sort_key(self.view, &self.entries[r.entry], &r.progress)
        });
        self.rows = rows;
        let ids: Vec<i64> = self
            .rows
            .iter()
            .map(|r| self.entries[r.entry].contact_id)
            .collect();
        self.cursor = anchor.resolve(&ids);
        self.step = self.step.min(path.len().saturating_sub(1));
    }

    fn move_cursor(&mut self, delta: isize) {
        let last = self.rows.len().saturating_sub(1) as isize;
        self.cursor = (self.cursor as isize + delta).clamp(0, last.max(0)) as usize;
    }

    fn request_load(&mut self, shared: &Shared) {
        if self.load != LoadState::Loaded {
            self.load = LoadState::Loading;
        }
        let config = shared.config.onboarding.clone();
        let enrol = self.enrol_pending;
        shared
            .db
            .request(PaneId::Onboarding, "load", move |db, clock| {
                let path = StepPath::from_config(&config)?;
                let entries = if enrol {
                    store::load_queue(db, clock, &config)?
                } else {
                    store::read_queue(db, clock, &config)?
                };
                Ok(Loaded {
                    path: Arc::new(path),
                    entries,
                    enrolled: enrol,
                })
            });
    }

    /// Queues a change; it goes to the worker once the one before it has finished.
    fn submit(&mut self, write: Write, shared: &Shared) -> Effect {
        if let Some(why) = shared.access.read_only_because() {
            return self.error(format!("read-only ({why}): changes are refused"));
        }
        self.writes.push_back(write);
        self.send_next_write(shared);
        Effect::None
    }

    fn send_next_write(&mut self, shared: &Shared) {
        if self.in_flight.is_some() {
            return;
        }
        let Some(write) = self.writes.pop_front() else {
            return;
        };
        let path = match (&self.path, &write) {
            (Some(path), _) => Arc::clone(path),
            // Adding by hand (from the member view) may come before this pane has loaded, and
            // needs no steps.
            (None, Write::Add { .. }) => Arc::new(StepPath::default_path()),
            (None, _) => {
                self.writes.push_front(write);
                return;
            }
        };
        self.in_flight = Some(write.clone());
        shared
            .db
            .request(PaneId::Onboarding, "write", move |db, clock| {
                run_write(db, clock, &path, write)
            });
    }

    fn on_loaded(&mut self, loaded: Loaded, shared: &Shared) {
        let first = self.load != LoadState::Loaded;
        if loaded.enrolled {
            self.enrol_pending = false;
        }
        let anchor = self.anchor();
        self.path = Some(loaded.path);
        self.entries = loaded.entries;
        self.load = LoadState::Loaded;
        // Marks on people who have left the queue would tick nothing; drop them.
        let present: BTreeSet<i64> = self.entries.iter().map(|e| e.contact_id).collect();
        self.marked.retain(|id| present.contains(id));
        self.rebuild_keeping(anchor, shared);
        if first {
            self.send_next_write(shared);
        }
    }

    fn on_written(&mut self, done: Result<WriteDone, String>, shared: &Shared) -> Effect {
        let sent = self.in_flight.take();
        let effect = match done {
            Ok(done) => {
                if let Some(undo) = done.undo {
                    self.undo.push(undo);
                }
                if done.clear_marks {
                    self.marked.clear();
                }
                self.info(done.notice);
                Effect::DataChanged
            }
            Err(err) => {
                // An undo that failed (read-only, a locked database) can be tried again.
                if let Some(Write::Undo(undo)) = sent {
                    self.undo.push(undo);
                }
                self.error(format!("not saved: {err}"))
            }
        };
        self.request_load(shared);
        self.send_next_write(shared);
        effect
    }

    fn handle_action(&mut self, action: &str, shared: &Shared) -> Effect {
        let half = (self.page / 2).max(1) as isize;
        match action {
            "up" => self.move_cursor(-1),
            "down" => self.move_cursor(1),
            "top" => self.cursor = 0,
            "bottom" => self.move_cursor(isize::MAX / 2),
            "page_up" => self.move_cursor(-(self.page.max(1) as isize)),
            "page_down" => self.move_cursor(self.page.max(1) as isize),
            "half_page_up" => self.move_cursor(-half),
            "half_page_down" => self.move_cursor(half),
            "step_next" | "step_prev" => self.move_step(action == "step_next"),
            "next_view" | "prev_view" => self.cycle_view(action == "next_view", shared),
            // Space is `select` in other lists; here it ticks, and `mark` selects.
            "tick_step" | "select" => return self.tick_highlighted(shared),
            "mark" => self.toggle_mark(),
            "mark_all" => self.toggle_mark_all(),
            "write_letters" => return self.letters_request(),
            "bulk_tick" => return self.ask_bulk_tick(shared),
            "assign" => return self.open_prompt(false, shared),
            "assign_me" => {
                if let Some(contact_id) = self.current_contact() {
                    let me = shared.clock.user.clone();
                    return self.submit(
                        Write::Assign {
                            contact_id,
                            assignee: Some(me),
                        },
                        shared,
                    );
                }
            }
            "note" => return self.open_prompt(true, shared),
            "abandon" => return self.open_abandon(shared),
            "undo" => return self.undo_last(shared),
            "escalate" => {
                if let Some(contact_id) = self.current_contact() {
                    return Effect::Escalate {
                        contact_id,
                        membership_id: None,
                    };
                }
            }
            "open" => {
                if let Some(contact_id) = self.current_contact() {
                    return Effect::OpenMember(contact_id);
                }
            }
            "filter" => {
                let parties =
                    line_edit::distinct(self.entries.iter().map(|e| e.local_party.as_str()));
                let prompt = TextPrompt::new("Filter: name or local party (Tab completes)")
                    .with_text(&self.filter)
                    .with_completions(parties);
                self.modal = Some(Modal::prompt(PromptKind::Filter, prompt));
            }
            "back" => {
                if !self.marked.is_empty() {
                    self.marked.clear();
                } else if !self.filter.is_empty() {
                    self.filter.clear();
                    self.rebuild(shared);
                }
            }
            _ => {}
        }
        Effect::None
    }

    fn move_step(&mut self, forward: bool) {
        let steps = self.path.as_ref().map_or(0, |p| p.len());
        if steps == 0 {
            return;
        }
        self.step = if forward {
            (self.step + 1) % steps
        } else {
            (self.step + steps - 1) % steps
        };
    }

    fn cycle_view(&mut self, forward: bool, shared: &Shared) {
        let n = View::ALL.len();
        let at = View::ALL.iter().position(|v| *v == self.view).unwrap_or(0);
        self.view = View::ALL[if forward {
            (at + 1) % n
        } else {
            (at + n - 1) % n
        }];
        self.rebuild(shared);
    }

    fn tick_highlighted(&mut self, shared: &Shared) -> Effect {
        let (Some((entry, _)), Some(step_key)) = (self.current(), self.step_key()) else {
            return Effect::None;
        };
        let contact_id = entry.contact_id;
        if !shared.access.is_read_only()
            && !entry.steps.contains_key(&step_key)
            && is_email_step(&step_key)
        {
            if let Some(why) = email_refusal(entry) {
                let question = format!("This member {why}. Tick \"{}\" anyway?", self.step_label());
                self.modal = Some(Modal::ConfirmBulk {
                    dialog: ConfirmDialog::new(question),
                    step_key,
                    contacts: vec![contact_id],
                });
                return Effect::None;
            }
        }
        let write = if entry.steps.contains_key(&step_key) {
            Write::Untick {
                contact_id,
                step_key,
            }
        } else {
            Write::Tick {
                step_key,
                contacts: vec![contact_id],
                bulk: false,
            }
        };
        self.submit(write, shared)
    }

    fn toggle_mark(&mut self) {
        if let Some(id) = self.current_contact() {
            if !self.marked.remove(&id) {
                self.marked.insert(id);
            }
            self.move_cursor(1);
        }
    }

    /// Welcome letters to the selected members in the view's order, or to everyone in it.
    fn letters_request(&self) -> Effect {
        let members = self
            .rows
            .iter()
            .map(|r| self.entries[r.entry].contact_id)
            .filter(|id| self.marked.is_empty() || self.marked.contains(id))
            .map(|contact_id| crate::app::letters::Listed {
                wanted: crate::storage::letters::Wanted {
                    contact_id,
                    membership_id: None,
                },
                fits: None,
            })
            .collect();
        Effect::Letters(crate::app::letters::LetterRequest {
            members,
            kind: crate::domain::letters::LetterKind::Welcome,
        })
    }

    fn toggle_mark_all(&mut self) {
        let visible: Vec<i64> = self
            .rows
            .iter()
            .map(|r| self.entries[r.entry].contact_id)
            .collect();
        if visible.iter().all(|id| self.marked.contains(id)) {
            for id in &visible {
                self.marked.remove(id);
            }
        } else {
            self.marked.extend(visible);
        }
    }

    fn ask_bulk_tick(&mut self, shared: &Shared) -> Effect {
        if let Some(why) = shared.access.read_only_because() {
            return self.error(format!("read-only ({why}): changes are refused"));
        }
        if self.marked.is_empty() {
            return self.error("select members first (mark), then tick the step for them all");
        }
        let Some(step_key) = self.step_key() else {
            return Effect::None;
        };
        let contacts: Vec<i64> = self.marked.iter().copied().collect();
        let whom = match contacts.len() {
            1 => "the 1 selected member".to_owned(),
            n => format!("the {n} selected members"),
        };
        let mut question = format!(
            "Tick \"{}\" for {whom}? Any who have it already are left as they are.",
            self.step_label(),
        );
        if is_email_step(&step_key) {
            let unemailable = self
                .entries
                .iter()
                .filter(|e| self.marked.contains(&e.contact_id))
                .filter(|e| email_refusal(e).is_some())
                .count();
            if unemailable > 0 {
                question.push_str(&format!(
                    " {unemailable} of them asked not to be emailed or {} a bouncing address.",
                    if unemailable == 1 { "has" } else { "have" }
                ));
            }
        }
        self.modal = Some(Modal::ConfirmBulk {
            dialog: ConfirmDialog::new(question),
            step_key,
            contacts,
        });
        Effect::None
    }

    /// Opens the assign prompt (`note` false) or the note prompt for the highlighted member.
    fn open_prompt(&mut self, note: bool, shared: &Shared) -> Effect {
        if let Some(why) = shared.access.read_only_because() {
            return self.error(format!("read-only ({why}): changes are refused"));
        }
        let Some((entry, _)) = self.current() else {
            return Effect::None;
        };
        let contact_id = entry.contact_id;
        let me = &shared.clock.user;
        self.modal = Some(if note {
            Modal::prompt(
                PromptKind::Note { contact_id },
                TextPrompt::new("Onboarding note (Alt-Enter: new line)").multi_line(),
            )
        } else {
            Modal::prompt(
                PromptKind::Assign { contact_id },
                // Empty, to type a new name into; the title says who has it now.
                TextPrompt::new(match entry.assignee.as_deref() {
                    Some(now) => format!("Assign to (now {now}; Tab: {me}; empty: unassign)"),
                    None => format!("Assign to (Tab: {me}; empty: unassign)"),
                })
                .with_completions(vec![me.clone()])
                .with_choices(shared.assignees()),
            )
        });
        Effect::None
    }

    fn open_abandon(&mut self, shared: &Shared) -> Effect {
        if let Some(why) = shared.access.read_only_because() {
            return self.error(format!("read-only ({why}): changes are refused"));
        }
        if let Some(contact_id) = self.current_contact() {
            self.modal = Some(Modal::AbandonChooser {
                contact_id,
                choice: 0,
            });
        }
        Effect::None
    }

    fn undo_last(&mut self, shared: &Shared) -> Effect {
        if let Some(why) = shared.access.read_only_because() {
            return self.error(format!("read-only ({why}): changes are refused"));
        }
        match self.undo.pop() {
            Some(undo) => self.submit(Write::Undo(undo), shared),
            None => {
                self.info("nothing to undo (this session's changes here are all undone)");
                Effect::None
            }
        }
    }

    fn handle_modal_key(&mut self, key: KeyEvent, shared: &Shared) -> Effect {
        let Some(modal) = self.modal.take() else {
            return Effect::None;
        };
        match modal.handle(key) {
            ModalOutcome::Open(modal) => {
                self.modal = Some(*modal);
                Effect::None
            }
            ModalOutcome::Closed => Effect::None,
            ModalOutcome::Filter(text) => {
                self.filter = text.trim().to_owned();
                self.rebuild(shared);
                Effect::None
            }
            ModalOutcome::BulkTick { step_key, contacts } => self.submit(
                Write::Tick {
                    step_key,
                    contacts,
                    bulk: true,
                },
                shared,
            ),
            ModalOutcome::Assign {
                contact_id,
                assignee,
            } => self.submit(
                Write::Assign {
                    contact_id,
                    assignee,
                },
                shared,
            ),
            ModalOutcome::Note { contact_id, body } => {
                self.submit(Write::Note { contact_id, body }, shared)
            }
            ModalOutcome::Abandon {
                contact_id,
                reason,
                detail,
            } => self.submit(
                Write::Abandon {
                    contact_id,
                    reason,
                    detail,
                },
                shared,
            ),
        }
    }
}

fn matches_filter(entry: &QueueEntry, needle: &str) -> bool {
    needle.is_empty()
        || entry.name.to_lowercase().contains(needle)
        || entry.local_party.to_lowercase().contains(needle)
}

/// Runs one change on the DB worker and says what it did (no personal data in the notice).
fn run_write(
    db: &mut crate::storage::Store,
    clock: &crate::Clock,
    path: &StepPath,
    write: Write,
) -> anyhow::Result<WriteDone> {
    let label = |key: &str| {
        path.index_of(key)
            .and_then(|i| path.get(i))
            .map_or_else(|| key.to_owned(), |s| s.label.clone())
    };
    let done = |notice: String, undo: Undo| WriteDone {
        notice,
        undo: Some(undo),
        clear_marks: false,
    };
    Ok(match write {
        Write::Tick {
            step_key,
            contacts,
            bulk,
        } => {
            let out = store::tick(db, clock, path, &step_key, &contacts)?;
            let mut notice = format!("ticked \"{}\"", label(&step_key));
            if bulk {
                notice += &format!(" for {}", members(out.ticked));
                if out.already_done > 0 {
                    notice += &format!(" ({} had it already)", out.already_done);
                }
            }
            if out.not_in_queue > 0 {
                notice += &format!("; {} no longer in the queue", members(out.not_in_queue));
            }
            if out.completed > 0 {
                notice += &format!("; path complete for {}", members(out.completed));
            }
            WriteDone {
                notice,
                undo: (out.ticked + out.completed > 0).then_some(out.undo),
                clear_marks: bulk,
            }
        }
        Write::Untick {
            contact_id,
            step_key,
        } => {
            let undo = store::untick(db, clock, contact_id, &step_key)?;
            done(format!("unticked \"{}\"", label(&step_key)), undo)
        }
        Write::Assign {
            contact_id,
            assignee,
        } => {
            let undo = store::assign(db, clock, contact_id, assignee.as_deref())?;
            let notice = match assignee {
                Some(name) => format!("assigned to {}", name.trim()),
                None => "unassigned".to_owned(),
            };
            done(notice, undo)
        }
        Write::Note { contact_id, body } => done(
            "note added".into(),
            store::add_note(db, clock, contact_id, &body)?,
        ),
        Write::Abandon {
            contact_id,
            reason,
            detail,
        } => {
            let undo = store::abandon(db, clock, contact_id, reason, &detail)?;
            done(format!("path abandoned: {}", reason.label()), undo)
        }
        Write::Add { contact_id } => match store::add_by_hand(db, clock, contact_id)? {
            Added::Entered(undo) => done("added to onboarding".into(), undo),
            Added::AlreadyInQueue => WriteDone {
                notice: "already in the onboarding queue".into(),
                undo: None,
                clear_marks: false,
            },
        },
        Write::Undo(undo) => {
            store::undo(db, clock, &undo)?;
            WriteDone {
                notice: format!("undone: {}", undo.describe(path)),
                undo: None,
                clear_marks: false,
            }
        }
    })
}

impl Pane for OnboardingPane {
    fn id(&self) -> PaneId {
        PaneId::Onboarding
    }

    fn commands(&self) -> &'static [Command] {
        COMMANDS
    }

    fn refresh(&mut self, shared: &Shared) {
        self.enrol_pending = true;
        self.request_load(shared);
    }

    fn handle(&mut self, input: PaneInput, shared: &Shared) -> Effect {
        match input {
            PaneInput::Key(key) => self.handle_modal_key(key, shared),
            PaneInput::Action(_) if self.modal.is_some() => Effect::None,
            PaneInput::Action(action) => self.handle_action(action, shared),
        }
    }

    fn on_reply(&mut self, reply: DbReply, shared: &Shared) -> Effect {
        match reply.key {
            "load" => {
                match reply.take::<Loaded>() {
                    Ok(loaded) => self.on_loaded(loaded, shared),
                    Err(err) => self.load = LoadState::Failed(err),
                }
                Effect::None
            }
            "write" => self.on_written(reply.take::<WriteDone>(), shared),
            _ => Effect::None,
        }
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, shared: &Shared) {
        draw::draw(self, frame, area, shared);
    }

    fn wants_raw_keys(&self) -> bool {
        self.modal.is_some()
    }

    fn save_state(&self) -> Option<String> {
        let saved = SavedState {
            view: self.view,
            filter: self.filter.clone(),
            step: self.step,
            cursor: self.current_contact().or(self.follow),
            marked: self.marked.iter().copied().collect(),
        };
        serde_json::to_string(&saved).ok()
    }

    fn restore_state(&mut self, state: &str) {
        // A state saved by another version that no longer parses is simply not restored.
        let Ok(saved) = serde_json::from_str::<SavedState>(state) else {
            return;
        };
        self.view = saved.view;
        self.filter = saved.filter;
        self.step = saved.step;
        self.follow = saved.cursor;
        self.marked = saved.marked.into_iter().collect();
    }

    fn add_to_onboarding(&mut self, contact_id: i64, shared: &Shared) -> Effect {
        self.follow = Some(contact_id);
        self.submit(Write::Add { contact_id }, shared)
    }
}
