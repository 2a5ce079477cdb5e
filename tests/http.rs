//! The HTTP endpoints, served for real on 127.0.0.1 and read with reqwest.

mod common;

use common::TestDb;
use fullpass::db::{self, DbConfig};
use fullpass::devdb::{DevPostgres, DevPostgresOptions};
use fullpass::http::{HttpServer, HttpState, Readiness, healthcheck};
use fullpass::telemetry;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

struct Running {
    addr: SocketAddr,
    readiness: Arc<Readiness>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), fullpass::http::HttpError>>,
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn shut_down(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let result = tokio::time::timeout(Duration::from_secs(10), &mut self.task)
            .await
            .expect("server stops after shutdown")
            .unwrap();
        result.unwrap();
    }
}

async fn start(db: fullpass::db::Database) -> Running {
    let readiness = Arc::new(Readiness::new());
    let mut state = HttpState::new(readiness.clone(), db, telemetry::install_metrics().unwrap());
    state.refresh_every = Duration::from_millis(100);
    let server = HttpServer::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.serve(state, async move {
        let _ = stopped.await;
    }));
    Running {
        addr,
        readiness,
        stop: Some(stop),
        task,
    }
}

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// Polls `/readyz` until it answers `status` with `reason` (`None`: ready); the
/// verdict on the database changes on the next refresh, not at once.
async fn readyz_becomes(server: &Running, status: u16, reason: Option<&str>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (got, body) = get(&server.url("/readyz")).await;
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        let got_reason = json["reason"].as_str();
        if got == status && got_reason == reason {
            assert_eq!(json["ready"], status == 200);
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz stayed {got} ({body}), expected {status} {reason:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The value of one sample line (`name{labels} value`) in Prometheus text, if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn metrics_text(server: &Running) -> String {
    let (status, body) = get(&server.url("/metrics")).await;
    assert_eq!(status, 200);
    body
}

#[tokio::test]
async fn readiness_follows_the_work_source_and_shutdown() {
    let test_db = TestDb::new().await;
    let server = start(test_db.config().pool(2).unwrap()).await;

    let (status, body) = get(&server.url("/healthz")).await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));

    // Database fine, but neither listening nor polling yet.
    let no_source = Some("not listening for notifications and not polling");
    readyz_becomes(&server, 503, no_source).await;

    server.readiness.set_listening(true);
    readyz_becomes(&server, 200, None).await;

    server.readiness.set_listening(false);
    readyz_becomes(&server, 503, no_source).await;
    server.readiness.set_poll_mode(true);
    readyz_becomes(&server, 200, None).await;

    server.readiness.set_stopping();
    readyz_becomes(&server, 503, Some("shutting down")).await;

    // Alive even when not ready.
    assert_eq!(get(&server.url("/healthz")).await.0, 200);
    healthcheck(&server.addr.to_string(), Duration::from_secs(2))
        .await
        .unwrap();
    server.shut_down().await;
}

#[tokio::test]
async fn readiness_drops_when_the_database_goes_away() {
    // A server of our own, so that it can be stopped under the running daemon.
    let cluster = DevPostgres::start(DevPostgresOptions::new()).await.unwrap();
    let pool = DbConfig::from_url(&cluster.url("postgres"))
        .unwrap()
        .pool(1)
        .unwrap();
    let server = start(pool).await;
    server.readiness.set_listening(true);
    readyz_becomes(&server, 200, None).await;

    let probes_before = probe_errors(&server).await;
    drop(cluster);
    readyz_becomes(&server, 503, Some("database unreachable")).await;
    assert!(probe_errors(&server).await > probes_before);
    server.shut_down().await;
}

#[tokio::test]
async fn readiness_is_refused_when_the_database_never_answered() {
    // A port nothing listens on: bind one, then let it go.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = DbConfig::from_url(&format!(
        "postgres://postgres@127.0.0.1:{closed_port}/postgres"
    ))
    .unwrap()
    .pool(1)
    .unwrap();
    let server = start(unreachable).await;
    server.readiness.set_listening(true);
    server.readiness.set_poll_mode(true);
    // Several refreshes: it must stay unready throughout.
    for _ in 0..5 {
        readyz_becomes(&server, 503, Some("database unreachable")).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.shut_down().await;
}

