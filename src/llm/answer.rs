//! Checking what the model answered against the schemas: a bad fact is dropped and
//! counted, never the whole chunk; an answer with no usable list fails its request.

use super::api::{Answer, Reply};
use super::chunk::Chunk;
use super::grounding::Grounding;
use super::reduce::merge_repeats;
use super::repair::extract_json;
use super::rules::ExtractRules;
use crate::extract::{Category, Fact, MAX_CONVERSATION_IDS, Source};
use serde_json::Value;

/// Longest statement accepted: longer ones are text dumps, not facts.
const MAX_STATEMENT_CHARS: usize = 300;
const MAX_SLOT_CHARS: usize = 40;

/// The facts of one map answer, and what validation dropped.
#[derive(Debug, Default)]
pub(crate) struct ChunkFacts {
    pub facts: Vec<Fact>,
    pub invalid: u64,
    pub with_secrets: u64,
    /// Facts whose key words are not in the text of the conversations they cite.
    pub ungrounded: u64,
}

/// The JSON of an answer, from a tool call or from text.
fn answer_json(reply: &Reply) -> Result<Value, String> {
    match &reply.answer {
        Answer::Json(value) => Ok(value.clone()),
        Answer::Text(text) => extract_json(text).ok_or_else(|| match reply.truncated {
            true => "the answer was cut off before any complete JSON".to_owned(),
            false => "the answer holds no JSON".to_owned(),
        }),
    }
}

/// The list under `key`, or a bare list (some models drop the wrapping object).
fn list<'a>(value: &'a Value, key: &str) -> Option<&'a Vec<Value>> {
    match value {
        Value::Array(items) => Some(items),
        Value::Object(map) => match map.get(key) {
            Some(Value::Array(items)) => Some(items),
            _ => None,
        },
        _ => None,
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A slot key: lowercase letters, digits and `_`.
fn normalise_slot(slot: &str) -> Option<String> {
    let mut key = String::new();
    for c in slot.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            key.push(c);
        } else if !key.ends_with('_') {
            key.push('_');
        }
    }
    let key = key.trim_matches('_');
    (!key.is_empty() && key.chars().count() <= MAX_SLOT_CHARS).then(|| key.to_owned())
}

/// Facts from a map answer, with conversation ids and dates filled in from the chunk's labels.
pub(crate) fn chunk_facts(
    reply: &Reply,
    chunk: &Chunk,
    rules: &dyn ExtractRules,
) -> Result<ChunkFacts, String> {
    let value = answer_json(reply)?;
    let items = list(&value, "facts").ok_or("the answer has no \"facts\" list")?;
    let grounding = Grounding::new(chunk);
    let mut out = ChunkFacts::default();
    for item in items {
        match fact_from_item(item, chunk, &grounding) {
            Cited::Fact { fact, grounded } => {
                let secret = rules.contains_secret(&fact.value)
                    || fact
                        .slot
                        .as_deref()
                        .is_some_and(|s| rules.contains_secret(s));
                if secret {
                    out.with_secrets += 1;
                } else if !grounded {
                    out.ungrounded += 1;
                } else {
                    out.facts.push(fact);
                }
            }
            Cited::Invalid => out.invalid += 1,
        }
    }
    // A model may repeat a fact: once per conversation is one mention, not one per copy.
    out.facts = merge_repeats(out.facts);
    Ok(out)
}

/// One item of a map answer, checked.
enum Cited {
    /// `grounded`: its key words are in the text of the conversations it cites.
    Fact {
        fact: Fact,
        grounded: bool,
    },
    Invalid,
}

