//! One structured request to the model server, in either wire protocol, with the
//! retry policy: transient failures (429, 529, 5xx, timeouts, connection errors) are
//! retried with exponential backoff and jitter, `Retry-After` taken as a floor, within
//! the job's retry allowance; refusals and quota errors end the job at once.

use super::LlmError;
use super::config::{ApiStyle, LlmConfig};
use super::prompt::REDUCE_TOOL;
use super::usage::{JobUsage, estimate_tokens};
use crate::retry::Backoff;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const ANTHROPIC_VERSION: &str = "2023-06-01";
/// Retries of a request that could not connect to a server not reached yet in the job,
/// and their delays: together well under ten seconds.
const UNREACHED_RETRIES: u32 = 2;
const UNREACHED_RETRY_BASE: Duration = Duration::from_millis(250);
const UNREACHED_RETRY_MAX: Duration = Duration::from_secs(1);
/// `fullpass config --check`: the longest wait for the model server, and the answer's size.
const CHECK_TIMEOUT: Duration = Duration::from_secs(30);
const CHECK_OUTPUT_TOKENS: u32 = 8;
/// Characters of a provider's error body quoted in an error when it is not JSON.
const ERROR_BODY_CHARS: usize = 300;

/// A request for an answer that follows `schema`.
pub(crate) struct StructuredCall<'a> {
    pub instructions: &'a str,
    pub input: &'a str,
    /// Tool name (Anthropic) or schema name (OpenAI).
    pub tool: &'a str,
    pub tool_description: &'a str,
    pub schema: &'a Value,
}

/// The model's answer: JSON already parsed by the server (a forced tool call), or
/// text that should hold JSON.
#[derive(Debug, Clone)]
pub(crate) enum Answer {
    Json(Value),
    Text(String),
}

#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub answer: Answer,
    /// The model stopped at the output token limit: the JSON may be cut off.
    pub truncated: bool,
    /// What this answer cost, as reported (or estimated when the provider did not say).
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// How one HTTP exchange failed.
enum Failure {
    /// Worth another try: rate limit, overload, server error, network.
    Transient {
        message: String,
        retry_after: Option<Duration>,
        /// No connection was made (refused, unknown host): the server may not be there at all.
        connect: bool,
    },
    Fatal(LlmError),
}

struct Exchange {
    reply: Reply,
    /// (input, output) tokens as the provider reported them.
    reported: Option<(u64, u64)>,
}

/// The HTTP side of the extractor: one client, shared by every job.
pub(crate) struct ApiClient {
    http: reqwest::Client,
    config: Arc<LlmConfig>,
    endpoint: String,
    provider: String,
}

