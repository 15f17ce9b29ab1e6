//! Letters and emails to members: the template language, dates as a reader writes them, which
//! language(s) a member is written to in, and who is left out.
//!
//! Pure: the templates arrive as text (with the name of the file they came from, for errors),
//! the member as plain values. Loading files, laying out pages and recording what was sent live
//! in `export::letters`, `storage::letters` and `cli::letters`. See docs/letters.md.
//!
//! ## Templates
//! A template is plain text. Its first line is `Subject: …` (the email's subject, the letter's
//! heading), then one blank line, then the body. `{field}` is replaced by the member's value (see
//! [`Field`]); `{{` and `}}` are a literal brace. An unknown field or a `{` that is never closed
//! is refused with the file, line and column, before anything is written.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use super::ContactFlags;
use super::renewal::{self, LastContact, ListPurpose, Outcome};

/// The languages rollcall writes to members in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    English,
    Welsh,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::English, Language::Welsh];

    /// The code in template file names: `renewal-due.en.txt`, `renewal-due.cy.txt`.
    pub fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Welsh => "cy",
        }
    }

    /// "Member" / "Aelod": the greeting's name when the CRM has no first name.
    fn no_first_name(self) -> &'static str {
        match self {
            Language::English => "Member",
            Language::Welsh => "Aelod",
        }
    }
}

const ENGLISH_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const WELSH_MONTHS: [&str; 12] = [
    "Ionawr",
    "Chwefror",
    "Mawrth",
    "Ebrill",
    "Mai",
    "Mehefin",
    "Gorffennaf",
    "Awst",
    "Medi",
    "Hydref",
    "Tachwedd",
    "Rhagfyr",
];

/// A date as a person writes it in a letter: "14 December 2026", "14 Rhagfyr 2026". Day without
/// a leading zero; no ordinal, since Welsh ordinals mutate and "14 Rhagfyr" is how Welsh public
/// bodies date letters.
pub fn long_date(date: NaiveDate, language: Language) -> String {
    let months = match language {
        Language::English => &ENGLISH_MONTHS,
        Language::Welsh => &WELSH_MONTHS,
    };
    format!(
        "{} {} {}",
        date.day(),
        months[date.month0() as usize],
        date.year()
    )
}

/// Which letter: the file stem of its templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LetterKind {
    RenewalDue,
    Lapsed,
    Welcome,
}

impl LetterKind {
    pub const ALL: [LetterKind; 3] = [
        LetterKind::RenewalDue,
        LetterKind::Lapsed,
        LetterKind::Welcome,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LetterKind::RenewalDue => "renewal-due",
            LetterKind::Lapsed => "lapsed",
            LetterKind::Welcome => "welcome",
        }
    }

    /// The template's file name for `language`: `renewal-due.cy.txt`.
    pub fn file_name(self, language: Language) -> String {
        format!("{}.{}.txt", self.as_str(), language.code())
    }
}

/// The fields a template may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    FirstName,
    LastName,
    MembershipType,
    /// The membership's end date, in [`long_date`] form.
    EndDate,
    LocalParty,
    /// `[letters] renew_link` in config.toml.
    RenewLink,
    /// `[letters] sender_name` in config.toml.
    SenderName,
}

impl Field {
    pub const ALL: [Field; 7] = [
        Field::FirstName,
        Field::LastName,
        Field::MembershipType,
        Field::EndDate,
        Field::LocalParty,
        Field::RenewLink,
        Field::SenderName,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::MembershipType => "membership_type",
            Field::EndDate => "end_date",
            Field::LocalParty => "local_party",
            Field::RenewLink => "renew_link",
            Field::SenderName => "sender_name",
        }
    }

    pub fn parse(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// A template refused: where, and why. Displays as `file:line:column: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub origin: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.origin, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for TemplateError {}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(Field),
}

/// Text with fields, parsed once and rendered per member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    parts: Vec<Part>,
}

impl Text {
    fn render(&self, values: &Values, out: &mut String) {
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Field(f) => out.push_str(values.get(*f)),
            }
        }
    }
}

/// A parsed template: subject and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    subject: Text,
    body: Text,
}

const SUBJECT: &str = "Subject:";

