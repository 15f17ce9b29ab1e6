//! TLS to a team's PostgreSQL server, through the real `rollcall` binary: a private cluster of
//! this process's own (tests/support/pg_cluster.rs) that listens on 127.0.0.1 with `ssl = on`
//! and refuses plain TCP connections, with a throwaway CA and server certificate made here by
//! the `openssl` program. Skipped, saying so, where PostgreSQL's server programs or `openssl`
//! are missing.

#[path = "support/pg_cluster.rs"]
mod pg_cluster;

use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output};
use std::sync::OnceLock;

use assert_cmd::Command;
use pg_cluster::{Cluster, PrivateCluster, TLS_PASSWORD, TestDatabase, TlsServer};

/// The certificates: `ca` signed the server's (for `localhost` and `127.0.0.1`); `other_ca`
/// signed nothing the server has.
struct Certs {
    dir: PathBuf,
    ca: PathBuf,
    other_ca: PathBuf,
}

struct Fixture {
    certs: Certs,
    cluster: PrivateCluster,
    home: PathBuf,
}

static FIXTURE: OnceLock<Option<Fixture>> = OnceLock::new();

/// The shared TLS cluster, or `None` (the test then returns) when it cannot be had here.
fn fixture() -> Option<&'static Fixture> {
    FIXTURE
        .get_or_init(|| {
            if !pg_cluster::available() {
                eprintln!("skipped: PostgreSQL's server programs (initdb, pg_ctl) are missing");
                return None;
            }
            if StdCommand::new("openssl").arg("version").output().is_err() {
                eprintln!("skipped: the openssl program is missing");
                return None;
            }
            let certs = make_certs();
            let cluster = Cluster::start_private_tls(TlsServer {
                cert: &certs.dir.join("server.crt"),
                key: &certs.dir.join("server.key"),
            });
            let home = certs.dir.join("home");
            std::fs::create_dir(&home).unwrap();
            // SAFETY: a plain function that stops the server and removes directories.
            unsafe {
                libc::atexit(cleanup);
            }
            Some(Fixture {
                certs,
                cluster,
                home,
            })
        })
        .as_ref()
}

extern "C" fn cleanup() {
    if let Some(Some(f)) = FIXTURE.get() {
        f.cluster.stop();
        let _ = std::fs::remove_dir_all(f.cluster.socket_dir());
        let _ = std::fs::remove_dir_all(&f.certs.dir);
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = StdCommand::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("running openssl");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two CAs and a server certificate signed by the first, all EC P-256, valid for two days.
fn make_certs() -> Certs {
    let dir = tempfile::Builder::new()
        .prefix("rctls")
        .tempdir()
        .unwrap()
        .keep();
    std::fs::write(
        dir.join("ca.cnf"),
        "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = rollcall test CA\n\
         [ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n\
         subjectKeyIdentifier = hash\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature\n\
         extendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    for name in ["ca", "other-ca"] {
        let mut args = vec!["req", "-x509", "-config", "ca.cnf", "-extensions", "ca"];
        args.extend(ec);
        let key = format!("{name}.key");
        let crt = format!("{name}.crt");
        args.extend(["-keyout", &key, "-out", &crt, "-days", "2"]);
        openssl(&dir, &args);
    }
    let mut args = vec!["req", "-new", "-subj", "/CN=localhost"];
    args.extend(ec);
    args.extend(["-keyout", "server.key", "-out", "server.csr"]);
    openssl(&dir, &args);
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ],
    );
    Certs {
        ca: dir.join("ca.crt"),
        other_ca: dir.join("other-ca.crt"),
        dir,
    }
}

/// `postgresql://postgres:PASSWORD@HOST:PORT/DB?QUERY`: over TCP, password in the URI.
fn tcp_uri(db: &TestDatabase, host: &str, query: &str) -> String {
    let port = db.tcp_port();
    let name = db.name();
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("postgresql://postgres:{TLS_PASSWORD}@{host}:{port}/{name}{query}")
}

/// Runs `rollcall --db URI team init` with `env`, and checks that the password appears in
/// none of what it printed.
fn team_init(f: &Fixture, uri: &str, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::cargo_bin("rollcall").unwrap();
    cmd.args(["--db", uri, "team", "init"])
        .env("ROLLCALL_TODAY", "2026-11-23")
        .env("ROLLCALL_USER", "amira")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env("HOME", &f.home)
        .env_remove("ROLLCALL_DB")
        .env_remove("PGPASSWORD")
        .env_remove("PGPASSFILE")
        .env_remove("PGSSLMODE")
        .env_remove("PGSSLROOTCERT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    for (what, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(
            !String::from_utf8_lossy(text).contains(TLS_PASSWORD),
            "the password is in the {what}: {}",
            String::from_utf8_lossy(text)
        );
    }
    out
}

