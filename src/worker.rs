//! One claimed job, start to end: open the export, run the pass on a blocking
//! thread while the lease is renewed, then complete, retry later, fail or release
//! the row — always fenced by the claim token.

use crate::db::queue::{self, ClaimedJob};
use crate::db::{CompletionWriter, Database, DbError};
use crate::extract::ExtractSettings;
use crate::ingest::{Cancelled, IngestError, Limits, Progress};
use crate::llm::{Checkpoints, LlmError, LlmExtractor, LlmUsage};
use crate::memory;
use crate::pass::{self, IN_MEMORY_EXPORT_BYTES, PassOutput};
use crate::retry::{Backoff, Retries};
use crate::storage::{self, PathRule, Storage, StorageError, StoragePath};
use crate::telemetry;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Everything a job needs that does not change between jobs.
#[derive(Debug, Clone)]
pub struct JobSettings {
    pub storage: Storage,
    /// Where a row's `storage_path` may point, relative to its user.
    pub storage_paths: PathRule,
    pub limits: Limits,
    pub extract: ExtractSettings,
    pub lease: Duration,
    pub max_attempts: i32,
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub job_timeout: Duration,
    pub alert_webhook_url: Option<String>,
    /// `Some` when `FULLPASS_EXTRACTOR=llm`: a model reads the messages instead of the rules.
    pub llm: Option<Arc<LlmExtractor>>,
}

/// How a job ended, from the queue's point of view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Completed,
    /// Failed for good; the row is `failed` with this reason.
    Failed(String),
    /// Transient failure; the row is `pending` again with a not-before time.
    Retrying {
        error: String,
        delay: Duration,
    },
    /// Given back untouched (shutdown); pending at once, attempt not charged.
    Released,
    /// The claim was taken away (rescued); nothing was written.
    LostClaim,
}

