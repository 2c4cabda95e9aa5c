//! JSON Web Tokens: signing (ES256, HS256), verification and unverified decoding.
//!
//! A JWT is `base64url(header) . base64url(claims) . base64url(signature)`. Verification
//! follows the order and the error classes of the Supabase Realtime server
//! (`reference/realtime-protocol.md` §1.4 and §5.3), so that the handshake and channel code
//! can turn a [`JwtError`] into the exact status and text the real server sends.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self, EcdsaKeyPair, KeyPair as _};
use serde_json::{json, Map, Value};
use std::fmt;

/// base64url without padding on output; padding tolerated on input.
pub(crate) const B64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_encode_padding(false).with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A signing algorithm this server issues tokens with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// ECDSA P-256 with SHA-256 (the default for user access tokens), header carries `kid`.
    Es256,
    /// HMAC-SHA-256 with the project JWT secret (legacy keys, `--jwt-alg HS256`).
    Hs256,
}

impl Alg {
    /// The `alg` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::Es256 => "ES256",
            Alg::Hs256 => "HS256",
        }
    }
}

/// Why a token was refused. The variants follow the Realtime handshake table
/// (`realtime-protocol.md` §1.4); [`JwtError::handshake_status`] and
/// [`JwtError::handshake_message`] give that table's status and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtError {
    /// No token at all ("API key is missing").
    Missing,
    /// Not three base64url segments of JSON objects, e.g. an `sb_publishable_…` key.
    Malformed,
    /// No key for the header's `alg` / `kid` (includes `alg: none` and RS*/EdDSA here).
    NoSigner {
        /// The header's `kid`, when there was one.
        kid: Option<String>,
    },
    /// The signature does not verify with the selected key.
    BadSignature,
    /// `exp` is at or before now.
    Expired {
        /// `now - exp`, in whole seconds (≥ 0).
        seconds_ago: i64,
    },
    /// A claim has the wrong type (e.g. `exp` or `iat` not a number): the real server's
    /// fall-through "Error connecting to Realtime" case.
    InvalidClaim {
        /// The claim's name.
        claim: &'static str,
    },
    /// The token verifies but lacks `role` or `exp`.
    MissingRoleOrExp,
}

impl JwtError {
    /// HTTP status the Realtime server answers a refused WebSocket handshake with.
    pub fn handshake_status(&self) -> u16 {
        match self {
            JwtError::InvalidClaim { .. } => 500,
            _ => 401,
        }
    }

    /// The `error` text of the Realtime handshake's JSON body.
    pub fn handshake_message(&self) -> String {
        match self {
            JwtError::Missing => "API key is missing".into(),
            JwtError::Malformed => "The token provided is not a valid JWT".into(),
            JwtError::NoSigner { kid: None } => {
                "Failed to generate JWT signer, check your JWT secret or JWKS configuration".into()
            }
            JwtError::NoSigner { kid: Some(kid) } => format!(
                "Failed to generate JWT signer for key ID (kid) \"{kid}\", check your JWT secret or JWKS configuration"
            ),
            JwtError::BadSignature => "Failed to validate JWT signature".into(),
            JwtError::Expired { .. } => "Token has expired".into(),
            JwtError::InvalidClaim { .. } => "Error connecting to Realtime".into(),
            JwtError::MissingRoleOrExp => "Fields `role` and `exp` are required in JWT".into(),
        }
    }
}

impl fmt::Display for JwtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Channel-level text carries the age (realtime-protocol.md §5.3).
            JwtError::Expired { seconds_ago } => write!(f, "Token has expired {seconds_ago} seconds ago"),
            JwtError::InvalidClaim { claim } => write!(f, "invalid claim `{claim}`"),
            other => f.write_str(&other.handshake_message()),
        }
    }
}

impl std::error::Error for JwtError {}

/// A key could not be loaded or generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError(pub(crate) &'static str);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for KeyError {}

/// The decoded JOSE header fields this server looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// `alg`.
    pub alg: String,
    /// `kid`, if present.
    pub kid: Option<String>,
}

/// Verified (or merely decoded) claims, with typed accessors for the ones the server uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims(pub Map<String, Value>);

impl Claims {
    /// A string claim.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }
    /// `role`.
    pub fn role(&self) -> Option<&str> {
        self.str("role")
    }
    /// `sub`.
    pub fn sub(&self) -> Option<&str> {
        self.str("sub")
    }
    /// `session_id`.
    pub fn session_id(&self) -> Option<&str> {
        self.str("session_id")
    }
    /// `exp` rounded to whole seconds (decimal values are accepted, as the real server does).
    pub fn exp(&self) -> Option<i64> {
        self.0.get("exp").and_then(number_secs)
    }
    /// `iat` rounded to whole seconds.
    pub fn iat(&self) -> Option<i64> {
        self.0.get("iat").and_then(number_secs)
    }
}

