//! `rollcall duplicates`: contacts that are probably one person, ranked by confidence with why,
//! and memberships of one contact that overlap, for the CRM's own merge (rollcall never merges:
//! the CRM is the system of record).

use std::fmt::Write as _;
use std::process::ExitCode;

use super::Ctx;
use super::output::ReportFormat;
use crate::export::csv_safe::SafeCsvWriter;
use crate::storage::duplicates::{self, DuplicatePair, Duplicates};
use crate::text::cell;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// JSON: the pairs and the overlapping memberships; CSV: the pairs for the CRM's merge, the
    /// two CRM contact ids side by side, then confidence and reasons
    #[command(flatten)]
    pub format: ReportFormat,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    args.format.check()?;
    let store = ctx.open_store_for_reading()?;
    let found = duplicates::find(&store.conn)?;
    args.format.emit(
        &ctx.db,
        &found,
        || to_csv(&found.pairs),
        || text(&found),
        (found.pairs.len(), "pair(s)"),
    )
}

const CSV_HEADER: [&str; 7] = [
    "Contact ID 1",
    "Contact ID 2",
    "Confidence",
    "Reasons",
    "Display Name 1",
    "Display Name 2",
    "Source",
];

fn reasons(pair: &DuplicatePair) -> String {
    pair.reasons
        .iter()
        .map(|r| r.name())
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn to_csv(pairs: &[DuplicatePair]) -> anyhow::Result<Vec<u8>> {
    let mut csv = SafeCsvWriter::new(Vec::new())?;
    csv.write_record(CSV_HEADER)?;
    for p in pairs {
        csv.write_record([
            p.first.crm_contact_id.clone(),
            p.second.crm_contact_id.clone(),
            format!("{:.2}", p.confidence),
            reasons(p),
            p.first.name.clone(),
            p.second.name.clone(),
            p.source.clone(),
        ])?;
    }
    Ok(csv.into_inner()?)
}

const NAME_WIDTH: usize = 28;

fn text(found: &Duplicates) -> String {
    let mut out = String::new();
    if found.pairs.is_empty() {
        out.push_str("No probable duplicate contacts.\n");
    } else {
        let _ = writeln!(
            out,
            "{} pair(s) of contacts that are probably one person, most likely first \
             (merge them in the CRM):",
            found.pairs.len()
        );
        for p in &found.pairs {
            let _ = writeln!(
                out,
                "  {:.2}  {:<10} {:<w$}  {:<10} {:<w$}  {}",
                p.confidence,
                p.first.crm_contact_id,
                cell(&p.first.name, NAME_WIDTH),
                p.second.crm_contact_id,
                cell(&p.second.name, NAME_WIDTH),
                reasons(p),
                w = NAME_WIDTH
            );
        }
    }
    if found.overlapping_memberships.is_empty() {
        out.push_str("No overlapping memberships.\n");
    } else {
        let _ = writeln!(
            out,
            "\n{} pair(s) of memberships of one contact that overlap in type and dates:",
            found.overlapping_memberships.len()
        );
        for o in &found.overlapping_memberships {
            let _ = writeln!(
                out,
                "  contact {:<10} {:<w$}  {}: memberships {} and {}",
                o.crm_contact_id,
                cell(&o.name, NAME_WIDTH),
                o.membership_type,
                o.first_membership_id.as_deref().unwrap_or("-"),
                o.second_membership_id.as_deref().unwrap_or("-"),
                w = NAME_WIDTH
            );
        }
    }
    out
}
