//! The LLM extractor's settings: flags or `FULLPASS_LLM_*` variables, validated once.

use crate::config::{ConfigError, parse_duration};
use clap::{Args, ValueEnum};
use std::time::Duration;

/// Which extractor turns conversations into facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExtractorKind {
    /// The rule-based extractor: no network, no cost.
    Builtin,
    /// A language model behind an OpenAI-compatible or Anthropic API.
    Llm,
}

/// The wire protocol of the model server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApiStyle {
    /// `POST {base}/chat/completions` (OpenAI, Ollama, llama.cpp, vLLM, ...).
    Openai,
    /// `POST {base}/v1/messages` (Anthropic).
    Anthropic,
}

impl ApiStyle {
    pub fn name(self) -> &'static str {
        match self {
            ApiStyle::Openai => "openai",
            ApiStyle::Anthropic => "anthropic",
        }
    }

    fn default_base_url(self) -> &'static str {
        match self {
            ApiStyle::Openai => "https://api.openai.com/v1",
            ApiStyle::Anthropic => "https://api.anthropic.com",
        }
    }
}

/// An API key. Kept out of logs: `Debug` prints a mask.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(key.into())
    }

    /// The key itself, for the request header only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

fn parse_api_key(s: &str) -> Result<ApiKey, String> {
    Ok(ApiKey::new(s.trim()))
}

/// LLM extractor settings as given; [`LlmArgs::validate`] turns them into an [`LlmConfig`].
#[derive(Debug, Clone, Args)]
pub struct LlmArgs {
    /// builtin (rules, the default) or llm (a language model, configured below).
    #[arg(
        long,
        env = "FULLPASS_EXTRACTOR",
        value_enum,
        default_value = "builtin"
    )]
    pub extractor: ExtractorKind,

    /// openai (chat completions: OpenAI, Ollama, llama.cpp, vLLM) or anthropic (messages).
    #[arg(long, env = "FULLPASS_LLM_API", value_enum, default_value = "openai")]
    pub llm_api: ApiStyle,

    /// API base URL (openai: up to and including /v1; anthropic: without /v1).
    /// Default: the provider's public API.
    #[arg(long, env = "FULLPASS_LLM_BASE_URL")]
    pub llm_base_url: Option<String>,

    /// API key (never logged). Optional for local servers.
    #[arg(long, env = "FULLPASS_LLM_API_KEY", hide_env_values = true, value_parser = parse_api_key)]
    pub llm_api_key: Option<ApiKey>,

    /// Model name, as the server knows it.
    #[arg(long, env = "FULLPASS_LLM_MODEL")]
    pub llm_model: Option<String>,

    /// Requests in flight at once, per job.
    #[arg(long, env = "FULLPASS_LLM_CONCURRENCY", default_value_t = 3)]
    pub llm_concurrency: usize,

    /// Longest wait for one response.
    #[arg(long, env = "FULLPASS_LLM_TIMEOUT", default_value = "120s", value_parser = parse_duration)]
    pub llm_timeout: Duration,

    /// Most tokens the model may write per request (raise it for reasoning models).
    #[arg(long, env = "FULLPASS_LLM_MAX_OUTPUT_TOKENS", default_value_t = 2048)]
    pub llm_max_output_tokens: u32,

    /// Most tokens (input + output, as reported by the provider) one job may spend.
    /// A request that could go past it is not sent and the job fails.
    #[arg(
        long,
        env = "FULLPASS_LLM_JOB_TOKEN_BUDGET",
        default_value_t = 3_000_000
    )]
    pub llm_job_token_budget: u64,

    /// Size of one chunk of conversation text sent to the model, in tokens (about 4 characters each).
    #[arg(long, env = "FULLPASS_LLM_CHUNK_TOKENS", default_value_t = 2000)]
    pub llm_chunk_tokens: usize,

    /// Retries of failed requests (rate limits, 5xx, timeouts) allowed per job, all requests together.
    #[arg(long, env = "FULLPASS_LLM_MAX_RETRIES", default_value_t = 20)]
    pub llm_max_retries: u32,

    /// First retry delay; doubles per retry of the same request, with jitter.
    #[arg(long, env = "FULLPASS_LLM_RETRY_BASE", default_value = "1s", value_parser = parse_duration)]
    pub llm_retry_base: Duration,

    /// Longest retry delay. A `Retry-After` longer than this fails the job as transient,
    /// so the queue retries it later instead of holding a worker.
    #[arg(long, env = "FULLPASS_LLM_RETRY_MAX", default_value = "60s", value_parser = parse_duration)]
    pub llm_retry_max: Duration,

    /// Most facts shown to the model in one reduce (deduplication) request.
    #[arg(long, env = "FULLPASS_LLM_REDUCE_BATCH", default_value_t = 100)]
    pub llm_reduce_batch: usize,
}

