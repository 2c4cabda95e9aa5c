//! A small JSON reader and writer, built for the wasm size budget.
//!
//! Why not serde_json: the browser already parses JSON natively, and almost every payload the
//! SDK touches (broadcast bodies, database rows, presence metas, user objects) only passes
//! through to JavaScript. The core needs a handful of fields out of each frame, so this module
//! offers three tools:
//!
//! * [`fields`] / [`elements`]: one level of an object or array as raw text slices, without
//!   building a tree (what the core uses on the hot path);
//! * [`parse`]: a full tree ([`Value`]) for the few small documents the core inspects deeply;
//! * [`ObjectWriter`] / [`write_str`]: building frames and request bodies.
//!
//! Numbers are never converted to floats: [`Value::Num`] keeps the source text and
//! [`Value::as_i64`] reads integers (and truncates decimals such as a `1.5e9` `exp`). That
//! keeps float parsing and formatting (`core::fmt`, `flt2dec`) out of the wasm.
//!
//! Every reader returns `Result` and never panics on any input; nesting deeper than
//! [`MAX_DEPTH`] is refused instead of overflowing the stack.

use alloc::string::String;
use alloc::vec::Vec;

/// Deepest nesting accepted by the readers. Realtime payloads nest a handful of levels;
/// 128 leaves room for user data while bounding recursion on hostile input.
pub const MAX_DEPTH: usize = 128;

/// Why a document was refused, with the byte offset where reading stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonError {
    /// What went wrong.
    pub kind: JsonErrorKind,
    /// Byte offset into the input.
    pub offset: usize,
}

/// The kinds of [`JsonError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonErrorKind {
    /// The input ended inside a value.
    UnexpectedEnd,
    /// A byte that cannot start or continue a value here.
    UnexpectedByte,
    /// A malformed number.
    InvalidNumber,
    /// A malformed escape sequence in a string.
    InvalidEscape,
    /// A raw control character inside a string.
    ControlCharacter,
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Non-whitespace after the value.
    TrailingCharacters,
    /// The value has the wrong type for the reader asked (for example [`fields`] on an array).
    WrongType,
}

impl JsonError {
    /// A stable code for logs and the JS boundary.
    pub fn code(&self) -> &'static str {
        match self.kind {
            JsonErrorKind::UnexpectedEnd => "json_unexpected_end",
            JsonErrorKind::UnexpectedByte => "json_unexpected_byte",
            JsonErrorKind::InvalidNumber => "json_invalid_number",
            JsonErrorKind::InvalidEscape => "json_invalid_escape",
            JsonErrorKind::ControlCharacter => "json_control_character",
            JsonErrorKind::TooDeep => "json_too_deep",
            JsonErrorKind::TrailingCharacters => "json_trailing_characters",
            JsonErrorKind::WrongType => "json_wrong_type",
        }
    }
}

/// A parsed JSON document. Objects keep their key order (and duplicate keys, as written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, as its source text (never converted to a float).
    Num(String),
    /// A string, unescaped.
    Str(String),
    /// An array.
    Arr(Vec<Value>),
    /// An object, in source order.
    Obj(Vec<(String, Value)>),
}

