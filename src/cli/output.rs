//! Where a command's output goes: a file named with `-o` (checked, written whole and renamed into
//! place by [`PendingFile`]) or standard output.

use std::io::Write as _;
use std::path::Path;

use crate::export::pending_file::PendingFile;

/// Writes `bytes` to `dest`, an output of the database at `db`, or to standard output.
pub fn write_output(dest: Option<&Path>, db: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    match dest {
        Some(path) => {
            let mut file = PendingFile::create(path, db)?;
            file.write_all(bytes)?;
            file.put_in_place()?;
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(bytes)?;
            stdout.flush()?;
        }
    }
    Ok(())
}
