//! Getting from a raw message to the user's own sentences, as tokens.
//!
//! What a user pastes, quotes or asks to have rewritten is not about them: a cover
//! letter to proofread, an email to answer, a stack trace, a client's text to
//! translate. So before any rule runs, code blocks, code-like lines, pasted blocks
//! (a line ending with ':' followed by prose), long multi-paragraph pastes and quoted
//! passages are taken out; quoted passages are returned aside, since a user quoting
//! their *own* bio or self-introduction is still talking about themselves.

use std::borrow::Cow;
use std::ops::Range;

/// A message reduced to the user's own words.
#[derive(Debug, Default)]
pub struct OwnWords {
    /// The text with quoted and pasted material removed; a removed quote leaves a
    /// line break so the sentences around it stay apart.
    pub text: String,
    /// The quoted passages, in order.
    pub quoted: Vec<String>,
}

/// Longest single-quoted passage recognised (an apostrophe far from its pair is not a quote).
const MAX_SINGLE_QUOTE: usize = 800;

pub fn own_words(raw: &str) -> OwnWords {
    let text = normalise_characters(raw);
    let text = without_code_blocks(&text);
    let text = without_pasted_blocks(&text);
    let text = without_long_pastes(&text);
    split_quotes(&text)
}

/// Curly quotes and apostrophes to ASCII, odd spaces to plain ones. Most text has
/// none of them and is returned as it is.
fn normalise_characters(raw: &str) -> Cow<'_, str> {
    // Of ASCII characters only '`' and '\r' change, and every other character that
    // changes is encoded starting with 0xC2 (U+00A0, U+00AB, U+00BB), 0xCA (U+02BC)
    // or 0xE2 (U+2009..U+202F): text without those bytes (most of it, even most
    // non-ASCII text) is known unchanged from two vectorised searches.
    let bytes = raw.as_bytes();
    let changes = memchr::memchr2(b'`', b'\r', bytes).is_some()
        || (memchr::memchr3(0xC2, 0xCA, 0xE2, bytes).is_some()
            && raw.contains(|c| normalised(c) != c));
    if !changes {
        return Cow::Borrowed(raw);
    }
    // Runs of bytes that cannot start a changed character are copied whole. Those
    // bytes are never inside a multi-byte character (0xC2, 0xCA and 0xE2 only lead
    // one), so every run ends on a character boundary.
    let mut out = String::with_capacity(raw.len());
    let mut copied = 0;
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        if !matches!(b, b'`' | b'\r' | 0xC2 | 0xCA | 0xE2) {
            at += 1;
            continue;
        }
        let Some(c) = raw.get(at..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        out.push_str(&raw[copied..at]);
        out.push(normalised(c));
        at += c.len_utf8();
        copied = at;
    }
    out.push_str(&raw[copied..]);
    Cow::Owned(out)
}

fn normalised(c: char) -> char {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{02bc}' | '`' => '\'',
        '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{00ab}' | '\u{00bb}' => '"',
        '\u{00a0}' | '\u{2009}' | '\u{202f}' => ' ',
        '\r' => '\n',
        other => other,
    }
}

/// Drops ``` fenced blocks (an unclosed fence runs to the end).
fn without_code_blocks(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 1);
    // Most messages have no fence: one vectorised search says so.
    if memchr::memmem::find(text.as_bytes(), b"'''").is_none() {
        out.push_str(text);
        out.push('\n');
        return out;
    }
    let mut inside = false;
    for (i, part) in text.split("'''").enumerate() {
        // After normalisation backticks are apostrophes, so a fence is three of them.
        let _ = i;
        if !inside {
            out.push_str(part);
            out.push('\n');
        }
        inside = !inside;
    }
    out
}

/// Drops what follows a line ending with ':' when it is prose or code (a pasted email,
/// document or error), keeps it when it is a bulleted list (the user's own notes), and
/// drops code-looking lines anywhere.
fn without_pasted_blocks(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(line) = lines.get(i) {
        if !looks_like_code(line) {
            out.push_str(line);
            out.push('\n');
        }
        if line.trim_end().ends_with(':') {
            let next = lines[i + 1..].iter().find(|l| !l.trim().is_empty());
            if let Some(next) = next
                && !is_bullet(next)
            {
                break;
            }
        }
        i += 1;
    }
    out
}

