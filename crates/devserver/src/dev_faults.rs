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
