//! Import: reading CRM exports (formats, encodings, dates) and syncing them into the store.
//!
//! [`import_file`] is the one entry point, used by `rollcall import`, `rollcall demo` and the
//! app's `:import`.

mod dates;
mod decode;
pub mod generate;
mod hash;
mod in_place;
mod keys;
mod profile;
mod reader;
mod row;
pub mod runs;
mod sync;
mod writer;

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
}

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
    /// Data records read (not the header).
    pub rows_read: u64,
    pub contacts: ContactCounts,
    pub memberships: MembershipCounts,
    pub rejected: u64,
    /// Rows of contacts erased with `rollcall forget`, not imported.
    pub skipped_erased: u64,
    /// Rows repeating a membership already read from this file.
    pub duplicate_rows: u64,
    pub errors: Vec<RejectedRow>,
    /// Why memberships absent from the file were not flagged, when they were not.
    pub missing_check_skipped: Option<String>,
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
