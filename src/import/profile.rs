//! Profiles: which column of an export holds which field.
//!
//! A profile is a table of header aliases per field. Headers are compared after normalising
//! (case, spaces, `_`, `-` and punctuation do not matter), so `Membership Source`,
//! `membership_source` and `MEMBERSHIP-SOURCE` are the same header. Location-typed CiviCRM
//! headers (`Home-Email`, `Work-Phone-Mobile`) match the field without their location. When
//! several columns match one field, the first non-empty value in header order wins (`Email` before
//! `Home-Email`).
//!
//! Built in: `civicrm`, `nationbuilder`, `actionnetwork`. Anything else: a TOML mapping file (see
//! `assets/mappings/example.toml`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;
use toml::Spanned;

use super::DateOrder;
use crate::text;

/// A field rollcall reads from an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    ContactId,
    ContactType,
    DisplayName,
    SortName,
    FirstName,
    LastName,
    OrganizationName,
    Email,
    Phone,
    StreetAddress,
    SupplementalAddress1,
    SupplementalAddress2,
    SupplementalAddress3,
    City,
    Postcode,
    County,
    Country,
    PreferredLanguage,
    DoNotEmail,
    DoNotPhone,
    DoNotMail,
    DoNotSms,
    NoBulkEmail,
    /// The opposite of `NoBulkEmail` (NationBuilder's `email_opt_in`).
    EmailOptIn,
    /// Sets all four "do not" flags (NationBuilder's `do_not_contact`).
    DoNotContact,
    OnHold,
    IsDeceased,
    DeceasedDate,
    LocalParty,
    Region,
    Constituency,
    MembershipId,
    MembershipType,
    JoinDate,
    StartDate,
    EndDate,
    MembershipStatus,
    MembershipSource,
    AutoRenew,
    /// A recurring contribution's id: filled means the membership renews automatically.
    RecurringContribution,
    /// An email subscription's state (Action Network's `can2_subscription_status`):
    /// `unsubscribed` sets "no bulk email", `bouncing` sets "on hold".
    SubscriptionStatus,
    /// Membership types with no dates or status, comma-separated in one cell (NationBuilder's
    /// `membership_names`): one membership per name, marked "dates unknown".
    MembershipNames,
    /// The contact's tags, comma-separated in one cell (NationBuilder's `tag_list`, Action
    /// Network's `can2_user_tags`). CRM data: each import replaces rollcall's copy.
    Tags,
}

impl Field {
    pub const ALL: [Field; 43] = [
        Field::ContactId,
        Field::ContactType,
        Field::DisplayName,
        Field::SortName,
        Field::FirstName,
        Field::LastName,
        Field::OrganizationName,
        Field::Email,
        Field::Phone,
        Field::StreetAddress,
        Field::SupplementalAddress1,
        Field::SupplementalAddress2,
        Field::SupplementalAddress3,
        Field::City,
        Field::Postcode,
        Field::County,
        Field::Country,
        Field::PreferredLanguage,
        Field::DoNotEmail,
        Field::DoNotPhone,
        Field::DoNotMail,
        Field::DoNotSms,
        Field::NoBulkEmail,
        Field::EmailOptIn,
        Field::DoNotContact,
        Field::OnHold,
        Field::IsDeceased,
        Field::DeceasedDate,
        Field::LocalParty,
        Field::Region,
        Field::Constituency,
        Field::MembershipId,
        Field::MembershipType,
        Field::JoinDate,
        Field::StartDate,
        Field::EndDate,
        Field::MembershipStatus,
        Field::MembershipSource,
        Field::AutoRenew,
        Field::RecurringContribution,
        Field::SubscriptionStatus,
        Field::MembershipNames,
        Field::Tags,
    ];

    /// The name a mapping file uses.
    pub fn key(self) -> &'static str {
        match self {
            Field::ContactId => "contact_id",
            Field::ContactType => "contact_type",
            Field::DisplayName => "display_name",
            Field::SortName => "sort_name",
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::OrganizationName => "organization_name",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::StreetAddress => "street_address",
            Field::SupplementalAddress1 => "supplemental_address_1",
            Field::SupplementalAddress2 => "supplemental_address_2",
            Field::SupplementalAddress3 => "supplemental_address_3",
            Field::City => "city",
            Field::Postcode => "postcode",
            Field::County => "county",
            Field::Country => "country",
            Field::PreferredLanguage => "preferred_language",
            Field::DoNotEmail => "do_not_email",
            Field::DoNotPhone => "do_not_phone",
            Field::DoNotMail => "do_not_mail",
            Field::DoNotSms => "do_not_sms",
            Field::NoBulkEmail => "no_bulk_email",
            Field::EmailOptIn => "email_opt_in",
            Field::DoNotContact => "do_not_contact",
            Field::OnHold => "on_hold",
            Field::IsDeceased => "is_deceased",
            Field::DeceasedDate => "deceased_date",
            Field::LocalParty => "local_party",
            Field::Region => "region",
            Field::Constituency => "constituency",
            Field::MembershipId => "membership_id",
            Field::MembershipType => "membership_type",
            Field::JoinDate => "join_date",
            Field::StartDate => "start_date",
            Field::EndDate => "end_date",
            Field::MembershipStatus => "membership_status",
            Field::MembershipSource => "membership_source",
            Field::AutoRenew => "auto_renew",
            Field::RecurringContribution => "recurring_contribution",
            Field::SubscriptionStatus => "subscription_status",
            Field::MembershipNames => "membership_names",
            Field::Tags => "tags",
        }
    }

    /// How messages name the field when the file has no column for it.
    pub fn label(self) -> &'static str {
        match self {
            Field::ContactId => "Contact ID",
            Field::MembershipId => "Membership ID",
            Field::MembershipType => "Membership Type",
            _ => self.key(),
        }
    }

    pub fn from_key(key: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.key() == key)
    }

    /// Fields that describe a membership: an export with none of them is contact-only.
    pub fn is_membership(self) -> bool {
        matches!(
            self,
            Field::MembershipId
                | Field::MembershipType
                | Field::JoinDate
                | Field::StartDate
                | Field::EndDate
                | Field::MembershipStatus
                | Field::MembershipNames
        )
    }
}

/// Custom fields most CRMs carry under these titles.
const CUSTOM_ALIASES: &[(Field, &[&str])] = &[
    (
        Field::LocalParty,
        &[
            "Local Party",
            "Local Party / Branch",
            "Local Party or Branch",
            "Branch",
            "Local Branch",
            "local_party",
        ],
    ),
    (Field::Region, &["Region", "Regional Party", "region"]),
    (
        Field::Constituency,
        &[
            "Constituency",
            "Parliamentary Constituency",
            "Westminster Constituency",
        ],
    ),
];

