//! `rollcall letters KIND`: renewal, win-back and welcome letters (a PDF, a page per member) or
//! emails (a mail-merge CSV), each in the member's language, each recorded as a contact attempt.
//!
//! Who gets one: the renewals queue's due or lapsed bucket (with its filters), the onboarding
//! queue (with its views), or a list of CRM ids; less whoever the rules in
//! [`crate::domain::letters::left_out`] leave out, counted by reason. See docs/letters.md.

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use chrono::NaiveDate;

use super::{Ctx, output};
use crate::config::{Config, LettersConfig};
use crate::domain::letters::{
    self, Language, LetterKind, Medium, Reach, Rendered, Sender, TemplateSet, address_lines,
    long_date,
};
use crate::domain::renewal::{self, Bucket, QueueFilter, Windows};
use crate::export::letters::pdf::{LetterPdf, Letterhead, PageText};
use crate::export::letters::{Email, emails_csv, load_templates};
use crate::export::pending_file::PendingFile;
use crate::storage::Store;
use crate::storage::letters::{self as store_letters, LetterRow, Wanted};
use crate::storage::onboarding::{self, View};
use crate::storage::renewals::{self as queue_store, Target};

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
    #[arg(long, short, value_name = "FILE")]
    output: PathBuf,
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

/// Who was asked for, and who the list itself did not hold (by reason).
struct Chosen {
    wanted: Vec<Wanted>,
    not_listed: Vec<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    // Refused before anything else, even when nobody would get a letter.
    crate::export::destination::output_target(&args.output, &ctx.db)?;
    let config = Config::load_default()?;
    let kind = LetterKind::from(args.kind);
    let medium = match args.channel {
        ChannelArg::Letter => Medium::Letter,
        ChannelArg::Email => Medium::Email,
    };
    let templates = load_templates(
        kind,
        super::config_dir().map(|d| d.join("letters")).as_deref(),
    )?;
    // Letters to nobody must not leave an empty database where there was none.
    let mut store = if ctx.database_exists() {
        ctx.open_store()?
    } else {
        ctx.open_store_for_reading()?
    };
    store.ensure_writable("writing letters (each is recorded as a contact attempt)")?;
    let chosen = choose(&mut store, ctx, &config, kind, &args)?;
    let rows = store_letters::recipients(&store.conn, &chosen.wanted)?;

    let mut left_out: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut kept: Vec<&LetterRow> = Vec::with_capacity(rows.len());
    for row in &rows {
        match exclusion(medium, row) {
            Some(why) => *left_out.entry(why).or_default() += 1,
            None => kept.push(row),
        }
    }
    let mut summary = Summary {
        medium,
        kind,
        written: kept.len(),
        welsh: kept.iter().filter(|r| r.recipient.welsh).count(),
        left_out,
        not_listed: chosen.not_listed,
        pages: None,
    };
    if kept.is_empty() {
        output::note(format!(
            "No {} written: {}",
            medium_plural(medium),
            summary.line()
        ));
        return Ok(ExitCode::SUCCESS);
    }

    let note = store_letters::attempt_note(kind.as_str(), medium.channel());
    let mut repeats = 0;
    for row in &kept {
        if store_letters::sent_on(
            &store.conn,
            row.contact_id,
            medium.channel(),
            &note,
            ctx.clock.today,
        )? {
            repeats += 1;
        }
    }
    if repeats > 0 && !args.yes && !confirm_repeat(repeats, kind, medium)? {
        output::note("Nothing written.");
        return Ok(ExitCode::from(1));
    }

    let sender = Sender {
        name: config.letters.sender_name.clone(),
        renew_link: config.letters.renew_link.clone(),
    };
    let bytes = match medium {
        Medium::Letter => {
            let (bytes, pages) =
                letters_pdf(&kept, &templates, &sender, &config.letters, ctx.clock.today);
            summary.pages = Some(pages);
            bytes
        }
        Medium::Email => emails(&kept, &templates, &sender, config.letters.bilingual)?,
    };
    let mut file = PendingFile::create(&args.output, &ctx.db)?;
    file.write_all(&bytes)?;
    let targets: Vec<Target> = kept
        .iter()
        .filter_map(|r| {
            r.membership_id.map(|membership_id| Target {
                contact_id: r.contact_id,
                membership_id,
            })
        })
        .collect();
    // Recorded before the file is put in place: a file of letters that are not on record
    // would be sent twice; a failure here leaves neither.
    store_letters::record_sent(&mut store, &ctx.clock, &targets, medium.channel(), &note)?;
    file.put_in_place()?;
    output::note(format!(
        "Wrote {} to {}; {}",
        medium_plural(medium),
        args.output.display(),
        summary.line()
    ));
    Ok(ExitCode::SUCCESS)
}