impl ApiClient {
    pub(crate) fn new(config: Arc<LlmConfig>) -> Result<ApiClient, LlmError> {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(15)))
            .user_agent(concat!("fullpass/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LlmError::Client(e.to_string()))?;
        Ok(ApiClient {
            http,
            endpoint: config.endpoint(),
            provider: config.provider(),
            config,
        })
    }

    fn body(&self, call: &StructuredCall<'_>) -> Value {
        let model = &self.config.model;
        let max_tokens = self.config.max_output_tokens;
        match self.config.api {
            ApiStyle::Openai => json!({
                "model": model,
                "messages": [
                    {"role": "system", "content": call.instructions},
                    {"role": "user", "content": call.input},
                ],
                // `max_tokens` is refused by OpenAI's reasoning models; servers that
                // do not know this name ignore it.
                "max_completion_tokens": max_tokens,
                // Facts, not creativity: small local models drift at their default temperature.
                "temperature": 0,
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": call.tool, "strict": true, "schema": call.schema},
                },
            }),
            ApiStyle::Anthropic => json!({
                "model": model,
                "max_tokens": max_tokens,
                "temperature": 0,
                // The instructions and tool repeat on every request: let the provider cache them.
                "system": [{
                    "type": "text",
                    "text": call.instructions,
                    "cache_control": {"type": "ephemeral"},
                }],
                "messages": [{"role": "user", "content": call.input}],
                "tools": [{
                    "name": call.tool,
                    "description": call.tool_description,
                    "input_schema": call.schema,
                }],
                "tool_choice": {"type": "tool", "name": call.tool},
            }),
        }
    }

    /// One tiny request (a few output tokens, no retries, at most `CHECK_TIMEOUT`):
    /// whether the server is there, takes the key and knows the model.
    pub(crate) async fn check(&self) -> Result<(), LlmError> {
        let question = json!([{"role": "user", "content": "Reply with OK."}]);
        let body = match self.config.api {
            ApiStyle::Openai => json!({
                "model": self.config.model,
                "messages": question,
                "max_completion_tokens": CHECK_OUTPUT_TOKENS,
                "temperature": 0,
            }),
            ApiStyle::Anthropic => json!({
                "model": self.config.model,
                "max_tokens": CHECK_OUTPUT_TOKENS,
                "temperature": 0,
                "messages": question,
            }),
        };
        let bytes = bytes::Bytes::from(body.to_string());
        let provider = self.provider.clone();
        match tokio::time::timeout(CHECK_TIMEOUT, self.exchange(bytes, "check")).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(Failure::Fatal(error))) => Err(error),
            Ok(Err(Failure::Transient {
                message, connect, ..
            })) => Err(match connect {
                true => LlmError::Unreachable {
                    provider,
                    attempts: 1,
                    message,
                },
                false => LlmError::Unavailable {
                    provider,
                    retries: 0,
                    last: message,
                },
            }),
            Err(_) => Err(LlmError::Unavailable {
                provider,
                retries: 0,
                last: format!("no answer within {CHECK_TIMEOUT:?}"),
            }),
        }
    }

    /// Sends `call`, retrying transient failures, and accounts its cost in `usage`.
    pub(crate) async fn call(
        &self,
        call: &StructuredCall<'_>,
        usage: &JobUsage,
    ) -> Result<Reply, LlmError> {
        let body = self.body(call);
        let bytes = bytes::Bytes::from(body.to_string());
        let estimated_input = estimate_tokens(call.instructions)
            + estimate_tokens(call.input)
            + estimate_tokens(&call.schema.to_string())
            + estimate_tokens(call.tool_description);
        let estimate = estimated_input + u64::from(self.config.max_output_tokens);
        let mut attempt: u32 = 0;
        let mut connect_failures: u32 = 0;
        loop {
            let reservation = usage.reserve(estimate)?;
            match self.exchange(bytes.clone(), call.tool).await {
                Ok(exchange) => {
                    usage.mark_server_reached();
                    let mut reply = exchange.reply;
                    let (input, output) = match exchange.reported {
                        Some((input, output)) => {
                            reservation.settle(input, output, false);
                            (input, output)
                        }
                        None => {
                            let output = match &reply.answer {
                                Answer::Json(v) => estimate_tokens(&v.to_string()),
                                Answer::Text(t) => estimate_tokens(t),
                            };
                            reservation.settle(estimated_input, output, true);
                            (estimated_input, output)
                        }
                    };
                    reply.input_tokens = input;
                    reply.output_tokens = output;
                    return Ok(reply);
                }
                Err(Failure::Fatal(error)) => return Err(error),
                Err(Failure::Transient {
                    message,
                    retry_after,
                    connect,
                }) => {
                    drop(reservation);
                    // A server never reached in this job is likely not there at all (wrong
                    // URL, not started): a few quick tries, not the long backoff.
                    if !connect {
                        usage.mark_server_reached();
                    }
                    let unreached = connect && !usage.server_reached();
                    if unreached {
                        connect_failures += 1;
                        if connect_failures > UNREACHED_RETRIES {
                            return Err(LlmError::Unreachable {
                                provider: self.provider.clone(),
                                attempts: connect_failures,
                                message,
                            });
                        }
                    }
                    if let Some(wait) = retry_after
                        && wait > self.config.retry_max
                    {
                        return Err(LlmError::RetryLater {
                            provider: self.provider.clone(),
                            wait,
                            message,
                        });
                    }
                    if usage.take_retry().is_none() {
                        if unreached {
                            return Err(LlmError::Unreachable {
                                provider: self.provider.clone(),
                                attempts: connect_failures,
                                message,
                            });
                        }
                        return Err(LlmError::Unavailable {
                            provider: self.provider.clone(),
                            retries: usage.retries(),
                            last: message,
                        });
                    }
                    let delay = match unreached {
                        true => {
                            Backoff::new(UNREACHED_RETRY_BASE, UNREACHED_RETRY_MAX).delay(attempt)
                        }
                        false => Backoff::new(self.config.retry_base, self.config.retry_max)
                            .delay(attempt),
                    }
                    .max(retry_after.unwrap_or_default());
                    tracing::warn!(
                        provider = %self.provider,
                        error = %message,
                        retry_in_ms = delay.as_millis() as u64,
                        "LLM request failed; retrying"
                    );
                    attempt = attempt.saturating_add(1);
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    async fn exchange(&self, body: bytes::Bytes, tool: &str) -> Result<Exchange, Failure> {
        let mut request = self
            .http
            .post(&self.endpoint)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        let key = self.config.api_key.as_ref().map(|k| k.expose());
        request = match (self.config.api, key) {
            (ApiStyle::Openai, Some(key)) => request.bearer_auth(key),
            (ApiStyle::Openai, None) => request,
            (ApiStyle::Anthropic, key) => {
                let request = request.header("anthropic-version", ANTHROPIC_VERSION);
                match key {
                    Some(key) => request.header("x-api-key", key),
                    None => request,
                }
            }
        };
        let response = request.send().await.map_err(|e| Failure::Transient {
            message: crate::net::describe_http_error(&e),
            retry_after: None,
            connect: e.is_connect(),
        })?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let text = response.text().await.map_err(|e| Failure::Transient {
            message: crate::net::describe_http_error(&e),
            retry_after: None,
            connect: false,
        })?;
        if !(200..300).contains(&status) {
            return Err(self.classify(status, &text, retry_after, tool));
        }
        let envelope: Value = serde_json::from_str(&text).map_err(|e| Failure::Transient {
            message: format!("HTTP {status} with a body that is not JSON ({e})"),
            retry_after: None,
            connect: false,
        })?;
        let parsed = match self.config.api {
            ApiStyle::Openai => openai_reply(&envelope),
            ApiStyle::Anthropic => anthropic_reply(&envelope),
        };
        parsed.ok_or_else(|| Failure::Transient {
            message: format!(
                "HTTP {status} with an unexpected body: {}",
                excerpt(&text, ERROR_BODY_CHARS)
            ),
            retry_after: None,
            connect: false,
        })
    }

    fn classify(
        &self,
        status: u16,
        body: &str,
        retry_after: Option<Duration>,
        tool: &str,
    ) -> Failure {
        let (message, code) = provider_error(body);
        let provider = self.provider.clone();
        if is_context_error(status, &message, code.as_deref()) {
            // Map requests grow with the chunk size, reduce requests with the batch size.
            let (setting, value) = match tool {
                REDUCE_TOOL => ("FULLPASS_LLM_REDUCE_BATCH", self.config.reduce_batch),
                _ => ("FULLPASS_LLM_CHUNK_TOKENS", self.config.chunk_tokens),
            };
            return Failure::Fatal(LlmError::TooLarge {
                provider,
                status,
                message,
                setting,
                value,
            });
        }
        if is_quota_error(status, &message, code.as_deref()) {
            return Failure::Fatal(LlmError::Quota {
                provider,
                status,
                message,
            });
        }
        const CONTENT_CODES: [&str; 3] = [
            "content_filter",
            "content_policy_violation",
            "invalid_prompt",
        ];
        if status == 400 && code.as_deref().is_some_and(|c| CONTENT_CODES.contains(&c)) {
            return Failure::Fatal(LlmError::ContentRefused { provider, message });
        }
        match status {
            // Rate limits, timeouts at the gateway, overload (Anthropic's 529), server errors.
            408 | 425 | 429 | 500..=599 => Failure::Transient {
                message: format!("HTTP {status}: {message}"),
                retry_after,
                connect: false,
            },
            _ => Failure::Fatal(LlmError::Rejected {
                provider,
                status,
                message,
            }),
        }
    }
}

/// OpenAI chat completions: `choices[0].message.content`, `usage.prompt_tokens`.
fn openai_reply(envelope: &Value) -> Option<Exchange> {
    let choice = envelope.get("choices")?.get(0)?;
    let message = choice.get("message")?;
    let content = match message.get("content") {
        Some(Value::String(s)) => s.clone(),
        // A refusal: no facts, and the chunk counts as failed.
        _ => String::new(),
    };
    let truncated = choice.get("finish_reason").and_then(Value::as_str) == Some("length");
    let usage = envelope.get("usage");
    let count = |name: &str| usage.and_then(|u| u.get(name)).and_then(Value::as_u64);
    let reported = match (count("prompt_tokens"), count("completion_tokens")) {
        (Some(i), Some(o)) => Some((i, o)),
        _ => None,
    };
    Some(Exchange {
        reply: Reply {
            answer: Answer::Text(content),
            truncated,
            input_tokens: 0,
            output_tokens: 0,
        },
        reported,
    })
}

/// Anthropic messages: the forced `tool_use` block's `input`, else the text blocks.
fn anthropic_reply(envelope: &Value) -> Option<Exchange> {
    let content = envelope.get("content")?.as_array()?;
    let tool_input = content
        .iter()
        .find(|b| b.get("type").and_then(Value::as_str) == Some("tool_use"))
        .and_then(|b| b.get("input"))
        .cloned();
    let answer = match tool_input {
        Some(input) => Answer::Json(input),
        None => Answer::Text(
            content
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    };
    let truncated = envelope.get("stop_reason").and_then(Value::as_str) == Some("max_tokens");
    let usage = envelope.get("usage");
    let count = |name: &str| usage.and_then(|u| u.get(name)).and_then(Value::as_u64);
    let reported = match (count("input_tokens"), count("output_tokens")) {
        (Some(i), Some(o)) => {
            let cached = count("cache_creation_input_tokens").unwrap_or(0)
                + count("cache_read_input_tokens").unwrap_or(0);
            Some((i + cached, o))
        }
        _ => None,
    };
    Some(Exchange {
        reply: Reply {
            answer,
            truncated,
            input_tokens: 0,
            output_tokens: 0,
        },
        reported,
    })
}

/// The provider's own words about an error (`error.message` in both protocols) and its code.
fn provider_error(body: &str) -> (String, Option<String>) {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let field = |name: &str| {
        error
            .and_then(|e| e.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let message = field("message")
        .or_else(|| {
            parsed
                .as_ref()
                .and_then(|v| v.get("message"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .or_else(|| error.and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| {
            let body = body.trim();
            if body.is_empty() {
                "(empty body)".to_owned()
            } else {
                excerpt(body, ERROR_BODY_CHARS)
            }
        });
    (message, field("code").or_else(|| field("type")))
}

/// The request does not fit the model's context window: llama.cpp, vLLM, OpenAI and
/// Anthropic say so with a 400 (or 413) in their own words.
fn is_context_error(status: u16, message: &str, code: Option<&str>) -> bool {
    const CONTEXT_CODES: [&str; 2] = ["context_length_exceeded", "exceed_context_size_error"];
    if !matches!(status, 400 | 413) {
        return false;
    }
    if code.is_some_and(|c| CONTEXT_CODES.contains(&c)) {
        return true;
    }
    let message = message.to_ascii_lowercase();
    [
        "context size",
        "context length",
        "context window",
        "maximum context",
        "prompt is too long",
        "too many tokens",
    ]
    .iter()
    .any(|needle| message.contains(needle))
        || (status == 413 && message.contains("too large"))
}

/// Out of credit or quota: OpenAI says so with a 429 and `insufficient_quota`;
/// others use 402 or a 400 whose message speaks of billing or credit.
fn is_quota_error(status: u16, message: &str, code: Option<&str>) -> bool {
    const QUOTA_CODES: [&str; 3] = [
        "insufficient_quota",
        "billing_hard_limit_reached",
        "billing_not_active",
    ];
    if status == 402 || code.is_some_and(|c| QUOTA_CODES.contains(&c)) {
        return true;
    }
    let message = message.to_ascii_lowercase();
    (400..500).contains(&status)
        && ["exceeded your current quota", "credit balance", "billing"]
            .iter()
            .any(|needle| message.contains(needle))
}

/// `Retry-After` in seconds (fractions accepted); HTTP dates are ignored.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let seconds: f64 = value.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(86_400.0)))
}

fn excerpt(text: &str, max_chars: usize) -> String {
    let mut out: String = text.chars().take(max_chars).collect();
    if text.chars().nth(max_chars).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-3"), None);
    }

    #[test]
    fn quota_errors_are_told_apart_from_rate_limits() {
        let quota = r#"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","code":"insufficient_quota"}}"#;
        let (m, c) = provider_error(quota);
        assert!(is_quota_error(429, &m, c.as_deref()));
        let rate = r#"{"error":{"message":"Rate limit reached for gpt-4o-mini on tokens per min (TPM)","type":"tokens","code":"rate_limit_exceeded"}}"#;
        let (m, c) = provider_error(rate);
        assert!(!is_quota_error(429, &m, c.as_deref()));
        let credit = r#"{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}}"#;
        let (m, c) = provider_error(credit);
        assert!(m.starts_with("Your credit balance"));
        assert!(is_quota_error(400, &m, c.as_deref()));
        let overloaded =
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        let (m, c) = provider_error(overloaded);
        assert!(!is_quota_error(529, &m, c.as_deref()));
        assert_eq!(
            provider_error("<html>bad gateway</html>").0,
            "<html>bad gateway</html>"
        );
    }

    #[test]
    fn context_errors_are_told_apart_from_other_refusals() {
        let llama = r#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":9000,"n_ctx":4096}}"#;
        let (m, c) = provider_error(llama);
        assert!(is_context_error(400, &m, c.as_deref()));
        let openai = r#"{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}"#;
        let (m, c) = provider_error(openai);
        assert!(is_context_error(400, &m, c.as_deref()));
        let anthropic = r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#;
        let (m, c) = provider_error(anthropic);
        assert!(is_context_error(400, &m, c.as_deref()));
        assert!(is_context_error(413, "Request Entity Too Large", None));
        let model = r#"{"error":{"message":"model 'x' not found","type":"invalid_request_error"}}"#;
        let (m, c) = provider_error(model);
        assert!(!is_context_error(400, &m, c.as_deref()));
        assert!(!is_context_error(500, "context size", None));
    }

    #[test]
    fn replies_of_both_protocols() {
        let openai = json!({
            "choices": [{"message": {"content": "{\"facts\":[]}"}, "finish_reason": "length"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 3}
        });
        let e = openai_reply(&openai).unwrap();
        assert!(e.reply.truncated);
        assert_eq!(e.reported, Some((10, 3)));
        assert!(matches!(e.reply.answer, Answer::Text(ref t) if t == "{\"facts\":[]}"));
        let anthropic = json!({
            "content": [{"type": "text", "text": "ok"}, {"type": "tool_use", "name": "record_facts", "input": {"facts": []}}],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 7, "output_tokens": 2, "cache_read_input_tokens": 5}
        });
        let e = anthropic_reply(&anthropic).unwrap();
        assert!(!e.reply.truncated);
        assert_eq!(e.reported, Some((12, 2)));
        assert!(matches!(e.reply.answer, Answer::Json(_)));
        assert!(openai_reply(&json!({"data": 1})).is_none());
    }
}