/// CiviCRM: field titles as the export writes them, across versions, plus the raw keys older
/// exports carry.
const CIVICRM: &[(Field, &[&str])] = &[
    (
        Field::ContactId,
        &[
            "Contact ID",
            "Internal Contact ID",
            "contact_id",
            "civicrm_contact_id",
            "civicrm_primary_id",
        ],
    ),
    (Field::ContactType, &["Contact Type", "contact_type"]),
    (Field::DisplayName, &["Display Name", "display_name"]),
    (Field::SortName, &["Sort Name", "sort_name"]),
    (Field::FirstName, &["First Name", "first_name"]),
    (Field::LastName, &["Last Name", "last_name"]),
    (
        Field::OrganizationName,
        &[
            "Organization Name",
            "Organisation Name",
            "organization_name",
        ],
    ),
    (Field::Email, &["Email", "email", "Primary Email"]),
    (Field::Phone, &["Phone", "phone", "Primary Phone"]),
    (Field::StreetAddress, &["Street Address", "street_address"]),
    (
        Field::SupplementalAddress1,
        &[
            "Supplemental Address 1",
            "Additional Address 1",
            "Addt'l Address 1",
        ],
    ),
    (
        Field::SupplementalAddress2,
        &[
            "Supplemental Address 2",
            "Additional Address 2",
            "Addt'l Address 2",
        ],
    ),
    (Field::SupplementalAddress3, &["Supplemental Address 3"]),
    (Field::City, &["City", "city"]),
    (
        Field::Postcode,
        &[
            "Postal Code",
            "postal_code",
            "Postcode",
            "Zip / Postal Code",
        ],
    ),
    (
        Field::County,
        &[
            "State",
            "State/Province",
            "state_province",
            "County",
            "county",
        ],
    ),
    (Field::Country, &["Country", "country"]),
    (
        Field::PreferredLanguage,
        &["Preferred Language", "preferred_language"],
    ),
    (Field::DoNotEmail, &["Do Not Email", "do_not_email"]),
    (Field::DoNotPhone, &["Do Not Phone", "do_not_phone"]),
    (Field::DoNotMail, &["Do Not Mail", "do_not_mail"]),
    (Field::DoNotSms, &["Do Not Sms", "do_not_sms"]),
    (
        Field::NoBulkEmail,
        &[
            "No Bulk Emails (User Opt Out)",
            "No Bulk Emails",
            "is_opt_out",
        ],
    ),
    (Field::OnHold, &["On Hold", "on_hold", "Email On Hold"]),
    (Field::IsDeceased, &["Deceased", "is_deceased"]),
    (Field::DeceasedDate, &["Deceased Date", "deceased_date"]),
    (Field::MembershipId, &["Membership ID", "membership_id"]),
    (
        Field::MembershipType,
        &["Membership Type", "membership_type", "membership_type_id"],
    ),
    (
        Field::JoinDate,
        &[
            "Member Since",
            "Join Date",
            "membership_join_date",
            "join_date",
        ],
    ),
    (
        Field::StartDate,
        &[
            "Membership Start Date",
            "Start Date",
            "membership_start_date",
        ],
    ),
    (
        Field::EndDate,
        &[
            "Membership Expiration Date",
            "Membership End Date",
            "End Date",
            "Expiration Date",
            "membership_end_date",
        ],
    ),
    (
        Field::MembershipStatus,
        &[
            "Membership Status",
            "Status",
            "membership_status",
            "status_id",
        ],
    ),
    (
        Field::MembershipSource,
        &["Membership Source", "Source", "membership_source"],
    ),
    (
        Field::AutoRenew,
        &["Auto-renew", "Auto Renew", "member_auto_renew"],
    ),
    (
        Field::RecurringContribution,
        &[
            "Membership Recurring Contribution",
            "membership_recur_id",
            "contribution_recur_id",
        ],
    ),
];

/// NationBuilder people exports and membership exports (`name, status, started_at,
/// expires_on`: memberships only, which leave the contacts' details as they are). A people
/// export's `membership_names` lists types with no dates or status: each name becomes a
/// membership marked "dates unknown" (never lifetime, never Current without evidence; issue 18).
const NATIONBUILDER: &[(Field, &[&str])] = &[
    (
        Field::ContactId,
        &["nationbuilder_id", "person_id", "signup_id", "id"],
    ),
    (Field::FirstName, &["first_name"]),
    (Field::LastName, &["last_name"]),
    (Field::DisplayName, &["full_name"]),
    (
        Field::Email,
        &["email", "email1", "email2", "email3", "email4"],
    ),
    (
        Field::Phone,
        &["phone_number", "mobile_number", "work_phone_number"],
    ),
    (
        Field::StreetAddress,
        &["primary_address1", "address_address1"],
    ),
    (Field::SupplementalAddress1, &["primary_address2"]),
    (Field::SupplementalAddress2, &["primary_address3"]),
    (Field::City, &["primary_city"]),
    (Field::Postcode, &["primary_zip"]),
    (Field::County, &["primary_county", "primary_state"]),
    (Field::Country, &["primary_country", "primary_country_code"]),
    (
        Field::PreferredLanguage,
        &["language", "preferred_language"],
    ),
    (Field::EmailOptIn, &["email_opt_in"]),
    (Field::OnHold, &["email1_is_bad"]),
    (Field::DoNotPhone, &["do_not_call"]),
    (Field::DoNotContact, &["do_not_contact"]),
    (Field::IsDeceased, &["is_deceased"]),
    (Field::MembershipId, &["membership_id"]),
    (
        Field::MembershipType,
        &["membership_name", "membership_type", "name"],
    ),
    (Field::MembershipStatus, &["membership_status", "status"]),
    (
        Field::JoinDate,
        &[
            "membership_joined_at",
            "membership_started_at",
            "started_at",
        ],
    ),
    (Field::StartDate, &["membership_started_at", "started_at"]),
    (Field::EndDate, &["membership_expires_on", "expires_on"]),
    (Field::MembershipSource, &["membership_source"]),
    (Field::AutoRenew, &["membership_auto_renew"]),
    (Field::MembershipNames, &["membership_names"]),
    (Field::Tags, &["tag_list"]),
];

/// Action Network reports (contacts only: Action Network has no membership object; a mapping
/// file can read membership status from custom fields).
const ACTIONNETWORK: &[(Field, &[&str])] = &[
    (Field::ContactId, &["uuid"]),
    (Field::FirstName, &["first_name"]),
    (Field::LastName, &["last_name"]),
    (Field::Email, &["email"]),
    (Field::Phone, &["can2_phone", "phone", "phone_number"]),
    (
        Field::StreetAddress,
        &["can2_user_address", "address", "can2_address"],
    ),
    (Field::City, &["can2_user_city", "city", "can2_city"]),
    (Field::Postcode, &["zip_code", "can2_zip"]),
    (
        Field::County,
        &[
            "can2_county",
            "can2_state_abbreviated",
            "state",
            "can2_state",
        ],
    ),
    (Field::Country, &["country", "can2_country"]),
    (Field::PreferredLanguage, &["language"]),
    (Field::SubscriptionStatus, &["can2_subscription_status"]),
    (Field::Tags, &["can2_user_tags"]),
];

/// The built-in profile names.
pub const BUILT_IN: [&str; 3] = ["civicrm", "nationbuilder", "actionnetwork"];

/// Which columns feed each field, and what the profile is called.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    /// The `source` recorded when `--source` is not given.
    pub default_source: String,
    /// A mapping file's `date_order`.
    pub date_order: Option<DateOrder>,
    aliases: Vec<(Field, Vec<String>)>,
    /// A mapping file names its columns exactly: every one must be in the file.
    strict_columns: bool,
    /// A mapping file's `quote_escape = "backslash"`: `\"` inside quotes is a quote.
    pub escape: Option<u8>,
    /// A mapping file's value maps, per field: a cell (by [`value_key`]) read as another value
    /// (`"Lapsed" = "Expired"`; `"Never" = ""`, no end date).
    values: BTreeMap<Field, HashMap<String, String>>,
}

impl Profile {
    pub fn built_in(name: &str) -> Option<Profile> {
        let table = match name {
            "civicrm" => CIVICRM,
            "nationbuilder" => NATIONBUILDER,
            "actionnetwork" => ACTIONNETWORK,
            _ => return None,
        };
        let aliases = table
            .iter()
            .chain(CUSTOM_ALIASES)
            .map(|(field, names)| (*field, unique_normalised(names.iter().copied())))
            .collect();
        Some(Profile {
            name: name.to_owned(),
            default_source: name.to_owned(),
            date_order: None,
            aliases,
            strict_columns: false,
            escape: None,
            values: BTreeMap::new(),
        })
    }

