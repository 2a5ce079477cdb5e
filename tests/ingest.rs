//! The export reader through its public API: every ChatGPT and Claude quirk,
//! every container, and round trips through generated exports.

mod ingest_support;

use chrono::{DateTime, TimeZone, Utc};
use fullpass::ingest::{
    Conversation, CustomInstructions, ExportFormat, Limits, MemoryWrite, Message, Role, read_export,
};
use fullpass::synth::{self, Amount, Container, Format};
use ingest_support::{Collect, fixture, gzip, read, zip};
use std::collections::BTreeMap;

fn at(seconds: f64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros((seconds * 1e6) as i64)
}

fn user(text: &str, time: Option<DateTime<Utc>>) -> Message {
    Message {
        role: Role::User,
        text: text.to_owned(),
        time,
    }
}

fn assistant(text: &str, time: Option<DateTime<Utc>>) -> Message {
    Message {
        role: Role::Assistant,
        text: text.to_owned(),
        time,
    }
}

fn texts(conversation: &Conversation) -> Vec<&str> {
    conversation
        .messages
        .iter()
        .map(|m| m.text.as_str())
        .collect()
}

#[test]
fn chatgpt_canonical_branch_keeps_only_what_the_user_saw() {
    let (conversations, _) = read(&fixture("chatgpt-quirks.json")).unwrap();
    let lyon = &conversations[0];
    assert_eq!(lyon.id, "conv-lyon");
    assert_eq!(lyon.title.as_deref(), Some("Trip to Lyon"));
    assert_eq!(lyon.created, at(1000.5));
    assert_eq!(lyon.updated, at(1080.25));
    assert_eq!(
        lyon.messages,
        vec![
            user("I want to visit Lyon in May.", at(1020.0)),
            assistant("Lyon is lovely in May. Try Le Bouchon.", at(1040.0)),
            user("Also book me a cheap hotel near Part-Dieu.", at(1050.0)),
            assistant("Here are three hotels near Part-Dieu.", at(1070.0)),
        ]
    );
    assert_eq!(
        lyon.custom_instructions,
        Some(CustomInstructions {
            about_user: Some("I teach chemistry in Leeds.".to_owned()),
            about_model: Some("Answer briefly.".to_owned()),
        })
    );
    assert_eq!(
        lyon.memory_writes,
        vec![
            MemoryWrite {
                text: "Has a cat called Miso.".to_owned(),
                time: Some(Utc.with_ymd_and_hms(2024, 2, 3, 0, 0, 0).unwrap()),
            },
            MemoryWrite {
                text: "Prefers trains to planes.".to_owned(),
                time: None,
            },
            MemoryWrite {
                text: "Plans a trip to Lyon in May.".to_owned(),
                time: at(1060.0),
            },
        ]
    );
}

#[test]
fn chatgpt_without_a_usable_current_node_follows_the_newest_leaf() {
    let (conversations, _) = read(&fixture("chatgpt-quirks.json")).unwrap();
    let bike = &conversations[1];
    assert_eq!(bike.id, "conv-bike");
    assert_eq!(bike.title, None);
    assert_eq!(bike.created, None);
    assert_eq!(texts(bike), ["Which bike should I buy?", "A gravel bike."]);

    let dangling = &conversations[2];
    assert_eq!(
        dangling.id, "conv-2",
        "no id in the export: a stable substitute"
    );
    assert_eq!(
        dangling.messages,
        vec![user(
            "Dangling current node.",
            Some(Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap())
        )]
    );
}

#[test]
fn chatgpt_parent_cycle_ends_the_branch() {
    let (conversations, _) = read(&fixture("chatgpt-quirks.json")).unwrap();
    let cycle = &conversations[3];
    assert_eq!(cycle.id, "conv-cycle");
    assert_eq!(texts(cycle), ["Second of a cycle.", "First of a cycle."]);
}

