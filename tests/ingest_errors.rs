//! Broken, hostile and failing inputs: each gives a clear error naming where
//! and what, permanent unless the input stream itself failed, never a panic
//! or a hang.

mod ingest_support;

use fullpass::ingest::{IngestError, Limits, read_export};
use fullpass::synth::{self, Amount};
use ingest_support::{Collect, FailingReader, fixture, gzip, read, read_with, zip};
use proptest::prelude::*;
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

fn error(bytes: &[u8]) -> IngestError {
    match read(bytes) {
        Ok((conversations, _)) => panic!("expected an error, read {conversations:?}"),
        Err(e) => e,
    }
}

fn message(bytes: &[u8]) -> String {
    let e = error(bytes);
    assert!(!e.is_transient(), "content errors are permanent: {e}");
    e.to_string()
}

#[test]
fn not_json_at_all() {
    assert_eq!(message(b""), "the export is empty (0 bytes)");
    assert_eq!(
        message(b"hello world"),
        "conversations.json: expected a JSON array or object at byte 0"
    );
    assert_eq!(
        message(b"  \n "),
        "conversations.json: expected a JSON array or object, found the end of the file at byte 4"
    );
    assert_eq!(
        message(&gzip(b"<html>not an export</html>")),
        "conversations.json: expected a JSON array or object at byte 0"
    );
    assert_eq!(
        message(&[0x28, 0xb5, 0x2f, 0xfd, 0, 0]),
        "the export is compressed with zstd, which fullpass does not read (gzip and zip are supported)"
    );
}

/// A tar archive holding one file, as `tar` writes it (header, data, padding).
fn tar(name: &str, contents: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    header[100..107].copy_from_slice(b"0000644");
    header[124..135].copy_from_slice(format!("{:011o}", contents.len()).as_bytes());
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    let mut archive = header.to_vec();
    archive.extend_from_slice(contents);
    archive.resize(archive.len().div_ceil(512) * 512 + 1024, 0);
    archive
}

fn utf16(text: &[u8], big_endian: bool, byte_order_mark: bool) -> Vec<u8> {
    let text = std::str::from_utf8(text).unwrap();
    let units = byte_order_mark
        .then_some(0xFEFF_u16)
        .into_iter()
        .chain(text.encode_utf16());
    if big_endian {
        units.flat_map(u16::to_be_bytes).collect()
    } else {
        units.flat_map(u16::to_le_bytes).collect()
    }
}

#[test]
fn utf16_exports_are_named_as_such() {
    let json = fixture("chatgpt-quirks.json");
    let advice = "not UTF-8; fullpass reads UTF-8 JSON: upload the conversations.json of the \
                  export unchanged, or save it as UTF-8";
    for (big_endian, bom, what) in [
        (false, true, "little-endian, byte-order mark FF FE"),
        (true, true, "big-endian, byte-order mark FE FF"),
        (
            false,
            false,
            "little-endian, a NUL byte between the characters",
        ),
        (true, false, "big-endian, a NUL byte between the characters"),
    ] {
        let text = utf16(&json, big_endian, bom);
        assert_eq!(
            message(&text),
            format!("the export is UTF-16 text ({what}), {advice}")
        );
        assert_eq!(
            message(&gzip(&text)),
            format!("the export's gzip holds UTF-16 text ({what}), {advice}")
        );
        assert_eq!(
            message(&zip(&[("conversations.json", &text)])),
            format!("conversations.json in the zip archive is UTF-16 text ({what}), {advice}")
        );
    }
    // A tiny one too: "[]" in UTF-16 is four bytes.
    assert_eq!(
        message(&utf16(b"[]", false, false)),
        format!(
            "the export is UTF-16 text (little-endian, a NUL byte between the characters), {advice}"
        )
    );
}

#[test]
fn a_utf8_byte_order_mark_is_accepted() {
    let json = fixture("chatgpt-quirks.json");
    let (expected, _) = read(&json).unwrap();
    let mut marked = vec![0xEF, 0xBB, 0xBF];
    marked.extend_from_slice(&json);
    for input in [
        marked.clone(),
        gzip(&marked),
        zip(&[("conversations.json", &marked)]),
    ] {
        let (conversations, _) = read(&input).unwrap();
        assert_eq!(conversations, expected);
    }
}

#[test]
fn archives_and_double_compression_inside_the_export_are_named() {
    let json = fixture("chatgpt-quirks.json");
    let instead = "upload conversations.json, its .gz, or the export's original ZIP";
    let tarball = tar("conversations.json", &json);
    assert_eq!(
        message(&gzip(&tarball)),
        format!("the export is a tar archive inside gzip; {instead}")
    );
    assert_eq!(
        message(&tarball),
        format!("the export is a tar archive; {instead}")
    );
    assert_eq!(
        message(&gzip(&gzip(&json))),
        format!("the export is gzip inside gzip (compressed twice); {instead}")
    );
    assert_eq!(
        message(&gzip(&zip(&[("conversations.json", &json)]))),
        format!("the export is a zip archive inside gzip; {instead}")
    );
    assert_eq!(
        message(&zip(&[("conversations.json", &gzip(&json))])),
        format!("conversations.json in the zip archive is gzip-compressed; {instead}")
    );
    assert_eq!(
        message(&zip(&[("conversations.json", &tarball)])),
        format!("conversations.json in the zip archive is a tar archive; {instead}")
    );
}

