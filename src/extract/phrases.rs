//! Reading the phrase that follows a trigger: a person's name, a place, an
//! organisation, an occupation, a free-text object. Each parser takes a token index
//! and returns the phrase with the index just past it, or `None` when the tokens there
//! are not that kind of phrase.

use super::lexicon::{self, CALENDAR, COMMON_WORDS, DEMONYMS};
use super::text::Sentence;

/// A phrase read from a sentence: its text and the token index just past it.
#[derive(Debug, Clone, PartialEq)]
pub struct Phrase {
    pub text: String,
    pub end: usize,
}

const PUNCT: &[&str] = &[
    ",", ".", ";", ":", "!", "?", "(", ")", "\"", "—", "–", "-", "/", "+",
];

pub fn is_punct(word: &str) -> bool {
    PUNCT.contains(&word)
}

/// Token `i` may start or continue a proper noun: capitalised, or — for writers who
/// never capitalise — any word that is not a common English word.
fn proper_word(s: &Sentence, i: usize) -> bool {
    let lower = s.lower(i);
    if !s.is_word(i) || lower.is_empty() || CALENDAR.contains(lower) {
        return false;
    }
    if s.is_capitalised(i) {
        return lower != "i" && !matches!(lower, "the" | "a" | "an" | "my" | "our");
    }
    s.all_lowercase
        && !COMMON_WORDS.contains(lower)
        && lower.chars().all(|c| c.is_alphabetic() || c == '-')
        && (lower.len() >= 3
            || (lower.len() == 2 && s.is_word(i + 1) && !COMMON_WORDS.contains(s.lower(i + 1))))
}

/// A person's first name, optionally with a surname: "Amaka", "Ji-hoon", "Ray Delgado".
/// Lowercase names ("my grandson mateo") are accepted only from writers who never
/// capitalise, and only when followed by a clear boundary.
pub fn name_at(s: &Sentence, i: usize, with_surname: bool) -> Option<Phrase> {
    let first = s.text(i);
    if !lexicon::could_be_name(first) {
        return None;
    }
    name_from(s, i, with_surname)
}

/// Like [`name_at`], right after a word that announces a person ("my girls Ivy and
/// June", "my aunt May"), where month names are first names.
pub fn relative_name_at(s: &Sentence, i: usize) -> Option<Phrase> {
    let first = s.text(i);
    let month = CALENDAR.contains(s.lower(i)) && s.is_capitalised(i) && s.lower(i).len() > 3;
    if !(lexicon::could_be_name(first) || month) {
        return None;
    }
    name_from(s, i, false)
}

fn name_from(s: &Sentence, i: usize, with_surname: bool) -> Option<Phrase> {
    if !s.is_capitalised(i) {
        let boundary = matches!(
            s.lower(i + 1),
            "" | ","
                | "."
                | "!"
                | "?"
                | "("
                | ")"
                | "and"
                | "is"
                | "was"
                | "'s"
                | "who"
                | "turns"
                | "turned"
                | "has"
                | "had"
                | "said"
                | "says"
                | "just"
                | "will"
                | "hit"
                | "are"
                | "wants"
                | "loves"
                | "likes"
                | "lives"
                | "works"
        );
        if !(s.all_lowercase && boundary) {
            return None;
        }
    }
    let mut end = i + 1;
    if with_surname
        && s.is_capitalised(end)
        && lexicon::could_be_name(s.text(end))
        && !CALENDAR.contains(s.lower(end))
    {
        end += 1;
    }
    let text = (i..end)
        .map(|k| capitalise(s.text(k)))
        .collect::<Vec<_>>()
        .join(" ");
    Some(Phrase { text, end })
}

/// A place: "Denver", "São Paulo", "Columbus, Ohio", "Christchurch, NZ", "HSR Layout".
pub fn place_at(s: &Sentence, i: usize) -> Option<Phrase> {
    let start = if s.lower(i) == "the" && proper_word(s, i + 1) {
        i + 1
    } else {
        i
    };
    let end = proper_run(
        s,
        start,
        4,
        &[
            "de", "do", "da", "del", "of", "upon", "on", "am", "la", "le", "sur", "y", "dos", "das",
        ],
    )?;
    let first = s.lower(start);
    if DEMONYMS.contains(first)
        || lexicon::TOOLS.contains(first)
        || lexicon::language_at(&[first]).is_some()
        || (COMMON_WORDS.contains(first) && !(s.is_capitalised(start) && end > start + 1))
        || first.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let mut text = title_span(s, start, end);
    let mut end = end;
    // ", Ohio" / ", NZ": a region after a comma, when it is not the start of a new clause.
    if s.lower(end) == ","
        && s.is_capitalised(end + 1)
        && !COMMON_WORDS.contains(s.lower(end + 1))
        && !CALENDAR.contains(s.lower(end + 1))
        && s.lower(end + 1) != "i"
        && let Some(region_end) = proper_run(s, end + 1, 2, &[])
        && (is_region(s.lower(end + 1)) || !lexicon::could_be_name(s.text(end + 1)))
    {
        text.push_str(", ");
        text.push_str(&title_span(s, end + 1, region_end));
        end = region_end;
    }
    Some(Phrase { text, end })
}

