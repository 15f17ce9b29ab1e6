//! Onboarding: the path of steps every new member goes through, when each step is due, and who
//! enters the queue.
//!
//! The path comes from configuration (`assets/onboarding.toml` by default, or
//! `[onboarding] steps_file`). A step's progress is stored under its `key`, so relabelling a step
//! keeps what was recorded; a stored key that is no longer in the path is ignored.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::MemberStatus;
use crate::config::OnboardingConfig;
use crate::text::line_column;

/// The default path, documented in the file itself.
pub const DEFAULT_STEPS: &str = include_str!("../../assets/onboarding.toml");

/// Where the default path comes from, for error messages.
const DEFAULT_ORIGIN: &str = "built-in assets/onboarding.toml";

/// A due offset beyond ten years is a typo, not a plan.
pub const MAX_DUE_DAYS: i64 = 3650;
/// More steps than this cannot be worked from a keyboard queue.
pub const MAX_STEPS: usize = 30;
const MAX_KEY_LEN: usize = 40;
const MAX_LABEL_LEN: usize = 60;

/// One step of the path.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Step {
    /// Stored in `onboarding_steps.step_key`.
    pub key: String,
    /// What staff see.
    pub label: String,
    /// Days after the join date by which the step should be done.
    pub due_days: u32,
}

impl Step {
    pub fn due_date(&self, anchor: NaiveDate) -> NaiveDate {
        anchor
            .checked_add_days(Days::new(u64::from(self.due_days)))
            .unwrap_or(NaiveDate::MAX)
    }
}

/// The ordered steps of the onboarding path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepPath {
    steps: Vec<Step>,
}

/// A steps file that cannot be used: which file, where in it, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct StepsError {
    /// The file (or the built-in default).
    pub origin: String,
    /// 1-based line and column, when the problem has a place.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for StepsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "onboarding steps file {}", self.origin)?;
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, ", line {line}, column {column}")?,
            (Some(line), None) => write!(f, ", line {line}")?,
            _ => {}
        }
        write!(f, ": {}", self.message)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    step: Vec<Spanned<RawStep>>,
}

/// Every field optional so that a missing one is reported with the step's own line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    key: Option<Spanned<String>>,
    label: Option<Spanned<String>>,
    due_days: Option<Spanned<i64>>,
}

impl StepPath {
    /// The built-in default path.
    pub fn default_path() -> StepPath {
        StepPath::parse(DEFAULT_STEPS, DEFAULT_ORIGIN).expect("the built-in steps file is valid")
    }

    /// The path configured in `[onboarding]`: the steps file when set, else the default. A
    /// relative `steps_file` is taken from the directory `config.toml` is in.
    pub fn from_config(config: &OnboardingConfig) -> Result<StepPath, StepsError> {
        match &config.steps_file {
            None => Ok(StepPath::default_path()),
            Some(file) => {
                let path = resolve_steps_file(file, crate::cli::config_dir().as_deref());
                StepPath::load(&path)
            }
        }
    }

