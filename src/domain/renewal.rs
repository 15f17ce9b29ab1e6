//! Renewals: which memberships are due or lapsed, how urgent each one is, which rows a filter
//! keeps, and the vocabulary of contact attempts (channels, outcomes, preferences).
//!
//! Pure rules over plain values: storage loads [`QueueRow`]s for the date window, and everything
//! after that (exclusions, buckets, filters, urgency order) is decided here, so the pane, the CLI
//! and the tests all see the same queue.
//!
//! ## Urgency
//! Rows fall into [`Section`]s, worked in this order:
//! 1. **Lapsed, in grace**: the end date has passed but the CRM still counts them as members for
//!    one more month. These are about to be lost, so they come first, the one whose grace ends
//!    soonest at the top.
//!
//!    An auto-renewing membership whose end date has passed is a **failed payment**
//!    ([`QueueRow::payment_failed`]): the recurring payment should have renewed it and did not
//!    (Direct Debit providers do not retry by themselves). It is the most urgent call of all, so
//!    it sits at the top of its lapsed section, marked "payment failed?", and is never hidden
//!    as auto-renewing. (CiviCRM's reminders made the opposite mistake and had to be fixed,
//!    civicrm-core#26563.)
//! 2. **Due**: the end date is today or ahead; soonest first.
//! 3. **Lapsed, past grace**: most recently lapsed first (the fresher the lapse, the likelier a
//!    win-back).
//! 4. **Set aside** (hidden unless asked for): snoozed until a later date (by that date), or
//!    settled by the last contact (the member said they renewed, declined, or asked not to be
//!    contacted).
//! 5. **Auto-renewing** (hidden unless asked for): not yet due, and a recurring payment will
//!    usually renew them.
//!
//! Ties go by sort name, then membership id, so the order is stable between reloads.

use std::cmp::Ordering;
use std::fmt;

use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::dates::{add_months, days_between, parse_iso};
use super::{ContactFlags, MemberStatus};
use crate::config::RenewalsConfig;

/// Which side of the as-of date a membership's end date falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    Due,
    Lapsed,
}

impl Bucket {
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Due => "due",
            Bucket::Lapsed => "lapsed",
        }
    }
}

impl fmt::Display for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The two windows of the queue, in days either side of the as-of date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// Due: end date in `[today, today + due_within_days]`.
    pub due_within_days: u32,
    /// Lapsed: end date in `[today - lapsed_within_days, today - 1]`.
    pub lapsed_within_days: u32,
}

impl From<&RenewalsConfig> for Windows {
    fn from(c: &RenewalsConfig) -> Windows {
        Windows {
            due_within_days: c.due_within_days,
            lapsed_within_days: c.lapsed_within_days,
        }
    }
}

impl Windows {
    /// The earliest end date in the queue (the first day of the lapsed window).
    pub fn first_day(&self, today: NaiveDate) -> NaiveDate {
        today
            .checked_sub_days(Days::new(self.lapsed_within_days.into()))
            .unwrap_or(NaiveDate::MIN)
    }

    /// The latest end date in the queue (the last day of the due window).
    pub fn last_day(&self, today: NaiveDate) -> NaiveDate {
        today
            .checked_add_days(Days::new(self.due_within_days.into()))
            .unwrap_or(NaiveDate::MAX)
    }

    /// The inclusive range of end dates to load for `bucket` (None: both buckets). An empty
    /// lapsed window gives a range whose start is after its end.
    pub fn range(&self, today: NaiveDate, bucket: Option<Bucket>) -> (NaiveDate, NaiveDate) {
        let yesterday = today.pred_opt().unwrap_or(NaiveDate::MIN);
        match bucket {
            None => (self.first_day(today), self.last_day(today)),
            Some(Bucket::Due) => (today, self.last_day(today)),
            Some(Bucket::Lapsed) => (self.first_day(today), yesterday),
        }
    }

