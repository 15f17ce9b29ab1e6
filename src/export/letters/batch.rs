//! Letters to a list of members, from choosing them to the file on disk and the record of each:
//! the sequence `rollcall letters` and the app's letters dialog both run.
//!
//! 1. [`choose`] the members a [`Source`] names (the renewals queue's bucket, the onboarding
//!    queue, a list of CRM ids, or rows a pane lists);
//! 2. [`prepare`] the batch: each member as a letter needs them, less whoever
//!    [`crate::domain::letters::left_out`] leaves out (counted by reason), and how many already
//!    had the same letter today;
//! 3. [`Batch::previews`] the first letter in each language, for a person to look at;
//! 4. [`write`] the file (a PDF or the mail-merge CSV), recording every letter as a contact
//!    attempt before the file is put in place.
//!
//! Nothing here prints or asks: the caller says what happened and asks about repeats.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use anyhow::bail;
use chrono::NaiveDate;

use super::pdf::{LetterPdf, Letterhead, PageText};
use super::{Email, emails_csv, load_templates};
use crate::Clock;
use crate::config::{Config, LettersConfig};
use crate::domain::letters::{
    self, Language, LetterKind, Medium, Reach, Rendered, Sender, TemplateSet, address_lines,
    long_date,
};
use crate::domain::renewal::{self, Bucket, QueueFilter, Windows};
use crate::export::pending_file::PendingFile;
use crate::storage::letters::{self as store_letters, LetterRow, Wanted};
use crate::storage::onboarding::{self, View};
use crate::storage::renewals::{self as queue_store, Target};
use crate::storage::{Location, Store};

/// Which members a batch of letters is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// CRM contact ids, as typed or read from a file.
    CrmIds(Vec<String>),
    /// The renewals queue's bucket, in its urgency order, as `rollcall renewals` lists it.
    Renewals {
        bucket: Bucket,
        windows: Windows,
        region: Option<String>,
        local_party: Option<String>,
    },
    /// The onboarding queue's view, as `rollcall onboarding` lists it.
    Onboarding {
        view: View,
        local_party: Option<String>,
    },
    /// Members a list on screen holds, in its order.
    Listed(Vec<Wanted>),
}

/// Who was asked for, and who the list itself did not hold (by reason).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chosen {
    pub wanted: Vec<Wanted>,
    pub not_listed: Vec<String>,
}

/// The members `source` names, in its order.
pub fn choose(
    store: &mut Store,
    clock: &Clock,
    config: &Config,
    source: &Source,
) -> anyhow::Result<Chosen> {
    match source {
        Source::CrmIds(ids) => from_crm_ids(store, ids),
        Source::Renewals {
            bucket,
            windows,
            region,
            local_party,
        } => from_renewals(
            store,
            clock,
            *bucket,
            *windows,
            region.clone(),
            local_party.clone(),
        ),
        Source::Onboarding { view, local_party } => {
            from_onboarding(store, clock, config, *view, local_party.as_deref())
        }
        Source::Listed(wanted) => Ok(Chosen {
            wanted: wanted.clone(),
            not_listed: Vec::new(),
        }),
    }
}

