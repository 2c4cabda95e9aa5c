//! `GET /authorize?provider=dev`: the built-in `dev` identity provider.
//!
//! There is no third party: the dev user is named by `login_hint=<email>` (without it, a small
//! HTML form asks for the email and comes back here). The user is found through its `dev`
//! identity (provider id = the lowercased email), else linked by email to an existing user,
//! else created (confirmed). Then the browser is sent (303) to `redirect_to`:
//! - with `code_challenge` (PKCE): `redirect_to?code=<auth code>`; exchange it with
//!   `POST /token?grant_type=pkce` within 300 s;
//! - without (implicit): `redirect_to#access_token=…&expires_at=…&expires_in=…&refresh_token=…&sb=&token_type=bearer`.
//!
//! `redirect_to` must be an http(s) URL on localhost, 127.0.0.1 or [::1] (any port); anything
//! else is a 400 JSON error, never a redirect. Errors after that are redirects carrying
//! `error`, `error_code` and `error_description` (in the query for PKCE, in the fragment
//! otherwise). `error=<oauth error>` in the request simulates the provider refusing (e.g.
//! `error=access_denied`).

use super::error::ApiError;
use super::session::{self, new_uuid, Method};
use super::users::{self, NewUser};
use super::{dberr, ReqInfo};
use crate::http::Shared;
use axum::extract::{Query, State};
use axum::http::header::{self, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use tokio_postgres::GenericClient;

/// True for `http(s)://localhost|127.0.0.1|[::1][:port][/…]` with no user info.
pub(crate) fn is_loopback_redirect(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://")) else {
        return false;
    };
    if url.contains('\\') || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    !authority.contains('@') && crate::http::host_allowed(authority, &[])
}

fn encode(params: &BTreeMap<&str, String>) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        s.append_pair(k, v);
    }
    s.finish()
}

/// `url` with `params` added to its query (before any fragment).
fn with_query(url: &str, params: &BTreeMap<&str, String>) -> String {
    let (base, frag) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut out = format!("{base}{sep}{}", encode(params));
    if let Some(f) = frag {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// `url` with its fragment replaced by `params`.
fn with_fragment(url: &str, params: &BTreeMap<&str, String>) -> String {
    let base = url.split_once('#').map_or(url, |(b, _)| b);
    format!("{base}#{}", encode(params))
}

fn see_other(location: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn oauth_error_for(status: u16) -> &'static str {
    match status {
        400 => "invalid_request",
        401 => "unauthorized_client",
        403 => "access_denied",
        503 => "temporarily_unavailable",
        _ => "server_error",
    }
}

/// An error redirect in GoTrue's form.
fn error_redirect(redirect_to: &str, pkce: bool, error: &str, code: &str, description: &str) -> Response {
    let mut p = BTreeMap::new();
    p.insert("error", error.to_owned());
    p.insert("error_code", code.to_owned());
    p.insert("error_description", description.to_owned());
    see_other(&if pkce { with_query(redirect_to, &p) } else { with_fragment(redirect_to, &p) })
}

fn html_escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            '\'' => "&#39;".into(),
            c => c.to_string(),
        })
        .collect()
}

