//! Percent codecs for URL components: the one place the SDK, the model servers and the tests
//! encode and decode query strings and fragments.

use alloc::string::String;
use alloc::vec::Vec;

/// Appends `s` percent-encoded as `encodeURIComponent` does (unreserved characters and
/// `!~*'()` stay; every other byte becomes `%XX`).
pub fn encode_component(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
}

/// Decodes a query or fragment component: `%XX` escapes and `+` as a space (form encoding).
/// A `%` not followed by two hex digits stays as it is; bytes that are not UTF-8 become
/// U+FFFD.
pub fn decode_component(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of `name` in a query string or fragment (`a=1&b=2`), decoded.
pub fn query_value(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|p| p.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| decode_component(v)))
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut s = String::new();
        encode_component(&mut s, "a b/c?d=é&");
        assert_eq!(s, "a%20b%2Fc%3Fd%3D%C3%A9%26");
        assert_eq!(decode_component(&s), "a b/c?d=é&");
    }

    #[test]
    fn form_and_broken_escapes() {
        assert_eq!(decode_component("a%2Fb+c%zz"), "a/b c%zz");
        assert_eq!(decode_component("%4"), "%4");
        assert_eq!(decode_component("%41"), "A");
        assert_eq!(decode_component("%ff"), "\u{fffd}");
    }

    #[test]
    fn query() {
        assert_eq!(query_value("a=1&code=x%20y", "code").as_deref(), Some("x y"));
        assert_eq!(query_value("a=1", "b"), None);
    }
}
