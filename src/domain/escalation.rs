//! Escalations: member concerns, complaints and problems, each with an owner, a deadline and a
//! history. This module holds the rules (categories, priorities, statuses, due dates, which
//! status changes are allowed); storage::escalations applies them to the database.
//!
//! Every enum has a stored spelling (`as_str`, what the `escalations` table and `--json` hold), a
//! label for people, and a forgiving parser for the command line (case-insensitive, `-` or space
//! for `_`, a few aliases) whose error names the accepted values.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

use super::dates::{add_months, add_working_days, days_between};
use crate::config::EscalationsConfig;

/// The text a staff name (assignee) may be: the same rule as `--user`.
const MAX_STAFF_NAME: usize = 64;
/// Titles are one line in a list; longer text belongs in the description.
pub const MAX_TITLE: usize = 200;

/// What the escalation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    Complaint,
    RenewalPayment,
    MemberConcern,
    DataProtection,
    Safeguarding,
    DisputeDisciplinary,
    Other,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::Complaint,
        Category::RenewalPayment,
        Category::MemberConcern,
        Category::DataProtection,
        Category::Safeguarding,
        Category::DisputeDisciplinary,
        Category::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Complaint => "complaint",
            Category::RenewalPayment => "renewal_payment",
            Category::MemberConcern => "member_concern",
            Category::DataProtection => "data_protection",
            Category::Safeguarding => "safeguarding",
            Category::DisputeDisciplinary => "dispute_disciplinary",
            Category::Other => "other",
        }
    }

    /// Seen and handled by coordinators only, though anyone may raise one (on a team database
    /// the server enforces it: `storage::team_access`).
    pub fn is_restricted(self) -> bool {
        matches!(self, Category::DataProtection | Category::Safeguarding)
    }

    pub fn label(self) -> &'static str {
        match self {
            Category::Complaint => "Complaint",
            Category::RenewalPayment => "Renewal or payment problem",
            Category::MemberConcern => "Member concern",
            Category::DataProtection => "Data protection request",
            Category::Safeguarding => "Safeguarding",
            Category::DisputeDisciplinary => "Dispute or disciplinary",
            Category::Other => "Other",
        }
    }

    /// At most 15 characters, for a list column. Sensitive categories are upper case so that they
    /// stand out without relying on colour.
    pub fn short_label(self) -> &'static str {
        match self {
            Category::Complaint => "Complaint",
            Category::RenewalPayment => "Renewal/payment",
            Category::MemberConcern => "Member concern",
            Category::DataProtection => "DATA PROTECTION",
            Category::Safeguarding => "SAFEGUARDING",
            Category::DisputeDisciplinary => "Dispute/discip.",
            Category::Other => "Other",
        }
    }

    /// Safeguarding and data protection cases: shown prominently, and their description never
    /// appears in a list row.
    pub fn is_sensitive(self) -> bool {
        matches!(self, Category::Safeguarding | Category::DataProtection)
    }

    /// The title a new escalation of this category starts with (no personal data).
    pub fn default_title(self) -> &'static str {
        match self {
            Category::RenewalPayment => "Renewal problem",
            Category::DataProtection => "Data protection request",
            other => other.label(),
        }
    }

    fn aliases(self) -> &'static [&'static str] {
        match self {
            Category::Complaint => &[],
            Category::RenewalPayment => &["renewal", "payment", "renewal_or_payment"],
            Category::MemberConcern => &["concern"],
            Category::DataProtection => &["dp", "gdpr", "data_protection_request"],
            Category::Safeguarding => &[],
            Category::DisputeDisciplinary => {
                &["dispute", "disciplinary", "dispute_or_disciplinary"]
            }
            Category::Other => &[],
        }
    }
}

/// How soon it must be dealt with; sets the due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Priority {
    Urgent,
    High,
    Normal,
    Low,
}

impl Priority {
    pub const ALL: [Priority; 4] = [
        Priority::Urgent,
        Priority::High,
        Priority::Normal,
        Priority::Low,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Urgent => "urgent",
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Low => "low",
        }
    }

    pub fn label(self) -> &'static str {
        self.as_str()
    }

    /// The working-day target for this priority.
    pub fn working_days(self, targets: &EscalationsConfig) -> u32 {
        match self {
            Priority::Urgent => targets.urgent_days,
            Priority::High => targets.high_days,
            Priority::Normal => targets.normal_days,
            Priority::Low => targets.low_days,
        }
    }

    fn aliases(self) -> &'static [&'static str] {
        match self {
            Priority::Normal => &["medium"],
            _ => &[],
        }
    }
}

