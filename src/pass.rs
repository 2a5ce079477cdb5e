//! One full pass over an export: ingest → extract → consolidated facts.
//! Blocking code: run it on a blocking thread, fed by a reader.
//!
//! Reading conversations for facts costs far more than parsing the export, so the
//! pass hands conversations to a few extraction threads and merges what they found
//! in arrival order: the result is the same as reading them one after another.

use crate::extract::{
    ConversationFindings, ConversationReader, ExtractSettings, Fact, FactExtractor,
};
use crate::ingest::{
    self, Budget, Cancelled, Conversation, ExportStats, IngestError, Limits, Progress, Reservation,
};
use std::collections::BTreeMap;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

/// Threads reading conversations for facts, beside the one parsing the export.
const EXTRACTION_THREADS: usize = 2;

/// Conversations waiting for an extraction thread: bounds the memory a pass
/// holds in small conversations; large ones are bounded by bytes (see [`run`]).
const QUEUED_CONVERSATIONS: usize = 64;

/// A conversation on its way to an extraction thread, with its share of the
/// pass's budget.
type Job = (u64, Conversation, Reservation);

/// Exports at most this big as stored are read whole into memory and passed over
/// on one thread: for them, extra threads cost more than they save.
pub const IN_MEMORY_EXPORT_BYTES: u64 = 64 << 10;

/// An export with nothing to learn from: not one message written by the user
/// (an empty list, or conversations holding only the assistant's side) and no
/// fact found elsewhere (custom instructions). Its memory would be empty, so it
/// is refused rather than written over a good one.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "the export holds no conversations with a message from the user ({conversations} conversations read)"
)]
pub struct NoUserMessages {
    pub conversations: u64,
}

/// Whether a pass's export held anything to remember, whichever extractor
/// read it: the daemon and `fullpass process` both refuse the export otherwise.
/// An export with user messages but no fact in them is no error: its memory
/// is rightly empty.
pub fn require_something_to_remember(
    stats: &ExportStats,
    facts: &[Fact],
) -> Result<(), NoUserMessages> {
    if stats.user_messages == 0 && facts.is_empty() {
        return Err(NoUserMessages {
            conversations: stats.conversations,
        });
    }
    Ok(())
}

/// What a pass produced.
#[derive(Debug)]
pub struct PassOutput {
    pub facts: Vec<Fact>,
    pub stats: ExportStats,
}

/// Feeds conversations to the extraction threads and merges their findings in the
/// order the conversations arrived.
struct ExtractingSink<'a, P> {
    extractor: FactExtractor,
    on_progress: &'a mut P,
    /// `None` once the export is read, which lets the threads finish.
    queue: Option<SyncSender<Job>>,
    done: Receiver<(u64, ConversationFindings)>,
    /// Findings that arrived before those of an earlier conversation.
    waiting: BTreeMap<u64, ConversationFindings>,
    /// Reads conversations here when no extraction thread is left to take them.
    fallback: ConversationReader,
    sent: u64,
    merged: u64,
}

impl<'a, P> ExtractingSink<'a, P> {
    /// A sink that reads every conversation itself, on the calling thread.
    fn on_this_thread(settings: &ExtractSettings, on_progress: &'a mut P) -> Self {
        let (_, done) = mpsc::channel();
        ExtractingSink {
            extractor: FactExtractor::new(settings.clone()),
            on_progress,
            queue: None,
            done,
            waiting: BTreeMap::new(),
            fallback: ConversationReader::default(),
            sent: 0,
            merged: 0,
        }
    }

    fn accept(&mut self, sequence: u64, findings: ConversationFindings) {
        self.waiting.insert(sequence, findings);
        while let Some(findings) = self.waiting.remove(&self.merged) {
            self.extractor.merge(findings);
            self.merged += 1;
        }
    }

    /// Merges whatever the threads have finished, without waiting.
    fn collect_ready(&mut self) {
        while let Ok((sequence, findings)) = self.done.try_recv() {
            self.accept(sequence, findings);
        }
    }

    /// Waits for every conversation sent to be merged.
    fn collect_all(&mut self) {
        self.queue = None;
        while self.merged < self.sent {
            match self.done.recv() {
                Ok((sequence, findings)) => self.accept(sequence, findings),
                Err(_) => break,
            }
        }
    }
}

