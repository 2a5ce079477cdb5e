//! Chunk results kept in `fullpass.llm_chunks`, so a job run again after a crash, a
//! deploy or a transient failure does not pay again for the chunks already done.

use super::LlmError;
use crate::extract::Fact;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio_postgres::Client;
use uuid::Uuid;

/// Where one job's chunk results are kept: the user's rows in `fullpass.llm_chunks`.
#[derive(Clone, Copy)]
pub struct Checkpoints<'a> {
    pub client: &'a Client,
    pub user_id: Uuid,
}

/// What a chunk cost when it was done.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkCost {
    pub requests: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

const LOAD: &str = "
select facts from fullpass.llm_chunks where user_id = $1 and chunk_hash = $2";

const SAVE: &str = "
insert into fullpass.llm_chunks (user_id, chunk_hash, model, facts, usage)
values ($1, $2, $3, $4, $5)
on conflict (user_id, chunk_hash) do nothing";

const FORGET_USER: &str = "delete from fullpass.llm_chunks where user_id = $1";

const FORGET_OLDER_THAN: &str = "
delete from fullpass.llm_chunks where created_at < now() - $1::float8 * interval '1 second'";

impl Checkpoints<'_> {
    /// The facts saved for a chunk, if it was done before. A row that no longer
    /// parses (an older format) counts as not done.
    pub async fn load(&self, chunk_hash: &str) -> Result<Option<Vec<Fact>>, LlmError> {
        let row = self
            .client
            .query_opt(LOAD, &[&self.user_id, &chunk_hash])
            .await
            .map_err(LlmError::checkpoint("loading a chunk checkpoint"))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let facts: serde_json::Value = row
            .try_get(0)
            .map_err(LlmError::checkpoint("reading a chunk checkpoint"))?;
        match serde_json::from_value(facts) {
            Ok(facts) => Ok(Some(facts)),
            Err(e) => {
                tracing::warn!(chunk_hash, error = %e, "ignoring an unreadable chunk checkpoint");
                Ok(None)
            }
        }
    }

    pub async fn save(
        &self,
        chunk_hash: &str,
        model: &str,
        facts: &[Fact],
        cost: &ChunkCost,
    ) -> Result<(), LlmError> {
        // Facts always serialise; if they ever did not, the chunk would simply be redone next time.
        let (Ok(facts), Ok(cost)) = (serde_json::to_value(facts), serde_json::to_value(cost))
        else {
            return Ok(());
        };
        self.client
            .execute(SAVE, &[&self.user_id, &chunk_hash, &model, &facts, &cost])
            .await
            .map_err(LlmError::checkpoint("saving a chunk checkpoint"))?;
        Ok(())
    }

    /// Deletes the user's checkpoints: call once the job's result is written.
    pub async fn forget(&self) -> Result<u64, LlmError> {
        self.client
            .execute(FORGET_USER, &[&self.user_id])
            .await
            .map_err(LlmError::checkpoint("deleting chunk checkpoints"))
    }
}

/// Deletes every checkpoint older than `age` (jobs that failed for good leave theirs behind).
pub async fn forget_older_than(client: &Client, age: Duration) -> Result<u64, LlmError> {
    client
        .execute(FORGET_OLDER_THAN, &[&age.as_secs_f64()])
        .await
        .map_err(LlmError::checkpoint("deleting old chunk checkpoints"))
}
