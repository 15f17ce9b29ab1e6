//! Membership statuses, worked out from the dates as CiviCRM's default status rules do.
//!
//! CiviCRM only recomputes statuses when its scheduled job runs, so an exported status can be
//! stale. rollcall shows the CRM's status and its own, and flags when they disagree.

use std::fmt;

use chrono::NaiveDate;
use serde::Serialize;

use super::dates::add_months;

/// A membership status, in CiviCRM's order of precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum MemberStatus {
    New,
    Current,
    Grace,
    Expired,
    Pending,
    Cancelled,
    Deceased,
    /// A membership known only by its type (NationBuilder's `membership_names`): no dates, so
    /// no status can be worked out, and it never counts as a member. Not in [`MemberStatus::ALL`]
    /// (no CRM exports it; `parse` never gives it).
    DatesUnknown,
}

impl MemberStatus {
    pub const ALL: [MemberStatus; 7] = [
        MemberStatus::New,
        MemberStatus::Current,
        MemberStatus::Grace,
        MemberStatus::Expired,
        MemberStatus::Pending,
        MemberStatus::Cancelled,
        MemberStatus::Deceased,
    ];

    pub fn label(self) -> &'static str {
        match self {
            MemberStatus::New => "New",
            MemberStatus::Current => "Current",
            MemberStatus::Grace => "Grace",
            MemberStatus::Expired => "Expired",
            MemberStatus::Pending => "Pending",
            MemberStatus::Cancelled => "Cancelled",
            MemberStatus::Deceased => "Deceased",
            MemberStatus::DatesUnknown => "dates unknown",
        }
    }

    /// Whether this status counts as being a member (New, Current, Grace).
    pub fn is_member(self) -> bool {
        matches!(
            self,
            MemberStatus::New | MemberStatus::Current | MemberStatus::Grace
        )
    }

    /// Reads a status as CRMs write it: CiviCRM's names, NationBuilder's `active`, `grace period`,
    /// `canceled`, `expired`. Unknown text gives None.
    pub fn parse(s: &str) -> Option<MemberStatus> {
        let s = s.trim().to_ascii_lowercase();
        Some(match s.as_str() {
            "new" => MemberStatus::New,
            "current" | "active" => MemberStatus::Current,
            "grace" | "grace period" => MemberStatus::Grace,
            "expired" | "lapsed" => MemberStatus::Expired,
            "pending" => MemberStatus::Pending,
            "cancelled" | "canceled" => MemberStatus::Cancelled,
            "deceased" => MemberStatus::Deceased,
            _ => return None,
        })
    }
}

impl fmt::Display for MemberStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The dates and CRM facts a status is worked out from.
#[derive(Debug, Clone, Copy, Default)]
pub struct MembershipDates {
    pub join: Option<NaiveDate>,
    pub start: Option<NaiveDate>,
    /// None: lifetime (unless `dates_unknown`).
    pub end: Option<NaiveDate>,
    /// The CRM gave the type only (`membership_dates_unknown`): no dates, never lifetime.
    pub dates_unknown: bool,
}

/// rollcall's own status for a membership as of `today`.
///
/// Rules (CiviCRM defaults, first match wins), with the end date the last day of membership:
/// - Deceased contact: Deceased. CRM status Cancelled or Pending: kept as is (no dates decide those).
/// - New: from the join date until the day before join + 3 months.
/// - Current: from the start date to the end date, both included (no end date: lifetime).
/// - Grace: the day after the end date to end + 1 month, both included.
/// - Expired: after that.
/// - A start date still in the future: Pending.
/// - Dates unknown (a type with no dates): DatesUnknown, never Current.
pub fn derive_status(
    dates: MembershipDates,
    crm_status: Option<MemberStatus>,
    deceased: bool,
    today: NaiveDate,
) -> MemberStatus {
    if deceased || crm_status == Some(MemberStatus::Deceased) {
        return MemberStatus::Deceased;
    }
    if let Some(s @ (MemberStatus::Cancelled | MemberStatus::Pending)) = crm_status {
        return s;
    }
    if dates.dates_unknown {
        return MemberStatus::DatesUnknown;
    }
    let start = dates.start.or(dates.join);
    if start.is_some_and(|s| today < s) {
        return MemberStatus::Pending;
    }
    if let Some(join) = dates.join
        && join <= today
        && today < add_months(join, 3)
        && dates.end.is_none_or(|end| today <= end)
    {
        return MemberStatus::New;
    }
    match dates.end {
        None => MemberStatus::Current,
        Some(end) if today <= end => MemberStatus::Current,
        Some(end) if today <= add_months(end, 1) => MemberStatus::Grace,
        Some(_) => MemberStatus::Expired,
    }
}

/// A contact's preferences and states that decide whether and how staff may contact them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ContactFlags {
    pub do_not_email: bool,
    pub do_not_phone: bool,
    pub do_not_mail: bool,
    pub do_not_sms: bool,
    pub no_bulk_email: bool,
    /// Email is bouncing.
    pub on_hold: bool,
    pub deceased: bool,
    pub welsh: bool,
}

