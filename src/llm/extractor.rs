//! Map (chunks → facts, with bounded concurrency, as chunks arrive), reduce, consolidate.

use super::LlmError;
use super::answer::chunk_facts;
use super::api::{ApiClient, StructuredCall};
use super::checkpoint::{Checkpoints, ChunkCost};
use super::chunk::{Chunk, ChunkCollector, ChunkFeed, ChunkPacker};
use super::config::LlmConfig;
use super::prompt::{MAP_INSTRUCTIONS, MAP_TOOL, map_input, map_schema};
use super::reduce::Reducer;
use super::rules::ExtractRules;
use super::usage::{JobUsage, LlmUsage};
use crate::extract::Fact;
use crate::ingest::{self, Cancelled, ExportStats, IngestError, Limits, Progress};
use futures_util::StreamExt;
use serde_json::Value;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::mpsc;

/// Requests per chunk whose answer does not parse before the chunk is skipped.
const CHUNK_ATTEMPTS: u32 = 2;

/// The LLM extractor: configuration, HTTP client and the built-in rules it shares.
/// One per process; every job calls [`LlmExtractor::run`] with its own [`JobUsage`].
pub struct LlmExtractor {
    config: Arc<LlmConfig>,
    api: ApiClient,
    rules: Arc<dyn ExtractRules>,
    map_schema: Value,
}

impl std::fmt::Debug for LlmExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // LlmConfig masks its key.
        f.debug_struct("LlmExtractor")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// One chunk's facts, or why it was given up.
struct MappedChunk {
    index: u64,
    facts: Vec<Fact>,
    skipped: Option<String>,
}

impl MappedChunk {
    fn done(index: u64, facts: Vec<Fact>) -> MappedChunk {
        MappedChunk {
            index,
            facts,
            skipped: None,
        }
    }

    fn skipped(index: u64, problem: String) -> MappedChunk {
        MappedChunk {
            index,
            facts: Vec::new(),
            skipped: Some(problem),
        }
    }
}

/// What [`LlmExtractor::extract_export`] produced.
#[derive(Debug)]
pub struct LlmPassOutput {
    pub facts: Vec<Fact>,
    pub stats: ExportStats,
    pub usage: LlmUsage,
}

impl LlmExtractor {
    pub fn new(config: LlmConfig, rules: Arc<dyn ExtractRules>) -> Result<LlmExtractor, LlmError> {
        let config = Arc::new(config);
        Ok(LlmExtractor {
            api: ApiClient::new(config.clone())?,
            config,
            rules,
            map_schema: map_schema(),
        })
    }

    pub fn config(&self) -> &LlmConfig {
        &self.config
    }

    /// Sends the model server one tiny request (no retries, bounded wait): `Ok` when it
    /// answered, else why not (unreachable, key refused, unknown model, ...).
    pub async fn check(&self) -> Result<(), LlmError> {
        self.api.check().await
    }

    /// A fresh spending ledger for one job, with the configured budget.
    pub fn new_usage(&self) -> JobUsage {
        JobUsage::new(&self.config)
    }

    /// The sink to hand ingest and the receiver to hand [`LlmExtractor::run`]. The
    /// channel holds a few chunks, so reading runs only a little ahead of the requests.
    pub fn collector(&self) -> (ChunkCollector, mpsc::Receiver<ChunkFeed>) {
        let (tx, rx) = mpsc::channel(self.config.concurrency.saturating_mul(2).max(2));
        let packer = ChunkPacker::new(self.config.chunk_tokens, self.rules.clone());
        (ChunkCollector::new(packer, tx), rx)
    }

    /// Maps chunks as they arrive (at most `concurrency` requests at once), then reduces
    /// and consolidates. With `checkpoints`, finished chunks are saved and chunks done
    /// by an earlier run are not requested again. `usage` can be read while this runs,
    /// and after it fails, to see what was spent.
    pub async fn run(
        &self,
        mut chunks: mpsc::Receiver<ChunkFeed>,
        checkpoints: Option<Checkpoints<'_>>,
        usage: &JobUsage,
    ) -> Result<(Vec<Fact>, LlmUsage), LlmError> {
        let ended = AtomicBool::new(false);
        let feed = futures_util::stream::poll_fn(|cx| chunks.poll_recv(cx))
            .take_while(|item| {
                let more = matches!(item, ChunkFeed::Chunk(_));
                if !more {
                    ended.store(true, Ordering::Relaxed);
                }
                std::future::ready(more)
            })
            .filter_map(|item| {
                std::future::ready(match item {
                    ChunkFeed::Chunk(chunk) => Some(chunk),
                    ChunkFeed::Done => None,
                })
            });
        let mut mapped = feed
            .map(|chunk| self.map_chunk(chunk, checkpoints, usage))
            .buffer_unordered(self.config.concurrency.max(1));
        let mut by_chunk: Vec<(u64, Vec<Fact>)> = Vec::new();
        let mut last_problem: Option<String> = None;
        while let Some(result) = mapped.next().await {
            let mapped = result?;
            if let Some(problem) = mapped.skipped {
                last_problem = Some(problem);
            }
            by_chunk.push((mapped.index, mapped.facts));
        }
        drop(mapped);
        if !ended.load(Ordering::Relaxed) {
            return Err(LlmError::InputIncomplete);
        }
        let spent = usage.snapshot();
        if spent.chunks > 0
            && spent.chunks_skipped >= spent.chunks
            && let Some(last) = last_problem
        {
            return Err(LlmError::NoChunkSucceeded {
                provider: self.config.provider(),
                chunks: spent.chunks,
                last,
            });
        }
        // Export order, so the same export gives the same reduce requests.
        by_chunk.sort_by_key(|(index, _)| *index);
        let candidates: Vec<Fact> = by_chunk.into_iter().flat_map(|(_, f)| f).collect();
        let reducer = Reducer {
            api: &self.api,
            config: &self.config,
            usage,
        };
        let reduced = reducer.reduce(candidates).await?;
        let facts = self.rules.consolidate(reduced);
        Ok((facts, usage.snapshot()))
    }

