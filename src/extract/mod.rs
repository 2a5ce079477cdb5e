//! Facts about the user: found in conversations, filtered by guards and the
//! secret filter, then consolidated into a ranked, budgeted list.
//!
//! Sources, most trusted first: memories ChatGPT saved about the user, the user's
//! custom instructions, then what the user says about themselves in their own
//! messages. Assistant text is never a source: it is what the model said, not what
//! the user is.

mod consolidate;
mod coreference;
mod fact;
mod guards;
mod lexicon;
mod phrases;
mod profile;
mod rules;
pub mod secrets;
mod text;

pub use consolidate::{MAX_CONVERSATION_IDS, consolidate};
pub use fact::{Category, Fact, PastValue, Source};

use crate::ingest::Conversation;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rules::{Context, Finding};
use std::collections::HashMap;
use text::Sentence;

/// What the extractor may keep and how much of it.
#[derive(Debug, Clone)]
pub struct ExtractSettings {
    /// The rendered MEMORY stays within this many bullet lines...
    pub max_lines: usize,
    /// ...and this many bytes.
    pub max_bytes: usize,
    /// Categories never written (for example `health`).
    pub excluded: Vec<Category>,
}

impl Default for ExtractSettings {
    fn default() -> Self {
        ExtractSettings {
            max_lines: 150,
            max_bytes: 8 * 1024,
            excluded: Vec::new(),
        }
    }
}

/// Identity of a candidate while a pass runs: repeats of the same finding merge here
/// so memory grows with distinct facts, not with the export's size.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CandidateKey {
    category: Category,
    slot: Option<&'static str>,
    value: String,
    source: Source,
    ended: bool,
}

/// Profile texts (custom instructions repeat in every conversation) parsed once.
const PROFILE_CACHE_LIMIT: usize = 10_000;

/// The built-in, rule-based extractor: fed one conversation at a time.
pub struct FactExtractor {
    settings: ExtractSettings,
    candidates: HashMap<CandidateKey, Fact>,
    reader: ConversationReader,
}

/// What one conversation says about the user, before it is merged with the rest.
/// Reading a conversation needs no shared state, so a pass can read several at once
/// and merge them in arrival order with [`FactExtractor::merge`].
pub struct ConversationFindings {
    conversation: String,
    found: Vec<(Vec<Finding>, Source, Option<NaiveDate>)>,
}

/// Turns conversations into [`ConversationFindings`]. Each thread of a pass owns one:
/// the cache of profile texts is only a shortcut, so separate caches give the same
/// findings.
#[derive(Default)]
pub struct ConversationReader {
    profile_cache: HashMap<(bool, String, Option<i32>), Vec<Finding>>,
}

/// What carries over from one user message to the next within a conversation.
#[derive(Default)]
struct ConversationState {
    /// A story or poem was requested: later turns refine it.
    fiction: bool,
    /// A role-play started: later turns are in character.
    roleplay: bool,
}

impl FactExtractor {
    pub fn new(settings: ExtractSettings) -> Self {
        FactExtractor {
            settings,
            candidates: HashMap::new(),
            reader: ConversationReader::default(),
        }
    }

    /// Reads one conversation. Conversations may come in any order; dates, not
    /// arrival order, decide which value of a fact is current.
    pub fn observe(&mut self, conversation: &Conversation) {
        let findings = self.reader.read(conversation);
        self.merge(findings);
    }

    /// Adds what a [`ConversationReader`] found in one conversation.
    pub fn merge(&mut self, findings: ConversationFindings) {
        for (found, source, date) in findings.found {
            self.record_all(found, source, &findings.conversation, date);
        }
    }

    /// Consolidated, ranked facts within the budget.
    pub fn finish(self) -> Vec<Fact> {
        consolidate(self.candidates.into_values().collect(), &self.settings)
    }
}

