use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use chrono::Local;

use super::GlobalArgs;
use crate::Clock;
use crate::storage::{Location, OpenMode, Store};

/// What every command runs with: where the database is, the as-of date, who is acting.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub db: Location,
    pub clock: Clock,
    pub read_only: bool,
    pub fix_permissions: bool,
}

impl Ctx {
    pub fn from_args(args: &GlobalArgs) -> Result<Ctx> {
        let db = match &args.db {
            Some(p) => location_of(p, "--db")?,
            None => match crate::config::Config::load_default()?.store.url {
                Some(url) => Location::parse(&url)
                    .map_err(|e| anyhow::anyhow!("config.toml, store.url: {e}"))?,
                None => Location::File(data_dir()?.join("rollcall.db")),
            },
        };
        let today = args.today.unwrap_or_else(|| Local::now().date_naive());
        // On a team database a staff member acts as their login (storage::staff::acting_user).
        let login = db
            .team()
            .map(|t| t.user().to_owned())
            .filter(|l| !l.is_empty());
        let user = args.user.clone().or(login).unwrap_or_else(os_user);
        if args.fix_permissions && args.read_only {
            anyhow::bail!(
                "--fix-permissions changes the database files' modes, and --read-only (or \
                 ROLLCALL_READ_ONLY) promises to change nothing: run once without --read-only to \
                 fix the permissions (nothing was changed)"
            );
        }
        Ok(Ctx {
            db,
            clock: Clock::new(today, user),
            read_only: args.read_only,
            fix_permissions: args.fix_permissions,
        })
    }

    /// Opens the database for writing (or read-only under `--read-only`).
    pub fn open_store(&self) -> Result<Store> {
        self.open_store_at(&self.db)
    }

    /// Opens a database for reading only; it must exist.
    pub fn open_store_for_reading(&self) -> Result<Store> {
        self.open(&self.db, OpenMode::ReadOnly)
    }

    pub fn open_store_at(&self, db: &Location) -> Result<Store> {
        let mode = if self.read_only {
            OpenMode::ReadOnly
        } else {
            OpenMode::ReadWrite
        };
        self.open(db, mode)
    }

    /// The SQLite file, for what only a file has (its path beside outputs, a first import
    /// that creates it); `None` for a team database.
    pub fn db_file(&self) -> Option<&Path> {
        self.db.file()
    }

    /// Whether the database is there to read: a file that exists, or a team database (which
    /// is always there; opening it says if it is not).
    pub fn database_exists(&self) -> bool {
        self.db.file().is_none_or(Path::exists)
    }

    fn open(&self, db: &Location, mode: OpenMode) -> Result<Store> {
        let Some(path) = db.file() else {
            let mut store = Store::open_at(db, mode, false)?;
            let role = crate::storage::staff::acting_user(&store.conn, &self.clock.user)?;
            if role == Some(crate::domain::staff::Role::Viewer) && !store.is_read_only() {
                store.read_only_for(crate::domain::staff::Role::Viewer)?;
            }
            return Ok(store);
        };
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

/// `--db`'s value: a path, or a `postgresql://` URI (refused with the reason when it does not
/// parse, without repeating it: it may hold a password).
fn location_of(value: &Path, flag: &str) -> Result<Location> {
    match value.to_str() {
        Some(text) => Location::parse(text).map_err(|e| anyhow::anyhow!("{flag}: {e}")),
        None => Ok(Location::File(value.to_owned())),
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
    crate::config::config_dir()
}

/// Who is acting when `--user` is not given: `$USER` (or `$LOGNAME`, `$USERNAME`), else the
/// login name of the process's user id, so that a cron job or a service with an empty
/// environment still records a real person; "unknown" only when even that has no name.
fn os_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
        .or_else(login_name_of_uid)
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The login name of the real user id, from the system's user database.
///
/// `getpwuid_r` rather than reading `/etc/passwd`: it asks NSS, so it also finds accounts kept
/// in LDAP, SSSD or systemd-homed, which on a managed office machine are most of them; and the
/// re-entrant form is safe beside the app's other threads.
#[cfg(unix)]
fn login_name_of_uid() -> Option<String> {
    use std::ffi::CStr;
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let mut buf = vec![0u8; 1024];
    loop {
        // SAFETY: an all-zero passwd is a valid value for getpwuid_r to fill in.
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer points at memory we own for the duration of the call, and
        // buf.len() is its true length; the strings it writes live in `buf`.
        let rc = unsafe {
            libc::getpwuid_r(
                uid,
                &mut entry,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut found,
            )
        };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        if rc != 0 || found.is_null() || entry.pw_name.is_null() {
            return None;
        }
        // SAFETY: on success pw_name is a NUL-terminated string inside `buf`, alive here.
        let name = unsafe { CStr::from_ptr(entry.pw_name) };
        return name
            .to_str()
            .ok()
            .filter(|n| !n.trim().is_empty())
            .map(str::to_owned);
    }
}

#[cfg(not(unix))]
fn login_name_of_uid() -> Option<String> {
    None
}
