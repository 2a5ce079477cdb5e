//! Credentials and identity numbers that must never reach MEMORY (or a model).
//!
//! People paste keys, passwords and card numbers while debugging or asking for help;
//! a memory that repeats them turns a chat export into a leak. Recognised: API keys and
//! tokens (OpenAI, GitHub, Slack, AWS, Google, Stripe, JWTs, bearer tokens, private key
//! blocks, long high-entropy strings), passwords (labelled ones, password-like strings,
//! credentials inside URLs), payment card numbers (Luhn-valid), US social security
//! numbers, IBANs (checksum-valid) and labelled passport numbers.

use regex::{Regex, RegexSet};
use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

/// What replaces a secret in [`redact`]'s output.
pub const REDACTED: &str = "[REDACTED]";

/// Fixed-shape credentials: a match anywhere is a secret.
const SHAPED_PATTERNS: &[&str] = &[
    // OpenAI / Anthropic style keys: sk-..., sk-proj-..., sk-ant-...
    r"\bsk-[A-Za-z0-9_\-]{16,}",
    // GitHub tokens.
    r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}",
    r"\bgithub_pat_[A-Za-z0-9_]{20,}",
    // Slack tokens.
    r"\bxox[abposr]-[A-Za-z0-9\-]{10,}",
    // AWS access key ids.
    r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}\b",
    // Google API keys.
    r"\bAIza[0-9A-Za-z_\-]{30,}",
    // Stripe keys.
    r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}",
    // JWTs: three base64url segments, the first two JSON objects.
    r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
    // PEM private keys, to the end marker (or the end of the text).
    r"(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\z)",
    // Authorization headers.
    r"(?i)\bbearer\s+[A-Za-z0-9._~+/\-]{12,}=*",
    // user:password@host inside any URL (the password may itself hold '@').
    r"(?i)\b[a-z][a-z0-9+.\-]*://[^\s/:@]+:[^\s/]*@",
    // US social security numbers.
    r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b",
];

static SHAPED: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    SHAPED_PATTERNS
        .iter()
        .filter_map(|p| Regex::new(p).ok())
        .collect()
});

/// A password label ("password", "pin", ...): its value may follow.
const PASSWORD_LABEL_PATTERN: &str = r"(?i)\b(?:password|passwd|pwd|passcode|passphrase|pin|pw)\b";

static PASSWORD_LABEL: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(PASSWORD_LABEL_PATTERN).ok());

/// What joins a label to its value: the end of a quoted or bracketed key
/// (`"password": `, `(password)=(`), "is", "was", "for X is", `:`, `=`, `:=`, `->`, `==`.
const LABEL_LINK_PATTERN: &str =
    r#"^["'`\])]{0,2}(?:\s+(?:is|was|for\s+\S+\s+is))?\s*([:=!]+|->)?\s*"#;

static LABEL_LINK: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(LABEL_LINK_PATTERN).ok());

/// Longest quoted value taken as one password.
const MAX_QUOTED_CHARS: usize = 128;

/// Values after "password =" / "password:" in code that name a value, not hold one.
const CODE_WORDS: &[&str] = &[
    "string",
    "str",
    "int",
    "integer",
    "bool",
    "boolean",
    "text",
    "varchar",
    "char",
    "bytes",
    "none",
    "null",
    "nil",
    "undefined",
    "true",
    "false",
    "self",
    "this",
    "new",
    "await",
    "object",
    "number",
    "optional",
];

/// "passport number X12345678", "passport no: 123456789".
const PASSPORT_PATTERN: &str =
    r"(?i)\bpassport\b(?:\s+(?:number|no\.?|num|#))?\s*(?:is|[:=#])?\s*([A-Z0-9]{6,10})\b";

static PASSPORT: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(PASSPORT_PATTERN).ok());

/// Runs of 13-19 digits, possibly grouped with spaces or dashes.
const DIGIT_RUN_PATTERN: &str = r"\b[0-9](?:[ \-]?[0-9]){12,18}\b";

static DIGIT_RUN: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(DIGIT_RUN_PATTERN).ok());

/// IBAN-shaped runs: country code, check digits, 11-30 alphanumerics in groups.
const IBAN_PATTERN: &str = r"\b[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b";

static IBAN: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(IBAN_PATTERN).ok());

