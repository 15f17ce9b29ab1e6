//! `rollcall drift`: memberships whose CRM status disagrees with the status their dates give as
//! of today, grouped by the kind of disagreement, as a list a CRM administrator can work from.

use std::fmt::Write as _;
use std::process::ExitCode;

use super::Ctx;
use super::output::ReportFormat;
use crate::domain::drift::DriftKind;
use crate::export::csv_safe::SafeCsvWriter;
use crate::storage::drift::{Drifted, drifted};
use crate::text::cell;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// JSON: one object per membership; CSV: for the CRM administrator
    #[command(flatten)]
    pub format: ReportFormat,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    args.format.check()?;
    let store = ctx.open_store_for_reading()?;
    let found = drifted(&store.conn, ctx.clock.today)?;
    args.format.emit(
        &ctx.db,
        &found,
        || to_csv(&found),
        || grouped_text(&found),
        (found.len(), "membership(s)"),
    )
}

const CSV_HEADER: [&str; 10] = [
    "Kind",
    "Membership ID",
    "Contact ID",
    "Display Name",
    "Membership Type",
    "CRM Status",
    "Status By Dates",
    "Membership Start Date",
    "Membership Expiration Date",
    "Region",
];

pub fn to_csv(found: &[Drifted]) -> anyhow::Result<Vec<u8>> {
    let mut csv = SafeCsvWriter::new(Vec::new())?;
    csv.write_record(CSV_HEADER)?;
    for d in found {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        csv.write_record([
            d.kind.name().to_owned(),
            text(&d.crm_membership_id),
            d.crm_contact_id.clone(),
            d.name.clone(),
            d.membership_type.clone(),
            d.crm_status.clone(),
            d.status_by_dates.clone(),
            text(&d.start_date),
            text(&d.end_date),
            d.region.clone(),
        ])?;
    }
    Ok(csv.into_inner()?)
}

const NAME_WIDTH: usize = 30;

/// One heading per kind with its count, then its memberships.
fn grouped_text(found: &[Drifted]) -> String {
    if found.is_empty() {
        return "No drift: every CRM status agrees with its dates.\n".to_owned();
    }
    let mut out = String::new();
    let mut kind: Option<DriftKind> = None;
    for d in found {
        if kind != Some(d.kind) {
            kind = Some(d.kind);
            let n = found.iter().filter(|x| x.kind == d.kind).count();
            let _ = writeln!(
                out,
                "{}{} ({n}): {}",
                if out.is_empty() { "" } else { "\n" },
                d.kind.name(),
                d.kind.describe()
            );
        }
        let _ = writeln!(
            out,
            "  membership {:<10} contact {:<10} {:<w$}  {:<14} CRM {} / dates {}, ends {}",
            d.crm_membership_id.as_deref().unwrap_or("-"),
            d.crm_contact_id,
            cell(&d.name, NAME_WIDTH),
            cell(&d.membership_type, 14),
            d.crm_status,
            d.status_by_dates,
            d.end_date.as_deref().unwrap_or("never"),
            w = NAME_WIDTH
        );
    }
    let _ = writeln!(out, "\n{} membership(s) drifted.", found.len());
    out
}