fn fact_from_item(item: &Value, chunk: &Chunk, grounding: &Grounding) -> Cited {
    let category = item
        .get("category")
        .and_then(Value::as_str)
        .and_then(|c| Category::from_name(c.trim().to_ascii_lowercase().as_str()));
    let statement = item.get("statement").and_then(Value::as_str).map(one_line);
    let (Some(category), Some(statement)) = (category, statement) else {
        return Cited::Invalid;
    };
    if statement.is_empty() || statement.chars().count() > MAX_STATEMENT_CHARS {
        return Cited::Invalid;
    }
    let slot = item
        .get("slot")
        .and_then(Value::as_str)
        .and_then(normalise_slot);
    let labels: Vec<&str> = match item.get("conversations") {
        Some(Value::Array(labels)) => labels.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(label)) => vec![label.as_str()],
        _ => Vec::new(),
    };
    let mut positions: Vec<usize> = Vec::new();
    for position in labels.iter().filter_map(|l| chunk.position(l)) {
        if !positions.contains(&position) {
            positions.push(position);
        }
    }
    if positions.is_empty() {
        return Cited::Invalid;
    }
    // Citations whose own text holds the fact; if none does alone, all of them together.
    let holding: Vec<usize> = positions
        .iter()
        .copied()
        .filter(|&p| grounding.supports(&[p], &statement))
        .collect();
    let grounded = !holding.is_empty() || grounding.supports(&positions, &statement);
    let positions = if holding.is_empty() {
        positions
    } else {
        holding
    };
    let mut conversations: Vec<String> = Vec::new();
    let mut first_seen = None;
    let mut last_seen = None;
    for cited in positions.iter().filter_map(|&p| chunk.conversations.get(p)) {
        if !conversations.contains(&cited.id) {
            conversations.push(cited.id.clone());
        }
        first_seen = earliest(first_seen, cited.first);
        last_seen = latest(last_seen, cited.last);
    }
    let ended = item.get("ended").and_then(Value::as_bool).unwrap_or(false);
    let mentions = u32::try_from(conversations.len()).unwrap_or(u32::MAX);
    conversations.truncate(MAX_CONVERSATION_IDS);
    let fact = Fact {
        category,
        slot,
        value: statement,
        first_seen,
        last_seen,
        mentions,
        conversations,
        source: Source::Llm,
        previously: Vec::new(),
        ended,
    };
    Cited::Fact { fact, grounded }
}

pub(crate) fn earliest<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

pub(crate) fn latest<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// What the reduce step may do with a fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Same meaning as the target: folded into it.
    Merge,
    /// An older value the target replaced: kept as the target's past value.
    Supersede,
    /// Not a durable fact about the user.
    Drop,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decision {
    pub id: String,
    pub action: Action,
    pub target: Option<String>,
}

