//! Every setting, from flags or the environment, validated once at start.

use crate::extract::{Category, ExtractSettings};
use crate::ingest::Limits;
use crate::storage::{LocalStorage, PathRule, Storage, SupabaseStorage};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

/// A configuration value that cannot work, named with the flag/variable to fix.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {setting}: {problem}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub problem: String,
}

fn config_error(setting: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        problem: problem.into(),
    }
}

/// Parses `250ms`, `5s`, `2m`, `1h`; refuses zero when a positive value is needed.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("{e} (expected e.g. 500ms, 5s, 2m, 1h)"))
}

/// Byte sizes: `1048576`, `512MiB`, `8GiB`, `10MB`.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size (expected e.g. 512MiB, 8GiB, 1000000)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        "t" | "tb" => 1_000_000_000_000,
        "tib" => 1 << 40,
        other => {
            return Err(format!(
                "unknown size unit {other:?} (use KiB, MiB, GiB, KB, MB, GB)"
            ));
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// How to reach PostgreSQL.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL connection URL (postgres://user:pass@host:5432/db?sslmode=verify-full).
    /// sslmode: disable, prefer (default), require, verify-ca, verify-full.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,

    /// Root certificate(s) (PEM) the server's certificate must chain to, for
    /// verify-ca/verify-full (an `sslrootcert=` in the URL wins).
    #[arg(long, env = "FULLPASS_DB_CA_FILE")]
    pub db_ca_file: Option<PathBuf>,
}

fn shown_duration(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

fn shown_option<T: std::fmt::Display>(value: &Option<T>) -> String {
    value
        .as_ref()
        .map_or_else(|| "(unset)".to_owned(), |v| v.to_string())
}

fn shown_secret(value: &Option<String>) -> String {
    match value {
        Some(v) if !v.is_empty() => "*** (set)".to_owned(),
        _ => "(unset)".to_owned(),
    }
}

impl DatabaseArgs {
    /// The settings as `fullpass config` shows them, secrets masked.
    pub fn shown(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "DATABASE_URL",
                crate::telemetry::mask_url(&self.database_url),
            ),
            (
                "FULLPASS_DB_CA_FILE",
                shown_option(&self.db_ca_file.as_ref().map(|p| p.display())),
            ),
        ]
    }

    pub fn db_config(&self) -> Result<crate::db::DbConfig, ConfigError> {
        crate::db::DbConfig::from_url_with_ca(&self.database_url, self.db_ca_file.as_deref())
            .map_err(|e| config_error("DATABASE_URL", e.to_string()))
    }
}

/// Where exports are read from.
#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Root directory of the local export store; `storage_path` is resolved below it.
    /// Used when SUPABASE_URL is not set.
    #[arg(long, env = "FULLPASS_STORAGE_DIR", default_value = "./storage")]
    pub storage_dir: PathBuf,

    /// Supabase project URL; setting it selects the Supabase Storage backend.
    #[arg(long, env = "SUPABASE_URL")]
    pub supabase_url: Option<String>,

    /// Supabase service-role key (required with SUPABASE_URL; never logged).
    #[arg(long, env = "SUPABASE_SERVICE_ROLE_KEY", hide_env_values = true)]
    pub supabase_service_role_key: Option<String>,

    /// Connect timeout, and the longest wait for more bytes, when downloading an export.
    #[arg(long, env = "FULLPASS_STORAGE_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub storage_timeout: Duration,

    /// Folder a row's storage_path must lie under: `{bucket}` (one of
    /// FULLPASS_STORAGE_BUCKETS) first, and the row's `{user_id}`, as in
    /// Supabase Storage's per-user folders. `off` reads any path: unsafe when
    /// users can set their own row's storage_path.
    #[arg(
        long,
        env = "FULLPASS_STORAGE_PATH_TEMPLATE",
        default_value = "{bucket}/{user_id}/"
    )]
    pub storage_path_template: String,

    /// Comma-separated buckets a storage_path may name (see FULLPASS_STORAGE_PATH_TEMPLATE).
    #[arg(long, env = "FULLPASS_STORAGE_BUCKETS", default_value = "imports")]
    pub storage_buckets: String,
}

