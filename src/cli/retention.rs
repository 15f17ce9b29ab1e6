//! `rollcall retention`: the retention rule of config.toml (`[retention] erase_after_years`).
//!
//! With no option it lists who the rule would erase and who it keeps although they are past it,
//! by CRM id and last end date only. `--apply` erases them after a confirmation, through the
//! same erasure as `rollcall forget`. `--keep`/`--unkeep` mark and remove a coordinator's
//! exception (audited), `--keeps` lists the exceptions.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use super::Ctx;
use super::output::{note, print, print_text, say};
use crate::config::Config;
use crate::storage::erase::{self, Lookup};
use crate::storage::retention::{self, Expired};
use crate::text::printable;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Erase the people the rule lists, after a confirmation
    #[arg(long, conflicts_with_all = ["keep", "unkeep", "keeps"])]
    pub apply: bool,
    /// With --apply: erase without asking (required when not on a terminal)
    #[arg(long, requires = "apply")]
    pub yes: bool,
    /// Mark a person (their CRM contact id) to keep past the rule; needs --reason
    #[arg(long, value_name = "CONTACT_ID", requires = "reason", conflicts_with_all = ["unkeep", "keeps"])]
    pub keep: Option<String>,
    /// Why they are kept: recorded, audited and listed
    #[arg(long, value_name = "TEXT", requires = "keep")]
    pub reason: Option<String>,
    /// Remove a person's exception (their CRM contact id)
    #[arg(long, value_name = "CONTACT_ID", conflicts_with = "keeps")]
    pub unkeep: Option<String>,
    /// List the exceptions coordinators have marked
    #[arg(long)]
    pub keeps: bool,
    /// Which CRM instance the id belongs to, when the database holds several
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// The list as JSON
    #[arg(long, conflicts_with_all = ["apply", "keep", "unkeep"])]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    if let Some(crm_id) = &args.keep {
        return keep(ctx, crm_id, args.source.as_deref(), args.reason.as_deref());
    }
    if let Some(crm_id) = &args.unkeep {
        return unkeep(ctx, crm_id, args.source.as_deref());
    }
    if args.keeps {
        return list_keeps(ctx, args.json);
    }
    let years = Config::load_default()?.retention.erase_after_years.context(
        "no retention rule is set: add `[retention]` with `erase_after_years = N` to config.toml \
         (people whose last membership ended more than N years ago are erased)",
    )?;
    if args.apply {
        apply(ctx, years, args.yes)
    } else {
        list(ctx, years, args.json)
    }
}

