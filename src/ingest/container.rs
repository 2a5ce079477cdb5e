//! The container around the JSON: gzip (one or several members), a zip archive
//! (ChatGPT's or Claude's export download) or nothing. Recognised by its first
//! bytes, never by a file name. Runs on its own thread so that decompression
//! overlaps parsing; see [`super::feed`].

use super::feed::{BLOCK_BYTES, Chunk, Hangup, Pipe};
use super::sniff::{self, Layer};
use super::{IngestError, Limits};
use std::cell::Cell;
use std::io::{self, BufReader, Cursor, Read, Seek, SeekFrom, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The document name used in errors for a gzip or plain JSON export, which
/// carries no file name of its own.
pub(crate) const SINGLE_DOCUMENT: &str = "conversations.json";
/// Read-ahead of the compressed input.
const INPUT_BUFFER: usize = 256 << 10;
/// The first size of a block that grows as it fills.
const FIRST_GROWTH: usize = 8 << 10;

/// Why the producer stopped early.
enum Stop {
    Failed(IngestError),
    /// The parser is gone; nobody is listening.
    Hangup,
}

impl From<Hangup> for Stop {
    fn from(_: Hangup) -> Self {
        Stop::Hangup
    }
}

impl From<IngestError> for Stop {
    fn from(e: IngestError) -> Self {
        Stop::Failed(e)
    }
}

/// What the raw input did wrong, recorded where it happened because the
/// decompressor turns every input error into an opaque `io::Error`.
enum InputFailure {
    Source { offset: u64, error: io::Error },
    TooLarge,
}

/// The raw input, counted: for progress, for the compressed-size limit, and
/// to tell input failures (transient) from bad content (permanent).
struct CountedInput<'f, R> {
    inner: R,
    read: u64,
    shared: Arc<AtomicU64>,
    limit: u64,
    failure: &'f Cell<Option<InputFailure>>,
}

impl<R: Read> Read for CountedInput<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.read += n as u64;
                self.shared.store(self.read, Ordering::Relaxed);
                if self.read > self.limit {
                    self.failure.set(Some(InputFailure::TooLarge));
                    return Err(io::Error::other("export exceeds the size limit"));
                }
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(error) => {
                self.failure.set(Some(InputFailure::Source {
                    offset: self.read,
                    error,
                }));
                Err(io::Error::other("reading the input failed"))
            }
        }
    }
}

/// How the export is packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    Gzip,
    Zip,
    Json,
    Empty,
    Unsupported(&'static str),
}

impl Container {
    fn detect(head: &[u8]) -> Container {
        match head {
            [] => Container::Empty,
            [0x1f, 0x8b, ..] => Container::Gzip,
            [b'P', b'K', 3, 4, ..] | [b'P', b'K', 5, 6, ..] => Container::Zip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Container::Unsupported("zstd"),
            [b'B', b'Z', b'h', ..] => Container::Unsupported("bzip2"),
            [0xfd, b'7', b'z', b'X', ..] => Container::Unsupported("xz"),
            [b'7', b'z', 0xbc, 0xaf, ..] => Container::Unsupported("7-zip"),
            _ => Container::Json,
        }
    }
}

/// Reads the whole input and sends its documents down `pipe`; run on the
/// decompression thread. Ends by dropping `pipe`, which the parser sees as
/// the end of the input; a failure is sent as the last chunk. `input_len`,
/// when known, keeps the read-ahead buffer no larger than the input.
pub(crate) fn produce<R: Read>(
    input: R,
    input_len: Option<usize>,
    limits: Limits,
    counter: Arc<AtomicU64>,
    pipe: Pipe,
) {
    let failure = Cell::new(None);
    let mut input = CountedInput {
        inner: input,
        read: 0,
        shared: counter,
        limit: limits.max_compressed_bytes,
        failure: &failure,
    };
    let read_ahead = input_len.map_or(INPUT_BUFFER, |n| n.clamp(1, INPUT_BUFFER));
    if let Err(Stop::Failed(e)) = produce_from(&mut input, read_ahead, &limits, &pipe) {
        let _ = pipe.send(Chunk::Failed(e));
    }
}

