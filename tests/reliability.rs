//! Faults injected into real processes: a full pass is never lost, stuck or done twice.

mod common;

use common::daemon::DaemonProcess;
use common::export::{TestConversation, conversations_json, gzip, sample_export};
use common::storage_server::{Behaviour, StorageServer};
use common::{TestDb, insert_profile, migrated, row, sample_store, wait_for_status};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(40);

fn env_of(
    server: &StorageServer,
    extra: &[(&'static str, &'static str)],
) -> Vec<(&'static str, String)> {
    let mut env = server.env();
    env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    env
}

fn spawn(db: &TestDb, dir: &std::path::Path, env: &[(&'static str, String)]) -> DaemonProcess {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    DaemonProcess::spawn(&db.url, dir, &env)
}

async fn install_audit(c: &tokio_postgres::Client) {
    c.batch_execute(
        "create table audit (user_id uuid, status text, attempt int, at timestamptz default clock_timestamp());
         create function audit_row() returns trigger language plpgsql as $$
         begin
             insert into audit (user_id, status, attempt)
             values (new.user_id, new.full_pass_status, new.full_pass_attempts);
             return null;
         end $$;
         create trigger audit after update of full_pass_status on user_profiles
             for each row execute function audit_row();",
    )
    .await
    .unwrap();
}

/// The one number a `select count(*) …` returns.
async fn count(c: &tokio_postgres::Client, sql: &str) -> i64 {
    c.query_one(sql, &[]).await.unwrap().get(0)
}

async fn audit_count(c: &tokio_postgres::Client, status: &str) -> i64 {
    c.query_one("select count(*) from audit where status = $1", &[&status])
        .await
        .unwrap()
        .get(0)
}

/// An export big enough to trickle slowly (a few hundred KB uncompressed is plenty).
fn slow_export() -> Vec<u8> {
    let mut conversations = sample_export();
    for i in 0..200 {
        conversations.push(TestConversation::new(
            &format!("Filler {i}"),
            "2024-06-01",
            &[(
                "Can you explain how tides work?",
                "The moon's gravity pulls the oceans...",
            )],
        ));
    }
    conversations_json(&conversations)
}

/// Stores a slow export at `path` whose first download crawls (`chunk` bytes
/// every `every`); later downloads are served at once.
fn crawl_first_download(server: &StorageServer, path: &str, chunk: usize, every: Duration) {
    server.put(path, slow_export());
    server.script(path, vec![Behaviour::Trickle { chunk, every }]);
}

async fn wait_processing_by(c: &tokio_postgres::Client, id: uuid::Uuid) {
    wait_for_status(c, id, &["processing"], WAIT).await;
}

/// Waits until the row is processing and its worker has asked storage for the
/// export: the claim commits a moment before the download starts, and a test
/// that stops the worker in between would leave the first download (the slow
/// one) to the next worker.
async fn wait_downloading(
    c: &tokio_postgres::Client,
    id: uuid::Uuid,
    server: &StorageServer,
    path: &str,
) {
    wait_processing_by(c, id).await;
    let start = Instant::now();
    while server.requests(path) == 0 {
        assert!(start.elapsed() < WAIT, "{path} was never downloaded");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_killed_daemons_job_is_rescued_and_completed_by_another() {
    let db = migrated().await;
    let server = StorageServer::start().await;
    let path = "imports/kill/export.json";
    // The first download crawls; later ones are served at once.
    crawl_first_download(&server, path, 1024, Duration::from_millis(200));
    let c = db.client().await;
    let dir = tempfile::tempdir().unwrap();
    let env = env_of(&server, &[]);
    let mut a = spawn(&db, dir.path(), &env);
    a.wait_for_log("fullpass is running", WAIT).await;
    let id = insert_profile(&c, Some(path), Some("pending")).await;
    wait_downloading(&c, id, &server, path).await;
    a.kill9();
    let killed_at = Instant::now();

    let _b = spawn(&db, dir.path(), &env);
    let r = wait_for_status(&c, id, &["complete", "failed"], WAIT).await;
    assert_eq!(r.status.as_deref(), Some("complete"), "{r:?}");
    // Lease 2s + sweep 0.3s (test settings): well under the 30s default bound.
    assert!(
        killed_at.elapsed() < Duration::from_secs(15),
        "took {:?}",
        killed_at.elapsed()
    );
    assert_eq!((r.attempts, r.rescues), (2, 1), "{r:?}");
    assert_eq!(server.requests(path), 2);
}

#[tokio::test]
async fn the_listener_reconnects_after_its_backend_is_terminated() {
    let db = migrated().await;
    let storage = sample_store("b/e.json");
    let c = db.client().await;
    // No backstop sweep during the test: only notifications and reconnect sweeps find work.
    let daemon = DaemonProcess::spawn(
        &db.url,
        storage.path(),
        &[("FULLPASS_SWEEP_INTERVAL", "1h")],
    );
    daemon.wait_for_log("fullpass is running", WAIT).await;

    let killed: i64 = c
        .query_one(
            "select count(*) from (select pg_terminate_backend(pid) from pg_stat_activity
              where datname = current_database() and application_name = 'fullpass-listener') t",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(killed, 1);
    // Made pending while the listener is down: found by the sweep after reconnecting.
    let during = insert_profile(&c, Some("b/e.json"), Some("pending")).await;
    daemon.wait_for_log("listener reconnected", WAIT).await;
    let r = wait_for_status(&c, during, &["complete", "failed"], WAIT).await;
    assert_eq!(r.status.as_deref(), Some("complete"));

    // Made pending after reconnecting: the notification is delivered promptly.
    let after = insert_profile(&c, Some("b/e.json"), Some("pending")).await;
    let start = Instant::now();
    let r = wait_for_status(&c, after, &["complete", "failed"], WAIT).await;
    assert_eq!(r.status.as_deref(), Some("complete"));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn jobs_survive_every_daemon_connection_being_terminated() {
    let db = migrated().await;
    let server = StorageServer::start().await;
    let c = db.client().await;
    let mut ids = Vec::new();
    for i in 0..4 {
        let path = format!("imports/t{i}.json");
        crawl_first_download(&server, &path, 16 * 1024, Duration::from_millis(100));
        ids.push(insert_profile(&c, Some(&path), Some("pending")).await);
    }
    let dir = tempfile::tempdir().unwrap();
    let _d = spawn(&db, dir.path(), &env_of(&server, &[]));
    for id in &ids {
        wait_processing_by(&c, *id).await;
    }
    let killed: i64 = c
        .query_one(
            "select count(*) from (select pg_terminate_backend(pid) from pg_stat_activity
              where datname = current_database() and application_name like 'fullpass%') t",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(killed >= 2, "terminated {killed} backends");
    for id in ids {
        let r = wait_for_status(&c, id, &["complete", "failed"], WAIT).await;
        assert_eq!(r.status.as_deref(), Some("complete"), "{r:?}");
    }
}

#[tokio::test]
async fn transient_storage_errors_are_retried_then_succeed() {
    let db = migrated().await;
    let server = StorageServer::start().await;
    let path = "imports/flaky.json.gz";
    server.put(path, gzip(&conversations_json(&sample_export())));
    server.script(path, vec![Behaviour::Status(500), Behaviour::Hang]);
    let c = db.client().await;
    let dir = tempfile::tempdir().unwrap();
    let _d = spawn(
        &db,
        dir.path(),
        &env_of(&server, &[("FULLPASS_STORAGE_TIMEOUT", "500ms")]),
    );
    let id = insert_profile(&c, Some(path), Some("pending")).await;
    let r = wait_for_status(&c, id, &["complete", "failed"], WAIT).await;
    assert_eq!(r.status.as_deref(), Some("complete"), "{r:?}");
    assert_eq!(r.attempts, 3);
    assert_eq!(r.error, None);
    assert_eq!(server.requests(path), 3);
}

#[tokio::test]
async fn persistent_storage_errors_fail_after_max_attempts_with_the_last_error() {
    let db = migrated().await;
    let server = StorageServer::start().await;
    server.set_default(Behaviour::Status(503));
    let c = db.client().await;
    install_audit(&c).await;
    let dir = tempfile::tempdir().unwrap();
    let _d = spawn(
        &db,
        dir.path(),
        &env_of(&server, &[("FULLPASS_MAX_ATTEMPTS", "3")]),
    );
    let id = insert_profile(&c, Some("imports/down.json.gz"), Some("pending")).await;
    let r = wait_for_status(&c, id, &["complete", "failed"], WAIT).await;
    assert_eq!(r.status.as_deref(), Some("failed"), "{r:?}");
    assert_eq!(r.attempts, 3);
    let error = r.error.unwrap();
    assert!(
        error.contains("503") && error.contains("3 attempts"),
        "{error}"
    );
    assert_eq!(server.requests("imports/down.json.gz"), 3);
    // While waiting to retry, the row was pending (the app's statuses only).
    assert_eq!(audit_count(&c, "pending").await, 2);
}

#[tokio::test]
async fn a_rescued_worker_that_finishes_late_cannot_overwrite_the_rescuers_result() {
    let db = migrated().await;
    let server = StorageServer::start().await;
    let path = "imports/late.json";
    // The first worker gets the old export, slowly.
    crawl_first_download(&server, path, 64 * 1024, Duration::from_millis(300));
    let c = db.client().await;
    install_audit(&c).await;
    let dir = tempfile::tempdir().unwrap();
    let env = env_of(&server, &[("FULLPASS_LEASE", "1s")]);
    let a = spawn(&db, dir.path(), &env);
    let id = insert_profile(&c, Some(path), Some("pending")).await;
    wait_downloading(&c, id, &server, path).await;
    // Freeze the first worker: it stops renewing, its claim is rescued.
    a.signal(libc::SIGSTOP);
    let mut fresh = vec![TestConversation::new(
        "Moving",
        "2025-01-10",
        &[(
            "I just moved to Bergen, I live in Bergen now.",
            "Welcome to Bergen!",
        )],
    )];
    fresh[0].about_user = Some("I'm a harbour pilot.".to_owned());
    server.put(path, conversations_json(&fresh));
    let b = spawn(&db, dir.path(), &env);
    let r = wait_for_status(&c, id, &["complete"], WAIT).await;
    let rescuers_memory = r.memory_md.clone();
    assert_eq!((r.attempts, r.rescues), (2, 1), "{r:?}");
    drop(b);
    // Let the first worker finish its (stale) pass: nothing it writes may land.
    a.signal(libc::SIGCONT);
    a.wait_for_log("claim lost", WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = row(&c, id).await;
    assert_eq!(r.status.as_deref(), Some("complete"));
    assert_eq!(r.memory_md, rescuers_memory);
    assert_eq!(audit_count(&c, "complete").await, 1);
}

#[tokio::test]
async fn sigterm_releases_a_running_job_without_charging_an_attempt() {
    let db = migrated().await;
    let server = StorageServer::start().await;
    let path = "imports/deploy.json";
    crawl_first_download(&server, path, 1024, Duration::from_millis(200));
    let c = db.client().await;
    let dir = tempfile::tempdir().unwrap();
    let mut a = spawn(
        &db,
        dir.path(),
        &env_of(&server, &[("FULLPASS_SHUTDOWN_GRACE", "1s")]),
    );
    let id = insert_profile(&c, Some(path), Some("pending")).await;
    wait_downloading(&c, id, &server, path).await;
    a.signal(libc::SIGTERM);
    let status = a
        .wait_exit(Duration::from_secs(10))
        .await
        .expect("daemon exits within the grace period");
    assert!(status.success(), "exit status {status:?}\n{}", a.log());
    let r = row(&c, id).await;
    assert_eq!(
        (r.status.as_deref(), r.attempts),
        (Some("pending"), 0),
        "{r:?}"
    );
    let _b = spawn(&db, dir.path(), &env_of(&server, &[]));
    let r = wait_for_status(&c, id, &["complete", "failed"], WAIT).await;
    assert_eq!(
        (r.status.as_deref(), r.attempts),
        (Some("complete"), 1),
        "{r:?}"
    );
}

#[tokio::test]
async fn sigterm_lets_a_short_job_finish() {
    let db = migrated().await;
    let server = StorageServer::start().await;
    let path = "imports/short.json";
    // About a second of download: finishes inside a 10s grace period.
    crawl_first_download(&server, path, 64 * 1024, Duration::from_millis(150));
    let c = db.client().await;
    let dir = tempfile::tempdir().unwrap();
    let mut a = spawn(&db, dir.path(), &env_of(&server, &[]));
    let id = insert_profile(&c, Some(path), Some("pending")).await;
    wait_downloading(&c, id, &server, path).await;
    a.signal(libc::SIGTERM);
    let status = a.wait_exit(Duration::from_secs(15)).await.expect("exits");
    assert!(status.success());
    assert_eq!(row(&c, id).await.status.as_deref(), Some("complete"));
}

#[tokio::test]
async fn three_daemons_process_500_rows_exactly_once() {
    let db = migrated().await;
    let storage = sample_store("b/e.json");
    let c = db.client().await;
    install_audit(&c).await;
    let daemons: Vec<_> = (0..3)
        .map(|_| DaemonProcess::spawn(&db.url, storage.path(), &[]))
        .collect();
    for d in &daemons {
        d.wait_for_log("fullpass is running", WAIT).await;
    }
    // Bursts: many rows per statement, several statements.
    for _ in 0..5 {
        c.execute(
            "insert into user_profiles (user_id, storage_path, full_pass_status)
             select gen_random_uuid(), 'b/e.json', 'pending' from generate_series(1, 100)",
            &[],
        )
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let start = Instant::now();
    loop {
        let done = count(
            &c,
            "select count(*) from user_profiles where full_pass_status = 'complete'",
        )
        .await;
        if done == 500 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "only {done} of 500 complete"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A row claimed ahead of a free slot may be given back (to `pending`, its
    // attempt uncharged) and claimed again: every claim but those ended a job.
    let given_back = audit_count(&c, "pending").await;
    assert_eq!(
        audit_count(&c, "processing").await - given_back,
        500,
        "each row claimed once, apart from rows given back unstarted"
    );
    assert_eq!(
        audit_count(&c, "complete").await,
        500,
        "each row completed once"
    );
    let charged = count(
        &c,
        "select count(*) from user_profiles where full_pass_attempts <> 1",
    )
    .await;
    assert_eq!(charged, 0, "every row took exactly one attempt");
    let by_daemon: i64 = c
        .query_one(
            "select count(distinct full_pass_claimed_by) from user_profiles",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    // The claim owner is cleared on completion; the audit proves the exactly-once part.
    assert_eq!(by_daemon, 0);
}

#[tokio::test]
async fn two_daemons_starting_together_on_an_empty_database_both_come_up() {
    let db = TestDb::new().await;
    let storage = tempfile::tempdir().unwrap();
    let a = DaemonProcess::spawn(&db.url, storage.path(), &[]);
    let b = DaemonProcess::spawn(&db.url, storage.path(), &[]);
    a.wait_for_log("fullpass is running", WAIT).await;
    b.wait_for_log("fullpass is running", WAIT).await;
    let c = db.client().await;
    let versions: i64 = c
        .query_one("select count(*) from fullpass.refinery_schema_history", &[])
        .await
        .unwrap()
        .get(0);
    let applied_logs =
        a.log().matches("applied migration").count() + b.log().matches("applied migration").count();
    assert_eq!(
        applied_logs as i64, versions,
        "each migration applied once across both daemons"
    );
}

#[tokio::test]
async fn poll_mode_finds_work_without_notifications() {
    let db = migrated().await;
    let storage = sample_store("b/e.json");
    let c = db.client().await;
    let daemon = DaemonProcess::spawn(&db.url, storage.path(), &[("FULLPASS_LISTEN_MODE", "poll")]);
    daemon.wait_for_log("poll mode", WAIT).await;
    let id = insert_profile(&c, Some("b/e.json"), Some("pending")).await;
    let r = wait_for_status(&c, id, &["complete", "failed"], WAIT).await;
    assert_eq!(r.status.as_deref(), Some("complete"));
    assert!(!daemon.log().contains("fullpass-listener"));
}

#[tokio::test]
async fn a_job_that_fails_for_good_posts_an_alert() {
    let webhook = common::webhook::Webhook::start().await;
    let hook = webhook.url.clone();

    let db = migrated().await;
    let storage = tempfile::tempdir().unwrap();
    let c = db.client().await;
    let _d = DaemonProcess::spawn(
        &db.url,
        storage.path(),
        &[("ALERT_WEBHOOK_URL", hook.as_str())],
    );
    let id = insert_profile(&c, Some("imports/gone.json.gz"), Some("pending")).await;
    wait_for_status(&c, id, &["failed"], WAIT).await;
    let alert: serde_json::Value = serde_json::from_str(&webhook.first().await).unwrap();
    let text = alert["text"].as_str().unwrap();
    assert!(
        text.contains(&id.to_string()) && text.contains("not found"),
        "{text}"
    );
}

#[tokio::test]
async fn a_job_past_its_time_limit_is_cancelled_and_retried() {
    let db = migrated().await;
    let server = StorageServer::start().await;
    let path = "imports/slow.json";
    // The first download would take minutes; the retry is served at once.
    crawl_first_download(&server, path, 512, Duration::from_millis(200));
    let c = db.client().await;
    install_audit(&c).await;
    let dir = tempfile::tempdir().unwrap();
    let _d = spawn(
        &db,
        dir.path(),
        &env_of(&server, &[("FULLPASS_JOB_TIMEOUT", "3s")]),
    );
    let id = insert_profile(&c, Some(path), Some("pending")).await;
    let r = wait_for_status(&c, id, &["complete", "failed"], WAIT).await;
    assert_eq!(
        (r.status.as_deref(), r.attempts),
        (Some("complete"), 2),
        "{r:?}"
    );
    // The timed-out attempt went back to pending for its retry.
    assert_eq!(audit_count(&c, "pending").await, 1);
}

#[tokio::test]
async fn a_row_whose_notification_was_coalesced_is_still_claimed_promptly() {
    let db = migrated().await;
    let storage = sample_store("b/e.json");
    let c = db.client().await;
    let a = insert_profile(&c, Some("b/e.json"), Some("complete")).await;
    let b = insert_profile(&c, Some("b/e.json"), Some("complete")).await;
    // No backstop sweep: only notifications and the look after a wake-up find work.
    let daemon = DaemonProcess::spawn(
        &db.url,
        storage.path(),
        &[("FULLPASS_SWEEP_INTERVAL", "1h")],
    );
    daemon.wait_for_log("fullpass is running", WAIT).await;

    let mut first = db.client().await;
    let mut second = db.client().await;
    let t1 = first.transaction().await.unwrap();
    let t2 = second.transaction().await.unwrap();
    let requeue = "update user_profiles set full_pass_status = 'pending' where user_id = $1";
    t1.execute(requeue, &[&a]).await.unwrap();
    // t1 holds the right to notify, so t2 commits without NOTIFY.
    t2.execute(requeue, &[&b]).await.unwrap();
    let held: bool = t2
        .query_one("select pg_try_advisory_xact_lock(7381521214233732729)", &[])
        .await
        .unwrap()
        .get(0);
    assert!(!held, "the first transaction should hold the notify lock");
    t1.commit().await.unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    t2.commit().await.unwrap();

    let start = Instant::now();
    for id in [a, b] {
        let r = wait_for_status(&c, id, &["complete"], WAIT).await;
        assert_eq!(r.attempts, 1);
    }
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn rows_claimed_ahead_are_given_back_when_no_slot_frees_up() {
    let db = migrated().await;
    let server = StorageServer::start().await;
    let c = db.client().await;
    install_audit(&c).await;
    let dir = tempfile::tempdir().unwrap();
    let a = spawn(
        &db,
        dir.path(),
        &env_of(
            &server,
            &[("FULLPASS_CONCURRENCY", "1"), ("FULLPASS_WORKER_ID", "a")],
        ),
    );
    a.wait_for_log("fullpass is running", WAIT).await;
    // A short job first: after it, a daemon with a backlog claims ahead.
    // (Twice: the first job also pays for the extractor's one-time set-up.)
    let hello = TestConversation::new("Warm", "2024-01-01", &[("Hi", "Hello")]);
    server.put("imports/warm.json", conversations_json(&[hello]));
    for _ in 0..2 {
        let warm = insert_profile(&c, Some("imports/warm.json"), Some("pending")).await;
        wait_for_status(&c, warm, &["complete"], WAIT).await;
    }

    let paths = [
        "imports/slow-1.json",
        "imports/slow-2.json",
        "imports/slow-3.json",
        "imports/slow-4.json",
        "imports/slow-5.json",
        "imports/slow-6.json",
    ];
    for path in paths {
        crawl_first_download(&server, path, 16 * 1024, Duration::from_millis(200));
    }
    c.execute(
        "insert into user_profiles (user_id, storage_path, full_pass_status)
         select gen_random_uuid(), p, 'pending' from unnest($1::text[]) p",
        &[&paths.to_vec()],
    )
    .await
    .unwrap();

    // One slot, five rows held: one running, four (the daemon's rows ahead per
    // slot) claimed ahead of a free slot.
    let held_five = async {
        loop {
            let n = count(
                &c,
                "select count(*) from user_profiles
                  where full_pass_status = 'processing' and full_pass_claimed_by = 'a'",
            )
            .await;
            if n == 5 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(WAIT, held_five)
        .await
        .expect("daemon a claims four rows ahead of its one slot");

    // The slow job keeps the slot well past the hold limit: the rows are given back.
    let given_back = async {
        loop {
            let rows = c
                .query(
                    "select user_id from user_profiles
                      where full_pass_status = 'pending' and storage_path like 'imports/slow-%'
                      order by user_id",
                    &[],
                )
                .await
                .unwrap();
            if audit_count(&c, "pending").await == 4 && rows.len() == 4 {
                return rows
                    .iter()
                    .map(|r| r.get::<_, uuid::Uuid>(0))
                    .collect::<Vec<_>>();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let back = tokio::time::timeout(Duration::from_secs(10), given_back)
        .await
        .expect("the rows claimed ahead are given back");
    for &id in &back {
        let r = row(&c, id).await;
        assert_eq!(
            (r.attempts, r.error.as_deref()),
            (0, None),
            "attempt not charged: {r:?}"
        );
    }

    // Another daemon takes it; every row ends complete, each completed once.
    let _b = spawn(
        &db,
        dir.path(),
        &env_of(&server, &[("FULLPASS_WORKER_ID", "b")]),
    );
    let claimed_by_b = async {
        loop {
            let by: Option<String> = c
                .query_one(
                    "select full_pass_claimed_by from user_profiles where user_id = $1",
                    &[&back[0]],
                )
                .await
                .unwrap()
                .get(0);
            if by.is_some() {
                return by;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let by = tokio::time::timeout(WAIT, claimed_by_b)
        .await
        .expect("claimed again");
    assert_eq!(
        by.as_deref(),
        Some("b"),
        "the idle daemon takes a row given back"
    );
    for path in paths {
        let id: uuid::Uuid = c
            .query_one(
                "select user_id from user_profiles where storage_path = $1",
                &[&path],
            )
            .await
            .unwrap()
            .get(0);
        let r = wait_for_status(&c, id, &["complete", "failed"], WAIT).await;
        assert_eq!(
            (r.status.as_deref(), r.attempts),
            (Some("complete"), 1),
            "{r:?}"
        );
    }
    // Two warm-up rows and the six slow ones.
    assert_eq!(
        audit_count(&c, "complete").await,
        8,
        "each row completed once"
    );
}

#[tokio::test]
async fn failing_claims_back_off_and_work_resumes_when_the_database_recovers() {
    let db = migrated().await;
    let storage = sample_store("b/e.json");
    let c = db.client().await;
    let daemon = DaemonProcess::spawn(&db.url, storage.path(), &[]);
    daemon.wait_for_log("fullpass is running", WAIT).await;
    // Every claim now fails inside the database.
    c.batch_execute(
        "create function refuse_claims() returns trigger language plpgsql as $$
         begin raise exception 'claims refused for the test'; end $$;
         create trigger refuse_claims before update of full_pass_status on user_profiles
             for each row when (new.full_pass_status = 'processing')
             execute function refuse_claims();",
    )
    .await
    .unwrap();
    // A request every 50 ms for 3 s: each one wakes the daemon.
    let mut ids = Vec::new();
    for _ in 0..60 {
        ids.push(insert_profile(&c, Some("b/e.json"), Some("pending")).await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let failures = daemon.log().matches("claiming failed").count();
    assert!(
        (1..=8).contains(&failures),
        "{failures} failed claims logged in 3 s:\n{}",
        daemon.log()
    );
    c.batch_execute("drop trigger refuse_claims on user_profiles")
        .await
        .unwrap();
    for id in ids {
        let r = wait_for_status(&c, id, &["complete", "failed"], WAIT).await;
        assert_eq!(r.status.as_deref(), Some("complete"), "{r:?}");
    }
}
