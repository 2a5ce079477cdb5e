//! Dispatch benchmark: how soon fullpass claims a row the app made pending, how
//! fast it drains a backlog, whether it keeps up with a steady stream of requests,
//! and what the notify trigger costs the app's own writes.
//!
//! It runs the real release binary as daemon processes against a database of its
//! own (created on `DATABASE_URL`'s server, dropped at the end), with trivial
//! exports in a temporary storage directory. Latencies come from the database's
//! clock (the trigger's `full_pass_requested_at`, the claim's `full_pass_started_at`,
//! the completion's `full_pass_completed_at`), not from the benchmark's own timers,
//! so the benchmark's scheduling does not leak into the figures.
//!
//! `cargo bench --bench dispatch` (`cargo test --benches` runs it at a tiny
//! scale, as a check that it still works); the Markdown table goes to stdout, the detail
//! (per-second samples, CPU per job, wait events, the claim's plan) to stderr.
//! Settings (environment; defaults in brackets):
//! - `DATABASE_URL` [`postgres://postgres@127.0.0.1:5432/postgres`]: the server.
//! - `FULLPASS_BENCH_CONCURRENCY` [`4,8`]: daemon concurrencies to try (empty: only
//!   the statement profile).
//! - `FULLPASS_BENCH_LATENCY_SAMPLES` [300]: rows made pending one at a time.
//! - `FULLPASS_BENCH_BACKLOG` [10000]: rows of the bulk requeue.
//! - `FULLPASS_BENCH_REPLICAS` [`1,3`]: daemon processes draining the backlog.
//! - `FULLPASS_BENCH_SUSTAIN_SECS` [10], `FULLPASS_BENCH_WRITERS` [4]: the sustained run.
//! - `FULLPASS_BENCH_MAX_WRITE_RATE` [8000]: rows provisioned per second of a sustained run.
//! - `FULLPASS_BENCH_CATCH_UP_SECS` [6]: how long to wait for the daemon to catch up after it.
//! - `FULLPASS_BENCH_PACED_RATE` [1500; 0: off]: also run it with the app paced at this many rows/s.
//! - `FULLPASS_BENCH_SWEEP_INTERVAL` [`1s`]: the daemons' `FULLPASS_SWEEP_INTERVAL`.
//! - `FULLPASS_BENCH_PROFILE_JOBS` [500]: claims timed by the statement profile (0: skip).
//! - `FULLPASS_BENCH_EXPORT` [`sample`]: `sample` (a few KB) or `empty` (dispatch alone).
//! - `FULLPASS_BENCH_DAEMON_LOG` [`warn`], `FULLPASS_BENCH_LOG_DIR` [temporary]: daemon logs.
//! - `FULLPASS_BENCH_DAEMON_PG_OPTIONS` [none]: server options for the daemons' sessions,
//!   e.g. `-c synchronous_commit=off`.

#[path = "../tests/common/export.rs"]
mod export;

use chrono::{DateTime, Utc};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_postgres::{AsyncMessage, Client, NoTls};
use uuid::Uuid;

// ---------------------------------------------------------------- settings

struct Settings {
    server_url: String,
    concurrencies: Vec<usize>,
    latency_samples: usize,
    backlog: usize,
    replicas: Vec<usize>,
    sustain: Duration,
    writers: usize,
    max_write_rate: usize,
    /// After a sustained run, how long to wait for the daemon to catch up.
    catch_up: Duration,
    /// Also run the sustained test at this fixed offered rate (rows/s); 0: skip.
    paced_rate: usize,
    sweep_interval: String,
    profile_jobs: usize,
    daemon_pg_options: String,
    /// `FULLPASS_LOG` of the daemons: `warn` so that logging does not dominate.
    daemon_log: String,
    /// Keep the daemons' logs here (for per-job timings); a temporary dir otherwise.
    log_dir: Option<PathBuf>,
    /// Distinct export files; rows point at them round robin.
    exports: usize,
    /// `sample`: a few KB of conversations; `empty`: `[]`, to time the dispatch alone.
    export_kind: String,
}

fn env_value<T: FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text:?} is not a valid value")),
        Err(_) => default,
    }
}

fn env_list(name: &str, default: &[usize]) -> Vec<usize> {
    match std::env::var(name) {
        Ok(text) => text
            .split(',')
            .filter(|part| !part.trim().is_empty())
            .map(|part| {
                part.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("{name}={text:?}: expected numbers like 4,8"))
            })
            .collect(),
        Err(_) => default.to_vec(),
    }
}

impl Settings {
    /// `smoke`: tiny defaults, for `cargo test --benches` (which runs this
    /// binary without `--bench`) to check that the benchmark still works.
    fn from_env(smoke: bool) -> Settings {
        let pick = |full: usize, tiny: usize| if smoke { tiny } else { full };
        Settings {
            server_url: std::env::var("DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned()),
            concurrencies: env_list(
                "FULLPASS_BENCH_CONCURRENCY",
                if smoke { &[2] } else { &[4, 8] },
            ),
            latency_samples: env_value("FULLPASS_BENCH_LATENCY_SAMPLES", pick(300, 5)),
            backlog: env_value("FULLPASS_BENCH_BACKLOG", pick(10_000, 50)),
            replicas: env_list(
                "FULLPASS_BENCH_REPLICAS",
                if smoke { &[1] } else { &[1, 3] },
            ),
            sustain: Duration::from_secs(env_value(
                "FULLPASS_BENCH_SUSTAIN_SECS",
                pick(10, 1) as u64,
            )),
            writers: env_value("FULLPASS_BENCH_WRITERS", pick(4, 2)),
            max_write_rate: env_value("FULLPASS_BENCH_MAX_WRITE_RATE", pick(8_000, 2_000)),
            catch_up: Duration::from_secs(env_value("FULLPASS_BENCH_CATCH_UP_SECS", 6)),
            paced_rate: env_value("FULLPASS_BENCH_PACED_RATE", pick(1500, 20)),
            sweep_interval: env_value("FULLPASS_BENCH_SWEEP_INTERVAL", "1s".to_owned()),
            profile_jobs: env_value("FULLPASS_BENCH_PROFILE_JOBS", pick(500, 10)),
            daemon_pg_options: env_value("FULLPASS_BENCH_DAEMON_PG_OPTIONS", String::new()),
            daemon_log: env_value("FULLPASS_BENCH_DAEMON_LOG", "warn".to_owned()),
            log_dir: std::env::var_os("FULLPASS_BENCH_LOG_DIR").map(PathBuf::from),
            exports: 64,
            export_kind: env_value("FULLPASS_BENCH_EXPORT", "sample".to_owned()),
        }
    }
}

// ---------------------------------------------------------------- statistics

fn millis(delta: chrono::TimeDelta) -> f64 {
    delta
        .num_microseconds()
        .map_or(f64::NAN, |us| us as f64 / 1000.0)
}

/// Nearest-rank percentiles of a set of samples (milliseconds or seconds).
#[derive(Debug, Clone, Copy, Default)]
struct Summary {
    n: usize,
    p50: f64,
    p99: f64,
    max: f64,
}

impl Summary {
    fn of(mut samples: Vec<f64>) -> Summary {
        samples.retain(|x| x.is_finite());
        if samples.is_empty() {
            return Summary::default();
        }
        samples.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let index = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1;
            samples[index]
        };
        Summary {
            n: samples.len(),
            p50: rank(0.50),
            p99: rank(0.99),
            max: samples[samples.len() - 1],
        }
    }

