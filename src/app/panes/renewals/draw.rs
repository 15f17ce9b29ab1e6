//! Drawing the renewals pane: a summary, the list with its section headings, a detail strip
//! for the row under the cursor, the last action's outcome, and any popup on top.
//!
//! Columns are dropped by priority as the terminal narrows (name, days, last contact, next
//! action and flags stay down to 80 columns); the detail strip always shows every field of the
//! row under the cursor.

use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::{ListLine, Popup, RenewalsPane, Tone, View};
use crate::app::pane::Shared;
use crate::app::theme::Theme;
use crate::domain::MemberStatus;
use crate::domain::membership::{MembershipDates, derive_status};
use crate::domain::renewal::{Channel, LastContact, Outcome, QueueRow, Section, describe_days};
use crate::text::{clip, short_date};

/// More characters than any column or the detail strip shows: a value is cut to this before it
/// is copied or measured, so a 10 MB name costs a frame what a short one does.
const SHOWN_CHARS: usize = 512;

/// The name column never gets narrower than this; other columns give way first.
const NAME_MIN: usize = 18;
/// Width of the marker column: cursor `>` and mark `*`.
const MARKER: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Name,
    Type,
    Local,
    End,
    Days,
    Status,
    Auto,
    Last,
    Next,
    Flags,
}

impl Col {
    /// Display order, as the issue lists the columns.
    const ORDER: [Col; 10] = [
        Col::Name,
        Col::Type,
        Col::Local,
        Col::End,
        Col::Days,
        Col::Status,
        Col::Auto,
        Col::Last,
        Col::Next,
        Col::Flags,
    ];
    /// The order in which columns are kept as width allows.
    const PRIORITY: [Col; 9] = [
        Col::Days,
        Col::Last,
        Col::Next,
        Col::Flags,
        Col::End,
        Col::Type,
        Col::Status,
        Col::Auto,
        Col::Local,
    ];

    fn width(self) -> usize {
        match self {
            Col::Name => NAME_MIN,
            Col::Type => 12,
            Col::Local => 16,
            Col::End => 10,
            Col::Days => 8,
            Col::Status => 10,
            Col::Auto => 4,
            Col::Last => 28,
            Col::Next => 6,
            Col::Flags => 12,
        }
    }

    fn header(self) -> &'static str {
        match self {
            Col::Name => "Name",
            Col::Type => "Type",
            Col::Local => "Local party",
            Col::End => "End date",
            Col::Days => "Days",
            Col::Status => "CRM status",
            Col::Auto => "Auto",
            Col::Last => "Last contact",
            Col::Next => "Next",
            Col::Flags => "Flags",
        }
    }
}

/// The columns that fit in `width`, in display order, with their widths (name takes the rest).
fn columns(width: usize) -> Vec<(Col, usize)> {
    let mut used = MARKER + NAME_MIN;
    let mut kept = vec![Col::Name];
    // Strictly by priority: a narrow column further down never jumps ahead of a wider one.
    for col in Col::PRIORITY {
        if used + 1 + col.width() > width {
            break;
        }
        used += 1 + col.width();
        kept.push(col);
    }
    let name_width = NAME_MIN + width.saturating_sub(used);
    Col::ORDER
        .into_iter()
        .filter(|c| kept.contains(c))
        .map(|c| {
            (
                c,
                if c == Col::Name {
                    name_width
                } else {
                    c.width()
                },
            )
        })
        .collect()
}

fn char_width(c: char) -> usize {
    let mut buf = [0u8; 4];
    Span::raw(&*c.encode_utf8(&mut buf)).width()
}

