//! SQLite's failures in words, with the database they happened to: "cannot write to
//! /home/sian/rollcall.db: the disk is full" rather than "database or disk is full: Error code
//! 13".

use std::path::Path;

use rusqlite::ErrorCode;
use rusqlite::ffi;

use super::{BUSY_TIMEOUT, StoreError};

/// `e` as a [`StoreError::Database`] naming `path` and the cause, when it is a failure of the
/// file or the disk rather than of rollcall's SQL; None otherwise.
pub fn explain(path: &Path, e: &rusqlite::Error) -> Option<StoreError> {
    let rusqlite::Error::SqliteFailure(failure, _) = e else {
        return None;
    };
    let (action, cause) = match failure.code {
        ErrorCode::DiskFull => ("write to", "the disk is full".to_owned()),
        ErrorCode::ReadOnly => ("write to", read_only_cause(path, failure.extended_code)),
        ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => (
            "write to",
            format!(
                "another rollcall process (an import?) kept it locked for more than {} s; try \
                 again when it has finished",
                BUSY_TIMEOUT.as_secs()
            ),
        ),
        ErrorCode::SystemIoFailure => (
            "read or write",
            format!(
                "the disk or file system reported an error (SQLite I/O error {})",
                failure.extended_code
            ),
        ),
        ErrorCode::CannotOpen => (
            "open",
            "SQLite cannot open it or the files it keeps beside it (does the directory exist, \
             and may this account read and write there?)"
                .to_owned(),
        ),
        ErrorCode::PermissionDenied => ("open", "permission denied".to_owned()),
        ErrorCode::FileLockingProtocolFailed => (
            "lock",
            "the file system does not support the locks SQLite needs (a network drive?)".to_owned(),
        ),
        _ => return None,
    };
    Some(StoreError::Database {
        path: path.to_owned(),
        action,
        cause,
    })
}

fn read_only_cause(path: &Path, extended: i32) -> String {
    let dir = super::access::directory_of(path);
    match extended {
        ffi::SQLITE_READONLY_ROLLBACK => super::access::interrupted_write_advice(path),
        ffi::SQLITE_READONLY_DIRECTORY | ffi::SQLITE_READONLY_CANTINIT => format!(
            "its directory {} is read-only for this account, and SQLite keeps its journal and \
             shared-memory files there (to look only, use --read-only)",
            dir.display()
        ),
        ffi::SQLITE_READONLY_DBMOVED => {
            "the file was moved or deleted while it was open".to_owned()
        }
        _ if !super::access::is_writable(&dir) => format!(
            "its directory {} is read-only for this account, and SQLite keeps its journal there \
             (to look only, use --read-only)",
            dir.display()
        ),
        _ => "the file is read-only for this account".to_owned(),
    }
}

/// The first SQLite failure in `err`'s chain, explained with `path`; `err` itself when there
/// is none, or when the message already names a file.
pub fn explain_anyhow(path: &Path, err: anyhow::Error) -> anyhow::Error {
    if err
        .chain()
        .any(|e| matches!(e.downcast_ref::<StoreError>(), Some(s) if names_a_file(s)))
    {
        return err;
    }
    let Some((depth, explained)) = err.chain().enumerate().find_map(|(i, e)| {
        let sqlite = e
            .downcast_ref::<rusqlite::Error>()
            .or_else(|| e.downcast_ref::<super::sql::Error>()?.as_sqlite())
            .or_else(|| match e.downcast_ref::<StoreError>() {
                Some(StoreError::Sqlite(inner)) => Some(inner),
                _ => None,
            })?;
        Some((i, explain(path, sqlite)?))
    }) else {
        return err;
    };
    // Keep what the layers above said (which file was being imported…), once each.
    let context: Vec<String> = err
        .chain()
        .take(depth)
        .map(|e| e.to_string())
        .filter(|c| !c.is_empty())
        .collect();
    let mut explained = anyhow::Error::new(explained);
    for c in context.into_iter().rev() {
        explained = explained.context(c);
    }
    explained
}

fn names_a_file(e: &StoreError) -> bool {
    !matches!(
        e,
        StoreError::Sqlite(_) | StoreError::Sql(_) | StoreError::ReadOnly(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{OpenMode, Store};

    fn full_disk_error(store: &Store) -> rusqlite::Error {
        // SQLite's page limit fails a write exactly as a full disk does (SQLITE_FULL).
        let pages: i64 = store
            .conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        store
            .conn
            .pragma_update(None, "max_page_count", pages)
            .unwrap();
        store
            .conn
            .execute_batch(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
                 INSERT INTO ui_state SELECT 'amira', 'k' || i, hex(randomblob(100)) FROM n",
            )
            .unwrap_err()
            .as_sqlite()
            .and_then(|e| match e {
                rusqlite::Error::SqliteFailure(f, m) => {
                    Some(rusqlite::Error::SqliteFailure(*f, m.clone()))
                }
                _ => None,
            })
            .expect("an SQLite failure")
    }

    #[test]
    fn a_full_disk_is_said_in_words_with_the_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rollcall.db");
        let store = Store::open(&path, OpenMode::ReadWrite).unwrap();
        let e = full_disk_error(&store);
        assert!(e.to_string().contains("full"), "{e}");
        let expected = format!("cannot write to {}: the disk is full", path.display());
        // Straight from SQLite, inside a storage error, and under a layer of context.
        for err in [
            anyhow::Error::new(full_disk_error(&store)),
            anyhow::Error::new(StoreError::Sqlite(full_disk_error(&store))),
            anyhow::Error::new(full_disk_error(&store)).context("members.csv"),
        ] {
            let said = format!("{:#}", explain_anyhow(&path, err));
            assert!(said.ends_with(&expected), "{said}");
            assert_eq!(said.matches(&expected).count(), 1, "{said}");
            assert!(!said.contains("Error code"), "{said}");
        }
    }

    #[test]
    fn a_read_only_file_is_said_in_words_and_other_errors_are_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rollcall.db");
        drop(Store::open(&path, OpenMode::ReadWrite).unwrap());
        let store = Store::open(&path, OpenMode::ReadOnly).unwrap();
        let e = store
            .conn
            .execute("INSERT INTO ui_state VALUES ('a', 'b', 'c')", [])
            .unwrap_err();
        let said = format!("{:#}", explain_anyhow(&path, anyhow::Error::new(e)));
        assert!(
            said.starts_with(&format!("cannot write to {}: ", path.display())),
            "{said}"
        );
        assert!(said.contains("read-only"), "{said}");
        let sql_mistake = store.conn.execute("SELECT nonsense", []).unwrap_err();
        let said = format!(
            "{:#}",
            explain_anyhow(&path, anyhow::Error::new(sql_mistake))
        );
        assert!(!said.contains("cannot write"), "{said}");
    }
}
