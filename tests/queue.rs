//! The queue's state transitions and fencing, statement by statement.

mod common;

use common::{insert_profile, migrated, row};
use fullpass::db::queue;
use serde_json::json;
use std::time::Duration;

const LEASE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn claims_are_exclusive_and_skip_rows_without_a_path() {
    let db = migrated().await;
    let c = db.client().await;
    let a = insert_profile(&c, Some("b/a"), Some("pending")).await;
    let _no_path = insert_profile(&c, None, Some("pending")).await;
    let _done = insert_profile(&c, Some("b/c"), Some("complete")).await;
    let first = queue::claim_next(&c, "w1", LEASE, 10).await.unwrap();
    assert_eq!(first.iter().map(|j| j.user_id).collect::<Vec<_>>(), vec![a]);
    let second = queue::claim_next(&c, "w2", LEASE, 10).await.unwrap();
    assert!(second.is_empty(), "a processing row was claimed twice");
    let r = row(&c, a).await;
    assert_eq!((r.status.as_deref(), r.attempts), (Some("processing"), 1));
}

#[tokio::test]
async fn one_statement_completes_many_jobs_and_skips_stale_claims() {
    let db = migrated().await;
    let c = db.client().await;
    let a = insert_profile(&c, Some("b/a"), Some("pending")).await;
    let b = insert_profile(&c, Some("b/b"), Some("pending")).await;
    let gone = insert_profile(&c, Some("b/c"), Some("pending")).await;
    let jobs = queue::claim_next(&c, "w", LEASE, 10).await.unwrap();
    assert_eq!(jobs.len(), 3);
    let job = |id| jobs.iter().find(|j| j.user_id == id).unwrap().clone();
    // An operator takes one row away while it runs: its claim is void.
    c.execute(
        "update user_profiles set full_pass_status = 'failed' where user_id = $1",
        &[&gone],
    )
    .await
    .unwrap();
    // A stale token for `a` (from an earlier claim) rides in the same batch.
    let mut stale = job(a);
    stale.token = uuid::Uuid::new_v4();
    let completion = |j: &queue::ClaimedJob, md: &str| queue::Completion {
        user_id: j.user_id,
        token: j.token,
        memory_md: md.to_owned(),
        memory_facts: json!([{"fact": md}]),
        stats: json!({"conversations": 1}),
    };
    let batch = [
        completion(&stale, "stale"),
        completion(&job(a), "- a"),
        completion(&job(b), "- b"),
        completion(&job(gone), "- gone"),
    ];
    let mut written = queue::complete_all(&c, &batch).await.unwrap();
    written.sort();
    let mut expected = vec![job(a).token, job(b).token];
    expected.sort();
    assert_eq!(written, expected);
    for (id, md) in [(a, "- a"), (b, "- b")] {
        let r = row(&c, id).await;
        assert_eq!(r.status.as_deref(), Some("complete"));
        assert_eq!(r.memory_md.as_deref(), Some(md));
        assert_eq!(r.memory_facts, Some(json!([{"fact": md}])));
        assert_eq!(r.stats, Some(json!({"conversations": 1})));
    }
    let r = row(&c, gone).await;
    assert_eq!((r.status.as_deref(), r.memory_md), (Some("failed"), None));
}

