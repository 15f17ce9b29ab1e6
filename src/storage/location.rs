//! Where the database is: an SQLite file (one officer), or a team's PostgreSQL database named
//! by a connection URI. `--db`, `ROLLCALL_DB` and `store.url` in `config.toml` all take either.
//!
//! A URI may carry a password (`postgresql://ann:secret@host/db`). rollcall never repeats it:
//! every message names the database by [`Location`]'s `Display`, which is rebuilt from the
//! parsed parts without the password, and `Debug` says the same.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// A database rollcall can open.
#[derive(Clone)]
pub enum Location {
    File(PathBuf),
    Team(Box<TeamDatabase>),
}

/// The `application_name` of an open app window's listening connection (one per window).
pub const APP_WINDOW: &str = "rollcall-app";

/// A PostgreSQL database, as parsed from its URI.
#[derive(Clone)]
pub struct TeamDatabase {
    config: postgres::Config,
    tls: super::tls::Settings,
    shown: String,
}

impl Location {
    /// A path, or a `postgresql://` / `postgres://` URI. A URI that does not parse is an error
    /// that says why, without repeating the URI (it may hold a password).
    pub fn parse(text: &str) -> Result<Location, String> {
        let lower = text.trim_start().to_ascii_lowercase();
        if lower.starts_with("postgresql:") || lower.starts_with("postgres:") {
            return TeamDatabase::parse(text.trim()).map(|t| Location::Team(Box::new(t)));
        }
        Ok(Location::File(PathBuf::from(text)))
    }

    pub fn from_path(path: &Path) -> Location {
        match path.to_str() {
            Some(text) => Location::parse(text).unwrap_or_else(|_| Location::File(path.into())),
            None => Location::File(path.to_owned()),
        }
    }

    /// The SQLite file, when it is one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Location::File(p) => Some(p),
            Location::Team(_) => None,
        }
    }

    pub fn team(&self) -> Option<&TeamDatabase> {
        match self {
            Location::Team(t) => Some(t),
            Location::File(_) => None,
        }
    }

    /// How messages name it: the path, or the URI without its password. As a `PathBuf`, for the
    /// errors that name "the file".
    pub fn shown(&self) -> PathBuf {
        PathBuf::from(self.to_string())
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File(p) => write!(f, "{}", p.display()),
            Location::Team(t) => f.write_str(&t.shown),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

impl fmt::Display for TeamDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for TeamDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TeamDatabase({})", self.shown)
    }
}

/// The Unix-socket directory Debian's server uses; libpq's default when a URI names no host.
const DEBIAN_SOCKET_DIR: &str = "/var/run/postgresql";

impl TeamDatabase {
    fn parse(uri: &str) -> Result<TeamDatabase, String> {
        // rust-postgres knows neither libpq's verify modes nor sslrootcert: they are ours.
        let (uri, sslmode, sslrootcert) = super::tls::take_from_uri(uri)?;
        let tls = super::tls::Settings::resolve(sslmode, sslrootcert)?;
        let mut config = postgres::Config::from_str(&uri).map_err(|e| {
            format!(
                "not a PostgreSQL connection URI ({}); the form is \
                 postgresql://USER@HOST/DATABASE or postgresql:///DATABASE?host=/run/postgresql",
                first_line(&e.to_string())
            )
        })?;
        if config.get_dbname().is_none() {
            return Err(
                "the PostgreSQL URI names no database: add /DATABASE after the host".into(),
            );
        }
        if config.get_hosts().is_empty() {
            if Path::new(DEBIAN_SOCKET_DIR).is_dir() {
                config.host_path(DEBIAN_SOCKET_DIR);
            } else {
                config.host("localhost");
            }
        }
        if config.get_user().is_none()
            && let Some(user) = os_user()
        {
            config.user(&user);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        config.application_name("rollcall");
        let shown = shown(&config);
        Ok(TeamDatabase { config, tls, shown })
    }

    /// The parsed settings, with the password from `PGPASSWORD` or the password file added when
    /// the URI has none (as libpq does).
    pub fn config(&self) -> postgres::Config {
        let mut config = self.config.clone();
        if config.get_password().is_none()
            && let Some(password) = password_for(&config)
        {
            config.password(password);
        }
        config
    }

    /// `sslmode` and the root certificates, from the URI or the environment.
    pub fn tls(&self) -> &super::tls::Settings {
        &self.tls
    }

    /// The first host, as the TLS messages name it.
    pub fn host(&self) -> String {
        match self.config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(postgres::config::Host::Unix(dir)) => dir.display().to_string(),
            None => String::new(),
        }
    }

    pub fn user(&self) -> &str {
        self.config.get_user().unwrap_or("")
    }

    /// The same database, with the connection naming itself `name` to the server (in
    /// `pg_stat_activity`). Every connection says `rollcall`; an app window's listener says
    /// [`APP_WINDOW`], which is how windows see who else has one open.
    pub fn with_application_name(&self, name: &str) -> TeamDatabase {
        let mut db = self.clone();
        db.config.application_name(name);
        db
    }

