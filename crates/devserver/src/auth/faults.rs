//! Auth faults (`/_dev/faults`, section `"auth"`) and the dev mailbox (`/_dev/mail`).
//!
//! ```json
//! { "auth": {
//!     "failRefresh":  { "count": 2, "status": 503, "body": { "any": "json" } },
//!     "delayToken":   { "ms": 1500, "count": 1 },
//!     "flakyRefresh": { "errorFraction": 0.1, "status": 500, "networkFraction": 0.02 },
//!     "tokenTtl":     { "seconds": -5, "count": 1 },
//!     "expireTokens": { "email": "alice@example.com" }
//! } }
//! ```
//! - `failRefresh`: the next `count` (default 1) refresh grants answer `status` (default 500)
//!   with `body`, or GoTrue's error body for that status when `body` is absent; the refresh
//!   token is not consumed.
//! - `flakyRefresh`: until cleared, each refresh grant fails at random: with probability
//!   `networkFraction` the connection is dropped unanswered (a network error; the record
//!   shows status 502), else with probability `errorFraction` it answers `status` (default
//!   500) with GoTrue's body. Neither consumes the refresh token. `failRefresh` goes first.
//! - `delayToken`: every `/token` request (all grants) waits `ms` before it is handled, for
//!   the next `count` requests (absent: until cleared).
//! - `tokenTtl`: the next `count` (absent: all until cleared) access tokens are issued with
//!   this lifetime instead of `--token-ttl`; 0 or negative issues already-expired tokens.
//! - `expireTokens`: every access token of that user (`userId` or `email`) issued up to now
//!   is treated as expired by the AT endpoints (403 `bad_jwt`, "token is expired"), and by
//!   [`AuthFaults::expired_early`] for other modules; tokens issued afterwards are stamped at
//!   least one second later, so they are not affected. Refresh tokens keep working.
//!
//! A key set to `null` clears that fault; `DELETE /_dev/faults` clears all. `GET` returns the
//! current state.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// `failRefresh`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct FailRefresh {
    #[serde(default = "one")]
    count: u32,
    #[serde(default = "five_hundred")]
    status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<Value>,
}

/// `flakyRefresh`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct FlakyRefresh {
    #[serde(default)]
    error_fraction: f64,
    #[serde(default = "five_hundred")]
    status: u16,
    #[serde(default)]
    network_fraction: f64,
}

/// An injected refresh failure.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RefreshFailure {
    /// Answer this status with this body (GoTrue's for the status when `None`).
    Status(u16, Option<Value>),
    /// Drop the connection unanswered.
    Network,
}

/// `delayToken`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct DelayToken {
    ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    count: Option<u32>,
}

/// `tokenTtl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct TokenTtl {
    seconds: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    count: Option<u32>,
}

/// `expireTokens` as posted.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ExpireTokens {
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

fn one() -> u32 {
    1
}
fn five_hundred() -> u16 {
    500
}

#[derive(Debug, Default)]
struct State {
    fail_refresh: Option<FailRefresh>,
    flaky_refresh: Option<FlakyRefresh>,
    delay_token: Option<DelayToken>,
    token_ttl: Option<TokenTtl>,
    /// user id → unix second up to which (inclusive) its tokens count as expired.
    expired_before: HashMap<String, i64>,
}

/// The auth faults in force.
#[derive(Debug, Default)]
pub(crate) struct AuthFaults {
    state: Mutex<State>,
}

/// Why a faults request was refused.
pub(crate) type FaultError = String;

impl AuthFaults {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// This refresh grant's injected failure, if any (consumes one `failRefresh`).
    pub(crate) fn take_refresh_failure(&self) -> Option<RefreshFailure> {
        let mut s = self.lock();
        if let Some(f) = s.fail_refresh.as_mut() {
            let out = RefreshFailure::Status(f.status, f.body.clone());
            f.count = f.count.saturating_sub(1);
            if f.count == 0 {
                s.fail_refresh = None;
            }
            return Some(out);
        }
        let f = s.flaky_refresh.as_ref()?;
        let draw = crate::dev_faults::uniform();
        if draw < f.network_fraction {
            Some(RefreshFailure::Network)
        } else if draw < f.network_fraction + f.error_fraction {
            Some(RefreshFailure::Status(f.status, None))
        } else {
            None
        }
    }

    /// The delay for this `/token` request, if any (consumes one).
    pub(crate) fn take_token_delay(&self) -> Option<Duration> {
        let mut s = self.lock();
        let d = s.delay_token.as_mut()?;
        let ms = d.ms;
        if let Some(c) = d.count.as_mut() {
            *c = c.saturating_sub(1);
            if *c == 0 {
                s.delay_token = None;
            }
        }
        Some(Duration::from_millis(ms))
    }

