//! From many candidate facts (any extractor's) to the facts MEMORY.md shows.
//!
//! The same fact is said many ways and many times; single-valued facts change
//! (people move, change jobs, partners, diets); MEMORY has a size budget. So:
//! 1. drop candidates in excluded categories or holding a secret;
//! 2. merge paraphrases: same category and slot, and one value's key words contain the
//!    other's ("Lives in Columbus" ⊂ "Lives in Columbus, Ohio");
//! 3. per slot, the value seen most recently is current and older ones become
//!    "previously …"; a value the user said ended is rendered as past;
//! 4. rank by trust, frequency, recency and category, and keep the best-ranked facts
//!    that fit the line and byte budget.

use super::secrets::contains_secret;
use super::{Category, ExtractSettings, Fact, PastValue, Source};
use crate::memory;
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};

/// Conversation ids kept per fact (the full count is in `mentions`).
pub const MAX_CONVERSATION_IDS: usize = 20;
/// Older values kept per slot.
const MAX_PREVIOUS: usize = 3;
/// Longest value kept, in characters.
const MAX_VALUE_CHARS: usize = 180;

/// Merges, resolves and ranks candidate facts, then keeps the best-ranked ones that fit
/// `settings`' budget. The result is ordered by category, best-ranked first within one.
pub fn consolidate(candidates: Vec<Fact>, settings: &ExtractSettings) -> Vec<Fact> {
    let mut by_slot: BTreeMap<(Category, Option<String>), Vec<Group>> = BTreeMap::new();
    let mut sorted: Vec<(BTreeSet<String>, Fact)> = candidates
        .into_iter()
        .filter(|f| !settings.excluded.contains(&f.category))
        .filter(|f| {
            !f.value.trim().is_empty()
                && !contains_secret(&f.value)
                && !f.value.contains(super::secrets::REDACTED)
        })
        .map(|mut f| {
            f.value = clip(f.value.trim(), MAX_VALUE_CHARS);
            (key_words(&f), f)
        })
        .collect();
    // Most informative first, so shorter paraphrases join the fuller value's group.
    // Ties broken by value and dates: the candidates arrive in hash order, and
    // the same export must always give the same MEMORY.
    sorted.sort_by(|(a_words, a), (b_words, b)| {
        b_words
            .len()
            .cmp(&a_words.len())
            .then_with(|| a.value.cmp(&b.value))
            .then_with(|| a.first_seen.cmp(&b.first_seen))
            .then_with(|| a.last_seen.cmp(&b.last_seen))
    });
    for (words, fact) in sorted {
        let groups = by_slot
            .entry((fact.category, fact.slot.clone()))
            .or_default();
        match groups.iter_mut().find(|g| g.same_fact(&words)) {
            Some(group) => group.members.push(fact),
            None => groups.push(Group {
                words,
                members: vec![fact],
            }),
        }
    }
    let mut facts = Vec::new();
    for ((_, slot), groups) in by_slot {
        let merged: Vec<(Fact, Option<NaiveDate>)> = groups.into_iter().map(Group::merge).collect();
        if slot.is_some() {
            facts.extend(resolve_slot(merged));
        } else {
            facts.extend(merged.into_iter().map(|(f, _)| f));
        }
    }
    drop_stale_notes(&mut facts);
    let newest = facts.iter().filter_map(|f| f.last_seen).max();
    let oldest = facts.iter().filter_map(|f| f.first_seen).min();
    let mut ranked: Vec<(f64, Fact)> = facts
        .into_iter()
        .map(|f| (score(&f, oldest, newest), f))
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.value.cmp(&b.1.value)));
    let mut kept = within_budget(ranked, settings);
    kept.sort_by(|a, b| {
        a.1.category
            .cmp(&b.1.category)
            .then(b.0.total_cmp(&a.0))
            .then_with(|| a.1.value.cmp(&b.1.value))
    });
    kept.into_iter().map(|(_, f)| f).collect()
}

/// Candidates judged to be the same fact.
struct Group {
    words: BTreeSet<String>,
    members: Vec<Fact>,
}

