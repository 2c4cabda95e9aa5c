//! The account endpoints behind supabase-js's `resend`, `reauthenticate` and `mfa.unenroll`
//! (`POST /resend`, `GET /reauthenticate`, `DELETE /factors/{id}`) on a real server and
//! PostgreSQL: GoTrue's bodies, statuses, codes and messages, and the mail they leave in the
//! dev mailbox.

mod common;

use common::{email, Ctx, Fixture};
use serde_json::{json, Value};

/// The server these tests share.
static ACCOUNT: Fixture = Fixture::new("authwire-dev-auth-account", |_| {}, None);

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn mailbox(ctx: &Ctx, email: &str) -> Vec<Value> {
    let r = ctx.service("GET", &format!("/_dev/mail?email={}", enc(email))).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["messages"].as_array().unwrap().clone()
}

/// An unconfirmed user: an email OTP for a new address creates one (and mails a signup code).
async fn unconfirmed(ctx: &Ctx, tag: &str) -> String {
    let e = email(tag);
    let r = ctx.anon("POST", "/auth/v1/otp").json(json!({ "email": e })).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    e
}

async fn resend(ctx: &Ctx, path: &str, body: Value) -> common::Resp {
    ctx.anon("POST", path).v2024().json(body).send().await
}

#[tokio::test]
async fn resend_mails_a_new_signup_code() {
    let ctx = ACCOUNT.shared().await;
    let e = unconfirmed(&ctx, "resend").await;
    let first = mailbox(&ctx, &e).await[0]["otp"].as_str().unwrap().to_owned();
    let r = resend(
        &ctx,
        "/auth/v1/resend?redirect_to=http%3A%2F%2Flocalhost%3A5173%2Fwelcome",
        json!({ "type": "signup", "email": e, "gotrue_meta_security": {} }),
    )
    .await;
    assert_eq!((r.status, r.json()), (200, json!({})), "{}", r.text);
    let mail = mailbox(&ctx, &e).await;
    assert_eq!(mail.len(), 2);
    assert_eq!((mail[0]["kind"].as_str(), mail[0]["subject"].as_str()), (Some("signup"), Some("Confirm your signup")));
    assert!(mail[0]["link"].as_str().unwrap().contains("redirect_to=http%3A%2F%2Flocalhost%3A5173%2Fwelcome"));
    let code = mail[0]["otp"].as_str().unwrap().to_owned();
    // One code per user and kind: the resent one replaced the first.
    if code != first {
        let r = ctx
            .anon("POST", "/auth/v1/verify")
            .v2024()
            .json(json!({ "type": "signup", "email": e, "token": first }))
            .send()
            .await;
        assert_eq!((r.status, r.code()), (403, "otp_expired".into()));
    }
    let r =
        ctx.anon("POST", "/auth/v1/verify").json(json!({ "type": "signup", "email": e, "token": code })).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json()["user"]["email_confirmed_at"].is_string());
}

#[tokio::test]
async fn resend_answers_empty_without_mail_when_nothing_is_pending() {
    let ctx = ACCOUNT.shared().await;
    // A confirmed user, an unknown address, an email change that is not pending: `{}`, no mail.
    let e = email("confirmed");
    ctx.signup(&e, "hunter22").await;
    let nobody = email("nobody");
    for (kind, address) in [("signup", &e), ("signup", &nobody), ("email_change", &e)] {
        let r = resend(&ctx, "/auth/v1/resend", json!({ "type": kind, "email": address })).await;
        assert_eq!((r.status, r.json()), (200, json!({})), "{kind} {address}: {}", r.text);
    }
    assert!(mailbox(&ctx, &e).await.is_empty());
    assert!(mailbox(&ctx, &nobody).await.is_empty());
}

