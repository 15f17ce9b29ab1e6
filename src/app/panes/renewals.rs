//! The renewals pane: the queue a membership officer works every morning.
//!
//! The whole window of memberships is loaded once (through the DB worker) and then filtered and
//! ordered in memory, so changing a filter is instant. Every write goes to the worker too; its
//! reply pushes an undo entry, reloads the queue and tells the app that data changed.
//!
//! Logging a contact takes three keys in the common case: `c`, a channel key, an outcome key.
//! With rows marked (`Space`, a range with `V`, all with `*`), the same keys act on every marked
//! row after one confirmation, and `u` undoes the lot as one.

mod chooser;
mod draw;

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use serde::{Deserialize, Serialize};

use self::chooser::{Choice, Chooser, ChooserItem};
use crate::app::db::DbReply;
use crate::app::pane::{Command, Effect, Pane, PaneId, PaneInput, Shared};
use crate::app::widgets::confirm::{Answer, ConfirmDialog};
use crate::app::widgets::line_edit;
use crate::app::widgets::list_cursor::CursorAnchor;
use crate::app::widgets::text_prompt::{PromptOutcome, TextPrompt};
use crate::domain::renewal::{
    self, Arranged, Bucket, Channel, Outcome, QueueFilter, QueueRow, Section, Windows,
};
use crate::storage::Store;
use crate::storage::claims::{self, Claim, Claimed};
use crate::storage::renewals::{self as store_renewals, NewAttempt, RenewedSummary, Target, Undo};

pub fn pane() -> Box<dyn Pane> {
    Box::new(RenewalsPane::default())
}

/// The pane's own actions, as named in the keymap's `[renewals]` section. The list actions (`up`,
/// `down`, `select`, `open`, `back`, `filter`, ...) come from the common keymap.
const COMMANDS: &[Command] = &[
    Command {
        action: "log_contact",
        description: "log a contact attempt: channel key, then outcome key",
        hint: true,
        changes: true,
    },
    Command {
        action: "write_letters",
        description: "letters or emails to the marked rows (or all shown), after a preview",
        hint: true,
        changes: true,
    },
    Command {
        action: "log_contact_note",
        description: "log a contact attempt with a note",
        hint: false,
        changes: true,
    },
    Command {
        action: "snooze",
        description: "set the next action date (YYYY-MM-DD or +N days)",
        hint: true,
        changes: true,
    },
    Command {
        action: "note",
        description: "add a note on the membership",
        hint: false,
        changes: true,
    },
    Command {
        action: "escalate",
        description: "open an escalation about this member",
        hint: false,
        changes: true,
    },
    Command {
        action: "assign",
        description: "assign to a staff member (empty: unassign)",
        hint: false,
        changes: true,
    },
    Command {
        action: "undo",
        description: "undo the last action",
        hint: true,
        changes: true,
    },
    Command {
        action: "select_range",
        description: "mark every row from the last marked one to here",
        hint: false,
        changes: false,
    },
    Command {
        action: "select_all",
        description: "mark every row shown (again: unmark all)",
        hint: false,
        changes: false,
    },
    Command {
        action: "cycle_bucket",
        description: "show both buckets, due only, lapsed only",
        hint: false,
        changes: false,
    },
    Command {
        action: "toggle_set_aside",
        description: "show or hide snoozed and settled rows",
        hint: false,
        changes: false,
    },
    Command {
        action: "toggle_auto_renew",
        description: "show or hide auto-renewing memberships",
        hint: false,
        changes: false,
    },
    Command {
        action: "renewed",
        description: "who renewed in the last import, and who is credited",
        hint: true,
        changes: false,
    },
    Command {
        action: "next_free",
        description: "the next member nobody else is on (another officer's claim skipped)",
        hint: false,
        changes: false,
    },
];

/// Job keys sent to the DB worker.
const LOAD_QUEUE: &str = "queue";
const LOAD_RENEWED: &str = "renewed";
const WRITE: &str = "write";
const LOAD_CLAIMS: &str = "claims";
/// Claiming the member whose contact dialog is opening.
const CLAIM: &str = "claim";
const RELEASE: &str = "release";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum View {
    #[default]
    Queue,
    Renewed,
}

/// One line of the list: a section heading or a queue row (its position in the shown order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListLine {
    Heading(Section, usize),
    Row(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tone {
    Ok,
    Error,
}

/// The outcome of the last action, shown on the pane's bottom line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Message {
    text: String,
    tone: Tone,
}

/// A text filter typed into a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextFilter {
    Region,
    LocalParty,
    MembershipType,
    NotContactedDays,
}

impl TextFilter {
    fn title(self) -> &'static str {
        match self {
            TextFilter::Region => "Region (empty: any)",
            TextFilter::LocalParty => "Local party (empty: any)",
            TextFilter::MembershipType => "Membership type (empty: any)",
            TextFilter::NotContactedDays => "Not contacted in how many days? (empty: any)",
        }
    }

    /// What `Tab` completes to: the values the queue holds.
    fn completions(self, rows: &[QueueRow]) -> Vec<String> {
        fn value(field: TextFilter, r: &QueueRow) -> Option<&str> {
            match field {
                TextFilter::Region => Some(r.region.as_str()),
                TextFilter::LocalParty => Some(r.local_party.as_str()),
                TextFilter::MembershipType => Some(r.membership_type.as_str()),
                TextFilter::NotContactedDays => None,
            }
        }
        line_edit::distinct(rows.iter().filter_map(|r| value(self, r)))
    }
}

/// What the pane is asking, while it asks.
enum Popup {
    Channel {
        targets: Vec<QueueRow>,
        with_note: bool,
        chooser: Chooser,
    },
    Outcome {
        targets: Vec<QueueRow>,
        channel: Channel,
        with_note: bool,
        chooser: Chooser,
    },
    AttemptNote {
        targets: Vec<QueueRow>,
        channel: Channel,
        outcome: Outcome,
        prompt: TextPrompt,
    },
    Confirm {
        dialog: ConfirmDialog,
        then: AfterConfirm,
    },
    Snooze {
        targets: Vec<QueueRow>,
        prompt: TextPrompt,
    },
    Note {
        target: Target,
        prompt: TextPrompt,
    },
    Assign {
        targets: Vec<QueueRow>,
        prompt: TextPrompt,
    },
    FilterMenu,
    FilterText {
        field: TextFilter,
        prompt: TextPrompt,
    },
}

enum AfterConfirm {
    /// Another officer is on this member, and the officer goes ahead anyway (without taking
    /// the claim from them): on to the channel.
    ContactAnyway {
        targets: Vec<QueueRow>,
        with_note: bool,
    },
    /// A preference was overridden: go on to the outcome.
    ChooseOutcome {
        targets: Vec<QueueRow>,
        channel: Channel,
        with_note: bool,
    },
    Write(Write),
}

