//! `POST /signup`: email or phone + password, or — with neither — an anonymous sign-in.
//!
//! Autoconfirm is on (as `supabase start` configures it): a new user is confirmed at once and
//! the answer is a token response; an already registered email is 422 `user_already_exists`.

use super::error::ApiError;
use super::session::{self, Method};
use super::users::{self, NewUser};
use super::{access, dberr, password, ReqInfo};
use crate::http::Shared;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Default, Deserialize)]
struct Params {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    data: Option<Value>,
}

fn metadata(data: Option<Value>) -> Result<Value, ApiError> {
    match data {
        None | Some(Value::Null) => Ok(json!({})),
        Some(v @ Value::Object(_)) => Ok(v),
        Some(_) => Err(ApiError::bad_json("`data` must be an object")),
    }
}

/// `POST /auth/v1/signup`.
pub(crate) async fn signup(
    State(state): State<Shared>,
    info: ReqInfo,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::require_key(&state, &headers)?;
    let p: Params = super::parse_body(&body)?;
    let email = p.email.filter(|s| !s.trim().is_empty());
    let phone = p.phone.filter(|s| !s.trim().is_empty());
    let data = metadata(p.data)?;

    let mut db = super::db(&state).await?;
    if email.is_none() && phone.is_none() {
        // Anonymous sign-in.
        let tx = db.transaction().await.map_err(dberr("Database error creating anonymous user"))?;
        let id = users::create(
            &tx,
            NewUser {
                app_metadata: json!({ "provider": "anonymous", "providers": ["anonymous"] }),
                user_metadata: data,
                is_anonymous: true,
                ..NewUser::default()
            },
        )
        .await?;
        let body = session::sign_in(&state, &tx, &id, Method::Anonymous, &info).await?;
        tx.commit().await.map_err(dberr("Database error creating anonymous user"))?;
        return Ok(Json(body));
    }
    if email.is_some() && phone.is_some() {
        return Err(ApiError::validation("Only an email address or phone number should be provided on signup."));
    }
    let pw = p.password.unwrap_or_default();
    if pw.is_empty() {
        return Err(ApiError::validation("Signup requires a valid password"));
    }
    password::check_strength(&pw)?;
    let (email, phone) = match (email, phone) {
        (Some(e), _) => (Some(users::validate_email(&e)?), None),
        (None, Some(p)) => (None, Some(users::validate_phone(&p)?)),
        (None, None) => (None, None),
    };
    let existing = match (&email, &phone) {
        (Some(e), _) => users::by_email(&*db, e).await?,
        (None, Some(p)) => users::by_phone(&*db, p).await?,
        _ => None,
    };
    if existing.is_some() {
        return Err(ApiError::unprocessable("user_already_exists", "User already registered"));
    }
    let hash = password::hash(&pw).await?;
    let provider = if email.is_some() { "email" } else { "phone" };
    let tx = db.transaction().await.map_err(dberr("Database error creating user"))?;
    let id = users::create(
        &tx,
        NewUser {
            email_confirmed: email.is_some(),
            phone_confirmed: phone.is_some(),
            email,
            phone,
            password_hash: Some(hash),
            app_metadata: json!({ "provider": provider, "providers": [provider] }),
            user_metadata: data,
            identity: true,
            ..NewUser::default()
        },
    )
    .await
    .map_err(|e| match e.code() {
        // A concurrent sign-up with the same address won the race.
        "email_exists" | "phone_exists" => ApiError::unprocessable("user_already_exists", "User already registered"),
        _ => e,
    })?;
    let body = session::sign_in(&state, &tx, &id, Method::Password, &info).await?;
    tx.commit().await.map_err(dberr("Database error creating user"))?;
    Ok(Json(body))
}
