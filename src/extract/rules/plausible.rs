//! The plausibility check every single-valued finding passes before it is kept: a
//! job, an employer, a home or a name is a noun phrase, so a value holding a verb, a
//! question, a denial or a pronoun, or one cut off after a function word, is a
//! misread sentence ("Runs a good", "No cook", "Works at What"), not a fact.

/// Words no job, employer, home, name or relative's name is made of.
const NEVER_IN_A_VALUE: &[&str] = &[
    // Denials.
    "no",
    "not",
    "never",
    "nothing",
    "none",
    "nobody",
    "n't",
    // Questions.
    "what",
    "why",
    "how",
    "who",
    "whom",
    "whose",
    "which",
    "whether",
    "?",
    // Auxiliaries and the commonest verbs.
    "is",
    "are",
    "am",
    "was",
    "were",
    "be",
    "been",
    "being",
    "do",
    "does",
    "did",
    "can",
    "could",
    "would",
    "should",
    "shall",
    "might",
    "must",
    "have",
    "has",
    "had",
    "get",
    "gets",
    "got",
    "going",
    "think",
    "want",
    "need",
    "know",
    // Pronouns.
    "i",
    "me",
    "you",
    "he",
    "she",
    "it",
    "we",
    "they",
    "him",
    "them",
    "us",
    "myself",
    "yourself",
    "this",
    "that",
    "these",
    "those",
    "something",
    "anything",
    "someone",
];

/// Words a value cannot end with: what is left when a phrase is cut short.
const NEVER_LAST: &[&str] = &[
    "a", "an", "the", "of", "and", "or", "to", "for", "in", "at", "on", "with", "by", "from", "my",
    "our", "your", "his", "her", "their", "its", "good", "great", "very", "really", "so", "but",
    "as", "like", "some", "any", "more", "most",
];

/// The labels rules put before a value ("Works at Acme", "Sister: Ana"), which are
/// not part of what is checked.
const LABELS: &[&str] = &[
    "works at ",
    "lives in ",
    "studies at ",
    "studied at ",
    "name: ",
    "has ",
];

/// Whether `value`, a single-valued finding, reads as a value rather than a misread clause.
pub fn is_plausible(value: &str) -> bool {
    let mut rest = value;
    for label in LABELS {
        if rest
            .get(..label.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(label))
        {
            rest = &rest[label.len()..];
        }
    }
    // "Sister: Ana (teacher)": the label before the colon is the rule's own.
    if let Some((_, after)) = rest.split_once(": ") {
        rest = after;
    }
    if rest.contains('?') {
        return false;
    }
    // An acronym ("Fjordkart AS", "IT") is a name's part, not a function word.
    let words: Vec<String> = rest
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | '.'))
        .filter(|w| !w.is_empty())
        .filter(|w| !(w.chars().count() >= 2 && w.chars().all(char::is_uppercase)))
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        return !rest.trim().is_empty();
    }
    let last = words.last().map(String::as_str).unwrap_or_default();
    !NEVER_LAST.contains(&last) && !words.iter().any(|w| NEVER_IN_A_VALUE.contains(&w.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noun_phrases_pass() {
        for value in [
            "Pharmacist",
            "Works at Bank of Ireland",
            "Lives in Stoke-on-Trent",
            "Senior manager in indirect tax",
            "Sister: Ana (teacher)",
            "Head of sales",
            "Works at Fjellbyen AS",
        ] {
            assert!(is_plausible(value), "{value}");
        }
    }

    #[test]
    fn clauses_questions_denials_and_fragments_fail() {
        for value in [
            "No cook",
            "Runs a good",
            "Works at What",
            "Lives in a",
            "Teacher but",
            "Nurse?",
            "Something I want",
            "Lives in it",
            "Brother: He",
        ] {
            assert!(!is_plausible(value), "{value}");
        }
    }
}
