//! Reading an export: container (gzip, zip, plain JSON) → JSON stream →
//! one [`Conversation`] at a time, in memory that does not grow with the file.
//!
//! Two threads share the work: one reads the input and decompresses it
//! ([`container`]), the other splits the JSON into conversations ([`split`]),
//! parses each into borrowing structs ([`raw`]) and reduces it to what
//! extraction needs ([`chatgpt`], [`claude`]). A bounded channel of byte
//! blocks ([`feed`]) joins them, so decompression and parsing overlap and
//! neither runs far ahead of the other. A small export already in memory is
//! read on one thread instead ([`read_export_in_memory`]).

mod budget;
mod chatgpt;
mod claude;
mod container;
mod feed;
mod model;
mod raw;
mod seen;
mod sniff;
mod split;
mod text;

pub use budget::{Budget, Reservation};
pub use model::{
    Conversation, CustomInstructions, MemoryWrite, Message, PASTED_END, PASTED_START, Role,
};

use chrono::{DateTime, Utc};
use raw::RawConversation;
use seen::Seen;
use serde::Serialize;
use split::{Element, Splitter};
use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Size limits that turn a hostile or broken file into a clear error instead of an OOM.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_compressed_bytes: u64,
    pub max_decompressed_bytes: u64,
    /// One conversation is held in memory whole while it is read; this bounds it.
    pub max_conversation_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_compressed_bytes: 8 << 30,
            max_decompressed_bytes: 64 << 30,
            max_conversation_bytes: 256 << 20,
        }
    }
}

/// Which product wrote the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Chatgpt,
    Claude,
}

/// How far a running read has got, for progress bars and the row's progress column.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    /// Bytes taken from the input (compressed bytes for a compressed file).
    pub bytes_read: u64,
    pub conversations: u64,
}

/// What a whole read found; stored on the row as `full_pass_stats`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExportStats {
    pub format: Option<ExportFormat>,
    pub conversations: u64,
    pub user_messages: u64,
    pub first_message: Option<DateTime<Utc>>,
    pub last_message: Option<DateTime<Utc>>,
    /// Content types that carry no user text (images, browsing, unknown future types), by count.
    pub skipped_content_types: BTreeMap<String, u64>,
    pub compressed_bytes: u64,
    pub decompressed_bytes: u64,
}

/// The reader's caller asked it to stop (job cancelled, timed out, shutting down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

/// Where conversations go as they are read.
pub trait Sink {
    /// One conversation, in file order. `Err(Cancelled)` stops the read.
    fn conversation(&mut self, conversation: Conversation) -> Result<(), Cancelled>;
    /// [`Sink::conversation`] with the budget the conversation holds (see
    /// [`Budget`]): a sink that keeps it past the call keeps the reservation
    /// until it is done with it.
    fn held_conversation(
        &mut self,
        conversation: Conversation,
        held: Reservation,
    ) -> Result<(), Cancelled> {
        let taken = self.conversation(conversation);
        drop(held);
        taken
    }
    /// Called every so often (at least every few MB of input) while reading.
    fn progress(&mut self, _progress: &Progress) -> Result<(), Cancelled> {
        Ok(())
    }
}

/// Why an export could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The input stream itself failed (network dropped, disk error): worth retrying.
    #[error("reading the export failed after {offset} bytes: {source}")]
    Source {
        offset: u64,
        #[source]
        source: std::io::Error,
    },
    #[error("export is larger than the limit of {limit} {what} bytes")]
    TooLarge { what: &'static str, limit: u64 },
    #[error(
        "{file}: the conversation starting at byte {offset} is larger than the limit of {limit} bytes"
    )]
    ConversationTooLarge {
        file: String,
        offset: u64,
        limit: u64,
    },
    #[error("export is not valid gzip (at compressed byte {offset}): {detail}")]
    Gzip { offset: u64, detail: String },
    #[error("export is not a valid zip archive: {0}")]
    Zip(String),
    /// The JSON of `file` (the document inside the container) is broken;
    /// `offset` counts its decompressed bytes from its start.
    #[error("{file}: {detail} at byte {offset}")]
    Json {
        file: String,
        offset: u64,
        detail: String,
    },
    #[error("{0}")]
    Format(String),
    /// A zip export is copied to a temporary file first; that failed (disk full?).
    #[error("cannot write the temporary copy of the zip export: {0}")]
    Spool(#[source] std::io::Error),
    #[error("cannot start the decompression thread: {0}")]
    Thread(#[source] std::io::Error),
    #[error("cancelled")]
    Cancelled,
}

impl IngestError {
    /// Whether retrying the same input could succeed: failures of the input
    /// stream or of this machine, never anything about the export's content.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            IngestError::Source { .. } | IngestError::Spool(_) | IngestError::Thread(_)
        )
    }
}

