//! GoTrue endpoints over real HTTP against one devserver (real PostgreSQL, `--seed demo`).

mod common;

use common::{claims, email, Ctx, Fixture};
use serde_json::{json, Value};

/// The server these tests share (`--seed demo`, a 10 s refresh-token reuse interval).
static AUTH: Fixture = Fixture::new(
    "authwire-dev-auth",
    |c| {
        c.seed = authwire_devserver::Seed::Demo;
        c.refresh_reuse_interval = 10;
    },
    None,
);

fn check_session(t: &Value, email: Option<&str>) {
    for k in ["access_token", "refresh_token", "expires_in", "expires_at", "user"] {
        assert!(!t[k].is_null(), "{k} missing in {t}");
    }
    assert_eq!(t["token_type"], "bearer");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let exp = t["expires_at"].as_i64().unwrap();
    assert!((exp - now - 3600).abs() <= 2, "expires_at {exp} vs now {now}");
    assert_eq!(t["expires_in"].as_i64().unwrap(), 3600);
    let rt = t["refresh_token"].as_str().unwrap();
    assert_eq!(rt.len(), 12);
    let c = claims(t["access_token"].as_str().unwrap());
    for k in [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "role",
        "aal",
        "amr",
        "session_id",
        "email",
        "phone",
        "app_metadata",
        "user_metadata",
        "is_anonymous",
    ] {
        assert!(c.get(k).is_some(), "claim {k} missing in {c}");
    }
    assert_eq!(c["sub"], t["user"]["id"]);
    assert_eq!(c["exp"], t["expires_at"]);
    assert_eq!(c["role"], "authenticated");
    assert_eq!(c["aud"], "authenticated");
    assert_eq!(c["aal"], "aal1");
    if let Some(e) = email {
        assert_eq!(c["email"], e);
        assert_eq!(t["user"]["email"], e);
    }
    let u = &t["user"];
    for k in [
        "id",
        "aud",
        "role",
        "email",
        "phone",
        "app_metadata",
        "user_metadata",
        "identities",
        "created_at",
        "updated_at",
        "is_anonymous",
    ] {
        assert!(u.get(k).is_some(), "user.{k} missing in {u}");
    }
}

#[tokio::test]
async fn signup_returns_a_session() {
    let ctx = AUTH.shared().await;
    let e = email("signup");
    let r = ctx
        .anon("POST", "/auth/v1/signup")
        .json(json!({ "email": e.to_uppercase(), "password": "hunter22", "data": { "name": "Sam" } }))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = r.json();
    check_session(&t, Some(&e));
    let u = &t["user"];
    assert_eq!(u["user_metadata"]["name"], "Sam");
    assert_eq!(u["app_metadata"], json!({ "provider": "email", "providers": ["email"] }));
    assert!(u["email_confirmed_at"].as_str().unwrap().ends_with('Z'), "{u}");
    assert!(u["last_sign_in_at"].is_string());
    assert_eq!(u["is_anonymous"], false);
    assert_eq!(u["identities"][0]["provider"], "email");
    assert_eq!(u["identities"][0]["identity_data"]["email"], e);
    let c = claims(t["access_token"].as_str().unwrap());
    assert_eq!(c["amr"][0]["method"], "password");
    assert_eq!(c["is_anonymous"], false);
    assert!(c["iss"].as_str().unwrap().ends_with("/auth/v1"));
    // ES256 with the JWKS kid by default.
    let (h, _) = authwire_devserver::jwt::decode_unverified(t["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(h.alg, "ES256");
    let jwks = ctx.req("GET", "/auth/v1/.well-known/jwks.json").send().await.json();
    assert_eq!(h.kid.as_deref(), jwks["keys"][0]["kid"].as_str());
    // The stored hash is bcrypt cost 10 in GoTrue's $2a$ form.
    let row = ctx.db.query_one("select encrypted_password from auth.users where email = $1", &[&e]).await.unwrap();
    assert!(row.get::<_, String>(0).starts_with("$2a$10$"));
    // The new password works.
    assert_eq!(ctx.password(&e, "hunter22").await.status, 200);
}

#[tokio::test]
async fn signup_errors() {
    let ctx = AUTH.shared().await;
    let e = email("dup");
    ctx.signup(&e, "hunter22").await;
    let r =
        ctx.anon("POST", "/auth/v1/signup").v2024().json(json!({ "email": e, "password": "hunter22" })).send().await;
    assert_eq!((r.status, r.code()), (422, "user_already_exists".into()), "{}", r.text);
    assert_eq!(r.json()["message"], "User already registered");
    let r = ctx
        .anon("POST", "/auth/v1/signup")
        .v2024()
        .json(json!({ "email": email("weak"), "password": "12345" }))
        .send()
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(
        r.json(),
        json!({ "code": "weak_password", "message": "Password should be at least 6 characters.",
                                 "weak_password": { "reasons": ["length"] } })
    );
    let r =
        ctx.anon("POST", "/auth/v1/signup").json(json!({ "email": email("weak"), "password": "12345" })).send().await;
    assert_eq!(r.json()["weak_password"]["reasons"], json!(["length"]));
    assert_eq!(r.json()["code"], 422);
    let r = ctx
        .anon("POST", "/auth/v1/signup")
        .v2024()
        .json(json!({ "email": "not-an-email", "password": "hunter22" }))
        .send()
        .await;
    assert_eq!((r.status, r.code()), (400, "validation_failed".into()));
    let r = ctx.anon("POST", "/auth/v1/signup").v2024().json(json!({ "email": email("nopw") })).send().await;
    assert_eq!((r.status, r.code()), (400, "validation_failed".into()));
    let r = ctx.anon("POST", "/auth/v1/signup").v2024().raw_body("{not json").send().await;
    assert_eq!((r.status, r.code()), (400, "bad_json".into()));
}

#[tokio::test]
async fn api_keys() {
    let ctx = AUTH.shared().await;
    // No key: the gateway's 401.
    let r = ctx.req("POST", "/auth/v1/signup").json(json!({})).send().await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["message"], "No API key found in request");
    let r = ctx.req("POST", "/auth/v1/signup").key("sb_publishable_wrong").json(json!({})).send().await;
    assert_eq!((r.status, r.json()["message"].clone()), (401, json!("Invalid API key")));
    let r = ctx.req("POST", "/auth/v1/signup").key("eyJhbGciOiJIUzI1NiJ9.e30.bad").json(json!({})).send().await;
    assert_eq!(r.status, 401);
    // Each project key works for key-level calls, in `apikey` alone too.
    for key in [&ctx.anon, &ctx.publishable, &ctx.service, &ctx.secret] {
        let r = ctx.req("POST", "/auth/v1/signup").header("apikey", key).json(json!({})).send().await;
        assert_eq!(r.status, 200, "{key:.20}: {}", r.text);
    }
    let r = ctx.req("POST", "/auth/v1/signup").bearer(&ctx.publishable).json(json!({})).send().await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn error_shapes() {
    let ctx = AUTH.shared().await;
    let body = json!({ "email": "alice@example.com", "password": "wrong-password" });
    let legacy = ctx.anon("POST", "/auth/v1/token?grant_type=password").json(body.clone()).send().await;
    assert_eq!(legacy.status, 400);
    assert_eq!(
        legacy.json(),
        json!({ "code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials" })
    );
    assert_eq!(legacy.header("x-sb-error-code"), Some("invalid_credentials"));
    assert_eq!(legacy.header("x-supabase-api-version"), None);
    let new = ctx.anon("POST", "/auth/v1/token?grant_type=password").v2024().json(body).send().await;
    assert_eq!(new.json(), json!({ "code": "invalid_credentials", "message": "Invalid login credentials" }));
    assert_eq!(new.header("x-supabase-api-version"), Some("2024-01-01"));
    assert_eq!(new.header("x-sb-error-code"), Some("invalid_credentials"));
    // OAuth-style error.
    let r = ctx.anon("POST", "/auth/v1/token?grant_type=refresh_token").v2024().json(json!({})).send().await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json(), json!({ "error": "invalid_request", "error_description": "refresh_token required" }));
    // Unknown grant.
    let r = ctx.anon("POST", "/auth/v1/token?grant_type=magic").v2024().json(json!({})).send().await;
    assert_eq!(r.json(), json!({ "code": "invalid_credentials", "message": "unsupported_grant_type" }));
}

#[tokio::test]
async fn anonymous_sign_in() {
    let ctx = AUTH.shared().await;
    let r = ctx.anon("POST", "/auth/v1/signup").json(json!({ "data": { "color": "blue" } })).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = r.json();
    check_session(&t, None);
    assert_eq!(t["user"]["is_anonymous"], true);
    assert_eq!(t["user"]["email"], "");
    assert_eq!(t["user"]["identities"], json!([]));
    assert_eq!(t["user"]["user_metadata"]["color"], "blue");
    let c = claims(t["access_token"].as_str().unwrap());
    assert_eq!(c["is_anonymous"], true);
    assert_eq!(c["role"], "authenticated");
    assert_eq!(c["amr"][0]["method"], "anonymous");
    // An anonymous user can refresh and read itself.
    let at = t["access_token"].as_str().unwrap();
    let me = ctx.user("GET", "/auth/v1/user", at).send().await;
    assert_eq!(me.json()["is_anonymous"], true);
    // Setting a password without an email is refused; with an email the user converts.
    let r = ctx.user("PUT", "/auth/v1/user", at).v2024().json(json!({ "password": "hunter22" })).send().await;
    assert_eq!((r.status, r.code()), (422, "validation_failed".into()), "{}", r.text);
    let e = email("converted");
    let r = ctx.user("PUT", "/auth/v1/user", at).json(json!({ "email": e, "password": "hunter22" })).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["is_anonymous"], false);
    assert_eq!(r.json()["email"], e);
    assert_eq!(ctx.password(&e, "hunter22").await.status, 200);
}

