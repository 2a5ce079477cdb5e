//! Splitting a JSON document into its conversations, as byte slices, without
//! parsing the whole document.
//!
//! A conversation can only be reduced once all of it is known (ChatGPT stores
//! `current_node` after `mapping`), so each one is buffered whole, but only one:
//! the scanner follows strings, escapes and bracket depth to find where each
//! element of the top-level array ends, hands the element's bytes to serde,
//! and drops them. That keeps memory at one conversation plus one block, and
//! every error can name the byte offset where it happened.

use super::IngestError;
use super::budget::{Budget, Reservation};
use super::feed::{BLOCK_BYTES, Feed};
use std::sync::Arc;

/// Deeper nesting than this is no conversation (serde_json itself stops at 128).
const MAX_DEPTH: usize = 512;
/// Above this capacity an emptied buffer is given back to the allocator, so
/// that one huge conversation does not pin its memory for the rest of the read.
const SHRINK_ABOVE: usize = 8 << 20;

/// Where the scanner is in the document's top-level structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Before the first byte of the document.
    Start,
    /// Inside the conversation array, before its first element.
    ArrayFirst { wrapped: bool },
    /// Inside the conversation array, after an element.
    ArrayNext { wrapped: bool },
    /// After the array of a `{"conversations": [...]}` wrapper, inside the wrapper.
    WrapperRest,
    /// After the top-level value: only whitespace may follow.
    End,
}

/// One conversation's bytes and where they start in the document.
pub(crate) struct Element<'b> {
    /// The document (file in the container) it comes from, for errors.
    pub file: &'b str,
    pub offset: u64,
    pub bytes: &'b [u8],
}

/// Scans one document at a time from a [`Feed`].
pub(crate) struct Splitter<'f> {
    feed: &'f mut Feed,
    file: String,
    buf: Vec<u8>,
    /// Next byte to look at; may pass `buf.len()` by one after an escape
    /// backslash that ended a block.
    pos: usize,
    /// Document offset of `buf[0]`.
    base: u64,
    /// Start of the bytes that must survive the next refill (the element
    /// being scanned).
    keep: Option<usize>,
    ended: bool,
    shape: Shape,
    max_element: u64,
    stack: Vec<u8>,
    /// The budget held for the element being buffered.
    reserved: Reservation,
}

impl<'f> Splitter<'f> {
    /// `budget`, when given, bounds the bytes of the element being buffered
    /// together with the conversations still held downstream.
    pub fn new(feed: &'f mut Feed, max_element: u64, budget: Option<Arc<Budget>>) -> Self {
        Splitter {
            feed,
            file: String::new(),
            buf: Vec::new(),
            pos: 0,
            base: 0,
            keep: None,
            ended: true,
            shape: Shape::End,
            max_element,
            stack: Vec::new(),
            reserved: Reservation::new(budget),
        }
    }

    /// Moves to the next document of the input (the next zip entry); `None`
    /// when there is none. Returns the document's name.
    pub fn next_document(&mut self) -> Result<Option<&str>, IngestError> {
        let Some(name) = self.feed.next_document()? else {
            return Ok(None);
        };
        self.file = name;
        self.buf.clear();
        self.pos = 0;
        self.base = 0;
        self.keep = None;
        self.ended = false;
        self.shape = Shape::Start;
        Ok(Some(&self.file))
    }

    pub fn progress_due(&mut self) -> Option<u64> {
        self.feed.progress_due()
    }

    pub fn input_bytes(&self) -> u64 {
        self.feed.input_bytes()
    }

    pub fn decompressed_bytes(&self) -> u64 {
        self.feed.decompressed_bytes()
    }

