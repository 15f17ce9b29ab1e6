//! Opening a database this account may not write: one in a read-only directory (a read-only
//! mount, a copy handed over), and one that an interrupted write (a killed first import) left
//! with a hot rollback journal.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::permissions::database_files;

/// The directory a database file is in.
pub(super) fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Whether this account may create files in `dir` (or write `dir` if it is a file).
pub(super) fn is_writable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
            return false;
        };
        // SAFETY: a valid NUL-terminated path; access() only reads it.
        unsafe { libc::access(c_path.as_ptr(), libc::W_OK) == 0 }
    }
    #[cfg(not(unix))]
    {
        !std::fs::metadata(path).is_ok_and(|m| m.permissions().readonly())
    }
}

/// The companion file with `suffix` exists and is not empty.
fn has_content(path: &Path, suffix: &str) -> bool {
    database_files(path)
        .into_iter()
        .find(|f| f.as_os_str().to_string_lossy().ends_with(suffix))
        .and_then(|f| std::fs::metadata(f).ok())
        .is_some_and(|m| m.len() > 0)
}

/// Opens `path` for reading only. In a directory this account cannot write, with no WAL or
/// journal beside the file, SQLite could not create the shared-memory file a WAL database is
/// read through; and nobody can be writing it (a writer would need to create the WAL there), so
/// the file is opened as immutable, which needs no companion file.
pub(super) fn open_read_only(path: &Path, flags: OpenFlags) -> rusqlite::Result<Connection> {
    let dir = directory_of(path);
    if is_writable(&dir) || has_content(path, "-wal") || has_content(path, "-journal") {
        return Connection::open_with_flags(path, flags);
    }
    Connection::open_with_flags(immutable_uri(path), flags | OpenFlags::SQLITE_OPEN_URI)
}

/// `file:PATH?immutable=1`, with the characters a URI path cannot hold escaped.
fn immutable_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for c in path.to_string_lossy().chars() {
        match c {
            '%' | '?' | '#' => uri.push_str(&format!("%{:02X}", c as u32)),
            c => uri.push(c),
        }
    }
    uri.push_str("?immutable=1");
    uri
}

/// Rolls back the hot journal an interrupted write left, by reading the file through a
/// read-write connection (SQLite restores the last committed state before the first read).
/// Nothing committed changes: this only undoes what was never committed.
pub(super) fn roll_back_interrupted_write(path: &Path) -> rusqlite::Result<()> {
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    super::busy::wait_when_busy(&mut conn, super::BUSY_TIMEOUT)?;
    let _: i64 = conn.query_row("PRAGMA schema_version", [], |r| r.get(0))?;
    conn.close().map_err(|(_, e)| e)
}

/// What to do about a hot journal this account cannot roll back.
pub(super) fn interrupted_write_advice(path: &Path) -> String {
    let mut journal = path.as_os_str().to_owned();
    journal.push("-journal");
    format!(
        "an interrupted write (a killed import?) left its rollback journal {}, which SQLite must \
         roll back before the database can be read, and this account cannot write to {}. Run any \
         rollcall command on it once with write access to that directory (the database's owner, \
         `rollcall imports`): the database opens as it was before the interrupted write",
        PathBuf::from(journal).display(),
        directory_of(path).display()
    )
}