impl ConversationReader {
    /// What `conversation` says about the user.
    pub fn read(&mut self, conversation: &Conversation) -> ConversationFindings {
        let mut findings = ConversationFindings {
            conversation: conversation.id.clone(),
            found: Vec::new(),
        };
        let conversation_date = conversation.date().map(|d| d.date_naive());
        for write in &conversation.memory_writes {
            let date = write.time.map(|t| t.date_naive()).or(conversation_date);
            for (written, sentence) in profile::memory_sentences(&write.text) {
                let date = written.or(date);
                let found = self.profile(&sentence, true, date);
                findings.found.push((found, Source::AssistantMemory, date));
            }
        }
        if let Some(instructions) = &conversation.custom_instructions {
            if let Some(about_user) = &instructions.about_user {
                for sentence in text::sentences(about_user) {
                    let found = self.profile(sentence, false, conversation_date);
                    findings
                        .found
                        .push((found, Source::CustomInstructions, conversation_date));
                }
            }
            if let Some(about_model) = &instructions.about_model {
                let found = profile::style_preferences(about_model);
                findings
                    .found
                    .push((found, Source::CustomInstructions, conversation_date));
            }
        }
        let mut state = ConversationState::default();
        for message in conversation.user_messages() {
            let date = message
                .time
                .or_else(|| conversation.date())
                .map(|t: DateTime<Utc>| t.date_naive());
            let found = user_message_facts(message.own_text(), date, &mut state);
            findings.found.push((found, Source::UserMessage, date));
        }
        findings
    }

    fn profile(
        &mut self,
        sentence: &str,
        from_memory: bool,
        date: Option<NaiveDate>,
    ) -> Vec<Finding> {
        let year = date.map(|d| d.year());
        let key = (from_memory, sentence.to_owned(), year);
        if let Some(found) = self.profile_cache.get(&key) {
            return found.clone();
        }
        let found = profile::profile_facts(sentence, from_memory, year);
        if self.profile_cache.len() < PROFILE_CACHE_LIMIT {
            self.profile_cache.insert(key, found.clone());
        }
        found
    }
}

impl FactExtractor {
    fn record_all(
        &mut self,
        found: Vec<Finding>,
        source: Source,
        conversation: &str,
        date: Option<NaiveDate>,
    ) {
        for finding in found {
            if self.settings.excluded.contains(&finding.category) {
                continue;
            }
            let key = CandidateKey {
                category: finding.category,
                slot: finding.slot,
                value: finding.value,
                source,
                ended: finding.ended,
            };
            match self.candidates.get_mut(&key) {
                Some(fact) => {
                    fact.first_seen = min_date(fact.first_seen, date);
                    fact.last_seen = fact.last_seen.max(date);
                    if !fact.conversations.iter().any(|c| c == conversation) {
                        fact.mentions = fact.mentions.saturating_add(1);
                        if fact.conversations.len() < MAX_CONVERSATION_IDS {
                            fact.conversations.push(conversation.to_owned());
                        }
                    }
                }
                None => {
                    let mut fact = Fact::observed(
                        key.category,
                        key.slot,
                        key.value.clone(),
                        source,
                        conversation,
                        date,
                    );
                    fact.ended = key.ended;
                    self.candidates.insert(key, fact);
                }
            }
        }
    }
}

