//! Status drift: a membership whose CRM status disagrees with the status its dates give as of
//! today ([`derive_status`], the rule the member view and search use to flag the same
//! disagreement), sorted into the kinds of disagreement a CRM administrator fixes differently.
//!
//! CiviCRM recomputes statuses only when its scheduled job runs, so a few weeks of "Current past
//! its end date" is a job that has not run; months of it, with the dates long past, is more
//! likely a status override someone forgot ([`FORGOTTEN_AFTER_DAYS`]).

use chrono::NaiveDate;
use serde::Serialize;

use super::dates::add_months;
use super::membership::{MemberStatus, MembershipDates, derive_status};

/// Days past the end of grace after which a status that still counts as a member looks like a
/// forgotten override rather than a job that has not run yet: the scheduled job runs daily in
/// most installations, and a quarter is longer than any lag between export and job.
pub const FORGOTTEN_AFTER_DAYS: i64 = 90;

/// The kinds of disagreement, in the order `rollcall drift` lists them (the most costly first:
/// people counted as members who are not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriftKind {
    /// The contact is deceased, but the membership's status is not Deceased.
    DeceasedNotMarked,
    /// Still a member in the CRM far past grace: an override someone forgot.
    ForgottenOverride,
    /// New or Current in the CRM, but the end date has passed.
    CurrentPastEnd,
    /// Grace in the CRM beyond the month grace lasts.
    GraceBeyondItsMonth,
    /// Expired (or Grace) in the CRM, but the dates say it is in force: a renewal whose status
    /// was not brought up to date.
    LapsedButInDate,
    /// New in the CRM past its first three months.
    NewTooLong,
    /// A status word rollcall does not know.
    UnknownStatus,
    /// Any other disagreement (e.g. Current before its start date).
    Other,
}

impl DriftKind {
    pub fn name(self) -> &'static str {
        match self {
            DriftKind::DeceasedNotMarked => "deceased-not-marked",
            DriftKind::ForgottenOverride => "forgotten-override",
            DriftKind::CurrentPastEnd => "current-past-end",
            DriftKind::GraceBeyondItsMonth => "grace-beyond-its-month",
            DriftKind::LapsedButInDate => "lapsed-but-in-date",
            DriftKind::NewTooLong => "new-too-long",
            DriftKind::UnknownStatus => "unknown-status",
            DriftKind::Other => "other",
        }
    }

    /// What the CRM administrator is asked to look at, for the heading of its group.
    pub fn describe(self) -> &'static str {
        match self {
            DriftKind::DeceasedNotMarked => "deceased contact, membership not marked Deceased",
            DriftKind::ForgottenOverride => {
                "still counted as a member months after grace ended: a forgotten override?"
            }
            DriftKind::CurrentPastEnd => "New or Current in the CRM past the end date",
            DriftKind::GraceBeyondItsMonth => "Grace in the CRM beyond its month",
            DriftKind::LapsedButInDate => "lapsed in the CRM, but the dates are in force",
            DriftKind::NewTooLong => "New in the CRM past its first three months",
            DriftKind::UnknownStatus => "a status rollcall does not know",
            DriftKind::Other => "other disagreements",
        }
    }
}

/// The drift of one membership as of `today`: None when the CRM's status is the one its dates
/// give (or it has none to disagree with), otherwise which kind of disagreement.
pub fn classify(
    crm_status: &str,
    dates: MembershipDates,
    deceased: bool,
    today: NaiveDate,
) -> Option<DriftKind> {
    if crm_status.trim().is_empty() {
        return None;
    }
    let crm = MemberStatus::parse(crm_status);
    let derived = derive_status(dates, crm, deceased, today);
    if crm == Some(derived) {
        return None;
    }
    let Some(crm) = crm else {
        return Some(DriftKind::UnknownStatus);
    };
    Some(match (crm, derived) {
        (_, MemberStatus::Deceased) => DriftKind::DeceasedNotMarked,
        (
            MemberStatus::New | MemberStatus::Current | MemberStatus::Grace,
            MemberStatus::Expired,
        ) if long_past_grace(dates.end, today) => DriftKind::ForgottenOverride,
        (
            MemberStatus::New | MemberStatus::Current,
            MemberStatus::Grace | MemberStatus::Expired,
        ) => DriftKind::CurrentPastEnd,
        (MemberStatus::Grace, MemberStatus::Expired) => DriftKind::GraceBeyondItsMonth,
        (
            MemberStatus::Expired | MemberStatus::Grace,
            MemberStatus::New | MemberStatus::Current,
        ) => DriftKind::LapsedButInDate,
        (MemberStatus::New, MemberStatus::Current) => DriftKind::NewTooLong,
        _ => DriftKind::Other,
    })
}

fn long_past_grace(end: Option<NaiveDate>, today: NaiveDate) -> bool {
    end.is_some_and(|end| (today - add_months(end, 1)).num_days() > FORGOTTEN_AFTER_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn ending(join: &str, end: &str) -> MembershipDates {
        MembershipDates {
            join: Some(day(join)),
            start: Some(day(join)),
            end: Some(day(end)),
            dates_unknown: false,
        }
    }

    const TODAY: &str = "2026-11-23";

    #[test]
    fn each_kind_of_disagreement() {
        let t = day(TODAY);
        let dates = ending("2024-01-01", "2026-10-31");
        assert_eq!(classify("Grace", dates, false, t), None);
        assert_eq!(
            classify("Current", dates, false, t),
            Some(DriftKind::CurrentPastEnd)
        );
        let long_ago = ending("2020-01-01", "2026-03-31");
        assert_eq!(
            classify("Current", long_ago, false, t),
            Some(DriftKind::ForgottenOverride)
        );
        let past_grace = ending("2020-01-01", "2026-09-30");
        assert_eq!(
            classify("Grace", past_grace, false, t),
            Some(DriftKind::GraceBeyondItsMonth)
        );
        let in_date = ending("2020-01-01", "2027-09-30");
        assert_eq!(
            classify("Expired", in_date, false, t),
            Some(DriftKind::LapsedButInDate)
        );
        assert_eq!(
            classify("Current", in_date, true, t),
            Some(DriftKind::DeceasedNotMarked)
        );
        assert_eq!(
            classify("New", in_date, false, t),
            Some(DriftKind::NewTooLong)
        );
        assert_eq!(
            classify("Honorary", in_date, false, t),
            Some(DriftKind::UnknownStatus)
        );
        assert_eq!(classify("", in_date, false, t), None);
        assert_eq!(classify("Cancelled", dates, false, t), None);
    }

    #[test]
    fn the_forgotten_override_starts_after_ninety_days_past_grace() {
        let t = day(TODAY);
        // Grace ended on 2026-08-24: 91 days before today.
        let just_over = ending("2020-01-01", "2026-07-24");
        assert_eq!(
            classify("Current", just_over, false, t),
            Some(DriftKind::ForgottenOverride)
        );
        // Grace ended on 2026-08-25: 90 days.
        let just_under = ending("2020-01-01", "2026-07-25");
        assert_eq!(
            classify("Current", just_under, false, t),
            Some(DriftKind::CurrentPastEnd)
        );
    }
}
