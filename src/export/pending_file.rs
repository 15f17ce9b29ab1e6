//! Files rollcall hands on hold personal data: each is written owner-only (0600) to a temporary
//! name beside its destination and renamed into place only when complete, so a reader never sees
//! half a file, and a failed write leaves the old file as it was and nothing beside it. The
//! destination is checked first ([`output_target`]): never the database or one of its files,
//! always a regular file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::destination::{DestinationError, output_target};

pub struct PendingFile {
    temp: PathBuf,
    /// The file the temporary one replaces: the destination with its symlinks resolved.
    target: PathBuf,
    /// The destination as the user named it, for messages.
    dest: PathBuf,
    out: Option<BufWriter<File>>,
}

impl PendingFile {
    /// Starts writing the file that will become `dest`, an output of the database at `db`;
    /// refused when `dest` is that database or one of its files, or not a regular file.
    pub fn create(dest: &Path, db: &crate::storage::Location) -> anyhow::Result<PendingFile> {
        let target = output_target(dest, db)?;
        let name = target
            .file_name()
            .with_context(|| format!("{}: not a file name", dest.display()))?;
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".rollcall-{}.tmp", std::process::id()));
        let temp = target.with_file_name(temp_name);
        if let Some(folder) = target.parent().filter(|f| !f.is_dir()) {
            return Err(DestinationError::NoFolder {
                dest: dest.to_owned(),
                folder: folder.to_owned(),
            }
            .into());
        }
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&temp).with_context(|| {
            format!(
                "cannot write {}: cannot create a file in its folder",
                dest.display()
            )
        })?;
        Ok(PendingFile {
            temp,
            target,
            dest: dest.to_owned(),
            out: Some(BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// The destination as given.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    pub fn write_all(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        Write::write_all(self, bytes).with_context(|| format!("writing {}", self.dest.display()))
    }

    /// Flushes to disk and renames the file into place, replacing any file there. Returns the
    /// file now in place (the destination, its symlinks resolved).
    pub fn put_in_place(mut self) -> anyhow::Result<PathBuf> {
        self.finish()?;
        if let Err(e) = fs::rename(&self.temp, &self.target) {
            let _ = fs::remove_file(&self.temp);
            return Err(e).with_context(|| {
                format!(
                    "moving the finished file into place at {}",
                    self.dest.display()
                )
            });
        }
        Ok(std::mem::take(&mut self.target))
    }

    /// Flushes to disk and puts the file in place under the first of `name(1)`, `name(2)`, …
    /// (each in the destination's folder) that is free, never replacing a file; returns it.
    pub fn put_in_place_new(mut self, name: impl Fn(u32) -> PathBuf) -> anyhow::Result<PathBuf> {
        self.finish()?;
        for n in 1..=9999 {
            let path = name(n);
            // A hard link fails when the name is taken, where a rename would replace it.
            match fs::hard_link(&self.temp, &path) {
                Ok(()) => {
                    let _ = fs::remove_file(&self.temp);
                    return Ok(path);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                // A file system without hard links: take the name if it is free.
                Err(_) if !path.exists() => {
                    if let Err(e) = fs::rename(&self.temp, &path) {
                        let _ = fs::remove_file(&self.temp);
                        return Err(e).with_context(|| {
                            format!("moving the finished file into place at {}", path.display())
                        });
                    }
                    return Ok(path);
                }
                Err(_) => continue,
            }
        }
        let _ = fs::remove_file(&self.temp);
        anyhow::bail!(
            "cannot write beside {}: every name for it is taken",
            self.dest.display()
        )
    }

    /// Flushes and syncs the temporary file and closes it.
    fn finish(&mut self) -> anyhow::Result<()> {
        let out = self.out.take().context("file already closed")?;
        let file = out
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all().map(|()| f));
        let file = match file {
            Ok(file) => file,
            Err(e) => {
                let _ = fs::remove_file(&self.temp);
                return Err(e).with_context(|| format!("writing {}", self.dest.display()));
            }
        };
        drop(file);
        Ok(())
    }
}

/// Makes `dir` and any missing parents, owner-only (0700); an existing folder is left as it is.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("cannot make the folder {}", dir.display()))
}

/// Writing streams (a generated export) straight in; errors name no file, so callers add it.
impl Write for PendingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.out.as_mut() {
            Some(out) => out.write(buf),
            None => Err(io::Error::other("file already closed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.out.as_mut() {
            Some(out) => out.flush(),
            None => Ok(()),
        }
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
    use crate::storage::Location;

    #[test]
    fn appears_only_when_put_in_place_and_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.csv");
        let mut file =
            PendingFile::create(&dest, &Location::File(dir.path().join("rollcall.db"))).unwrap();
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
    fn a_new_file_never_replaces_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = Location::File(dir.path().join("rollcall.db"));
        let name = |n: u32| dir.path().join(format!("out-{n}.csv"));
        fs::write(name(1), b"old").unwrap();
        let mut file = PendingFile::create(&name(1), &db).unwrap();
        file.write_all(b"new").unwrap();
        assert_eq!(file.put_in_place_new(name).unwrap(), name(2));
        assert_eq!(fs::read(name(1)).unwrap(), b"old");
        assert_eq!(fs::read(name(2)).unwrap(), b"new");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            2,
            "no temp file left"
        );
    }

    #[test]
    fn dropped_unfinished_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.csv");
        let mut file =
            PendingFile::create(&dest, &Location::File(dir.path().join("rollcall.db"))).unwrap();
        file.write_all(b"half").unwrap();
        drop(file);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_missing_folder_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("nope/out.csv");
        let err = PendingFile::create(&dest, &Location::File(dir.path().join("rollcall.db")))
            .err()
            .unwrap();
        assert!(err.to_string().contains("there is no folder"), "{err}");
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