/// Decisions from a reduce answer; malformed ones are skipped (their facts stay as they are).
pub(crate) fn decisions(reply: &Reply) -> Result<Vec<Decision>, String> {
    let value = answer_json(reply)?;
    let items = list(&value, "decisions").ok_or("the answer has no \"decisions\" list")?;
    Ok(items
        .iter()
        .filter_map(|item| {
            let id = item.get("id").and_then(Value::as_str)?.trim().to_owned();
            let action = match item.get("action").and_then(Value::as_str)?.trim() {
                "merge" => Action::Merge,
                "supersede" => Action::Supersede,
                "drop" => Action::Drop,
                _ => return None,
            };
            let target = item
                .get("target")
                .and_then(Value::as_str)
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty());
            Some(Decision { id, action, target })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::chunk::ChunkConversation;
    use chrono::NaiveDate;
    use serde_json::json;

    struct NoSecrets;

    impl ExtractRules for NoSecrets {
        fn redact(&self, text: &str) -> String {
            text.to_owned()
        }
        fn contains_secret(&self, text: &str) -> bool {
            text.contains("sk-")
        }
        fn consolidate(&self, candidates: Vec<Fact>) -> Vec<Fact> {
            candidates
        }
    }

    fn date(d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2024, 5, d)
    }

    fn chunk() -> Chunk {
        Chunk {
            index: 0,
            text: "## c1 | 2024-05-01 | Pets\n[user] I have a cat and I live in Porto. \
                   I'm a welder; my key is sk-abc123\n## c2 | 2024-05-03 | Food\n\
                   [user] Porto again. I used to be vegan.\n"
                .to_owned(),
            conversations: vec![
                ChunkConversation {
                    id: "conv-a".to_owned(),
                    first: date(1),
                    last: date(1),
                },
                ChunkConversation {
                    id: "conv-b".to_owned(),
                    first: date(3),
                    last: date(4),
                },
            ],
        }
    }

    fn text(s: &str) -> Reply {
        Reply {
            answer: Answer::Text(s.to_owned()),
            truncated: false,
            input_tokens: 0,
            output_tokens: 0,
        }
    }

    #[test]
    fn facts_get_ids_and_dates_from_labels() {
        let reply = Reply {
            answer: Answer::Json(json!({"facts": [
                {"category": "location", "slot": "Home City", "statement": " Lives in\nPorto ", "conversations": ["c2", "c1", "c2"]},
                {"category": "pets", "slot": null, "statement": "Has a cat", "conversations": "c1"},
                {"category": "health", "slot": "diet", "statement": "Is vegan", "conversations": ["c2"], "ended": true},
            ]})),
            truncated: false,
            input_tokens: 0,
            output_tokens: 0,
        };
        let out = chunk_facts(&reply, &chunk(), &NoSecrets).unwrap();
        assert_eq!((out.invalid, out.with_secrets), (0, 0));
        let home = &out.facts[0];
        assert_eq!(home.category, Category::Location);
        assert_eq!(home.slot.as_deref(), Some("home_city"));
        assert_eq!(home.value, "Lives in Porto");
        assert_eq!(home.conversations, ["conv-b", "conv-a"]);
        assert_eq!(home.mentions, 2);
        assert_eq!((home.first_seen, home.last_seen), (date(1), date(4)));
        assert_eq!(home.source, Source::Llm);
        assert_eq!(out.facts[1].slot, None);
        assert!(!home.ended && !out.facts[1].ended);
        assert!(out.facts[2].ended);
    }

    #[test]
    fn bad_facts_are_dropped_not_the_chunk() {
        let reply = text(
            r#"```json
{"facts": [
 {"category": "zodiac", "slot": null, "statement": "Is a Leo", "conversations": ["c1"]},
 {"category": "work", "slot": "job", "statement": "", "conversations": ["c1"]},
 {"category": "work", "slot": "job", "statement": "Is a welder", "conversations": ["c9"]},
 {"category": "work", "slot": "api_key", "statement": "Uses key sk-abc123", "conversations": ["c1"]},
 {"category": "Work", "slot": "job", "statement": "Is a welder", "conversations": ["C1"]}
]}
```"#,
        );
        let out = chunk_facts(&reply, &chunk(), &NoSecrets).unwrap();
        assert_eq!(out.invalid, 3);
        assert_eq!(out.with_secrets, 1);
        assert_eq!(out.facts.len(), 1);
        assert_eq!(out.facts[0].value, "Is a welder");
    }

    #[test]
    fn repeated_and_ungrounded_facts() {
        let welder = json!({"category": "work", "slot": "job", "statement": "Is a welder", "conversations": ["c1"]});
        let reply = Reply {
            answer: Answer::Json(json!({"facts": [
                welder, welder, welder,
                {"category": "work", "slot": "job", "statement": "Is a welder.", "conversations": ["c1", "c2"]},
                {"category": "pets", "slot": null, "statement": "Has a dog named Max", "conversations": ["c1"]},
                {"category": "health", "slot": "diet", "statement": "Is vegetarian", "conversations": ["c1", "c2"]},
                {"category": "location", "slot": "home", "statement": "Lives in Porto", "conversations": ["c1", "c2"]},
            ]})),
            truncated: false,
            input_tokens: 0,
            output_tokens: 0,
        };
        let out = chunk_facts(&reply, &chunk(), &NoSecrets).unwrap();
        assert_eq!((out.invalid, out.ungrounded), (0, 2));
        let values: Vec<&str> = out.facts.iter().map(|f| f.value.as_str()).collect();
        assert_eq!(values, ["Is a welder", "Lives in Porto"]);
        // Four copies, one conversation: c2 was cited but does not say it.
        assert_eq!(out.facts[0].mentions, 1);
        assert_eq!(out.facts[0].conversations, ["conv-a"]);
        assert_eq!(out.facts[1].mentions, 2);
    }

    #[test]
    fn answers_without_a_list_fail() {
        assert!(chunk_facts(&text("I can't help with that."), &chunk(), &NoSecrets).is_err());
        assert!(chunk_facts(&text(r#"{"facts": 3}"#), &chunk(), &NoSecrets).is_err());
        let bare = text(
            r#"[{"category":"pets","slot":null,"statement":"Has a cat","conversations":["c1"]}]"#,
        );
        assert_eq!(
            chunk_facts(&bare, &chunk(), &NoSecrets)
                .unwrap()
                .facts
                .len(),
            1
        );
    }

    #[test]
    fn reduce_decisions() {
        let reply = text(
            r#"{"decisions":[{"id":"f1","action":"merge","target":"f2"},{"id":"f3","action":"drop","target":null},{"id":"f4","action":"rewrite","target":"x"},{"action":"drop"}]}"#,
        );
        assert_eq!(
            decisions(&reply).unwrap(),
            vec![
                Decision {
                    id: "f1".to_owned(),
                    action: Action::Merge,
                    target: Some("f2".to_owned())
                },
                Decision {
                    id: "f3".to_owned(),
                    action: Action::Drop,
                    target: None
                },
            ]
        );
    }
}
