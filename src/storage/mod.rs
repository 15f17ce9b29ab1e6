//! Storage: the database, on either engine (an SQLite file, or a team's PostgreSQL database),
//! its schema and migrations, and every query the rest of rollcall runs against it. No SQL lives
//! outside this folder.
//!
//! Every connection goes through [`Store::open_at`]. A file is opened by [`Store::open`], which
//! sets WAL, foreign keys and a busy timeout, creates the file owner-only and applies
//! migrations; a team database by [`team::open`], which checks its schema. A database written by
//! a newer rollcall is refused rather than touched. [`sql::Connection`] is the one connection
//! type over both engines (docs/team.md).

mod access;
pub mod activities;
pub mod assignments;
pub mod audit;
mod busy;
pub mod changes;
pub mod claims;
pub mod cohorts;
pub mod drift;
pub mod duplicates;
pub mod erase;
pub mod escalations;
mod explain;
pub(crate) mod import_postgres;
pub mod import_runs;
pub(crate) mod import_sqlite;
mod in_place;
pub mod letters;
pub mod location;
pub mod member;
pub mod member_list;
pub mod onboarding;
mod permissions;
pub mod renewals;
pub mod retention;
pub mod search_source;
pub mod sql;
pub mod staff;
pub mod stats;
pub mod subject_access;
pub mod team;
pub mod team_access;
pub mod test_hook;
pub mod tls;
pub mod ui_state;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::OpenFlags;

pub use location::{Location, TeamDatabase};
use sql::OptionalExtension;
pub use sql::{Connection, Engine};

pub use busy::{notify_long_wait, on_long_wait};
pub use explain::{explain, explain_anyhow};
pub use permissions::{
    COMPANION_SUFFIXES, PermissionProblem, check_permissions, create_new_owner_only,
    database_files, is_owner_only, not_a_regular_file, open_without_blocking,
};

/// Bytes per database page for new databases (see `migrate`).
const PAGE_SIZE: i64 = 16_384;

/// Schema migrations, applied in order. `PRAGMA user_version` holds how many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("schema_v1.sql"),
    include_str!("schema_v2_escalations.sql"),
    include_str!("schema_v3_onboarding.sql"),
    include_str!("schema_v4_today.sql"),
    include_str!("schema_v5_renewals.sql"),
    include_str!("schema_v6_new_pending.sql"),
    include_str!("schema_v7_privacy.sql"),
    include_str!("schema_v8_nb_memberships_tags.sql"),
    include_str!("schema_v9_onboarding_arrival.sql"),
    include_str!("schema_v10_staff.sql"),
    include_str!("schema_v11_claims.sql"),
    include_str!("schema_v12_field_changes.sql"),
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How long a writer waits for another process's write to finish before giving up.
/// Imports hold the write lock for seconds, so this is generous.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: not a rollcall database (or it is damaged): {detail}")]
    NotADatabase { path: PathBuf, detail: String },
    #[error(
        "{path}: this database has schema version {found}, but this rollcall only knows up to \
         {known}; upgrade rollcall to open it (nothing was changed)"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("{path}: not a database file: it is {kind}")]
    NotAFile { path: PathBuf, kind: &'static str },
    #[error(
        "{path}: is {kind}, where SQLite keeps a file of the database's own; move it out of the \
         way (nothing was changed)"
    )]
    StrangeCompanion { path: PathBuf, kind: &'static str },
    #[error("{path}: no database here; run `rollcall import` or `rollcall demo` first")]
    Missing { path: PathBuf },
    #[error(
        "{path}: the database is readable or writable by other users ({detail}); member data must \
         be owner-only. Run again with --fix-permissions to make it so"
    )]
    Exposed { path: PathBuf, detail: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot {action} {path}: {cause}")]
    Database {
        path: PathBuf,
        action: &'static str,
        cause: String,
    },
    #[error("{db}: {problem}")]
    Team { db: String, problem: String },
    #[error(
        "{db}: team database unreachable ({cause}); check that the server is running and the \
         URI's host and port"
    )]
    TeamUnreachable { db: String, cause: String },
    #[error("database is in read-only mode (--read-only): {0} was refused")]
    ReadOnly(String),
    #[error(
        "your staff role is {role}, which only reads: {what} was refused (an admin can change \
         it: rollcall team set-role)"
    )]
    RoleReadsOnly { role: &'static str, what: String },
    #[error(transparent)]
    Sqlite(rusqlite::Error),
    #[error("{0}")]
    Sql(sql::Error),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e)
    }
}

