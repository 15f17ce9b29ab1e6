//! What the person at this window may do, as the app knows it when it opens: whether the store
//! takes changes at all, and their staff role. The app hides what they may not do (help and the
//! hint line leave it out) and says why when they press it anyway; on a team database
//! PostgreSQL enforces the same limits whatever the app shows (`storage::team_access`).

use std::borrow::Cow;

use crate::domain::staff::Role;

/// Everything allowed ([`Access::full`]), for tests and benches that build panes by hand.
pub static FULL: Access = Access {
    role: None,
    read_only_because: None,
};

/// `--read-only` ([`Access::read_only`]).
pub static READ_ONLY: Access = Access {
    role: None,
    read_only_because: Some(Cow::Borrowed("--read-only")),
};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    /// Their role, when they are on the staff list (None: not staff, e.g. one officer's own
    /// SQLite file with no staff list, who may do everything).
    role: Option<Role>,
    /// Why nothing may be changed, when nothing may: "--read-only" or "your staff role is
    /// viewer".
    read_only_because: Option<Cow<'static, str>>,
}

impl Access {
    /// Everything: an SQLite file's owner, or the server's own administrator.
    pub fn full() -> Access {
        FULL.clone()
    }

    /// Opened with `--read-only`.
    pub fn read_only() -> Access {
        READ_ONLY.clone()
    }

    /// A staff member in `role`; `read_only` says the store itself was opened read-only
    /// (`--read-only`), which a role cannot lift.
    pub fn staff(role: Role, read_only: bool) -> Access {
        let because = if read_only {
            Some(Cow::Borrowed("--read-only"))
        } else if !role.changes() {
            Some(Cow::Owned(format!("your staff role is {role}")))
        } else {
            None
        };
        Access {
            role: Some(role),
            read_only_because: because,
        }
    }

    pub fn role(&self) -> Option<Role> {
        self.role
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only_because.is_some()
    }

    /// Why changes are refused ("--read-only", "your staff role is viewer"), if they are.
    pub fn read_only_because(&self) -> Option<&str> {
        self.read_only_because.as_deref()
    }

    /// Whether importing is theirs to do; when not, why, in words for the status line.
    pub fn may_import(&self) -> Result<(), String> {
        if let Some(why) = self.read_only_because() {
            return Err(format!("read-only ({why}): :import was refused"));
        }
        match self.role {
            Some(role) if !role.imports() => Err(format!(
                "importing is for admins (your staff role is {role}): ask one to run it"
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_viewer_reads_only_and_says_so() {
        let viewer = Access::staff(Role::Viewer, false);
        assert_eq!(
            viewer.read_only_because(),
            Some("your staff role is viewer")
        );
        assert!(viewer.may_import().is_err());
    }

    #[test]
    fn read_only_wins_over_a_role() {
        let admin = Access::staff(Role::Admin, true);
        assert_eq!(admin.read_only_because(), Some("--read-only"));
        assert!(admin.may_import().unwrap_err().contains("--read-only"));
    }

    #[test]
    fn only_admins_and_non_staff_import() {
        assert!(Access::full().may_import().is_ok());
        assert!(Access::staff(Role::Admin, false).may_import().is_ok());
        for role in [Role::Coordinator, Role::Officer, Role::Organiser] {
            let refusal = Access::staff(role, false).may_import().unwrap_err();
            assert!(
                refusal.contains(&format!("your staff role is {role}")),
                "{refusal}"
            );
        }
    }
}