impl Template {
    /// Parses template text; `origin` (the file) names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Template, TemplateError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let err = |line: usize, column: usize, message: String| TemplateError {
            origin: origin.to_owned(),
            line,
            column,
            message,
        };
        let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
        let Some(subject) = first.trim_end_matches('\r').strip_prefix(SUBJECT) else {
            return Err(err(
                1,
                1,
                format!("a template starts with a `{SUBJECT} …` line, then a blank line"),
            ));
        };
        let subject_column = SUBJECT.chars().count() + 1;
        let subject = parse_text(subject, 1, subject_column, &err)?;
        let (body, body_line) = match rest.split_once('\n') {
            Some((blank, body)) if blank.trim().is_empty() => (body, 3),
            _ if rest.trim().is_empty() => (rest, 2),
            _ => {
                return Err(err(
                    2,
                    1,
                    "the line after the subject must be blank".to_owned(),
                ));
            }
        };
        let body = parse_text(body, body_line, 1, &err)?;
        Ok(Template {
            subject: trim_text(subject),
            body,
        })
    }

    /// The subject and body for one member.
    pub fn render(&self, values: &Values) -> Rendered {
        let mut subject = String::new();
        self.subject.render(values, &mut subject);
        let mut body = String::new();
        self.body.render(values, &mut body);
        Rendered {
            subject,
            body: body.trim_end().to_owned(),
        }
    }
}

fn trim_text(mut text: Text) -> Text {
    if let Some(Part::Text(t)) = text.parts.first_mut() {
        *t = t.trim_start().to_owned();
    }
    if let Some(Part::Text(t)) = text.parts.last_mut() {
        *t = t.trim_end().to_owned();
    }
    text
}

/// Parses `{field}` text that starts at `line`, `column` of the file.
fn parse_text(
    text: &str,
    mut line: usize,
    mut column: usize,
    err: &dyn Fn(usize, usize, String) -> TemplateError,
) -> Result<Text, TemplateError> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let (at_line, at_column) = (line, column);
        column += 1;
        match c {
            '\n' => {
                line += 1;
                column = 1;
                literal.push(c);
            }
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                column += 1;
                literal.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                column += 1;
                literal.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some('\n') | None => {
                            return Err(err(
                                at_line,
                                at_column,
                                "`{` is never closed: write `{field}`, or `{{` for a brace"
                                    .to_owned(),
                            ));
                        }
                        Some(ch) => name.push(ch),
                    }
                }
                column += name.chars().count() + 1;
                let Some(field) = Field::parse(name.trim()) else {
                    let known: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
                    return Err(err(
                        at_line,
                        at_column,
                        format!(
                            "unknown field `{{{name}}}`; the fields are {}",
                            known.join(", ")
                        ),
                    ));
                };
                if !literal.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut literal)));
                }
                parts.push(Part::Field(field));
            }
            '\r' => {}
            _ => literal.push(c),
        }
    }
    if !literal.is_empty() {
        parts.push(Part::Text(literal));
    }
    Ok(Text { parts })
}

/// What the fields stand for, for one member in one language.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values {
    values: [String; Field::ALL.len()],
}

impl Values {
    pub fn get(&self, field: Field) -> &str {
        &self.values[field as usize]
    }

    pub fn set(&mut self, field: Field, value: impl Into<String>) -> &mut Self {
        self.values[field as usize] = value.into();
        self
    }
}

/// The member as a letter needs them (one membership: the one the letter is about).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipient {
    pub first_name: String,
    pub last_name: String,
    /// The name on the envelope.
    pub name: String,
    pub membership_type: String,
    pub end_date: Option<NaiveDate>,
    pub local_party: String,
    pub welsh: bool,
}

/// What the organisation fills in the same for everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sender {
    pub name: String,
    pub renew_link: String,
}

/// The field values for `recipient` in `language`.
pub fn values(recipient: &Recipient, sender: &Sender, language: Language) -> Values {
    let first = recipient.first_name.trim();
    let mut v = Values::default();
    v.set(
        Field::FirstName,
        if first.is_empty() {
            language.no_first_name()
        } else {
            first
        },
    )
    .set(Field::LastName, recipient.last_name.trim())
    .set(Field::MembershipType, recipient.membership_type.trim())
    .set(
        Field::EndDate,
        recipient
            .end_date
            .map(|d| long_date(d, language))
            .unwrap_or_default(),
    )
    .set(Field::LocalParty, recipient.local_party.trim())
    .set(Field::RenewLink, sender.renew_link.trim())
    .set(Field::SenderName, sender.name.trim());
    v
}

