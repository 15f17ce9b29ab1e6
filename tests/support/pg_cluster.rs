//! A throwaway PostgreSQL server for tests and benchmarks: `initdb` into a temporary directory,
//! `pg_ctl` listening only on a Unix socket there (no TCP port), removed when the process ends.
//! It never touches a server a person runs: its socket and data live in its own directory.
//!
//! As root (tests and CI run as root, and `initdb` refuses root) the server runs as the
//! `postgres` account on a directory it owns; as anyone else, as that user.
//!
//! Include it with `#[path = "support/pg_cluster.rs"] mod pg_cluster;`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// A running cluster.
pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
    /// The TCP port of a cluster that also listens on 127.0.0.1 (`start_private_tls`); its
    /// Unix socket is named by the same port.
    port: Option<u16>,
}

/// One test's own database on the shared cluster.
pub struct TestDatabase {
    name: String,
    socket_dir: PathBuf,
    port: Option<u16>,
}

impl TestDatabase {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `postgresql://postgres@/NAME?host=SOCKET_DIR`: the superuser, by trust on the socket.
    pub fn url(&self) -> String {
        self.url_as("postgres")
    }

    /// The URI for another role (its password comes from the environment or the URI).
    pub fn url_as(&self, role: &str) -> String {
        let port = self.port.map(|p| format!("&port={p}")).unwrap_or_default();
        format!(
            "postgresql://{role}@/{}?host={}{port}",
            self.name,
            self.socket_dir.display()
        )
    }

    /// The TCP port of a TLS cluster's database (`Cluster::start_private_tls`).
    pub fn tcp_port(&self) -> u16 {
        self.port.expect("a cluster started with start_private_tls")
    }

    /// Runs SQL as the superuser.
    pub fn execute(&self, sql: &str) {
        let mut client = postgres::Client::connect(&self.url(), postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to the test database: {e}"));
        client
            .batch_execute(sql)
            .unwrap_or_else(|e| panic!("test SQL failed: {e}\n{sql}"));
    }

    /// A superuser client.
    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url(), postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to the test database: {e}"))
    }
}

static SHARED: OnceLock<Cluster> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(1);

/// A fresh, empty database on this process's shared cluster (started on first use, stopped
/// and deleted when the process exits).
pub fn database() -> TestDatabase {
    let cluster = SHARED.get_or_init(|| {
        let cluster = Cluster::start_new(Settings::Quick);
        register_cleanup();
        cluster
    });
    cluster.new_database()
}

/// Whether PostgreSQL's server programs are on this machine.
pub fn available() -> bool {
    find_bin().is_some()
}

extern "C" fn stop_shared() {
    if let Some(cluster) = SHARED.get() {
        cluster.stop();
        let _ = std::fs::remove_dir_all(&cluster.dir);
    }
}

fn register_cleanup() {
    // The test harness leaves through `exit`, which runs these.
    // SAFETY: `stop_shared` is a plain function that only reads a OnceLock and runs programs.
    unsafe {
        libc::atexit(stop_shared);
    }
}

/// How a cluster is configured.
#[derive(Clone, Copy)]
enum Settings {
    /// The shared test server: nothing written to disk in earnest (fsync off).
    Quick,
    /// fsync on, so a stopped server keeps what was committed.
    Durable,
    /// As Debian ships it.
    AsShipped,
}

/// The server side of a TLS cluster: its certificate and key (PEM files, copied into the data
/// directory).
pub struct TlsServer<'a> {
    pub cert: &'a Path,
    pub key: &'a Path,
}

/// The password of the `postgres` role on a TLS cluster's TCP port (scram-sha-256 there; the
/// socket stays trust). Tests assert that it never appears in what rollcall prints.
pub const TLS_PASSWORD: &str = "s3cret-pw";

impl Cluster {
    /// A cluster of the caller's own, stopped and deleted on drop, with the durable settings
    /// (fsync on): for a test that stops the server to see what the app does (with fsync off,
    /// an immediate stop loses what was committed).
    pub fn start_private() -> PrivateCluster {
        PrivateCluster(Cluster::start_new(Settings::Durable))
    }