/// `text` cut (with `…`) or padded to exactly `width` columns.
fn fit(text: &str, width: usize) -> String {
    let text = clip(text, width + 1);
    let total: usize = text.chars().map(char_width).sum();
    if width == 0 {
        return String::new();
    }
    if total <= width {
        return format!("{text}{}", " ".repeat(width - total));
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = char_width(c);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    used += 1;
    out.push_str(&" ".repeat(width.saturating_sub(used)));
    out
}

/// "in 3d", "today", "12d ago".
fn days_short(days: i64) -> String {
    match days {
        0 => "today".to_owned(),
        d if d > 0 => format!("in {d}d"),
        d => format!("{}d ago", -d),
    }
}

/// "20 Nov ann: phone no answer".
fn last_short(last: &LastContact, today: NaiveDate) -> String {
    let when = last
        .date()
        .map(|d| short_date(d, today))
        .unwrap_or_default();
    let how = match (Channel::parse(&last.channel), Outcome::parse(&last.outcome)) {
        (Some(c), Some(o)) => format!("{} {}", c.label(), o.label_for(c)),
        _ => format!("{} {}", last.channel, last.outcome),
    };
    format!("{when} {}: {how}", last.staff)
}

/// "2026-11-20 09:00, phone, no answer, by ann".
fn last_long(last: &LastContact) -> String {
    let at = last.at.replacen('T', " ", 1);
    let at = at.get(..16).unwrap_or(&at);
    format!("{at}, {}, by {}", last.how(), last.staff)
}

fn cell(row: &QueueRow, col: Col, today: NaiveDate) -> String {
    match col {
        Col::Name => clip(&row.name, SHOWN_CHARS).to_owned(),
        Col::Type => clip(&row.membership_type, SHOWN_CHARS).to_owned(),
        Col::Local => clip(&row.local_party, SHOWN_CHARS).to_owned(),
        Col::End => row.end_date.to_string(),
        Col::Days => days_short(row.days(today)),
        Col::Status => clip(&row.crm_status, SHOWN_CHARS).to_owned(),
        Col::Auto => if row.auto_renew { "yes" } else { "" }.to_owned(),
        Col::Last => row
            .last_contact
            .as_ref()
            .map(|l| last_short(l, today))
            .unwrap_or_default(),
        Col::Next => row
            .snoozed_until
            .map(|d| short_date(d, today))
            .unwrap_or_default(),
        Col::Flags => {
            let mut flags = row.flags.badges();
            if row.payment_failed(today) {
                flags.insert(0, "PayFailed?");
            } else if row.payment_pending() {
                flags.insert(0, "PayPending");
            }
            flags.join(" ")
        }
    }
}

fn cell_style(row: &QueueRow, col: Col, today: NaiveDate, theme: &Theme) -> Style {
    let section = row.section(today);
    if matches!(section, Section::SetAside | Section::AutoRenew) {
        return theme.dim;
    }
    match col {
        Col::Days | Col::Flags if row.payment_failed(today) => theme.danger,
        Col::Days if section == Section::InGrace => theme.danger,
        Col::Days if row.days(today) <= 7 => theme.warning,
        Col::Next if row.snoozed_until.is_some() => theme.warning,
        Col::Flags => theme.badge,
        _ => theme.base,
    }
}

pub(super) fn draw(pane: &mut RenewalsPane, frame: &mut Frame, area: Rect, shared: &Shared) {
    let theme = shared.theme;
    let today = shared.clock.today;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(" Renewals ", theme.title))
        .title_top(Line::styled(format!(" as of {today} "), theme.dim).right_aligned());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let detail_height = if inner.height >= 14 { 3 } else { 0 };
    let [summary, second, header, list, detail, message] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(detail_height),
        Constraint::Length(1),
    ])
    .areas(inner);
    pane.list_height = list.height as usize;
    match pane.view {
        View::Queue => {
            pane.scroll_to_cursor();
            draw_summary(pane, frame, summary, theme);
            draw_renewed_headline(pane, frame, second, theme);
            draw_queue(pane, frame, header, list, shared);
            if let Some(row) = pane.current() {
                draw_detail(row, frame, detail, today, theme);
            }
        }
        View::Renewed => draw_renewed(
            pane,
            frame,
            [summary, second, header, list, detail],
            today,
            theme,
        ),
    }
    if let Some(m) = &pane.message {
        let style = match m.tone {
            Tone::Ok => theme.ok,
            Tone::Error => theme.danger,
        };
        frame.render_widget(
            Paragraph::new(Line::styled(m.text.as_str(), style)),
            message,
        );
    }
    draw_popup(pane, frame, area, theme);
}

