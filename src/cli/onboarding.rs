//! `rollcall onboarding`: the onboarding queue: new members and their steps.
//!
//! Lists the queue as the app shows it (most overdue next step first), as a table or as JSON.
//! Like opening the queue in the app, it records newly qualifying members in the queue (unless
//! `--read-only`), so that they stay whatever later imports say.

use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;

use super::Ctx;
use super::output::{print, print_text};
use crate::config::Config;
use crate::domain::onboarding::{Arrival, Progress, StepPath};
use crate::storage::onboarding::{self, QueueEntry, View, sort_key};
use crate::text::cell;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("view").args(["mine", "unassigned", "overdue", "rejoiners"])))]
pub struct Args {
    /// Only members assigned to me (the --user)
    #[arg(long)]
    pub mine: bool,
    /// Only members nobody is assigned to
    #[arg(long)]
    pub unassigned: bool,
    /// Only members whose next step is past its due date
    #[arg(long)]
    pub overdue: bool,
    /// Only lapsed members who joined again (left out of the other views)
    #[arg(long)]
    pub rejoiners: bool,
    /// Print a JSON array instead of a table
    #[arg(long)]
    pub json: bool,
}

impl Args {
    fn view(&self) -> View {
        match (self.mine, self.unassigned, self.overdue) {
            (true, _, _) => View::Mine,
            (_, true, _) => View::Unassigned,
            (_, _, true) => View::Overdue,
            _ if self.rejoiners => View::Rejoiners,
            _ => View::All,
        }
    }
}

/// One member in `--json` output.
#[derive(Debug, Serialize)]
struct JsonRow<'a> {
    /// The CRM's contact id.
    contact_id: &'a str,
    name: &'a str,
    /// The join date step due dates count from (YYYY-MM-DD).
    joined: String,
    /// `new`, `rejoined`, or `not_new` (kept from an older entry rule because work was recorded).
    arrival: Arrival,
    steps_done: usize,
    steps_total: usize,
    /// The next step's key (stable across relabelling); null when every step is done.
    next_step: Option<&'a str>,
    next_step_label: Option<&'a str>,
    next_due: Option<String>,
    overdue: bool,
    assignee: Option<&'a str>,
    local_party: &'a str,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<ExitCode> {
    let config = Config::load_default()?;
    let path = StepPath::from_config(&config.onboarding)?;
    // A listing must not create an empty database where there was none.
    let mut store = if ctx.database_exists() {
        ctx.open_store()?
    } else {
        ctx.open_store_for_reading()?
    };
    let entries = onboarding::load_queue(&mut store, &ctx.clock, &config.onboarding)?;
    let view = args.view();
    let mut rows: Vec<(&QueueEntry, Progress)> = entries
        .iter()
        .map(|e| (e, e.progress(&path, ctx.clock.today)))
        .filter(|(e, p)| view.shows(e, p, &ctx.clock.user))
        .collect();
    rows.sort_by_cached_key(|(e, p)| sort_key(view, e, p));
    if args.json {
        print(json(&rows, &path)?)?;
    } else {
        print_text(&table(&rows, &path, view, ctx.clock.today))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn json(rows: &[(&QueueEntry, Progress)], path: &StepPath) -> Result<String> {
    let out: Vec<JsonRow> = rows
        .iter()
        .map(|(e, p)| {
            let next = p.next.and_then(|n| Some((n, path.get(n.index)?)));
            JsonRow {
                contact_id: &e.crm_id,
                name: &e.name,
                joined: e.anchor.to_string(),
                arrival: e.arrival,
                steps_done: p.done,
                steps_total: p.total,
                next_step: next.map(|(_, s)| s.key.as_str()),
                next_step_label: next.map(|(_, s)| s.label.as_str()),
                next_due: next.map(|(n, _)| n.due.to_string()),
                overdue: p.is_overdue(),
                assignee: e.assignee.as_deref(),
                local_party: &e.local_party,
            }
        })
        .collect();
    Ok(serde_json::to_string_pretty(&out)? + "\n")
}

const HEADERS: [&str; 9] = [
    "NAME",
    "JOINED",
    "WAITING",
    "PROGRESS",
    "NEXT STEP",
    "DUE",
    "OVERDUE",
    "ASSIGNEE",
    "LOCAL PARTY",
];

/// Cells longer than this are cut with an ellipsis so that one long name cannot push the table
/// off the screen.
const MAX_CELL: usize = 32;

fn table(
    rows: &[(&QueueEntry, Progress)],
    path: &StepPath,
    view: View,
    today: chrono::NaiveDate,
) -> String {
    if rows.is_empty() {
        return format!(
            "No one is waiting for onboarding{}.\n",
            match view {
                View::All | View::ByLocalParty => String::new(),
                other => format!(" in the \"{}\" view", other.label()),
            }
        );
    }
    let cells: Vec<[String; 9]> = rows
        .iter()
        .map(|(e, p)| {
            let next = p.next.and_then(|n| Some((n, path.get(n.index)?)));
            [
                e.name.clone(),
                match e.arrival {
                    Arrival::New => e.anchor.to_string(),
                    other => format!("{} ({})", e.anchor, other.label()),
                },
                format!("{}d", e.days_waiting(today)),
                p.label(),
                next.map_or_else(|| "all done".into(), |(_, s)| s.label.clone()),
                next.map_or_else(String::new, |(n, _)| n.due.to_string()),
                next.map_or_else(String::new, |(n, _)| n.marker()),
                e.assignee.clone().unwrap_or_else(|| "-".into()),
                e.local_party.clone(),
            ]
            .map(|c| cell(&c, MAX_CELL))
        })
        .collect();
    let mut widths = HEADERS.map(|h| h.chars().count());
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = line(&HEADERS.map(str::to_owned), &widths);
    for row in &cells {
        out += &line(row, &widths);
    }
    let overdue = rows.iter().filter(|(_, p)| p.is_overdue()).count();
    out += &format!(
        "\n{} waiting, {overdue} with an overdue step.\n",
        onboarding::members(rows.len())
    );
    out
}

fn line(cells: &[String; 9], widths: &[usize; 9]) -> String {
    let padded: Vec<String> = cells
        .iter()
        .zip(widths)
        .map(|(c, w)| format!("{c:<w$}"))
        .collect();
    padded.join("  ").trim_end().to_owned() + "\n"
}