fn number_secs(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f.round() as i64)),
        _ => None,
    }
}

/// Splits a token and decodes header and claims without checking the signature.
pub fn decode_unverified(token: &str) -> Result<(Header, Claims), JwtError> {
    decode_parts(token).map(|p| (p.header, p.claims))
}

struct Parts {
    header: Header,
    claims: Claims,
    signing_input_len: usize,
    signature: Vec<u8>,
}

fn decode_parts(token: &str) -> Result<Parts, JwtError> {
    if token.is_empty() {
        return Err(JwtError::Missing);
    }
    let mut it = token.split('.');
    let (Some(h), Some(c), Some(s), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return Err(JwtError::Malformed);
    };
    let header = decode_object(h)?;
    let claims = decode_object(c)?;
    let signature = B64URL.decode(s).map_err(|_| JwtError::Malformed)?;
    let alg = header.get("alg").and_then(Value::as_str).ok_or(JwtError::Malformed)?.to_owned();
    let kid = header.get("kid").and_then(Value::as_str).map(str::to_owned);
    Ok(Parts {
        header: Header { alg, kid },
        claims: Claims(claims),
        signing_input_len: h.len() + 1 + c.len(),
        signature,
    })
}

fn decode_object(segment: &str) -> Result<Map<String, Value>, JwtError> {
    let bytes = B64URL.decode(segment).map_err(|_| JwtError::Malformed)?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(JwtError::Malformed),
    }
}

/// The project's token keys: the shared HMAC secret and one ES256 key pair with its `kid`.
pub struct JwtKeys {
    secret: Vec<u8>,
    es: EcdsaKeyPair,
    kid: String,
    rng: SystemRandom,
}

impl fmt::Debug for JwtKeys {
    // Never print key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKeys").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl JwtKeys {
    /// Builds the key set from the raw HMAC secret bytes and a PKCS#8 P-256 private key.
    pub fn new(secret: &[u8], es256_pkcs8: &[u8], kid: String) -> Result<Self, KeyError> {
        let rng = SystemRandom::new();
        let es = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, es256_pkcs8, &rng)
            .map_err(|_| KeyError("the ES256 signing key is not a valid PKCS#8 P-256 key"))?;
        Ok(JwtKeys { secret: secret.to_vec(), es, kid, rng })
    }

    /// Generates a fresh PKCS#8 P-256 private key.
    pub fn generate_es256_pkcs8() -> Result<Vec<u8>, KeyError> {
        let doc = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .map_err(|_| KeyError("could not generate an ES256 key"))?;
        Ok(doc.as_ref().to_vec())
    }

    /// The ES256 key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWK set: only the asymmetric key, as GoTrue's JWKS endpoint serves it.
    pub fn jwks(&self) -> Value {
        // Uncompressed SEC1 point: 0x04 || x (32 bytes) || y (32 bytes).
        let point = self.es.public_key().as_ref();
        let (x, y) = (&point[1..33], &point[33..65]);
        json!({ "keys": [{
            "kty": "EC", "crv": "P-256", "x": B64URL.encode(x), "y": B64URL.encode(y),
            "kid": self.kid, "alg": "ES256", "use": "sig", "key_ops": ["verify"],
        }]})
    }

    /// Signs `claims` with `alg`. The header is `{alg, typ: "JWT"}` plus `kid` for ES256.
    pub fn sign(&self, alg: Alg, claims: &Map<String, Value>) -> Result<String, KeyError> {
        let header = match alg {
            Alg::Es256 => json!({ "alg": "ES256", "kid": self.kid, "typ": "JWT" }),
            Alg::Hs256 => json!({ "alg": "HS256", "typ": "JWT" }),
        };
        let mut token = B64URL.encode(header.to_string());
        token.push('.');
        token.push_str(&B64URL.encode(Value::Object(claims.clone()).to_string()));
        let sig = match alg {
            Alg::Es256 => self
                .es
                .sign(&self.rng, token.as_bytes())
                .map_err(|_| KeyError("ES256 signing failed"))?
                .as_ref()
                .to_vec(),
            Alg::Hs256 => {
                hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &self.secret), token.as_bytes()).as_ref().to_vec()
            }
        };
        token.push('.');
        token.push_str(&B64URL.encode(sig));
        Ok(token)
    }

    /// Verifies `token` at unix time `now` (seconds) in the real server's order: format,
    /// signer, signature, `exp` / `iat` types and expiry, then presence of `role` and `exp`.
    /// Whitespace anywhere in the token is ignored, as Realtime does.
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, JwtError> {
        let cleaned: String;
        let token = if token.chars().any(char::is_whitespace) {
            cleaned = token.chars().filter(|c| !c.is_whitespace()).collect();
            &cleaned
        } else {
            token
        };
        let parts = decode_parts(token)?;
        let input = &token.as_bytes()[..parts.signing_input_len];
        let hmac_alg = match parts.header.alg.as_str() {
            "HS256" => Some(hmac::HMAC_SHA256),
            "HS384" => Some(hmac::HMAC_SHA384),
            "HS512" => Some(hmac::HMAC_SHA512),
            _ => None,
        };
        let verified = if let Some(alg) = hmac_alg {
            // No `oct` keys in our JWKS, so every HS token uses the project secret.
            hmac::verify(&hmac::Key::new(alg, &self.secret), input, &parts.signature).is_ok()
        } else if parts.header.alg == "ES256" && parts.header.kid.as_deref() == Some(self.kid.as_str()) {
            signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, self.es.public_key().as_ref())
                .verify(input, &parts.signature)
                .is_ok()
        } else {
            return Err(JwtError::NoSigner { kid: parts.header.kid });
        };
        if !verified {
            return Err(JwtError::BadSignature);
        }
        let claims = parts.claims;
        if let Some(exp) = claims.0.get("exp") {
            let exp = number_secs(exp).ok_or(JwtError::InvalidClaim { claim: "exp" })?;
            if exp <= now {
                return Err(JwtError::Expired { seconds_ago: now.saturating_sub(exp) });
            }
        }
        if let Some(iat) = claims.0.get("iat") {
            number_secs(iat).ok_or(JwtError::InvalidClaim { claim: "iat" })?;
        }
        if claims.0.get("role").is_none() || claims.0.get("exp").is_none() {
            return Err(JwtError::MissingRoleOrExp);
        }
        Ok(claims)
    }
}

