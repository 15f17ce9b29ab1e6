//! `rollcall changes`: the change feed, what imports saw change in the CRM's fields (who moved,
//! whose email started bouncing, who moved local party), for the people who act on it.

use std::process::ExitCode;

use chrono::NaiveDate;

use super::output::ReportFormat;
use super::{Ctx, parse_date};
use crate::domain::changes::ChangeKind;
use crate::export::csv_safe::SafeCsvWriter;
use crate::storage::changes::{self, ChangeFilter, FieldChange};
use crate::text::cell;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only changes seen by imports as of this date or later
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub since: Option<NaiveDate>,
    /// Only changes of this kind (repeat for several)
    #[arg(long, value_enum, value_name = "KIND")]
    pub kind: Vec<ChangeKind>,
    /// Only contacts in this region (as the CRM has it now)
    #[arg(long, value_name = "R")]
    pub region: Option<String>,
    /// Only contacts in this local party (as the CRM has it now): a move lists the members who
    /// arrived
    #[arg(long, value_name = "P")]
    pub local_party: Option<String>,
    #[command(flatten)]
    pub format: ReportFormat,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    args.format.check()?;
    let store = ctx.open_store_for_reading()?;
    let filter = ChangeFilter {
        since: args.since.map(|d| d.format("%Y-%m-%d").to_string()),
        kinds: args.kind,
        region: args.region,
        local_party: args.local_party,
        import_id: None,
    };
    let found = changes::list(&store.conn, &filter)?;
    args.format.emit(
        &ctx.db,
        &found,
        || to_csv(&found),
        || table(&found),
        (found.len(), "change(s)"),
    )
}

const CSV_HEADER: [&str; 11] = [
    "Seen On",
    "Contact ID",
    "Name",
    "Region",
    "Local Party",
    "Membership ID",
    "Membership Type",
    "Kind",
    "Field",
    "From",
    "To",
];

fn csv_record(c: &FieldChange) -> [String; 11] {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        c.occurred_on.clone(),
        c.crm_contact_id.clone(),
        c.name.clone(),
        c.region.clone(),
        c.local_party.clone(),
        text(&c.crm_membership_id),
        text(&c.membership_type),
        c.kind.name().to_owned(),
        c.field.clone(),
        text(&c.old_value),
        text(&c.new_value),
    ]
}

/// UTF-8 with a byte-order mark, every cell neutralised against spreadsheet formulas.
pub fn to_csv(found: &[FieldChange]) -> anyhow::Result<Vec<u8>> {
    let mut csv = SafeCsvWriter::new(Vec::new())?;
    csv.write_record(CSV_HEADER)?;
    for c in found {
        csv.write_record(csv_record(c))?;
    }
    Ok(csv.into_inner()?)
}

/// The widest a value cell gets before it is cut with `…` (--json and --csv have it all).
const VALUE_WIDTH: usize = 40;

fn table(found: &[FieldChange]) -> String {
    if found.is_empty() {
        return "No changes recorded: imports record them from the second import of a CRM on.\n"
            .to_owned();
    }
    let shown = |v: &Option<String>| match v.as_deref() {
        None | Some("") => "-".to_owned(),
        Some(v) => cell(v, VALUE_WIDTH),
    };
    let rows: Vec<[String; 6]> = found
        .iter()
        .map(|c| {
            [
                c.occurred_on.clone(),
                c.crm_contact_id.clone(),
                cell(&c.name, VALUE_WIDTH),
                c.kind.name().to_owned(),
                c.field.replace('_', " "),
                format!("{} → {}", shown(&c.old_value), shown(&c.new_value)),
            ]
        })
        .collect();
    let header = ["SEEN", "CONTACT", "NAME", "KIND", "FIELD", "CHANGE"].map(str::to_owned);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String; 6]| {
        let mut l = String::new();
        for (c, w) in cells.iter().zip(widths) {
            l.push_str(c);
            l.push_str(&" ".repeat(w - c.chars().count() + 2));
        }
        l.trim_end().to_owned() + "\n"
    };
    let mut out = line(&header);
    for row in &rows {
        out += &line(row);
    }
    let contacts: std::collections::HashSet<i64> = found.iter().map(|c| c.contact_id).collect();
    out += &format!(
        "{} change(s) to {} contact(s).\n",
        found.len(),
        contacts.len()
    );
    out
}