    /// A private cluster that also listens on `127.0.0.1` at a free port with `ssl = on` and
    /// `server`'s certificate. pg_hba.conf there: `hostssl all all 127.0.0.1/32 scram-sha-256`
    /// (password [`TLS_PASSWORD`] for `postgres`, so no other local account can log in while it
    /// runs) and `hostnossl all all 127.0.0.1/32 reject`: a plain TCP connection is refused.
    pub fn start_private_tls(server: TlsServer<'_>) -> PrivateCluster {
        let mut cluster = Cluster::prepare();
        let data = cluster.data();
        for (from, to) in [(server.cert, "server.crt"), (server.key, "server.key")] {
            let to = data.join(to);
            std::fs::copy(from, &to).expect("copying the server's certificate and key");
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600))
                .expect("making the server's key owner-only");
            if cluster.as_postgres {
                run(
                    Command::new("chown").arg("postgres:postgres").arg(&to),
                    "chown",
                );
            }
        }
        cluster.configure(Settings::Quick);
        append(
            &data.join("postgresql.conf"),
            "listen_addresses = '127.0.0.1'\nssl = on\nssl_cert_file = 'server.crt'\n\
             ssl_key_file = 'server.key'\n",
        );
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all postgres trust\nlocal all all scram-sha-256\n\
             hostssl all all 127.0.0.1/32 scram-sha-256\n\
             hostnossl all all 127.0.0.1/32 reject\n",
        )
        .expect("writing pg_hba.conf");
        // A free port: the kernel's choice for a listener dropped at once. Another process may
        // take it before the server binds it; then try another (bounded).
        for attempt in 1..=3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free TCP port on 127.0.0.1")
                .port();
            append(&data.join("postgresql.conf"), &format!("port = {port}\n"));
            cluster.port = Some(port);
            match cluster.try_start() {
                Ok(()) => break,
                Err(why) if attempt < 3 && why.contains("could not bind") => continue,
                Err(why) => {
                    let _ = std::fs::remove_dir_all(&cluster.dir);
                    panic!("{why}");
                }
            }
        }
        let cluster = PrivateCluster(cluster);
        TestDatabase {
            name: "postgres".into(),
            socket_dir: cluster.dir.clone(),
            port: cluster.port,
        }
        .execute(&format!("ALTER ROLE postgres PASSWORD '{TLS_PASSWORD}'"));
        cluster
    }

    /// A private cluster with the server's settings as Debian ships them (fsync on, 128 MB of
    /// shared buffers), as a team's server is after `apt install postgresql`: for benchmarks,
    /// whose figures should be what a team would see, not what a small test server gives.
    #[allow(dead_code)] // only the benchmarks use it
    pub fn start_as_shipped() -> PrivateCluster {
        PrivateCluster(Cluster::start_new(Settings::AsShipped))
    }

    fn start_new(settings: Settings) -> Cluster {
        let cluster = Cluster::prepare();
        cluster.configure(settings);
        cluster.start();
        cluster
    }

    /// A new cluster directory with `initdb` run in it, not configured or started.
    fn prepare() -> Cluster {
        let bin = find_bin().unwrap_or_else(|| {
            panic!(
                "PostgreSQL's server programs (initdb, pg_ctl) are not installed: install \
                 Debian's `postgresql` package (.ci/run does)"
            )
        });
        // Short: a Unix socket's path may be at most 107 bytes.
        let dir = tempfile::Builder::new()
            .prefix("rcpg")
            .tempdir_in("/tmp")
            .expect("a temporary directory")
            .keep();
        // Owner-only: the superuser logs in over this socket by trust, so no other local
        // account may reach it.
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
                .expect("making the cluster directory owner-only");
        }
        let as_postgres = unsafe { libc::geteuid() } == 0;
        if as_postgres {
            run(
                Command::new("chown").arg("postgres:postgres").arg(&dir),
                "chown",
            );
        }
        let cluster = Cluster {
            dir,
            bin,
            as_postgres,
            port: None,
        };
        cluster.initdb();
        cluster
    }

    pub fn socket_dir(&self) -> &Path {
        &self.dir
    }

    /// The directory of the server's programs (`psql` among them).
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn initdb(&self) {
        run(
            self.command("initdb")
                .arg("-D")
                .arg(self.data())
                .args(["-U", "postgres", "--auth-local=trust", "--auth-host=reject"])
                .args(["-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]),
            "initdb",
        );
    }

    fn configure(&self, settings: Settings) {
        // Small shared buffers for tests: many test processes each run a server at once.
        let tuned = match settings {
            Settings::Quick => {
                "shared_buffers = 32MB\nfsync = off\nsynchronous_commit = off\n\
                 full_page_writes = off\n"
            }
            Settings::Durable => "shared_buffers = 32MB\n",
            Settings::AsShipped => "",
        };
        let conf = format!(
            "listen_addresses = ''\nunix_socket_directories = '{}'\nmax_connections = 60\n\
             {tuned}",
            self.dir.display()
        );
        append(&self.data().join("postgresql.conf"), &conf);
        // The superuser by trust; every other role with its password, so that a test can see a
        // wrong password refused.
        std::fs::write(
            self.data().join("pg_hba.conf"),
            "local all postgres trust\nlocal all all scram-sha-256\n",
        )
        .expect("writing pg_hba.conf");
    }

    /// Starts the server and waits until it accepts connections (`pg_ctl -w`).
    pub fn start(&self) {
        if let Err(why) = self.try_start() {
            panic!("{why}");
        }
    }

    fn try_start(&self) -> Result<(), String> {
        let log = self.dir.join("server.log");
        let ok = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(&log)
            .args(["-w", "start"])
            .output()
            .expect("running pg_ctl");
        if !ok.status.success() {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(format!(
                "the test PostgreSQL server did not start: {}\n{}\nserver log:\n{}",
                String::from_utf8_lossy(&ok.stdout),
                String::from_utf8_lossy(&ok.stderr),
                tail.lines().rev().take(20).collect::<Vec<_>>().join("\n")
            ));
        }
        Ok(())
    }

    /// Stops the server at once (the connections see it go).
    pub fn stop(&self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }

    pub fn new_database(&self) -> TestDatabase {
        let name = format!(
            "t{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::SeqCst)
        );
        let db = TestDatabase {
            name: "postgres".into(),
            socket_dir: self.dir.clone(),
            port: self.port,
        };
        db.execute(&format!("CREATE DATABASE {name}"));
        TestDatabase {
            name,
            socket_dir: self.dir.clone(),
            port: self.port,
        }
    }
}

/// A cluster that stops and deletes itself when dropped.
pub struct PrivateCluster(Cluster);

impl std::ops::Deref for PrivateCluster {
    type Target = Cluster;
    fn deref(&self) -> &Cluster {
        &self.0
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        self.0.stop();
        let _ = std::fs::remove_dir_all(&self.0.dir);
    }
}

/// The `psql` beside the server's programs (Debian keeps one there too), else on PATH.
pub fn psql() -> PathBuf {
    find_bin()
        .map(|dir| dir.join("psql"))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("psql"))
}

/// The directory of `initdb` and `pg_ctl`: on PATH, else Debian's newest
/// `/usr/lib/postgresql/N/bin`.
fn find_bin() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
    });
    if let Some(dir) = on_path {
        // A symlink into Debian's directory: use the real one, where `postgres` sits beside.
        return std::fs::canonicalize(dir.join("initdb"))
            .ok()
            .and_then(|p| p.parent().map(Path::to_owned));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn run(command: &mut Command, what: &str) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("opening the server's configuration");
    f.write_all(text.as_bytes())
        .expect("writing the server's configuration");
}
