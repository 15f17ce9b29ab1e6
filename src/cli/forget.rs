//! `rollcall forget`: erase a person completely (a data protection erasure request).
//!
//! Nothing this command prints to stderr or stdout names the person, except the confirmation
//! question on an interactive terminal, which shows the name so the officer can check they have
//! the right member before anything is erased.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use super::Ctx;
use super::output::{note, print_text};
use crate::storage::erase::{self, ForgetReport, Lookup, Wipe};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The person's contact id in the CRM (the "Contact ID" column of the export)
    #[arg(value_name = "CONTACT_ID")]
    pub contact_id: String,
    /// Which CRM instance the id belongs to, when the database holds several
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// Erase without asking (required when not on a terminal)
    #[arg(long)]
    pub yes: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let crm_id = args.contact_id.trim();
    if crm_id.is_empty() {
        bail!("CONTACT_ID is empty; give the person's contact id in the CRM");
    }
    let mut store = ctx.open_store()?;
    store.ensure_writable("erasing a person (forget)")?;
    let contact_id = match erase::find_contact(&store.conn, crm_id, args.source.as_deref())? {
        Lookup::Found { id, .. } => id,
        Lookup::Erased { erased_at, staff } => bail!(
            "no contact has that CRM id: that person was already erased on {erased_at} by {staff}"
        ),
        Lookup::Ambiguous { sources } => bail!(
            "that CRM id exists in several sources ({}); say which with --source NAME",
            sources.join(", ")
        ),
        Lookup::NotFound => bail!(
            "no contact has that CRM id{}; check the id (it is the CRM's Contact ID, not a \
             membership id)",
            args.source
                .as_deref()
                .map(|s| format!(" in source `{s}`"))
                .unwrap_or_default()
        ),
    };
    if !args.yes && !confirm(&store.conn, contact_id)? {
        note("Nothing was erased.");
        return Ok(ExitCode::from(1));
    }
    let report = erase::forget(&mut store, &ctx.clock, contact_id)?;
    print_text(&report_text(&report))
        .context("the person is erased; only this report could not be shown")?;
    Ok(ExitCode::SUCCESS)
}

/// Asks on the terminal; without one, refuses (a script must say --yes).
fn confirm(conn: &crate::storage::sql::Connection, contact_id: i64) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "refusing to erase without confirmation: not running on a terminal. Pass --yes to \
             erase from a script"
        );
    }
    let (name, memberships) = crate::storage::erase::who(conn, contact_id)?;
    let mut out = std::io::stderr().lock();
    writeln!(
        out,
        "This erases {name} ({memberships} membership(s)) and every record rollcall holds about \
         them. It cannot be undone."
    )?;
    write!(out, "Type `yes` to erase: ")?;
    out.flush()?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("reading the answer")?;
    Ok(answer.trim().eq_ignore_ascii_case("yes"))
}

fn report_text(report: &ForgetReport) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let removed: Vec<String> = report
        .erased
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(table, n)| format!("{table} {n}"))
        .collect();
    let _ = writeln!(
        out,
        "Erased (source `{}`): {}.",
        report.source,
        removed.join(", ")
    );
    if report.audit_lines_redacted > 0 {
        let _ = writeln!(
            out,
            "Their details were replaced by [erased] in {} audit line(s) about other records.",
            report.audit_lines_redacted
        );
    }
    if !report.mentions.is_empty() {
        let list: Vec<String> = report
            .mentions
            .iter()
            .map(|m| format!("{} {}", m.table, m.id))
            .collect();
        let _ = writeln!(
            out,
            "Review: records about other people mention them in free text: {}.",
            list.join(", ")
        );
    }
    out.push_str(&wipe_text(&report.wipe));
    out.push_str(
        "The CRM must erase them too. Until it does, imports skip this contact and say so \
         (`rollcall import --allow-erased` overrides).\n",
    );
    out
}

/// What became of the old copies of erased rows, when it needs saying (empty when nothing does).
pub(super) fn wipe_text(wipe: &Wipe) -> String {
    match wipe {
        Wipe::Done => String::new(),
        Wipe::Busy => "Another rollcall has the database open: old copies of the erased rows \
                       leave the file on disk once it closes.\n"
            .to_owned(),
        Wipe::Failed(why) => format!(
            "Compacting the file failed ({why}): old copies of the erased rows may remain in its \
             free space until the next `rollcall forget` compacts it.\n"
        ),
        Wipe::Deferred(why) => format!(
            "The team database's tables were not compacted now ({why}): old copies of the \
             erased rows stay in its free space, where no query finds them, until its next \
             vacuum.\n"
        ),
    }
}
