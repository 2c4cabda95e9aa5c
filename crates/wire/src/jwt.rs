//! JWT claims without verification: the SDK reads `exp`, `sub`, `role`, `session_id` and
//! `is_anonymous` of tokens it was given, to schedule refreshes and to explain refusals. It
//! never trusts them for anything a server decides (the shell verifies signatures with
//! WebCrypto when `getClaims()` asks, and the servers verify everything).

use alloc::string::String;
use alloc::vec::Vec;

use crate::json::{self, Value};

/// Why a string is not a decodable JWT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwtError {
    /// Not three dot-separated segments.
    NotThreeSegments,
    /// A segment is not base64url.
    Base64,
    /// The header or claims are not a JSON object.
    NotJsonObject,
}

impl JwtError {
    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            JwtError::NotThreeSegments => "jwt_segments",
            JwtError::Base64 => "jwt_base64",
            JwtError::NotJsonObject => "jwt_json",
        }
    }
}

/// Decodes unpadded (or padded) base64url; `None` on any other byte.
pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // A single leftover sextet cannot encode a byte.
    if bits >= 6 {
        return None;
    }
    Some(out)
}

/// Encodes bytes as unpadded base64url.
pub fn b64url_encode(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = match chunk.len() {
            3 => u32::from(chunk[0]) << 16 | u32::from(chunk[1]) << 8 | u32::from(chunk[2]),
            2 => u32::from(chunk[0]) << 16 | u32::from(chunk[1]) << 8,
            _ => u32::from(chunk[0]) << 16,
        };
        let emit = chunk.len() + 1;
        for i in 0..emit {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// The claims the SDK reads, plus the header fields that select a key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Claims {
    /// Header `alg`.
    pub alg: Option<String>,
    /// Header `kid`.
    pub kid: Option<String>,
    /// `exp` (Unix seconds; decimals truncated).
    pub exp: Option<i64>,
    /// `iat`.
    pub iat: Option<i64>,
    /// `sub`.
    pub sub: Option<String>,
    /// `role`.
    pub role: Option<String>,
    /// `session_id`.
    pub session_id: Option<String>,
    /// `is_anonymous`.
    pub is_anonymous: bool,
    /// `ref` (API-key JWTs carry the project ref).
    pub project_ref: Option<String>,
    /// The claims object's JSON text, as decoded.
    pub raw: String,
}

/// Decodes a JWT's header and claims without verifying the signature.
pub fn decode(token: &str) -> Result<Claims, JwtError> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(sig), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JwtError::NotThreeSegments);
    };
    if h.is_empty() || c.is_empty() {
        return Err(JwtError::NotThreeSegments);
    }
    b64url_decode(sig).ok_or(JwtError::Base64)?;
    let header = b64url_decode(h).ok_or(JwtError::Base64)?;
    let claims = b64url_decode(c).ok_or(JwtError::Base64)?;
    let header = core::str::from_utf8(&header).map_err(|_| JwtError::NotJsonObject)?;
    let claims_text = core::str::from_utf8(&claims).map_err(|_| JwtError::NotJsonObject)?;
    let hv = json::parse(header).map_err(|_| JwtError::NotJsonObject)?;
    let cv = json::parse(claims_text).map_err(|_| JwtError::NotJsonObject)?;
    if hv.as_object().is_none() || cv.as_object().is_none() {
        return Err(JwtError::NotJsonObject);
    }
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(String::from);
    Ok(Claims {
        alg: s(&hv, "alg"),
        kid: s(&hv, "kid"),
        exp: cv.get("exp").and_then(Value::as_i64),
        iat: cv.get("iat").and_then(Value::as_i64),
        sub: s(&cv, "sub"),
        role: s(&cv, "role"),
        session_id: s(&cv, "session_id"),
        is_anonymous: cv.get("is_anonymous").and_then(Value::as_bool).unwrap_or(false),
        project_ref: s(&cv, "ref"),
        raw: String::from(claims_text),
    })
}

/// `true` if `key` decodes as a JWT (legacy anon / service keys), `false` for opaque keys such
/// as `sb_publishable_…`.
pub fn is_jwt(key: &str) -> bool {
    decode(key).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(claims: &str) -> String {
        let mut t = b64url_encode(br#"{"alg":"ES256","kid":"k1","typ":"JWT"}"#);
        t.push('.');
        t.push_str(&b64url_encode(claims.as_bytes()));
        t.push_str(".c2ln");
        t
    }

    #[test]
    fn decodes_gotrue_claims() {
        let c = decode(&token(
            r#"{"sub":"u1","role":"authenticated","exp":1800000000.5,"session_id":"s1","is_anonymous":true}"#,
        ))
        .unwrap();
        assert_eq!(c.alg.as_deref(), Some("ES256"));
        assert_eq!(c.kid.as_deref(), Some("k1"));
        assert_eq!(c.exp, Some(1_800_000_000));
        assert_eq!(c.sub.as_deref(), Some("u1"));
        assert!(c.is_anonymous);
        assert!(is_jwt(&token("{}")));
    }

    #[test]
    fn opaque_keys_are_not_jwts() {
        assert_eq!(decode("sb_publishable_abc").unwrap_err(), JwtError::NotThreeSegments);
        assert_eq!(decode("a.b.c.d").unwrap_err(), JwtError::NotThreeSegments);
        assert_eq!(decode("!!.e30.x").unwrap_err(), JwtError::Base64);
        assert_eq!(decode(&(b64url_encode(b"[]") + ".e30.")).unwrap_err(), JwtError::NotJsonObject);
        assert!(!is_jwt(""));
        assert!(!is_jwt("potato"));
    }

    #[test]
    fn base64url_round_trip() {
        for n in 0..40usize {
            let data: Vec<u8> = (0..n as u8).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(b64url_decode(&b64url_encode(&data)).unwrap(), data);
        }
        assert_eq!(b64url_decode("A"), None);
    }
}