#[tokio::test]
async fn password_grant_with_seeded_user() {
    let ctx = AUTH.shared().await;
    // The demo users were hashed by pgcrypto's crypt(): bcrypt verification accepts them.
    let r = ctx.password("alice@example.com", "password123").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = r.json();
    check_session(&t, Some("alice@example.com"));
    assert_eq!(t["user"]["id"], "a11ce000-0000-4000-8000-000000000001");
    assert_eq!(t["user"]["user_metadata"]["name"], "Alice");
    assert!(t.get("weak_password").is_none());
    // Email is case-insensitive; the publishable key works as the key.
    let r = ctx
        .req("POST", "/auth/v1/token?grant_type=password")
        .key(&ctx.publishable)
        .json(json!({ "email": "Bob@Example.com", "password": "password123" }))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn password_grant_errors() {
    let ctx = AUTH.shared().await;
    for body in [
        json!({ "email": "alice@example.com", "password": "nope-nope" }),
        json!({ "email": "nobody@example.com", "password": "password123" }),
        json!({ "email": "alice@example.com" }),
    ] {
        let r = ctx.anon("POST", "/auth/v1/token?grant_type=password").v2024().json(body).send().await;
        assert_eq!((r.status, r.code()), (400, "invalid_credentials".into()), "{}", r.text);
    }
    let r =
        ctx.anon("POST", "/auth/v1/token?grant_type=password").v2024().json(json!({ "password": "x" })).send().await;
    assert_eq!((r.status, r.code()), (400, "validation_failed".into()));
    let r = ctx
        .anon("POST", "/auth/v1/token?grant_type=password")
        .v2024()
        .json(json!({ "email": "a@b.co", "phone": "123456789", "password": "x" }))
        .send()
        .await;
    assert_eq!((r.status, r.code()), (400, "validation_failed".into()));
}

#[tokio::test]
async fn wrong_password_rate_limit() {
    let ctx = AUTH.shared().await;
    let e = email("limited");
    ctx.signup(&e, "right-password").await;
    for i in 0..10 {
        let r = ctx.password(&e, "wrong-password").await;
        assert_eq!(r.status, 400, "attempt {i}: {}", r.text);
    }
    let r = ctx
        .anon("POST", "/auth/v1/token?grant_type=password")
        .v2024()
        .json(json!({ "email": e, "password": "right-password" }))
        .send()
        .await;
    assert_eq!((r.status, r.code()), (429, "over_request_rate_limit".into()), "{}", r.text);
    // Other addresses are not affected.
    assert_eq!(ctx.password("bob@example.com", "password123").await.status, 200);
}

async fn session_for(ctx: &Ctx, tag: &str) -> (String, Value) {
    let e = email(tag);
    let t = ctx.signup(&e, "hunter22").await;
    (e, t)
}

fn rt(v: &Value) -> String {
    v["refresh_token"].as_str().unwrap().to_owned()
}
fn at(v: &Value) -> String {
    v["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn refresh_rotates() {
    let ctx = AUTH.shared().await;
    let (e, t0) = session_for(&ctx, "rotate").await;
    let r = ctx.refresh(&rt(&t0)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t1 = r.json();
    check_session(&t1, Some(&e));
    assert_ne!(rt(&t1), rt(&t0));
    let (c0, c1) = (claims(&at(&t0)), claims(&at(&t1)));
    assert_eq!(c0["session_id"], c1["session_id"]);
    assert_eq!(c1["amr"][0]["method"], "password");
    assert!(r.header("sb-auth-session-id").is_some());
    // The chain goes on.
    let t2 = ctx.refresh(&rt(&t1)).await.json();
    assert_ne!(rt(&t2), rt(&t1));
    let row = ctx
        .db
        .query_one("select revoked, parent from auth.refresh_tokens where token = $1", &[&rt(&t2)])
        .await
        .unwrap();
    assert!(!row.get::<_, bool>(0));
    assert_eq!(row.get::<_, Option<String>>(1), Some(rt(&t1)));
}

#[tokio::test]
async fn refresh_parent_of_active_returns_active() {
    let ctx = AUTH.shared().await;
    let (_, t0) = session_for(&ctx, "parent").await;
    let t1 = ctx.refresh(&rt(&t0)).await.json();
    // Long after the reuse interval, the parent of the active token still gets the active one.
    ctx.db
        .execute("update auth.refresh_tokens set updated_at = now() - interval '1 hour' where token = $1", &[&rt(&t0)])
        .await
        .unwrap();
    let r = ctx.refresh(&rt(&t0)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(rt(&r.json()), rt(&t1));
    assert_eq!(r.header("sb-auth-refresh-token-reuse-cause"), Some("fail-to-save"));
    // And the active token still rotates normally.
    assert_eq!(ctx.refresh(&rt(&t1)).await.status, 200);
}

#[tokio::test]
async fn refresh_reuse_within_interval() {
    let ctx = AUTH.shared().await;
    let (_, t0) = session_for(&ctx, "reuse").await;
    let t1 = ctx.refresh(&rt(&t0)).await.json();
    let t2 = ctx.refresh(&rt(&t1)).await.json();
    // t0 is revoked and no longer the parent of the active token (t2's parent is t1); within
    // the 10 s interval it may still be used: a new token is issued.
    let r = ctx.refresh(&rt(&t0)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t3 = r.json();
    assert_ne!(rt(&t3), rt(&t2));
    assert_eq!(r.header("sb-auth-refresh-token-reuse-cause"), Some("concurrent-refresh"));
    assert_eq!(ctx.refresh(&rt(&t3)).await.status, 200);
}

#[tokio::test]
async fn refresh_reuse_outside_interval_revokes_family() {
    let ctx = AUTH.shared().await;
    let (_, t0) = session_for(&ctx, "family").await;
    let t1 = ctx.refresh(&rt(&t0)).await.json();
    let t2 = ctx.refresh(&rt(&t1)).await.json();
    ctx.db
        .execute(
            "update auth.refresh_tokens set updated_at = now() - interval '11 seconds' where token = $1",
            &[&rt(&t0)],
        )
        .await
        .unwrap();
    let r = ctx.refresh(&rt(&t0)).await;
    assert_eq!((r.status, r.code()), (400, "refresh_token_already_used".into()), "{}", r.text);
    assert_eq!(r.json()["message"], "Invalid Refresh Token: Already Used");
    // The whole family is revoked: the active token is now refused too (it is revoked and not
    // the parent of an active token, and revoked just now... within the interval it would
    // be reusable, so age it first).
    let active = ctx
        .db
        .query_one("select count(*) from auth.refresh_tokens where token = $1 and revoked", &[&rt(&t2)])
        .await
        .unwrap();
    assert_eq!(active.get::<_, i64>(0), 1);
    ctx.db
        .execute(
            "update auth.refresh_tokens set updated_at = now() - interval '1 minute' where token = $1",
            &[&rt(&t2)],
        )
        .await
        .unwrap();
    let r = ctx.refresh(&rt(&t2)).await;
    assert_eq!((r.status, r.code()), (400, "refresh_token_already_used".into()), "{}", r.text);
}

#[tokio::test]
async fn refresh_errors() {
    let ctx = AUTH.shared().await;
    let r = ctx.refresh("short").await;
    assert_eq!((r.status, r.code()), (400, "validation_failed".into()));
    let r = ctx.refresh("ABCDEFGHIJKL").await;
    assert_eq!((r.status, r.code()), (400, "validation_failed".into()));
    let r = ctx.refresh("zzzzzzzzzzzz").await;
    assert_eq!((r.status, r.code()), (400, "refresh_token_not_found".into()));
    assert_eq!(r.json()["message"], "Invalid Refresh Token: Refresh Token Not Found");
    // Session gone (signed out elsewhere) → the token is gone with it.
    let (_, t) = session_for(&ctx, "gone").await;
    let r = ctx.user("POST", "/auth/v1/logout?scope=local", &at(&t)).send().await;
    assert_eq!(r.status, 204);
    let r = ctx.refresh(&rt(&t)).await;
    assert_eq!((r.status, r.code()), (400, "refresh_token_not_found".into()));
    // A token whose session row disappeared without the cascade (a pre-session token).
    let (_, t) = session_for(&ctx, "nosession").await;
    ctx.db.execute("update auth.refresh_tokens set session_id = null where token = $1", &[&rt(&t)]).await.unwrap();
    let r = ctx.refresh(&rt(&t)).await;
    assert_eq!((r.status, r.code()), (400, "session_not_found".into()), "{}", r.text);
}

#[tokio::test]
async fn concurrent_refresh() {
    let ctx = AUTH.shared().await;
    let (_, t0) = session_for(&ctx, "concurrent").await;
    let token = rt(&t0);
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (c, t) = (ctx.ctx(), token.clone());
        tasks.push(tokio::spawn(async move { c.refresh(&t).await }));
    }
    let mut issued = std::collections::HashSet::new();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, 200, "{}", r.text);
        issued.insert(rt(&r.json()));
    }
    // Everyone got the one child of the presented token.
    assert_eq!(issued.len(), 1, "{issued:?}");
    let n = ctx.db.query_one("select count(*) from auth.refresh_tokens where parent = $1", &[&token]).await.unwrap();
    assert_eq!(n.get::<_, i64>(0), 1);
}

#[tokio::test]
async fn refresh_lock_contention_is_409() {
    let ctx = AUTH.shared().await;
    let (_, t0) = session_for(&ctx, "locked").await;
    let sid = claims(&at(&t0))["session_id"].as_str().unwrap().to_owned();
    let (mut other, conn) = ctx.server.database().connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let tx = other.transaction().await.unwrap();
    tx.execute("select 1 from auth.sessions where id = $1::text::uuid for update", &[&sid]).await.unwrap();
    let started = std::time::Instant::now();
    let r = ctx.refresh(&rt(&t0)).await;
    assert_eq!((r.status, r.code()), (409, "conflict".into()), "{}", r.text);
    assert!(started.elapsed() >= std::time::Duration::from_secs(5));
    tx.rollback().await.unwrap();
    assert_eq!(ctx.refresh(&rt(&t0)).await.status, 200);
}

#[tokio::test]
async fn get_and_update_user() {
    let ctx = AUTH.shared().await;
    let (e, t) = session_for(&ctx, "me").await;
    let r = ctx.user("GET", "/auth/v1/user", &at(&t)).send().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["email"], e);
    assert_eq!(r.json()["id"], t["user"]["id"]);
    // data merges; null removes.
    let r = ctx.user("PUT", "/auth/v1/user", &at(&t)).json(json!({ "data": { "a": 1, "b": 2 } })).send().await;
    assert_eq!(r.json()["user_metadata"], json!({ "a": 1, "b": 2 }));
    let r = ctx.user("PUT", "/auth/v1/user", &at(&t)).json(json!({ "data": { "a": null, "c": 3 } })).send().await;
    assert_eq!(r.json()["user_metadata"], json!({ "b": 2, "c": 3 }));
    // Password change.
    let r = ctx.user("PUT", "/auth/v1/user", &at(&t)).v2024().json(json!({ "password": "hunter22" })).send().await;
    assert_eq!((r.status, r.code()), (422, "same_password".into()));
    let r = ctx.user("PUT", "/auth/v1/user", &at(&t)).v2024().json(json!({ "password": "abc" })).send().await;
    assert_eq!((r.status, r.code()), (422, "weak_password".into()));
    let r = ctx.user("PUT", "/auth/v1/user", &at(&t)).json(json!({ "password": "new-secret" })).send().await;
    assert_eq!(r.status, 200);
    assert_eq!(ctx.password(&e, "hunter22").await.status, 400);
    assert_eq!(ctx.password(&e, "new-secret").await.status, 200);
    // Email change (autoconfirm) and a taken email.
    let e2 = email("me2");
    let r = ctx.user("PUT", "/auth/v1/user", &at(&t)).json(json!({ "email": e2 })).send().await;
    assert_eq!(r.json()["email"], e2);
    let r =
        ctx.user("PUT", "/auth/v1/user", &at(&t)).v2024().json(json!({ "email": "alice@example.com" })).send().await;
    assert_eq!((r.status, r.code()), (422, "email_exists".into()));
    let r = ctx
        .user("PUT", "/auth/v1/user", &at(&t))
        .v2024()
        .json(json!({ "app_metadata": { "admin": true } }))
        .send()
        .await;
    assert_eq!((r.status, r.code()), (403, "not_admin".into()));
    // Without a bearer token / with the anon key as bearer.
    let r = ctx.req("GET", "/auth/v1/user").header("apikey", &ctx.anon).v2024().send().await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(r.code(), "no_authorization");
    let r = ctx.anon("GET", "/auth/v1/user").v2024().send().await;
    assert_eq!((r.status, r.code()), (403, "bad_jwt".into()));
    let r = ctx.user("GET", "/auth/v1/user", "garbage").v2024().send().await;
    assert_eq!((r.status, r.code()), (403, "bad_jwt".into()));
}

#[tokio::test]
async fn logout_scopes() {
    let ctx = AUTH.shared().await;
    let e = email("logout");
    let a = ctx.signup(&e, "hunter22").await;
    let b = ctx.password(&e, "hunter22").await.json();
    let c = ctx.password(&e, "hunter22").await.json();
    let r = ctx.user("POST", "/auth/v1/logout?scope=nope", &at(&a)).v2024().send().await;
    assert_eq!((r.status, r.code()), (400, "validation_failed".into()));
    // others: b and c end, a stays.
    let r = ctx.user("POST", "/auth/v1/logout?scope=others", &at(&a)).send().await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(ctx.user("GET", "/auth/v1/user", &at(&a)).send().await.status, 200);
    for s in [&b, &c] {
        let r = ctx.user("GET", "/auth/v1/user", &at(s)).v2024().send().await;
        assert_eq!((r.status, r.code()), (403, "session_not_found".into()));
        assert_eq!(ctx.refresh(&rt(s)).await.code(), "refresh_token_not_found");
    }
    // local: only this session.
    let d = ctx.password(&e, "hunter22").await.json();
    let r = ctx.user("POST", "/auth/v1/logout?scope=local", &at(&d)).send().await;
    assert_eq!(r.status, 204);
    assert_eq!(ctx.user("GET", "/auth/v1/user", &at(&a)).send().await.status, 200);
    assert_eq!(ctx.user("GET", "/auth/v1/user", &at(&d)).send().await.status, 403);
    // global (the default): everything.
    let f = ctx.password(&e, "hunter22").await.json();
    let r = ctx.user("POST", "/auth/v1/logout", &at(&a)).send().await;
    assert_eq!(r.status, 204);
    assert!(r.text.is_empty());
    for s in [&a, &f] {
        let r = ctx.user("GET", "/auth/v1/user", &at(s)).v2024().send().await;
        assert_eq!(r.code(), "session_not_found");
        assert_eq!(ctx.refresh(&rt(s)).await.code(), "refresh_token_not_found");
    }
    let n = ctx
        .db
        .query_one(
            "select count(*) from auth.sessions s join auth.users u on u.id = s.user_id where u.email = $1",
            &[&e],
        )
        .await
        .unwrap();
    assert_eq!(n.get::<_, i64>(0), 0);
}

#[tokio::test]
async fn strict_sessions() {
    // Exclusive: the `tokenTtl` fault applies to the next token the server issues, anyone's.
    let ctx = AUTH.exclusive().await;
    // An expired token.
    let r = ctx
        .service("POST", "/_dev/faults")
        .json(json!({ "auth": { "tokenTtl": { "seconds": -10, "count": 1 } } }))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (_, t) = session_for(&ctx, "expired").await;
    assert!(t["expires_in"].as_i64().unwrap() < 0);
    let r = ctx.user("GET", "/auth/v1/user", &at(&t)).v2024().send().await;
    assert_eq!((r.status, r.code()), (403, "bad_jwt".into()));
    assert!(r.json()["message"].as_str().unwrap().contains("token is expired"), "{}", r.text);
    // The refresh token still works, and the next token is normal again.
    let t2 = ctx.refresh(&rt(&t)).await.json();
    assert_eq!(ctx.user("GET", "/auth/v1/user", &at(&t2)).send().await.status, 200);
    // A token signed with another key.
    let other = authwire_devserver::jwt::JwtKeys::new(
        b"another-secret-another-secret-another-secret",
        &authwire_devserver::jwt::JwtKeys::generate_es256_pkcs8().unwrap(),
        "k".into(),
    )
    .unwrap();
    let mut forged = claims(&at(&t2)).as_object().unwrap().clone();
    let bad = other.sign(authwire_devserver::jwt::Alg::Hs256, &forged).unwrap();
    let r = ctx.user("GET", "/auth/v1/user", &bad).v2024().send().await;
    assert_eq!((r.status, r.code()), (403, "bad_jwt".into()));
    // A correctly signed token (the project secret) for a user that does not exist.
    let project = authwire_devserver::jwt::JwtKeys::new(
        ctx.jwt_secret.as_bytes(),
        &authwire_devserver::jwt::JwtKeys::generate_es256_pkcs8().unwrap(),
        "k".into(),
    )
    .unwrap();
    forged.insert("sub".into(), json!("99999999-9999-4999-8999-999999999999"));
    let ghost = project.sign(authwire_devserver::jwt::Alg::Hs256, &forged).unwrap();
    let r = ctx.user("GET", "/auth/v1/user", &ghost).v2024().send().await;
    assert_eq!((r.status, r.code()), (403, "user_not_found".into()), "{}", r.text);
    assert_eq!(r.json()["message"], "User from sub claim in JWT does not exist");
    forged.insert("sub".into(), json!("not-a-uuid"));
    let r = ctx
        .user("GET", "/auth/v1/user", &project.sign(authwire_devserver::jwt::Alg::Hs256, &forged).unwrap())
        .v2024()
        .send()
        .await;
    assert_eq!((r.status, r.code()), (400, "bad_jwt".into()));
    // A real user, a session that does not exist.
    let mut forged = claims(&at(&t2)).as_object().unwrap().clone();
    forged.insert("session_id".into(), json!("99999999-9999-4999-8999-999999999999"));
    let r = ctx
        .user("GET", "/auth/v1/user", &project.sign(authwire_devserver::jwt::Alg::Hs256, &forged).unwrap())
        .v2024()
        .send()
        .await;
    assert_eq!((r.status, r.code()), (403, "session_not_found".into()));
    assert_eq!(r.json()["message"], "Session from session_id claim in JWT does not exist");
    // Deleted user.
    let (_, t) = session_for(&ctx, "deleted").await;
    let id = t["user"]["id"].as_str().unwrap();
    assert_eq!(ctx.service("DELETE", &format!("/auth/v1/admin/users/{id}")).send().await.status, 200);
    let r = ctx.user("GET", "/auth/v1/user", &at(&t)).v2024().send().await;
    assert_eq!((r.status, r.code()), (403, "user_not_found".into()));
    assert_eq!(ctx.refresh(&rt(&t)).await.code(), "refresh_token_not_found");
    // expireTokens: every token so far counts as expired; a refresh gives a working one.
    let (e, t) = session_for(&ctx, "expire-early").await;
    let r =
        ctx.service("POST", "/_dev/faults").json(json!({ "auth": { "expireTokens": { "email": e } } })).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = ctx.user("GET", "/auth/v1/user", &at(&t)).v2024().send().await;
    assert_eq!((r.status, r.code()), (403, "bad_jwt".into()));
    let t2 = ctx.refresh(&rt(&t)).await.json();
    assert_eq!(ctx.user("GET", "/auth/v1/user", &at(&t2)).send().await.status, 200);
    ctx.service("DELETE", "/_dev/faults").send().await;
}

#[tokio::test]
async fn admin_users() {
    let ctx = AUTH.shared().await;
    let e = email("admin");
    // Not with the anon key or a user token.
    let r = ctx.anon("POST", "/auth/v1/admin/users").v2024().json(json!({ "email": e })).send().await;
    assert_eq!((r.status, r.code()), (403, "not_admin".into()), "{}", r.text);
    let alice = ctx.password("alice@example.com", "password123").await.json();
    let r = ctx.user("GET", "/auth/v1/admin/users", &at(&alice)).v2024().send().await;
    assert_eq!((r.status, r.code()), (403, "not_admin".into()));
    // Create with each service credential.
    let r = ctx
        .service("POST", "/auth/v1/admin/users")
        .json(json!({ "email": e, "password": "hunter22", "email_confirm": true, "user_metadata": { "n": 1 },
                      "app_metadata": { "plan": "pro" } }))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let u = r.json();
    assert_eq!(u["email"], e);
    assert_eq!(u["app_metadata"]["plan"], "pro");
    assert_eq!(u["app_metadata"]["provider"], "email");
    assert!(u["email_confirmed_at"].is_string());
    let id = u["id"].as_str().unwrap().to_owned();
    assert_eq!(ctx.password(&e, "hunter22").await.status, 200);
    let r = ctx.req("POST", "/auth/v1/admin/users").key(&ctx.secret).v2024().json(json!({ "email": e })).send().await;
    assert_eq!((r.status, r.code()), (422, "email_exists".into()));
    let r = ctx.service("POST", "/auth/v1/admin/users").v2024().json(json!({})).send().await;
    assert_eq!((r.status, r.code()), (400, "validation_failed".into()));
    // Unconfirmed email cannot sign in with a password.
    let e2 = email("unconfirmed");
    ctx.service("POST", "/auth/v1/admin/users").json(json!({ "email": e2, "password": "hunter22" })).send().await;
    assert_eq!(ctx.password(&e2, "hunter22").await.code(), "email_not_confirmed");
    // Get, list, update, delete.
    let r = ctx.service("GET", &format!("/auth/v1/admin/users/{id}")).send().await;
    assert_eq!(r.json()["id"], id);
    let r = ctx.service("GET", "/auth/v1/admin/users/not-a-uuid").v2024().send().await;
    assert_eq!((r.status, r.code()), (404, "validation_failed".into()));
    let r = ctx.service("GET", "/auth/v1/admin/users/99999999-9999-4999-8999-999999999999").v2024().send().await;
    assert_eq!((r.status, r.code()), (404, "user_not_found".into()));
    let r = ctx.service("GET", "/auth/v1/admin/users?page=1&per_page=2").send().await;
    assert_eq!(r.json()["users"].as_array().unwrap().len(), 2);
    assert_eq!(r.json()["aud"], "authenticated");
    assert!(r.header("x-total-count").unwrap().parse::<i64>().unwrap() >= 3);
    let r = ctx
        .service("PUT", &format!("/auth/v1/admin/users/{id}"))
        .json(json!({ "user_metadata": { "n": 2 }, "app_metadata": { "plan": null }, "password": "changed!" }))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["user_metadata"]["n"], 2);
    assert!(r.json()["app_metadata"].get("plan").is_none());
    assert_eq!(ctx.password(&e, "changed!").await.status, 200);
    assert_eq!(ctx.service("DELETE", &format!("/auth/v1/admin/users/{id}")).send().await.json(), json!({}));
    let r = ctx.service("DELETE", &format!("/auth/v1/admin/users/{id}")).v2024().send().await;
    assert_eq!((r.status, r.code()), (404, "user_not_found".into()));
}

