//! The long-running process: listen for notifications, sweep as a backstop,
//! claim within the concurrency limit, run jobs, shut down without stranding any.

use crate::config::ListenMode;
use crate::db::queue::{ClaimedJob, Statements};
use crate::db::{self, CompletionWriter, Database, DbConfig, DbError, Listener, Notification};
use crate::http::{HttpServer, HttpState, Readiness};
use crate::retry::{Backoff, Retries};
use crate::telemetry;
use crate::worker::{self, JobOutcome, JobSettings};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, error, info, info_span, warn};

/// How long after a wake-up the dispatcher looks for claimable rows once more.
const TRAILING_LOOK: Duration = Duration::from_millis(50);
/// Jobs this short make claiming ahead worth it: the claim's commit would
/// otherwise cost as much as the job.
const SHORT_JOB: Duration = Duration::from_millis(100);
/// Connections per processing slot: a job whose pass is over gives its slot
/// to the next one and may still hold its connection while it writes a failure.
const CONNECTIONS_PER_SLOT: usize = 2;
/// Rows claimed ahead per processing slot while a backlog of short jobs drains:
/// the slots stay busy while the next claim is in flight, and a claim serves
/// many jobs (measured side by side: 4 drains 5–10 % faster than 2, and 2 about
/// 15 % faster than 1).
const CLAIMED_AHEAD_PER_SLOT: usize = 4;
/// Rows claimed ahead wait at most this long for a slot before they are given
/// back for another replica to take.
const HOLD_LIMIT: Duration = Duration::from_secs(1);
/// Pauses between claims while they keep failing.
const CLAIM_RETRY: Backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
/// Pauses between attempts to reconnect the listener.
const RECONNECT: Backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(30));
/// After the grace period, how long unfinished jobs get to give their rows
/// back; the process exits by then whatever the database does.
pub const RELEASE_WINDOW: Duration = Duration::from_secs(5);
/// How often the dispatcher's loop proves it is turning (see /healthz).
const HEARTBEAT: Duration = Duration::from_secs(1);