/// The languages a member is written to in, in order: Welsh-preferring members get Welsh first
/// and, when the organisation writes bilingually, English after it; everyone else English.
pub fn languages(welsh: bool, bilingual: bool) -> Vec<Language> {
    match (welsh, bilingual) {
        (true, true) => vec![Language::Welsh, Language::English],
        (true, false) => vec![Language::Welsh],
        (false, _) => vec![Language::English],
    }
}

/// A subject and body, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// Between the Welsh and the English of a bilingual letter.
pub const LANGUAGE_BREAK: &str = "— — —";

/// The member's letter: each language's rendering in order, joined. A bilingual subject is
/// "Welsh / English"; the bodies are separated by [`LANGUAGE_BREAK`] on a line of its own.
pub fn compose(parts: &[Rendered]) -> Rendered {
    let subject: Vec<&str> = parts.iter().map(|p| p.subject.as_str()).collect();
    let body: Vec<&str> = parts.iter().map(|p| p.body.as_str()).collect();
    Rendered {
        subject: subject.join(" / "),
        body: body.join(&format!("\n\n{LANGUAGE_BREAK}\n\n")),
    }
}

/// The templates of one kind, one per language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateSet {
    pub english: Template,
    pub welsh: Template,
}

impl TemplateSet {
    pub fn get(&self, language: Language) -> &Template {
        match language {
            Language::English => &self.english,
            Language::Welsh => &self.welsh,
        }
    }

    /// The whole letter for `recipient`, in their language(s).
    pub fn letter(&self, recipient: &Recipient, sender: &Sender, bilingual: bool) -> Rendered {
        let parts: Vec<Rendered> = languages(recipient.welsh, bilingual)
            .into_iter()
            .map(|l| self.get(l).render(&values(recipient, sender, l)))
            .collect();
        compose(&parts)
    }
}

/// How a letter reaches the member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Medium {
    Letter,
    Email,
}

impl Medium {
    fn purpose(self) -> ListPurpose {
        match self {
            Medium::Letter => ListPurpose::Letter,
            Medium::Email => ListPurpose::Email,
        }
    }

    pub fn channel(self) -> renewal::Channel {
        self.purpose().channel()
    }
}

/// What the exclusion rules look at.
#[derive(Debug, Clone, Copy)]
pub struct Reach<'a> {
    pub flags: &'a ContactFlags,
    pub last_contact: Option<&'a LastContact>,
    pub has_postal_address: bool,
    pub has_email: bool,
}

/// Why a member gets no letter (or email), if they get none: deceased; the channel's
/// preferences, as every list rollcall hands on applies them ([`renewal::list_exclusion`]:
/// Do Not Mail for letters; Do Not Email, On Hold and No Bulk Emails for email; asked not to be
/// contacted); settled by their last contact (said they renewed or declined); or nothing to
/// address it to. A reason names the rule, never the person.
pub fn left_out(medium: Medium, reach: Reach) -> Option<&'static str> {
    if reach.flags.deceased {
        return Some("deceased");
    }
    if let Some(why) = renewal::list_exclusion(medium.purpose(), reach.flags, reach.last_contact) {
        return Some(why);
    }
    if reach
        .last_contact
        .and_then(|l| Outcome::parse(&l.outcome))
        .is_some_and(Outcome::settles)
    {
        return Some("settled by last contact");
    }
    match medium {
        Medium::Letter if !reach.has_postal_address => Some("no postal address"),
        Medium::Email if !reach.has_email => Some("no email address"),
        _ => None,
    }
}

/// Countries a UK letter leaves off the envelope (Royal Mail: no country line for inland post).
fn is_home_country(country: &str) -> bool {
    matches!(
        country.trim().to_ascii_lowercase().as_str(),
        "" | "united kingdom" | "uk" | "gb" | "great britain" | "the united kingdom"
    )
}

/// A postal address as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostalAddress {
    /// May hold line breaks (CRM exports carry multi-line streets).
    pub street: String,
    pub city: String,
    pub county: String,
    pub postcode: String,
    pub country: String,
}

