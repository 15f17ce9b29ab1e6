//! `rollcall renewals`: the renewals queue outside the app, as a table, JSON, or a CSV call list
//! or mail-merge that respects contact preferences.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

use super::Ctx;
use super::output::{note, write_output};
use crate::config::Config;
use crate::domain::renewal::{
    self, Bucket, LastContact, ListPurpose, PAYMENT_FAILED, QueueFilter, QueueRow, Windows,
    describe_days,
};
use crate::export::SafeCsvWriter;
use crate::storage::renewals::{self as queue_store, ContactDetails};
use crate::text::{cell, printable};

/// The longest window accepted, in days (ten years).
const MAX_WINDOW_DAYS: i64 = 3653;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Due: end date from today to this many days ahead [default: config, else 30]
    #[arg(long, value_name = "DAYS", value_parser = window_days, allow_negative_numbers = true)]
    due_within: Option<u32>,
    /// Lapsed: end date in this many days before today [default: config, else 90]
    #[arg(long, value_name = "DAYS", value_parser = window_days, allow_negative_numbers = true)]
    lapsed_within: Option<u32>,
    /// Only this bucket
    #[arg(long, value_enum)]
    bucket: Option<BucketArg>,
    /// Only members in this region (whole name, any case)
    #[arg(long, value_name = "R")]
    region: Option<String>,
    /// Only members of this local party (whole name, any case)
    #[arg(long, value_name = "P")]
    local_party: Option<String>,
    /// Print a JSON array of {contact_id, membership_id, name, end_date, days, bucket,
    /// last_contact}; `days` is end date minus today (negative: lapsed that many days ago)
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print CSV (UTF-8 with BOM, CRLF); with --for, a call list or mail-merge file
    #[arg(long)]
    csv: bool,
    /// List for contacting by this channel: leaves out members whose preferences forbid it
    /// (and those without the phone number, email or address it needs)
    #[arg(long = "for", value_enum, value_name = "CHANNEL")]
    purpose: Option<PurposeArg>,
    /// Include memberships snoozed to a later date or settled by their last contact
    #[arg(long)]
    include_set_aside: bool,
    /// Include memberships that renew automatically
    #[arg(long)]
    include_auto_renew: bool,
    /// Write to this file (created owner-only) instead of standard output
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum BucketArg {
    Due,
    Lapsed,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum PurposeArg {
    /// A call list: leaves out Do Not Phone
    Phone,
    /// An email mail-merge: leaves out Do Not Email, On Hold (bouncing) and No Bulk Emails
    Email,
    /// A letter mail-merge: leaves out Do Not Mail
    Letter,
}

impl From<PurposeArg> for ListPurpose {
    fn from(p: PurposeArg) -> ListPurpose {
        match p {
            PurposeArg::Phone => ListPurpose::Phone,
            PurposeArg::Email => ListPurpose::Email,
            PurposeArg::Letter => ListPurpose::Letter,
        }
    }
}

fn window_days(s: &str) -> Result<u32, String> {
    let n: i64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a whole number of days"))?;
    if !(0..=MAX_WINDOW_DAYS).contains(&n) {
        return Err(format!("{n} is outside 0 to {MAX_WINDOW_DAYS} days"));
    }
    Ok(n as u32)
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let config = Config::load_default()?;
    let windows = Windows {
        due_within_days: args.due_within.unwrap_or(config.renewals.due_within_days),
        lapsed_within_days: args
            .lapsed_within
            .unwrap_or(config.renewals.lapsed_within_days),
    };
    let bucket = args.bucket.map(|b| match b {
        BucketArg::Due => Bucket::Due,
        BucketArg::Lapsed => Bucket::Lapsed,
    });
    let filter = QueueFilter {
        bucket,
        region: args.region.clone(),
        local_party: args.local_party.clone(),
        show_set_aside: args.include_set_aside,
        show_auto_renew: args.include_auto_renew,
        ..QueueFilter::default()
    };
    let store = ctx.open_store_for_reading()?;
    let today = ctx.clock.today;
    let rows = queue_store::queue(&store.conn, today, windows, bucket)?;
    let arranged = renewal::arrange(&rows, &filter, today, &ctx.clock.user);
    let purpose = args.purpose.map(ListPurpose::from);

    let mut listed: Vec<Listed> = Vec::with_capacity(arranged.order.len());
    let mut left_out: BTreeMap<&'static str, usize> = BTreeMap::new();
    for &i in &arranged.order {
        let row = &rows[i];
        let details = match purpose {
            Some(_) => Some(queue_store::contact_details(&store.conn, row.contact_id)?),
            None => None,
        };
        if let (Some(p), Some(det)) = (purpose, &details)
            && let Some(why) = list_exclusion(p, row, det)
        {
            *left_out.entry(why).or_default() += 1;
            continue;
        }
        listed.push(Listed { row, details });
    }

    let mut out = Vec::new();
    if args.json {
        write_json(&mut out, &listed, today)?;
    } else if args.csv {
        write_csv(&mut out, &listed, purpose, today)?;
    } else {
        write_table(&mut out, &listed, today)?;
    }
    write_output(args.output.as_deref(), &ctx.db, &out)?;
    note(summary(&listed, &left_out, &arranged, today));
    Ok(ExitCode::SUCCESS)
}

/// A row that made the list, with the contact details a channel list needs.
struct Listed<'a> {
    row: &'a QueueRow,
    details: Option<ContactDetails>,
}

