//! One full pass over an export: ingest → extract → consolidated facts.
//! Blocking code: run it on a blocking thread, fed by a reader.
//!
//! Reading conversations for facts costs far more than parsing the export, so the
//! pass hands conversations to a few extraction threads and merges what they found
//! in arrival order: the result is the same as reading them one after another.

use crate::extract::{
    ConversationFindings, ConversationReader, ExtractSettings, Fact, FactExtractor,
};
use crate::ingest::{self, Cancelled, Conversation, ExportStats, IngestError, Limits, Progress};
use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};

/// Threads reading conversations for facts, beside the one parsing the export.
const EXTRACTION_THREADS: usize = 2;

/// Conversations waiting for an extraction thread: bounds the memory a pass holds.
const QUEUED_CONVERSATIONS: usize = 64;

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
    queue: Option<SyncSender<(u64, Conversation)>>,
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
        let sequence = self.sent;
        self.sent += 1;
        let mut job = (sequence, conversation);
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
        let findings = self.fallback.read(&job.1);
        self.accept(job.0, findings);
        Ok(())
    }

    fn progress(&mut self, progress: &Progress) -> Result<(), Cancelled> {
        (self.on_progress)(progress)
    }
}

/// Reads conversations from `queue` until it closes, sending back what each says.
fn extract_conversations(
    queue: &Mutex<Receiver<(u64, Conversation)>>,
    done: mpsc::Sender<(u64, ConversationFindings)>,
) {
    let mut reader = ConversationReader::default();
    loop {
        let job = match queue.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok((sequence, conversation)) = job else {
            return;
        };
        if done.send((sequence, reader.read(&conversation))).is_err() {
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
pub fn run<R, P>(
    input: R,
    limits: &Limits,
    settings: &ExtractSettings,
    mut on_progress: P,
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
            scope.spawn(move || extract_conversations(jobs, done_sender));
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
        let read = ingest::read_export(input, limits, &mut sink);
        sink.collect_all();
        let stats = read?;
        Ok(PassOutput {
            facts: sink.extractor.finish(),
            stats,
        })
    })
}
