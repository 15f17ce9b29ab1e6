//! Today: the pane the app opens on. It leads with the work waiting in the queues (renewals
//! due, lapsed in grace, onboarding overdue, escalations overdue or due soon), each line taking
//! you to its pane; then what the last import changed, my work for today and the team's figures,
//! each count opening the list behind it.
//!
//! Everything comes from `storage::stats` (the same functions `rollcall stats` calls) through the
//! DB worker, in three jobs sent quickest first: since the last import, my work, team figures.
//! The frame draws at once with "loading…" in the parts still on their way.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Bar, BarChart, BarGroup, Block, Borders, Cell, Paragraph, Row, Table, TableState,
};

use crate::app::db::DbReply;
use crate::app::pane::{Command, Effect, Pane, PaneId, PaneInput, Shared};
use crate::storage::stats::{
    self, ListKind, ListRow, MyWork, SinceImport, TeamFigures, WorkContext, percent, thousands,
};
use crate::text::clip;

/// More characters than a table cell shows.
const SHOWN_CHARS: usize = 512;

/// The most rows a list behind a count loads; the header says when there are more.
pub const LIST_LIMIT: usize = 500;

const COMMANDS: &[Command] = &[
    Command {
        action: "open",
        description: "open the list behind a count; in a list, open the member",
        hint: true,
        changes: false,
    },
    Command {
        action: "back",
        description: "back to the overview",
        hint: true,
        changes: false,
    },
    Command {
        action: "figures",
        description: "all team figures: months, regions, local parties",
        hint: true,
        changes: false,
    },
    Command {
        action: "reload",
        description: "reload the figures",
        hint: false,
        changes: false,
    },
];

/// The work waiting, first on the overview and first in cursor order: Enter on a line goes to
/// the pane where that work is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    RenewalsDue,
    LapsedInGrace,
    OnboardingOverdue,
    EscalationsDue,
}

impl Waiting {
    const ALL: [Waiting; 4] = [
        Waiting::RenewalsDue,
        Waiting::LapsedInGrace,
        Waiting::OnboardingOverdue,
        Waiting::EscalationsDue,
    ];

    fn label(self) -> String {
        match self {
            Waiting::RenewalsDue => "Renewals due".into(),
            Waiting::LapsedInGrace => "Lapsed, in grace: win them back".into(),
            Waiting::OnboardingOverdue => "Onboarding steps overdue".into(),
            Waiting::EscalationsDue => {
                format!("Escalations overdue or due in {ESCALATION_SOON_DAYS} days")
            }
        }
    }

    fn pane(self) -> PaneId {
        match self {
            Waiting::RenewalsDue | Waiting::LapsedInGrace => PaneId::Renewals,
            Waiting::OnboardingOverdue => PaneId::Onboarding,
            Waiting::EscalationsDue => PaneId::Escalations,
        }
    }
}

/// An escalation due within this many days counts as waiting (as well as the overdue ones).
const ESCALATION_SOON_DAYS: i64 = 2;

/// The counts behind [`Waiting`], as the queues themselves count: the renewals queue's Due and
/// Lapsed-in-grace sections, the onboarding Overdue view, open escalations by due date.
#[derive(Debug, Clone, Copy, Default)]
struct WaitingCounts {
    renewals_due: u64,
    lapsed_in_grace: u64,
    onboarding_overdue: u64,
    escalations_due: u64,
}

impl WaitingCounts {
    fn of(&self, w: Waiting) -> u64 {
        match w {
            Waiting::RenewalsDue => self.renewals_due,
            Waiting::LapsedInGrace => self.lapsed_in_grace,
            Waiting::OnboardingOverdue => self.onboarding_overdue,
            Waiting::EscalationsDue => self.escalations_due,
        }
    }

