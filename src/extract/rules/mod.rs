//! The rules: patterns over a sentence's `norm` that find facts, each followed by a
//! phrase parser and checked against the guards.
//!
//! A rule about the user ("I live in…", "I'm a nurse") fires only when
//! [`Scan::about_user`] allows it at that position; a rule about the people and
//! animals in the user's life ("my wife Ana", "our dog Pickles") fires unless the
//! conversation is a role-play — a story request for "my son Leo" still tells us the
//! user has a son called Leo.

use super::Category;
use super::guards::{self, Polarity};
use super::text::Sentence;
use regex::{Regex, RegexSet, RegexSetBuilder, SetMatches};
use std::borrow::Cow;
use std::cell::OnceCell;
use std::ops::Range;
use std::sync::LazyLock;

/// A fact a rule found, before dates and sources are attached.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub category: Category,
    pub slot: Option<&'static str>,
    pub value: String,
    pub ended: bool,
}

/// What is known about where a sentence sits.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context {
    /// From the user's profile (saved memories, custom instructions): statements
    /// about themselves even without a subject ("Civil engineer in Durban.").
    pub trusted: bool,
    /// Part of a request for a story, poem, scene.
    pub fiction: bool,
    /// Part of a request to translate, proofread, rewrite or answer some text: the
    /// byte of `norm` where the request starts (what precedes it is still the user's).
    pub transform_at: Option<usize>,
    /// The conversation is a role-play: nothing said is about the user.
    pub roleplay: bool,
    /// The year the sentence was written, for ages ("I'm 46" → born around 1978).
    pub year: Option<i32>,
}

pub type Pattern = LazyLock<Option<Compiled>>;

/// A pattern compiled twice: as written, and with ASCII word boundaries. On an ASCII
/// sentence both mean the same (the only ASCII word characters are letters, digits
/// and `_` either way), and the ASCII one is far cheaper to run, above all when
/// capture groups are resolved.
pub struct Compiled {
    unicode: Regex,
    ascii: Regex,
}

impl Compiled {
    /// The regex to run on `norm`: the cheaper twin when it means the same there.
    pub fn for_text(&self, norm: &str) -> &Regex {
        if norm.is_ascii() {
            &self.ascii
        } else {
            &self.unicode
        }
    }
}

/// Compiles a pattern over `norm`; `None` if it is invalid (a rule then never fires).
pub fn compile(re: &str) -> Option<Compiled> {
    let unicode = Regex::new(re).ok()?;
    let ascii = Regex::new(&re.replace(r"\b", r"(?-u:\b)"))
        .ok()
        .filter(|ascii| ascii.captures_len() == unicode.captures_len())
        .unwrap_or_else(|| unicode.clone());
    Some(Compiled { unicode, ascii })
}

/// Declares a module's patterns over `norm`, each compiled lazily, and `PATTERNS`,
/// the list of them all, which [`PatternSet`] runs in one pass over a sentence.
macro_rules! patterns {
    ($($name:ident = $re:expr;)+) => {
        $(
            static $name: $crate::extract::rules::Pattern =
                std::sync::LazyLock::new(|| $crate::extract::rules::compile(&$re));
        )+
        pub(super) static PATTERNS: &[&$crate::extract::rules::Pattern] = &[$(&$name),+];
    };
}
mod identity;
mod interests;
mod people;
mod places;
mod plausible;
mod wellbeing;
mod work;

/// Every rule module's patterns.
fn all_patterns() -> impl Iterator<Item = &'static Pattern> {
    [
        identity::PATTERNS,
        places::PATTERNS,
        work::PATTERNS,
        people::PATTERNS,
        wellbeing::PATTERNS,
        interests::PATTERNS,
    ]
    .into_iter()
    .flatten()
    .copied()
}

/// All the rules' patterns in two sets, so that one pass over a sentence tells which
/// patterns can match it: most match nothing in most sentences, and running them
/// one by one was most of a pass's time.
///
/// On an ASCII sentence the set holds the ASCII-boundary twins. On any other, Unicode
/// word boundaries would keep a set off the fast engines, so there every `\b` is
/// replaced by an empty group. In both, each pattern is cut down to its words
/// ([`without_word_runs`]). Each change only widens what a pattern matches, so a
/// pattern the set rules out cannot match, and one it lets through is still checked.
struct PatternSet {
    ascii: RegexSet,
    loose: RegexSet,
    /// Each pattern's address and its index in the sets, sorted by address.
    index: Vec<(usize, usize)>,
}