/// Why a job could not produce a memory.
#[derive(Debug, thiserror::Error)]
enum JobError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Llm(#[from] LlmError),
    #[error("export is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
    #[error("the job took longer than its limit of {}", humantime::format_duration(*.0))]
    TimedOut(Duration),
    #[error("processing stopped unexpectedly: {0}")]
    Crashed(String),
    #[error("{0}; the previous memory was kept")]
    NoUserMessages(#[from] pass::NoUserMessages),
}

impl JobError {
    fn is_transient(&self) -> bool {
        match self {
            JobError::Storage(e) => e.is_transient(),
            JobError::Ingest(e) => e.is_transient(),
            JobError::Llm(e) => e.is_transient(),
            JobError::TimedOut(_) => true,
            JobError::TooLarge { .. } | JobError::Crashed(_) | JobError::NoUserMessages(_) => false,
        }
    }

    /// One line a support person can act on.
    fn one_line(&self) -> String {
        let text = self.to_string();
        let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
        line.chars().take(500).collect()
    }
}

/// Why the running pass was stopped.
#[derive(Clone, Default)]
struct StopReason {
    stop: Arc<AtomicBool>,
}

impl StopReason {
    fn trigger(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
    fn is_set(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Ends the pass at its next read once the job is told to stop, even when the
/// export arrives too slowly for the reader to report progress.
struct StoppableReader<R> {
    inner: R,
    stop: StopReason,
}

impl<R: std::io::Read> std::io::Read for StoppableReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.stop.is_set() {
            return Err(std::io::Error::other("job stopped"));
        }
        self.inner.read(buf)
    }
}

/// Progress shared between the blocking pass and the lease renewer.
#[derive(Default)]
struct SharedProgress {
    /// 0 when storage did not say.
    bytes_total: AtomicU64,
    bytes_read: AtomicU64,
    conversations: AtomicU64,
}

/// Delay before retrying a job after its attempt number `attempt` (1-based) failed.
pub fn retry_delay(attempt: i32, base: Duration, max: Duration) -> Duration {
    let n = u32::try_from(attempt.saturating_sub(1)).unwrap_or(0);
    Backoff::new(base, max).delay(n)
}

/// Runs one claimed job on `conn` to the end. `slot` is the job's share of the
/// daemon's processing capacity: it is given up as soon as the pass is over, so
/// the next job starts while this one waits for its result's commit (and so
/// does `conn`, when the result goes to the completion writer).
/// `release` is cancelled when the daemon shuts down past its grace period.
pub async fn run_job<Slot: Send>(
    settings: &JobSettings,
    db: &Database,
    conn: deadpool_postgres::Object,
    completions: &CompletionWriter,
    job: &ClaimedJob,
    slot: Slot,
    release: &CancellationToken,
) -> JobOutcome {
    let started = Instant::now();
    let stop = StopReason::default();
    let progress = Arc::new(SharedProgress::default());
    let mut lost = false;
    let mut conn_broken = false;
    let mut timed_out = false;
    let mut released = false;

    let result = {
        let work = process(settings, &conn, job, stop.clone(), progress.clone());
        tokio::pin!(work);
        let renew_every =
            (settings.lease / 4).clamp(Duration::from_millis(100), Duration::from_secs(1));
        let mut renew = tokio::time::interval(renew_every);
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        renew.tick().await;
        let deadline = tokio::time::sleep(settings.job_timeout);
        tokio::pin!(deadline);

        // Once told to stop, the pass gets a moment to notice; a download stuck in a
        // read that long is abandoned (the blocking thread ends at its next read).
        let mut abandon: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
        loop {
            tokio::select! {
                result = &mut work => break Some(result),
                _ = renew.tick(), if !lost => {
                    let p = serde_json::json!({
                        "bytes_read": progress.bytes_read.load(Ordering::Relaxed),
                        "bytes_total": match progress.bytes_total.load(Ordering::Relaxed) {
                            0 => None,
                            n => Some(n),
                        },
                        "conversations": progress.conversations.load(Ordering::Relaxed),
                    });
                    let renewed = crate::db::within(
                        "renewing the claim",
                        queue::renew(&**conn, job, settings.lease, Some(&p)),
                    )
                    .await;
                    match renewed {
                        Ok(true) => {}
                        Ok(false) => {
                            warn!("claim lost while processing; stopping");
                            lost = true;
                            stop.trigger();
                        }
                        Err(e) => {
                            metrics::counter!(telemetry::DB_ERRORS, "kind" => "renew").increment(1);
                            warn!(error = %e, "could not renew the claim");
                            conn_broken |= e.broke_connection();
                        }
                    }
                }
                _ = &mut deadline, if !timed_out => {
                    timed_out = true;
                    stop.trigger();
                }
                _ = release.cancelled(), if !released => {
                    released = true;
                    stop.trigger();
                }
                _ = async {
                    match abandon.as_mut() {
                        Some(sleep) => sleep.await,
                        None => std::future::pending().await,
                    }
                } => break None,
            }
            if stop.is_set() && abandon.is_none() {
                abandon = Some(Box::pin(tokio::time::sleep(Duration::from_secs(5))));
            }
        }
    };
    drop(slot);
    // A connection that did not answer is closed, not reused for the final write.
    let conn = if conn_broken {
        crate::db::discard(conn);
        None
    } else {
        Some(conn)
    };
    let job_conn: Option<&tokio_postgres::Client> = conn.as_deref().map(|c| &**c);

    let result = match result {
        // Checked here, after either extractor: an empty memory never
        // replaces the row's current one.
        Some(Ok(output)) => pass::require_something_to_remember(&output.stats, &output.facts)
            .map(|()| output)
            .map_err(JobError::from),
        Some(Err(JobError::Llm(LlmError::Ingest(IngestError::Cancelled)))) if lost => {
            return JobOutcome::LostClaim;
        }
        _ if lost => return JobOutcome::LostClaim,
        _ if released => return finish_release(db, job_conn, job).await,
        _ if timed_out => Err(JobError::TimedOut(settings.job_timeout)),
        Some(Err(e)) => Err(e),
        None => Err(JobError::Crashed("stopped without a reason".to_owned())),
    };
    let elapsed = started.elapsed();
    match result {
        Ok(output) => {
            let md = memory::render_markdown(&output.facts);
            let facts = memory::render_json(&output.facts);
            let mut stats = serde_json::to_value(&output.stats).unwrap_or(serde_json::Value::Null);
            if let (Some(usage), serde_json::Value::Object(map)) = (&output.llm_usage, &mut stats) {
                map.insert(
                    "llm".to_owned(),
                    serde_json::to_value(usage).unwrap_or(serde_json::Value::Null),
                );
            }
            metrics::counter!(telemetry::BYTES_PROCESSED).increment(output.stats.compressed_bytes);
            metrics::counter!(telemetry::CONVERSATIONS_PROCESSED)
                .increment(output.stats.conversations);
            let completion = queue::Completion {
                user_id: job.user_id,
                token: job.token,
                memory_md: md,
                memory_facts: facts,
                stats,
            };
            // The completion writer has connections of its own.
            drop(conn);
            let written = complete_with_retry(completions, completion).await;
            match written {
                Some(true) => {
                    if output.llm_usage.is_some() {
                        forget_checkpoints(db, job).await;
                    }
                    info!(
                        llm_usage = ?output.llm_usage,
                        elapsed_ms = elapsed.as_millis() as u64,
                        conversations = output.stats.conversations,
                        user_messages = output.stats.user_messages,
                        facts = output.facts.len(),
                        "full pass complete"
                    );
                    JobOutcome::Completed
                }
                Some(false) => JobOutcome::LostClaim,
                None => JobOutcome::Retrying {
                    error: "could not write the result".to_owned(),
                    delay: settings.lease,
                },
            }
        }
        Err(error) => {
            let message = error.one_line();
            if let JobError::Storage(e) = &error {
                metrics::counter!(telemetry::STORAGE_ERRORS, "kind" => storage_error_kind(e))
                    .increment(1);
            }
            if error.is_transient() && job.attempt < settings.max_attempts {
                let delay = retry_delay(job.attempt, settings.retry_base, settings.retry_max);
                let shown = format!("attempt {} failed, retrying: {message}", job.attempt);
                let state = FinalWrite::RetryLater {
                    shown: &shown,
                    delay,
                };
                let written = write_with_retry(db, job_conn, job, state).await;
                warn!(error = %message, retry_in_ms = delay.as_millis() as u64, "transient failure; will retry");
                match written {
                    Some(false) => JobOutcome::LostClaim,
                    _ => JobOutcome::Retrying {
                        error: message,
                        delay,
                    },
                }
            } else {
                let shown = if error.is_transient() {
                    format!("{message} (gave up after {} attempts)", job.attempt)
                } else {
                    message.clone()
                };
                let written =
                    write_with_retry(db, job_conn, job, FinalWrite::Fail { shown: &shown }).await;
                warn!(error = %shown, "full pass failed");
                if written == Some(false) {
                    return JobOutcome::LostClaim;
                }
                if let Some(url) = &settings.alert_webhook_url {
                    spawn_alert(url.clone(), job, &shown);
                }
                JobOutcome::Failed(shown)
            }
        }
    }
}

/// Drops an LLM pass's chunk checkpoints once its result is written.
async fn forget_checkpoints(db: &Database, job: &ClaimedJob) {
    let client = match db.get().await {
        Ok(client) => client,
        Err(e) => {
            warn!(error = %e, "could not clear the LLM chunk checkpoints");
            return;
        }
    };
    let checkpoints = Checkpoints {
        client: &client,
        user_id: job.user_id,
    };
    if let Err(e) = checkpoints.forget().await {
        warn!(error = %e, "could not clear the LLM chunk checkpoints");
    }
}

fn storage_error_kind(e: &StorageError) -> &'static str {
    match e {
        StorageError::InvalidPath { .. } => "invalid_path",
        StorageError::NotAllowed { .. } => "not_allowed",
        StorageError::Refused { .. } => "refused",
        StorageError::NotFound(_) => "not_found",
        StorageError::Denied { .. } => "denied",
        StorageError::Http { .. } => "http",
        StorageError::Network { .. } => "network",
        StorageError::Io { .. } => "io",
    }
}

async fn finish_release(
    db: &Database,
    conn: Option<&tokio_postgres::Client>,
    job: &ClaimedJob,
) -> JobOutcome {
    let written = write_with_retry(db, conn, job, FinalWrite::Release).await;
    match written {
        Some(false) => JobOutcome::LostClaim,
        _ => {
            info!("released unfinished job for another worker");
            JobOutcome::Released
        }
    }
}

/// A final state to write on a claimed row.
#[derive(Clone, Copy)]
enum FinalWrite<'a> {
    RetryLater { shown: &'a str, delay: Duration },
    Fail { shown: &'a str },
    Release,
}

impl FinalWrite<'_> {
    fn what(self) -> &'static str {
        match self {
            FinalWrite::RetryLater { .. } => "scheduling a retry",
            FinalWrite::Fail { .. } => "failing",
            FinalWrite::Release => "releasing",
        }
    }

    /// Writes it (fenced by the claim token), bounded. `Ok(false)`: the claim was lost.
    async fn write(self, c: &tokio_postgres::Client, job: &ClaimedJob) -> Result<bool, DbError> {
        let exchange = async {
            match self {
                FinalWrite::RetryLater { shown, delay } => {
                    queue::retry_later(c, job, shown, delay).await
                }
                FinalWrite::Fail { shown } => queue::fail(c, job, shown).await,
                FinalWrite::Release => queue::release(c, job).await,
            }
        };
        crate::db::within(self.what(), exchange).await
    }
}

