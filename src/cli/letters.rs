//! `rollcall letters KIND`: renewal, win-back and welcome letters (a PDF, a page per member) or
//! emails (a mail-merge CSV), each in the member's language, each recorded as a contact attempt.
//!
//! Who gets one: the renewals queue's due or lapsed bucket (with its filters), the onboarding
//! queue (with its views), or a list of CRM ids; less whoever the rules in
//! [`crate::domain::letters::left_out`] leave out, counted by reason. See docs/letters.md.
//!
//! The sequence (choose, prepare, render, record) is [`crate::export::letters::batch`], which
//! the app's letters dialog runs too; this is its command line: arguments in, one line out, and
//! the question about repeats.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use super::{Ctx, output};
use crate::config::Config;
use crate::domain::letters::{LetterKind, Medium};
use crate::domain::renewal::{Bucket, Windows};
use crate::export::letters::batch::{self, Destination, Source, Writing, medium_plural};
use crate::storage::onboarding::View;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("view").args(["mine", "unassigned", "overdue"])))]
pub struct Args {
    /// Which letter
    #[arg(value_enum)]
    kind: KindArg,
    /// A letter (PDF, a page per member) or an email (mail-merge CSV)
    #[arg(long, value_enum, default_value = "letter")]
    channel: ChannelArg,
    /// The file to write (created owner-only)
    #[arg(long, short, value_name = "FILE", required_unless_present = "eml")]
    output: Option<PathBuf>,
    /// With --channel email: one .eml message per member in this folder instead of the CSV
    /// (From is `[letters] from` in config.toml)
    #[arg(long, value_name = "DIR", conflicts_with = "output")]
    eml: Option<PathBuf>,
    /// These members instead of a queue: a file of CRM contact ids (one a line, or separated
    /// by commas), or the ids themselves separated by commas
    #[arg(long, value_name = "FILE|LIST")]
    ids: Option<String>,
    /// Renewals: only members in this region (whole name, any case)
    #[arg(long, value_name = "R")]
    region: Option<String>,
    /// Renewals: only members of this local party (whole name, any case)
    #[arg(long, value_name = "P")]
    local_party: Option<String>,
    /// renewal-due: end date from today to this many days ahead [default: config, else 30]
    #[arg(long, value_name = "DAYS")]
    due_within: Option<u32>,
    /// lapsed: end date in this many days before today [default: config, else 90]
    #[arg(long, value_name = "DAYS")]
    lapsed_within: Option<u32>,
    /// welcome: only members assigned to me in the onboarding queue
    #[arg(long)]
    mine: bool,
    /// welcome: only members nobody is assigned to
    #[arg(long)]
    unassigned: bool,
    /// welcome: only members whose next onboarding step is overdue
    #[arg(long)]
    overdue: bool,
    /// Write again for members who already had this letter today, without asking
    #[arg(long)]
    yes: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum KindArg {
    RenewalDue,
    Lapsed,
    Welcome,
}

impl From<KindArg> for LetterKind {
    fn from(k: KindArg) -> LetterKind {
        match k {
            KindArg::RenewalDue => LetterKind::RenewalDue,
            KindArg::Lapsed => LetterKind::Lapsed,
            KindArg::Welcome => LetterKind::Welcome,
        }
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ChannelArg {
    Letter,
    Email,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let kind = LetterKind::from(args.kind);
    let medium = match args.channel {
        ChannelArg::Letter => Medium::Letter,
        ChannelArg::Email => Medium::Email,
    };
    // Refused before anything else, even when nobody would get a letter.
    let (dest, shown) = match (&args.output, &args.eml) {
        (Some(output), _) => {
            crate::export::destination::output_target(output, &ctx.db)?;
            (Destination::File(output.clone()), output.clone())
        }
        (None, Some(dir)) => {
            if medium != Medium::Email {
                bail!("--eml writes emails: add --channel email");
            }
            (Destination::EmlIn(dir.clone()), dir.clone())
        }
        (None, None) => bail!("--output FILE (or --eml DIR with --channel email) is needed"),
    };
    let config = Config::load_default()?;
    if matches!(dest, Destination::EmlIn(_)) && config.letters.from.trim().is_empty() {
        bail!(
            "--eml needs a From: set [letters] from = \"Membership Team \
             <members@example.org>\" in config.toml; nothing was written"
        );
    }
    let templates = batch::templates(kind)?;
    let source = source(&config, kind, &args)?;
    // Letters to nobody must not leave an empty database where there was none.
    let mut store = if ctx.database_exists() {
        ctx.open_store()?
    } else {
        ctx.open_store_for_reading()?
    };
    store.ensure_writable("writing letters (each is recorded as a contact attempt)")?;
    let chosen = batch::choose(&mut store, &ctx.clock, &config, &source)?;
    let prepared = batch::prepare(&store, &ctx.clock, kind, medium, chosen)?;
    if prepared.is_empty() {
        output::note(format!(
            "No {} written: {}",
            medium_plural(medium),
            prepared.summary(None).line()
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let repeats = prepared.repeats;
    if repeats > 0 && !args.yes && !confirm_repeat(repeats, kind, medium)? {
        output::note("Nothing written.");
        return Ok(ExitCode::from(1));
    }
    let written = batch::write(
        &mut store,
        &ctx.clock,
        &ctx.db,
        &prepared,
        &Writing {
            templates: &templates,
            config: &config.letters,
            dest: &dest,
            repeats_allowed: true,
        },
    )?;
    output::note(format!(
        "Wrote {} to {}; {}",
        medium_plural(medium),
        shown.display(),
        written.summary.line()
    ));
    Ok(ExitCode::SUCCESS)
}

/// The list the arguments name: the CRM ids given, else the renewals bucket or the onboarding
/// queue the kind of letter is for.
fn source(config: &Config, kind: LetterKind, args: &Args) -> anyhow::Result<Source> {
    if let Some(ids) = &args.ids {
        return crm_ids(ids).map(Source::CrmIds);
    }
    let renewals = |bucket| Source::Renewals {
        bucket,
        windows: Windows {
            due_within_days: args.due_within.unwrap_or(config.renewals.due_within_days),
            lapsed_within_days: args
                .lapsed_within
                .unwrap_or(config.renewals.lapsed_within_days),
        },
        region: args.region.clone(),
        local_party: args.local_party.clone(),
    };
    Ok(match kind {
        LetterKind::RenewalDue => renewals(Bucket::Due),
        LetterKind::Lapsed => renewals(Bucket::Lapsed),
        LetterKind::Welcome => {
            if args.region.is_some() || args.due_within.is_some() || args.lapsed_within.is_some() {
                bail!(
                    "--region, --due-within and --lapsed-within choose from the renewals queue; \
                       welcome letters go to the onboarding queue (--mine, --unassigned, \
                       --overdue, --local-party) or to --ids"
                );
            }
            let view = match (args.mine, args.unassigned, args.overdue) {
                (true, _, _) => View::Mine,
                (_, true, _) => View::Unassigned,
                (_, _, true) => View::Overdue,
                _ => View::All,
            };
            Source::Onboarding {
                view,
                local_party: args.local_party.clone(),
            }
        }
    })
}

/// `--ids`: a file of CRM ids, or the ids themselves, separated by commas or white space.
fn crm_ids(ids: &str) -> anyhow::Result<Vec<String>> {
    let path = std::path::Path::new(ids);
    let text = if path.is_file() {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    } else {
        ids.to_owned()
    };
    let crm_ids: Vec<String> = text
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(|s| s.trim().trim_start_matches('\u{feff}'))
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if crm_ids.is_empty() {
        bail!("--ids {ids}: no CRM contact ids in it");
    }
    Ok(crm_ids)
}

/// Asks on the terminal; without one, refuses (a script must say --yes).
fn confirm_repeat(repeats: usize, kind: LetterKind, medium: Medium) -> anyhow::Result<bool> {
    let what = format!("{} {}", kind.as_str(), medium.channel().as_str());
    if !std::io::stdin().is_terminal() {
        bail!(
            "{repeats} of these members already had a {what} today; not running on a terminal \
             to ask, so nothing was written. Pass --yes to write and record them again"
        );
    }
    output::ask_yes_no(&format!(
        "{repeats} of these members already had a {what} today. Write and record them again?"
    ))
}