/// Fills `n` bytes from the system CSPRNG.
pub(crate) fn random_bytes(n: usize) -> Result<Vec<u8>, KeyError> {
    let mut buf = vec![0u8; n];
    SystemRandom::new().fill(&mut buf).map_err(|_| KeyError("the system random generator failed"))?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn keys() -> JwtKeys {
        let pkcs8 = JwtKeys::generate_es256_pkcs8().unwrap();
        JwtKeys::new(b"super-secret-jwt-token-with-at-least-32-characters-long", &pkcs8, "kid-1".into()).unwrap()
    }

    fn claims(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    fn user_claims() -> Map<String, Value> {
        claims(json!({ "sub": "u1", "role": "authenticated", "exp": NOW + 60, "iat": NOW }))
    }

    #[test]
    fn round_trip_both_algorithms() {
        let k = keys();
        for alg in [Alg::Es256, Alg::Hs256] {
            let t = k.sign(alg, &user_claims()).unwrap();
            let c = k.verify(&t, NOW).unwrap();
            assert_eq!(c.role(), Some("authenticated"));
            assert_eq!(c.sub(), Some("u1"));
            assert_eq!(c.exp(), Some(NOW + 60));
            let (h, _) = decode_unverified(&t).unwrap();
            assert_eq!(h.alg, alg.as_str());
            assert_eq!(h.kid.is_some(), alg == Alg::Es256);
        }
    }

    #[test]
    fn hs256_is_plain_hmac_of_the_secret_bytes() {
        // A token signed elsewhere with the same raw UTF-8 secret must verify.
        let secret = b"super-secret-jwt-token-with-at-least-32-characters-long";
        let input = format!(
            "{}.{}",
            B64URL.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
            B64URL.encode(r#"{"role":"anon","exp":1900000000}"#)
        );
        let sig = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), input.as_bytes());
        let token = format!("{input}.{}", B64URL.encode(sig.as_ref()));
        assert_eq!(keys().verify(&token, NOW).unwrap().role(), Some("anon"));
    }

    #[test]
    fn tampering_is_detected() {
        let k = keys();
        for alg in [Alg::Es256, Alg::Hs256] {
            let t = k.sign(alg, &user_claims()).unwrap();
            let mut parts: Vec<String> = t.split('.').map(str::to_owned).collect();
            parts[1] = B64URL.encode(r#"{"sub":"u1","role":"service_role","exp":1800000060}"#);
            assert_eq!(k.verify(&parts.join("."), NOW), Err(JwtError::BadSignature));
            // Flip one signature byte.
            let mut sig = B64URL.decode(&parts[2]).unwrap();
            sig[0] ^= 1;
            let t2 =
                format!("{}.{}.{}", t.split('.').next().unwrap(), t.split('.').nth(1).unwrap(), B64URL.encode(sig));
            assert_eq!(k.verify(&t2, NOW), Err(JwtError::BadSignature));
        }
        // Another project's keys do not verify ours.
        let other = keys();
        let t = k.sign(Alg::Hs256, &user_claims()).unwrap();
        let mut other_secret =
            JwtKeys::new(b"another-secret", &JwtKeys::generate_es256_pkcs8().unwrap(), "kid-1".into())
                .unwrap()
                .verify(&t, NOW);
        assert_eq!(other_secret, Err(JwtError::BadSignature));
        other_secret = other.verify(&k.sign(Alg::Es256, &user_claims()).unwrap(), NOW);
        assert_eq!(other_secret, Err(JwtError::BadSignature));
    }

    #[test]
    fn error_classes_follow_the_realtime_table() {
        let k = keys();
        assert_eq!(k.verify("", NOW), Err(JwtError::Missing));
        for bad in ["sb_publishable_abc", "potato", "a.b", "a.b.c.d", "e30.e30.!!", "WzFd.e30.AA"] {
            assert_eq!(k.verify(bad, NOW), Err(JwtError::Malformed), "{bad}");
        }
        // Unknown kid / alg.
        let mut t = k.sign(Alg::Es256, &user_claims()).unwrap();
        let body = t.split_off(t.find('.').unwrap());
        let h = B64URL.encode(r#"{"alg":"ES256","kid":"nope"}"#);
        assert_eq!(k.verify(&format!("{h}{body}"), NOW), Err(JwtError::NoSigner { kid: Some("nope".into()) }));
        let h = B64URL.encode(r#"{"alg":"none"}"#);
        assert_eq!(k.verify(&format!("{h}{body}"), NOW), Err(JwtError::NoSigner { kid: None }));
        // Expired, at and after exp.
        let t = k.sign(Alg::Hs256, &user_claims()).unwrap();
        assert_eq!(k.verify(&t, NOW + 60), Err(JwtError::Expired { seconds_ago: 0 }));
        assert_eq!(k.verify(&t, NOW + 75), Err(JwtError::Expired { seconds_ago: 15 }));
        assert_eq!(JwtError::Expired { seconds_ago: 15 }.to_string(), "Token has expired 15 seconds ago");
        // Missing role / exp.
        let t = k.sign(Alg::Hs256, &claims(json!({ "exp": NOW + 5 }))).unwrap();
        assert_eq!(k.verify(&t, NOW), Err(JwtError::MissingRoleOrExp));
        let t = k.sign(Alg::Hs256, &claims(json!({ "role": "anon" }))).unwrap();
        assert_eq!(k.verify(&t, NOW), Err(JwtError::MissingRoleOrExp));
        // Wrong claim types are the 500 case.
        let t = k.sign(Alg::Hs256, &claims(json!({ "role": "anon", "exp": "soon" }))).unwrap();
        assert_eq!(k.verify(&t, NOW), Err(JwtError::InvalidClaim { claim: "exp" }));
        assert_eq!(JwtError::InvalidClaim { claim: "exp" }.handshake_status(), 500);
        // Decimal exp accepted and rounded; whitespace ignored.
        let t = k.sign(Alg::Es256, &claims(json!({ "role": "anon", "exp": (NOW + 10) as f64 + 0.4 }))).unwrap();
        let spaced = format!("{}\n {}", &t[..10], &t[10..]);
        assert_eq!(k.verify(&spaced, NOW).unwrap().exp(), Some(NOW + 10));
    }

    #[test]
    fn jwks_has_the_public_point() {
        let k = keys();
        let jwks = k.jwks();
        let key = &jwks["keys"][0];
        assert_eq!(key["kid"], "kid-1");
        assert_eq!(key["alg"], "ES256");
        let x = B64URL.decode(key["x"].as_str().unwrap()).unwrap();
        let y = B64URL.decode(key["y"].as_str().unwrap()).unwrap();
        assert_eq!((x.len(), y.len()), (32, 32));
        // Rebuild the point from the JWK and verify a token with it.
        let mut point = vec![4u8];
        point.extend_from_slice(&x);
        point.extend_from_slice(&y);
        let t = k.sign(Alg::Es256, &user_claims()).unwrap();
        let (input, sig) = t.rsplit_once('.').unwrap();
        signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &point)
            .verify(input.as_bytes(), &B64URL.decode(sig).unwrap())
            .unwrap();
    }

    #[test]
    fn debug_does_not_leak_the_secret() {
        let s = format!("{:?}", keys());
        assert!(!s.contains("super-secret"), "{s}");
    }
}
