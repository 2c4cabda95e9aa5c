//! Sessions, refresh tokens and access tokens.
//!
//! A sign-in creates an `auth.sessions` row (aal1), an `auth.mfa_amr_claims` row for the
//! method, and a first refresh token. Refresh tokens are GoTrue's legacy ("v1") form: 12
//! characters of `[a-z0-9]`, one row each in `auth.refresh_tokens`, chained by `parent`.
//! Access tokens carry GoTrue's claims and are signed ES256 (or HS256 with `--jwt-alg HS256`).

use super::error::ApiError;
use super::users::{self, UserRow};
use super::ReqInfo;
use crate::http::AppState;
use serde_json::{json, Map, Value};
use tokio_postgres::GenericClient;

/// How the user authenticated (the `amr` method and `auth.mfa_amr_claims` value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    /// Email or phone + password.
    Password,
    /// Email OTP, magic link, signup confirmation, recovery.
    Otp,
    /// The `dev` identity provider (`/authorize`, `id_token`).
    OAuth,
    /// Anonymous sign-in.
    Anonymous,
}

impl Method {
    /// GoTrue's name for it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Password => "password",
            Method::Otp => "otp",
            Method::OAuth => "oauth",
            Method::Anonymous => "anonymous",
        }
    }
    /// Parses a stored name (flow states).
    pub(crate) fn parse(s: &str) -> Method {
        match s {
            "password" => Method::Password,
            "otp" | "magiclink" | "email/signup" | "recovery" => Method::Otp,
            "anonymous" => Method::Anonymous,
            _ => Method::OAuth,
        }
    }
}

const ALNUM: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// `n` characters of `[a-z0-9]` from the system CSPRNG (rejection sampling, no bias).
pub(crate) fn random_alnum(n: usize) -> Result<String, ApiError> {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        let bytes = crate::jwt::random_bytes(n * 2).map_err(|e| ApiError::internal("random", e))?;
        for b in bytes {
            if b < 252 && out.len() < n {
                out.push(ALNUM[(b % 36) as usize] as char);
            }
        }
    }
    Ok(out)
}

/// A fresh v4 UUID.
pub(crate) fn new_uuid() -> Result<String, ApiError> {
    Ok(crate::keys::uuid_v4(&crate::jwt::random_bytes(16).map_err(|e| ApiError::internal("random", e))?))
}

/// Inserts a new refresh token for the session (its parent is the token it replaces).
pub(crate) async fn insert_refresh_token<C: GenericClient + Sync>(
    tx: &C,
    user_id: &str,
    session_id: &str,
    parent: Option<&str>,
) -> Result<String, ApiError> {
    let token = random_alnum(12)?;
    tx.execute(
        "insert into auth.refresh_tokens (instance_id, token, user_id, session_id, parent, revoked, created_at, updated_at)
         values ('00000000-0000-0000-0000-000000000000', $1, $2::text::uuid, $3::text::uuid, $4, false, now(), now())",
        &[&token, &user_id, &session_id, &parent],
    )
    .await
    .map_err(|e| ApiError::internal("Database error granting user", e))?;
    Ok(token)
}

/// Creates a session for `user` and returns the token response (§1.3). Runs in the caller's
/// transaction.
pub(crate) async fn sign_in<C: GenericClient + Sync>(
    state: &AppState,
    tx: &C,
    user_id: &str,
    method: Method,
    req: &ReqInfo,
) -> Result<Value, ApiError> {
    let session_id = new_uuid()?;
    let ip = req.ip.to_string();
    tx.execute(
        "insert into auth.sessions (id, user_id, created_at, updated_at, aal, user_agent, ip)
         values ($1::text::uuid, $2::text::uuid, now(), now(), 'aal1', $3, $4::text::inet)",
        &[&session_id, &user_id, &req.user_agent, &ip],
    )
    .await
    .map_err(|e| ApiError::internal("Database error creating new session", e))?;
    tx.execute(
        "insert into auth.mfa_amr_claims (session_id, created_at, updated_at, authentication_method, id)
         values ($1::text::uuid, now(), now(), $2, gen_random_uuid())",
        &[&session_id, &method.as_str()],
    )
    .await
    .map_err(|e| ApiError::internal("Database error creating new session", e))?;
    let refresh = insert_refresh_token(tx, user_id, &session_id, None).await?;
    tx.execute("update auth.users set last_sign_in_at = now() where id = $1::text::uuid", &[&user_id])
        .await
        .map_err(|e| ApiError::internal("Database error updating user's last_sign_in_at", e))?;
    tx.execute(
        "update auth.identities set last_sign_in_at = now() where user_id = $1::text::uuid and provider = $2",
        &[&user_id, &provider_for(method)],
    )
    .await
    .map_err(|e| ApiError::internal("Database error updating identity", e))?;
    let user = users::by_id(tx, user_id).await?.ok_or_else(|| ApiError::internal("user vanished", "sign-in"))?;
    token_response(state, tx, &user, &session_id, refresh).await
}