/// Where an escalation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Open,
    InProgress,
    WaitingOnMember,
    Resolved,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Open,
        Status::InProgress,
        Status::WaitingOnMember,
        Status::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::InProgress => "in_progress",
            Status::WaitingOnMember => "waiting_on_member",
            Status::Resolved => "resolved",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::InProgress => "in progress",
            Status::WaitingOnMember => "waiting on member",
            Status::Resolved => "resolved",
        }
    }

    /// At most 11 characters, for a list column.
    pub fn short_label(self) -> &'static str {
        match self {
            Status::WaitingOnMember => "waiting",
            other => other.label(),
        }
    }

    pub fn is_resolved(self) -> bool {
        self == Status::Resolved
    }

    /// The statuses this one may move to. `Resolved` needs a resolution note (see
    /// [`check_resolve`]); a resolved escalation moves on only by being reopened
    /// ([`check_reopen`]), so it has none.
    pub fn next(self) -> &'static [Status] {
        match self {
            Status::Open => &[Status::InProgress, Status::Resolved],
            Status::InProgress => &[Status::WaitingOnMember, Status::Resolved],
            Status::WaitingOnMember => &[Status::InProgress, Status::Resolved],
            Status::Resolved => &[],
        }
    }

    fn aliases(self) -> &'static [&'static str] {
        match self {
            Status::InProgress => &["progress"],
            Status::WaitingOnMember => &["waiting"],
            Status::Resolved => &["closed", "done"],
            Status::Open => &[],
        }
    }
}

/// The kinds of timeline entry (`escalation_events.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Opened,
    Comment,
    Status,
    Assignee,
    Priority,
    Resolved,
    Reopened,
}

impl EventKind {
    pub const ALL: [EventKind; 7] = [
        EventKind::Opened,
        EventKind::Comment,
        EventKind::Status,
        EventKind::Assignee,
        EventKind::Priority,
        EventKind::Resolved,
        EventKind::Reopened,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Opened => "opened",
            EventKind::Comment => "comment",
            EventKind::Status => "status",
            EventKind::Assignee => "assignee",
            EventKind::Priority => "priority",
            EventKind::Resolved => "resolved",
            EventKind::Reopened => "reopened",
        }
    }

    fn aliases(self) -> &'static [&'static str] {
        &[]
    }
}

/// Which escalations a list shows. The first five are the pane's views, in the order `v` cycles
/// them; `All` (open and resolved) is for `rollcall escalations --all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    /// Not resolved, assigned to the staff member using rollcall.
    Mine,
    /// Not resolved, nobody assigned.
    Unassigned,
    /// Not resolved, due date before today.
    Overdue,
    /// Not resolved.
    Open,
    Resolved,
    All,
}

impl View {
    pub const PANE: [View; 5] = [
        View::Mine,
        View::Unassigned,
        View::Overdue,
        View::Open,
        View::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            View::Mine => "mine",
            View::Unassigned => "unassigned",
            View::Overdue => "overdue",
            View::Open => "open",
            View::Resolved => "resolved",
            View::All => "all",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            View::Mine => "Mine",
            View::Unassigned => "Unassigned",
            View::Overdue => "Overdue",
            View::Open => "All open",
            View::Resolved => "Resolved",
            View::All => "All",
        }
    }

    /// The next pane view, round to the first (`All` is not a pane view; it leads to `Mine`).
    pub fn next(self) -> View {
        match View::PANE.iter().position(|v| *v == self) {
            Some(i) => View::PANE[(i + 1) % View::PANE.len()],
            None => View::PANE[0],
        }
    }

    pub fn previous(self) -> View {
        match View::PANE.iter().position(|v| *v == self) {
            Some(i) => View::PANE[(i + View::PANE.len() - 1) % View::PANE.len()],
            None => View::PANE[0],
        }
    }

    fn aliases(self) -> &'static [&'static str] {
        match self {
            View::Open => &["all_open"],
            _ => &[],
        }
    }
}

