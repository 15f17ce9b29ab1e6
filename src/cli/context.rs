use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use chrono::Local;

use super::GlobalArgs;
use crate::Clock;
use crate::storage::{OpenMode, Store};

/// What every command runs with: where the database is, the as-of date, who is acting.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub db_path: PathBuf,
    pub clock: Clock,
    pub read_only: bool,
    pub fix_permissions: bool,
}

impl Ctx {
    pub fn from_args(args: &GlobalArgs) -> Result<Ctx> {
        let db_path = match &args.db {
            Some(p) => p.clone(),
            None => data_dir()?.join("rollcall.db"),
        };
        let today = args.today.unwrap_or_else(|| Local::now().date_naive());
        let user = args.user.clone().unwrap_or_else(os_user);
        if args.fix_permissions && args.read_only {
            anyhow::bail!(
                "--fix-permissions changes the database files' modes, and --read-only (or \
                 ROLLCALL_READ_ONLY) promises to change nothing: run once without --read-only to \
                 fix the permissions (nothing was changed)"
            );
        }
        Ok(Ctx {
            db_path,
            clock: Clock::new(today, user),
            read_only: args.read_only,
            fix_permissions: args.fix_permissions,
        })
    }

    /// Opens the database for writing (or read-only under `--read-only`).
    pub fn open_store(&self) -> Result<Store> {
        self.open_store_at(&self.db_path)
    }

    /// Opens a database for reading only; it must exist.
    pub fn open_store_for_reading(&self) -> Result<Store> {
        self.open(&self.db_path, OpenMode::ReadOnly)
    }

    pub fn open_store_at(&self, path: &Path) -> Result<Store> {
        let mode = if self.read_only {
            OpenMode::ReadOnly
        } else {
            OpenMode::ReadWrite
        };
        self.open(path, mode)
    }

    fn open(&self, path: &Path, mode: OpenMode) -> Result<Store> {
        if path.is_dir() {
            anyhow::bail!(
                "--db {}: is a directory; give the path of a database file, e.g. {}",
                path.display(),
                path.join("rollcall.db").display()
            );
        }
        if self.fix_permissions {
            return Ok(Store::open_fixing_permissions(path, mode)?);
        }
        Ok(Store::open(path, mode)?)
    }
}

/// The platform data directory (e.g. `~/.local/share/rollcall` on Linux).
pub fn data_dir() -> Result<PathBuf> {
    let dirs = directories::ProjectDirs::from("org", "rollcall", "rollcall")
        .context("cannot find a home directory for rollcall's data; pass --db PATH")?;
    Ok(dirs.data_dir().to_owned())
}

/// The platform config directory (e.g. `~/.config/rollcall` on Linux), for keymap and theme.
pub fn config_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("org", "rollcall", "rollcall").map(|d| d.config_dir().to_owned())
}

fn os_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
        .unwrap_or_else(|| "unknown".to_owned())
}