impl StorageArgs {
    /// The settings as `fullpass config` shows them, secrets masked.
    pub fn shown(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "FULLPASS_STORAGE_DIR",
                self.storage_dir.display().to_string(),
            ),
            ("SUPABASE_URL", shown_option(&self.supabase_url)),
            (
                "SUPABASE_SERVICE_ROLE_KEY",
                shown_secret(&self.supabase_service_role_key),
            ),
            (
                "FULLPASS_STORAGE_TIMEOUT",
                shown_duration(self.storage_timeout),
            ),
            (
                "FULLPASS_STORAGE_PATH_TEMPLATE",
                self.storage_path_template.clone(),
            ),
            ("FULLPASS_STORAGE_BUCKETS", self.storage_buckets.clone()),
        ]
    }

    /// Which storage paths a row may name.
    pub fn path_rule(&self) -> Result<PathRule, ConfigError> {
        PathRule::parse(&self.storage_path_template, &self.storage_buckets)
            .map_err(|e| config_error(e.setting, e.problem))
    }

    pub fn build(&self) -> Result<Storage, ConfigError> {
        match (&self.supabase_url, &self.supabase_service_role_key) {
            (Some(url), Some(key)) => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(config_error(
                        "SUPABASE_URL",
                        format!("{url:?} is not an http(s) URL"),
                    ));
                }
                if key.trim().is_empty() {
                    return Err(config_error("SUPABASE_SERVICE_ROLE_KEY", "is empty"));
                }
                let storage =
                    SupabaseStorage::new(url, key, self.storage_timeout, self.storage_timeout)
                        .map_err(|e| config_error("SUPABASE_URL", e.to_string()))?;
                Ok(Storage::Supabase(storage))
            }
            (Some(_), None) => Err(config_error(
                "SUPABASE_SERVICE_ROLE_KEY",
                "is required when SUPABASE_URL is set",
            )),
            (None, Some(_)) => Err(config_error(
                "SUPABASE_URL",
                "is required when SUPABASE_SERVICE_ROLE_KEY is set",
            )),
            (None, None) => Ok(Storage::Local(LocalStorage::new(self.storage_dir.clone()))),
        }
    }
}

/// How exports are read and what the memory may hold.
#[derive(Debug, Clone, Args)]
pub struct ProcessingArgs {
    /// Largest export accepted, as stored (compressed).
    #[arg(long, env = "FULLPASS_MAX_EXPORT_BYTES", default_value = "8GiB", value_parser = parse_bytes)]
    pub max_export_bytes: u64,

    /// Largest export accepted once decompressed (stops gzip bombs).
    #[arg(long, env = "FULLPASS_MAX_DECOMPRESSED_BYTES", default_value = "64GiB", value_parser = parse_bytes)]
    pub max_decompressed_bytes: u64,

    /// Largest single conversation accepted, as JSON. One conversation is held
    /// in memory whole (its tree must be read before its branch can be chosen),
    /// at 2 to 3 times this size.
    #[arg(long, env = "FULLPASS_MAX_CONVERSATION_BYTES", default_value = "256MiB", value_parser = parse_bytes)]
    pub max_conversation_bytes: u64,

    /// Most bullet lines in MEMORY.
    #[arg(long, env = "FULLPASS_MEMORY_MAX_LINES", default_value_t = 150)]
    pub memory_max_lines: usize,

    /// Most bytes in MEMORY.
    #[arg(long, env = "FULLPASS_MEMORY_MAX_BYTES", default_value = "8KiB", value_parser = parse_bytes)]
    pub memory_max_bytes: u64,

