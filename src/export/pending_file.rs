//! Files rollcall hands on hold personal data: each is written owner-only (0600) to a temporary
//! name beside its destination and renamed into place only when complete, so a reader never sees
//! half a file and a failed export leaves nothing behind.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub struct PendingFile {
    temp: PathBuf,
    dest: PathBuf,
    out: Option<BufWriter<File>>,
}

impl PendingFile {
    /// Starts writing the file that will become `dest`.
    pub fn create(dest: &Path) -> anyhow::Result<PendingFile> {
        let name = dest
            .file_name()
            .with_context(|| format!("{}: not a file name", dest.display()))?;
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".rollcall-{}.tmp", std::process::id()));
        let temp = dest.with_file_name(temp_name);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(&temp)
            .with_context(|| format!("cannot write beside {}", dest.display()))?;
        Ok(PendingFile {
            temp,
            dest: dest.to_owned(),
            out: Some(BufWriter::new(file)),
        })
    }

    pub fn dest(&self) -> &Path {
        &self.dest
    }

    pub fn write_all(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        let out = self.out.as_mut().context("file already closed")?;
        out.write_all(bytes)
            .with_context(|| format!("writing {}", self.dest.display()))
    }

    /// Flushes to disk and renames the file into place, replacing any file there.
    pub fn put_in_place(mut self) -> anyhow::Result<()> {
        let out = self.out.take().context("file already closed")?;
        let file = out
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all().map(|()| f))
            .with_context(|| format!("writing {}", self.dest.display()))?;
        drop(file);
        fs::rename(&self.temp, &self.dest)
            .with_context(|| format!("moving the finished file to {}", self.dest.display()))?;
        Ok(())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if self.out.is_some() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appears_only_when_put_in_place_and_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.csv");
        let mut file = PendingFile::create(&dest).unwrap();
        file.write_all(b"a,b\r\n").unwrap();
        assert!(!dest.exists());
        file.put_in_place().unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"a,b\r\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&dest).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "mode {mode:o}");
        }
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[test]
    fn dropped_unfinished_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.csv");
        let mut file = PendingFile::create(&dest).unwrap();
        file.write_all(b"half").unwrap();
        drop(file);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