fn is_bullet(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("- ")
        || t.starts_with("* ")
        || t.starts_with("• ")
        || t.split_once(". ").is_some_and(|(n, _)| {
            !n.is_empty() && n.len() <= 2 && n.chars().all(|c| c.is_ascii_digit())
        })
        || t.split_once(") ").is_some_and(|(n, _)| {
            !n.is_empty() && n.len() <= 2 && n.chars().all(|c| c.is_ascii_alphanumeric())
        })
}

fn looks_like_code(line: &str) -> bool {
    let t = line.trim();
    if t.is_empty() {
        return false;
    }
    if line.starts_with("    ") || line.starts_with('\t') {
        return true;
    }
    if has_code_mark(t) {
        return true;
    }
    const STARTS: &[&str] = &[
        "def ",
        "import ",
        "from ",
        "const ",
        "let ",
        "var ",
        "function ",
        "class ",
        "return ",
        "print(",
        "#include",
        "traceback",
        "file \"",
        "error:",
        "raise ",
        "if (",
        "for (",
        "while (",
        "sudo ",
        "npm ",
        "pip ",
        "cargo ",
        "git ",
        "curl ",
        "docker ",
    ];
    // The starts are ASCII, so the lowercase line starts with one exactly when its
    // first characters, lowercased one by one, are that start's: the line itself is
    // lowercased only when one is there.
    let head = LowerHead::of(t);
    if STARTS.iter().any(|s| head.starts_with(s)) {
        let lower = t.to_lowercase();
        return !lower.starts_with("from ") || lower.contains(" import ");
    }
    // A line has at least as many bytes as characters: under 12 bytes is under 12 characters.
    if t.len() < 12 {
        return false;
    }
    let (total, plain) = plain_count(t);
    total >= 12 && (plain as f64) < 0.7 * total as f64
}

/// Characters in `line`, and how many of them are [`is_plain`]: one pass, decoding
/// only non-ASCII characters.
fn plain_count(line: &str) -> (usize, usize) {
    let bytes = line.as_bytes();
    let (mut total, mut plain) = (0, 0);
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        total += 1;
        if b.is_ascii() {
            plain += usize::from(PLAIN_ASCII[usize::from(b)]);
            at += 1;
            continue;
        }
        let Some(c) = line.get(at..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        plain += usize::from(is_plain(c));
        at += c.len_utf8();
    }
    (total, plain)
}

/// [`is_plain`] of every ASCII character, looked up rather than tested: letters,
/// the ASCII whitespace (`' '`, `'\t'` to `'\r'`) and the prose punctuation.
static PLAIN_ASCII: [bool; 128] = {
    let mut table = [false; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = c.is_ascii_alphabetic()
            || matches!(
                c,
                b' ' | b'\t'..=b'\r' | b',' | b'.' | b'\'' | b'!' | b'?' | b'-'
            );
        b += 1;
    }
    table
};

/// A character of ordinary prose: a letter, a space or common punctuation.
fn is_plain(c: char) -> bool {
    c.is_alphabetic() || c.is_whitespace() || matches!(c, ',' | '.' | '\'' | '!' | '?' | '-')
}

/// Whether `line` contains a mark only code has ("=", "{", "();", "</", "::"...).
fn has_code_mark(line: &str) -> bool {
    // "=>" is left out: a line containing it contains "=".
    const MARKS: &[&str] = &["=", "{", "}", "();", "</", "::", "|:", "$ ", ">>>"];
    // Every mark starts with one of these bytes, so a line with none of them (most
    // prose) has no mark: one pass over its bytes instead of a search per mark.
    let may_have_mark = line.bytes().any(|b| MARK_START[usize::from(b)]);
    may_have_mark && MARKS.iter().any(|m| line.contains(m))
}

/// The bytes a code mark can start with, looked up rather than matched (a match
/// compiles to a jump per byte).
static MARK_START: [bool; 256] = {
    let mut table = [false; 256];
    let starts = b"={}(<:|$>";
    let mut k = 0;
    while k < starts.len() {
        table[starts[k] as usize] = true;
        k += 1;
    }
    table
};

/// The first characters of a line lowercased, each as its byte when ASCII and as
/// a byte no ASCII text has otherwise: enough to compare with the ASCII code starts
/// without lowercasing the whole line.
struct LowerHead {
    bytes: [u8; Self::LEN],
    len: usize,
}

