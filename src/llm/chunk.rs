//! Packing the user's words into chunks of about the configured size, one
//! conversation at a time, as ingest reads them.
//!
//! A chunk is plain text the model reads: per conversation a header with a short
//! label (`c1`, `c2`, ...), its date and title, then the user's messages (their own
//! words: pasted material left out), each after
//! a hard-trimmed excerpt of the assistant message it answers (context only). The
//! labels map back to conversation ids and dates here, so the model never has to
//! copy ids or dates: facts cite labels, fullpass fills in the rest.

use super::prompt::PROMPT_VERSION;
use super::rules::ExtractRules;
use crate::ingest::{self, Cancelled, Conversation, Progress, Role};
use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Characters of an assistant message kept as context: its start and its end
/// (where questions to the user usually are).
const ASSISTANT_HEAD_CHARS: usize = 100;
const ASSISTANT_TAIL_CHARS: usize = 120;
/// Characters of a conversation title kept in its header.
const TITLE_CHARS: usize = 80;

/// One conversation as cited in a chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkConversation {
    pub id: String,
    /// Dates of the first and last text of this conversation in the chunk.
    pub first: Option<NaiveDate>,
    pub last: Option<NaiveDate>,
}

/// Text for one map request, with what its labels stand for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Position in the export, from 0.
    pub index: u64,
    /// What the model reads (already redacted).
    pub text: String,
    /// `conversations[0]` is `c1`, and so on.
    pub conversations: Vec<ChunkConversation>,
}

impl Chunk {
    /// The conversation a label (`c3`, `C3`, `3`) stands for.
    pub fn conversation(&self, label: &str) -> Option<&ChunkConversation> {
        self.conversations.get(self.position(label)?)
    }

    /// Where the conversation a label stands for is in `conversations`.
    pub fn position(&self, label: &str) -> Option<usize> {
        let label = label.trim();
        let digits = label
            .strip_prefix('c')
            .or_else(|| label.strip_prefix('C'))
            .unwrap_or(label);
        let n: usize = digits.parse().ok()?;
        n.checked_sub(1).filter(|&i| i < self.conversations.len())
    }

    /// Identifies a chunk's result for checkpoints: the same text, conversations,
    /// model and prompt give the same facts.
    pub fn fingerprint(&self, model: &str) -> String {
        let mut hash = Sha256::new();
        for part in [PROMPT_VERSION, model, &self.text] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part.as_bytes());
        }
        for c in &self.conversations {
            let line = format!("{}\u{1f}{:?}\u{1f}{:?}", c.id, c.first, c.last);
            hash.update((line.len() as u64).to_le_bytes());
            hash.update(line.as_bytes());
        }
        hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// What flows from the export reader to [`super::LlmExtractor::run`].
#[derive(Debug)]
pub enum ChunkFeed {
    Chunk(Chunk),
    /// The whole export was read: every chunk has been sent.
    Done,
}

/// One piece of text about to be packed, with its date.
struct Entry {
    text: String,
    chars: usize,
    date: Option<NaiveDate>,
}

/// Packs conversations into chunks of at most `max_chars` characters (a single
/// message is cut to half a chunk, so every entry fits).
pub struct ChunkPacker {
    max_chars: usize,
    rules: Arc<dyn ExtractRules>,
    next_index: u64,
    text: String,
    chars: usize,
    conversations: Vec<ChunkConversation>,
    /// Custom instructions repeat on every conversation: each distinct text is sent once.
    seen_profiles: HashSet<String>,
}

fn day(time: Option<DateTime<Utc>>) -> Option<NaiveDate> {
    time.map(|t| t.date_naive())
}

/// One line per line of text, continuation lines indented, blank lines dropped.
fn flatten(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
    {
        if !out.is_empty() {
            out.push_str("\n  ");
        }
        out.push_str(line);
    }
    out
}

/// `text` cut to its first `head` and last `tail` characters around an ellipsis, if longer.
fn cut_middle(text: &str, head: usize, tail: usize) -> String {
    let count = text.chars().count();
    if count <= head + tail + 3 {
        return text.to_owned();
    }
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(count - tail).collect();
    format!("{} … {}", start.trim_end(), end.trim_start())
}

impl ChunkPacker {
    pub fn new(chunk_tokens: usize, rules: Arc<dyn ExtractRules>) -> ChunkPacker {
        ChunkPacker {
            max_chars: chunk_tokens.saturating_mul(4).max(400),
            rules,
            next_index: 0,
            text: String::new(),
            chars: 0,
            conversations: Vec::new(),
            seen_profiles: HashSet::new(),
        }
    }

    fn redacted(&self, text: &str) -> String {
        flatten(&self.rules.redact(text))
    }

