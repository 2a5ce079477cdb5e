//! Synthetic exports, for tests and benchmarks: realistic ChatGPT or Claude
//! exports of any size, written as a stream in flat memory.
//!
//! They carry every quirk the reader handles: branches from edits and
//! regenerations (always older than the branch that replaced them, so the
//! newest leaf is the canonical one, as in real exports), hidden system
//! messages, custom instructions, saved memories (memory-tool writes and the
//! saved-memory listing), tool calls and their outputs, reasoning, voice
//! transcriptions, images, attachments, citation markers, unknown content
//! types, missing or dangling `current_node`. Alongside the file the
//! generator returns a [`Summary`] of what a correct reader must find in it,
//! worked out from what was generated, not by reading it back.

use chrono::{DateTime, SecondsFormat, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::str::FromStr;

/// Which product's export to imitate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Chatgpt,
    Claude,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "chatgpt" => Ok(Format::Chatgpt),
            "claude" => Ok(Format::Claude),
            other => Err(format!("unknown format {other:?} (chatgpt or claude)")),
        }
    }
}

/// How to pack the JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Gzip,
    Zip,
    Json,
}

impl FromStr for Container {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "gzip" => Ok(Container::Gzip),
            "zip" => Ok(Container::Zip),
            "json" => Ok(Container::Json),
            other => Err(format!("unknown container {other:?} (gzip, zip or json)")),
        }
    }
}

/// How much to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amount {
    Conversations(u64),
    /// At least this many bytes of JSON (before compression).
    Bytes(u64),
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub seed: u64,
    pub format: Format,
    pub container: Container,
    pub amount: Amount,
    /// For a ChatGPT zip: split the conversations over this many files
    /// (`conversations-000.json`, ...) instead of one `conversations.json`.
    pub shards: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: 1,
            format: Format::Chatgpt,
            container: Container::Gzip,
            amount: Amount::Conversations(100),
            shards: 1,
        }
    }
}

/// What a correct reader finds in a generated export.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub conversations: u64,
    /// Visible user messages with text, on canonical branches.
    pub user_messages: u64,
    /// Visible user and assistant messages with text, on canonical branches.
    pub messages: u64,
    /// Memory-tool writes on canonical branches plus distinct saved-memory entries.
    pub memory_writes: u64,
    pub with_custom_instructions: u64,
    pub first_message: Option<DateTime<Utc>>,
    pub last_message: Option<DateTime<Utc>>,
    /// Content on canonical branches that carries no kept text, by type.
    pub skipped_content_types: BTreeMap<String, u64>,
    /// Bytes of JSON written (before compression).
    pub json_bytes: u64,
}

/// Writes a whole export to `path`.
pub fn write_export(path: &Path, options: &Options) -> io::Result<Summary> {
    let file = File::create(path)?;
    match options.container {
        Container::Json => {
            let mut out = BufWriter::with_capacity(1 << 20, file);
            let summary = write_documents(&mut out, options, 1)?;
            out.flush()?;
            Ok(summary)
        }
        Container::Gzip => {
            let buffered = BufWriter::with_capacity(1 << 20, file);
            let mut out = GzEncoder::new(buffered, Compression::default());
            let summary = write_documents(&mut out, options, 1)?;
            out.finish()?.flush()?;
            Ok(summary)
        }
        Container::Zip => write_zip(file, options),
    }
}

/// Writes the conversations as one JSON document (a top-level array).
pub fn write_document(out: &mut dyn Write, options: &Options) -> io::Result<Summary> {
    write_documents(out, options, 1)
}

fn write_documents(out: &mut dyn Write, options: &Options, shards: u32) -> io::Result<Summary> {
    let mut generator = Generator::new(options);
    for shard in 0..shards {
        generator.document(out, options.amount, shards, shard)?;
    }
    Ok(generator.finish())
}