fn medium_plural(medium: Medium) -> &'static str {
    match medium {
        Medium::Letter => "letters",
        Medium::Email => "emails",
    }
}

/// Why `row` gets nothing: the domain's rules, or no membership to record the letter against.
fn exclusion(medium: Medium, row: &LetterRow) -> Option<&'static str> {
    let reach = Reach {
        flags: &row.flags,
        last_contact: row.last_contact.as_ref(),
        has_postal_address: row.address.is_usable(),
        has_email: !row.email.trim().is_empty(),
    };
    letters::left_out(medium, reach).or(row.membership_id.is_none().then_some("no membership"))
}

/// The list the arguments name: the CRM ids given, else the renewals bucket or the onboarding
/// queue the kind of letter is for.
fn choose(
    store: &mut Store,
    ctx: &Ctx,
    config: &Config,
    kind: LetterKind,
    args: &Args,
) -> anyhow::Result<Chosen> {
    if let Some(ids) = &args.ids {
        return from_ids(store, ids);
    }
    match kind {
        LetterKind::RenewalDue => from_renewals(store, ctx, config, Bucket::Due, args),
        LetterKind::Lapsed => from_renewals(store, ctx, config, Bucket::Lapsed, args),
        LetterKind::Welcome => from_onboarding(store, ctx, config, args),
    }
}

fn from_ids(store: &Store, ids: &str) -> anyhow::Result<Chosen> {
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
    let resolved = store_letters::resolve_crm_ids(&store.conn, &crm_ids)?;
    let mut not_listed = Vec::new();
    if resolved.not_found > 0 {
        not_listed.push(format!("{} ids not in the database", resolved.not_found));
    }
    if resolved.ambiguous > 0 {
        not_listed.push(format!(
            "{} ids held by several CRM sources",
            resolved.ambiguous
        ));
    }
    Ok(Chosen {
        wanted: resolved
            .contact_ids
            .into_iter()
            .map(|contact_id| Wanted {
                contact_id,
                membership_id: None,
            })
            .collect(),
        not_listed,
    })
}

/// The renewals queue's bucket in its urgency order, as `rollcall renewals` lists it.
fn from_renewals(
    store: &Store,
    ctx: &Ctx,
    config: &Config,
    bucket: Bucket,
    args: &Args,
) -> anyhow::Result<Chosen> {
    let windows = Windows {
        due_within_days: args.due_within.unwrap_or(config.renewals.due_within_days),
        lapsed_within_days: args
            .lapsed_within
            .unwrap_or(config.renewals.lapsed_within_days),
    };
    let filter = QueueFilter {
        bucket: Some(bucket),
        region: args.region.clone(),
        local_party: args.local_party.clone(),
        ..QueueFilter::default()
    };
    let today = ctx.clock.today;
    let rows = queue_store::queue(&store.conn, today, windows, Some(bucket))?;
    let arranged = renewal::arrange(&rows, &filter, today, &ctx.clock.user);
    let mut not_listed = Vec::new();
    if arranged.set_aside_hidden > 0 {
        not_listed.push(format!(
            "{} snoozed or settled by last contact",
            arranged.set_aside_hidden
        ));
    }
    if arranged.auto_renew_hidden > 0 {
        not_listed.push(format!("{} auto-renewing", arranged.auto_renew_hidden));
    }
    // A member with two memberships in the bucket gets one letter, about the first in order.
    let mut seen = std::collections::HashSet::new();
    let wanted = arranged
        .order
        .iter()
        .map(|&i| &rows[i])
        .filter(|r| seen.insert(r.contact_id))
        .map(|r| Wanted {
            contact_id: r.contact_id,
            membership_id: Some(r.membership_id),
        })
        .collect();
    Ok(Chosen { wanted, not_listed })
}