impl<P: FnMut(&Progress) -> Result<(), Cancelled>> ingest::Sink for ExtractingSink<'_, P> {
    fn conversation(&mut self, conversation: Conversation) -> Result<(), Cancelled> {
        self.held_conversation(conversation, Reservation::default())
    }

    fn held_conversation(
        &mut self,
        conversation: Conversation,
        held: Reservation,
    ) -> Result<(), Cancelled> {
        let sequence = self.sent;
        self.sent += 1;
        let mut job = (sequence, conversation, held);
        while let Some(queue) = &self.queue {
            match queue.try_send(job) {
                Ok(()) => {
                    self.collect_ready();
                    return Ok(());
                }
                Err(TrySendError::Full(back)) => {
                    job = back;
                    // The threads are busy: merge what they finished while waiting.
                    match self.done.recv() {
                        Ok((done_sequence, findings)) => self.accept(done_sequence, findings),
                        Err(_) => self.queue = None,
                    }
                }
                Err(TrySendError::Disconnected(back)) => {
                    job = back;
                    self.queue = None;
                }
            }
        }
        let (sequence, conversation, held) = job;
        let findings = self.fallback.read(&conversation);
        drop((conversation, held));
        self.accept(sequence, findings);
        Ok(())
    }

    fn progress(&mut self, progress: &Progress) -> Result<(), Cancelled> {
        (self.on_progress)(progress)
    }
}

/// Conversation bytes being read by the extraction threads, now and at most.
#[derive(Debug, Default)]
struct InExtraction {
    now: AtomicU64,
    peak: AtomicU64,
}

/// The bytes of a conversation's messages: what an extraction thread holds.
fn text_bytes(conversation: &Conversation) -> u64 {
    conversation
        .messages
        .iter()
        .map(|m| m.text.len() as u64)
        .sum()
}

/// Opens the budget when an extraction thread stops, however it stops: the
/// reader must not wait for reservations that nobody will give back.
struct OpenOnExit<'a>(&'a Budget);

impl Drop for OpenOnExit<'_> {
    fn drop(&mut self) {
        self.0.open();
    }
}

/// Reads conversations from `queue` until it closes, sending back what each
/// says; a conversation's reservation is given back once it is read.
fn extract_conversations(
    queue: &Mutex<Receiver<Job>>,
    done: mpsc::Sender<(u64, ConversationFindings)>,
    budget: &Budget,
    in_extraction: &InExtraction,
) {
    let _open = OpenOnExit(budget);
    let mut reader = ConversationReader::default();
    loop {
        let job = match queue.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok((sequence, conversation, held)) = job else {
            return;
        };
        let bytes = text_bytes(&conversation);
        let now = in_extraction.now.fetch_add(bytes, Ordering::Relaxed) + bytes;
        in_extraction.peak.fetch_max(now, Ordering::Relaxed);
        let findings = reader.read(&conversation);
        in_extraction.now.fetch_sub(bytes, Ordering::Relaxed);
        drop(conversation);
        drop(held);
        if done.send((sequence, findings)).is_err() {
            return;
        }
    }
}

/// [`run`] for a small export already in memory (see [`IN_MEMORY_EXPORT_BYTES`]):
/// everything on the calling thread, same result.
pub fn run_in_memory<P>(
    input: &[u8],
    limits: &Limits,
    settings: &ExtractSettings,
    mut on_progress: P,
) -> Result<PassOutput, IngestError>
where
    P: FnMut(&Progress) -> Result<(), Cancelled>,
{
    let mut sink = ExtractingSink::on_this_thread(settings, &mut on_progress);
    let stats = ingest::read_export_in_memory(input, limits, &mut sink)?;
    Ok(PassOutput {
        facts: sink.extractor.finish(),
        stats,
    })
}

/// [`run_in_memory`] for an export that decompresses to at most
/// `max_decompressed` bytes, so that the pass is known to be short. `None`
/// when it holds more: nothing was extracted, run it some other way.
pub fn run_small(
    input: &[u8],
    limits: &Limits,
    settings: &ExtractSettings,
    max_decompressed: u64,
) -> Result<Option<PassOutput>, IngestError> {
    let mut no_progress = |_: &Progress| Ok(());
    let mut sink = ExtractingSink::on_this_thread(settings, &mut no_progress);
    let Some(stats) = ingest::read_small_export(input, limits, max_decompressed, &mut sink)? else {
        return Ok(None);
    };
    Ok(Some(PassOutput {
        facts: sink.extractor.finish(),
        stats,
    }))
}

