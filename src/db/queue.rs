//! The queue's statements, all of them. A row moves
//! `pending → processing → complete | failed`; a processing row can also go back
//! to `pending` (retry later, released on shutdown, rescued after its worker died).
//! Every statement a worker runs on a claimed row checks the claim token, so a
//! worker whose claim was rescued and given to another cannot write anything.
//!
//! Those fenced statements test the status as `(full_pass_status = 'processing')
//! is true`, which no partial index's predicate matches: the row is then always
//! found by its primary key. With a plain `= 'processing'`, the planner can pick
//! the partial index of processing rows instead (it looks tiny to it) and scan
//! every entry it holds, including one per row completed since the last vacuum.

use super::DbError;
use std::time::Duration;
use tokio_postgres::{GenericClient, ToStatement};
use uuid::Uuid;

/// The statements that change a claimed row, each fenced by its claim token
/// (public so that tests can check how they are planned).
pub const FENCED: [&str; 5] = [RENEW, COMPLETE_ALL, FAIL, RETRY_LATER, RELEASE];

/// A row this worker holds: only the holder of `token` may change it.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub user_id: Uuid,
    pub storage_path: String,
    /// 1 for the first try; counts every claim since the last request.
    pub attempt: i32,
    pub rescues: i32,
    pub token: Uuid,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// How the daemon sends its most frequent statements (the claim and the batched
/// completion) over its pooled connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statements {
    /// Prepared once per connection and reused: the server skips parsing and
    /// planning (measured: a third less PostgreSQL CPU per job in a drain).
    /// Only where each pooled connection is a session of its own.
    Prepared,
    /// Sent as text on every call: behind a transaction-mode pooler a prepared
    /// statement can be missing on the server connection the next call gets.
    Unprepared,
}

/// The statement prepared from `sql` and cached on `client`, or `None` when
/// `sql` is to be sent as text.
async fn prepared(
    client: &deadpool_postgres::ClientWrapper,
    statements: Statements,
    sql: &'static str,
) -> Result<Option<tokio_postgres::Statement>, DbError> {
    match statements {
        Statements::Prepared => client
            .prepare_cached(sql)
            .await
            .map(Some)
            .map_err(DbError::pg("preparing a queue statement")),
        Statements::Unprepared => Ok(None),
    }
}

/// The claim commits without waiting for its WAL flush (`synchronous_commit`
/// off for its own transaction only). A crash can then undo the claim, which
/// leaves the row pending to be claimed again, and nothing built on the claim
/// can outlive it: the WAL is flushed in order, and the completion that the
/// claim's token fences waits for its own flush, so a completion that survived
/// a crash means its claim did too. The worst a crash does is run a job twice
/// with the first result never written, as when a worker dies. In exchange the
/// claim no longer waits on the disk (most of its time when the server is busy).
const CLAIM_NEXT: &str = "
update public.user_profiles p
   set full_pass_status = 'processing',
       full_pass_attempts = p.full_pass_attempts + 1,
       full_pass_claim_token = gen_random_uuid(),
       full_pass_claimed_by = $1,
       full_pass_started_at = now(),
       full_pass_lease_until = now() + $2::bigint * interval '1 millisecond',
       full_pass_progress = null
  from (select user_id
          from public.user_profiles
         where full_pass_status = 'pending'
           and storage_path is not null
           and (full_pass_not_before is null or full_pass_not_before <= now())
         order by full_pass_requested_at
         limit $3
           for update skip locked) claimable
 where p.user_id = claimable.user_id
   and (select set_config('synchronous_commit', 'off', true)) is not null
returning p.user_id, p.storage_path, p.full_pass_attempts, p.full_pass_rescues,
          p.full_pass_claim_token";

/// Claims up to `limit` claimable rows, oldest request first. One short statement:
/// no transaction stays open while the job runs.
pub async fn claim_next(
    client: &impl GenericClient,
    worker: &str,
    lease: Duration,
    limit: i64,
) -> Result<Vec<ClaimedJob>, DbError> {
    claim_with(client, CLAIM_NEXT, worker, lease, limit).await
}

