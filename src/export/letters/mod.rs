//! Letters and emails to members as files: the templates (built in, or the organisation's own
//! from the config directory), the PDF of letters ([`pdf`]) and the mail-merge CSV of emails.
//! The rules (fields, languages, who is left out) are in [`crate::domain::letters`].

pub mod batch;
pub mod eml;
pub mod pdf;

use std::path::Path;

use anyhow::Context as _;

use super::csv_safe::SafeCsvWriter;
use crate::domain::letters::{Language, LetterKind, Rendered, Template, TemplateSet};

/// The example templates in assets/letters, compiled in.
fn built_in(kind: LetterKind, language: Language) -> &'static str {
    use Language::{English, Welsh};
    use LetterKind::{Lapsed, RenewalDue, Welcome};
    match (kind, language) {
        (RenewalDue, English) => include_str!("../../../assets/letters/renewal-due.en.txt"),
        (RenewalDue, Welsh) => include_str!("../../../assets/letters/renewal-due.cy.txt"),
        (Lapsed, English) => include_str!("../../../assets/letters/lapsed.en.txt"),
        (Lapsed, Welsh) => include_str!("../../../assets/letters/lapsed.cy.txt"),
        (Welcome, English) => include_str!("../../../assets/letters/welcome.en.txt"),
        (Welcome, Welsh) => include_str!("../../../assets/letters/welcome.cy.txt"),
    }
}

/// The templates for `kind`: for each language, `<dir>/<kind>.<lang>.txt` when the organisation
/// keeps one there (`dir` is `letters/` in the config directory), else the built-in example.
/// A template that does not parse is an error naming its file, line and column.
pub fn load_templates(kind: LetterKind, dir: Option<&Path>) -> anyhow::Result<TemplateSet> {
    let load = |language: Language| -> anyhow::Result<Template> {
        let name = kind.file_name(language);
        match dir.map(|d| d.join(&name)).filter(|p| p.is_file()) {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                Ok(Template::parse(&text, &path.display().to_string())?)
            }
            None => Ok(Template::parse(
                built_in(kind, language),
                &format!("assets/letters/{name}"),
            )?),
        }
    };
    Ok(TemplateSet {
        english: load(Language::English)?,
        welsh: load(Language::Welsh)?,
    })
}

/// One email for the mail-merge file.
#[derive(Debug, Clone)]
pub struct Email<'a> {
    pub contact_id: &'a str,
    pub address: &'a str,
    /// "cy", "en", or "cy+en" for a bilingual one.
    pub languages: String,
    pub message: &'a Rendered,
}

/// A mail-merge CSV of emails (Contact ID, Email, Language, Subject, Body), every cell
/// formula-safe, UTF-8 with a byte-order mark and CRLF.
pub fn emails_csv(emails: &[Email]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut csv = SafeCsvWriter::new(&mut out)?;
    csv.write_record(["Contact ID", "Email", "Language", "Subject", "Body"])?;
    for e in emails {
        csv.write_record([
            e.contact_id,
            e.address,
            &e.languages,
            &e.message.subject,
            &e.message.body,
        ])?;
    }
    csv.flush()?;
    drop(csv);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_template_parses() {
        for kind in LetterKind::ALL {
            load_templates(kind, None).unwrap();
        }
    }

    #[test]
    fn the_organisations_own_template_overrides_and_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("welcome.cy.txt"),
            "Subject: Croeso\n\nShwmae {first_name}!",
        )
        .unwrap();
        let set = load_templates(LetterKind::Welcome, Some(dir.path())).unwrap();
        assert_eq!(
            set.welsh,
            Template::parse("Subject: Croeso\n\nShwmae {first_name}!", "x").unwrap()
        );
        std::fs::write(dir.path().join("lapsed.en.txt"), "Subject: x\n\n{name}").unwrap();
        let err = load_templates(LetterKind::Lapsed, Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(err.ends_with("lapsed.en.txt:3:1: unknown field `{name}`; the fields are first_name, last_name, membership_type, end_date, local_party, renew_link, sender_name"), "{err}");
    }

    #[test]
    fn an_email_body_cannot_run_as_a_formula() {
        let message = Rendered {
            subject: "=HYPERLINK(\"x\")".into(),
            body: "Dear Siân".into(),
        };
        let csv = emails_csv(&[Email {
            contact_id: "1",
            address: "a@example.org",
            languages: "cy".into(),
            message: &message,
        }])
        .unwrap();
        let text = String::from_utf8(csv).unwrap();
        assert!(text.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{text}");
    }
}