/// The daemon's settings, validated.
#[derive(Debug, Clone)]
pub struct DaemonSettings {
    pub db: DbConfig,
    pub worker_id: String,
    pub concurrency: usize,
    pub sweep_interval: Duration,
    pub listen_mode: ListenMode,
    pub shutdown_grace: Duration,
    /// Run the embedded migrations at start (off when the daemon's role may not).
    pub migrate: bool,
    /// Serve /healthz, /readyz and /metrics here.
    pub http_addr: Option<std::net::SocketAddr>,
    pub job: JobSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(
        "LISTEN does not deliver notifications on this connection (a transaction-mode pooler?); \
         use a direct or session-mode connection, or FULLPASS_LISTEN_MODE=poll"
    )]
    ListenUnsupported,
    #[error(transparent)]
    Http(#[from] crate::http::HttpError),
    #[error(transparent)]
    Telemetry(#[from] crate::telemetry::TelemetryError),
}

/// Runs until `shutdown` is cancelled, then drains: running jobs get the grace
/// period to finish, the rest are released back to `pending`.
pub async fn run(settings: DaemonSettings, shutdown: CancellationToken) -> Result<(), DaemonError> {
    if settings.migrate {
        let applied = db::migrate(&settings.db).await?;
        for name in applied {
            info!(migration = %name, "applied migration");
        }
    }
    // A connection per running pass, plus claiming, the sweep and the completion
    // writer. Connections open on demand: a job waiting for its result's commit
    // holds none, one writing a failure or retry holds its own until written.
    let pool = settings
        .db
        .pool(settings.concurrency * CONNECTIONS_PER_SLOT + 3)?;
    // Fail fast on a bad URL or password rather than logging forever.
    drop(pool.get().await?);

    let readiness = Arc::new(Readiness::new());
    readiness.set_db_ok(true);
    let http_stop = CancellationToken::new();
    let http = match settings.http_addr {
        Some(addr) => {
            let metrics = telemetry::install_metrics()?;
            let server = HttpServer::bind(addr).await?;
            info!(addr = %server.local_addr(), "serving /healthz, /readyz and /metrics");
            // A pool of its own: busy jobs must not make the probe look like a dead database.
            let state = HttpState::new(readiness.clone(), settings.db.pool(2)?, metrics);
            let stop = http_stop.clone();
            Some(tokio::spawn(async move {
                if let Err(e) = server.serve(state, stop.cancelled_owned()).await {
                    error!(error = %e, "the HTTP endpoint stopped");
                }
            }))
        }
        None => None,
    };

    let wake = Arc::new(Wake::default());
    let (listener, listening) =
        spawn_listener(&settings, wake.clone(), readiness.clone(), shutdown.clone()).await?;
    // A connection that delivers LISTEN is a session of its own (no transaction
    // pooler in between), so statements prepared on it stay there.
    let statements = if listening {
        Statements::Prepared
    } else {
        Statements::Unprepared
    };
    info!(
        worker = %settings.worker_id,
        concurrency = settings.concurrency,
        storage = %settings.job.storage.describe(),
        database = %settings.db.dbname(),
        tls = %settings.db.tls_policy(),
        prepared_statements = listening,
        "fullpass is running"
    );

    let release = CancellationToken::new();
    let context = JobContext {
        settings: Arc::new(settings.job.clone()),
        pool: pool.clone(),
        completions: CompletionWriter::spawn(pool.clone(), statements),
        statements,
        release: release.clone(),
    };
    let permits = Slots {
        processing: Arc::new(Semaphore::new(settings.concurrency)),
        // Jobs whose pass is over wait for their result's commit without a
        // slot: up to a whole completion batch of them.
        in_flight: Arc::new(Semaphore::new(settings.concurrency + db::MAX_BATCH)),
        freed: Arc::new(Notify::new()),
    };
    let mut jobs = JoinSet::new();
    let health = Arc::new(DbHealth::default());
    let mut ahead = ClaimedAhead::new(health.clone(), settings.job.lease);
    // The rescue sweep runs beside the loop, one at a time.
    let mut sweeping: Option<tokio::task::JoinHandle<()>> = None;
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sweep = tokio::time::interval(settings.sweep_interval);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    // A look shortly after each wake-up: rows whose transactions skipped their
    // NOTIFY (see migrations/V3) commit around the same time as the one that sent it.
    let mut trailing: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
    let mut claiming: Option<Claim> = None;
    loop {
        let mut may_claim = true;
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            claimed = when_set(&mut claiming) => {
                claiming = None;
                ahead.claimed(claimed, &wake);
                // A claim that came back short found the queue empty: the next
                // one waits for a reason to look (a notification, a job's end, the sweep).
                may_claim = ahead.backlog;
            }
            _ = ahead.pause_over() => ahead.paused_until = None,
            Some(done) = jobs.join_next(), if !jobs.is_empty() => ahead.job_ended(done),
            _ = permits.freed.notified() => {}
            _ = wake.notify.notified() => {
                if trailing.is_none() {
                    trailing = Some(Box::pin(tokio::time::sleep(TRAILING_LOOK)));
                }
            }
            _ = when_set(&mut trailing) => trailing = None,
            _ = ahead.hold_expired() => drop(ahead.give_back(&pool)),
            _ = sweep.tick() => {
                if sweeping.as_ref().is_none_or(|s| s.is_finished()) {
                    let (pool, health) = (pool.clone(), health.clone());
                    let max_attempts = context.settings.max_attempts;
                    sweeping = Some(tokio::spawn(async move {
                        rescue(&pool, &health, max_attempts).await;
                    }));
                }
            }
            _ = heartbeat.tick() => readiness.beat(),
        }
        fill(
            &settings,
            &context,
            &permits,
            &mut jobs,
            &mut ahead,
            &mut claiming,
            may_claim,
        )
        .await;
    }

    // Rows of a claim still in flight are given back with the held ones; if the
    // database does not answer within the grace period, their leases run out.
    if let Some(claim) = claiming.take() {
        match tokio::time::timeout(settings.shutdown_grace, claim).await {
            Ok(claimed) => ahead.claimed(claimed, &wake),
            Err(_) => warn!("a claim did not finish before shutdown; its rows will be rescued"),
        }
    }
    if tokio::time::timeout(settings.shutdown_grace, ahead.give_back(&pool))
        .await
        .is_err()
    {
        warn!("rows claimed ahead could not be given back in time; they will be rescued");
    }
    readiness.set_stopping();
    listener.abort();
    drain(jobs, settings.shutdown_grace, &release).await;
    http_stop.cancel();
    if let Some(http) = http {
        let _ = http.await;
    }
    info!("fullpass stopped");
    Ok(())
}