impl LowerHead {
    /// Longer than the longest code start ("function ", "traceback").
    const LEN: usize = 16;

    fn of(line: &str) -> Self {
        let mut head = Self {
            bytes: [0; Self::LEN],
            len: 0,
        };
        for (slot, c) in head
            .bytes
            .iter_mut()
            .zip(line.chars().flat_map(char::to_lowercase))
        {
            *slot = if c.is_ascii() { c as u8 } else { 0xff };
            head.len += 1;
        }
        head
    }

    /// Whether the lowercased line starts with `start`, which must be ASCII and no
    /// longer than [`Self::LEN`].
    fn starts_with(&self, start: &str) -> bool {
        self.bytes[..self.len].starts_with(start.as_bytes())
    }
}

/// In a message of three or more paragraphs and over 1500 characters, paragraphs over
/// 400 characters are pasted material, not the user talking.
fn without_long_pastes(text: &str) -> String {
    if text.len() <= 1500 {
        return text.to_owned();
    }
    let paragraphs: Vec<&str> = text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .collect();
    if paragraphs.len() < 3 {
        return text.to_owned();
    }
    paragraphs
        .into_iter()
        .filter(|p| p.len() <= 400)
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Separates "double" and 'single' quoted passages from the rest.
fn split_quotes(text: &str) -> OwnWords {
    let mut out = OwnWords::default();
    let mut kept_from = 0usize;
    let mut from = 0usize;
    // Both quote marks are ASCII: every byte offset below is a character boundary.
    while let Some(at) = text
        .get(from..)
        .and_then(|rest| memchr::memchr2(b'"', b'\'', rest.as_bytes()))
        .map(|k| from + k)
    {
        let close = if text[at..].starts_with('"') {
            text[at + 1..].find('"').map(|k| at + 1 + k)
        } else if opens_single(text, at) {
            find_single_close(text, at)
        } else {
            None
        };
        match close {
            Some(end) => {
                if let Some(before) = text.get(kept_from..at) {
                    out.text.push_str(before);
                }
                out.text.push('\n');
                if let Some(inner) = text.get(at + 1..end) {
                    out.quoted.push(inner.to_owned());
                }
                kept_from = end + 1;
                from = end + 1;
            }
            None => from = at + 1,
        }
    }
    if let Some(rest) = text.get(kept_from..) {
        out.text.push_str(rest);
    }
    out
}

/// Whether the apostrophe at byte `at` opens a quote.
fn opens_single(text: &str, at: usize) -> bool {
    let before = text.get(..at).and_then(|t| t.chars().next_back());
    let after = text.get(at + 1..).and_then(|t| t.chars().next());
    let before_ok = before.is_none_or(|c| c.is_whitespace() || "(:[-".contains(c));
    before_ok && after.is_some_and(|c| !c.is_whitespace())
}

/// The byte of the apostrophe closing the quote opened at byte `open`.
fn find_single_close(text: &str, open: usize) -> Option<usize> {
    let inside = text.get(open + 1..)?;
    // The first character inside the quote cannot close it.
    for (k, c) in inside.char_indices().skip(1) {
        let at = open + 1 + k;
        if at - open > MAX_SINGLE_QUOTE {
            return None;
        }
        if c != '\'' {
            continue;
        }
        let before = text.get(..at).and_then(|t| t.chars().next_back());
        let mut following = text.get(at + 1..).unwrap_or("").chars();
        let after = following.next();
        let closes = before.is_some_and(|c| !c.is_whitespace())
            && after.is_none_or(|c| c.is_whitespace() || ".,;:!?)".contains(c));
        // "kids' toys": an apostrophe after a plural, followed by a word, is not a close.
        let plural_possessive = before == Some('s')
            && after.is_some_and(char::is_whitespace)
            && following.next().is_some_and(char::is_lowercase);
        if closes && !plural_possessive {
            return Some(at);
        }
    }
    None
}

/// Abbreviations a full stop does not end a sentence after.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "st", "prof", "e.g", "i.e", "etc", "vs", "approx", "no", "jr", "sr",
    "mt", "ft", "inc", "ltd", "co", "dept", "est", "ca", "med", "b.sc", "m.sc", "ph.d", "m.ed",
    "b.ed", "b.a", "m.a",
];

