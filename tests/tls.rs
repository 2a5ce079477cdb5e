//! TLS to PostgreSQL, against a real server with `ssl=on` and certificates made
//! here: a test CA, a server certificate for `db.fullpass.test`, and a second CA
//! that signed nothing the server presents.

use fullpass::db::DbConfig;
use fullpass::devdb::{DevPostgres, DevPostgresOptions};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const SERVER_NAME: &str = "db.fullpass.test";

struct Pki {
    ca_pem: String,
    other_ca_pem: String,
    server_cert_pem: String,
    server_key_pem: String,
}

fn make_ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

fn make_pki() -> Pki {
    let ca = make_ca("fullpass test CA");
    let other = make_ca("some other CA");
    let mut params = CertificateParams::new(vec![SERVER_NAME.to_owned()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, SERVER_NAME);
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    Pki {
        ca_pem: ca.pem(),
        other_ca_pem: other.pem(),
        server_cert_pem: cert.pem(),
        server_key_pem: key.serialize_pem(),
    }
}

struct TlsServer {
    pki: Pki,
    cluster: DevPostgres,
}

/// One TLS-only server for the whole file (it is cleaned up when the binary exits).
fn tls_server() -> &'static TlsServer {
    static SERVER: OnceLock<TlsServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let pki = make_pki();
        let options = DevPostgresOptions::new()
            .file("server.crt", pki.server_cert_pem.clone())
            .file("server.key", pki.server_key_pem.clone())
            .setting("ssl", "on")
            .setting("ssl_cert_file", "server.crt")
            .setting("ssl_key_file", "server.key")
            .hba_lines([
                "local all all trust",
                // TCP only with TLS: a plaintext connection has no matching line.
                "hostssl all all 127.0.0.1/32 trust",
            ]);
        let cluster = DevPostgres::start_blocking(options).unwrap();
        TlsServer { pki, cluster }
    })
}

/// A file the test can name in `sslrootcert`; lives as long as the returned dir.
fn write_pem(pem: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, pem).unwrap();
    (dir, path)
}

fn url(server: &TlsServer, host: &str, sslmode: &str, root: Option<&Path>) -> String {
    let mut url = format!(
        "postgres://postgres@{host}:{}/postgres?hostaddr=127.0.0.1&sslmode={sslmode}",
        server.cluster.port()
    );
    if let Some(root) = root {
        url.push_str(&format!("&sslrootcert={}", root.display()));
    }
    url
}