    fn load(
        store: &crate::storage::Store,
        clock: &crate::Clock,
        config: &crate::config::Config,
    ) -> anyhow::Result<WaitingCounts> {
        use crate::domain::renewal::{Section, Windows};
        let today = clock.today;
        let windows = Windows::from(&config.renewals);
        let rows = crate::storage::renewals::queue(&store.conn, today, windows, None)?;
        let in_section =
            |section: Section| rows.iter().filter(|r| r.section(today) == section).count() as u64;
        let path = crate::domain::onboarding::StepPath::from_config(&config.onboarding)?;
        let entries = crate::storage::onboarding::read_queue(store, clock, &config.onboarding)?;
        let overdue = crate::storage::onboarding::View::Overdue;
        let onboarding_overdue = entries
            .iter()
            .filter(|e| overdue.shows(e, &e.progress(&path, today), &clock.user))
            .count() as u64;
        let soon = today + chrono::Duration::days(ESCALATION_SOON_DAYS);
        let open = crate::domain::escalation::View::Open;
        let escalations = crate::storage::escalations::list(&store.conn, open, &clock.user, today)?;
        Ok(WaitingCounts {
            renewals_due: in_section(Section::Due),
            lapsed_in_grace: in_section(Section::InGrace),
            onboarding_overdue,
            escalations_due: escalations.iter().filter(|r| r.due <= soon).count() as u64,
        })
    }
}

/// Every count on the overview after the waiting work, in cursor order.
const ITEMS: [ListKind; 10] = [
    ListKind::Joined,
    ListKind::Renewed,
    ListKind::Lapsed,
    ListKind::Vanished,
    ListKind::FollowUps,
    ListKind::Promises,
    ListKind::OnboardingDue,
    ListKind::MyEscalations,
    ListKind::UnassignedEscalations,
    ListKind::HandedToMe,
];

/// A part of the pane that is loading, loaded, or failed (with the error, which never holds
/// personal data: it is an SQLite or configuration message).
enum Load<T> {
    Loading,
    Ready(T),
    Failed(String),
}

impl<T> Load<T> {
    fn from_reply(reply: DbReply) -> Load<T>
    where
        T: 'static,
    {
        match reply.take::<T>() {
            Ok(v) => Load::Ready(v),
            Err(e) => Load::Failed(e),
        }
    }

    fn ready(&self) -> Option<&T> {
        match self {
            Load::Ready(v) => Some(v),
            _ => None,
        }
    }
}

/// What a list job answers: which list, its first rows, and how many there are in all.
struct ListPage {
    kind: ListKind,
    rows: Vec<ListRow>,
    total: u64,
}

struct ListView {
    kind: ListKind,
    page: Load<ListPage>,
    state: TableState,
}

enum View {
    Overview,
    List(ListView),
    Figures { scroll: u16 },
}

pub struct TodayPane {
    waiting: Load<WaitingCounts>,
    since: Load<SinceImport>,
    work: Load<MyWork>,
    team: Load<TeamFigures>,
    /// Loaded when the figures view opens: a pass over every membership is more than the
    /// overview should wait for.
    cohorts: Load<CohortFigures>,
    cursor: usize,
    view: View,
    /// Rows of the last drawn list, for page up/down.
    page_rows: usize,
}

pub fn pane() -> Box<dyn Pane> {
    Box::new(TodayPane::new())
}

impl Default for TodayPane {
    fn default() -> Self {
        TodayPane::new()
    }
}

impl TodayPane {
    pub fn new() -> TodayPane {
        TodayPane {
            waiting: Load::Loading,
            since: Load::Loading,
            work: Load::Loading,
            team: Load::Loading,
            cohorts: Load::Loading,
            cursor: 0,
            view: View::Overview,
            page_rows: 10,
        }
    }

    fn request_list(&mut self, kind: ListKind, shared: &Shared) {
        send_list_job(kind, shared);
        self.view = View::List(ListView {
            kind,
            page: Load::Loading,
            state: TableState::default().with_selected(Some(0)),
        });
    }

    fn handle_overview(&mut self, action: &str, shared: &Shared) -> Effect {
        let last = Waiting::ALL.len() + ITEMS.len() - 1;
        match action {
            "up" => self.cursor = self.cursor.saturating_sub(1),
            "down" => self.cursor = (self.cursor + 1).min(last),
            "top" | "page_up" | "half_page_up" => self.cursor = 0,
            "bottom" | "page_down" | "half_page_down" => self.cursor = last,
            "open" => match Waiting::ALL.get(self.cursor) {
                Some(w) => return Effect::SwitchPane(w.pane()),
                None => self.request_list(ITEMS[self.cursor - Waiting::ALL.len()], shared),
            },
            _ => {}
        }
        Effect::None
    }