/// Sentences: split at line breaks and at . ! ? followed by a space, except after
/// abbreviations ("Dr.", "e.g.", "M.Ed.") and initials.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim().trim_start_matches(['-', '*', '•', '>']).trim();
        if line.is_empty() {
            continue;
        }
        let mut start = 0;
        let mut at = 0;
        while let Some(&b) = line.as_bytes().get(at) {
            // Only '.', '!', '?' and emoji can end a sentence: other ASCII bytes (most
            // of a line) are passed over without decoding a character.
            if b.is_ascii() && !matches!(b, b'.' | b'!' | b'?') {
                at += 1;
                continue;
            }
            let Some(c) = line.get(at..).and_then(|rest| rest.chars().next()) else {
                break;
            };
            let end = at + c.len_utf8();
            let mut following = line[end..].chars();
            // An emoji followed by a capitalised word ends a sentence too ("lol 😂 As a fan…").
            if is_emoji(c) {
                if following.next() == Some(' ') && following.next().is_some_and(char::is_uppercase)
                {
                    push_piece(&mut out, &line[start..end]);
                    start = end;
                }
                at = end;
                continue;
            }
            if !matches!(c, '.' | '!' | '?') || !following.next().is_none_or(char::is_whitespace) {
                at = end;
                continue;
            }
            if c == '.' && ends_abbreviation(&line[start..at]) {
                at = end;
                continue;
            }
            push_piece(&mut out, &line[start..end]);
            start = end;
            at = end;
        }
        push_piece(&mut out, &line[start..]);
    }
    out
}

/// Adds `piece` trimmed, unless nothing is left of it.
fn push_piece<'a>(out: &mut Vec<&'a str>, piece: &'a str) {
    let piece = piece.trim();
    if !piece.is_empty() {
        out.push(piece);
    }
}

/// Whether the last word of `before`, followed by a full stop, is an abbreviation
/// or an initial.
fn ends_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(char::is_whitespace)
        .next()
        .unwrap_or("")
        .trim_start_matches('(');
    if word.is_ascii() {
        word.len() == 1 || ABBREVIATIONS.iter().any(|a| a.eq_ignore_ascii_case(word))
    } else {
        // Lowercasing may change the number of characters ('İ' → "i̇").
        let word = word.to_lowercase();
        word.chars().count() == 1 || ABBREVIATIONS.contains(&word.as_str())
    }
}

fn is_emoji(c: char) -> bool {
    matches!(u32::from(c), 0x1F300..=0x1FAFF | 0x2600..=0x27BF)
}

/// Tokens kept per sentence. Rules look a few words around each trigger, and some
/// look back to the sentence start; a run-on "sentence" of thousands of words (a
/// paste without punctuation) would make that quadratic.
const MAX_TOKENS: usize = 160;

/// Where one token of a [`Sentence`] is kept: its text as written in `written`, its
/// lowercase form in `norm`.
#[derive(Debug, Clone)]
struct TokenSpan {
    text: Range<usize>,
    lower: Range<usize>,
}

/// A sentence as tokens, plus `norm`: the lowercase tokens joined by single spaces,
/// which the rules' patterns run on.
///
/// Every token is a pair of slices (as written, lowercase: "I'm" → "i", "am"), kept
/// in two buffers rather than as two strings each: a pass parses every sentence of
/// an export, and most are dropped at once.
#[derive(Debug, Clone)]
pub struct Sentence {
    /// The tokens as written (for names and places), back to back.
    written: String,
    spans: Vec<TokenSpan>,
    pub norm: String,
    /// No capital letter anywhere except "I": this writer's names may be lowercase.
    pub all_lowercase: bool,
}

impl Sentence {
    pub fn parse(text: &str) -> Sentence {
        let text = normalise_characters(text);
        let mut sentence = Sentence {
            written: String::with_capacity(text.len()),
            // About one token per five bytes of prose: room for most sentences at once.
            spans: Vec::with_capacity((text.len() / 4 + 1).min(MAX_TOKENS)),
            norm: String::with_capacity(text.len() + 8),
            // Someone who capitalises "I" capitalises names too; only a writer with no
            // capital letters at all gets lowercase names and places read as such.
            all_lowercase: !has_uppercase(&text),
        };
        for raw in RawTokens::new(&text) {
            sentence.expand(raw);
            if sentence.spans.len() >= MAX_TOKENS {
                break;
            }
        }
        sentence
    }

