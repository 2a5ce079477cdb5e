//! Grounding: a fact is kept only when its key words are in the text that was sent
//! for the conversations it cites. Small models copy the prompt's examples or invent
//! plausible facts; a name, place, number or distinctive noun that the person never
//! wrote is the sign.
//!
//! The check is lexical, on purpose: every name and number of the statement must be
//! in the cited text (whole words, any case), and at least one of its other content
//! words must be there too (the same word, or the same stem: "hiking" and "hikes"
//! match). Words every statement uses ("lives", "works", "has", "in") say
//! nothing and are ignored.

use super::chunk::Chunk;
use std::collections::HashSet;

/// Shortest stem compared: shorter words must match whole.
const MIN_STEM_CHARS: usize = 3;

/// Function words and the verbs statements are built from: never evidence.
const IGNORED: &[&str] = &[
    "a",
    "about",
    "after",
    "again",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "been",
    "being",
    "born",
    "but",
    "by",
    "called",
    "can",
    "currently",
    "did",
    "do",
    "does",
    "doing",
    "each",
    "enjoys",
    "for",
    "from",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "hers",
    "him",
    "his",
    "i",
    "in",
    "into",
    "is",
    "it",
    "its",
    "likes",
    "lived",
    "lives",
    "living",
    "loves",
    "me",
    "more",
    "most",
    "my",
    "named",
    "near",
    "no",
    "not",
    "now",
    "of",
    "often",
    "on",
    "or",
    "other",
    "owns",
    "plans",
    "prefers",
    "she",
    "so",
    "some",
    "still",
    "than",
    "that",
    "the",
    "their",
    "them",
    "they",
    "this",
    "those",
    "to",
    "under",
    "up",
    "used",
    "uses",
    "very",
    "wants",
    "was",
    "were",
    "who",
    "will",
    "with",
    "worked",
    "working",
    "works",
    "would",
    "year",
    "years",
    "old",
    "person",
    "user",
];

/// The words of a text, lowercase, a trailing possessive `'s` dropped.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .map(|w| {
            let w = w.trim_matches(|c| c == '\'' || c == '’');
            let w = w
                .strip_suffix("'s")
                .or_else(|| w.strip_suffix("’s"))
                .unwrap_or(w);
            w.to_lowercase()
        })
        .filter(|w| !w.is_empty())
}

/// A word without its common English endings: "hiking", "hikes" and "hike" give "hik".
fn stem(word: &str) -> Option<String> {
    const ENDINGS: [&str; 7] = ["ing", "ies", "es", "ed", "er", "s", "e"];
    let cut = ENDINGS
        .iter()
        .filter_map(|ending| word.strip_suffix(ending))
        .find(|rest| rest.chars().count() >= MIN_STEM_CHARS)
        .unwrap_or(word);
    (cut.chars().count() >= MIN_STEM_CHARS).then(|| cut.to_owned())
}

/// The words of one conversation's text in a chunk.
#[derive(Debug, Default)]
struct Evidence {
    words: HashSet<String>,
    stems: HashSet<String>,
}

impl Evidence {
    fn add(&mut self, text: &str) {
        for word in words(text) {
            if let Some(stem) = stem(&word) {
                self.stems.insert(stem);
            }
            self.words.insert(word);
        }
    }
}

/// What a statement must find in the cited text.
struct KeyWords {
    /// Names, places, numbers: each must be there.
    exact: Vec<String>,
    /// Other content words: one of them must be there.
    content: Vec<String>,
}

fn key_words(statement: &str) -> KeyWords {
    let mut exact = Vec::new();
    let mut content = Vec::new();
    let raw: Vec<&str> = statement
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .filter(|w| !w.trim_matches(|c| c == '\'' || c == '’').is_empty())
        .collect();
    for (i, token) in raw.iter().enumerate() {
        let Some(word) = words(token).next() else {
            continue;
        };
        if IGNORED.contains(&word.as_str()) {
            continue;
        }
        // The first word is capitalised as the start of the phrase, not as a name.
        let capitalised = i > 0 && token.chars().next().is_some_and(char::is_uppercase);
        if capitalised || word.chars().any(|c| c.is_ascii_digit()) {
            exact.push(word);
        } else if word.chars().count() >= 3 {
            content.push(word);
        }
    }
    KeyWords { exact, content }
}

