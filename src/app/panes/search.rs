//! The Search pane: find a member by name, email, postcode, phone or id as you type.
//!
//! The query line at the top takes every key while it is focused (`/` focuses it, `Esc` leaves
//! it, `Enter` opens the highlighted member); the result list below works like every other list.
//! Searching runs on the [`SearchService`]'s own threads, so typing never waits: each key submits
//! the query, and results are picked up when the service wakes the event loop and the pane is
//! drawn. The index loads in the background on first show, with its progress on screen.

use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Wrap};
use ratatui_textarea::TextArea;
use serde::{Deserialize, Serialize};

use crate::app::db::DbReply;
use crate::app::pane::{Command, Effect, Pane, PaneId, PaneInput, Shared};
use crate::app::theme::Theme;
use crate::app::widgets::line_edit;
use crate::search::results::thousands;
use crate::search::{IndexState, MemberHit, SearchResults, SearchService};
use crate::storage::Location;

/// The DB worker job that tells the pane which database file is open, so the search service can
/// open its own read-only connection to it.
const DB_PATH_JOB: &str = "search_db_path";

const COMMANDS: &[Command] = &[
    Command {
        action: "focus_query",
        description: "search: type a name, email, postcode, phone or id",
        hint: true,
        changes: false,
    },
    Command {
        action: "open",
        description: "open the highlighted member",
        hint: true,
        changes: false,
    },
    Command {
        action: "escalate",
        description: "open an escalation about the highlighted member",
        hint: true,
        changes: true,
    },
    Command {
        action: "back",
        description: "clear the search",
        hint: false,
        changes: false,
    },
    Command {
        action: "up",
        description: "previous member",
        hint: false,
        changes: false,
    },
    Command {
        action: "down",
        description: "next member",
        hint: false,
        changes: false,
    },
    Command {
        action: "top",
        description: "first member",
        hint: false,
        changes: false,
    },
    Command {
        action: "bottom",
        description: "last member",
        hint: false,
        changes: false,
    },
    Command {
        action: "page_up",
        description: "a page up",
        hint: false,
        changes: false,
    },
    Command {
        action: "page_down",
        description: "a page down",
        hint: false,
        changes: false,
    },
    Command {
        action: "half_page_up",
        description: "half a page up",
        hint: false,
        changes: false,
    },
    Command {
        action: "half_page_down",
        description: "half a page down",
        hint: false,
        changes: false,
    },
];

/// What is kept between runs: the query and the highlighted row.
#[derive(Debug, Serialize, Deserialize)]
struct SavedState {
    query: String,
    selected: usize,
}

pub struct SearchPane {
    service: Option<SearchService>,
    /// The DB worker has been asked for the database path (the service starts on its reply).
    asked_for_db: bool,
    /// Why search cannot run (no database file); no member data in it.
    failure: Option<String>,
    input: TextArea<'static>,
    focused: bool,
    results: Option<SearchResults>,
    selected: usize,
    /// A selection restored from a previous run, applied when its query's results arrive.
    restored_selection: Option<usize>,
    table: TableState,
    /// Result rows visible at the last draw, for paging.
    page: usize,
}

pub fn pane() -> Box<dyn Pane> {
    Box::new(SearchPane::new())
}

impl Default for SearchPane {
    fn default() -> Self {
        SearchPane::new()
    }
}

impl SearchPane {
    pub fn new() -> SearchPane {
        SearchPane {
            service: None,
            asked_for_db: false,
            failure: None,
            input: query_line(""),
            focused: false,
            results: None,
            selected: 0,
            restored_selection: None,
            table: TableState::default(),
            page: 10,
        }
    }

    /// The query as typed.
    pub fn query(&self) -> &str {
        self.input.lines().first().map_or("", String::as_str)
    }

    fn start_service(&mut self, db: Location, shared: &Shared) {
        let service = if shared.access.is_read_only() {
            SearchService::start_reading_only(&db, shared.clock.today, shared.waker.clone())
        } else {
            SearchService::start(&db, shared.clock.today, shared.waker.clone())
        };
        if !self.query().trim().is_empty() {
            service.submit(self.query());
        }
        self.service = Some(service);
    }

    fn query_changed(&mut self) {
        self.selected = 0;
        self.restored_selection = None;
        let query = self.query().to_owned();
        if query.trim().is_empty() {
            self.results = None;
        }
        if let Some(service) = &self.service {
            // An empty query still goes to the service, so that a search for the old text stops.
            service.submit(&query);
        }
    }

