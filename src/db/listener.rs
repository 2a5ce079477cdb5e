//! A dedicated connection that LISTENs (pooled connections would drop notifications).
//! Notifications are hints: the daemon also sweeps, so a lost one only costs latency.

use super::{CHANNEL, DbConfig, DbError};
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_postgres::AsyncMessage;

/// What the listener hands the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// A row became claimable (payload: its `user_id`).
    Job(String),
    /// The connection died; notifications may have been missed.
    Lost(String),
}

/// A live LISTEN connection. Dropping it closes the connection.
pub struct Listener {
    client: tokio_postgres::Client,
    task: tokio::task::JoinHandle<()>,
}

impl Listener {
    /// Connects, runs `LISTEN`, and forwards notifications to `tx` until the
    /// connection ends (then sends [`Notification::Lost`]).
    pub async fn start(db: &DbConfig, tx: mpsc::Sender<Notification>) -> Result<Listener, DbError> {
        let (client, mut connection) = db.connect_raw().await?;
        let task = tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            let reason = loop {
                match messages.next().await {
                    Some(Ok(AsyncMessage::Notification(n))) => {
                        if n.channel() == CHANNEL
                            && tx
                                .send(Notification::Job(n.payload().to_owned()))
                                .await
                                .is_err()
                        {
                            return;
                        }
                    }
                    Some(Ok(AsyncMessage::Notice(notice))) => {
                        tracing::debug!(notice = %notice.message(), "listener notice");
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => break e.to_string(),
                    None => break "connection closed".to_owned(),
                }
            };
            let _ = tx.send(Notification::Lost(reason)).await;
        });
        let listen = format!("listen {CHANNEL}");
        if let Err(e) = client.batch_execute(&listen).await {
            task.abort();
            return Err(DbError::Postgres {
                context: "LISTEN on the listener connection",
                source: e,
            });
        }
        Ok(Listener { client, task })
    }

    /// A round trip on the listener connection; fails when it is dead.
    pub async fn check(&self) -> Result<(), DbError> {
        self.client
            .simple_query("")
            .await
            .map(|_| ())
            .map_err(DbError::pg("checking the listener connection"))
    }

    /// Sends a notification to ourselves (used to detect transaction poolers).
    pub async fn notify_self(&self, payload: &str) -> Result<(), DbError> {
        self.client
            .execute("select pg_notify($1, $2)", &[&CHANNEL, &payload])
            .await
            .map(|_| ())
            .map_err(DbError::pg("sending a test notification"))
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}
