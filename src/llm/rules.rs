use crate::extract::{self, ExtractSettings, Fact};

/// What the LLM extractor takes from the built-in extractor, so both produce facts
/// under the same rules: the secret filter and the consolidator.
pub trait ExtractRules: Send + Sync {
    /// `text` with every secret (keys, passwords, card numbers) replaced by a placeholder.
    /// Runs on every text before it is sent to the model.
    fn redact(&self, text: &str) -> String;

    /// Whether `text` holds a secret. Runs on every fact the model returns.
    fn contains_secret(&self, text: &str) -> bool;

    /// Deduplicates, supersedes by date, ranks and trims candidates to the memory budget.
    fn consolidate(&self, candidates: Vec<Fact>) -> Vec<Fact>;
}

/// The built-in extractor's secret filter and consolidator, with the memory settings.
#[derive(Debug, Clone)]
pub struct BuiltinRules {
    pub settings: ExtractSettings,
}

impl ExtractRules for BuiltinRules {
    fn redact(&self, text: &str) -> String {
        extract::secrets::redact(text)
    }

    fn contains_secret(&self, text: &str) -> bool {
        extract::secrets::contains_secret(text)
    }

    fn consolidate(&self, candidates: Vec<Fact>) -> Vec<Fact> {
        extract::consolidate(candidates, &self.settings)
    }
}
