//! `rollcall search`: find members, as the app's search does (the same index and ranking, run
//! once, synchronously).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use super::Ctx;
use super::output::{print, print_text};
use crate::search::results::thousands;
use crate::search::{LoadProgress, MemberHit, Query, Searcher, disk};
use crate::text::cell;

/// The widest an id, status, type or postcode cell gets (the JSON has them whole).
const MAX_CELL: usize = 40;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to look for: a name or part of one, an email, a postcode, a phone number, or a
    /// contact or membership id (several words are all looked for; put `--` before a query that
    /// starts with `-`)
    #[arg(value_name = "QUERY", required = true, num_args = 1..)]
    pub query: Vec<String>,
    /// Show at most this many members, best first
    #[arg(long, default_value_t = 20, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub limit: u32,
    /// Print a JSON array of {contact_id, membership_id, name, email, postcode, status, score}
    #[arg(long)]
    pub json: bool,
}

/// One result as `--json` prints it. Ids are the CRM's, as strings; `status` is rollcall's own,
/// worked out from the dates as of `--today`.
#[derive(Debug, Serialize)]
struct JsonHit<'a> {
    contact_id: &'a str,
    membership_id: Option<&'a str>,
    name: &'a str,
    email: &'a str,
    postcode: &'a str,
    status: Option<&'static str>,
    score: i64,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let text = args.query.join(" ");
    let query = Query::parse(&text);
    if query.is_empty() {
        anyhow::bail!(
            "QUERY has no letters or digits to search for; give a name, email, postcode, phone \
             or id"
        );
    }
    let store = ctx.open_store_for_reading()?;
    let signature = crate::storage::search_source::signature(&store.conn)
        .context("reading the database for search")?;
    let index = disk::open_index(
        &store,
        &signature,
        ctx.clock.today,
        &LoadProgress::default(),
        &|| false,
        !ctx.read_only,
    )
    .context("building the search index")?;
    let outcome = Searcher::default()
        .search(&index, &query, args.limit as usize, None, &|| false)
        .context("the search was cancelled")?;
    let hits: Vec<MemberHit> = outcome
        .hits
        .iter()
        .map(|h| MemberHit::new(&index, h))
        .collect();
    let mut out = Vec::new();
    if args.json {
        let today = ctx.clock.today;
        let json: Vec<JsonHit> = hits
            .iter()
            .map(|h| JsonHit {
                contact_id: &h.contact_crm_id,
                membership_id: h.membership.as_ref().map(|m| m.crm_id.as_str()),
                name: &h.name,
                email: &h.email,
                postcode: &h.postcode,
                status: h.status(today).map(|s| s.label()),
                score: h.score,
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &json)?;
        writeln!(out)?;
        print(&out)?;
    } else {
        write_table(&mut out, &hits, ctx)?;
        writeln!(
            out,
            "{} of {} {}",
            hits.len(),
            thousands(outcome.total),
            if outcome.total == 1 {
                "match"
            } else {
                "matches"
            }
        )?;
        print_text(&String::from_utf8_lossy(&out))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn write_table(out: &mut impl Write, hits: &[MemberHit], ctx: &Ctx) -> std::io::Result<()> {
    let header = [
        "NAME",
        "CONTACT",
        "MEMBERSHIP",
        "STATUS",
        "TYPE",
        "ENDS",
        "POSTCODE",
        "EMAIL",
        "FLAGS",
    ];
    let rows: Vec<[String; 9]> = hits.iter().map(|h| table_row(h, ctx)).collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut line = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            if i + 1 < cells.len() {
                line.extend(std::iter::repeat_n(' ', w - cell.chars().count()));
            }
        }
        line.trim_end().to_owned()
    };
    writeln!(out, "{}", line(&header.map(String::from)))?;
    for row in &rows {
        writeln!(out, "{}", line(row))?;
    }
    Ok(())
}

fn table_row(h: &MemberHit, ctx: &Ctx) -> [String; 9] {
    let today = ctx.clock.today;
    let (membership, status, kind, ends) = match &h.membership {
        Some(m) => {
            let ours = m.status(h.flags.deceased, today).label();
            let status = if m.disagrees(h.flags.deceased, today) {
                format!("{ours} (CRM: {})", m.crm_status)
            } else {
                ours.to_owned()
            };
            let ends = match m.dates.end {
                Some(d) => d.to_string(),
                None if m.dates.dates_unknown => "dates unknown".into(),
                None => "lifetime".into(),
            };
            (m.crm_id.clone(), status, m.membership_type.clone(), ends)
        }
        None => ("-".into(), "no membership".into(), "-".into(), "-".into()),
    };
    [
        cell(&h.name, 32),
        cell(&h.contact_crm_id, MAX_CELL),
        cell(&membership, MAX_CELL),
        cell(&status, MAX_CELL),
        cell(&kind, MAX_CELL),
        ends,
        cell(&h.postcode, MAX_CELL),
        cell(&h.email, 36),
        h.flags.badges().join(" "),
    ]
}
