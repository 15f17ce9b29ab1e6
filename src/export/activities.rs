//! The activity write-back: what staff did in rollcall, as a CSV that CiviCRM's "Import
//! Activities" takes, each activity once.
//!
//! What is exported (only for contacts still in the store: an erased person's records are gone):
//! - every contact attempt (`attempt:<id>`), typed by its channel;
//! - every onboarding step ticked (`step:<contact id>:<step key>`), as a Follow up;
//! - escalation comments and resolutions (`escalation_event:<id>`) of escalations about a
//!   contact, as a Follow up.
//!
//! Once only: without `since`, only activities whose key is not yet in `exported_activities` are
//! written; with `since`, everything from that date is written again on purpose. Either way the
//! written keys are recorded. The order of work never loses an activity: the export holds the
//! write lock from choosing the activities to recording them, writes the file in full beside its
//! destination, renames it into place and only then commits the record. If the commit fails the
//! file is removed again. The one gap left is a crash between the rename and the commit: the file
//! is there but unrecorded, so the next run writes those activities again (a duplicate in the
//! CRM, never a loss).

use std::io::Write;
use std::path::PathBuf;

use crate::storage::sql::{Connection, TransactionBehavior};
use anyhow::Context as _;
use chrono::NaiveDate;
use serde_json::json;

use super::csv_safe::SafeCsvWriter;
use super::pending_file::PendingFile;
use crate::Clock;
use crate::domain::renewal::{Channel, Outcome};
use crate::storage::activities::{self as storage_activities, Selection};
use crate::storage::audit::{self, Change};
use crate::storage::stats::{OnboardingStep, iso};
use crate::storage::{Store, StoreError};

/// The columns, in the names CiviCRM's activity import maps by default.
pub const COLUMNS: [&str; 8] = [
    "Contact ID",
    "Activity Type",
    "Subject",
    "Activity Date",
    "Activity Status",
    "Details",
    "Added By",
    "Activity Key",
];

/// One activity as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub key: String,
    /// The CRM's contact id.
    pub contact_id: String,
    pub activity_type: &'static str,
    pub subject: String,
    /// `YYYY-MM-DD HH:MM:SS`.
    pub date: String,
    pub details: String,
    pub added_by: String,
}

impl Activity {
    fn cells(&self) -> [&str; 8] {
        [
            &self.contact_id,
            self.activity_type,
            &self.subject,
            &self.date,
            "Completed",
            &self.details,
            &self.added_by,
            &self.key,
        ]
    }
}

#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Write everything from this date, exported before or not.
    pub since: Option<NaiveDate>,
    /// Only contacts from this CRM source; required when the store holds more than one.
    pub source: Option<String>,
    /// For the step labels in subjects.
    pub steps: Vec<OnboardingStep>,
}

/// Where the CSV goes.
pub enum Output {
    Stdout,
    File(PathBuf),
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    pub written: usize,
    /// Keys recorded as exported for the first time.
    pub newly_recorded: usize,
}

/// CiviCRM's default activity type for a contact attempt's channel.
pub fn activity_type(channel: &str) -> &'static str {
    match channel {
        "phone" => "Phone Call",
        "email" => "Email",
        "letter" => "Print PDF Letter",
        "sms" => "Outbound SMS",
        "in_person" => "Meeting",
        _ => "Follow up",
    }
}

/// An outcome as the pane shows it for its channel: a letter or an email that went is "sent",
/// not "left message" (`Outcome::label_for`). A spelling rollcall does not know is shown as
/// stored.
fn outcome_words(channel: &str, outcome: &str) -> String {
    match (Channel::parse(channel), Outcome::parse(outcome)) {
        (Some(channel), Some(outcome)) => outcome.label_for(channel).to_owned(),
        _ => outcome.replace('_', " "),
    }
}

/// `2026-11-23T10:15:00` (or a bare date) as CiviCRM's `2026-11-23 10:15:00`.
fn civicrm_datetime(at: &str) -> String {
    let at = at.replace('T', " ");
    match at.len() {
        10 => format!("{at} 00:00:00"),
        n if n >= 19 => at[..19].to_owned(),
        _ => at,
    }
}

/// The store's CRM sources, to refuse a mixed export that would put one CRM's ids in another.
fn check_source(conn: &Connection, source: Option<&str>) -> anyhow::Result<()> {
    let sources = storage_activities::sources(conn)?;
    match source {
        Some(s) if !sources.iter().any(|x| x == s) => anyhow::bail!(
            "--source {s}: no contacts come from that source; the database holds: {}",
            sources.join(", ")
        ),
        None if sources.len() > 1 => anyhow::bail!(
            "the database holds contacts from {} CRM sources ({}); say which CRM this file is \
             for with --source NAME, since each CRM has its own contact ids",
            sources.len(),
            sources.join(", ")
        ),
        _ => Ok(()),
    }
}