fn list(ctx: &Ctx, years: u32, json: bool) -> anyhow::Result<ExitCode> {
    let store = ctx.open_store_for_reading()?;
    let expired = retention::expired(&store.conn, retention::cutoff(ctx.clock.today, years))?;
    if json {
        print(format!("{}\n", serde_json::to_string_pretty(&expired)?))?;
        return Ok(ExitCode::SUCCESS);
    }
    print_list(ctx, years, &expired)?;
    if expired.iter().any(Expired::erasable) {
        say!("`rollcall retention --apply` erases them, after asking.")?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_list(ctx: &Ctx, years: u32, expired: &[Expired]) -> anyhow::Result<()> {
    let cutoff = retention::cutoff(ctx.clock.today, years);
    say!(
        "Retention rule (config.toml): erase people whose last membership ended more than \
         {years} year(s) ago, before {cutoff}; never lifetime or current members."
    )?;
    let (erase, kept): (Vec<&Expired>, Vec<&Expired>) = expired.iter().partition(|e| e.erasable());
    if erase.is_empty() {
        say!("Nobody is past the rule: nothing to erase.")?;
    } else {
        say!("Would erase {}:", erase.len())?;
        say!("  {:<12} {:<14} LAST MEMBERSHIP ENDED", "CRM ID", "SOURCE")?;
        for e in &erase {
            say!(
                "  {:<12} {:<14} {}",
                printable(&e.crm_id),
                printable(&e.source),
                e.last_end
            )?;
        }
    }
    if !kept.is_empty() {
        say!("Kept although past the rule, {}:", kept.len())?;
        say!(
            "  {:<12} {:<14} {:<10} WHY",
            "CRM ID",
            "SOURCE",
            "LAST ENDED"
        )?;
        for e in &kept {
            say!(
                "  {:<12} {:<14} {:<10} {}",
                printable(&e.crm_id),
                printable(&e.source),
                e.last_end,
                kept_because(e)
            )?;
        }
    }
    Ok(())
}

fn kept_because(e: &Expired) -> String {
    let mut why = Vec::new();
    if e.open_escalation {
        why.push("an escalation about them is open".to_owned());
    }
    if let Some(k) = &e.keep {
        why.push(format!(
            "marked to keep by {} on {}: {}",
            printable(&k.staff),
            k.kept_at.get(..10).unwrap_or(&k.kept_at),
            printable(&k.reason)
        ));
    }
    why.join("; ")
}

fn apply(ctx: &Ctx, years: u32, yes: bool) -> anyhow::Result<ExitCode> {
    let mut store = ctx.open_store()?;
    store.ensure_writable("erasing people past the retention rule")?;
    let expired = retention::expired(&store.conn, retention::cutoff(ctx.clock.today, years))?;
    print_list(ctx, years, &expired)?;
    let shown: Vec<i64> = expired
        .iter()
        .filter(|e| e.erasable())
        .map(|e| e.contact_id)
        .collect();
    if shown.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    if !yes && !confirm(shown.len())? {
        note("Nothing was erased.");
        return Ok(ExitCode::from(1));
    }
    let reports = retention::apply(&mut store, &ctx.clock, years, &shown)?;
    say!(
        "Erased {} people under the retention rule, each as `rollcall forget` erases.",
        reports.len()
    )?;
    let left = shown.len() - reports.len();
    if left > 0 {
        say!(
            "Left alone: {left} renewed, escalated about or marked to keep since the list was read."
        )?;
    }
    let mentions: Vec<String> = reports
        .iter()
        .flat_map(|r| &r.mentions)
        .map(|m| format!("{} {}", m.table, m.id))
        .collect();
    if !mentions.is_empty() {
        say!(
            "Review: records about other people mention them in free text: {}.",
            mentions.join(", ")
        )?;
    }
    if let Some(report) = reports.first() {
        print_text(&super::forget::wipe_text(&report.wipe))?;
        say!(
            "The CRM must erase them too. Until it does, imports skip these contacts and say so."
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Asks on the terminal; without one, refuses (a script must say --yes).
fn confirm(n: usize) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "refusing to erase without confirmation: not running on a terminal. Pass --yes to \
             erase from a script"
        );
    }
    super::output::ask_yes_no(&format!(
        "Erase these {n} people and everything rollcall holds about them? This cannot be undone."
    ))
}

fn keep(
    ctx: &Ctx,
    crm_id: &str,
    source: Option<&str>,
    reason: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let reason = reason.map(str::trim).unwrap_or_default();
    if reason.is_empty() {
        bail!("--reason is empty; say why this person is kept past the retention rule");
    }
    let mut store = ctx.open_store()?;
    let contact_id = find(&store.conn, crm_id, source)?;
    retention::keep(&mut store, &ctx.clock, contact_id, reason)?;
    say!(
        "CRM contact {} is kept past the retention rule; `rollcall retention --keeps` lists \
         the exceptions.",
        printable(crm_id.trim())
    )?;
    Ok(ExitCode::SUCCESS)
}

fn unkeep(ctx: &Ctx, crm_id: &str, source: Option<&str>) -> anyhow::Result<ExitCode> {
    let mut store = ctx.open_store()?;
    let contact_id = find(&store.conn, crm_id, source)?;
    if !retention::unkeep(&mut store, &ctx.clock, contact_id)? {
        bail!(
            "CRM contact {} has no retention exception",
            printable(crm_id.trim())
        );
    }
    say!(
        "CRM contact {}: exception removed; the retention rule applies again.",
        printable(crm_id.trim())
    )?;
    Ok(ExitCode::SUCCESS)
}

fn list_keeps(ctx: &Ctx, json: bool) -> anyhow::Result<ExitCode> {
    let store = ctx.open_store_for_reading()?;
    let keeps = retention::keeps(&store.conn)?;
    if json {
        print(format!("{}\n", serde_json::to_string_pretty(&keeps)?))?;
        return Ok(ExitCode::SUCCESS);
    }
    if keeps.is_empty() {
        say!("No one is marked to keep past the retention rule.")?;
        return Ok(ExitCode::SUCCESS);
    }
    say!(
        "  {:<12} {:<14} {:<12} {:<10} REASON",
        "CRM ID",
        "SOURCE",
        "BY",
        "ON"
    )?;
    for k in &keeps {
        say!(
            "  {:<12} {:<14} {:<12} {:<10} {}",
            printable(&k.crm_id),
            printable(&k.source),
            printable(&k.keep.staff),
            k.keep.kept_at.get(..10).unwrap_or(&k.keep.kept_at),
            printable(&k.keep.reason)
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn find(
    conn: &crate::storage::sql::Connection,
    crm_id: &str,
    source: Option<&str>,
) -> anyhow::Result<i64> {
    let crm_id = crm_id.trim();
    if crm_id.is_empty() {
        bail!("the CONTACT_ID is empty; give the person's contact id in the CRM");
    }
    match erase::find_contact(conn, crm_id, source)? {
        Lookup::Found { id, .. } => Ok(id),
        Lookup::Erased { erased_at, staff } => {
            bail!("no contact has that CRM id: that person was erased on {erased_at} by {staff}")
        }
        Lookup::Ambiguous { sources } => bail!(
            "that CRM id exists in several sources ({}); say which with --source NAME",
            sources.join(", ")
        ),
        Lookup::NotFound => bail!(
            "no contact has that CRM id{}; check the id (it is the CRM's Contact ID)",
            source
                .map(|s| format!(" in source `{s}`"))
                .unwrap_or_default()
        ),
    }
}
