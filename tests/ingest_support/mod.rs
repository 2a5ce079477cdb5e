//! Helpers shared by the ingest tests: a collecting sink, fixtures, containers.
#![allow(dead_code)]

use flate2::Compression;
use flate2::write::GzEncoder;
use fullpass::ingest::{
    Cancelled, Conversation, ExportStats, IngestError, Limits, Progress, Sink, read_export,
    read_export_in_memory, read_small_export,
};
use std::io::{Cursor, Write};
use std::path::PathBuf;

#[derive(Default)]
pub struct Collect {
    pub conversations: Vec<Conversation>,
    pub progress: Vec<Progress>,
    /// Stop (cancel) after this many conversations.
    pub stop_after: Option<usize>,
}

impl Sink for Collect {
    fn conversation(&mut self, conversation: Conversation) -> Result<(), Cancelled> {
        self.conversations.push(conversation);
        match self.stop_after {
            Some(n) if self.conversations.len() >= n => Err(Cancelled),
            _ => Ok(()),
        }
    }

    fn progress(&mut self, progress: &Progress) -> Result<(), Cancelled> {
        self.progress.push(*progress);
        Ok(())
    }
}

/// Decompressed bytes up to which [`read_with`] also tries `read_small_export`.
const SMALL_EXPORT_BYTES: u64 = 32 << 10;

/// Reads `bytes` the streaming way and, when they are small, also the in-memory
/// ways, and checks that all give the same conversations, stats or error.
pub fn read_with(
    bytes: &[u8],
    limits: &Limits,
) -> Result<(Vec<Conversation>, ExportStats), IngestError> {
    let mut sink = Collect::default();
    let streamed =
        read_export(Cursor::new(bytes), limits, &mut sink).map(|stats| (sink.conversations, stats));
    if bytes.len() <= 4 << 20 {
        let mut sink = Collect::default();
        let in_memory = read_export_in_memory(bytes, limits, &mut sink)
            .map(|stats| (sink.conversations, stats));
        assert_same_reading(&streamed, &in_memory);
        let mut sink = Collect::default();
        match read_small_export(bytes, limits, SMALL_EXPORT_BYTES, &mut sink) {
            Ok(None) => {
                assert!(sink.conversations.is_empty() && sink.progress.is_empty());
                if let Ok((_, stats)) = &streamed {
                    assert!(stats.decompressed_bytes > SMALL_EXPORT_BYTES);
                }
            }
            small => {
                let small = small.map(|stats| (sink.conversations, stats.unwrap_or_default()));
                assert_same_reading(&streamed, &small);
            }
        }
    }
    streamed
}

type Reading = Result<(Vec<Conversation>, ExportStats), IngestError>;

fn assert_same_reading(streamed: &Reading, in_memory: &Reading) {
    match (streamed, in_memory) {
        (Ok((c1, s1)), Ok((c2, s2))) => {
            assert_eq!(c1, c2, "the in-memory read found other conversations");
            assert_eq!(
                serde_json::to_value(s1).unwrap(),
                serde_json::to_value(s2).unwrap(),
                "the in-memory read counted otherwise"
            );
        }
        (Err(e1), Err(e2)) => assert_eq!(e1.to_string(), e2.to_string()),
        (a, b) => panic!(
            "streamed and in-memory reads disagree: {:?} vs {:?}",
            a.as_ref().map(|r| r.0.len()),
            b.as_ref().map(|r| r.0.len())
        ),
    }
}

pub fn read(bytes: &[u8]) -> Result<(Vec<Conversation>, ExportStats), IngestError> {
    read_with(bytes, &Limits::default())
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", name]
        .iter()
        .collect();
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A zip archive holding `files` (name, contents), deflated, in the given order.
pub fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, contents) in files {
        writer.start_file(*name, options).unwrap();
        writer.write_all(contents).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// A reader whose source fails (like a dropped connection) after `good` bytes.
pub struct FailingReader {
    pub data: Vec<u8>,
    pub good: usize,
    pub at: usize,
}

impl std::io::Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at >= self.good {
            return Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "connection reset by peer",
            ));
        }
        let end = self.good.min(self.at + buf.len()).min(self.data.len());
        let n = end - self.at;
        buf[..n].copy_from_slice(&self.data[self.at..end]);
        self.at = end;
        Ok(n)
    }
}