/// Validated LLM settings.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    pub api: ApiStyle,
    /// The base URL, without a trailing slash.
    pub base_url: String,
    pub api_key: Option<ApiKey>,
    pub model: String,
    pub concurrency: usize,
    pub request_timeout: Duration,
    pub max_output_tokens: u32,
    pub job_token_budget: u64,
    pub chunk_tokens: usize,
    pub max_retries: u32,
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub reduce_batch: usize,
}

impl LlmConfig {
    /// Where requests go.
    pub fn endpoint(&self) -> String {
        match self.api {
            ApiStyle::Openai => format!("{}/chat/completions", self.base_url),
            ApiStyle::Anthropic => format!("{}/v1/messages", self.base_url),
        }
    }

    /// Names the provider in errors and logs: API style and base URL, never the key.
    pub fn provider(&self) -> String {
        format!("{} API at {}", self.api.name(), self.base_url)
    }
}

fn invalid(setting: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        problem: problem.into(),
    }
}

impl LlmArgs {
    /// Whether `FULLPASS_EXTRACTOR=llm` was chosen.
    /// The settings as `fullpass config` shows them, the key masked.
    pub fn shown(&self) -> Vec<(&'static str, String)> {
        let kind = match self.extractor {
            ExtractorKind::Builtin => "builtin",
            ExtractorKind::Llm => "llm",
        };
        let api = match self.llm_api {
            ApiStyle::Openai => "openai",
            ApiStyle::Anthropic => "anthropic",
        };
        let unset = || "(unset)".to_owned();
        let secs = |d: Duration| humantime::format_duration(d).to_string();
        vec![
            ("FULLPASS_EXTRACTOR", kind.to_owned()),
            ("FULLPASS_LLM_API", api.to_owned()),
            (
                "FULLPASS_LLM_BASE_URL",
                self.llm_base_url.clone().unwrap_or_else(unset),
            ),
            (
                "FULLPASS_LLM_API_KEY",
                self.llm_api_key
                    .as_ref()
                    .map_or_else(unset, |_| "*** (set)".to_owned()),
            ),
            (
                "FULLPASS_LLM_MODEL",
                self.llm_model.clone().unwrap_or_else(unset),
            ),
            ("FULLPASS_LLM_CONCURRENCY", self.llm_concurrency.to_string()),
            ("FULLPASS_LLM_TIMEOUT", secs(self.llm_timeout)),
            (
                "FULLPASS_LLM_MAX_OUTPUT_TOKENS",
                self.llm_max_output_tokens.to_string(),
            ),
            (
                "FULLPASS_LLM_JOB_TOKEN_BUDGET",
                self.llm_job_token_budget.to_string(),
            ),
            (
                "FULLPASS_LLM_CHUNK_TOKENS",
                self.llm_chunk_tokens.to_string(),
            ),
            ("FULLPASS_LLM_MAX_RETRIES", self.llm_max_retries.to_string()),
            ("FULLPASS_LLM_RETRY_BASE", secs(self.llm_retry_base)),
            ("FULLPASS_LLM_RETRY_MAX", secs(self.llm_retry_max)),
            (
                "FULLPASS_LLM_REDUCE_BATCH",
                self.llm_reduce_batch.to_string(),
            ),
        ]
    }

    pub fn enabled(&self) -> bool {
        self.extractor == ExtractorKind::Llm
    }

