//! On a team database, what each staff role may see and do is enforced by PostgreSQL itself,
//! so the same limits hold in a `psql` session as in rollcall (issue 16; docs/team.md, "Who
//! may do what").
//!
//! - Each rollcall database has five group roles of its own, `rollcall_<database oid>_<role>`
//!   (`NOLOGIN`; roles are shared by every database on a server, the oid makes them this
//!   database's). A staff member's login is granted the group of their role (`add-staff`,
//!   `set-role`) and loses it on `remove-staff`. `CONNECT` is revoked from `PUBLIC`, so only a
//!   member of a group can connect at all: a removed staff member cannot.
//! - The admin group owns every table: admins import, erase (`forget`, with its `VACUUM`) and
//!   manage staff, and as owners they see every row. Everyone else reads every table through
//!   row-level security, and writes only the tables of staff work.
//! - Row-level security: an organiser sees the contacts of their regions and local parties
//!   (`staff_scopes`) and, through them, only those contacts' memberships, contact attempts,
//!   notes, onboarding, escalations and audit lines. Data-protection and safeguarding
//!   escalations are seen by coordinators and admins only. Saved UI state is each login's own.
//!
//! - Live changes: statement-level triggers on `audit_log` and `import_runs` (every change
//!   rollcall makes writes one or the other) call `pg_notify` on [`CHANNEL_SQL`]'s channel,
//!   `rollcall_<database oid>`, with the writer's backend pid as the payload, so that open app
//!   windows reload when another connection commits (`app::live`), and ignore their own.
//!
//! [`install`] is idempotent: `team init` and every migration (after it) run it. The
//! notification trigger lives here rather than in a migration pair because it is PostgreSQL's
//! alone (SQLite's windows poll `PRAGMA data_version`), and because a function and triggers
//! replaced on every install need no schema version of their own.

use anyhow::{Context as _, Result, bail};

use crate::domain::staff::Role;
use crate::storage::sql::Connection;

/// What staff (not only admins) write: the work rollcall exists for.
const STAFF_WORK: &[&str] = &[
    "contact_attempts",
    "notes",
    "assignments",
    "claims",
    "onboarding",
    "onboarding_steps",
    "escalations",
    "escalation_events",
    "snoozes",
    "exported_activities",
    "ui_state",
];

/// Tables whose rows belong to a contact, by the column that says which.
const BY_CONTACT: &[&str] = &[
    "memberships",
    "contact_attempts",
    "notes",
    "assignments",
    "claims",
    "onboarding",
    "onboarding_steps",
    "retention_keeps",
    "contact_tags",
    "field_changes",
];

/// Tables whose rows belong to a membership.
const BY_MEMBERSHIP: &[&str] = &["membership_events", "snoozes", "membership_dates_unknown"];

/// The escalation categories only coordinators (and admins) see.
const RESTRICTED_CATEGORIES: &str = "('data_protection', 'safeguarding')";

/// The channel this database's changes are announced on, as SQL: `rollcall_<database oid>`
/// (several rollcall databases can share a server, and a `LISTEN` is server-wide by name).
pub const CHANNEL_SQL: &str =
    "'rollcall_' || (SELECT oid FROM pg_database WHERE datname = current_database())::text";

/// The trigger function that announces a change, and the name its triggers have.
pub const NOTIFY_FUNCTION: &str = "rollcall_notify_change";

/// The tables whose writes announce a change: every officer's action writes an audit line, and
/// every import an `import_runs` row, in the change's own transaction. (`ui_state` does not:
/// one window's saved layout is nothing another shows.)
pub const ANNOUNCED_BY: &[&str] = &["audit_log", "import_runs"];