/// Writes a final state: first on the job's own connection (`None` when it
/// broke); if that fails (database restarted, connection reset, no answer), a
/// few more times on fresh pooled connections, each try bounded. `None` if
/// every try failed — the lease then runs out and the row is rescued, so the
/// job is never lost.
async fn write_with_retry(
    db: &Database,
    conn: Option<&tokio_postgres::Client>,
    job: &ClaimedJob,
    state: FinalWrite<'_>,
) -> Option<bool> {
    let what = state.what();
    let mut retries = Retries::new(FINAL_WRITE_RETRY);
    if let Some(conn) = conn.filter(|c| !c.is_closed()) {
        match state.write(conn, job).await {
            Ok(done) => return Some(done),
            Err(e) => pause_after(what, &e, &mut retries).await,
        }
    }
    for _ in 1..WRITE_TRIES {
        let written = match db.get().await {
            Ok(c) => {
                let written = state.write(&c, job).await;
                crate::db::settle(c, &written);
                written
            }
            Err(e) => Err(e),
        };
        match written {
            Ok(done) => return Some(done),
            Err(e) => pause_after(what, &e, &mut retries).await,
        }
    }
    None
}

/// Writes a result through the completion writer, retried like [`write_with_retry`].
async fn complete_with_retry(
    completions: &CompletionWriter,
    completion: queue::Completion,
) -> Option<bool> {
    let mut retries = Retries::new(FINAL_WRITE_RETRY);
    for _ in 0..WRITE_TRIES {
        match completions.complete(completion.clone()).await {
            Ok(done) => return Some(done),
            Err(e) => pause_after("completing", &e, &mut retries).await,
        }
    }
    None
}

