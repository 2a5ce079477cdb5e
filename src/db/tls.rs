//! TLS to PostgreSQL with libpq's `sslmode` meanings.
//!
//! tokio-postgres only knows `disable`, `prefer` and `require`, and its TLS
//! connector decides alone what "verified" means. So `sslmode` and `sslrootcert`
//! are taken out of `DATABASE_URL` here, tokio-postgres is told only whether to
//! encrypt, and the rustls certificate verifier implements the mode:
//!
//! | sslmode       | encrypts           | chain checked        | host name checked |
//! |---------------|--------------------|----------------------|-------------------|
//! | `disable`     | no                 | –                    | –                 |
//! | `prefer`      | if the server can  | only if roots given  | no                |
//! | `require`     | yes                | only if roots given  | no                |
//! | `verify-ca`   | yes                | yes                  | no                |
//! | `verify-full` | yes                | yes                  | yes               |
//!
//! "Roots given" means `sslrootcert=FILE` in the URL or `FULLPASS_DB_CA_FILE`, as
//! libpq treats `require` like `verify-ca` when a root file exists. Without one,
//! `verify-*` trust the bundled public roots, which do not include Supabase's CA:
//! on Supabase always give its CA file.

use super::DbError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode`, all five that make sense for a daemon (`allow` is not supported).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub fn parse(value: &str) -> Result<SslMode, DbError> {
        match value {
            "disable" => Ok(SslMode::Disable),
            "prefer" => Ok(SslMode::Prefer),
            "require" => Ok(SslMode::Require),
            "verify-ca" => Ok(SslMode::VerifyCa),
            "verify-full" => Ok(SslMode::VerifyFull),
            other => Err(DbError::Config(format!(
                "sslmode={other:?} is not supported (use disable, prefer, require, verify-ca or verify-full)"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// What tokio-postgres must do on the wire; verification is ours.
    pub(crate) fn wire_mode(self) -> tokio_postgres::config::SslMode {
        match self {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                tokio_postgres::config::SslMode::Require
            }
        }
    }
}

/// Where trusted root certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootSource {
    /// The Mozilla roots compiled into fullpass (`sslrootcert=system`, or nothing given).
    Bundled,
    /// A PEM file with one or more CA certificates.
    File(PathBuf),
}

impl fmt::Display for RootSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RootSource::Bundled => f.write_str("the bundled public root certificates"),
            RootSource::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// How much of the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verification {
    None,
    Chain,
    ChainAndHost,
}

/// The TLS promise of one `DATABASE_URL`: its mode and the roots it trusts.
#[derive(Debug, Clone)]
pub struct TlsPolicy {
    mode: SslMode,
    roots: RootSource,
    /// Whether the roots were given explicitly (which upgrades prefer/require).
    roots_given: bool,
}

impl TlsPolicy {
    /// `sslrootcert` from the URL wins over `ca_file` (`FULLPASS_DB_CA_FILE`);
    /// `system` means the bundled roots.
    pub fn new(mode: SslMode, sslrootcert: Option<&str>, ca_file: Option<&Path>) -> TlsPolicy {
        let given = sslrootcert
            .map(|s| {
                if s == "system" {
                    RootSource::Bundled
                } else {
                    RootSource::File(PathBuf::from(s))
                }
            })
            .or_else(|| ca_file.map(|p| RootSource::File(p.to_path_buf())));
        TlsPolicy {
            mode,
            roots_given: given.is_some(),
            roots: given.unwrap_or(RootSource::Bundled),
        }
    }

    pub fn mode(&self) -> SslMode {
        self.mode
    }

    pub fn roots(&self) -> &RootSource {
        &self.roots
    }

    fn verification(&self) -> Verification {
        match self.mode {
            SslMode::Disable => Verification::None,
            SslMode::Prefer | SslMode::Require if self.roots_given => Verification::Chain,
            SslMode::Prefer | SslMode::Require => Verification::None,
            SslMode::VerifyCa => Verification::Chain,
            SslMode::VerifyFull => Verification::ChainAndHost,
        }
    }

    /// The connector tokio-postgres uses; reads the root file now so that a bad
    /// path fails at start rather than at the first connection.
    pub(crate) fn connector(&self) -> Result<MakeRustlsConnect, DbError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verification = self.verification();
        let roots = match verification {
            Verification::None => RootCertStore::empty(),
            Verification::Chain | Verification::ChainAndHost => self.load_roots()?,
        };
        let verifier = PolicyVerifier {
            roots: Arc::new(roots),
            verification,
            provider: provider.clone(),
        };
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| DbError::Config(format!("TLS: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(MakeRustlsConnect::new(config))
    }

    fn load_roots(&self) -> Result<RootCertStore, DbError> {
        let mut store = RootCertStore::empty();
        let path = match &self.roots {
            RootSource::Bundled => {
                store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
                return Ok(store);
            }
            RootSource::File(path) => path,
        };
        let pem = std::fs::read(path).map_err(|e| {
            DbError::Config(format!(
                "TLS: cannot read the CA certificate file {}: {e}",
                path.display()
            ))
        })?;
        let mut found = 0usize;
        for (index, cert) in rustls_pemfile::certs(&mut pem.as_slice()).enumerate() {
            let cert = cert.map_err(|e| {
                DbError::Config(format!(
                    "TLS: {}: certificate {} is not valid PEM: {e}",
                    path.display(),
                    index + 1
                ))
            })?;
            store.add(cert).map_err(|e| {
                DbError::Config(format!(
                    "TLS: {}: certificate {} cannot be a root: {e}",
                    path.display(),
                    index + 1
                ))
            })?;
            found += 1;
        }
        if found == 0 {
            return Err(DbError::Config(format!(
                "TLS: {} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)",
                path.display()
            )));
        }
        Ok(store)
    }

    /// Turns a failed connection into a sentence an operator can act on, when
    /// TLS is what failed; `None` for every other failure.
    pub(crate) fn explain(&self, error: &(dyn std::error::Error + 'static)) -> Option<String> {
        let mut current = Some(error);
        while let Some(e) = current {
            if let Some(tls) = find_rustls(e) {
                return Some(self.explain_rustls(tls));
            }
            if e.to_string() == "server does not support TLS" {
                return Some(format!(
                    "TLS: the server does not accept TLS connections (sslmode={})",
                    self.mode.as_str()
                ));
            }
            current = e.source();
        }
        None
    }

    fn explain_rustls(&self, error: &rustls::Error) -> String {
        let mode = self.mode.as_str();
        let rustls::Error::InvalidCertificate(cert) = error else {
            return format!("TLS: handshake failed (sslmode={mode}): {error}");
        };
        match cert {
            CertificateError::UnknownIssuer
            | CertificateError::BadSignature
            | CertificateError::UnsupportedSignatureAlgorithmContext { .. }
            | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. }
            | CertificateError::InvalidPurpose
            | CertificateError::InvalidPurposeContext { .. } => {
                let hint = match self.roots {
                    RootSource::Bundled => {
                        "; give the server's CA with sslrootcert=FILE or FULLPASS_DB_CA_FILE"
                    }
                    RootSource::File(_) => "",
                };
                format!(
                    "TLS: server certificate not trusted by {} (sslmode={mode}){hint}",
                    self.roots
                )
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!(
                    "TLS: server certificate does not match the host name ({cert}); \
                     sslmode=verify-full checks it, verify-ca does not"
                )
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                format!("TLS: server certificate has expired ({cert})")
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                format!("TLS: server certificate is not valid yet ({cert})")
            }
            other => format!("TLS: server certificate rejected (sslmode={mode}): {other}"),
        }
    }
}

impl fmt::Display for TlsPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.verification() {
            Verification::None => write!(
                f,
                "sslmode={}, certificate not verified",
                self.mode.as_str()
            ),
            Verification::Chain => write!(
                f,
                "sslmode={}, certificate chain verified against {}",
                self.mode.as_str(),
                self.roots
            ),
            Verification::ChainAndHost => write!(
                f,
                "sslmode={}, certificate chain and host name verified against {}",
                self.mode.as_str(),
                self.roots
            ),
        }
    }
}

/// rustls errors reach us wrapped in an `io::Error`, whose `source()` skips them.
fn find_rustls<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    error
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
}

/// Checks as much of the server certificate as the policy asks. Handshake
/// signatures are always verified, so even `require` talks to whoever holds the
/// key of the certificate presented.
#[derive(Debug)]
struct PolicyVerifier {
    roots: Arc<RootCertStore>,
    verification: Verification,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PolicyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.verification == Verification::None {
            return Ok(ServerCertVerified::assertion());
        }
        let cert = rustls::server::ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            &self.roots,
            intermediates,
            now,
            self.provider.signature_verification_algorithms.all,
        )?;
        if self.verification == Verification::ChainAndHost {
            rustls::client::verify_server_name(&cert, server_name)?;
        }
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
            &self.provider.signature_verification_algorithms,
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
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// `DATABASE_URL` split into what tokio-postgres accepts and the TLS options it would reject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SplitUrl {
    pub(crate) rest: String,
    pub(crate) sslmode: Option<String>,
    pub(crate) sslrootcert: Option<String>,
}

/// Removes `sslmode` and `sslrootcert` from a `postgres://` URL or a
/// `key=value` connection string, leaving everything else byte for byte.
pub(crate) fn split_url(url: &str) -> Result<SplitUrl, DbError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        split_uri(url)
    } else {
        split_key_values(url)
    }
}