    fn clear(&mut self) {
        self.input = query_line("");
        self.query_changed();
    }

    /// Takes the newest results from the service, keeping the highlighted member when the query
    /// is the same (a reload) and starting from the top when it changed.
    fn take_results(&mut self) {
        let Some(new) = self.service.as_ref().and_then(SearchService::poll) else {
            return;
        };
        if self.query().trim().is_empty() {
            return; // cleared since this search started
        }
        let same_query = self.results.as_ref().is_some_and(|r| r.query == new.query);
        let kept = self.highlighted().map(|h| h.contact_id);
        self.selected = if let Some(restored) = self.restored_selection.take() {
            restored
        } else if same_query {
            kept.and_then(|id| new.hits.iter().position(|h| h.contact_id == id))
                .unwrap_or(self.selected)
        } else {
            0
        };
        self.results = Some(new);
        self.clamp_selection();
    }

    fn hits(&self) -> &[MemberHit] {
        self.results.as_ref().map_or(&[], |r| &r.hits)
    }

    fn highlighted(&self) -> Option<&MemberHit> {
        self.hits().get(self.selected)
    }

    fn clamp_selection(&mut self) {
        self.selected = self.selected.min(self.hits().len().saturating_sub(1));
    }

    fn move_by(&mut self, delta: isize) {
        let last = self.hits().len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    fn open(&self) -> Effect {
        self.highlighted()
            .map_or(Effect::None, |h| Effect::OpenMember(h.contact_id))
    }

    fn escalate(&self, shared: &Shared) -> Effect {
        let Some(hit) = self.highlighted() else {
            return Effect::None;
        };
        if let Some(why) = shared.access.read_only_because() {
            return Effect::Status(format!(
                "read-only ({why}): opening an escalation was refused"
            ));
        }
        Effect::Escalate {
            contact_id: hit.contact_id,
            membership_id: hit.membership.as_ref().map(|m| m.id),
        }
    }

    fn action(&mut self, action: &str, shared: &Shared) -> Effect {
        let page = self.page.max(1) as isize;
        match action {
            "focus_query" | "filter" => self.focused = true,
            "open" => return self.open(),
            "escalate" => return self.escalate(shared),
            "back" => self.clear(),
            "up" => self.move_by(-1),
            "down" => self.move_by(1),
            "top" => self.selected = 0,
            "bottom" => self.move_by(isize::MAX),
            "page_up" => self.move_by(-page),
            "page_down" => self.move_by(page),
            "half_page_up" => self.move_by(-(page / 2).max(1)),
            "half_page_down" => self.move_by((page / 2).max(1)),
            _ => {}
        }
        Effect::None
    }

    /// A key while the query line is focused.
    fn key(&mut self, key: KeyEvent) -> Effect {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => self.focused = false,
            KeyCode::Enter => {
                self.focused = false;
                return self.open();
            }
            KeyCode::Char('m' | 'j') if ctrl => {
                self.focused = false;
                return self.open();
            }
            KeyCode::Up => self.move_by(-1),
            KeyCode::Down => self.move_by(1),
            KeyCode::Char('p') if ctrl => self.move_by(-1),
            KeyCode::Char('n') if ctrl => self.move_by(1),
            KeyCode::PageUp => self.move_by(-(self.page.max(1) as isize)),
            KeyCode::PageDown => self.move_by(self.page.max(1) as isize),
            _ => {
                if line_edit::edit(&mut self.input, key) {
                    self.query_changed();
                }
            }
        }
        Effect::None
    }

