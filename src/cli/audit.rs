//! `rollcall audit`: the audit trail of changes made in rollcall — who, when, what, before and
//! after.

use std::collections::HashMap;
use std::process::ExitCode;

use anyhow::bail;
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;

use super::output::{print, print_text};
use super::{Ctx, parse_date};
use crate::storage::audit::{self, AuditLine};
use crate::storage::erase::{self, Lookup};
use crate::text::{cell, printable};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only changes about this person: their contact id in the CRM
    #[arg(long, value_name = "CONTACT_ID")]
    pub contact: Option<String>,
    /// Which CRM instance --contact belongs to, when the database holds several
    #[arg(long, value_name = "NAME", requires = "contact")]
    pub source: Option<String>,
    /// Only changes made on or after this date
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub since: Option<NaiveDate>,
    /// Print a JSON array instead of a table
    #[arg(long)]
    pub json: bool,
}

/// One line as `--json` prints it: before/after as JSON values, and the contact's CRM id.
#[derive(Debug, Serialize)]
struct JsonLine {
    id: i64,
    at: String,
    staff: String,
    action: String,
    entity: String,
    entity_id: Option<i64>,
    contact_id: Option<i64>,
    crm_contact_id: Option<String>,
    before: Option<Value>,
    after: Option<Value>,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let store = ctx.open_store_for_reading()?;
    let contact = match &args.contact {
        None => None,
        Some(crm_id) => Some(resolve_contact(
            &store.conn,
            crm_id,
            args.source.as_deref(),
        )?),
    };
    let since = args.since.map(|d| d.format("%Y-%m-%d").to_string());
    let lines = audit::lines(&store.conn, contact, since.as_deref())?;
    let crm_ids = crm_ids(&store.conn)?;
    if args.json {
        let out: Vec<JsonLine> = lines.into_iter().map(|l| json_line(l, &crm_ids)).collect();
        print(&(serde_json::to_string_pretty(&out)? + "\n"))?;
    } else {
        print_text(&table(&lines, &crm_ids))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn resolve_contact(
    conn: &crate::storage::sql::Connection,
    crm_id: &str,
    source: Option<&str>,
) -> anyhow::Result<i64> {
    match erase::find_contact(conn, crm_id.trim(), source)? {
        Lookup::Found { id, .. } => Ok(id),
        Lookup::Erased { erased_at, staff } => bail!(
            "that person was erased on {erased_at} by {staff}; their audit lines went with them \
             (the erasure itself is the `forget` line in `rollcall audit`)"
        ),
        Lookup::Ambiguous { sources } => bail!(
            "--contact: that CRM id exists in several sources ({}); say which with --source NAME",
            sources.join(", ")
        ),
        Lookup::NotFound => bail!("--contact: no contact has that CRM id"),
    }
}

fn crm_ids(conn: &crate::storage::sql::Connection) -> anyhow::Result<HashMap<i64, String>> {
    Ok(crate::storage::audit::crm_ids_of_audited(conn)?)
}

fn json_line(line: AuditLine, crm_ids: &HashMap<i64, String>) -> JsonLine {
    let parse = |t: Option<String>| t.map(|t| serde_json::from_str(&t).unwrap_or(Value::String(t)));
    JsonLine {
        crm_contact_id: line.contact_id.and_then(|id| crm_ids.get(&id).cloned()),
        id: line.id,
        at: line.at,
        staff: line.staff,
        action: line.action,
        entity: line.entity,
        entity_id: line.entity_id,
        contact_id: line.contact_id,
        before: parse(line.before),
        after: parse(line.after),
    }
}

/// The widest a CHANGE cell gets before it is cut with `…` (the JSON output has it all).
const CHANGE_WIDTH: usize = 100;

fn table(lines: &[AuditLine], crm_ids: &HashMap<i64, String>) -> String {
    if lines.is_empty() {
        return "No changes recorded.\n".to_owned();
    }
    let rows: Vec<[String; 6]> = lines
        .iter()
        .map(|l| {
            [
                l.at.clone(),
                l.staff.clone(),
                l.action.clone(),
                match l.entity_id {
                    Some(id) => format!("{} {id}", l.entity),
                    None => l.entity.clone(),
                },
                contact_cell(about_contact(l), crm_ids),
                describe_change(l),
            ]
            .map(|c| cell(&c, CHANGE_WIDTH))
        })
        .collect();
    let header = ["WHEN", "STAFF", "ACTION", "WHAT", "CONTACT", "CHANGE"];
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = row_text(&header.map(str::to_owned), &widths);
    for row in &rows {
        out += &row_text(row, &widths);
    }
    out += &format!("{} change(s).\n", rows.len());
    out
}

fn row_text(cells: &[String; 6], widths: &[usize; 6]) -> String {
    let mut line = String::new();
    for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
        if i + 1 == cells.len() {
            line.push_str(cell);
        } else {
            let pad = width - cell.chars().count();
            line.push_str(cell);
            line.push_str(&" ".repeat(pad + 2));
        }
    }
    line.truncate(line.trim_end().len());
    line.push('\n');
    line
}

/// The contact a line is about: its contact id, or the entity itself for a change to a contact.
fn about_contact(line: &AuditLine) -> Option<i64> {
    line.contact_id
        .or(line.entity_id.filter(|_| line.entity == "contact"))
}

fn contact_cell(contact_id: Option<i64>, crm_ids: &HashMap<i64, String>) -> String {
    match contact_id {
        None => "-".to_owned(),
        Some(id) => crm_ids
            .get(&id)
            .cloned()
            .unwrap_or_else(|| "(gone)".to_owned()),
    }
}

/// `field: old → new; …` for an update, `field=value; …` for an insert or delete.
fn describe_change(line: &AuditLine) -> String {
    let parse = |t: &Option<String>| t.as_deref().and_then(|t| serde_json::from_str(t).ok());
    let before: Option<Value> = parse(&line.before);
    let after: Option<Value> = parse(&line.after);
    match (before, after) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            let mut parts = Vec::new();
            for (key, new) in &a {
                let old = b.get(key).unwrap_or(&Value::Null);
                if old != new {
                    parts.push(format!("{key}: {} → {}", show(old), show(new)));
                }
            }
            for (key, old) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                parts.push(format!("{key}: {} → -", show(old)));
            }
            parts.join("; ")
        }
        (None, Some(v)) | (Some(v), None) => match v {
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| format!("{k}={}", show(v)))
                .collect::<Vec<_>>()
                .join("; "),
            other => show(&other),
        },
        (Some(b), Some(a)) => format!("{} → {}", show(&b), show(&a)),
        (None, None) => String::new(),
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => "-".to_owned(),
        Value::String(s) => printable(s).into_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(before: Option<&str>, after: Option<&str>) -> AuditLine {
        AuditLine {
            id: 1,
            at: "2026-03-02T09:00:00".into(),
            staff: "amira".into(),
            action: "update".into(),
            entity: "escalation".into(),
            entity_id: Some(4),
            contact_id: None,
            before: before.map(str::to_owned),
            after: after.map(str::to_owned),
        }
    }

    #[test]
    fn an_update_shows_only_what_changed() {
        let l = line(
            Some(r#"{"status":"open","priority":"high"}"#),
            Some(r#"{"status":"resolved","priority":"high"}"#),
        );
        assert_eq!(describe_change(&l), "status: open → resolved");
    }

    #[test]
    fn an_insert_shows_its_fields_and_long_text_is_cut() {
        let l = line(
            None,
            Some(r#"{"outcome":"no_answer","note":"rang\ntwice"}"#),
        );
        assert_eq!(describe_change(&l), "note=rang twice; outcome=no_answer");
    }
}
