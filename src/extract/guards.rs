//! What keeps a sentence from becoming a fact about the user.
//!
//! A rule matching "I live in Tokyo" is only right when the user is stating it about
//! themselves, now, for real. The guards recognise the usual ways that fails:
//! - fiction and role-play ("write a story where…", "pretend you are…"), which stay
//!   in force for the rest of the conversation;
//! - text handed over to be translated, proofread, rewritten or answered;
//! - hypotheticals and daydreams ("if I moved to…", "just curious…");
//! - questions ("should I get a second cat?");
//! - passing states ("today", "this week", "right now");
//! - negation ("not", "never") and endings ("anymore", "no longer", "used to").
//!
//! Everything works on a [`Sentence`]'s `norm` (lowercase, contractions expanded).

use super::rules::{Pattern, compile};
use super::text::Sentence;
use std::ops::Range;
use std::sync::LazyLock;

fn matches(re: &Pattern, norm: &str) -> bool {
    re.as_ref().is_some_and(|r| r.for_text(norm).is_match(norm))
}

static FICTION: Pattern = LazyLock::new(|| {
    compile(
        r"(?x)
        \b(?:write|tell|make|create|compose|draft|give\ me|come\ up\ with|generate|
           help\ me\ (?:write|with)|continue|invent|need)\b
        [^.!?]{0,60}?
        \b(?:story|stories|poem|poems|poetry|limerick|lyrics|song|songs|fairy\ ?tale|fable|
           scene|script|screenplay|novel|chapter|haiku|sonnet|rap|verses?|monologue|
           dialogue|fanfic|fan\ fiction|plot|tale|ballad|rhyme|rhymes|fiction|skit|play)\b
        |\b(?:bedtime\ story|short\ story|once\ upon\ a\ time|story\ about|story\ where|
            story\ in\ which|story\ set\ in|poem\ about|song\ about|lyrics\ (?:for|about)|
            plot\ (?:for|about)|a\ character\ who|characters?\ named|
            in\ my\ (?:story|novel|game|campaign|book|screenplay|script|world|d&d|dnd|fanfic)|
            (?:playing|play)\ (?:a|my)\ character)\b",
    )
});

static ROLEPLAY: Pattern = LazyLock::new(|| {
    compile(
        r"(?x)\b(?:role-?play|roleplay|pretend\ (?:you\ are|to\ be|that|i\ am|we\ are)|
        act\ as|acting\ as|you\ are\ now|stay\ in\ character|in\ character|write\ as\ me|
        as\ if\ you\ were|from\ the\ (?:pov|point\ of\ view|perspective)\ of|
        in\ the\ voice\ of|first-person\ (?:scene|story|narrative|account|monologue)|
        imagine\ (?:you\ are|that\ you|i\ am)|play\ the\ role|you\ play|i\ will\ play|
        let\ us\ play)\b",
    )
});

static TRANSFORM: Pattern = LazyLock::new(|| {
    compile(
        r"(?x)\b(?:translate|translating|translation|traduz|traducir|übersetze|proofread|
        proof-read|proofreading|correct\ (?:this|my|the|it|me|his|her|their|any|mistakes|errors)|
        correcting|corrections\ (?:to|on|for)|check\ (?:my|this|the|his|her|their|if)|
        fix\ (?:my|this|the|his|her|their)|edit\ (?:my|this|the)|rewrite|re-write|rephrase|
        paraphrase|reword|polish\ (?:this|my|the|it|up)|tighten\ (?:this|my|the|it|up)|
        shorten\ (?:this|my|the|it)|simplify\ (?:this|my|the|it)|summari[sz]e|summary\ of|tl\ ?dr|
        respond\ to|reply\ to|answer\ (?:this|the)\ (?:email|message|text|mail)|
        make\ (?:it|this)\ (?:sound\ )?(?:more\ |less\ )?(?:natural|better|formal|professional|friendly|polite|casual)|
        natural\ english|sounds?\ natural|is\ (?:it|this)\ natural|improve\ (?:my|this|the)|
        (?:check|fix|correct)\ (?:the\ |my\ )?grammar|grammar\ (?:check|mistakes|errors)|
        in\ (?:formal|informal)\ register)\b",
    )
});