    /// Reads a TOML mapping file. Every error names the file, and the line and column of what
    /// is wrong (for a missing `[columns]` entry, where the table is).
    pub fn from_mapping_file(path: &Path) -> Result<Profile> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("{}: cannot read the mapping file", path.display()))?;
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            let (line, column) = text::line_column_of_bytes(&bytes, e.valid_up_to());
            anyhow!(
                "{}, line {line}, column {column}: not a valid mapping file: it is not UTF-8 \
                 text (save it as UTF-8)",
                path.display()
            )
        })?;
        Profile::from_mapping_toml(text, path)
    }

    fn from_mapping_toml(text: &str, path: &Path) -> Result<Profile> {
        let at = |span: Option<std::ops::Range<usize>>| match span {
            Some(span) => {
                let (line, column) = text::line_column(text, span.start);
                format!("{}, line {line}, column {column}", path.display())
            }
            None => path.display().to_string(),
        };
        let file: MappingFile = toml::from_str(text).map_err(|e| {
            anyhow::anyhow!(
                "{}: not a valid mapping file: {}",
                at(e.span()),
                e.message().trim_end()
            )
        })?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "mapping".into());
        let name = file.name.unwrap_or(stem);
        let date_order = match &file.date_order {
            None => None,
            Some(order) => match order.get_ref().as_str() {
                "dmy" => Some(DateOrder::Dmy),
                "mdy" => Some(DateOrder::Mdy),
                other => bail!(
                    "{}: date_order = \"{other}\" is not one of \"dmy\", \"mdy\"",
                    at(Some(order.span()))
                ),
            },
        };
        let escape = match &file.quote_escape {
            None => None,
            Some(style) => match style.get_ref().as_str() {
                "double" => None,
                "backslash" => Some(b'\\'),
                other => bail!(
                    "{}: quote_escape = \"{other}\" is not one of \"double\" (\"\" inside quotes, \
                     the default), \"backslash\" (\\\" inside quotes)",
                    at(Some(style.span()))
                ),
            },
        };
        let field_of = |key: &Spanned<String>, table: &str| {
            Field::from_key(key.get_ref()).with_context(|| {
                format!(
                    "{}: [{table}] has `{}`, which is not a field rollcall reads; the fields \
                     are: {}",
                    at(Some(key.span())),
                    key.get_ref(),
                    Field::ALL.map(Field::key).join(", ")
                )
            })
        };
        let columns_at = file.columns.span();
        let mut aliases = Vec::new();
        for (key, columns) in file.columns.get_ref() {
            let field = field_of(key, "columns")?;
            let names = columns.clone().into_vec();
            if names.is_empty() {
                bail!(
                    "{}: [columns] `{}` names no column",
                    at(Some(key.span())),
                    key.get_ref()
                );
            }
            aliases.push((field, unique_normalised(names.iter().map(String::as_str))));
        }
        if !aliases.iter().any(|(f, _)| *f == Field::ContactId) {
            bail!(
                "{}: [columns] must name the `contact_id` column (the CRM's contact id)",
                at(Some(columns_at))
            );
        }
        let mut values: BTreeMap<Field, HashMap<String, String>> = BTreeMap::new();
        for (key, map) in &file.values {
            let field = field_of(key, "values")?;
            if field == Field::ContactId {
                bail!(
                    "{}: [values.contact_id]: the contact id is matched as exported; it cannot \
                     have a value map",
                    at(Some(key.span()))
                );
            }
            if !aliases.iter().any(|(f, _)| *f == field) {
                bail!(
                    "{}: [values.{}] maps the values of a field that [columns] does not name",
                    at(Some(key.span())),
                    key.get_ref()
                );
            }
            let entry = values.entry(field).or_default();
            for (from, to) in map {
                entry.insert(value_key(from), to.trim().to_owned());
            }
        }
        for never in file.no_end_date.iter().flatten() {
            values
                .entry(Field::EndDate)
                .or_default()
                .insert(value_key(never), String::new());
        }
        Ok(Profile {
            default_source: file.source.unwrap_or_else(|| name.clone()),
            name,
            date_order,
            escape,
            values,
            aliases,
            strict_columns: true,
        })
    }

    /// The escape character the CSV reader needs for `--profile requested` (a mapping file's
    /// `quote_escape = "backslash"`); None for `""` inside quotes, the CSV standard.
    pub fn quote_escape_of(requested: &str) -> Result<Option<u8>> {
        if requested == "auto" || Profile::built_in(requested).is_some() {
            return Ok(None);
        }
        let path = Path::new(requested);
        if requested.ends_with(".toml") || path.exists() {
            return Ok(Profile::from_mapping_file(path)?.escape);
        }
        Ok(None)
    }

    /// Matches the profile to a file's headers.
    pub fn map(&self, headers: &[String]) -> Result<ColumnMap, LayoutError> {
        let keys: Vec<HeaderKey> = headers.iter().map(|h| HeaderKey::of(h)).collect();
        self.map_keys(headers, &keys)
    }

    /// [`Profile::map`] with the headers' keys worked out once (auto-detection tries every
    /// profile). One pass over the headers, so a file with a million columns is still quick.
    fn map_keys(&self, headers: &[String], keys: &[HeaderKey]) -> Result<ColumnMap, LayoutError> {
        let mut entries_by_alias: HashMap<&str, Vec<usize>> = HashMap::new();
        for (entry, (_, names)) in self.aliases.iter().enumerate() {
            for name in names {
                entries_by_alias
                    .entry(name.as_str())
                    .or_default()
                    .push(entry);
            }
        }
        // Per alias entry: the columns matching it exactly, then those matching without their
        // location (`Email` before `Home-Email`), each in header order.
        let mut exact: Vec<Vec<usize>> = vec![Vec::new(); self.aliases.len()];
        let mut located: Vec<Vec<usize>> = vec![Vec::new(); self.aliases.len()];
        for (column, key) in keys.iter().enumerate() {
            for &entry in entries_by_alias
                .get(key.full.as_str())
                .into_iter()
                .flatten()
            {
                exact[entry].push(column);
            }
            if let Some(without_location) = &key.without_location {
                for &entry in entries_by_alias
                    .get(without_location.as_str())
                    .into_iter()
                    .flatten()
                {
                    located[entry].push(column);
                }
            }
        }
        let mut columns: BTreeMap<Field, Vec<usize>> = BTreeMap::new();
        let mut placed: HashSet<(Field, usize)> = HashSet::new();
        let mut absent = Vec::new();
        for (entry, (field, names)) in self.aliases.iter().enumerate() {
            let found: Vec<usize> = exact[entry]
                .iter()
                .chain(&located[entry])
                .copied()
                .collect();
            if found.is_empty() {
                if self.strict_columns {
                    absent.push((*field, names.clone()));
                }
                continue;
            }
            let entry = columns.entry(*field).or_default();
            entry.extend(found.into_iter().filter(|&i| placed.insert((*field, i))));
        }
        let mut missing_required: Vec<String> = Vec::new();
        if !columns.contains_key(&Field::ContactId) {
            missing_required.push(self.describe(Field::ContactId));
        }
        let has_memberships = columns.keys().any(|f| f.is_membership());
        if has_memberships
            && !columns.contains_key(&Field::MembershipId)
            && !columns.contains_key(&Field::MembershipType)
            && !columns.contains_key(&Field::MembershipNames)
        {
            missing_required.push(format!(
                "{} or {} (the file has membership columns, but nothing says which membership a \
                 row is)",
                self.describe(Field::MembershipId),
                self.describe(Field::MembershipType)
            ));
        }
        for (field, names) in absent {
            if field != Field::ContactId {
                missing_required.push(format!(
                    "{} (the mapping file names {})",
                    field.key(),
                    names.join(" / ")
                ));
            }
        }
        if !missing_required.is_empty() {
            return Err(LayoutError {
                profile: self.name.clone(),
                found: FoundHeaders::of(headers, keys, self),
                unmapped: missing_required,
                fits: None,
            });
        }
        // The aliases of every built-in profile too: a header line of another CRM's export
        // pasted in mid-file (found by fuzzing: an Action Network header in a CiviCRM file,
        // imported as a member with the CRM id `uuid`) is no member either.
        let built_in: Vec<Profile> = BUILT_IN.into_iter().filter_map(Profile::built_in).collect();
        let header_names = keys
            .iter()
            .map(|k| k.full.clone())
            .chain(
                self.aliases
                    .iter()
                    .chain(built_in.iter().flat_map(|p| &p.aliases))
                    .filter(|(field, _)| columns.contains_key(field))
                    .flat_map(|(_, names)| names.iter().cloned()),
            )
            .filter(|name| !name.is_empty())
            .collect();
        let used: HashSet<usize> = columns.values().flatten().copied().collect();
        let unused = (0..headers.len()).filter(|c| !used.contains(c)).collect();
        Ok(ColumnMap {
            values: self.values.clone(),
            columns,
            unused,
            headers: headers.to_vec(),
            header_names,
            has_memberships,
        })
    }

    fn describe(&self, field: Field) -> String {
        let names = self
            .aliases
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, n)| n.join(" / "))
            .unwrap_or_default();
        if names.is_empty() {
            field.label().to_owned()
        } else {
            format!("{} (a column named {names})", field.label())
        }
    }

    /// A built-in profile other than `requested` that these headers fit, for the hint in a
    /// forced profile's layout error.
    fn fitting_built_in(headers: &[String], requested: &str) -> Option<String> {
        let keys: Vec<HeaderKey> = headers.iter().map(|h| HeaderKey::of(h)).collect();
        BUILT_IN
            .into_iter()
            .filter(|name| *name != requested)
            .find(|name| {
                let profile = Profile::built_in(name).expect("built-in profile");
                profile.map_keys(headers, &keys).is_ok()
            })
            .map(str::to_owned)
    }

    /// Every column name this profile or a built-in one knows, normalised: a header cell that is
    /// one of these is a column name, never a member's details.
    fn known_column_names(&self) -> HashSet<String> {
        let built_in = BUILT_IN
            .into_iter()
            .filter_map(Profile::built_in)
            .flat_map(|p| p.aliases);
        built_in
            .chain(self.aliases.iter().cloned())
            .flat_map(|(_, names)| names)
            .collect()
    }

    /// The profile `--profile` asks for: `auto`, a built-in name, or a mapping file's path.
    /// `auto` picks from the headers; the bool says whether it was detected.
    pub fn choose(requested: &str, headers: &[String]) -> Result<(Profile, ColumnMap, bool)> {
        if requested != "auto" {
            let profile = match Profile::built_in(requested) {
                Some(p) => p,
                None if requested.ends_with(".toml") || Path::new(requested).exists() => {
                    Profile::from_mapping_file(Path::new(requested))?
                }
                None => bail!(
                    "--profile {requested}: not a profile; use auto, {}, or the path of a TOML \
                     mapping file",
                    BUILT_IN.join(", ")
                ),
            };
            let map = profile.map(headers).map_err(|mut e| {
                e.fits = Self::fitting_built_in(headers, requested);
                e
            })?;
            return Ok((profile, map, false));
        }
        let keys: Vec<HeaderKey> = headers.iter().map(|h| HeaderKey::of(h)).collect();
        let evidence: Vec<(&str, usize)> = BUILT_IN
            .into_iter()
            .map(|name| (name, evidence_for(name, &keys)))
            .collect();
        let best = evidence
            .iter()
            .filter(|(_, n)| *n >= MIN_EVIDENCE)
            .max_by_key(|(name, n)| {
                (
                    *n,
                    std::cmp::Reverse(BUILT_IN.iter().position(|b| b == name)),
                )
            });
        if let Some((name, _)) = best {
            let profile = Profile::built_in(name).expect("built-in profile");
            return match profile.map_keys(headers, &keys) {
                Ok(map) => Ok((profile, map, true)),
                Err(mut e) => {
                    e.profile = format!("auto (chose {name} on its own columns)");
                    Err(e.into())
                }
            };
        }
        // No profile's own columns: refuse, naming the closest profile (the one that maps the
        // most columns) and the columns it would have matched.
        let closest = BUILT_IN
            .into_iter()
            .map(|name| Profile::built_in(name).expect("built-in profile"))
            .rev()
            .max_by_key(|p| p.matched_columns(&keys).len())
            .expect("built-in profiles");
        match closest.map_keys(headers, &keys) {
            Ok(_) => Err(NoEvidence::of(&closest, headers, &keys).into()),
            Err(mut e) => {
                e.profile = format!("auto (tried {})", BUILT_IN.join(", "));
                Err(e.into())
            }
        }
    }

    /// The columns (by index) that some alias of this profile matches.
    fn matched_columns(&self, keys: &[HeaderKey]) -> Vec<usize> {
        let names: HashSet<&str> = self
            .aliases
            .iter()
            .flat_map(|(_, names)| names.iter().map(String::as_str))
            .collect();
        keys.iter()
            .enumerate()
            .filter(|(_, key)| {
                names.contains(key.full.as_str())
                    || key
                        .without_location
                        .as_deref()
                        .is_some_and(|name| names.contains(name))
            })
            .map(|(column, _)| column)
            .collect()
    }
}

