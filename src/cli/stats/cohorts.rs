//! `rollcall stats --cohorts`: retention by join cohort, and first-year renewal against later
//! years by region or local party (`domain::cohorts` says how each is counted).

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::bail;
use serde::Serialize;

use super::Args;
use crate::cli::Ctx;
use crate::cli::output::{note, print_text, write_output};
use crate::domain::cohorts::{Cohort, RenewalRates, cohorts, renewal_rates};
use crate::export::csv_safe::SafeCsvWriter;
use crate::storage::cohorts::joined;
use crate::storage::stats::thousands;

/// Anniversaries shown as columns in the text table (the JSON and CSV have them all).
const YEARS_SHOWN: usize = 8;

#[derive(Debug, Serialize)]
struct Report {
    as_of: String,
    cohorts: Vec<Cohort>,
    renewal_rates: Vec<RatesJson>,
}

#[derive(Debug, Serialize)]
struct RatesJson {
    #[serde(flatten)]
    rates: RenewalRates,
    first_year_rate: Option<f64>,
    later_rate: Option<f64>,
}

pub fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<ExitCode> {
    if args.output.is_some() && !(args.json || args.csv) {
        bail!("-o writes --csv or --json; say which");
    }
    let store = ctx.open_store_for_reading()?;
    let today = ctx.clock.today;
    let memberships = joined(&store.conn, Some(args.split))?;
    let report = Report {
        as_of: today.format("%Y-%m-%d").to_string(),
        cohorts: cohorts(&memberships, args.by, today),
        renewal_rates: renewal_rates(&memberships, today)
            .into_iter()
            .map(|rates| RatesJson {
                first_year_rate: rates.first_year_rate(),
                later_rate: rates.later_rate(),
                rates,
            })
            .collect(),
    };
    let bytes = if args.json {
        (serde_json::to_string_pretty(&report)? + "\n").into_bytes()
    } else if args.csv {
        to_csv(&report.cohorts)?
    } else {
        return print_text(&text(&report)).map(|()| ExitCode::SUCCESS);
    };
    write_output(args.output.as_deref(), &ctx.db, &bytes)?;
    if let Some(path) = &args.output {
        note(format_args!("cohorts written to {}", path.display()));
    }
    Ok(ExitCode::SUCCESS)
}

fn to_csv(found: &[Cohort]) -> anyhow::Result<Vec<u8>> {
    let mut csv = SafeCsvWriter::new(Vec::new())?;
    csv.write_record(["Cohort", "Joined", "Years On", "Reached", "Still Members"])?;
    for c in found {
        for (i, (reached, retained)) in c.reached.iter().zip(&c.retained).enumerate() {
            csv.write_record([
                c.cohort.clone(),
                c.joined.to_string(),
                (i + 1).to_string(),
                reached.to_string(),
                retained.to_string(),
            ])?;
        }
    }
    Ok(csv.into_inner()?)
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "-".to_owned(), |r| format!("{:.0}%", r * 100.0))
}

fn text(report: &Report) -> String {
    if report.cohorts.is_empty() {
        return "No memberships with a join date yet.\n".to_owned();
    }
    let mut out = format!(
        "Still members N years after joining, by join cohort (as of {})\n",
        report.as_of
    );
    let _ = write!(out, "{:<8} {:>9}", "COHORT", "JOINED");
    for year in 1..=YEARS_SHOWN {
        let _ = write!(out, " {:>5}", format!("{year}y"));
    }
    out.push('\n');
    for c in &report.cohorts {
        let _ = write!(out, "{:<8} {:>9}", c.cohort, thousands(c.joined));
        for year in 1..=YEARS_SHOWN {
            let _ = write!(out, " {:>5}", percent(c.rate(year)));
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\nRenewal at the first anniversary against later ones\n{:<28} {:>22} {:>22}",
        "", "FIRST YEAR", "LATER YEARS"
    );
    for r in &report.renewal_rates {
        let rates = &r.rates;
        let both = |rate: Option<f64>, renewed: u64, due: u64| {
            format!(
                "{} ({}/{})",
                percent(rate),
                thousands(renewed),
                thousands(due)
            )
        };
        let _ = writeln!(
            out,
            "{:<28} {:>22} {:>22}",
            if rates.group.is_empty() {
                "All"
            } else {
                &rates.group
            },
            both(
                r.first_year_rate,
                rates.first_year_renewed,
                rates.first_year_due
            ),
            both(r.later_rate, rates.later_renewed, rates.later_due),
        );
    }
    out
}
