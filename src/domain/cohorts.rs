//! Retention by join cohort: of the memberships that joined in a year (or month), how many were
//! still members 1, 2, 3… years on, and the first-year renewal rate against later years'
//! (membership bodies report first-year renewal apart because it is far lower).
//!
//! Worked out from the dates each export carries: a membership that joined on J was still a
//! member N years on when its end date reaches J + N years (lifetime memberships always do). A
//! membership counts at year N only once J + N years is on or before today: a cohort too young
//! for an anniversary is not counted as lost at it. Pending memberships (never paid) are no
//! member and are left out.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::dates::add_months;
use super::membership::MemberStatus;

/// How cohorts are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CohortBy {
    JoinYear,
    JoinMonth,
}

/// One membership as the cohort rules see it.
#[derive(Debug, Clone)]
pub struct Joined {
    pub join: NaiveDate,
    /// None: lifetime.
    pub end: Option<NaiveDate>,
    pub crm_status: String,
    /// The group it is counted in for a split (region, local party); empty for none.
    pub group: String,
}

/// One cohort's retention: `joined` memberships, and at each anniversary N (index N - 1) how
/// many had reached it (`reached`) and how many of those were still members (`retained`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Cohort {
    pub cohort: String,
    pub joined: u64,
    pub reached: Vec<u64>,
    pub retained: Vec<u64>,
}

impl Cohort {
    /// Share still members at anniversary `year` (1-based), of those that reached it.
    pub fn rate(&self, year: usize) -> Option<f64> {
        let reached = *self.reached.get(year - 1)?;
        (reached > 0).then(|| self.retained[year - 1] as f64 / reached as f64)
    }
}

/// First-year renewal against later years, for one group of memberships.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RenewalRates {
    pub group: String,
    /// Memberships that reached their first anniversary, and of them still members.
    pub first_year_due: u64,
    pub first_year_renewed: u64,
    /// Later anniversaries (2nd onwards) reached by memberships still members a year before.
    pub later_due: u64,
    pub later_renewed: u64,
}

impl RenewalRates {
    pub fn first_year_rate(&self) -> Option<f64> {
        ratio(self.first_year_renewed, self.first_year_due)
    }