#[tokio::test]
async fn resend_validates_as_gotrue() {
    let ctx = ACCOUNT.shared().await;
    let e = email("invalid");
    let cases = [
        (
            json!({ "email": e }),
            400,
            "validation_failed",
            "Missing one of these types: signup, email_change, sms, phone_change",
        ),
        (
            json!({ "type": "magiclink", "email": e }),
            400,
            "validation_failed",
            "Missing one of these types: signup, email_change, sms, phone_change",
        ),
        (json!({ "type": "signup" }), 400, "validation_failed", "Type provided requires an email address"),
        (json!({ "type": "sms" }), 400, "validation_failed", "Type provided requires a phone number"),
        (
            json!({ "type": "signup", "email": e, "phone": "+15555550100" }),
            400,
            "validation_failed",
            "Only an email address or phone number should be provided.",
        ),
        (
            json!({ "type": "sms", "phone": "+15555550100" }),
            400,
            "phone_provider_disabled",
            "Phone logins are disabled",
        ),
        (
            json!({ "type": "signup", "email": e, "code_challenge": "abc" }),
            400,
            "validation_failed",
            "PKCE flow requires code_challenge_method and code_challenge",
        ),
    ];
    for (body, status, code, message) in cases {
        let r = resend(&ctx, "/auth/v1/resend", body.clone()).await;
        assert_eq!((r.status, r.code()), (status, code.to_owned()), "{body}: {}", r.text);
        assert_eq!(r.json()["message"], message, "{body}");
    }
    let r = resend(&ctx, "/auth/v1/resend", json!({ "type": "signup", "email": "not-an-address" })).await;
    assert_eq!((r.status, r.code()), (400, "validation_failed".into()), "{}", r.text);
    // Key-level like every mailing endpoint.
    let r = ctx.req("POST", "/auth/v1/resend").json(json!({ "type": "signup", "email": e })).send().await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn resend_with_pkce_links_to_a_code() {
    let ctx = ACCOUNT.shared().await;
    use base64::Engine as _;
    let verifier = format!("verifier-{}-0123456789abcdefghijklmnopqrstuvwxyz", email("v"));
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()));
    let e = unconfirmed(&ctx, "resend-pkce").await;
    let r = resend(
        &ctx,
        "/auth/v1/resend?redirect_to=http%3A%2F%2Flocalhost%3A5173%2Fcb",
        json!({ "type": "signup", "email": e, "code_challenge": challenge, "code_challenge_method": "s256" }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let link = mailbox(&ctx, &e).await[0]["link"].as_str().unwrap().to_owned();
    let r = ctx.req("GET", &link[link.find("/auth/v1/verify").unwrap()..]).send().await;
    assert_eq!(r.status, 303);
    let loc = r.header("location").unwrap().to_owned();
    assert!(loc.starts_with("http://localhost:5173/cb?code="), "{loc}");
    let code: String = form_urlencoded::parse(loc.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let r = ctx
        .anon("POST", "/auth/v1/token?grant_type=pkce")
        .json(json!({ "auth_code": code, "code_verifier": verifier }))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["user"]["email"], e);
}

#[tokio::test]
async fn reauthenticate_mails_a_nonce() {
    let ctx = ACCOUNT.shared().await;
    let e = email("reauth");
    let t = ctx.signup(&e, "hunter22").await;
    let at = t["access_token"].as_str().unwrap();
    let r = ctx.user("GET", "/auth/v1/reauthenticate", at).v2024().send().await;
    assert_eq!((r.status, r.json()), (200, json!({})), "{}", r.text);
    let mail = mailbox(&ctx, &e).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0]["kind"], "reauthentication");
    assert_eq!(mail[0]["subject"], "Confirm reauthentication");
    assert!(mail[0]["link"].is_null(), "GoTrue's reauthentication mail has the code only");
    let nonce = mail[0]["otp"].as_str().unwrap().to_owned();
    assert_eq!(nonce.len(), 6);
    // Recorded as GoTrue records it: the hash on the user, and a one-time token.
    let id = t["user"]["id"].as_str().unwrap().to_owned();
    let row = ctx
        .db
        .query_one(
            "select reauthentication_token, reauthentication_sent_at is not null,
               (select count(*) from auth.one_time_tokens o where o.user_id = u.id and o.token_type = 'reauthentication_token')
             from auth.users u where id = $1::text::uuid",
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), mail[0]["tokenHash"].as_str().unwrap());
    assert!(row.get::<_, bool>(1));
    assert_eq!(row.get::<_, i64>(2), 1);
    // With GoTrue's defaults the password change does not ask for it, and accepts it.
    let r = ctx.user("PUT", "/auth/v1/user", at).json(json!({ "password": "hunter23", "nonce": nonce })).send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ctx.password(&e, "hunter23").await.status, 200);
}

#[tokio::test]
async fn reauthenticate_refusals() {
    let ctx = ACCOUNT.shared().await;
    let r = ctx.anon("GET", "/auth/v1/reauthenticate").v2024().send().await;
    assert_eq!(r.status, 403, "the project key is no user: {}", r.text);
    let r = ctx.req("GET", "/auth/v1/reauthenticate").header("apikey", &ctx.anon).v2024().send().await;
    assert_eq!((r.status, r.code()), (401, "no_authorization".into()));
    let anon = ctx.anon("POST", "/auth/v1/signup").json(json!({})).send().await.json();
    let r = ctx.user("GET", "/auth/v1/reauthenticate", anon["access_token"].as_str().unwrap()).v2024().send().await;
    assert_eq!((r.status, r.code()), (400, "validation_failed".into()));
    assert_eq!(r.json()["message"], "Reauthentication requires the user to have an email or a phone number");
}

#[tokio::test]
async fn unenroll_without_factors() {
    let ctx = ACCOUNT.shared().await;
    let t = ctx.signup(&email("mfa"), "hunter22").await;
    let at = t["access_token"].as_str().unwrap();
    let r = ctx.user("DELETE", "/auth/v1/factors/00000000-0000-4000-8000-000000000000", at).v2024().send().await;
    assert_eq!((r.status, r.code()), (404, "mfa_factor_not_found".into()), "{}", r.text);
    assert_eq!(r.json()["message"], "Factor not found");
    let r = ctx.user("DELETE", "/auth/v1/factors/not-a-uuid", at).v2024().send().await;
    assert_eq!((r.status, r.code()), (404, "validation_failed".into()));
    assert_eq!(r.json()["message"], "factor_id must be an UUID");
    // Anonymous users may not touch factors; the project key is not a user.
    let anon = ctx.anon("POST", "/auth/v1/signup").json(json!({})).send().await.json();
    let r = ctx
        .user("DELETE", "/auth/v1/factors/00000000-0000-4000-8000-000000000000", anon["access_token"].as_str().unwrap())
        .v2024()
        .send()
        .await;
    assert_eq!((r.status, r.code()), (403, "no_authorization".into()));
    assert_eq!(r.json()["message"], "Anonymous user not allowed to perform these actions");
    let r = ctx.anon("DELETE", "/auth/v1/factors/00000000-0000-4000-8000-000000000000").v2024().send().await;
    assert_eq!((r.status, r.code()), (403, "bad_jwt".into()));
    // The legacy error shape, as every endpoint.
    let r = ctx.user("DELETE", "/auth/v1/factors/00000000-0000-4000-8000-000000000000", at).send().await;
    assert_eq!(r.json()["error_code"], "mfa_factor_not_found");
    assert_eq!(r.json()["code"], 404);
}