fn produce_from<R: Read>(
    input: &mut CountedInput<'_, R>,
    read_ahead: usize,
    limits: &Limits,
    pipe: &Pipe,
) -> Result<(), Stop> {
    let mut head = [0u8; 4];
    let mut got = 0;
    while got < head.len() {
        match input.read(head.get_mut(got..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(input_error(input.failure, e, limits).into()),
        }
    }
    let head = head.get(..got).unwrap_or_default().to_vec();
    let container = Container::detect(&head);
    let failure = input.failure;
    let input_read = Arc::clone(&input.shared);
    let replay = Cursor::new(head).chain(input);
    match container {
        Container::Gzip => gunzip(replay, read_ahead, failure, &input_read, limits, pipe),
        Container::Zip => unzip(replay, read_ahead, failure, limits, pipe),
        Container::Json => {
            pipe.send(Chunk::Document(SINGLE_DOCUMENT.to_owned()))?;
            let mut total = 0;
            let mut replay = replay;
            pump(&mut replay, Layer::Plain, pipe, &mut total, limits, |e| {
                input_error(failure, e, limits)
            })
        }
        Container::Empty => Err(IngestError::Format("the export is empty (0 bytes)".to_owned()).into()),
        Container::Unsupported(kind) => Err(IngestError::Format(format!(
            "the export is compressed with {kind}, which fullpass does not read (gzip and zip are supported)"
        ))
        .into()),
    }
}

fn gunzip<R: Read>(
    replay: R,
    read_ahead: usize,
    failure: &Cell<Option<InputFailure>>,
    input_read: &AtomicU64,
    limits: &Limits,
    pipe: &Pipe,
) -> Result<(), Stop> {
    pipe.send(Chunk::Document(SINGLE_DOCUMENT.to_owned()))?;
    let mut decoder =
        flate2::bufread::MultiGzDecoder::new(BufReader::with_capacity(read_ahead, replay));
    let mut total = 0;
    let mut first = true;
    loop {
        let mut block = pipe.empty_block();
        let filled = match fill_block(&mut decoder, &mut block) {
            Ok(n) => n,
            Err(e) => {
                if let Some(input_failure) = failure.take() {
                    return Err(failure_error(input_failure, limits).into());
                }
                // Bytes read from the input minus those still buffered: where
                // the decoder was when it gave up.
                let buffered = decoder.get_ref().buffer().len() as u64;
                let offset = input_read.load(Ordering::Relaxed).saturating_sub(buffered);
                return Err(IngestError::Gzip {
                    offset,
                    detail: describe_gzip_error(&e),
                }
                .into());
            }
        };
        if filled == 0 {
            return Ok(());
        }
        if std::mem::take(&mut first) {
            sniff::check(&block, Layer::Gzip)?;
        }
        send_block(block, pipe, &mut total, limits)?;
    }
}

fn describe_gzip_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => {
            "the compressed data ends early (truncated file?)".to_owned()
        }
        _ => e.to_string(),
    }
}

/// Spools the archive to a temporary file, then streams each conversations
/// file in it.
///
/// A zip archive's directory is at its end, so an archive cannot be read from
/// a stream that cannot seek (an HTTP body, a gzip decoder): it is first
/// copied to an unnamed temporary file (removed by the OS when closed),
/// bounded by the compressed-size limit.
fn unzip<R: Read>(
    mut replay: R,
    read_ahead: usize,
    failure: &Cell<Option<InputFailure>>,
    limits: &Limits,
    pipe: &Pipe,
) -> Result<(), Stop> {
    let mut spool = tempfile::tempfile().map_err(IngestError::Spool)?;
    let mut buffer = vec![0u8; read_ahead];
    loop {
        let n = match replay.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(input_error(failure, e, limits).into()),
        };
        spool
            .write_all(buffer.get(..n).unwrap_or_default())
            .map_err(IngestError::Spool)?;
    }
    drop(buffer);
    spool.seek(SeekFrom::Start(0)).map_err(IngestError::Spool)?;
    let mut archive = zip::ZipArchive::new(BufReader::with_capacity(INPUT_BUFFER, spool))
        .map_err(|e| IngestError::Zip(e.to_string()))?;
    // Names that do not decode are no conversations file.
    let all_names: Vec<String> = archive
        .file_names()
        .filter_map(Result::ok)
        .map(|name| name.into_owned())
        .collect();
    let names = conversation_entries(all_names.iter().map(String::as_str));
    if names.is_empty() {
        return Err(IngestError::Format(
            "the zip archive has no conversations.json (nor conversations-000.json, ...)"
                .to_owned(),
        )
        .into());
    }
    let mut total = 0;
    for name in names {
        pipe.send(Chunk::Document(name.clone()))?;
        let mut entry = archive
            .by_name(&name)
            .map_err(|e| IngestError::Zip(format!("{name}: {e}")))?;
        pump(
            &mut entry,
            Layer::ZipEntry(&name),
            pipe,
            &mut total,
            limits,
            |e| IngestError::Zip(format!("{name}: {e}")),
        )?;
    }
    Ok(())
}