/// Why a member is left off a list: their preferences, or no detail to reach them by.
fn list_exclusion(
    purpose: ListPurpose,
    row: &QueueRow,
    details: &ContactDetails,
) -> Option<&'static str> {
    if let Some(why) = renewal::list_exclusion(purpose, &row.flags, row.last_contact.as_ref()) {
        return Some(why);
    }
    match purpose {
        ListPurpose::Phone => details.phone.trim().is_empty().then_some("no phone number"),
        ListPurpose::Email => details
            .email
            .trim()
            .is_empty()
            .then_some("no email address"),
        ListPurpose::Letter => (details.street_address.trim().is_empty()
            || details.postcode.trim().is_empty())
        .then_some("no postal address"),
    }
}

/// "412 listed (120 due, 292 lapsed); left out: 12 Do Not Phone, 3 no phone number; hidden: ..."
fn summary(
    listed: &[Listed],
    left_out: &BTreeMap<&'static str, usize>,
    arranged: &renewal::Arranged,
    today: chrono::NaiveDate,
) -> String {
    let due = listed
        .iter()
        .filter(|l| l.row.bucket(today) == Bucket::Due)
        .count();
    let failed = listed
        .iter()
        .filter(|l| l.row.payment_failed(today))
        .count();
    let failed = if failed > 0 {
        format!(", {failed} {PAYMENT_FAILED}")
    } else {
        String::new()
    };
    let mut line = format!(
        "{} listed ({due} due, {} lapsed{failed})",
        listed.len(),
        listed.len() - due
    );
    if !left_out.is_empty() {
        let parts: Vec<String> = left_out.iter().map(|(w, n)| format!("{n} {w}")).collect();
        line.push_str(&format!("; left out: {}", parts.join(", ")));
    }
    let mut hidden = Vec::new();
    if arranged.set_aside_hidden > 0 {
        hidden.push(format!(
            "{} snoozed or settled (--include-set-aside)",
            arranged.set_aside_hidden
        ));
    }
    if arranged.auto_renew_hidden > 0 {
        hidden.push(format!(
            "{} auto-renewing (--include-auto-renew)",
            arranged.auto_renew_hidden
        ));
    }
    if !hidden.is_empty() {
        line.push_str(&format!("; not listed: {}", hidden.join(", ")));
    }
    line
}

#[derive(Serialize)]
struct JsonRow<'a> {
    contact_id: &'a str,
    membership_id: Option<&'a str>,
    name: &'a str,
    end_date: String,
    days: i64,
    bucket: Bucket,
    /// The CRM's status is Pending: a renewal awaiting payment.
    payment_pending: bool,
    /// Auto-renewing, yet lapsed: the recurring payment did not renew it.
    payment_failed: bool,
    last_contact: Option<&'a LastContact>,
}

fn write_json(
    out: &mut dyn Write,
    listed: &[Listed],
    today: chrono::NaiveDate,
) -> anyhow::Result<()> {
    let rows: Vec<JsonRow> = listed
        .iter()
        .map(|l| JsonRow {
            contact_id: &l.row.contact_crm_id,
            membership_id: l.row.membership_crm_id.as_deref(),
            name: &l.row.name,
            end_date: l.row.end_date.to_string(),
            days: l.row.days(today),
            bucket: l.row.bucket(today),
            payment_pending: l.row.payment_pending(),
            payment_failed: l.row.payment_failed(today),
            last_contact: l.row.last_contact.as_ref(),
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &rows)?;
    writeln!(out)?;
    Ok(())
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "" }
}

/// "2026-11-20 phone, no answer (ann)".
fn last_contact_text(last: Option<&LastContact>) -> String {
    last.map(|l| {
        format!(
            "{} {} ({})",
            l.at.get(..10).unwrap_or(&l.at),
            l.how(),
            l.staff
        )
    })
    .unwrap_or_default()
}