/// Tries of a final write before the job is left to its lease.
const WRITE_TRIES: u32 = 6;
/// Pauses between tries of a final write.
const FINAL_WRITE_RETRY: Backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));

async fn pause_after(what: &str, error: &DbError, retries: &mut Retries) {
    metrics::counter!(telemetry::DB_ERRORS, "kind" => "write").increment(1);
    let pause = retries.failed();
    warn!(error = %error, retry_in_ms = pause.as_millis() as u64, "{what} failed; trying again");
    tokio::time::sleep(pause).await;
}

/// What a job extracted, whichever extractor ran.
struct Extracted {
    facts: Vec<crate::extract::Fact>,
    stats: crate::ingest::ExportStats,
    /// Requests and tokens, when a language model did the extraction.
    llm_usage: Option<LlmUsage>,
}

/// Opens the export and runs the pass on a blocking thread fed by the stream.
async fn process(
    settings: &JobSettings,
    conn: &tokio_postgres::Client,
    job: &ClaimedJob,
    stop: StopReason,
    progress: Arc<SharedProgress>,
) -> Result<Extracted, JobError> {
    let path = StoragePath::parse(&job.storage_path)?;
    settings.storage_paths.check(&path, job.user_id)?;
    let stream = settings.storage.open(&job.storage_path).await?;
    if let Some(size) = stream.size
        && size > settings.limits.max_compressed_bytes
    {
        return Err(JobError::TooLarge {
            size,
            limit: settings.limits.max_compressed_bytes,
        });
    }
    progress
        .bytes_total
        .store(stream.size.unwrap_or(0), Ordering::Relaxed);
    let limits = settings.limits;
    let body = if settings.llm.is_none() && stream.size.is_none_or(|n| n <= IN_MEMORY_EXPORT_BYTES)
    {
        match read_if_small(stream.body).await? {
            ExportBody::InMemory(bytes) => {
                // Passing over a few KB costs less CPU than handing it to a
                // blocking thread and back (measured: a fifth of the daemon's CPU
                // per job in a drain of small exports), so it runs right here;
                // a panic in it fails the job as it would on a blocking thread.
                let small = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    pass::run_small(
                        &bytes,
                        &limits,
                        &settings.extract,
                        ON_RUNTIME_DECOMPRESSED_BYTES,
                    )
                }));
                match small {
                    Ok(small) => {
                        if let Some(output) = small.transpose() {
                            return finish_pass(Ok(output));
                        }
                    }
                    Err(panic) => return Err(JobError::Crashed(panic_message(&*panic))),
                }
                let extract = settings.extract.clone();
                let handle = tokio::task::spawn_blocking(move || {
                    pass::run_in_memory(&bytes, &limits, &extract, |_| Ok(()))
                });
                return finish_pass(handle.await);
            }
            ExportBody::Streaming(body) => body,
        }
    } else {
        stream.body
    };
    let reader = std::io::BufReader::with_capacity(
        256 * 1024,
        StoppableReader {
            inner: tokio_util::io::SyncIoBridge::new(body),
            stop: stop.clone(),
        },
    );
    let on_progress = move |p: &Progress| {
        progress.bytes_read.store(p.bytes_read, Ordering::Relaxed);
        progress
            .conversations
            .store(p.conversations, Ordering::Relaxed);
        if stop.is_set() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    };
    if let Some(llm) = &settings.llm {
        let usage = llm.new_usage();
        let checkpoints = Checkpoints {
            client: conn,
            user_id: job.user_id,
        };
        let result = llm
            .extract_export(reader, limits, Some(checkpoints), &usage, on_progress)
            .await;
        return match result {
            Ok(out) => Ok(Extracted {
                facts: out.facts,
                stats: out.stats,
                llm_usage: Some(out.usage),
            }),
            Err(e) => {
                warn!(usage = ?usage.snapshot(), "LLM extraction failed");
                Err(e.into())
            }
        };
    }
    let extract = settings.extract.clone();
    let handle =
        tokio::task::spawn_blocking(move || pass::run(reader, &limits, &extract, on_progress));
    finish_pass(handle.await)
}