static OWN_TEXT: Pattern = LazyLock::new(|| {
    compile(
        r"(?x)\bmy\ (?:own\ |english\ |short\ |new\ |linkedin\ |personal\ |professional\ |updated\ )*
        (?:self\ ?-?\ ?introduction|self\ ?-?\ ?intro|introduction|intro|bio|biography|cv|resume|
        résumé|profile|about\ me|about\ section|cover\ letter|personal\ statement)\b",
    )
});

static HYPOTHETICAL: Pattern = LazyLock::new(|| {
    compile(
        r"(?x)\b(?:if\ (?:i|we|my|our)|what\ if|hypothetical|hypothetically|imagine|imagining|
        suppose|supposing|let\ us\ say|say\ i|say\ we|pretend|daydream|daydreaming|
        thought\ experiment|just\ curious|just\ wondering|just\ thinking|thinking\ aloud|
        in\ theory|someday|some\ day|one\ day\ i|i\ wonder|wondering\ (?:if|whether|about)|
        thinking\ (?:about|of)\ (?:moving|becoming|switching|getting|quitting|buying|opening|
            starting|going|doing|applying|changing|leaving|studying|retraining|training|
            adopting|selling|relocating)|
        (?:am|been)\ considering|not\ planning|no\ plans|jok(?:e|es|ing)\ about|if\ i\ were|
        wish\ i|dream\ of|dreaming\ of|fantasi[sz]e|in\ another\ life|not\ going\ to\ happen)\b",
    )
});

/// Asks for invented text: a story, poem, lyrics, a scene. "I write poetry" or
/// "I'm writing a novel" describe the user and are not requests.
#[cfg(test)]
pub fn asks_for_fiction(norm: &str) -> bool {
    requests_invented_text(norm) || starts_roleplay(norm)
}

/// The part of [`asks_for_fiction`] that is not a role-play: a story, poem, scene.
pub fn requests_invented_text(norm: &str) -> bool {
    FICTION.as_ref().is_some_and(|re| {
        may_ask_for_fiction(norm)
            && re.for_text(norm).find_iter(norm).any(|m| {
                let before: Vec<&str> =
                    norm[..m.start()].split_whitespace().rev().take(2).collect();
                !before.iter().any(|w| {
                    matches!(
                        *w,
                        "i" | "am" | "we" | "are" | "was" | "he" | "she" | "they" | "is"
                    )
                })
            })
    })
}

/// Literals of which every match of [`FICTION`] contains at least one: each word of
/// its second list (the first alternative ends in one), and for the second
/// alternative a word of that list or "once upon a time", "character", "in my ".
/// `FICTION` is case-sensitive and these are plain substrings, so a text without any
/// of them cannot match; most sentences have none, and one literal search is far
/// cheaper than the pattern's bounded gap over the common verbs ("make", "need").
const FICTION_LITERALS: &str = "story|stories|poem|poetry|limerick|lyrics|song|tale|fable|\
    scene|script|screenplay|novel|chapter|haiku|sonnet|rap|verse|monologue|dialogue|fanfic|\
    fiction|plot|ballad|rhyme|skit|play|once upon a time|character|in my ";

/// Whether `norm` may match [`FICTION`]: `false` only when it cannot.
fn may_ask_for_fiction(norm: &str) -> bool {
    static LITERALS: LazyLock<Option<regex::Regex>> =
        LazyLock::new(|| regex::Regex::new(FICTION_LITERALS).ok());
    LITERALS.as_ref().is_none_or(|re| re.is_match(norm))
}

/// Starts a role-play or an impersonation: what follows may be in character.
pub fn starts_roleplay(norm: &str) -> bool {
    matches(&ROLEPLAY, norm)
}

/// Asks to translate, proofread, rewrite, summarise or answer some text ("I translate
/// legal texts" describes a job and is not a request).
#[cfg(test)]
pub fn asks_to_transform(norm: &str) -> bool {
    transform_start(norm).is_some()
}

