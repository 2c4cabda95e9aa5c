//! The PostgREST subset over real HTTP: RLS with two users, the query grammar, writes,
//! PostgREST's errors, injection attempts, and @supabase/postgrest-js when node is present.

mod common;

use common::{email, Ctx, Fixture};
use serde_json::{json, Value};

/// The server these tests share, with the REST fixture migration (`tests/fixtures/rest.sql`).
static REST: Fixture = Fixture::new(
    "authwire-dev-rest",
    |c| c.sql = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rest.sql")],
    None,
);

struct User {
    id: String,
    at: String,
}

async fn user(ctx: &Ctx, tag: &str) -> User {
    let t = ctx.signup(&email(tag), "hunter22").await;
    User { id: t["user"]["id"].as_str().unwrap().into(), at: t["access_token"].as_str().unwrap().into() }
}

#[tokio::test]
async fn rls_with_two_users() {
    // Exclusive: it compares two service-role reads of the whole `todos` table.
    let ctx = REST.exclusive().await;
    let (a, b) = (user(&ctx, "rls-a").await, user(&ctx, "rls-b").await);
    let r = ctx
        .user("POST", "/rest/v1/todos", &a.at)
        .header("Prefer", "return=representation")
        .json(json!([{ "title": "a1" }, { "title": "a2", "rank": 2 }]))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let rows = r.json();
    assert_eq!(rows.as_array().unwrap().len(), 2);
    assert_eq!(rows[0]["owner"], a.id.as_str());
    assert_eq!(rows[1]["rank"], 2);
    assert_eq!(rows[0]["done"], false);
    // Without return=representation: 201 and no body.
    let r = ctx.user("POST", "/rest/v1/todos", &b.at).json(json!({ "title": "b1" })).send().await;
    assert_eq!((r.status, r.text.as_str()), (201, ""));
    // Each sees only their own rows.
    let ra = ctx.user("GET", "/rest/v1/todos?select=title&order=title", &a.at).send().await.json();
    assert_eq!(ra, json!([{ "title": "a1" }, { "title": "a2" }]));
    let rb = ctx.user("GET", "/rest/v1/todos?select=title", &b.at).send().await.json();
    assert_eq!(rb, json!([{ "title": "b1" }]));
    // anon sees nothing and may not insert (401, as PostgREST answers anon).
    let r = ctx.anon("GET", "/rest/v1/todos").send().await;
    assert_eq!((r.status, r.json()), (200, json!([])));
    let r = ctx.anon("POST", "/rest/v1/todos").json(json!({ "title": "x", "owner": a.id })).send().await;
    assert_eq!((r.status, r.json()["code"].clone()), (401, json!("42501")), "{}", r.text);
    // b may not insert rows owned by a (403 with the policy message).
    let r = ctx.user("POST", "/rest/v1/todos", &b.at).json(json!({ "title": "forged", "owner": a.id })).send().await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.json()["code"], "42501");
    assert!(r.json()["message"].as_str().unwrap().contains("row-level security"));
    // b's update and delete of a's rows touch nothing.
    let id = rows[0]["id"].as_i64().unwrap();
    let r = ctx
        .user("PATCH", &format!("/rest/v1/todos?id=eq.{id}"), &b.at)
        .header("Prefer", "return=representation")
        .json(json!({ "title": "hacked" }))
        .send()
        .await;
    assert_eq!((r.status, r.json()), (200, json!([])));
    let r = ctx.user("DELETE", &format!("/rest/v1/todos?id=eq.{id}"), &b.at).send().await;
    assert_eq!(r.status, 204);
    let r = ctx.user("GET", &format!("/rest/v1/todos?id=eq.{id}&select=title"), &a.at).send().await;
    assert_eq!(r.json(), json!([{ "title": "a1" }]));
    // The service role (JWT or secret key) bypasses RLS.
    let n = ctx.service("GET", "/rest/v1/todos?select=id").send().await.json().as_array().unwrap().len();
    assert!(n >= 3);
    let r = ctx.req("GET", "/rest/v1/todos?select=id").key(&ctx.secret).send().await;
    assert_eq!(r.json().as_array().unwrap().len(), n);
    // The publishable key stands for anon.
    let r = ctx.req("GET", "/rest/v1/notices?select=id").key(&ctx.publishable).send().await;
    assert_eq!(r.json().as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn query_grammar() {
    let ctx = REST.shared().await;
    let get = |p: &str| ctx.anon("GET", p).send();
    assert_eq!(get("/rest/v1/notices?id=eq.2").await.json(), json!([{ "id": 2, "body": "world" }]));
    assert_eq!(
        get("/rest/v1/notices?select=id&id=in.(1,3)&order=id.desc").await.json(),
        json!([{ "id": 3 }, { "id": 1 }])
    );
    assert_eq!(get("/rest/v1/notices?select=id&id=not.in.(1,3)").await.json(), json!([{ "id": 2 }]));
    assert_eq!(get("/rest/v1/notices?select=id&id=gte.2&id=lt.3").await.json(), json!([{ "id": 2 }]));
    assert_eq!(get("/rest/v1/notices?select=id&body=is.null").await.json(), json!([{ "id": 3 }]));
    assert_eq!(get("/rest/v1/notices?select=id&body=ilike.*ORL*").await.json(), json!([{ "id": 2 }]));
    assert_eq!(get("/rest/v1/notices?select=id&body=neq.hello&order=id").await.json(), json!([{ "id": 2 }]));
    assert_eq!(
        get("/rest/v1/notices?select=n:id,text:body&id=eq.1").await.json(),
        json!([{ "n": 1, "text": "hello" }])
    );
    assert_eq!(
        get("/rest/v1/notices?select=id&order=body.desc.nullsfirst&limit=2").await.json(),
        json!([{ "id": 3 }, { "id": 2 }])
    );
    let r = get("/rest/v1/notices?select=id&order=id&limit=1&offset=1").await;
    assert_eq!(r.json(), json!([{ "id": 2 }]));
    assert_eq!(r.header("content-range"), Some("1-1/*"));
    let r = ctx.anon("GET", "/rest/v1/notices?select=id&limit=2").header("Prefer", "count=exact").send().await;
    assert_eq!(r.header("content-range"), Some("0-1/3"));
    let r = ctx.anon("HEAD", "/rest/v1/notices").header("Prefer", "count=exact").send().await;
    assert_eq!((r.status, r.header("content-range")), (200, Some("0-2/3")));
    // Single object.
    let r =
        ctx.anon("GET", "/rest/v1/notices?id=eq.1").header("Accept", "application/vnd.pgrst.object+json").send().await;
    assert_eq!(r.json(), json!({ "id": 1, "body": "hello" }));
    let r = ctx.anon("GET", "/rest/v1/notices").header("Accept", "application/vnd.pgrst.object+json").send().await;
    assert_eq!((r.status, r.json()["code"].clone()), (406, json!("PGRST116")));
    // The quoted "Mixed Case" column.
    let a = user(&ctx, "mixed").await;
    let r = ctx
        .user("POST", "/rest/v1/todos?select=Mixed%20Case", &a.at)
        .header("Prefer", "return=representation")
        .json(json!({ "title": "m", "Mixed Case": "yes" }))
        .send()
        .await;
    assert_eq!(r.json(), json!([{ "Mixed Case": "yes" }]), "{}", r.text);
    let r = ctx.user("GET", "/rest/v1/todos?select=title&Mixed%20Case=eq.yes", &a.at).send().await;
    assert_eq!(r.json(), json!([{ "title": "m" }]));
}

#[tokio::test]
async fn writes() {
    let ctx = REST.shared().await;
    let a = user(&ctx, "writes").await;
    let post = |body: Value| {
        ctx.user("POST", "/rest/v1/todos", &a.at).header("Prefer", "return=representation").json(body).send()
    };
    let rows = post(json!([{ "title": "w1", "rank": 1 }, { "title": "w2" }])).await.json();
    let (id1, id2) = (rows[0]["id"].as_i64().unwrap(), rows[1]["id"].as_i64().unwrap());
    // Array with differing keys: missing keys are null (rank), like PostgREST.
    assert_eq!(rows[1]["rank"], Value::Null);
    // PATCH with filters, with and without representation.
    let r = ctx.user("PATCH", &format!("/rest/v1/todos?id=eq.{id1}"), &a.at).json(json!({ "done": true })).send().await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = ctx
        .user("PATCH", &format!("/rest/v1/todos?id=in.({id1},{id2})&select=id,done"), &a.at)
        .header("Prefer", "return=representation")
        .json(json!({ "rank": 7 }))
        .send()
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json().as_array().unwrap().len(), 2);
    // Upsert: merge and ignore.
    let r = ctx
        .user("POST", "/rest/v1/todos", &a.at)
        .header("Prefer", "return=representation,resolution=merge-duplicates")
        .json(json!({ "id": id1, "title": "w1 merged" }))
        .send()
        .await;
    assert_eq!(r.json()[0]["title"], "w1 merged", "{}", r.text);
    let r = ctx
        .user("POST", "/rest/v1/todos?on_conflict=id", &a.at)
        .header("Prefer", "return=representation,resolution=ignore-duplicates")
        .json(json!({ "id": id1, "title": "ignored" }))
        .send()
        .await;
    assert_eq!(r.json(), json!([]));
    // Unfiltered update/delete are refused (pg-safeupdate, as on Supabase).
    let r = ctx.user("PATCH", "/rest/v1/todos", &a.at).json(json!({ "done": false })).send().await;
    assert_eq!((r.status, r.json()["code"].clone()), (400, json!("21000")));
    let r = ctx.user("DELETE", "/rest/v1/todos", &a.at).send().await;
    assert_eq!((r.status, r.json()["code"].clone()), (400, json!("21000")));
    // DELETE with representation.
    let r = ctx
        .user("DELETE", &format!("/rest/v1/todos?id=eq.{id2}&select=title"), &a.at)
        .header("Prefer", "return=representation")
        .send()
        .await;
    assert_eq!((r.status, r.json()), (200, json!([{ "title": "w2" }])));
    // A single-object write that does not match one row is rolled back.
    let r = ctx
        .user("PATCH", &format!("/rest/v1/todos?id=in.({id1},{id2})"), &a.at)
        .header("Prefer", "return=representation")
        .header("Accept", "application/vnd.pgrst.object+json")
        .json(json!({ "title": "x" }))
        .send()
        .await;
    assert_eq!(r.status, 200, "one row matches: {}", r.text);
    let r = ctx
        .user("DELETE", "/rest/v1/todos?done=is.false", &a.at)
        .header("Prefer", "return=representation")
        .header("Accept", "application/vnd.pgrst.object+json")
        .send()
        .await;
    let remaining = ctx.user("GET", "/rest/v1/todos?select=id", &a.at).send().await.json();
    if r.status == 406 {
        assert!(!remaining.as_array().unwrap().is_empty());
    }
    // The service role writes where RLS would refuse.
    let r = ctx
        .service("POST", "/rest/v1/notices_w")
        .header("Prefer", "return=representation")
        .json(json!({ "id": 9, "body": "svc" }))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = ctx.anon("POST", "/rest/v1/notices_w").json(json!({ "id": 10, "body": "anon" })).send().await;
    assert_eq!(r.status, 401);
    let r = ctx.service("POST", "/rest/v1/notices_w").json(json!({ "id": 9, "body": "dup" })).send().await;
    assert_eq!((r.status, r.json()["code"].clone()), (409, json!("23505")));
    ctx.service("DELETE", "/rest/v1/notices_w?id=eq.9").send().await;
}