fn split_uri(url: &str) -> Result<SplitUrl, DbError> {
    let mut out = SplitUrl {
        rest: String::new(),
        sslmode: None,
        sslrootcert: None,
    };
    let Some((base, query)) = url.split_once('?') else {
        out.rest = url.to_owned();
        return Ok(out);
    };
    let mut kept = Vec::new();
    for param in query.split('&') {
        let (key, value) = param.split_once('=').unwrap_or((param, ""));
        match key {
            "sslmode" => out.sslmode = Some(percent_decode(value)?),
            "sslrootcert" => out.sslrootcert = Some(percent_decode(value)?),
            _ => kept.push(param),
        }
    }
    out.rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok(out)
}

fn percent_decode(value: &str) -> Result<String, DbError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes.get(i), hex) {
            (Some(b'%'), Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (Some(&b), _) => {
                out.push(b);
                i += 1;
            }
            (None, _) => break,
        }
    }
    String::from_utf8(out)
        .map_err(|_| DbError::Config(format!("{value:?} is not UTF-8 once percent-decoded")))
}

/// libpq's `key = value` syntax: values bare or single-quoted, `\` escapes.
fn split_key_values(conninfo: &str) -> Result<SplitUrl, DbError> {
    let mut out = SplitUrl {
        rest: String::new(),
        sslmode: None,
        sslrootcert: None,
    };
    let mut kept: Vec<&str> = Vec::new();
    let mut chars = conninfo.char_indices().peekable();
    loop {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(start, _)) = chars.peek() else {
            break;
        };
        let mut key = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        if chars.next_if(|(_, c)| *c == '=').is_none() {
            return Err(DbError::Config(format!(
                "expected \"=\" after {key:?} in the connection string"
            )));
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if(|(_, c)| *c == '\'').is_some() {
            loop {
                match chars.next() {
                    Some((_, '\'')) => break,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, c)) => value.push(c),
                        None => break,
                    },
                    Some((_, c)) => value.push(c),
                    None => {
                        return Err(DbError::Config(format!(
                            "unterminated quoted value for {key:?} in the connection string"
                        )));
                    }
                }
            }
        } else {
            while let Some((_, c)) = chars.next_if(|(_, c)| !c.is_whitespace()) {
                if c == '\\' {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                } else {
                    value.push(c);
                }
            }
        }
        let end = chars.peek().map_or(conninfo.len(), |&(i, _)| i);
        match key.as_str() {
            "sslmode" => out.sslmode = Some(value),
            "sslrootcert" => out.sslrootcert = Some(value),
            _ => {
                if let Some(pair) = conninfo.get(start..end) {
                    kept.push(pair);
                }
            }
        }
    }
    out.rest = kept.join(" ");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_loses_only_tls_options() {
        let s = split_url(
            "postgres://u:p@h:5432/db?sslmode=verify-full&application_name=x&sslrootcert=%2Fetc%2Fca%20file.pem",
        )
        .unwrap();
        assert_eq!(s.rest, "postgres://u:p@h:5432/db?application_name=x");
        assert_eq!(s.sslmode.as_deref(), Some("verify-full"));
        assert_eq!(s.sslrootcert.as_deref(), Some("/etc/ca file.pem"));

        let s = split_url("postgresql://h/db?sslmode=require").unwrap();
        assert_eq!(s.rest, "postgresql://h/db");
        let s = split_url("postgres://h/db").unwrap();
        assert_eq!(s.rest, "postgres://h/db");
        assert_eq!(s.sslmode, None);
    }

    #[test]
    fn key_values_lose_only_tls_options() {
        let s = split_url(
            r"host=h sslmode = verify-ca password='it\'s x' sslrootcert='/a b/c.pem' dbname=x",
        )
        .unwrap();
        assert_eq!(s.rest, r"host=h password='it\'s x' dbname=x");
        assert_eq!(s.sslmode.as_deref(), Some("verify-ca"));
        assert_eq!(s.sslrootcert.as_deref(), Some("/a b/c.pem"));
        assert!(split_url("host=h user").is_err());
        assert!(split_url("host='h").is_err());
    }

    #[test]
    fn modes_and_verification() {
        assert!(SslMode::parse("allow").is_err());
        assert!(SslMode::parse("verify_full").is_err());
        let p = |mode, root: Option<&str>| TlsPolicy::new(mode, root, None).verification();
        assert_eq!(p(SslMode::Require, None), Verification::None);
        assert_eq!(p(SslMode::Require, Some("/ca.pem")), Verification::Chain);
        assert_eq!(p(SslMode::Prefer, Some("system")), Verification::Chain);
        assert_eq!(p(SslMode::VerifyCa, None), Verification::Chain);
        assert_eq!(p(SslMode::VerifyFull, None), Verification::ChainAndHost);
        assert_eq!(p(SslMode::Disable, Some("/ca.pem")), Verification::None);
        let from_env = TlsPolicy::new(SslMode::VerifyFull, None, Some(Path::new("/env/ca.pem")));
        assert_eq!(from_env.roots(), &RootSource::File("/env/ca.pem".into()));
        let url_wins = TlsPolicy::new(
            SslMode::VerifyFull,
            Some("/url/ca.pem"),
            Some(Path::new("/env/ca.pem")),
        );
        assert_eq!(url_wins.roots(), &RootSource::File("/url/ca.pem".into()));
    }

    #[test]
    fn unreadable_or_empty_root_files_fail_at_start() {
        let missing = TlsPolicy::new(SslMode::VerifyFull, Some("/nonexistent/ca.pem"), None);
        let err = missing.connector().err().unwrap().to_string();
        assert!(
            err.contains("cannot read the CA certificate file /nonexistent/ca.pem"),
            "{err}"
        );

        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let policy = TlsPolicy::new(SslMode::VerifyCa, empty.to_str(), None);
        let err = policy.connector().err().unwrap().to_string();
        assert!(err.contains("holds no PEM certificate"), "{err}");
    }
}