    fn entry(&self, text: String, date: Option<NaiveDate>) -> Entry {
        let chars = text.chars().count() + 1;
        Entry { text, chars, date }
    }

    /// The texts of a conversation worth sending: the user's messages (with the
    /// assistant message each answers, cut short), their "about me" text, saved memories.
    fn entries(&mut self, conversation: &Conversation) -> Vec<Entry> {
        let conversation_day = day(conversation.date());
        let message_cap = self.max_chars / 2;
        let mut entries = Vec::new();
        if let Some(about) = conversation
            .custom_instructions
            .as_ref()
            .and_then(|ci| ci.about_user.as_deref())
        {
            let about = self.redacted(about);
            if !about.is_empty() && self.seen_profiles.insert(about.clone()) {
                let about = cut_middle(&about, message_cap * 3 / 4, message_cap / 4);
                entries.push(self.entry(format!("[about me] {about}"), conversation_day));
            }
        }
        for write in &conversation.memory_writes {
            let text = self.redacted(&write.text);
            if !text.is_empty() {
                let text = cut_middle(&text, message_cap * 3 / 4, message_cap / 4);
                let date = day(write.time).or(conversation_day);
                entries.push(self.entry(format!("[saved memory] {text}"), date));
            }
        }
        let mut previous_assistant: Option<&str> = None;
        for message in &conversation.messages {
            match message.role {
                Role::Assistant => previous_assistant = Some(&message.text),
                Role::User => {
                    // Pasted documents are not the user's words, and cost the most tokens.
                    let text = self.redacted(message.own_text());
                    let context = previous_assistant.take();
                    if text.is_empty() {
                        continue;
                    }
                    let mut entry = String::new();
                    if let Some(assistant) = context {
                        let assistant = self.redacted(assistant);
                        if !assistant.is_empty() {
                            let cut = cut_middle(
                                &assistant.replace("\n  ", " "),
                                ASSISTANT_HEAD_CHARS,
                                ASSISTANT_TAIL_CHARS,
                            );
                            entry.push_str("[assistant, cut] ");
                            entry.push_str(&cut);
                            entry.push('\n');
                        }
                    }
                    entry.push_str("[user] ");
                    entry.push_str(&cut_middle(&text, message_cap * 3 / 4, message_cap / 4));
                    let date = day(message.time).or(conversation_day);
                    entries.push(self.entry(entry, date));
                }
            }
        }
        entries
    }

    fn header(&self, conversation: &Conversation, continued: bool) -> String {
        let label = self.conversations.len() + 1;
        let date = day(conversation.date())
            .map(|d| d.to_string())
            .unwrap_or_else(|| "date unknown".to_owned());
        let title = conversation
            .title
            .as_deref()
            .map(|t| self.redacted(t).replace("\n  ", " "))
            .filter(|t| !t.is_empty())
            .map(|t| cut_middle(&t, TITLE_CHARS, 0))
            .unwrap_or_default();
        let more = if continued { " (continued)" } else { "" };
        format!("## c{label} | {date} | {title}{more}")
    }

    fn close(&mut self) -> Option<Chunk> {
        if self.conversations.is_empty() {
            return None;
        }
        let chunk = Chunk {
            index: self.next_index,
            text: std::mem::take(&mut self.text),
            conversations: std::mem::take(&mut self.conversations),
        };
        self.chars = 0;
        self.next_index += 1;
        Some(chunk)
    }

    /// Adds a conversation; returns the chunks it filled up.
    pub fn push(&mut self, conversation: &Conversation) -> Vec<Chunk> {
        let entries = self.entries(conversation);
        let mut full = Vec::new();
        // This conversation's position in the chunk being built, once it has a header there.
        let mut current: Option<usize> = None;
        let mut continued = false;
        for entry in entries {
            if self.chars > 0 {
                let header_chars = match current {
                    Some(_) => 0,
                    None => self.header(conversation, continued).chars().count() + 1,
                };
                if self.chars + header_chars + entry.chars > self.max_chars {
                    full.extend(self.close());
                    // "(continued)" only when part of this conversation is in the closed chunk.
                    continued = current.is_some();
                    current = None;
                }
            }
            let position = match current {
                Some(p) => p,
                None => {
                    let header = self.header(conversation, continued);
                    self.chars += header.chars().count() + 1;
                    self.text.push_str(&header);
                    self.text.push('\n');
                    self.conversations.push(ChunkConversation {
                        id: conversation.id.clone(),
                        first: None,
                        last: None,
                    });
                    self.conversations.len() - 1
                }
            };
            current = Some(position);
            if let Some(cited) = self.conversations.get_mut(position)
                && let Some(date) = entry.date
            {
                cited.first = Some(cited.first.map_or(date, |d| d.min(date)));
                cited.last = Some(cited.last.map_or(date, |d| d.max(date)));
            }
            self.chars += entry.chars;
            self.text.push_str(&entry.text);
            self.text.push('\n');
        }
        full
    }