    /// Reads and checks a steps file.
    pub fn load(path: &Path) -> Result<StepPath, StepsError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| StepsError {
            origin: origin.clone(),
            line: None,
            column: None,
            message: format!("cannot read it: {e}"),
        })?;
        StepPath::parse(&text, &origin)
    }

    /// Parses and checks steps text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<StepPath, StepsError> {
        let error = |span: Option<std::ops::Range<usize>>, message: String| {
            let (line, column) = match span {
                Some(span) => {
                    let (l, c) = line_column(text, span.start);
                    (Some(l), Some(c))
                }
                None => (None, None),
            };
            StepsError {
                origin: origin.to_owned(),
                line,
                column,
                message,
            }
        };
        let raw: RawFile =
            toml::from_str(text).map_err(|e| error(e.span(), e.message().trim().to_owned()))?;
        if raw.step.is_empty() {
            return Err(error(
                None,
                "no steps: add at least one [[step]] with key, label and due_days".into(),
            ));
        }
        if raw.step.len() > MAX_STEPS {
            return Err(error(
                Some(raw.step[MAX_STEPS].span()),
                format!("{} steps; at most {MAX_STEPS} are allowed", raw.step.len()),
            ));
        }
        let mut steps = Vec::with_capacity(raw.step.len());
        let mut first_seen: HashMap<String, usize> = HashMap::new();
        for (number, spanned) in raw.step.iter().enumerate().map(|(i, s)| (i + 1, s)) {
            let at = spanned.span();
            let step = spanned.get_ref();
            let missing =
                |field: &str| error(Some(at.clone()), format!("step {number} has no `{field}`"));
            let key = step.key.as_ref().ok_or_else(|| missing("key"))?;
            let label = step.label.as_ref().ok_or_else(|| missing("label"))?;
            let due = step.due_days.as_ref().ok_or_else(|| missing("due_days"))?;
            check_key(key.get_ref())
                .map_err(|why| error(Some(key.span()), format!("step key {why}")))?;
            let (line, _) = line_column(text, key.span().start);
            if let Some(first) = first_seen.insert(key.get_ref().clone(), line) {
                return Err(error(
                    Some(key.span()),
                    format!(
                        "step key `{}` appears twice (first at line {first}); each key must be unique",
                        key.get_ref()
                    ),
                ));
            }
            let label_text = label.get_ref().trim();
            if label_text.is_empty() || label_text.chars().count() > MAX_LABEL_LEN {
                return Err(error(
                    Some(label.span()),
                    format!("a step label is 1 to {MAX_LABEL_LEN} characters"),
                ));
            }
            let days = *due.get_ref();
            if !(0..=MAX_DUE_DAYS).contains(&days) {
                return Err(error(
                    Some(due.span()),
                    format!(
                        "due_days is {days}; it must be 0 to {MAX_DUE_DAYS} (days after joining)"
                    ),
                ));
            }
            steps.push(Step {
                key: key.get_ref().clone(),
                label: label_text.to_owned(),
                due_days: days as u32,
            });
        }
        Ok(StepPath { steps })
    }

    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Never true for a checked path; here for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<&Step> {
        self.steps.get(index)
    }

    pub fn index_of(&self, key: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.key == key)
    }

    /// Where a member stands on the path: `is_done` says whether a step key has been ticked.
    /// Stored keys that are not in the path do not count.
    pub fn progress(
        &self,
        anchor: NaiveDate,
        today: NaiveDate,
        is_done: impl Fn(&str) -> bool,
    ) -> Progress {
        let done = self.steps.iter().filter(|s| is_done(&s.key)).count();
        let next = self
            .steps
            .iter()
            .position(|s| !is_done(&s.key))
            .map(|index| {
                let due = self.steps[index].due_date(anchor);
                NextStep {
                    index,
                    due,
                    days_overdue: (today - due).num_days(),
                }
            });
        Progress {
            done,
            total: self.steps.len(),
            next,
        }
    }
}

fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(format!("`{key}` must be 1 to {MAX_KEY_LEN} characters"));
    }
    if !key
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(format!(
            "`{key}` may hold only lower-case letters, digits and `_` (e.g. welcome_call)"
        ));
    }
    Ok(())
}

/// A relative steps file is taken from the config directory (where `config.toml` is).
pub fn resolve_steps_file(file: &Path, config_dir: Option<&Path>) -> PathBuf {
    match config_dir {
        Some(dir) if file.is_relative() => dir.join(file),
        _ => file.to_owned(),
    }
}

/// A member's progress along the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    /// The first step not yet done, in path order; None when every step is done.
    pub next: Option<NextStep>,
}

impl Progress {
    pub fn is_complete(&self) -> bool {
        self.next.is_none()
    }