/// Country and region names people put after a city.
fn is_region(word: &str) -> bool {
    word.len() <= 3
        || matches!(
            word,
            "ohio"
                | "texas"
                | "california"
                | "florida"
                | "ontario"
                | "quebec"
                | "bavaria"
                | "scotland"
                | "england"
                | "wales"
                | "ireland"
                | "kenya"
                | "sweden"
                | "norway"
                | "denmark"
                | "finland"
                | "germany"
                | "france"
                | "spain"
                | "italy"
                | "portugal"
                | "brazil"
                | "mexico"
                | "japan"
                | "korea"
                | "india"
                | "nigeria"
                | "ghana"
                | "egypt"
                | "australia"
                | "canada"
                | "switzerland"
                | "austria"
                | "poland"
                | "netherlands"
                | "belgium"
                | "greece"
                | "turkey"
                | "china"
                | "vietnam"
                | "thailand"
                | "indonesia"
                | "philippines"
                | "argentina"
                | "chile"
                | "colombia"
                | "peru"
                | "victoria"
                | "queensland"
                | "oregon"
                | "washington"
                | "georgia"
                | "virginia"
                | "michigan"
                | "illinois"
                | "massachusetts"
                | "colorado"
                | "arizona"
                | "utah"
                | "nevada"
                | "minnesota"
                | "wisconsin"
                | "iowa"
                | "kansas"
                | "missouri"
                | "kentucky"
                | "tennessee"
                | "alabama"
                | "louisiana"
                | "carolina"
                | "pennsylvania"
                | "jersey"
                | "york"
                | "maryland"
                | "connecticut"
                | "vermont"
                | "maine"
                | "alaska"
                | "hawaii"
        )
}

/// An organisation: "Vahan Freight", "Harcourt & Finch", "University of Glasgow",
/// "ABB". A leading "the" is dropped.
pub fn org_at(s: &Sentence, i: usize) -> Option<Phrase> {
    let start = if s.lower(i) == "the" && proper_word(s, i + 1) {
        i + 1
    } else {
        i
    };
    let end = proper_run(
        s,
        start,
        5,
        &["&", "of", "for", "de", "and", "und", "et", "y"],
    )?;
    let first = s.lower(start);
    let lowercase_common = !s.is_capitalised(start) && COMMON_WORDS.contains(first);
    if lowercase_common || (DEMONYMS.contains(first) && end == start + 1) {
        return None;
    }
    Some(Phrase {
        text: title_span(s, start, end),
        end,
    })
}

/// The end of a run of proper words starting at `i` (at most `max` words), joined by
/// the given lowercase connectors when a proper word follows them.
fn proper_run(s: &Sentence, i: usize, max: usize, connectors: &[&str]) -> Option<usize> {
    if !proper_word(s, i) {
        return None;
    }
    let lowercase_mode = !s.is_capitalised(i);
    let limit = if lowercase_mode { max.min(3) } else { max };
    let mut end = i + 1;
    let mut words = 1;
    while words < limit {
        if proper_word(s, end) && (lowercase_mode || s.is_capitalised(end)) {
            end += 1;
            words += 1;
        } else if connectors.contains(&s.lower(end))
            && proper_word(s, end + 1)
            && s.is_capitalised(end + 1)
        {
            end += 2;
            words += 1;
        } else {
            break;
        }
    }
    Some(end)
}