/// The output of the future in `slot`, if there is one; never resolves otherwise
/// (a `select!` branch that waits only while something is pending).
async fn when_set<F: std::future::Future + Unpin>(slot: &mut Option<F>) -> F::Output {
    match slot.as_mut() {
        Some(future) => future.await,
        None => std::future::pending().await,
    }
}

fn log_join(done: Result<Duration, tokio::task::JoinError>) {
    if let Err(e) = done {
        error!(error = %e, "a job task ended abnormally; its lease will expire and it will be rescued");
    }
}

/// Rows claimed before a slot is free for them, so that a backlog of short
/// jobs costs one claim statement (one commit) per batch rather than per job.
/// Only done while the last claim found more rows than it took and jobs are
/// short. Held rows are `processing` in the table, with their lease running;
/// they are given back (pending again, attempt not charged) if no slot frees
/// up within [`HOLD_LIMIT`], and on shutdown.
struct ClaimedAhead {
    /// Oldest first, each with when it was claimed.
    held: std::collections::VecDeque<(ClaimedJob, Instant)>,
    /// The last claim took as many rows as it asked for.
    backlog: bool,
    /// The last job to end was short, and nothing was given back since.
    short_jobs: bool,
    /// Rows the claim in flight asked for.
    asked: usize,
    /// Failed claims in a row; after a failure the next claim waits until `paused_until`.
    failures: Retries,
    paused_until: Option<Instant>,
    health: Arc<DbHealth>,
    /// How long a claim lasts unrenewed.
    lease: Duration,
}

impl ClaimedAhead {
    fn new(health: Arc<DbHealth>, lease: Duration) -> ClaimedAhead {
        ClaimedAhead {
            held: Default::default(),
            backlog: false,
            short_jobs: false,
            asked: 0,
            failures: Retries::new(CLAIM_RETRY),
            paused_until: None,
            health,
            lease,
        }
    }

    /// How many rows to hold beyond the free slots.
    fn wanted(&self, concurrency: usize) -> usize {
        if self.backlog && self.short_jobs {
            concurrency * CLAIMED_AHEAD_PER_SLOT
        } else {
            0
        }
    }

    /// Takes the rows a claim returned. A failed claim pauses claiming (capped
    /// backoff), so a database that refuses connections is not asked again, and
    /// a warning logged, at every event.
    fn claimed(&mut self, claimed: Result<Vec<ClaimedJob>, DbError>, wake: &Wake) {
        let claimed = match claimed {
            Ok(rows) => rows,
            Err(e) => {
                metrics::counter!(telemetry::DB_ERRORS, "kind" => "claim").increment(1);
                let pause = self.failures.failed();
                self.paused_until = Some(Instant::now() + pause);
                self.backlog = false;
                self.health.failed("claiming", &e, pause);
                return;
            }
        };
        self.failures.succeeded();
        self.health.answered();
        self.backlog = claimed.len() == self.asked;
        if !claimed.is_empty()
            && let Some(waited) = wake.take_notified_at()
        {
            metrics::histogram!(telemetry::CLAIM_LATENCY).record(waited.as_secs_f64());
        }
        metrics::counter!(telemetry::JOBS_CLAIMED).increment(claimed.len() as u64);
        for job in claimed {
            self.hold(job);
        }
    }

    /// Resolves when claiming may resume after a failure.
    async fn pause_over(&self) {
        match self.paused_until {
            Some(until) => tokio::time::sleep_until(until.into()).await,
            None => std::future::pending().await,
        }
    }

