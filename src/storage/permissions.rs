//! Owner-only files: member data must not be readable by other accounts on the machine.
//!
//! Only regular files are ever looked at or changed: a database path (or a companion beside it)
//! that is a device, a FIFO, a socket or a directory is refused before SQLite opens it, and
//! `--fix-permissions` changes the mode of nothing but the database's own regular files, and only
//! once the database is known to be rollcall's (see `Store::open_fixing_permissions`).

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use super::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionProblem {
    pub file: PathBuf,
    pub mode: u32,
}

impl fmt::Display for PermissionProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} has mode {:o}",
            self.file.display(),
            self.mode & 0o777
        )
    }
}

fn io_err(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The files SQLite keeps beside a database: write-ahead log, shared-memory index, rollback
/// journal.
pub const COMPANION_SUFFIXES: [&str; 3] = ["-wal", "-shm", "-journal"];

/// What a file is when it is not a regular file ("a directory", "a FIFO (named pipe)", …), in
/// words for a message; None for a regular file.
pub fn not_a_regular_file(file_type: fs::FileType) -> Option<&'static str> {
    if file_type.is_file() {
        return None;
    }
    if file_type.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if file_type.is_char_device() {
            return Some("a character device");
        }
        if file_type.is_block_device() {
            return Some("a block device");
        }
        if file_type.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

/// The database file and its companions ([`COMPANION_SUFFIXES`]), the database first.
pub fn database_files(path: &Path) -> Vec<PathBuf> {
    let mut files = vec![path.to_owned()];
    for suffix in COMPANION_SUFFIXES {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        files.push(PathBuf::from(name));
    }
    files
}

/// Creates an empty database file readable by its owner only, and its directory (0700) if new.
/// Another process creating it at the same moment (two first imports at once) is no error: the
/// file is there either way, and SQLite arbitrates who writes the schema.
pub(super) fn create_owner_only(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(|e| io_err(dir, e))?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_err(path, e)),
    }
}

/// Creates a new file readable and writable by its owner only (0600), and its directory (0700)
/// if new: for files that hold members' data beside the database (the search index).
pub fn create_new_owner_only(path: &Path) -> std::io::Result<fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)?;
    }
    let mut options = fs::OpenOptions::new();
    options.read(true).write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Whether an open file is readable and writable by its owner only (always, off Unix).
pub fn is_owner_only(file: &fs::File) -> std::io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Ok(file.metadata()?.permissions().mode() & 0o077 == 0)
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok(true)
    }
}

/// Refuses a database path or companion that exists but is not a regular file.
fn check_regular(file: &Path, meta: &fs::Metadata, main: &Path) -> Result<()> {
    match not_a_regular_file(meta.file_type()) {
        None => Ok(()),
        Some(kind) if file == main => Err(StoreError::NotAFile {
            path: file.to_owned(),
            kind,
        }),
        Some(kind) => Err(StoreError::StrangeCompanion {
            path: file.to_owned(),
            kind,
        }),
    }
}

/// The first of the database's files that others can read or write, if any. A file among them
/// that is not a regular file is an error.
pub fn check_permissions(path: &Path) -> Result<Option<PermissionProblem>> {
    let mut problem = None;
    for file in database_files(path) {
        match fs::metadata(&file) {
            Ok(meta) => {
                check_regular(&file, &meta, path)?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = meta.permissions().mode();
                    if mode & 0o077 != 0 && problem.is_none() {
                        problem = Some(PermissionProblem { file, mode });
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&file, e)),
        }
    }
    Ok(problem)
}

/// Makes the database's existing files owner-only (0600). Each is opened and checked to be a
/// regular file through that same handle before its mode is changed through it, so nothing
/// swapped in between (a device, a FIFO) is ever changed. Call only once the database is known
/// to be rollcall's.
pub(super) fn fix_permissions(path: &Path) -> Result<()> {
    for file in database_files(path) {
        match open_without_blocking(&file) {
            Ok(handle) => {
                let meta = handle.metadata().map_err(|e| io_err(&file, e))?;
                check_regular(&file, &meta, path)?;
                set_owner_only(&handle).map_err(|e| io_err(&file, e))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&file, e)),
        }
    }
    Ok(())
}

/// Opens a file for reading without waiting for a writer (a FIFO) or taking a terminal.
pub fn open_without_blocking(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        libc::O_NONBLOCK | libc::O_NOCTTY,
    );
    options.open(path)
}

fn set_owner_only(file: &fs::File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

#[cfg(test)]
pub(super) fn make_owner_only(file: &Path) -> Result<()> {
    let handle = fs::File::open(file).map_err(|e| io_err(file, e))?;
    set_owner_only(&handle).map_err(|e| io_err(file, e))
}
