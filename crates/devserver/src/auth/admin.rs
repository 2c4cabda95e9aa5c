//! Admin users (service role only): `POST/GET /admin/users`, `GET/PUT/DELETE
//! /admin/users/{id}`. `ban_duration` is `"none"` (lift the ban) or a Go duration such as
//! `"24h"` or `"1h30m"`, and sets `banned_until = now + duration`.

use super::access;
use super::error::ApiError;
use super::users::{self, NewUser};
use super::{dberr, password};
use crate::http::Shared;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::{HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Parses a Go `time.Duration` string into seconds (`"300ms"`, `"1.5h"`, `"2h45m"`, `"-1s"`).
pub(crate) fn parse_go_duration(s: &str) -> Option<f64> {
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0.0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let num = &rest[..num_len];
        if num.is_empty() || num == "." {
            return None;
        }
        let value: f64 = num.parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += value * factor;
        rest = &rest[unit_len..];
    }
    Some(if neg { -total } else { total })
}

/// `ban_duration` → seconds from now (`None` lifts the ban).
fn ban_seconds(d: &str) -> Result<Option<f64>, ApiError> {
    if d == "none" {
        return Ok(None);
    }
    parse_go_duration(d)
        .map(Some)
        .ok_or_else(|| ApiError::validation(format!("invalid format for ban duration: time: invalid duration {d:?}")))
}

fn user_id_param(id: &str) -> Result<String, ApiError> {
    if users::is_uuid(id) {
        Ok(id.to_ascii_lowercase())
    } else {
        Err(ApiError::not_found("validation_failed", "user_id must be an UUID"))
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("user_not_found", "User not found")
}

#[derive(Debug, Default, Deserialize)]
struct AdminParams {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    email_confirm: Option<bool>,
    #[serde(default)]
    phone_confirm: Option<bool>,
    #[serde(default)]
    user_metadata: Option<Value>,
    #[serde(default)]
    app_metadata: Option<Value>,
    #[serde(default)]
    ban_duration: Option<String>,
    #[serde(default)]
    role: Option<String>,
}

fn object(v: Option<Value>, name: &str) -> Result<Option<Value>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(v)),
        Some(_) => Err(ApiError::bad_json(format!("`{name}` must be an object"))),
    }
}

/// `POST /auth/v1/admin/users`.
pub(crate) async fn create(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::require_admin(&state, &headers)?;
    let p: AdminParams = super::parse_body(&body)?;
    let email = match p.email.as_deref().filter(|e| !e.is_empty()) {
        Some(e) => Some(users::validate_email(e)?),
        None => None,
    };
    let phone = match p.phone.as_deref().filter(|e| !e.is_empty()) {
        Some(e) => Some(users::validate_phone(e)?),
        None => None,
    };
    if email.is_none() && phone.is_none() {
        return Err(ApiError::validation("Cannot create a user without either an email or phone"));
    }
    if let Some(id) = &p.id {
        if !users::is_uuid(id) {
            return Err(ApiError::validation("ID must conform to the uuid v4 format"));
        }
    }
    let ban = p.ban_duration.as_deref().filter(|d| !d.is_empty()).map(ban_seconds).transpose()?.flatten();
    let hash = match p.password.as_deref().filter(|p| !p.is_empty()) {
        Some(pw) => {
            password::check_strength(pw)?;
            Some(password::hash(pw).await?)
        }
        None => None,
    };
    let provider = if email.is_some() { "email" } else { "phone" };
    let mut app = json!({ "provider": provider, "providers": [provider] });
    if let Some(Value::Object(extra)) = object(p.app_metadata, "app_metadata")? {
        for (k, v) in extra {
            app[k] = v;
        }
    }
    let mut db = super::db(&state).await?;
    let tx = db.transaction().await.map_err(dberr("Database error creating new user"))?;
    let id = users::create(
        &tx,
        NewUser {
            id: p.id.map(|s| s.to_ascii_lowercase()),
            email_confirmed: email.is_some() && p.email_confirm.unwrap_or(false),
            phone_confirmed: phone.is_some() && p.phone_confirm.unwrap_or(false),
            email,
            phone,
            password_hash: hash,
            app_metadata: app,
            user_metadata: object(p.user_metadata, "user_metadata")?.unwrap_or_else(|| json!({})),
            role: p.role.filter(|r| !r.is_empty()),
            identity: true,
            ..NewUser::default()
        },
    )
    .await?;
    if let Some(secs) = ban {
        tx.execute(
            "update auth.users set banned_until = now() + $2::float8 * interval '1 second' where id = $1::text::uuid",
            &[&id, &secs],
        )
        .await
        .map_err(dberr("Database error creating new user"))?;
    }
    let user = users::by_id(&tx, &id).await?.ok_or_else(not_found)?;
    tx.commit().await.map_err(dberr("Database error creating new user"))?;
    Ok(Json(user.json))
}

