//! Realtime token handling against one devserver in raw mode (`--mode raw`, strict sessions
//! on): handshake bodies, join-time token errors, `access_token`, the expiry timer, strict
//! sessions, private channels through RLS, replay (protocol reference §11).

mod common;
mod rtclient;

use authwire_devserver::Mode;
use authwire_wire::frame::Vsn;
use common::{claims, Ctx, Fixture};
use rtclient::{connect, connect_raw, join_payload, now, payload, Minter, Ws};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ALICE: &str = "a1111111-1111-4111-8111-111111111111";
const BOB: &str = "b2222222-2222-4222-8222-222222222222";
const BANNED: &str = "c3333333-3333-4333-8333-333333333333";
const ALICE_SESSION: &str = "a5555555-5555-4555-8555-555555555555";
const GONE_SESSION: &str = "a6666666-6666-4666-8666-666666666666";

/// The server these tests share: raw mode, strict sessions on, with [`setup_sql`] applied.
static RAW: Fixture = Fixture::new("authwire-dev-rt-auth", |c| c.mode = Mode::Raw, Some(setup_sql));

/// The users, sessions and private-channel policies every test here may use (read-only).
fn setup_sql() -> String {
    format!(
        "insert into auth.users (id, aud, role, email) values
           ('{ALICE}', 'authenticated', 'authenticated', 'rt-alice@example.com'),
           ('{BOB}', 'authenticated', 'authenticated', 'rt-bob@example.com');
         insert into auth.users (id, aud, role, email, banned_until) values
           ('{BANNED}', 'authenticated', 'authenticated', 'rt-banned@example.com', now() + interval '1 day');
         insert into auth.sessions (id, user_id, aal) values ('{ALICE_SESSION}', '{ALICE}', 'aal1');
         -- Private channels: authenticated users read topics `secret-*`; only `secret-rw*` is
         -- writable; presence on `secret-pres` only for alice.
         create policy rt_read on realtime.messages for select to authenticated
           using (realtime.topic() like 'secret-%' and extension = 'broadcast');
         create policy rt_read_presence on realtime.messages for select to authenticated
           using (realtime.topic() = 'secret-pres' and extension = 'presence' and auth.uid() = '{ALICE}');
         create policy rt_write on realtime.messages for insert to authenticated
           with check (realtime.topic() like 'secret-rw%');"
    )
}

fn minter(c: &Ctx) -> Minter {
    Minter::new(&c.jwt_secret)
}

#[tokio::test]
async fn raw_handshake_bodies() {
    let c = RAW.shared().await;
    let a = c.server.addr();
    let m = minter(&c);
    let r = connect_raw(a, "/realtime/v1/websocket?vsn=2.0.0", &[], Vsn::V2).await.err().unwrap();
    assert_eq!((r.status, r.json()), (401, json!({ "error": "API key is missing" })));
    // Raw Realtime never accepts an opaque key.
    let r = connect(a, &c.publishable, Vsn::V2).await.err().unwrap();
    assert_eq!((r.status, r.json()), (401, json!({ "error": "The token provided is not a valid JWT" })));
    let r = connect(a, &m.anon(-1), Vsn::V1).await.err().unwrap();
    assert_eq!((r.status, r.json()), (401, json!({ "error": "Token has expired" })));
    let r = connect(a, &m.sign(json!({ "exp": now() + 60 })), Vsn::V1).await.err().unwrap();
    assert_eq!((r.status, r.json()), (401, json!({ "error": "Fields `role` and `exp` are required in JWT" })));
    // An unknown kid has no signer.
    let t = m.anon(60);
    let header = "eyJhbGciOiJFUzI1NiIsImtpZCI6Im5vcGUifQ"; // {"alg":"ES256","kid":"nope"}
    let forged = format!("{header}.{}", t.split_once('.').unwrap().1);
    let r = connect(a, &forged, Vsn::V1).await.err().unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json()["error"],
        "Failed to generate JWT signer for key ID (kid) \"nope\", check your JWT secret or JWKS configuration"
    );
    // The anon and service-role JWTs work; so does the project's ES256 user token path.
    for key in [&c.anon, &c.service] {
        let mut ws = connect(a, key, Vsn::V2).await.unwrap();
        ws.heartbeat().await;
    }
    let s = c.service("GET", "/_dev/stats").send().await.json();
    let rej = &s["realtime"]["rejectedHandshakes"];
    assert!(rej["missing_api_key"].as_u64().unwrap() >= 1 && rej["no_signer"].as_u64().unwrap() >= 1, "{rej}");
}

