//! Import: reading CRM exports (formats, encodings, dates) and syncing them into the store.
//!
//! [`import_file`] is the one entry point, used by `rollcall import`, `rollcall demo` and the
//! app's `:import`.

mod dates;
mod decode;
pub mod generate;
mod hash;
mod keys;
mod profile;
mod reader;
pub(crate) mod row;
mod sheet;
mod sync;
pub(crate) mod writer;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use serde::Serialize;

use crate::Clock;
use crate::storage::Store;

pub use profile::BUILT_IN as BUILT_IN_PROFILES;
/// Public for the mapping-file fuzz target (fuzz/), which parses mapping files on their own.
pub use profile::Profile;
pub use sync::{CANCELLED, StrictRejected, erased_key_hash};

/// How dates in a file are ordered, decided once per file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DateOrder {
    /// Only ISO dates (YYYY-MM-DD, datetimes, RFC 3339) were found.
    #[default]
    Iso,
    /// Day first: 15/06/2026 (UK).
    Dmy,
    /// Month first: 06/15/2026 (US tools).
    Mdy,
}

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// `auto`, a built-in profile name (`civicrm`, `nationbuilder`, `actionnetwork`) or a path to
    /// a TOML mapping file.
    pub profile: String,
    /// Which CRM instance the file comes from; default from the profile.
    pub source: Option<String>,
    /// Overrides the per-file decision between day-first and month-first.
    pub date_order: Option<DateOrder>,
    /// Do everything but commit.
    pub dry_run: bool,
    /// Any rejected row: nothing is written.
    pub strict: bool,
    /// Import contacts that were erased with `rollcall forget` (normally skipped).
    pub allow_erased: bool,
    /// The file is a partial export: memberships absent from it are not flagged as missing.
    pub partial: bool,
    /// Import the file even though it looks older than what the database holds
    /// ([`OlderExport`]).
    pub older_export: bool,
    /// Which sheet of a spreadsheet to read; the first when None.
    pub sheet: Option<String>,
}

impl Default for ImportOptions {
    fn default() -> ImportOptions {
        ImportOptions {
            profile: "auto".into(),
            source: None,
            date_order: None,
            dry_run: false,
            strict: false,
            allow_erased: false,
            partial: false,
            older_export: false,
            sheet: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ContactCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MembershipCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Updated memberships whose end date moved forward.
    pub renewed: u64,
    /// Flagged by this import: in the database, absent from this (full) export.
    pub missing_from_export: u64,
    /// Flagged by an earlier import and still absent.
    pub still_missing: u64,
    /// Flagged earlier, back in this export (unflagged).
    pub back_in_export: u64,
    /// Updated memberships whose end date moved backwards (a sign of an older export).
    pub end_date_moved_back: u64,
}

/// The memberships the source's most recent earlier import added (after its first import), and
/// how many of them this export lacks (not counting those already flagged missing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LatestJoiners {
    /// The as-of date of the import that added them.
    pub import_as_of: String,
    pub added: u64,
    pub absent: u64,
}

/// Refused: the export looks older than what the database already holds. Nothing was written.
///
/// The rule (docs/import.md, "An older export"): an export is older when
/// - more end dates move back than forward, and at least [`OlderExport::MIN_MOVED_BACK`] do (a
///   newer export moves end dates forward as members renew; a CRM correction moves one or two
///   back), or
/// - more than half of the memberships the source's most recent earlier import added are absent
///   from it (a newer export still holds nearly all of last time's joiners; an older one was
///   made before they joined).
///
/// Imported anyway when the officer says so (`--older-export`, `:import --older-export PATH`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OlderExport {
    pub file: String,
    pub end_dates_back: u64,
    pub end_dates_forward: u64,
    /// Would be flagged as missing in all.
    pub missing: u64,
    pub joiners: Option<LatestJoiners>,
}

impl OlderExport {
    pub const MIN_MOVED_BACK: u64 = 5;

    /// Whether what the import found makes the file look older than the database.
    pub fn detect(report: &ImportReport) -> Option<OlderExport> {
        let m = &report.memberships;
        let dates_back =
            m.end_date_moved_back >= Self::MIN_MOVED_BACK && m.end_date_moved_back > m.renewed;
        let joiners_gone = report
            .latest_joiners
            .as_ref()
            .is_some_and(|j| j.added > 0 && j.absent * 2 > j.added);
        (dates_back || joiners_gone).then(|| OlderExport {
            file: report.file.clone(),
            end_dates_back: m.end_date_moved_back,
            end_dates_forward: m.renewed,
            missing: m.missing_from_export,
            joiners: report.latest_joiners.clone(),
        })
    }
}