/// Every pattern above in one set, loosened so that it matches wherever one of them
/// does: Unicode word boundaries become ASCII ones, which hold wherever the Unicode
/// ones do when the character on the pattern's side is ASCII, and are dropped where
/// a case-insensitive class could put a non-ASCII letter there ("K" matches the
/// Kelvin sign). One pass over a message then clears the common one that holds no
/// secret, where the patterns one by one take sixteen, and slow ones on non-ASCII text.
static ANY_PATTERN_LOOSE: LazyLock<Option<RegexSet>> = LazyLock::new(|| {
    let ascii_boundaries = SHAPED_PATTERNS
        .iter()
        .filter(|p| !p.contains("[a-z]"))
        .chain(&[PASSWORD_LABEL_PATTERN, DIGIT_RUN_PATTERN, IBAN_PATTERN])
        .map(|p| p.replace(r"\b", r"(?-u:\b)"));
    let no_boundaries = SHAPED_PATTERNS
        .iter()
        .filter(|p| p.contains("[a-z]"))
        .chain(&[PASSPORT_PATTERN])
        .map(|p| p.replace(r"\b", ""));
    RegexSet::new(ascii_boundaries.chain(no_boundaries)).ok()
});

/// Whether no pattern can match `text` (`false` when that is not known).
fn no_pattern_matches(text: &str) -> bool {
    ANY_PATTERN_LOOSE
        .as_ref()
        .is_some_and(|set| !set.is_match(text))
}

/// Words that follow "password" in ordinary sentences and are not a password.
const NOT_A_PASSWORD: &[&str] = &[
    "a",
    "an",
    "the",
    "my",
    "your",
    "his",
    "her",
    "our",
    "their",
    "its",
    "it",
    "is",
    "was",
    "not",
    "no",
    "and",
    "or",
    "but",
    "to",
    "for",
    "of",
    "on",
    "in",
    "with",
    "from",
    "that",
    "this",
    "which",
    "wrong",
    "incorrect",
    "correct",
    "right",
    "same",
    "expired",
    "reset",
    "manager",
    "managers",
    "protected",
    "required",
    "field",
    "change",
    "changed",
    "changes",
    "working",
    "invalid",
    "saved",
    "stored",
    "long",
    "short",
    "strong",
    "weak",
    "still",
    "again",
    "anymore",
    "any",
    "every",
    "keeps",
    "doesn't",
    "does",
    "didn't",
    "won't",
    "isn't",
    "hint",
    "hints",
    "policy",
    "rules",
    "prompt",
    "dialog",
    "box",
    "screen",
    "page",
    "login",
    "recovery",
    "there",
    "here",
    "should",
    "must",
    "will",
    "can",
    "could",
    "would",
    "code",
    "number",
    "entry",
    "hash",
    "hashes",
    "hashing",
    "less",
    "based",
    "when",
    "if",
    "so",
    "too",
    "also",
    "only",
    "just",
    "set",
    "please",
    "etc",
    "...",
    "-",
    "*",
    "****",
];

/// Whether `text` holds anything that looks like a credential, card number or id number.
pub fn contains_secret(text: &str) -> bool {
    !secret_ranges(text).is_empty()
}

/// `text` with every secret replaced by [`REDACTED`].
pub fn redact(text: &str) -> String {
    redacted(text).into_owned()
}

/// [`redact`] without a copy when there is nothing to redact (most messages).
pub fn redacted(text: &str) -> Cow<'_, str> {
    let ranges = secret_ranges(text);
    if ranges.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for range in ranges {
        if let Some(before) = text.get(at..range.start) {
            out.push_str(before);
        }
        out.push_str(REDACTED);
        at = range.end;
    }
    if let Some(rest) = text.get(at..) {
        out.push_str(rest);
    }
    Cow::Owned(out)
}

/// Byte ranges of every secret, sorted and merged.
fn secret_ranges(text: &str) -> Vec<Range<usize>> {
    let mut found: Vec<Range<usize>> = Vec::new();
    if !no_pattern_matches(text) {
        find_patterned(text, &mut found);
    }
    // Both shapes need an ASCII digit: a text without one has no such token, and in
    // one with digits most long words have none and are done with at once.
    if text.bytes().any(|b| b.is_ascii_digit()) {
        for (start, token) in long_tokens(text) {
            if token.bytes().any(|b| b.is_ascii_digit())
                && (looks_like_password(token) || looks_like_key(token))
            {
                found.push(start..start + token.len());
            }
        }
    }
    merge(found)
}