    /// Whether the next step is past its due date.
    pub fn is_overdue(&self) -> bool {
        self.next.is_some_and(|n| n.days_overdue > 0)
    }

    /// "3/5 ■■■□□": the count and a gauge, readable without colour.
    pub fn label(&self) -> String {
        format!(
            "{}/{} {}",
            self.done,
            self.total,
            gauge(self.done, self.total)
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextStep {
    /// Index into the path.
    pub index: usize,
    pub due: NaiveDate,
    /// Days past the due date: positive when overdue, 0 on the due date, negative before it.
    pub days_overdue: i64,
}

impl NextStep {
    /// "OVERDUE 4d", "due today", "in 3d": the marker is text, never colour alone.
    pub fn marker(&self) -> String {
        due_marker(self.days_overdue)
    }
}

/// The due marker for a step `days_overdue` days past its due date.
pub fn due_marker(days_overdue: i64) -> String {
    match days_overdue {
        d if d > 0 => format!("OVERDUE {d}d"),
        0 => "due today".to_owned(),
        d => format!("in {}d", -d),
    }
}

/// The gauge cells: one per step, scaled to 10 cells for longer paths.
const GAUGE_MAX_CELLS: usize = 10;

/// `■■■□□` for 3 of 5.
pub fn gauge(done: usize, total: usize) -> String {
    let cells = total.min(GAUGE_MAX_CELLS);
    if cells == 0 {
        return String::new();
    }
    // Round down so that a gauge is only full when every step is done.
    let filled = (done.min(total) * cells) / total;
    "■".repeat(filled) + &"□".repeat(cells - filled)
}

/// The first day of the join window: a membership that joined on or after it (and not after
/// `today`) counts as new. The window includes both ends: with 90 days, someone who joined exactly
/// 90 days ago is in, 91 days ago is out.
pub fn window_start(today: NaiveDate, window_days: u32) -> NaiveDate {
    today
        .checked_sub_days(Days::new(u64::from(window_days)))
        .unwrap_or(NaiveDate::MIN)
}

/// What the entry rule looks at in one membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MembershipFacts {
    pub join: Option<NaiveDate>,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    /// The CRM's status as exported (None when it is not a status rollcall knows).
    pub crm_status: Option<MemberStatus>,
}

impl MembershipFacts {
    /// The day the membership began: its join date ("Member Since"), else its start date.
    fn joined(&self) -> Option<NaiveDate> {
        self.join.or(self.start)
    }
}

/// Whether a membership brings its contact into the queue: it joined ("Member Since", or the
/// start date when the CRM gave no join date) within the window (a join date after `today` has
/// not happened yet). Its CRM status does not: a Pending membership of someone who joined years
/// ago is a renewal awaiting payment (the renewals queue's "payment pending" rows), and a status
/// of New that CiviCRM has not recomputed is stale. The one exception: a New or Pending
/// membership with no dates at all is an application the CRM has not dated yet (it fills "Member
/// Since" when the first payment arrives), so it is new. A cancelled membership never brings
/// anyone in; a deceased contact never enters (checked by the caller, who knows the contact).
pub fn membership_qualifies(m: &MembershipFacts, today: NaiveDate, window_days: u32) -> bool {
    match (m.crm_status, m.joined()) {
        (Some(MemberStatus::Cancelled | MemberStatus::Deceased), _) => false,
        (Some(MemberStatus::New | MemberStatus::Pending), None) => true,
        (_, joined) => joined.is_some_and(|j| window_start(today, window_days) <= j && j <= today),
    }
}

/// How a contact in the queue came to the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Arrival {
    /// New to the organisation: no membership older than the one that joined in the window.
    New,
    /// A lapsed member who joined again: an older membership of theirs had ended (or was
    /// cancelled or expired) before the new one began.
    Rejoined,
    /// Recorded by an earlier rule (or added by hand) but not new by this one: kept because work
    /// was recorded on them.
    NotNew,
}

impl Arrival {
    pub fn label(self) -> &'static str {
        match self {
            Arrival::New => "new",
            Arrival::Rejoined => "rejoined",
            Arrival::NotNew => "not new",
        }
    }
}