/// A change to send to the store.
#[derive(Debug, Clone)]
enum Write {
    Attempts {
        targets: Vec<Target>,
        attempt: NewAttempt,
        /// The officer was told another officer is on the one member, and went ahead.
        despite_claim: bool,
    },
    Snooze {
        targets: Vec<Target>,
        until: Option<NaiveDate>,
    },
    Note {
        target: Target,
        body: String,
    },
    Assign {
        contact_ids: Vec<i64>,
        assignee: Option<String>,
    },
    Undo(UndoEntry),
}

/// An action that can be undone, and what to call it.
#[derive(Debug, Clone)]
struct UndoEntry {
    undo: Undo,
    /// "logging phone, no answer for 40 members".
    what: String,
    rows: usize,
}

/// What a write job hands back.
struct Written {
    undo: Option<UndoEntry>,
    message: String,
    clears_marks: bool,
}

fn members(n: usize) -> String {
    crate::text::plural(n as u64, "member")
}

/// A next action date after a member's grace period ends puts them out of sight until they have
/// lapsed for good: the question that says so, or None when no target's grace ends before
/// `until` (members already past grace lose nothing by waiting).
fn past_grace_question(targets: &[QueueRow], until: NaiveDate, shared: &Shared) -> Option<String> {
    let today = shared.clock.today;
    let grace_ends: Vec<NaiveDate> = targets
        .iter()
        .map(|t| crate::domain::dates::add_months(t.end_date, 1))
        .filter(|&end| end >= today && end < until)
        .collect();
    let first = *grace_ends.iter().min()?;
    Some(match (targets.len(), grace_ends.len()) {
        (1, _) => format!(
            "The grace period ends {first}, before {until}: the membership will have lapsed for \
             good by then. Set {until} anyway?"
        ),
        (n, past) => format!(
            "For {past} of {n} members the grace period ends before {until} (the first on \
             {first}): they will have lapsed for good by then. Set {until} for all {n} anyway?"
        ),
    })
}

/// "bo is on Aled Jones until 10:15. Log a contact anyway?"
fn held_question(held: &Claim, targets: Vec<QueueRow>, with_note: bool) -> Popup {
    let name = targets.first().map(|r| r.name.clone()).unwrap_or_default();
    Popup::Confirm {
        dialog: ConfirmDialog::new(format!(
            "{} is on {name} until {}. Log a contact for them anyway?",
            held.login,
            held.until()
        )),
        then: AfterConfirm::ContactAnyway { targets, with_note },
    }
}

/// "phone, no answer", "email, sent".
fn attempt_label(channel: Channel, outcome: Outcome) -> String {
    format!("{}, {}", channel.label(), outcome.label_for(channel))
}

impl Write {
    fn run(self, store: &mut Store, clock: &crate::Clock) -> anyhow::Result<Written> {
        Ok(match self {
            Write::Attempts {
                targets,
                attempt,
                despite_claim,
            } => {
                // Someone may have claimed the member while the dialog was open: never log over
                // their claim without asking.
                if let [one] = targets.as_slice()
                    && !despite_claim
                    && let Some(held) = claims::held_by_other(&store.conn, clock, one.contact_id)?
                {
                    anyhow::bail!(
                        "{} is on this member until {}: nothing was logged; c again to decide",
                        held.login,
                        held.until()
                    );
                }
                let label = attempt_label(attempt.channel, attempt.outcome);
                // Releases this officer's claims on them too.
                let undo = store_renewals::log_attempts(store, clock, &targets, &attempt)?;
                let what = format!("logging {label} for {}", members(targets.len()));
                Written {
                    message: format!("Logged {label} for {}. u undoes", members(targets.len())),
                    undo: Some(UndoEntry {
                        undo,
                        what,
                        rows: targets.len(),
                    }),
                    clears_marks: true,
                }
            }
            Write::Snooze { targets, until } => {
                let undo = store_renewals::snooze(store, clock, &targets, until)?;
                let n = members(targets.len());
                let (message, what) = match until {
                    Some(d) => (
                        format!("Next action {d} for {n}. u undoes"),
                        format!("the next action date for {n}"),
                    ),
                    None => (
                        format!("Cleared the next action date for {n}. u undoes"),
                        format!("clearing the next action date for {n}"),
                    ),
                };
                Written {
                    message,
                    undo: Some(UndoEntry {
                        undo,
                        what,
                        rows: targets.len(),
                    }),
                    clears_marks: true,
                }
            }
            Write::Note { target, body } => {
                let undo = store_renewals::add_note(store, clock, target, &body)?;
                Written {
                    message: "Note added. u undoes".to_owned(),
                    undo: Some(UndoEntry {
                        undo,
                        what: "the note".to_owned(),
                        rows: 1,
                    }),
                    clears_marks: false,
                }
            }
            Write::Assign {
                contact_ids,
                assignee,
            } => {
                let undo = store_renewals::assign(store, clock, &contact_ids, assignee.as_deref())?;
                let n = members(contact_ids.len());
                let message = match &assignee {
                    Some(who) => format!("Assigned {n} to {who}. u undoes"),
                    None => format!("Unassigned {n}. u undoes"),
                };
                Written {
                    message,
                    undo: Some(UndoEntry {
                        undo,
                        what: format!("the assignment of {n}"),
                        rows: contact_ids.len(),
                    }),
                    clears_marks: true,
                }
            }
            Write::Undo(entry) => {
                let done = store_renewals::undo(store, clock, &entry.undo)?;
                Written {
                    message: format!("Undone: {done}"),
                    undo: None,
                    clears_marks: false,
                }
            }
        })
    }
}

/// What survives a restart: the filters.
#[derive(Debug, Default, Serialize, Deserialize)]
struct SavedState {
    filter: QueueFilter,
}

#[derive(Default)]
pub struct RenewalsPane {
    rows: Vec<QueueRow>,
    loaded: bool,
    load_error: Option<String>,
    arranged: Arranged,
    lines: Vec<ListLine>,
    /// For each position in the shown order, its line in `lines`.
    line_of: Vec<usize>,
    filter: QueueFilter,
    /// Position in the shown order.
    cursor: usize,
    /// First line of `lines` on screen.
    offset: usize,
    /// Rows the list showed at the last draw (for paging).
    list_height: usize,
    /// Marked memberships (ids).
    marked: HashSet<i64>,
    /// The last row marked or unmarked: one end of a range.
    anchor: Option<i64>,
    renewed: RenewedSummary,
    view: View,
    renewed_cursor: usize,
    renewed_offset: usize,
    popup: Option<Popup>,
    undo: Vec<UndoEntry>,
    /// Jobs sent and not yet answered, by key.
    awaiting: HashSet<&'static str>,
    message: Option<Message>,
    /// Other officers' claims, by contact id ([`claims::held_by_others`]).
    claims: HashMap<i64, Claim>,
    /// The member this window has claimed, until the outcome is logged or the cursor moves on.
    my_claim: Option<i64>,
    /// The member the officer chose to contact although another officer is on them.
    anyway: Option<i64>,
}

