//! A throwaway PostgreSQL cluster: `fullpass demo` and the tests use one when no
//! server is at hand.
//!
//! It runs the installed server binaries (`initdb`, `pg_ctl`) on a fresh data
//! directory under the temp dir, on a free port of 127.0.0.1, with trust
//! authentication. Dropping it stops the server and deletes the directory; a
//! small watchdog process does the same if this process dies without dropping it
//! (a `static`, a panic with `abort`, `kill -9`).
//!
//! PostgreSQL refuses to run as root, so as root the binaries run as the
//! `postgres` system user (else `nobody`) through `runuser` or `setpriv`.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// Why a throwaway cluster could not be made or started.
#[derive(Debug, thiserror::Error)]
pub enum DevDbError {
    #[error("PostgreSQL server binaries not found: no initdb and pg_ctl on PATH nor in {searched}")]
    BinariesNotFound { searched: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    #[error("{program} failed ({status}): {output}")]
    CommandFailed {
        program: String,
        status: String,
        output: String,
    },
    #[error(
        "running as root, and neither runuser nor setpriv is available to run PostgreSQL as {user}"
    )]
    NoPrivilegeDrop { user: String },
    #[error("running as root, and no unprivileged user (postgres, nobody) to run PostgreSQL as")]
    NoUnprivilegedUser,
    #[error("no temporary directory the user {user} can reach (tried {tried})")]
    NoReachableTempDir { user: String, tried: String },
    #[error("invalid option: {0}")]
    InvalidOption(String),
    #[error("the throwaway PostgreSQL did not start: {detail}; server log:\n{log}")]
    StartFailed { detail: String, log: String },
}

fn io_error(context: impl Into<String>) -> impl FnOnce(io::Error) -> DevDbError {
    let context = context.into();
    move |source| DevDbError::Io { context, source }
}

/// Extra server configuration: settings, `pg_hba.conf`, files in the data directory.
#[derive(Debug, Clone, Default)]
pub struct DevPostgresOptions {
    settings: Vec<(String, String)>,
    hba: Option<Vec<String>>,
    files: Vec<(String, Vec<u8>)>,
    bin_dir: Option<PathBuf>,
}

impl DevPostgresOptions {
    pub fn new() -> DevPostgresOptions {
        DevPostgresOptions::default()
    }

    /// A `postgresql.conf` setting, e.g. `("ssl", "on")`; the value is quoted for you.
    pub fn setting(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.push((name.into(), value.into()));
        self
    }

    /// Replaces `pg_hba.conf` (default: trust for local and 127.0.0.1 connections).
    pub fn hba_lines<I, S>(mut self, lines: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.hba = Some(lines.into_iter().map(Into::into).collect());
        self
    }

    /// A file written into the data directory, readable by the server only (0600):
    /// certificates and keys, which settings then name by this relative name.
    pub fn file(mut self, name: impl Into<String>, contents: impl Into<Vec<u8>>) -> Self {
        self.files.push((name.into(), contents.into()));
        self
    }

    /// Where `initdb` and `pg_ctl` are, instead of searching for them.
    pub fn bin_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.bin_dir = Some(dir.into());
        self
    }

    fn validate(&self) -> Result<(), DevDbError> {
        for (name, value) in &self.settings {
            let name_ok = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
            if !name_ok || value.contains(['\n', '\r']) {
                return Err(DevDbError::InvalidOption(format!(
                    "setting {name:?} = {value:?}"
                )));
            }
        }
        for (name, _) in &self.files {
            let plain = Path::new(name)
                .file_name()
                .is_some_and(|f| f == name.as_str());
            if !plain || name.starts_with('.') {
                return Err(DevDbError::InvalidOption(format!(
                    "file name {name:?} must be a plain name inside the data directory"
                )));
            }
        }
        if let Some(lines) = &self.hba
            && lines.iter().any(|l| l.contains(['\n', '\r']))
        {
            return Err(DevDbError::InvalidOption(
                "an hba line contains a line break".to_owned(),
            ));
        }
        Ok(())
    }
}

/// The unprivileged account the server runs as when we are root.
#[derive(Debug, Clone)]
struct RunAs {
    user: String,
    uid: u32,
    gid: u32,
    /// `runuser` or `setpriv`.
    tool: PathBuf,
}

/// How to launch the server binaries: which ones, as whom.
#[derive(Debug, Clone)]
struct Launcher {
    bin_dir: PathBuf,
    run_as: Option<RunAs>,
}

