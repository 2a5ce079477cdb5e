//! What fullpass tells its operator: logs on stderr and Prometheus metrics.
//!
//! Metric names live here as constants so the code that records them and the
//! `/metrics` help text cannot drift apart. Record with the `metrics` macros:
//! `metrics::counter!(telemetry::JOBS_COMPLETED).increment(1)`.

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

/// Rows claimed by this process.
pub const JOBS_CLAIMED: &str = "fullpass_jobs_claimed_total";
/// Jobs that wrote their MEMORY section.
pub const JOBS_COMPLETED: &str = "fullpass_jobs_completed_total";
/// Jobs marked failed for good.
pub const JOBS_FAILED: &str = "fullpass_jobs_failed_total";
/// Jobs put back to pending for a later retry after a transient error.
pub const JOBS_RETRIED: &str = "fullpass_jobs_retried_total";
/// Claims of dead workers taken back by this process's sweep.
pub const JOBS_RESCUED: &str = "fullpass_jobs_rescued_total";
/// Jobs given back untouched at shutdown.
pub const JOBS_RELEASED: &str = "fullpass_jobs_released_total";
/// Jobs whose claim was taken away (rescued) before they finished; nothing was written.
pub const JOBS_LOST: &str = "fullpass_jobs_lost_total";
/// LISTEN connections re-established after losing one.
pub const LISTENER_RECONNECTS: &str = "fullpass_listener_reconnects_total";
/// Export bytes read from storage (compressed, as stored).
pub const BYTES_PROCESSED: &str = "fullpass_bytes_processed_total";
/// Conversations read from exports.
pub const CONVERSATIONS_PROCESSED: &str = "fullpass_conversations_processed_total";
/// Storage failures; label `kind` (e.g. `not_found`, `timeout`, `http`, `io`).
pub const STORAGE_ERRORS: &str = "fullpass_storage_errors_total";
/// Database failures; label `kind` (e.g. `connect`, `claim`, `write`, `probe`).
pub const DB_ERRORS: &str = "fullpass_db_errors_total";
/// Jobs running in this process right now.
pub const JOBS_IN_FLIGHT: &str = "fullpass_jobs_in_flight";
/// Claim to completion (or failure) of one job.
pub const JOB_DURATION: &str = "fullpass_job_duration_seconds";
/// From the NOTIFY arriving to the row being claimed.
pub const CLAIM_LATENCY: &str = "fullpass_claim_latency_seconds";
/// Results written by one statement of the completion writer.
pub const COMPLETION_BATCH: &str = "fullpass_completion_batch_size";
/// Queue rows by status (label `status`), read from the database every refresh.
pub const ROWS: &str = "fullpass_rows";
/// Pending rows that may be claimed now.
pub const CLAIMABLE_ROWS: &str = "fullpass_claimable_rows";
/// Age of the oldest claimable request; 0 when none waits.
pub const OLDEST_CLAIMABLE: &str = "fullpass_oldest_claimable_seconds";

/// Jobs read whole exports: seconds to an hour.
const JOB_DURATION_BUCKETS: &[f64] = &[
    0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];
/// A claim should follow its notification within milliseconds.
const CLAIM_LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const COMPLETION_BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];

/// A problem setting up logs or metrics.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("invalid log filter {filter:?} (from {source_var}): {problem}")]
    LogFilter {
        filter: String,
        source_var: &'static str,
        problem: String,
    },
    #[error("logging was already set up: {0}")]
    LoggingInstalled(String),
    #[error("metrics recorder: {0}")]
    Metrics(String),
}

