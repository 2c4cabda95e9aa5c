//! The HTTP surface: routing, the Host guard, CORS, `/_dev/*` access, and the trivial routes.
//!
//! Every request first passes [`guard`]: a `Host` that is not loopback is refused (a
//! DNS-rebinding page cannot talk to us under its own name), CORS preflights are answered
//! for loopback origins on any port, `/_dev/config` refuses non-loopback origins, and every
//! other `/_dev/*` route needs the service-role key.

use crate::config::Config;
use crate::keys::{ct_eq, KeyStore};
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// State shared by all handlers.
pub(crate) struct AppState {
    pub(crate) config: Config,
    pub(crate) keys: KeyStore,
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub(crate) url: String,
    /// Host names accepted besides the loopback names (the bound address, if specific).
    pub(crate) extra_hosts: Vec<String>,
    pub(crate) db: tokio_postgres::Client,
    /// Connections for handlers that need transactions or `set local` (auth, REST).
    pub(crate) pool: crate::db::Pool,
    /// GoTrue state: limiter, injected auth faults.
    pub(crate) auth: crate::auth::AuthState,
    /// The Realtime server: sockets, channels, change feed.
    pub(crate) realtime: Arc<crate::realtime::Realtime>,
    pub(crate) started: Instant,
    pub(crate) requests: AtomicU64,
    /// `/_dev/events`: what the server received and sent.
    pub(crate) events: crate::events::Events,
}

pub(crate) type Shared = Arc<AppState>;

/// Methods answered in CORS preflights.
const ALLOW_METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
/// Sent when a preflight does not list the headers it wants.
const DEFAULT_ALLOW_HEADERS: &str =
    "apikey, authorization, content-type, x-client-info, x-supabase-api-version, prefer, accept-profile, content-profile, range";
/// Response headers browsers may read.
const EXPOSE_HEADERS: &str = "content-range, x-supabase-api-version";

pub(crate) fn router(state: Shared) -> Router {
    Router::new()
        .route("/_dev/config", get(dev_config))
        .route("/_dev/stats", get(dev_stats))
        .route("/_dev/events", get(crate::events::get).delete(crate::events::delete))
        .route("/auth/v1/health", get(health))
        .route("/auth/v1/.well-known/jwks.json", get(jwks))
        .route(
            "/_dev/faults",
            get(crate::dev_faults::get).post(crate::dev_faults::post).delete(crate::dev_faults::delete),
        )
        .merge(crate::auth::router())
        .merge(crate::auth::dev_router())
        .merge(crate::rest::router())
        .merge(crate::realtime::router())
        .fallback(not_found)
        // Inside the guard: the record sees what the auth routes answered.
        .layer(middleware::from_fn_with_state(state.clone(), crate::events::record_http))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// `host[:port]` → the host part, or `None` when the port is not numeric.
fn host_name(authority: &str) -> Option<&str> {
    if authority.starts_with('[') {
        let end = authority.find(']')?;
        let (name, rest) = authority.split_at(end + 1);
        return port_ok(rest).then_some(name);
    }
    match authority.rsplit_once(':') {
        Some((name, port)) => port_ok(&format!(":{port}")).then_some(name),
        None => Some(authority),
    }
}

fn port_ok(rest: &str) -> bool {
    rest.is_empty()
        || rest
            .strip_prefix(':')
            .is_some_and(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
}

fn is_loopback_name(name: &str) -> bool {
    name.eq_ignore_ascii_case("localhost") || name == "127.0.0.1" || name == "[::1]"
}

pub(crate) fn host_allowed(host: &str, extra: &[String]) -> bool {
    host_name(host).is_some_and(|n| is_loopback_name(n) || extra.iter().any(|e| e.eq_ignore_ascii_case(n)))
}

/// `http(s)://<loopback name>[:port]` exactly (an Origin has no path).
pub(crate) fn is_loopback_origin(origin: &str) -> bool {
    let rest = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
    rest.and_then(host_name).is_some_and(is_loopback_name)
}

async fn guard(State(state): State<Shared>, req: Request, next: Next) -> Response {
    state.requests.fetch_add(1, Ordering::Relaxed);
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_owned);
    let host = host.or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()));
    let host_ok = host.as_deref().is_some_and(|h| host_allowed(h, &state.extra_hosts));
    if !host_ok {
        let shown: String = host.unwrap_or_default().chars().take(100).collect();
        tracing::debug!(host = %shown, "refused a request for a foreign Host");
        return json_response(
            StatusCode::FORBIDDEN,
            json!({ "code": "host_not_allowed",
                    "message": format!("authwire-dev answers only Host localhost, 127.0.0.1 or [::1] (got {shown:?})") }),
        );
    }

    let origin = req.headers().get(header::ORIGIN).cloned();
    let origin_ok = origin.as_ref().and_then(|o| o.to_str().ok()).is_some_and(is_loopback_origin);
    let path = req.uri().path().to_owned();

    if req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
        return preflight(origin.filter(|_| origin_ok), req.headers());
    }

    if path == "/_dev" || path.starts_with("/_dev/") {
        if origin.is_some() && !origin_ok {
            return json_response(
                StatusCode::FORBIDDEN,
                json!({ "code": "origin_not_allowed", "message": "/_dev routes answer only loopback origins" }),
            );
        }
        if path != "/_dev/config" {
            if let Some(resp) = refuse_unless_service_role(&state, req.headers()) {
                return with_cors(resp, origin.filter(|_| origin_ok));
            }
        }
    }

    let resp = next.run(req).await;
    with_cors(resp, origin.filter(|_| origin_ok))
}

