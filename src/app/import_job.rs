//! `:import PATH` inside the app: the real import on a thread with its own connection, a gauge
//! fed by its progress callback, `Esc` to cancel, and its report at the end.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::thread;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Gauge, Paragraph, Wrap};

use super::event::{AppEvent, ImportEvent};
use super::theme::Theme;
use super::widgets::centered;
use crate::cli::Ctx;
use crate::import::{DateOrder, ImportOptions, ImportReport, Progress, import_file};

/// Runs one import: the file, the options, a progress callback, the cancel flag. The app's is
/// [`store_runner`]; tests give their own to drive the gauge.
pub type ImportRunner = Arc<
    dyn Fn(
            &Path,
            &ImportOptions,
            &mut dyn FnMut(Progress),
            &AtomicBool,
        ) -> anyhow::Result<ImportReport>
        + Send
        + Sync,
>;

/// The real import, on a connection of its own to the app's database.
pub fn store_runner(ctx: Ctx) -> ImportRunner {
    Arc::new(move |path, options, progress, cancel| {
        let mut store = ctx.open_store()?;
        import_file(&mut store, &ctx.clock, path, options, progress, cancel)
    })
}

pub enum ImportState {
    Running,
    /// Esc was pressed; waiting for the import to roll back.
    Cancelling,
    Done(Box<Result<ImportReport, String>>),
}

pub struct ImportView {
    pub file: String,
    pub cancel: Arc<AtomicBool>,
    pub progress: Option<Progress>,
    pub state: ImportState,
}

impl ImportView {
    /// Starts `runner` on `path` on a thread; its progress and result arrive as
    /// [`AppEvent::Import`].
    pub fn start(
        runner: ImportRunner,
        path: PathBuf,
        options: ImportOptions,
        events: Sender<AppEvent>,
    ) -> ImportView {
        let cancel = Arc::new(AtomicBool::new(false));
        let file = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let flag = Arc::clone(&cancel);
        let spawned = thread::Builder::new()
            .name("rollcall-import".into())
            .spawn(move || {
                let progress_tx = events.clone();
                let mut progress = move |p: Progress| {
                    let _ = progress_tx.send(AppEvent::Import(ImportEvent::Progress(p)));
                };
                let result = runner(&path, &options, &mut progress, &flag)
                    .map_err(|e| crate::text::error_text(&e));
                let _ = events.send(AppEvent::Import(ImportEvent::Finished(Box::new(result))));
            });
        let state = match spawned {
            Ok(_) => ImportState::Running,
            Err(e) => ImportState::Done(Box::new(Err(format!("could not start the import: {e}")))),
        };
        ImportView {
            file,
            cancel,
            progress: None,
            state,
        }
    }

    pub fn is_running(&self) -> bool {
        !matches!(self.state, ImportState::Done(_))
    }

