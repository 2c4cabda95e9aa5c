//! The user's own endpoints: `GET /user`, `PUT /user`, `POST /logout`.

use super::access::{self, UserCall};
use super::error::ApiError;
use super::{dberr, password, users};
use crate::http::Shared;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

/// `GET /auth/v1/user`: the user object itself (top level).
pub(crate) async fn get_user(State(state): State<Shared>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let UserCall { user, .. } = access::require_user(&state, &headers).await?;
    Ok(Json(user.json))
}

#[derive(Debug, Default, Deserialize)]
struct UpdateParams {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    app_metadata: Option<Value>,
}

/// `PUT /auth/v1/user`: email, phone, password and `data` (merged into `user_metadata`; a
/// `null` value removes the key). With autoconfirm, a new email or phone applies at once and
/// an anonymous user that gets one stops being anonymous.
pub(crate) async fn put_user(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let UserCall { user, .. } = access::require_user(&state, &headers).await?;
    let p: UpdateParams = super::parse_body(&body)?;
    if p.app_metadata.is_some() {
        return Err(ApiError::forbidden("not_admin", "Updating app_metadata requires admin privileges"));
    }
    let email = match p.email.as_deref().filter(|e| !e.is_empty()) {
        Some(e) => Some(users::validate_email(e)?).filter(|e| Some(e) != user.email.as_ref()),
        None => None,
    };
    let phone = match p.phone.as_deref().filter(|e| !e.is_empty()) {
        Some(e) => Some(users::validate_phone(e)?).filter(|e| Some(e) != user.phone.as_ref()),
        None => None,
    };
    let mut new_hash = None;
    if let Some(pw) = p.password.as_deref().filter(|p| !p.is_empty()) {
        if user.is_anonymous && user.email.is_none() && user.phone.is_none() && email.is_none() && phone.is_none() {
            return Err(ApiError::unprocessable(
                "validation_failed",
                "Updating password of an anonymous user without an email or phone is not allowed",
            ));
        }
        password::check_strength(pw)?;
        if let Some(old) = &user.encrypted_password {
            if password::verify(pw, old).await {
                return Err(ApiError::unprocessable(
                    "same_password",
                    "New password should be different from the old password.",
                ));
            }
        }
        new_hash = Some(password::hash(pw).await?);
    }
    let data = match p.data {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(v),
        Some(_) => return Err(ApiError::bad_json("`data` must be an object")),
    };

    let mut db = super::db(&state).await?;
    let tx = db.transaction().await.map_err(dberr("Error updating user"))?;
    if let Some(e) = &email {
        if users::by_email(&tx, e).await?.is_some_and(|u| u.id != user.id) {
            return Err(ApiError::unprocessable(
                "email_exists",
                "A user with this email address has already been registered",
            ));
        }
        tx.execute(
            "update auth.users set email = $2, email_confirmed_at = now(), is_anonymous = false,
               raw_app_meta_data = jsonb_set(jsonb_set(coalesce(raw_app_meta_data, '{}'::jsonb), '{provider}',
                 case when is_anonymous then '\"email\"'::jsonb else coalesce(raw_app_meta_data -> 'provider', '\"email\"') end),
                 '{providers}', (select coalesce(jsonb_agg(distinct p), '[]'::jsonb) from jsonb_array_elements_text(
                   (coalesce(raw_app_meta_data -> 'providers', '[]'::jsonb) - 'anonymous') || '[\"email\"]'::jsonb) p))
             where id = $1::text::uuid",
            &[&user.id, e],
        )
        .await
        .map_err(dberr("Error updating user"))?;
        let identity = json!({ "sub": user.id, "email": e, "email_verified": true, "phone_verified": false });
        tx.execute(
            "insert into auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at)
             values ($1, $1::text::uuid, $2, 'email', now(), now())
             on conflict (provider_id, provider) do update set identity_data = excluded.identity_data, updated_at = now()",
            &[&user.id, &identity],
        )
        .await
        .map_err(dberr("Error updating user"))?;
    }
    if let Some(ph) = &phone {
        if users::by_phone(&tx, ph).await?.is_some_and(|u| u.id != user.id) {
            return Err(ApiError::unprocessable("phone_exists", "Phone number already registered by another user"));
        }
        tx.execute(
            "update auth.users set phone = $2, phone_confirmed_at = now(), is_anonymous = false where id = $1::text::uuid",
            &[&user.id, ph],
        )
        .await
        .map_err(dberr("Error updating user"))?;
    }
    if let Some(h) = &new_hash {
        tx.execute("update auth.users set encrypted_password = $2 where id = $1::text::uuid", &[&user.id, h])
            .await
            .map_err(dberr("Error during password storage"))?;
    }
    if let Some(d) = &data {
        // Top-level merge; keys set to null are removed.
        tx.execute(
            "update auth.users set raw_user_meta_data = (coalesce(raw_user_meta_data, '{}'::jsonb) || $2)
               - array(select key from jsonb_each($2) where value = 'null'::jsonb)
             where id = $1::text::uuid",
            &[&user.id, d],
        )
        .await
        .map_err(dberr("Error updating user"))?;
    }
    tx.execute("update auth.users set updated_at = now() where id = $1::text::uuid", &[&user.id])
        .await
        .map_err(dberr("Error updating user"))?;
    let updated = users::by_id(&tx, &user.id).await?.ok_or_else(|| ApiError::internal("user vanished", "update"))?;
    tx.commit().await.map_err(dberr("Error updating user"))?;
    Ok(Json(updated.json))
}

/// `POST /auth/v1/logout?scope=global|local|others` → 204. `global` (the default) ends
/// every session of the user, `local` this one, `others` all but this one; their refresh
/// tokens go with them.
pub(crate) async fn logout(
    State(state): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let scope = q.get("scope").map(String::as_str).unwrap_or("");
    if !matches!(scope, "" | "global" | "local" | "others") {
        return Err(ApiError::validation(format!("Unsupported logout scope {scope:?}")));
    }
    let UserCall { user, session_id, .. } = access::require_user(&state, &headers).await?;
    let db = super::db(&state).await?;
    let err = dberr("Error logging out user");
    match (scope, &session_id) {
        ("local", Some(sid)) => {
            db.execute("delete from auth.sessions where id = $1::text::uuid", &[sid]).await.map_err(err)?;
        }
        ("others", Some(sid)) => {
            db.execute(
                "delete from auth.sessions where user_id = $1::text::uuid and id <> $2::text::uuid",
                &[&user.id, sid],
            )
            .await
            .map_err(err)?;
        }
        _ => {
            db.execute("delete from auth.sessions where user_id = $1::text::uuid", &[&user.id]).await.map_err(&err)?;
            db.execute("delete from auth.refresh_tokens where user_id = $1::text::uuid", &[&user.id])
                .await
                .map_err(err)?;
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
