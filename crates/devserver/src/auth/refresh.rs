//! The refresh_token grant with GoTrue's rotation rules for legacy ("v1") table tokens
//! (`shared/reference/auth-session.md` §7):
//! - an unrevoked token is rotated: it is revoked and a child token is issued;
//! - a revoked token that is the parent of the session's active token returns that active
//!   token again (the client lost the previous response), at any time;
//! - a revoked token presented within `--refresh-reuse-interval` seconds of its revocation
//!   is rotated again (a second child);
//! - otherwise every unrevoked token of the session is revoked (the family) and the answer is
//!   400 `refresh_token_already_used`.
//!
//! Concurrency: the session row and the token row are locked with `for update skip locked`;
//! when another grant holds them the attempt is abandoned and retried after 10–30 ms, for at
//! most 5 s, then 409 `conflict`, as GoTrue does.

use super::error::ApiError;
use super::faults::RefreshFailure;
use super::session::{insert_refresh_token, token_response};
use super::{dberr, users, ReqInfo};
use crate::http::AppState;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use std::time::{Duration, Instant};

/// How long a grant keeps retrying a locked session before 409.
const RETRY_FOR: Duration = Duration::from_secs(5);

#[derive(Debug, Default, Deserialize)]
struct Params {
    #[serde(default)]
    refresh_token: String,
}

/// GoTrue's shape check: shorter than 12 characters, or exactly 12 that are not `[a-z0-9]`,
/// is `validation_failed`.
fn validate(token: &str) -> Result<(), ApiError> {
    let bad = || ApiError::validation("Refresh token is not valid");
    if token.len() < 12 {
        return Err(bad());
    }
    if token.len() == 12 && !token.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
        return Err(bad());
    }
    Ok(())
}

/// The refresh token a refresh grant's body presents, if any (for `/_dev/events`, which
/// records its fingerprint).
pub(crate) fn presented(body: &[u8]) -> Option<String> {
    super::parse_body::<Params>(body).ok().map(|p| p.refresh_token).filter(|t| !t.is_empty())
}

/// The error an injected `failRefresh` fault answers with.
fn injected(status: u16, body: Option<serde_json::Value>) -> ApiError {
    if let Some(body) = body {
        return ApiError::Raw {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body,
        };
    }
    match status {
        400 => ApiError::bad_request("refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found"),
        409 => ApiError::new(
            409,
            "conflict",
            "Too many concurrent token refresh requests on the same session or refresh token",
        ),
        429 => ApiError::new(429, "over_request_rate_limit", "Request rate limit reached"),
        s => {
            ApiError::new(s, "unexpected_failure", "Unexpected failure, please check server logs for more information")
        }
    }
}

enum Attempt {
    Done(Response),
    Locked,
}

/// `POST /token?grant_type=refresh_token`.
pub(crate) async fn grant(state: &AppState, body: &[u8], _req: &ReqInfo) -> Result<Response, ApiError> {
    let p: Params = super::parse_body(body)?;
    if p.refresh_token.is_empty() {
        return Err(ApiError::oauth("invalid_request", "refresh_token required"));
    }
    validate(&p.refresh_token)?;
    match state.auth.faults.take_refresh_failure() {
        Some(RefreshFailure::Status(status, body)) => return Err(injected(status, body)),
        Some(RefreshFailure::Network) => return Ok(crate::dev_faults::dropped_connection()),
        None => {}
    }
    let started = Instant::now();
    while started.elapsed() < RETRY_FOR {
        match attempt(state, &p.refresh_token).await? {
            Attempt::Done(resp) => return Ok(resp),
            Attempt::Locked => {
                let jitter = crate::jwt::random_bytes(1).map(|b| u64::from(b[0]) % 21).unwrap_or(10);
                tokio::time::sleep(Duration::from_millis(10 + jitter)).await;
            }
        }
    }
    Err(ApiError::new(
        409,
        "conflict",
        "Too many concurrent token refresh requests on the same session or refresh token",
    ))
}