#[tokio::test]
async fn admin_ban() {
    let ctx = AUTH.shared().await;
    let (e, t) = session_for(&ctx, "banned").await;
    let id = t["user"]["id"].as_str().unwrap().to_owned();
    let r = ctx
        .service("PUT", &format!("/auth/v1/admin/users/{id}"))
        .v2024()
        .json(json!({ "ban_duration": "forever" }))
        .send()
        .await;
    assert_eq!((r.status, r.code()), (400, "validation_failed".into()));
    let r =
        ctx.service("PUT", &format!("/auth/v1/admin/users/{id}")).json(json!({ "ban_duration": "24h" })).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json()["banned_until"].is_string());
    let r = ctx.user("GET", "/auth/v1/user", &at(&t)).v2024().send().await;
    assert_eq!((r.status, r.code()), (403, "user_banned".into()));
    assert_eq!(r.json()["message"], "User is banned");
    let r = ctx.refresh(&rt(&t)).await;
    assert_eq!((r.status, r.code()), (400, "user_banned".into()));
    let r = ctx.password(&e, "hunter22").await;
    assert_eq!((r.status, r.code()), (400, "user_banned".into()));
    // GoTrue checks the ban before the password.
    let r = ctx.password(&e, "not-the-password").await;
    assert_eq!((r.status, r.code()), (400, "user_banned".into()));
    // Lifted.
    let r =
        ctx.service("PUT", &format!("/auth/v1/admin/users/{id}")).json(json!({ "ban_duration": "none" })).send().await;
    assert!(r.json().get("banned_until").is_none(), "{}", r.text);
    assert_eq!(ctx.user("GET", "/auth/v1/user", &at(&t)).send().await.status, 200);
    assert_eq!(ctx.refresh(&rt(&t)).await.status, 200);
}