#[tokio::test]
async fn errors() {
    // Exclusive: the `tokenTtl` fault applies to the next token the server issues, anyone's.
    let ctx = REST.exclusive().await;
    let r = ctx.anon("GET", "/rest/v1/nope").send().await;
    assert_eq!(r.status, 404);
    let j = r.json();
    assert_eq!(j["code"], "PGRST205");
    assert_eq!(j["message"], "Could not find the table 'public.nope' in the schema cache");
    for k in ["code", "details", "hint", "message"] {
        assert!(j.get(k).is_some(), "{k}");
    }
    let r = ctx.anon("GET", "/rest/v1/notices?id=foo.1").send().await;
    assert_eq!((r.status, r.json()["code"].clone()), (400, json!("PGRST100")));
    let r = ctx.anon("GET", "/rest/v1/notices?order=id.sideways").send().await;
    assert_eq!((r.status, r.json()["code"].clone()), (400, json!("PGRST100")));
    let r = ctx.anon("GET", "/rest/v1/notices?select=nope").send().await;
    assert_eq!((r.status, r.json()["code"].clone()), (400, json!("42703")));
    let r = ctx.anon("GET", "/rest/v1/notices?id=eq.abc").send().await;
    assert_eq!((r.status, r.json()["code"].clone()), (400, json!("22P02")));
    let r = ctx.service("POST", "/rest/v1/notices").raw_body("{oops").send().await;
    assert_eq!((r.status, r.json()["code"].clone()), (400, json!("PGRST102")));
    let r = ctx.service("POST", "/rest/v1/notices").json(json!({ "id": 11, "nope": 1 })).send().await;
    assert_eq!((r.status, r.json()["code"].clone()), (400, json!("PGRST204")));
    let r = ctx.anon("GET", "/rest/v1/notices").header("Accept-Profile", "private").send().await;
    assert_eq!((r.status, r.json()["code"].clone()), (406, json!("PGRST106")));
    // Credentials.
    let r = ctx.req("GET", "/rest/v1/notices").send().await;
    assert_eq!(r.status, 401);
    let r = ctx.req("GET", "/rest/v1/notices").header("apikey", &ctx.anon).bearer("not.a.jwt").send().await;
    assert_eq!((r.status, r.json()["code"].clone()), (401, json!("PGRST301")));
    ctx.service("POST", "/_dev/faults")
        .json(json!({ "auth": { "tokenTtl": { "seconds": -1, "count": 1 } } }))
        .send()
        .await;
    let expired = user(&ctx, "rest-expired").await;
    let r = ctx.user("GET", "/rest/v1/notices", &expired.at).send().await;
    assert_eq!((r.status, r.json()["code"].clone()), (401, json!("PGRST303")));
    // A JWT with a role authenticator may not assume.
    let keys = authwire_devserver::jwt::JwtKeys::new(
        ctx.jwt_secret.as_bytes(),
        &authwire_devserver::jwt::JwtKeys::generate_es256_pkcs8().unwrap(),
        "k".into(),
    )
    .unwrap();
    let claims = json!({ "role": "postgres", "exp": 4_000_000_000i64 });
    let t = keys.sign(authwire_devserver::jwt::Alg::Hs256, claims.as_object().unwrap()).unwrap();
    let r = ctx.user("GET", "/rest/v1/notices", &t).send().await;
    assert_eq!((r.status, r.json()["code"].clone()), (401, json!("42501")), "{}", r.text);
}