impl Launcher {
    fn command(&self, program: &str, cwd: &Path) -> Command {
        let exe = self.bin_dir.join(program);
        let mut cmd = match &self.run_as {
            None => Command::new(exe),
            Some(run_as) => {
                let mut cmd = Command::new(&run_as.tool);
                if run_as.tool.ends_with("runuser") {
                    cmd.args(["-u", &run_as.user, "--"]);
                } else {
                    cmd.arg(format!("--reuid={}", run_as.uid))
                        .arg(format!("--regid={}", run_as.gid))
                        .args(["--clear-groups", "--"]);
                }
                cmd.arg(exe);
                cmd
            }
        };
        // The binaries resolve their own path relative to the working directory,
        // which the unprivileged user must be able to read.
        cmd.current_dir(cwd).stdin(Stdio::null());
        cmd
    }

    fn chown(&self, path: &Path) -> Result<(), DevDbError> {
        match &self.run_as {
            None => Ok(()),
            Some(run_as) => {
                std::os::unix::fs::chown(path, Some(run_as.uid), Some(run_as.gid)).map_err(
                    io_error(format!("giving {} to {}", path.display(), run_as.user)),
                )
            }
        }
    }
}

/// A running throwaway cluster; dropping it stops the server and deletes its
/// files (blocking for the server's shutdown, a fraction of a second).
#[derive(Debug)]
pub struct DevPostgres {
    root: PathBuf,
    data_dir: PathBuf,
    port: u16,
    launcher: Launcher,
    watchdog: Option<Child>,
}

/// Settings that make a disposable cluster fast and small; durability is pointless here.
const BASE_SETTINGS: &[(&str, &str)] = &[
    ("listen_addresses", "127.0.0.1"),
    ("fsync", "off"),
    ("synchronous_commit", "off"),
    ("full_page_writes", "off"),
    ("shared_buffers", "32MB"),
    ("max_connections", "200"),
];

/// Sockets live in the cluster's directory; their path must fit in `sun_path`.
const MAX_SOCKET_DIR_LEN: usize = 80;

const START_ATTEMPTS: usize = 3;

impl DevPostgres {
    /// Creates and starts a cluster (a few seconds: `initdb` is most of it).
    pub async fn start(options: DevPostgresOptions) -> Result<DevPostgres, DevDbError> {
        tokio::task::spawn_blocking(move || DevPostgres::start_blocking(options))
            .await
            .map_err(|e| DevDbError::StartFailed {
                detail: format!("the start task stopped: {e}"),
                log: String::new(),
            })?
    }

    /// [`DevPostgres::start`] for code that is not async (test set-up).
    pub fn start_blocking(options: DevPostgresOptions) -> Result<DevPostgres, DevDbError> {
        options.validate()?;
        let bin_dir = match &options.bin_dir {
            Some(dir) => dir.clone(),
            None => find_bin_dir()?,
        };
        let run_as = if effective_uid()? == 0 {
            Some(unprivileged_user()?)
        } else {
            None
        };
        let launcher = Launcher { bin_dir, run_as };
        let root = make_root_dir(&launcher)?;
        // From here on, Drop cleans up whatever exists.
        let mut cluster = DevPostgres {
            data_dir: root.join("data"),
            root,
            port: 0,
            launcher,
            watchdog: None,
        };
        cluster.watchdog = spawn_watchdog(&cluster.data_dir, &cluster.root).ok();
        cluster.init(&options)?;
        cluster.run()?;
        Ok(cluster)
    }