    /// Comma-separated categories never written (e.g. `health,family`).
    /// Known: identity, location, work, family, pets, health, languages,
    /// interests, projects, preferences, goals.
    #[arg(long, env = "FULLPASS_EXCLUDE_CATEGORIES", value_delimiter = ',')]
    pub exclude_categories: Vec<String>,
}

impl ProcessingArgs {
    /// The settings as `fullpass config` shows them.
    pub fn shown(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "FULLPASS_MAX_EXPORT_BYTES",
                self.max_export_bytes.to_string(),
            ),
            (
                "FULLPASS_MAX_DECOMPRESSED_BYTES",
                self.max_decompressed_bytes.to_string(),
            ),
            (
                "FULLPASS_MAX_CONVERSATION_BYTES",
                self.max_conversation_bytes.to_string(),
            ),
            (
                "FULLPASS_MEMORY_MAX_LINES",
                self.memory_max_lines.to_string(),
            ),
            (
                "FULLPASS_MEMORY_MAX_BYTES",
                self.memory_max_bytes.to_string(),
            ),
            (
                "FULLPASS_EXCLUDE_CATEGORIES",
                self.exclude_categories.join(","),
            ),
        ]
    }

    pub fn limits(&self) -> Limits {
        Limits {
            max_compressed_bytes: self.max_export_bytes,
            max_decompressed_bytes: self.max_decompressed_bytes,
            max_conversation_bytes: self.max_conversation_bytes,
        }
    }

    pub fn extract_settings(&self) -> Result<ExtractSettings, ConfigError> {
        let mut excluded = Vec::new();
        for name in &self.exclude_categories {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            let category = Category::from_name(name).ok_or_else(|| {
                config_error(
                    "FULLPASS_EXCLUDE_CATEGORIES",
                    format!("unknown category {name:?}"),
                )
            })?;
            excluded.push(category);
        }
        if self.memory_max_lines == 0 {
            return Err(config_error(
                "FULLPASS_MEMORY_MAX_LINES",
                "must be at least 1",
            ));
        }
        if self.memory_max_bytes < 256 {
            return Err(config_error(
                "FULLPASS_MEMORY_MAX_BYTES",
                "must be at least 256 bytes",
            ));
        }
        Ok(ExtractSettings {
            max_lines: self.memory_max_lines,
            max_bytes: usize::try_from(self.memory_max_bytes).unwrap_or(usize::MAX),
            excluded,
        })
    }
}

/// How the daemon listens for work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListenMode {
    /// LISTEN when it works, poll when it does not (transaction poolers).
    Auto,
    /// LISTEN; refuse to start if notifications do not arrive.
    Listen,
    /// Never LISTEN: find work by sweeping on the interval only.
    Poll,
}

/// The daemon's queue behaviour.
#[derive(Debug, Clone, Args)]
pub struct DaemonArgs {
    /// Passes run at once by this process (a job holds its slot from its
    /// download to the end of its pass); up to 64 more jobs may be finishing
    /// (writing their result or failure). For a backlog of small exports, 8 or
    /// more drains faster.
    #[arg(long, env = "FULLPASS_CONCURRENCY", default_value_t = 4)]
    pub concurrency: usize,

    /// Backstop sweep for claimable and expired rows (notifications are only hints).
    #[arg(long, env = "FULLPASS_SWEEP_INTERVAL", default_value = "5s", value_parser = parse_duration)]
    pub sweep_interval: Duration,

    /// A claimed row whose worker stops renewing it for this long goes back to pending.
    #[arg(long, env = "FULLPASS_LEASE", default_value = "20s", value_parser = parse_duration)]
    pub lease: Duration,

    /// Attempts before a transiently failing job is marked failed.
    #[arg(long, env = "FULLPASS_MAX_ATTEMPTS", default_value_t = 5)]
    pub max_attempts: i32,

    /// First retry delay; doubles per attempt, with jitter.
    #[arg(long, env = "FULLPASS_RETRY_BASE", default_value = "5s", value_parser = parse_duration)]
    pub retry_base: Duration,