#[test]
fn chatgpt_stats_count_users_dates_and_skipped_content() {
    let bytes = fixture("chatgpt-quirks.json");
    let (_, stats) = read(&bytes).unwrap();
    assert_eq!(stats.format, Some(ExportFormat::Chatgpt));
    assert_eq!(stats.conversations, 4);
    assert_eq!(stats.user_messages, 5);
    assert_eq!(stats.first_message, at(1020.0));
    assert_eq!(
        stats.last_message,
        Some(Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap())
    );
    let expected: BTreeMap<String, u64> = [
        ("audio_asset_pointer", 1),
        ("code", 2),
        ("execution_output", 1),
        ("hologram", 1),
        ("image_asset_pointer", 1),
        ("reasoning_recap", 1),
        ("tether_quote", 1),
        ("thoughts", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(stats.skipped_content_types, expected);
    assert_eq!(stats.compressed_bytes, bytes.len() as u64);
    assert_eq!(stats.decompressed_bytes, bytes.len() as u64);
}

#[test]
fn chatgpt_older_custom_instruction_forms() {
    let (conversations, _) = read(&fixture("chatgpt-old-instructions.json")).unwrap();
    assert_eq!(
        conversations[0].custom_instructions,
        Some(CustomInstructions {
            about_user: Some("I live in Oslo.".to_owned()),
            about_model: None,
        })
    );
    assert_eq!(texts(&conversations[0]), ["Hi"]);
    assert_eq!(
        conversations[1].custom_instructions,
        Some(CustomInstructions {
            about_user: Some("I keep bees.".to_owned()),
            about_model: None,
        })
    );
    assert!(
        conversations[1].messages.is_empty(),
        "the instructions message is no user turn"
    );
}

#[test]
fn top_level_may_be_a_wrapper_object_or_a_single_conversation() {
    let (conversations, stats) = read(&fixture("chatgpt-wrapped.json")).unwrap();
    let ids: Vec<&str> = conversations.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["w1", "w2"]);
    assert_eq!(stats.conversations, 2);

    let (conversations, _) = read(&fixture("chatgpt-single.json")).unwrap();
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0].id, "single");
    assert_eq!(
        texts(&conversations[0]),
        ["Just one \"quoted\" conversation"]
    );
}

#[test]
fn claude_branches_attachments_and_legacy_messages() {
    let (conversations, stats) = read(&fixture("claude-conversations.json")).unwrap();
    assert_eq!(stats.format, Some(ExportFormat::Claude));
    let tree = &conversations[0];
    assert_eq!(tree.id, "claude-tree");
    assert_eq!(tree.title.as_deref(), Some("Porto visit"));
    let time = |h, m, s| Some(Utc.with_ymd_and_hms(2024, 5, 1, h, m, s).unwrap());
    assert_eq!(
        tree.messages,
        vec![
            user(
                "My sister lives in Porto.\n\n[pasted: recipe.txt]\nBake at 200C for 20 minutes.\n[end of pasted]",
                time(10, 0, 0)
            ),
            assistant("New answer.", time(10, 0, 10)),
            user("Thanks!", time(10, 1, 0)),
            assistant("You're welcome.", time(10, 1, 5)),
        ]
    );
    assert_eq!(tree.messages[0].own_text(), "My sister lives in Porto.");
    assert_eq!(tree.messages[1].own_text(), "New answer.");

    let legacy = &conversations[1];
    assert_eq!(texts(legacy), ["I run a bakery.", "Nice!"]);
    assert_eq!(
        legacy.created,
        DateTime::parse_from_rfc3339("2023-01-02T03:04:05.123456Z")
            .ok()
            .map(|t| t.with_timezone(&Utc))
    );
    assert_eq!(stats.user_messages, 3);
    assert_eq!(stats.skipped_content_types.get("thinking"), Some(&1));
    assert_eq!(stats.skipped_content_types.get("tool_use"), Some(&1));
}

#[test]
fn every_container_gives_the_same_conversations() {
    let json = fixture("chatgpt-quirks.json");
    let (expected, _) = read(&json).unwrap();

    let gzipped = gzip(&json);
    let (conversations, stats) = read(&gzipped).unwrap();
    assert_eq!(conversations, expected);
    assert_eq!(stats.compressed_bytes, gzipped.len() as u64);
    assert_eq!(stats.decompressed_bytes, json.len() as u64);

    // Several gzip members, split in the middle of a string.
    let (first, second) = json.split_at(json.len() / 2);
    let mut members = gzip(first);
    members.extend(gzip(second));
    assert_eq!(read(&members).unwrap().0, expected);

    let archive = zip(&[
        ("chat.html", b"<html></html>".as_slice()),
        ("conversations.json", &json),
        ("user.json", b"{}".as_slice()),
    ]);
    assert_eq!(read(&archive).unwrap().0, expected);
}

#[test]
fn zip_shards_are_read_in_order_whatever_their_order_in_the_archive() {
    let quirks = fixture("chatgpt-quirks.json");
    let wrapped = fixture("chatgpt-wrapped.json");
    let old = fixture("chatgpt-old-instructions.json");
    let archive = zip(&[
        ("conversations-002.json", old.as_slice()),
        ("conversations-000.json", quirks.as_slice()),
        ("user.json", b"{}".as_slice()),
        ("conversations-001.json", wrapped.as_slice()),
    ]);
    let (conversations, stats) = read(&archive).unwrap();
    let ids: Vec<&str> = conversations.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "conv-lyon",
            "conv-bike",
            "conv-2",
            "conv-cycle",
            "w1",
            "w2",
            "old-system-form",
            "content-only-form"
        ]
    );
    assert_eq!(
        stats.decompressed_bytes,
        (quirks.len() + wrapped.len() + old.len()) as u64
    );
}

