//! Staff: who works in rollcall, in which role, and over which members (issue 16).
//!
//! The roles, from most to least: an administrator imports, erases and manages staff; a
//! coordinator does an officer's work and also sees and handles data-protection and
//! safeguarding escalations; an officer works every queue; an organiser works the queues of
//! their own regions or local parties only; a viewer looks and changes nothing.

use std::fmt;

use serde::Serialize;

/// A staff member's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Coordinator,
    Officer,
    Organiser,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Coordinator,
        Role::Officer,
        Role::Organiser,
        Role::Viewer,
    ];

    /// The name in commands, the database and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::Officer => "officer",
            Role::Organiser => "organiser",
            Role::Viewer => "viewer",
        }
    }

    /// Reads a role name; the error lists the roles there are.
    pub fn parse(text: &str) -> Result<Role, String> {
        let wanted = text.trim().to_lowercase();
        // "organizer" is how the US CRMs spell it; staff copy it from there.
        let wanted = if wanted == "organizer" {
            "organiser".to_owned()
        } else {
            wanted
        };
        Role::ALL
            .into_iter()
            .find(|r| r.name() == wanted)
            .ok_or_else(|| {
                format!(
                    "no role {text:?}: the roles are {}",
                    Role::ALL.map(Role::name).join(", ")
                )
            })
    }

    /// Whether this role changes anything at all (a viewer only looks).
    pub fn changes(self) -> bool {
        self != Role::Viewer
    }

    /// Whether this role imports CRM exports (and erases, and manages staff).
    pub fn imports(self) -> bool {
        self == Role::Admin
    }

    /// Whether this role sees and handles data-protection and safeguarding escalations (anyone
    /// who works the queues may raise one).
    pub fn sees_restricted_escalations(self) -> bool {
        matches!(self, Role::Admin | Role::Coordinator)
    }

    /// Whether this role's work is limited to some regions or local parties.
    pub fn is_scoped(self) -> bool {
        self == Role::Organiser
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// The longest login: PostgreSQL's limit on a role name.
pub const MAX_LOGIN: usize = 63;

/// A staff login: what they connect to a team database as, and the name on their changes.
/// Lower-case letters, digits, `.`, `_` and `-`, starting with a letter, so that it is the same
/// word in a `psql` session, a `.pgpass` line and rollcall (no quoting, no case folding).
pub fn check_login(login: &str) -> Result<&str, String> {
    let valid = !login.is_empty()
        && login.len() <= MAX_LOGIN
        && login.starts_with(|c: char| c.is_ascii_lowercase())
        && login
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if valid {
        Ok(login)
    } else {
        Err(format!(
            "{login:?} is not a staff login: 1 to {MAX_LOGIN} lower-case letters, digits, '.', \
             '_' or '-', starting with a letter (for example ann or ann.jones)"
        ))
    }
}

/// Which regions and local parties an organiser works on. Empty for every other role.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Scope {
    pub regions: Vec<String>,
    pub local_parties: Vec<String>,
}

impl Scope {
    pub fn is_empty(&self) -> bool {
        self.regions.is_empty() && self.local_parties.is_empty()
    }

    /// The rule between a role and its scope: an organiser has at least one region or local
    /// party (else they would see nobody), and nobody else has any (their work is not limited).
    pub fn check_for(&self, role: Role) -> Result<(), String> {
        match (role.is_scoped(), self.is_empty()) {
            (true, true) => Err(
                "an organiser works on some regions or local parties: give at least one \
                 --region or --local-party"
                    .into(),
            ),
            (false, false) => Err(format!(
                "only organisers are limited to regions or local parties; an {role} works on \
                 every member (leave out --region and --local-party, or make them an organiser)"
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_their_own_names_and_the_us_spelling() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.name()), Ok(role));
        }
        assert_eq!(Role::parse(" Organizer "), Ok(Role::Organiser));
        let err = Role::parse("boss").unwrap_err();
        assert!(
            err.contains("admin, coordinator, officer, organiser, viewer"),
            "{err}"
        );
    }

    #[test]
    fn logins_are_one_word_that_needs_no_quoting() {
        for good in ["ann", "ann.jones", "bo_2", "a-b"] {
            assert_eq!(check_login(good), Ok(good));
        }
        for bad in [
            "",
            "Ann",
            "1ann",
            "ann jones",
            "ann;drop",
            "ånn",
            &"a".repeat(64),
        ] {
            assert!(check_login(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_organisers_have_a_scope_and_they_must() {
        let scoped = Scope {
            regions: vec!["Wales".into()],
            local_parties: vec![],
        };
        assert!(scoped.check_for(Role::Organiser).is_ok());
        assert!(Scope::default().check_for(Role::Organiser).is_err());
        assert!(scoped.check_for(Role::Officer).is_err());
        assert!(Scope::default().check_for(Role::Viewer).is_ok());
    }
}
