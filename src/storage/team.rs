//! The team engine: connecting to a shared PostgreSQL database, creating rollcall's schema in
//! it (`rollcall team init`), and the same version rules as the SQLite file: migrations counted
//! the same way, and a database from a newer rollcall refused untouched.
//!
//! PostgreSQL support starts at schema version 7 (`schema_pg.sql` is SQLite's v1–v7 in one
//! file). Each later migration comes as a pair, one file per engine, and both lists end at
//! [`super::SCHEMA_VERSION`].

use postgres::NoTls;
use postgres::config::SslMode as PgSslMode;

use super::location::TeamDatabase;
use super::sql::{Connection, PgConnection};
use super::tls::{self, Plan};
use super::{OpenMode, SCHEMA_VERSION, StoreError};

/// The schema PostgreSQL databases start from, and the version it equals.
const BASE: (i64, &str) = (7, include_str!("schema_pg.sql"));

/// PostgreSQL's migrations after [`BASE`], by the version each brings the database to.
const MIGRATIONS: &[(i64, &str)] = &[
    (8, include_str!("schema_pg_v8_nb_memberships_tags.sql")),
    (9, include_str!("schema_pg_v9_onboarding_arrival.sql")),
    (10, include_str!("schema_pg_v10_staff.sql")),
    (11, include_str!("schema_pg_v11_claims.sql")),
    (12, include_str!("schema_pg_v12_field_changes.sql")),
];

/// Connects, naming in one line what went wrong: the server unreachable, the login refused, no
/// such database, TLS refused or the server's certificate not trusted (`storage::tls`).
pub fn connect(db: &TeamDatabase) -> Result<postgres::Client, StoreError> {
    let mut config = db.config();
    let plan = tls::plan(db.tls(), &config).map_err(|problem| StoreError::Team {
        db: db.to_string(),
        problem,
    })?;
    match plan {
        Plan::Plain => {
            config.ssl_mode(PgSslMode::Disable);
            config
                .connect(NoTls)
                .map_err(|e| connect_error(db, &e, false))
        }
        Plan::Tls {
            required,
            connector,
        } => {
            config.ssl_mode(if required {
                PgSslMode::Require
            } else {
                PgSslMode::Prefer
            });
            match config.connect(connector) {
                Ok(client) => Ok(client),
                // libpq's prefer: a handshake that fails is tried again without TLS.
                Err(e) if !required && tls::is_handshake_failure(&e) => {
                    config.ssl_mode(PgSslMode::Disable);
                    config
                        .connect(NoTls)
                        .map_err(|e| connect_error(db, &e, false))
                }
                Err(e) => Err(connect_error(db, &e, true)),
            }
        }
    }
}

/// `with_tls`: whether TLS was asked for (a server refusing a plain connection is then not
/// this connection's sslmode's fault).
fn connect_error(db: &TeamDatabase, e: &postgres::Error, with_tls: bool) -> StoreError {
    let shown = db.to_string();
    if let Some(problem) = tls::problem(e, db.tls(), &db.host()) {
        return StoreError::Team { db: shown, problem };
    }
    if let Some(server) = e.as_db_error()
        && server.code().code() == "28000"
        && server.message().contains("no encryption")
        && !with_tls
    {
        return StoreError::Team {
            db: shown,
            problem: format!(
                "the server accepts only TLS connections here, and this one was without TLS \
                 ({}); use sslmode=require, or verify-full with the server's root certificate",
                db.tls()
            ),
        };
    }
    match e.code().map(|c| c.code()) {
        Some("28P01" | "28000") => StoreError::Team {
            db: shown,
            problem: format!(
                "the server refused the login of {}: check the password (in PGPASSWORD or \
                 ~/.pgpass, never in the URI on a shared machine) or ask who runs the server to \
                 give this account access",
                db.user()
            ),
        },
        Some("42501") => StoreError::Team {
            db: shown,
            problem: format!(
                "{} may not connect to this database: only the logins on its staff list may \
                 (an admin adds them with rollcall team add-staff; a removed staff member no \
                 longer can)",
                db.user()
            ),
        },
        Some("3D000") => StoreError::Team {
            db: shown,
            problem: format!(
                "the server has no database {name}; create it (`createdb {name}`) and run \
                 `rollcall team init`",
                name = db.dbname()
            ),
        },
        _ => StoreError::TeamUnreachable {
            db: shown,
            cause: super::sql::describe_postgres(e),
        },
    }
}

/// Opens a connection for [`super::Store`]: the schema must be rollcall's, and not newer than
/// this binary; an older one is migrated (read-write only).
pub fn open(db: &TeamDatabase, mode: OpenMode) -> Result<Connection, StoreError> {
    let client = connect(db)?;
    let conn = Connection::Postgres(Box::new(PgConnection::new(client)));
    let version = version(&conn, db)?;
    match version {
        None if has_tables(&conn)? => return Err(not_ours(db)),
        None => {
            return Err(StoreError::Team {
                db: db.to_string(),
                problem: "this database has no rollcall schema yet; run `rollcall team init` \
                          on it first (nothing was changed)"
                    .into(),
            });
        }
        Some(v) if v > SCHEMA_VERSION => return Err(too_new(db, v)),
        Some(v) if v < SCHEMA_VERSION => {
            if mode == OpenMode::ReadOnly {
                return Err(StoreError::ReadOnly(format!(
                    "upgrading the schema from version {v} to {SCHEMA_VERSION}"
                )));
            }
            migrate(&conn, db)?;
        }
        Some(_) => {}
    }
    if mode == OpenMode::ReadOnly {
        // The server itself refuses every write on this connection.
        conn.execute_batch("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")?;
    }
    Ok(conn)
}

