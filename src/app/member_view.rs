//! The member view: one member in full over the pane that opened it. Preferences first (they
//! decide what staff may do), then the record, each membership, and the timeline.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use chrono::NaiveDate;

use super::theme::Theme;
use crate::domain::dates::parse_iso;
use crate::domain::renewal::QueueRow;
use crate::storage::member::{ContactDetail, MemberDetail, MembershipDetail, TimelineEntry};
use crate::text::{self, clip, ellipsize};

/// The most lines one contact field, or a timeline entry's heading, may fill; the rest is cut
/// with `…`.
const FIELD_LINES: usize = 4;
/// The most lines a note or an attempt's note may fill in the timeline.
const DETAIL_LINES: usize = 40;
/// More characters than any terminal's title line shows.
const TITLE_CHARS: usize = 1024;

pub enum MemberState {
    Loading,
    Loaded(Box<MemberDetail>),
    /// Erased, or never existed.
    Gone,
    Failed(String),
}

pub struct MemberView {
    pub contact_id: i64,
    pub state: MemberState,
    scroll: usize,
    /// Lines that fit at the last draw, for paging.
    page: usize,
    /// Lines at the last draw, for clamping.
    total: usize,
}

impl MemberView {
    pub fn new(contact_id: i64) -> MemberView {
        MemberView {
            contact_id,
            state: MemberState::Loading,
            scroll: 0,
            page: 1,
            total: 0,
        }
    }

    /// The member's main membership as the renewals actions address it (a contact logged, a
    /// note, a next action date, an assignee), or None while loading or with no membership. A
    /// lifetime membership has no end date: it stands at `today`.
    pub fn as_queue_row(&self, today: NaiveDate) -> Option<QueueRow> {
        let MemberState::Loaded(m) = &self.state else {
            return None;
        };
        let (c, ms) = (&m.contact, m.memberships.first()?);
        Some(QueueRow {
            membership_id: ms.id,
            contact_id: c.id,
            contact_crm_id: c.crm_id.clone(),
            membership_crm_id: ms.crm_membership_id.clone(),
            name: c.display_name.clone(),
            sort_name: c.sort_name.clone(),
            membership_type: ms.membership_type.clone(),
            local_party: c.local_party.clone(),
            region: c.region.clone(),
            end_date: ms.end_date.as_deref().and_then(parse_iso).unwrap_or(today),
            crm_status: ms.crm_status.clone(),
            auto_renew: ms.auto_renew,
            flags: c.flags,
            last_contact: None,
            snoozed_until: None,
            assignee: None,
        })
    }

    /// The membership an escalation from here is about: the one listed first (lifetime or the
    /// latest end date).
    pub fn main_membership(&self) -> Option<i64> {
        match &self.state {
            MemberState::Loaded(m) => m.memberships.first().map(|m| m.id),
            _ => None,
        }
    }

    /// Scrolls for a `[list]` action; false when the action is not a movement.
    pub fn scroll_action(&mut self, action: &str) -> bool {
        let page = self.page.max(1) as isize;
        let delta = match action {
            "up" => -1,
            "down" => 1,
            "page_up" => -page,
            "page_down" => page,
            "half_page_up" => -page / 2,
            "half_page_down" => page / 2,
            "top" => isize::MIN / 2,
            "bottom" => isize::MAX / 2,
            _ => return false,
        };
        let max = self.total.saturating_sub(self.page);
        self.scroll = self.scroll.saturating_add_signed(delta).min(max);
        true
    }

    pub fn draw(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        frame.render_widget(Clear, area);
        let inner_width = area.width.saturating_sub(2) as usize;
        let (title, lines) = match &self.state {
            MemberState::Loading => (
                " Member ".to_owned(),
                vec![Line::styled("Loading…", theme.dim)],
            ),
            MemberState::Gone => (
                " Member ".to_owned(),
                vec![Line::from(
                    "This contact is no longer in the database (erased or never imported).",
                )],
            ),
            MemberState::Failed(why) => (
                " Member ".to_owned(),
                vec![Line::styled(
                    format!("Could not load this member: {why}"),
                    theme.danger,
                )],
            ),
            MemberState::Loaded(m) => (
                format!(
                    " {} ",
                    ellipsize(&display_name(&m.contact), inner_width.saturating_sub(2))
                ),
                member_lines(m, inner_width, theme),
            ),
        };
        self.page = area.height.saturating_sub(2) as usize;
        self.total = lines.len();
        self.scroll = self.scroll.min(self.total.saturating_sub(self.page));
        let position = if self.total > self.page {
            format!(" {}/{} ", self.scroll + 1, self.total)
        } else {
            String::new()
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border)
            .title(Line::styled(title, theme.title))
            // The keys are on the hint line below, from the keymap (a fixed list here would
            // go stale when a key is rebound).
            .title_bottom(Line::styled(position, theme.dim));
        frame.render_widget(
            Paragraph::new(lines)
                .style(theme.base)
                .scroll((self.scroll as u16, 0))
                .block(block),
            area,
        );
    }
}

