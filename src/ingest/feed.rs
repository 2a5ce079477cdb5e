//! The channel between the decompression thread and the parser: decompressed
//! bytes in blocks, documents (zip entries) marked, failures passed along.
//!
//! The channel is bounded, so decompression runs at most a few blocks ahead of
//! parsing and memory stays flat; emptied blocks go back to the producer to be
//! refilled instead of being freed and allocated again.

use super::IngestError;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Bytes per block handed from decompression to parsing.
pub(crate) const BLOCK_BYTES: usize = 256 << 10;
/// Blocks in flight between the two threads.
pub(crate) const BLOCKS_IN_FLIGHT: usize = 8;
/// Progress is reported after at least this many more input bytes.
const PROGRESS_EVERY: u64 = 1 << 20;

/// What the producer sends.
pub(crate) enum Chunk {
    /// A new document (a file inside the container) starts.
    Document(String),
    Data(Vec<u8>),
    /// Reading stopped; nothing follows.
    Failed(IngestError),
}

/// The producer's end.
pub(crate) struct Pipe {
    chunks: SyncSender<Chunk>,
    empties: Receiver<Vec<u8>>,
}

/// The receiver went away: the parser stopped, so the producer stops too.
#[derive(Debug)]
pub(crate) struct Hangup;

impl Pipe {
    pub fn send(&self, chunk: Chunk) -> Result<(), Hangup> {
        self.chunks.send(chunk).map_err(|_| Hangup)
    }

    /// A block of [`BLOCK_BYTES`] to fill, recycled when one is available
    /// (a recycled full block needs no zeroing).
    pub fn empty_block(&self) -> Vec<u8> {
        let mut block = self.empties.try_recv().unwrap_or_default();
        block.resize(BLOCK_BYTES, 0);
        block
    }
}

/// The parser's end.
pub(crate) struct Feed {
    chunks: Receiver<Chunk>,
    empties: SyncSender<Vec<u8>>,
    next_document: Option<String>,
    decompressed: u64,
    /// Input bytes read so far, counted by the producer.
    input_bytes: Arc<AtomicU64>,
    reported: u64,
}

/// A connected producer and parser end; `input_bytes` is the producer's
/// count of bytes taken from the input.
pub(crate) fn pipe(input_bytes: Arc<AtomicU64>) -> (Pipe, Feed) {
    let (chunk_tx, chunk_rx) = sync_channel(BLOCKS_IN_FLIGHT);
    let (empty_tx, empty_rx) = sync_channel(BLOCKS_IN_FLIGHT + 2);
    (
        Pipe {
            chunks: chunk_tx,
            empties: empty_rx,
        },
        Feed {
            chunks: chunk_rx,
            empties: empty_tx,
            next_document: None,
            decompressed: 0,
            input_bytes,
            reported: 0,
        },
    )
}

impl Feed {
    pub fn decompressed_bytes(&self) -> u64 {
        self.decompressed
    }

    /// The input bytes read so far when at least [`PROGRESS_EVERY`] more have
    /// been read since the last time this returned a value.
    pub fn progress_due(&mut self) -> Option<u64> {
        let now = self.input_bytes.load(Ordering::Relaxed);
        if now >= self.reported + PROGRESS_EVERY {
            self.reported = now;
            Some(now)
        } else {
            None
        }
    }

    pub fn input_bytes(&self) -> u64 {
        self.input_bytes.load(Ordering::Relaxed)
    }

    /// The name of the next document, skipping whatever is left of the current one.
    pub fn next_document(&mut self) -> Result<Option<String>, IngestError> {
        if let Some(name) = self.next_document.take() {
            return Ok(Some(name));
        }
        loop {
            match self.chunks.recv() {
                Ok(Chunk::Document(name)) => return Ok(Some(name)),
                Ok(Chunk::Data(block)) => self.recycle(block),
                Ok(Chunk::Failed(e)) => return Err(e),
                Err(_) => return Ok(None),
            }
        }
    }

    /// Appends the current document's next block to `buf`; `false` at the
    /// document's end.
    pub fn next_block(&mut self, buf: &mut Vec<u8>) -> Result<bool, IngestError> {
        if self.next_document.is_some() {
            return Ok(false);
        }
        match self.chunks.recv() {
            Ok(Chunk::Data(block)) => {
                self.decompressed += block.len() as u64;
                buf.extend_from_slice(&block);
                self.recycle(block);
                Ok(true)
            }
            Ok(Chunk::Document(name)) => {
                self.next_document = Some(name);
                Ok(false)
            }
            Ok(Chunk::Failed(e)) => Err(e),
            Err(_) => Ok(false),
        }
    }

    fn recycle(&self, block: Vec<u8>) {
        // A full return channel only means the producer has enough blocks.
        let _ = self.empties.try_send(block);
    }
}
