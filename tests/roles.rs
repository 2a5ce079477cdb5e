//! `sql/roles.sql`: the daemon's role can run every queue statement, and cannot
//! see or change anything else. Roles are cluster-wide, so each test creates its
//! own (the file's `fullpass_worker` renamed) and drops it afterwards.

mod common;

use common::TestDb;
use fullpass::db::{self, DbConfig, Listener, Notification, queue};
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::error::SqlState;
use uuid::Uuid;

const ROLES_SQL: &str = include_str!("../sql/roles.sql");
const PASSWORD: &str = "worker-secret";

/// A uniquely named copy of `fullpass_worker`, dropped (with its grants) at the end.
struct WorkerRole {
    name: String,
}

impl WorkerRole {
    fn new() -> WorkerRole {
        let suffix = Uuid::new_v4().simple().to_string();
        WorkerRole {
            name: format!("fullpass_worker_{}", &suffix[..10]),
        }
    }

    fn sql(&self) -> String {
        ROLES_SQL.replace("fullpass_worker", &self.name)
    }

    /// A connection string for this role to the test database.
    fn conninfo(&self, db: &TestDb) -> String {
        let config = tokio_postgres::Config::from_str(&db.url).unwrap();
        let host = match &config.get_hosts()[0] {
            tokio_postgres::config::Host::Tcp(h) => h.clone(),
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        format!(
            "host={host} port={port} dbname={} user={} password={PASSWORD} sslmode=disable",
            db.name, self.name
        )
    }

    async fn connect(&self, db: &TestDb) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(&self.conninfo(db), tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
    }
}

impl Drop for WorkerRole {
    fn drop(&mut self) {
        // Declared before the TestDb, so the database (and the grants in it) is
        // gone by now; the role itself is cluster-wide.
        let server = common::server_url();
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
                        .batch_execute(&format!("drop role if exists {name}"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// A migrated database whose user_profiles also has an app column fullpass must not see.
async fn app_database(role: &WorkerRole) -> (TestDb, tokio_postgres::Client) {
    let db = TestDb::new().await;
    db::migrate(&db.config()).await.unwrap();
    let admin = db.client().await;
    admin
        .batch_execute(
            "alter table public.user_profiles add column email text;
             insert into public.user_profiles (user_id, email, storage_path, full_pass_status)
             select gen_random_uuid(), 'user' || n || '@example.com', 'exports/' || n || '.json.gz', 'pending'
               from generate_series(1, 3) n;",
        )
        .await
        .unwrap();
    admin.batch_execute(&role.sql()).await.unwrap();
    admin
        .batch_execute(&format!("alter role {} password '{PASSWORD}'", role.name))
        .await
        .unwrap();
    (db, admin)
}

fn assert_denied(result: Result<impl std::fmt::Debug, tokio_postgres::Error>, what: &str) {
    let err = result.expect_err(what);
    assert_eq!(
        err.code(),
        Some(&SqlState::INSUFFICIENT_PRIVILEGE),
        "{what}: {err:?}"
    );
}

#[tokio::test]
async fn the_worker_role_runs_the_queue() {
    let role = WorkerRole::new();
    let (db, admin) = app_database(&role).await;
    // Idempotent: a second run changes nothing and does not fail.
    admin.batch_execute(&role.sql()).await.unwrap();

    let worker = role.connect(&db).await;
    let lease = Duration::from_secs(30);

    let jobs = queue::claim_next(&worker, "w1", lease, 2).await.unwrap();
    assert_eq!(jobs.len(), 2);
    assert!(jobs.iter().all(|j| j.storage_path.starts_with("exports/")));
    let (first, second) = (&jobs[0], &jobs[1]);

    let progress = serde_json::json!({"conversations": 10});
    assert!(
        queue::renew(&worker, first, lease, Some(&progress))
            .await
            .unwrap()
    );
    let facts = serde_json::json!([{"text": "Lives in Lyon"}]);
    let stats = serde_json::json!({"conversations": 12});
    assert!(
        queue::complete(
            &worker,
            first,
            "## Memory\n- Lives in Lyon\n",
            &facts,
            &stats
        )
        .await
        .unwrap()
    );

    // A retry as the worker goes through both triggers, NOTIFY included.
    let listener_db = DbConfig::from_url(&role.conninfo(&db)).unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let _listener = Listener::start(&listener_db, tx).await.unwrap();
    assert!(
        queue::retry_later(&worker, second, "storage timeout", Duration::ZERO)
            .await
            .unwrap()
    );
    let note = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a notification after retry_later")
        .unwrap();
    assert_eq!(note, Notification::Job(second.user_id.to_string()));

    // The retried row and the third, never claimed, row.
    let again = queue::claim_next(&worker, "w1", lease, 5).await.unwrap();
    assert_eq!(again.len(), 2);
    let retried = again
        .iter()
        .find(|j| j.user_id == second.user_id)
        .expect("the retried row is claimable");
    assert_eq!(retried.attempt, 2, "a retry keeps its attempt count");
    for job in &again {
        assert!(queue::release(&worker, job).await.unwrap());
    }
    let third = queue::claim_next(&worker, "w1", lease, 5).await.unwrap();
    assert_eq!(third.len(), 2);
    for job in &third {
        assert!(
            queue::fail(&worker, job, "unreadable export")
                .await
                .unwrap()
        );
    }

    assert!(queue::rescue_expired(&worker, 5).await.unwrap().is_empty());
    let status = queue::status(&worker).await.unwrap();
    assert_eq!((status.complete, status.failed), (1, 2));
    assert_eq!(queue::requeue_failed(&worker).await.unwrap(), 2);
    assert!(queue::requeue_user(&worker, first.user_id).await.unwrap());

    // What the worker wrote is there, and the app column is untouched.
    let row = admin
        .query_one(
            "select memory_md, email from public.user_profiles where user_id = $1",
            &[&first.user_id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "## Memory\n- Lives in Lyon\n");
    assert!(row.get::<_, String>(1).ends_with("@example.com"));
}

#[tokio::test]
async fn the_worker_role_cannot_touch_anything_else() {
    let role = WorkerRole::new();
    let (db, admin) = app_database(&role).await;
    let worker = role.connect(&db).await;

    assert_denied(
        worker
            .query("select email from public.user_profiles", &[])
            .await,
        "select email",
    );
    assert_denied(
        worker
            .query("select * from public.user_profiles", &[])
            .await,
        "select *",
    );
    assert_denied(
        worker
            .execute(
                "update public.user_profiles set email = 'x@example.com'",
                &[],
            )
            .await,
        "update email",
    );
    assert_denied(
        worker
            .execute(
                "update public.user_profiles set storage_path = 'elsewhere'",
                &[],
            )
            .await,
        "update storage_path",
    );
    assert_denied(
        worker
            .execute(
                "insert into public.user_profiles (user_id) values (gen_random_uuid())",
                &[],
            )
            .await,
        "insert",
    );
    assert_denied(
        worker
            .execute("delete from public.user_profiles", &[])
            .await,
        "delete",
    );
    assert_denied(
        worker
            .execute("alter table public.user_profiles add column x int", &[])
            .await,
        "alter table (not the owner)",
    );

    // A re-run of roles.sql takes back a grant someone added by hand.
    admin
        .batch_execute(&format!(
            "grant select (email) on public.user_profiles to {}",
            role.name
        ))
        .await
        .unwrap();
    worker
        .query("select email from public.user_profiles", &[])
        .await
        .expect("the hand-made grant works before the re-run");
    admin.batch_execute(&role.sql()).await.unwrap();
    assert_denied(
        worker
            .query("select email from public.user_profiles", &[])
            .await,
        "select email after re-running roles.sql",
    );
}

#[tokio::test]
async fn with_row_level_security_the_policies_let_the_worker_in() {
    let role = WorkerRole::new();
    let (db, admin) = app_database(&role).await;
    admin
        .batch_execute("alter table public.user_profiles enable row level security")
        .await
        .unwrap();
    let worker = role.connect(&db).await;

    let jobs = queue::claim_next(&worker, "w1", Duration::from_secs(30), 1)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1, "the select/update policies admit the worker");
    assert!(
        queue::complete(
            &worker,
            &jobs[0],
            "- x\n",
            &serde_json::json!([]),
            &serde_json::json!({})
        )
        .await
        .unwrap()
    );

    // Without its policies, RLS hides every row from the role.
    admin
        .batch_execute(&format!(
            "drop policy {0}_select on public.user_profiles;
             drop policy {0}_update on public.user_profiles;",
            role.name
        ))
        .await
        .unwrap();
    let status = queue::status(&worker).await.unwrap();
    assert_eq!(status.pending + status.complete, 0);
    let none = queue::claim_next(&worker, "w1", Duration::from_secs(30), 5)
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn the_daemon_runs_as_the_worker_role_with_migrations_skipped() {
    use common::daemon::DaemonProcess;
    use common::export::{conversations_json, gzip, sample_export};

    let role = WorkerRole::new();
    let (db, admin) = app_database(&role).await;
    // Supabase-like: row-level security on.
    admin
        .batch_execute("alter table public.user_profiles enable row level security")
        .await
        .unwrap();
    let storage = tempfile::tempdir().unwrap();
    common::put_export(
        storage.path(),
        "imports/w/export.json.gz",
        &gzip(&conversations_json(&sample_export())),
    );

    let daemon = DaemonProcess::spawn(
        &role.conninfo(&db),
        storage.path(),
        &[("FULLPASS_SKIP_MIGRATIONS", "true")],
    );
    daemon
        .wait_for_log("fullpass is running", Duration::from_secs(30))
        .await;
    let id: Uuid = admin
        .query_one(
            "insert into public.user_profiles (user_id, email, storage_path, full_pass_status)
             values (gen_random_uuid(), 'w@example.com', 'imports/w/export.json.gz', 'pending')
             returning user_id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let r =
        common::wait_for_status(&admin, id, &["complete", "failed"], Duration::from_secs(30)).await;
    // The worker claimed the row and wrote a final state back. Whether that is
    // `complete` depends on the export pipeline, not on privileges; a privilege
    // problem would leave the row pending or name itself in the error.
    let error = r.error.clone().unwrap_or_default();
    match r.status.as_deref() {
        Some("complete") => assert!(r.memory_md.is_some_and(|md| !md.is_empty())),
        Some("failed") => assert!(
            !error.contains("permission") && !error.contains("privilege"),
            "{error}"
        ),
        other => panic!("unexpected status {other:?}"),
    }
    let email: String = admin
        .query_one(
            "select email from public.user_profiles where user_id = $1",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(email, "w@example.com");
    assert!(
        !daemon.log().contains("permission denied"),
        "{}",
        daemon.log()
    );
}