/// Reads `input` to the end and extracts the user's facts. `on_progress` is called
/// every so often; returning `Err(Cancelled)` stops the pass.
///
/// Conversations in flight (being buffered, parsed, queued or read for facts)
/// hold together at most `limits.max_conversation_bytes` of JSON, or one
/// conversation alone: a large conversation waits for the others to be read
/// before it is buffered further, so two large ones never add up.
pub fn run<R, P>(
    input: R,
    limits: &Limits,
    settings: &ExtractSettings,
    on_progress: P,
) -> Result<PassOutput, IngestError>
where
    R: Read + Send,
    P: FnMut(&Progress) -> Result<(), Cancelled>,
{
    let budget = Budget::new(limits.max_conversation_bytes);
    run_within(
        input,
        limits,
        settings,
        on_progress,
        &budget,
        &InExtraction::default(),
    )
}

fn run_within<R, P>(
    input: R,
    limits: &Limits,
    settings: &ExtractSettings,
    mut on_progress: P,
    budget: &Arc<Budget>,
    in_extraction: &InExtraction,
) -> Result<PassOutput, IngestError>
where
    R: Read + Send,
    P: FnMut(&Progress) -> Result<(), Cancelled>,
{
    let (queue, jobs) = mpsc::sync_channel(QUEUED_CONVERSATIONS);
    let jobs = Mutex::new(jobs);
    let (done_sender, done) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..EXTRACTION_THREADS {
            let jobs = &jobs;
            let done_sender = done_sender.clone();
            let budget: &Budget = budget;
            scope.spawn(move || extract_conversations(jobs, done_sender, budget, in_extraction));
        }
        drop(done_sender);
        let mut sink = ExtractingSink {
            extractor: FactExtractor::new(settings.clone()),
            on_progress: &mut on_progress,
            queue: Some(queue),
            done,
            waiting: BTreeMap::new(),
            fallback: ConversationReader::default(),
            sent: 0,
            merged: 0,
        };
        let read = ingest::read_export_within(input, limits, Some(Arc::clone(budget)), &mut sink);
        sink.collect_all();
        let stats = read?;
        Ok(PassOutput {
            facts: sink.extractor.finish(),
            stats,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ChatGPT export of `sizes.len()` conversations, each of one user
    /// message of the given size.
    fn export(sizes: &[usize]) -> Vec<u8> {
        let conversations: Vec<serde_json::Value> = sizes
            .iter()
            .enumerate()
            .map(|(i, size)| {
                let text = "I like sailing. ".repeat(size / 16);
                serde_json::json!({
                    "title": format!("Conversation {i}"),
                    "create_time": 1_700_000_000 + i,
                    "current_node": "m",
                    "mapping": {"m": {"id": "m", "parent": null, "children": [], "message": {
                        "id": "m", "author": {"role": "user"}, "create_time": 1_700_000_000 + i,
                        "content": {"content_type": "text", "parts": [text]}
                    }}}
                })
            })
            .collect();
        serde_json::to_vec(&conversations).unwrap_or_default()
    }

    #[test]
    fn two_large_conversations_are_never_read_at_once() {
        let large = 1 << 20;
        let limits = Limits {
            max_conversation_bytes: 3 << 19,
            ..Limits::default()
        };
        let input = export(&[large, 1000, large, large, 1000, large]);
        let budget = Budget::new(limits.max_conversation_bytes);
        let in_extraction = InExtraction::default();
        let output = run_within(
            input.as_slice(),
            &limits,
            &ExtractSettings::default(),
            |_| Ok(()),
            &budget,
            &in_extraction,
        );
        assert_eq!(output.map(|o| o.stats.conversations).ok(), Some(6));
        let peak = in_extraction.peak.load(Ordering::Relaxed);
        assert!(peak >= large as u64 - 16, "a large one was read: {peak}");
        assert!(
            peak < 2 * large as u64 - 32,
            "two large conversations were read at once: {peak} bytes"
        );
        assert!(
            budget.peak() <= limits.max_conversation_bytes,
            "{}",
            budget.peak()
        );
    }
}