/// The spellings shared by every enum here, so that one parser serves them all.
trait Spelled: Copy + 'static {
    const KIND: &'static str;
    fn all() -> &'static [Self];
    fn stored(self) -> &'static str;
    fn other_names(self) -> &'static [&'static str];
}

macro_rules! spelled {
    ($ty:ty, $kind:literal, $all:expr) => {
        impl Spelled for $ty {
            const KIND: &'static str = $kind;
            fn all() -> &'static [Self] {
                &$all
            }
            fn stored(self) -> &'static str {
                self.as_str()
            }
            fn other_names(self) -> &'static [&'static str] {
                self.aliases()
            }
        }

        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                parse_spelled(s)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

impl EventKind {
    fn label(self) -> &'static str {
        self.as_str()
    }
}

spelled!(Category, "category", Category::ALL);
spelled!(Priority, "priority", Priority::ALL);
spelled!(Status, "status", Status::ALL);
spelled!(EventKind, "timeline entry kind", EventKind::ALL);
spelled!(
    View,
    "view",
    [
        View::Mine,
        View::Unassigned,
        View::Overdue,
        View::Open,
        View::Resolved,
        View::All
    ]
);

/// Case-insensitive; `-` and spaces count as `_`. The error lists the stored spellings.
fn parse_spelled<T: Spelled>(s: &str) -> Result<T, String> {
    let wanted = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    T::all()
        .iter()
        .copied()
        .find(|v| v.stored() == wanted || v.other_names().contains(&wanted.as_str()))
        .ok_or_else(|| {
            let names: Vec<&str> = T::all().iter().map(|v| v.stored()).collect();
            format!(
                "unknown {} `{}`; use one of: {}",
                T::KIND,
                s.trim(),
                names.join(", ")
            )
        })
}

/// When an escalation opened on `opened` is due: the priority's working-day target (weekends
/// skipped, bank holidays not modelled: see [`add_working_days`]), except that a data protection
/// request is due one calendar month after it was opened whatever its priority (UK GDPR's
/// deadline for subject access and erasure requests; 31 Jan → 28/29 Feb).
///
/// A change of priority recomputes the due date with this same function from the date the
/// escalation was *opened*, not from the day of the change: raising a week-old normal case to
/// urgent makes it due the day after it was opened, i.e. overdue, which is the honest answer.
pub fn due_date(
    category: Category,
    priority: Priority,
    opened: NaiveDate,
    targets: &EscalationsConfig,
) -> NaiveDate {
    if category == Category::DataProtection {
        return add_months(opened, 1);
    }
    add_working_days(opened, priority.working_days(targets))
}

/// Where a due date stands on `today`. Waiting on the member pauses nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueState {
    /// Due before today: by this many days.
    Overdue(i64),
    DueToday,
    /// Due in this many days.
    DueIn(i64),
    /// Resolved: the due date no longer matters.
    Closed,
}

pub fn due_state(due: NaiveDate, status: Status, today: NaiveDate) -> DueState {
    if status.is_resolved() {
        return DueState::Closed;
    }
    match days_between(today, due) {
        d if d < 0 => DueState::Overdue(-d),
        0 => DueState::DueToday,
        d => DueState::DueIn(d),
    }
}

/// Whole days since the escalation was opened.
pub fn age_days(opened: NaiveDate, today: NaiveDate) -> i64 {
    days_between(opened, today).max(0)
}