/// Secrets the patterns find.
fn find_patterned(text: &str, found: &mut Vec<Range<usize>>) {
    for re in SHAPED.iter() {
        found.extend(re.find_iter(text).map(|m| m.range()));
    }
    if let Some(re) = PASSWORD_LABEL.as_ref() {
        for label in re.find_iter(text) {
            found.extend(labelled_value(text, label.end()));
        }
    }
    if let Some(re) = PASSPORT.as_ref() {
        for caps in re.captures_iter(text) {
            if let Some(value) = caps.get(1)
                && value.as_str().chars().any(|c| c.is_ascii_digit())
            {
                found.push(value.range());
            }
        }
    }
    if let Some(re) = DIGIT_RUN.as_ref() {
        for m in re.find_iter(text) {
            let digits: Vec<u32> = m.as_str().chars().filter_map(|c| c.to_digit(10)).collect();
            if (13..=19).contains(&digits.len()) && luhn_valid(&digits) {
                found.push(m.range());
            }
        }
    }
    if let Some(re) = IBAN.as_ref() {
        for m in re.find_iter(text) {
            if iban_valid(m.as_str()) {
                found.push(m.range());
            }
        }
    }
}

/// The password after a label ending at `at`, if one follows. A quoted value is taken
/// whole, to its closing quote (spaces and commas included); an unquoted one to the
/// next space or punctuation, unless it is code naming a value (`getenv(...)`,
/// `config.db`, `string`, `confirmPassword`) or a comparison with a name.
fn labelled_value(text: &str, at: usize) -> Option<Range<usize>> {
    let rest = text.get(at..)?;
    let link = LABEL_LINK.as_ref()?.captures(rest)?;
    let operator = link.get(1).map_or("", |m| m.as_str());
    let start = at + link.get(0)?.end();
    let rest = text.get(start..)?;
    let mut chars = rest.chars();
    let opening = chars.next()?;
    let closing = match opening {
        '"' | '\'' | '`' => Some(opening),
        '(' => Some(')'),
        '\u{201c}' => Some('\u{201d}'),
        '\u{2018}' => Some('\u{2019}'),
        _ => None,
    };
    if let Some(closing) = closing {
        let inner = rest.get(opening.len_utf8()..)?;
        let line = inner.split('\n').next().unwrap_or("");
        if let Some(end) = line.find(closing)
            && let Some(value) = line.get(..end)
            && value.chars().count() <= MAX_QUOTED_CHARS
        {
            let value_start = start + opening.len_utf8();
            let trimmed = value.trim();
            let lower = trimmed.to_lowercase();
            return (trimmed.chars().count() >= 3
                && !NOT_A_PASSWORD.contains(&lower.as_str())
                && !(opening == '(' && is_code_value(trimmed)))
            .then(|| value_start..value_start + value.len());
        }
    }
    let value_start = start
        + if closing.is_some() {
            opening.len_utf8()
        } else {
            0
        };
    let rest = text.get(value_start..)?;
    let len = rest
        .find(|c: char| c.is_whitespace() || "\"'`,;)".contains(c))
        .unwrap_or(rest.len());
    let word = rest.get(..len)?.trim_end_matches(['.', '!', '?', ':']);
    let lower = word.to_lowercase();
    let comparison = operator.contains("==") || operator.contains("!=");
    // "password authentication failed": with nothing joining them, only a word shaped
    // like a password is one.
    let bare = link.get(0).is_some_and(|m| m.as_str().trim().is_empty());
    let shaped = word.chars().any(|c| !c.is_alphabetic());
    (word.chars().count() >= 3
        && !NOT_A_PASSWORD.contains(&lower.as_str())
        && !comparison
        && (!bare || shaped)
        && !is_code_value(word))
    .then(|| value_start..value_start + word.len())
}

