use super::DbError;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres_rustls::MakeRustlsConnect;

/// How to reach the database: `DATABASE_URL` parsed once.
#[derive(Clone)]
pub struct DbConfig {
    pg: tokio_postgres::Config,
    tls: MakeRustlsConnect,
}

impl std::fmt::Debug for DbConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbConfig")
            .field("hosts", &self.pg.get_hosts())
            .field("dbname", &self.pg.get_dbname())
            .field("user", &self.pg.get_user())
            .finish_non_exhaustive()
    }
}

fn tls_connector() -> Result<MakeRustlsConnect, DbError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth());
    config
        .map(MakeRustlsConnect::new)
        .map_err(|e| DbError::Config(format!("TLS configuration: {e}")))
}

impl DbConfig {
    pub fn from_url(url: &str) -> Result<DbConfig, DbError> {
        let mut pg =
            tokio_postgres::Config::from_str(url).map_err(|e| DbError::Config(e.to_string()))?;
        if pg.get_application_name().is_none() {
            pg.application_name("fullpass");
        }
        pg.connect_timeout(Duration::from_secs(10));
        pg.keepalives(true);
        pg.keepalives_idle(Duration::from_secs(30));
        Ok(DbConfig {
            pg,
            tls: tls_connector()?,
        })
    }

    /// The database name, for logs.
    pub fn dbname(&self) -> &str {
        self.pg.get_dbname().unwrap_or("postgres")
    }

    /// A connection outside the pool, driven by its own task.
    pub async fn connect(&self) -> Result<tokio_postgres::Client, DbError> {
        let (client, connection) = self
            .pg
            .connect(self.tls.clone())
            .await
            .map_err(DbError::pg("connecting to the database"))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "database connection closed");
            }
        });
        Ok(client)
    }

    /// A connection whose messages (notifications) the caller drives itself.
    pub(crate) async fn connect_raw(
        &self,
    ) -> Result<
        (
            tokio_postgres::Client,
            tokio_postgres::Connection<
                tokio_postgres::Socket,
                <MakeRustlsConnect as tokio_postgres::tls::MakeTlsConnect<
                    tokio_postgres::Socket,
                >>::Stream,
            >,
        ),
        DbError,
    > {
        let mut pg = self.pg.clone();
        pg.application_name("fullpass-listener");
        pg.connect(self.tls.clone())
            .await
            .map_err(DbError::pg("connecting the listener"))
    }

    pub fn pool(&self, size: usize) -> Result<Database, DbError> {
        let manager = Manager::from_config(
            self.pg.clone(),
            self.tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(size)
            .wait_timeout(Some(Duration::from_secs(30)))
            .create_timeout(Some(Duration::from_secs(15)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| DbError::Config(e.to_string()))?;
        Ok(Database { pool })
    }
}

/// The connection pool jobs and sweeps draw from.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
}

impl Database {
    pub async fn get(&self) -> Result<deadpool_postgres::Object, DbError> {
        self.pool.get().await.map_err(|source| DbError::Pool {
            context: "getting a database connection",
            source,
        })
    }
}

/// Replaces the database name of a `postgres://` URL (query string kept).
pub fn url_with_dbname(url: &str, dbname: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..path_start], dbname);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}