    /// The bucket of a membership ending on `end`, or None when it is outside both windows.
    pub fn bucket(&self, end: NaiveDate, today: NaiveDate) -> Option<Bucket> {
        if end >= today && end <= self.last_day(today) {
            Some(Bucket::Due)
        } else if end < today && end >= self.first_day(today) {
            Some(Bucket::Lapsed)
        } else {
            None
        }
    }
}

/// Signed whole days from the as-of date to the end date: positive = days left (1 = ends
/// tomorrow), 0 = ends today, negative = days since it ended (-1 = ended yesterday).
pub fn days_from_today(end: NaiveDate, today: NaiveDate) -> i64 {
    days_between(today, end)
}

/// "in 3 days", "today", "12 days ago": the days column in words.
pub fn describe_days(days: i64) -> String {
    match days {
        0 => "today".to_owned(),
        1 => "tomorrow".to_owned(),
        -1 => "yesterday".to_owned(),
        d if d > 0 => format!("in {d} days"),
        d => format!("{} days ago", -d),
    }
}

/// Memberships the queue never holds whatever their dates: the CRM says Cancelled or Deceased
/// (as any CRM spells them), or the contact is deceased.
///
/// A Pending membership whose end date is in the queue's windows stays: it is a renewal
/// awaiting payment (CiviCRM leaves the end date where it was until a pay-later renewal is
/// paid), shown as "payment pending" ([`QueueRow::payment_pending`]). A new member's Pending
/// membership ends a whole term away, outside the windows: they are onboarding's.
pub fn is_excluded(crm_status: &str, contact_deceased: bool) -> bool {
    contact_deceased
        || matches!(
            MemberStatus::parse(crm_status),
            Some(MemberStatus::Cancelled | MemberStatus::Deceased)
        )
}

/// The label of a renewal whose payment the CRM is waiting for.
pub const PAYMENT_PENDING: &str = "payment pending";

/// How a lapsed auto-renewing membership is marked: the recurring payment did not renew it.
pub const PAYMENT_FAILED: &str = "payment failed?";

/// How staff reached (or tried to reach) a member. Spelt as in `contact_attempts.channel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Phone,
    Email,
    Letter,
    Sms,
    InPerson,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Phone,
        Channel::Email,
        Channel::Letter,
        Channel::Sms,
        Channel::InPerson,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::Email => "email",
            Channel::Letter => "letter",
            Channel::Sms => "sms",
            Channel::InPerson => "in_person",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::Email => "email",
            Channel::Letter => "letter",
            Channel::Sms => "SMS",
            Channel::InPerson => "in person",
        }
    }

    /// The key that picks this channel in the pane's chooser.
    pub fn key(self) -> char {
        match self {
            Channel::Phone => 'p',
            Channel::Email => 'e',
            Channel::Letter => 'l',
            Channel::Sms => 's',
            Channel::InPerson => 'i',
        }
    }

    pub fn from_key(key: char) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.key() == key)
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// How many days before the import that saw a renewal a contact attempt may be and still be
/// credited with it (docs/renewals.md, "Renewal credit"). Two monthly export cycles: a renewal
/// seen in this month's export may have been prompted by last month's call.
pub const CREDIT_WINDOW_DAYS: i64 = 60;

/// What came of a contact attempt. Spelt as in `contact_attempts.outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    NoAnswer,
    LeftMessage,
    WillRenew,
    Renewed,
    Declined,
    WrongNumber,
    /// The member asked not to be contacted again.
    DoNotContact,
}

impl Outcome {
    pub const ALL: [Outcome; 7] = [
        Outcome::NoAnswer,
        Outcome::LeftMessage,
        Outcome::WillRenew,
        Outcome::Renewed,
        Outcome::Declined,
        Outcome::WrongNumber,
        Outcome::DoNotContact,
    ];