impl Group {
    fn same_fact(&self, words: &BTreeSet<String>) -> bool {
        !words.is_empty() && (words.is_subset(&self.words) || self.words.is_subset(words))
    }

    /// One fact from the group: the fullest wording (the latest one among equally full
    /// wordings, so "Boyfriend: Sam" becomes "Fiancé: Sam"), the union of dates and
    /// conversations, the most trusted source, and ended if the latest mention says so.
    /// Also returns when the fact was last asserted (see [`asserted`]).
    fn merge(self) -> (Fact, Option<NaiveDate>) {
        let mut members = self.members;
        let profile_since = members
            .iter()
            .filter(|f| f.source == Source::CustomInstructions)
            .filter_map(|f| f.first_seen)
            .min();
        let said = |f: &Fact| asserted(f, profile_since);
        // Members arrive in no fixed order: ties are broken by the whole fact, so
        // the same export always gives the same fact, conversation ids included.
        members.sort_by(|a, b| {
            said(a)
                .cmp(&said(b))
                .then(a.ended.cmp(&b.ended))
                .then_with(|| a.first_seen.cmp(&b.first_seen))
                .then_with(|| a.last_seen.cmp(&b.last_seen))
                .then_with(|| a.value.cmp(&b.value))
                .then_with(|| a.conversations.cmp(&b.conversations))
                .then_with(|| a.mentions.cmp(&b.mentions))
        });
        let last_asserted = members.iter().filter_map(said).max();
        let ended = members.last().is_some_and(|f| f.ended);
        // "Wife: Ana" says more than "Married to: Ana" or "Partner: Ana".
        let specific = members.iter().any(|f| !generic_label(&f.value));
        let eligible = |f: &&Fact| (!f.ended || ended) && (!specific || !generic_label(&f.value));
        let word_counts: Vec<usize> = members.iter().map(|f| key_words(f).len()).collect();
        let best_len = members
            .iter()
            .zip(&word_counts)
            .filter(|(f, _)| eligible(f))
            .map(|(_, &n)| n)
            .max()
            .unwrap_or(0);
        let representative = members
            .iter()
            .zip(&word_counts)
            .rev()
            .find(|&(f, &n)| eligible(&f) && n == best_len)
            .map(|(f, _)| f)
            .or(members.last())
            .map(|f| (f.value.clone(), f.slot.clone(), f.category));
        let (value, slot, category) = match representative {
            Some(r) => r,
            None => (String::new(), None, Category::Identity),
        };
        let mut conversations: Vec<String> = Vec::new();
        let mut seen = BTreeSet::new();
        let mut mentions: u32 = 0;
        for f in &members {
            let new_ids: Vec<&String> = f
                .conversations
                .iter()
                .filter(|id| !seen.contains(id.as_str()))
                .collect();
            if f.conversations.is_empty() {
                mentions = mentions.saturating_add(f.mentions.max(1));
            } else if !new_ids.is_empty() {
                // Mentions beyond the listed ids (a capped list) count as new too.
                let unlisted = f.mentions.saturating_sub(f.conversations.len() as u32);
                mentions = mentions
                    .saturating_add(new_ids.len() as u32)
                    .saturating_add(unlisted);
            }
            for id in &f.conversations {
                if seen.insert(id.clone()) && conversations.len() < MAX_CONVERSATION_IDS {
                    conversations.push(id.clone());
                }
            }
        }
        let fact = Fact {
            category,
            slot,
            value,
            first_seen: members.iter().filter_map(|f| f.first_seen).min(),
            last_seen: members.iter().filter_map(|f| f.last_seen).max(),
            mentions: mentions.max(1),
            conversations,
            source: members
                .iter()
                .map(|f| f.source)
                .min()
                .unwrap_or(Source::UserMessage),
            previously: Vec::new(),
            ended,
        };
        (fact, last_asserted)
    }
}

