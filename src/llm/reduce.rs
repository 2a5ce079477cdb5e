//! Reduce: the chunks' facts say the same thing in different words and hold values
//! that changed over time. Exact repeats are folded here; the rest is shown to the
//! model in batches of numbered facts, and it answers only which ids to merge,
//! supersede or drop. It never rewrites the list, so nothing is lost to a cut-off
//! answer: a fact it does not mention is kept as it is.

use super::LlmError;
use super::answer::{self, Action, Decision, earliest, latest};
use super::api::{ApiClient, StructuredCall};
use super::config::LlmConfig;
use super::prompt::{REDUCE_INSTRUCTIONS, REDUCE_TOOL, reduce_schema};
use super::usage::JobUsage;
use crate::extract::{Category, Fact, MAX_CONVERSATION_IDS, PastValue};
use futures_util::StreamExt;
use serde_json::json;
use std::collections::HashMap;

/// Rounds over a category too large for one batch; each round moves the batch boundaries.
const MAX_ROUNDS: usize = 3;

/// Lowercase words, for spotting the same statement written twice (an ended fact
/// is not the same as a current one).
fn statement_key(fact: &Fact) -> (Category, bool, String) {
    let words: Vec<String> = fact
        .value
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    (fact.category, fact.ended, words.join(" "))
}

/// Folds `other`, the same fact seen elsewhere, into `into`.
fn merge_into(into: &mut Fact, other: Fact) {
    // Mentions count conversations: one both facts cite is counted once.
    let shared = other
        .conversations
        .iter()
        .filter(|id| into.conversations.contains(id))
        .count();
    let shared = u32::try_from(shared).unwrap_or(u32::MAX);
    into.mentions = into
        .mentions
        .saturating_add(other.mentions.saturating_sub(shared));
    into.first_seen = earliest(into.first_seen, other.first_seen);
    into.last_seen = latest(into.last_seen, other.last_seen);
    for id in other.conversations {
        if into.conversations.len() >= MAX_CONVERSATION_IDS {
            break;
        }
        if !into.conversations.contains(&id) {
            into.conversations.push(id);
        }
    }
    if into.slot.is_none() {
        into.slot = other.slot;
    }
    into.previously.extend(other.previously);
    tidy_past(into);
}

/// Records `old`, a value `into` replaced, as its past value.
fn supersede_into(into: &mut Fact, old: Fact) {
    if into.slot.is_none() {
        into.slot = old.slot;
    }
    into.previously.push(PastValue {
        value: old.value,
        first_seen: old.first_seen,
        last_seen: old.last_seen,
    });
    into.previously.extend(old.previously);
    tidy_past(into);
}

/// Past values newest first, each once, none equal to the current value.
fn tidy_past(fact: &mut Fact) {
    fact.previously.sort_by(|a, b| {
        b.last_seen
            .cmp(&a.last_seen)
            .then(b.first_seen.cmp(&a.first_seen))
    });
    let current = fact.value.to_lowercase();
    let mut seen: Vec<String> = Vec::new();
    fact.previously.retain(|p| {
        let key = p.value.to_lowercase();
        if key == current || seen.contains(&key) {
            return false;
        }
        seen.push(key);
        true
    });
}

/// Folds facts whose statements are the same words (case and punctuation aside).
pub(crate) fn merge_repeats(facts: Vec<Fact>) -> Vec<Fact> {
    let mut out: Vec<Fact> = Vec::with_capacity(facts.len());
    let mut index: HashMap<(Category, bool, String), usize> = HashMap::new();
    for fact in facts {
        let key = statement_key(&fact);
        match index.get(&key).and_then(|&i| out.get_mut(i)) {
            Some(existing) => merge_into(existing, fact),
            None => {
                index.insert(key, out.len());
                out.push(fact);
            }
        }
    }
    out
}

fn parse_id(id: &str) -> Option<usize> {
    let n: usize = id.trim().strip_prefix('f')?.parse().ok()?;
    n.checked_sub(1)
}

