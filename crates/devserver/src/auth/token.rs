//! `POST /token?grant_type=…`: password, refresh_token (see [`super::refresh`]), pkce and
//! id_token.

use super::error::ApiError;
use super::session::{self, Method};
use super::{access, authorize, dberr, password, refresh, users, ReqInfo};
use crate::http::Shared;
use crate::jwt::{decode_unverified, JwtError};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Instant;

/// `POST /auth/v1/token`.
pub(crate) async fn token(
    State(state): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    info: ReqInfo,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    access::require_key(&state, &headers)?;
    if let Some(delay) = state.auth.faults.take_token_delay() {
        tokio::time::sleep(delay).await;
    }
    match q.get("grant_type").map(String::as_str) {
        Some("password") => password_grant(&state, &body, &info).await,
        Some("refresh_token") => refresh::grant(&state, &body, &info).await,
        Some("pkce") => pkce_grant(&state, &body, &info).await,
        Some("id_token") => id_token_grant(&state, &body, &info).await,
        _ => Err(ApiError::bad_request("invalid_credentials", "unsupported_grant_type")),
    }
}

#[derive(Debug, Default, Deserialize)]
struct PasswordParams {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

const INVALID_LOGIN: &str = "Invalid login credentials";

async fn password_grant(state: &crate::http::AppState, body: &[u8], info: &ReqInfo) -> Result<Response, ApiError> {
    let p: PasswordParams = super::parse_body(body)?;
    let email = p.email.filter(|s| !s.is_empty());
    let phone = p.phone.filter(|s| !s.is_empty());
    if email.is_some() && phone.is_some() {
        return Err(ApiError::validation("Only an email address or phone number should be provided on login."));
    }
    let ident = match (&email, &phone) {
        (Some(e), _) => e.trim().to_lowercase(),
        (None, Some(p)) => p.trim().trim_start_matches('+').to_string(),
        (None, None) => return Err(ApiError::validation("missing email or phone")),
    };
    let pw = p.password.unwrap_or_default();
    let limited = state.config.limits;
    if limited && !state.auth.limiter.allowed(&ident, info.ip, Instant::now()) {
        return Err(ApiError::new(429, "over_request_rate_limit", "Request rate limit reached"));
    }
    let mut db = super::db(state).await?;
    let user = match &email {
        Some(_) => users::by_email(&*db, &ident).await?,
        None => users::by_phone(&*db, &ident).await?,
    };
    let hash = user.as_ref().and_then(|u| u.encrypted_password.as_deref()).filter(|h| !h.is_empty());
    // GoTrue refuses a banned user (one with a password) before it looks at the password.
    if hash.is_some() && user.as_ref().is_some_and(|u| u.banned) {
        return Err(ApiError::bad_request("user_banned", "User is banned"));
    }
    let ok = match hash {
        Some(hash) if !pw.is_empty() => password::verify(&pw, hash).await,
        _ => false,
    };
    let Some(user) = user.filter(|_| ok) else {
        if limited {
            state.auth.limiter.failed(&ident, info.ip, Instant::now());
        }
        return Err(ApiError::bad_request("invalid_credentials", INVALID_LOGIN));
    };
    if limited {
        state.auth.limiter.succeeded(&ident, info.ip);
    }
    if email.is_some() && !user.email_confirmed {
        return Err(ApiError::bad_request("email_not_confirmed", "Email not confirmed"));
    }
    let tx = db.transaction().await.map_err(dberr("Database error granting user"))?;
    let mut body = session::sign_in(state, &tx, &user.id, Method::Password, info).await?;
    tx.commit().await.map_err(dberr("Database error granting user"))?;
    if let Err(ApiError::WeakPassword { message, reasons }) = password::check_strength(&pw) {
        body["weak_password"] = serde_json::json!({ "reasons": reasons, "message": message });
    }
    Ok(Json(body).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct PkceParams {
    #[serde(default)]
    auth_code: String,
    #[serde(default)]
    code_verifier: String,
}

/// How long an auth code stays valid (GoTrue's default flow-state expiry).
pub(crate) const FLOW_STATE_TTL_SECS: f64 = 300.0;

/// Checks a PKCE verifier against the stored challenge (`s256` or `plain`).
pub(crate) fn verify_pkce(challenge: &str, method: &str, verifier: &str) -> Result<(), ApiError> {
    use base64::Engine as _;
    let computed = match method.to_ascii_lowercase().as_str() {
        "s256" => crate::jwt::B64URL.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes())),
        "plain" => verifier.to_owned(),
        _ => return Err(ApiError::bad_request("bad_code_verifier", "code challenge method not supported")),
    };
    if crate::keys::ct_eq(&computed, challenge) {
        Ok(())
    } else {
        Err(ApiError::bad_request("bad_code_verifier", "code challenge does not match previously saved code verifier"))
    }
}

async fn pkce_grant(state: &crate::http::AppState, body: &[u8], info: &ReqInfo) -> Result<Response, ApiError> {
    let p: PkceParams = super::parse_body(body)?;
    if p.auth_code.is_empty() || p.code_verifier.is_empty() {
        return Err(ApiError::validation("invalid request: both auth code and code verifier should be non-empty"));
    }
    let mut db = super::db(state).await?;
    let tx = db.transaction().await.map_err(dberr("Database error"))?;
    let flow = tx
        .query_opt(
            "select id::text, user_id::text, code_challenge, code_challenge_method, authentication_method,
                    coalesce(auth_code_issued_at, created_at) + $2::float8 * interval '1 second' < now(),
                    provider_access_token, provider_refresh_token
             from auth.flow_state where auth_code = $1 for update",
            &[&p.auth_code, &FLOW_STATE_TTL_SECS],
        )
        .await
        .map_err(dberr("Database error finding flow state"))?;
    let not_found = || ApiError::not_found("flow_state_not_found", "invalid flow state, no valid flow state found");
    let Some(flow) = flow else { return Err(not_found()) };
    let Some(user_id) = flow.get::<_, Option<String>>(1) else { return Err(not_found()) };
    if flow.get::<_, bool>(5) {
        return Err(ApiError::unprocessable("flow_state_expired", "invalid flow state, flow state has expired"));
    }
    let Some(user) = users::by_id(&tx, &user_id).await? else { return Err(not_found()) };
    verify_pkce(&flow.get::<_, String>(2), &flow.get::<_, String>(3), &p.code_verifier)?;
    if user.banned {
        return Err(ApiError::bad_request("user_banned", "User is banned"));
    }
    let flow_id: String = flow.get(0);
    tx.execute("delete from auth.flow_state where id = $1::text::uuid", &[&flow_id])
        .await
        .map_err(dberr("Database error deleting flow state"))?;
    let method = Method::parse(&flow.get::<_, String>(4));
    let mut body = session::sign_in(state, &tx, &user.id, method, info).await?;
    tx.commit().await.map_err(dberr("Database error granting user"))?;
    if let Some(t) = flow.get::<_, Option<String>>(6).filter(|s| !s.is_empty()) {
        body["provider_token"] = Value::String(t);
    }
    if let Some(t) = flow.get::<_, Option<String>>(7).filter(|s| !s.is_empty()) {
        body["provider_refresh_token"] = Value::String(t);
    }
    Ok(Json(body).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct IdTokenParams {
    #[serde(default)]
    provider: String,
    #[serde(default)]
    id_token: String,
    #[serde(default)]
    nonce: Option<String>,
}

/// The `dev` provider's rule for an `id_token`: a JWT whose signature verifies with this
/// server's keys (HS256 with the project JWT secret, or ES256 with its signing key), or an
/// unsigned token (`alg: "none"`, empty signature). It must carry `sub`; `exp`, when present,
/// must be in the future; `email`, `name`, `picture` and `email_verified` are used when
/// present; a request `nonce` must equal the token's `nonce` claim or its SHA-256 hex.
pub(crate) fn dev_id_token_claims(
    keys: &crate::keys::KeyStore,
    token: &str,
    nonce: Option<&str>,
    now: i64,
) -> Result<serde_json::Map<String, Value>, ApiError> {
    let bad = |m: &str| ApiError::bad_request("bad_oauth_callback", format!("Invalid id_token: {m}"));
    let (header, claims) = decode_unverified(token).map_err(|_| bad("not a JWT"))?;
    if !header.alg.eq_ignore_ascii_case("none") {
        match keys.jwt.verify(token, now) {
            Ok(_) | Err(JwtError::MissingRoleOrExp) => {}
            Err(JwtError::Expired { .. }) => return Err(bad("token has expired")),
            Err(_) => return Err(bad("signature does not verify with the project's keys")),
        }
    } else if let Some(exp) = claims.exp() {
        if exp <= now {
            return Err(bad("token has expired"));
        }
    }
    let claims = claims.0;
    if claims.get("sub").and_then(Value::as_str).is_none_or(str::is_empty) {
        return Err(bad("missing sub claim"));
    }
    if let Some(n) = nonce.filter(|n| !n.is_empty()) {
        let hashed: String = ring::digest::digest(&ring::digest::SHA256, n.as_bytes())
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let got = claims.get("nonce").and_then(Value::as_str).unwrap_or("");
        if got != n && got != hashed {
            return Err(bad("nonces mismatch"));
        }
    }
    Ok(claims)
}

async fn id_token_grant(state: &crate::http::AppState, body: &[u8], info: &ReqInfo) -> Result<Response, ApiError> {
    let p: IdTokenParams = super::parse_body(body)?;
    if p.id_token.is_empty() {
        return Err(ApiError::validation("id_token required"));
    }
    if p.provider != "dev" {
        return Err(ApiError::validation(format!(
            "Provider (issuer \"{}\") is not supported: authwire-dev supports only the \"dev\" provider",
            p.provider
        )));
    }
    let claims = dev_id_token_claims(&state.keys, &p.id_token, p.nonce.as_deref(), crate::http::unix_now())?;
    let mut db = super::db(state).await?;
    let tx = db.transaction().await.map_err(dberr("Database error"))?;
    let user_id = authorize::find_or_create_dev_user(&tx, &claims).await?;
    let user = users::by_id(&tx, &user_id).await?.ok_or_else(|| ApiError::internal("user vanished", "id_token"))?;
    if user.banned {
        return Err(ApiError::bad_request("user_banned", "User is banned"));
    }
    let body = session::sign_in(state, &tx, &user_id, Method::OAuth, info).await?;
    tx.commit().await.map_err(dberr("Database error granting user"))?;
    Ok(Json(body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_methods() {
        // RFC 7636 appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verify_pkce(challenge, "s256", verifier).is_ok());
        assert!(verify_pkce(challenge, "S256", verifier).is_ok());
        assert_eq!(verify_pkce(challenge, "s256", "nope").unwrap_err().code(), "bad_code_verifier");
        assert!(verify_pkce("abc", "plain", "abc").is_ok());
        assert!(verify_pkce("abc", "plain", "abd").is_err());
        assert!(verify_pkce("abc", "md5", "abc").is_err());
    }
}