impl Value {
    /// The member `key` of an object (the first one if the key repeats).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    /// The integer part of a number (see [`int_of`]).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Num(n) => int_of(n),
            _ => None,
        }
    }
    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Arr(a) => Some(a),
            _ => None,
        }
    }
    /// The members, if this is an object.
    pub fn as_object(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Obj(m) => Some(m),
            _ => None,
        }
    }
    /// `true` for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    /// Serialise into `out` (compact, keys in stored order).
    pub fn write(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            Value::Num(n) => out.push_str(n),
            Value::Str(s) => write_str(out, s),
            Value::Arr(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
            Value::Obj(m) => {
                out.push('{');
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(out, k);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
    /// The compact JSON text of this value.
    pub fn to_json(&self) -> String {
        let mut s = String::new();
        self.write(&mut s);
        s
    }
}

/// Reads the integer part of a JSON number's text: `"42"` → 42, `"1.9"` → 1, `"-3"` → -3,
/// `"1.5e3"` → 1500. `None` when it overflows `i64` or is not a number.
///
/// Realtime accepts decimal `exp`/`iat` claims and rounds them (protocol reference §5.3);
/// truncation is on the safe side for an expiry.
pub fn int_of(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let neg = b.first() == Some(&b'-');
    let digits_in = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = usize::from(neg);
    let int = &b[i..i + digits_in(i)];
    if int.is_empty() {
        return None;
    }
    i += int.len();
    let mut frac = &b[i..i];
    if b.get(i) == Some(&b'.') {
        frac = &b[i + 1..i + 1 + digits_in(i + 1)];
        if frac.is_empty() {
            return None;
        }
        i += 1 + frac.len();
    }
    let mut exp: i64 = 0;
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        let eneg = b.get(i) == Some(&b'-');
        if let Some(b'-' | b'+') = b.get(i) {
            i += 1;
        }
        let n = digits_in(i);
        if n == 0 {
            return None;
        }
        for &c in &b[i..i + n] {
            exp = exp.saturating_mul(10).saturating_add(i64::from(c - b'0'));
        }
        if eneg {
            exp = -exp;
        }
        i += n;
    }
    if i != b.len() {
        return None;
    }
    // The integer part is the first `int.len() + exp` digits of `int ++ frac`, then zeros once
    // those run out. Accumulating with the sign (not negating at the end) reaches i64::MIN;
    // leading zeros never overflow, so a long mantissa scaled down by the exponent still reads.
    let point = (int.len() as i64).saturating_add(exp);
    let take = usize::try_from(point).unwrap_or(0);
    let mut n: i64 = 0;
    for &c in int.iter().chain(frac).take(take) {
        let d = i64::from(c - b'0');
        n = n.checked_mul(10)?;
        n = if neg { n.checked_sub(d)? } else { n.checked_add(d)? };
    }
    let zeros = point.saturating_sub((int.len() + frac.len()) as i64);
    if n != 0 {
        // Nineteen more zeros overflow any non-zero value; the cap bounds the loop.
        for _ in 0..zeros.clamp(0, 19) {
            n = n.checked_mul(10)?;
        }
    }
    Some(n)
}

/// Parses a whole document into a [`Value`].
pub fn parse(text: &str) -> Result<Value, JsonError> {
    let mut r = Reader::new(text);
    r.ws();
    let v = r.value(0)?;
    r.end()?;
    Ok(v)
}

/// Checks that `text` is exactly one JSON value, without building anything.
pub fn validate(text: &str) -> Result<(), JsonError> {
    let mut r = Reader::new(text);
    r.ws();
    r.skip(0)?;
    r.end()
}

/// The members of a JSON object, one level deep: unescaped key and the raw text of each value.
/// Fails with [`JsonErrorKind::WrongType`] if `text` is not an object; the values are
/// validated.
pub fn fields(text: &str) -> Result<Vec<(String, &str)>, JsonError> {
    let mut r = Reader::new(text);
    r.ws();
    let mut out = Vec::new();
    if r.peek() != Some(b'{') {
        return Err(r.err(JsonErrorKind::WrongType));
    }
    r.pos += 1;
    r.ws();
    if r.peek() == Some(b'}') {
        r.pos += 1;
        r.end()?;
        return Ok(out);
    }
    loop {
        r.ws();
        let k = r.string()?;
        r.ws();
        r.expect(b':')?;
        r.ws();
        let start = r.pos;
        r.skip(1)?;
        out.push((k, &text[start..r.pos]));
        r.ws();
        match r.bump() {
            Some(b',') => continue,
            Some(b'}') => break,
            Some(_) => return Err(r.err_at(r.pos - 1, JsonErrorKind::UnexpectedByte)),
            None => return Err(r.err(JsonErrorKind::UnexpectedEnd)),
        }
    }
    r.end()?;
    Ok(out)
}

/// The raw value of member `key` of a JSON object (the first one), if present.
pub fn field<'a>(text: &'a str, key: &str) -> Result<Option<&'a str>, JsonError> {
    Ok(fields(text)?.into_iter().find(|(k, _)| k == key).map(|(_, v)| v))
}