fn from_crm_ids(store: &Store, crm_ids: &[String]) -> anyhow::Result<Chosen> {
    let resolved = store_letters::resolve_crm_ids(&store.conn, crm_ids)?;
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

fn from_renewals(
    store: &Store,
    clock: &Clock,
    bucket: Bucket,
    windows: Windows,
    region: Option<String>,
    local_party: Option<String>,
) -> anyhow::Result<Chosen> {
    let filter = QueueFilter {
        bucket: Some(bucket),
        region,
        local_party,
        ..QueueFilter::default()
    };
    let today = clock.today;
    let rows = queue_store::queue(&store.conn, today, windows, Some(bucket))?;
    let arranged = renewal::arrange(&rows, &filter, today, &clock.user);
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
    let wanted = one_per_member(arranged.order.iter().map(|&i| &rows[i]).map(|r| Wanted {
        contact_id: r.contact_id,
        membership_id: Some(r.membership_id),
    }));
    Ok(Chosen { wanted, not_listed })
}

/// A member with two memberships in a list gets one letter, about the first in its order.
pub fn one_per_member(wanted: impl IntoIterator<Item = Wanted>) -> Vec<Wanted> {
    let mut seen = HashSet::new();
    wanted
        .into_iter()
        .filter(|w| seen.insert(w.contact_id))
        .collect()
}

fn from_onboarding(
    store: &mut Store,
    clock: &Clock,
    config: &Config,
    view: View,
    local_party: Option<&str>,
) -> anyhow::Result<Chosen> {
    let path = crate::domain::onboarding::StepPath::from_config(&config.onboarding)?;
    let today = clock.today;
    let mut entries = onboarding::load_queue(store, clock, &config.onboarding)?;
    entries.retain(|e| {
        view.shows(e, &e.progress(&path, today), &clock.user)
            && local_party.is_none_or(|p| e.local_party.eq_ignore_ascii_case(p.trim()))
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

/// The templates for `kind`: the organisation's own in `letters/` in the config directory,
/// else the built-in examples.
pub fn templates(kind: LetterKind) -> anyhow::Result<TemplateSet> {
    load_templates(
        kind,
        crate::config::config_dir()
            .map(|d| d.join("letters"))
            .as_deref(),
    )
}

/// The letters to write: who gets one, who does not and why, and how many had one today.
#[derive(Debug, Clone)]
pub struct Batch {
    pub kind: LetterKind,
    pub medium: Medium,
    /// In the list's order.
    pub kept: Vec<LetterRow>,
    /// Left out, by reason (a rule's name, never a person's).
    pub left_out: BTreeMap<&'static str, usize>,
    /// Not in the list at all, by reason ("40 auto-renewing").
    pub not_listed: Vec<String>,
    /// Kept members who already had this letter by this channel today.
    pub repeats: usize,
}

/// The members of `chosen` as letters need them, less those left out; reads only.
pub fn prepare(
    store: &Store,
    clock: &Clock,
    kind: LetterKind,
    medium: Medium,
    chosen: Chosen,
) -> anyhow::Result<Batch> {
    let rows = store_letters::recipients(&store.conn, &chosen.wanted)?;
    let mut left_out: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut kept = Vec::with_capacity(rows.len());
    for row in rows {
        match exclusion(medium, &row) {
            Some(why) => *left_out.entry(why).or_default() += 1,
            None => kept.push(row),
        }
    }
    let note = store_letters::attempt_note(kind.as_str(), medium.channel());
    let mut repeats = 0;
    for row in &kept {
        if store_letters::sent_on(
            &store.conn,
            row.contact_id,
            medium.channel(),
            &note,
            clock.today,
        )? {
            repeats += 1;
        }
    }
    Ok(Batch {
        kind,
        medium,
        kept,
        left_out,
        not_listed: chosen.not_listed,
        repeats,
    })
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

/// One letter as the officer sees it before writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// The languages it is in, in order.
    pub languages: Vec<Language>,
    /// The envelope's address (letters) or the email address.
    pub to: Vec<String>,
    pub letter: Rendered,
}

impl Batch {
    /// How many letters (or emails) will be written.
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// The first letter of each language combination the batch holds (English; Welsh first,
    /// bilingual or not), in the order they first appear.
    pub fn previews(&self, templates: &TemplateSet, config: &LettersConfig) -> Vec<Preview> {
        let sender = sender(config);
        let mut seen: Vec<Vec<Language>> = Vec::new();
        let mut out = Vec::new();
        for row in &self.kept {
            let languages = letters::languages(row.recipient.welsh, config.bilingual);
            if seen.contains(&languages) {
                continue;
            }
            seen.push(languages.clone());
            let to = match self.medium {
                Medium::Letter => address_lines(&row.recipient.name, &row.address),
                Medium::Email => vec![row.email.trim().to_owned()],
            };
            out.push(Preview {
                languages,
                to,
                letter: templates.letter(&row.recipient, &sender, config.bilingual),
            });
        }
        out
    }

    /// What the written file holds, for the summary.
    pub fn summary(&self, pages: Option<usize>) -> Summary {
        Summary {
            medium: self.medium,
            kind: self.kind,
            written: self.kept.len(),
            welsh: self.kept.iter().filter(|r| r.recipient.welsh).count(),
            left_out: self.left_out.clone(),
            not_listed: self.not_listed.clone(),
            pages,
        }
    }
}

fn sender(config: &LettersConfig) -> Sender {
    Sender {
        name: config.sender_name.clone(),
        renew_link: config.renew_link.clone(),
    }
}

/// Where [`write`] puts the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// This file, replacing one already there (`rollcall letters -o FILE`).
    File(PathBuf),
    /// A new file in this folder (made owner-only if missing), named by kind, channel and date
    /// (`renewal-due-letters-2026-11-23.pdf`, then `…-2.pdf`, …): never replacing one.
    NewIn(PathBuf),
    /// One `.eml` message per member in this folder (made owner-only if missing), named by
    /// CRM id and kind (`1021-renewal-due.eml`, then `…-2.eml`), never replacing one. Email only.
    EmlIn(PathBuf),
}

/// The file name [`Destination::NewIn`] tries `n`-th (from 1).
pub fn file_name(kind: LetterKind, medium: Medium, day: NaiveDate, n: u32) -> String {
    let (what, ext) = match medium {
        Medium::Letter => ("letters", "pdf"),
        Medium::Email => ("emails", "csv"),
    };
    let suffix = if n <= 1 {
        String::new()
    } else {
        format!("-{n}")
    };
    format!("{}-{what}-{day}{suffix}.{ext}", kind.as_str())
}

/// What [`write`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    pub summary: Summary,
}

/// How [`write`] writes a batch.
#[derive(Debug, Clone, Copy)]
pub struct Writing<'a> {
    pub templates: &'a TemplateSet,
    pub config: &'a LettersConfig,
    pub dest: &'a Destination,
    /// The officer was asked about members who already had this letter today, and said yes.
    pub repeats_allowed: bool,
}

/// Renders the batch, records every letter as a contact attempt (channel letter or email,
/// outcome "sent", one audited batch), and puts the file in place. Refuses a batch with
/// repeats unless they are allowed, and an empty one.
pub fn write(
    store: &mut Store,
    clock: &Clock,
    db: &Location,
    batch: &Batch,
    how: &Writing,
) -> anyhow::Result<Written> {
    let Writing {
        templates,
        config,
        dest,
        repeats_allowed,
    } = *how;
    if batch.is_empty() {
        bail!("no {} to write", medium_plural(batch.medium));
    }
    if batch.repeats > 0 && !repeats_allowed {
        bail!(
            "{} of these members already had a {} {} today; nothing was written",
            batch.repeats,
            batch.kind.as_str(),
            batch.medium.channel().as_str()
        );
    }
    if let Destination::EmlIn(dir) = dest {
        return write_eml(store, clock, db, batch, templates, config, dir);
    }
    let sender = sender(config);
    let rows: Vec<&LetterRow> = batch.kept.iter().collect();
    let (bytes, pages) = match batch.medium {
        Medium::Letter => {
            let (bytes, pages) = letters_pdf(&rows, templates, &sender, config, clock.today);
            (bytes, Some(pages))
        }
        Medium::Email => (emails(&rows, templates, &sender, config.bilingual)?, None),
    };
    let (mut file, new_in) = match dest {
        Destination::File(path) => (PendingFile::create(path, db)?, None),
        Destination::NewIn(dir) | Destination::EmlIn(dir) => {
            crate::export::pending_file::create_private_dir(dir)?;
            let first = dir.join(file_name(batch.kind, batch.medium, clock.today, 1));
            (PendingFile::create(&first, db)?, Some(dir))
        }
    };
    file.write_all(&bytes)?;
    let targets: Vec<Target> = batch
        .kept
        .iter()
        .filter_map(|r| {
            r.membership_id.map(|membership_id| Target {
                contact_id: r.contact_id,
                membership_id,
            })
        })
        .collect();
    let note = store_letters::attempt_note(batch.kind.as_str(), batch.medium.channel());
    // Recorded before the file is put in place: a file of letters that are not on record
    // would be sent twice; a failure here leaves neither.
    store_letters::record_sent(store, clock, &targets, batch.medium.channel(), &note)?;
    let path = match new_in {
        None => {
            file.put_in_place()?;
            file_path(dest)
        }
        Some(dir) => file
            .put_in_place_new(|n| dir.join(file_name(batch.kind, batch.medium, clock.today, n)))?,
    };
    Ok(Written {
        path,
        summary: batch.summary(pages),
    })
}

fn targets(batch: &Batch) -> Vec<Target> {
    batch
        .kept
        .iter()
        .filter_map(|r| {
            r.membership_id.map(|membership_id| Target {
                contact_id: r.contact_id,
                membership_id,
            })
        })
        .collect()
}

/// A message per member, each its own owner-only file, recorded before any is put in place.
fn write_eml(
    store: &mut Store,
    clock: &Clock,
    db: &Location,
    batch: &Batch,
    templates: &TemplateSet,
    config: &LettersConfig,
    dir: &std::path::Path,
) -> anyhow::Result<Written> {
    if batch.medium != Medium::Email {
        bail!(".eml files are emails: use them with --channel email");
    }
    if config.from.trim().is_empty() {
        bail!(
            ".eml files need a From: set [letters] from = \"Membership Team \
             <members@example.org>\" in config.toml; nothing was written"
        );
    }
    crate::export::pending_file::create_private_dir(dir)?;
    let sender = sender(config);
    let date = chrono::Local::now().fixed_offset();
    let mut files = Vec::with_capacity(batch.kept.len());
    for row in &batch.kept {
        let letter = templates.letter(&row.recipient, &sender, config.bilingual);
        let bytes = super::eml::message(
            &config.from,
            row.email.trim(),
            &letter.subject,
            &letter.body,
            date,
        );
        let stem: String = row
            .crm_id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        let stem = format!("{stem}-{}", batch.kind.as_str());
        let mut file = PendingFile::create(&dir.join(format!("{stem}.eml")), db)?;
        file.write_all(&bytes)?;
        files.push((stem, file));
    }
    let note = store_letters::attempt_note(batch.kind.as_str(), batch.medium.channel());
    store_letters::record_sent(store, clock, &targets(batch), batch.medium.channel(), &note)?;
    for (stem, file) in files {
        file.put_in_place_new(|n| match n {
            1 => dir.join(format!("{stem}.eml")),
            n => dir.join(format!("{stem}-{n}.eml")),
        })?;
    }
    Ok(Written {
        path: dir.to_owned(),
        summary: batch.summary(None),
    })
}

fn file_path(dest: &Destination) -> PathBuf {
    match dest {
        Destination::File(p) | Destination::NewIn(p) | Destination::EmlIn(p) => p.clone(),
    }
}

pub fn medium_plural(medium: Medium) -> &'static str {
    match medium {
        Medium::Letter => "letters",
        Medium::Email => "emails",
    }
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

/// What a batch wrote, for the line that says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub medium: Medium,
    pub kind: LetterKind,
    pub written: usize,
    pub welsh: usize,
    pub left_out: BTreeMap<&'static str, usize>,
    pub not_listed: Vec<String>,
    pub pages: Option<usize>,
}

impl Summary {
    /// "412 renewal-due letters (37 to Welsh-preferring members), 413 pages; left out: 12 Do
    /// Not Mail; not listed: 3 auto-renewing".
    pub fn line(&self) -> String {
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
        if let Some(left_out) = self.left_out_text() {
            line.push_str(&format!("; left out: {left_out}"));
        }
        if !self.not_listed.is_empty() {
            line.push_str(&format!("; not listed: {}", self.not_listed.join(", ")));
        }
        line
    }

    /// "12 Do Not Mail, 1 deceased", or None when nobody was left out.
    pub fn left_out_text(&self) -> Option<String> {
        left_out_text(&self.left_out)
    }
}

/// "12 Do Not Mail, 1 deceased", or None when nobody was left out.
pub fn left_out_text(left_out: &BTreeMap<&'static str, usize>) -> Option<String> {
    if left_out.is_empty() {
        return None;
    }
    let parts: Vec<String> = left_out
        .iter()
        .map(|(why, n)| format!("{n} {why}"))
        .collect();
    Some(parts.join(", "))
}