#[tokio::test]
async fn completion_is_fenced_by_the_claim_token() {
    let db = migrated().await;
    let c = db.client().await;
    let id = insert_profile(&c, Some("b/a"), Some("pending")).await;
    let slow = queue::claim_next(&c, "slow", Duration::from_millis(1), 1)
        .await
        .unwrap()
        .remove(0);
    tokio::time::sleep(Duration::from_millis(20)).await;
    // The slow worker's lease expired: rescued, then claimed by another worker.
    let rescued = queue::rescue_expired(&c, 5).await.unwrap();
    assert_eq!(rescued, vec![(id, "pending".to_owned())]);
    let fast = queue::claim_next(&c, "fast", LEASE, 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(fast.attempt, 2);
    assert!(
        queue::complete(&c, &fast, "## Memory\n- fresh\n", &json!([]), &json!({}))
            .await
            .unwrap()
    );
    // The slow worker finishes late: none of its writes land.
    assert!(
        !queue::complete(&c, &slow, "stale", &json!([]), &json!({}))
            .await
            .unwrap()
    );
    assert!(!queue::fail(&c, &slow, "stale error").await.unwrap());
    assert!(
        !queue::retry_later(&c, &slow, "stale", Duration::ZERO)
            .await
            .unwrap()
    );
    assert!(!queue::release(&c, &slow).await.unwrap());
    assert!(!queue::renew(&c, &slow, LEASE, None).await.unwrap());
    let r = row(&c, id).await;
    assert_eq!(r.status.as_deref(), Some("complete"));
    assert_eq!(r.memory_md.as_deref(), Some("## Memory\n- fresh\n"));
    assert_eq!((r.attempts, r.rescues, r.error), (2, 1, None));
}

#[tokio::test]
async fn release_gives_the_row_back_without_charging_an_attempt() {
    let db = migrated().await;
    let c = db.client().await;
    let id = insert_profile(&c, Some("b/a"), Some("pending")).await;
    let job = queue::claim_next(&c, "w", LEASE, 1)
        .await
        .unwrap()
        .remove(0);
    assert!(queue::release(&c, &job).await.unwrap());
    let r = row(&c, id).await;
    assert_eq!((r.status.as_deref(), r.attempts), (Some("pending"), 0));
    let again = queue::claim_next(&c, "w", LEASE, 1).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempt, 1);
}

#[tokio::test]
async fn rescue_fails_a_row_that_is_out_of_attempts() {
    let db = migrated().await;
    let c = db.client().await;
    let id = insert_profile(&c, Some("b/a"), Some("pending")).await;
    let _job = queue::claim_next(&c, "w", Duration::from_millis(1), 1)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let rescued = queue::rescue_expired(&c, 1).await.unwrap();
    assert_eq!(rescued, vec![(id, "failed".to_owned())]);
    let r = row(&c, id).await;
    assert!(r.error.unwrap().contains("stopped renewing"));
}