/// [`claim_next`] on a pooled connection, sent as `statements` says.
pub async fn claim_next_pooled(
    client: &deadpool_postgres::ClientWrapper,
    statements: Statements,
    worker: &str,
    lease: Duration,
    limit: i64,
) -> Result<Vec<ClaimedJob>, DbError> {
    match prepared(client, statements, CLAIM_NEXT).await? {
        Some(statement) => claim_with(&**client, &statement, worker, lease, limit).await,
        None => claim_next(&**client, worker, lease, limit).await,
    }
}

/// Runs `CLAIM_NEXT`, as text or prepared.
async fn claim_with<S: ToStatement + ?Sized + Sync + Send>(
    client: &impl GenericClient,
    statement: &S,
    worker: &str,
    lease: Duration,
    limit: i64,
) -> Result<Vec<ClaimedJob>, DbError> {
    let rows = client
        .query(statement, &[&worker, &millis(lease), &limit])
        .await
        .map_err(DbError::pg("claiming a job"))?;
    claimed_jobs(&rows)
}

fn claimed_jobs(rows: &[tokio_postgres::Row]) -> Result<Vec<ClaimedJob>, DbError> {
    rows.iter()
        .map(|row| {
            Ok(ClaimedJob {
                user_id: row.try_get(0).map_err(DbError::pg("reading a claim"))?,
                storage_path: row.try_get(1).map_err(DbError::pg("reading a claim"))?,
                attempt: row.try_get(2).map_err(DbError::pg("reading a claim"))?,
                rescues: row.try_get(3).map_err(DbError::pg("reading a claim"))?,
                token: row.try_get(4).map_err(DbError::pg("reading a claim"))?,
            })
        })
        .collect()
}

const RENEW: &str = "
update public.user_profiles
   set full_pass_lease_until = now() + $3::bigint * interval '1 millisecond',
       full_pass_progress = coalesce($4, full_pass_progress)
 where user_id = $1 and full_pass_claim_token = $2 and (full_pass_status = 'processing') is true";

/// Extends the lease (and records progress). `false`: the claim was lost.
pub async fn renew(
    client: &impl GenericClient,
    job: &ClaimedJob,
    lease: Duration,
    progress: Option<&serde_json::Value>,
) -> Result<bool, DbError> {
    let n = client
        .execute(
            RENEW,
            &[&job.user_id, &job.token, &millis(lease), &progress],
        )
        .await
        .map_err(DbError::pg("renewing a claim"))?;
    Ok(n == 1)
}

/// A finished job's result, written by [`complete_all`].
#[derive(Debug, Clone)]
pub struct Completion {
    pub user_id: Uuid,
    pub token: Uuid,
    pub memory_md: String,
    pub memory_facts: serde_json::Value,
    pub stats: serde_json::Value,
}

const COMPLETE_ALL: &str = "
update public.user_profiles p
   set full_pass_status = 'complete',
       memory_md = r.memory_md,
       memory_facts = r.memory_facts,
       full_pass_stats = r.stats,
       full_pass_completed_at = now(),
       full_pass_error = null,
       full_pass_not_before = null,
       full_pass_progress = null
  from unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::jsonb[])
       as r(user_id, token, memory_md, memory_facts, stats)
 where p.user_id = r.user_id and p.full_pass_claim_token = r.token
   and (p.full_pass_status = 'processing') is true
returning r.token";

/// Writes the results of several jobs and marks their rows complete: one
/// statement, one commit. Returns the claim tokens whose rows were written; a
/// job whose token is missing lost its claim and nothing of it was written.
pub async fn complete_all(
    client: &impl GenericClient,
    completions: &[Completion],
) -> Result<Vec<Uuid>, DbError> {
    complete_with(client, COMPLETE_ALL, completions).await
}