/// How many of a profile's distinctive columns [`Profile::choose`] needs to pick it.
const MIN_EVIDENCE: usize = 2;

/// Columns that only one CRM writes (normalised), per built-in profile: auto-detection picks a
/// profile on these and never on generic names (`id`, `email`, `name`, `city`) that every CRM
/// and plugin has. A WordPress membership plugin's `id, email, first_name` is no NationBuilder
/// export.
const EVIDENCE: [(&str, &[&str]); 3] = [
    (
        "civicrm",
        &[
            "contact id",
            "internal contact id",
            "civicrm primary id",
            "civicrm contact id",
            "contact type",
            "contact subtype",
            "contact sub type",
            "sort name",
            "display name",
            "do not email",
            "do not phone",
            "do not mail",
            "do not sms",
            "do not trade",
            "no bulk emails user opt out",
            "is opt out",
            "legal identifier",
            "external identifier",
            "supplemental address 1",
            "postal code",
            "state province",
            "on hold",
            "membership type",
            "membership type id",
            "member since",
            "membership join date",
            "membership start date",
            "membership expiration date",
            "membership end date",
            "membership source",
            "membership recurring contribution",
            "membership recur id",
            "member auto renew",
            "member is test",
            "primary member id",
            "max related",
        ],
    ),
    (
        "nationbuilder",
        &[
            "nationbuilder id",
            "email1",
            "email1 is bad",
            "email2",
            "email opt in",
            "phone number",
            "mobile number",
            "do not call",
            "do not contact",
            "primary address1",
            "primary address2",
            "primary city",
            "primary zip",
            "primary state",
            "primary country code",
            "tag list",
            "membership names",
            "membership name",
            "membership started at",
            "membership expires on",
            "started at",
            "expires on",
            "status reason",
        ],
    ),
    ("actionnetwork", &["uuid", "can2 *"]),
];

/// The contact id column each CRM names its own way: it alone is as good as [`MIN_EVIDENCE`]
/// other distinctive columns (it says whose export the file is; `id` is not among them).
const OWN_ID_COLUMNS: [&str; 5] = [
    "contact id",
    "internal contact id",
    "civicrm primary id",
    "nationbuilder id",
    "uuid",
];