/// Reads a whole export from `input`, handing each conversation to `sink`.
///
/// `input` is read on a separate thread (it must be `Send`) while this thread
/// parses. Memory stays at one conversation plus a few blocks of 256 KiB,
/// whatever the size of the export.
pub fn read_export<R: Read + Send>(
    input: R,
    limits: &Limits,
    sink: &mut dyn Sink,
) -> Result<ExportStats, IngestError> {
    read_export_within(input, limits, None, sink)
}

/// [`read_export`] with the conversations in flight bounded by `budget`:
/// each one reaches the sink holding its share, which the sink gives back
/// once done with it (see [`Budget`]).
pub fn read_export_within<R: Read + Send>(
    input: R,
    limits: &Limits,
    budget: Option<Arc<Budget>>,
    sink: &mut dyn Sink,
) -> Result<ExportStats, IngestError> {
    let input_bytes = Arc::new(AtomicU64::new(0));
    let (pipe, feed) = feed::pipe(Arc::clone(&input_bytes));
    let producer_limits = *limits;
    let producer_count = Arc::clone(&input_bytes);
    let mut stats = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("fullpass-unpack".to_owned())
            .spawn_scoped(scope, move || {
                container::produce(input, None, producer_limits, producer_count, pipe)
            })
            .map_err(IngestError::Thread)?;
        let mut feed = feed;
        let parsed = parse(&mut feed, limits, budget, sink);
        // The producer may be blocked on a full channel after an early stop:
        // dropping its receiver releases it, so that the scope can join it.
        drop(feed);
        parsed
    })?;
    stats.compressed_bytes = input_bytes.load(Ordering::Relaxed);
    Ok(stats)
}

/// Decompressed bytes a small export may hold in memory before it is read the
/// two-thread way instead (only a crafted file compresses that well).
const IN_MEMORY_DECOMPRESSED_BYTES: u64 = 16 << 20;

/// Reads a small export that is already in memory, on this thread alone: for
/// exports of a few KB, starting a decompression thread and handing blocks
/// between threads costs more than the reading. Same result as [`read_export`].
pub fn read_export_in_memory(
    input: &[u8],
    limits: &Limits,
    sink: &mut dyn Sink,
) -> Result<ExportStats, IngestError> {
    match read_small_export(input, limits, IN_MEMORY_DECOMPRESSED_BYTES, sink)? {
        Some(stats) => Ok(stats),
        None => read_export(input, limits, sink),
    }
}

/// [`read_export_in_memory`] for an export that decompresses to at most
/// `max_decompressed` bytes. `None` when it holds more: then the sink was given
/// nothing, and the export is to be read with [`read_export`].
pub fn read_small_export(
    input: &[u8],
    limits: &Limits,
    max_decompressed: u64,
    sink: &mut dyn Sink,
) -> Result<Option<ExportStats>, IngestError> {
    let input_bytes = Arc::new(AtomicU64::new(0));
    let cap = limits
        .max_decompressed_bytes
        .saturating_add(1)
        .min(max_decompressed);
    let (pipe, mut feed, overflowed) = feed::buffered_pipe(Arc::clone(&input_bytes), cap);
    container::produce(
        input,
        Some(input.len()),
        *limits,
        Arc::clone(&input_bytes),
        pipe,
    );
    if overflowed.load(Ordering::Relaxed) {
        return Ok(None);
    }
    let mut stats = parse(&mut feed, limits, None, sink)?;
    stats.compressed_bytes = input_bytes.load(Ordering::Relaxed);
    Ok(Some(stats))
}