/// Whether a contact with these memberships (all of them, whatever their status) is new, a
/// rejoiner, or neither on `today`; and with the anchor date their steps count from.
///
/// None when no membership joined within the window, or when an older membership of theirs was
/// still running when the new one began: an existing member taking another membership (a joint
/// or youth membership beside their own) is not new to the organisation.
pub fn arrival(
    memberships: &[MembershipFacts],
    today: NaiveDate,
    window_days: u32,
) -> Option<(Arrival, NaiveDate)> {
    let qualifying: Vec<MembershipFacts> = memberships
        .iter()
        .filter(|m| membership_qualifies(m, today, window_days))
        .copied()
        .collect();
    if qualifying.is_empty() {
        return None;
    }
    // An undated application counts as joining today.
    let new_from = qualifying
        .iter()
        .filter_map(MembershipFacts::joined)
        .min()
        .unwrap_or(today);
    let older: Vec<&MembershipFacts> = memberships
        .iter()
        .filter(|m| m.joined().is_some_and(|j| j < new_from))
        .collect();
    let ended_before = |m: &&MembershipFacts| {
        matches!(
            m.crm_status,
            Some(MemberStatus::Expired | MemberStatus::Cancelled)
        ) || m.end.is_some_and(|e| e < new_from)
    };
    let kind = if older.is_empty() {
        Arrival::New
    } else if older.iter().all(ended_before) {
        Arrival::Rejoined
    } else {
        return None;
    };
    Some((kind, anchor_date(&qualifying, today)))
}

/// The date a new member's step due dates count from, given their qualifying memberships: the
/// earliest join date, else the earliest start date (a Pending membership may have no join date
/// yet), else `today` (the day they entered the queue).
pub fn anchor_date(qualifying: &[MembershipFacts], today: NaiveDate) -> NaiveDate {
    let earliest =
        |pick: fn(&MembershipFacts) -> Option<NaiveDate>| qualifying.iter().filter_map(pick).min();
    earliest(|m| m.join)
        .or_else(|| earliest(|m| m.start))
        .unwrap_or(today)
}

/// Why a path was abandoned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AbandonReason {
    NeverPaid,
    DuplicateRecord,
    AskedToLeave,
    Other,
}

impl AbandonReason {
    pub const ALL: [AbandonReason; 4] = [
        AbandonReason::NeverPaid,
        AbandonReason::DuplicateRecord,
        AbandonReason::AskedToLeave,
        AbandonReason::Other,
    ];