#[tokio::test]
async fn settings_and_discovery() {
    let ctx = AUTH.shared().await;
    let r = ctx.anon("GET", "/auth/v1/settings").send().await;
    assert_eq!(r.status, 200);
    let s = r.json();
    assert_eq!(s["external"]["anonymous_users"], true);
    assert_eq!(s["external"]["email"], true);
    assert_eq!(s["mailer_autoconfirm"], true);
    let r = ctx.req("GET", "/auth/v1/.well-known/openid-configuration").send().await;
    let d = r.json();
    assert!(d["jwks_uri"].as_str().unwrap().ends_with("/auth/v1/.well-known/jwks.json"));
    assert_eq!(d["issuer"], format!("{}/auth/v1", ctx.server.url()));
    let r = ctx.req("GET", "/auth/v1/health").send().await;
    assert_eq!(r.json()["name"], "GoTrue");
}

fn pkce_pair() -> (String, String) {
    use base64::Engine as _;
    let verifier = format!("verifier-{}-0123456789abcdefghijklmnopqrstuvwxyz", email("v"));
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    (verifier, base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest))
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn query_of(location: &str, sep: char) -> std::collections::HashMap<String, String> {
    let part = location.split_once(sep).map(|(_, q)| q).unwrap_or("");
    let part = if sep == '?' { part.split('#').next().unwrap_or("") } else { part };
    form_urlencoded::parse(part.as_bytes()).into_owned().collect()
}