async fn attempt(state: &AppState, token: &str) -> Result<Attempt, ApiError> {
    let mut db = super::db(state).await?;
    let row = db
        .query_opt("select id, user_id::text, session_id::text from auth.refresh_tokens where token = $1", &[&token])
        .await
        .map_err(dberr("Database error finding refresh token"))?;
    let not_found =
        || ApiError::bad_request("refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");
    let Some(row) = row else { return Err(not_found()) };
    let token_id: i64 = row.get(0);
    let user_id: Option<String> = row.get(1);
    let session_id: Option<String> = row.get(2);
    let Some(user) = (match &user_id {
        Some(id) => users::by_id(&*db, id).await?,
        None => None,
    }) else {
        return Err(not_found());
    };
    if user.banned {
        return Err(ApiError::bad_request("user_banned", "Invalid Refresh Token: User Banned"));
    }
    let no_session = || ApiError::bad_request("session_not_found", "Invalid Refresh Token: No Valid Session Found");
    let Some(session_id) = session_id else { return Err(no_session()) };
    let session_exists = db
        .query_opt("select 1 from auth.sessions where id = $1::text::uuid", &[&session_id])
        .await
        .map_err(dberr("Database error loading session"))?
        .is_some();
    if !session_exists {
        return Err(no_session());
    }

    let reuse = state.config.refresh_reuse_interval as f64;
    let tx = db.transaction().await.map_err(dberr("Database error"))?;
    let locked_session = tx
        .query_opt("select 1 from auth.sessions where id = $1::text::uuid for update skip locked", &[&session_id])
        .await
        .map_err(dberr("Database error locking session"))?;
    if locked_session.is_none() {
        return Ok(Attempt::Locked);
    }
    let t = tx
        .query_opt(
            "select revoked, coalesce(updated_at + $2::float8 * interval '1 second' >= now(), false)
             from auth.refresh_tokens where id = $1 for update skip locked",
            &[&token_id, &reuse],
        )
        .await
        .map_err(dberr("Database error locking refresh token"))?;
    let Some(t) = t else { return Ok(Attempt::Locked) };
    let (revoked, within_reuse): (bool, bool) = (t.get(0), t.get(1));

    let mut issued: Option<String> = None;
    let mut reuse_cause: Option<&str> = None;
    if revoked {
        let active = tx
            .query_opt(
                "select token, parent from auth.refresh_tokens where session_id = $1::text::uuid and not revoked
                 order by updated_at desc, id desc limit 1",
                &[&session_id],
            )
            .await
            .map_err(dberr("Database error finding active refresh token"))?;
        match active {
            Some(a) if a.get::<_, Option<String>>(1).as_deref() == Some(token) => {
                issued = Some(a.get(0));
                reuse_cause = Some("fail-to-save");
            }
            _ if within_reuse => reuse_cause = Some("concurrent-refresh"),
            _ => {
                tx.execute(
                    "update auth.refresh_tokens set revoked = true, updated_at = now()
                     where session_id = $1::text::uuid and not revoked",
                    &[&session_id],
                )
                .await
                .map_err(dberr("Database error revoking token family"))?;
                tx.commit().await.map_err(dberr("Database error"))?;
                tracing::info!(user = %user.id, session = %session_id, "refresh token reused: token family revoked");
                return Err(ApiError::bad_request("refresh_token_already_used", "Invalid Refresh Token: Already Used"));
            }
        }
    }
    let issued = match issued {
        Some(t) => t,
        None => {
            tx.execute(
                "update auth.refresh_tokens set revoked = true, updated_at = now() where id = $1 and not revoked",
                &[&token_id],
            )
            .await
            .map_err(dberr("Database error revoking refresh token"))?;
            insert_refresh_token(&tx, &user.id, &session_id, Some(token)).await?
        }
    };
    tx.execute(
        "update auth.sessions set refreshed_at = now() at time zone 'utc', updated_at = now() where id = $1::text::uuid",
        &[&session_id],
    )
    .await
    .map_err(dberr("failed to update session information"))?;
    let body = token_response(state, &tx, &user, &session_id, issued.clone()).await?;
    tx.commit().await.map_err(dberr("Database error"))?;

    let mut resp = Json(body).into_response();
    let h = resp.headers_mut();
    let mut put = |k: &'static str, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(HeaderName::from_static(k), v);
        }
    };
    put("sb-auth-user-id", &user.id);
    put("sb-auth-session-id", &session_id);
    put("sb-auth-refresh-token-prefix", issued.get(..5).unwrap_or(""));
    if let Some(cause) = reuse_cause {
        put("sb-auth-refresh-token-reuse", "true");
        put("sb-auth-refresh-token-reuse-cause", cause);
    }
    Ok(Attempt::Done(resp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shape_check() {
        assert!(validate("abc").is_err());
        assert!(validate("ABCDEFGHIJKL").is_err());
        assert!(validate("abcdefghijk1").is_ok());
        assert!(validate("a-longer-v2-looking-token").is_ok());
    }

    #[test]
    fn injected_bodies() {
        assert_eq!(injected(503, None).code(), "unexpected_failure");
        assert_eq!(injected(429, None).code(), "over_request_rate_limit");
        let raw = injected(418, Some(json!({ "x": 1 })));
        assert_eq!(raw.body(true), json!({ "x": 1 }));
    }
}