/// The onboarding queue's view, as `rollcall onboarding` lists it.
fn from_onboarding(
    store: &mut Store,
    ctx: &Ctx,
    config: &Config,
    args: &Args,
) -> anyhow::Result<Chosen> {
    if args.region.is_some() || args.due_within.is_some() || args.lapsed_within.is_some() {
        bail!(
            "--region, --due-within and --lapsed-within choose from the renewals queue; \
               welcome letters go to the onboarding queue (--mine, --unassigned, --overdue, \
               --local-party) or to --ids"
        );
    }
    let path = crate::domain::onboarding::StepPath::from_config(&config.onboarding)?;
    let view = match (args.mine, args.unassigned, args.overdue) {
        (true, _, _) => View::Mine,
        (_, true, _) => View::Unassigned,
        (_, _, true) => View::Overdue,
        _ => View::All,
    };
    let today = ctx.clock.today;
    let mut entries = onboarding::load_queue(store, &ctx.clock, &config.onboarding)?;
    entries.retain(|e| {
        view.shows(e, &e.progress(&path, today), &ctx.clock.user)
            && args
                .local_party
                .as_ref()
                .is_none_or(|p| e.local_party.eq_ignore_ascii_case(p.trim()))
    });
    entries.sort_by_cached_key(|e| onboarding::sort_key(view, e, &e.progress(&path, today)));
    Ok(Chosen {
        wanted: entries
            .iter()
            .map(|e| Wanted {
                contact_id: e.contact_id,
                membership_id: None,
            })
            .collect(),
        not_listed: Vec::new(),
    })
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

/// "14 Rhagfyr 2026 / 14 December 2026": the letter's date in each of its languages.
fn date_line(today: NaiveDate, languages: &[Language]) -> String {
    let dates: Vec<String> = languages.iter().map(|&l| long_date(today, l)).collect();
    dates.join(" / ")
}

fn letters_pdf(
    rows: &[&LetterRow],
    templates: &TemplateSet,
    sender: &Sender,
    config: &LettersConfig,
    today: NaiveDate,
) -> (Vec<u8>, usize) {
    let mut pdf = LetterPdf::new(Letterhead {
        sender_name: config.sender_name.clone(),
        sender_address: config.sender_address.clone(),
    });
    for row in rows {
        let letter = templates.letter(&row.recipient, sender, config.bilingual);
        let address = address_lines(&row.recipient.name, &row.address);
        let date = date_line(
            today,
            &letters::languages(row.recipient.welsh, config.bilingual),
        );
        pdf.add(&PageText {
            address: &address,
            date: &date,
            subject: &letter.subject,
            body: &letter.body,
        });
    }
    let pages = pdf.page_count();
    (pdf.finish(), pages)
}

fn emails(
    rows: &[&LetterRow],
    templates: &TemplateSet,
    sender: &Sender,
    bilingual: bool,
) -> anyhow::Result<Vec<u8>> {
    let messages: Vec<(&LetterRow, Rendered, String)> = rows
        .iter()
        .map(|row| {
            let codes: Vec<&str> = letters::languages(row.recipient.welsh, bilingual)
                .iter()
                .map(|l| l.code())
                .collect();
            (
                *row,
                templates.letter(&row.recipient, sender, bilingual),
                codes.join("+"),
            )
        })
        .collect();
    let emails: Vec<Email> = messages
        .iter()
        .map(|(row, message, languages)| Email {
            contact_id: &row.crm_id,
            address: row.email.trim(),
            languages: languages.clone(),
            message,
        })
        .collect();
    emails_csv(&emails)
}

/// What the command did, for its last line.
struct Summary {
    medium: Medium,
    kind: LetterKind,
    written: usize,
    welsh: usize,
    left_out: BTreeMap<&'static str, usize>,
    not_listed: Vec<String>,
    pages: Option<usize>,
}

impl Summary {
    /// "412 renewal-due letters (37 Welsh-first), 413 pages; left out: 12 Do Not Mail; not
    /// listed: 3 auto-renewing".
    fn line(&self) -> String {
        let mut line = format!(
            "{} {} {} ({} to Welsh-preferring members)",
            self.written,
            self.kind.as_str(),
            medium_plural(self.medium),
            self.welsh
        );
        if let Some(pages) = self.pages {
            line.push_str(&format!(", {pages} pages"));
        }
        if !self.left_out.is_empty() {
            let parts: Vec<String> = self
                .left_out
                .iter()
                .map(|(why, n)| format!("{n} {why}"))
                .collect();
            line.push_str(&format!("; left out: {}", parts.join(", ")));
        }
        if !self.not_listed.is_empty() {
            line.push_str(&format!("; not listed: {}", self.not_listed.join(", ")));
        }
        line
    }
}
