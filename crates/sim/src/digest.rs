//! The one digest of the simulated world: SHA-256 rendered as unpadded base64url, which is
//! what `crypto.subtle.digest('SHA-256', …)` plus auth-js's encoding give for a PKCE S256
//! challenge. The model browser answers [`authwire_core::io::Output::Digest`] with it and the
//! model GoTrue checks `code_challenge_method=s256` with it, so both sides agree by
//! construction.

use alloc::string::String;

use authwire_wire::jwt::b64url_encode;
use sha2::{Digest, Sha256};

/// SHA-256 of the UTF-8 text, unpadded base64url: the answer to an
/// [`authwire_core::io::Output::Digest`] and the S256 PKCE challenge of a verifier.
pub fn digest_b64url(text: &str) -> String {
    b64url_encode(&Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input() {
        // SHA-256 of nothing (FIPS 180-4 test vector), base64url without padding.
        assert_eq!(digest_b64url(""), "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
    }

    #[test]
    fn pkce_shaped_input() {
        // Cross-checked with Python's hashlib + base64.urlsafe_b64encode (padding stripped).
        assert_eq!(
            digest_b64url("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wK-Q1bjXo7kY"),
            "UTfPdfn99Op4xpVq74jx5sBVLZTC4UxabFNnrwP0NSg"
        );
    }
}