/// How much of the headers is evidence for the profile `name`: one per column distinctive to it
/// ([`MIN_EVIDENCE`] for its own contact id column). A CiviCRM location-typed header
/// (`Home-street_address`) counts for CiviCRM; every `can2_…` header for Action Network.
fn evidence_for(name: &str, keys: &[HeaderKey]) -> usize {
    let (_, distinctive) = EVIDENCE
        .iter()
        .find(|(profile, _)| *profile == name)
        .expect("evidence for every built-in profile");
    let is_distinctive = |header: &str| {
        distinctive.iter().any(|d| match d.strip_suffix('*') {
            Some(prefix) => header.starts_with(prefix),
            None => header == *d,
        })
    };
    keys.iter()
        .map(|key| {
            if is_distinctive(&key.full) {
                if OWN_ID_COLUMNS.contains(&key.full.as_str()) {
                    MIN_EVIDENCE
                } else {
                    1
                }
            } else if name == "civicrm" && key.without_location.is_some() {
                1
            } else {
                0
            }
        })
        .sum()
}

/// Refused by `--profile auto`: the closest built-in profile would map the file, but only on
/// columns every CRM has. Quotes only the column names that profile knows.
#[derive(Debug, Clone)]
pub struct NoEvidence {
    closest: String,
    matched: Vec<String>,
    total: usize,
    /// The matched columns that are the closest profile's own (fewer than [`MIN_EVIDENCE`]).
    own: usize,
    /// A few of the closest profile's own columns, to say what was looked for.
    looked_for: Vec<&'static str>,
}

impl NoEvidence {
    fn of(closest: &Profile, headers: &[String], keys: &[HeaderKey]) -> NoEvidence {
        let matched = closest
            .matched_columns(keys)
            .into_iter()
            .map(|column| shown(&headers[column]))
            .collect();
        let looked_for = EVIDENCE
            .iter()
            .find(|(name, _)| *name == closest.name)
            .map(|(_, d)| d.iter().take(4).copied().collect())
            .unwrap_or_default();
        NoEvidence {
            own: evidence_for(&closest.name, keys).min(MIN_EVIDENCE - 1),
            closest: closest.name.clone(),
            matched,
            total: headers.len(),
            looked_for,
        }
    }
}

impl std::fmt::Display for NoEvidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown: Vec<String> = self.matched.iter().take(HEADERS_SHOWN).cloned().collect();
        write!(
            f,
            "unknown layout (profile auto): fewer than {MIN_EVIDENCE} columns distinctive to \
             one built-in profile are in the file, so it is not taken for any of them. The closest is {}, which would match {} of the \
             {} columns: {}",
            self.closest,
            self.matched.len(),
            self.total,
            quote_list(&shown)
        )?;
        if self.matched.len() > shown.len() {
            write!(f, " … and {} more", self.matched.len() - shown.len())?;
        }
        write!(
            f,
            " — {} of them its own (it has columns such as {}); the other columns are not \
             quoted, as they may hold a member's details. If the file really is a {} export, \
             import it with --profile {}; otherwise name the columns in a mapping file and pass \
             it with --profile PATH.toml (see assets/mappings/example.toml)",
            match self.own {
                0 => "none".to_owned(),
                n => format!("only {n}"),
            },
            self.looked_for.join(", ").replace(" *", "_…"),
            self.closest,
            self.closest
        )
    }
}

impl std::error::Error for NoEvidence {}

/// A mapping file. Keys and settings keep their place in the file, for errors that name it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    name: Option<String>,
    source: Option<String>,
    date_order: Option<Spanned<String>>,
    quote_escape: Option<Spanned<String>>,
    no_end_date: Option<Vec<String>>,
    // Spanned, so that an error can say where in the file the value is.
    columns: Spanned<BTreeMap<Spanned<String>, OneOrMany>>,
    #[serde(default)]
    values: BTreeMap<Spanned<String>, BTreeMap<String, String>>,
}