/// Gives every fullpass metric its help text and unit on `/metrics`.
pub fn describe_metrics() {
    let counters: &[(&'static str, Unit, &'static str)] = &[
        (JOBS_CLAIMED, Unit::Count, "Rows claimed by this process."),
        (
            JOBS_COMPLETED,
            Unit::Count,
            "Jobs that wrote their MEMORY section.",
        ),
        (JOBS_FAILED, Unit::Count, "Jobs marked failed for good."),
        (
            JOBS_RETRIED,
            Unit::Count,
            "Jobs put back to pending for a later retry after a transient error.",
        ),
        (
            JOBS_RESCUED,
            Unit::Count,
            "Expired claims of dead workers taken back by this process.",
        ),
        (
            JOBS_RELEASED,
            Unit::Count,
            "Jobs given back untouched at shutdown.",
        ),
        (
            JOBS_LOST,
            Unit::Count,
            "Jobs whose claim was rescued by another worker before they finished.",
        ),
        (
            LISTENER_RECONNECTS,
            Unit::Count,
            "LISTEN connections re-established after a loss.",
        ),
        (
            BYTES_PROCESSED,
            Unit::Bytes,
            "Export bytes read from storage, as stored (compressed).",
        ),
        (
            CONVERSATIONS_PROCESSED,
            Unit::Count,
            "Conversations read from exports.",
        ),
        (STORAGE_ERRORS, Unit::Count, "Storage failures, by kind."),
        (DB_ERRORS, Unit::Count, "Database failures, by kind."),
    ];
    for &(name, unit, help) in counters {
        describe_counter!(name, unit, help);
    }
    describe_gauge!(
        JOBS_IN_FLIGHT,
        Unit::Count,
        "Jobs running in this process now."
    );
    describe_gauge!(
        ROWS,
        Unit::Count,
        "Queue rows by full_pass_status (whole table, refreshed periodically)."
    );
    describe_gauge!(
        CLAIMABLE_ROWS,
        Unit::Count,
        "Pending rows that may be claimed now."
    );
    describe_gauge!(
        OLDEST_CLAIMABLE,
        Unit::Seconds,
        "Age of the oldest claimable request; 0 when none waits."
    );
    describe_histogram!(
        JOB_DURATION,
        Unit::Seconds,
        "Time from claim to completion or failure of one job."
    );
    describe_histogram!(
        CLAIM_LATENCY,
        Unit::Seconds,
        "Time from a NOTIFY arriving to its row being claimed."
    );
    describe_histogram!(
        COMPLETION_BATCH,
        Unit::Count,
        "Job results written together by one statement (and one commit)."
    );
}

/// Installs the process-wide Prometheus recorder (once; later calls return the
/// same handle) with fullpass's histogram buckets and help texts.
pub fn install_metrics() -> Result<PrometheusHandle, TelemetryError> {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(JOB_DURATION.to_owned()), JOB_DURATION_BUCKETS)
        .and_then(|b| {
            b.set_buckets_for_metric(
                Matcher::Full(CLAIM_LATENCY.to_owned()),
                CLAIM_LATENCY_BUCKETS,
            )
        })
        .and_then(|b| {
            b.set_buckets_for_metric(
                Matcher::Full(COMPLETION_BATCH.to_owned()),
                COMPLETION_BATCH_BUCKETS,
            )
        })
        .map_err(|e| TelemetryError::Metrics(e.to_string()))?;
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    // Two threads racing here: the loser's recorder is refused, and it takes the winner's handle.
    match metrics::set_global_recorder(recorder) {
        Ok(()) => {
            describe_metrics();
            zero_unlabelled_metrics();
            Ok(HANDLE.get_or_init(|| handle).clone())
        }
        Err(e) => HANDLE
            .get()
            .cloned()
            .ok_or_else(|| TelemetryError::Metrics(format!("another recorder is installed: {e}"))),
    }
}

/// Unlabelled counters and gauges exist from the start, so `/metrics` lists them
/// (with help text) and `rate()` works from the first scrape.
fn zero_unlabelled_metrics() {
    for name in [
        JOBS_CLAIMED,
        JOBS_COMPLETED,
        JOBS_FAILED,
        JOBS_RETRIED,
        JOBS_RESCUED,
        JOBS_RELEASED,
        JOBS_LOST,
        LISTENER_RECONNECTS,
        BYTES_PROCESSED,
        CONVERSATIONS_PROCESSED,
    ] {
        metrics::counter!(name).increment(0);
    }
    metrics::gauge!(JOBS_IN_FLIGHT).increment(0.0);
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines (colours when stderr is a terminal).
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Logs to stderr. The filter is `FULLPASS_LOG`, else `RUST_LOG`, else `info`
/// (syntax: `info`, `fullpass=debug,tokio_postgres=warn`, ...).
pub fn init_logging(format: LogFormat) -> Result<(), TelemetryError> {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;

    let (filter_text, source_var) = match (std::env::var("FULLPASS_LOG"), std::env::var("RUST_LOG"))
    {
        (Ok(f), _) if !f.trim().is_empty() => (f, "FULLPASS_LOG"),
        (_, Ok(f)) if !f.trim().is_empty() => (f, "RUST_LOG"),
        _ => ("info".to_owned(), "the default"),
    };
    let filter =
        EnvFilter::builder()
            .parse(&filter_text)
            .map_err(|e| TelemetryError::LogFilter {
                filter: filter_text.clone(),
                source_var,
                problem: e.to_string(),
            })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
    result.map_err(|e| TelemetryError::LoggingInstalled(e.to_string()))
}

/// A connection string fit for logs: the password (and any `password=` or
/// key-like parameter) replaced by `***`.
///
/// `postgres://u:pw@h/db` → `postgres://u:***@h/db`;
/// `host=h password=pw` → `host=h password=***`.
pub fn mask_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", mask_uri_rest(rest)),
        None => mask_key_values(url),
    }
}