    /// Esc while running: ask the import to stop (it rolls back and reports that).
    pub fn request_cancel(&mut self) {
        if matches!(self.state, ImportState::Running) {
            self.cancel.store(true, Ordering::Relaxed);
            self.state = ImportState::Cancelling;
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        match &self.state {
            ImportState::Running | ImportState::Cancelling => self.draw_gauge(frame, area, theme),
            ImportState::Done(result) => self.draw_summary(frame, area, result, theme),
        }
    }

    fn draw_gauge(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let rect = centered(area, 64, 5);
        frame.render_widget(Clear, rect);
        let cancelling = matches!(self.state, ImportState::Cancelling);
        let title = format!(" Importing {} ", self.file);
        let footer = if cancelling {
            " cancelling: rolling back… "
        } else {
            " Esc cancels (nothing is changed) "
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border)
            .title(Line::styled(title, theme.title))
            .title_bottom(Line::styled(footer, theme.hint_text));
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        let [text_area, _, gauge_area] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(inner);
        let (ratio, text) = match self.progress {
            Some(p) if p.bytes_total > 0 => {
                let ratio = (p.bytes_done as f64 / p.bytes_total as f64).clamp(0.0, 1.0);
                (
                    ratio,
                    format!(
                        "{} {} read",
                        thousands(p.rows),
                        crate::text::noun(p.rows, "row")
                    ),
                )
            }
            Some(p) => (
                0.0,
                format!(
                    "{} {} read",
                    thousands(p.rows),
                    crate::text::noun(p.rows, "row")
                ),
            ),
            None => (0.0, "starting…".to_owned()),
        };
        frame.render_widget(Paragraph::new(text).style(theme.base), text_area);
        frame.render_widget(
            Gauge::default()
                .gauge_style(theme.selected)
                .ratio(ratio)
                .label(format!("{:.0}%", ratio * 100.0)),
            gauge_area,
        );
    }

    fn draw_summary(
        &self,
        frame: &mut Frame,
        area: Rect,
        result: &Result<ImportReport, String>,
        theme: &Theme,
    ) {
        let (title, style, lines) = match result {
            Ok(report) => (
                format!(" Imported {} ", self.file),
                theme.ok,
                summary_lines(report),
            ),
            Err(why) => (
                format!(" Import failed: {} ", self.file),
                theme.danger,
                crate::text::wrap_words(why, 68)
                    .into_iter()
                    .map(Line::from)
                    .collect(),
            ),
        };
        let height = (lines.len() as u16 + 2).min(area.height.saturating_sub(2));
        let rect = centered(area, 72, height);
        frame.render_widget(Clear, rect);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(style)
            .title(Line::styled(title, style))
            .title_bottom(Line::styled(" Enter or Esc closes ", theme.hint_text));
        frame.render_widget(
            Paragraph::new(lines)
                .style(theme.base)
                .wrap(Wrap { trim: false })
                .block(block),
            rect,
        );
    }
}

/// The report as the summary popup shows it.
pub fn summary_lines(r: &ImportReport) -> Vec<Line<'static>> {
    let c = &r.contacts;
    let m = &r.memberships;
    let mut lines = vec![Line::from(format!(
        "{} profile · {} · dates {} · {:.1} s",
        r.profile,
        r.encoding,
        match r.date_order {
            DateOrder::Iso => "ISO",
            DateOrder::Dmy => "day first",
            DateOrder::Mdy => "month first",
        },
        r.elapsed_ms as f64 / 1000.0
    ))];
    // The same words as the CLI report's "title" and "not read" lines.
    if let Some(line) = r.title_line() {
        lines.push(Line::from(format!("title: {line}")));
    }
    lines.extend([
        Line::from(format!(
            "rows read {} · rejected {} · skipped (erased) {}",
            thousands(r.rows_read),
            thousands(r.rejected),
            thousands(r.skipped_erased)
        )),
        Line::from(format!(
            "contacts: {} new, {} updated, {} unchanged",
            thousands(c.inserted),
            thousands(c.updated),
            thousands(c.unchanged)
        )),
        Line::from(format!(
            "memberships: {} new, {} updated, {} unchanged",
            thousands(m.inserted),
            thousands(m.updated),
            thousands(m.unchanged)
        )),
        Line::from(format!(
            "renewed {} · missing from the export {} · back in the export {}",
            thousands(m.renewed),
            thousands(m.missing_from_export),
            thousands(m.back_in_export)
        )),
    ]);
    if let Some(line) = r.not_imported_line() {
        lines.push(Line::from(format!("not read: {line}")));
    }
    if r.kept_resave_damaged > 0 {
        lines.push(Line::from(format!(
            "kept {} name(s) that a re-save had damaged (`?` for letters Windows-1252 lacks)",
            thousands(r.kept_resave_damaged)
        )));
    }
    if !r.errors.is_empty() {
        lines.push(Line::from(
            "rejected rows (see `rollcall imports` for all):",
        ));
        for e in r.errors.iter().take(5) {
            lines.push(Line::from(format!("  line {}: {}", e.line, e.reason)));
        }
    }
    lines
}

/// 550000 → "550,000".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(550000), "550,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
