//! Everything fullpass says to PostgreSQL: connections, migrations, the queue's
//! statements and the notification listener.

mod completions;
mod connect;
mod listener;
mod migrate;
pub mod queue;
pub mod tls;

pub use completions::{CompletionWriter, MAX_BATCH};
pub use connect::{Database, DbConfig, discard, settle, url_with_dbname};
pub use listener::{Listener, Notification};
pub use migrate::migrate;

use std::sync::Arc;
use std::time::Duration;

/// The channel the trigger notifies on; the payload is the row's `user_id`.
pub const CHANNEL: &str = "fullpass_jobs";

/// A database failure, with what fullpass was doing when it happened.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid DATABASE_URL: {0}")]
    Config(String),
    #[error("{context}: {}", describe_pg(source))]
    Postgres {
        context: &'static str,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("{context}: {source}")]
    Pool {
        context: &'static str,
        #[source]
        source: deadpool_postgres::PoolError,
    },
    /// The TLS handshake failed; `message` says which check and what to fix.
    #[error("{context}: {message}")]
    Tls {
        context: &'static str,
        message: String,
    },
    #[error("migrations failed: {0}")]
    Migration(String),
    /// A batched write failed; every job in the batch sees the same error.
    #[error(transparent)]
    Batch(Arc<DbError>),
    #[error("the completion writer has stopped")]
    WriterStopped,
    /// No answer within [`STATEMENT_TIMEOUT`]: the connection is taken for dead.
    #[error(
        "{context}: the database did not answer within {}",
        humantime::format_duration(STATEMENT_TIMEOUT)
    )]
    TimedOut { context: &'static str },
}

/// The longest fullpass waits for the database to answer one statement (or to
/// hand out a connection). A connection can look alive to TCP (a proxy or a
/// half-dead path acknowledges every byte) and never answer: without this
/// bound such a statement would wait forever.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs one database exchange with [`STATEMENT_TIMEOUT`] as its bound.
pub async fn within<T>(
    context: &'static str,
    exchange: impl Future<Output = Result<T, DbError>>,
) -> Result<T, DbError> {
    tokio::time::timeout(STATEMENT_TIMEOUT, exchange)
        .await
        .unwrap_or(Err(DbError::TimedOut { context }))
}

/// tokio-postgres prints only its own summary ("db error", "error connecting to
/// server"); the server's message or the I/O cause is further down the chain.
fn describe_pg(error: &tokio_postgres::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string().replace('\n', "; "));
        source = cause.source();
    }
    text
}

impl DbError {
    /// Whether the connection this came from is unusable: it timed out (a reply
    /// may still be on its way, out of step with the next statement) or it closed.
    pub fn broke_connection(&self) -> bool {
        match self {
            DbError::TimedOut { .. } => true,
            DbError::Postgres { source, .. } => source.is_closed(),
            DbError::Batch(inner) => inner.broke_connection(),
            _ => false,
        }
    }

    pub(crate) fn pg(context: &'static str) -> impl FnOnce(tokio_postgres::Error) -> DbError {
        move |source| DbError::Postgres { context, source }
    }
}