    /// Whether an attempt with this outcome can be credited with a renewal that followed it: the
    /// member was reached (a promise, "says renewed") or the reminder got to them (a message left,
    /// an email, letter or SMS sent). Not "no answer" (nothing reached them), nor "declined",
    /// "wrong number" or "asked not to be contacted" (it cannot have caused the renewal).
    pub fn earns_credit(self) -> bool {
        matches!(
            self,
            Outcome::LeftMessage | Outcome::WillRenew | Outcome::Renewed
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::NoAnswer => "no_answer",
            Outcome::LeftMessage => "left_message",
            Outcome::WillRenew => "will_renew",
            Outcome::Renewed => "renewed",
            Outcome::Declined => "declined",
            Outcome::WrongNumber => "wrong_number",
            Outcome::DoNotContact => "do_not_contact",
        }
    }

    /// The outcome in words, for the channel it came through: an email "left message" is one
    /// sent with no reply yet, which is what staff call it.
    pub fn label_for(self, channel: Channel) -> &'static str {
        match (self, channel) {
            (Outcome::LeftMessage, Channel::Email | Channel::Letter | Channel::Sms) => "sent",
            (Outcome::WrongNumber, Channel::Email) => "wrong address",
            (Outcome::WrongNumber, Channel::Letter) => "wrong address",
            _ => self.label(),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Outcome::NoAnswer => "no answer",
            Outcome::LeftMessage => "left message",
            Outcome::WillRenew => "will renew",
            Outcome::Renewed => "says renewed",
            Outcome::Declined => "declined",
            Outcome::WrongNumber => "wrong number",
            Outcome::DoNotContact => "asked not to be contacted",
        }
    }

    /// The key that picks this outcome in the pane's chooser.
    pub fn key(self) -> char {
        match self {
            Outcome::NoAnswer => 'n',
            Outcome::LeftMessage => 'm',
            Outcome::WillRenew => 'w',
            Outcome::Renewed => 'r',
            Outcome::Declined => 'd',
            Outcome::WrongNumber => 'x',
            Outcome::DoNotContact => 'a',
        }
    }

    pub fn from_key(key: char) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.key() == key)
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// After this outcome the membership needs no more chasing until the next import says what
    /// happened: the member said they renewed, declined, or asked not to be contacted.
    pub fn settles(self) -> bool {
        matches!(
            self,
            Outcome::Renewed | Outcome::Declined | Outcome::DoNotContact
        )
    }
}

/// The last contact attempt on a membership, as the queue shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastContact {
    /// The attempt's row id (rollcall's own).
    #[serde(skip)]
    pub id: i64,
    /// `YYYY-MM-DDTHH:MM:SS`.
    pub at: String,
    pub channel: String,
    pub outcome: String,
    pub staff: String,
}

impl LastContact {
    pub fn date(&self) -> Option<NaiveDate> {
        self.at.get(..10).and_then(parse_iso)
    }

    /// "phone, no answer": channel and outcome in words (raw text if written by another tool).
    pub fn how(&self) -> String {
        match (Channel::parse(&self.channel), Outcome::parse(&self.outcome)) {
            (Some(c), Some(o)) => format!("{}, {}", c.label(), o.label_for(c)),
            _ => format!("{}, {}", self.channel, self.outcome),
        }
    }

    fn settles(&self) -> bool {
        Outcome::parse(&self.outcome).is_some_and(Outcome::settles)
    }
}

/// Why a contact attempt through `channel` goes against the member's wishes, if it does: the
/// preference's name, never the person's. `last` is the last attempt, whose outcome may be that
/// they asked not to be contacted at all.
pub fn preference_conflict(
    channel: Channel,
    flags: &ContactFlags,
    last: Option<&LastContact>,
) -> Option<&'static str> {
    if last.is_some_and(|l| l.outcome == Outcome::DoNotContact.as_str()) {
        return Some("asked not to be contacted");
    }
    match channel {
        Channel::Phone if flags.do_not_phone => Some("Do Not Phone"),
        Channel::Sms if flags.do_not_sms => Some("Do Not SMS"),
        Channel::Email if flags.do_not_email => Some("Do Not Email"),
        Channel::Email if flags.on_hold => Some("email On Hold (bouncing)"),
        Channel::Letter if flags.do_not_mail => Some("Do Not Mail"),
        _ => None,
    }
}