/// The activities to write: not yet exported, or (with `since`) everything from that date.
/// Oldest first.
pub fn collect(conn: &Connection, options: &ExportOptions) -> anyhow::Result<Vec<Activity>> {
    check_source(conn, options.source.as_deref())?;
    let selection = Selection {
        since: options.since,
        source: options.source.as_deref(),
    };
    let mut out = Vec::new();
    out.extend(
        storage_activities::attempts(conn, &selection)?
            .into_iter()
            .map(|a| {
                let about = if a.membership_type.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", a.membership_type)
                };
                Activity {
                    subject: format!(
                        "Renewal contact{about}: {}",
                        outcome_words(&a.channel, &a.outcome)
                    ),
                    activity_type: activity_type(&a.channel),
                    date: civicrm_datetime(&a.attempted_at),
                    key: a.key,
                    contact_id: a.crm_id,
                    details: a.note,
                    added_by: a.staff,
                }
            }),
    );
    out.extend(
        storage_activities::steps(conn, &selection)?
            .into_iter()
            .map(|s| {
                let label = options
                    .steps
                    .iter()
                    .find(|step| step.key == s.step_key)
                    .map_or(s.step_key.clone(), |step| step.label.clone());
                Activity {
                    key: s.key,
                    contact_id: s.crm_id,
                    activity_type: "Follow up",
                    subject: format!("Onboarding: {label}"),
                    details: String::new(),
                    date: civicrm_datetime(&s.done_at),
                    added_by: s.done_by,
                }
            }),
    );
    out.extend(
        storage_activities::escalation_events(conn, &selection)?
            .into_iter()
            .map(|e| {
                let (what, details) = match e.kind.as_str() {
                    "resolved" if e.body.is_empty() => ("resolved", e.resolution),
                    "resolved" => ("resolved", e.body),
                    _ => ("comment", e.body),
                };
                Activity {
                    key: e.key,
                    contact_id: e.crm_id,
                    activity_type: "Follow up",
                    subject: format!("Escalation #{} {what}: {}", e.escalation_id, e.title),
                    details,
                    date: civicrm_datetime(&e.at),
                    added_by: e.staff,
                }
            }),
    );
    out.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.key.cmp(&b.key)));
    Ok(out)
}

/// The CSV: header and one row per activity, every cell neutralised.
pub fn to_csv(activities: &[Activity]) -> anyhow::Result<Vec<u8>> {
    let mut csv = SafeCsvWriter::without_bom(Vec::new());
    csv.write_record(COLUMNS)?;
    for a in activities {
        csv.write_record(a.cells())?;
    }
    Ok(csv.into_inner()?)
}

/// Chooses, writes and records the activities (see the module comment for the order).
pub fn export(
    store: &mut Store,
    clock: &Clock,
    options: &ExportOptions,
    output: &Output,
) -> anyhow::Result<ExportSummary> {
    store.ensure_writable("recording which activities were exported")?;
    // The destination is checked (never the database) before anything is chosen or written.
    let file = match output {
        Output::File(path) => Some(PendingFile::create(path, store.location())?),
        Output::Stdout => None,
    };
    let tx = store
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(StoreError::from)?;
    let activities = collect(&tx, options)?;
    let csv = to_csv(&activities)?;
    let newly_recorded = record(&tx, clock, &activities, options)?;
    let placed = match file {
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(&csv)
                .and_then(|()| stdout.flush())
                .context("writing the activities to standard output (nothing was recorded)")?;
            None
        }
        Some(mut file) => {
            file.write_all(&csv)?;
            Some(file.put_in_place()?)
        }
    };
    if let Err(e) = tx.commit() {
        if let Some(path) = placed {
            let _ = std::fs::remove_file(path);
        }
        return Err(anyhow::Error::from(StoreError::from(e)).context(
            "recording the export failed; no activity is marked as exported, so the next run \
             writes them again",
        ));
    }
    Ok(ExportSummary {
        written: activities.len(),
        newly_recorded,
    })
}

/// Records the written keys and one audit line, in the export's transaction.
fn record(
    conn: &Connection,
    clock: &Clock,
    activities: &[Activity],
    options: &ExportOptions,
) -> anyhow::Result<usize> {
    let now = clock.now_rfc3339();
    let newly =
        storage_activities::record_exported(conn, activities.iter().map(|a| a.key.as_str()), &now)?;
    audit::record(
        conn,
        clock,
        Change {
            action: "export_activities",
            entity: "exported_activities",
            entity_id: None,
            contact_id: None,
            before: None,
            after: Some(json!({
                "written": activities.len(),
                "newly_recorded": newly,
                "since": options.since.map(iso),
                "source": options.source,
            })),
        },
    )?;
    Ok(newly)
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_letter_or_email_that_went_is_sent_and_a_call_left_a_message() {
        assert_eq!(outcome_words("letter", "left_message"), "sent");
        assert_eq!(outcome_words("email", "left_message"), "sent");
        assert_eq!(outcome_words("phone", "left_message"), "left message");
        assert_eq!(outcome_words("email", "wrong_number"), "wrong address");
        assert_eq!(
            outcome_words("phone", "do_not_contact"),
            "asked not to be contacted"
        );
    }

    use super::*;

    #[test]
    fn channels_map_to_civicrm_default_types() {
        assert_eq!(activity_type("phone"), "Phone Call");
        assert_eq!(activity_type("email"), "Email");
        assert_eq!(activity_type("letter"), "Print PDF Letter");
        assert_eq!(activity_type("sms"), "Outbound SMS");
        assert_eq!(activity_type("in_person"), "Meeting");
        assert_eq!(activity_type("carrier pigeon"), "Follow up");
    }

    #[test]
    fn datetimes_in_civicrm_form() {
        assert_eq!(
            civicrm_datetime("2026-11-23T10:15:00"),
            "2026-11-23 10:15:00"
        );
        assert_eq!(civicrm_datetime("2026-11-23"), "2026-11-23 00:00:00");
        assert_eq!(
            civicrm_datetime("2026-11-23T10:15:00.123+00:00"),
            "2026-11-23 10:15:00"
        );
    }
}