impl PostalAddress {
    pub fn is_usable(&self) -> bool {
        !self.street.trim().is_empty() && !self.postcode.trim().is_empty()
    }
}

/// The lines in the envelope window: name, street lines, town, county, postcode, and the
/// country when it is abroad. Blank parts are dropped.
pub fn address_lines(name: &str, address: &PostalAddress) -> Vec<String> {
    let mut lines = vec![name.trim().to_owned()];
    lines.extend(address.street.lines().map(|l| l.trim().to_owned()));
    lines.push(address.city.trim().to_owned());
    lines.push(address.county.trim().to_owned());
    lines.push(address.postcode.trim().to_owned());
    if !is_home_country(&address.country) {
        lines.push(address.country.trim().to_owned());
    }
    lines.retain(|l| !l.is_empty());
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn recipient() -> Recipient {
        Recipient {
            first_name: "Siân".into(),
            last_name: "Llŷr".into(),
            name: "Siân Llŷr".into(),
            membership_type: "Individual".into(),
            end_date: Some(d("2026-12-14")),
            local_party: "Cardiff West".into(),
            welsh: true,
        }
    }

    fn sender() -> Sender {
        Sender {
            name: "Membership Team".into(),
            renew_link: "https://example.org/renew".into(),
        }
    }

    #[test]
    fn dates_read_as_people_write_them_in_each_language() {
        assert_eq!(
            long_date(d("2026-12-14"), Language::English),
            "14 December 2026"
        );
        assert_eq!(
            long_date(d("2026-12-14"), Language::Welsh),
            "14 Rhagfyr 2026"
        );
        assert_eq!(
            long_date(d("2027-02-01"), Language::Welsh),
            "1 Chwefror 2027"
        );
        assert_eq!(
            long_date(d("2027-07-09"), Language::Welsh),
            "9 Gorffennaf 2027"
        );
        for (m, name) in WELSH_MONTHS.iter().enumerate() {
            let date = NaiveDate::from_ymd_opt(2026, m as u32 + 1, 3).unwrap();
            assert_eq!(long_date(date, Language::Welsh), format!("3 {name} 2026"));
        }
    }

    #[test]
    fn fields_are_substituted_in_each_language() {
        let t = Template::parse(
            "Subject: Renew, {first_name}\n\nDear {first_name} {last_name},\n\
             Your {membership_type} membership with {local_party} ends on {end_date}.\n\
             {renew_link}\n{sender_name}\n",
            "t.en.txt",
        )
        .unwrap();
        let out = t.render(&values(&recipient(), &sender(), Language::English));
        assert_eq!(out.subject, "Renew, Siân");
        assert_eq!(
            out.body,
            "Dear Siân Llŷr,\nYour Individual membership with Cardiff West ends on \
             14 December 2026.\nhttps://example.org/renew\nMembership Team"
        );
        let cy = Template::parse("Subject: Adnewyddu\n\nDaw i ben ar {end_date}.", "t.cy.txt")
            .unwrap()
            .render(&values(&recipient(), &sender(), Language::Welsh));
        assert_eq!(cy.body, "Daw i ben ar 14 Rhagfyr 2026.");
    }

    #[test]
    fn doubled_braces_are_literal_and_a_missing_first_name_is_greeted_politely() {
        let t = Template::parse("Subject: x\n\n{{not a field}} Dear {first_name}", "t").unwrap();
        let mut r = recipient();
        r.first_name = " ".into();
        assert_eq!(
            t.render(&values(&r, &sender(), Language::English)).body,
            "{not a field} Dear Member"
        );
        assert_eq!(
            t.render(&values(&r, &sender(), Language::Welsh)).body,
            "{not a field} Dear Aelod"
        );
    }

    #[test]
    fn an_unknown_field_is_refused_with_file_line_and_column() {
        let err = Template::parse(
            "Subject: Hi\n\nDear {first_name},\nSee  {frist_name}\n",
            "x.txt",
        )
        .unwrap_err();
        assert_eq!((err.line, err.column), (4, 6), "{err}");
        assert!(
            err.to_string()
                .starts_with("x.txt:4:6: unknown field `{frist_name}`"),
            "{err}"
        );
        assert!(
            err.to_string().contains("first_name"),
            "lists the fields: {err}"
        );
    }

    #[test]
    fn an_unclosed_brace_is_refused_where_it_opens() {
        let err = Template::parse("Subject: Hi {first_name\n\nBody", "s.txt").unwrap_err();
        assert_eq!(
            err.to_string().split(": ").next(),
            Some("s.txt:1:13"),
            "{err}"
        );
        let err =
            Template::parse("Subject: Hi\n\nline\n  Dear {first_name\nmore", "b.txt").unwrap_err();
        assert_eq!((err.line, err.column), (4, 8), "{err}");
        assert!(err.message.contains("never closed"), "{err}");
    }

    #[test]
    fn a_template_without_a_subject_line_is_refused() {
        let err = Template::parse("Dear {first_name}", "n.txt").unwrap_err();
        assert_eq!((err.line, err.column), (1, 1));
        let err = Template::parse("Subject: x\nDear", "n.txt").unwrap_err();
        assert_eq!((err.line, err.column), (2, 1));
    }

    #[test]
    fn welsh_first_when_bilingual_welsh_only_otherwise() {
        assert_eq!(
            languages(true, true),
            vec![Language::Welsh, Language::English]
        );
        assert_eq!(languages(true, false), vec![Language::Welsh]);
        assert_eq!(languages(false, true), vec![Language::English]);
        let set = TemplateSet {
            english: Template::parse("Subject: Renew\n\nDear {first_name}", "e").unwrap(),
            welsh: Template::parse("Subject: Adnewyddu\n\nAnnwyl {first_name}", "c").unwrap(),
        };
        let both = set.letter(&recipient(), &sender(), true);
        assert_eq!(both.subject, "Adnewyddu / Renew");
        assert_eq!(
            both.body,
            format!("Annwyl Siân\n\n{LANGUAGE_BREAK}\n\nDear Siân")
        );
        assert_eq!(
            set.letter(&recipient(), &sender(), false).body,
            "Annwyl Siân"
        );
    }

    #[test]
    fn do_not_mail_deceased_and_settled_members_are_left_out() {
        let flags = ContactFlags::default();
        let reach = Reach {
            flags: &flags,
            last_contact: None,
            has_postal_address: true,
            has_email: true,
        };
        assert_eq!(left_out(Medium::Letter, reach), None);
        let no_mail = ContactFlags {
            do_not_mail: true,
            ..flags
        };
        let r = Reach {
            flags: &no_mail,
            ..reach
        };
        assert_eq!(left_out(Medium::Letter, r), Some("Do Not Mail"));
        assert_eq!(left_out(Medium::Email, r), None);
        let no_bulk = ContactFlags {
            no_bulk_email: true,
            ..flags
        };
        let r = Reach {
            flags: &no_bulk,
            ..reach
        };
        assert_eq!(left_out(Medium::Email, r), Some("No Bulk Emails"));
        let dead = ContactFlags {
            deceased: true,
            ..flags
        };
        let r = Reach {
            flags: &dead,
            ..reach
        };
        assert_eq!(left_out(Medium::Letter, r), Some("deceased"));
        let renewed = LastContact {
            id: 1,
            at: "2026-11-20T10:00:00".into(),
            channel: "phone".into(),
            outcome: "renewed".into(),
            staff: "ann".into(),
        };
        let r = Reach {
            last_contact: Some(&renewed),
            ..reach
        };
        assert_eq!(left_out(Medium::Letter, r), Some("settled by last contact"));
        let r = Reach {
            has_postal_address: false,
            ..reach
        };
        assert_eq!(left_out(Medium::Letter, r), Some("no postal address"));
    }

    #[test]
    fn the_window_shows_the_address_without_the_home_country() {
        let address = PostalAddress {
            street: "Flat 2\n1 Heol y Frenhines".into(),
            city: "Caerdydd".into(),
            county: "".into(),
            postcode: "CF10 2AA".into(),
            country: "United Kingdom".into(),
        };
        assert_eq!(
            address_lines("Siân Llŷr", &address),
            [
                "Siân Llŷr",
                "Flat 2",
                "1 Heol y Frenhines",
                "Caerdydd",
                "CF10 2AA"
            ]
        );
        let abroad = PostalAddress {
            country: "Ireland".into(),
            ..address
        };
        assert_eq!(address_lines("A", &abroad).last().unwrap(), "Ireland");
    }
}
