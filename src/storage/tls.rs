//! TLS to a team's PostgreSQL server, the way libpq does it: `sslmode` and `sslrootcert` from
//! the URI's query, else `PGSSLMODE` and `PGSSLROOTCERT`, with libpq's meanings.
//!
//! | sslmode | TLS | certificate |
//! | --- | --- | --- |
//! | `disable` | never | — |
//! | `allow`, `prefer` (the default) | when the server offers it, else plain | not checked |
//! | `require` | always | not checked, unless a root certificate file is there: then as `verify-ca` |
//! | `verify-ca` | always | signed by the root certificate file, for any host name |
//! | `verify-full` | always | signed by the root certificate file, and for the host connected to |
//!
//! The root certificate file is `sslrootcert`, else `~/.postgresql/root.crt`; `verify-ca` and
//! `verify-full` without one are refused before connecting. `sslrootcert=system` (libpq 16)
//! trusts the system's certificate store and needs `verify-full`. A Unix-socket connection never
//! uses TLS (nor does libpq's).
//!
//! rustls, with the ring provider. `require` accepts any certificate but still checks that the
//! server holds its key (the handshake's signatures); `verify-ca` checks the chain with rustls's
//! own verifier and forgives only a host-name mismatch.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

const MODES: &str = "disable, allow, prefer, require, verify-ca, verify-full";

impl SslMode {
    fn parse(value: &str, from: &str) -> Result<SslMode, String> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(format!(
                    "{from}: sslmode \"{}\" is not one PostgreSQL knows; use one of {MODES}",
                    other.escape_debug()
                ));
            }
        })
    }

    fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// Where a setting came from, for the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Uri,
    Env,
    Default,
}

/// The certificates that a server's must be signed by.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Roots {
    /// A PEM file: named (`sslrootcert`, `PGSSLROOTCERT`), or libpq's default, which may not
    /// exist (then `require` checks nothing).
    File(PathBuf, Source),
    /// `sslrootcert=system`.
    System,
    /// No home directory to find `~/.postgresql/root.crt` in.
    None,
}

/// The TLS settings of one team database.
#[derive(Clone, PartialEq, Eq)]
pub struct Settings {
    mode: SslMode,
    mode_from: Source,
    roots: Roots,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Settings({}, {:?})", self.mode.name(), self.roots)
    }
}

impl fmt::Display for Settings {
    /// `sslmode=verify-full from PGSSLMODE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sslmode={}", self.mode.name())?;
        match self.mode_from {
            Source::Uri => Ok(()),
            Source::Env => f.write_str(" from PGSSLMODE"),
            Source::Default => f.write_str(" by default"),
        }
    }
}