/// As [`preference_conflict`], for an attempt logged for many members at once: a bulk email also
/// goes against "No Bulk Emails".
pub fn bulk_preference_conflict(
    channel: Channel,
    flags: &ContactFlags,
    last: Option<&LastContact>,
) -> Option<&'static str> {
    preference_conflict(channel, flags, last).or(match channel {
        Channel::Email if flags.no_bulk_email => Some("No Bulk Emails"),
        // A call list (or a bulk call or text) is for numbers that may reach them: the last
        // call or text found the number wrong, so it waits for the next export's number.
        Channel::Phone | Channel::Sms if last.is_some_and(wrong_number) => {
            Some("wrong number at the last call")
        }
        _ => None,
    })
}

/// The last attempt, by phone or text, found the number wrong.
fn wrong_number(last: &LastContact) -> bool {
    let by_number = [Channel::Phone.as_str(), Channel::Sms.as_str()];
    last.outcome == Outcome::WrongNumber.as_str() && by_number.contains(&last.channel.as_str())
}

/// What a list handed outside rollcall is for (`rollcall renewals --for`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListPurpose {
    /// A call list.
    Phone,
    /// A mail-merge for email.
    Email,
    /// A mail-merge for letters.
    Letter,
}

impl ListPurpose {
    pub fn channel(self) -> Channel {
        match self {
            ListPurpose::Phone => Channel::Phone,
            ListPurpose::Email => Channel::Email,
            ListPurpose::Letter => Channel::Letter,
        }
    }
}

/// Why a member is left off a list for `purpose`, if they are: call lists leave out Do Not Phone,
/// email lists Do Not Email, On Hold and No Bulk Emails (a mail-merge is a bulk email), letter
/// lists Do Not Mail; no list holds someone who asked not to be contacted.
pub fn list_exclusion(
    purpose: ListPurpose,
    flags: &ContactFlags,
    last: Option<&LastContact>,
) -> Option<&'static str> {
    bulk_preference_conflict(purpose.channel(), flags, last)
}

/// One membership in the queue window, as storage loads it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueRow {
    pub membership_id: i64,
    pub contact_id: i64,
    /// The CRM's contact id.
    pub contact_crm_id: String,
    /// The CRM's membership id, when the CRM gave one.
    pub membership_crm_id: Option<String>,
    pub name: String,
    pub sort_name: String,
    pub membership_type: String,
    pub local_party: String,
    pub region: String,
    pub end_date: NaiveDate,
    pub crm_status: String,
    pub auto_renew: bool,
    pub flags: ContactFlags,
    pub last_contact: Option<LastContact>,
    /// The next action date (`snoozes.until`).
    pub snoozed_until: Option<NaiveDate>,
    /// Who follows this member up in the renewals queue.
    pub assignee: Option<String>,
}

impl QueueRow {
    pub fn days(&self, today: NaiveDate) -> i64 {
        days_from_today(self.end_date, today)
    }

    pub fn bucket(&self, today: NaiveDate) -> Bucket {
        if self.end_date >= today {
            Bucket::Due
        } else {
            Bucket::Lapsed
        }
    }

    /// The CRM has the renewal but not the money: its status is Pending.
    pub fn payment_pending(&self) -> bool {
        MemberStatus::parse(&self.crm_status) == Some(MemberStatus::Pending)
    }

    /// Auto-renewing, yet the end date has passed: the recurring payment failed (or was
    /// cancelled), so the member is lapsing without knowing. Not when the CRM says the payment is
    /// pending: that is [`QueueRow::payment_pending`].
    pub fn payment_failed(&self, today: NaiveDate) -> bool {
        self.auto_renew && !self.payment_pending() && self.end_date < today
    }