#[test]
fn truncated_json() {
    assert_eq!(
        message(br#"[{"mapping":{"#),
        "conversations.json: the file ends inside a conversation that starts at byte 1 \
         (truncated export?) at byte 13"
    );
    let cut = br#"[{"conversation_id":"a","mapping":{}}"#;
    assert_eq!(
        message(cut),
        format!(
            "conversations.json: the file ends inside the conversation array (truncated export?) at byte {}",
            cut.len()
        )
    );
    assert_eq!(
        message(br#"[{"title":"unterminated"#),
        "conversations.json: the file ends inside a conversation that starts at byte 1 \
         (truncated export?) at byte 23"
    );
    // A whole export cut in the middle, inside gzip: the gzip layer notices first.
    let json = fixture("chatgpt-quirks.json");
    let gzipped = gzip(&json);
    let e = error(&gzipped[..gzipped.len() / 2]);
    assert!(matches!(e, IngestError::Gzip { .. }), "{e:?}");
    assert!(!e.is_transient());
    assert!(
        e.to_string()
            .ends_with("the compressed data ends early (truncated file?)"),
        "{e}"
    );
}

#[test]
fn malformed_structure() {
    assert_eq!(
        message(b"[1]"),
        "conversations.json: expected a conversation (a JSON object) at byte 1"
    );
    assert_eq!(
        message(br#"[{"a":1}]"#),
        "conversations.json: expected a conversation (an object with `mapping` for ChatGPT or \
         `chat_messages` for Claude) at byte 1"
    );
    assert_eq!(
        message(br#"[{"mapping":{}} {"mapping":{}}]"#),
        "conversations.json: expected ',' or ']' after a conversation at byte 16"
    );
    assert_eq!(
        message(br#"[{"mapping":{}},]"#),
        "conversations.json: expected a conversation after ',' at byte 16"
    );
    assert_eq!(
        message(b"[] []"),
        "conversations.json: unexpected data after the end of the JSON at byte 3"
    );
    assert_eq!(
        message(br#"[{"mapping":{"x":[}}]"#),
        "conversations.json: unexpected '}' (expected ']') at byte 18"
    );
    assert_eq!(
        message(br#"[{"mapping":{"x":{"message":nul}}}]"#),
        "conversations.json: expected ident (in the conversation starting at byte 1) at byte 31"
    );
    let deep = format!("[{{\"mapping\":{}{}}}]", "[".repeat(600), "]".repeat(600));
    assert_eq!(
        message(deep.as_bytes()),
        "conversations.json: JSON nested too deeply at byte 523"
    );
}

#[test]
fn invalid_utf8_inside_a_string() {
    let mut bytes = br#"[{"mapping":{},"title":"caf"#.to_vec();
    let at = bytes.len();
    bytes.extend_from_slice(b"\xff\"}]");
    let e = error(&bytes);
    match &e {
        IngestError::Json {
            file,
            offset,
            detail,
        } => {
            assert_eq!(file, "conversations.json");
            assert_eq!(*offset, at as u64, "the offset of the bad byte: {e}");
            assert_eq!(
                detail,
                "invalid UTF-8 (in the conversation starting at byte 1)"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn corrupt_gzip_is_a_gzip_error() {
    let json = fixture("chatgpt-quirks.json");
    let mut gzipped = gzip(&json);
    let crc = gzipped.len() - 8;
    gzipped[crc] ^= 0xff;
    let e = error(&gzipped);
    assert!(
        matches!(&e, IngestError::Gzip { .. }),
        "a bad checksum is a gzip error: {e:?}"
    );
    assert!(!e.is_transient());

    let mut header = gzip(&json);
    header[2] = 99; // compression method: not deflate
    assert_eq!(
        message(&header),
        "export is not valid gzip (at compressed byte 10): invalid gzip header"
    );

    let mut trailing = gzip(&json);
    trailing.extend_from_slice(b"garbage after the member");
    assert!(matches!(error(&trailing), IngestError::Gzip { .. }));
}

#[test]
fn a_gzip_bomb_stops_at_the_decompressed_limit() {
    let spaces = vec![b' '; 12 << 20];
    let bomb = gzip(&spaces);
    assert!(bomb.len() < 100 << 10);
    let limits = Limits {
        max_decompressed_bytes: 4 << 20,
        ..Limits::default()
    };
    let e = read_with(&bomb, &limits).unwrap_err();
    assert_eq!(
        e.to_string(),
        "export is larger than the limit of 4194304 decompressed bytes"
    );
    assert!(!e.is_transient());
}

#[test]
fn a_small_file_that_expands_past_what_is_read_in_memory_is_read_like_any_other() {
    // 20 KB of gzip that holds 24 MiB: more than a small export may hold in
    // memory, so the in-memory read hands it to the streaming one.
    let mut json = b"[".to_vec();
    json.extend(std::iter::repeat_n(b' ', 24 << 20));
    json.extend_from_slice(br#"{"title": "Padded", "mapping": {}}]"#);
    let packed = gzip(&json);
    assert!(packed.len() < 64 << 10);
    let (conversations, stats) = read_with(&packed, &Limits::default()).unwrap();
    assert_eq!(conversations.len(), 1);
    assert_eq!(stats.decompressed_bytes, json.len() as u64);
}

#[test]
fn the_compressed_limit_counts_input_bytes() {
    let json = fixture("chatgpt-quirks.json");
    let limits = Limits {
        max_compressed_bytes: 1000,
        ..Limits::default()
    };
    for input in [
        json.clone(),
        gzip(&json),
        zip(&[("conversations.json", &json)]),
    ] {
        let e = read_with(&input, &limits).unwrap_err();
        assert_eq!(
            e.to_string(),
            "export is larger than the limit of 1000 compressed bytes"
        );
    }
}

#[test]
fn one_conversation_larger_than_its_limit() {
    let json = fixture("chatgpt-quirks.json");
    let limits = Limits {
        max_conversation_bytes: 2000,
        ..Limits::default()
    };
    let e = read_with(&json, &limits).unwrap_err();
    assert_eq!(
        e.to_string(),
        "conversations.json: the conversation starting at byte 4 is larger than the limit of 2000 bytes"
    );
    // Also when the conversation spans many blocks.
    let big = format!(r#"[{{"mapping":{{}},"title":"{}"}}]"#, "x".repeat(3 << 20));
    let limits = Limits {
        max_conversation_bytes: 1 << 20,
        ..Limits::default()
    };
    let e = read_with(&gzip(big.as_bytes()), &limits).unwrap_err();
    assert!(
        matches!(e, IngestError::ConversationTooLarge { offset: 1, .. }),
        "{e:?}"
    );
}

#[test]
fn zip_problems_name_the_archive_or_the_file() {
    let quirks = fixture("chatgpt-quirks.json");
    assert_eq!(
        message(&zip(&[("user.json", b"{}".as_slice())])),
        "the zip archive has no conversations.json (nor conversations-000.json, ...)"
    );
    let archive = zip(&[
        ("conversations-000.json", quirks.as_slice()),
        ("conversations-001.json", b"nope".as_slice()),
    ]);
    assert_eq!(
        message(&archive),
        "conversations-001.json: expected a JSON array or object at byte 0"
    );
    let whole = zip(&[("conversations.json", quirks.as_slice())]);
    let e = error(&whole[..whole.len() - 30]);
    assert!(matches!(e, IngestError::Zip(_)), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("export is not a valid zip archive: "),
        "{e}"
    );
}

#[test]
fn a_failing_input_stream_is_a_transient_source_error() {
    let json = fixture("chatgpt-quirks.json");
    let gzipped = gzip(&json);
    let archive = zip(&[("conversations.json", &json)]);
    for (data, good) in [(json.clone(), 100), (gzipped.clone(), 300), (archive, 200)] {
        let mut sink = Collect::default();
        let reader = FailingReader { data, good, at: 0 };
        let e = read_export(reader, &Limits::default(), &mut sink).unwrap_err();
        assert!(e.is_transient(), "{e:?}");
        assert_eq!(
            e.to_string(),
            format!("reading the export failed after {good} bytes: connection reset by peer")
        );
    }
}

/// A small valid export in each container, made once.
fn samples() -> &'static [Vec<u8>; 3] {
    static SAMPLES: OnceLock<[Vec<u8>; 3]> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let mut json = Vec::new();
        let options = synth::Options {
            seed: 5,
            amount: Amount::Conversations(6),
            ..synth::Options::default()
        };
        synth::write_document(&mut json, &options).unwrap();
        let zipped = zip(&[("conversations.json", &json)]);
        [gzip(&json), zipped, json]
    })
}

/// Reads on another thread so that a hang fails the test instead of blocking it.
fn read_within(bytes: Vec<u8>, seconds: u64) -> Option<Result<u64, String>> {
    let (done, wait) = mpsc::channel();
    std::thread::spawn(move || {
        let limits = Limits {
            max_decompressed_bytes: 64 << 20,
            max_conversation_bytes: 8 << 20,
            ..Limits::default()
        };
        let result = read_with(&bytes, &limits)
            .map(|(_, stats)| stats.conversations)
            .map_err(|e| e.to_string());
        let _ = done.send(result);
    });
    wait.recv_timeout(Duration::from_secs(seconds)).ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn damaged_exports_never_panic_or_hang(
        container in 0usize..3,
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let mut bytes = samples()[container].clone();
        for (at, value) in &flips {
            let i = at.index(bytes.len());
            bytes[i] = *value;
        }
        let keep = cut.index(bytes.len() + 1);
        bytes.truncate(keep);
        let outcome = read_within(bytes, 20);
        prop_assert!(outcome.is_some(), "the read hung");
        if let Some(Err(message)) = &outcome {
            prop_assert!(!message.is_empty());
            prop_assert!(!message.contains('\n'), "one-line errors: {message}");
        }
    }
}
