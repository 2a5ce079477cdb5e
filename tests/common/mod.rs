//! Test support: every test gets its own fresh database on a real PostgreSQL.
//!
//! The server is `FULLPASS_TEST_DATABASE_URL`, else `DATABASE_URL`, else the local
//! server at 127.0.0.1:5432 (user postgres). When that server does not answer,
//! one throwaway cluster is started for the whole test binary (see
//! `fullpass::devdb`); it is cleaned up when the binary exits.
#![allow(dead_code)]

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The server the configuration names, whether or not it answers.
fn configured_url() -> String {
    std::env::var("FULLPASS_TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Whether a server accepts a connection at `url` within a couple of seconds.
/// Runs on its own thread and runtime: callers may be inside a runtime.
fn answers(url: &str) -> bool {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return false;
        };
        rt.block_on(async move {
            let connect = tokio_postgres::connect(&url, tokio_postgres::NoTls);
            matches!(
                tokio::time::timeout(Duration::from_secs(3), connect).await,
                Ok(Ok(_))
            )
        })
    })
    .join()
    .unwrap_or(false)
}

static SERVER_URL: OnceLock<String> = OnceLock::new();
static THROWAWAY: OnceLock<fullpass::devdb::DevPostgres> = OnceLock::new();

/// The maintenance URL of the server tests run against.
pub fn server_url() -> String {
    SERVER_URL
        .get_or_init(|| {
            let configured = configured_url();
            if answers(&configured) {
                return configured;
            }
            let cluster = THROWAWAY.get_or_init(|| {
                fullpass::devdb::DevPostgres::start_blocking(
                    fullpass::devdb::DevPostgresOptions::new(),
                )
                .unwrap_or_else(|e| {
                    panic!("no PostgreSQL answers at {configured} and a throwaway one failed: {e}")
                })
            });
            eprintln!(
                "tests: no PostgreSQL answers at the configured URL; using a throwaway cluster on port {}",
                cluster.port()
            );
            cluster.url("postgres")
        })
        .clone()
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A database created for one test and dropped when it ends.
pub struct TestDb {
    pub name: String,
    pub url: String,
    server: String,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let server = server_url();
        let name = format!(
            "fullpass_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            uuid::Uuid::new_v4()
                .simple()
                .to_string()
                .get(..8)
                .unwrap_or("x")
        );
        let (client, conn) = tokio_postgres::connect(&server, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {server}: {e}"));
        tokio::spawn(conn);
        client
            .batch_execute(&format!("create database {name}"))
            .await
            .expect("create test database");
        let url = fullpass::db::url_with_dbname(&server, &name);
        TestDb { name, url, server }
    }

    /// A plain connection to the test database.
    pub async fn client(&self) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .expect("connect to test database");
        tokio::spawn(conn);
        client
    }

    pub fn config(&self) -> fullpass::db::DbConfig {
        fullpass::db::DbConfig::from_url(&self.url).expect("test database URL")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop on a separate thread with its own runtime: Drop can run inside a runtime.
        let server = self.server.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok((client, conn)) =
                    tokio_postgres::connect(&server, tokio_postgres::NoTls).await
                {
                    tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("drop database if exists {name} with (force)"))
                        .await;
                }
            });
        })
        .join();
    }
}

pub mod daemon;
pub mod export;
pub mod storage_server;
pub mod tcp_proxy;
pub mod webhook;

use std::time::Instant;

/// Applies fullpass's migrations to the test database.
pub async fn migrated() -> TestDb {
    let db = TestDb::new().await;
    fullpass::db::migrate(&db.config()).await.expect("migrate");
    db
}

/// Inserts a profile row (status may be None).
pub async fn insert_profile(
    client: &tokio_postgres::Client,
    storage_path: Option<&str>,
    status: Option<&str>,
) -> uuid::Uuid {
    let id = uuid::Uuid::new_v4();
    client
        .execute(
            "insert into user_profiles (user_id, storage_path, full_pass_status) values ($1, $2, $3)",
            &[&id, &storage_path, &status],
        )
        .await
        .expect("insert profile");
    id
}

/// A row's queue state.
#[derive(Debug, Clone)]
pub struct Row {
    pub status: Option<String>,
    pub error: Option<String>,
    pub memory_md: Option<String>,
    pub memory_facts: Option<serde_json::Value>,
    pub attempts: i32,
    pub rescues: i32,
    pub stats: Option<serde_json::Value>,
}

pub async fn row(client: &tokio_postgres::Client, user_id: uuid::Uuid) -> Row {
    let r = client
        .query_one(
            "select full_pass_status, full_pass_error, memory_md, memory_facts,
                    full_pass_attempts, full_pass_rescues, full_pass_stats
               from user_profiles where user_id = $1",
            &[&user_id],
        )
        .await
        .expect("read row");
    Row {
        status: r.get(0),
        error: r.get(1),
        memory_md: r.get(2),
        memory_facts: r.get(3),
        attempts: r.get(4),
        rescues: r.get(5),
        stats: r.get(6),
    }
}

/// Polls the row until its status is one of `statuses`.
pub async fn wait_for_status(
    client: &tokio_postgres::Client,
    user_id: uuid::Uuid,
    statuses: &[&str],
    timeout: Duration,
) -> Row {
    let start = Instant::now();
    loop {
        let r = row(client, user_id).await;
        if r.status.as_deref().is_some_and(|s| statuses.contains(&s)) {
            return r;
        }
        assert!(
            start.elapsed() < timeout,
            "row {user_id} never reached {statuses:?}: {r:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A temporary local store holding the sample export (plain JSON) at `path`.
pub fn sample_store(path: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("storage dir");
    put_export(
        dir.path(),
        path,
        &export::conversations_json(&export::sample_export()),
    );
    dir
}

/// Writes `bytes` at `storage_dir/path` (creating directories).
pub fn put_export(storage_dir: &std::path::Path, path: &str, bytes: &[u8]) {
    let full = storage_dir.join(path);
    if let Some(parent) = full.parent() {
        std::fs::create_dir_all(parent).expect("create storage dirs");
    }
    std::fs::write(full, bytes).expect("write export");
}
