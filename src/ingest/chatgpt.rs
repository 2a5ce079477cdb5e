//! ChatGPT's export format: each conversation is a tree of nodes (`mapping`);
//! editing a message or regenerating an answer starts a new branch, and
//! `current_node` names the leaf of the branch the user last saw. Only that
//! branch is the conversation; the abandoned ones are ignored.

use super::model::{Conversation, CustomInstructions, MemoryWrite, Message, Role};
use super::raw::{Content, Mapping, Part, RawConversation, RawMessage, RawNode};
use super::seen::Seen;
use super::text::{non_empty, parse_memory_context, strip_markers, unwrap_instructions};
use std::borrow::Cow;
use std::collections::HashMap;

/// Content types whose text is the message's text.
const TEXT: &str = "text";
const MULTIMODAL_TEXT: &str = "multimodal_text";
/// Code the assistant showed (rare: code is normally sent to a tool).
const CODE: &str = "code";
/// Custom instructions, as a hidden message at the start of a conversation.
const USER_EDITABLE_CONTEXT: &str = "user_editable_context";
/// The user's saved memories, as a hidden message at the start of a conversation.
const MODEL_EDITABLE_CONTEXT: &str = "model_editable_context";
/// A voice-mode part: what the user said (or the voice answer), transcribed.
const AUDIO_TRANSCRIPTION: &str = "audio_transcription";
/// The recipient of a visible message; anything else is a tool call.
const EVERYONE: &str = "all";
/// The memory tool: what the assistant sends it is a memory about the user.
const MEMORY_TOOL: &str = "bio";
/// Channel of an assistant's visible answer; other channels are its reasoning.
const FINAL_CHANNEL: &str = "final";

/// Reduces one ChatGPT conversation to its canonical branch.
pub(crate) fn reduce(
    raw: RawConversation<'_>,
    mapping: Mapping<'_>,
    index: u64,
    seen: &mut Seen,
) -> Conversation {
    let id = raw
        .conversation_id
        .0
        .or(raw.id.0)
        .filter(|id| !id.is_empty())
        .map(|id| id.into_owned())
        .unwrap_or_else(|| format!("conv-{index}"));
    let mut conversation = Conversation {
        id,
        title: raw.title.0.map(|t| t.into_owned()),
        created: raw.create_time.0,
        updated: raw.update_time.0,
        ..Conversation::default()
    };
    let nodes = mapping.0;
    let position: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (id.as_ref(), i))
        .collect();
    let leaf = raw
        .current_node
        .as_str()
        .and_then(|id| position.get(id).copied())
        .or_else(|| newest_leaf(&nodes, &position));
    for i in branch_to(leaf, &nodes, &position) {
        if let Some(message) = nodes.get(i).and_then(|(_, node)| node.message.0.as_ref()) {
            take_message(message, &mut conversation, seen);
        }
    }
    conversation
}

/// The leaf with the newest message, for a conversation whose `current_node`
/// is missing or names no node. Ties go to the later node in the file.
fn newest_leaf(
    nodes: &[(Cow<'_, str>, RawNode<'_>)],
    position: &HashMap<&str, usize>,
) -> Option<usize> {
    let mut has_child = vec![false; nodes.len()];
    for (_, node) in nodes {
        if let Some(parent) = node.parent.as_str().and_then(|p| position.get(p))
            && let Some(flag) = has_child.get_mut(*parent)
        {
            *flag = true;
        }
    }
    nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| !has_child.get(*i).copied().unwrap_or(true))
        .max_by_key(|(i, (_, node))| {
            let time = node.message.0.as_ref().and_then(|m| m.create_time.0);
            (time, *i)
        })
        .map(|(i, _)| i)
}

/// Node positions from the root down to `leaf`, following `parent` links
/// (iteratively: reply chains can be very long). A link to an unknown node
/// ends the walk; so does a cycle.
fn branch_to(
    leaf: Option<usize>,
    nodes: &[(Cow<'_, str>, RawNode<'_>)],
    position: &HashMap<&str, usize>,
) -> Vec<usize> {
    let mut visited = vec![false; nodes.len()];
    let mut branch = Vec::new();
    let mut current = leaf;
    while let Some(i) = current {
        match visited.get_mut(i) {
            Some(seen @ false) => *seen = true,
            _ => break,
        }
        branch.push(i);
        current = nodes
            .get(i)
            .and_then(|(_, node)| node.parent.as_str())
            .and_then(|parent| position.get(parent).copied());
    }
    branch.reverse();
    branch
}