/// The parsing side of [`read_export`].
fn parse(
    feed: &mut feed::Feed,
    limits: &Limits,
    budget: Option<Arc<Budget>>,
    sink: &mut dyn Sink,
) -> Result<ExportStats, IngestError> {
    let mut stats = ExportStats::default();
    let mut seen = Seen::default();
    let mut splitter = Splitter::new(feed, limits.max_conversation_bytes, budget);
    while splitter.next_document()?.is_some() {
        while let Some(element) = splitter.next_element()? {
            let len = element.bytes.len();
            let (conversation, format) = convert(element, stats.conversations, &mut seen)?;
            let held = splitter.take_reservation(len);
            stats.format.get_or_insert(format);
            count(&mut stats, &conversation);
            sink.held_conversation(conversation, held)
                .map_err(|Cancelled| IngestError::Cancelled)?;
            if let Some(bytes_read) = splitter.progress_due() {
                sink.progress(&Progress {
                    bytes_read,
                    conversations: stats.conversations,
                })
                .map_err(|Cancelled| IngestError::Cancelled)?;
            }
        }
    }
    stats.decompressed_bytes = splitter.decompressed_bytes();
    stats.skipped_content_types = seen.skipped_content_types;
    sink.progress(&Progress {
        bytes_read: splitter.input_bytes(),
        conversations: stats.conversations,
    })
    .map_err(|Cancelled| IngestError::Cancelled)?;
    Ok(stats)
}

fn count(stats: &mut ExportStats, conversation: &Conversation) {
    stats.conversations += 1;
    stats.user_messages += conversation.user_messages().count() as u64;
    for time in conversation.messages.iter().filter_map(|m| m.time) {
        if stats.first_message.is_none_or(|first| time < first) {
            stats.first_message = Some(time);
        }
        if stats.last_message.is_none_or(|last| time > last) {
            stats.last_message = Some(time);
        }
    }
}

/// Parses one conversation element and reduces it, telling the formats
/// apart by their keys.
fn convert(
    element: Element<'_>,
    index: u64,
    seen: &mut Seen,
) -> Result<(Conversation, ExportFormat), IngestError> {
    // One SIMD validation of the whole element lets serde_json skip checking
    // every string again (`from_str` trusts its input to be UTF-8).
    let Ok(text) = simdutf8::basic::from_utf8(element.bytes) else {
        let valid = std::str::from_utf8(element.bytes)
            .err()
            .map_or(0, |e| e.valid_up_to());
        return Err(IngestError::Json {
            file: element.file.to_owned(),
            offset: element.offset + valid as u64,
            detail: format!(
                "invalid UTF-8 (in the conversation starting at byte {})",
                element.offset
            ),
        });
    };
    let mut raw: RawConversation<'_> =
        serde_json::from_str(text).map_err(|e| json_error(&element, &e))?;
    if let Some(mapping) = raw.mapping.take() {
        return Ok((
            chatgpt::reduce(raw, mapping, index, seen),
            ExportFormat::Chatgpt,
        ));
    }
    if let Some(messages) = raw.chat_messages.take() {
        return Ok((
            claude::reduce(raw, messages, index, seen),
            ExportFormat::Claude,
        ));
    }
    // No messages at all: still a conversation if it looks like one.
    if raw.current_node.0.is_some()
        || raw.conversation_id.0.is_some()
        || raw.create_time.0.is_some()
    {
        let empty = raw::Mapping::default();
        return Ok((
            chatgpt::reduce(raw, empty, index, seen),
            ExportFormat::Chatgpt,
        ));
    }
    if raw.uuid.0.is_some() || raw.created_at.0.is_some() {
        let empty = raw::List::default();
        return Ok((
            claude::reduce(raw, empty, index, seen),
            ExportFormat::Claude,
        ));
    }
    Err(IngestError::Json {
        file: element.file.to_owned(),
        offset: element.offset,
        detail: "expected a conversation (an object with `mapping` for ChatGPT or \
                 `chat_messages` for Claude)"
            .to_owned(),
    })
}

/// A serde error inside an element, located by byte offset in the document.
fn json_error(element: &Element<'_>, e: &serde_json::Error) -> IngestError {
    let within = byte_index(element.bytes, e.line(), e.column());
    let message = e.to_string();
    let detail = match message.rfind(" at line ") {
        Some(end) => message.get(..end).unwrap_or(&message),
        None => &message,
    };
    IngestError::Json {
        file: element.file.to_owned(),
        offset: element.offset + within,
        detail: format!(
            "{detail} (in the conversation starting at byte {})",
            element.offset
        ),
    }
}

/// The byte index of serde_json's 1-based line and column in `bytes`.
fn byte_index(bytes: &[u8], line: usize, column: usize) -> u64 {
    let line_start = if line > 1 {
        memchr::memchr_iter(b'\n', bytes)
            .nth(line - 2)
            .map_or(bytes.len(), |newline| newline + 1)
    } else {
        0
    };
    (line_start + column.saturating_sub(1)).min(bytes.len()) as u64
}