fn min_date(a: Option<NaiveDate>, b: Option<NaiveDate>) -> Option<NaiveDate> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Facts the user states about themselves in one message.
fn user_message_facts(
    raw: &str,
    date: Option<NaiveDate>,
    state: &mut ConversationState,
) -> Vec<Finding> {
    // Nothing said in a role-play is about the user or their people, and a role-play
    // lasts to the end of the conversation.
    if state.roleplay {
        return Vec::new();
    }
    let year = date.map(|d| d.year());
    // A secret can never become part of a fact if it is gone before the rules run.
    let redacted = secrets::redacted(raw);
    let own = text::own_words(&redacted);
    let mut found = Vec::new();
    let mut own_text_framing = false;
    let mut third_party_framing = false;
    let mut previous_len = 0;
    // The user's relative or pet the previous sentence introduced (`coreference`).
    let mut antecedent: Option<String> = None;
    for sentence in text::sentences(&own.text) {
        let resolved = antecedent
            .take()
            .and_then(|a| coreference::resolved(sentence, &a));
        let sentence = resolved.as_deref().unwrap_or(sentence);
        let (prepared, mut parsed) = rules::parse_with_subject(sentence, false);
        // "I'm a lawyer. Just kidding, I'm a student": take back the previous sentence.
        if [
            "just kidding",
            "jk",
            "kidding",
            "joking",
            "just joking",
            "lol jk",
            "not really",
        ]
        .iter()
        .any(|j| parsed.norm.starts_with(j))
        {
            found.truncate(previous_len);
        }
        previous_len = found.len();
        // A role-play is also a request for fiction (`guards::asks_for_fiction`). A
        // flag already set stays set, so its guard need not run again.
        let roleplay = !state.roleplay && guards::starts_roleplay(&parsed.norm);
        if roleplay {
            state.roleplay = true;
        }
        if !state.fiction && (roleplay || guards::requests_invented_text(&parsed.norm)) {
            state.fiction = true;
        }
        // The framing only decides what becomes of quoted passages.
        if !own.quoted.is_empty() {
            own_text_framing |= guards::quotes_own_text(&parsed.norm);
            third_party_framing |= mentions_someone_elses_text(&parsed.norm);
        }
        // No rule fires on a sentence that does not speak of the user, nor on the
        // instruction before its colon: its tokens are the sentence's first ones.
        if !rules::speaks_of_self(&parsed) {
            continue;
        }
        antecedent = coreference::antecedent(&parsed);
        let mut transform_at = guards::transform_start(&parsed.norm);
        let mut checked = true;
        if transform_at.is_some()
            && let Some((instruction, _)) = prepared.split_once(':')
        {
            // "Translate this: I am a nurse" — what follows the colon is the text.
            parsed = Sentence::parse(instruction);
            transform_at = guards::transform_start(&parsed.norm);
            checked = false;
        }
        let ctx = Context {
            trusted: false,
            fiction: state.fiction,
            transform_at,
            roleplay: state.roleplay,
            year,
        };
        // The instruction alone may not speak of the user: `find_facts` checks it.
        found.extend(if checked {
            rules::find_facts_of_speaker(&parsed, ctx)
        } else {
            rules::find_facts(&parsed, ctx)
        });
    }
    // "Is my self-introduction natural? 'My name is Keiko, I live in Kyoto…'"
    if own_text_framing && !third_party_framing && !state.roleplay && !state.fiction {
        for quoted in &own.quoted {
            for sentence in text::sentences(quoted) {
                let (_, parsed) = rules::parse_with_subject(sentence, false);
                let ctx = Context {
                    year,
                    ..Context::default()
                };
                found.extend(rules::find_facts(&parsed, ctx));
            }
        }
    }
    found
}