/// Adds what one message of the canonical branch contributes: visible text,
/// custom instructions or saved memories.
fn take_message(message: &RawMessage<'_>, conversation: &mut Conversation, seen: &mut Seen) {
    let role = message
        .author
        .0
        .as_ref()
        .and_then(|a| a.role.as_str())
        .unwrap_or_default();
    let metadata = message.metadata.0.as_ref();
    let content = message.content.0.as_ref();
    let content_type = content
        .and_then(|c| c.content_type.as_str())
        .unwrap_or(TEXT);

    if let Some(context) = metadata.and_then(|m| m.user_context_message_data.0.as_ref()) {
        set_instructions(
            conversation,
            context.about_user_message.as_str().and_then(non_empty),
            context.about_model_message.as_str().and_then(non_empty),
        );
    }
    if content_type == USER_EDITABLE_CONTEXT {
        if let Some(content) = content
            && conversation.custom_instructions.is_none()
        {
            set_instructions(
                conversation,
                content.user_profile.as_str().and_then(unwrap_instructions),
                content
                    .user_instructions
                    .as_str()
                    .and_then(unwrap_instructions),
            );
        }
        return;
    }
    if content_type == MODEL_EDITABLE_CONTEXT {
        if let Some(listing) = content.and_then(|c| c.model_set_context.as_str()) {
            for entry in parse_memory_context(listing) {
                let date = entry.date.map(|d| d.timestamp());
                if seen.first_memory_context(&entry.text, date) {
                    conversation.memory_writes.push(MemoryWrite {
                        text: entry.text,
                        time: entry.date,
                    });
                }
            }
        }
        return;
    }
    if metadata.is_some_and(|m| m.is_user_system_message.0) {
        return;
    }

    let recipient = message.recipient.as_str().unwrap_or(EVERYONE);
    if role == "assistant" && is_memory_tool(recipient) {
        if let Some(text) = content.and_then(|c| joined_text(c, seen))
            && let Some(text) = non_empty(&strip_markers(&text))
        {
            conversation.memory_writes.push(MemoryWrite {
                text,
                time: message.create_time.0,
            });
        }
        return;
    }

    let role = match role {
        "user" => Role::User,
        "assistant" => Role::Assistant,
        _ => {
            skip_unless_text(content_type, seen);
            return;
        }
    };
    let hidden = metadata.is_some_and(|m| m.is_visually_hidden_from_conversation.0);
    let to_tool = recipient != EVERYONE;
    let reasoning = role == Role::Assistant
        && message
            .channel
            .as_str()
            .is_some_and(|channel| channel != FINAL_CHANNEL);
    if hidden || to_tool || reasoning {
        skip_unless_text(content_type, seen);
        return;
    }
    let text = match content_type {
        TEXT | MULTIMODAL_TEXT => content.and_then(|c| joined_text(c, seen)),
        CODE => content.and_then(|c| c.text.as_str()).map(Cow::Borrowed),
        other => {
            seen.skip(other);
            None
        }
    };
    let Some(text) = text else { return };
    let text = strip_markers(&text);
    if text.trim().is_empty() {
        return;
    }
    conversation.messages.push(Message {
        role,
        text: text.into_owned(),
        time: message.create_time.0,
    });
}

fn is_memory_tool(recipient: &str) -> bool {
    recipient == MEMORY_TOOL
        || recipient
            .strip_prefix(MEMORY_TOOL)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// Counts a skipped message's content type unless it is plain text (a hidden
/// system prompt, a tool's text reply), which is not a content type we lack.
fn skip_unless_text(content_type: &str, seen: &mut Seen) {
    if content_type != TEXT {
        seen.skip(content_type);
    }
}

/// The text parts of a message joined by newlines: strings, and voice
/// transcriptions; images and other media are counted as skipped. Falls back
/// to `content.text` for content types that have no parts. Borrows when there
/// is a single piece, the common case.
fn joined_text<'c>(content: &'c Content<'_>, seen: &mut Seen) -> Option<Cow<'c, str>> {
    let mut joined: Option<Cow<'c, str>> = None;
    for part in &content.parts.0 {
        let piece = match part {
            Part::Text(s) => Some(s.as_ref()),
            Part::Object {
                content_type,
                text: transcription,
            } => match content_type.as_deref() {
                Some(AUDIO_TRANSCRIPTION) => transcription.as_deref(),
                other => {
                    seen.skip(other.unwrap_or_default());
                    None
                }
            },
            Part::Other => None,
        };
        let Some(piece) = piece.filter(|p| !p.is_empty()) else {
            continue;
        };
        joined = Some(match joined {
            None => Cow::Borrowed(piece),
            Some(before) => {
                let mut text = before.into_owned();
                text.push('\n');
                text.push_str(piece);
                Cow::Owned(text)
            }
        });
    }
    joined.or_else(|| content.text.as_str().map(Cow::Borrowed))
}

fn set_instructions(
    conversation: &mut Conversation,
    about_user: Option<String>,
    about_model: Option<String>,
) {
    if about_user.is_none() && about_model.is_none() {
        return;
    }
    conversation.custom_instructions = Some(CustomInstructions {
        about_user,
        about_model,
    });
}