impl std::fmt::Display for OlderExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: this export looks older than what the database already holds: it would move {} \
             end date(s) back (and {} forward) and flag {} membership(s) as missing",
            self.file, self.end_dates_back, self.end_dates_forward, self.missing
        )?;
        if let Some(j) = self.joiners.as_ref().filter(|j| j.absent > 0) {
            write!(
                f,
                ", {} of them among the {} first seen in the import of {}",
                j.absent, j.added, j.import_as_of
            )?;
        }
        f.write_str(
            "; nothing was changed. If it really is the export to import, import it again with \
             --older-export",
        )
    }
}

impl std::error::Error for OlderExport {}

/// A row that could not be imported: where it is and what was wrong (never the row's data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedRow {
    /// The line of the file where the record starts (1-based).
    pub line: u64,
    pub reason: String,
}

/// What one import did. Serialises to the `--json` object.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportReport {
    pub file: String,
    pub profile: String,
    /// Whether `--profile auto` chose the profile from the headers.
    pub profile_detected: bool,
    pub source: String,
    pub encoding: String,
    /// `,`, `;` or `tab`.
    pub delimiter: String,
    pub date_order: DateOrder,
    /// Lines above the header skipped as a title.
    pub title_lines_skipped: u64,
    /// Data records read (not the header).
    pub rows_read: u64,
    pub contacts: ContactCounts,
    pub memberships: MembershipCounts,
    pub rejected: u64,
    /// Rows of contacts erased with `rollcall forget`, not imported.
    pub skipped_erased: u64,
    /// Rows repeating a membership already read from this file.
    pub duplicate_rows: u64,
    /// Contacts whose stored value was kept because the file's differed only by `?` where the
    /// store has a letter Windows-1252 lacks (a lossy re-save: `Łukasz` → `?ukasz`).
    pub kept_resave_damaged: u64,
    pub errors: Vec<RejectedRow>,
    /// The file's columns that no field reads, by name, when the header line is clean (see
    /// `profile::NotImported`); empty otherwise.
    pub columns_not_imported: Vec<String>,
    /// How many columns no field reads (named in `columns_not_imported` or not).
    pub columns_not_imported_count: u64,
    /// Why memberships absent from the file were not flagged, when they were not.
    pub missing_check_skipped: Option<String>,
    /// The last import's joiners and how many this file lacks; None when the source has had no
    /// import after its first, or absent memberships were not checked.
    pub latest_joiners: Option<LatestJoiners>,
    pub dry_run: bool,
    /// Whether the changes were written (false for a dry run).
    pub committed: bool,
    pub elapsed_ms: u64,
    /// The `import_runs` row; None for a dry run.
    pub import_id: Option<i64>,
}

/// Progress through a file, reported every few thousand rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub rows: u64,
}

impl ImportReport {
    /// The columns no field read, by name when the report has them (counted, not quoted, when
    /// the header line could hold a member's details): the CLI report's and the app summary's
    /// "not read" line.
    pub fn not_imported_line(&self) -> Option<String> {
        let n = self.columns_not_imported_count;
        if n == 0 {
            return None;
        }
        let names = &self.columns_not_imported;
        Some(if names.is_empty() {
            format!(
                "{n} column(s) not imported (not named: the header line may hold a member's \
                 details)"
            )
        } else {
            let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
            format!("{n} column(s) not imported: {}", quoted.join(", "))
        })
    }

    /// The CLI report's and the app summary's "title" line, when title lines were skipped.
    pub fn title_line(&self) -> Option<String> {
        (self.title_lines_skipped > 0).then(|| {
            format!(
                "{} line(s) above the header skipped",
                self.title_lines_skipped
            )
        })
    }

    /// Whether the import found nothing to change.
    pub fn changed_nothing(&self) -> bool {
        let c = &self.contacts;
        let m = &self.memberships;
        c.inserted == 0
            && c.updated == 0
            && m.inserted == 0
            && m.updated == 0
            && m.missing_from_export == 0
            && m.back_in_export == 0
    }
}

/// Imports one export file in a single transaction. When `cancel` becomes true the import stops,
/// rolls back and returns an error saying nothing was changed ([`CANCELLED`]). Under
/// `options.strict`, any rejected row makes it roll back and return a [`StrictRejected`] error.
/// A file that looks older than what the database holds is rolled back and refused with an
/// [`OlderExport`] error, unless `options.older_export`.
pub fn import_file(
    store: &mut Store,
    clock: &Clock,
    path: &Path,
    options: &ImportOptions,
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> anyhow::Result<ImportReport> {
    sync::import(store, clock, path, options, progress, cancel)
}