fn preflight(origin: Option<HeaderValue>, headers: &HeaderMap) -> Response {
    let Some(origin) = origin else {
        return json_response(
            StatusCode::FORBIDDEN,
            json!({ "code": "origin_not_allowed", "message": "CORS is allowed for loopback origins only" }),
        );
    };
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let h = resp.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(ALLOW_METHODS));
    let requested = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        requested.unwrap_or_else(|| HeaderValue::from_static(DEFAULT_ALLOW_HEADERS)),
    );
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    h.insert(header::VARY, HeaderValue::from_static("Origin, Access-Control-Request-Headers"));
    resp
}

fn with_cors(mut resp: Response, origin: Option<HeaderValue>) -> Response {
    let h = resp.headers_mut();
    if let Some(origin) = origin {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSE_HEADERS));
    }
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    resp
}

/// The credentials a request presents: `apikey`, then `Authorization: Bearer`.
pub(crate) fn presented_keys(headers: &HeaderMap) -> Vec<String> {
    let apikey = headers.get(HeaderName::from_static("apikey")).and_then(|v| v.to_str().ok());
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.get(..7).filter(|p| p.eq_ignore_ascii_case("bearer ")).map(|_| &v[7..]));
    apikey.into_iter().chain(bearer).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
}

/// True when `key` is the secret key or a valid JWT with `role: service_role`.
pub(crate) fn is_service_role(keys: &KeyStore, key: &str, now: i64) -> bool {
    if key.starts_with("sb_") {
        return ct_eq(key, &keys.project.secret_key);
    }
    keys.jwt.verify(key, now).is_ok_and(|claims| claims.role() == Some("service_role"))
}

/// The refusal to send, or `None` when the request carries a service-role credential.
fn refuse_unless_service_role(state: &AppState, headers: &HeaderMap) -> Option<Response> {
    let presented = presented_keys(headers);
    if presented.is_empty() {
        return Some(json_response(StatusCode::UNAUTHORIZED, json!({ "message": "No API key found in request" })));
    }
    let now = unix_now();
    if presented.iter().any(|k| is_service_role(&state.keys, k, now)) {
        return None;
    }
    Some(json_response(
        StatusCode::FORBIDDEN,
        json!({ "message": "/_dev routes need the service-role key (serviceRoleKey or secretKey)" }),
    ))
}

