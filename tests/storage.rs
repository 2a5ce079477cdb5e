//! Storage attacked: endless error bodies, redirects, FIFOs, symbolic links,
//! paths into another user's folder, servers that echo the key.

mod common;

use common::daemon::DaemonProcess;
use common::storage_server::{Behaviour, StorageServer};
use common::{insert_profile, migrated, put_export, row, sample_store, wait_for_status};
use fullpass::storage::{LocalStorage, Storage, StorageError, SupabaseStorage};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(40);

fn supabase(server: &StorageServer) -> Storage {
    // The daemon's default timeouts: the endless body must be cut by size, not time.
    let timeout = Duration::from_secs(30);
    Storage::Supabase(SupabaseStorage::new(&server.url, &server.key, timeout, timeout).unwrap())
}

/// Opens `path` on its own thread and runtime, so that an open blocking its
/// thread (the failure under test) cannot stop the test from timing out.
fn open_with_deadline(
    storage: Storage,
    path: &str,
    deadline: Duration,
) -> Option<Result<Vec<u8>, StorageError>> {
    let (done, result) = std::sync::mpsc::channel();
    let path = path.to_owned();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let opened = rt.block_on(async {
            use tokio::io::AsyncReadExt;
            let mut stream = storage.open(&path).await?;
            let mut bytes = Vec::new();
            stream
                .body
                .read_to_end(&mut bytes)
                .await
                .map_err(|source| StorageError::Io {
                    path: path.clone(),
                    source,
                })?;
            Ok(bytes)
        });
        let _ = done.send(opened);
    });
    result.recv_timeout(deadline).ok()
}