    fn handle_list(&mut self, action: &str) -> Effect {
        let page_rows = self.page_rows.max(1);
        let View::List(list) = &mut self.view else {
            return Effect::None;
        };
        let Load::Ready(page) = &list.page else {
            if action == "back" {
                self.view = View::Overview;
            }
            return Effect::None;
        };
        let last = page.rows.len().saturating_sub(1);
        let at = list.state.selected().unwrap_or(0);
        let to = match action {
            "up" => at.saturating_sub(1),
            "down" => (at + 1).min(last),
            "top" => 0,
            "bottom" => last,
            "page_up" => at.saturating_sub(page_rows),
            "page_down" => (at + page_rows).min(last),
            "half_page_up" => at.saturating_sub(page_rows / 2),
            "half_page_down" => (at + page_rows / 2).min(last),
            "open" => return open_row(list.kind, page.rows.get(at)),
            "back" => {
                self.view = View::Overview;
                return Effect::None;
            }
            _ => at,
        };
        list.state.select(Some(to));
        Effect::None
    }
}

fn send_list_job(kind: ListKind, shared: &Shared) {
    let config = shared.config.clone();
    shared
        .db
        .request(PaneId::Today, "list", move |store, clock| {
            let work = work_context(&config, clock)?;
            let (rows, total) = stats::list(&store.conn, kind, &work, LIST_LIMIT)?;
            Ok(ListPage { kind, rows, total })
        });
}

/// What a list row is about, to find it again in a reloaded list.
fn row_key(row: &ListRow) -> (Option<i64>, Option<i64>, Option<i64>) {
    (row.contact_id, row.membership_id, row.escalation_id)
}

/// Builds the my-work context on the DB thread (the steps file is read there, not on the UI).
fn work_context(
    config: &crate::config::Config,
    clock: &crate::Clock,
) -> anyhow::Result<WorkContext> {
    Ok(WorkContext {
        today: clock.today,
        user: clock.user.clone(),
        steps: stats::onboarding_steps(config)?,
    })
}

/// Enter on a row: the member, or the escalations pane for an escalation not about one member.
fn open_row(kind: ListKind, row: Option<&ListRow>) -> Effect {
    let Some(row) = row else {
        return Effect::None;
    };
    let escalation = match kind {
        ListKind::MyEscalations | ListKind::UnassignedEscalations => true,
        ListKind::HandedToMe => row.escalation_id.is_some(),
        _ => false,
    };
    match (escalation, row.contact_id) {
        (true, _) => Effect::SwitchPane(PaneId::Escalations),
        (false, Some(id)) => Effect::OpenMember(id),
        (false, None) => Effect::None,
    }
}

impl Pane for TodayPane {
    fn id(&self) -> PaneId {
        PaneId::Today
    }