    /// The lifetime override for the next access token, if any (consumes one).
    pub(crate) fn take_token_ttl(&self) -> Option<i64> {
        let mut s = self.lock();
        let t = s.token_ttl.as_mut()?;
        let secs = t.seconds;
        if let Some(c) = t.count.as_mut() {
            *c = c.saturating_sub(1);
            if *c == 0 {
                s.token_ttl = None;
            }
        }
        Some(secs)
    }

    /// True when an access token of user `sub` issued at `iat` must be treated as expired.
    pub(crate) fn expired_early(&self, sub: &str, iat: Option<i64>) -> bool {
        match self.lock().expired_before.get(sub) {
            Some(before) => iat.is_none_or(|iat| iat <= *before),
            None => false,
        }
    }

    /// The `iat` to stamp on a new token for `sub` at `now`: later than any expiry mark.
    pub(crate) fn issue_time(&self, sub: &str, now: i64) -> i64 {
        match self.lock().expired_before.get(sub) {
            Some(before) if *before >= now => before + 1,
            _ => now,
        }
    }

    /// Current state as JSON.
    pub(crate) fn snapshot(&self) -> Value {
        let s = self.lock();
        json!({
            "failRefresh": s.fail_refresh,
            "flakyRefresh": s.flaky_refresh,
            "delayToken": s.delay_token,
            "tokenTtl": s.token_ttl,
            "expiredBefore": s.expired_before,
        })
    }

    /// Clears every auth fault.
    pub(crate) fn clear(&self) {
        *self.lock() = State::default();
    }

    /// Applies a parsed section; `expire` carries resolved user ids.
    fn apply(
        &self,
        section: &serde_json::Map<String, Value>,
        expire: Option<Vec<String>>,
        now: i64,
    ) -> Result<(), FaultError> {
        let mut s = self.lock();
        for (k, v) in section {
            match k.as_str() {
                "failRefresh" => s.fail_refresh = parse_opt(k, v)?,
                "flakyRefresh" => {
                    let f: Option<FlakyRefresh> = parse_opt(k, v)?;
                    let bad = |x: f64| !(0.0..=1.0).contains(&x);
                    if f.as_ref().is_some_and(|f| bad(f.error_fraction) || bad(f.network_fraction) || bad(f.error_fraction + f.network_fraction)) {
                        return Err("auth.flakyRefresh: the fractions must be within 0..=1 and sum to at most 1".into());
                    }
                    s.flaky_refresh = f;
                }
                "delayToken" => s.delay_token = parse_opt(k, v)?,
                "tokenTtl" => s.token_ttl = parse_opt(k, v)?,
                "expireTokens" => {
                    if v.is_null() {
                        s.expired_before.clear();
                    }
                }
                other => {
                    return Err(format!(
                        "unknown auth fault `{other}` (known: failRefresh, flakyRefresh, delayToken, tokenTtl, expireTokens)"
                    ))
                }
            }
        }
        for id in expire.unwrap_or_default() {
            s.expired_before.insert(id, now);
        }
        Ok(())
    }
}

fn parse_opt<T: serde::de::DeserializeOwned>(key: &str, v: &Value) -> Result<Option<T>, FaultError> {
    if v.is_null() {
        return Ok(None);
    }
    serde_json::from_value(v.clone()).map(Some).map_err(|e| format!("auth.{key}: {e}"))
}

/// Applies the `"auth"` section of a `POST /_dev/faults` body.
pub(crate) async fn apply(state: &crate::http::AppState, section: &Value, now: i64) -> Result<(), FaultError> {
    let Some(map) = section.as_object() else {
        return Err("`auth` must be an object".into());
    };
    let mut expire = None;
    if let Some(v) = map.get("expireTokens").filter(|v| !v.is_null()) {
        let e: ExpireTokens = serde_json::from_value(v.clone()).map_err(|e| format!("auth.expireTokens: {e}"))?;
        let db = state.pool.get().await.map_err(|e| format!("database: {e}"))?;
        let user = match (&e.user_id, &e.email) {
            (Some(id), _) => super::users::by_id(&*db, id).await,
            (None, Some(email)) => super::users::by_email(&*db, email).await,
            (None, None) => return Err("auth.expireTokens needs `userId` or `email`".into()),
        }
        .map_err(|_| "database error looking up the user".to_string())?;
        let Some(user) = user else { return Err("auth.expireTokens: no such user".into()) };
        expire = Some(vec![user.id]);
    }
    state.auth.faults.apply(map, expire, now)
}