    /// The payment mark the queue shows beside the row, if any.
    pub fn payment_mark(&self, today: NaiveDate) -> Option<&'static str> {
        if self.payment_failed(today) {
            Some(PAYMENT_FAILED)
        } else if self.payment_pending() {
            Some(PAYMENT_PENDING)
        } else {
            None
        }
    }

    pub fn is_snoozed(&self, today: NaiveDate) -> bool {
        self.snoozed_until.is_some_and(|until| until > today)
    }

    /// Where this row sits in the urgency order (see the module docs).
    pub fn section(&self, today: NaiveDate) -> Section {
        // A payment that is pending has not come through the recurring payment either, and one
        // that lapsed has failed: only the auto-renewing not yet due are left to the payment.
        if self.auto_renew && !self.payment_pending() && self.end_date >= today {
            Section::AutoRenew
        } else if self.is_snoozed(today) || self.last_contact.as_ref().is_some_and(|l| l.settles())
        {
            Section::SetAside
        } else if self.end_date >= today {
            Section::Due
        } else if today <= add_months(self.end_date, 1) {
            Section::InGrace
        } else {
            Section::PastGrace
        }
    }

    /// Whole days since the last contact attempt (None: never contacted).
    pub fn days_since_contact(&self, today: NaiveDate) -> Option<i64> {
        let last = self.last_contact.as_ref()?.date()?;
        Some(days_between(last, today))
    }
}

/// The parts of the queue, in the order they are worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    InGrace,
    Due,
    PastGrace,
    SetAside,
    AutoRenew,
}

impl Section {
    pub fn title(self) -> &'static str {
        match self {
            Section::InGrace => "Lapsed, in grace",
            Section::Due => "Due",
            Section::PastGrace => "Lapsed, past grace",
            Section::SetAside => "Set aside: snoozed or settled",
            Section::AutoRenew => "Auto-renewing",
        }
    }
}

/// Where a row sorts within the urgency order: its section, failed payments first within it,
/// then a key that orders the section as the module docs say (ties: sort name, then membership
/// id).
fn urgency_key(row: &QueueRow, section: Section, today: NaiveDate) -> (Section, bool, i64, i64) {
    let day = |d: NaiveDate| i64::from(d.num_days_from_ce());
    let after_failed = !row.payment_failed(today);
    match section {
        Section::PastGrace => (section, after_failed, -day(row.end_date), 0),
        Section::SetAside => (
            section,
            after_failed,
            row.snoozed_until.map_or(i64::MAX, day),
            day(row.end_date),
        ),
        _ => (section, after_failed, day(row.end_date), 0),
    }
}

fn tie_break(a: &QueueRow, b: &QueueRow) -> Ordering {
    a.sort_name
        .cmp(&b.sort_name)
        .then(a.membership_id.cmp(&b.membership_id))
}

/// The urgency order of two rows (see the module docs).
pub fn urgency_cmp(a: &QueueRow, b: &QueueRow, today: NaiveDate) -> Ordering {
    urgency_key(a, a.section(today), today)
        .cmp(&urgency_key(b, b.section(today), today))
        .then_with(|| tie_break(a, b))
}

/// The filters an officer sets on the queue. Text filters match whole values, ignoring case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueFilter {
    pub bucket: Option<Bucket>,
    pub region: Option<String>,
    pub local_party: Option<String>,
    pub membership_type: Option<String>,
    /// Only members with no contact attempt in the last N days (N = 1: none today).
    pub not_contacted_days: Option<u32>,
    /// Only members who prefer Welsh.
    pub welsh_only: bool,
    /// Only members assigned to the staff member using rollcall.
    pub assigned_to_me: bool,
    /// Show snoozed and settled rows (in their own section, below the rest).
    pub show_set_aside: bool,
    /// Show auto-renewing memberships (in their own section, at the end).
    pub show_auto_renew: bool,
}

fn same_text(wanted: &Option<String>, value: &str) -> bool {
    wanted
        .as_deref()
        .is_none_or(|w| w.trim().eq_ignore_ascii_case(value.trim()))
}

