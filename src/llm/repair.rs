//! Getting JSON out of what a model wrote: code fences and prose around it, and
//! answers cut off at the output limit (closed at the last complete array element,
//! so a half-written fact is dropped rather than kept half-written).

use serde_json::Value;

/// The first JSON value in `text`, repaired if it was cut off. `None` when nothing usable is there.
pub fn extract_json(text: &str) -> Option<Value> {
    let body = strip_fences(text);
    let start = body.find(['{', '['])?;
    let body = body.get(start..)?;
    let mut values = serde_json::Deserializer::from_str(body).into_iter::<Value>();
    if let Some(Ok(value)) = values.next() {
        return Some(value);
    }
    let repaired = close_truncated(body)?;
    serde_json::from_str(&repaired).ok()
}

/// The inside of the first ``` fence (its language tag dropped), or `text` when there is none.
/// An unclosed fence (a cut-off answer) runs to the end.
fn strip_fences(text: &str) -> &str {
    let Some(open) = text.find("```") else {
        return text;
    };
    let after = text.get(open + 3..).unwrap_or("");
    let inside = match after.find('\n') {
        // Skip the language tag (` ```json `) when the fence line has nothing else.
        Some(eol) if !after.get(..eol).unwrap_or("").contains(['{', '[']) => {
            after.get(eol + 1..).unwrap_or("")
        }
        _ => after,
    };
    match inside.find("```") {
        Some(close) => inside.get(..close).unwrap_or(inside),
        None => inside,
    }
}

/// Closes JSON cut off mid-way. Cuts after the last complete element of the
/// outermost array still open (so a half-written element is dropped whole, however
/// deep the cut), then closes what is open there.
fn close_truncated(text: &str) -> Option<String> {
    // Open containers, outermost first; for arrays, where they can be cut: after their
    // last complete element (or right after `[` while they have none).
    let mut open: Vec<(u8, Option<usize>)> = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for (i, b) in text.bytes().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' => open.push((b'{', None)),
            b'[' => open.push((b'[', Some(i + 1))),
            b'}' | b']' => {
                open.pop();
                if open.is_empty() {
                    // A complete top-level value: nothing to repair here.
                    return None;
                }
                if let Some((b'[', cut)) = open.last_mut() {
                    *cut = Some(i + 1);
                }
            }
            b',' => {
                if let Some((b'[', cut)) = open.last_mut() {
                    *cut = Some(i);
                }
            }
            _ => {}
        }
    }
    let depth = open
        .iter()
        .position(|(kind, cut)| *kind == b'[' && cut.is_some())?;
    let at = open.get(depth).and_then(|(_, cut)| *cut)?;
    let mut repaired = text.get(..at)?.trim_end().to_owned();
    for (container, _) in open.iter().take(depth + 1).rev() {
        repaired.push(if *container == b'{' { '}' } else { ']' });
    }
    Some(repaired)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_fenced_and_wrapped_json() {
        let want = json!({"facts": [{"a": 1}]});
        assert_eq!(extract_json(r#"{"facts":[{"a":1}]}"#), Some(want.clone()));
        assert_eq!(
            extract_json("```json\n{\"facts\":[{\"a\":1}]}\n```"),
            Some(want.clone())
        );
        assert_eq!(
            extract_json("```{\"facts\":[{\"a\":1}]}```"),
            Some(want.clone())
        );
        assert_eq!(
            extract_json("Here you go:\n{\"facts\":[{\"a\":1}]}\nHope this helps!"),
            Some(want)
        );
        assert_eq!(extract_json("no json here"), None);
        assert_eq!(extract_json(""), None);
    }

    #[test]
    fn truncated_answers_lose_only_the_incomplete_element() {
        let cut = r#"{"facts":[{"category":"work","statement":"Is a nurse"},{"category":"pets","statement":"Has a dog na"#;
        assert_eq!(
            extract_json(cut),
            Some(json!({"facts": [{"category": "work", "statement": "Is a nurse"}]}))
        );
        let cut_in_nested_array =
            r#"{"facts":[{"s":"a","conversations":["c1"]},{"s":"b","conversations":["c1","c"#;
        assert_eq!(
            extract_json(cut_in_nested_array),
            Some(json!({"facts": [{"s": "a", "conversations": ["c1"]}]}))
        );
        assert_eq!(
            extract_json("```json\n{\"facts\":[{\"x\":\"a \\\"quoted\\\" ] word\"},{\"x\":"),
            Some(json!({"facts": [{"x": "a \"quoted\" ] word"}]}))
        );
        assert_eq!(extract_json(r#"{"facts":["#), Some(json!({"facts": []})));
        assert_eq!(
            extract_json(r#"{"facts":[{"x":1},"#),
            Some(json!({"facts": [{"x": 1}]}))
        );
        assert_eq!(extract_json(r#"[{"a":1},{"b"#), Some(json!([{"a": 1}])));
        assert_eq!(extract_json(r#"{"fac"#), None);
    }

    #[test]
    fn never_panics_on_odd_text() {
        for text in [
            "{",
            "[",
            "]",
            "}",
            "\"",
            "```",
            "```\n",
            "[{]",
            "{\"a\":[1,2",
            "é{[\"é",
        ] {
            let _ = extract_json(text);
        }
    }
}