    fn job_ended(&mut self, done: Result<Duration, tokio::task::JoinError>) {
        self.short_jobs = matches!(done, Ok(took) if took < SHORT_JOB);
        log_join(done);
    }

    fn hold(&mut self, job: ClaimedJob) {
        self.held.push_back((job, Instant::now()));
    }

    fn next(&mut self) -> Option<ClaimedJob> {
        self.held.pop_front().map(|(job, _)| job)
    }

    /// Resolves when the oldest held row has waited [`HOLD_LIMIT`].
    async fn hold_expired(&self) {
        match self.held.front() {
            Some((_, claimed)) => tokio::time::sleep_until((*claimed + HOLD_LIMIT).into()).await,
            None => std::future::pending().await,
        }
    }

    /// Gives every held row back (pending, attempt not charged), beside the
    /// loop. While the database does not answer it keeps trying until the
    /// leases run out; the rows are then rescued instead.
    fn give_back(&mut self, pool: &Database) -> tokio::task::JoinHandle<()> {
        self.short_jobs = false;
        let rows: Vec<ClaimedJob> = self.held.drain(..).map(|(job, _)| job).collect();
        let (pool, health, lease) = (pool.clone(), self.health.clone(), self.lease);
        tokio::spawn(async move {
            for job in rows {
                give_back_row(&pool, &health, &job, lease).await;
            }
        })
    }
}

/// Gives one claimed, unstarted row back, retrying while its lease lasts.
async fn give_back_row(pool: &Database, health: &DbHealth, job: &ClaimedJob, lease: Duration) {
    let mut retries = Retries::new(CLAIM_RETRY);
    let until = Instant::now() + lease;
    loop {
        let given_back = match pool.get().await {
            Ok(c) => {
                let done = db::within("giving back a row", db::queue::release(&**c, job)).await;
                db::settle(c, &done);
                done
            }
            Err(e) => Err(e),
        };
        match given_back {
            Ok(_) => return,
            Err(e) => {
                let pause = retries.failed();
                health.failed("giving back a row", &e, pause);
                if Instant::now() + pause >= until {
                    warn!(user_id = %job.user_id,
                        "could not give back a row before its lease ran out; it will be rescued");
                    return;
                }
                tokio::time::sleep(pause).await;
            }
        }
    }
}

/// A claim statement in flight. The dispatcher's loop awaits it beside its other
/// events, so jobs keep starting in freed slots while it runs.
type Claim =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<ClaimedJob>, DbError>> + Send>>;

/// Starts held jobs in free slots. Then, when `may_claim` and no claim is in
/// flight, starts one for as many rows as there are free slots not covered by
/// held rows, plus [`ClaimedAhead::wanted`]: a backlog is claimed a batch (one
/// commit) at a time, and the next batch is on its way before the held rows
/// run out.
async fn fill(
    settings: &DaemonSettings,
    context: &JobContext,
    permits: &Slots,
    jobs: &mut JoinSet<Duration>,
    ahead: &mut ClaimedAhead,
    claiming: &mut Option<Claim>,
    may_claim: bool,
) {
    if !start_held(context, permits, jobs, ahead).await
        || !may_claim
        || claiming.is_some()
        || ahead.paused_until.is_some()
    {
        return;
    }
    let free = permits.free();
    let wanted = ahead.wanted(settings.concurrency);
    let held = ahead.held.len();
    let limit = (free + wanted).saturating_sub(held);
    // Enough rows are held to fill every free slot and half the claimed-ahead share.
    if limit == 0 || (held >= free && held > wanted / 2) {
        return;
    }
    ahead.asked = limit;
    let pool = context.pool.clone();
    let statements = context.statements;
    let worker = settings.worker_id.clone();
    let lease = context.settings.lease;
    *claiming = Some(Box::pin(async move {
        let c = pool.get().await?;
        let claimed = db::within(
            "claiming",
            db::queue::claim_next_pooled(
                &c,
                statements,
                &worker,
                lease,
                i64::try_from(limit).unwrap_or(1),
            ),
        )
        .await;
        db::settle(c, &claimed);
        claimed
    }));
}

