//! Rendering facts as the MEMORY.md section and as the `memory_facts` JSON.

use crate::extract::Fact;

/// MEMORY.md: one section per category, one fact per bullet with its dates.
pub fn render_markdown(facts: &[Fact]) -> String {
    let _ = facts;
    todo!("memory: markdown rendering")
}

/// The same facts as JSON, for the `memory_facts` column and `process --json`.
pub fn render_json(facts: &[Fact]) -> serde_json::Value {
    serde_json::json!({ "version": 1, "facts": facts })
}
