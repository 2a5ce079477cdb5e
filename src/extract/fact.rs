//! The fact model shared by every extractor, the consolidator and the renderer.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// MEMORY.md sections, in the order they are rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Identity,
    Location,
    Work,
    Family,
    Pets,
    Health,
    Languages,
    Interests,
    Projects,
    Preferences,
    Goals,
}

impl Category {
    pub const ALL: [Category; 11] = [
        Category::Identity,
        Category::Location,
        Category::Work,
        Category::Family,
        Category::Pets,
        Category::Health,
        Category::Languages,
        Category::Interests,
        Category::Projects,
        Category::Preferences,
        Category::Goals,
    ];

    /// The MEMORY.md section heading.
    pub fn title(self) -> &'static str {
        match self {
            Category::Identity => "Identity",
            Category::Location => "Home & location",
            Category::Work => "Work & education",
            Category::Family => "Family & relationships",
            Category::Pets => "Pets",
            Category::Health => "Health & diet",
            Category::Languages => "Languages",
            Category::Interests => "Interests & hobbies",
            Category::Projects => "Projects",
            Category::Preferences => "Preferences",
            Category::Goals => "Goals",
        }
    }

    /// The name used in settings and JSON (`health`, `family`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Category::Identity => "identity",
            Category::Location => "location",
            Category::Work => "work",
            Category::Family => "family",
            Category::Pets => "pets",
            Category::Health => "health",
            Category::Languages => "languages",
            Category::Interests => "interests",
            Category::Projects => "projects",
            Category::Preferences => "preferences",
            Category::Goals => "goals",
        }
    }

    pub fn from_name(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// Where a fact came from, most trusted first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// ChatGPT's own saved memories (`bio` tool writes).
    AssistantMemory,
    /// The user's custom instructions ("about you").
    CustomInstructions,
    /// Something the user said about themselves in a visible message.
    UserMessage,
    /// Proposed by the LLM extractor from the user's messages.
    Llm,
}

/// An older value of a single-valued fact, kept as "previously ...".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PastValue {
    pub value: String,
    pub first_seen: Option<NaiveDate>,
    pub last_seen: Option<NaiveDate>,
}

/// One durable fact about the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fact {
    pub category: Category,
    /// For single-valued facts (`home`, `employer`, `partner`, `diet`, ...): the slot
    /// a newer value supersedes. `None` for facts that accumulate (hobbies, pets).
    pub slot: Option<String>,
    /// The normalised statement, written about the user ("Lives in Denver").
    pub value: String,
    pub first_seen: Option<NaiveDate>,
    pub last_seen: Option<NaiveDate>,
    /// How many conversations mention it.
    pub mentions: u32,
    /// Conversation ids it was seen in (capped; the count is in `mentions`).
    pub conversations: Vec<String>,
    pub source: Source,
    /// Older values of the same slot, newest first.
    pub previously: Vec<PastValue>,
    /// The user said this stopped being true ("I'm not vegan anymore", "I left Acme"),
    /// as of `last_seen`. A candidate with `ended` set retires a matching fact; a
    /// consolidated fact with it set is rendered as a past fact.
    #[serde(default)]
    pub ended: bool,
}

impl Fact {
    /// A fact seen once, in one conversation, on one day.
    pub fn observed(
        category: Category,
        slot: Option<&str>,
        value: impl Into<String>,
        source: Source,
        conversation: &str,
        date: Option<NaiveDate>,
    ) -> Fact {
        Fact {
            category,
            slot: slot.map(str::to_owned),
            value: value.into(),
            first_seen: date,
            last_seen: date,
            mentions: 1,
            conversations: vec![conversation.to_owned()],
            source,
            previously: Vec::new(),
            ended: false,
        }
    }
}