impl ContactFlags {
    /// Short badges for list rows, most important first. Never colour alone: each is text.
    pub fn badges(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.deceased {
            out.push("DECEASED");
        }
        if self.do_not_phone {
            out.push("NoPhone");
        }
        if self.do_not_email {
            out.push("NoEmail");
        }
        if self.on_hold {
            out.push("Bounce");
        }
        if self.do_not_mail {
            out.push("NoMail");
        }
        if self.do_not_sms {
            out.push("NoSMS");
        }
        if self.welsh {
            out.push("Cym");
        }
        out
    }

    pub fn may_phone(&self) -> bool {
        !self.deceased && !self.do_not_phone
    }

    pub fn may_email(&self) -> bool {
        !self.deceased && !self.do_not_email && !self.on_hold
    }

    pub fn may_mail(&self) -> bool {
        !self.deceased && !self.do_not_mail
    }

    pub fn may_sms(&self) -> bool {
        !self.deceased && !self.do_not_sms
    }
}

/// Whether a `Preferred Language` value marks a Welsh speaker (`cy_GB`, `cy`, `Welsh`, `Cymraeg`).
pub fn is_welsh(preferred_language: &str) -> bool {
    let l = preferred_language.trim().to_ascii_lowercase();
    l == "cy" || l.starts_with("cy_") || l.starts_with("cy-") || l == "welsh" || l == "cymraeg"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dates::parse_iso;

    fn d(s: &str) -> NaiveDate {
        parse_iso(s).unwrap()
    }

    #[test]
    fn a_membership_with_dates_unknown_is_never_lifetime_current() {
        let dates = MembershipDates {
            dates_unknown: true,
            ..MembershipDates::default()
        };
        let today = d("2026-11-23");
        let status = derive_status(dates, None, false, today);
        assert_eq!(status, MemberStatus::DatesUnknown);
        assert!(!status.is_member());
        assert_eq!(status.label(), "dates unknown");
        assert_eq!(
            derive_status(dates, None, true, today),
            MemberStatus::Deceased
        );
        assert_eq!(
            derive_status(dates, Some(MemberStatus::Cancelled), false, today),
            MemberStatus::Cancelled
        );
        // Without the marker, no end date is lifetime: Current.
        let lifetime = MembershipDates::default();
        assert_eq!(
            derive_status(lifetime, None, false, today),
            MemberStatus::Current
        );
    }

    fn status(join: &str, start: &str, end: Option<&str>, today: &str) -> MemberStatus {
        let dates = MembershipDates {
            join: Some(d(join)),
            start: Some(d(start)),
            end: end.map(d),
            dates_unknown: false,
        };
        derive_status(dates, None, false, d(today))
    }

    #[test]
    fn lifecycle_boundaries() {
        let (j, s, e) = ("2025-01-10", "2025-01-10", Some("2026-01-09"));
        assert_eq!(status(j, s, e, "2025-01-09"), MemberStatus::Pending);
        assert_eq!(status(j, s, e, "2025-01-10"), MemberStatus::New);
        assert_eq!(status(j, s, e, "2025-04-09"), MemberStatus::New);
        assert_eq!(status(j, s, e, "2025-04-10"), MemberStatus::Current);
        assert_eq!(status(j, s, e, "2026-01-09"), MemberStatus::Current);
        assert_eq!(status(j, s, e, "2026-01-10"), MemberStatus::Grace);
        assert_eq!(status(j, s, e, "2026-02-09"), MemberStatus::Grace);
        assert_eq!(status(j, s, e, "2026-02-10"), MemberStatus::Expired);
    }

    #[test]
    fn renewed_member_is_current_not_new() {
        assert_eq!(
            status("2019-05-01", "2026-05-01", Some("2027-04-30"), "2026-05-02"),
            MemberStatus::Current
        );
    }

    #[test]
    fn lifetime_and_crm_only_statuses() {
        assert_eq!(
            status("2001-01-01", "2001-01-01", None, "2026-11-23"),
            MemberStatus::Current
        );
        let dates = MembershipDates::default();
        let today = d("2026-11-23");
        assert_eq!(
            derive_status(dates, Some(MemberStatus::Cancelled), false, today),
            MemberStatus::Cancelled
        );
        assert_eq!(
            derive_status(dates, Some(MemberStatus::Current), true, today),
            MemberStatus::Deceased
        );
    }

    #[test]
    fn parses_crm_status_words() {
        assert_eq!(
            MemberStatus::parse("grace period"),
            Some(MemberStatus::Grace)
        );
        assert_eq!(
            MemberStatus::parse("canceled"),
            Some(MemberStatus::Cancelled)
        );
        assert_eq!(
            MemberStatus::parse(" Current "),
            Some(MemberStatus::Current)
        );
        assert_eq!(MemberStatus::parse("Mystery"), None);
    }

    #[test]
    fn welsh_preference() {
        assert!(is_welsh("cy_GB"));
        assert!(is_welsh("Cymraeg"));
        assert!(!is_welsh("en_GB"));
        assert!(!is_welsh(""));
    }
}