/// Starts held jobs while slots are free. `false`: no connection to run them
/// on (the pool's own timeouts bound the wait for one, so the loop never
/// waits longer than [`db::STATEMENT_TIMEOUT`]).
async fn start_held(
    context: &JobContext,
    permits: &Slots,
    jobs: &mut JoinSet<Duration>,
    ahead: &mut ClaimedAhead,
) -> bool {
    // Only the dispatcher takes permits, so a free one stays free until taken here.
    while !ahead.held.is_empty() {
        let Some(permit) = permits.take() else {
            break;
        };
        let conn = match context.pool.get().await {
            Ok(c) => c,
            Err(e) => {
                metrics::counter!(telemetry::DB_ERRORS, "kind" => "pool").increment(1);
                ahead
                    .health
                    .failed("getting a connection for a job", &e, Duration::ZERO);
                return false;
            }
        };
        if let Some(job) = ahead.next() {
            spawn_job(jobs, job, conn, permit, context);
        }
    }
    true
}

/// The daemon's capacity: `processing` bounds jobs whose pass is running (the
/// configured concurrency), `in_flight` also counts jobs waiting for their
/// result to be written.
struct Slots {
    processing: Arc<Semaphore>,
    in_flight: Arc<Semaphore>,
    /// Signalled when a job gives up its processing slot before it ends.
    freed: Arc<Notify>,
}

/// A job's hold on [`Slots`].
struct SlotPermit {
    processing: ProcessingSlot,
    in_flight: OwnedSemaphorePermit,
}

/// Wakes the dispatcher when dropped, so the freed slot is filled at once.
struct ProcessingSlot {
    _permit: OwnedSemaphorePermit,
    freed: Arc<Notify>,
}

impl Drop for ProcessingSlot {
    fn drop(&mut self) {
        self.freed.notify_one();
    }
}

impl Slots {
    fn free(&self) -> usize {
        self.processing
            .available_permits()
            .min(self.in_flight.available_permits())
    }

    fn take(&self) -> Option<SlotPermit> {
        let in_flight = self.in_flight.clone().try_acquire_owned().ok()?;
        let permit = self.processing.clone().try_acquire_owned().ok()?;
        Some(SlotPermit {
            processing: ProcessingSlot {
                _permit: permit,
                freed: Arc::clone(&self.freed),
            },
            in_flight,
        })
    }
}

/// What every job the dispatcher starts shares.
#[derive(Clone)]
struct JobContext {
    settings: Arc<JobSettings>,
    pool: Database,
    completions: CompletionWriter,
    /// How claims and completions are sent.
    statements: Statements,
    /// Cancelled when shutdown's grace period is over: give the rows back.
    release: CancellationToken,
}

fn spawn_job(
    jobs: &mut JoinSet<Duration>,
    job: ClaimedJob,
    conn: deadpool_postgres::Object,
    permit: SlotPermit,
    context: &JobContext,
) {
    let span =
        info_span!("job", user_id = %job.user_id, attempt = job.attempt, job_id = %job.token);
    let JobContext {
        settings: job_settings,
        pool,
        completions,
        release,
        ..
    } = context.clone();
    jobs.spawn(
        async move {
            let SlotPermit {
                processing,
                in_flight: _in_flight,
            } = permit;
            metrics::gauge!(telemetry::JOBS_IN_FLIGHT).increment(1.0);
            let started = Instant::now();
            info!(storage_path = %job.storage_path, "claimed");
            let outcome = worker::run_job(
                &job_settings,
                &pool,
                conn,
                &completions,
                &job,
                processing,
                &release,
            )
            .await;
            metrics::histogram!(telemetry::JOB_DURATION).record(started.elapsed().as_secs_f64());
            metrics::gauge!(telemetry::JOBS_IN_FLIGHT).decrement(1.0);
            let counter = match outcome {
                JobOutcome::Completed => telemetry::JOBS_COMPLETED,
                JobOutcome::Failed(_) => telemetry::JOBS_FAILED,
                JobOutcome::Retrying { .. } => telemetry::JOBS_RETRIED,
                JobOutcome::Released => telemetry::JOBS_RELEASED,
                JobOutcome::LostClaim => telemetry::JOBS_LOST,
            };
            metrics::counter!(counter).increment(1);
            started.elapsed()
        }
        .instrument(span),
    );
}