    fn commands(&self) -> &'static [Command] {
        COMMANDS
    }

    fn refresh(&mut self, shared: &Shared) {
        // Quickest first: the worker runs jobs in order, so the counts show before the figures.
        let config = shared.config.clone();
        shared
            .db
            .request(PaneId::Today, "waiting", move |store, clock| {
                WaitingCounts::load(store, clock, &config)
            });
        shared.db.request(PaneId::Today, "since", |store, _| {
            Ok(stats::since_last_import(&store.conn)?)
        });
        let config = shared.config.clone();
        shared
            .db
            .request(PaneId::Today, "work", move |store, clock| {
                let work = work_context(&config, clock)?;
                Ok(stats::my_work(&store.conn, &work)?)
            });
        shared.db.request(PaneId::Today, "team", |store, clock| {
            Ok(stats::team_figures(&store.conn, clock.today)?)
        });
        if matches!(self.view, View::Figures { .. }) {
            send_cohorts_job(shared);
        }
        // An open list reloads in place: its rows stay on screen until the new ones arrive
        // (another window's change must not blank it), and the highlight stays on its row.
        if let View::List(list) = &self.view {
            send_list_job(list.kind, shared);
        }
    }

    fn handle(&mut self, input: PaneInput, shared: &Shared) -> Effect {
        let PaneInput::Action(action) = input else {
            return Effect::None;
        };
        match (action, &mut self.view) {
            ("reload", _) => {
                self.refresh(shared);
                Effect::Status("Reloading today's figures".into())
            }
            ("figures", View::Figures { .. }) | ("back", View::Figures { .. }) => {
                self.view = View::Overview;
                Effect::None
            }
            ("figures", _) => {
                self.view = View::Figures { scroll: 0 };
                send_cohorts_job(shared);
                Effect::None
            }
            (_, View::Figures { scroll }) => {
                let page = self.page_rows.max(1) as u16;
                *scroll = match action {
                    "up" => scroll.saturating_sub(1),
                    "down" => scroll.saturating_add(1),
                    "page_up" | "half_page_up" => scroll.saturating_sub(page),
                    "page_down" | "half_page_down" => scroll.saturating_add(page),
                    "top" => 0,
                    _ => *scroll,
                };
                Effect::None
            }
            (_, View::List(_)) => self.handle_list(action),
            (_, View::Overview) => self.handle_overview(action, shared),
        }
    }

    fn on_reply(&mut self, reply: DbReply, _shared: &Shared) -> Effect {
        match reply.key {
            "waiting" => self.waiting = Load::from_reply(reply),
            "since" => self.since = Load::from_reply(reply),
            "work" => self.work = Load::from_reply(reply),
            "team" => self.team = Load::from_reply(reply),
            "cohorts" => self.cohorts = Load::from_reply(reply),
            "list" => {
                let page = Load::<ListPage>::from_reply(reply);
                if let View::List(list) = &mut self.view {
                    // A reply for a list since left behind is dropped.
                    let stale = matches!(&page, Load::Ready(p) if p.kind != list.kind);
                    if !stale {
                        if let Load::Ready(p) = &page {
                            let at = list.state.selected().unwrap_or(0);
                            let kept = list
                                .page
                                .ready()
                                .and_then(|old| old.rows.get(at))
                                .map(row_key)
                                .and_then(|key| p.rows.iter().position(|r| row_key(r) == key));
                            let last = p.rows.len().saturating_sub(1);
                            list.state.select(Some(kept.unwrap_or(at).min(last)));
                        }
                        list.page = page;
                    }
                }
            }
            _ => {}
        }
        Effect::None
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, shared: &Shared) {
        let today = shared.clock.today.format("%a %-d %b %Y");
        let title = match &self.view {
            View::Overview => format!(" Today · {today} · {} ", shared.clock.user),
            View::List(list) => format!(" Today › {} ", list.kind.label()),
            View::Figures { .. } => format!(" Today › Team figures · as of {today} "),
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(shared.theme.border)
            .title(Span::styled(title, shared.theme.title));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        self.page_rows = usize::from(inner.height.saturating_sub(2));
        match &mut self.view {
            View::Overview => draw_overview(
                frame,
                inner,
                shared,
                self.cursor,
                &self.waiting,
                &self.since,
                &self.work,
                &self.team,
            ),
            View::List(list) => draw_list(frame, inner, shared, list),
            View::Figures { scroll } => {
                draw_figures(frame, inner, shared, &self.team, &self.cohorts, *scroll)
            }
        }
    }
}

// ------------------------------------------------------------------ drawing

fn loading_line<'a, T>(part: &Load<T>, what: &str, shared: &Shared) -> Option<Line<'a>> {
    match part {
        Load::Ready(_) => None,
        Load::Loading => Some(Line::styled(format!("loading {what}…"), shared.theme.dim)),
        Load::Failed(e) => Some(Line::styled(
            format!("could not load {what}: {e}"),
            shared.theme.danger,
        )),
    }
}