/// [`complete_all`] on a pooled connection, sent as `statements` says.
pub async fn complete_all_pooled(
    client: &deadpool_postgres::ClientWrapper,
    statements: Statements,
    completions: &[Completion],
) -> Result<Vec<Uuid>, DbError> {
    match prepared(client, statements, COMPLETE_ALL).await? {
        Some(statement) => complete_with(&**client, &statement, completions).await,
        None => complete_all(&**client, completions).await,
    }
}

/// Runs `COMPLETE_ALL`, as text or prepared.
async fn complete_with<S: ToStatement + ?Sized + Sync + Send>(
    client: &impl GenericClient,
    statement: &S,
    completions: &[Completion],
) -> Result<Vec<Uuid>, DbError> {
    let user_ids: Vec<Uuid> = completions.iter().map(|c| c.user_id).collect();
    let tokens: Vec<Uuid> = completions.iter().map(|c| c.token).collect();
    let memory_md: Vec<&str> = completions.iter().map(|c| c.memory_md.as_str()).collect();
    let memory_facts: Vec<&serde_json::Value> =
        completions.iter().map(|c| &c.memory_facts).collect();
    let stats: Vec<&serde_json::Value> = completions.iter().map(|c| &c.stats).collect();
    let rows = client
        .query(
            statement,
            &[&user_ids, &tokens, &memory_md, &memory_facts, &stats],
        )
        .await
        .map_err(DbError::pg("completing jobs"))?;
    written_tokens(&rows)
}

fn written_tokens(rows: &[tokio_postgres::Row]) -> Result<Vec<Uuid>, DbError> {
    rows.iter()
        .map(|row| row.try_get(0).map_err(DbError::pg("reading a completion")))
        .collect()
}

/// Writes one job's result and marks the row complete. `false`: the claim was
/// lost and nothing was written.
pub async fn complete(
    client: &impl GenericClient,
    job: &ClaimedJob,
    memory_md: &str,
    memory_facts: &serde_json::Value,
    stats: &serde_json::Value,
) -> Result<bool, DbError> {
    let completion = Completion {
        user_id: job.user_id,
        token: job.token,
        memory_md: memory_md.to_owned(),
        memory_facts: memory_facts.clone(),
        stats: stats.clone(),
    };
    let written = complete_all(client, std::slice::from_ref(&completion)).await?;
    Ok(written.contains(&job.token))
}

const FAIL: &str = "
update public.user_profiles
   set full_pass_status = 'failed',
       full_pass_error = $3,
       full_pass_completed_at = now(),
       full_pass_not_before = null,
       full_pass_progress = null
 where user_id = $1 and full_pass_claim_token = $2 and (full_pass_status = 'processing') is true";

/// Marks the row failed for good with a one-line reason.
pub async fn fail(
    client: &impl GenericClient,
    job: &ClaimedJob,
    error: &str,
) -> Result<bool, DbError> {
    let n = client
        .execute(FAIL, &[&job.user_id, &job.token, &error])
        .await
        .map_err(DbError::pg("failing a job"))?;
    Ok(n == 1)
}

const RETRY_LATER: &str = "
update public.user_profiles
   set full_pass_status = 'pending',
       full_pass_error = $3,
       full_pass_not_before = now() + $4::bigint * interval '1 millisecond',
       full_pass_progress = null
 where user_id = $1 and full_pass_claim_token = $2 and (full_pass_status = 'processing') is true";

/// Puts the row back to pending, claimable again after `delay`; the attempt stays counted.
pub async fn retry_later(
    client: &impl GenericClient,
    job: &ClaimedJob,
    error: &str,
    delay: Duration,
) -> Result<bool, DbError> {
    let n = client
        .execute(
            RETRY_LATER,
            &[&job.user_id, &job.token, &error, &millis(delay)],
        )
        .await
        .map_err(DbError::pg("scheduling a retry"))?;
    Ok(n == 1)
}

