//! The channel between the decompression thread and the parser: decompressed
//! bytes in blocks, documents (zip entries) marked, failures passed along.
//!
//! The channel is bounded, so decompression runs at most a few blocks ahead of
//! parsing and memory stays flat; emptied blocks go back to the producer to be
//! refilled instead of being freed and allocated again.

use super::IngestError;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

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
    outlet: Outlet,
    empties: Receiver<Vec<u8>>,
}

enum Outlet {
    /// Producer and parser on two threads: the producer waits for the parser.
    Bounded(SyncSender<Chunk>),
    /// The producer runs to its end first, on the parser's thread; it stops at
    /// `cap` decompressed bytes and raises `overflowed`.
    Buffered {
        chunks: Sender<Chunk>,
        sent: std::cell::Cell<u64>,
        cap: u64,
        overflowed: Arc<AtomicBool>,
    },
}

/// The receiver went away: the parser stopped, so the producer stops too.
#[derive(Debug)]
pub(crate) struct Hangup;

impl Pipe {
    pub fn send(&self, chunk: Chunk) -> Result<(), Hangup> {
        match &self.outlet {
            Outlet::Bounded(chunks) => chunks.send(chunk).map_err(|_| Hangup),
            Outlet::Buffered {
                chunks,
                sent,
                cap,
                overflowed,
            } => {
                if let Chunk::Data(block) = &chunk {
                    sent.set(sent.get() + block.len() as u64);
                    if sent.get() > *cap {
                        overflowed.store(true, Ordering::Relaxed);
                        return Err(Hangup);
                    }
                }
                chunks.send(chunk).map_err(|_| Hangup)
            }
        }
    }

    /// A block to fill with up to [`BLOCK_BYTES`], recycled when one is
    /// available (a recycled full block needs no zeroing). Both kinds of pipe
    /// fill blocks of the same size: a corrupt gzip member can decode to garbage
    /// before its error shows, and the block that holds the error is never sent,
    /// so the same size gives the parser the same bytes and the same error. A
    /// buffered pipe's block starts empty and grows as it fills, so a small
    /// export touches a few KB of fresh memory rather than 256 KiB per job.
    pub fn empty_block(&self) -> Vec<u8> {
        match self.empties.try_recv() {
            Ok(mut block) => {
                block.resize(BLOCK_BYTES, 0);
                block
            }
            Err(_) => match self.outlet {
                Outlet::Bounded(_) => vec![0; BLOCK_BYTES],
                Outlet::Buffered { .. } => Vec::new(),
            },
        }
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
            outlet: Outlet::Bounded(chunk_tx),
            empties: empty_rx,
        },
        Feed::new(chunk_rx, empty_tx, input_bytes),
    )
}

/// A pipe for a small input read on one thread: the producer runs to its end
/// before the parser starts, so everything it sends is held until then. It
/// stops once `cap` decompressed bytes are held and raises the returned flag;
/// the caller then reads the input the two-thread way instead.
pub(crate) fn buffered_pipe(
    input_bytes: Arc<AtomicU64>,
    cap: u64,
) -> (Pipe, Feed, Arc<AtomicBool>) {
    let (chunk_tx, chunk_rx) = channel();
    // Nothing is recycled: the producer is done before the parser empties a block.
    let (empty_tx, empty_rx) = sync_channel(0);
    let overflowed = Arc::new(AtomicBool::new(false));
    (
        Pipe {
            outlet: Outlet::Buffered {
                chunks: chunk_tx,
                sent: std::cell::Cell::new(0),
                cap,
                overflowed: Arc::clone(&overflowed),
            },
            empties: empty_rx,
        },
        Feed::new(chunk_rx, empty_tx, input_bytes),
        overflowed,
    )
}

impl Feed {
    fn new(
        chunks: Receiver<Chunk>,
        empties: SyncSender<Vec<u8>>,
        input_bytes: Arc<AtomicU64>,
    ) -> Feed {
        Feed {
            chunks,
            empties,
            next_document: None,
            decompressed: 0,
            input_bytes,
            reported: 0,
        }
    }

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
