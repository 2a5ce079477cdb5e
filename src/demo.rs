//! `fullpass demo`: the whole path once, on a sample export — migrate, seed a
//! user whose export sits in a temporary local store, let the daemon process
//! it, print the MEMORY it wrote.

use crate::config::ListenMode;
use crate::daemon::{self, DaemonSettings};
use crate::db::DbConfig;
use crate::storage::{LocalStorage, Storage};
use crate::worker::JobSettings;
use std::io::Write;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// A small ChatGPT export about a made-up user, with a story request, a pasted
/// API key and an abandoned branch that must not reach the MEMORY.
const SAMPLE_EXPORT: &str = include_str!("demo_export.json");

const DEMO_DB: &str = "fullpass_demo";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error(transparent)]
    Daemon(#[from] daemon::DaemonError),
    #[error("the demo job ended {status}: {error}")]
    JobFailed { status: String, error: String },
    #[error("the demo job did not finish within {0:?}")]
    Timeout(Duration),
}

fn setup(context: &str) -> impl FnOnce(std::io::Error) -> DemoError + '_ {
    move |e| DemoError::Setup(format!("{context}: {e}"))
}

/// Runs the demo against the server at `server_url` (a maintenance database URL),
/// in a database of its own, and returns the MEMORY it wrote.
pub async fn run(server_url: &str) -> Result<String, DemoError> {
    let admin = DbConfig::from_url(server_url)?.connect().await?;
    for statement in [
        format!("drop database if exists {DEMO_DB} with (force)"),
        format!("create database {DEMO_DB}"),
    ] {
        admin
            .batch_execute(&statement)
            .await
            .map_err(crate::db::DbError::pg("creating the demo database"))?;
    }
    let db = DbConfig::from_url(&crate::db::url_with_dbname(server_url, DEMO_DB))?;

    let storage = tempfile_dir()?;
    // The user's own folder, as the default storage path rule wants.
    let user_id = uuid::Uuid::new_v4();
    let export_path = format!("imports/{user_id}/conversations.json.gz");
    let file = storage.join(&export_path);
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent).map_err(setup("creating the demo store"))?;
    }
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&file).map_err(setup("writing the sample export"))?,
        flate2::Compression::default(),
    );
    gz.write_all(SAMPLE_EXPORT.as_bytes())
        .and_then(|_| gz.finish().map(|_| ()))
        .map_err(setup("writing the sample export"))?;

    crate::db::migrate(&db).await?;
    let client = db.connect().await?;
    client
        .execute(
            "insert into public.user_profiles (user_id, storage_path, full_pass_status)
             values ($1, $2, 'pending')",
            &[&user_id, &export_path],
        )
        .await
        .map_err(crate::db::DbError::pg("seeding the demo user"))?;

    let settings = DaemonSettings {
        db: db.clone(),
        worker_id: "demo".to_owned(),
        concurrency: 1,
        sweep_interval: Duration::from_secs(1),
        listen_mode: ListenMode::Auto,
        shutdown_grace: Duration::from_secs(5),
        migrate: false,
        http_addr: None,
        job: JobSettings {
            storage: Storage::Local(LocalStorage::new(&storage)),
            storage_paths: Default::default(),
            limits: Default::default(),
            extract: Default::default(),
            lease: Duration::from_secs(20),
            max_attempts: 1,
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(1),
            job_timeout: Duration::from_secs(60),
            alert_webhook_url: None,
            llm: None,
        },
    };
    let shutdown = CancellationToken::new();
    let daemon = tokio::spawn(daemon::run(settings, shutdown.clone()));

    let limit = Duration::from_secs(60);
    let started = Instant::now();
    let outcome = loop {
        let row = client
            .query_one(
                "select full_pass_status, coalesce(full_pass_error, ''), coalesce(memory_md, '')
                   from public.user_profiles where user_id = $1",
                &[&user_id],
            )
            .await
            .map_err(crate::db::DbError::pg("reading the demo row"))?;
        let status: Option<String> = row.get(0);
        match status.as_deref() {
            Some("complete") => break Ok(row.get::<_, String>(2)),
            Some("failed") => {
                break Err(DemoError::JobFailed {
                    status: "failed".to_owned(),
                    error: row.get(1),
                });
            }
            _ if started.elapsed() > limit => break Err(DemoError::Timeout(limit)),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    shutdown.cancel();
    match daemon.await {
        Ok(result) => result?,
        Err(e) => return Err(DemoError::Setup(format!("daemon task: {e}"))),
    }
    let _ = std::fs::remove_dir_all(&storage);
    outcome
}

/// Where the demo runs: `configured` if given; else the local server if it
/// answers; else a throwaway cluster from the installed PostgreSQL binaries
/// (kept alive by the returned handle).
pub async fn find_server(
    configured: Option<String>,
) -> Result<(String, Option<crate::devdb::DevPostgres>), DemoError> {
    if let Some(url) = configured {
        return Ok((url, None));
    }
    let local = "postgres://postgres@127.0.0.1:5432/postgres";
    let reachable = match DbConfig::from_url(local) {
        Ok(config) => matches!(
            tokio::time::timeout(Duration::from_secs(3), config.connect()).await,
            Ok(Ok(_))
        ),
        Err(_) => false,
    };
    if reachable {
        return Ok((local.to_owned(), None));
    }
    tracing::info!("no PostgreSQL answers on 127.0.0.1:5432; starting a throwaway cluster");
    let cluster = crate::devdb::DevPostgres::start(crate::devdb::DevPostgresOptions::new())
        .await
        .map_err(|e| DemoError::Setup(format!("starting a throwaway PostgreSQL: {e}")))?;
    Ok((cluster.url("postgres"), Some(cluster)))
}

fn tempfile_dir() -> Result<std::path::PathBuf, DemoError> {
    let dir = std::env::temp_dir().join(format!("fullpass-demo-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).map_err(setup("creating the demo store"))?;
    Ok(dir)
}
