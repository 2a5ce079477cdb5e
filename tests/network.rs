//! A bad network between fullpass and PostgreSQL: a connection that silently
//! stops answering, and a database that goes away. Faults are made by a TCP
//! proxy the test controls; the daemon is the real `fullpass run` binary.

mod common;

use common::daemon::DaemonProcess;
use common::export::{conversations_json, sample_export};
use common::storage_server::{Behaviour, StorageServer};
use common::tcp_proxy::{Mode, TcpProxy, upstream_of};
use common::{insert_profile, migrated, sample_store, wait_for_status};
use std::time::{Duration, Instant};

const PATH: &str = "b/e.json";

/// CPU seconds a process has used (user + system), from /proc.
fn cpu_seconds(pid: i32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // utime and stime are fields 14 and 15 of the line; the command name (field
    // 2) may hold spaces, so count from after its ')': field 3 is index 0 there.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // SAFETY: sysconf with a valid name.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (ticks(11) + ticks(12)) / hz
}

/// A daemon connected through `proxy`, up and past one job (so its pool holds connections).
async fn warmed_daemon(
    db: &common::TestDb,
    proxy: &TcpProxy,
    storage: &std::path::Path,
    extra: &[(&str, &str)],
) -> DaemonProcess {
    let daemon = DaemonProcess::spawn(&proxy.url_for(&db.url), storage, extra);
    daemon
        .wait_for_log("fullpass is running", Duration::from_secs(30))
        .await;
    let c = db.client().await;
    let id = insert_profile(&c, Some(PATH), Some("pending")).await;
    let r = wait_for_status(&c, id, &["complete", "failed"], Duration::from_secs(30)).await;
    assert_eq!(r.status.as_deref(), Some("complete"), "{r:?}");
    daemon
}

#[tokio::test]
async fn a_blackholed_database_is_noticed_and_work_resumes_when_the_network_returns() {
    let db = migrated().await;
    let proxy = TcpProxy::start(upstream_of(&db.url)).await;
    let storage = sample_store(PATH);
    let daemon = warmed_daemon(&db, &proxy, storage.path(), &[]).await;

    proxy.set(Mode::Blackhole);
    let c = db.client().await;
    let id = insert_profile(&c, Some(PATH), Some("pending")).await;
    // The network is dead for 20 s: long enough for sweeps, claims, the
    // listener's check and the claim's lease to run into it.
    tokio::time::sleep(Duration::from_secs(20)).await;
    proxy.set(Mode::Forward);
    let back = Instant::now();
    let r = wait_for_status(&c, id, &["complete", "failed"], Duration::from_secs(60)).await;
    assert_eq!(r.status.as_deref(), Some("complete"), "{r:?}");
    // Bound: lease (2 s in tests) + 30 s.
    assert!(
        back.elapsed() < Duration::from_secs(32),
        "took {:?} after the network returned:\n{}",
        back.elapsed(),
        daemon.log()
    );
}

#[tokio::test]
async fn sigterm_ends_the_daemon_within_the_grace_period_while_the_database_is_blackholed() {
    let db = migrated().await;
    let proxy = TcpProxy::start(upstream_of(&db.url)).await;
    let storage = sample_store(PATH);
    let server = StorageServer::start().await;
    let slow = "imports/slow/export.json";
    server.put(slow, conversations_json(&sample_export()));
    // The download trickles for about a minute: the job is running throughout.
    server.script(
        slow,
        vec![Behaviour::Trickle {
            chunk: 64,
            every: Duration::from_millis(100),
        }],
    );
    let mut env: Vec<(&str, String)> = server.env();
    env.push(("FULLPASS_SHUTDOWN_GRACE", "2s".to_owned()));
    env.push(("FULLPASS_STORAGE_DIR", storage.path().display().to_string()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut daemon = DaemonProcess::spawn(&proxy.url_for(&db.url), storage.path(), &env);
    daemon
        .wait_for_log("fullpass is running", Duration::from_secs(30))
        .await;
    let c = db.client().await;
    let id = insert_profile(&c, Some(slow), Some("pending")).await;
    let start = Instant::now();
    while server.requests(slow) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "never downloaded"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    proxy.set(Mode::Blackhole);
    insert_profile(&c, Some(slow), Some("pending")).await;
    // The renewals, the sweep and a claim run into the dead network.
    tokio::time::sleep(Duration::from_secs(3)).await;
    daemon.signal(libc::SIGTERM);
    let status = daemon.wait_exit(Duration::from_secs(15)).await;
    assert!(
        status.is_some(),
        "still running 15 s after SIGTERM (grace 2 s):\n{}",
        daemon.log()
    );
    drop(proxy);
    // Its row is not lost: it goes back to pending when its lease runs out.
    let r = common::row(&c, id).await;
    assert_ne!(r.status.as_deref(), Some("complete"), "{r:?}");
}

#[tokio::test]
async fn a_database_outage_is_logged_once_per_change_and_does_not_spin() {
    let db = migrated().await;
    let proxy = TcpProxy::start(upstream_of(&db.url)).await;
    let storage = sample_store(PATH);
    let daemon = warmed_daemon(&db, &proxy, storage.path(), &[]).await;
    let c = db.client().await;

    let warnings = |log: &str| {
        log.lines()
            .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
            .count()
    };
    let lines_before = warnings(&daemon.log());
    let cpu_before = cpu_seconds(daemon.pid());
    proxy.set(Mode::Refuse);
    // Requests keep arriving during the outage (the daemon cannot see them).
    let mut ids = Vec::new();
    let outage = Instant::now();
    while outage.elapsed() < Duration::from_secs(5) {
        ids.push(insert_profile(&c, Some(PATH), Some("pending")).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cpu = cpu_seconds(daemon.pid()) - cpu_before;
    let log = daemon.log();
    let new_lines = warnings(&log) - lines_before;
    proxy.set(Mode::Forward);
    assert!(cpu < 0.5, "{cpu:.2} s of CPU in a 5 s outage");
    // Entering the outage, and the pool's own notes on the connections it drops.
    assert!(
        new_lines <= 15,
        "{new_lines} warnings in a 5 s outage:\n{log}"
    );
    for id in ids {
        let r = wait_for_status(&c, id, &["complete", "failed"], Duration::from_secs(60)).await;
        assert_eq!(r.status.as_deref(), Some("complete"), "{r:?}");
        assert_eq!(r.attempts, 1, "an outage charged an attempt: {r:?}");
    }
    assert!(
        daemon.log().contains("database reachable again"),
        "{}",
        daemon.log()
    );
}
