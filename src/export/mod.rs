//! Files rollcall hands on: CSV lists (call lists, mail-merges) and the CRM activity write-back.
//! Every CSV goes through [`csv_safe`] so no cell can run as a spreadsheet formula, and every
//! file is created owner-only, since it holds member data.

pub mod activities;
pub mod csv_safe;
pub mod letters;
pub mod members;
pub mod pending_file;

pub use csv_safe::{SafeCsvWriter, neutralise};

use std::fs::File;
use std::io;
use std::path::Path;

/// Creates (or truncates) `path` readable and writable by its owner only. An existing file is
/// made owner-only before it is written to.
pub fn create_private_file(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn private_files_are_owner_only_even_when_they_existed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.csv");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(create_private_file(&path).unwrap());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(std::fs::read(&path).unwrap(), b"");
    }
}
