//! What a job spends: tokens and requests as the provider reports them, and the
//! per-job budget checked before every request.

use super::LlmError;
use super::config::LlmConfig;
use serde::{Deserialize, Serialize};
use std::sync::{Mutex, MutexGuard};

/// A job's LLM spending and outcome counts; stored on the row and logged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmUsage {
    pub api: String,
    pub model: String,
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Input tokens, from the provider's `usage` (estimated when it reports none).
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Requests whose usage the provider did not report, counted as estimates.
    pub estimated_requests: u64,
    /// Requests sent again after a rate limit, overload, 5xx or network error.
    pub retries: u32,
    /// Chunks of conversation text mapped, checkpointed ones included.
    pub chunks: u64,
    /// Chunks whose facts came from a checkpoint of an earlier run (no request).
    pub chunks_from_checkpoint: u64,
    /// Chunks whose answer never parsed: skipped, their facts lost.
    pub chunks_skipped: u64,
    pub reduce_requests: u64,
    /// Reduce batches whose answer never parsed: their facts kept unreduced.
    pub reduce_batches_skipped: u64,
    /// Facts the model proposed and validation kept.
    pub facts_proposed: u64,
    /// Facts dropped by validation (unknown category, no statement, no conversation).
    pub facts_invalid: u64,
    /// Facts dropped because the secret filter found a secret in them.
    pub facts_with_secrets: u64,
    /// Facts dropped because their key words are not in the text of the conversations
    /// they cite (invented, or copied from the instructions).
    #[serde(default)]
    pub facts_ungrounded: u64,
}

impl LlmUsage {
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }
}

struct Ledger {
    usage: LlmUsage,
    /// Tokens promised to requests in flight (their estimate, until the answer reports usage).
    reserved: u64,
    /// The model server answered at least once in this job (any HTTP status).
    server_reached: bool,
}

/// Live spending of one job, shared by its concurrent requests. Readable at any time
/// (progress, or logging what a failed job cost).
pub struct JobUsage {
    budget: u64,
    max_retries: u32,
    ledger: Mutex<Ledger>,
}

impl JobUsage {
    pub fn new(config: &LlmConfig) -> JobUsage {
        JobUsage {
            budget: config.job_token_budget,
            max_retries: config.max_retries,
            ledger: Mutex::new(Ledger {
                usage: LlmUsage {
                    api: config.api.name().to_owned(),
                    model: config.model.clone(),
                    ..LlmUsage::default()
                },
                reserved: 0,
                server_reached: false,
            }),
        }
    }

    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        // A panic while holding the lock cannot leave the counters inconsistent enough to matter.
        self.ledger.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn snapshot(&self) -> LlmUsage {
        self.ledger().usage.clone()
    }

    pub(crate) fn record(&self, update: impl FnOnce(&mut LlmUsage)) {
        update(&mut self.ledger().usage);
    }

    /// Promises `estimate` tokens to a request about to be sent, or refuses when what is
    /// spent, what is in flight and this estimate together could pass the budget.
    pub(crate) fn reserve(&self, estimate: u64) -> Result<Reservation<'_>, LlmError> {
        let mut ledger = self.ledger();
        let committed = ledger.usage.total_tokens().saturating_add(ledger.reserved);
        if committed.saturating_add(estimate) > self.budget {
            return Err(LlmError::Budget {
                budget: self.budget,
                spent: ledger.usage.total_tokens(),
                next: estimate,
            });
        }
        ledger.reserved = ledger.reserved.saturating_add(estimate);
        ledger.usage.requests += 1;
        Ok(Reservation {
            usage: self,
            estimate,
        })
    }

    /// Takes one retry from the job's allowance; `None` when it is used up.
    pub(crate) fn take_retry(&self) -> Option<u32> {
        let mut ledger = self.ledger();
        if ledger.usage.retries >= self.max_retries {
            return None;
        }
        ledger.usage.retries += 1;
        Some(ledger.usage.retries)
    }

    pub(crate) fn mark_server_reached(&self) {
        self.ledger().server_reached = true;
    }

    pub(crate) fn server_reached(&self) -> bool {
        self.ledger().server_reached
    }

    pub(crate) fn retries(&self) -> u32 {
        self.ledger().usage.retries
    }
}

/// Tokens held for one request in flight; released when dropped unless settled.
pub(crate) struct Reservation<'a> {
    usage: &'a JobUsage,
    estimate: u64,
}

impl Reservation<'_> {
    /// Replaces the estimate with what the request cost.
    pub(crate) fn settle(self, input_tokens: u64, output_tokens: u64, estimated: bool) {
        let mut ledger = self.usage.ledger();
        ledger.usage.input_tokens = ledger.usage.input_tokens.saturating_add(input_tokens);
        ledger.usage.output_tokens = ledger.usage.output_tokens.saturating_add(output_tokens);
        if estimated {
            ledger.usage.estimated_requests += 1;
        }
        // Drop releases the reservation.
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut ledger = self.usage.ledger();
        ledger.reserved = ledger.reserved.saturating_sub(self.estimate);
    }
}

/// Tokens in `text` the way fullpass estimates them everywhere: a token per 4 characters.
pub fn estimate_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::config::{ApiStyle, LlmConfig};
    use std::time::Duration;

    fn config(budget: u64) -> LlmConfig {
        LlmConfig {
            api: ApiStyle::Openai,
            base_url: "http://127.0.0.1:1".to_owned(),
            api_key: None,
            model: "m".to_owned(),
            concurrency: 2,
            request_timeout: Duration::from_secs(5),
            max_output_tokens: 256,
            job_token_budget: budget,
            chunk_tokens: 200,
            max_retries: 2,
            retry_base: Duration::from_millis(1),
            retry_max: Duration::from_millis(2),
            reduce_batch: 10,
        }
    }

    #[test]
    fn in_flight_estimates_count_against_the_budget() {
        let usage = JobUsage::new(&config(1000));
        let a = usage.reserve(600).unwrap();
        assert!(matches!(usage.reserve(600), Err(LlmError::Budget { .. })));
        a.settle(100, 50, false);
        let b = usage.reserve(600).unwrap();
        drop(b);
        let s = usage.snapshot();
        assert_eq!((s.input_tokens, s.output_tokens, s.requests), (100, 50, 2));
        assert!(usage.reserve(850).is_ok());
        assert!(usage.reserve(851).is_err());
    }

    #[test]
    fn retries_are_capped_per_job() {
        let usage = JobUsage::new(&config(1000));
        assert_eq!(usage.take_retry(), Some(1));
        assert_eq!(usage.take_retry(), Some(2));
        assert_eq!(usage.take_retry(), None);
        assert_eq!(usage.retries(), 2);
    }

    #[test]
    fn tokens_are_characters_over_four() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("abcd"), 1);
        assert_eq!(estimate_tokens("abcde"), 2);
        assert_eq!(estimate_tokens("ééééé"), 2);
    }
}
