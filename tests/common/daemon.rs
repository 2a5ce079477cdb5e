//! Runs the real `fullpass` binary as a daemon against a test database.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub struct DaemonProcess {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

/// Settings that make the daemon react quickly in tests.
pub const FAST: &[(&str, &str)] = &[
    ("FULLPASS_SWEEP_INTERVAL", "300ms"),
    ("FULLPASS_LEASE", "2s"),
    ("FULLPASS_RETRY_BASE", "100ms"),
    ("FULLPASS_RETRY_MAX", "500ms"),
    ("FULLPASS_SHUTDOWN_GRACE", "10s"),
    ("FULLPASS_CONCURRENCY", "4"),
    // Most tests name arbitrary paths; the rule has tests of its own (tests/storage.rs).
    ("FULLPASS_STORAGE_PATH_TEMPLATE", "off"),
];

impl DaemonProcess {
    /// Starts `fullpass run` with [`FAST`] settings, then `extra` (which may override
    /// them; an empty value removes the variable, leaving the daemon's default).
    pub fn spawn(db_url: &str, storage_dir: &Path, extra: &[(&str, &str)]) -> DaemonProcess {
        let dir = tempfile::tempdir().expect("log dir");
        let log = dir.path().join("daemon.log");
        let file = std::fs::File::create(&log).expect("log file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_fullpass"));
        cmd.arg("run")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", db_url)
            .env("FULLPASS_STORAGE_DIR", storage_dir)
            .env("FULLPASS_LOG", "info,fullpass=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file);
        for (k, v) in FAST.iter().chain(extra) {
            if v.is_empty() {
                cmd.env_remove(k);
            } else {
                cmd.env(k, v);
            }
        }
        let child = cmd.spawn().expect("spawn fullpass");
        DaemonProcess {
            child,
            log,
            _dir: dir,
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log contains `needle`.
    pub async fn wait_for_log(&self, needle: &str, timeout: Duration) {
        let start = Instant::now();
        while !self.log().contains(needle) {
            assert!(
                start.elapsed() < timeout,
                "daemon log never showed {needle:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) with a pid we own and a valid signal number.
        unsafe {
            libc::kill(self.pid(), signal);
        }
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }
}

impl Drop for DaemonProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
