//! Drawing the onboarding pane: the queue table, the highlighted member's steps, popups.
//!
//! The table keeps to the width it has: columns are dropped, least needed first, when they do not
//! fit (at 80 columns: joined date, due date, Welsh, local party and preferences), and the strip
//! under the table always shows all of them for the highlighted member.

use chrono::{Datelike, NaiveDate};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Cell, HighlightSpacing, Paragraph, Row as TableRow, Table, TableState, Wrap,
};

use super::{LoadState, OnboardingPane, Row};
use crate::app::pane::Shared;
use crate::app::theme::Theme;
use crate::domain::ContactFlags;
use crate::domain::onboarding::{Arrival, Progress, StepPath, due_marker};
use crate::storage::onboarding::{QueueEntry, View};
use crate::text::{ellipsize, short_date};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Mark,
    Name,
    Joined,
    Wait,
    Progress,
    Step,
    Next,
    Due,
    Status,
    Assignee,
    Party,
    Welsh,
    Prefs,
}

/// Left to right.
const DISPLAY_ORDER: [Col; 13] = [
    Col::Mark,
    Col::Name,
    Col::Joined,
    Col::Wait,
    Col::Progress,
    Col::Step,
    Col::Next,
    Col::Due,
    Col::Status,
    Col::Assignee,
    Col::Party,
    Col::Welsh,
    Col::Prefs,
];

/// Most needed first: the order columns are given room in.
const PRIORITY: [Col; 13] = [
    Col::Mark,
    Col::Name,
    Col::Progress,
    Col::Step,
    Col::Next,
    Col::Status,
    Col::Wait,
    Col::Assignee,
    Col::Due,
    Col::Joined,
    Col::Welsh,
    Col::Party,
    Col::Prefs,
];

const HIGHLIGHT: &str = "▶";
const SPACING: u16 = 1;

impl Col {
    fn header(self, step: usize) -> String {
        match self {
            Col::Mark => String::new(),
            Col::Name => "Name".into(),
            Col::Joined => "Joined".into(),
            Col::Wait => "Wait".into(),
            Col::Progress => "Progress".into(),
            Col::Step => format!("S{}", step + 1),
            Col::Next => "Next step".into(),
            Col::Due => "Due".into(),
            Col::Status => "Overdue?".into(),
            Col::Assignee => "Assignee".into(),
            Col::Party => "Local party".into(),
            Col::Welsh => "Cy".into(),
            Col::Prefs => "Prefs".into(),
        }
    }

    /// The least width the column needs; Name and Next step take whatever is left over too
    /// (see [`column_widths`]).
    fn width(self, sizes: Sizes) -> u16 {
        match self {
            Col::Mark => 1,
            Col::Name => 14,
            Col::Next => 15,
            Col::Joined | Col::Due => sizes.date,
            Col::Wait => 5,
            Col::Progress => sizes.progress,
            Col::Step => 3,
            Col::Status => 13,
            Col::Assignee => 8,
            Col::Party => 12,
            Col::Welsh => 3,
            Col::Prefs => 10,
        }
    }
}

/// The widths that depend on what is shown: the progress gauge (the path's length) and the dates
/// (`03 Nov`, or `03 Nov 2025` when any date shown is not in this year).
#[derive(Debug, Clone, Copy)]
struct Sizes {
    progress: u16,
    date: u16,
}

/// The columns that fit in `width`, in display order. The by-local-party view needs the party
/// most after the name, and shows it first.
fn columns(width: u16, view: View, sizes: Sizes) -> Vec<Col> {
    let mut priority = PRIORITY.to_vec();
    if view == View::ByLocalParty {
        priority.retain(|c| *c != Col::Party);
        priority.insert(2, Col::Party);
    }
    let available = width.saturating_sub(HIGHLIGHT.chars().count() as u16);
    let mut chosen = Vec::new();
    let mut used = 0u16;
    for col in priority {
        let need = col.width(sizes) + if chosen.is_empty() { 0 } else { SPACING };
        if used + need <= available {
            used += need;
            chosen.push(col);
        }
    }
    let mut order = DISPLAY_ORDER.to_vec();
    if view == View::ByLocalParty {
        order.retain(|c| *c != Col::Party);
        order.insert(1, Col::Party);
    }
    order.retain(|c| chosen.contains(c));
    order
}