/// When a candidate was last *said*. Custom instructions (`profile_since`: when the
/// text first appeared) ride along in every
/// conversation, so their last sighting says nothing about whether they are still
/// true: they count from when that text first appeared. "I'm not vegan anymore" in
/// a message then beats a profile that still says "Vegan".
fn asserted(f: &Fact, profile_since: Option<NaiveDate>) -> Option<NaiveDate> {
    if f.source == Source::CustomInstructions {
        profile_since.or(f.first_seen)
    } else {
        f.last_seen
    }
}

/// Labels that name a relationship without saying which one.
fn generic_label(value: &str) -> bool {
    ["Partner: ", "Spouse: ", "Married to: ", "Engaged to: "]
        .iter()
        .any(|l| value.starts_with(l))
}

/// One slot's values: the most recently seen is current (values seen on that same
/// day stay current beside it), older ones become its `previously`. If the most
/// recent news is that the value ended, it is kept as a past fact.
fn resolve_slot(mut values: Vec<(Fact, Option<NaiveDate>)>) -> Vec<Fact> {
    values.sort_by(|(a, a_said), (b, b_said)| {
        b_said
            .cmp(a_said)
            .then(a.ended.cmp(&b.ended))
            .then(b.first_seen.cmp(&a.first_seen))
            .then(b.mentions.cmp(&a.mentions))
    });
    // The current value is the latest one still true; a value the user said ended
    // retires only itself ("I was a tester before the kids" leaves "stay-at-home dad"
    // current). Only when every value ended is the latest of them shown, as past.
    let current_at = values.iter().position(|(f, _)| !f.ended).unwrap_or(0);
    if current_at >= values.len() {
        return Vec::new();
    }
    let (mut current, current_said) = values.remove(current_at);
    let mut out = Vec::new();
    let mut older = Vec::new();
    for (other, other_said) in values {
        if !current.ended && !other.ended && other_said == current_said {
            out.push(other);
        } else {
            older.push(other);
        }
    }
    // Newest first.
    older.sort_by_key(|f| std::cmp::Reverse(f.last_seen));
    current.previously = older
        .iter()
        .take(MAX_PREVIOUS)
        .map(|old| PastValue {
            value: past_wording(&current.value, &old.value),
            first_seen: old.first_seen,
            last_seen: old.last_seen,
        })
        .collect();
    out.insert(0, current);
    out
}

/// How an old value reads after the current one: the words they share at the start
/// are dropped ("Lives in Denver" then "Lives in Boston" → "Boston").
fn past_wording(current: &str, old: &str) -> String {
    let cur: Vec<&str> = current.split_whitespace().collect();
    let old_words: Vec<&str> = old.split_whitespace().collect();
    let shared = cur
        .iter()
        .zip(&old_words)
        .take_while(|(a, b)| a.eq_ignore_ascii_case(b))
        .count();
    if shared == 0 || shared >= old_words.len() {
        return old.to_owned();
    }
    old_words[shared..].join(" ")
}

/// Whole sentences kept from trusted text (saved memories, custom instructions) go
/// stale when a slot they mention moves on: "Works at Acme in Pune" must not survive
/// a move to Bengaluru unmarked.
fn drop_stale_notes(facts: &mut Vec<Fact>) {
    let mut stale: Vec<String> = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for f in facts.iter().filter(|f| f.slot.is_some()) {
        if f.ended {
            stale.push(f.value.to_lowercase());
        } else {
            current.push(f.value.to_lowercase());
        }
        stale.extend(f.previously.iter().map(|p| p.value.to_lowercase()));
    }
    let stale: Vec<String> = stale
        .into_iter()
        .map(|s| distinctive_part(&s))
        .filter(|s| s.len() >= 3 && !current.iter().any(|c| c.contains(s.as_str())))
        .collect();
    if stale.is_empty() {
        return;
    }
    facts.retain(|f| {
        if f.slot.is_some() || f.source == Source::UserMessage {
            return true;
        }
        let lower = f.value.to_lowercase();
        !stale.iter().any(|s| contains_words(&lower, s))
    });
}