#[tokio::test]
async fn strict_sessions_at_handshake() {
    let c = RAW.shared().await;
    let a = c.server.addr();
    let m = minter(&c);
    let cases = [
        (m.user("d4444444-4444-4444-8444-444444444444", None, 60), "User from sub claim in JWT does not exist"),
        (m.user("not-a-uuid", None, 60), "User from sub claim in JWT does not exist"),
        (m.user(ALICE, Some(GONE_SESSION), 60), "Session from session_id claim in JWT does not exist"),
        (m.user(BOB, Some(ALICE_SESSION), 60), "Session from session_id claim in JWT does not exist"),
        (m.user(BANNED, None, 60), "User is banned"),
    ];
    for (token, msg) in cases {
        let r = connect(a, &token, Vsn::V2).await.err().unwrap();
        assert_eq!((r.status, r.json()), (403, json!({ "error": msg })));
    }
    let mut ws = connect(a, &m.user(ALICE, Some(ALICE_SESSION), 60), Vsn::V2).await.unwrap();
    ws.heartbeat().await;
    let mut ws = connect(a, &m.user(BOB, None, 60), Vsn::V2).await.unwrap();
    ws.heartbeat().await;
}

async fn join_error(ws: &mut Ws, topic: &str, token: &str) -> String {
    let (_, status, resp) = ws.join(topic, join_payload(json!({}), Some(token))).await;
    assert_eq!(status, "error", "{resp}");
    resp["reason"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn join_token_errors() {
    let c = RAW.shared().await;
    let m = minter(&c);
    for vsn in [Vsn::V1, Vsn::V2] {
        let mut ws = connect(c.server.addr(), &c.anon, vsn).await.unwrap();
        let r = join_error(&mut ws, "realtime:t", &m.anon(-3)).await;
        assert!(r.starts_with("InvalidJWTToken: Token has expired ") && r.ends_with(" seconds ago"), "{r}");
        let r = join_error(&mut ws, "realtime:t", &m.sign(json!({ "exp": now() + 60 }))).await;
        assert_eq!(r, "InvalidJWTToken: Fields `role` and `exp` are required in JWT");
        let r = join_error(&mut ws, "realtime:t", &m.sign(json!({ "role": "anon" }))).await;
        assert_eq!(r, "InvalidJWTToken: Fields `role` and `exp` are required in JWT");
        assert_eq!(
            join_error(&mut ws, "realtime:t", "potato").await,
            "MalformedJWT: The token provided is not a valid JWT"
        );
        let other = Minter::new("a-different-secret-a-different-secret-xx");
        assert_eq!(
            join_error(&mut ws, "realtime:t", &other.anon(60)).await,
            "JwtSignatureError: Failed to validate JWT signature"
        );
        // `user_token` wins over `access_token`.
        let mut p = join_payload(json!({}), Some(&c.anon));
        p["user_token"] = json!("potato");
        let (_, status, resp) = ws.join("realtime:t", p).await;
        assert_eq!(
            (status.as_str(), resp["reason"].as_str()),
            ("error", Some("MalformedJWT: The token provided is not a valid JWT"))
        );
        // Failed joins produce no phx_close; the socket keeps working.
        ws.join_ok("realtime:t", join_payload(json!({}), Some(&m.anon(60)))).await;
    }
    // A connect token that expired since connecting makes a join without access_token fail.
    let short = m.anon(2);
    let mut ws = connect(c.server.addr(), &short, Vsn::V2).await.unwrap();
    // Until the server holds it expired: a channel joined with the same token is shut down by
    // the server's own expiry check (or, on a slow machine, already refused).
    let (_, status, resp) = ws.join("realtime:late-canary", join_payload(json!({}), Some(&short))).await;
    if status == "ok" {
        let sys = ws.event_within("realtime:late-canary", "system", Duration::from_secs(10)).await;
        assert!(payload(&sys)["message"].as_str().unwrap().starts_with("Token has expired"), "{sys:?}");
    } else {
        assert!(resp["reason"].as_str().unwrap().starts_with("InvalidJWTToken: Token has expired"), "{resp}");
    }
    let (_, status, resp) = ws.join("realtime:late", join_payload(json!({}), None)).await;
    assert_eq!(status, "error");
    assert!(resp["reason"].as_str().unwrap().starts_with("InvalidJWTToken: Token has expired"), "{resp}");
}

#[tokio::test]
async fn join_strict_session_errors() {
    let c = RAW.shared().await;
    let m = minter(&c);
    let mut ws = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    let cases = [
        (
            m.user("e5555555-5555-4555-8555-555555555555", None, 60),
            "Unauthorized: User from sub claim in JWT does not exist",
        ),
        (m.user(ALICE, Some(GONE_SESSION), 60), "Unauthorized: Session from session_id claim in JWT does not exist"),
        (m.user(BANNED, None, 60), "Unauthorized: User is banned"),
    ];
    for (token, reason) in cases {
        assert_eq!(join_error(&mut ws, "realtime:strict", &token).await, reason);
    }
    ws.join_ok("realtime:strict", join_payload(json!({}), Some(&m.user(ALICE, Some(ALICE_SESSION), 60)))).await;
}

#[tokio::test]
async fn access_token_is_ignored_or_checked() {
    let c = RAW.shared().await;
    let m = minter(&c);
    let topic = "realtime:at-public";
    let mut ws = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    let jr = ws.join_ok(topic, join_payload(json!({}), Some(&m.anon(60)))).await;
    // Public channel: a new valid token, an sb_ key, null and the same token: no message at all.
    for v in [json!(m.user(BOB, None, 120)), json!("sb_publishable_xyz"), Value::Null] {
        ws.push(Some(&jr), topic, "access_token", json!({ "access_token": v })).await;
    }
    ws.push(Some(&jr), topic, "access_token", json!({})).await;
    // Handling them sent nothing: the reply to a later heartbeat is the next frame.
    ws.heartbeat_barrier().await;
}

async fn closed_with(ws: &mut Ws, topic: &str, message: &str, jr: &str) {
    let sys = ws.event(topic, "system").await;
    let sub = topic.strip_prefix("realtime:").unwrap();
    assert_eq!(payload(&sys), json!({ "extension": "system", "status": "error", "message": message, "channel": sub }));
    assert_eq!(sys.join_ref.as_deref(), Some(jr));
    let close = ws.event(topic, "phx_close").await;
    assert_eq!(close.join_ref.as_deref(), Some(jr));
}

#[tokio::test]
async fn access_token_refusals_close_the_channel() {
    let c = RAW.shared().await;
    let m = minter(&c);
    let cases: Vec<(Value, String)> = vec![
        (json!(m.sign(json!({ "exp": now() + 60 }))), "Fields `role` and `exp` are required in JWT".into()),
        (json!(""), "The token provided is not a valid JWT".into()),
        (json!("potato"), "The token provided is not a valid JWT".into()),
        (
            json!(m.user("f6666666-6666-4666-8666-666666666666", None, 60)),
            "User from sub claim in JWT does not exist".into(),
        ),
        (json!(m.user(BANNED, None, 60)), "User is banned".into()),
    ];
    for vsn in [Vsn::V1, Vsn::V2] {
        let mut ws = connect(c.server.addr(), &c.anon, vsn).await.unwrap();
        for (i, (token, msg)) in cases.iter().enumerate() {
            let topic = format!("realtime:at-bad-{i}");
            let jr = ws.join_ok(&topic, join_payload(json!({}), None)).await;
            ws.push(Some(&jr), &topic, "access_token", json!({ "access_token": token })).await;
            if vsn == Vsn::V2 {
                closed_with(&mut ws, &topic, msg, &jr).await;
            } else {
                let sys = ws.event(&topic, "system").await;
                assert_eq!(payload(&sys)["message"], msg.as_str());
                ws.event(&topic, "phx_close").await;
            }
        }
        // Expired.
        let topic = "realtime:at-expired";
        let jr = ws.join_ok(topic, join_payload(json!({}), None)).await;
        ws.push(Some(&jr), topic, "access_token", json!({ "access_token": m.anon(-4) })).await;
        let sys = payload(&ws.event(topic, "system").await);
        let msg = sys["message"].as_str().unwrap();
        assert!(msg.starts_with("Token has expired ") && msg.ends_with(" seconds ago"), "{msg}");
        ws.event(topic, "phx_close").await;
        // The socket remains connected.
        ws.heartbeat().await;
    }
}

#[tokio::test]
async fn token_expiry_closes_the_channel() {
    let c = RAW.shared().await;
    let m = minter(&c);
    let topic = "realtime:expiring";
    let mut ws = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    let started = Instant::now();
    let jr = ws.join_ok(topic, join_payload(json!({}), Some(&m.anon(2)))).await;
    let sys = ws.event_within(topic, "system", Duration::from_secs(4)).await;
    let p = payload(&sys);
    assert_eq!(p["status"], "error");
    assert!(p["message"].as_str().unwrap().starts_with("Token has expired "), "{p}");
    assert_eq!(p["channel"], "expiring");
    assert_eq!(sys.join_ref.as_deref(), Some(jr.as_str()));
    ws.event(topic, "phx_close").await;
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(1000) && took <= Duration::from_millis(3500), "{took:?}");
}

#[tokio::test]
async fn sb_access_token_keeps_the_expiry() {
    let c = RAW.shared().await;
    let m = minter(&c);
    let topic = "realtime:sb-expiry";
    let mut ws = connect(c.server.addr(), &c.anon, Vsn::V1).await.unwrap();
    let jr = ws.join_ok(topic, join_payload(json!({}), Some(&m.anon(2)))).await;
    ws.push(Some(&jr), topic, "access_token", json!({ "access_token": "sb_publishable_abc" })).await;
    let sys = ws.event_within(topic, "system", Duration::from_secs(4)).await;
    assert!(payload(&sys)["message"].as_str().unwrap().starts_with("Token has expired"));
    ws.event(topic, "phx_close").await;
    // A fresh token pushed in time keeps a channel alive past the first token's exp.
    let topic = "realtime:refreshed";
    let first = m.anon(2);
    let jr = ws.join_ok(topic, join_payload(json!({}), Some(&first))).await;
    ws.push(Some(&jr), topic, "access_token", json!({ "access_token": m.anon(60) })).await;
    // Past the first token's exp: a canary whose token expires one second after it is shut
    // down by the server's expiry check. Had `refreshed` kept the first token, its check
    // (due earlier, on this socket) would have closed it first; the heartbeat covers a close
    // sent in the same pass of checks.
    let exp = claims(&first)["exp"].as_i64().unwrap();
    let canary = m.sign(json!({ "role": "anon", "exp": exp + 1, "iat": now() }));
    let canary_topic = "realtime:refreshed-canary";
    ws.join_ok(canary_topic, join_payload(json!({}), Some(&canary))).await;
    let sys = ws.expect_next("the canary's expiry", Duration::from_secs(10), |f| f.topic == canary_topic).await;
    assert_eq!(sys.event, "system");
    assert!(payload(&sys)["message"].as_str().unwrap().starts_with("Token has expired"), "{sys:?}");
    ws.next_event(canary_topic, "phx_close").await;
    ws.heartbeat_barrier().await;
}

fn private(extra: Value) -> Value {
    let mut cfg = json!({ "private": true });
    if let (Value::Object(a), Value::Object(b)) = (&mut cfg, extra) {
        a.extend(b);
    }
    cfg
}

#[tokio::test]
async fn private_channel_read_policy() {
    let c = RAW.shared().await;
    let m = minter(&c);
    let mut ws = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    // anon has no policy.
    let (_, status, resp) = ws.join("realtime:secret-1", join_payload(private(json!({})), None)).await;
    assert_eq!(status, "error");
    assert_eq!(resp["reason"], "Unauthorized: You do not have permissions to read from this Channel topic: secret-1");
    // An authenticated user reads secret-* only.
    let alice = m.user(ALICE, Some(ALICE_SESSION), 60);
    ws.join_ok("realtime:secret-1", join_payload(private(json!({})), Some(&alice))).await;
    let (_, status, resp) = ws.join("realtime:public-ish", join_payload(private(json!({})), Some(&alice))).await;
    assert_eq!(
        (status.as_str(), resp["reason"].as_str()),
        ("error", Some("Unauthorized: You do not have permissions to read from this Channel topic: public-ish"))
    );
    // The service role bypasses RLS.
    ws.join_ok("realtime:anything", join_payload(private(json!({})), Some(&c.service))).await;
    // Public and private topics of the same name are different topics.
    let mut pubws = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    let jp = pubws.join_ok("realtime:secret-1", join_payload(json!({ "broadcast": { "self": true } }), None)).await;
    pubws
        .push(Some(&jp), "realtime:secret-1", "broadcast", json!({ "type": "broadcast", "event": "e", "payload": {} }))
        .await;
    pubws.event("realtime:secret-1", "broadcast").await;
    // Not to the private channel: a private message fanned out after it is the next thing
    // the private channel sees.
    service_broadcast(&c, "secret-1", "after").await;
    assert_eq!(payload(&ws.next_event("realtime:secret-1", "broadcast").await)["event"], "after");
}

/// A private message on `topic` sent over HTTP by the service role (which may write anywhere).
async fn service_broadcast(c: &Ctx, topic: &str, event: &str) {
    let r = c
        .req("POST", "/realtime/v1/api/broadcast")
        .header("apikey", &c.service)
        .bearer(&c.service)
        .json(json!({ "messages": [{ "topic": topic, "event": event, "payload": {}, "private": true }] }))
        .send()
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
}

#[tokio::test]
async fn private_channel_write_policy() {
    let c = RAW.shared().await;
    let m = minter(&c);
    let alice = m.user(ALICE, Some(ALICE_SESSION), 60);
    let mut a = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    let mut b = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    // No write policy on secret-ro: dropped silently, even with ack.
    let cfg = private(json!({ "broadcast": { "ack": true } }));
    let ja = a.join_ok("realtime:secret-ro", join_payload(cfg.clone(), Some(&alice))).await;
    b.join_ok("realtime:secret-ro", join_payload(private(json!({})), Some(&alice))).await;
    a.push(Some(&ja), "realtime:secret-ro", "broadcast", json!({ "type": "broadcast", "event": "e", "payload": {} }))
        .await;
    // No reply to `a` (a later heartbeat's reply is its next frame) and nothing to `b` (a
    // message fanned out after it is b's next frame).
    a.heartbeat_barrier().await;
    service_broadcast(&c, "secret-ro", "after").await;
    assert_eq!(payload(&b.next_event("realtime:secret-ro", "broadcast").await)["event"], "after");
    // Presence track without write: error reply.
    let r = a
        .push(
            Some(&ja),
            "realtime:secret-ro",
            "presence",
            json!({ "type": "presence", "event": "track", "payload": {} }),
        )
        .await;
    let (status, resp, _) = a.reply(&r).await;
    assert_eq!((status.as_str(), resp), ("error", json!({})));
    // secret-rw is writable.
    let ja = a.join_ok("realtime:secret-rw", join_payload(cfg, Some(&alice))).await;
    b.join_ok("realtime:secret-rw", join_payload(private(json!({})), Some(&alice))).await;
    let r = a
        .push(
            Some(&ja),
            "realtime:secret-rw",
            "broadcast",
            json!({ "type": "broadcast", "event": "e", "payload": { "k": 1 } }),
        )
        .await;
    assert_eq!(a.reply(&r).await.0, "ok");
    assert_eq!(payload(&b.event("realtime:secret-rw", "broadcast").await)["payload"], json!({ "k": 1 }));
}

#[tokio::test]
async fn private_channel_access_token_rechecks_read() {
    let c = RAW.shared().await;
    let m = minter(&c);
    let alice = m.user(ALICE, Some(ALICE_SESSION), 60);
    let mut ws = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    let topic = "realtime:secret-2";
    let jr = ws.join_ok(topic, join_payload(private(json!({})), Some(&alice))).await;
    // Another valid user keeps reading: nothing is sent.
    ws.push(Some(&jr), topic, "access_token", json!({ "access_token": m.user(BOB, None, 60) })).await;
    ws.heartbeat_barrier().await;
    // anon cannot read.
    ws.push(Some(&jr), topic, "access_token", json!({ "access_token": m.anon(60) })).await;
    closed_with(&mut ws, topic, "You do not have permissions to read from this Channel topic: secret-2", &jr).await;
    // Presence read revoked (bob has broadcast read but not presence read on secret-pres).
    let topic = "realtime:secret-pres";
    let jr = ws.join_ok(topic, join_payload(private(json!({ "presence": { "enabled": true } })), Some(&alice))).await;
    ws.event(topic, "presence_state").await;
    ws.push(Some(&jr), topic, "access_token", json!({ "access_token": m.user(BOB, None, 60) })).await;
    closed_with(&mut ws, topic, "You no longer have permission to read from this Channel topic: secret-pres", &jr)
        .await;
}

#[tokio::test]
async fn replay_private_messages() {
    let c = RAW.shared().await;
    let m = minter(&c);
    let alice = m.user(ALICE, Some(ALICE_SESSION), 60);
    let mut observer = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    observer.join_ok("realtime:secret-replay", join_payload(json!({}), None)).await;
    c.db.batch_execute(
        "insert into realtime.messages (topic, extension, event, private, payload, inserted_at) values
           ('secret-replay', 'broadcast', 'old', true, '{\"n\":0}', now() - interval '1 hour'),
           ('secret-replay', 'broadcast', 'e1', true, '{\"n\":1}', now() - interval '2 seconds'),
           ('secret-replay', 'broadcast', 'e2', true, '{\"n\":2}', now() - interval '1 second'),
           ('secret-replay', 'presence', 'p', true, '{}', now()),
           ('secret-replay', 'broadcast', 'pub', false, '{}', now());",
    )
    .await
    .unwrap();
    // Let the live copies of those inserts pass before joining: the change feed delivers them
    // in order, so once the last one ('pub', public) reached a public subscriber, the private
    // ones before it have been fanned out (to nobody).
    observer.event("realtime:secret-replay", "broadcast").await;
    let since = (now() - 60) * 1000;
    let mut ws = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    let cfg = private(json!({ "broadcast": { "replay": { "since": since, "limit": 10 } } }));
    ws.join_ok("realtime:secret-replay", join_payload(cfg, Some(&alice))).await;
    let e1 = payload(&ws.event("realtime:secret-replay", "broadcast").await);
    let e2 = payload(&ws.event("realtime:secret-replay", "broadcast").await);
    assert_eq!((e1["event"].as_str(), e1["payload"].clone()), (Some("e1"), json!({ "n": 1 })));
    assert_eq!(e1["meta"]["replayed"], true);
    assert_eq!(e1["meta"]["id"].as_str().unwrap().len(), 36);
    assert_eq!(e2["event"], "e2");
    // Nothing else was replayed (replays are sent while the join is handled).
    ws.heartbeat_barrier().await;
    // Limit 1: the newest one.
    let cfg = private(json!({ "broadcast": { "replay": { "since": 0, "limit": 1 } } }));
    ws.join_ok("realtime:secret-replay", join_payload(cfg, Some(&alice))).await;
    ws.event("realtime:secret-replay", "phx_close").await;
    assert_eq!(payload(&ws.event("realtime:secret-replay", "broadcast").await)["event"], "e2");
    // Public channels cannot replay; bad params are refused.
    let (_, _, resp) = ws
        .join("realtime:pub-replay", join_payload(json!({ "broadcast": { "replay": { "since": 0 } } }), Some(&alice)))
        .await;
    assert_eq!(resp["reason"], "UnableToReplayMessages: Replay is not allowed for public channels");
    let cfg = private(json!({ "broadcast": { "replay": { "since": "yesterday" } } }));
    let (_, _, resp) = ws.join("realtime:secret-x", join_payload(cfg, Some(&alice))).await;
    assert_eq!(resp["reason"], "UnableToReplayMessages: Replay params are not valid");
}

#[tokio::test]
async fn faults() {
    // Exclusive: faults apply server-wide, and `expireTokens`/`dropSockets` count the sockets
    // they reach.
    let c = RAW.exclusive().await;
    let m = minter(&c);
    let post = |body: Value| {
        let c = c.ctx();
        async move {
            let r = c.service("POST", "/_dev/faults").json(body).send().await;
            assert_eq!(r.status, 200, "{}", r.text);
            r.json()
        }
    };
    // refuseJoins (once, on one topic).
    post(json!({ "realtime": { "refuseJoins": { "reason": "Unauthorized: nope", "count": 1, "topic": "f1" } } })).await;
    let mut ws = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    let (_, _, resp) = ws.join("realtime:f1", join_payload(json!({}), None)).await;
    assert_eq!(resp["reason"], "Unauthorized: nope");
    let jr = ws.join_ok("realtime:f1", join_payload(json!({}), None)).await;
    // expireTokens for bob only touches bob's channels.
    let bob_topic = "realtime:f-bob";
    let jb = ws.join_ok(bob_topic, join_payload(json!({}), Some(&m.user(BOB, None, 600)))).await;
    let r = post(json!({ "realtime": { "expireTokens": { "userId": BOB } } })).await;
    assert_eq!(r["applied"]["realtime"]["expiredSockets"], 1);
    closed_with(&mut ws, bob_topic, "Token has expired 0 seconds ago", &jb).await;
    // sendFrames: raw text reaches the socket verbatim.
    let frame = r#"[null,null,"realtime:f1","system",{"custom":true}]"#;
    post(json!({ "realtime": { "sendFrames": { "frames": [frame] } } })).await;
    assert_eq!(payload(&ws.event("realtime:f1", "system").await), json!({ "custom": true }));
    // sendFrames.repeat: the benchmarks' flood, every copy delivered in order; 0 is refused.
    let flood = |n: u32| {
        format!(r#"[null,null,"realtime:f1","broadcast",{{"type":"broadcast","event":"m","payload":{{"n":{n}}}}}]"#)
    };
    let r = post(json!({ "realtime": { "sendFrames": { "frames": [flood(7)], "repeat": 50 } } })).await;
    assert_eq!(r["applied"]["realtime"]["framesSent"], 50);
    for _ in 0..50 {
        assert_eq!(payload(&ws.event("realtime:f1", "broadcast").await)["payload"], json!({ "n": 7 }));
    }
    ws.heartbeat_barrier().await;
    let bad = c
        .service("POST", "/_dev/faults")
        .json(json!({ "realtime": { "sendFrames": { "frames": [flood(0)], "repeat": 0 } } }))
        .send()
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    // dropReplies / delayReplies on heartbeats.
    post(json!({ "realtime": { "dropReplies": { "count": 1, "event": "heartbeat" } } })).await;
    let r = ws.push(None, "phoenix", "heartbeat", json!({})).await;
    // The next frame is the reply to a later push (not a heartbeat, so not dropped): the
    // heartbeat, handled first, got no reply — and the fault is used up before the next one.
    let barrier = ws.push(None, "realtime:barrier", "phx_leave", json!({})).await;
    assert_eq!(ws.next_reply(&barrier).await.0, "ok");
    let _ = r;
    post(json!({ "realtime": { "delayReplies": { "ms": 300, "count": 1, "event": "heartbeat" } } })).await;
    let t = Instant::now();
    ws.heartbeat_barrier().await;
    assert!(t.elapsed() >= Duration::from_millis(280));
    // dropSockets with a code, then without (abrupt).
    let r = post(json!({ "realtime": { "dropSockets": { "code": 1012, "reason": "restart" } } })).await;
    assert!(r["applied"]["realtime"]["droppedSockets"].as_u64().unwrap() >= 1);
    assert_eq!(ws.closed_within(Duration::from_secs(3)).await, Some(1012));
    let _ = jr;
    let mut ws = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    ws.heartbeat().await;
    post(json!({ "realtime": { "dropSockets": {} } })).await;
    assert_eq!(ws.closed_within(Duration::from_secs(3)).await, None);
    let r = c.service("DELETE", "/_dev/faults").send().await.json();
    assert_eq!(r["realtime"]["refuseJoins"], Value::Null);
    // auth.expireTokens: tokens of that user issued so far count as expired for Realtime too.
    let bob_token = m.user(BOB, None, 600);
    post(json!({ "auth": { "expireTokens": { "userId": BOB } } })).await;
    let mut ws = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    let reason = join_error(&mut ws, "realtime:f-auth", &bob_token).await;
    assert_eq!(reason, "InvalidJWTToken: Token has expired 0 seconds ago");
    let r = connect(c.server.addr(), &bob_token, Vsn::V2).await.err().unwrap();
    assert_eq!((r.status, r.json()), (401, json!({ "error": "Token has expired" })));
    c.service("DELETE", "/_dev/faults").send().await;
    ws.join_ok("realtime:f-auth", join_payload(json!({}), Some(&bob_token))).await;
    // Faults need the service role.
    let r = c.anon("POST", "/_dev/faults").json(json!({ "realtime": {} })).send().await;
    assert_eq!(r.status, 403);
    let r = c.service("POST", "/_dev/faults").json(json!({ "realtime": { "nope": 1 } })).send().await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn http_broadcast_private() {
    let c = RAW.shared().await;
    let m = minter(&c);
    let alice = m.user(ALICE, Some(ALICE_SESSION), 60);
    let mut ws = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    ws.join_ok("realtime:secret-rw-http", join_payload(private(json!({})), Some(&alice))).await;
    ws.join_ok("realtime:secret-ro-http", join_payload(private(json!({})), Some(&alice))).await;
    let body = json!({ "messages": [
        { "topic": "secret-ro-http", "event": "denied", "payload": {}, "private": true },
        { "topic": "secret-rw-http", "event": "allowed", "payload": { "ok": true }, "private": true },
    ]});
    let r = c
        .req("POST", "/realtime/v1/api/broadcast")
        .header("apikey", &c.anon)
        .bearer(&alice)
        .json(body.clone())
        .send()
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    // The denied one came first in the batch: the allowed one is the next frame.
    let f = ws.next_event("realtime:secret-rw-http", "broadcast").await;
    assert_eq!(payload(&f)["event"], "allowed");
    // anon may not write anywhere: still 202, nothing delivered.
    let r = c.req("POST", "/realtime/v1/api/broadcast").bearer(&c.anon).json(body).send().await;
    assert_eq!(r.status, 202);
    // The single endpoint with ?private=true (its message is the next frame: nothing came of
    // anon's batch).
    let r = c
        .req("POST", "/realtime/v1/api/broadcast/secret-rw-http/events/one?private=true")
        .bearer(&alice)
        .json(json!({ "x": 1 }))
        .send()
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(payload(&ws.next_event("realtime:secret-rw-http", "broadcast").await)["payload"], json!({ "x": 1 }));
}
