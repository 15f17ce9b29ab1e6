//! A subject access copy as files: a Markdown document the person can read (and forward), and
//! the same records as JSON for anyone who wants to process them. The records come from
//! [`crate::storage::subject_access`]; this module only formats.
//!
//! Every value is shown, empty ones as "(none)", so the person sees which fields rollcall has
//! even when it holds nothing in them. Values are CRM data and staff free text: Markdown
//! punctuation in them is escaped and control characters are dropped, so a value can neither
//! restyle the document nor reach a terminal that displays it.

use std::fmt::Write as _;

use serde_json::json;

use crate::storage::audit::AuditLine;
use crate::storage::subject_access::{Escalation, Membership, SubjectRecord};

/// Who wrote the copy and when, printed at the top of both files.
#[derive(Debug, Clone)]
pub struct Header<'a> {
    /// `YYYY-MM-DDTHH:MM:SS`.
    pub written_at: &'a str,
    pub written_by: &'a str,
}

/// The readable document.
pub fn markdown(record: &SubjectRecord, header: &Header<'_>) -> String {
    let mut doc = Document::default();
    let c = &record.contact;
    doc.line("# Everything rollcall holds about you");
    doc.blank();
    doc.line(&format!(
        "This is a copy of every record the membership team's rollcall database holds about \
         {} (contact {} in the {} CRM), written on {} by {}. rollcall is a working copy of the \
         CRM: the CRM itself may hold more, and is answered separately.",
        esc(&c.display_name),
        esc(&c.crm_id),
        esc(&c.source),
        esc(header.written_at),
        esc(header.written_by)
    ));
    doc.section("Contact details");
    for (label, value) in contact_fields(record) {
        doc.field(label, &value);
    }
    doc.section(&counted("Memberships", record.memberships.len()));
    for m in &record.memberships {
        membership(&mut doc, m);
    }
    doc.section(&counted(
        "Changes to your memberships recorded from the CRM",
        record.membership_events.len(),
    ));
    for e in &record.membership_events {
        let change = match (&e.old_value, &e.new_value) {
            (Some(old), Some(new)) => format!(": {} → {}", esc(old), esc(new)),
            (None, Some(new)) => format!(": {}", esc(new)),
            (Some(old), None) => format!(": was {}", esc(old)),
            (None, None) => String::new(),
        };
        doc.item(&format!(
            "{} — {} (membership {}){change}",
            esc(&e.occurred_on),
            esc(&e.kind.replace('_', " ")),
            e.membership_id
        ));
    }
    doc.section(&counted(
        "Changes to your details seen in the CRM's exports",
        record.field_changes.len(),
    ));
    for c in &record.field_changes {
        let shown =
            |v: &Option<String>| esc(v.as_deref().filter(|v| !v.is_empty()).unwrap_or("(none)"));
        let of = c
            .membership_id
            .map(|id| format!(" (membership {id})"))
            .unwrap_or_default();
        doc.item(&format!(
            "{} — {}{of}: {} → {}",
            esc(&c.occurred_on),
            esc(&c.field.replace('_', " ")),
            shown(&c.old_value),
            shown(&c.new_value)
        ));
    }
    doc.section(&counted("Contact attempts", record.contact_attempts.len()));
    for a in &record.contact_attempts {
        doc.item(&format!(
            "{} by {} — {}, {}{}",
            esc(&a.attempted_at),
            esc(&a.staff),
            esc(&a.channel.replace('_', " ")),
            esc(&a.outcome.replace('_', " ")),
            if a.note.is_empty() {
                String::new()
            } else {
                format!(": {}", esc(&a.note))
            }
        ));
    }
    doc.section(&counted("Notes", record.notes.len()));
    for n in &record.notes {
        doc.item(&format!(
            "{} by {} ({}): {}",
            esc(&n.created_at),
            esc(&n.staff),
            esc(or_none(&n.context)),
            esc(&n.body)
        ));
    }
    doc.section(&counted(
        "Renewal follow-ups postponed",
        record.snoozes.len(),
    ));
    for s in &record.snoozes {
        doc.item(&format!(
            "Membership {} postponed until {} by {} on {}",
            s.membership_id,
            esc(&s.until),
            esc(&s.staff),
            esc(&s.created_at)
        ));
    }
    doc.section(&counted("Staff assigned to you", record.assignments.len()));
    for a in &record.assignments {
        doc.item(&format!(
            "{} queue: {} (assigned by {} on {})",
            esc(&a.queue),
            esc(&a.assignee),
            esc(&a.staff),
            esc(&a.assigned_at)
        ));
    }
    doc.section("Onboarding");
    match &record.onboarding {
        None => doc.line("You are not in the onboarding queue."),
        Some(o) => {
            doc.field("State", &o.state);
            doc.field("Counted from", &o.anchor_date);
            doc.field("Added by", &o.added_by);
            doc.field("Added on", &o.added_at);
            doc.field("Added by hand", yes_no(o.added_by_hand));
            doc.field("Closed by", o.closed_by.as_deref().unwrap_or(""));
            doc.field("Closed on", o.closed_at.as_deref().unwrap_or(""));
            doc.field("Reason closed", &o.closed_reason);
        }
    }
    doc.blank();
    doc.line(&format!(
        "Onboarding steps done: {}",
        record.onboarding_steps.len()
    ));
    doc.blank();
    for s in &record.onboarding_steps {
        doc.item(&format!(
            "{} — done by {} on {}",
            esc(&s.step_key.replace('_', " ")),
            esc(&s.done_by),
            esc(&s.done_at)
        ));
    }
    doc.section(&counted("Escalations", record.escalations.len()));
    for e in &record.escalations {
        escalation(&mut doc, e);
    }
    doc.section("Kept past the retention period");
    match &record.retention_keep {
        None => {
            doc.line("No exception is recorded: the retention rule applies to you as to everyone.")
        }
        Some(k) => doc.item(&format!(
            "Marked to keep by {} on {}: {}",
            esc(&k.staff),
            esc(&k.kept_at),
            esc(&k.reason)
        )),
    }
    doc.section(&counted(
        "Changes made in rollcall (the audit trail)",
        record.audit_lines.len(),
    ));
    for line in &record.audit_lines {
        doc.item(&audit_line(line));
    }
    doc.text
}

