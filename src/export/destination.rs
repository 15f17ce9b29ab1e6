//! Where an output file may go. Every file rollcall writes on request (`-o FILE` of any command,
//! a demo database, the app's exports) is checked here first:
//!
//! - it must not be the database or one of the files SQLite keeps beside it (write-ahead log,
//!   shared-memory index, rollback journal). Files are compared by identity (device and inode,
//!   after following symlinks), so a hard link, a symlink or another spelling of the path is
//!   caught; a file that does not exist yet is compared by its resolved name, so `generate -o`
//!   cannot take the place where the database will be created;
//! - it must be a regular file, or not exist yet in a folder that does. A device (`/dev/full`,
//!   `/dev/null`), a FIFO or a directory is refused: an output is a file to keep or hand on, and
//!   standard output is there for everything else.
//!
//! A symlink to a regular file is followed: the file it points to is replaced, the link kept.

use crate::storage::Location;
use std::io;
use std::path::{Path, PathBuf};

use crate::storage::{database_files, not_a_regular_file};

#[derive(Debug, thiserror::Error)]
pub enum DestinationError {
    #[error(
        "cannot write the output to {dest}: that is {what}; nothing was written. Choose another \
         file name"
    )]
    IsDatabase { dest: PathBuf, what: String },
    #[error(
        "cannot write the output to {dest}: it is the same file as {what} {file} (a link to it, \
         or another name for it); nothing was written. Choose another file name"
    )]
    SameAsDatabase {
        dest: PathBuf,
        what: String,
        file: PathBuf,
    },
    #[error(
        "cannot write the output to {dest}: it is not a regular file ({kind}); outputs are \
         written to regular files, or to standard output when no file is given"
    )]
    NotRegular { dest: PathBuf, kind: &'static str },
    #[error("cannot write the output to {dest}: it is a directory; give a file name in it")]
    IsDirectory { dest: PathBuf },
    #[error("cannot write the output to {dest}: it is a symbolic link to a file that is not there")]
    DanglingLink { dest: PathBuf },
    #[error("cannot write the output to {dest}: there is no folder {folder}")]
    NoFolder { dest: PathBuf, folder: PathBuf },
    #[error("cannot write the output to {dest}: it does not end in a file name")]
    NoFileName { dest: PathBuf },
    // The cause is shown in the message and deliberately not a `source`, so that an error chain
    // printed in full does not repeat it.
    #[error("cannot write the output to {dest}: {cause}")]
    Io { dest: PathBuf, cause: io::Error },
}

/// Checks `dest` as the place for an output of the database at `db`, and returns the file to
/// replace: `dest` resolved to an absolute path without symlinks. Its folder may not exist yet
/// (a demo database makes its own); [`PendingFile`](super::pending_file::PendingFile) insists
/// on one.
pub fn output_target(dest: &Path, db: &Location) -> Result<PathBuf, DestinationError> {
    let target = resolve(dest)?;
    // A team database lives on its server: no local file an output could land on.
    let Some(db) = db.file() else {
        return Ok(target);
    };
    for file in database_files(db) {
        if same_file(&target, &file) {
            let what = what_it_is(db, &file);
            return Err(if dest.as_os_str() == file.as_os_str() {
                DestinationError::IsDatabase {
                    dest: dest.to_owned(),
                    what,
                }
            } else {
                DestinationError::SameAsDatabase {
                    dest: dest.to_owned(),
                    what,
                    file,
                }
            });
        }
    }
    Ok(target)
}