static PATTERN_SET: LazyLock<Option<PatternSet>> = LazyLock::new(PatternSet::build);

impl PatternSet {
    /// `None` if a set fails to build (every pattern then runs on its own).
    fn build() -> Option<PatternSet> {
        let compiled: Vec<(usize, &Compiled)> = all_patterns()
            .filter_map(|p| Some((address(p), p.as_ref()?)))
            .collect();
        let ascii = build_set(
            compiled
                .iter()
                .map(|(_, c)| without_word_runs(c.ascii.as_str())),
        )?;
        let loose = build_set(
            compiled
                .iter()
                .map(|(_, c)| without_word_runs(&c.unicode.as_str().replace(r"\b", "(?:)"))),
        )?;
        let mut index: Vec<(usize, usize)> = compiled
            .iter()
            .enumerate()
            .map(|(i, (address, _))| (*address, i))
            .collect();
        index.sort_unstable();
        Some(PatternSet {
            ascii,
            loose,
            index,
        })
    }

    /// Which patterns may match `norm`.
    fn candidates(&self, norm: &str) -> SetMatches {
        if norm.is_ascii() {
            self.ascii.matches(norm)
        } else {
            self.loose.matches(norm)
        }
    }

    /// Where `pattern` is in the sets (`None` for a pattern not declared with
    /// [`patterns!`]).
    fn position(&self, pattern: &Pattern) -> Option<usize> {
        let address = address(pattern);
        self.index
            .binary_search_by_key(&address, |&(a, _)| a)
            .ok()
            .and_then(|k| self.index.get(k))
            .map(|&(_, i)| i)
    }
}

/// Least required text (see [`without_word_runs`]) worth keeping in the set on its
/// own: a smaller piece ("to ", "\\b") would let through nearly every sentence.
const MIN_SCORE: usize = 6;

/// `pattern` loosened for the sets: the longest run of its top-level pieces without
/// a `\S` (a word of any shape). Wherever a pattern matches, each run of its
/// top-level pieces matches the part of the text that run covered (assertions such
/// as `\b` look at the same text), so the run rules out no sentence the pattern
/// matches. Word loops like `(\S+)` keep the set's automaton discovering new states
/// sentence after sentence; the literal words around them are what tell sentences
/// apart. A pattern with a top-level alternation, with no run worth
/// [`MIN_SCORE`], or that this reading does not understand, is kept whole.
fn without_word_runs(pattern: &str) -> String {
    let Some(pieces) = top_level_pieces(pattern) else {
        return pattern.to_owned();
    };
    // The best run is the one with the most required text: a plain character counts
    // two, a group that must match one, an optional piece nothing.
    let mut best: Option<(usize, Range<usize>)> = None;
    let mut run: Option<(usize, Range<usize>)> = None;
    for piece in pieces
        .iter()
        .chain(std::iter::once(&(pattern.len()..pattern.len())))
    {
        let text = &pattern[piece.clone()];
        if piece.is_empty() || text.contains(r"\S") {
            if let Some((score, r)) = run.take()
                && best.as_ref().is_none_or(|(b, _)| score > *b)
            {
                best = Some((score, r));
            }
            continue;
        }
        let optional = text.ends_with(['?', '*']) || text.contains("{0,");
        let score = if optional {
            0
        } else if text.starts_with(['(', '[', '\\', '^', '$']) {
            1
        } else {
            2
        };
        run = Some(match run {
            Some((s, r)) => (s + score, r.start..piece.end),
            None => (score, piece.clone()),
        });
    }
    match best {
        Some((score, best)) if score >= MIN_SCORE && best.len() < pattern.len() => {
            pattern[best].to_owned()
        }
        _ => pattern.to_owned(),
    }
}