    /// Pushes the tokens for one raw word, expanding contractions and splitting "'s".
    fn expand(&mut self, raw: &str) {
        let raw = raw.trim_end_matches('\'');
        let before = self.norm.len();
        let lower = self.push_lower(raw);
        if let Some(parts) = contraction(&self.norm[lower.clone()]) {
            self.norm.truncate(before);
            for (k, part) in parts.iter().enumerate() {
                let text = if k == 0 && *part == "i" { "I" } else { part };
                let lower = self.push_lower(part);
                self.push_span(text, lower);
            }
            return;
        }
        if let Some(stem) = raw.strip_suffix("'s")
            && !stem.is_empty()
        {
            // The stem is lowercased alone: a word's last letter may lowercase
            // differently at the end of a word (Greek sigma).
            self.norm.truncate(before);
            let lower = self.push_lower(stem);
            self.push_span(stem, lower);
            let lower = self.push_lower("'s");
            self.push_span("'s", lower);
            return;
        }
        self.push_span(raw, lower);
    }

    /// Appends `word` lowercased to `norm` (after a space unless it is the first),
    /// returning where it went.
    fn push_lower(&mut self, word: &str) -> Range<usize> {
        if !self.norm.is_empty() {
            self.norm.push(' ');
        }
        let start = self.norm.len();
        if word.is_ascii() {
            self.norm.push_str(word);
            self.norm[start..].make_ascii_lowercase();
        } else if word.contains('Σ') {
            // A capital sigma lowercases by its place in the word.
            self.norm.push_str(&word.to_lowercase());
        } else {
            // What `to_lowercase` does for every other character, without a copy.
            self.norm.extend(word.chars().flat_map(char::to_lowercase));
        }
        start..self.norm.len()
    }

    /// Records a token written as `text` whose lowercase form is `norm[lower]`.
    fn push_span(&mut self, text: &str, lower: Range<usize>) {
        let start = self.written.len();
        self.written.push_str(text);
        self.spans.push(TokenSpan {
            text: start..self.written.len(),
            lower,
        });
    }

    /// The index of the token starting at byte `at` of `norm`, or the first one after it.
    pub fn token_at(&self, at: usize) -> usize {
        self.spans.partition_point(|t| t.lower.start < at)
    }

    /// The byte where token `i` starts in `norm` (`norm.len()` past the end).
    pub fn byte_of(&self, i: usize) -> usize {
        self.spans.get(i).map_or(self.norm.len(), |t| t.lower.start)
    }

    /// Token `i` lowercase, contractions expanded (`""` past the end).
    pub fn lower(&self, i: usize) -> &str {
        self.spans
            .get(i)
            .and_then(|t| self.norm.get(t.lower.clone()))
            .unwrap_or("")
    }

    /// Token `i` as written (`""` past the end).
    pub fn text(&self, i: usize) -> &str {
        self.spans
            .get(i)
            .and_then(|t| self.written.get(t.text.clone()))
            .unwrap_or("")
    }

    pub fn is_capitalised(&self, i: usize) -> bool {
        self.text(i).chars().next().is_some_and(char::is_uppercase)
    }

    pub fn is_word(&self, i: usize) -> bool {
        self.text(i)
            .chars()
            .next()
            .is_some_and(char::is_alphanumeric)
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Tokens `from..to` as written, joined with the spacing punctuation needs.
    pub fn span_text(&self, from: usize, to: usize) -> String {
        let mut out = String::new();
        for i in from..to.min(self.len()) {
            let t = self.text(i);
            let no_space_before = matches!(t, "," | "." | ")" | ":" | ";" | "!" | "?" | "'s")
                || out.ends_with('(')
                || out.ends_with('/')
                || t == "/";
            if !out.is_empty() && !no_space_before {
                out.push(' ');
            }
            out.push_str(t);
        }
        out
    }
}

/// Whether `text` has an uppercase letter.
fn has_uppercase(text: &str) -> bool {
    if text.is_ascii() {
        text.bytes().any(|b| b.is_ascii_uppercase())
    } else {
        text.chars().any(char::is_uppercase)
    }
}

/// Words (letters, digits and the joiners people put inside them) and single
/// punctuation marks, as slices of the text.
struct RawTokens<'a> {
    text: &'a str,
    /// The byte of the next character to read.
    at: usize,
    /// Where the word being read started.
    word_start: Option<usize>,
    /// A punctuation mark that ended the word just returned.
    pending: Option<&'a str>,
}