/// `GET /auth/v1/admin/users?page=1&per_page=50` → `{ users, aud }` with `x-total-count`.
pub(crate) async fn list(
    State(state): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    access::require_admin(&state, &headers)?;
    let num = |k: &str, default: i64| -> Result<i64, ApiError> {
        match q.get(k) {
            None => Ok(default),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| ApiError::validation(format!("Bad Pagination Parameters: invalid {k}"))),
        }
    };
    let page = num("page", 1)?;
    let per_page = num("per_page", 50)?.min(1000);
    let db = super::db(&state).await?;
    let rows = db
        .query(
            &format!(
                "select {} from auth.users u where u.deleted_at is null order by u.created_at desc, u.id limit $1 offset $2",
                users::USER_JSON
            ),
            &[&per_page, &((page - 1) * per_page)],
        )
        .await
        .map_err(dberr("Database error finding users"))?;
    let total: i64 = db
        .query_one("select count(*) from auth.users where deleted_at is null", &[])
        .await
        .map_err(dberr("Database error finding users"))?
        .get(0);
    let list: Vec<Value> = rows.iter().map(|r| r.get::<_, Value>(0)).collect();
    let mut resp = Json(json!({ "users": list, "aud": "authenticated" })).into_response();
    if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
        resp.headers_mut().insert(HeaderName::from_static("x-total-count"), v);
    }
    Ok(resp)
}

/// `GET /auth/v1/admin/users/{id}`.
pub(crate) async fn get(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    access::require_admin(&state, &headers)?;
    let id = user_id_param(&id)?;
    let db = super::db(&state).await?;
    Ok(Json(users::by_id(&*db, &id).await?.ok_or_else(not_found)?.json))
}