impl QueueFilter {
    /// Whether `row` passes every filter, as of `today`, for the staff member `me`.
    pub fn matches(&self, row: &QueueRow, today: NaiveDate, me: &str) -> bool {
        self.bucket.is_none_or(|b| row.bucket(today) == b)
            && same_text(&self.region, &row.region)
            && same_text(&self.local_party, &row.local_party)
            && same_text(&self.membership_type, &row.membership_type)
            && self
                .not_contacted_days
                .is_none_or(|n| row.days_since_contact(today).is_none_or(|d| d >= n.into()))
            && (!self.welsh_only || row.flags.welsh)
            && (!self.assigned_to_me || row.assignee.as_deref() == Some(me))
            && (self.show_set_aside || row.section(today) != Section::SetAside)
            && (self.show_auto_renew || row.section(today) != Section::AutoRenew)
    }

    /// The filters in force, in words ("region Wales", "Welsh"), for the pane's header.
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(b) = self.bucket {
            out.push(format!("{b} only"));
        }
        let texts = [
            ("region", &self.region),
            ("local party", &self.local_party),
            ("type", &self.membership_type),
        ];
        for (what, value) in texts {
            if let Some(v) = value {
                out.push(format!("{what} {v}"));
            }
        }
        if let Some(n) = self.not_contacted_days {
            out.push(format!("not contacted in {n} days"));
        }
        if self.welsh_only {
            out.push("Welsh".to_owned());
        }
        if self.assigned_to_me {
            out.push("assigned to me".to_owned());
        }
        out
    }

    /// True when no filter narrows the queue (the show toggles aside).
    pub fn is_empty(&self) -> bool {
        self.describe().is_empty()
    }
}

/// The queue as shown: indices into the loaded rows, in urgency order, and the counts the header
/// needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Arranged {
    pub order: Vec<usize>,
    pub due: usize,
    pub lapsed: usize,
    /// Rows the filters would keep but that are hidden as set aside.
    pub set_aside_hidden: usize,
    /// Rows the filters would keep but that are hidden as auto-renewing.
    pub auto_renew_hidden: usize,
}

/// Filters and orders `rows` for display. Each row's section is worked out once, so ordering
/// 60,000 rows stays well under a frame.
pub fn arrange(rows: &[QueueRow], filter: &QueueFilter, today: NaiveDate, me: &str) -> Arranged {
    let everything = QueueFilter {
        show_set_aside: true,
        show_auto_renew: true,
        ..filter.clone()
    };
    let mut out = Arranged::default();
    let mut keyed: Vec<((Section, bool, i64, i64), usize)> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if !everything.matches(row, today, me) {
            continue;
        }
        let section = row.section(today);
        match section {
            Section::SetAside if !filter.show_set_aside => out.set_aside_hidden += 1,
            Section::AutoRenew if !filter.show_auto_renew => out.auto_renew_hidden += 1,
            _ => {
                match row.bucket(today) {
                    Bucket::Due => out.due += 1,
                    Bucket::Lapsed => out.lapsed += 1,
                }
                keyed.push((urgency_key(row, section, today), i));
            }
        }
    }
    keyed.sort_unstable_by(|(ka, a), (kb, b)| {
        ka.cmp(kb).then_with(|| tie_break(&rows[*a], &rows[*b]))
    });
    out.order = keyed.into_iter().map(|(_, i)| i).collect();
    out
}