fn write_zip(file: File, options: &Options) -> io::Result<Summary> {
    let mut zip = zip::ZipWriter::new(BufWriter::with_capacity(1 << 20, file));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let mut generator = Generator::new(options);
    let shards = match options.format {
        Format::Chatgpt => options.shards.max(1),
        Format::Claude => 1,
    };
    for shard in 0..shards {
        let name = if shards == 1 {
            "conversations.json".to_owned()
        } else {
            format!("conversations-{shard:03}.json")
        };
        zip.start_file(name, deflated).map_err(io::Error::other)?;
        generator.document(&mut zip, options.amount, shards, shard)?;
    }
    let extras: &[(&str, &str)] = match options.format {
        Format::Chatgpt => &[
            (
                "user.json",
                r#"{"id":"user-synthetic","email":"someone@example.invalid","chatgpt_plus_user":true}"#,
            ),
            ("message_feedback.json", "[]"),
            ("chat.html", "<html><body>Synthetic export</body></html>"),
        ],
        Format::Claude => &[
            (
                "users.json",
                r#"[{"uuid":"00000000-0000-4000-8000-000000000001","full_name":"Synthetic"}]"#,
            ),
            ("projects.json", "[]"),
        ],
    };
    for (name, body) in extras {
        zip.start_file(*name, deflated).map_err(io::Error::other)?;
        zip.write_all(body.as_bytes())?;
    }
    zip.finish().map_err(io::Error::other)?.flush()?;
    Ok(generator.finish())
}

/// Counts bytes written through it.
struct Counted<'w> {
    inner: &'w mut dyn Write,
    written: u64,
}

impl Write for Counted<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

const WORDS: &[&str] = &[
    "the",
    "a",
    "to",
    "and",
    "of",
    "in",
    "is",
    "it",
    "for",
    "that",
    "on",
    "with",
    "this",
    "my",
    "can",
    "you",
    "how",
    "what",
    "do",
    "be",
    "have",
    "not",
    "are",
    "but",
    "or",
    "if",
    "we",
    "about",
    "would",
    "should",
    "could",
    "make",
    "time",
    "work",
    "data",
    "plan",
    "week",
    "report",
    "team",
    "project",
    "budget",
    "trip",
    "recipe",
    "garden",
    "code",
    "function",
    "query",
    "table",
    "meeting",
    "email",
    "draft",
    "summary",
    "schedule",
    "weekend",
    "morning",
    "evening",
    "list",
    "idea",
    "problem",
    "answer",
    "question",
    "example",
    "better",
    "simple",
    "quick",
    "long",
    "short",
    "clear",
    "good",
    "new",
    "old",
    "first",
    "last",
    "next",
    "every",
    "some",
    "more",
    "less",
    "really",
    "maybe",
    "probably",
    "actually",
    "still",
    "already",
    "again",
    "today",
    "tomorrow",
    "yesterday",
    "usually",
    "sometimes",
    "client",
    "school",
    "kids",
    "dog",
    "cat",
    "bike",
    "train",
    "coffee",
    "tea",
    "dinner",
    "lunch",
    "book",
    "film",
    "music",
    "guitar",
    "running",
    "swimming",
    "hiking",
    "Python",
    "SQL",
    "Excel",
    "spreadsheet",
    "server",
    "deadline",
    "invoice",
    "landlord",
    "apartment",
    "visa",
    "interview",
    "résumé",
    "café",
    "naïve",
    "Zürich",
    "São",
    "Paulo",
    "Kraków",
    "東京",
    "ありがとう",
    "😊",
    "👍",
    "🚲",
];

const TITLES: &[&str] = &[
    "Weekly report help",
    "Trip planning",
    "Fix my SQL",
    "Dinner ideas",
    "Email to landlord",
    "Python error",
    "Budget spreadsheet",
    "Interview prep",
    "Garden layout",
    "Book summary",
    "Workout plan",
    "Resume feedback",
    "Explain recursion",
    "Birthday message",
    "Move checklist",
];

const MEMORIES: &[&str] = &[
    "Works as a logistics analyst.",
    "Has a dog named Pixel.",
    "Prefers answers in bullet points.",
    "Is learning Portuguese.",
    "Lives in a small flat near the river.",
    "Is vegetarian.",
    "Plays the guitar on weekends.",
    "Has two daughters in primary school.",
    "Is allergic to shellfish.",
    "Is planning a move abroad next year.",
    "Uses Linux at work and macOS at home.",
    "Runs a half marathon every spring.",
];

const ABOUT_USER: &str = "I'm a logistics analyst. I live with my partner and our dog. \
                          I prefer metric units.";