fn write_csv(
    out: &mut dyn Write,
    listed: &[Listed],
    purpose: Option<ListPurpose>,
    today: chrono::NaiveDate,
) -> anyhow::Result<()> {
    let mut csv = SafeCsvWriter::new(out)?;
    let header: &[&str] = match purpose {
        None => &[
            "Contact ID",
            "Membership ID",
            "Name",
            "Membership Type",
            "Local Party",
            "Region",
            "End Date",
            "Days",
            "Bucket",
            "Last Contact",
            "Next Action",
            "Assigned To",
            "Payment",
        ],
        Some(ListPurpose::Phone) => &[
            "Contact ID",
            "Name",
            "Phone",
            "Welsh",
            "Membership Type",
            "Local Party",
            "End Date",
            "Days",
            "Bucket",
            "Last Contact",
            "Payment",
        ],
        Some(ListPurpose::Email) => &[
            "Contact ID",
            "Name",
            "First Name",
            "Email",
            "Welsh",
            "Membership Type",
            "End Date",
            "Bucket",
            "Payment",
        ],
        Some(ListPurpose::Letter) => &[
            "Contact ID",
            "Name",
            "First Name",
            "Street Address",
            "City",
            "County",
            "Postcode",
            "Country",
            "Welsh",
            "Membership Type",
            "End Date",
            "Bucket",
            "Payment",
        ],
    };
    csv.write_record(header)?;
    for l in listed {
        let r = l.row;
        let end = r.end_date.to_string();
        // Days in words: "-12" would need an apostrophe to be safe, and a call list is read.
        let days = describe_days(r.days(today));
        let bucket = r.bucket(today).as_str();
        let welsh = yes(r.flags.welsh);
        let last = last_contact_text(r.last_contact.as_ref());
        let payment = r.payment_mark(today).unwrap_or_default().to_owned();
        let mut record: Vec<String> = match (purpose, &l.details) {
            (Some(ListPurpose::Phone), Some(d)) => vec![
                r.contact_crm_id.clone(),
                r.name.clone(),
                d.phone.clone(),
                welsh.into(),
                r.membership_type.clone(),
                r.local_party.clone(),
                end,
                days,
                bucket.into(),
                last,
            ],
            (Some(ListPurpose::Email), Some(d)) => vec![
                r.contact_crm_id.clone(),
                r.name.clone(),
                d.first_name.clone(),
                d.email.clone(),
                welsh.into(),
                r.membership_type.clone(),
                end,
                bucket.into(),
            ],
            (Some(ListPurpose::Letter), Some(d)) => vec![
                r.contact_crm_id.clone(),
                r.name.clone(),
                d.first_name.clone(),
                d.street_address.clone(),
                d.city.clone(),
                d.county.clone(),
                d.postcode.clone(),
                d.country.clone(),
                welsh.into(),
                r.membership_type.clone(),
                end,
                bucket.into(),
            ],
            _ => vec![
                r.contact_crm_id.clone(),
                r.membership_crm_id.clone().unwrap_or_default(),
                r.name.clone(),
                r.membership_type.clone(),
                r.local_party.clone(),
                r.region.clone(),
                end,
                days,
                bucket.into(),
                last,
                r.snoozed_until.map(|d| d.to_string()).unwrap_or_default(),
                r.assignee.clone().unwrap_or_default(),
            ],
        };
        record.push(payment);
        csv.write_record(&record)?;
    }
    csv.flush()?;
    Ok(())
}

fn write_table(out: &mut dyn Write, listed: &[Listed], today: chrono::NaiveDate) -> io::Result<()> {
    writeln!(
        out,
        "{:<7} {:<14} {:<10} {:<28} {:<14} {:<20} LAST CONTACT",
        "BUCKET", "DAYS", "END", "NAME", "TYPE", "LOCAL PARTY"
    )?;
    for l in listed {
        let r = l.row;
        writeln!(
            out,
            "{:<7} {:<14} {:<10} {:<28} {:<14} {:<20} {}{}",
            r.bucket(today).as_str(),
            describe_days(r.days(today)),
            r.end_date,
            cell(&r.name, 28),
            cell(&r.membership_type, 14),
            cell(&r.local_party, 20),
            r.payment_mark(today)
                .map(|mark| format!("[{mark}] "))
                .unwrap_or_default(),
            printable(&last_contact_text(r.last_contact.as_ref())),
        )?;
    }
    Ok(())
}