impl<'a> RawTokens<'a> {
    fn new(text: &'a str) -> Self {
        RawTokens {
            text,
            at: 0,
            word_start: None,
            pending: None,
        }
    }
}

impl<'a> Iterator for RawTokens<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if let Some(mark) = self.pending.take() {
            return Some(mark);
        }
        while let Some(c) = char_at(self.text, self.at) {
            let at = self.at;
            self.at += c.len_utf8();
            let next = char_at(self.text, self.at);
            let in_word = self.word_start.is_some();
            let joins = matches!(c, '\'' | '-' | '/' | '.' | '&')
                && in_word
                && next.is_some_and(char::is_alphanumeric);
            if c.is_alphanumeric() || joins || (matches!(c, '#' | '+') && in_word) {
                self.word_start.get_or_insert(at);
                continue;
            }
            let word = self
                .word_start
                .take()
                .and_then(|start| self.text.get(start..at));
            let mark = if c == '.' && next.is_some_and(char::is_alphanumeric) {
                // ".NET", ".5": a leading dot belongs to the next word.
                self.word_start = Some(at);
                None
            } else if matches!(
                c,
                ',' | ';' | ':' | '(' | ')' | '!' | '?' | '.' | '"' | '&' | '+' | '/' | '—' | '–'
            ) || (c == '-' && next.is_some_and(char::is_whitespace))
            {
                self.text.get(at..at + c.len_utf8())
            } else {
                None
            };
            match (word, mark) {
                (Some(word), mark) => {
                    self.pending = mark;
                    return Some(word);
                }
                (None, Some(mark)) => return Some(mark),
                (None, None) => {}
            }
        }
        let start = self.word_start.take()?;
        self.text.get(start..)
    }
}

/// The character starting at byte `at` of `text`: an ASCII byte is taken as it is,
/// only other characters are decoded.
fn char_at(text: &str, at: usize) -> Option<char> {
    let b = *text.as_bytes().get(at)?;
    if b.is_ascii() {
        Some(char::from(b))
    } else {
        text.get(at..)?.chars().next()
    }
}