impl RenewalsPane {
    /// True while a load or write is on its way (tests pump replies until this is false).
    pub fn is_busy(&self) -> bool {
        !self.awaiting.is_empty()
    }

    fn say(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            tone: Tone::Ok,
        });
    }

    fn refuse(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            tone: Tone::Error,
        });
    }

    fn today(shared: &Shared) -> NaiveDate {
        shared.clock.today
    }

    fn current(&self) -> Option<&QueueRow> {
        let &i = self.arranged.order.get(self.cursor)?;
        self.rows.get(i)
    }

    /// The rows an action applies to: the marked rows in shown order, or else the cursor row.
    fn targets(&self) -> Vec<QueueRow> {
        if self.marked.is_empty() {
            return self.current().cloned().into_iter().collect();
        }
        self.arranged
            .order
            .iter()
            .map(|&i| &self.rows[i])
            .filter(|r| self.marked.contains(&r.membership_id))
            .cloned()
            .collect()
    }

    fn bulk(&self) -> bool {
        !self.marked.is_empty()
    }

    // ------------------------------------------------------------------ loading

    fn load(&mut self, shared: &Shared) {
        let today = Self::today(shared);
        let windows = Windows::from(&shared.config.renewals);
        self.awaiting.insert(LOAD_QUEUE);
        shared
            .db
            .request(PaneId::Renewals, LOAD_QUEUE, move |store, _| {
                Ok(store_renewals::queue(&store.conn, today, windows, None)?)
            });
        self.awaiting.insert(LOAD_RENEWED);
        shared
            .db
            .request(PaneId::Renewals, LOAD_RENEWED, |store, _| {
                Ok(store_renewals::renewed_in_last_import(&store.conn)?)
            });
        self.awaiting.insert(LOAD_CLAIMS);
        shared
            .db
            .request(PaneId::Renewals, LOAD_CLAIMS, |store, clock| {
                claims::held_by_others(&store.conn, clock)
            });
    }

    /// Another officer's unexpired claim on this row's member.
    pub(super) fn claim_on(&self, row: &QueueRow) -> Option<&Claim> {
        self.claims.get(&row.contact_id)
    }

    /// `targets` without the rows other officers are on, and how many were left out: a bulk
    /// action never acts on those.
    fn unclaimed(&self, targets: Vec<QueueRow>) -> (Vec<QueueRow>, usize) {
        let before = targets.len();
        let free: Vec<QueueRow> = targets
            .into_iter()
            .filter(|r| self.claim_on(r).is_none())
            .collect();
        let left_out = before - free.len();
        (free, left_out)
    }

    /// Releases this window's claim once the cursor is on another member.
    fn release_if_moved_on(&mut self, shared: &Shared) {
        let Some(claimed) = self.my_claim else {
            return;
        };
        if self.current().map(|r| r.contact_id) == Some(claimed) || self.popup.is_some() {
            return;
        }
        self.my_claim = None;
        self.awaiting.insert(RELEASE);
        shared
            .db
            .request(PaneId::Renewals, RELEASE, move |store, clock| {
                claims::release(store, clock, &[claimed])
            });
    }

    /// The cursor to the next shown member nobody else is on.
    fn next_free(&mut self, shared: &Shared) {
        let next = (self.cursor + 1..self.arranged.order.len()).find(|&pos| {
            self.claim_on(&self.rows[self.arranged.order[pos]])
                .is_none()
        });
        match next {
            Some(pos) => {
                self.cursor = pos;
                self.scroll_to_cursor();
                self.release_if_moved_on(shared);
            }
            None => self.say("Nobody further down is free: every row below is someone else's"),
        }
    }

    fn set_rows(&mut self, rows: Vec<QueueRow>, shared: &Shared) {
        // Taken before the rows are replaced: the shown order indexes the old rows.
        let anchor = self.anchor();
        self.rows = rows;
        self.loaded = true;
        self.load_error = None;
        self.rearrange_keeping(anchor, shared);
    }

    /// The shown memberships, with the cursor.
    fn shown_ids(&self) -> Vec<i64> {
        self.arranged
            .order
            .iter()
            .map(|&i| self.rows[i].membership_id)
            .collect()
    }

    fn anchor(&self) -> CursorAnchor<i64> {
        CursorAnchor::at(&self.shown_ids(), self.cursor)
    }

    /// Applies the filters and order, keeping the cursor on the same membership if it is still
    /// shown (else on the one that was next), and dropping marks on rows no longer shown.
    fn rearrange(&mut self, shared: &Shared) {
        let anchor = self.anchor();
        self.rearrange_keeping(anchor, shared);
    }

    fn rearrange_keeping(&mut self, anchor: CursorAnchor<i64>, shared: &Shared) {
        let today = Self::today(shared);
        self.arranged = renewal::arrange(&self.rows, &self.filter, today, &shared.clock.user);
        self.lines.clear();
        self.line_of.clear();
        let mut previous: Option<Section> = None;
        let mut heading = 0;
        for (pos, &i) in self.arranged.order.iter().enumerate() {
            let section = self.rows[i].section(today);
            if previous != Some(section) {
                heading = self.lines.len();
                self.lines.push(ListLine::Heading(section, 0));
                previous = Some(section);
            }
            if let ListLine::Heading(_, n) = &mut self.lines[heading] {
                *n += 1;
            }
            self.line_of.push(self.lines.len());
            self.lines.push(ListLine::Row(pos));
        }
        let shown_ids = self.shown_ids();
        if !self.marked.is_empty() {
            let shown: HashSet<i64> = shown_ids.iter().copied().collect();
            self.marked.retain(|id| shown.contains(id));
        }
        self.cursor = anchor.resolve(&shown_ids);
        self.scroll_to_cursor();
    }

    fn scroll_to_cursor(&mut self) {
        let Some(&line) = self.line_of.get(self.cursor) else {
            self.offset = 0;
            return;
        };
        // Show a section's heading with its first row.
        let top = if line > 0 && matches!(self.lines[line - 1], ListLine::Heading(..)) {
            line - 1
        } else {
            line
        };
        let height = self.list_height.max(1);
        if top < self.offset {
            self.offset = top;
        } else if line >= self.offset + height {
            self.offset = line + 1 - height;
        }
        // No blank space below the last line while there are lines above the top.
        self.offset = self.offset.min(self.lines.len().saturating_sub(height));
    }

    // ------------------------------------------------------------------ moving

    fn move_cursor(&mut self, action: &str) -> bool {
        let (len, cursor) = match self.view {
            View::Queue => (self.arranged.order.len(), self.cursor),
            View::Renewed => (self.renewed.rows.len(), self.renewed_cursor),
        };
        let page = self.list_height.max(1);
        let last = len.saturating_sub(1);
        let to = match action {
            "up" => cursor.saturating_sub(1),
            "down" => (cursor + 1).min(last),
            "top" => 0,
            "bottom" => last,
            "page_up" => cursor.saturating_sub(page),
            "page_down" => (cursor + page).min(last),
            "half_page_up" => cursor.saturating_sub(page / 2),
            "half_page_down" => (cursor + page / 2).min(last),
            _ => return false,
        };
        match self.view {
            View::Queue => {
                self.cursor = to;
                self.scroll_to_cursor();
            }
            View::Renewed => {
                self.renewed_cursor = to;
                let height = self.list_height.max(1);
                if to < self.renewed_offset {
                    self.renewed_offset = to;
                } else if to >= self.renewed_offset + height {
                    self.renewed_offset = to + 1 - height;
                }
            }
        }
        true
    }

    fn toggle_mark(&mut self) {
        let Some(id) = self.current().map(|r| r.membership_id) else {
            return;
        };
        if !self.marked.remove(&id) {
            self.marked.insert(id);
        }
        self.anchor = Some(id);
        self.move_cursor("down");
    }

    fn mark_range(&mut self) {
        let Some(id) = self.current().map(|r| r.membership_id) else {
            return;
        };
        let from = self
            .anchor
            .and_then(|a| {
                self.arranged
                    .order
                    .iter()
                    .position(|&i| self.rows[i].membership_id == a)
            })
            .unwrap_or(self.cursor);
        let (lo, hi) = (from.min(self.cursor), from.max(self.cursor));
        for &i in &self.arranged.order[lo..=hi] {
            self.marked.insert(self.rows[i].membership_id);
        }
        self.anchor = Some(id);
    }

    fn mark_all(&mut self) {
        if self.marked.len() == self.arranged.order.len() {
            self.marked.clear();
        } else {
            self.marked = self
                .arranged
                .order
                .iter()
                .map(|&i| self.rows[i].membership_id)
                .collect();
        }
    }

    // ------------------------------------------------------------------ actions

    fn handle_queue_action(&mut self, action: &str, shared: &Shared) -> Effect {
        if self.move_cursor(action) {
            self.release_if_moved_on(shared);
            return Effect::None;
        }
        match action {
            "next_free" => self.next_free(shared),
            "select" => self.toggle_mark(),
            "select_range" => self.mark_range(),
            "select_all" => self.mark_all(),
            "back" => self.marked.clear(),
            "open" => {
                if let Some(row) = self.current() {
                    return Effect::OpenMember(row.contact_id);
                }
            }
            "escalate" => {
                if let Some(row) = self.current() {
                    return Effect::Escalate {
                        contact_id: row.contact_id,
                        membership_id: Some(row.membership_id),
                    };
                }
            }
            "filter" => self.popup = Some(Popup::FilterMenu),
            "cycle_bucket" => {
                self.filter.bucket = match self.filter.bucket {
                    None => Some(Bucket::Due),
                    Some(Bucket::Due) => Some(Bucket::Lapsed),
                    Some(Bucket::Lapsed) => None,
                };
                self.rearrange(shared);
            }
            "toggle_set_aside" => {
                self.filter.show_set_aside = !self.filter.show_set_aside;
                self.rearrange(shared);
            }
            "toggle_auto_renew" => {
                self.filter.show_auto_renew = !self.filter.show_auto_renew;
                self.rearrange(shared);
            }
            "renewed" => self.view = View::Renewed,
            "log_contact" | "log_contact_note" | "snooze" | "note" | "assign" => {
                let targets = match action {
                    // A note is on one membership: the cursor row, not the marked ones.
                    "note" => self.current().cloned().into_iter().collect(),
                    _ => self.targets(),
                };
                self.start(action, targets, shared);
            }
            "undo" => self.start_undo(shared),
            "write_letters" => return self.letters_request(shared),
            _ => {}
        }
        Effect::None
    }

    /// Letters to the marked rows (or every row shown), each row for its bucket's letter: the
    /// renewal reminder for the due, the win-back for the lapsed. The dialog starts on the
    /// lapsed letter when only the lapsed are shown.
    fn letters_request(&self, shared: &Shared) -> Effect {
        use crate::app::letters::{LetterRequest, Listed};
        use crate::domain::letters::LetterKind;
        let today = Self::today(shared);
        let members = self
            .arranged
            .order
            .iter()
            .map(|&i| &self.rows[i])
            .filter(|r| self.marked.is_empty() || self.marked.contains(&r.membership_id))
            .map(|r| Listed {
                wanted: crate::storage::letters::Wanted {
                    contact_id: r.contact_id,
                    membership_id: Some(r.membership_id),
                },
                fits: Some(match r.bucket(today) {
                    Bucket::Due => LetterKind::RenewalDue,
                    Bucket::Lapsed => LetterKind::Lapsed,
                }),
            })
            .collect::<Vec<_>>();
        let kind = match self.filter.bucket {
            Some(Bucket::Lapsed) => LetterKind::Lapsed,
            _ if members.iter().all(|m| m.fits == Some(LetterKind::Lapsed)) => LetterKind::Lapsed,
            _ => LetterKind::RenewalDue,
        };
        Effect::Letters(LetterRequest { members, kind })
    }

    fn handle_renewed_action(&mut self, action: &str) -> Effect {
        if self.move_cursor(action) {
            return Effect::None;
        }
        match action {
            "back" | "renewed" => self.view = View::Queue,
            "open" => {
                if let Some(row) = self.renewed.rows.get(self.renewed_cursor) {
                    return Effect::OpenMember(row.contact_id);
                }
            }
            _ => {}
        }
        Effect::None
    }

    /// Refuses a write up front when the store is read-only or a write is still on its way.
    fn can_write(&mut self, what: &str, shared: &Shared) -> bool {
        if let Some(why) = shared.access.read_only_because() {
            self.refuse(format!("Read-only ({why}): {what} was refused"));
            return false;
        }
        if self.awaiting.contains(WRITE) {
            self.refuse("Still saving the last change; try again in a moment");
            return false;
        }
        true
    }

    /// Opens the dialog of one of the actions on members (`log_contact`, `log_contact_note`,
    /// `snooze`, `note`, `assign`) for `targets`: from the queue, or from the member view.
    fn start(&mut self, action: &str, targets: Vec<QueueRow>, shared: &Shared) {
        let targets = if targets.len() > 1 {
            let (free, left_out) = self.unclaimed(targets);
            if left_out > 0 {
                self.say(format!(
                    "Left out {} that other officers are on",
                    members(left_out)
                ));
            }
            if free.is_empty() {
                return;
            }
            free
        } else {
            targets
        };
        match action {
            "log_contact" => self.start_attempt(false, targets, shared),
            "log_contact_note" => self.start_attempt(true, targets, shared),
            "snooze" => self.start_snooze(targets, shared),
            "note" => self.start_note(targets, shared),
            "assign" => self.start_assign(targets, shared),
            _ => {}
        }
    }

    /// Opens the contact dialog at once (keys typed ahead go to it) and, for one member, claims
    /// them on the way; when another officer is known to be on them, asks first. Marked rows
    /// are contacted without claims (a bulk action claims nobody).
    fn start_attempt(&mut self, with_note: bool, targets: Vec<QueueRow>, shared: &Shared) {
        if !self.can_write("logging a contact attempt", shared) {
            return;
        }
        let [one] = targets.as_slice() else {
            self.open_contact_dialog(targets, with_note);
            return;
        };
        if let Some(held) = self.claim_on(one) {
            self.popup = Some(held_question(held, targets, with_note));
            return;
        }
        let contact = one.contact_id;
        let minutes = shared.config.team.claim_minutes;
        self.awaiting.insert(CLAIM);
        shared
            .db
            .request(PaneId::Renewals, CLAIM, move |store, clock| {
                claims::claim(store, clock, contact, minutes, false).map(|c| (contact, c))
            });
        self.open_contact_dialog(targets, with_note);
    }

    /// The one member the open contact dialog is for, with the dialog's targets and note flag.
    fn dialog_member(&self) -> Option<(i64, Vec<QueueRow>, bool)> {
        let (targets, with_note) = match self.popup.as_ref()? {
            Popup::Channel {
                targets, with_note, ..
            }
            | Popup::Outcome {
                targets, with_note, ..
            } => (targets, *with_note),
            Popup::AttemptNote { targets, .. } => (targets, true),
            _ => return None,
        };
        match targets.as_slice() {
            [one] => Some((one.contact_id, targets.clone(), with_note)),
            _ => None,
        }
    }

    fn open_contact_dialog(&mut self, targets: Vec<QueueRow>, with_note: bool) {
        if targets.is_empty() {
            return;
        }
        let chooser = channel_chooser(&targets);
        self.popup = Some(Popup::Channel {
            targets,
            with_note,
            chooser,
        });
    }

    fn start_snooze(&mut self, targets: Vec<QueueRow>, shared: &Shared) {
        if !self.can_write("setting a next action date", shared) {
            return;
        }
        let Some(first) = targets.first() else {
            return;
        };
        let mut prompt = TextPrompt::new(match targets.len() {
            1 => "Next action date: YYYY-MM-DD or +N days; empty clears".to_owned(),
            n => format!("Next action for {n}: YYYY-MM-DD or +N days; empty clears"),
        });
        if let (1, Some(until)) = (targets.len(), first.snoozed_until) {
            prompt = prompt.with_text(&until.to_string());
        }
        self.popup = Some(Popup::Snooze { targets, prompt });
    }

    fn start_note(&mut self, targets: Vec<QueueRow>, shared: &Shared) {
        if !self.can_write("adding a note", shared) {
            return;
        }
        if let Some(row) = targets.first() {
            let target = Target::from(row);
            self.popup = Some(Popup::Note {
                target,
                prompt: TextPrompt::new("Note on this membership (Alt-Enter: new line)")
                    .multi_line(),
            });
        }
    }

    fn start_assign(&mut self, targets: Vec<QueueRow>, shared: &Shared) {
        if !self.can_write("assigning members", shared) {
            return;
        }
        if targets.is_empty() {
            return;
        }
        // Empty, to type a new name into; Tab offers your own.
        let prompt = TextPrompt::new(format!(
            "Assign {} to (staff name; Tab: {}; empty unassigns)",
            members(targets.len()),
            shared.clock.user
        ))
        .with_completions(vec![shared.clock.user.clone()])
        .with_choices(shared.assignees());
        self.popup = Some(Popup::Assign { targets, prompt });
    }

    fn start_undo(&mut self, shared: &Shared) {
        if self.undo.is_empty() {
            self.refuse("Nothing to undo");
            return;
        }
        if !self.can_write("undoing the last action", shared) {
            return;
        }
        let Some(entry) = self.undo.pop() else {
            return;
        };
        if entry.rows > 1 {
            self.popup = Some(Popup::Confirm {
                dialog: ConfirmDialog::new(format!("Undo {}?", entry.what)),
                then: AfterConfirm::Write(Write::Undo(entry)),
            });
        } else {
            self.write(Write::Undo(entry), shared);
        }
    }

    fn write(&mut self, write: Write, shared: &Shared) {
        self.awaiting.insert(WRITE);
        shared
            .db
            .request(PaneId::Renewals, WRITE, move |store, clock| {
                write.run(store, clock)
            });
    }

    // ------------------------------------------------------------------ popups

    fn handle_popup_key(&mut self, key: KeyEvent, shared: &Shared) -> Effect {
        let Some(popup) = self.popup.take() else {
            return Effect::None;
        };
        self.popup = match popup {
            Popup::Channel {
                targets,
                with_note,
                chooser,
            } => match chooser.pick(key) {
                Choice::Picked(c) => match Channel::from_key(c) {
                    Some(channel) => self.after_channel(targets, channel, with_note),
                    None => None,
                },
                Choice::Cancelled => None,
                Choice::Waiting => Some(Popup::Channel {
                    targets,
                    with_note,
                    chooser,
                }),
            },
            Popup::Outcome {
                targets,
                channel,
                with_note,
                chooser,
            } => match chooser.pick(key) {
                Choice::Picked(c) => match Outcome::from_key(c) {
                    Some(outcome) if with_note => Some(Popup::AttemptNote {
                        prompt: TextPrompt::new(format!(
                            "Note for {} (optional; Enter saves)",
                            attempt_label(channel, outcome)
                        )),
                        targets,
                        channel,
                        outcome,
                    }),
                    Some(outcome) => {
                        self.finish_attempt(targets, channel, outcome, String::new(), shared)
                    }
                    None => None,
                },
                Choice::Cancelled => None,
                Choice::Waiting => Some(Popup::Outcome {
                    targets,
                    channel,
                    with_note,
                    chooser,
                }),
            },
            Popup::AttemptNote {
                targets,
                channel,
                outcome,
                mut prompt,
            } => match prompt.handle(key) {
                PromptOutcome::Submitted(note) => {
                    self.finish_attempt(targets, channel, outcome, note.trim().to_owned(), shared)
                }
                PromptOutcome::Cancelled => None,
                PromptOutcome::Editing => Some(Popup::AttemptNote {
                    targets,
                    channel,
                    outcome,
                    prompt,
                }),
            },
            Popup::Confirm { dialog, then } => match dialog.handle(key) {
                Answer::Yes => match then {
                    AfterConfirm::ContactAnyway { targets, with_note } => {
                        self.anyway = targets.first().map(|r| r.contact_id);
                        self.open_contact_dialog(targets, with_note);
                        self.popup.take()
                    }
                    AfterConfirm::ChooseOutcome {
                        targets,
                        channel,
                        with_note,
                    } => Some(outcome_popup(targets, channel, with_note)),
                    AfterConfirm::Write(write) => {
                        self.write(write, shared);
                        None
                    }
                },
                Answer::No => {
                    if let AfterConfirm::Write(Write::Undo(entry)) = then {
                        self.undo.push(entry);
                    }
                    None
                }
                Answer::Waiting => Some(Popup::Confirm { dialog, then }),
            },
            Popup::Snooze {
                targets,
                mut prompt,
            } => match prompt.handle(key) {
                PromptOutcome::Submitted(text) => {
                    self.submit_snooze(targets, prompt, &text, shared)
                }
                PromptOutcome::Cancelled => None,
                PromptOutcome::Editing => Some(Popup::Snooze { targets, prompt }),
            },
            Popup::Note { target, mut prompt } => match prompt.handle(key) {
                PromptOutcome::Submitted(text) if text.trim().is_empty() => {
                    prompt.refuse("a note needs some text; Esc cancels");
                    Some(Popup::Note { target, prompt })
                }
                PromptOutcome::Submitted(body) => {
                    self.write(Write::Note { target, body }, shared);
                    None
                }
                PromptOutcome::Cancelled => None,
                PromptOutcome::Editing => Some(Popup::Note { target, prompt }),
            },
            Popup::Assign {
                targets,
                mut prompt,
            } => match prompt.handle(key) {
                PromptOutcome::Submitted(text) => {
                    self.submit_assign(targets, prompt, &text, shared)
                }
                PromptOutcome::Cancelled => None,
                PromptOutcome::Editing => Some(Popup::Assign { targets, prompt }),
            },
            Popup::FilterMenu => self.filter_menu_key(key, shared),
            Popup::FilterText { field, mut prompt } => match prompt.handle(key) {
                PromptOutcome::Submitted(text) => match self.apply_text_filter(field, &text) {
                    Ok(()) => {
                        self.rearrange(shared);
                        Some(Popup::FilterMenu)
                    }
                    Err(why) => {
                        prompt.refuse(why);
                        Some(Popup::FilterText { field, prompt })
                    }
                },
                PromptOutcome::Cancelled => Some(Popup::FilterMenu),
                PromptOutcome::Editing => Some(Popup::FilterText { field, prompt }),
            },
        };
        Effect::None
    }

    /// After the channel key: ask first if this goes against a member's wishes (one member), or
    /// go on to the outcome (bulk actions skip such members, and say so before confirming).
    fn after_channel(
        &mut self,
        targets: Vec<QueueRow>,
        channel: Channel,
        with_note: bool,
    ) -> Option<Popup> {
        if let [only] = targets.as_slice()
            && self.marked.is_empty()
            && let Some(flag) =
                renewal::preference_conflict(channel, &only.flags, only.last_contact.as_ref())
        {
            return Some(Popup::Confirm {
                dialog: ConfirmDialog::new(format!(
                    "This member's preference: {flag}. Log {} contact anyway?",
                    crate::text::with_article(channel.label())
                )),
                then: AfterConfirm::ChooseOutcome {
                    targets,
                    channel,
                    with_note,
                },
            });
        }
        Some(outcome_popup(targets, channel, with_note))
    }

    fn finish_attempt(
        &mut self,
        targets: Vec<QueueRow>,
        channel: Channel,
        outcome: Outcome,
        note: String,
        shared: &Shared,
    ) -> Option<Popup> {
        let attempt = NewAttempt {
            channel,
            outcome,
            note,
        };
        if !self.bulk() {
            let despite_claim =
                targets.first().map(|r| r.contact_id) == self.anyway.take() && targets.len() == 1;
            let targets = targets.iter().map(Target::from).collect();
            self.write(
                Write::Attempts {
                    targets,
                    attempt,
                    despite_claim,
                },
                shared,
            );
            return None;
        }
        let (allowed, skipped) = split_by_preference(&targets, channel);
        let label = attempt_label(channel, outcome);
        if allowed.is_empty() {
            self.refuse(format!(
                "None of the {} marked can be contacted by {} ({})",
                targets.len(),
                channel.label(),
                describe_skipped(&skipped)
            ));
            return None;
        }
        let mut question = format!("Log \"{label}\" for {}?", members(allowed.len()));
        if !skipped.is_empty() {
            question.push_str(&format!(
                " Left out by their preferences: {}.",
                describe_skipped(&skipped)
            ));
        }
        Some(Popup::Confirm {
            dialog: ConfirmDialog::new(question),
            then: AfterConfirm::Write(Write::Attempts {
                targets: allowed,
                attempt,
                despite_claim: false,
            }),
        })
    }

    fn submit_snooze(
        &mut self,
        targets: Vec<QueueRow>,
        mut prompt: TextPrompt,
        text: &str,
        shared: &Shared,
    ) -> Option<Popup> {
        let until = if text.trim().is_empty() {
            if targets.iter().all(|t| t.snoozed_until.is_none()) {
                self.refuse("No next action date to clear");
                return None;
            }
            None
        } else {
            match renewal::parse_snooze(text, Self::today(shared)) {
                Ok(d) => Some(d),
                Err(why) => {
                    prompt.refuse(why);
                    return Some(Popup::Snooze { targets, prompt });
                }
            }
        };
        let write = Write::Snooze {
            targets: targets.iter().map(Target::from).collect(),
            until,
        };
        if let Some(question) = until.and_then(|d| past_grace_question(&targets, d, shared)) {
            return Some(Popup::Confirm {
                dialog: ConfirmDialog::new(question),
                then: AfterConfirm::Write(write),
            });
        }
        if !self.bulk() {
            self.write(write, shared);
            return None;
        }
        let question = match until {
            Some(d) => format!(
                "Set the next action date {d} for {}?",
                members(targets.len())
            ),
            None => format!("Clear the next action date for {}?", members(targets.len())),
        };
        Some(Popup::Confirm {
            dialog: ConfirmDialog::new(question),
            then: AfterConfirm::Write(write),
        })
    }

    fn submit_assign(
        &mut self,
        targets: Vec<QueueRow>,
        mut prompt: TextPrompt,
        text: &str,
        shared: &Shared,
    ) -> Option<Popup> {
        let name = text.trim();
        if name.chars().count() > 64 || name.chars().any(char::is_control) {
            prompt.refuse("a staff name is 1 to 64 printable characters");
            return Some(Popup::Assign { targets, prompt });
        }
        if name.is_empty() && targets.iter().all(|t| t.assignee.is_none()) {
            self.refuse("Nobody is assigned there to unassign");
            return None;
        }
        let assignee = (!name.is_empty()).then(|| name.to_owned());
        let write = Write::Assign {
            contact_ids: targets.iter().map(|t| t.contact_id).collect(),
            assignee: assignee.clone(),
        };
        if !self.bulk() {
            self.write(write, shared);
            return None;
        }
        let question = match assignee {
            Some(who) => format!("Assign {} to {who}?", members(targets.len())),
            None => format!("Unassign {}?", members(targets.len())),
        };
        Some(Popup::Confirm {
            dialog: ConfirmDialog::new(question),
            then: AfterConfirm::Write(write),
        })
    }

    fn filter_menu_key(&mut self, key: KeyEvent, shared: &Shared) -> Option<Popup> {
        let menu = filter_menu(&self.filter);
        let rows = &self.rows;
        let text = |field: TextFilter, value: Option<String>| {
            let prompt = TextPrompt::new(field.title()).with_completions(field.completions(rows));
            Some(Popup::FilterText {
                field,
                prompt: match value {
                    Some(v) => prompt.with_text(&v),
                    None => prompt,
                },
            })
        };
        let picked = match menu.pick(key) {
            Choice::Picked(c) => c,
            Choice::Cancelled => return None,
            Choice::Waiting if key.code == ratatui::crossterm::event::KeyCode::Enter => {
                return None;
            }
            Choice::Waiting => return Some(Popup::FilterMenu),
        };
        let f = &mut self.filter;
        match picked {
            'b' => {
                f.bucket = match f.bucket {
                    None => Some(Bucket::Due),
                    Some(Bucket::Due) => Some(Bucket::Lapsed),
                    Some(Bucket::Lapsed) => None,
                }
            }
            'r' => return text(TextFilter::Region, f.region.clone()),
            'l' => return text(TextFilter::LocalParty, f.local_party.clone()),
            't' => return text(TextFilter::MembershipType, f.membership_type.clone()),
            'd' => {
                return text(
                    TextFilter::NotContactedDays,
                    f.not_contacted_days.map(|n| n.to_string()),
                );
            }
            'w' => f.welsh_only = !f.welsh_only,
            'm' => f.assigned_to_me = !f.assigned_to_me,
            'z' => f.show_set_aside = !f.show_set_aside,
            'a' => f.show_auto_renew = !f.show_auto_renew,
            'x' => {
                *f = QueueFilter {
                    show_set_aside: f.show_set_aside,
                    show_auto_renew: f.show_auto_renew,
                    ..QueueFilter::default()
                };
            }
            _ => {}
        }
        self.rearrange(shared);
        Some(Popup::FilterMenu)
    }

    /// Sets a text filter from what was typed. Region, local party and type must name a value
    /// some loaded row has (any case), so a typo is caught instead of emptying the queue.
    fn apply_text_filter(&mut self, field: TextFilter, text: &str) -> Result<(), String> {
        let text = text.trim();
        if field == TextFilter::NotContactedDays {
            self.filter.not_contacted_days = if text.is_empty() {
                None
            } else {
                let n: u32 = text
                    .parse()
                    .ok()
                    .filter(|n| (1..=3650).contains(n))
                    .ok_or_else(|| format!("`{text}` is not a number of days from 1 to 3650"))?;
                Some(n)
            };
            return Ok(());
        }
        let value_of = |r: &QueueRow| -> String {
            match field {
                TextFilter::Region => r.region.clone(),
                TextFilter::LocalParty => r.local_party.clone(),
                _ => r.membership_type.clone(),
            }
        };
        let value = if text.is_empty() {
            None
        } else {
            let known = self
                .rows
                .iter()
                .map(value_of)
                .find(|v| v.trim().eq_ignore_ascii_case(text));
            match known {
                Some(v) => Some(v),
                None => return Err(self.unknown_value(text, value_of)),
            }
        };
        match field {
            TextFilter::Region => self.filter.region = value,
            TextFilter::LocalParty => self.filter.local_party = value,
            _ => self.filter.membership_type = value,
        }
        Ok(())
    }

    /// "none in the queue; did you mean Cardiff West, Cardiff North?"
    fn unknown_value(&self, text: &str, value_of: impl Fn(&QueueRow) -> String) -> String {
        let prefix: String = text.chars().take(3).collect::<String>().to_lowercase();
        let mut near: Vec<String> = self
            .rows
            .iter()
            .map(value_of)
            .filter(|v| !v.is_empty() && v.to_lowercase().starts_with(&prefix))
            .collect();
        near.sort();
        near.dedup();
        near.truncate(3);
        if near.is_empty() {
            "none in the queue".to_owned()
        } else {
            format!("none in the queue; did you mean {}?", near.join(", "))
        }
    }
}