    pub fn dbname(&self) -> &str {
        self.config.get_dbname().unwrap_or("")
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

fn os_user() -> Option<String> {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
}

/// `postgresql://user@host:port/db`, or `postgresql://user@/db?host=/socket/dir`: the parts
/// that say which database, and never the password.
fn shown(config: &postgres::Config) -> String {
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let db = config.get_dbname().unwrap_or("");
    let port = match config.get_ports() {
        [p, ..] if *p != 5432 => format!(":{p}"),
        _ => String::new(),
    };
    match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => format!("postgresql://{user}{h}{port}/{db}"),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(dir)) => {
            format!("postgresql://{user}/{db}?host={}{port}", dir.display())
        }
        None => format!("postgresql://{user}/{db}"),
    }
}

/// The password for `config` from `PGPASSWORD`, else from the password file (`PGPASSFILE`, or
/// `~/.pgpass`), whose lines are `host:port:database:user:password` with `*` for any and `\`
/// escaping `:` and `\`. libpq ignores a password file others can read; so does rollcall.
fn password_for(config: &postgres::Config) -> Option<String> {
    if let Ok(p) = std::env::var("PGPASSWORD")
        && !p.is_empty()
    {
        return Some(p);
    }
    let file = std::env::var_os("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| directories::BaseDirs::new().map(|d| d.home_dir().join(".pgpass")))?;
    if !owner_only(&file) {
        return None;
    }
    let text = std::fs::read_to_string(&file).ok()?;
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(_)) => "localhost".to_owned(),
        None => "localhost".to_owned(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let wanted = [
        host.as_str(),
        port.as_str(),
        config.get_dbname().unwrap_or(""),
        config.get_user().unwrap_or(""),
    ];
    pgpass_lookup(&text, wanted)
}

#[cfg(unix)]
fn owner_only(file: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(file).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o077 == 0)
}

#[cfg(not(unix))]
fn owner_only(file: &Path) -> bool {
    file.is_file()
}

/// The password of the first line of a `.pgpass` file whose four fields match `wanted`.
fn pgpass_lookup(text: &str, wanted: [&str; 4]) -> Option<String> {
    for line in text.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = split_pgpass(line);
        if fields.len() < 5 {
            continue;
        }
        let matches = fields[..4]
            .iter()
            .zip(wanted)
            .all(|(field, want)| field == "*" || field == want);
        if matches {
            return Some(fields[4..].join(":"));
        }
    }
    None
}

fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    fields.last_mut().expect("never empty").push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            _ => fields.last_mut().expect("never empty").push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_files_and_uris_are_team_databases() {
        assert!(matches!(
            Location::parse("rollcall.db"),
            Ok(Location::File(_))
        ));
        assert!(matches!(
            Location::parse("/home/amira/postgres.db"),
            Ok(Location::File(_))
        ));
        for uri in [
            "postgresql://ann@db.example.org/rollcall",
            "postgres://ann@db.example.org:5433/rollcall",
            "postgresql:///rollcall?host=/run/postgresql",
        ] {
            assert!(
                matches!(Location::parse(uri), Ok(Location::Team(_))),
                "{uri}"
            );
        }
    }

    #[test]
    fn a_password_in_the_uri_is_never_shown() {
        let db =
            Location::parse("postgresql://ann:s3cret-Pw@db.example.org:5433/rollcall").unwrap();
        assert_eq!(
            db.to_string(),
            "postgresql://ann@db.example.org:5433/rollcall"
        );
        assert!(!format!("{db:?}").contains("s3cret"));
        let socket = Location::parse("postgresql://bo:pw@/team?host=/run/postgresql").unwrap();
        assert_eq!(
            socket.to_string(),
            "postgresql://bo@/team?host=/run/postgresql"
        );
        let bad = Location::parse("postgresql://ann:s3cret@db.example.org:notaport/rollcall")
            .err()
            .unwrap();
        assert!(!bad.contains("s3cret"), "{bad}");
        assert!(bad.contains("not a PostgreSQL connection URI"), "{bad}");
    }

    #[test]
    fn a_uri_without_a_database_is_refused() {
        let err = Location::parse("postgresql://ann@db.example.org")
            .err()
            .unwrap();
        assert!(err.contains("names no database"), "{err}");
    }

    #[test]
    fn pgpass_matches_by_field_with_wildcards_and_escapes() {
        let text = "# team server\n\
                    db.example.org:5432:other:ann:wrong\n\
                    db.example.org:*:rollcall:ann:pa\\:ss\\\\word\n\
                    *:*:*:*:fallback\n";
        assert_eq!(
            pgpass_lookup(text, ["db.example.org", "5432", "rollcall", "ann"]).as_deref(),
            Some("pa:ss\\word")
        );
        assert_eq!(
            pgpass_lookup(text, ["elsewhere", "5432", "x", "bo"]).as_deref(),
            Some("fallback")
        );
        assert_eq!(pgpass_lookup("a:b:c:d\n", ["a", "b", "c", "d"]), None);
    }
}