/// The name to show, cut to what a title can hold (a name is not copied in full every frame).
fn display_name(c: &ContactDetail) -> String {
    let name = [&c.display_name, &c.organization_name, &c.sort_name]
        .into_iter()
        .find(|n| !n.trim().is_empty())
        .map(|n| clip(n, TITLE_CHARS).to_owned())
        .unwrap_or_else(|| {
            format!(
                "{} {}",
                clip(&c.first_name, TITLE_CHARS),
                clip(&c.last_name, TITLE_CHARS)
            )
        });
    if name.trim().is_empty() {
        format!("contact {}", c.id)
    } else {
        name
    }
}

fn member_lines(m: &MemberDetail, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = preference_lines(&m.contact, theme);
    lines.push(Line::from(""));
    lines.extend(contact_lines(&m.contact, width, theme));
    lines.push(Line::from(""));
    lines.push(Line::styled(
        format!("Memberships ({})", m.memberships.len()),
        theme.header,
    ));
    if m.memberships.is_empty() {
        lines.push(Line::styled("  none in the CRM export", theme.dim));
    }
    for membership in &m.memberships {
        lines.extend(membership_lines(membership, width, theme));
    }
    lines.push(Line::from(""));
    lines.push(Line::styled(
        format!("Timeline ({}), newest first", m.timeline.len()),
        theme.header,
    ));
    if m.timeline.is_empty() {
        lines.push(Line::styled("  nothing recorded yet", theme.dim));
    }
    let who_width = m
        .timeline
        .iter()
        .map(|e| clip(&e.who, 14).chars().count())
        .max()
        .unwrap_or(0)
        .min(14);
    for entry in &m.timeline {
        lines.extend(timeline_lines(entry, who_width, width, theme));
    }
    lines
}

/// The preferences, as words (never colour alone), at the top where they cannot be missed.
fn preference_lines(c: &ContactDetail, theme: &Theme) -> Vec<Line<'static>> {
    let f = &c.flags;
    let deceased = match &c.deceased_date {
        Some(d) if f.deceased => format!("DECEASED {}", ellipsize(d, 20)),
        _ => "DECEASED".to_owned(),
    };
    let stops: Vec<String> = [
        (f.deceased, deceased),
        (f.do_not_phone, "DO NOT PHONE".to_owned()),
        (f.do_not_email, "DO NOT EMAIL".to_owned()),
        (f.do_not_mail, "DO NOT MAIL".to_owned()),
        (f.do_not_sms, "DO NOT SMS".to_owned()),
        (f.no_bulk_email, "NO BULK EMAIL".to_owned()),
        (f.on_hold, "EMAIL ON HOLD (bouncing)".to_owned()),
    ]
    .into_iter()
    .filter_map(|(on, text)| on.then_some(text))
    .collect();
    let mut spans = Vec::new();
    for stop in stops {
        spans.push(Span::styled(format!("[{stop}]"), theme.danger));
        spans.push(Span::raw(" "));
    }
    if f.welsh {
        spans.push(Span::styled(
            format!("[WELSH SPEAKER: {}]", ellipsize(&c.preferred_language, 20)),
            theme.badge,
        ));
    }
    if spans.is_empty() {
        spans.push(Span::styled("No contact restrictions recorded", theme.ok));
    }
    vec![Line::from(spans)]
}

