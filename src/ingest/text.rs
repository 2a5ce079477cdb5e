//! Cleaning message text: the markup ChatGPT leaves in exported text, and the
//! wrappers around custom instructions and saved memories.

use chrono::{DateTime, NaiveDate, Utc};
use std::borrow::Cow;

const MARKER_START: char = '\u{e200}';
const MARKER_END: char = '\u{e201}';
const MARKER_SEPARATOR: char = '\u{e202}';
/// Older browsing citations: `【4:0†source】`.
const OLD_CITATION_OPEN: char = '【';
const OLD_CITATION_CLOSE: char = '】';
const OLD_CITATION_DAGGER: char = '†';
/// An old-style citation longer than this is ordinary text in brackets.
const OLD_CITATION_MAX_CHARS: usize = 80;

/// Removes citation markers from exported text.
///
/// ChatGPT writes search citations and entity links as private-use markers:
/// `\u{e200}cite\u{e202}turn0search0\u{e201}`. The reader of the export never
/// saw them as text, so citations are removed; an entity link
/// (`\u{e200}entity\u{e202}["city","Pune",...]\u{e201}`) is replaced by the
/// name it displayed. Stray private-use characters and old `【n†source】`
/// citations are removed too. Text without any of these is returned as is.
pub(crate) fn strip_markers(text: &str) -> Cow<'_, str> {
    let Some(first) = next_marker(text, 0) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut at = first;
    loop {
        out.push_str(text.get(copied..at).unwrap_or_default());
        let rest = text.get(at..).unwrap_or_default();
        let consumed = if rest.starts_with(MARKER_START) {
            let body_start = MARKER_START.len_utf8();
            match rest.find(MARKER_END) {
                Some(end) => {
                    if let Some(name) = rest.get(body_start..end).and_then(entity_display_name) {
                        out.push_str(&name);
                    }
                    end + MARKER_END.len_utf8()
                }
                None => body_start,
            }
        } else if rest.starts_with(OLD_CITATION_OPEN) {
            old_citation_len(rest).unwrap_or_else(|| {
                out.push(OLD_CITATION_OPEN);
                OLD_CITATION_OPEN.len_utf8()
            })
        } else {
            // Any other private-use character: dropped.
            rest.chars().next().map_or(1, char::len_utf8)
        };
        copied = at + consumed;
        match next_marker(text, copied) {
            Some(next) => at = next,
            None => {
                out.push_str(text.get(copied..).unwrap_or_default());
                return Cow::Owned(out);
            }
        }
    }
}

/// Byte position of the next character [`strip_markers`] handles, from `from`.
///
/// In UTF-8, private-use characters (U+E000..U+F8FF) start with 0xEE, or 0xEF
/// followed by 0x80..=0xA3; `【` is E3 80 90. Lead bytes are never
/// continuation bytes, so every position found is a character boundary.
fn next_marker(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = from;
    while let Some(found) = memchr::memchr3(0xEE, 0xEF, 0xE3, bytes.get(i..)?) {
        let p = i + found;
        let next = bytes.get(p + 1).copied();
        let is_marker = match bytes.get(p) {
            Some(0xEE) => true,
            Some(0xEF) => matches!(next, Some(0x80..=0xA3)),
            Some(0xE3) => next == Some(0x80) && bytes.get(p + 2) == Some(&0x90),
            _ => false,
        };
        if is_marker {
            return Some(p);
        }
        i = p + 1;
    }
    None
}

/// The displayed name inside an entity marker body `entity\u{e202}["kind","Name",...]`.
fn entity_display_name(body: &str) -> Option<String> {
    let (kind, payload) = body.split_once(MARKER_SEPARATOR)?;
    if kind != "entity" {
        return None;
    }
    let values: Vec<serde_json::Value> = serde_json::from_str(payload).ok()?;
    values.get(1)?.as_str().map(str::to_owned)
}

/// Byte length of an old-style `【...†...】` citation at the start of `text`.
fn old_citation_len(text: &str) -> Option<usize> {
    let mut saw_dagger = false;
    for (count, (i, c)) in text.char_indices().enumerate() {
        if count > OLD_CITATION_MAX_CHARS {
            return None;
        }
        match c {
            OLD_CITATION_DAGGER => saw_dagger = true,
            OLD_CITATION_CLOSE => {
                return saw_dagger.then_some(i + c.len_utf8());
            }
            '\n' => return None,
            _ => {}
        }
    }
    None
}