/// Whether an unquoted value after a password label is code: a call, an index, a
/// member path, a variable (`$PW`, `%s`, `{pw}`), a type name, or another name for
/// the password itself (`newPassword`, `PASSWORD_HASH`).
fn is_code_value(word: &str) -> bool {
    let lower = word.to_lowercase();
    if word.contains(['(', '[', '{', '<']) || word.starts_with(['$', '%', '.', '&', '*']) {
        return true;
    }
    if CODE_WORDS.contains(&lower.as_str()) {
        return true;
    }
    let identifier = |part: &str| {
        part.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let parts: Vec<&str> = word.split(['.', ':']).filter(|p| !p.is_empty()).collect();
    if parts.len() >= 2 && word.contains(['.', ':']) && parts.iter().all(|p| identifier(p)) {
        let dotted_digits = parts
            .iter()
            .skip(1)
            .all(|p| !p.starts_with(|c: char| c.is_ascii_digit()));
        if dotted_digits {
            return true;
        }
    }
    let has_digit = word.chars().any(|c| c.is_ascii_digit());
    identifier(word)
        && !has_digit
        && ["password", "passwd", "pwd", "pass"]
            .iter()
            .any(|name| lower.contains(name))
}

fn merge(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut out: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// Fewest characters of a password-like token (a key-like one needs more).
const MIN_SECRET_CHARS: usize = 8;

/// Candidate tokens with their byte offsets: text split on whitespace, quotes,
/// brackets, commas and `=`, with trailing sentence punctuation trimmed (a trailing
/// `!` is kept: passwords often end with one). Both shapes of secret need at least
/// `MIN_SECRET_CHARS` characters, so at least as many bytes: shorter words (most
/// of them) are left out before they are trimmed.
fn long_tokens(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut from = 0;
    std::iter::from_fn(move || {
        loop {
            let rest = text.get(from..).filter(|rest| !rest.is_empty())?;
            let (len, separator_len) = next_separator(rest).unwrap_or((rest.len(), 0));
            let start = from;
            from += len + separator_len;
            let Some(run) = rest.get(..len).filter(|run| run.len() >= MIN_SECRET_CHARS) else {
                continue;
            };
            let core = run.trim_end_matches(['.', ',', ':', '?']);
            let trimmed = core.trim_start_matches(':');
            if !trimmed.is_empty() {
                return Some((start + core.len() - trimmed.len(), trimmed));
            }
        }
    })
}

/// Where the first separator in `text` starts and how many bytes it has. ASCII
/// bytes (most of any text, even a non-ASCII one) are tested as they are; only other
/// characters are decoded.
fn next_separator(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut k = 0;
    while let Some(&b) = bytes.get(k) {
        if b.is_ascii() {
            if is_separator(char::from(b)) {
                return Some((k, 1));
            }
            k += 1;
        } else {
            // `k` moves by whole characters, so it is always on a boundary.
            let c = text.get(k..).and_then(|t| t.chars().next())?;
            if is_separator(c) {
                return Some((k, c.len_utf8()));
            }
            k += c.len_utf8();
        }
    }
    None
}

/// Whitespace, quotes, brackets, commas, semicolons and `=`: what ends a token.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '"' | '\''
                | '`'
                | '('
                | ')'
                | '['
                | ']'
                | '{'
                | '}'
                | '<'
                | '>'
                | ','
                | ';'
                | '='
                | '\u{201c}'
                | '\u{201d}'
                | '\u{2018}'
                | '\u{2019}'
        )
}

/// Short strings mixing letters, digits and symbols the way passwords do
/// ("Spurs2014!Ray", "Kt9@monsoon22"), or long mixed-case alphanumerics.
fn looks_like_password(token: &str) -> bool {
    let len = token.chars().count();
    if !(MIN_SECRET_CHARS..=64).contains(&len) || token.contains("://") || is_email(token) {
        return false;
    }
    let letters = token.chars().filter(|c| c.is_alphabetic()).count();
    let digits = token.chars().filter(|c| c.is_ascii_digit()).count();
    let symbols = token
        .chars()
        .filter(|c| "!@#$%^&*?~+=|\\".contains(*c))
        .count();
    let upper = token.chars().any(|c| c.is_uppercase());
    let lower = token.chars().any(|c| c.is_lowercase());
    if letters > 0 && digits > 0 && symbols > 0 {
        return true;
    }
    // Mixed case with digits, no separators: "Qx9Lm2Rv7Tn4Kp8W". Product names like
    // "iPhone15" are shorter or have a single case change.
    let token = token.trim_end_matches('!');
    let only_alnum = token.chars().all(|c| c.is_ascii_alphanumeric());
    only_alnum && len >= 12 && upper && lower && digits >= 2 && case_changes(token) >= 4
}