#[allow(clippy::too_many_arguments)]
fn draw_overview(
    frame: &mut Frame,
    area: Rect,
    shared: &Shared,
    cursor: usize,
    waiting: &Load<WaitingCounts>,
    since: &Load<SinceImport>,
    work: &Load<MyWork>,
    team: &Load<TeamFigures>,
) {
    let [first, _, top, changes_row, bottom] = Layout::vertical([
        Constraint::Length(1 + Waiting::ALL.len() as u16),
        Constraint::Length(1),
        Constraint::Length(1 + ListKind::MY_WORK.len().max(ListKind::SINCE_IMPORT.len()) as u16),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);
    draw_waiting(frame, first, shared, cursor, waiting);
    // The counts below come after the waiting lines in cursor order.
    let cursor = cursor.wrapping_sub(Waiting::ALL.len());
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)])
            .spacing(2)
            .areas(top);

    let since_title = match since {
        Load::Ready(s) => match &s.import {
            Some(i) => format!(
                "Since the last import ({})",
                short_date(&i.as_of, shared.clock.today)
            ),
            None => "Since the last import: no import yet".to_owned(),
        },
        _ => "Since the last import".to_owned(),
    };
    let items = |kinds: &[ListKind], offset: usize, width: u16| -> Vec<Line<'static>> {
        kinds
            .iter()
            .enumerate()
            .map(|(i, &kind)| {
                let count = count_text(kind, since, work);
                item_line(kind.label(), &count, offset + i == cursor, width, shared)
            })
            .collect()
    };
    let mut lines = vec![Line::styled(since_title, shared.theme.header)];
    lines.extend(items(&ListKind::SINCE_IMPORT, 0, left.width));
    lines.extend(loading_line(since, "the last import", shared));
    if let Load::Ready(s) = since
        && let Some(said) = changes_line(s, usize::from(changes_row.width))
    {
        frame.render_widget(
            Paragraph::new(Line::styled(said, shared.theme.dim)),
            changes_row,
        );
    }
    frame.render_widget(Paragraph::new(lines), left);

    let mut lines = vec![Line::styled(
        format!("My work ({})", shared.clock.user),
        shared.theme.header,
    )];
    lines.extend(items(
        &ListKind::MY_WORK,
        ListKind::SINCE_IMPORT.len(),
        right.width,
    ));
    if let Some(l) = loading_line(work, "my work", shared) {
        lines.truncate(1);
        lines.push(l);
    }
    frame.render_widget(Paragraph::new(lines), right);

    match team {
        Load::Ready(t) => draw_team(frame, bottom, shared, t),
        _ => {
            let mut lines = vec![Line::styled("Team figures", shared.theme.header)];
            lines.extend(loading_line(team, "team figures", shared));
            frame.render_widget(Paragraph::new(lines), bottom);
        }
    }
}

/// "In the CRM: 14 moved local party, 9 emails bouncing, 3 deceased", cut with `…` at `width`
/// (`rollcall changes` has the rest); None when the last import saw no such change.
fn changes_line(since: &SinceImport, width: usize) -> Option<String> {
    if since.crm_changes.is_empty() {
        return None;
    }
    let said: Vec<String> = since.crm_changes.iter().map(|c| c.short()).collect();
    Some(crate::text::ellipsize(
        &format!("In the CRM: {}", said.join(", ")),
        width,
    ))
}

