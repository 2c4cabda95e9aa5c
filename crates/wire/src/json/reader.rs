//! The byte-level reader behind [`super::parse`], [`super::validate`], [`super::fields`] and
//! [`super::elements`]: one pass over the text, no allocation for skipped values, depth-bounded.

use alloc::string::String;
use alloc::vec::Vec;

use super::{JsonError, JsonErrorKind, Value, MAX_DEPTH};

pub(super) struct Reader<'a> {
    pub(super) b: &'a [u8],
    pub(super) s: &'a str,
    pub(super) pos: usize,
}

// The small helpers are forced inline: at opt-level z the compiler keeps them as calls,
// which made decoding about 5x slower in wasm; inlining costs ~230 B gzip (bench/json/RESULTS.md).
impl<'a> Reader<'a> {
    pub(super) fn new(s: &'a str) -> Self {
        Reader { b: s.as_bytes(), s, pos: 0 }
    }
    #[inline(always)]
    pub(super) fn err(&self, kind: JsonErrorKind) -> JsonError {
        JsonError { kind, offset: self.pos }
    }
    #[inline(always)]
    pub(super) fn err_at(&self, offset: usize, kind: JsonErrorKind) -> JsonError {
        JsonError { kind, offset }
    }
    #[inline(always)]
    pub(super) fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }
    #[inline(always)]
    pub(super) fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }
    #[inline(always)]
    pub(super) fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }
    pub(super) fn end(&mut self) -> Result<(), JsonError> {
        self.ws();
        if self.pos == self.b.len() {
            Ok(())
        } else {
            Err(self.err(JsonErrorKind::TrailingCharacters))
        }
    }
    #[inline(always)]
    pub(super) fn expect(&mut self, c: u8) -> Result<(), JsonError> {
        match self.bump() {
            Some(x) if x == c => Ok(()),
            Some(_) => Err(self.err_at(self.pos - 1, JsonErrorKind::UnexpectedByte)),
            None => Err(self.err(JsonErrorKind::UnexpectedEnd)),
        }
    }
    pub(super) fn literal(&mut self, word: &[u8]) -> Result<(), JsonError> {
        if self.b.len() - self.pos < word.len() {
            return Err(self.err_at(self.b.len(), JsonErrorKind::UnexpectedEnd));
        }
        if &self.b[self.pos..self.pos + word.len()] != word {
            return Err(self.err(JsonErrorKind::UnexpectedByte));
        }
        self.pos += word.len();
        Ok(())
    }
    pub(super) fn number(&mut self) -> Result<&'a str, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                while let Some(b'0'..=b'9') = self.peek() {
                    self.pos += 1;
                }
            }
            Some(_) => return Err(self.err(JsonErrorKind::InvalidNumber)),
            None => return Err(self.err(JsonErrorKind::UnexpectedEnd)),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            let s = self.pos;
            while let Some(b'0'..=b'9') = self.peek() {
                self.pos += 1;
            }
            if s == self.pos {
                return Err(self.err(JsonErrorKind::InvalidNumber));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            let s = self.pos;
            while let Some(b'0'..=b'9') = self.peek() {
                self.pos += 1;
            }
            if s == self.pos {
                return Err(self.err(JsonErrorKind::InvalidNumber));
            }
        }
        Ok(&self.s[start..self.pos])
    }
    pub(super) fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let c = self.bump().ok_or(self.err(JsonErrorKind::UnexpectedEnd))?;
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return Err(self.err_at(self.pos - 1, JsonErrorKind::InvalidEscape)),
            };
            v = v * 16 + u32::from(d);
        }
        Ok(v)
    }
    /// Reads a string (cursor on the opening quote), unescaping it.
    pub(super) fn string(&mut self) -> Result<String, JsonError> {
        self.expect(b'"')?;
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            let c = self.peek().ok_or(self.err(JsonErrorKind::UnexpectedEnd))?;
            match c {
                b'"' => {
                    out.push_str(&self.s[run..self.pos]);
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    out.push_str(&self.s[run..self.pos]);
                    self.pos += 1;
                    let e = self.bump().ok_or(self.err(JsonErrorKind::UnexpectedEnd))?;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let cp = if (0xD800..0xDC00).contains(&hi) {
                                // A high surrogate needs its low half; a lone one becomes U+FFFD
                                // (JavaScript strings may carry them, Rust strings cannot).
                                if self.b.get(self.pos) == Some(&b'\\') && self.b.get(self.pos + 1) == Some(&b'u') {
                                    let save = self.pos;
                                    self.pos += 2;
                                    let lo = self.hex4()?;
                                    if (0xDC00..0xE000).contains(&lo) {
                                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                                    } else {
                                        self.pos = save;
                                        0xFFFD
                                    }
                                } else {
                                    0xFFFD
                                }
                            } else {
                                hi
                            };
                            out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                        }
                        _ => return Err(self.err_at(self.pos - 1, JsonErrorKind::InvalidEscape)),
                    }
                    run = self.pos;
                }
                0..=0x1f => return Err(self.err(JsonErrorKind::ControlCharacter)),
                _ => self.pos += 1,
            }
        }
    }
    /// Skips a string without unescaping (validates escapes).
    pub(super) fn skip_string(&mut self) -> Result<(), JsonError> {
        self.expect(b'"')?;
        loop {
            let c = self.bump().ok_or(self.err(JsonErrorKind::UnexpectedEnd))?;
            match c {
                b'"' => return Ok(()),
                b'\\' => {
                    let e = self.bump().ok_or(self.err(JsonErrorKind::UnexpectedEnd))?;
                    match e {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            self.hex4()?;
                        }
                        _ => return Err(self.err_at(self.pos - 1, JsonErrorKind::InvalidEscape)),
                    }
                }
                0..=0x1f => return Err(self.err_at(self.pos - 1, JsonErrorKind::ControlCharacter)),
                _ => {}
            }
        }
    }
    pub(super) fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err(JsonErrorKind::TooDeep));
        }
        match self.peek() {
            None => Err(self.err(JsonErrorKind::UnexpectedEnd)),
            Some(b'n') => self.literal(b"null").map(|_| Value::Null),
            Some(b't') => self.literal(b"true").map(|_| Value::Bool(true)),
            Some(b'f') => self.literal(b"false").map(|_| Value::Bool(false)),
            Some(b'"') => self.string().map(Value::Str),
            Some(b'-' | b'0'..=b'9') => self.number().map(|n| Value::Num(String::from(n))),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Value::Arr(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.bump() {
                        Some(b',') => {}
                        Some(b']') => return Ok(Value::Arr(items)),
                        Some(_) => return Err(self.err_at(self.pos - 1, JsonErrorKind::UnexpectedByte)),
                        None => return Err(self.err(JsonErrorKind::UnexpectedEnd)),
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut members = Vec::new();
                self.ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(Value::Obj(members));
                }
                loop {
                    self.ws();
                    if self.peek() != Some(b'"') {
                        return Err(self.err(if self.peek().is_none() {
                            JsonErrorKind::UnexpectedEnd
                        } else {
                            JsonErrorKind::UnexpectedByte
                        }));
                    }
                    let k = self.string()?;
                    self.ws();
                    self.expect(b':')?;
                    self.ws();
                    let v = self.value(depth + 1)?;
                    members.push((k, v));
                    self.ws();
                    match self.bump() {
                        Some(b',') => {}
                        Some(b'}') => return Ok(Value::Obj(members)),
                        Some(_) => return Err(self.err_at(self.pos - 1, JsonErrorKind::UnexpectedByte)),
                        None => return Err(self.err(JsonErrorKind::UnexpectedEnd)),
                    }
                }
            }
            Some(_) => Err(self.err(JsonErrorKind::UnexpectedByte)),
        }
    }
    pub(super) fn skip(&mut self, depth: usize) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err(JsonErrorKind::TooDeep));
        }
        match self.peek() {
            None => Err(self.err(JsonErrorKind::UnexpectedEnd)),
            Some(b'n') => self.literal(b"null"),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'"') => self.skip_string(),
            Some(b'-' | b'0'..=b'9') => self.number().map(|_| ()),
            Some(open @ (b'[' | b'{')) => {
                let close = if open == b'[' { b']' } else { b'}' };
                self.pos += 1;
                self.ws();
                if self.peek() == Some(close) {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.ws();
                    if open == b'{' {
                        if self.peek() != Some(b'"') {
                            return Err(self.err(if self.peek().is_none() {
                                JsonErrorKind::UnexpectedEnd
                            } else {
                                JsonErrorKind::UnexpectedByte
                            }));
                        }
                        self.skip_string()?;
                        self.ws();
                        self.expect(b':')?;
                        self.ws();
                    }
                    self.skip(depth + 1)?;
                    self.ws();
                    match self.bump() {
                        Some(b',') => {}
                        Some(c) if c == close => return Ok(()),
                        Some(_) => return Err(self.err_at(self.pos - 1, JsonErrorKind::UnexpectedByte)),
                        None => return Err(self.err(JsonErrorKind::UnexpectedEnd)),
                    }
                }
            }
            Some(_) => Err(self.err(JsonErrorKind::UnexpectedByte)),
        }
    }
}