#[tokio::test]
async fn authorize_pkce() {
    let ctx = AUTH.shared().await;
    let (verifier, challenge) = pkce_pair();
    let e = email("oauth");
    let path = format!(
        "/auth/v1/authorize?provider=dev&redirect_to={}&code_challenge={challenge}&code_challenge_method=s256&login_hint={}",
        enc("http://localhost:5173/callback?next=%2Fhome"),
        enc(&e)
    );
    let r = ctx.req("GET", &path).send().await;
    assert_eq!(r.status, 303, "{}", r.text);
    let loc = r.header("location").unwrap().to_owned();
    assert!(loc.starts_with("http://localhost:5173/callback?next=%2Fhome&code="), "{loc}");
    let code = query_of(&loc, '?')["code"].clone();
    let r = ctx
        .anon("POST", "/auth/v1/token?grant_type=pkce")
        .json(json!({ "auth_code": code, "code_verifier": verifier }))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = r.json();
    check_session(&t, Some(&e));
    assert_eq!(t["user"]["app_metadata"]["provider"], "dev");
    assert_eq!(t["user"]["identities"][0]["provider"], "dev");
    assert_eq!(claims(&at(&t))["amr"][0]["method"], "oauth");
    // The code is single use.
    let r = ctx
        .anon("POST", "/auth/v1/token?grant_type=pkce")
        .v2024()
        .json(json!({ "auth_code": code, "code_verifier": verifier }))
        .send()
        .await;
    assert_eq!((r.status, r.code()), (404, "flow_state_not_found".into()));
    // Signing in again finds the same user; an existing email user gets the dev identity linked.
    let r = ctx.req("GET", &path).send().await;
    let code = query_of(r.header("location").unwrap(), '?')["code"].clone();
    let t2 = ctx
        .anon("POST", "/auth/v1/token?grant_type=pkce")
        .json(json!({ "auth_code": code, "code_verifier": verifier }))
        .send()
        .await
        .json();
    assert_eq!(t2["user"]["id"], t["user"]["id"]);
    let path = format!("/auth/v1/authorize?provider=dev&redirect_to={}&code_challenge=abc&code_challenge_method=plain&login_hint=bob%40example.com", enc("http://127.0.0.1:9/cb"));
    let r = ctx.req("GET", &path).send().await;
    let code = query_of(r.header("location").unwrap(), '?')["code"].clone();
    let t3 = ctx
        .anon("POST", "/auth/v1/token?grant_type=pkce")
        .json(json!({ "auth_code": code, "code_verifier": "abc" }))
        .send()
        .await
        .json();
    assert_eq!(t3["user"]["id"], "b0b00000-0000-4000-8000-000000000002");
    assert_eq!(t3["user"]["app_metadata"]["providers"], json!(["dev", "email"]));
    // Without login_hint: a form that comes back here.
    let r = ctx
        .req("GET", &format!("/auth/v1/authorize?provider=dev&redirect_to={}", enc("http://localhost/cb")))
        .send()
        .await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("name=\"login_hint\"") && r.text.contains("value=\"http://localhost/cb\""), "{}", r.text);
}