    /// The right-hand side of the query line: how far loading is, or what the search found.
    fn status(&self, theme: &Theme) -> Span<'static> {
        if let Some(why) = &self.failure {
            return Span::styled(why.clone(), theme.danger);
        }
        let Some(service) = &self.service else {
            return Span::styled("starting search…", theme.dim);
        };
        match service.state() {
            IndexState::Failed(why) => Span::styled(why, theme.danger),
            IndexState::Loading { percent, reloading } => Span::styled(
                format!(
                    "{} index… {percent}%",
                    if reloading { "reloading" } else { "loading" }
                ),
                theme.warning,
            ),
            IndexState::Ready { records, .. } => match &self.results {
                _ if self.query().trim().is_empty() => Span::styled(
                    format!(
                        "{} {}",
                        thousands(records),
                        crate::text::noun(records as u64, "member")
                    ),
                    theme.dim,
                ),
                None => Span::styled("searching…", theme.dim),
                Some(r) => Span::styled(
                    format!(
                        "{}{} {} · {}",
                        if r.counting { "up to " } else { "" },
                        thousands(r.total),
                        if r.total == 1 { "match" } else { "matches" },
                        duration_text(r.elapsed)
                    ),
                    theme.dim,
                ),
            },
        }
    }

    fn draw_query_line(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let status = self.status(theme);
        let status_width = (status.width() as u16 + 1).min(area.width / 2);
        let [prompt, text, right] = Layout::horizontal([
            Constraint::Length(2),
            Constraint::Min(1),
            Constraint::Length(status_width),
        ])
        .areas(area);
        let prompt_style = if self.focused {
            theme.hint_key
        } else {
            theme.dim
        };
        frame.render_widget(Paragraph::new(Span::styled("/ ", prompt_style)), prompt);
        if self.query().is_empty() && !self.focused {
            frame.render_widget(
                Paragraph::new(Span::styled("type / to search", theme.dim)),
                text,
            );
        } else {
            let cursor = if self.focused {
                theme.selected
            } else {
                theme.base
            };
            self.input.set_cursor_style(cursor);
            self.input.set_cursor_line_style(theme.base);
            self.input.set_style(theme.base);
            frame.render_widget(&self.input, text);
        }
        frame.render_widget(Paragraph::new(Line::from(status).right_aligned()), right);
    }

    fn draw_results(&mut self, frame: &mut Frame, area: Rect, theme: &Theme, today: NaiveDate) {
        self.page = area.height.saturating_sub(1) as usize;
        if self.query().trim().is_empty() {
            let help = vec![
                Line::styled("Find a member by any of:", theme.dim),
                Line::styled(
                    "  name or part of one (accents optional: sian finds Siân)",
                    theme.dim,
                ),
                Line::styled("  email · postcode (with or without the space)", theme.dim),
                Line::styled("  phone · contact id · membership id", theme.dim),
            ];
            frame.render_widget(Paragraph::new(help).wrap(Wrap { trim: false }), area);
            return;
        }
        if self.results.as_ref().is_some_and(|r| r.hits.is_empty()) {
            frame.render_widget(
                Paragraph::new(Line::styled("No member matches.", theme.dim)),
                area,
            );
            return;
        }
        // Below 90 columns the local party moves to the detail line, so that names stay readable.
        let wide = area.width >= 90;
        let hits = self.results.as_ref().map_or(&[][..], |r| &r.hits);
        let flags_width = hits
            .iter()
            .map(|h| h.flags.badges().join(" ").chars().count())
            .max()
            .unwrap_or(0)
            .max("Flags".len()) as u16;
        let mut header = vec![
            "Name",
            "CRM",
            "rollcall",
            "Type",
            "Local party",
            "Ends",
            "Flags",
        ];
        let mut widths = vec![
            Constraint::Fill(3),
            Constraint::Length(9),
            Constraint::Length(10),
            Constraint::Length(13),
            Constraint::Fill(2),
            Constraint::Length(10),
            Constraint::Length(flags_width.min(area.width / 4)),
        ];
        if !wide {
            header.remove(4);
            widths.remove(4);
        }
        let rows: Vec<Row> = hits
            .iter()
            .map(|hit| {
                let mut cells = result_cells(hit, theme, today);
                if !wide {
                    cells.remove(4);
                }
                Row::new(cells)
            })
            .collect();
        let header = Row::new(header).style(theme.header);
        let table = Table::new(rows, widths)
            .header(header)
            .column_spacing(1)
            .row_highlight_style(theme.selected)
            .highlight_symbol("▶ ");
        self.table.select(Some(self.selected));
        frame.render_stateful_widget(table, area, &mut self.table);
    }

    fn draw_detail(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let Some(hit) = self.highlighted() else {
            return;
        };
        let mut parts = vec![format!("contact {}", hit.contact_crm_id)];
        if let Some(m) = &hit.membership {
            parts.push(format!("membership {}", m.crm_id));
        }
        if hit.memberships > 1 {
            parts.push(crate::text::plural(hit.memberships as u64, "membership"));
        }
        parts.extend(
            [&hit.email, &hit.postcode, &hit.local_party]
                .into_iter()
                .filter(|s| !s.is_empty())
                .cloned(),
        );
        frame.render_widget(
            Paragraph::new(Line::styled(parts.join(" · "), theme.dim)),
            area,
        );
    }
}