/// The byte ranges of `pattern`'s top-level pieces (an escape, a class, a group or a
/// character, each with its quantifier), or `None` for a top-level alternation or
/// anything unexpected.
fn top_level_pieces(pattern: &str) -> Option<Vec<Range<usize>>> {
    let bytes = pattern.as_bytes();
    let mut pieces = Vec::new();
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        let start = at;
        at = match b {
            b'\\' => {
                // Escapes with a braced argument (`\p{L}`, `\x{..}`) are not read here.
                if matches!(bytes.get(at + 1), Some(b'p' | b'P' | b'x' | b'u' | b'U')) {
                    return None;
                }
                let escaped = pattern.get(at + 1..)?.chars().next()?;
                at + 1 + escaped.len_utf8()
            }
            b'[' => skip_class(bytes, at)?,
            b'(' => skip_group(bytes, at)?,
            b'|' | b')' | b'*' | b'+' | b'?' | b'{' | b'}' => return None,
            _ => at + pattern.get(at..)?.chars().next()?.len_utf8(),
        };
        // The piece's quantifier, and its lazy mark.
        match bytes.get(at) {
            Some(b'?' | b'*' | b'+') => at += 1,
            Some(b'{') => at += 1 + bytes.get(at..)?.iter().position(|&c| c == b'}')?,
            _ => {}
        }
        if bytes.get(at) == Some(&b'?') {
            at += 1;
        }
        pieces.push(start..at);
    }
    Some(pieces)
}

/// The byte after the class opening at `open`.
fn skip_class(bytes: &[u8], open: usize) -> Option<usize> {
    let mut at = open + 1;
    if bytes.get(at) == Some(&b'^') {
        at += 1;
    }
    // A ']' first in a class is a member.
    if bytes.get(at) == Some(&b']') {
        at += 1;
    }
    loop {
        match bytes.get(at)? {
            b'\\' => at += 2,
            b']' => return Some(at + 1),
            // Nested classes are not read here.
            b'[' => return None,
            _ => at += 1,
        }
    }
}

/// The byte after the group opening at `open`.
fn skip_group(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut at = open;
    loop {
        match bytes.get(at)? {
            b'\\' => at += 2,
            b'[' => at = skip_class(bytes, at)?,
            b'(' => {
                depth += 1;
                at += 1;
            }
            b')' => {
                depth = depth.checked_sub(1)?;
                at += 1;
                if depth == 0 {
                    return Some(at);
                }
            }
            _ => at += 1,
        }
    }
}

/// Room for the set's lazily built automaton: with a hundred patterns it has many
/// states, and rebuilding them when the default cache (2 MiB) fills cost more than
/// the scan itself. Each thread that runs the sets holds up to this much per set,
/// so it is also a bound on a pass's memory: 4 MiB was as fast as 16 MiB on the
/// benchmark exports.
const SET_CACHE_BYTES: usize = 4 << 20;

fn build_set(patterns: impl Iterator<Item = String>) -> Option<RegexSet> {
    RegexSetBuilder::new(patterns)
        .dfa_size_limit(SET_CACHE_BYTES)
        .build()
        .ok()
}

/// A pattern's identity: patterns are statics, so each has one address.
fn address(pattern: &Pattern) -> usize {
    std::ptr::from_ref(pattern) as usize
}

/// One match of a pattern, in token indexes.
pub struct Hit {
    pub start: usize,
    pub end: usize,
    groups: Vec<Option<Range<usize>>>,
}

impl Hit {
    /// Token range of capture group `n`.
    pub fn group(&self, n: usize) -> Option<Range<usize>> {
        self.groups.get(n).cloned().flatten()
    }
}

/// A sentence being scanned, and what the rules found in it.
pub struct Scan<'a> {
    pub s: &'a Sentence,
    pub ctx: Context,
    /// What asks a question, and whether the sentence is a what-if: read the first
    /// time a rule asks (most sentences match no rule and never do).
    question: OnceCell<Option<Range<usize>>>,
    hypothetical: OnceCell<bool>,
    /// The sentence mentions a passing moment ("today", "this week").
    pub transient: bool,
    pub found: Vec<Finding>,
    /// The patterns that may match this sentence (`None`: any may).
    candidates: Option<SetMatches>,
}