/// What `rollcall team init` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Init {
    Created { version: i64, tables: i64 },
    Upgraded { from: i64, to: i64 },
    AlreadyCurrent { version: i64 },
}

/// Creates rollcall's schema in an empty database, or brings an older rollcall schema up to
/// date. A database holding other tables is refused untouched.
pub fn init(db: &TeamDatabase, user: &str, now: &str) -> Result<Init, StoreError> {
    let mut conn = Connection::Postgres(Box::new(PgConnection::new(connect(db)?)));
    match version(&conn, db)? {
        Some(v) if v > SCHEMA_VERSION => Err(too_new(db, v)),
        Some(v) if v == SCHEMA_VERSION => Ok(Init::AlreadyCurrent { version: v }),
        Some(v) => {
            migrate(&conn, db)?;
            Ok(Init::Upgraded {
                from: v,
                to: SCHEMA_VERSION,
            })
        }
        None if has_tables(&conn)? => Err(not_ours(db)),
        None => {
            let tx = conn.transaction()?;
            // Two `team init`s at once: the second waits here, then finds the schema made.
            tx.execute_batch("SELECT pg_advisory_xact_lock(7245001)")?;
            if version(&tx, db)?.is_some() {
                return Ok(Init::AlreadyCurrent {
                    version: SCHEMA_VERSION,
                });
            }
            tx.execute_batch(BASE.1)?;
            tx.execute(
                "INSERT INTO rollcall_schema (\"only\", version, created_at, created_by)
                 VALUES (1, ?1, ?2, ?3)",
                (BASE.0, now, user),
            )?;
            for (to, sql) in MIGRATIONS {
                tx.execute_batch(sql)?;
                tx.execute("UPDATE rollcall_schema SET version = ?1", [*to])?;
            }
            install_access(&tx, db)?;
            let tables: i64 = tx.query_row(
                "SELECT count(*) FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
                [],
                |r| r.get(0),
            )?;
            tx.commit()?;
            Ok(Init::Created {
                version: SCHEMA_VERSION,
                tables,
            })
        }
    }
}

/// The schema version, or `None` when there is no `rollcall_schema` table.
fn version(conn: &Connection, db: &TeamDatabase) -> Result<Option<i64>, StoreError> {
    let exists: bool = conn.query_row(
        "SELECT to_regclass('rollcall_schema') IS NOT NULL",
        [],
        |r| r.get(0),
    )?;
    if !exists {
        return Ok(None);
    }
    let version: Option<i64> = conn
        .query_row("SELECT version FROM rollcall_schema", [], |r| r.get(0))
        .map(Some)
        .or_else(|e| match e {
            super::sql::Error::NoRows => Ok(None),
            other => Err(other),
        })?;
    version.map(Some).ok_or_else(|| not_ours(db))
}

fn has_tables(conn: &Connection) -> Result<bool, StoreError> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM information_schema.tables
                        WHERE table_schema = current_schema())",
        [],
        |r| r.get(0),
    )?)
}

/// Runs the migrations the database lacks, in one transaction; the version is read again under
/// a lock so that two rollcalls upgrading at once run each migration once.
fn migrate(conn: &Connection, db: &TeamDatabase) -> Result<(), StoreError> {
    let tx = conn.unchecked_transaction()?;
    tx.execute_batch("LOCK TABLE rollcall_schema IN EXCLUSIVE MODE")?;
    let current = version(&tx, db)?.ok_or_else(|| not_ours(db))?;
    if current > SCHEMA_VERSION {
        return Err(too_new(db, current));
    }
    for (to, sql) in MIGRATIONS.iter().filter(|(to, _)| *to > current) {
        tx.execute_batch(sql)?;
        tx.execute("UPDATE rollcall_schema SET version = ?1", [*to])?;
    }
    // Again after every migration: a table a migration adds needs its owner and policies.
    install_access(&tx, db)?;
    tx.commit()?;
    Ok(())
}

fn install_access(conn: &Connection, db: &TeamDatabase) -> Result<(), StoreError> {
    super::team_access::install(conn).map_err(|e| StoreError::Team {
        db: db.to_string(),
        problem: format!("{e:#}"),
    })
}

fn not_ours(db: &TeamDatabase) -> StoreError {
    StoreError::NotADatabase {
        path: db.to_string().into(),
        detail: "it is a PostgreSQL database, but not one rollcall made (it holds other \
                 tables); give rollcall an empty database of its own"
            .into(),
    }
}

fn too_new(db: &TeamDatabase, found: i64) -> StoreError {
    StoreError::TooNew {
        path: db.to_string().into(),
        found,
        known: SCHEMA_VERSION,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgresql_migrations_end_at_the_schema_version_sqlite_has() {
        let last = MIGRATIONS.last().map_or(BASE.0, |(to, _)| *to);
        assert_eq!(
            last, SCHEMA_VERSION,
            "add the PostgreSQL half of the new migration"
        );
        let mut previous = BASE.0;
        for (to, _) in MIGRATIONS {
            assert_eq!(*to, previous + 1, "one version at a time");
            previous = *to;
        }
    }
}