fn query_line(text: &str) -> TextArea<'static> {
    let mut area = TextArea::new(vec![text.to_owned()]);
    area.move_cursor(ratatui_textarea::CursorMove::End);
    area
}

fn duration_text(d: std::time::Duration) -> String {
    match d.as_millis() {
        0 => "<1 ms".into(),
        ms => format!("{ms} ms"),
    }
}

/// One result row's cells: name, the CRM's status and rollcall's (marked `!` when they differ),
/// type, local party, end date, badges.
fn result_cells<'a>(hit: &'a MemberHit, theme: &Theme, today: NaiveDate) -> Vec<Cell<'a>> {
    let deceased = hit.flags.deceased;
    let (crm, ours, kind, ends) = match &hit.membership {
        Some(m) => {
            let ours = m.status(deceased, today).label();
            let (text, style) = if m.disagrees(deceased, today) {
                (format!("!{ours}"), theme.warning)
            } else {
                (ours.to_owned(), theme.base)
            };
            let kind = if hit.memberships > 1 {
                format!("{} +{}", m.membership_type, hit.memberships - 1)
            } else {
                m.membership_type.clone()
            };
            let ends = match m.dates.end {
                Some(d) => d.to_string(),
                None if m.dates.dates_unknown => "dates unknown".into(),
                None => "lifetime".into(),
            };
            (
                Cell::from(m.crm_status.as_str()),
                Cell::from(text).style(style),
                kind,
                ends,
            )
        }
        None => (
            Cell::from("—"),
            Cell::from("none").style(theme.dim),
            "—".into(),
            "—".into(),
        ),
    };
    let badges = hit.flags.badges().join(" ");
    let badge_style: Style = if deceased { theme.danger } else { theme.badge };
    vec![
        Cell::from(hit.name.as_str()),
        crm,
        ours,
        Cell::from(kind),
        Cell::from(hit.local_party.as_str()),
        Cell::from(ends),
        Cell::from(badges).style(badge_style),
    ]
}

impl Pane for SearchPane {
    fn id(&self) -> PaneId {
        PaneId::Search
    }

    fn commands(&self) -> &'static [Command] {
        COMMANDS
    }

    fn refresh(&mut self, shared: &Shared) {
        match &self.service {
            // Cheap when nothing changed; rebuilds the index after an import or an erasure.
            Some(service) => service.reload_if_changed(),
            None if !self.asked_for_db => {
                self.asked_for_db = true;
                shared.db.request(PaneId::Search, DB_PATH_JOB, |store, _| {
                    Ok(store.location().clone())
                });
            }
            None => {}
        }
    }

    fn handle(&mut self, input: PaneInput, shared: &Shared) -> Effect {
        match input {
            PaneInput::Key(key) if self.focused => self.key(key),
            PaneInput::Key(key) => match key.code {
                // A letter the keymap did not claim starts a search, as in a browser's find.
                KeyCode::Char(_) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    self.focused = true;
                    self.key(key)
                }
                _ => Effect::None,
            },
            PaneInput::Action(action) => self.action(action, shared),
        }
    }

    fn on_reply(&mut self, reply: DbReply, shared: &Shared) -> Effect {
        if reply.key != DB_PATH_JOB {
            return Effect::None;
        }
        match reply.take::<Location>() {
            Ok(db) if db.file().is_some_and(|p| p.as_os_str() == ":memory:") => {
                self.failure = Some("search needs a database file".into());
            }
            Ok(path) => self.start_service(path, shared),
            Err(why) => self.failure = Some(format!("search cannot start: {why}")),
        }
        Effect::None
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, shared: &Shared) {
        self.take_results();
        let theme = shared.theme;
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border)
            .title(Span::styled(" Search ", theme.title));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [query, results, detail] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(1),
        ])
        .areas(inner);
        self.draw_query_line(frame, query, theme);
        self.draw_results(frame, results, theme, shared.clock.today);
        self.draw_detail(frame, detail, theme);
    }

    fn wants_raw_keys(&self) -> bool {
        self.focused
    }

    fn save_state(&self) -> Option<String> {
        serde_json::to_string(&SavedState {
            query: self.query().to_owned(),
            selected: self.selected,
        })
        .ok()
    }

    fn restore_state(&mut self, state: &str) {
        let Ok(saved) = serde_json::from_str::<SavedState>(state) else {
            return; // an older or damaged saved state: start fresh
        };
        self.input = query_line(&saved.query);
        self.query_changed();
        self.restored_selection = Some(saved.selected);
    }
}