#[tokio::test]
async fn authorize_implicit_and_errors() {
    let ctx = AUTH.shared().await;
    let e = email("implicit");
    let r = ctx
        .req(
            "GET",
            &format!(
                "/auth/v1/authorize?provider=dev&redirect_to={}&login_hint={}",
                enc("http://localhost:3000/#old"),
                enc(&e)
            ),
        )
        .send()
        .await;
    assert_eq!(r.status, 303);
    let loc = r.header("location").unwrap();
    assert!(loc.starts_with("http://localhost:3000/#"), "{loc}");
    let f = query_of(loc, '#');
    for k in ["access_token", "refresh_token", "expires_in", "expires_at", "token_type", "sb"] {
        assert!(f.contains_key(k), "{k} missing in {loc}");
    }
    let me = ctx.user("GET", "/auth/v1/user", &f["access_token"]).send().await;
    assert_eq!(me.json()["email"], e);
    assert_eq!(ctx.refresh(&f["refresh_token"]).await.status, 200);
    // Non-loopback or missing redirect: a JSON error, no redirect.
    for bad in ["https://evil.example/cb", "http://localhost@evil.example/", ""] {
        let r = ctx
            .req("GET", &format!("/auth/v1/authorize?provider=dev&login_hint=a%40b.co&redirect_to={}", enc(bad)))
            .v2024()
            .send()
            .await;
        assert_eq!((r.status, r.code()), (400, "validation_failed".into()), "{bad}");
        assert!(r.header("location").is_none());
    }
    let r = ctx.req("GET", "/auth/v1/authorize?provider=github&redirect_to=http://localhost/").v2024().send().await;
    assert_eq!((r.status, r.code()), (400, "validation_failed".into()));
    // Provider refusal and a bad login_hint come back as error redirects.
    let r = ctx
        .req(
            "GET",
            &format!(
                "/auth/v1/authorize?provider=dev&redirect_to={}&code_challenge=x&error=access_denied",
                enc("http://localhost/cb")
            ),
        )
        .send()
        .await;
    let q = query_of(r.header("location").unwrap(), '?');
    assert_eq!((q["error"].as_str(), q["error_code"].as_str()), ("access_denied", "access_denied"));
    assert!(q.contains_key("error_description"));
    let r = ctx
        .req(
            "GET",
            &format!("/auth/v1/authorize?provider=dev&redirect_to={}&login_hint=nope", enc("http://localhost/cb")),
        )
        .send()
        .await;
    let f = query_of(r.header("location").unwrap(), '#');
    assert_eq!((f["error"].as_str(), f["error_code"].as_str()), ("invalid_request", "validation_failed"));
    // A banned user.
    let (e, t) = session_for(&ctx, "banned-oauth").await;
    let id = t["user"]["id"].as_str().unwrap();
    ctx.service("PUT", &format!("/auth/v1/admin/users/{id}")).json(json!({ "ban_duration": "1h" })).send().await;
    let r = ctx
        .req(
            "GET",
            &format!(
                "/auth/v1/authorize?provider=dev&redirect_to={}&login_hint={}",
                enc("http://localhost/cb"),
                enc(&e)
            ),
        )
        .send()
        .await;
    let f = query_of(r.header("location").unwrap(), '#');
    assert_eq!((f["error"].as_str(), f["error_code"].as_str()), ("access_denied", "user_banned"));
}

