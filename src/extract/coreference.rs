//! A two-sentence coreference step: "My brother turns 40 next month. His name is
//! Tomasz." names the brother. The person or animal the previous sentence introduced
//! as the user's is carried to the next one, and a sentence that only names them
//! ("her name is…", "it's called…") is read as "my brother is called Tomasz".

use super::lexicon::{PETS, RELATIONS};
use super::text::Sentence;

/// Words before a relation or pet that make it the user's ("my", "our", "we
/// adopted a…"), looked for up to three tokens back.
const OWNING: &[&str] = &["my", "our", "adopted", "rescued", "got", "have"];

/// The last relative or pet `s` introduces as the user's, as the word naming it
/// ("brother", "greyhound").
pub fn antecedent(s: &Sentence) -> Option<String> {
    (0..s.len()).rev().find_map(|k| {
        let word = s.lower(k);
        let known =
            RELATIONS.iter().any(|(r, _, _)| *r == word) || PETS.iter().any(|(p, _)| *p == word);
        let owned = (k.saturating_sub(3)..k).any(|j| OWNING.contains(&s.lower(j)));
        (known && owned).then(|| word.to_owned())
    })
}

/// Openers before the pronoun: "oh and her name is…".
const OPENERS: &[&str] = &["and", "oh", "so", "btw", "also", "well", ",", "-"];

/// `text` rewritten about `antecedent` when all it does is name it: "Her name is
/// Iryna and she is a nurse" → "my sister is called Iryna and she is a nurse".
/// `None` for any other sentence.
pub fn resolved(text: &str, antecedent: &str) -> Option<String> {
    // Most sentences name nobody: decided without parsing them.
    let lower = text.to_ascii_lowercase();
    if !(lower.contains("name") || lower.contains("called")) {
        return None;
    }
    let s = Sentence::parse(text);
    let first = (0..s.len()).find(|&i| !OPENERS.contains(&s.lower(i)))?;
    let w = |k: usize| s.lower(first + k);
    let name_at = match (w(0), w(1), w(2), w(3)) {
        ("his" | "her" | "their" | "its", "name", "is" | "'s", _) => 3,
        ("he" | "she" | "it" | "they", "is" | "'s" | "are", "called" | "named", _) => 3,
        ("he" | "she" | "it" | "they", "goes", "by", _) => 3,
        _ => return None,
    };
    let rest = s.span_text(first + name_at, s.len());
    (!rest.is_empty()).then(|| format!("my {antecedent} is called {rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn carried(previous: &str, next: &str) -> Option<String> {
        resolved(next, &antecedent(&Sentence::parse(previous))?)
    }

    #[test]
    fn a_name_in_the_next_sentence_names_the_relative() {
        assert_eq!(
            carried("My uncle is visiting from Lviv.", "His name is Bohdan."),
            Some("my uncle is called Bohdan.".to_owned())
        );
        assert_eq!(
            carried("we got a kitten last week", "she's called miso"),
            Some("my kitten is called miso".to_owned())
        );
        assert_eq!(
            carried("Our dog hates the rain.", "Oh and it's called Rolo"),
            Some("my dog is called Rolo".to_owned())
        );
    }

    #[test]
    fn nothing_is_carried_without_an_owned_antecedent_or_a_naming_sentence() {
        // Nobody of the user's in the previous sentence.
        assert_eq!(carried("The weather is awful.", "Her name is Ada."), None);
        // A brother, but the next sentence does not name him.
        assert_eq!(carried("My brother is 40.", "He is a plumber."), None);
        // Someone else's sister.
        assert_eq!(
            carried("A sister of a friend came.", "Her name is Ada."),
            None
        );
    }
}