fn contact_lines(c: &ContactDetail, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let value_width = width.saturating_sub(15);
    // Each part is cut to what its lines can show before it is copied into a value.
    let budget = FIELD_LINES * (value_width.max(8) + 1) + 1;
    let v = |s: &str| clip(s, budget).to_owned();
    let address = [
        &c.street_address,
        &c.city,
        &c.county,
        &c.postcode,
        &c.country,
    ]
    .into_iter()
    .filter(|s| !s.trim().is_empty())
    .map(|s| clip(s, budget))
    .collect::<Vec<_>>()
    .join(", ");
    let fields: [(&str, String); 12] = [
        (
            "Contact",
            format!(
                "{} · {} id {} · rollcall #{}",
                v(&c.contact_type),
                v(&c.source),
                v(&c.crm_id),
                c.id
            ),
        ),
        (
            "Name",
            format!("{} {}", v(&c.first_name), v(&c.last_name))
                .trim()
                .to_owned(),
        ),
        ("Sort name", v(&c.sort_name)),
        ("Organisation", v(&c.organization_name)),
        ("Email", v(&c.email)),
        ("Phone", v(&c.phone)),
        ("Address", address),
        ("Language", v(&c.preferred_language)),
        ("Local party", v(&c.local_party)),
        ("Region", v(&c.region)),
        ("Constituency", v(&c.constituency)),
        (
            "Deceased",
            c.deceased_date
                .as_deref()
                .filter(|_| c.flags.deceased)
                .map(v)
                .unwrap_or_default(),
        ),
    ];
    let mut lines = Vec::new();
    for (label, value) in fields {
        if value.trim().is_empty() {
            continue;
        }
        for (i, part) in wrap(&value, value_width, FIELD_LINES)
            .into_iter()
            .enumerate()
        {
            let label = if i == 0 { label } else { "" };
            lines.push(Line::from(vec![
                Span::styled(format!("{label:<13}  "), theme.dim),
                Span::raw(part),
            ]));
        }
    }
    lines
}

fn membership_lines(m: &MembershipDetail, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    // Each line is cut to the width below; no value needs more characters than that.
    let c = |s: &str| clip(s, width + 1).to_owned();
    let opt = |d: &Option<String>| d.as_deref().map_or_else(|| "—".into(), c);
    let id = m
        .crm_membership_id
        .as_deref()
        .map_or_else(String::new, |i| format!("  CRM #{}", c(i)));
    let end = m
        .end_date
        .as_deref()
        .map_or_else(|| "none (lifetime)".into(), c);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("▪ {}", c(&m.membership_type)), theme.title),
            Span::raw(id),
        ]),
        Line::from(format!(
            "  joined {}  start {}  end {}",
            opt(&m.join_date),
            opt(&m.start_date),
            end
        )),
    ];
    let crm = if m.crm_status.is_empty() {
        "—"
    } else {
        clip(&m.crm_status, width + 1)
    };
    lines.push(Line::from(vec![
        Span::raw(format!("  CRM status {crm} · rollcall status ")),
        Span::styled(m.derived.label().to_owned(), theme.title),
    ]));
    if m.disagrees {
        lines.push(Line::styled(
            format!(
                "  ! DISAGREE: the dates give {} as of today; the CRM says {crm}",
                m.derived.label()
            ),
            theme.warning,
        ));
    }
    let source = if m.membership_source.is_empty() {
        "—"
    } else {
        clip(&m.membership_source, width + 1)
    };
    lines.push(Line::from(format!(
        "  auto-renew {} · source {source}",
        if m.auto_renew { "yes" } else { "no" }
    )));
    if let Some(since) = &m.missing_since {
        lines.push(Line::styled(
            format!("  ! MISSING from the CRM export since the import of {since}"),
            theme.danger,
        ));
    }
    for line in &mut lines {
        truncate_line(line, width);
    }
    lines
}

fn timeline_lines(
    e: &TimelineEntry,
    who_width: usize,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let at = clip(&e.at, 16).replacen('T', " ", 1);
    let who = clip(&e.who, who_width);
    let indent = 16 + 2 + who_width + 2;
    let mut lines = Vec::new();
    let what = wrap(&e.what, width.saturating_sub(indent), FIELD_LINES);
    for (i, part) in what.into_iter().enumerate() {
        let (at, who) = if i == 0 { (at.as_str(), who) } else { ("", "") };
        lines.push(Line::from(vec![
            Span::styled(format!("{at:<16}  "), theme.dim),
            Span::styled(format!("{who:<who_width$}  "), theme.hint_text),
            Span::raw(part),
        ]));
    }
    for part in wrap(&e.detail, width.saturating_sub(indent + 2), DETAIL_LINES) {
        lines.push(Line::from(vec![
            Span::raw(" ".repeat(indent)),
            Span::styled(format!("“{part}”"), theme.dim),
        ]));
    }
    lines
}

