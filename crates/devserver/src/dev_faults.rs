//! `/_dev/faults` (service role only; the guard in `http.rs` checks the key): one endpoint,
//! one section per subsystem. Each section's schema is owned and documented by its module:
//! `"auth"` by [`crate::auth::faults`], `"realtime"` by `crate::realtime::faults`.
//!
//! - `GET` → `{ "auth": {…current…} }`
//! - `POST { "auth": {…} }` → applies each section present (keys not named leave their fault
//!   as it is; a key set to `null` clears it) and answers with the new state; an unknown
//!   section or key is a 400 and nothing is applied from that section.
//!   Realtime's one-shot actions (`dropSockets`, `expireTokens`, `sendFrames`) report what
//!   they reached under `"applied": {"realtime": {…}}`.
//! - `DELETE` → clears every fault of every section.

use crate::http::Shared;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// A uniform draw in [0, 1) for the probabilistic faults (`fraction`, random lifetimes).
pub(crate) fn uniform() -> f64 {
    let b = crate::jwt::random_bytes(8).unwrap_or_else(|_| vec![0; 8]);
    let n = u64::from_le_bytes(b.try_into().unwrap_or([0; 8])) >> 11;
    n as f64 / (1u64 << 53) as f64
}

/// A response whose connection is dropped before anything is written: the client sees a
/// network error (the record shows status 502, which no client receives).
pub(crate) fn dropped_connection() -> Response {
    let fail = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("injected network error"))
    });
    (StatusCode::BAD_GATEWAY, axum::body::Body::from_stream(fail)).into_response()
}

fn snapshot(state: &crate::http::AppState) -> Value {
    json!({ "auth": state.auth.faults.snapshot(), "realtime": state.realtime.faults.snapshot() })
}

/// `GET /_dev/faults`.
pub(crate) async fn get(State(state): State<Shared>) -> Response {
    Json(snapshot(&state)).into_response()
}

/// `POST /_dev/faults`.
pub(crate) async fn post(State(state): State<Shared>, body: Bytes) -> Response {
    let bad = |m: String| (StatusCode::BAD_REQUEST, Json(json!({ "message": m }))).into_response();
    let body: Value = match serde_json::from_slice(&body) {
        Ok(Value::Object(m)) => Value::Object(m),
        Ok(_) => return bad("the body must be a JSON object with one key per section (e.g. \"auth\")".into()),
        Err(e) => return bad(format!("invalid JSON: {e}")),
    };
    let now = crate::http::unix_now();
    let mut applied = serde_json::Map::new();
    for (section, value) in body.as_object().into_iter().flatten() {
        let result = match section.as_str() {
            "auth" => crate::auth::faults::apply(&state, value, now).await,
            // Realtime actions (drop sockets, …) report what they reached under "applied".
            "realtime" => state.realtime.apply_faults(value).map(|done| {
                applied.insert("realtime".into(), done);
            }),
            other => Err(format!("unknown faults section `{other}`")),
        };
        if let Err(m) = result {
            return bad(m);
        }
    }
    let mut out = snapshot(&state);
    if !applied.is_empty() {
        out["applied"] = Value::Object(applied);
    }
    Json(out).into_response()
}

/// `DELETE /_dev/faults`.
pub(crate) async fn delete(State(state): State<Shared>) -> Response {
    state.auth.faults.clear();
    state.realtime.faults.clear();
    Json(snapshot(&state)).into_response()
}