    /// The last, partly filled chunk.
    pub fn finish(&mut self) -> Option<Chunk> {
        self.close()
    }
}

/// An [`ingest::Sink`] that packs conversations into chunks and sends them to the
/// extractor. Runs on ingest's blocking thread (it blocks when the extractor is behind);
/// never call it from async code.
pub struct ChunkCollector {
    packer: ChunkPacker,
    tx: mpsc::Sender<ChunkFeed>,
    on_progress: Option<ProgressCallback>,
}

type ProgressCallback = Box<dyn FnMut(&Progress) -> Result<(), Cancelled> + Send>;

impl ChunkCollector {
    pub fn new(packer: ChunkPacker, tx: mpsc::Sender<ChunkFeed>) -> ChunkCollector {
        ChunkCollector {
            packer,
            tx,
            on_progress: None,
        }
    }

    /// Also reports ingest progress (for the row's progress column, cancellation).
    pub fn with_progress(
        mut self,
        on_progress: impl FnMut(&Progress) -> Result<(), Cancelled> + Send + 'static,
    ) -> ChunkCollector {
        self.on_progress = Some(Box::new(on_progress));
        self
    }

    fn send(&self, feed: ChunkFeed) -> Result<(), Cancelled> {
        // Fails only when the extractor has stopped: stop reading too.
        self.tx.blocking_send(feed).map_err(|_| Cancelled)
    }

    /// Sends the last chunk and the end marker. Call after ingest read the whole export.
    pub fn finish(mut self) -> Result<(), Cancelled> {
        if let Some(chunk) = self.packer.finish() {
            self.send(ChunkFeed::Chunk(chunk))?;
        }
        self.send(ChunkFeed::Done)
    }
}

impl ingest::Sink for ChunkCollector {
    fn conversation(&mut self, conversation: Conversation) -> Result<(), Cancelled> {
        for chunk in self.packer.push(&conversation) {
            self.send(ChunkFeed::Chunk(chunk))?;
        }
        Ok(())
    }