    fn init(&self, options: &DevPostgresOptions) -> Result<(), DevDbError> {
        let mut initdb = self.launcher.command("initdb", &self.root);
        initdb
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C"])
            .arg("--no-sync");
        run(initdb, "initdb")?;

        let mut conf = String::from("\n# added by fullpass for a throwaway cluster\n");
        let socket_dir = if self.root.as_os_str().len() <= MAX_SOCKET_DIR_LEN {
            self.root.display().to_string()
        } else {
            String::new()
        };
        conf.push_str(&conf_line("unix_socket_directories", &socket_dir));
        for (name, value) in BASE_SETTINGS {
            conf.push_str(&conf_line(name, value));
        }
        for (name, value) in &options.settings {
            conf.push_str(&conf_line(name, value));
        }
        let conf_path = self.data_dir.join("postgresql.conf");
        fs::OpenOptions::new()
            .append(true)
            .open(&conf_path)
            .and_then(|mut f| f.write_all(conf.as_bytes()))
            .map_err(io_error(format!("writing {}", conf_path.display())))?;

        if let Some(lines) = &options.hba {
            let hba_path = self.data_dir.join("pg_hba.conf");
            let mut text = lines.join("\n");
            text.push('\n');
            fs::write(&hba_path, text)
                .map_err(io_error(format!("writing {}", hba_path.display())))?;
        }
        for (name, contents) in &options.files {
            let path = self.data_dir.join(name);
            fs::write(&path, contents).map_err(io_error(format!("writing {}", path.display())))?;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600))
                .map_err(io_error(format!("protecting {}", path.display())))?;
            self.launcher.chown(&path)?;
        }
        Ok(())
    }

    /// Starts the server on a free port; another process may take the port
    /// between our probe and the server's bind, so a bind failure is retried.
    fn run(&mut self) -> Result<(), DevDbError> {
        let log = self.root.join("server.log");
        let mut last = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port()?;
            let mut pg_ctl = self.launcher.command("pg_ctl", &self.root);
            pg_ctl
                .arg("start")
                .arg("-D")
                .arg(&self.data_dir)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "60", "-o"])
                .arg(format!("-p {port}"));
            let output = pg_ctl.output().map_err(io_error("running pg_ctl start"))?;
            if output.status.success() {
                self.port = port;
                return Ok(());
            }
            last = describe_output(&output);
            let log_text = fs::read_to_string(&log).unwrap_or_default();
            if !log_text.contains("could not bind") && !log_text.contains("already in use") {
                break;
            }
        }
        Err(DevDbError::StartFailed {
            detail: last,
            log: tail(&fs::read_to_string(&log).unwrap_or_default(), 20),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// The data directory (postgresql.conf, the server's files).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// A URL for database `dbname` as the superuser `postgres` (trust: no password).
    pub fn url(&self, dbname: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{dbname}", self.port)
    }

    /// The server log so far, for diagnosing a failed test.
    pub fn log(&self) -> String {
        fs::read_to_string(self.root.join("server.log")).unwrap_or_default()
    }

    fn stop(&mut self) {
        // The pid file also exists when `pg_ctl start -w` gave up on a server that
        // did come up later.
        if self.data_dir.join("postmaster.pid").exists() {
            let mut pg_ctl = self.launcher.command("pg_ctl", &self.root);
            pg_ctl
                .arg("stop")
                .arg("-D")
                .arg(&self.data_dir)
                .args(["-m", "fast", "-w", "-t", "30"]);
            let stopped = pg_ctl.output().map(|o| o.status.success()).unwrap_or(false);
            if !stopped {
                kill_postmaster(&self.data_dir);
            }
        }
        self.port = 0;
        let _ = fs::remove_dir_all(&self.root);
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
    }
}

impl Drop for DevPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

fn conf_line(name: &str, value: &str) -> String {
    format!(
        "{name} = '{}'\n",
        value.replace('\\', "\\\\").replace('\'', "''")
    )
}

fn run(mut command: Command, program: &str) -> Result<Output, DevDbError> {
    let output = command
        .output()
        .map_err(io_error(format!("running {program}")))?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(DevDbError::CommandFailed {
            program: program.to_owned(),
            status: output.status.to_string(),
            output: describe_output(&output),
        })
    }
}

fn describe_output(output: &Output) -> String {
    let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stdout));
    tail(text.trim(), 20)
}

fn tail(text: &str, lines: usize) -> String {
    let count = text.lines().count();
    text.lines()
        .skip(count.saturating_sub(lines))
        .collect::<Vec<_>>()
        .join("\n")
}

fn free_port() -> Result<u16, DevDbError> {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(io_error("finding a free port on 127.0.0.1"))
}

/// Where the server binaries are: a PATH directory holding both `initdb` and
/// `pg_ctl`, else the highest version under Debian's `/usr/lib/postgresql`.
fn find_bin_dir() -> Result<PathBuf, DevDbError> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_both(&dir) {
                return Ok(dir);
            }
        }
    }
    let debian = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(Vec<u32>, PathBuf)> = fs::read_dir(debian)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|entry| {
                    let name = entry.file_name().into_string().ok()?;
                    let version = name
                        .split('.')
                        .map(str::parse)
                        .collect::<Result<Vec<u32>, _>>()
                        .ok()?;
                    let bin = entry.path().join("bin");
                    has_both(&bin).then_some((version, bin))
                })
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| DevDbError::BinariesNotFound {
            searched: format!("{}/*/bin", debian.display()),
        })
}

fn effective_uid() -> Result<u32, DevDbError> {
    // Linux: "Uid:\treal\teffective\tsaved\tfs".
    if let Ok(status) = fs::read_to_string("/proc/self/status")
        && let Some(euid) = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            .and_then(|id| id.parse().ok())
    {
        return Ok(euid);
    }
    id_number(&["-u"])?.ok_or_else(|| DevDbError::CommandFailed {
        program: "id -u".to_owned(),
        status: "no number".to_owned(),
        output: String::new(),
    })
}