/// Takes `sslmode` and `sslrootcert` out of a URI's query, which rust-postgres would refuse
/// (it knows only three sslmodes and no sslrootcert). Returns the rest of the URI and the two
/// values, percent-decoded. An unknown sslmode is an error naming it.
pub fn take_from_uri(uri: &str) -> Result<(String, Option<SslMode>, Option<String>), String> {
    let Some((base, query)) = uri.split_once('?') else {
        return Ok((uri.to_owned(), None, None));
    };
    let (query, fragment) = match query.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (query, None),
    };
    let mut mode = None;
    let mut root = None;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match percent_decode(key).as_str() {
            "sslmode" => mode = Some(SslMode::parse(&percent_decode(value), "the URI")?),
            "sslrootcert" => root = Some(percent_decode(value)),
            _ => kept.push(pair),
        }
    }
    let mut rest = base.to_owned();
    if !kept.is_empty() {
        rest.push('?');
        rest.push_str(&kept.join("&"));
    }
    if let Some(f) = fragment {
        rest.push('#');
        rest.push_str(f);
    }
    Ok((rest, mode, root))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Settings {
    /// The URI's values over the environment's (`PGSSLMODE`, `PGSSLROOTCERT`), over libpq's
    /// defaults (`prefer`, `~/.postgresql/root.crt`).
    pub fn resolve(
        uri_mode: Option<SslMode>,
        uri_root: Option<String>,
    ) -> Result<Settings, String> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let (mode, mode_from) = match uri_mode {
            Some(m) => (Some(m), Source::Uri),
            None => match env("PGSSLMODE") {
                Some(v) => (Some(SslMode::parse(&v, "PGSSLMODE")?), Source::Env),
                None => (None, Source::Default),
            },
        };
        let root = match uri_root {
            Some(r) if !r.is_empty() => Some((r, Source::Uri)),
            _ => env("PGSSLROOTCERT").map(|r| (r, Source::Env)),
        };
        let roots = match root {
            Some((r, _)) if r == "system" => Roots::System,
            Some((r, from)) => Roots::File(PathBuf::from(r), from),
            None => directories::BaseDirs::new().map_or(Roots::None, |d| {
                Roots::File(
                    d.home_dir().join(".postgresql").join("root.crt"),
                    Source::Default,
                )
            }),
        };
        let (mode, mode_from) = match (mode, &roots) {
            // libpq 16: the system's store is only worth anything with the host name checked.
            (None, Roots::System) => (SslMode::VerifyFull, Source::Default),
            (Some(m), Roots::System) if m != SslMode::VerifyFull => {
                let from = if mode_from == Source::Env {
                    " from PGSSLMODE"
                } else {
                    ""
                };
                return Err(format!(
                    "sslrootcert=system trusts any certificate the system's store does, so it \
                     needs sslmode=verify-full, not sslmode={}{from} (libpq's rule)",
                    m.name()
                ));
            }
            (Some(m), _) => (m, mode_from),
            (None, _) => (SslMode::Prefer, Source::Default),
        };
        Ok(Settings {
            mode,
            mode_from,
            roots,
        })
    }

    pub fn mode(&self) -> SslMode {
        self.mode
    }

    /// How messages name the certificates trusted: `the root certificate file /path`.
    fn roots_shown(&self) -> String {
        match &self.roots {
            Roots::File(p, _) => format!("the root certificate file {}", p.display()),
            Roots::System => "the system's certificate store".into(),
            Roots::None => "no root certificate file".into(),
        }
    }
}

/// How to connect.
pub enum Plan {
    /// No TLS: `sslmode=disable`, or a Unix socket.
    Plain,
    /// TLS; unless `required` (`prefer`, `allow`), plain when the server offers no TLS or the
    /// handshake fails.
    Tls {
        required: bool,
        connector: MakeRustlsConnect,
    },
}

/// What to connect with, for `settings` and these hosts. Loads the root certificates; a
/// missing, unreadable or empty file is an error naming it.
pub fn plan(settings: &Settings, config: &postgres::Config) -> Result<Plan, String> {
    let all_sockets = !config.get_hosts().is_empty()
        && config.get_hosts().iter().all(|h| match h {
            postgres::config::Host::Tcp(_) => false,
            #[cfg(unix)]
            postgres::config::Host::Unix(_) => true,
        });
    if all_sockets || settings.mode == SslMode::Disable {
        return Ok(Plan::Plain);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier: Arc<dyn ServerCertVerifier> = match settings.mode {
        SslMode::Disable => unreachable!("returned above"),
        SslMode::Allow | SslMode::Prefer => Arc::new(AnyCertificate(provider.clone())),
        SslMode::Require => match &settings.roots {
            // libpq: with a root certificate file, require checks the chain as verify-ca.
            Roots::File(path, Source::Default) if !path.exists() => {
                Arc::new(AnyCertificate(provider.clone()))
            }
            Roots::None => Arc::new(AnyCertificate(provider.clone())),
            roots => Arc::new(AnyHostName(webpki(roots, settings, &provider)?)),
        },
        SslMode::VerifyCa => Arc::new(AnyHostName(webpki(&settings.roots, settings, &provider)?)),
        SslMode::VerifyFull => webpki(&settings.roots, settings, &provider)?,
    };
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Plan::Tls {
        required: !matches!(settings.mode, SslMode::Allow | SslMode::Prefer),
        connector: MakeRustlsConnect::new(tls),
    })
}

