use crate::ingest::IngestError;
use std::time::Duration;

/// Why an LLM extraction stopped. [`LlmError::is_transient`] tells the queue whether
/// running the job again later could succeed.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The provider refused the request itself (400, 401, 403, 404, ...): retrying cannot help.
    #[error("the {provider} refused the request (HTTP {status}): {message}")]
    Rejected {
        provider: String,
        status: u16,
        message: String,
    },
    /// The request does not fit the model's context: smaller requests would.
    #[error(
        "the {provider} refused a request too large for the model's context (HTTP {status}): {message}; lower {setting} (now {value}) or give the model a larger context"
    )]
    TooLarge {
        provider: String,
        status: u16,
        message: String,
        setting: &'static str,
        value: usize,
    },
    /// The provider's content filter refused this text: only its chunk is lost.
    #[error("the {provider} refused this text under its content policy: {message}")]
    ContentRefused { provider: String, message: String },
    /// The account is out of quota or credit: retrying cannot help until someone pays.
    #[error("the {provider} reports a quota or billing problem (HTTP {status}): {message}")]
    Quota {
        provider: String,
        status: u16,
        message: String,
    },
    /// Rate limits, overload, 5xx or network errors outlasted the job's retries.
    #[error("the {provider} kept failing; gave up after {retries} retries: {last}")]
    Unavailable {
        provider: String,
        retries: u32,
        last: String,
    },
    /// The model server could not be reached at all (connection refused, unknown host)
    /// before it ever answered in this job: likely a wrong URL or a server not started.
    #[error(
        "cannot reach the {provider} ({attempts} attempts): {message}; check FULLPASS_LLM_BASE_URL and that the model server is running"
    )]
    Unreachable {
        provider: String,
        attempts: u32,
        message: String,
    },
    /// The provider asked for a longer pause than a job waits; the queue should retry later.
    #[error("the {provider} asks to wait {wait:?} before the next request: {message}")]
    RetryLater {
        provider: String,
        wait: Duration,
        message: String,
    },
    /// No chunk gave an answer (each was refused or never parsed): an empty memory
    /// would pass for "nothing to remember". Not transient: transient failures end the
    /// job as [`LlmError::Unavailable`] before a chunk is given up, and a refusal or an
    /// answer that does not parse comes again from the same model on the same text.
    #[error(
        "no chunk of conversation text got a usable answer from the {provider} ({chunks} tried); the last problem: {last}"
    )]
    NoChunkSucceeded {
        provider: String,
        chunks: u64,
        last: String,
    },
    /// The next request could take the job past its token budget.
    #[error(
        "token budget of {budget} tokens per job reached: {spent} spent, the next request may need {next} (raise FULLPASS_LLM_JOB_TOKEN_BUDGET)"
    )]
    Budget { budget: u64, spent: u64, next: u64 },
    /// Reading or writing a chunk checkpoint failed.
    #[error("{context}: {source}")]
    Checkpoint {
        context: &'static str,
        #[source]
        source: tokio_postgres::Error,
    },
    /// The HTTP client could not be built (TLS setup).
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
    /// Reading the export failed.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// The chunk feed ended without its end marker: the export reader stopped early.
    #[error("the export reader stopped before the end of the export")]
    InputIncomplete,
}

impl LlmError {
    /// Whether the same job could succeed if run again later.
    pub fn is_transient(&self) -> bool {
        match self {
            LlmError::Unavailable { .. }
            | LlmError::Unreachable { .. }
            | LlmError::RetryLater { .. }
            | LlmError::Checkpoint { .. } => true,
            LlmError::Ingest(e) => e.is_transient(),
            LlmError::Rejected { .. }
            | LlmError::TooLarge { .. }
            | LlmError::ContentRefused { .. }
            | LlmError::Quota { .. }
            | LlmError::Budget { .. }
            | LlmError::NoChunkSucceeded { .. }
            | LlmError::Client(_)
            | LlmError::InputIncomplete => false,
        }
    }

    pub(crate) fn checkpoint(
        context: &'static str,
    ) -> impl FnOnce(tokio_postgres::Error) -> LlmError {
        move |source| LlmError::Checkpoint { context, source }
    }
}
