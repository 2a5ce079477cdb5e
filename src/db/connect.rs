use super::DbError;
use super::tls::{SslMode, TlsPolicy, split_url};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres_rustls::MakeRustlsConnect;

/// How to reach the database: `DATABASE_URL` parsed once.
#[derive(Clone)]
pub struct DbConfig {
    pg: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    tls_policy: TlsPolicy,
}

impl std::fmt::Debug for DbConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbConfig")
            .field("hosts", &self.pg.get_hosts())
            .field("dbname", &self.pg.get_dbname())
            .field("user", &self.pg.get_user())
            .field("tls", &self.tls_policy.to_string())
            .finish_non_exhaustive()
    }
}

impl DbConfig {
    pub fn from_url(url: &str) -> Result<DbConfig, DbError> {
        DbConfig::from_url_with_ca(url, None)
    }

    /// Like [`DbConfig::from_url`], with a CA file (`FULLPASS_DB_CA_FILE`) used
    /// when the URL has no `sslrootcert`. See [`super::tls`] for the sslmodes.
    pub fn from_url_with_ca(url: &str, ca_file: Option<&Path>) -> Result<DbConfig, DbError> {
        let split = split_url(url)?;
        let mode = match split.sslmode.as_deref() {
            Some(mode) => SslMode::parse(mode)?,
            None => SslMode::Prefer,
        };
        let tls_policy = TlsPolicy::new(mode, split.sslrootcert.as_deref(), ca_file);
        let mut pg = tokio_postgres::Config::from_str(&split.rest)
            .map_err(|e| DbError::Config(e.to_string()))?;
        pg.ssl_mode(mode.wire_mode());
        if pg.get_application_name().is_none() {
            pg.application_name("fullpass");
        }
        pg.connect_timeout(super::STATEMENT_TIMEOUT);
        // A peer that vanished is noticed by the kernel: unanswered keepalives
        // on an idle connection, unacknowledged bytes on a busy one.
        pg.keepalives(true);
        pg.keepalives_idle(Duration::from_secs(10));
        pg.keepalives_interval(Duration::from_secs(5));
        pg.keepalives_retries(3);
        pg.tcp_user_timeout(Duration::from_secs(30));
        Ok(DbConfig {
            pg,
            tls: tls_policy.connector()?,
            tls_policy,
        })
    }

    /// The sslmode and trusted roots in force, for the startup log.
    pub fn tls_policy(&self) -> &TlsPolicy {
        &self.tls_policy
    }

    /// A connection error, reworded when TLS is what failed.
    fn connect_error(
        &self,
        context: &'static str,
    ) -> impl FnOnce(tokio_postgres::Error) -> DbError {
        let policy = self.tls_policy.clone();
        move |source| match policy.explain(&source) {
            Some(message) => DbError::Tls { context, message },
            None => DbError::Postgres { context, source },
        }
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
            .map_err(self.connect_error("connecting to the database"))?;
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
            .map_err(self.connect_error("connecting the listener"))
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
            .wait_timeout(Some(super::STATEMENT_TIMEOUT))
            .create_timeout(Some(super::STATEMENT_TIMEOUT))
            .recycle_timeout(Some(super::STATEMENT_TIMEOUT))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| DbError::Config(e.to_string()))?;
        Ok(Database {
            pool,
            tls_policy: self.tls_policy.clone(),
        })
    }
}

/// The connection pool jobs and sweeps draw from.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    tls_policy: TlsPolicy,
}

impl Database {
    pub async fn get(&self) -> Result<deadpool_postgres::Object, DbError> {
        const CONTEXT: &str = "getting a database connection";
        self.pool.get().await.map_err(|source| {
            if let deadpool_postgres::PoolError::Backend(e) = &source
                && let Some(message) = self.tls_policy.explain(e)
            {
                return DbError::Tls {
                    context: CONTEXT,
                    message,
                };
            }
            DbError::Pool {
                context: CONTEXT,
                source,
            }
        })
    }
}

/// Hands a pooled connection back after an exchange on it: closed instead
/// when the exchange broke it or went unanswered (a late reply would be read
/// as the next statement's).
pub fn settle<T>(conn: deadpool_postgres::Object, result: &Result<T, DbError>) {
    if let Err(e) = result
        && e.broke_connection()
    {
        discard(conn);
    }
}

/// Closes a pooled connection instead of returning it to the pool.
pub fn discard(conn: deadpool_postgres::Object) {
    drop(deadpool_postgres::Object::take(conn));
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