    /// Longest retry delay.
    #[arg(long, env = "FULLPASS_RETRY_MAX", default_value = "10m", value_parser = parse_duration)]
    pub retry_max: Duration,

    /// Wall-clock limit of one job; past it the job is cancelled and retried.
    #[arg(long, env = "FULLPASS_JOB_TIMEOUT", default_value = "1h", value_parser = parse_duration)]
    pub job_timeout: Duration,

    /// On SIGTERM/SIGINT, how long running jobs may take to finish before they are released.
    #[arg(long, env = "FULLPASS_SHUTDOWN_GRACE", default_value = "25s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,

    /// auto: LISTEN, falling back to polling behind a transaction pooler; listen; poll.
    #[arg(long, env = "FULLPASS_LISTEN_MODE", value_enum, default_value = "auto")]
    pub listen_mode: ListenMode,

    /// Name of this worker in `full_pass_claimed_by` (default: host name and pid).
    #[arg(long, env = "FULLPASS_WORKER_ID")]
    pub worker_id: Option<String>,

    /// Do not run the embedded migrations at start (when the daemon's database
    /// role may not alter the schema; run `fullpass migrate` as the owner instead).
    #[arg(long, env = "FULLPASS_SKIP_MIGRATIONS", num_args = 0..=1, default_value = "false",
          default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub skip_migrations: bool,

    /// Serve /healthz, /readyz and /metrics on this address (e.g. 0.0.0.0:8080). Off when unset.
    #[arg(long, env = "FULLPASS_HTTP_ADDR")]
    pub http_addr: Option<std::net::SocketAddr>,

    /// Slack-compatible webhook told when a job fails for good (`{"text": ...}`).
    #[arg(long, env = "ALERT_WEBHOOK_URL")]
    pub alert_webhook_url: Option<String>,
}

impl DaemonArgs {
    /// The settings as `fullpass config` shows them, secrets masked.
    pub fn shown(&self) -> Vec<(&'static str, String)> {
        let mode = match self.listen_mode {
            ListenMode::Auto => "auto",
            ListenMode::Listen => "listen",
            ListenMode::Poll => "poll",
        };
        vec![
            ("FULLPASS_CONCURRENCY", self.concurrency.to_string()),
            (
                "FULLPASS_SWEEP_INTERVAL",
                shown_duration(self.sweep_interval),
            ),
            ("FULLPASS_LEASE", shown_duration(self.lease)),
            ("FULLPASS_MAX_ATTEMPTS", self.max_attempts.to_string()),
            ("FULLPASS_RETRY_BASE", shown_duration(self.retry_base)),
            ("FULLPASS_RETRY_MAX", shown_duration(self.retry_max)),
            ("FULLPASS_JOB_TIMEOUT", shown_duration(self.job_timeout)),
            (
                "FULLPASS_SHUTDOWN_GRACE",
                shown_duration(self.shutdown_grace),
            ),
            ("FULLPASS_LISTEN_MODE", mode.to_owned()),
            ("FULLPASS_WORKER_ID", self.worker_id()),
            ("FULLPASS_SKIP_MIGRATIONS", self.skip_migrations.to_string()),
            ("FULLPASS_HTTP_ADDR", shown_option(&self.http_addr)),
            (
                "ALERT_WEBHOOK_URL",
                shown_option(
                    &self
                        .alert_webhook_url
                        .as_deref()
                        .map(crate::telemetry::mask_webhook_url),
                ),
            ),
        ]
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.concurrency == 0 || self.concurrency > 256 {
            return Err(config_error(
                "FULLPASS_CONCURRENCY",
                "must be between 1 and 256",
            ));
        }
        if self.max_attempts < 1 {
            return Err(config_error("FULLPASS_MAX_ATTEMPTS", "must be at least 1"));
        }
        for (name, d) in [
            ("FULLPASS_SWEEP_INTERVAL", self.sweep_interval),
            ("FULLPASS_LEASE", self.lease),
            ("FULLPASS_RETRY_BASE", self.retry_base),
            ("FULLPASS_JOB_TIMEOUT", self.job_timeout),
        ] {
            if d.is_zero() {
                return Err(config_error(name, "must be greater than zero"));
            }
        }
        if self.lease < Duration::from_secs(1) {
            return Err(config_error("FULLPASS_LEASE", "must be at least 1s"));
        }
        if self.retry_max < self.retry_base {
            return Err(config_error(
                "FULLPASS_RETRY_MAX",
                "must not be shorter than FULLPASS_RETRY_BASE",
            ));
        }
        if let Some(url) = &self.alert_webhook_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(config_error("ALERT_WEBHOOK_URL", "must be an http(s) URL"));
        }
        Ok(())
    }

    pub fn worker_id(&self) -> String {
        self.worker_id.clone().unwrap_or_else(|| {
            let host = hostname::get()
                .ok()
                .and_then(|h| h.into_string().ok())
                .unwrap_or_else(|| "fullpass".to_owned());
            format!("{host}:{}", std::process::id())
        })
    }
}

