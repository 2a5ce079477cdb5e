//! What the format readers remember across the whole export: content types
//! they skipped, and saved memories already handed on.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};

/// Distinct content type names kept; a hostile export could invent millions.
const MAX_KINDS: usize = 200;
/// Longer content type names are cut to this many bytes.
const MAX_KIND_BYTES: usize = 64;
const OTHER_KINDS: &str = "(other)";

#[derive(Debug, Default)]
pub(crate) struct Seen {
    pub skipped_content_types: BTreeMap<String, u64>,
    memory_context: HashSet<u64>,
}

impl Seen {
    /// Counts one piece of content that carried no text we keep.
    pub fn skip(&mut self, kind: &str) {
        let kind = if kind.is_empty() { "(none)" } else { kind };
        if let Some(count) = self.skipped_content_types.get_mut(kind) {
            *count += 1;
            return;
        }
        let name = if self.skipped_content_types.len() >= MAX_KINDS {
            OTHER_KINDS.to_owned()
        } else {
            let mut end = kind.len().min(MAX_KIND_BYTES);
            while !kind.is_char_boundary(end) {
                end -= 1;
            }
            kind.get(..end).unwrap_or_default().to_owned()
        };
        *self.skipped_content_types.entry(name).or_insert(0) += 1;
    }

    /// Whether this saved-memory entry is new to the export.
    ///
    /// ChatGPT copies the user's whole list of saved memories into every
    /// conversation; each entry is handed on once, with the conversation
    /// where it first appears in the file.
    pub fn first_memory_context(&mut self, text: &str, date: Option<i64>) -> bool {
        let mut hasher = DefaultHasher::new();
        text.hash(&mut hasher);
        date.hash(&mut hasher);
        self.memory_context.insert(hasher.finish())
    }
}
