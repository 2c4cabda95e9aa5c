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

mod reader;
#[cfg(test)]
mod tests;
mod writer;

use reader::Reader;
pub use writer::{u64_text, write_i64, write_str, write_u64, ObjectWriter};

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
