//! Facts about the user: found in conversations, filtered by guards and the
//! secret filter, then consolidated into a ranked, budgeted list.

mod fact;

pub use fact::{Category, Fact, PastValue, Source};

use crate::ingest::Conversation;

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

/// The built-in, rule-based extractor: fed one conversation at a time.
pub struct FactExtractor {
    settings: ExtractSettings,
}

impl FactExtractor {
    pub fn new(settings: ExtractSettings) -> Self {
        FactExtractor { settings }
    }

    pub fn observe(&mut self, conversation: &Conversation) {
        let _ = conversation;
        todo!("extract: rules")
    }

    /// Consolidated, ranked facts within the budget.
    pub fn finish(self) -> Vec<Fact> {
        let _ = self.settings;
        todo!("extract: consolidation")
    }
}