impl<'a> Scan<'a> {
    fn new(s: &'a Sentence, ctx: Context) -> Scan<'a> {
        Scan {
            s,
            ctx,
            question: OnceCell::new(),
            hypothetical: OnceCell::new(),
            transient: guards::is_transient(&s.norm),
            found: Vec::new(),
            candidates: PATTERN_SET.as_ref().map(|set| set.candidates(&s.norm)),
        }
    }

    /// Whether a statement starting at token `i` can be a fact about the user.
    pub fn about_user(&self, i: usize) -> bool {
        let hypothetical = || {
            *self
                .hypothetical
                .get_or_init(|| guards::is_hypothetical(&self.s.norm))
        };
        if self.handed_over(i) || hypothetical() || self.reported_by_someone_else(i) {
            return false;
        }
        let at = self.s.byte_of(i);
        !self
            .question
            .get_or_init(|| guards::question_span(self.s))
            .as_ref()
            .is_some_and(|q| q.contains(&at))
    }

    /// "My mom says I'm a terrible cook", "he thinks I'm lazy": someone else's claim.
    fn reported_by_someone_else(&self, i: usize) -> bool {
        (1..i).any(|k| {
            let reports = matches!(
                self.s.lower(k),
                "says"
                    | "said"
                    | "thinks"
                    | "thought"
                    | "told"
                    | "claims"
                    | "claimed"
                    | "believes"
                    | "insists"
                    | "jokes"
                    | "joked"
                    | "assumes"
                    | "assumed"
            );
            let next = if self.s.lower(k + 1) == "that" {
                k + 2
            } else {
                k + 1
            };
            let about_me = matches!(self.s.lower(next), "i" | "me");
            // A diagnosis is reported too, and it is the user's: "the doctor says I have…".
            let reporter = self.s.lower(k - 1);
            let clinician = matches!(
                reporter,
                "doctor"
                    | "doc"
                    | "gp"
                    | "dr"
                    | "physician"
                    | "specialist"
                    | "cardiologist"
                    | "dermatologist"
                    | "neurologist"
                    | "psychiatrist"
                    | "therapist"
                    | "test"
                    | "tests"
                    | "results"
                    | "scan"
                    | "bloodwork"
                    | "endocrinologist"
            );
            reports && about_me && !clinician && !matches!(reporter, "i" | "we")
        })
    }

    /// Whether token `i` is inside invented or handed-over text: a story or role-play,
    /// or text the user asked to have translated or rewritten.
    pub fn handed_over(&self, i: usize) -> bool {
        self.ctx.roleplay
            || self.ctx.fiction
            || self
                .ctx
                .transform_at
                .is_some_and(|at| self.s.byte_of(i) >= at)
    }

    /// Whether names of the user's people and pets can be taken from this sentence.
    pub fn about_people(&self) -> bool {
        !self.ctx.roleplay
    }

    /// Polarity of the clause from token `from` to the next clause break; a statement
    /// the clause's opening puts in the past ("before that I spent six years as…",
    /// "previously, head of sales at…") is ended.
    pub fn polarity(&self, from: usize) -> Polarity {
        if self.opened_in_the_past(from) {
            return Polarity::Ended;
        }
        let mut to = from + 1;
        while to < self.s.len()
            && !matches!(
                self.s.lower(to),
                "," | ";"
                    | "."
                    | "but"
                    | "?"
                    | "!"
                    | "so"
                    | "because"
                    | "which"
                    | "that"
                    | "and"
                    | "when"
                    | "if"
                    | "since"
                    | "while"
                    | "("
                    | "though"
                    | "although"
            )
        {
            to += 1;
        }
        guards::polarity(self.s, from, to)
    }

    /// Whether the words from the clause's start up to token `at` mark what follows as
    /// past: "before that", "previously", "back then", "prior to that", "spent N years".
    /// A clause break resets it, so "I was a cook before that, now I'm a nurse" keeps
    /// the nurse current.
    pub fn opened_in_the_past(&self, at: usize) -> bool {
        let start = (0..at)
            .rev()
            .find(|&k| is_clause_break(self.s.lower(k)))
            .map_or(0, |k| k + 1);
        let words: Vec<&str> = (start..at.min(self.s.len()))
            .map(|k| self.s.lower(k))
            .collect();
        let pair = |a: &str, b: &str| words.windows(2).any(|p| p == [a, b]);
        words.iter().any(|w| {
            matches!(
                *w,
                "previously" | "formerly" | "spent" | "beforehand" | "earlier" | "originally"
            )
        }) || pair("before", "that")
            || pair("before", "this")
            || pair("back", "then")
            || pair("prior", "to")
            || words.windows(3).any(|w| w == ["in", "the", "past"])
    }

    pub fn add(
        &mut self,
        category: Category,
        slot: Option<&'static str>,
        value: impl Into<String>,
        ended: bool,
    ) {
        let value = value.into();
        let value = value
            .trim()
            .trim_end_matches([',', ';', ':', '-'])
            .trim()
            .to_owned();
        if value.chars().filter(|c| c.is_alphanumeric()).count() < 2 {
            return;
        }
        // A single-valued fact supersedes older ones, so a misread one does harm twice.
        if slot.is_some() && !plausible::is_plausible(&value) {
            return;
        }
        let value = super::phrases::capitalise(&value);
        let finding = Finding {
            category,
            slot,
            value,
            ended,
        };
        if !self.found.contains(&finding) {
            self.found.push(finding);
        }
    }

    /// Whether the pattern set leaves `pattern` possible in this sentence.
    fn may_match(&self, pattern: &Pattern) -> bool {
        let Some((set, candidates)) = PATTERN_SET.as_ref().zip(self.candidates.as_ref()) else {
            return true;
        };
        set.position(pattern).is_none_or(|i| candidates.matched(i))
    }

    /// All matches of `pattern` in this sentence.
    pub fn hits(&self, pattern: &Pattern) -> Vec<Hit> {
        let Some(compiled) = pattern.as_ref() else {
            return Vec::new();
        };
        if !self.may_match(pattern) {
            return Vec::new();
        }
        let re = compiled.for_text(&self.s.norm);
        // The sets let through patterns that cannot match after all (they hold
        // loosened patterns): deciding that needs no capture slots.
        if !re.is_match(&self.s.norm) {
            return Vec::new();
        }
        re.captures_iter(&self.s.norm)
            .filter_map(|caps| {
                let whole = caps.get(0)?;
                let groups = (0..caps.len())
                    .map(|n| {
                        caps.get(n)
                            .map(|m| self.s.token_at(m.start())..self.s.token_at(m.end()))
                    })
                    .collect();
                Some(Hit {
                    start: self.s.token_at(whole.start()),
                    end: self.s.token_at(whole.end()),
                    groups,
                })
            })
            .collect()
    }
}

/// Words that end a clause: a comma, "but", "now", "and".
fn is_clause_break(word: &str) -> bool {
    matches!(
        word,
        "," | ";" | "." | "but" | "!" | "?" | "and" | "now" | "currently" | "today"
    )
}

/// Runs every rule on one sentence.
pub fn find_facts(s: &Sentence, ctx: Context) -> Vec<Finding> {
    if !ctx.trusted && !speaks_of_self(s) {
        return Vec::new();
    }
    find_facts_of_speaker(s, ctx)
}

/// [`find_facts`] on a sentence the caller already knows [`speaks_of_self`] (or
/// one from a trusted source).
pub fn find_facts_of_speaker(s: &Sentence, ctx: Context) -> Vec<Finding> {
    // In a role-play nothing is about the user or their people (`Scan::about_people`):
    // known before the guards and the pattern set run.
    if ctx.roleplay {
        return Vec::new();
    }
    let mut scan = Scan::new(s, ctx);
    identity::find(&mut scan);
    places::find(&mut scan);
    work::find(&mut scan);
    people::find(&mut scan);
    wellbeing::find(&mut scan);
    interests::find(&mut scan);
    scan.found
}

/// "Moved to Leeds" → "moved to Leeds"; acronyms ("ICU nurse") stay as they are.
fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match (chars.next(), text.chars().nth(1)) {
        (Some(c), Some(second)) if !second.is_uppercase() => {
            c.to_lowercase().chain(chars).collect()
        }
        _ => text.to_owned(),
    }
}

