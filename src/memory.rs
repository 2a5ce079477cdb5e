//! Rendering facts as the MEMORY.md section and as the `memory_facts` JSON.
//!
//! MEMORY.md is what the user's assistant reads before every chat, so each fact is
//! one self-contained bullet: the statement, what it replaced, and when and how often
//! it was seen — enough for the assistant to weigh an old one-off against a fact
//! repeated last week.

use crate::extract::{Category, Fact};
use chrono::{Datelike, NaiveDate};
use std::fmt::Write as _;

/// The section heading that starts MEMORY.md.
pub const HEADING: &str = "## Memory\n";

/// MEMORY.md: one section per non-empty category in [`Category`] order, one fact per
/// bullet with its dates, facts in the order given within a category (the consolidator
/// gives them best-ranked first).
pub fn render_markdown(facts: &[Fact]) -> String {
    let mut out = String::from(HEADING);
    for category in Category::ALL {
        let mut in_category = facts.iter().filter(|f| f.category == category).peekable();
        if in_category.peek().is_none() {
            continue;
        }
        out.push_str(&section_heading(category));
        for fact in in_category {
            out.push_str(&bullet(fact));
        }
    }
    out
}

/// The heading of one category's section, with the blank line before it.
pub fn section_heading(category: Category) -> String {
    format!("\n### {}\n", category.title())
}

/// One fact's bullet line, newline included:
/// `- Lives in Denver (previously Boston, 2022-01 → 2023-06) [2023-07 → 2025-01, 4×]`.
pub fn bullet(fact: &Fact) -> String {
    let mut line = String::from("- ");
    if fact.ended {
        line.push_str("Previously: ");
    }
    line.push_str(&inline(&fact.value));
    if !fact.previously.is_empty() {
        line.push_str(" (previously ");
        for (i, past) in fact.previously.iter().enumerate() {
            if i > 0 {
                line.push_str("; ");
            }
            line.push_str(&inline(&past.value));
            if let Some(span) = month_span(past.first_seen, past.last_seen) {
                let _ = write!(line, ", {span}");
            }
        }
        line.push(')');
    }
    let span = month_span(fact.first_seen, fact.last_seen);
    match (span, fact.mentions > 1) {
        (Some(span), true) => {
            let _ = write!(line, " [{span}, {}×]", fact.mentions);
        }
        (Some(span), false) => {
            let _ = write!(line, " [{span}]");
        }
        (None, true) => {
            let _ = write!(line, " [{}×]", fact.mentions);
        }
        (None, false) => {}
    }
    line.push('\n');
    line
}

/// `2024-03`, or `2024-03 → 2025-01` when the first and last months differ.
fn month_span(first: Option<NaiveDate>, last: Option<NaiveDate>) -> Option<String> {
    let month = |d: NaiveDate| match d.year() {
        // What `%Y-%m` gives, without parsing the format string each time.
        year @ 0..=9999 => format!("{year:04}-{:02}", d.month()),
        _ => d.format("%Y-%m").to_string(),
    };
    match (first, last) {
        (Some(a), Some(b)) if month(a) != month(b) => Some(format!("{} → {}", month(a), month(b))),
        (Some(a), _) | (None, Some(a)) => Some(month(a)),
        (None, None) => None,
    }
}

/// A value made safe for one Markdown bullet: one line, no heading or list markup.
fn inline(value: &str) -> String {
    let one_line = value.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line
        .trim_start_matches(['#', '-', '*', '>', ' '])
        .to_owned()
}

/// The same facts as JSON, for the `memory_facts` column and `process --json`.
///
/// Shape (version 1), stable: new keys may be added, existing ones keep their meaning.
/// ```json
/// { "version": 1,
///   "facts": [ { "category": "location",          // Category::name()
///                "slot": "home",                  // or null for facts that accumulate
///                "value": "Lives in Denver",
///                "first_seen": "2023-07-02",      // or null
///                "last_seen": "2025-01-15",       // or null
///                "mentions": 4,                   // conversations mentioning it
///                "conversations": ["..."],        // a capped sample of their ids
///                "source": "user_message",        // assistant_memory | custom_instructions | user_message | llm
///                "previously": [ { "value": "Boston", "first_seen": "2022-01-10", "last_seen": "2023-06-30" } ],
///                "ended": false } ] }             // true: no longer true, shown as "Previously: ..."
/// ```
pub fn render_json(facts: &[Fact]) -> serde_json::Value {
    serde_json::json!({ "version": 1, "facts": facts })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{PastValue, Source};

    fn day(s: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
    }

    fn fact(category: Category, value: &str, first: &str, last: &str, mentions: u32) -> Fact {
        Fact {
            category,
            slot: None,
            value: value.to_owned(),
            first_seen: day(first),
            last_seen: day(last),
            mentions,
            conversations: vec!["c1".to_owned()],
            source: Source::UserMessage,
            previously: Vec::new(),
            ended: false,
        }
    }

    #[test]
    fn sections_follow_category_order_and_skip_empty_ones() {
        let facts = vec![
            fact(
                Category::Pets,
                "Dog: Biscotti (greyhound)",
                "2024-02-03",
                "2024-02-03",
                1,
            ),
            fact(
                Category::Identity,
                "Name: Tomasz",
                "2023-01-05",
                "2024-11-20",
                3,
            ),
        ];
        let md = render_markdown(&facts);
        assert_eq!(
            md,
            "## Memory\n\n### Identity\n- Name: Tomasz [2023-01 → 2024-11, 3×]\n\n### Pets\n- Dog: Biscotti (greyhound) [2024-02]\n"
        );
    }

    #[test]
    fn previously_and_ended_are_rendered_as_past() {
        let mut home = fact(
            Category::Location,
            "Lives in Lyon",
            "2023-07-01",
            "2025-01-09",
            2,
        );
        home.slot = Some("home".to_owned());
        home.previously.push(PastValue {
            value: "Nantes".to_owned(),
            first_seen: day("2022-01-04"),
            last_seen: day("2023-06-30"),
        });
        let mut diet = fact(Category::Health, "Vegan", "2023-03-01", "2023-09-01", 2);
        diet.ended = true;
        let md = render_markdown(&[home, diet]);
        assert!(md.contains(
            "- Lives in Lyon (previously Nantes, 2022-01 → 2023-06) [2023-07 → 2025-01, 2×]\n"
        ));
        assert!(md.contains("- Previously: Vegan [2023-03 → 2023-09, 2×]\n"));
    }

    #[test]
    fn values_cannot_break_the_markdown() {
        let f = fact(
            Category::Interests,
            "# Plays\nchess",
            "2024-05-01",
            "2024-05-01",
            1,
        );
        assert_eq!(bullet(&f), "- Plays chess [2024-05]\n");
    }

    #[test]
    fn empty_memory_is_just_the_heading() {
        assert_eq!(render_markdown(&[]), "## Memory\n");
    }

    #[test]
    fn json_has_version_and_named_fields() {
        let f = fact(
            Category::Work,
            "Works as a welder",
            "2024-05-01",
            "2024-05-01",
            1,
        );
        let json = render_json(&[f]);
        assert_eq!(json["version"], 1);
        assert_eq!(json["facts"][0]["category"], "work");
        assert_eq!(json["facts"][0]["source"], "user_message");
        assert_eq!(json["facts"][0]["first_seen"], "2024-05-01");
        assert_eq!(json["facts"][0]["ended"], false);
    }
}
