//! What the model is told: the instructions (the same categories and guards as the
//! built-in extractor) and the JSON schemas its answers must follow.

use crate::extract::Category;
use serde_json::{Value, json};

/// Changes whenever a prompt or schema changes, so old checkpoints are not reused.
pub const PROMPT_VERSION: &str = "fullpass-llm-3";

/// The forced tool (Anthropic) / schema name (OpenAI) of a map answer.
pub const MAP_TOOL: &str = "record_facts";
/// The forced tool / schema name of a reduce answer.
pub const REDUCE_TOOL: &str = "review_facts";

pub const MAP_INSTRUCTIONS: &str = "\
You read excerpts of one person's chats with an AI assistant and record durable facts \
that the person states about themselves, for a long-term memory profile.

The input is a list of conversations. Each starts with a header `## c<N> | <date> | <title>`; \
c<N> is its label. Lines starting [user] are the person's own words. [about me] is profile \
text the person wrote about themselves and [saved memory] is a note the assistant saved about \
them earlier: both count as the person's statements. Lines starting [assistant, cut] are a few \
words of the assistant's reply, given only so you understand what the person answers: never \
take a fact from them.

Categories:
- identity: name, age, gender, pronouns, nationality, religion
- location: where they live (city, region, country), where they moved from
- work: occupation, employer, role, field, studies, school, degrees
- family: partner, children, parents, siblings, close friends (as relationships, with names)
- pets: their animals, with species and names
- health: lasting conditions, allergies, diet, medication, disabilities
- languages: languages they speak, their native language, languages they are learning
- interests: hobbies, sports, music, games, things they do for fun
- projects: things they are building, writing or running over time
- preferences: lasting likes and dislikes, and how they want the assistant to answer
- goals: lasting aims and plans for their own life or career

Record a fact only when the person says it is true of themselves, now or for the long term. \
Do NOT record:
- hypotheticals, questions and wishes (\"what if I moved to Spain\", \"should I become a nurse?\")
- fiction, stories, role-play, characters, game worlds, writing prompts
- text the person asks to translate, rewrite, proofread, summarise or draft for someone else \
(emails, letters, essays, posts, templates): it is not about them
- other people's traits, jobs, opinions or health; keep another person only as the person's \
relationship (\"Has a daughter, Mia\")
- passing states: moods, being tired or ill today, this week's errands, one-off tasks
- anything the assistant said, suggested or assumed
- secrets: passwords, API keys, tokens, account, card or ID numbers; never copy them
- general knowledge or task content that says nothing about who the person is

statement: a short third-person phrase in English without the subject, one fact each, \
names, places and numbers copied exactly as the person wrote them. Forms (fill in the \
person's own words, never these placeholders): \"Lives in <city>\", \"Works as a <job> at \
<employer>\", \"Has a <animal> named <name>\", \"Is <diet>\", \"Prefers <how to answer>\". \
Every fact must come from the conversations below; if they hold none, return an empty list.
slot: for a fact with one current value, a short key so that a newer value replaces an older \
one: name, age, home, employer, job, school, partner, diet, ... Use null for facts that \
accumulate (hobbies, pets, languages, children, friends).
conversations: the labels (\"c2\") of the conversations where the person states it.
ended: true when the person says the fact stopped being true (\"I'm not vegan anymore\", \"I left \
Acme\"): state the fact itself (\"Is vegan\", \"Works at Acme\") with ended true. Otherwise false.

Return every qualifying fact; if there is none, return an empty list.";

pub const REDUCE_INSTRUCTIONS: &str = "\
You review facts about one person, extracted from many of their chats by different readers, \
so some say the same thing in other words and some are outdated. Each fact has an id, \
category, slot (its single-valued key, or null), statement, first and last date seen, and \
how many conversations mention it.

Answer only with decisions about ids. Facts you do not mention are kept as they are; do not \
list them.
- merge: the fact says the same as the target fact (same meaning in other words, or less \
detail). The target keeps its wording, so choose the clearest, most complete fact as target.
- supersede: the fact is an older value that the target replaced (moved home, changed job, \
new partner, changed diet). The target must be the newer one (later last_seen).
- drop: the fact is not a durable fact about the person (a hypothetical, fiction, someone \
else's trait, a passing state, a suggestion by the assistant, a secret).
Targets are ids from the list; use null as the target of a drop. Do not merge facts that \
only share a topic (two different hobbies stay two facts).";

/// The map answer: `{"facts": [{category, slot, statement, conversations, ended}]}`.
pub fn map_schema() -> Value {
    let categories: Vec<&str> = Category::ALL.iter().map(|c| c.name()).collect();
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["facts"],
        "properties": {
            "facts": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    // In this order on the wire: a model writes the statement first, then
                    // classifies it and cites where it was said.
                    "required": ["statement", "category", "slot", "conversations", "ended"],
                    "properties": {
                        "statement": {"type": "string"},
                        "category": {"type": "string", "enum": categories},
                        "slot": {"type": ["string", "null"]},
                        "conversations": {"type": "array", "items": {"type": "string"}},
                        "ended": {"type": "boolean"}
                    }
                }
            }
        }
    })
}

/// The reduce answer: `{"decisions": [{id, action, target}]}`.
pub fn reduce_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["decisions"],
        "properties": {
            "decisions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["id", "action", "target"],
                    "properties": {
                        "id": {"type": "string"},
                        "action": {"type": "string", "enum": ["merge", "supersede", "drop"]},
                        "target": {"type": ["string", "null"]}
                    }
                }
            }
        }
    })
}

/// The user message of a map request.
pub fn map_input(chunk_text: &str) -> String {
    format!("Conversations:\n\n{chunk_text}")
}
