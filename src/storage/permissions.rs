//! Owner-only files: member data must not be readable by other accounts on the machine.

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
    options.open(path).map_err(|e| io_err(path, e))?;
    Ok(())
}

/// The first of the database's files that others can read or write, if any.
pub fn check_permissions(path: &Path) -> Result<Option<PermissionProblem>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in database_files(path) {
            match fs::metadata(&file) {
                Ok(meta) => {
                    let mode = meta.permissions().mode();
                    if mode & 0o077 != 0 {
                        return Ok(Some(PermissionProblem { file, mode }));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&file, e)),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(None)
}

/// Makes the database's existing files owner-only (0600).
pub fn fix_permissions(path: &Path) -> Result<()> {
    for file in database_files(path) {
        if file.exists() {
            make_owner_only(&file)?;
        }
    }
    Ok(())
}

pub(super) fn make_owner_only(file: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(file, fs::Permissions::from_mode(0o600))
            .map_err(|e| io_err(file, e))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}
