//! Claude's export format: `chat_messages` in order, `sender` human or
//! assistant, text in `content` blocks (older exports: `text`), pasted files
//! in `attachments[].extracted_content`. Newer exports link messages with
//! `parent_message_uuid`; edits and retries then form a tree whose canonical
//! branch ends at the newest message.

use super::model::{Conversation, Message, PASTED_END, PASTED_START, Role};
use super::raw::{ClaudeMessage, List, Object, RawConversation};
use super::seen::Seen;
use super::text::strip_markers;
use std::collections::HashMap;

const TEXT_BLOCK: &str = "text";

/// Reduces one Claude conversation to its canonical branch.
pub(crate) fn reduce(
    raw: RawConversation<'_>,
    chat_messages: List<Object<ClaudeMessage<'_>>>,
    index: u64,
    seen: &mut Seen,
) -> Conversation {
    let id = raw
        .uuid
        .0
        .or(raw.id.0)
        .filter(|id| !id.is_empty())
        .map(|id| id.into_owned())
        .unwrap_or_else(|| format!("conv-{index}"));
    let mut conversation = Conversation {
        id,
        title: raw.name.0.or(raw.title.0).map(|t| t.into_owned()),
        created: raw.created_at.0.or(raw.create_time.0),
        updated: raw.updated_at.0.or(raw.update_time.0),
        ..Conversation::default()
    };
    let messages: Vec<ClaudeMessage<'_>> =
        chat_messages.0.into_iter().filter_map(|m| m.0).collect();
    for i in canonical_branch(&messages) {
        if let Some(message) = messages.get(i) {
            take_message(message, &mut conversation, seen);
        }
    }
    conversation
}

/// Positions of the canonical branch, oldest first: the messages in file
/// order when they carry no parent links, else the branch from the root to
/// the newest leaf (ties to the later message in the file).
fn canonical_branch(messages: &[ClaudeMessage<'_>]) -> Vec<usize> {
    let position: HashMap<&str, usize> = messages
        .iter()
        .enumerate()
        .filter_map(|(i, m)| m.uuid.as_str().map(|id| (id, i)))
        .collect();
    let parent_of = |m: &ClaudeMessage<'_>| {
        m.parent_message_uuid
            .as_str()
            .and_then(|p| position.get(p).copied())
    };
    if !messages.iter().any(|m| parent_of(m).is_some()) {
        return (0..messages.len()).collect();
    }
    let mut has_child = vec![false; messages.len()];
    for message in messages {
        if let Some(flag) = parent_of(message).and_then(|p| has_child.get_mut(p)) {
            *flag = true;
        }
    }
    let leaf = messages
        .iter()
        .enumerate()
        .filter(|(i, _)| !has_child.get(*i).copied().unwrap_or(true))
        .max_by_key(|(i, m)| (m.created_at.0, *i))
        .map(|(i, _)| i);
    let mut visited = vec![false; messages.len()];
    let mut branch = Vec::new();
    let mut current = leaf;
    while let Some(i) = current {
        match visited.get_mut(i) {
            Some(seen @ false) => *seen = true,
            _ => break,
        }
        branch.push(i);
        current = messages.get(i).and_then(parent_of);
    }
    branch.reverse();
    branch
}

fn take_message(message: &ClaudeMessage<'_>, conversation: &mut Conversation, seen: &mut Seen) {
    let role = match message.sender.as_str() {
        Some("human") => Role::User,
        Some("assistant") => Role::Assistant,
        _ => return,
    };
    let mut text = String::new();
    for block in message.content.0.iter().filter_map(|b| b.0.as_ref()) {
        match block.kind.as_str() {
            Some(TEXT_BLOCK) | None => {
                if let Some(piece) = block.text.as_str().filter(|t| !t.is_empty()) {
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    text.push_str(piece);
                }
            }
            Some(other) => seen.skip(other),
        }
    }
    if text.is_empty()
        && let Some(fallback) = message.text.as_str()
    {
        text.push_str(fallback);
    }
    let mut text = strip_markers(&text).into_owned();
    for attachment in message.attachments.0.iter().filter_map(|a| a.0.as_ref()) {
        let Some(pasted) = attachment
            .extracted_content
            .as_str()
            .filter(|c| !c.trim().is_empty())
        else {
            continue;
        };
        text.push_str(PASTED_START);
        text.push_str(attachment.file_name.as_str().unwrap_or("pasted text"));
        text.push_str("]\n");
        text.push_str(pasted.trim_end());
        text.push_str(PASTED_END);
    }
    if text.trim().is_empty() {
        return;
    }
    conversation.messages.push(Message {
        role,
        text,
        time: message.created_at.0,
    });
}