/// Each column's width: its least width, with what is left over shared between the name (2
/// parts) and the next step (3 parts), whose labels are the longest.
fn column_widths(cols: &[Col], width: u16, sizes: Sizes) -> Vec<u16> {
    let available = width.saturating_sub(HIGHLIGHT.chars().count() as u16);
    let used: u16 = cols.iter().map(|c| c.width(sizes)).sum::<u16>()
        + SPACING * cols.len().saturating_sub(1) as u16;
    let spare = available.saturating_sub(used);
    let to_name = spare * 2 / 5;
    cols.iter()
        .map(|c| {
            let extra = match c {
                Col::Name => to_name,
                Col::Next => spare - to_name,
                _ => 0,
            };
            c.width(sizes) + extra
        })
        .collect()
}

fn long_date(date: NaiveDate) -> String {
    date.format("%d %b %Y").to_string()
}

/// "03 Nov" from a stored timestamp (`YYYY-MM-DDTHH:MM:SS`).
fn stamp_date(stamp: &str) -> String {
    stamp
        .get(..10)
        .and_then(crate::domain::dates::parse_iso)
        .map_or_else(|| stamp.to_owned(), long_date)
}

/// Preference badges for the table (Welsh has its own column; deceased members are not listed).
fn preference_badges(flags: &ContactFlags) -> String {
    let mut flags = *flags;
    flags.welsh = false;
    flags.badges().join(" ")
}

fn marker_style(theme: &Theme, progress: &Progress) -> Style {
    match progress.next.map(|n| n.days_overdue) {
        Some(d) if d > 0 => theme.danger,
        Some(0) => theme.warning,
        _ => theme.base,
    }
}

pub(super) fn draw(pane: &mut OnboardingPane, frame: &mut Frame, area: Rect, shared: &Shared) {
    let theme = shared.theme;
    let block = outer_block(pane, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    match (&pane.load, pane.path.clone()) {
        (LoadState::Failed(err), _) => {
            let text = format!("Could not load the onboarding queue.\n\n{err}");
            frame.render_widget(
                Paragraph::new(text)
                    .style(theme.danger)
                    .wrap(Wrap { trim: false }),
                inner,
            );
        }
        (_, None) => {
            frame.render_widget(
                Paragraph::new("Loading the onboarding queue…").style(theme.dim),
                inner,
            );
        }
        (_, Some(path)) => {
            // Border, the member's facts, one line per step, the latest note.
            let detail_height = (path.len() as u16 + 3).min(inner.height / 2);
            let [table_area, detail_area] =
                Layout::vertical([Constraint::Min(2), Constraint::Length(detail_height)])
                    .areas(inner);
            draw_table(pane, &path, frame, table_area, shared);
            draw_detail(pane, &path, frame, detail_area, shared);
        }
    }
    if let Some(modal) = pane.modal.as_mut() {
        modal.draw(frame, area, theme);
    }
}

fn outer_block<'a>(pane: &OnboardingPane, theme: &Theme) -> Block<'a> {
    let mut title = format!(" Onboarding · {} ({})", pane.view.label(), pane.rows.len());
    if !pane.filter.is_empty() {
        title += &format!(" · filter \"{}\"", pane.filter);
    }
    if !pane.marked.is_empty() {
        title += &format!(" · {} selected", pane.marked.len());
    }
    title.push(' ');
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Line::styled(title, theme.title));
    if pane.path.is_some() {
        let step = format!(
            " Step {}/{}: {} ",
            pane.step + 1,
            pane.path.as_ref().map_or(0, |p| p.len()),
            pane.step_label()
        );
        block = block.title(Line::styled(step, theme.header).right_aligned());
    }
    if let Some(notice) = &pane.notice {
        let style = if notice.error { theme.danger } else { theme.ok };
        block = block.title_bottom(Line::styled(format!(" {} ", notice.text), style));
    } else if pane.in_flight.is_some() || !pane.writes.is_empty() {
        block = block.title_bottom(Line::styled(" saving… ", theme.dim));
    }
    block
}

