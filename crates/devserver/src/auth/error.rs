//! GoTrue's error bodies. The shape depends on the request's `X-Supabase-Api-Version`:
//! - `2024-01-01` or later: `{ "code": "<error code>", "message": "<text>" }`, and the
//!   response carries `X-Supabase-Api-Version: 2024-01-01`;
//! - absent, invalid or older: the legacy `{ "code": <status>, "error_code": "<error code>",
//!   "msg": "<text>" }` (plus `error_id` on 5xx).
//!
//! Both carry the `x-sb-error-code` header. OAuth-style errors are always
//! `{ "error", "error_description" }` with status 400; weak-password errors add
//! `weak_password: { reasons }`. Handlers return [`ApiError`]; its response is a placeholder
//! that [`render_errors`] (a middleware on `/auth/v1`) turns into the right shape, since only
//! the middleware sees the request headers.

use axum::extract::Request;
use axum::http::header::{HeaderName, HeaderValue};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// The API version header.
pub(crate) const API_VERSION_HEADER: &str = "x-supabase-api-version";
/// The only non-initial version GoTrue knows.
pub(crate) const API_VERSION_2024: &str = "2024-01-01";

/// What went wrong, as GoTrue reports it.
#[derive(Debug, Clone)]
pub(crate) enum ApiError {
    /// A GoTrue `HTTPError`: status, error code and message.
    Http {
        /// HTTP status.
        status: StatusCode,
        /// GoTrue's `error_code` (e.g. `invalid_credentials`).
        code: &'static str,
        /// Human-readable message.
        message: String,
    },
    /// 422 `weak_password` with the reasons.
    WeakPassword {
        /// The joined messages.
        message: String,
        /// `length`, `characters`, …
        reasons: Vec<&'static str>,
    },
    /// An OAuth2-style error (status 400).
    OAuth {
        /// `error`.
        error: &'static str,
        /// `error_description`.
        description: String,
    },
    /// A body sent as is (the API gateway's answers, injected faults).
    Raw {
        /// HTTP status.
        status: StatusCode,
        /// The body.
        body: Value,
    },
}

impl ApiError {
    /// A GoTrue `HTTPError`.
    pub(crate) fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Http {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code,
            message: message.into(),
        }
    }
    /// 400 with `code`.
    pub(crate) fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }
    /// 400 `validation_failed`.
    pub(crate) fn validation(message: impl Into<String>) -> Self {
        Self::new(400, "validation_failed", message)
    }
    /// 403 with `code`.
    pub(crate) fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(403, code, message)
    }
    /// 422 with `code`.
    pub(crate) fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(422, code, message)
    }
    /// 404 with `code`.
    pub(crate) fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(404, code, message)
    }
    /// 500 `unexpected_failure`; the cause is logged, not sent.
    pub(crate) fn internal(what: &str, cause: impl std::fmt::Display) -> Self {
        tracing::error!("{what}: {cause}");
        Self::new(500, "unexpected_failure", what.to_string())
    }
    /// `{ error, error_description }`, status 400.
    pub(crate) fn oauth(error: &'static str, description: impl Into<String>) -> Self {
        ApiError::OAuth { error, description: description.into() }
    }
    /// GoTrue's `bad_json` for an unreadable body.
    pub(crate) fn bad_json(e: impl std::fmt::Display) -> Self {
        Self::bad_request("bad_json", format!("Could not parse request body as JSON: {e}"))
    }

    /// The error code (for logs and tests).
    pub(crate) fn code(&self) -> &str {
        match self {
            ApiError::Http { code, .. } => code,
            ApiError::WeakPassword { .. } => "weak_password",
            ApiError::OAuth { error, .. } => error,
            ApiError::Raw { .. } => "",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::Http { status, .. } | ApiError::Raw { status, .. } => *status,
            ApiError::WeakPassword { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::OAuth { .. } => StatusCode::BAD_REQUEST,
        }
    }

    /// The body for a request that asked for `new_shape` (API version ≥ 2024-01-01).
    pub(crate) fn body(&self, new_shape: bool) -> Value {
        match self {
            ApiError::Http { status, code, message } if new_shape => json!({ "code": code, "message": message }),
            ApiError::Http { status, code, message } => {
                let mut v = json!({ "code": status.as_u16(), "error_code": code, "msg": message });
                if status.is_server_error() {
                    v["error_id"] = json!(crate::keys::uuid_v4(&crate::jwt::random_bytes(16).unwrap_or_default()));
                }
                v
            }
            ApiError::WeakPassword { message, reasons } if new_shape => {
                json!({ "code": "weak_password", "message": message, "weak_password": { "reasons": reasons } })
            }
            ApiError::WeakPassword { message, reasons } => json!({
                "code": 422, "error_code": "weak_password", "msg": message, "weak_password": { "reasons": reasons }
            }),
            ApiError::OAuth { error, description } => json!({ "error": error, "error_description": description }),
            ApiError::Raw { body, .. } => body.clone(),
        }
    }
}