#[tokio::test]
async fn live_leases_are_not_rescued_and_renewal_extends_them() {
    let db = migrated().await;
    let c = db.client().await;
    insert_profile(&c, Some("b/a"), Some("pending")).await;
    let job = queue::claim_next(&c, "w", Duration::from_millis(300), 1)
        .await
        .unwrap()
        .remove(0);
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(
            queue::renew(
                &c,
                &job,
                Duration::from_millis(300),
                Some(&json!({"bytes_read": 1}))
            )
            .await
            .unwrap()
        );
        assert!(queue::rescue_expired(&c, 5).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn status_counts_rows() {
    let db = migrated().await;
    let c = db.client().await;
    insert_profile(&c, Some("b/a"), Some("pending")).await;
    insert_profile(&c, None, Some("pending")).await;
    insert_profile(&c, Some("b/c"), Some("failed")).await;
    let s = queue::status(&c).await.unwrap();
    assert_eq!((s.pending, s.claimable, s.failed, s.complete), (2, 1, 1, 0));
    assert!(s.oldest_claimable_secs.is_some());
}

#[tokio::test]
async fn pooled_claims_and_completions_work_prepared_and_unprepared() {
    let db = migrated().await;
    let c = db.client().await;
    // One connection, so the second round reuses the statements cached on it.
    let pool = db.config().pool(1).unwrap();
    for statements in [
        queue::Statements::Prepared,
        queue::Statements::Prepared,
        queue::Statements::Unprepared,
    ] {
        let a = insert_profile(&c, Some("b/a"), Some("pending")).await;
        let b = insert_profile(&c, Some("b/b"), Some("pending")).await;
        let conn = pool.get().await.unwrap();
        let jobs = queue::claim_next_pooled(&conn, statements, "w", LEASE, 10)
            .await
            .unwrap();
        let mut claimed: Vec<_> = jobs.iter().map(|j| j.user_id).collect();
        claimed.sort();
        let mut expected = vec![a, b];
        expected.sort();
        assert_eq!(claimed, expected, "{statements:?}");
        let batch: Vec<_> = jobs
            .iter()
            .map(|j| queue::Completion {
                user_id: j.user_id,
                token: j.token,
                memory_md: format!("- {}", j.user_id),
                memory_facts: json!([]),
                stats: json!({}),
            })
            .collect();
        let written = queue::complete_all_pooled(&conn, statements, &batch)
            .await
            .unwrap();
        assert_eq!(written.len(), 2, "{statements:?}");
        for id in [a, b] {
            let r = row(&c, id).await;
            assert_eq!(r.status.as_deref(), Some("complete"), "{statements:?}");
            assert_eq!(r.memory_md, Some(format!("- {id}")));
        }
        // Prepared: the claim and the completion, once on this connection and
        // reused in the next round; unprepared adds none.
        let prepared: i64 = conn
            .query_one(
                "select count(*) from pg_prepared_statements
                  where ltrim(statement, E' \\n') like 'update public.user_profiles%'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(prepared, 2, "{statements:?}");
    }
}

/// The plan of a statement as PostgreSQL caches it for repeated use.
async fn generic_plan(c: &tokio_postgres::Client, sql: &str) -> String {
    let params = (1..=9).filter(|n| sql.contains(&format!("${n}"))).count();
    c.batch_execute(&format!(
        "set plan_cache_mode = force_generic_plan; deallocate all; prepare fenced as {sql}"
    ))
    .await
    .unwrap();
    let nulls = vec!["null"; params].join(", ");
    let lines = c
        .simple_query(&format!("explain execute fenced({nulls})"))
        .await
        .unwrap();
    lines
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn fenced_statements_find_the_row_by_its_primary_key() {
    let db = migrated().await;
    let c = db.client().await;
    // Many profiles, a few processing, statistics fresh: the partial index of
    // processing rows looks like the cheapest way to a processing row.
    c.batch_execute(
        "insert into user_profiles (user_id, storage_path, full_pass_status)
         select gen_random_uuid(), 'b/' || g, case when g % 1000 = 0 then 'pending' end
           from generate_series(1, 5000) g;
         analyze user_profiles",
    )
    .await
    .unwrap();
    queue::claim_next(&c, "w", LEASE, 5).await.unwrap();
    c.batch_execute("analyze user_profiles").await.unwrap();
    for sql in queue::FENCED {
        let plan = generic_plan(&c, sql).await;
        assert!(
            plan.contains("user_profiles_pkey") && !plan.contains("full_pass_processing"),
            "{sql}\n{plan}"
        );
    }
}

#[tokio::test]
async fn a_claim_commits_asynchronously_without_changing_the_session() {
    let db = migrated().await;
    let c = db.client().await;
    let id = insert_profile(&c, Some("b/a"), Some("pending")).await;
    c.batch_execute("set synchronous_commit = on; begin")
        .await
        .unwrap();
    let jobs = queue::claim_next(&c, "w", LEASE, 10).await.unwrap();
    assert_eq!(jobs.iter().map(|j| j.user_id).collect::<Vec<_>>(), vec![id]);
    let in_claim: String = c
        .query_one("select current_setting('synchronous_commit')", &[])
        .await
        .unwrap()
        .get(0);
    c.batch_execute("commit").await.unwrap();
    let after: String = c
        .query_one("select current_setting('synchronous_commit')", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!((in_claim.as_str(), after.as_str()), ("off", "on"));
    assert_eq!(row(&c, id).await.status.as_deref(), Some("processing"));
}
