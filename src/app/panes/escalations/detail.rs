//! Drawing one escalation: every field, the description, the resolution and the timeline.
//! Only here, in the opened case, is a description ever shown.

use chrono::NaiveDate;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::due_cell;
use crate::app::theme::Theme;
use crate::domain::escalation::{EventKind, Status, age_days};
use crate::storage::escalations::{Detail, Event};

/// The case as lines of text, for a scrolling paragraph.
pub fn lines(detail: &Detail, today: NaiveDate, theme: &Theme) -> Vec<Line<'static>> {
    let row = &detail.row;
    let (due_text, due_style) = due_cell(row, today, theme);
    let mut out = vec![Line::from(vec![
        Span::styled(format!("#{}  ", row.id), theme.dim),
        Span::styled(row.title.clone(), theme.title),
    ])];
    if row.category.is_sensitive() {
        out.push(Line::styled(
            format!("■ {} ■", row.category.label().to_uppercase()),
            theme.badge.add_modifier(ratatui::style::Modifier::BOLD),
        ));
    }
    out.push(Line::default());
    out.push(field(theme, "Member", member_text(detail), theme.base));
    out.push(field(
        theme,
        "Category",
        row.category.label().into(),
        theme.base,
    ));
    out.push(field(
        theme,
        "Priority",
        row.priority.label().into(),
        theme.base,
    ));
    out.push(field(
        theme,
        "Status",
        row.status.label().into(),
        theme.base,
    ));
    let assignee = row.assignee.clone().unwrap_or_else(|| "— nobody".into());
    out.push(field(theme, "Assignee", assignee, theme.base));
    let opened = format!(
        "{} by {} ({} ago)",
        row.opened.format("%a %d %b %Y"),
        detail.opened_by,
        crate::text::plural(age_days(row.opened, today), "day")
    );
    out.push(field(theme, "Opened", opened, theme.base));
    let due = if row.status.is_resolved() {
        format!("{}", row.due.format("%a %d %b %Y"))
    } else {
        format!("{} · {due_text}", row.due.format("%a %d %b %Y"))
    };
    out.push(field(theme, "Due", due, due_style));
    if let Some(resolved) = row.resolved_on {
        let when = resolved.format("%a %d %b %Y").to_string();
        out.push(field(theme, "Resolved", when, theme.ok));
    }
    section(
        &mut out,
        theme,
        "Description",
        &detail.description,
        "(none)",
    );
    if row.status.is_resolved() {
        section(&mut out, theme, "Resolution", &detail.resolution, "(none)");
    }
    out.push(Line::default());
    out.push(Line::styled("Timeline", theme.header));
    for event in &detail.timeline {
        timeline_entry(&mut out, theme, event);
    }
    out
}

fn member_text(detail: &Detail) -> String {
    let (Some(name), Some(crm_id)) = (&detail.row.member_name, &detail.row.crm_id) else {
        return "— not about one member".into();
    };
    let mut text = format!("{name} · CRM {crm_id}");
    if let Some(source) = &detail.source {
        text.push_str(&format!(" ({source})"));
    }
    if let Some(membership) = &detail.membership {
        text.push_str(" · ");
        text.push_str(membership);
    }
    text
}

fn field(theme: &Theme, label: &str, value: String, style: Style) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{label:<10} "), theme.dim),
        Span::styled(value, style),
    ])
}

fn section(out: &mut Vec<Line<'static>>, theme: &Theme, title: &str, text: &str, empty: &str) {
    out.push(Line::default());
    out.push(Line::styled(title.to_owned(), theme.header));
    if text.trim().is_empty() {
        out.push(Line::styled(format!("  {empty}"), theme.dim));
    }
    for line in text.lines() {
        out.push(Line::from(format!("  {line}")));
    }
}

fn timeline_entry(out: &mut Vec<Line<'static>>, theme: &Theme, event: &Event) {
    let at = event.at.replacen('T', " ", 1);
    let at = at.get(..16).unwrap_or(&at).to_owned();
    out.push(Line::from(vec![
        Span::styled(format!("  {at}  "), theme.dim),
        Span::styled(format!("{:<10} ", event.staff), theme.base),
        Span::styled(summary(event), theme.base),
    ]));
    for line in event.body.lines() {
        if event.kind != EventKind::Priority {
            out.push(Line::from(format!("{:33}{line}", "")));
        }
    }
}

/// One line saying what happened.
pub fn summary(event: &Event) -> String {
    let old = event.old_value.as_deref();
    let new = event.new_value.as_deref();
    match event.kind {
        EventKind::Opened => "opened".into(),
        EventKind::Comment => "comment:".into(),
        EventKind::Status => format!("status: {} → {}", status(old), status(new)),
        EventKind::Assignee => match (old, new) {
            (None, Some(to)) => format!("assigned to {to}"),
            (Some(from), None) => format!("unassigned (was {from})"),
            (Some(from), Some(to)) => format!("reassigned: {from} → {to}"),
            (None, None) => "assignee unchanged".into(),
        },
        EventKind::Priority => format!(
            "priority: {} → {}; {}",
            old.unwrap_or("?"),
            new.unwrap_or("?"),
            event.body
        ),
        EventKind::Resolved => "resolved:".into(),
        EventKind::Reopened if event.body.is_empty() => "reopened".into(),
        EventKind::Reopened => "reopened:".into(),
    }
}

fn status(value: Option<&str>) -> String {
    match value.map(str::parse::<Status>) {
        Some(Ok(s)) => s.label().into(),
        Some(Err(_)) => value.unwrap_or_default().into(),
        None => "?".into(),
    }
}