/// Applies a batch's decisions. The first decision about an id counts; a merge or
/// supersede across categories, into itself, in a cycle, into a dropped fact, or
/// (supersede) into an older fact is ignored and the fact kept as it is.
pub(crate) fn apply(batch: Vec<Fact>, decisions: &[Decision]) -> Vec<Fact> {
    let n = batch.len();
    let mut link: Vec<Option<(Action, usize)>> = vec![None; n];
    let mut dropped = vec![false; n];
    let mut decided = vec![false; n];
    for d in decisions {
        let Some(i) = parse_id(&d.id).filter(|&i| i < n) else {
            continue;
        };
        if decided.get(i).copied().unwrap_or(true) {
            continue;
        }
        if let Some(slot) = decided.get_mut(i) {
            *slot = true;
        }
        match d.action {
            Action::Drop => {
                if let Some(slot) = dropped.get_mut(i) {
                    *slot = true;
                }
            }
            Action::Merge | Action::Supersede => {
                let Some(t) = d
                    .target
                    .as_deref()
                    .and_then(parse_id)
                    .filter(|&t| t < n && t != i)
                else {
                    continue;
                };
                let (Some(fact), Some(target)) = (batch.get(i), batch.get(t)) else {
                    continue;
                };
                if fact.category != target.category {
                    continue;
                }
                if d.action == Action::Supersede
                    && let (Some(old), Some(new)) = (fact.last_seen, target.last_seen)
                    && old > new
                {
                    continue;
                }
                if let Some(slot) = link.get_mut(i) {
                    *slot = Some((d.action, t));
                }
            }
        }
    }
    // Where each linked fact ends up: the fact at the end of its chain, and whether it
    // is an old value there (any supersede on the way) or the same fact.
    let resolve = |start: usize| -> Option<(usize, Action)> {
        let mut at = start;
        let mut action = Action::Merge;
        for _ in 0..n {
            match link.get(at).copied().flatten() {
                Some((step, next)) => {
                    if step == Action::Supersede {
                        action = Action::Supersede;
                    }
                    at = next;
                }
                None => {
                    return (!dropped.get(at).copied().unwrap_or(true)).then_some((at, action));
                }
            }
        }
        None // a cycle
    };
    let destinations: Vec<Option<(usize, Action)>> = (0..n)
        .map(|i| match link.get(i).copied().flatten() {
            Some(_) => resolve(i),
            None => None,
        })
        .collect();
    let mut slots: Vec<Option<Fact>> = batch.into_iter().map(Some).collect();
    let mut folded: Vec<(usize, Action, Fact)> = Vec::new();
    for (i, destination) in destinations.iter().enumerate() {
        if let Some((root, action)) = destination
            && let Some(fact) = slots.get_mut(i).and_then(Option::take)
        {
            folded.push((*root, *action, fact));
        }
    }
    // Merges first, so a root's dates are complete before old values are attached.
    folded.sort_by_key(|(_, action, _)| *action == Action::Supersede);
    for (root, action, fact) in folded {
        if let Some(Some(into)) = slots.get_mut(root) {
            match action {
                Action::Supersede => supersede_into(into, fact),
                _ => merge_into(into, fact),
            }
        }
    }
    slots
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !dropped.get(*i).copied().unwrap_or(false))
        .filter_map(|(_, f)| f)
        .collect()
}

/// Runs the reduce requests of one job.
pub(crate) struct Reducer<'a> {
    pub api: &'a ApiClient,
    pub config: &'a LlmConfig,
    pub usage: &'a JobUsage,
}