fn webpki(
    roots: &Roots,
    settings: &Settings,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, String> {
    let store = match roots {
        Roots::File(path, _) => load_roots(path, settings)?,
        Roots::System => {
            let found = rustls_native_certs::load_native_certs();
            let mut store = RootCertStore::empty();
            let (added, _) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(
                    "sslrootcert=system, but the system's certificate store has no \
                            certificates (on Debian: apt install ca-certificates)"
                        .into(),
                );
            }
            store
        }
        Roots::None => {
            return Err(format!(
                "{} checks the server's certificate against a root certificate file, and \
                 there is none: no home directory for ~/.postgresql/root.crt; name one with \
                 sslrootcert=/path/to/ca.crt (or PGSSLROOTCERT)",
                settings
            ));
        }
    };
    WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
        .build()
        .map_err(|e| format!("cannot use {}: {e}", settings.roots_shown()))
}

fn load_roots(path: &Path, settings: &Settings) -> Result<RootCertStore, String> {
    let bytes = std::fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            let named = match &settings.roots {
                Roots::File(_, Source::Uri) => " (sslrootcert in the URI)",
                Roots::File(_, Source::Env) => " (PGSSLROOTCERT)",
                _ => " (libpq's default; name another with sslrootcert=/path/to/ca.crt)",
            };
            format!(
                "{settings} checks the server's certificate against a root certificate file, \
                 and {} does not exist{named}",
                path.display()
            )
        } else {
            format!(
                "cannot read the root certificate file {}: {}",
                path.display(),
                e
            )
        }
    })?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| {
            format!(
                "the root certificate file {} is not PEM ({e}); it should hold \
                 -----BEGIN CERTIFICATE----- blocks",
                path.display()
            )
        })?;
    if certs.is_empty() {
        return Err(format!(
            "the root certificate file {} holds no certificate; it should hold \
             -----BEGIN CERTIFICATE----- blocks (PEM)",
            path.display()
        ));
    }
    let mut store = RootCertStore::empty();
    for cert in certs {
        store.add(cert).map_err(|e| {
            format!(
                "the root certificate file {} holds a certificate that cannot be used ({e})",
                path.display()
            )
        })?;
    }
    Ok(store)
}

/// `require` without a root certificate: any certificate, but the handshake's signatures are
/// still checked (the server holds the key of the certificate it sent).
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: rustls's own verifier, forgiving only a certificate for another host name.
/// (It checks the chain before the name, so a name error means the chain was good.)
#[derive(Debug)]
struct AnyHostName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyHostName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// The rustls error inside a connection error, if TLS is what failed.
fn rustls_error(e: &postgres::Error) -> Option<&rustls::Error> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(err) = current {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            && let Some(r) = inner.downcast_ref::<rustls::Error>()
        {
            return Some(r);
        }
        current = err.source();
    }
    None
}

/// Whether the connection failed in the TLS handshake (so `prefer` tries plain).
pub fn is_handshake_failure(e: &postgres::Error) -> bool {
    rustls_error(e).is_some()
}

/// A TLS failure in one line, saying which it was; `None` when `e` is not about TLS.
pub fn problem(e: &postgres::Error, settings: &Settings, host: &str) -> Option<String> {
    if let Some(r) = rustls_error(e) {
        return Some(match r {
            rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            ) => {
                let names = match r {
                    rustls::Error::InvalidCertificate(
                        CertificateError::NotValidForNameContext { presented, .. },
                    ) if !presented.is_empty() => {
                        let shown: Vec<String> = presented.iter().map(|p| bare_name(p)).collect();
                        format!(" ({})", shown.join(", "))
                    }
                    _ => String::new(),
                };
                format!(
                    "the server's certificate is for another host name{names}, not {host}; \
                     {settings} checks the name: connect by a name the certificate lists"
                )
            }
            rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer
                | CertificateError::BadSignature
                | CertificateError::UnhandledCriticalExtension
                | CertificateError::InvalidPurpose
                | CertificateError::InvalidPurposeContext { .. },
            ) => format!(
                "the server's certificate is not trusted by {} ({settings}); ask who runs the \
                 server for the certificate of the authority that signed it",
                settings.roots_shown()
            ),
            rustls::Error::InvalidCertificate(cert) => format!(
                "the server's certificate was refused ({settings}): {}",
                describe_certificate_error(cert)
            ),
            other => format!("the TLS handshake with the server failed ({settings}): {other}"),
        });
    }
    let text = std::error::Error::source(e).map(|s| s.to_string())?;
    if text.contains("server does not support TLS") {
        return Some(format!(
            "the server does not accept TLS connections, but {settings} requires TLS; ask who \
             runs the server to turn ssl on, or reach it over its Unix socket"
        ));
    }
    None
}

