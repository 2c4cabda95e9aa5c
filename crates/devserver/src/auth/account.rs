//! `POST /resend` (a signup confirmation sent again) and `GET /reauthenticate` (a nonce for
//! `PUT /user`), as GoTrue serves them (`GT/internal/api/resend.go`, `reauthenticate.go`).
//! Emails land in the dev mailbox like every other (`otp.rs`). This server has no SMS
//! provider: phone resends answer GoTrue's "Phone logins are disabled"; a user with only a
//! phone cannot reauthenticate.
//!
//! As GoTrue with its defaults, `PUT /user` does not ask for the nonce
//! (`SECURITY_UPDATE_PASSWORD_REQUIRE_REAUTHENTICATION` is off, as in `supabase start`).

use super::error::ApiError;
use super::otp::{pkce_flow, redirect_param, send};
use super::{access, dberr, users};
use crate::http::Shared;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

#[derive(Debug, Default, Deserialize)]
struct ResendParams {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    code_challenge: Option<String>,
    #[serde(default)]
    code_challenge_method: Option<String>,
}

/// `POST /auth/v1/resend`: `type` `signup` mails a new confirmation code and link to an
/// unconfirmed user (with a PKCE flow when a `code_challenge` is given); a confirmed or
/// unknown address, and `email_change` (email changes apply at once here, so none is
/// pending), answer `{}` without mail, as GoTrue does.
pub(crate) async fn resend(
    State(state): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::require_key(&state, &headers)?;
    let p: ResendParams = super::parse_body(&body)?;
    // GoTrue's `ResendConfirmationParams.Validate`, in its order.
    match p.kind.as_str() {
        "signup" | "email_change" => {
            let method = p.code_challenge_method.as_deref().unwrap_or("");
            let challenge = p.code_challenge.as_deref().unwrap_or("");
            if challenge.is_empty() != method.is_empty() {
                return Err(ApiError::validation("PKCE flow requires code_challenge_method and code_challenge"));
            }
        }
        "sms" | "phone_change" => {}
        _ => {
            return Err(ApiError::validation("Missing one of these types: signup, email_change, sms, phone_change"));
        }
    }
    if p.email.is_empty() && p.kind == "signup" {
        return Err(ApiError::validation("Type provided requires an email address"));
    }
    if p.phone.is_empty() && p.kind == "sms" {
        return Err(ApiError::validation("Type provided requires a phone number"));
    }
    if !p.email.is_empty() && !p.phone.is_empty() {
        return Err(ApiError::validation("Only an email address or phone number should be provided."));
    }
    if !p.phone.is_empty() {
        return Err(ApiError::bad_request("phone_provider_disabled", "Phone logins are disabled"));
    }
    if p.email.is_empty() {
        return Err(ApiError::validation("Missing email address or phone number"));
    }
    let email = users::validate_email(&p.email)?;
    let mut db = super::db(&state).await?;
    let tx = db.transaction().await.map_err(dberr("Unable to process request"))?;
    let Some(user) = users::by_email(&tx, &email).await? else { return Ok(Json(json!({}))) };
    if p.kind == "signup" && !user.email_confirmed {
        send(&state, &tx, &user, "confirmation_token", "signup", redirect_param(&q).as_deref()).await?;
        pkce_flow(&tx, &user.id, p.code_challenge.as_deref(), p.code_challenge_method.as_deref(), "signup").await?;
    }
    tx.commit().await.map_err(dberr("Unable to process request"))?;
    Ok(Json(json!({})))
}

/// `GET /auth/v1/reauthenticate`: mails the signed-in user a reauthentication code (GoTrue's
/// "Confirm reauthentication", no link) and answers `{}`.
pub(crate) async fn reauthenticate(State(state): State<Shared>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let access::UserCall { user, .. } = access::require_user(&state, &headers).await?;
    let Some(_) = user.email.as_deref().filter(|e| !e.is_empty()) else {
        if user.phone.as_deref().is_some_and(|p| !p.is_empty()) {
            return Err(ApiError::bad_request("phone_provider_disabled", "Unsupported phone provider"));
        }
        return Err(ApiError::validation("Reauthentication requires the user to have an email or a phone number"));
    };
    if !user.email_confirmed {
        return Err(ApiError::unprocessable("email_not_confirmed", "Please verify your email first."));
    }
    let mut db = super::db(&state).await?;
    let tx = db.transaction().await.map_err(dberr("Database error"))?;
    send(&state, &tx, &user, "reauthentication_token", "reauthentication", None).await?;
    tx.commit().await.map_err(dberr("Database error"))?;
    Ok(Json(json!({})))
}
