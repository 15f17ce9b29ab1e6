//! The staff list in the store (`staff`, `staff_scopes`; schema v10): adding, listing, changing
//! a role, removing; and the check that work is only assigned to someone on it.
//!
//! A store whose list is empty is one officer's (or a team that has not set up its staff yet):
//! any name may be assigned, and the first staff member added must be an administrator. From
//! then on only an administrator manages staff, the last administrator cannot be removed or
//! demoted, and every assignment names a current staff member.
//!
//! On a team database each staff member is also a database login, given the database role of
//! their staff role ([`team_access`]), and acts as that login ([`acting_user`]). On an SQLite
//! file the acting user is `--user` (else the OS user) and the file's permissions are the
//! access control (docs/team.md, "Staff").

use anyhow::{Context as _, Result, bail};
use serde::Serialize;
use serde_json::json;

use super::audit::{self, Change};
use super::{Store, team_access};
use crate::Clock;
use crate::domain::staff::{Role, Scope, check_login};
use crate::storage::sql::{Connection, Engine, OptionalExtension, Transaction, params};

/// One staff member as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffMember {
    pub login: String,
    pub name: String,
    pub role: Role,
    pub scope: Scope,
    pub added_by: String,
    pub added_at: String,
    pub removed_by: Option<String>,
    pub removed_at: Option<String>,
}

/// What `team add-staff` is given.
#[derive(Debug, Clone)]
pub struct NewStaff {
    pub login: String,
    pub name: String,
    pub role: Role,
    pub scope: Scope,
}

/// Every staff member, current ones first, each group by login; removed ones only if asked.
pub fn list(conn: &Connection, with_removed: bool) -> Result<Vec<StaffMember>> {
    let mut stmt = conn.prepare_cached(
        "SELECT login, name, role, added_by, added_at, removed_by, removed_at FROM staff
         WHERE ?1 = 1 OR removed_at IS NULL
         ORDER BY removed_at IS NOT NULL, login",
    )?;
    let rows = stmt.query_map(params![i64::from(with_removed)], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, Option<String>>(6)?,
        ))
    })?;
    let mut scopes = scopes(conn)?;
    let mut staff = Vec::new();
    for row in rows {
        let (login, name, role, added_by, added_at, removed_by, removed_at) = row?;
        let role = Role::parse(&role)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("staff member {login} has a damaged role"))?;
        let scope = scopes.remove(&login).unwrap_or_default();
        staff.push(StaffMember {
            login,
            name,
            role,
            scope,
            added_by,
            added_at,
            removed_by,
            removed_at,
        });
    }
    Ok(staff)
}

/// One staff member, removed or not.
pub fn find(conn: &Connection, login: &str) -> Result<Option<StaffMember>> {
    Ok(list(conn, true)?.into_iter().find(|s| s.login == login))
}

/// Every staff member's regions and local parties, by login (one query for the whole list).
fn scopes(conn: &Connection) -> Result<std::collections::HashMap<String, Scope>> {
    let mut stmt = conn.prepare_cached(
        "SELECT login, kind, value FROM staff_scopes ORDER BY login, kind, value",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut scopes: std::collections::HashMap<String, Scope> = std::collections::HashMap::new();
    for row in rows {
        let (login, kind, value) = row?;
        let scope = scopes.entry(login).or_default();
        if kind == "region" {
            scope.regions.push(value);
        } else {
            scope.local_parties.push(value);
        }
    }
    Ok(scopes)
}

/// Adds a staff member. Refused, with nothing written: a login that is taken (also by someone
/// removed: their changes carry it), a name that is not a staff name, a role without the scope
/// it needs, a region or local party no member has, or an acting user who may not manage staff.
/// Returns the scope as stored (spelt as the members' records spell it).
pub fn add(store: &mut Store, clock: &Clock, new: &NewStaff) -> Result<Scope> {
    let login = check_login(&new.login).map_err(anyhow::Error::msg)?;
    let name = crate::domain::check_staff_name(&new.name).map_err(anyhow::Error::msg)?;
    new.scope.check_for(new.role).map_err(anyhow::Error::msg)?;
    store.write("adding a staff member", |tx| {
        let current = list(tx, false)?;
        if current.is_empty() {
            if new.role != Role::Admin {
                bail!(
                    "the first staff member must be an admin, who then adds the others \
                     (rollcall team add-staff {login} --name … --role admin)"
                );
            }
        } else {
            require_admin(&current, clock, "add staff")?;
        }
        if let Some(taken) = find(tx, login)? {
            match taken.removed_at {
                None => bail!("{login} is already on the staff list, as {}", taken.role),
                Some(when) => bail!(
                    "{login} was on the staff list until {}; a login is never given to \
                     someone else, because their old changes carry it: choose another",
                    day(&when)
                ),
            }
        }
        let scope = known_scope(tx, &new.scope)?;
        tx.execute(
            "INSERT INTO staff (login, name, role, added_by, added_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                login,
                name,
                new.role.name(),
                clock.user,
                clock.now_rfc3339()
            ],
        )?;
        write_scope(tx, login, &scope)?;
        if tx.engine() == Engine::Postgres {
            team_access::grant(tx, login, new.role)?;
        }
        audit::record(
            tx,
            clock,
            Change {
                action: "staff.add",
                entity: "staff",
                entity_id: None,
                contact_id: None,
                before: None,
                after: Some(
                    json!({ "login": login, "name": name, "role": new.role, "scope": scope }),
                ),
            },
        )?;
        Ok(scope)
    })
}

