//! Token checks for channels and private-channel policies (protocol reference §5).
//!
//! * [`join_reason`] / [`shutdown_message`] turn a [`JwtError`] into the real server's join
//!   reason and channel-shutdown text.
//! * [`strict_check`] implements `--strict-sessions`: the user of a `sub` claim must exist
//!   and not be banned, and the session of a `session_id` claim must exist.
//! * [`read_policies`] / [`write_policy`] evaluate RLS on `realtime.messages` as the caller,
//!   in a transaction that is always rolled back.

use crate::jwt::{Claims, JwtError};
use serde_json::Value;
use tokio_postgres::error::SqlState;

/// Verifies a token as the real server does, at unix time `now`. A token of a user whose
/// tokens the auth faults expired (`/_dev/faults` `auth.expireTokens`) counts as expired.
pub(crate) fn verify(state: &crate::http::AppState, token: &str, now: i64) -> Result<Claims, JwtError> {
    let claims = state.keys.jwt.verify(token, now)?;
    if let Some(sub) = claims.sub() {
        let iat = claims.0.get("iat").and_then(Value::as_i64);
        if state.auth.faults.expired_early(sub, iat) {
            return Err(JwtError::Expired { seconds_ago: claims.exp().map_or(0, |exp| (now - exp).max(0)) });
        }
    }
    Ok(claims)
}

/// Join reply reason for a refused channel token (§9.2).
pub(crate) fn join_reason(e: &JwtError) -> String {
    match e {
        JwtError::Missing | JwtError::Malformed => "MalformedJWT: The token provided is not a valid JWT".into(),
        JwtError::Expired { seconds_ago } => format!("InvalidJWTToken: Token has expired {seconds_ago} seconds ago"),
        JwtError::MissingRoleOrExp => "InvalidJWTToken: Fields `role` and `exp` are required in JWT".into(),
        JwtError::BadSignature => "JwtSignatureError: Failed to validate JWT signature".into(),
        JwtError::NoSigner { .. } => format!("JwtSignerError: {}", e.handshake_message()),
        JwtError::InvalidClaim { .. } => "Unknown Error on Channel".into(),
    }
}

/// `system` text when a running channel's token is refused (`access_token` push or the
/// periodic check, §9.3). A bad signature has no dedicated clause in the real server, which
/// then sends the inspected error atom.
pub(crate) fn shutdown_message(e: &JwtError) -> String {
    match e {
        JwtError::Missing | JwtError::Malformed => "The token provided is not a valid JWT".into(),
        JwtError::Expired { seconds_ago } => format!("Token has expired {seconds_ago} seconds ago"),
        JwtError::MissingRoleOrExp => "Fields `role` and `exp` are required in JWT".into(),
        JwtError::BadSignature => ":signature_error".into(),
        JwtError::NoSigner { .. } => e.handshake_message(),
        JwtError::InvalidClaim { claim } => format!("{{:error, [message: \"Invalid token\", claim: \"{claim}\"]}}"),
    }
}

/// Why `--strict-sessions` refused a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrictRefusal {
    /// The `sub` user does not exist.
    NoUser,
    /// The `session_id` session does not exist (signed out).
    NoSession,
    /// The user is banned.
    Banned,
}

impl StrictRefusal {
    /// GoTrue's message.
    pub(crate) fn message(self) -> &'static str {
        match self {
            StrictRefusal::NoUser => "User from sub claim in JWT does not exist",
            StrictRefusal::NoSession => "Session from session_id claim in JWT does not exist",
            StrictRefusal::Banned => "User is banned",
        }
    }
    /// A stable code for statistics.
    pub(crate) fn code(self) -> &'static str {
        match self {
            StrictRefusal::NoUser => "user_not_found",
            StrictRefusal::NoSession => "session_not_found",
            StrictRefusal::Banned => "user_banned",
        }
    }
}

/// A check could not be made (database unavailable).
#[derive(Debug)]
pub(crate) struct DbUnavailable(pub(crate) String);

/// Checks a user token's user and session. Tokens without `sub` pass.
pub(crate) async fn strict_check(
    db: &tokio_postgres::Client,
    claims: &Claims,
) -> Result<Result<(), StrictRefusal>, DbUnavailable> {
    let Some(sub) = claims.sub().filter(|s| !s.is_empty()) else { return Ok(Ok(())) };
    let sid = claims.session_id().filter(|s| !s.is_empty());
    let row = db
        .query_opt(
            "select coalesce(u.banned_until > now(), false),
                    $2::text is null or exists (select 1 from auth.sessions s
                                                where s.id::text = $2::text and s.user_id = u.id)
             from auth.users u where u.id::text = $1::text",
            &[&sub, &sid],
        )
        .await
        .map_err(|e| DbUnavailable(e.to_string()))?;
    Ok(match row {
        None => Err(StrictRefusal::NoUser),
        Some(r) if !r.get::<_, bool>(1) => Err(StrictRefusal::NoSession),
        Some(r) if r.get::<_, bool>(0) => Err(StrictRefusal::Banned),
        Some(_) => Ok(()),
    })
}

/// What the caller may read on a private topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Reads {
    pub(crate) broadcast: bool,
    pub(crate) presence: bool,
}