fn draw_table(
    pane: &mut OnboardingPane,
    path: &StepPath,
    frame: &mut Frame,
    area: Rect,
    shared: &Shared,
) {
    let theme = shared.theme;
    if pane.rows.is_empty() {
        let text = if pane.entries.is_empty() {
            "No one is waiting for onboarding.".to_owned()
        } else {
            format!(
                "No one in the \"{}\" view{}.",
                pane.view.label(),
                if pane.filter.is_empty() {
                    ""
                } else {
                    " with this filter"
                }
            )
        };
        frame.render_widget(Paragraph::new(text).style(theme.dim), area);
        return;
    }
    let today = shared.clock.today;
    let other_year = pane.rows.iter().any(|row| {
        let anchor = pane.entries[row.entry].anchor;
        anchor.year() != today.year()
            || row
                .progress
                .next
                .is_some_and(|n| n.due.year() != today.year())
    });
    let sizes = Sizes {
        progress: (format!("{0}/{0} ", path.len()).len() + path.len().min(10)) as u16,
        date: if other_year { 11 } else { 6 },
    };
    let cols = columns(area.width, pane.view, sizes);
    pane.page = area.height.saturating_sub(1).max(1) as usize;
    if pane.cursor < pane.offset {
        pane.offset = pane.cursor;
    } else if pane.cursor >= pane.offset + pane.page {
        pane.offset = pane.cursor + 1 - pane.page;
    }
    pane.offset = pane.offset.min(pane.rows.len().saturating_sub(pane.page));
    let widths = column_widths(&cols, area.width, sizes);
    let context = CellContext {
        step_key: path.get(pane.step).map_or("", |s| s.key.as_str()),
        path,
        today: shared.clock.today,
        theme,
    };
    let visible = pane.rows.iter().skip(pane.offset).take(pane.page);
    let rows: Vec<TableRow> = visible
        .map(|row| {
            let entry = &pane.entries[row.entry];
            let marked = pane.marked.contains(&entry.contact_id);
            let cells = cols
                .iter()
                .zip(&widths)
                .map(|(col, width)| context.cell(*col, *width as usize, entry, row, marked));
            let style = if marked { theme.marked } else { theme.base };
            TableRow::new(cells).style(style)
        })
        .collect();
    let header =
        TableRow::new(cols.iter().map(|c| Cell::from(c.header(pane.step)))).style(theme.header);
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(SPACING)
        .row_highlight_style(theme.selected)
        .highlight_symbol(HIGHLIGHT)
        .highlight_spacing(HighlightSpacing::Always);
    let mut state = TableState::default().with_selected(Some(pane.cursor - pane.offset));
    frame.render_stateful_widget(table, area, &mut state);
}

/// What every cell of the table is drawn with.
struct CellContext<'a> {
    /// The step under the step cursor.
    step_key: &'a str,
    path: &'a StepPath,
    today: NaiveDate,
    theme: &'a Theme,
}

impl CellContext<'_> {
    fn cell(
        &self,
        col: Col,
        width: usize,
        entry: &QueueEntry,
        row: &Row,
        marked: bool,
    ) -> Cell<'static> {
        let next = row.progress.next;
        let text = match col {
            Col::Mark => (if marked { "●" } else { " " }).to_owned(),
            Col::Name => ellipsize(&entry.name, width),
            Col::Joined => short_date(entry.anchor, self.today),
            Col::Wait => format!("{}d", entry.days_waiting(self.today)),
            Col::Progress => row.progress.label(),
            Col::Step => (if entry.steps.contains_key(self.step_key) {
                "[x]"
            } else {
                "[ ]"
            })
            .to_owned(),
            Col::Next => next
                .and_then(|n| self.path.get(n.index))
                .map_or_else(|| "all done".to_owned(), |s| ellipsize(&s.label, width)),
            Col::Due => next.map_or_else(String::new, |n| short_date(n.due, self.today)),
            Col::Status => next.map_or_else(String::new, |n| n.marker()),
            Col::Assignee => ellipsize(entry.assignee.as_deref().unwrap_or("-"), width),
            Col::Party => ellipsize(&entry.local_party, width),
            Col::Welsh => (if entry.flags.welsh { "Cym" } else { "" }).to_owned(),
            Col::Prefs => preference_badges(&entry.flags),
        };
        let style = match col {
            Col::Status => marker_style(self.theme, &row.progress),
            Col::Prefs => self.theme.badge,
            _ => Style::default(),
        };
        Cell::from(text).style(style)
    }
}

