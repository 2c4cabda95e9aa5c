//! HTTP broadcast (protocol reference §6.3): `POST /realtime/v1/api/broadcast` (batch) and
//! `POST /realtime/v1/api/broadcast/:topic/events/:event[?private=true]` (single), also
//! under `/api/…` as the bare Realtime server serves them.
//!
//! The token is `Authorization: Bearer` (preferred) else `apikey`; opaque project keys stand
//! for their JWT, as everywhere on the devserver's HTTP surface. It must pass the socket's
//! checks (signature, `exp`, `role` and `exp` present), else 401 `{"message":"Unauthorized"}`.
//! Private messages need the write policy on `realtime.messages` for their topic as the
//! caller; unauthorised ones are dropped while the request still answers 202.

use super::authz::{self, PolicyContext};
use super::hub::TopicKey;
use super::socket::FanMsg;
use crate::http::{unix_now, Shared};
use crate::jwt::Claims;
use authwire_wire::frame::{UserBroadcast, UserData};
use authwire_wire::json::ObjectWriter;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::{self, HeaderMap};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

fn message(status: StatusCode, m: &str) -> Response {
    (status, Json(json!({ "message": m }))).into_response()
}

/// The caller's verified claims (`None`: 401).
fn authorize(state: &Shared, headers: &HeaderMap) -> Option<Claims> {
    let raw = crate::http::presented_keys(headers);
    // `presented_keys` lists `apikey` first; the Bearer is preferred.
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.get(..7).filter(|p| p.eq_ignore_ascii_case("bearer ")).map(|_| v[7..].trim().to_owned()))
        .filter(|s| !s.is_empty());
    let token = bearer.or_else(|| raw.into_iter().next())?;
    let token = if token.starts_with("sb_") { state.keys.jwt_for_opaque_key(&token)?.to_owned() } else { token };
    authz::verify(state, &token, unix_now()).ok()
}

fn unauthorized() -> Response {
    message(StatusCode::UNAUTHORIZED, "Unauthorized")
}

/// One message to send.
struct Outgoing {
    topic: String,
    private: bool,
    msg: FanMsg,
}

/// Sends the messages; private ones only where the caller may write.
async fn deliver(state: &Shared, claims: &Claims, headers: &str, msgs: Vec<Outgoing>) {
    let rt = &state.realtime;
    let mut allowed: HashMap<String, bool> = HashMap::new();
    for m in msgs {
        if m.private {
            if !allowed.contains_key(&m.topic) {
                let ok = match rt.pool.get().await {
                    Ok(mut db) => {
                        let ctx = PolicyContext { claims, topic: &m.topic, headers };
                        authz::write_policy(&mut db, &ctx, "broadcast").await.unwrap_or(false)
                    }
                    Err(_) => false,
                };
                allowed.insert(m.topic.clone(), ok);
            }
            if allowed.get(&m.topic) != Some(&true) {
                tracing::info!(topic = %m.topic, "HTTP broadcast to a private topic without write permission dropped");
                continue;
            }
        }
        rt.stats.http_broadcasts.fetch_add(1, Ordering::Relaxed);
        rt.hub.broadcast(&TopicKey { private: m.private, name: m.topic }, None, Arc::new(m.msg));
    }
}

fn json_broadcast(event: &str, payload: &Value, id: Option<&str>) -> String {
    let mut w = ObjectWriter::new();
    w.str("type", "broadcast").str("event", event).raw("payload", &payload.to_string());
    if let Some(id) = id {
        let mut meta = ObjectWriter::new();
        meta.str("id", id);
        w.raw("meta", &meta.finish());
    }
    w.finish()
}

fn too_many(state: &Shared, n: usize) -> Option<Response> {
    let rt = &state.realtime;
    let limit = rt.settings.limits.max_events_per_second;
    if limit.is_some_and(|l| n > l as usize) {
        return Some(message(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many messages to broadcast, please reduce the batch size",
        ));
    }
    let now = std::time::Instant::now();
    if rt.events.exceeded(limit, now) {
        return Some(message(StatusCode::TOO_MANY_REQUESTS, "You have exceeded your rate limit"));
    }
    rt.events.add(n as u64, now);
    None
}