    async fn map_chunk(
        &self,
        chunk: Chunk,
        checkpoints: Option<Checkpoints<'_>>,
        usage: &JobUsage,
    ) -> Result<MappedChunk, LlmError> {
        usage.record(|u| u.chunks += 1);
        let hash = chunk.fingerprint(&self.config.model);
        if let Some(saved) = checkpoints {
            match saved.load(&hash).await {
                Ok(Some(facts)) => {
                    usage.record(|u| u.chunks_from_checkpoint += 1);
                    return Ok(MappedChunk::done(chunk.index, facts));
                }
                Ok(None) => {}
                // A checkpoint only saves money: without one the chunk is just requested.
                Err(e) => tracing::warn!(error = %e, "chunk checkpoint unavailable"),
            }
        }
        let input = map_input(&chunk.text);
        let call = StructuredCall {
            instructions: MAP_INSTRUCTIONS,
            input: &input,
            tool: MAP_TOOL,
            tool_description: "Record the durable facts the person states about themselves.",
            schema: &self.map_schema,
        };
        let mut cost = ChunkCost::default();
        let mut last_problem = String::new();
        for attempt in 1..=CHUNK_ATTEMPTS {
            let reply = match self.api.call(&call, usage).await {
                Ok(reply) => reply,
                Err(LlmError::ContentRefused { message, .. }) => {
                    tracing::warn!(chunk = chunk.index, error = %message, "chunk refused by the provider; skipped");
                    usage.record(|u| u.chunks_skipped += 1);
                    return Ok(MappedChunk::skipped(
                        chunk.index,
                        format!("refused under the content policy: {message}"),
                    ));
                }
                Err(e) => return Err(e),
            };
            cost.requests += 1;
            cost.input_tokens += reply.input_tokens;
            cost.output_tokens += reply.output_tokens;
            match chunk_facts(&reply, &chunk, self.rules.as_ref()) {
                Ok(found) => {
                    usage.record(|u| {
                        u.facts_proposed += found.facts.len() as u64;
                        u.facts_invalid += found.invalid;
                        u.facts_with_secrets += found.with_secrets;
                        u.facts_ungrounded += found.ungrounded;
                    });
                    if let Some(saved) = checkpoints
                        && let Err(e) = saved
                            .save(&hash, &self.config.model, &found.facts, &cost)
                            .await
                    {
                        tracing::warn!(error = %e, "could not save a chunk checkpoint");
                    }
                    return Ok(MappedChunk::done(chunk.index, found.facts));
                }
                Err(problem) => {
                    tracing::warn!(
                        chunk = chunk.index,
                        attempt,
                        truncated = reply.truncated,
                        %problem,
                        "unusable answer for a chunk"
                    );
                    last_problem = match reply.truncated {
                        true => format!(
                            "{problem} (stopped at FULLPASS_LLM_MAX_OUTPUT_TOKENS={})",
                            self.config.max_output_tokens
                        ),
                        false => problem,
                    };
                }
            }
        }
        usage.record(|u| u.chunks_skipped += 1);
        Ok(MappedChunk::skipped(chunk.index, last_problem))
    }

    /// Reads a whole export (on a blocking thread) while mapping its chunks, then
    /// reduces: `fullpass process --extractor llm`, and the worker with a reader over
    /// the storage stream. `on_progress` is called as ingest reads; `Err(Cancelled)`
    /// stops reading (requests in flight finish; dropping the future stops them too).
    pub async fn extract_export<R, P>(
        &self,
        input: R,
        limits: Limits,
        checkpoints: Option<Checkpoints<'_>>,
        usage: &JobUsage,
        on_progress: P,
    ) -> Result<LlmPassOutput, LlmError>
    where
        R: Read + Send + 'static,
        P: FnMut(&Progress) -> Result<(), Cancelled> + Send + 'static,
    {
        let (collector, chunks) = self.collector();
        let mut collector = collector.with_progress(on_progress);
        let reader = tokio::task::spawn_blocking(move || {
            let stats = ingest::read_export(input, &limits, &mut collector)?;
            collector
                .finish()
                .map_err(|Cancelled| IngestError::Cancelled)?;
            Ok::<_, IngestError>(stats)
        });
        let (extracted, read) = tokio::join!(self.run(chunks, checkpoints, usage), reader);
        let stats = match read {
            Ok(Ok(stats)) => stats,
            Ok(Err(IngestError::Cancelled)) => {
                return Err(match extracted {
                    // The extractor failed first: closing the channel stopped the reader.
                    Err(e) if !matches!(e, LlmError::InputIncomplete) => e,
                    // The caller stopped the read (on_progress said so).
                    _ => LlmError::Ingest(IngestError::Cancelled),
                });
            }
            Ok(Err(e)) => return Err(LlmError::Ingest(e)),
            Err(join) => {
                tracing::error!(error = %join, "the export reader panicked");
                return Err(LlmError::InputIncomplete);
            }
        };
        let (facts, usage) = extracted?;
        Ok(LlmPassOutput {
            facts,
            stats,
            usage,
        })
    }
}
