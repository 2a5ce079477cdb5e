//! The operator's HTTP window: `/healthz` (the process answers), `/readyz`
//! (it can do work now) and `/metrics` (Prometheus text).
//!
//! `/readyz` never touches the database itself: a background task checks the
//! database every refresh and records the verdict, so probes stay cheap however
//! often an orchestrator asks. The same task refreshes the queue gauges.

use crate::db::{Database, queue};
use crate::telemetry;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What `/readyz` reports, set by the daemon (work source, shutdown) and by the
/// database check here (`db_ok`).
#[derive(Debug, Default)]
pub struct Readiness {
    listening: AtomicBool,
    poll_mode: AtomicBool,
    db_ok: AtomicBool,
    stopping: AtomicBool,
    /// When the dispatcher's loop last turned, in milliseconds since `born`;
    /// 0 until it first does (a server without a dispatcher is never stale).
    last_beat_ms: AtomicU64,
    born: std::sync::OnceLock<Instant>,
}

/// A dispatcher loop that has not turned for this long is stuck: /healthz
/// fails so that the orchestrator restarts the process. Its longest legitimate
/// pause is well under a second; every wait it makes is bounded far below this.
pub const STUCK_AFTER: Duration = Duration::from_secs(30);

/// Why `/readyz` says no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReady {
    Stopping,
    DatabaseUnreachable,
    NoWorkSource,
}

impl NotReady {
    pub fn reason(self) -> &'static str {
        match self {
            NotReady::Stopping => "shutting down",
            NotReady::DatabaseUnreachable => "database unreachable",
            NotReady::NoWorkSource => "not listening for notifications and not polling",
        }
    }
}

impl Readiness {
    pub fn new() -> Readiness {
        Readiness::default()
    }

    /// The LISTEN connection is up (`true`) or lost (`false`).
    pub fn set_listening(&self, up: bool) {
        self.listening.store(up, Ordering::Relaxed);
    }

    /// Work is found by sweeping alone (`FULLPASS_LISTEN_MODE=poll`, or a
    /// transaction pooler detected): ready without a listener.
    pub fn set_poll_mode(&self, polling: bool) {
        self.poll_mode.store(polling, Ordering::Relaxed);
    }

    /// The database answered (or not). The HTTP server's refresh task calls this;
    /// the daemon may too when a query fails.
    pub fn set_db_ok(&self, ok: bool) {
        self.db_ok.store(ok, Ordering::Relaxed);
    }

    /// Shutdown began: stop sending work here.
    pub fn set_stopping(&self) {
        self.stopping.store(true, Ordering::Relaxed);
    }

    /// The dispatcher's loop turned (called about once a second).
    pub fn beat(&self) {
        let born = self.born.get_or_init(Instant::now);
        let ms = u64::try_from(born.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_beat_ms.store(ms.max(1), Ordering::Relaxed);
    }

    /// How long since the loop last turned; `None` before its first turn.
    pub fn since_beat(&self) -> Option<Duration> {
        let born = self.born.get()?;
        let last = self.last_beat_ms.load(Ordering::Relaxed);
        (last > 0).then(|| born.elapsed().saturating_sub(Duration::from_millis(last)))
    }

    /// Whether the process is alive in the sense /healthz reports: its
    /// dispatcher loop (if it has one) is turning.
    pub fn alive(&self) -> bool {
        self.since_beat().is_none_or(|since| since < STUCK_AFTER)
    }

    pub fn verdict(&self) -> Result<(), NotReady> {
        if self.stopping.load(Ordering::Relaxed) {
            return Err(NotReady::Stopping);
        }
        if !self.db_ok.load(Ordering::Relaxed) {
            return Err(NotReady::DatabaseUnreachable);
        }
        if !self.listening.load(Ordering::Relaxed) && !self.poll_mode.load(Ordering::Relaxed) {
            return Err(NotReady::NoWorkSource);
        }
        Ok(())
    }
}

/// Everything the endpoints and the refresh task need.
#[derive(Clone)]
pub struct HttpState {
    pub readiness: Arc<Readiness>,
    /// Give it a small pool of its own (`DbConfig::pool(2)`): sharing the jobs'
    /// pool, a busy moment would make the check wait and report "unreachable".
    pub db: Database,
    pub metrics: PrometheusHandle,
    /// How often the database is checked and the queue gauges refreshed.
    pub refresh_every: Duration,
}

/// Queue gauges need no finer grain; a database check every 15 s is cheap.
const DEFAULT_REFRESH: Duration = Duration::from_secs(15);
/// A database that takes longer than this to answer `select 1` is not ready.
const DB_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

impl HttpState {
    pub fn new(readiness: Arc<Readiness>, db: Database, metrics: PrometheusHandle) -> HttpState {
        HttpState {
            readiness,
            db,
            metrics,
            refresh_every: DEFAULT_REFRESH,
        }
    }
}

/// Why the HTTP side could not run.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot listen on {addr} for HTTP: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("HTTP server stopped: {0}")]
    Serve(#[source] std::io::Error),
    #[error("invalid HTTP address {addr:?}: {problem}")]
    Address { addr: String, problem: String },
    #[error("health check of {url} failed: {problem}")]
    Unhealthy { url: String, problem: String },
}

/// A bound listener, so callers (and tests binding port 0) know the address before serving.
pub struct HttpServer {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
}

impl HttpServer {
    pub async fn bind(addr: SocketAddr) -> Result<HttpServer, HttpError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| HttpError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| HttpError::Bind { addr, source })?;
        Ok(HttpServer { listener, addr })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then finishes the requests in progress.
    /// Runs the database check and gauge refresh for as long as it serves.
    pub async fn serve<F>(self, state: HttpState, shutdown: F) -> Result<(), HttpError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let refresher = tokio::spawn(refresh_loop(state.clone()));
        let app = Router::new()
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics))
            .with_state(state);
        let result = axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(HttpError::Serve);
        refresher.abort();
        result
    }
}