/// A webhook URL fit for logs: scheme and host only. A Slack-style webhook's
/// secret is its path (`https://hooks.slack.com/services/T…/B…/secret`).
///
/// `https://hooks.example/services/T1/B2/xyz?k=v` → `https://hooks.example/***`.
pub fn mask_webhook_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    // Credentials in the authority are secrets too.
    let host = match authority.rsplit_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => authority.to_owned(),
    };
    let tail = if tail.is_empty() || tail == "/" {
        tail
    } else {
        "/***"
    };
    format!("{scheme}://{host}{tail}")
}

const SECRET_KEYS: &[&str] = &[
    "password",
    "sslpassword",
    "apikey",
    "api_key",
    "key",
    "token",
    "secret",
];

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_KEYS.contains(&key.as_str())
}

fn mask_uri_rest(rest: &str) -> String {
    // The userinfo ends at the last '@' before the query: passwords may hold '@' or '/'.
    let query_at = rest.find(['?', '#']).unwrap_or(rest.len());
    let (before_query, query) = rest.split_at(query_at);
    let authority = match before_query.rfind('@') {
        Some(at) => {
            let (userinfo, host_and_path) = before_query.split_at(at);
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***{host_and_path}"),
                None => before_query.to_owned(),
            }
        }
        None => before_query.to_owned(),
    };
    let Some(params) = query.strip_prefix('?') else {
        return format!("{authority}{query}");
    };
    let (params, fragment) = match params.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (params, None),
    };
    let masked: Vec<String> = params
        .split('&')
        .map(|param| match param.split_once('=') {
            Some((key, _)) if is_secret_key(key) => format!("{key}=***"),
            _ => param.to_owned(),
        })
        .collect();
    let mut out = format!("{authority}?{}", masked.join("&"));
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// `key=value` connection strings; a quoted secret is masked up to its closing quote.
fn mask_key_values(conninfo: &str) -> String {
    let mut out = String::with_capacity(conninfo.len());
    let mut rest = conninfo;
    while let Some(eq) = rest.find('=') {
        let (before, after) = rest.split_at(eq);
        let key = before
            .trim_end()
            .rsplit(|c: char| c.is_whitespace())
            .next()
            .unwrap_or("")
            .trim();
        out.push_str(before);
        out.push('=');
        let value = after.get(1..).unwrap_or("");
        let leading = value.len() - value.trim_start().len();
        let value_start = value.trim_start();
        let value_len = value_len(value_start);
        if is_secret_key(key) {
            out.push_str(value.get(..leading).unwrap_or(""));
            out.push_str("***");
        } else {
            out.push_str(value.get(..leading + value_len).unwrap_or(value));
        }
        rest = value.get(leading + value_len..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// Bytes taken by one libpq value: quoted with `\` escapes, or bare up to whitespace.
fn value_len(value: &str) -> usize {
    let mut chars = value.char_indices();
    if value.starts_with('\'') {
        chars.next();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '\'' => return i + 1,
                _ => {}
            }
        }
        return value.len();
    }
    let mut escaped = false;
    for (i, c) in chars {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c.is_whitespace() {
            return i;
        }
    }
    value.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_passwords_in_urls() {
        assert_eq!(mask_url("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(
            mask_url("postgresql://u:p@ss/w0rd@h:5432/db?sslmode=require&password=x"),
            "postgresql://u:***@h:5432/db?sslmode=require&password=***"
        );
        assert_eq!(mask_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(mask_url("postgres://h/db?x=1"), "postgres://h/db?x=1");
        assert_eq!(
            mask_url("https://proj.supabase.co/x?apikey=abc#top"),
            "https://proj.supabase.co/x?apikey=***#top"
        );
    }

    #[test]
    fn webhook_urls_keep_only_their_host() {
        assert_eq!(
            mask_webhook_url("https://hooks.slack.com/services/T0/B1/XyZsecret"),
            "https://hooks.slack.com/***"
        );
        assert_eq!(
            mask_webhook_url("http://u:pw@hooks.example:8080?token=abc"),
            "http://***@hooks.example:8080/***"
        );
        assert_eq!(
            mask_webhook_url("https://hooks.example/"),
            "https://hooks.example/"
        );
        assert_eq!(mask_webhook_url("not a url"), "***");
    }

    #[test]
    fn masks_passwords_in_key_values() {
        assert_eq!(
            mask_url("host=h password=pw dbname=x"),
            "host=h password=*** dbname=x"
        );
        assert_eq!(
            mask_url(r"host=h password = 'a b\' c' user=u"),
            "host=h password = *** user=u"
        );
        assert_eq!(mask_url("host=h user=u"), "host=h user=u");
    }
}