/// The settings a policy sees: role, claims, topic, headers.
#[derive(Debug, Clone)]
pub(crate) struct PolicyContext<'a> {
    pub(crate) claims: &'a Claims,
    pub(crate) topic: &'a str,
    /// JSON object text of the connect request's `x-*` headers.
    pub(crate) headers: &'a str,
}

async fn set_context(
    tx: &tokio_postgres::Transaction<'_>,
    ctx: &PolicyContext<'_>,
) -> Result<(), tokio_postgres::Error> {
    let claims = Value::Object(ctx.claims.0.clone()).to_string();
    let role = ctx.claims.role().unwrap_or("anon");
    let sub = ctx.claims.sub().unwrap_or("");
    tx.execute(
        "select set_config('role', $1::text, true), set_config('request.jwt.claims', $2::text, true),
                set_config('request.jwt.claim.sub', $3::text, true), set_config('request.jwt.claim.role', $1::text, true),
                set_config('realtime.topic', $4::text, true), set_config('request.headers', $5::text, true)",
        &[&role, &claims, &sub, &ctx.topic, &ctx.headers],
    )
    .await
    .map(|_| ())
}

/// The read check: probe rows (broadcast, and presence when asked) are inserted as the
/// server, then looked up as the caller through the SELECT policies; always rolled back.
/// A policy that raises counts as no access.
pub(crate) async fn read_policies(
    client: &mut tokio_postgres::Client,
    ctx: &PolicyContext<'_>,
    with_presence: bool,
) -> Result<Reads, DbUnavailable> {
    let tx = client.transaction().await.map_err(|e| DbUnavailable(e.to_string()))?;
    let exts: Vec<&str> = if with_presence { vec!["broadcast", "presence"] } else { vec!["broadcast"] };
    let probes = tx
        .query(
            "insert into realtime.messages (topic, extension, private, payload)
             select $1::text, e, true, '{}'::jsonb from unnest($2::text[]) e returning id::text",
            &[&ctx.topic, &exts],
        )
        .await
        .map_err(|e| DbUnavailable(e.to_string()))?;
    let ids: Vec<String> = probes.iter().map(|r| r.get(0)).collect();
    let result = async {
        set_context(&tx, ctx).await?;
        tx.query("select extension from realtime.messages where id::text = any($1::text[])", &[&ids]).await
    }
    .await;
    tx.rollback().await.ok();
    match result {
        Ok(rows) => {
            let mut reads = Reads::default();
            for r in rows {
                match r.get::<_, &str>(0) {
                    "broadcast" => reads.broadcast = true,
                    "presence" => reads.presence = true,
                    _ => {}
                }
            }
            Ok(reads)
        }
        Err(e) => {
            tracing::info!(topic = ctx.topic, "RlsPolicyError: read policy check failed: {}", describe(&e));
            Ok(Reads::default())
        }
    }
}

/// The write check for `extension` (`broadcast` or `presence`): an INSERT as the caller;
/// rolled back. Any error (insufficient privilege, a policy that raises) denies.
pub(crate) async fn write_policy(
    client: &mut tokio_postgres::Client,
    ctx: &PolicyContext<'_>,
    extension: &str,
) -> Result<bool, DbUnavailable> {
    let tx = client.transaction().await.map_err(|e| DbUnavailable(e.to_string()))?;
    let result = async {
        set_context(&tx, ctx).await?;
        tx.execute(
            "insert into realtime.messages (topic, extension, private, payload) values ($1::text, $2::text, true, '{}'::jsonb)",
            &[&ctx.topic, &extension],
        )
        .await
    }
    .await;
    tx.rollback().await.ok();
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => Ok(false),
        Err(e) => {
            tracing::info!(topic = ctx.topic, "RlsPolicyError: write policy check failed: {}", describe(&e));
            Ok(false)
        }
    }
}

/// A database error's message without the driver's prefix.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_follow_the_catalogue() {
        assert_eq!(join_reason(&JwtError::Malformed), "MalformedJWT: The token provided is not a valid JWT");
        assert_eq!(join_reason(&JwtError::Missing), "MalformedJWT: The token provided is not a valid JWT");
        assert_eq!(
            join_reason(&JwtError::Expired { seconds_ago: 3 }),
            "InvalidJWTToken: Token has expired 3 seconds ago"
        );
        assert_eq!(
            join_reason(&JwtError::MissingRoleOrExp),
            "InvalidJWTToken: Fields `role` and `exp` are required in JWT"
        );
        assert_eq!(join_reason(&JwtError::BadSignature), "JwtSignatureError: Failed to validate JWT signature");
        assert!(join_reason(&JwtError::NoSigner { kid: Some("k".into()) })
            .starts_with("JwtSignerError: Failed to generate JWT signer for key ID (kid) \"k\""));
        assert_eq!(shutdown_message(&JwtError::Missing), "The token provided is not a valid JWT");
        assert_eq!(shutdown_message(&JwtError::Expired { seconds_ago: 0 }), "Token has expired 0 seconds ago");
        assert_eq!(StrictRefusal::NoSession.message(), "Session from session_id claim in JWT does not exist");
    }
}