/// The archive's conversation files, in reading order: the shards
/// `conversations-000.json`, `conversations-001.json`, ... by number when
/// there are any, else `conversations.json`. Files are matched by their name
/// in any folder of the archive.
fn conversation_entries<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut shards: Vec<(u64, String)> = Vec::new();
    let mut whole: Vec<String> = Vec::new();
    for name in names {
        let base = name.rsplit('/').next().unwrap_or(name);
        if base == "conversations.json" {
            whole.push(name.to_owned());
        } else if let Some(number) = base
            .strip_prefix("conversations-")
            .and_then(|rest| rest.strip_suffix(".json"))
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<u64>().ok())
        {
            shards.push((number, name.to_owned()));
        }
    }
    if shards.is_empty() {
        whole.sort();
        return whole;
    }
    shards.sort();
    shards.into_iter().map(|(_, name)| name).collect()
}

/// Copies `reader` to the pipe in blocks, enforcing the decompressed-size
/// limit; first checks that the document is no recognisable non-JSON file.
fn pump(
    reader: &mut dyn Read,
    layer: Layer<'_>,
    pipe: &Pipe,
    total: &mut u64,
    limits: &Limits,
    on_error: impl Fn(io::Error) -> IngestError,
) -> Result<(), Stop> {
    let mut first = true;
    loop {
        let mut block = pipe.empty_block();
        let filled = fill_block(reader, &mut block).map_err(&on_error)?;
        if filled == 0 {
            return Ok(());
        }
        if std::mem::take(&mut first) {
            sniff::check(&block, layer)?;
        }
        send_block(block, pipe, total, limits)?;
    }
}

fn send_block(block: Vec<u8>, pipe: &Pipe, total: &mut u64, limits: &Limits) -> Result<(), Stop> {
    *total += block.len() as u64;
    if *total > limits.max_decompressed_bytes {
        return Err(IngestError::TooLarge {
            what: "decompressed",
            limit: limits.max_decompressed_bytes,
        }
        .into());
    }
    pipe.send(Chunk::Data(block))?;
    Ok(())
}

/// Reads until `block` holds [`BLOCK_BYTES`] or the reader ends, growing a
/// shorter block as it fills; leaves it holding just what was read.
fn fill_block(reader: &mut dyn Read, block: &mut Vec<u8>) -> io::Result<usize> {
    let mut filled = 0;
    loop {
        if filled == block.len() {
            if filled >= BLOCK_BYTES {
                break;
            }
            block.resize((filled * 2).clamp(FIRST_GROWTH, BLOCK_BYTES), 0);
        }
        match reader.read(block.get_mut(filled..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    block.truncate(filled);
    Ok(filled)
}

/// The error for a failed read of the raw input.
///
/// Only the raw input's reads reach here, so an error the counted input did
/// not record (none is expected) is still the input's.
fn input_error(failure: &Cell<Option<InputFailure>>, e: io::Error, limits: &Limits) -> IngestError {
    match failure.take() {
        Some(input_failure) => failure_error(input_failure, limits),
        None => IngestError::Source {
            offset: 0,
            source: e,
        },
    }
}

fn failure_error(failure: InputFailure, limits: &Limits) -> IngestError {
    match failure {
        InputFailure::Source { offset, error } => IngestError::Source {
            offset,
            source: error,
        },
        InputFailure::TooLarge => IngestError::TooLarge {
            what: "compressed",
            limit: limits.max_compressed_bytes,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_are_told_apart_by_their_first_bytes() {
        assert_eq!(Container::detect(&[0x1f, 0x8b, 8, 0]), Container::Gzip);
        assert_eq!(Container::detect(b"PK\x03\x04"), Container::Zip);
        assert_eq!(Container::detect(b"[{\"a"), Container::Json);
        assert_eq!(Container::detect(b""), Container::Empty);
        assert_eq!(
            Container::detect(&[0x28, 0xb5, 0x2f, 0xfd]),
            Container::Unsupported("zstd")
        );
    }

    #[test]
    fn shards_are_read_in_numeric_order() {
        let names = [
            "conversations-010.json",
            "chat.html",
            "conversations-002.json",
            "conversations.json",
            "user.json",
            "conversations-abc.json",
        ];
        assert_eq!(
            conversation_entries(names.into_iter()),
            vec!["conversations-002.json", "conversations-010.json"]
        );
        assert_eq!(
            conversation_entries(["x/conversations.json", "users.json"].into_iter()),
            vec!["x/conversations.json"]
        );
    }
}
