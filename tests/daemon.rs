//! The daemon end to end: real binary, real PostgreSQL, real files and HTTP storage.

mod common;

use common::daemon::DaemonProcess;
use common::export::{conversations_json, gzip, sample_export};
use common::storage_server::StorageServer;
use common::{insert_profile, migrated, put_export, row, sample_store, wait_for_status};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

fn assert_sample_memory(md: &str) {
    let lower = md.to_lowercase();
    for needle in ["tromsø", "marine biologist", "pixel", "vegetarian"] {
        assert!(lower.contains(needle), "MEMORY lacks {needle:?}:\n{md}");
    }
}

#[tokio::test]
async fn a_pending_row_is_processed_to_complete_with_its_memory() {
    let db = migrated().await;
    let storage = tempfile::tempdir().unwrap();
    put_export(
        storage.path(),
        "imports/u1/export.json.gz",
        &gzip(&conversations_json(&sample_export())),
    );
    let c = db.client().await;
    let daemon = DaemonProcess::spawn(&db.url, storage.path(), &[]);
    daemon.wait_for_log("fullpass is running", WAIT).await;

    let id = insert_profile(&c, Some("imports/u1/export.json.gz"), Some("pending")).await;
    let r = wait_for_status(&c, id, &["complete", "failed"], WAIT).await;
    assert_eq!(
        r.status.as_deref(),
        Some("complete"),
        "{r:?}\n{}",
        daemon.log()
    );
    assert_eq!(r.error, None);
    assert_sample_memory(r.memory_md.as_deref().unwrap_or_default());
    assert!(r.memory_facts.is_some());
    let stats = r.stats.unwrap();
    assert_eq!(stats["conversations"], 2);
    assert_eq!(stats["user_messages"], 2);
    let completed_at: Option<chrono::DateTime<chrono::Utc>> = c
        .query_one(
            "select full_pass_completed_at from user_profiles where user_id = $1",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert!(completed_at.is_some());
}

#[tokio::test]
async fn rows_made_pending_before_the_daemon_started_are_processed() {
    let db = migrated().await;
    let storage = sample_store("imports/early.json");
    let c = db.client().await;
    let id = insert_profile(&c, Some("imports/early.json"), Some("pending")).await;
    // A long sweep interval: only the start-up sweep can find it in time.
    let _daemon = DaemonProcess::spawn(
        &db.url,
        storage.path(),
        &[("FULLPASS_SWEEP_INTERVAL", "1h")],
    );
    let r = wait_for_status(&c, id, &["complete", "failed"], WAIT).await;
    assert_eq!(r.status.as_deref(), Some("complete"), "{r:?}");
}

#[tokio::test]
async fn bad_exports_fail_with_a_clear_error_and_the_next_job_still_succeeds() {
    let db = migrated().await;
    let storage = tempfile::tempdir().unwrap();
    let good = gzip(&conversations_json(&sample_export()));
    put_export(storage.path(), "b/good.json.gz", &good);
    let mut corrupt = good.clone();
    for b in corrupt.iter_mut().skip(20).take(200) {
        *b ^= 0x5a;
    }
    put_export(storage.path(), "b/corrupt.json.gz", &corrupt);
    put_export(
        storage.path(),
        "b/truncated.json.gz",
        &good[..good.len() / 2],
    );
    put_export(
        storage.path(),
        "b/not-json.txt",
        b"hello, this is not an export\n",
    );
    put_export(storage.path(), "b/wrong-shape.json", br#""just a string""#);
    let c = db.client().await;
    let _daemon = DaemonProcess::spawn(&db.url, storage.path(), &[]);

    let cases = [
        ("b/missing.json.gz", "not found"),
        ("b/corrupt.json.gz", "gzip"),
        ("b/truncated.json.gz", "gzip"),
        ("b/not-json.txt", "byte"),
        ("b/wrong-shape.json", "byte"),
    ];
    for (path, expected) in cases {
        let id = insert_profile(&c, Some(path), Some("pending")).await;
        let r = wait_for_status(&c, id, &["complete", "failed"], WAIT).await;
        assert_eq!(r.status.as_deref(), Some("failed"), "{path}: {r:?}");
        let error = r.error.clone().unwrap_or_default();
        assert!(
            error.to_lowercase().contains(expected),
            "{path}: error {error:?} does not mention {expected:?}"
        );
        assert!(!error.contains('\n'), "error is not one line: {error:?}");
        // Permanent errors are not retried.
        assert_eq!(r.attempts, 1, "{path}: {r:?}");
        let next = insert_profile(&c, Some("b/good.json.gz"), Some("pending")).await;
        let r = wait_for_status(&c, next, &["complete", "failed"], WAIT).await;
        assert_eq!(r.status.as_deref(), Some("complete"), "after {path}: {r:?}");
    }
}

#[tokio::test]
async fn an_export_without_user_messages_fails_and_keeps_the_previous_memory() {
    let db = migrated().await;
    let storage = tempfile::tempdir().unwrap();
    put_export(
        storage.path(),
        "e/good.json.gz",
        &gzip(&conversations_json(&sample_export())),
    );
    put_export(storage.path(), "e/empty.json", b"[]");
    // A conversation where only the assistant speaks.
    put_export(
        storage.path(),
        "e/assistant-only.json",
        br#"[{"title":"Silent","create_time":1709294400,"current_node":"a","mapping":{
            "a":{"id":"a","parent":null,"children":[],"message":{"id":"a",
            "author":{"role":"assistant"},"create_time":1709294400,
            "content":{"content_type":"text","parts":["Hello! How can I help?"]}}}}}]"#,
    );
    let c = db.client().await;
    let _daemon = DaemonProcess::spawn(&db.url, storage.path(), &[]);

    let id = insert_profile(&c, Some("e/good.json.gz"), Some("pending")).await;
    let before = wait_for_status(&c, id, &["complete", "failed"], WAIT).await;
    assert_eq!(before.status.as_deref(), Some("complete"), "{before:?}");
    assert_sample_memory(before.memory_md.as_deref().unwrap_or_default());

    for (path, conversations) in [("e/empty.json", 0), ("e/assistant-only.json", 1)] {
        c.execute(
            "update user_profiles set storage_path = $2, full_pass_status = 'pending'
              where user_id = $1",
            &[&id, &path],
        )
        .await
        .unwrap();
        let r = wait_for_status(&c, id, &["failed"], WAIT).await;
        assert_eq!(
            r.error.as_deref(),
            Some(
                format!(
                    "the export holds no conversations with a message from the user \
                     ({conversations} conversations read); the previous memory was kept"
                )
                .as_str()
            ),
            "{path}"
        );
        assert_eq!(r.attempts, 1, "a permanent error: {r:?}");
        assert_eq!(r.memory_md, before.memory_md, "{path}: memory_md was kept");
        assert_eq!(
            r.memory_facts, before.memory_facts,
            "{path}: memory_facts was kept"
        );
    }

    let next = insert_profile(&c, Some("e/good.json.gz"), Some("pending")).await;
    let r = wait_for_status(&c, next, &["complete", "failed"], WAIT).await;
    assert_eq!(r.status.as_deref(), Some("complete"), "{r:?}");
}