/// SQLite's errors stay `Sqlite`, so the code that explains them (a full disk, a lock) still
/// sees them; the rest (PostgreSQL's, a wrong column type) are `Sql`.
impl From<sql::Error> for StoreError {
    fn from(e: sql::Error) -> Self {
        match e {
            sql::Error::Sqlite(e) => StoreError::Sqlite(e),
            other => StoreError::Sql(other),
        }
    }
}

/// How a store is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the file (owner-only) if missing, migrate, allow writes.
    ReadWrite,
    /// The file must exist; every write is refused by SQLite itself.
    ReadOnly,
}

/// An open rollcall database, with the identity of the staff member acting on it.
pub struct Store {
    pub conn: Connection,
    /// The file, or for a team database its URI without the password (what messages name).
    path: PathBuf,
    location: Location,
    mode: OpenMode,
    /// Set when a staff role that only reads opened it ([`Store::read_only_for`]).
    reads_only_as: Option<crate::domain::staff::Role>,
}

impl Store {
    /// Opens the database at `location`: an SQLite file as [`Store::open`] does (or
    /// [`Store::open_fixing_permissions`]), or a team's PostgreSQL database, which must hold
    /// rollcall's schema already (`rollcall team init`).
    pub fn open_at(location: &Location, mode: OpenMode, fix_permissions: bool) -> Result<Store> {
        match location {
            Location::File(path) => Store::open_with(path, mode, fix_permissions),
            Location::Team(db) => Ok(Store {
                conn: team::open(db, mode)?,
                path: location.shown(),
                location: location.clone(),
                mode,
                reads_only_as: None,
            }),
        }
    }

    /// Opens (creating if needed) the database at `path`. Files others can read are refused.
    pub fn open(path: &Path, mode: OpenMode) -> Result<Store> {
        Store::open_with(path, mode, false)
    }

    /// Opens the database like [`Store::open`], making its files owner-only (0600) first when
    /// others can read them (`--fix-permissions`). Modes are changed only once the file has been
    /// read as a rollcall database, and only of its own regular files.
    pub fn open_fixing_permissions(path: &Path, mode: OpenMode) -> Result<Store> {
        Store::open_with(path, mode, true)
    }

