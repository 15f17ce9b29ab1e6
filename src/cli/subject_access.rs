//! `rollcall subject-access CONTACT_ID -o FILE`: everything rollcall holds on one person, for a
//! subject access request (UK GDPR article 15; one month to answer).
//!
//! Writes FILE as Markdown and the same records as JSON beside it: FILE with its `.md`
//! extension replaced by `.json`, or with `.json` added when FILE does not end in `.md`
//! (`sar-4417.md` → `sar-4417.json`, `sar-4417` → `sar-4417.json`). Both are owner-only and
//! appear only once complete. The request is audited and, when a data-protection escalation
//! about the person is open, commented on it. Nothing printed names the person.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use super::Ctx;
use super::output::say;
use crate::export::pending_file::PendingFile;
use crate::export::subject_access::{self, Header};
use crate::storage::erase::{self, Lookup};
use crate::storage::subject_access::{gather, record_request};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The person's contact id in the CRM (the "Contact ID" column of the export)
    #[arg(value_name = "CONTACT_ID")]
    pub contact_id: String,
    /// Which CRM instance the id belongs to, when the database holds several
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// The Markdown document to write; the JSON copy goes beside it (FILE.md → FILE.json)
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let crm_id = args.contact_id.trim();
    if crm_id.is_empty() {
        bail!("CONTACT_ID is empty; give the person's contact id in the CRM");
    }
    let json_path = json_path(&args.output)?;
    let mut store = ctx.open_store()?;
    store.ensure_writable("recording a subject access request")?;
    let contact_id = find(&store.conn, crm_id, args.source.as_deref())?;
    let record = gather(&mut store, contact_id)?
        .context("the contact was erased while its records were being read; nothing was written")?;
    let written_at = ctx.clock.now_rfc3339();
    let header = Header {
        written_at: &written_at,
        written_by: &ctx.clock.user,
    };
    let mut document = PendingFile::create(&args.output, &ctx.db)?;
    document.write_all(subject_access::markdown(&record, &header).as_bytes())?;
    let mut json = PendingFile::create(&json_path, &ctx.db)?;
    json.write_all(subject_access::json(&record, &header).as_bytes())?;
    let recorded = record_request(&mut store, &ctx.clock, contact_id)?;
    document.put_in_place()?;
    json.put_in_place()?;
    say!(
        "Wrote {} (to read and send) and {} (the same as JSON), both owner-only.",
        args.output.display(),
        json_path.display()
    )?;
    match recorded.escalation_id {
        Some(id) => say!(
            "Recorded in the audit trail (line {}) and on escalation #{id}.",
            recorded.audit_id
        )?,
        None => say!(
            "Recorded in the audit trail (line {}). No data-protection escalation is open for \
             them: if the request came in by post or email, log it with `rollcall escalate`.",
            recorded.audit_id
        )?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Where the JSON copy of `document` goes.
fn json_path(document: &Path) -> anyhow::Result<PathBuf> {
    let name = document
        .file_name()
        .with_context(|| format!("-o {}: not a file name", document.display()))?;
    let is_md = document
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("md"));
    let json = if is_md {
        document.with_extension("json")
    } else {
        let mut name = name.to_owned();
        name.push(".json");
        document.with_file_name(name)
    };
    Ok(json)
}

/// The rollcall id of the contact with CRM id `crm_id`, or an error saying why there is none.
pub(super) fn find(
    conn: &crate::storage::sql::Connection,
    crm_id: &str,
    source: Option<&str>,
) -> anyhow::Result<i64> {
    match erase::find_contact(conn, crm_id, source)? {
        Lookup::Found { id, .. } => Ok(id),
        Lookup::Erased { erased_at, staff } => bail!(
            "no contact has that CRM id: that person was erased on {erased_at} by {staff}, and \
             rollcall holds nothing about them but the fact of the erasure; nothing was written"
        ),
        Lookup::Ambiguous { sources } => bail!(
            "that CRM id exists in several sources ({}); say which with --source NAME",
            sources.join(", ")
        ),
        Lookup::NotFound => bail!(
            "no contact has that CRM id{}; check the id (it is the CRM's Contact ID, not a \
             membership id). Nothing was written",
            source
                .map(|s| format!(" in source `{s}`"))
                .unwrap_or_default()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_copy_sits_beside_the_document() {
        let json = |p: &str| json_path(Path::new(p)).unwrap();
        assert_eq!(json("out/sar-4417.md"), PathBuf::from("out/sar-4417.json"));
        assert_eq!(json("sar.MD"), PathBuf::from("sar.json"));
        assert_eq!(json("sar-4417"), PathBuf::from("sar-4417.json"));
        assert_eq!(json("sar.txt"), PathBuf::from("sar.txt.json"));
    }
}