async fn rescue(pool: &Database, health: &DbHealth, max_attempts: i32) {
    let swept = match pool.get().await {
        Ok(c) => {
            let swept = db::within(
                "sweeping for expired claims",
                db::queue::rescue_expired(&**c, max_attempts),
            )
            .await;
            db::settle(c, &swept);
            swept
        }
        Err(e) => Err(e),
    };
    match swept {
        Ok(rows) => {
            health.answered();
            for (user_id, status) in rows {
                metrics::counter!(telemetry::JOBS_RESCUED).increment(1);
                warn!(%user_id, new_status = %status, "rescued a claim whose worker stopped renewing it");
            }
        }
        Err(e) => {
            metrics::counter!(telemetry::DB_ERRORS, "kind" => "rescue").increment(1);
            health.failed("the rescue sweep", &e, Duration::ZERO);
        }
    }
}

/// Running jobs get `grace` to finish; then the rest are told to release their rows.
async fn drain(mut jobs: JoinSet<Duration>, grace: Duration, release: &CancellationToken) {
    if jobs.is_empty() {
        return;
    }
    info!(
        jobs = jobs.len(),
        grace_ms = grace.as_millis() as u64,
        "shutting down: letting running jobs finish"
    );
    let finished = tokio::time::timeout(grace, async {
        while let Some(done) = jobs.join_next().await {
            log_join(done);
        }
    })
    .await;
    if finished.is_err() {
        warn!(
            jobs = jobs.len(),
            "grace period over: releasing unfinished jobs"
        );
        release.cancel();
        let released = tokio::time::timeout(RELEASE_WINDOW - Duration::from_secs(1), async {
            while let Some(done) = jobs.join_next().await {
                log_join(done);
            }
        })
        .await;
        if released.is_err() {
            warn!(
                "some jobs did not stop in time; their leases will expire and they will be rescued"
            );
        }
    }
}

/// How the listener wakes the dispatcher: a coalescing signal, plus when the
/// oldest unanswered notification arrived (for the claim-latency histogram).
#[derive(Default)]
struct Wake {
    notify: Notify,
    notified_at: std::sync::Mutex<Option<Instant>>,
}

impl Wake {
    /// A notification arrived.
    fn notified_now(&self) {
        if let Ok(mut at) = self.notified_at.lock() {
            at.get_or_insert_with(Instant::now);
        }
        self.notify.notify_one();
    }

    /// Look for work without a notification (after a reconnect).
    fn sweep(&self) {
        self.notify.notify_one();
    }

    fn take_notified_at(&self) -> Option<Duration> {
        self.notified_at.lock().ok()?.take().map(|at| at.elapsed())
    }
}

/// Starts the listener supervisor; `true` with it when LISTEN delivers. In
/// `auto` mode a LISTEN that does not deliver (transaction pooler) turns into
/// poll mode with a warning.
async fn spawn_listener(
    settings: &DaemonSettings,
    wake: Arc<Wake>,
    readiness: Arc<Readiness>,
    shutdown: CancellationToken,
) -> Result<(tokio::task::JoinHandle<()>, bool), DaemonError> {
    if settings.listen_mode == ListenMode::Poll {
        readiness.set_poll_mode(true);
        info!(
            interval_ms = settings.sweep_interval.as_millis() as u64,
            "poll mode: finding work by sweeping only"
        );
        return Ok((tokio::spawn(async {}), false));
    }
    let (tx, mut rx) = mpsc::channel(1024);
    let listener = Listener::start(&settings.db, tx.clone()).await?;
    if !probe(&listener, &mut rx).await {
        if settings.listen_mode == ListenMode::Listen {
            return Err(DaemonError::ListenUnsupported);
        }
        warn!(
            "LISTEN does not deliver notifications here (transaction pooler?); falling back to polling every {}",
            humantime::format_duration(settings.sweep_interval)
        );
        readiness.set_poll_mode(true);
        return Ok((tokio::spawn(async {}), false));
    }
    readiness.set_listening(true);
    let db = settings.db.clone();
    let supervisor = tokio::spawn(async move {
        supervise(db, listener, tx, rx, wake, readiness, shutdown).await;
    });
    Ok((supervisor, true))
}

