//! Auth behaviour under non-default flags: `--jwt-alg HS256`, `--limits off`,
//! `--strict-sessions false`, `--refresh-reuse-interval 0`, `--token-ttl 5`.

mod common;

use common::{claims, email, wait_for, Fixture};
use serde_json::json;

/// The server these tests share, with the flags under test.
static FLAGS: Fixture = Fixture::new(
    "authwire-dev-auth-flags",
    |c| {
        c.jwt_alg = authwire_devserver::JwtAlg::Hs256;
        c.limits = false;
        c.strict_sessions = false;
        c.refresh_reuse_interval = 0;
        c.token_ttl = 5;
    },
    None,
);

#[tokio::test]
async fn hs256_tokens() {
    let ctx = FLAGS.shared().await;
    let t = ctx.signup(&email("hs"), "hunter22").await;
    let at = t["access_token"].as_str().unwrap();
    let (h, _) = authwire_devserver::jwt::decode_unverified(at).unwrap();
    assert_eq!((h.alg.as_str(), h.kid), ("HS256", None));
    assert_eq!(t["expires_in"], 5);
    let keys = authwire_devserver::jwt::JwtKeys::new(
        ctx.jwt_secret.as_bytes(),
        &authwire_devserver::jwt::JwtKeys::generate_es256_pkcs8().unwrap(),
        "k".into(),
    )
    .unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert_eq!(keys.verify(at, now).unwrap().role(), Some("authenticated"));
    assert_eq!(ctx.user("GET", "/auth/v1/user", at).send().await.status, 200);
}

#[tokio::test]
async fn limits_off() {
    let ctx = FLAGS.shared().await;
    let e = email("nolimit");
    ctx.signup(&e, "right-password").await;
    for _ in 0..12 {
        assert_eq!(ctx.password(&e, "wrong-password").await.status, 400);
    }
    assert_eq!(ctx.password(&e, "right-password").await.status, 200);
}

#[tokio::test]
async fn strict_sessions_off() {
    let ctx = FLAGS.shared().await;
    let t = ctx.signup(&email("lax"), "hunter22").await;
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(ctx.user("POST", "/auth/v1/logout", at).send().await.status, 204);
    // The session is gone, the token still works until it expires (like GoTrue without the
    // session check); the refresh token is gone.
    assert_eq!(ctx.user("GET", "/auth/v1/user", at).send().await.status, 200);
    let r = ctx.refresh(t["refresh_token"].as_str().unwrap()).await;
    assert_eq!(r.code(), "refresh_token_not_found");
    // Bans: tokens keep working on /user, refresh and sign-in are refused.
    let e = email("lax-ban");
    let t = ctx.signup(&e, "hunter22").await;
    let id = t["user"]["id"].as_str().unwrap();
    ctx.service("PUT", &format!("/auth/v1/admin/users/{id}")).json(json!({ "ban_duration": "1h" })).send().await;
    assert_eq!(ctx.user("GET", "/auth/v1/user", t["access_token"].as_str().unwrap()).send().await.status, 200);
    assert_eq!(ctx.refresh(t["refresh_token"].as_str().unwrap()).await.code(), "user_banned");
    // Deleted users are refused whatever the flag.
    ctx.service("DELETE", &format!("/auth/v1/admin/users/{id}")).send().await;
    let r = ctx.user("GET", "/auth/v1/user", t["access_token"].as_str().unwrap()).v2024().send().await;
    assert_eq!((r.status, r.code()), (403, "user_not_found".into()));
}

#[tokio::test]
async fn zero_reuse_interval() {
    let ctx = FLAGS.shared().await;
    let t0 = ctx.signup(&email("zero"), "hunter22").await;
    let rt0 = t0["refresh_token"].as_str().unwrap().to_owned();
    let t1 = ctx.refresh(&rt0).await.json();
    let rt1 = t1["refresh_token"].as_str().unwrap().to_owned();
    // The parent of the active token is still answered with the active token.
    assert_eq!(ctx.refresh(&rt0).await.json()["refresh_token"], rt1.as_str());
    let t2 = ctx.refresh(&rt1).await.json();
    assert_eq!(
        claims(t2["access_token"].as_str().unwrap())["session_id"],
        claims(t0["access_token"].as_str().unwrap())["session_id"]
    );
    // t0 is now neither active nor the active token's parent: with no reuse window the family dies.
    // (Once the database clock is past t0's revocation, the next grant's `now()` is too.)
    wait_for("the database clock to pass t0's revocation", std::time::Duration::from_secs(5), || async {
        let r = ctx
            .db
            .query_one("select clock_timestamp() > updated_at from auth.refresh_tokens where token = $1", &[&rt0])
            .await
            .unwrap();
        r.get::<_, bool>(0).then_some(())
    })
    .await;
    let r = ctx.refresh(&rt0).await;
    assert_eq!((r.status, r.code()), (400, "refresh_token_already_used".into()), "{}", r.text);
    assert_eq!(ctx.refresh(t2["refresh_token"].as_str().unwrap()).await.code(), "refresh_token_already_used");
}