/// The quoted text belongs to someone else: a client, a friend, a colleague.
fn mentions_someone_elses_text(norm: &str) -> bool {
    const OTHERS: &[&str] = &[
        "client",
        "friend",
        "colleague",
        "coworker",
        "cousin",
        "boss",
        "customer",
        "neighbour",
        "neighbor",
        "student",
        "patient",
        "someone",
        "made-up",
        "fictional",
        "character",
        "his",
        "her",
        "their",
    ];
    norm.split(' ').any(|w| OTHERS.contains(&w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{CustomInstructions, MemoryWrite, Message, Role};
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> Option<DateTime<Utc>> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).single()
    }

    fn conversation(id: &str, date: Option<DateTime<Utc>>, user: &[&str]) -> Conversation {
        let mut messages = Vec::new();
        for text in user {
            messages.push(Message {
                role: Role::User,
                text: (*text).to_owned(),
                time: date,
            });
            messages.push(Message {
                role: Role::Assistant,
                text: "You live in Atlantis and you are a marine biologist.".to_owned(),
                time: date,
            });
        }
        Conversation {
            id: id.to_owned(),
            created: date,
            messages,
            ..Conversation::default()
        }
    }

    fn run(conversations: &[Conversation]) -> Vec<Fact> {
        let mut extractor = FactExtractor::new(ExtractSettings::default());
        for c in conversations {
            extractor.observe(c);
        }
        extractor.finish()
    }

    fn has(facts: &[Fact], value: &str) -> bool {
        facts.iter().any(|f| f.value == value)
    }

    #[test]
    fn assistant_text_is_never_a_source() {
        let facts = run(&[conversation(
            "a",
            at(2024, 1, 1),
            &["what's a good tide app?"],
        )]);
        assert!(facts.is_empty(), "{facts:?}");
    }

    #[test]
    fn later_conversation_wins_even_when_read_first() {
        let facts = run(&[
            conversation(
                "new",
                at(2024, 9, 1),
                &["we just moved to Ghent, any tips for cycling?"],
            ),
            conversation(
                "old",
                at(2022, 3, 1),
                &["I live in Leuven and work at Brabo Labs."],
            ),
        ]);
        let home: Vec<&Fact> = facts
            .iter()
            .filter(|f| f.slot.as_deref() == Some("home"))
            .collect();
        assert_eq!(home.len(), 1, "{facts:?}");
        assert_eq!(home[0].value, "Lives in Ghent");
        assert_eq!(home[0].previously[0].value, "Leuven");
    }

    #[test]
    fn fiction_and_roleplay_carry_over_within_a_conversation() {
        let facts = run(&[
            conversation(
                "story",
                at(2024, 1, 1),
                &[
                    "Write a story about a sailor.",
                    "Now make it first person: I live in Valparaíso.",
                ],
            ),
            conversation(
                "rp",
                at(2024, 1, 2),
                &[
                    "Let's role-play, you are my therapist.",
                    "I'm a firefighter and my wife Lena left.",
                ],
            ),
        ]);
        assert!(facts.is_empty(), "{facts:?}");
    }

    #[test]
    fn own_quoted_text_counts_but_someone_elses_does_not() {
        let facts = run(&[conversation(
            "a",
            at(2024, 1, 1),
            &["Please check my self introduction: 'My name is Hiroko Sato. I live in Sendai.'"],
        )]);
        assert!(has(&facts, "Name: Hiroko Sato"), "{facts:?}");
        let facts = run(&[conversation(
            "b",
            at(2024, 1, 1),
            &["My friend asked me to check her bio: 'My name is Yuki Mori. I live in Nara.'"],
        )]);
        assert!(facts.is_empty(), "{facts:?}");
    }

    #[test]
    fn a_joke_takes_back_the_previous_sentence() {
        let facts = run(&[conversation(
            "a",
            at(2024, 1, 1),
            &["I'm a surgeon. Just kidding, I'm a student lol."],
        )]);
        assert!(!has(&facts, "Surgeon"), "{facts:?}");
        assert!(has(&facts, "Student"), "{facts:?}");
    }

    #[test]
    fn secrets_never_reach_facts() {
        let facts = run(&[conversation(
            "a",
            at(2024, 1, 1),
            &["my side project is a bot with token ghp_16C7e42F292c6912E7710c838347Ae178B4a lol"],
        )]);
        assert!(facts.iter().all(|f| !f.value.contains("ghp_")), "{facts:?}");
    }

    #[test]
    fn profile_sources_and_dates() {
        let mut c = conversation("a", at(2024, 2, 1), &["hello"]);
        c.custom_instructions = Some(CustomInstructions {
            about_user: Some("I'm a midwife in Tallinn.".to_owned()),
            about_model: Some("Be brief.".to_owned()),
        });
        c.memory_writes = vec![MemoryWrite {
            text: "User has a greyhound named Pilot.".to_owned(),
            time: at(2024, 3, 5),
        }];
        let facts = run(&[c]);
        let job = facts.iter().find(|f| f.value == "Midwife");
        assert_eq!(
            job.map(|f| f.source),
            Some(Source::CustomInstructions),
            "{facts:?}"
        );
        assert!(has(&facts, "Lives in Tallinn"));
        assert!(has(&facts, "Response style: Be brief"));
        let pet = facts.iter().find(|f| f.category == Category::Pets);
        assert_eq!(
            pet.map(|f| f.source),
            Some(Source::AssistantMemory),
            "{facts:?}"
        );
        assert_eq!(
            pet.and_then(|f| f.first_seen),
            NaiveDate::from_ymd_opt(2024, 3, 5)
        );
    }

    #[test]
    fn excluded_categories_are_not_kept() {
        let mut extractor = FactExtractor::new(ExtractSettings {
            excluded: vec![Category::Health],
            ..ExtractSettings::default()
        });
        extractor.observe(&conversation(
            "a",
            at(2024, 1, 1),
            &["I have asthma and I live in Bergen"],
        ));
        let facts = extractor.finish();
        assert!(has(&facts, "Lives in Bergen"));
        assert!(facts.iter().all(|f| f.category != Category::Health));
    }

    #[test]
    fn mentions_count_conversations() {
        let facts = run(&[
            conversation(
                "a",
                at(2024, 1, 1),
                &[
                    "I play the cello in a community orchestra",
                    "I play the cello daily",
                ],
            ),
            conversation("b", at(2024, 5, 1), &["I play the cello, any etude tips?"]),
        ]);
        let cello = facts.iter().find(|f| f.value.starts_with("Plays cello"));
        assert!(cello.is_some(), "{facts:?}");
    }

    mod no_panics {
        use super::super::*;
        use proptest::prelude::*;

        /// Words that reach deep into the rules, glued with punctuation, quotes and
        /// odd characters.
        fn chatty() -> impl Strategy<Value = String> {
            let words = prop::sample::select(vec![
                "I",
                "I'm",
                "my",
                "our",
                "we",
                "wife",
                "Ana",
                "dog",
                "Rex",
                "live",
                "in",
                "Oslo",
                "moved",
                "to",
                "a",
                "nurse",
                "at",
                "Acme",
                "not",
                "anymore",
                "vegan",
                "have",
                "asthma",
                "speak",
                "Welsh",
                "play",
                "chess",
                "if",
                "would",
                "?",
                "!",
                ".",
                ",",
                "(",
                ")",
                "'",
                "\"",
                ":",
                "\n",
                "\n\n",
                "translate",
                "story",
                "sign",
                "it",
                "from",
                "named",
                "called",
                "my name is",
                "Ж",
                "😂",
                "'s",
                "é",
                "-",
                "2024",
                "sk-",
                "ghp_",
                "=",
                "```",
                "password",
                "is",
                "and",
                "but",
                "so",
                "of",
                "as",
                "an",
                "used",
                "been",
                "years",
                "here",
                "home",
                "born",
                "grew",
                "up",
                "ex-",
                "late",
            ]);
            prop::collection::vec(words, 0..60).prop_map(|w| w.join(" "))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn any_text_is_handled(text in "\\PC{0,300}") {
                let mut state = ConversationState::default();
                let _ = user_message_facts(&text, None, &mut state);
                let _ = profile::profile_facts(&text, true, Some(2024));
                let _ = secrets::redact(&text);
            }

            #[test]
            fn chatty_text_is_handled(text in chatty()) {
                let mut state = ConversationState::default();
                let found = user_message_facts(&text, NaiveDate::from_ymd_opt(2024, 5, 1), &mut state);
                for f in &found {
                    prop_assert!(!secrets::contains_secret(&f.value), "{f:?}");
                }
                let _ = profile::profile_facts(&text, false, None);
            }
        }
    }
}