const ABOUT_MODEL: &str = "Be concise. Use bullet points when listing things.";

/// A ChatGPT `mapping` under construction.
struct Tree {
    nodes: Vec<TreeNode>,
}

struct TreeNode {
    id: String,
    parent: Option<usize>,
    children: Vec<usize>,
    message: Option<Value>,
}

impl Tree {
    fn add(&mut self, id: String, parent: Option<usize>, message: Option<Value>) -> usize {
        let index = self.nodes.len();
        if let Some(node) = parent.and_then(|p| self.nodes.get_mut(p)) {
            node.children.push(index);
        }
        self.nodes.push(TreeNode {
            id,
            parent,
            children: Vec::new(),
            message,
        });
        index
    }

    fn id(&self, index: usize) -> &str {
        self.nodes.get(index).map_or("", |n| n.id.as_str())
    }
}

/// How a message counts in the [`Summary`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Counts {
    /// On the canonical branch.
    Visible,
    /// On an abandoned branch: never read.
    Abandoned,
}

struct Generator {
    rng: Xoshiro256PlusPlus,
    format: Format,
    /// Start of the next conversation, in microseconds; exports list the
    /// newest conversation first, so this walks backwards.
    next_start: i64,
    summary: Summary,
    memory_entries_seen: BTreeSet<usize>,
}

impl Generator {
    fn new(options: &Options) -> Self {
        Generator {
            rng: Xoshiro256PlusPlus::seed_from_u64(options.seed),
            format: options.format,
            next_start: 1_748_736_000_000_000, // 2025-06-01
            summary: Summary::default(),
            memory_entries_seen: BTreeSet::new(),
        }
    }

    fn finish(mut self) -> Summary {
        self.summary.memory_writes += self.memory_entries_seen.len() as u64;
        self.summary
    }

    /// Writes one JSON array of conversations: shard `shard` of `shards`.
    fn document(
        &mut self,
        out: &mut dyn Write,
        amount: Amount,
        shards: u32,
        shard: u32,
    ) -> io::Result<()> {
        let shards = u64::from(shards.max(1));
        let (conversations, bytes) = match amount {
            Amount::Conversations(n) => {
                let share = n / shards + u64::from(u64::from(shard) < n % shards);
                (Some(share), None)
            }
            Amount::Bytes(b) => (None, Some(b.div_ceil(shards))),
        };
        let mut out = Counted {
            inner: out,
            written: 0,
        };
        out.write_all(b"[")?;
        let mut written = 0u64;
        loop {
            let done = match (conversations, bytes) {
                (Some(n), _) => written >= n,
                (None, Some(b)) => out.written >= b,
                (None, None) => true,
            };
            if done {
                break;
            }
            if written > 0 {
                out.write_all(b",")?;
            }
            match self.format {
                Format::Chatgpt => self.chatgpt_conversation(&mut out)?,
                Format::Claude => self.claude_conversation(&mut out)?,
            }
            written += 1;
        }
        out.write_all(b"]")?;
        self.summary.json_bytes += out.written;
        Ok(())
    }

    // ---- text -------------------------------------------------------------

    fn sentence(&mut self, text: &mut String) {
        let words = self.rng.random_range(5..18);
        for i in 0..words {
            let word = WORDS.choose(&mut self.rng).copied().unwrap_or("and");
            if i == 0 {
                let mut chars = word.chars();
                if let Some(first) = chars.next() {
                    text.extend(first.to_uppercase());
                    text.push_str(chars.as_str());
                }
            } else {
                text.push(' ');
                text.push_str(word);
            }
        }
        text.push_str(match self.rng.random_range(0..10) {
            0 => "?",
            1 => "!",
            _ => ".",
        });
    }

    /// Prose of roughly `chars` bytes, with the odd paragraph break, quote
    /// and code block (for escapes).
    fn prose(&mut self, chars: usize) -> String {
        let mut text = String::with_capacity(chars + 64);
        while text.len() < chars {
            if !text.is_empty() {
                text.push_str(if self.rng.random_bool(0.15) {
                    "\n\n"
                } else {
                    " "
                });
            }
            match self.rng.random_range(0..40) {
                0 => text.push_str(
                    "```python\nfor row in rows:\n    print(f\"{row['id']}\\t{row[\"name\"]}\")\n```",
                ),
                1 => text.push_str("She said \"it's fine\" and left a C:\\temp\\notes.txt file."),
                _ => self.sentence(&mut text),
            }
        }
        text
    }