/// Gives a staff member another role (and, for an organiser, their scope). Returns the role they
/// had and the scope as stored. The last administrator keeps theirs.
pub fn set_role(
    store: &mut Store,
    clock: &Clock,
    login: &str,
    role: Role,
    scope: &Scope,
) -> Result<(Role, Scope)> {
    scope.check_for(role).map_err(anyhow::Error::msg)?;
    store.write("changing a staff member's role", |tx| {
        let current = list(tx, false)?;
        require_admin(&current, clock, "change roles")?;
        let before = current_member(&current, login)?;
        if before.role == Role::Admin && role != Role::Admin {
            require_another_admin(&current, login, "stop being an admin")?;
        }
        if before.role == role && before.scope == *scope {
            bail!("{login} is already {role}; nothing was changed");
        }
        let scope = known_scope(tx, scope)?;
        tx.execute(
            "UPDATE staff SET role = ?2 WHERE login = ?1",
            params![login, role.name()],
        )?;
        tx.execute("DELETE FROM staff_scopes WHERE login = ?1", [login])?;
        write_scope(tx, login, &scope)?;
        if tx.engine() == Engine::Postgres && before.role != role {
            team_access::revoke(tx, login, before.role)?;
            team_access::grant(tx, login, role)?;
        }
        audit::record(
            tx,
            clock,
            Change {
                action: "staff.set_role",
                entity: "staff",
                entity_id: None,
                contact_id: None,
                before: Some(json!({ "login": login, "role": before.role, "scope": before.scope })),
                after: Some(json!({ "login": login, "role": role, "scope": scope })),
            },
        )?;
        Ok((before.role, scope))
    })
}

/// Takes a staff member off the list. Their row stays, marked removed, so that their name on
/// past changes still says who they were; work assigned to them stays assigned (and shows it)
/// until someone reassigns it.
pub fn remove(store: &mut Store, clock: &Clock, login: &str) -> Result<()> {
    store.write("removing a staff member", |tx| {
        let current = list(tx, false)?;
        require_admin(&current, clock, "remove staff")?;
        let member = current_member(&current, login)?;
        if member.role == Role::Admin {
            require_another_admin(&current, login, "be removed")?;
        }
        tx.execute(
            "UPDATE staff SET removed_by = ?2, removed_at = ?3 WHERE login = ?1",
            params![login, clock.user, clock.now_rfc3339()],
        )?;
        if tx.engine() == Engine::Postgres {
            // Without their group they may no longer connect (CONNECT is the groups' only).
            team_access::revoke(tx, login, member.role)?;
        }
        audit::record(
            tx,
            clock,
            Change {
                action: "staff.remove",
                entity: "staff",
                entity_id: None,
                contact_id: None,
                before: Some(json!({ "login": login, "role": member.role })),
                after: None,
            },
        )?;
        Ok(())
    })
}

/// Why work may not be assigned to someone.
#[derive(Debug, thiserror::Error)]
pub enum AssigneeError {
    #[error("{0}")]
    NotOnStaff(String),
    #[error(transparent)]
    Store(#[from] crate::storage::sql::Error),
}

/// Work may be assigned to `assignee` (already a checked staff name): anyone while the staff
/// list is empty, else only a current staff member, named by login.
pub fn check_assignee(conn: &Connection, assignee: &str) -> Result<(), AssigneeError> {
    let current: Vec<String> = conn
        .prepare_cached("SELECT login FROM staff WHERE removed_at IS NULL ORDER BY login")?
        .query_map([], |r| r.get(0))?
        .collect::<crate::storage::sql::Result<_>>()?;
    if current.is_empty() || current.iter().any(|login| login == assignee) {
        return Ok(());
    }
    let removed: Option<Option<String>> = conn
        .query_row(
            "SELECT removed_at FROM staff WHERE login = ?1",
            [assignee],
            |r| r.get(0),
        )
        .optional()?;
    Err(AssigneeError::NotOnStaff(match removed {
        Some(Some(when)) => format!(
            "{assignee} is no longer on the staff list (removed {}); assign someone who is",
            day(&when)
        ),
        _ => format!(
            "{assignee:?} is not on the staff list; assign one of: {}",
            current.join(", ")
        ),
    }))
}

fn require_admin(current: &[StaffMember], clock: &Clock, what: &str) -> Result<()> {
    match current.iter().find(|s| s.login == clock.user) {
        Some(s) if s.role == Role::Admin => Ok(()),
        Some(s) => bail!("only an admin can {what}; {} is {}", clock.user, s.role),
        None => bail!(
            "only an admin can {what}, and {} is not on the staff list",
            clock.user
        ),
    }
}

fn current_member<'a>(current: &'a [StaffMember], login: &str) -> Result<&'a StaffMember> {
    current.iter().find(|s| s.login == login).with_context(|| {
        format!("{login} is not on the staff list (`rollcall team staff` lists it)")
    })
}