fn provider_for(method: Method) -> &'static str {
    match method {
        Method::OAuth => "dev",
        Method::Anonymous => "anonymous",
        _ => "email",
    }
}

/// Builds the token response for an existing session: a new access token, the given refresh
/// token, the user object.
pub(crate) async fn token_response<C: GenericClient + Sync>(
    state: &AppState,
    tx: &C,
    user: &UserRow,
    session_id: &str,
    refresh_token: String,
) -> Result<Value, ApiError> {
    let rows = tx
        .query(
            "select s.aal, c.authentication_method, extract(epoch from c.updated_at)::bigint
             from auth.sessions s left join auth.mfa_amr_claims c on c.session_id = s.id
             where s.id = $1::text::uuid order by c.updated_at desc",
            &[&session_id],
        )
        .await
        .map_err(|e| ApiError::internal("Database error loading session", e))?;
    let aal = rows.first().and_then(|r| r.get::<_, Option<String>>(0)).unwrap_or_else(|| "aal1".into());
    let amr: Vec<Value> = rows
        .iter()
        .filter_map(|r| {
            let m: Option<String> = r.get(1);
            m.map(|m| json!({ "method": m, "timestamp": r.get::<_, Option<i64>>(2).unwrap_or(0) }))
        })
        .collect();
    let (access_token, expires_in, expires_at) = access_token(state, user, session_id, &aal, amr)?;
    Ok(json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": expires_in,
        "expires_at": expires_at,
        "refresh_token": refresh_token,
        "user": user.json,
    }))
}

/// Signs an access token with GoTrue's claims. Returns (token, expires_in, expires_at).
pub(crate) fn access_token(
    state: &AppState,
    user: &UserRow,
    session_id: &str,
    aal: &str,
    amr: Vec<Value>,
) -> Result<(String, i64, i64), ApiError> {
    let now = crate::http::unix_now();
    let iat = state.auth.faults.issue_time(&user.id, now);
    let ttl = state.auth.faults.take_token_ttl().unwrap_or(state.config.token_ttl as i64);
    let exp = iat + ttl;
    let mut c = Map::new();
    c.insert("iss".into(), json!(format!("{}/auth/v1", state.url)));
    c.insert("sub".into(), json!(user.id));
    c.insert("aud".into(), json!(if user.aud.is_empty() { "authenticated" } else { &user.aud }));
    c.insert("exp".into(), json!(exp));
    c.insert("iat".into(), json!(iat));
    c.insert("email".into(), json!(user.email.clone().unwrap_or_default()));
    c.insert("phone".into(), json!(user.phone.clone().unwrap_or_default()));
    c.insert("app_metadata".into(), user.app_metadata.clone());
    c.insert("user_metadata".into(), user.user_metadata.clone());
    c.insert("role".into(), json!(if user.role.is_empty() { "authenticated" } else { &user.role }));
    c.insert("aal".into(), json!(aal));
    c.insert("amr".into(), Value::Array(amr));
    c.insert("session_id".into(), json!(session_id));
    c.insert("is_anonymous".into(), json!(user.is_anonymous));
    let token = state
        .keys
        .jwt
        .sign(state.config.jwt_alg.alg(), &c)
        .map_err(|e| ApiError::internal("error generating jwt token", e))?;
    Ok((token, exp - now, exp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_token_alphabet() {
        let t = random_alnum(12).unwrap();
        assert_eq!(t.len(), 12);
        assert!(t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        assert_ne!(t, random_alnum(12).unwrap());
    }
}