async fn probe_errors(server: &Running) -> f64 {
    let text = metrics_text(server).await;
    sample(&text, r#"fullpass_db_errors_total{kind="probe"}"#).unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_show_counters_histograms_and_queue_gauges() {
    let test_db = TestDb::new().await;
    let config = test_db.config();
    db::migrate(&config).await.unwrap();
    let client = test_db.client().await;
    client
        .batch_execute(
            "insert into public.user_profiles (user_id, full_pass_status, storage_path)
             select gen_random_uuid(), 'pending', 'u/export.json.gz' from generate_series(1, 3);
             insert into public.user_profiles (user_id, full_pass_status)
             select gen_random_uuid(), 'failed' from generate_series(1, 2);
             update public.user_profiles
                set full_pass_requested_at = now() - interval '90 seconds'
              where full_pass_status = 'pending';",
        )
        .await
        .unwrap();

    let server = start(config.pool(2).unwrap()).await;
    let before = metrics_text(&server).await;
    let completed = format!("{} ", telemetry::JOBS_COMPLETED);
    let completed_before = sample(&before, telemetry::JOBS_COMPLETED).unwrap_or(0.0);
    assert!(
        before.contains(&format!("# HELP {}", telemetry::JOBS_COMPLETED)),
        "{before}"
    );

    metrics::counter!(telemetry::JOBS_COMPLETED).increment(3);
    metrics::counter!(telemetry::STORAGE_ERRORS, "kind" => "timeout").increment(1);
    metrics::gauge!(telemetry::JOBS_IN_FLIGHT).set(2.0);
    metrics::histogram!(telemetry::CLAIM_LATENCY).record(0.03);
    metrics::histogram!(telemetry::JOB_DURATION).record(42.0);

    // The queue gauges arrive with the next refresh.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = metrics_text(&server).await;
        if sample(&text, r#"fullpass_rows{status="failed"}"#).is_some() {
            break text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no queue gauges: {text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(text.contains(&completed), "{text}");
    assert_eq!(
        sample(&text, telemetry::JOBS_COMPLETED),
        Some(completed_before + 3.0)
    );
    assert!(sample(&text, r#"fullpass_storage_errors_total{kind="timeout"}"#).unwrap() >= 1.0);
    assert_eq!(sample(&text, telemetry::JOBS_IN_FLIGHT), Some(2.0));
    assert!(
        sample(&text, r#"fullpass_claim_latency_seconds_bucket{le="0.05"}"#).unwrap() >= 1.0,
        "{text}"
    );
    assert!(
        sample(&text, r#"fullpass_job_duration_seconds_bucket{le="60"}"#).unwrap() >= 1.0,
        "{text}"
    );

    assert_eq!(
        sample(&text, r#"fullpass_rows{status="pending"}"#),
        Some(3.0)
    );
    assert_eq!(
        sample(&text, r#"fullpass_rows{status="failed"}"#),
        Some(2.0)
    );
    assert_eq!(
        sample(&text, r#"fullpass_rows{status="processing"}"#),
        Some(0.0)
    );
    assert_eq!(sample(&text, telemetry::CLAIMABLE_ROWS), Some(3.0));
    let oldest = sample(&text, telemetry::OLDEST_CLAIMABLE).unwrap();
    assert!((89.0..600.0).contains(&oldest), "oldest claimable {oldest}");
    server.shut_down().await;
}

#[tokio::test]
async fn healthcheck_fails_when_nothing_answers() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = healthcheck(&format!("0.0.0.0:{closed_port}"), Duration::from_secs(2))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("http://127.0.0.1:{closed_port}/healthz")),
        "{err}"
    );
    assert!(
        healthcheck("not an address", Duration::from_secs(1))
            .await
            .is_err()
    );
}