/// The part of a slot value that names the thing ("works at moonbeam studio" → "moonbeam studio").
fn distinctive_part(value: &str) -> String {
    const LEADS: &[&str] = &[
        "lives in ",
        "works at ",
        "works as a ",
        "works as an ",
        "works as ",
        "studies at ",
        "from ",
        "grew up in ",
    ];
    for lead in LEADS {
        if let Some(rest) = value.strip_prefix(lead) {
            return rest.to_owned();
        }
    }
    value.to_owned()
}

fn contains_words(haystack: &str, needle: &str) -> bool {
    haystack.match_indices(needle).any(|(i, _)| {
        let before = haystack[..i].chars().next_back();
        let after = haystack[i + needle.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// Higher is better: trusted sources, repeated and recent facts, core categories.
fn score(f: &Fact, oldest: Option<NaiveDate>, newest: Option<NaiveDate>) -> f64 {
    let trust = match f.source {
        Source::AssistantMemory | Source::CustomInstructions => 3.0,
        Source::Llm => 2.0,
        Source::UserMessage => 1.0,
    };
    let frequency = 1.5 * (1.0 + f64::from(f.mentions.min(30))).ln();
    let recency = match (oldest, newest, f.last_seen) {
        (Some(o), Some(n), Some(l)) => {
            let span = (n - o).num_days().max(1) as f64;
            2.0 * (1.0 - (n - l).num_days() as f64 / span).clamp(0.0, 1.0)
        }
        _ => 1.0,
    };
    let importance = match f.category {
        Category::Identity => 2.5,
        Category::Location | Category::Work | Category::Family => 2.0,
        Category::Health => 1.6,
        Category::Pets | Category::Languages => 1.3,
        Category::Interests | Category::Projects => 1.0,
        Category::Preferences | Category::Goals => 0.8,
    };
    let past = if f.ended { -1.0 } else { 0.0 };
    trust + frequency + recency + 1.5 * importance + past
}

/// The best-ranked facts whose rendered lines fit the line and byte budgets; a fact
/// that does not fit is skipped and smaller, lower-ranked ones may still fit.
fn within_budget(ranked: Vec<(f64, Fact)>, settings: &ExtractSettings) -> Vec<(f64, Fact)> {
    let mut used_bytes = memory::HEADING.len();
    let mut lines = 0usize;
    let mut categories: BTreeSet<Category> = BTreeSet::new();
    let mut kept = Vec::new();
    for (score, fact) in ranked {
        let mut cost = memory::bullet(&fact).len();
        if !categories.contains(&fact.category) {
            cost += memory::section_heading(fact.category).len();
        }
        if lines + 1 > settings.max_lines || used_bytes + cost > settings.max_bytes {
            continue;
        }
        lines += 1;
        used_bytes += cost;
        categories.insert(fact.category);
        kept.push((score, fact));
    }
    kept
}

/// The words that identify a fact: lowercase, accents folded, small words and plural
/// endings dropped; for single-valued slots the "Label:" prefix is dropped too, so
/// "Boyfriend: Sam" and "Partner: Sam" are one fact.
pub(crate) fn key_words(fact: &Fact) -> BTreeSet<String> {
    let value = fact.value.as_str();
    let value = match (fact.slot.as_ref(), value.split_once(": ")) {
        (Some(_), Some((label, rest))) if label.split_whitespace().count() <= 3 => rest,
        _ => value,
    };
    words_of(value)
}

pub(crate) fn words_of(text: &str) -> BTreeSet<String> {
    const SMALL: &[&str] = &[
        "a", "an", "the", "of", "in", "at", "on", "for", "to", "and", "my", "their", "is", "as",
        "with", "from", "works", "lives",
    ];
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !SMALL.contains(w))
        .map(|w| {
            if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
                w[..w.len() - 1].to_owned()
            } else {
                w.to_owned()
            }
        })
        .collect()
}

/// Lowercase with common Latin accents removed ("São" → "sao").
pub(crate) fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => 'a',
            'ç' | 'č' | 'ć' => 'c',
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'ī' => 'i',
            'ñ' | 'ń' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => 'o',
            'ù' | 'ú' | 'û' | 'ü' | 'ū' => 'u',
            'ý' | 'ÿ' => 'y',
            'š' | 'ś' => 's',
            'ž' | 'ź' | 'ż' => 'z',
            'ł' => 'l',
            other => other,
        })
        .collect()
}