fn finish_pass(
    joined: Result<Result<PassOutput, IngestError>, tokio::task::JoinError>,
) -> Result<Extracted, JobError> {
    match joined {
        Ok(Ok(PassOutput { facts, stats })) => Ok(Extracted {
            facts,
            stats,
            llm_usage: None,
        }),
        Ok(Err(e)) => Err(e.into()),
        Err(e) => Err(JobError::Crashed(e.to_string())),
    }
}

/// What a caught panic said.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned());
    format!("the pass panicked: {text}")
}

/// Exports that decompress to at most this are passed over on the async
/// runtime's own thread: such a pass takes about half a millisecond at most
/// (measured: 0.4 ms for 31 KB), while the hand-off to a blocking thread costs
/// about 0.1 ms of CPU, worth paying only for longer passes.
const ON_RUNTIME_DECOMPRESSED_BYTES: u64 = 32 << 10;

/// An export either read whole (small enough for [`pass::run_in_memory`]) or
/// still to be streamed (what was already read comes first).
enum ExportBody {
    InMemory(Vec<u8>),
    Streaming(storage::Body),
}

/// Reads the export whole if it ends within [`IN_MEMORY_EXPORT_BYTES`], whatever
/// size storage announced.
async fn read_if_small(mut body: storage::Body) -> Result<ExportBody, JobError> {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::new();
    if let Err(source) = (&mut body)
        .take(IN_MEMORY_EXPORT_BYTES + 1)
        .read_to_end(&mut head)
        .await
    {
        let offset = head.len() as u64;
        return Err(IngestError::Source { offset, source }.into());
    }
    if head.len() as u64 <= IN_MEMORY_EXPORT_BYTES {
        return Ok(ExportBody::InMemory(head));
    }
    Ok(ExportBody::Streaming(Box::pin(
        std::io::Cursor::new(head).chain(body),
    )))
}