#[test]
fn claude_zip_archive() {
    let json = fixture("claude-conversations.json");
    let archive = zip(&[
        ("users.json", b"[]".as_slice()),
        ("conversations.json", json.as_slice()),
        ("projects.json", b"[]".as_slice()),
    ]);
    let (conversations, stats) = read(&archive).unwrap();
    assert_eq!(stats.format, Some(ExportFormat::Claude));
    assert_eq!(conversations, read(&json).unwrap().0);
}

#[test]
fn reply_chain_of_100000_messages_needs_no_recursion() {
    const DEPTH: usize = 100_000;
    let mut json = String::from(
        r#"[{"conversation_id":"deep","mapping":{"n0":{"message":null,"parent":null}"#,
    );
    for i in 1..=DEPTH {
        let role = if i % 2 == 1 { "user" } else { "assistant" };
        json.push_str(&format!(
            r#","n{i}":{{"message":{{"author":{{"role":"{role}"}},"create_time":{i},"content":{{"content_type":"text","parts":["message {i}"]}}}},"parent":"n{}"}}"#,
            i - 1
        ));
    }
    json.push_str(&format!(r#"}},"current_node":"n{DEPTH}"}}]"#));
    let (conversations, stats) = read(json.as_bytes()).unwrap();
    let deep = &conversations[0];
    assert_eq!(deep.messages.len(), DEPTH);
    assert_eq!(deep.messages[0].text, "message 1");
    assert_eq!(deep.messages[DEPTH - 1].text, format!("message {DEPTH}"));
    assert_eq!(stats.user_messages, (DEPTH / 2) as u64);

    // Without current_node the newest leaf is found the same way.
    let without = json.replace(&format!(r#","current_node":"n{DEPTH}""#), "");
    assert_eq!(read(without.as_bytes()).unwrap().0[0].messages.len(), DEPTH);
}

#[test]
fn a_10_mb_message_is_read_whole() {
    let line = r#"All work and no play makes a \"dull\" export.\n"#;
    let body = line.repeat(10 * 1024 * 1024 / line.len() + 1);
    let json = format!(
        r#"[{{"conversation_id":"big","mapping":{{"r":{{"message":null,"parent":null}},"u":{{"message":{{"author":{{"role":"user"}},"content":{{"content_type":"text","parts":["{body}"]}}}},"parent":"r"}}}},"current_node":"u"}},{{"conversation_id":"after","mapping":{{}}}}]"#
    );
    let (conversations, _) = read(&gzip(json.as_bytes())).unwrap();
    let text = &conversations[0].messages[0].text;
    let unescaped_line = "All work and no play makes a \"dull\" export.\n";
    assert_eq!(text.len(), unescaped_line.len() * (body.len() / line.len()));
    assert!(text.starts_with(unescaped_line));
    assert_eq!(conversations[1].id, "after");
}

#[test]
fn progress_is_reported_in_steps_and_ends_at_the_whole_input() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.json.gz");
    let options = synth::Options {
        seed: 3,
        amount: Amount::Bytes(6 << 20),
        ..synth::Options::default()
    };
    synth::write_export(&path, &options).unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    let mut sink = Collect::default();
    let stats = read_export(
        std::fs::File::open(&path).unwrap(),
        &Limits::default(),
        &mut sink,
    )
    .unwrap();
    let progress = &sink.progress;
    assert!(progress.len() >= 2, "{progress:?}");
    assert!(
        progress.len() as u64 <= size / (1 << 20) + 2,
        "{progress:?}"
    );
    assert!(progress.windows(2).all(|w| w[0].bytes_read <= w[1].bytes_read
        && w[0].conversations <= w[1].conversations));
    let last = progress.last().unwrap();
    assert_eq!(last.bytes_read, size);
    assert_eq!(last.conversations, stats.conversations);
}

#[test]
fn a_cancelled_sink_stops_the_read() {
    let json = fixture("chatgpt-quirks.json");
    let mut sink = Collect {
        stop_after: Some(2),
        ..Collect::default()
    };
    let result = read_export(
        std::io::Cursor::new(gzip(&json)),
        &Limits::default(),
        &mut sink,
    );
    assert!(matches!(
        result,
        Err(fullpass::ingest::IngestError::Cancelled)
    ));
    assert_eq!(sink.conversations.len(), 2);
}

#[test]
fn stopping_early_on_a_large_export_does_not_hang() {
    let mut json = Vec::new();
    let options = synth::Options {
        seed: 4,
        amount: Amount::Bytes(8 << 20),
        ..synth::Options::default()
    };
    synth::write_document(&mut json, &options).unwrap();
    let gzipped = gzip(&json);
    let (done, wait) = std::sync::mpsc::channel();
    let cancelled = gzipped.clone();
    std::thread::spawn(move || {
        let mut sink = Collect {
            stop_after: Some(1),
            ..Collect::default()
        };
        let result = read_export(
            std::io::Cursor::new(cancelled),
            &Limits::default(),
            &mut sink,
        );
        let _ = done.send(result.is_err());
    });
    assert_eq!(
        wait.recv_timeout(std::time::Duration::from_secs(60)),
        Ok(true),
        "a cancelled read of a large export must return"
    );

    // A sink that panics (a bug downstream) unwinds instead of hanging.
    struct Panicking;
    impl fullpass::ingest::Sink for Panicking {
        fn conversation(&mut self, _: Conversation) -> Result<(), fullpass::ingest::Cancelled> {
            panic!("downstream bug");
        }
    }
    let (done, wait) = std::sync::mpsc::channel();
    let panicking = gzipped.clone();
    std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(move || {
            read_export(
                std::io::Cursor::new(panicking),
                &Limits::default(),
                &mut Panicking,
            )
        });
        let _ = done.send(outcome.is_err());
    });
    assert_eq!(
        wait.recv_timeout(std::time::Duration::from_secs(60)),
        Ok(true),
        "a panicking sink must unwind, not hang"
    );

    // An error in the second element, with megabytes still to come. Each
    // generated ChatGPT conversation starts with `{"title"`.
    let text = std::str::from_utf8(&json).unwrap();
    let first_end = text.find(r#"},{"title""#).unwrap() + 1;
    let broken = format!("{},7{}", &text[..first_end], &text[first_end..]).into_bytes();
    let second = first_end + 1;
    let (done, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(
            ingest_support::read(&gzip(&broken))
                .map(|_| ())
                .unwrap_err()
                .to_string(),
        );
    });
    let message = wait
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("a failed read of a large export must return");
    assert_eq!(
        message,
        format!("conversations.json: expected a conversation (a JSON object) at byte {second}")
    );
}

/// Reads a generated export back and checks it against what the generator wrote.
fn round_trip(format: Format, container: Container, shards: u32) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export");
    let options = synth::Options {
        seed: 11,
        format,
        container,
        amount: Amount::Conversations(60),
        shards,
    };
    let expected = synth::write_export(&path, &options).unwrap();
    let mut sink = Collect::default();
    let stats = read_export(
        std::fs::File::open(&path).unwrap(),
        &Limits::default(),
        &mut sink,
    )
    .unwrap();
    let conversations = sink.conversations;
    assert_eq!(stats.conversations, expected.conversations);
    assert_eq!(conversations.len() as u64, expected.conversations);
    assert_eq!(stats.user_messages, expected.user_messages);
    let messages: usize = conversations.iter().map(|c| c.messages.len()).sum();
    assert_eq!(messages as u64, expected.messages);
    let memory_writes: usize = conversations.iter().map(|c| c.memory_writes.len()).sum();
    assert_eq!(memory_writes as u64, expected.memory_writes);
    let with_instructions = conversations
        .iter()
        .filter(|c| c.custom_instructions.is_some())
        .count();
    assert_eq!(with_instructions as u64, expected.with_custom_instructions);
    assert_eq!(stats.first_message, expected.first_message);
    assert_eq!(stats.last_message, expected.last_message);
    assert_eq!(stats.skipped_content_types, expected.skipped_content_types);
    assert_eq!(stats.decompressed_bytes, expected.json_bytes);
    assert_eq!(
        stats.compressed_bytes,
        std::fs::metadata(&path).unwrap().len()
    );
    let marker = |c: char| ('\u{e000}'..='\u{f8ff}').contains(&c) || c == '†';
    assert!(
        conversations
            .iter()
            .flat_map(|c| &c.messages)
            .all(|m| !m.text.contains(marker)),
        "citation markers left in the text"
    );
}

#[test]
fn generated_chatgpt_exports_read_back_exactly() {
    round_trip(Format::Chatgpt, Container::Gzip, 1);
    round_trip(Format::Chatgpt, Container::Json, 1);
    round_trip(Format::Chatgpt, Container::Zip, 3);
}

#[test]
fn generated_claude_exports_read_back_exactly() {
    round_trip(Format::Claude, Container::Gzip, 1);
    round_trip(Format::Claude, Container::Zip, 1);
}