/// Where in `norm` the request to transform text starts: what the user says about
/// themselves before it ("My home language is Zulu but please check my version")
/// still counts, what comes after it may be the text itself.
pub fn transform_start(norm: &str) -> Option<usize> {
    let re = TRANSFORM.as_ref()?;
    re.for_text(norm)
        .find_iter(norm)
        .find(|m| !after_subject(norm, m.start()))
        .map(|m| m.start())
}

/// Whether the word before byte `at` is a subject pronoun ("I write…", "she translates").
fn after_subject(norm: &str, at: usize) -> bool {
    norm[..at].split_whitespace().next_back().is_some_and(|w| {
        matches!(
            w,
            "i" | "we" | "he" | "she" | "they" | "also" | "mostly" | "usually"
        )
    })
}

/// Says the quoted text is the user's own (their bio, self-introduction, CV).
pub fn quotes_own_text(norm: &str) -> bool {
    matches(&OWN_TEXT, norm)
}

/// A what-if, a daydream, a question about a choice not made.
pub fn is_hypothetical(norm: &str) -> bool {
    matches(&HYPOTHETICAL, norm)
}

/// Mentions a passing moment ("today", "this week", "right now").
pub fn is_transient(norm: &str) -> bool {
    static MARKERS: LazyLock<Vec<memchr::memmem::Finder<'static>>> = LazyLock::new(|| {
        super::lexicon::TRANSIENT_MARKERS
            .iter()
            .map(|m| memchr::memmem::Finder::new(m.trim()))
            .collect()
    });
    MARKERS.iter().any(|m| contains_phrase(norm, m))
}

/// Whether `phrase` is in `norm` as whole words: with a space or an end of `norm`
/// on each side. The same as searching `" {norm} "` for `" {phrase} "`, without
/// building either.
fn contains_phrase(norm: &str, phrase: &memchr::memmem::Finder) -> bool {
    let bytes = norm.as_bytes();
    let mut from = 0;
    while let Some(at) = bytes.get(from..).and_then(|rest| phrase.find(rest)) {
        let at = from + at;
        let end = at + phrase.needle().len();
        let starts_word = at == 0 || bytes.get(at - 1) == Some(&b' ');
        let ends_word = end == bytes.len() || bytes.get(end) == Some(&b' ');
        if starts_word && ends_word {
            return true;
        }
        from = at + 1;
    }
    false
}

const QUESTION_OPENERS: &[&str] = &[
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "is", "are", "am",
    "was", "were", "do", "does", "did", "can", "could", "would", "will", "should", "shall", "may",
    "might", "have", "has", "any", "anything", "whats",
];

const FILLER_OPENERS: &[&str] = &[
    "ok",
    "okay",
    "so",
    "and",
    "also",
    "hi",
    "hey",
    "hello",
    "btw",
    "but",
    "well",
    "oh",
    "ah",
    "pls",
    "please",
    "quick",
    "question",
    "hmm",
    "then",
    "now",
    "ugh",
    "lol",
    ",",
    ":",
    "-",
    "(",
    "honestly",
    "seriously",
    "wait",
    "yes",
    "no",
    "great",
    "thanks",
    "cool",
    "perfect",
    "good",
];

/// The byte range of `norm` that asks something: the whole sentence when it opens like a
/// question ("should I…", "how do I…"), else a trailing clause ending in '?' that
/// inverts subject and verb ("I live in Graz, do I need a permit?").
pub fn question_span(s: &Sentence) -> Option<Range<usize>> {
    let first = (0..s.len()).find(|&i| !FILLER_OPENERS.contains(&s.lower(i)));
    let ends_with_question = s.norm.trim_end().ends_with('?');
    if let Some(first) = first
        && QUESTION_OPENERS.contains(&s.lower(first))
        && (ends_with_question || s.lower(first + 1) == "i" || s.lower(first + 2) == "i")
    {
        return Some(0..s.norm.len());
    }
    if !ends_with_question {
        return None;
    }
    let clause_start = (0..s.len())
        .rev()
        .find(|&i| matches!(s.lower(i), "," | ";" | ":" | "but" | "so" | "or" | "and"))
        .map(|i| i + 1)
        .unwrap_or(0);
    let opener = s.lower(clause_start);
    let inverted = QUESTION_OPENERS.contains(&opener)
        || s.norm[s.byte_of(clause_start)..]
            .split(' ')
            .collect::<Vec<_>>()
            .windows(2)
            .any(|w| matches!(w, [v, "i"] if QUESTION_OPENERS.contains(v)));
    inverted.then(|| s.byte_of(clause_start)..s.norm.len())
}