/// Whether the server sees this session as encrypted.
async fn encrypted(client: &tokio_postgres::Client) -> bool {
    client
        .query_one(
            "select ssl from pg_stat_ssl where pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn verify_full_with_the_right_ca_connects_encrypted() {
    let server = tls_server();
    let (_dir, ca) = write_pem(&server.pki.ca_pem);
    let db = DbConfig::from_url(&url(server, SERVER_NAME, "verify-full", Some(&ca))).unwrap();
    let client = db.connect().await.unwrap();
    assert!(encrypted(&client).await);

    // The same through the pool, with the CA given as FULLPASS_DB_CA_FILE would.
    let db = DbConfig::from_url_with_ca(&url(server, SERVER_NAME, "verify-full", None), Some(&ca))
        .unwrap();
    let pool = db.pool(2).unwrap();
    let pooled = pool.get().await.unwrap();
    assert!(encrypted(&pooled).await);
    assert!(db.tls_policy().to_string().contains("host name verified"));
}

#[tokio::test]
async fn an_untrusted_server_certificate_is_refused_with_a_clear_error() {
    let server = tls_server();
    let (_dir, other_ca) = write_pem(&server.pki.other_ca_pem);
    let expected = format!(
        "TLS: server certificate not trusted by {}",
        other_ca.display()
    );

    let db = DbConfig::from_url(&url(server, SERVER_NAME, "verify-full", Some(&other_ca))).unwrap();
    let err = db.connect().await.unwrap_err().to_string();
    assert!(err.contains(&expected), "{err}");

    let err = db.pool(1).unwrap().get().await.unwrap_err().to_string();
    assert!(err.contains(&expected), "{err}");

    // No CA given: the bundled public roots do not know the test CA either.
    let db = DbConfig::from_url(&url(server, SERVER_NAME, "verify-ca", None)).unwrap();
    let err = db.connect().await.unwrap_err().to_string();
    assert!(
        err.contains("not trusted by the bundled public root certificates"),
        "{err}"
    );
}

#[tokio::test]
async fn sslmode_disable_cannot_reach_a_tls_only_server() {
    let server = tls_server();
    let db = DbConfig::from_url(&url(server, SERVER_NAME, "disable", None)).unwrap();
    let err = db.connect().await.unwrap_err().to_string();
    assert!(err.contains("no encryption"), "{err}");
}

#[tokio::test]
async fn host_name_mismatch_fails_verify_full_but_passes_verify_ca() {
    let server = tls_server();
    let (_dir, ca) = write_pem(&server.pki.ca_pem);
    let wrong_host = "wrong.fullpass.test";

    let db = DbConfig::from_url(&url(server, wrong_host, "verify-full", Some(&ca))).unwrap();
    let err = db.connect().await.unwrap_err().to_string();
    assert!(err.contains("does not match the host name"), "{err}");
    assert!(err.contains(wrong_host), "{err}");

    let db = DbConfig::from_url(&url(server, wrong_host, "verify-ca", Some(&ca))).unwrap();
    let client = db.connect().await.unwrap();
    assert!(encrypted(&client).await);
}

#[tokio::test]
async fn require_encrypts_and_verifies_only_when_given_roots() {
    let server = tls_server();
    // No roots: encrypted, certificate unchecked (libpq's require).
    let db = DbConfig::from_url(&url(server, "wrong.fullpass.test", "require", None)).unwrap();
    let client = db.connect().await.unwrap();
    assert!(encrypted(&client).await);

    // A root file makes require check the chain, as libpq does.
    let (_dir, other_ca) = write_pem(&server.pki.other_ca_pem);
    let db = DbConfig::from_url(&url(server, SERVER_NAME, "require", Some(&other_ca))).unwrap();
    let err = db.connect().await.unwrap_err().to_string();
    assert!(err.contains("TLS: server certificate not trusted"), "{err}");

    // prefer (the default) uses TLS when the server offers it.
    let db = DbConfig::from_url(&format!(
        "postgres://postgres@127.0.0.1:{}/postgres",
        server.cluster.port()
    ))
    .unwrap();
    let client = db.connect().await.unwrap();
    assert!(encrypted(&client).await);
}

#[tokio::test]
async fn require_against_a_plaintext_server_fails_and_the_cluster_cleans_up() {
    let cluster = DevPostgres::start(DevPostgresOptions::new()).await.unwrap();
    let port = cluster.port();
    let data_dir = cluster.data_dir().to_path_buf();

    let db = DbConfig::from_url(&format!("{}?sslmode=require", cluster.url("postgres"))).unwrap();
    let err = db.connect().await.unwrap_err().to_string();
    assert!(
        err.contains("TLS: the server does not accept TLS connections"),
        "{err}"
    );

    let db = DbConfig::from_url(&cluster.url("postgres")).unwrap();
    let client = db.connect().await.unwrap();
    assert!(!encrypted(&client).await);
    drop(client);

    drop(cluster);
    assert!(!data_dir.exists(), "data directory left behind");
    let refused = tokio::net::TcpStream::connect(("127.0.0.1", port)).await;
    assert!(refused.is_err(), "server still listening after drop");
}

#[tokio::test]
async fn bad_tls_settings_fail_before_connecting() {
    let err = DbConfig::from_url("postgres://h/db?sslmode=verify").unwrap_err();
    assert!(err.to_string().contains("sslmode=\"verify\""), "{err}");
    let err =
        DbConfig::from_url("postgres://h/db?sslmode=verify-full&sslrootcert=/nonexistent.pem")
            .unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot read the CA certificate file /nonexistent.pem"),
        "{err}"
    );
}