/// Sends ourselves a notification and waits for it.
async fn probe(listener: &Listener, rx: &mut mpsc::Receiver<Notification>) -> bool {
    let token = format!("fullpass-probe:{}", uuid::Uuid::new_v4());
    if let Err(e) = listener.notify_self(&token).await {
        warn!(error = %e, "could not send the LISTEN probe");
        return false;
    }
    let wait = async {
        while let Some(n) = rx.recv().await {
            if n == Notification::Job(token.clone()) {
                return true;
            }
        }
        false
    };
    tokio::time::timeout(Duration::from_secs(3), wait)
        .await
        .unwrap_or(false)
}

/// Keeps a LISTEN connection alive: wakes the dispatcher on every notification,
/// checks the connection periodically, and reconnects (then sweeps) when it dies.
async fn supervise(
    db: DbConfig,
    first: Listener,
    tx: mpsc::Sender<Notification>,
    mut rx: mpsc::Receiver<Notification>,
    wake: Arc<Wake>,
    readiness: Arc<Readiness>,
    shutdown: CancellationToken,
) {
    let mut listener = Some(first);
    let mut reconnects = Retries::new(RECONNECT);
    let mut check = tokio::time::interval(Duration::from_secs(10));
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let Some(current) = listener.as_ref() else {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(RECONNECT.delay(reconnects.failures())) => {}
            }
            match Listener::start(&db, tx.clone()).await {
                Ok(l) => {
                    info!("listener reconnected; sweeping for missed work");
                    metrics::counter!(telemetry::LISTENER_RECONNECTS).increment(1);
                    listener = Some(l);
                    reconnects.succeeded();
                    readiness.set_listening(true);
                    wake.sweep();
                }
                Err(e) => {
                    // Said once per outage; the dispatcher reports the database's state.
                    if reconnects.failures() == 0 {
                        warn!(error = %e, "listener reconnect failed; retrying with backoff");
                    } else {
                        tracing::debug!(error = %e, "listener reconnect failed");
                    }
                    reconnects.failed();
                }
            }
            continue;
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            n = rx.recv() => match n {
                Some(Notification::Job(_)) => wake.notified_now(),
                Some(Notification::Lost(reason)) => {
                    warn!(%reason, "listener connection lost; reconnecting");
                    readiness.set_listening(false);
                    listener = None;
                }
                None => return,
            },
            _ = check.tick() => {
                let alive = tokio::time::timeout(Duration::from_secs(5), current.check()).await;
                if !matches!(alive, Ok(Ok(()))) {
                    warn!("listener connection is not answering; reconnecting");
                    readiness.set_listening(false);
                    listener = None;
                }
            }
        }
    }
}

/// Whether the database answers, as the dispatcher's own statements find it.
/// An outage is logged when it starts and when it ends, not at every failed
/// statement: a down database must not flood the log.
#[derive(Default)]
struct DbHealth {
    down: std::sync::atomic::AtomicBool,
}

impl DbHealth {
    fn failed(&self, what: &str, error: &DbError, retry_in: Duration) {
        use std::sync::atomic::Ordering;
        let retry_in_ms = retry_in.as_millis() as u64;
        if self.down.swap(true, Ordering::Relaxed) {
            tracing::debug!(error = %error, retry_in_ms, "{what} failed");
        } else {
            warn!(error = %error, retry_in_ms,
                "{what} failed: the database is not answering; retrying with backoff, quietly until it answers");
        }
    }

    fn answered(&self) {
        if self.down.swap(false, std::sync::atomic::Ordering::Relaxed) {
            info!("database reachable again");
        }
    }
}