    fn progress(&mut self, progress: &Progress) -> Result<(), Cancelled> {
        if self.tx.is_closed() {
            return Err(Cancelled);
        }
        match &mut self.on_progress {
            Some(report) => report(progress),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Fact;
    use crate::ingest::{CustomInstructions, Message};
    use chrono::TimeZone;

    struct Masking;

    impl ExtractRules for Masking {
        fn redact(&self, text: &str) -> String {
            text.replace("hunter2", "[secret]")
        }
        fn contains_secret(&self, text: &str) -> bool {
            text.contains("hunter2")
        }
        fn consolidate(&self, candidates: Vec<Fact>) -> Vec<Fact> {
            candidates
        }
    }

    fn at(day: u32) -> Option<DateTime<Utc>> {
        Utc.with_ymd_and_hms(2024, 3, day, 12, 0, 0).single()
    }

    fn message(role: Role, text: &str, day: u32) -> Message {
        Message {
            role,
            text: text.to_owned(),
            time: at(day),
        }
    }

    fn conversation(id: &str, messages: Vec<Message>) -> Conversation {
        Conversation {
            id: id.to_owned(),
            title: Some(format!("About {id}")),
            messages,
            ..Conversation::default()
        }
    }

    fn packer(tokens: usize) -> ChunkPacker {
        ChunkPacker::new(tokens, Arc::new(Masking))
    }

    #[test]
    fn user_text_with_assistant_context_and_labels() {
        let mut p = packer(2000);
        let long_answer = format!("Sure! {} Where do you live now?", "blah ".repeat(200));
        let c = conversation(
            "conv-a",
            vec![
                message(Role::User, "Hi, plan my week.\n\nI'm a nurse.", 2),
                message(Role::Assistant, &long_answer, 2),
                message(
                    Role::User,
                    "Lisbon, since last year. My password is hunter2",
                    3,
                ),
            ],
        );
        assert!(p.push(&c).is_empty());
        let chunk = p.finish().unwrap();
        assert_eq!(chunk.index, 0);
        assert!(
            chunk
                .text
                .starts_with("## c1 | 2024-03-02 | About conv-a\n")
        );
        assert!(
            chunk
                .text
                .contains("[user] Hi, plan my week.\n  I'm a nurse.\n")
        );
        assert!(chunk.text.contains("Where do you live now?\n[user] Lisbon"));
        assert!(chunk.text.contains(" … "), "assistant text is cut");
        assert!(chunk.text.chars().count() < 900);
        assert!(!chunk.text.contains("hunter2"));
        assert_eq!(chunk.conversation("c1").unwrap().id, "conv-a");
        assert_eq!(
            chunk.conversation("C1").unwrap().last,
            at(3).map(|t| t.date_naive())
        );
        assert!(chunk.conversation("c2").is_none());
        assert!(chunk.conversation("c0").is_none());
        assert!(p.finish().is_none());
    }

    #[test]
    fn chunks_stay_within_size_and_continue_conversations() {
        let mut p = packer(200); // 800 characters
        let messages: Vec<Message> = (0..30)
            .map(|i| {
                message(
                    Role::User,
                    &format!("message number {i} {}", "x".repeat(60)),
                    5,
                )
            })
            .collect();
        let mut chunks = p.push(&conversation("long", messages));
        chunks.extend(p.finish());
        assert!(chunks.len() >= 3, "{}", chunks.len());
        for (i, chunk) in chunks.iter().enumerate() {
            assert_eq!(chunk.index, i as u64);
            assert!(chunk.text.chars().count() <= 800, "{}", chunk.text.len());
            assert_eq!(chunk.conversations.len(), 1);
            assert_eq!(chunk.conversations[0].id, "long");
        }
        assert!(
            chunks[1]
                .text
                .starts_with("## c1 | 2024-03-05 | About long (continued)\n")
        );
        let all: String = chunks.iter().map(|c| c.text.as_str()).collect();
        for i in 0..30 {
            assert!(
                all.contains(&format!("message number {i} ")),
                "message {i} lost"
            );
        }
    }

    #[test]
    fn pasted_material_is_left_out() {
        let mut p = packer(2000);
        let text = format!(
            "Please review my cover letter, I'm a chemist.{}letter.txt]\nDear hiring manager, I am a pilot.{}",
            crate::ingest::PASTED_START,
            crate::ingest::PASTED_END
        );
        p.push(&conversation("paste", vec![message(Role::User, &text, 1)]));
        let chunk = p.finish().unwrap();
        assert!(
            chunk
                .text
                .contains("[user] Please review my cover letter, I'm a chemist.\n")
        );
        assert!(!chunk.text.contains("pilot"));
    }

    #[test]
    fn a_conversation_that_starts_a_chunk_is_not_marked_continued() {
        let mut p = packer(200);
        let text = "y".repeat(390);
        let mut chunks = p.push(&conversation("first", vec![message(Role::User, &text, 1)]));
        chunks.extend(p.push(&conversation("second", vec![message(Role::User, &text, 2)])));
        chunks.extend(p.finish());
        assert_eq!(chunks.len(), 2);
        assert!(
            chunks[1]
                .text
                .starts_with("## c1 | 2024-03-02 | About second\n")
        );
    }

    #[test]
    fn a_huge_message_is_cut_to_half_a_chunk() {
        let mut p = packer(200);
        let huge = format!(
            "I teach chemistry. {} The end.",
            "lorem ipsum ".repeat(2000)
        );
        let mut chunks = p.push(&conversation("big", vec![message(Role::User, &huge, 1)]));
        chunks.extend(p.finish());
        assert_eq!(chunks.len(), 1);
        assert!(chunks[0].text.contains("I teach chemistry."));
        assert!(chunks[0].text.contains("The end."));
        assert!(chunks[0].text.chars().count() <= 800);
    }

    #[test]
    fn profile_text_is_sent_once_and_silent_conversations_not_at_all() {
        let mut p = packer(2000);
        let profile = CustomInstructions {
            about_user: Some("I'm a beekeeper in Ghent.".to_owned()),
            about_model: Some("Be brief.".to_owned()),
        };
        for id in ["a", "b"] {
            let mut c = conversation(id, vec![message(Role::User, "hello", 1)]);
            c.custom_instructions = Some(profile.clone());
            p.push(&c);
        }
        p.push(&conversation(
            "only-assistant",
            vec![message(Role::Assistant, "hi", 1)],
        ));
        let chunk = p.finish().unwrap();
        assert_eq!(chunk.text.matches("[about me] I'm a beekeeper").count(), 1);
        assert!(!chunk.text.contains("Be brief"));
        assert_eq!(chunk.conversations.len(), 2);
    }

    #[test]
    fn fingerprints_depend_on_text_conversations_and_model() {
        let mut p = packer(2000);
        p.push(&conversation(
            "a",
            vec![message(Role::User, "I like tea", 1)],
        ));
        let chunk = p.finish().unwrap();
        let mut other_id = chunk.clone();
        other_id.conversations[0].id = "b".to_owned();
        let f = chunk.fingerprint("m1");
        assert_eq!(f.len(), 64);
        assert_eq!(f, chunk.clone().fingerprint("m1"));
        assert_ne!(f, chunk.fingerprint("m2"));
        assert_ne!(f, other_id.fingerprint("m1"));
    }
}