/// The elements of a JSON array, one level deep, as raw text slices.
/// Fails with [`JsonErrorKind::WrongType`] if `text` is not an array.
pub fn elements(text: &str) -> Result<Vec<&str>, JsonError> {
    let mut r = Reader::new(text);
    r.ws();
    let mut out = Vec::new();
    if r.peek() != Some(b'[') {
        return Err(r.err(JsonErrorKind::WrongType));
    }
    r.pos += 1;
    r.ws();
    if r.peek() == Some(b']') {
        r.pos += 1;
        r.end()?;
        return Ok(out);
    }
    loop {
        r.ws();
        let start = r.pos;
        r.skip(1)?;
        out.push(&text[start..r.pos]);
        r.ws();
        match r.bump() {
            Some(b',') => continue,
            Some(b']') => break,
            Some(_) => return Err(r.err_at(r.pos - 1, JsonErrorKind::UnexpectedByte)),
            None => return Err(r.err(JsonErrorKind::UnexpectedEnd)),
        }
    }
    r.end()?;
    Ok(out)
}

/// Reads a raw JSON value as a string (`"a\"b"` → `a"b`); `None` if it is not a string.
pub fn str_of(raw: &str) -> Option<String> {
    let mut r = Reader::new(raw);
    r.ws();
    if r.peek() != Some(b'"') {
        return None;
    }
    let s = r.string().ok()?;
    r.end().ok()?;
    Some(s)
}

struct Reader<'a> {
    b: &'a [u8],
    s: &'a str,
    pos: usize,
}