/// The function and triggers that `NOTIFY` the channel after each statement writing to
/// [`ANNOUNCED_BY`]. A notification is sent when the transaction commits, never for one rolled
/// back, and the same payload twice in one transaction is sent once. `pg_notify` needs no
/// privilege, and trigger functions run as the writer: no `SECURITY DEFINER`.
fn notify_triggers() -> String {
    let mut sql = format!(
        "CREATE OR REPLACE FUNCTION {NOTIFY_FUNCTION}() RETURNS trigger
             LANGUAGE plpgsql AS $$
         BEGIN
             PERFORM pg_notify({CHANNEL_SQL}, pg_backend_pid()::text);
             RETURN NULL;
         END $$;\n"
    );
    for table in ANNOUNCED_BY {
        sql.push_str(&format!(
            "DROP TRIGGER IF EXISTS {NOTIFY_FUNCTION} ON {table};
             CREATE TRIGGER {NOTIFY_FUNCTION} AFTER INSERT OR UPDATE OR DELETE ON {table}
                 FOR EACH STATEMENT EXECUTE FUNCTION {NOTIFY_FUNCTION}();\n"
        ));
    }
    sql
}

/// The group role of `role` in the connected database.
pub fn group_role(conn: &Connection, role: Role) -> Result<String> {
    let oid: i64 = conn.query_row(
        "SELECT oid::bigint FROM pg_database WHERE datname = current_database()",
        [],
        |r| r.get(0),
    )?;
    Ok(format!("rollcall_{oid}_{}", role.name()))
}