/// The text the model was shown for each conversation of a chunk, as words.
pub(crate) struct Grounding {
    conversations: Vec<Evidence>,
}

impl Grounding {
    /// Reads the chunk's sections: a `## cN | ...` header starts conversation N. Only
    /// the person's own lines count: the assistant's context is not theirs, and the
    /// title is not what they wrote.
    pub(crate) fn new(chunk: &Chunk) -> Grounding {
        let mut conversations: Vec<Evidence> = Vec::new();
        conversations.resize_with(chunk.conversations.len(), Evidence::default);
        let mut current: Option<usize> = None;
        for line in chunk.text.lines() {
            if let Some(header) = line.strip_prefix("## ") {
                let label = header.split(" | ").next().unwrap_or("");
                current = chunk.position(label);
                continue;
            }
            if line.starts_with("[assistant") {
                continue;
            }
            let own = ["[user] ", "[about me] ", "[saved memory] "]
                .iter()
                .find_map(|tag| line.strip_prefix(tag))
                .unwrap_or(line);
            if let Some(evidence) = current.and_then(|i| conversations.get_mut(i)) {
                evidence.add(own);
            }
        }
        Grounding { conversations }
    }

    /// Whether the conversations at `positions` (together) hold `statement`'s key words.
    pub(crate) fn supports(&self, positions: &[usize], statement: &str) -> bool {
        let cited: Vec<&Evidence> = positions
            .iter()
            .filter_map(|&i| self.conversations.get(i))
            .collect();
        if cited.is_empty() {
            return false;
        }
        let has_word = |w: &str| cited.iter().any(|e| e.words.contains(w));
        let has_stem = |w: &str| {
            has_word(w) || stem(w).is_some_and(|s| cited.iter().any(|e| e.stems.contains(&s)))
        };
        let keys = key_words(statement);
        keys.exact.iter().all(|w| has_word(w))
            && (keys.content.is_empty() || keys.content.iter().any(|w| has_stem(w)))
            && !(keys.exact.is_empty() && keys.content.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::chunk::ChunkConversation;

    fn chunk(text: &str, conversations: usize) -> Chunk {
        Chunk {
            index: 0,
            text: text.to_owned(),
            conversations: (0..conversations)
                .map(|i| ChunkConversation {
                    id: format!("conv-{i}"),
                    first: None,
                    last: None,
                })
                .collect(),
        }
    }

    const TEXT: &str = "\
## c1 | 2024-01-02 | Dogs and diets
[assistant, cut] Would a vegetarian diet suit your dog Max?
[user] We adopted a beagle, Rex, last year. I'm a nurse at St Mary's hospital.
  I love hiking and I'm 34.
## c2 | 2024-01-03 | Moving
[user] I moved to Lisbon in March.
";

    #[test]
    fn names_numbers_and_a_content_word_must_be_in_the_cited_text() {
        let g = Grounding::new(&chunk(TEXT, 2));
        assert!(g.supports(&[0], "Has a beagle named Rex"));
        assert!(g.supports(&[0], "Works as a nurse at St. Mary's Hospital"));
        assert!(g.supports(&[0], "Enjoys hikes"));
        assert!(g.supports(&[0], "Is 34 years old"));
        assert!(g.supports(&[1], "Lives in Lisbon"));
        // The prompt's old examples, and the assistant's words, are not the person's.
        assert!(!g.supports(&[0], "Has a dog named Max"));
        assert!(!g.supports(&[0], "Is vegetarian"));
        // Another conversation's text does not count, nor does a title.
        assert!(!g.supports(&[0], "Lives in Lisbon"));
        assert!(!g.supports(&[1], "Has a beagle named Rex"));
        assert!(!g.supports(&[0], "Follows diets"));
        assert!(!g.supports(&[0], "Is 35 years old"));
        // Cited together, two conversations ground a fact each half of them holds.
        assert!(g.supports(&[0, 1], "Works as a nurse in Lisbon"));
        assert!(!g.supports(&[], "Lives in Lisbon"));
        assert!(!g.supports(&[0], "Is a"));
    }
}