impl Reducer<'_> {
    /// Merges, supersedes and drops by the model's decisions, in as many requests as needed.
    pub(crate) async fn reduce(&self, candidates: Vec<Fact>) -> Result<Vec<Fact>, LlmError> {
        // Facts the user said ended go to the consolidator as they are: it retires
        // the matching current facts with them.
        let (ended, facts): (Vec<Fact>, Vec<Fact>) =
            merge_repeats(candidates).into_iter().partition(|f| f.ended);
        let mut reduced = self.reduce_current(facts).await?;
        reduced.extend(ended);
        Ok(reduced)
    }

    async fn reduce_current(&self, facts: Vec<Fact>) -> Result<Vec<Fact>, LlmError> {
        if facts.len() < 2 {
            return Ok(facts);
        }
        if facts.len() <= self.config.reduce_batch {
            return self.round(vec![facts]).await;
        }
        // Per category: its facts, and whether the model has seen them all in one batch.
        let mut by_category: Vec<(Vec<Fact>, bool)> = Category::ALL
            .iter()
            .map(|c| {
                (
                    facts.iter().filter(|f| f.category == *c).cloned().collect(),
                    false,
                )
            })
            .collect();
        for round in 0..MAX_ROUNDS {
            let mut batches = Vec::new();
            for (category, seen_whole) in &mut by_category {
                if category.len() < 2 || *seen_whole {
                    continue;
                }
                *seen_whole = category.len() <= self.config.reduce_batch;
                batches.extend(self.batches(std::mem::take(category), round));
            }
            if batches.is_empty() {
                break;
            }
            let before: usize = batches.iter().map(Vec::len).sum();
            let after = self.round(batches).await?;
            let shrank = after.len() < before;
            for fact in after {
                let position = Category::ALL.iter().position(|c| *c == fact.category);
                if let Some((group, _)) = position.and_then(|p| by_category.get_mut(p)) {
                    group.push(fact);
                }
            }
            if !shrank {
                break;
            }
        }
        Ok(by_category
            .into_iter()
            .flat_map(|(facts, _)| facts)
            .collect())
    }

    /// One category's facts in batches, like facts next to each other (same slot, similar
    /// wording). Odd rounds start with a half batch so that the boundaries move.
    fn batches(&self, mut facts: Vec<Fact>, round: usize) -> Vec<Vec<Fact>> {
        facts.sort_by(|a, b| {
            (a.slot.is_none(), &a.slot, a.value.to_lowercase()).cmp(&(
                b.slot.is_none(),
                &b.slot,
                b.value.to_lowercase(),
            ))
        });
        let size = self.config.reduce_batch;
        let mut batches = Vec::new();
        let mut rest = facts;
        if round % 2 == 1 && rest.len() > size {
            let tail = rest.split_off(size / 2);
            batches.push(rest);
            rest = tail;
        }
        while rest.len() > size {
            let tail = rest.split_off(size);
            batches.push(rest);
            rest = tail;
        }
        batches.push(rest);
        batches
    }

    async fn round(&self, batches: Vec<Vec<Fact>>) -> Result<Vec<Fact>, LlmError> {
        let mut results = futures_util::stream::iter(batches)
            .map(|batch| self.batch(batch))
            .buffer_unordered(self.config.concurrency.max(1));
        let mut out = Vec::new();
        while let Some(result) = results.next().await {
            out.extend(result?);
        }
        Ok(out)
    }

    async fn batch(&self, batch: Vec<Fact>) -> Result<Vec<Fact>, LlmError> {
        if batch.len() < 2 {
            return Ok(batch);
        }
        let lines: Vec<String> = batch
            .iter()
            .enumerate()
            .map(|(i, f)| {
                json!({
                    "id": format!("f{}", i + 1),
                    "category": f.category.name(),
                    "slot": f.slot,
                    "statement": f.value,
                    "first_seen": f.first_seen,
                    "last_seen": f.last_seen,
                    "mentions": f.mentions,
                })
                .to_string()
            })
            .collect();
        let input = format!("Facts:\n{}", lines.join("\n"));
        let schema = reduce_schema();
        let call = StructuredCall {
            instructions: REDUCE_INSTRUCTIONS,
            input: &input,
            tool: REDUCE_TOOL,
            tool_description: "Record which facts to merge, supersede or drop.",
            schema: &schema,
        };
        self.usage.record(|u| u.reduce_requests += 1);
        let reply = match self.api.call(&call, self.usage).await {
            Ok(reply) => reply,
            Err(LlmError::ContentRefused { message, .. }) => {
                tracing::warn!(error = %message, "reduce batch refused; its facts are kept as they are");
                self.usage.record(|u| u.reduce_batches_skipped += 1);
                return Ok(batch);
            }
            Err(e) => return Err(e),
        };
        match answer::decisions(&reply) {
            Ok(decisions) => Ok(apply(batch, &decisions)),
            Err(problem) => {
                tracing::warn!(%problem, "unusable reduce answer; its facts are kept as they are");
                self.usage.record(|u| u.reduce_batches_skipped += 1);
                Ok(batch)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Source;
    use chrono::NaiveDate;

    fn fact(category: Category, slot: Option<&str>, value: &str, first: u32, last: u32) -> Fact {
        Fact {
            category,
            slot: slot.map(str::to_owned),
            value: value.to_owned(),
            first_seen: NaiveDate::from_ymd_opt(2024, 1, first),
            last_seen: NaiveDate::from_ymd_opt(2024, 1, last),
            mentions: 1,
            conversations: vec![format!("conv-{value}")],
            source: Source::Llm,
            previously: Vec::new(),
            ended: false,
        }
    }

    fn decide(id: &str, action: Action, target: Option<&str>) -> Decision {
        Decision {
            id: id.to_owned(),
            action,
            target: target.map(str::to_owned),
        }
    }

    #[test]
    fn repeats_fold_into_one_fact() {
        let facts = merge_repeats(vec![
            fact(Category::Pets, None, "Has a dog named Rex", 3, 3),
            fact(Category::Pets, None, "has a dog named Rex.", 1, 1),
            fact(Category::Work, None, "has a dog named Rex", 2, 2),
        ]);
        assert_eq!(facts.len(), 2);
        assert_eq!(facts[0].mentions, 2);
        assert_eq!(facts[0].first_seen, NaiveDate::from_ymd_opt(2024, 1, 1));
        assert_eq!(facts[0].last_seen, NaiveDate::from_ymd_opt(2024, 1, 3));
        assert_eq!(facts[0].conversations.len(), 2);
    }

    #[test]
    fn merges_supersedes_and_drops_by_id() {
        let batch = vec![
            fact(Category::Location, Some("home"), "Lives in Boston", 1, 5), // f1
            fact(
                Category::Location,
                Some("home"),
                "Lives in Denver, Colorado",
                10,
                20,
            ), // f2
            fact(Category::Location, None, "Lives in Denver", 8, 12),        // f3
            fact(Category::Location, None, "Would live in Rome", 9, 9),      // f4
            fact(Category::Pets, None, "Has a cat", 2, 2),                   // f5
        ];
        let out = apply(
            batch,
            &[
                decide("f1", Action::Supersede, Some("f3")),
                decide("f3", Action::Merge, Some("f2")),
                decide("f4", Action::Drop, None),
                decide("f5", Action::Merge, Some("f2")), // other category: ignored
                decide("f9", Action::Drop, None),        // unknown id: ignored
                decide("f3", Action::Drop, None),        // second decision on f3: ignored
            ],
        );
        assert_eq!(out.len(), 2);
        let home = &out[0];
        assert_eq!(home.value, "Lives in Denver, Colorado");
        assert_eq!(home.mentions, 2);
        assert_eq!(home.first_seen, NaiveDate::from_ymd_opt(2024, 1, 8));
        assert_eq!(home.previously.len(), 1);
        assert_eq!(home.previously[0].value, "Lives in Boston");
        assert_eq!(out[1].value, "Has a cat");
    }

    #[test]
    fn unsafe_decisions_keep_the_facts() {
        let batch = vec![
            fact(Category::Work, Some("job"), "Is a baker", 1, 1),
            fact(Category::Work, Some("job"), "Is a pilot", 5, 5),
            fact(Category::Work, None, "Likes work", 2, 2),
        ];
        let out = apply(
            batch.clone(),
            &[
                // The newer value cannot be superseded by the older one.
                decide("f2", Action::Supersede, Some("f1")),
                // A cycle.
                decide("f1", Action::Merge, Some("f3")),
                decide("f3", Action::Merge, Some("f1")),
            ],
        );
        assert_eq!(out, batch);
        let out = apply(
            batch.clone(),
            &[
                decide("f1", Action::Merge, Some("f3")),
                decide("f3", Action::Drop, None),
            ],
        );
        // f3 is dropped; f1, whose target is gone, stays.
        assert_eq!(out.len(), 2);
        assert!(out.iter().any(|f| f.value == "Is a baker"));
    }
}