fn draw_detail(
    pane: &OnboardingPane,
    path: &StepPath,
    frame: &mut Frame,
    area: Rect,
    shared: &Shared,
) {
    let theme = shared.theme;
    let Some((entry, _)) = pane.current() else {
        return;
    };
    let today = shared.clock.today;
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.border)
        .title(Line::styled(
            format!(" {} ", ellipsize(&entry.name, area.width.into())),
            theme.title,
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let mut lines = vec![Line::styled(facts(entry, today).join(" · "), theme.dim)];
    // The facts line and the note line, then as many steps as fit, keeping the step cursor in
    // view when the path is longer than the strip.
    let room = (inner.height as usize).saturating_sub(2).max(1);
    let first = pane.step.saturating_sub(room.saturating_sub(1));
    let label_width = path
        .steps()
        .iter()
        .map(|s| s.label.chars().count())
        .max()
        .unwrap_or(0)
        .min(34);
    lines.extend(
        path.steps()
            .iter()
            .enumerate()
            .skip(first)
            .take(room)
            .map(|(i, step)| {
                let done = entry.steps.get(&step.key);
                let due = step.due_date(entry.anchor);
                // A done step says who did it and when; one still to do, when it is due.
                let state = match done {
                    Some(record) => {
                        format!("done {} by {}", stamp_date(&record.done_at), record.done_by)
                    }
                    None => format!(
                        "due {}  {}",
                        long_date(due),
                        due_marker((today - due).num_days())
                    ),
                };
                let text = format!(
                    "{}{} {:<label_width$}  {}",
                    if i == pane.step { "▶ " } else { "  " },
                    if done.is_some() { "[x]" } else { "[ ]" },
                    ellipsize(&step.label, label_width),
                    state,
                );
                let style = if i == pane.step {
                    theme.selected
                } else if done.is_none() && today > due {
                    theme.danger
                } else {
                    theme.base
                };
                Line::styled(text, style)
            }),
    );
    lines.push(match &entry.last_note {
        Some(note) => Line::from(vec![
            Span::styled(
                format!(
                    "Notes: {} · latest {} {}: ",
                    entry.note_count,
                    note.staff,
                    stamp_date(&note.created_at)
                ),
                theme.dim,
            ),
            Span::raw(note.body.lines().next().unwrap_or("").to_owned()),
        ]),
        None => Line::styled("No notes", theme.dim),
    });
    frame.render_widget(Paragraph::new(lines), inner);
}

/// What the table may not have had room for: join date, local party, assignee, preferences.
fn facts(entry: &QueueEntry, today: NaiveDate) -> Vec<String> {
    let mut facts = vec![
        format!(
            "joined {} ({})",
            long_date(entry.anchor),
            crate::text::plural(entry.days_waiting(today), "day")
        ),
        if entry.local_party.is_empty() {
            "no local party".to_owned()
        } else {
            entry.local_party.clone()
        },
        entry
            .assignee
            .as_ref()
            .map_or_else(|| "unassigned".to_owned(), |a| format!("assigned to {a}")),
    ];
    let badges = entry.flags.badges();
    if !badges.is_empty() {
        facts.push(badges.join(" "));
    }
    match entry.arrival {
        Arrival::New => {}
        Arrival::Rejoined => facts.push("rejoined after a lapse".into()),
        Arrival::NotNew => facts.push("not new (kept: work recorded)".into()),
    }
    if entry.added_by_hand {
        facts.push("added by hand".into());
    }
    if !entry.recorded {
        facts.push("not yet recorded (read-only)".into());
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZES: Sizes = Sizes {
        progress: 9,
        date: 6,
    };

    #[test]
    fn columns_drop_least_needed_first_and_keep_display_order() {
        let wide = columns(200, View::All, SIZES);
        assert_eq!(wide, DISPLAY_ORDER.to_vec());
        let narrow = columns(78, View::All, SIZES);
        assert_eq!(
            narrow,
            [
                Col::Mark,
                Col::Name,
                Col::Wait,
                Col::Progress,
                Col::Step,
                Col::Next,
                Col::Status,
                Col::Assignee
            ]
        );
        let by_party = columns(78, View::ByLocalParty, SIZES);
        assert_eq!(by_party[1], Col::Party);
    }
}
