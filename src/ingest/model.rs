//! What the rest of fullpass sees of an export: one conversation at a time,
//! already reduced to its canonical branch and to the text that matters.

use chrono::{DateTime, Utc};

/// Who wrote a message on the canonical branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
}

/// One visible message of the canonical branch.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub role: Role,
    /// Plain text: string parts joined, voice transcriptions included,
    /// attachments and asset pointers left out, citation markers stripped.
    pub text: String,
    pub time: Option<DateTime<Utc>>,
}

/// The user's "custom instructions" as stored in the export.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomInstructions {
    /// "What would you like ChatGPT to know about you?"
    pub about_user: Option<String>,
    /// "How would you like ChatGPT to respond?"
    pub about_model: Option<String>,
}

/// A memory the assistant saved about the user (ChatGPT's `bio` tool).
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryWrite {
    pub text: String,
    pub time: Option<DateTime<Utc>>,
}

/// One conversation, reduced to what extraction needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conversation {
    /// `conversation_id`/`id` (ChatGPT) or `uuid` (Claude); a stable
    /// substitute (`conv-<index>`) when the export has none.
    pub id: String,
    pub title: Option<String>,
    pub created: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    /// Visible user and assistant messages of the canonical branch, oldest first.
    pub messages: Vec<Message>,
    pub custom_instructions: Option<CustomInstructions>,
    pub memory_writes: Vec<MemoryWrite>,
}

impl Conversation {
    /// The best date for this conversation: its first message, else its creation time.
    pub fn date(&self) -> Option<DateTime<Utc>> {
        self.messages
            .iter()
            .find_map(|m| m.time)
            .or(self.created)
            .or(self.updated)
    }

    pub fn user_messages(&self) -> impl Iterator<Item = &Message> {
        self.messages.iter().filter(|m| m.role == Role::User)
    }
}