/// A cell as a value map looks it up: trimmed, case folded (`Lapsed` = `LAPSED`).
pub fn value_key(cell: &str) -> String {
    cell.trim().to_lowercase()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// The file's columns matched to fields.
#[derive(Debug, Clone)]
pub struct ColumnMap {
    columns: BTreeMap<Field, Vec<usize>>,
    /// The columns no field reads, in header order.
    unused: Vec<usize>,
    /// The mapping file's value maps (see [`Profile`]).
    values: BTreeMap<Field, HashMap<String, String>>,
    headers: Vec<String>,
    /// The file's headers and the aliases of its mapped fields (in its profile or any built-in
    /// one), normalised: a row made of these is a header line, not a member.
    header_names: HashSet<String>,
    /// Whether the file has membership columns at all (a contact-only export has none).
    pub has_memberships: bool,
}

impl ColumnMap {
    /// The columns feeding `field`, in order of preference.
    pub fn columns(&self, field: Field) -> &[usize] {
        self.columns.get(&field).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The header of a column, as the file writes it (for messages).
    pub fn header(&self, column: usize) -> &str {
        self.headers.get(column).map(String::as_str).unwrap_or("?")
    }

    /// The header naming a field in this file (its first column), for messages.
    pub fn field_header(&self, field: Field) -> &str {
        self.columns(field)
            .first()
            .map(|&c| self.header(c))
            .unwrap_or(field.label())
    }

    /// What the report says about the columns no field reads: their names when the header line
    /// is clean, else only how many (see [`NotImported`]).
    pub fn not_imported(&self) -> NotImported {
        let clean = self
            .headers
            .iter()
            .all(|h| !h.trim().is_empty() && data_kind(h).is_none());
        if clean {
            NotImported::Named(
                self.unused
                    .iter()
                    .map(|&c| shown(&self.headers[c]))
                    .collect(),
            )
        } else {
            NotImported::Counted(self.unused.len())
        }
    }

    /// Whether the file holds memberships and no contact details (NationBuilder's memberships
    /// export): its rows must not blank the details a people export gave.
    pub fn membership_only(&self) -> bool {
        self.has_memberships
            && self.columns.keys().all(|f| {
                *f == Field::ContactId
                    || f.is_membership()
                    || matches!(
                        f,
                        Field::MembershipSource | Field::AutoRenew | Field::RecurringContribution
                    )
            })
    }

    /// The value map of a field, when the mapping file gives one.
    pub fn value_map(&self, field: Field) -> Option<&HashMap<String, String>> {
        self.values.get(&field)
    }

    pub fn header_count(&self) -> usize {
        self.headers.len()
    }

    /// Whether `normalised` (see [`normalise`]) is one of the file's headers or an alias (in
    /// any profile) of a field the file has.
    pub fn is_header_name(&self, normalised: &str) -> bool {
        self.header_names.contains(normalised)
    }

    /// The normalised header names and aliases [`ColumnMap::is_header_name`] accepts.
    pub fn header_names(&self) -> impl Iterator<Item = &str> {
        self.header_names.iter().map(String::as_str)
    }
}

/// The columns an import did not read. Named when the header line is clean (no empty cell, none
/// that looks like a value); only counted otherwise, because a header line that a row ran into
/// holds a member's details among its cells. The import names them only when no row was
/// rejected for its number of fields either (the other sign of such a line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotImported {
    Named(Vec<String>),
    Counted(usize),
}

/// The file's layout did not match: says what was found and what was missing.
#[derive(Debug, Clone)]
pub struct LayoutError {
    pub profile: String,
    found: FoundHeaders,
    pub unmapped: Vec<String>,
    /// A built-in profile the headers fit, when another one was asked for.
    fits: Option<String>,
}

/// At most this many headers are quoted in an unknown-layout error...
const HEADERS_SHOWN: usize = 30;
/// ...each cut to this many characters.
const HEADER_CHARS_SHOWN: usize = 40;

/// What an unknown-layout error says about the file's first line. It quotes only column names
/// rollcall knows (an alias in a built-in profile, or a column the mapping file names): any other
/// cell may be a member's details, when the header row is missing or a row has run into it (a
/// lost line break), and nothing in the line tells those from an unknown CRM's column names.
/// Never more than a screenful.
#[derive(Debug, Clone)]
enum FoundHeaders {
    /// The first of the `known` cells that are column names rollcall knows, of `total` cells.
    Listed {
        first: Vec<String>,
        known: usize,
        total: usize,
    },
    /// Some cells hold values, not column names: each kind of value seen.
    NotAHeaderRow { kinds: Vec<&'static str> },
    /// Column names rollcall knows, inside cells, between separators it does not read as a
    /// delimiter (`|`): the export is in another layout. Only the known names are quoted.
    OtherSeparator { separator: char, known: Vec<String> },
}

/// Characters that separate cells in some export or other, looked for inside a cell that is not
/// a known column name.
const SEPARATORS: [char; 4] = ['|', ';', ',', '\t'];

impl FoundHeaders {
    fn of(headers: &[String], keys: &[HeaderKey], profile: &Profile) -> FoundHeaders {
        let mut kinds: Vec<&'static str> = Vec::new();
        for kind in headers.iter().filter_map(|h| data_kind(h)) {
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        if !kinds.is_empty() {
            return FoundHeaders::NotAHeaderRow { kinds };
        }
        let known_names = profile.known_column_names();
        let known = |key: &HeaderKey| {
            known_names.contains(&key.full)
                || key
                    .without_location
                    .as_ref()
                    .is_some_and(|name| known_names.contains(name))
        };
        let quoted: Vec<&String> = headers
            .iter()
            .zip(keys)
            .filter(|(_, key)| known(key))
            .map(|(h, _)| h)
            .collect();
        if quoted.is_empty()
            && let Some(found) = FoundHeaders::known_between_separators(headers, &known)
        {
            return found;
        }
        FoundHeaders::Listed {
            first: quoted
                .iter()
                .take(HEADERS_SHOWN)
                .map(|h| shown(h))
                .collect(),
            known: quoted.len(),
            total: headers.len(),
        }
    }

    /// The column names rollcall knows inside cells, split at the separator that finds them.
    fn known_between_separators(
        headers: &[String],
        known: &impl Fn(&HeaderKey) -> bool,
    ) -> Option<FoundHeaders> {
        let mut found: Option<(char, Vec<String>)> = None;
        for cell in headers.iter().filter(|h| h.contains(SEPARATORS)) {
            for separator in SEPARATORS {
                let names = cell
                    .split(separator)
                    .map(str::trim)
                    .filter(|piece| known(&HeaderKey::of(piece)));
                for name in names {
                    let (_, known) = found.get_or_insert_with(|| (separator, Vec::new()));
                    if known.len() < HEADERS_SHOWN {
                        known.push(shown(name));
                    }
                }
                if found.is_some() {
                    break;
                }
            }
        }
        found.map(|(separator, known)| FoundHeaders::OtherSeparator { separator, known })
    }
}

/// A header as an error quotes it: without a BOM, and cut short.
fn shown(header: &str) -> String {
    shorten(header.trim_start_matches('\u{feff}'), HEADER_CHARS_SHOWN)
}

/// The kind of value a cell holds when it looks like member data rather than a column name: an
/// email address, a number (phone, id, house number, date) or a UK postcode.
fn data_kind(cell: &str) -> Option<&'static str> {
    if cell.contains('@') {
        Some("an email address")
    } else if cell.bytes().filter(u8::is_ascii_digit).count() >= 3 {
        Some("a number")
    } else if is_uk_postcode(cell) {
        Some("a postcode")
    } else {
        None
    }
}

/// `SW1A 1AA`, `M1 1AE`, `LL45 2PL`: an outward code (a letter, then letters and digits) and an
/// inward code (a digit and two letters), with or without the space.
fn is_uk_postcode(cell: &str) -> bool {
    let compact: Vec<u8> = cell
        .trim()
        .bytes()
        .filter(|b| *b != b' ')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if !(5..=7).contains(&compact.len()) {
        return false;
    }
    let (outward, inward) = compact.split_at(compact.len() - 3);
    outward[0].is_ascii_uppercase()
        && outward.iter().all(u8::is_ascii_alphanumeric)
        && outward.iter().any(u8::is_ascii_digit)
        && inward[0].is_ascii_digit()
        && inward[1..].iter().all(u8::is_ascii_uppercase)
}

/// `text` cut to `max` characters, with `…` where it was cut.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

impl std::fmt::Display for LayoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown layout (profile {}): could not find {} on line 1 (the header line). ",
            self.profile,
            self.unmapped.join("; ")
        )?;
        match &self.found {
            FoundHeaders::NotAHeaderRow { kinds } => write!(
                f,
                "The first line does not look like a header row (it holds values like {}); an \
                 export must start with its header row. ",
                kinds.join(", ")
            )?,
            FoundHeaders::OtherSeparator { separator, known } => {
                let separator = match separator {
                    '\t' => "a tab".to_owned(),
                    c => format!("\"{c}\""),
                };
                write!(
                    f,
                    "The first line seems to be separated by {separator}, which rollcall does not \
                     read as a delimiter here. Column names rollcall knows in it: {}; nothing else \
                     in it is quoted. ",
                    quote_list(known)
                )?;
            }
            FoundHeaders::Listed {
                first,
                known,
                total,
            } => {
                let others = total - known;
                if *known == 0 {
                    write!(
                        f,
                        "Headers found ({total}), none of them a column name rollcall knows; they \
                         are not quoted, as a first line can hold a member's details (a missing \
                         header row, or a row that ran into it when a line break was lost). "
                    )?;
                } else {
                    write!(f, "Headers found ({total})")?;
                    if others > 0 {
                        write!(
                            f,
                            ", quoting only the {known} that rollcall knows as column names"
                        )?;
                    }
                    write!(f, ": {}", quote_list(first))?;
                    if *known > first.len() {
                        write!(f, " … and {} more", known - first.len())?;
                    }
                    write!(f, ". ")?;
                }
                if *known > 0 && others > 0 {
                    let others = match others {
                        1 => "The other one is".to_owned(),
                        n => format!("The other {n} are"),
                    };
                    write!(
                        f,
                        "{others} not quoted: they may be custom columns, or a member's details \
                         that ran into the header line when its line break was lost. "
                    )?;
                }
            }
        }
        match &self.fits {
            Some(name) => write!(
                f,
                "The headers fit the {name} profile: import with --profile {name} (or auto)"
            ),
            None if matches!(self.found, FoundHeaders::OtherSeparator { .. }) => {
                write!(
                    f,
                    "Save the export as CSV (commas between cells) and import that"
                )
            }
            None => write!(
                f,
                "Name the columns in a mapping file and pass it with --profile PATH.toml (see \
                 assets/mappings/example.toml)"
            ),
        }
    }
}

impl std::error::Error for LayoutError {}

/// `"a", "b", "c"`.
fn quote_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    quoted.join(", ")
}

/// A header in comparable form, with and without a CiviCRM location prefix.
struct HeaderKey {
    full: String,
    without_location: Option<String>,
}

const LOCATION_TYPES: [&str; 6] = ["home", "work", "main", "other", "billing", "primary"];
const PHONE_TYPES: [&str; 5] = ["phone", "mobile", "fax", "pager", "voicemail"];