/// Reads a snooze date as typed: `YYYY-MM-DD`, or `+N` / `+Nd` days from today. The date must be
/// after today and at most a year ahead (a longer snooze is a typo, or a member to take off the
/// queue another way).
pub fn parse_snooze(text: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let text = text.trim();
    let date = if let Some(n) = text.strip_prefix('+') {
        let n = n.strip_suffix('d').unwrap_or(n).trim();
        let days: u32 = n.parse().map_err(|_| {
            format!("`+{n}` is not a number of days; write +7 for a week from today")
        })?;
        today
            .checked_add_days(Days::new(days.into()))
            .ok_or_else(|| "too far ahead".to_owned())?
    } else {
        parse_iso(text)
            .ok_or_else(|| format!("`{text}` is not a date: use YYYY-MM-DD or +N days"))?
    };
    if date <= today {
        return Err(format!(
            "{date} is not after today ({today}); pick a later date"
        ));
    }
    if days_between(today, date) > 366 {
        return Err(format!(
            "{date} is more than a year ahead; pick a nearer date"
        ));
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue_row(end: &str, auto_renew: bool, crm_status: &str) -> QueueRow {
        QueueRow {
            membership_id: 1,
            contact_id: 1,
            contact_crm_id: "1".into(),
            membership_crm_id: None,
            name: "A".into(),
            sort_name: "A".into(),
            membership_type: "Individual".into(),
            local_party: String::new(),
            region: String::new(),
            end_date: d(end),
            crm_status: crm_status.into(),
            auto_renew,
            flags: ContactFlags::default(),
            last_contact: None,
            snoozed_until: None,
            assignee: None,
        }
    }

    #[test]
    fn an_auto_renewal_past_its_end_date_is_a_failed_payment() {
        let today = d("2026-11-23");
        let lapsed = queue_row("2026-11-22", true, "Current");
        assert!(lapsed.payment_failed(today));
        assert_eq!(lapsed.section(today), Section::InGrace);
        assert_eq!(lapsed.payment_mark(today), Some(PAYMENT_FAILED));
        let long_gone = queue_row("2026-09-01", true, "Expired");
        assert_eq!(long_gone.section(today), Section::PastGrace);
        assert!(long_gone.payment_failed(today));
        // Ending today is not yet lapsed: the payment may still come.
        let today_end = queue_row("2026-11-23", true, "Current");
        assert!(!today_end.payment_failed(today));
        assert_eq!(today_end.section(today), Section::AutoRenew);
        // A pending payment is pending, not failed.
        let pending = queue_row("2026-11-20", true, "Pending");
        assert!(!pending.payment_failed(today));
        assert_eq!(pending.payment_mark(today), Some(PAYMENT_PENDING));
        // Without a recurring payment a lapse is an ordinary lapse.
        assert!(!queue_row("2026-11-20", false, "Grace").payment_failed(today));
    }

    #[test]
    fn failed_payments_lead_their_section() {
        let today = d("2026-11-23");
        let mut plain = queue_row("2026-11-01", false, "Grace");
        plain.sort_name = "Aaron".into();
        let mut failed = queue_row("2026-11-20", true, "Current");
        failed.sort_name = "Zed".into();
        assert_eq!(urgency_cmp(&failed, &plain, today), Ordering::Less);
        let mut past = queue_row("2026-10-01", false, "Expired");
        past.sort_name = "Aaron".into();
        let mut past_failed = queue_row("2026-09-01", true, "Expired");
        past_failed.sort_name = "Zed".into();
        assert_eq!(urgency_cmp(&past_failed, &past, today), Ordering::Less);
        // Sections still come first: a failed payment past grace is after the due.
        let due = queue_row("2026-12-01", false, "Current");
        assert_eq!(urgency_cmp(&due, &past_failed, today), Ordering::Less);
    }

    fn d(s: &str) -> NaiveDate {
        parse_iso(s).unwrap()
    }

    const W: Windows = Windows {
        due_within_days: 30,
        lapsed_within_days: 90,
    };

    #[test]
    fn window_edges_are_inclusive() {
        let today = d("2026-11-23");
        assert_eq!(W.bucket(d("2026-11-23"), today), Some(Bucket::Due));
        assert_eq!(W.bucket(d("2026-12-23"), today), Some(Bucket::Due));
        assert_eq!(W.bucket(d("2026-12-24"), today), None);
        assert_eq!(W.bucket(d("2026-11-22"), today), Some(Bucket::Lapsed));
        assert_eq!(W.bucket(d("2026-08-25"), today), Some(Bucket::Lapsed));
        assert_eq!(W.bucket(d("2026-08-24"), today), None);
    }

    #[test]
    fn leap_day_windows() {
        let today = d("2028-02-29");
        assert_eq!(W.last_day(today), d("2028-03-30"));
        assert_eq!(W.first_day(today), d("2027-12-01"));
        assert_eq!(
            W.range(today, Some(Bucket::Lapsed)),
            (d("2027-12-01"), d("2028-02-28"))
        );
    }

    #[test]
    fn days_sign() {
        let today = d("2026-11-23");
        assert_eq!(days_from_today(d("2026-11-26"), today), 3);
        assert_eq!(days_from_today(d("2026-11-20"), today), -3);
        assert_eq!(describe_days(-1), "yesterday");
        assert_eq!(describe_days(12), "in 12 days");
    }

    #[test]
    fn exclusions_by_status_as_crms_spell_them() {
        for s in ["Cancelled", "canceled", "Deceased"] {
            assert!(is_excluded(s, false), "{s}");
        }
        for s in [
            "Current",
            "Grace",
            "Expired",
            "New",
            " pending ",
            "",
            "Mystery",
        ] {
            assert!(!is_excluded(s, false), "{s}");
        }
        assert!(is_excluded("Current", true));
    }

    #[test]
    fn chooser_keys_are_unique_and_round_trip() {
        for c in Channel::ALL {
            assert_eq!(Channel::from_key(c.key()), Some(c));
            assert_eq!(Channel::parse(c.as_str()), Some(c));
        }
        for o in Outcome::ALL {
            assert_eq!(Outcome::from_key(o.key()), Some(o));
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
    }

    #[test]
    fn preferences_name_the_flag() {
        let flags = ContactFlags {
            do_not_phone: true,
            on_hold: true,
            no_bulk_email: true,
            ..ContactFlags::default()
        };
        assert_eq!(
            preference_conflict(Channel::Phone, &flags, None),
            Some("Do Not Phone")
        );
        assert_eq!(preference_conflict(Channel::Sms, &flags, None), None);
        assert_eq!(
            preference_conflict(Channel::Email, &flags, None),
            Some("email On Hold (bouncing)")
        );
        assert_eq!(preference_conflict(Channel::Letter, &flags, None), None);
        let clean = ContactFlags {
            no_bulk_email: true,
            ..ContactFlags::default()
        };
        assert_eq!(preference_conflict(Channel::Email, &clean, None), None);
        assert_eq!(
            bulk_preference_conflict(Channel::Email, &clean, None),
            Some("No Bulk Emails")
        );
        let asked = LastContact {
            id: 1,
            at: "2026-11-20T09:00:00".into(),
            channel: "phone".into(),
            outcome: "do_not_contact".into(),
            staff: "ann".into(),
        };
        assert_eq!(
            preference_conflict(Channel::InPerson, &ContactFlags::default(), Some(&asked)),
            Some("asked not to be contacted")
        );
    }

    #[test]
    fn snooze_input() {
        let today = d("2026-11-23");
        assert_eq!(parse_snooze("+7", today), Ok(d("2026-11-30")));
        assert_eq!(parse_snooze(" +7d ", today), Ok(d("2026-11-30")));
        assert_eq!(parse_snooze("2026-12-01", today), Ok(d("2026-12-01")));
        assert!(
            parse_snooze("2026-11-23", today)
                .unwrap_err()
                .contains("not after today")
        );
        assert!(parse_snooze("+0", today).is_err());
        assert!(
            parse_snooze("+x", today)
                .unwrap_err()
                .contains("number of days")
        );
        assert!(
            parse_snooze("01/12/2026", today)
                .unwrap_err()
                .contains("YYYY-MM-DD")
        );
        assert!(parse_snooze("+400", today).unwrap_err().contains("year"));
    }
}