fn outcome_popup(targets: Vec<QueueRow>, channel: Channel, with_note: bool) -> Popup {
    let items = Outcome::ALL
        .into_iter()
        .map(|o| ChooserItem::new(o.key(), o.label_for(channel)))
        .collect();
    let title = format!(
        "{} for {}: outcome",
        capitalised(channel.label()),
        members(targets.len())
    );
    Popup::Outcome {
        chooser: Chooser::new(title, items),
        targets,
        channel,
        with_note,
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The channel step, naming beside each channel the preference it would go against.
fn channel_chooser(targets: &[QueueRow]) -> Chooser {
    let items = Channel::ALL
        .into_iter()
        .map(|channel| {
            let item = ChooserItem::new(channel.key(), channel.label());
            match targets {
                [only] => item.warn(
                    renewal::preference_conflict(channel, &only.flags, only.last_contact.as_ref())
                        .unwrap_or_default(),
                ),
                _ => {
                    let (_, skipped) = split_by_preference(targets, channel);
                    let n: usize = skipped.iter().map(|(_, n)| n).sum();
                    item.warn(if n > 0 {
                        format!("{n} left out")
                    } else {
                        String::new()
                    })
                }
            }
        })
        .collect();
    Chooser::new(
        format!("Contact {}: channel", members(targets.len())),
        items,
    )
}

/// Splits a bulk action's rows into those it may reach by `channel` and counts of the others by
/// the preference that rules them out.
fn split_by_preference(
    targets: &[QueueRow],
    channel: Channel,
) -> (Vec<Target>, Vec<(&'static str, usize)>) {
    let mut allowed = Vec::new();
    let mut skipped: Vec<(&'static str, usize)> = Vec::new();
    for row in targets {
        match renewal::bulk_preference_conflict(channel, &row.flags, row.last_contact.as_ref()) {
            None => allowed.push(Target::from(row)),
            Some(flag) => match skipped.iter_mut().find(|(f, _)| *f == flag) {
                Some((_, n)) => *n += 1,
                None => skipped.push((flag, 1)),
            },
        }
    }
    (allowed, skipped)
}

fn describe_skipped(skipped: &[(&str, usize)]) -> String {
    skipped
        .iter()
        .map(|(flag, n)| format!("{n} {flag}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

/// The filter menu, with each filter's current value.
fn filter_menu(f: &QueueFilter) -> Chooser {
    let any = |v: &Option<String>| v.clone().unwrap_or_else(|| "any".to_owned());
    let items = vec![
        ChooserItem::new('b', "bucket").note(f.bucket.map_or("both", Bucket::as_str)),
        ChooserItem::new('r', "region").note(any(&f.region)),
        ChooserItem::new('l', "local party").note(any(&f.local_party)),
        ChooserItem::new('t', "membership type").note(any(&f.membership_type)),
        ChooserItem::new('d', "not contacted in N days").note(
            f.not_contacted_days
                .map_or("any".to_owned(), |n| n.to_string()),
        ),
        ChooserItem::new('w', "Welsh speakers only").note(on_off(f.welsh_only)),
        ChooserItem::new('m', "assigned to me only").note(on_off(f.assigned_to_me)),
        ChooserItem::new('z', "show snoozed and settled").note(on_off(f.show_set_aside)),
        ChooserItem::new('a', "show auto-renewing").note(on_off(f.show_auto_renew)),
        ChooserItem::new('x', "clear the filters"),
    ];
    Chooser::new("Filter the queue", items).footer("Enter or Esc closes")
}

impl Pane for RenewalsPane {
    fn id(&self) -> PaneId {
        PaneId::Renewals
    }

    fn commands(&self) -> &'static [Command] {
        COMMANDS
    }

    fn refresh(&mut self, shared: &Shared) {
        self.load(shared);
    }

    fn handle(&mut self, input: PaneInput, shared: &Shared) -> Effect {
        match input {
            PaneInput::Key(key) => self.handle_popup_key(key, shared),
            PaneInput::Action(_) if self.popup.is_some() => Effect::None,
            PaneInput::Action(action) => match self.view {
                View::Queue => self.handle_queue_action(action, shared),
                View::Renewed => self.handle_renewed_action(action),
            },
        }
    }

    /// The member view's contact, note, snooze and assign open this pane's own dialogs, on the
    /// queue's row for that membership when the queue holds it (its last contact, next action
    /// date and assignee), else on the member view's own.
    fn act_for_member(&mut self, action: &str, member: &QueueRow, shared: &Shared) -> Effect {
        let row = self
            .rows
            .iter()
            .find(|r| r.membership_id == member.membership_id)
            .cloned()
            .unwrap_or_else(|| member.clone());
        self.message = None;
        self.start(action, vec![row], shared);
        match (&self.popup, &self.message) {
            (None, Some(refused)) => Effect::Status(refused.text.clone()),
            _ => Effect::None,
        }
    }

    fn draw_dialog(&mut self, frame: &mut Frame, area: Rect, shared: &Shared) {
        draw::draw_dialog(self, frame, area, shared.theme);
    }

    fn on_reply(&mut self, reply: DbReply, shared: &Shared) -> Effect {
        self.awaiting.remove(reply.key);
        match reply.key {
            LOAD_QUEUE => match reply.take::<Vec<QueueRow>>() {
                Ok(rows) => self.set_rows(rows, shared),
                Err(e) => self.load_error = Some(e),
            },
            LOAD_RENEWED => match reply.take::<RenewedSummary>() {
                Ok(summary) => {
                    self.renewed = summary;
                    self.renewed_cursor = self
                        .renewed_cursor
                        .min(self.renewed.rows.len().saturating_sub(1));
                }
                Err(e) => self.load_error = Some(e),
            },
            LOAD_CLAIMS => match reply.take::<HashMap<i64, Claim>>() {
                Ok(held) => {
                    self.claims = held;
                    self.rearrange(shared);
                }
                Err(e) => self.load_error = Some(e),
            },
            CLAIM => match reply.take::<(i64, Claimed)>() {
                Ok((contact, Claimed::Yours { .. })) => self.my_claim = Some(contact),
                Ok((contact, Claimed::HeldBy(held))) => {
                    // Taken a moment before this window asked: the dialog gives way to the
                    // question (and a write already on its way is refused by the job).
                    if let Some((open_for, targets, with_note)) = self.dialog_member()
                        && open_for == contact
                    {
                        self.popup = Some(held_question(&held, targets, with_note));
                    }
                    self.claims.insert(contact, held);
                    self.rearrange(shared);
                }
                Err(e) => self.refuse(e),
            },
            RELEASE => {
                if let Err(e) = reply.take::<usize>() {
                    self.refuse(e);
                }
            }
            WRITE => match reply.take::<Written>() {
                Ok(written) => {
                    if let Some(entry) = written.undo {
                        self.undo.push(entry);
                    }
                    if written.clears_marks {
                        self.marked.clear();
                    }
                    self.say(written.message);
                    self.load(shared);
                    return Effect::DataChanged;
                }
                Err(e) => self.refuse(e),
            },
            _ => {}
        }
        Effect::None
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, shared: &Shared) {
        draw::draw(self, frame, area, shared);
    }

    fn wants_raw_keys(&self) -> bool {
        self.popup.is_some()
    }

    fn save_state(&self) -> Option<String> {
        serde_json::to_string(&SavedState {
            filter: self.filter.clone(),
        })
        .ok()
    }

    fn restore_state(&mut self, state: &str) {
        // A state from an older rollcall that no longer parses is dropped: filters are a
        // convenience, not data.
        if let Ok(saved) = serde_json::from_str::<SavedState>(state) {
            self.filter = saved.filter;
        }
    }
}