impl HeaderKey {
    fn of(header: &str) -> HeaderKey {
        let header = header.trim_start_matches('\u{feff}');
        let without_location = header.split_once('-').and_then(|(location, rest)| {
            LOCATION_TYPES
                .contains(&normalise(location).as_str())
                .then(|| {
                    // `Phone-Mobile` is a phone of type Mobile.
                    let rest = normalise(rest);
                    match rest.split_once(' ') {
                        // `Home-phone-1`: a raw export names the phone type by its id.
                        Some(("phone", kind))
                            if PHONE_TYPES.contains(&kind)
                                || kind.bytes().all(|b| b.is_ascii_digit()) =>
                        {
                            "phone".to_owned()
                        }
                        _ => rest,
                    }
                })
        });
        HeaderKey {
            full: normalise(header),
            without_location,
        }
    }
}

fn unique_normalised<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in names.map(normalise) {
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// Lowercase, with every run of spaces and punctuation as one space.
pub fn normalise(header: &str) -> String {
    let mut out = String::with_capacity(header.len());
    normalise_into(header, &mut out);
    out
}

/// [`normalise`] into a buffer that is reused (cleared first), for checks run on every row.
pub fn normalise_into(header: &str, out: &mut String) {
    out.clear();
    let header = header.trim_start_matches('\u{feff}');
    if header.is_ascii() {
        // The same rules byte by byte: most cells are ASCII, and this runs on every row.
        let mut gap = false;
        for b in header.bytes() {
            if b.is_ascii_alphanumeric() || b == b'\'' {
                if gap && !out.is_empty() {
                    out.push(' ');
                }
                gap = false;
                out.push(char::from(b.to_ascii_lowercase()));
            } else {
                gap = true;
            }
        }
        return;
    }
    let mut gap = false;
    for c in header.chars() {
        if c.is_alphanumeric() || c == '\'' {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.extend(c.to_lowercase());
        } else {
            gap = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn normalises_headers() {
        assert_eq!(normalise("\u{feff}Contact ID"), "contact id");
        assert_eq!(normalise("membership_source"), "membership source");
        assert_eq!(
            normalise("No Bulk Emails (User Opt Out)"),
            "no bulk emails user opt out"
        );
        assert_eq!(normalise("  Local Party / Branch "), "local party branch");
    }

    #[test]
    fn civicrm_header_variants() {
        let h = headers(&[
            "\u{feff}Contact ID",
            "Home-Email",
            "Work-Phone-Mobile",
            "Membership Type",
            "Membership End Date",
            "Membership Source",
            "membership_recur_id",
            "Branch",
        ]);
        let (profile, map, detected) = Profile::choose("auto", &h).unwrap();
        assert_eq!(profile.name, "civicrm");
        assert!(detected);
        assert_eq!(map.columns(Field::ContactId), &[0]);
        assert_eq!(map.columns(Field::Email), &[1]);
        assert_eq!(map.columns(Field::Phone), &[2]);
        assert_eq!(map.columns(Field::EndDate), &[4]);
        assert_eq!(map.columns(Field::MembershipSource), &[5]);
        assert_eq!(map.columns(Field::RecurringContribution), &[6]);
        assert_eq!(map.columns(Field::LocalParty), &[7]);
        assert!(map.has_memberships);
    }

    #[test]
    fn plain_email_is_preferred_to_located_ones() {
        let h = headers(&["Contact ID", "Work-Email", "Email"]);
        let (_, map, _) = Profile::choose("civicrm", &h).unwrap();
        assert_eq!(map.columns(Field::Email), &[2, 1]);
        assert!(!map.has_memberships);
    }

    #[test]
    fn older_source_header() {
        let h = headers(&[
            "Contact ID",
            "Membership Type",
            "Source",
            "Membership Expiration Date",
        ]);
        let (_, map, _) = Profile::choose("auto", &h).unwrap();
        assert_eq!(map.columns(Field::MembershipSource), &[2]);
        assert_eq!(map.columns(Field::EndDate), &[3]);
    }

    #[test]
    fn detects_nationbuilder_and_action_network() {
        let nb = headers(&[
            "nationbuilder_id",
            "first_name",
            "membership_name",
            "membership_expires_on",
        ]);
        let (p, map, _) = Profile::choose("auto", &nb).unwrap();
        assert_eq!(p.name, "nationbuilder");
        assert!(map.has_memberships);
        let an = headers(&[
            "uuid",
            "first_name",
            "last_name",
            "email",
            "zip_code",
            "can2_phone",
        ]);
        let (p, map, _) = Profile::choose("auto", &an).unwrap();
        assert_eq!(p.name, "actionnetwork");
        assert!(!map.has_memberships);
    }

    #[test]
    fn unknown_layout_names_the_missing_fields_and_quotes_no_unknown_header() {
        let h = headers(&["Supporter No", "Forename", "Surname"]);
        let err = Profile::choose("auto", &h).unwrap_err().to_string();
        assert!(err.contains("unknown layout"), "{err}");
        assert!(
            err.contains("Headers found (3), none of them a column name rollcall knows"),
            "{err}"
        );
        for cell in ["Supporter No", "Forename", "Surname"] {
            assert!(!err.contains(cell), "{cell} in {err}");
        }
        assert!(
            err.contains("Contact ID (a column named contact id"),
            "{err}"
        );
        assert!(err.contains("--profile PATH.toml"), "{err}");
    }

    #[test]
    fn a_header_line_of_an_unknown_layout_run_into_a_row_is_not_quoted() {
        // The fifth fuzz run's finding: an unknown CRM's header (mangled) and a row on one line,
        // with nothing that looks like data.
        let h = headers(&["Sual Due", "StatusA-1", "Angharad", "Huws", "", "", "angh"]);
        let err = Profile::choose("actionnetwork", &h)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("Headers found (7), none of them a column name rollcall knows"),
            "{err}"
        );
        for cell in ["Angharad", "Huws", "Sual"] {
            assert!(!err.contains(cell), "{cell} in {err}");
        }
    }

    #[test]
    fn a_first_line_of_member_data_is_not_quoted() {
        let h = headers(&["4417", "Siân", "Prydderch", "sian@example.cymru", "M1 1AE"]);
        let err = Profile::choose("auto", &h).unwrap_err().to_string();
        assert!(
            err.contains("does not look like a header row (it holds values like a number, an email address, a postcode)"),
            "{err}"
        );
        assert!(
            err.contains("Contact ID (a column named contact id"),
            "{err}"
        );
        for cell in ["4417", "Siân", "Prydderch", "sian@", "M1 1AE"] {
            assert!(!err.contains(cell), "{cell} in {err}");
        }
    }

    #[test]
    fn a_header_line_run_into_a_row_quotes_only_known_column_names() {
        // The row's line break was lost: its cells (no digits, `@` or postcode among them)
        // follow the header's on line 1, and the profile asked for does not fit.
        let h = headers(&[
            "Contact ID",
            "Home-Email",
            "Last Name",
            "Membership Type",
            "Membership Recurring Contribul",
            "Siân",
            "Prydderch-O'Neill",
            "Llanbedr",
        ]);
        let err = Profile::choose("nationbuilder", &h)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "Headers found (8), quoting only the 4 that rollcall knows as column names: \
                 \"Contact ID\", \"Home-Email\", \"Last Name\", \"Membership Type\". The other 4 \
                 are not quoted"
            ),
            "{err}"
        );
        assert!(
            err.contains("could not find Contact ID (a column named nationbuilder id / person id / signup id / id)"),
            "{err}"
        );
        assert!(
            err.contains("The headers fit the civicrm profile: import with --profile civicrm"),
            "{err}"
        );
        for cell in ["Siân", "Prydderch", "Llanbedr", "Contribul"] {
            assert!(!err.contains(cell), "{cell} in {err}");
        }
    }

    #[test]
    fn a_line_split_by_another_separator_quotes_only_the_known_names_in_it() {
        // A `|`-separated export whose header ran into its first row: one cell to the reader.
        let h = headers(&["uuid|first_name|last_01|Cerys|Morgan|cer"]);
        let err = Profile::choose("actionnetwork", &h)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "The first line seems to be separated by \"|\", which rollcall does not read as \
                 a delimiter here. Column names rollcall knows in it: \"uuid\", \"first_name\"; \
                 nothing else in it is quoted. Save the export as CSV (commas between cells) and \
                 import that"
            ),
            "{err}"
        );
        for cell in ["Cerys", "Morgan", "last_01", "cer\""] {
            assert!(!err.contains(cell), "{cell} in {err}");
        }
    }

    #[test]
    fn a_mapping_files_own_column_names_are_quoted() {
        let toml = "[columns]\ncontact_id = \"Supporter No\"\nfirst_name = \"Forename\"\n";
        let p = Profile::from_mapping_toml(toml, Path::new("acme.toml")).unwrap();
        let err = p
            .map(&headers(&["Supporter Number", "Forename", "Gift Aid"]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("quoting only the 1 that rollcall knows as column names: \"Forename\""),
            "{err}"
        );
        assert!(err.contains("--profile PATH.toml"), "{err}");
    }

    #[test]
    fn many_or_long_headers_are_listed_in_short() {
        let names = ["Email", "Phone", "City", "Region", "Branch"];
        let mut h: Vec<String> = (0..100_000).map(|i| names[i % 5].to_owned()).collect();
        h[0] = "Q".repeat(500);
        let err = Profile::choose("auto", &h).unwrap_err().to_string();
        assert!(err.len() < 2_000, "{} bytes: {err}", err.len());
        assert!(!err.contains("QQQ"), "{err}");
        assert!(
            err.contains("Headers found (100000), quoting only the 99999 that rollcall knows"),
            "{err}"
        );
        assert!(err.contains("\"Email\" … and 99969 more."), "{err}");
    }

    #[test]
    fn unread_columns_are_named_only_from_a_clean_header_line() {
        let clean = headers(&["Contact ID", "Contact Type", "Email", "Gift Aid"]);
        let (_, map, _) = Profile::choose("auto", &clean).unwrap();
        assert_eq!(
            map.not_imported(),
            NotImported::Named(vec!["Gift Aid".into()])
        );
        let with_a_value = headers(&["Contact ID", "Email", "Angharad", "07700 900101"]);
        let (_, map, _) = Profile::choose("civicrm", &with_a_value).unwrap();
        assert_eq!(map.not_imported(), NotImported::Counted(2));
    }

    #[test]
    fn detection_needs_columns_distinctive_to_a_profile() {
        let generic = headers(&["id", "email", "first_name", "last_name", "city"]);
        let err = Profile::choose("auto", &generic).unwrap_err().to_string();
        assert!(err.contains("unknown layout"), "{err}");
        let raw = headers(&[
            "civicrm_primary_id",
            "Home-street_address",
            "Home-phone-1",
            "id",
        ]);
        let (p, map, _) = Profile::choose("auto", &raw).unwrap();
        assert_eq!(p.name, "civicrm");
        assert_eq!(map.columns(Field::ContactId), &[0]);
        assert_eq!(map.columns(Field::Phone), &[2]);
    }

    #[test]
    fn uk_postcodes() {
        for yes in ["SW1A 1AA", "M1 1AE", "ll45 2pl", "B129QQ", "CF24 3AA"] {
            assert!(is_uk_postcode(yes), "{yes}");
        }
        for no in [
            "Postcode",
            "Email 2",
            "ID",
            "Address Line 1",
            "1AA",
            "SW1A 1A",
        ] {
            assert!(!is_uk_postcode(no), "{no}");
        }
    }

    #[test]
    fn membership_columns_need_an_identity() {
        let h = headers(&["Contact ID", "Membership Expiration Date"]);
        let err = Profile::choose("civicrm", &h).unwrap_err().to_string();
        assert!(err.contains("Membership ID"), "{err}");
        assert!(err.contains("Membership Type"), "{err}");
    }

    #[test]
    fn mapping_file() {
        let toml = r#"
            name = "acme"
            source = "acme-crm"
            date_order = "mdy"
            [columns]
            contact_id = "Supporter No"
            first_name = "Forename"
            email = ["E-mail", "Email Address"]
            membership_type = "Plan"
        "#;
        let p = Profile::from_mapping_toml(toml, Path::new("acme.toml")).unwrap();
        assert_eq!(p.name, "acme");
        assert_eq!(p.default_source, "acme-crm");
        assert_eq!(p.date_order, Some(DateOrder::Mdy));
        let h = headers(&["Supporter No", "Forename", "Email Address", "Plan"]);
        let map = p.map(&h).unwrap();
        assert_eq!(map.columns(Field::Email), &[2]);
        assert!(map.has_memberships);
        let err = p
            .map(&headers(&["Supporter No", "Forename", "Email Address"]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("membership_type (the mapping file names plan)"),
            "{err}"
        );
    }

    #[test]
    fn mapping_file_mistakes_are_named() {
        let bad_field = "[columns]\ncontact_id = \"Id\"\nshoe_size = \"Shoe\"\n";
        let err = Profile::from_mapping_toml(bad_field, Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("shoe_size"), "{err}");
        let no_id = "[columns]\nemail = \"Email\"\n";
        let err = format!(
            "{:#}",
            Profile::from_mapping_toml(no_id, Path::new("m.toml")).unwrap_err()
        );
        assert!(err.contains("contact_id"), "{err}");
        let bad_order = "date_order = \"ymd\"\n[columns]\ncontact_id = \"Id\"\n";
        let err = Profile::from_mapping_toml(bad_order, Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("date_order"), "{err}");
    }

    /// Found by fuzzing the mapping parser (fuzz/, target `mapping`): a mistake past TOML's
    /// syntax (an unknown field, a bad `date_order`, no `contact_id`) and a file that is not
    /// UTF-8 named no line or column, so a long file had to be searched by hand.
    #[test]
    fn mapping_file_mistakes_name_their_line_and_column() {
        let cases = [
            (
                "[columns]\ncontact_id = \"Id\"\n  shoe_size = \"Shoe\"\n",
                "m.toml, line 3, column 3: [columns] has `shoe_size`",
            ),
            (
                "name = \"x\"\ndate_order = \"ymd\"\n[columns]\ncontact_id = \"Id\"\n",
                "m.toml, line 2, column 14: date_order = \"ymd\"",
            ),
            (
                "[columns]\ncontact_id = []\n",
                "m.toml, line 2, column 1: [columns] `contact_id` names no column",
            ),
            (
                "name = \"x\"\n\n[columns]\nemail = \"Email\"\n",
                "m.toml, line 3, column 1: [columns] must name the `contact_id` column",
            ),
            (
                "[columns]\ncontact_id = \"Id\n",
                "m.toml, line 2, column 17: not a valid mapping file: invalid basic string",
            ),
        ];
        for (text, expected) in cases {
            let err = format!(
                "{:#}",
                Profile::from_mapping_toml(text, Path::new("m.toml")).unwrap_err()
            );
            assert!(err.starts_with(expected), "{text:?}: {err}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latin1.toml");
        std::fs::write(&path, b"[columns]\ncontact_id = \"Pr\xe9nom\"\n").unwrap();
        let err = format!("{:#}", Profile::from_mapping_file(&path).unwrap_err());
        let expected = format!("{}, line 2, column 17: ", path.display());
        assert!(err.starts_with(&expected), "{err}");
        assert!(err.contains("not UTF-8"), "{err}");
    }

    #[test]
    fn the_example_mapping_in_assets_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/mappings/example.toml");
        let p = Profile::from_mapping_file(&path).unwrap();
        assert!(!p.aliases.is_empty());
        let status = &p.values[&Field::MembershipStatus];
        assert_eq!(status[&value_key("LAPSED ")], "Expired");
        assert_eq!(p.values[&Field::EndDate][&value_key("never")], "");
    }
}