fn login_form(q: &BTreeMap<String, String>) -> Response {
    let hidden: String = q
        .iter()
        .filter(|(k, _)| k.as_str() != "login_hint")
        .map(|(k, v)| format!(r#"<input type="hidden" name="{}" value="{}">"#, html_escape(k), html_escape(v)))
        .collect();
    let page = format!(
        r#"<!doctype html><meta charset="utf-8"><title>authwire-dev sign-in</title>
<style>body{{font:16px system-ui;margin:4em auto;max-width:24em}}input{{font:inherit;padding:.3em}}</style>
<h1>authwire-dev</h1><p>Sign in with the <b>dev</b> identity provider as:</p>
<form method="get" action="/auth/v1/authorize">{hidden}
<input name="login_hint" type="email" placeholder="alice@example.com" required autofocus>
<button type="submit">Continue</button></form>"#
    );
    let mut resp = (StatusCode::OK, page).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Finds or creates the user behind `dev` identity claims (`sub` required; `email`, `name`,
/// `picture`, `email_verified` optional) and returns its id.
pub(crate) async fn find_or_create_dev_user<C: GenericClient + Sync>(
    tx: &C,
    claims: &Map<String, Value>,
) -> Result<String, ApiError> {
    let sub = claims.get("sub").and_then(Value::as_str).unwrap_or_default().to_owned();
    let email = match claims.get("email").and_then(Value::as_str).filter(|e| !e.is_empty()) {
        Some(e) => Some(users::validate_email(e)?),
        None => None,
    };
    let verified = claims.get("email_verified").and_then(Value::as_bool).unwrap_or(true);
    let mut data = json!({ "sub": sub, "provider_id": sub, "email_verified": verified, "phone_verified": false,
                           "iss": "authwire-dev" });
    if let Some(e) = &email {
        data["email"] = json!(e);
    }
    for (from, to) in [("name", "name"), ("name", "full_name"), ("picture", "picture"), ("picture", "avatar_url")] {
        if let Some(v) = claims.get(from).filter(|v| v.is_string()) {
            data[to] = v.clone();
        }
    }
    let existing = tx
        .query_opt(
            "update auth.identities set identity_data = $2, updated_at = now()
             where provider = 'dev' and provider_id = $1 returning user_id::text",
            &[&sub, &data],
        )
        .await
        .map_err(dberr("Database error updating identity"))?;
    if let Some(row) = existing {
        return Ok(row.get(0));
    }
    let linked = match &email {
        Some(e) => users::by_email(tx, e).await?,
        None => None,
    };
    let user_id = match linked {
        Some(u) => {
            tx.execute(
                "update auth.users set raw_app_meta_data = jsonb_set(coalesce(raw_app_meta_data, '{}'::jsonb), '{providers}',
                   (select coalesce(jsonb_agg(distinct p), '[]'::jsonb) from jsonb_array_elements_text(
                      coalesce(raw_app_meta_data -> 'providers', '[]'::jsonb) || '[\"dev\"]'::jsonb) p)),
                   email_confirmed_at = coalesce(email_confirmed_at, case when $2 then now() end), updated_at = now()
                 where id = $1::text::uuid",
                &[&u.id, &verified],
            )
            .await
            .map_err(dberr("Database error linking identity"))?;
            u.id
        }
        None => {
            users::create(
                tx,
                NewUser {
                    email_confirmed: email.is_some() && verified,
                    email,
                    app_metadata: json!({ "provider": "dev", "providers": ["dev"] }),
                    user_metadata: data.clone(),
                    ..NewUser::default()
                },
            )
            .await?
        }
    };
    tx.execute(
        "insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
         values ($1, $2::text::uuid, $3, 'dev', now(), now(), now())",
        &[&sub, &user_id, &data],
    )
    .await
    .map_err(dberr("Database error saving identity"))?;
    Ok(user_id)
}

/// `GET /auth/v1/authorize`.
pub(crate) async fn authorize(
    State(state): State<Shared>,
    Query(q): Query<BTreeMap<String, String>>,
    info: ReqInfo,
) -> Result<Response, ApiError> {
    let provider = q.get("provider").map(String::as_str).unwrap_or("");
    if provider != "dev" {
        return Err(ApiError::validation(format!(
            "Unsupported provider: Provider {provider} could not be found (authwire-dev has only \"dev\")"
        )));
    }
    let redirect_to = q.get("redirect_to").cloned().unwrap_or_default();
    if !is_loopback_redirect(&redirect_to) {
        return Err(ApiError::validation(
            "redirect_to must be an http(s) URL on localhost, 127.0.0.1 or [::1] (authwire-dev redirects nowhere else)",
        ));
    }
    let challenge = q.get("code_challenge").filter(|c| !c.is_empty()).cloned();
    let pkce = challenge.is_some();
    let method = q.get("code_challenge_method").map(|m| m.to_ascii_lowercase()).unwrap_or_else(|| "plain".into());
    if pkce && method != "s256" && method != "plain" {
        return Err(ApiError::validation("code challenge method not supported"));
    }
    if let Some(err) = q.get("error").filter(|e| !e.is_empty()) {
        let description = q.get("error_description").cloned().unwrap_or_else(|| "The dev provider refused".into());
        return Ok(error_redirect(&redirect_to, pkce, err, err, &description));
    }
    let Some(hint) = q.get("login_hint").filter(|h| !h.trim().is_empty()) else {
        return Ok(login_form(&q));
    };
    let email = match users::validate_email(hint) {
        Ok(e) => e,
        Err(e) => {
            let message = e.body(true)["message"].as_str().unwrap_or_default().to_owned();
            return Ok(error_redirect(&redirect_to, pkce, "invalid_request", "validation_failed", &message));
        }
    };
    let result = async {
        let mut db = super::db(&state).await?;
        let tx = db.transaction().await.map_err(dberr("Database error"))?;
        let name = email.split('@').next().unwrap_or_default().to_owned();
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(email));
        claims.insert("email".into(), json!(email));
        claims.insert("email_verified".into(), json!(true));
        claims.insert("name".into(), json!(name));
        let user_id = find_or_create_dev_user(&tx, &claims).await?;
        let user =
            users::by_id(&tx, &user_id).await?.ok_or_else(|| ApiError::internal("user vanished", "authorize"))?;
        if user.banned {
            return Err(ApiError::forbidden("user_banned", "User is banned"));
        }
        let location = if let Some(challenge) = &challenge {
            let code = new_uuid()?;
            tx.execute(
                "insert into auth.flow_state (user_id, auth_code, code_challenge_method, code_challenge, provider_type,
                   authentication_method, auth_code_issued_at, redirect_to, created_at, updated_at)
                 values ($1::text::uuid, $2, $3, $4, 'dev', 'oauth', now(), $5, now(), now())",
                &[&user_id, &code, &method, challenge, &redirect_to],
            )
            .await
            .map_err(dberr("Database error creating flow state"))?;
            let mut p = BTreeMap::new();
            p.insert("code", code);
            with_query(&redirect_to, &p)
        } else {
            let t = session::sign_in(&state, &tx, &user_id, Method::OAuth, &info).await?;
            let mut p = BTreeMap::new();
            for k in ["access_token", "token_type", "expires_in", "expires_at", "refresh_token"] {
                p.insert(
                    k,
                    match &t[k] {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    },
                );
            }
            p.insert("sb", String::new());
            with_fragment(&redirect_to, &p)
        };
        tx.commit().await.map_err(dberr("Database error"))?;
        Ok::<_, ApiError>(location)
    }
    .await;
    Ok(match result {
        Ok(location) => see_other(&location),
        Err(e) => {
            let body = e.body(true);
            let code = body["code"].as_str().unwrap_or("unexpected_failure").to_owned();
            let status = match code.as_str() {
                "user_banned" => 403,
                "unexpected_failure" => 500,
                _ => 400,
            };
            let error = if code == "user_banned" { "access_denied" } else { oauth_error_for(status) };
            error_redirect(&redirect_to, pkce, error, &code, body["message"].as_str().unwrap_or_default())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_only() {
        for ok in ["http://localhost:5173/cb", "http://127.0.0.1", "https://[::1]:9/x?y=1#z", "http://localhost?x"] {
            assert!(is_loopback_redirect(ok), "{ok}");
        }
        for bad in [
            "https://evil.com/cb",
            "http://localhost@evil.com/",
            "http://localhost.evil.com/",
            "javascript:alert(1)",
            "//localhost/cb",
            "http://localhost\\@evil.com",
            "",
        ] {
            assert!(!is_loopback_redirect(bad), "{bad}");
        }
    }

    #[test]
    fn url_building() {
        let mut p = BTreeMap::new();
        p.insert("code", "a b".to_string());
        assert_eq!(with_query("http://localhost/cb", &p), "http://localhost/cb?code=a+b");
        assert_eq!(with_query("http://localhost/cb?x=1#f", &p), "http://localhost/cb?x=1&code=a+b#f");
        assert_eq!(with_fragment("http://localhost/cb#old", &p), "http://localhost/cb#code=a+b");
        assert_eq!(html_escape("<a href=\"x\">'&"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;");
    }
}