/// The work waiting: a line each, its count, and the pane Enter takes you to.
fn draw_waiting(
    frame: &mut Frame,
    area: Rect,
    shared: &Shared,
    cursor: usize,
    waiting: &Load<WaitingCounts>,
) {
    let mut lines = vec![Line::styled(
        "Waiting in the queues (Enter: start on it)",
        shared.theme.header,
    )];
    // "  → " and the longest pane title.
    let go_width = 4 + PaneId::ALL
        .iter()
        .map(|p| p.title().len())
        .max()
        .unwrap_or(0) as u16;
    for (i, w) in Waiting::ALL.into_iter().enumerate() {
        let count = match waiting {
            Load::Ready(c) => thousands(c.of(w)),
            Load::Loading => "…".into(),
            Load::Failed(_) => "?".into(),
        };
        let width = area.width.saturating_sub(go_width);
        let mut line = item_line(&w.label(), &count, i == cursor, width, shared);
        line.push_span(Span::styled(
            format!(
                "  → {:<w$}",
                w.pane().title(),
                w = usize::from(go_width) - 4
            ),
            shared.theme.dim,
        ));
        lines.push(line);
    }
    if let Load::Failed(_) = waiting {
        lines.extend(loading_line(waiting, "the waiting work", shared));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// A count as shown: the number, `…` while loading, `?` when it could not be loaded.
fn count_text(kind: ListKind, since: &Load<SinceImport>, work: &Load<MyWork>) -> String {
    let (count, failed) = if ListKind::SINCE_IMPORT.contains(&kind) {
        (
            since.ready().map(|s| s.count(kind)),
            matches!(since, Load::Failed(_)),
        )
    } else {
        (
            work.ready().map(|w| w.count(kind)),
            matches!(work, Load::Failed(_)),
        )
    };
    match count {
        Some(n) => thousands(n),
        None if failed => "?".into(),
        None => "…".into(),
    }
}

/// One count: a marker and reverse/bold when it is under the cursor, never colour alone.
fn item_line(
    label: &str,
    count: &str,
    selected: bool,
    width: u16,
    shared: &Shared,
) -> Line<'static> {
    let marker = if selected { "> " } else { "  " };
    let label_width = usize::from(width).saturating_sub(2 + 1 + 8).max(8);
    let label: String = label.chars().take(label_width).collect();
    let text = format!("{marker}{label:<label_width$} {count:>8}");
    let style = if selected {
        shared.theme.selected
    } else {
        shared.theme.base
    };
    Line::styled(text, style)
}

fn draw_team(frame: &mut Frame, area: Rect, shared: &Shared, t: &TeamFigures) {
    let [body, footer] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(area);
    let lines = status_lines(shared, t);
    // Cut short, the status list would mislead (without its last rows): below the height it
    // needs, the chart has the room alone, and `f` has every figure.
    if usize::from(body.height) >= lines.len() {
        let width = lines.iter().map(Line::width).max().unwrap_or(0) as u16;
        let [left, right] = Layout::horizontal([Constraint::Length(width), Constraint::Min(0)])
            .spacing(2)
            .areas(body);
        frame.render_widget(Paragraph::new(lines), left);
        draw_chart(frame, right, shared, t);
    } else if body.height >= 4 {
        draw_chart(frame, body, shared, t);
    }
    draw_team_footer(frame, footer, shared, t);
}

/// Memberships by status, the member count and the top region.
fn status_lines(shared: &Shared, t: &TeamFigures) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled("Memberships by status", shared.theme.header)];
    for s in &t.by_status {
        lines.push(Line::raw(format!(
            "  {:<12}{:>12}",
            s.status.label(),
            thousands(s.memberships)
        )));
    }
    lines.push(Line::raw(format!(
        "  {:<12}{:>12}",
        "Members",
        thousands(t.members)
    )));
    if let Some(top) = t.by_region.first() {
        let name = if top.region.is_empty() {
            "(no region)"
        } else {
            &top.region
        };
        lines.push(Line::styled(
            format!("  Top region: {name} ({})", thousands(top.members)),
            shared.theme.dim,
        ));
    }
    lines
}

/// The last three months' renewal rates ("—" for a month with nothing due) and who came back.
fn draw_team_footer(frame: &mut Frame, footer: Rect, shared: &Shared, t: &TeamFigures) {
    let rates: Vec<String> = t
        .months
        .iter()
        .rev()
        .take(3)
        .rev()
        .map(|m| {
            format!(
                "{} {}{}",
                month_abbrev(&m.month),
                percent(m.renewal_rate),
                if m.provisional { "*" } else { "" }
            )
        })
        .collect();
    let footer_text = format!(
        "Renewal rate {} · won back {} · f: all figures",
        rates.join(" "),
        thousands(t.won_back)
    );
    frame.render_widget(
        Paragraph::new(Line::styled(footer_text, shared.theme.dim)),
        footer,
    );
}

