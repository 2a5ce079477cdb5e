//! Storage error text goes to the row, the log and alerts: keys never do.

use regex::Regex;
use std::sync::LazyLock;

/// JWTs (Supabase keys are JWTs: `eyJ…` header, payload, signature) and
/// `Bearer …` / `apikey: …` credentials as a server may echo them.
static TOKENS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*|\b(bearer\s+|apikey["']?\s*[:=]\s*["']?)[^\s"',;}]+"#,
    )
    .ok()
});

/// `text` with `key` and token-like strings replaced by `***`.
pub fn scrub_secrets(text: &str, key: &str) -> String {
    let mut clean = if key.is_empty() {
        text.to_owned()
    } else {
        text.replace(key, "***")
    };
    if let Some(tokens) = TOKENS.as_ref() {
        clean = tokens
            .replace_all(&clean, |caps: &regex::Captures<'_>| match caps.get(1) {
                Some(label) => format!("{}***", label.as_str()),
                None => "***".to_owned(),
            })
            .into_owned();
    }
    clean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_tokens_and_jwts_are_masked() {
        assert_eq!(
            scrub_secrets("denied for key s3cr3t-key, again s3cr3t-key", "s3cr3t-key"),
            "denied for key ***, again ***"
        );
        assert_eq!(
            scrub_secrets(
                r#"{"message":"bad header Authorization: Bearer abc.def-123"}"#,
                "k"
            ),
            r#"{"message":"bad header Authorization: Bearer ***"}"#
        );
        assert_eq!(
            scrub_secrets(r#"{"apikey":"zzz-other"}"#, "unrelated"),
            r#"{"apikey":"***"}"#
        );
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJl";
        assert_eq!(
            scrub_secrets(&format!("token {jwt} expired"), "other"),
            "token *** expired"
        );
        for plain in ["Object not found", "missing apikey header", "bearer"] {
            assert_eq!(scrub_secrets(plain, "key-not-in-text"), plain);
        }
    }
}