/// Tokens as written, each capitalised when the writer wrote everything in lowercase.
fn title_span(s: &Sentence, from: usize, to: usize) -> String {
    let text = s.span_text(from, to);
    if s.all_lowercase {
        text.split(' ')
            .map(|w| {
                if matches!(w, "of" | "de" | "do" | "da" | "del" | "and" | "&") {
                    w.to_owned()
                } else {
                    capitalise(w)
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        text
    }
}

/// Words that end a noun phrase.
const NP_STOPS: &[&str] = &[
    "at",
    "in",
    "for",
    "with",
    "from",
    "on",
    "to",
    "who",
    "that",
    "which",
    "and",
    "but",
    "so",
    "because",
    "since",
    "when",
    "while",
    "where",
    "as",
    "by",
    "near",
    "here",
    "now",
    "there",
    "too",
    "lol",
    "btw",
    "i",
    "my",
    "is",
    "was",
    "am",
    "are",
    "were",
    "and",
    "or",
    "also",
    "based",
    "living",
    "working",
    "doing",
    "currently",
    "now",
    "myself",
    "me",
    "we",
    "our",
    "your",
    "you",
    "he",
    "she",
    "they",
    "it",
    "this",
    "these",
    "those",
    "not",
    "just",
    "haha",
    "yet",
    "still",
    "then",
    "if",
    "about",
    "over",
    "after",
    "before",
    "during",
    "until",
    "into",
    "like",
    "than",
    "the",
    "of",
];

/// An occupation noun phrase: "data analyst", "retired hospital pharmacist",
/// "3rd year PhD student", "stay-at-home dad of three", with a short parenthetical
/// kept ("game developer (Unity/C#)"). `None` unless the phrase is headed by an
/// occupation.
pub fn role_at(s: &Sentence, i: usize) -> Option<Phrase> {
    let mut k = i;
    while matches!(s.lower(k), "a" | "an") {
        k += 1;
    }
    let start = k;
    let mut end = start;
    while end < s.len() && end - start < 6 {
        let w = s.lower(end);
        if is_punct(w) || NP_STOPS.contains(&w) || !s.is_word(end) {
            break;
        }
        // "a nurse living in…" ends at "living"; "a machine learning engineer" does not.
        let next = s.lower(end + 1);
        let participle = next.is_empty()
            || is_punct(next)
            || matches!(
                next,
                "in" | "at"
                    | "for"
                    | "with"
                    | "on"
                    | "from"
                    | "to"
                    | "as"
                    | "the"
                    | "a"
                    | "an"
                    | "my"
                    | "and"
            );
        if end > start && w.len() > 4 && w.ends_with("ing") && participle {
            break;
        }
        end += 1;
    }
    if end == start {
        return None;
    }
    let head = s.lower(end - 1).to_owned();
    let words: Vec<&str> = (start..end).map(|j| s.lower(j)).collect();
    // "a terrible cook", "a good driver": a judgement, not an occupation.
    const JUDGEMENTS: &[&str] = &[
        "terrible",
        "bad",
        "good",
        "great",
        "awful",
        "horrible",
        "decent",
        "lousy",
        "amazing",
        "excellent",
        "poor",
        "better",
        "best",
        "worst",
        "huge",
        "big",
        "natural",
        "born",
        "wannabe",
        "aspiring",
        "future",
        "failed",
        "frustrated",
        "hopeless",
        "lazy",
        "careful",
        "nervous",
        "slow",
        "fast",
        "messy",
        "picky",
        "fussy",
        "home",
        "amateur",
        "hobby",
        "weekend",
        "bedroom",
        "armchair",
    ];
    if words.iter().any(|w| JUDGEMENTS.contains(w)) {
        return None;
    }
    let caring_parent = matches!(
        head.as_str(),
        "dad" | "mom" | "mum" | "parent" | "mother" | "father" | "homemaker"
    ) && words
        .iter()
        .any(|w| w.starts_with("stay-at-home") || *w == "full-time" || *w == "stay");
    let stay_at_home = words.windows(3).any(|w| w == ["stay", "at", "home"]);
    if !(lexicon::is_role(&head) || caring_parent || stay_at_home) {
        return None;
    }
    const AMBIGUOUS: &[&str] = &[
        "lead",
        "tech",
        "admin",
        "server",
        "fellow",
        "principal",
        "assistant",
        "resident",
        "associate",
        "graduate",
        "judge",
        "cook",
        "driver",
        "buyer",
        "agent",
        "operator",
        "trader",
        "officer",
        "retired",
        "maker",
        "owner",
        "dev",
        "specialist",
    ];
    let had_article = start > i;
    if end - start == 1 && AMBIGUOUS.contains(&head.as_str()) && !had_article && head != "retired" {
        return None;
    }
    // "dad of three"
    if s.lower(end) == "of" && is_number_word(s.lower(end + 1)) {
        end += 2;
    }
    let mut text = s.span_text(start, end);
    if s.lower(end) == "(" {
        let close = (end + 1..s.len().min(end + 16)).find(|&j| s.lower(j) == ")");
        if let Some(close) = close {
            let inner = s.span_text(end + 1, close);
            if !inner.is_empty() && inner.len() <= 80 {
                text.push_str(&format!(" ({inner})"));
                end = close + 1;
            }
        }
    }
    Some(Phrase { text, end })
}

pub fn is_number_word(w: &str) -> bool {
    matches!(
        w,
        "one" | "two" | "three" | "four" | "five" | "six" | "seven" | "eight" | "nine" | "ten"
    ) || (!w.is_empty() && w.len() <= 2 && w.chars().all(|c| c.is_ascii_digit()))
}

/// Words that end a free-text object ("Wants to open a studio *because* …").
const OBJECT_STOPS: &[&str] = &[
    "because", "but", "so", "lol", "haha", "btw", "though", "although", "which", "since", "cause",
    "cuz", "tho", "anyway", "any", "can", "could", "what", "how", "should", "would", "please",
    "pls",
];

/// Free text from `i` to the end of the clause (at most `max` tokens), without
/// trailing time phrases ("next week", "in July"), first-person words turned to third
/// person ("my" → "their").
pub fn object_at(s: &Sentence, i: usize, max: usize) -> Option<Phrase> {
    let mut end = i;
    while end < s.len() && end - i < max {
        let w = s.lower(end);
        if matches!(
            w,
            "," | "." | ";" | ":" | "!" | "?" | ")" | "\"" | "—" | "–" | "-"
        ) || OBJECT_STOPS.contains(&w)
            || (w == "and"
                && matches!(
                    s.lower(end + 1),
                    "i" | "we" | "my" | "it" | "then" | "they" | "he" | "she"
                ))
            || (w == "(" && (end + 1..s.len()).all(|j| s.lower(j) != ")"))
        {
            break;
        }
        if w == "(" {
            // Keep a short parenthetical whole.
            if let Some(close) = (end..s.len()).find(|&j| s.lower(j) == ")")
                && close - end <= 8
                && close - i < max
            {
                end = close + 1;
                continue;
            }
            break;
        }
        end += 1;
    }
    let end = trim_time_tail(s, i, end);
    if end <= i {
        return None;
    }
    let text = third_person(&s.span_text(i, end));
    Some(Phrase { text, end })
}

/// Drops trailing time expressions: "in July", "next week", "last month", "by December",
/// "in 2025", "soon", "now".
pub fn trim_time_tail(s: &Sentence, from: usize, mut end: usize) -> usize {
    loop {
        let last = s.lower(end.saturating_sub(1));
        let is_time_word = CALENDAR.contains(last)
            || matches!(
                last,
                "week"
                    | "month"
                    | "year"
                    | "weekend"
                    | "soon"
                    | "now"
                    | "today"
                    | "tomorrow"
                    | "yesterday"
                    | "tonight"
                    | "morning"
                    | "evening"
                    | "afternoon"
                    | "spring"
                    | "summer"
                    | "autumn"
                    | "fall"
                    | "winter"
                    | "intake"
                    | "eventually"
                    | "time"
                    | "already"
                    | "again"
                    | "lol"
                    | "haha"
                    | "hopefully"
                    | "asap"
            )
            || (last.len() == 4
                && last.starts_with("20")
                && last.chars().all(|c| c.is_ascii_digit()));
        if end > from + 1 && is_time_word {
            end -= 1;
            // Take the preposition or determiner of the time phrase too.
            while end > from + 1
                && matches!(
                    s.lower(end - 1),
                    "in" | "by"
                        | "next"
                        | "last"
                        | "this"
                        | "on"
                        | "from"
                        | "the"
                        | "for"
                        | "since"
                        | "until"
                        | "of"
                        | "full"
                        | "at"
                        | "early"
                        | "late"
                        | "mid"
                        | "coming"
                        | "upcoming"
                        | "every"
                        | "each"
                )
            {
                end -= 1;
            }
            continue;
        }
        return end;
    }
}

/// First-person words to third person: "my" → "their", "I" → "they", "me" → "them".
pub fn third_person(text: &str) -> String {
    text.split(' ')
        .map(|w| match w {
            "my" | "My" | "our" | "Our" => "their",
            "me" | "us" => "them",
            "I" | "i" | "we" | "We" => "they",
            "myself" | "ourselves" => "themselves",
            "mine" | "ours" => "theirs",
            "am" => "are",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, word: &str) -> (Sentence, usize) {
        let s = Sentence::parse(text);
        let i = (0..s.len())
            .find(|&i| s.lower(i) == word)
            .unwrap_or(usize::MAX);
        (s, i)
    }

    #[test]
    fn names() {
        let (s, i) = at("my wife Ngozi is a nurse", "ngozi");
        assert_eq!(
            name_at(&s, i, false).map(|p| p.text),
            Some("Ngozi".to_owned())
        );
        let (s, i) = at("my grandson tomas turns 3", "tomas");
        assert_eq!(
            name_at(&s, i, false).map(|p| p.text),
            Some("Tomas".to_owned())
        );
        let (s, i) = at("My son loves trains", "loves");
        assert_eq!(name_at(&s, i, false), None);
        let (s, i) = at("sign it Pat Okoye, owner", "pat");
        assert_eq!(
            name_at(&s, i, true).map(|p| p.text),
            Some("Pat Okoye".to_owned())
        );
        let (s, i) = at("my sister Mary in June", "mary");
        assert_eq!(
            name_at(&s, i, true).map(|p| p.text),
            Some("Mary".to_owned())
        );
    }

    #[test]
    fn places() {
        let (s, i) = at("I live in Columbus, Ohio with my cat", "columbus");
        assert_eq!(
            place_at(&s, i).map(|p| p.text),
            Some("Columbus, Ohio".to_owned())
        );
        let (s, i) = at("we moved to São Paulo last year", "são");
        assert_eq!(
            place_at(&s, i).map(|p| p.text),
            Some("São Paulo".to_owned())
        );
        let (s, i) = at("i own a shop in el paso, great town", "el");
        assert_eq!(place_at(&s, i).map(|p| p.text), Some("El Paso".to_owned()));
        let (s, i) = at("I live in July", "july");
        assert_eq!(place_at(&s, i), None);
        let (s, i) = at("living in Rotterdam, I cycle everywhere", "rotterdam");
        assert_eq!(
            place_at(&s, i).map(|p| p.text),
            Some("Rotterdam".to_owned())
        );
    }

    #[test]
    fn organisations() {
        let (s, i) = at("I'm an auditor at Pike & Lowell in Leeds", "pike");
        assert_eq!(
            org_at(&s, i).map(|p| p.text),
            Some("Pike & Lowell".to_owned())
        );
        let (s, i) = at("a student at the University of Tartu", "the");
        assert_eq!(
            org_at(&s, i).map(|p| p.text),
            Some("University of Tartu".to_owned())
        );
    }

    #[test]
    fn roles() {
        let (s, i) = at("I'm a retired hospital pharmacist living in Osaka", "a");
        assert_eq!(
            role_at(&s, i).map(|p| p.text),
            Some("retired hospital pharmacist".to_owned())
        );
        let (s, i) = at("I'm a 2nd year PhD student at Leeds", "a");
        assert_eq!(
            role_at(&s, i).map(|p| p.text),
            Some("2nd year PhD student".to_owned())
        );
        let (s, i) = at("I'm a stay-at-home dad of two", "a");
        assert_eq!(
            role_at(&s, i).map(|p| p.text),
            Some("stay-at-home dad of two".to_owned())
        );
        let (s, i) = at("I'm a game developer (Godot/GDScript) in Lyon", "a");
        assert_eq!(
            role_at(&s, i).map(|p| p.text),
            Some("game developer (Godot/GDScript)".to_owned())
        );
        let (s, i) = at("I'm a huge fan", "a");
        assert_eq!(role_at(&s, i), None);
        let (s, i) = at("I'm a python person", "a");
        assert_eq!(role_at(&s, i), None);
    }

    #[test]
    fn objects_drop_time_tails_and_speak_in_third_person() {
        let (s, i) = at("My dream is to open my own bakery in two years", "open");
        assert_eq!(
            object_at(&s, i, 12).map(|p| p.text),
            Some("open their own bakery in two years".to_owned())
        );
        let (s, i) = at("I want to study law in September, any tips?", "study");
        assert_eq!(
            object_at(&s, i, 12).map(|p| p.text),
            Some("study law".to_owned())
        );
    }

    #[test]
    fn gerunds_inside_occupations() {
        let (s, i) = at("I got a job as a machine learning engineer at Nokia", "a");
        let i = i + 3;
        assert_eq!(
            role_at(&s, i).map(|p| p.text),
            Some("machine learning engineer".to_owned())
        );
    }
}
