//! Email one-time codes and links: `POST /otp` (and the legacy `/magiclink`), `POST /recover`,
//! `POST /verify`, and the link landing `GET /verify`.
//!
//! No mail leaves the machine: each "sent" email is a row of `authwire_dev.mailbox`, read with
//! `GET /_dev/mail?email=…` (service role). A message carries the 6-digit `otp`, its
//! `tokenHash` and the `link` a user would click. Codes live in `auth.one_time_tokens` (only
//! their hash, as GoTrue stores them) for 3600 s; a new code replaces the previous one of the
//! same kind. A wrong, used or old code is GoTrue's 403 `otp_expired`.

use super::error::ApiError;
use super::session::{self, Method};
use super::users::{self, NewUser, UserRow};
use super::{access, authorize, dberr, ReqInfo};
use crate::http::{AppState, Shared};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use tokio_postgres::GenericClient;

/// Lifetime of a code or link (GoTrue's default mailer OTP expiry).
const OTP_TTL_SECS: f64 = 3600.0;

/// Which stored token a verification type may use.
fn token_types(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "signup" | "invite" => Some(&["confirmation_token"]),
        "magiclink" | "recovery" => Some(&["recovery_token"]),
        "email" => Some(&["confirmation_token", "recovery_token"]),
        _ => None,
    }
}