#[tokio::test]
async fn the_missing_object_error_names_the_path() {
    let db = migrated().await;
    let storage = tempfile::tempdir().unwrap();
    let c = db.client().await;
    let _daemon = DaemonProcess::spawn(&db.url, storage.path(), &[]);
    let id = insert_profile(&c, Some("imports/u1/x.json.gz"), Some("pending")).await;
    let r = wait_for_status(&c, id, &["failed"], WAIT).await;
    assert_eq!(
        r.error.as_deref(),
        Some("export not found at imports/u1/x.json.gz")
    );
}

#[tokio::test]
async fn two_daemons_never_process_the_same_row_twice() {
    let db = migrated().await;
    let storage = sample_store("b/e.json");
    let c = db.client().await;
    // Test-only audit: every claim and every completion, per row.
    c.batch_execute(
        "create table audit (user_id uuid, status text, at timestamptz default clock_timestamp());
         create function audit_row() returns trigger language plpgsql as $$
         begin
             if new.full_pass_status in ('processing', 'complete') then
                 insert into audit (user_id, status) values (new.user_id, new.full_pass_status);
             end if;
             return null;
         end $$;
         create trigger audit after update of full_pass_status on user_profiles
             for each row execute function audit_row();",
    )
    .await
    .unwrap();
    let _a = DaemonProcess::spawn(&db.url, storage.path(), &[]);
    let _b = DaemonProcess::spawn(&db.url, storage.path(), &[]);
    let mut ids = Vec::new();
    for _ in 0..60 {
        ids.push(insert_profile(&c, Some("b/e.json"), Some("pending")).await);
    }
    for id in &ids {
        let r = wait_for_status(&c, *id, &["complete", "failed"], WAIT).await;
        assert_eq!(r.status.as_deref(), Some("complete"));
        assert_eq!(r.attempts, 1);
    }
    let twice: i64 = c
        .query_one(
            "select count(*) from (select user_id, status from audit
              group by 1, 2 having count(*) > 1) d",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(twice, 0, "a row was claimed or completed more than once");
    let total: i64 = c
        .query_one("select count(*) from audit", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(total, 120);
}

#[tokio::test]
async fn the_supabase_backend_streams_exports_and_reports_missing_ones() {
    let db = migrated().await;
    let server = StorageServer::start().await;
    server.put(
        "imports/u 1/export.json.gz",
        gzip(&conversations_json(&sample_export())),
    );
    let c = db.client().await;
    let env = server.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let empty = tempfile::tempdir().unwrap();
    let _daemon = DaemonProcess::spawn(&db.url, empty.path(), &env);

    let ok = insert_profile(&c, Some("imports/u 1/export.json.gz"), Some("pending")).await;
    let r = wait_for_status(&c, ok, &["complete", "failed"], WAIT).await;
    assert_eq!(r.status.as_deref(), Some("complete"), "{r:?}");
    assert_sample_memory(&r.memory_md.unwrap_or_default());
    assert_eq!(server.requests("imports/u 1/export.json.gz"), 1);

    let missing = insert_profile(&c, Some("imports/nobody.json.gz"), Some("pending")).await;
    let r = wait_for_status(&c, missing, &["complete", "failed"], WAIT).await;
    assert_eq!(
        r.error.as_deref(),
        Some("export not found at imports/nobody.json.gz")
    );
    assert_eq!(row(&c, missing).await.attempts, 1);
}