#[tokio::test]
async fn claims_reach_sql() {
    let ctx = REST.shared().await;
    let e = email("whoami");
    let t = ctx.signup(&e, "hunter22").await;
    let at = t["access_token"].as_str().unwrap();
    let r = ctx.user("GET", "/rest/v1/whoami", at).send().await;
    assert_eq!(
        r.json(),
        json!([{ "uid": t["user"]["id"], "role": "authenticated", "email": e, "db_role": "authenticated" }]),
        "{}",
        r.text
    );
    let r = ctx.anon("GET", "/rest/v1/whoami").send().await.json();
    // A pooled connection that once had the setting reads it back as '' (as with PostgREST).
    assert!(r[0]["email"].is_null() || r[0]["email"] == "", "{r}");
    assert_eq!((&r[0]["uid"], &r[0]["role"], &r[0]["db_role"]), (&Value::Null, &json!("anon"), &json!("anon")));
}

#[tokio::test]
async fn injection_attempts_are_harmless() {
    let ctx = REST.shared().await;
    let attempts = [
        "/rest/v1/notices_i%3Bdrop%20table%20notices_i",
        "/rest/v1/notices_i%22%3B%20drop%20table%20notices_i%3B%20--",
        "/rest/v1/notices_i?select=id%3Bdrop%20table%20notices_i",
        "/rest/v1/notices_i?select=id,body%22)%20from%20notices_i%3Bdrop%20table%20notices_i%3B--",
        "/rest/v1/notices_i?id=eq.1%3Bdrop%20table%20notices_i",
        "/rest/v1/notices_i?id=eq.1'%20or%20'1'='1",
        "/rest/v1/notices_i?body=eq.x'%3B%20drop%20table%20notices_i%3B%20--",
        "/rest/v1/notices_i?body=in.(a,b)%3Bdrop%20table%20notices_i",
        "/rest/v1/notices_i?body=in.(%22a%22)%3B%20drop%20table%20notices_i",
        "/rest/v1/notices_i?order=id%3Bdrop%20table%20notices_i",
        "/rest/v1/notices_i?order=id.desc%3Bdrop",
        "/rest/v1/notices_i?id%3D1%20or%201%3D1=eq.1",
        "/rest/v1/notices_i?limit=1%3Bdrop%20table%20notices_i",
        "/rest/v1/notices_i?body=like.%25'%20or%201=1--",
        "/rest/v1/pg_catalog.pg_authid",
        "/rest/v1/..%2Fauth.users",
    ];
    for path in attempts {
        let r = ctx.anon("GET", path).send().await;
        assert!(
            r.status == 200 && r.json().as_array().is_some_and(|a| a.is_empty()) || r.status >= 400,
            "{path}: {} {}",
            r.status,
            r.text
        );
        assert!(r.status < 500, "{path}: {} {}", r.status, r.text);
    }
    let r = ctx
        .service("POST", "/rest/v1/notices_i")
        .json(json!({ "id": 20, "body\"); drop table notices_i; --": "x" }))
        .send()
        .await;
    assert_eq!(r.status, 400);
    let r = ctx
        .service("POST", "/rest/v1/notices_i?columns=id,body%22)%3Bdrop%20table%20notices_i%3B--")
        .json(json!({ "id": 21 }))
        .send()
        .await;
    assert_eq!(r.status, 400);
    let r = ctx
        .service("POST", "/rest/v1/notices_i")
        .header("Prefer", "return=representation")
        .json(json!({ "id": 22, "body": "'); drop table notices; --" }))
        .send()
        .await;
    assert_eq!(r.json()[0]["body"], "'); drop table notices; --");
    // Still there, with its rows; auth.users is not reachable through /rest/v1.
    let r = ctx.anon("GET", "/rest/v1/notices_i?select=id&id=lt.4").send().await;
    assert_eq!(r.json().as_array().unwrap().len(), 3, "{}", r.text);
    let n = ctx.db.query_one("select count(*) from public.notices_i", &[]).await.unwrap();
    assert!(n.get::<_, i64>(0) >= 4);
    let r = ctx.service("GET", "/rest/v1/users").send().await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn postgrest_js() {
    let ctx = REST.shared().await;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/postgrest.mjs");
    let has_client =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/@supabase/postgrest-js").exists();
    if std::process::Command::new("node").arg("--version").output().is_err() || !has_client {
        eprintln!("postgrest_js: skipped (node or node_modules/@supabase/postgrest-js missing)");
        return;
    }
    let a = user(&ctx, "postgrest-js").await;
    let args = [format!("{}/rest/v1", ctx.server.url()), ctx.anon.clone(), a.at.clone(), a.id.clone()];
    let out = tokio::task::spawn_blocking(move || std::process::Command::new("node").arg(&script).args(args).output())
        .await
        .unwrap()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.contains("postgrest-js ok"), "{text}");
}
