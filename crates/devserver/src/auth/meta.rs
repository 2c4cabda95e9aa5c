//! `GET /settings` and `GET /.well-known/openid-configuration`.

use super::access;
use super::error::ApiError;
use crate::http::Shared;
use axum::extract::State;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// External providers GoTrue lists; only `dev`, `email` and anonymous sign-in are on here.
const PROVIDERS: &[&str] = &[
    "apple",
    "azure",
    "bitbucket",
    "discord",
    "facebook",
    "snapchat",
    "figma",
    "fly",
    "github",
    "gitlab",
    "google",
    "keycloak",
    "kakao",
    "linkedin",
    "linkedin_oidc",
    "notion",
    "spotify",
    "slack",
    "slack_oidc",
    "workos",
    "twitch",
    "twitter",
    "zoom",
    "phone",
];

/// `GET /auth/v1/settings`.
pub(crate) async fn settings(State(state): State<Shared>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    access::require_key(&state, &headers)?;
    let mut external = serde_json::Map::new();
    for p in PROVIDERS {
        external.insert((*p).into(), json!(false));
    }
    external.insert("anonymous_users".into(), json!(true));
    external.insert("email".into(), json!(true));
    external.insert("dev".into(), json!(true));
    Ok(Json(json!({
        "external": external,
        "disable_signup": false,
        "mailer_autoconfirm": true,
        "phone_autoconfirm": false,
        "sms_provider": "",
        "saml_enabled": false,
        "saml_private_key_next_configured": false,
        "passkeys_enabled": false,
    })))
}

/// `GET /auth/v1/.well-known/openid-configuration`.
pub(crate) async fn openid_configuration(State(state): State<Shared>) -> Response {
    let issuer = format!("{}/auth/v1", state.url);
    let mut resp = Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "userinfo_endpoint": format!("{issuer}/user"),
        "response_types_supported": ["code", "token"],
        "response_modes_supported": ["query", "fragment"],
        "grant_types_supported": ["password", "refresh_token", "authorization_code", "pkce", "id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256", "HS256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "code_challenge_methods_supported": ["S256", "plain"],
    }))
    .into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=600"));
    resp
}