    fn p50_p99(&self, unit: &str) -> String {
        if self.n == 0 {
            return "n/a".to_owned();
        }
        format!("{:.2} / {:.2} {unit}", self.p50, self.p99)
    }
}

/// Least-squares slope of y over x.
fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if points.len() < 2 {
        return 0.0;
    }
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let cov: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let var: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if var == 0.0 { 0.0 } else { cov / var }
}

// ---------------------------------------------------------------- SQL

/// Between runs: dead tuples left by one run must not slow the next (autovacuum may be off).
const VACUUM: &str = "vacuum (analyze) public.user_profiles";

/// Profiles with a storage path and no status (not queued).
const PROVISION: &str = "insert into public.user_profiles (user_id, storage_path)
                 select * from unnest($1::uuid[], $2::text[])";

const DELETE_ROWS: &str = "delete from public.user_profiles where user_id = any($1)";

const QUEUED_ROWS: &str = "select count(*) from public.user_profiles
                 where user_id = any($1) and full_pass_status in ('pending', 'processing')";

/// What the app does, plus `clock_timestamp()` once the row is written (before the commit).
const APP_MAKE_PENDING: &str =
    "update public.user_profiles set full_pass_status = 'pending' where user_id = $1
             returning full_pass_requested_at, clock_timestamp()";

const READ_ROW: &str = "select full_pass_status, full_pass_started_at, full_pass_completed_at
                   from public.user_profiles where user_id = $1";

/// Claimable rows, rows being processed, age of the oldest claimable request (s).
const QUEUE_DEPTH: &str = "select (select count(*) from public.user_profiles
                      where full_pass_status = 'pending' and storage_path is not null
                        and (full_pass_not_before is null or full_pass_not_before <= now())),
                    (select count(*) from public.user_profiles
                      where full_pass_status = 'processing'),
                    (select extract(epoch from now() - min(full_pass_requested_at))::float8
                       from public.user_profiles
                      where full_pass_status = 'pending' and storage_path is not null)";

const ROW_TIMES: &str = "select full_pass_status, full_pass_requested_at, full_pass_started_at,
                    full_pass_completed_at
               from public.user_profiles where user_id = any($1)";

/// Daemons whose listener passed its probe and waits for notifications.
const LISTENERS_READY: &str = "select count(*) from pg_stat_activity
                      where datname = current_database()
                        and application_name = 'fullpass-listener' and state = 'idle'";

const DAEMON_SESSIONS: &str = "select count(*) from pg_stat_activity
                      where datname = current_database() and application_name like 'fullpass%'";

const DAEMON_BACKEND_PIDS: &str = "select pid from pg_stat_activity
              where datname = current_database() and application_name like 'fullpass%'";

const SESSION_STATES: &str = "select state, wait_event_type, wait_event from pg_stat_activity
                      where datname = current_database() and application_name = $1";

const BULK_PENDING: &str =
    "update public.user_profiles set full_pass_status = 'pending' where user_id = any($1)";

/// Plans of this session's statements come back as LOG messages.
const AUTO_EXPLAIN_ON: &str = "load 'auto_explain';
             set auto_explain.log_min_duration = 0;
             set auto_explain.log_analyze = on;
             set auto_explain.log_buffers = on;
             set client_min_messages = log;";

const AUTO_EXPLAIN_OFF: &str =
    "set auto_explain.log_min_duration = -1; set client_min_messages = notice;";

/// Out of the queue again, ready for the next run.
const RESET_ROWS: &str =
    "update public.user_profiles set full_pass_status = null where user_id = any($1)";

/// A bulk requeue in one statement; `clock_timestamp()` after the last row is written.
const BULK_REQUEUE: &str = "with requeued as (
                 update public.user_profiles set full_pass_status = 'pending'
                  where user_id = any($1) returning 1)
             select count(*), clock_timestamp() from requeued";

/// The app's write in the sustained run.
const APP_UPDATE: &str =
    "update public.user_profiles set full_pass_status = 'pending' where user_id = $1";

const SERVER_SETTINGS: &str = "select name, setting from pg_settings
              where name in ('server_version', 'synchronous_commit', 'fsync', 'wal_sync_method',
                             'autovacuum', 'shared_buffers', 'max_connections')
              order by name";

/// Without it the daemons find work by their sweep only.
const NOTIFY_TRIGGER_OFF: &str = "alter table public.user_profiles disable trigger fullpass_notify";
const NOTIFY_TRIGGER_ON: &str = "alter table public.user_profiles enable trigger fullpass_notify";

/// Other activity on the server the benchmark shares.
const OTHER_SESSIONS: &str = "select count(*) from pg_stat_activity
              where backend_type = 'client backend' and datname <> current_database()";

// ---------------------------------------------------------------- database

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// A connection whose server messages (notices, and LOG lines once
/// `client_min_messages = log`) are handed back: how auto_explain's plans arrive.
async fn connect_capturing(url: &str) -> (Client, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let (client, mut connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            match message {
                Ok(AsyncMessage::Notice(notice)) => {
                    let _ = tx.send(notice.message().to_owned());
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    (client, rx)
}

/// The benchmark's own database, dropped (with any session still on it) at the end.
struct BenchDb {
    server: String,
    name: String,
    url: String,
}

impl BenchDb {
    async fn create(server: &str) -> BenchDb {
        let name = format!(
            "fullpass_bench_{}_{}",
            std::process::id(),
            &Uuid::new_v4().simple().to_string()[..8]
        );
        connect(server)
            .await
            .batch_execute(&format!("create database {name}"))
            .await
            .expect("create the benchmark database");
        let url = fullpass::db::url_with_dbname(server, &name);
        let config = fullpass::db::DbConfig::from_url(&url).expect("benchmark database URL");
        fullpass::db::migrate(&config)
            .await
            .expect("apply fullpass migrations");
        BenchDb {
            server: server.to_owned(),
            name,
            url,
        }
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        // Drop can run inside the runtime: use a thread with its own.
        let (server, name) = (self.server.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok((client, connection)) = tokio_postgres::connect(&server, NoTls).await {
                    tokio::spawn(connection);
                    let _ = client
                        .batch_execute(&format!("drop database if exists {name} with (force)"))
                        .await;
                }
            });
        })
        .join();
    }
}

async fn vacuum(client: &Client) {
    client
        .batch_execute(VACUUM)
        .await
        .expect("vacuum user_profiles");
}

async fn set_notify_trigger(client: &Client, enabled: bool) {
    let statement = if enabled {
        NOTIFY_TRIGGER_ON
    } else {
        NOTIFY_TRIGGER_OFF
    };
    client
        .batch_execute(statement)
        .await
        .expect("switch the notify trigger");
}

/// Profiles with a storage path and no status: not queued until made pending.
async fn provision(client: &Client, paths: &[String], n: usize) -> Vec<Uuid> {
    let ids: Vec<Uuid> = (0..n).map(|_| Uuid::new_v4()).collect();
    for (chunk_index, chunk) in ids.chunks(10_000).enumerate() {
        let chunk_paths: Vec<&str> = (0..chunk.len())
            .map(|i| paths[(chunk_index * 10_000 + i) % paths.len()].as_str())
            .collect();
        client
            .execute(PROVISION, &[&chunk, &chunk_paths])
            .await
            .expect("provision profiles");
    }
    ids
}

