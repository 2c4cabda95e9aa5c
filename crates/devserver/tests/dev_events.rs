//! `/_dev/events`, the server's record of what it received and sent, against a raw-mode
//! devserver with strict sessions: handshakes accepted and refused, frames in and out, closes,
//! `/auth/v1` requests with token and refresh-token fingerprints — and never a whole token.

mod common;
mod rtclient;

use authwire_devserver::Mode;
use authwire_wire::frame::Vsn;
use common::{claims, email, Ctx, Fixture};
use rtclient::{connect, connect_raw, join_payload, Minter, Ws};
use serde_json::{json, Value};
use std::time::Duration;

/// The server these tests share: raw mode (the real server's handshake refusals).
static EVENTS: Fixture = Fixture::new("authwire-dev-events", |c| c.mode = Mode::Raw, None);

/// What the record keeps of a token: the first 12 hex characters of its SHA-256.
fn fp(token: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    d.as_ref()[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// A unique topic name for a test.
fn unique_topic(tag: &str) -> String {
    format!("realtime:{}", email(tag).split('@').next().unwrap())
}

fn events(answer: &Value) -> Vec<Value> {
    answer["events"].as_array().cloned().unwrap_or_default()
}

/// The `conn` of the socket that sent the first frame on `topic`.
async fn conn_on(c: &Ctx, topic: &str) -> u64 {
    let found = events(&c.events(&format!("topic={topic}&kind=frame_in")).await);
    found.first().and_then(|e| e["conn"].as_u64()).unwrap_or_else(|| panic!("no frame_in on {topic}"))
}

/// A signed-up user: (id, access token, refresh token).
async fn user(c: &Ctx, tag: &str) -> (String, String, String) {
    let t = c.signup(&email(tag), "hunter22").await;
    let s = |k: &str| t[k].as_str().unwrap().to_owned();
    (t["user"]["id"].as_str().unwrap().to_owned(), s("access_token"), s("refresh_token"))
}

#[tokio::test]
async fn a_join_with_a_user_token_and_its_reply() {
    let c = EVENTS.shared().await;
    let (id, at, _) = user(&c, "ev-join").await;
    let topic = unique_topic("ev-join");
    let mut ws = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    let jr = ws.join_ok(&topic, join_payload(json!({}), Some(&at))).await;
    let conn = conn_on(&c, &topic).await;
    let mine = events(&c.events(&format!("conn={conn}")).await);

    let open = mine.iter().find(|e| e["kind"] == "ws_open").expect("ws_open");
    assert_eq!(
        (open["path"].as_str(), open["vsn"].as_str(), open["mode"].as_str(), open["apikeyRole"].as_str()),
        (Some("/realtime/v1/websocket"), Some("2.0.0"), Some("raw"), Some("anon"))
    );
    assert_eq!(
        (&open["user"], &open["token"]["role"], &open["token"]["fp"]),
        (&Value::Null, &json!("anon"), &json!(fp(&c.anon)))
    );

    let join = mine.iter().find(|e| e["kind"] == "frame_in" && e["event"] == "phx_join").expect("frame_in phx_join");
    assert_eq!(
        (join["topic"].as_str(), join["ref"].as_str(), join["joinRef"].as_str()),
        (Some(topic.as_str()), Some(jr.as_str()), Some(jr.as_str()))
    );
    let token = &join["token"];
    assert_eq!((token["sub"].as_str(), token["fp"].as_str()), (Some(id.as_str()), Some(fp(&at).as_str())));
    let cl = claims(&at);
    assert_eq!(
        (&token["role"], &token["exp"], &token["iat"], &token["sessionId"]),
        (&cl["role"], &cl["exp"], &cl["iat"], &cl["session_id"])
    );
    // Before the join the socket acts for its connect token (anon: no user).
    assert_eq!(join["user"], Value::Null);

    let reply =
        mine.iter().find(|e| e["kind"] == "frame_out" && e["event"] == "phx_reply").expect("frame_out phx_reply");
    assert_eq!(
        (reply["status"].as_str(), reply["ref"].as_str(), reply["topic"].as_str()),
        (Some("ok"), Some(jr.as_str()), Some(topic.as_str()))
    );
    // The joined channel acts for the join's user.
    assert_eq!(reply["user"].as_str(), Some(id.as_str()));
    assert!(join["seq"].as_u64() < reply["seq"].as_u64(), "{join} before {reply}");
    // The same events by user.
    let by_user = events(&c.events(&format!("user={id}&kind=frame_out")).await);
    assert!(by_user.iter().any(|e| e["seq"] == reply["seq"]), "{by_user:?}");
}

#[tokio::test]
async fn broadcasts_out_carry_their_event_and_message_id() {
    let c = EVENTS.shared().await;
    let topic = unique_topic("ev-bcast");
    let name = topic.strip_prefix("realtime:").unwrap().to_owned();
    let mut a = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    let mut b = connect(c.server.addr(), &c.anon, Vsn::V1).await.unwrap();
    let ja = a.join_ok(&topic, join_payload(json!({}), None)).await;
    b.join_ok(&topic, join_payload(json!({}), None)).await;
    a.push(Some(&ja), &topic, "broadcast", json!({ "type": "broadcast", "event": "cursor", "payload": { "x": 1 } }))
        .await;
    b.event(&topic, "broadcast").await;
    let r = c
        .anon("POST", "/realtime/v1/api/broadcast")
        .json(json!({ "messages": [{ "topic": name, "event": "with-id", "payload": {}, "id": "0b9c54f2-7f4b-4c55-9b45-6c7a0d0e7d11" }] }))
        .send()
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    b.event(&topic, "broadcast").await;
    a.event(&topic, "broadcast").await;

    let out = events(&c.events(&format!("topic={name}&kind=frame_out")).await);
    // The first frame on the topic was a's join.
    let a_conn = conn_on(&c, &topic).await;
    let cursor: Vec<&Value> = out.iter().filter(|e| e["userEvent"] == "cursor").collect();
    // To b only (self is off), as a broadcast frame.
    assert_eq!(cursor.len(), 1, "{out:?}");
    assert_eq!((cursor[0]["event"].as_str(), &cursor[0]["msgId"]), (Some("broadcast"), &Value::Null));
    assert_ne!(cursor[0]["conn"].as_u64(), Some(a_conn));
    let with_id: Vec<&Value> = out.iter().filter(|e| e["userEvent"] == "with-id").collect();
    assert_eq!(with_id.len(), 2, "to a (V2, kind 4) and b (V1, JSON): {out:?}");
    assert!(with_id.iter().all(|e| e["msgId"] == "0b9c54f2-7f4b-4c55-9b45-6c7a0d0e7d11"), "{with_id:?}");
}

#[tokio::test]
async fn refused_handshakes_in_raw_mode() {
    let c = EVENTS.shared().await;
    let m = Minter::new(&c.jwt_secret);
    // An expired JWT: 401 and the real server's error; the token kept as a fingerprint.
    let sub = format!("d{}", &uuid_like()[1..]);
    let expired = m.user(&sub, None, -5);
    let r = connect(c.server.addr(), &expired, Vsn::V2).await.err().unwrap();
    assert_eq!(r.status, 401);
    let e = c.wait_event("the refused handshake", &format!("kind=ws_refused&user={sub}"), |_| true).await;
    assert_eq!(
        (e["status"].as_u64(), e["error"].as_str(), e["path"].as_str()),
        (Some(401), Some("Token has expired"), Some("/realtime/v1/websocket"))
    );
    assert_eq!(
        (e["token"]["sub"].as_str(), e["token"]["fp"].as_str()),
        (Some(sub.as_str()), Some(fp(&expired).as_str()))
    );
    // A valid JWT for a user that does not exist: strict sessions refuse it with 403.
    let ghost = uuid_like();
    let r = connect(c.server.addr(), &m.user(&ghost, None, 60), Vsn::V1).await.err().unwrap();
    assert_eq!(r.status, 403);
    let e = c.wait_event("the strict-session refusal", &format!("kind=ws_refused&user={ghost}"), |_| true).await;
    assert_eq!(
        (e["status"].as_u64(), e["error"].as_str()),
        (Some(403), Some("User from sub claim in JWT does not exist"))
    );
    // No key at all, on the bare Realtime path: no token, no user.
    let before = c.events("kind=ws_refused").await["next"].as_u64().unwrap();
    let r = connect_raw(c.server.addr(), "/socket/websocket?vsn=2.0.0", &[], Vsn::V2).await.err().unwrap();
    assert_eq!(r.status, 401);
    let e = c
        .wait_event("the missing-key refusal", &format!("kind=ws_refused&after={before}"), |e| {
            e["path"] == "/socket/websocket" && e["error"] == "API key is missing"
        })
        .await;
    assert_eq!((&e["token"], &e["user"], e["status"].as_u64()), (&Value::Null, &Value::Null, Some(401)));
}

#[tokio::test]
async fn refresh_grants_record_the_refresh_token_fingerprint() {
    let c = EVENTS.shared().await;
    let (id, at, rt) = user(&c, "ev-refresh").await;
    for _ in 0..2 {
        assert_eq!(c.refresh(&rt).await.status, 200);
    }
    let grants: Vec<Value> =
        events(&c.events("kind=http").await).into_iter().filter(|e| e["refreshToken"] == fp(&rt).as_str()).collect();
    assert_eq!(grants.len(), 2, "the refresh token was presented twice: {grants:?}");
    for g in &grants {
        assert_eq!(
            (g["method"].as_str(), g["path"].as_str(), g["status"].as_u64()),
            (Some("POST"), Some("/auth/v1/token?grant_type=refresh_token"), Some(200))
        );
        // The bearer is the anon key.
        assert_eq!((&g["user"], &g["token"]["role"]), (&Value::Null, &json!("anon")));
    }
    // A user request: the bearer's user and fingerprint; the query string is not kept.
    let r = c.user("POST", "/auth/v1/logout?scope=others", &at).send().await;
    assert_eq!(r.status, 204);
    let e = c.wait_event("the logout", &format!("kind=http&user={id}"), |e| e["path"] == "/auth/v1/logout").await;
    assert_eq!(
        (e["status"].as_u64(), e["token"]["fp"].as_str(), &e["refreshToken"]),
        (Some(204), Some(fp(&at).as_str()), &Value::Null)
    );
}

#[tokio::test]
async fn closes_say_who_closed() {
    let c = EVENTS.shared().await;
    // The client closes with a code.
    let topic = unique_topic("ev-close");
    let mut ws = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    ws.join_ok(&topic, join_payload(json!({}), None)).await;
    let conn = conn_on(&c, &topic).await;
    ws.close_with(4000, "bye").await;
    let e = c.wait_event("the client's close", &format!("kind=ws_close&conn={conn}"), |_| true).await;
    assert_eq!((e["by"].as_str(), e["code"].as_u64(), e["reason"].as_str()), (Some("client"), Some(4000), Some("bye")));
    // The server closes an oversized frame with 1009 (recorded before it closes).
    let topic = unique_topic("ev-big");
    let mut ws: Ws = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    ws.join_ok(&topic, join_payload(json!({}), None)).await;
    let conn = conn_on(&c, &topic).await;
    let big = format!(r#"[null,"1","phoenix","heartbeat",{{"x":"{}"}}]"#, "y".repeat(5_000_100));
    let sent = ws.try_send_text(&big).await;
    let code = ws.closed_within(Duration::from_secs(5)).await;
    assert!(code == Some(1009) || (!sent && code.is_none()), "sent {sent}, close {code:?}");
    let e = c.wait_event("the server's close", &format!("kind=ws_close&conn={conn}"), |_| true).await;
    assert_eq!((e["by"].as_str(), e["code"].as_u64()), (Some("server"), Some(1009)));
    // Exactly one close per socket.
    assert_eq!(events(&c.events(&format!("kind=ws_close&conn={conn}")).await).len(), 1);
}

#[tokio::test]
async fn paging_filters_and_bad_queries() {
    let c = EVENTS.shared().await;
    let topic = unique_topic("ev-page");
    let mut ws = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    ws.join_ok(&topic, join_payload(json!({}), None)).await;
    let first = c.events(&format!("topic={topic}")).await;
    let seqs: Vec<u64> = events(&first).iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.len() >= 2 && seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert!(first["next"].as_u64().unwrap() >= *seqs.last().unwrap());
    assert_eq!(first["dropped"], 0);
    // `next` as `after`: only what came later.
    ws.heartbeat().await;
    let later = c.events(&format!("after={}&conn={}", first["next"], conn_on(&c, &topic).await)).await;
    let later = events(&later);
    let kinds: Vec<&str> = later.iter().map(|e| e["event"].as_str().unwrap_or_default()).collect();
    assert_eq!(kinds, ["heartbeat", "phx_reply"]);
    assert!(later.iter().all(|e| e["atMs"].is_u64()));
    // The sub-topic name works as the topic filter too.
    let by_name = c.events(&format!("topic={}", topic.strip_prefix("realtime:").unwrap())).await;
    assert_eq!(events(&by_name).len(), events(&first).len());
    // Refusals: bad parameters, and callers without the service role.
    for q in ["kind=nope", "after=x", "conn=-1", "bogus=1"] {
        assert_eq!(c.service("GET", &format!("/_dev/events?{q}")).send().await.status, 400, "{q}");
    }
    assert_eq!(c.anon("GET", "/_dev/events").send().await.status, 403);
    assert_eq!(c.req("GET", "/_dev/events").send().await.status, 401);
}

#[tokio::test]
async fn delete_clears_the_record_and_seq_keeps_counting() {
    // Exclusive: the record is the server's, every test reads it.
    let c = EVENTS.exclusive().await;
    assert_eq!(c.service("GET", "/auth/v1/settings").send().await.status, 200);
    let next = c.events("kind=http").await["next"].as_u64().unwrap();
    let r = c.service("DELETE", "/_dev/events").send().await;
    assert_eq!(r.status, 204);
    assert_eq!(events(&c.events("").await).len(), 0);
    assert_eq!(c.service("GET", "/auth/v1/settings").send().await.status, 200);
    let after = events(&c.events("kind=http").await);
    assert_eq!(after.len(), 1, "{after:?}");
    assert!(after[0]["seq"].as_u64().unwrap() > next);
}

#[tokio::test]
async fn no_event_holds_a_token() {
    let c = EVENTS.shared().await;
    let m = Minter::new(&c.jwt_secret);
    let (_, at, rt) = user(&c, "ev-secret").await;
    assert_eq!(c.refresh(&rt).await.status, 200);
    assert_eq!(c.user("GET", "/auth/v1/user", &at).send().await.status, 200);
    // A socket on the user's token, a join and an access_token push carrying it, a refused one.
    let topic = unique_topic("ev-secret");
    let mut ws = connect(c.server.addr(), &at, Vsn::V2).await.unwrap();
    let jr = ws.join_ok(&topic, join_payload(json!({}), Some(&at))).await;
    ws.push(Some(&jr), &topic, "access_token", json!({ "access_token": at })).await;
    ws.heartbeat().await;
    let refused = m.anon(-5);
    assert!(connect(c.server.addr(), &refused, Vsn::V2).await.is_err());
    let text = c.service("GET", "/_dev/events").send().await.text;
    assert!(text.contains(&fp(&at)) && text.contains(&fp(&rt)), "the fingerprints are there");
    for secret in [&at, &rt, &refused, &c.anon, &c.service, &c.secret, &c.publishable] {
        assert!(!text.contains(secret.as_str()), "a token is in the record");
        if let Some(sig) = secret.rsplit('.').next().filter(|s| s.len() > 20) {
            assert!(!text.contains(sig), "a token's signature is in the record");
        }
    }
}

/// A fresh UUID-shaped string (unique per call).
fn uuid_like() -> String {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let h = format!("{:032x}", n ^ (u128::from(std::process::id()) << 64));
    format!("{}-{}-4{}-8{}-{}", &h[..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
}
