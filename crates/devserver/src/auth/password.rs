//! Passwords: GoTrue's strength rule (at least 6 characters, at most 72 bytes) and bcrypt at
//! GoTrue's cost 10, hashed in `$2a$` form like GoTrue. Verification accepts `$2a$`, `$2b$`
//! and `$2y$` hashes, so users seeded with pgcrypto's `crypt()` sign in too. Hashing runs on
//! the blocking pool: at cost 10 it takes tens of milliseconds.

use super::error::ApiError;

/// GoTrue's bcrypt cost.
pub(crate) const BCRYPT_COST: u32 = 10;
/// GoTrue's default minimum length.
pub(crate) const MIN_LENGTH: usize = 6;
/// bcrypt reads at most 72 bytes; GoTrue refuses longer passwords.
pub(crate) const MAX_LENGTH: usize = 72;

/// GoTrue's strength check: 400 `validation_failed` when too long, 422 `weak_password` with
/// reasons `["length"]` when shorter than 6 characters.
pub(crate) fn check_strength(password: &str) -> Result<(), ApiError> {
    if password.len() > MAX_LENGTH {
        return Err(ApiError::validation(format!("Password cannot be longer than {MAX_LENGTH} characters")));
    }
    if password.chars().count() < MIN_LENGTH {
        return Err(ApiError::WeakPassword {
            message: format!("Password should be at least {MIN_LENGTH} characters."),
            reasons: vec!["length"],
        });
    }
    Ok(())
}

/// bcrypt hash (cost 10, `$2a$`).
pub(crate) async fn hash(password: &str) -> Result<String, ApiError> {
    let pw = password.to_owned();
    tokio::task::spawn_blocking(move || {
        bcrypt::hash_with_result(pw.as_bytes(), BCRYPT_COST).map(|h| h.format_for_version(bcrypt::Version::TwoA))
    })
    .await
    .map_err(|e| ApiError::internal("Error generating password", e))?
    .map_err(|e| ApiError::internal("Error generating password", e))
}

/// True when `password` matches the bcrypt `hash`; false for a malformed hash.
pub(crate) async fn verify(password: &str, hash: &str) -> bool {
    let (pw, h) = (password.to_owned(), hash.to_owned());
    tokio::task::spawn_blocking(move || bcrypt::verify(pw.as_bytes(), &h).unwrap_or(false)).await.unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength() {
        assert!(check_strength("123456").is_ok());
        assert_eq!(check_strength("12345").unwrap_err().code(), "weak_password");
        assert_eq!(check_strength(&"x".repeat(73)).unwrap_err().code(), "validation_failed");
    }

    #[tokio::test]
    async fn hashes_verify_across_versions() {
        let h = hash("password123").await.unwrap();
        assert!(h.starts_with("$2a$10$"), "{h}");
        assert!(verify("password123", &h).await);
        assert!(!verify("password124", &h).await);
        // A `$2b$` hash (what other bcrypt libraries write) of the same password.
        let b = bcrypt::hash_with_result("pw", 4).unwrap().format_for_version(bcrypt::Version::TwoB);
        assert!(verify("pw", &b).await);
        assert!(!verify("pw", "not a hash").await);
    }
}
