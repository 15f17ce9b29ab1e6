//! `rollcall escalations`: list escalations, as the app's escalations pane does.

use std::process::ExitCode;

use serde::Serialize;

use super::Ctx;
use super::output::{print, print_text};
use crate::domain::escalation::{DueState, View, due_state};
use crate::storage::escalations::{self, Row};
use crate::text::printable;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("view").multiple(false)))]
pub struct Args {
    /// Only those assigned to you (--user)
    #[arg(long, group = "view")]
    mine: bool,
    /// Only those nobody is assigned to
    #[arg(long, group = "view")]
    unassigned: bool,
    /// Only those past their due date
    #[arg(long, group = "view")]
    overdue: bool,
    /// Resolved ones as well [default: only unresolved ones]
    #[arg(long, group = "view")]
    all: bool,
    /// An array of {id, contact_id, title, category, priority, status, assignee, opened, due,
    /// overdue} (contact_id: the CRM's contact id or null; dates YYYY-MM-DD)
    #[arg(long)]
    json: bool,
}

impl Args {
    fn view(&self) -> View {
        if self.mine {
            View::Mine
        } else if self.unassigned {
            View::Unassigned
        } else if self.overdue {
            View::Overdue
        } else if self.all {
            View::All
        } else {
            View::Open
        }
    }
}

/// One escalation in `--json`.
#[derive(Debug, Serialize)]
struct JsonRow<'a> {
    id: i64,
    contact_id: Option<&'a str>,
    title: &'a str,
    category: &'static str,
    priority: &'static str,
    status: &'static str,
    assignee: Option<&'a str>,
    opened: String,
    due: String,
    overdue: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let store = ctx.open_store_for_reading()?;
    let view = args.view();
    let rows = escalations::list(&store.conn, view, &ctx.clock.user, ctx.clock.today)?;
    if args.json {
        let json: Vec<JsonRow> = rows.iter().map(|r| json_row(r, ctx)).collect();
        print(&(serde_json::to_string_pretty(&json)? + "\n"))?;
    } else {
        print_text(&table(&rows, view, ctx))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn json_row<'a>(r: &'a Row, ctx: &Ctx) -> JsonRow<'a> {
    JsonRow {
        id: r.id,
        contact_id: r.crm_id.as_deref(),
        title: &r.title,
        category: r.category.as_str(),
        priority: r.priority.as_str(),
        status: r.status.as_str(),
        assignee: r.assignee.as_deref(),
        opened: r.opened.to_string(),
        due: r.due.to_string(),
        overdue: matches!(
            due_state(r.due, r.status, ctx.clock.today),
            DueState::Overdue(_)
        ),
    }
}

/// A plain-text table with a count line; the contact is its CRM id, so the output can be pasted
/// into a ticket without a member's name.
fn table(rows: &[Row], view: View, ctx: &Ctx) -> String {
    if rows.is_empty() {
        return format!("No escalations ({}).\n", view.label().to_lowercase());
    }
    let header = [
        "ID", "DUE", "LATE", "PRIORITY", "STATUS", "CATEGORY", "ASSIGNEE", "CONTACT", "TITLE",
    ];
    let mut lines: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    let mut late = 0;
    for r in rows {
        let overdue = match due_state(r.due, r.status, ctx.clock.today) {
            DueState::Overdue(days) => {
                late += 1;
                format!("{days}d")
            }
            _ => String::new(),
        };
        lines.push(vec![
            r.id.to_string(),
            r.due.to_string(),
            overdue,
            r.priority.as_str().into(),
            r.status.as_str().into(),
            r.category.as_str().into(),
            printable(r.assignee.as_deref().unwrap_or("-")).into_owned(),
            printable(r.crm_id.as_deref().unwrap_or("-")).into_owned(),
            printable(&r.title).into_owned(),
        ]);
    }
    let mut widths = vec![0; header.len()];
    for line in &lines {
        for (w, cell) in widths.iter_mut().zip(line) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for line in &lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    let noun = if rows.len() == 1 {
        "escalation"
    } else {
        "escalations"
    };
    out.push_str(&format!("{} {noun}, {late} overdue\n", rows.len()));
    out
}