// The small helpers are forced inline: at opt-level z the compiler keeps them as calls,
// which made decoding about 5x slower in wasm; inlining costs ~230 B gzip (bench/json/RESULTS.md).
impl<'a> Reader<'a> {
    fn new(s: &'a str) -> Self {
        Reader { b: s.as_bytes(), s, pos: 0 }
    }
    #[inline(always)]
    fn err(&self, kind: JsonErrorKind) -> JsonError {
        JsonError { kind, offset: self.pos }
    }
    #[inline(always)]
    fn err_at(&self, offset: usize, kind: JsonErrorKind) -> JsonError {
        JsonError { kind, offset }
    }
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }
    #[inline(always)]
    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }
    #[inline(always)]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }
    fn end(&mut self) -> Result<(), JsonError> {
        self.ws();
        if self.pos == self.b.len() {
            Ok(())
        } else {
            Err(self.err(JsonErrorKind::TrailingCharacters))
        }
    }
    #[inline(always)]
    fn expect(&mut self, c: u8) -> Result<(), JsonError> {
        match self.bump() {
            Some(x) if x == c => Ok(()),
            Some(_) => Err(self.err_at(self.pos - 1, JsonErrorKind::UnexpectedByte)),
            None => Err(self.err(JsonErrorKind::UnexpectedEnd)),
        }
    }
    fn literal(&mut self, word: &[u8]) -> Result<(), JsonError> {
        if self.b.len() - self.pos < word.len() {
            return Err(self.err_at(self.b.len(), JsonErrorKind::UnexpectedEnd));
        }
        if &self.b[self.pos..self.pos + word.len()] != word {
            return Err(self.err(JsonErrorKind::UnexpectedByte));
        }
        self.pos += word.len();
        Ok(())
    }
    fn number(&mut self) -> Result<&'a str, JsonError> {
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
    fn hex4(&mut self) -> Result<u32, JsonError> {
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
    fn string(&mut self) -> Result<String, JsonError> {
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
    fn skip_string(&mut self) -> Result<(), JsonError> {
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
    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
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
    fn skip(&mut self, depth: usize) -> Result<(), JsonError> {
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

/// Appends `s` to `out` as a JSON string literal (quotes and escapes included).
pub fn write_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut run = 0;
    for (i, c) in s.bytes().enumerate() {
        let esc: Option<&str> = match c {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[run..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                out.push_str("\\u00");
                out.push(HEX[usize::from(c >> 4)] as char);
                out.push(HEX[usize::from(c & 15)] as char);
            }
        }
        run = i + 1;
    }
    out.push_str(&s[run..]);
    out.push('"');
}

/// Appends the decimal text of `n` (no `core::fmt`).
pub fn write_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        out.push(b as char);
    }
}

/// Appends the decimal text of a signed `n` (no `core::fmt`).
pub fn write_i64(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    write_u64(out, n.unsigned_abs());
}

/// The decimal text of `n`.
pub fn u64_text(n: u64) -> String {
    let mut s = String::new();
    write_u64(&mut s, n);
    s
}

/// Builds a JSON object member by member into a string.
///
/// ```
/// use authwire_wire::json::ObjectWriter;
/// let mut w = ObjectWriter::new();
/// w.str("event", "cursor").raw("payload", "{\"x\":1}").bool("self", false);
/// assert_eq!(w.finish(), r#"{"event":"cursor","payload":{"x":1},"self":false}"#);
/// ```
#[derive(Debug, Default)]
pub struct ObjectWriter {
    out: String,
}

impl ObjectWriter {
    /// An empty object.
    pub fn new() -> Self {
        ObjectWriter { out: String::from("{") }
    }
    fn key(&mut self, k: &str) {
        if self.out.len() > 1 {
            self.out.push(',');
        }
        write_str(&mut self.out, k);
        self.out.push(':');
    }
    /// A string member.
    pub fn str(&mut self, k: &str, v: &str) -> &mut Self {
        self.key(k);
        write_str(&mut self.out, v);
        self
    }
    /// A string member, or `null`.
    pub fn opt_str(&mut self, k: &str, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.str(k, v),
            None => self.raw(k, "null"),
        }
    }
    /// A member whose value is already JSON text (trusted: the caller produced or validated it).
    pub fn raw(&mut self, k: &str, json: &str) -> &mut Self {
        self.key(k);
        self.out.push_str(json);
        self
    }
    /// A boolean member.
    pub fn bool(&mut self, k: &str, v: bool) -> &mut Self {
        self.raw(k, if v { "true" } else { "false" })
    }
    /// An unsigned integer member.
    pub fn u64(&mut self, k: &str, v: u64) -> &mut Self {
        self.key(k);
        write_u64(&mut self.out, v);
        self
    }
    /// A signed integer member.
    pub fn i64(&mut self, k: &str, v: i64) -> &mut Self {
        self.key(k);
        write_i64(&mut self.out, v);
        self
    }
    /// A member holding a [`Value`].
    pub fn value(&mut self, k: &str, v: &Value) -> &mut Self {
        self.key(k);
        v.write(&mut self.out);
        self
    }
    /// Closes the object and returns its text.
    pub fn finish(&mut self) -> String {
        let mut s = core::mem::take(&mut self.out);
        s.push('}');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    #[test]
    fn parses_nested_documents() {
        let v = parse(r#" {"a": [1, -2.5e3, true, null, "x\"\u00e9\ud83d\ude00"], "b": {}} "#).unwrap();
        let a = v.get("a").unwrap().as_array().unwrap();
        assert_eq!(a[0].as_i64(), Some(1));
        assert_eq!(a[1].as_i64(), Some(-2500));
        assert_eq!(a[2].as_bool(), Some(true));
        assert!(a[3].is_null());
        assert_eq!(a[4].as_str(), Some("x\"é😀"));
        assert_eq!(v.get("b"), Some(&Value::Obj(vec![])));
    }

    #[test]
    fn writes_what_it_reads() {
        let text = r#"{"k":["a\nb",1.25,{"z":null}],"t":false}"#;
        assert_eq!(parse(text).unwrap().to_json(), text);
    }

    #[test]
    fn refuses_malformed_input_with_offsets() {
        for (bad, kind) in [
            ("", JsonErrorKind::UnexpectedEnd),
            ("{", JsonErrorKind::UnexpectedEnd),
            ("[1,]", JsonErrorKind::UnexpectedByte),
            ("01", JsonErrorKind::TrailingCharacters),
            ("1.", JsonErrorKind::InvalidNumber),
            ("\"\\x\"", JsonErrorKind::InvalidEscape),
            ("\"a\u{1}\"", JsonErrorKind::ControlCharacter),
            ("{} x", JsonErrorKind::TrailingCharacters),
            ("tru", JsonErrorKind::UnexpectedEnd),
        ] {
            assert_eq!(parse(bad).unwrap_err().kind, kind, "parse {bad:?}");
            assert_eq!(validate(bad).unwrap_err().kind, kind, "validate {bad:?}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = "[".repeat(100_000);
        assert_eq!(parse(&deep).unwrap_err().kind, JsonErrorKind::TooDeep);
        assert_eq!(validate(&deep).unwrap_err().kind, JsonErrorKind::TooDeep);
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn fields_and_elements_give_raw_slices() {
        let f = fields(r#"{"status":"ok", "response" : {"postgres_changes":[]}}"#).unwrap();
        assert_eq!(f[0], ("status".to_string(), "\"ok\""));
        assert_eq!(f[1].1, r#"{"postgres_changes":[]}"#);
        assert_eq!(elements("[ 1 , \"x\", {} ]").unwrap(), vec!["1", "\"x\"", "{}"]);
        assert_eq!(fields("[]").unwrap_err().kind, JsonErrorKind::WrongType);
        assert_eq!(str_of("\"a\\u0041\""), Some("aA".to_string()));
        assert_eq!(field(r#"{"a":1}"#, "b").unwrap(), None);
    }

    #[test]
    fn integers_from_number_text() {
        assert_eq!(int_of("1700000000"), Some(1_700_000_000));
        assert_eq!(int_of("1700000000.9"), Some(1_700_000_000));
        assert_eq!(int_of("1.7e9"), Some(1_700_000_000));
        assert_eq!(int_of("17e-1"), Some(1));
        assert_eq!(int_of("-0"), Some(0));
        assert_eq!(int_of("99999999999999999999"), None);
        assert_eq!(int_of("x"), None);
        assert_eq!(int_of("-1.9"), Some(-1));
        assert_eq!(int_of("12.5e1"), Some(125));
        assert_eq!(int_of("1e18"), Some(1_000_000_000_000_000_000));
        assert_eq!(int_of("1e19"), None);
        assert_eq!(int_of("0e999999999999999999999"), Some(0));
        assert_eq!(int_of("1e-999999999999999999999"), Some(0));
        for bad in ["", "-", "1.", ".5", "1e", "1e+", "--1", "+1", "1x", "0x10"] {
            assert_eq!(int_of(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn integers_at_the_edges() {
        // i64::MIN was refused: the magnitude was accumulated positive, then negated.
        assert_eq!(int_of("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(int_of("9223372036854775807"), Some(i64::MAX));
        assert_eq!(int_of("9223372036854775808"), None);
        assert_eq!(int_of("-9223372036854775809"), None);
        // Found by fuzzing: a mantissa past i64 that the exponent scales back into range read
        // as None (here the value is -2.2e-534, integer part 0).
        assert_eq!(int_of("-2222222241111111010405e-00000000000555524122"), Some(0));
        assert_eq!(int_of("123456789012345678901e-5"), Some(1_234_567_890_123_456));
        // An exponent that shifts more than 20 fraction digits in read as 0.
        assert_eq!(int_of("0.000000000000000000001e25"), Some(10_000));
    }

    #[test]
    fn escapes_control_characters() {
        let mut s = String::new();
        write_str(&mut s, "a\"b\\c\u{1}\n");
        assert_eq!(s, r#""a\"b\\c\u0001\n""#);
        assert_eq!(parse(&s).unwrap().as_str(), Some("a\"b\\c\u{1}\n"));
        assert_eq!(u64_text(0), "0");
        assert_eq!(u64_text(u64::MAX), "18446744073709551615");
    }
}