/// Whether any rule could fire: every rule about the user or their people needs a
/// first-person word or one of a few signature and place words. Most sentences of a
/// large export have none, and skipping them keeps a pass fast.
pub fn speaks_of_self(s: &Sentence) -> bool {
    (0..s.len()).any(|i| {
        let word = s.lower(i);
        // Every listed word starts with one of these letters: most words are ruled
        // out by their first byte, without comparing them with the list.
        matches!(
            word.as_bytes().first(),
            Some(b'i' | b'm' | b'w' | b'o' | b'u' | b'h' | b's' | b'f')
        ) && matches!(
            word,
            "i" | "my"
                | "me"
                | "we"
                | "our"
                | "us"
                | "mine"
                | "here"
                | "home"
                | "sign"
                | "sign-off"
                | "signed"
                | "from"
        ) || work::is_degree(s.text(i))
    })
}

/// Verbs whose subject people leave out ("Moved to Leeds last year", "Been surfing
/// for years"), and what they stand for.
const IMPLIED_SUBJECT: &[(&str, &str)] = &[
    ("moving", "I am"),
    ("living", "I am"),
    ("working", "I am"),
    ("training", "I am"),
    ("learning", "I am"),
    ("studying", "I am"),
    ("starting", "I am"),
    ("building", "I am"),
    ("making", "I am"),
    ("writing", "I am"),
    ("teaching", "I am"),
    ("getting", "I am"),
    ("going", "I am"),
    ("preparing", "I am"),
    ("applying", "I am"),
    ("playing", "I am"),
    ("releasing", "I am"),
    ("recording", "I am"),
    ("developing", "I am"),
    ("researching", "I am"),
    ("taking", "I am"),
    ("volunteering", "I am"),
    ("raising", "I am"),
    ("doing", "I am"),
    ("moved", "I"),
    ("started", "I"),
    ("joined", "I"),
    ("left", "I"),
    ("quit", "I"),
    ("passed", "I"),
    ("finished", "I"),
    ("graduated", "I"),
    ("switched", "I"),
    ("retired", "I am"),
    ("relocated", "I"),
    ("became", "I"),
    ("bought", "I"),
    ("adopted", "I"),
    ("grew", "I"),
    ("been", "I have"),
    ("got", "I"),
    ("went", "I"),
];