/// Marks a placeholder response for [`render_errors`].
#[derive(Clone)]
struct Pending(ApiError);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Rendered in the legacy shape unless the middleware re-renders it.
        let mut resp = (self.status(), Json(self.body(false))).into_response();
        resp.extensions_mut().insert(Pending(self));
        resp
    }
}

/// True when the request's API version selects the 2024-01-01 shapes (GoTrue picks the
/// closest known version at or below the one given; an invalid value means the initial one).
pub(crate) fn wants_new_shape(value: Option<&str>) -> bool {
    let Some(v) = value.map(str::trim) else { return false };
    let b = v.as_bytes();
    let ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    ok && v >= API_VERSION_2024
}

/// Middleware: renders [`ApiError`]s in the shape the request asked for and echoes the API
/// version header.
pub(crate) async fn render_errors(req: Request, next: Next) -> Response {
    let new_shape = wants_new_shape(req.headers().get(API_VERSION_HEADER).and_then(|v| v.to_str().ok()));
    let mut resp = next.run(req).await;
    if let Some(Pending(err)) = resp.extensions_mut().remove::<Pending>() {
        let code = err.code().to_string();
        let mut fresh = (err.status(), Json(err.body(new_shape))).into_response();
        // Keep headers a handler set on purpose (e.g. diagnostics), replace the body.
        for (k, v) in resp.headers() {
            if k != axum::http::header::CONTENT_LENGTH && k != axum::http::header::CONTENT_TYPE {
                fresh.headers_mut().insert(k.clone(), v.clone());
            }
        }
        if !code.is_empty() && !matches!(err, ApiError::OAuth { .. } | ApiError::Raw { .. }) {
            if let Ok(v) = HeaderValue::from_str(&code) {
                fresh.headers_mut().insert(HeaderName::from_static("x-sb-error-code"), v);
            }
        }
        resp = fresh;
    }
    if new_shape {
        resp.headers_mut()
            .insert(HeaderName::from_static(API_VERSION_HEADER), HeaderValue::from_static(API_VERSION_2024));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_version_selection() {
        assert!(wants_new_shape(Some("2024-01-01")));
        assert!(wants_new_shape(Some("2025-06-30")));
        assert!(!wants_new_shape(Some("2023-12-31")));
        assert!(!wants_new_shape(Some("2024-1-01")));
        assert!(!wants_new_shape(Some("latest")));
        assert!(!wants_new_shape(None));
    }

    #[test]
    fn shapes() {
        let e = ApiError::bad_request("invalid_credentials", "Invalid login credentials");
        assert_eq!(e.body(true), json!({ "code": "invalid_credentials", "message": "Invalid login credentials" }));
        assert_eq!(
            e.body(false),
            json!({ "code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials" })
        );
        let e = ApiError::new(500, "unexpected_failure", "x");
        assert!(e.body(false)["error_id"].is_string());
        let e = ApiError::oauth("invalid_request", "refresh_token required");
        assert_eq!(e.body(true), e.body(false));
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    }
}