    /// The next conversation of the current document, `None` at its end.
    pub fn next_element(&mut self) -> Result<Option<Element<'_>>, IngestError> {
        loop {
            match self.shape {
                Shape::Start => {
                    self.skip_bom()?;
                    match self.peek()? {
                        Some(b'[') => {
                            self.pos += 1;
                            self.shape = Shape::ArrayFirst { wrapped: false };
                        }
                        Some(b'{') => {
                            if let Some(range) = self.top_object()? {
                                return Ok(Some(self.element(range)));
                            }
                        }
                        Some(_) => return Err(self.error("expected a JSON array or object")),
                        None => {
                            return Err(self.error(
                                "expected a JSON array or object, found the end of the file",
                            ));
                        }
                    }
                }
                Shape::ArrayFirst { wrapped } => match self.peek()? {
                    Some(b']') => {
                        self.pos += 1;
                        self.shape = after_array(wrapped);
                    }
                    Some(_) => {
                        self.shape = Shape::ArrayNext { wrapped };
                        let range = self.array_element()?;
                        return Ok(Some(self.element(range)));
                    }
                    None => return Err(self.truncated("inside the conversation array")),
                },
                Shape::ArrayNext { wrapped } => match self.peek()? {
                    Some(b',') => {
                        self.pos += 1;
                        let range = self.array_element()?;
                        return Ok(Some(self.element(range)));
                    }
                    Some(b']') => {
                        self.pos += 1;
                        self.shape = after_array(wrapped);
                    }
                    Some(_) => {
                        return Err(self.error("expected ',' or ']' after a conversation"));
                    }
                    None => return Err(self.truncated("inside the conversation array")),
                },
                Shape::WrapperRest => match self.peek()? {
                    Some(b',') => {
                        self.pos += 1;
                        self.skip_member()?;
                    }
                    Some(b'}') => {
                        self.pos += 1;
                        self.shape = Shape::End;
                    }
                    Some(_) => return Err(self.error("expected ',' or '}'")),
                    None => return Err(self.truncated("inside the top-level object")),
                },
                Shape::End => {
                    return match self.peek()? {
                        None => Ok(None),
                        Some(_) => Err(self.error("unexpected data after the end of the JSON")),
                    };
                }
            }
        }
    }

    /// Reads one array element, which must be an object; returns its range in `buf`.
    fn array_element(&mut self) -> Result<(usize, usize), IngestError> {
        match self.peek()? {
            Some(b'{') => {
                let start = self.pos;
                self.keep = Some(start);
                self.skip_compound()?;
                self.check_element_size()?;
                let start = self.keep.take().unwrap_or(0);
                Ok((start, self.pos))
            }
            Some(b']') => Err(self.error("expected a conversation after ','")),
            Some(_) => Err(self.error("expected a conversation (a JSON object)")),
            None => Err(self.truncated("inside the conversation array")),
        }
    }

    /// Reads a top-level object. `{"conversations": [...]}` switches to the
    /// array inside it (and returns `None`); any other object is one
    /// conversation, whose range is returned.
    fn top_object(&mut self) -> Result<Option<(usize, usize)>, IngestError> {
        self.keep = Some(self.pos);
        self.pos += 1;
        let mut first = true;
        loop {
            match self.peek()? {
                Some(b'}') if first => {
                    self.pos += 1;
                    break;
                }
                Some(b'"') => {}
                Some(_) => return Err(self.error("expected a string key")),
                None => return Err(self.truncated("inside the top-level object")),
            }
            first = false;
            let key_start = self.base + self.pos as u64;
            self.skip_string()?;
            let key_end = self.base + self.pos as u64;
            self.expect_colon()?;
            let is_conversations = self.slice_abs(key_start, key_end) == b"\"conversations\"";
            if is_conversations && self.peek()? == Some(b'[') {
                self.keep = None;
                self.pos += 1;
                self.shape = Shape::ArrayFirst { wrapped: true };
                return Ok(None);
            }
            self.skip_value()?;
            match self.peek()? {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                Some(_) => return Err(self.error("expected ',' or '}'")),
                None => return Err(self.truncated("inside the top-level object")),
            }
        }
        self.shape = Shape::End;
        self.check_element_size()?;
        let start = self.keep.take().unwrap_or(0);
        Ok(Some((start, self.pos)))
    }

    /// Skips `"key": value` inside the wrapper object after its array.
    fn skip_member(&mut self) -> Result<(), IngestError> {
        match self.peek()? {
            Some(b'"') => self.skip_string()?,
            Some(_) => return Err(self.error("expected a string key")),
            None => return Err(self.truncated("inside the top-level object")),
        }
        self.expect_colon()?;
        self.skip_value()
    }

    fn expect_colon(&mut self) -> Result<(), IngestError> {
        match self.peek()? {
            Some(b':') => {
                self.pos += 1;
                match self.peek()? {
                    Some(_) => Ok(()),
                    None => Err(self.truncated("inside the top-level object")),
                }
            }
            Some(_) => Err(self.error("expected ':'")),
            None => Err(self.truncated("inside the top-level object")),
        }
    }

    /// Skips any JSON value starting at `pos` (after whitespace).
    fn skip_value(&mut self) -> Result<(), IngestError> {
        match self.peek()? {
            Some(b'{' | b'[') => self.skip_compound(),
            Some(b'"') => self.skip_string(),
            Some(b',' | b'}' | b']') => Err(self.error("expected a value")),
            Some(_) => self.skip_scalar(),
            None => Err(self.truncated("where a value was expected")),
        }
    }

    /// Skips a number or literal up to the next delimiter.
    fn skip_scalar(&mut self) -> Result<(), IngestError> {
        loop {
            while let Some(&b) = self.buf.get(self.pos) {
                if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                    return Ok(());
                }
                self.pos += 1;
            }
            if !self.fill()? {
                return Ok(());
            }
        }
    }

    /// Skips a string starting at `pos` (which holds its opening quote).
    fn skip_string(&mut self) -> Result<(), IngestError> {
        self.pos += 1;
        loop {
            let rest = self.buf.get(self.pos..).unwrap_or_default();
            match memchr::memchr2(b'"', b'\\', rest) {
                Some(i) => {
                    let at = self.pos + i;
                    if self.buf.get(at) == Some(&b'"') {
                        self.pos = at + 1;
                        return Ok(());
                    }
                    self.pos = at + 2;
                }
                None => {
                    self.pos = self.pos.max(self.buf.len());
                    if !self.fill()? {
                        return Err(self.truncated("inside a string"));
                    }
                }
            }
        }
    }

    /// Skips an object or array starting at `pos`: the hot loop of the reader.
    fn skip_compound(&mut self) -> Result<(), IngestError> {
        self.stack.clear();
        let mut in_string = false;
        loop {
            let mut i = self.pos;
            let len = self.buf.len();
            while i < len {
                if in_string {
                    let rest = self.buf.get(i..).unwrap_or_default();
                    match memchr::memchr2(b'"', b'\\', rest) {
                        Some(k) => {
                            i += k;
                            if self.buf.get(i) == Some(&b'"') {
                                in_string = false;
                                i += 1;
                            } else {
                                i += 2;
                            }
                        }
                        None => i = len,
                    }
                    continue;
                }
                let Some(&b) = self.buf.get(i) else { break };
                i += 1;
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => {
                        if self.stack.len() >= MAX_DEPTH {
                            self.pos = i - 1;
                            return Err(self.error("JSON nested too deeply"));
                        }
                        self.stack.push(b);
                    }
                    b'}' | b']' => {
                        let open = if b == b'}' { b'{' } else { b'[' };
                        if self.stack.pop() != Some(open) {
                            self.pos = i - 1;
                            return Err(self.error(if b == b'}' {
                                "unexpected '}' (expected ']')"
                            } else {
                                "unexpected ']' (expected '}')"
                            }));
                        }
                        if self.stack.is_empty() {
                            self.pos = i;
                            return Ok(());
                        }
                    }
                    _ => {}
                }
            }
            self.pos = i;
            if !self.fill()? {
                let what = if self.keep.is_some() {
                    "inside a conversation"
                } else {
                    "inside a value"
                };
                return Err(self.truncated(what));
            }
        }
    }

    /// The next non-whitespace byte, without consuming it.
    fn peek(&mut self) -> Result<Option<u8>, IngestError> {
        loop {
            while let Some(&b) = self.buf.get(self.pos) {
                if !matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
                    return Ok(Some(b));
                }
                self.pos += 1;
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    fn skip_bom(&mut self) -> Result<(), IngestError> {
        while self.buf.len() < 3 && self.fill()? {}
        if self.buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
            self.pos = 3;
        }
        Ok(())
    }

    /// Appends the next block of the document; `false` at its end.
    fn fill(&mut self) -> Result<bool, IngestError> {
        if self.ended {
            return Ok(false);
        }
        let drop_to = self
            .keep
            .unwrap_or(self.pos)
            .min(self.pos)
            .min(self.buf.len());
        if drop_to > 0 {
            self.buf.drain(..drop_to);
            self.base += drop_to as u64;
            self.pos -= drop_to;
            if let Some(keep) = self.keep.as_mut() {
                *keep -= drop_to;
            }
        }
        if self.buf.capacity() > SHRINK_ABOVE && self.buf.len() < self.buf.capacity() / 4 {
            self.buf.shrink_to(self.buf.len().saturating_mul(2));
        }
        self.check_element_size()?;
        if let Some(keep) = self.keep {
            // Room for what the element holds and the block to come.
            let held = self.buf.len().saturating_sub(keep) + BLOCK_BYTES;
            self.reserved.grow_to(held as u64);
        }
        match self.feed.next_block(&mut self.buf)? {
            true => Ok(true),
            false => {
                self.ended = true;
                Ok(false)
            }
        }
    }

    /// Fails once the element being scanned holds more than the limit.
    fn check_element_size(&self) -> Result<(), IngestError> {
        let Some(keep) = self.keep else {
            return Ok(());
        };
        let held = self.pos.min(self.buf.len()).saturating_sub(keep) as u64;
        if held > self.max_element {
            return Err(IngestError::ConversationTooLarge {
                file: self.file.clone(),
                offset: self.base + keep as u64,
                limit: self.max_element,
            });
        }
        Ok(())
    }

    /// The budget held for an element of `len` bytes just returned, to travel
    /// with its conversation.
    pub fn take_reservation(&mut self, len: usize) -> Reservation {
        self.reserved.grow_to(len as u64);
        self.reserved.split_off()
    }

    fn slice_abs(&self, start: u64, end: u64) -> &[u8] {
        let from = start.saturating_sub(self.base) as usize;
        let to = end.saturating_sub(self.base) as usize;
        self.buf.get(from..to).unwrap_or_default()
    }

    fn element(&self, (start, end): (usize, usize)) -> Element<'_> {
        Element {
            file: &self.file,
            offset: self.base + start as u64,
            bytes: self.buf.get(start..end).unwrap_or_default(),
        }
    }

    fn offset(&self) -> u64 {
        self.base + self.pos.min(self.buf.len()) as u64
    }

    fn error(&self, detail: &str) -> IngestError {
        IngestError::Json {
            file: self.file.clone(),
            offset: self.offset(),
            detail: detail.to_owned(),
        }
    }

    fn truncated(&self, place: &str) -> IngestError {
        let detail = match self.keep {
            Some(keep) => format!(
                "the file ends {place} that starts at byte {} (truncated export?)",
                self.base + keep as u64
            ),
            None => format!("the file ends {place} (truncated export?)"),
        };
        IngestError::Json {
            file: self.file.clone(),
            offset: self.offset(),
            detail,
        }
    }
}

fn after_array(wrapped: bool) -> Shape {
    if wrapped {
        Shape::WrapperRest
    } else {
        Shape::End
    }
}
