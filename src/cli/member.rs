//! `rollcall member CRM_ID [--json]`: everything rollcall holds on one contact, read-only — the
//! way to check what an import stored (every field, every membership with the CRM's status and
//! rollcall's own, the contact preferences) and what staff recorded (attempts, notes, snoozes,
//! assignments, onboarding, escalations).
//!
//! The records are the subject access request's ([`gather`]): one definition of "everything
//! about a person". Unlike `subject-access`, nothing is written or recorded: looking is not a
//! change. Text goes out through [`print_text`], so control characters in CRM values never
//! reach the terminal; JSON escapes them.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use chrono::NaiveDate;

use super::Ctx;
use super::output::{print, print_text};
use super::subject_access::find;
use crate::domain::MemberStatus;
use crate::domain::dates::parse_iso;
use crate::domain::membership::{MembershipDates, derive_status};
use crate::storage::subject_access::{Contact, Membership, SubjectRecord, gather};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The contact's id in the CRM (the "Contact ID" column of the export)
    #[arg(value_name = "CRM_ID")]
    pub crm_id: String,
    /// Which CRM instance the id belongs to, when the database holds several
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// Print JSON: the records, each membership with its `rollcall_status`
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let crm_id = args.crm_id.trim();
    if crm_id.is_empty() {
        bail!("CRM_ID is empty; give the contact's id in the CRM");
    }
    let mut store = ctx.open_store_for_reading()?;
    let contact_id = find(&store.conn, crm_id, args.source.as_deref())?;
    let record = gather(&mut store, contact_id)?
        .context("the contact was erased while its records were being read")?;
    let today = ctx.clock.today;
    if args.json {
        print(format!(
            "{}\n",
            serde_json::to_string_pretty(&json(&record, today)?)?
        ))?;
    } else {
        print_text(&text(&record, today))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// rollcall's own status for a membership, from its dates as of `today`.
fn rollcall_status(m: &Membership, deceased: bool, today: NaiveDate) -> MemberStatus {
    let date = |d: &Option<String>| d.as_deref().and_then(parse_iso);
    let dates = MembershipDates {
        join: date(&m.join_date),
        start: date(&m.start_date),
        end: date(&m.end_date),
        dates_unknown: m.dates_unknown,
    };
    derive_status(dates, MemberStatus::parse(&m.crm_status), deceased, today)
}

/// The records as JSON, each membership with `rollcall_status` beside the CRM's.
fn json(record: &SubjectRecord, today: NaiveDate) -> anyhow::Result<serde_json::Value> {
    let mut value = serde_json::to_value(record)?;
    let deceased = record.contact.is_deceased;
    if let Some(memberships) = value["memberships"].as_array_mut() {
        for (json, m) in memberships.iter_mut().zip(&record.memberships) {
            json["rollcall_status"] = rollcall_status(m, deceased, today).label().into();
        }
    }
    value["as_of"] = today.to_string().into();
    Ok(value)
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn text(record: &SubjectRecord, today: NaiveDate) -> String {
    let mut s = String::new();
    let c = &record.contact;
    let _ = writeln!(
        s,
        "{} — contact {} in {} (rollcall id {}), as of {today}",
        c.display_name, c.crm_id, c.source, c.id
    );
    contact_text(&mut s, c);
    let tags = if record.tags.is_empty() {
        "none".to_owned()
    } else {
        record.tags.join(", ")
    };
    let _ = writeln!(s, "  {:<15} {tags}", "tags (CRM)");
    let _ = writeln!(s, "\nMemberships ({})", record.memberships.len());
    for m in &record.memberships {
        membership_text(&mut s, m, c.is_deceased, today);
    }
    rollcall_records_text(&mut s, record);
    s
}

fn contact_text(s: &mut String, c: &Contact) {
    let fields: [(&str, &str); 17] = [
        ("contact type", &c.contact_type),
        ("sort name", &c.sort_name),
        ("first name", &c.first_name),
        ("last name", &c.last_name),
        ("organisation", &c.organization_name),
        ("email", &c.email),
        ("phone", &c.phone),
        ("street address", &c.street_address),
        ("city", &c.city),
        ("postcode", &c.postcode),
        ("county", &c.county),
        ("country", &c.country),
        ("language", &c.preferred_language),
        ("local party", &c.local_party),
        ("region", &c.region),
        ("constituency", &c.constituency),
        ("deceased date", c.deceased_date.as_deref().unwrap_or("")),
    ];
    for (label, value) in fields {
        // A street address keeps its line breaks, indented under the label.
        let value = value.replace('\n', "\n                  ");
        let _ = writeln!(s, "  {label:<15} {value}");
    }
    let _ = writeln!(
        s,
        "  preferences     do not email {}, do not phone {}, do not mail {}, do not SMS {}, \
         no bulk email {}, email on hold {}, deceased {}",
        yes_no(c.do_not_email),
        yes_no(c.do_not_phone),
        yes_no(c.do_not_mail),
        yes_no(c.do_not_sms),
        yes_no(c.no_bulk_email),
        yes_no(c.on_hold),
        yes_no(c.is_deceased),
    );
}

fn membership_text(s: &mut String, m: &Membership, deceased: bool, today: NaiveDate) {
    let ours = rollcall_status(m, deceased, today);
    let differs =
        !m.crm_status.trim().is_empty() && MemberStatus::parse(&m.crm_status) != Some(ours);
    let crm_status = if m.crm_status.trim().is_empty() {
        "none"
    } else {
        m.crm_status.as_str()
    };
    let _ = writeln!(
        s,
        "  {} (membership {}, CRM id {}): status {} (CRM: {}){}",
        m.membership_type,
        m.id,
        m.crm_membership_id.as_deref().unwrap_or("none"),
        ours.label(),
        crm_status,
        if differs { ", differs" } else { "" },
    );
    let _ = writeln!(
        s,
        "    member since {}, start {}, end {}, source {}, renews automatically {}",
        m.join_date.as_deref().unwrap_or("unknown"),
        m.start_date.as_deref().unwrap_or("unknown"),
        m.end_date.as_deref().unwrap_or(if m.dates_unknown {
            "unknown (the CRM gave the type only)"
        } else {
            "none (lifetime)"
        }),
        m.membership_source,
        yes_no(m.auto_renew),
    );
}

fn rollcall_records_text(s: &mut String, r: &SubjectRecord) {
    let _ = writeln!(s, "\nImport history ({})", r.membership_events.len());
    for e in &r.membership_events {
        let _ = writeln!(
            s,
            "  {} membership {}: {} {} → {}",
            e.occurred_on,
            e.membership_id,
            e.kind,
            e.old_value.as_deref().unwrap_or(""),
            e.new_value.as_deref().unwrap_or("")
        );
    }
    let _ = writeln!(s, "\nContact attempts ({})", r.contact_attempts.len());
    for a in &r.contact_attempts {
        let _ = writeln!(
            s,
            "  {} {} {}, by {}{}",
            a.attempted_at,
            a.channel,
            a.outcome,
            a.staff,
            note_suffix(&a.note)
        );
    }
    let _ = writeln!(s, "\nNotes ({})", r.notes.len());
    for n in &r.notes {
        let _ = writeln!(
            s,
            "  {} {} by {}: {}",
            n.created_at, n.context, n.staff, n.body
        );
    }
    let _ = writeln!(s, "\nSnoozes ({})", r.snoozes.len());
    for z in &r.snoozes {
        let _ = writeln!(
            s,
            "  membership {} until {}, by {} on {}",
            z.membership_id, z.until, z.staff, z.created_at
        );
    }
    let _ = writeln!(s, "\nAssignments ({})", r.assignments.len());
    for a in &r.assignments {
        let _ = writeln!(
            s,
            "  {}: {} (by {} on {})",
            a.queue, a.assignee, a.staff, a.assigned_at
        );
    }
    match &r.onboarding {
        Some(o) => {
            let _ = writeln!(
                s,
                "\nOnboarding: {} from {} ({} step(s) done){}",
                o.state,
                o.anchor_date,
                r.onboarding_steps.len(),
                note_suffix(&o.closed_reason)
            );
            for step in &r.onboarding_steps {
                let _ = writeln!(
                    s,
                    "  {} done {} by {}",
                    step.step_key, step.done_at, step.done_by
                );
            }
        }
        None => {
            let _ = writeln!(s, "\nOnboarding: none");
        }
    }
    let _ = writeln!(s, "\nEscalations ({})", r.escalations.len());
    for e in &r.escalations {
        let _ = writeln!(
            s,
            "  #{} {} {} {}: {} (opened {} by {}, due {}, assigned {})",
            e.id,
            e.status,
            e.priority,
            e.category,
            e.title,
            e.opened_at,
            e.opened_by,
            e.due_date,
            e.assignee.as_deref().unwrap_or("nobody")
        );
    }
    if let Some(k) = &r.retention_keep {
        let _ = writeln!(
            s,
            "\nKept past retention: {} (by {} on {})",
            k.reason, k.staff, k.kept_at
        );
    }
}

fn note_suffix(note: &str) -> String {
    if note.trim().is_empty() {
        String::new()
    } else {
        format!(" — {note}")
    }
}