/// The stored hash of a code: hex SHA-256 of the address followed by the code.
fn token_hash(address: &str, otp: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, format!("{address}{otp}").as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn six_digits() -> Result<String, ApiError> {
    loop {
        let b = crate::jwt::random_bytes(4).map_err(|e| ApiError::internal("random", e))?;
        let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        // Reject the top sliver so every code is equally likely.
        if n < 4_294_000_000 {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

/// Issues a code of `token_type` for `user`, records it, and drops the email in the mailbox
/// (a reauthentication email has the code only, no link, as GoTrue's).
pub(crate) async fn send<C: GenericClient + Sync>(
    state: &AppState,
    tx: &C,
    user: &UserRow,
    token_type: &str,
    kind: &str,
    redirect_to: Option<&str>,
) -> Result<(), ApiError> {
    let email = user.email.clone().unwrap_or_default();
    let otp = six_digits()?;
    let hash = token_hash(&email, &otp);
    tx.execute(
        "insert into auth.one_time_tokens (user_id, token_type, token_hash, relates_to, created_at, updated_at)
         values ($1::text::uuid, $2, $3, $4, now() at time zone 'utc', now() at time zone 'utc')
         on conflict (user_id, token_type) do update
           set token_hash = excluded.token_hash, relates_to = excluded.relates_to,
               created_at = excluded.created_at, updated_at = excluded.updated_at",
        &[&user.id, &token_type, &hash, &email],
    )
    .await
    .map_err(dberr("Database error saving one-time token"))?;
    let column = match token_type {
        "confirmation_token" => "confirmation",
        "reauthentication_token" => "reauthentication",
        _ => "recovery",
    };
    tx.execute(
        &format!("update auth.users set {column}_token = $2, {column}_sent_at = now() where id = $1::text::uuid"),
        &[&user.id, &hash],
    )
    .await
    .map_err(dberr("Database error updating user"))?;
    let mut link = format!(
        "{}/auth/v1/verify?{}",
        state.url,
        form_urlencoded::Serializer::new(String::new()).append_pair("token", &hash).append_pair("type", kind).finish()
    );
    if let Some(r) = redirect_to {
        link.push_str("&redirect_to=");
        link.extend(form_urlencoded::byte_serialize(r.as_bytes()));
    }
    let subject = match kind {
        "signup" => "Confirm your signup",
        "recovery" => "Reset your password",
        "reauthentication" => "Confirm reauthentication",
        _ => "Your magic link",
    };
    let link = (kind != "reauthentication").then_some(link);
    tx.execute(
        "insert into authwire_dev.mailbox (channel, recipient, kind, subject, otp, token_hash, link, user_id)
         values ('email', $1, $2, $3, $4, $5, $6, $7::text::uuid)",
        &[&email, &kind, &subject, &otp, &hash, &link, &user.id],
    )
    .await
    .map_err(dberr("Database error writing the mailbox"))?;
    tracing::info!(to = %email, kind, "email delivered to the dev mailbox (GET /_dev/mail)");
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
struct OtpParams {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    create_user: Option<bool>,
    #[serde(default)]
    code_challenge: Option<String>,
    #[serde(default)]
    code_challenge_method: Option<String>,
}

/// With a `code_challenge`, records a PKCE flow for the emailed link: `GET /verify` then
/// redirects with `?code=` instead of a session fragment.
pub(crate) async fn pkce_flow<C: GenericClient + Sync>(
    tx: &C,
    user_id: &str,
    challenge: Option<&str>,
    method: Option<&str>,
    kind: &str,
) -> Result<(), ApiError> {
    let Some(challenge) = challenge.filter(|c| !c.is_empty()) else { return Ok(()) };
    let method = method.unwrap_or("plain").to_ascii_lowercase();
    if method != "s256" && method != "plain" {
        return Err(ApiError::validation("code challenge method not supported"));
    }
    let code = session::new_uuid()?;
    tx.execute(
        "insert into auth.flow_state (user_id, auth_code, code_challenge_method, code_challenge, provider_type,
           authentication_method, created_at, updated_at)
         values ($1::text::uuid, $2, $3, $4, 'email', $5, now(), now())",
        &[&user_id, &code, &method, &challenge, &kind],
    )
    .await
    .map_err(dberr("Database error creating flow state"))?;
    Ok(())
}

/// What a successful verification yields.
enum Verified {
    /// A token response.
    Session(Value),
    /// A PKCE auth code to exchange (email links of a PKCE flow).
    Code(String),
}

pub(crate) fn redirect_param(q: &HashMap<String, String>) -> Option<String> {
    q.get("redirect_to").filter(|r| authorize::is_loopback_redirect(r)).cloned()
}

/// `POST /auth/v1/otp`: email a 6-digit code and a magic link, creating the user unless
/// `create_user: false`.
pub(crate) async fn otp(
    State(state): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::require_key(&state, &headers)?;
    let p: OtpParams = super::parse_body(&body)?;
    let email = p.email.filter(|e| !e.is_empty());
    if email.is_some() && p.phone.as_deref().is_some_and(|p| !p.is_empty()) {
        return Err(ApiError::validation("Only an email address or phone number should be provided"));
    }
    let Some(email) = email else {
        if p.phone.as_deref().is_some_and(|p| !p.is_empty()) {
            return Err(ApiError::bad_request("phone_provider_disabled", "Unsupported phone provider"));
        }
        return Err(ApiError::validation("One of email or phone must be set"));
    };
    let email = users::validate_email(&email)?;
    let data = match p.data {
        Some(v @ Value::Object(_)) => v,
        _ => json!({}),
    };
    let mut db = super::db(&state).await?;
    let tx = db.transaction().await.map_err(dberr("Database error"))?;
    let user = match users::by_email(&tx, &email).await? {
        Some(u) => u,
        None => {
            if p.create_user == Some(false) {
                return Err(ApiError::unprocessable("otp_disabled", "Signups not allowed for otp"));
            }
            let id = users::create(
                &tx,
                NewUser {
                    email: Some(email.clone()),
                    app_metadata: json!({ "provider": "email", "providers": ["email"] }),
                    user_metadata: data,
                    identity: true,
                    ..NewUser::default()
                },
            )
            .await?;
            users::by_id(&tx, &id).await?.ok_or_else(|| ApiError::internal("user vanished", "otp"))?
        }
    };
    let (token_type, kind) =
        if user.email_confirmed { ("recovery_token", "magiclink") } else { ("confirmation_token", "signup") };
    send(&state, &tx, &user, token_type, kind, redirect_param(&q).as_deref()).await?;
    pkce_flow(&tx, &user.id, p.code_challenge.as_deref(), p.code_challenge_method.as_deref(), "magiclink").await?;
    tx.commit().await.map_err(dberr("Database error"))?;
    Ok(Json(json!({})))
}

/// `POST /auth/v1/magiclink`: the legacy spelling of an email OTP.
pub(crate) async fn magiclink(
    state: State<Shared>,
    q: Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    otp(state, q, headers, body).await
}

#[derive(Debug, Default, Deserialize)]
struct RecoverParams {
    #[serde(default)]
    email: String,
    #[serde(default)]
    code_challenge: Option<String>,
    #[serde(default)]
    code_challenge_method: Option<String>,
}

/// `POST /auth/v1/recover`: email a recovery code and link (an unknown address gets the same
/// empty answer, as GoTrue does).
pub(crate) async fn recover(
    State(state): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::require_key(&state, &headers)?;
    let p: RecoverParams = super::parse_body(&body)?;
    if p.email.is_empty() {
        return Err(ApiError::unprocessable("validation_failed", "Password recovery requires an email"));
    }
    let email = users::validate_email(&p.email)?;
    let mut db = super::db(&state).await?;
    let tx = db.transaction().await.map_err(dberr("Database error"))?;
    if let Some(user) = users::by_email(&tx, &email).await? {
        send(&state, &tx, &user, "recovery_token", "recovery", redirect_param(&q).as_deref()).await?;
        pkce_flow(&tx, &user.id, p.code_challenge.as_deref(), p.code_challenge_method.as_deref(), "recovery").await?;
    }
    tx.commit().await.map_err(dberr("Database error"))?;
    Ok(Json(json!({})))
}

#[derive(Debug, Default, Deserialize)]
struct VerifyParams {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    token_hash: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
}

/// Checks and consumes a code or hash; on success signs the user in. Returns the token
/// response.
async fn verify(state: &AppState, p: &VerifyParams, info: &ReqInfo, link: bool) -> Result<Verified, ApiError> {
    if p.kind.is_empty() {
        return Err(ApiError::validation("Verify requires a verification type"));
    }
    if p.token.is_empty() && p.token_hash.is_empty() {
        return Err(ApiError::validation("Verify requires a token or a token hash"));
    }
    if !p.token.is_empty() && !p.token_hash.is_empty() {
        return Err(ApiError::validation("Verify requires either a token or a token hash"));
    }
    if !p.phone.is_empty() || p.kind == "sms" || p.kind == "phone_change" {
        return Err(ApiError::bad_request("phone_provider_disabled", "Unsupported phone provider"));
    }
    let Some(types) = token_types(&p.kind) else {
        return Err(ApiError::validation("Unsupported verification type"));
    };
    let types: Vec<String> = types.iter().map(|s| (*s).to_owned()).collect();
    let hash = if !p.token_hash.is_empty() {
        if !p.email.is_empty() && !link {
            return Err(ApiError::validation("Only the token_hash and type should be provided"));
        }
        p.token_hash.clone()
    } else {
        if p.email.is_empty() {
            return Err(ApiError::validation("Only an email address or phone number should be provided on verify"));
        }
        token_hash(&users::validate_email(&p.email)?, p.token.trim())
    };
    let expired = if link {
        ApiError::forbidden("otp_expired", "Email link is invalid or has expired")
    } else {
        ApiError::forbidden("otp_expired", "Token has expired or is invalid")
    };
    let mut db = super::db(state).await?;
    let tx = db.transaction().await.map_err(dberr("Database error"))?;
    let row = tx
        .query_opt(
            "delete from auth.one_time_tokens where id = (
               select id from auth.one_time_tokens where token_hash = $1 and token_type = any($2) limit 1 for update)
             returning user_id::text, token_type, created_at + $3::float8 * interval '1 second' < now() at time zone 'utc'",
            &[&hash, &types, &OTP_TTL_SECS],
        )
        .await
        .map_err(dberr("Database error finding user"))?;
    let Some(row) = row else { return Err(expired) };
    let (user_id, token_type, too_old): (String, String, bool) = (row.get(0), row.get(1), row.get(2));
    if too_old {
        tx.commit().await.ok();
        return Err(expired);
    }
    let Some(user) = users::by_id(&tx, &user_id).await? else { return Err(expired) };
    if user.banned {
        return Err(ApiError::forbidden("user_banned", "User is banned"));
    }
    let column = if token_type == "confirmation_token" { "confirmation" } else { "recovery" };
    tx.execute(
        &format!(
            "update auth.users set {column}_token = '', email_confirmed_at = coalesce(email_confirmed_at, now()),
               updated_at = now() where id = $1::text::uuid"
        ),
        &[&user_id],
    )
    .await
    .map_err(dberr("Error confirming user"))?;
    tx.execute(
        "update auth.identities set identity_data = identity_data || '{\"email_verified\": true}'::jsonb
         where user_id = $1::text::uuid and provider = 'email'",
        &[&user_id],
    )
    .await
    .map_err(dberr("Error setting email_verified to true on identity"))?;
    if link {
        let code = tx
            .query_opt(
                "update auth.flow_state set auth_code_issued_at = now(), updated_at = now() where id = (
                   select id from auth.flow_state where user_id = $1::text::uuid and provider_type = 'email'
                     and auth_code_issued_at is null and created_at + $2::float8 * interval '1 second' > now()
                   order by created_at desc limit 1)
                 returning auth_code",
                &[&user_id, &super::token::FLOW_STATE_TTL_SECS],
            )
            .await
            .map_err(dberr("Database error finding flow state"))?;
        if let Some(code) = code {
            tx.commit().await.map_err(dberr("Database error"))?;
            return Ok(Verified::Code(code.get(0)));
        }
    }
    let body = session::sign_in(state, &tx, &user_id, Method::Otp, info).await?;
    tx.commit().await.map_err(dberr("Database error"))?;
    Ok(Verified::Session(body))
}

/// `POST /auth/v1/verify`.
pub(crate) async fn verify_post(
    State(state): State<Shared>,
    info: ReqInfo,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::require_key(&state, &headers)?;
    let p: VerifyParams = super::parse_body(&body)?;
    match verify(&state, &p, &info, false).await? {
        Verified::Session(body) => Ok(Json(body)),
        Verified::Code(_) => Err(ApiError::internal("unexpected PKCE flow", "POST /verify")),
    }
}

/// `GET /auth/v1/verify?token=…&type=…&redirect_to=…`: the emailed link. Redirects (303) to
/// `redirect_to` (loopback only) with the session in the fragment (plus `type`), or with
/// `error`, `error_code`, `error_description`.
pub(crate) async fn verify_get(
    State(state): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    info: ReqInfo,
) -> Result<Response, ApiError> {
    let Some(redirect_to) = q.get("redirect_to").filter(|r| authorize::is_loopback_redirect(r)).cloned() else {
        return Err(ApiError::validation("redirect_to must be an http(s) URL on localhost, 127.0.0.1 or [::1]"));
    };
    let p = VerifyParams {
        kind: q.get("type").cloned().unwrap_or_default(),
        token_hash: q.get("token").cloned().unwrap_or_default(),
        ..VerifyParams::default()
    };
    let mut params = BTreeMap::new();
    match verify(&state, &p, &info, true).await {
        Ok(Verified::Code(code)) => {
            let (base, frag) = match redirect_to.split_once('#') {
                Some((b, f)) => (b, Some(f)),
                None => (redirect_to.as_str(), None),
            };
            let sep = if base.contains('?') { '&' } else { '?' };
            let mut location =
                format!("{base}{sep}code={}", form_urlencoded::byte_serialize(code.as_bytes()).collect::<String>());
            if let Some(f) = frag {
                location.push('#');
                location.push_str(f);
            }
            let mut resp = StatusCode::SEE_OTHER.into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            return Ok(resp);
        }
        Ok(Verified::Session(t)) => {
            for k in ["access_token", "token_type", "expires_in", "expires_at", "refresh_token"] {
                params.insert(
                    k,
                    match &t[k] {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    },
                );
            }
            params.insert("type", p.kind.clone());
            params.insert("sb", String::new());
        }
        Err(e) => {
            let b = e.body(true);
            params.insert(
                "error",
                if e.code() == "validation_failed" { "invalid_request" } else { "access_denied" }.into(),
            );
            params.insert("error_code", b["code"].as_str().unwrap_or_default().to_owned());
            params.insert("error_description", b["message"].as_str().unwrap_or_default().to_owned());
        }
    }
    let base = redirect_to.split_once('#').map_or(redirect_to.as_str(), |(b, _)| b);
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &params {
        s.append_pair(k, v);
    }
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{base}#{}", s.finish())) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_hashes() {
        let c = six_digits().unwrap();
        assert_eq!(c.len(), 6);
        assert!(c.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(token_hash("a@b.c", "123456").len(), 64);
        assert_ne!(token_hash("a@b.c", "123456"), token_hash("a@b.c", "123457"));
        assert_eq!(token_types("email").unwrap().len(), 2);
        assert!(token_types("sms").is_none());
    }
}