/// A change the rules refuse, with what to do instead. Never holds a member's data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("the escalation is already {}", .0.label())]
    SameStatus(Status),
    #[error(
        "an escalation that is {} cannot go to {}; it can go to: {}",
        .from.label(), .to.label(), allowed_list(*.from)
    )]
    NotAllowed { from: Status, to: Status },
    #[error(
        "resolving needs a resolution note: use resolve (`r`, or the status chooser's Resolved)"
    )]
    ResolveNeedsNote,
    #[error("the escalation is resolved; reopen it first")]
    ResolvedIsClosed,
    #[error("a resolution note is required: say what was done")]
    NoteRequired,
    #[error("the escalation is already resolved")]
    AlreadyResolved,
    #[error("only a resolved escalation can be reopened; this one is {}", .0.label())]
    NotResolved(Status),
    #[error("a comment cannot be empty")]
    EmptyComment,
    #[error("a title is required")]
    EmptyTitle,
    #[error(
        "a title is one line of at most {MAX_TITLE} characters; put the rest in the description"
    )]
    BadTitle,
    #[error("an assignee is a staff name of 1 to {MAX_STAFF_NAME} printable characters")]
    BadAssignee,
    /// Not a current staff member (the staff list in storage says why).
    #[error("{0}")]
    NotOnStaff(String),
    #[error("the escalation already has that assignee")]
    SameAssignee,
    #[error("the priority is already {}", .0.label())]
    SamePriority(Priority),
    #[error("the membership does not belong to the escalation's contact")]
    MembershipOfAnotherContact,
}

fn allowed_list(from: Status) -> String {
    let names: Vec<&str> = from.next().iter().map(|s| s.label()).collect();
    if names.is_empty() {
        "nothing (reopen it)".into()
    } else {
        names.join(", ")
    }
}

/// A status change other than resolving (which needs a note) and reopening.
pub fn check_status_change(from: Status, to: Status) -> Result<(), RuleError> {
    if from == to {
        return Err(RuleError::SameStatus(to));
    }
    if from.is_resolved() {
        return Err(RuleError::ResolvedIsClosed);
    }
    if !from.next().contains(&to) {
        return Err(RuleError::NotAllowed { from, to });
    }
    if to.is_resolved() {
        return Err(RuleError::ResolveNeedsNote);
    }
    Ok(())
}

/// Resolving: from any unresolved status, with a note. Returns the note trimmed.
pub fn check_resolve(from: Status, note: &str) -> Result<String, RuleError> {
    if from.is_resolved() {
        return Err(RuleError::AlreadyResolved);
    }
    let note = note.trim();
    if note.is_empty() {
        return Err(RuleError::NoteRequired);
    }
    Ok(note.to_owned())
}

pub fn check_reopen(from: Status) -> Result<(), RuleError> {
    if from.is_resolved() {
        Ok(())
    } else {
        Err(RuleError::NotResolved(from))
    }
}

/// Assignee and priority changes are refused on a resolved escalation (reopen it first);
/// comments are not, so a later note about a closed case is never lost.
pub fn check_changeable(status: Status) -> Result<(), RuleError> {
    if status.is_resolved() {
        Err(RuleError::ResolvedIsClosed)
    } else {
        Ok(())
    }
}

/// A title: one non-blank line of at most [`MAX_TITLE`] characters. Returns it trimmed.
pub fn check_title(title: &str) -> Result<String, RuleError> {
    let title = title.trim();
    if title.is_empty() {
        return Err(RuleError::EmptyTitle);
    }
    if title.chars().count() > MAX_TITLE || title.chars().any(char::is_control) {
        return Err(RuleError::BadTitle);
    }
    Ok(title.to_owned())
}

/// An assignee as typed: blank means nobody; otherwise a staff name, trimmed.
pub fn check_assignee(assignee: &str) -> Result<Option<String>, RuleError> {
    let name = assignee.trim();
    if name.is_empty() {
        return Ok(None);
    }
    if name.chars().count() > MAX_STAFF_NAME || name.chars().any(char::is_control) {
        return Err(RuleError::BadAssignee);
    }
    Ok(Some(name.to_owned()))
}

pub fn check_comment(body: &str) -> Result<String, RuleError> {
    let body = body.trim();
    if body.is_empty() {
        return Err(RuleError::EmptyComment);
    }
    Ok(body.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stored_spelling_parses_back() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>(), Ok(c));
            assert!(c.short_label().chars().count() <= 15, "{c:?}");
        }
        for p in Priority::ALL {
            assert_eq!(p.as_str().parse::<Priority>(), Ok(p));
        }
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
            assert!(s.short_label().chars().count() <= 11, "{s:?}");
        }
        for k in EventKind::ALL {
            assert_eq!(k.as_str().parse::<EventKind>(), Ok(k));
        }
        for v in View::PANE {
            assert_eq!(v.as_str().parse::<View>(), Ok(v));
        }
    }
}