    pub fn later_rate(&self) -> Option<f64> {
        ratio(self.later_renewed, self.later_due)
    }
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The date `years` years after `join` (29 February moves to 28 February).
fn anniversary(join: NaiveDate, years: u32) -> NaiveDate {
    add_months(join, years * 12)
}

fn counted(m: &Joined) -> bool {
    MemberStatus::parse(&m.crm_status) != Some(MemberStatus::Pending)
}

/// Whether `m` was still a member on its `years`th anniversary.
fn retained_at(m: &Joined, years: u32) -> bool {
    m.end
        .is_none_or(|end| years <= anniversaries_by(m.join, end))
}

/// Anniversaries `m` has reached by `today`.
fn years_reached(m: &Joined, today: NaiveDate) -> u32 {
    anniversaries_by(m.join, today)
}

/// How many anniversaries of `join` fall on or before `day`: the difference in years, less one
/// when this year's has not come yet. Arithmetic, not a count up, since `stats --cohorts` asks
/// it for every membership and year (anniversaries only move forward as the years do).
fn anniversaries_by(join: NaiveDate, day: NaiveDate) -> u32 {
    let years = u32::try_from(day.year() - join.year()).unwrap_or(0);
    if years > 0 && anniversary(join, years) > day {
        years - 1
    } else {
        years
    }
}

fn cohort_name(join: NaiveDate, by: CohortBy) -> String {
    match by {
        CohortBy::JoinYear => format!("{}", join.year()),
        CohortBy::JoinMonth => format!("{}-{:02}", join.year(), join.month()),
    }
}

/// The cohorts of `memberships`, oldest first.
pub fn cohorts(memberships: &[Joined], by: CohortBy, today: NaiveDate) -> Vec<Cohort> {
    let mut out: BTreeMap<String, Cohort> = BTreeMap::new();
    for m in memberships.iter().filter(|m| counted(m) && m.join <= today) {
        let name = cohort_name(m.join, by);
        let cohort = out.entry(name.clone()).or_insert_with(|| Cohort {
            cohort: name,
            ..Cohort::default()
        });
        cohort.joined += 1;
        let reached = years_reached(m, today) as usize;
        if cohort.reached.len() < reached {
            cohort.reached.resize(reached, 0);
            cohort.retained.resize(reached, 0);
        }
        for year in 1..=reached {
            cohort.reached[year - 1] += 1;
            if retained_at(m, year as u32) {
                cohort.retained[year - 1] += 1;
            }
        }
    }
    out.into_values().collect()
}

/// First-year renewal against later years, for all of `memberships` (group "") and for each
/// group they carry, groups by name.
pub fn renewal_rates(memberships: &[Joined], today: NaiveDate) -> Vec<RenewalRates> {
    let mut out: BTreeMap<String, RenewalRates> = BTreeMap::new();
    for m in memberships.iter().filter(|m| counted(m) && m.join <= today) {
        let reached = years_reached(m, today);
        let mut groups = vec![String::new()];
        if !m.group.is_empty() {
            groups.push(m.group.clone());
        }
        for group in groups {
            let rates = out.entry(group.clone()).or_insert_with(|| RenewalRates {
                group,
                ..RenewalRates::default()
            });
            for year in 1..=reached {
                // A later year counts only memberships that were still members a year before:
                // a renewal rate, not retention since joining.
                if year > 1 && !retained_at(m, year - 1) {
                    break;
                }
                let renewed = retained_at(m, year);
                if year == 1 {
                    rates.first_year_due += 1;
                    rates.first_year_renewed += u64::from(renewed);
                } else {
                    rates.later_due += 1;
                    rates.later_renewed += u64::from(renewed);
                }
            }
        }
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn joined(join: &str, end: Option<&str>, group: &str) -> Joined {
        Joined {
            join: day(join),
            end: end.map(day),
            crm_status: "Current".into(),
            group: group.into(),
        }
    }

    #[test]
    fn a_cohort_counts_each_anniversary_it_reached() {
        let today = day("2026-11-23");
        let members = [
            // Joined 2023: reached 3 anniversaries; renewed twice, lapsed before the third.
            joined("2023-03-01", Some("2026-02-28"), "Wales"),
            // Joined 2023, never renewed.
            joined("2023-06-01", Some("2024-05-31"), "Wales"),
            // Joined 2023, lifetime.
            joined("2023-12-01", None, "North West"),
            // Joined 2026: no anniversary yet.
            joined("2026-01-10", Some("2027-01-09"), "Wales"),
        ];
        let found = cohorts(&members, CohortBy::JoinYear, today);
        assert_eq!(
            found,
            vec![
                Cohort {
                    cohort: "2023".into(),
                    joined: 3,
                    reached: vec![3, 3, 2],
                    retained: vec![2, 2, 0],
                },
                Cohort {
                    cohort: "2026".into(),
                    joined: 1,
                    reached: vec![],
                    retained: vec![],
                },
            ]
        );
        assert_eq!(found[0].rate(1), Some(2.0 / 3.0));
        assert_eq!(found[1].rate(1), None);
    }

    #[test]
    fn first_year_renewal_is_apart_from_later_years() {
        let today = day("2026-11-23");
        let members = [
            joined("2023-03-01", Some("2026-02-28"), "Wales"),
            joined("2023-06-01", Some("2024-05-31"), "Wales"),
            joined("2023-12-01", None, "North West"),
        ];
        let rates = renewal_rates(&members, today);
        let all = &rates[0];
        assert_eq!(all.group, "");
        // First year: 3 due, 2 renewed. Later: the first (years 2, 3: renewed, lapsed) and the
        // lifetime one (year 2 only: its third anniversary is 2026-12-01).
        assert_eq!((all.first_year_due, all.first_year_renewed), (3, 2));
        assert_eq!((all.later_due, all.later_renewed), (3, 2));
        let wales = rates.iter().find(|r| r.group == "Wales").unwrap();
        assert_eq!((wales.first_year_due, wales.first_year_renewed), (2, 1));
        assert_eq!((wales.later_due, wales.later_renewed), (2, 1));
    }

    #[test]
    fn anniversaries_are_counted_as_a_count_up_would() {
        let count_up = |join: NaiveDate, day: NaiveDate| {
            let mut n = 0;
            while anniversary(join, n + 1) <= day {
                n += 1;
            }
            n
        };
        let joins = [
            "2016-02-29",
            "2019-03-01",
            "2020-12-31",
            "2024-02-29",
            "2026-11-23",
        ];
        let days = [
            "2016-02-28",
            "2017-02-28",
            "2020-02-28",
            "2020-02-29",
            "2026-11-22",
            "2026-11-23",
            "2027-02-28",
            "2028-02-29",
            "2030-01-01",
        ];
        for join in joins {
            for d in days {
                assert_eq!(
                    anniversaries_by(day(join), day(d)),
                    count_up(day(join), day(d)),
                    "{join} by {d}"
                );
            }
        }
    }

    #[test]
    fn pending_memberships_are_left_out() {
        let mut m = joined("2023-03-01", Some("2026-02-28"), "");
        m.crm_status = "Pending".into();
        assert!(cohorts(&[m], CohortBy::JoinMonth, day("2026-11-23")).is_empty());
    }
}
