//! Who is calling: project keys for key-level calls, the user's access token for user calls,
//! the service role for admin calls.
//!
//! Like the Supabase API gateway, an opaque `sb_publishable_…` / `sb_secret_…` key stands for
//! the legacy anon / service_role JWT. Key-level calls need at least one valid project key in
//! `apikey` or `Authorization: Bearer` (or a valid token signed by this server); otherwise the
//! gateway's 401 bodies are sent. User calls read only the Bearer token, as GoTrue does.

use super::error::ApiError;
use super::users::{self, UserRow};
use crate::http::{presented_keys, unix_now, AppState};
use crate::jwt::JwtError;
use crate::keys::KeyRole;
use axum::http::header::{self, HeaderMap};
use axum::http::StatusCode;
use serde_json::json;

/// Refuses a request that presents no valid project key (or token of this server).
pub(crate) fn require_key(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let presented = presented_keys(headers);
    if presented.is_empty() {
        return Err(ApiError::Raw {
            status: StatusCode::UNAUTHORIZED,
            body: json!({ "message": "No API key found in request",
                          "hint": "No `apikey` request header or url param was found." }),
        });
    }
    let now = unix_now();
    let valid = presented.iter().any(|k| {
        if k.starts_with("sb_") {
            state.keys.opaque_key_role(k).is_some()
        } else {
            state.keys.jwt.verify(k, now).is_ok()
        }
    });
    if valid {
        Ok(())
    } else {
        Err(ApiError::Raw {
            status: StatusCode::UNAUTHORIZED,
            body: json!({ "message": "Invalid API key", "hint": "Double check your Supabase `anon` or `service_role` API key." }),
        })
    }
}

/// The raw Bearer token, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    v.get(..7).filter(|p| p.eq_ignore_ascii_case("bearer "))?;
    let token = v.get(7..)?.trim();
    (!token.is_empty()).then(|| token.to_owned())
}

/// The Bearer (or, without one, the `apikey`) with opaque keys replaced by their JWT.
fn effective_token(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let raw = bearer(headers).or_else(|| {
        headers.get("apikey").and_then(|v| v.to_str().ok()).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
    })?;
    if raw.starts_with("sb_") {
        if let Some(jwt) = state.keys.jwt_for_opaque_key(&raw) {
            return Some(jwt.to_owned());
        }
    }
    Some(raw)
}

/// GoTrue's `bad_jwt` message for a token that fails to verify.
pub(crate) fn bad_jwt(e: &JwtError) -> ApiError {
    let detail = match e {
        JwtError::Missing | JwtError::Malformed => "token is malformed: could not parse the token".to_string(),
        JwtError::NoSigner { kid } => format!(
            "token is unverifiable: error while executing keyfunc: unrecognized JWT kid {} for algorithm",
            kid.as_deref().unwrap_or("<nil>")
        ),
        JwtError::BadSignature => "token signature is invalid: signature is invalid".into(),
        JwtError::Expired { .. } => "token has invalid claims: token is expired".into(),
        JwtError::InvalidClaim { claim } => format!("token has invalid claims: invalid `{claim}` claim"),
        JwtError::MissingRoleOrExp => "token has invalid claims: missing `role` or `exp`".into(),
    };
    ApiError::forbidden("bad_jwt", format!("invalid JWT: unable to parse or verify signature, {detail}"))
}

/// Admin calls: the Bearer (or apikey) must be the service-role key or a JWT with
/// `role: service_role` (or `supabase_admin`).
pub(crate) fn require_admin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    require_key(state, headers)?;
    let Some(token) = effective_token(state, headers) else {
        return Err(ApiError::new(401, "no_authorization", "This endpoint requires a valid Bearer token"));
    };
    if token.starts_with("sb_") {
        return match state.keys.opaque_key_role(&token) {
            Some(KeyRole::ServiceRole) => Ok(()),
            _ => Err(ApiError::forbidden("not_admin", "User not allowed")),
        };
    }
    let claims = state.keys.jwt.verify(&token, unix_now()).map_err(|e| bad_jwt(&e))?;
    match claims.role() {
        Some("service_role" | "supabase_admin") => Ok(()),
        _ => Err(ApiError::forbidden("not_admin", "User not allowed")),
    }
}

/// A verified user call.
#[derive(Debug, Clone)]
pub(crate) struct UserCall {
    pub(crate) user: UserRow,
    pub(crate) session_id: Option<String>,
}

/// User calls: verifies the Bearer access token and loads its user and session. With
/// `--strict-sessions true` (the default) a banned user or a missing session is refused too.
pub(crate) async fn require_user(state: &AppState, headers: &HeaderMap) -> Result<UserCall, ApiError> {
    let Some(raw) = bearer(headers) else {
        return Err(ApiError::new(401, "no_authorization", "This endpoint requires a valid Bearer token"));
    };
    let token = match raw.starts_with("sb_") {
        true => state.keys.jwt_for_opaque_key(&raw).map(str::to_owned).unwrap_or(raw),
        false => raw,
    };
    let claims = state.keys.jwt.verify(&token, unix_now()).map_err(|e| bad_jwt(&e))?;
    // GoTrue's JWT parser (golang-jwt v5) checks `nbf` when present; the Realtime server
    // (Joken: `exp`, `iat`) does not, so only the auth endpoints refuse it.
    if claims.0.get("nbf").and_then(serde_json::Value::as_f64).is_some_and(|nbf| nbf > unix_now() as f64) {
        let m = "invalid JWT: unable to parse or verify signature, token has invalid claims: token is not valid yet";
        return Err(ApiError::forbidden("bad_jwt", m));
    }
    let Some(sub) = claims.sub().filter(|s| !s.is_empty()).map(str::to_owned) else {
        return Err(ApiError::forbidden("bad_jwt", "invalid claim: missing sub claim"));
    };
    if !users::is_uuid(&sub) {
        return Err(ApiError::bad_request("bad_jwt", "invalid claim: sub claim must be a UUID"));
    }
    let iat = claims.0.get("iat").and_then(serde_json::Value::as_i64);
    if state.auth.faults.expired_early(&sub, iat) {
        return Err(bad_jwt(&JwtError::Expired { seconds_ago: 0 }));
    }
    let db = state.pool.get().await.map_err(|e| ApiError::internal("Database error loading user", e))?;
    let Some(user) = users::by_id(&*db, &sub).await? else {
        return Err(ApiError::forbidden("user_not_found", "User from sub claim in JWT does not exist"));
    };
    let session_id = claims.session_id().filter(|s| !s.is_empty()).map(str::to_owned);
    if let Some(sid) = &session_id {
        if !users::is_uuid(sid) {
            return Err(ApiError::bad_request("bad_jwt", "invalid claim: session_id claim must be a UUID"));
        }
        if state.config.strict_sessions {
            let exists = db
                .query_opt(
                    "select 1 from auth.sessions where id = $1::text::uuid and user_id = $2::text::uuid",
                    &[sid, &user.id],
                )
                .await
                .map_err(|e| ApiError::internal("Database error loading session", e))?
                .is_some();
            if !exists {
                return Err(ApiError::forbidden(
                    "session_not_found",
                    "Session from session_id claim in JWT does not exist",
                ));
            }
        }
    }
    if state.config.strict_sessions && user.banned {
        return Err(ApiError::forbidden("user_banned", "User is banned"));
    }
    Ok(UserCall { user, session_id })
}