fn case_changes(token: &str) -> usize {
    let kinds: Vec<u8> = token
        .chars()
        .filter(|c| c.is_alphabetic())
        .map(|c| u8::from(c.is_uppercase()))
        .collect();
    kinds.windows(2).filter(|w| w.first() != w.get(1)).count()
}

fn is_email(token: &str) -> bool {
    match token.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && domain
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        }
        None => false,
    }
}

/// Long random-looking tokens: keys, secrets, session tokens (hex, base64, base64url).
fn looks_like_key(token: &str) -> bool {
    let token = token.trim_end_matches('!');
    let len = token.chars().count();
    if len < 20 || token.contains("://") || is_email(token) {
        return false;
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_-+/=.".contains(c);
    if !token.chars().all(allowed) {
        return false;
    }
    let digits = token.chars().filter(|c| c.is_ascii_digit()).count();
    let letters = token.chars().filter(|c| c.is_ascii_alphabetic()).count();
    if digits < 2 || letters < 2 {
        return false;
    }
    // Paths and dotted names ("com.example.app", "src/extract/mod.rs") are words
    // joined by separators; keys are one long run.
    let longest_run = token
        .split(|c: char| "/.-_".contains(c))
        .map(str::len)
        .max()
        .unwrap_or(0);
    longest_run >= 16 && shannon_entropy(token) >= 3.3
}

fn shannon_entropy(s: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut total = 0usize;
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
        total += 1;
    }
    if total == 0 {
        return 0.0;
    }
    let n = total as f64;
    counts
        .values()
        .map(|&k| {
            let p = k as f64 / n;
            -p * p.log2()
        })
        .sum()
}

