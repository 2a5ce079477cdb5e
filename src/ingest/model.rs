//! What the rest of fullpass sees of an export: one conversation at a time,
//! already reduced to its canonical branch and to the text that matters.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Who wrote a message on the canonical branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

/// Opens a block of material the user pasted or attached (Claude's
/// `attachments[].extracted_content`) inside a user message's text; the file
/// name and `]` follow, then a newline and the material, then [`PASTED_END`].
/// Pasted material is not the user's own words: [`Message::own_text`] leaves it out.
pub const PASTED_START: &str = "\n\n[pasted: ";
/// Closes a block opened by [`PASTED_START`].
pub const PASTED_END: &str = "\n[end of pasted]";

/// One visible message of the canonical branch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub role: Role,
    /// Plain text: string parts joined, voice transcriptions included,
    /// asset pointers left out, citation markers stripped. Pasted files
    /// follow the user's words, each between [`PASTED_START`] and [`PASTED_END`].
    pub text: String,
    pub time: Option<DateTime<Utc>>,
}

impl Message {
    /// The message's text without material the user pasted or attached.
    pub fn own_text(&self) -> &str {
        match self.text.find(PASTED_START) {
            Some(end) => self.text.get(..end).unwrap_or_default(),
            None => &self.text,
        }
    }
}

/// The user's "custom instructions" as stored in the export.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CustomInstructions {
    /// "What would you like ChatGPT to know about you?"
    pub about_user: Option<String>,
    /// "How would you like ChatGPT to respond?"
    pub about_model: Option<String>,
}

/// A memory the assistant saved about the user (ChatGPT's `bio` tool).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryWrite {
    pub text: String,
    pub time: Option<DateTime<Utc>>,
}

/// One conversation, reduced to what extraction needs.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
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