fn x_headers(headers: &HeaderMap) -> String {
    let mut m = Map::new();
    for (k, v) in headers {
        if k.as_str().starts_with("x-") {
            if let Ok(v) = v.to_str() {
                m.insert(k.as_str().to_owned(), Value::String(v.to_owned()));
            }
        }
    }
    Value::Object(m).to_string()
}

/// `POST /realtime/v1/api/broadcast`.
pub(super) async fn batch(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(claims) = authorize(&state, &headers) else { return unauthorized() };
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => return (StatusCode::BAD_REQUEST, Json(json!({ "message": "Invalid JSON body" }))).into_response(),
    };
    let Some(items) = body.get("messages").and_then(Value::as_array) else {
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({ "errors": { "messages": ["can't be blank"] } })))
            .into_response();
    };
    let max = state.realtime.settings.limits.max_payload_bytes;
    let mut errors = Vec::new();
    let mut outgoing = Vec::new();
    for item in items {
        let mut e = Map::new();
        let str_field = |k: &str, e: &mut Map<String, Value>| match item.get(k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                e.insert(k.into(), json!(["can't be blank"]));
                None
            }
            Some(_) => {
                e.insert(k.into(), json!(["is invalid"]));
                None
            }
        };
        let topic = str_field("topic", &mut e);
        let event = str_field("event", &mut e);
        let payload = match item.get("payload") {
            Some(p @ Value::Object(_)) => {
                if max.is_some_and(|m| p.to_string().len() > m) {
                    e.insert("payload".into(), json!(["Payload size exceeds tenant limit"]));
                    None
                } else {
                    Some(p.clone())
                }
            }
            None | Some(Value::Null) => {
                e.insert("payload".into(), json!(["can't be blank"]));
                None
            }
            Some(_) => {
                e.insert("payload".into(), json!(["is invalid"]));
                None
            }
        };
        let private = match item.get("private") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                e.insert("private".into(), json!(["is invalid"]));
                false
            }
        };
        let id = item.get("id").and_then(Value::as_str).map(str::to_owned);
        errors.push(Value::Object(e.clone()));
        if let (true, Some(topic), Some(event), Some(payload)) = (e.is_empty(), topic, event, payload) {
            let text = json_broadcast(&event, &payload, id.as_deref());
            outgoing.push(Outgoing { topic, private, msg: FanMsg::Json { event: "broadcast", payload: text, id } });
        }
    }
    if errors.iter().any(|e| e.as_object().is_some_and(|m| !m.is_empty())) {
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({ "errors": { "messages": errors } }))).into_response();
    }
    if let Some(r) = too_many(&state, outgoing.len()) {
        return r;
    }
    deliver(&state, &claims, &x_headers(&headers), outgoing).await;
    StatusCode::ACCEPTED.into_response()
}

/// `POST /realtime/v1/api/broadcast/:topic/events/:event[?private=true]`.
pub(super) async fn single(
    State(state): State<Shared>,
    Path((topic, event)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(claims) = authorize(&state, &headers) else { return unauthorized() };
    let ctype = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let media = ctype.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let private = q.get("private").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let max = state.realtime.settings.limits.max_payload_bytes;
    if max.is_some_and(|m| body.len() > m) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "errors": { "payload": ["Payload size exceeds tenant limit"] } })),
        )
            .into_response();
    }
    let msg = match media.as_str() {
        "application/json" => match serde_json::from_slice::<Value>(&body) {
            Ok(v) => FanMsg::Json { event: "broadcast", payload: json_broadcast(&event, &v, None), id: None },
            Err(_) => {
                return (StatusCode::BAD_REQUEST, Json(json!({ "message": "Invalid JSON body" }))).into_response()
            }
        },
        "application/octet-stream" => FanMsg::User {
            ub: UserBroadcast { event: event.clone(), metadata: String::new(), data: UserData::Binary(body.to_vec()) },
            id: None,
        },
        _ => {
            return (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Json(json!({ "error": "Unsupported Media Type. Use application/json or application/octet-stream" })),
            )
                .into_response()
        }
    };
    if let Some(r) = too_many(&state, 1) {
        return r;
    }
    deliver(&state, &claims, &x_headers(&headers), vec![Outgoing { topic, private, msg }]).await;
    StatusCode::ACCEPTED.into_response()
}