/// Word-wraps `text` to `width` columns in at most `max_lines` lines (a word longer than the
/// width is cut). Line breaks in the text are kept; empty text gives no lines. Text that does
/// not fit ends in `…` on the last line.
///
/// The cost is bounded by what is shown, not by the text: reading stops at the last line, and
/// at most the characters those lines could hold are read. (A 10 MB field, wrapped in full on
/// every frame, and a long word cut by copying its rest for each line, froze the app.)
pub fn wrap(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let width = width.max(8);
    let budget = max_lines.saturating_mul(width + 1);
    let shown = text::clip(text, budget);
    let mut lines = Wrapped {
        out: Vec::new(),
        width,
        max_lines,
        cut: shown.len() < text.len(),
    };
    'paragraphs: for paragraph in shown.lines() {
        let mut line = String::new();
        let mut used = 0;
        for word in paragraph.split_whitespace() {
            let mut rest = word;
            loop {
                let (end, w) = fit(rest, width);
                if end < rest.len() {
                    // A word wider than a line: emit it in line-sized pieces.
                    if !line.is_empty() && !lines.push(std::mem::take(&mut line)) {
                        break 'paragraphs;
                    }
                    used = 0;
                    if !lines.push(rest[..end].to_owned()) {
                        break 'paragraphs;
                    }
                    rest = &rest[end..];
                    continue;
                }
                if w == 0 {
                    break;
                }
                if used > 0 && used + 1 + w > width {
                    if !lines.push(std::mem::take(&mut line)) {
                        break 'paragraphs;
                    }
                    used = 0;
                }
                if used > 0 {
                    line.push(' ');
                    used += 1;
                }
                line.push_str(rest);
                used += w;
                break;
            }
        }
        if !line.is_empty() && !lines.push(line) {
            break;
        }
    }
    lines.finish()
}

/// Lines being wrapped, up to a limit.
struct Wrapped {
    out: Vec<String>,
    width: usize,
    max_lines: usize,
    /// Some of the text is not shown.
    cut: bool,
}

impl Wrapped {
    /// Adds a line; false (and the text marked as cut) when the lines are full.
    fn push(&mut self, line: String) -> bool {
        if self.out.len() == self.max_lines {
            self.cut = true;
            return false;
        }
        self.out.push(line);
        true
    }

    fn finish(mut self) -> Vec<String> {
        if self.cut
            && let Some(last) = self.out.last_mut()
        {
            let (end, _) = fit(last, self.width - 1);
            last.truncate(end);
            last.push('…');
        }
        self.out
    }
}

/// The longest start of `word` that fits `width` columns and `width` characters (so that
/// zero-width characters cannot make a piece unbounded): its length in bytes, and its width.
fn fit(word: &str, width: usize) -> (usize, usize) {
    let mut used = 0;
    for (count, (i, c)) in word.char_indices().enumerate() {
        let mut buf = [0; 4];
        let w = Span::raw(&*c.encode_utf8(&mut buf)).width();
        if count == width || used + w > width {
            return (i, used);
        }
        used += w;
    }
    (word.len(), used)
}

/// Cuts a line's spans so that it fits `width` columns.
fn truncate_line(line: &mut Line<'static>, width: usize) {
    let mut left = width;
    let mut cut_done = false;
    for span in &mut line.spans {
        let w = span.width();
        if cut_done {
            span.content = "".into();
        } else if w <= left {
            left -= w;
        } else {
            let cut: String = span.content.chars().take(left.saturating_sub(1)).collect();
            span.content = format!("{cut}…").into();
            cut_done = true;
        }
    }
    line.spans.retain(|s| !s.content.is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_on_words_and_cuts_long_ones() {
        assert_eq!(
            wrap("one two three four", 9, 10),
            vec!["one two", "three", "four"]
        );
        assert_eq!(wrap("abcdefghijkl", 8, 10), vec!["abcdefgh", "ijkl"]);
        assert_eq!(wrap("a\nb", 20, 10), vec!["a", "b"]);
        assert!(wrap("", 20, 10).is_empty());
        assert_eq!(wrap("Siân Ŵyn", 8, 10), vec!["Siân Ŵyn"]);
    }

    #[test]
    fn text_past_the_last_line_ends_in_an_ellipsis() {
        assert_eq!(wrap("one two three four", 9, 2), vec!["one two", "three…"]);
        assert_eq!(
            wrap("abcdefghijklmnopq", 8, 2),
            vec!["abcdefgh", "ijklmno…"]
        );
        assert_eq!(wrap("a\nb\nc", 20, 2), vec!["a", "b…"]);
        // Exactly filling the lines is not cut.
        assert_eq!(wrap("abcdefgh", 8, 1), vec!["abcdefgh"]);
    }

    #[test]
    fn wide_and_zero_width_characters_stay_within_the_width() {
        // Two columns each: four fit in eight.
        assert_eq!(wrap("日本語日本語", 8, 10), vec!["日本語日", "本語"]);
        let marks = "\u{301}".repeat(100);
        let lines = wrap(&marks, 8, 3);
        assert_eq!(lines.len(), 3);
        assert!(lines.iter().all(|l| l.chars().count() <= 8), "{lines:?}");
    }
}