/// Whether a statement is said as true, denied, or said to be over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polarity {
    Affirmed,
    /// "I'm not a nurse": nothing to record.
    Negated,
    /// "I'm not vegan anymore", "I no longer work at…": the fact ended.
    Ended,
}

/// Polarity of the statement made by tokens `from..to` (typically subject to the end
/// of the clause).
pub fn polarity(s: &Sentence, from: usize, to: usize) -> Polarity {
    let words: Vec<&str> = (from..to.min(s.len())).map(|i| s.lower(i)).collect();
    let has = |w: &str| words.contains(&w);
    let pair = |a: &str, b: &str| words.windows(2).any(|p| p == [a, b]);
    let ended = has("anymore")
        || pair("any", "more")
        || pair("no", "longer")
        || pair("used", "to")
        || has("formerly")
        || has("former")
        || pair("stopped", "being");
    // "I'm no chef" denies being one, as "not" does.
    let denied = pair("am", "no") || pair("is", "no") || pair("are", "no");
    if ended {
        Polarity::Ended
    } else if has("not") || has("never") || has("nor") || denied {
        Polarity::Negated
    } else {
        Polarity::Affirmed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(text: &str) -> String {
        Sentence::parse(text).norm
    }

    #[test]
    fn fiction_requests() {
        assert!(asks_for_fiction(&norm(
            "Write me a short story about a pilot in Lima"
        )));
        assert!(asks_for_fiction(&norm(
            "can you make a funny poem for grandpa's 80th"
        )));
        assert!(asks_for_fiction(&norm(
            "Lyrics for a song from the POV of a miner"
        )));
        assert!(asks_for_fiction(&norm(
            "Let's role-play: you are my landlord"
        )));
        assert!(asks_for_fiction(&norm("pretend you're a pirate captain")));
        assert!(asks_for_fiction(&norm(
            "Write as me, a retired jockey, for my blog"
        )));
        assert!(asks_for_fiction(&norm(
            "In my story I'm a wizard living in Oxford"
        )));
        assert!(!starts_roleplay(&norm("Explain it as if I were five")));
        assert!(!asks_for_fiction(&norm(
            "I write technical docs for a living"
        )));
        assert!(!asks_for_fiction(&norm(
            "Can you write a cover letter for a nursing job?"
        )));
    }

    #[test]
    fn roleplay_is_recognised_separately() {
        assert!(starts_roleplay(&norm(
            "Act as my interviewer for a barista job"
        )));
        assert!(!starts_roleplay(&norm("Write a poem about autumn")));
    }

    #[test]
    fn transform_requests() {
        assert!(asks_to_transform(&norm(
            "Translate this into Greek: I am a vet"
        )));
        assert!(asks_to_transform(&norm(
            "can you proofread my neighbour's letter"
        )));
        assert!(asks_to_transform(&norm(
            "Please make it sound more natural"
        )));
        assert!(asks_to_transform(&norm(
            "reply to this email from my landlord"
        )));
        assert!(asks_to_transform(&norm("Summarize the following report")));
        assert!(!asks_to_transform(&norm("I moved to Quito last spring")));
        assert!(!asks_to_transform(&norm("I translate German into Polish")));
        assert!(!asks_to_transform(&norm(
            "minor corrections done, now a postdoc"
        )));
        let n = norm("My first language is Zulu but can you check my version");
        assert!(transform_start(&n).is_some_and(|at| at > n.find("zulu").unwrap_or(0)));
    }

    #[test]
    fn own_text_framing() {
        assert!(quotes_own_text(&norm("Is my self introduction natural?")));
        assert!(quotes_own_text(&norm("tighten my LinkedIn bio please")));
        assert!(!quotes_own_text(&norm("fix my essay intro about phones")));
        assert!(!quotes_own_text(&norm("translate my cousin's bio")));
    }

    #[test]
    fn hypotheticals() {
        assert!(is_hypothetical(&norm(
            "If I moved to Perth, would my licence transfer?"
        )));
        assert!(is_hypothetical(&norm("What if I became a baker")));
        assert!(is_hypothetical(&norm(
            "Just curious, how are salaries in Oslo"
        )));
        assert!(is_hypothetical(&norm(
            "I'm thinking about switching to nursing"
        )));
        assert!(is_hypothetical(&norm(
            "say i opened a second shop in Tulsa"
        )));
        assert!(is_hypothetical(&norm("Pure daydreaming: a bar in Lisbon")));
        assert!(!is_hypothetical(&norm("I live in Leeds with my two cats")));
        assert!(!is_hypothetical(&norm("If it helps, I'm a nurse")));
    }

    #[test]
    fn transient_states() {
        assert!(is_transient(&norm(
            "I'm in Paris this week for a conference"
        )));
        assert!(is_transient(&norm("feeling awful today")));
        assert!(is_transient(&norm("got a cold rn")));
        assert!(!is_transient(&norm("I live in Paris")));
        assert!(!is_transient(&norm("I've had asthma since I was a kid")));
    }

    #[test]
    fn questions() {
        let q = |t: &str| {
            let s = Sentence::parse(t);
            question_span(&s)
                .map(|r| s.norm[r].to_owned())
                .into_iter()
                .collect::<Vec<_>>()
        };
        assert_eq!(q("Should I get a second cat?").len(), 1);
        assert_eq!(q("how do i explain my job to a kid").len(), 1);
        assert_eq!(
            q("I live in Graz, do I need a permit?"),
            vec!["do i need a permit ?"]
        );
        assert!(q("I live in Graz and love it.").is_empty());
        assert!(q("I'm a nurse in Cork, any tips for night shifts?").len() == 1);
        assert!(q("I'm a nurse in Cork, any tips for night shifts?")[0].contains("tips"));
    }

    #[test]
    fn negation_and_endings() {
        let p = |t: &str| {
            let s = Sentence::parse(t);
            polarity(&s, 0, s.len())
        };
        assert_eq!(p("I'm vegan"), Polarity::Affirmed);
        assert_eq!(p("I'm not vegan"), Polarity::Negated);
        assert_eq!(p("I'm not vegan anymore"), Polarity::Ended);
        assert_eq!(p("I no longer work at Fennel Labs"), Polarity::Ended);
        assert_eq!(p("I used to be a teacher"), Polarity::Ended);
        assert_eq!(p("I've never been a smoker"), Polarity::Negated);
    }

    #[test]
    fn fiction_literals_pass_every_fiction_match() {
        let samples = [
            "write me a short poem about my dog",
            "can you make a fairytale for my kid",
            "tell us a fable",
            "i need some verses for a card",
            "help me with the dialogue in this scene",
            "once upon a time there was a cat",
            "a character who lives in lisbon",
            "in my campaign the wizard is old",
            "i am playing a character called bob",
            "generate fan fiction about it",
            "compose rhymes for my niece",
            "i live in tokyo and work as a nurse",
            "make sure you need the tickets",
        ];
        let fiction = FICTION.as_ref().map(|re| re.for_text("").clone());
        for norm in samples {
            let matched = fiction.as_ref().is_some_and(|re| re.is_match(norm));
            assert!(!matched || may_ask_for_fiction(norm), "{norm}");
        }
        assert!(!may_ask_for_fiction("i live in tokyo and work as a nurse"));
    }
}