#[tokio::test]
async fn pkce_exchange_errors() {
    let ctx = AUTH.shared().await;
    let (verifier, challenge) = pkce_pair();
    let path = format!("/auth/v1/authorize?provider=dev&redirect_to={}&code_challenge={challenge}&code_challenge_method=s256&login_hint={}", enc("http://localhost/cb"), enc(&email("pkce-err")));
    let code = query_of(ctx.req("GET", &path).send().await.header("location").unwrap(), '?')["code"].clone();
    let r = ctx.anon("POST", "/auth/v1/token?grant_type=pkce").v2024().json(json!({ "auth_code": code })).send().await;
    assert_eq!((r.status, r.code()), (400, "validation_failed".into()));
    let r = ctx
        .anon("POST", "/auth/v1/token?grant_type=pkce")
        .v2024()
        .json(json!({ "auth_code": code, "code_verifier": "wrong" }))
        .send()
        .await;
    assert_eq!((r.status, r.code()), (400, "bad_code_verifier".into()));
    let r = ctx
        .anon("POST", "/auth/v1/token?grant_type=pkce")
        .v2024()
        .json(json!({ "auth_code": "nope", "code_verifier": verifier }))
        .send()
        .await;
    assert_eq!((r.status, r.code()), (404, "flow_state_not_found".into()));
    ctx.db.execute("update auth.flow_state set auth_code_issued_at = now() - interval '301 seconds', created_at = now() - interval '301 seconds' where auth_code = $1", &[&code]).await.unwrap();
    let r = ctx
        .anon("POST", "/auth/v1/token?grant_type=pkce")
        .v2024()
        .json(json!({ "auth_code": code, "code_verifier": verifier }))
        .send()
        .await;
    assert_eq!((r.status, r.code()), (422, "flow_state_expired".into()));
}

async fn mailbox(ctx: &Ctx, email: &str) -> Vec<Value> {
    let r = ctx.service("GET", &format!("/_dev/mail?email={}", enc(email))).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["messages"].as_array().unwrap().clone()
}

#[tokio::test]
async fn otp_via_mailbox() {
    let ctx = AUTH.shared().await;
    // /_dev/mail is service-role only.
    assert_eq!(ctx.anon("GET", "/_dev/mail?email=x%40y.z").send().await.status, 403);
    let e = email("otp");
    // create_user: false refuses an unknown address.
    let r = ctx.anon("POST", "/auth/v1/otp").v2024().json(json!({ "email": e, "create_user": false })).send().await;
    assert_eq!((r.status, r.code()), (422, "otp_disabled".into()));
    assert!(mailbox(&ctx, &e).await.is_empty());
    let r = ctx
        .anon("POST", "/auth/v1/otp?redirect_to=http%3A%2F%2Flocalhost%3A5173%2F")
        .json(json!({ "email": e, "data": { "via": "otp" } }))
        .send()
        .await;
    assert_eq!((r.status, r.json()), (200, json!({})), "{}", r.text);
    let mail = mailbox(&ctx, &e).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0]["kind"], "signup");
    let code = mail[0]["otp"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);
    assert!(mail[0]["link"].as_str().unwrap().contains("redirect_to=http%3A%2F%2Flocalhost%3A5173%2F"));
    let r =
        ctx.anon("POST", "/auth/v1/verify").json(json!({ "type": "email", "email": e, "token": code })).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = r.json();
    check_session(&t, Some(&e));
    assert_eq!(t["user"]["user_metadata"]["via"], "otp");
    assert!(t["user"]["email_confirmed_at"].is_string());
    assert_eq!(claims(&at(&t))["amr"][0]["method"], "otp");
    // The code is used up.
    let r = ctx
        .anon("POST", "/auth/v1/verify")
        .v2024()
        .json(json!({ "type": "email", "email": e, "token": code }))
        .send()
        .await;
    assert_eq!((r.status, r.code()), (403, "otp_expired".into()));
    assert_eq!(r.json()["message"], "Token has expired or is invalid");
    // A confirmed user gets a magic link; the emailed link signs in with a redirect.
    ctx.anon("POST", "/auth/v1/otp?redirect_to=http%3A%2F%2F127.0.0.1%3A5173%2Fwelcome")
        .json(json!({ "email": e }))
        .send()
        .await;
    let mail = mailbox(&ctx, &e).await;
    assert_eq!(mail[0]["kind"], "magiclink");
    let link = mail[0]["link"].as_str().unwrap();
    let path = &link[link.find("/auth/v1/verify").unwrap()..];
    let r = ctx.req("GET", path).send().await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(r.header("location").unwrap().starts_with("http://127.0.0.1:5173/welcome#"));
    let f = query_of(r.header("location").unwrap(), '#');
    assert_eq!(f["type"], "magiclink");
    assert_eq!(ctx.user("GET", "/auth/v1/user", &f["access_token"]).send().await.json()["email"], e);
    // Clicking it twice is an error redirect.
    let r = ctx.req("GET", path).send().await;
    let f = query_of(r.header("location").unwrap(), '#');
    assert_eq!((f["error"].as_str(), f["error_code"].as_str()), ("access_denied", "otp_expired"));
}

#[tokio::test]
async fn verify_types_and_errors() {
    let ctx = AUTH.shared().await;
    let (e, _) = session_for(&ctx, "recover").await;
    let r = ctx.anon("POST", "/auth/v1/recover").json(json!({ "email": e })).send().await;
    assert_eq!(r.status, 200);
    // Unknown addresses get the same answer and no mail.
    let ghost = email("ghost");
    assert_eq!(ctx.anon("POST", "/auth/v1/recover").json(json!({ "email": ghost })).send().await.status, 200);
    assert!(mailbox(&ctx, &ghost).await.is_empty());
    let mail = mailbox(&ctx, &e).await;
    assert_eq!(mail[0]["kind"], "recovery");
    // A wrong code, then the wrong type, then the right one by token_hash.
    let r = ctx
        .anon("POST", "/auth/v1/verify")
        .v2024()
        .json(json!({ "type": "recovery", "email": e, "token": "000000" }))
        .send()
        .await;
    let right = mail[0]["otp"].as_str().unwrap();
    if right != "000000" {
        assert_eq!((r.status, r.code()), (403, "otp_expired".into()));
    }
    let hash = mail[0]["tokenHash"].as_str().unwrap();
    let r =
        ctx.anon("POST", "/auth/v1/verify").v2024().json(json!({ "type": "signup", "token_hash": hash })).send().await;
    assert_eq!((r.status, r.code()), (403, "otp_expired".into()));
    let r = ctx.anon("POST", "/auth/v1/verify").json(json!({ "type": "recovery", "token_hash": hash })).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = r.json();
    // The recovered session can set a new password.
    let r = ctx.user("PUT", "/auth/v1/user", &at(&t)).json(json!({ "password": "recovered!" })).send().await;
    assert_eq!(r.status, 200);
    assert_eq!(ctx.password(&e, "recovered!").await.status, 200);
    // An old code is expired.
    ctx.anon("POST", "/auth/v1/otp").json(json!({ "email": e })).send().await;
    let code = mailbox(&ctx, &e).await[0]["otp"].as_str().unwrap().to_owned();
    ctx.db
        .execute(
            "update auth.one_time_tokens set created_at = created_at - interval '2 hours' where relates_to = $1",
            &[&e],
        )
        .await
        .unwrap();
    let r = ctx
        .anon("POST", "/auth/v1/verify")
        .v2024()
        .json(json!({ "type": "magiclink", "email": e, "token": code }))
        .send()
        .await;
    assert_eq!((r.status, r.code()), (403, "otp_expired".into()));
    // Validation.
    for body in [
        json!({ "email": e, "token": "1" }),
        json!({ "type": "email", "email": e }),
        json!({ "type": "nope", "email": e, "token": "1" }),
    ] {
        let r = ctx.anon("POST", "/auth/v1/verify").v2024().json(body.clone()).send().await;
        assert_eq!((r.status, r.code()), (400, "validation_failed".into()), "{body}");
    }
    let r = ctx.anon("POST", "/auth/v1/otp").v2024().json(json!({})).send().await;
    assert_eq!((r.status, r.code()), (400, "validation_failed".into()));
}

