//! Reading an export: container (gzip, zip, plain JSON) → JSON stream →
//! one [`Conversation`] at a time, in memory that does not grow with the file.

mod model;

pub use model::{Conversation, CustomInstructions, MemoryWrite, Message, Role};

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Read;

/// Size limits that turn a hostile or broken file into a clear error instead of an OOM.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_compressed_bytes: u64,
    pub max_decompressed_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_compressed_bytes: 8 << 30,
            max_decompressed_bytes: 64 << 30,
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
    #[error("export is not valid gzip (at compressed byte {offset}): {detail}")]
    Gzip { offset: u64, detail: String },
    #[error("export is not a valid zip archive: {0}")]
    Zip(String),
    #[error("{file}: {detail} at byte {offset}")]
    Json {
        file: String,
        offset: u64,
        detail: String,
    },
    #[error("{0}")]
    Format(String),
    #[error("cancelled")]
    Cancelled,
}

impl IngestError {
    /// Whether retrying the same input could succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, IngestError::Source { .. })
    }
}

/// Reads a whole export from `input`, handing each conversation to `sink`.
pub fn read_export<R: Read>(
    input: R,
    limits: &Limits,
    sink: &mut dyn Sink,
) -> Result<ExportStats, IngestError> {
    let _ = (input, limits, sink);
    todo!("ingest: containers, ChatGPT and Claude formats")
}
