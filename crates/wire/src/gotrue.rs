//! GoTrue (Supabase Auth) bodies: token responses and the three error shapes
//! (reference auth-session.md §1.3, §1.4).

use alloc::string::String;
use alloc::vec::Vec;

use crate::frame::DecodeError;
use crate::json::{self, int_of, str_of};

/// The API version header value that selects GoTrue's `{code, message}` error shape.
pub const API_VERSION: &str = "2024-01-01";

/// A token response (every grant, `verify`, MFA verify).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenResponse<'a> {
    /// The JWT.
    pub access_token: String,
    /// The single-use refresh token.
    pub refresh_token: String,
    /// Lifetime in seconds.
    pub expires_in: i64,
    /// Unix seconds, server clock, when the server sent it.
    pub expires_at: Option<i64>,
    /// The raw `user` object, if present.
    pub user: Option<&'a str>,
    /// Every member, raw, in order (what auth-js spreads into the stored session).
    pub members: Vec<(String, &'a str)>,
}

/// Reads a token response. Like auth-js, a body is a session only if it has `access_token`,
/// `refresh_token` and `expires_in`.
pub fn parse_token_response(body: &str) -> Result<TokenResponse<'_>, DecodeError> {
    let members = json::fields(body)?;
    let get = |k: &str| members.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
    let access_token = get("access_token").and_then(str_of).ok_or(DecodeError::Shape("no access_token"))?;
    let refresh_token = get("refresh_token").and_then(str_of).ok_or(DecodeError::Shape("no refresh_token"))?;
    let expires_in = get("expires_in").and_then(int_of).ok_or(DecodeError::Shape("no expires_in"))?;
    Ok(TokenResponse {
        access_token,
        refresh_token,
        expires_in,
        expires_at: get("expires_at").and_then(int_of),
        user: get("user").filter(|u| u.starts_with('{')),
        members,
    })
}

/// A GoTrue error, whatever shape it came in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErrorBody {
    /// The error code (`refresh_token_not_found`, `invalid_credentials`, …), if any.
    pub code: Option<String>,
    /// The message.
    pub message: String,
    /// For weak passwords: the reasons.
    pub weak_password_reasons: Vec<String>,
}

/// Reads an error body: `{code, message}` (API version ≥ 2024-01-01), the legacy
/// `{code: <status>, error_code, msg}`, or OAuth's `{error, error_description}`. A body that is
/// not JSON gives an empty code and the body text (trimmed) as message.
pub fn parse_error(body: &str) -> ErrorBody {
    let Ok(members) = json::fields(body) else {
        // At most ~200 bytes of an HTML error page, cut at a character boundary.
        let text = body.trim();
        let mut end = text.len().min(200);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        return ErrorBody { code: None, message: String::from(&text[..end]), weak_password_reasons: Vec::new() };
    };
    let get = |k: &str| members.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
    let code = get("error_code").and_then(str_of).or_else(|| get("code").and_then(str_of)).or_else(|| {
        // OAuth-style bodies carry the code in `error`.
        get("error_description").and(get("error")).and_then(str_of)
    });
    let message = get("msg")
        .and_then(str_of)
        .or_else(|| get("message").and_then(str_of))
        .or_else(|| get("error_description").and_then(str_of))
        .or_else(|| get("error").and_then(str_of))
        .unwrap_or_default();
    let weak_password_reasons = get("weak_password")
        .and_then(|w| json::field(w, "reasons").ok().flatten())
        .and_then(|r| json::elements(r).ok())
        .map(|els| els.into_iter().filter_map(str_of).collect())
        .unwrap_or_default();
    ErrorBody { code, message, weak_password_reasons }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_responses() {
        let body = r#"{"access_token":"a.b.c","token_type":"bearer","expires_in":3600,"expires_at":1800003600,"refresh_token":"r1","user":{"id":"u"},"weak_password":null}"#;
        let t = parse_token_response(body).unwrap();
        assert_eq!(t.access_token, "a.b.c");
        assert_eq!(t.expires_in, 3600);
        assert_eq!(t.expires_at, Some(1_800_003_600));
        assert_eq!(t.user, Some(r#"{"id":"u"}"#));
        assert_eq!(t.members.len(), 7);
        assert!(parse_token_response(r#"{"user":{"id":"u"}}"#).is_err());
        assert!(parse_token_response("<html>").is_err());
    }

    #[test]
    fn error_shapes() {
        let e = parse_error(r#"{"code":"refresh_token_already_used","message":"Invalid Refresh Token: Already Used"}"#);
        assert_eq!(e.code.as_deref(), Some("refresh_token_already_used"));
        assert_eq!(e.message, "Invalid Refresh Token: Already Used");
        let e = parse_error(r#"{"code":400,"error_code":"invalid_credentials","msg":"Invalid login credentials"}"#);
        assert_eq!(e.code.as_deref(), Some("invalid_credentials"));
        assert_eq!(e.message, "Invalid login credentials");
        let e = parse_error(r#"{"error":"invalid_grant","error_description":"Refresh Token Not Found"}"#);
        assert_eq!(e.code.as_deref(), Some("invalid_grant"));
        assert_eq!(e.message, "Refresh Token Not Found");
        let e = parse_error(r#"{"code":"weak_password","message":"weak","weak_password":{"reasons":["length"]}}"#);
        assert_eq!(e.weak_password_reasons, ["length"]);
        // Found by fuzzing: a long non-JSON body cut inside a multi-byte character.
        let long = alloc::format!("{}é{}", "x".repeat(199), "y".repeat(50));
        assert_eq!(parse_error(&long).message.len(), 199);
        let e = parse_error("<html>Bad Gateway</html>");
        assert_eq!(e.code, None);
        assert_eq!(e.message, "<html>Bad Gateway</html>");
    }
}