/// `error` without the row's storage path: alerts go to a chat channel, which
/// needs the user and the reason, not where the user's export lives.
fn without_storage_path(error: &str, storage_path: &str) -> String {
    if storage_path.is_empty() {
        return error.to_owned();
    }
    // Errors quote the path as it is, as a Rust string, or its first 200 characters.
    let short: String = storage_path.chars().take(200).collect();
    let mut text = error.to_owned();
    for form in [
        format!("{storage_path:?}"),
        format!("{short:?}"),
        storage_path.to_owned(),
    ] {
        text = text.replace(&form, "<storage path>");
    }
    text
}

/// Best effort: a short POST that never blocks or fails the job.
fn spawn_alert(url: String, job: &ClaimedJob, error: &str) {
    let text = format!(
        "fullpass: full pass for user {} failed (attempt {}): {}",
        job.user_id,
        job.attempt,
        without_storage_path(error, &job.storage_path)
    );
    tokio::spawn(async move {
        let client = match reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
        {
            Ok(c) => c,
            Err(_) => return,
        };
        match client
            .post(&url)
            .json(&serde_json::json!({ "text": text }))
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => warn!(
                status = r.status().as_u16(),
                "alert webhook refused the alert"
            ),
            Err(e) => warn!(error = %e, "alert webhook unreachable"),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8).collect()
    }

    async fn body_of(export: ExportBody) -> (bool, Vec<u8>) {
        match export {
            ExportBody::InMemory(b) => (true, b),
            ExportBody::Streaming(mut body) => {
                let mut all = Vec::new();
                body.read_to_end(&mut all).await.unwrap();
                (false, all)
            }
        }
    }

    #[tokio::test]
    async fn small_exports_are_read_whole_and_larger_ones_stream_from_their_first_byte() {
        let limit = usize::try_from(IN_MEMORY_EXPORT_BYTES).unwrap();
        for (size, whole) in [(0, true), (3_000, true), (limit, true), (limit + 1, false)] {
            let data = pattern(size);
            let read = read_if_small(Box::pin(std::io::Cursor::new(data.clone())))
                .await
                .unwrap();
            assert_eq!(body_of(read).await, (whole, data), "size {size}");
        }
    }

    #[test]
    fn alerts_leave_the_storage_path_out() {
        let path = "imports/u-1/\"secret\" plans.json";
        for error in [
            format!("export not found at {path}"),
            format!("invalid storage path {path:?}: it is empty"),
        ] {
            let text = without_storage_path(&error, path);
            assert!(!text.contains("secret"), "{text}");
            assert!(text.contains("<storage path>"), "{text}");
        }
        assert_eq!(without_storage_path("timed out", ""), "timed out");
    }

    #[test]
    fn a_caught_panic_is_told_in_one_line() {
        let caught = std::panic::catch_unwind(|| panic!("index {} out of range", 7));
        let message = caught.err().map(|p| panic_message(&*p));
        assert_eq!(
            message.as_deref(),
            Some("the pass panicked: index 7 out of range")
        );
        assert_eq!(
            panic_message(&"plain"),
            "the pass panicked: plain".to_owned()
        );
    }

    #[tokio::test]
    async fn a_failure_while_reading_a_small_export_is_a_transient_source_error() {
        let failing = tokio_util::io::StreamReader::new(futures_util::stream::iter(vec![
            Ok(bytes::Bytes::from(vec![1u8; 100])),
            Err(std::io::Error::other("connection reset")),
        ]));
        let Err(error) = read_if_small(Box::pin(failing)).await else {
            panic!("a failing body was read");
        };
        assert!(error.is_transient());
        assert_eq!(
            error.to_string(),
            "reading the export failed after 100 bytes: connection reset"
        );
    }
}