/// Deletes the rows once the daemons are done with them. A bulk statement over
/// rows a daemon is still claiming and completing can deadlock with a
/// completion batch: it locks rows in physical order, and keeps the lock on a
/// row it rechecked and skipped (PostgreSQL's behaviour in read committed).
async fn delete_rows(client: &Client, ids: &[Uuid]) {
    wait_for_none(client, QUEUED_ROWS, &[&ids], Duration::from_secs(120)).await;
    client
        .execute(DELETE_ROWS, &[&ids])
        .await
        .expect("delete benchmark rows");
}

/// What the app does: one autocommit UPDATE. Returns the trigger's
/// `full_pass_requested_at` (the statement's start), `clock_timestamp()` taken
/// after the row was written (just before the commit) and the benchmark's clock
/// when the commit was acknowledged.
async fn make_pending(client: &Client, id: Uuid) -> (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>) {
    let row = client
        .query_one(APP_MAKE_PENDING, &[&id])
        .await
        .expect("make a row pending");
    let acknowledged = Utc::now();
    (row.get(0), row.get(1), acknowledged)
}

struct Finished {
    status: String,
    started: Option<DateTime<Utc>>,
    completed: Option<DateTime<Utc>>,
}

async fn wait_finished(client: &Client, id: Uuid, timeout: Duration) -> Option<Finished> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        let row = client
            .query_one(READ_ROW, &[&id])
            .await
            .expect("read a row");
        let status: Option<String> = row.get(0);
        if let Some(status) = status.filter(|s| s == "complete" || s == "failed") {
            return Some(Finished {
                status,
                started: row.get(1),
                completed: row.get(2),
            });
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    None
}

/// Claimable rows (what the daemon has not picked up yet), rows being processed,
/// and the age of the oldest claimable request in seconds.
async fn queue_depth(client: &Client) -> (i64, i64, Option<f64>) {
    let row = client
        .query_one(QUEUE_DEPTH, &[])
        .await
        .expect("read the queue depth");
    (row.get(0), row.get(1), row.get(2))
}

/// Polls a `select count(*)` until it gives 0 or `timeout` passes; `true` if it did.
async fn wait_for_none(
    client: &Client,
    count: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    timeout: Duration,
) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        let n: i64 = client
            .query_one(count, params)
            .await
            .unwrap_or_else(|e| panic!("{count}: {e}"))
            .get(0);
        if n == 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