const RELEASE: &str = "
update public.user_profiles
   set full_pass_status = 'pending',
       full_pass_attempts = greatest(full_pass_attempts - 1, 0),
       full_pass_not_before = null,
       full_pass_progress = null
 where user_id = $1 and full_pass_claim_token = $2 and (full_pass_status = 'processing') is true";

/// Gives the row back untouched (shutdown): pending at once, the attempt not charged.
pub async fn release(client: &impl GenericClient, job: &ClaimedJob) -> Result<bool, DbError> {
    let n = client
        .execute(RELEASE, &[&job.user_id, &job.token])
        .await
        .map_err(DbError::pg("releasing a job"))?;
    Ok(n == 1)
}

const RESCUE_EXPIRED: &str = "
update public.user_profiles
   set full_pass_status = case when full_pass_attempts >= $1 then 'failed' else 'pending' end,
       full_pass_rescues = full_pass_rescues + 1,
       full_pass_error = 'worker ' || coalesce(full_pass_claimed_by, '?')
                         || ' stopped renewing its claim (attempt ' || full_pass_attempts || ')',
       full_pass_completed_at = case when full_pass_attempts >= $1 then now() end,
       full_pass_not_before = null
 where user_id in (select user_id
                     from public.user_profiles
                    where full_pass_status = 'processing'
                      and full_pass_lease_until < now()
                      for update skip locked)
returning user_id, full_pass_status";

/// Rows whose worker died: back to pending (or failed when out of attempts).
pub async fn rescue_expired(
    client: &impl GenericClient,
    max_attempts: i32,
) -> Result<Vec<(Uuid, String)>, DbError> {
    let rows = client
        .query(RESCUE_EXPIRED, &[&max_attempts])
        .await
        .map_err(DbError::pg("rescuing expired claims"))?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get(0).map_err(DbError::pg("reading a rescue"))?,
                r.try_get(1).map_err(DbError::pg("reading a rescue"))?,
            ))
        })
        .collect()
}

const REQUEUE_USER: &str = "
update public.user_profiles
   set full_pass_status = 'pending'
 where user_id = $1 and full_pass_status is distinct from 'processing'
returning user_id";

/// Operator requeue of one user (not while it is running): a fresh request, attempts reset.
pub async fn requeue_user(client: &impl GenericClient, user_id: Uuid) -> Result<bool, DbError> {
    let rows = client
        .query(REQUEUE_USER, &[&user_id])
        .await
        .map_err(DbError::pg("requeueing a user"))?;
    Ok(!rows.is_empty())
}

const REQUEUE_FAILED: &str = "
update public.user_profiles set full_pass_status = 'pending' where full_pass_status = 'failed'";

/// Operator requeue of every failed row.
pub async fn requeue_failed(client: &impl GenericClient) -> Result<u64, DbError> {
    client
        .execute(REQUEUE_FAILED, &[])
        .await
        .map_err(DbError::pg("requeueing failed jobs"))
}

/// Counts by status and the age of the oldest claimable request.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct QueueStatus {
    pub pending: i64,
    pub claimable: i64,
    pub processing: i64,
    pub complete: i64,
    pub failed: i64,
    pub oldest_claimable_secs: Option<f64>,
}

pub const STATUS: &str = include_str!("../../sql/status.sql");

pub async fn status(client: &impl GenericClient) -> Result<QueueStatus, DbError> {
    let row = client
        .query_one(STATUS, &[])
        .await
        .map_err(DbError::pg("reading the queue status"))?;
    let get = |i: usize| -> Result<i64, DbError> {
        row.try_get(i)
            .map_err(DbError::pg("reading the queue status"))
    };
    Ok(QueueStatus {
        pending: get(0)?,
        claimable: get(1)?,
        processing: get(2)?,
        complete: get(3)?,
        failed: get(4)?,
        oldest_claimable_secs: row
            .try_get(5)
            .map_err(DbError::pg("reading the queue status"))?,
    })
}
