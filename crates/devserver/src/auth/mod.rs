//! GoTrue's HTTP API under `/auth/v1`: sign-up (also anonymous), the token grants
//! (password, refresh_token, pkce, id_token), OTP, resend, reauthenticate and verify, the
//! built-in `dev` identity
//! provider behind `/authorize`, the user endpoints, logout, admin users, settings and OIDC
//! discovery. Request and response bodies, status codes and error codes follow GoTrue
//! (`shared/reference/auth-session.md` §1, §2, §7); the README lists where this differs.
//!
//! Layout: [`error`] (the two error shapes), [`access`] (keys, user tokens, admin),
//! [`users`] (user rows and GoTrue's user object), [`password`], [`session`] (sessions and
//! tokens), [`refresh`] (rotation), and one module per group of endpoints.

mod access;
mod account;
mod admin;
mod authorize;
pub(crate) mod error;
mod factors;
pub(crate) mod faults;
mod limits;
mod meta;
mod otp;
mod password;
mod refresh;
mod session;
mod signup;
mod token;
mod user_api;
mod users;

use crate::http::Shared;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware;
use axum::routing::{delete, get, post};
use axum::Router;
use error::ApiError;
use serde::de::DeserializeOwned;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

pub(crate) use access::bearer;
pub(crate) use faults::AuthFaults;
pub(crate) use refresh::presented as presented_refresh_token;

/// Per-server auth state besides the database.
#[derive(Debug, Default)]
pub(crate) struct AuthState {
    /// Wrong-password limiter.
    pub(crate) limiter: limits::Limiter,
    /// Injected faults.
    pub(crate) faults: AuthFaults,
}

/// The `/auth/v1` routes (JWKS and health are registered by `http.rs`).
pub(crate) fn router() -> Router<Shared> {
    Router::new()
        .route("/auth/v1/signup", post(signup::signup))
        .route("/auth/v1/token", post(token::token))
        .route("/auth/v1/authorize", get(authorize::authorize))
        .route("/auth/v1/otp", post(otp::otp))
        .route("/auth/v1/magiclink", post(otp::magiclink))
        .route("/auth/v1/recover", post(otp::recover))
        .route("/auth/v1/resend", post(account::resend))
        .route("/auth/v1/reauthenticate", get(account::reauthenticate))
        .route("/auth/v1/factors/{factor_id}", delete(factors::unenroll))
        .route("/auth/v1/verify", post(otp::verify_post).get(otp::verify_get))
        .route("/auth/v1/user", get(user_api::get_user).put(user_api::put_user))
        .route("/auth/v1/logout", post(user_api::logout))
        .route("/auth/v1/settings", get(meta::settings))
        .route("/auth/v1/.well-known/openid-configuration", get(meta::openid_configuration))
        .route("/auth/v1/admin/users", get(admin::list).post(admin::create))
        .route("/auth/v1/admin/users/{id}", get(admin::get).put(admin::update).delete(admin::delete))
        .layer(middleware::from_fn(error::render_errors))
}

/// `/_dev` routes owned by auth (the faults route is shared: see `crate::dev_faults`).
pub(crate) fn dev_router() -> Router<Shared> {
    Router::new().route("/_dev/mail", get(faults::mail)).route("/_dev/mailbox", get(faults::mail))
}

/// What handlers record about the caller: address and user agent.
#[derive(Debug, Clone)]
pub(crate) struct ReqInfo {
    pub(crate) ip: IpAddr,
    pub(crate) user_agent: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ReqInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let user_agent =
            parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|s| s.chars().take(512).collect());
        Ok(ReqInfo { ip, user_agent })
    }
}

/// Parses a JSON body; an empty body is the type's default.
pub(crate) fn parse_body<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(ApiError::bad_json)
}

/// The database connection, or GoTrue's 500.
pub(crate) async fn db(state: &crate::http::AppState) -> Result<crate::db::Conn<'_>, ApiError> {
    state.pool.get().await.map_err(|e| ApiError::internal("Database error", e))
}

/// Maps a database error to GoTrue's 500 with `what` as the message.
pub(crate) fn dberr(what: &'static str) -> impl Fn(tokio_postgres::Error) -> ApiError {
    move |e| ApiError::internal(what, e)
}