    fn user_text(&mut self) -> String {
        let length = match self.rng.random_range(0..100) {
            0..=4 => self.rng.random_range(2_000..20_000),
            5..=30 => self.rng.random_range(300..1_500),
            _ => self.rng.random_range(20..300),
        };
        self.prose(length)
    }

    fn assistant_text(&mut self) -> String {
        let length = match self.rng.random_range(0..100) {
            0..=2 => self.rng.random_range(5_000..30_000),
            3..=40 => self.rng.random_range(1_500..5_000),
            _ => self.rng.random_range(200..1_500),
        };
        self.prose(length)
    }

    /// Assistant text with search citations, an entity link or an old-style citation.
    fn cited_text(&mut self) -> String {
        let mut text = self.assistant_text();
        text.push_str(" According to recent reviews");
        text.push_str(&format!(
            "\u{e200}cite\u{e202}turn0search{}\u{e201}",
            self.rng.random_range(0..9)
        ));
        text.push_str(" the best option is in ");
        text.push_str("\u{e200}entity\u{e202}[\"city\",\"Lyon\",\"France\"]\u{e201}");
        text.push_str(" (see【4:0†source】).");
        text
    }

    fn uuid(&mut self) -> String {
        uuid::Builder::from_random_bytes(self.rng.random())
            .into_uuid()
            .to_string()
    }

    /// Advances `clock` by a few seconds to a few minutes.
    fn tick(&mut self, clock: &mut i64) -> i64 {
        *clock += self.rng.random_range(2_000_000..180_000_000);
        *clock
    }

    fn conversation_start(&mut self) -> i64 {
        let start = self.next_start;
        self.next_start -= self.rng.random_range(300_000_000..21_600_000_000);
        start
    }

    fn count(&mut self, counts: Counts, user: bool, time: i64) {
        if counts != Counts::Visible {
            return;
        }
        self.summary.messages += 1;
        if user {
            self.summary.user_messages += 1;
        }
        let time = DateTime::from_timestamp_micros(time);
        if self
            .summary
            .first_message
            .is_none_or(|t| time.is_some_and(|n| n < t))
        {
            self.summary.first_message = time;
        }
        if self
            .summary
            .last_message
            .is_none_or(|t| time.is_some_and(|n| n > t))
        {
            self.summary.last_message = time;
        }
    }

    fn skipped(&mut self, counts: Counts, kind: &str) {
        if counts != Counts::Abandoned {
            *self
                .summary
                .skipped_content_types
                .entry(kind.to_owned())
                .or_insert(0) += 1;
        }
    }