/// What the user typed into a custom-instructions box, from the text ChatGPT
/// wraps around it for the model ("... User profile:\n```TEXT```").
pub(crate) fn unwrap_instructions(wrapped: &str) -> Option<String> {
    const FENCE: &str = "```";
    let inner = match (wrapped.find(FENCE), wrapped.rfind(FENCE)) {
        (Some(open), Some(close)) if close > open => &wrapped[open + FENCE.len()..close],
        _ => wrapped,
    };
    non_empty(inner)
}

pub(crate) fn non_empty(text: &str) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// One saved memory from ChatGPT's `model_set_context` listing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ContextEntry {
    pub text: String,
    pub date: Option<DateTime<Utc>>,
}

/// Splits ChatGPT's saved-memory listing into entries.
///
/// The listing is numbered, one memory per entry, each usually dated:
/// `1. [2024-05-01]. Is a data analyst in Pune.` Lines that do not start a
/// new numbered entry continue the previous one.
pub(crate) fn parse_memory_context(listing: &str) -> Vec<ContextEntry> {
    let mut entries: Vec<ContextEntry> = Vec::new();
    for line in listing.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match strip_entry_number(line) {
            Some(body) => {
                let (date, text) = split_entry_date(body);
                entries.push(ContextEntry {
                    text: text.to_owned(),
                    date,
                });
            }
            None => match entries.last_mut() {
                Some(last) => {
                    last.text.push('\n');
                    last.text.push_str(line);
                }
                None => entries.push(ContextEntry {
                    text: line.to_owned(),
                    date: None,
                }),
            },
        }
    }
    entries.retain(|e| !e.text.trim().is_empty());
    entries
}

/// `12. rest` → `rest`.
fn strip_entry_number(line: &str) -> Option<&str> {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    line[digits..].strip_prefix('.').map(str::trim_start)
}

/// `[2024-05-01]. rest` → (2024-05-01, `rest`).
fn split_entry_date(body: &str) -> (Option<DateTime<Utc>>, &str) {
    let Some(after_open) = body.strip_prefix('[') else {
        return (None, body);
    };
    let Some((inside, rest)) = after_open.split_once(']') else {
        return (None, body);
    };
    match NaiveDate::parse_from_str(inside.trim(), "%Y-%m-%d") {
        Ok(day) => {
            let rest = rest.strip_prefix('.').unwrap_or(rest).trim_start();
            (day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()), rest)
        }
        Err(_) => (None, body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citations_are_removed_and_entities_keep_their_name() {
        let text = "Try the bakery\u{e200}cite\u{e202}turn0search3\u{e201} in \
                    \u{e200}entity\u{e202}[\"city\",\"Lyon\",\"France\"]\u{e201}.";
        assert_eq!(strip_markers(text), "Try the bakery in Lyon.");
        assert_eq!(strip_markers("see【4:0†source】 here"), "see here");
        assert_eq!(
            strip_markers("brackets【not a cite】"),
            "brackets【not a cite】"
        );
        assert!(matches!(strip_markers("plain"), Cow::Borrowed(_)));
        assert_eq!(
            strip_markers("unterminated\u{e200}cite"),
            "unterminatedcite"
        );
    }

    #[test]
    fn other_text_near_the_marker_ranges_is_kept_as_is() {
        // CJK, fullwidth punctuation (EF BC ..), U+F900 (EF A4 80).
        for text in ["ありがとう、東京！", "a，b", "\u{f900}", "😊 café"] {
            assert!(matches!(strip_markers(text), Cow::Borrowed(_)), "{text}");
        }
        assert_eq!(strip_markers("【note】"), "【note】");
        assert_eq!(strip_markers("x\u{e000}y\u{f8ff}z"), "xyz");
        assert_eq!(strip_markers("【note】 and【1†source】"), "【note】 and");
    }

    #[test]
    fn instructions_lose_their_wrapper() {
        let wrapped = "The user provided...\nUser profile:\n```I teach maths.```";
        assert_eq!(
            unwrap_instructions(wrapped).as_deref(),
            Some("I teach maths.")
        );
        assert_eq!(unwrap_instructions("  bare  ").as_deref(), Some("bare"));
        assert_eq!(unwrap_instructions("``````"), None);
    }

    #[test]
    fn memory_context_is_split_into_dated_entries() {
        let listing = "1. [2024-05-01]. Lives in Lyon.\n2. Prefers short answers.\n   and metric units\n3. [bad]. x";
        let entries = parse_memory_context(listing);
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].text, "Lives in Lyon.");
        assert_eq!(
            entries[0].date.map(|d| d.to_rfc3339()).as_deref(),
            Some("2024-05-01T00:00:00+00:00")
        );
        assert_eq!(entries[1].text, "Prefers short answers.\nand metric units");
        assert_eq!(entries[1].date, None);
        assert_eq!(entries[2].text, "[bad]. x");
    }
}