    fn open_with(path: &Path, mode: OpenMode, fix_permissions: bool) -> Result<Store> {
        let exists = match std::fs::metadata(path) {
            Ok(meta) => match not_a_regular_file(meta.file_type()) {
                None => true,
                Some(kind) => {
                    return Err(StoreError::NotAFile {
                        path: path.to_owned(),
                        kind,
                    });
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(source) => {
                return Err(StoreError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        if !exists && mode == OpenMode::ReadOnly {
            return Err(StoreError::Missing {
                path: path.to_owned(),
            });
        }
        if !exists {
            permissions::create_owner_only(path)?;
        }
        let exposed = check_permissions(path)?;
        if let Some(problem) = &exposed
            && !fix_permissions
        {
            return Err(StoreError::Exposed {
                path: path.to_owned(),
                detail: problem.to_string(),
            });
        }
        let mut store = match Store::connect(path, mode) {
            Err(e) if mode == OpenMode::ReadOnly && is_interrupted_write(&e) => {
                // A read-only connection cannot roll back what a killed write left: do that
                // through a read-write one, when this account may, and read on.
                access::roll_back_interrupted_write(path).map_err(|_| StoreError::Database {
                    path: path.to_owned(),
                    action: "read",
                    cause: access::interrupted_write_advice(path),
                })?;
                Store::connect(path, mode)
            }
            other => other,
        }
        .map_err(|e| damaged(path, e))?;
        let version = store.version_if_ours().map_err(|e| damaged(path, e))?;
        if exposed.is_some() {
            // Reading it may have made its shared-memory file with the same exposed mode: fix
            // that too.
            permissions::fix_permissions(path)?;
        }
        store.migrate(version).map_err(|e| damaged(path, e))?;
        Ok(store)
    }

    /// A connection to `path` that waits for other processes' locks, with the file read once
    /// (so a file that is not SQLite, or a damaged one, fails here).
    fn connect(path: &Path, mode: OpenMode) -> Result<Store> {
        if mode == OpenMode::ReadWrite && !access::is_writable(&access::directory_of(path)) {
            // SQLite would fail later, and less clearly, on its first journal or WAL file.
            return Err(StoreError::Database {
                path: path.to_owned(),
                action: "write to",
                cause: format!(
                    "its directory {} is read-only for this account, and SQLite keeps its \
                     journal and WAL files there (to look only, use --read-only)",
                    access::directory_of(path).display()
                ),
            });
        }
        let flags = OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = match mode {
            OpenMode::ReadWrite => rusqlite::Connection::open_with_flags(
                path,
                flags | OpenFlags::SQLITE_OPEN_READ_WRITE,
            ),
            OpenMode::ReadOnly => {
                access::open_read_only(path, flags | OpenFlags::SQLITE_OPEN_READ_ONLY)
            }
        };
        let mut conn = conn.map_err(|e| not_a_db(path, e))?;
        // Before anything reads the file: another process may be writing it right now.
        busy::wait_when_busy(&mut conn, BUSY_TIMEOUT)?;
        let mut store = Store {
            conn: Connection::Sqlite(conn),
            path: path.to_owned(),
            location: Location::File(path.to_owned()),
            mode,
            reads_only_as: None,
        };
        store.configure()?;
        Ok(store)
    }

    /// A private in-memory database (tests and benchmarks).
    pub fn open_in_memory() -> Result<Store> {
        let conn = rusqlite::Connection::open_in_memory()?;
        let mut store = Store {
            conn: Connection::Sqlite(conn),
            path: PathBuf::from(":memory:"),
            location: Location::File(PathBuf::from(":memory:")),
            mode: OpenMode::ReadWrite,
            reads_only_as: None,
        };
        store.configure()?;
        let version = store.version_if_ours()?;
        store.migrate(version)?;
        Ok(store)
    }

    /// The file, or for a team database its URI without the password: for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    pub fn engine(&self) -> Engine {
        self.conn.engine()
    }

    /// A team database whose connection has gone (the server stopped, the network dropped).
    pub fn is_disconnected(&self) -> bool {
        self.conn
            .postgres()
            .is_some_and(sql::PgConnection::is_closed)
    }

    /// Connects again to a team database, in the same mode; an SQLite file needs nothing.
    pub fn reconnect(&mut self) -> Result<()> {
        if let Location::Team(db) = &self.location {
            self.conn = team::open(db, self.mode)?;
        }
        Ok(())
    }

    /// On a team database, the server process serving this connection (`pg_backend_pid()`):
    /// what the change notifications it causes carry (`team_access::ANNOUNCED_BY`), so that an
    /// app window can tell its own changes from others'. None on SQLite.
    pub fn backend_pid(&self) -> Option<i64> {
        self.conn.postgres()?;
        self.conn
            .query_row("SELECT pg_backend_pid()::bigint", [], |r| r.get(0))
            .ok()
    }

    /// Asks the server something trivial: fails when a team database's connection is gone.
    pub fn ping(&self) -> Result<()> {
        self.conn
            .query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?;
        Ok(())
    }

    /// A number that changes when another connection commits a change: SQLite's
    /// `data_version` (which leaves out this connection's own commits), or on PostgreSQL the
    /// newest audit line, since every change rollcall makes writes one (there this
    /// connection's own changes count too: one extra reload after each). The app polls it on
    /// SQLite; on PostgreSQL it listens for notifications instead (`app::live`), and polls
    /// this only on a database whose notification triggers are not installed yet.
    pub fn change_marker(&self) -> Result<i64> {
        let sql = self.conn.pick(
            "PRAGMA data_version",
            "SELECT COALESCE(max(id), 0) FROM audit_log",
        );
        Ok(self.conn.query_row(sql, [], |r| r.get(0))?)
    }

    pub fn is_read_only(&self) -> bool {
        self.mode == OpenMode::ReadOnly
    }

    /// From now on every write is refused, by rollcall and on a team database by the server:
    /// for a staff role that only reads.
    pub fn read_only_for(&mut self, role: crate::domain::staff::Role) -> Result<()> {
        if self.conn.engine() == Engine::Postgres {
            self.conn
                .execute_batch("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")?;
        }
        self.mode = OpenMode::ReadOnly;
        self.reads_only_as = Some(role);
        Ok(())
    }

    /// A write of `what`: refused when the store is read-only, else an immediate transaction
    /// (SQLite's `BEGIN IMMEDIATE`, PostgreSQL's [`sql::WRITER_LOCK`]), so that what the write
    /// checks first cannot change before it writes.
    pub fn write_transaction(&mut self, what: &str) -> Result<sql::Transaction<'_>> {
        self.ensure_writable(what)?;
        Ok(self
            .conn
            .transaction_with_behavior(sql::TransactionBehavior::Immediate)?)
    }

    /// The staff role that made this store read-only ([`Store::read_only_for`]), if one did.
    pub fn reads_only_as(&self) -> Option<crate::domain::staff::Role> {
        self.reads_only_as
    }

    /// Runs `change` as one [`Store::write_transaction`] and commits it: the one way a
    /// check-then-write is made, whatever error type the caller's module speaks.
    pub fn write<T, E: From<StoreError>>(
        &mut self,
        what: &str,
        change: impl FnOnce(&sql::Transaction<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let tx = self.write_transaction(what)?;
        let value = change(&tx)?;
        tx.commit().map_err(StoreError::from)?;
        Ok(value)
    }

    /// Fails with a clear message when the store is read-only; call before any write.
    pub fn ensure_writable(&self, what: &str) -> Result<()> {
        if let Some(role) = self.reads_only_as {
            return Err(StoreError::RoleReadsOnly {
                role: role.name(),
                what: what.to_owned(),
            });
        }
        if self.is_read_only() {
            return Err(StoreError::ReadOnly(what.to_owned()));
        }
        Ok(())
    }

    fn configure(&mut self) -> Result<()> {
        // The first read of a file that is not SQLite fails here, before anything is written.
        let _: i64 = self
            .conn
            .query_row("PRAGMA schema_version", [], |r| r.get(0))?;
        self.check_whole_pages()?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(())
    }

    /// SQLite writes its file in whole pages, so a file that ends part-way through one was cut
    /// short (a copy that stopped, a full disk). SQLite itself would only notice on reading the
    /// missing part, perhaps in the middle of a write.
    fn check_whole_pages(&self) -> Result<()> {
        if self.path.as_os_str() == ":memory:" {
            return Ok(());
        }
        let page_size: u32 = self.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        let len = std::fs::metadata(&self.path)
            .map_err(|source| StoreError::Io {
                path: self.path.clone(),
                source,
            })?
            .len();
        if page_size > 0 && len % u64::from(page_size) != 0 {
            return Err(StoreError::NotADatabase {
                path: self.path.clone(),
                detail: format!(
                    "the file ends part-way through a page ({len} bytes, pages of {page_size}):                      it was cut short"
                ),
            });
        }
        Ok(())
    }

    /// WAL, so the app reads while an import writes. Only once the file is known to be ours:
    /// switching the journal mode rewrites the file header.
    ///
    /// A first import runs with a rollback journal (see `import::sync`), and while it holds the
    /// write lock SQLite refuses the switch at once, without waiting ("database is locked"). The
    /// connection then stays in rollback mode, where reads and writes wait for the lock like any
    /// other; the import switches the file back to WAL when it commits.
    fn use_wal(&mut self) -> Result<()> {
        if self.mode == OpenMode::ReadWrite && self.path.as_os_str() != ":memory:" {
            match self
                .conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
            {
                Ok(_) => {}
                Err(e) if is_busy(&e) => {}
                Err(e) => return Err(e.into()),
            }
            self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        }
        Ok(())
    }

    /// The schema version, once the file is known to be rollcall's (or empty).
    fn version_if_ours(&self) -> Result<i64> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        self.check_ours(version)?;
        Ok(version)
    }

    fn migrate(&mut self, version: i64) -> Result<()> {
        if version == 0 && self.mode == OpenMode::ReadWrite {
            // Only a new file takes a page size, and only before WAL mode. Bigger pages than
            // SQLite's 4 KiB suit tables of half a million members: a first import writes a
            // quarter of the system calls, and every index is a level shallower.
            self.conn.pragma_update(None, "page_size", PAGE_SIZE)?;
        }
        self.use_wal()?;
        if version == SCHEMA_VERSION {
            return Ok(());
        }
        if self.mode == OpenMode::ReadOnly {
            return Err(StoreError::ReadOnly(format!(
                "upgrading the schema from version {version} to {SCHEMA_VERSION}"
            )));
        }
        // Another process may be creating or upgrading the schema at this very moment (two first
        // imports at once): the immediate transaction waits for it, and the version is read
        // again inside, so each migration runs once.
        let tx = self
            .conn
            .transaction_with_behavior(sql::TransactionBehavior::Immediate)?;
        test_hook::hold("migrating");
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Refuses, before anything is written, a file rollcall did not make or made in a newer
    /// version. Other programs' SQLite files often set `user_version` too, so a version alone
    /// does not make a file ours: its core tables must be there.
    fn check_ours(&self, version: i64) -> Result<()> {
        let ours = if version == 0 {
            self.is_empty_database()?
        } else {
            self.has_table("contacts")? && self.has_table("audit_log")?
        };
        if !ours {
            return Err(StoreError::NotADatabase {
                path: self.path.clone(),
                detail: "it is an SQLite database, but not one rollcall made".into(),
            });
        }
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        Ok(())
    }

    fn has_table(&self, name: &str) -> Result<bool> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [name],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }

    fn is_empty_database(&self) -> Result<bool> {
        let any: Option<String> = self
            .conn
            .query_row("SELECT name FROM sqlite_master LIMIT 1", [], |r| r.get(0))
            .optional()?;
        Ok(any.is_none())
    }

    /// The finish time and as-of date of the last completed import, if any.
    pub fn last_import(&self) -> Result<Option<(String, String)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT finished_at, as_of FROM import_runs WHERE finished_at IS NOT NULL
                 ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }
}

/// Whether the database holds any contact.
pub fn holds_contacts(store: &Store) -> Result<bool> {
    Ok(store
        .conn
        .query_row("SELECT EXISTS (SELECT 1 FROM contacts)", [], |r| r.get(0))?)
}

/// Which of the tables an import loads (`contacts`, `memberships`) are empty: a first load,
/// which both engines speed up by building their indexes after the rows are in.
pub(crate) fn empty_import_tables(conn: &Connection) -> Result<Vec<&'static str>> {
    let mut empty = Vec::new();
    for table in ["contacts", "memberships"] {
        let none: bool = conn.query_row(
            &format!("SELECT NOT EXISTS (SELECT 1 FROM {table})"),
            [],
            |r| r.get(0),
        )?;
        if none {
            empty.push(table);
        }
    }
    Ok(empty)
}

/// How many contacts and imports in the SQLite file at `path` came from a source other than
/// `source`, reading the file without opening it as a store (no migration, no journal change):
/// `demo` asks before it replaces a demo database.
pub fn rows_not_from(path: &Path, source: &str) -> Result<i64> {
    let conn = rusqlite::Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    Ok(conn.query_row(
        "SELECT (SELECT COUNT(*) FROM contacts WHERE source <> ?1)
              + (SELECT COUNT(*) FROM import_runs WHERE source <> ?1)",
        [source],
        |r| r.get(0),
    )?)
}

/// Another connection holds a lock SQLite would not wait for.
fn is_busy(e: &sql::Error) -> bool {
    matches!(
        e.as_sqlite().and_then(|e| e.sqlite_error_code()),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// A hot journal that a read-only connection cannot roll back.
fn is_interrupted_write(e: &StoreError) -> bool {
    matches!(e, StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
        if f.extended_code == rusqlite::ffi::SQLITE_READONLY_ROLLBACK)
}

/// A damaged file often opens fine and fails on a later statement: say so, with the path. Any
/// other failure of the file or the disk is said in words, with the path; a healthy database is
/// never called damaged.
fn damaged(path: &Path, e: StoreError) -> StoreError {
    match e {
        StoreError::Sqlite(e) => not_a_db(path, e),
        other => other,
    }
}

fn not_a_db(path: &Path, e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
    if matches!(e.sqlite_error_code(), Some(DatabaseCorrupt | NotADatabase)) {
        return StoreError::NotADatabase {
            path: path.to_owned(),
            detail: e.to_string(),
        };
    }
    match explain::explain(path, &e) {
        Some(explained) => explained,
        None => StoreError::Sqlite(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_owner_only_and_migrates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/rollcall.db");
        let store = Store::open(&path, OpenMode::ReadWrite).unwrap();
        let v: i64 = store
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        assert_eq!(check_permissions(&path).unwrap(), None);
        drop(store);
        // Reopening is a no-op.
        Store::open(&path, OpenMode::ReadWrite).unwrap();
    }

    #[test]
    fn a_version_6_database_migrates_to_the_privacy_tables_keeping_its_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v6.db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        for sql in &MIGRATIONS[..6] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 6).unwrap();
        conn.execute(
            "INSERT INTO contacts (source, crm_id) VALUES ('civicrm', '4417')",
            [],
        )
        .unwrap();
        drop(conn);
        permissions::make_owner_only(&path).unwrap();
        let store = Store::open(&path, OpenMode::ReadWrite).unwrap();
        let version: i64 = store
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        assert_eq!(erase::generation(&store.conn).unwrap(), 0);
        let (contacts, keeps): (i64, i64) = store
            .conn
            .query_row(
                "SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM retention_keeps)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((contacts, keeps), (1, 0));
    }

    #[test]
    fn refuses_a_newer_database_without_changing_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let store = Store::open(&path, OpenMode::ReadWrite).unwrap();
        store
            .conn
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(store);
        let before = std::fs::read(&path).unwrap();
        let err = Store::open(&path, OpenMode::ReadWrite).err().unwrap();
        assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
        assert!(err.to_string().contains("upgrade rollcall"));
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    #[test]
    fn refuses_a_file_that_is_not_a_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.db");
        std::fs::write(&path, b"Contact ID,Name\n1,Someone\n").unwrap();
        permissions::make_owner_only(&path).unwrap();
        let err = Store::open(&path, OpenMode::ReadWrite).err().unwrap();
        assert!(matches!(err, StoreError::NotADatabase { .. }), "{err}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"Contact ID,Name\n1,Someone\n"
        );
    }

    #[test]
    fn read_only_refuses_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        drop(Store::open(&path, OpenMode::ReadWrite).unwrap());
        let store = Store::open(&path, OpenMode::ReadOnly).unwrap();
        assert!(store.ensure_writable("logging a call").is_err());
        assert!(
            store
                .conn
                .execute("INSERT INTO ui_state VALUES ('a','b','c')", [])
                .is_err()
        );
    }
}
