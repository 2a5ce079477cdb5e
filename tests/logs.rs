//! What the daemon writes to its log: JSON that parses, job context on every
//! job line, and never a secret.

mod common;

use common::daemon::DaemonProcess;
use common::export::{conversations_json, gzip, sample_export};
use common::storage_server::{Behaviour, StorageServer};
use common::{insert_profile, migrated, wait_for_status};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

/// `postgres://user@host/db` → `postgres://user:PASSWORD@host/db` (trust auth ignores it).
fn with_password(url: &str, password: &str) -> String {
    url.replacen("postgres@", &format!("postgres:{password}@"), 1)
}

#[tokio::test]
async fn json_logs_carry_job_context_and_no_secrets() {
    let db = migrated().await;
    let server = StorageServer::start().await;
    server.put(
        "imports/ok.json.gz",
        gzip(&conversations_json(&sample_export())),
    );
    server.script("imports/flaky.json.gz", vec![Behaviour::Status(503)]);
    server.put(
        "imports/flaky.json.gz",
        gzip(&conversations_json(&sample_export())),
    );
    let db_password = "db-pw-Zq81xT3";
    let url = with_password(&db.url, db_password);
    assert!(
        url.contains(db_password),
        "test URL has no user to attach a password to: {url}"
    );
    let dir = tempfile::tempdir().unwrap();
    let daemon = DaemonProcess::spawn(
        &url,
        dir.path(),
        &[
            ("FULLPASS_LOG_FORMAT", "json"),
            ("SUPABASE_URL", server.url.as_str()),
            ("SUPABASE_SERVICE_ROLE_KEY", server.key.as_str()),
            ("FULLPASS_LLM_API_KEY", "sk-test-LLMKEY-never-logged-0001"),
        ],
    );
    let c = db.client().await;
    let ok = insert_profile(&c, Some("imports/ok.json.gz"), Some("pending")).await;
    let flaky = insert_profile(&c, Some("imports/flaky.json.gz"), Some("pending")).await;
    let missing = insert_profile(&c, Some("imports/missing.json.gz"), Some("pending")).await;
    for id in [ok, flaky, missing] {
        wait_for_status(&c, id, &["complete", "failed"], WAIT).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = daemon.log();

    for secret in [
        db_password,
        server.key.as_str(),
        "sk-test-LLMKEY-never-logged-0001",
    ] {
        assert!(!log.contains(secret), "the log contains a secret:\n{log}");
    }
    let mut job_lines = 0;
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if let Some(span) = value.get("span").filter(|s| s["name"] == "job") {
            job_lines += 1;
            for field in ["user_id", "attempt", "job_id"] {
                assert!(
                    span.get(field).is_some(),
                    "job line without {field}: {line}"
                );
            }
        }
    }
    // claimed + outcome for three jobs, plus the retry of the flaky one.
    assert!(job_lines >= 7, "only {job_lines} job lines:\n{log}");
    assert!(log.contains(&missing.to_string()) && log.contains("not found"));
}