/// `GET /_dev/mail?email=…`: the messages "sent" to that address (or all, newest first).
pub(crate) async fn mail(
    axum::extract::State(state): axum::extract::State<crate::http::Shared>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let email = q.get("email").map(|e| e.trim().to_lowercase());
    let db = match state.pool.get().await {
        Ok(db) => db,
        Err(e) => return super::error::ApiError::internal("database", e).into_response(),
    };
    let rows = db
        .query(
            concat!(
                "select id, channel, recipient, kind, subject, otp, token_hash, link, user_id::text, ",
                super::users::ts!("created_at"),
                " from authwire_dev.mailbox where $1::text is null or lower(recipient) = $1 order by id desc limit 100"
            ),
            &[&email],
        )
        .await;
    match rows {
        Ok(rows) => {
            let messages: Vec<Value> = rows
                .iter()
                .map(|r| {
                    json!({
                        "id": r.get::<_, i64>(0), "channel": r.get::<_, String>(1), "to": r.get::<_, String>(2),
                        "kind": r.get::<_, String>(3), "subject": r.get::<_, Option<String>>(4),
                        "otp": r.get::<_, Option<String>>(5), "tokenHash": r.get::<_, Option<String>>(6),
                        "link": r.get::<_, Option<String>>(7), "userId": r.get::<_, Option<String>>(8),
                        "createdAt": r.get::<_, String>(9),
                    })
                })
                .collect();
            axum::Json(json!({ "messages": messages })).into_response()
        }
        Err(e) => super::error::ApiError::internal("Database error reading the mailbox", e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flaky_refresh_fails_at_about_its_fractions() {
        let f = AuthFaults::default();
        let sec = json!({ "flakyRefresh": { "errorFraction": 0.3, "networkFraction": 0.2, "status": 503 } });
        f.apply(sec.as_object().unwrap(), None, 100).unwrap();
        let draws: Vec<_> = (0..4000).map(|_| f.take_refresh_failure()).collect();
        let net = draws.iter().filter(|d| **d == Some(RefreshFailure::Network)).count();
        let status = draws.iter().filter(|d| **d == Some(RefreshFailure::Status(503, None))).count();
        // Binomial(4000, p): ±6 standard deviations.
        assert!((800 - 152..=800 + 152).contains(&net), "network {net}");
        assert!((1200 - 174..=1200 + 174).contains(&status), "status {status}");
        assert!(f
            .apply(
                json!({ "flakyRefresh": { "errorFraction": 0.8, "networkFraction": 0.3 } }).as_object().unwrap(),
                None,
                1
            )
            .is_err());
        f.apply(json!({ "flakyRefresh": null }).as_object().unwrap(), None, 1).unwrap();
        assert_eq!(f.take_refresh_failure(), None);
    }

    #[test]
    fn counts_and_clearing() {
        let f = AuthFaults::default();
        let sec = json!({ "failRefresh": { "count": 2, "status": 503 }, "tokenTtl": { "seconds": -1, "count": 1 },
                          "delayToken": { "ms": 5 } });
        f.apply(sec.as_object().unwrap(), None, 100).unwrap();
        assert_eq!(f.take_refresh_failure(), Some(RefreshFailure::Status(503, None)));
        assert_eq!(f.take_refresh_failure(), Some(RefreshFailure::Status(503, None)));
        assert_eq!(f.take_refresh_failure(), None);
        assert_eq!(f.take_token_ttl(), Some(-1));
        assert_eq!(f.take_token_ttl(), None);
        assert_eq!(f.take_token_delay(), Some(Duration::from_millis(5)));
        assert_eq!(f.take_token_delay(), Some(Duration::from_millis(5)));
        f.apply(json!({ "delayToken": null }).as_object().unwrap(), None, 100).unwrap();
        assert_eq!(f.take_token_delay(), None);
        assert!(f.apply(json!({ "nope": 1 }).as_object().unwrap(), None, 100).is_err());
        assert!(f.apply(json!({ "failRefresh": { "cnt": 1 } }).as_object().unwrap(), None, 100).is_err());
        f.apply(&serde_json::Map::new(), Some(vec!["u".into()]), 100).unwrap();
        assert!(f.expired_early("u", Some(100)));
        assert!(!f.expired_early("u", Some(101)));
        assert!(!f.expired_early("v", Some(1)));
        assert_eq!(f.issue_time("u", 100), 101);
        assert_eq!(f.issue_time("u", 150), 150);
        f.clear();
        assert!(!f.expired_early("u", Some(1)));
    }
}