fn require_another_admin(current: &[StaffMember], login: &str, what: &str) -> Result<()> {
    if current
        .iter()
        .any(|s| s.role == Role::Admin && s.login != login)
    {
        return Ok(());
    }
    bail!(
        "{login} is the last admin and cannot {what}: make someone else an admin first \
         (rollcall team set-role LOGIN admin)"
    )
}

/// The scope with each region and local party spelt as the members' records spell it; a name
/// no member has is refused (a typo would otherwise give an organiser nobody).
fn known_scope(conn: &Connection, scope: &Scope) -> Result<Scope> {
    Ok(Scope {
        regions: known_values(conn, "region", &scope.regions)?,
        local_parties: known_values(conn, "local_party", &scope.local_parties)?,
    })
}

fn known_values(conn: &Connection, column: &str, wanted: &[String]) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for value in wanted {
        let spelt: Option<String> = conn
            .query_row(
                &format!("SELECT {column} FROM contacts WHERE lower({column}) = lower(?1) LIMIT 1"),
                [value.trim()],
                |r| r.get(0),
            )
            .optional()?;
        let label = column.replace('_', " ");
        match spelt {
            Some(s) if !s.is_empty() => {
                if !found.contains(&s) {
                    found.push(s);
                }
            }
            _ => bail!("no member's {label} is {value:?}; check the spelling against the CRM"),
        }
    }
    Ok(found)
}

fn write_scope(tx: &Transaction<'_>, login: &str, scope: &Scope) -> Result<()> {
    let kinds = [
        ("region", &scope.regions),
        ("local_party", &scope.local_parties),
    ];
    for (kind, values) in kinds {
        for value in values {
            tx.execute(
                "INSERT INTO staff_scopes (login, kind, value) VALUES (?1, ?2, ?3)",
                params![login, kind, value],
            )?;
        }
    }
    Ok(())
}

/// The date part of a stored RFC 3339 time.
fn day(at: &str) -> &str {
    at.get(..10).unwrap_or(at)
}

/// On a team database, the role of the login this connection authenticated as, when that login
/// is on the staff list (None: an SQLite file, or a setup account such as the server's
/// administrator, which is not staff).
pub fn login_role(conn: &Connection) -> Result<Option<(String, Role)>> {
    if conn.engine() != Engine::Postgres {
        return Ok(None);
    }
    // One round trip: every command and window on a team database asks this when it opens.
    let (login, role): (String, Option<String>) = conn.query_row(
        "SELECT session_user::text, (SELECT role FROM staff
                                     WHERE login = session_user AND removed_at IS NULL)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let Some(role) = role else {
        return Ok(None);
    };
    let role = Role::parse(&role)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("staff member {login} has a damaged role"))?;
    Ok(Some((login, role)))
}

/// The staff role of the person acting as `user`: on a team database the login's (see
/// [`login_role`]); on an SQLite file the staff list's entry for `user`, if there is one.
pub fn role_of(conn: &Connection, user: &str) -> Result<Option<Role>> {
    if conn.engine() == Engine::Postgres {
        return Ok(login_role(conn)?.map(|(_, role)| role));
    }
    Ok(find(conn, user)?
        .filter(|s| s.removed_at.is_none())
        .map(|s| s.role))
}

/// The name changes are recorded under: on a team database a staff member acts as the login
/// they authenticated as, whatever `--user` says (refused when it names someone else), so that
/// every change is theirs. Elsewhere, `claimed` (from `--user`, `ROLLCALL_USER` or the OS).
pub fn acting_user(conn: &Connection, claimed: &str) -> Result<Option<Role>> {
    match login_role(conn)? {
        Some((login, _)) if login != claimed => bail!(
            "on this team database you act as the login you connected as, {login}; \
             --user / ROLLCALL_USER {claimed} is refused (leave it out)"
        ),
        Some((_, role)) => Ok(Some(role)),
        None => Ok(None),
    }
}