/// The words a contraction stands for ("i'm" → "i", "am").
fn contraction(lower: &str) -> Option<&'static [&'static str]> {
    let parts: &'static [&'static str] = match lower {
        "i'm" | "im" => &["i", "am"],
        "i've" | "ive" => &["i", "have"],
        "i'd" => &["i", "would"],
        "i'll" => &["i", "will"],
        "we're" => &["we", "are"],
        "we've" => &["we", "have"],
        "we'd" => &["we", "would"],
        "we'll" => &["we", "will"],
        "you're" => &["you", "are"],
        "they're" => &["they", "are"],
        "he's" | "hes" => &["he", "is"],
        "she's" | "shes" => &["she", "is"],
        "it's" => &["it", "is"],
        "that's" | "thats" => &["that", "is"],
        "what's" => &["what", "is"],
        "there's" => &["there", "is"],
        "here's" => &["here", "is"],
        "who's" => &["who", "is"],
        "let's" => &["let", "us"],
        "don't" | "dont" => &["do", "not"],
        "doesn't" | "doesnt" => &["does", "not"],
        "didn't" | "didnt" => &["did", "not"],
        "isn't" => &["is", "not"],
        "aren't" => &["are", "not"],
        "wasn't" => &["was", "not"],
        "weren't" => &["were", "not"],
        "can't" | "cant" | "cannot" => &["can", "not"],
        "won't" => &["will", "not"],
        "wouldn't" => &["would", "not"],
        "shouldn't" => &["should", "not"],
        "couldn't" => &["could", "not"],
        "haven't" => &["have", "not"],
        "hasn't" => &["has", "not"],
        "hadn't" => &["had", "not"],
        "should've" => &["should", "have"],
        "would've" => &["would", "have"],
        "could've" => &["could", "have"],
        _ => return None,
    };
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_tables_agree_with_the_tests_they_replace() {
        for b in 0..128u8 {
            assert_eq!(PLAIN_ASCII[usize::from(b)], is_plain(char::from(b)), "{b}");
        }
        for b in 0..=255u8 {
            let mark = matches!(
                b,
                b'=' | b'{' | b'}' | b'(' | b'<' | b':' | b'|' | b'$' | b'>'
            );
            assert_eq!(MARK_START[usize::from(b)], mark, "{b}");
        }
    }

    #[test]
    fn quoted_text_is_set_aside() {
        let w = own_words(
            "My neighbour asked me to fix this: 'I live in Graz and I am a baker.' I'm a welder btw",
        );
        assert!(!w.text.contains("Graz"), "{}", w.text);
        assert!(w.text.contains("I'm a welder"));
        assert_eq!(
            w.quoted,
            vec!["I live in Graz and I am a baker.".to_owned()]
        );
        let w = own_words("Translate \u{201c}I own three horses\u{201d} into Dutch");
        assert!(!w.text.contains("horses"));
    }

    #[test]
    fn apostrophes_are_not_quotes() {
        let w = own_words("I'm a welder and my kids' toys are everywhere, it's fine");
        assert_eq!(w.quoted.len(), 0);
        assert!(w.text.contains("welder"));
    }

    #[test]
    fn pasted_prose_after_a_colon_is_dropped_but_bullets_are_kept() {
        let w =
            own_words("Reply to this email for me:\n\nDear team, I am moving to Oslo next month.");
        assert!(!w.text.contains("Oslo"));
        let w = own_words("About me:\n- I'm a welder\n- I live in Tampere");
        assert!(w.text.contains("Tampere"));
    }

    #[test]
    fn code_is_dropped() {
        let w = own_words("my loop fails:\n```\nfor x in y { print(x) }\n```\nI'm on Windows");
        assert!(!w.text.contains("print"));
        let w = own_words("I use this\nAPI_KEY = abc\nand it fails");
        assert!(!w.text.contains("API_KEY"));
        assert!(w.text.contains("and it fails"));
    }

    #[test]
    fn long_multi_paragraph_pastes_are_dropped() {
        let long = "Lorem ipsum dolor sit amet, I live in Narnia. ".repeat(12);
        let text = format!("Summarise please.\n\n{long}\n\n{long}\n\n{long}\n\nThanks!");
        let w = own_words(&text);
        assert!(!w.text.contains("Narnia"));
        assert!(w.text.contains("Summarise"));
    }

    #[test]
    fn sentences_split_but_not_after_abbreviations() {
        let s = sentences("I have an M.Ed. from Leeds. Dr. Okafor says hi! What now?\nNext line");
        assert_eq!(
            s,
            vec![
                "I have an M.Ed. from Leeds.",
                "Dr. Okafor says hi!",
                "What now?",
                "Next line"
            ]
        );
    }

    #[test]
    fn tokens_expand_contractions_and_possessives() {
        let s = Sentence::parse("I'm Ana, my boyfriend Jonas's sister isn't here.");
        assert_eq!(
            s.norm,
            "i am ana , my boyfriend jonas 's sister is not here ."
        );
        assert!(s.is_capitalised(2));
        let at = s.norm.find("boyfriend").unwrap_or(0);
        assert_eq!(s.lower(s.token_at(at)), "boyfriend");
        let s = Sentence::parse("Unity/C# dev at Acme & Co, 3.5 years");
        assert_eq!(s.norm, "unity/c# dev at acme & co , 3.5 years");
    }

    #[test]
    fn code_marks_and_starts_match_plain_searches() {
        for line in [
            "a => b",
            "x = 1",
            "f();",
            "</div>",
            "a::b",
            "$ ls",
            ">>> 1",
            "plain prose",
        ] {
            let plain = ["=", "{", "}", "();", "=>", "</", "::", "|:", "$ ", ">>>"]
                .iter()
                .any(|m| line.contains(m));
            assert_eq!(has_code_mark(line), plain, "{line}");
        }
        assert!(LowerHead::of("IMPORT os").starts_with("import "));
        assert!(LowerHead::of("Traceback (most recent call last)").starts_with("traceback"));
        assert!(!LowerHead::of("İmport os").starts_with("import "));
        assert!(!LowerHead::of("def").starts_with("def "));
    }
}