/// The LLM extractor when `FULLPASS_EXTRACTOR=llm`, sharing the built-in
/// secret filter and consolidation (with the same MEMORY budget).
pub fn llm_extractor(
    args: &crate::llm::LlmArgs,
    extract: &ExtractSettings,
) -> Result<Option<std::sync::Arc<crate::llm::LlmExtractor>>, ConfigError> {
    if !args.enabled() {
        return Ok(None);
    }
    let config = args.validate()?;
    let rules = std::sync::Arc::new(crate::llm::BuiltinRules {
        settings: extract.clone(),
    });
    let extractor = crate::llm::LlmExtractor::new(config, rules)
        .map_err(|e| config_error("FULLPASS_LLM_BASE_URL", e.to_string()))?;
    Ok(Some(std::sync::Arc::new(extractor)))
}

/// Validates every daemon setting at once and builds what `daemon::run` takes.
pub fn daemon_settings(
    database: &DatabaseArgs,
    daemon: &DaemonArgs,
    storage: &StorageArgs,
    processing: &ProcessingArgs,
    llm: &crate::llm::LlmArgs,
) -> Result<crate::daemon::DaemonSettings, ConfigError> {
    daemon.validate()?;
    let db = database.db_config()?;
    let extract = processing.extract_settings()?;
    let llm = llm_extractor(llm, &extract)?;
    let storage_paths = storage.path_rule()?;
    if storage_paths == PathRule::Off {
        tracing::warn!(
            "FULLPASS_STORAGE_PATH_TEMPLATE=off: a row may name any object in storage, \
             including other users' exports"
        );
    }
    Ok(crate::daemon::DaemonSettings {
        db,
        worker_id: daemon.worker_id(),
        concurrency: daemon.concurrency,
        sweep_interval: daemon.sweep_interval,
        listen_mode: daemon.listen_mode,
        shutdown_grace: daemon.shutdown_grace,
        migrate: !daemon.skip_migrations,
        http_addr: daemon.http_addr,
        job: crate::worker::JobSettings {
            storage: storage.build()?,
            storage_paths,
            limits: processing.limits(),
            extract,
            lease: daemon.lease,
            max_attempts: daemon.max_attempts,
            retry_base: daemon.retry_base,
            retry_max: daemon.retry_max,
            job_timeout: daemon.job_timeout,
            alert_webhook_url: daemon.alert_webhook_url.clone(),
            llm,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_bytes("8GiB"), Ok(8 << 30));
        assert_eq!(parse_bytes("10MB"), Ok(10_000_000));
        assert_eq!(parse_bytes("123"), Ok(123));
        assert!(parse_bytes("-5").is_err());
        assert!(parse_bytes("5 parsecs").is_err());
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("-1s").is_err());
    }
}