fn draw_summary(pane: &RenewalsPane, frame: &mut Frame, area: Rect, theme: &Theme) {
    let mut spans = Vec::new();
    if let Some(e) = &pane.load_error {
        spans.push(Span::styled(
            format!("Could not load the queue: {e}"),
            theme.danger,
        ));
    } else if !pane.loaded {
        spans.push(Span::styled("Loading the queue…", theme.dim));
    } else {
        let a = &pane.arranged;
        spans.push(Span::styled(format!("{} due", a.due), theme.title));
        spans.push(Span::raw(" · "));
        spans.push(Span::styled(format!("{} lapsed", a.lapsed), theme.title));
        let filters = pane.filter.describe();
        if !filters.is_empty() {
            spans.push(Span::styled(
                format!(" · filter: {}", filters.join(", ")),
                theme.warning,
            ));
        }
        let mut hidden = Vec::new();
        if a.set_aside_hidden > 0 {
            hidden.push(format!("{} snoozed or settled", a.set_aside_hidden));
        }
        if a.auto_renew_hidden > 0 {
            hidden.push(format!("{} auto-renewing", a.auto_renew_hidden));
        }
        if !hidden.is_empty() {
            spans.push(Span::styled(
                format!(" · hidden: {}", hidden.join(", ")),
                theme.dim,
            ));
        }
        if !pane.marked.is_empty() {
            spans.push(Span::styled(
                format!(" · {} marked", pane.marked.len()),
                theme.marked,
            ));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_renewed_headline(pane: &RenewalsPane, frame: &mut Frame, area: Rect, theme: &Theme) {
    let line = match pane.renewed.headline() {
        Some(text) => Line::styled(text, theme.ok),
        None => Line::styled(
            "No import yet: renewals show here after the next one",
            theme.dim,
        ),
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn draw_queue(pane: &RenewalsPane, frame: &mut Frame, header: Rect, list: Rect, shared: &Shared) {
    let theme = shared.theme;
    let today = shared.clock.today;
    let cols = columns(list.width as usize);
    let mut head = vec![Span::styled(" ".repeat(MARKER), theme.header)];
    for (i, (col, width)) in cols.iter().enumerate() {
        let sep = if i > 0 { " " } else { "" };
        head.push(Span::styled(
            format!("{sep}{}", fit(col.header(), *width)),
            theme.header,
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(head)), header);

    if pane.loaded && pane.arranged.order.is_empty() {
        let text = if pane.filter.is_empty() {
            "Nobody is due or recently lapsed."
        } else {
            "No membership in the queue matches these filters."
        };
        frame.render_widget(Paragraph::new(Line::styled(text, theme.dim)), list);
        return;
    }
    let lines: Vec<Line> = pane
        .lines
        .iter()
        .skip(pane.offset)
        .take(list.height as usize)
        .map(|line| match *line {
            ListLine::Heading(section, n) => {
                let text = format!("── {} ({n}) ", section.title());
                let width = list.width as usize;
                Line::styled(
                    format!(
                        "{text}{}",
                        "─".repeat(width.saturating_sub(text.chars().count()))
                    ),
                    theme.title,
                )
            }
            ListLine::Row(pos) => {
                let row = &pane.rows[pane.arranged.order[pos]];
                row_line(pane, row, pos, &cols, today, theme)
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
}

fn row_line<'a>(
    pane: &RenewalsPane,
    row: &QueueRow,
    pos: usize,
    cols: &[(Col, usize)],
    today: NaiveDate,
    theme: &Theme,
) -> Line<'a> {
    let is_cursor = pos == pane.cursor;
    let is_marked = pane.marked.contains(&row.membership_id);
    let marker = format!(
        "{}{}",
        if is_cursor { '>' } else { ' ' },
        if is_marked { '*' } else { ' ' }
    );
    let row_style = if is_cursor {
        Some(theme.selected)
    } else if is_marked {
        Some(theme.marked)
    } else {
        None
    };
    let mut spans = vec![Span::styled(marker, row_style.unwrap_or(theme.base))];
    for (i, &(col, width)) in cols.iter().enumerate() {
        let sep = if i > 0 { " " } else { "" };
        let style = row_style.unwrap_or_else(|| cell_style(row, col, today, theme));
        spans.push(Span::styled(sep, row_style.unwrap_or(theme.base)));
        let text = match (col, pane.claim_on(row)) {
            // In place of the flags, which the detail lines still show: the one thing another
            // officer must see on the row, never cut short by them.
            (Col::Flags, Some(claim)) => format!("{} is on it", claim.login),
            _ => cell(row, col, today),
        };
        spans.push(Span::styled(fit(text.trim_end(), width), style));
    }
    Line::from(spans)
}

/// "CRM Current (dates say Grace)": the CRM's status, and rollcall's own from the end date when
/// the CRM's is stale (CiviCRM only recomputes statuses when its scheduled job runs).
fn status_text(row: &QueueRow, today: NaiveDate) -> String {
    let dates = MembershipDates {
        end: Some(row.end_date),
        ..MembershipDates::default()
    };
    let crm = MemberStatus::parse(&row.crm_status);
    let derived = derive_status(dates, crm, false, today);
    let shown = if row.crm_status.trim().is_empty() {
        "status blank"
    } else {
        row.crm_status.as_str()
    };
    if crm == Some(derived) {
        format!("CRM {shown}")
    } else {
        format!("CRM {shown} (dates say {derived})")
    }
}

fn draw_detail(row: &QueueRow, frame: &mut Frame, area: Rect, today: NaiveDate, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let place = match (row.local_party.is_empty(), row.region.is_empty()) {
        (false, false) => format!("{}, {}", row.local_party, row.region),
        (false, true) => row.local_party.clone(),
        (true, false) => row.region.clone(),
        (true, true) => "no local party".to_owned(),
    };
    let first = format!(
        "{} · {} · {}",
        clip(&row.name, SHOWN_CHARS),
        clip(&row.membership_type, SHOWN_CHARS),
        clip(&place, SHOWN_CHARS)
    );
    let second = format!(
        "Ends {} ({}) · {}{}{} · next {} · assigned {}",
        row.end_date,
        describe_days(row.days(today)),
        status_text(row, today),
        if row.payment_failed(today) {
            " · payment failed? (auto-renews, yet lapsed: the recurring payment did not renew it)"
        } else if row.payment_pending() {
            " · payment pending (renewal awaiting payment)"
        } else {
            ""
        },
        if row.auto_renew && !row.payment_failed(today) {
            " · auto-renews"
        } else {
            ""
        },
        row.snoozed_until
            .map_or("none".to_owned(), |d| d.to_string()),
        row.assignee.as_deref().unwrap_or("nobody"),
    );
    let last = row
        .last_contact
        .as_ref()
        .map_or("Never contacted".to_owned(), |l| {
            format!("Last contact {}", last_long(l))
        });
    let mut third = vec![Span::styled(last, theme.dim)];
    let badges = row.flags.badges();
    if !badges.is_empty() {
        third.push(Span::styled(
            format!(" · {}", badges.join(" ")),
            theme.badge,
        ));
    }
    frame.render_widget(
        Paragraph::new(vec![
            Line::styled(first, theme.title),
            Line::styled(second, theme.base),
            Line::from(third),
        ]),
        area,
    );
}

fn draw_renewed(
    pane: &RenewalsPane,
    frame: &mut Frame,
    areas: [Rect; 5],
    today: NaiveDate,
    theme: &Theme,
) {
    let [summary, second, header, list, detail] = areas;
    let title = pane
        .renewed
        .headline()
        .unwrap_or_else(|| "Renewed: nothing imported yet".to_owned());
    frame.render_widget(Paragraph::new(Line::styled(title, theme.title)), summary);
    frame.render_widget(
        Paragraph::new(Line::styled(
            "Credit: the latest call or message that reached them, up to 60 days before.",
            theme.dim,
        )),
        second,
    );
    let width = list.width as usize;
    let fixed = [12, 23, 28];
    let name_width = width.saturating_sub(MARKER + fixed.iter().map(|w| w + 1).sum::<usize>());
    let head = format!(
        "{}{} {} {} {}",
        " ".repeat(MARKER),
        fit("Name", name_width),
        fit("Type", fixed[0]),
        fit("End date was → now", fixed[1]),
        fit("Credited to", fixed[2]),
    );
    frame.render_widget(Paragraph::new(Line::styled(head, theme.header)), header);
    if pane.renewed.rows.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("No renewals in the last import.", theme.dim)),
            list,
        );
        return;
    }
    let lines: Vec<Line> = pane
        .renewed
        .rows
        .iter()
        .enumerate()
        .skip(pane.renewed_offset)
        .take(list.height as usize)
        .map(|(i, r)| {
            let credited = r
                .credited
                .as_ref()
                .map(|l| last_short(l, today))
                .unwrap_or_else(|| "—".to_owned());
            let ends = format!(
                "{} → {}",
                r.old_end.as_deref().unwrap_or("none"),
                r.new_end.as_deref().unwrap_or("none")
            );
            let cursor = i == pane.renewed_cursor;
            let text = format!(
                "{}{} {} {} {}",
                if cursor { "> " } else { "  " },
                fit(&r.name, name_width),
                fit(&r.membership_type, fixed[0]),
                fit(&ends, fixed[1]),
                fit(&credited, fixed[2]),
            );
            let style = if cursor {
                theme.selected
            } else if r.credited.is_some() {
                theme.ok
            } else {
                theme.base
            };
            Line::styled(text, style)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
    if let Some(r) = pane.renewed.rows.get(pane.renewed_cursor)
        && detail.height > 0
    {
        let text = match &r.credited {
            Some(c) => format!("Credited to the contact on {}", last_long(c)),
            None => "No contact attempt on this membership before the renewal".to_owned(),
        };
        frame.render_widget(Paragraph::new(Line::styled(text, theme.dim)), detail);
    }
}

/// The open dialog alone, over another view (the member view's actions use this pane's).
pub(super) fn draw_dialog(pane: &mut RenewalsPane, frame: &mut Frame, area: Rect, theme: &Theme) {
    draw_popup(pane, frame, area, theme);
}

fn draw_popup(pane: &mut RenewalsPane, frame: &mut Frame, area: Rect, theme: &Theme) {
    let Some(popup) = pane.popup.as_mut() else {
        return;
    };
    match popup {
        Popup::Channel { chooser, .. } | Popup::Outcome { chooser, .. } => {
            chooser.draw(frame, area, theme)
        }
        Popup::FilterMenu => super::filter_menu(&pane.filter).draw(frame, area, theme),
        Popup::Confirm { dialog, .. } => dialog.draw(frame, area, theme),
        Popup::AttemptNote { prompt, .. }
        | Popup::Snooze { prompt, .. }
        | Popup::Note { prompt, .. }
        | Popup::Assign { prompt, .. }
        | Popup::FilterText { prompt, .. } => prompt.draw(frame, area, theme),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_and_pads_by_display_width() {
        assert_eq!(fit("Siân", 6), "Siân  ");
        assert_eq!(fit("Gwenllian ap Dafydd", 10), "Gwenllian…");
        assert_eq!(fit("ab", 0), "");
    }

    #[test]
    fn columns_give_way_to_the_name_as_width_shrinks() {
        let at = |w| columns(w).into_iter().map(|(c, _)| c).collect::<Vec<_>>();
        assert_eq!(
            at(78),
            vec![Col::Name, Col::Days, Col::Last, Col::Next, Col::Flags]
        );
        assert_eq!(
            at(98),
            vec![
                Col::Name,
                Col::End,
                Col::Days,
                Col::Last,
                Col::Next,
                Col::Flags
            ]
        );
        assert_eq!(at(200).len(), 10);
        let total: usize = columns(98).iter().map(|(_, w)| w + 1).sum::<usize>() - 1 + MARKER;
        assert_eq!(total, 98);
    }
}