/// The same records as JSON, with the header; audit lines' before/after as JSON objects.
pub fn json(record: &SubjectRecord, header: &Header<'_>) -> String {
    let mut value = serde_json::to_value(record).expect("records serialise");
    if let Some(lines) = value["audit_lines"].as_array_mut() {
        for line in lines {
            for side in ["before", "after"] {
                if let Some(text) = line[side].as_str() {
                    line[side] = serde_json::from_str(text).unwrap_or_else(|_| json!(text));
                }
            }
        }
    }
    let doc = json!({
        "subject_access": {
            "written_at": header.written_at,
            "written_by": header.written_by,
        },
        "record": value,
    });
    let mut text = serde_json::to_string_pretty(&doc).expect("JSON serialises");
    text.push('\n');
    text
}

fn contact_fields(record: &SubjectRecord) -> Vec<(&'static str, String)> {
    let c = &record.contact;
    let flag = |b: bool| yes_no(b).to_owned();
    vec![
        ("Name", c.display_name.clone()),
        ("Sort name", c.sort_name.clone()),
        ("First name", c.first_name.clone()),
        ("Last name", c.last_name.clone()),
        ("Organisation", c.organization_name.clone()),
        ("Contact type", c.contact_type.clone()),
        ("Email", c.email.clone()),
        ("Phone", c.phone.clone()),
        ("Street address", c.street_address.clone()),
        ("Town or city", c.city.clone()),
        ("Postcode", c.postcode.clone()),
        ("County", c.county.clone()),
        ("Country", c.country.clone()),
        ("Preferred language", c.preferred_language.clone()),
        ("Local party", c.local_party.clone()),
        ("Region", c.region.clone()),
        ("Constituency", c.constituency.clone()),
        ("Tags from the CRM", record.tags.join(", ")),
        ("Do not email", flag(c.do_not_email)),
        ("Do not phone", flag(c.do_not_phone)),
        ("Do not post", flag(c.do_not_mail)),
        ("Do not text", flag(c.do_not_sms)),
        ("No bulk email", flag(c.no_bulk_email)),
        ("Email on hold", flag(c.on_hold)),
        ("Recorded as deceased", flag(c.is_deceased)),
        ("Date of death", c.deceased_date.clone().unwrap_or_default()),
        ("CRM contact id", c.crm_id.clone()),
        ("CRM", c.source.clone()),
        ("rollcall id", c.id.to_string()),
    ]
}