async fn dev_config(State(state): State<Shared>) -> Response {
    let k = &state.keys.project;
    let mut resp = json_response(
        StatusCode::OK,
        json!({
            "url": state.url,
            "anonKey": k.anon_key,
            "publishableKey": k.publishable_key,
            "serviceRoleKey": k.service_role_key,
            "secretKey": k.secret_key,
            "jwtSecret": k.jwt_secret,
            "jwks": k.jwks,
        }),
    );
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

async fn dev_stats(State(state): State<Shared>) -> Response {
    let counts = state
        .db
        .query_one(
            "select (select count(*) from auth.users), (select count(*) from auth.sessions),
                    (select count(*) from auth.refresh_tokens where not revoked)",
            &[],
        )
        .await;
    let db = match counts {
        Ok(row) => json!({ "users": row.get::<_, i64>(0), "sessions": row.get::<_, i64>(1),
                           "activeRefreshTokens": row.get::<_, i64>(2) }),
        Err(e) => {
            return json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "message": crate::schema::describe_pg_error(&e, "") }),
            )
        }
    };
    let c = &state.config;
    json_response(
        StatusCode::OK,
        json!({
            "uptimeMs": state.started.elapsed().as_millis() as u64,
            "httpRequests": state.requests.load(Ordering::Relaxed),
            "config": {
                "mode": c.mode.as_str(),
                "jwtAlg": c.jwt_alg.alg().as_str(),
                "tokenTtl": c.token_ttl,
                "joinErrorDelayMs": c.join_error_delay_ms,
                "strictSessions": c.strict_sessions,
                "limits": c.limits,
                "refreshReuseInterval": c.refresh_reuse_interval,
            },
            "db": db,
            "realtime": state.realtime.stats_json(),
        }),
    )
}

async fn health() -> Response {
    json_response(
        StatusCode::OK,
        json!({
            "version": concat!("authwire-dev/", env!("CARGO_PKG_VERSION")),
            "name": "GoTrue",
            "description": "GoTrue is a user registration and authentication API",
        }),
    )
}

async fn jwks(State(state): State<Shared>) -> Response {
    let mut resp = json_response(StatusCode::OK, state.keys.project.jwks.clone());
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=600"));
    resp
}

async fn not_found() -> Response {
    // The API gateway's answer for an unknown path.
    json_response(StatusCode::NOT_FOUND, json!({ "message": "no Route matched with those values" }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_guard() {
        for ok in ["localhost", "LOCALHOST:54321", "127.0.0.1", "127.0.0.1:1", "[::1]", "[::1]:54321"] {
            assert!(host_allowed(ok, &[]), "{ok}");
        }
        for bad in [
            "evil.com",
            "localhost.evil.com",
            "127.0.0.1.nip.io",
            "127.0.0.2",
            "[::2]:1",
            "localhost:",
            "localhost:x",
            "localhost:80:80",
            "",
            "[::1",
            "[::1]x",
            "localhost.",
            "0.0.0.0:54321",
        ] {
            assert!(!host_allowed(bad, &[]), "{bad}");
        }
        assert!(host_allowed("192.168.1.5:54321", &["192.168.1.5".into()]));
    }

    #[test]
    fn loopback_origins() {
        for ok in ["http://localhost:5173", "http://127.0.0.1:9", "https://localhost", "http://[::1]:3000"] {
            assert!(is_loopback_origin(ok), "{ok}");
        }
        for bad in [
            "null",
            "http://evil.com",
            "http://localhost.evil.com",
            "file://",
            "http://localhost:5173/x",
            "ws://localhost",
        ] {
            assert!(!is_loopback_origin(bad), "{bad}");
        }
    }

    #[test]
    fn presented_keys_reads_apikey_then_bearer() {
        let mut h = HeaderMap::new();
        h.insert("apikey", HeaderValue::from_static("k1"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer k2"));
        assert_eq!(presented_keys(&h), ["k1", "k2"]);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic xyz"));
        assert_eq!(presented_keys(&h), ["k1"]);
    }
}
