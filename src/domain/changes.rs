//! The change feed's rules: which CRM fields an import records changes to, and what kind of
//! change each is to the people who act on it ("moved", "email started bouncing").
//!
//! The field names are the `contacts` and `memberships` columns; the import compares the stored
//! value with the exported one for each of them (`storage::changes`), so a field listed here is
//! a field whose every change is kept.

use std::fmt;

/// Contact columns whose changes are recorded. Names are left out on purpose: a corrected
/// spelling is no work for anyone, and the feed is about what staff act on.
pub const CONTACT_FIELDS: &[&str] = &[
    "email",
    "phone",
    "street_address",
    "city",
    "postcode",
    "county",
    "country",
    "preferred_language",
    "do_not_email",
    "do_not_phone",
    "do_not_mail",
    "do_not_sms",
    "no_bulk_email",
    "on_hold",
    "is_deceased",
    "deceased_date",
    "local_party",
    "region",
    "constituency",
];

/// Membership columns whose changes are recorded.
pub const MEMBERSHIP_FIELDS: &[&str] = &[
    "membership_type",
    "join_date",
    "start_date",
    "end_date",
    "crm_status",
    "auto_renew",
];

/// What a change means to staff; `--kind` takes these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum ChangeKind {
    /// Street, city, postcode, county or country.
    Moved,
    LocalParty,
    Region,
    Constituency,
    Email,
    /// `On Hold` set: the CRM saw the email bounce.
    EmailBouncing,
    /// `On Hold` cleared.
    EmailWorking,
    Phone,
    /// Do-not flags, no bulk email, preferred language.
    Preferences,
    Deceased,
    MembershipType,
    Status,
    /// Join, start or end date.
    Dates,
    AutoRenew,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 14] = [
        ChangeKind::Moved,
        ChangeKind::LocalParty,
        ChangeKind::Region,
        ChangeKind::Constituency,
        ChangeKind::Email,
        ChangeKind::EmailBouncing,
        ChangeKind::EmailWorking,
        ChangeKind::Phone,
        ChangeKind::Preferences,
        ChangeKind::Deceased,
        ChangeKind::MembershipType,
        ChangeKind::Status,
        ChangeKind::Dates,
        ChangeKind::AutoRenew,
    ];

    /// The kind of a change to `field` whose new value is `new`; None for a field the feed
    /// does not record.
    pub fn of(field: &str, new: Option<&str>) -> Option<ChangeKind> {
        ChangeKind::ALL
            .into_iter()
            .find(|k| k.fields().contains(&field) && k.new_value().is_none_or(|v| Some(v) == new))
    }

    /// The fields a change of this kind is to.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            ChangeKind::Moved => &["street_address", "city", "postcode", "county", "country"],
            ChangeKind::LocalParty => &["local_party"],
            ChangeKind::Region => &["region"],
            ChangeKind::Constituency => &["constituency"],
            ChangeKind::Email => &["email"],
            ChangeKind::EmailBouncing | ChangeKind::EmailWorking => &["on_hold"],
            ChangeKind::Phone => &["phone"],
            ChangeKind::Preferences => &[
                "do_not_email",
                "do_not_phone",
                "do_not_mail",
                "do_not_sms",
                "no_bulk_email",
                "preferred_language",
            ],
            ChangeKind::Deceased => &["is_deceased", "deceased_date"],
            ChangeKind::MembershipType => &["membership_type"],
            ChangeKind::Status => &["crm_status"],
            ChangeKind::Dates => &["join_date", "start_date", "end_date"],
            ChangeKind::AutoRenew => &["auto_renew"],
        }
    }

    /// The new value a change must have to be of this kind, when the field alone does not say.
    pub fn new_value(self) -> Option<&'static str> {
        match self {
            ChangeKind::EmailBouncing => Some("1"),
            ChangeKind::EmailWorking => Some("0"),
            _ => None,
        }
    }

    /// The name `--kind` takes and the JSON and CSV carry.
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Moved => "moved",
            ChangeKind::LocalParty => "local-party",
            ChangeKind::Region => "region",
            ChangeKind::Constituency => "constituency",
            ChangeKind::Email => "email",
            ChangeKind::EmailBouncing => "email-bouncing",
            ChangeKind::EmailWorking => "email-working",
            ChangeKind::Phone => "phone",
            ChangeKind::Preferences => "preferences",
            ChangeKind::Deceased => "deceased",
            ChangeKind::MembershipType => "membership-type",
            ChangeKind::Status => "status",
            ChangeKind::Dates => "dates",
            ChangeKind::AutoRenew => "auto-renew",
        }
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for ChangeKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_recorded_field_has_a_kind_and_no_kind_names_an_unrecorded_field() {
        for field in CONTACT_FIELDS.iter().chain(MEMBERSHIP_FIELDS) {
            assert!(
                ChangeKind::of(field, Some("1")).is_some(),
                "{field} has no kind"
            );
        }
        for kind in ChangeKind::ALL {
            for field in kind.fields() {
                assert!(
                    CONTACT_FIELDS.contains(field) || MEMBERSHIP_FIELDS.contains(field),
                    "{kind} names {field}, which is not recorded"
                );
            }
        }
    }

    #[test]
    fn on_hold_is_bouncing_when_set_and_working_when_cleared() {
        assert_eq!(
            ChangeKind::of("on_hold", Some("1")),
            Some(ChangeKind::EmailBouncing)
        );
        assert_eq!(
            ChangeKind::of("on_hold", Some("0")),
            Some(ChangeKind::EmailWorking)
        );
        assert_eq!(
            ChangeKind::of("postcode", Some("CF10 1AA")),
            Some(ChangeKind::Moved)
        );
        assert_eq!(ChangeKind::of("first_name", Some("Siân")), None);
    }

    #[test]
    fn the_names_are_the_ones_clap_takes() {
        use clap::ValueEnum;
        for kind in ChangeKind::ALL {
            let parsed = ChangeKind::from_str(kind.name(), false).unwrap();
            assert_eq!(parsed, kind);
        }
    }
}