/// Creates the group roles, privileges and row-level security policies (again, if they are
/// there: every statement replaces what it would find). Run inside the schema's transaction
/// by an account that may create roles.
pub fn install(conn: &Connection) -> Result<()> {
    let may_create: bool = conn.query_row(
        "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user",
        [],
        |r| r.get(0),
    )?;
    if !may_create {
        let me: String = conn.query_row("SELECT current_user::text", [], |r| r.get(0))?;
        bail!(
            "{me} may not create roles, and rollcall gives each staff role a database role of \
             its own: run this as an account with CREATEROLE (as the server's administrator: \
             sudo -u postgres psql -c 'ALTER ROLE {me} CREATEROLE'); nothing was changed"
        );
    }
    let groups: Vec<(Role, String)> = Role::ALL
        .into_iter()
        .map(|r| Ok((r, group_role(conn, r)?)))
        .collect::<Result<_>>()?;
    let group = |role: Role| -> String {
        groups
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, g)| g.clone())
            .unwrap_or_default()
    };
    let mut sql = String::new();
    for (_, name) in &groups {
        sql.push_str(&format!(
            "DO $$ BEGIN
                 IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}') THEN
                     CREATE ROLE \"{name}\" NOLOGIN;
                 END IF;
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
             END $$;\n"
        ));
    }
    let everyone = groups
        .iter()
        .map(|(_, g)| format!("\"{g}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let workers = [Role::Coordinator, Role::Officer, Role::Organiser]
        .map(|r| format!("\"{}\"", group(r)))
        .join(", ");
    let admin = group(Role::Admin);
    sql.push_str(&format!(
        "GRANT \"{admin}\" TO current_user;
         DO $$ BEGIN
             EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
             EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO {}',
                            current_database());
         END $$;
         REVOKE ALL ON SCHEMA public FROM PUBLIC;
         GRANT USAGE ON SCHEMA public TO {everyone};
         GRANT CREATE ON SCHEMA public TO \"{admin}\";
         GRANT SELECT ON ALL TABLES IN SCHEMA public TO {everyone};
         GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {workers};
         GRANT INSERT ON audit_log TO {workers};
         GRANT INSERT, UPDATE, DELETE ON {} TO {workers};
         GRANT INSERT, UPDATE, DELETE ON retention_keeps TO \"{}\";\n",
        everyone,
        STAFF_WORK.join(", "),
        group(Role::Coordinator),
    ));
    sql.push_str(JUST_RAISED);
    let tables: Vec<String> = conn
        .prepare(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<crate::storage::sql::Result<_>>()?;
    for table in &tables {
        sql.push_str(&format!(
            "ALTER TABLE {table} OWNER TO \"{admin}\";
             ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;\n"
        ));
        sql.push_str(&policies(table, &group));
        sql.push_str(&raise_policy(table, &group));
    }
    sql.push_str(&notify_triggers());
    conn.execute_batch(&sql)
        .context("setting up the staff roles and their limits")?;
    Ok(())
}

/// Whether `raised` is the escalation this session opened last: the one an officer may write
/// the opening event and audit line of, though the category (a safeguarding concern) keeps
/// it from them once raised. `currval` is the session's own, and undefined (false here) until
/// the session has opened one.
const JUST_RAISED: &str = "
    CREATE OR REPLACE FUNCTION rollcall_just_raised(raised BIGINT) RETURNS BOOLEAN
    LANGUAGE plpgsql AS $$
    BEGIN
        RETURN raised = currval(pg_get_serial_sequence('escalations', 'id'));
    EXCEPTION WHEN object_not_in_prerequisite_state THEN
        RETURN false;
    END $$;
";

/// Anyone who works the queues may raise a data-protection request or a safeguarding concern
/// (a member says it on the phone), though only coordinators see and handle them: officers and
/// organisers may insert such an escalation as themselves, and its opening event and audit
/// line, without being able to read any of it back (`Connection::insert_id`).
fn raise_policy(table: &str, group: &dyn Fn(Role) -> String) -> String {
    let raisers = [Role::Officer, Role::Organiser]
        .map(|r| format!("\"{}\"", group(r)))
        .join(", ");
    let check = match table {
        "escalations" => {
            "opened_by = session_user AND status = 'open'
             AND (contact_id IS NULL OR EXISTS (SELECT 1 FROM contacts seen
                                               WHERE seen.id = escalations.contact_id))"
        }
        "escalation_events" => "staff = session_user AND rollcall_just_raised(escalation_id)",
        "audit_log" => {
            "staff = session_user AND entity = 'escalation' AND rollcall_just_raised(entity_id)"
        }
        _ => return String::new(),
    };
    format!(
        "DROP POLICY IF EXISTS rollcall_raise ON {table};
         CREATE POLICY rollcall_raise ON {table} FOR INSERT TO {raisers} WITH CHECK ({check});\n"
    )
}

/// The policies of one table (after dropping the ones rollcall made before).
fn policies(table: &str, group: &dyn Fn(Role) -> String) -> String {
    let unscoped = [Role::Admin, Role::Coordinator, Role::Officer, Role::Viewer]
        .map(|r| format!("\"{}\"", group(r)))
        .join(", ");
    let organiser = format!("\"{}\"", group(Role::Organiser));
    let officers = [Role::Officer, Role::Viewer]
        .map(|r| format!("\"{}\"", group(r)))
        .join(", ");
    let coordinators = format!("\"{}\"", group(Role::Coordinator));
    let scoped_contact = "(region IN (SELECT value FROM staff_scopes
                                      WHERE login = current_user AND kind = 'region')
                           OR local_party IN (SELECT value FROM staff_scopes
                                              WHERE login = current_user AND kind = 'local_party'))";
    // A row follows its contact (membership, escalation) through an EXISTS probe of the
    // parent's primary key, never `IN (SELECT id FROM …)`: at 550,000 contacts that set does not
    // fit `work_mem` as a hash, so PostgreSQL rescans it for every row and an organiser's Today
    // took minutes (BENCHMARKS.md, "The app on a 550,000-member team database").
    let (all_rows, organiser_rows) = match table {
        "contacts" => ("true".to_owned(), scoped_contact.to_owned()),
        t if BY_CONTACT.contains(&t) => (
            "true".to_owned(),
            format!("EXISTS (SELECT 1 FROM contacts seen WHERE seen.id = {table}.contact_id)"),
        ),
        t if BY_MEMBERSHIP.contains(&t) => (
            "true".to_owned(),
            format!(
                "EXISTS (SELECT 1 FROM memberships seen WHERE seen.id = {table}.membership_id)"
            ),
        ),
        // Three kinds of reader: coordinators see every escalation; officers and viewers all
        // but the restricted categories; organisers those, of their own members.
        "escalations" => {
            return format!(
                "DROP POLICY IF EXISTS rollcall_rows ON escalations;
                 DROP POLICY IF EXISTS rollcall_organiser ON escalations;
                 DROP POLICY IF EXISTS rollcall_unrestricted ON escalations;
                 CREATE POLICY rollcall_unrestricted ON escalations TO {coordinators}
                     USING (true);
                 CREATE POLICY rollcall_rows ON escalations TO {officers}
                     USING (category NOT IN {RESTRICTED_CATEGORIES});
                 CREATE POLICY rollcall_organiser ON escalations TO {organiser}
                     USING (category NOT IN {RESTRICTED_CATEGORIES}
                            AND EXISTS (SELECT 1 FROM contacts seen WHERE seen.id = {table}.contact_id));\n"
            );
        }
        "escalation_events" => (
            format!(
                "EXISTS (SELECT 1 FROM escalations seen WHERE seen.id = {table}.escalation_id)"
            ),
            format!(
                "EXISTS (SELECT 1 FROM escalations seen WHERE seen.id = {table}.escalation_id)"
            ),
        ),
        // Audit lines about a member follow the member; about an escalation (entity
        // `escalation`, as `storage::escalations` writes them), the escalation.
        "audit_log" => (
            format!(
                "entity <> 'escalation' OR EXISTS (SELECT 1 FROM escalations seen WHERE seen.id = {table}.entity_id)"
            ),
            format!(
                "(contact_id IS NULL OR EXISTS (SELECT 1 FROM contacts seen
                                                WHERE seen.id = {table}.contact_id))
                 AND (entity <> 'escalation' OR EXISTS (SELECT 1 FROM escalations seen
                                                        WHERE seen.id = {table}.entity_id))"
            ),
        ),
        "ui_state" => (
            "staff = current_user".to_owned(),
            "staff = current_user".to_owned(),
        ),
        // Rejected import lines are raw CRM rows: not an organiser's to read.
        "import_rejects" => ("true".to_owned(), "false".to_owned()),
        _ => ("true".to_owned(), "true".to_owned()),
    };
    format!(
        "DROP POLICY IF EXISTS rollcall_rows ON {table};
         DROP POLICY IF EXISTS rollcall_organiser ON {table};
         CREATE POLICY rollcall_rows ON {table} TO {unscoped} USING ({all_rows});
         CREATE POLICY rollcall_organiser ON {table} TO {organiser} USING ({organiser_rows});\n"
    )
}

