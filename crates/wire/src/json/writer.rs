//! Writing JSON: string literals, integers and [`ObjectWriter`] for frames and request bodies
//! (no floats, no `core::fmt`).

use alloc::string::String;

use super::Value;

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