fn assert_connected(out: &Output) {
    assert!(
        out.status.success(),
        "expected to connect: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("Created rollcall's schema"), "{said}");
}

/// Refused, in one line, containing each of `wanted`; returns the line.
fn assert_refused(out: &Output, wanted: &[&str]) -> String {
    assert!(!out.status.success(), "expected a refusal");
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    for w in wanted {
        assert!(stderr.contains(w), "{w:?} missing from: {stderr}");
    }
    eprintln!("refused as expected: {stderr}");
    stderr
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn require_connects_without_checking_the_certificate() {
    let Some(f) = fixture() else { return };
    let db = f.cluster.new_database();
    // The server refuses plain TCP connections (hostnossl reject): connecting proves TLS.
    assert_connected(&team_init(
        f,
        &tcp_uri(&db, "127.0.0.1", "sslmode=require"),
        &[],
    ));
}

#[test]
fn the_default_prefer_uses_tls_when_the_server_offers_it() {
    let Some(f) = fixture() else { return };
    let db = f.cluster.new_database();
    assert_connected(&team_init(f, &tcp_uri(&db, "127.0.0.1", ""), &[]));
}

#[test]
fn verify_full_with_the_right_ca_and_name_connects() {
    let Some(f) = fixture() else { return };
    let db = f.cluster.new_database();
    let query = format!("sslmode=verify-full&sslrootcert={}", path(&f.certs.ca));
    assert_connected(&team_init(f, &tcp_uri(&db, "localhost", &query), &[]));
    // By the IP address the certificate also names.
    let db = f.cluster.new_database();
    assert_connected(&team_init(f, &tcp_uri(&db, "127.0.0.1", &query), &[]));
}

#[test]
fn verify_full_with_another_ca_is_refused_as_not_trusted() {
    let Some(f) = fixture() else { return };
    let db = f.cluster.new_database();
    let query = format!(
        "sslmode=verify-full&sslrootcert={}",
        path(&f.certs.other_ca)
    );
    let out = team_init(f, &tcp_uri(&db, "localhost", &query), &[]);
    assert_refused(
        &out,
        &[
            "not trusted by the root certificate file",
            path(&f.certs.other_ca),
        ],
    );
}

#[test]
fn require_with_a_root_certificate_checks_the_chain_as_libpq_does() {
    let Some(f) = fixture() else { return };
    let db = f.cluster.new_database();
    let query = format!("sslmode=require&sslrootcert={}", path(&f.certs.other_ca));
    let out = team_init(f, &tcp_uri(&db, "localhost", &query), &[]);
    assert_refused(&out, &["not trusted", path(&f.certs.other_ca)]);
}

/// The certificate names localhost and 127.0.0.1; the URI names another host, reached at
/// 127.0.0.1 through `hostaddr`: deterministic, no name service asked.
#[test]
fn verify_full_for_another_host_name_is_refused_naming_it() {
    let Some(f) = fixture() else { return };
    let db = f.cluster.new_database();
    let query = format!(
        "hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={}",
        path(&f.certs.ca)
    );
    let out = team_init(f, &tcp_uri(&db, "db.rollcall-test.invalid", &query), &[]);
    assert_refused(
        &out,
        &[
            "certificate is for another host name (localhost, 127.0.0.1), not \
             db.rollcall-test.invalid",
        ],
    );
}

#[test]
fn verify_ca_connects_whatever_the_host_name() {
    let Some(f) = fixture() else { return };
    let db = f.cluster.new_database();
    let query = format!(
        "hostaddr=127.0.0.1&sslmode=verify-ca&sslrootcert={}",
        path(&f.certs.ca)
    );
    assert_connected(&team_init(
        f,
        &tcp_uri(&db, "db.rollcall-test.invalid", &query),
        &[],
    ));
    // But not with a CA that did not sign the server's certificate.
    let db = f.cluster.new_database();
    let query = format!("sslmode=verify-ca&sslrootcert={}", path(&f.certs.other_ca));
    assert_refused(
        &team_init(f, &tcp_uri(&db, "localhost", &query), &[]),
        &["not trusted"],
    );
}

#[test]
fn disable_against_a_server_that_insists_on_tls_is_refused_clearly() {
    let Some(f) = fixture() else { return };
    let db = f.cluster.new_database();
    let out = team_init(f, &tcp_uri(&db, "127.0.0.1", "sslmode=disable"), &[]);
    assert_refused(&out, &["accepts only TLS connections", "sslmode=disable"]);
}

#[test]
fn a_missing_root_certificate_file_is_named() {
    let Some(f) = fixture() else { return };
    let db = f.cluster.new_database();
    let missing = f.certs.dir.join("no-such-ca.crt");
    let query = format!("sslmode=verify-full&sslrootcert={}", path(&missing));
    let out = team_init(f, &tcp_uri(&db, "localhost", &query), &[]);
    assert_refused(&out, &[path(&missing), "does not exist"]);
    // With none named, libpq's default under the home directory.
    let out = team_init(f, &tcp_uri(&db, "localhost", "sslmode=verify-ca"), &[]);
    let default = f.home.join(".postgresql").join("root.crt");
    assert_refused(&out, &[path(&default), "does not exist"]);
    // A file that is not PEM.
    let query = format!(
        "sslmode=verify-full&sslrootcert={}",
        path(&f.certs.dir.join("ca.cnf"))
    );
    let out = team_init(f, &tcp_uri(&db, "localhost", &query), &[]);
    assert_refused(&out, &["ca.cnf", "no certificate"]);
}

#[test]
fn pgsslmode_and_pgsslrootcert_from_the_environment_are_honoured_and_the_uri_wins() {
    let Some(f) = fixture() else { return };
    let db = f.cluster.new_database();
    let uri = tcp_uri(&db, "localhost", "");
    let out = team_init(
        f,
        &uri,
        &[
            ("PGSSLMODE", "verify-full"),
            ("PGSSLROOTCERT", path(&f.certs.other_ca)),
        ],
    );
    assert_refused(&out, &["not trusted", path(&f.certs.other_ca), "PGSSLMODE"]);
    let out = team_init(f, &uri, &[("PGSSLMODE", "disable")]);
    assert_refused(
        &out,
        &["accepts only TLS", "sslmode=disable from PGSSLMODE"],
    );
    assert_connected(&team_init(
        f,
        &uri,
        &[
            ("PGSSLMODE", "verify-full"),
            ("PGSSLROOTCERT", path(&f.certs.ca)),
        ],
    ));
    // The URI's sslmode over the environment's.
    let db = f.cluster.new_database();
    assert_connected(&team_init(
        f,
        &tcp_uri(&db, "localhost", "sslmode=require"),
        &[("PGSSLMODE", "disable")],
    ));
    let out = team_init(f, &uri, &[("PGSSLMODE", "verify-fulll")]);
    assert_refused(&out, &["PGSSLMODE", "\"verify-fulll\"", "verify-full"]);
}

#[test]
fn an_unknown_sslmode_is_named_with_the_accepted_ones() {
    let Some(f) = fixture() else { return };
    let db = f.cluster.new_database();
    let out = team_init(f, &tcp_uri(&db, "localhost", "sslmode=verify_full"), &[]);
    assert_refused(
        &out,
        &[
            "\"verify_full\"",
            "disable, allow, prefer, require, verify-ca, verify-full",
        ],
    );
}

#[test]
fn a_unix_socket_never_uses_tls() {
    let Some(f) = fixture() else { return };
    let db = f.cluster.new_database();
    // verify-full with a root file that does not exist: over the socket, neither matters.
    let uri = format!(
        "{}&sslmode=verify-full&sslrootcert={}",
        db.url(),
        path(&f.certs.dir.join("no-such-ca.crt"))
    );
    assert_connected(&team_init(f, &uri, &[]));
}

/// `sslrootcert=system` (libpq 16): the system's store, which never signed the test CA's
/// certificate; with a weaker sslmode, refused before connecting.
#[test]
fn sslrootcert_system_trusts_the_system_store_and_needs_verify_full() {
    let Some(f) = fixture() else { return };
    let db = f.cluster.new_database();
    let out = team_init(f, &tcp_uri(&db, "localhost", "sslrootcert=system"), &[]);
    assert_refused(&out, &["the system's certificate store"]);
    let out = team_init(
        f,
        &tcp_uri(&db, "localhost", "sslmode=require&sslrootcert=system"),
        &[],
    );
    assert_refused(&out, &["needs sslmode=verify-full", "not sslmode=require"]);
}