    pub fn label(self) -> &'static str {
        match self {
            AbandonReason::NeverPaid => "Never paid",
            AbandonReason::DuplicateRecord => "Duplicate record",
            AbandonReason::AskedToLeave => "Asked to leave",
            AbandonReason::Other => "Other",
        }
    }

    /// What `onboarding.closed_reason` holds: the reason's label, then any detail after ": ".
    /// "Other" needs a detail, so that the record says what the other reason was.
    pub fn stored(self, detail: &str) -> Result<String, &'static str> {
        let detail = detail.trim();
        match (self, detail.is_empty()) {
            (AbandonReason::Other, true) => Err("say what the other reason is"),
            (_, true) => Ok(self.label().to_owned()),
            (_, false) => Ok(format!("{}: {detail}", self.label())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dates::parse_iso;

    fn d(s: &str) -> NaiveDate {
        parse_iso(s).unwrap()
    }

    #[test]
    fn default_path_is_the_documented_one() {
        let path = StepPath::default_path();
        let got: Vec<(&str, &str, u32)> = path
            .steps()
            .iter()
            .map(|s| (s.key.as_str(), s.label.as_str(), s.due_days))
            .collect();
        assert_eq!(
            got,
            [
                ("welcome_email", "Welcome email sent", 2),
                ("welcome_call", "Welcome call made", 7),
                ("linked_local_party", "Linked to local party / branch", 14),
                ("invited_induction", "Invited to induction", 21),
                ("attended_induction", "Attended induction", 60),
            ]
        );
    }

    #[test]
    fn progress_next_step_and_overdue() {
        let path = StepPath::default_path();
        let joined = d("2026-11-01");
        let done = |k: &str| k == "welcome_email" || k == "linked_local_party";
        let p = path.progress(joined, d("2026-11-10"), done);
        assert_eq!((p.done, p.total), (2, 5));
        let next = p.next.unwrap();
        assert_eq!(path.get(next.index).unwrap().key, "welcome_call");
        assert_eq!(next.due, d("2026-11-08"));
        assert_eq!(next.days_overdue, 2);
        assert!(p.is_overdue());
        assert_eq!(p.label(), "2/5 ■■□□□");
        assert_eq!(next.marker(), "OVERDUE 2d");
        let on_time = path.progress(joined, d("2026-11-08"), done);
        assert!(!on_time.is_overdue());
        assert_eq!(on_time.next.unwrap().marker(), "due today");
        let all = path.progress(joined, d("2027-06-01"), |_| true);
        assert!(all.is_complete());
        assert_eq!(all.label(), "5/5 ■■■■■");
    }

    #[test]
    fn gauge_scales_long_paths_and_is_full_only_when_done() {
        assert_eq!(gauge(0, 3), "□□□");
        assert_eq!(gauge(19, 20), "■■■■■■■■■□");
        assert_eq!(gauge(20, 20), "■■■■■■■■■■");
    }

    #[test]
    fn window_includes_both_ends() {
        let today = d("2026-11-23");
        let joined = |j: &str| MembershipFacts {
            join: Some(d(j)),
            start: None,
            end: None,
            crm_status: Some(MemberStatus::Current),
        };
        assert_eq!(window_start(today, 90), d("2026-08-25"));
        assert!(membership_qualifies(&joined("2026-08-25"), today, 90));
        assert!(!membership_qualifies(&joined("2026-08-24"), today, 90));
        assert!(membership_qualifies(&joined("2026-11-23"), today, 90));
        assert!(!membership_qualifies(&joined("2026-11-24"), today, 90));
        let cancelled = MembershipFacts {
            crm_status: Some(MemberStatus::Cancelled),
            ..joined("2026-11-01")
        };
        assert!(!membership_qualifies(&cancelled, today, 90));
        let old_pending = MembershipFacts {
            crm_status: Some(MemberStatus::Pending),
            ..joined("2019-01-01")
        };
        assert!(
            !membership_qualifies(&old_pending, today, 90),
            "a renewal awaiting payment, not a new member"
        );
        let stale_new = MembershipFacts {
            crm_status: Some(MemberStatus::New),
            ..joined("2026-05-01")
        };
        assert!(!membership_qualifies(&stale_new, today, 90));
        let no_join = MembershipFacts {
            join: None,
            start: Some(d("2026-11-01")),
            ..joined("2026-11-01")
        };
        assert!(membership_qualifies(&no_join, today, 90));
    }

    #[test]
    fn new_members_rejoiners_and_existing_members() {
        let today = d("2026-11-23");
        let m = |join: &str, end: &str, status: MemberStatus| MembershipFacts {
            join: Some(d(join)),
            start: Some(d(join)),
            end: Some(d(end)),
            crm_status: Some(status),
        };
        let new = m("2026-11-01", "2027-10-31", MemberStatus::New);
        assert_eq!(
            arrival(&[new], today, 90),
            Some((Arrival::New, d("2026-11-01")))
        );
        let lapsed = m("2013-11-07", "2024-11-06", MemberStatus::Expired);
        assert_eq!(
            arrival(&[lapsed, new], today, 90),
            Some((Arrival::Rejoined, d("2026-11-01")))
        );
        let running = m("2013-11-07", "2027-11-06", MemberStatus::Current);
        assert_eq!(
            arrival(&[running, new], today, 90),
            None,
            "already a member"
        );
        let old_pending = m("2013-11-07", "2026-11-06", MemberStatus::Pending);
        assert_eq!(arrival(&[old_pending], today, 90), None);
    }

    #[test]
    fn anchor_prefers_join_then_start_then_today() {
        let today = d("2026-11-23");
        let m = |join: Option<&str>, start: Option<&str>| MembershipFacts {
            join: join.map(d),
            start: start.map(d),
            end: None,
            crm_status: None,
        };
        assert_eq!(
            anchor_date(
                &[
                    m(Some("2026-10-02"), None),
                    m(Some("2026-09-30"), Some("2026-11-01"))
                ],
                today
            ),
            d("2026-09-30")
        );
        assert_eq!(
            anchor_date(&[m(None, Some("2026-11-20"))], today),
            d("2026-11-20")
        );
        assert_eq!(anchor_date(&[m(None, None)], today), today);
    }

    #[test]
    fn abandon_reasons_are_stored_readably() {
        assert_eq!(AbandonReason::NeverPaid.stored("  ").unwrap(), "Never paid");
        assert_eq!(
            AbandonReason::Other.stored("moved abroad").unwrap(),
            "Other: moved abroad"
        );
        assert!(AbandonReason::Other.stored("").is_err());
    }

    fn parse_err(text: &str) -> StepsError {
        StepPath::parse(text, "steps.toml").unwrap_err()
    }

    #[test]
    fn broken_steps_files_say_where_and_what() {
        let dup = "[[step]]\nkey = \"a\"\nlabel = \"A\"\ndue_days = 1\n\n[[step]]\nkey = \"a\"\nlabel = \"B\"\ndue_days = 2\n";
        let e = parse_err(dup);
        assert_eq!(e.line, Some(7));
        assert!(e.message.contains("appears twice (first at line 2)"), "{e}");
        assert!(
            e.to_string()
                .starts_with("onboarding steps file steps.toml, line 7")
        );

        let e = parse_err("[[step]]\nkey = \"a\"\ndue_days = 1\n");
        assert!(e.message.contains("step 1 has no `label`"), "{e}");
        assert_eq!(e.line, Some(1));

        let e = parse_err("[[step]]\nkey = \"a\"\nlabel = \"A\"\ndue_days = -3\n");
        assert_eq!(e.line, Some(4));
        assert!(e.message.contains("due_days is -3"), "{e}");

        let e = parse_err("[[step]]\nkey = \"a\"\nlabel = \"A\"\ndue_days = 99999\n");
        assert!(e.message.contains("0 to 3650"), "{e}");

        let e = parse_err("# nothing here\n");
        assert!(e.message.contains("no steps"), "{e}");

        let e = parse_err("[[step]]\nkey = \"a\"\nlabel = \"A\"\ndue_days = 1\nowner = \"x\"\n");
        assert_eq!(e.line, Some(5));
        assert!(e.message.contains("owner"), "{e}");

        let e = parse_err("[[step]]\nkey = \"Welcome Call\"\nlabel = \"A\"\ndue_days = 1\n");
        assert!(e.message.contains("lower-case"), "{e}");

        let e = parse_err("[[step]\nkey = 1\n");
        assert_eq!(e.line, Some(1));
    }

    #[test]
    fn relative_steps_file_is_taken_from_the_config_directory() {
        let dir = Path::new("/home/ann/.config/rollcall");
        assert_eq!(
            resolve_steps_file(Path::new("steps.toml"), Some(dir)),
            dir.join("steps.toml")
        );
        assert_eq!(
            resolve_steps_file(Path::new("/etc/steps.toml"), Some(dir)),
            Path::new("/etc/steps.toml")
        );
    }
}