/// `localhost` for rustls's `DnsName("localhost")`, `127.0.0.1` for `IpAddress(127.0.0.1)`.
fn bare_name(presented: &str) -> String {
    let inner = presented
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or(presented);
    inner.trim_matches('"').to_owned()
}

fn describe_certificate_error(e: &CertificateError) -> String {
    match e {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "it has expired".into()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "it is not valid yet (check this machine's clock)".into()
        }
        CertificateError::Revoked => "it has been revoked".into(),
        other => format!("{other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_are_taken_out_of_the_uri() {
        let (rest, mode, root) = take_from_uri(
            "postgresql://ann:pw@db.example.org/rollcall?sslmode=verify-full&\
             sslrootcert=%2Fetc%2Fca.crt&connect_timeout=5",
        )
        .unwrap();
        assert_eq!(
            rest,
            "postgresql://ann:pw@db.example.org/rollcall?connect_timeout=5"
        );
        assert_eq!(mode, Some(SslMode::VerifyFull));
        assert_eq!(root.as_deref(), Some("/etc/ca.crt"));
        let (rest, mode, root) =
            take_from_uri("postgresql://ann@db.example.org/rollcall?sslmode=require").unwrap();
        assert_eq!(rest, "postgresql://ann@db.example.org/rollcall");
        assert_eq!((mode, root), (Some(SslMode::Require), None));
        let (rest, mode, _) = take_from_uri("postgresql:///rollcall?host=/run/pg").unwrap();
        assert_eq!(
            (rest.as_str(), mode),
            ("postgresql:///rollcall?host=/run/pg", None)
        );
    }

    #[test]
    fn an_unknown_sslmode_is_named_with_the_known_ones() {
        let err = take_from_uri("postgresql://ann:s3cret@db/rollcall?sslmode=verify-fll")
            .err()
            .unwrap();
        assert!(err.contains("\"verify-fll\""), "{err}");
        assert!(err.contains("verify-full"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn presented_names_are_shown_bare() {
        assert_eq!(bare_name("DnsName(\"localhost\")"), "localhost");
        assert_eq!(bare_name("IpAddress(127.0.0.1)"), "127.0.0.1");
        assert_eq!(bare_name("db.example.org"), "db.example.org");
    }

    #[test]
    fn system_roots_need_verify_full() {
        let err = Settings::resolve(Some(SslMode::Require), Some("system".into()))
            .err()
            .unwrap();
        assert!(err.contains("verify-full"), "{err}");
        let ok = Settings::resolve(None, Some("system".into())).unwrap();
        assert_eq!(ok.mode(), SslMode::VerifyFull);
    }

    #[test]
    fn a_socket_never_uses_tls() {
        let settings =
            Settings::resolve(Some(SslMode::VerifyFull), Some("/nowhere".into())).unwrap();
        let mut config = postgres::Config::new();
        config.host_path("/run/postgresql");
        assert!(matches!(plan(&settings, &config), Ok(Plan::Plain)));
        let mut tcp = postgres::Config::new();
        tcp.host("db.example.org");
        let err = plan(&settings, &tcp).err().unwrap();
        assert!(err.contains("/nowhere does not exist"), "{err}");
    }
}