/// Words people put before the sentence's real start.
const OPENERS: &[&str] = &[
    "so", "ok", "okay", "and", "also", "just", "finally", "recently", "well", "btw", "hi", "hey",
    "hello", "update", "news", "yay", "anyway", "oh", "actually", "still", "now", "since",
];

/// The sentence with its left-out subject restored, when it starts with a verb or
/// (in the user's own profile) with a description of them.
pub fn with_subject(text: &str, trusted: bool) -> String {
    subject_restored(text, trusted, &Sentence::parse(text)).unwrap_or_else(|| text.to_owned())
}

/// [`with_subject`] and the parsed result. Most sentences need no subject, and their
/// parse is then reused rather than done twice.
pub fn parse_with_subject(text: &str, trusted: bool) -> (Cow<'_, str>, Sentence) {
    let parsed = Sentence::parse(text);
    match subject_restored(text, trusted, &parsed) {
        Some(prepared) if prepared != text => {
            let reparsed = Sentence::parse(&prepared);
            (Cow::Owned(prepared), reparsed)
        }
        _ => (Cow::Borrowed(text), parsed),
    }
}

/// `text` with the subject it leaves out restored (`None`: it needs none); `s` is
/// `text` parsed.
fn subject_restored(text: &str, trusted: bool, s: &Sentence) -> Option<String> {
    let first = (0..s.len()).find(|&i| {
        let w = s.lower(i);
        !OPENERS.contains(&w) && !super::phrases::is_punct(w) && w != "!"
    })?;
    let word = s.lower(first);
    if matches!(word, "i" | "my" | "we" | "our" | "me") {
        return None;
    }
    // What precedes the subject's place and what follows it, spelt out only for the
    // few sentences that get a subject.
    let lead = || s.span_text(0, first);
    let rest = || s.span_text(first, s.len());
    let prefixed = |subject: &str| -> String {
        // A restored verb is lowercased ("I moved…"); a description keeps its capital
        // so that a capitalised writer's sentence is not mistaken for an all-lowercase
        // one.
        let rest = if subject != "I am a" {
            lowercase_first(&rest())
        } else {
            rest()
        };
        // Keep a lowercase writer's sentence all lowercase.
        let lowercase_writer = !text.chars().any(char::is_uppercase);
        let subject = if lowercase_writer {
            subject.to_lowercase()
        } else {
            subject.to_owned()
        };
        let lead = lead();
        if lead.is_empty() {
            format!("{subject} {rest}")
        } else {
            format!("{lead} {subject} {rest}")
        }
    };
    if let Some((_, subject)) = IMPLIED_SUBJECT.iter().find(|(w, _)| *w == word) {
        // "Moving to Leeds" but not "Moving is stressful".
        if !matches!(s.lower(first + 1), "is" | "was" | "can" | "will" | "'s") {
            return Some(prefixed(subject));
        }
    }
    // The cheap test of the next word first: most sentences fail it and are done
    // without looking through the word lists.
    let next = s.lower(first + 1);
    let describes_user = || {
        super::lexicon::DIETS.iter().any(|(d, _)| *d == word)
            || super::lexicon::CONDITION_ADJECTIVES
                .iter()
                .any(|(c, _)| c.split(' ').next() == Some(word))
            || matches!(
                word,
                "married"
                    | "single"
                    | "divorced"
                    | "separated"
                    | "widowed"
                    | "engaged"
                    | "widower"
                    | "widow"
            )
    };
    if (trusted || matches!(next, "for" | "since" | "here" | "," | "and" | "now" | "too"))
        && describes_user()
    {
        return Some(prefixed("I am"));
    }
    if !trusted {
        return None;
    }
    if super::phrases::role_at(s, first).is_some() {
        return Some(prefixed("I am a"));
    }
    // A profile's "Husband Kenji works in sales." is "My husband Kenji…".
    let relative = super::lexicon::RELATIONS.iter().any(|(r, _, _)| *r == word);
    if relative && s.is_capitalised(first + 1) {
        let rest = lowercase_first(&rest());
        let lead = lead();
        return Some(if lead.is_empty() {
            format!("My {rest}")
        } else {
            format!("{lead} My {rest}")
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn facts(text: &str) -> Vec<Finding> {
        facts_in(text, Context::default())
    }

    pub fn facts_in(text: &str, ctx: Context) -> Vec<Finding> {
        let text = with_subject(text, ctx.trusted);
        find_facts(&Sentence::parse(&text), ctx)
    }

    pub fn values(text: &str) -> Vec<String> {
        facts(text).into_iter().map(|f| f.value).collect()
    }

    #[test]
    fn subject_is_restored() {
        assert_eq!(
            with_subject("Moved to Leeds last year", false),
            "I moved to Leeds last year"
        );
        assert_eq!(
            with_subject("so been surfing for years", false),
            "so i have been surfing for years"
        );
        assert_eq!(
            with_subject("Vegetarian for ten years now", false),
            "I am vegetarian for ten years now"
        );
        assert_eq!(
            with_subject("Civil engineer in Durban.", true),
            "I am a Civil engineer in Durban."
        );
        assert_eq!(
            with_subject("Civil engineer in Durban.", false),
            "Civil engineer in Durban."
        );
        assert_eq!(
            with_subject("Moving is stressful", false),
            "Moving is stressful"
        );
    }

    #[test]
    fn a_clause_opened_in_the_past_ends_the_job_it_names() {
        let found = facts("Before that I spent 9 years as a baker in Hull");
        assert!(!found.is_empty());
        assert!(found.iter().all(|f| f.ended), "{found:?}");
        // The clause break ends the past: the second job is current.
        let found = facts("Previously a baker, now I am a welder");
        let welder = found.iter().find(|f| f.value == "Welder");
        assert!(welder.is_some_and(|f| !f.ended), "{found:?}");
    }

    #[test]
    fn a_denied_role_is_no_job() {
        assert!(
            !values("I am no baker, so keep it simple").contains(&"Baker".to_owned()),
            "{:?}",
            values("I am no baker, so keep it simple")
        );
        assert!(values("I am a baker, so keep it simple").contains(&"Baker".to_owned()));
    }

    #[test]
    fn relatives_named_with_called_or_name_is() {
        for text in [
            "My nephew is called Oskar",
            "my nephew's name is Oskar",
            "My nephew Oskar",
        ] {
            assert!(
                values(text).contains(&"Nephew: Oskar".to_owned()),
                "{text}: {:?}",
                values(text)
            );
        }
    }

    #[test]
    fn roleplay_finds_nothing() {
        let ctx = Context {
            roleplay: true,
            ..Context::default()
        };
        assert!(facts_in("I live in Oslo with my wife Kari", ctx).is_empty());
    }

    #[test]
    fn fiction_keeps_people_but_not_claims() {
        let ctx = Context {
            fiction: true,
            ..Context::default()
        };
        let found: Vec<String> = facts_in(
            "Write a story for my son Tobias where I am a pirate in Goa",
            ctx,
        )
        .into_iter()
        .map(|f| f.value)
        .collect();
        assert_eq!(found, vec!["Son: Tobias".to_owned()]);
    }

    #[test]
    fn the_pattern_set_never_rules_out_a_match() {
        let set = PATTERN_SET.as_ref().expect("the pattern set builds");
        let patterns: Vec<&Pattern> = all_patterns().collect();
        assert_eq!(set.index.len(), patterns.len());
        let sentences = [
            "I live in Oslo with my wife Kari and our dog Rex",
            "i moved to zürich last year and i work at a café as a barista",
            "my name is Zoë and i am a nurse in Malmö",
            "I'm a big Borussia Dortmund fan, and I play the cello",
            "we have been living in São Paulo since 2019 and my son Léo is 4",
            "my sister Ana is a teacher, I'm vegan and I speak Welsh",
        ];
        for text in sentences {
            let s = Sentence::parse(text);
            let candidates = set.candidates(&s.norm);
            for (i, pattern) in patterns.iter().enumerate() {
                let Some(compiled) = pattern.as_ref() else {
                    continue;
                };
                if compiled.unicode.is_match(&s.norm) {
                    assert_eq!(set.position(pattern), Some(i));
                    assert!(candidates.matched(i), "{} on {}", compiled.unicode, s.norm);
                }
            }
        }
    }

    #[test]
    fn loosened_patterns_keep_the_required_words() {
        assert_eq!(
            without_word_runs(r"\bmy (?:full |real )?name (?:is|'s) (\S+)"),
            r"\bmy (?:full |real )?name (?:is|'s) "
        );
        assert_eq!(
            without_word_runs(r"\b(?:i have an?|my) (\S+(?: \S+)?) allergy\b"),
            r" allergy\b"
        );
        // Top-level alternation, nothing worth keeping, no word loop: kept whole.
        for whole in [r"\bi am (\S+)|\bwe (\S+)", r"\bi (\S+)", r"\bliving in\b"] {
            assert_eq!(without_word_runs(whole), whole);
        }
        for pattern in all_patterns().filter_map(|p| p.as_ref()) {
            for text in [pattern.ascii.as_str(), pattern.unicode.as_str()] {
                let loosened = without_word_runs(text);
                assert!(Regex::new(&loosened).is_ok(), "{text} -> {loosened}");
                assert!(text.contains(&loosened), "{text} -> {loosened}");
            }
        }
    }

    #[test]
    fn ascii_twin_finds_the_same_on_ascii_text() {
        let compiled = compile(r"\b(my|our) (son|dog)\b named (\w+)").unwrap();
        assert_ne!(compiled.ascii.as_str(), compiled.unicode.as_str());
        let text = "yes my son named leo and our dog named rex_2";
        let spans = |re: &Regex| -> Vec<Vec<Option<(usize, usize)>>> {
            re.captures_iter(text)
                .map(|c| c.iter().map(|m| m.map(|m| (m.start(), m.end()))).collect())
                .collect()
        };
        assert_eq!(spans(&compiled.ascii), spans(&compiled.unicode));
        assert_eq!(spans(&compiled.ascii).len(), 2);
        // Not ASCII: the pattern as written decides.
        assert!(std::ptr::eq(
            compiled.for_text("café my son named léo"),
            &compiled.unicode
        ));
    }
}