async fn wait_queue_empty(client: &Client, timeout: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        let (claimable, processing, _) = queue_depth(client).await;
        if claimable == 0 && processing == 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

struct RowTimes {
    status: Option<String>,
    requested: Option<DateTime<Utc>>,
    started: Option<DateTime<Utc>>,
    completed: Option<DateTime<Utc>>,
}

async fn row_times(client: &Client, ids: &[Uuid]) -> Vec<RowTimes> {
    client
        .query(ROW_TIMES, &[&ids])
        .await
        .expect("read row timestamps")
        .iter()
        .map(|row| RowTimes {
            status: row.get(0),
            requested: row.get(1),
            started: row.get(2),
            completed: row.get(3),
        })
        .collect()
}

fn count_status(rows: &[RowTimes], status: &str) -> usize {
    rows.iter()
        .filter(|r| r.status.as_deref() == Some(status))
        .count()
}

// ---------------------------------------------------------------- exports

/// Small ChatGPT exports (a few KB): the test fixture's sample plus a few filler
/// conversations, so each job reads, parses and extracts something real. With
/// `empty`, exports hold no conversation: what is left is the dispatch itself.
fn write_exports(dir: &Path, count: usize, kind: &str) -> (Vec<String>, usize) {
    let mut paths = Vec::with_capacity(count);
    let mut size = 0;
    for i in 0..count {
        let bytes = match kind {
            "sample" => sample_export_bytes(i),
            "empty" => export::gzip(b"[]"),
            other => panic!("FULLPASS_BENCH_EXPORT={other:?}: expected sample or empty"),
        };
        size = bytes.len();
        let path = format!("exports/user-{i}/export.json.gz");
        let full = dir.join(&path);
        std::fs::create_dir_all(full.parent().expect("export dir")).expect("create export dir");
        std::fs::write(&full, bytes).expect("write export");
        paths.push(path);
    }
    (paths, size)
}

fn sample_export_bytes(i: usize) -> Vec<u8> {
    {
        let mut conversations = export::sample_export();
        for topic in ["Tomato blight", "Train to Bergen", "Spreadsheet formula"] {
            conversations.push(export::TestConversation::new(
                &format!("{topic} {i}"),
                "2024-06-01",
                &[
                    (
                        "Can you help me with this? I'd like a short answer.",
                        "Sure. Here is a short, practical answer with two steps to try first.",
                    ),
                    ("Thanks, that worked.", "Glad it helped."),
                ],
            ));
        }
        export::gzip(&export::conversations_json(&conversations))
    }
}

// ---------------------------------------------------------------- daemons

/// What every daemon process is started with.
struct DaemonEnv {
    db_url: String,
    storage_dir: PathBuf,
    log_dir: PathBuf,
    log_filter: String,
    sweep_interval: String,
}

struct Daemon {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn spawn(env: &DaemonEnv, name: &str, concurrency: usize) -> Daemon {
        let log = env.log_dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("daemon log file");
        let child = Command::new(env!("CARGO_BIN_EXE_fullpass"))
            .arg("run")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .env("DATABASE_URL", &env.db_url)
            .env("FULLPASS_STORAGE_DIR", &env.storage_dir)
            .env("FULLPASS_LOG", &env.log_filter)
            .env("FULLPASS_CONCURRENCY", concurrency.to_string())
            .env("FULLPASS_SWEEP_INTERVAL", &env.sweep_interval)
            .env("FULLPASS_SKIP_MIGRATIONS", "true")
            .env("FULLPASS_WORKER_ID", name)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("start the fullpass binary");
        Daemon {
            name: name.to_owned(),
            child,
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("daemon {} exited ({status}):\n{}", self.name, self.log());
        }
    }

    /// SIGTERM, then SIGKILL if it has not stopped within `grace`.
    async fn stop(&mut self, grace: Duration) {
        let Ok(pid) = i32::try_from(self.child.id()) else {
            return;
        };
        // SAFETY: kill(2) on our own child with a valid signal number.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let start = Instant::now();
        while start.elapsed() < grace {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the daemons' logs said at `warn` level and above.
#[derive(Debug, Default, Clone)]
struct LogReport {
    warnings: usize,
    errors: usize,
    panics: usize,
    first: Option<String>,
}

/// Replicas started together and stopped together.
struct Fleet {
    daemons: Vec<Daemon>,
}

impl Fleet {
    /// Starts `replicas` daemons and waits until each one's listener is up and
    /// a few warm-up jobs went through (connections, caches and the binary warm).
    async fn start(
        env: &DaemonEnv,
        client: &Client,
        label: &str,
        replicas: usize,
        concurrency: usize,
        warmup: &[Uuid],
    ) -> Fleet {
        let mut daemons: Vec<Daemon> = (0..replicas)
            .map(|i| Daemon::spawn(env, &format!("{label}-{i}"), concurrency))
            .collect();
        let start = Instant::now();
        loop {
            let listening: i64 = client
                .query_one(LISTENERS_READY, &[])
                .await
                .expect("count listeners")
                .get(0);
            if listening >= replicas as i64 {
                break;
            }
            for daemon in &mut daemons {
                daemon.assert_running();
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "daemons never started listening:\n{}",
                daemons.iter().map(Daemon::log).collect::<String>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for &id in warmup {
            make_pending(client, id).await;
            wait_finished(client, id, Duration::from_secs(30))
                .await
                .expect("a warm-up job never finished");
        }
        Fleet { daemons }
    }

    fn assert_running(&mut self) {
        for daemon in &mut self.daemons {
            daemon.assert_running();
        }
    }

    /// Stops every daemon and waits until their sessions are gone, so the next
    /// fleet's readiness check does not count them.
    async fn stop(mut self, client: &Client) -> LogReport {
        self.assert_running();
        for daemon in &mut self.daemons {
            daemon.stop(Duration::from_secs(15)).await;
        }
        wait_for_none(client, DAEMON_SESSIONS, &[], Duration::from_secs(10)).await;
        let mut report = LogReport::default();
        for daemon in &self.daemons {
            for line in daemon.log().lines() {
                let is_warning = line.contains(" WARN ");
                let is_error = line.contains(" ERROR ");
                let is_panic = line.contains("panicked");
                if is_warning || is_error || is_panic {
                    report.warnings += usize::from(is_warning);
                    report.errors += usize::from(is_error);
                    report.panics += usize::from(is_panic);
                    if report.first.is_none() {
                        report.first = Some(line.chars().take(300).collect());
                    }
                }
            }
        }
        report
    }
}

fn log_note(report: &LogReport) -> String {
    if report.warnings + report.errors + report.panics == 0 {
        return "daemon logs clean".to_owned();
    }
    format!(
        "daemon logs: {} warnings, {} errors, {} panics; first: {}",
        report.warnings,
        report.errors,
        report.panics,
        report.first.as_deref().unwrap_or("")
    )
}

// ---------------------------------------------------------------- CPU accounting

/// CPU seconds (user + system) a process has used so far, from /proc.
fn process_cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks())
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

/// Busy and total jiffies of the whole machine (every process, not only ours).
fn machine_jiffies() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: u64 = values.iter().sum();
    // idle + iowait
    let idle = values.get(3)? + values.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

/// Where the CPU went while the daemons worked: their processes, the
/// PostgreSQL backends serving them, and the machine as a whole.
struct CpuMeter {
    daemons: Vec<(u32, f64)>,
    backends: std::collections::HashMap<i32, f64>,
    machine: Option<(u64, u64)>,
}

#[derive(Debug, Clone, Copy, Default)]
struct CpuUse {
    daemon_secs: f64,
    backend_secs: f64,
    /// Share of all cores busy (any process), 0..1.
    machine_busy: f64,
}

async fn daemon_backends(client: &Client) -> Vec<i32> {
    client
        .query(DAEMON_BACKEND_PIDS, &[])
        .await
        .expect("list daemon sessions")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

impl CpuMeter {
    async fn start(fleet: &Fleet, client: &Client) -> CpuMeter {
        let daemons = fleet
            .daemons
            .iter()
            .map(|d| {
                let pid = d.child.id();
                (pid, process_cpu_secs(pid).unwrap_or(0.0))
            })
            .collect();
        let backends = daemon_backends(client)
            .await
            .into_iter()
            .map(|pid| (pid, process_cpu_secs(pid as u32).unwrap_or(0.0)))
            .collect();
        CpuMeter {
            daemons,
            backends,
            machine: machine_jiffies(),
        }
    }

    /// CPU used since `start`; backends that appeared since count from zero.
    async fn stop(&self, client: &Client) -> CpuUse {
        let daemon_secs = self
            .daemons
            .iter()
            .map(|&(pid, before)| process_cpu_secs(pid).map_or(0.0, |now| now - before))
            .sum();
        let backend_secs = daemon_backends(client)
            .await
            .into_iter()
            .map(|pid| {
                let before = self.backends.get(&pid).copied().unwrap_or(0.0);
                process_cpu_secs(pid as u32).map_or(0.0, |now| now - before)
            })
            .sum();
        let machine_busy = match (self.machine, machine_jiffies()) {
            (Some((busy0, total0)), Some((busy1, total1))) if total1 > total0 => {
                (busy1 - busy0) as f64 / (total1 - total0) as f64
            }
            _ => f64::NAN,
        };
        CpuUse {
            daemon_secs,
            backend_secs,
            machine_busy,
        }
    }
}

// ---------------------------------------------------------------- wait events

/// The application_name of the benchmark's app-side writers.
const APP_NAME: &str = "fullpass-bench-app";

fn with_application_name(url: &str, name: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}application_name={name}")
}

/// What a set of sessions spent their time on, from pg_stat_activity sampled
/// every 20 ms: `CPU` (active, no wait), `idle` (waiting for its client), or the
/// wait event (`IO:WALSync` = commit flush, `Lock:object` = the NOTIFY commit lock...).
struct WaitSampler {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<std::collections::HashMap<String, u64>>,
}

#[derive(Debug, Clone, Default)]
struct WaitProfile {
    samples: u64,
    shares: Vec<(String, f64)>,
}

impl WaitSampler {
    async fn start(url: &str, application_name: &'static str) -> WaitSampler {
        let client = connect(url).await;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let mut counts = std::collections::HashMap::new();
            let Ok(statement) = client.prepare(SESSION_STATES).await else {
                return counts;
            };
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            while !flag.load(Ordering::Relaxed) {
                tick.tick().await;
                let Ok(rows) = client.query(&statement, &[&application_name]).await else {
                    break;
                };
                for row in rows {
                    let state: Option<String> = row.get(0);
                    let kind: Option<String> = row.get(1);
                    let event: Option<String> = row.get(2);
                    let key = match (state.as_deref(), kind, event) {
                        (Some("idle"), _, _) => "idle".to_owned(),
                        (_, Some(kind), Some(event)) => format!("{kind}:{event}"),
                        (Some(state), None, _) if state != "active" => state.to_owned(),
                        _ => "CPU".to_owned(),
                    };
                    *counts.entry(key).or_insert(0) += 1;
                }
            }
            counts
        });
        WaitSampler { stop, task }
    }

    async fn finish(self) -> WaitProfile {
        self.stop.store(true, Ordering::Relaxed);
        let counts = self.task.await.unwrap_or_default();
        let samples: u64 = counts.values().sum();
        let mut shares: Vec<(String, f64)> = counts
            .into_iter()
            .map(|(key, n)| (key, n as f64 / samples.max(1) as f64))
            .collect();
        shares.sort_by(|a, b| b.1.total_cmp(&a.1));
        WaitProfile { samples, shares }
    }
}

impl WaitProfile {
    fn describe(&self) -> String {
        if self.samples == 0 {
            return "no samples".to_owned();
        }
        self.shares
            .iter()
            .take(5)
            .map(|(key, share)| format!("{key} {:.0}%", share * 100.0))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

// ---------------------------------------------------------------- scenarios

/// Everything a scenario needs.
struct Bench {
    settings: Settings,
    db: BenchDb,
    env: DaemonEnv,
    paths: Vec<String>,
    client: Client,
}

struct StatementProfile {
    claim: Summary,
    complete: Summary,
    plan: Option<String>,
    backlog: usize,
}

/// Times the queue's own claim and complete calls from one connection with a
/// full backlog and no daemon running, and captures the claim's plan with
/// auto_explain (the claim SQL stays private to the crate; this runs it as is).
async fn profile_statements(bench: &Bench, backlog: &[Uuid]) -> StatementProfile {
    let client = &bench.client;
    client
        .execute(BULK_PENDING, &[&backlog])
        .await
        .expect("make the backlog pending");
    vacuum(client).await;

    let (explainer, mut messages) = connect_capturing(&bench.db.url).await;
    let lease = Duration::from_secs(20);
    // One claim first, so that the explained one does not pay for the session's
    // first trigger call (plpgsql compiles a function on its first use).
    for job in fullpass::db::queue::claim_next(&explainer, "bench-profile", lease, 1)
        .await
        .expect("warm-up claim")
    {
        fullpass::db::queue::fail(&explainer, &job, "profiled")
            .await
            .expect("finish the warm-up claim");
    }
    let plan = match explainer.batch_execute(AUTO_EXPLAIN_ON).await {
        Ok(()) => {
            let jobs = fullpass::db::queue::claim_next(&explainer, "bench-profile", lease, 1)
                .await
                .expect("claim with auto_explain");
            explainer
                .batch_execute(AUTO_EXPLAIN_OFF)
                .await
                .expect("switch auto_explain off");
            for job in &jobs {
                fullpass::db::queue::fail(&explainer, job, "profiled")
                    .await
                    .expect("finish the explained claim");
            }
            let mut plan = None;
            while let Ok(message) = messages.try_recv() {
                if message.contains("Update on") {
                    plan = Some(message);
                }
            }
            plan
        }
        Err(e) => {
            eprintln!("  auto_explain unavailable ({e}); no plan captured");
            None
        }
    };

    let facts = serde_json::json!([]);
    let stats = serde_json::json!({});
    let mut claims = Vec::with_capacity(bench.settings.profile_jobs);
    let mut completes = Vec::with_capacity(bench.settings.profile_jobs);
    for _ in 0..bench.settings.profile_jobs {
        let started = Instant::now();
        let jobs = fullpass::db::queue::claim_next(client, "bench-profile", lease, 1)
            .await
            .expect("claim");
        claims.push(started.elapsed().as_secs_f64() * 1000.0);
        let Some(job) = jobs.first() else { break };
        let started = Instant::now();
        fullpass::db::queue::complete(client, job, "# MEMORY\n", &facts, &stats)
            .await
            .expect("complete");
        completes.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    client
        .execute(RESET_ROWS, &[&backlog])
        .await
        .expect("reset the backlog");
    StatementProfile {
        claim: Summary::of(claims),
        complete: Summary::of(completes),
        plan,
        backlog: backlog.len(),
    }
}

struct LatencyResult {
    concurrency: usize,
    /// `clock_timestamp()` in the app's RETURNING (row written, commit not yet flushed) → claim.
    written_to_claim: Summary,
    /// The app's commit acknowledged (benchmark's clock, same host) → claim.
    acked_to_claim: Summary,
    /// `full_pass_requested_at` (the app statement's start) → claim.
    requested_to_claim: Summary,
    /// RETURNING `clock_timestamp()` → commit acknowledged: the app's own commit cost.
    app_commit: Summary,
    /// Claim → complete: the job itself.
    job: Summary,
    failed: usize,
    missing: usize,
    logs: LogReport,
}

/// One row at a time through one idle daemon: the wake-up path alone.
async fn latency(bench: &Bench, concurrency: usize) -> LatencyResult {
    let client = &bench.client;
    let samples = bench.settings.latency_samples;
    let warmup = provision(client, &bench.paths, 20).await;
    let ids = provision(client, &bench.paths, samples).await;
    vacuum(client).await;
    let fleet = Fleet::start(&bench.env, client, "latency", 1, concurrency, &warmup).await;

    let (mut written, mut acked, mut requested, mut commit, mut job) =
        (vec![], vec![], vec![], vec![], vec![]);
    let (mut failed, mut missing) = (0, 0);
    for &id in &ids {
        let (requested_at, written_at, acked_at) = make_pending(client, id).await;
        match wait_finished(client, id, Duration::from_secs(10)).await {
            Some(done) => {
                if done.status == "failed" {
                    failed += 1;
                }
                if let Some(started) = done.started {
                    written.push(millis(started - written_at));
                    acked.push(millis(started - acked_at));
                    requested.push(millis(started - requested_at));
                    if let Some(completed) = done.completed {
                        job.push(millis(completed - started));
                    }
                }
                commit.push(millis(acked_at - written_at));
            }
            None => missing += 1,
        }
        // Let the daemon go fully idle so every sample measures a cold wake-up.
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let logs = fleet.stop(client).await;
    delete_rows(client, &warmup).await;
    delete_rows(client, &ids).await;
    LatencyResult {
        concurrency,
        written_to_claim: Summary::of(written),
        acked_to_claim: Summary::of(acked),
        requested_to_claim: Summary::of(requested),
        app_commit: Summary::of(commit),
        job: Summary::of(job),
        failed,
        missing,
        logs,
    }
}

struct DrainResult {
    concurrency: usize,
    replicas: usize,
    jobs: usize,
    complete: usize,
    failed: usize,
    /// From the bulk UPDATE's last row written to the last completion (DB clock).
    seconds: f64,
    first_claim_ms: f64,
    /// Claim → complete of each job.
    job_ms: Summary,
    timed_out: bool,
    cpu: CpuUse,
    /// What the daemons' pooled sessions were doing during the drain.
    waits: WaitProfile,
    logs: LogReport,
}

impl DrainResult {
    fn rate(&self) -> f64 {
        if self.seconds > 0.0 {
            (self.complete + self.failed) as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// CPU milliseconds per job: (daemon processes, their PostgreSQL backends).
    fn cpu_per_job_ms(&self) -> (f64, f64) {
        let jobs = (self.complete + self.failed).max(1) as f64;
        (
            self.cpu.daemon_secs * 1000.0 / jobs,
            self.cpu.backend_secs * 1000.0 / jobs,
        )
    }
}

/// A bulk requeue (one statement) of the whole backlog, drained by `replicas` daemons.
async fn drain(
    bench: &Bench,
    backlog: &[Uuid],
    replicas: usize,
    concurrency: usize,
) -> DrainResult {
    let client = &bench.client;
    let warmup = provision(client, &bench.paths, 10 * replicas).await;
    vacuum(client).await;
    let label = format!("drain-c{concurrency}-r{replicas}");
    let fleet = Fleet::start(&bench.env, client, &label, replicas, concurrency, &warmup).await;
    assert!(
        wait_queue_empty(client, Duration::from_secs(10)).await,
        "queue not idle before the drain"
    );

    let meter = CpuMeter::start(&fleet, client).await;
    let sampler = WaitSampler::start(&bench.db.url, "fullpass").await;
    let row = client
        .query_one(BULK_REQUEUE, &[&backlog])
        .await
        .expect("bulk requeue");
    let requeued: i64 = row.get(0);
    let written_at: DateTime<Utc> = row.get(1);
    assert_eq!(requeued as usize, backlog.len(), "bulk requeue missed rows");
    let timed_out = !wait_queue_empty(client, Duration::from_secs(120)).await;
    let cpu = meter.stop(client).await;
    let waits = sampler.finish().await;
    let logs = fleet.stop(client).await;

    let rows = row_times(client, backlog).await;
    let last = rows.iter().filter_map(|r| r.completed).max();
    let first_claim = rows.iter().filter_map(|r| r.started).min();
    let job_ms = rows
        .iter()
        .filter_map(|r| Some(millis(r.completed? - r.started?)))
        .collect();
    delete_rows(client, &warmup).await;
    client
        .execute(RESET_ROWS, &[&backlog])
        .await
        .expect("reset the backlog");
    DrainResult {
        concurrency,
        replicas,
        jobs: backlog.len(),
        complete: count_status(&rows, "complete"),
        failed: count_status(&rows, "failed"),
        seconds: last.map_or(f64::NAN, |t| millis(t - written_at) / 1000.0),
        first_claim_ms: first_claim.map_or(f64::NAN, |t| millis(t - written_at)),
        job_ms: Summary::of(job_ms),
        timed_out,
        cpu,
        waits,
        logs,
    }
}

#[derive(Debug, Clone, Copy)]
struct DepthSample {
    at_secs: f64,
    writes: u64,
    claimable: i64,
    processing: i64,
    oldest_secs: f64,
}

struct SustainedResult {
    concurrency: usize,
    notify: bool,
    /// The offered rate when the writers were paced; None: as fast as possible.
    paced: Option<usize>,
    writes: u64,
    seconds: f64,
    exhausted: bool,
    samples: Vec<DepthSample>,
    /// Backlog growth over the run, rows per second (least squares).
    backlog_slope: f64,
    /// After the writers stopped, until nothing was claimable or processing
    /// (NaN: not within the catch-up limit).
    catch_up_secs: f64,
    /// Claimable rows left when the catch-up limit ran out.
    left_behind: i64,
    /// What the app's sessions were doing while writing.
    app_waits: WaitProfile,
    /// Over the rows claimed by the end of the catch-up wait.
    claim_delay_ms: Summary,
    done_delay_ms: Summary,
    failed: usize,
}

impl SustainedResult {
    fn write_rate(&self) -> f64 {
        self.writes as f64 / self.seconds
    }
    /// Rows the daemon finished while the app wrote: written by the last
    /// sample, less those still claimable or processing then.
    fn done_rate(&self) -> f64 {
        self.samples.last().map_or(f64::NAN, |s| {
            (s.writes as f64 - (s.claimable + s.processing) as f64) / s.at_secs
        })
    }
    fn max_backlog(&self) -> i64 {
        self.samples.iter().map(|s| s.claimable).max().unwrap_or(0)
    }
    fn final_backlog(&self) -> i64 {
        self.samples.last().map_or(0, |s| s.claimable)
    }
    fn max_oldest(&self) -> f64 {
        self.samples
            .iter()
            .map(|s| s.oldest_secs)
            .fold(0.0, f64::max)
    }
    /// The backlog grows when it climbs by more than 2% of the write rate per
    /// second and ends above what one round of claims can take.
    fn grows(&self) -> bool {
        self.backlog_slope > 0.02 * self.write_rate()
            && self.final_backlog() > 2 * self.concurrency as i64
    }
}

/// Several app connections make rows pending one per transaction as fast as
/// PostgreSQL takes them, while the daemon works; the backlog is sampled each second.
async fn sustained(
    bench: &Bench,
    concurrency: usize,
    notify: bool,
    paced: Option<usize>,
) -> SustainedResult {
    let client = &bench.client;
    let settings = &bench.settings;
    let rate_cap = paced.map_or(settings.max_write_rate, |rate| rate + rate / 10 + 1);
    let per_writer = (rate_cap * settings.sustain.as_secs() as usize).div_ceil(settings.writers);
    // Each writer's gap between two writes when paced.
    let gap =
        paced.map(|rate| Duration::from_secs_f64(settings.writers as f64 / rate.max(1) as f64));
    let pool = provision(client, &bench.paths, per_writer * settings.writers).await;
    vacuum(client).await;
    if !notify {
        set_notify_trigger(client, false).await;
    }

    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicU64::new(0));
    let exhausted = Arc::new(AtomicBool::new(false));
    let start_line = Arc::new(tokio::sync::Barrier::new(settings.writers + 1));
    let mut writers = tokio::task::JoinSet::new();
    for slice in pool.chunks(per_writer) {
        let slice = slice.to_vec();
        let (url, stop, writes, exhausted, start_line) = (
            with_application_name(&bench.db.url, APP_NAME),
            stop.clone(),
            writes.clone(),
            exhausted.clone(),
            start_line.clone(),
        );
        writers.spawn(async move {
            let app = connect(&url).await;
            let statement = app
                .prepare(APP_UPDATE)
                .await
                .expect("prepare the app's update");
            start_line.wait().await;
            let began = tokio::time::Instant::now();
            for (i, id) in slice.into_iter().enumerate() {
                if let Some(gap) = gap {
                    tokio::time::sleep_until(began + gap * i as u32).await;
                }
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let n = app.execute(&statement, &[&id]).await.expect("app update");
                writes.fetch_add(n, Ordering::Relaxed);
            }
            exhausted.store(true, Ordering::Relaxed);
        });
    }

    let sampler = WaitSampler::start(&bench.db.url, APP_NAME).await;
    start_line.wait().await;
    let started = Instant::now();
    let mut samples = Vec::new();
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_secs(1),
        Duration::from_secs(1),
    );
    while started.elapsed() < settings.sustain && !exhausted.load(Ordering::Relaxed) {
        tick.tick().await;
        let (claimable, processing, oldest) = queue_depth(client).await;
        samples.push(DepthSample {
            at_secs: started.elapsed().as_secs_f64(),
            writes: writes.load(Ordering::Relaxed),
            claimable,
            processing,
            oldest_secs: oldest.unwrap_or(0.0),
        });
    }
    stop.store(true, Ordering::Relaxed);
    while writers.join_next().await.is_some() {}
    let seconds = started.elapsed().as_secs_f64();
    let app_waits = sampler.finish().await;
    let total_writes = writes.load(Ordering::Relaxed);
    if !notify {
        set_notify_trigger(client, true).await;
    }
    let stopped = Instant::now();
    let caught_up = wait_queue_empty(client, settings.catch_up).await;
    let catch_up_secs = if caught_up {
        stopped.elapsed().as_secs_f64()
    } else {
        f64::NAN
    };
    let (left_behind, _, _) = queue_depth(client).await;

    let rows = row_times(client, &pool).await;
    let claim_delay = rows
        .iter()
        .filter_map(|r| Some(millis(r.started? - r.requested?)))
        .collect();
    let done_delay = rows
        .iter()
        .filter_map(|r| Some(millis(r.completed? - r.requested?)))
        .collect();
    let failed = count_status(&rows, "failed");
    delete_rows(client, &pool).await;
    let points: Vec<(f64, f64)> = samples
        .iter()
        .map(|s| (s.at_secs, s.claimable as f64))
        .collect();
    SustainedResult {
        concurrency,
        notify,
        paced,
        writes: total_writes,
        seconds,
        exhausted: exhausted.load(Ordering::Relaxed),
        backlog_slope: slope(&points),
        samples,
        catch_up_secs,
        left_behind,
        app_waits,
        claim_delay_ms: Summary::of(claim_delay),
        done_delay_ms: Summary::of(done_delay),
        failed,
    }
}

// ---------------------------------------------------------------- report

fn verdict(met: bool) -> &'static str {
    if met { "yes" } else { "NO" }
}

impl SustainedResult {
    fn label(&self) -> String {
        match (self.notify, self.paced) {
            (true, None) => "notify trigger on".to_owned(),
            (false, None) => "notify trigger off (sweep only)".to_owned(),
            (true, Some(rate)) => format!("notify trigger on, paced at {rate} rows/s"),
            (false, Some(rate)) => format!("notify trigger off, paced at {rate} rows/s"),
        }
    }

    fn catch_up(&self) -> String {
        if self.catch_up_secs.is_finite() {
            format!("{:.2} s", self.catch_up_secs)
        } else {
            format!("not within the limit, {} rows left", self.left_behind)
        }
    }
}

fn print_sustained(result: &SustainedResult) {
    eprintln!(
        "  sustained, {}: {} writes in {:.1}s = {:.0}/s{}; done meanwhile {:.0}/s; backlog max {} final {} slope {:+.0}/s ({}); \
         oldest claimable max {:.2}s; catch-up after the writers stopped: {}; \
         request→claim p50/p99/max {:.1}/{:.1}/{:.1} ms (n={}); request→done p50/p99 {:.1}/{:.1} ms; failed {}; \
         app sessions: {}",
        result.label(),
        result.writes,
        result.seconds,
        result.write_rate(),
        if result.exhausted {
            " (ran out of provisioned rows: raise FULLPASS_BENCH_MAX_WRITE_RATE)"
        } else {
            ""
        },
        result.done_rate(),
        result.max_backlog(),
        result.final_backlog(),
        result.backlog_slope,
        if result.grows() { "grows" } else { "bounded" },
        result.max_oldest(),
        result.catch_up(),
        result.claim_delay_ms.p50,
        result.claim_delay_ms.p99,
        result.claim_delay_ms.max,
        result.claim_delay_ms.n,
        result.done_delay_ms.p50,
        result.done_delay_ms.p99,
        result.failed,
        result.app_waits.describe(),
    );
    let per_second: Vec<String> = result
        .samples
        .iter()
        .scan(0u64, |previous, s| {
            let delta = s.writes - *previous;
            *previous = s.writes;
            Some(format!(
                "{:.0}s:{}w/{}q/{}p",
                s.at_secs, delta, s.claimable, s.processing
            ))
        })
        .collect();
    eprintln!(
        "    per second (writes/claimable/processing): {}",
        per_second.join(" ")
    );
}

struct Results {
    profile: Option<StatementProfile>,
    latency: Vec<LatencyResult>,
    drains: Vec<DrainResult>,
    sustained: Vec<SustainedResult>,
}

fn markdown(settings: &Settings, results: &Results) -> String {
    let columns: Vec<usize> = settings.concurrencies.clone();
    let mut out = String::new();
    let header: Vec<String> = columns
        .iter()
        .map(|c| format!("FULLPASS_CONCURRENCY={c}"))
        .collect();
    let _ = writeln!(out, "| Measure | {} | Target | Met |", header.join(" | "));
    let _ = writeln!(
        out,
        "|---|{}---|---|",
        columns.iter().map(|_| "---|").collect::<String>()
    );
    let mut row = |measure: &str, cells: Vec<String>, target: &str, met: &str| {
        let _ = writeln!(
            out,
            "| {measure} | {} | {target} | {met} |",
            cells.join(" | ")
        );
    };
    let latency_for = |c: usize| results.latency.iter().find(|r| r.concurrency == c);

    let cells = |f: &dyn Fn(&LatencyResult) -> String| -> Vec<String> {
        columns
            .iter()
            .map(|&c| latency_for(c).map_or("n/a".to_owned(), f))
            .collect()
    };
    let latency_met = columns
        .iter()
        .filter_map(|&c| latency_for(c))
        .map(|r| {
            format!(
                "C={}: {}",
                r.concurrency,
                verdict(r.written_to_claim.p50 <= 2.0 && r.written_to_claim.p99 <= 15.0)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    row(
        "Latency, app row written (RETURNING clock_timestamp()) → claim, p50 / p99, 1 daemon",
        cells(&|r| r.written_to_claim.p50_p99("ms")),
        "≤ 2 / ≤ 15 ms",
        &latency_met,
    );
    let acked_met = columns
        .iter()
        .filter_map(|&c| latency_for(c))
        .map(|r| {
            format!(
                "C={}: {}",
                r.concurrency,
                verdict(r.acked_to_claim.p50 <= 2.0 && r.acked_to_claim.p99 <= 15.0)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    row(
        "Latency, app commit acknowledged → claim, p50 / p99",
        cells(&|r| r.acked_to_claim.p50_p99("ms")),
        "≤ 2 / ≤ 15 ms",
        &acked_met,
    );
    row(
        "Latency, full_pass_requested_at (app statement start) → claim, p50 / p99",
        cells(&|r| r.requested_to_claim.p50_p99("ms")),
        "",
        "",
    );
    row(
        "App's own commit (RETURNING → acknowledged), p50 / p99",
        cells(&|r| r.app_commit.p50_p99("ms")),
        "",
        "",
    );
    row(
        "One job, claim → complete, p50 / p99",
        cells(&|r| r.job.p50_p99("ms")),
        "",
        "",
    );

    for &replicas in &settings.replicas {
        let found: Vec<Option<&DrainResult>> = columns
            .iter()
            .map(|&c| {
                results
                    .drains
                    .iter()
                    .find(|d| d.concurrency == c && d.replicas == replicas)
            })
            .collect();
        let met = found
            .iter()
            .flatten()
            .map(|d| {
                format!(
                    "C={}: {}",
                    d.concurrency,
                    verdict(!d.timed_out && d.rate() >= 3000.0)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        row(
            &format!(
                "Backlog drain, {} rows in one UPDATE, {replicas} replica(s)",
                settings.backlog
            ),
            found
                .iter()
                .map(|d| {
                    d.map_or("n/a".to_owned(), |d| {
                        format!(
                            "{:.2} s = {:.0} jobs/s{}",
                            d.seconds,
                            d.rate(),
                            if d.timed_out { " (timed out)" } else { "" }
                        )
                    })
                })
                .collect(),
            "≥ 3,000 jobs/s",
            &met,
        );
    }

    let mut kinds: Vec<(bool, Option<usize>)> = Vec::new();
    for result in &results.sustained {
        if !kinds.contains(&(result.notify, result.paced)) {
            kinds.push((result.notify, result.paced));
        }
    }
    for (notify, paced) in kinds {
        let found: Vec<Option<&SustainedResult>> = columns
            .iter()
            .map(|&c| {
                results
                    .sustained
                    .iter()
                    .find(|s| s.concurrency == c && s.notify == notify && s.paced == paced)
            })
            .collect();
        let Some(label) = found.iter().flatten().next().map(|s| s.label()) else {
            continue;
        };
        row(
            &format!(
                "Sustained, {label}: app write rate ({} writers) / daemon completion rate meanwhile",
                settings.writers
            ),
            found
                .iter()
                .map(|s| {
                    s.map_or("n/a".to_owned(), |s| {
                        format!("{:.0} / {:.0} rows/s", s.write_rate(), s.done_rate())
                    })
                })
                .collect(),
            "",
            "",
        );
        let met = found
            .iter()
            .flatten()
            .map(|s| format!("C={}: {}", s.concurrency, verdict(!s.grows())))
            .collect::<Vec<_>>()
            .join(", ");
        row(
            &format!(
                "Sustained, {label}: backlog max / final, slope, oldest claimable max, catch-up"
            ),
            found
                .iter()
                .map(|s| {
                    s.map_or("n/a".to_owned(), |s| {
                        format!(
                            "{} / {} rows, {:+.0} rows/s ({}), {:.2} s, {}",
                            s.max_backlog(),
                            s.final_backlog(),
                            s.backlog_slope,
                            if s.grows() { "grows" } else { "bounded" },
                            s.max_oldest(),
                            s.catch_up()
                        )
                    })
                })
                .collect(),
            "bounded",
            &met,
        );
        row(
            &format!("Sustained, {label}: request → claim p50 / p99"),
            found
                .iter()
                .map(|s| s.map_or("n/a".to_owned(), |s| s.claim_delay_ms.p50_p99("ms")))
                .collect(),
            "",
            "",
        );
    }
    let ratio: Vec<String> = columns
        .iter()
        .map(|&c| {
            let on = results
                .sustained
                .iter()
                .find(|s| s.concurrency == c && s.notify && s.paced.is_none());
            let off = results
                .sustained
                .iter()
                .find(|s| s.concurrency == c && !s.notify && s.paced.is_none());
            match (on, off) {
                (Some(on), Some(off)) if on.write_rate() > 0.0 => {
                    format!("{:.1}×", off.write_rate() / on.write_rate())
                }
                _ => "n/a".to_owned(),
            }
        })
        .collect();
    row("App write rate, notify off ÷ notify on", ratio, "", "");
    if let Some(profile) = &results.profile {
        let _ = writeln!(
            out,
            "\nQueue statements alone (one connection, {} claimable rows, no daemon): \
             claim_next p50 / p99 {}, complete p50 / p99 {}.",
            profile.backlog,
            profile.claim.p50_p99("ms"),
            profile.complete.p50_p99("ms"),
        );
    }
    out
}

// ---------------------------------------------------------------- main

async fn server_context(client: &Client) -> String {
    let rows = client
        .query(SERVER_SETTINGS, &[])
        .await
        .expect("read server settings");
    let settings: Vec<String> = rows
        .iter()
        .map(|r| format!("{}={}", r.get::<_, String>(0), r.get::<_, String>(1)))
        .collect();
    let others: i64 = client
        .query_one(OTHER_SESSIONS, &[])
        .await
        .expect("count other sessions")
        .get(0);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!(
        "{}; {} cores; load average {}; {} sessions on other databases of this server",
        settings.join(" "),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        others
    )
}

async fn run() {
    let smoke = !std::env::args().any(|arg| arg == "--bench");
    let settings = Settings::from_env(smoke);
    if smoke {
        eprintln!("smoke run (no --bench: cargo test): tiny settings, figures not meaningful");
    }
    let begun = Instant::now();
    let db = BenchDb::create(&settings.server_url).await;
    let client = connect(&db.url).await;
    let storage = tempfile::tempdir().expect("storage dir");
    let logs = tempfile::tempdir().expect("log dir");
    let (paths, export_size) =
        write_exports(storage.path(), settings.exports, &settings.export_kind);
    let mut db_url = db.url.clone();
    if !settings.daemon_pg_options.is_empty() {
        let separator = if db_url.contains('?') { '&' } else { '?' };
        let options: String = settings
            .daemon_pg_options
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        db_url = format!("{db_url}{separator}options={options}");
    }
    let env = DaemonEnv {
        db_url,
        storage_dir: storage.path().to_owned(),
        log_dir: match &settings.log_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).expect("create FULLPASS_BENCH_LOG_DIR");
                dir.clone()
            }
            None => logs.path().to_owned(),
        },
        log_filter: settings.daemon_log.clone(),
        sweep_interval: settings.sweep_interval.clone(),
    };
    eprintln!("dispatch benchmark on database {}", db.name);
    eprintln!("  server: {}", server_context(&client).await);
    eprintln!(
        "  {} {} exports of {} bytes (gzip); daemons: FULLPASS_LOG={}, FULLPASS_SWEEP_INTERVAL={}{}",
        settings.exports,
        settings.export_kind,
        export_size,
        settings.daemon_log,
        settings.sweep_interval,
        if settings.daemon_pg_options.is_empty() {
            String::new()
        } else {
            format!(", session options {:?}", settings.daemon_pg_options)
        }
    );
    let bench = Bench {
        settings,
        db,
        env,
        paths,
        client,
    };
    let mut results = Results {
        profile: None,
        latency: vec![],
        drains: vec![],
        sustained: vec![],
    };

    let backlog = provision(&bench.client, &bench.paths, bench.settings.backlog).await;
    if bench.settings.profile_jobs > 0 {
        eprintln!("statement profile ({} claimable rows)", backlog.len());
        let profile = profile_statements(&bench, &backlog).await;
        eprintln!(
            "  claim_next p50/p99/max {:.3}/{:.3}/{:.3} ms, complete {:.3}/{:.3}/{:.3} ms ({} jobs)",
            profile.claim.p50,
            profile.claim.p99,
            profile.claim.max,
            profile.complete.p50,
            profile.complete.p99,
            profile.complete.max,
            profile.complete.n
        );
        if let Some(plan) = &profile.plan {
            eprintln!("  claim plan (auto_explain, analyze, buffers):");
            for line in plan.lines() {
                eprintln!("    {line}");
            }
        }
        results.profile = Some(profile);
    }

    for &concurrency in &bench.settings.concurrencies.clone() {
        eprintln!("FULLPASS_CONCURRENCY={concurrency}");
        let result = latency(&bench, concurrency).await;
        eprintln!(
            "  latency ({} samples, 1 daemon): written→claim p50/p99/max {:.2}/{:.2}/{:.2} ms; \
             acked→claim {:.2}/{:.2}/{:.2} ms; requested_at→claim {:.2}/{:.2} ms; \
             app commit {:.2}/{:.2} ms; job {:.2}/{:.2} ms; failed {}, never finished {}; {}",
            result.written_to_claim.n,
            result.written_to_claim.p50,
            result.written_to_claim.p99,
            result.written_to_claim.max,
            result.acked_to_claim.p50,
            result.acked_to_claim.p99,
            result.acked_to_claim.max,
            result.requested_to_claim.p50,
            result.requested_to_claim.p99,
            result.app_commit.p50,
            result.app_commit.p99,
            result.job.p50,
            result.job.p99,
            result.failed,
            result.missing,
            log_note(&result.logs)
        );
        results.latency.push(result);

        for &replicas in &bench.settings.replicas.clone() {
            let result = drain(&bench, &backlog, replicas, concurrency).await;
            eprintln!(
                "  drain {} rows, {} replica(s): {:.2} s = {:.0} jobs/s{}; first claim after {:.1} ms; \
                 job claim→complete p50/p99 {:.1}/{:.1} ms; complete {}, failed {}; \
                 CPU per job: daemon {:.2} ms, its PostgreSQL backends {:.2} ms; machine busy {:.0}%; \
                 daemon sessions: {}; {}",
                result.jobs,
                result.replicas,
                result.seconds,
                result.rate(),
                if result.timed_out { " (TIMED OUT)" } else { "" },
                result.first_claim_ms,
                result.job_ms.p50,
                result.job_ms.p99,
                result.complete,
                result.failed,
                result.cpu_per_job_ms().0,
                result.cpu_per_job_ms().1,
                result.cpu.machine_busy * 100.0,
                result.waits.describe(),
                log_note(&result.logs)
            );
            results.drains.push(result);
        }

        let warmup = provision(&bench.client, &bench.paths, 10).await;
        let label = format!("sustained-c{concurrency}");
        let fleet = Fleet::start(&bench.env, &bench.client, &label, 1, concurrency, &warmup).await;
        for notify in [true, false] {
            let result = sustained(&bench, concurrency, notify, None).await;
            print_sustained(&result);
            results.sustained.push(result);
        }
        if bench.settings.paced_rate > 0 {
            let result =
                sustained(&bench, concurrency, true, Some(bench.settings.paced_rate)).await;
            print_sustained(&result);
            results.sustained.push(result);
        }
        let logs = fleet.stop(&bench.client).await;
        delete_rows(&bench.client, &warmup).await;
        eprintln!("  sustained: {}", log_note(&logs));
    }

    println!("\n{}", markdown(&bench.settings, &results));
    eprintln!(
        "total benchmark time {:.0} s",
        begun.elapsed().as_secs_f64()
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run());
}