/// `PUT /auth/v1/admin/users/{id}`.
pub(crate) async fn update(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::require_admin(&state, &headers)?;
    let id = user_id_param(&id)?;
    let p: AdminParams = super::parse_body(&body)?;
    let ban = match p.ban_duration.as_deref().filter(|d| !d.is_empty()) {
        Some(d) => Some(ban_seconds(d)?),
        None => None,
    };
    let hash = match p.password.as_deref().filter(|p| !p.is_empty()) {
        Some(pw) => {
            password::check_strength(pw)?;
            Some(password::hash(pw).await?)
        }
        None => None,
    };
    let email = match p.email.as_deref().filter(|e| !e.is_empty()) {
        Some(e) => Some(users::validate_email(e)?),
        None => None,
    };
    let phone = match p.phone.as_deref().filter(|e| !e.is_empty()) {
        Some(e) => Some(users::validate_phone(e)?),
        None => None,
    };
    let user_meta = object(p.user_metadata, "user_metadata")?;
    let app_meta = object(p.app_metadata, "app_metadata")?;
    let mut db = super::db(&state).await?;
    let tx = db.transaction().await.map_err(dberr("Error updating user"))?;
    let user = users::by_id(&tx, &id).await?.ok_or_else(not_found)?;
    let err = dberr("Error updating user");
    if let Some(e) = &email {
        if users::by_email(&tx, e).await?.is_some_and(|u| u.id != user.id) {
            return Err(ApiError::unprocessable(
                "email_exists",
                "A user with this email address has already been registered",
            ));
        }
        tx.execute("update auth.users set email = $2 where id = $1::text::uuid", &[&id, e]).await.map_err(&err)?;
    }
    if let Some(ph) = &phone {
        if users::by_phone(&tx, ph).await?.is_some_and(|u| u.id != user.id) {
            return Err(ApiError::unprocessable("phone_exists", "Phone number already registered by another user"));
        }
        tx.execute("update auth.users set phone = $2 where id = $1::text::uuid", &[&id, ph]).await.map_err(&err)?;
    }
    if p.email_confirm == Some(true) {
        tx.execute(
            "update auth.users set email_confirmed_at = coalesce(email_confirmed_at, now()) where id = $1::text::uuid",
            &[&id],
        )
        .await
        .map_err(&err)?;
    }
    if p.phone_confirm == Some(true) {
        tx.execute(
            "update auth.users set phone_confirmed_at = coalesce(phone_confirmed_at, now()) where id = $1::text::uuid",
            &[&id],
        )
        .await
        .map_err(&err)?;
    }
    if let Some(h) = &hash {
        tx.execute("update auth.users set encrypted_password = $2 where id = $1::text::uuid", &[&id, h])
            .await
            .map_err(&err)?;
    }
    for (column, value) in [("raw_user_meta_data", &user_meta), ("raw_app_meta_data", &app_meta)] {
        if let Some(v) = value {
            tx.execute(
                &format!(
                    "update auth.users set {column} = (coalesce({column}, '{{}}'::jsonb) || $2)
                       - array(select key from jsonb_each($2) where value = 'null'::jsonb) where id = $1::text::uuid"
                ),
                &[&id, v],
            )
            .await
            .map_err(&err)?;
        }
    }
    if let Some(r) = p.role.as_deref().filter(|r| !r.is_empty()) {
        tx.execute("update auth.users set role = $2 where id = $1::text::uuid", &[&id, &r]).await.map_err(&err)?;
    }
    match ban {
        Some(Some(secs)) => {
            tx.execute(
                "update auth.users set banned_until = now() + $2::float8 * interval '1 second' where id = $1::text::uuid",
                &[&id, &secs],
            )
            .await
            .map_err(&err)?;
        }
        Some(None) => {
            tx.execute("update auth.users set banned_until = null where id = $1::text::uuid", &[&id])
                .await
                .map_err(&err)?;
        }
        None => {}
    }
    tx.execute("update auth.users set updated_at = now() where id = $1::text::uuid", &[&id]).await.map_err(&err)?;
    let user = users::by_id(&tx, &id).await?.ok_or_else(not_found)?;
    tx.commit().await.map_err(err)?;
    Ok(Json(user.json))
}

#[derive(Debug, Default, Deserialize)]
struct DeleteParams {
    #[serde(default)]
    should_soft_delete: bool,
}

/// `DELETE /auth/v1/admin/users/{id}` → `{}`. Hard delete by default (sessions, refresh
/// tokens and identities cascade); `should_soft_delete: true` marks the user deleted,
/// obfuscates its email and phone and ends its sessions.
pub(crate) async fn delete(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::require_admin(&state, &headers)?;
    let id = user_id_param(&id)?;
    let p: DeleteParams = super::parse_body(&body)?;
    let db = super::db(&state).await?;
    let n = if p.should_soft_delete {
        db.execute("delete from auth.sessions where user_id = $1::text::uuid", &[&id])
            .await
            .map_err(dberr("Error soft deleting user"))?;
        db.execute(
            "update auth.users set deleted_at = now(), email = null, phone = null, encrypted_password = '',
               raw_app_meta_data = '{}'::jsonb, raw_user_meta_data = '{}'::jsonb
             where id = $1::text::uuid and deleted_at is null",
            &[&id],
        )
        .await
        .map_err(dberr("Error soft deleting user"))?
    } else {
        db.execute("delete from auth.users where id = $1::text::uuid", &[&id])
            .await
            .map_err(dberr("Database error deleting user"))?
    };
    if n == 0 {
        return Err(not_found());
    }
    Ok(Json(json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("24h"), Some(86400.0));
        assert_eq!(parse_go_duration("1h30m"), Some(5400.0));
        assert_eq!(parse_go_duration("1.5s"), Some(1.5));
        assert_eq!(parse_go_duration("300ms"), Some(0.3));
        assert_eq!(parse_go_duration("-2s"), Some(-2.0));
        assert_eq!(parse_go_duration("0"), Some(0.0));
        for bad in ["", "h", "10", "1d", "1h 2m", "..1s", "s1"] {
            assert_eq!(parse_go_duration(bad), None, "{bad}");
        }
        assert!(ban_seconds("none").unwrap().is_none());
        assert_eq!(ban_seconds("nope").unwrap_err().code(), "validation_failed");
    }
}
