//! Completions written in batches: the results of jobs that finish while a
//! write is in flight go out together in the next statement, so a backlog of
//! small jobs costs one commit (one WAL flush) per batch rather than per job.
//! An idle daemon writes each result at once; nothing waits for a batch to fill.

use super::queue::{self, Completion, Statements};
use super::{Database, DbError};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most results written by one statement.
pub const MAX_BATCH: usize = 64;

/// Hands finished jobs' results to the task that writes them. Cheap to clone;
/// the task ends when the last handle is dropped.
#[derive(Clone)]
pub struct CompletionWriter {
    queue: mpsc::Sender<Pending>,
}

struct Pending {
    completion: Completion,
    written: oneshot::Sender<Result<bool, Arc<DbError>>>,
}

impl CompletionWriter {
    /// Starts the writing task on the current runtime.
    pub fn spawn(db: Database, statements: Statements) -> CompletionWriter {
        let (queue, pending) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(write_batches(db, statements, pending));
        CompletionWriter { queue }
    }

    /// Writes one result (fenced by its claim token) and waits for the commit.
    /// `Ok(false)`: the claim was lost and nothing was written.
    pub async fn complete(&self, completion: Completion) -> Result<bool, DbError> {
        let (written, answer) = oneshot::channel();
        self.queue
            .send(Pending {
                completion,
                written,
            })
            .await
            .map_err(|_| DbError::WriterStopped)?;
        match answer.await {
            Ok(Ok(done)) => Ok(done),
            Ok(Err(shared)) => Err(DbError::Batch(shared)),
            Err(_) => Err(DbError::WriterStopped),
        }
    }
}

async fn write_batches(db: Database, statements: Statements, mut pending: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while pending.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // Rows locked in key order, as a bulk statement that finds them by
        // primary key does: the two then wait for each other instead of deadlocking.
        batch.sort_by_key(|p| p.completion.user_id);
        let (completions, waiters): (Vec<Completion>, Vec<_>) = batch
            .drain(..)
            .map(|p: Pending| (p.completion, p.written))
            .unzip();
        metrics::histogram!(crate::telemetry::COMPLETION_BATCH).record(completions.len() as f64);
        let result = match db.get().await {
            Ok(client) => {
                let written = super::within(
                    "writing results",
                    queue::complete_all_pooled(&client, statements, &completions),
                )
                .await;
                super::settle(client, &written);
                written
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(written) => {
                for (completion, waiter) in completions.iter().zip(waiters) {
                    let _ = waiter.send(Ok(written.contains(&completion.token)));
                }
            }
            Err(error) => {
                let error = Arc::new(error);
                for waiter in waiters {
                    let _ = waiter.send(Err(Arc::clone(&error)));
                }
            }
        }
    }
}