    pub fn validate(&self) -> Result<LlmConfig, ConfigError> {
        let model = self
            .llm_model
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .ok_or_else(|| {
                invalid(
                    "FULLPASS_LLM_MODEL",
                    "is required with FULLPASS_EXTRACTOR=llm",
                )
            })?
            .to_owned();
        let custom_base = self
            .llm_base_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty());
        let base_url = custom_base
            .unwrap_or(self.llm_api.default_base_url())
            .trim_end_matches('/')
            .to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(invalid(
                "FULLPASS_LLM_BASE_URL",
                format!("{base_url:?} is not an http(s) URL"),
            ));
        }
        let api_key = self.llm_api_key.clone().filter(|k| !k.expose().is_empty());
        // Local servers (Ollama, llama.cpp) need no key; the public APIs always do.
        if api_key.is_none() && (custom_base.is_none() || self.llm_api == ApiStyle::Anthropic) {
            return Err(invalid(
                "FULLPASS_LLM_API_KEY",
                format!("is required for the {} API", self.llm_api.name()),
            ));
        }
        if self.llm_concurrency == 0 || self.llm_concurrency > 64 {
            return Err(invalid(
                "FULLPASS_LLM_CONCURRENCY",
                "must be between 1 and 64",
            ));
        }
        if self.llm_timeout < Duration::from_secs(1) {
            return Err(invalid("FULLPASS_LLM_TIMEOUT", "must be at least 1s"));
        }
        if self.llm_max_output_tokens < 256 {
            return Err(invalid(
                "FULLPASS_LLM_MAX_OUTPUT_TOKENS",
                "must be at least 256",
            ));
        }
        if self.llm_chunk_tokens < 200 || self.llm_chunk_tokens > 200_000 {
            return Err(invalid(
                "FULLPASS_LLM_CHUNK_TOKENS",
                "must be between 200 and 200000",
            ));
        }
        let smallest_request = self.llm_chunk_tokens as u64 + u64::from(self.llm_max_output_tokens);
        if self.llm_job_token_budget < smallest_request {
            return Err(invalid(
                "FULLPASS_LLM_JOB_TOKEN_BUDGET",
                format!(
                    "must allow at least one request (chunk tokens + max output tokens = {smallest_request})"
                ),
            ));
        }
        if self.llm_retry_base.is_zero() {
            return Err(invalid(
                "FULLPASS_LLM_RETRY_BASE",
                "must be greater than zero",
            ));
        }
        if self.llm_retry_max < self.llm_retry_base {
            return Err(invalid(
                "FULLPASS_LLM_RETRY_MAX",
                "must not be shorter than FULLPASS_LLM_RETRY_BASE",
            ));
        }
        if self.llm_reduce_batch < 2 {
            return Err(invalid("FULLPASS_LLM_REDUCE_BATCH", "must be at least 2"));
        }
        Ok(LlmConfig {
            api: self.llm_api,
            base_url,
            api_key,
            model,
            concurrency: self.llm_concurrency,
            request_timeout: self.llm_timeout,
            max_output_tokens: self.llm_max_output_tokens,
            job_token_budget: self.llm_job_token_budget,
            chunk_tokens: self.llm_chunk_tokens,
            max_retries: self.llm_max_retries,
            retry_base: self.llm_retry_base,
            retry_max: self.llm_retry_max,
            reduce_batch: self.llm_reduce_batch,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        llm: LlmArgs,
    }

    fn args(extra: &[&str]) -> LlmArgs {
        let mut argv = vec!["fullpass"];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv).map(|c| c.llm).unwrap()
    }

    #[test]
    fn defaults_need_a_model_and_a_key() {
        let a = args(&[]);
        assert!(!a.enabled());
        assert_eq!(a.validate().unwrap_err().setting, "FULLPASS_LLM_MODEL");
        let a = args(&["--llm-model", "m"]);
        assert_eq!(a.validate().unwrap_err().setting, "FULLPASS_LLM_API_KEY");
        let c = args(&["--llm-model", "m", "--llm-api-key", "k"])
            .validate()
            .unwrap();
        assert_eq!(c.endpoint(), "https://api.openai.com/v1/chat/completions");
        assert_eq!(c.concurrency, 3);
        assert_eq!(c.chunk_tokens, 2000);
    }

    #[test]
    fn local_openai_servers_need_no_key_but_anthropic_does() {
        let c = args(&[
            "--llm-model",
            "llama3.1",
            "--llm-base-url",
            "http://127.0.0.1:11434/v1/",
        ])
        .validate()
        .unwrap();
        assert_eq!(c.endpoint(), "http://127.0.0.1:11434/v1/chat/completions");
        assert!(c.api_key.is_none());
        let a = args(&[
            "--llm-api",
            "anthropic",
            "--llm-model",
            "m",
            "--llm-base-url",
            "http://127.0.0.1:9",
        ]);
        assert_eq!(a.validate().unwrap_err().setting, "FULLPASS_LLM_API_KEY");
        let c = args(&[
            "--llm-api",
            "anthropic",
            "--llm-model",
            "m",
            "--llm-api-key",
            "k",
        ])
        .validate()
        .unwrap();
        assert_eq!(c.endpoint(), "https://api.anthropic.com/v1/messages");
    }

    #[test]
    fn debug_never_shows_the_key() {
        let a = args(&[
            "--extractor",
            "llm",
            "--llm-model",
            "m",
            "--llm-api-key",
            "sk-very-secret",
        ]);
        assert!(a.enabled());
        let c = a.validate().unwrap();
        for shown in [format!("{a:?}"), format!("{c:?}")] {
            assert!(!shown.contains("sk-very-secret"), "{shown}");
            assert!(shown.contains("ApiKey(***)"), "{shown}");
        }
    }

    #[test]
    fn refuses_settings_that_cannot_work() {
        let base = ["--llm-model", "m", "--llm-api-key", "k"];
        for (extra, setting) in [
            (&["--llm-concurrency", "0"][..], "FULLPASS_LLM_CONCURRENCY"),
            (&["--llm-base-url", "ftp://x"][..], "FULLPASS_LLM_BASE_URL"),
            (
                &["--llm-job-token-budget", "100"][..],
                "FULLPASS_LLM_JOB_TOKEN_BUDGET",
            ),
            (
                &["--llm-chunk-tokens", "10"][..],
                "FULLPASS_LLM_CHUNK_TOKENS",
            ),
            (&["--llm-retry-max", "1ms"][..], "FULLPASS_LLM_RETRY_MAX"),
            (&["--llm-timeout", "10ms"][..], "FULLPASS_LLM_TIMEOUT"),
        ] {
            let mut argv = base.to_vec();
            argv.extend_from_slice(extra);
            assert_eq!(args(&argv).validate().unwrap_err().setting, setting);
        }
    }
}