/// Binds `addr` and serves until `shutdown` completes.
pub async fn serve<F>(addr: SocketAddr, state: HttpState, shutdown: F) -> Result<(), HttpError>
where
    F: Future<Output = ()> + Send + 'static,
{
    HttpServer::bind(addr).await?.serve(state, shutdown).await
}

async fn healthz(State(state): State<HttpState>) -> (StatusCode, &'static str) {
    if state.readiness.alive() {
        (StatusCode::OK, "ok\n")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "stuck: the dispatcher loop has not turned for 30 s\n",
        )
    }
}

async fn readyz(State(state): State<HttpState>) -> Response {
    let (status, body) = match state.readiness.verdict() {
        Ok(()) => (StatusCode::OK, serde_json::json!({ "ready": true })),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({ "ready": false, "reason": why.reason() }),
        ),
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn metrics(State(state): State<HttpState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

async fn refresh_loop(state: HttpState) {
    loop {
        refresh_once(&state).await;
        state.metrics.run_upkeep();
        tokio::time::sleep(state.refresh_every).await;
    }
}

/// Checks the database, records the verdict, and refreshes the queue gauges.
/// Logs only when the verdict changes, not every refresh.
async fn refresh_once(state: &HttpState) {
    let was_ok = state.readiness.db_ok.load(Ordering::Relaxed);
    // A second try, because the first may draw a pooled connection that died
    // with a database restart; the pool then replaces it.
    let mut checked = check_database(state).await;
    if checked.is_err() {
        checked = check_database(state).await;
    }
    match checked {
        Ok(status) => {
            state.readiness.set_db_ok(true);
            if !was_ok {
                tracing::info!("database reachable");
            }
            match status {
                Ok(s) => {
                    for (name, count) in [
                        ("pending", s.pending),
                        ("processing", s.processing),
                        ("complete", s.complete),
                        ("failed", s.failed),
                    ] {
                        metrics::gauge!(telemetry::ROWS, "status" => name).set(count as f64);
                    }
                    metrics::gauge!(telemetry::CLAIMABLE_ROWS).set(s.claimable as f64);
                    metrics::gauge!(telemetry::OLDEST_CLAIMABLE)
                        .set(s.oldest_claimable_secs.unwrap_or(0.0));
                }
                Err(e) => {
                    metrics::counter!(telemetry::DB_ERRORS, "kind" => "status").increment(1);
                    tracing::warn!(error = %e, "reading the queue status for metrics");
                }
            }
        }
        Err(problem) => {
            state.readiness.set_db_ok(false);
            metrics::counter!(telemetry::DB_ERRORS, "kind" => "probe").increment(1);
            if was_ok {
                tracing::warn!(error = %problem, "database unreachable: not ready");
            } else {
                tracing::debug!(error = %problem, "database still unreachable");
            }
        }
    }
}

/// `select 1`, then the queue status (whose failure does not make the database unreachable).
async fn check_database(
    state: &HttpState,
) -> Result<Result<queue::QueueStatus, crate::db::DbError>, String> {
    tokio::time::timeout(DB_CHECK_TIMEOUT, async {
        let client = state.db.get().await.map_err(|e| e.to_string())?;
        client
            .simple_query("select 1")
            .await
            .map_err(|e| e.to_string())?;
        Ok(queue::status(&**client).await)
    })
    .await
    .unwrap_or_else(|_| Err(format!("no answer within {DB_CHECK_TIMEOUT:?}")))
}

/// GETs `/healthz` on a running fullpass (the container `HEALTHCHECK`).
/// `addr` is `FULLPASS_HTTP_ADDR`; an unspecified IP (0.0.0.0, ::) means this host.
pub async fn healthcheck(addr: &str, timeout: Duration) -> Result<(), HttpError> {
    let mut target: SocketAddr = addr.parse().map_err(|e| HttpError::Address {
        addr: addr.to_owned(),
        problem: format!("{e} (expected IP:PORT, e.g. 0.0.0.0:8080)"),
    })?;
    if target.ip().is_unspecified() {
        target.set_ip(match target.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    let url = format!("http://{target}/healthz");
    let unhealthy = |problem: String| HttpError::Unhealthy {
        url: url.clone(),
        problem,
    };
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| unhealthy(e.to_string()))?;
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|e| unhealthy(e.to_string()))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(unhealthy(format!("status {}", response.status())))
    }
}

#[cfg(test)]
mod heartbeat_tests {
    use super::*;

    #[test]
    fn a_loop_that_stopped_turning_is_not_alive() {
        let readiness = Readiness::new();
        assert!(readiness.alive(), "no dispatcher yet: alive");
        readiness.beat();
        assert!(readiness.alive());
        // The same state 31 s later: born earlier, last beat at its birth.
        let stale = Readiness::new();
        let earlier = Instant::now()
            .checked_sub(STUCK_AFTER + Duration::from_secs(1))
            .expect("a monotonic clock older than 31 s");
        stale.born.get_or_init(|| earlier);
        stale.last_beat_ms.store(1, Ordering::Relaxed);
        assert!(!stale.alive());
        stale.beat();
        assert!(stale.alive(), "a fresh beat revives it");
    }
}