fn membership(doc: &mut Document, m: &Membership) {
    doc.subsection(&format!(
        "Membership {}: {}",
        m.id,
        esc(or_none(&m.membership_type))
    ));
    doc.field(
        "CRM membership id",
        m.crm_membership_id.as_deref().unwrap_or(""),
    );
    doc.field("Member since", m.join_date.as_deref().unwrap_or(""));
    doc.field("Start date", m.start_date.as_deref().unwrap_or(""));
    doc.field(
        "End date",
        m.end_date.as_deref().unwrap_or("none (lifetime)"),
    );
    doc.field("Status in the CRM", &m.crm_status);
    doc.field("How you joined", &m.membership_source);
    doc.field("Renews automatically", yes_no(m.auto_renew));
}

fn escalation(doc: &mut Document, e: &Escalation) {
    doc.subsection(&format!("Escalation {}: {}", e.id, esc(&e.title)));
    doc.field("Kind", &e.category.replace('_', " "));
    doc.field("Priority", &e.priority);
    doc.field("Status", &e.status.replace('_', " "));
    doc.field("Opened", &format!("{} by {}", e.opened_at, e.opened_by));
    doc.field("Due", &e.due_date);
    doc.field("Assigned to", e.assignee.as_deref().unwrap_or(""));
    doc.field("Description", &e.description);
    doc.field("Resolved", e.resolved_at.as_deref().unwrap_or(""));
    doc.field("Resolution", &e.resolution);
    if let Some(m) = e.membership_id {
        doc.field("About membership", &m.to_string());
    }
    doc.blank();
    doc.line(&format!("Timeline ({}):", e.events.len()));
    doc.blank();
    for ev in &e.events {
        let change = match (&ev.old_value, &ev.new_value) {
            (Some(old), Some(new)) => format!(" {} → {}", esc(old), esc(new)),
            (None, Some(new)) => format!(" {}", esc(new)),
            _ => String::new(),
        };
        let body = if ev.body.is_empty() {
            String::new()
        } else {
            format!(": {}", esc(&ev.body))
        };
        doc.item(&format!(
            "{} by {} — {}{change}{body}",
            esc(&ev.at),
            esc(&ev.staff),
            esc(&ev.kind)
        ));
    }
}

fn audit_line(line: &AuditLine) -> String {
    let mut text = format!(
        "{} by {} — {} {}",
        esc(&line.at),
        esc(&line.staff),
        esc(&line.action),
        esc(&line.entity)
    );
    if let Some(id) = line.entity_id {
        let _ = write!(text, " {id}");
    }
    for (label, side) in [("before", &line.before), ("after", &line.after)] {
        if let Some(json) = side {
            let _ = write!(text, "; {label}: {}", esc(json));
        }
    }
    text
}

fn counted(title: &str, n: usize) -> String {
    format!("{title} ({n})")
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn or_none(s: &str) -> &str {
    if s.is_empty() { "(none)" } else { s }
}

/// `text` safe inside a Markdown line: control characters dropped (line breaks become spaces),
/// Markdown punctuation escaped.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// The document being written, a line at a time.
#[derive(Default)]
struct Document {
    text: String,
}

impl Document {
    fn line(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
    }

    /// Ends the paragraph: one empty line, however many sections ask for one.
    fn blank(&mut self) {
        if !self.text.ends_with("\n\n") {
            self.text.push('\n');
        }
    }

    fn section(&mut self, title: &str) {
        self.blank();
        self.line(&format!("## {title}"));
        self.blank();
    }

    fn subsection(&mut self, title: &str) {
        self.blank();
        self.line(&format!("### {title}"));
        self.blank();
    }

    /// A labelled value (escaped here), "(none)" when empty.
    fn field(&mut self, label: &str, value: &str) {
        self.line(&format!("- **{label}:** {}", esc(or_none(value))));
    }

    /// A list item already escaped.
    fn item(&mut self, text: &str) {
        self.line(&format!("- {text}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_cannot_restyle_the_document_or_reach_a_terminal() {
        assert_eq!(esc("O'Neill-Jones"), "O'Neill-Jones");
        assert_eq!(esc("**bold** [x](y)"), "\\*\\*bold\\*\\* \\[x\\](y)");
        assert_eq!(
            esc("line\nbreak\u{1b}]0;title\u{7}"),
            "line break\\]0;title"
        );
        assert_eq!(esc("a_b@example.org"), "a\\_b@example.org");
    }
}