fn sign_hs256(secret: &str, claims: Value) -> String {
    let keys = authwire_devserver::jwt::JwtKeys::new(
        secret.as_bytes(),
        &authwire_devserver::jwt::JwtKeys::generate_es256_pkcs8().unwrap(),
        "k".into(),
    )
    .unwrap();
    keys.sign(authwire_devserver::jwt::Alg::Hs256, claims.as_object().unwrap()).unwrap()
}

fn unsigned(claims: Value) -> String {
    use base64::Engine as _;
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!("{}.{}.", b.encode(r#"{"alg":"none","typ":"JWT"}"#), b.encode(claims.to_string()))
}

#[tokio::test]
async fn id_token_grant() {
    let ctx = AUTH.shared().await;
    let e = email("idtoken");
    let sub = format!("dev-sub-{e}");
    let signed = sign_hs256(&ctx.jwt_secret, json!({ "sub": sub, "email": e, "name": "Ida", "nonce": "n-1" }));
    let r = ctx
        .anon("POST", "/auth/v1/token?grant_type=id_token")
        .json(json!({ "provider": "dev", "id_token": signed, "nonce": "n-1" }))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = r.json();
    check_session(&t, Some(&e));
    assert_eq!(t["user"]["user_metadata"]["name"], "Ida");
    // Unsigned dev tokens work too, and find the same identity.
    let r = ctx
        .anon("POST", "/auth/v1/token?grant_type=id_token")
        .json(json!({ "provider": "dev", "id_token": unsigned(json!({ "sub": sub })) }))
        .send()
        .await;
    assert_eq!(r.json()["user"]["id"], t["user"]["id"], "{}", r.text);
    // Refusals.
    let bad = [
        json!({ "provider": "dev", "id_token": sign_hs256("not-the-project-secret-not-the-project-secret", json!({ "sub": "x" })) }),
        json!({ "provider": "dev", "id_token": unsigned(json!({ "sub": "x", "exp": 1 })) }),
        json!({ "provider": "dev", "id_token": unsigned(json!({ "email": "x@y.zz" })) }),
        json!({ "provider": "dev", "id_token": signed, "nonce": "other" }),
        json!({ "provider": "dev", "id_token": "garbage" }),
    ];
    for body in bad {
        let r = ctx.anon("POST", "/auth/v1/token?grant_type=id_token").v2024().json(body.clone()).send().await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
    }
    let r = ctx
        .anon("POST", "/auth/v1/token?grant_type=id_token")
        .v2024()
        .json(json!({ "provider": "google", "id_token": signed }))
        .send()
        .await;
    assert_eq!((r.status, r.code()), (400, "validation_failed".into()));
}

#[tokio::test]
async fn refresh_faults() {
    // Exclusive: `failRefresh` and `delayToken` apply to every refresh and token request.
    let ctx = AUTH.exclusive().await;
    let (_, t) = session_for(&ctx, "faults").await;
    // Only the service role may set faults.
    let r = ctx.anon("POST", "/_dev/faults").json(json!({ "auth": { "failRefresh": { "count": 1 } } })).send().await;
    assert_eq!(r.status, 403);
    let r = ctx.service("POST", "/_dev/faults").json(json!({ "auth": { "failRefresh": { "cnt": 1 } } })).send().await;
    assert_eq!(r.status, 400);
    let r = ctx.service("POST", "/_dev/faults").json(json!({ "nope": {} })).send().await;
    assert_eq!(r.status, 400);
    let r = ctx
        .service("POST", "/_dev/faults")
        .json(json!({ "auth": { "failRefresh": { "count": 2, "status": 503 }, "delayToken": { "ms": 300, "count": 1 } } }))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["auth"]["failRefresh"]["count"], 2);
    let started = std::time::Instant::now();
    let r = ctx.refresh(&rt(&t)).await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    assert_eq!((r.status, r.code()), (503, "unexpected_failure".into()));
    assert_eq!(ctx.refresh(&rt(&t)).await.status, 503);
    // The token was not consumed.
    assert_eq!(ctx.refresh(&rt(&t)).await.status, 200);
    let r = ctx
        .service("POST", "/_dev/faults")
        .json(json!({ "auth": { "failRefresh": { "status": 418, "body": { "teapot": true } } } }))
        .send()
        .await;
    assert_eq!(r.status, 200);
    let r = ctx.refresh("whatever-token").await;
    assert_eq!((r.status, r.json()), (418, json!({ "teapot": true })));
    let r = ctx.service("DELETE", "/_dev/faults").send().await;
    assert_eq!(r.json()["auth"]["failRefresh"], Value::Null);
}

#[tokio::test]
async fn email_link_pkce() {
    let ctx = AUTH.shared().await;
    let (verifier, challenge) = pkce_pair();
    let e = email("link-pkce");
    let r = ctx
        .anon("POST", "/auth/v1/otp?redirect_to=http%3A%2F%2Flocalhost%3A5173%2Fauth%2Fcallback")
        .json(json!({ "email": e, "code_challenge": challenge, "code_challenge_method": "s256" }))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let link = mailbox(&ctx, &e).await[0]["link"].as_str().unwrap().to_owned();
    let r = ctx.req("GET", &link[link.find("/auth/v1/verify").unwrap()..]).send().await;
    assert_eq!(r.status, 303);
    let loc = r.header("location").unwrap();
    assert!(loc.starts_with("http://localhost:5173/auth/callback?code="), "{loc}");
    let code = query_of(loc, '?')["code"].clone();
    let r = ctx
        .anon("POST", "/auth/v1/token?grant_type=pkce")
        .json(json!({ "auth_code": code, "code_verifier": verifier }))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    check_session(&r.json(), Some(&e));
    assert_eq!(claims(&at(&r.json()))["amr"][0]["method"], "otp");
}
