//! Migrations and the notify trigger, on a real PostgreSQL.

mod common;

use common::{TestDb, insert_profile, migrated};
use futures_util::StreamExt;
use std::time::Duration;
use tokio::sync::mpsc;

#[tokio::test]
async fn migrations_apply_to_an_empty_database_and_twice() {
    let db = TestDb::new().await;
    let applied = fullpass::db::migrate(&db.config()).await.unwrap();
    assert!(!applied.is_empty());
    let again = fullpass::db::migrate(&db.config()).await.unwrap();
    assert!(again.is_empty(), "second run applied {again:?}");
    let client = db.client().await;
    // History lives in the fullpass schema, not public.
    let n: i64 = client
        .query_one(
            "select count(*) from information_schema.tables
              where table_name = 'refinery_schema_history' and table_schema = 'fullpass'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    let public: i64 = client
        .query_one(
            "select count(*) from information_schema.tables
              where table_name = 'refinery_schema_history' and table_schema = 'public'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(public, 0);
}

#[tokio::test]
async fn migrations_keep_an_existing_user_profiles_table_and_its_data() {
    let db = TestDb::new().await;
    let client = db.client().await;
    client
        .batch_execute(
            "create table public.user_profiles (
                 user_id uuid primary key,
                 display_name text not null,
                 memory_md text,
                 created_at timestamptz default now()
             );
             insert into user_profiles (user_id, display_name, memory_md)
             values ('11111111-1111-1111-1111-111111111111', 'Ada', 'old memory');",
        )
        .await
        .unwrap();
    fullpass::db::migrate(&db.config()).await.unwrap();
    let row = client
        .query_one(
            "select display_name, memory_md, full_pass_status, full_pass_attempts
               from user_profiles",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "Ada");
    assert_eq!(
        row.get::<_, Option<String>>(1).as_deref(),
        Some("old memory")
    );
    assert_eq!(row.get::<_, Option<String>>(2), None);
    assert_eq!(row.get::<_, i32>(3), 0);
    // The status check constraint is in place.
    let bad = client
        .execute("update user_profiles set full_pass_status = 'running'", &[])
        .await;
    assert!(bad.is_err());
}

#[tokio::test]
async fn concurrent_migrations_apply_once() {
    let db = TestDb::new().await;
    let config = db.config();
    let runs = (0..4).map(|_| {
        let config = config.clone();
        tokio::spawn(async move { fullpass::db::migrate(&config).await })
    });
    let mut applied = 0;
    for run in runs {
        applied += run.await.unwrap().unwrap().len();
    }
    let client = db.client().await;
    let versions: i64 = client
        .query_one("select count(*) from fullpass.refinery_schema_history", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        applied as i64, versions,
        "each migration applied exactly once"
    );
}

/// A LISTEN connection collecting payloads.
async fn listen(db: &TestDb) -> (tokio_postgres::Client, mpsc::UnboundedReceiver<String>) {
    let (client, mut conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut stream = futures_util::stream::poll_fn(move |cx| conn.poll_message(cx));
        while let Some(Ok(msg)) = stream.next().await {
            if let tokio_postgres::AsyncMessage::Notification(n) = msg {
                let _ = tx.send(n.payload().to_owned());
            }
        }
    });
    client.batch_execute("listen fullpass_jobs").await.unwrap();
    (client, rx)
}

async fn drain(rx: &mut mpsc::UnboundedReceiver<String>) -> Vec<String> {
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut got = Vec::new();
    while let Ok(p) = rx.try_recv() {
        got.push(p);
    }
    got
}

#[tokio::test]
async fn trigger_notifies_when_a_row_becomes_claimable_and_only_then() {
    let db = migrated().await;
    let (_listener, mut rx) = listen(&db).await;
    let c = db.client().await;

    // Insert as pending with a path: notifies with the user_id.
    let a = insert_profile(&c, Some("b/a.json"), Some("pending")).await;
    assert_eq!(drain(&mut rx).await, vec![a.to_string()]);

    // Pending without a path (app creates the profile before the upload): silent...
    let b = insert_profile(&c, None, Some("pending")).await;
    assert!(drain(&mut rx).await.is_empty());
    // ...until the path is set.
    c.execute(
        "update user_profiles set storage_path = 'b/b.json' where user_id = $1",
        &[&b],
    )
    .await
    .unwrap();
    assert_eq!(drain(&mut rx).await, vec![b.to_string()]);

    // Other updates are silent: memory, processing, complete, pending → pending.
    let quiet = [
        "update user_profiles set memory_md = 'x' where user_id = $1",
        "update user_profiles set full_pass_status = 'pending' where user_id = $1",
        "update user_profiles set full_pass_status = 'processing' where user_id = $1",
        "update user_profiles set full_pass_status = 'complete' where user_id = $1",
        "update user_profiles set full_pass_status = 'failed' where user_id = $1",
    ];
    for sql in quiet {
        c.execute(sql, &[&a]).await.unwrap();
        assert!(drain(&mut rx).await.is_empty(), "{sql} notified");
    }

    // Requeue from failed notifies.
    c.execute(
        "update user_profiles set full_pass_status = 'pending' where user_id = $1",
        &[&a],
    )
    .await
    .unwrap();
    assert_eq!(drain(&mut rx).await, vec![a.to_string()]);

    // A row without a status that becomes pending notifies.
    let d = insert_profile(&c, Some("b/d.json"), None).await;
    assert!(drain(&mut rx).await.is_empty());
    c.execute(
        "update user_profiles set full_pass_status = 'pending' where user_id = $1",
        &[&d],
    )
    .await
    .unwrap();
    assert_eq!(drain(&mut rx).await, vec![d.to_string()]);
}

#[tokio::test]
async fn a_new_request_resets_attempts_but_a_retry_keeps_them() {
    let db = migrated().await;
    let c = db.client().await;
    let id = insert_profile(&c, Some("b/x.json"), Some("pending")).await;
    let jobs = fullpass::db::queue::claim_next(&c, "w", Duration::from_secs(10), 1)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert_eq!(job.attempt, 1);
    // The daemon's retry keeps the attempt count and sets a not-before time.
    assert!(
        fullpass::db::queue::retry_later(&c, job, "storage 503", Duration::from_secs(60))
            .await
            .unwrap()
    );
    let r = common::row(&c, id).await;
    assert_eq!((r.status.as_deref(), r.attempts), (Some("pending"), 1));
    // Not claimable before its time.
    let none = fullpass::db::queue::claim_next(&c, "w", Duration::from_secs(10), 1)
        .await
        .unwrap();
    assert!(none.is_empty());
    // An operator's requeue after failure is a fresh request: attempts reset.
    c.execute(
        "update user_profiles set full_pass_status = 'failed' where user_id = $1",
        &[&id],
    )
    .await
    .unwrap();
    assert!(fullpass::db::queue::requeue_user(&c, id).await.unwrap());
    let r = common::row(&c, id).await;
    assert_eq!(
        (r.status.as_deref(), r.attempts, r.error),
        (Some("pending"), 0, None)
    );
    let again = fullpass::db::queue::claim_next(&c, "w", Duration::from_secs(10), 1)
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "claimable at once after requeue");
}