/// `id ARGS` as a number; `None` when the user does not exist.
fn id_number(args: &[&str]) -> Result<Option<u32>, DevDbError> {
    let output = Command::new("id")
        .args(args)
        .stderr(Stdio::null())
        .output()
        .map_err(io_error("running id"))?;
    if !output.status.success() {
        return Ok(None);
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().parse().ok())
}

fn unprivileged_user() -> Result<RunAs, DevDbError> {
    for user in ["postgres", "nobody"] {
        let (Some(uid), Some(gid)) = (id_number(&["-u", user])?, id_number(&["-g", user])?) else {
            continue;
        };
        if uid == 0 {
            continue;
        }
        let tool = ["runuser", "setpriv"]
            .iter()
            .find_map(|tool| find_program(tool))
            .ok_or_else(|| DevDbError::NoPrivilegeDrop {
                user: user.to_owned(),
            })?;
        return Ok(RunAs {
            user: user.to_owned(),
            uid,
            gid,
            tool,
        });
    }
    Err(DevDbError::NoUnprivilegedUser)
}

/// A program on PATH, or in the sbin directories root's PATH usually has.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A fresh private directory for the cluster, in a temp dir whose every parent
/// the server's user can traverse.
fn make_root_dir(launcher: &Launcher) -> Result<PathBuf, DevDbError> {
    let candidates = [std::env::temp_dir(), PathBuf::from("/tmp")];
    let reachable = |dir: &Path| match &launcher.run_as {
        None => true,
        Some(run_as) => dir
            .ancestors()
            .all(|a| fs::metadata(a).is_ok_and(|m| m.mode() & 0o001 != 0 || m.uid() == run_as.uid)),
    };
    let Some(base) = candidates.iter().find(|dir| reachable(dir)) else {
        return Err(DevDbError::NoReachableTempDir {
            user: launcher
                .run_as
                .as_ref()
                .map(|r| r.user.clone())
                .unwrap_or_default(),
            tried: candidates
                .iter()
                .map(|c| c.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let root = base.join(format!("fullpass-pg-{}", suffix.get(..12).unwrap_or("x")));
    fs::create_dir(&root).map_err(io_error(format!("creating {}", root.display())))?;
    fs::set_permissions(&root, fs::Permissions::from_mode(0o700))
        .map_err(io_error(format!("protecting {}", root.display())))?;
    if let Err(e) = launcher.chown(&root) {
        let _ = fs::remove_dir(&root);
        return Err(e);
    }
    Ok(root)
}

/// Immediate shutdown by signal, for when `pg_ctl stop` could not do it.
fn kill_postmaster(data_dir: &Path) {
    let pid = fs::read_to_string(data_dir.join("postmaster.pid"))
        .ok()
        .and_then(|text| {
            text.lines()
                .next()
                .and_then(|l| l.trim().parse::<u32>().ok())
        });
    if let Some(pid) = pid {
        let _ = Command::new("kill")
            .args(["-QUIT", &pid.to_string()])
            .stderr(Stdio::null())
            .status();
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Waits for this process to end, then stops the server and deletes its directory.
/// It ignores SIGINT/SIGHUP so that Ctrl-C on the tests does not skip the cleanup.
const WATCHDOG_SCRIPT: &str = r#"
trap '' INT HUP
while kill -0 "$1" 2>/dev/null; do sleep 1; done
if [ -f "$2/postmaster.pid" ]; then
    pid=$(head -n 1 "$2/postmaster.pid")
    kill -QUIT "$pid" 2>/dev/null
    n=0
    while kill -0 "$pid" 2>/dev/null && [ "$n" -lt 50 ]; do sleep 0.2; n=$((n + 1)); done
fi
rm -rf "$3"
"#;

fn spawn_watchdog(data_dir: &Path, root: &Path) -> io::Result<Child> {
    Command::new("sh")
        .arg("-c")
        .arg(WATCHDOG_SCRIPT)
        .arg("fullpass-devdb-watchdog")
        .arg(std::process::id().to_string())
        .arg(data_dir)
        .arg(root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked() {
        let bad_file = DevPostgresOptions::new().file("../escape", "x");
        assert!(bad_file.validate().is_err());
        let bad_setting = DevPostgresOptions::new().setting("ssl", "on\nfsync = on");
        assert!(bad_setting.validate().is_err());
        let good = DevPostgresOptions::new()
            .setting("ssl", "on")
            .file("server.key", "k")
            .hba_lines(["hostssl all all 127.0.0.1/32 trust"]);
        assert!(good.validate().is_ok());
    }

    #[test]
    fn conf_values_are_quoted() {
        assert_eq!(conf_line("a", "it's"), "a = 'it''s'\n");
        assert_eq!(conf_line("b", r"c:\x"), "b = 'c:\\\\x'\n");
    }
}