/// Gives `login` the database role of `role` (creating the login, without a password, if the
/// server has none by that name: its password is set as any PostgreSQL password is). An
/// admin's login may create roles, so that they can manage staff in turn.
pub fn grant(conn: &Connection, login: &str, role: Role) -> Result<()> {
    let group = group_role(conn, role)?;
    let create_role = if role == Role::Admin {
        format!(
            "DO $$ BEGIN
                 IF NOT (SELECT rolcreaterole FROM pg_roles WHERE rolname = '{login}') THEN
                     ALTER ROLE \"{login}\" CREATEROLE;
                 END IF;
             END $$;"
        )
    } else {
        String::new()
    };
    conn.execute_batch(&format!(
        "DO $$ BEGIN
             IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{login}') THEN
                 CREATE ROLE \"{login}\" LOGIN;
             END IF;
         -- Logins belong to the whole server: another database's rollcall may be creating
         -- the same one at this moment.
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
         END $$;
         GRANT \"{group}\" TO \"{login}\";
         {create_role}"
    ))
    .with_context(|| format!("giving the database login {login} the {role} role"))?;
    Ok(())
}

/// Takes `role`'s database role from `login`.
pub fn revoke(conn: &Connection, login: &str, role: Role) -> Result<()> {
    let group = group_role(conn, role)?;
    conn.execute_batch(&format!("REVOKE \"{group}\" FROM \"{login}\""))
        .with_context(|| format!("taking the {role} role from the database login {login}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::escalation::Category;

    #[test]
    fn the_servers_restricted_categories_are_the_domains() {
        let domain: Vec<String> = Category::ALL
            .into_iter()
            .filter(|c| c.is_restricted())
            .map(|c| format!("'{}'", c.as_str()))
            .collect();
        assert_eq!(RESTRICTED_CATEGORIES, format!("({})", domain.join(", ")));
    }
}