fn clip(value: &str, max_chars: usize) -> String {
    if value.chars().count() <= max_chars {
        return value.to_owned();
    }
    let cut: String = value.chars().take(max_chars).collect();
    match cut.rfind(' ') {
        Some(i) if i > max_chars / 2 => format!("{}…", &cut[..i]),
        _ => format!("{cut}…"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
    }

    fn cand(category: Category, slot: Option<&str>, value: &str, date: &str, conv: &str) -> Fact {
        Fact::observed(category, slot, value, Source::UserMessage, conv, day(date))
    }

    fn settings() -> ExtractSettings {
        ExtractSettings::default()
    }

    #[test]
    fn paraphrases_merge_and_count_conversations() {
        let facts = consolidate(
            vec![
                cand(
                    Category::Location,
                    Some("home"),
                    "Lives in Porto",
                    "2023-02-01",
                    "a",
                ),
                cand(
                    Category::Location,
                    Some("home"),
                    "Lives in Porto, Portugal",
                    "2024-05-01",
                    "b",
                ),
                cand(
                    Category::Location,
                    Some("home"),
                    "Lives in porto",
                    "2024-05-01",
                    "b",
                ),
            ],
            &settings(),
        );
        assert_eq!(facts.len(), 1);
        let f = &facts[0];
        assert_eq!(f.value, "Lives in Porto, Portugal");
        assert_eq!(f.mentions, 2);
        assert_eq!(f.first_seen, day("2023-02-01"));
        assert_eq!(f.last_seen, day("2024-05-01"));
        assert!(f.previously.is_empty());
    }

    #[test]
    fn merged_conversations_do_not_depend_on_input_order() {
        // Same day, different wordings and conversations: every order must list
        // the conversations the same way.
        let inputs = [
            cand(Category::Interests, None, "Plays chess", "2024-03-01", "c1"),
            cand(Category::Interests, None, "Plays chess", "2024-03-01", "c2"),
            cand(
                Category::Interests,
                None,
                "Plays chess online",
                "2024-03-01",
                "c3",
            ),
            cand(Category::Interests, None, "plays chess", "2024-03-01", "c4"),
        ];
        let merged = |order: &[usize]| {
            let facts = consolidate(
                order.iter().map(|&i| inputs[i].clone()).collect(),
                &settings(),
            );
            assert_eq!(facts.len(), 1, "{facts:?}");
            (facts[0].value.clone(), facts[0].conversations.clone())
        };
        let first = merged(&[0, 1, 2, 3]);
        for order in [[3, 2, 1, 0], [1, 3, 0, 2], [2, 0, 3, 1]] {
            assert_eq!(merged(&order), first, "order {order:?}");
        }
    }

    #[test]
    fn newer_value_of_a_slot_supersedes_older_regardless_of_input_order() {
        let facts = consolidate(
            vec![
                cand(
                    Category::Location,
                    Some("home"),
                    "Lives in Tromsø",
                    "2024-09-01",
                    "c",
                ),
                cand(
                    Category::Location,
                    Some("home"),
                    "Lives in Bergen",
                    "2022-01-10",
                    "a",
                ),
                cand(
                    Category::Location,
                    Some("home"),
                    "Lives in Bergen",
                    "2023-06-30",
                    "b",
                ),
            ],
            &settings(),
        );
        assert_eq!(facts.len(), 1);
        assert_eq!(facts[0].value, "Lives in Tromsø");
        assert_eq!(
            facts[0].previously,
            vec![PastValue {
                value: "Bergen".to_owned(),
                first_seen: day("2022-01-10"),
                last_seen: day("2023-06-30"),
            }]
        );
        let md = memory::render_markdown(&facts);
        assert!(md.contains("- Lives in Tromsø (previously Bergen, 2022-01 → 2023-06) [2024-09]"));
    }

    #[test]
    fn partner_label_changes_are_one_fact() {
        let facts = consolidate(
            vec![
                cand(
                    Category::Family,
                    Some("partner"),
                    "Boyfriend: Idris",
                    "2022-03-01",
                    "a",
                ),
                cand(
                    Category::Family,
                    Some("partner"),
                    "Fiancé: Idris",
                    "2024-03-01",
                    "b",
                ),
            ],
            &settings(),
        );
        assert_eq!(facts.len(), 1);
        assert_eq!(facts[0].value, "Fiancé: Idris");
        assert_eq!(facts[0].mentions, 2);
    }

    #[test]
    fn ended_value_is_past_and_a_new_one_replaces_it() {
        let mut quit = cand(
            Category::Health,
            Some("diet"),
            "Vegetarian",
            "2024-01-05",
            "b",
        );
        quit.ended = true;
        let facts = consolidate(
            vec![
                cand(
                    Category::Health,
                    Some("diet"),
                    "Vegetarian",
                    "2022-04-01",
                    "a",
                ),
                quit.clone(),
            ],
            &settings(),
        );
        assert_eq!(facts.len(), 1);
        assert!(facts[0].ended);
        assert_eq!(facts[0].value, "Vegetarian");
        let facts = consolidate(
            vec![
                cand(
                    Category::Health,
                    Some("diet"),
                    "Vegetarian",
                    "2022-04-01",
                    "a",
                ),
                quit,
                cand(
                    Category::Health,
                    Some("diet"),
                    "Pescatarian",
                    "2024-06-01",
                    "c",
                ),
            ],
            &settings(),
        );
        assert_eq!(facts.len(), 1);
        assert_eq!(facts[0].value, "Pescatarian");
        assert!(!facts[0].ended);
        assert_eq!(facts[0].previously[0].value, "Vegetarian");
    }

    #[test]
    fn specific_relationship_labels_win_over_generic_ones() {
        let facts = consolidate(
            vec![
                cand(
                    Category::Family,
                    Some("partner"),
                    "Married to: Noor",
                    "2024-08-01",
                    "a",
                ),
                cand(
                    Category::Family,
                    Some("partner"),
                    "Wife: Noor",
                    "2023-01-01",
                    "b",
                ),
            ],
            &settings(),
        );
        assert_eq!(facts.len(), 1);
        assert_eq!(facts[0].value, "Wife: Noor");
    }

    #[test]
    fn a_later_message_overrides_a_standing_profile() {
        let mut profile = Vec::new();
        for (day, conv) in [
            ("2023-01-01", "a"),
            ("2024-06-01", "b"),
            ("2025-01-01", "c"),
        ] {
            let mut f = cand(Category::Health, Some("diet"), "Vegan", day, conv);
            f.source = Source::CustomInstructions;
            profile.push(f);
        }
        let mut quit = cand(Category::Health, Some("diet"), "Vegan", "2024-03-01", "q");
        quit.ended = true;
        profile.push(quit);
        let facts = consolidate(profile, &settings());
        assert_eq!(facts.len(), 1);
        assert!(facts[0].ended, "{facts:?}");
    }

    #[test]
    fn an_ended_value_does_not_retire_a_different_current_one() {
        let mut standing = cand(
            Category::Work,
            Some("job"),
            "Stay-at-home dad",
            "2023-01-01",
            "a",
        );
        standing.source = Source::CustomInstructions;
        let mut past = cand(
            Category::Work,
            Some("job"),
            "Software tester",
            "2024-06-01",
            "b",
        );
        past.ended = true;
        let facts = consolidate(vec![standing, past], &settings());
        assert_eq!(facts.len(), 1, "{facts:?}");
        assert_eq!(facts[0].value, "Stay-at-home dad");
        assert!(!facts[0].ended);
        assert_eq!(facts[0].previously[0].value, "Software tester");
    }

    #[test]
    fn same_day_values_stay_side_by_side() {
        let facts = consolidate(
            vec![
                cand(
                    Category::Location,
                    Some("home"),
                    "Lives in Kreuzberg",
                    "2024-03-03",
                    "a",
                ),
                cand(
                    Category::Location,
                    Some("home"),
                    "Lives in Berlin",
                    "2024-03-03",
                    "a",
                ),
            ],
            &settings(),
        );
        assert_eq!(facts.len(), 2);
        assert!(facts.iter().all(|f| f.previously.is_empty()));
    }

    #[test]
    fn accumulating_facts_do_not_supersede() {
        let facts = consolidate(
            vec![
                cand(Category::Interests, None, "Plays chess", "2022-01-01", "a"),
                cand(
                    Category::Interests,
                    None,
                    "Plays chess on lichess",
                    "2023-01-01",
                    "b",
                ),
                cand(Category::Interests, None, "Knitting", "2024-01-01", "c"),
            ],
            &settings(),
        );
        assert_eq!(facts.len(), 2);
        assert!(
            facts
                .iter()
                .any(|f| f.value == "Plays chess on lichess" && f.mentions == 2)
        );
    }

    #[test]
    fn secrets_and_excluded_categories_are_dropped() {
        let s = ExtractSettings {
            excluded: vec![Category::Health],
            ..ExtractSettings::default()
        };
        let facts = consolidate(
            vec![
                cand(Category::Health, None, "Asthma", "2024-01-01", "a"),
                cand(
                    Category::Projects,
                    None,
                    "Bot token ghp_16C7e42F292c6912E7710c838347Ae178B4a",
                    "2024-01-01",
                    "a",
                ),
                cand(Category::Pets, None, "Cat: Miso", "2024-01-01", "a"),
            ],
            &s,
        );
        assert_eq!(facts.len(), 1);
        assert_eq!(facts[0].value, "Cat: Miso");
    }

    #[test]
    fn ranking_prefers_frequent_recent_trusted_and_budget_drops_the_lowest() {
        let mut candidates = Vec::new();
        for i in 0..40 {
            candidates.push(cand(
                Category::Interests,
                None,
                &format!("Collects item number {i} with a fairly long description attached"),
                "2022-01-01",
                &format!("x{i}"),
            ));
        }
        for conv in ["a", "b", "c"] {
            candidates.push(cand(
                Category::Interests,
                None,
                "Birdwatching",
                "2024-06-01",
                conv,
            ));
        }
        let mut name = cand(
            Category::Identity,
            Some("name"),
            "Name: Ilse",
            "2023-01-01",
            "m",
        );
        name.source = Source::AssistantMemory;
        candidates.push(name);
        let s = ExtractSettings {
            max_lines: 10,
            max_bytes: 600,
            excluded: Vec::new(),
        };
        let facts = consolidate(candidates, &s);
        let md = memory::render_markdown(&facts);
        assert!(md.len() <= 600, "{} bytes", md.len());
        assert!(facts.len() <= 10);
        assert!(facts.iter().any(|f| f.value == "Name: Ilse"));
        assert!(facts.iter().any(|f| f.value == "Birdwatching"));
        // Within a category, the best-ranked fact comes first.
        let interests: Vec<&Fact> = facts
            .iter()
            .filter(|f| f.category == Category::Interests)
            .collect();
        assert_eq!(interests[0].value, "Birdwatching");
    }

    #[test]
    fn stale_trusted_notes_are_dropped_after_a_slot_moves_on() {
        let mut note = cand(
            Category::Work,
            None,
            "Runs a bakery in Ghent with two staff",
            "2022-05-01",
            "a",
        );
        note.source = Source::AssistantMemory;
        let facts = consolidate(
            vec![
                note,
                cand(
                    Category::Location,
                    Some("home"),
                    "Lives in Ghent",
                    "2022-05-01",
                    "a",
                ),
                cand(
                    Category::Location,
                    Some("home"),
                    "Lives in Leuven",
                    "2024-02-01",
                    "b",
                ),
            ],
            &settings(),
        );
        assert!(
            facts.iter().all(|f| !f.value.contains("bakery")),
            "{facts:?}"
        );
    }
}