// The test thread waits on the opening thread; the server needs a thread of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_error_body_is_cut_short_and_reported_as_transient() {
    let server = StorageServer::start().await;
    server.script("imports/u/e.json", vec![Behaviour::EndlessError(500)]);
    let started = Instant::now();
    let result = open_with_deadline(
        supabase(&server),
        "imports/u/e.json",
        Duration::from_secs(10),
    )
    .expect("open did not return within 10s: the error body was read to its (missing) end");
    let error = result.expect_err("a 500 was accepted");
    assert!(
        matches!(error, StorageError::Http { status: 500, .. }),
        "{error}"
    );
    assert!(error.is_transient(), "{error}");
    let message = error.to_string();
    assert!(message.contains("HTTP 500"), "{message}");
    // The message quotes at most the start of the body.
    assert!(
        message.len() < 500,
        "{} bytes: {message:.300}",
        message.len()
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_not_followed_so_the_key_never_leaves_the_storage_host() {
    let server = StorageServer::start().await;
    let elsewhere = StorageServer::start().await;
    let target = format!("{}/storage/v1/object/imports/u/e.json", elsewhere.url);
    elsewhere.put("imports/u/e.json", b"[]".to_vec());
    server.script("imports/u/e.json", vec![Behaviour::Redirect(target)]);
    let result = open_with_deadline(
        supabase(&server),
        "imports/u/e.json",
        Duration::from_secs(10),
    )
    .expect("open did not return");
    let error = result.expect_err("the redirect was followed and its answer accepted");
    assert!(
        matches!(error, StorageError::Http { status: 302, .. }),
        "{error}"
    );
    assert!(!error.is_transient(), "{error}");
    assert!(error.to_string().contains("redirect"), "{error}");
    assert_eq!(elsewhere.total_requests(), 0, "the redirect was followed");
    assert!(
        !elsewhere
            .header_values()
            .iter()
            .any(|v| v.contains(&server.key))
    );
}

fn mkfifo(path: &std::path::Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

#[test]
fn a_fifo_in_the_local_store_is_refused_without_blocking() {
    let dir = sample_store("imports/u/e.json");
    mkfifo(&dir.path().join("imports/u/pipe.json"));
    let storage = Storage::Local(LocalStorage::new(dir.path()));
    let result = open_with_deadline(
        storage.clone(),
        "imports/u/pipe.json",
        Duration::from_secs(5),
    )
    .expect("opening a FIFO blocked");
    let error = result.expect_err("a FIFO was read");
    assert!(
        matches!(error, StorageError::Refused { .. }) && !error.is_transient(),
        "{error}"
    );
    assert!(error.to_string().contains("FIFO"), "{error}");
    // A socket is refused for good too (not retried as an I/O error).
    let _socket =
        std::os::unix::net::UnixListener::bind(dir.path().join("imports/u/sock.json")).unwrap();
    let result = open_with_deadline(
        storage.clone(),
        "imports/u/sock.json",
        Duration::from_secs(5),
    )
    .expect("opening a socket blocked");
    let error = result.expect_err("a socket was read");
    assert!(
        matches!(error, StorageError::Refused { .. }) && !error.is_transient(),
        "{error}"
    );
    // A regular file next to it still opens.
    let bytes = open_with_deadline(storage, "imports/u/e.json", Duration::from_secs(5))
        .expect("open blocked")
        .expect("a regular file was refused");
    assert!(!bytes.is_empty());
}

#[test]
fn symbolic_links_out_of_the_local_store_are_refused() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.json"), b"[]").unwrap();
    let dir = sample_store("imports/u/e.json");
    let user = dir.path().join("imports/u");
    std::os::unix::fs::symlink(
        outside.path().join("secret.json"),
        user.join("file-link.json"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path(), user.join("dir-link")).unwrap();
    let storage = Storage::Local(LocalStorage::new(dir.path()));
    for path in ["imports/u/file-link.json", "imports/u/dir-link/secret.json"] {
        let result = open_with_deadline(storage.clone(), path, Duration::from_secs(5))
            .expect("open blocked");
        let error = result.expect_err(&format!("{path} was read through a link"));
        assert!(
            matches!(error, StorageError::Refused { .. }) && !error.is_transient(),
            "{path}: {error}"
        );
        assert!(error.to_string().contains("symbolic link"), "{error}");
    }
    // The store's own root may be a link (the operator chose it).
    let linked_root = outside.path().join("store-link");
    std::os::unix::fs::symlink(dir.path(), &linked_root).unwrap();
    let through_root = Storage::Local(LocalStorage::new(&linked_root));
    open_with_deadline(through_root, "imports/u/e.json", Duration::from_secs(5))
        .expect("open blocked")
        .expect("a store whose root is a link was refused");
}

#[tokio::test]
async fn a_fifo_export_fails_its_row_and_the_next_job_still_runs() {
    let db = migrated().await;
    let dir = sample_store("imports/u/e.json");
    mkfifo(&dir.path().join("imports/u/pipe.json"));
    let c = db.client().await;
    let daemon = DaemonProcess::spawn(&db.url, dir.path(), &[("FULLPASS_CONCURRENCY", "1")]);
    let fifo = insert_profile(&c, Some("imports/u/pipe.json"), Some("pending")).await;
    let r = wait_for_status(&c, fifo, &["complete", "failed"], WAIT).await;
    assert_eq!(r.status.as_deref(), Some("failed"), "{r:?}");
    let error = r.error.unwrap_or_default();
    assert!(
        error.contains("FIFO") && error.contains("not a regular file"),
        "{error}"
    );
    let next = insert_profile(&c, Some("imports/u/e.json"), Some("pending")).await;
    let r = wait_for_status(&c, next, &["complete", "failed"], WAIT).await;
    assert_eq!(
        r.status.as_deref(),
        Some("complete"),
        "{r:?}\n{}",
        daemon.log()
    );
}

/// The daemon's own storage path rule (the harness turns it off by default).
const DEFAULT_RULE: &[(&str, &str)] = &[
    ("FULLPASS_STORAGE_PATH_TEMPLATE", ""),
    ("FULLPASS_STORAGE_BUCKETS", ""),
];

#[tokio::test]
async fn by_default_a_row_reads_only_its_own_folder_of_an_allowed_bucket() {
    let db = migrated().await;
    let c = db.client().await;
    let dir = tempfile::tempdir().unwrap();
    let export = common::export::conversations_json(&common::export::sample_export());
    // The victim's export, and the attacker's row pointing at it.
    let victim = insert_profile(&c, None, None).await;
    let victim_path = format!("imports/{victim}/e.json");
    put_export(dir.path(), &victim_path, &export);
    let attacker = insert_profile(&c, None, None).await;
    let own_path = format!("imports/{attacker}/e.json");
    put_export(dir.path(), &own_path, &export);
    let other_bucket = format!("private/{attacker}/e.json");
    put_export(dir.path(), &other_bucket, &export);
    let _daemon = DaemonProcess::spawn(&db.url, dir.path(), DEFAULT_RULE);

    let set_pending = async |path: &str| {
        c.execute(
            "update user_profiles set storage_path = $2, full_pass_status = 'pending' where user_id = $1",
            &[&attacker, &path],
        )
        .await
        .unwrap();
        wait_for_status(&c, attacker, &["complete", "failed"], WAIT).await
    };
    let r = set_pending(&victim_path).await;
    assert_eq!(r.status.as_deref(), Some("failed"), "{r:?}");
    assert!(
        r.memory_md.is_none(),
        "another user's export was read: {r:?}"
    );
    let error = r.error.unwrap_or_default();
    assert!(
        error.contains("must lie under imports/<user_id>/ (FULLPASS_STORAGE_PATH_TEMPLATE)"),
        "{error}"
    );
    let r = set_pending(&other_bucket).await;
    assert_eq!(r.status.as_deref(), Some("failed"), "{r:?}");
    let error = r.error.unwrap_or_default();
    assert!(error.contains("(FULLPASS_STORAGE_BUCKETS)"), "{error}");
    let r = set_pending(&own_path).await;
    assert_eq!(r.status.as_deref(), Some("complete"), "{r:?}");
    assert_eq!(row(&c, victim).await.status, None);
}

#[tokio::test]
async fn a_key_echoed_by_storage_reaches_neither_the_row_the_log_nor_the_alert() {
    let webhook = common::webhook::Webhook::start().await;
    let hook = webhook.url.clone();

    let db = migrated().await;
    let c = db.client().await;
    let server = StorageServer::start().await;
    let user = insert_profile(&c, None, None).await;
    let path = format!("imports/{user}/private-plans.json");
    server.script(&path, vec![Behaviour::EchoHeaders(403)]);
    let dir = tempfile::tempdir().unwrap();
    let server_env = server.env();
    let mut env: Vec<(&str, &str)> = server_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("ALERT_WEBHOOK_URL", hook.as_str()));
    env.extend_from_slice(DEFAULT_RULE);
    let daemon = DaemonProcess::spawn(&db.url, dir.path(), &env);
    c.execute(
        "update user_profiles set storage_path = $2, full_pass_status = 'pending' where user_id = $1",
        &[&user, &path],
    )
    .await
    .unwrap();
    let r = wait_for_status(&c, user, &["complete", "failed"], WAIT).await;
    assert_eq!(r.status.as_deref(), Some("failed"), "{r:?}");
    assert_eq!(server.requests(&path), 1);
    let error = r.error.unwrap_or_default();
    assert!(
        error.contains("HTTP 403") && error.contains("***"),
        "{error}"
    );
    assert!(
        !error.contains(&server.key),
        "the key is on the row: {error}"
    );
    let alert = webhook.first().await;
    assert!(
        alert.contains(&user.to_string()) && alert.contains("HTTP 403"),
        "{alert}"
    );
    assert!(
        !alert.contains(&server.key),
        "the key is in the alert: {alert}"
    );
    assert!(
        !alert.contains("private-plans"),
        "the path is in the alert: {alert}"
    );
    daemon
        .wait_for_log("full pass failed", Duration::from_secs(10))
        .await;
    let log = daemon.log();
    assert!(!log.contains(&server.key), "the key is in the log:\n{log}");
}
