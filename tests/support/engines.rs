//! One test body, run on both engines: an SQLite file and a PostgreSQL database on a throwaway
//! server (`pg_cluster`). A test file includes both modules:
//!
//! ```ignore
//! #[path = "support/pg_cluster.rs"] mod pg_cluster;
//! #[path = "support/engines.rs"] mod engines;
//! use engines::TestDb;
//!
//! engines::on_both_engines! {
//!     fn a_logged_call_is_seen_by_the_other_officer(db: &TestDb) { … }
//! }
//! ```
//!
//! which makes `…::sqlite` and `…::postgres` tests. The PostgreSQL database has rollcall's
//! schema already (`rollcall team init`), as a team's would; the SQLite file does not exist yet,
//! as an officer's first one.
#![allow(dead_code)]

use std::path::PathBuf;

use rollcall::storage::{Location, OpenMode, Store};

use super::pg_cluster;

/// A database for one test, on one engine.
pub enum TestDb {
    Sqlite {
        dir: tempfile::TempDir,
        path: PathBuf,
    },
    Postgres {
        db: pg_cluster::TestDatabase,
        dir: tempfile::TempDir,
    },
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rollcall.db");
        TestDb::Sqlite { dir, path }
    }

    /// A fresh database with rollcall's schema, as `rollcall team init` leaves it.
    pub fn postgres() -> TestDb {
        let db = pg_cluster::database();
        let location = Location::parse(&db.url()).unwrap();
        rollcall::storage::team::init(
            location.team().unwrap(),
            "test",
            "2026-11-23T09:00:00+00:00",
        )
        .unwrap();
        TestDb::Postgres {
            db,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// What `--db` / `ROLLCALL_DB` takes.
    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite { path, .. } => path.display().to_string(),
            TestDb::Postgres { db, .. } => db.url(),
        }
    }

    pub fn location(&self) -> Location {
        Location::parse(&self.url()).unwrap()
    }

    /// A scratch directory for input and output files, beside the database.
    pub fn scratch(&self) -> PathBuf {
        match self {
            TestDb::Sqlite { dir, .. } | TestDb::Postgres { dir, .. } => dir.path().to_owned(),
        }
    }

    pub fn open(&self) -> Store {
        Store::open_at(&self.location(), OpenMode::ReadWrite, false).unwrap()
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDb::Postgres { .. })
    }
}

/// Defines each test twice, `NAME::sqlite` and `NAME::postgres`, from one body taking
/// `&TestDb`.
#[macro_export]
macro_rules! on_both_engines {
    ($($(#[$meta:meta])* fn $name:ident($db:ident: &TestDb) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn body($db: &$crate::engines::TestDb) $body

            $(#[$meta])*
            #[test]
            fn sqlite() {
                body(&$crate::engines::TestDb::sqlite());
            }

            $(#[$meta])*
            #[test]
            fn postgres() {
                body(&$crate::engines::TestDb::postgres());
            }
        }
    )*};
}
pub use on_both_engines;