/// Joiners and leavers month by month: each month a pair of bars, joined on the left and left
/// on the right, so the two read apart without colour.
fn draw_chart(frame: &mut Frame, area: Rect, shared: &Shared, t: &TeamFigures) {
    let [title, chart] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    let peak = t
        .months
        .iter()
        .map(|m| m.joiners.max(m.leavers))
        .max()
        .unwrap_or(0);
    // The long title says how to tell the bars apart without colour; where it would be cut
    // (and the peak with it), the short one.
    let long = format!(" by month (bars in that order; peak {})", thousands(peak));
    let rest = if "Joined, left".len() + long.chars().count() <= usize::from(title.width) {
        long
    } else {
        format!(" by month, peak {}", thousands(peak))
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("Joined", shared.theme.ok),
            Span::styled(", ", shared.theme.header),
            Span::styled("left", shared.theme.warning),
            Span::styled(rest, shared.theme.header),
        ])),
        title,
    );
    let mut barchart = BarChart::default()
        .bar_width(1)
        .bar_gap(1)
        .group_gap(0)
        .label_style(shared.theme.dim)
        .max(peak.max(1));
    for m in &t.months {
        let bars = [
            Bar::default()
                .value(m.joiners)
                .text_value("")
                .style(shared.theme.ok),
            Bar::default()
                .value(m.leavers)
                .text_value("")
                .style(shared.theme.warning),
        ];
        barchart = barchart.data(
            BarGroup::default()
                .label(Line::from(month_abbrev(&m.month)))
                .bars(&bars),
        );
    }
    frame.render_widget(barchart, chart);
}

