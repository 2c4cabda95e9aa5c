//! The WebSocket handshake at `/realtime/v1/websocket` and `/socket/websocket` (protocol
//! reference §1): serializer negotiation, the token (`x-api-key` header, else the `apikey`
//! query parameter), gateway mapping of opaque keys, JWT checks, strict sessions and limits.
//! A refused handshake answers after `--connect-error-backoff-ms` with the real server's
//! status and JSON body; no WebSocket is established.

use super::authz::{self, StrictRefusal};
use super::{socket, ConnInfo};
use crate::config::Mode;
use crate::events::{By, Event, TokenInfo};
use crate::http::{is_loopback_origin, unix_now, Shared};
use crate::jwt::JwtError;
use authwire_wire::frame::Vsn;
use axum::extract::rejection::QueryRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::header::{self, HeaderMap};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// Largest accepted WebSocket frame (the real endpoint's `max_frame_size`).
pub(crate) const MAX_FRAME_BYTES: usize = 5_000_000;

/// A refused handshake.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Refusal {
    /// Statistics key.
    pub(crate) code: &'static str,
    pub(crate) status: StatusCode,
    /// The JSON body (`None`: empty body).
    pub(crate) body: Option<Value>,
}

impl Refusal {
    fn realtime(code: &'static str, status: u16, message: &str) -> Self {
        Refusal {
            code,
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::UNAUTHORIZED),
            body: Some(json!({ "error": message })),
        }
    }

    fn jwt(e: &JwtError) -> Self {
        let code = match e {
            JwtError::Missing => "missing_api_key",
            JwtError::Malformed => "malformed_jwt",
            JwtError::NoSigner { .. } => "no_signer",
            JwtError::BadSignature => "bad_signature",
            JwtError::Expired { .. } => "expired",
            JwtError::InvalidClaim { .. } => "invalid_claim",
            JwtError::MissingRoleOrExp => "missing_role_or_exp",
        };
        Refusal::realtime(code, e.handshake_status(), &e.handshake_message())
    }

    fn strict(r: StrictRefusal) -> Self {
        Refusal::realtime(r.code(), 403, r.message())
    }

    fn into_response(self) -> Response {
        match self.body {
            Some(b) => (self.status, Json(b)).into_response(),
            None => self.status.into_response(),
        }
    }
}

/// Decides a handshake's token. `raw` is the presented token, if any.
pub(crate) async fn authenticate(state: &Shared, raw: Option<&str>) -> Result<ConnInfo, Refusal> {
    let rt = &state.realtime;
    let token = match (rt.settings.mode, raw) {
        // The gateway refuses a request without a key before Realtime sees it.
        (Mode::Gateway, None) => {
            return Err(Refusal {
                code: "missing_api_key",
                status: StatusCode::UNAUTHORIZED,
                body: Some(json!({ "message": "No API key found in request",
                                   "hint": "No `apikey` request header or url param was found." })),
            })
        }
        (Mode::Raw, None) => return Err(Refusal::jwt(&JwtError::Missing)),
        // Like the gateway's request transformer: project keys become their JWT.
        (Mode::Gateway, Some(k)) if k.trim().starts_with("sb_") => match state.keys.jwt_for_opaque_key(k.trim()) {
            Some(jwt) => jwt.to_owned(),
            None => {
                return Err(Refusal {
                    code: "invalid_api_key",
                    status: StatusCode::UNAUTHORIZED,
                    body: Some(json!({ "message": "Invalid API key",
                                       "hint": "Double check your Supabase `anon` or `service_role` API key." })),
                })
            }
        },
        (_, Some(k)) => k.to_owned(),
    };
    // An empty string is a token, just not a JWT.
    let claims = match authz::verify(state, &token, unix_now()) {
        Err(JwtError::Missing) => return Err(Refusal::jwt(&JwtError::Malformed)),
        Err(e) => return Err(Refusal::jwt(&e)),
        Ok(c) => c,
    };
    if rt.settings.strict_sessions && claims.sub().is_some_and(|s| !s.is_empty()) {
        let db = rt.pool.get().await.map_err(|_| Refusal::realtime("database", 500, "Error connecting to Realtime"))?;
        match authz::strict_check(&db, &claims).await {
            Ok(Ok(())) => {}
            Ok(Err(r)) => return Err(Refusal::strict(r)),
            Err(e) => {
                tracing::warn!("strict session check failed: {}", e.0);
                return Err(Refusal::realtime("database", 500, "Error connecting to Realtime"));
            }
        }
    }
    let limits = &rt.settings.limits;
    if limits.max_concurrent_users.is_some_and(|max| rt.active_users() >= max as usize) {
        return Err(Refusal::realtime("too_many_users", 429, "Too many connected users"));
    }
    if rt.joins.exceeded(limits.max_joins_per_second, std::time::Instant::now()) {
        return Err(Refusal::realtime("too_many_joins", 429, "Too many joins per second"));
    }
    Ok(ConnInfo { id: 0, vsn: Vsn::V1, token, claims, headers: String::from("{}") })
}

