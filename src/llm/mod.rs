//! The LLM extractor (`FULLPASS_EXTRACTOR=llm`): a language model behind an
//! OpenAI-compatible chat-completions API (OpenAI, Ollama, llama.cpp, vLLM) or the
//! Anthropic messages API reads the user's words and proposes facts; the built-in
//! rules still filter secrets and consolidate, and `crate::memory` renders the result.
//!
//! # Data path
//!
//! * **Map.** [`ChunkCollector`] is an [`ingest::Sink`](crate::ingest::Sink): as ingest
//!   reads conversations on its blocking thread, it packs the user's messages of the
//!   canonical branch (with a few words of the assistant message each answers, as
//!   context), their "about me" text and saved memories into chunks of about
//!   `FULLPASS_LLM_CHUNK_TOKENS` (4 characters a token), after the secret filter has
//!   redacted them, and sends them over a bounded channel. [`LlmExtractor::run`] sends
//!   each chunk to the model as it arrives, at most `FULLPASS_LLM_CONCURRENCY` at once,
//!   asking for facts as JSON under a schema (`response_format: json_schema` for
//!   OpenAI-compatible servers, a forced tool call for Anthropic). Answers are
//!   repaired (code fences, cut-off JSON) and validated fact by fact; facts holding a
//!   secret are dropped. A chunk whose answer never parses is skipped and counted.
//!   Facts the user said ended ("not vegan any more") are marked `ended`, as the
//!   built-in extractor does.
//! * **Reduce.** Repeats are folded; then the model, shown numbered facts in batches
//!   (per category when they do not fit one request), answers which ids to merge,
//!   supersede or drop. Then the built-in consolidator ranks and trims.
//! * **Errors.** 429, 529, 5xx, timeouts and connection errors are retried with
//!   backoff and jitter (`Retry-After` as a floor) within `FULLPASS_LLM_MAX_RETRIES`
//!   per job; refusals (400, 401, 403, ...) and quota errors end the job at once.
//!   [`LlmError::is_transient`] tells the queue whether to retry the job later.
//! * **Cost.** [`JobUsage`] counts requests and the provider's token counts, and
//!   refuses a request that could take the job past `FULLPASS_LLM_JOB_TOKEN_BUDGET`.
//! * **Resume.** With [`Checkpoints`], each finished chunk's facts are saved in
//!   `fullpass.llm_chunks` under a hash of its text, conversations, model and prompt,
//!   so a job run again does not pay for them twice.
//!
//! # Wiring
//!
//! ```ignore
//! let config = llm_args.validate()?;                 // LlmArgs: flatten into the CLI
//! let rules = Arc::new(BuiltinRules { settings: extract_settings });
//! let extractor = LlmExtractor::new(config, rules)?; // one per process
//! // per job:
//! let usage = extractor.new_usage();
//! let checkpoints = Checkpoints { client: &db_client, user_id };
//! let out = extractor
//!     .extract_export(reader, limits, Some(checkpoints), &usage, on_progress)
//!     .await;                                        // or collector() + run() by hand
//! // on success: render out.facts, store out.usage, checkpoints.forget().await
//! // on failure: log usage.snapshot(), retry later if error.is_transient()
//! ```

mod answer;
mod api;
mod checkpoint;
mod chunk;
mod config;
mod error;
mod extractor;
mod grounding;
mod prompt;
mod reduce;
mod repair;
mod rules;
mod usage;

pub use checkpoint::{Checkpoints, ChunkCost, forget_older_than};
pub use chunk::{Chunk, ChunkCollector, ChunkConversation, ChunkFeed, ChunkPacker};
pub use config::{ApiKey, ApiStyle, ExtractorKind, LlmArgs, LlmConfig};
pub use error::LlmError;
pub use extractor::{LlmExtractor, LlmPassOutput};
pub use prompt::{MAP_TOOL, PROMPT_VERSION, REDUCE_TOOL};
pub use repair::extract_json;
pub use rules::{BuiltinRules, ExtractRules};
pub use usage::{JobUsage, LlmUsage, estimate_tokens};