    // ---- ChatGPT ----------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn chatgpt_message(
        &mut self,
        tree: &mut Tree,
        parent: usize,
        role: &str,
        content: Value,
        time: Option<i64>,
        recipient: &str,
        metadata: Value,
    ) -> usize {
        let id = self.uuid();
        let mut metadata = metadata;
        if role == "assistant"
            && let Some(map) = metadata.as_object_mut()
        {
            map.insert(
                "finish_details".into(),
                json!({"type": "stop", "stop_tokens": [200002]}),
            );
            map.insert("is_complete".into(), json!(true));
            map.insert("citations".into(), json!([]));
            map.insert("content_references".into(), json!([]));
            map.insert("model_slug".into(), json!("gpt-4o"));
            map.insert("default_model_slug".into(), json!("gpt-4o"));
            map.insert("parent_id".into(), json!(tree.id(parent)));
            map.insert(
                "request_id".into(),
                json!(format!("{:016x}", self.rng.random::<u64>())),
            );
            map.insert("timestamp_".into(), json!("absolute"));
        }
        let message = json!({
            "id": id,
            "author": {"role": role, "name": if role == "tool" { json!("python") } else { Value::Null }, "metadata": {}},
            "create_time": time.map(|t| t as f64 / 1e6),
            "update_time": Value::Null,
            "content": content,
            "status": "finished_successfully",
            "end_turn": if role == "assistant" { json!(true) } else { Value::Null },
            "weight": 1.0,
            "metadata": metadata,
            "recipient": recipient,
            "channel": Value::Null,
        });
        tree.add(id, Some(parent), Some(message))
    }

    fn text_content(text: &str) -> Value {
        json!({"content_type": "text", "parts": [text]})
    }

    fn asset_pointer(&mut self, kind: &str) -> Value {
        json!({
            "content_type": kind,
            "asset_pointer": format!("sediment://file_{:024x}", self.rng.random::<u128>() >> 32),
            "size_bytes": self.rng.random_range(10_000..900_000),
            "width": 1024, "height": 768, "fovea": Value::Null, "metadata": Value::Null,
        })
    }

    /// A user turn: text, an image with text, a voice message, or text with
    /// an attached file.
    fn chatgpt_user(
        &mut self,
        tree: &mut Tree,
        parent: usize,
        clock: &mut i64,
        counts: Counts,
    ) -> usize {
        let time = self.tick(clock);
        let text = self.user_text();
        let kind = self.rng.random_range(0..100);
        let (content, metadata) = match kind {
            0..=5 => {
                let image = self.asset_pointer("image_asset_pointer");
                self.skipped(counts, "image_asset_pointer");
                (
                    json!({"content_type": "multimodal_text", "parts": [image, text]}),
                    json!({}),
                )
            }
            6..=10 => {
                let audio = self.asset_pointer("audio_asset_pointer");
                self.skipped(counts, "audio_asset_pointer");
                (
                    json!({"content_type": "multimodal_text", "parts": [
                        {"content_type": "audio_transcription", "text": text, "direction": "in", "decoding_id": Value::Null},
                        audio,
                    ]}),
                    json!({"voice_mode_message": true}),
                )
            }
            11..=14 => (
                Self::text_content(&text),
                json!({"attachments": [{"id": format!("file-{:x}", self.rng.random::<u64>()), "size": 48213, "name": "notes.pdf", "mime_type": "application/pdf"}]}),
            ),
            _ => (Self::text_content(&text), json!({})),
        };
        self.count(counts, true, time);
        self.chatgpt_message(tree, parent, "user", content, Some(time), "all", metadata)
    }

    /// The assistant's side of a turn, possibly through tools, reasoning or
    /// the memory tool; returns the last node.
    fn chatgpt_assistant(
        &mut self,
        tree: &mut Tree,
        parent: usize,
        clock: &mut i64,
        counts: Counts,
    ) -> usize {
        let mut at = parent;
        if self.rng.random_bool(0.08) {
            let t = self.tick(clock);
            let content = json!({"content_type": "thoughts", "thoughts": [{"summary": "Considering options", "content": self.prose(200)}], "source_analysis_msg_id": self.uuid()});
            at = self.chatgpt_message(tree, at, "assistant", content, Some(t), "all", json!({}));
            self.skipped(counts, "thoughts");
            let t = self.tick(clock);
            at = self.chatgpt_message(
                tree,
                at,
                "assistant",
                json!({"content_type": "reasoning_recap", "content": "Thought for 7 seconds"}),
                Some(t),
                "all",
                json!({}),
            );
            self.skipped(counts, "reasoning_recap");
        }
        if self.rng.random_bool(0.04) {
            let t = self.tick(clock);
            let memory = MEMORIES
                .choose(&mut self.rng)
                .copied()
                .unwrap_or("Likes tea.");
            at = self.chatgpt_message(
                tree,
                at,
                "assistant",
                Self::text_content(memory),
                Some(t),
                "bio",
                json!({}),
            );
            if counts != Counts::Abandoned {
                self.summary.memory_writes += 1;
            }
            let t = self.tick(clock);
            at = self.chatgpt_message(
                tree,
                at,
                "tool",
                Self::text_content("Model set context updated."),
                Some(t),
                "assistant",
                json!({}),
            );
        }
        let mut cited = false;
        match self.rng.random_range(0..100) {
            0..=6 => {
                let t = self.tick(clock);
                at = self.chatgpt_message(tree, at, "assistant", json!({"content_type": "code", "language": "unknown", "text": "{\"search_query\": [{\"q\": \"best bakery\"}]}"}), Some(t), "web.run", json!({}));
                self.skipped(counts, "code");
                for kind in ["tether_browsing_display", "sonic_webpage", "tether_quote"] {
                    let t = self.tick(clock);
                    let content = json!({"content_type": kind, "url": "https://example.invalid/page", "domain": "example.invalid", "title": "A page", "text": self.prose(400), "result": "", "summary": Value::Null});
                    at = self.chatgpt_message(tree, at, "tool", content, Some(t), "all", json!({}));
                    self.skipped(counts, kind);
                }
                cited = true;
            }
            7..=12 => {
                let t = self.tick(clock);
                at = self.chatgpt_message(tree, at, "assistant", json!({"content_type": "code", "language": "unknown", "text": "import pandas as pd\ndf = pd.read_csv('data.csv')\nprint(df.describe())"}), Some(t), "python", json!({}));
                self.skipped(counts, "code");
                let kind = if self.rng.random_bool(0.2) {
                    "system_error"
                } else {
                    "execution_output"
                };
                let t = self.tick(clock);
                at = self.chatgpt_message(tree, at, "tool", json!({"content_type": kind, "name": "python", "text": "       count\nmean   4.2\n"}), Some(t), "all", json!({}));
                self.skipped(counts, kind);
            }
            13 => {
                for kind in ["computer_output", "citable_code_output"] {
                    let t = self.tick(clock);
                    at = self.chatgpt_message(tree, at, "tool", json!({"content_type": kind, "computer_id": "c1", "screenshot": Value::Null, "output_str": "ok"}), Some(t), "all", json!({}));
                    self.skipped(counts, kind);
                }
            }
            14 => {
                // A content type from the future: shown in the app, unknown to the reader.
                let t = self.tick(clock);
                at = self.chatgpt_message(
                    tree,
                    at,
                    "assistant",
                    json!({"content_type": "hologram_v9", "frames": [1, 2, 3]}),
                    Some(t),
                    "all",
                    json!({}),
                );
                self.skipped(counts, "hologram_v9");
            }
            _ => {}
        }
        if self.rng.random_bool(0.05) {
            // A regenerated answer: the first draft stays as an older sibling.
            let t = self.tick(clock);
            let draft = self.assistant_text();
            self.chatgpt_message(
                tree,
                at,
                "assistant",
                Self::text_content(&draft),
                Some(t),
                "all",
                json!({}),
            );
        }
        let t = self.tick(clock);
        let content = if self.rng.random_bool(0.03) {
            let audio = self.asset_pointer("audio_asset_pointer");
            self.skipped(counts, "audio_asset_pointer");
            json!({"content_type": "multimodal_text", "parts": [
                {"content_type": "audio_transcription", "text": self.assistant_text(), "direction": "out", "decoding_id": Value::Null},
                audio,
            ]})
        } else if cited || self.rng.random_bool(0.03) {
            Self::text_content(&self.cited_text())
        } else {
            Self::text_content(&self.assistant_text())
        };
        self.count(counts, false, t);
        self.chatgpt_message(tree, at, "assistant", content, Some(t), "all", json!({}))
    }

    fn chatgpt_conversation(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let start = self.conversation_start();
        let mut clock = start;
        let mut tree = Tree { nodes: Vec::new() };
        let root_id = if self.rng.random_bool(0.9) {
            "client-created-root".to_owned()
        } else {
            self.uuid()
        };
        let root = tree.add(root_id, None, None);
        let mut at = self.chatgpt_message(
            &mut tree,
            root,
            "system",
            Self::text_content(""),
            None,
            "all",
            json!({"is_visually_hidden_from_conversation": true}),
        );
        if self.rng.random_bool(0.4) {
            let content = json!({
                "content_type": "user_editable_context",
                "user_profile": format!("The user provided the following information about themselves. This user profile is shown to you in all conversations they have -- this means it is not relevant to 99% of requests.\nUser profile:\n```{ABOUT_USER}```"),
                "user_instructions": format!("The user provided the additional info about how they would like you to respond:\n```{ABOUT_MODEL}```"),
            });
            let metadata = json!({
                "is_visually_hidden_from_conversation": true,
                "is_user_system_message": true,
                "user_context_message_data": {"about_user_message": ABOUT_USER, "about_model_message": ABOUT_MODEL},
            });
            at = self.chatgpt_message(&mut tree, at, "user", content, None, "all", metadata);
            self.summary.with_custom_instructions += 1;
        }
        if self.rng.random_bool(0.15) {
            let known = self.rng.random_range(1..=MEMORIES.len());
            let mut listing = String::new();
            for (i, memory) in MEMORIES.iter().take(known).enumerate() {
                listing.push_str(&format!(
                    "{}. [2024-{:02}-{:02}]. {memory}\n",
                    i + 1,
                    i % 12 + 1,
                    i + 3
                ));
                self.memory_entries_seen.insert(i);
            }
            let content = json!({"content_type": "model_editable_context", "model_set_context": listing, "repository": Value::Null, "repo_summary": Value::Null});
            at = self.chatgpt_message(
                &mut tree,
                at,
                "user",
                content,
                None,
                "all",
                json!({"is_visually_hidden_from_conversation": true}),
            );
        }
        let turns = self.turns();
        for turn in 0..turns {
            if turn == 0 && self.rng.random_bool(0.04) {
                // The first question was edited: its old branch stays behind.
                let old = self.chatgpt_user(&mut tree, at, &mut clock, Counts::Abandoned);
                self.chatgpt_assistant(&mut tree, old, &mut clock, Counts::Abandoned);
            }
            let user = self.chatgpt_user(&mut tree, at, &mut clock, Counts::Visible);
            at = self.chatgpt_assistant(&mut tree, user, &mut clock, Counts::Visible);
        }
        self.summary.conversations += 1;
        let current_node = match self.rng.random_range(0..100) {
            0 => None,
            1 => Some(Value::Null),
            2 => Some(json!("dangling-node-id")),
            _ => Some(json!(tree.id(at))),
        };
        let title = if self.rng.random_bool(0.03) {
            Value::Null
        } else {
            json!(TITLES.choose(&mut self.rng).copied().unwrap_or("Chat"))
        };
        let id = self.uuid();
        write!(
            out,
            "{{\"title\":{},\"create_time\":{},\"update_time\":{},\"mapping\":{{",
            title,
            start as f64 / 1e6,
            clock as f64 / 1e6 + 1.0
        )?;
        for (i, node) in tree.nodes.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            let children: Vec<&str> = node.children.iter().map(|c| tree.id(*c)).collect();
            let value = json!({
                "id": node.id,
                "message": node.message,
                "parent": node.parent.map(|p| tree.id(p)),
                "children": children,
            });
            serde_json::to_writer(&mut *out, &node.id)?;
            out.write_all(b":")?;
            serde_json::to_writer(&mut *out, &value)?;
        }
        out.write_all(b"},\"moderation_results\":[]")?;
        if let Some(current) = current_node {
            write!(out, ",\"current_node\":{current}")?;
        }
        write!(
            out,
            ",\"plugin_ids\":null,\"conversation_id\":\"{id}\",\"conversation_template_id\":null,\
             \"gizmo_id\":null,\"gizmo_type\":null,\"is_archived\":false,\"is_starred\":null,\
             \"safe_urls\":[],\"blocked_urls\":[],\"default_model_slug\":\"gpt-4o\",\
             \"conversation_origin\":null,\"voice\":null,\"async_status\":null,\
             \"disabled_tool_ids\":[],\"is_do_not_remember\":false,\
             \"memory_scope\":\"global_enabled\",\"id\":\"{id}\"}}"
        )?;
        Ok(())
    }

    /// Turns in a conversation: mostly a few, sometimes many.
    fn turns(&mut self) -> u32 {
        match self.rng.random_range(0..100) {
            0..=49 => self.rng.random_range(1..4),
            50..=89 => self.rng.random_range(4..12),
            _ => self.rng.random_range(12..40),
        }
    }

    // ---- Claude -----------------------------------------------------------

    fn claude_time(micros: i64) -> String {
        DateTime::from_timestamp_micros(micros)
            .unwrap_or_default()
            .to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    #[allow(clippy::too_many_arguments)]
    fn claude_message(
        &mut self,
        sender: &str,
        text: &str,
        blocks: Vec<Value>,
        attachments: Vec<Value>,
        time: i64,
        parent: Option<&str>,
        legacy: bool,
    ) -> (String, Value) {
        let id = self.uuid();
        let created = Self::claude_time(time);
        let mut message = json!({
            "uuid": id,
            "text": text,
            "sender": sender,
            "created_at": created,
            "updated_at": created,
            "attachments": attachments,
            "files": [],
        });
        if !legacy && let Some(map) = message.as_object_mut() {
            let mut content = blocks;
            content.push(json!({"start_timestamp": created, "stop_timestamp": created, "type": "text", "text": text, "citations": []}));
            map.insert("content".into(), Value::Array(content));
            map.insert(
                "parent_message_uuid".into(),
                json!(parent.unwrap_or("00000000-0000-4000-8000-000000000000")),
            );
        }
        (id, message)
    }

    fn claude_conversation(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let start = self.conversation_start();
        let mut clock = start;
        // Older exports: no content blocks and no parent links, no branches.
        let legacy = self.rng.random_bool(0.3);
        let mut messages: Vec<Value> = Vec::new();
        let mut parent: Option<String> = None;
        for turn in 0..self.turns() {
            if !legacy && turn == 0 && self.rng.random_bool(0.04) {
                let t = self.tick(&mut clock);
                let text = self.user_text();
                let (old, message) =
                    self.claude_message("human", &text, Vec::new(), Vec::new(), t, None, false);
                messages.push(message);
                let t = self.tick(&mut clock);
                let text = self.assistant_text();
                let (_, message) = self.claude_message(
                    "assistant",
                    &text,
                    Vec::new(),
                    Vec::new(),
                    t,
                    Some(&old),
                    false,
                );
                messages.push(message);
            }
            let t = self.tick(&mut clock);
            let text = self.user_text();
            let attachments = if self.rng.random_bool(0.08) {
                vec![
                    json!({"file_name": "notes.txt", "file_size": 2048, "file_type": "txt", "extracted_content": self.prose(1_500)}),
                ]
            } else {
                Vec::new()
            };
            let (user, message) = self.claude_message(
                "human",
                &text,
                Vec::new(),
                attachments,
                t,
                parent.as_deref(),
                legacy,
            );
            messages.push(message);
            self.count(Counts::Visible, true, t);
            if !legacy && self.rng.random_bool(0.05) {
                // A retried answer: the first one stays as an older sibling.
                let t = self.tick(&mut clock);
                let text = self.assistant_text();
                let (_, message) = self.claude_message(
                    "assistant",
                    &text,
                    Vec::new(),
                    Vec::new(),
                    t,
                    Some(&user),
                    false,
                );
                messages.push(message);
            }
            let mut blocks = Vec::new();
            if !legacy && self.rng.random_bool(0.1) {
                blocks.push(json!({"type": "thinking", "thinking": self.prose(300)}));
                self.skipped(Counts::Visible, "thinking");
            }
            if !legacy && self.rng.random_bool(0.06) {
                blocks.push(json!({"type": "tool_use", "name": "web_search", "input": {"query": "best bakery"}}));
                blocks.push(json!({"type": "tool_result", "name": "web_search", "content": [{"type": "text", "text": self.prose(300)}]}));
                self.skipped(Counts::Visible, "tool_use");
                self.skipped(Counts::Visible, "tool_result");
            }
            let t = self.tick(&mut clock);
            let text = self.assistant_text();
            let (answer, message) = self.claude_message(
                "assistant",
                &text,
                blocks,
                Vec::new(),
                t,
                Some(&user),
                legacy,
            );
            messages.push(message);
            self.count(Counts::Visible, false, t);
            parent = Some(answer);
        }
        self.summary.conversations += 1;
        let name = if self.rng.random_bool(0.05) {
            String::new()
        } else {
            TITLES
                .choose(&mut self.rng)
                .copied()
                .unwrap_or("Chat")
                .to_owned()
        };
        let conversation = json!({
            "uuid": self.uuid(),
            "name": name,
            "summary": "",
            "created_at": Self::claude_time(start),
            "updated_at": Self::claude_time(clock),
            "account": {"uuid": "00000000-0000-4000-8000-000000000001"},
            "chat_messages": messages,
        });
        serde_json::to_writer(out, &conversation)?;
        Ok(())
    }
}