fn draw_list(frame: &mut Frame, area: Rect, shared: &Shared, list: &mut ListView) {
    let page = match &list.page {
        Load::Ready(p) => p,
        other => {
            let line = loading_line(other, "the list", shared).unwrap_or_default();
            frame.render_widget(Paragraph::new(line), area);
            return;
        }
    };
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    let shown = if page.total > page.rows.len() as u64 {
        format!(
            "{} of {} shown",
            thousands(page.rows.len() as u64),
            thousands(page.total)
        )
    } else {
        format!("{} in all", thousands(page.total))
    };
    let action = match list.kind {
        ListKind::MyEscalations | ListKind::UnassignedEscalations => "Enter: escalations pane",
        ListKind::HandedToMe => "Enter: the member or the escalations pane",
        _ => "Enter: open member",
    };
    frame.render_widget(
        Paragraph::new(Line::styled(
            format!("{shown} · {action} · Esc: back"),
            shared.theme.dim,
        )),
        head,
    );
    if page.rows.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("Nothing here today.", shared.theme.dim)),
            body,
        );
        return;
    }
    let (what, date) = column_titles(list.kind);
    let header = Row::new([
        Cell::from("Name"),
        Cell::from(what),
        Cell::from(date),
        Cell::from("Detail"),
    ])
    .style(shared.theme.header);
    let rows = page.rows.iter().map(|r| {
        Row::new([
            // Cut before copying: a cell never shows more, and a 10 MB name would be copied
            // and measured every frame.
            Cell::from(clip(&r.name, SHOWN_CHARS).to_owned()),
            Cell::from(clip(&r.what, SHOWN_CHARS).to_owned()),
            Cell::from(r.date.clone().unwrap_or_else(|| "—".into())),
            Cell::from(clip(&r.detail, SHOWN_CHARS).to_owned()),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Percentage(30),
            Constraint::Percentage(28),
            Constraint::Length(10),
            Constraint::Min(10),
        ],
    )
    .header(header)
    .column_spacing(1)
    .row_highlight_style(shared.theme.selected)
    .highlight_symbol("> ");
    frame.render_stateful_widget(table, body, &mut list.state);
}

fn column_titles(kind: ListKind) -> (&'static str, &'static str) {
    match kind {
        ListKind::Joined => ("Membership", "Joined"),
        ListKind::Renewed => ("Membership", "New end"),
        ListKind::Lapsed | ListKind::Vanished => ("Membership", "End date"),
        ListKind::FollowUps => ("Membership", "Snoozed to"),
        ListKind::Promises => ("Membership", "Promised"),
        ListKind::OnboardingDue => ("Step", "Due"),
        ListKind::MyEscalations | ListKind::UnassignedEscalations => ("Escalation", "Due"),
        ListKind::HandedToMe => ("Work", "Assigned"),
    }
}

/// First-year renewal by join year for the figures view's chart, with the later years' rate.
struct CohortFigures {
    /// (join year, first-year renewal 0–100), the latest [`COHORTS_CHARTED`] with any.
    first_year: Vec<(String, u64)>,
    all: crate::domain::cohorts::RenewalRates,
}

/// Cohorts the chart shows: 5 columns each, so they fit 80 columns with room to spare.
const COHORTS_CHARTED: usize = 10;

/// Rows the chart takes at the top of the figures view: title, bars, labels.
const COHORT_CHART_ROWS: u16 = 9;

fn send_cohorts_job(shared: &Shared) {
    shared.db.request(PaneId::Today, "cohorts", |store, clock| {
        use crate::domain::cohorts::{CohortBy, cohorts, renewal_rates};
        let joined = crate::storage::cohorts::joined(&store.conn, None)?;
        let mut first_year: Vec<(String, u64)> = cohorts(&joined, CohortBy::JoinYear, clock.today)
            .iter()
            .filter_map(|c| Some((c.cohort.clone(), (c.rate(1)? * 100.0).round() as u64)))
            .collect();
        let skip = first_year.len().saturating_sub(COHORTS_CHARTED);
        first_year.drain(..skip);
        let all = renewal_rates(&joined, clock.today)
            .into_iter()
            .next()
            .unwrap_or_default();
        Ok(CohortFigures { first_year, all })
    });
}

fn draw_cohorts(frame: &mut Frame, area: Rect, shared: &Shared, cohorts: &Load<CohortFigures>) {
    let [title, chart] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    let Load::Ready(c) = cohorts else {
        let mut lines = vec![Line::styled(
            "First-year renewal by join year",
            shared.theme.header,
        )];
        lines.extend(loading_line(cohorts, "cohorts", shared));
        frame.render_widget(Paragraph::new(lines), area);
        return;
    };
    let later = c
        .all
        .later_rate()
        .map_or_else(|| "-".to_owned(), |r| format!("{:.0}%", r * 100.0));
    frame.render_widget(
        Paragraph::new(Line::styled(
            format!(
                "First-year renewal by join year; later years {later} (rollcall stats --cohorts)"
            ),
            shared.theme.header,
        )),
        title,
    );
    let bars: Vec<Bar> = c
        .first_year
        .iter()
        .map(|(year, rate)| {
            Bar::default()
                .value(*rate)
                .text_value(format!("{rate}%"))
                .label(Line::from(year.clone()))
                .style(shared.theme.ok)
        })
        .collect();
    frame.render_widget(
        BarChart::default()
            .bar_width(4)
            .bar_gap(1)
            .max(100)
            .label_style(shared.theme.dim)
            .data(BarGroup::default().bars(&bars)),
        chart,
    );
}

fn draw_figures(
    frame: &mut Frame,
    area: Rect,
    shared: &Shared,
    team: &Load<TeamFigures>,
    cohorts: &Load<CohortFigures>,
    scroll: u16,
) {
    let [chart, _, area] = Layout::vertical([
        Constraint::Length(COHORT_CHART_ROWS),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);
    draw_cohorts(frame, chart, shared, cohorts);
    let lines: Vec<Line> = match team {
        Load::Ready(t) => stats::team_lines(t).into_iter().map(Line::raw).collect(),
        other => loading_line(other, "team figures", shared)
            .into_iter()
            .collect(),
    };
    let max_scroll = (lines.len() as u16).saturating_sub(area.height);
    frame.render_widget(
        Paragraph::new(lines).scroll((scroll.min(max_scroll), 0)),
        area,
    );
}

/// `2026-11` as `Nov`.
fn month_abbrev(month: &str) -> &'static str {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    month
        .get(5..7)
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| NAMES.get(m.wrapping_sub(1)))
        .copied()
        .unwrap_or("?")
}

/// `2026-11-23` as `23 Nov` (with the year when it is not the as-of date's: `text::short_date`).
fn short_date(iso: &str, today: chrono::NaiveDate) -> String {
    crate::domain::dates::parse_iso(iso)
        .map(|d| crate::text::short_date(d, today))
        .unwrap_or_else(|| iso.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_names() {
        assert_eq!(month_abbrev("2026-01"), "Jan");
        assert_eq!(month_abbrev("2025-12"), "Dec");
        assert_eq!(month_abbrev("junk"), "?");
    }
}