/// `dest` as an absolute path without symlinks, checked to be a regular file or a new name in
/// an existing folder.
fn resolve(dest: &Path) -> Result<PathBuf, DestinationError> {
    let owned = || dest.to_owned();
    match std::fs::metadata(dest) {
        Ok(meta) if meta.is_dir() => Err(DestinationError::IsDirectory { dest: owned() }),
        Ok(meta) if !meta.is_file() => Err(DestinationError::NotRegular {
            dest: owned(),
            kind: not_a_regular_file(meta.file_type()).unwrap_or("not a file"),
        }),
        Ok(_) => std::fs::canonicalize(dest).map_err(|cause| DestinationError::Io {
            dest: owned(),
            cause,
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(dest).is_ok() {
                return Err(DestinationError::DanglingLink { dest: owned() });
            }
            if dest.file_name().is_none() {
                return Err(DestinationError::NoFileName { dest: owned() });
            }
            Ok(resolve_name(dest))
        }
        Err(cause) => Err(DestinationError::Io {
            dest: owned(),
            cause,
        }),
    }
}

/// Whether `target` (resolved) and the database file `file` are one file: the same inode when
/// both exist, the same resolved name otherwise.
fn same_file(target: &Path, file: &Path) -> bool {
    match (std::fs::metadata(target), std::fs::metadata(file)) {
        (Ok(a), Ok(b)) => same_identity(&a, &b),
        _ => resolve_name(file) == target,
    }
}

#[cfg(unix)]
fn same_identity(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    (a.dev(), a.ino()) == (b.dev(), b.ino())
}

#[cfg(not(unix))]
fn same_identity(_: &std::fs::Metadata, _: &std::fs::Metadata) -> bool {
    // Without inodes, the resolved names decide (see `same_file`'s fallback).
    false
}

/// `path` made absolute with its symlinks resolved as far as it exists: the same file gets the
/// same name whether or not it (or its folder) has been created yet.
fn resolve_name(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    let parent = match path.parent() {
        Some(p) if p.as_os_str().is_empty() => Some(Path::new(".")),
        other => other,
    };
    match (parent, path.file_name()) {
        (Some(parent), Some(name)) => resolve_name(parent).join(name),
        _ => std::path::absolute(path).unwrap_or_else(|_| path.to_owned()),
    }
}

/// "the database rollcall.db", "the database's write-ahead log", ...
fn what_it_is(db: &Path, file: &Path) -> String {
    let suffix = file
        .as_os_str()
        .to_string_lossy()
        .strip_prefix(&*db.as_os_str().to_string_lossy())
        .map(str::to_owned)
        .unwrap_or_default();
    let part = match suffix.as_str() {
        "" => return "the database rollcall works on".to_owned(),
        "-wal" => "write-ahead log",
        "-shm" => "shared-memory index",
        "-journal" => "rollback journal",
        _ => "files",
    };
    format!("the database's {part}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_beside_the_database_is_fine_and_resolved() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rollcall.db");
        std::fs::write(&db, b"").unwrap();
        let target =
            output_target(&dir.path().join("list.csv"), &Location::File(db.clone())).unwrap();
        assert_eq!(
            target,
            std::fs::canonicalize(dir.path()).unwrap().join("list.csv")
        );
    }

    #[test]
    fn the_database_and_its_files_are_refused_by_name_or_identity() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rollcall.db");
        // Not there yet: refused by name.
        assert!(matches!(
            output_target(&db, &Location::File(db.clone())),
            Err(DestinationError::IsDatabase { .. })
        ));
        std::fs::write(&db, b"").unwrap();
        let link = dir.path().join("copy.csv");
        std::fs::hard_link(&db, &link).unwrap();
        let err = output_target(&link, &Location::File(db.clone())).unwrap_err();
        assert!(
            err.to_string().contains("the same file as the database"),
            "{err}"
        );
        let wal = dir.path().join("rollcall.db-wal");
        let err = output_target(&wal, &Location::File(db.clone())).unwrap_err();
        assert!(err.to_string().contains("write-ahead log"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_directories_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rollcall.db");
        let err = output_target(Path::new("/dev/null"), &Location::File(db.clone())).unwrap_err();
        assert!(err.to_string().contains("a character device"), "{err}");
        assert!(matches!(
            output_target(dir.path(), &Location::File(db.clone())),
            Err(DestinationError::IsDirectory { .. })
        ));
    }
}