fn luhn_valid(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97 == 1.
fn iban_valid(candidate: &str) -> bool {
    let compact: String = candidate.chars().filter(|c| !c.is_whitespace()).collect();
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let (Some(head), Some(tail)) = (compact.get(..4), compact.get(4..)) else {
        return false;
    };
    let mut remainder: u64 = 0;
    for c in tail.chars().chain(head.chars()) {
        let value = match c.to_digit(36) {
            Some(v) => u64::from(v),
            None => return false,
        };
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    remainder == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> bool {
        contains_secret(s)
    }

    #[test]
    fn loose_set_never_hides_a_secret_beside_non_ascii_text() {
        for text in [
            "clé: sk-proj-abcdefghijklmnop1234 – merci",
            "日本 AKIAABCDEFGHIJKLMNOP 日本",
            "mot de passe → password is Hunter2!x é",
            "passport number X1234567é",
            "é4111 1111 1111 1111 é",
        ] {
            assert!(!no_pattern_matches(text), "{text}");
        }
        assert!(no_pattern_matches(
            "Café au lait, s’il vous plaît — merci !"
        ));
    }

    #[test]
    fn openai_keys() {
        assert!(secret("my key is sk-abcdEFGH1234ijklMNOP5678qrst"));
        assert!(secret(
            "OPENAI_API_KEY=sk-proj-Zx81kLmQ0pW3nR5tV7yB9cD2fG4hJ6sA8eU0iO2"
        ));
        assert!(!secret("the sk- prefix marks OpenAI keys"));
    }

    #[test]
    fn github_slack_aws_google_stripe() {
        assert!(secret("token ghp_16C7e42F292c6912E7710c838347Ae178B4a"));
        assert!(secret(
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123"
        ));
        assert!(secret("SLACK=xoxb-2231-998877-AbCdEfGhIjKl"));
        assert!(secret("aws_access_key_id = AKIAZ7Q3MPLX5RTE2WBN"));
        assert!(secret("key=AIzaSyD8f9G0h1J2k3L4m5N6o7P8q9R0s1T2u3V"));
        assert!(secret("stripe sk_live_51HqLmNoPqRsTuVwXyZ"));
    }

    #[test]
    fn jwt_and_bearer_and_private_key() {
        assert!(secret(
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
        ));
        assert!(secret(
            "curl -H 'Authorization: Bearer 8f2k1LmQp0Zx7Wv3Yt5R'"
        ));
        assert!(secret(
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"
        ));
        assert!(secret(
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA"
        ));
    }

    #[test]
    fn passwords() {
        assert!(secret("my password is tulip-garden"));
        assert!(secret("the wifi password: Lemon_Tree_44"));
        assert!(secret("Password:=\"Quartz#Falls9\""));
        assert!(secret("I keep typing Harbor1999! and it fails"));
        assert!(secret("postgres://svc_user:plainpass@db.internal:5432/app"));
        assert!(secret("mysql://root:Oslo@2024@10.0.0.5/shop"));
        assert!(!secret("my password is wrong again"));
        assert!(!secret("I use a password manager"));
        assert!(!secret("postgres://db.internal:5432/app"));
    }

    #[test]
    fn quoted_and_keyed_passwords_are_redacted_whole() {
        for (text, password) in [
            (
                r#"psql: error: FATAL: could not connect with "host=db user=app password='Blue sky,42' dbname=app""#,
                "Blue sky,42",
            ),
            (
                r#"{"user": "app", "password": "correct horse, battery"}"#,
                "correct horse, battery",
            ),
            (
                "ERROR: duplicate key value violates unique constraint DETAIL: Key (password)=(hunter2secret) already exists.",
                "hunter2secret",
            ),
            ("password = \"abc;def\"", "abc;def"),
            ("my password is “saffron moon”", "saffron moon"),
        ] {
            let out = redact(text);
            let pieces: Vec<&str> = password
                .split([' ', ',', ';'])
                .filter(|p| !p.is_empty())
                .collect();
            for piece in pieces {
                assert!(!out.contains(piece), "{piece:?} left in {out:?}");
            }
            assert!(out.contains(REDACTED), "{out}");
        }
    }

    #[test]
    fn code_that_only_names_a_password_is_left_alone() {
        for code in [
            "password = os.getenv(\"DB_PASSWORD\")",
            "password: string;",
            "if (password == confirmPassword) {",
            "user.password = hashed_password",
            "const pwd = process.env.DB_PASS;",
            "password = request.form['password']",
            "pw = getpass.getpass()",
            "cur.execute(sql, (user, password))",
            "let password = $DB_PASSWORD",
            "def login(username, password=None):",
            "self.password = password",
            "FATAL: password authentication failed for user \"postgres\"",
        ] {
            assert_eq!(redact(code), code);
        }
        assert!(secret("password = hunter2secret"));
        assert!(secret("password == \"hunter2secret\""));
    }

    #[test]
    fn cards_ssn_iban_passport() {
        // A Luhn-valid test number, in groups.
        assert!(secret("card 4111 1111 1111 1111 exp 10/27"));
        assert!(secret("5500-0000-0000-0004"));
        // Not Luhn-valid: an order number.
        assert!(!secret("order 1234 5678 9012 3456"));
        assert!(secret("SSN 078-05-1120"));
        assert!(secret("IBAN DE89 3704 0044 0532 0130 00"));
        assert!(secret("GB82WEST12345698765432"));
        assert!(!secret("DE89 3704 0044 0532 0130 02"));
        assert!(secret("my passport number is X4821937"));
        assert!(!secret("my passport expires in May"));
    }

    #[test]
    fn high_entropy_tokens() {
        assert!(secret("SECRET = 'Vb7Kq2Lm9Xp4Rt8Wz1Yc6Hd3Fn5Gj0Ta'"));
        assert!(secret("client_secret 9c1e7f2a4b8d6e0f3a5c7b9d1e2f4a6c"));
        assert!(secret(
            "bot.run('OTk4NzY1NDMyMTAxMjM0NTY3.Gx7Yq2.Zk9Lm2Nv8Pq4Rs6Tu1Vw3Xy5Za7Bc')"
        ));
        assert!(!secret("internationalization is a long word"));
        assert!(!secret("see src/extract/consolidate.rs for details"));
        assert!(!secret("I'm on an iPhone15 and COVID-19 is over"));
    }

    #[test]
    fn redact_replaces_only_the_secret() {
        assert_eq!(
            redact("my password is Cobalt!Sky7 ok?"),
            "my password is [REDACTED] ok?"
        );
        assert_eq!(
            redact("use postgres://app:hunter2secret@host/db now"),
            "use [REDACTED]host/db now"
        );
        assert_eq!(redact("nothing here"), "nothing here");
        let text = "key sk-proj-Zx81kLmQ0pW3nR5tV7yB9cD2fG4hJ6sA8eU0iO2 and card 4111111111111111";
        let out = redact(text);
        assert!(!contains_secret(&out), "{out}");
        assert_eq!(out.matches(REDACTED).count(), 2);
    }
}