/// The `x-*` request headers (except the key) as a JSON object, for `request.headers`.
fn x_headers(headers: &HeaderMap) -> String {
    let mut m = serde_json::Map::new();
    for (name, value) in headers {
        let n = name.as_str();
        if n.starts_with("x-") && n != "x-api-key" {
            if let Ok(v) = value.to_str() {
                m.insert(n.to_owned(), Value::String(v.to_owned()));
            }
        }
    }
    Value::Object(m).to_string()
}

/// The text of a refusal body for `/_dev/events` (`error`, else `message`).
fn refusal_text(body: Option<&Value>) -> Option<Box<str>> {
    let b = body?;
    b.get("error").or_else(|| b.get("message")).and_then(Value::as_str).map(Into::into)
}

/// `GET /realtime/v1/websocket`, `GET /socket/websocket`.
pub(super) async fn websocket(
    State(state): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let rt = state.realtime.clone();
    let path = if uri.path() == "/socket/websocket" { "/socket/websocket" } else { "/realtime/v1/websocket" };
    let params = query.map(|q| q.0).unwrap_or_default();
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let header_token = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    let raw = header_token.or(param("apikey"));
    // What `/_dev/events` records of a refusal: status, body text, the presented token.
    let refused = |status: StatusCode, body: Option<&Value>| {
        let token = raw.and_then(TokenInfo::of);
        state.events.record(Event::WsRefused {
            path,
            status: status.as_u16(),
            error: refusal_text(body),
            user: token.as_ref().and_then(|t| t.user()),
            token,
        });
    };
    // A page from a foreign origin may not open a socket to a development server.
    if let Some(origin) = headers.get(header::ORIGIN) {
        if !origin.to_str().is_ok_and(is_loopback_origin) {
            rt.stats.rejected("origin_not_allowed");
            let body = json!({ "message": "WebSocket allowed for loopback origins only" });
            refused(StatusCode::FORBIDDEN, Some(&body));
            return (StatusCode::FORBIDDEN, Json(body)).into_response();
        }
    }
    // Serializer negotiation comes before the socket's own checks: 403, empty body.
    let vsn = match param("vsn") {
        None => Vsn::V1,
        Some(v) => match Vsn::from_query(v) {
            Some(v) => v,
            None => {
                rt.stats.rejected("invalid_vsn");
                refused(StatusCode::FORBIDDEN, None);
                return StatusCode::FORBIDDEN.into_response();
            }
        },
    };
    match authenticate(&state, raw).await {
        Ok(mut conn) => {
            conn.id = rt.next_id();
            conn.vsn = vsn;
            conn.headers = x_headers(&headers);
            rt.stats.connections_total.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            // Recorded before the upgrade answer, so a client that sees its socket open finds it.
            let token = TokenInfo::with_claims(&conn.token, &conn.claims);
            state.events.record(Event::WsOpen {
                conn: conn.id,
                path,
                vsn: vsn.as_str(),
                mode: rt.settings.mode.as_str(),
                apikey_role: conn.claims.role().map(Into::into),
                user: token.user(),
                token: Some(token),
            });
            let (id, events_state) = (conn.id, state.clone());
            ws.max_frame_size(MAX_FRAME_BYTES)
                .max_message_size(MAX_FRAME_BYTES)
                .on_failed_upgrade(move |_| {
                    events_state.events.record(Event::WsClose { conn: id, by: By::Client, code: None, reason: None });
                })
                .on_upgrade(move |socket| socket::run(state, Box::new(socket), conn))
        }
        Err(refusal) => {
            rt.stats.rejected(refusal.code);
            tracing::info!(code = refusal.code, "socket handshake refused");
            refused(refusal.status, refusal.body.as_ref());
            tokio::time::sleep(rt.settings.connect_error_backoff).await;
            refusal.into_response()
        }
    }
}
